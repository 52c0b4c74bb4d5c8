//! The storage port: one wide-column table with the DynamoDB operations the product needs.
//!
//! Items are JSON objects with string `pk` and `sk` attributes (and optional `gsi1pk`/`gsi1sk`,
//! `gsi2pk`/`gsi2sk` for the secondary indexes and a numeric `ttl` in epoch seconds). Attribute
//! paths are top-level names only: nested paths are not needed by any repository and keep both
//! adapters simple.
//!
//! Semantics both adapters guarantee (the conformance suite checks each):
//! - a failed condition is [`StoreError::ConditionFailed`]; in a transaction it is
//!   [`StoreError::TransactionCanceled`] naming which operations failed their condition;
//! - `update` creates the item when it is missing (DynamoDB's upsert), and returns the new item;
//! - an item whose `ttl` is in the past is invisible to `get`, `batch_get` and `query`, but still
//!   seen by conditions until it is purged (as in DynamoDB, whose TTL deletion lags): callers that
//!   rely on expiry in a condition compare `ttl` themselves;
//! - string sort keys order by UTF-8 bytes.

use async_trait::async_trait;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub type Item = serde_json::Map<String, Value>;

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const GSI1_PK: &str = "gsi1pk";
pub const GSI1_SK: &str = "gsi1sk";
pub const GSI2_PK: &str = "gsi2pk";
pub const GSI2_SK: &str = "gsi2sk";
pub const TTL: &str = "ttl";

/// DynamoDB's limits, enforced by both adapters so local behaviour predicts AWS behaviour.
pub const MAX_TRANSACT_ITEMS: usize = 100;
pub const MAX_BATCH_GET: usize = 100;
pub const MAX_BATCH_WRITE_CALL: usize = 25;
pub const MAX_QUERY_LIMIT: u32 = 1000;

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Self {
            pk: pk.into(),
            sk: sk.into(),
        }
    }

    /// The key of an item, if it has string `pk` and `sk` attributes.
    pub fn of(item: &Item) -> Result<Self, StoreError> {
        let part = |name: &str| {
            item.get(name)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .ok_or_else(|| {
                    StoreError::Invalid(format!("item needs a non-empty string `{name}`"))
                })
        };
        Ok(Self::new(part(PK)?, part(SK)?))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A typed condition, evaluated against the item currently stored under the key.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    ItemExists,
    ItemNotExists,
    AttrExists(String),
    AttrNotExists(String),
    /// Comparing values of different types is false, and a missing attribute makes every
    /// comparison false, `Ne` included. (DynamoDB's own `<>` is true in both cases; the
    /// DynamoDB adapter adds a type guard so both backends follow this rule.)
    Compare(String, CmpOp, Value),
    And(Vec<Condition>),
    Or(Vec<Condition>),
    Not(Box<Condition>),
}

impl Condition {
    pub fn eq(attr: impl Into<String>, value: impl Into<Value>) -> Self {
        Self::Compare(attr.into(), CmpOp::Eq, value.into())
    }
    pub fn ne(attr: impl Into<String>, value: impl Into<Value>) -> Self {
        Self::Compare(attr.into(), CmpOp::Ne, value.into())
    }
    pub fn lt(attr: impl Into<String>, value: impl Into<Value>) -> Self {
        Self::Compare(attr.into(), CmpOp::Lt, value.into())
    }
    pub fn le(attr: impl Into<String>, value: impl Into<Value>) -> Self {
        Self::Compare(attr.into(), CmpOp::Le, value.into())
    }
    pub fn gt(attr: impl Into<String>, value: impl Into<Value>) -> Self {
        Self::Compare(attr.into(), CmpOp::Gt, value.into())
    }
    pub fn ge(attr: impl Into<String>, value: impl Into<Value>) -> Self {
        Self::Compare(attr.into(), CmpOp::Ge, value.into())
    }
    pub fn and(self, other: Condition) -> Self {
        Self::And(vec![self, other])
    }
    pub fn or(self, other: Condition) -> Self {
        Self::Or(vec![self, other])
    }

