//! A household's history for the console: every change of its document in words (who,
//! on which device, when, through which door, the field's old value → new value) and its
//! movements in the register's ledger with their basis.

use crate::AppState;
use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::extract::AppPath;
use axum::Json;
use axum::extract::State;
use shared::doc::Door;
use shared::history::{History, HouseholdHistory, MovementLine};
use shared::permissions::Action;
use std::collections::BTreeMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(household_history))
}

#[utoipa::path(get, path = "/households/{id}/history", tag = "households", security(("bearer" = [])), params(("id" = String, Path)),
    responses((status = 401, body = crate::error::ErrorBody, description = "Not signed in, or the session ended"), (status = 200, body = HouseholdHistory), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody, description = "Too many heavy requests at once")))]
async fn household_history(
    State(state): State<AppState>,
    me: CurrentUser,
    AppPath(id): AppPath<String>,
) -> AppResult<Json<HouseholdHistory>> {
    let st = state.store.as_ref();
    me.household(st, Action::ReadHouseholds, &id).await?;
    let _turn = state.heavy.enter(&me)?;
    crate::api::sync::ensure_docs(&state, &[id.clone()].into_iter().collect()).await?;
    let mut history = match st.docs().load_doc(&id).await? {
        Some(stored) => {
            // Replaying a document's changes is CPU work: off the request threads.
            tokio::task::spawn_blocking(move || {
                let author = shared::doc::Author {
                    user_id: "history".into(),
                    device_id: "server".into(),
                    at_ms: 0,
                    door: None,
                };
                stored
                    .open(&author)
                    .map(|mut doc| shared::history::history(&mut doc))
            })
            .await
            .map_err(|e| AppError::Internal(e.to_string()))?
            .map_err(|e| AppError::Internal(format!("document {id}: {e}")))?
        }
        None => History::default(),
    };
    // A device's change is its device's, whatever the change says of itself.
    let actors: Vec<String> = history.entries.iter().map(|e| e.actor.clone()).collect();
    let bound = st.actor_devices(&actors).await?;
    for e in &mut history.entries {
        if let Some((user, device)) = bound.get(&e.actor) {
            e.user_id = user.clone();
            e.device_id = device.clone();
            e.door = Door::Phone;
        }
    }
    let movements = st.list_movements(&id).await?;
    let mut users: Vec<String> = history.entries.iter().map(|e| e.user_id.clone()).collect();
    users.extend(movements.iter().map(|m| m.by.clone()));
    users.sort();
    users.dedup();
    let names = Names::of(&state, &users).await?;
    for e in &mut history.entries {
        e.user_name = names.user(&e.user_id);
        e.device_name = names.device(&e.user_id, &e.device_id);
    }
    let movements = movements
        .into_iter()
        .map(|m| MovementLine {
            basis_text: m.basis_text(),
            by_name: names.user(&m.by),
            movement: m,
        })
        .collect();
    Ok(Json(HouseholdHistory { history, movements }))
}

/// People's full names, and each user's devices by the name they gave themselves ("Chrome ·
/// Android · SM-A145F của Lò Văn Pản"), or numbered in the order they first signed in
/// ("Máy 2 của Lò Văn Pản") when they have none: a device is shown by a name a person can
/// follow, never by its id.
pub(crate) struct Names {
    users: BTreeMap<String, String>,
    devices: BTreeMap<(String, String), (usize, String)>,
}

impl Names {
    pub(crate) async fn of(state: &AppState, user_ids: &[String]) -> AppResult<Names> {
        let st = state.store.as_ref();
        let mut users = BTreeMap::new();
        let mut devices: BTreeMap<(String, String), (usize, String)> = BTreeMap::new();
        for u in user_ids.iter().filter(|u| !u.is_empty()).take(200) {
            let Ok(user) = st.get_user(u).await else {
                continue;
            };
            users.insert(u.clone(), user.full_name);
            let mut sessions = st.list_sessions(u).await?;
            sessions.sort_by_key(|s| s.created_at);
            let mut n = 0;
            for s in sessions {
                let entry = devices.entry((u.clone(), s.device_id)).or_insert_with(|| {
                    n += 1;
                    (n, String::new())
                });
                // The latest name the device gave itself.
                if !s.device_name.is_empty() {
                    entry.1 = s.device_name;
                }
            }
        }
        // Two devices of one person with the same name are told apart by their number.
        let mut seen: BTreeMap<(String, String), usize> = BTreeMap::new();
        for ((user, _), (_, name)) in devices.iter() {
            if !name.is_empty() {
                *seen.entry((user.clone(), name.clone())).or_default() += 1;
            }
        }
        for ((user, _), (n, name)) in devices.iter_mut() {
            if seen
                .get(&(user.clone(), name.clone()))
                .is_some_and(|k| *k > 1)
            {
                *name = format!("{name} (máy {n})");
            }
        }
        Ok(Names { users, devices })
    }

    pub(crate) fn user(&self, id: &str) -> String {
        match (id, self.users.get(id)) {
            (_, Some(name)) => name.clone(),
            ("server" | "rebuild" | "", _) => "Hệ thống / system".into(),
            (other, None) => other.to_string(),
        }
    }

    /// The device's own name, or "Máy 2" when it has none.
    pub(crate) fn device_only(&self, user: &str, device: &str) -> String {
        match self.devices.get(&(user.to_string(), device.to_string())) {
            Some((_, name)) if !name.is_empty() => name.clone(),
            Some((n, _)) => format!("Máy {n}"),
            None => "Máy không rõ".into(),
        }
    }

    pub(crate) fn device(&self, user: &str, device: &str) -> String {
        match self.devices.get(&(user.to_string(), device.to_string())) {
            Some((_, name)) if !name.is_empty() => {
                format!(
                    "{name} của {} / {name} of {}",
                    self.user(user),
                    self.user(user)
                )
            }
            Some((n, _)) => format!(
                "Máy {n} của {} / device {n} of {}",
                self.user(user),
                self.user(user)
            ),
            None if device == "server" => "Máy chủ / server".into(),
            None => "Máy không rõ / unknown device".into(),
        }
    }
}
