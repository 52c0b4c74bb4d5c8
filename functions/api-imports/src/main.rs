//! Lambda entry point of the imports API: wiring only. The router is the one `smscrm serve`
//! runs locally.

use std::sync::Arc;

use smscrm_domain::ports::SystemClock;
use smscrm_http::{AppContext, with_common_layers};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
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
    let table = smscrm_aws::DynamoTable::from_config(&sdk, table_name);
    let blobs = smscrm_aws::S3Blobs::new(smscrm_aws::s3_client(&sdk), bucket);
    let ctx = AppContext::new(Arc::new(table), Arc::new(SystemClock));
    let state = api_imports::ImportsState::new(ctx, Arc::new(blobs));
    lambda_http::run(with_common_layers(api_imports::router()).with_state(state)).await
}
