//! Lambda entry point of the drop folder: wiring only. S3 notifies us of objects created in the
//! import bucket; each is handed to the same [`DropFolder`] the local host's watcher uses.

use std::sync::Arc;

use aws_lambda_events::event::s3::S3Event;
use csv_import::DropFolder;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use smscrm_domain::ports::Table;
use smscrm_store::{Contacts, Imports, Tenants};

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_current_span(true)
        .without_time()
        .init();
    let table_name = std::env::var("TABLE_NAME").map_err(|_| "TABLE_NAME is not set")?;
    let bucket = std::env::var("IMPORT_BUCKET").map_err(|_| "IMPORT_BUCKET is not set")?;
    let sdk = smscrm_aws::sdk_config().await;
    let table: Arc<dyn Table> = Arc::new(smscrm_aws::DynamoTable::from_config(&sdk, table_name));
    let folder = Arc::new(DropFolder {
        tenants: Tenants::new(table.clone()),
        contacts: Contacts::new(table.clone()),
        imports: Imports::new(table),
        blobs: Arc::new(smscrm_aws::S3Blobs::new(
            smscrm_aws::s3_client(&sdk),
            bucket,
        )),
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
