//! Creates the send queue and its dead-letter queue, for tests and local tooling (production
//! queues come from `template.yaml`).

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::QueueAttributeName;

use crate::error::{SetupError, UnexpectedResponse};

/// Fourteen days, SQS's longest retention: dead letters wait for a human.
const DLQ_RETENTION_SECS: u32 = 1_209_600;

/// Creates `<name>-dlq` and `name`, whose messages move to the DLQ after `max_receives`
/// receives. Returns `(queue_url, dlq_url)`. Idempotent while the attributes stay the same.
pub async fn create_queue_with_dlq(
    client: &Client,
    name: &str,
    visibility_timeout_secs: u32,
    max_receives: u32,
) -> Result<(String, String), SetupError> {
    let dlq_url = create(
        client,
        &format!("{name}-dlq"),
        &[(
            QueueAttributeName::MessageRetentionPeriod,
            DLQ_RETENTION_SECS.to_string(),
        )],
    )
    .await?;
    let attributes = client
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| SetupError::new("GetQueueAttributes", e))?;
    let dlq_arn = attributes
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .ok_or_else(|| {
            SetupError::new(
                "GetQueueAttributes",
                UnexpectedResponse("no QueueArn".into()),
            )
        })?;
    let redrive = serde_json::json!({
        "deadLetterTargetArn": dlq_arn,
        "maxReceiveCount": max_receives.to_string(),
    });
    let url = create(
        client,
        name,
        &[
            (
                QueueAttributeName::VisibilityTimeout,
                visibility_timeout_secs.to_string(),
            ),
            (QueueAttributeName::RedrivePolicy, redrive.to_string()),
        ],
    )
    .await?;
    Ok((url, dlq_url))
}

async fn create(
    client: &Client,
    name: &str,
    attributes: &[(QueueAttributeName, String)],
) -> Result<String, SetupError> {
    let mut request = client.create_queue().queue_name(name);
    for (key, value) in attributes {
        request = request.attributes(key.clone(), value);
    }
    let out = request
        .send()
        .await
        .map_err(|e| SetupError::new("CreateQueue", e))?;
    out.queue_url
        .ok_or_else(|| SetupError::new("CreateQueue", UnexpectedResponse("no QueueUrl".into())))
}
