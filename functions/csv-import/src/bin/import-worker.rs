//! Lambda entry point of the import-jobs worker: wiring only. SQS delivers one job per
//! invocation (batch size 1: a commit can take the whole 15 minutes); the worker pauses a
//! minute before the invocation's deadline and queues a continuation.

use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::event::sqs::SqsEvent;
use csv_import::{FanOut, ImportJob, ImportWorker, JobOutcome};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use smscrm_aws::lambda::{init_logging, pause_before, required_env};
use smscrm_domain::ports::Table;
use smscrm_store::{Contacts, Imports};
use tracing::Instrument as _;

/// Time kept for writing the batches already planned (at most three) and queueing the
/// continuation: room for three throttled batches at the bulk retry budget.
const DEADLINE_MARGIN: Duration = Duration::from_secs(120);
/// The largest file the worker takes: its sorts need about 40 bytes a row of the 10 GiB of
/// `/tmp` template.yaml gives it, with room to spare for the error report.
const MAX_ROWS: u64 = 200_000_000;

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_logging();
    let table_name = required_env("TABLE_NAME")?;
    let bucket = required_env("IMPORT_BUCKET")?;
    let jobs_url = required_env("IMPORT_JOBS_QUEUE_URL")?;
    let sdk = smscrm_aws::for_bulk_writes(&smscrm_aws::sdk_config().await);
    let table: Arc<dyn Table> = Arc::new(
        smscrm_aws::DynamoTable::from_config(&sdk, table_name)
            .with_retry_budget(smscrm_aws::RetryBudget::BULK),
    );
    let worker = Arc::new(ImportWorker {
        contacts: Contacts::new(table.clone()),
        imports: Imports::new(table),
        blobs: Arc::new(smscrm_aws::S3Blobs::new(
            smscrm_aws::s3_client(&sdk),
            bucket,
        )),
        queue: Arc::new(smscrm_aws::SqsQueue::from_config(&sdk, jobs_url)),
        fan_out: FanOut {
            max_rows: MAX_ROWS,
            ..FanOut::default()
        },
    });
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let worker = worker.clone();
        async move {
            let stop_at = pause_before(event.context.deadline, DEADLINE_MARGIN);
            for message in event.payload.records {
                let job: ImportJob = serde_json::from_str(message.body.as_deref().unwrap_or(""))?;
                let receipt = message.receipt_handle.unwrap_or_default();
                let span = tracing::info_span!("import_job", tenant_id = %job.tenant_id, import_id = %job.import_id);
                let outcome = match worker.handle(&job, Some(stop_at)).instrument(span).await {
                    Ok(outcome) => outcome,
                    Err(error) => {
                        // Back sooner than the visibility timeout (16 minutes), later each time.
                        let deliveries = (message.attributes.get("ApproximateReceiveCount"))
                            .and_then(|n| n.parse().ok())
                            .unwrap_or(1);
                        let wait = csv_import::retry_delay_after_failure(deliveries);
                        if let Err(e) = worker.queue.retry_after(&receipt, wait).await {
                            tracing::warn!(error = %e, "the failed job keeps the visibility timeout");
                        }
                        return Err(error.into());
                    }
                };
                tracing::info!(?outcome, "import job handled");
                if let JobOutcome::Busy { retry_in } = outcome {
                    // Failing the invocation keeps the message; it comes back after the lease.
                    worker.queue.retry_after(&receipt, retry_in).await?;
                    return Err("the import is leased by another worker".into());
                }
            }
            Ok::<(), Error>(())
        }
    }))
    .await
}
