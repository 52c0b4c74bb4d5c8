//! Lambda entry point of the scheduler: wiring only. An EventBridge rule invokes it every
//! minute; each invocation is one tick (start due campaigns, release due held messages).

use std::sync::Arc;

use campaign_dispatcher::Scheduler;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use smscrm_aws::lambda::{init_logging, required_env};
use smscrm_domain::ports::{SystemClock, Table};
use smscrm_store::{Budgets, Campaigns, Dispatches, Messages, Tenants};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_logging();
    let table_name = required_env("TABLE_NAME")?;
    let dispatch_url = required_env("DISPATCH_QUEUE_URL")?;
    let sends_url = required_env("SEND_QUEUE_URL")?;
    let sdk = smscrm_aws::sdk_config().await;
    let table: Arc<dyn Table> = Arc::new(smscrm_aws::DynamoTable::from_config(&sdk, table_name));
    let scheduler = Arc::new(Scheduler {
        tenants: Tenants::new(table.clone()),
        campaigns: Campaigns::new(table.clone()),
        messages: Messages::new(table.clone()),
        dispatches: Dispatches::new(table.clone()),
        budgets: Budgets::new(table),
        dispatch: Arc::new(smscrm_aws::SqsQueue::from_config(&sdk, dispatch_url)),
        sends: Arc::new(smscrm_aws::SqsQueue::from_config(&sdk, sends_url)),
        clock: Arc::new(SystemClock),
    });
    lambda_runtime::run(service_fn(move |_: LambdaEvent<serde_json::Value>| {
        let scheduler = scheduler.clone();
        async move {
            let tick = scheduler.tick().await?;
            tracing::info!(?tick, "scheduler tick");
            Ok::<(), Error>(())
        }
    }))
    .await
}
