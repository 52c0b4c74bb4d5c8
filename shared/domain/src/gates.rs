//! The checks every recipient passes before a message is made for them, and the message
//! itself. The estimate, the dispatcher and (again, right before sending) the sender use this
//! one function, so they can never disagree about who is skipped and why.
//!
//! Skips are final for this campaign (no consent, on the do-not-contact list, a template
//! variable without a value). Holds (quiet hours, budget, a paused tenant or campaign) only
//! delay a message; they live where the time and the money are known.

use serde::Serialize;

use crate::segments::{self, SegmentCount};
use crate::template::{Body, ContactValues, OptOutFooter};
use crate::{Contact, PhoneE164};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Skip {
    /// Consent is unknown or revoked: campaigns message only explicit or implied consent.
    NoConsent,
    DoNotContact,
    MissingVariable {
        variable: String,
    },
}

impl Skip {
    pub fn reason(&self) -> &'static str {
        match self {
            Self::NoConsent => "no_consent",
            Self::DoNotContact => "do_not_contact",
            Self::MissingVariable { .. } => "missing_variable",
        }
    }
}

/// The text a recipient gets and what it costs in segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub text: String,
    pub count: SegmentCount,
}

/// What one recipient is sent, or why they are skipped.
pub struct Screen<'a> {
    pub body: &'a Body,
    pub link: Option<&'a str>,
    pub footer: &'a OptOutFooter,
}

impl Screen<'_> {
    /// `suppressed`: the number is on the tenant's do-not-contact list. `first_message`: the
    /// contact has not been messaged by the tenant before (the footer policy may need it).
    pub fn check(
        &self,
        contact: &Contact,
        suppressed: bool,
        first_message: bool,
    ) -> Result<Message, Skip> {
        if !contact.consent.status.allows_marketing() {
            return Err(Skip::NoConsent);
        }
        if suppressed {
            return Err(Skip::DoNotContact);
        }
        let rendered = self
            .body
            .render(&ContactValues {
                contact,
                link: self.link,
            })
            .map_err(|missing| Skip::MissingVariable {
                variable: missing.variable,
            })?;
        let (text, _) = self.footer.apply(&rendered, first_message);
        let count = segments::count(&text);
        Ok(Message { text, count })
    }
}

/// The country a number belongs to (ISO 3166 code), for prices; `None` for numbers the
/// numbering plan does not place (non-geographic services).
pub fn country_of(phone: &PhoneE164) -> Option<String> {
    phonenumber::parse(None, phone.as_str())
        .ok()
        .and_then(|n| n.country().id())
        .map(|id| id.as_ref().to_owned())
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::{Consent, ConsentStatus, ContactId};

    fn contact(consent: ConsentStatus, first_name: Option<&str>) -> Contact {
        let now = Utc::now();
        Contact {
            id: ContactId::generate(),
            phone: PhoneE164::from_e164_unchecked("+442079460000".into()),
            first_name: first_name.map(str::to_owned),
            last_name: None,
            email: None,
            tags: vec![],
            attributes: Default::default(),
            consent: Consent {
                status: consent,
                source: None,
                at: None,
            },
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn consent_then_do_not_contact_then_variables() {
        let body = Body::parse("Hi {{first_name}}").expect("parses");
        let footer = OptOutFooter::default();
        let screen = Screen {
            body: &body,
            link: None,
            footer: &footer,
        };
        for status in [ConsentStatus::Unknown, ConsentStatus::Revoked] {
            assert_eq!(
                screen.check(&contact(status, Some("Ada")), false, true),
                Err(Skip::NoConsent)
            );
        }
        let ok = contact(ConsentStatus::Implied, Some("Ada"));
        assert_eq!(screen.check(&ok, true, true), Err(Skip::DoNotContact));
        let nameless = contact(ConsentStatus::Explicit, None);
        assert_eq!(
            screen.check(&nameless, false, true),
            Err(Skip::MissingVariable {
                variable: "first_name".into()
            })
        );
        let message = screen.check(&ok, false, true).expect("sent");
        assert_eq!(message.text, "Hi Ada\nReply STOP to opt out");
        assert_eq!(message.count.segments, 1);
        let later = screen.check(&ok, false, false).expect("sent");
        assert_eq!(later.text, "Hi Ada");
    }

    #[test]
    fn countries_of_numbers() {
        let country = |e164: &str| country_of(&PhoneE164::from_e164_unchecked(e164.into()));
        assert_eq!(country("+14155552671").as_deref(), Some("US"));
        assert_eq!(country("+14165550123").as_deref(), Some("CA"));
        assert_eq!(country("+442079460000").as_deref(), Some("GB"));
        assert_eq!(country("+4915123456789").as_deref(), Some("DE"));
    }
}
