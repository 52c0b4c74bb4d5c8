//! Conformance cases of the [`Mailer`] port: SES (moto, with the sender verified as an
//! operator does once) and the local outbox accept and refuse the same emails.

use std::sync::Arc;

use smscrm_domain::ports::mailer::{MailError, Mailer, OutgoingEmail};
use smscrm_domain::user::Email;

/// This module's source, for the check that every case is listed in the suite macro.
pub const SOURCE: &str = include_str!("mailer.rs");

fn email(subject: &str) -> OutgoingEmail {
    OutgoingEmail {
        to: Email::parse("ada@example.com").expect("address"),
        subject: subject.to_owned(),
        text: "Your sign-in link: https://sms.example.com/v1/auth/verify?token=abc\n\nIt works once, for 15 minutes.".into(),
    }
}

/// A plain-text email with a UTF-8 subject goes.
pub async fn a_plain_text_email_is_accepted(mailer: Arc<dyn Mailer>) {
    let sent = mailer.send(&email("Sign in to smscrm \u{2709}")).await;
    assert!(sent.is_ok(), "{sent:?}");
}

/// An empty subject, or one that would add headers, is refused before anything goes.
pub async fn a_subject_must_be_one_line(mailer: Arc<dyn Mailer>) {
    for subject in ["", "  ", "Sign in\r\nBcc: everyone@example.com"] {
        let refused = mailer.send(&email(subject)).await;
        assert!(
            matches!(refused, Err(MailError::Rejected(_))),
            "{subject:?}: {refused:?}"
        );
    }
}
