//! One error type for every handler and one response body for every error: a stable
//! `code`, a message in Vietnamese and English, and per-field errors. Internal details go
//! to the log, never to the client.

use crate::store::StoreError;
use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
pub use shared::api::ErrorBody;
use shared::{Text, ValidationErrors};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("validation failed")]
    Validation(ValidationErrors),
    #[error("bad request: {code}")]
    BadRequest { code: &'static str, message: Text },
    #[error("unauthenticated: {code}")]
    Unauthenticated { code: &'static str, message: Text },
    #[error("forbidden")]
    Forbidden,
    #[error("out of scope")]
    OutOfScope,
    #[error("not found: {0}")]
    NotFound(&'static str),
    #[error("conflict: {code}")]
    Conflict { code: &'static str, message: Text },
    #[error("body too large")]
    TooLarge,
    /// The server cannot take the request now (overloaded, too slow): nothing was done.
    #[error("unavailable: {code}")]
    Unavailable { code: &'static str, message: Text },
    /// Too many attempts or requests: try again after `retry_after` seconds.
    #[error("too many: {code}")]
    TooMany {
        code: &'static str,
        message: Text,
        retry_after: u64,
    },
    #[error("internal: {0}")]
    Internal(String),
}

impl AppError {
    pub fn status(&self) -> StatusCode {
        match self {
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            AppError::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
            AppError::Forbidden | AppError::OutOfScope => StatusCode::FORBIDDEN,
            AppError::NotFound(_) => StatusCode::NOT_FOUND,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::TooMany { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn body(&self) -> ErrorBody {
        let (code, message, fields) = match self {
            AppError::Validation(e) => (
                "validation_failed",
                Text::new(
                    "Dữ liệu chưa hợp lệ, xem lỗi từng trường.",
                    "Some fields are not valid; see each field.",
                ),
                e.0.clone(),
            ),
            AppError::BadRequest { code, message }
            | AppError::Unauthenticated { code, message }
            | AppError::Conflict { code, message }
            | AppError::Unavailable { code, message }
            | AppError::TooMany { code, message, .. } => (*code, message.clone(), vec![]),
            AppError::Forbidden => (
                "forbidden",
                Text::new(
                    "Vai trò của bạn không được phép làm việc này.",
                    "Your role may not do this.",
                ),
                vec![],
            ),
            AppError::OutOfScope => (
                "out_of_scope",
                Text::new(
                    "Hồ sơ này nằm ngoài địa bàn hoặc danh sách hộ được giao cho bạn.",
                    "This record is outside your area or your assigned households.",
                ),
                vec![],
            ),
            AppError::NotFound(what) => (
                "not_found",
                Text::new(
                    format!("Không tìm thấy {}.", what_vi(what)),
                    format!("No such {what}."),
                ),
                vec![],
            ),
            AppError::TooLarge => (
                "body_too_large",
                Text::new("Dữ liệu gửi lên quá lớn.", "The request body is too large."),
                vec![],
            ),
            AppError::Internal(_) => (
                "internal",
                Text::new(
                    "Máy chủ gặp sự cố; dữ liệu chưa được lưu, vui lòng thử lại.",
                    "The server had a problem; nothing was saved, please try again.",
                ),
                vec![],
            ),
        };
        ErrorBody {
            code: code.to_string(),
            message,
            fields,
        }
    }

    /// A single-field validation error.
    pub fn field(field: &str, code: &str, message: Text) -> Self {
        let mut e = ValidationErrors::default();
        e.push(field, code, message);
        AppError::Validation(e)
    }
}

fn what_vi(what: &str) -> &'static str {
    match what {
        "area" => "địa bàn",
        "user" => "người dùng",
        "household" => "hộ",
        "member" => "thành viên",
        "assignment" => "phân công",
        "support action" => "hoạt động hỗ trợ",
        "rule set" => "bộ chuẩn nghèo",
        "conflict" => "xung đột",
        "route" => "đường dẫn",
        _ => "bản ghi",
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        if let AppError::Internal(detail) = &self {
            tracing::error!(%detail, "internal error");
        }
        let mut r = (self.status(), Json(self.body())).into_response();
        if let AppError::TooMany { retry_after, .. } = &self {
            r.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(*retry_after),
            );
        }
        r
    }
}

impl From<ValidationErrors> for AppError {
    fn from(e: ValidationErrors) -> Self {
        AppError::Validation(e)
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound("record"),
            StoreError::Duplicate(detail) => {
                tracing::info!(%detail, "duplicate");
                AppError::Conflict {
                    code: "duplicate",
                    message: Text::new(
                        "Bản ghi đã tồn tại hoặc đã thay đổi (ví dụ mã hộ hoặc tên đăng nhập bị trùng).",
                        "This already exists or has changed (e.g. a household code or username is taken).",
                    ),
                }
            }
            StoreError::BadReference(detail) => {
                tracing::info!(%detail, "bad reference");
                AppError::BadRequest {
                    code: "unknown_reference",
                    message: Text::new(
                        "Dữ liệu tham chiếu tới một bản ghi không tồn tại.",
                        "The input refers to a record that does not exist.",
                    ),
                }
            }
            StoreError::LastAdministrator => AppError::Conflict {
                code: "last_administrator",
                message: Text::new(
                    "Đây là quản trị viên cuối cùng còn hoạt động: không thể khoá hay đổi vai trò. Hãy tạo một quản trị viên khác trước.",
                    "This is the last active administrator: it cannot be disabled or given another role. Create another administrator first.",
                ),
            },
            StoreError::Stale => AppError::Conflict {
                code: "changed_meanwhile",
                message: Text::new(
                    "Hồ sơ vừa được người khác thay đổi; hãy thử lại.",
                    "The record was just changed by someone else; please try again.",
                ),
            },
            StoreError::Ownership(_) | StoreError::ActorTaken(_) => AppError::Conflict {
                code: "ownership",
                message: Text::new(
                    "Bản ghi thuộc về hộ hoặc máy khác.",
                    "The record belongs to another household or device.",
                ),
            },
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<JsonRejection> for AppError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::JsonDataError(e) => AppError::BadRequest {
                code: "invalid_fields",
                message: Text::new(
                    format!("Dữ liệu không đúng dạng: {}", e.body_text()),
                    format!("The data has the wrong shape: {}", e.body_text()),
                ),
            },
            JsonRejection::JsonSyntaxError(_) => AppError::BadRequest {
                code: "malformed_json",
                message: Text::new(
                    "Dữ liệu gửi lên không phải JSON hợp lệ.",
                    "The request body is not valid JSON.",
                ),
            },
            JsonRejection::MissingJsonContentType(_) => AppError::BadRequest {
                code: "content_type",
                message: Text::new(
                    "Cần gửi dữ liệu dạng JSON (Content-Type: application/json).",
                    "Send JSON with Content-Type: application/json.",
                ),
            },
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => AppError::TooLarge,
            other => AppError::BadRequest {
                code: "unreadable_body",
                message: Text::new(
                    format!("Không đọc được dữ liệu gửi lên: {}", other.body_text()),
                    format!("The request body could not be read: {}", other.body_text()),
                ),
            },
        }
    }
}

impl From<QueryRejection> for AppError {
    fn from(r: QueryRejection) -> Self {
        AppError::BadRequest {
            code: "invalid_query",
            message: Text::new(
                format!("Tham số truy vấn không hợp lệ: {}", r.body_text()),
                format!("Invalid query parameters: {}", r.body_text()),
            ),
        }
    }
}

impl From<PathRejection> for AppError {
    fn from(r: PathRejection) -> Self {
        AppError::BadRequest {
            code: "invalid_path",
            message: Text::new(
                format!("Đường dẫn không hợp lệ: {}", r.body_text()),
                format!("Invalid path: {}", r.body_text()),
            ),
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;
