//! Import jobs on both backends: a commit that pauses at its deadline resumes from its
//! checkpoint and ends exactly as an uninterrupted one; a worker holding the lease keeps
//! others out until the lease expires, then the import is taken over.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use chrono::Utc;
use csv_import::{ImportJob, ImportWorker, JobOutcome, RowError};
use smscrm_domain::import_report::ImportReport;
use smscrm_domain::ports::blobs::{BlobError, BlobReader, BlobStat, PresignedUpload};
use smscrm_domain::ports::{Blobs, Queue, Table};
use smscrm_domain::{ImportId, Region, Tenant, TenantId};
use smscrm_store::{
    Contacts, ImportRecord, ImportSettings, ImportSource, ImportStatus, Imports, Lease, Part,
    Tenants,
};
use smscrm_tests::backends::Backend;

smscrm_tests::backend_scenarios!(
    a_paused_commit_resumes_from_its_checkpoint_and_ends_as_one_run,
    a_leased_import_waits_for_its_worker_then_is_taken_over,
    a_large_file_fans_out_in_ranges_and_ends_as_one_run,
    a_queued_dry_run_pauses_and_resumes_without_writing,
    a_commit_never_resumes_from_a_dry_runs_checkpoint,
    a_file_replaced_during_a_commit_fails_the_import,
    a_run_reads_only_the_version_its_import_pinned,
    a_run_stopped_between_a_write_and_its_checkpoint_counts_that_batch_once,
    a_run_stopped_after_writing_batches_at_once_counts_them_once,
    two_imports_of_one_file_at_once_make_one_contact_per_phone,
    committing_a_fanned_out_import_again_queues_only_the_ranges_nobody_runs,
    a_file_too_large_for_the_workers_disk_is_refused_before_any_range_runs,
    each_range_reads_only_its_own_part_of_a_utf8_file,
    files_in_a_code_page_fan_out_by_bytes_and_end_as_one_run,
    files_decided_past_their_start_fan_out_by_bytes_too,
    a_fanned_out_import_that_fails_leaves_no_notes_behind,
    a_planning_job_delivered_twice_keeps_one_plan_and_no_stray_notes,
    a_plan_recorded_though_its_transaction_reported_failure_keeps_its_notes,
    a_plan_cancelled_with_no_condition_failed_is_retried,
    a_planning_attempt_that_failed_part_way_leaves_no_notes_once_the_import_ends,
    a_later_rows_opt_out_reaches_the_first_row_in_another_range,
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

/// [`file`]'s rows in a quarter of its length, for the fan-out tests that import a file
/// several times (each row is a few moto round trips): 600 rows with a `note` column, an invalid
/// phone every 100th, row 452 repeating the first row's phone.
fn short_file(note: &str) -> String {
    let mut csv = String::from("first name,phone,note\n");
    for n in 0..600u32 {
        let row = n + 2;
        if n == 450 {
            csv.push_str(&format!("Again,+1 415 555 0000,{note}\n"));
        } else if n % 100 == 99 {
            csv.push_str(&format!("Broken {row},12,{note}\n"));
        } else {
            csv.push_str(&format!("Person {row},+1 415 555 {n:04},{note}\n"));
        }
    }
    csv
}

impl Setup {
    async fn done_ranges(&self, job: &ImportJob) -> Vec<u32> {
        Imports::new(self.table.clone())
            .ranges(&job.tenant_id, &job.import_id)
            .await
            .expect("ranges")
            .iter()
            .filter(|r| r.done)
            .map(|r| r.index)
            .collect()
    }
}

struct Setup {
    table: Arc<dyn Table>,
    blobs: Arc<dyn Blobs>,
    jobs: Arc<dyn Queue>,
    worker: ImportWorker,
}

async fn setup(backend: &dyn Backend) -> Setup {
    let (table, blobs) = (backend.table(), backend.blobs());
    // Tests put messages back freely: no dead-lettering in the way.
    let spec = smscrm_tests::backends::QueueSpec::default().max_receives(1000);
    let jobs = backend.queue(spec).await.queue;
    let worker = ImportWorker {
        contacts: Contacts::new(table.clone()),
        imports: Imports::new(table.clone()),
        blobs: blobs.clone(),
        queue: jobs.clone(),
        fan_out: Default::default(),
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
    committing_import_for(s, tenant.id).await
}

/// The file uploaded to a new import of `tenant`, moved to `committing`.
async fn committing_import_for(s: &Setup, tenant: TenantId) -> ImportJob {
    committing_import_of(s, tenant, file().into_bytes()).await
}

/// `bytes` uploaded to a new import of `tenant`, moved to `committing`.
async fn committing_import_of(s: &Setup, tenant: TenantId, bytes: Vec<u8>) -> ImportJob {
    let id = ImportId::generate();
    let blob_key = format!("uploads/{tenant}/{id}.csv");
    s.blobs
        .put(&blob_key, Bytes::from(bytes), "text/csv")
        .await
        .expect("upload");
    let settings = ImportSettings {
        region: "US".parse::<Region>().expect("region"),
        mapping: None,
        consent_source: None,
    };
    let mut record = ImportRecord::new(
        id.clone(),
        tenant.clone(),
        "big.csv".into(),
        ImportSource::Api,
        settings,
        blob_key,
        Utc::now(),
    );
    record.status = ImportStatus::Committing;
    Imports::new(s.table.clone())
        .create(&record)
        .await
        .expect("create");
    ImportJob::new(tenant, id)
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

async fn errors_csv(s: &Setup, job: &ImportJob) -> String {
    let key = csv_import::errors_key(&record(s, job).await);
    let bytes = s.blobs.get(&key).await.expect("get").expect("errors.csv");
    String::from_utf8(bytes.to_vec()).expect("utf-8")
}

/// The report as two runs of the same file must agree on it (errors in file order).
fn comparable(report: ImportReport) -> ImportReport {
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
    let lease = Lease {
        part: Part::Whole,
        owner: "other".into(),
        duration: chrono::Duration::minutes(5),
    };

    // Another worker runs it: a redelivered message must not run it beside that worker.
    imports
        .acquire_lease(&job.tenant_id, &job.import_id, &lease, Utc::now())
        .await
        .expect("lease");
    assert_eq!(
        s.worker.handle(&job, None).await.expect("handle"),
        JobOutcome::Busy {
            retry_in: csv_import::LEASE_RETRY
        },
        "a second delivery comes back later rather than being dropped"
    );
    assert_eq!(contact_count(&s, &job.tenant_id).await, 0);

    // That worker died ten minutes ago: its lease has expired and the import is taken over.
    let long_ago = Utc::now() - chrono::Duration::minutes(10);
    imports
        .acquire_lease(&job.tenant_id, &job.import_id, &lease, long_ago)
        .await
        .expect("same owner renews");
    assert_eq!(
        s.worker.handle(&job, None).await.expect("handle"),
        JobOutcome::Finished(ImportStatus::Completed)
    );
    assert_eq!(contact_count(&s, &job.tenant_id).await, 2474);
}

async fn a_large_file_fans_out_in_ranges_and_ends_as_one_run(backend: &dyn Backend) {
    let mut s = setup(backend).await;
    let straight = committing_import(&s).await;
    s.worker.handle(&straight, None).await.expect("run");
    let expected = record(&s, &straight).await.report.expect("report");

    let job = planned_in_four_ranges(&mut s).await;
    let planned = record(&s, &job).await;
    assert_eq!((planned.ranges, planned.rows_total), (Some(4), Some(2500)));

    // Run whatever is queued, newest first, each run with its deadline already passed (so
    // ranges pause after a batch and continue), until the import ends. While the last range
    // runs, another range's error file is hidden: the merge fails, the import waits, and the
    // same job, delivered again, completes it.
    let mut hidden: Option<(String, bytes::Bytes)> = None;
    let mut merge_failed = false;
    let mut runs = 0;
    loop {
        let mut got = s
            .jobs
            .receive(10, Duration::from_secs(1))
            .await
            .expect("receive");
        assert!(!got.is_empty(), "the import ended without completing");
        got.reverse();
        let delivery = got.remove(0);
        for other in got {
            s.jobs
                .retry_after(&other.receipt, Duration::ZERO)
                .await
                .expect("put back");
        }
        let range_job: ImportJob = serde_json::from_str(&delivery.body).expect("job");
        let done_ranges = s.done_ranges(&job).await;
        if done_ranges.len() == 3 && hidden.is_none() && !merge_failed {
            let key = csv_import::range_errors_key(&record(&s, &job).await, done_ranges[0]);
            let bytes = s.blobs.get(&key).await.expect("get").expect("range errors");
            s.blobs.delete(&key).await.expect("hide");
            hidden = Some((key, bytes));
        }
        runs += 1;
        let now = tokio::time::Instant::now();
        let handled = s.worker.handle(&range_job, Some(now)).await;
        match handled {
            Ok(JobOutcome::Finished(status)) => {
                assert_eq!(status, ImportStatus::Completed);
                s.jobs.ack(&delivery.receipt).await.expect("ack");
                break;
            }
            Ok(outcome) => {
                assert!(
                    matches!(
                        outcome,
                        JobOutcome::Paused { .. } | JobOutcome::RangeDone { .. }
                    ),
                    "{outcome:?}"
                );
                s.jobs.ack(&delivery.receipt).await.expect("ack");
            }
            Err(e) => {
                // The merge could not read a range's errors: the import waits, the job
                // comes back.
                assert!(e.to_string().contains("missing"), "{e}");
                assert_eq!(record(&s, &job).await.status, ImportStatus::Committing);
                merge_failed = true;
                let (key, bytes) = hidden.take().expect("hidden file");
                s.blobs.put(&key, bytes, "text/csv").await.expect("restore");
                s.jobs
                    .retry_after(&delivery.receipt, Duration::ZERO)
                    .await
                    .expect("redeliver");
            }
        }
        assert!(runs < 50, "runaway");
    }
    assert!(merge_failed, "the failed merge was exercised");
    let done = record(&s, &job).await;
    assert_eq!((done.ranges_done, done.rows_done), (4, 2500));
    assert_eq!(
        comparable(done.report.expect("report")),
        comparable(expected),
        "ranges add up to one run's report"
    );
    assert_eq!(errors_csv(&s, &job).await, errors_csv(&s, &straight).await);
    assert_eq!(contact_count(&s, &job.tenant_id).await, 2474);
    // Row 1,802 (third range) repeats row 2 (first range): the first row's contact stands.
    let phone = smscrm_domain::PhoneE164::from_e164("+14155550000").expect("e164");
    let first = Contacts::new(s.table.clone())
        .find_by_phone(&job.tenant_id, &phone)
        .await
        .expect("find")
        .expect("contact");
    assert_eq!(first.first_name.as_deref(), Some("Person 2"));
}

async fn a_queued_dry_run_pauses_and_resumes_without_writing(backend: &dyn Backend) {
    let s = setup(backend).await;
    let mut job = committing_import(&s).await;
    let imports = Imports::new(s.table.clone());
    let (tenant, id) = (&job.tenant_id, &job.import_id);
    let now = Utc::now();
    let committing = [ImportStatus::Committing];
    imports
        .transition(tenant, id, &committing, ImportStatus::Checking, now)
        .await
        .expect("checking");
    job.dry_run = true;
    let mut runs = 0;
    let outcome = loop {
        runs += 1;
        let outcome = s
            .worker
            .handle(&job, Some(tokio::time::Instant::now()))
            .await
            .expect("run");
        let JobOutcome::Paused { .. } = outcome else {
            break outcome;
        };
        let next = s
            .jobs
            .receive(1, Duration::from_secs(1))
            .await
            .expect("receive");
        let queued: ImportJob = serde_json::from_str(&next[0].body).expect("job");
        assert!(queued.dry_run, "a dry run continues as a dry run");
        s.jobs.ack(&next[0].receipt).await.expect("ack");
    };
    assert_eq!(
        (outcome, runs),
        (JobOutcome::Finished(ImportStatus::Checked), 3)
    );
    let checked = record(&s, &job).await;
    assert_eq!(checked.status, ImportStatus::Checked);
    let report = checked.report.expect("report");
    assert!(report.dry_run);
    assert_eq!((report.rows, report.created), (2500, 2474));
    assert_eq!(
        contact_count(&s, &job.tenant_id).await,
        0,
        "nothing written"
    );
}

async fn a_commit_never_resumes_from_a_dry_runs_checkpoint(backend: &dyn Backend) {
    let s = setup(backend).await;
    let mut job = committing_import(&s).await;
    let imports = Imports::new(s.table.clone());
    let (tenant, id) = (job.tenant_id.clone(), job.import_id.clone());
    let step = |from: ImportStatus, to: ImportStatus| {
        let (imports, tenant, id) = (imports.clone(), tenant.clone(), id.clone());
        async move {
            imports
                .transition(&tenant, &id, &[from], to, Utc::now())
                .await
                .expect("transition");
        }
    };
    step(ImportStatus::Committing, ImportStatus::Checking).await;
    job.dry_run = true;
    let now = tokio::time::Instant::now();
    let paused = s.worker.handle(&job, Some(now)).await.expect("dry run");
    assert_eq!(paused, JobOutcome::Paused { rows_written: 1000 });
    // The dry run is called off (as when queueing it failed) and the import committed.
    step(ImportStatus::Checking, ImportStatus::Uploaded).await;
    step(ImportStatus::Uploaded, ImportStatus::Committing).await;
    job.dry_run = false;
    assert_eq!(
        s.worker.handle(&job, None).await.expect("commit"),
        JobOutcome::Finished(ImportStatus::Completed)
    );
    assert_eq!(
        contact_count(&s, &job.tenant_id).await,
        2474,
        "the rows the dry run had counted are written too"
    );
}

async fn a_file_replaced_during_a_commit_fails_the_import(backend: &dyn Backend) {
    let s = setup(backend).await;
    let job = committing_import(&s).await;
    let now = tokio::time::Instant::now();
    let paused = s.worker.handle(&job, Some(now)).await.expect("first run");
    assert_eq!(paused, JobOutcome::Paused { rows_written: 1000 });
    // A client uploads again through a URL that is still valid.
    let key = record(&s, &job).await.blob_key;
    let other = file().replace("Person", "Someone");
    s.blobs
        .put(&key, bytes::Bytes::from(other), "text/csv")
        .await
        .expect("replace");
    assert_eq!(
        s.worker.handle(&job, None).await.expect("second run"),
        JobOutcome::Finished(ImportStatus::Failed)
    );
    let failed = record(&s, &job).await;
    assert!(
        failed
            .failure
            .as_deref()
            .is_some_and(|f| f.contains("replaced")),
        "{:?}",
        failed.failure
    );
    assert_eq!(
        contact_count(&s, &job.tenant_id).await,
        990,
        "only the first run's rows were written (1,000 rows, 10 invalid)"
    );
}

/// The worker pins the file's version, then the run opens it: a file replaced in between is
/// refused, not read in place of the pinned one (whose checkpoints count its rows).
async fn a_run_reads_only_the_version_its_import_pinned(backend: &dyn Backend) {
    let s = setup(backend).await;
    let job = committing_import(&s).await;
    let imports = Imports::new(s.table.clone());
    let key = record(&s, &job).await.blob_key;
    let version = s.blobs.stat(&key).await.expect("stat").expect("file").tag;
    imports
        .pin_file(&job.tenant_id, &job.import_id, &version)
        .await
        .expect("pin");
    let other = file().replace("Person", "Someone");
    s.blobs
        .put(&key, bytes::Bytes::from(other), "text/csv")
        .await
        .expect("replace");
    let contacts = Contacts::new(s.table.clone());
    let runner = csv_import::StoredImport {
        contacts: &contacts,
        imports: &imports,
        blobs: &s.blobs,
    };
    let run = runner
        .run_resumable(&record(&s, &job).await, true, None)
        .await;
    assert!(
        matches!(run, Err(csv_import::StoredImportError::Replaced)),
        "{:?}",
        run.map(|_| "a run")
    );
    assert_eq!(contact_count(&s, &job.tenant_id).await, 0);
}

/// Saves checkpoints in memory; stops the run (as a crash would) at the save after the
/// first batch is written, when `stop_after_first_write`.
struct Saved {
    saved: std::sync::Mutex<Vec<smscrm_store::Checkpoint>>,
    stop_after_first_write: bool,
}

#[async_trait::async_trait]
impl csv_import::Checkpoints for Saved {
    async fn save(
        &self,
        checkpoint: &smscrm_store::Checkpoint,
    ) -> Result<(), smscrm_store::RepoError> {
        if self.stop_after_first_write && checkpoint.rows > 0 && checkpoint.pending.is_none() {
            return Err(smscrm_store::RepoError::Conflict(
                "the worker stopped".into(),
            ));
        }
        self.saved.lock().expect("lock").push(*checkpoint);
        Ok(())
    }
}

/// Runs [`file`] with checkpoints saved to `saved`, from `from`.
async fn run_saving(
    contacts: &Contacts,
    request: csv_import::ImportRequest,
    saved: &Saved,
    from: Option<smscrm_store::Checkpoint>,
) -> Result<csv_import::Run, csv_import::ImportFailure> {
    let progress = csv_import::Progress::default();
    let resumable = csv_import::Resumable {
        from,
        window: None,
        stop_at: None,
        checkpoints: saved,
    };
    let input = std::io::Cursor::new(file());
    csv_import::run_resumable(
        contacts,
        input,
        request,
        &progress,
        Some(resumable),
        |_: &RowError| {},
    )
    .await
}

/// A run stopped after writing a batch but before saving the checkpoint after it: the next
/// run writes that batch again (its rows unchanged by then) yet counts it as created, so the
/// report is that of one run.
async fn a_run_stopped_between_a_write_and_its_checkpoint_counts_that_batch_once(
    backend: &dyn Backend,
) {
    let s = setup(backend).await;
    let job = committing_import(&s).await;
    let contacts = Contacts::new(s.table.clone());
    let request = commit_request(&s, &job).await;
    let crashing = Saved {
        saved: Default::default(),
        stop_after_first_write: true,
    };
    assert!(
        run_saving(&contacts, request(), &crashing, None)
            .await
            .is_err()
    );
    let last = *crashing
        .saved
        .lock()
        .expect("lock")
        .last()
        .expect("a checkpoint");
    assert_eq!(last.rows, 0, "the first write's checkpoint was never saved");
    // The writer writes the batches planned meanwhile together with the first.
    let written = contact_count(&s, &job.tenant_id).await;
    assert!(
        (990..2474).contains(&written),
        "but its rows were written: {written}"
    );
    resumes_as_one_run(&s, &job, request(), last).await;
}

/// The writer writes the batches waiting for it at once, saving beforehand what they count.
/// A run stopped after such a write, before its checkpoint, leaves rows of several batches
/// written: the next run counts them all as the stopped run did, not those before the last
/// as unchanged, and so does the run after it should the next stop before their end.
async fn a_run_stopped_after_writing_batches_at_once_counts_them_once(backend: &dyn Backend) {
    let s = setup(backend).await;
    let job = committing_import(&s).await;
    let contacts = Contacts::new(s.table.clone());
    let request = commit_request(&s, &job).await;
    // The stopped run's write: the first two batches' rows, and what they counted.
    let progress = csv_import::Progress::default();
    let input = std::io::Cursor::new(file());
    let written = csv_import::run_resumable(
        &contacts,
        input,
        request(),
        &progress,
        Some(csv_import::Resumable {
            from: None,
            window: Some((0, 2000)),
            stop_at: None,
            checkpoints: &Saved {
                saved: Default::default(),
                stop_after_first_write: false,
            },
        }),
        |_: &RowError| {},
    )
    .await;
    let Ok(csv_import::Run::Finished(first)) = written else {
        panic!("the first two batches are written");
    };
    let stopped = smscrm_store::Checkpoint {
        rows: 0,
        counts: Default::default(),
        pending: Some(smscrm_store::PendingBatch {
            through: 2000,
            counts: smscrm_domain::import_report::ImportCounts {
                created: first.created,
                ..Default::default()
            },
        }),
    };
    // The next run stops too, after its first write: what it saves still carries the
    // stopped run's counts for the rows it has not reached.
    let crashing = Saved {
        saved: Default::default(),
        stop_after_first_write: true,
    };
    let again = run_saving(&contacts, request(), &crashing, Some(stopped)).await;
    assert!(again.is_err(), "the next run stops");
    let last = *crashing.saved.lock().expect("lock").last().expect("saved");
    resumes_as_one_run(&s, &job, request(), last).await;
}

/// A commit of [`file`] for `job`'s tenant, as its worker would run it.
async fn commit_request(
    s: &Setup,
    job: &ImportJob,
) -> impl Fn() -> csv_import::ImportRequest + use<> {
    let options = csv_import::options_of(&record(s, job).await).expect("options");
    let tenant = job.tenant_id.clone();
    move || csv_import::ImportRequest {
        tenant: tenant.clone(),
        options: options.clone(),
        commit: true,
        phones_from: None,
    }
}

/// Runs [`file`] again from `from`, a stopped run's checkpoint: the report and the contacts
/// are those of one run (2,500 rows: 25 without a valid phone, one duplicate).
async fn resumes_as_one_run(
    s: &Setup,
    job: &ImportJob,
    request: csv_import::ImportRequest,
    from: smscrm_store::Checkpoint,
) {
    let saver = Saved {
        saved: Default::default(),
        stop_after_first_write: false,
    };
    let contacts = Contacts::new(s.table.clone());
    let Ok(csv_import::Run::Finished(report)) =
        run_saving(&contacts, request, &saver, Some(from)).await
    else {
        panic!("the next run finishes");
    };
    assert_eq!(
        (report.created, report.updated, report.unchanged),
        (2474, 0, 0),
        "{report:?}"
    );
    assert_eq!(contact_count(s, &job.tenant_id).await, 2474);
}

/// Two commits of one file running at once in one tenant (two team members, or the drop
/// folder and the API): one contact per phone. On DynamoDB each used to make its own.
async fn two_imports_of_one_file_at_once_make_one_contact_per_phone(backend: &dyn Backend) {
    let s = setup(backend).await;
    let one = committing_import(&s).await;
    let two = committing_import_for(&s, one.tenant_id.clone()).await;
    let (a, b) = tokio::join!(s.worker.handle(&one, None), s.worker.handle(&two, None));
    let finished = JobOutcome::Finished(ImportStatus::Completed);
    assert_eq!(a.expect("first"), finished);
    assert_eq!(b.expect("second"), finished);
    assert_eq!(contact_count(&s, &one.tenant_id).await, 2474);
}

/// Committing a fanned-out import again (to resume ranges whose workers died) while a worker
/// runs one of its ranges queues only the others: the running range keeps its one job, where
/// a copy would come back every few minutes until dead-lettered.
async fn committing_a_fanned_out_import_again_queues_only_the_ranges_nobody_runs(
    backend: &dyn Backend,
) {
    let mut s = setup(backend).await;
    let job = planned_in_four_ranges(&mut s).await;
    assert_eq!(s.queued_ranges().await, [0, 1, 2, 3]);
    let lease = Lease {
        part: Part::Range(1),
        owner: "alive".into(),
        duration: chrono::Duration::minutes(5),
    };
    Imports::new(s.table.clone())
        .acquire_lease(&job.tenant_id, &job.import_id, &lease, Utc::now())
        .await
        .expect("lease");

    assert_eq!(
        s.worker.handle(&job, None).await.expect("resume"),
        JobOutcome::Planned { ranges: 4 }
    );
    assert_eq!(s.queued_ranges().await, [0, 2, 3]);
}

/// A committing import planned as if every file were large, in ranges of 700 rows (not a
/// multiple of the 1,000-row batch): 1-700, 701-1400, 1401-2100, 2101-2500.
async fn planned_in_four_ranges(s: &mut Setup) -> ImportJob {
    s.worker.fan_out = csv_import::FanOut {
        above_bytes: 0,
        rows_per_range: 700,
        ..Default::default()
    };
    let job = committing_import(s).await;
    assert_eq!(
        s.worker.handle(&job, None).await.expect("plan"),
        JobOutcome::Planned { ranges: 4 }
    );
    job
}

impl Setup {
    /// Takes every queued job off the queue; the ranges they name, in order.
    async fn queued_ranges(&self) -> Vec<u32> {
        let mut ranges = Vec::new();
        loop {
            let got = (self.jobs)
                .receive(10, Duration::from_millis(200))
                .await
                .expect("receive");
            if got.is_empty() {
                ranges.sort_unstable();
                return ranges;
            }
            for delivery in got {
                let job: ImportJob = serde_json::from_str(&delivery.body).expect("job");
                ranges.extend(job.range);
                self.jobs.ack(&delivery.receipt).await.expect("ack");
            }
        }
    }
}

/// A file with more rows than the worker's disk can sort is refused when planned, saying why,
/// before any range writes a contact (a range failing for a full disk would leave the earlier
/// ranges' contacts behind a failed import).
async fn a_file_too_large_for_the_workers_disk_is_refused_before_any_range_runs(
    backend: &dyn Backend,
) {
    let mut s = setup(backend).await;
    s.worker.fan_out = csv_import::FanOut {
        above_bytes: 0,
        rows_per_range: 700,
        max_rows: 2000,
    };
    let job = committing_import(&s).await;
    assert_eq!(
        s.worker.handle(&job, None).await.expect("plan"),
        JobOutcome::Finished(ImportStatus::Failed)
    );
    let failed = record(&s, &job).await;
    let failure = failed.failure.unwrap_or_default();
    assert!(
        failure.contains("more than 2000 rows") && failure.contains("split it"),
        "{failure}"
    );
    assert_eq!(s.queued_ranges().await, Vec::<u32>::new());
    assert_eq!(contact_count(&s, &job.tenant_id).await, 0);
}

/// A tenant of its own with `bytes` uploaded and committing.
async fn committing_file(s: &Setup, bytes: &[u8]) -> ImportJob {
    let tenant = Tenant::new("Importer", "UTC", "US", Utc::now()).expect("tenant");
    Tenants::new(s.table.clone())
        .create(&tenant)
        .await
        .expect("tenant");
    committing_import_of(s, tenant.id, bytes.to_vec()).await
}

impl Setup {
    /// Runs queued jobs until an import completes.
    async fn run_queued(&self) {
        for _ in 0..50 {
            let got = (self.jobs)
                .receive(1, Duration::from_secs(1))
                .await
                .expect("receive");
            let delivery = got.into_iter().next().expect("a queued job");
            let job: ImportJob = serde_json::from_str(&delivery.body).expect("job");
            let outcome = self.worker.handle(&job, None).await.expect("run");
            self.jobs.ack(&delivery.receipt).await.expect("ack");
            if outcome == JobOutcome::Finished(ImportStatus::Completed) {
                return;
            }
            // Skipped: a copy of a job whose import ended (a planning job delivered twice
            // queues the ranges twice).
            assert!(
                matches!(
                    outcome,
                    JobOutcome::RangeDone { .. } | JobOutcome::Skipped(_)
                ),
                "{outcome:?}"
            );
        }
        panic!("runaway");
    }
}

/// Commits `bytes` (600 rows) straight and fanned out in four ranges of 150 rows, checks both
/// end alike, and returns the bytes of the file the range jobs read.
async fn fan_out_like_straight(backend: &dyn Backend, name: &str, bytes: &[u8]) -> u64 {
    let (mut s, read) = setup_metered(backend).await;
    let straight = committing_file(&s, bytes).await;
    s.worker.handle(&straight, None).await.expect("straight");
    let expected = record(&s, &straight).await;
    assert_eq!(expected.status, ImportStatus::Completed, "{name}");

    let job = planned_in_four_short_ranges(&mut s, bytes).await;
    read.store(0, Ordering::SeqCst);
    s.run_queued().await;
    let fanned = record(&s, &job).await;
    assert_eq!(fanned.report, expected.report, "{name}: the reports");
    assert_eq!(
        errors_csv(&s, &job).await,
        errors_csv(&s, &straight).await,
        "{name}: the error lists"
    );
    let report = expected.report.expect("report");
    assert_eq!(
        contact_count(&s, &job.tenant_id).await as u64,
        report.created,
        "{name}"
    );
    assert_eq!(
        contact_count(&s, &straight.tenant_id).await as u64,
        report.created,
        "{name}"
    );
    assert_eq!(notes_left(&s, &job).await, Vec::<String>::new(), "{name}");
    read.load(Ordering::SeqCst)
}

/// A new tenant's commit of `bytes` (600 rows, as [`short_file`]), planned in four ranges
/// of 150 rows.
async fn planned_in_four_short_ranges(s: &mut Setup, bytes: &[u8]) -> ImportJob {
    s.worker.fan_out = csv_import::FanOut {
        above_bytes: 0,
        rows_per_range: 150,
        ..Default::default()
    };
    let job = committing_file(s, bytes).await;
    assert_eq!(
        s.worker.handle(&job, None).await.expect("plan"),
        JobOutcome::Planned { ranges: 4 }
    );
    job
}

/// The ranges' notes files still stored beside the import's file.
async fn notes_left(s: &Setup, job: &ImportJob) -> Vec<String> {
    let key = record(s, job).await.blob_key;
    let folder = key.rsplit_once('/').map_or("", |(folder, _)| folder);
    let stored = s.blobs.list(folder).await.expect("list");
    stored
        .into_iter()
        .filter(|k| k.contains(".notes."))
        .collect()
}

/// A planning job delivered twice, its copies planning at once: the copy that records its
/// plan second (here with other ranges, as a worker of a newer release might) deletes its own
/// notes, and the ranges read the first plan's, ending as one run; a copy that finishes
/// planning after the import completed changes nothing and leaves nothing behind.
async fn a_planning_job_delivered_twice_keeps_one_plan_and_no_stray_notes(backend: &dyn Backend) {
    let mut s = setup(backend).await;
    let file = short_file("");
    let straight = committing_file(&s, file.as_bytes()).await;
    s.worker.handle(&straight, None).await.expect("straight");
    let expected = record(&s, &straight).await.report;
    s.worker.fan_out = csv_import::FanOut {
        above_bytes: 0,
        rows_per_range: 150,
        ..Default::default()
    };
    for late in [false, true] {
        let job = committing_file(&s, file.as_bytes()).await;
        let gate = Gate::shut();
        let mut copy = s.worker.clone();
        copy.blobs = Arc::new(Metered {
            inner: s.blobs.clone(),
            read: Arc::default(),
            gate: Some(gate.clone()),
            notes_put: AtomicU64::new(0),
            fail_notes_put: None,
        });
        copy.fan_out.rows_per_range = 120;
        let second = tokio::spawn({
            let job = job.clone();
            async move { copy.handle(&job, None).await }
        });
        gate.waiting.notified().await;
        let first = s.worker.handle(&job, None).await.expect("first copy");
        assert_eq!(first, JobOutcome::Planned { ranges: 4 });
        if late {
            s.run_queued().await;
        }
        gate.open.add_permits(1);
        let second = second.await.expect("join").expect("second copy");
        if late {
            assert!(matches!(second, JobOutcome::Skipped(_)), "{second:?}");
        } else {
            assert_eq!(
                second,
                JobOutcome::Planned { ranges: 4 },
                "the first plan's"
            );
            s.run_queued().await;
        }
        let done = record(&s, &job).await;
        assert_eq!(done.status, ImportStatus::Completed, "late: {late}");
        assert_eq!(done.report, expected, "late: {late}");
        assert_eq!(
            notes_left(&s, &job).await,
            Vec::<String>::new(),
            "late: {late}"
        );
    }
}

/// When a fanned-out import fails (its file was replaced), the ranges' notes, written beside
/// the file where a drop-folder user sees them, are deleted.
async fn a_fanned_out_import_that_fails_leaves_no_notes_behind(backend: &dyn Backend) {
    let mut s = setup(backend).await;
    let job = planned_in_four_ranges(&mut s).await;
    assert_eq!(notes_left(&s, &job).await.len(), 4);
    let key = record(&s, &job).await.blob_key;
    let other = file().replace("Person", "Someone");
    s.blobs
        .put(&key, Bytes::from(other), "text/csv")
        .await
        .expect("replace");
    let mut range = job.clone();
    range.range = Some(2);
    assert_eq!(
        s.worker.handle(&range, None).await.expect("range"),
        JobOutcome::Finished(ImportStatus::Failed)
    );
    assert_eq!(notes_left(&s, &job).await, Vec::<String>::new());
}

/// A UTF-8 file's ranges each read the header and their own bytes, no more (a range that read
/// the file up to its rows would read it about three times over in four ranges), and a messy
/// file (a byte-order mark, semicolons, CRLF, cells quoting line breaks on range boundaries,
/// blank lines, duplicates across ranges) ends exactly as one run.
async fn each_range_reads_only_its_own_part_of_a_utf8_file(backend: &dyn Backend) {
    for (name, bytes) in [
        ("plain", short_file("").into_bytes()),
        ("messy", messy_utf8()),
    ] {
        let read = fan_out_like_straight(backend, name, &bytes).await;
        let header = bytes.iter().position(|b| *b == b'\n').expect("a header") as u64 + 1;
        assert!(
            read <= bytes.len() as u64 + 4 * header,
            "{name}: the ranges read {read} bytes of a {}-byte file",
            bytes.len()
        );
    }
}

/// Files in a code page are read as their bytes: each range reads only its own part, as a
/// UTF-8 file's do, and they end as one run (the report says `windows-1251`, or
/// `windows-1252 with utf-8 rows` for one with a row merged in from a UTF-8 export).
async fn files_in_a_code_page_fan_out_by_bytes_and_end_as_one_run(backend: &dyn Backend) {
    let from_the_start = short_file("").replace("Person 2,", "Chlo\u{e9} 2,");
    let mut with_utf8_rows = Vec::new();
    for line in from_the_start.split_inclusive('\n') {
        match line.starts_with("Person 300,") {
            true => with_utf8_rows.extend_from_slice(line.replace("Person", "Zo\u{eb}").as_bytes()),
            false => with_utf8_rows.extend(latin1(line)),
        }
    }
    let russian = short_file("").replace("Person", "\u{41e}\u{43b}\u{44c}\u{433}\u{430}");
    let windows_1251 = encoding_rs::WINDOWS_1251.encode(&russian).0.into_owned();
    for (name, bytes) in [
        ("windows-1252 with a UTF-8 row", with_utf8_rows),
        ("windows-1251", windows_1251),
    ] {
        fan_out_reading_own_parts(backend, name, &bytes).await;
    }
}

/// A file all ASCII past its first 64 KiB and then in Windows-1252 fans out by bytes too, as
/// does a UTF-8 file with a row in Windows-1252 (that row read in its own encoding, and the
/// report saying the file is mixed).
async fn files_decided_past_their_start_fan_out_by_bytes_too(backend: &dyn Backend) {
    // 600 rows of over 110 bytes: ASCII past 64 KiB, then an e-acute in the last range.
    let late = short_file(&"x".repeat(90)).replace("Person 590,", "Ren\u{e9}e 590,");
    assert!(late.find("Ren").expect("the name") > 64 * 1024);
    fan_out_reading_own_parts(backend, "late windows-1252", &latin1(&late)).await;

    let utf8 = short_file("").replace("Person 2,", "Zo\u{eb} 2,");
    let mut mixed = Vec::new();
    for line in utf8.split_inclusive('\n') {
        match line.starts_with("Person 200,") {
            true => mixed.extend(latin1(&line.replace("Person", "Ren\u{e9}e"))),
            false => mixed.extend_from_slice(line.as_bytes()),
        }
    }
    fan_out_reading_own_parts(backend, "mixed", &mixed).await;
}

/// [`fan_out_like_straight`], and the ranges read no more than the file and a header each.
async fn fan_out_reading_own_parts(backend: &dyn Backend, name: &str, bytes: &[u8]) {
    let read = fan_out_like_straight(backend, name, bytes).await;
    let header = bytes.iter().position(|b| *b == b'\n').expect("a header") as u64 + 1;
    assert!(
        read <= bytes.len() as u64 + 4 * header,
        "{name}: the ranges read {read} bytes of a {}-byte file",
        bytes.len()
    );
}

/// `text` in Windows-1252, as Latin-1 (which it equals for these letters).
fn latin1(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).expect("a Latin-1 letter"))
        .collect()
}

/// 600 rows of a messy UTF-8 export: see [`each_range_reads_only_its_own_part_of_a_utf8_file`].
/// Rows 150, 300 and 450 (the ranges' last rows) quote a line break; row 500 repeats row 3's
/// phone.
fn messy_utf8() -> Vec<u8> {
    let mut csv = String::from("\u{feff}Name;Mobile;Notes\r\n");
    for n in 1..=600u32 {
        let row = n + 1;
        let note = match n {
            150 | 300 | 450 => "\"line one;\r\nline two\"".to_owned(),
            n if n % 97 == 0 => "\"said \"\"hi\"\"\"".to_owned(),
            _ => format!("n{n}"),
        };
        let phone = match n {
            500 => "(415) 555-0002".to_owned(),
            n if n % 101 == 0 => "555".to_owned(),
            n => format!("(415) 555-{:04}", n % 10_000),
        };
        csv.push_str(&format!("Zo\u{eb} {row};{phone};{note}\r\n"));
        if n % 83 == 0 {
            csv.push_str("\r\n");
        }
    }
    csv.into_bytes()
}

/// [`setup`] with the blob store counting the bytes read from files by `open_version` and
/// `open_range`.
async fn setup_metered(backend: &dyn Backend) -> (Setup, Arc<AtomicU64>) {
    let mut s = setup(backend).await;
    let read = Arc::new(AtomicU64::new(0));
    let metered: Arc<dyn Blobs> = Arc::new(Metered {
        inner: s.blobs.clone(),
        read: read.clone(),
        gate: None,
        notes_put: AtomicU64::new(0),
        fail_notes_put: None,
    });
    s.worker.blobs = metered;
    (s, read)
}

struct Metered {
    inner: Arc<dyn Blobs>,
    read: Arc<AtomicU64>,
    /// When set, `open_version` says it is waiting, then waits for a permit.
    gate: Option<Gate>,
    notes_put: AtomicU64,
    /// The notes file (counting from 0) whose put fails, if any.
    fail_notes_put: Option<u64>,
}

#[derive(Clone)]
struct Gate {
    waiting: Arc<tokio::sync::Notify>,
    open: Arc<tokio::sync::Semaphore>,
}

impl Gate {
    fn shut() -> Self {
        Self {
            waiting: Arc::default(),
            open: Arc::new(tokio::sync::Semaphore::new(0)),
        }
    }
}

impl Metered {
    fn count(&self, reader: Option<BlobReader>) -> Option<BlobReader> {
        let read = self.read.clone();
        reader.map(|inner| Box::pin(Counting { inner, read }) as BlobReader)
    }
}

struct Counting {
    inner: BlobReader,
    read: Arc<AtomicU64>,
}

impl tokio::io::AsyncRead for Counting {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let polled = self.inner.as_mut().poll_read(cx, buf);
        let got = (buf.filled().len() - before) as u64;
        self.read.fetch_add(got, Ordering::SeqCst);
        polled
    }
}

