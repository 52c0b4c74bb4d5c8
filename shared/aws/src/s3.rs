//! The [`Blobs`] port on one S3 bucket.
//!
//! Streaming: [`Blobs::open`] hands out the GetObject body as it arrives;
//! [`Blobs::put_stream`] cuts the body into parts of [`S3Blobs::PART_SIZE`] and stores a body
//! of one part with a single PutObject, a larger one as a multipart upload that is aborted on
//! any failure (also when the caller drops the future half-way: the abort is then spawned). An
//! upload whose abort itself fails lingers, invisible, until the bucket's lifecycle rule for
//! incomplete multipart uploads removes it.

use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::Error as S3Error;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::operation::create_bucket::CreateBucketError;
use aws_sdk_s3::operation::get_object::{GetObjectError, GetObjectOutput};
use aws_sdk_s3::operation::head_object::HeadObjectError;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLocationConstraint, ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart,
    CreateBucketConfiguration,
};
use bytes::{Bytes, BytesMut};
use chrono::{DateTime, Utc};
use smscrm_domain::ports::blobs::{
    BlobError, BlobReader, BlobStat, Blobs, PresignedUpload, validate_key, validate_presign_expiry,
};
use tokio::io::AsyncReadExt as _;

use crate::error::{SetupError, UnexpectedResponse, chain, transient};

/// See [`S3Blobs::PART_SIZE`].
const PART_SIZE: usize = 8 << 20;

/// S3's limit on the parts of one upload: bodies up to `PART_SIZE * MAX_PARTS` (78 GiB).
const MAX_PARTS: i32 = 10_000;

#[derive(Debug, Clone)]
pub struct S3Blobs {
    client: Client,
    bucket: String,
}

impl S3Blobs {
    /// Build `client` with [`crate::s3_client`] so an endpoint override gets path-style URLs.
    pub fn new(client: Client, bucket: impl Into<String>) -> Self {
        Self {
            client,
            bucket: bucket.into(),
        }
    }

