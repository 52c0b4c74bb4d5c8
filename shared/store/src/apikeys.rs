use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use smscrm_domain::apikey::{self, ApiKey, NewApiKey, Scope};
use smscrm_domain::ports::{Condition, Query, StoreError, Table, TransactOp, Update};
use smscrm_domain::{ApiKeyId, TenantId};

use crate::codec::{all_items, from_item, to_item};
use crate::{RepoError, keys};

/// How stale a key's last-used time may get: a busy key writes it once a minute, not on
/// every request.
const TOUCH_EVERY: chrono::Duration = chrono::Duration::minutes(1);

#[derive(Clone)]
pub struct ApiKeys {
    table: Arc<dyn Table>,
}

/// What the hash item holds: just enough to authenticate a request with one read.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct KeyPointer {
    tenant_id: TenantId,
    key_id: ApiKeyId,
    revoked: bool,
    #[serde(default = "apikey::all_scopes")]
    scopes: Vec<Scope>,
    /// Kept here, not on the key's record, so that authenticating stays one read and the
    /// write it sometimes makes lands outside the tenant's partition.
    #[serde(default)]
    last_used_at: Option<DateTime<Utc>>,
}

/// Who a valid key speaks for, and what it may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedKey {
    pub tenant_id: TenantId,
    pub key_id: ApiKeyId,
    pub scopes: Vec<Scope>,
}

impl ApiKeys {
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    /// Mints a key for the tenant and stores its hash. The plaintext is returned once.
    pub async fn create(
        &self,
        tenant: &TenantId,
        name: &str,
        scopes: Vec<Scope>,
        now: DateTime<Utc>,
    ) -> Result<NewApiKey, RepoError> {
        let minted = apikey::mint(tenant.clone(), name, scopes, now);
        let key = &minted.key;
        let pointer = KeyPointer {
            tenant_id: tenant.clone(),
            key_id: key.id.clone(),
            revoked: false,
            scopes: key.scopes.clone(),
            last_used_at: None,
        };
        self.table
            .transact(vec![
                TransactOp::Check {
                    key: keys::tenant(tenant),
                    condition: Condition::ItemExists,
                },
                TransactOp::Put {
                    item: to_item(key, &keys::api_key(tenant, &key.id), "api_key")?,
                    condition: Some(Condition::ItemNotExists),
                },
                TransactOp::Put {
                    item: to_item(&pointer, &keys::api_key_hash(&key.hash), "api_key_hash")?,
                    condition: Some(Condition::ItemNotExists),
                },
            ])
            .await
            .map_err(|e| match e {
                StoreError::TransactionCanceled { failed } if failed.contains(&0) => {
                    RepoError::NotFound
                }
                other => other.into(),
            })?;
        Ok(minted)
    }

    /// The tenant a presented key belongs to, if the key is well formed, known and not
    /// revoked; notes that it was used.
    pub async fn resolve(
        &self,
        presented: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ResolvedKey>, RepoError> {
        if !apikey::looks_like_key(presented) {
            return Ok(None);
        }
        let pointer_key = keys::api_key_hash(&apikey::hash(presented));
        let Some(item) = self.table.get(&pointer_key).await? else {
            return Ok(None);
        };
        let pointer: KeyPointer = from_item(item)?;
        if pointer.revoked {
            return Ok(None);
        }
        if pointer
            .last_used_at
            .is_none_or(|at| now - at >= TOUCH_EVERY)
        {
            self.touch(&pointer_key, now).await;
        }
        Ok(Some(ResolvedKey {
            tenant_id: pointer.tenant_id,
            key_id: pointer.key_id,
            scopes: pointer.scopes,
        }))
    }

    /// Best effort: a request is not refused because its key's last-used time was not moved.
    async fn touch(&self, pointer_key: &smscrm_domain::ports::Key, now: DateTime<Utc>) {
        let Ok(at) = serde_json::to_value(now) else {
            return;
        };
        let touched = self
            .table
            .update(
                pointer_key,
                Update::new().set("last_used_at", at),
                Some(Condition::ItemExists),
            )
            .await;
        if let Err(error) = touched {
            tracing::warn!(%error, "the API key's last-used time was not moved");
        }
    }

    /// The tenant's keys, oldest first, each with when it was last used.
    pub async fn list(&self, tenant: &TenantId) -> Result<Vec<ApiKey>, RepoError> {
        let mut keys = self.records(tenant).await?;
        let pointers = keys
            .iter()
            .map(|k| keys::api_key_hash(&k.hash))
            .collect::<Vec<_>>();
        let mut last_used = std::collections::HashMap::new();
        for chunk in pointers.chunks(100) {
            for item in self.table.batch_get(chunk).await? {
                let pointer: KeyPointer = from_item(item)?;
                last_used.insert(pointer.key_id, pointer.last_used_at);
            }
        }
        for key in &mut keys {
            key.last_used_at = last_used.remove(&key.id).flatten();
        }
        Ok(keys)
    }

    async fn records(&self, tenant: &TenantId) -> Result<Vec<ApiKey>, RepoError> {
        let query = Query::partition(keys::tenant_partition(tenant))
            .prefix(keys::APIKEY_PREFIX)
            .limit(100);
        all_items(self.table.as_ref(), &query)
            .await?
            .into_iter()
            .map(from_item)
            .collect()
    }

    /// Revokes a key at once: the next request with it is refused.
    pub async fn revoke(
        &self,
        tenant: &TenantId,
        key_id: &ApiKeyId,
        now: DateTime<Utc>,
    ) -> Result<ApiKey, RepoError> {
        let record_key = keys::api_key(tenant, key_id);
        let Some(item) = self.table.get(&record_key).await? else {
            return Err(RepoError::NotFound);
        };
        let key: ApiKey = from_item(item)?;
        if key.revoked_at.is_some() {
            return Err(RepoError::Conflict("the key is already revoked".into()));
        }
        self.table
            .transact(vec![
                TransactOp::Update {
                    key: record_key,
                    update: Update::new().set("revoked_at", now.to_rfc3339()),
                    condition: Some(Condition::AttrExists("hash".into())),
                },
                // Two revokes at once: one wins, the other is told it is revoked already.
                TransactOp::Update {
                    key: keys::api_key_hash(&key.hash),
                    update: Update::new().set("revoked", true),
                    condition: Some(Condition::eq("revoked", false)),
                },
            ])
            .await
            .map_err(|e| match e {
                StoreError::TransactionCanceled { .. } => {
                    RepoError::Conflict("the key is already revoked".into())
                }
                other => other.into(),
            })?;
        Ok(ApiKey {
            revoked_at: Some(now),
            ..key
        })
    }
}