    /// Evaluates the condition against the stored item (`None` when there is none).
    /// The embedded adapter uses this; the DynamoDB adapter renders an expression instead.
    pub fn matches(&self, item: Option<&Item>) -> bool {
        match self {
            Self::ItemExists => item.is_some(),
            Self::ItemNotExists => item.is_none(),
            Self::AttrExists(name) => item.is_some_and(|i| i.contains_key(name)),
            Self::AttrNotExists(name) => !item.is_some_and(|i| i.contains_key(name)),
            Self::Compare(name, op, expected) => item
                .and_then(|i| i.get(name))
                .is_some_and(|actual| compare(actual, *op, expected)),
            Self::And(all) => all.iter().all(|c| c.matches(item)),
            Self::Or(any) => any.iter().any(|c| c.matches(item)),
            Self::Not(inner) => !inner.matches(item),
        }
    }
}

/// DynamoDB comparison semantics on JSON values: numbers with numbers, strings with strings
/// (by UTF-8 bytes), booleans and everything else only for (in)equality.
pub fn compare(actual: &Value, op: CmpOp, expected: &Value) -> bool {
    use std::cmp::Ordering;
    let ordering: Option<Ordering> = match (actual, expected) {
        (Value::Number(a), Value::Number(b)) => match (a.as_i64(), b.as_i64()) {
            (Some(a), Some(b)) => Some(a.cmp(&b)),
            _ => a
                .as_f64()
                .zip(b.as_f64())
                .and_then(|(a, b)| a.partial_cmp(&b)),
        },
        (Value::String(a), Value::String(b)) => Some(a.as_bytes().cmp(b.as_bytes())),
        _ => None,
    };
    match (op, ordering) {
        (CmpOp::Eq, Some(o)) => o == Ordering::Equal,
        (CmpOp::Ne, Some(o)) => o != Ordering::Equal,
        (CmpOp::Eq, None) => same_type(actual, expected) && actual == expected,
        (CmpOp::Ne, None) => same_type(actual, expected) && actual != expected,
        (CmpOp::Lt, Some(o)) => o == Ordering::Less,
        (CmpOp::Le, Some(o)) => o != Ordering::Greater,
        (CmpOp::Gt, Some(o)) => o == Ordering::Greater,
        (CmpOp::Ge, Some(o)) => o != Ordering::Less,
        (_, None) => false,
    }
}

fn same_type(a: &Value, b: &Value) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

/// Changes to apply to one item, all at once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Update {
    pub set: Vec<(String, Value)>,
    /// Atomic counters: adds to the number stored (a missing attribute counts as 0).
    pub add: Vec<(String, i64)>,
    pub remove: Vec<String>,
}

impl Update {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn set(mut self, attr: impl Into<String>, value: impl Into<Value>) -> Self {
        self.set.push((attr.into(), value.into()));
        self
    }
    pub fn add(mut self, attr: impl Into<String>, by: i64) -> Self {
        self.add.push((attr.into(), by));
        self
    }
    pub fn remove(mut self, attr: impl Into<String>) -> Self {
        self.remove.push(attr.into());
        self
    }
    pub fn is_empty(&self) -> bool {
        self.set.is_empty() && self.add.is_empty() && self.remove.is_empty()
    }

    /// Rejects what DynamoDB rejects: key changes, an attribute named twice, nothing to do.
    pub fn validate(&self) -> Result<(), StoreError> {
        if self.is_empty() {
            return Err(StoreError::Invalid("update changes nothing".into()));
        }
        let mut seen = std::collections::HashSet::new();
        let names = self
            .set
            .iter()
            .map(|(n, _)| n)
            .chain(self.add.iter().map(|(n, _)| n));
        for name in names.chain(self.remove.iter()) {
            if name == PK || name == SK {
                return Err(StoreError::Invalid(format!(
                    "cannot update key attribute `{name}`"
                )));
            }
            if name.is_empty() || !seen.insert(name.as_str()) {
                return Err(StoreError::Invalid(format!(
                    "attribute `{name}` named twice or empty"
                )));
            }
        }
        Ok(())
    }

