//! Message records: one per campaign and recipient, keyed by both, so a fan-out that runs
//! again (after a crash, or twice at once) finds the record and never makes a second.
//!
//! A campaign's records are spread over [`SHARDS`] partitions by the contact id's last
//! character, so a large fan-out does not write into a single DynamoDB partition.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use smscrm_domain::delivery::DeliveryStatus;
use smscrm_domain::ports::{Cursor, Index, Item, Key, Query, SortKeyCondition, Table, table};
use smscrm_domain::segments::Encoding;
use smscrm_domain::{CampaignId, ContactId, PhoneE164, TenantId};

use crate::codec::{from_item, to_item};
use crate::{RepoError, keys};

/// Partitions a campaign's records are spread over.
pub const SHARDS: u32 = 16;
/// Records a filtered page may read at least before it ends short.
const MIN_SCAN: u32 = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    /// Ready for the sender.
    Queued,
    /// Waiting for `release_at` (quiet hours in the recipient's zone).
    Held,
    /// Never sent: `reason` says why.
    Skipped,
    /// A sender has it (until `lease_until_ms`) and may be calling Twilio.
    Claimed,
    /// Twilio accepted it (`sid`).
    Sent,
    /// Twilio refused it for good (`error_code`), or the sender gave up (`reason`).
    Failed,
}

impl MessageStatus {
    /// Whether the sender is done with it (delivery receipts come later, by webhook).
    pub fn is_final(self) -> bool {
        matches!(self, Self::Skipped | Self::Sent | Self::Failed)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRecord {
    pub campaign_id: CampaignId,
    pub contact_id: ContactId,
    pub phone: PhoneE164,
    pub status: MessageStatus,
    /// For skipped records: `no_consent`, `do_not_contact`, `missing_variable`, `over_cap`
    /// (dearer than a budget cap), `campaign_cancelled`, `tenant_missing`; for held ones:
    /// `quiet_hours`, `budget`.
    pub reason: Option<String>,
    /// The variable a `missing_variable` skip is about.
    pub variable: Option<String>,
    pub text: Option<String>,
    pub encoding: Option<Encoding>,
    pub segments: u32,
    /// What it costs (segments x the country's price), reserved against the budget when the
    /// record is queued.
    #[serde(default)]
    pub cost_millicents: u64,
    /// When a held record may go.
    pub release_at: Option<DateTime<Utc>>,
    /// The end of the recipient's allowed window: Twilio's `ValidityPeriod` is cut to it.
    pub send_before: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// The count it was first counted under ([`count_name`]), so a fan-out page done again
    /// counts it as it did the first time, whatever happened to it since.
    #[serde(default)]
    pub initial_count: Option<String>,
    /// When its cost was reserved: a refund goes back to that day's and month's budget.
    #[serde(default)]
    pub reserved_at: Option<DateTime<Utc>>,
    /// Twilio calls made, or perhaps made, for it: past 0, Twilio is asked before sending.
    #[serde(default)]
    pub attempts: u32,
    /// Until when the sender that claimed it may hold it (epoch milliseconds).
    #[serde(default)]
    pub lease_until_ms: Option<i64>,
    /// When the first call for it began: a lookup at Twilio searches from there.
    #[serde(default)]
    pub first_attempt_at: Option<DateTime<Utc>>,
    /// When a call for it ended without an answer (it may have been accepted).
    #[serde(default)]
    pub unknown_since: Option<DateTime<Utc>>,
    /// Twilio's message SID once accepted.
    #[serde(default)]
    pub sid: Option<String>,
    /// The number it went from (chosen by the Messaging Service when there is one).
    #[serde(default)]
    pub from: Option<String>,
    /// Twilio's status of it when it was accepted.
    #[serde(default)]
    pub provider_status: Option<String>,
    /// Its delivery status: the furthest status Twilio's callbacks (or its answer) told of.
    #[serde(default)]
    pub delivery: Option<DeliveryStatus>,
    /// The error code of a final delivery status (`undelivered`, `failed`).
    #[serde(default)]
    pub delivery_error_code: Option<u32>,
    /// When Twilio's callback of its final status came.
    #[serde(default)]
    pub delivery_final_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub error_code: Option<u32>,
    /// The last error met sending it.
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub sent_at: Option<DateTime<Utc>>,
    /// Bumped by every sender write: each is made only over the version it read.
    #[serde(default)]
    pub version: u64,
    /// How many days its tenant keeps messages once settled ([`Self::expiry`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<u32>,
}

impl MessageRecord {
    /// When what is kept about it expires (epoch seconds, the table's TTL): its tenant's
    /// retention after it was last acted on, once the sender is done with it. Never while it
    /// is in flight, however long it is held or parked.
    pub fn expiry(&self) -> Option<i64> {
        let days = self.retention_days?;
        if !self.status.is_final() {
            return None;
        }
        let settled = [
            Some(self.created_at),
            self.release_at,
            self.first_attempt_at,
            self.sent_at,
            self.delivery_final_at,
        ]
        .into_iter()
        .flatten()
        .max()?;
        Some((settled + chrono::Duration::days(i64::from(days))).timestamp())
    }

    /// A record the fan-out has not decided on yet (skipped, for no reason so far).
    pub fn new(
        campaign_id: CampaignId,
        contact_id: ContactId,
        phone: PhoneE164,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            campaign_id,
            contact_id,
            phone,
            status: MessageStatus::Skipped,
            reason: None,
            variable: None,
            text: None,
            encoding: None,
            segments: 0,
            cost_millicents: 0,
            release_at: None,
            send_before: None,
            created_at: now,
            initial_count: None,
            reserved_at: None,
            attempts: 0,
            lease_until_ms: None,
            first_attempt_at: None,
            unknown_since: None,
            sid: None,
            from: None,
            provider_status: None,
            delivery: None,
            delivery_error_code: None,
            delivery_final_at: None,
            error_code: None,
            error: None,
            sent_at: None,
            version: 0,
            retention_days: None,
        }
    }

    /// The count it is under now.
    pub fn count_name(&self) -> String {
        count_name(self.status, self.reason.as_deref(), self.error_code)
    }

    /// Every count it is under now: [`Self::count_name`], and for a sent record its delivery
    /// status (`delivery__<status>`) and that status's error code (`delivery_error__<code>`).
    pub fn count_names(&self) -> Vec<String> {
        let mut names = vec![self.count_name()];
        if let (MessageStatus::Sent, Some(delivery)) = (self.status, self.delivery) {
            names.push(format!("delivery__{delivery}"));
            if let Some(code) = self.delivery_error_code {
                names.push(format!("delivery_error__{code}"));
            }
        }
        names
    }
}

/// A fan-out's progress and counts, kept on one item per campaign.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DispatchCounts {
    /// Contacts the audience selected.
    pub audience: u64,
    pub queued: u64,
    /// Held records by reason.
    pub held: BTreeMap<String, u64>,
    /// Skipped records by reason.
    pub skipped: BTreeMap<String, u64>,
    pub segments: u64,
    /// Accepted by Twilio.
    #[serde(default)]
    pub sent: u64,
    /// Refused by Twilio (by error code) or given up (by reason).
    #[serde(default)]
    pub failed: BTreeMap<String, u64>,
    /// Sent messages by delivery status (what Twilio's callbacks said last).
    #[serde(default)]
    pub delivery: BTreeMap<String, u64>,
    /// Undelivered and failed deliveries by Twilio error code (30007: carrier filtering).
    #[serde(default)]
    pub delivery_errors: BTreeMap<String, u64>,
    /// Replies from recipients whose last message was this campaign's (keywords aside).
    #[serde(default)]
    pub replies: u64,
    /// STOPs from recipients whose last message was this campaign's.
    #[serde(default)]
    pub opt_outs: u64,
}

