//! Lambda entry point of the drop folder: wiring only. S3 notifies us of objects created in the
//! import bucket; each is handed to the same [`DropFolder`] the local host's watcher uses,
//! which records the import and queues its commit for the `import-worker` function.

use std::sync::Arc;

use aws_lambda_events::event::s3::S3Event;
use csv_import::DropFolder;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use smscrm_aws::lambda::{init_logging, required_env};
use smscrm_domain::ports::Table;
use smscrm_store::{AuditLog, Contacts, Imports, Tenants};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_logging();
    let table_name = required_env("TABLE_NAME")?;
    let bucket = required_env("IMPORT_BUCKET")?;
    let jobs_url = required_env("IMPORT_JOBS_QUEUE_URL")?;
    let sdk = smscrm_aws::sdk_config().await;
    let table: Arc<dyn Table> = Arc::new(smscrm_aws::DynamoTable::from_config(&sdk, table_name));
    let folder = Arc::new(DropFolder {
        tenants: Tenants::new(table.clone()),
        contacts: Contacts::new(table.clone()),
        imports: Imports::new(table.clone()),
        audit: AuditLog::new(table),
        blobs: Arc::new(smscrm_aws::S3Blobs::new(
            smscrm_aws::s3_client(&sdk),
            bucket,
        )),
        jobs: Arc::new(smscrm_aws::SqsQueue::from_config(&sdk, jobs_url)),
    });
    lambda_runtime::run(service_fn(move |event: LambdaEvent<S3Event>| {
        let folder = folder.clone();
        async move {
            csv_import::handle_s3_event(&folder, event.payload)
                .await
                .map(drop)
        }
    }))
    .await
}
