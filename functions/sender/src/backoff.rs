//! Exponential backoff with full jitter for send work that failed in a retryable way, so a
//! Twilio outage is not met by every worker retrying in step.

use std::time::Duration;

use rand::Rng as _;

/// The first retry waits up to this long.
const BASE: Duration = Duration::from_secs(2);
/// No retry waits longer (SQS allows 12 hours; Twilio outages are minutes).
const CAP: Duration = Duration::from_secs(300);

/// The delay before attempt `receive_count + 1`, at least `floor` (Twilio's `Retry-After`).
pub fn delay(receive_count: u32, floor: Option<Duration>) -> Duration {
    let exponent = receive_count.saturating_sub(1).min(16);
    let ceiling = BASE.saturating_mul(1 << exponent).min(CAP);
    let jittered = rand::rng().random_range(ceiling / 2..=ceiling);
    jittered.max(floor.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_then_stays_under_the_cap() {
        for _ in 0..100 {
            assert!((Duration::from_secs(1)..=Duration::from_secs(2)).contains(&delay(1, None)));
            assert!((Duration::from_secs(8)..=Duration::from_secs(16)).contains(&delay(4, None)));
            assert!(delay(40, None) <= CAP);
        }
        assert!(delay(1, Some(Duration::from_secs(30))) >= Duration::from_secs(30));
    }
}
