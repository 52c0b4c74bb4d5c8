//! SendMessageBatch in chunks, retrying the entries SQS failed on its side.

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::SendMessageBatchRequestEntry;
use smscrm_domain::ports::queue::{MAX_DELAY, MAX_SEND_BATCH, OutgoingMessage, QueueError};

use super::errors::queue_error;
use crate::backoff::{RetryBudget, pause};

/// SQS caps a whole batch request at 256 KiB of message bodies (1 MiB since 2025 on AWS, but
/// not on every emulator); chunks stay under the older limit so both accept them.
const MAX_BATCH_BYTES: usize = 256 * 1024;

/// Retries of the entries SQS failed with `SenderFault = false` (its side) before giving up.
const MAX_ENTRY_RETRIES: u32 = 3;

pub(super) async fn send_all(
    client: &Client,
    url: &str,
    messages: Vec<OutgoingMessage>,
) -> Result<(), QueueError> {
    if let Some(late) = messages.iter().find(|m| m.delay > MAX_DELAY) {
        return Err(QueueError::Invalid(format!(
            "delay {:?} exceeds SQS's {MAX_DELAY:?}",
            late.delay
        )));
    }
    // One chunk at a time: the callers already batch, and this keeps a sender's order roughly.
    for chunk in chunks(messages) {
        send_chunk(client, url, chunk).await?;
    }
    Ok(())
}

/// Consecutive messages, at most [`MAX_SEND_BATCH`] and [`MAX_BATCH_BYTES`] per chunk (a single
/// larger message goes alone, for SQS to accept or reject).
fn chunks(messages: Vec<OutgoingMessage>) -> Vec<Vec<OutgoingMessage>> {
    let mut out: Vec<Vec<OutgoingMessage>> = Vec::new();
    let mut bytes = 0;
    for message in messages {
        let size = message.body.len();
        let full = out
            .last()
            .is_none_or(|c| c.len() == MAX_SEND_BATCH || bytes + size > MAX_BATCH_BYTES);
        if full {
            out.push(Vec::with_capacity(MAX_SEND_BATCH));
            bytes = 0;
        }
        bytes += size;
        if let Some(chunk) = out.last_mut() {
            chunk.push(message);
        }
    }
    out
}

async fn send_chunk(
    client: &Client,
    url: &str,
    chunk: Vec<OutgoingMessage>,
) -> Result<(), QueueError> {
    let mut pending = chunk;
    let mut retry = 0;
    loop {
        // Entry ids are positions in `pending`, so failed entries map back to their messages.
        let entries = pending
            .iter()
            .enumerate()
            .map(|(at, m)| {
                SendMessageBatchRequestEntry::builder()
                    .id(at.to_string())
                    .message_body(&m.body)
                    .delay_seconds(m.delay.as_secs() as i32)
                    .build()
                    .map_err(QueueError::backend)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let out = client
            .send_message_batch()
            .queue_url(url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(queue_error)?;
        let failed = out.failed();
        if failed.is_empty() {
            return Ok(());
        }
        if let Some(rejected) = failed.iter().find(|f| f.sender_fault()) {
            // Our message is wrong (too large, bad characters): retrying cannot help.
            return Err(QueueError::Invalid(format!(
                "SQS rejected a message: {}: {}",
                rejected.code(),
                rejected.message().unwrap_or_default()
            )));
        }
        if retry >= MAX_ENTRY_RETRIES {
            return Err(QueueError::Unavailable(format!(
                "{} messages still failing after {MAX_ENTRY_RETRIES} retries, e.g. {}",
                failed.len(),
                failed[0].code()
            )));
        }
        let mut failed_at: Vec<usize> = failed
            .iter()
            .filter_map(|f| f.id().parse::<usize>().ok())
            .collect();
        failed_at.sort_unstable();
        failed_at.dedup();
        pending = pending
            .into_iter()
            .enumerate()
            .filter(|(at, _)| failed_at.binary_search(at).is_ok())
            .map(|(_, m)| m)
            .collect();
        tracing::debug!(
            left = pending.len(),
            retry,
            "retrying failed SQS batch entries"
        );
        pause(retry, RetryBudget::REQUEST).await;
        retry += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_by_count() {
        let messages = (0..23)
            .map(|i| OutgoingMessage::new(i.to_string()))
            .collect();
        let sizes: Vec<usize> = chunks(messages).iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![10, 10, 3]);
    }

    #[test]
    fn chunks_by_bytes() {
        let big = "x".repeat(100 * 1024);
        let messages = (0..5).map(|_| OutgoingMessage::new(big.clone())).collect();
        let sizes: Vec<usize> = chunks(messages).iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![2, 2, 1]);
        let huge = vec![
            OutgoingMessage::new("y".repeat(300 * 1024)),
            OutgoingMessage::new("z"),
        ];
        let sizes: Vec<usize> = chunks(huge).iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![1, 1]);
    }

    #[test]
    fn no_messages_no_chunks() {
        assert!(chunks(Vec::new()).is_empty());
    }
}
