//! Lambda entry point: wiring only. The router is the same one `smscrm serve` runs locally.

use std::sync::Arc;

use smscrm_domain::ports::SystemClock;
use smscrm_http::{AppContext, health_router, with_common_layers};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_current_span(true)
        .without_time() // CloudWatch stamps every line
        .init();
    let table_name = std::env::var("TABLE_NAME").map_err(|_| "TABLE_NAME is not set")?;
    let sdk = smscrm_aws::sdk_config().await;
    let table = smscrm_aws::DynamoTable::from_config(&sdk, table_name);
    let ctx = AppContext::new(Arc::new(table), Arc::new(SystemClock));
    let app = with_common_layers(api_contacts::router().merge(health_router())).with_state(ctx);
    lambda_http::run(app).await
}
