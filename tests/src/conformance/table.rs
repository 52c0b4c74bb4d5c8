//! Conformance cases of the [`Table`] port. Every case uses partitions of its own.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;
use std::sync::Arc;

use serde_json::{Value, json};
use smscrm_domain::ports::table::{
    Condition, Cursor, Index, Item, Key, MAX_BATCH_GET, MAX_TRANSACT_ITEMS, Query,
    SortKeyCondition, StoreError, Table, TransactOp, Update,
};
use tokio::sync::Barrier;

use super::{obj, unique};

/// This module's source, for the check that every case is listed in the suite macro.
pub const SOURCE: &str = include_str!("table.rs");

// ---------------------------------------------------------------------------------------------
// helpers (not cases: cases are the `pub async fn`s)

fn item_at(key: &Key, attrs: Value) -> Item {
    let mut item = obj(attrs);
    item.insert("pk".into(), json!(key.pk));
    item.insert("sk".into(), json!(key.sk));
    item
}

async fn get(table: &dyn Table, key: &Key) -> Option<Item> {
    table
        .get(key)
        .await
        .unwrap_or_else(|e| panic!("get {key:?} failed: {e:?}"))
}

async fn put(table: &dyn Table, item: Item) {
    let shown = format!("{item:?}");
    table
        .put(item, None)
        .await
        .unwrap_or_else(|e| panic!("put {shown} failed: {e:?}"));
}

#[track_caller]
fn assert_condition_failed<T: Debug>(result: Result<T, StoreError>, what: &str) {
    assert!(
        matches!(result, Err(StoreError::ConditionFailed)),
        "{what}: expected Err(ConditionFailed), got {result:?}"
    );
}

#[track_caller]
fn assert_invalid<T: Debug>(result: Result<T, StoreError>, what: &str) {
    assert!(
        matches!(result, Err(StoreError::Invalid(_))),
        "{what}: expected Err(Invalid(_)), got {result:?}"
    );
}

#[track_caller]
fn assert_canceled<T: Debug>(result: Result<T, StoreError>, failed: &[usize], what: &str) {
    match result {
        Err(StoreError::TransactionCanceled { failed: mut got }) => {
            got.sort_unstable();
            assert_eq!(got, failed, "{what}: wrong failed operation indexes");
        }
        other => panic!(
            "{what}: expected Err(TransactionCanceled {{ failed: {failed:?} }}), got {other:?}"
        ),
    }
}

fn sk_of(item: &Item) -> &str {
    item.get("sk").and_then(Value::as_str).unwrap_or_default()
}

fn sks(items: &[Item]) -> Vec<&str> {
    items.iter().map(sk_of).collect()
}

fn sorted_by_bytes(mut keys: Vec<String>) -> Vec<String> {
    keys.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    keys
}

/// Runs `query` page by page (round-tripping each cursor through its encoded form, as callers
/// do), asserting no page exceeds the limit, and returns every item in order.
async fn query_all(table: &dyn Table, query: Query) -> Vec<Item> {
    let mut out = Vec::new();
    let mut cursor: Option<Cursor> = None;
    let mut pages = 0;
    loop {
        let page = table
            .query(&query.clone().after(cursor.take()))
            .await
            .unwrap_or_else(|e| panic!("query {query:?} failed: {e:?}"));
        pages += 1;
        assert!(
            page.items.len() <= query.limit as usize,
            "a page of {} items exceeds the limit {}",
            page.items.len(),
            query.limit
        );
        out.extend(page.items);
        match page.next_cursor {
            None => break,
            Some(next) => {
                let decoded = Cursor::decode(&next.encode()).expect("a cursor decodes");
                assert_eq!(decoded, next, "a cursor survives encode/decode");
                cursor = Some(decoded);
            }
        }
        assert!(pages <= 1000, "query never ended: {query:?}");
    }
    out
}

async fn sort_query(table: &dyn Table, pk: &str, cond: SortKeyCondition) -> Vec<String> {
    let items = query_all(table, Query::partition(pk).sort(cond).limit(2)).await;
    sks(&items).into_iter().map(str::to_owned).collect()
}

#[derive(Debug, Clone, Copy)]
enum Write {
    Put,
    Update,
    Delete,
}

/// Runs each condition against its own stored copy of `base` with `write`, checking the
/// outcome and that a failed condition changes nothing.
async fn check_conditions(
    table: &dyn Table,
    write: Write,
    base: Value,
    cases: Vec<(Condition, bool)>,
) {
    let pk = unique("cond");
    for (i, (condition, expected)) in cases.into_iter().enumerate() {
        let key = Key::new(&pk, format!("case{i:03}"));
        let stored = item_at(&key, base.clone());
        put(table, stored.clone()).await;
        let what = format!("{write:?} with {condition:?} (expected to hold: {expected})");
        match write {
            Write::Put => {
                let mut next = stored.clone();
                next.insert("marker".into(), json!(i));
                let result = table.put(next.clone(), Some(condition)).await;
                if expected {
                    result.unwrap_or_else(|e| panic!("{what}: {e:?}"));
                    assert_eq!(get(table, &key).await, Some(next), "{what}: item after put");
                } else {
                    assert_condition_failed(result, &what);
                    assert_eq!(
                        get(table, &key).await,
                        Some(stored),
                        "{what}: item unchanged"
                    );
                }
            }
            Write::Update => {
                let update = Update::new().set("marker", i);
                let result = table.update(&key, update, Some(condition)).await;
                if expected {
                    let new = result.unwrap_or_else(|e| panic!("{what}: {e:?}"));
                    let mut want = stored.clone();
                    want.insert("marker".into(), json!(i));
                    assert_eq!(new, want, "{what}: returned item");
                    assert_eq!(get(table, &key).await, Some(want), "{what}: stored item");
                } else {
                    assert_condition_failed(result, &what);
                    assert_eq!(
                        get(table, &key).await,
                        Some(stored),
                        "{what}: item unchanged"
                    );
                }
            }
            Write::Delete => {
                let result = table.delete(&key, Some(condition)).await;
                if expected {
                    let old = result.unwrap_or_else(|e| panic!("{what}: {e:?}"));
                    assert_eq!(old, Some(stored), "{what}: returned old item");
                    assert_eq!(get(table, &key).await, None, "{what}: item deleted");
                } else {
                    assert_condition_failed(result, &what);
                    assert_eq!(
                        get(table, &key).await,
                        Some(stored),
                        "{what}: item unchanged"
                    );
                }
            }
        }
    }
}

