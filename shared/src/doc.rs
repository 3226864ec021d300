//! The household document: one automerge CRDT per household holding its profile, members,
//! reviews, plan, visits, support and review steps, so phones offline for days and the
//! server can all edit it and merge without losing anything.
//!
//! Layout (schema version 1):
//! ```text
//! { schema_version: 1,
//!   profile:      { code, village_id, address, head_name, residence, status,
//!                   priority: { ethnic_minority, … }, causes: [..] },
//!   members:      { <id>: { full_name, birth_year, … } },
//!   assessments:  { <id>: {…} },  plan: { <id>: {…} },  review_steps: { <id>: {…} },
//!   visits:       { <id>: {…} },  support: { <id>: {…} },
//!   resolutions:  { <conflict id>: { path, value, resolved_by, resolved_at,
//!                                    overridden: { <device id>: { user_id, value } } } } }
//! ```
//! `resolutions` is written only by the server when a commune officer decides a conflict
//! (documents made before it existed gain it then); it tells each device whose value was
//! replaced, so the phone can show that its value was overridden.
//! Records live in maps keyed by their id, so concurrent additions never conflict; a
//! scalar field written concurrently on two replicas keeps every value (see `conflicts`).
//! Each change's message names the user and device that made it.

use automerge::transaction::Transactable;
use automerge::{
    ActorId, AutoCommit, ChangeHash, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value as AmValue,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

pub const SCHEMA_VERSION: i64 = 1;

/// A map at the root of a household document: the profile (the household's own fields)
/// or a collection of records keyed by record id. Its name is the document's key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Collection {
    // In the order of their names, so a `Touched` map iterates as the document's keys do.
    Assessments,
    Members,
    Plan,
    Profile,
    /// The commune officer's decisions on conflicts, made with the first one.
    Resolutions,
    ReviewSteps,
    Support,
    Visits,
}

impl Collection {
    /// The maps every household document is made with (all but `Resolutions`), in the
    /// order they are made: the order is part of every new document's first change.
    pub const MADE: [Collection; 7] = [
        Collection::Members,
        Collection::Assessments,
        Collection::Plan,
        Collection::ReviewSteps,
        Collection::Visits,
        Collection::Support,
        Collection::Profile,
    ];

    /// The collections of the household's records (what a phone writes, beside the profile).
    pub const RECORDS: [Collection; 6] = [
        Collection::Members,
        Collection::Assessments,
        Collection::Plan,
        Collection::ReviewSteps,
        Collection::Visits,
        Collection::Support,
    ];

    /// The key in the document.
    pub const fn as_str(self) -> &'static str {
        match self {
            Collection::Profile => "profile",
            Collection::Members => "members",
            Collection::Assessments => "assessments",
            Collection::Plan => "plan",
            Collection::ReviewSteps => "review_steps",
            Collection::Visits => "visits",
            Collection::Support => "support",
            Collection::Resolutions => "resolutions",
        }
    }

    /// The collection with this key, if it is one.
    pub fn parse(key: &str) -> Option<Collection> {
        (Collection::MADE.into_iter())
            .chain([Collection::Resolutions])
            .find(|c| c.as_str() == key)
    }

    /// Whether this is one of the household's record collections (`RECORDS`).
    pub fn is_records(self) -> bool {
        Collection::RECORDS.contains(&self)
    }
}

impl std::fmt::Display for Collection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which records of which collections a change touched (the profile as an empty set).
pub type Touched = std::collections::BTreeMap<Collection, std::collections::BTreeSet<String>>;

/// Who makes a change, written into the change so conflicts can name them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    #[serde(rename = "u")]
    pub user_id: String,
    #[serde(rename = "d")]
    pub device_id: String,
    /// Milliseconds since the epoch, from the caller's clock.
    #[serde(skip)]
    pub at_ms: i64,
    /// The door a change the server makes came through (a device's own changes carry
    /// none: what a device writes is bound to it by its actor, not by its word).
    #[serde(rename = "w", default, skip_serializing_if = "Option::is_none")]
    pub door: Option<Door>,
}

