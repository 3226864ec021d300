//! The sync core, pure and without I/O: what a device puts in one sync request for all the
//! household documents it holds, and what the server answers, so a whole commune syncs in
//! a bounded number of round trips whatever the number of households.
//!
//! - The device pushes, per document, the changes after the heads the server last
//!   confirmed (`synced`), and the server acknowledges them only once applied.
//! - The server answers with every in-scope document changed since the device's `cursor`
//!   (a position in the server's change sequence): only the missing changes when it knows
//!   what the device has, a compact snapshot otherwise, in pages of `page_size` documents.
//! - A fingerprint of the documents the device holds lets the server notice scope drift
//!   (an assignment starting or ending) and send the scope list; the device then asks for
//!   what it lacks and drops what left its scope once its own changes were taken in.
//! - Every step is idempotent: a lost, duplicated, replayed or reordered message costs at
//!   most a repeat, never a change.
//!
//! The server's side is the write core's hub (`crate::core::hub`), over the server's
//! databases or, in the tests, over memory.

use crate::Text;
use crate::doc::{Author, DocError, HouseholdDoc};
use crate::summary::Summary;
use automerge::ChangeHash;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

pub const PROTOCOL: u32 = 1;

mod b64 {
    use base64::Engine;
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD_NO_PAD.encode(v))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let s = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD_NO_PAD
            .decode(s.trim_end_matches('='))
            .map_err(serde::de::Error::custom)
    }
}

/// A 64-bit number as 16 hex digits, so clients whose JSON numbers are doubles (JavaScript)
/// carry it exactly.
mod hex_u64 {
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{v:016x}"))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let s = String::deserialize(d)?;
        u64::from_str_radix(&s, 16).map_err(serde::de::Error::custom)
    }
}

/// A fingerprint of a set of document ids (count and FNV-1a over the sorted ids).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Held {
    pub count: u32,
    #[serde(with = "hex_u64")]
    pub digest: u64,
}