fn condition_base() -> Value {
    json!({ "n": 5, "neg": -3, "f": 1.5, "s": "m", "b": true, "l": [1, 2], "nul": null })
}

fn not(c: Condition) -> Condition {
    Condition::Not(Box::new(c))
}

fn attr_exists(name: &str) -> Condition {
    Condition::AttrExists(name.into())
}

fn attr_not_exists(name: &str) -> Condition {
    Condition::AttrNotExists(name.into())
}

/// Condition cases on [`condition_base`], with whether each holds.
fn condition_cases() -> Vec<(Condition, bool)> {
    use Condition as C;
    vec![
        (C::ItemExists, true),
        (C::ItemNotExists, false),
        (attr_exists("n"), true),
        (attr_exists("nul"), true),
        (attr_exists("absent"), false),
        (attr_not_exists("absent"), true),
        (attr_not_exists("n"), false),
        // numbers
        (C::eq("n", 5), true),
        (C::eq("n", 6), false),
        (C::ne("n", 6), true),
        (C::ne("n", 5), false),
        (C::lt("n", 6), true),
        (C::lt("n", 5), false),
        (C::le("n", 5), true),
        (C::le("n", 4), false),
        (C::gt("n", 4), true),
        (C::gt("n", 5), false),
        (C::ge("n", 5), true),
        (C::ge("n", 6), false),
        (C::gt("n", 4.5), true),
        (C::lt("n", 5.5), true),
        (C::eq("f", 1.5), true),
        (C::lt("f", 2), true),
        (C::gt("f", 1.5), false),
        (C::ge("f", 1.5), true),
        (C::lt("neg", 0), true),
        (C::gt("neg", -4), true),
        (C::lt("neg", -3), false),
        (C::lt("n", 10), true),
        // strings, by UTF-8 bytes
        (C::eq("s", "m"), true),
        (C::eq("s", "M"), false),
        (C::ne("s", "m"), false),
        (C::ne("s", "x"), true),
        (C::lt("s", "n"), true),
        (C::lt("s", "m"), false),
        (C::le("s", "m"), true),
        (C::le("s", "l"), false),
        (C::gt("s", "N"), true),
        (C::gt("s", "m"), false),
        (C::ge("s", "m"), true),
        (C::lt("s", "é"), true),
        (C::lt("s", "ma"), true),
        // booleans: equality only
        (C::eq("b", true), true),
        (C::eq("b", false), false),
        (C::ne("b", false), true),
        (C::ne("b", true), false),
        // combinators
        (C::eq("n", 5).and(C::eq("s", "m")), true),
        (C::eq("n", 5).and(C::eq("s", "x")), false),
        (C::eq("n", 6).and(C::eq("s", "m")), false),
        (C::eq("n", 6).or(C::eq("s", "m")), true),
        (C::eq("n", 5).or(C::eq("s", "x")), true),
        (C::eq("n", 6).or(C::eq("s", "x")), false),
        (not(C::eq("n", 6)), true),
        (not(C::eq("n", 5)), false),
        (not(attr_exists("absent")), true),
        (not(C::ItemExists), false),
        (
            C::And(vec![
                C::ItemExists,
                attr_exists("s"),
                C::Or(vec![C::lt("n", 0), not(attr_exists("absent"))]),
            ]),
            true,
        ),
        (
            C::Or(vec![
                C::And(vec![C::ge("n", 5), C::le("n", 4)]),
                not(C::Or(vec![C::eq("b", true), C::eq("s", "q")])),
            ]),
            false,
        ),
        // the Powertools idempotency shape: not exists OR expired OR (in progress AND stale)
        (
            attr_not_exists("absent")
                .or(C::lt("n", 1))
                .or(C::eq("s", "x").and(C::lt("f", 0))),
            true,
        ),
        (
            attr_not_exists("n")
                .or(C::lt("n", 1))
                .or(C::eq("s", "x").and(C::lt("f", 0))),
            false,
        ),
    ]
}

/// Comparisons against a missing attribute or a value of another type: the port defines every
/// one of them as false, `Ne` included.
fn mismatch_cases() -> Vec<(Condition, bool)> {
    use Condition as C;
    vec![
        (C::eq("absent", 1), false),
        (C::ne("absent", 1), false),
        (C::lt("absent", 1), false),
        (C::ge("absent", "a"), false),
        (C::eq("n", "5"), false),
        (C::ne("n", "5"), false),
        (C::lt("n", "6"), false),
        (C::ge("s", 1), false),
        (C::eq("b", "true"), false),
        (C::ne("b", 1), false),
        (not(C::ne("absent", 1)), true),
    ]
}

// ---------------------------------------------------------------------------------------------
// cases

/// Nested JSON values of every kind come back exactly as written.
pub async fn round_trip_nested_json(table: Arc<dyn Table>) {
    let key = Key::new(unique("rt"), "item#1");
    let item = item_at(
        &key,
        json!({
            "s": "héllo \"wörld\" ✓ 日本 😀",
            "empty_s": "",
            "int": 42,
            "zero": 0,
            "neg": -7,
            "big": 9_007_199_254_740_993_i64,
            "min": i64::MIN,
            "float": 1.5,
            "negf": -0.25,
            "sci": 6.02e23,
            "small": 0.001,
            "t": true,
            "f": false,
            "nul": null,
            "list": [1, "two", 3.5, false, null, [], {"k": "v"}, [[1], ["x"]]],
            "empty_list": [],
            "map": {"a": {"b": [1, {"c": null}], "d": "e"}, "n": 0, "t": true},
            "empty_map": {},
        }),
    );
    assert_eq!(get(&*table, &key).await, None, "a fresh key is missing");
    put(&*table, item.clone()).await;
    assert_eq!(
        get(&*table, &key).await,
        Some(item.clone()),
        "get after put"
    );

    let batch = table
        .batch_get(std::slice::from_ref(&key))
        .await
        .expect("batch_get");
    assert_eq!(batch, vec![item.clone()], "batch_get after put");

    let page = table
        .query(&Query::partition(&key.pk))
        .await
        .expect("query");
    assert_eq!(page.items, vec![item], "query after put");
}

