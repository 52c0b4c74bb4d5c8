//! The [`Queue`] port on one SQS standard queue. Redelivery after the visibility timeout and
//! dead-lettering after `maxReceiveCount` receives are done by SQS itself (see
//! [`create_queue_with_dlq`]).

mod admin;
mod errors;
mod send;

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{Message, MessageSystemAttributeName, QueueAttributeName};
use smscrm_domain::ports::queue::{
    Delivery, MAX_RECEIVE, MAX_VISIBILITY, OutgoingMessage, Queue, QueueError,
};

pub use admin::create_queue_with_dlq;

use crate::error::UnexpectedResponse;
use errors::queue_error;

/// SQS's longest long poll.
const MAX_WAIT_SECS: u64 = 20;

#[derive(Debug, Clone)]
pub struct SqsQueue {
    client: Client,
    url: String,
}

impl SqsQueue {
    pub fn new(client: Client, url: impl Into<String>) -> Self {
        Self {
            client,
            url: url.into(),
        }
    }

    pub fn from_config(config: &aws_config::SdkConfig, url: impl Into<String>) -> Self {
        Self::new(Client::new(config), url)
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn url(&self) -> &str {
        &self.url
    }
}

#[async_trait]
impl Queue for SqsQueue {
    async fn send_batch(&self, messages: Vec<OutgoingMessage>) -> Result<(), QueueError> {
        send::send_all(&self.client, &self.url, messages).await
    }

    async fn receive(&self, max: u32, wait: Duration) -> Result<Vec<Delivery>, QueueError> {
        if !(1..=MAX_RECEIVE).contains(&max) {
            return Err(QueueError::Invalid(format!(
                "receive takes 1..={MAX_RECEIVE} messages, not {max}"
            )));
        }
        let wait_secs = wait_seconds(wait);
        let out = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(max as i32)
            .wait_time_seconds(wait_secs)
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(queue_error)?;
        out.messages
            .unwrap_or_default()
            .into_iter()
            .map(delivery)
            .collect()
    }

    async fn ack(&self, receipt: &str) -> Result<(), QueueError> {
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(receipt)
            .send()
            .await
            .map_err(queue_error)?;
        Ok(())
    }

    async fn retry_after(&self, receipt: &str, delay: Duration) -> Result<(), QueueError> {
        if delay > MAX_VISIBILITY {
            return Err(QueueError::Invalid(format!(
                "retry delay {delay:?} exceeds SQS's {MAX_VISIBILITY:?}"
            )));
        }
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt)
            .visibility_timeout(ceil_secs(delay))
            .send()
            .await
            .map_err(queue_error)?;
        Ok(())
    }

    async fn approximate_len(&self) -> Result<u64, QueueError> {
        // Delayed messages are waiting too; the embedded queue counts them.
        let names = [
            QueueAttributeName::ApproximateNumberOfMessages,
            QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
            QueueAttributeName::ApproximateNumberOfMessagesDelayed,
        ];
        let out = self
            .client
            .get_queue_attributes()
            .queue_url(&self.url)
            .set_attribute_names(Some(names.to_vec()))
            .send()
            .await
            .map_err(queue_error)?;
        let attributes = out.attributes.unwrap_or_default();
        let mut total = 0u64;
        for name in names {
            // SQS may leave out an attribute that is zero.
            if let Some(raw) = attributes.get(&name) {
                total += raw
                    .parse::<u64>()
                    .map_err(|_| unexpected(format!("{name} = {raw:?}")))?;
            }
        }
        Ok(total)
    }
}

/// `wait` to whole seconds, rounded to nearest, at most SQS's 20.
fn wait_seconds(wait: Duration) -> i32 {
    let rounded = (wait.as_millis() as u64).saturating_add(500) / 1000;
    rounded.min(MAX_WAIT_SECS) as i32
}

/// Rounded up, so the message never reappears earlier than asked.
fn ceil_secs(delay: Duration) -> i32 {
    let secs = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
    i32::try_from(secs).unwrap_or(i32::MAX)
}

fn delivery(message: Message) -> Result<Delivery, QueueError> {
    let receive_count = message
        .attributes()
        .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
        .and_then(|raw| raw.parse::<u32>().ok())
        .ok_or_else(|| unexpected("a message without ApproximateReceiveCount".into()))?;
    let Message {
        message_id,
        receipt_handle,
        body,
        ..
    } = message;
    Ok(Delivery {
        message_id: message_id.ok_or_else(|| unexpected("a message without MessageId".into()))?,
        receipt: receipt_handle
            .ok_or_else(|| unexpected("a message without ReceiptHandle".into()))?,
        // SQS omits an empty body.
        body: body.unwrap_or_default(),
        receive_count,
    })
}

fn unexpected(what: String) -> QueueError {
    QueueError::backend(UnexpectedResponse(what))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wait_is_rounded_and_capped() {
        assert_eq!(wait_seconds(Duration::ZERO), 0);
        assert_eq!(wait_seconds(Duration::from_millis(499)), 0);
        assert_eq!(wait_seconds(Duration::from_millis(1500)), 2);
        assert_eq!(wait_seconds(Duration::from_secs(20)), 20);
        assert_eq!(wait_seconds(Duration::from_secs(3600)), 20);
    }

    #[test]
    fn visibility_rounds_up() {
        assert_eq!(ceil_secs(Duration::ZERO), 0);
        assert_eq!(ceil_secs(Duration::from_millis(1)), 1);
        assert_eq!(ceil_secs(Duration::from_secs(30)), 30);
    }

    #[test]
    fn delivery_maps_fields_and_requires_the_receive_count() {
        let message = Message::builder()
            .message_id("m-1")
            .receipt_handle("r-1")
            .body("hello")
            .attributes(MessageSystemAttributeName::ApproximateReceiveCount, "3")
            .build();
        assert_eq!(
            delivery(message).unwrap(),
            Delivery {
                message_id: "m-1".into(),
                body: "hello".into(),
                receipt: "r-1".into(),
                receive_count: 3,
            }
        );
        let without_count = Message::builder()
            .message_id("m")
            .receipt_handle("r")
            .build();
        assert!(matches!(
            delivery(without_count),
            Err(QueueError::Backend(_))
        ));
    }
}
