//! [`SqliteQueue`]: the Queue port as rows in a SQLite file, with SQS's semantics: at-least-once
//! delivery, a visibility timeout per receive, receive counts, and redrive to a dead-letter
//! queue. Several named queues share one file; processes share it as the table does (see
//! [`crate::db`]). A file of its own for the queues keeps their writes from waiting on the
//! table's write lock, as SQLite has one writer per file.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{Transaction, params};
use smscrm_domain::ports::queue::{
    Delivery, MAX_DELAY, MAX_RECEIVE, MAX_VISIBILITY, OutgoingMessage, Queue, QueueError,
};
use smscrm_domain::ports::{Clock, SystemClock};

use crate::db::{Db, Fail, is_busy};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY,
    queue TEXT NOT NULL,
    message_id TEXT NOT NULL,
    body TEXT NOT NULL,
    sent_at INTEGER NOT NULL,
    visible_at INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    receipt TEXT
);
CREATE INDEX IF NOT EXISTS messages_visible ON messages (queue, visible_at);
";

/// How often a long poll looks for messages sent by other processes (same-process sends wake it
/// at once).
const POLL: Duration = Duration::from_millis(25);
/// SQS's largest message body.
const MAX_BODY: usize = 262_144;
/// SQS's range for a redrive policy's `maxReceiveCount`.
const MAX_RECEIVES: u32 = 1000;
/// `send_batch` commits in chunks of this many messages, so a huge send never holds the write
/// lock for long.
const SEND_CHUNK: usize = 1000;

/// How a queue behaves, as an SQS queue's attributes and redrive policy say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueConfig {
    /// How long a received message stays hidden (at most 12 hours).
    pub visibility_timeout: Duration,
    /// With a dead-letter queue: receives allowed before the message is moved there
    /// (1..=1000). Without one (SQS without a redrive policy) messages are redelivered forever.
    pub max_receives: u32,
    /// The name of the queue, in the same file, that takes messages received too often.
    pub dead_letter: Option<String>,
}

