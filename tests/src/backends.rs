//! The two backends the conformance suite (and the end-to-end tests) run on: the embedded
//! adapters in a temporary directory, and the AWS adapters against the emulator that
//! `scripts/test` starts (moto server, reached through `AWS_ENDPOINT_URL`).
//!
//! Each call builds a fresh, isolated backend: its own directory, or its own uniquely named
//! table, bucket, queues and secret prefix.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use aws_config::SdkConfig;
use smscrm_domain::ports::{Blobs, Mailer, Queue, Secrets, Table};
use tempfile::TempDir;

use crate::conformance::unique;

/// The settings of a queue the tests create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueSpec {
    /// How long a received message stays hidden. SQS counts whole seconds.
    pub visibility_timeout: Duration,
    /// Receives after which a message goes to the dead-letter queue instead.
    pub max_receives: u32,
}

impl Default for QueueSpec {
    /// 30 s visibility (nothing reappears during a test unless it asks), 5 receives.
    fn default() -> Self {
        Self {
            visibility_timeout: Duration::from_secs(30),
            max_receives: 5,
        }
    }
}

impl QueueSpec {
    pub fn visibility(mut self, timeout: Duration) -> Self {
        self.visibility_timeout = timeout;
        self
    }
    pub fn max_receives(mut self, n: u32) -> Self {
        self.max_receives = n;
        self
    }
}

/// A queue and the dead-letter queue it redrives to.
#[derive(Clone)]
pub struct TestQueue {
    pub name: String,
    pub queue: Arc<dyn Queue>,
    pub dead_letter: Arc<dyn Queue>,
}

/// Creates fresh, uniquely named queues (each with its own dead-letter queue) on a backend.
#[async_trait]
pub trait QueueFactory: Send + Sync {
    async fn queue(&self, spec: QueueSpec) -> TestQueue;
}

/// What the suite needs of a backend: one instance of each port, queues on demand, and what
/// the blobs cases must know beyond the port.
#[async_trait]
pub trait Backend: QueueFactory {
    fn table(&self) -> Arc<dyn Table>;
    fn blobs(&self) -> Arc<dyn Blobs>;
    fn secrets(&self) -> Arc<dyn Secrets>;
    fn mailer(&self) -> Arc<dyn Mailer>;

    /// Whether [`Blobs::presign_put`] must hand out URLs (S3) or must answer `None` (the
    /// directory adapter: the local host serves uploads itself). Stated here, not inferred from
    /// the answer, so that an S3 adapter answering `None` fails the suite.
    fn presigns_uploads(&self) -> bool;

    /// Blob writes begun and neither finished nor cleaned up, each naming its key or path:
    /// temporary files in the blob directory, incomplete multipart uploads in the bucket. The
    /// port hides both; the suite checks that failed and cancelled writes leave none.
    async fn unfinished_blob_writes(&self) -> Vec<String>;
}

// ---------------------------------------------------------------------------------------------
// embedded

/// The embedded adapters in a temporary directory, deleted when this is dropped.
pub struct EmbeddedBackend {
    /// Keeps the directory alive; everything below lives in it.
    pub dir: TempDir,
    pub table: Arc<smscrm_local::SqliteTable>,
    pub blobs: Arc<smscrm_local::DirBlobs>,
    pub secrets: Arc<smscrm_local::FileSecrets>,
    pub outbox: Arc<smscrm_local::Outbox>,
}

impl EmbeddedBackend {
    pub fn root(&self) -> &Path {
        self.dir.path()
    }
    /// The SQLite file holding the table.
    pub fn table_path(&self) -> PathBuf {
        self.root().join("table.db")
    }
    /// The SQLite file holding every queue.
    pub fn queue_path(&self) -> PathBuf {
        self.root().join("queues.db")
    }
    /// The directory holding the blobs.
    pub fn blobs_dir(&self) -> PathBuf {
        self.root().join("blobs")
    }
    /// The secrets file.
    pub fn secrets_path(&self) -> PathBuf {
        self.root().join("secrets.json")
    }