/// A put replaces the whole item: attributes it does not carry are gone.
pub async fn put_replaces_whole_item(table: Arc<dyn Table>) {
    let key = Key::new(unique("replace"), "x");
    put(
        &*table,
        item_at(&key, json!({"a": 1, "b": "two", "c": [3]})),
    )
    .await;
    let second = item_at(&key, json!({"a": 2}));
    put(&*table, second.clone()).await;
    assert_eq!(get(&*table, &key).await, Some(second));
}

/// `ItemNotExists` makes a put create-only; `ItemExists` makes it replace-only.
pub async fn conditional_put_item_not_exists(table: Arc<dyn Table>) {
    let key = Key::new(unique("cput"), "k");
    let first = item_at(&key, json!({"v": "first"}));
    let second = item_at(&key, json!({"v": "second"}));

    table
        .put(first.clone(), Some(Condition::ItemNotExists))
        .await
        .expect("first create-only put");
    assert_condition_failed(
        table
            .put(second.clone(), Some(Condition::ItemNotExists))
            .await,
        "second create-only put",
    );
    assert_eq!(
        get(&*table, &key).await,
        Some(first),
        "the first item is unchanged"
    );

    table
        .put(second.clone(), Some(Condition::ItemExists))
        .await
        .expect("replace-only put of an existing item");
    assert_eq!(get(&*table, &key).await, Some(second));

    let other = Key::new(&key.pk, "other");
    assert_condition_failed(
        table
            .put(
                item_at(&other, json!({"v": 1})),
                Some(Condition::ItemExists),
            )
            .await,
        "replace-only put of a missing item",
    );
    assert_eq!(get(&*table, &other).await, None, "nothing was created");
    table
        .put(item_at(&other, json!({"v": 1})), Some(attr_not_exists("v")))
        .await
        .expect("attribute conditions on a missing item see no attributes");
}

/// Every comparison operator, attribute (not) exists and and/or/not, on `put`.
pub async fn conditions_on_put(table: Arc<dyn Table>) {
    check_conditions(&*table, Write::Put, condition_base(), condition_cases()).await;
    check_conditions(&*table, Write::Put, condition_base(), mismatch_cases()).await;
}

/// Every comparison operator, attribute (not) exists and and/or/not, on `update`.
pub async fn conditions_on_update(table: Arc<dyn Table>) {
    check_conditions(&*table, Write::Update, condition_base(), condition_cases()).await;
    check_conditions(&*table, Write::Update, condition_base(), mismatch_cases()).await;
}

/// Every comparison operator, attribute (not) exists and and/or/not, on `delete`.
pub async fn conditions_on_delete(table: Arc<dyn Table>) {
    check_conditions(&*table, Write::Delete, condition_base(), condition_cases()).await;
    check_conditions(&*table, Write::Delete, condition_base(), mismatch_cases()).await;
}

/// `update` upserts a missing item (counters start at 0), unless its condition fails.
pub async fn update_creates_missing_item(table: Arc<dyn Table>) {
    let pk = unique("upsert");
    let key = Key::new(&pk, "new");
    let created = table
        .update(
            &key,
            Update::new().set("a", "x").add("n", 5).remove("gone"),
            None,
        )
        .await
        .expect("update of a missing item");
    let want = item_at(&key, json!({"a": "x", "n": 5}));
    assert_eq!(created, want, "returned item");
    assert_eq!(get(&*table, &key).await, Some(want), "stored item");

    let guarded = Key::new(&pk, "guarded");
    assert_condition_failed(
        table
            .update(
                &guarded,
                Update::new().set("a", 1),
                Some(Condition::ItemExists),
            )
            .await,
        "update of a missing item with ItemExists",
    );
    assert_condition_failed(
        table
            .update(
                &guarded,
                Update::new().set("a", 1),
                Some(Condition::eq("a", 1)),
            )
            .await,
        "update of a missing item comparing an attribute",
    );
    assert_eq!(
        get(&*table, &guarded).await,
        None,
        "a failed update creates nothing"
    );

    let created = table
        .update(
            &guarded,
            Update::new().add("n", -2),
            Some(Condition::ItemNotExists),
        )
        .await
        .expect("update of a missing item with ItemNotExists");
    assert_eq!(created, item_at(&guarded, json!({"n": -2})));
}

/// SET, ADD and REMOVE in one call, returning the item as it is afterwards.
pub async fn update_set_add_remove_returns_new_item(table: Arc<dyn Table>) {
    let key = Key::new(unique("upd"), "x");
    put(
        &*table,
        item_at(
            &key,
            json!({"keep": "k", "gone": "x", "count": 3, "status": "old"}),
        ),
    )
    .await;
    let update = Update::new()
        .set("status", "sent")
        .set("meta", json!({"a": [1, {"b": null}]}))
        .add("count", 4)
        .add("fresh", -2)
        .remove("gone")
        .remove("never_there");
    let new = table.update(&key, update, None).await.expect("update");
    let want = item_at(
        &key,
        json!({"keep": "k", "count": 7, "fresh": -2, "status": "sent", "meta": {"a": [1, {"b": null}]}}),
    );
    assert_eq!(new, want, "returned item");
    assert_eq!(get(&*table, &key).await, Some(want), "stored item");

    let new = table
        .update(&key, Update::new().add("count", -10), None)
        .await
        .expect("a negative add");
    assert_eq!(new.get("count"), Some(&json!(-3)));
}

/// 50 concurrent ADD 1 on one counter: exactly 50, each caller seeing a distinct value.
pub async fn concurrent_counter_adds(table: Arc<dyn Table>) {
    const TASKS: usize = 50;
    let key = Key::new(unique("counter"), "c");
    let barrier = Arc::new(Barrier::new(TASKS));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..TASKS {
        let (table, key, barrier) = (table.clone(), key.clone(), barrier.clone());
        tasks.spawn(async move {
            barrier.wait().await;
            table.update(&key, Update::new().add("n", 1), None).await
        });
    }
    let mut seen = BTreeSet::new();
    while let Some(joined) = tasks.join_next().await {
        let item = joined.expect("task").expect("concurrent add");
        let n = item
            .get("n")
            .and_then(Value::as_i64)
            .expect("n is a number");
        assert!(seen.insert(n), "two adds returned the same count {n}");
    }
    let want: BTreeSet<i64> = (1..=TASKS as i64).collect();
    assert_eq!(seen, want, "every add returned a distinct count");
    let stored = get(&*table, &key).await.expect("counter item");
    assert_eq!(stored.get("n"), Some(&json!(TASKS)), "final count");
}

