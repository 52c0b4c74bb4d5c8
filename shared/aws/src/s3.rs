//! The [`Blobs`] port on one S3 bucket.

use async_trait::async_trait;
use aws_sdk_s3::Client;
use aws_sdk_s3::Error as S3Error;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::SdkError;
use aws_sdk_s3::operation::create_bucket::CreateBucketError;
use aws_sdk_s3::operation::get_object::GetObjectError;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use bytes::Bytes;
use smscrm_domain::ports::blobs::{BlobError, Blobs, validate_key};

use crate::error::{SetupError, chain, transient};

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
        validate_key(key)?;
        let out = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => out,
            Err(SdkError::ServiceError(ctx))
                if matches!(ctx.err(), GetObjectError::NoSuchKey(_)) =>
            {
                return Ok(None);
            }
            Err(err) => return Err(blob_error(err)),
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
