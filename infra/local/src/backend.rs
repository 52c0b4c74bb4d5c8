//! Opens the adapters the chosen backend provides.

use std::sync::Arc;

use std::time::Duration;

use anyhow::Context as _;
use smscrm_domain::ports::{Blobs, Queue, SystemClock, Table};
use smscrm_http::AppContext;

use crate::cli::{BackendArgs, BackendKind};

pub struct Backend {
    pub ctx: AppContext,
    /// The import bucket: uploads, drop-folder files and reports. Locally `<data-dir>/dropbox`.
    pub blobs: Arc<dyn Blobs>,
    /// Present on the embedded backend: the host purges expired items from it.
    pub embedded_table: Option<Arc<smscrm_local::SqliteTable>>,
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
            })
        }
    }
}

/// Locally a job's message stays hidden this long while a worker runs it; runs pause well
/// before (see `serve`), so it reappears only if the process died.
const LOCAL_JOB_VISIBILITY: Duration = Duration::from_secs(15 * 60);
/// Deliveries of one job before it is parked in the dead-letter queue.
const JOB_RECEIVES: u32 = 10;

/// The import-jobs queue: `<data-dir>/queue.db` locally (with its dead-letter queue), the
/// SQS queue named by `--import-jobs-queue-url` on AWS.
pub async fn import_jobs(args: &BackendArgs) -> anyhow::Result<Arc<dyn Queue>> {
    match args.backend {
        BackendKind::Aws => {
            let url = args.import_jobs_queue_url.clone().context(
                "the aws backend needs --import-jobs-queue-url (or SMSCRM_IMPORT_JOBS_QUEUE_URL)",
            )?;
            let sdk = smscrm_aws::sdk_config().await;
            Ok(Arc::new(smscrm_aws::SqsQueue::from_config(&sdk, url)))
        }
        BackendKind::Embedded => {
            let path = args.data_dir.join("queue.db");
            let open = |name: &str, dead_letter: Option<&str>| {
                smscrm_local::SqliteQueue::open(
                    &path,
                    name,
                    smscrm_local::QueueConfig {
                        visibility_timeout: LOCAL_JOB_VISIBILITY,
                        max_receives: JOB_RECEIVES,
                        dead_letter: dead_letter.map(str::to_owned),
                    },
                )
                .with_context(|| format!("cannot open the queue at {}", path.display()))
            };
            open("import-jobs-dead", None)?;
            Ok(Arc::new(open("import-jobs", Some("import-jobs-dead"))?))
        }
    }
}
