//! Import jobs on both backends: a commit that pauses at its deadline resumes from its
//! checkpoint and ends exactly as an uninterrupted one; a worker holding the lease keeps
//! others out until the lease expires, then the import is taken over.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use chrono::Utc;
use csv_import::{ImportJob, ImportWorker, JobOutcome};
use smscrm_domain::import_report::ImportReport;
use smscrm_domain::ports::{Blobs, Queue, Table};
use smscrm_domain::{ImportId, Region, Tenant, TenantId};
use smscrm_store::{
    Contacts, ImportRecord, ImportSettings, ImportSource, ImportStatus, Imports, Tenants,
};
use smscrm_tests::backends::Backend;

macro_rules! worker_scenarios {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(&smscrm_tests::backends::embedded().await).await;
                }
            )*
        }
        mod aws {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(&smscrm_tests::backends::aws().await).await;
                }
            )*
        }
    };
}

worker_scenarios!(
    a_paused_commit_resumes_from_its_checkpoint_and_ends_as_one_run,
    a_leased_import_waits_for_its_worker_then_is_taken_over,
);

/// 2,500 data rows (the pipeline writes 1,000 per batch): every 100th row has no valid phone,
/// and row 1,802 repeats row 2's number, so the in-file duplicate check spans batches.
fn file() -> String {
    let mut csv = String::from("first name,phone\n");
    for n in 0..2500u32 {
        let row = n + 2;
        if n == 1800 {
            csv.push_str("Again,+1 415 555 0000\n");
        } else if n % 100 == 99 {
            csv.push_str(&format!("Broken {row},12\n"));
        } else {
            csv.push_str(&format!("Person {row},+1 415 555 {n:04}\n"));
        }
    }
    csv
}

struct Setup {
    table: Arc<dyn Table>,
    blobs: Arc<dyn Blobs>,
    jobs: Arc<dyn Queue>,
    worker: ImportWorker,
}

async fn setup(backend: &dyn Backend) -> Setup {
    let (table, blobs) = (backend.table(), backend.blobs());
    let jobs = backend.queue(Default::default()).await.queue;
    let worker = ImportWorker {
        contacts: Contacts::new(table.clone()),
        imports: Imports::new(table.clone()),
        blobs: blobs.clone(),
        queue: jobs.clone(),
    };
    Setup {
        table,
        blobs,
        jobs,
        worker,
    }
}

/// A tenant with the file uploaded and its import moved to `committing`, as the API does.
async fn committing_import(s: &Setup) -> ImportJob {
    let tenant = Tenant::new("Importer", "UTC", "US", Utc::now()).expect("tenant");
    Tenants::new(s.table.clone())
        .create(&tenant)
        .await
        .expect("tenant");
    let id = ImportId::generate();
    let blob_key = format!("uploads/{}/{id}.csv", tenant.id);
    s.blobs
        .put(&blob_key, Bytes::from(file()), "text/csv")
        .await
        .expect("upload");
    let now = Utc::now();
    let record = ImportRecord {
        id: id.clone(),
        tenant_id: tenant.id.clone(),
        filename: "big.csv".into(),
        source: ImportSource::Api,
        status: ImportStatus::Committing,
        settings: ImportSettings {
            region: "US".parse::<Region>().expect("region"),
            mapping: None,
            consent_source: None,
        },
        blob_key,
        bytes_total: None,
        bytes_done: 0,
        rows_done: 0,
        report: None,
        failure: None,
        created_at: now,
        updated_at: now,
        checkpoint: None,
        lease_owner: None,
        lease_until: None,
    };
    Imports::new(s.table.clone())
        .create(&record)
        .await
        .expect("create");
    ImportJob {
        tenant_id: tenant.id,
        import_id: id,
    }
}

async fn record(s: &Setup, job: &ImportJob) -> ImportRecord {
    Imports::new(s.table.clone())
        .get(&job.tenant_id, &job.import_id)
        .await
        .expect("get")
        .expect("record")
}

async fn contact_count(s: &Setup, tenant: &TenantId) -> usize {
    let contacts = Contacts::new(s.table.clone());
    let (mut count, mut cursor) = (0, None);
    loop {
        let page = contacts
            .list(tenant, cursor, 100)
            .await
            .expect("list contacts");
        count += page.items.len();
        cursor = page.next_cursor;
        if cursor.is_none() {
            return count;
        }
    }
}

