//! A fanned-out commit on the embedded store, as `smscrm serve`'s import worker runs it: the
//! plan (one read of the whole file), then each range's job in turn, timed one by one. On
//! AWS the ranges run at once on several workers; what this shows is each range's own cost,
//! which should not grow with where the range sits in the file.
//!
//! `scripts/bench-import-ranges` (options: ROWS=1000000 RANGE_ROWS=100000), or with a file:
//! `BENCH_FILE=contacts.csv cargo bench -p smscrm-local-host --bench import_ranges`

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use csv_import::{FanOut, ImportJob, ImportWorker, JobOutcome};
use smscrm_domain::ports::{Blobs, Table};
use smscrm_domain::{ImportId, Tenant};
use smscrm_store::{
    Contacts, ImportRecord, ImportSettings, ImportSource, ImportStatus, Imports, Tenants,
};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let file = std::env::var("BENCH_FILE")
        .map_err(|_| anyhow::anyhow!("BENCH_FILE: the CSV file to import"))?;
    let rows_per_range = u64::from(common::setting("RANGE_ROWS", 100_000));
    let dir = tempfile::tempdir()?;
    let table: Arc<dyn Table> = Arc::new(smscrm_local::SqliteTable::open(
        &dir.path().join("store.db"),
    )?);
    let blobs: Arc<dyn Blobs> = Arc::new(smscrm_local::DirBlobs::new(dir.path().join("blobs")));
    let queues = common::sqlite_queues(dir.path())?;
    let tenant = Tenant::new("Bench", "UTC", "US", Utc::now())?;
    Tenants::new(table.clone()).create(&tenant).await?;

    let id = ImportId::generate();
    let blob_key = format!("uploads/{}/{id}.csv", tenant.id);
    let upload = Box::pin(tokio::fs::File::open(&file).await?);
    let bytes = blobs.put_stream(&blob_key, upload, "text/csv").await?;
    let settings = ImportSettings {
        region: "US".parse()?,
        mapping: None,
        consent_source: None,
    };
    let mut record = ImportRecord::new(
        id.clone(),
        tenant.id.clone(),
        "contacts.csv".into(),
        ImportSource::Api,
        settings,
        blob_key,
        Utc::now(),
    );
    record.status = ImportStatus::Committing;
    record.bytes_total = Some(bytes);
    Imports::new(table.clone()).create(&record).await?;

    let worker = ImportWorker {
        contacts: Contacts::new(table.clone()),
        imports: Imports::new(table.clone()),
        blobs,
        queue: queues.import_jobs.clone(),
        fan_out: FanOut {
            above_bytes: 0,
            rows_per_range,
            ..FanOut::default()
        },
    };
    let started = Instant::now();
    let planned = worker
        .handle(&ImportJob::new(tenant.id.clone(), id), None)
        .await?;
    println!("file {file}: {bytes} bytes, ranges of {rows_per_range} rows");
    println!(
        "plan: {planned:?} in {:.2} s",
        started.elapsed().as_secs_f64()
    );

    let mut total = Duration::ZERO;
    loop {
        let got = queues
            .import_jobs
            .receive(1, Duration::from_secs(1))
            .await?;
        let Some(delivery) = got.into_iter().next() else {
            anyhow::bail!("the queue ran dry before the import completed");
        };
        let job: ImportJob = serde_json::from_str(&delivery.body)?;
        let started = Instant::now();
        let outcome = worker.handle(&job, None).await?;
        let took = started.elapsed();
        total += took;
        queues.import_jobs.ack(&delivery.receipt).await?;
        println!(
            "range {:>2}: {:.2} s ({outcome:?})",
            job.range.unwrap_or_default(),
            took.as_secs_f64()
        );
        if matches!(outcome, JobOutcome::Finished(_)) {
            break;
        }
    }
    println!("ranges in turn: {:.2} s", total.as_secs_f64());
    Ok(())
}
