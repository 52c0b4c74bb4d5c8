//! Pacing inside one worker: a sender's configured rate (segments per second) is shared by
//! every worker that may run at once (the event source's maximum concurrency, or the local
//! pool's size), so each worker keeps to its share and together they never exceed the rate.
//!
//! Each worker spaces its sends evenly (no bursts): a message of `n` segments holds its
//! sender's next slot for `n` shares of a second. A little headroom keeps the total under the
//! rate in every one-second window even when requests arrive at Twilio with some jitter.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;

/// The fraction of its share a worker uses.
const HEADROOM: f64 = 0.98;

#[derive(Debug)]
pub struct Pacer {
    /// Workers sharing every sender's rate.
    workers: u32,
    next_slot: HashMap<String, Instant>,
}

impl Pacer {
    pub fn new(workers: u32) -> Self {
        Self {
            workers: workers.max(1),
            next_slot: HashMap::new(),
        }
    }

    /// Waits for `sender`'s next slot, then takes it for `segments`.
    pub async fn wait(&mut self, sender: &str, segments_per_second: u32, segments: u32) {
        let slot = self.take(sender, segments_per_second, segments);
        tokio::time::sleep_until(slot).await;
    }

    /// Takes `sender`'s next slot for `segments` and says when it is: the caller sends then.
    pub fn take(&mut self, sender: &str, segments_per_second: u32, segments: u32) -> Instant {
        let now = Instant::now();
        let slot = self
            .next_slot
            .get(sender)
            .copied()
            .filter(|at| *at > now)
            .unwrap_or(now);
        self.next_slot.insert(
            sender.to_owned(),
            slot + self.spacing(segments_per_second, segments),
        );
        slot
    }

    /// Records a call made at `at` (at or after its slot): the next slot is at least the
    /// spacing after it.
    pub fn called(&mut self, sender: &str, segments_per_second: u32, segments: u32, at: Instant) {
        let earliest = at + self.spacing(segments_per_second, segments);
        let next = self.next_slot.entry(sender.to_owned()).or_insert(earliest);
        if *next < earliest {
            *next = earliest;
        }
    }

    /// How long `segments` hold one worker's share of the sender.
    pub fn spacing(&self, segments_per_second: u32, segments: u32) -> Duration {
        let per_worker = f64::from(segments_per_second.max(1)) / f64::from(self.workers) * HEADROOM;
        Duration::from_secs_f64(f64::from(segments.max(1)) / per_worker)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_worker_takes_its_share_of_the_rate() {
        let pacer = Pacer::new(4);
        // 100 segments a second over 4 workers: one segment every 40 ms, a little more.
        let one = pacer.spacing(100, 1);
        assert!(
            one > Duration::from_millis(40) && one < Duration::from_millis(41),
            "{one:?}"
        );
        // A three-segment message holds three slots (to the microsecond: float rounding).
        let three = pacer
            .spacing(100, 3)
            .as_micros()
            .abs_diff((one * 3).as_micros());
        assert!(three <= 1, "{three}");
    }

    #[tokio::test(start_paused = true)]
    async fn sends_are_spaced_and_senders_are_independent() {
        let mut pacer = Pacer::new(1);
        let start = Instant::now();
        for _ in 0..5 {
            pacer.wait("+15005550006", 10, 1).await;
        }
        // Four gaps of just over 100 ms.
        let elapsed = start.elapsed();
        assert!(elapsed >= Duration::from_millis(400) && elapsed < Duration::from_millis(420));
        // A call late for its slot pushes the next one back.
        let late = pacer.take("+15005550008", 10, 1);
        tokio::time::sleep(Duration::from_millis(50)).await;
        pacer.called("+15005550008", 10, 1, Instant::now());
        let next = pacer.take("+15005550008", 10, 1);
        assert!(
            next - late >= Duration::from_millis(150),
            "{:?}",
            next - late
        );
        let other = Instant::now();
        pacer.wait("+15005550007", 10, 1).await;
        assert_eq!(other.elapsed(), Duration::ZERO);
    }
}
