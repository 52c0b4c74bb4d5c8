//! One error type for every API route, rendered as
//! `{"error": {"code", "message", "details"}}`. Codes are stable; messages are for people.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use smscrm_domain::ValidationError;
use smscrm_domain::ports::StoreError;
use smscrm_store::RepoError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// A field failed validation: 400 with the field and why.
    #[error("{0}")]
    InvalidField(ValidationError),
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("missing or invalid API key or session")]
    Unauthorized,
    /// The caller proved nothing, or the wrong thing (a webhook's signature): 403.
    #[error("{message}")]
    Forbidden { code: &'static str, message: String },
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    /// A conflict with the resource's current state, which the details show (e.g. a campaign
    /// action its status does not allow): 409 with its own code.
    #[error("{message}")]
    StateConflict {
        code: &'static str,
        message: String,
        details: Value,
    },
    #[error("request body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Well-formed JSON of the wrong shape: wrong types, unknown or missing fields.
    #[error("{0}")]
    Unprocessable(String),
    /// An uploaded file that cannot be imported at all (no phone column, binary, empty).
    #[error("{0}")]
    Unreadable(String),
    /// Well-formed and valid field by field, but refused by a rule with its own code
    /// (`unknown_variable`, `missing_variable`): 422.
    #[error("{message}")]
    Rule {
        code: &'static str,
        message: String,
        details: Value,
    },
    #[error("method not allowed")]
    MethodNotAllowed,
    /// Too many requests of one kind from one caller: 429 with `Retry-After`.
    #[error("too many requests; try again in {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: u64 },
    /// Temporary: the client may retry.
    #[error("service temporarily unavailable")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Anything else: logged with its cause chain, never shown.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    pub fn internal(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Internal(Box::new(err))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidField(_) | Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) | Self::StateConflict { .. } => StatusCode::CONFLICT,
            Self::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unprocessable(_) | Self::Unreadable(_) | Self::Rule { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidField(_) => "invalid_field",
            Self::BadRequest { code, .. } => code,
            Self::Unauthorized => "unauthorized",
            Self::Forbidden { code, .. } => code,
            Self::NotFound(_) => "not_found",
            Self::Conflict(_) => "conflict",
            Self::StateConflict { code, .. } => code,
            Self::PayloadTooLarge { .. } => "payload_too_large",
            Self::UnsupportedMediaType(_) => "unsupported_media_type",
            Self::Unprocessable(_) => "invalid_body",
            Self::Unreadable(_) => "unreadable_file",
            Self::Rule { code, .. } => code,
            Self::MethodNotAllowed => "method_not_allowed",
            Self::TooManyRequests { .. } => "rate_limited",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    fn details(&self) -> Value {
        match self {
            Self::InvalidField(v) => json!({ "field": v.field, "reason": v.reason }),
            Self::PayloadTooLarge { limit } => json!({ "limit_bytes": limit }),
            Self::TooManyRequests { retry_after_secs } => {
                json!({ "retry_after_secs": retry_after_secs })
            }
            Self::Rule { details, .. } | Self::StateConflict { details, .. } => details.clone(),
            _ => Value::Null,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %error_chain(&self), code = self.code(), "request failed");
        } else {
            tracing::info!(
                code = self.code(),
                status = status.as_u16(),
                "request rejected"
            );
        }
        let body = json!({
            "error": { "code": self.code(), "message": self.to_string(), "details": self.details() }
        });
        let mut response = (status, Json(body)).into_response();
        if let Self::TooManyRequests { retry_after_secs } = self {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(retry_after_secs),
            );
        }
        response
    }
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut out = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        out.push_str(": ");
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    out
}

impl From<ValidationError> for ApiError {
    fn from(err: ValidationError) -> Self {
        Self::InvalidField(err)
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::InvalidCursor => Self::BadRequest {
                code: "invalid_cursor",
                message: "the cursor is not one this list returned; start again without it".into(),
            },
            e if e.is_retryable() => Self::Unavailable(Box::new(e)),
            e => Self::internal(e),
        }
    }
}

impl From<RepoError> for ApiError {
    fn from(err: RepoError) -> Self {
        match err {
            RepoError::NotFound => Self::NotFound("resource"),
            RepoError::Conflict(message) => Self::Conflict(message),
            RepoError::Validation(v) => Self::InvalidField(v),
            RepoError::InvalidCursor => StoreError::InvalidCursor.into(),
            RepoError::Store(e) => e.into(),
            e @ RepoError::Corrupt(_) => Self::internal(e),
        }
    }
}
