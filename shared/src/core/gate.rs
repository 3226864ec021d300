//! The admission gate: what a push of changes to one household must pass before anything
//! of it is stored. Bounded decoding first, then the change's authorship, then the whole
//! resulting document's shape, the role rules on every operation, the fields only the
//! server may derive, and every touched record's validation.

use super::policy::{self, Before, OpKind};
use super::{Limits, Refusal, limits, schema};
use crate::assessment::{Assessment, ReviewKind};
use crate::doc::{Author, Collection, HouseholdDoc, Touched};
use crate::household::HouseholdStatus;
use crate::projection::{Records, project};
use crate::review::{self, Progress, ReviewStep, StepData, decided_status};
use crate::rules::{RuleBook, classify};
use crate::user::Role;
use crate::{Text, Validate, ValidationErrors};
use automerge::legacy::OpType as LegacyOp;
use automerge::{Change, ChangeHash, ObjType, Prop, ROOT, ReadDoc};
use chrono::{DateTime, NaiveDate};
use std::collections::{BTreeMap, BTreeSet};

/// Who pushes: the signed-in session, never what the device declares.
#[derive(Debug, Clone)]
pub struct Writer {
    pub user_id: String,
    pub device_id: String,
    pub role: Role,
    /// The server's clock, milliseconds since the epoch.
    pub now_ms: i64,
    /// A change the server builds for a commune decision (never a device's push).
    pub decision: bool,
    /// The door the server's own changes for this writer come through (named in each
    /// change, for the household's history).
    pub door: crate::doc::Door,
}

impl Writer {
    pub fn author(&self) -> Author {
        Author {
            user_id: self.user_id.clone(),
            device_id: self.device_id.clone(),
            at_ms: self.now_ms,
            door: Some(self.door),
        }
    }

    /// The server itself, writing documents it builds from its own data (never a
    /// device's bytes): a commune decision's rights, so a household's status and reviews
    /// come across as they are.
    pub fn server(now_ms: i64) -> Writer {
        Writer {
            user_id: "server".into(),
            device_id: "server".into(),
            role: Role::CommuneOfficer,
            now_ms,
            decision: true,
            door: crate::doc::Door::Register,
        }
    }

    pub fn today(&self) -> NaiveDate {
        DateTime::from_timestamp_millis(self.now_ms)
            .unwrap_or_default()
            .date_naive()
    }
}

/// How far a change's time may lie ahead of the server's clock (phones' clocks drift).
pub const CLOCK_AHEAD_MS: i64 = 24 * 3600 * 1000;
/// How old a change may be: a phone may stay offline for weeks, not for years.
pub const CLOCK_BEHIND_MS: i64 = 400 * 24 * 3600 * 1000;

/// A push that passed the gate.
#[derive(Debug)]
pub struct Admitted {
    /// The document with the new changes applied.
    pub doc: HouseholdDoc,
    /// The new changes, encoded after the stored heads.
    pub changes: Vec<u8>,
    /// The automerge actors the new changes were made by (to bind to the device).
    pub actors: BTreeSet<String>,
    /// The whole household as the read model keeps it.
    pub records: Records,
    /// Records each new change wrote, by collection (the profile with no ids).
    pub touched: Touched,
    /// The heads of the pushed changes: what the device is acknowledged.
    pub pushed_heads: Vec<ChangeHash>,
    /// The push is one change writing only records new to the document: nothing in them
    /// was written concurrently, so they hold no conflict to look for.
    pub conflict_free: bool,
}

/// What the gate makes of a push.
#[derive(Debug)]
pub enum Admission {
    /// Nothing new: every change is already in the document; acknowledge these heads.
    Repeat(Vec<ChangeHash>),
    /// Built on changes the server does not hold: the device must resend from further back.
    MissingDeps,
    Admitted(Box<Admitted>),
}

fn invalid(e: &ValidationErrors, what: &str) -> Refusal {
    let mut r = Refusal::new(
        "invalid_record",
        e.0.iter()
            .map(|f| format!("{what} {}: {}", f.field, f.message.vi))
            .collect::<Vec<_>>()
            .join("; "),
        e.0.iter()
            .map(|f| format!("{what} {}: {}", f.field, f.message.en))
            .collect::<Vec<_>>()
            .join("; "),
    );
    r.fields = e.0.clone();
    r
}

/// The document as it was before the push: the new document read at the old heads, so
/// the stored document is neither copied nor decoded twice.
struct BeforeDoc<'a> {
    doc: &'a HouseholdDoc,
    /// `None` for a household new to the server.
    heads: Option<&'a [ChangeHash]>,
    /// Answers already read: every operation of a record asks about the same record, and
    /// each read at old heads walks the document's history again.
    seen: std::cell::RefCell<BTreeMap<(Collection, String), bool>>,
}

