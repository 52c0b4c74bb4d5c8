//! Lambda entry point: wiring only. The router is the same one `smscrm serve` runs locally.

use std::sync::Arc;

use smscrm_aws::lambda::{init_logging, required_env};
use smscrm_domain::ports::SystemClock;
use smscrm_http::{AppContext, with_common_layers};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init_logging();
    let table_name = required_env("TABLE_NAME")?;
    let sdk = smscrm_aws::sdk_config().await;
    let table = smscrm_aws::DynamoTable::from_config(&sdk, table_name);
    let prefix = std::env::var("SECRETS_PREFIX").unwrap_or_default();
    let secrets = smscrm_aws::SecretsManagerSecrets::from_config(&sdk, prefix);
    let dispatch_url = required_env("DISPATCH_QUEUE_URL")?;
    let state = api_tenant::TenantState {
        app: AppContext::new(Arc::new(table), Arc::new(SystemClock)),
        secrets: Arc::new(secrets),
        dispatch: Arc::new(smscrm_aws::SqsQueue::from_config(&sdk, dispatch_url)),
    };
    let app = with_common_layers(api_tenant::router()).with_state(state);
    lambda_http::run(app).await
}