/// The report without what differs between two runs of the same file.
fn comparable(mut report: ImportReport) -> ImportReport {
    report.errors.sort_by_key(|e| e.row);
    report
}

async fn a_paused_commit_resumes_from_its_checkpoint_and_ends_as_one_run(backend: &dyn Backend) {
    let s = setup(backend).await;

    // Uninterrupted, for reference.
    let straight = committing_import(&s).await;
    assert_eq!(
        s.worker.handle(&straight, None).await.expect("run"),
        JobOutcome::Finished(ImportStatus::Completed)
    );
    let expected = record(&s, &straight).await.report.expect("report");
    assert_eq!(
        (
            expected.rows,
            expected.valid,
            expected.invalid,
            expected.duplicates
        ),
        (2500, 2474, 25, 1)
    );
    assert_eq!(expected.created, 2474);

    // A deadline already passed: every run writes one batch, then pauses.
    let job = committing_import(&s).await;
    let mut runs = 0;
    loop {
        runs += 1;
        let outcome = s
            .worker
            .handle(&job, Some(tokio::time::Instant::now()))
            .await
            .expect("run");
        match outcome {
            JobOutcome::Paused { rows_written } => {
                assert_eq!(rows_written, 1000 * runs);
                let paused = record(&s, &job).await;
                assert_eq!(paused.status, ImportStatus::Committing);
                assert_eq!(paused.checkpoint.map(|c| c.rows), Some(rows_written));
                assert_eq!(
                    paused.lease_owner, None,
                    "a paused run gives its lease back"
                );
                assert_eq!(
                    contact_count(&s, &job.tenant_id).await as u64,
                    paused.checkpoint.expect("checkpoint").counts.created
                );
                // The continuation is on the queue, as the next worker would receive it.
                let next = s
                    .jobs
                    .receive(1, Duration::from_secs(1))
                    .await
                    .expect("receive");
                assert_eq!(next.len(), 1, "a paused run queues its continuation");
                let queued: ImportJob = serde_json::from_str(&next[0].body).expect("job");
                assert_eq!(queued, job);
                s.jobs.ack(&next[0].receipt).await.expect("ack");
            }
            JobOutcome::Finished(status) => {
                assert_eq!(status, ImportStatus::Completed);
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(runs, 3, "2,500 rows in batches of 1,000");
    let done = record(&s, &job).await;
    assert_eq!(
        done.checkpoint, None,
        "a finished import keeps no checkpoint"
    );
    assert_eq!(
        comparable(done.report.expect("report")),
        comparable(expected),
        "resuming changes nothing in the outcome"
    );
    assert_eq!(contact_count(&s, &job.tenant_id).await, 2474);
    let errors = s
        .blobs
        .get(&csv_import::errors_key(&record(&s, &job).await))
        .await
        .expect("errors.csv")
        .expect("written");
    let errors = String::from_utf8(errors.to_vec()).expect("utf-8");
    assert_eq!(
        errors.lines().count(),
        1 + 26,
        "header + every rejected row"
    );
    assert!(errors.contains("1802,duplicate of row 2"), "{errors}");
}

async fn a_leased_import_waits_for_its_worker_then_is_taken_over(backend: &dyn Backend) {
    let s = setup(backend).await;
    let job = committing_import(&s).await;
    let imports = Imports::new(s.table.clone());
    let lease = chrono::Duration::minutes(5);

    // Another worker runs it: a redelivered message must not run it beside that worker.
    imports
        .acquire_lease(&job.tenant_id, &job.import_id, "other", Utc::now(), lease)
        .await
        .expect("lease");
    assert_eq!(
        s.worker.handle(&job, None).await.expect("handle"),
        JobOutcome::Skipped("another worker runs the import")
    );
    assert_eq!(contact_count(&s, &job.tenant_id).await, 0);

    // That worker died ten minutes ago: its lease has expired and the import is taken over.
    let long_ago = Utc::now() - chrono::Duration::minutes(10);
    imports
        .acquire_lease(&job.tenant_id, &job.import_id, "other", long_ago, lease)
        .await
        .expect("same owner renews");
    assert_eq!(
        s.worker.handle(&job, None).await.expect("handle"),
        JobOutcome::Finished(ImportStatus::Completed)
    );
    assert_eq!(contact_count(&s, &job.tenant_id).await, 2474);
}
