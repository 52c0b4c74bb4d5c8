//! Exponential backoff with full jitter, for the partial failures the SDK does not retry itself
//! (DynamoDB's UnprocessedKeys/UnprocessedItems, SQS's failed batch entries).

use std::time::Duration;

use rand::Rng as _;

/// How long a caller keeps retrying what DynamoDB left unprocessed or throttled, before it
/// gives up with `Unavailable`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryBudget {
    retries: u32,
    cap: Duration,
}

impl RetryBudget {
    /// Request paths (API functions time out after 10 s): 8 retries, pauses capped at 2 s,
    /// about 5 s at most.
    pub const REQUEST: Self = Self {
        retries: 8,
        cap: Duration::from_secs(2),
    };
    /// Bulk writers (the import worker), which write at the table's limit for minutes: 12
    /// retries, pauses capped at 8 s, up to 37 s (18 s expected), enough to ride out
    /// throttling while on-demand capacity grows.
    pub const BULK: Self = Self {
        retries: 12,
        cap: Duration::from_secs(8),
    };

    pub(crate) fn retries(self) -> u32 {
        self.retries
    }
}

const BASE: Duration = Duration::from_millis(25);

/// The pause before retry number `retry` (0-based): uniform in `0..=min(cap, BASE * 2^retry)`.
/// Full jitter spreads concurrent writers apart, which is the point when DynamoDB pushes back.
pub(crate) fn delay(retry: u32, cap: Duration) -> Duration {
    let ceiling = BASE.saturating_mul(1 << retry.min(16)).min(cap);
    // The thread-local RNG is not `Send`; it is used and dropped before any await.
    let millis = rand::rng().random_range(0..=ceiling.as_millis() as u64);
    Duration::from_millis(millis)
}

/// Pauses before retry number `retry` within `budget`.
pub(crate) async fn pause(retry: u32, budget: RetryBudget) {
    tokio::time::sleep(delay(retry, budget.cap)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delay_grows_and_is_capped() {
        for budget in [RetryBudget::REQUEST, RetryBudget::BULK] {
            for retry in 0..40 {
                let ceiling = BASE.saturating_mul(1 << retry.min(16)).min(budget.cap);
                assert!(delay(retry, budget.cap) <= ceiling);
            }
        }
    }

    #[test]
    fn a_request_gives_up_within_an_api_functions_timeout() {
        let worst = |budget: RetryBudget| -> Duration {
            (0..budget.retries)
                .map(|r| BASE.saturating_mul(1 << r.min(16)).min(budget.cap))
                .sum()
        };
        assert!(worst(RetryBudget::REQUEST) < Duration::from_secs(6));
        assert!(worst(RetryBudget::BULK) < Duration::from_secs(40));
    }
}
