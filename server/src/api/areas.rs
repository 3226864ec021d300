//! The area tree: everyone reads their part of it; administrators shape it.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::auth::current::not_found;
use crate::error::{AppError, AppResult};
use crate::extract::{AppJson, AppPath};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use shared::Validate;
use shared::area::{Area, AreaInput, AreaKind};
use shared::permissions::{Action, Reach};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_areas, create_area))
        .routes(routes!(get_area, update_area))
}

/// The ids of `root` and every area below it.
/// Each area is taken once, so even a tree that were a cycle would end.
pub fn subtree(areas: &[Area], root: &str) -> Vec<String> {
    // Children by parent first: a province holds thousands of areas, and looking for
    // each area's children among all of them was quadratic (≈ 40 million comparisons at
    // 100 communes of 60 villages).
    let mut children: std::collections::HashMap<&str, Vec<&str>> = Default::default();
    for a in areas {
        if let Some(parent) = a.parent_id.as_deref() {
            children.entry(parent).or_default().push(&a.id);
        }
    }
    let mut out = vec![root.to_string()];
    let mut seen: std::collections::HashSet<&str> = [root].into();
    let mut i = 0;
    while i < out.len() {
        let parent = out[i].clone();
        for &child in children.get(parent.as_str()).into_iter().flatten() {
            if seen.insert(child) {
                out.push(child.to_string());
            }
        }
        i += 1;
    }
    out
}

/// Areas the user may see: their own tree, plus the areas above it so names can be shown.
#[utoipa::path(get, path = "/areas", tag = "areas", security(("bearer" = [])),
    responses((status = 200, body = Vec<Area>), (status = 401, body = crate::error::ErrorBody)))]
async fn list_areas(State(state): State<AppState>, me: CurrentUser) -> AppResult<Json<Vec<Area>>> {
    let reach = me.reach(Action::ReadAreas)?;
    let all = state.store.list_areas().await?;
    if reach == Reach::Everywhere {
        return Ok(Json(all));
    }
    let mut visible: std::collections::HashSet<String> =
        subtree(&all, &me.user.area_id).into_iter().collect();
    visible.extend(state.store.area_path(&me.user.area_id).await?);
    Ok(Json(
        all.into_iter()
            .filter(|a| visible.contains(&a.id))
            .collect(),
    ))
}

#[utoipa::path(get, path = "/areas/{id}", tag = "areas", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 401, body = crate::error::ErrorBody, description = "Not signed in, or the session ended"), (status = 200, body = Area), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
async fn get_area(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(id): AppPath<String>,
) -> AppResult<Json<Area>> {
    me.check_area(state.store.as_ref(), Action::ReadAreas, &id)
        .await?;
    Ok(Json(
        state.store.get_area(&id).await.map_err(not_found("area"))?,
    ))
}

async fn check_parent(state: &AppState, input: &AreaInput) -> AppResult<()> {
    let Some(parent_id) = &input.parent_id else {
        if input.kind == AreaKind::Province {
            return Ok(());
        }
        return Err(AppError::field(
            "parent_id",
            "parent_required",
            shared::Text::new(
                "Xã phải thuộc một tỉnh, thôn phải thuộc một xã.",
                "A commune must belong to a province, a village to a commune.",
            ),
        ));
    };
    let parent = state.store.get_area(parent_id).await.map_err(|_| {
        AppError::field(
            "parent_id",
            "unknown_area",
            shared::Text::new("Không có địa bàn cấp trên này.", "No such parent area."),
        )
    })?;
    let fits = matches!(
        (parent.kind, input.kind),
        (AreaKind::Province, AreaKind::Commune) | (AreaKind::Commune, AreaKind::Village)
    );
    if !fits {
        return Err(AppError::field(
            "kind",
            "invalid_hierarchy",
            shared::Text::new(
                "Xã thuộc tỉnh, thôn thuộc xã.",
                "A commune belongs to a province, a village to a commune.",
            ),
        ));
    }
    Ok(())
}

