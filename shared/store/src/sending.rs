//! What senders write: a record's moves from `queued` through `claimed` to `sent` or
//! `failed` (or back), each made only over the version of the record the sender read, and each
//! together with the campaign's counters and any budget refund, in one transaction, so counts
//! and spend always agree with the records.
//!
//! Campaigns whose sends stopped at a kill switch or a pause are marked parked, so the
//! scheduler can queue their work again once sending may go on.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde_json::Value;
use smscrm_domain::ports::{Condition, Index, Item, Query, StoreError, TransactOp, Update, table};
use smscrm_domain::{CampaignId, ContactId, TenantId};

use crate::codec::to_item;
use crate::inbox::LastOutbound;
use crate::messages::{MessageRecord, Messages, record_item, shard};
use crate::{Budgets, RepoError, keys};

/// Money to give back to the budget periods it was reserved in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refund {
    pub millicents: u64,
    pub reserved_at: DateTime<Utc>,
    /// The tenant's zone, which its budget days and months follow.
    pub zone: Tz,
}

impl Refund {
    /// The record's whole reservation, if it has one.
    pub fn of(record: &MessageRecord, zone: Tz) -> Option<Self> {
        let reserved_at = record.reserved_at?;
        (record.cost_millicents > 0).then_some(Self {
            millicents: record.cost_millicents,
            reserved_at,
            zone,
        })
    }
}

impl Messages {
    /// Writes `updated` over `read` (unchanged since it was read: same status and version),
    /// moves the campaign's counts from `read`'s to `updated`'s, and gives back `refund`.
    /// `false` when the record changed meanwhile (another sender, the scheduler): nothing is
    /// written then.
    pub async fn transition(
        &self,
        tenant: &TenantId,
        read: &MessageRecord,
        updated: &MessageRecord,
        refund: Option<Refund>,
    ) -> Result<bool, RepoError> {
        self.transition_with(tenant, read, updated, refund, Vec::new())
            .await
    }

    /// [`Self::transition`] for a record Twilio accepted: its SID is taken for it in the same
    /// transaction (`false` too if another record holds the SID).
    pub async fn mark_sent(
        &self,
        tenant: &TenantId,
        read: &MessageRecord,
        sent: &MessageRecord,
    ) -> Result<bool, RepoError> {
        let Some(sid) = &sent.sid else {
            return self.transition(tenant, read, sent, None).await;
        };
        let owner = owner_of(sent);
        let key = keys::sid(tenant, sid);
        let item = expiring_with(
            to_item(&serde_json::json!({ "owner": owner }), &key, "sid")?,
            sent,
        );
        let free = Condition::AttrNotExists(table::PK.into()).or(Condition::eq("owner", owner));
        let claim_sid = TransactOp::Put {
            item,
            condition: Some(free),
        };
        // What a reply from the number answers.
        let last = LastOutbound {
            campaign_id: sent.campaign_id.clone(),
            contact_id: sent.contact_id.clone(),
            sid: sid.clone(),
            at: sent.sent_at.unwrap_or(read.created_at),
        };
        let last = TransactOp::Put {
            item: expiring_with(
                to_item(
                    &last,
                    &keys::last_outbound(tenant, &sent.phone),
                    "last_outbound",
                )?,
                sent,
            ),
            condition: None,
        };
        self.transition_with(tenant, read, sent, None, vec![claim_sid, last])
            .await
    }

    /// The record (campaign and contact) this SID settled, if any.
    pub async fn sid_owner(
        &self,
        tenant: &TenantId,
        sid: &str,
    ) -> Result<Option<(CampaignId, ContactId)>, RepoError> {
        let item = self.table().get(&keys::sid(tenant, sid)).await?;
        let Some(owner) =
            item.and_then(|i| i.get("owner").and_then(Value::as_str).map(str::to_owned))
        else {
            return Ok(None);
        };
        let parsed = owner
            .split_once('/')
            .and_then(|(c, k)| Some((c.parse().ok()?, k.parse().ok()?)));
        parsed
            .map(Some)
            .ok_or_else(|| RepoError::Corrupt(format!("SID owner `{owner}`")))
    }

    /// Whether a record other than `record` was settled by this SID.
    pub async fn sid_taken_by_another(
        &self,
        tenant: &TenantId,
        sid: &str,
        record: &MessageRecord,
    ) -> Result<bool, RepoError> {
        let item = self.table().get(&keys::sid(tenant, sid)).await?;
        Ok(item
            .and_then(|i| i.get("owner").and_then(Value::as_str).map(str::to_owned))
            .is_some_and(|owner| owner != owner_of(record)))
    }

    async fn transition_with(
        &self,
        tenant: &TenantId,
        read: &MessageRecord,
        updated: &MessageRecord,
        refund: Option<Refund>,
        extra: Vec<TransactOp>,
    ) -> Result<bool, RepoError> {
        let mut next = updated.clone();
        next.version = read.version + 1;
        let condition =
            Condition::eq("status", status_name(read)?).and(Condition::eq("version", read.version));
        let mut ops = vec![TransactOp::Put {
            item: record_item(tenant, &next)?,
            condition: Some(condition),
        }];
        if let Some(update) = count_moves(read, &next) {
            ops.push(TransactOp::Update {
                key: keys::dispatch_changes_shard(
                    tenant,
                    &read.campaign_id,
                    shard(&read.contact_id),
                ),
                update,
                condition: None,
            });
        }
        if let Some(refund) = refund {
            ops.extend(Budgets::refund_ops(tenant, refund)?);
        }
        ops.extend(extra);
        let written = crate::conflicts::transact(self.table(), ops, "campaign counters");
        Ok(written.await?.is_ok())
    }

