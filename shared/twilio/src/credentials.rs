//! Each tenant's Twilio credentials, read from the secrets store once per process (a cold start on
//! Lambda) and kept in memory. Values never reach a log or an error message.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use secrecy::{ExposeSecret as _, SecretString};
use serde::{Deserialize, Serialize};
use smscrm_domain::TenantId;
use smscrm_domain::ports::secrets::{Secrets, SecretsError};
use smscrm_domain::ports::sms::ProviderCredentials;

/// The fallback secret's usual name: the platform's own Twilio account (the simulator's locally).
pub const DEFAULT_FALLBACK_SECRET: &str = "smscrm/twilio/default";

/// Where a tenant's Twilio credentials are stored.
pub fn secret_name(tenant: &TenantId) -> String {
    format!("smscrm/tenants/{tenant}/twilio")
}

/// The secret value for credentials made of an Account SID and its auth token.
pub fn credentials_json(account_sid: &str, auth_token: &str) -> String {
    #[derive(Serialize)]
    struct Value<'a> {
        account_sid: &'a str,
        auth_token: &'a str,
    }
    json_of(&Value {
        account_sid,
        auth_token,
    })
}

/// The secret value for credentials made of an Account SID and an API key.
pub fn api_key_credentials_json(
    account_sid: &str,
    api_key_sid: &str,
    api_key_secret: &str,
) -> String {
    #[derive(Serialize)]
    struct Value<'a> {
        account_sid: &'a str,
        api_key_sid: &'a str,
        api_key_secret: &'a str,
    }
    json_of(&Value {
        account_sid,
        api_key_sid,
        api_key_secret,
    })
}

fn json_of(value: &impl Serialize) -> String {
    // A struct of strings always serializes.
    serde_json::to_string(value).unwrap_or_else(|_| unreachable!("strings serialize to JSON"))
}

#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    #[error("could not read secret `{name}`")]
    Store {
        name: String,
        #[source]
        source: SecretsError,
    },
    /// Says what is wrong with the secret's shape, never what it holds.
    #[error("secret `{name}` does not hold Twilio credentials: {reason}")]
    Malformed { name: String, reason: String },
}

impl CredentialError {
    /// Whether trying again later may help (the store was unavailable), as opposed to a secret
    /// that a person must fix.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Store {
                source: SecretsError::Unavailable(_) | SecretsError::Backend(_),
                ..
            }
        )
    }
}

/// Per-tenant credentials, read once and cached. A tenant without its own secret uses the
/// fallback (when configured). A tenant whose secret exists but is malformed gets an error, never
/// the fallback: sending from the platform's account by mistake is worse than not sending.
pub struct CredentialSource {
    secrets: Arc<dyn Secrets>,
    fallback: Option<String>,
    // Only found credentials are cached: a tenant configured while the process runs is picked up
    // on its next message.
    /// With when each was read.
    cache: Mutex<HashMap<TenantId, (Loaded, Instant)>>,
}

/// A secret's credentials: for the REST API, and the account's auth token (Twilio signs its
/// webhooks with it, never with an API key), when the secret holds it.
#[derive(Debug, Clone)]
struct Loaded {
    rest: ProviderCredentials,
    auth_token: Option<SecretString>,
}

/// What checks a tenant's webhooks: its account and that account's auth token.
#[derive(Debug, Clone)]
pub struct WebhookKey {
    pub account_sid: String,
    pub auth_token: SecretString,
}

impl fmt::Debug for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cached = self
            .cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len();
        f.debug_struct("CredentialSource")
            .field("fallback", &self.fallback)
            .field("cached_tenants", &cached)
            .finish_non_exhaustive()
    }
}

impl CredentialSource {
    pub fn new(secrets: Arc<dyn Secrets>, fallback: Option<String>) -> Self {
        Self {
            secrets,
            fallback,
            cache: Mutex::new(HashMap::new()),
        }
    }

    /// The tenant's credentials, or the fallback's; `None` when neither exists.
    pub async fn for_tenant(
        &self,
        tenant: &TenantId,
    ) -> Result<Option<ProviderCredentials>, CredentialError> {
        Ok(self.loaded(tenant).await?.map(|loaded| loaded.rest))
    }

