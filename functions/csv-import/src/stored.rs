//! Running an import whose file is in blob storage and whose record is in the table: the path
//! shared by the API's dry-run and commit and by the drop folder.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use smscrm_domain::ImportId;
use smscrm_domain::import_report::ImportReport;
use smscrm_domain::ports::Blobs;
use smscrm_domain::ports::blobs::{BlobError, BlobReader};
use smscrm_import::{ConsentDeclaration, ExplicitMapping, ImportError, ImportOptions};
use smscrm_store::{
    Contacts, ImportRange, ImportRecord, ImportStatus, Imports, Outcome, RangeBytes, ReadSoFar,
    RepoError, UNFINISHED,
};

use crate::ahead::{self, Notes, Survey};
use crate::pipeline::{ImportFailure, ImportRequest, PartRead, Progress, Resumable, Run, run_from};
use crate::refused::RefusedRowsCsv;

/// How often progress is written to the record while an import runs.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

#[derive(Debug, thiserror::Error)]
pub enum StoredImportError {
    #[error("the file of this import has not been uploaded")]
    NoFile,
    #[error(transparent)]
    File(#[from] ImportError),
    #[error(transparent)]
    Repo(#[from] RepoError),
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error("the import stopped unexpectedly: {0}")]
    Internal(String),
    #[error("{REPLACED}")]
    Replaced,
    /// Someone else is doing this very work now; worth retrying later.
    #[error("{0}")]
    Busy(String),
}

const REPLACED: &str =
    "the file was replaced or deleted while it was being imported; upload it to a new import";

fn replaced() -> StoredImportError {
    StoredImportError::Replaced
}

impl From<ImportFailure> for StoredImportError {
    fn from(failure: ImportFailure) -> Self {
        match failure {
            ImportFailure::File(e) => Self::File(e),
            ImportFailure::Store(e) => Self::Repo(e),
            ImportFailure::Internal(e) => Self::Internal(e),
        }
    }
}

/// Where the full error report of an import is kept: in a `reports/` folder beside the file,
/// so that in the drop folder it is never taken for a file to import.
/// It names the import: the drop folder imports every new version of a file under its name.
pub fn errors_key(record: &ImportRecord) -> String {
    beside(&record.blob_key, &format!("{}.errors.csv", record.id))
}

/// Where the rejected rows of one range of a fanned-out commit are kept, for the last range
/// to merge into [`errors_key`].
pub fn range_errors_key(record: &ImportRecord, index: u32) -> String {
    beside(
        &record.blob_key,
        &format!("{}.errors.{index:05}.csv", record.id),
    )
}

/// Where one plan of a fanned-out commit notes the duplicate rows of one range, for its
/// worker. Each plan's notes are its own: a planning job delivered twice writes two sets,
/// and the ranges read those of the plan recorded.
pub fn range_notes_key(record: &ImportRecord, plan: &str, index: u32) -> String {
    beside(
        &record.blob_key,
        &format!("{}.{plan}.notes.{index:05}.bin", record.id),
    )
}

const NOTES_TYPE: &str = "application/octet-stream";

/// `folder/reports/file.suffix` for the file at `folder/file`. When that would not fit a file
/// name (255 bytes, the local drop folder's limit), the file's name is cut short and a digest
/// of the whole name added, so that two long names that start alike keep reports apart.
pub(crate) fn beside(blob_key: &str, suffix: &str) -> String {
    const MAX_NAME_BYTES: usize = 255;
    let (folder, file) = match blob_key.rsplit_once('/') {
        Some((folder, file)) => (format!("{folder}/reports"), file),
        None => ("reports".to_owned(), blob_key),
    };
    if file.len() + 1 + suffix.len() <= MAX_NAME_BYTES {
        return format!("{folder}/{file}.{suffix}");
    }
    use sha2::{Digest, Sha256};
    let digest: String = Sha256::digest(file.as_bytes())[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    // `~` and 16 hex digits after the cut.
    let mut end = MAX_NAME_BYTES.saturating_sub(suffix.len() + 1 + 17);
    while !file.is_char_boundary(end) {
        end -= 1;
    }
    format!("{folder}/{}~{digest}.{suffix}", &file[..end])
}

fn internal(err: impl std::fmt::Display) -> StoredImportError {
    StoredImportError::Internal(err.to_string())
}

/// The parser options an import record asks for.
pub fn options_of(record: &ImportRecord) -> Result<ImportOptions, ImportError> {
    let mut options = ImportOptions::new(record.settings.region);
    options.mapping = record
        .settings
        .mapping
        .as_deref()
        .map(ExplicitMapping::from_str)
        .transpose()?;
    options.consent = record
        .settings
        .consent_source
        .clone()
        .map(|source| ConsentDeclaration { source });
    Ok(options)
}

pub struct StoredImport<'a> {
    pub contacts: &'a Contacts,
    pub imports: &'a Imports,
    pub blobs: &'a Arc<dyn Blobs>,
}

impl StoredImport<'_> {
    /// Dry-runs an `uploaded` or `checked` import within the caller's time, keeping its full
    /// error report beside the file and its summary on the record (`checked`); `Conflict` if a
    /// commit started meanwhile.
    pub async fn dry_run(&self, record: &ImportRecord) -> Result<ImportReport, StoredImportError> {
        let from = [ImportStatus::Uploaded, ImportStatus::Checked];
        let run = match self.run_resumable(record, false, None).await {
            Ok(run) => run,
            Err(StoredImportError::File(refusal)) => {
                self.keep_refusal(record, &refusal).await?;
                return Err(StoredImportError::File(refusal));
            }
            Err(other) => return Err(other),
        };
        let Run::Finished(report) = run else {
            return Err(internal("a dry run without a deadline paused"));
        };
        self.complete(record, &from, ImportStatus::Checked, &report)
            .await?;
        Ok(report)
    }