impl<'a> BeforeDoc<'a> {
    fn new(doc: &'a HouseholdDoc, heads: Option<&'a [ChangeHash]>) -> Self {
        BeforeDoc {
            doc,
            heads,
            seen: Default::default(),
        }
    }

    fn read_record(&self, collection: Collection, id: &str) -> bool {
        let Some(heads) = self.heads else {
            return false;
        };
        let am = self.doc.read();
        match am.get_at(ROOT, collection.as_str(), heads) {
            Ok(Some((_, coll))) => am.get_all_at(&coll, id, heads).is_ok_and(|v| !v.is_empty()),
            _ => false,
        }
    }
}

impl Before for BeforeDoc<'_> {
    fn exists(&self) -> bool {
        self.heads.is_some()
    }
    fn has_record(&self, collection: Collection, id: &str) -> bool {
        let key = (collection, id.to_string());
        if let Some(known) = self.seen.borrow().get(&key) {
            return *known;
        }
        let found = self.read_record(collection, id);
        self.seen.borrow_mut().insert(key, found);
        found
    }
}

/// Runs the gate on `bytes` pushed by `writer` for household `id`, whose stored document
/// is `before` (`None` for a household registered on a phone). `before` is taken only when
/// the changes are applied to it: a push refused before that (undecodable, misattributed),
/// one that repeats what the document holds or one built on changes it lacks leaves it
/// in place, unchanged, for the caller to keep.
pub fn admit(
    writer: &Writer,
    id: &str,
    before: &mut Option<HouseholdDoc>,
    bytes: &[u8],
    rules: &RuleBook,
    lim: &Limits,
) -> Result<Admission, Refusal> {
    gate(writer, id, before, bytes, rules, lim, Authors::Bound)
}

/// Whose names a change may carry.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Authors {
    /// The writer's own (every write of a session: a push, a REST edit).
    Bound,
    /// The names and dates recorded in the changes (a household's history brought in
    /// whole by the server).
    AsRecorded,
}

/// Runs the gate on a new household's whole history built by the server itself (the demo
/// commune): every bound, the shape of the whole document, the rules of a commune
/// decision and every record's validation, as for any write; only the changes' authors
/// and dates are taken as recorded, since they are the household's history, not a
/// session's work. `today` is the server's clock. Gives the document and its read model.
pub fn admit_history(
    id: &str,
    bytes: &[u8],
    now_ms: i64,
    rules: &RuleBook,
    lim: &Limits,
) -> Result<Admitted, Refusal> {
    let writer = Writer::server(now_ms);
    match gate(
        &writer,
        id,
        &mut None,
        bytes,
        rules,
        lim,
        Authors::AsRecorded,
    )? {
        Admission::Admitted(a) => Ok(*a),
        _ => Err(malformed("no history")),
    }
}

