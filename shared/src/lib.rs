//! Shared domain of Đồng Hành: the records of the poverty-reduction programme, their
//! validation, the role × action × area-scope rules and the versioned poverty rule sets.
//!
//! The phone app (wasm32) and the server use this crate unchanged, so both agree on what a
//! record may contain, who may change it and how a household classifies. It does no I/O.

pub mod api;
pub mod area;
pub mod assessment;
pub mod assignment;
pub mod campaign;
pub mod core;
pub mod dashboard;
pub mod device;
pub mod doc;
pub mod history;
pub mod household;
pub mod i18n;
pub mod import;
pub mod ledger;
pub mod permissions;
pub mod plan;
pub mod projection;
pub mod report;
pub mod review;
pub mod rules;
pub mod search;
pub mod summary;
pub mod support;
pub mod sync;
pub mod target;
pub mod user;
pub mod validation;
pub mod visit;

pub use i18n::Text;
pub use validation::{DATE_AHEAD_DAYS, FieldError, Validate, ValidationErrors};
