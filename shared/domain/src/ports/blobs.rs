//! The blob port: S3 objects, or files in a directory locally.

use async_trait::async_trait;
use bytes::Bytes;

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("invalid blob key `{0}`")]
    InvalidKey(String),
    #[error("blob store temporarily unavailable: {0}")]
    Unavailable(String),
    #[error("blob store failure: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl BlobError {
    pub fn backend(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Backend(Box::new(err))
    }
}

/// A key is a relative `/`-separated path: no empty, `.` or `..` segments, no leading `/`,
/// no backslash or NUL. Both adapters reject the same keys.
pub fn validate_key(key: &str) -> Result<(), BlobError> {
    let bad = key.is_empty()
        || key.len() > 1024
        || key.contains(['\\', '\0'])
        || key
            .split('/')
            .any(|segment| segment.is_empty() || segment == "." || segment == "..");
    if bad {
        Err(BlobError::InvalidKey(key.to_owned()))
    } else {
        Ok(())
    }
}

#[async_trait]
pub trait Blobs: Send + Sync {
    async fn put(&self, key: &str, body: Bytes, content_type: &str) -> Result<(), BlobError>;
    async fn get(&self, key: &str) -> Result<Option<Bytes>, BlobError>;
    /// Deleting a missing key is not an error (as in S3).
    async fn delete(&self, key: &str) -> Result<(), BlobError>;
    /// Keys under `prefix`, sorted.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, BlobError>;
}