    pub fn from_config(config: &aws_config::SdkConfig, bucket: impl Into<String>) -> Self {
        Self::new(crate::s3_client(config), bucket)
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// The part size of [`Blobs::put_stream`]'s multipart uploads, and the largest body it
    /// stores with a single PutObject. S3 wants at least 5 MiB for every part but the last;
    /// 8 MiB is the AWS CLI's default. At most two parts are held at once: the one uploading
    /// and the next one being read.
    pub const PART_SIZE: usize = PART_SIZE;
}

#[async_trait]
impl Blobs for S3Blobs {
    async fn put(&self, key: &str, body: Bytes, content_type: &str) -> Result<(), BlobError> {
        validate_key(key)?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(blob_error)?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Bytes>, BlobError> {
        let Some(out) = self.get_object(key, None, None).await? else {
            return Ok(None);
        };
        // The body streams after the headers; a connection lost midway is worth retrying.
        let body = out
            .body
            .collect()
            .await
            .map_err(|e| BlobError::Unavailable(chain(&e)))?;
        Ok(Some(body.into_bytes()))
    }

    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        validate_key(key)?;
        // S3 answers 204 whether or not the key existed, as the port wants.
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(blob_error)?;
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, BlobError> {
        let mut keys = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let out = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(blob_error)?;
            keys.extend(
                out.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_owned)),
            );
            match out.next_continuation_token() {
                Some(next) if out.is_truncated() == Some(true) => token = Some(next.to_owned()),
                _ => break,
            }
        }
        // S3 lists in UTF-8 byte order already; sorting keeps the promise on any emulator.
        keys.sort_unstable();
        Ok(keys)
    }

    async fn open(&self, key: &str) -> Result<Option<BlobReader>, BlobError> {
        let Some(out) = self.get_object(key, None, None).await? else {
            return Ok(None);
        };
        // Reads the HTTP body as it arrives: the SDK holds one network chunk at a time.
        Ok(Some(Box::pin(out.body.into_async_read())))
    }

    async fn open_version(&self, key: &str, tag: &str) -> Result<Option<BlobReader>, BlobError> {
        let Some(out) = self.get_object(key, Some(tag), None).await? else {
            return Ok(None);
        };
        Ok(Some(Box::pin(out.body.into_async_read())))
    }

    async fn open_range(
        &self,
        key: &str,
        tag: &str,
        start: u64,
        end: u64,
    ) -> Result<Option<BlobReader>, BlobError> {
        if end <= start {
            // No byte range says "none": only whether the version is still there.
            let current = self.stat(key).await?;
            let empty = || Box::pin(std::io::Cursor::new(Vec::new())) as BlobReader;
            return Ok(current.filter(|c| c.tag == tag).map(|_| empty()));
        }
        let range = format!("bytes={start}-{}", end - 1);
        let found = self.get_object(key, Some(tag), Some(range)).await?;
        Ok(found.map(|out| Box::pin(out.body.into_async_read()) as BlobReader))
    }

    async fn put_stream(
        &self,
        key: &str,
        mut body: BlobReader,
        content_type: &str,
    ) -> Result<u64, BlobError> {
        validate_key(key)?;
        let first = read_part(&mut body).await?;
        if first.len() < PART_SIZE {
            return self.put_single(key, first, content_type).await;
        }
        // A full first part: only the next read tells whether there is more.
        let second = read_part(&mut body).await?;
        if second.is_empty() {
            return self.put_single(key, first, content_type).await;
        }

        let created = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            // Named here so that S3 expects (and the SDK sends) the same checksum on every part,
            // and the completion lists them.
            .checksum_algorithm(ChecksumAlgorithm::Crc32)
            .send()
            .await
            .map_err(blob_error)?;
        let upload_id = created.upload_id().ok_or_else(|| {
            BlobError::backend(UnexpectedResponse(
                "CreateMultipartUpload answered without an upload id".to_owned(),
            ))
        })?;
        let pending = PendingUpload {
            client: self.client.clone(),
            bucket: self.bucket.clone(),
            key: key.to_owned(),
            upload_id: upload_id.to_owned(),
            armed: true,
        };
        let uploaded = async {
            let (parts, total) = self
                .upload_parts(key, upload_id, first, second, &mut body)
                .await?;
            self.client
                .complete_multipart_upload()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(upload_id)
                .multipart_upload(
                    CompletedMultipartUpload::builder()
                        .set_parts(Some(parts))
                        .build(),
                )
                .send()
                .await
                .map_err(blob_error)?;
            Ok(total)
        }
        .await;
        match uploaded {
            Ok(total) => {
                pending.completed();
                Ok(total)
            }
            Err(err) => {
                pending.abort().await;
                Err(err)
            }
        }
    }

    async fn presign_put(
        &self,
        key: &str,
        expires_in: Duration,
        content_type: &str,
    ) -> Result<Option<PresignedUpload>, BlobError> {
        validate_key(key)?;
        validate_presign_expiry(expires_in)?;
        // Fixing the start makes `expires_at` exact. Signed with temporary credentials (a
        // Lambda's role), the URL stops working when they expire, if that comes first.
        let start = SystemTime::now();
        let config = PresigningConfig::builder()
            .start_time(start)
            .expires_in(expires_in)
            .build()
            .map_err(BlobError::backend)?;
        // The SDK adds no checksum to a presigned request (it would be that of an empty body).
        let request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .presigned(config)
            .await
            .map_err(blob_error)?;
        if request.method() != "PUT" {
            return Err(BlobError::backend(UnexpectedResponse(format!(
                "a presigned PutObject with method {}",
                request.method()
            ))));
        }
        Ok(Some(PresignedUpload {
            url: request.uri().to_owned(),
            method: "PUT",
            headers: request
                .headers()
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
                .collect(),
            expires_at: DateTime::<Utc>::from(start + expires_in),
        }))
    }

    async fn stat(&self, key: &str) -> Result<Option<BlobStat>, BlobError> {
        validate_key(key)?;
        let out = match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => out,
            Err(SdkError::ServiceError(ctx))
                if matches!(ctx.err(), HeadObjectError::NotFound(_)) =>
            {
                return Ok(None);
            }
            Err(err) => return Err(blob_error(err)),
        };
        let size = out
            .content_length()
            .and_then(|len| u64::try_from(len).ok())
            .ok_or_else(|| {
                BlobError::backend(UnexpectedResponse(format!(
                    "HeadObject answered without a valid Content-Length: {:?}",
                    out.content_length()
                )))
            })?;
        let tag = out.e_tag().ok_or_else(|| {
            BlobError::backend(UnexpectedResponse(
                "HeadObject answered without an ETag".into(),
            ))
        })?;
        Ok(Some(BlobStat {
            size,
            tag: tag.to_owned(),
        }))
    }
}