    /// Runs the whole file (a dry run unless `commit`), possibly resuming, pausing and saving
    /// checkpoints; once it has run to the end, its rejected rows are at [`errors_key`]. The
    /// caller records the outcome ([`StoredImport::complete`]).
    pub async fn run_resumable(
        &self,
        record: &ImportRecord,
        commit: bool,
        resumable: Option<Resumable<'_>>,
    ) -> Result<Run, StoredImportError> {
        let progress = Progress::default();
        let ticker = self.track_progress(record, &progress);
        let errors = errors_key(record);
        let result = self
            .execute(record, commit, resumable, &progress, &errors, None)
            .await;
        // Before the caller records the outcome, which no progress write may land after.
        ticker.stop().await;
        result
    }

    /// Commits one range of a fanned-out import (its rows per `resumable.window`), keeping the
    /// range's rejected rows at [`range_errors_key`]. The import record is left to whoever
    /// finishes the last range.
    pub async fn run_range(
        &self,
        record: &ImportRecord,
        range: &ImportRange,
        resumable: Resumable<'_>,
    ) -> Result<Run, StoredImportError> {
        let errors = range_errors_key(record, range.index);
        let part = range.bytes.as_ref();
        let progress = Progress::default();
        self.execute(record, true, Some(resumable), &progress, &errors, part)
            .await
    }

    /// Reads the whole file once for the plan of a fanned-out commit ([`Survey`]); `None`
    /// when it has more than `max_rows` data rows.
    pub(crate) async fn survey(
        &self,
        record: &ImportRecord,
        step: u64,
        max_rows: u64,
    ) -> Result<Option<Survey>, StoredImportError> {
        let version = self.version_to_read(record).await?;
        let reader = self
            .blobs
            .open_version(&record.blob_key, &version)
            .await?
            .ok_or_else(replaced)?;
        let input = Box::new(tokio_util::io::SyncIoBridge::new(reader));
        Ok(ahead::survey(input, &options_of(record)?, step, max_rows).await?)
    }

