//! The console's one search box, in the header of every screen: type a code, a name with
//! or without accents, or a whole ID number; Enter opens the first household found.

use crate::route::Route;
use crate::screens::{param, say, send_get};
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::search::{MAX_QUERY, SearchHit};
use ui::text::{tr, use_lang};

/// Hits shown under the box.
const SHOWN: usize = 8;
/// How long typing pauses before the search is sent.
const PAUSE_MS: u64 = 250;

#[component]
pub fn SearchBox() -> impl IntoView {
    let lang = use_lang();
    let text = RwSignal::new(String::new());
    let hits = RwSignal::new(None::<Result<Vec<SearchHit>, ui::api::ClientError>>);
    // The answer to the latest query only, asked once typing pauses: an older, slower
    // answer is dropped, and the server is not asked for every letter.
    let asked = RwSignal::new(0u32);
    let look = move |q: String| {
        let n = asked.get_untracked() + 1;
        asked.set(n);
        if q.trim().is_empty() {
            hits.set(None);
            return;
        }
        set_timeout(
            move || {
                if asked.get_untracked() != n {
                    return;
                }
                spawn_local(async move {
                    let path = format!("/search?limit={SHOWN}{}", param("q", q.trim()));
                    let found = send_get::<Vec<SearchHit>>(&path).await;
                    if asked.get_untracked() == n {
                        hits.set(Some(found));
                    }
                });
            },
            std::time::Duration::from_millis(PAUSE_MS),
        );
    };
    let open = move |id: &str| {
        ui::go_to(&Route::Household(id.to_string()).href());
        text.set(String::new());
        hits.set(None);
    };
    view! {
        <div class="search" role="search">
            <input
                type="search"
                data-testid="search"
                maxlength=MAX_QUERY
                aria-label=move || tr(lang.get(), "Tìm hộ", "Find a household")
                placeholder=move || tr(lang.get(), "Tìm hộ: mã, tên, số định danh", "Find: code, name, ID number")
                prop:value=text
                on:input=move |ev| {
                    let v = event_target_value(&ev);
                    text.set(v.clone());
                    look(v);
                }
                on:keydown=move |ev| match ev.key().as_str() {
                    "Enter" => {
                        if let Some(first) = hits.get_untracked().and_then(Result::ok).and_then(|h| h.into_iter().next()) {
                            open(&first.household_id);
                        }
                    }
                    "Escape" => hits.set(None),
                    _ => {}
                }
            />
            {move || hits.get().map(|found| {
                let found = match found {
                    Ok(f) => f,
                    Err(e) => {
                        let m = e.message();
                        return view! {
                            <div class="hits" role="alert" data-testid="search-error">
                                <p>{move || m.get(lang.get()).to_string()}</p>
                            </div>
                        }.into_any();
                    }
                };
                if found.is_empty() {
                    return view! {
                        <div class="hits" data-testid="search-none">
                            <p class="meta">{move || tr(lang.get(), "Không tìm thấy hộ nào.", "No household found.")}</p>
                        </div>
                    }.into_any();
                }
                view! {
                    <ul class="hits" data-testid="search-hits">
                        {found.into_iter().map(|h| {
                            let id = h.household_id.clone();
                            view! {
                                <li>
                                    <a href=Route::Household(h.household_id.clone()).href() data-testid="search-hit"
                                        on:click=move |ev| { ev.prevent_default(); open(&id); }>
                                        <b>{h.code}</b> " · " {h.head_name} " · " {say(h.status.label())}
                                        {h.matched.map(|m| view! { <br/><span class="meta">{say(m)}</span> })}
                                    </a>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any()
            })}
        </div>
    }
}
