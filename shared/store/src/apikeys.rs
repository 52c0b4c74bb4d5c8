use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use smscrm_domain::apikey::{self, ApiKey, NewApiKey};
use smscrm_domain::ports::{Condition, Query, StoreError, Table, TransactOp, Update};
use smscrm_domain::{ApiKeyId, TenantId};

use crate::codec::{from_item, to_item};
use crate::{RepoError, keys};

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
}

/// Who a valid key speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedKey {
    pub tenant_id: TenantId,
    pub key_id: ApiKeyId,
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
        now: DateTime<Utc>,
    ) -> Result<NewApiKey, RepoError> {
        let minted = apikey::mint(tenant.clone(), name, now);
        let key = &minted.key;
        let pointer = KeyPointer {
            tenant_id: tenant.clone(),
            key_id: key.id.clone(),
            revoked: false,
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

    /// The tenant a presented key belongs to, if the key is well formed, known and not revoked.
    pub async fn resolve(&self, presented: &str) -> Result<Option<ResolvedKey>, RepoError> {
        if !apikey::looks_like_key(presented) {
            return Ok(None);
        }
        let Some(item) = self
            .table
            .get(&keys::api_key_hash(&apikey::hash(presented)))
            .await?
        else {
            return Ok(None);
        };
        let pointer: KeyPointer = from_item(item)?;
        Ok((!pointer.revoked).then_some(ResolvedKey {
            tenant_id: pointer.tenant_id,
            key_id: pointer.key_id,
        }))
    }

    pub async fn list(&self, tenant: &TenantId) -> Result<Vec<ApiKey>, RepoError> {
        let mut out = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .table
                .query(
                    &Query::partition(keys::tenant_partition(tenant))
                        .prefix(keys::APIKEY_PREFIX)
                        .limit(100)
                        .after(cursor),
                )
                .await?;
            for item in page.items {
                out.push(from_item(item)?);
            }
            cursor = page.next_cursor;
            if cursor.is_none() {
                return Ok(out);
            }
        }
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
                TransactOp::Update {
                    key: keys::api_key_hash(&key.hash),
                    update: Update::new().set("revoked", true),
                    condition: Some(Condition::ItemExists),
                },
            ])
            .await?;
        Ok(ApiKey {
            revoked_at: Some(now),
            ..key
        })
    }
}
