//! The sync engine and the phone's working copy: the shared sync core's `Device` holding
//! every household document in memory, kept durable in the local store, and synced with
//! the server on start, on reconnect, every few minutes and when the person asks.
//!
//! A person's edit changes one document and is written to IndexedDB in one transaction
//! before the screen says it is saved. A sync answer is written in one transaction before
//! the next request goes out, so a cut connection or a closed tab loses nothing: the next
//! sync repeats at most what was not yet confirmed. Network waits never hold the document
//! borrow, so the person keeps working while a sync runs.

use crate::api::{self, ClientError};
use crate::local::{LocalError, LocalStore, Meta, StoredDoc};
use crate::session;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shared::Text;
use shared::api::{RefreshRequest, TokenPair};
use shared::assignment::AccompanimentPage;
use shared::doc::{Author, DocError, HouseholdDoc, Overridden};
use shared::projection::{Records, project};
use shared::summary::{Accompaniments, Summary};
use shared::sync::{Device, DocUpdate, Refused, SyncResponse};
use shared::user::User;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

/// What the screens show about the local copy and its sync; all signals, so the screens
/// follow them without asking.
#[derive(Clone, Copy)]
pub struct Status {
    pub rows: RwSignal<Vec<Summary>>,
    /// Households with changes the server has not confirmed.
    pub pending: RwSignal<usize>,
    pub syncing: RwSignal<bool>,
    /// Households received so far in the running sync.
    pub received: RwSignal<usize>,
    pub last_ok_ms: RwSignal<Option<f64>>,
    /// Why the last sync did not finish, in words.
    pub error: RwSignal<Option<Text>>,
    /// The session can no longer be renewed: the person must sign in again.
    pub signed_out: RwSignal<Option<Text>>,
    /// The commune reported this phone lost: the person's data is to be erased now.
    pub erase: RwSignal<bool>,
    pub overridden: RwSignal<Vec<(String, Overridden)>>,
    pub refused: RwSignal<Vec<Refused>>,
    /// Bumped whenever a document changes, so open screens read it again.
    pub revision: RwSignal<u64>,
    /// Who accompanies each household and how often, as the server said at the last
    /// sync (kept on the phone, so "overdue" holds offline too).
    pub accompaniments: RwSignal<Accompaniments>,
    /// Whether the phone says it has a network (`navigator.onLine` and its events).
    pub online: RwSignal<bool>,
    /// When the next automatic attempt runs after a failed sync (ms since the epoch).
    pub retry_at_ms: RwSignal<Option<f64>>,
    /// A short confirmation ("saved on this phone"), shown for a few seconds.
    pub notice: RwSignal<Option<Text>>,
}

impl Status {
    pub fn new() -> Self {
        Status {
            rows: RwSignal::new(vec![]),
            pending: RwSignal::new(0),
            syncing: RwSignal::new(false),
            received: RwSignal::new(0),
            last_ok_ms: RwSignal::new(None),
            error: RwSignal::new(None),
            signed_out: RwSignal::new(None),
            erase: RwSignal::new(false),
            overridden: RwSignal::new(vec![]),
            refused: RwSignal::new(vec![]),
            revision: RwSignal::new(0),
            accompaniments: RwSignal::new(Accompaniments::new()),
            online: RwSignal::new(web_sys::window().is_none_or(|w| w.navigator().on_line())),
            retry_at_ms: RwSignal::new(None),
            notice: RwSignal::new(None),
        }
    }
}