/// Through which door a change reached the household: a phone's sync, the console's
/// forms, a list import, a commune decision, or the register the server already held
/// (a document built from it, or a commune brought whole).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Door {
    Phone,
    Console,
    Import,
    Decision,
    Register,
}

impl Door {
    pub fn text(self) -> crate::Text {
        match self {
            Door::Phone => crate::Text::new("điện thoại (đồng bộ)", "phone (sync)"),
            Door::Console => crate::Text::new("trang quản lý", "console"),
            Door::Import => crate::Text::new("nhập danh sách", "list import"),
            Door::Decision => crate::Text::new("quyết định của xã", "commune decision"),
            Door::Register => crate::Text::new("dữ liệu sổ có sẵn", "existing register data"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DocError {
    #[error("not a household document: {0}")]
    Load(String),
    #[error("document schema version {0} is newer than this app understands ({SCHEMA_VERSION})")]
    TooNew(i64),
    #[error("automerge: {0}")]
    Automerge(#[from] automerge::AutomergeError),
}

/// One value among several written concurrently to the same field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConflictValue {
    pub value: Value,
    pub user_id: Option<String>,
    pub device_id: Option<String>,
    /// Milliseconds since the epoch, as the writing device's clock said.
    pub at_ms: i64,
    /// Hex hash of the change that wrote it.
    pub change: String,
}

/// A field with concurrent values, e.g. `["profile", "head_name"]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldConflict {
    pub path: Vec<String>,
    pub values: Vec<ConflictValue>,
}

/// A value of this device's that a commune officer's decision replaced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overridden {
    pub conflict_id: String,
    /// The field, e.g. `["profile", "head_name"]`.
    pub path: Vec<String>,
    /// What this device had written.
    pub yours: Value,
    /// What was decided.
    pub decided: Value,
    pub resolved_by: String,
    /// Milliseconds since the epoch.
    pub resolved_at: i64,
}

/// A household document and the actor this replica writes as.
#[derive(Debug, Clone)]
pub struct HouseholdDoc {
    doc: AutoCommit,
}

impl HouseholdDoc {
    /// A new, empty household document of the current schema. `actor` must be unique to
    /// this replica (e.g. 16 random bytes per app start).
    pub fn new(actor: &[u8], household_id: &str, author: &Author) -> Self {
        let mut doc = AutoCommit::new().with_actor(ActorId::from(actor));
        doc.put(ROOT, "schema_version", SCHEMA_VERSION)
            .expect("root put");
        doc.put(ROOT, "household_id", household_id)
            .expect("root put");
        for c in Collection::MADE {
            doc.put_object(ROOT, c.as_str(), ObjType::Map)
                .expect("root map");
        }
        let mut me = Self { doc };
        me.commit(author);
        me
    }

    /// Loads saved bytes (full saves or concatenated changes) and upgrades old schemas.
    pub fn load(actor: &[u8], bytes: &[u8], author: &Author) -> Result<Self, DocError> {
        if bytes.is_empty() {
            return Err(DocError::Load("no data".into()));
        }
        let doc = AutoCommit::load(bytes)
            .map_err(|e| DocError::Load(e.to_string()))?
            .with_actor(ActorId::from(actor));
        let mut me = Self { doc };
        me.upgrade(author)?;
        Ok(me)
    }

    /// Brings a document of an older schema to the current one. Version 0 (no
    /// `schema_version`, before review steps and plan existed) gains the missing maps.
    fn upgrade(&mut self, author: &Author) -> Result<(), DocError> {
        let version = match self.doc.get(ROOT, "schema_version")? {
            Some((AmValue::Scalar(s), _)) => match s.as_ref() {
                ScalarValue::Int(v) => *v,
                ScalarValue::Uint(v) => *v as i64,
                _ => 0,
            },
            _ => 0,
        };
        if version > SCHEMA_VERSION {
            return Err(DocError::TooNew(version));
        }
        if version < SCHEMA_VERSION {
            for c in Collection::MADE {
                if self.doc.get(ROOT, c.as_str())?.is_none() {
                    self.doc.put_object(ROOT, c.as_str(), ObjType::Map)?;
                }
            }
            self.doc.put(ROOT, "schema_version", SCHEMA_VERSION)?;
            self.commit(author);
        }
        Ok(())
    }

    /// A document with no changes at all, to apply a device's first changes to (a
    /// household registered on a phone); the gate then checks its shape.
    pub fn empty(actor: &[u8]) -> Self {
        Self {
            doc: AutoCommit::new().with_actor(ActorId::from(actor)),
        }
    }

    /// Applies changes already decoded (and bounded) by the write core's gate.
    pub fn apply_changes(&mut self, changes: Vec<automerge::Change>) -> Result<(), DocError> {
        self.doc.apply_changes(changes)?;
        Ok(())
    }

    /// The automerge document, read-only.
    pub fn read(&self) -> &AutoCommit {
        &self.doc
    }

    pub fn save(&mut self) -> Vec<u8> {
        self.doc.save()
    }

    pub fn heads(&mut self) -> Vec<ChangeHash> {
        self.doc.get_heads()
    }

    /// The changes made after `heads`, compactly encoded.
    pub fn save_after(&mut self, heads: &[ChangeHash]) -> Vec<u8> {
        self.doc.save_after(heads)
    }

    /// Takes in changes from another replica; repeated or old changes do nothing.
    pub fn apply(&mut self, bytes: &[u8]) -> Result<(), DocError> {
        self.doc
            .load_incremental(bytes)
            .map_err(|e| DocError::Load(e.to_string()))?;
        Ok(())
    }

    /// Whether the change `hash` is applied to this document. Asks the change graph, not
    /// automerge's change lookup, which rebuilds the change from the operations.
    pub fn has_change(&self, hash: &ChangeHash) -> bool {
        let missing = self.doc.get_missing_deps(&[*hash]);
        if missing.is_empty() {
            // Neither missing nor waiting in the queue (a queued change always lacks a
            // dependency).
            return true;
        }
        if missing.contains(hash) {
            return false;
        }
        // Queued, or other queued changes lack something: the exact answer.
        self.doc.get_change_by_hash(hash).is_some()
    }

    pub fn automerge(&mut self) -> &mut AutoCommit {
        &mut self.doc
    }

    fn commit(&mut self, author: &Author) {
        let msg = serde_json::to_string(author).expect("author serialises");
        self.doc.commit_with(
            automerge::transaction::CommitOptions::default()
                .with_message(msg)
                // Automerge's convention (and the JavaScript package's): seconds.
                .with_time(author.at_ms.div_euclid(1000)),
        );
    }

    fn collection(&self, name: Collection) -> Result<ObjId, DocError> {
        match self.doc.get(ROOT, name.as_str())? {
            Some((AmValue::Object(ObjType::Map), id)) => Ok(id),
            _ => Err(DocError::Load(format!("missing map {name}"))),
        }
    }

    /// Writes the fields of `value` (a JSON object) into the profile, only those that
    /// differ, so an edit of one field never touches (or conflicts on) the others.
    pub fn update_profile(&mut self, value: &Value, author: &Author) -> Result<(), DocError> {
        self.write_profile(value)?;
        self.commit(author);
        Ok(())
    }

    /// Adds or updates one record of a collection (members, visits, …), field by field.
    pub fn put_record(
        &mut self,
        collection: Collection,
        id: &str,
        value: &Value,
        author: &Author,
    ) -> Result<(), DocError> {
        self.write_record(collection, id, value)?;
        self.commit(author);
        Ok(())
    }

    /// A profile and records written as one change: a household entered in one go (or
    /// brought in from the read model) then carries one change header, not one per record,
    /// which keeps documents small on the wire.
    pub fn put_all<'a>(
        &mut self,
        profile: &Value,
        records: impl IntoIterator<Item = (Collection, &'a str, Value)>,
        author: &Author,
    ) -> Result<(), DocError> {
        self.write_profile(profile)?;
        for (collection, id, value) in records {
            self.write_record(collection, id, &value)?;
        }
        self.commit(author);
        Ok(())
    }

    fn write_profile(&mut self, value: &Value) -> Result<(), DocError> {
        let obj = self.collection(Collection::Profile)?;
        update_map(&mut self.doc, &obj, value)
    }

    fn write_record(
        &mut self,
        collection: Collection,
        id: &str,
        value: &Value,
    ) -> Result<(), DocError> {
        let coll = self.collection(collection)?;
        match self.doc.get(&coll, id)? {
            Some((AmValue::Object(ObjType::Map), o)) => update_map(&mut self.doc, &o, value),
            _ if value.is_object() => write_value(&mut self.doc, &coll, id, value),
            _ => Err(DocError::Load("a record must be a JSON object".into())),
        }
    }

    /// Writes, as `author`, what `changes` (made elsewhere, e.g. refused from a phone)
    /// would change in this document: the profile fields and records they set, the
    /// records they remove. The changes themselves are not added, so the result carries
    /// `author`'s name.
    pub fn reapply(
        &mut self,
        changes: Vec<automerge::Change>,
        author: &Author,
    ) -> Result<(), DocError> {
        let mut fork = self.clone();
        fork.doc.apply_changes(changes)?;
        if !fork.doc.get_missing_deps(&[]).is_empty() {
            return Err(DocError::Load(
                "the changes build on others the server does not have".into(),
            ));
        }
        let (before, after) = (self.to_json(), fork.to_json());
        let profile = Collection::Profile.as_str();
        if before.get(profile) != after.get(profile)
            && let Some(profile) = after.get(profile)
        {
            self.write_profile(profile)?;
        }
        for c in Collection::RECORDS {
            let empty = Map::new();
            let was = (before.get(c.as_str()).and_then(Value::as_object)).unwrap_or(&empty);
            let now = (after.get(c.as_str()).and_then(Value::as_object)).unwrap_or(&empty);
            for (id, record) in now {
                if was.get(id) != Some(record) {
                    self.write_record(c, id, record)?;
                }
            }
            for id in was.keys().filter(|id| !now.contains_key(*id)) {
                let coll = self.collection(c)?;
                self.doc.delete(&coll, id.as_str())?;
            }
        }
        self.commit(author);
        Ok(())
    }

    /// Removes a record (e.g. a member who moved away).
    pub fn delete_record(
        &mut self,
        collection: Collection,
        id: &str,
        author: &Author,
    ) -> Result<(), DocError> {
        let coll = self.collection(collection)?;
        if self.doc.get(&coll, id)?.is_some() {
            self.doc.delete(&coll, id)?;
            self.commit(author);
        }
        Ok(())
    }

    /// Writes one field at `path` (e.g. `["profile", "head_name"]`); resolving a conflict
    /// is such a write, and it replaces every concurrent value on every replica.
    pub fn set_field(
        &mut self,
        path: &[&str],
        value: &Value,
        author: &Author,
    ) -> Result<(), DocError> {
        let (last, parents) = path
            .split_last()
            .ok_or_else(|| DocError::Load("empty path".into()))?;
        let mut obj = ROOT;
        for p in parents {
            obj = match self.doc.get(&obj, *p)? {
                Some((AmValue::Object(ObjType::Map), o)) => o,
                _ => return Err(DocError::Load(format!("no map at {p}"))),
            };
        }
        write_value(&mut self.doc, &obj, last, value)?;
        self.commit(author);
        Ok(())
    }

    /// Decides a conflict: writes `value` at `path` (replacing every concurrent value) and,
    /// in the same change, records which devices' values were replaced, so each of them
    /// learns at its next sync. Only the server calls this (the map is never created
    /// concurrently).
    pub fn resolve_conflict(
        &mut self,
        conflict_id: &str,
        conflict: &FieldConflict,
        value: &Value,
        author: &Author,
    ) -> Result<(), DocError> {
        let path: Vec<&str> = conflict.path.iter().map(String::as_str).collect();
        let (last, parents) = path
            .split_last()
            .ok_or_else(|| DocError::Load("empty path".into()))?;
        let mut obj = ROOT;
        for p in parents {
            obj = match self.doc.get(&obj, *p)? {
                Some((AmValue::Object(ObjType::Map), o)) => o,
                _ => return Err(DocError::Load(format!("no map at {p}"))),
            };
        }
        write_value(&mut self.doc, &obj, last, value)?;
        let mut overridden = Map::new();
        for c in conflict.values.iter().filter(|c| c.value != *value) {
            if let (Some(u), Some(d)) = (&c.user_id, &c.device_id) {
                overridden.insert(
                    d.clone(),
                    serde_json::json!({ "user_id": u, "value": c.value.to_string() }),
                );
            }
        }
        let record = serde_json::json!({
            "path": conflict.path.join("/"),
            "value": value.to_string(),
            "resolved_by": author.user_id,
            "resolved_at": author.at_ms,
            "overridden": overridden,
        });
        let resolutions = Collection::Resolutions.as_str();
        let coll = match self.doc.get(ROOT, resolutions)? {
            Some((AmValue::Object(ObjType::Map), id)) => id,
            _ => self.doc.put_object(ROOT, resolutions, ObjType::Map)?,
        };
        write_value(&mut self.doc, &coll, conflict_id, &record)?;
        self.commit(author);
        Ok(())
    }

    /// Devices with a value that a commune decision replaced, sorted: lets a phone find
    /// its badges from list rows without decoding every document.
    pub fn overridden_devices(&self) -> Vec<String> {
        let mut devices: Vec<String> = self
            .records(Collection::Resolutions)
            .values()
            .filter_map(|r| r.get("overridden")?.as_object())
            .flat_map(|o| o.keys().cloned())
            .collect();
        devices.sort();
        devices.dedup();
        devices
    }

    /// Decisions that replaced a value this device wrote, newest first: the badge on the
    /// phone.
    pub fn overridden_for(&self, device_id: &str) -> Vec<Overridden> {
        let parse = |v: &Value| {
            v.as_str()
                .and_then(|s| serde_json::from_str(s).ok())
                .unwrap_or(Value::Null)
        };
        let mut found: Vec<Overridden> = self
            .records(Collection::Resolutions)
            .into_iter()
            .filter_map(|(id, r)| {
                let mine = r.get("overridden")?.get(device_id)?;
                Some(Overridden {
                    conflict_id: id,
                    path: r["path"]
                        .as_str()
                        .unwrap_or_default()
                        .split('/')
                        .map(String::from)
                        .collect(),
                    yours: parse(&mine["value"]),
                    decided: parse(&r["value"]),
                    resolved_by: r["resolved_by"].as_str().unwrap_or_default().to_string(),
                    resolved_at: r["resolved_at"].as_i64().unwrap_or_default(),
                })
            })
            .collect();
        found.sort_by_key(|o| std::cmp::Reverse(o.resolved_at));
        found
    }

    /// The winning value at `path` (e.g. `["profile", "status"]`) as it was at `heads`,
    /// reading nothing else.
    pub fn field_at(&self, path: &[&str], heads: &[ChangeHash]) -> Option<Value> {
        let (last, parents) = path.split_last()?;
        let mut obj = ROOT;
        for p in parents {
            obj = match self.doc.get_at(&obj, *p, heads).ok()?? {
                (AmValue::Object(ObjType::Map), o) => o,
                _ => return None,
            };
        }
        let (v, id) = self.doc.get_at(&obj, *last, heads).ok()??;
        match v {
            AmValue::Scalar(_) => Some(json_of(&self.doc, &v, &id)),
            AmValue::Object(_) => None,
        }
    }

    /// The document as JSON with the profile and, of the other collections, only the
    /// records in `records` (all members when any member is there: the read model keeps
    /// a household's members together; all reviews and steps when a step is there).
    pub fn json_of_records(&self, records: &Touched) -> Value {
        let mut out = Map::new();
        for item in self.doc.map_range(ROOT, ..) {
            let key = item.key.to_string();
            let AmValue::Object(ObjType::Map) = item.value.clone().into_value() else {
                out.insert(
                    key,
                    json_of(&self.doc, &item.value.clone().into_value(), &item.id()),
                );
                continue;
            };
            let obj = item.id();
            // A review step is judged against the household's reviews and other steps.
            let collection = Collection::parse(&key);
            let whole = match collection {
                Some(Collection::Profile) => true,
                Some(Collection::Members) => records.contains_key(&Collection::Members),
                Some(Collection::Assessments | Collection::ReviewSteps) => {
                    records.contains_key(&Collection::ReviewSteps)
                }
                _ => false,
            };
            let value = if whole {
                read_map(&self.doc, &obj)
            } else {
                let mut m = Map::new();
                let ids = collection.and_then(|c| records.get(&c));
                for id in ids.into_iter().flatten() {
                    if let Ok(Some((v, rid))) = self.doc.get(&obj, id.as_str()) {
                        m.insert(id.clone(), json_of(&self.doc, &v, &rid));
                    }
                }
                Value::Object(m)
            };
            out.insert(key, value);
        }
        Value::Object(out)
    }

    /// The whole document as JSON (the winning value of every field).
    pub fn to_json(&self) -> Value {
        read_map(&self.doc, &ROOT)
    }

    /// The records of a collection, keyed by id.
    pub fn records(&self, collection: Collection) -> Map<String, Value> {
        match self.to_json().get(collection.as_str()) {
            Some(Value::Object(m)) => m.clone(),
            _ => Map::new(),
        }
    }

    /// Every field written concurrently, with all its values, who wrote them and when.
    pub fn conflicts(&mut self) -> Result<Vec<FieldConflict>, DocError> {
        self.conflicts_from(vec![(ROOT, vec![])])
    }

    /// The conflicts inside the profile (when listed) and the listed records only: the
    /// only places a new change can open one.
    pub fn conflicts_in(&mut self, records: &Touched) -> Result<Vec<FieldConflict>, DocError> {
        let mut starts = Vec::new();
        for (&collection, ids) in records {
            let Ok(coll) = self.collection(collection) else {
                continue;
            };
            let name = collection.as_str().to_string();
            if collection == Collection::Profile {
                starts.push((coll, vec![name]));
                continue;
            }
            let mut records = Vec::new();
            for id in ids {
                records.push((id, self.doc.get_all(&coll, id.as_str())?));
            }
            if records.iter().any(|(_, all)| all.len() > 1) {
                // A record made twice concurrently is a conflict of the collection itself.
                starts.push((coll, vec![name]));
                continue;
            }
            for (id, all) in records {
                if let Some((AmValue::Object(ObjType::Map), obj)) = all.into_iter().next() {
                    starts.push((obj, vec![name.clone(), id.clone()]));
                }
            }
        }
        self.conflicts_from(starts)
    }

    fn conflicts_from(
        &mut self,
        mut stack: Vec<(ObjId, Vec<String>)>,
    ) -> Result<Vec<FieldConflict>, DocError> {
        let mut found = Vec::new();
        while let Some((obj, path)) = stack.pop() {
            let keys: Vec<String> = self.doc.keys(&obj).collect();
            for key in keys {
                let all = self.doc.get_all(&obj, key.as_str())?;
                let mut p = path.clone();
                p.push(key.clone());
                if all.len() > 1 {
                    let mut values = Vec::new();
                    let owned: Vec<(Value, ObjId)> = all
                        .iter()
                        .map(|(v, id)| (json_of(&self.doc, v, id), id.clone()))
                        .collect();
                    for (value, id) in owned {
                        values.push(self.describe(value, &id));
                    }
                    values.sort_by(|a, b| a.change.cmp(&b.change));
                    found.push(FieldConflict { path: p, values });
                } else if let Some((AmValue::Object(ObjType::Map), child)) = all.into_iter().next()
                {
                    stack.push((child, p));
                }
            }
        }
        found.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(found)
    }

    fn describe(&mut self, value: Value, op: &ObjId) -> ConflictValue {
        let hash = self.doc.hash_for_opid(op);
        let meta = hash
            .as_ref()
            .and_then(|h| self.doc.get_change_meta_by_hash(h));
        let (author, at_ms) = match meta {
            Some(m) => (
                m.message
                    .as_deref()
                    .and_then(|s| serde_json::from_str::<Author>(s).ok()),
                m.timestamp.saturating_mul(1000),
            ),
            None => (None, 0),
        };
        ConflictValue {
            value,
            user_id: author.as_ref().map(|a| a.user_id.clone()),
            device_id: author.map(|a| a.device_id),
            at_ms,
            change: hash.map(|h| h.to_string()).unwrap_or_default(),
        }
    }
}

fn scalar(v: &Value) -> Option<ScalarValue> {
    Some(match v {
        Value::Null => ScalarValue::Null,
        Value::Bool(b) => ScalarValue::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => ScalarValue::Int(i),
            None => ScalarValue::F64(n.as_f64().unwrap_or_default()),
        },
        Value::String(s) => ScalarValue::Str(s.as_str().into()),
        Value::Array(_) | Value::Object(_) => return None,
    })
}

/// A new object's value as automerge builds it in one batch: maps as maps, lists as lists
/// of scalars (lists hold scalars only, e.g. causes; nested values are kept as text).
fn hydrate(v: &Value) -> automerge::hydrate::Value {
    use automerge::hydrate;
    match v {
        Value::Object(fields) => hydrate::Map::from(
            fields
                .iter()
                .map(|(k, v)| (k.clone(), hydrate(v)))
                .collect::<std::collections::HashMap<String, hydrate::Value>>(),
        )
        .into(),
        Value::Array(items) => hydrate::List::from(
            items
                .iter()
                .map(|item| {
                    hydrate::Value::scalar(
                        scalar(item).unwrap_or_else(|| ScalarValue::Str(item.to_string().into())),
                    )
                })
                .collect::<Vec<_>>(),
        )
        .into(),
        other => hydrate::Value::scalar(scalar(other).expect("scalar")),
    }
}

/// Writes `v` at `key`. A new map or list is made in one batch of operations (one change
/// to the document's op set, not one per field: a household's registration is hundreds of
/// fields).
fn write_value(doc: &mut AutoCommit, obj: &ObjId, key: &str, v: &Value) -> Result<(), DocError> {
    match v {
        Value::Object(_) | Value::Array(_) => {
            doc.batch_create_object(obj, key, &hydrate(v), false)?;
        }
        other => doc.put(obj, key, scalar(other).expect("scalar"))?,
    }
    Ok(())
}

/// Writes the fields of a JSON object into a map where they differ.
fn update_map(doc: &mut AutoCommit, obj: &ObjId, value: &Value) -> Result<(), DocError> {
    let Value::Object(fields) = value else {
        return Err(DocError::Load("a record must be a JSON object".into()));
    };
    for (k, v) in fields {
        let current = doc.get(obj, k.as_str())?;
        match (current, v) {
            (Some((AmValue::Object(ObjType::Map), child)), Value::Object(_)) => {
                update_map(doc, &child, v)?
            }
            (Some((cur, id)), _) if json_of(doc, &cur, &id) == *v => {}
            _ => write_value(doc, obj, k, v)?,
        }
    }
    Ok(())
}

fn json_of(doc: &AutoCommit, v: &AmValue<'_>, id: &ObjId) -> Value {
    match v {
        AmValue::Object(ObjType::Map) => read_map(doc, id),
        // Writers should store plain (scalar) strings; a collaborative text object from
        // another client reads as its current text.
        AmValue::Object(ObjType::Text) => Value::String(doc.text(id).unwrap_or_default()),
        AmValue::Object(_) => Value::Array(
            doc.list_range(id, ..)
                .map(|item| json_of(doc, &item.value.clone().into_value(), &item.id()))
                .collect(),
        ),
        AmValue::Scalar(s) => match s.as_ref() {
            ScalarValue::Null => Value::Null,
            ScalarValue::Boolean(b) => Value::Bool(*b),
            ScalarValue::Int(i) => Value::from(*i),
            ScalarValue::Uint(u) => Value::from(*u),
            ScalarValue::F64(f) => serde_json::Number::from_f64(*f)
                .map(Value::Number)
                .unwrap_or(Value::Null),
            ScalarValue::Str(s) => Value::String(s.to_string()),
            ScalarValue::Timestamp(t) => Value::from(*t),
            ScalarValue::Counter(c) => Value::from(i64::from(c)),
            ScalarValue::Bytes(_) | ScalarValue::Unknown { .. } => Value::Null,
        },
    }
}

fn read_map(doc: &AutoCommit, obj: &ObjId) -> Value {
    let mut out = Map::new();
    for item in doc.map_range(obj, ..) {
        out.insert(
            item.key.to_string(),
            json_of(doc, &item.value.clone().into_value(), &item.id()),
        );
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests;
