//! SQLite plumbing shared by the table and the queue: connection set-up, a small connection
//! pool, one [`Db`] per file per process, and the in-process write gate.
//!
//! Concurrency model. Several processes (`smscrm serve` and CLI commands) open the same file.
//! WAL mode lets readers run beside the one writer; every read-modify-write runs in
//! `BEGIN IMMEDIATE`, which takes the file's write lock before the first read, so a condition
//! checked inside the transaction still holds when the write lands, whichever process races.
//! A writer that cannot get the lock within [`BUSY_TIMEOUT`] fails with `SQLITE_BUSY`, which the
//! adapters report as retryable (`Unavailable`).
//!
//! Inside one process, writers also queue on a mutex (the write gate) before `BEGIN IMMEDIATE`:
//! SQLite's busy handler waits by sleeping with back-off (1, 2, 5, 10 ... ms), so letting threads
//! of the same process fight for the file lock costs milliseconds per conflict, while a mutex
//! hands over in microseconds. Only other processes ever meet the busy handler.
//!
//! Durability: WAL with `synchronous=NORMAL`. A commit is in the WAL file when COMMIT returns, so
//! it survives the process crashing or being killed; an OS crash or power loss may lose the last
//! few commits but never corrupts the file. The local host accepts that for commits that do not
//! wait for an fsync each. Checkpoints run on a thread of their own, every 64 MiB of WAL rather
//! than SQLite's 4 MiB ([`crate::checkpoint`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, Transaction, TransactionBehavior};

use crate::checkpoint::Checkpoints;

/// How long a writer waits for another process's write transaction before giving up.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Connections kept open between calls; more may exist while calls run in parallel.
const MAX_IDLE: usize = 8;
/// Query shapes vary with index, bounds, direction and cursor: room for all of them.
const STATEMENT_CACHE: usize = 128;

/// An error inside a blocking SQLite call: SQLite's, the port's own, or anything else (the
/// blocking task dying, a file that cannot be used). Each adapter turns it into its port's error.
#[derive(Debug)]
pub(crate) enum Fail<E> {
    Sql(rusqlite::Error),
    Port(E),
    Other(String),
}

impl<E> From<rusqlite::Error> for Fail<E> {
    fn from(err: rusqlite::Error) -> Self {
        Self::Sql(err)
    }
}

/// True when SQLite gave up waiting for another connection's lock: worth retrying.
pub(crate) fn is_busy(err: &rusqlite::Error) -> bool {
    matches!(
        err.sqlite_error_code(),
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
    )
}

/// One SQLite file as this process sees it. Shared by every adapter handle opened on the same
/// file, so they share the pool and, above all, the write gate.
pub(crate) struct Db {
    path: PathBuf,
    busy_timeout: Duration,
    idle: Mutex<Vec<Connection>>,
    write_gate: Mutex<()>,
    checkpoints: Checkpoints,
    /// Woken after writes that may make queue messages visible (same-process long polls).
    pub(crate) changed: tokio::sync::Notify,
}

/// The files this process has open, so a second `open` of the same file shares the first `Db`.
static OPEN: LazyLock<Mutex<HashMap<PathBuf, Weak<Db>>>> = LazyLock::new(Default::default);

