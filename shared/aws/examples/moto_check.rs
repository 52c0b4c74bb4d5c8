//! THROWAWAY: exercises the adapters against a moto server. Deleted after use.
use std::time::Duration;

use bytes::Bytes;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use smscrm_aws::*;
use smscrm_domain::ports::table::*;
use smscrm_domain::ports::*;

fn item(v: serde_json::Value) -> Item {
    v.as_object().unwrap().clone()
}

#[tokio::main]
async fn main() {
    let conf = sdk_config().await;
    println!("endpoint = {:?}", conf.endpoint_url());
    if std::env::var("DOWN").is_ok() {
        let t = DynamoTable::from_config(&conf, "t");
        println!("down dynamo: {:?}", t.get(&Key::new("a", "b")).await);
        let q = SqsQueue::from_config(&conf, "http://127.0.0.1:1/1/q");
        println!("down sqs: {:?}", q.approximate_len().await);
        let b = S3Blobs::from_config(&conf, "b");
        println!("down s3: {:?}", b.get("k").await);
        let s = SecretsManagerSecrets::from_config(&conf, "");
        println!("down secrets: {:?}", s.get("k").await.map(|o| o.is_some()));
        return;
    }
    dynamo(&conf).await;
    sqs(&conf).await;
    s3(&conf).await;
    secrets(&conf).await;
    println!("ALL OK");
}

