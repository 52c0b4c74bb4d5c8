//! HTTP pieces every API function shares: the error type and its JSON body, the request
//! context, the API-key extractor and JSON/query extractors whose rejections are ApiErrors.

pub mod access;
pub mod auth;
pub mod context;
pub mod error;
pub mod extract;
pub mod layers;
pub mod paging;

pub use auth::{Caller, Principal};
pub use context::AppContext;
pub use error::ApiError;
pub use extract::{ApiJson, ApiJsonOrEmpty, ApiPath, ApiQuery, ClientIp};
pub use layers::{MAX_BODY_BYTES, with_common_layers};
pub use paging::{Listing, PageParams, page};

/// `GET /health`: answers while the process can serve; used by load balancers and the host.
pub fn health_router() -> axum::Router<AppContext> {
    axum::Router::new().route(
        "/health",
        axum::routing::get(|| async { axum::Json(serde_json::json!({ "status": "ok" })) }),
    )
}
