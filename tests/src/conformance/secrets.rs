//! Conformance cases of the [`Secrets`] port. Every case uses names of its own.

use std::fmt::Debug;
use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use smscrm_domain::ports::secrets::{Secrets, SecretsError};

use super::unique;

/// This module's source, for the check that every case is listed in the suite macro.
pub const SOURCE: &str = include_str!("secrets.rs");

async fn get(secrets: &dyn Secrets, name: &str) -> Option<String> {
    secrets
        .get(name)
        .await
        .unwrap_or_else(|e| panic!("get {name:?}: {e:?}"))
        .map(|s| s.expose_secret().to_owned())
}

async fn put(secrets: &dyn Secrets, name: &str, value: &str) {
    secrets
        .put(name, SecretString::from(value))
        .await
        .unwrap_or_else(|e| panic!("put {name:?}: {e:?}"));
}

#[track_caller]
fn assert_invalid_name<T: Debug>(result: Result<T, SecretsError>, what: &str) {
    assert!(
        matches!(result, Err(SecretsError::InvalidName(_))),
        "{what}: expected Err(InvalidName(_)), got {result:?}"
    );
}

/// A secret reads back as written; a second put replaces the value; names are independent.
pub async fn put_get_overwrite(secrets: Arc<dyn Secrets>) {
    let name = unique("smscrm/test/twilio");
    let other = unique("smscrm/test/other");
    put(&*secrets, &name, "first-value").await;
    assert_eq!(get(&*secrets, &name).await.as_deref(), Some("first-value"));

    let json = "{\"account_sid\":\"AC123\",\"auth_token\":\"ünï ✓\"}\nsecond line\t";
    put(&*secrets, &name, json).await;
    assert_eq!(
        get(&*secrets, &name).await.as_deref(),
        Some(json),
        "overwrite"
    );

    put(&*secrets, &other, "other").await;
    assert_eq!(get(&*secrets, &other).await.as_deref(), Some("other"));
    assert_eq!(
        get(&*secrets, &name).await.as_deref(),
        Some(json),
        "names are independent"
    );

    let edge = format!("{}/a_b+c=d.e@f-G9", unique("edge"));
    put(&*secrets, &edge, "edge").await;
    assert_eq!(
        get(&*secrets, &edge).await.as_deref(),
        Some("edge"),
        "every allowed character"
    );
}

/// A secret never written is `None`.
pub async fn missing_is_none(secrets: Arc<dyn Secrets>) {
    assert_eq!(get(&*secrets, &unique("smscrm/missing")).await, None);
}

/// Names Secrets Manager refuses are rejected by get and put alike, and nothing is stored.
pub async fn invalid_names_are_rejected(secrets: Arc<dyn Secrets>) {
    let p = unique("bad");
    let bad = [
        String::new(),
        format!("{p} space"),
        format!("{p}/ünï"),
        format!("{p}#hash"),
        format!("{p}:colon"),
        format!("{p}\nnewline"),
        "x".repeat(513),
    ];
    for name in &bad {
        let shown: String = name.chars().take(40).collect();
        assert_invalid_name(
            secrets.put(name, SecretString::from("v")).await,
            &format!("put {shown:?}"),
        );
        assert_invalid_name(secrets.get(name).await, &format!("get {shown:?}"));
    }
    let long = format!("{p}{}", "z".repeat(200));
    put(&*secrets, &long, "long").await;
    assert_eq!(
        get(&*secrets, &long).await.as_deref(),
        Some("long"),
        "a long name"
    );
}
