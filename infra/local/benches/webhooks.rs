//! Twilio's webhooks through the local host, in release mode: after a campaign to 5,000
//! consenting contacts is sent (to the simulator, over real HTTP), every message gets its three
//! status callbacks (queued, sent, delivered, in that order per message) and then 1,000 of the
//! recipients text a reply, each signed as Twilio signs it and posted to the host's router over
//! real HTTP, `BENCH_CONCURRENCY` at a time. Reports throughput and latency, and checks the
//! campaign's counts came out exact.
//!
//! `cargo bench -p smscrm-local-host --bench webhooks`
//! (options: BENCH_MESSAGES=5000 BENCH_REPLIES=1000 BENCH_CONCURRENCY=16)

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{FROM, Host, setting};
use futures::StreamExt as _;
use smscrm_store::Dispatches;
use smscrm_twilio::signature;

/// One signed webhook request: the URL Twilio calls and its form.
struct Webhook {
    url: String,
    params: Vec<(String, String)>,
}

fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

/// The three status callbacks of one message, in the order they happen.
fn callbacks(account_sid: &str, message: &twilio_sim::AcceptedMessage) -> Vec<Webhook> {
    let url = message.status_callback.clone().unwrap_or_default();
    ["queued", "sent", "delivered"]
        .into_iter()
        .map(|status| Webhook {
            url: url.clone(),
            params: form(&[
                ("MessageSid", &message.sid),
                ("SmsSid", &message.sid),
                ("AccountSid", account_sid),
                ("From", FROM),
                ("To", &message.to),
                ("MessageStatus", status),
                ("SmsStatus", status),
                ("ApiVersion", "2010-04-01"),
                ("NumSegments", "1"),
            ]),
        })
        .collect()
}

fn reply(account_sid: &str, inbound_url: &str, person: &str, n: usize) -> Webhook {
    let sid = format!("SM{n:032x}");
    Webhook {
        url: inbound_url.to_owned(),
        params: form(&[
            ("MessageSid", &sid),
            ("SmsMessageSid", &sid),
            ("SmsSid", &sid),
            ("AccountSid", account_sid),
            ("From", person),
            ("To", FROM),
            ("Body", "What time do you open on Sunday?"),
            ("NumMedia", "0"),
            ("NumSegments", "1"),
            ("SmsStatus", "received"),
            ("ApiVersion", "2010-04-01"),
        ]),
    }
}

/// Posts each group's webhooks one after another, `concurrency` groups at a time; returns
/// every request's latency and the wall time.
async fn post_all(
    http: &reqwest::Client,
    auth_token: &str,
    groups: Vec<Vec<Webhook>>,
    concurrency: usize,
) -> anyhow::Result<(Vec<Duration>, Duration)> {
    let started = Instant::now();
    let results: Vec<anyhow::Result<Vec<Duration>>> = futures::stream::iter(groups)
        .map(|group| async move {
            let mut latencies = Vec::with_capacity(group.len());
            for webhook in group {
                let signed = signature::sign(auth_token, &webhook.url, &webhook.params);
                let sent = Instant::now();
                let response = http
                    .post(&webhook.url)
                    .header(signature::HEADER, signed)
                    .form(&webhook.params)
                    .send()
                    .await?;
                let status = response.status();
                response.bytes().await?;
                latencies.push(sent.elapsed());
                anyhow::ensure!(status.is_success(), "{} answered {status}", webhook.url);
            }
            Ok(latencies)
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let wall = started.elapsed();
    let mut latencies = Vec::new();
    for result in results {
        latencies.extend(result?);
    }
    latencies.sort_unstable();
    Ok((latencies, wall))
}

fn report(what: &str, latencies: &[Duration], wall: Duration) {
    let at = |q: f64| {
        let index = ((latencies.len() as f64 - 1.0) * q).round() as usize;
        latencies
            .get(index)
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    println!(
        "{what}: {} requests in {:.2} s = {:.0}/s; latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        latencies.len(),
        wall.as_secs_f64(),
        latencies.len() as f64 / wall.as_secs_f64(),
        at(0.5),
        at(0.99),
        at(1.0),
    );
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let total = setting("BENCH_MESSAGES", 5_000) as usize;
    let replies = setting("BENCH_REPLIES", 1_000) as usize;
    let concurrency = setting("BENCH_CONCURRENCY", 16) as usize;
    // The bench posts the callbacks itself, so it knows when each one goes.
    let host = Host::start(twilio_sim::CallbackMode::None).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let webhooks = smscrm_local_host::serve::webhooks(&host.ctx, host.secrets.clone(), &base);
    let blobs = Arc::new(smscrm_local::DirBlobs::new(host.dir.path().join("blobs")));
    let services = smscrm_local_host::serve::Services {
        secrets: host.secrets.clone(),
        mailer: Arc::new(smscrm_local::Outbox::new(host.dir.path().join("outbox"))),
        public_url: base.clone(),
    };
    let router =
        smscrm_local_host::serve::app(host.ctx.clone(), blobs, &host.queues, services, webhooks);
    tokio::spawn(async move { axum::serve(listener, router).await });

    let (tenant, campaign) = host.campaign(total, 5_000).await?;
    host.run_sending(8, Some(base.clone()))?;
    host.launch_and_wait(&tenant, &campaign, Duration::from_secs(600))
        .await?;
    let sent = host.sim.accepted();
    anyhow::ensure!(sent.len() == total, "{} of {total} sent", sent.len());

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let token = host.account.auth_token.clone();
    let groups = sent
        .iter()
        .map(|message| callbacks(&host.account.sid, message))
        .collect();
    let (latencies, wall) = post_all(&http, &token, groups, concurrency).await?;
    report("status callbacks", &latencies, wall);

    let inbound_url = smscrm_twilio::webhooks::inbound_url(&base, &tenant.id);
    let groups = sent
        .iter()
        .take(replies)
        .enumerate()
        .map(|(n, message)| vec![reply(&host.account.sid, &inbound_url, &message.to, n)])
        .collect();
    let (latencies, wall) = post_all(&http, &token, groups, concurrency).await?;
    report("incoming replies", &latencies, wall);

    let (_, counts) = Dispatches::new(host.table.clone())
        .counts(&tenant.id, &campaign.id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no fan-out"))?;
    let delivered = counts.delivery.get("delivered").copied().unwrap_or(0);
    println!(
        "counts: delivered {delivered} of {total}, replies {} of {}",
        counts.replies,
        replies.min(total)
    );
    anyhow::ensure!(delivered == total as u64, "delivered count is off");
    anyhow::ensure!(
        counts.replies == replies.min(total) as u64,
        "reply count is off"
    );
    Ok(())
}
