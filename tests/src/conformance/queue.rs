//! Conformance cases of the [`Queue`] port. Each case creates its own queue (and dead-letter
//! queue) through a [`QueueFactory`], since visibility timeout and receive limit are queue
//! settings.

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::time::{Duration, Instant};

use smscrm_domain::ports::queue::{
    Delivery, MAX_DELAY, MAX_RECEIVE, OutgoingMessage, Queue, QueueError,
};

use super::eventually;
use crate::backends::{QueueFactory, QueueSpec};

/// This module's source, for the check that every case is listed in the suite macro.
pub const SOURCE: &str = include_str!("queue.rs");

/// Timing slack: SQS (and moto) count visibility and delay in whole seconds and may release a
/// message a little early or late; the embedded queue is exact.
const EARLY: Duration = Duration::from_millis(250);

// ---------------------------------------------------------------------------------------------
// helpers

async fn send(queue: &dyn Queue, bodies: &[&str]) {
    let messages = bodies.iter().map(|b| OutgoingMessage::new(*b)).collect();
    queue.send_batch(messages).await.expect("send_batch");
}

/// One receive call that must come back empty right now.
async fn assert_nothing_visible(queue: &dyn Queue, what: &str) {
    let got = queue
        .receive(MAX_RECEIVE, Duration::ZERO)
        .await
        .expect("receive");
    assert!(
        got.is_empty(),
        "{what}: expected no visible message, got {got:?}"
    );
}

/// Receives until a message arrives (at most `timeout`), asserting it is the only one.
async fn receive_one(queue: &dyn Queue, timeout: Duration, what: &str) -> Delivery {
    let mut got = eventually(what, timeout, || async {
        let got = queue
            .receive(MAX_RECEIVE, Duration::from_secs(1))
            .await
            .expect("receive");
        (!got.is_empty()).then_some(got)
    })
    .await;
    assert_eq!(
        got.len(),
        1,
        "{what}: expected exactly one message, got {got:?}"
    );
    got.remove(0)
}

#[track_caller]
fn assert_invalid<T: Debug>(result: Result<T, QueueError>, what: &str) {
    assert!(
        matches!(result, Err(QueueError::Invalid(_))),
        "{what}: expected Err(Invalid(_)), got {result:?}"
    );
}

async fn len(queue: &dyn Queue) -> u64 {
    queue.approximate_len().await.expect("approximate_len")
}

// ---------------------------------------------------------------------------------------------
// cases

/// 25 messages sent in one call are each received once, with receive_count 1; acking them all
/// empties the queue.
pub async fn send_and_receive_all(queues: &dyn QueueFactory) {
    let q = queues.queue(QueueSpec::default()).await;
    let queue = &*q.queue;
    let mut bodies: Vec<String> = (0..24).map(|i| format!("message {i:02}")).collect();
    bodies.push(r#"{"json": "ünïcødé ✓ 😀", "n": [1, 2]}"#.to_owned());
    let sent: Vec<OutgoingMessage> = bodies.iter().map(OutgoingMessage::new).collect();
    queue.send_batch(sent).await.expect("send_batch of 25");
    assert_eq!(len(queue).await, 25, "approximate_len after sending");

    let mut received: Vec<Delivery> = Vec::new();
    let start = Instant::now();
    while received.len() < bodies.len() {
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "received only {} of 25",
            received.len()
        );
        let got = queue
            .receive(MAX_RECEIVE, Duration::from_secs(1))
            .await
            .expect("receive");
        assert!(got.len() <= MAX_RECEIVE as usize, "at most 10 per receive");
        received.extend(got);
    }
    let got_bodies: BTreeSet<&str> = received.iter().map(|d| d.body.as_str()).collect();
    let want_bodies: BTreeSet<&str> = bodies.iter().map(String::as_str).collect();
    assert_eq!(got_bodies, want_bodies, "every body received");
    assert_eq!(received.len(), 25, "each message once");
    let ids: BTreeSet<&str> = received.iter().map(|d| d.message_id.as_str()).collect();
    assert_eq!(ids.len(), 25, "distinct message ids");
    let receipts: BTreeSet<&str> = received.iter().map(|d| d.receipt.as_str()).collect();
    assert_eq!(receipts.len(), 25, "distinct receipts");
    for delivery in &received {
        assert_eq!(delivery.receive_count, 1, "first delivery of {delivery:?}");
    }

    assert_nothing_visible(queue, "all 25 are in flight").await;
    assert_eq!(len(queue).await, 25, "in-flight messages still count");
    let one = queue
        .receive(1, Duration::ZERO)
        .await
        .expect("receive of one");
    assert!(one.is_empty(), "in flight: {one:?}");

    for delivery in &received {
        queue.ack(&delivery.receipt).await.expect("ack");
    }
    assert_eq!(len(queue).await, 0, "empty after acking everything");
    assert_nothing_visible(queue, "after acking everything").await;
}