impl S3Blobs {
    /// GetObject (of the bytes `range`, if given), `None` for a missing key or, with
    /// `version` (an ETag), for another version stored under it (S3 answers 412
    /// Precondition Failed to the If-Match).
    async fn get_object(
        &self,
        key: &str,
        version: Option<&str>,
        range: Option<String>,
    ) -> Result<Option<GetObjectOutput>, BlobError> {
        validate_key(key)?;
        match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .set_if_match(version.map(str::to_owned))
            .set_range(range)
            .send()
            .await
        {
            Ok(out) => Ok(Some(out)),
            Err(SdkError::ServiceError(ctx))
                if matches!(ctx.err(), GetObjectError::NoSuchKey(_))
                    || ctx.raw().status().as_u16() == 412 =>
            {
                Ok(None)
            }
            // A range starting past the end: nothing to read, if the version is the one asked
            // for (S3 checks `If-Match` first; not every S3 look-alike does).
            Err(SdkError::ServiceError(ctx)) if ctx.raw().status().as_u16() == 416 => {
                let current = self.stat(key).await?;
                let same = current.is_some_and(|c| version.is_none_or(|v| c.tag == v));
                Ok(same.then(|| GetObjectOutput::builder().build()))
            }
            Err(err) => Err(blob_error(err)),
        }
    }

    /// `put_stream` of a body that fits in one part.
    async fn put_single(
        &self,
        key: &str,
        body: Bytes,
        content_type: &str,
    ) -> Result<u64, BlobError> {
        let len = body.len() as u64;
        self.put(key, body, content_type).await?;
        Ok(len)
    }

    /// Uploads `first` (a full part), `second` (not empty) and the rest of `body`, reading each
    /// part while the one before uploads, so that at most two parts are held at once. Returns
    /// the parts for the completion and the bytes uploaded.
    async fn upload_parts(
        &self,
        key: &str,
        upload_id: &str,
        first: Bytes,
        second: Bytes,
        body: &mut BlobReader,
    ) -> Result<(Vec<CompletedPart>, u64), BlobError> {
        let mut parts = Vec::new();
        let mut total = 0u64;
        let mut number = 1;
        let mut current = first;
        let mut read_ahead = Some(second);
        loop {
            let len = current.len();
            let upload = self.upload_part(key, upload_id, number, current);
            let next = match read_ahead.take() {
                // Two parts held already: no reading until this one is up.
                Some(next) => {
                    parts.push(upload.await?);
                    next
                }
                // A short part ends the body.
                None if len < PART_SIZE => {
                    parts.push(upload.await?);
                    Bytes::new()
                }
                None => {
                    let (part, next) = tokio::try_join!(upload, read_part(body))?;
                    parts.push(part);
                    next
                }
            };
            total += len as u64;
            number += 1;
            if next.is_empty() {
                return Ok((parts, total));
            }
            current = next;
        }
    }

    async fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        number: i32,
        part: Bytes,
    ) -> Result<CompletedPart, BlobError> {
        if number > MAX_PARTS {
            return Err(BlobError::InvalidRequest(format!(
                "the body is larger than S3's {MAX_PARTS} parts of {PART_SIZE} bytes"
            )));
        }
        // From `Bytes`, the SDK can retry a part without reading the body again.
        let out = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .part_number(number)
            .checksum_algorithm(ChecksumAlgorithm::Crc32)
            .body(ByteStream::from(part))
            .send()
            .await
            .map_err(blob_error)?;
        let e_tag = out.e_tag().ok_or_else(|| {
            BlobError::backend(UnexpectedResponse(format!(
                "UploadPart {number} answered without an ETag"
            )))
        })?;
        Ok(CompletedPart::builder()
            .part_number(number)
            .e_tag(e_tag)
            .set_checksum_crc32(out.checksum_crc32().map(str::to_owned))
            .build())
    }
}

