//! Import jobs: commits run off the request path, one queue message per commit (or per range
//! of a large commit).
//!
//! The API and the drop folder move an import to `committing` and enqueue an [`ImportJob`];
//! a worker (the `import-worker` Lambda on SQS, a task of `smscrm serve` locally) runs it.
//! A commit survives its worker:
//! - the worker holds a lease on what it runs, so a redelivered message never runs it twice
//!   at once;
//! - after every batch it saves a checkpoint (rows written, counts) and extends the lease;
//! - near its deadline (Lambda's 15 minutes) it pauses and enqueues a continuation;
//! - if it dies, the queue redelivers the message once its visibility timeout passes, and the
//!   next worker takes the lease when it expires and resumes from the checkpoint.
//!
//! Resuming parses the file (or the range) again from its start (parsing runs ~50x faster
//! than writing) so the report and the in-file duplicate check are exactly those of an
//! uninterrupted run, and writes only the rows after the checkpoint.
//!
//! A file larger than [`FanOut::above_bytes`] is fanned out: the first job reads it once
//! (counting its rows, noting where every [`FanOut::rows_per_range`]th row ends, finding its
//! duplicate rows), records a plan of ranges and queues one job per range; ranges run in
//! parallel on as many workers as the queue's consumers allow, each reading only its own bytes
//! of a file the parser reads as bytes (UTF-8, or a code page: `Rows::resume_point`; the file
//! up to its rows otherwise), and whoever finishes the last range
//! merges the reports and completes the import.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde::{Deserialize, Serialize};
use smscrm_domain::import_report::ImportReport;
use smscrm_domain::ports::queue::MAX_SEND_BATCH;
use smscrm_domain::ports::{Blobs, OutgoingMessage, Queue, QueueError};
use smscrm_domain::{ImportId, TenantId};
use smscrm_import::ImportError;
use smscrm_store::{
    AuditLog, Checkpoint, Contacts, ImportRange, ImportRecord, ImportSource, ImportStatus, Imports,
    Lease, MAX_RANGES, Outcome, Part, PlannedRange, RangeBytes, RepoError, Tenants,
};
use tokio::time::Instant;
use tracing::Instrument as _;

use crate::ahead::Survey;
use crate::drop_folder::{DropFolder, DropOutcome, write_report};
use crate::pipeline::{Checkpoints, Resumable, Run};
use crate::refused::{RefusedRows as _, RefusedRowsCsv, delimiter_of};
use crate::stored::{
    StoredImport, StoredImportError, errors_key, range_errors_key, range_notes_key,
};

/// How long a worker's claim on an import lasts without a checkpoint renewing it. Far longer
/// than a batch takes, short enough that a dead worker's import resumes within minutes.
const LEASE: chrono::Duration = chrono::Duration::minutes(5);
/// When a job that found its import leased tries again: by then the holder has renewed the
/// lease (it is alive: the job finds it busy again) or it has expired (the job takes over).
pub const LEASE_RETRY: Duration = Duration::from_secs(5 * 60 + 30);

/// The message body: which import to commit, and which range of it for a fanned-out commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportJob {
    pub tenant_id: TenantId,
    pub import_id: ImportId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<u32>,
    /// A dry run too large for its request: counts everything, writes no contact.
    #[serde(default, skip_serializing_if = "is_false")]
    pub dry_run: bool,
}

fn is_false(value: &bool) -> bool {
    !*value
}

impl ImportJob {
    /// The job that commits (or plans) a whole import.
    pub fn new(tenant_id: TenantId, import_id: ImportId) -> Self {
        Self {
            tenant_id,
            import_id,
            range: None,
            dry_run: false,
        }
    }

    /// The job that dry-runs an import.
    pub fn dry_run(tenant_id: TenantId, import_id: ImportId) -> Self {
        Self {
            dry_run: true,
            ..Self::new(tenant_id, import_id)
        }
    }

    pub fn message(&self) -> OutgoingMessage {
        // Serializing two ids and a number cannot fail.
        OutgoingMessage::new(serde_json::to_string(self).unwrap_or_default())
    }
}

/// Puts a commit on the queue.
pub async fn enqueue(queue: &dyn Queue, job: &ImportJob) -> Result<(), QueueError> {
    queue.send_batch(vec![job.message()]).await
}