/// 20 tasks race to claim a pending item with a conditional update: exactly one wins.
pub async fn claim_race_has_one_winner(table: Arc<dyn Table>) {
    const TASKS: usize = 20;
    let key = Key::new(unique("claim"), "msg#1");
    put(&*table, item_at(&key, json!({"status": "pending"}))).await;
    let barrier = Arc::new(Barrier::new(TASKS));
    let mut tasks = tokio::task::JoinSet::new();
    for worker in 0..TASKS {
        let (table, key, barrier) = (table.clone(), key.clone(), barrier.clone());
        tasks.spawn(async move {
            barrier.wait().await;
            let update = Update::new().set("status", "claimed").set("owner", worker);
            let result = table
                .update(&key, update, Some(Condition::eq("status", "pending")))
                .await;
            (worker, result)
        });
    }
    let mut winners = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (worker, result) = joined.expect("task");
        match result {
            Ok(item) => {
                assert_eq!(
                    item.get("owner"),
                    Some(&json!(worker)),
                    "winner's returned item"
                );
                winners.push(worker);
            }
            Err(StoreError::ConditionFailed) => {}
            Err(other) => panic!("worker {worker}: expected Ok or ConditionFailed, got {other:?}"),
        }
    }
    assert_eq!(
        winners.len(),
        1,
        "exactly one claim wins, winners: {winners:?}"
    );
    let stored = get(&*table, &key).await.expect("claimed item");
    assert_eq!(stored.get("status"), Some(&json!("claimed")));
    assert_eq!(stored.get("owner"), Some(&json!(winners[0])));
}

/// 30 tasks each reserve 10 of a budget of 100 with `ADD` guarded by `spent <= cap - 10`:
/// exactly 10 succeed and the budget is spent to the cent, never beyond.
pub async fn budget_race_never_overspends(table: Arc<dyn Table>) {
    const TASKS: usize = 30;
    const CAP: i64 = 100;
    const EACH: i64 = 10;
    let key = Key::new(unique("budget"), "b");
    put(&*table, item_at(&key, json!({"spent": 0, "cap": CAP}))).await;
    let barrier = Arc::new(Barrier::new(TASKS));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..TASKS {
        let (table, key, barrier) = (table.clone(), key.clone(), barrier.clone());
        tasks.spawn(async move {
            barrier.wait().await;
            table
                .update(
                    &key,
                    Update::new().add("spent", EACH),
                    Some(Condition::le("spent", CAP - EACH)),
                )
                .await
        });
    }
    let mut granted = BTreeSet::new();
    let mut refused = 0;
    while let Some(joined) = tasks.join_next().await {
        match joined.expect("task") {
            Ok(item) => {
                let spent = item.get("spent").and_then(Value::as_i64).expect("spent");
                assert!(
                    granted.insert(spent),
                    "two reservations saw spent = {spent}"
                );
            }
            Err(StoreError::ConditionFailed) => refused += 1,
            Err(other) => panic!("expected Ok or ConditionFailed, got {other:?}"),
        }
    }
    let want: BTreeSet<i64> = (1..=CAP / EACH).map(|i| i * EACH).collect();
    assert_eq!(granted, want, "exactly {} reservations succeed", CAP / EACH);
    assert_eq!(refused, TASKS - want.len(), "the others are refused");
    let stored = get(&*table, &key).await.expect("budget item");
    assert_eq!(stored.get("spent"), Some(&json!(CAP)));
}

/// A transaction with a failing condition writes nothing and names the failing operations.
pub async fn transaction_all_or_nothing(table: Arc<dyn Table>) {
    let pk = unique("tx");
    let k = |sk: &str| Key::new(&pk, sk);
    let guard = item_at(&k("guard"), json!({"v": 1}));
    let taken = item_at(&k("taken"), json!({"v": "original"}));
    put(&*table, guard.clone()).await;
    put(&*table, taken.clone()).await;

    // A failing Check among puts.
    let result = table
        .transact(vec![
            TransactOp::Put {
                item: item_at(&k("a"), json!({"v": 1})),
                condition: None,
            },
            TransactOp::Put {
                item: item_at(&k("b"), json!({"v": 2})),
                condition: None,
            },
            TransactOp::Check {
                key: k("guard"),
                condition: Condition::eq("v", 2),
            },
            TransactOp::Put {
                item: item_at(&k("c"), json!({"v": 3})),
                condition: None,
            },
        ])
        .await;
    assert_canceled(result, &[2], "a failing Check at index 2");

    // A failing condition on a put, with an update and a delete that would succeed.
    let result = table
        .transact(vec![
            TransactOp::Put {
                item: item_at(&k("a"), json!({"v": 1})),
                condition: None,
            },
            TransactOp::Put {
                item: item_at(&k("taken"), json!({"v": "overwritten"})),
                condition: Some(Condition::ItemNotExists),
            },
            TransactOp::Update {
                key: k("d"),
                update: Update::new().add("n", 1),
                condition: None,
            },
            TransactOp::Delete {
                key: k("guard"),
                condition: Some(Condition::ItemExists),
            },
        ])
        .await;
    assert_canceled(result, &[1], "a failing create-only Put at index 1");

    // Two failing conditions: both are named.
    let result = table
        .transact(vec![
            TransactOp::Update {
                key: k("guard"),
                update: Update::new().add("v", 1),
                condition: Some(Condition::gt("v", 1)),
            },
            TransactOp::Put {
                item: item_at(&k("a"), json!({"v": 1})),
                condition: None,
            },
            TransactOp::Check {
                key: k("taken"),
                condition: Condition::eq("v", "original"),
            },
            TransactOp::Delete {
                key: k("missing"),
                condition: Some(Condition::ItemExists),
            },
        ])
        .await;
    assert_canceled(result, &[0, 3], "failing conditions at indexes 0 and 3");

    for sk in ["a", "b", "c", "d", "missing"] {
        assert_eq!(get(&*table, &k(sk)).await, None, "{sk} was not written");
    }
    assert_eq!(
        get(&*table, &k("guard")).await,
        Some(guard),
        "guard unchanged"
    );
    assert_eq!(
        get(&*table, &k("taken")).await,
        Some(taken),
        "taken unchanged"
    );
}

