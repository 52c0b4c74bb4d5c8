//! Import records: one per uploaded file, with its settings, status, progress and report.
//! Status changes are conditional on the status they leave, so a file is never committed twice
//! by two concurrent requests or redelivered jobs.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use smscrm_domain::import_report::{ImportCounts, ImportReport};
use smscrm_domain::ports::{
    BlobStat, Condition, Cursor, Key, Query, StoreError, Table, TransactOp, Update, table,
};
use smscrm_domain::{ImportId, Region, TenantId};

use crate::codec::{from_item, to_item};
use crate::{RepoError, keys};

/// Errors kept on the record; the full list is a CSV beside the file.
pub const ERRORS_ON_RECORD: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    AwaitingUpload,
    Uploaded,
    /// A dry run too large to run within its request is queued.
    Checking,
    Checked,
    Committing,
    Completed,
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportSource {
    Api,
    DropFolder,
    Cli,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSettings {
    pub region: Region,
    /// An explicit mapping as written (`phone=Telefon,...`), checked when the import is created.
    pub mapping: Option<String>,
    /// Import-level consent declaration: where the tenant got consent for these contacts.
    pub consent_source: Option<String>,
}

/// How far a running import has read its file (the fields of [`ImportRecord`] of the same
/// names; `rows_total: None` leaves the record's as it is).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadSoFar {
    pub bytes_checked: u64,
    pub bytes_done: u64,
    pub rows_done: u64,
    pub rows_total: Option<u64>,
}

impl ReadSoFar {
    fn apply(self, update: Update) -> Update {
        let update = update
            .set("bytes_checked", self.bytes_checked)
            .set("bytes_done", self.bytes_done)
            .set("rows_done", self.rows_done);
        match self.rows_total {
            Some(rows) => update.set("rows_total", rows),
            None => update,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRecord {
    pub id: ImportId,
    pub tenant_id: TenantId,
    pub filename: String,
    pub source: ImportSource,
    pub status: ImportStatus,
    pub settings: ImportSettings,
    /// Where the file is in blob storage.
    pub blob_key: String,
    pub bytes_total: Option<u64>,
    /// Bytes the check ahead has read. Every commit, and a dry run of a large file, first
    /// reads the file for its phones (duplicates; claims on the embedded store); `bytes_done`
    /// and `rows_done` count the second read, which imports the rows.
    #[serde(default)]
    pub bytes_checked: u64,
    pub bytes_done: u64,
    pub rows_done: u64,
    /// Data rows in the file, once the check ahead or a fanned-out commit has counted them.
    #[serde(default)]
    pub rows_total: Option<u64>,
    /// A commit fanned out over several workers: how many ranges, how many are done.
    #[serde(default)]
    pub ranges: Option<u32>,
    #[serde(default)]
    pub ranges_done: u32,
    /// The last dry run's or commit's report, with at most [`ERRORS_ON_RECORD`] errors.
    pub report: Option<ImportReport>,
    pub failure: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// How far a commit has written: a restarted commit resumes here. Internal, like the
    /// lease: read from the table, never shown in the API.
    #[serde(default, skip_serializing)]
    pub checkpoint: Option<Checkpoint>,
    /// The worker running the commit and until when (epoch seconds) others must leave it.
    #[serde(default, skip_serializing)]
    pub lease_owner: Option<String>,
    #[serde(default, skip_serializing)]
    pub lease_until: Option<i64>,
    /// The version tag of the file the current run started on ([`Imports::pin_file`]).
    #[serde(default, skip_serializing)]
    pub file_tag: Option<String>,
    /// The version tag of the file as last uploaded: a presigned upload may replace it
    /// without telling the record, which the next run request then sees.
    #[serde(default, skip_serializing)]
    pub upload_tag: Option<String>,
}

impl ImportRecord {
    /// A new import of the file at `blob_key`, awaiting its upload.
    pub fn new(
        id: ImportId,
        tenant_id: TenantId,
        filename: String,
        source: ImportSource,
        settings: ImportSettings,
        blob_key: String,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            id,
            tenant_id,
            filename,
            source,
            status: ImportStatus::AwaitingUpload,
            settings,
            blob_key,
            bytes_total: None,
            bytes_checked: 0,
            bytes_done: 0,
            rows_done: 0,
            rows_total: None,
            ranges: None,
            ranges_done: 0,
            report: None,
            failure: None,
            created_at: now,
            updated_at: now,
            checkpoint: None,
            lease_owner: None,
            lease_until: None,
            file_tag: None,
            upload_tag: None,
        }
    }
}

/// What a worker runs: a whole commit, or one range of a commit fanned out over several
/// workers (see [`crate::import_ranges`]). Each part has its own lease and checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    Whole,
    Range(u32),
}

impl Part {
    pub(crate) fn key(self, tenant: &TenantId, id: &ImportId) -> Key {
        match self {
            Self::Whole => keys::import(tenant, id),
            Self::Range(index) => keys::import_range(tenant, id, index),
        }
    }