fn gate(
    writer: &Writer,
    id: &str,
    before: &mut Option<HouseholdDoc>,
    bytes: &[u8],
    rules: &RuleBook,
    lim: &Limits,
    authors: Authors,
) -> Result<Admission, Refusal> {
    let changes = limits::decode_changes(bytes, lim)?;
    let pushed_heads = heads_of(&changes);
    let known = |h: &ChangeHash| before.as_ref().is_some_and(|d| d.has_change(h));
    let new: Vec<Change> = changes.into_iter().filter(|c| !known(&c.hash())).collect();
    if new.is_empty() {
        return Ok(Admission::Repeat(pushed_heads));
    }
    let pushed: BTreeSet<ChangeHash> = new.iter().map(Change::hash).collect();
    if new
        .iter()
        .flat_map(|c| c.deps())
        .any(|d| !pushed.contains(d) && !known(d))
    {
        return Ok(Admission::MissingDeps);
    }
    let mut actors = BTreeSet::new();
    for c in &new {
        if authors == Authors::Bound {
            check_author(writer, c)?;
        }
        actors.insert(c.actor_id().to_hex_string());
    }

    let existed = before.is_some();
    let mut doc = before
        .take()
        .unwrap_or_else(|| HouseholdDoc::empty(&[0; 16]));
    let before_heads = doc.heads();
    // Automerge 0.12 panics on some malformed change sets instead of returning an error
    // (a new actor's first change numbered 2, found by fuzzing): the panic is caught here
    // and the push refused; the document it was applied to is dropped.
    let applied = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        doc.apply_changes(new.clone())
    }));
    match applied {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(malformed(e)),
        Err(_) => return Err(malformed("the changes do not fit together")),
    }
    let ops = op_paths(&new, &doc)?;
    let touched = touched_by(&ops);
    // The stored document passed this check when it was written, so only what the new
    // changes touch is walked again (a new household is walked whole).
    let root_written = ops.iter().any(|(path, _)| path.len() <= 1);
    schema::check(
        doc.read(),
        id,
        lim,
        existed.then_some(&touched),
        root_written,
    )?;
    let before_doc = BeforeDoc::new(&doc, existed.then_some(&before_heads));
    for (path, kind) in &ops {
        policy::may_write(writer.role, writer.decision, path, *kind, &before_doc)?;
    }
    let now = DateTime::from_timestamp_millis(writer.now_ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let records = project(id, &doc.json_of_records(&touched), &now).map_err(|e| {
        Refusal::new(
            "invalid_record",
            format!("Hồ sơ hộ không hợp lệ: {e}"),
            format!("The household record is not valid: {e}"),
        )
    })?;
    let before_facts = Facts::of(&before_doc, &touched);
    check_records(writer, &records, &before_facts, &touched, rules)?;
    // One change cannot write a key twice concurrently unless it names the key twice.
    let mut written = BTreeSet::new();
    let conflict_free = new.len() == 1
        && ops.iter().all(|(path, _)| written.insert(path))
        && !touched.contains_key(&Collection::Profile)
        && touched
            .iter()
            .all(|(c, ids)| ids.iter().all(|id| !before_doc.has_record(*c, id)));
    Ok(Admission::Admitted(Box::new(Admitted {
        pushed_heads,
        // The changes as the device encoded them (plain chunks, checked by the limits):
        // stored as they are, not encoded again.
        changes: new
            .iter()
            .flat_map(|c| c.raw_bytes().iter().copied())
            .collect(),
        doc,
        actors,
        records,
        touched,
        conflict_free,
    })))
}

/// The changes of a push that no other change of it depends on.
fn heads_of(changes: &[Change]) -> Vec<ChangeHash> {
    let deps: BTreeSet<&ChangeHash> = changes.iter().flat_map(|c| c.deps()).collect();
    let mut heads: Vec<ChangeHash> = changes
        .iter()
        .map(Change::hash)
        .filter(|h| !deps.contains(h))
        .collect();
    heads.sort();
    heads
}

/// A change must be signed with the session's user and device, and dated near now.
fn check_author(writer: &Writer, c: &Change) -> Result<(), Refusal> {
    let signed = c
        .message()
        .and_then(|m| serde_json::from_str::<Author>(m).ok());
    if signed.is_none_or(|a| a.user_id != writer.user_id || a.device_id != writer.device_id) {
        return Err(Refusal::new(
            "author",
            "Thay đổi không ghi đúng người dùng và máy đang đăng nhập.",
            "The changes do not name the user and device signed in.",
        ));
    }
    let at_ms = c.timestamp().saturating_mul(1000);
    if at_ms > writer.now_ms + CLOCK_AHEAD_MS || at_ms < writer.now_ms - CLOCK_BEHIND_MS {
        return Err(Refusal::new(
            "clock",
            "Giờ của máy sai quá xa; hãy chỉnh ngày giờ của điện thoại rồi đồng bộ lại.",
            "This device's clock is far off; set the phone's date and time, then sync again.",
        ));
    }
    Ok(())
}

/// Where each operation of the new changes writes, and what it does there.
fn op_paths(new: &[Change], doc: &HouseholdDoc) -> Result<Vec<(Vec<String>, OpKind)>, Refusal> {
    let am = doc.read();
    let mut paths: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut out = Vec::new();
    for change in new {
        let (start, actor) = (change.start_op().get(), change.actor_id().to_string());
        for (i, op) in change.decode().operations.into_iter().enumerate() {
            let obj = op.obj.to_string();
            let mut path = match paths.get(&obj) {
                Some(p) => p.clone(),
                None => {
                    let p = if obj == "_root" {
                        vec![]
                    } else {
                        let exid = am.import_obj(&obj).map_err(malformed)?;
                        am.parents(&exid)
                            .map_err(malformed)?
                            .path()
                            .into_iter()
                            .map(|(_, prop)| match prop {
                                Prop::Map(k) => k,
                                Prop::Seq(_) => "#".to_string(),
                            })
                            .collect()
                    };
                    paths.insert(obj.clone(), p.clone());
                    p
                }
            };
            path.push(match &op.key {
                automerge::legacy::Key::Map(k) => k.to_string(),
                automerge::legacy::Key::Seq(_) => "#".to_string(),
            });
            let kind = match &op.action {
                LegacyOp::Make(ObjType::Map) => OpKind::MakeMap,
                LegacyOp::Make(ObjType::List) => OpKind::MakeList,
                LegacyOp::Make(ObjType::Text) => OpKind::MakeText,
                LegacyOp::Make(_) => OpKind::MakeOther,
                LegacyOp::Put(_) => OpKind::Put,
                LegacyOp::Delete => OpKind::Delete,
                _ => OpKind::Other,
            };
            if let LegacyOp::Make(_) = op.action {
                // The object this op makes is named by the op's id; ops inside it find
                // its path here instead of walking up the document again.
                paths.insert(format!("{}@{actor}", start + i as u64), path.clone());
            }
            out.push((path, kind));
        }
    }
    Ok(out)
}