pub struct Engine {
    pub user: User,
    pub device_id: String,
    actor: Vec<u8>,
    store: RefCell<Option<Rc<LocalStore>>>,
    /// The documents; those with nothing unsent stay encoded until first read, so neither
    /// opening the app nor a fresh pull waits for decoding, and a phone holds in memory
    /// only the households it shows.
    device: RefCell<Device>,
    last_sync_ms: Cell<Option<f64>>,
    running: Cell<bool>,
    /// Time the running sync spent merging answers and writing them to IndexedDB.
    apply_ms: Cell<f64>,
    /// The part of `apply_ms` spent merging (automerge), the rest is storing.
    merge_ms: Cell<f64>,
    /// Failed syncs in a row that are worth retrying (no network, an unreadable answer).
    failures: Cell<u32>,
    /// Whether the last failure was of that kind.
    transient: Cell<bool>,
    /// The scheduled retry, replaced by each new one.
    retry: RefCell<Option<TimeoutHandle>>,
    /// What syncs this working copy by itself (`start_syncing`).
    triggers: RefCell<Option<Triggers>>,
    /// The frame that opened it, so closing that frame closes this copy and no later one.
    opened_by: u64,
    pub status: Status,
}

thread_local! {
    /// The open working copy. Held here rather than in a Leptos context because it is
    /// created inside a lazily loaded chunk (`later::open_engine`), after the first screen.
    static CURRENT: RefCell<Option<Rc<Engine>>> = const { RefCell::new(None) };
}

/// The open working copy, if any.
pub fn current() -> Option<Rc<Engine>> {
    CURRENT.with(|c| c.borrow().clone())
}

/// The working copy, for the screens that open once it is (`later::screen`).
pub fn use_engine() -> Rc<Engine> {
    current().expect("these screens are drawn only once the working copy is open")
}

/// Replaces the open working copy (`None`: none is open). The one replaced stops syncing
/// and closes its store at once, so that deleting a store (signing out) is not blocked
/// by a connection a previous working copy left open.
pub fn set_current(engine: Option<Rc<Engine>>) {
    let old = CURRENT.with(|c| std::mem::replace(&mut *c.borrow_mut(), engine));
    if let Some(old) = old {
        old.close();
    }
}

/// Minutes between background syncs while the app is open.
const SYNC_EVERY_MINUTES: u64 = 5;

/// Sync now, when the network comes back (then with back-off retries if the radio is
/// still settling, see `Engine::sync`), and every few minutes; the network state follows
/// the phone's. The triggers hold the working copy weakly and are removed when it is
/// dropped (signed out), so a later person's working copy has only its own.
pub fn start_syncing(engine: Rc<Engine>) {
    spawn_local(engine.clone().sync());
    let on_line = Rc::downgrade(&engine);
    let every = on_line.clone();
    let status = engine.status;
    let online = window_event_listener(leptos::ev::online, move |_| {
        if let Some(e) = on_line.upgrade() {
            e.status.online.set(true);
            spawn_local(e.sync());
        }
    });
    let offline = window_event_listener(leptos::ev::offline, move |_| {
        status.online.try_set(false);
    });
    let timer = set_interval_with_handle(
        move || {
            if let Some(e) = every.upgrade() {
                spawn_local(e.sync());
            }
        },
        std::time::Duration::from_secs(SYNC_EVERY_MINUTES * 60),
    )
    .ok();
    *engine.triggers.borrow_mut() = Some(Triggers {
        online,
        offline,
        timer,
    });
}

/// The listeners and the timer that sync a working copy.
struct Triggers {
    online: WindowListenerHandle,
    offline: WindowListenerHandle,
    timer: Option<IntervalHandle>,
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.close();
    }
}

/// Seconds before the `n`th retry in a row: 2, 4, 8, 16, then every 30 — a phone back in
/// coverage sends within seconds, a phone out of it costs one failed request a half minute.
pub fn backoff_secs(n: u32) -> u64 {
    (1u64 << n.clamp(1, 5)).min(30)
}

/// Households of a sync answer merged between two looks at the screen.
const APPLY_BATCH: usize = 50;