/// A message not acked and released with retry_after(0) comes back with receive_count 2 and a
/// new receipt; acking with it succeeds even after an ack with the stale receipt.
pub async fn retry_redelivers_with_new_receipt(queues: &dyn QueueFactory) {
    let q = queues.queue(QueueSpec::default()).await;
    let queue = &*q.queue;
    send(queue, &["retry me"]).await;

    let first = receive_one(queue, Duration::from_secs(5), "first delivery").await;
    assert_eq!(first.receive_count, 1);
    assert_eq!(first.body, "retry me");
    queue
        .retry_after(&first.receipt, Duration::ZERO)
        .await
        .expect("retry_after(0)");

    let second = receive_one(queue, Duration::from_secs(5), "redelivery").await;
    assert_eq!(second.message_id, first.message_id, "the same message");
    assert_eq!(second.body, "retry me");
    assert_eq!(second.receive_count, 2, "the second delivery counts 2");
    assert_ne!(
        second.receipt, first.receipt,
        "a new receive gets a new receipt"
    );

    // The port leaves a stale ack's outcome to the backend (SQS accepts it and may or may not
    // delete; the embedded queue refuses it): either Ok or StaleReceipt, nothing else. What
    // consumers rely on: acking with the current receipt then succeeds and the message is gone.
    let stale = queue.ack(&first.receipt).await;
    assert!(
        matches!(stale, Ok(()) | Err(QueueError::StaleReceipt)),
        "ack with the receipt of an earlier receive: expected Ok or Err(StaleReceipt), got {stale:?}"
    );
    queue
        .ack(&second.receipt)
        .await
        .expect("ack with the current receipt");
    assert_nothing_visible(queue, "after acking with the current receipt").await;
    assert_eq!(len(queue).await, 0, "the current receipt deletes");
}

/// An acked message never comes back, even after its visibility timeout; an unknown receipt
/// is stale.
pub async fn ack_removes_message(queues: &dyn QueueFactory) {
    let q = queues
        .queue(QueueSpec::default().visibility(Duration::from_secs(1)))
        .await;
    let queue = &*q.queue;
    send(queue, &["acked", "kept"]).await;
    let mut got = Vec::new();
    while got.len() < 2 {
        let batch = queue
            .receive(MAX_RECEIVE, Duration::from_secs(1))
            .await
            .expect("receive");
        assert!(!batch.is_empty(), "both messages are visible");
        got.extend(batch);
    }
    let acked = got
        .iter()
        .find(|d| d.body == "acked")
        .expect("acked received");
    queue.ack(&acked.receipt).await.expect("ack");

    // Once "kept" is back, the visibility timeout has passed for "acked" too.
    let back = receive_one(queue, Duration::from_secs(6), "the unacked message returns").await;
    assert_eq!(back.body, "kept", "only the unacked message returns");
    assert_eq!(back.receive_count, 2);
    queue.ack(&back.receipt).await.expect("ack");
    assert_eq!(len(queue).await, 0);

    let unknown = queue.ack("not-a-receipt").await;
    assert!(
        matches!(unknown, Err(QueueError::StaleReceipt)),
        "ack with an unknown receipt: expected Err(StaleReceipt), got {unknown:?}"
    );
}

/// A received message stays hidden for the visibility timeout, then is delivered again.
pub async fn visibility_timeout_hides_received_message(queues: &dyn QueueFactory) {
    // Long enough for the check right after receiving to land inside it on a busy machine.
    let visibility = Duration::from_secs(4);
    let q = queues
        .queue(QueueSpec::default().visibility(visibility))
        .await;
    let queue = &*q.queue;
    send(queue, &["hidden"]).await;

    // Taken before asking: the message is hidden from some moment of the call on, and the
    // answer's own latency must not count as time hidden.
    let received_at = Instant::now();
    let first = receive_one(queue, Duration::from_secs(5), "first delivery").await;
    assert_nothing_visible(queue, "right after receiving").await;

    let again = receive_one(queue, Duration::from_secs(12), "delivery after the timeout").await;
    let hidden_for = received_at.elapsed();
    assert!(
        hidden_for + EARLY >= visibility,
        "the message came back after {hidden_for:?}, before the visibility timeout {visibility:?}"
    );
    assert_eq!(again.message_id, first.message_id);
    assert_eq!(again.receive_count, 2);
    queue.ack(&again.receipt).await.expect("ack");
}

