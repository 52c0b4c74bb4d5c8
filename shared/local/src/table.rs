//! [`SqliteTable`]: the Table port on one SQLite file that several processes share.
//!
//! One `items` table holds every item: its key and GSI key attributes in columns that SQLite
//! indexes, its TTL in another, and the rest as JSON (`data`; the `row` module says why keys are
//! not repeated there). Keys are stored as the BLOB of their UTF-8
//! bytes, so SQLite compares them with `memcmp`: the byte order DynamoDB uses for string keys.
//! Each GSI is a partial index holding only the rows that have both of its key attributes, which
//! is how DynamoDB's sparse indexes behave. See [`crate::db`] for locking and durability.

mod query;
mod row;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};
use smscrm_domain::ports::table::{
    Condition, Item, Key, Page, Query, StoreError, Table, TransactOp, Update, dedupe_by_key,
    validate_batch_get, validate_transaction,
};
use smscrm_domain::ports::{Clock, SystemClock};

use self::query::Plan;
use self::row::{ITEM_COLUMNS, Row, check_key, restore};
use crate::db::{Db, Fail, is_busy};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS items (
    pk BLOB NOT NULL,
    sk BLOB NOT NULL,
    gsi1pk BLOB,
    gsi1sk BLOB,
    gsi2pk BLOB,
    gsi2sk BLOB,
    ttl INTEGER,
    data BLOB NOT NULL,
    PRIMARY KEY (pk, sk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS items_gsi1 ON items (gsi1pk, gsi1sk, pk, sk) WHERE gsi1pk IS NOT NULL;
CREATE INDEX IF NOT EXISTS items_gsi2 ON items (gsi2pk, gsi2sk, pk, sk) WHERE gsi2pk IS NOT NULL;
-- Lets purge_expired find expired rows without scanning the table.
CREATE INDEX IF NOT EXISTS items_ttl ON items (ttl) WHERE ttl IS NOT NULL;
";

/// `batch_put` commits in chunks of this many items, so a large import never holds the write
/// lock long enough to time out writers in other processes (the port does not promise
/// atomicity across a batch). A chunk of 16,000 contacts commits in about 150 ms, far below
/// `BUSY_TIMEOUT`; each commit writes every page it dirtied to the WAL, so fewer, larger
/// commits write shared pages (index interiors, the name index's leaves, which contacts in
/// file order touch at random, the append end of the contacts) fewer times.
const BATCH_PUT_CHUNK: usize = 16_000;
/// Rows of `items` (the last of a key wins) in key order, as SQLite orders the primary key, in
/// chunks of [`BATCH_PUT_CHUNK`]: a chunk's inserts walk the B-tree forwards and each page
/// they touch is visited in one go. Measured on a 1M-row import, this also packs pages fuller
/// (a 10% smaller file).
fn sorted_rows(items: Vec<Item>) -> Result<Vec<Vec<Row>>, StoreError> {
    let mut rows = dedupe_by_key(items)?
        .iter()
        .map(Row::of)
        .collect::<Result<Vec<_>, _>>()?;
    rows.sort_unstable_by(|a, b| {
        (a.key.pk.as_bytes(), a.key.sk.as_bytes()).cmp(&(b.key.pk.as_bytes(), b.key.sk.as_bytes()))
    });
    let mut chunks = Vec::with_capacity(rows.len().div_ceil(BATCH_PUT_CHUNK));
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        chunks.push(rows.by_ref().take(BATCH_PUT_CHUNK).collect());
    }
    Ok(chunks)
}

/// `purge_expired` deletes in chunks of this many rows, for the same reason.
const PURGE_CHUNK: i64 = 1000;

/// The embedded Table. Cheap to share behind an `Arc`; every handle on the same file in one
/// process shares one connection pool.
pub struct SqliteTable {
    db: Arc<Db>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for SqliteTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteTable").finish_non_exhaustive()
    }
}

impl From<StoreError> for Fail<StoreError> {
    fn from(err: StoreError) -> Self {
        Self::Port(err)
    }
}

impl From<Fail<StoreError>> for StoreError {
    fn from(fail: Fail<StoreError>) -> Self {
        match fail {
            Fail::Port(err) => err,
            Fail::Sql(err) if is_busy(&err) => Self::Unavailable(err.to_string()),
            Fail::Sql(err) => Self::backend(err),
            Fail::Other(message) => Self::Backend(message.into()),
        }
    }
}

type Result<T, E = Fail<StoreError>> = std::result::Result<T, E>;

