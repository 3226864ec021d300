//! Which console screen is open, kept in the address's `#` part so the browser's back
//! button, a reload and a shared link all land on the same screen.

use leptos::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Overview,
    Assignments,
    Conflicts,
    Quarantine,
    Users,
}

impl Route {
    pub fn parse(hash: &str) -> Route {
        match hash.trim_start_matches('#').trim_matches('/') {
            "assign" => Route::Assignments,
            "conflicts" => Route::Conflicts,
            "quarantine" => Route::Quarantine,
            "users" => Route::Users,
            _ => Route::Overview,
        }
    }

    pub fn href(&self) -> &'static str {
        match self {
            Route::Overview => "#/",
            Route::Assignments => "#/assign",
            Route::Conflicts => "#/conflicts",
            Route::Quarantine => "#/quarantine",
            Route::Users => "#/users",
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
