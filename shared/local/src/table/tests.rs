//! The table's local specifics: SQLite plans, multi-handle locking, paging rules. The shared
//! conformance suite in `tests/` covers the port's semantics on both backends.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use smscrm_domain::ports::table::{Cursor, Index, SortKeyCondition};
use smscrm_domain::ports::{CmpOp, ManualClock};

use super::*;

type TestResult = Result<(), StoreError>;

fn item(value: Value) -> Item {
    value.as_object().cloned().unwrap_or_default()
}

fn temp() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

fn open(dir: &tempfile::TempDir) -> Result<SqliteTable, StoreError> {
    SqliteTable::open(&dir.path().join("store.db"))
}

fn sks(page: &Page) -> Vec<&str> {
    page.items
        .iter()
        .filter_map(|i| i.get("sk").and_then(Value::as_str))
        .collect()
}

#[tokio::test]
async fn conditional_writes_and_upserting_updates() -> TestResult {
    let dir = temp();
    let table = open(&dir)?;
    let key = Key::new("T#1", "C#1");
    let first = item(json!({"pk": "T#1", "sk": "C#1", "n": 1}));
    table
        .put(first.clone(), Some(Condition::ItemNotExists))
        .await?;
    let again = table.put(first, Some(Condition::ItemNotExists)).await;
    assert!(matches!(again, Err(StoreError::ConditionFailed)));

    let updated = table
        .update(
            &key,
            Update::new().add("n", 2).set("s", "x"),
            Some(Condition::eq("n", 1)),
        )
        .await?;
    assert_eq!(updated.get("n"), Some(&json!(3)));

    let created = table
        .update(&Key::new("T#1", "C#2"), Update::new().add("n", 1), None)
        .await?;
    assert_eq!(created, item(json!({"pk": "T#1", "sk": "C#2", "n": 1})));

    let failed = table.delete(
        &key,
        Some(Condition::Compare("n".into(), CmpOp::Gt, json!(5))),
    );
    assert!(matches!(failed.await, Err(StoreError::ConditionFailed)));
    let deleted = table.delete(&key, None).await?;
    assert_eq!(deleted.and_then(|i| i.get("s").cloned()), Some(json!("x")));
    assert_eq!(table.get(&key).await?, None);
    assert_eq!(table.delete(&key, None).await?, None);
    Ok(())
}

#[tokio::test]
async fn keys_order_by_utf8_bytes() -> TestResult {
    let dir = temp();
    let table = open(&dir)?;
    for sk in ["é", "a", "Z", "ab", "a\u{7f}"] {
        table.put(item(json!({"pk": "P", "sk": sk})), None).await?;
    }
    let page = table.query(&Query::partition("P")).await?;
    // By bytes: 'b' (0x62) sorts before DEL (0x7f), and every ASCII byte before 'é' (0xc3 0xa9).
    assert_eq!(sks(&page), ["Z", "a", "ab", "a\u{7f}", "é"]);
    let page = table.query(&Query::partition("P").prefix("a")).await?;
    assert_eq!(sks(&page), ["a", "ab", "a\u{7f}"]);
    Ok(())
}

#[tokio::test]
async fn paging_returns_a_cursor_whenever_the_limit_is_reached() -> TestResult {
    let dir = temp();
    let table = open(&dir)?;
    for i in 0..4 {
        table
            .put(item(json!({"pk": "P", "sk": format!("M#{i}")})), None)
            .await?;
    }
    let query = Query::partition("P").prefix("M#").limit(2);
    let first = table.query(&query).await?;
    assert_eq!(sks(&first), ["M#0", "M#1"]);
    let second = table.query(&query.clone().after(first.next_cursor)).await?;
    assert_eq!(sks(&second), ["M#2", "M#3"]);
    // Nothing follows, yet the page was cut by the limit: DynamoDB still returns a key.
    let third = table
        .query(&query.clone().after(second.next_cursor))
        .await?;
    assert!(third.items.is_empty() && third.next_cursor.is_none());

    let back = table.query(&query.clone().backward().limit(3)).await?;
    assert_eq!(sks(&back), ["M#3", "M#2", "M#1"]);
    let rest = table
        .query(&query.backward().limit(3).after(back.next_cursor))
        .await?;
    assert_eq!(sks(&rest), ["M#0"]);
    assert!(rest.next_cursor.is_none());
    Ok(())
}