/// When a commit is split over several workers, and how.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FanOut {
    /// Files larger than this are committed in ranges.
    pub above_bytes: u64,
    /// Data rows per range (a multiple of it when the file would need more than
    /// [`MAX_RANGES`]).
    pub rows_per_range: u64,
    /// Files with more data rows are refused when planned, before any range writes: the
    /// plan's sort on disk (or, for a file not in UTF-8, the last range's) holds about 40
    /// bytes for every row of the file.
    pub max_rows: u64,
}

impl Default for FanOut {
    /// About half a million rows per range: a few minutes of DynamoDB writes, well inside one
    /// 15-minute run.
    fn default() -> Self {
        Self {
            above_bytes: 64 * 1024 * 1024,
            rows_per_range: 500_000,
            max_rows: u64::MAX,
        }
    }
}

/// What handling one job did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    /// The import ended: `completed`, or `failed` for a file that cannot be imported; for a
    /// dry run `checked`, or `uploaded` again when the file cannot be read.
    Finished(ImportStatus),
    /// The deadline came; a continuation is on the queue.
    Paused { rows_written: u64 },
    /// The commit is fanned out: one job per range not yet done is on the queue.
    Planned { ranges: u32 },
    /// This range is written; others are still running.
    RangeDone { index: u32 },
    /// Another worker holds the lease: the message should come back after `retry_in`.
    Busy { retry_in: Duration },
    /// Nothing to do: the import is gone, already finished, or ended elsewhere.
    Skipped(&'static str),
}

#[derive(Clone)]
pub struct ImportWorker {
    pub contacts: Contacts,
    pub imports: Imports,
    pub blobs: Arc<dyn Blobs>,
    pub queue: Arc<dyn Queue>,
    pub fan_out: FanOut,
}

impl ImportWorker {
    /// Runs (or resumes) the job, pausing at `stop_at`. An `Err` is worth retrying later
    /// (storage unavailable): the import stays `committing` with its checkpoint, and the
    /// caller lets the queue deliver the message again.
    pub async fn handle(
        &self,
        job: &ImportJob,
        stop_at: Option<Instant>,
    ) -> Result<JobOutcome, StoredImportError> {
        let expected = if job.dry_run {
            ImportStatus::Checking
        } else {
            ImportStatus::Committing
        };
        let record = match self.imports.get(&job.tenant_id, &job.import_id).await? {
            None => return Ok(JobOutcome::Skipped("no such import")),
            Some(r) if r.status != expected => {
                return Ok(JobOutcome::Skipped("the import is not committing"));
            }
            Some(record) => record,
        };
        let record = match self.check_file(record, job.dry_run).await? {
            Ok(pinned) => pinned,
            Err(outcome) => return Ok(outcome),
        };
        if job.dry_run {
            return self.run_whole(&record, false, stop_at).await;
        }
        match job.range {
            Some(index) => self.run_range(&record, index, stop_at).await,
            None if record.ranges.is_some() => self.resume_plan(&record).await,
            None if self.size(&record).await? > self.fan_out.above_bytes => {
                self.plan(&record, stop_at).await
            }
            None => self.run_whole(&record, true, stop_at).await,
        }
    }

    /// Stops the run when the file is not the version its import started on (a client may
    /// upload again to a still-valid URL): checkpoints and ranges count rows of that version.
    /// Otherwise returns the record with that version pinned, the one the run then reads.
    async fn check_file(
        &self,
        mut record: ImportRecord,
        dry_run: bool,
    ) -> Result<Result<ImportRecord, JobOutcome>, StoredImportError> {
        let Some(stat) = self.blobs.stat(&record.blob_key).await? else {
            // Gone: the run refuses it.
            return Ok(Ok(record));
        };
        let (tenant, id) = (&record.tenant_id, &record.id);
        if self.imports.pin_file(tenant, id, &stat.tag).await? == stat.tag {
            record.file_tag = Some(stat.tag);
            return Ok(Ok(record));
        }
        let reason = "the file was replaced after the import started; upload it to a new import";
        Ok(Err(if dry_run {
            self.send_back(&record, reason).await?
        } else {
            self.refuse(&record, reason).await?
        }))
    }