    /// Opens queue `name` redriving to `name-dlq` after `spec.max_receives` receives.
    pub fn open_queue(&self, name: &str, spec: QueueSpec) -> TestQueue {
        let dlq_name = format!("{name}-dlq");
        let path = self.queue_path();
        let queue = smscrm_local::SqliteQueue::open(
            &path,
            name,
            smscrm_local::QueueConfig {
                visibility_timeout: spec.visibility_timeout,
                max_receives: spec.max_receives,
                dead_letter: Some(dlq_name.clone()),
            },
        )
        .unwrap_or_else(|e| panic!("open embedded queue {name}: {e}"));
        let dead_letter = smscrm_local::SqliteQueue::open(
            &path,
            &dlq_name,
            smscrm_local::QueueConfig {
                visibility_timeout: spec.visibility_timeout,
                max_receives: spec.max_receives,
                dead_letter: None,
            },
        )
        .unwrap_or_else(|e| panic!("open embedded queue {dlq_name}: {e}"));
        TestQueue {
            name: name.to_owned(),
            queue: Arc::new(queue),
            dead_letter: Arc::new(dead_letter),
        }
    }
}

/// A fresh embedded backend in a new temporary directory.
pub async fn embedded() -> EmbeddedBackend {
    let dir = tempfile::Builder::new()
        .prefix("smscrm-test-")
        .tempdir()
        .expect("create a temporary directory");
    let root = dir.path();
    let table = smscrm_local::SqliteTable::open(&root.join("table.db"))
        .unwrap_or_else(|e| panic!("open the embedded table: {e}"));
    let blobs = smscrm_local::DirBlobs::new(root.join("blobs"));
    let secrets = smscrm_local::FileSecrets::new(root.join("secrets.json"));
    EmbeddedBackend {
        outbox: Arc::new(smscrm_local::Outbox::new(root.join("outbox"))),
        dir,
        table: Arc::new(table),
        blobs: Arc::new(blobs),
        secrets: Arc::new(secrets),
    }
}

#[async_trait]
impl QueueFactory for EmbeddedBackend {
    async fn queue(&self, spec: QueueSpec) -> TestQueue {
        self.open_queue(&unique("q"), spec)
    }
}

#[async_trait]
impl Backend for EmbeddedBackend {
    fn table(&self) -> Arc<dyn Table> {
        self.table.clone()
    }
    fn blobs(&self) -> Arc<dyn Blobs> {
        self.blobs.clone()
    }
    fn secrets(&self) -> Arc<dyn Secrets> {
        self.secrets.clone()
    }
    fn mailer(&self) -> Arc<dyn Mailer> {
        self.outbox.clone()
    }
    fn presigns_uploads(&self) -> bool {
        false
    }
    async fn unfinished_blob_writes(&self) -> Vec<String> {
        let root = self.blobs_dir();
        let mut found = Vec::new();
        temp_files(&root, &root, &mut found);
        found.sort();
        found
    }
}

