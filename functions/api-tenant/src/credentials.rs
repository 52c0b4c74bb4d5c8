//! `PUT /v1/tenant/twilio`: the tenant's own Twilio account, kept in the secrets store (Secrets
//! Manager on AWS) and never shown again. The auth token is required: it checks the webhooks
//! Twilio signs for this account, even when sending goes through an API key.

use axum::extract::State;
use axum::http::StatusCode;
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;
use smscrm_domain::ValidationError;
use smscrm_http::{ApiError, ApiJson, Principal};
use smscrm_twilio::credentials::secret_name;

use crate::{TenantState, audited};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TwilioCredentials {
    account_sid: String,
    auth_token: String,
    #[serde(default)]
    api_key_sid: Option<String>,
    #[serde(default)]
    api_key_secret: Option<String>,
}

fn sid(field: &str, prefix: &str, value: &str) -> Result<String, ValidationError> {
    let value = value.trim();
    let well_formed = value.len() == 34
        && value.starts_with(prefix)
        && value[2..].bytes().all(|b| b.is_ascii_hexdigit());
    if !well_formed {
        return Err(ValidationError::new(
            field,
            format!("{prefix} followed by 32 hexadecimal digits"),
        ));
    }
    Ok(value.to_owned())
}

fn secret(field: &str, value: &str) -> Result<String, ValidationError> {
    let value = value.trim();
    if value.len() < 16 || value.len() > 128 || !value.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(ValidationError::new(field, "not a Twilio secret"));
    }
    Ok(value.to_owned())
}

impl TwilioCredentials {
    /// The secret's value, in the shape the Twilio client reads.
    fn checked(self) -> Result<(String, serde_json::Value), ValidationError> {
        let account_sid = sid("account_sid", "AC", &self.account_sid)?;
        let mut value = json!({
            "account_sid": account_sid,
            "auth_token": secret("auth_token", &self.auth_token)?,
        });
        match (self.api_key_sid, self.api_key_secret) {
            (Some(key), Some(key_secret)) => {
                value["api_key_sid"] = json!(sid("api_key_sid", "SK", &key)?);
                value["api_key_secret"] = json!(secret("api_key_secret", &key_secret)?);
            }
            (None, None) => {}
            _ => {
                return Err(ValidationError::new(
                    "api_key_sid",
                    "give both api_key_sid and api_key_secret, or neither",
                ));
            }
        }
        Ok((account_sid, value))
    }
}

pub async fn set(
    State(state): State<TenantState>,
    principal: Principal,
    ApiJson(credentials): ApiJson<TwilioCredentials>,
) -> Result<StatusCode, ApiError> {
    let (account_sid, value) = credentials.checked()?;
    let tenant = &principal.tenant.id;
    state
        .secrets
        .put(&secret_name(tenant), SecretString::from(value.to_string()))
        .await
        .map_err(|e| ApiError::Unavailable(Box::new(e)))?;
    let target = format!("tenant:{tenant}");
    let details = json!({ "account_sid": account_sid });
    audited(
        &state,
        &principal,
        "tenant.twilio_credentials_set",
        target,
        details,
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}