/// A transaction whose conditions hold applies its puts, updates, deletes and checks.
pub async fn transaction_applies_every_kind_of_op(table: Arc<dyn Table>) {
    let pk = unique("txok");
    let k = |sk: &str| Key::new(&pk, sk);
    put(&*table, item_at(&k("counter"), json!({"n": 1}))).await;
    put(&*table, item_at(&k("old"), json!({"v": "old"}))).await;
    let checked = item_at(&k("checked"), json!({"status": "active"}));
    put(&*table, checked.clone()).await;

    table
        .transact(vec![
            TransactOp::Put {
                item: item_at(&k("new"), json!({"v": "new"})),
                condition: Some(Condition::ItemNotExists),
            },
            TransactOp::Update {
                key: k("counter"),
                update: Update::new().add("n", 2).set("touched", true),
                condition: Some(Condition::eq("n", 1)),
            },
            TransactOp::Update {
                key: k("upserted"),
                update: Update::new().add("n", 1),
                condition: None,
            },
            TransactOp::Delete {
                key: k("old"),
                condition: Some(Condition::ItemExists),
            },
            TransactOp::Check {
                key: k("checked"),
                condition: Condition::eq("status", "active"),
            },
        ])
        .await
        .expect("a transaction whose conditions hold");

    assert_eq!(
        get(&*table, &k("new")).await,
        Some(item_at(&k("new"), json!({"v": "new"})))
    );
    assert_eq!(
        get(&*table, &k("counter")).await,
        Some(item_at(&k("counter"), json!({"n": 3, "touched": true})))
    );
    assert_eq!(
        get(&*table, &k("upserted")).await,
        Some(item_at(&k("upserted"), json!({"n": 1})))
    );
    assert_eq!(get(&*table, &k("old")).await, None);
    assert_eq!(get(&*table, &k("checked")).await, Some(checked));
}

/// More than 100 operations, the same key twice, or none at all: `Invalid`, nothing written.
pub async fn transaction_limits_are_invalid(table: Arc<dyn Table>) {
    let pk = unique("txlim");
    let puts = |n: usize, tag: &str| -> Vec<TransactOp> {
        (0..n)
            .map(|i| TransactOp::Put {
                item: item_at(&Key::new(&pk, format!("{tag}{i:03}")), json!({"i": i})),
                condition: None,
            })
            .collect()
    };

    assert_invalid(
        table.transact(puts(MAX_TRANSACT_ITEMS + 1, "over")).await,
        "a transaction of 101 operations",
    );
    assert_eq!(
        get(&*table, &Key::new(&pk, "over000")).await,
        None,
        "nothing written"
    );

    let mut twice = puts(3, "twice");
    twice.push(TransactOp::Check {
        key: Key::new(&pk, "twice001"),
        condition: Condition::ItemNotExists,
    });
    assert_invalid(
        table.transact(twice).await,
        "a transaction touching one key twice",
    );
    assert_eq!(
        get(&*table, &Key::new(&pk, "twice000")).await,
        None,
        "nothing written"
    );

    assert_invalid(table.transact(Vec::new()).await, "an empty transaction");

    table
        .transact(puts(MAX_TRANSACT_ITEMS, "max"))
        .await
        .expect("a transaction of exactly 100 operations");
    let written = query_all(&*table, Query::partition(&pk).prefix("max").limit(1000)).await;
    assert_eq!(written.len(), MAX_TRANSACT_ITEMS, "all 100 written");
}

/// 25 items (mixed case, non-ASCII) in pages of 7, forward and backward: each exactly once,
/// in UTF-8 byte order of the sort key; neighbouring partitions never leak in.
pub async fn pagination_visits_each_item_once_in_byte_order(table: Arc<dyn Table>) {
    let pk = unique("page");
    let raw = [
        "A",
        "B",
        "Z",
        "a",
        "b",
        "z",
        "É",
        "é",
        "ß",
        "日本",
        "😀 emoji",
        "item#001",
        "item#002",
        "item#010",
        "Item#1",
        "~tilde",
        "0",
        "9",
        " space",
        "a-b",
        "a_b",
        "a.b",
        "Zürich",
        "zebra",
        "é#2",
    ];
    assert_eq!(raw.len(), 25);
    let expected = sorted_by_bytes(raw.iter().map(|s| (*s).to_owned()).collect());
    let mut items = Vec::new();
    for (i, sk) in raw.iter().enumerate() {
        let item = item_at(&Key::new(&pk, *sk), json!({"i": i}));
        items.push(item);
    }
    table.batch_put(items.clone()).await.expect("batch_put");
    // Neighbours whose partition key shares a prefix with ours.
    put(
        &*table,
        item_at(&Key::new(format!("{pk}X"), "A"), json!({})),
    )
    .await;
    put(
        &*table,
        item_at(&Key::new(format!("{pk}#"), "A"), json!({})),
    )
    .await;

    let by_sk: BTreeMap<String, Item> = items
        .into_iter()
        .map(|i| (sk_of(&i).to_owned(), i))
        .collect();

    let forward = query_all(&*table, Query::partition(&pk).limit(7)).await;
    assert_eq!(
        sks(&forward),
        expected,
        "forward order by bytes, each item once"
    );
    for item in &forward {
        assert_eq!(
            Some(item),
            by_sk.get(sk_of(item)),
            "full items are returned"
        );
    }

    let backward = query_all(&*table, Query::partition(&pk).backward().limit(7)).await;
    let mut reversed = expected.clone();
    reversed.reverse();
    assert_eq!(
        sks(&backward),
        reversed,
        "backward order by bytes, each item once"
    );

    // The first page is full and hands out a cursor.
    let first = table
        .query(&Query::partition(&pk).limit(7))
        .await
        .expect("first page");
    assert_eq!(sks(&first.items), expected[..7].to_vec(), "first page");
    assert!(
        first.next_cursor.is_some(),
        "a full first page has a cursor"
    );

    // One page holding everything ends the query.
    let all = table
        .query(&Query::partition(&pk).limit(100))
        .await
        .expect("one big page");
    assert_eq!(sks(&all.items), expected);
    assert_eq!(all.next_cursor, None, "no cursor after the last item");
}

