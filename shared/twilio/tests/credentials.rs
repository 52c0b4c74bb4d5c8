//! Per-tenant credentials over an in-memory secrets store that counts its reads.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use secrecy::{ExposeSecret as _, SecretString};
use smscrm_domain::TenantId;
use smscrm_domain::ports::secrets::{Secrets, SecretsError};
use smscrm_twilio::CredentialSource;
use smscrm_twilio::credentials::{CredentialError, credentials_json, secret_name};

const FALLBACK: &str = "smscrm/twilio/default";

#[derive(Default)]
struct MemorySecrets {
    values: Mutex<HashMap<String, String>>,
    gets: AtomicUsize,
    unavailable: std::sync::atomic::AtomicBool,
}

impl MemorySecrets {
    fn with(values: &[(&str, &str)]) -> Arc<Self> {
        let store = Self::default();
        {
            let mut map = store.values.lock().expect("lock");
            for (name, value) in values {
                map.insert((*name).to_owned(), (*value).to_owned());
            }
        }
        Arc::new(store)
    }

    fn set(&self, name: &str, value: &str) {
        self.values
            .lock()
            .expect("lock")
            .insert(name.to_owned(), value.to_owned());
    }

    fn gets(&self) -> usize {
        self.gets.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Secrets for MemorySecrets {
    async fn get(&self, name: &str) -> Result<Option<SecretString>, SecretsError> {
        self.gets.fetch_add(1, Ordering::SeqCst);
        if self.unavailable.load(Ordering::SeqCst) {
            return Err(SecretsError::Unavailable("throttled".into()));
        }
        Ok(self
            .values
            .lock()
            .expect("lock")
            .get(name)
            .map(|v| SecretString::from(v.clone())))
    }

    async fn put(&self, name: &str, value: SecretString) -> Result<(), SecretsError> {
        self.set(name, value.expose_secret());
        Ok(())
    }
}

#[tokio::test]
async fn a_tenants_own_credentials_are_read_once() {
    let tenant = TenantId::generate();
    let secrets = MemorySecrets::with(&[
        (
            &secret_name(&tenant),
            &credentials_json("ACtenant", "tenant-token"),
        ),
        (FALLBACK, &credentials_json("ACplatform", "platform-token")),
    ]);
    let source = CredentialSource::new(secrets.clone(), Some(FALLBACK.into()));

    let first = source
        .for_tenant(&tenant)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(first.account_sid, "ACtenant");
    assert_eq!(first.username, "ACtenant");
    assert_eq!(first.password.expose_secret(), "tenant-token");
    assert_eq!(secrets.gets(), 1);

    let second = source
        .for_tenant(&tenant)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(second.account_sid, "ACtenant");
    assert_eq!(
        secrets.gets(),
        1,
        "the second call is served from the cache"
    );
}

#[tokio::test]
async fn a_tenant_without_credentials_uses_the_fallback() {
    let tenant = TenantId::generate();
    let secrets = MemorySecrets::with(&[(FALLBACK, &credentials_json("ACplatform", "p"))]);
    let source = CredentialSource::new(secrets.clone(), Some(FALLBACK.into()));

    let found = source
        .for_tenant(&tenant)
        .await
        .expect("read")
        .expect("fallback");
    assert_eq!(found.account_sid, "ACplatform");
    assert_eq!(secrets.gets(), 2, "own secret, then the fallback");

    source.for_tenant(&tenant).await.expect("read");
    assert_eq!(secrets.gets(), 2, "cached");
}

#[tokio::test]
async fn no_credentials_and_no_fallback_is_none_and_not_cached() {
    let tenant = TenantId::generate();
    let secrets = MemorySecrets::with(&[]);
    let source = CredentialSource::new(secrets.clone(), None);

    assert!(source.for_tenant(&tenant).await.expect("read").is_none());
    // Configured while the process runs: picked up without a restart.
    secrets.set(&secret_name(&tenant), &credentials_json("ACnew", "t"));
    let found = source
        .for_tenant(&tenant)
        .await
        .expect("read")
        .expect("found now");
    assert_eq!(found.account_sid, "ACnew");
}

#[tokio::test]
async fn forget_reads_the_secret_again() {
    let tenant = TenantId::generate();
    let name = secret_name(&tenant);
    let secrets = MemorySecrets::with(&[(&name, &credentials_json("ACold", "old"))]);
    let source = CredentialSource::new(secrets.clone(), None);

    source.for_tenant(&tenant).await.expect("read");
    secrets.set(&name, &credentials_json("ACnew", "rotated"));
    let cached = source
        .for_tenant(&tenant)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(cached.account_sid, "ACold");
    assert_eq!(secrets.gets(), 1);

    source.forget(&tenant);
    let fresh = source
        .for_tenant(&tenant)
        .await
        .expect("read")
        .expect("found");
    assert_eq!(fresh.account_sid, "ACnew");
    assert_eq!(fresh.password.expose_secret(), "rotated");
    assert_eq!(secrets.gets(), 2);
}

#[tokio::test]
async fn malformed_credentials_name_the_secret_not_its_value() {
    let tenant = TenantId::generate();
    let name = secret_name(&tenant);
    let secrets = MemorySecrets::with(&[
        (&name, r#"{"account_sid":"AC1","auth_token":hunter2-secret"#),
        (FALLBACK, &credentials_json("ACplatform", "p")),
    ]);
    let source = CredentialSource::new(secrets, Some(FALLBACK.into()));

    let err = source
        .for_tenant(&tenant)
        .await
        .expect_err("malformed, and no silent fallback");
    assert!(matches!(err, CredentialError::Malformed { .. }), "{err:?}");
    assert!(!err.is_retryable());
    let text = format!("{err} / {err:?}");
    assert!(text.contains(&name), "{text}");
    assert!(!text.contains("hunter2"), "{text}");
}

#[tokio::test]
async fn an_unavailable_store_is_a_retryable_error() {
    let tenant = TenantId::generate();
    let secrets = MemorySecrets::with(&[]);
    secrets.unavailable.store(true, Ordering::SeqCst);
    let source = CredentialSource::new(secrets, Some(FALLBACK.into()));
    let err = source.for_tenant(&tenant).await.expect_err("unavailable");
    assert!(err.is_retryable(), "{err:?}");
}

#[tokio::test]
async fn debug_output_holds_no_secret() {
    let tenant = TenantId::generate();
    let secrets = MemorySecrets::with(&[(
        &secret_name(&tenant),
        &credentials_json("ACtenant", "hunter2-secret"),
    )]);
    let source = CredentialSource::new(secrets, None);
    let found = source.for_tenant(&tenant).await.expect("read");
    let text = format!("{found:?} {source:?}");
    assert!(!text.contains("hunter2"), "{text}");
}
