//! WAL checkpoints on a thread of their own.
//!
//! A checkpoint copies the WAL back into the database file and fsyncs both. SQLite's automatic
//! checkpoint runs it inside the COMMIT that crossed the threshold, on the writer's thread: in a
//! bulk import that was a tenth of the single writer's time, while the other core had room.
//! Here a commit past [`CHECKPOINT_AT`] only wakes a per-file thread that runs a PASSIVE
//! checkpoint, which waits for no one and lets the writer go on appending. Should that thread
//! fall behind, a commit past [`INLINE_AT`] checkpoints in line, as SQLite would, so the WAL
//! stays bounded; it then copies only what the thread had not.

use std::ffi::c_int;
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use rusqlite::hooks::Wal;
use rusqlite::wal::CheckpointMode;
use rusqlite::{Connection, DEFAULT_NAME};

/// WAL pages (4 KiB each) after which a commit asks for a checkpoint: 64 MiB instead of SQLite's
/// 4 MiB. Each checkpoint ends in an fsync of both files, and a page written by several commits
/// between two checkpoints is copied back once; with the default, a bulk import (random pages
/// dirtied by every batch) checkpointed and fsynced after almost every batch.
const CHECKPOINT_AT: c_int = 16_384;
/// WAL pages after which the committing connection checkpoints itself. The WAL file grows to
/// about this size on disk (256 MiB) under a sustained bulk write.
const INLINE_AT: c_int = 4 * CHECKPOINT_AT;

/// The file's checkpoint thread: woken from every connection's WAL hook, stopped (and waited
/// for) when the `Db` closes.
pub(crate) struct Checkpoints {
    signal: SyncSender<Signal>,
    thread: Option<JoinHandle<()>>,
}

enum Signal {
    Checkpoint,
    Stop,
}

impl Checkpoints {
    pub(crate) fn start(path: PathBuf) -> Self {
        let (signal, signals) = sync_channel(1);
        let spawned = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || run(&path, &signals));
        let thread = match spawned {
            Ok(thread) => Some(thread),
            Err(err) => {
                // Commits past INLINE_AT still checkpoint themselves.
                tracing::warn!(error = %err, "no checkpoint thread: commits will checkpoint");
                None
            }
        };
        Self { signal, thread }
    }

    /// Replaces SQLite's automatic checkpoint on `conn`.
    pub(crate) fn install(&self, conn: &mut Connection) -> rusqlite::Result<()> {
        let signal = self.signal.clone();
        conn.wal_hook(Some(move |wal: &mut Wal, pages: c_int| {
            if pages >= INLINE_AT {
                // Busy when the thread is checkpointing right now: it is doing the work.
                let _ = wal.checkpoint();
            } else if pages >= CHECKPOINT_AT {
                // Full: a wake-up is pending already.
                let _ = signal.try_send(Signal::Checkpoint);
            }
            Ok(())
        }))
    }

    /// Ends the thread and waits for it. Called once the `Db`'s other connections are closed:
    /// the thread's connection is then the file's last in this process, and closing it
    /// checkpoints the WAL and syncs it, as closing the last connection did before.
    pub(crate) fn stop(&mut self) {
        if let Some(thread) = self.thread.take() {
            // The thread takes it after at most the checkpoint it is running.
            let _ = self.signal.send(Signal::Stop);
            let _ = thread.join();
        }
    }
}

fn run(path: &std::path::Path, signals: &Receiver<Signal>) {
    let mut conn: Option<Connection> = None;
    while let Ok(Signal::Checkpoint) = signals.recv() {
        let conn = match &conn {
            Some(conn) => conn,
            None => match open(path) {
                Ok(opened) => conn.insert(opened),
                Err(err) => {
                    tracing::warn!(error = %err, "checkpoint thread cannot open the database");
                    continue;
                }
            },
        };
        // PASSIVE never waits for readers or the writer; it copies what it can now.
        match conn.wal_checkpoint_v2(DEFAULT_NAME, CheckpointMode::PASSIVE) {
            Ok((frames, copied)) => tracing::debug!(frames, copied, "background checkpoint"),
            Err(err) => tracing::debug!(error = %err, "background checkpoint did not run"),
        }
    }
}

/// A connection for checkpoints. It must have read the file once: until then it does not know
/// the file is in WAL mode, and a checkpoint does nothing.
fn open(path: &std::path::Path) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    conn.query_row("PRAGMA journal_mode", [], |row| row.get::<_, String>(0))?;
    Ok(conn)
}
