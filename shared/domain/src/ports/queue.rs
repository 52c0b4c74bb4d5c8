//! The queue port: SQS semantics. At-least-once delivery, a visibility timeout per receive,
//! a receive count per message, and a dead-letter queue after too many receives.

use std::time::Duration;

use async_trait::async_trait;

/// SQS's limit on one SendMessageBatch call; adapters chunk larger sends.
pub const MAX_SEND_BATCH: usize = 10;
/// SQS's largest `MaxNumberOfMessages`.
pub const MAX_RECEIVE: u32 = 10;
/// SQS's largest `DelaySeconds`.
pub const MAX_DELAY: Duration = Duration::from_secs(900);
/// SQS's largest visibility timeout (12 hours).
pub const MAX_VISIBILITY: Duration = Duration::from_secs(43_200);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingMessage {
    pub body: String,
    /// Hidden from receivers for this long after sending (at most [`MAX_DELAY`]).
    pub delay: Duration,
}

impl OutgoingMessage {
    pub fn new(body: impl Into<String>) -> Self {
        Self {
            body: body.into(),
            delay: Duration::ZERO,
        }
    }
    pub fn delayed(mut self, delay: Duration) -> Self {
        self.delay = delay;
        self
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub message_id: String,
    pub body: String,
    /// Names this receive; `ack` and `retry_after` take it. A later receive gets a new one.
    pub receipt: String,
    /// 1 on the first delivery.
    pub receive_count: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("invalid queue request: {0}")]
    Invalid(String),
    /// The receipt is not valid, when the backend can tell. SQS cannot always: acking an
    /// already-deleted message, or acking with the receipt of an earlier receive, succeeds
    /// there. Consumers must therefore be idempotent and never rely on this error.
    #[error("unknown or stale receipt handle")]
    StaleReceipt,
    #[error("queue temporarily unavailable: {0}")]
    Unavailable(String),
    #[error("queue failure: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl QueueError {
    pub fn backend(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Backend(Box::new(err))
    }
}

#[async_trait]
pub trait Queue: Send + Sync {
    /// Any number of messages; sent in chunks of [`MAX_SEND_BATCH`].
    async fn send_batch(&self, messages: Vec<OutgoingMessage>) -> Result<(), QueueError>;

    /// Up to `max` (1..=[`MAX_RECEIVE`]) visible messages, waiting up to `wait` for the first.
    /// Each is hidden for the queue's visibility timeout. A message received more times than
    /// the queue allows is moved to its dead-letter queue instead of being returned.
    async fn receive(&self, max: u32, wait: Duration) -> Result<Vec<Delivery>, QueueError>;

    /// Done with it: deletes the message. With a stale receipt the outcome is the backend's
    /// (see [`QueueError::StaleReceipt`]).
    async fn ack(&self, receipt: &str) -> Result<(), QueueError>;

    /// Makes the message visible again after `delay` (0 = now), counting as a failed attempt.
    async fn retry_after(&self, receipt: &str, delay: Duration) -> Result<(), QueueError>;

    /// Messages waiting and in flight (approximate on SQS).
    async fn approximate_len(&self) -> Result<u64, QueueError>;
}