    /// The account and auth token the tenant's webhooks are signed with; `None` when the
    /// tenant has no credentials, or only an API key (add `auth_token` to its secret).
    pub async fn webhook_key(
        &self,
        tenant: &TenantId,
    ) -> Result<Option<WebhookKey>, CredentialError> {
        Ok(self.loaded(tenant).await?.and_then(|loaded| {
            loaded.auth_token.map(|auth_token| WebhookKey {
                account_sid: loaded.rest.account_sid,
                auth_token,
            })
        }))
    }

    async fn loaded(&self, tenant: &TenantId) -> Result<Option<Loaded>, CredentialError> {
        if let Some((found, _)) = self.cached(tenant) {
            return Ok(Some(found));
        }
        let own = secret_name(tenant);
        let mut found = self.load(&own).await?;
        if found.is_none()
            && let Some(fallback) = &self.fallback
        {
            found = self.load(fallback).await?;
            if found.is_some() {
                tracing::debug!(%tenant, secret = %fallback, "tenant uses the fallback Twilio account");
            }
        }
        match &found {
            Some(credentials) => {
                self.cache
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .insert(tenant.clone(), (credentials.clone(), Instant::now()));
            }
            None => tracing::warn!(%tenant, "no Twilio credentials for tenant"),
        }
        Ok(found)
    }

    /// Drops the tenant's cached credentials (after Twilio refused them, say), so that the next
    /// call reads the secret again.
    pub fn forget(&self, tenant: &TenantId) {
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(tenant);
    }

    /// The tenant's webhook key read again from the secrets store, so that a rotated auth
    /// token is picked up, but only if the cached one was read at least `min_age` ago: a flood
    /// of forged requests must not turn into a secret read each. `None` when not read again.
    pub async fn reloaded_webhook_key(
        &self,
        tenant: &TenantId,
        min_age: Duration,
    ) -> Result<Option<WebhookKey>, CredentialError> {
        let fresh = self
            .cached(tenant)
            .is_some_and(|(_, read_at)| read_at.elapsed() < min_age);
        if fresh {
            return Ok(None);
        }
        self.forget(tenant);
        self.webhook_key(tenant).await
    }

    fn cached(&self, tenant: &TenantId) -> Option<(Loaded, Instant)> {
        self.cache
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(tenant)
            .cloned()
    }

    async fn load(&self, name: &str) -> Result<Option<Loaded>, CredentialError> {
        let value = self
            .secrets
            .get(name)
            .await
            .map_err(|source| CredentialError::Store {
                name: name.to_owned(),
                source,
            })?;
        let Some(value) = value else {
            return Ok(None);
        };
        let credentials = parse_credentials(name, &value)?;
        tracing::debug!(secret = %name, "loaded Twilio credentials");
        Ok(Some(credentials))
    }
}

/// Either `{"account_sid","auth_token"}` or `{"account_sid","api_key_sid","api_key_secret"}`
/// (with `auth_token` too, for checking webhooks).
#[derive(Deserialize)]
struct StoredCredentials {
    account_sid: String,
    #[serde(default)]
    auth_token: Option<SecretString>,
    #[serde(default)]
    api_key_sid: Option<String>,
    #[serde(default)]
    api_key_secret: Option<SecretString>,
}

