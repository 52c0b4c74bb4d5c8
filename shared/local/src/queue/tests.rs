//! The queue's local specifics: receipts, redrive, long polling, sharing one file.

use std::time::Duration;

use super::*;

type TestResult = Result<(), QueueError>;

fn temp() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

fn config(visibility_ms: u64, dead_letter: Option<&str>) -> QueueConfig {
    QueueConfig {
        visibility_timeout: Duration::from_millis(visibility_ms),
        max_receives: 2,
        dead_letter: dead_letter.map(str::to_owned),
    }
}

fn open(
    dir: &tempfile::TempDir,
    name: &str,
    config: QueueConfig,
) -> Result<SqliteQueue, QueueError> {
    SqliteQueue::open(&dir.path().join("queues.db"), name, config)
}

async fn send(queue: &SqliteQueue, bodies: &[&str]) -> TestResult {
    queue
        .send_batch(bodies.iter().map(|b| OutgoingMessage::new(*b)).collect())
        .await
}

fn bodies(deliveries: &[Delivery]) -> Vec<&str> {
    deliveries.iter().map(|d| d.body.as_str()).collect()
}

#[tokio::test]
async fn delivers_oldest_first_and_hides_what_it_delivered() -> TestResult {
    let dir = temp();
    let queue = open(&dir, "send", config(60_000, None))?;
    send(&queue, &["a", "b", "c"]).await?;
    let first = queue.receive(2, Duration::ZERO).await?;
    assert_eq!(bodies(&first), ["a", "b"]);
    assert!(first.iter().all(|d| d.receive_count == 1));
    assert_eq!(bodies(&queue.receive(10, Duration::ZERO).await?), ["c"]);
    assert!(queue.receive(10, Duration::ZERO).await?.is_empty());
    assert_eq!(queue.approximate_len().await?, 3);
    for d in &first {
        queue.ack(&d.receipt).await?;
    }
    assert_eq!(queue.approximate_len().await?, 1);
    Ok(())
}

#[tokio::test]
async fn a_receipt_goes_stale_when_the_message_is_received_again() -> TestResult {
    let dir = temp();
    let queue = open(&dir, "send", config(0, None))?;
    send(&queue, &["a"]).await?;
    let first = queue.receive(1, Duration::ZERO).await?;
    let second = queue.receive(1, Duration::ZERO).await?;
    assert_eq!(second.first().map(|d| d.receive_count), Some(2));
    let (Some(old), Some(new)) = (first.first(), second.first()) else {
        panic!("expected two deliveries");
    };
    assert_eq!(old.message_id, new.message_id);
    assert!(matches!(
        queue.ack(&old.receipt).await,
        Err(QueueError::StaleReceipt)
    ));
    let retried = queue.retry_after(&old.receipt, Duration::ZERO).await;
    assert!(matches!(retried, Err(QueueError::StaleReceipt)));
    queue.ack(&new.receipt).await?;
    // Deleted: its receipt is stale too.
    assert!(matches!(
        queue.ack(&new.receipt).await,
        Err(QueueError::StaleReceipt)
    ));
    for junk in ["", "x", "1-zz", "1-"] {
        assert!(matches!(
            queue.ack(junk).await,
            Err(QueueError::StaleReceipt)
        ));
    }
    Ok(())
}

#[tokio::test]
async fn receipts_of_another_queue_are_stale() -> TestResult {
    let dir = temp();
    let one = open(&dir, "one", config(60_000, None))?;
    let two = open(&dir, "two", config(60_000, None))?;
    send(&one, &["a"]).await?;
    let got = one.receive(1, Duration::ZERO).await?;
    let receipt = got.first().map(|d| d.receipt.clone()).unwrap_or_default();
    assert!(matches!(
        two.ack(&receipt).await,
        Err(QueueError::StaleReceipt)
    ));
    one.ack(&receipt).await
}

#[tokio::test]
async fn too_many_receives_move_the_message_to_the_dead_letter_queue() -> TestResult {
    let dir = temp();
    let queue = open(&dir, "send", config(60_000, Some("send-dlq")))?;
    let dlq = open(&dir, "send-dlq", config(60_000, None))?;
    send(&queue, &["poison"]).await?;
    for attempt in 1..=2 {
        let got = queue.receive(1, Duration::ZERO).await?;
        assert_eq!(bodies(&got), ["poison"]);
        assert_eq!(got.first().map(|d| d.receive_count), Some(attempt));
        let receipt = got.first().map(|d| d.receipt.clone()).unwrap_or_default();
        queue.retry_after(&receipt, Duration::ZERO).await?;
    }
    send(&queue, &["fine"]).await?;
    // The third receive would exceed max_receives: redriven, and the next message delivered.
    let got = queue.receive(1, Duration::ZERO).await?;
    assert_eq!(bodies(&got), ["fine"]);
    assert_eq!(queue.approximate_len().await?, 1);
    let dead = dlq.receive(10, Duration::ZERO).await?;
    assert_eq!(bodies(&dead), ["poison"]);
    assert_eq!(dead.first().map(|d| d.receive_count), Some(1));
    Ok(())
}

#[tokio::test]
async fn without_a_dead_letter_queue_messages_are_redelivered_forever() -> TestResult {
    let dir = temp();
    let queue = open(&dir, "send", config(0, None))?;
    send(&queue, &["a"]).await?;
    for attempt in 1..=5 {
        let got = queue.receive(1, Duration::ZERO).await?;
        assert_eq!(got.first().map(|d| d.receive_count), Some(attempt));
    }
    Ok(())
}

