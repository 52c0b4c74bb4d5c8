//! Lambda entry point: wiring only. The router is the same one `smscrm serve` runs locally.

use std::sync::Arc;

use smscrm_aws::lambda::{init_logging, required_env};
use smscrm_domain::ports::SystemClock;
use smscrm_http::with_common_layers;
use smscrm_twilio::CredentialSource;
use twilio_webhook::{WebhookConfig, WebhookState};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    init_logging();
    let table_name = required_env("TABLE_NAME")?;
    let public_base_url = std::env::var("PUBLIC_BASE_URL")
        .ok()
        .filter(|u| !u.is_empty());
    let sdk = smscrm_aws::sdk_config().await;
    let table = smscrm_aws::DynamoTable::from_config(&sdk, table_name);
    let prefix = std::env::var("SECRETS_PREFIX").unwrap_or_default();
    let secrets = smscrm_aws::SecretsManagerSecrets::from_config(&sdk, prefix);
    let fallback = std::env::var("TWILIO_DEFAULT_SECRET")
        .ok()
        .filter(|s| !s.is_empty());
    let credentials = CredentialSource::new(Arc::new(secrets), fallback);
    let state = WebhookState::new(
        Arc::new(table),
        Arc::new(SystemClock),
        Arc::new(credentials),
        WebhookConfig { public_base_url },
    );
    let app = with_common_layers(twilio_webhook::router()).with_state(state);
    lambda_http::run(app).await
}