/// Reads `body` until a whole part or its end: a shorter part means the body has ended.
async fn read_part(body: &mut BlobReader) -> Result<Bytes, BlobError> {
    let mut part = BytesMut::with_capacity(PART_SIZE);
    while part.len() < PART_SIZE {
        // Reads into the spare capacity only, so the buffer never grows past one part.
        match body.read_buf(&mut part).await {
            Ok(0) => break,
            Ok(_) => {}
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(err) => return Err(BlobError::Body(err)),
        }
    }
    Ok(part.freeze())
}

/// A multipart upload under way: aborted unless [`PendingUpload::completed`] says otherwise,
/// by [`PendingUpload::abort`] on an error, or from `drop` when the caller gave up on the
/// future.
struct PendingUpload {
    client: Client,
    bucket: String,
    key: String,
    upload_id: String,
    armed: bool,
}

impl PendingUpload {
    /// Nothing left to abort.
    fn completed(mut self) {
        self.armed = false;
    }

    async fn abort(self) {
        abort_upload(
            self.client.clone(),
            self.bucket.clone(),
            self.key.clone(),
            self.upload_id.clone(),
        )
        .await;
        // Disarmed only now: if this future is dropped mid-abort, `drop` aborts again.
        self.completed();
    }
}

impl Drop for PendingUpload {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(abort_upload(
                    self.client.clone(),
                    std::mem::take(&mut self.bucket),
                    std::mem::take(&mut self.key),
                    std::mem::take(&mut self.upload_id),
                ));
            }
            Err(_) => tracing::warn!(
                bucket = %self.bucket,
                key = %self.key,
                upload_id = %self.upload_id,
                "a multipart upload dropped outside a runtime is left to the lifecycle rule"
            ),
        }
    }
}

/// AbortMultipartUpload; a failure is logged, not returned: the caller has an error to report
/// already, and the upload is invisible until the lifecycle rule deletes it.
async fn abort_upload(client: Client, bucket: String, key: String, upload_id: String) {
    if let Err(err) = client
        .abort_multipart_upload()
        .bucket(&bucket)
        .key(&key)
        .upload_id(&upload_id)
        .send()
        .await
    {
        tracing::warn!(
            %bucket,
            %key,
            %upload_id,
            error = %chain(&err),
            "could not abort a multipart upload; the bucket's lifecycle rule will"
        );
    }
}

fn blob_error<E>(err: SdkError<E, HttpResponse>) -> BlobError
where
    E: std::error::Error + Send + Sync + 'static,
    S3Error: From<SdkError<E, HttpResponse>>,
{
    // S3 throttles with 503 SlowDown, which `transient` covers by status.
    match transient(&err) {
        Some(message) => BlobError::Unavailable(message),
        None => BlobError::backend(S3Error::from(err)),
    }
}

/// Creates bucket `name` in the client's region; an existing bucket of ours is fine.
pub async fn create_bucket(client: &Client, name: &str) -> Result<(), SetupError> {
    let mut request = client.create_bucket().bucket(name);
    // us-east-1 is the default location and S3 rejects naming it as a constraint.
    if let Some(region) = client.config().region().map(|r| r.as_ref().to_owned())
        && region != "us-east-1"
    {
        request = request.create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(region.as_str()))
                .build(),
        );
    }
    match request.send().await {
        Ok(_) => Ok(()),
        Err(SdkError::ServiceError(ctx))
            if matches!(ctx.err(), CreateBucketError::BucketAlreadyOwnedByYou(_)) =>
        {
            Ok(())
        }
        Err(err) => Err(SetupError::new("CreateBucket", err)),
    }
}
