use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::Utc;
use smscrm_domain::{ContactMerge, TenantId};
use smscrm_import::{ImportError, ImportOptions, ImportRow, RowOutcome};
use smscrm_store::{Contacts, RepoError};
use tokio::sync::mpsc;

use smscrm_domain::import_report::{ImportReport, PREVIEW_ROWS, PreviewRow, RowError};

/// Rows handed to the writer at a time: large enough to amortise round trips, small enough
/// that memory stays flat.
const BATCH_ROWS: usize = 1000;
/// Batches parsed ahead of the writer.
const BATCHES_IN_FLIGHT: usize = 4;

pub struct ImportRequest {
    pub tenant: TenantId,
    pub options: ImportOptions,
    /// False for a dry run: everything is checked and counted, nothing is written.
    pub commit: bool,
}

/// Bytes and rows read so far, for progress bars and records; shared with whoever shows it.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    bytes: Arc<AtomicU64>,
    rows: Arc<AtomicU64>,
}

impl Progress {
    pub fn bytes_read(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
    pub fn rows_read(&self) -> u64 {
        self.rows.load(Ordering::Relaxed)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    /// The file cannot be imported at all (no phone column, binary, empty, ...).
    #[error(transparent)]
    File(#[from] ImportError),
    #[error("storing contacts failed: {0}")]
    Store(#[from] RepoError),
    #[error("the import stopped unexpectedly: {0}")]
    Internal(String),
}

enum Event {
    Valid(ImportRow),
    Error(RowError, ErrorKind),
}

enum ErrorKind {
    Invalid,
    Duplicate,
}

enum Message {
    Header(smscrm_import::Detected),
    Rows(Vec<Event>),
}

/// Imports `input` for the tenant; `on_error` sees every rejected row (the report keeps the
/// first [`crate::MAX_REPORTED_ERRORS`]).
pub async fn run<R: Read + Send + 'static>(
    contacts: &Contacts,
    input: R,
    request: ImportRequest,
    progress: &Progress,
    mut on_error: impl FnMut(&RowError),
) -> Result<ImportReport, ImportFailure> {
    let (tx, mut rx) = mpsc::channel::<Message>(BATCHES_IN_FLIGHT);
    let counting = CountingReader {
        inner: input,
        read: progress.bytes.clone(),
    };
    let options = request.options.clone();
    let parser = tokio::task::spawn_blocking(move || parse(counting, &options, &tx));

    let mut report = ImportReport {
        dry_run: !request.commit,
        ..ImportReport::default()
    };
    while let Some(message) = rx.recv().await {
        match message {
            Message::Header(detected) => describe(&mut report, &detected),
            Message::Rows(events) => {
                progress
                    .rows
                    .fetch_add(events.len() as u64, Ordering::Relaxed);
                let mut merges = Vec::with_capacity(events.len());
                for event in events {
                    report.rows += 1;
                    match event {
                        Event::Valid(row) => {
                            report.valid += 1;
                            let merge = to_merge(row.clone());
                            if report.preview.len() < PREVIEW_ROWS {
                                report.preview.push(PreviewRow::of(row.row, &merge));
                            }
                            merges.push(merge);
                        }
                        Event::Error(error, kind) => {
                            match kind {
                                ErrorKind::Invalid => report.invalid += 1,
                                ErrorKind::Duplicate => report.duplicates += 1,
                            }
                            on_error(&error);
                            report.record_error(error);
                        }
                    }
                }
                let counts = contacts
                    .import_batch(&request.tenant, &merges, Utc::now(), request.commit)
                    .await?;
                report.add_counts(counts);
            }
        }
    }
    match parser.await {
        Ok(Ok(())) => Ok(report),
        Ok(Err(e)) => Err(e.into()),
        Err(join) => Err(ImportFailure::Internal(join.to_string())),
    }
}

/// The blocking half: reads and validates, sending batches until the input or the receiver
/// ends.
fn parse<R: Read>(
    input: R,
    options: &ImportOptions,
    tx: &mpsc::Sender<Message>,
) -> Result<(), ImportError> {
    let mut rows = smscrm_import::open(input, options)?;
    if tx
        .blocking_send(Message::Header(rows.detected().clone()))
        .is_err()
    {
        return Ok(());
    }
    let mut batch = Vec::with_capacity(BATCH_ROWS);
    for outcome in rows.by_ref() {
        batch.push(match outcome {
            RowOutcome::Valid(row) => Event::Valid(row),
            RowOutcome::Invalid { row, reason } => {
                Event::Error(RowError { row, reason }, ErrorKind::Invalid)
            }
            RowOutcome::Duplicate {
                row,
                first_row,
                phone,
            } => Event::Error(
                RowError {
                    row,
                    reason: format!("duplicate of row {first_row} ({phone})"),
                },
                ErrorKind::Duplicate,
            ),
        });
        if batch.len() == BATCH_ROWS {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_ROWS));
            if tx.blocking_send(Message::Rows(full)).is_err() {
                return Ok(());
            }
        }
    }
    if !batch.is_empty() {
        let _ = tx.blocking_send(Message::Rows(batch));
    }
    // A read error mid-file ends the rows early; finish says so.
    rows.finish()
}

fn describe(report: &mut ImportReport, detected: &smscrm_import::Detected) {
    report.encoding = detected.encoding.to_owned();
    report.delimiter = match detected.delimiter {
        '\t' => "tab".to_owned(),
        other => other.to_string(),
    };
    report.mapping = detected
        .mapping
        .iter()
        .map(|(header, target)| (header.clone(), target.to_string()))
        .collect();
}

fn to_merge(row: ImportRow) -> ContactMerge {
    ContactMerge {
        phone: row.phone,
        first_name: row.first_name,
        last_name: row.last_name,
        email: row.email,
        tags: row.tags,
        attributes: row.attributes,
        consent: row.consent,
    }
}

struct CountingReader<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}
