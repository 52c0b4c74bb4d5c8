//! AWS adapters of the ports in `smscrm_domain::ports`: DynamoDB ([`DynamoTable`]), SQS
//! ([`SqsQueue`]), S3 ([`S3Blobs`]), Secrets Manager ([`SecretsManagerSecrets`]) and SES
//! ([`SesMailer`]).
//!
//! Build the clients once per process from [`sdk_config`] and share them: they are cheap to
//! clone and hold the connection pool. The `create_*` helpers set up the resources the
//! product expects, for tests and local tooling against an emulator.
//!
//! Errors map to the ports' enums by the SDK's typed error variants, keeping the SDK error as
//! the source; retryable failures (throttling, timeouts, 5xx) become `Unavailable`.

mod backoff;
mod config;
mod dynamo;
mod error;
mod s3;
mod s3_event;
mod secrets;
mod ses;
mod sqs;

pub mod lambda;

pub use backoff::RetryBudget;
pub use config::{for_bulk_writes, s3_client, sdk_config};
pub use dynamo::{DynamoTable, create_table};
pub use error::{SetupError, UnexpectedResponse};
pub use s3::{S3Blobs, create_bucket};
pub use s3_event::{BadEventKey, decode_event_key};
pub use secrets::SecretsManagerSecrets;
pub use ses::{SesMailer, verify_sender};
pub use sqs::{SqsQueue, create_queue_with_dlq};
