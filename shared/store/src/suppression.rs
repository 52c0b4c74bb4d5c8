//! The tenant's do-not-contact list: numbers that must never be messaged by any of the
//! tenant's senders, whatever their consent says (STOP replies, carrier blocks, manual adds).

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use smscrm_domain::ports::{Condition, Key, Query, StoreError, Table, table};
use smscrm_domain::{PhoneE164, TenantId};

use crate::codec::{from_item, to_item};
use crate::{RepoError, keys};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suppression {
    pub phone: PhoneE164,
    /// Why, e.g. `stop_reply` (the person opted out), `carrier_blocked`, `manual`.
    pub reason: String,
    pub at: DateTime<Utc>,
    /// Where it came from, e.g. `STOP to +15005550006`, `Twilio error 30004`.
    #[serde(default)]
    pub source: Option<String>,
}

/// The reason of an entry the person asked for themselves: their START lifts it.
pub const OPTED_OUT_REASON: &str = "stop_reply";

#[derive(Clone)]
pub struct DoNotContact {
    table: Arc<dyn Table>,
}

impl DoNotContact {
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    pub async fn add(&self, tenant: &TenantId, entry: &Suppression) -> Result<(), RepoError> {
        let item = to_item(entry, &keys::dnc(tenant, &entry.phone), "dnc")?;
        Ok(self.table.put(item, None).await?)
    }

    /// Adds the entry unless the number is on the list already (its first reason stays);
    /// `true` if it was added.
    pub async fn add_if_absent(
        &self,
        tenant: &TenantId,
        entry: &Suppression,
    ) -> Result<bool, RepoError> {
        let item = to_item(entry, &keys::dnc(tenant, &entry.phone), "dnc")?;
        match self
            .table
            .put(item, Some(Condition::AttrNotExists(table::PK.into())))
            .await
        {
            Ok(()) => Ok(true),
            Err(StoreError::ConditionFailed) => Ok(false),
            Err(other) => Err(other.into()),
        }
    }

    pub async fn remove(&self, tenant: &TenantId, phone: &PhoneE164) -> Result<(), RepoError> {
        self.table.delete(&keys::dnc(tenant, phone), None).await?;
        Ok(())
    }

    /// Removes the entry only if it is still there for `reason` (a block set since, for another
    /// reason, stays); `true` if it was removed.
    pub async fn remove_if_reason(
        &self,
        tenant: &TenantId,
        phone: &PhoneE164,
        reason: &str,
    ) -> Result<bool, RepoError> {
        let condition = Condition::eq("reason", reason);
        match self
            .table
            .delete(&keys::dnc(tenant, phone), Some(condition))
            .await
        {
            Ok(_) => Ok(true),
            Err(StoreError::ConditionFailed) => Ok(false),
            Err(other) => Err(other.into()),
        }
    }

    pub async fn get(
        &self,
        tenant: &TenantId,
        phone: &PhoneE164,
    ) -> Result<Option<Suppression>, RepoError> {
        self.table
            .get(&keys::dnc(tenant, phone))
            .await?
            .map(from_item)
            .transpose()
    }

    /// Whether the tenant has anyone on the list at all.
    pub async fn any(&self, tenant: &TenantId) -> Result<bool, RepoError> {
        let page = self
            .table
            .query(
                &Query::partition(keys::tenant_partition(tenant))
                    .prefix(keys::DNC_PREFIX)
                    .limit(1),
            )
            .await?;
        Ok(!page.items.is_empty() || page.next_cursor.is_some())
    }

    /// Which of these (distinct) numbers are on the list.
    pub async fn which(
        &self,
        tenant: &TenantId,
        phones: &[&PhoneE164],
    ) -> Result<HashSet<PhoneE164>, RepoError> {
        let mut found = HashSet::new();
        for chunk in phones.chunks(table::MAX_BATCH_GET) {
            let wanted: Vec<Key> = chunk.iter().map(|p| keys::dnc(tenant, p)).collect();
            for item in self.table.batch_get(&wanted).await? {
                let entry: Suppression = from_item(item)?;
                found.insert(entry.phone);
            }
        }
        Ok(found)
    }
}
