//! `Authorization: Bearer <api key>` to the tenant it belongs to. The tenant comes from the
//! key and nowhere else.

use axum::extract::{FromRef, FromRequestParts};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use smscrm_domain::{ApiKeyId, Tenant};

use crate::{ApiError, AppContext};

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub tenant: Tenant,
    pub key_id: ApiKeyId,
}

impl<S> FromRequestParts<S> for Principal
where
    AppContext: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let ctx = AppContext::from_ref(state);
        let presented = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.split_once(' ')
                    .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            })
            .map(|(_, key)| key.trim())
            .ok_or(ApiError::Unauthorized)?;
        let resolved = ctx
            .api_keys
            .resolve(presented)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        let tenant = ctx
            .tenants
            .get(&resolved.tenant_id)
            .await?
            .ok_or(ApiError::Unauthorized)?;
        tracing::Span::current().record("tenant_id", tracing::field::display(&tenant.id));
        Ok(Self {
            tenant,
            key_id: resolved.key_id,
        })
    }
}