#[tokio::test]
async fn expired_items_are_hidden_but_still_count_against_the_limit() -> TestResult {
    let dir = temp();
    let clock = Arc::new(ManualClock::new(
        chrono::DateTime::from_timestamp(1_000, 0).expect("valid time"),
    ));
    let table = open(&dir)?.with_clock(clock.clone());
    table
        .put(item(json!({"pk": "P", "sk": "a", "ttl": 1_000})), None)
        .await?;
    table
        .put(item(json!({"pk": "P", "sk": "b", "ttl": 1_001})), None)
        .await?;
    table.put(item(json!({"pk": "P", "sk": "c"})), None).await?;

    let page = table.query(&Query::partition("P").limit(1)).await?;
    assert!(page.items.is_empty());
    assert_eq!(
        page.next_cursor.as_ref().map(|c| c.key.sk.as_str()),
        Some("a")
    );
    assert_eq!(table.get(&Key::new("P", "a")).await?, None);
    let keys = [Key::new("P", "a"), Key::new("P", "b")];
    assert_eq!(table.batch_get(&keys).await?.len(), 1);

    // Conditions still see the expired item until it is purged.
    let put = table.put(
        item(json!({"pk": "P", "sk": "a"})),
        Some(Condition::ItemNotExists),
    );
    assert!(matches!(put.await, Err(StoreError::ConditionFailed)));
    assert_eq!(table.purge_expired().await?, 1);
    clock.advance(chrono::Duration::seconds(1));
    assert_eq!(table.purge_expired().await?, 1);
    assert_eq!(sks(&table.query(&Query::partition("P")).await?), ["c"]);
    Ok(())
}

async fn put_gsi(table: &SqliteTable, sk: &str, gsi_sk: &str) -> TestResult {
    let it = item(json!({"pk": "T#1", "sk": sk, "gsi1pk": "G", "gsi1sk": gsi_sk}));
    table.put(it, None).await
}

#[tokio::test]
async fn gsi_queries_order_ties_by_table_key_and_resume_exactly() -> TestResult {
    let dir = temp();
    let table = open(&dir)?;
    put_gsi(&table, "c", "2").await?;
    put_gsi(&table, "a", "1").await?;
    put_gsi(&table, "b", "1").await?;
    put_gsi(&table, "d", "3").await?;
    // Sparse: no gsi1sk, so not in the index.
    table
        .put(item(json!({"pk": "T#1", "sk": "e", "gsi1pk": "G"})), None)
        .await?;

    let query = Query::partition("G").on(Index::Gsi1).limit(1);
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = table.query(&query.clone().after(cursor)).await?;
        seen.extend(sks(&page).into_iter().map(str::to_owned));
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
        assert_eq!(cursor.as_ref().map(|c| c.index_key.is_some()), Some(true));
    }
    assert_eq!(seen, ["a", "b", "c", "d"]);

    let back = table
        .query(&Query::partition("G").on(Index::Gsi1).backward())
        .await?;
    assert_eq!(sks(&back), ["d", "c", "b", "a"]);
    let ranged = Query::partition("G")
        .on(Index::Gsi1)
        .sort(SortKeyCondition::Between("1".into(), "2".into()));
    assert_eq!(sks(&table.query(&ranged).await?), ["a", "b", "c"]);
    Ok(())
}

#[tokio::test]
async fn cursors_of_the_wrong_shape_are_rejected() -> TestResult {
    let dir = temp();
    let table = open(&dir)?;
    let primary = Cursor {
        index: Index::Gsi1,
        key: Key::new("G", "x"),
        index_key: None,
    };
    let query = Query::partition("G").on(Index::Gsi1).after(Some(primary));
    assert!(matches!(
        table.query(&query).await,
        Err(StoreError::InvalidCursor)
    ));
    let backwards = Query::partition("G").sort(SortKeyCondition::Between("b".into(), "a".into()));
    assert!(matches!(
        table.query(&backwards).await,
        Err(StoreError::Invalid(_))
    ));
    Ok(())
}