/// The counter of replies to a campaign.
pub const REPLIED: &str = "replied";
/// The counter of STOPs answering a campaign.
pub const OPTED_OUT: &str = "opted_out";

/// A record moving from one count to another after the fan-out, as counter names:
/// `queued` (claimed ones too: not sent yet), `held__<reason>`, `skipped__<reason>`, `sent`,
/// `failed__<error code or reason>`.
pub fn count_name(status: MessageStatus, reason: Option<&str>, error_code: Option<u32>) -> String {
    match status {
        MessageStatus::Queued | MessageStatus::Claimed => "queued".into(),
        MessageStatus::Held => format!("held__{}", reason.unwrap_or_default()),
        MessageStatus::Skipped => format!("skipped__{}", reason.unwrap_or_default()),
        MessageStatus::Sent => "sent".into(),
        MessageStatus::Failed => match error_code {
            Some(code) => format!("failed__{code}"),
            None => format!("failed__{}", reason.unwrap_or_default()),
        },
    }
}

impl DispatchCounts {
    /// Applies the changes recorded since the fan-out (see [`count_name`]).
    pub fn apply(&mut self, changes: &BTreeMap<String, i64>) {
        let shift = |n: u64, by: i64| n.saturating_add_signed(by);
        for (name, &by) in changes {
            if name == "queued" {
                self.queued = shift(self.queued, by);
            } else if name == "sent" {
                self.sent = shift(self.sent, by);
            } else if name == REPLIED {
                self.replies = shift(self.replies, by);
            } else if name == OPTED_OUT {
                self.opt_outs = shift(self.opt_outs, by);
            } else if let Some(status) = name.strip_prefix("delivery__") {
                let entry = self.delivery.entry(status.to_owned()).or_default();
                *entry = shift(*entry, by);
            } else if let Some(code) = name.strip_prefix("delivery_error__") {
                let entry = self.delivery_errors.entry(code.to_owned()).or_default();
                *entry = shift(*entry, by);
            } else if let Some(reason) = name.strip_prefix("failed__") {
                let entry = self.failed.entry(reason.to_owned()).or_default();
                *entry = shift(*entry, by);
            } else if let Some(reason) = name.strip_prefix("held__") {
                let entry = self.held.entry(reason.to_owned()).or_default();
                *entry = shift(*entry, by);
            } else if let Some(reason) = name.strip_prefix("skipped__") {
                let entry = self.skipped.entry(reason.to_owned()).or_default();
                *entry = shift(*entry, by);
            }
        }
        self.held.retain(|_, n| *n > 0);
        self.skipped.retain(|_, n| *n > 0);
        self.failed.retain(|_, n| *n > 0);
        self.delivery.retain(|_, n| *n > 0);
        self.delivery_errors.retain(|_, n| *n > 0);
    }

