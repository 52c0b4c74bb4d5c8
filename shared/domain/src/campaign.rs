//! Campaigns: a template sent to an audience from a sender, and the lifecycle that governs it.
//!
//! `draft -> scheduled -> sending -> completed`, with `paused` and `cancelled`. Every change of
//! status goes through [`CampaignStatus::after`], so an illegal one is refused in one place
//! (the API answers 409 with the current status) and the store writes each change only over the
//! status it was decided from.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::contact::{clean_tags, same_tag, validate_attribute_name};
use crate::{CampaignId, Contact, PhoneE164, Region, TemplateId, ValidationError};

pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_LINK_CHARS: usize = 2000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignStatus {
    Draft,
    Scheduled,
    Sending,
    Paused,
    Completed,
    Cancelled,
}

impl fmt::Display for CampaignStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        f.write_str(&name)
    }
}

/// What a caller (or the scheduler, or the dispatcher) asks of a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Start now, or at `send_at` when it is in the future.
    Launch {
        later: bool,
    },
    /// The scheduler's: a scheduled campaign's time has come.
    Start,
    Pause,
    /// Back to sending, or to scheduled when its time is still to come.
    Resume {
        later: bool,
    },
    Cancel,
    /// The dispatcher's: every recipient has been handled.
    Complete,
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Self::Launch { .. } => "launch",
            Self::Start => "start",
            Self::Pause => "pause",
            Self::Resume { .. } => "resume",
            Self::Cancel => "cancel",
            Self::Complete => "complete",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a {from} campaign cannot {action}")]
pub struct IllegalTransition {
    pub from: CampaignStatus,
    pub action: &'static str,
}

impl CampaignStatus {
    /// The status `action` leads to from this one.
    pub fn after(self, action: Action) -> Result<Self, IllegalTransition> {
        use CampaignStatus::*;
        let next = match (self, action) {
            (Draft, Action::Launch { later: true }) => Scheduled,
            (Draft, Action::Launch { later: false }) | (Scheduled, Action::Start) => Sending,
            (Scheduled | Sending, Action::Pause) => Paused,
            (Paused, Action::Resume { later: true }) => Scheduled,
            (Paused, Action::Resume { later: false }) => Sending,
            (Draft | Scheduled | Sending | Paused, Action::Cancel) => Cancelled,
            (Sending, Action::Complete) => Completed,
            (from, action) => {
                return Err(IllegalTransition {
                    from,
                    action: action.name(),
                });
            }
        };
        Ok(next)
    }

    /// Whether messages of the campaign may go out (a gate the sender checks again).
    pub fn is_sending(self) -> bool {
        self == Self::Sending
    }
}

/// Who a campaign goes to, among the tenant's contacts. Every condition must hold; tags match
/// without regard to case. Consent and the do-not-contact list are gates applied on top.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Audience {
    /// The contact has every one of these tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The contact has at least one of these tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub any_tags: Vec<String>,
    /// The contact has none of these tags.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_tags: Vec<String>,
    /// The contact's attribute equals the value, for each one.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

impl Audience {
    pub fn validate(self) -> Result<Self, ValidationError> {
        fn field(name: &'static str) -> impl Fn(ValidationError) -> ValidationError {
            move |e| ValidationError::new(name, e.reason)
        }
        for name in self.attributes.keys() {
            validate_attribute_name(name).map_err(field("audience.attributes"))?;
        }
        Ok(Self {
            tags: clean_tags(self.tags).map_err(field("audience.tags"))?,
            any_tags: clean_tags(self.any_tags).map_err(field("audience.any_tags"))?,
            exclude_tags: clean_tags(self.exclude_tags).map_err(field("audience.exclude_tags"))?,
            attributes: self.attributes,
        })
    }

    pub fn includes(&self, contact: &Contact) -> bool {
        let has = |tag: &String| contact.tags.iter().any(|t| same_tag(t, tag));
        self.tags.iter().all(has)
            && (self.any_tags.is_empty() || self.any_tags.iter().any(has))
            && !self.exclude_tags.iter().any(has)
            && self
                .attributes
                .iter()
                .all(|(name, value)| contact.attributes.get(name) == Some(value))
    }
}

/// Where messages come from: a phone number of the tenant's Twilio account, or a Messaging
/// Service (which picks the number).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Sender {
    From(PhoneE164),
    MessagingServiceSid(String),
}

/// A sender as a client writes it: `{"from": "+1..."}` or `{"messaging_service_sid": "MG..."}`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SenderInput {
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default)]
    pub messaging_service_sid: Option<String>,
}

