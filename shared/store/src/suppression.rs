//! The tenant's do-not-contact list: numbers that must never be messaged by any of the
//! tenant's senders, whatever their consent says (STOP replies, carrier blocks, manual adds).
//!
//! When a person is erased, their entry stays, keyed by a salted hash of the number instead of
//! the number: every lookup checks both keys, so erasure never re-enables messaging.

use std::collections::{HashMap, HashSet};
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

/// What stays of an entry once its person is erased.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ErasedEntry {
    reason: String,
    at: DateTime<Utc>,
    erased_at: DateTime<Utc>,
}

/// The number as an erased entry keeps it: SHA-256 of the tenant and the number, so the same
/// number hashes differently in each tenant.
pub fn phone_digest(tenant: &TenantId, phone: &PhoneE164) -> String {
    smscrm_domain::apikey::hash(&format!("{tenant}:{phone}"))
}

#[derive(Clone)]
pub struct DoNotContact {
    table: Arc<dyn Table>,
}

/// Where a number's entry may be: under the number, or under its digest once erased.
fn both_keys(tenant: &TenantId, phone: &PhoneE164) -> [Key; 2] {
    [
        keys::dnc(tenant, phone),
        keys::dnc_erased(tenant, &phone_digest(tenant, phone)),
    ]
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
        for key in both_keys(tenant, phone) {
            self.table.delete(&key, None).await?;
        }
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
        let mut removed = false;
        for key in both_keys(tenant, phone) {
            let condition = Condition::eq("reason", reason);
            match self.table.delete(&key, Some(condition)).await {
                Ok(_) => removed = true,
                Err(StoreError::ConditionFailed) => {}
                Err(other) => return Err(other.into()),
            }
        }
        Ok(removed)
    }

    pub async fn get(
        &self,
        tenant: &TenantId,
        phone: &PhoneE164,
    ) -> Result<Option<Suppression>, RepoError> {
        let found = self.entries(tenant, &[phone]).await?;
        Ok(found.into_values().next())
    }

    /// Keeps the number's entry, if it has one, only as a hash of the number (or makes one
    /// for `reason` when it has none and `reason` is given); `true` if an entry is kept.
    pub async fn keep_erased(
        &self,
        tenant: &TenantId,
        phone: &PhoneE164,
        reason: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<bool, RepoError> {
        let key = keys::dnc_erased(tenant, &phone_digest(tenant, phone));
        let plain = self.table.get(&keys::dnc(tenant, phone)).await?;
        let entry = match (plain, reason) {
            (Some(item), _) => {
                let entry: Suppression = from_item(item)?;
                (entry.reason, entry.at)
            }
            // Erased before (a retry, or a number two contacts had): its reason stays.
            (None, _) if self.table.get(&key).await?.is_some() => return Ok(true),
            (None, Some(reason)) => (reason.to_owned(), now),
            (None, None) => return Ok(false),
        };
        let erased = ErasedEntry {
            reason: entry.0,
            at: entry.1,
            erased_at: now,
        };
        self.table.put(to_item(&erased, &key, "dnc")?, None).await?;
        self.table.delete(&keys::dnc(tenant, phone), None).await?;
        Ok(true)
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
        Ok(self.entries(tenant, phones).await?.into_keys().collect())
    }

    /// The entries of these numbers, by number; an erased person's entry is named by the
    /// number asked about (it holds no number itself).
    pub(crate) async fn entries(
        &self,
        tenant: &TenantId,
        phones: &[&PhoneE164],
    ) -> Result<HashMap<PhoneE164, Suppression>, RepoError> {
        let mut found = HashMap::new();
        for chunk in phones.chunks(table::MAX_BATCH_GET / 2) {
            let mut asked = HashMap::new();
            for phone in chunk {
                for key in both_keys(tenant, phone) {
                    asked.insert(key.sk.clone(), *phone);
                }
            }
            let wanted: Vec<Key> = chunk.iter().flat_map(|p| both_keys(tenant, p)).collect();
            for item in self.table.batch_get(&wanted).await? {
                let sk = item.get(table::SK).and_then(|v| v.as_str()).unwrap_or("");
                let Some(phone) = asked.get(sk).copied() else {
                    continue;
                };
                if sk == keys::dnc(tenant, phone).sk {
                    // The entry under the number itself says more: it wins.
                    found.insert(phone.clone(), from_item::<Suppression>(item)?);
                } else if !found.contains_key(phone) {
                    let erased: ErasedEntry = from_item(item)?;
                    let entry = Suppression {
                        phone: phone.clone(),
                        reason: erased.reason,
                        at: erased.at,
                        source: None,
                    };
                    found.insert(phone.clone(), entry);
                }
            }
        }
        Ok(found)
    }
}
