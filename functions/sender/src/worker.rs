//! Batches of send work: on Lambda one SQS batch per invocation; in the local host a pool of
//! workers, as many as the event source's maximum concurrency, each receiving from the durable
//! queue. Both go through [`Sender::handle_batch`].

use std::sync::Arc;
use std::time::Duration;

use campaign_dispatcher::SendWork;
use smscrm_domain::ports::queue::MAX_DELAY;
use smscrm_domain::ports::{OutgoingMessage, Queue, QueueError};
use tracing::Instrument as _;

use crate::{BatchContext, Handled, Pacer, Sender, backoff};

/// What becomes of one delivery of send work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Done with: delete it from the queue.
    Ack,
    /// Make it visible again after this long (a failed attempt; after the queue's maximum
    /// receives it goes to the dead-letter queue).
    RetryAfter(Duration),
    /// Not done, and this was its last receive: queue a fresh copy after this long (at most
    /// SQS's 15-minute delay) and delete this one, so work that is only waiting (a live claim,
    /// Twilio's grace) never reaches the dead-letter queue unsent.
    Requeue(Duration),
}

/// Work that cannot be read is tried again this much later, until the dead-letter queue
/// keeps it for a person.
const UNREADABLE_RETRY: Duration = Duration::from_secs(60);

impl Sender {
    /// One batch, in order (pacing is per worker), as `(body, receive count)` pairs; then
    /// completes the campaigns that may have sent their last message. Work that could not
    /// be sent before `stop_at` is given back to the queue.
    pub async fn handle_batch(
        &self,
        batch: &[(&str, u32)],
        pacer: &mut Pacer,
        stop_at: Option<tokio::time::Instant>,
    ) -> Vec<Verdict> {
        let mut context = BatchContext {
            stop_at,
            ..BatchContext::default()
        };
        let mut verdicts = Vec::with_capacity(batch.len());
        for (body, receive_count) in batch {
            let work: SendWork = match serde_json::from_str(body) {
                Ok(work) => work,
                Err(e) => {
                    tracing::error!(error = %e, body, "unreadable send work");
                    verdicts.push(Verdict::RetryAfter(UNREADABLE_RETRY));
                    continue;
                }
            };
            let span = tracing::info_span!(
                "send",
                tenant_id = %work.tenant_id,
                campaign_id = %work.campaign_id,
                contact_id = %work.contact_id,
            );
            let handled = self
                .handle(&work, *receive_count, &mut context, pacer)
                .instrument(span)
                .await;
            let last_receive = *receive_count >= self.config.max_receives;
            let retry = |wait| {
                if last_receive {
                    Verdict::Requeue(wait)
                } else {
                    Verdict::RetryAfter(wait)
                }
            };
            verdicts.push(match handled {
                Ok(Handled::RetryAfter(wait)) => retry(wait),
                // Not acknowledged: the queue moves it to its dead-letter queue.
                Ok(Handled::GaveUp) => Verdict::RetryAfter(Duration::ZERO),
                Ok(handled) => {
                    tracing::debug!(?handled, "send work handled");
                    Verdict::Ack
                }
                // Errors that persist (a corrupt record, an unreadable secret) must reach the
                // dead-letter queue and its alarm, so they are not queued again fresh.
                Err(e) => {
                    tracing::warn!(error = %e, "send work failed; it will be retried");
                    Verdict::RetryAfter(backoff::delay(*receive_count, None))
                }
            });
        }
        for (tenant, campaign) in context.settled {
            let completed = campaign_dispatcher::complete_if_settled(
                &self.campaigns,
                &self.dispatches,
                &tenant,
                &campaign,
                self.clock.now(),
            )
            .await;
            if let Err(e) = completed {
                // The next batch of the campaign, or the scheduler, tries again.
                tracing::warn!(error = %e, tenant_id = %tenant, campaign_id = %campaign, "completing a campaign failed");
            }
        }
        verdicts
    }
}

/// The local host's sender workers on the durable queue.
pub struct WorkerPool {
    pub sender: Arc<Sender>,
    pub queue: Arc<dyn Queue>,
    /// Workers receiving at once: the analogue of reserved concurrency.
    pub workers: u32,
}

impl WorkerPool {
    /// Runs the workers until the process ends.
    pub async fn run(self) {
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..self.workers.max(1) {
            let sender = self.sender.clone();
            let queue = self.queue.clone();
            let pacer = Pacer::new(sender.config.workers);
            tasks.spawn(work(sender, queue, pacer));
        }
        while tasks.join_next().await.is_some() {}
    }
}

/// Queues a fresh copy of send work (receive count 0) after `wait`.
pub async fn requeue(queue: &dyn Queue, body: &str, wait: Duration) -> Result<(), QueueError> {
    let message = OutgoingMessage::new(body).delayed(wait.min(MAX_DELAY));
    queue.send_batch(vec![message]).await
}

async fn work(sender: Arc<Sender>, queue: Arc<dyn Queue>, mut pacer: Pacer) {
    loop {
        let deliveries = match queue.receive(10, Duration::from_secs(20)).await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "receiving send work failed");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        let batch: Vec<(&str, u32)> = deliveries
            .iter()
            .map(|d| (d.body.as_str(), d.receive_count))
            .collect();
        let verdicts = sender.handle_batch(&batch, &mut pacer, None).await;
        for (delivery, verdict) in deliveries.iter().zip(verdicts) {
            let done = match verdict {
                Verdict::Ack => queue.ack(&delivery.receipt).await,
                Verdict::RetryAfter(wait) => queue.retry_after(&delivery.receipt, wait).await,
                Verdict::Requeue(wait) => match requeue(queue.as_ref(), &delivery.body, wait).await
                {
                    Ok(()) => queue.ack(&delivery.receipt).await,
                    Err(e) => Err(e),
                },
            };
            if let Err(e) = done {
                // The message comes back after its visibility timeout; the record decides.
                tracing::warn!(error = %e, "settling send work with the queue failed");
            }
        }
    }
}
