//! The household register: profile, members, reviews, visits and support, each read and
//! write checked against the user's role and scope.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::auth::current::not_found;
use crate::error::{AppError, AppResult};
use crate::extract::{AppJson, AppPath, AppQuery};
use crate::store::{AssignmentFilter, HouseholdFilter, Within};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use shared::area::AreaKind;
use shared::assessment::{Assessment, AssessmentInput};
use shared::assignment::Assignment;
use shared::doc::Collection;
use shared::household::{Household, HouseholdInput, HouseholdStatus, Member, MemberInput};
use shared::permissions::Action;
use shared::plan::{PlanItem, PlanItemInput, PlanStatus};
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
        .routes(routes!(put_plan_item))
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
    responses((status = 401, body = crate::error::ErrorBody, description = "Not signed in, or the session ended"), (status = 200, body = Vec<Household>), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody, description = "No such village")))]
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
        within: Within::villages(villages),
        household_ids: ids,
        status: q.status,
        search: q.q,
        in_register_only: true,
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
    /// The steps of its reviews (listing, meeting, posting, complaints, decisions).
    pub review_steps: Vec<shared::review::ReviewStep>,
    pub assignments: Vec<Assignment>,
    pub visits: Vec<Visit>,
    pub support: Vec<SupportAction>,
    /// The plan, read from the household's document (it lives only there).
    pub plan: Vec<PlanItem>,
}

#[utoipa::path(get, path = "/households/{id}", tag = "households", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 401, body = crate::error::ErrorBody, description = "Not signed in, or the session ended"), (status = 200, body = HouseholdDetail), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
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
        review_steps: st.list_review_steps(&id).await?,
        assignments: st
            .list_assignments(&AssignmentFilter {
                household_id: Some(id.clone()),
                ..Default::default()
            })
            .await?,
        visits: st.list_visits(&id).await?,
        support: st.list_support(&id).await?,
        plan: plan_of(&state, &id).await?,
        household,
    }))
}

/// A household's plan items from its document (none when it has no document yet).
async fn plan_of(state: &AppState, id: &str) -> AppResult<Vec<PlanItem>> {
    use shared::core::Storage;
    let stored = state.db.load(id).await?;
    Ok(stored
        .and_then(|s| shared::projection::project(id, &s.doc.to_json(), "").ok())
        .map(|r| r.plan)
        .unwrap_or_default())
}

/// A plan item as the commune officer writes it.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanItemWrite {
    pub item: PlanItemInput,
    pub status: PlanStatus,
}

