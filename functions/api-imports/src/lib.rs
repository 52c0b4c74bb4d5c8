//! The imports API. A client creates an import (`POST /v1/imports`), uploads the file to the
//! URL it is given (a presigned S3 PUT on AWS, so files of any size bypass API Gateway's
//! limits; `PUT /v1/imports/{id}/file` on the local host), then dry-runs and commits it. A
//! commit is queued for the import worker (`csv-import`'s `ImportWorker`) and answered at once
//! with `202 Accepted`; the client follows its progress with `GET /v1/imports/{id}`. So is the
//! dry run of a file too large to check within the request.

mod routes;

use std::sync::Arc;

use axum::extract::FromRef;
use smscrm_domain::ports::{Blobs, Queue};
use smscrm_http::AppContext;
use smscrm_store::Imports;

pub use routes::router;

/// What the import routes need beyond the common context.
#[derive(Clone)]
pub struct ImportsState {
    pub app: AppContext,
    pub blobs: Arc<dyn Blobs>,
    pub imports: Imports,
    /// The import-jobs queue commits go to.
    pub jobs: Arc<dyn Queue>,
    /// Dry runs of files up to this size run within the request; larger ones are queued, so
    /// they never meet API Gateway's 30-second limit.
    pub sync_dry_run_bytes: u64,
    /// The largest file the local upload endpoint takes; a larger one is refused with 413
    /// before anything of it is kept.
    pub max_upload_bytes: u64,
}

/// About 130,000 rows: a dry run of a few seconds on either backend.
pub const SYNC_DRY_RUN_BYTES: u64 = 8 * 1024 * 1024;

/// 5 GiB: the most one S3 PUT takes, so a presigned upload on AWS and the local upload
/// endpoint accept the same files, and a runaway upload cannot fill the local disk.
pub const MAX_UPLOAD_BYTES: u64 = 5 * 1024 * 1024 * 1024;

impl ImportsState {
    pub fn new(app: AppContext, blobs: Arc<dyn Blobs>, jobs: Arc<dyn Queue>) -> Self {
        Self {
            imports: Imports::new(app.table.clone()),
            app,
            blobs,
            jobs,
            sync_dry_run_bytes: SYNC_DRY_RUN_BYTES,
            max_upload_bytes: MAX_UPLOAD_BYTES,
        }
    }
}

impl FromRef<ImportsState> for AppContext {
    fn from_ref(state: &ImportsState) -> AppContext {
        state.app.clone()
    }
}