/// Prefix, between (inclusive), lt, le, gt, ge and eq on the sort key, in byte order.
pub async fn sort_key_conditions(table: Arc<dyn Table>) {
    let pk = unique("sortcond");
    let raw = [
        "a", "b", "b#1", "b#2", "b#3", "bb", "c", "B", "é1", "é2", "f",
    ];
    let items = raw
        .iter()
        .map(|sk| item_at(&Key::new(&pk, *sk), json!({})))
        .collect();
    table.batch_put(items).await.expect("batch_put");

    use SortKeyCondition as S;
    let cases: Vec<(S, Vec<&str>)> = vec![
        (S::Prefix("b#".into()), vec!["b#1", "b#2", "b#3"]),
        (S::Prefix("b".into()), vec!["b", "b#1", "b#2", "b#3", "bb"]),
        (S::Prefix("B".into()), vec!["B"]),
        (S::Prefix("é".into()), vec!["é1", "é2"]),
        (S::Prefix("x".into()), vec![]),
        (S::Between("b#1".into(), "b#2".into()), vec!["b#1", "b#2"]),
        (
            S::Between("b".into(), "c".into()),
            vec!["b", "b#1", "b#2", "b#3", "bb", "c"],
        ),
        (S::Between("c".into(), "z".into()), vec!["c", "f"]),
        (S::Lt("b".into()), vec!["B", "a"]),
        (S::Le("b".into()), vec!["B", "a", "b"]),
        (S::Gt("bb".into()), vec!["c", "f", "é1", "é2"]),
        (S::Ge("bb".into()), vec!["bb", "c", "f", "é1", "é2"]),
        (S::Gt("f".into()), vec!["é1", "é2"]),
        (S::Eq("bb".into()), vec!["bb"]),
        (S::Eq("b#".into()), vec![]),
    ];
    for (cond, want) in cases {
        let got = sort_query(&*table, &pk, cond.clone()).await;
        assert_eq!(got, want, "forward query with {cond:?}");
        let backward = query_all(
            &*table,
            Query::partition(&pk).sort(cond.clone()).backward().limit(3),
        )
        .await;
        let mut reversed = want.clone();
        reversed.reverse();
        assert_eq!(sks(&backward), reversed, "backward query with {cond:?}");
    }
}

/// Queries on gsi1 and gsi2, paginated both ways; items without both index attributes are
/// absent from the index; ties on the index sort key are still visited exactly once.
pub async fn gsi_queries_paginate(table: Arc<dyn Table>) {
    let base_a = unique("gsibase");
    let base_b = unique("gsibase");
    let g1 = unique("g1");
    let g2 = unique("g2");
    let mut items = Vec::new();
    let mut in_g1 = Vec::new();
    let mut in_g2 = Vec::new();
    for i in 0..12 {
        let pk = if i % 2 == 0 { &base_a } else { &base_b };
        let key = Key::new(pk, format!("item#{i:02}"));
        // Ties: pairs share a gsi1 sort key.
        let gsi1sk = format!("2024-01-{:02}", i / 2);
        let gsi2sk = format!("Z{:02}", 11 - i);
        let item = item_at(
            &key,
            json!({"i": i, "gsi1pk": g1, "gsi1sk": gsi1sk, "gsi2pk": g2, "gsi2sk": gsi2sk}),
        );
        in_g1.push(item.clone());
        in_g2.push(item.clone());
        items.push(item);
    }
    // Not in gsi1: no gsi1 attributes, or only half of them. In gsi2 only.
    for (i, attrs) in [
        json!({"gsi2pk": g2, "gsi2sk": "A00"}),
        json!({"gsi1pk": g1, "gsi2pk": g2, "gsi2sk": "A01"}),
        json!({"gsi1sk": "2024-01-00", "gsi2pk": g2, "gsi2sk": "A02"}),
    ]
    .into_iter()
    .enumerate()
    {
        let item = item_at(&Key::new(&base_a, format!("only2#{i}")), attrs);
        in_g2.push(item.clone());
        items.push(item);
    }
    // In no index at all.
    items.push(item_at(
        &Key::new(&base_b, "plain"),
        json!({"note": "no index"}),
    ));
    // Same index partition names in the primary index must not leak in.
    items.push(item_at(&Key::new(&g1, "2024-01-00"), json!({})));
    table.batch_put(items).await.expect("batch_put");

    let primary_key = |item: &Item| Key::of(item).expect("key");
    let gsi1sk = |item: &Item| {
        item.get("gsi1sk")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };

    // gsi1: ties, so check order of the index sort key and each item exactly once.
    for backward in [false, true] {
        let mut query = Query::partition(&g1).on(Index::Gsi1).limit(3);
        if backward {
            query = query.backward();
        }
        let got = query_all(&*table, query).await;
        let mut got_keys: Vec<Key> = got.iter().map(primary_key).collect();
        let mut want_keys: Vec<Key> = in_g1.iter().map(primary_key).collect();
        got_keys.sort();
        want_keys.sort();
        assert_eq!(
            got_keys, want_keys,
            "gsi1 (backward: {backward}) visits each item once"
        );
        let order: Vec<String> = got.iter().map(gsi1sk).collect();
        let mut sorted = order.clone();
        sorted.sort();
        if backward {
            sorted.reverse();
        }
        assert_eq!(
            order, sorted,
            "gsi1 (backward: {backward}) ordered by gsi1sk"
        );
        for item in &got {
            assert!(in_g1.contains(item), "gsi1 returns full items: {item:?}");
        }
    }

    // gsi2: distinct sort keys, so the exact order is known.
    let mut want = in_g2.clone();
    want.sort_by(|a, b| a["gsi2sk"].as_str().cmp(&b["gsi2sk"].as_str()));
    let got = query_all(&*table, Query::partition(&g2).on(Index::Gsi2).limit(4)).await;
    assert_eq!(got, want, "gsi2 forward");
    want.reverse();
    let got = query_all(
        &*table,
        Query::partition(&g2).on(Index::Gsi2).backward().limit(5),
    )
    .await;
    assert_eq!(got, want, "gsi2 backward");

    // Sort conditions on an index.
    let got = query_all(
        &*table,
        Query::partition(&g2).on(Index::Gsi2).prefix("A").limit(2),
    )
    .await;
    let got: Vec<&str> = got.iter().filter_map(|i| i["gsi2sk"].as_str()).collect();
    assert_eq!(got, ["A00", "A01", "A02"], "gsi2 prefix");
    let got = query_all(
        &*table,
        Query::partition(&g1)
            .on(Index::Gsi1)
            .sort(SortKeyCondition::Between(
                "2024-01-01".into(),
                "2024-01-02".into(),
            ))
            .limit(3),
    )
    .await;
    assert_eq!(got.len(), 4, "gsi1 between covers two pairs of ties");

    // The index partition is not a primary partition and vice versa.
    let got = query_all(&*table, Query::partition(&base_a).on(Index::Gsi1)).await;
    assert!(
        got.is_empty(),
        "a base partition is not a gsi1 partition: {got:?}"
    );
}