/// Lets the browser draw and handle taps before the work goes on.
async fn yield_now() {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback(&resolve);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

fn new_actor() -> Vec<u8> {
    let mut bytes = vec![0u8; 16];
    if let Some(c) = web_sys::window().and_then(|w| w.crypto().ok()) {
        let _ = c.get_random_values_with_u8_array(&mut bytes);
    }
    bytes
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn doc_error(e: DocError) -> Text {
    Text::new(
        format!("Dữ liệu hộ không hợp lệ: {e}"),
        format!("The household data is not valid: {e}"),
    )
}

/// The household's records, as the list and the detail screens read them.
pub fn records_of(id: &str, doc: &HouseholdDoc) -> Option<Records> {
    project(id, &doc.to_json(), "").ok()
}

impl Engine {
    /// Rebuilds the working copy from what the first screen read from the local store
    /// (`app::read_phone`, which already showed the list rows).
    pub fn start(
        user: User,
        device_id: String,
        status: Status,
        store: LocalStore,
        meta: Option<Meta>,
        stored: Vec<StoredDoc>,
        opened_by: u64,
    ) -> Rc<Engine> {
        let actor = meta
            .as_ref()
            .and_then(|m| unhex(&m.actor))
            .filter(|a| a.len() == 16)
            .unwrap_or_else(new_actor);
        let saved = meta.as_ref().map(|m| m.device.clone()).unwrap_or_default();
        let last = meta.as_ref().and_then(|m| m.last_sync_ms);
        let mut device = Device::restore(&actor, saved);
        for d in stored {
            if !d.pending {
                device.restore_packed(&d.id, d.bytes, &d.synced);
            } else if let Ok(doc) =
                HouseholdDoc::load(&actor, &d.bytes, &author_of(&user, &device_id))
            {
                // Unsent changes must be decoded to be sent; a document that no longer
                // decodes is left out rather than stopping the app.
                device.restore_doc(&d.id, doc, &d.synced);
            }
        }
        status.refused.set(device.refused.clone());
        let engine = Rc::new(Engine {
            user,
            device_id,
            actor,
            store: RefCell::new(Some(Rc::new(store))),
            device: RefCell::new(device),
            last_sync_ms: Cell::new(last),
            running: Cell::new(false),
            apply_ms: Cell::new(0.0),
            merge_ms: Cell::new(0.0),
            failures: Cell::new(0),
            transient: Cell::new(false),
            retry: RefCell::new(None),
            triggers: RefCell::new(None),
            opened_by,
            status,
        });
        engine.show_overridden();
        engine
    }

    pub fn author(&self) -> Author {
        author_of(&self.user, &self.device_id)
    }

    /// A household's records from the working copy (decoded on first read).
    pub fn household(&self, id: &str) -> Option<Records> {
        records_of(id, self.device.borrow_mut().doc(id)?)
    }

    /// The fields of a household where a value this phone wrote meets another device's
    /// value written at the same time: the commune decides them, and until it does the
    /// household says so (whichever value the document shows meanwhile).
    pub fn waiting_decisions(&self, id: &str) -> Vec<shared::doc::FieldConflict> {
        let mut device = self.device.borrow_mut();
        let Some(doc) = device.doc_mut(id) else {
            return vec![];
        };
        doc.conflicts()
            .unwrap_or_default()
            .into_iter()
            .filter(|c| {
                c.values
                    .iter()
                    .any(|v| v.device_id.as_deref() == Some(self.device_id.as_str()))
            })
            .collect()
    }

    /// Shows the values of this phone that a commune decision replaced. Only decoded
    /// documents tell the details, so the documents whose list row names this device are
    /// decoded (a handful); the rest stay encoded until read.
    fn show_overridden(&self) {
        let mine: Vec<String> = self.status.rows.with_untracked(|rows| {
            rows.iter()
                .filter(|r| r.overridden_devices.contains(&self.device_id))
                .map(|r| r.id.clone())
                .collect()
        });
        let mut device = self.device.borrow_mut();
        for id in &mine {
            device.doc(id);
        }
        self.status
            .overridden
            .set(device.overridden(&self.device_id));
    }

    fn meta(&self) -> Meta {
        Meta {
            actor: hex(&self.actor),
            device: self.device.borrow().saved(),
            last_sync_ms: self.last_sync_ms.get(),
        }
    }

    /// What the store keeps of a document. A document still encoded is stored as its
    /// bytes, with `summary` when the server sent it, which spares decoding it.
    fn stored(&self, id: &str, summary: Option<&Summary>) -> Option<StoredDoc> {
        let mut device = self.device.borrow_mut();
        let synced = device.synced(id)?;
        let pending = device.is_pending(id);
        let packed = device.packed(id).map(<[u8]>::to_vec);
        let (bytes, summary) = match (packed, summary) {
            (Some(bytes), Some(summary)) => (bytes, Some(summary.clone())),
            (packed, _) => {
                let doc = device.doc_mut(id)?;
                let summary = Summary::of_doc(id, doc);
                (packed.unwrap_or_else(|| doc.save()), summary)
            }
        };
        Some(StoredDoc {
            id: id.to_string(),
            bytes,
            synced,
            summary,
            pending,
        })
    }

    async fn persist(&self, ids: &[String], removed: &[String]) -> Result<(), LocalError> {
        self.persist_with(ids, removed, &BTreeMap::new()).await
    }

    async fn persist_with(
        &self,
        ids: &[String],
        removed: &[String],
        summaries: &BTreeMap<&str, &Summary>,
    ) -> Result<(), LocalError> {
        let docs: Vec<StoredDoc> = ids
            .iter()
            .filter_map(|id| self.stored(id, summaries.get(id.as_str()).copied()))
            .collect();
        let meta = self.meta();
        let store = self.store.borrow().clone().ok_or_else(LocalError::closed)?;
        let result = store.write(&docs, removed, &meta).await;
        self.refresh_status(&docs, removed);
        result
    }

    fn refresh_status(&self, docs: &[StoredDoc], removed: &[String]) {
        let changed: BTreeSet<&str> = docs.iter().map(|d| d.id.as_str()).collect();
        let gone: BTreeSet<&str> = removed.iter().map(String::as_str).collect();
        self.status.rows.update(|rows| {
            rows.retain(|r| !changed.contains(r.id.as_str()) && !gone.contains(r.id.as_str()));
            rows.extend(docs.iter().filter_map(|d| d.summary.clone()));
        });
        let mut device = self.device.borrow_mut();
        self.status.pending.set(device.pending());
        self.status.refused.set(device.refused.clone());
        drop(device);
        self.show_overridden();
        self.status.revision.update(|r| *r += 1);
    }

    /// One person's action on one household: applied, then written to the phone in one
    /// transaction. `Ok` means it is durable.
    pub async fn edit(
        &self,
        id: &str,
        change: impl FnOnce(&mut HouseholdDoc, &Author) -> Result<(), DocError>,
    ) -> Result<(), Text> {
        {
            let mut device = self.device.borrow_mut();
            let doc = device.doc_mut(id).ok_or_else(|| {
                Text::new(
                    "Hộ này không còn trên máy.",
                    "This household is no longer on this phone.",
                )
            })?;
            change(doc, &self.author()).map_err(doc_error)?;
        }
        self.persist(&[id.to_string()], &[])
            .await
            .map_err(|e| e.message())
    }

    /// A household registered on this phone, written as one change.
    pub async fn register(
        &self,
        id: &str,
        input: &shared::household::HouseholdInput,
        status: shared::household::HouseholdStatus,
    ) -> Result<(), Text> {
        let author = self.author();
        let created = chrono::DateTime::from_timestamp_millis(author.at_ms)
            .unwrap_or_default()
            .to_rfc3339();
        let profile = new_profile(input, status, &created);
        let mut doc = HouseholdDoc::new(&self.actor, id, &author);
        doc.put_all(&profile, std::iter::empty(), &author)
            .map_err(doc_error)?;
        self.device.borrow_mut().create(id, doc);
        self.persist(&[id.to_string()], &[])
            .await
            .map_err(|e| e.message())
    }

    /// Syncs until the server has nothing more; a second call while one runs does nothing.
    pub async fn sync(self: Rc<Self>) {
        if self.running.replace(true) {
            return;
        }
        self.status.syncing.set(true);
        self.status.received.set(0);
        let started = now_ms();
        self.apply_ms.set(0.0);
        self.merge_ms.set(0.0);
        let result = self.sync_pages().await;
        report_sync(
            now_ms() - started,
            self.apply_ms.get(),
            self.merge_ms.get(),
            self.status.received.get_untracked(),
        );
        if let Some(retry) = self.retry.take() {
            retry.clear();
        }
        self.status.retry_at_ms.set(None);
        match result {
            Ok(()) => {
                let now = now_ms();
                self.failures.set(0);
                self.last_sync_ms.set(Some(now));
                self.status.last_ok_ms.set(Some(now));
                self.status.error.set(None);
                // The time of this sync is kept with the state.
                let _ = self.persist(&[], &[]).await;
                self.fetch_accompaniments().await;
                // A name the person gave this phone offline reaches the server now.
                let _ = ui::device::send().await;
            }
            Err(e) => {
                self.status.error.set(Some(e));
                if self.transient.get() {
                    self.retry_later();
                }
            }
        }
        self.status.syncing.set(false);
        self.running.set(false);
    }

    /// Schedules the next attempt after a failure worth retrying, sooner than the
    /// background timer: the network may be back in seconds.
    fn retry_later(self: &Rc<Self>) {
        let n = self.failures.get() + 1;
        self.failures.set(n);
        let secs = backoff_secs(n);
        let engine = self.clone();
        let handle = set_timeout_with_handle(
            move || spawn_local(engine.sync()),
            std::time::Duration::from_secs(secs),
        )
        .ok();
        *self.retry.borrow_mut() = handle;
        self.status
            .retry_at_ms
            .set(Some(now_ms() + secs as f64 * 1000.0));
    }

    async fn sync_pages(&self) -> Result<(), Text> {
        self.transient.set(false);
        // A bound on round trips guards against a server that always says "more".
        for _ in 0..50 {
            let request = self.request();
            let response = self.send(&request).await?;
            let applying = now_ms();
            let before: BTreeSet<String> = self.device.borrow().doc_ids().cloned().collect();
            self.receive_in_slices(&response).await?;
            self.merge_ms.set(self.merge_ms.get() + now_ms() - applying);
            let after: BTreeSet<String> = self.device.borrow().doc_ids().cloned().collect();
            let mut touched: BTreeSet<String> =
                response.docs.iter().map(|d| d.doc_id.clone()).collect();
            touched.extend(response.acks.iter().map(|a| a.doc_id.clone()));
            let touched: Vec<String> = touched
                .into_iter()
                .filter(|id| after.contains(id))
                .collect();
            let removed: Vec<String> = before.difference(&after).cloned().collect();
            let summaries: BTreeMap<&str, &Summary> = response
                .docs
                .iter()
                .filter_map(|u| Some((u.doc_id.as_str(), u.summary.as_ref()?)))
                .collect();
            self.persist_with(&touched, &removed, &summaries)
                .await
                .map_err(|e| e.message())?;
            self.apply_ms.set(self.apply_ms.get() + now_ms() - applying);
            self.status.received.update(|n| *n += response.docs.len());
            let next = self.request();
            if !response.more && next.pushes.is_empty() && next.want.is_empty() {
                return Ok(());
            }
        }
        Ok(())
    }

    /// The next sync request, with the count of households holding unsent changes (the
    /// console shows it beside this device).
    fn request(&self) -> shared::sync::SyncRequest {
        let mut device = self.device.borrow_mut();
        let mut request = device.request();
        request.unsent = Some(u32::try_from(device.pending()).unwrap_or(u32::MAX));
        request
    }

    /// Takes in an answer a slice of households at a time, letting the screen work between
    /// slices; the acknowledgements, refusals, scope and cursor come with the last slice, so
    /// a tab closed halfway repeats the page rather than skipping it.
    async fn receive_in_slices(&self, response: &SyncResponse) -> Result<(), Text> {
        let refused: BTreeSet<&str> = response.refused.iter().map(|r| r.doc_id.as_str()).collect();
        let (plain, last): (Vec<&DocUpdate>, Vec<&DocUpdate>) = response
            .docs
            .iter()
            .partition(|d| !refused.contains(d.doc_id.as_str()));
        let cursor = self.device.borrow().cursor();
        let chunks: Vec<&[&DocUpdate]> = plain.chunks(APPLY_BATCH).collect();
        let (head, tail) = chunks.split_at(chunks.len().saturating_sub(1));
        for chunk in head {
            let part = SyncResponse {
                protocol: response.protocol,
                cursor,
                docs: chunk.iter().map(|d| (*d).clone()).collect(),
                acks: vec![],
                refused: vec![],
                scope: None,
                more: true,
                resume: response.resume,
            };
            self.device.borrow_mut().receive(&part).map_err(doc_error)?;
            yield_now().await;
        }
        let mut rest: Vec<DocUpdate> = tail
            .iter()
            .flat_map(|c| c.iter().map(|d| (*d).clone()))
            .collect();
        rest.extend(last.into_iter().cloned());
        let final_part = SyncResponse {
            docs: rest,
            ..response.clone()
        };
        self.device
            .borrow_mut()
            .receive(&final_part)
            .map_err(doc_error)
    }

    /// Who accompanies the phone's households, after a sync; kept on the phone. A failure
    /// keeps the copy of the last sync (the next sync asks again).
    async fn fetch_accompaniments(&self) {
        let page: Result<AccompanimentPage, _> = ui::api::authed(
            ui::api::Method::Get,
            "/accompaniment?limit=2000",
            None::<&()>,
        )
        .await;
        if let Ok(page) = page {
            let map: Accompaniments = page
                .rows
                .into_iter()
                .filter(|r| !r.accompaniment.cadres.is_empty())
                .map(|r| (r.household_id, r.accompaniment))
                .collect();
            let store = self.store.borrow().clone();
            if let Some(store) = store {
                // Not kept: the next sync asks again.
                let _ = store.save_accompaniments(&map).await;
            }
            self.status.accompaniments.set(map);
        }
    }

    /// Sends one request, renewing the access token once if it has expired.
    async fn send(
        &self,
        request: &shared::sync::SyncRequest,
    ) -> Result<shared::sync::SyncResponse, Text> {
        let pair = session::load().ok_or_else(signed_out_text)?;
        match api::sync(&pair.access_token, request).await {
            Err(ClientError::Unauthorized(_)) => {
                let pair = self.renew(&pair).await?;
                api::sync(&pair.access_token, request)
                    .await
                    .map_err(|e| self.explain(e))
            }
            other => other.map_err(|e| self.explain(e)),
        }
    }

    async fn renew(&self, pair: &TokenPair) -> Result<TokenPair, Text> {
        let req = RefreshRequest {
            refresh_token: pair.refresh_token.clone(),
            device_id: self.device_id.clone(),
        };
        match api::refresh(&req).await {
            Ok(next) => {
                session::save(&next);
                Ok(next)
            }
            Err(ClientError::Refused(body)) | Err(ClientError::Unauthorized(body)) => {
                // Unsent changes stay in this user's store until they sign in again.
                self.ended(&body);
                Err(body.message)
            }
            Err(e) => Err(self.explain(e)),
        }
    }

    /// The server ended this phone's session: the person signs in again, or, for a phone
    /// reported lost, the data is erased (`app::Screens`).
    fn ended(&self, body: &shared::api::ErrorBody) {
        if body.code == shared::api::DEVICE_ERASE_CODE {
            self.status.erase.set(true);
        } else {
            self.status.signed_out.set(Some(body.message.clone()));
        }
    }

    fn explain(&self, e: ClientError) -> Text {
        self.transient.set(matches!(
            e,
            ClientError::Network(_) | ClientError::Unreadable(_)
        ));
        match e {
            ClientError::Network(_) => Text::new(
                "Chưa kết nối được máy chủ. Dữ liệu vẫn được lưu trên máy và sẽ gửi khi có sóng.",
                "Cannot reach the server. Everything stays saved on this phone and is sent when there is signal.",
            ),
            ClientError::Unauthorized(body) => {
                self.ended(&body);
                body.message
            }
            other => other.message(),
        }
    }

    /// Closes and deletes this user's local store (after the person confirmed).
    pub async fn wipe(&self) -> Result<(), Text> {
        let store = self.store.borrow_mut().take();
        match store.map(Rc::try_unwrap) {
            Some(Ok(s)) => s.wipe(&self.user.id).await.map_err(|e| e.message()),
            Some(Err(busy)) => {
                *self.store.borrow_mut() = Some(busy);
                Err(Text::new(
                    "Máy đang ghi dữ liệu, hãy thử lại sau giây lát.",
                    "The phone is still saving; try again in a moment.",
                ))
            }
            None => Ok(()),
        }
    }

    /// Stops syncing and closes the store (unless a write still holds it, which then
    /// fails as closed). Nothing unsaved is lost: every edit is written before "saved".
    pub fn close(&self) {
        if let Some(t) = self.triggers.borrow_mut().take() {
            t.online.remove();
            t.offline.remove();
            if let Some(timer) = t.timer {
                timer.clear();
            }
        }
        if let Some(retry) = self.retry.borrow_mut().take() {
            retry.clear();
        }
        let store = self.store.borrow_mut().take();
        if let Some(store) = store.and_then(|s| Rc::try_unwrap(s).ok()) {
            store.close();
        }
    }

    /// Which `Working` frame opened this working copy (`app::Working`).
    pub fn opened_by(&self) -> u64 {
        self.opened_by
    }

    /// Households on the phone, for the storage line of the sync screen.
    pub fn household_count(&self) -> usize {
        self.device.borrow().doc_ids().count()
    }
}

/// The last sync's timings on `window.donghanhLastSync`, read by the app benchmark
/// (`cargo xtask bench app`) and handy in the browser console.
fn report_sync(total_ms: f64, apply_ms: f64, merge_ms: f64, docs: usize) {
    report(
        "donghanhLastSync",
        &[
            ("totalMs", total_ms),
            ("applyMs", apply_ms),
            ("mergeMs", merge_ms),
            ("docs", docs as f64),
        ],
    );
}

/// Sets `window[name]` to an object of figures.
pub fn report(name: &str, figures: &[(&str, f64)]) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let o = js_sys::Object::new();
    for (k, v) in figures {
        let _ = js_sys::Reflect::set(&o, &(*k).into(), &(*v).into());
    }
    let _ = js_sys::Reflect::set(&window, &name.into(), &o);
}

fn author_of(user: &User, device_id: &str) -> Author {
    Author {
        user_id: user.id.clone(),
        device_id: device_id.to_string(),
        at_ms: now_ms() as i64,
        door: None,
    }
}

fn signed_out_text() -> Text {
    Text::new(
        "Bạn chưa đăng nhập. Hãy đăng nhập để đồng bộ; dữ liệu chưa gửi vẫn được giữ.",
        "You are not signed in. Sign in to sync; unsent data is kept.",
    )
}

/// The profile a new household starts with.
fn new_profile(
    input: &shared::household::HouseholdInput,
    status: shared::household::HouseholdStatus,
    created_at: &str,
) -> serde_json::Value {
    let h = shared::household::Household {
        id: String::new(),
        code: input.code.clone(),
        village_id: input.village_id.clone(),
        address: input.address.clone(),
        head_name: input.head_name.clone(),
        residence: input.residence,
        status,
        priority: input.priority,
        causes: input.causes.clone(),
        created_at: created_at.to_string(),
        updated_at: created_at.to_string(),
    };
    shared::projection::profile_json(&h)
}