#[tokio::test]
async fn queries_use_the_indexes() -> TestResult {
    let dir = temp();
    let table = open(&dir)?;
    let cursor = Cursor {
        index: Index::Gsi2,
        key: Key::new("p", "s"),
        index_key: Some(Key::new("G", "x")),
    };
    let primary_cursor = Cursor {
        index: Index::Primary,
        key: Key::new("P", "C#5"),
        index_key: None,
    };
    // Each scan is one range with a start and an end on the index: nothing filtered row by row.
    let cases = [
        (
            Query::partition("P")
                .prefix("C#")
                .after(Some(primary_cursor)),
            "USING PRIMARY KEY (pk=? AND sk>? AND sk<?)",
        ),
        (
            Query::partition("G")
                .on(Index::Gsi2)
                .prefix("x")
                .backward()
                .after(Some(cursor)),
            "USING INDEX items_gsi2 (gsi2pk=? AND gsi2sk>? AND (gsi2sk,pk,sk)<(?,?,?))",
        ),
    ];
    for (query, expected) in cases {
        let plan = Plan::new(&query)?;
        let sql = format!("EXPLAIN QUERY PLAN {}", plan.sql());
        let detail: Vec<String> = table
            .db
            .call(move |s| {
                let conn = s.conn();
                let mut stmt = conn.prepare(&sql)?;
                let params = rusqlite::params_from_iter(plan_params(&query));
                let rows = stmt.query_map(params, |r| r.get::<_, String>(3))?;
                Ok(rows.collect::<Result<Vec<_>, _>>()?)
            })
            .await?;
        let detail = detail.join("; ");
        assert!(detail.contains(expected), "{detail}");
        assert!(
            !detail.contains("TEMP B-TREE"),
            "sorts instead of scanning: {detail}"
        );
    }
    Ok(())
}

/// Placeholder values for EXPLAIN: only their number matters.
fn plan_params(query: &Query) -> Vec<rusqlite::types::Value> {
    let count = Plan::new(query)
        .map(|p| p.sql().matches('?').count())
        .unwrap_or(0);
    vec![rusqlite::types::Value::Blob(b"x".to_vec()); count]
}

#[tokio::test]
async fn cursors_outside_the_range_and_exclusive_bounds() -> TestResult {
    let dir = temp();
    let table = open(&dir)?;
    for (sk, gsi_sk) in [("a", "b"), ("b", "b"), ("c", "c"), ("d", "d")] {
        put_gsi(&table, sk, gsi_sk).await?;
    }
    let at = |gsi_sk: &str, sk: &str| {
        Some(Cursor {
            index: Index::Gsi1,
            key: Key::new("T#1", sk),
            index_key: Some(Key::new("G", gsi_sk)),
        })
    };
    let gsi = || Query::partition("G").on(Index::Gsi1);
    // On an inclusive bound: the cursor decides.
    let ge_b = gsi().sort(SortKeyCondition::Ge("b".into()));
    assert_eq!(
        sks(&table.query(&ge_b.after(at("b", "a"))).await?),
        ["b", "c", "d"]
    );
    let le_c = gsi().sort(SortKeyCondition::Le("c".into())).backward();
    assert_eq!(
        sks(&table.query(&le_c.after(at("c", "c"))).await?),
        ["b", "a"]
    );
    // Outside the range, on an exclusive bound included: refused, as DynamoDB refuses a
    // start key outside the key condition.
    let gt_b = gsi().sort(SortKeyCondition::Gt("b".into()));
    for outside in [at("b", "a"), at("a", "z")] {
        let result = table.query(&gt_b.clone().after(outside)).await;
        assert!(
            matches!(result, Err(StoreError::InvalidCursor)),
            "{result:?}"
        );
    }
    Ok(())
}