#[tokio::test]
async fn delays_and_retries_hide_messages_for_a_while() -> TestResult {
    let dir = temp();
    let queue = open(&dir, "send", config(60_000, None))?;
    queue
        .send_batch(vec![
            OutgoingMessage::new("later").delayed(Duration::from_millis(150)),
        ])
        .await?;
    assert!(queue.receive(1, Duration::ZERO).await?.is_empty());
    // A long poll returns as soon as the delay is over, well before its wait.
    let started = tokio::time::Instant::now();
    let got = queue.receive(1, Duration::from_secs(5)).await?;
    assert_eq!(bodies(&got), ["later"]);
    assert!(started.elapsed() < Duration::from_secs(2));

    let receipt = got.first().map(|d| d.receipt.clone()).unwrap_or_default();
    queue
        .retry_after(&receipt, Duration::from_millis(100))
        .await?;
    assert!(queue.receive(1, Duration::ZERO).await?.is_empty());
    let again = queue.receive(1, Duration::from_secs(5)).await?;
    assert_eq!(again.first().map(|d| d.receive_count), Some(2));
    // Changing visibility keeps the receipt valid, as in SQS.
    assert!(matches!(
        queue.ack(&receipt).await,
        Err(QueueError::StaleReceipt)
    ));
    let receipt = again.first().map(|d| d.receipt.clone()).unwrap_or_default();
    queue.retry_after(&receipt, Duration::from_secs(60)).await?;
    queue.ack(&receipt).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_poll_wakes_when_a_message_is_sent() -> TestResult {
    let dir = temp();
    let path = dir.path().join("queues.db");
    let receiver = SqliteQueue::open(&path, "send", config(60_000, None))?;
    let sender = SqliteQueue::open(&path, "send", config(60_000, None))?;
    let waiting = tokio::spawn(async move {
        let started = tokio::time::Instant::now();
        let got = receiver.receive(10, Duration::from_secs(10)).await;
        (got, started.elapsed())
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    send(&sender, &["ping"]).await?;
    let (got, waited) = waiting.await.map_err(QueueError::backend)?;
    assert_eq!(bodies(&got?), ["ping"]);
    assert!(waited < Duration::from_secs(2), "{waited:?}");
    Ok(())
}

#[tokio::test]
async fn a_long_poll_on_an_empty_queue_waits_then_returns_nothing() -> TestResult {
    let dir = temp();
    let queue = open(&dir, "send", config(60_000, None))?;
    let started = tokio::time::Instant::now();
    assert!(
        queue
            .receive(1, Duration::from_millis(120))
            .await?
            .is_empty()
    );
    assert!(started.elapsed() >= Duration::from_millis(120));
    Ok(())
}

#[tokio::test]
async fn invalid_requests_are_rejected() -> TestResult {
    let dir = temp();
    let queue = open(&dir, "send", config(60_000, None))?;
    for max in [0, 11] {
        let got = queue.receive(max, Duration::ZERO).await;
        assert!(matches!(got, Err(QueueError::Invalid(_))));
    }
    let too_late = OutgoingMessage::new("x").delayed(MAX_DELAY + Duration::from_secs(1));
    assert!(matches!(
        queue.send_batch(vec![too_late]).await,
        Err(QueueError::Invalid(_))
    ));
    let empty = OutgoingMessage::new("");
    assert!(matches!(
        queue.send_batch(vec![empty]).await,
        Err(QueueError::Invalid(_))
    ));
    assert!(open(&dir, "bad name", config(0, None)).is_err());
    assert!(open(&dir, "q", config(0, Some("q"))).is_err());
    Ok(())
}

#[tokio::test]
async fn messages_survive_reopening() -> TestResult {
    let dir = temp();
    {
        let queue = open(&dir, "send", config(60_000, None))?;
        send(&queue, &["kept"]).await?;
    }
    let queue = open(&dir, "send", config(60_000, None))?;
    assert_eq!(bodies(&queue.receive(1, Duration::ZERO).await?), ["kept"]);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn competing_receivers_never_share_a_message() -> TestResult {
    let dir = temp();
    let path = dir.path().join("queues.db");
    let queue = SqliteQueue::open(&path, "send", config(60_000, None))?;
    let bodies: Vec<String> = (0..200).map(|i| format!("m{i}")).collect();
    queue
        .send_batch(bodies.iter().map(OutgoingMessage::new).collect())
        .await?;
    let queue = Arc::new(queue);
    let mut workers = Vec::new();
    for _ in 0..4 {
        let queue = Arc::clone(&queue);
        workers.push(tokio::spawn(async move {
            let mut got = Vec::new();
            loop {
                let batch = queue.receive(10, Duration::ZERO).await?;
                if batch.is_empty() {
                    return Ok::<_, QueueError>(got);
                }
                got.extend(batch.into_iter().map(|d| d.body));
            }
        }));
    }
    let mut all = Vec::new();
    for worker in workers {
        all.extend(worker.await.map_err(QueueError::backend)??);
    }
    all.sort();
    let mut expected = bodies;
    expected.sort();
    assert_eq!(all, expected);
    Ok(())
}
