//! The single-table key design and the repositories, written once against the Table port so
//! they run unchanged on DynamoDB and on the embedded store.

pub mod apikeys;
pub mod audit;
pub mod budget;
pub mod campaigns;
pub mod codec;
mod conflicts;
pub mod contact_import;
pub mod contacts;
pub mod delivery;
pub mod dispatch;
pub mod error;
pub mod estimate;
pub mod import_ranges;
pub mod imports;
pub mod inbox;
pub mod keys;
pub mod login;
pub mod messages;
pub mod privacy;
pub mod sending;
pub mod suppression;
pub mod templates;
pub mod tenants;
pub mod users;
pub mod versioned;

pub use apikeys::ApiKeys;
pub use audit::{Actor, AuditEntry, AuditFilter, AuditLog};
pub use budget::{Budgets, OverBudget, Period, ReserveError};
pub use campaigns::{ActError, CampaignPage, Campaigns};
pub use contacts::{ContactPage, Contacts};
pub use delivery::{Applied, StatusEvent};
pub use dispatch::{DispatchState, Dispatches, LeaseError, Leased};
pub use error::RepoError;
pub use estimate::Estimate;
pub use import_ranges::{ImportRange, MAX_RANGES, PlannedRange, RangeBytes};
pub use imports::{
    Checkpoint, ImportRecord, ImportSettings, ImportSource, ImportStatus, Imports, Lease, Outcome,
    Part, PendingBatch, ReadSoFar, UNFINISHED,
};
pub use inbox::{InboundMessage, Inbox, LastOutbound, Listed, Thread};
pub use login::{LoginToken, Logins, Session};
pub use messages::{DispatchCounts, MessageRecord, MessageStatus, Messages};
pub use privacy::{ContactExport, Erasure, Privacy};
pub use sending::Refund;
pub use smscrm_domain::import_report::ImportCounts;
pub use suppression::{DoNotContact, Suppression};
pub use templates::{AttributeNames, TemplatePage, Templates};
pub use tenants::Tenants;
pub use users::{Membership, Users};
