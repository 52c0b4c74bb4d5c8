//! Exponential backoff with full jitter, for the partial failures the SDK does not retry itself
//! (DynamoDB's UnprocessedKeys/UnprocessedItems, SQS's failed batch entries).

use std::time::Duration;

use rand::Rng as _;

/// Attempts after the first call before giving up with `Unavailable`: with [`CAP`], up to 37 s
/// of pauses (18 s expected), enough to ride out throttling while on-demand capacity grows.
pub(crate) const MAX_RETRIES: u32 = 12;

const BASE: Duration = Duration::from_millis(25);
const CAP: Duration = Duration::from_secs(8);

/// The pause before retry number `retry` (0-based): uniform in `0..=min(CAP, BASE * 2^retry)`.
/// Full jitter spreads concurrent writers apart, which is the point when DynamoDB pushes back.
pub(crate) fn delay(retry: u32) -> Duration {
    let ceiling = BASE.saturating_mul(1 << retry.min(16)).min(CAP);
    // The thread-local RNG is not `Send`; it is used and dropped before any await.
    let millis = rand::rng().random_range(0..=ceiling.as_millis() as u64);
    Duration::from_millis(millis)
}

pub(crate) async fn pause(retry: u32) {
    tokio::time::sleep(delay(retry)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_grows_and_is_capped() {
        for retry in 0..40 {
            let ceiling = BASE.saturating_mul(1 << retry.min(16)).min(CAP);
            assert!(delay(retry) <= ceiling);
        }
        assert!(delay(30) <= CAP);
    }
}