fn malformed(e: impl std::fmt::Display) -> Refusal {
    Refusal::new(
        "malformed",
        format!("Dữ liệu đồng bộ không đọc được ({e})."),
        format!("The sync data could not be read ({e})."),
    )
}

/// The records the operations write, by collection (the profile with no ids). A key that
/// is no collection is left out: the schema refuses it.
fn touched_by(ops: &[(Vec<String>, OpKind)]) -> Touched {
    let mut touched = Touched::new();
    for (path, _) in ops {
        let Some((head, rest)) = path.split_first() else {
            continue;
        };
        match (Collection::parse(head), rest) {
            (Some(Collection::Profile), _) => {
                touched.entry(Collection::Profile).or_default();
            }
            (Some(c), [id, ..]) => {
                touched.entry(c).or_default().insert(id.clone());
            }
            _ => {}
        }
    }
    touched
}

fn date_ahead(writer: &Writer, d: NaiveDate, field: &str) -> Result<(), Refusal> {
    let mut e = ValidationErrors::default();
    e.not_ahead(field, d, writer.today());
    e.into_result().map_err(|e| invalid(&e, ""))
}

/// Validation of every record the push touched, the rules on fields the server derives,
/// and ownership: a record belongs to the household that holds it.
fn check_records(
    writer: &Writer,
    r: &Records,
    before: &Facts,
    touched: &Touched,
    rules: &RuleBook,
) -> Result<(), Refusal> {
    use Collection::*;
    let is = |c: Collection, id: &str| touched.get(&c).is_some_and(|s| s.contains(id));
    let h = &r.household;
    if touched.contains_key(&Profile) {
        h.input().validate().map_err(|e| invalid(&e, "profile"))?;
    }
    for m in r.members.iter().filter(|m| is(Members, &m.id)) {
        m.data
            .validate_on(writer.today())
            .map_err(|e| invalid(&e, "member"))?;
    }
    for v in r.visits.iter().filter(|v| is(Visits, &v.id)) {
        v.data
            .validate_on(writer.today())
            .map_err(|e| invalid(&e, "visit"))?;
        if writer.role == Role::Cadre && v.cadre_id != writer.user_id {
            return Err(Refusal::new(
                "author",
                "Lần thăm phải ghi tên cán bộ đang đăng nhập.",
                "A visit must name the cadre who is signed in.",
            ));
        }
    }
    let before_support = |id: &str| before.delivered.get(id);
    for s in r.support.iter().filter(|s| is(Support, &s.id)) {
        s.data.validate().map_err(|e| invalid(&e, "support"))?;
        if writer.role == Role::Cadre
            && (s.status != crate::support::SupportStatus::Planned || s.delivered_date.is_some())
        {
            return Err(Refusal::new(
                "role",
                "Cán bộ kèm cặp chỉ đề xuất hỗ trợ (trạng thái dự kiến).",
                "A mentoring cadre may only propose support (status planned).",
            ));
        }
        if let Some(d) = s.delivered_date
            && before_support(&s.id) != Some(&Some(d))
        {
            date_ahead(writer, d, "support.delivered_date")?;
        }
    }
    for p in r.plan.iter().filter(|p| is(Plan, &p.id)) {
        p.data.validate().map_err(|e| invalid(&e, "plan"))?;
    }
    for a in r.assessments.iter().filter(|a| is(Assessments, &a.id)) {
        check_review(writer, &h.id, a, rules)?;
    }
    let mut decided = None;
    for st in r.review_steps.iter().filter(|s| is(ReviewSteps, &s.id)) {
        if let Some(to) = check_step(writer, r, st, before)? {
            if decided.is_some() {
                return Err(Refusal::new(
                    "derived",
                    "Mỗi lần chỉ ghi một quyết định cho một hộ.",
                    "One decision per household at a time.",
                ));
            }
            decided = Some(to);
        }
    }
    // The official status changes only by the commune leader's decision on a review (or
    // by the server's own decisions: a conflict resolved, data it builds, a commune's
    // opening balance). A new household from any device or form is not reviewed yet
    // (`not_poor` from app versions before that state), whoever registers it.
    let old_status = before.status.unwrap_or(h.status);
    let allowed = if !before.existed {
        matches!(
            h.status,
            HouseholdStatus::NotReviewed | HouseholdStatus::NotPoor
        ) || writer.decision
    } else {
        h.status == old_status || writer.decision || decided == Some(h.status)
    };
    if !allowed || decided.is_some_and(|to| to != h.status) {
        return Err(Refusal::new(
            "derived",
            "Diện hộ chỉ thay đổi theo quyết định công nhận của xã sau họp dân và niêm yết.",
            "A household's status changes only by the commune's decision after the village meeting and posting.",
        ));
    }
    Ok(())
}

