//! Items as rows: the key, index and TTL columns DynamoDB would derive from an item, and the
//! checks DynamoDB applies to key values, so a write it would reject is rejected here too.
//!
//! The stored JSON leaves out the attributes its key and index columns hold, and reading puts
//! them back: keys are a quarter of a contact's bytes and most of a phone claim's, and every
//! byte is written twice (WAL, then the checkpoint). Rows written before this kept them, which
//! reads accept as well.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;
use smscrm_domain::ports::table::{
    GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK, Item, Key, PK, SK, StoreError, TTL,
};

/// DynamoDB's largest partition and sort key values, in UTF-8 bytes.
const MAX_PARTITION_KEY: usize = 2048;
const MAX_SORT_KEY: usize = 1024;

/// What one `items` row holds.
pub(super) struct Row {
    pub key: Key,
    pub gsi1: Option<Key>,
    pub gsi2: Option<Key>,
    pub ttl: Option<i64>,
    pub data: Vec<u8>,
}

impl Row {
    pub fn of(item: &Item) -> Result<Self, StoreError> {
        let key = Key::of(item)?;
        check_key(&key)?;
        let gsi1 = index_key(item, GSI1_PK, GSI1_SK)?;
        let gsi2 = index_key(item, GSI2_PK, GSI2_SK)?;
        let stored = WithoutColumns {
            item,
            gsi1: gsi1.is_some(),
            gsi2: gsi2.is_some(),
        };
        Ok(Self {
            gsi1,
            gsi2,
            // DynamoDB's TTL only acts on numbers; `is_expired` reads it the same way.
            ttl: item.get(TTL).and_then(Value::as_i64),
            data: serde_json::to_vec(&stored).map_err(StoreError::backend)?,
            key,
        })
    }
}

/// An item as stored: without the attributes its columns hold (an index's only when the
/// item is in that index, i.e. has both of its attributes as strings).
struct WithoutColumns<'a> {
    item: &'a Item,
    gsi1: bool,
    gsi2: bool,
}

impl WithoutColumns<'_> {
    fn in_a_column(&self, attribute: &str) -> bool {
        match attribute {
            PK | SK => true,
            GSI1_PK | GSI1_SK => self.gsi1,
            GSI2_PK | GSI2_SK => self.gsi2,
            _ => false,
        }
    }
}

impl Serialize for WithoutColumns<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for (name, value) in self.item {
            if !self.in_a_column(name) {
                map.serialize_entry(name, value)?;
            }
        }
        map.end()
    }
}

/// The columns [`restore`] reads, in its order.
pub(super) const ITEM_COLUMNS: &str = "pk, sk, gsi1pk, gsi1sk, gsi2pk, gsi2sk, data";

/// The item in a row read with [`ITEM_COLUMNS`] starting at column `first`.
pub(super) fn restore(row: &rusqlite::Row<'_>, first: usize) -> Result<Item, StoreError> {
    let column = |offset: usize| -> Result<Option<&[u8]>, StoreError> {
        let value = row.get_ref(first + offset).map_err(StoreError::backend)?;
        value.as_blob_or_null().map_err(StoreError::backend)
    };
    let mut item = parse(column(6)?.unwrap_or_default())?;
    for (offset, attribute) in [PK, SK, GSI1_PK, GSI1_SK, GSI2_PK, GSI2_SK]
        .iter()
        .enumerate()
    {
        if let Some(bytes) = column(offset)? {
            let text = std::str::from_utf8(bytes).map_err(StoreError::backend)?;
            item.insert((*attribute).to_owned(), Value::String(text.to_owned()));
        }
    }
    Ok(item)
}

/// Rejects keys DynamoDB rejects: empty or longer than its limits.
pub(super) fn check_key(key: &Key) -> Result<(), StoreError> {
    if key.pk.is_empty() || key.sk.is_empty() {
        return Err(StoreError::Invalid("key values must not be empty".into()));
    }
    if key.pk.len() > MAX_PARTITION_KEY || key.sk.len() > MAX_SORT_KEY {
        return Err(StoreError::Invalid(format!(
            "key too long: partition keys hold up to {MAX_PARTITION_KEY} bytes, sort keys {MAX_SORT_KEY}"
        )));
    }
    Ok(())
}

