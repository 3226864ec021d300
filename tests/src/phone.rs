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

/// What one of the main field tasks took: taps on controls (a field typed into counts as
/// the tap that focuses it) and wall time from the first tap to "saved on this phone".
#[derive(Debug, Clone, Copy)]
pub struct Task {
    pub taps: u64,
    pub ms: u128,
}

/// Counts the clicks the page receives from now on (hash navigation keeps the counter).
async fn start_counting(c: &fantoccini::Client) -> std::time::Instant {
    c.execute(
        "window.__taps = 0;
         if (!window.__counting) {
           window.__counting = true;
           document.addEventListener('click', () => { window.__taps += 1; }, true);
         }
         return true;",
        vec![],
    )
    .await
    .unwrap();
    std::time::Instant::now()
}

async fn finish(c: &fantoccini::Client, started: std::time::Instant, fields: u64) -> Task {
    c.wait()
        .for_element(Locator::Css("[data-testid=notice]"))
        .await
        .expect("the task ends with \"saved on this phone\"");
    let ms = started.elapsed().as_millis();
    let clicks = c
        .execute("return window.__taps", vec![])
        .await
        .unwrap()
        .as_u64()
        .unwrap_or(0);
    // The notice of this task is gone before the next task starts.
    wait_js(c, "return !document.querySelector('[data-testid=notice]')").await;
    Task {
        taps: clicks + fields,
        ms,
    }
}

/// Taps the household row whose text holds `code`.
async fn open_household(c: &fantoccini::Client, code: &str) {
    for row in c
        .find_all(Locator::Css("[data-testid=household-row]"))
        .await
        .unwrap()
    {
        if row.text().await.unwrap().contains(code) {
            row.click().await.unwrap();
            return;
        }
    }
    panic!("no household {code} in the list");
}

