//! The household write core: the one place that decides whether a change to a household
//! document is taken, whoever sends it — a phone's sync push, a REST edit, a conflict or
//! quarantine decision, an import. It does no I/O; the server and the in-memory test hub
//! call the same functions, so the tests judge the code production runs.
//!
//! - `limits`: bounded decoding of untrusted change bytes.
//! - `schema`: the shape every household document keeps.
//! - `policy`: who may write where, on every operation.
//! - `gate`: the admission gate that runs them all, with authorship, derived fields,
//!   ownership and record validation.
//! - `hub`: sync requests and server-made edits over a `Storage` trait.
//! - `memory`: that storage in memory, for the tests.

pub mod gate;
pub mod hub;
pub mod limits;
pub mod memory;
pub mod policy;
pub mod schema;

pub use gate::{Admission, Admitted, Writer, admit, admit_history};
pub use hub::{Commit, CommitError, EditError, Hub, Pushed, Scope, Storage, Stored, SyncError};
pub use limits::Limits;

use crate::{FieldError, Text};
use serde::{Deserialize, Serialize};

/// Why a change was not taken: a stable code for programs, a reason for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    /// `limit`, `malformed`, `chunk_kind`, `schema`, `author`, `clock`, `actor`, `role`,
    /// `derived`, `ownership`, `invalid_record`, `duplicate_code`, `scope`.
    pub code: String,
    pub reason: Text,
    /// Per-field problems, when a record failed validation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
}

impl Refusal {
    pub fn new(code: &str, vi: impl Into<String>, en: impl Into<String>) -> Self {
        Refusal {
            code: code.to_string(),
            reason: Text::new(vi, en),
            fields: vec![],
        }
    }
}
