//! Who is calling: a request counts as Twilio's for a tenant only if its `X-Twilio-Signature`
//! is the HMAC of the exact URL Twilio called and every form parameter, keyed with that
//! tenant's auth token, and it names the tenant's account.

use std::time::Duration;

use axum::http::{HeaderMap, Uri, header};
use secrecy::ExposeSecret as _;
use smscrm_domain::{Tenant, TenantId};
use smscrm_http::ApiError;
use smscrm_twilio::credentials::WebhookKey;
use smscrm_twilio::signature;

use crate::WebhookState;

/// How long a cached webhook key is trusted before a failed check reads it again.
const KEY_RELOAD_AFTER: Duration = Duration::from_secs(2);

/// Why a request was refused. Logged, never told to the caller (they all answer the same 403).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("no tenant has this id")]
    UnknownTenant,
    #[error("the tenant has no Twilio auth token to check signatures with")]
    NoAuthToken,
    #[error("the X-Twilio-Signature header is missing")]
    Missing,
    #[error("the signature does not match the URL and parameters")]
    Mismatch,
    #[error("the AccountSid is not the tenant's account")]
    WrongAccount,
}

/// A request proven to come from Twilio for `tenant`, with its form parameters.
#[derive(Debug)]
pub struct Signed {
    pub tenant: Tenant,
    pub params: Vec<(String, String)>,
}

impl Signed {
    /// A parameter's value; an empty one counts as absent.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// A required parameter, or a 400 naming it.
    pub fn require(&self, name: &'static str) -> Result<&str, ApiError> {
        self.get(name).ok_or_else(|| ApiError::BadRequest {
            code: "invalid_webhook",
            message: format!("the `{name}` parameter is missing"),
        })
    }
}

/// Checks a webhook request; anything short of a valid signature is a 403 with nothing read.
pub async fn verify(
    state: &WebhookState,
    tenant_id: &str,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Signed, ApiError> {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form {
        return Err(ApiError::UnsupportedMediaType(
            "Twilio webhooks are application/x-www-form-urlencoded".into(),
        ));
    }
    let params: Vec<(String, String)> = form_urlencoded::parse(body).into_owned().collect();
    let url = called_url(state, uri, headers);
    match check(state, tenant_id, headers, &url, &params).await {
        Ok(tenant) => {
            tracing::Span::current().record("tenant_id", tracing::field::display(&tenant.id));
            Ok(Signed { tenant, params })
        }
        Err(Refused::Signature(reason)) => {
            tracing::warn!(%tenant_id, %url, %reason, alert = "webhook_signature", "webhook refused");
            Err(ApiError::Forbidden {
                code: "invalid_signature",
                message: "the request is not signed by Twilio for this account".into(),
            })
        }
        Err(Refused::Unavailable(error)) => Err(error),
    }
}

/// The URL Twilio called: the public base URL, then the path and query as they arrived.
fn called_url(state: &WebhookState, uri: &Uri, headers: &HeaderMap) -> String {
    let path = uri.path_and_query().map_or(uri.path(), |pq| pq.as_str());
    match &state.config.public_base_url {
        Some(base) => format!("{base}{path}"),
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            format!("https://{host}{path}")
        }
    }
}

enum Refused {
    Signature(SignatureError),
    Unavailable(ApiError),
}

async fn check(
    state: &WebhookState,
    tenant_id: &str,
    headers: &HeaderMap,
    url: &str,
    params: &[(String, String)],
) -> Result<Tenant, Refused> {
    let refuse = |reason| Err(Refused::Signature(reason));
    let Some(presented) = headers.get(signature::HEADER).and_then(|v| v.to_str().ok()) else {
        return refuse(SignatureError::Missing);
    };
    let Ok(id) = tenant_id.parse::<TenantId>() else {
        return refuse(SignatureError::UnknownTenant);
    };
    let tenant = match state.tenants.get(&id).await {
        Ok(Some(tenant)) => tenant,
        Ok(None) => return refuse(SignatureError::UnknownTenant),
        Err(e) => return Err(Refused::Unavailable(e.into())),
    };
    let key = match state.credentials.webhook_key(&id).await {
        Ok(Some(key)) => key,
        Ok(None) => return refuse(SignatureError::NoAuthToken),
        Err(e) => {
            return Err(Refused::Unavailable(ApiError::Unavailable(Box::new(e))));
        }
    };
    let refused = match signed_by(&key, url, params, presented) {
        Ok(()) => return Ok(tenant),
        Err(reason) => reason,
    };
    // The tenant may have rotated its auth token, or moved to an account of its own, since the
    // key was cached: read it again (not more often than KEY_RELOAD_AFTER) and check once more.
    let reloaded = state
        .credentials
        .reloaded_webhook_key(&id, KEY_RELOAD_AFTER)
        .await
        .map_err(|e| Refused::Unavailable(ApiError::Unavailable(Box::new(e))))?;
    match reloaded {
        Some(key) => signed_by(&key, url, params, presented)
            .map(|()| tenant)
            .map_err(Refused::Signature),
        None => Err(Refused::Signature(refused)),
    }
}

/// The presented signature is Twilio's for this key, and the request is of the key's account.
fn signed_by(
    key: &WebhookKey,
    url: &str,
    params: &[(String, String)],
    presented: &str,
) -> Result<(), SignatureError> {
    if !signature::verify(key.auth_token.expose_secret(), url, params, presented) {
        return Err(SignatureError::Mismatch);
    }
    let account = params
        .iter()
        .find(|(name, _)| name == "AccountSid")
        .map(|(_, v)| v.as_str());
    if account != Some(key.account_sid.as_str()) {
        return Err(SignatureError::WrongAccount);
    }
    Ok(())
}
