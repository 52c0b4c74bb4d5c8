//! The mailer port: Amazon SES on AWS, an outbox directory locally (read by `GET /dev/outbox`
//! and printed by `smscrm serve`).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::user::Email;

/// A plain-text email from the platform (its sender is the adapter's, not the caller's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutgoingEmail {
    pub to: Email,
    pub subject: String,
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The provider refused this message (an address it will not send to, a sender it has not
    /// verified); sending it again will not help.
    #[error("the email was refused: {0}")]
    Rejected(String),
    #[error("the mailer is unavailable: {0}")]
    Unavailable(String),
}

#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, email: &OutgoingEmail) -> Result<(), MailError>;
}