    /// What must hold for the part to run: the import committing (or checking, for a queued
    /// dry run), the range not done.
    fn runnable(self) -> Condition {
        match self {
            Self::Whole => committing().or(Condition::eq(
                "status",
                status_value(ImportStatus::Checking),
            )),
            Self::Range(_) => Condition::eq("done", false),
        }
    }
}

/// A worker's claim on a part: who holds it, and for how long each grant or checkpoint
/// extends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub part: Part,
    pub owner: String,
    pub duration: chrono::Duration,
}

/// A commit's progress that survives the worker: the first `rows` data rows of the file are
/// written, and writing them counted `counts`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub rows: u64,
    pub counts: ImportCounts,
    /// The batch being written after `rows`, if any. A run resuming here counts that batch as
    /// its plan did: some of its rows may be written already, and planned again they would
    /// count as unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending: Option<PendingBatch>,
}

/// A batch of rows `(checkpoint rows, through]` whose writing began, and what it counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingBatch {
    pub through: u64,
    pub counts: ImportCounts,
}

#[derive(Clone)]
pub struct Imports {
    pub(crate) table: Arc<dyn Table>,
}

impl Imports {
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    /// The table the imports are kept in, for the other repositories an import's end needs.
    pub fn table(&self) -> Arc<dyn Table> {
        self.table.clone()
    }

    pub async fn create(&self, record: &ImportRecord) -> Result<(), RepoError> {
        let item = to_item(
            record,
            &keys::import(&record.tenant_id, &record.id),
            "import",
        )?;
        Ok(self.table.put(item, Some(Condition::ItemNotExists)).await?)
    }

    pub async fn get(
        &self,
        tenant: &TenantId,
        id: &ImportId,
    ) -> Result<Option<ImportRecord>, RepoError> {
        self.table
            .get(&keys::import(tenant, id))
            .await?
            .map(from_item)
            .transpose()
    }

    /// Newest first.
    pub async fn list(
        &self,
        tenant: &TenantId,
        cursor: Option<Cursor>,
        limit: u32,
    ) -> Result<(Vec<ImportRecord>, Option<Cursor>), RepoError> {
        let page = self
            .table
            .query(
                &Query::partition(keys::tenant_partition(tenant))
                    .prefix(keys::IMPORT_PREFIX)
                    .backward()
                    .limit(limit)
                    .after(cursor),
            )
            .await?;
        let records = page
            .items
            .into_iter()
            .map(from_item)
            .collect::<Result<_, _>>()?;
        Ok((records, page.next_cursor))
    }

    /// Moves the import from one of `from` to `to`; `Conflict` (naming the current status)
    /// when it is in none of them.
    pub async fn transition(
        &self,
        tenant: &TenantId,
        id: &ImportId,
        from: &[ImportStatus],
        to: ImportStatus,
        now: DateTime<Utc>,
    ) -> Result<ImportRecord, RepoError> {
        let allowed = in_status(from);
        // A checkpoint and lease belong to the run of one status: a commit must never resume
        // from a dry run's checkpoint, or from one left by a rolled-back queueing.
        let mut update = Update::new()
            .set("status", status_value(to))
            .set("updated_at", now.to_rfc3339())
            .remove(CHECKPOINT)
            .remove(LEASE_OWNER)
            .remove(LEASE_UNTIL)
            .remove(FILE_TAG);
        if matches!(to, ImportStatus::Checking | ImportStatus::Committing) {
            // A new run's progress starts from nothing, not from the last run's end.
            update = ReadSoFar::default()
                .apply(update)
                .set("rows_total", Value::Null);
        }
        self.update_if(tenant, id, update, allowed).await
    }

