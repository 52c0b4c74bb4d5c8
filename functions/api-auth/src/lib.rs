//! Signing in without passwords:
//!
//! - `POST /v1/auth/magic-link {"email"}`: always 202, whether or not the address belongs to
//!   anyone (no way to learn who is a user); each tenant the person belongs to gets a link,
//!   single use, valid 15 minutes. At most 5 requests per address and 20 per client address
//!   in 15 minutes (429 with `Retry-After`).
//! - `GET /v1/auth/verify?token=`: a page with one button; mail scanners that open links do
//!   not use the token up. The button posts to `POST /v1/auth/session`, which does, and sets
//!   the session cookie (`HttpOnly`, `SameSite=Lax`, `Secure` except on plain-HTTP localhost)
//!   and the CSRF cookie.
//! - `POST /v1/auth/logout`: ends the session and clears the cookies.
//! - `GET /v1/me`: who is signed in (or which API key calls), in which tenant, with what role.
//! - `/v1/users`: the tenant's people (invite, change role, remove; `people.rs`).

mod link;
mod people;
mod session;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::{get, post};
use smscrm_domain::ports::Mailer;
use smscrm_http::{ApiError, AppContext};

#[derive(Clone)]
pub struct AuthState {
    pub app: AppContext,
    pub mailer: Arc<dyn Mailer>,
    /// Where links point, e.g. `https://sms.example.com` (or `http://127.0.0.1:8080` locally);
    /// `None`: `https://` and the host the request came to (the API's own domain on AWS).
    pub public_base_url: Option<String>,
}

impl FromRef<AuthState> for AppContext {
    fn from_ref(state: &AuthState) -> Self {
        state.app.clone()
    }
}

impl AuthState {
    /// Cookies are `Secure` unless the product is served over plain HTTP on this machine.
    pub(crate) fn secure_cookies(&self) -> bool {
        let Some(url) = &self.public_base_url else {
            return true;
        };
        let url = url.to_ascii_lowercase();
        !["http://localhost", "http://127.0.0.1", "http://[::1]"]
            .iter()
            .any(|local| url.starts_with(local))
    }

    /// The base of the links in emails.
    pub(crate) fn link_base(&self, headers: &axum::http::HeaderMap) -> Result<String, ApiError> {
        if let Some(url) = &self.public_base_url {
            return Ok(url.trim_end_matches('/').to_owned());
        }
        headers
            .get(axum::http::header::HOST)
            .and_then(|host| host.to_str().ok())
            .map(|host| format!("https://{host}"))
            .ok_or(ApiError::BadRequest {
                code: "missing_host",
                message: "the request names no Host".into(),
            })
    }
}

pub fn router() -> Router<AuthState> {
    Router::new()
        .route("/v1/auth/magic-link", post(link::request))
        .route("/v1/auth/verify", get(session::confirm_page))
        .route("/v1/auth/session", post(session::start))
        .route("/v1/auth/logout", post(session::logout))
        .route("/v1/me", get(session::me))
        .route("/v1/users", get(people::list).post(people::invite))
        .route(
            "/v1/users/{id}",
            axum::routing::patch(people::change_role).delete(people::remove),
        )
}
