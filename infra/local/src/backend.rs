//! Opens the adapters the chosen backend provides.

use std::sync::Arc;

use anyhow::Context as _;
use smscrm_domain::ports::{Blobs, SystemClock, Table};
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