/// A review step: its own checks, that it belongs to a review of this household and the
/// role that may record its kind. For a decision, that the review allows it; returns the
/// status it decides.
fn check_step(
    writer: &Writer,
    r: &Records,
    st: &ReviewStep,
    before: &Facts,
) -> Result<Option<HouseholdStatus>, Refusal> {
    if st.household_id != r.household.id {
        return Err(ownership());
    }
    st.validate().map_err(|e| invalid(&e, "review_step"))?;
    date_ahead(writer, st.date, "review_step.date")?;
    if !writer.decision && st.by != writer.user_id {
        return Err(Refusal::new(
            "author",
            "Bước rà soát phải ghi tên người đang đăng nhập.",
            "A review step must name the person who is signed in.",
        ));
    }
    let deciding = matches!(st.data, StepData::Decision { .. });
    let leaving = matches!(st.data, StepData::Left { .. });
    let role_ok = writer.decision
        || if deciding {
            writer.role == Role::CommuneLeader
        } else if leaving {
            matches!(writer.role, Role::CommuneOfficer | Role::CommuneLeader)
        } else {
            matches!(writer.role, Role::VillageHead | Role::CommuneOfficer)
        };
    if !role_ok {
        return Err(Refusal::new(
            "role",
            "Chỉ Chủ tịch UBND xã ra quyết định công nhận; chỉ UBND xã ghi hộ ra khỏi sổ; thôn và cán bộ xã ghi các bước rà soát.",
            "Only the commune leader decides; only the commune records a household leaving the register; the village and the commune office record the other steps.",
        ));
    }
    // Once it left, no decision dated after that day, and no second leaving.
    let left = |by: Option<chrono::NaiveDate>| {
        r.review_steps.iter().any(|o| {
            o.id != st.id
                && matches!(o.data, StepData::Left { .. })
                && by.is_none_or(|day| o.date <= day)
        })
    };
    if (deciding && left(Some(st.date))) || (leaving && left(None)) {
        return Err(Refusal::new(
            "left",
            "Hộ đã ra khỏi sổ; không ghi quyết định hay ra sổ lần nữa.",
            "The household has left the register; no decision or second leaving is recorded.",
        ));
    }
    if let StepData::Left { from, .. } = &st.data {
        let registered = r
            .household
            .created_at
            .get(..10)
            .and_then(|d| d.parse().ok());
        if registered.is_some_and(|day: chrono::NaiveDate| st.date < day) {
            let mut e = ValidationErrors::default();
            e.push(
                "date",
                "before_registration",
                Text::new(
                    "Hộ không thể ra khỏi sổ trước ngày đăng ký.",
                    "A household cannot leave the register before it was registered.",
                ),
            );
            return Err(invalid(&e, "review_step"));
        }
        if *from != before.status.unwrap_or(r.household.status) {
            return Err(Refusal::new(
                "derived",
                "Diện hộ khi ra khỏi sổ không khớp với diện hiện tại của hộ.",
                "The status the household left with is not its current status.",
            ));
        }
        return Ok(None);
    }
    let Some(review_id) = &st.review_id else {
        return Ok(None);
    };
    let Some(review) = r.assessments.iter().find(|a| &a.id == review_id) else {
        return Err(ownership());
    };
    if writer.decision {
        // The server writing from its own records (the demo's history, a document built
        // from the read model): the steps are as they were decided.
        return Ok(None);
    }
    st.dates_in_order(writer.today(), Some(review.date), &r.review_steps)
        .map_err(|e| invalid(&e, "review_step"))?;
    let others = || r.review_steps.iter().filter(|o| o.id != st.id);
    match &st.data {
        StepData::Answer { complaint, .. } => {
            let asked = r.review_steps.iter().any(|c| {
                &c.id == complaint
                    && c.review_id == st.review_id
                    && matches!(c.data, StepData::Complaint { .. })
            });
            if !asked {
                return Err(ownership());
            }
            Ok(None)
        }
        StepData::Decision {
            approved,
            from,
            to,
            corrects,
            ..
        } => {
            let progress = Progress::of(review_id, others());
            // The status the decision decides from: the household's before the review's
            // first decision when it corrects that review's decision in force.
            let base = match corrects {
                None => {
                    if let Some(why) = progress.blocks_decision() {
                        return Err(Refusal::new("derived", why.vi, why.en));
                    }
                    *from
                }
                Some(c) => {
                    if let Some(why) = progress.blocks_correction(st, c) {
                        return Err(Refusal::new("derived", why.vi, why.en));
                    }
                    // Only the household's latest decision is set right: a later review's
                    // decision has already decided from it.
                    let later = r.review_steps.iter().any(|o| {
                        o.id != st.id
                            && o.id != *c
                            && matches!(o.data, StepData::Decision { .. })
                            && o.review_id != st.review_id
                            && progress
                                .decision
                                .as_ref()
                                .is_some_and(|d| (o.date, &o.id) > (d.date, &d.step_id))
                    });
                    if later {
                        return Err(Refusal::new(
                            "derived",
                            "Hộ đã có quyết định của lần rà soát sau; sửa quyết định mới nhất.",
                            "A later review has been decided for this household; correct the latest decision.",
                        ));
                    }
                    progress.decision.as_ref().map_or(*from, |d| d.before)
                }
            };
            if *from != before.status.unwrap_or(r.household.status)
                || *to != decided_status(base, review.classification, *approved)
            {
                return Err(Refusal::new(
                    "derived",
                    "Quyết định không khớp với diện hộ hiện tại và kết quả rà soát.",
                    "The decision does not match the household's status and the review's result.",
                ));
            }
            Ok(Some(*to))
        }
        _ => Ok(None),
    }
}