fn parse_credentials(name: &str, value: &SecretString) -> Result<Loaded, CredentialError> {
    let malformed = |reason: String| CredentialError::Malformed {
        name: name.to_owned(),
        reason,
    };
    let stored: StoredCredentials = serde_json::from_str(value.expose_secret()).map_err(|e| {
        // serde's message can quote the input: keep only where and what kind of error.
        malformed(format!(
            "invalid JSON ({:?} error at line {} column {})",
            e.classify(),
            e.line(),
            e.column()
        ))
    })?;
    if !stored.account_sid.starts_with("AC") {
        return Err(malformed("`account_sid` must start with `AC`".into()));
    }
    match (stored.auth_token, stored.api_key_sid, stored.api_key_secret) {
        (auth_token, Some(key_sid), Some(key_secret)) => {
            if !key_sid.starts_with("SK") {
                return Err(malformed("`api_key_sid` must start with `SK`".into()));
            }
            if key_secret.expose_secret().is_empty() {
                return Err(malformed("`api_key_secret` is empty".into()));
            }
            Ok(Loaded {
                rest: ProviderCredentials {
                    account_sid: stored.account_sid,
                    username: key_sid,
                    password: key_secret,
                },
                auth_token: auth_token.filter(|t| !t.expose_secret().is_empty()),
            })
        }
        (Some(token), None, None) => {
            if token.expose_secret().is_empty() {
                return Err(malformed("`auth_token` is empty".into()));
            }
            Ok(Loaded {
                rest: ProviderCredentials {
                    username: stored.account_sid.clone(),
                    account_sid: stored.account_sid,
                    password: token.clone(),
                },
                auth_token: Some(token),
            })
        }
        (_, Some(_), None) | (_, None, Some(_)) => Err(malformed(
            "an API key needs both `api_key_sid` and `api_key_secret`".into(),
        )),
        (None, None, None) => Err(malformed(
            "needs `auth_token`, or `api_key_sid` and `api_key_secret`".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret as _;

    use super::*;

    fn parse(json: &str) -> Result<ProviderCredentials, CredentialError> {
        parse_loaded(json).map(|loaded| loaded.rest)
    }

    fn parse_loaded(json: &str) -> Result<Loaded, CredentialError> {
        parse_credentials("smscrm/tenants/x/twilio", &SecretString::from(json))
    }

    #[test]
    fn webhooks_are_checked_with_the_auth_token_only() {
        let token = parse_loaded(&credentials_json("AC1", "tok")).expect("valid");
        assert_eq!(
            token
                .auth_token
                .map(|t| t.expose_secret().to_owned())
                .as_deref(),
            Some("tok")
        );
        let key_only = parse_loaded(&api_key_credentials_json("AC1", "SK1", "shh")).expect("valid");
        assert!(key_only.auth_token.is_none());
        let both = parse_loaded(
            r#"{"account_sid":"AC1","api_key_sid":"SK1","api_key_secret":"shh","auth_token":"tok"}"#,
        )
        .expect("valid");
        assert_eq!(both.rest.username, "SK1");
        assert_eq!(
            both.auth_token
                .map(|t| t.expose_secret().to_owned())
                .as_deref(),
            Some("tok")
        );
    }

    #[test]
    fn auth_token_credentials_use_the_account_sid_as_username() {
        let c = parse(&credentials_json("AC123", "tok")).expect("valid");
        assert_eq!(c.account_sid, "AC123");
        assert_eq!(c.username, "AC123");
        assert_eq!(c.password.expose_secret(), "tok");
    }

    #[test]
    fn api_key_credentials_use_the_key() {
        let c = parse(&api_key_credentials_json("AC123", "SK9", "shh")).expect("valid");
        assert_eq!(c.account_sid, "AC123");
        assert_eq!(c.username, "SK9");
        assert_eq!(c.password.expose_secret(), "shh");
    }

    #[test]
    fn bad_shapes_are_named_but_not_quoted() {
        for json in [
            r#"{"account_sid":"AC1"}"#,
            r#"{"account_sid":"AC1","api_key_sid":"SK1"}"#,
            r#"{"account_sid":"AC1","api_key_secret":"hunter2-secret"}"#,
            r#"{"account_sid":"AC1","api_key_sid":"XX1","api_key_secret":"hunter2-secret"}"#,
            r#"{"account_sid":"XX1","auth_token":"hunter2-secret"}"#,
            r#"{"account_sid":"AC1","auth_token":""}"#,
            r#"{"account_sid":"AC1","auth_token":hunter2-secret}"#,
            r#"{"account_sid":"AC1","auth_token":["hunter2-secret"]}"#,
            "hunter2-secret",
        ] {
            let err = parse(json).expect_err(json);
            let text = format!("{err} {err:?}");
            assert!(text.contains("smscrm/tenants/x/twilio"), "{text}");
            assert!(!text.contains("hunter2"), "{text}");
        }
    }

    #[test]
    fn credentials_never_print_their_secret() {
        let c = parse(&credentials_json("AC123", "hunter2-secret")).expect("valid");
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn secret_names_are_valid_secrets_manager_names() {
        let tenant = TenantId::generate();
        let name = secret_name(&tenant);
        assert_eq!(name, format!("smscrm/tenants/{}/twilio", tenant.as_str()));
        assert!(smscrm_domain::ports::secrets::validate_name(&name).is_ok());
        assert!(smscrm_domain::ports::secrets::validate_name(DEFAULT_FALLBACK_SECRET).is_ok());
    }
}
