//! Loading the SDK configuration once per process (per Lambda cold start).

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, SdkConfig};

/// The shared SDK configuration from the usual sources: environment, profile, container or
/// instance credentials, region.
///
/// `AWS_ENDPOINT_URL` (and the per-service `AWS_ENDPOINT_URL_<SERVICE>`) is honoured by every
/// client built from this config: aws-config reads it into [`SdkConfig::endpoint_url`] and each
/// service config picks it up. That is how tests point the adapters at moto.
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// `config` for a bulk writer (the import worker), which writes at the table's limit for
/// minutes: the SDK's adaptive retry (it slows the client when DynamoDB throttles) with 5
/// attempts a call instead of 3, so throttling while on-demand capacity grows is ridden out
/// rather than failing the run. (More would outlast the worker's pause margin.)
pub fn for_bulk_writes(config: &SdkConfig) -> SdkConfig {
    config
        .to_builder()
        .retry_config(RetryConfig::adaptive().with_max_attempts(5))
        .build()
}

/// An S3 client for `config`. With an endpoint override (moto, MinIO, LocalStack), buckets are
/// addressed by path (`http://host/bucket/key`): virtual-host addressing would put the bucket
/// in a hostname such as `bucket.127.0.0.1`, which does not resolve.
pub fn s3_client(config: &SdkConfig) -> aws_sdk_s3::Client {
    let overridden =
        config.endpoint_url().is_some() || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some();
    let s3_config = aws_sdk_s3::config::Builder::from(config)
        .force_path_style(overridden)
        .build();
    aws_sdk_s3::Client::from_conf(s3_config)
}
