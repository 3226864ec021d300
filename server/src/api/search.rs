//! The console's one search box: any household the user may read, found by its code, the
//! head's name, the address or a member's name (accents optional), or by a member's whole
//! citizen ID number.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::extract::AppQuery;
use crate::store::{HouseholdFilter, Within};
use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use shared::Text;
use shared::permissions::Action;
use shared::search::{MAX_QUERY, SearchHit, fold, id_number};
use std::collections::BTreeMap;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// What to look for: a code, a name (accents optional), an address, or a whole ID number.
    pub q: String,
    /// At most 50; 20 when absent.
    pub limit: Option<usize>,
}

const MAX_LIMIT: usize = 50;

fn bad_query() -> AppError {
    AppError::BadRequest {
        code: "invalid_query",
        message: Text::new(
            format!("Nhập từ 1 đến {MAX_QUERY} ký tự để tìm; limit từ 1 đến {MAX_LIMIT}."),
            format!("Type 1–{MAX_QUERY} characters to search; limit 1–{MAX_LIMIT}."),
        ),
    }
}

/// Households of the user's reach matching `q`, those matched by code first, then by name.
#[utoipa::path(get, path = "/search", tag = "households", security(("bearer" = [])), params(SearchQuery),
    responses((status = 401, body = crate::error::ErrorBody, description = "Not signed in, or the session ended"), (status = 200, body = Vec<SearchHit>), (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody, description = "Too many heavy requests at once")))]
async fn search(
    State(state): State<AppState>,
    me: CurrentUser,
    AppQuery(q): AppQuery<SearchQuery>,
) -> AppResult<Json<Vec<SearchHit>>> {
    let store = state.store.as_ref();
    let (villages, ids) = me.household_scope(store, Action::ReadHouseholds).await?;
    let text = q.q.trim();
    let limit = q.limit.unwrap_or(20);
    if text.is_empty() || text.chars().count() > MAX_QUERY || !(1..=MAX_LIMIT).contains(&limit) {
        return Err(bad_query());
    }
    let _turn = state.heavy.enter(&me)?;
    let households = store
        .list_households(&HouseholdFilter {
            within: Within::villages(villages),
            household_ids: ids,
            in_register_only: true,
            limit: i64::MAX / 2,
            ..Default::default()
        })
        .await?;
    let needle = fold(text);
    let number = id_number(text);
    // Each household's first reason to be found, ranked: its code, its head or address, a
    // member's name, a member's ID number.
    let mut found: BTreeMap<String, (u8, Option<Text>)> = BTreeMap::new();
    for h in &households {
        if fold(&h.code).contains(&needle) {
            found.insert(h.id.clone(), (0, None));
        } else if fold(&h.head_name).contains(&needle) || fold(&h.address).contains(&needle) {
            found.insert(h.id.clone(), (1, None));
        }
    }
    let all: Vec<String> = households.iter().map(|h| h.id.clone()).collect();
    for m in store.list_members_of(&all).await? {
        if found.contains_key(&m.household_id) {
            continue;
        }
        let name = &m.data.full_name;
        if fold(name).contains(&needle) {
            found.insert(
                m.household_id.clone(),
                (
                    2,
                    Some(Text::new(
                        format!("Thành viên: {name}"),
                        format!("Member: {name}"),
                    )),
                ),
            );
        } else if number.is_some() && m.data.citizen_id.as_deref() == number.as_deref() {
            found.insert(
                m.household_id.clone(),
                (
                    3,
                    Some(Text::new(
                        format!("Số định danh của {name}"),
                        format!("The ID number of {name}"),
                    )),
                ),
            );
        }
    }
    let mut hits: Vec<(u8, SearchHit)> = households
        .into_iter()
        .filter_map(|h| {
            let (rank, matched) = found.remove(&h.id)?;
            Some((
                rank,
                SearchHit {
                    household_id: h.id,
                    code: h.code,
                    head_name: h.head_name,
                    village_id: h.village_id,
                    status: h.status,
                    matched,
                },
            ))
        })
        .collect();
    hits.sort_by(|a, b| (a.0, &a.1.code).cmp(&(b.0, &b.1.code)));
    Ok(Json(hits.into_iter().take(limit).map(|(_, h)| h).collect()))
}
