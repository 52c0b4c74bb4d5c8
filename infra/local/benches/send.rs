//! Sending through the local host, in release mode: a campaign to 10,000 consenting
//! contacts, fanned out by the dispatcher and sent by the sender's worker pool over real HTTP
//! to the Twilio simulator, as `smscrm serve` runs them (embedded store, SQLite queues).
//! Reports the rate the simulator saw, its busiest one-second window, and duplicates.
//!
//! `cargo bench -p smscrm-local-host --bench send`
//! (options: BENCH_MESSAGES=10000 BENCH_RATE=100 BENCH_WORKERS=4)

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveTime, Utc};
use smscrm_domain::campaign::{Action, Audience, Campaign, CampaignDraft, SenderInput};
use smscrm_domain::contact::ConsentInput;
use smscrm_domain::ports::{Queue, Secrets, SystemClock, Table};
use smscrm_domain::quiet_hours::QuietHours;
use smscrm_domain::template::{Template, TemplateDraft};
use smscrm_domain::{ConsentStatus, ContactMerge, PhoneE164, Tenant};
use smscrm_http::AppContext;
use smscrm_local_host::serve::Queues;
use smscrm_store::{Campaigns, Tenants};

const FROM: &str = "+14155550100";

fn setting(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let total = setting("BENCH_MESSAGES", 10_000) as usize;
    let rate = setting("BENCH_RATE", 100);
    let workers = setting("BENCH_WORKERS", 4);
    let dir = tempfile::tempdir()?;
    let table: Arc<dyn Table> = Arc::new(smscrm_local::SqliteTable::open(
        &dir.path().join("store.db"),
    )?);
    let ctx = AppContext::new(table.clone(), Arc::new(SystemClock));
    let queue = |name: &str| -> anyhow::Result<Arc<dyn Queue>> {
        Ok(Arc::new(smscrm_local::SqliteQueue::open(
            &dir.path().join("queue.db"),
            name,
            smscrm_local::QueueConfig {
                visibility_timeout: Duration::from_secs(900),
                max_receives: 10,
                dead_letter: None,
            },
        )?))
    };
    let queues = Queues {
        import_jobs: queue("import-jobs")?,
        dispatch: queue("campaign-dispatch")?,
        sends: queue("sends")?,
    };
    let secrets: Arc<dyn Secrets> = Arc::new(smscrm_local::FileSecrets::new(
        dir.path().join("secrets.json"),
    ));
    let sim = twilio_sim::Simulator::new(twilio_sim::SimConfig::default());
    sim.add_account(smscrm_local_host::sending::simulator_account(secrets.as_ref()).await?);
    let (sim_url, _sim) = sim.start().await?;

    let now = Utc::now();
    let mut tenant = Tenant::new("Bench Bakery", "America/New_York", "US", now)?;
    // The bench runs at any hour: every hour is allowed.
    tenant.quiet_hours = QuietHours {
        opens: NaiveTime::MIN,
        closes: NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN),
    };
    tenant.sender_rates.insert(FROM.into(), rate);
    Tenants::new(table.clone()).create(&tenant).await?;
    let rows: Vec<ContactMerge> = (0..total).map(contact).collect();
    for chunk in rows.chunks(1000) {
        ctx.contacts
            .import_batch(&tenant.id, chunk, now, true)
            .await?;
    }
    let template = Template::new(
        TemplateDraft {
            name: "Bread".into(),
            body: "Hi {{first_name}}, fresh bread today!".into(),
        },
        &Default::default(),
        now,
    )?;
    ctx.templates.create(&tenant.id, &template).await?;
    let campaign = Campaign::new(
        CampaignDraft {
            name: "Bread".into(),
            template_id: template.id.to_string(),
            audience: Audience::default(),
            sender: SenderInput {
                from: Some(FROM.into()),
                messaging_service_sid: None,
            },
            link: None,
        },
        tenant.default_region,
        now,
    )?;
    let campaigns = Campaigns::new(table.clone());
    campaigns.create(&tenant.id, &campaign).await?;

    tokio::spawn(
        smscrm_local_host::serve::dispatcher(&ctx, &queues)
            .consume(Duration::from_secs(600), Duration::from_secs(1)),
    );
    let sender = smscrm_local_host::sending::sender(
        &ctx,
        secrets,
        &sim_url,
        smscrm_local_host::sending::TWILIO_TIMEOUT,
        sender::SenderConfig {
            workers,
            max_receives: 10,
            ..sender::SenderConfig::default()
        },
    )?;
    tokio::spawn(smscrm_local_host::sending::worker_pool(sender, queues.sends.clone()).run());

    let started = Instant::now();
    campaigns
        .act(
            &tenant.id,
            &campaign.id,
            Action::Launch { later: false },
            None,
            Utc::now(),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    campaign_dispatcher::enqueue(
        queues.dispatch.as_ref(),
        &campaign_dispatcher::DispatchJob {
            tenant_id: tenant.id.clone(),
            campaign_id: campaign.id.clone(),
        },
    )
    .await?;
    let deadline = started
        + Duration::from_secs(60)
        + Duration::from_secs_f64(total as f64 / f64::from(rate) * 3.0);
    loop {
        let current = campaigns
            .get(&tenant.id, &campaign.id)
            .await?
            .map(|c| c.status);
        if current == Some(smscrm_domain::campaign::CampaignStatus::Completed) {
            break;
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "the campaign did not complete in time"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let wall = started.elapsed().as_secs_f64();
    report(&sim.accepted(), total, rate, workers, wall);
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

fn contact(i: usize) -> ContactMerge {
    let exchange = 200 + (i / 10_000) % 700;
    let line = i % 10_000;
    ContactMerge {
        phone: PhoneE164::from_e164_unchecked(format!("+1212{exchange:03}{line:04}")),
        first_name: Some(format!("Person{i}")),
        last_name: None,
        email: None,
        tags: vec![],
        attributes: BTreeMap::new(),
        consent: Some(ConsentInput {
            status: ConsentStatus::Explicit,
            source: Some("bench".into()),
        }),
    }
}
