//! What a person does on the field app in the browser tests, by the `data-testid` of what
//! they tap: sign in, wait for the sync, tap, type, read; shared by the field app's suites.

use crate::chromium::{submit_sign_in, wait_js};
use crate::fixture;
use fantoccini::Locator;

/// Signs in with the fixture's password and waits for the field screens.
pub async fn sign_in(c: &fantoccini::Client, username: &str) {
    submit_sign_in(c, username, fixture::PASSWORD).await;
    text(c, "sync-line").await;
}

/// Waits until the phone has synced and holds `n` households with nothing unsent.
pub async fn synced_with(c: &fantoccini::Client, n: usize) {
    c.wait()
        .for_element(Locator::Css("[data-testid=last-sync]:not(:empty)"))
        .await
        .expect("a first sync completes");
    wait_js(c, &format!("return document.querySelectorAll('[data-testid=household-row]').length === {n} && document.querySelector('[data-testid=pending]').dataset.pending === '0'")).await;
}

/// Scrolls the element to the middle of the screen, as a person would, and taps it.
pub async fn click(c: &fantoccini::Client, testid: &str) {
    let e = c
        .wait()
        .for_element(Locator::Css(&format!("[data-testid={testid}]")))
        .await
        .unwrap_or_else(|e| panic!("{testid}: {e}"));
    let arg = serde_json::to_value(&e).unwrap();
    c.execute("arguments[0].scrollIntoView({block: 'center'})", vec![arg])
        .await
        .unwrap();
    e.click().await.unwrap();
}

pub async fn text(c: &fantoccini::Client, testid: &str) -> String {
    match c
        .wait()
        .for_element(Locator::Css(&format!("[data-testid={testid}]")))
        .await
    {
        Ok(e) => e.text().await.unwrap(),
        Err(e) => {
            let page = c
                .execute(
                    "return location.href + '\\n' + document.body.innerText",
                    vec![],
                )
                .await
                .unwrap_or_default();
            panic!("{testid}: {e}; the page shows: {page}")
        }
    }
}

pub async fn fill(c: &fantoccini::Client, testid: &str, value: &str) {
    let e = c
        .wait()
        .for_element(Locator::Css(&format!("[data-testid={testid}]")))
        .await
        .unwrap();
    e.clear().await.unwrap();
    e.send_keys(value).await.unwrap();
}

/// The pending count the sync line shows.
pub async fn pending(c: &fantoccini::Client) -> String {
    c.find(Locator::Css("[data-testid=pending]"))
        .await
        .unwrap()
        .attr("data-pending")
        .await
        .unwrap()
        .unwrap_or_default()
}
