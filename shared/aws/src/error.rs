//! What every adapter shares about SDK failures: spotting the transient ones, and the error
//! of the set-up helpers (`create_table`, `create_queue_with_dlq`, ...).

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::SdkError;

/// The message for a port's `Unavailable` variant when the failure is worth retrying:
/// a timeout, a connection that failed, a garbled response, or a 5xx/429 status.
///
/// Every `aws-sdk-*` crate re-exports the same `aws_smithy_runtime_api` `SdkError` and
/// `HttpResponse`, so this one helper serves all four adapters. Typed throttling errors
/// (DynamoDB's `ThrottlingException`, SQS's `RequestThrottled`, ...) come back as 400s and are
/// matched by each adapter on its own typed variants.
pub(crate) fn transient<E>(err: &SdkError<E, HttpResponse>) -> Option<String>
where
    E: std::error::Error + Send + Sync + 'static,
{
    let retryable = match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(_) => err.raw_response().is_some_and(|raw| {
            let status = raw.status().as_u16();
            status >= 500 || status == 429
        }),
        _ => false,
    };
    retryable.then(|| chain(err))
}

/// The cause chain of an error on one line (`a: b: c`), for `Unavailable(String)` messages,
/// which is the only place the ports take an error as text.
pub(crate) fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut line = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        // Some layers repeat their source's message; say it once.
        if !line.ends_with(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
        source = cause.source();
    }
    line
}

/// A set-up helper failed; `step` says which call.
#[derive(Debug, thiserror::Error)]
#[error("AWS set-up failed at {step}")]
pub struct SetupError {
    pub step: &'static str,
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

impl SetupError {
    pub(crate) fn new(
        step: &'static str,
        source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self {
            step,
            source: source.into(),
        }
    }
}

/// A response that lacks what the API promises (a missing receipt handle, a key of the wrong
/// type, ...): a bug or a foreign resource, never worth retrying.
#[derive(Debug, thiserror::Error)]
#[error("unexpected response from AWS: {0}")]
pub struct UnexpectedResponse(pub String);

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn chain_joins_the_causes() {
        let err = Outer(std::io::Error::other("connection refused"));
        assert_eq!(chain(&err), "outer: connection refused");
    }
}