    /// Counts a record the fan-out wrote (now, or on an earlier run of the same page) under
    /// the count it was written with: what happened to it since is in the changes.
    pub fn count(&mut self, record: &MessageRecord) {
        self.audience += 1;
        let name = record
            .initial_count
            .clone()
            .unwrap_or_else(|| record.count_name());
        if !name.starts_with("skipped__") {
            self.segments += u64::from(record.segments);
        }
        self.apply(&BTreeMap::from([(name, 1)]));
    }

    /// Whether nothing is left for the sender or the scheduler: every record sent, failed or
    /// skipped.
    pub fn settled(&self) -> bool {
        self.queued == 0 && self.held.is_empty()
    }
}

#[derive(Clone)]
pub struct Messages {
    table: Arc<dyn Table>,
}

pub fn shard(contact: &ContactId) -> u32 {
    contact
        .as_str()
        .bytes()
        .last()
        .map_or(0, |b| u32::from(b) % SHARDS)
}

pub fn message_key(tenant: &TenantId, campaign: &CampaignId, contact: &ContactId) -> Key {
    keys::message(tenant, campaign, shard(contact), contact)
}

impl Messages {
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    pub(crate) fn table(&self) -> &dyn Table {
        self.table.as_ref()
    }

    pub async fn get(
        &self,
        tenant: &TenantId,
        campaign: &CampaignId,
        contact: &ContactId,
    ) -> Result<Option<MessageRecord>, RepoError> {
        self.table
            .get(&message_key(tenant, campaign, contact))
            .await?
            .map(from_item)
            .transpose()
    }

    /// The records that exist among these recipients', as they are stored.
    pub async fn existing(
        &self,
        tenant: &TenantId,
        campaign: &CampaignId,
        contacts: &[&ContactId],
    ) -> Result<Vec<MessageRecord>, RepoError> {
        let mut found = Vec::new();
        for chunk in contacts.chunks(smscrm_domain::ports::table::MAX_BATCH_GET) {
            let wanted: Vec<Key> = chunk
                .iter()
                .map(|c| message_key(tenant, campaign, c))
                .collect();
            for item in self.table.batch_get(&wanted).await? {
                found.push(from_item(item)?);
            }
        }
        Ok(found)
    }

    /// Writes records none of which exists yet (the caller checked with [`Self::existing`]).
    pub async fn put_new(
        &self,
        tenant: &TenantId,
        records: &[MessageRecord],
    ) -> Result<(), RepoError> {
        let items = records
            .iter()
            .map(|r| record_item(tenant, r))
            .collect::<Result<Vec<Item>, _>>()?;
        if !items.is_empty() {
            self.table.batch_put(items).await?;
        }
        Ok(())
    }

