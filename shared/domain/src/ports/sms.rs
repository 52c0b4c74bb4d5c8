//! The SMS provider port: Twilio's Messages API, as the sender needs it. The adapter is the
//! Twilio REST client (`smscrm-twilio`); tests and local mode point it at the Twilio simulator.
//!
//! Twilio has no idempotency key for creating a message, so errors say what is known about the
//! request's fate: never processed (safe to send again), perhaps processed (look it up first),
//! or refused for good (for this message, or for the whole account).

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// How a tenant authenticates at Twilio: its Account SID, and either the account's auth token
/// (`username` = the Account SID) or an API key (`username` = the key's SID, `SK...`).
#[derive(Debug, Clone, Deserialize)]
pub struct ProviderCredentials {
    pub account_sid: String,
    pub username: String,
    pub password: SecretString,
}

/// Who a message is from: a number (`From`) or a Messaging Service that picks one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum MessageFrom {
    Number(String),
    MessagingService(String),
}

/// One message to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    pub to: String,
    pub from: MessageFrom,
    pub body: String,
    /// Where Twilio posts this message's status changes.
    pub status_callback: Option<String>,
    /// Seconds Twilio may keep the message queued before failing it with 30036 (1..=36000).
    pub validity_period: Option<u32>,
}

/// A message as Twilio reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderMessage {
    /// `SM...`.
    pub sid: String,
    pub to: String,
    /// The number it went from (chosen by the Messaging Service when there is one).
    pub from: Option<String>,
    pub body: String,
    /// Twilio's status: `accepted`, `queued`, `sending`, `sent`, `delivered`, `failed`, ...
    pub status: String,
    pub num_segments: u32,
    pub error_code: Option<u32>,
    pub date_created: Option<DateTime<Utc>>,
}

/// Which messages to list: to and (when known) from a number, created on or after a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageFilter {
    pub to: String,
    pub from: Option<String>,
    pub created_after: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SmsError {
    /// Not processed: a 429 (error 20429), or no connection made. Safe to send again, after
    /// `retry_after` when Twilio said.
    #[error("not processed, try again later: {reason}")]
    Retryable {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// A server error: most likely not processed, but look the message up before sending it
    /// again.
    #[error("provider error {status}: {reason}")]
    ServerError { status: u16, reason: String },
    /// The request left and no answer came back (timeout, connection lost): the message may
    /// have been accepted.
    #[error("outcome unknown: {reason}")]
    UnknownOutcome { reason: String },
    /// This message can never go (21211 invalid `To`, 21614 not a mobile, 21610 the recipient
    /// replied STOP, 30xxx, ...).
    #[error("refused ({code}): {message}")]
    Permanent { code: u32, message: String },
    /// Nothing for this account can go until a person fixes it (20003: authentication failed,
    /// or no credentials at all).
    #[error("the account cannot send ({code}): {message}")]
    Account { code: u32, message: String },
}

/// Twilio error 21610: the recipient replied STOP to this sender.
pub const UNSUBSCRIBED_RECIPIENT: u32 = 21610;
/// Twilio error 20003: authentication failed.
pub const AUTHENTICATION_FAILED: u32 = 20003;

#[async_trait]
pub trait SmsProvider: Send + Sync {
    async fn send(
        &self,
        credentials: &ProviderCredentials,
        message: &NewMessage,
    ) -> Result<ProviderMessage, SmsError>;

    /// The message with this SID, `None` when Twilio does not know it.
    async fn fetch(
        &self,
        credentials: &ProviderCredentials,
        sid: &str,
    ) -> Result<Option<ProviderMessage>, SmsError>;

    /// Messages matching the filter (every page), newest first.
    async fn list(
        &self,
        credentials: &ProviderCredentials,
        filter: &MessageFilter,
    ) -> Result<Vec<ProviderMessage>, SmsError>;
}