/// A cursor only continues the query it came from.
pub async fn cursor_from_another_partition_is_invalid(table: Arc<dyn Table>) {
    let pk_a = unique("cura");
    let pk_b = unique("curb");
    let g = unique("curg");
    let mut items = Vec::new();
    for i in 0..3 {
        items.push(item_at(
            &Key::new(&pk_a, format!("{i}")),
            json!({"gsi1pk": g, "gsi1sk": format!("{i}")}),
        ));
        items.push(item_at(&Key::new(&pk_b, format!("{i}")), json!({})));
    }
    table.batch_put(items).await.expect("batch_put");

    let page = table
        .query(&Query::partition(&pk_a).limit(1))
        .await
        .expect("first page");
    let cursor = page.next_cursor.expect("a cursor after a partial page");

    let result = table
        .query(&Query::partition(&pk_b).limit(1).after(Some(cursor.clone())))
        .await;
    assert!(
        matches!(result, Err(StoreError::InvalidCursor)),
        "a cursor from partition A used on partition B: {result:?}"
    );
    // The same partition, but a sort key the query's condition leaves out (a list's cursor
    // sent with a search), or none at all.
    for sort in [
        SortKeyCondition::Prefix("2".into()),
        SortKeyCondition::Between("1".into(), "2".into()),
        SortKeyCondition::Gt("0".into()),
    ] {
        let result = table
            .query(
                &Query::partition(&pk_a)
                    .sort(sort.clone())
                    .limit(1)
                    .after(Some(cursor.clone())),
            )
            .await;
        assert!(
            matches!(result, Err(StoreError::InvalidCursor)),
            "a cursor at sort key 0 used with {sort:?}: {result:?}"
        );
    }
    let mut blank = cursor.clone();
    blank.key.sk = String::new();
    let result = table
        .query(&Query::partition(&pk_a).limit(1).after(Some(blank)))
        .await;
    assert!(
        matches!(result, Err(StoreError::InvalidCursor)),
        "a cursor without a sort key: {result:?}"
    );
    let page = table
        .query(
            &Query::partition(&pk_a)
                .sort(SortKeyCondition::Le("1".into()))
                .limit(1)
                .after(Some(cursor.clone())),
        )
        .await
        .expect("a cursor the condition admits");
    assert_eq!(page.items.len(), 1);
    let result = table
        .query(
            &Query::partition(&g)
                .on(Index::Gsi1)
                .limit(1)
                .after(Some(cursor)),
        )
        .await;
    assert!(
        matches!(result, Err(StoreError::InvalidCursor)),
        "a primary-index cursor used on gsi1: {result:?}"
    );

    let page = table
        .query(&Query::partition(&g).on(Index::Gsi1).limit(1))
        .await
        .expect("gsi1 first page");
    let cursor = page.next_cursor.expect("a gsi1 cursor");
    let result = table
        .query(&Query::partition(&pk_a).limit(1).after(Some(cursor)))
        .await;
    assert!(
        matches!(result, Err(StoreError::InvalidCursor)),
        "a gsi1 cursor used on the primary index: {result:?}"
    );
}

/// An item whose `ttl` has passed is invisible to get, batch_get and query (primary and
/// index), yet still seen by conditions; one with a future `ttl` is visible.
pub async fn ttl_hides_expired_items(table: Arc<dyn Table>) {
    let pk = unique("ttl");
    let g = unique("ttlg");
    let now = chrono::Utc::now().timestamp();
    let k = |sk: &str| Key::new(&pk, sk);
    let idx = |sk: &str| json!({"gsi1pk": g, "gsi1sk": sk});
    let with = |sk: &str, ttl: Option<i64>| {
        let mut item = item_at(&k(sk), idx(sk));
        if let Some(ttl) = ttl {
            item.insert("ttl".into(), json!(ttl));
        }
        item
    };
    let live = with("b-live", Some(now + 3600));
    let plain = with("d-plain", None);
    let expired = [
        with("a-expired", Some(now - 3600)),
        with("c-expired", Some(now - 1)),
        with("c-expired2", Some(now - 86_400)),
        with("c-expired3", Some(now - 10)),
        with("e-expired", Some(now - 60)),
    ];
    let mut all = vec![live.clone(), plain.clone()];
    all.extend(expired.iter().cloned());
    for item in all {
        put(&*table, item).await;
    }

    assert_eq!(
        get(&*table, &k("a-expired")).await,
        None,
        "get of an expired item"
    );
    assert_eq!(
        get(&*table, &k("b-live")).await,
        Some(live.clone()),
        "get of a live item"
    );
    assert_eq!(
        get(&*table, &k("d-plain")).await,
        Some(plain.clone()),
        "get without ttl"
    );

    let keys: Vec<Key> = ["a-expired", "b-live", "c-expired", "d-plain", "e-expired"]
        .into_iter()
        .map(k)
        .collect();
    let mut got = table.batch_get(&keys).await.expect("batch_get");
    got.sort_by(|a, b| sk_of(a).cmp(sk_of(b)));
    assert_eq!(
        got,
        vec![live.clone(), plain.clone()],
        "batch_get leaves expired items out"
    );

    // Pages of 2 where whole pages are expired: only a missing cursor ends the query.
    let got = query_all(&*table, Query::partition(&pk).limit(2)).await;
    assert_eq!(
        got,
        vec![live.clone(), plain.clone()],
        "query leaves expired items out"
    );
    let got = query_all(&*table, Query::partition(&pk).backward().limit(2)).await;
    assert_eq!(got, vec![plain.clone(), live.clone()], "backward query too");
    let got = query_all(&*table, Query::partition(&g).on(Index::Gsi1).limit(2)).await;
    assert_eq!(
        got,
        vec![live, plain],
        "a gsi1 query leaves expired items out"
    );

    // Conditions still see an expired item until it is purged (as DynamoDB's do).
    assert_condition_failed(
        table
            .put(with("a-expired", None), Some(Condition::ItemNotExists))
            .await,
        "a create-only put over an expired, unpurged item",
    );
}

