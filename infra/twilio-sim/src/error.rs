//! Errors the simulator answers with, in Twilio's JSON shape:
//! `{"code", "message", "more_info", "status"}`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// Missing or wrong credentials, or credentials of another account than the path's.
    #[error("Authenticate")]
    Unauthenticated,
    /// A bad request: Twilio's error `code` and its message.
    #[error("{message}")]
    Invalid { code: u32, message: String },
    #[error("The requested resource {uri} was not found")]
    NotFound { uri: String },
    /// Too many requests (a fault, or the sender's rate limit).
    #[error("Too Many Requests")]
    TooManyRequests,
    /// An injected 500 or 503.
    #[error("{}", status.canonical_reason().unwrap_or("Server Error"))]
    Server { status: StatusCode },
}

impl ApiError {
    pub(crate) fn invalid(code: u32, message: impl Into<String>) -> Self {
        Self::Invalid {
            code,
            message: message.into(),
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::Invalid { .. } => StatusCode::BAD_REQUEST,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Self::Server { status } => *status,
        }
    }

    /// Twilio's error code: the documented ones, and `20000 + HTTP status` for server errors
    /// (what Twilio's own 5xx bodies carry).
    pub fn code(&self) -> u32 {
        match self {
            Self::Unauthenticated => 20003,
            Self::Invalid { code, .. } => *code,
            Self::NotFound { .. } => 20404,
            Self::TooManyRequests => 20429,
            Self::Server { status } => 20000 + u32::from(status.as_u16()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let code = self.code();
        let body = json!({
            "code": code,
            "message": self.to_string(),
            "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
            "status": status.as_u16(),
        });
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"Twilio API\""),
            );
        }
        response
    }
}