    /// Stores each range's notes ([`Survey::notes_by_range`]) under its key, for its worker.
    pub(crate) async fn keep_notes(
        &self,
        keys: &[String],
        notes: Vec<std::fs::File>,
    ) -> Result<(), StoredImportError> {
        for (key, file) in keys.iter().zip(notes) {
            let file = Box::pin(tokio::fs::File::from_std(file));
            self.blobs.put_stream(key, file, NOTES_TYPE).await?;
        }
        Ok(())
    }

    /// Deletes every notes file of the import, whichever planning attempt wrote it (one that
    /// failed part-way leaves its own), once no range will read them. A failure to list them
    /// leaves them.
    pub(crate) async fn forget_all_notes(&self, record: &ImportRecord) {
        let marker = range_notes_key(record, "", 0);
        let Some((folder, _)) = marker.rsplit_once('/') else {
            return;
        };
        let of_this_import = format!("{}.", record.id);
        match self.blobs.list(&format!("{folder}/")).await {
            Ok(keys) => {
                let notes = keys.into_iter().filter(|key| {
                    let name = key.rsplit_once('/').map_or(key.as_str(), |(_, name)| name);
                    name.contains(&of_this_import) && name.contains(".notes.")
                });
                self.forget_notes(notes.collect()).await;
            }
            Err(e) => tracing::warn!(error = %e, folder, "listing the ranges' notes failed"),
        }
    }

    /// Deletes notes no range will read: a plan's that was not recorded, say.
    pub(crate) async fn forget_notes(&self, keys: Vec<String>) {
        for key in keys {
            if let Err(e) = self.blobs.delete(&key).await {
                tracing::warn!(error = %e, key, "deleting a range's notes failed");
            }
        }
    }

    /// The part of the file a range reads: the header row, then the range's bytes; and the
    /// range's notes, copied to a temporary file first (a stream left idle while the range
    /// writes could be cut off).
    async fn open_part(
        &self,
        record: &ImportRecord,
        version: &str,
        bytes: &RangeBytes,
    ) -> Result<(Box<dyn std::io::Read + Send>, PartRead), StoredImportError> {
        use tokio::io::AsyncReadExt as _;
        let key = &record.blob_key;
        let header = self.blobs.open_range(key, version, 0, bytes.header_end);
        let header = header.await?.ok_or_else(replaced)?;
        let rest = (self.blobs).open_range(key, version, bytes.start, bytes.end);
        let rest = rest.await?.ok_or_else(replaced)?;
        let input = Box::new(tokio_util::io::SyncIoBridge::new(header.chain(rest)));
        let resume = serde_json::from_value(bytes.resume.clone()).map_err(internal)?;
        let mut stored = (self.blobs.open(&bytes.notes).await?)
            .ok_or_else(|| internal(format!("the range's notes are missing: {}", bytes.notes)))?;
        let mut copy = tokio::fs::File::from_std(tempfile::tempfile().map_err(internal)?);
        tokio::io::copy(&mut stored, &mut copy)
            .await
            .map_err(internal)?;
        let mut copy = copy.into_std().await;
        std::io::Seek::rewind(&mut copy).map_err(internal)?;
        let notes = Notes::read_from(copy);
        Ok((input, PartRead { resume, notes }))
    }

    /// Records the end of a run that started from one of `from`: progress, status, report.
    pub async fn complete(
        &self,
        record: &ImportRecord,
        from: &[ImportStatus],
        status: ImportStatus,
        report: &ImportReport,
    ) -> Result<(), StoredImportError> {
        let (tenant, id) = (&record.tenant_id, &record.id);
        let bytes = record.bytes_total.unwrap_or(0);
        let read = ReadSoFar {
            bytes_checked: bytes,
            bytes_done: bytes,
            rows_done: report.rows,
            rows_total: Some(report.rows),
        };
        let outcome = Outcome {
            status,
            report: Some(report),
            failure: None,
            read: Some(read),
        };
        self.imports
            .finish(tenant, id, from, outcome, Utc::now())
            .await?;
        Ok(())
    }