#[async_trait::async_trait]
impl Blobs for Metered {
    async fn put(&self, key: &str, body: Bytes, content_type: &str) -> Result<(), BlobError> {
        self.inner.put(key, body, content_type).await
    }
    async fn get(&self, key: &str) -> Result<Option<Bytes>, BlobError> {
        self.inner.get(key).await
    }
    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        self.inner.delete(key).await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<String>, BlobError> {
        self.inner.list(prefix).await
    }
    async fn open(&self, key: &str) -> Result<Option<BlobReader>, BlobError> {
        self.inner.open(key).await
    }
    async fn open_version(&self, key: &str, tag: &str) -> Result<Option<BlobReader>, BlobError> {
        if let Some(gate) = &self.gate {
            gate.waiting.notify_one();
            gate.open.acquire().await.expect("gate").forget();
        }
        Ok(self.count(self.inner.open_version(key, tag).await?))
    }
    async fn open_range(
        &self,
        key: &str,
        tag: &str,
        start: u64,
        end: u64,
    ) -> Result<Option<BlobReader>, BlobError> {
        Ok(self.count(self.inner.open_range(key, tag, start, end).await?))
    }
    async fn put_stream(
        &self,
        key: &str,
        body: BlobReader,
        content_type: &str,
    ) -> Result<u64, BlobError> {
        if key.contains(".notes.") {
            let n = self.notes_put.fetch_add(1, Ordering::SeqCst);
            if self.fail_notes_put == Some(n) {
                return Err(BlobError::Unavailable("injected: S3 said 503".into()));
            }
        }
        self.inner.put_stream(key, body, content_type).await
    }
    async fn presign_put(
        &self,
        key: &str,
        expires_in: Duration,
        content_type: &str,
    ) -> Result<Option<PresignedUpload>, BlobError> {
        self.inner.presign_put(key, expires_in, content_type).await
    }
    async fn stat(&self, key: &str) -> Result<Option<BlobStat>, BlobError> {
        self.inner.stat(key).await
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum PlanFault {
    /// The transaction commits, then the caller hears a timeout (an unknown outcome).
    CommitThenTimeout,
    /// Cancelled with no failed condition (TransactionConflict, ThrottlingError on DynamoDB).
    CanceledNoCondition,
}

struct Flaky {
    inner: Arc<dyn Table>,
    fault: std::sync::Mutex<Option<PlanFault>>,
}

#[async_trait::async_trait]
impl Table for Flaky {
    async fn get(
        &self,
        key: &smscrm_domain::ports::Key,
    ) -> Result<Option<smscrm_domain::ports::Item>, smscrm_domain::ports::StoreError> {
        self.inner.get(key).await
    }
    async fn batch_get(
        &self,
        keys: &[smscrm_domain::ports::Key],
    ) -> Result<Vec<smscrm_domain::ports::Item>, smscrm_domain::ports::StoreError> {
        self.inner.batch_get(keys).await
    }
    async fn put(
        &self,
        item: smscrm_domain::ports::Item,
        c: Option<smscrm_domain::ports::Condition>,
    ) -> Result<(), smscrm_domain::ports::StoreError> {
        self.inner.put(item, c).await
    }
    async fn update(
        &self,
        key: &smscrm_domain::ports::Key,
        u: smscrm_domain::ports::Update,
        c: Option<smscrm_domain::ports::Condition>,
    ) -> Result<smscrm_domain::ports::Item, smscrm_domain::ports::StoreError> {
        self.inner.update(key, u, c).await
    }
    async fn delete(
        &self,
        key: &smscrm_domain::ports::Key,
        c: Option<smscrm_domain::ports::Condition>,
    ) -> Result<Option<smscrm_domain::ports::Item>, smscrm_domain::ports::StoreError> {
        self.inner.delete(key, c).await
    }
    async fn query(
        &self,
        q: &smscrm_domain::ports::Query,
    ) -> Result<smscrm_domain::ports::Page, smscrm_domain::ports::StoreError> {
        self.inner.query(q).await
    }
    async fn batch_put(
        &self,
        items: Vec<smscrm_domain::ports::Item>,
    ) -> Result<(), smscrm_domain::ports::StoreError> {
        self.inner.batch_put(items).await
    }
    async fn batch_put_if_absent(
        &self,
        items: Vec<smscrm_domain::ports::Item>,
    ) -> Result<Vec<smscrm_domain::ports::Key>, smscrm_domain::ports::StoreError> {
        self.inner.batch_put_if_absent(items).await
    }
    fn sorted_bulk_writes_pay(&self) -> bool {
        self.inner.sorted_bulk_writes_pay()
    }
    async fn transact(
        &self,
        ops: Vec<smscrm_domain::ports::TransactOp>,
    ) -> Result<(), smscrm_domain::ports::StoreError> {
        // Only the plan's transaction puts import ranges.
        let is_plan = ops
            .iter()
            .any(|op| matches!(op, smscrm_domain::ports::TransactOp::Put { .. }))
            && ops.len() >= 3;
        let fault = if is_plan {
            self.fault.lock().unwrap().take()
        } else {
            None
        };
        match fault {
            None => self.inner.transact(ops).await,
            Some(PlanFault::CommitThenTimeout) => {
                self.inner.transact(ops).await?;
                Err(smscrm_domain::ports::StoreError::Unavailable(
                    "timed out".into(),
                ))
            }
            Some(PlanFault::CanceledNoCondition) => {
                Err(smscrm_domain::ports::StoreError::TransactionCanceled { failed: vec![] })
            }
        }
    }
}

fn flaky_worker(s: &Setup, fault: PlanFault) -> ImportWorker {
    let table: Arc<dyn Table> = Arc::new(Flaky {
        inner: s.table.clone(),
        fault: std::sync::Mutex::new(Some(fault)),
    });
    let mut worker = s.worker.clone();
    worker.imports = Imports::new(table);
    worker.fan_out = csv_import::FanOut {
        above_bytes: 0,
        rows_per_range: 700,
        ..Default::default()
    };
    worker
}

/// DynamoDB's TransactWriteItems can commit and still fail for its caller (a timeout, a
/// retry answered TransactionInProgress): the plan is recorded, its notes must stay.
async fn a_plan_recorded_though_its_transaction_reported_failure_keeps_its_notes(
    backend: &dyn Backend,
) {
    let mut s = setup(backend).await;
    s.worker.fan_out = csv_import::FanOut {
        above_bytes: 0,
        rows_per_range: 700,
        ..Default::default()
    };
    let job = committing_import(&s).await;
    let flaky = flaky_worker(&s, PlanFault::CommitThenTimeout);
    let first = flaky.handle(&job, None).await;
    assert!(
        matches!(first, Err(_) | Ok(JobOutcome::Planned { .. })),
        "{first:?}"
    );
    assert_eq!(
        record(&s, &job).await.ranges,
        Some(4),
        "the plan was recorded"
    );
    // The queue delivers the planning job again.
    assert_eq!(
        s.worker.handle(&job, None).await.expect("redelivery"),
        JobOutcome::Planned { ranges: 4 }
    );
    let mut range = job.clone();
    range.range = Some(0);
    let ran = s.worker.handle(&range, None).await;
    assert!(ran.is_ok(), "range 0: {ran:?}");
    assert_eq!(
        notes_left(&s, &job).await.len(),
        4,
        "the recorded plan's notes"
    );
}

/// A transaction cancelled with no failed condition wrote nothing: the import is still
/// committing with no plan, so the planning job must come back (an `Err`), not be acked.
async fn a_plan_cancelled_with_no_condition_failed_is_retried(backend: &dyn Backend) {
    let s = setup(backend).await;
    let job = committing_import(&s).await;
    let flaky = flaky_worker(&s, PlanFault::CanceledNoCondition);
    let outcome = flaky.handle(&job, None).await;
    let now = record(&s, &job).await;
    assert_eq!((now.status, now.ranges), (ImportStatus::Committing, None));
    assert!(
        outcome.is_err(),
        "acked with nothing queued and no plan: {outcome:?}"
    );
}

/// A planning attempt that wrote some notes and then failed (an S3 put, a crash) is retried
/// with a plan of its own: once the import ends, the first attempt's notes are gone too.
async fn a_planning_attempt_that_failed_part_way_leaves_no_notes_once_the_import_ends(
    backend: &dyn Backend,
) {
    let mut s = setup(backend).await;
    let job = committing_import(&s).await;
    let mut failing = s.worker.clone();
    failing.fan_out = csv_import::FanOut {
        above_bytes: 0,
        rows_per_range: 700,
        ..Default::default()
    };
    failing.blobs = Arc::new(Metered {
        inner: s.blobs.clone(),
        read: Arc::default(),
        gate: None,
        notes_put: AtomicU64::new(0),
        fail_notes_put: Some(2),
    });
    assert!(failing.handle(&job, None).await.is_err());
    s.worker.fan_out = failing.fan_out;
    assert_eq!(
        s.worker.handle(&job, None).await.expect("retry"),
        JobOutcome::Planned { ranges: 4 }
    );
    s.run_queued().await;
    assert_eq!(record(&s, &job).await.status, ImportStatus::Completed);
    assert_eq!(notes_left(&s, &job).await, Vec::<String>::new());
}

/// A fanned-out commit gives a first row a later row's opt-out even when the two sit in
/// different ranges: the note goes with the first row's range, in a UTF-8 file and in one in
/// Windows-1252 alike.
async fn a_later_rows_opt_out_reaches_the_first_row_in_another_range(backend: &dyn Backend) {
    // Row 2 (range 0) consents; row 552 (range 3) has the same number and unsubscribed.
    let file = short_file("yes").replace(
        "Person 552,+1 415 555 0550,yes",
        "Person 552,+1 415 555 0000,unsubscribed",
    );
    let file = file.replacen("first name,phone,note", "first name,phone,consent", 1);
    assert!(file.contains("Person 552,+1 415 555 0000,unsubscribed"));
    let windows_1252 = latin1(&file.replace("Person 3,", "Chlo\u{e9} 3,"));
    for bytes in [file.into_bytes(), windows_1252] {
        a_later_opt_out_reaches_row_2(backend, &bytes).await;
    }
}

async fn a_later_opt_out_reaches_row_2(backend: &dyn Backend, bytes: &[u8]) {
    let mut s = setup(backend).await;
    let job = planned_in_four_short_ranges(&mut s, bytes).await;
    s.run_queued().await;
    let done = record(&s, &job).await;
    assert_eq!(done.status, ImportStatus::Completed);
    let phone = smscrm_domain::PhoneE164::from_e164("+14155550000").expect("phone");
    let contact = Contacts::new(s.table.clone())
        .find_by_phone(&job.tenant_id, &phone)
        .await
        .expect("read")
        .expect("contact");
    assert_eq!(
        contact.first_name.as_deref(),
        Some("Person 2"),
        "the first row wins"
    );
    assert_eq!(
        contact.consent.status,
        smscrm_domain::ConsentStatus::Revoked
    );
}
