//! Opens the adapters the chosen backend provides.

use std::sync::Arc;

use std::time::Duration;

use anyhow::Context as _;
use smscrm_domain::ports::{Blobs, Queue, Secrets, SystemClock, Table};
use smscrm_http::AppContext;

use crate::cli::{BackendArgs, BackendKind};
use crate::serve::Queues;

pub struct Backend {
    pub ctx: AppContext,
    /// The import bucket: uploads, drop-folder files and reports. Locally `<data-dir>/dropbox`.
    pub blobs: Arc<dyn Blobs>,
    /// Present on the embedded backend: the host purges expired items from it.
    pub embedded_table: Option<Arc<smscrm_local::SqliteTable>>,
    /// Twilio credentials. Locally `<data-dir>/secrets.json`, readable by its owner only.
    pub secrets: Arc<dyn Secrets>,
}

pub async fn open(args: &BackendArgs) -> anyhow::Result<Backend> {
    match args.backend {
        BackendKind::Embedded => {
            std::fs::create_dir_all(&args.data_dir).with_context(|| {
                format!("cannot create data directory {}", args.data_dir.display())
            })?;
            let path = args.data_dir.join("store.db");
            let table = Arc::new(
                smscrm_local::SqliteTable::open(&path)
                    .with_context(|| format!("cannot open the store at {}", path.display()))?,
            );
            Ok(Backend {
                ctx: AppContext::new(table.clone() as Arc<dyn Table>, Arc::new(SystemClock)),
                blobs: Arc::new(smscrm_local::DirBlobs::new(args.data_dir.join("dropbox"))),
                embedded_table: Some(table),
                secrets: Arc::new(smscrm_local::FileSecrets::new(
                    args.data_dir.join("secrets.json"),
                )),
            })
        }
        BackendKind::Aws => {
            let sdk = smscrm_aws::sdk_config().await;
            let table = smscrm_aws::DynamoTable::from_config(&sdk, args.table.clone());
            Ok(Backend {
                ctx: AppContext::new(Arc::new(table), Arc::new(SystemClock)),
                blobs: Arc::new(smscrm_aws::S3Blobs::new(
                    smscrm_aws::s3_client(&sdk),
                    args.bucket.clone(),
                )),
                embedded_table: None,
                secrets: Arc::new(smscrm_aws::SecretsManagerSecrets::from_config(
                    &sdk,
                    args.secrets_prefix.clone(),
                )),
            })
        }
    }
}

/// Locally a job's message stays hidden this long while a worker runs it; runs pause well
/// before (see `serve`), so it reappears only if the process died.
const LOCAL_JOB_VISIBILITY: Duration = Duration::from_secs(15 * 60);
/// Deliveries of one job (or unit of send work) before it is parked in the dead-letter queue.
pub const JOB_RECEIVES: u32 = 10;

/// The queues: in `<data-dir>/queue.db` locally (each with its dead-letter queue), the SQS
/// queues named by `--import-jobs-queue-url`, `--dispatch-queue-url` and `--send-queue-url`
/// on AWS.
pub async fn queues(args: &BackendArgs) -> anyhow::Result<Queues> {
    match args.backend {
        BackendKind::Aws => {
            let sdk = smscrm_aws::sdk_config().await;
            let sqs = |url: &Option<String>, flag: &str| -> anyhow::Result<Arc<dyn Queue>> {
                let url = url
                    .clone()
                    .with_context(|| format!("the aws backend needs {flag}"))?;
                Ok(Arc::new(smscrm_aws::SqsQueue::from_config(&sdk, url)))
            };
            Ok(Queues {
                import_jobs: sqs(&args.import_jobs_queue_url, "--import-jobs-queue-url")?,
                dispatch: sqs(&args.dispatch_queue_url, "--dispatch-queue-url")?,
                sends: sqs(&args.send_queue_url, "--send-queue-url")?,
            })
        }
        BackendKind::Embedded => {
            let path = args.data_dir.join("queue.db");
            let open = |name: &str| -> anyhow::Result<Arc<dyn Queue>> {
                let dead = format!("{name}-dead");
                let config = |dead_letter: Option<String>| smscrm_local::QueueConfig {
                    visibility_timeout: LOCAL_JOB_VISIBILITY,
                    max_receives: JOB_RECEIVES,
                    dead_letter,
                };
                smscrm_local::SqliteQueue::open(&path, &dead, config(None))
                    .and_then(|_| smscrm_local::SqliteQueue::open(&path, name, config(Some(dead))))
                    .map(|q| Arc::new(q) as Arc<dyn Queue>)
                    .with_context(|| format!("cannot open the queue at {}", path.display()))
            };
            Ok(Queues {
                import_jobs: open("import-jobs")?,
                dispatch: open("campaign-dispatch")?,
                sends: open("sends")?,
            })
        }
    }
}