/// The temporary files of [`smscrm_local::DirBlobs`] under `dir`, as paths relative to `root`.
fn temp_files(root: &Path, dir: &Path, found: &mut Vec<String>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return,
        Err(err) => panic!("read {}: {err}", dir.display()),
    };
    for entry in entries {
        let entry = entry.unwrap_or_else(|e| panic!("read {}: {e}", dir.display()));
        let path = entry.path();
        let kind = entry
            .file_type()
            .unwrap_or_else(|e| panic!("stat {}: {e}", path.display()));
        if kind.is_dir() {
            temp_files(root, &path, found);
        } else if smscrm_local::blobs::is_temp_file(&entry.file_name().to_string_lossy()) {
            let relative = path.strip_prefix(root).unwrap_or(&path);
            found.push(relative.to_string_lossy().into_owned());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// AWS (moto)

/// The AWS adapters on a uniquely named table, bucket and secret prefix of the emulator at
/// `AWS_ENDPOINT_URL`. Queues are created on demand. Nothing is deleted afterwards: the
/// emulator is thrown away at the end of the run.
pub struct AwsBackend {
    pub config: SdkConfig,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub s3: aws_sdk_s3::Client,
    pub table_name: String,
    pub bucket: String,
    pub secrets_prefix: String,
    pub table: Arc<smscrm_aws::DynamoTable>,
    pub blobs: Arc<smscrm_aws::S3Blobs>,
    pub secrets: Arc<smscrm_aws::SecretsManagerSecrets>,
    pub mailer: Arc<smscrm_aws::SesMailer>,
}

/// The sender SES emails of the AWS backend go from (verified on moto as an operator would).
pub const MAIL_FROM: &str = "login@smscrm.test";

impl AwsBackend {
    /// Creates queue `name` and its dead-letter queue, redriving after `spec.max_receives`.
    pub async fn create_queue(&self, name: &str, spec: QueueSpec) -> TestQueue {
        let visibility = u32::try_from(spec.visibility_timeout.as_secs())
            .expect("a visibility timeout SQS accepts");
        let (url, dlq_url) =
            smscrm_aws::create_queue_with_dlq(&self.sqs, name, visibility, spec.max_receives)
                .await
                .unwrap_or_else(|e| panic!("create SQS queue {name}: {e:?}"));
        TestQueue {
            name: name.to_owned(),
            queue: Arc::new(smscrm_aws::SqsQueue::new(self.sqs.clone(), url)),
            dead_letter: Arc::new(smscrm_aws::SqsQueue::new(self.sqs.clone(), dlq_url)),
        }
    }
}

/// The emulator's address; panics (never skips) when the tests were not started by
/// `scripts/test`.
pub fn aws_endpoint() -> String {
    match std::env::var("AWS_ENDPOINT_URL") {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "AWS_ENDPOINT_URL is not set: the AWS backend tests run against a moto server. \
             Run them with `scripts/test`, which starts one and sets AWS_ENDPOINT_URL, \
             AWS_REGION and test credentials."
        ),
    }
}

/// A fresh AWS backend: a new table (with its GSIs) and bucket on the emulator.
pub async fn aws() -> AwsBackend {
    aws_endpoint();
    aws_on(smscrm_aws::sdk_config().await).await
}

/// [`aws`] on the endpoint and credentials of `config`.
pub async fn aws_on(config: SdkConfig) -> AwsBackend {
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    let sqs = aws_sdk_sqs::Client::new(&config);
    let s3 = smscrm_aws::s3_client(&config);
    let secrets_client = aws_sdk_secretsmanager::Client::new(&config);

    let id = ulid::Ulid::new().to_string().to_lowercase();
    let table_name = format!("smscrm-test-{id}");
    let bucket = format!("smscrm-test-{id}");
    let secrets_prefix = format!("smscrm-test/{id}/");

    let (created_table, created_bucket) = tokio::join!(
        smscrm_aws::create_table(&dynamodb, &table_name),
        smscrm_aws::create_bucket(&s3, &bucket),
    );
    created_table.unwrap_or_else(|e| panic!("create DynamoDB table {table_name}: {e:?}"));
    created_bucket.unwrap_or_else(|e| panic!("create S3 bucket {bucket}: {e:?}"));
    let ses = aws_sdk_sesv2::Client::new(&config);
    smscrm_aws::verify_sender(&ses, MAIL_FROM)
        .await
        .unwrap_or_else(|e| panic!("verify {MAIL_FROM}: {e:?}"));

    AwsBackend {
        table: Arc::new(smscrm_aws::DynamoTable::new(dynamodb.clone(), &table_name)),
        blobs: Arc::new(smscrm_aws::S3Blobs::new(s3.clone(), &bucket)),
        secrets: Arc::new(smscrm_aws::SecretsManagerSecrets::new(
            secrets_client,
            &secrets_prefix,
        )),
        mailer: Arc::new(smscrm_aws::SesMailer::new(ses, MAIL_FROM)),
        config,
        dynamodb,
        sqs,
        s3,
        table_name,
        bucket,
        secrets_prefix,
    }
}

#[async_trait]
impl QueueFactory for AwsBackend {
    async fn queue(&self, spec: QueueSpec) -> TestQueue {
        self.create_queue(&unique("smscrm-test"), spec).await
    }
}

#[async_trait]
impl Backend for AwsBackend {
    fn table(&self) -> Arc<dyn Table> {
        self.table.clone()
    }
    fn blobs(&self) -> Arc<dyn Blobs> {
        self.blobs.clone()
    }
    fn secrets(&self) -> Arc<dyn Secrets> {
        self.secrets.clone()
    }
    fn mailer(&self) -> Arc<dyn Mailer> {
        self.mailer.clone()
    }
    fn presigns_uploads(&self) -> bool {
        true
    }
    async fn unfinished_blob_writes(&self) -> Vec<String> {
        let mut found = Vec::new();
        let (mut key_marker, mut upload_id_marker) = (None, None);
        loop {
            let out = self
                .s3
                .list_multipart_uploads()
                .bucket(&self.bucket)
                .set_key_marker(key_marker.take())
                .set_upload_id_marker(upload_id_marker.take())
                .send()
                .await
                .unwrap_or_else(|e| panic!("ListMultipartUploads {}: {e:?}", self.bucket));
            found.extend(out.uploads().iter().map(|upload| {
                format!(
                    "{} (upload {})",
                    upload.key().unwrap_or_default(),
                    upload.upload_id().unwrap_or_default()
                )
            }));
            if out.is_truncated() != Some(true) {
                break;
            }
            key_marker = out.next_key_marker().map(str::to_owned);
            upload_id_marker = out.next_upload_id_marker().map(str::to_owned);
        }
        found.sort();
        found
    }
}
