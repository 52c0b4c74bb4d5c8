//! Lambda entry point of the sender: wiring only. SQS delivers batches of send work; failed
//! items are made visible again after their backoff and reported as batch item failures.

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use sender::{Pacer, Sender, SenderConfig, Verdict};
use smscrm_aws::lambda::{init_logging, pause_before, required_env};
use smscrm_domain::ports::{Queue, SystemClock, Table};
use smscrm_store::{Campaigns, Contacts, Dispatches, DoNotContact, Messages, Tenants};
use smscrm_twilio::{CredentialSource, TwilioClient};
use tokio::sync::Mutex;

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_logging();
    let table_name = required_env("TABLE_NAME")?;
    let queue_url = required_env("SEND_QUEUE_URL")?;
    let workers: u32 = required_env("SENDER_MAX_CONCURRENCY")?.parse()?;
    let max_receives: u32 = required_env("SEND_MAX_RECEIVES")?.parse()?;
    let twilio_base =
        std::env::var("TWILIO_BASE_URL").unwrap_or_else(|_| "https://api.twilio.com".into());
    let public_base_url = std::env::var("PUBLIC_BASE_URL")
        .ok()
        .filter(|u| !u.is_empty());
    let fallback_secret = std::env::var("TWILIO_DEFAULT_SECRET")
        .ok()
        .filter(|s| !s.is_empty());
    let sdk = smscrm_aws::sdk_config().await;
    let table: Arc<dyn Table> = Arc::new(smscrm_aws::DynamoTable::from_config(&sdk, table_name));
    let prefix = std::env::var("SECRETS_PREFIX").unwrap_or_default();
    let secrets = Arc::new(smscrm_aws::SecretsManagerSecrets::from_config(&sdk, prefix));
    let sender = Arc::new(Sender {
        tenants: Tenants::new(table.clone()),
        campaigns: Campaigns::new(table.clone()),
        contacts: Contacts::new(table.clone()),
        messages: Messages::new(table.clone()),
        suppressions: DoNotContact::new(table.clone()),
        dispatches: Dispatches::new(table),
        provider: Arc::new(TwilioClient::new(&twilio_base, Duration::from_secs(10))?),
        credentials: CredentialSource::new(secrets, fallback_secret),
        clock: Arc::new(SystemClock),
        config: SenderConfig {
            workers,
            max_receives,
            public_base_url,
            ..SenderConfig::default()
        },
    });
    let queue: Arc<dyn Queue> = Arc::new(smscrm_aws::SqsQueue::from_config(&sdk, queue_url));
    // One invocation at a time per instance: the instance's pacer is one worker's.
    let pacer = Arc::new(Mutex::new(Pacer::new(workers)));
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let (sender, queue, pacer) = (sender.clone(), queue.clone(), pacer.clone());
        async move {
            let records = event.payload.records;
            let batch: Vec<(&str, u32)> = records
                .iter()
                .map(|r| {
                    let receives = r
                        .attributes
                        .get("ApproximateReceiveCount")
                        .and_then(|n| n.parse().ok())
                        .unwrap_or(1);
                    (r.body.as_deref().unwrap_or(""), receives)
                })
                .collect();
            let stop_at = pause_before(event.context.deadline, SETTLE_TIME);
            let verdicts = sender
                .handle_batch(&batch, &mut *pacer.lock().await, Some(stop_at))
                .await;
            let mut response = SqsBatchResponse::default();
            for (record, verdict) in records.iter().zip(verdicts) {
                let wait = match verdict {
                    Verdict::Ack => continue,
                    Verdict::RetryAfter(wait) => wait,
                    Verdict::Requeue(wait) => {
                        let body = record.body.as_deref().unwrap_or_default();
                        match sender::requeue(queue.as_ref(), body, wait).await {
                            // The copy carries on; this one is reported done.
                            Ok(()) => continue,
                            // Reported failed: the dead-letter queue keeps it.
                            Err(e) => {
                                tracing::warn!(error = %e, "could not requeue send work");
                                wait
                            }
                        }
                    }
                };
                let receipt = record.receipt_handle.as_deref().unwrap_or_default();
                if let Err(e) = queue.retry_after(receipt, wait).await {
                    tracing::warn!(error = %e, "could not delay a failed send");
                }
                let mut failure = BatchItemFailure::default();
                failure.item_identifier = record.message_id.clone().unwrap_or_default();
                response.batch_item_failures.push(failure);
            }
            Ok::<SqsBatchResponse, Error>(response)
        }
    }))
    .await
}

/// Time kept back from the invocation's deadline to give back the batch's verdicts.
const SETTLE_TIME: Duration = Duration::from_secs(5);
