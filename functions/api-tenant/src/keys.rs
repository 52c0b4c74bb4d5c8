//! The tenant's API keys, for its owners and admins: list them with their scopes and when
//! each was last used, mint one (its secret is shown once), revoke one. Each is audited.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use smscrm_domain::ApiKeyId;
use smscrm_domain::apikey::{ApiKey, Scope};
use smscrm_http::{ApiError, ApiJson, ApiPath, Principal};
use smscrm_store::RepoError;

use crate::{TenantState, audited};

const MAX_NAME_CHARS: usize = 100;

/// A key as the tenant sees it: never its secret, nor the hash of it.
#[derive(Debug, Serialize)]
pub struct KeyView {
    id: ApiKeyId,
    name: String,
    scopes: Vec<Scope>,
    created_at: DateTime<Utc>,
    last_used_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
}

impl From<ApiKey> for KeyView {
    fn from(key: ApiKey) -> Self {
        Self {
            id: key.id,
            name: key.name,
            scopes: key.scopes,
            created_at: key.created_at,
            last_used_at: key.last_used_at,
            revoked_at: key.revoked_at,
        }
    }
}

pub async fn list(
    State(state): State<TenantState>,
    principal: Principal,
) -> Result<Json<serde_json::Value>, ApiError> {
    let keys = state.app.api_keys.list(&principal.tenant.id).await?;
    let data: Vec<KeyView> = keys.into_iter().map(KeyView::from).collect();
    Ok(Json(json!({ "data": data })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    name: String,
    scopes: Vec<String>,
}

pub async fn create(
    State(state): State<TenantState>,
    principal: Principal,
    ApiJson(request): ApiJson<NewKey>,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let name = request.name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_NAME_CHARS
        || name.chars().any(char::is_control)
    {
        return Err(ApiError::InvalidField(smscrm_domain::ValidationError::new(
            "name",
            format!("a name of 1 to {MAX_NAME_CHARS} printable characters, to tell keys apart"),
        )));
    }
    let scopes = Scope::parse_list(request.scopes.iter().map(String::as_str))?;
    let minted = state
        .app
        .api_keys
        .create(&principal.tenant.id, name, scopes, state.app.clock.now())
        .await?;
    let target = format!("api_key:{}", minted.key.id);
    let details = json!({ "name": minted.key.name, "scopes": minted.key.scopes });
    audited(&state, &principal, "api_key.created", target, details).await;
    let mut body = serde_json::to_value(KeyView::from(minted.key)).map_err(ApiError::internal)?;
    body["api_key"] = json!(minted.plaintext);
    Ok((StatusCode::CREATED, Json(body)))
}

pub async fn revoke(
    State(state): State<TenantState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<KeyView>, ApiError> {
    let id: ApiKeyId = id.parse().map_err(|_| ApiError::NotFound("API key"))?;
    let key = state
        .app
        .api_keys
        .revoke(&principal.tenant.id, &id, state.app.clock.now())
        .await
        .map_err(|e| match e {
            RepoError::NotFound => ApiError::NotFound("API key"),
            other => other.into(),
        })?;
    let target = format!("api_key:{}", key.id);
    let details = json!({ "name": key.name });
    audited(&state, &principal, "api_key.revoked", target, details).await;
    Ok(Json(KeyView::from(key)))
}
