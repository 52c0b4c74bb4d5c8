//! Per-sender throughput in segments per second, over a sliding window of one second.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
pub(crate) struct RateLimiter {
    limits: HashMap<String, u32>,
    /// Segments accepted per sender within the window, oldest first.
    recent: HashMap<String, VecDeque<(Instant, u32)>>,
}

impl RateLimiter {
    pub(crate) fn new(limits: HashMap<String, u32>) -> Self {
        let mut limiter = Self::default();
        for (sender, limit) in limits {
            limiter.set_limit(&sender, limit);
        }
        limiter
    }

    /// 0 removes the limit: there is no other way to lift one.
    pub(crate) fn set_limit(&mut self, sender: &str, segments_per_second: u32) {
        if segments_per_second == 0 {
            self.limits.remove(sender);
            self.recent.remove(sender);
        } else {
            self.limits.insert(sender.to_owned(), segments_per_second);
        }
    }

    /// Counts `segments` against the sender when they fit in its window. A message longer than
    /// the limit itself goes when the window is empty, or it could never go at all (Twilio
    /// queues it instead).
    pub(crate) fn try_take(&mut self, sender: &str, segments: u32, now: Instant) -> bool {
        let Some(&limit) = self.limits.get(sender) else {
            return true;
        };
        let recent = self.recent.entry(sender.to_owned()).or_default();
        while recent
            .front()
            .is_some_and(|&(at, _)| now.saturating_duration_since(at) >= WINDOW)
        {
            recent.pop_front();
        }
        let used: u64 = recent.iter().map(|&(_, n)| u64::from(n)).sum();
        if !recent.is_empty() && used + u64::from(segments) > u64::from(limit) {
            return false;
        }
        recent.push_back((now, segments));
        true
    }

    pub(crate) fn clear(&mut self) {
        self.recent.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_segments_in_a_sliding_second() {
        let mut limiter = RateLimiter::new(HashMap::from([("+1".to_owned(), 3)]));
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        assert!(limiter.try_take("+1", 2, at(0)));
        assert!(limiter.try_take("+1", 1, at(400)));
        assert!(!limiter.try_take("+1", 1, at(999)));
        assert!(
            limiter.try_take("+2", 100, at(999)),
            "other senders are free"
        );
        // The first two segments leave the window; the one from 400 ms is still in it.
        assert!(limiter.try_take("+1", 2, at(1000)));
        assert!(!limiter.try_take("+1", 1, at(1399)));
        assert!(limiter.try_take("+1", 1, at(1400)));
    }

    #[test]
    fn a_message_longer_than_the_limit_goes_alone() {
        let mut limiter = RateLimiter::new(HashMap::from([("+1".to_owned(), 1)]));
        let start = Instant::now();
        assert!(limiter.try_take("+1", 3, start));
        assert!(!limiter.try_take("+1", 1, start + Duration::from_millis(500)));
        limiter.set_limit("+1", 0);
        assert!(limiter.try_take("+1", 1, start + Duration::from_millis(500)));
    }
}
