//! Conversions between the port's JSON items, keys and cursors and DynamoDB attribute maps.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use smscrm_domain::ports::table::{Cursor, Index, Item, Key, PK, SK, StoreError};

use crate::error::UnexpectedResponse;

pub(crate) type DynItem = HashMap<String, AttributeValue>;

pub(crate) fn to_dynamo(item: &Item) -> Result<DynItem, StoreError> {
    serde_dynamo::to_item(item).map_err(StoreError::backend)
}

pub(crate) fn from_dynamo(item: DynItem) -> Result<Item, StoreError> {
    serde_dynamo::from_item(item).map_err(StoreError::backend)
}

pub(crate) fn key_to_dynamo(key: &Key) -> DynItem {
    HashMap::from([
        (PK.to_owned(), AttributeValue::S(key.pk.clone())),
        (SK.to_owned(), AttributeValue::S(key.sk.clone())),
    ])
}

/// The ExclusiveStartKey of a cursor: the table key, plus the index key on a GSI
/// (DynamoDB's LastEvaluatedKey on an index holds both, and wants both back).
pub(crate) fn cursor_to_start_key(cursor: &Cursor) -> Result<DynItem, StoreError> {
    let mut start = key_to_dynamo(&cursor.key);
    match (cursor.index, &cursor.index_key) {
        (Index::Primary, None) => {}
        (Index::Primary, Some(_)) | (Index::Gsi1 | Index::Gsi2, None) => {
            return Err(StoreError::InvalidCursor);
        }
        (index, Some(index_key)) => {
            let (pk, sk) = index.key_attrs();
            start.insert(pk.to_owned(), AttributeValue::S(index_key.pk.clone()));
            start.insert(sk.to_owned(), AttributeValue::S(index_key.sk.clone()));
        }
    }
    Ok(start)
}

/// The cursor for a query's LastEvaluatedKey.
pub(crate) fn cursor_from_last_key(index: Index, last: &DynItem) -> Result<Cursor, StoreError> {
    let part = |name: &str| match last.get(name) {
        Some(AttributeValue::S(value)) => Ok(value.clone()),
        // Our table's keys are strings; anything else means the table is not ours.
        _ => Err(StoreError::backend(UnexpectedResponse(format!(
            "LastEvaluatedKey lacks a string `{name}`"
        )))),
    };
    let key = Key::new(part(PK)?, part(SK)?);
    let index_key = match index {
        Index::Primary => None,
        other => {
            let (pk, sk) = other.key_attrs();
            Some(Key::new(part(pk)?, part(sk)?))
        }
    };
    Ok(Cursor {
        index,
        key,
        index_key,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.to_owned())
    }

    #[test]
    fn items_round_trip_with_integer_numbers() {
        let item = json!({
            "pk": "TENANT#1", "sk": "CONTACT#2", "ttl": 1_700_000_000, "ratio": 0.5,
            "tags": ["a", "b"], "meta": {"n": -3, "ok": true, "none": null}, "empty": ""
        });
        let Some(item) = item.as_object().cloned() else {
            panic!("not an object");
        };
        let dynamo = to_dynamo(&item).unwrap();
        assert_eq!(dynamo["ttl"], AttributeValue::N("1700000000".into()));
        assert_eq!(dynamo["tags"], AttributeValue::L(vec![s("a"), s("b")]));
        let back = from_dynamo(dynamo).unwrap();
        assert_eq!(back, item);
        assert_eq!(back["ttl"].as_i64(), Some(1_700_000_000));
    }

    #[test]
    fn primary_cursor_round_trips_through_last_evaluated_key() {
        let last = HashMap::from([("pk".to_owned(), s("P")), ("sk".to_owned(), s("S"))]);
        let cursor = cursor_from_last_key(Index::Primary, &last).unwrap();
        assert_eq!(cursor.key, Key::new("P", "S"));
        assert_eq!(cursor.index_key, None);
        assert_eq!(cursor_to_start_key(&cursor).unwrap(), last);
    }

    #[test]
    fn gsi_cursor_carries_the_index_key() {
        let last = HashMap::from([
            ("pk".to_owned(), s("P")),
            ("sk".to_owned(), s("S")),
            ("gsi2pk".to_owned(), s("GP")),
            ("gsi2sk".to_owned(), s("GS")),
        ]);
        let cursor = cursor_from_last_key(Index::Gsi2, &last).unwrap();
        assert_eq!(cursor.index_key, Some(Key::new("GP", "GS")));
        assert_eq!(cursor.partition(), "GP");
        assert_eq!(cursor_to_start_key(&cursor).unwrap(), last);
        // Survives the opaque encoding callers see.
        let decoded = Cursor::decode(&cursor.encode()).unwrap();
        assert_eq!(cursor_to_start_key(&decoded).unwrap(), last);
    }

    #[test]
    fn gsi_last_key_without_index_attributes_is_rejected() {
        let last = HashMap::from([("pk".to_owned(), s("P")), ("sk".to_owned(), s("S"))]);
        assert!(matches!(
            cursor_from_last_key(Index::Gsi1, &last),
            Err(StoreError::Backend(_))
        ));
    }

    #[test]
    fn mismatched_cursor_shapes_are_invalid() {
        let gsi_without_key = Cursor {
            index: Index::Gsi1,
            key: Key::new("P", "S"),
            index_key: None,
        };
        assert!(matches!(
            cursor_to_start_key(&gsi_without_key),
            Err(StoreError::InvalidCursor)
        ));
        let primary_with_key = Cursor {
            index: Index::Primary,
            key: Key::new("P", "S"),
            index_key: Some(Key::new("a", "b")),
        };
        assert!(matches!(
            cursor_to_start_key(&primary_with_key),
            Err(StoreError::InvalidCursor)
        ));
    }
}