impl SqliteTable {
    /// Opens the table in the SQLite file at `path`, creating the file and schema if needed.
    /// The parent directory must exist.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        Ok(Self {
            db: Db::open::<StoreError>(path, SCHEMA)?,
            clock: Arc::new(SystemClock),
        })
    }

    #[cfg(test)]
    fn open_private(path: &Path, busy_timeout: std::time::Duration) -> Result<Self, StoreError> {
        Ok(Self {
            db: Db::open_private::<StoreError>(path, SCHEMA, busy_timeout)?,
            clock: Arc::new(SystemClock),
        })
    }

    /// Judges TTL expiry by `clock` instead of the system clock.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Deletes the items whose `ttl` has passed, returning how many: DynamoDB's TTL sweeper.
    /// The host calls it periodically; until then expired items are only hidden from reads.
    pub async fn purge_expired(&self) -> Result<u64, StoreError> {
        let now = self.now();
        let mut purged = 0;
        loop {
            let deleted = self
                .db
                .call(move |s| {
                    s.write(|tx| {
                        let mut stmt = tx.prepare_cached(
                            "DELETE FROM items WHERE (pk, sk) IN \
                             (SELECT pk, sk FROM items WHERE ttl <= ?1 LIMIT ?2)",
                        )?;
                        Ok(stmt.execute(params![now, PURGE_CHUNK])?)
                    })
                })
                .await?;
            purged += deleted as u64;
            if (deleted as i64) < PURGE_CHUNK {
                return Ok(purged);
            }
        }
    }

    fn now(&self) -> i64 {
        self.clock.now().timestamp()
    }
}

fn load(conn: &Connection, key: &Key) -> Result<Option<Item>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {ITEM_COLUMNS} FROM items WHERE pk = ?1 AND sk = ?2"
    ))?;
    let found = stmt
        .query_row(params![key.pk.as_bytes(), key.sk.as_bytes()], |r| {
            Ok(restore(r, 0))
        })
        .optional()?;
    Ok(found.transpose()?)
}

/// The item unless it is missing or expired.
fn load_visible(conn: &Connection, key: &Key, now: i64) -> Result<Option<Item>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT ttl, {ITEM_COLUMNS} FROM items WHERE pk = ?1 AND sk = ?2"
    ))?;
    let found = stmt
        .query_row(params![key.pk.as_bytes(), key.sk.as_bytes()], |r| {
            let ttl: Option<i64> = r.get(0)?;
            Ok(match ttl {
                Some(ttl) if ttl <= now => None,
                _ => Some(restore(r, 1)),
            })
        })
        .optional()?;
    Ok(found.flatten().transpose()?)
}

fn store(conn: &Connection, row: &Row) -> Result<()> {
    insert(conn, row, "INSERT OR REPLACE")?;
    Ok(())
}

/// Inserts the row unless its key holds one already (expired or not, as conditions see it);
/// false when it did.
fn store_if_absent(conn: &Connection, row: &Row) -> Result<bool> {
    Ok(insert(conn, row, "INSERT OR IGNORE")? == 1)
}

fn insert(conn: &Connection, row: &Row, verb: &str) -> Result<usize> {
    let mut stmt = conn.prepare_cached(&format!(
        "{verb} INTO items (pk, sk, gsi1pk, gsi1sk, gsi2pk, gsi2sk, ttl, data) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
    ))?;
    fn pk(key: &Option<Key>) -> Option<&[u8]> {
        key.as_ref().map(|k| k.pk.as_bytes())
    }
    fn sk(key: &Option<Key>) -> Option<&[u8]> {
        key.as_ref().map(|k| k.sk.as_bytes())
    }
    Ok(stmt.execute(params![
        row.key.pk.as_bytes(),
        row.key.sk.as_bytes(),
        pk(&row.gsi1),
        sk(&row.gsi1),
        pk(&row.gsi2),
        sk(&row.gsi2),
        row.ttl,
        row.data,
    ])?)
}

fn remove(conn: &Connection, key: &Key) -> Result<()> {
    let mut stmt = conn.prepare_cached("DELETE FROM items WHERE pk = ?1 AND sk = ?2")?;
    stmt.execute(params![key.pk.as_bytes(), key.sk.as_bytes()])?;
    Ok(())
}

fn check(condition: Option<&Condition>, current: Option<&Item>) -> Result<()> {
    match condition {
        Some(c) if !c.matches(current) => Err(StoreError::ConditionFailed.into()),
        _ => Ok(()),
    }
}

/// What a transaction operation writes, worked out before anything is written.
enum Effect {
    Store(Row),
    Remove(Key),
    Nothing,
}

