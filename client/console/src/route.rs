//! Which console screen is open, kept in the address's `#` part so the browser's back
//! button, a reload and a shared link all land on the same screen.

use leptos::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Overview,
    Assignments,
    Conflicts,
    Quarantine,
    Import,
    Targets,
    Support,
    /// The review campaign, escape tracking and the what-if.
    Reviews,
    /// The 6-month and annual reports.
    Reports,
    Users,
    /// The households behind a dashboard figure: an `/api/accompaniment` query.
    List(String),
    /// One area's villages, without personal data (the province's drill-down).
    Area(String),
    /// One household: plan, support, history.
    Household(String),
}

impl Route {
    pub fn parse(hash: &str) -> Route {
        let h = hash.trim_start_matches('#').trim_matches('/');
        if let Some(q) = h.strip_prefix("list?") {
            return Route::List(q.to_string());
        }
        if let Some(id) = h.strip_prefix("h/") {
            return Route::Household(id.to_string());
        }
        if let Some(id) = h.strip_prefix("area/") {
            return Route::Area(id.to_string());
        }
        match h {
            "assign" => Route::Assignments,
            "conflicts" => Route::Conflicts,
            "quarantine" => Route::Quarantine,
            "users" => Route::Users,
            "import" => Route::Import,
            "targets" => Route::Targets,
            "support" => Route::Support,
            "reviews" => Route::Reviews,
            "reports" => Route::Reports,
            _ => Route::Overview,
        }
    }

    pub fn href(&self) -> String {
        match self {
            Route::List(q) => format!("#/list?{q}"),
            Route::Area(id) => format!("#/area/{id}"),
            Route::Household(id) => format!("#/h/{id}"),
            other => other.nav_href().to_string(),
        }
    }

    /// The address of a screen of the navigation.
    pub fn nav_href(&self) -> &'static str {
        match self {
            Route::List(_) | Route::Area(_) | Route::Household(_) => "#/",
            Route::Overview => "#/",
            Route::Assignments => "#/assign",
            Route::Conflicts => "#/conflicts",
            Route::Quarantine => "#/quarantine",
            Route::Users => "#/users",
            Route::Import => "#/import",
            Route::Targets => "#/targets",
            Route::Support => "#/support",
            Route::Reviews => "#/reviews",
            Route::Reports => "#/reports",
        }
    }
}

fn current() -> Route {
    Route::parse(
        &web_sys::window()
            .and_then(|w| w.location().hash().ok())
            .unwrap_or_default(),
    )
}

/// The open screen, following the address.
pub fn use_route() -> ReadSignal<Route> {
    let (route, set_route) = signal(current());
    let handle = window_event_listener(leptos::ev::hashchange, move |_| set_route.set(current()));
    on_cleanup(move || handle.remove());
    route
}