#[tokio::test]
async fn transactions_check_every_condition_before_writing() -> TestResult {
    let dir = temp();
    let table = open(&dir)?;
    table
        .put(item(json!({"pk": "P", "sk": "a", "v": 1})), None)
        .await?;
    let ops = vec![
        TransactOp::Put {
            item: item(json!({"pk": "P", "sk": "new"})),
            condition: Some(Condition::ItemNotExists),
        },
        TransactOp::Check {
            key: Key::new("P", "a"),
            condition: Condition::eq("v", 2),
        },
        TransactOp::Delete {
            key: Key::new("P", "missing"),
            condition: Some(Condition::ItemExists),
        },
    ];
    match table.transact(ops).await {
        Err(StoreError::TransactionCanceled { failed }) => assert_eq!(failed, [1, 2]),
        other => panic!("expected a cancelled transaction, got {other:?}"),
    }
    assert_eq!(table.get(&Key::new("P", "new")).await?, None);

    let ops = vec![
        TransactOp::Update {
            key: Key::new("P", "a"),
            update: Update::new().add("v", 1),
            condition: Some(Condition::eq("v", 1)),
        },
        TransactOp::Put {
            item: item(json!({"pk": "P", "sk": "new"})),
            condition: None,
        },
    ];
    table.transact(ops).await?;
    let a = table.get(&Key::new("P", "a")).await?;
    assert_eq!(a.and_then(|i| i.get("v").cloned()), Some(json!(2)));
    assert!(table.get(&Key::new("P", "new")).await?.is_some());
    Ok(())
}

#[tokio::test]
async fn batches_follow_dynamodb_limits() -> TestResult {
    let dir = temp();
    let table = open(&dir)?;
    let items = (0..1200)
        .map(|i| item(json!({"pk": "P", "sk": format!("{i:05}"), "v": 0})))
        .chain([item(json!({"pk": "P", "sk": "00000", "v": 1}))])
        .collect();
    table.batch_put(items).await?;
    let first = table.get(&Key::new("P", "00000")).await?;
    assert_eq!(first.and_then(|i| i.get("v").cloned()), Some(json!(1)));
    assert_eq!(
        table
            .query(&Query::partition("P").limit(1000))
            .await?
            .items
            .len(),
        1000
    );

    let keys: Vec<Key> = (0..101).map(|i| Key::new("P", format!("{i:05}"))).collect();
    assert!(matches!(
        table.batch_get(&keys).await,
        Err(StoreError::Invalid(_))
    ));
    assert_eq!(table.batch_get(&keys[..100]).await?.len(), 100);
    let twice = [Key::new("P", "00001"), Key::new("P", "00001")];
    assert!(matches!(
        table.batch_get(&twice).await,
        Err(StoreError::Invalid(_))
    ));
    Ok(())
}

#[tokio::test]
async fn data_survives_reopening() -> TestResult {
    let dir = temp();
    {
        let table = open(&dir)?;
        table.put(item(json!({"pk": "P", "sk": "a"})), None).await?;
    }
    let table = open(&dir)?;
    assert!(table.get(&Key::new("P", "a")).await?.is_some());
    Ok(())
}

