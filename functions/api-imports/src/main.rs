//! Lambda entry point of the imports API: wiring only. The router is the one `smscrm serve`
//! runs locally.

use std::sync::Arc;

use smscrm_aws::lambda::{init_logging, required_env};
use smscrm_domain::ports::SystemClock;
use smscrm_http::{AppContext, with_common_layers};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init_logging();
    let table_name = required_env("TABLE_NAME")?;
    let bucket = required_env("IMPORT_BUCKET")?;
    let jobs_url = required_env("IMPORT_JOBS_QUEUE_URL")?;
    let sdk = smscrm_aws::sdk_config().await;
    let table = smscrm_aws::DynamoTable::from_config(&sdk, table_name);
    let blobs = smscrm_aws::S3Blobs::new(smscrm_aws::s3_client(&sdk), bucket);
    let jobs = smscrm_aws::SqsQueue::from_config(&sdk, jobs_url);
    let ctx = AppContext::new(Arc::new(table), Arc::new(SystemClock));
    let state = api_imports::ImportsState::new(ctx, Arc::new(blobs), Arc::new(jobs));
    lambda_http::run(with_common_layers(api_imports::router()).with_state(state)).await
}
