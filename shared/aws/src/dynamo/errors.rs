//! DynamoDB failures -> [`StoreError`], by the SDK's typed error variants.

use aws_sdk_dynamodb::Error as DynamoError;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata as _, SdkError};
use aws_sdk_dynamodb::types::CancellationReason;
use smscrm_domain::ports::table::StoreError;

use crate::error::{chain, transient};

/// Maps any DynamoDB operation's error. Each operation has its own error enum; they all convert
/// into the crate-level [`DynamoError`], so the typed matching lives in one place.
pub(crate) fn store_error<E>(err: SdkError<E, HttpResponse>) -> StoreError
where
    E: std::error::Error + Send + Sync + 'static,
    DynamoError: From<SdkError<E, HttpResponse>>,
{
    if let Some(message) = transient(&err) {
        return StoreError::Unavailable(message);
    }
    from_service(DynamoError::from(err))
}

fn from_service(err: DynamoError) -> StoreError {
    match err {
        DynamoError::ConditionalCheckFailedException(_) => StoreError::ConditionFailed,
        DynamoError::TransactionCanceledException(ref canceled) => {
            StoreError::TransactionCanceled {
                failed: failed_conditions(canceled.cancellation_reasons()),
            }
        }
        // The SDK already retried these with backoff; the caller may try again later.
        DynamoError::ProvisionedThroughputExceededException(_)
        | DynamoError::RequestLimitExceeded(_)
        | DynamoError::ThrottlingException(_)
        | DynamoError::InternalServerError(_)
        | DynamoError::TransactionConflictException(_)
        | DynamoError::ReplicatedWriteConflictException(_) => StoreError::Unavailable(chain(&err)),
        // ValidationException is not modelled as a variant; `code()` is the SDK's documented way
        // to recognise unmodelled errors. It is the caller's request that DynamoDB refused (an
        // item over 400 KB, ADD on a non-number, ...), which the embedded adapter reports as
        // `Invalid` too.
        other if other.code() == Some("ValidationException") => StoreError::Invalid(
            other
                .message()
                .unwrap_or("DynamoDB rejected the request")
                .to_owned(),
        ),
        other => StoreError::backend(other),
    }
}

/// Indexes of the operations whose condition failed. DynamoDB lists one reason per operation,
/// in request order, with code "None" for the ones that were fine.
pub(crate) fn failed_conditions(reasons: &[CancellationReason]) -> Vec<usize> {
    reasons
        .iter()
        .enumerate()
        .filter(|(_, reason)| reason.code() == Some("ConditionalCheckFailed"))
        .map(|(at, _)| at)
        .collect()
}

#[cfg(test)]
mod tests {
    use aws_sdk_dynamodb::error::ErrorMetadata;
    use aws_sdk_dynamodb::operation::put_item::PutItemError;
    use aws_sdk_dynamodb::types::error::{
        ConditionalCheckFailedException, ProvisionedThroughputExceededException,
        TransactionCanceledException,
    };

    use super::*;

    fn reason(code: &str) -> CancellationReason {
        CancellationReason::builder().code(code).build()
    }

    #[test]
    fn conditional_check_failed_is_condition_failed() {
        let err = DynamoError::ConditionalCheckFailedException(
            ConditionalCheckFailedException::builder().build(),
        );
        assert!(matches!(from_service(err), StoreError::ConditionFailed));
    }

    #[test]
    fn cancellation_names_the_failed_conditions() {
        let canceled = TransactionCanceledException::builder()
            .cancellation_reasons(reason("None"))
            .cancellation_reasons(reason("ConditionalCheckFailed"))
            .cancellation_reasons(reason("None"))
            .cancellation_reasons(reason("ConditionalCheckFailed"))
            .build();
        let err = DynamoError::TransactionCanceledException(canceled);
        match from_service(err) {
            StoreError::TransactionCanceled { failed } => assert_eq!(failed, vec![1, 3]),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn cancellation_by_a_conflict_names_nothing() {
        let canceled = TransactionCanceledException::builder()
            .cancellation_reasons(reason("TransactionConflict"))
            .cancellation_reasons(reason("None"))
            .build();
        let err = DynamoError::TransactionCanceledException(canceled);
        assert!(matches!(
            from_service(err),
            StoreError::TransactionCanceled { failed } if failed.is_empty()
        ));
    }

    #[test]
    fn throttling_is_unavailable() {
        let err = DynamoError::ProvisionedThroughputExceededException(
            ProvisionedThroughputExceededException::builder().build(),
        );
        assert!(from_service(err).is_retryable());
    }

    #[test]
    fn validation_is_invalid_and_unknown_is_backend() {
        let meta = |code: &str| ErrorMetadata::builder().code(code).message("nope").build();
        let generic = |code| DynamoError::from(PutItemError::generic(meta(code)));
        let validation = generic("ValidationException");
        assert!(matches!(from_service(validation), StoreError::Invalid(m) if m == "nope"));
        let unknown = generic("SomethingElse");
        assert!(matches!(from_service(unknown), StoreError::Backend(_)));
    }
}
