//! Domain records to and from table items.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use smscrm_domain::ports::{Item, Key, table};

use crate::RepoError;

/// The record's fields plus its key and the entity type (`type` tells items apart in a
/// partition that holds several kinds).
pub fn to_item<T: Serialize>(record: &T, key: &Key, entity: &str) -> Result<Item, RepoError> {
    let Value::Object(mut item) =
        serde_json::to_value(record).map_err(|e| RepoError::Corrupt(e.to_string()))?
    else {
        return Err(RepoError::Corrupt(format!("{entity} is not a JSON object")));
    };
    item.insert(table::PK.into(), Value::String(key.pk.clone()));
    item.insert(table::SK.into(), Value::String(key.sk.clone()));
    item.insert("type".into(), Value::String(entity.into()));
    Ok(item)
}

pub fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, RepoError> {
    serde_json::from_value(Value::Object(item)).map_err(|e| RepoError::Corrupt(e.to_string()))
}

/// The item, set to expire at `at` (the table's TTL attribute, epoch seconds). DynamoDB deletes
/// it some time after; the embedded store at once on read and in its sweep.
pub fn with_ttl(mut item: Item, at: chrono::DateTime<chrono::Utc>) -> Item {
    item.insert(table::TTL.into(), Value::from(at.timestamp()));
    item
}

/// Every item `query` matches, reading page after page: for work that needs the whole set
/// and knows it is small (a person's records, a tenant's keys), never for a tenant's contacts.
pub async fn all_items(
    table: &dyn smscrm_domain::ports::Table,
    query: &smscrm_domain::ports::Query,
) -> Result<Vec<Item>, RepoError> {
    let mut items = Vec::new();
    let mut cursor = None;
    loop {
        let page = table.query(&query.clone().after(cursor)).await?;
        items.extend(page.items);
        cursor = page.next_cursor;
        if cursor.is_none() {
            return Ok(items);
        }
    }
}

/// An item's sort key (every stored item has one).
pub fn sort_key(item: &Item) -> &str {
    item.get(table::SK).and_then(Value::as_str).unwrap_or("")
}
