//! Commits fanned out over several workers. A large file's data rows are split into ranges;
//! each range is committed by its own job under its own lease and checkpoint (see
//! [`Part::Range`]), and the worker that finishes the last range completes the import.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use smscrm_domain::import_report::ImportReport;
use smscrm_domain::ports::{Condition, Query, StoreError, TransactOp, Update, table};
use smscrm_domain::{ImportId, TenantId};

use crate::codec::{from_item, to_item};
use crate::imports::{
    CHECKPOINT, ERRORS_ON_RECORD, LEASE_OWNER, LEASE_UNTIL, Lease, Part, committing,
};
use crate::{ImportRecord, ImportStatus, Imports, RepoError, keys};

/// One range of a fanned-out commit: the data rows `from + 1 ..= to` (counting from the first
/// data row).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRange {
    pub import_id: ImportId,
    pub index: u32,
    pub from: u64,
    pub to: u64,
    pub done: bool,
    /// The range's own report once done (errors trimmed to the record's share).
    pub report: Option<ImportReport>,
    /// Until when (Unix seconds) a worker holds the range, if one took it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_until: Option<i64>,
    /// Where the range's rows sit in the file, when the plan could tell (UTF-8 files): its
    /// worker then reads those bytes alone. Otherwise it reads the file up to its rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<RangeBytes>,
}

/// A range's own part of the file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RangeBytes {
    /// The header row is bytes `0..header_end`.
    pub header_end: u64,
    /// The range's rows are bytes `start..end`.
    pub start: u64,
    pub end: u64,
    /// The parser's place at `start` (`smscrm_import::Resume`), kept as the parser wrote it:
    /// the store has no business reading it.
    pub resume: serde_json::Value,
    /// The blob holding the range's notes (its duplicate rows), which the plan wrote.
    pub notes: String,
}

/// A range as a plan proposes it: data rows `from + 1 ..= to`, and its bytes if known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedRange {
    pub from: u64,
    pub to: u64,
    pub bytes: Option<RangeBytes>,
}

impl ImportRange {
    /// A worker holds the range now: queueing it again would only add a job that waits.
    pub fn leased(&self, now: DateTime<Utc>) -> bool {
        self.lease_until
            .is_some_and(|until| until > now.timestamp())
    }
}

/// Ranges one plan may have: the plan is one transaction with the import record.
pub const MAX_RANGES: usize = table::MAX_TRANSACT_ITEMS - 1;

impl Imports {
    /// Records the plan of a committing import: its row count and its ranges. `Ok(false)` when
    /// a plan was recorded already (a redelivered planning job), which is kept.
    pub async fn plan_ranges(
        &self,
        tenant: &TenantId,
        id: &ImportId,
        rows_total: u64,
        ranges: &[PlannedRange],
        now: DateTime<Utc>,
    ) -> Result<bool, RepoError> {
        if ranges.is_empty() || ranges.len() > MAX_RANGES {
            return Err(RepoError::Conflict(format!(
                "a plan has 1..={MAX_RANGES} ranges, not {}",
                ranges.len()
            )));
        }
        let unplanned = Condition::Not(Box::new(Condition::gt("ranges", 0)));
        let mut ops = vec![TransactOp::Update {
            key: keys::import(tenant, id),
            update: Update::new()
                .set("ranges", ranges.len() as u64)
                .set("ranges_done", 0)
                .set("rows_total", rows_total)
                .set("rows_done", 0)
                .set("updated_at", now.to_rfc3339()),
            condition: Some(Condition::ItemExists.and(committing()).and(unplanned)),
        }];
        for (index, planned) in ranges.iter().enumerate() {
            let index = index as u32;
            let range = ImportRange {
                import_id: id.clone(),
                index,
                from: planned.from,
                to: planned.to,
                done: false,
                report: None,
                lease_until: None,
                bytes: planned.bytes.clone(),
            };
            let key = keys::import_range(tenant, id, index);
            ops.push(TransactOp::Put {
                item: to_item(&range, &key, "import_range")?,
                condition: Some(Condition::ItemNotExists),
            });
        }
        match self.table.transact(ops).await {
            Ok(()) => Ok(true),
            Err(StoreError::TransactionCanceled { .. }) => match self.get(tenant, id).await? {
                Some(ImportRecord {
                    ranges: Some(_),
                    status: ImportStatus::Committing,
                    ..
                }) => Ok(false),
                _ => Err(RepoError::Conflict("the import is not committing".into())),
            },
            Err(other) => Err(other.into()),
        }
    }

    pub async fn range(
        &self,
        tenant: &TenantId,
        id: &ImportId,
        index: u32,
    ) -> Result<Option<ImportRange>, RepoError> {
        self.table
            .get(&keys::import_range(tenant, id, index))
            .await?
            .map(from_item)
            .transpose()
    }

    /// The ranges of a fanned-out commit, in order.
    pub async fn ranges(
        &self,
        tenant: &TenantId,
        id: &ImportId,
    ) -> Result<Vec<ImportRange>, RepoError> {
        let mut ranges = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .table
                .query(
                    &Query::partition(keys::tenant_partition(tenant))
                        .prefix(keys::import_ranges_prefix(id))
                        .limit(table::MAX_QUERY_LIMIT)
                        .after(cursor),
                )
                .await?;
            for item in page.items {
                ranges.push(from_item(item)?);
            }
            cursor = page.next_cursor;
            if cursor.is_none() {
                return Ok(ranges);
            }
        }
    }

    /// Marks the range done with its report and counts it on the import, in one transaction,
    /// and returns the import record as it is then. `Conflict` when the worker no longer holds
    /// the range (done already, or its lease passed to another worker).
    pub async fn finish_range(
        &self,
        tenant: &TenantId,
        id: &ImportId,
        range: &ImportRange,
        lease: &Lease,
        report: &ImportReport,
    ) -> Result<ImportRecord, RepoError> {
        let mut report = report.clone();
        report.errors.truncate(ERRORS_ON_RECORD);
        let report =
            serde_json::to_value(&report).map_err(|e| RepoError::Corrupt(e.to_string()))?;
        let ops = vec![
            TransactOp::Update {
                key: Part::Range(range.index).key(tenant, id),
                update: Update::new()
                    .set("done", true)
                    .set("report", report)
                    .remove(CHECKPOINT)
                    .remove(LEASE_OWNER)
                    .remove(LEASE_UNTIL),
                condition: Some(
                    Condition::eq("done", false)
                        .and(Condition::eq(LEASE_OWNER, lease.owner.as_str())),
                ),
            },
            TransactOp::Update {
                key: keys::import(tenant, id),
                update: Update::new()
                    .add("ranges_done", 1)
                    .add("rows_done", (range.to - range.from) as i64)
                    .set("updated_at", Utc::now().to_rfc3339()),
                condition: Some(committing()),
            },
        ];
        match self.table.transact(ops).await {
            Ok(()) => self.get(tenant, id).await?.ok_or(RepoError::NotFound),
            Err(StoreError::TransactionCanceled { .. }) => Err(RepoError::Conflict(
                "the range is done already or runs elsewhere".into(),
            )),
            Err(other) => Err(other.into()),
        }
    }
}
