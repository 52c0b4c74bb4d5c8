//! The [`Mailer`] port on Amazon SES (v2 API): plain-text emails from one verified sender.

use async_trait::async_trait;
use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use smscrm_domain::ports::mailer::{MailError, Mailer, OutgoingEmail};

use crate::error::{chain, transient};

#[derive(Debug, Clone)]
pub struct SesMailer {
    client: Client,
    /// The verified address every email goes from, e.g. `smscrm <login@sms.example.com>`.
    from: String,
}

impl SesMailer {
    pub fn new(client: Client, from: impl Into<String>) -> Self {
        Self {
            client,
            from: from.into(),
        }
    }

    pub fn from_config(config: &aws_config::SdkConfig, from: impl Into<String>) -> Self {
        Self::new(Client::new(config), from)
    }
}

fn content(text: &str) -> Result<Content, MailError> {
    Content::builder()
        .data(text)
        .charset("UTF-8")
        .build()
        .map_err(|e| MailError::Rejected(e.to_string()))
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, email: &OutgoingEmail) -> Result<(), MailError> {
        if email.subject.trim().is_empty() || email.subject.contains(['\r', '\n']) {
            return Err(MailError::Rejected(
                "a subject is one non-empty line".into(),
            ));
        }
        let message = Message::builder()
            .subject(content(&email.subject)?)
            .body(Body::builder().text(content(&email.text)?).build())
            .build();
        let sent = self
            .client
            .send_email()
            .from_email_address(&self.from)
            .destination(
                Destination::builder()
                    .to_addresses(email.to.as_str())
                    .build(),
            )
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await;
        match sent {
            Ok(_) => Ok(()),
            Err(err) => Err(match transient(&err) {
                Some(reason) => MailError::Unavailable(reason),
                None => MailError::Rejected(chain(&err)),
            }),
        }
    }
}

/// Verifies `address` as a sender (what an operator does once per environment; moto needs it
/// before it accepts a send).
pub async fn verify_sender(client: &Client, address: &str) -> Result<(), crate::SetupError> {
    client
        .create_email_identity()
        .email_identity(address)
        .send()
        .await
        .map_err(|e| crate::SetupError::new("verify the email sender", e))?;
    Ok(())
}