    /// Ends a queued dry run that cannot read the file: the import goes back to `uploaded`,
    /// saying why, to be fixed and uploaded again.
    async fn send_back(
        &self,
        record: &ImportRecord,
        reason: &str,
    ) -> Result<JobOutcome, StoredImportError> {
        let outcome = Outcome {
            status: ImportStatus::Uploaded,
            report: None,
            failure: Some(reason),
            read: None,
        };
        let (tenant, id, from) = (&record.tenant_id, &record.id, [ImportStatus::Checking]);
        match self
            .imports
            .finish(tenant, id, &from, outcome, Utc::now())
            .await
        {
            Ok(_) => Ok(JobOutcome::Finished(ImportStatus::Uploaded)),
            Err(RepoError::Conflict(_)) => Ok(ended_elsewhere()),
            Err(e) => Err(e.into()),
        }
    }

    async fn size(&self, record: &ImportRecord) -> Result<u64, StoredImportError> {
        Ok(match record.bytes_total {
            Some(bytes) => bytes,
            None => self.blobs.size(&record.blob_key).await?.unwrap_or(0),
        })
    }

    fn runner(&self) -> StoredImport<'_> {
        StoredImport {
            contacts: &self.contacts,
            imports: &self.imports,
            blobs: &self.blobs,
        }
    }

    /// Takes a new lease on a part, or says why not.
    async fn lease(
        &self,
        record: &ImportRecord,
        part: Part,
    ) -> Result<Result<(Lease, Option<Checkpoint>), JobOutcome>, StoredImportError> {
        let (tenant, id) = (&record.tenant_id, &record.id);
        let lease = Lease {
            part,
            owner: ulid::Ulid::new().to_string(),
            duration: LEASE,
        };
        match (self.imports)
            .acquire_lease(tenant, id, &lease, Utc::now())
            .await
        {
            Ok(checkpoint) => Ok(Ok((lease, checkpoint))),
            // Another delivery of the same message may be the one running: this one must come
            // back rather than be deleted, or a crash of that worker would leave nothing to
            // resume the import.
            Err(RepoError::Conflict(_)) => Ok(Err(JobOutcome::Busy {
                retry_in: LEASE_RETRY,
            })),
            Err(e) => Err(e.into()),
        }
    }

    /// Runs the whole file: a commit, or a dry run when `commit` is false.
    async fn run_whole(
        &self,
        record: &ImportRecord,
        commit: bool,
        stop_at: Option<Instant>,
    ) -> Result<JobOutcome, StoredImportError> {
        let (lease, from) = match self.lease(record, Part::Whole).await? {
            Ok(granted) => granted,
            Err(outcome) => return Ok(outcome),
        };
        let saver = LeasedCheckpoints {
            imports: &self.imports,
            record,
            lease: &lease,
        };
        let resumable = Resumable {
            from,
            window: None,
            stop_at,
            checkpoints: &saver,
        };
        let run = self
            .runner()
            .run_resumable(record, commit, Some(resumable))
            .await;
        let report = match run {
            Ok(Run::Finished(report)) => report,
            Ok(Run::Paused(at)) => return self.pause(record, &lease, at).await,
            Err(e) if !commit && is_refusal(&e) => {
                return self.send_back(record, &e.to_string()).await;
            }
            Err(e) => return self.fail_or_retry(record, &lease, e).await,
        };
        let (from, status) = if commit {
            (ImportStatus::Committing, ImportStatus::Completed)
        } else {
            (ImportStatus::Checking, ImportStatus::Checked)
        };
        // The drop folder's report first: should writing it fail, the retry finds the import
        // still running and ends it again (every row is written, so it only re-reads).
        let ended = match self.report_drop(record, status, None, Some(&report)).await {
            Ok(()) => self.end(record, from, status, &report).await,
            Err(e) => Err(e),
        };
        if ended.is_err() {
            // Let the retry start at once rather than after the lease expires.
            let (tenant, id) = (&record.tenant_id, &record.id);
            let _ = self.imports.release_lease(tenant, id, &lease).await;
        }
        ended
    }

    /// Records the outcome of a run that started from `from`.
    async fn end(
        &self,
        record: &ImportRecord,
        from: ImportStatus,
        status: ImportStatus,
        report: &ImportReport,
    ) -> Result<JobOutcome, StoredImportError> {
        match self
            .runner()
            .complete(record, &[from], status, report)
            .await
        {
            Ok(()) => Ok(JobOutcome::Finished(status)),
            Err(StoredImportError::Repo(RepoError::Conflict(_))) => Ok(ended_elsewhere()),
            Err(e) => Err(e),
        }
    }

    /// Reads the file once (its rows, where ranges of them start, its duplicate rows),
    /// records the ranges and queues one job per range.
    async fn plan(
        &self,
        record: &ImportRecord,
        stop_at: Option<Instant>,
    ) -> Result<JobOutcome, StoredImportError> {
        let (step, max_rows) = (self.fan_out.rows_per_range.max(1), self.fan_out.max_rows);
        let survey = match self.runner().survey(record, step, max_rows).await {
            Ok(Some(survey)) => survey,
            Ok(None) => {
                let reason = format!(
                    "the file has more than {max_rows} rows, the most that can be imported at \
                     once here (finding duplicate phones sorts the whole file on disk): split \
                     it into smaller files"
                );
                return self.refuse(record, &reason).await;
            }
            Err(e) if is_refusal(&e) => return self.refuse(record, &e.to_string()).await,
            Err(other) => return Err(other),
        };
        let rows = survey.rows;
        let windows = split(rows, step);
        if windows.len() < 2 {
            return self.run_whole(record, true, stop_at).await;
        }
        let plan = ulid::Ulid::new().to_string();
        let notes_key = |index| range_notes_key(record, &plan, index);
        let ranges: Vec<PlannedRange> = match in_bytes(&survey, &windows, step, notes_key) {
            Some(ranges) => {
                let last_rows = ranges.iter().map(|(_, last_row)| *last_row).collect();
                let notes = survey.notes_by_range(last_rows).await?;
                let keys: Vec<String> = (0..ranges.len() as u32).map(notes_key).collect();
                self.runner().keep_notes(&keys, notes).await?;
                ranges.into_iter().map(|(range, _)| range).collect()
            }
            None => windows
                .iter()
                .map(|&(from, to)| PlannedRange {
                    from,
                    to,
                    bytes: None,
                })
                .collect(),
        };
        let (tenant, id) = (&record.tenant_id, &record.id);
        let recorded = (self.imports)
            .plan_ranges(tenant, id, rows, &ranges, Utc::now())
            .await;
        let ours = ranges.iter().filter_map(|r| r.bytes.as_ref());
        let ours: Vec<String> = ours.map(|b| b.notes.clone()).collect();
        if let Ok(true) = recorded {
            // As planned now (the job's copy predates the plan).
            return match self.imports.get(tenant, id).await? {
                Some(record) => self.resume_plan(&record).await,
                None => Ok(JobOutcome::Skipped("no such import")),
            };
        }
        // Decided by what the store holds: a transaction can be recorded and still answer
        // with an error, and another delivery of this job may have recorded its own plan.
        let Some(now) = self.imports.get(tenant, id).await? else {
            return Ok(JobOutcome::Skipped("no such import"));
        };
        if now.status != ImportStatus::Committing {
            self.runner().forget_notes(ours).await;
            return Ok(ended_elsewhere());
        }
        if now.ranges.is_none() {
            // Nothing recorded: the retry plans afresh, with notes of its own.
            self.runner().forget_notes(ours).await;
            return Err(match recorded {
                Err(e) => e.into(),
                Ok(_) => internal("the plan was not recorded"),
            });
        }
        if notes_of(&self.imports.ranges(tenant, id).await?) != ours {
            self.runner().forget_notes(ours).await;
        }
        self.resume_plan(&now).await
    }

    /// Queues the ranges not done yet, or completes the import when all are.
    async fn resume_plan(&self, record: &ImportRecord) -> Result<JobOutcome, StoredImportError> {
        let ranges = self.imports.ranges(&record.tenant_id, &record.id).await?;
        let now = Utc::now();
        // A range a live worker holds keeps its one job; queued again, the copy would come
        // back every few minutes until it was dead-lettered.
        let open: Vec<OutgoingMessage> = ranges
            .iter()
            .filter(|r| !r.done && !r.leased(now))
            .map(|r| {
                let mut job = ImportJob::new(record.tenant_id.clone(), record.id.clone());
                job.range = Some(r.index);
                job.message()
            })
            .collect();
        if open.is_empty() {
            if ranges.iter().any(|r| !r.done && r.leased(now)) {
                return Ok(JobOutcome::Skipped("every open range is running"));
            }
            if !all_done(record, &ranges) {
                return Err(internal("the import's ranges are missing"));
            }
            return self.merge_ranges(record, ranges).await;
        }
        for chunk in open.chunks(MAX_SEND_BATCH) {
            self.queue
                .send_batch(chunk.to_vec())
                .await
                .map_err(queue_error)?;
        }
        Ok(JobOutcome::Planned {
            ranges: ranges.len() as u32,
        })
    }

    async fn run_range(
        &self,
        record: &ImportRecord,
        index: u32,
        stop_at: Option<Instant>,
    ) -> Result<JobOutcome, StoredImportError> {
        let (tenant, id) = (&record.tenant_id, &record.id);
        let Some(range) = self.imports.range(tenant, id, index).await? else {
            return Ok(JobOutcome::Skipped("no such range"));
        };
        if range.done {
            // Redelivered after finishing its range: the merge may be what failed.
            return self.merge_if_all_done(record, index).await;
        }
        let (lease, from) = match self.lease(record, Part::Range(index)).await? {
            Ok(granted) => granted,
            Err(outcome) => return Ok(outcome),
        };
        let saver = LeasedCheckpoints {
            imports: &self.imports,
            record,
            lease: &lease,
        };
        let resumable = Resumable {
            from,
            window: Some((range.from, range.to)),
            stop_at,
            checkpoints: &saver,
        };
        let run = self.runner().run_range(record, &range, resumable).await;
        let report = match run {
            Ok(Run::Finished(report)) => report,
            Ok(Run::Paused(at)) => return self.pause(record, &lease, at).await,
            Err(e) => return self.fail_or_retry(record, &lease, e).await,
        };
        match (self.imports)
            .finish_range(tenant, id, &range, &lease, &report)
            .await
        {
            Ok(_) | Err(RepoError::Conflict(_)) => self.merge_if_all_done(record, index).await,
            Err(e) => Err(e.into()),
        }
    }

    /// Completes the import if every range is done; a failure here is retried with the job of
    /// the range that finished last.
    async fn merge_if_all_done(
        &self,
        record: &ImportRecord,
        index: u32,
    ) -> Result<JobOutcome, StoredImportError> {
        let ranges = self.imports.ranges(&record.tenant_id, &record.id).await?;
        if all_done(record, &ranges) {
            self.merge_ranges(record, ranges).await
        } else {
            Ok(JobOutcome::RangeDone { index })
        }
    }

    /// Completes a fanned-out import: one report and one error file, as one run would make.
    /// Two ranges finishing at once may both get here; both write the same result, which is
    /// why the ranges' error files are kept rather than deleted after merging.
    async fn merge_ranges(
        &self,
        record: &ImportRecord,
        ranges: Vec<ImportRange>,
    ) -> Result<JobOutcome, StoredImportError> {
        let mut report = ImportReport::default();
        let mut errors = tempfile::NamedTempFile::new().map_err(internal)?;
        let mut merged = RefusedRowsCsv::new(errors.as_file_mut());
        for (at, range) in ranges.iter().enumerate() {
            let Some(part) = range.report.clone() else {
                return Ok(JobOutcome::Skipped("a range is not done"));
            };
            report.absorb(part);
            let key = range_errors_key(record, range.index);
            let bytes = self.blobs.get(&key).await?.ok_or_else(|| {
                internal(format!(
                    "the error file of range {} is missing",
                    range.index
                ))
            })?;
            let delimiter = delimiter_of(&bytes);
            // Refused rows hold cells past the header's columns too.
            let mut rows = csv::ReaderBuilder::new()
                .flexible(true)
                .delimiter(delimiter)
                .from_reader(bytes.as_ref());
            // Every range's file starts with the same header row.
            if at == 0 {
                let headers = rows.headers().map_err(internal)?;
                let own: Vec<String> = headers.iter().skip(2).map(str::to_owned).collect();
                merged.header(&own, char::from(delimiter));
            }
            for row in rows.records() {
                merged.copy(&row.map_err(internal)?);
            }
        }
        // As the whole file turned out: a file read as ASCII at first can turn out Windows-1252
        // further on, which the last range knows (it starts past that byte, or reads up to
        // it); and ranges agree, but for rows in another encoding, which only their range met.
        let mut labels = ranges.iter().filter_map(|r| r.report.as_ref());
        let mixed = labels.clone().find(|r| r.encoding.ends_with(" rows"));
        if let Some(whole) = mixed.or(labels.next_back()) {
            report.encoding.clone_from(&whole.encoding);
        }
        merged.finish().map_err(internal)?;
        let file = tokio::fs::File::open(errors.path())
            .await
            .map_err(internal)?;
        (self.blobs)
            .put_stream(&errors_key(record), Box::pin(file), "text/csv")
            .await?;
        let status = ImportStatus::Completed;
        self.report_drop(record, status, None, Some(&report))
            .await?;
        let ended = (self.end(record, ImportStatus::Committing, status, &report)).await?;
        self.runner().forget_all_notes(record).await;
        Ok(ended)
    }

    async fn pause(
        &self,
        record: &ImportRecord,
        lease: &Lease,
        at: Checkpoint,
    ) -> Result<JobOutcome, StoredImportError> {
        let (tenant, id) = (&record.tenant_id, &record.id);
        self.imports.release_lease(tenant, id, lease).await?;
        let mut job = ImportJob::new(tenant.clone(), id.clone());
        job.dry_run = record.status == ImportStatus::Checking;
        if let Part::Range(index) = lease.part {
            job.range = Some(index);
        }
        enqueue(&*self.queue, &job).await.map_err(queue_error)?;
        Ok(JobOutcome::Paused {
            rows_written: at.rows,
        })
    }

    /// A file that cannot be imported fails the import; a lost lease means another worker
    /// has it; anything else is retried.
    async fn fail_or_retry(
        &self,
        record: &ImportRecord,
        lease: &Lease,
        error: StoredImportError,
    ) -> Result<JobOutcome, StoredImportError> {
        match error {
            e if is_refusal(&e) => self.refuse(record, &e.to_string()).await,
            StoredImportError::Repo(RepoError::Conflict(_)) => {
                Ok(JobOutcome::Skipped("the lease passed to another worker"))
            }
            other => {
                // Let the retry start at once rather than after the lease expires.
                let (tenant, id) = (&record.tenant_id, &record.id);
                let _ = self.imports.release_lease(tenant, id, lease).await;
                Err(other)
            }
        }
    }

    async fn refuse(
        &self,
        record: &ImportRecord,
        reason: &str,
    ) -> Result<JobOutcome, StoredImportError> {
        match self.runner().fail(record, reason).await {
            Ok(()) => {}
            Err(RepoError::Conflict(_)) => return Ok(ended_elsewhere()),
            Err(e) => return Err(e.into()),
        }
        // No range will run: their notes go.
        self.runner().forget_all_notes(record).await;
        self.report_drop(record, ImportStatus::Failed, Some(reason), None)
            .await?;
        Ok(JobOutcome::Finished(ImportStatus::Failed))
    }

    /// A drop-folder import's outcome also goes to the report file beside it.
    async fn report_drop(
        &self,
        record: &ImportRecord,
        status: ImportStatus,
        failure: Option<&str>,
        report: Option<&ImportReport>,
    ) -> Result<(), StoredImportError> {
        if record.source == ImportSource::DropFolder {
            write_report(&*self.blobs, record, status, failure, report).await?;
            self.look_again_at_dropped_file(record).await;
        }
        Ok(())
    }

    /// A sidecar put while the import ran had its notification refused as busy; S3 retries
    /// it for a few minutes only, and an import can run far longer. So, as the import ends,
    /// its file is looked at again: a sidecar put or changed meanwhile imports it again, with
    /// the sidecar (the drop folder's own rules decide). Best effort: the notification's
    /// retries, or the local watcher, may do it too, and the drop lease lets only one through.
    async fn look_again_at_dropped_file(&self, record: &ImportRecord) {
        let table = self.imports.table();
        let folder = DropFolder {
            tenants: Tenants::new(table.clone()),
            contacts: self.contacts.clone(),
            imports: self.imports.clone(),
            blobs: self.blobs.clone(),
            jobs: self.queue.clone(),
            audit: AuditLog::new(table),
        };
        match folder.process(&record.blob_key).await {
            Ok(DropOutcome::Queued { import_id }) => {
                tracing::info!(%import_id, "a sidecar put during the import imports the file again");
            }
            Ok(_) => {}
            // A notification of the file (or the local watcher) is at it: it decides.
            Err(StoredImportError::Busy(why)) => {
                tracing::debug!(why, key = %record.blob_key, "the dropped file is being looked at");
            }
            Err(error) => {
                tracing::warn!(%error, key = %record.blob_key, "the dropped file was not looked at again");
            }
        }
    }

    /// The local host's consumer: takes jobs one at a time until the task is dropped, giving
    /// each run `run_for` before it pauses (as a Lambda would at its deadline). A job that
    /// fails is retried after `retry_delay`; the dead-letter queue takes it after the queue's
    /// receive limit.
    pub async fn consume(self, run_for: Duration, retry_delay: Duration) {
        loop {
            let deliveries = match self.queue.receive(1, Duration::from_secs(20)).await {
                Ok(d) => d,
                Err(e) => {
                    tracing::warn!(error = %e, "receiving import jobs failed");
                    tokio::time::sleep(retry_delay).await;
                    continue;
                }
            };
            for delivery in deliveries {
                let stop_at = Instant::now() + run_for;
                self.deliver(&delivery.body, &delivery.receipt, stop_at, retry_delay)
                    .await;
            }
        }
    }

    async fn deliver(&self, body: &str, receipt: &str, stop_at: Instant, retry_delay: Duration) {
        let job: ImportJob = match serde_json::from_str(body) {
            Ok(job) => job,
            Err(e) => {
                // Retrying cannot fix it; the dead-letter queue keeps it for a person.
                tracing::error!(error = %e, body, "unreadable import job");
                let _ = self.queue.retry_after(receipt, retry_delay).await;
                return;
            }
        };
        let span = tracing::info_span!("import_job", tenant_id = %job.tenant_id, import_id = %job.import_id, range = ?job.range);
        let handled = self.handle(&job, Some(stop_at)).instrument(span).await;
        let done = match handled {
            Ok(JobOutcome::Busy { retry_in }) => {
                tracing::info!("import job busy elsewhere; it will come back");
                self.queue.retry_after(receipt, retry_in).await
            }
            Ok(outcome) => {
                tracing::info!(?outcome, "import job handled");
                self.queue.ack(receipt).await
            }
            Err(e) => {
                tracing::warn!(error = %e, "import job failed; it will be retried");
                self.queue.retry_after(receipt, retry_delay).await
            }
        };
        if let Err(e) = done {
            tracing::warn!(error = %e, "settling an import job failed");
        }
    }
}