/// retry_after(d) hides the message for d.
pub async fn retry_after_delay_hides_message(queues: &dyn QueueFactory) {
    let q = queues.queue(QueueSpec::default()).await;
    let queue = &*q.queue;
    send(queue, &["later"]).await;
    let first = receive_one(queue, Duration::from_secs(5), "first delivery").await;

    let delay = Duration::from_secs(2);
    let released_at = Instant::now();
    queue
        .retry_after(&first.receipt, delay)
        .await
        .expect("retry_after(2s)");
    assert_nothing_visible(queue, "right after retry_after(2s)").await;

    let again = receive_one(queue, Duration::from_secs(8), "delivery after the delay").await;
    let hidden_for = released_at.elapsed();
    assert!(
        hidden_for + EARLY >= delay,
        "the message came back after {hidden_for:?}, before the delay {delay:?}"
    );
    assert_eq!(again.message_id, first.message_id);
    assert_eq!(again.receive_count, 2);
}

/// With max_receives 2, a message received and released twice goes to the dead-letter queue
/// instead of being delivered a third time.
pub async fn dead_letter_after_max_receives(queues: &dyn QueueFactory) {
    let q = queues.queue(QueueSpec::default().max_receives(2)).await;
    let (queue, dead) = (&*q.queue, &*q.dead_letter);
    send(queue, &["poison"]).await;

    for attempt in 1..=2 {
        let delivery = receive_one(queue, Duration::from_secs(5), "a delivery").await;
        assert_eq!(delivery.body, "poison");
        assert_eq!(
            delivery.receive_count, attempt,
            "receive_count of attempt {attempt}"
        );
        queue
            .retry_after(&delivery.receipt, Duration::ZERO)
            .await
            .expect("retry_after(0)");
    }

    let third = queue
        .receive(MAX_RECEIVE, Duration::from_secs(1))
        .await
        .expect("third receive");
    assert!(third.is_empty(), "no third delivery, got {third:?}");
    assert_nothing_visible(queue, "after dead-lettering").await;
    assert_eq!(len(queue).await, 0, "the main queue is empty");

    let dead_letter = receive_one(dead, Duration::from_secs(5), "the dead-lettered message").await;
    assert_eq!(dead_letter.body, "poison");
    dead.ack(&dead_letter.receipt)
        .await
        .expect("ack on the dead-letter queue");
}

/// A delayed message stays hidden for its delay; others in the same batch do not wait.
pub async fn delay_hides_message(queues: &dyn QueueFactory) {
    let q = queues.queue(QueueSpec::default()).await;
    let queue = &*q.queue;
    // Long enough for the receive, the ack and the check below to land inside it on a busy
    // machine.
    let delay = Duration::from_secs(5);
    let sent_at = Instant::now();
    queue
        .send_batch(vec![
            OutgoingMessage::new("now"),
            OutgoingMessage::new("delayed").delayed(delay),
        ])
        .await
        .expect("send_batch");

    let now = receive_one(queue, Duration::from_secs(5), "the undelayed message").await;
    assert_eq!(
        now.body, "now",
        "only the undelayed message is visible at first"
    );
    assert!(
        sent_at.elapsed() < delay,
        "the test ran too slowly to observe the delay"
    );
    queue.ack(&now.receipt).await.expect("ack");
    assert_nothing_visible(queue, "while the delay runs").await;

    let delayed = receive_one(queue, Duration::from_secs(12), "the delayed message").await;
    let waited = sent_at.elapsed();
    assert_eq!(delayed.body, "delayed");
    assert_eq!(delayed.receive_count, 1, "a delay is not a receive");
    assert!(
        waited + EARLY >= delay,
        "the delayed message arrived after {waited:?}, before its delay {delay:?}"
    );
}

/// Limits SQS enforces are `Invalid` on every backend.
pub async fn invalid_requests_are_rejected(queues: &dyn QueueFactory) {
    let q = queues.queue(QueueSpec::default()).await;
    let queue = &*q.queue;
    assert_invalid(
        queue.receive(0, Duration::ZERO).await,
        "receive of 0 messages",
    );
    assert_invalid(
        queue.receive(MAX_RECEIVE + 1, Duration::ZERO).await,
        "receive of 11 messages",
    );
    assert_invalid(
        queue
            .send_batch(vec![
                OutgoingMessage::new("ok"),
                OutgoingMessage::new("too late").delayed(MAX_DELAY + Duration::from_secs(1)),
            ])
            .await,
        "a delay over 15 minutes",
    );
    queue.send_batch(Vec::new()).await.expect("sending nothing");
}