    /// Runs the file through the pipeline; once it has run to the end, every rejected row is
    /// in a CSV at `errors_to`.
    async fn execute(
        &self,
        record: &ImportRecord,
        commit: bool,
        resumable: Option<Resumable<'_>>,
        progress: &Progress,
        errors_to: &str,
        part: Option<&RangeBytes>,
    ) -> Result<Run, StoredImportError> {
        // Both reads (when there are two) read this version, whatever is uploaded meanwhile.
        let version = self.version_to_read(record).await?;
        let (input, phones_from, part) = match part {
            Some(bytes) => {
                let (input, part) = self.open_part(record, &version, bytes).await?;
                (input, None, Some(part))
            }
            None => {
                let (input, phones_from) = self.open_whole(record, version).await?;
                (input, phones_from, None)
            }
        };
        let mut errors_file = tempfile::NamedTempFile::new().map_err(internal)?;
        let mut refused = RefusedRowsCsv::new(errors_file.as_file_mut());
        let request = ImportRequest {
            tenant: record.tenant_id.clone(),
            options: options_of(record)?,
            commit,
            phones_from,
        };
        let result = run_from(
            self.contacts,
            input,
            request,
            progress,
            resumable,
            part,
            &mut refused,
        )
        .await;
        let written = refused.finish();
        let run = result?;
        if let Run::Finished(_) = run {
            // A row the error report lost would be a row the user is never told about.
            written.map_err(|e| internal(format!("writing the error report failed: {e}")))?;
            let file = tokio::fs::File::open(errors_file.path())
                .await
                .map_err(internal)?;
            self.blobs
                .put_stream(errors_to, Box::pin(file), "text/csv")
                .await?;
        }
        Ok(run)
    }

    /// The whole file, read twice: first by the pass ahead, then by the main pass.
    async fn open_whole(
        &self,
        record: &ImportRecord,
        version: String,
    ) -> Result<
        (
            Box<dyn std::io::Read + Send>,
            Option<Box<dyn std::io::Read + Send>>,
        ),
        StoredImportError,
    > {
        let first = self
            .blobs
            .open_version(&record.blob_key, &version)
            .await?
            .ok_or_else(replaced)?;
        let first: Box<dyn std::io::Read + Send> =
            Box::new(tokio_util::io::SyncIoBridge::new(first));
        // The first read is the pass ahead's: it keeps memory flat (duplicates are found on
        // disk), gives a first row a later row's opt-out, and, on the embedded store, claims
        // phones in order. The main read starts when the main pass does: an S3 response left
        // unread while the pass ahead runs (seconds to minutes) could be cut off.
        let main = OpenOnRead::new(self.blobs.clone(), record.blob_key.clone(), version);
        Ok((Box::new(main), Some(first)))
    }

    /// The version of the file a run reads: the one its import pinned (a queued run's, see
    /// `jobs`), else the current one.
    async fn version_to_read(&self, record: &ImportRecord) -> Result<String, StoredImportError> {
        match &record.file_tag {
            Some(pinned) => Ok(pinned.clone()),
            None => Ok(self
                .blobs
                .stat(&record.blob_key)
                .await?
                .ok_or(StoredImportError::NoFile)?
                .tag),
        }
    }

    /// Reads just enough of the file to know it can be imported (encoding, delimiter, a
    /// header with a phone column): what a commit checks before it is queued, so a file that
    /// cannot be imported is refused at once rather than by the worker later.
    pub async fn preflight(&self, record: &ImportRecord) -> Result<(), StoredImportError> {
        let reader = self
            .blobs
            .open(&record.blob_key)
            .await?
            .ok_or(StoredImportError::NoFile)?;
        let input = tokio_util::io::SyncIoBridge::new(reader);
        let options = options_of(record)?;
        tokio::task::spawn_blocking(move || smscrm_import::open(input, &options).map(drop))
            .await
            .map_err(|e| StoredImportError::Internal(e.to_string()))?
            .map_err(StoredImportError::File)
    }