/// How long a job whose run failed (storage unavailable, throttled) waits before its next
/// delivery, by how many times it was delivered: 30 s, doubling up to 15 minutes. The queue
/// dead-letters a job after 10 deliveries, so a failing job is retried for about 75 minutes
/// rather than 10 times 16 (the visibility timeout), and a short throttle costs seconds.
pub fn retry_delay_after_failure(deliveries: u32) -> Duration {
    let doublings = deliveries.saturating_sub(1).min(5);
    Duration::from_secs(30 << doublings).min(Duration::from_secs(15 * 60))
}

/// `rows` data rows as consecutive `(from, to)` windows of `step` rows, or of a multiple of
/// `step` when that would make over [`MAX_RANGES`] of them (the plan knows where every
/// `step`th row ends).
pub fn split(rows: u64, step: u64) -> Vec<(u64, u64)> {
    let step = step.max(1);
    let per_range = rows.div_ceil(MAX_RANGES as u64).div_ceil(step).max(1) * step;
    (0..rows)
        .step_by(per_range as usize)
        .map(|from| (from, (from + per_range).min(rows)))
        .collect()
}

/// The ranges of `windows` with their bytes, each with the file row number of its last row
/// (`u64::MAX` for the last range); `None` when the file cannot be read in parts.
fn in_bytes(
    survey: &Survey,
    windows: &[(u64, u64)],
    step: u64,
    notes_key: impl Fn(u32) -> String,
) -> Option<Vec<(PlannedRange, u64)>> {
    let places = survey.places.as_ref()?;
    // The place after data row `rows` (a multiple of `step`, or 0).
    let after = |rows: u64| match rows {
        0 => Some(&places.header_end),
        n => places
            .every_step
            .get(usize::try_from(n / step).ok()?.checked_sub(1)?),
    };
    let header_end = places.header_end.offset;
    (0u32..)
        .zip(windows)
        .map(|(index, &(from, to))| {
            let start = after(from)?;
            let (end, last_row) = match to == survey.rows {
                true => (survey.bytes, u64::MAX),
                false => after(to).map(|place| (place.offset, place.row))?,
            };
            let bytes = RangeBytes {
                header_end,
                start: start.offset,
                end,
                resume: serde_json::to_value(start).ok()?,
                notes: notes_key(index),
            };
            let bytes = Some(bytes);
            Some((PlannedRange { from, to, bytes }, last_row))
        })
        .collect()
}