impl SenderInput {
    pub fn validate(self, region: Region) -> Result<Sender, ValidationError> {
        match (self.from, self.messaging_service_sid) {
            (Some(from), None) => PhoneE164::parse(&from, region)
                .map(Sender::From)
                .map_err(|e| ValidationError::new("sender.from", e.reason)),
            (None, Some(sid)) => {
                let sid = sid.trim();
                let valid = sid.len() == 34
                    && sid.starts_with("MG")
                    && sid[2..].bytes().all(|b| b.is_ascii_hexdigit());
                if valid {
                    Ok(Sender::MessagingServiceSid(sid.to_owned()))
                } else {
                    Err(ValidationError::new(
                        "sender.messaging_service_sid",
                        "is `MG` followed by 32 hexadecimal characters",
                    ))
                }
            }
            _ => Err(ValidationError::new(
                "sender",
                "give either `from` (a phone number) or `messaging_service_sid`",
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Campaign {
    pub id: CampaignId,
    pub name: String,
    pub template_id: TemplateId,
    pub audience: Audience,
    pub sender: Sender,
    /// The target URL `{{link}}` renders to.
    pub link: Option<String>,
    pub status: CampaignStatus,
    /// When a scheduled campaign starts.
    pub send_at: Option<DateTime<Utc>>,
    /// The template's body as it was at launch: what every recipient gets, whatever happens
    /// to the template afterwards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub launched_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// A campaign as submitted for creation. Unknown fields are rejected.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignDraft {
    pub name: String,
    pub template_id: String,
    #[serde(default)]
    pub audience: Audience,
    pub sender: SenderInput,
    #[serde(default)]
    pub link: Option<String>,
}

/// A change to a draft: absent fields stay as they are; `link: null` clears the link.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub template_id: Option<String>,
    #[serde(default)]
    pub audience: Option<Audience>,
    #[serde(default)]
    pub sender: Option<SenderInput>,
    #[serde(default, deserialize_with = "present")]
    pub link: Option<Option<String>>,
}

fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

pub fn validate_name(name: &str) -> Result<String, ValidationError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(ValidationError::new(
            "name",
            format!("must be 1-{MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(name.to_owned())
}

/// An absolute `http(s)` URL, as a link in a text message must be to be tappable.
pub fn validate_link(link: &str) -> Result<String, ValidationError> {
    let link = link.trim();
    let scheme_ok = link.starts_with("https://") || link.starts_with("http://");
    let host_ok = link
        .split_once("://")
        .is_some_and(|(_, rest)| !rest.is_empty() && !rest.starts_with('/'));
    if !scheme_ok || !host_ok || link.len() > MAX_LINK_CHARS || link.contains(char::is_whitespace) {
        return Err(ValidationError::new(
            "link",
            "must be an absolute http(s) URL without spaces",
        ));
    }
    Ok(link.to_owned())
}

pub fn parse_template_id(raw: &str) -> Result<TemplateId, ValidationError> {
    raw.parse()
        .map_err(|_| ValidationError::new("template_id", format!("`{raw}` is not a template id")))
}

impl Campaign {
    pub fn new(
        draft: CampaignDraft,
        region: Region,
        now: DateTime<Utc>,
    ) -> Result<Self, ValidationError> {
        Ok(Self {
            id: CampaignId::generate(),
            name: validate_name(&draft.name)?,
            template_id: parse_template_id(&draft.template_id)?,
            audience: draft.audience.validate()?,
            sender: draft.sender.validate(region)?,
            link: draft.link.as_deref().map(validate_link).transpose()?,
            status: CampaignStatus::Draft,
            send_at: None,
            body: None,
            created_at: now,
            updated_at: now,
            launched_at: None,
            finished_at: None,
        })
    }

    /// Applies a change; only drafts change (the caller refuses others with 409).
    pub fn apply(
        &mut self,
        patch: CampaignPatch,
        region: Region,
        now: DateTime<Utc>,
    ) -> Result<(), ValidationError> {
        if let Some(name) = patch.name {
            self.name = validate_name(&name)?;
        }
        if let Some(id) = patch.template_id {
            self.template_id = parse_template_id(&id)?;
        }
        if let Some(audience) = patch.audience {
            self.audience = audience.validate()?;
        }
        if let Some(sender) = patch.sender {
            self.sender = sender.validate(region)?;
        }
        if let Some(link) = patch.link {
            self.link = link.as_deref().map(validate_link).transpose()?;
        }
        self.updated_at = now;
        Ok(())
    }

    /// Moves to the status `action` leads to, stamping when it launched or finished.
    pub fn act(
        &mut self,
        action: Action,
        send_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<(), IllegalTransition> {
        self.status = self.status.after(action)?;
        match action {
            Action::Launch { .. } => {
                self.send_at = send_at;
                self.launched_at = Some(now);
            }
            Action::Cancel | Action::Complete => self.finished_at = Some(now),
            _ => {}
        }
        self.updated_at = now;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::CampaignStatus::*;
    use super::*;

    #[test]
    fn the_lifecycle_allows_only_its_transitions() {
        let now = Action::Launch { later: false };
        let later = Action::Launch { later: true };
        assert_eq!(Draft.after(now), Ok(Sending));
        assert_eq!(Draft.after(later), Ok(Scheduled));
        assert_eq!(Scheduled.after(Action::Start), Ok(Sending));
        assert_eq!(Sending.after(Action::Pause), Ok(Paused));
        assert_eq!(Scheduled.after(Action::Pause), Ok(Paused));
        assert_eq!(Paused.after(Action::Resume { later: false }), Ok(Sending));
        assert_eq!(Paused.after(Action::Resume { later: true }), Ok(Scheduled));
        assert_eq!(Sending.after(Action::Complete), Ok(Completed));
        for from in [Draft, Scheduled, Sending, Paused] {
            assert_eq!(from.after(Action::Cancel), Ok(Cancelled));
        }
        let refused = [
            (Sending, now),
            (Completed, Action::Cancel),
            (Cancelled, Action::Resume { later: false }),
            (Draft, Action::Pause),
            (Sending, Action::Resume { later: false }),
            (Paused, Action::Complete),
            (Draft, Action::Start),
            (Completed, Action::Pause),
        ];
        for (from, action) in refused {
            let err = from.after(action).unwrap_err();
            assert_eq!(err.from, from);
        }
        assert_eq!(
            Completed.after(Action::Cancel).unwrap_err().to_string(),
            "a completed campaign cannot cancel"
        );
    }

    fn contact(tags: &[&str], attributes: &[(&str, &str)]) -> Contact {
        let now = Utc::now();
        Contact {
            id: crate::ContactId::generate(),
            phone: PhoneE164::from_e164_unchecked("+14155552671".into()),
            first_name: None,
            last_name: None,
            email: None,
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            attributes: attributes
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            consent: Default::default(),
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn the_audience_needs_every_condition() {
        let audience = Audience {
            tags: vec!["VIP".into()],
            any_tags: vec!["nyc".into(), "sf".into()],
            exclude_tags: vec!["churned".into()],
            attributes: [("tier".to_owned(), "gold".to_owned())].into(),
        };
        assert!(audience.includes(&contact(&["vip", "sf"], &[("tier", "gold")])));
        assert!(!audience.includes(&contact(&["sf"], &[("tier", "gold")])));
        assert!(!audience.includes(&contact(&["vip"], &[("tier", "gold")])));
        assert!(!audience.includes(&contact(&["vip", "sf", "churned"], &[("tier", "gold")])));
        assert!(!audience.includes(&contact(&["vip", "sf"], &[("tier", "silver")])));
        assert!(Audience::default().includes(&contact(&[], &[])));
    }

    #[test]
    fn tags_match_whatever_their_case_in_any_script() {
        let audience = Audience {
            tags: vec!["école".into()],
            exclude_tags: vec!["ΑΠΕΝΕΡΓΟΣ".into()],
            ..Audience::default()
        };
        assert!(audience.includes(&contact(&["École"], &[])));
        assert!(!audience.includes(&contact(&["ÉCOLE", "απενεργος"], &[])));
        assert!(
            !audience.includes(&contact(&["ecole"], &[])),
            "accents count"
        );
    }

    #[test]
    fn senders_are_a_number_or_a_messaging_service() {
        let us: Region = "US".parse().unwrap();
        let input = |from: Option<&str>, sid: Option<&str>| SenderInput {
            from: from.map(str::to_owned),
            messaging_service_sid: sid.map(str::to_owned),
        };
        assert_eq!(
            input(Some("(415) 555-2671"), None).validate(us),
            Ok(Sender::From(PhoneE164::from_e164_unchecked(
                "+14155552671".into()
            )))
        );
        let sid = format!("MG{}", "a1".repeat(16));
        assert_eq!(
            input(None, Some(&sid)).validate(us),
            Ok(Sender::MessagingServiceSid(sid.clone()))
        );
        assert_eq!(
            input(None, Some("MG123")).validate(us).unwrap_err().field,
            "sender.messaging_service_sid"
        );
        assert_eq!(
            input(Some("+14155552671"), Some(&sid))
                .validate(us)
                .unwrap_err()
                .field,
            "sender"
        );
    }

    #[test]
    fn links_must_be_absolute_http_urls() {
        assert!(validate_link("https://acme.example/sale?x=1").is_ok());
        for bad in [
            "acme.example",
            "ftp://x",
            "https://",
            "https:///x",
            "https://a b",
        ] {
            assert!(validate_link(bad).is_err(), "{bad}");
        }
    }
}
