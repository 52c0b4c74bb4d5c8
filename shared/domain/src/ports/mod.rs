//! Ports: the small traits the domain talks to the world through. Each has an AWS adapter
//! (`smscrm-aws`) and an embedded one (`smscrm-local`); `tests/` runs one conformance suite
//! against both.

pub mod blobs;
pub mod clock;
pub mod mailer;
pub mod queue;
pub mod secrets;
pub mod sms;
pub mod table;

pub use blobs::{BlobError, BlobStat, Blobs};
pub use clock::{Clock, ManualClock, SystemClock};
pub use mailer::{MailError, Mailer, OutgoingEmail};
pub use queue::{Delivery, OutgoingMessage, Queue, QueueError};
pub use secrets::{Secrets, SecretsError};
pub use sms::{
    MessageFilter, NewMessage, ProviderCredentials, ProviderMessage, SmsError, SmsProvider,
};
pub use table::{
    CmpOp, Condition, Cursor, Direction, Index, Item, Key, Page, Query, SortKeyCondition,
    StoreError, Table, TransactOp, Update,
};
