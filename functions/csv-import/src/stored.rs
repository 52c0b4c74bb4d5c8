//! Running an import whose file is in blob storage and whose record is in the table: the path
//! shared by the API's dry-run and commit and by the drop folder.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use smscrm_domain::ImportId;
use smscrm_domain::import_report::ImportReport;
use smscrm_domain::ports::Blobs;
use smscrm_domain::ports::blobs::BlobError;
use smscrm_import::{ConsentDeclaration, ExplicitMapping, ImportError, ImportOptions};
use smscrm_store::{Contacts, ImportRecord, ImportStatus, Imports, RepoError};

use crate::pipeline::{ImportFailure, ImportRequest, Progress, Resumable, Run, run_resumable};

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

/// Where the full error report of an import is kept.
pub fn errors_key(record: &ImportRecord) -> String {
    format!("{}.errors.csv", record.blob_key)
}

/// Where the rejected rows of one range of a fanned-out commit are kept until the last range
/// merges them into [`errors_key`].
pub fn range_errors_key(record: &ImportRecord, index: u32) -> String {
    format!("{}.errors.{index:05}.csv", record.blob_key)
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
    /// Runs the import (a dry run unless `commit`), keeps its full error report beside the file
    /// and its summary on the record, and returns the report. The caller has already moved the
    /// record to the status it runs under.
    pub async fn run(
        &self,
        record: &ImportRecord,
        commit: bool,
    ) -> Result<ImportReport, StoredImportError> {
        match self.run_resumable(record, commit, None).await? {
            Run::Finished(report) => Ok(report),
            Run::Paused(_) => Err(StoredImportError::Internal(
                "an import without a deadline paused".into(),
            )),
        }
    }

    /// [`StoredImport::run`] for a commit that may span several workers: the record is
    /// finished only when the whole file is written.
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
            .execute(record, commit, resumable, &progress, &errors)
            .await;
        ticker.abort();
        let report = match result? {
            Run::Finished(report) => report,
            paused @ Run::Paused(_) => return Ok(paused),
        };
        let status = if commit {
            ImportStatus::Completed
        } else {
            ImportStatus::Checked
        };
        self.complete(record, status, &report, progress.bytes_read())
            .await?;
        Ok(Run::Finished(report))
    }

    /// Commits one range of a fanned-out import (its rows per `resumable.window`), keeping the
    /// range's rejected rows at [`range_errors_key`]. The import record is left to whoever
    /// finishes the last range.
    pub async fn run_range(
        &self,
        record: &ImportRecord,
        index: u32,
        resumable: Resumable<'_>,
    ) -> Result<Run, StoredImportError> {
        let errors = range_errors_key(record, index);
        self.execute(record, true, Some(resumable), &Progress::default(), &errors)
            .await
    }

    /// Records the end of an import: its progress, status and report.
    pub async fn complete(
        &self,
        record: &ImportRecord,
        status: ImportStatus,
        report: &ImportReport,
        bytes_done: u64,
    ) -> Result<(), StoredImportError> {
        let (tenant, id) = (&record.tenant_id, &record.id);
        self.imports
            .progress(tenant, id, bytes_done, report.rows)
            .await?;
        self.imports
            .finish(tenant, id, status, Some(report), None, Utc::now())
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
    ) -> Result<Run, StoredImportError> {
        let reader = self
            .blobs
            .open(&record.blob_key)
            .await?
            .ok_or(StoredImportError::NoFile)?;
        let input = tokio_util::io::SyncIoBridge::new(reader);
        let mut errors_file = tempfile::NamedTempFile::new().map_err(internal)?;
        let mut errors_csv = csv::Writer::from_writer(errors_file.as_file_mut());
        let _ = errors_csv.write_record(["row", "reason"]);
        let request = ImportRequest {
            tenant: record.tenant_id.clone(),
            options: options_of(record)?,
            commit,
        };
        let result = run_resumable(
            self.contacts,
            input,
            request,
            progress,
            resumable,
            |error| {
                let _ = errors_csv.write_record(crate::error_record(error));
            },
        )
        .await;
        let flushed = errors_csv.flush();
        drop(errors_csv);
        let run = result?;
        if let Run::Finished(_) = run {
            flushed.map_err(internal)?;
            let file = tokio::fs::File::open(errors_file.path())
                .await
                .map_err(internal)?;
            self.blobs
                .put_stream(errors_to, Box::pin(file), "text/csv")
                .await?;
        }
        Ok(run)
    }

    /// Data rows in the file (valid or not), read at parse speed without touching the store.
    pub async fn count_rows(&self, record: &ImportRecord) -> Result<u64, StoredImportError> {
        let reader = self
            .blobs
            .open(&record.blob_key)
            .await?
            .ok_or(StoredImportError::NoFile)?;
        let input = tokio_util::io::SyncIoBridge::new(reader);
        let options = options_of(record)?;
        tokio::task::spawn_blocking(move || {
            let mut rows = smscrm_import::open(input, &options)?;
            let count = rows.by_ref().count() as u64;
            rows.finish().map(|()| count)
        })
        .await
        .map_err(internal)?
        .map_err(StoredImportError::File)
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

    /// Marks the import failed with a reason a person can read.
    pub async fn fail(&self, record: &ImportRecord, reason: &str) -> Result<(), RepoError> {
        self.imports
            .finish(
                &record.tenant_id,
                &record.id,
                ImportStatus::Failed,
                None,
                Some(reason),
                Utc::now(),
            )
            .await
            .map(drop)
    }

    fn track_progress(
        &self,
        record: &ImportRecord,
        progress: &Progress,
    ) -> tokio::task::JoinHandle<()> {
        let (imports, progress) = (self.imports.clone(), progress.clone());
        let (tenant, id): (_, ImportId) = (record.tenant_id.clone(), record.id.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(PROGRESS_EVERY).await;
                let _ = imports
                    .progress(&tenant, &id, progress.bytes_read(), progress.rows_read())
                    .await;
            }
        })
    }
}