    /// Records a (re-)upload of the file (`file`: its size and version): allowed until a
    /// commit starts.
    pub async fn uploaded(
        &self,
        tenant: &TenantId,
        id: &ImportId,
        file: &BlobStat,
        now: DateTime<Utc>,
    ) -> Result<ImportRecord, RepoError> {
        let record = self
            .transition(
                tenant,
                id,
                &[
                    ImportStatus::AwaitingUpload,
                    ImportStatus::Uploaded,
                    ImportStatus::Checked,
                ],
                ImportStatus::Uploaded,
                now,
            )
            .await?;
        let item = self
            .table
            .update(
                &keys::import(tenant, id),
                Update::new()
                    .set("bytes_total", file.size)
                    .set("upload_tag", file.tag.as_str())
                    .set("bytes_checked", 0)
                    .set("bytes_done", 0)
                    .set("rows_done", 0)
                    .set("rows_total", Value::Null)
                    .set("report", Value::Null)
                    .set("failure", Value::Null),
                Some(Condition::eq("status", status_value(record.status))),
            )
            .await?;
        from_item(item)
    }

    /// Replaces the settings of an import no run has committed: allowed until a commit
    /// starts. A checked import goes back to `uploaded`: its dry run was of the old settings.
    pub async fn change_settings(
        &self,
        tenant: &TenantId,
        id: &ImportId,
        settings: &ImportSettings,
        now: DateTime<Utc>,
    ) -> Result<ImportRecord, RepoError> {
        let current = self.get(tenant, id).await?.ok_or(RepoError::NotFound)?;
        let status = match current.status {
            ImportStatus::AwaitingUpload => ImportStatus::AwaitingUpload,
            ImportStatus::Uploaded | ImportStatus::Checked => ImportStatus::Uploaded,
            other => {
                return Err(RepoError::Conflict(format!(
                    "the import is {}: its settings can be changed until it is committed",
                    status_value(other)
                )));
            }
        };
        let settings =
            serde_json::to_value(settings).map_err(|e| RepoError::Corrupt(e.to_string()))?;
        let update = Update::new()
            .set("settings", settings)
            .set("status", status_value(status))
            .set("updated_at", now.to_rfc3339())
            .set("report", Value::Null)
            .set("failure", Value::Null);
        let update = ReadSoFar::default()
            .apply(update)
            .set("rows_total", Value::Null);
        // Not while a request moves it on: the status read above must still hold.
        let unmoved = Condition::eq("status", status_value(current.status));
        self.update_if(tenant, id, update, unmoved).await
    }

    pub async fn progress(
        &self,
        tenant: &TenantId,
        id: &ImportId,
        read: ReadSoFar,
    ) -> Result<(), RepoError> {
        self.table
            .update(
                &keys::import(tenant, id),
                read.apply(Update::new()),
                Some(Condition::ItemExists),
            )
            .await?;
        Ok(())
    }

    /// Takes the right to run a part of the commit for `lease` from `now`: granted when the
    /// part can run and no other worker holds an unexpired lease on it. Returns the part's
    /// checkpoint; `Conflict` when the lease is not granted.
    pub async fn acquire_lease(
        &self,
        tenant: &TenantId,
        id: &ImportId,
        lease: &Lease,
        now: DateTime<Utc>,
    ) -> Result<Option<Checkpoint>, RepoError> {
        let (part, owner) = (lease.part, lease.owner.as_str());
        let free = Condition::AttrNotExists(LEASE_UNTIL.into())
            .or(Condition::lt(LEASE_UNTIL, now.timestamp()))
            .or(Condition::eq(LEASE_OWNER, owner));
        let result = self
            .table
            .update(
                &part.key(tenant, id),
                Update::new()
                    .set(LEASE_OWNER, owner)
                    .set(LEASE_UNTIL, (now + lease.duration).timestamp()),
                Some(Condition::ItemExists.and(part.runnable()).and(free)),
            )
            .await;
        match result {
            Ok(item) => match item.get(CHECKPOINT) {
                None | Some(Value::Null) => Ok(None),
                Some(value) => serde_json::from_value(value.clone())
                    .map(Some)
                    .map_err(|e| RepoError::Corrupt(e.to_string())),
            },
            Err(StoreError::ConditionFailed) => Err(RepoError::Conflict(
                "the import is not committing or another worker runs it".into(),
            )),
            Err(other) => Err(other.into()),
        }
    }