/// The item's key in a GSI, or `None` when it is not in that index. As in DynamoDB, an item
/// missing either attribute is left out of the index, while a present attribute of the wrong
/// type or an empty string fails the write.
fn index_key(item: &Item, pk_attr: &str, sk_attr: &str) -> Result<Option<Key>, StoreError> {
    let part = |attr: &str| match item.get(attr) {
        None => Ok(None),
        Some(Value::String(s)) if !s.is_empty() => Ok(Some(s.clone())),
        Some(Value::String(_)) => Err(StoreError::Invalid(format!(
            "index key attribute `{attr}` must not be an empty string"
        ))),
        Some(_) => Err(StoreError::Invalid(format!(
            "index key attribute `{attr}` must be a string"
        ))),
    };
    match (part(pk_attr)?, part(sk_attr)?) {
        (Some(pk), Some(sk)) => {
            let key = Key::new(pk, sk);
            check_key(&key)?;
            Ok(Some(key))
        }
        _ => Ok(None),
    }
}

/// The stored JSON back as an item.
pub(super) fn parse(data: &[u8]) -> Result<Item, StoreError> {
    serde_json::from_slice(data).map_err(StoreError::backend)
}

/// A key column back as the string it was written from.
pub(super) fn text(bytes: Vec<u8>) -> Result<String, StoreError> {
    String::from_utf8(bytes).map_err(StoreError::backend)
}

/// The smallest byte string greater than every string starting with `prefix`, or `None` when
/// there is none (`prefix` is empty or all 0xFF). A prefix query is then the byte range
/// `[prefix, successor(prefix))`.
pub(crate) fn successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut bound = prefix.to_vec();
    while let Some(last) = bound.pop() {
        if last < 0xFF {
            bound.push(last + 1);
            return Some(bound);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn successor_increments_the_last_byte() {
        assert_eq!(successor(b"CONTACT#"), Some(b"CONTACT$".to_vec()));
        assert_eq!(successor(b"a"), Some(b"b".to_vec()));
    }

    #[test]
    fn successor_drops_trailing_ff_bytes() {
        assert_eq!(successor(&[0x61, 0xFF, 0xFF]), Some(vec![0x62]));
        assert_eq!(successor(&[0x61, 0xFE, 0xFF]), Some(vec![0x61, 0xFF]));
    }

    #[test]
    fn successor_has_no_bound_for_empty_or_all_ff() {
        assert_eq!(successor(b""), None);
        assert_eq!(successor(&[0xFF, 0xFF]), None);
    }

    #[test]
    fn successor_bounds_multibyte_utf8_prefixes() {
        let prefix = "é".as_bytes();
        let upper = successor(prefix).unwrap_or_default();
        assert!("éa".as_bytes() < upper.as_slice());
        assert!("ê".as_bytes() >= upper.as_slice());
    }

    fn item(value: serde_json::Value) -> Item {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn index_columns_need_both_attributes() {
        let row = Row::of(&item(json!({"pk": "p", "sk": "s", "gsi1pk": "x"})));
        assert!(row.is_ok_and(|r| r.gsi1.is_none() && r.gsi2.is_none()));
        let row = Row::of(&item(
            json!({"pk": "p", "sk": "s", "gsi2pk": "x", "gsi2sk": "y"}),
        ));
        assert!(row.is_ok_and(|r| r.gsi2 == Some(Key::new("x", "y"))));
    }

    #[test]
    fn wrong_typed_or_empty_index_keys_are_rejected() {
        for bad in [json!(1), json!(null), json!("")] {
            let row = Row::of(&item(
                json!({"pk": "p", "sk": "s", "gsi1pk": bad, "gsi1sk": "y"}),
            ));
            assert!(matches!(row, Err(StoreError::Invalid(_))));
        }
    }

    #[test]
    fn stored_json_leaves_out_only_what_columns_hold() {
        let stored = |v| {
            let row = Row::of(&item(v)).expect("row");
            serde_json::from_slice::<serde_json::Value>(&row.data).expect("json")
        };
        let full = json!({"pk": "p", "sk": "s", "gsi1pk": "x", "gsi1sk": "y", "n": 1});
        assert_eq!(stored(full), json!({"n": 1}));
        // Not in the index: no column holds it, so the JSON must.
        let lone = json!({"pk": "p", "sk": "s", "gsi2pk": "x", "n": 1});
        assert_eq!(stored(lone), json!({"gsi2pk": "x", "n": 1}));
    }

    #[test]
    fn ttl_column_only_from_integers() {
        let ttl = |v| Row::of(&item(json!({"pk": "p", "sk": "s", "ttl": v}))).map(|r| r.ttl);
        assert_eq!(ttl(json!(5)).ok(), Some(Some(5)));
        assert_eq!(ttl(json!("5")).ok(), Some(None));
    }
}
