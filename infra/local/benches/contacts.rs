//! Contact create + get throughput on the embedded store, through the real HTTP API.
//!
//! `cargo bench -p smscrm-local-host --bench contacts` (release profile). Options come from
//! the environment: BENCH_CONTACTS (default 20000) and BENCH_CONCURRENCY (default 16).
//! It prints one line per phase with operations per second and latency percentiles.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use smscrm_domain::ports::SystemClock;
use smscrm_http::AppContext;
use tokio::sync::Semaphore;

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let total = env_or("BENCH_CONTACTS", 20_000);
    let concurrency = env_or("BENCH_CONCURRENCY", 16);
    let dir = tempfile::tempdir()?;
    let table = smscrm_local::SqliteTable::open(&dir.path().join("store.db"))?;
    let ctx = AppContext::new(Arc::new(table), Arc::new(SystemClock));
    let (_, key) =
        smscrm_local_host::commands::create_tenant(&ctx, "Bench", "America/New_York", "US").await?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let blobs = Arc::new(smscrm_local::DirBlobs::new(dir.path().join("blobs")));
    let queue = |name: &str| -> anyhow::Result<Arc<dyn smscrm_domain::ports::Queue>> {
        Ok(Arc::new(smscrm_local::SqliteQueue::open(
            &dir.path().join("queue.db"),
            name,
            smscrm_local::QueueConfig {
                visibility_timeout: std::time::Duration::from_secs(60),
                max_receives: 5,
                dead_letter: None,
            },
        )?))
    };
    let queues = smscrm_local_host::serve::Queues {
        import_jobs: queue("import-jobs")?,
        dispatch: queue("campaign-dispatch")?,
        sends: queue("sends")?,
    };
    let secrets = Arc::new(smscrm_local::FileSecrets::new(
        dir.path().join("secrets.json"),
    ));
    let webhooks = smscrm_local_host::serve::webhooks(&ctx, secrets.clone(), &base);
    let services = smscrm_local_host::serve::Services {
        secrets,
        mailer: Arc::new(smscrm_local::Outbox::new(dir.path().join("outbox"))),
        public_url: base.clone(),
    };
    let app = smscrm_local_host::serve::app(ctx, blobs, &queues, services, webhooks);
    tokio::spawn(async move { axum::serve(listener, app).await });
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;

    println!(
        "contacts={total} concurrency={concurrency} (HTTP on 127.0.0.1, embedded SQLite store)"
    );
    let create = {
        let (http, base, key) = (http.clone(), base.clone(), key.clone());
        run("create (POST /v1/contacts)", total, concurrency, move |i| {
            let request = http
                .post(format!("{base}/v1/contacts"))
                .bearer_auth(&key)
                .json(&json!({
                    "phone": format!("+1212{:07}", 2_000_000 + i),
                    "first_name": format!("Person{i}"),
                    "last_name": "Bench",
                    "tags": ["bench"],
                    "consent": {"status": "explicit", "source": "bench"}
                }));
            async move {
                let response = request.send().await?;
                anyhow::ensure!(response.status() == 201, "create: {}", response.status());
                let body: Value = response.json().await?;
                Ok(body["id"].as_str().unwrap_or_default().to_owned())
            }
        })
        .await?
    };
    let ids = Arc::new(create);
    let (http2, base2, key2, ids2) = (http.clone(), base.clone(), key.clone(), ids.clone());
    run(
        "get (GET /v1/contacts/{id})",
        total,
        concurrency,
        move |i| {
            let request = http2
                .get(format!("{base2}/v1/contacts/{}", ids2[i]))
                .bearer_auth(&key2);
            async move {
                let response = request.send().await?;
                anyhow::ensure!(response.status() == 200, "get: {}", response.status());
                let _: Value = response.json().await?;
                Ok(String::new())
            }
        },
    )
    .await?;
    Ok(())
}

/// Runs `op(0..total)` with at most `concurrency` in flight; prints throughput and latencies.
async fn run<F, Fut>(
    label: &str,
    total: usize,
    concurrency: usize,
    op: F,
) -> anyhow::Result<Vec<String>>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<String>> + Send + 'static,
{
    let permits = Arc::new(Semaphore::new(concurrency));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        let permit = permits.clone().acquire_owned().await?;
        let fut = op(i);
        tasks.push(tokio::spawn(async move {
            let t0 = Instant::now();
            let out = fut.await;
            drop(permit);
            out.map(|v| (v, t0.elapsed()))
        }));
    }
    let mut outputs = Vec::with_capacity(total);
    let mut latencies: Vec<Duration> = Vec::with_capacity(total);
    for task in tasks {
        let (value, latency) = task.await??;
        outputs.push(value);
        latencies.push(latency);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "{label}: {total} in {:.2}s = {:.0}/s; latency p50 {:.2}ms p99 {:.2}ms",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
    );
    Ok(outputs)
}