    /// Saves a commit's progress and extends the lease. `Conflict` when the lease was lost
    /// (it expired and another worker took the import over): the caller must stop.
    pub async fn checkpoint(
        &self,
        tenant: &TenantId,
        id: &ImportId,
        lease: &Lease,
        checkpoint: &Checkpoint,
        now: DateTime<Utc>,
    ) -> Result<(), RepoError> {
        let (part, owner) = (lease.part, lease.owner.as_str());
        let value =
            serde_json::to_value(checkpoint).map_err(|e| RepoError::Corrupt(e.to_string()))?;
        let key = part.key(tenant, id);
        let update = Update::new()
            .set(CHECKPOINT, value)
            .set(LEASE_UNTIL, (now + lease.duration).timestamp());
        let condition = part.runnable().and(Condition::eq(LEASE_OWNER, owner));
        let result = match part {
            Part::Whole => self
                .table
                .update(&key, update, Some(condition))
                .await
                .map(drop),
            // A range also stops when its import has ended (failed): checked in the same
            // transaction as its checkpoint.
            Part::Range(_) => {
                let ops = vec![
                    TransactOp::Update {
                        key,
                        update,
                        condition: Some(condition),
                    },
                    TransactOp::Check {
                        key: keys::import(tenant, id),
                        condition: committing(),
                    },
                ];
                self.table.transact(ops).await
            }
        };
        match result {
            Ok(()) => Ok(()),
            Err(StoreError::ConditionFailed | StoreError::TransactionCanceled { .. }) => {
                Err(RepoError::Conflict(
                    "the import's lease was lost to another worker, or the import ended".into(),
                ))
            }
            Err(other) => Err(other.into()),
        }
    }

    /// Records which version of the file the import's run reads, the first time a worker
    /// looks, and returns the version recorded (an earlier worker's, if any): a run that finds
    /// another version must not go on reading, since its checkpoints count rows of the first.
    pub async fn pin_file(
        &self,
        tenant: &TenantId,
        id: &ImportId,
        tag: &str,
    ) -> Result<String, RepoError> {
        let result = self
            .table
            .update(
                &keys::import(tenant, id),
                Update::new().set(FILE_TAG, tag),
                Some(Condition::ItemExists.and(Condition::AttrNotExists(FILE_TAG.into()))),
            )
            .await;
        match result {
            Ok(_) => Ok(tag.to_owned()),
            Err(StoreError::ConditionFailed) => self
                .get(tenant, id)
                .await?
                .and_then(|record| record.file_tag)
                .ok_or(RepoError::NotFound),
            Err(other) => Err(other.into()),
        }
    }

    /// Takes the drop folder's lease on one dropped file (`key_digest`: a digest of its key)
    /// for `duration`: S3 may deliver a notification twice, at once, and the two must not
    /// both make an import. False when another notification holds it.
    pub async fn take_drop_lease(
        &self,
        tenant: &TenantId,
        key_digest: &str,
        owner: &str,
        now: DateTime<Utc>,
        duration: chrono::Duration,
    ) -> Result<bool, RepoError> {
        let until = (now + duration).timestamp();
        let free = Condition::AttrNotExists(LEASE_UNTIL.into())
            .or(Condition::lt(LEASE_UNTIL, now.timestamp()));
        // The item outlives its lease by a day, then the table's expiry removes it.
        let update = Update::new()
            .set(LEASE_OWNER, owner)
            .set(LEASE_UNTIL, until)
            .set(table::TTL, until + 86_400);
        let key = keys::drop_file(tenant, key_digest);
        match self.table.update(&key, update, Some(free)).await {
            Ok(_) => Ok(true),
            Err(StoreError::ConditionFailed) => Ok(false),
            Err(other) => Err(other.into()),
        }
    }

    /// Gives the drop folder's lease on a file back. Losing it already is fine.
    pub async fn release_drop_lease(
        &self,
        tenant: &TenantId,
        key_digest: &str,
        owner: &str,
    ) -> Result<(), RepoError> {
        let result = self
            .table
            .update(
                &keys::drop_file(tenant, key_digest),
                Update::new().remove(LEASE_OWNER).remove(LEASE_UNTIL),
                Some(Condition::eq(LEASE_OWNER, owner)),
            )
            .await;
        match result {
            Ok(_) | Err(StoreError::ConditionFailed) => Ok(()),
            Err(other) => Err(other.into()),
        }
    }

