//! The household register: profile, members, reviews, visits and support, each read and
//! write checked against the user's role and scope.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::auth::current::not_found;
use crate::error::{AppError, AppResult};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::store::{AssignmentFilter, HouseholdFilter};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use shared::area::AreaKind;
use shared::assessment::{Assessment, AssessmentInput};
use shared::assignment::Assignment;
use shared::household::{Household, HouseholdInput, HouseholdStatus, Member, MemberInput};
use shared::permissions::Action;
use shared::rules::classify;
use shared::support::{SupportAction, SupportInput, SupportStatus};
use shared::visit::{Visit, VisitInput};
use shared::{Text, Validate};
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_households, create_household))
        .routes(routes!(get_household, update_household))
        .routes(routes!(add_member))
        .routes(routes!(update_member, delete_member))
        .routes(routes!(add_assessment))
        .routes(routes!(add_visit))
        .routes(routes!(add_support))
}

pub const MAX_PAGE: i64 = 2000;

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    pub status: Option<HouseholdStatus>,
    pub village_id: Option<String>,
    /// Part of the head's name, the code or the address.
    pub q: Option<String>,
    /// At most 2000; 200 when absent.
    pub limit: Option<i64>,
    pub offset: Option<i64>,
}

#[utoipa::path(get, path = "/households", tag = "households", security(("bearer" = [])), params(ListQuery),
    responses((status = 200, body = Vec<Household>), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody)))]
async fn list_households(
    State(state): State<AppState>,
    me: CurrentUser,
    AppQuery(q): AppQuery<ListQuery>,
) -> AppResult<Json<Vec<Household>>> {
    let (mut villages, ids) = me
        .household_scope(state.store.as_ref(), Action::ReadHouseholds)
        .await?;
    if let Some(v) = &q.village_id {
        me.check_area(state.store.as_ref(), Action::ReadAreas, v)
            .await?;
        villages = Some(match villages {
            Some(vs) => vs.into_iter().filter(|x| x == v).collect(),
            None => vec![v.clone()],
        });
    }
    let limit = q.limit.unwrap_or(200);
    let offset = q.offset.unwrap_or(0);
    if !(1..=MAX_PAGE).contains(&limit) || offset < 0 {
        return Err(AppError::BadRequest {
            code: "invalid_query",
            message: Text::new(
                format!("limit phải từ 1 đến {MAX_PAGE}, offset không âm."),
                format!("limit must be 1–{MAX_PAGE} and offset not negative."),
            ),
        });
    }
    let filter = HouseholdFilter {
        village_ids: villages,
        household_ids: ids,
        status: q.status,
        search: q.q,
        limit,
        offset,
    };
    Ok(Json(state.store.list_households(&filter).await?))
}

/// Everything about one household that its reader may see.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct HouseholdDetail {
    pub household: Household,
    pub members: Vec<Member>,
    pub assessments: Vec<Assessment>,
    pub assignments: Vec<Assignment>,
    pub visits: Vec<Visit>,
    pub support: Vec<SupportAction>,
}

#[utoipa::path(get, path = "/households/{id}", tag = "households", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 200, body = HouseholdDetail), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
async fn get_household(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(id): AppPath<String>,
) -> AppResult<Json<HouseholdDetail>> {
    let st = state.store.as_ref();
    let household = me.household(st, Action::ReadHouseholds, &id).await?;
    Ok(Json(HouseholdDetail {
        members: st.list_members(&id).await?,
        assessments: st.list_assessments(&id).await?,
        assignments: st
            .list_assignments(&AssignmentFilter {
                household_id: Some(id.clone()),
                ..Default::default()
            })
            .await?,
        visits: st.list_visits(&id).await?,
        support: st.list_support(&id).await?,
        household,
    }))
}

/// The village must exist, be a village, and lie in the user's scope for `action`.
async fn check_village(state: &AppState, me: &CurrentUser, village_id: &str) -> AppResult<()> {
    let area = state.store.get_area(village_id).await.map_err(|_| {
        AppError::field(
            "village_id",
            "unknown_area",
            Text::new("Không có thôn/bản này.", "No such village."),
        )
    })?;
    if area.kind != AreaKind::Village {
        return Err(AppError::field(
            "village_id",
            "not_a_village",
            Text::new(
                "Hộ phải thuộc một thôn/bản.",
                "A household belongs to a village.",
            ),
        ));
    }
    me.check_area(state.store.as_ref(), Action::WriteHouseholds, village_id)
        .await
}

fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[utoipa::path(post, path = "/households", tag = "households", security(("bearer" = [])), request_body = HouseholdInput,
    responses((status = 201, body = Household), (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn create_household(
    State(state): State<AppState>,
    me: CurrentUser,
    AppJson(input): AppJson<HouseholdInput>,
) -> AppResult<(StatusCode, Json<Household>)> {
    me.reach(Action::WriteHouseholds)?;
    input.validate()?;
    check_village(&state, &me, &input.village_id).await?;
    let id = uuid::Uuid::now_v7().to_string();
    let h = state
        .store
        .create_household(&me.actor(), &id, &input, &now_text())
        .await?;
    Ok((StatusCode::CREATED, Json(h)))
}

#[utoipa::path(put, path = "/households/{id}", tag = "households", security(("bearer" = [])), params(("id" = String, Path)), request_body = HouseholdInput,
    responses((status = 200, body = Household), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn update_household(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(id): AppPath<String>,
    AppJson(input): AppJson<HouseholdInput>,
) -> AppResult<Json<Household>> {
    me.household(state.store.as_ref(), Action::WriteHouseholds, &id)
        .await?;
    input.validate()?;
    check_village(&state, &me, &input.village_id).await?;
    Ok(Json(
        state
            .store
            .update_household(&me.actor(), &id, &input, &now_text())
            .await?,
    ))
}

#[utoipa::path(post, path = "/households/{id}/members", tag = "households", security(("bearer" = [])), params(("id" = String, Path)), request_body = MemberInput,
    responses((status = 201, body = Member), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn add_member(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(id): AppPath<String>,
    AppJson(input): AppJson<MemberInput>,
) -> AppResult<(StatusCode, Json<Member>)> {
    me.household(state.store.as_ref(), Action::WriteHouseholds, &id)
        .await?;
    input.validate()?;
    let m = state
        .store
        .add_member(&me.actor(), &id, &uuid::Uuid::now_v7().to_string(), &input)
        .await?;
    Ok((StatusCode::CREATED, Json(m)))
}

async fn member_in_scope(state: &AppState, me: &CurrentUser, id: &str) -> AppResult<Member> {
    let m = state
        .store
        .get_member(id)
        .await
        .map_err(not_found("member"))?;
    me.household(
        state.store.as_ref(),
        Action::WriteHouseholds,
        &m.household_id,
    )
    .await?;
    Ok(m)
}

#[utoipa::path(put, path = "/members/{id}", tag = "households", security(("bearer" = [])), params(("id" = String, Path)), request_body = MemberInput,
    responses((status = 200, body = Member), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn update_member(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(id): AppPath<String>,
    AppJson(input): AppJson<MemberInput>,
) -> AppResult<Json<Member>> {
    member_in_scope(&state, &me, &id).await?;
    input.validate()?;
    Ok(Json(
        state.store.update_member(&me.actor(), &id, &input).await?,
    ))
}

#[utoipa::path(delete, path = "/members/{id}", tag = "households", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 204), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
async fn delete_member(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(id): AppPath<String>,
) -> AppResult<StatusCode> {
    member_in_scope(&state, &me, &id).await?;
    state.store.delete_member(&me.actor(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Record a review: the rule set in force on its date classifies it, with reasons.
#[utoipa::path(post, path = "/households/{id}/assessments", tag = "households", security(("bearer" = [])), params(("id" = String, Path)), request_body = AssessmentInput,
    responses((status = 201, body = Assessment), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn add_assessment(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(id): AppPath<String>,
    AppJson(input): AppJson<AssessmentInput>,
) -> AppResult<(StatusCode, Json<Assessment>)> {
    me.household(state.store.as_ref(), Action::RecordAssessments, &id)
        .await?;
    let rs = state.rules.in_force(input.date).ok_or_else(|| {
        AppError::field(
            "date",
            "no_rule_set",
            Text::new(
                "Không có chuẩn nghèo nào áp dụng cho ngày này.",
                "No poverty standard applies on this date.",
            ),
        )
    })?;
    let outcome = classify(rs, &input.evidence).map_err(|e| {
        let mut nested = shared::ValidationErrors::default();
        nested.nest("evidence", e);
        AppError::Validation(nested)
    })?;
    let a = Assessment {
        id: uuid::Uuid::now_v7().to_string(),
        household_id: id,
        kind: input.kind,
        date: input.date,
        evidence: input.evidence,
        classification: outcome.classification,
        explanation: outcome.explanation,
        meeting_agreement_pct: None,
        commune_decision: None,
    };
    state
        .store
        .add_assessment(&me.actor(), &a, &now_text())
        .await?;
    Ok((StatusCode::CREATED, Json(a)))
}

/// Log a mentoring visit (append-only).
#[utoipa::path(post, path = "/households/{id}/visits", tag = "households", security(("bearer" = [])), params(("id" = String, Path)), request_body = VisitInput,
    responses((status = 201, body = Visit), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn add_visit(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(id): AppPath<String>,
    AppJson(input): AppJson<VisitInput>,
) -> AppResult<(StatusCode, Json<Visit>)> {
    me.household(state.store.as_ref(), Action::LogVisits, &id)
        .await?;
    input.validate()?;
    if input.date > crate::today() {
        return Err(AppError::field(
            "date",
            "in_future",
            Text::new(
                "Ngày thăm không được ở tương lai.",
                "A visit cannot be in the future.",
            ),
        ));
    }
    let v = Visit {
        id: uuid::Uuid::now_v7().to_string(),
        household_id: id,
        cadre_id: me.user.id.clone(),
        data: input,
    };
    Ok((
        StatusCode::CREATED,
        Json(state.store.add_visit(&me.actor(), &v).await?),
    ))
}

/// Propose or plan support for a household; it starts as planned.
#[utoipa::path(post, path = "/households/{id}/support", tag = "support", security(("bearer" = [])), params(("id" = String, Path)), request_body = SupportInput,
    responses((status = 201, body = SupportAction), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn add_support(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(id): AppPath<String>,
    AppJson(input): AppJson<SupportInput>,
) -> AppResult<(StatusCode, Json<SupportAction>)> {
    me.household(state.store.as_ref(), Action::ProposeSupport, &id)
        .await?;
    input.validate()?;
    if let Some(code) = &input.addresses_indicator
        && !state
            .rules
            .all()
            .iter()
            .any(|rs| rs.indicator(code).is_some())
    {
        return Err(AppError::field(
            "addresses_indicator",
            "unknown_indicator",
            Text::new(
                format!("Không có chỉ số \"{code}\"."),
                format!("No indicator \"{code}\"."),
            ),
        ));
    }
    let s = SupportAction {
        id: uuid::Uuid::now_v7().to_string(),
        household_id: id,
        status: SupportStatus::Planned,
        delivered_date: None,
        data: input,
    };
    Ok((
        StatusCode::CREATED,
        Json(state.store.add_support(&me.actor(), &s).await?),
    ))
}