impl Held {
    pub fn of<'a>(ids: impl IntoIterator<Item = &'a String>) -> Self {
        let sorted: BTreeSet<&String> = ids.into_iter().collect();
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for id in &sorted {
            for b in id.as_bytes().iter().chain([0u8].iter()) {
                h ^= u64::from(*b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        }
        Held {
            count: sorted.len() as u32,
            digest: h,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Push {
    pub doc_id: String,
    /// The device's heads after these changes.
    pub heads: Vec<String>,
    #[serde(with = "b64")]
    pub changes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncRequest {
    pub protocol: u32,
    /// The server position this device has everything up to (0: nothing yet).
    pub cursor: u64,
    pub pushes: Vec<Push>,
    pub held: Held,
    /// Documents the device lacks and asks for whole (after a scope change).
    #[serde(default)]
    pub want: Vec<String>,
    /// While a pull runs over several pages: the cursor the device had when it began,
    /// echoed from the last response. Changes are sent relative to what the device held
    /// then, since a document that moved during the pull was never sent whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<u64>,
    /// Households with changes the device has not had confirmed, as it counts them; the
    /// console shows it beside the device (what a revoked phone still held).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unsent: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocUpdate {
    pub doc_id: String,
    /// A whole document rather than changes.
    pub snapshot: bool,
    #[serde(with = "b64")]
    pub bytes: Vec<u8>,
    /// The server's heads for this document.
    pub heads: Vec<String>,
    /// With a snapshot: the household's list row, so a phone can list it before decoding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<Summary>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ack {
    pub doc_id: String,
    /// The pushed heads, now committed on the server.
    pub heads: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refused {
    pub doc_id: String,
    pub reason: Text,
    /// The gate's stable code (`shared::core::Refusal::code`), e.g. `limit` or `role`.
    #[serde(default)]
    pub code: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncResponse {
    pub protocol: u32,
    pub cursor: u64,
    pub docs: Vec<DocUpdate>,
    pub acks: Vec<Ack>,
    pub refused: Vec<Refused>,
    /// The full scope, sent when the device's `held` fingerprint disagrees with it.
    pub scope: Option<Vec<String>>,
    /// Another page is waiting: sync again at once.
    pub more: bool,
    /// With `more`: the cursor the pull began from, to send back as `SyncRequest::resume`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<u64>,
}

fn hex(h: &[ChangeHash]) -> Vec<String> {
    h.iter().map(|h| h.to_string()).collect()
}

fn unhex(h: &[String]) -> Vec<ChangeHash> {
    h.iter().filter_map(|s| s.parse().ok()).collect()
}

/// A device's sync state apart from its documents, as the phone stores it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SavedDevice {
    pub cursor: u64,
    /// The cursor a pull still paging began from (`SyncRequest::resume`).
    #[serde(default)]
    pub resume: Option<u64>,
    pub want: Vec<String>,
    pub refused: Vec<Refused>,
}

/// A document on a device: decoded, or still the bytes it was stored or received as.
/// Decoding is the costly part of taking in a fresh pull, and a phone lists households
/// from their summaries, so a document is decoded only when first read or edited.
#[derive(Debug, Clone)]
enum Body {
    Open(Box<HouseholdDoc>),
    /// Encoded bytes whose heads are exactly `synced` (nothing unsent).
    Packed(Vec<u8>),
}

#[derive(Debug, Clone)]
struct DeviceDoc {
    body: Body,
    /// Heads whose history the server is known to hold.
    synced: Vec<ChangeHash>,
}

/// Loads made by the device itself (decoding stored or received bytes) are not a person's
/// edit; an upgrade they make is committed without an author.
fn no_author() -> Author {
    Author {
        user_id: String::new(),
        device_id: String::new(),
        at_ms: 0,
        door: None,
    }
}

impl DeviceDoc {
    fn open(&mut self, actor: &[u8]) -> Result<&mut HouseholdDoc, DocError> {
        if let Body::Packed(bytes) = &self.body {
            self.body = Body::Open(Box::new(HouseholdDoc::load(actor, bytes, &no_author())?));
        }
        match &mut self.body {
            Body::Open(doc) => Ok(&mut **doc),
            Body::Packed(_) => unreachable!("opened above"),
        }
    }

    fn pending(&mut self) -> bool {
        match &mut self.body {
            Body::Open(doc) => doc.heads() != self.synced,
            Body::Packed(_) => false,
        }
    }
}

/// A device's side of sync: its documents, what the server confirmed, where it is in the
/// server's sequence, and what was refused.
#[derive(Debug, Clone)]
pub struct Device {
    actor: Vec<u8>,
    docs: BTreeMap<String, DeviceDoc>,
    cursor: u64,
    resume: Option<u64>,
    want: BTreeSet<String>,
    /// Refusals the person must be told about.
    pub refused: Vec<Refused>,
}

impl Device {
    pub fn new(actor: &[u8]) -> Self {
        Device {
            actor: actor.to_vec(),
            docs: BTreeMap::new(),
            cursor: 0,
            resume: None,
            want: BTreeSet::new(),
            refused: vec![],
        }
    }

    /// A device as it was saved, without its documents: its cursor, what it still wants
    /// and the refusals not yet shown. The phone keeps these in its local store and adds
    /// the documents back with `restore_packed` (nothing unsent) or `restore_doc`.
    pub fn restore(actor: &[u8], saved: SavedDevice) -> Self {
        Device {
            actor: actor.to_vec(),
            docs: BTreeMap::new(),
            cursor: saved.cursor,
            resume: saved.resume,
            want: saved.want.into_iter().collect(),
            refused: saved.refused,
        }
    }

    /// Adds one saved, decoded document to a restored device.
    pub fn restore_doc(&mut self, id: &str, doc: HouseholdDoc, synced: &[String]) {
        self.docs.insert(
            id.to_string(),
            DeviceDoc {
                body: Body::Open(Box::new(doc)),
                synced: unhex(synced),
            },
        );
    }

    /// Adds one saved document without decoding it. Only for bytes that hold exactly the
    /// `synced` heads: a document with unsent changes must be restored decoded.
    pub fn restore_packed(&mut self, id: &str, bytes: Vec<u8>, synced: &[String]) {
        self.docs.insert(
            id.to_string(),
            DeviceDoc {
                body: Body::Packed(bytes),
                synced: unhex(synced),
            },
        );
    }

    /// What `restore` needs besides the documents.
    pub fn saved(&self) -> SavedDevice {
        SavedDevice {
            cursor: self.cursor,
            resume: self.resume,
            want: self.want.iter().cloned().collect(),
            refused: self.refused.clone(),
        }
    }

    /// The heads the server confirmed for a document, as hex (saved beside the document).
    pub fn synced(&self, id: &str) -> Option<Vec<String>> {
        self.docs.get(id).map(|d| hex(&d.synced))
    }

    /// A document, decoded first if need be. One whose bytes no longer decode is dropped
    /// and asked of the server again whole: it held nothing unsent.
    pub fn doc(&mut self, id: &str) -> Option<&HouseholdDoc> {
        self.doc_mut(id).map(|d| &*d)
    }

    pub fn doc_mut(&mut self, id: &str) -> Option<&mut HouseholdDoc> {
        let opened = self.docs.get_mut(id)?.open(&self.actor).is_ok();
        if !opened {
            self.docs.remove(id);
            self.want.insert(id.to_string());
            return None;
        }
        self.docs.get_mut(id)?.open(&self.actor).ok()
    }

    /// The bytes of a document not decoded yet, as stored or received.
    pub fn packed(&self, id: &str) -> Option<&[u8]> {
        match &self.docs.get(id)?.body {
            Body::Packed(bytes) => Some(bytes),
            Body::Open(_) => None,
        }
    }

    /// Documents not decoded yet.
    pub fn packed_ids(&self) -> Vec<String> {
        self.docs
            .iter()
            .filter(|(_, d)| matches!(d.body, Body::Packed(_)))
            .map(|(id, _)| id.clone())
            .collect()
    }

    pub fn doc_ids(&self) -> impl Iterator<Item = &String> {
        self.docs.keys()
    }

    /// Starts a household on this device (it reaches the server at the next sync).
    pub fn create(&mut self, id: &str, doc: HouseholdDoc) {
        self.docs.insert(
            id.to_string(),
            DeviceDoc {
                body: Body::Open(Box::new(doc)),
                synced: vec![],
            },
        );
    }

    /// Whether a document holds changes the server has not confirmed.
    pub fn is_pending(&mut self, id: &str) -> bool {
        self.docs.get_mut(id).is_some_and(DeviceDoc::pending)
    }

    /// Documents with changes the server has not confirmed.
    pub fn pending(&mut self) -> usize {
        self.docs
            .values_mut()
            .map(DeviceDoc::pending)
            .filter(|p| *p)
            .count()
    }

    pub fn cursor(&self) -> u64 {
        self.cursor
    }

    /// Every decision that replaced a value written from `device_id`, by household: what
    /// the phone's "your value was overridden" badge shows. Reads decoded documents only;
    /// the phone first decodes those whose list row names the device
    /// (`Summary::overridden_devices`).
    pub fn overridden(&self, device_id: &str) -> Vec<(String, crate::doc::Overridden)> {
        self.docs
            .iter()
            .filter_map(|(id, d)| match &d.body {
                Body::Open(doc) => Some((id, &**doc)),
                Body::Packed(_) => None,
            })
            .flat_map(|(id, doc)| {
                doc.overridden_for(device_id)
                    .into_iter()
                    .map(move |o| (id.clone(), o))
            })
            .collect()
    }

    /// The one request that syncs everything this device holds, within the server's
    /// limits per request: what does not fit goes in the next request (`pending` stays
    /// above zero until it has).
    pub fn request(&mut self) -> SyncRequest {
        let limits = crate::core::Limits::DEFAULT;
        let mut pushes = Vec::new();
        let mut bytes = 0;
        for (id, d) in self.docs.iter_mut() {
            let Body::Open(doc) = &mut d.body else {
                continue;
            };
            if pushes.len() == limits.pushes_per_request {
                break;
            }
            let heads = doc.heads();
            if heads != d.synced {
                let changes = doc.save_after(&d.synced);
                if !pushes.is_empty() && bytes + changes.len() > limits.bytes_per_request {
                    break;
                }
                bytes += changes.len();
                pushes.push(Push {
                    doc_id: id.clone(),
                    heads: hex(&heads),
                    changes,
                });
            }
        }
        SyncRequest {
            protocol: PROTOCOL,
            cursor: self.cursor,
            pushes,
            held: Held::of(self.docs.keys()),
            want: self.want.iter().cloned().collect(),
            resume: self.resume,
            unsent: None,
        }
    }

    /// Takes in a response; any response, in any order, any number of times.
    pub fn receive(&mut self, resp: &SyncResponse) -> Result<(), DocError> {
        for u in &resp.docs {
            let server_heads = unhex(&u.heads);
            let refused = resp.refused.iter().any(|r| r.doc_id == u.doc_id);
            let known = self.docs.contains_key(&u.doc_id);
            let packed = self.packed(&u.doc_id).is_some();
            if u.snapshot && (refused || !known || packed) {
                // A whole document new to the device, the server's version replacing a
                // refused push (the refusal is kept), or a newer version of one with nothing
                // unsent: kept as it came, decoded when needed.
                self.docs.insert(
                    u.doc_id.clone(),
                    DeviceDoc {
                        body: Body::Packed(u.bytes.clone()),
                        synced: server_heads,
                    },
                );
            } else if known {
                let Some(doc) = self.doc_mut(&u.doc_id) else {
                    // Stored bytes that no longer decode: asked for again whole.
                    continue;
                };
                doc.apply(&u.bytes)?;
                let have_all = server_heads.iter().all(|h| doc.has_change(h));
                if have_all && let Some(d) = self.docs.get_mut(&u.doc_id) {
                    d.synced = server_heads;
                }
            } else {
                // Changes to a document this device never received: ask for it whole.
                self.want.insert(u.doc_id.clone());
                continue;
            }
            self.want.remove(&u.doc_id);
        }
        for a in &resp.acks {
            if let Some(d) = self.docs.get_mut(&a.doc_id) {
                // A packed document has nothing unsent, so no ack can move it forward.
                let Body::Open(doc) = &mut d.body else {
                    continue;
                };
                let acked = unhex(&a.heads);
                // Move forward only: an old, replayed ack must not replace newer knowledge.
                if acked.iter().all(|h| doc.has_change(h)) && covers(doc, &acked, &d.synced) {
                    d.synced = acked;
                }
            }
        }
        for r in &resp.refused {
            if !self.refused.contains(r) {
                self.refused.push(r.clone());
            }
        }
        if let Some(scope) = &resp.scope {
            let scope: BTreeSet<&String> = scope.iter().collect();
            let leaving: Vec<String> = self
                .docs
                .keys()
                .filter(|id| !scope.contains(id))
                .cloned()
                .collect();
            for id in leaving {
                let d = self.docs.get_mut(&id).expect("held");
                let refused_here = resp.refused.iter().any(|r| r.doc_id == id);
                // A household leaves the phone only once its changes are taken in (or refused and kept).
                if !d.pending() || refused_here {
                    self.docs.remove(&id);
                }
            }
            self.want = scope
                .into_iter()
                .filter(|id| !self.docs.contains_key(*id))
                .cloned()
                .collect();
        }
        self.cursor = self.cursor.max(resp.cursor);
        self.resume = if resp.more {
            resp.resume.or(self.resume)
        } else {
            None
        };
        Ok(())
    }
}

/// Whether the history of `a` contains every change in `b`.
fn covers(doc: &mut HouseholdDoc, a: &[ChangeHash], b: &[ChangeHash]) -> bool {
    let outside: BTreeSet<ChangeHash> = doc
        .automerge()
        .get_changes(a)
        .iter()
        .map(|c| c.hash())
        .collect();
    b.iter().all(|h| !outside.contains(h))
}

#[cfg(test)]
mod tests;