    /// Applies the update to an item in memory (the embedded adapter's implementation).
    pub fn apply(&self, key: &Key, current: Option<Item>) -> Result<Item, StoreError> {
        let mut item = current.unwrap_or_else(|| {
            let mut fresh = Item::new();
            fresh.insert(PK.into(), Value::String(key.pk.clone()));
            fresh.insert(SK.into(), Value::String(key.sk.clone()));
            fresh
        });
        for (name, value) in &self.set {
            item.insert(name.clone(), value.clone());
        }
        for (name, by) in &self.add {
            let current = match item.get(name) {
                None => 0,
                Some(Value::Number(n)) => n.as_i64().ok_or_else(|| {
                    StoreError::Invalid(format!("counter `{name}` is not an integer"))
                })?,
                Some(_) => {
                    return Err(StoreError::Invalid(format!(
                        "counter `{name}` is not a number"
                    )));
                }
            };
            let next = current
                .checked_add(*by)
                .ok_or_else(|| StoreError::Invalid(format!("counter `{name}` overflows")))?;
            item.insert(name.clone(), Value::from(next));
        }
        for name in &self.remove {
            item.remove(name);
        }
        Ok(item)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Index {
    #[default]
    Primary,
    Gsi1,
    Gsi2,
}

impl Index {
    /// The attribute names holding this index's partition and sort keys.
    pub fn key_attrs(self) -> (&'static str, &'static str) {
        match self {
            Self::Primary => (PK, SK),
            Self::Gsi1 => (GSI1_PK, GSI1_SK),
            Self::Gsi2 => (GSI2_PK, GSI2_SK),
        }
    }
    pub fn dynamo_name(self) -> Option<&'static str> {
        match self {
            Self::Primary => None,
            Self::Gsi1 => Some("gsi1"),
            Self::Gsi2 => Some("gsi2"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortKeyCondition {
    Eq(String),
    Prefix(String),
    /// Inclusive at both ends.
    Between(String, String),
    Lt(String),
    Le(String),
    Gt(String),
    Ge(String),
}

impl SortKeyCondition {
    /// Whether `sort_key` meets the condition, comparing bytes as DynamoDB does.
    pub fn admits(&self, sort_key: &str) -> bool {
        let key = sort_key.as_bytes();
        match self {
            Self::Eq(v) => key == v.as_bytes(),
            Self::Prefix(p) => key.starts_with(p.as_bytes()),
            Self::Between(low, high) => low.as_bytes() <= key && key <= high.as_bytes(),
            Self::Lt(v) => key < v.as_bytes(),
            Self::Le(v) => key <= v.as_bytes(),
            Self::Gt(v) => key > v.as_bytes(),
            Self::Ge(v) => key >= v.as_bytes(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Direction {
    #[default]
    Forward,
    Backward,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub index: Index,
    pub partition: String,
    pub sort: Option<SortKeyCondition>,
    pub direction: Direction,
    /// Items per page, 1..=[`MAX_QUERY_LIMIT`]. A page may hold fewer (expired items are
    /// filtered after the limit, as DynamoDB filters do); only `next_cursor == None` means the end.
    pub limit: u32,
    pub cursor: Option<Cursor>,
}

impl Query {
    pub fn partition(partition: impl Into<String>) -> Self {
        Self {
            index: Index::Primary,
            partition: partition.into(),
            sort: None,
            direction: Direction::Forward,
            limit: 100,
            cursor: None,
        }
    }
    pub fn on(mut self, index: Index) -> Self {
        self.index = index;
        self
    }
    pub fn sort(mut self, cond: SortKeyCondition) -> Self {
        self.sort = Some(cond);
        self
    }
    pub fn prefix(self, prefix: impl Into<String>) -> Self {
        self.sort(SortKeyCondition::Prefix(prefix.into()))
    }
    pub fn backward(mut self) -> Self {
        self.direction = Direction::Backward;
        self
    }
    pub fn limit(mut self, limit: u32) -> Self {
        self.limit = limit;
        self
    }
    pub fn after(mut self, cursor: Option<Cursor>) -> Self {
        self.cursor = cursor;
        self
    }

    /// Shared validation, so both adapters reject the same queries with the same error.
    pub fn validate(&self) -> Result<(), StoreError> {
        if self.partition.is_empty() {
            return Err(StoreError::Invalid("query needs a partition key".into()));
        }
        if self.limit == 0 || self.limit > MAX_QUERY_LIMIT {
            return Err(StoreError::Invalid(format!(
                "query limit must be 1..={MAX_QUERY_LIMIT}"
            )));
        }
        // A cursor from another query (or made up) is refused alike by both backends;
        // DynamoDB would fail a start key outside the key condition as a bad request.
        if let Some(cursor) = &self.cursor
            && (cursor.index != self.index
                || cursor.partition() != self.partition
                || cursor.key.pk.is_empty()
                || cursor.key.sk.is_empty()
                || cursor.sort_key().is_empty()
                || self
                    .sort
                    .as_ref()
                    .is_some_and(|c| !c.admits(cursor.sort_key())))
        {
            return Err(StoreError::InvalidCursor);
        }
        if let Some(SortKeyCondition::Between(low, high)) = &self.sort
            && low.as_bytes() > high.as_bytes()
        {
            return Err(StoreError::Invalid(
                "BETWEEN needs its lower bound at or below its upper bound".into(),
            ));
        }
        Ok(())
    }
}

/// Where a page ended: the last item's primary key and, on a GSI, its index key.
/// Opaque to callers: they pass [`Cursor::encode`] out and [`Cursor::decode`] back in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    #[serde(rename = "i")]
    pub index: Index,
    #[serde(rename = "k")]
    pub key: Key,
    #[serde(rename = "x", default, skip_serializing_if = "Option::is_none")]
    pub index_key: Option<Key>,
}

impl Cursor {
    /// The cursor after `item` in a query on `index`.
    pub fn after_item(index: Index, item: &Item) -> Result<Self, StoreError> {
        let key = Key::of(item)?;
        let index_key = match index {
            Index::Primary => None,
            other => {
                let (p, s) = other.key_attrs();
                let part = |n: &str| item.get(n).and_then(Value::as_str).map(str::to_owned);
                Some(Key::new(
                    part(p).ok_or(StoreError::InvalidCursor)?,
                    part(s).ok_or(StoreError::InvalidCursor)?,
                ))
            }
        };
        Ok(Self {
            index,
            key,
            index_key,
        })
    }

    /// The partition the cursor belongs to (of the index it was made on).
    pub fn partition(&self) -> &str {
        self.index_key.as_ref().map_or(&self.key.pk, |k| &k.pk)
    }

    /// The sort key the cursor stopped at (of the index it was made on).
    pub fn sort_key(&self) -> &str {
        self.index_key.as_ref().map_or(&self.key.sk, |k| &k.sk)
    }

    pub fn encode(&self) -> String {
        // Serializing a struct of strings cannot fail.
        let json = serde_json::to_vec(self).unwrap_or_default();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    pub fn decode(raw: &str) -> Result<Self, StoreError> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(raw.trim())
            .map_err(|_| StoreError::InvalidCursor)?;
        serde_json::from_slice(&bytes).map_err(|_| StoreError::InvalidCursor)
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    pub items: Vec<Item>,
    pub next_cursor: Option<Cursor>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TransactOp {
    Put {
        item: Item,
        condition: Option<Condition>,
    },
    Update {
        key: Key,
        update: Update,
        condition: Option<Condition>,
    },
    Delete {
        key: Key,
        condition: Option<Condition>,
    },
    Check {
        key: Key,
        condition: Condition,
    },
}

impl TransactOp {
    pub fn key(&self) -> Result<Key, StoreError> {
        match self {
            Self::Put { item, .. } => Key::of(item),
            Self::Update { key, .. } | Self::Delete { key, .. } | Self::Check { key, .. } => {
                Ok(key.clone())
            }
        }
    }
}

/// Rejects what DynamoDB's TransactWriteItems rejects, in both adapters alike.
pub fn validate_transaction(ops: &[TransactOp]) -> Result<(), StoreError> {
    if ops.is_empty() || ops.len() > MAX_TRANSACT_ITEMS {
        return Err(StoreError::Invalid(format!(
            "a transaction holds 1..={MAX_TRANSACT_ITEMS} operations, not {}",
            ops.len()
        )));
    }
    let mut seen = std::collections::HashSet::new();
    for op in ops {
        let key = op.key()?;
        if !seen.insert(key.clone()) {
            return Err(StoreError::Invalid(format!(
                "a transaction touches {}/{} twice",
                key.pk, key.sk
            )));
        }
        if let TransactOp::Update { update, .. } = op {
            update.validate()?;
        }
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the condition on the write was not met")]
    ConditionFailed,
    /// Indexes (0-based) of the operations whose condition failed. Empty when the transaction
    /// was cancelled for another reason, such as a conflicting concurrent transaction.
    #[error("transaction cancelled; conditions failed at operations {failed:?}")]
    TransactionCanceled { failed: Vec<usize> },
    #[error("invalid pagination cursor")]
    InvalidCursor,
    #[error("invalid request to the store: {0}")]
    Invalid(String),
    /// Worth retrying: throttling, timeouts, a busy database.
    #[error("store temporarily unavailable: {0}")]
    Unavailable(String),
    #[error("store failure: {0}")]
    Backend(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl StoreError {
    pub fn backend(err: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Backend(Box::new(err))
    }
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Unavailable(_))
    }
}

#[async_trait]
pub trait Table: Send + Sync {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError>;

    /// Up to [`MAX_BATCH_GET`] distinct keys ([`validate_batch_get`]); missing or expired
    /// items are left out; order is not kept.
    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Item>, StoreError>;

    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), StoreError>;

    /// Returns the item as it is after the update.
    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Option<Condition>,
    ) -> Result<Item, StoreError>;

    /// Returns the item that was deleted, if there was one.
    async fn delete(
        &self,
        key: &Key,
        condition: Option<Condition>,
    ) -> Result<Option<Item>, StoreError>;

    async fn query(&self, query: &Query) -> Result<Page, StoreError>;

    /// Any number of items, unconditionally. The same key twice: the last one wins.
    /// Not atomic across items (BatchWriteItem is not); retried until every item is written.
    async fn batch_put(&self, items: Vec<Item>) -> Result<(), StoreError>;

    /// All or nothing, up to [`MAX_TRANSACT_ITEMS`] operations on distinct keys.
    async fn transact(&self, ops: Vec<TransactOp>) -> Result<(), StoreError>;

    /// Puts each item whose key holds no item yet (each put is atomic on its own, as a
    /// conditional PutItem is), and returns the keys that were taken already. Distinct keys.
    async fn batch_put_if_absent(&self, items: Vec<Item>) -> Result<Vec<Key>, StoreError> {
        let mut taken = Vec::new();
        for item in dedupe_by_key(items)? {
            let key = Key::of(&item)?;
            match self.put(item, Some(Condition::ItemNotExists)).await {
                Ok(()) => {}
                Err(StoreError::ConditionFailed) => taken.push(key),
                Err(other) => return Err(other),
            }
        }
        Ok(taken)
    }

    /// Whether writing many new items in key order is much cheaper than in any order, as it is
    /// for a B-tree (the embedded store) and not for DynamoDB: bulk loads then sort first.
    fn sorted_bulk_writes_pay(&self) -> bool {
        false
    }
}

/// Rejects what DynamoDB's BatchGetItem rejects: more than [`MAX_BATCH_GET`] keys, or a key
/// named twice.
pub fn validate_batch_get(keys: &[Key]) -> Result<(), StoreError> {
    if keys.len() > MAX_BATCH_GET {
        return Err(StoreError::Invalid(format!(
            "batch_get takes up to {MAX_BATCH_GET} keys, not {}",
            keys.len()
        )));
    }
    let mut seen = std::collections::HashSet::new();
    match keys.iter().find(|k| !seen.insert(*k)) {
        Some(key) => Err(StoreError::Invalid(format!(
            "batch_get names {}/{} twice",
            key.pk, key.sk
        ))),
        None => Ok(()),
    }
}

/// Drops earlier items with the same key, keeping each key's last item in first-seen order.
pub fn dedupe_by_key(items: Vec<Item>) -> Result<Vec<Item>, StoreError> {
    let mut position = std::collections::HashMap::new();
    let mut out: Vec<Item> = Vec::with_capacity(items.len());
    for item in items {
        let key = Key::of(&item)?;
        match position.get(&key) {
            Some(&at) => out[at] = item,
            None => {
                position.insert(key, out.len());
                out.push(item);
            }
        }
    }
    Ok(out)
}

/// True when the item carries a `ttl` (epoch seconds) at or before `now_epoch`.
pub fn is_expired(item: &Item, now_epoch: i64) -> bool {
    item.get(TTL)
        .and_then(Value::as_i64)
        .is_some_and(|ttl| ttl <= now_epoch)
}