#[utoipa::path(post, path = "/areas", tag = "areas", security(("bearer" = [])), request_body = AreaInput,
    responses((status = 401, body = crate::error::ErrorBody, description = "Not signed in, or the session ended"), (status = 201, body = Area), (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody, description = "The area code is taken"), (status = 422, body = crate::error::ErrorBody)))]
async fn create_area(
    State(state): State<AppState>,
    me: CurrentUser,
    AppJson(input): AppJson<AreaInput>,
) -> AppResult<(StatusCode, Json<Area>)> {
    me.reach(Action::ManageAreas)?;
    input.validate()?;
    check_parent(&state, &input).await?;
    let area = state.store.create_area(&me.actor(), &input).await?;
    Ok((StatusCode::CREATED, Json(area)))
}

#[utoipa::path(put, path = "/areas/{id}", tag = "areas", security(("bearer" = [])), params(("id" = String, Path)), request_body = AreaInput,
    responses((status = 401, body = crate::error::ErrorBody, description = "Not signed in, or the session ended"), (status = 200, body = Area), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody, description = "The area code is taken"), (status = 422, body = crate::error::ErrorBody)))]
async fn update_area(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(id): AppPath<String>,
    AppJson(input): AppJson<AreaInput>,
) -> AppResult<Json<Area>> {
    me.check_area(state.store.as_ref(), Action::ManageAreas, &id)
        .await?;
    input.validate()?;
    if input.parent_id.as_deref() == Some(id.as_str()) {
        return Err(AppError::field(
            "parent_id",
            "cycle",
            shared::Text::new(
                "Địa bàn không thể thuộc chính nó.",
                "An area cannot be its own parent.",
            ),
        ));
    }
    check_parent(&state, &input).await?;
    check_tree(&state, &id, &input).await?;
    Ok(Json(
        state.store.update_area(&me.actor(), &id, &input).await?,
    ))
}

/// An edit keeps the tree a tree of three levels: an area with areas below it keeps its
/// kind (its children would no longer fit under it), and no area goes under itself or
/// under an area below it. With every parent exactly one level up, no cycle can form.
async fn check_tree(state: &AppState, id: &str, input: &AreaInput) -> AppResult<()> {
    let areas = state.store.list_areas().await?;
    let current = areas
        .iter()
        .find(|a| a.id == id)
        .ok_or(AppError::NotFound("area"))?;
    let has_children = areas.iter().any(|a| a.parent_id.as_deref() == Some(id));
    if current.kind != input.kind && has_children {
        return Err(AppError::field(
            "kind",
            "has_children",
            shared::Text::new(
                "Không thể đổi cấp của địa bàn đang có địa bàn trực thuộc.",
                "An area with areas below it cannot change its kind.",
            ),
        ));
    }
    if let Some(parent) = &input.parent_id
        && subtree(&areas, id).contains(parent)
    {
        return Err(AppError::field(
            "parent_id",
            "cycle",
            shared::Text::new(
                "Địa bàn không thể thuộc chính nó hay một địa bàn trực thuộc nó.",
                "An area cannot belong to itself or to an area below it.",
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::subtree;
    use shared::area::{Area, AreaKind};

    fn area(id: &str, parent: Option<&str>) -> Area {
        Area {
            id: id.into(),
            parent_id: parent.map(Into::into),
            kind: AreaKind::Village,
            code: id.into(),
            name: id.into(),
        }
    }

    #[test]
    fn a_subtree_holds_the_area_and_everything_below_it_once() {
        let areas = vec![
            area("v2", Some("c1")),
            area("p", None),
            area("c1", Some("p")),
            area("c2", Some("p")),
            area("v1", Some("c1")),
            area("v3", Some("c2")),
            // A cycle is walked once.
            area("x", Some("y")),
            area("y", Some("x")),
        ];
        assert_eq!(subtree(&areas, "p"), ["p", "c1", "c2", "v2", "v1", "v3"]);
        assert_eq!(subtree(&areas, "c1"), ["c1", "v2", "v1"]);
        assert_eq!(subtree(&areas, "v3"), ["v3"]);
        assert_eq!(subtree(&areas, "x"), ["x", "y"]);
        assert_eq!(subtree(&areas, "nowhere"), ["nowhere"]);
    }
}
