//! Layers every API router gets, on Lambda and locally alike.

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::HeaderValue;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use crate::ApiError;

/// Largest JSON body accepted (API Gateway's own cap is 10 MB; bulk data goes through imports).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

const REQUEST_ID: &str = "x-request-id";

/// Body limit, JSON 404/405s, and a tracing span per request carrying its request id (and the
/// tenant id once the caller is authenticated).
pub fn with_common_layers<S: Clone + Send + Sync + 'static>(router: Router<S>) -> Router<S> {
    router
        .fallback(|| async { ApiError::NotFound("route") })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn(request_span))
}

async fn request_span(req: Request, next: Next) -> Response {
    let request_id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .map(str::to_owned)
        .unwrap_or_else(|| ulid::Ulid::new().to_string());
    let span = tracing::info_span!(
        "request",
        method = %req.method(),
        path = %req.uri().path(),
        request_id = %request_id,
        tenant_id = tracing::field::Empty,
        status = tracing::field::Empty,
    );
    async move {
        let mut response = next.run(req).await.into_response();
        tracing::Span::current().record("status", response.status().as_u16());
        tracing::info!("handled");
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            response.headers_mut().insert(REQUEST_ID, value);
        }
        response
    }
    .instrument(span)
    .await
}