/// Create or change one item of a household's plan (the officer's console); written into
/// the household's document through the write core, so phones get it at their next sync.
#[utoipa::path(put, path = "/households/{id}/plan/{item_id}", tag = "support", security(("bearer" = [])),
    params(("id" = String, Path), ("item_id" = String, Path)), request_body = PlanItemWrite,
    responses((status = 200, body = Vec<PlanItem>, description = "The household's plan after the change"), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn put_plan_item(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath((id, item_id)): AppPath<(String, String)>,
    AppJson(w): AppJson<PlanItemWrite>,
) -> AppResult<Json<Vec<PlanItem>>> {
    me.household(state.store.as_ref(), Action::ManageSupport, &id)
        .await?;
    w.item.validate()?;
    if !shared::core::schema::valid_id(&item_id) {
        return Err(AppError::field(
            "item_id",
            "invalid",
            Text::new(
                "Mã mục kế hoạch không hợp lệ.",
                "The plan item id is not valid.",
            ),
        ));
    }
    let item = PlanItem {
        id: item_id.clone(),
        household_id: id.clone(),
        status: w.status,
        data: w.item,
    };
    let value = shared::projection::plan_json(&item);
    let audit = serde_json::json!({ "action": "update", "entity": "plan_item", "entity_id": id, "changes": { "plan_item": value } });
    crate::write::edit_household(&state, &me, &id, audit, |doc, author| {
        doc.put_record(Collection::Plan, &item_id, &value, author)
    })
    .await?;
    Ok(Json(plan_of(&state, &id).await?))
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

/// The input as stored: codes and names without surrounding spaces.
fn trimmed(input: &HouseholdInput) -> HouseholdInput {
    HouseholdInput {
        code: input.code.trim().to_string(),
        address: input.address.trim().to_string(),
        head_name: input.head_name.trim().to_string(),
        ..input.clone()
    }
}

fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[utoipa::path(post, path = "/households", tag = "households", security(("bearer" = [])), request_body = HouseholdInput,
    responses((status = 401, body = crate::error::ErrorBody, description = "Not signed in, or the session ended"), (status = 201, body = Household), (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn create_household(
    State(state): State<AppState>,
    me: CurrentUser,
    AppJson(input): AppJson<HouseholdInput>,
) -> AppResult<(StatusCode, Json<Household>)> {
    me.reach(Action::WriteHouseholds)?;
    // Not yet reviewed: the first review sets the real status.
    let villages = crate::api::sync::villages_of(&state, &me).await?;
    let id = register(
        &state,
        &me,
        &input,
        HouseholdStatus::NotReviewed,
        None,
        villages.as_ref(),
        shared::doc::Door::Console,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(state.store.get_household(&id).await?),
    ))
}

/// Registers a new household through the write core (the form and the list import).
pub(crate) async fn register(
    state: &AppState,
    me: &CurrentUser,
    input: &HouseholdInput,
    status: HouseholdStatus,
    registered_on: Option<chrono::NaiveDate>,
    villages: Option<&std::collections::BTreeSet<String>>,
    door: shared::doc::Door,
) -> AppResult<String> {
    input.validate()?;
    check_village(state, me, &input.village_id).await?;
    let id = uuid::Uuid::now_v7().to_string();
    let mut profile = serde_json::to_value(trimmed(input)).expect("serialises");
    profile["status"] = serde_json::json!(status);
    // An opening balance counts from its date: the household stood in the register then.
    profile["created_at"] = serde_json::json!(match registered_on {
        Some(day) => format!("{day}T00:00:00.000Z"),
        None => now_text(),
    });
    let audit = serde_json::json!({ "action": "create", "entity": "household", "entity_id": id, "changes": { "created": profile } });
    // Only a commune's opening balance (its first list, dated) brings an official status
    // without a decision: the server writes it as its own.
    let writer = shared::core::Writer {
        decision: status != HouseholdStatus::NotReviewed && registered_on.is_some(),
        door,
        ..crate::api::sync::writer(me)
    };
    state
        .hub
        .create(&state.db, &writer, villages, &id, audit, |doc, author| {
            doc.put_all(&profile, std::iter::empty(), author)
        })
        .await
        .map_err(crate::write::edit_error)?;
    state.db.know_docs([id.clone()]);
    state.scopes.changed();
    Ok(id)
}

#[utoipa::path(put, path = "/households/{id}", tag = "households", security(("bearer" = [])), params(("id" = String, Path)), request_body = HouseholdInput,
    responses((status = 401, body = crate::error::ErrorBody, description = "Not signed in, or the session ended"), (status = 200, body = Household), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody, description = "The household code is taken"), (status = 422, body = crate::error::ErrorBody)))]
async fn update_household(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(id): AppPath<String>,
    AppJson(input): AppJson<HouseholdInput>,
) -> AppResult<Json<Household>> {
    let before = me
        .household(state.store.as_ref(), Action::WriteHouseholds, &id)
        .await?;
    input.validate()?;
    check_village(&state, &me, &input.village_id).await?;
    let profile = serde_json::to_value(trimmed(&input)).expect("serialises");
    let audit = serde_json::json!({ "action": "update", "entity": "household", "entity_id": id, "changes": { "before": before, "after": profile } });
    crate::write::edit_household(&state, &me, &id, audit, |doc, author| {
        doc.update_profile(&profile, author)
    })
    .await?;
    Ok(Json(state.store.get_household(&id).await?))
}

#[utoipa::path(post, path = "/households/{id}/members", tag = "households", security(("bearer" = [])), params(("id" = String, Path)), request_body = MemberInput,
    responses((status = 401, body = crate::error::ErrorBody, description = "Not signed in, or the session ended"), (status = 201, body = Member), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn add_member(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(id): AppPath<String>,
    AppJson(input): AppJson<MemberInput>,
) -> AppResult<(StatusCode, Json<Member>)> {
    me.household(state.store.as_ref(), Action::WriteHouseholds, &id)
        .await?;
    input.validate_on(crate::today())?;
    let m = Member {
        id: uuid::Uuid::now_v7().to_string(),
        household_id: id.clone(),
        data: input,
    };
    let record = shared::projection::member_json(&m.data);
    let audit = serde_json::json!({ "action": "create", "entity": "member", "entity_id": m.id, "changes": { "created": m } });
    crate::write::edit_household(&state, &me, &id, audit, |doc, author| {
        doc.put_record(Collection::Members, &m.id, &record, author)
    })
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
    responses((status = 401, body = crate::error::ErrorBody, description = "Not signed in, or the session ended"), (status = 200, body = Member), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn update_member(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(id): AppPath<String>,
    AppJson(input): AppJson<MemberInput>,
) -> AppResult<Json<Member>> {
    let before = member_in_scope(&state, &me, &id).await?;
    input.validate_on(crate::today())?;
    let after = Member {
        data: input,
        ..before.clone()
    };
    let record = shared::projection::member_json(&after.data);
    let audit = serde_json::json!({ "action": "update", "entity": "member", "entity_id": id, "changes": { "before": before.data, "after": after.data } });
    crate::write::edit_household(&state, &me, &before.household_id, audit, |doc, author| {
        doc.put_record(Collection::Members, &id, &record, author)
    })
    .await?;
    Ok(Json(after))
}

#[utoipa::path(delete, path = "/members/{id}", tag = "households", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 401, body = crate::error::ErrorBody, description = "Not signed in, or the session ended"), (status = 204), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
async fn delete_member(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(id): AppPath<String>,
) -> AppResult<StatusCode> {
    let before = member_in_scope(&state, &me, &id).await?;
    let audit = serde_json::json!({ "action": "delete", "entity": "member", "entity_id": id, "changes": { "deleted": before } });
    crate::write::edit_household(&state, &me, &before.household_id, audit, |doc, author| {
        doc.delete_record(Collection::Members, &id, author)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Record a review: the rule set of the period it decides classifies it, with reasons. The
/// household's official status does not change: only the commune's decision changes it.
#[utoipa::path(post, path = "/households/{id}/assessments", tag = "households", security(("bearer" = [])), params(("id" = String, Path)), request_body = AssessmentInput,
    responses((status = 401, body = crate::error::ErrorBody, description = "Not signed in, or the session ended"), (status = 201, body = Assessment), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
async fn add_assessment(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(id): AppPath<String>,
    AppJson(input): AppJson<AssessmentInput>,
) -> AppResult<(StatusCode, Json<Assessment>)> {
    me.household(state.store.as_ref(), Action::RecordAssessments, &id)
        .await?;
    let rs =
        shared::review::rule_set_for(&state.rules, input.kind, input.date).ok_or_else(|| {
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
        household_id: id.clone(),
        kind: input.kind,
        date: input.date,
        evidence: input.evidence,
        classification: outcome.classification,
        explanation: outcome.explanation,
    };
    let record = shared::projection::assessment_json(&a);
    let audit = serde_json::json!({ "action": "create", "entity": "assessment", "entity_id": a.id, "changes": { "created": a } });
    crate::write::edit_household(&state, &me, &id, audit, |doc, author| {
        doc.put_record(Collection::Assessments, &a.id, &record, author)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(a)))
}

/// Log a mentoring visit (append-only).
#[utoipa::path(post, path = "/households/{id}/visits", tag = "households", security(("bearer" = [])), params(("id" = String, Path)), request_body = VisitInput,
    responses((status = 401, body = crate::error::ErrorBody, description = "Not signed in, or the session ended"), (status = 201, body = Visit), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
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
        household_id: id.clone(),
        cadre_id: me.user.id.clone(),
        data: input,
    };
    let record = shared::projection::visit_json(&v);
    let audit = serde_json::json!({ "action": "create", "entity": "visit", "entity_id": v.id, "changes": { "created": v } });
    crate::write::edit_household(&state, &me, &id, audit, |doc, author| {
        doc.put_record(Collection::Visits, &v.id, &record, author)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(v)))
}

/// Propose or plan support for a household; it starts as planned.
#[utoipa::path(post, path = "/households/{id}/support", tag = "support", security(("bearer" = [])), params(("id" = String, Path)), request_body = SupportInput,
    responses((status = 401, body = crate::error::ErrorBody, description = "Not signed in, or the session ended"), (status = 201, body = SupportAction), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
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
        household_id: id.clone(),
        status: SupportStatus::Planned,
        delivered_date: None,
        data: input,
    };
    let record = shared::projection::support_json(&s);
    let audit = serde_json::json!({ "action": "create", "entity": "support_action", "entity_id": s.id, "changes": { "created": s } });
    crate::write::edit_household(&state, &me, &id, audit, |doc, author| {
        doc.put_record(Collection::Support, &s.id, &record, author)
    })
    .await?;
    Ok((StatusCode::CREATED, Json(s)))
}