async fn dynamo(conf: &aws_config::SdkConfig) {
    let client = aws_sdk_dynamodb::Client::new(conf);
    create_table(&client, "t1").await.unwrap();
    create_table(&client, "t1").await.unwrap();
    let ttl = client.describe_time_to_live().table_name("t1").send().await.unwrap();
    println!("ttl: {:?}", ttl.time_to_live_description());
    let t = DynamoTable::new(client.clone(), "t1");
    let now = chrono::Utc::now().timestamp();

    let a = item(json!({"pk": "T#1", "sk": "C#1", "name": "a", "ttl": now + 1000, "status": "pending"}));
    t.put(a.clone(), Some(Condition::ItemNotExists)).await.unwrap();
    let e = t.put(a.clone(), Some(Condition::ItemNotExists)).await.unwrap_err();
    assert!(matches!(e, StoreError::ConditionFailed), "{e:?}");
    assert_eq!(t.get(&Key::new("T#1", "C#1")).await.unwrap(), Some(a.clone()));
    assert_eq!(t.get(&Key::new("T#1", "nope")).await.unwrap(), None);
    // put without pk
    assert!(matches!(t.put(item(json!({"pk": "x"})), None).await, Err(StoreError::Invalid(_))));

    // update
    let k = Key::new("T#1", "C#1");
    let u = Update::new().set("status", "claimed").add("count", 2).remove("name").set("ttl", now + 5000);
    let got = t.update(&k, u, Some(Condition::eq("status", "pending"))).await.unwrap();
    assert_eq!(got["status"], "claimed");
    assert_eq!(got["count"], 2);
    assert!(!got.contains_key("name"));
    let e = t.update(&k, Update::new().add("count", 1), Some(Condition::eq("status", "pending"))).await.unwrap_err();
    assert!(matches!(e, StoreError::ConditionFailed), "{e:?}");
    // upsert
    let got = t.update(&Key::new("T#1", "C#9"), Update::new().add("n", 5), None).await.unwrap();
    assert_eq!(got, item(json!({"pk": "T#1", "sk": "C#9", "n": 5})));
    // Ne on missing attribute is false per port
    let e = t.update(&k, Update::new().add("count", 1), Some(Condition::ne("missing", "x"))).await.unwrap_err();
    assert!(matches!(e, StoreError::ConditionFailed), "ne missing: {e:?}");
    // Ne with different type is false per port
    let e = t.update(&k, Update::new().add("count", 1), Some(Condition::ne("status", 5))).await.unwrap_err();
    assert!(matches!(e, StoreError::ConditionFailed), "ne type: {e:?}");
    let got = t.update(&k, Update::new().add("count", 1), Some(Condition::ne("status", "x"))).await.unwrap();
    assert_eq!(got["count"], 3);
    // gt bool -> false
    let e = t.update(&k, Update::new().add("count", 1), Some(Condition::gt("status", true))).await.unwrap_err();
    assert!(matches!(e, StoreError::ConditionFailed), "gt bool: {e:?}");
    // And/Or empty
    t.update(&k, Update::new().add("count", 1), Some(Condition::And(vec![]))).await.unwrap();
    let e = t.update(&k, Update::new().add("count", 1), Some(Condition::Or(vec![]))).await.unwrap_err();
    assert!(matches!(e, StoreError::ConditionFailed), "or empty: {e:?}");
    // ADD on a string
    let e = t.update(&k, Update::new().add("status", 1), None).await.unwrap_err();
    println!("ADD on string -> {e:?}");
    // invalid update
    assert!(matches!(t.update(&k, Update::new(), None).await, Err(StoreError::Invalid(_))));

    // delete
    let old = t.delete(&Key::new("T#1", "C#9"), None).await.unwrap();
    assert_eq!(old.unwrap()["n"], 5);
    assert_eq!(t.delete(&Key::new("T#1", "C#9"), None).await.unwrap(), None);
    let e = t.delete(&k, Some(Condition::eq("status", "nope"))).await.unwrap_err();
    assert!(matches!(e, StoreError::ConditionFailed));

    // TTL
    let expired = item(json!({"pk": "T#1", "sk": "C#0", "ttl": now - 10, "gsi1pk": "G", "gsi1sk": "0"}));
    t.put(expired.clone(), None).await.unwrap();
    assert_eq!(t.get(&Key::new("T#1", "C#0")).await.unwrap(), None);
    // still seen by conditions
    let e = t.put(expired.clone(), Some(Condition::ItemNotExists)).await.unwrap_err();
    assert!(matches!(e, StoreError::ConditionFailed));

    // batch_put with duplicates, 60 items
    let mut items = Vec::new();
    for i in 0..60 {
        items.push(item(json!({"pk": "T#2", "sk": format!("M#{i:03}"), "v": 0, "gsi1pk": "G", "gsi1sk": format!("{i:03}")})));
    }
    items.push(item(json!({"pk": "T#2", "sk": "M#005", "v": 1, "gsi1pk": "G", "gsi1sk": "005"})));
    items.push(item(json!({"pk": "T#2", "sk": "M#061", "ttl": now - 1, "gsi1pk": "G", "gsi1sk": "061"})));
    t.batch_put(items).await.unwrap();
    t.batch_put(vec![]).await.unwrap();
    assert_eq!(t.get(&Key::new("T#2", "M#005")).await.unwrap().unwrap()["v"], 1);

    // query primary with pagination
    let mut all = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let q = Query::partition("T#2").prefix("M#").limit(7).after(cursor.clone());
        let page = t.query(&q).await.unwrap();
        pages += 1;
        all.extend(page.items);
        // exercise encode/decode
        cursor = page.next_cursor.map(|c| Cursor::decode(&c.encode()).unwrap());
        if cursor.is_none() { break; }
    }
    assert_eq!(all.len(), 60, "expired item filtered");
    let sks: Vec<_> = all.iter().map(|i| i["sk"].as_str().unwrap().to_owned()).collect();
    let mut sorted = sks.clone(); sorted.sort();
    assert_eq!(sks, sorted);
    println!("primary pages: {pages}");
    // backward
    let page = t.query(&Query::partition("T#2").backward().limit(3)).await.unwrap();
    let sks: Vec<_> = page.items.iter().map(|i| i["sk"].as_str().unwrap()).collect();
    println!("backward first page: {sks:?} (M#061 expired)");
    // sort conditions
    let q = |c| Query::partition("T#2").sort(c).limit(1000);
    assert_eq!(t.query(&q(SortKeyCondition::Between("M#010".into(), "M#019".into()))).await.unwrap().items.len(), 10);
    assert_eq!(t.query(&q(SortKeyCondition::Lt("M#010".into()))).await.unwrap().items.len(), 10);
    assert_eq!(t.query(&q(SortKeyCondition::Le("M#010".into()))).await.unwrap().items.len(), 11);
    assert_eq!(t.query(&q(SortKeyCondition::Gt("M#058".into()))).await.unwrap().items.len(), 1);
    assert_eq!(t.query(&q(SortKeyCondition::Ge("M#058".into()))).await.unwrap().items.len(), 2);
    assert_eq!(t.query(&q(SortKeyCondition::Eq("M#058".into()))).await.unwrap().items.len(), 1);
    assert_eq!(t.query(&q(SortKeyCondition::Prefix("".into()))).await.unwrap().items.len(), 60);
    assert_eq!(t.query(&q(SortKeyCondition::Between("M#019".into(), "M#010".into()))).await.unwrap().items.len(), 0);

    // GSI pagination
    let mut all = Vec::new();
    let mut cursor = None;
    loop {
        let q = Query::partition("G").on(Index::Gsi1).limit(9).after(cursor.clone());
        let page = t.query(&q).await.unwrap();
        all.extend(page.items);
        if let Some(c) = &page.next_cursor { assert!(c.index_key.is_some()); }
        cursor = page.next_cursor;
        if cursor.is_none() { break; }
    }
    println!("gsi1 items: {} (expect 60: 2 expired filtered)", all.len());
    assert_eq!(all.len(), 60);
    // cursor from another partition
    let bad = Cursor { index: Index::Primary, key: Key::new("T#3", "x"), index_key: None };
    assert!(matches!(t.query(&Query::partition("T#2").after(Some(bad))).await, Err(StoreError::InvalidCursor)));

    // batch_get
    let mut keys: Vec<Key> = (0..50).map(|i| Key::new("T#2", format!("M#{i:03}"))).collect();
    keys.push(Key::new("T#2", "M#061")); // expired
    keys.push(Key::new("T#2", "missing"));
    keys.push(Key::new("T#2", "M#000")); // duplicate
    let got = t.batch_get(&keys).await.unwrap();
    assert_eq!(got.len(), 50);
    let many: Vec<Key> = (0..101).map(|i| Key::new("T#2", format!("M#{i:03}"))).collect();
    assert!(matches!(t.batch_get(&many).await, Err(StoreError::Invalid(_))));
    assert_eq!(t.batch_get(&many[..100]).await.unwrap().len(), 60);
    assert!(t.batch_get(&[]).await.unwrap().is_empty());

    // transactions
    let ops = vec![
        TransactOp::Put { item: item(json!({"pk": "T#4", "sk": "A", "v": 1})), condition: Some(Condition::ItemNotExists) },
        TransactOp::Update { key: Key::new("T#4", "B"), update: Update::new().add("n", 1).set("ttl", now + 100), condition: None },
        TransactOp::Check { key: Key::new("T#1", "C#1"), condition: Condition::ItemExists },
        TransactOp::Delete { key: Key::new("T#2", "M#000"), condition: Some(Condition::ItemExists) },
    ];
    t.transact(ops).await.unwrap();
    assert!(t.get(&Key::new("T#2", "M#000")).await.unwrap().is_none());
    assert_eq!(t.get(&Key::new("T#4", "B")).await.unwrap().unwrap()["n"], 1);
    let ops = vec![
        TransactOp::Update { key: Key::new("T#4", "B"), update: Update::new().add("n", 1), condition: None },
        TransactOp::Put { item: item(json!({"pk": "T#4", "sk": "A", "v": 2})), condition: Some(Condition::ItemNotExists) },
        TransactOp::Check { key: Key::new("T#1", "C#1"), condition: Condition::eq("status", "nope") },
    ];
    let e = t.transact(ops).await.unwrap_err();
    println!("transaction failure: {e:?}");
    assert!(matches!(&e, StoreError::TransactionCanceled { failed } if failed == &vec![1, 2]), "{e:?}");
    assert_eq!(t.get(&Key::new("T#4", "B")).await.unwrap().unwrap()["n"], 1);
    // validation: duplicate key
    let dup = vec![
        TransactOp::Check { key: Key::new("a", "b"), condition: Condition::ItemExists },
        TransactOp::Delete { key: Key::new("a", "b"), condition: None },
    ];
    assert!(matches!(t.transact(dup).await, Err(StoreError::Invalid(_))));

    // big batch_put: 1000 items, concurrency
    let started = std::time::Instant::now();
    let items: Vec<Item> = (0..1000).map(|i| item(json!({"pk": "T#5", "sk": format!("{i:04}")}))).collect();
    t.batch_put(items).await.unwrap();
    println!("batch_put 1000 in {:?}", started.elapsed());
    let page = t.query(&Query::partition("T#5").limit(1000)).await.unwrap();
    println!("T#5 page of 1000: {} items, next_cursor {:?}", page.items.len(), page.next_cursor.is_some());

    // missing table -> Backend
    let missing = DynamoTable::new(client.clone(), "nope");
    println!("missing table: {:?}", missing.get(&k).await.unwrap_err());
    println!("DYNAMO OK");
}