/// Runs a validated transaction: every condition first, then every write. `put_rows` holds the
/// rows of the `Put` operations, built before the transaction (at the same positions).
fn transact_in(
    conn: &Connection,
    ops: &[TransactOp],
    mut put_rows: Vec<Option<Row>>,
) -> Result<()> {
    let mut current = Vec::with_capacity(ops.len());
    let mut failed = Vec::new();
    for (at, op) in ops.iter().enumerate() {
        let item = load(conn, &op.key()?)?;
        let condition = match op {
            TransactOp::Put { condition, .. }
            | TransactOp::Update { condition, .. }
            | TransactOp::Delete { condition, .. } => condition.as_ref(),
            TransactOp::Check { condition, .. } => Some(condition),
        };
        if condition.is_some_and(|c| !c.matches(item.as_ref())) {
            failed.push(at);
        }
        current.push(item);
    }
    if !failed.is_empty() {
        return Err(StoreError::TransactionCanceled { failed }.into());
    }
    let mut effects = Vec::with_capacity(ops.len());
    for ((op, item), put_row) in ops.iter().zip(current).zip(put_rows.iter_mut()) {
        effects.push(match op {
            TransactOp::Put { item, .. } => match put_row.take() {
                Some(row) => Effect::Store(row),
                None => Effect::Store(Row::of(item)?),
            },
            TransactOp::Update { key, update, .. } => {
                Effect::Store(Row::of(&update.apply(key, item)?)?)
            }
            TransactOp::Delete { key, .. } => Effect::Remove(key.clone()),
            TransactOp::Check { .. } => Effect::Nothing,
        });
    }
    for effect in &effects {
        match effect {
            Effect::Store(row) => store(conn, row)?,
            Effect::Remove(key) => remove(conn, key)?,
            Effect::Nothing => {}
        }
    }
    Ok(())
}

#[async_trait]
impl Table for SqliteTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        check_key(key)?;
        let (key, now) = (key.clone(), self.now());
        Ok(self
            .db
            .call(move |s| load_visible(s.conn(), &key, now))
            .await?)
    }

    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Item>, StoreError> {
        validate_batch_get(keys)?;
        for key in keys {
            check_key(key)?;
        }
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let (keys, now) = (keys.to_vec(), self.now());
        Ok(self
            .db
            .call(move |s| {
                s.read(|conn| {
                    let mut found = Vec::with_capacity(keys.len());
                    for key in &keys {
                        found.extend(load_visible(conn, key, now)?);
                    }
                    Ok(found)
                })
            })
            .await?)
    }

    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), StoreError> {
        let row = Row::of(&item)?;
        Ok(self
            .db
            .call(move |s| {
                s.write(|tx| {
                    if condition.is_some() {
                        check(condition.as_ref(), load(tx, &row.key)?.as_ref())?;
                    }
                    store(tx, &row)
                })
            })
            .await?)
    }

    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Option<Condition>,
    ) -> Result<Item, StoreError> {
        check_key(key)?;
        update.validate()?;
        let key = key.clone();
        Ok(self
            .db
            .call(move |s| {
                s.write(|tx| {
                    let current = load(tx, &key)?;
                    check(condition.as_ref(), current.as_ref())?;
                    let next = update.apply(&key, current)?;
                    store(tx, &Row::of(&next)?)?;
                    Ok(next)
                })
            })
            .await?)
    }

    async fn delete(
        &self,
        key: &Key,
        condition: Option<Condition>,
    ) -> Result<Option<Item>, StoreError> {
        check_key(key)?;
        let key = key.clone();
        Ok(self
            .db
            .call(move |s| {
                s.write(|tx| {
                    let current = load(tx, &key)?;
                    check(condition.as_ref(), current.as_ref())?;
                    if current.is_some() {
                        remove(tx, &key)?;
                    }
                    Ok(current)
                })
            })
            .await?)
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        query.validate()?;
        let plan = Plan::new(query)?;
        let now = self.now();
        Ok(self.db.call(move |s| plan.run(s.conn(), now)).await?)
    }

    async fn batch_put(&self, items: Vec<Item>) -> Result<(), StoreError> {
        for chunk in sorted_rows(items)? {
            self.db
                .call(move |s| {
                    s.write(|tx| {
                        for row in &chunk {
                            store(tx, row)?;
                        }
                        Ok(())
                    })
                })
                .await?;
        }
        Ok(())
    }

    async fn batch_put_if_absent(&self, items: Vec<Item>) -> Result<Vec<Key>, StoreError> {
        let mut taken = Vec::new();
        for chunk in sorted_rows(items)? {
            let found = self
                .db
                .call(move |s| {
                    s.write(|tx| {
                        let mut taken = Vec::new();
                        for row in chunk {
                            if !store_if_absent(tx, &row)? {
                                taken.push(row.key);
                            }
                        }
                        Ok(taken)
                    })
                })
                .await?;
            taken.extend(found);
        }
        Ok(taken)
    }

    fn sorted_bulk_writes_pay(&self) -> bool {
        true
    }

    async fn transact(&self, ops: Vec<TransactOp>) -> Result<(), StoreError> {
        validate_transaction(&ops)?;
        // Invalid requests fail as a whole before any condition is looked at, as in DynamoDB.
        let mut put_rows = Vec::with_capacity(ops.len());
        for op in &ops {
            check_key(&op.key()?)?;
            put_rows.push(match op {
                TransactOp::Put { item, .. } => Some(Row::of(item)?),
                _ => None,
            });
        }
        Ok(self
            .db
            .call(move |s| s.write(|tx| transact_in(tx, &ops, put_rows)))
            .await?)
    }
}

#[cfg(test)]
mod tests;
