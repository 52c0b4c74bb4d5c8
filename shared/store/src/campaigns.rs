//! Campaigns. Every write is conditional on the version it was computed from, so a status
//! change decided on stale state (a pause racing a cancel) is recomputed, never applied blindly.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::Value;
use smscrm_domain::campaign::{Action, Campaign, CampaignStatus, IllegalTransition};
use smscrm_domain::ports::{
    Condition, Cursor, Index, Item, Query, SortKeyCondition, StoreError, Table, table,
};
use smscrm_domain::{CampaignId, TenantId};

use crate::codec::to_item;
use crate::versioned::{self, RecordsPage};
use crate::{RepoError, keys};

/// How often a status change is recomputed when a concurrent write got there first.
const MAX_ATTEMPTS: usize = 8;

#[derive(Clone)]
pub struct Campaigns {
    table: Arc<dyn Table>,
}

pub type CampaignPage = RecordsPage<Campaign>;

/// Why a status change did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ActError {
    #[error(transparent)]
    Illegal(#[from] IllegalTransition),
    #[error(transparent)]
    Repo(#[from] RepoError),
}

impl Campaigns {
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    pub async fn create(&self, tenant: &TenantId, campaign: &Campaign) -> Result<(), RepoError> {
        let item = campaign_item(tenant, campaign, 1)?;
        self.table.put(item, Some(Condition::ItemNotExists)).await?;
        Ok(())
    }

    pub async fn get(
        &self,
        tenant: &TenantId,
        id: &CampaignId,
    ) -> Result<Option<Campaign>, RepoError> {
        Ok(self.get_versioned(tenant, id).await?.map(|(c, _)| c))
    }

    pub async fn get_versioned(
        &self,
        tenant: &TenantId,
        id: &CampaignId,
    ) -> Result<Option<(Campaign, i64)>, RepoError> {
        versioned::get(self.table.as_ref(), &keys::campaign(tenant, id)).await
    }

    /// Campaigns in creation order.
    pub async fn list(
        &self,
        tenant: &TenantId,
        cursor: Option<Cursor>,
        limit: u32,
    ) -> Result<CampaignPage, RepoError> {
        versioned::list(
            self.table.as_ref(),
            tenant,
            keys::CAMPAIGN_PREFIX,
            cursor,
            limit,
        )
        .await
    }

    /// Writes an edited campaign over the version it was read at.
    pub async fn replace(
        &self,
        tenant: &TenantId,
        campaign: &Campaign,
        version: i64,
    ) -> Result<(), RepoError> {
        let item = campaign_item(tenant, campaign, version + 1)?;
        versioned::replace(self.table.as_ref(), item, version, "campaign").await
    }

    /// Applies a lifecycle action to the campaign as it is now, retrying on concurrent writes.
    pub async fn act(
        &self,
        tenant: &TenantId,
        id: &CampaignId,
        action: Action,
        send_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Campaign, ActError> {
        self.act_freezing(tenant, id, action, send_at, None, now)
            .await
    }

    /// [`Campaigns::act`] for a launch that also keeps the template's body as it is now.
    pub async fn launch(
        &self,
        tenant: &TenantId,
        id: &CampaignId,
        later: bool,
        send_at: Option<DateTime<Utc>>,
        body: &str,
        now: DateTime<Utc>,
    ) -> Result<Campaign, ActError> {
        let action = Action::Launch { later };
        self.act_freezing(tenant, id, action, send_at, Some(body), now)
            .await
    }

    async fn act_freezing(
        &self,
        tenant: &TenantId,
        id: &CampaignId,
        action: Action,
        send_at: Option<DateTime<Utc>>,
        body: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Campaign, ActError> {
        for _ in 0..MAX_ATTEMPTS {
            let (mut campaign, version) = self
                .get_versioned(tenant, id)
                .await?
                .ok_or(RepoError::NotFound)?;
            campaign.act(action, send_at, now)?;
            if let Some(body) = body {
                campaign.body = Some(body.to_owned());
            }
            match self.replace(tenant, &campaign, version).await {
                Ok(()) => return Ok(campaign),
                Err(RepoError::Conflict(_)) => continue,
                Err(other) => return Err(other.into()),
            }
        }
        Err(RepoError::Store(StoreError::Unavailable(
            "the campaign kept changing; try again".into(),
        ))
        .into())
    }
}

/// A scheduled campaign is in the `SCHEDULED` index (gsi2) by its start time, and a sending
/// one in the `SENDING` index by when it started, across tenants, for the scheduler; any other
/// status takes it out (the item is rewritten without it).
fn campaign_item(tenant: &TenantId, campaign: &Campaign, version: i64) -> Result<Item, RepoError> {
    let mut item = to_item(campaign, &keys::campaign(tenant, &campaign.id), "campaign")?;
    item.insert("version".into(), Value::from(version));
    let indexed = match (campaign.status, campaign.send_at) {
        (CampaignStatus::Scheduled, Some(send_at)) => Some((
            keys::SCHEDULED_INDEX,
            format!("{}#{tenant}#{}", keys::index_time(send_at), campaign.id),
        )),
        (CampaignStatus::Sending, _) => Some((
            keys::SENDING_INDEX,
            format!(
                "{}#{tenant}#{}",
                keys::index_time(campaign.updated_at),
                campaign.id
            ),
        )),
        _ => None,
    };
    if let Some((partition, sort)) = indexed {
        item.insert(table::GSI2_PK.into(), Value::from(partition));
        item.insert(table::GSI2_SK.into(), Value::from(sort));
    }
    Ok(item)
}

/// A campaign whose start time has come, as the index names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Due {
    pub tenant_id: TenantId,
    pub campaign_id: CampaignId,
}

impl Campaigns {
    /// Scheduled campaigns whose `send_at` is at or before `now`, oldest first.
    pub async fn due(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Due>, RepoError> {
        self.indexed(keys::SCHEDULED_INDEX, now, limit).await
    }

    /// Sending campaigns that started (or resumed) at or before `before`, oldest first.
    pub async fn sending(&self, before: DateTime<Utc>, limit: u32) -> Result<Vec<Due>, RepoError> {
        self.indexed(keys::SENDING_INDEX, before, limit).await
    }

    async fn indexed(
        &self,
        partition: &str,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<Due>, RepoError> {
        let page = self
            .table
            .query(
                &Query::partition(partition)
                    .on(Index::Gsi2)
                    .sort(SortKeyCondition::Le(format!(
                        "{}~",
                        keys::index_time(until)
                    )))
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
                match (
                    parts.next().and_then(|t| t.parse().ok()),
                    parts.next().and_then(|c| c.parse().ok()),
                ) {
                    (Some(tenant_id), Some(campaign_id)) => Ok(Due {
                        tenant_id,
                        campaign_id,
                    }),
                    _ => Err(RepoError::Corrupt(format!("campaign index entry `{sk}`"))),
                }
            })
            .collect()
    }
}