/// What the rules need of the document before the push, read without projecting it.
struct Facts {
    existed: bool,
    /// `None` when the push touches neither the profile nor the review steps: then the
    /// status is the document's current one, unchanged by it (not read at the old heads,
    /// which costs a walk of the document's history).
    status: Option<HouseholdStatus>,
    /// Delivery dates of the touched support records that existed.
    delivered: BTreeMap<String, Option<NaiveDate>>,
}

impl Facts {
    fn of(before: &BeforeDoc<'_>, touched: &Touched) -> Facts {
        let Some(heads) = before.heads else {
            return Facts {
                existed: false,
                status: Some(HouseholdStatus::NotPoor),
                delivered: BTreeMap::new(),
            };
        };
        let doc = before.doc;
        let status = (touched.contains_key(&Collection::Profile)
            || touched.contains_key(&Collection::ReviewSteps))
        .then(|| {
            doc.field_at(&[Collection::Profile.as_str(), "status"], heads)
                .and_then(|v| serde_json::from_value(v).ok())
                .unwrap_or(HouseholdStatus::NotPoor)
        });
        let delivered = touched
            .get(&Collection::Support)
            .into_iter()
            .flatten()
            .filter_map(|id| {
                let at = [Collection::Support.as_str(), id, "delivered_date"];
                let d = doc.field_at(&at, heads)?;
                Some((id.clone(), serde_json::from_value(d).ok().flatten()))
            })
            .collect();
        Facts {
            existed: true,
            status,
            delivered,
        }
    }
}

fn ownership() -> Refusal {
    Refusal::new(
        "ownership",
        "Bản ghi không thuộc hộ này.",
        "A record does not belong to this household.",
    )
}

