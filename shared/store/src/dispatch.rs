//! A campaign fan-out's state: where it is in the contact list, what it has counted, and the
//! lease that lets one dispatcher at a time work on it.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

use smscrm_domain::ports::{Condition, Cursor, Query, StoreError, Table, Update, table};
use smscrm_domain::{CampaignId, TenantId};

use crate::codec::{from_item, to_item};
use crate::messages::DispatchCounts;
use crate::{RepoError, keys};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DispatchState {
    /// The contact list's cursor after the last page fanned out; `None` at the start.
    pub cursor: Option<String>,
    pub counts: DispatchCounts,
    /// Every contact has been looked at.
    pub done: bool,
    pub finished_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_owner: Option<String>,
    /// Milliseconds since the epoch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_until: Option<i64>,
}

impl DispatchState {
    pub fn cursor(&self) -> Result<Option<Cursor>, RepoError> {
        self.cursor
            .as_deref()
            .map(Cursor::decode)
            .transpose()
            .map_err(RepoError::from)
    }
}

/// Another dispatcher holds the campaign until `until`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the campaign is being fanned out by another dispatcher until {until}")]
pub struct Leased {
    pub until: DateTime<Utc>,
}

#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    #[error(transparent)]
    Leased(#[from] Leased),
    #[error(transparent)]
    Repo(#[from] RepoError),
}

#[derive(Clone)]
pub struct Dispatches {
    table: Arc<dyn Table>,
}

impl Dispatches {
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    pub async fn get(
        &self,
        tenant: &TenantId,
        campaign: &CampaignId,
    ) -> Result<Option<DispatchState>, RepoError> {
        self.table
            .get(&keys::dispatch(tenant, campaign))
            .await?
            .map(from_item)
            .transpose()
    }

    /// The changes recorded since the fan-out, by count name (summed over the scheduler's
    /// item and the senders' per-shard items).
    pub async fn changes(
        &self,
        tenant: &TenantId,
        campaign: &CampaignId,
    ) -> Result<BTreeMap<String, i64>, RepoError> {
        let whole = keys::dispatch_changes(tenant, campaign);
        let mut totals = BTreeMap::new();
        let mut cursor = None;
        loop {
            let page = self
                .table
                .query(
                    &Query::partition(whole.pk.clone())
                        .prefix(whole.sk.clone())
                        .after(cursor),
                )
                .await?;
            for item in page.items {
                let counters = item
                    .into_iter()
                    .filter(|(name, _)| name != table::PK && name != table::SK)
                    .filter_map(|(name, value)| value.as_i64().map(|n| (name, n)));
                for (name, n) in counters {
                    *totals.entry(name).or_insert(0) += n;
                }
            }
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(totals),
            }
        }
    }

    /// The fan-out's counts with every later change applied: what the campaign's records are
    /// now. `None` before the fan-out began.
    pub async fn counts(
        &self,
        tenant: &TenantId,
        campaign: &CampaignId,
    ) -> Result<Option<(DispatchState, crate::DispatchCounts)>, RepoError> {
        let Some(state) = self.get(tenant, campaign).await? else {
            return Ok(None);
        };
        let mut counts = state.counts.clone();
        counts.apply(&self.changes(tenant, campaign).await?);
        Ok(Some((state, counts)))
    }

    /// Takes the lease (free, expired or already `owner`'s) and returns the state to go on from.
    pub async fn acquire(
        &self,
        tenant: &TenantId,
        campaign: &CampaignId,
        owner: &str,
        lease: Duration,
        now: DateTime<Utc>,
    ) -> Result<DispatchState, LeaseError> {
        let mut state = self.get(tenant, campaign).await?.unwrap_or_default();
        if let (Some(holder), Some(until)) = (&state.lease_owner, state.lease_until)
            && holder != owner
            && until > now.timestamp_millis()
        {
            return Err(Leased {
                until: DateTime::from_timestamp_millis(until).unwrap_or(now),
            }
            .into());
        }
        let previous = state.lease_until;
        state.lease_owner = Some(owner.to_owned());
        state.lease_until = Some(now.timestamp_millis() + lease.as_millis() as i64);
        // Written only over the lease we read, so two dispatchers cannot both take it.
        let condition = match previous {
            None => Condition::AttrNotExists("lease_until".into()),
            Some(until) => Condition::eq("lease_until", until),
        };
        self.write(tenant, campaign, &state, condition)
            .await
            .map_err(|e| match e {
                RepoError::Store(StoreError::ConditionFailed) => LeaseError::Leased(Leased {
                    until: now + chrono::Duration::from_std(lease).unwrap_or_default(),
                }),
                other => LeaseError::Repo(other),
            })?;
        Ok(state)
    }

    /// Gives the lease up (a run that ended or paused), so the next job need not wait for it.
    pub async fn release(
        &self,
        tenant: &TenantId,
        campaign: &CampaignId,
        owner: &str,
    ) -> Result<(), RepoError> {
        let update = Update::new().set("lease_until", 0);
        match self
            .table
            .update(
                &keys::dispatch(tenant, campaign),
                update,
                Some(Condition::eq("lease_owner", owner)),
            )
            .await
        {
            Ok(_) | Err(StoreError::ConditionFailed) => Ok(()),
            Err(other) => Err(other.into()),
        }
    }

    /// Saves progress; fails with `ConditionFailed` if the lease was lost to another.
    pub async fn save(
        &self,
        tenant: &TenantId,
        campaign: &CampaignId,
        state: &DispatchState,
    ) -> Result<(), RepoError> {
        let owner = state.lease_owner.clone().unwrap_or_default();
        self.write(tenant, campaign, state, Condition::eq("lease_owner", owner))
            .await
    }

    async fn write(
        &self,
        tenant: &TenantId,
        campaign: &CampaignId,
        state: &DispatchState,
        condition: Condition,
    ) -> Result<(), RepoError> {
        let item = to_item(state, &keys::dispatch(tenant, campaign), "dispatch")?;
        self.table
            .put(item, Some(condition))
            .await
            .map_err(|e| match e {
                StoreError::ConditionFailed => RepoError::Store(StoreError::ConditionFailed),
                other => other.into(),
            })
    }
}