    /// Marks a campaign parked: a sender left its queued records at a kill switch or pause.
    pub async fn park(
        &self,
        tenant: &TenantId,
        campaign: &CampaignId,
        now: DateTime<Utc>,
    ) -> Result<(), RepoError> {
        let mut item = to_item(
            &serde_json::json!({ "parked_at": now }),
            &keys::parked(tenant, campaign),
            "parked",
        )?;
        item.insert(table::GSI2_PK.into(), Value::from(keys::PARKED_INDEX));
        item.insert(
            table::GSI2_SK.into(),
            Value::from(format!("{}#{tenant}#{campaign}", keys::index_time(now))),
        );
        self.table().put(item, None).await?;
        Ok(())
    }

    /// Parked campaigns of every tenant, oldest first.
    /// The tenant's campaigns with parked records (the kill switch stopped their sends).
    pub async fn parked_of(&self, tenant: &TenantId) -> Result<Vec<CampaignId>, RepoError> {
        let mut campaigns = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .table()
                .query(
                    &Query::partition(keys::tenant_partition(tenant))
                        .prefix(keys::PARKED_PREFIX)
                        .after(cursor),
                )
                .await?;
            for item in &page.items {
                let sk = item.get(table::SK).and_then(Value::as_str).unwrap_or("");
                let campaign = sk
                    .strip_prefix(keys::PARKED_PREFIX)
                    .and_then(|c| c.parse().ok())
                    .ok_or_else(|| RepoError::Corrupt(format!("parked mark `{sk}`")))?;
                campaigns.push(campaign);
            }
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(campaigns),
            }
        }
    }

    pub async fn parked(&self, limit: u32) -> Result<Vec<(TenantId, CampaignId)>, RepoError> {
        let page = self
            .table()
            .query(
                &Query::partition(keys::PARKED_INDEX)
                    .on(Index::Gsi2)
                    .limit(limit),
            )
            .await?;
        page.items
            .iter()
            .map(|item| {
                let sk = item
                    .get(table::GSI2_SK)
                    .and_then(Value::as_str)
                    .unwrap_or("");
                let mut parts = sk.split('#').skip(1);
                let tenant = parts.next().and_then(|t| t.parse().ok());
                let campaign = parts.next().and_then(|c| c.parse().ok());
                tenant
                    .zip(campaign)
                    .ok_or_else(|| RepoError::Corrupt(format!("parked index entry `{sk}`")))
            })
            .collect()
    }

    /// When the campaign was parked, if it is.
    pub async fn parked_at(
        &self,
        tenant: &TenantId,
        campaign: &CampaignId,
    ) -> Result<Option<DateTime<Utc>>, RepoError> {
        let item = self.table().get(&keys::parked(tenant, campaign)).await?;
        Ok(item
            .and_then(|i| i.get("parked_at").cloned())
            .and_then(|v| serde_json::from_value(v).ok()))
    }

    /// Removes the mark if it is still the one parked at `at`.
    pub async fn unpark(
        &self,
        tenant: &TenantId,
        campaign: &CampaignId,
        at: DateTime<Utc>,
    ) -> Result<(), RepoError> {
        let same = Condition::eq("parked_at", serde_json::to_value(at).unwrap_or_default());
        match self
            .table()
            .delete(&keys::parked(tenant, campaign), Some(same))
            .await
        {
            Ok(_) | Err(StoreError::ConditionFailed) => Ok(()),
            Err(other) => Err(other.into()),
        }
    }
}

/// The counter changes of a record moving from `read` to `next`, if it moves between counts.
fn count_moves(read: &MessageRecord, next: &MessageRecord) -> Option<Update> {
    let (from, to) = (read.count_names(), next.count_names());
    let mut update = Update::new();
    for name in from.iter().filter(|n| !to.contains(n)) {
        update = update.add(name.clone(), -1);
    }
    for name in to.iter().filter(|n| !from.contains(n)) {
        update = update.add(name.clone(), 1);
    }
    (!update.is_empty()).then_some(update)
}

/// A record's name as a SID's owner: its campaign and contact.
fn owner_of(record: &MessageRecord) -> String {
    format!("{}/{}", record.campaign_id, record.contact_id)
}

/// The status as stored (its serde name), for conditions.
fn status_name(record: &MessageRecord) -> Result<String, RepoError> {
    serde_json::to_value(record.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .ok_or_else(|| RepoError::Corrupt("message status".into()))
}

impl Budgets {
    /// Gives `refund` back on its own (the reservation's record was not written).
    pub async fn refund(&self, tenant: &TenantId, refund: Refund) -> Result<(), RepoError> {
        self.table()
            .transact(Self::refund_ops(tenant, refund)?)
            .await?;
        Ok(())
    }

    /// Operations giving `refund` back to the day and month it was reserved in.
    pub fn refund_ops(tenant: &TenantId, refund: Refund) -> Result<Vec<TransactOp>, RepoError> {
        let amount = i64::try_from(refund.millicents)
            .map_err(|_| RepoError::Store(StoreError::Invalid("amount too large".into())))?;
        Ok(
            crate::budget::period_keys(tenant, refund.reserved_at, refund.zone)
                .into_iter()
                .map(|key| TransactOp::Update {
                    key,
                    update: Update::new().add("spent", -amount),
                    condition: None,
                })
                .collect(),
        )
    }
}

/// An item about `record` that expires with it.
fn expiring_with(mut item: Item, record: &MessageRecord) -> Item {
    if let Some(expiry) = record.expiry() {
        item.insert(table::TTL.into(), Value::from(expiry));
    }
    item
}
