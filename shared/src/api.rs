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