/// Two handles with their own connections, as two processes have.
fn two_handles(dir: &tempfile::TempDir) -> Result<(SqliteTable, SqliteTable), StoreError> {
    let path = dir.path().join("store.db");
    Ok((
        SqliteTable::open_private(&path, crate::db::BUSY_TIMEOUT)?,
        SqliteTable::open_private(&path, crate::db::BUSY_TIMEOUT)?,
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn separate_handles_see_each_others_writes() -> TestResult {
    let dir = temp();
    let (one, two) = two_handles(&dir)?;
    one.put(item(json!({"pk": "P", "sk": "a", "v": 1})), None)
        .await?;
    assert!(two.get(&Key::new("P", "a")).await?.is_some());
    two.update(&Key::new("P", "a"), Update::new().add("v", 1), None)
        .await?;
    let seen = one.get(&Key::new("P", "a")).await?;
    assert_eq!(seen.and_then(|i| i.get("v").cloned()), Some(json!(2)));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn exactly_one_conditional_put_wins_across_handles() -> TestResult {
    let dir = temp();
    let (one, two) = two_handles(&dir)?;
    let (one, two) = (Arc::new(one), Arc::new(two));
    for round in 0..50 {
        let mut racers = Vec::new();
        for (who, table) in [(1, &one), (2, &two), (3, &one), (4, &two)] {
            let table = Arc::clone(table);
            let it = item(json!({"pk": "LOCK", "sk": format!("{round}"), "owner": who}));
            racers.push(tokio::spawn(async move {
                table.put(it, Some(Condition::ItemNotExists)).await
            }));
        }
        let mut wins = 0;
        for racer in racers {
            match racer.await.map_err(StoreError::backend)? {
                Ok(()) => wins += 1,
                Err(StoreError::ConditionFailed) => {}
                Err(other) => return Err(other),
            }
        }
        assert_eq!(wins, 1, "round {round}");
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn counters_add_up_across_handles() -> TestResult {
    let dir = temp();
    let (one, two) = two_handles(&dir)?;
    let (one, two) = (Arc::new(one), Arc::new(two));
    let mut tasks = Vec::new();
    for i in 0..200 {
        let table = Arc::clone(if i % 2 == 0 { &one } else { &two });
        tasks.push(tokio::spawn(async move {
            table
                .update(&Key::new("P", "n"), Update::new().add("n", 1), None)
                .await
        }));
    }
    for task in tasks {
        task.await.map_err(StoreError::backend)??;
    }
    let n = one.get(&Key::new("P", "n")).await?;
    assert_eq!(n.and_then(|i| i.get("n").cloned()), Some(json!(200)));
    Ok(())
}

#[tokio::test]
async fn a_held_write_lock_is_unavailable_not_a_failure() -> TestResult {
    let dir = temp();
    let path = dir.path().join("store.db");
    let table = SqliteTable::open_private(&path, Duration::from_millis(50))?;
    let other = rusqlite::Connection::open(&path).map_err(StoreError::backend)?;
    other
        .execute_batch("BEGIN IMMEDIATE")
        .map_err(StoreError::backend)?;
    let put = table.put(item(json!({"pk": "P", "sk": "a"})), None).await;
    assert!(matches!(&put, Err(e) if e.is_retryable()), "{put:?}");
    // Readers are not blocked by a writer in WAL mode.
    assert_eq!(table.get(&Key::new("P", "a")).await?, None);
    other
        .execute_batch("ROLLBACK")
        .map_err(StoreError::backend)?;
    table.put(item(json!({"pk": "P", "sk": "a"})), None).await
}

#[tokio::test]
async fn invalid_items_are_rejected_before_writing() -> TestResult {
    let dir = temp();
    let table = open(&dir)?;
    let bad = [
        json!({"pk": "P"}),
        json!({"pk": "", "sk": "s"}),
        json!({"pk": "P", "sk": 1}),
        json!({"pk": "P", "sk": "s", "gsi1pk": 5, "gsi1sk": "x"}),
        json!({"pk": "P", "sk": "x".repeat(1025)}),
    ];
    for value in bad {
        let put = table.put(item(value.clone()), None).await;
        assert!(matches!(put, Err(StoreError::Invalid(_))), "{value}");
    }
    let set_bad_index = Update::new().set("gsi2pk", json!(["not", "a", "string"]));
    let update = table.update(&Key::new("P", "s"), set_bad_index, None).await;
    assert!(matches!(update, Err(StoreError::Invalid(_))));
    assert_eq!(table.get(&Key::new("P", "s")).await?, None);
    Ok(())
}

/// Past 64 MiB of WAL, the checkpoint thread copies it into the database file without a
/// commit waiting for it, the data is all there, and closing the store leaves no WAL.
#[tokio::test]
async fn a_large_write_is_checkpointed_in_the_background() -> TestResult {
    let dir = temp();
    let table = open(&dir)?;
    let db_file = dir.path().join("store.db");
    let padding = "x".repeat(3000);
    // About 90 MiB of WAL: one 4 KiB page per row, in 45 commits.
    let rows = 23_000;
    for batch in 0..rows / 500 {
        let items = (0..500)
            .map(|n| item(json!({"pk": "T#1", "sk": format!("R#{batch:03}#{n:03}"), "p": padding})))
            .collect();
        table.batch_put(items).await?;
    }
    let size = || std::fs::metadata(&db_file).map(|m| m.len()).unwrap_or(0);
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while size() < 60 << 20 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(size() >= 60 << 20, "database file still {} bytes", size());
    let page = table
        .query(&Query {
            limit: 1000,
            ..Query::partition("T#1")
        })
        .await?;
    assert_eq!(page.items.len(), 1000);
    // Closing waits for the thread, whose connection is then the last: closing it checkpoints
    // the rest and removes the WAL, before the process could exit.
    drop(table);
    let wal = dir.path().join("store.db-wal");
    assert!(!wal.exists(), "WAL left behind after closing");
    Ok(())
}
