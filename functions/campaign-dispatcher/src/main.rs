//! Lambda entry point of the campaign dispatcher: wiring only. SQS delivers one dispatch job
//! per invocation; the dispatcher pauses a minute before the deadline and queues a
//! continuation.

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::SqsEvent;
use campaign_dispatcher::{DispatchJob, Dispatcher, Outcome, owner_name};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use smscrm_aws::lambda::{init_logging, pause_before, required_env};
use smscrm_domain::ports::{SystemClock, Table};
use smscrm_store::{
    Budgets, Campaigns, Contacts, Dispatches, DoNotContact, Messages, Templates, Tenants,
};
use tracing::Instrument as _;

/// Time kept for finishing the page in flight and queueing the continuation.
const DEADLINE_MARGIN: Duration = Duration::from_secs(60);

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_logging();
    let table_name = required_env("TABLE_NAME")?;
    let jobs_url = required_env("DISPATCH_QUEUE_URL")?;
    let sends_url = required_env("SEND_QUEUE_URL")?;
    let sdk = smscrm_aws::sdk_config().await;
    let table: Arc<dyn Table> = Arc::new(smscrm_aws::DynamoTable::from_config(&sdk, table_name));
    let dispatcher = Arc::new(Dispatcher {
        tenants: Tenants::new(table.clone()),
        campaigns: Campaigns::new(table.clone()),
        templates: Templates::new(table.clone()),
        contacts: Contacts::new(table.clone()),
        suppressions: DoNotContact::new(table.clone()),
        messages: Messages::new(table.clone()),
        dispatches: Dispatches::new(table.clone()),
        budgets: Budgets::new(table),
        jobs: Arc::new(smscrm_aws::SqsQueue::from_config(&sdk, jobs_url)),
        sends: Arc::new(smscrm_aws::SqsQueue::from_config(&sdk, sends_url)),
        clock: Arc::new(SystemClock),
        owner: owner_name(),
        page_size: campaign_dispatcher::PAGE,
    });
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let dispatcher = dispatcher.clone();
        async move {
            let stop_at = pause_before(event.context.deadline, DEADLINE_MARGIN);
            for message in event.payload.records {
                let job: DispatchJob =
                    serde_json::from_str(message.body.as_deref().unwrap_or(""))?;
                let receipt = message.receipt_handle.unwrap_or_default();
                let span = tracing::info_span!("dispatch", tenant_id = %job.tenant_id, campaign_id = %job.campaign_id);
                let outcome = dispatcher.handle(&job, Some(stop_at)).instrument(span).await?;
                tracing::info!(?outcome, "dispatch job handled");
                if let Outcome::Busy { retry_in } = outcome {
                    // Failing the invocation keeps the message; it comes back after the lease.
                    dispatcher.jobs.retry_after(&receipt, retry_in).await?;
                    return Err("the campaign is leased by another dispatcher".into());
                }
            }
            Ok::<(), Error>(())
        }
    }))
    .await
}