/// The keys of the ranges' notes.
fn notes_of(ranges: &[ImportRange]) -> Vec<String> {
    let bytes = ranges.iter().filter_map(|r| r.bytes.as_ref());
    bytes.map(|b| b.notes.clone()).collect()
}

/// The file cannot be imported (it is gone, or not a CSV we can read): no retry helps. A read
/// that broke off part-way (a reset S3 stream) is worth retrying, from the checkpoint.
fn is_refusal(error: &StoredImportError) -> bool {
    match error {
        StoredImportError::File(ImportError::Io(_)) => false,
        StoredImportError::File(_) | StoredImportError::NoFile | StoredImportError::Replaced => {
            true
        }
        _ => false,
    }
}

/// Every planned range exists and is done.
fn all_done(record: &ImportRecord, ranges: &[ImportRange]) -> bool {
    record.ranges == Some(ranges.len() as u32) && ranges.iter().all(|r| r.done)
}

fn ended_elsewhere() -> JobOutcome {
    JobOutcome::Skipped("the import was ended elsewhere")
}

fn queue_error(err: QueueError) -> StoredImportError {
    StoredImportError::Internal(format!("queueing import jobs failed: {err}"))
}

fn internal(err: impl std::fmt::Display) -> StoredImportError {
    StoredImportError::Internal(err.to_string())
}

