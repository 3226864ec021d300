//! Extractors that turn malformed input into the same error body as everything else,
//! instead of axum's plain-text rejections.

use crate::error::AppError;
use axum::extract::{FromRequest, FromRequestParts};

/// JSON body; bad JSON, wrong types and oversized bodies become `AppError`s.
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct AppJson<T>(pub T);

/// Query string; unknown values for typed parameters become `AppError`s.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct AppQuery<T>(pub T);

/// Path parameters.
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct AppPath<T>(pub T);