/// A review's classification is the rule engine's (the rule set of the period it decides),
/// not the device's; a yearly review lies in the campaign's months.
fn check_review(
    writer: &Writer,
    household_id: &str,
    a: &Assessment,
    rules: &RuleBook,
) -> Result<(), Refusal> {
    if a.household_id != household_id {
        return Err(ownership());
    }
    date_ahead(writer, a.date, "assessment.date")?;
    if a.kind == ReviewKind::Annual && !review::in_campaign(a.date) {
        let mut e = ValidationErrors::default();
        e.push(
            "date",
            "outside_campaign",
            Text::new(
                "Rà soát định kỳ diễn ra từ 1/9 đến 14/12; ngoài thời gian đó là rà soát thường xuyên.",
                "The yearly review runs from 1 September to 14 December; outside it, a review is ad hoc.",
            ),
        );
        return Err(invalid(&e, "assessment"));
    }
    let rs = review::rule_set_for(rules, a.kind, a.date).ok_or_else(|| {
        Refusal::new(
            "invalid_record",
            format!(
                "Không có chuẩn nghèo áp dụng cho lần rà soát ngày {}.",
                a.date
            ),
            format!("No poverty standard applies to the review of {}.", a.date),
        )
    })?;
    let outcome = classify(rs, &a.evidence).map_err(|e| invalid(&e, "assessment"))?;
    if outcome.classification != a.classification || outcome.explanation != a.explanation {
        return Err(Refusal::new(
            "derived",
            "Kết quả phân loại không khớp với chuẩn; hãy cập nhật ứng dụng rồi rà soát lại.",
            "The classification does not match the rule set; update the app and review again.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Household h1 of village v1, poor, with its profile only.
    fn poor_household(author: &Author) -> HouseholdDoc {
        let mut doc = HouseholdDoc::new(&[0xAA; 16], "h1", author);
        doc.update_profile(
            &serde_json::json!({"code": "DV-1", "village_id": "v1", "head_name": "Hoàng Văn Páo", "address": "Xóm 1", "residence": "rural", "status": "poor", "created_at": "2025-01-01T00:00:00.000Z"}),
            author,
        )
        .unwrap();
        doc
    }

    /// Found by fuzzing: two changes whose second comes from a new actor numbered as its
    /// second change make automerge panic while applying them. Refused, not a crash.
    #[test]
    fn changes_that_make_automerge_panic_are_refused() {
        let bytes =
            include_bytes!("../../../fuzz/seeds/sync_request/automerge-panics-on-actor-seq.bin");
        let author = Author {
            user_id: "server".into(),
            device_id: "server".into(),
            at_ms: 1_790_000_000_000,
            door: None,
        };
        let doc = poor_household(&author);
        let writer = Writer {
            user_id: "u-officer".into(),
            device_id: "phone".into(),
            role: Role::CommuneOfficer,
            now_ms: 1_790_000_000_000,
            decision: false,
            door: crate::doc::Door::Console,
        };
        let rules = RuleBook::built_in();
        let r = admit(
            &writer,
            "h1",
            &mut Some(doc),
            bytes,
            &rules,
            &Limits::DEFAULT,
        );
        assert!(r.is_err(), "{r:?}");
    }

    /// A push that writes only inside records (nothing at the document's root) has only
    /// those records' shape checked: an unknown field or a record that is no map is still
    /// refused there, and a valid visit is taken.
    #[test]
    fn a_write_inside_records_is_checked_on_those_records() {
        use automerge::transaction::{CommitOptions, Transactable};
        use automerge::{ActorId, AutoCommit};
        let now_ms = 1_790_000_000_000;
        let doc = poor_household(&Writer::server(now_ms).author());
        let cadre = Writer {
            user_id: "u-cadre".into(),
            device_id: "phone".into(),
            role: Role::Cadre,
            now_ms,
            decision: false,
            door: crate::doc::Door::Console,
        };
        let visit = |extra: Option<(&str, &str)>| {
            let mut am = AutoCommit::load(&doc.clone().save())
                .unwrap()
                .with_actor(ActorId::from(&[0xCC; 16][..]));
            let old = am.get_heads();
            let (_, visits) = am.get(ROOT, "visits").unwrap().unwrap();
            let v = am.put_object(&visits, "v2", ObjType::Map).unwrap();
            for (k, value) in [
                ("date", "2026-09-20"),
                ("discussed", "Chăn nuôi"),
                ("progress", ""),
                ("needs", ""),
                ("cadre_id", "u-cadre"),
            ]
            .into_iter()
            .chain(extra)
            {
                am.put(&v, k, value).unwrap();
            }
            am.commit_with(
                CommitOptions::default()
                    .with_message(serde_json::to_string(&cadre.author()).unwrap())
                    .with_time(now_ms / 1000),
            );
            am.save_after(&old)
        };
        let rules = RuleBook::built_in();
        let lim = Limits::DEFAULT;
        let judged =
            |bytes: &[u8]| admit(&cadre, "h1", &mut Some(doc.clone()), bytes, &rules, &lim);
        match judged(&visit(None)) {
            Ok(Admission::Admitted(a)) => assert!(a.conflict_free, "one change, a new record"),
            other => panic!("{other:?}"),
        }
        // A key written twice in one change is looked at for conflicts.
        match judged(&visit(Some(("discussed", "Trồng ngô")))) {
            Ok(Admission::Admitted(a)) => assert!(!a.conflict_free),
            other => panic!("{other:?}"),
        }
        // The stored document is taken only when the changes are applied to it: a push
        // refused before (undecodable, signed by someone else) or repeated leaves it.
        let good = visit(None);
        let mut before = Some(doc.clone());
        assert!(admit(&cadre, "h1", &mut before, b"garbage", &rules, &lim).is_err());
        let officer = Writer {
            user_id: "u-officer".into(),
            ..cadre.clone()
        };
        assert_eq!(
            admit(&officer, "h1", &mut before, &good, &rules, &lim)
                .unwrap_err()
                .code,
            "author"
        );
        assert!(before.is_some(), "left in place");
        let mut held = before.take().unwrap();
        held.apply(&good).unwrap();
        let mut before = Some(held);
        assert!(matches!(
            admit(&cadre, "h1", &mut before, &good, &rules, &lim),
            Ok(Admission::Repeat(_))
        ));
        assert!(before.is_some(), "a repeat leaves it");
        let mut fresh = Some(doc.clone());
        assert!(admit(&cadre, "h1", &mut fresh, &good, &rules, &lim).is_ok());
        assert!(fresh.is_none(), "taken once the changes are applied");
        let unknown = judged(&visit(Some(("evil", "x")))).unwrap_err();
        assert_eq!(unknown.code, "schema", "{unknown:?}");
        // A visit that is a string, not a record.
        let mut am = AutoCommit::load(&doc.clone().save())
            .unwrap()
            .with_actor(ActorId::from(&[0xCC; 16][..]));
        let old = am.get_heads();
        let (_, visits) = am.get(ROOT, "visits").unwrap().unwrap();
        am.put(&visits, "v3", "not a record").unwrap();
        am.commit_with(
            CommitOptions::default()
                .with_message(serde_json::to_string(&cadre.author()).unwrap())
                .with_time(now_ms / 1000),
        );
        let scalar = judged(&am.save_after(&old)).unwrap_err();
        assert_eq!(scalar.code, "schema", "{scalar:?}");
    }

    /// A household's history brought in whole keeps its authors and dates, and is judged
    /// like any write otherwise: its read model is the gate's projection, an invalid
    /// record or a household id other than its own refuses it.
    #[test]
    fn a_history_keeps_its_authors_and_is_judged_like_any_write() {
        let now_ms = 1_790_000_000_000;
        let history = |household_id: &str, birth_year: i32| {
            let cadre = Author {
                user_id: "u-cadre".into(),
                device_id: "phone-of-cadre".into(),
                at_ms: now_ms - 300 * 24 * 3600 * 1000,
                door: None,
            };
            let mut doc = HouseholdDoc::new(&[0xAB; 16], household_id, &cadre);
            doc.update_profile(
                &serde_json::json!({"code": "DV-2", "village_id": "v1", "head_name": "Lò Thị Mai", "address": "Bản Nà", "residence": "rural", "status": "not_poor", "created_at": "2025-01-01T00:00:00.000Z"}),
                &cadre,
            )
            .unwrap();
            doc.put_record(
                Collection::Members,
                "m1",
                &serde_json::json!({"full_name": "Lò Thị Mai", "birth_year": birth_year, "sex": "female", "relation": "chủ hộ"}),
                &cadre,
            )
            .unwrap();
            doc.save_after(&[])
        };
        let rules = RuleBook::built_in();
        let lim = Limits::DEFAULT;
        let a = admit_history("h2", &history("h2", 1980), now_ms, &rules, &lim).unwrap();
        assert_eq!(a.records.household.code, "DV-2");
        assert_eq!(a.records.members.len(), 1);
        // The same bytes pushed by a session are refused: they name another user.
        let officer = Writer {
            user_id: "u-officer".into(),
            device_id: "laptop".into(),
            role: Role::CommuneOfficer,
            now_ms,
            decision: false,
            door: crate::doc::Door::Console,
        };
        let pushed = admit(
            &officer,
            "h2",
            &mut None,
            &history("h2", 1980),
            &rules,
            &lim,
        );
        assert_eq!(pushed.unwrap_err().code, "author");
        let born_later = admit_history("h2", &history("h2", 2099), now_ms, &rules, &lim);
        assert_eq!(born_later.unwrap_err().code, "invalid_record");
        let elsewhere = admit_history("h3", &history("h2", 1980), now_ms, &rules, &lim);
        assert!(elsewhere.is_err());
    }
}
