//! Rough throughput of the embedded table and queue on this machine:
//! `cargo bench -p smscrm-local --bench store` (release profile). Numbers vary with the disk.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use smscrm_domain::ports::{Condition, Item, Key, OutgoingMessage, Query, Queue, Table, Update};
use smscrm_local::{QueueConfig, SqliteQueue, SqliteTable};

type AnyResult = Result<(), Box<dyn std::error::Error + Send + Sync>>;

fn item(i: usize) -> Item {
    let value = json!({
        "pk": "TENANT#t1", "sk": format!("CONTACT#{i:08}"),
        "gsi1pk": "TENANT#t1#PHONE", "gsi1sk": format!("+1555{i:07}"),
        "name": "Ada Lovelace", "status": "pending", "attempts": 0,
    });
    value.as_object().cloned().unwrap_or_default()
}

fn report(what: &str, n: usize, took: Duration) {
    let per_sec = n as f64 / took.as_secs_f64();
    println!("{what:<48} {n:>7} in {took:>10.2?}  {per_sec:>10.0}/s");
}

#[tokio::main]
async fn main() -> AnyResult {
    let dir = tempfile::tempdir()?;
    let table = Arc::new(SqliteTable::open(&dir.path().join("table.db"))?);

    let n = 2_000;
    let start = Instant::now();
    for i in 0..n {
        table.put(item(i), None).await?;
    }
    report("put, one at a time", n, start.elapsed());

    let n = 50_000;
    let start = Instant::now();
    table
        .batch_put((10_000..10_000 + n).map(item).collect())
        .await?;
    report("batch_put", n, start.elapsed());

    let n = 20_000;
    let start = Instant::now();
    for i in 0..n {
        let key = Key::new("TENANT#t1", format!("CONTACT#{:08}", 10_000 + i));
        table.get(&key).await?;
    }
    report("get, one at a time", n, start.elapsed());

    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..8 {
        let table = Arc::clone(&table);
        tasks.push(tokio::spawn(async move {
            for i in 0..2_500 {
                let key = Key::new(
                    "TENANT#t1",
                    format!("CONTACT#{:08}", 10_000 + w * 2_500 + i),
                );
                table.get(&key).await?;
            }
            Ok::<_, smscrm_domain::ports::StoreError>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    report("get, 8 tasks in parallel", 20_000, start.elapsed());

    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..8 {
        let table = Arc::clone(&table);
        tasks.push(tokio::spawn(async move {
            for i in 0..500 {
                let key = Key::new("TENANT#t1", format!("CONTACT#{:08}", 10_000 + w * 500 + i));
                let claim = Update::new().set("status", "claimed").add("attempts", 1);
                table
                    .update(&key, claim, Some(Condition::eq("status", "pending")))
                    .await?;
            }
            Ok::<_, smscrm_domain::ports::StoreError>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    report(
        "conditional update (claim), 8 tasks",
        4_000,
        start.elapsed(),
    );

    let pages = 200;
    let start = Instant::now();
    let mut cursor = None;
    for _ in 0..pages {
        let query = Query::partition("TENANT#t1").prefix("CONTACT#").limit(100);
        let page = table.query(&query.after(cursor)).await?;
        cursor = page.next_cursor;
    }
    report(
        "query pages of 100 (primary, prefix)",
        pages,
        start.elapsed(),
    );
    let start = Instant::now();
    let mut cursor = None;
    for _ in 0..pages {
        let query = Query::partition("TENANT#t1#PHONE")
            .on(smscrm_domain::ports::Index::Gsi1)
            .limit(100);
        let page = table.query(&query.after(cursor)).await?;
        cursor = page.next_cursor;
    }
    report("query pages of 100 (gsi1)", pages, start.elapsed());

    let queue = Arc::new(SqliteQueue::open(
        &dir.path().join("queues.db"),
        "send",
        QueueConfig {
            visibility_timeout: Duration::from_secs(30),
            max_receives: 5,
            dead_letter: Some("send-dlq".into()),
        },
    )?);
    let n = 20_000;
    let start = Instant::now();
    for chunk in 0..n / 10 {
        let batch = (0..10)
            .map(|i| OutgoingMessage::new(format!("{{\"message\":{}}}", chunk * 10 + i)))
            .collect();
        queue.send_batch(batch).await?;
    }
    report("queue send_batch of 10", n, start.elapsed());

    let start = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..4 {
        let queue = Arc::clone(&queue);
        workers.push(tokio::spawn(async move {
            let mut done = 0;
            loop {
                let batch = queue.receive(10, Duration::ZERO).await?;
                if batch.is_empty() {
                    return Ok::<_, smscrm_domain::ports::QueueError>(done);
                }
                for delivery in batch {
                    queue.ack(&delivery.receipt).await?;
                    done += 1;
                }
            }
        }));
    }
    let mut received = 0;
    for worker in workers {
        received += worker.await??;
    }
    report(
        "queue receive 10 + ack each, 4 workers",
        received,
        start.elapsed(),
    );

    let start = Instant::now();
    let rounds = 100;
    let mut latencies = Vec::new();
    for i in 0..rounds {
        let q2 = Arc::clone(&queue);
        let waiting = tokio::spawn(async move {
            let got = q2.receive(1, Duration::from_secs(5)).await;
            (got, Instant::now())
        });
        tokio::time::sleep(Duration::from_millis(2)).await;
        let sent = Instant::now();
        queue
            .send_batch(vec![OutgoingMessage::new(format!("{i}"))])
            .await?;
        let (got, at) = waiting.await?;
        for d in got? {
            queue.ack(&d.receipt).await?;
        }
        latencies.push(at.duration_since(sent));
    }
    latencies.sort();
    println!(
        "long-poll wake-up after a same-process send: median {:?}, max {:?} ({rounds} rounds, {:?})",
        latencies[rounds / 2],
        latencies[rounds - 1],
        start.elapsed()
    );
    Ok(())
}
