//! The embedded adapters of the ports, for the local host (`smscrm serve`) and the CLI:
//! a SQLite table and queue that several processes can share, blobs in a directory, and
//! secrets in a private file.

mod checkpoint;
mod db;

pub mod blobs;
pub mod outbox;
pub mod queue;
pub mod secrets;
pub mod table;

pub use blobs::DirBlobs;
pub use outbox::Outbox;
pub use queue::{QueueConfig, SqliteQueue};
pub use secrets::FileSecrets;
pub use table::SqliteTable;