    /// Gives the lease back early (a paused commit), so the next worker need not wait for it
    /// to expire. Losing it already is fine.
    pub async fn release_lease(
        &self,
        tenant: &TenantId,
        id: &ImportId,
        lease: &Lease,
    ) -> Result<(), RepoError> {
        let result = self
            .table
            .update(
                &lease.part.key(tenant, id),
                Update::new().remove(LEASE_OWNER).remove(LEASE_UNTIL),
                Some(Condition::eq(LEASE_OWNER, lease.owner.as_str())),
            )
            .await;
        match result {
            Ok(_) | Err(StoreError::ConditionFailed) => Ok(()),
            Err(other) => Err(other.into()),
        }
    }

    /// Records the outcome, the report (errors trimmed to [`ERRORS_ON_RECORD`]) or a failure,
    /// if the import is still in one of `from`: a run never overwrites what another request
    /// did meanwhile (`Conflict`, naming the current status).
    pub async fn finish(
        &self,
        tenant: &TenantId,
        id: &ImportId,
        from: &[ImportStatus],
        outcome: Outcome<'_>,
        now: DateTime<Utc>,
    ) -> Result<ImportRecord, RepoError> {
        let report = outcome.report.map(|r| {
            let mut trimmed = r.clone();
            trimmed.errors.truncate(ERRORS_ON_RECORD);
            trimmed
        });
        let report =
            serde_json::to_value(&report).map_err(|e| RepoError::Corrupt(e.to_string()))?;
        let failure = outcome.failure.map_or(Value::Null, Value::from);
        // The run is over: its checkpoint, lease and pinned file version with it.
        let mut update = Update::new()
            .set("status", status_value(outcome.status))
            .set("report", report)
            .set("failure", failure)
            .set("updated_at", now.to_rfc3339())
            .remove(CHECKPOINT)
            .remove(LEASE_OWNER)
            .remove(LEASE_UNTIL)
            .remove(FILE_TAG);
        if let Some(read) = outcome.read {
            update = read.apply(update);
        }
        self.update_if(tenant, id, update, in_status(from)).await
    }

    /// Applies `update` to the import if it exists and `condition` holds; `Conflict` (naming
    /// the current status) when it does not.
    async fn update_if(
        &self,
        tenant: &TenantId,
        id: &ImportId,
        update: Update,
        condition: Condition,
    ) -> Result<ImportRecord, RepoError> {
        let key = keys::import(tenant, id);
        let condition = Some(Condition::ItemExists.and(condition));
        match self.table.update(&key, update, condition).await {
            Ok(item) => from_item(item),
            Err(StoreError::ConditionFailed) => Err(self.conflict(tenant, id).await),
            Err(other) => Err(other.into()),
        }
    }

    async fn conflict(&self, tenant: &TenantId, id: &ImportId) -> RepoError {
        match self.get(tenant, id).await {
            Ok(Some(current)) => {
                RepoError::Conflict(format!("the import is {}", status_value(current.status)))
            }
            Ok(None) => RepoError::NotFound,
            Err(e) => e,
        }
    }
}

/// How an import (or one run of it) ended.
#[derive(Debug, Clone, Copy)]
pub struct Outcome<'a> {
    pub status: ImportStatus,
    pub report: Option<&'a ImportReport>,
    pub failure: Option<&'a str>,
    /// How far the run read, recorded with the outcome (`None` leaves the record's).
    pub read: Option<ReadSoFar>,
}

/// The statuses an import can still leave: everything but `completed` and `failed`.
pub const UNFINISHED: [ImportStatus; 5] = [
    ImportStatus::AwaitingUpload,
    ImportStatus::Uploaded,
    ImportStatus::Checking,
    ImportStatus::Checked,
    ImportStatus::Committing,
];

fn in_status(statuses: &[ImportStatus]) -> Condition {
    Condition::Or(
        statuses
            .iter()
            .map(|s| Condition::eq("status", status_value(*s)))
            .collect(),
    )
}

pub(crate) const CHECKPOINT: &str = "checkpoint";
pub(crate) const LEASE_OWNER: &str = "lease_owner";
pub(crate) const LEASE_UNTIL: &str = "lease_until";
const FILE_TAG: &str = "file_tag";

pub(crate) fn committing() -> Condition {
    Condition::eq("status", status_value(ImportStatus::Committing))
}

pub(crate) fn status_value(status: ImportStatus) -> String {
    serde_json::to_value(status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