/// One named queue in a SQLite file.
pub struct SqliteQueue {
    db: Arc<Db>,
    name: Arc<str>,
    config: Arc<QueueConfig>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for SqliteQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteQueue")
            .field("name", &self.name)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl From<QueueError> for Fail<QueueError> {
    fn from(err: QueueError) -> Self {
        Self::Port(err)
    }
}

impl From<Fail<QueueError>> for QueueError {
    fn from(fail: Fail<QueueError>) -> Self {
        match fail {
            Fail::Port(err) => err,
            Fail::Sql(err) if is_busy(&err) => Self::Unavailable(err.to_string()),
            Fail::Sql(err) => Self::backend(err),
            Fail::Other(message) => Self::Backend(message.into()),
        }
    }
}

/// SQS's queue names: 1..=80 of `A-Za-z0-9_-`.
fn validate_name(name: &str) -> Result<(), QueueError> {
    let ok = !name.is_empty()
        && name.len() <= 80
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(QueueError::Invalid(format!("invalid queue name `{name}`")))
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// A receipt names the message's row and this receive: `<seq>-<128 random bits in hex>`.
fn new_receipt(seq: i64) -> String {
    format!("{seq}-{:032x}", rand::random::<u128>())
}

/// The row a receipt names; `None` for anything that is not a receipt of ours.
fn receipt_seq(receipt: &str) -> Option<i64> {
    let (seq, nonce) = receipt.split_once('-')?;
    let valid_nonce = nonce.len() == 32 && nonce.bytes().all(|b| b.is_ascii_hexdigit());
    valid_nonce.then(|| seq.parse().ok()).flatten()
}

impl SqliteQueue {
    /// Opens the queue `name` in the SQLite file at `path`, creating the file and schema if
    /// needed. The parent directory must exist.
    pub fn open(path: &Path, name: &str, config: QueueConfig) -> Result<Self, QueueError> {
        validate_name(name)?;
        if config.visibility_timeout > MAX_VISIBILITY {
            return Err(QueueError::Invalid(
                "visibility timeout is at most 12 hours".into(),
            ));
        }
        if let Some(dlq) = &config.dead_letter {
            validate_name(dlq)?;
            if dlq == name {
                return Err(QueueError::Invalid(
                    "a queue cannot be its own dead-letter queue".into(),
                ));
            }
            if !(1..=MAX_RECEIVES).contains(&config.max_receives) {
                return Err(QueueError::Invalid(format!(
                    "max_receives must be 1..={MAX_RECEIVES}"
                )));
            }
        }
        Ok(Self {
            db: Db::open::<QueueError>(path, SCHEMA)?,
            name: name.into(),
            config: Arc::new(config),
            clock: Arc::new(SystemClock),
        })
    }

    /// Judges visibility by `clock` instead of the system clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    fn now_ms(&self) -> i64 {
        self.clock.now().timestamp_millis()
    }

    /// When the next message of this queue becomes visible (`None`: the queue is empty).
    /// A read, so idle pollers never take the write lock.
    async fn next_visible_at(&self) -> Result<Option<i64>, QueueError> {
        let name = Arc::clone(&self.name);
        Ok(self
            .db
            .call(move |s| {
                let mut stmt = s
                    .conn()
                    .prepare_cached("SELECT MIN(visible_at) FROM messages WHERE queue = ?1")?;
                Ok(stmt.query_row(params![&*name], |r| r.get(0))?)
            })
            .await?)
    }

    /// One receive attempt: claims up to `max` visible messages.
    async fn receive_now(&self, max: u32) -> Result<Vec<Delivery>, QueueError> {
        let (name, config, now) = (
            Arc::clone(&self.name),
            Arc::clone(&self.config),
            self.now_ms(),
        );
        let (deliveries, dead_lettered) = self
            .db
            .call(move |s| s.write(|tx| claim(tx, &name, &config, max as usize, now)))
            .await?;
        if dead_lettered {
            self.db.changed.notify_waiters();
        }
        Ok(deliveries)
    }

    /// Changes the message the receipt names; `StaleReceipt` when the receipt no longer names
    /// the latest receive of a message of this queue.
    async fn by_receipt(
        &self,
        receipt: &str,
        sql: &'static str,
        visible_at: Option<i64>,
    ) -> Result<(), QueueError> {
        let seq = receipt_seq(receipt).ok_or(QueueError::StaleReceipt)?;
        let (name, receipt) = (Arc::clone(&self.name), receipt.to_owned());
        let changed = self
            .db
            .call(move |s| {
                s.write(|tx| {
                    let mut stmt = tx.prepare_cached(sql)?;
                    Ok(match visible_at {
                        Some(at) => stmt.execute(params![seq, &*name, receipt, at])?,
                        None => stmt.execute(params![seq, &*name, receipt])?,
                    })
                })
            })
            .await?;
        if changed == 0 {
            Err(QueueError::StaleReceipt)
        } else {
            Ok(())
        }
    }
}

/// Claims up to `max` visible messages, oldest visible first. A message that would go past
/// `max_receives` is moved to the dead-letter queue instead (SQS's redrive), and another is
/// taken in its place. Returns the deliveries and whether anything was dead-lettered.
fn claim(
    tx: &Transaction<'_>,
    queue: &str,
    config: &QueueConfig,
    max: usize,
    now: i64,
) -> Result<(Vec<Delivery>, bool), Fail<QueueError>> {
    let mut select = tx.prepare_cached(
        "SELECT seq, message_id, body, receive_count FROM messages \
         WHERE queue = ?1 AND visible_at <= ?2 ORDER BY visible_at, seq LIMIT ?3",
    )?;
    let mut deliver = tx.prepare_cached(
        "UPDATE messages SET receive_count = ?2, receipt = ?3, visible_at = ?4 WHERE seq = ?1",
    )?;
    let mut dead_letter = tx.prepare_cached(
        "UPDATE messages SET queue = ?2, receive_count = 0, receipt = NULL, visible_at = ?3 \
         WHERE seq = ?1",
    )?;
    let hidden_until = now.saturating_add(millis(config.visibility_timeout));
    let mut deliveries = Vec::new();
    let mut claimed = Vec::new();
    let mut dead_lettered = false;
    loop {
        let wanted = max - deliveries.len();
        // A zero visibility timeout leaves delivered messages visible: skip those in this call.
        let skip = deliveries.len();
        let rows = select
            .query_map(params![queue, now, (wanted + skip) as i64], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, i64>(3)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let fetched = rows.len();
        let mut moved = 0;
        for (seq, message_id, body, count) in rows {
            if deliveries.len() == max {
                break;
            }
            if claimed.contains(&seq) {
                continue;
            }
            let count = u32::try_from(count).unwrap_or(u32::MAX).saturating_add(1);
            match &config.dead_letter {
                Some(dlq) if count > config.max_receives => {
                    dead_letter.execute(params![seq, dlq, now])?;
                    moved += 1;
                }
                _ => {
                    let receipt = new_receipt(seq);
                    deliver.execute(params![seq, count, receipt, hidden_until])?;
                    claimed.push(seq);
                    deliveries.push(Delivery {
                        message_id,
                        body,
                        receipt,
                        receive_count: count,
                    });
                }
            }
        }
        dead_lettered |= moved > 0;
        // Look again only when redrive took rows that were asked for and more may be waiting.
        if moved == 0 || deliveries.len() == max || fetched < wanted + skip {
            return Ok((deliveries, dead_lettered));
        }
    }
}

#[async_trait]
impl Queue for SqliteQueue {
    async fn send_batch(&self, messages: Vec<OutgoingMessage>) -> Result<(), QueueError> {
        for message in &messages {
            if message.body.is_empty() || message.body.len() > MAX_BODY {
                return Err(QueueError::Invalid(format!(
                    "message bodies hold 1..={MAX_BODY} bytes"
                )));
            }
            if message.delay > MAX_DELAY {
                return Err(QueueError::Invalid("delay is at most 15 minutes".into()));
            }
        }
        let now = self.now_ms();
        let mut messages = messages.into_iter().peekable();
        while messages.peek().is_some() {
            let chunk: Vec<OutgoingMessage> = messages.by_ref().take(SEND_CHUNK).collect();
            let name = Arc::clone(&self.name);
            self.db
                .call(move |s| {
                    s.write(|tx| {
                        let mut insert = tx.prepare_cached(
                            "INSERT INTO messages (queue, message_id, body, sent_at, visible_at) \
                             VALUES (?1, ?2, ?3, ?4, ?5)",
                        )?;
                        for message in &chunk {
                            let id = ulid::Ulid::new().to_string();
                            let visible_at = now.saturating_add(millis(message.delay));
                            insert.execute(params![&*name, id, message.body, now, visible_at])?;
                        }
                        Ok(())
                    })
                })
                .await?;
            self.db.changed.notify_waiters();
        }
        Ok(())
    }

    async fn receive(&self, max: u32, wait: Duration) -> Result<Vec<Delivery>, QueueError> {
        if !(1..=MAX_RECEIVE).contains(&max) {
            return Err(QueueError::Invalid(format!(
                "receive takes 1..={MAX_RECEIVE} messages"
            )));
        }
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            // Registered before looking, so a send between the look and the sleep still wakes us.
            let changed = self.db.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();

            let now = self.now_ms();
            let next = self.next_visible_at().await?;
            if next.is_some_and(|at| at <= now) {
                let got = self.receive_now(max).await?;
                if !got.is_empty() {
                    return Ok(got);
                }
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                return Ok(Vec::new());
            }
            // Sleep until the next message should become visible, another process may have
            // sent one, or the wait is over, whichever comes first.
            let until_visible = next.map_or(POLL, |at| {
                Duration::from_millis(u64::try_from(at.saturating_sub(now)).unwrap_or(0))
            });
            let nap = left
                .min(POLL)
                .min(until_visible.max(Duration::from_millis(1)));
            tokio::select! {
                () = &mut changed => {}
                () = tokio::time::sleep(nap) => {}
            }
        }
    }

    async fn ack(&self, receipt: &str) -> Result<(), QueueError> {
        self.by_receipt(
            receipt,
            "DELETE FROM messages WHERE seq = ?1 AND queue = ?2 AND receipt = ?3",
            None,
        )
        .await
    }

    async fn retry_after(&self, receipt: &str, delay: Duration) -> Result<(), QueueError> {
        if delay > MAX_VISIBILITY {
            return Err(QueueError::Invalid(
                "retry delay is at most 12 hours".into(),
            ));
        }
        let visible_at = self.now_ms().saturating_add(millis(delay));
        self.by_receipt(
            receipt,
            "UPDATE messages SET visible_at = ?4 WHERE seq = ?1 AND queue = ?2 AND receipt = ?3",
            Some(visible_at),
        )
        .await?;
        if delay.is_zero() {
            self.db.changed.notify_waiters();
        }
        Ok(())
    }

    async fn approximate_len(&self) -> Result<u64, QueueError> {
        let name = Arc::clone(&self.name);
        let count: i64 = self
            .db
            .call(move |s| {
                let mut stmt = s
                    .conn()
                    .prepare_cached("SELECT COUNT(*) FROM messages WHERE queue = ?1")?;
                Ok(stmt.query_row(params![&*name], |r| r.get(0))?)
            })
            .await?;
        Ok(u64::try_from(count).unwrap_or(0))
    }
}

#[cfg(test)]
mod tests;
