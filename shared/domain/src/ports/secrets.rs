//! The secrets port: Secrets Manager, or a private file locally.

use async_trait::async_trait;
use secrecy::SecretString;

#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error("invalid secret name `{0}`")]
    InvalidName(String),
    #[error("secrets store temporarily unavailable: {0}")]
    Unavailable(String),
    #[error("secrets store failure: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl SecretsError {
    pub fn backend(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Backend(Box::new(err))
    }
}

/// Names are what Secrets Manager allows: 1..=512 of `A-Za-z0-9/_+=.@-`.
pub fn validate_name(name: &str) -> Result<(), SecretsError> {
    let ok = !name.is_empty()
        && name.len() <= 512
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(SecretsError::InvalidName(name.to_owned()))
    }
}

#[async_trait]
pub trait Secrets: Send + Sync {
    async fn get(&self, name: &str) -> Result<Option<SecretString>, SecretsError>;
    /// Creates the secret or replaces its value.
    async fn put(&self, name: &str, value: SecretString) -> Result<(), SecretsError>;
}
