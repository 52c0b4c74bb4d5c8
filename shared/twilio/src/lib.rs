//! Twilio: the REST client the sender calls (the adapter of the SMS provider port), and the
//! `X-Twilio-Signature` scheme its webhooks are signed with.

pub mod client;
pub mod credentials;
pub mod errors;
pub mod signature;
pub mod webhooks;

pub use client::TwilioClient;
pub use credentials::{CredentialSource, WebhookKey};