    /// Every record of a campaign (all shards); for tests and small campaigns.
    pub async fn all(
        &self,
        tenant: &TenantId,
        campaign: &CampaignId,
    ) -> Result<Vec<MessageRecord>, RepoError> {
        let mut records = Vec::new();
        for shard in 0..SHARDS {
            let mut cursor = None;
            loop {
                let page = self
                    .table
                    .query(
                        &smscrm_domain::ports::Query::partition(keys::messages_partition(
                            tenant, campaign, shard,
                        ))
                        .after(cursor),
                    )
                    .await?;
                for item in page.items {
                    records.push(from_item(item)?);
                }
                match page.next_cursor {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
        }
        Ok(records)
    }
}

/// A page of a campaign's records, and where the next one starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordPage {
    pub items: Vec<MessageRecord>,
    pub next_cursor: Option<String>,
}

impl Messages {
    /// A campaign's records (optionally of one status), shard by shard. The cursor is
    /// `<shard>:<the shard's own cursor>`, opaque to callers.
    pub async fn page(
        &self,
        tenant: &TenantId,
        campaign: &CampaignId,
        status: Option<MessageStatus>,
        after: Option<&str>,
        limit: u32,
    ) -> Result<RecordPage, RepoError> {
        let (mut shard, mut cursor) = match after {
            None => (0, None),
            Some(raw) => parse_cursor(raw)?,
        };
        let mut items = Vec::new();
        // A filter that matches few records must not read a whole campaign in one request:
        // past this many records read, the page ends short, with a cursor.
        let scan_budget = limit.saturating_mul(10).max(MIN_SCAN);
        let mut scanned = 0u32;
        while shard < SHARDS && scanned < scan_budget {
            let want = limit.saturating_sub(items.len() as u32);
            let page = self
                .table
                .query(
                    &Query::partition(keys::messages_partition(tenant, campaign, shard))
                        .limit(want)
                        .after(cursor.take()),
                )
                .await?;
            scanned = scanned.saturating_add(page.items.len() as u32);
            for item in page.items {
                let record: MessageRecord = from_item(item)?;
                if status.is_none_or(|s| s == record.status) {
                    items.push(record);
                }
            }
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => shard += 1,
            }
            if items.len() as u32 >= limit {
                break;
            }
        }
        let next_cursor = (shard < SHARDS)
            .then(|| format!("{shard}:{}", cursor.map(|c| c.encode()).unwrap_or_default()));
        Ok(RecordPage { items, next_cursor })
    }
}

fn parse_cursor(raw: &str) -> Result<(u32, Option<Cursor>), RepoError> {
    let (shard, rest) = raw.split_once(':').ok_or(RepoError::InvalidCursor)?;
    let shard: u32 = shard.parse().map_err(|_| RepoError::InvalidCursor)?;
    if shard >= SHARDS {
        return Err(RepoError::InvalidCursor);
    }
    let cursor = (!rest.is_empty())
        .then(|| Cursor::decode(rest))
        .transpose()
        .map_err(|_| RepoError::InvalidCursor)?;
    Ok((shard, cursor))
}

/// A held record is in its shard's `HELD#nn` index (gsi2) by release time, across tenants, so
/// the scheduler finds what is due; other statuses are not.
pub(crate) fn record_item(tenant: &TenantId, record: &MessageRecord) -> Result<Item, RepoError> {
    let key = message_key(tenant, &record.campaign_id, &record.contact_id);
    let mut item = to_item(record, &key, "message")?;
    if let Some(expiry) = record.expiry() {
        item.insert(table::TTL.into(), Value::from(expiry));
    }
    if let (MessageStatus::Held, Some(release_at)) = (record.status, record.release_at) {
        item.insert(
            table::GSI2_PK.into(),
            Value::from(keys::held_index(shard(&record.contact_id))),
        );
        item.insert(
            table::GSI2_SK.into(),
            Value::from(format!(
                "{}#{tenant}#{}#{}",
                keys::index_time(release_at),
                record.campaign_id,
                record.contact_id
            )),
        );
    }
    Ok(item)
}

impl Messages {
    /// Held records of one shard whose release time has come, with their tenant, oldest first.
    pub async fn due(
        &self,
        shard: u32,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<(TenantId, MessageRecord)>, RepoError> {
        let page = self
            .table
            .query(
                &Query::partition(keys::held_index(shard))
                    .on(Index::Gsi2)
                    .sort(SortKeyCondition::Le(format!("{}~", keys::index_time(now))))
                    .limit(limit),
            )
            .await?;
        page.items
            .into_iter()
            .map(|item| {
                let sk = item
                    .get(table::GSI2_SK)
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let tenant = sk
                    .split('#')
                    .nth(1)
                    .and_then(|t| t.parse().ok())
                    .ok_or_else(|| RepoError::Corrupt(format!("held index entry `{sk}`")))?;
                Ok((tenant, from_item(item)?))
            })
            .collect()
    }
}

/// The contacts among `records` (for excluding them from a batch).
pub fn contacts_of(records: &[MessageRecord]) -> HashSet<ContactId> {
    records.iter().map(|r| r.contact_id.clone()).collect()
}