/// A cadre logs a visit on the household their list puts first (the overdue one), from
/// the list: the household, "log a visit", a one-tap topic, save.
pub async fn log_a_visit(c: &fantoccini::Client) -> Task {
    c.goto(&format!("{}#/", base(c).await)).await.unwrap();
    wait_js(c, "return document.querySelectorAll('[data-testid=household-row]').length > 0 && document.querySelector('.household.overdue') !== null").await;
    let t = start_counting(c).await;
    c.find(Locator::Css("li.household.overdue a"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    click(c, "log-visit").await;
    click(c, "topic-0").await;
    click(c, "save-visit").await;
    finish(c, t, 0).await
}

/// A village head records a review of the household `code` from the list: its income and
/// three deprivations.
pub async fn record_a_review(c: &fantoccini::Client, code: &str) -> Task {
    c.goto(&format!("{}#/", base(c).await)).await.unwrap();
    wait_js(
        c,
        "return document.querySelectorAll('[data-testid=household-row]').length > 0",
    )
    .await;
    let t = start_counting(c).await;
    open_household(c, code).await;
    click(c, "review").await;
    fill(c, "income", "1.200.000").await;
    for i in ["health_insurance", "floor_area", "water_source"] {
        click(c, &format!("indicator-{i}")).await;
    }
    click(c, "save-review").await;
    finish(c, t, 1).await
}

/// A village head registers a household and its first member, from the list.
pub async fn register_with_a_member(c: &fantoccini::Client, code: &str) -> Task {
    c.goto(&format!("{}#/", base(c).await)).await.unwrap();
    let t = start_counting(c).await;
    click(c, "new-household").await;
    fill(c, "head-name-input", "Lý Văn Sơn").await;
    fill(c, "code-input", code).await;
    click(c, "save-household").await;
    wait_js(
        c,
        "return !document.querySelector('[data-testid=household-form]')",
    )
    .await;
    click(c, "add-member").await;
    fill(c, "full_name", "Lý Thị Hoa").await;
    fill(c, "birth_year", "1990").await;
    fill(c, "relation", "Vợ").await;
    click(c, "save-member").await;
    // Two saves: wait for the member on the household screen.
    c.wait()
        .for_element(Locator::Css("[data-testid=member]"))
        .await
        .unwrap();
    finish(c, t, 5).await
}

/// The page's origin with a trailing slash.
async fn base(c: &fantoccini::Client) -> String {
    let u = c.current_url().await.unwrap();
    format!("{}/", u.origin().ascii_serialization())
}

/// Every record of every IndexedDB database of the page, Cache Storage and localStorage,
/// as one text (bytes read as UTF-8): what someone with the browser's profile could read.
pub async fn everything_stored(c: &fantoccini::Client) -> String {
    let v = c
        .execute_async(
            r#"const done = arguments[0];
            const text = (v) => {
              if (v instanceof Uint8Array || v instanceof ArrayBuffer)
                return new TextDecoder('utf-8', { fatal: false }).decode(v);
              if (Array.isArray(v)) return v.map(text).join(' ');
              if (v && typeof v === 'object') return Object.keys(v).map(k => k + ' ' + text(v[k])).join(' ');
              return String(v);
            };
            (async () => {
              let out = [];
              for (const info of await indexedDB.databases()) {
                const db = await new Promise((ok, no) => {
                  const r = indexedDB.open(info.name);
                  r.onsuccess = () => ok(r.result);
                  r.onerror = () => no(r.error);
                });
                for (const name of db.objectStoreNames) {
                  const all = await new Promise((ok) => {
                    const r = db.transaction(name).objectStore(name).getAll();
                    r.onsuccess = () => ok(r.result);
                  });
                  out.push(info.name + '/' + name + ': ' + all.map(text).join('\n'));
                }
                db.close();
              }
              for (const key of await caches.keys()) {
                const cache = await caches.open(key);
                for (const req of await cache.keys()) {
                  const body = await (await cache.match(req)).arrayBuffer();
                  out.push('cache ' + req.url + ': ' + text(new Uint8Array(body)));
                }
              }
              for (let i = 0; i < localStorage.length; i++) {
                const k = localStorage.key(i);
                out.push('localStorage ' + k + ': ' + localStorage.getItem(k));
              }
              done(out.join('\n'));
            })().catch(e => done('ERROR ' + e));"#,
            vec![],
        )
        .await
        .unwrap();
    let s = v.as_str().unwrap().to_string();
    assert!(!s.starts_with("ERROR"), "{s}");
    s
}

/// Names of the page's IndexedDB databases.
pub async fn databases(c: &fantoccini::Client) -> Vec<String> {
    let v = c
        .execute_async(
            "const done = arguments[0];
             indexedDB.databases().then(dbs => done(dbs.map(d => d.name)));",
            vec![],
        )
        .await
        .unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap().to_string())
        .collect()
}

/// Types `password` at the lock screen and waits for the field screens.
pub async fn unlock(c: &fantoccini::Client, password: &str) {
    fill(c, "lock-password", password).await;
    click(c, "lock-submit").await;
    text(c, "sync-line").await;
}

/// Types a wrong password at the lock screen; what the screen says then (its error and
/// warning, or the notice above the sign-in form once the phone erased its data).
pub async fn wrong_password(c: &fantoccini::Client, password: &str) -> String {
    fill(c, "lock-password", password).await;
    click(c, "lock-submit").await;
    // A try ends by emptying the field (or leaving the lock screen).
    wait_js(
        c,
        "const f = document.querySelector('[data-testid=lock-password]'); \
         const b = document.querySelector('[data-testid=lock-submit]'); \
         return !f || (f.value === '' && !b.disabled)",
    )
    .await;
    let said = c
        .execute(
            "return ['lock-error', 'lock-warning', 'farewell'] \
               .map(t => document.querySelector(`[data-testid=${t}]`)) \
               .filter(e => e).map(e => e.innerText).join(' | ')",
            vec![],
        )
        .await
        .unwrap();
    said.as_str().unwrap_or_default().to_string()
}