async fn sqs(conf: &aws_config::SdkConfig) {
    let client = aws_sdk_sqs::Client::new(conf);
    let (url, dlq_url) = create_queue_with_dlq(&client, "sends", 2, 2).await.unwrap();
    let again = create_queue_with_dlq(&client, "sends", 2, 2).await.unwrap();
    assert_eq!(again, (url.clone(), dlq_url.clone()));
    println!("queue {url} dlq {dlq_url}");
    let q = SqsQueue::new(client.clone(), url.clone());
    let dlq = SqsQueue::new(client.clone(), dlq_url);
    q.send_batch((0..25).map(|i| OutgoingMessage::new(format!("m{i}"))).collect()).await.unwrap();
    q.send_batch(vec![]).await.unwrap();
    assert_eq!(q.approximate_len().await.unwrap(), 25);
    assert!(matches!(q.receive(0, Duration::ZERO).await, Err(QueueError::Invalid(_))));
    assert!(matches!(q.receive(11, Duration::ZERO).await, Err(QueueError::Invalid(_))));
    let mut got = Vec::new();
    while got.len() < 25 {
        let batch = q.receive(10, Duration::from_secs(1)).await.unwrap();
        assert!(batch.iter().all(|d| d.receive_count == 1));
        if batch.is_empty() { break; }
        got.extend(batch);
    }
    assert_eq!(got.len(), 25);
    assert_eq!(q.approximate_len().await.unwrap(), 25, "in flight counts");
    for d in &got { q.ack(&d.receipt).await.unwrap(); }
    assert_eq!(q.approximate_len().await.unwrap(), 0);
    println!("ack twice: {:?}", q.ack(&got[0].receipt).await);
    println!("ack garbage: {:?}", q.ack("garbage").await);
    println!("retry_after garbage: {:?}", q.retry_after("garbage", Duration::ZERO).await);
    println!("retry_after acked: {:?}", q.retry_after(&got[0].receipt, Duration::ZERO).await);

    // retry + dead-lettering
    q.send_batch(vec![OutgoingMessage::new("poison")]).await.unwrap();
    let d1 = q.receive(1, Duration::from_secs(1)).await.unwrap();
    assert_eq!(d1.len(), 1);
    assert_eq!(d1[0].receive_count, 1);
    q.retry_after(&d1[0].receipt, Duration::ZERO).await.unwrap();
    let d2 = q.receive(1, Duration::from_secs(1)).await.unwrap();
    assert_eq!(d2[0].receive_count, 2);
    assert_eq!(d2[0].message_id, d1[0].message_id);
    println!("stale receipt (old receive) retry_after: {:?}", q.retry_after(&d1[0].receipt, Duration::from_secs(5)).await);
    q.retry_after(&d2[0].receipt, Duration::ZERO).await.unwrap();
    let d3 = q.receive(1, Duration::from_secs(1)).await.unwrap();
    println!("after max receives: {:?}", d3);
    let dead = dlq.receive(10, Duration::from_secs(1)).await.unwrap();
    println!("dlq: {:?}", dead);

    // visibility timeout redelivery
    q.send_batch(vec![OutgoingMessage::new("slow")]).await.unwrap();
    let a = q.receive(1, Duration::from_secs(1)).await.unwrap();
    assert_eq!(a.len(), 1);
    assert!(q.receive(1, Duration::ZERO).await.unwrap().is_empty());
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let b = q.receive(1, Duration::from_secs(1)).await.unwrap();
    assert_eq!(b.len(), 1);
    assert_eq!(b[0].receive_count, 2);
    q.ack(&b[0].receipt).await.unwrap();

    // delay
    q.send_batch(vec![OutgoingMessage::new("later").delayed(Duration::from_secs(2))]).await.unwrap();
    println!("len with delayed: {}", q.approximate_len().await.unwrap());
    assert!(q.receive(1, Duration::ZERO).await.unwrap().is_empty());
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let l = q.receive(1, Duration::from_secs(1)).await.unwrap();
    assert_eq!(l.len(), 1);
    assert!(matches!(q.send_batch(vec![OutgoingMessage::new("x").delayed(Duration::from_secs(901))]).await, Err(QueueError::Invalid(_))));
    println!("SQS OK");
}

