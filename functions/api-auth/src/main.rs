//! Lambda entry point: wiring only. The router is the same one `smscrm serve` runs locally.

use std::sync::Arc;

use smscrm_aws::lambda::{init_logging, required_env};
use smscrm_domain::ports::SystemClock;
use smscrm_http::{AppContext, with_common_layers};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init_logging();
    let table_name = required_env("TABLE_NAME")?;
    let public_base_url = std::env::var("PUBLIC_BASE_URL")
        .ok()
        .filter(|u| !u.is_empty());
    let mail_from = required_env("MAIL_FROM")?;
    let sdk = smscrm_aws::sdk_config().await;
    let table = smscrm_aws::DynamoTable::from_config(&sdk, table_name);
    let state = api_auth::AuthState {
        app: AppContext::new(Arc::new(table), Arc::new(SystemClock)),
        mailer: Arc::new(smscrm_aws::SesMailer::from_config(&sdk, mail_from)),
        public_base_url,
    };
    let app = with_common_layers(api_auth::router()).with_state(state);
    lambda_http::run(app).await
}
