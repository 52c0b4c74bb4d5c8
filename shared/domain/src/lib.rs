//! Pure domain types and rules of smscrm. No AWS, HTTP or runtime types live here: the rest of
//! the world is reached through the traits in [`ports`].

pub mod apikey;
pub mod campaign;
pub mod contact;
pub mod delivery;
pub mod error;
pub mod gates;
pub mod ids;
pub mod import_report;
pub mod keywords;
pub mod merge;
pub mod phone;
pub mod ports;
pub mod quiet_hours;
pub mod segments;
pub mod template;
pub mod tenant;
pub mod tenant_patch;
pub mod user;

pub use contact::{Consent, ConsentStatus, Contact, ContactDraft, ContactPatch};
pub use error::ValidationError;
pub use ids::{ApiKeyId, CampaignId, ContactId, ImportId, TemplateId, TenantId, UserId};
pub use merge::ContactMerge;
pub use phone::{PhoneE164, Region};
pub use tenant::Tenant;
