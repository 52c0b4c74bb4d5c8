//! Contact import: CSV bytes in, contacts out, with a report a person can act on.
//!
//! One pipeline for every entry point (the `smscrm import` CLI, the API's dry-run and commit,
//! the S3 drop folder, and the import-jobs worker that commits for the last two): parsing runs on a blocking thread and hands batches of validated rows
//! over a bounded channel to the store writer, so memory stays flat whatever the file size.

mod ahead;
mod drop_folder;
mod jobs;
mod pipeline;
mod refused;
mod spill;
mod stored;

pub use drop_folder::{
    DropFolder, DropOutcome, handle_s3_event, parse_key, report_key, worth_a_look,
};
pub use jobs::{
    FanOut, ImportJob, ImportWorker, JobOutcome, LEASE_RETRY, enqueue, retry_delay_after_failure,
};
pub use pipeline::{
    Checkpoints, ImportFailure, ImportRequest, Progress, Resumable, Run, run, run_resumable,
};
pub use refused::{RefusedRows, RefusedRowsCsv};
pub use smscrm_domain::import_report::{ImportReport, MAX_REPORTED_ERRORS, RowError};
pub use stored::{StoredImport, StoredImportError, errors_key, options_of, range_errors_key};
