//! Which screen is open, kept in the address's `#` part so the phone's back button and a
//! reload both land where the person was.

use leptos::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Households,
    Household(String),
    LogVisit(String),
    EditHousehold(String),
    Review(String),
    /// The village meeting on a household's open review.
    Meeting(String),
    /// A household's member: an id to edit, `None` to add.
    Member(String, Option<String>),
    /// Proposing support for a household (cadre).
    ProposeSupport(String),
    /// Noting progress on one item of a household's plan.
    PlanProgress(String, String),
    NewHousehold,
    Sync,
}

impl Route {
    pub fn parse(hash: &str) -> Route {
        let parts: Vec<&str> = hash
            .trim_start_matches('#')
            .split('/')
            .filter(|p| !p.is_empty())
            .collect();
        match parts.as_slice() {
            ["h", id] => Route::Household(id.to_string()),
            ["h", id, "visit"] => Route::LogVisit(id.to_string()),
            ["h", id, "edit"] => Route::EditHousehold(id.to_string()),
            ["h", id, "review"] => Route::Review(id.to_string()),
            ["h", id, "meeting"] => Route::Meeting(id.to_string()),
            ["h", id, "member"] => Route::Member(id.to_string(), None),
            ["h", id, "member", m] => Route::Member(id.to_string(), Some(m.to_string())),
            ["h", id, "support"] => Route::ProposeSupport(id.to_string()),
            ["h", id, "plan", p] => Route::PlanProgress(id.to_string(), p.to_string()),
            ["new"] => Route::NewHousehold,
            ["sync"] => Route::Sync,
            _ => Route::Households,
        }
    }

    pub fn href(&self) -> String {
        match self {
            Route::Households => "#/".into(),
            Route::Household(id) => format!("#/h/{id}"),
            Route::LogVisit(id) => format!("#/h/{id}/visit"),
            Route::EditHousehold(id) => format!("#/h/{id}/edit"),
            Route::Review(id) => format!("#/h/{id}/review"),
            Route::Meeting(id) => format!("#/h/{id}/meeting"),
            Route::Member(id, None) => format!("#/h/{id}/member"),
            Route::Member(id, Some(m)) => format!("#/h/{id}/member/{m}"),
            Route::ProposeSupport(id) => format!("#/h/{id}/support"),
            Route::PlanProgress(id, p) => format!("#/h/{id}/plan/{p}"),
            Route::NewHousehold => "#/new".into(),
            Route::Sync => "#/sync".into(),
        }
    }
}

fn current() -> Route {
    let hash = web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default();
    Route::parse(&hash)
}

/// The route signal, following the address.
pub fn use_route() -> RwSignal<Route> {
    let route = RwSignal::new(current());
    let handle = window_event_listener(leptos::ev::hashchange, move |_| route.set(current()));
    on_cleanup(move || handle.remove());
    route
}

/// Opens a screen (a new history entry, so "back" returns).
pub fn go(route: &Route) {
    if let Some(w) = web_sys::window() {
        let _ = w.location().set_hash(&route.href());
    }
}
