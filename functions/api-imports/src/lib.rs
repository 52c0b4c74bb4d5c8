//! The imports API. A client creates an import (`POST /v1/imports`), uploads the file to the
//! URL it is given (a presigned S3 PUT on AWS, so files of any size bypass API Gateway's
//! limits; `PUT /v1/imports/{id}/file` on the local host), then dry-runs and commits it. A
//! commit is queued for the import worker (`csv-import`'s `ImportWorker`) and answered at once
//! with `202 Accepted`; the client follows its progress with `GET /v1/imports/{id}`.

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
}

impl ImportsState {
    pub fn new(app: AppContext, blobs: Arc<dyn Blobs>, jobs: Arc<dyn Queue>) -> Self {
        Self {
            imports: Imports::new(app.table.clone()),
            app,
            blobs,
            jobs,
        }
    }
}

impl FromRef<ImportsState> for AppContext {
    fn from_ref(state: &ImportsState) -> AppContext {
        state.app.clone()
    }
}
