//! Import jobs: commits run off the request path, one queue message per commit.
//!
//! The API and the drop folder move an import to `committing` and enqueue an [`ImportJob`];
//! a worker (the `import-worker` Lambda on SQS, a task of `smscrm serve` locally) runs it.
//! A commit survives its worker:
//! - the worker holds a lease on the import record, so a redelivered message never runs a
//!   commit twice at once;
//! - after every batch it saves a checkpoint (rows written, counts) and extends the lease;
//! - near its deadline (Lambda's 15 minutes) it pauses and enqueues a continuation;
//! - if it dies, the queue redelivers the message once its visibility timeout passes, and the
//!   next worker takes the lease when it expires and resumes from the checkpoint.
//!
//! Resuming parses the file again from the start (parsing runs ~50x faster than writing) so
//! the report and the in-file duplicate check are exactly those of an uninterrupted run, and
//! writes only the rows after the checkpoint.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde::{Deserialize, Serialize};
use smscrm_domain::ports::{Blobs, OutgoingMessage, Queue, QueueError};
use smscrm_domain::{ImportId, TenantId};
use smscrm_store::{Checkpoint, Contacts, ImportSource, ImportStatus, Imports, RepoError};
use tokio::time::Instant;
use tracing::Instrument as _;

use crate::drop_folder::write_report;
use crate::pipeline::{Checkpoints, Resumable, Run};
use crate::stored::{StoredImport, StoredImportError};

/// How long a worker's claim on an import lasts without a checkpoint renewing it. Far longer
/// than a batch takes, short enough that a dead worker's import resumes within minutes.
const LEASE: chrono::Duration = chrono::Duration::minutes(5);

/// The message body: which import to commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportJob {
    pub tenant_id: TenantId,
    pub import_id: ImportId,
}

impl ImportJob {
    pub fn message(&self) -> OutgoingMessage {
        // Serializing two ids cannot fail.
        OutgoingMessage::new(serde_json::to_string(self).unwrap_or_default())
    }
}

/// Puts a commit on the queue.
pub async fn enqueue(queue: &dyn Queue, job: &ImportJob) -> Result<(), QueueError> {
    queue.send_batch(vec![job.message()]).await
}

/// What handling one job did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobOutcome {
    /// The import ended: `completed`, or `failed` for a file that cannot be imported.
    Finished(ImportStatus),
    /// The deadline came; a continuation is on the queue.
    Paused { rows_written: u64 },
    /// Nothing to do: the import is gone, already finished, or another worker runs it.
    Skipped(&'static str),
}

#[derive(Clone)]
pub struct ImportWorker {
    pub contacts: Contacts,
    pub imports: Imports,
    pub blobs: Arc<dyn Blobs>,
    pub queue: Arc<dyn Queue>,
}

impl ImportWorker {
    /// Runs (or resumes) the job's commit, pausing at `stop_at`. An `Err` is worth retrying
    /// later (storage unavailable): the import stays `committing` with its checkpoint, and
    /// the caller lets the queue deliver the message again.
    pub async fn handle(
        &self,
        job: &ImportJob,
        stop_at: Option<Instant>,
    ) -> Result<JobOutcome, StoredImportError> {
        let (tenant, id) = (&job.tenant_id, &job.import_id);
        match self.imports.get(tenant, id).await? {
            None => return Ok(JobOutcome::Skipped("no such import")),
            Some(r) if r.status != ImportStatus::Committing => {
                return Ok(JobOutcome::Skipped("the import is not committing"));
            }
            Some(_) => {}
        }
        let owner = ulid::Ulid::new().to_string();
        let record = match self
            .imports
            .acquire_lease(tenant, id, &owner, Utc::now(), LEASE)
            .await
        {
            Ok(record) => record,
            Err(RepoError::Conflict(_)) => {
                return Ok(JobOutcome::Skipped("another worker runs the import"));
            }
            Err(e) => return Err(e.into()),
        };
        let lease = LeasedCheckpoints {
            imports: &self.imports,
            tenant,
            id,
            owner: &owner,
        };
        let runner = StoredImport {
            contacts: &self.contacts,
            imports: &self.imports,
            blobs: &self.blobs,
        };
        let resumable = Resumable {
            from: record.checkpoint,
            stop_at,
            checkpoints: &lease,
        };
        match runner.run_resumable(&record, true, Some(resumable)).await {
            Ok(Run::Finished(report)) => {
                if record.source == ImportSource::DropFolder {
                    let status = ImportStatus::Completed;
                    write_report(&*self.blobs, &record, status, None, Some(&report)).await?;
                }
                Ok(JobOutcome::Finished(ImportStatus::Completed))
            }
            Ok(Run::Paused(at)) => {
                self.imports.release_lease(tenant, id, &owner).await?;
                enqueue(&*self.queue, job).await.map_err(queue_error)?;
                Ok(JobOutcome::Paused {
                    rows_written: at.rows,
                })
            }
            Err(StoredImportError::File(e)) => {
                let reason = e.to_string();
                runner.fail(&record, &reason).await?;
                if record.source == ImportSource::DropFolder {
                    let status = ImportStatus::Failed;
                    write_report(&*self.blobs, &record, status, Some(&reason), None).await?;
                }
                Ok(JobOutcome::Finished(ImportStatus::Failed))
            }
            Err(StoredImportError::Repo(RepoError::Conflict(_))) => {
                Ok(JobOutcome::Skipped("the lease passed to another worker"))
            }
            Err(other) => {
                // Let the retry start at once rather than after the lease expires.
                let _ = self.imports.release_lease(tenant, id, &owner).await;
                Err(other)
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
        let span = tracing::info_span!("import_job", tenant_id = %job.tenant_id, import_id = %job.import_id);
        let handled = self.handle(&job, Some(stop_at)).instrument(span).await;
        let done = match handled {
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

fn queue_error(err: QueueError) -> StoredImportError {
    StoredImportError::Internal(format!("queueing the import's continuation failed: {err}"))
}

/// Saves checkpoints under the worker's lease.
struct LeasedCheckpoints<'a> {
    imports: &'a Imports,
    tenant: &'a TenantId,
    id: &'a ImportId,
    owner: &'a str,
}

#[async_trait::async_trait]
impl Checkpoints for LeasedCheckpoints<'_> {
    async fn save(&self, checkpoint: &Checkpoint) -> Result<(), RepoError> {
        self.imports
            .checkpoint(
                self.tenant,
                self.id,
                self.owner,
                checkpoint,
                Utc::now(),
                LEASE,
            )
            .await
    }
}