    /// Keeps on the record why its file was refused before any row was read (no phone
    /// column, a mapping naming a missing column), as a queued dry run keeps it: whoever looks
    /// at the import later sees why it is not checked. It stays `uploaded`, so a new upload
    /// or new settings can mend it.
    pub async fn keep_refusal(
        &self,
        record: &ImportRecord,
        refusal: &ImportError,
    ) -> Result<(), RepoError> {
        let reason = refusal.to_string();
        let outcome = Outcome {
            status: ImportStatus::Uploaded,
            report: None,
            failure: Some(&reason),
            read: None,
        };
        let from = [ImportStatus::Uploaded, ImportStatus::Checked];
        let (tenant, id) = (&record.tenant_id, &record.id);
        (self.imports)
            .finish(tenant, id, &from, outcome, Utc::now())
            .await
            .map(drop)
    }

    /// Marks the import failed with a reason a person can read, unless it has finished.
    pub async fn fail(&self, record: &ImportRecord, reason: &str) -> Result<(), RepoError> {
        let outcome = Outcome {
            status: ImportStatus::Failed,
            report: None,
            failure: Some(reason),
            read: None,
        };
        let (tenant, id) = (&record.tenant_id, &record.id);
        self.imports
            .finish(tenant, id, &UNFINISHED, outcome, Utc::now())
            .await
            .map(drop)
    }

    fn track_progress(&self, record: &ImportRecord, progress: &Progress) -> Ticker {
        let (imports, progress) = (self.imports.clone(), progress.clone());
        let (tenant, id): (_, ImportId) = (record.tenant_id.clone(), record.id.clone());
        let (stop, mut stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(PROGRESS_EVERY) => {}
                    _ = &mut stopped => return,
                }
                let read = ReadSoFar {
                    bytes_checked: progress.bytes_read_ahead(),
                    bytes_done: progress.bytes_read(),
                    rows_done: progress.rows_read(),
                    rows_total: progress.rows_in_file(),
                };
                let _ = imports.progress(&tenant, &id, read).await;
            }
        });
        Ticker { stop, task }
    }
}

/// Writes a run's progress to its record every [`PROGRESS_EVERY`] until stopped.
struct Ticker {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl Ticker {
    /// Stops it, waiting for a write under way to end.
    async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// A blob opened by its first read. Reads come from the pipeline's blocking parse thread,
/// which may wait on the runtime.
struct OpenOnRead {
    blobs: Arc<dyn Blobs>,
    key: String,
    version: String,
    handle: tokio::runtime::Handle,
    opened: Option<tokio_util::io::SyncIoBridge<BlobReader>>,
}

impl OpenOnRead {
    fn new(blobs: Arc<dyn Blobs>, key: String, version: String) -> Self {
        Self {
            blobs,
            key,
            version,
            handle: tokio::runtime::Handle::current(),
            opened: None,
        }
    }
}

impl std::io::Read for OpenOnRead {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let opened = match &mut self.opened {
            Some(opened) => opened,
            None => {
                let reader = self
                    .handle
                    .block_on(self.blobs.open_version(&self.key, &self.version))
                    .map_err(std::io::Error::other)?
                    .ok_or_else(|| std::io::Error::other(REPLACED))?;
                let bridge =
                    tokio_util::io::SyncIoBridge::new_with_handle(reader, self.handle.clone());
                self.opened.insert(bridge)
            }
        };
        opened.read(buf)
    }
}

#[cfg(test)]
mod beside_tests {
    use super::beside;

    #[test]
    fn long_names_that_start_alike_keep_their_reports_apart() {
        assert_eq!(
            beside("t/imports/a.csv", "json"),
            "t/imports/reports/a.csv.json"
        );
        let stem = "é".repeat(124);
        let (one, two) = (
            format!("t/imports/{stem}_v1.csv"),
            format!("t/imports/{stem}_v2.csv"),
        );
        let (a, b) = (beside(&one, "json"), beside(&two, "json"));
        assert_ne!(a, b);
        for key in [&a, &b] {
            let name = key.rsplit('/').next().unwrap();
            assert!(name.len() <= 255 && name.ends_with(".json"), "{name}");
        }
        assert_eq!(a, beside(&one, "json"), "the same name, the same report");
    }
}
