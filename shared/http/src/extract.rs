//! axum's JSON and query extractors with rejections turned into [`ApiError`]s.

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::{ApiError, MAX_BODY_BYTES};

/// A JSON body: malformed JSON is 400, the wrong shape 422, too large 413.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

/// An optional JSON body: no body at all reads as `T::default()` (e.g. `POST .../launch` with
/// nothing to say); a body is read like [`ApiJson`].
pub struct ApiJsonOrEmpty<T>(pub T);

impl<S, T> FromRequest<S> for ApiJsonOrEmpty<T>
where
    T: DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let has_type = req.headers().contains_key(axum::http::header::CONTENT_TYPE);
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|rejection| match rejection.status() {
                StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge {
                    limit: MAX_BODY_BYTES,
                },
                _ => ApiError::BadRequest {
                    code: "unreadable_body",
                    message: rejection.body_text(),
                },
            })?;
        if bytes.is_empty() {
            return Ok(Self(T::default()));
        }
        if !has_type {
            return Err(json_rejection(JsonRejection::MissingJsonContentType(
                Default::default(),
            )));
        }
        axum::Json::<T>::from_bytes(&bytes)
            .map(|axum::Json(value)| Self(value))
            .map_err(json_rejection)
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonDataError(e) => ApiError::Unprocessable(e.body_text()),
        JsonRejection::JsonSyntaxError(e) => ApiError::BadRequest {
            code: "malformed_json",
            message: e.body_text(),
        },
        JsonRejection::MissingJsonContentType(_) => ApiError::UnsupportedMediaType(
            "send the body as JSON with `Content-Type: application/json`".into(),
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge {
            limit: MAX_BODY_BYTES,
        },
        other => ApiError::BadRequest {
            code: "unreadable_body",
            message: other.body_text(),
        },
    }
}

/// Query parameters: anything that does not parse is a 400.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Query(value)| Self(value))
            .map_err(|rejection: QueryRejection| ApiError::BadRequest {
                code: "invalid_query",
                message: rejection.body_text(),
            })
    }
}

/// Path parameters. A segment that cannot be read (not UTF-8 once decoded, say) names nothing
/// that exists: 404 `not_found` in JSON, as a malformed id is, rather than axum's plain text.
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(value)| Self(value))
            .map_err(|rejection| {
                tracing::debug!(%rejection, "unreadable path");
                ApiError::NotFound("resource")
            })
    }
}

/// The caller's address, for rate limits and the audit log. On Lambda, the source address API
/// Gateway saw (its request context, which no header can change); elsewhere the last
/// `X-Forwarded-For` entry (the one the proxy in front appends; earlier ones are the client's
/// to write), else the peer address the local host saw, else `unknown`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::of(parts))
    }
}

impl ClientIp {
    pub fn of(parts: &Parts) -> Self {
        let gateway = parts
            .extensions
            .get::<lambda_http::request::RequestContext>()
            .and_then(|context| match context {
                lambda_http::request::RequestContext::ApiGatewayV2(v2) => v2.http.source_ip.clone(),
                lambda_http::request::RequestContext::ApiGatewayV1(v1) => {
                    v1.identity.source_ip.clone()
                }
                _ => None,
            });
        let forwarded = || {
            parts
                .headers
                .get("x-forwarded-for")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.rsplit(',').next())
                .map(str::to_owned)
        };
        let peer = || {
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|info| info.0.ip().to_string())
        };
        let address = [gateway, forwarded(), peer()]
            .into_iter()
            .flatten()
            .find_map(|raw| raw.trim().parse::<std::net::IpAddr>().ok());
        Self(address.map_or_else(|| "unknown".into(), |ip| ip.to_string()))
    }
}
