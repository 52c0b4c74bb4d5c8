//! Records written over the version they were read at (templates, campaigns): reading with
//! the version, listing a tenant's records of one kind, and the conditional rewrite.

use serde::de::DeserializeOwned;
use serde_json::Value;
use smscrm_domain::TenantId;
use smscrm_domain::ports::{Condition, Cursor, Item, Key, Query, StoreError, Table};

use crate::codec::from_item;
use crate::{RepoError, keys};

/// A page of records and where the next one starts.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordsPage<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<Cursor>,
}

pub(crate) async fn get<T: DeserializeOwned>(
    table: &dyn Table,
    key: &Key,
) -> Result<Option<(T, i64)>, RepoError> {
    let Some(item) = table.get(key).await? else {
        return Ok(None);
    };
    let version = item.get("version").and_then(Value::as_i64).unwrap_or(0);
    Ok(Some((from_item(item)?, version)))
}

/// A tenant's records whose sort keys start with `prefix`, in key (creation) order.
pub(crate) async fn list<T: DeserializeOwned>(
    table: &dyn Table,
    tenant: &TenantId,
    prefix: &str,
    cursor: Option<Cursor>,
    limit: u32,
) -> Result<RecordsPage<T>, RepoError> {
    let page = table
        .query(
            &Query::partition(keys::tenant_partition(tenant))
                .prefix(prefix)
                .limit(limit)
                .after(cursor),
        )
        .await?;
    Ok(RecordsPage {
        items: page
            .items
            .into_iter()
            .map(from_item)
            .collect::<Result<_, _>>()?,
        next_cursor: page.next_cursor,
    })
}

/// Writes `item` (which carries `version + 1`) only over `version`; a concurrent edit is a
/// conflict naming `what`, never overwritten.
pub(crate) async fn replace(
    table: &dyn Table,
    item: Item,
    version: i64,
    what: &str,
) -> Result<(), RepoError> {
    match table
        .put(item, Some(Condition::eq("version", version)))
        .await
    {
        Ok(()) => Ok(()),
        Err(StoreError::ConditionFailed) => Err(RepoError::Conflict(format!(
            "the {what} changed while this edit was made; fetch it and try again"
        ))),
        Err(other) => Err(other.into()),
    }
}