/// batch_put of 60 items with duplicate keys (the last wins), then batch_get of 100 keys of
/// which half are missing.
pub async fn batch_put_last_wins_and_batch_get_skips_missing(table: Arc<dyn Table>) {
    let pk = unique("batch");
    let k = |i: usize| Key::new(&pk, format!("k{i:02}"));
    let mut items: Vec<Item> = (0..50)
        .map(|i| item_at(&k(i), json!({"v": 1, "i": i})))
        .collect();
    items.extend((0..10).map(|i| item_at(&k(i * 5), json!({"v": 2, "i": i * 5}))));
    assert_eq!(items.len(), 60);
    table
        .batch_put(items)
        .await
        .expect("batch_put of 60 with duplicates");

    let mut keys: Vec<Key> = (0..50).map(k).collect();
    keys.extend((0..50).map(|i| Key::new(&pk, format!("missing{i:02}"))));
    assert_eq!(keys.len(), MAX_BATCH_GET);
    let mut got = table.batch_get(&keys).await.expect("batch_get of 100");
    got.sort_by(|a, b| sk_of(a).cmp(sk_of(b)));
    let want: Vec<Item> = (0..50)
        .map(|i| {
            let v = if i % 5 == 0 { 2 } else { 1 };
            item_at(&k(i), json!({"v": v, "i": i}))
        })
        .collect();
    assert_eq!(got, want, "each key's last item, missing keys left out");

    assert_eq!(
        table.batch_get(&[]).await.expect("batch_get of none"),
        Vec::<Item>::new()
    );
    table
        .batch_put(Vec::new())
        .await
        .expect("batch_put of none");
}

/// batch_put_if_absent writes the new keys, leaves every existing item as it was (an expired,
/// unpurged one too, as create-only puts see it) and names the keys it left.
pub async fn batch_put_if_absent_keeps_what_is_there(table: Arc<dyn Table>) {
    let pk = unique("absent");
    let k = |i: usize| Key::new(&pk, format!("k{i:02}"));
    put(&*table, item_at(&k(3), json!({"v": "old"}))).await;
    put(&*table, item_at(&k(7), json!({"v": "old", "ttl": 1}))).await;
    let items: Vec<Item> = (0..10)
        .map(|i| item_at(&k(i), json!({"v": "new"})))
        .collect();
    let mut taken = table
        .batch_put_if_absent(items)
        .await
        .expect("batch_put_if_absent");
    taken.sort_by(|a, b| a.sk.cmp(&b.sk));
    assert_eq!(taken, vec![k(3), k(7)]);
    let got = table.get(&k(3)).await.expect("get").expect("kept");
    assert_eq!(got.get("v"), Some(&json!("old")));
    let got = table.get(&k(4)).await.expect("get").expect("written");
    assert_eq!(got.get("v"), Some(&json!("new")));
    assert_eq!(
        table
            .batch_put_if_absent(Vec::new())
            .await
            .expect("of none"),
        Vec::<Key>::new()
    );
}

/// delete returns the old item; a failed conditional delete leaves it in place.
pub async fn delete_returns_old_item(table: Arc<dyn Table>) {
    let key = Key::new(unique("del"), "x");
    let item = item_at(&key, json!({"v": "keep", "n": 1}));
    put(&*table, item.clone()).await;

    assert_condition_failed(
        table.delete(&key, Some(Condition::eq("v", "other"))).await,
        "a delete whose condition fails",
    );
    assert_eq!(
        get(&*table, &key).await,
        Some(item.clone()),
        "the item is still there"
    );

    let old = table.delete(&key, None).await.expect("delete");
    assert_eq!(old, Some(item), "delete returns the old item");
    assert_eq!(get(&*table, &key).await, None, "gone after delete");

    let again = table
        .delete(&key, None)
        .await
        .expect("delete of a missing item");
    assert_eq!(again, None, "deleting a missing item returns nothing");
    assert_condition_failed(
        table.delete(&key, Some(Condition::ItemExists)).await,
        "a delete of a missing item with ItemExists",
    );
}

/// Requests DynamoDB rejects are `Invalid` on every backend.
pub async fn invalid_requests_are_rejected(table: Arc<dyn Table>) {
    let pk = unique("invalid");
    assert_invalid(
        table.put(obj(json!({"pk": pk})), None).await,
        "put without sk",
    );
    assert_invalid(
        table.put(obj(json!({"pk": "", "sk": "x"})), None).await,
        "put with empty pk",
    );
    assert_invalid(
        table.put(obj(json!({"pk": 1, "sk": "x"})), None).await,
        "put with a numeric pk",
    );
    let key = Key::new(&pk, "x");
    assert_invalid(
        table
            .update(&key, Update::new().set("pk", "other"), None)
            .await,
        "update of a key attribute",
    );
    assert_invalid(
        table.update(&key, Update::new(), None).await,
        "an empty update",
    );
    assert_invalid(
        table
            .update(&key, Update::new().set("a", 1).add("a", 1), None)
            .await,
        "an update naming one attribute twice",
    );
    assert_eq!(
        get(&*table, &key).await,
        None,
        "invalid updates create nothing"
    );
    assert_invalid(
        table.query(&Query::partition(&pk).limit(0)).await,
        "query limit 0",
    );
    assert_invalid(
        table.query(&Query::partition(&pk).limit(1001)).await,
        "query limit 1001",
    );
    assert_invalid(
        table.query(&Query::partition("")).await,
        "query without a partition",
    );
    let keys: Vec<Key> = (0..=MAX_BATCH_GET)
        .map(|i| Key::new(&pk, format!("{i}")))
        .collect();
    assert_invalid(table.batch_get(&keys).await, "batch_get of 101 keys");
    let twice = [Key::new(&pk, "a"), Key::new(&pk, "b"), Key::new(&pk, "a")];
    assert_invalid(
        table.batch_get(&twice).await,
        "batch_get naming a key twice",
    );
    let reversed = SortKeyCondition::Between("b".into(), "a".into());
    assert_invalid(
        table.query(&Query::partition(&pk).sort(reversed)).await,
        "BETWEEN with its bounds reversed",
    );
    assert_invalid(
        table.batch_put(vec![obj(json!({"sk": "no pk"}))]).await,
        "batch_put of an item without pk",
    );
}