/// Locks a mutex, ignoring poisoning: the data under our mutexes (idle connections, `()`) cannot
/// be left half-changed by a panic.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Db {
    /// Opens (creating if needed) the file and applies `schema`, an idempotent batch of
    /// `CREATE ... IF NOT EXISTS` statements.
    pub(crate) fn open<E>(path: &Path, schema: &str) -> Result<Arc<Self>, Fail<E>> {
        let mut open = lock(&OPEN);
        open.retain(|_, db| db.strong_count() > 0);
        // Made before its `Db` exists, so it gets the `Db`'s checkpoints below.
        let mut conn = connect(path, BUSY_TIMEOUT, None)?;
        // The file exists now. Should canonicalizing fail anyway, the file just gets a second
        // `Db`, which is still correct (SQLite's own locking), only slower under contention.
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        let db = match open.get(&canonical).and_then(Weak::upgrade) {
            Some(db) => db,
            None => {
                let db = Arc::new(Self::new(canonical.clone(), BUSY_TIMEOUT));
                open.insert(canonical, Arc::downgrade(&db));
                db
            }
        };
        drop(open);
        db.checkpoints.install(&mut conn)?;
        db.release(conn);
        db.init(schema)?;
        Ok(db)
    }

    /// A `Db` of its own, as another process would have: tests use it to exercise SQLite's
    /// cross-connection locking rather than the write gate.
    #[cfg(test)]
    pub(crate) fn open_private<E>(
        path: &Path,
        schema: &str,
        busy_timeout: Duration,
    ) -> Result<Arc<Self>, Fail<E>> {
        let db = Arc::new(Self::new(path.to_path_buf(), busy_timeout));
        db.init(schema)?;
        Ok(db)
    }

    fn new(path: PathBuf, busy_timeout: Duration) -> Self {
        Self {
            checkpoints: Checkpoints::start(path.clone()),
            path,
            busy_timeout,
            idle: Mutex::new(Vec::new()),
            write_gate: Mutex::new(()),
            changed: tokio::sync::Notify::new(),
        }
    }

    fn init<E>(&self, schema: &str) -> Result<(), Fail<E>> {
        self.with_conn(|s| s.write(|tx| Ok(tx.execute_batch(schema)?)))
    }

    /// Runs `f` with a pooled connection on tokio's blocking pool. If the caller stops waiting,
    /// `f` still runs to the end, like a request already sent to a server.
    pub(crate) async fn call<T, E, F>(self: &Arc<Self>, f: F) -> Result<T, Fail<E>>
    where
        F: FnOnce(&mut Session<'_>) -> Result<T, Fail<E>> + Send + 'static,
        T: Send + 'static,
        E: Send + 'static,
    {
        let db = Arc::clone(self);
        tokio::task::spawn_blocking(move || db.with_conn(f))
            .await
            .unwrap_or_else(|err| Err(Fail::Other(format!("blocking task failed: {err}"))))
    }

    fn with_conn<T, E>(
        &self,
        f: impl FnOnce(&mut Session<'_>) -> Result<T, Fail<E>>,
    ) -> Result<T, Fail<E>> {
        let pooled = lock(&self.idle).pop();
        let mut conn = match pooled {
            Some(conn) => conn,
            None => connect(&self.path, self.busy_timeout, Some(&self.checkpoints))?,
        };
        let out = f(&mut Session {
            conn: &mut conn,
            gate: &self.write_gate,
        });
        self.release(conn);
        out
    }

    fn release(&self, conn: Connection) {
        // A connection still inside a transaction (its rollback failed) is not reused.
        if conn.is_autocommit() {
            let mut idle = lock(&self.idle);
            if idle.len() < MAX_IDLE {
                idle.push(conn);
            }
        }
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        lock(&self.idle).clear();
        self.checkpoints.stop();
    }
}

fn connect<E>(
    path: &Path,
    busy_timeout: Duration,
    checkpoints: Option<&Checkpoints>,
) -> Result<Connection, Fail<E>> {
    let mut conn = Connection::open(path)?;
    // Before anything that may need a lock, switching to WAL included.
    conn.busy_timeout(busy_timeout)?;
    // WAL is a property of the file; setting it again is a no-op that reports the mode.
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        // E.g. a file system without shared memory: cross-process safety would be lost.
        return Err(Fail::Other(format!(
            "{} cannot use WAL mode (got `{mode}`)",
            path.display()
        )));
    }
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    if let Some(checkpoints) = checkpoints {
        checkpoints.install(&mut conn)?;
    }
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

/// A connection lent to one blocking call.
pub(crate) struct Session<'a> {
    conn: &'a mut Connection,
    gate: &'a Mutex<()>,
}

impl Session<'_> {
    /// For reads: each statement sees the latest committed state.
    pub(crate) fn conn(&self) -> &Connection {
        self.conn
    }

    /// Runs `f`'s reads on one snapshot. Each statement outside a transaction takes and drops
    /// SQLite's shared WAL lock (`fcntl` system calls): most of a batch of point reads' time.
    pub(crate) fn read<T, E>(
        &mut self,
        f: impl FnOnce(&Connection) -> Result<T, Fail<E>>,
    ) -> Result<T, Fail<E>> {
        in_transaction(self.conn, TransactionBehavior::Deferred, |tx| f(tx))
    }

    /// Runs `f` in a `BEGIN IMMEDIATE` transaction, committed when `f` succeeds and rolled back
    /// when it fails.
    pub(crate) fn write<T, E>(
        &mut self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, Fail<E>>,
    ) -> Result<T, Fail<E>> {
        let _turn = lock(self.gate);
        in_transaction(self.conn, TransactionBehavior::Immediate, f)
    }
}

/// Commits when `f` succeeds; dropping the transaction rolls it back when it fails.
fn in_transaction<T, E>(
    conn: &mut Connection,
    behavior: TransactionBehavior,
    f: impl FnOnce(&Transaction<'_>) -> Result<T, Fail<E>>,
) -> Result<T, Fail<E>> {
    let tx = conn.transaction_with_behavior(behavior)?;
    let out = f(&tx)?;
    tx.commit()?;
    Ok(out)
}
