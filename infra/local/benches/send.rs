//! Sending through the local host, in release mode: a campaign to 10,000 consenting
//! contacts, fanned out by the dispatcher and sent by the sender's worker pool over real HTTP
//! to the Twilio simulator, as `smscrm serve` runs them (embedded store, SQLite queues).
//! Reports the rate the simulator saw, its busiest one-second window, and duplicates.
//!
//! `cargo bench -p smscrm-local-host --bench send`
//! (options: BENCH_MESSAGES=10000 BENCH_RATE=100 BENCH_WORKERS=4)

mod common;

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use common::{Host, setting};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let total = setting("BENCH_MESSAGES", 10_000) as usize;
    let rate = setting("BENCH_RATE", 100);
    let workers = setting("BENCH_WORKERS", 4);
    let host = Host::start(twilio_sim::CallbackMode::None).await?;
    let (tenant, campaign) = host.campaign(total, rate).await?;
    host.run_sending(workers, None)?;
    let within =
        Duration::from_secs(60) + Duration::from_secs_f64(total as f64 / f64::from(rate) * 3.0);
    let wall = host.launch_and_wait(&tenant, &campaign, within).await?;
    report(&host.sim.accepted(), total, rate, workers, wall);
    Ok(())
}

fn report(
    accepted: &[twilio_sim::AcceptedMessage],
    total: usize,
    rate: u32,
    workers: u32,
    wall: f64,
) {
    let recipients: HashSet<&str> = accepted.iter().map(|m| m.to.as_str()).collect();
    let duplicates = accepted.len() - recipients.len();
    let mut times: Vec<i64> = accepted
        .iter()
        .map(|m| m.accepted_at.timestamp_millis())
        .collect();
    times.sort_unstable();
    let segments: u64 = accepted.iter().map(|m| u64::from(m.num_segments)).sum();
    let span_ms = times.last().zip(times.first()).map_or(0, |(l, f)| l - f);
    // Segments per second between the first and the last arrival: n - 1 intervals.
    let achieved = if span_ms > 0 {
        (segments.saturating_sub(1)) as f64 / (span_ms as f64 / 1000.0)
    } else {
        0.0
    };
    let busiest = busiest_second(accepted);
    let mut per_second: BTreeMap<i64, u64> = BTreeMap::new();
    for m in accepted {
        *per_second.entry(m.accepted_at.timestamp()).or_default() += u64::from(m.num_segments);
    }
    println!(
        "messages={total} rate={rate}/s workers={workers}: accepted {} ({} recipients, {duplicates} duplicates), {segments} segments",
        accepted.len(),
        recipients.len()
    );
    println!(
        "  achieved {achieved:.1} segments/s = {:.1}% of the configured rate, over {:.2} s of sending ({wall:.2} s from launch to completed)",
        achieved / f64::from(rate) * 100.0,
        span_ms as f64 / 1000.0
    );
    println!(
        "  busiest sliding one-second window: {busiest} segments (limit {rate}); busiest calendar second: {}",
        per_second.values().max().copied().unwrap_or(0)
    );
}

/// The most segments accepted in any window `[t, t + 1000 ms)`; such a window is busiest when
/// it starts at an arrival.
fn busiest_second(accepted: &[twilio_sim::AcceptedMessage]) -> u64 {
    let mut arrivals: Vec<(i64, u64)> = accepted
        .iter()
        .map(|m| (m.accepted_at.timestamp_millis(), u64::from(m.num_segments)))
        .collect();
    arrivals.sort_unstable();
    let (mut end, mut sum, mut best) = (0, 0, 0);
    for start in 0..arrivals.len() {
        while end < arrivals.len() && arrivals[end].0 < arrivals[start].0 + 1000 {
            sum += arrivals[end].1;
            end += 1;
        }
        best = best.max(sum);
        sum -= arrivals[start].1;
    }
    best
}