/// Saves checkpoints under the worker's lease.
struct LeasedCheckpoints<'a> {
    imports: &'a Imports,
    record: &'a ImportRecord,
    lease: &'a Lease,
}

#[async_trait::async_trait]
impl Checkpoints for LeasedCheckpoints<'_> {
    async fn save(&self, checkpoint: &Checkpoint) -> Result<(), RepoError> {
        let (tenant, id) = (&self.record.tenant_id, &self.record.id);
        self.imports
            .checkpoint(tenant, id, self.lease, checkpoint, Utc::now())
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_job_waits_longer_each_time_up_to_fifteen_minutes() {
        let waits: Vec<u64> = (0..=12)
            .map(|n| retry_delay_after_failure(n).as_secs())
            .collect();
        assert_eq!(
            waits,
            [30, 30, 60, 120, 240, 480, 900, 900, 900, 900, 900, 900, 900]
        );
    }

    #[test]
    fn ranges_cover_every_row_once_and_stay_within_the_plan_limit() {
        assert_eq!(split(0, 10), Vec::<(u64, u64)>::new());
        assert_eq!(split(25, 10), vec![(0, 10), (10, 20), (20, 25)]);
        assert_eq!(split(10, 10), vec![(0, 10)]);
        let many = split(10_000_000, 1000);
        assert!(many.len() <= MAX_RANGES, "{}", many.len());
        assert_eq!(many.first().map(|r| r.0), Some(0));
        assert_eq!(many.last().map(|r| r.1), Some(10_000_000));
        assert!(many.windows(2).all(|w| w[0].1 == w[1].0));
    }
}
