//! The blob port: S3 objects, or files in a directory locally.
//!
//! Besides whole-object `put` and `get`, the port streams ([`Blobs::open`],
//! [`Blobs::put_stream`]) so that CSV imports of any size go through with bounded memory, and
//! hands out presigned upload URLs ([`Blobs::presign_put`]) so that browsers upload straight to
//! S3 rather than through a Lambda.

use std::pin::Pin;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};

/// A blob's content as a byte stream, read as it arrives.
///
/// Tokio's `AsyncRead` (the trait only: the domain pulls in no runtime). A consumer that wants
/// a `std::io::Read`, such as a CSV parser, wraps it in `tokio_util::io::SyncIoBridge` inside
/// `spawn_blocking`.
pub type BlobReader = Pin<Box<dyn tokio::io::AsyncRead + Send>>;

/// `bytes` as a [`BlobReader`], e.g. to hand a small body to [`Blobs::put_stream`].
pub fn reader_from_bytes(bytes: Bytes) -> BlobReader {
    Box::pin(std::io::Cursor::new(bytes))
}

/// The longest validity [`Blobs::presign_put`] accepts: a week, S3's limit for SigV4 presigned
/// URLs.
pub const MAX_PRESIGN_EXPIRY: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// A URL that uploads one object without credentials until `expires_at`: send `method` to
/// `url` with every header of `headers` (they are signed: a different `Content-Type` is
/// refused) and the object as the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresignedUpload {
    pub url: String,
    /// Always `"PUT"`.
    pub method: &'static str,
    pub headers: Vec<(String, String)>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("invalid blob key `{0}`")]
    InvalidKey(String),
    #[error("blob store temporarily unavailable: {0}")]
    Unavailable(String),
    #[error("blob store failure: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Reading the caller's body failed during [`Blobs::put_stream`]: the fault is the
    /// source's (a client that went away, a file that could not be read), not the store's,
    /// and nothing was stored. The source error is kept as it was, kind included.
    #[error("reading the body to store failed: {0}")]
    Body(#[source] std::io::Error),
    /// A request the port refuses whatever the backend, such as a presigned URL valid for
    /// longer than [`MAX_PRESIGN_EXPIRY`].
    #[error("invalid blob request: {0}")]
    InvalidRequest(String),
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

/// Checks `expires_in` for [`Blobs::presign_put`]: more than zero, at most
/// [`MAX_PRESIGN_EXPIRY`]. Both adapters apply it, so both refuse the same requests.
pub fn validate_presign_expiry(expires_in: Duration) -> Result<(), BlobError> {
    if expires_in.is_zero() || expires_in > MAX_PRESIGN_EXPIRY {
        Err(BlobError::InvalidRequest(format!(
            "a presigned URL must be valid for more than 0 s and at most {} s, not {expires_in:?}",
            MAX_PRESIGN_EXPIRY.as_secs()
        )))
    } else {
        Ok(())
    }
}

/// Objects under `/`-separated keys (see [`validate_key`]): every method rejects an invalid key
/// with [`BlobError::InvalidKey`] before doing anything.
///
/// A "directory" (a prefix of other keys, `a` for `a/b`) is not an object: `get`, `open` and
/// `size` answer `None` for it.
#[async_trait]
pub trait Blobs: Send + Sync {
    async fn put(&self, key: &str, body: Bytes, content_type: &str) -> Result<(), BlobError>;
    async fn get(&self, key: &str) -> Result<Option<Bytes>, BlobError>;
    /// Deleting a missing key is not an error (as in S3).
    async fn delete(&self, key: &str) -> Result<(), BlobError>;
    /// Keys under `prefix`, sorted.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, BlobError>;

    /// The object as a stream, `None` when there is none. Memory stays bounded whatever the
    /// object's size: bytes are fetched as the reader is polled. An error while reading (a
    /// connection lost midway) comes out of the reader as an `std::io::Error`.
    async fn open(&self, key: &str) -> Result<Option<BlobReader>, BlobError>;

    /// [`Blobs::open`] while the object is the version `tag` ([`BlobStat::tag`]): `None` when
    /// there is none, or another version is stored under the key. Two reads opened this way
    /// read the same bytes, whatever is stored meanwhile.
    async fn open_version(&self, key: &str, tag: &str) -> Result<Option<BlobReader>, BlobError>;

    /// Bytes `start..end` of the version `tag` of the object, as [`Blobs::open_version`]
    /// reads it whole (`None` when another version or none is stored). A range past the end
    /// reads up to the end, or nothing. Lets a worker read its own part of a large file.
    async fn open_range(
        &self,
        key: &str,
        tag: &str,
        start: u64,
        end: u64,
    ) -> Result<Option<BlobReader>, BlobError>;

    /// Stores everything `body` yields under `key`, with bounded memory, and returns the number
    /// of bytes stored. All or nothing: readers see the previous object (or none) until the
    /// whole body is stored, and when the body fails ([`BlobError::Body`]) or the store does,
    /// the key is left as it was, with no partial object or temporary file behind.
    ///
    /// S3 stores a body of up to one part (8 MiB) with one PutObject and a larger one as a
    /// multipart upload (at most 10,000 parts, so about 78 GiB), aborted on failure.
    async fn put_stream(
        &self,
        key: &str,
        body: BlobReader,
        content_type: &str,
    ) -> Result<u64, BlobError>;

    /// A URL through which a client (a browser) uploads `key` itself, with `content_type`,
    /// for `expires_in` (at most [`MAX_PRESIGN_EXPIRY`], else [`BlobError::InvalidRequest`]).
    ///
    /// `Ok(None)` when the backend has no such URLs: the directory adapter of the local host,
    /// which serves an upload endpoint of its own that writes through [`Blobs::put_stream`].
    /// Callers offer that endpoint instead. The S3 adapter always returns a URL.
    async fn presign_put(
        &self,
        key: &str,
        expires_in: Duration,
        content_type: &str,
    ) -> Result<Option<PresignedUpload>, BlobError>;

    /// The object's size and version tag, `None` when there is none.
    async fn stat(&self, key: &str) -> Result<Option<BlobStat>, BlobError>;

    /// The object's size in bytes, `None` when there is none (for progress bars).
    async fn size(&self, key: &str) -> Result<Option<u64>, BlobError> {
        Ok(self.stat(key).await?.map(|stat| stat.size))
    }
}

/// What a reader needs to know that an object is still the one it started reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobStat {
    pub size: u64,
    /// Changes whenever different bytes are stored under the key (S3's ETag; the file's
    /// identity and modification time locally, which also change when the same bytes are
    /// stored again).
    pub tag: String,
}