async fn s3(conf: &aws_config::SdkConfig) {
    let client = s3_client(conf);
    create_bucket(&client, "imports").await.unwrap();
    create_bucket(&client, "imports").await.unwrap();
    let b = S3Blobs::new(client, "imports");
    b.put("a/x.csv", Bytes::from_static(b"phone\n+1"), "text/csv").await.unwrap();
    assert_eq!(b.get("a/x.csv").await.unwrap().unwrap(), Bytes::from_static(b"phone\n+1"));
    assert_eq!(b.get("a/missing").await.unwrap(), None);
    assert!(matches!(b.get("../x").await, Err(BlobError::InvalidKey(_))));
    b.delete("a/missing").await.unwrap();
    let mut set = tokio::task::JoinSet::new();
    for i in 0..1005 {
        let b = b.clone();
        set.spawn(async move { b.put(&format!("many/{i:05}"), Bytes::new(), "text/plain").await });
        if set.len() >= 32 { set.join_next().await.unwrap().unwrap().unwrap(); }
    }
    while let Some(r) = set.join_next().await { r.unwrap().unwrap(); }
    let keys = b.list("many/").await.unwrap();
    assert_eq!(keys.len(), 1005);
    assert_eq!(b.list("a/").await.unwrap(), vec!["a/x.csv".to_string()]);
    assert_eq!(b.list("").await.unwrap().len(), 1006);
    b.delete("a/x.csv").await.unwrap();
    assert_eq!(b.get("a/x.csv").await.unwrap(), None);
    let nobucket = S3Blobs::new(s3_client(conf), "nobucket");
    println!("no bucket: {:?}", nobucket.get("x").await);
    println!("S3 OK");
}

async fn secrets(conf: &aws_config::SdkConfig) {
    let s = SecretsManagerSecrets::from_config(conf, "smscrm/test/");
    assert!(s.get("twilio").await.unwrap().is_none());
    s.put("twilio", SecretString::from("one")).await.unwrap();
    assert_eq!(s.get("twilio").await.unwrap().unwrap().expose_secret(), "one");
    s.put("twilio", SecretString::from("two")).await.unwrap();
    assert_eq!(s.get("twilio").await.unwrap().unwrap().expose_secret(), "two");
    assert!(matches!(s.get("bad name").await, Err(SecretsError::InvalidName(_))));
    println!("SECRETS OK");
}
