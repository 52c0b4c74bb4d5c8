//! SQS failures -> [`QueueError`], by the SDK's typed error variants.

use aws_sdk_sqs::Error as SqsError;
use aws_sdk_sqs::config::http::HttpResponse;
use aws_sdk_sqs::error::SdkError;
use smscrm_domain::ports::queue::QueueError;

use crate::error::{chain, transient};

/// Maps any SQS operation's error through the crate-level [`SqsError`], which every
/// operation's error converts into.
pub(crate) fn queue_error<E>(err: SdkError<E, HttpResponse>) -> QueueError
where
    E: std::error::Error + Send + Sync + 'static,
    SqsError: From<SdkError<E, HttpResponse>>,
{
    if let Some(message) = transient(&err) {
        return QueueError::Unavailable(message);
    }
    from_service(SqsError::from(err))
}

fn from_service(err: SqsError) -> QueueError {
    match err {
        // The handle was never valid, or its receive is over (deleted, or visible again).
        // (The SDK folds the older InvalidIdFormat into ReceiptHandleIsInvalid.)
        SqsError::ReceiptHandleIsInvalid(_) | SqsError::MessageNotInflight(_) => {
            QueueError::StaleReceipt
        }
        SqsError::RequestThrottled(_) | SqsError::KmsThrottled(_) | SqsError::OverLimit(_) => {
            QueueError::Unavailable(chain(&err))
        }
        other => QueueError::backend(other),
    }
}

#[cfg(test)]
mod tests {
    use aws_sdk_sqs::types::error::{MessageNotInflight, ReceiptHandleIsInvalid, RequestThrottled};

    use super::*;

    #[test]
    fn stale_receipts() {
        let invalid = SqsError::ReceiptHandleIsInvalid(ReceiptHandleIsInvalid::builder().build());
        assert!(matches!(from_service(invalid), QueueError::StaleReceipt));
        let not_inflight = SqsError::MessageNotInflight(MessageNotInflight::builder().build());
        assert!(matches!(
            from_service(not_inflight),
            QueueError::StaleReceipt
        ));
    }

    #[test]
    fn throttling_is_unavailable() {
        let throttled = SqsError::RequestThrottled(RequestThrottled::builder().build());
        assert!(matches!(
            from_service(throttled),
            QueueError::Unavailable(_)
        ));
    }
}
