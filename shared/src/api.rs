//! Wire types that the server sends and the phone app reads, defined once so both sides
//! agree on the shape of sign-in and of every error.

use crate::permissions::Reach;
use crate::user::User;
use crate::{FieldError, Text};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The body of every error response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    /// Stable machine-readable code, e.g. `validation_failed`, `out_of_scope`.
    pub code: String,
    pub message: Text,
    /// Problems with single fields of the input, if any.
    pub fields: Vec<FieldError>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    /// A stable id the phone generates once; refresh tokens are bound to it.
    pub device_id: String,
    /// What the device calls itself: its browser and phone model ("Chrome · Android ·
    /// SM-A125F"); the server derives one from the browser's own header when absent.
    #[serde(default)]
    pub device_name: Option<String>,
}

/// The most characters of a device's name.
pub const DEVICE_NAME_MAX: usize = 60;

/// A device's name as kept: trimmed, without control characters, at most
/// `DEVICE_NAME_MAX` characters; `None` when nothing is left.
pub fn device_name(raw: &str) -> Option<String> {
    let clean: String = raw
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let cut: String = clean.chars().take(DEVICE_NAME_MAX).collect();
    (!cut.is_empty()).then_some(cut)
}

/// `PUT /api/auth/device`: the person renames the device they are signed in on.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct DeviceRename {
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
    pub device_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenPair {
    pub access_token: String,
    /// Seconds the access token stays valid.
    pub expires_in: i64,
    /// Use once with `/auth/refresh`; it is replaced every time.
    pub refresh_token: String,
    pub refresh_expires_in: i64,
    pub user: User,
}

/// The signed-in user and what they may do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Me {
    pub user: User,
    pub device_id: String,
    /// Action name → how far it reaches (`everywhere`, `area_tree`, `assigned`).
    pub permissions: BTreeMap<String, Reach>,
}

/// A field written concurrently on several devices, as the commune officer sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConflictRecord {
    pub id: String,
    pub household_id: String,
    pub path: Vec<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub candidates: Vec<crate::doc::ConflictValue>,
    pub opened_at: i64,
    pub resolved_at: Option<i64>,
    pub resolved_by: Option<String>,
    /// The value an officer decided (none while open, or when a later edit closed it).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub resolution: Option<serde_json::Value>,
    /// Who wrote the competing values, by name, and who decided (filled by the server).
    #[serde(default)]
    pub writers: Vec<NamedDevice>,
    #[serde(default)]
    pub resolved_by_name: Option<String>,
}

/// A person and one of their devices, by the names people know them by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NamedDevice {
    pub user_id: String,
    pub device_id: String,
    pub user_name: String,
    pub device_name: String,
}

/// Changes a device pushed that the rules refused, kept for the commune officer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QuarantineRecord {
    pub id: String,
    pub household_id: String,
    pub user_id: String,
    pub device_id: String,
    pub at: i64,
    pub reason: crate::Text,
    /// The write core's refusal code (`crate::core::Refusal::code`).
    pub code: String,
    /// Size of the refused automerge changes, which are kept whole.
    pub bytes: i64,
    /// `accepted` or `rejected` once a commune officer decided.
    pub decision: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
}

/// A user's session on one device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Session {
    pub id: String,
    pub user_id: String,
    pub device_id: String,
    pub created_at: i64,
    /// The last sign-in, token renewal or sync of this session (kept to the minute).
    pub last_seen_at: i64,
    pub revoked_at: Option<i64>,
    /// What the revocation asked of the phone; `None` with `revoked_at`: the person
    /// signed out, or the session ended by a password change.
    #[serde(default)]
    pub revoke_kind: Option<RevokeKind>,
    /// When the phone confirmed it erased everything of the person (`RevokeKind::Erase`).
    #[serde(default)]
    pub erased_at: Option<i64>,
    /// Households with changes the phone had not sent when it was last seen (at its
    /// erase confirmation: the unsent work that was erased).
    #[serde(default)]
    pub unsent: i64,
    /// The device's name: its browser and model at sign-in, or what the person called it.
    #[serde(default)]
    pub device_name: String,
}

impl Session {
    /// What the console says of this device.
    pub fn state(&self) -> DeviceState {
        match (self.revoked_at, self.revoke_kind, self.erased_at) {
            (None, _, _) => DeviceState::Active,
            (Some(_), Some(RevokeKind::Erase), Some(_)) => DeviceState::Erased,
            (Some(_), Some(RevokeKind::Erase), None) => DeviceState::ErasePending,
            (Some(_), _, _) => DeviceState::SignedOut,
        }
    }
}

/// The refusal code that tells a phone reported lost to erase the person's data.
pub const DEVICE_ERASE_CODE: &str = "device_erase";

/// What revoking a device asks of the phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RevokeKind {
    /// The phone hides every household at once and keeps its unsent work, encrypted,
    /// until the same person signs in again.
    SignOut,
    /// Lost or stolen: at its next contact the phone deletes everything of the person
    /// (unsent work included) and confirms.
    Erase,
}

impl RevokeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RevokeKind::SignOut => "sign_out",
            RevokeKind::Erase => "erase",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "sign_out" => Some(RevokeKind::SignOut),
            "erase" => Some(RevokeKind::Erase),
            _ => None,
        }
    }
}

/// A device's state as the console shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceState {
    Active,
    SignedOut,
    ErasePending,
    Erased,
}

/// The body of a revocation (`POST /api/users/{id}/devices/{device}/revoke`); without
/// one, the device is signed out.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RevokeRequest {
    #[serde(default)]
    pub kind: Option<RevokeKind>,
}

/// A phone's confirmation that it erased everything of the person
/// (`POST /api/auth/erased`), proved by the refresh token of the revoked session.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ErasedRequest {
    pub refresh_token: String,
    pub device_id: String,
    /// Households with unsent changes that were erased.
    #[serde(default)]
    pub unsent: u32,
}

/// Households per status in one village.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StatusCount {
    pub village_id: String,
    pub status: crate::household::HouseholdStatus,
    pub households: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Stats {
    pub area_id: String,
    pub households: i64,
    pub poor: i64,
    pub near_poor: i64,
    pub poor_rate_pct: f64,
    pub near_poor_rate_pct: f64,
    pub target: Option<crate::target::Target>,
    pub by_village: Vec<StatusCount>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEvent {
    pub id: String,
    pub at: i64,
    pub user_id: Option<String>,
    pub device_id: Option<String>,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub changes: serde_json::Value,
}
