//! Contacts: the people a tenant messages, and the consent that lets them be messaged.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use crate::{ContactId, PhoneE164, Region, ValidationError};

pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_EMAIL_CHARS: usize = 254;
pub const MAX_TAGS: usize = 50;
/// Shopify's limit: a tenant's tags come from there.
pub const MAX_TAG_CHARS: usize = 255;
/// A CRM's "all properties" export (HubSpot's has hundreds of columns) fits.
pub const MAX_ATTRIBUTES: usize = 250;
pub const MAX_ATTRIBUTE_NAME_CHARS: usize = 64;
/// Notes fields run long.
pub const MAX_ATTRIBUTE_VALUE_CHARS: usize = 4000;
/// All of a contact's attributes, names and values in UTF-8: keeps a contact far below
/// DynamoDB's 400 KB item limit whatever its attributes.
pub const MAX_ATTRIBUTES_BYTES: usize = 128 * 1024;
pub const MAX_SOURCE_CHARS: usize = 200;

/// Names a custom attribute may not take: they are the contact's own fields in templates.
const RESERVED_ATTRIBUTES: [&str; 8] = [
    "id",
    "phone",
    "first_name",
    "last_name",
    "email",
    "tags",
    "consent",
    "link",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsentStatus {
    /// Nothing known: campaigns do not message these contacts.
    #[default]
    Unknown,
    Explicit,
    Implied,
    Revoked,
}

impl ConsentStatus {
    pub fn allows_marketing(self) -> bool {
        matches!(self, Self::Explicit | Self::Implied)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Consent {
    pub status: ConsentStatus,
    pub source: Option<String>,
    pub at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub id: ContactId,
    pub phone: PhoneE164,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub tags: Vec<String>,
    pub attributes: BTreeMap<String, String>,
    pub consent: Consent,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Consent as a client states it; the time is the server's.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsentInput {
    pub status: ConsentStatus,
    #[serde(default)]
    pub source: Option<String>,
}

/// A contact as submitted for creation (or update by phone). Unknown fields are rejected.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactDraft {
    pub phone: String,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub attributes: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub consent: Option<ConsentInput>,
}

/// A partial change: an absent field stays as it is, `null` clears it.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactPatch {
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub first_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub last_name: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    pub email: Option<Option<String>>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub attributes: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub consent: Option<ConsentInput>,
}

/// Tells a field set to `null` (Some(None)) from one left out (None).
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// The validated fields of a draft or patch, ready to apply to a contact.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContactChanges {
    pub phone: Option<PhoneE164>,
    pub first_name: Option<Option<String>>,
    pub last_name: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
    pub attributes: Option<BTreeMap<String, String>>,
    pub consent: Option<ConsentInput>,
}

impl ContactDraft {
    /// Validates every field, reporting the first problem by field name.
    pub fn validate(self, region: Region) -> Result<ContactChanges, ValidationError> {
        ContactPatch {
            phone: Some(self.phone),
            first_name: self.first_name.map(Some),
            last_name: self.last_name.map(Some),
            email: self.email.map(Some),
            tags: self.tags,
            attributes: self.attributes,
            consent: self.consent,
        }
        .validate(region)
    }
}

impl ContactPatch {
    pub fn validate(self, region: Region) -> Result<ContactChanges, ValidationError> {
        Ok(ContactChanges {
            phone: self
                .phone
                .map(|raw| PhoneE164::parse(&raw, region))
                .transpose()?,
            first_name: self
                .first_name
                .map(|v| clean_name("first_name", v))
                .transpose()?,
            last_name: self
                .last_name
                .map(|v| clean_name("last_name", v))
                .transpose()?,
            email: self.email.map(clean_email).transpose()?,
            tags: self.tags.map(clean_tags).transpose()?,
            attributes: self.attributes.map(clean_attributes).transpose()?,
            consent: self.consent.map(clean_consent).transpose()?,
        })
    }
}

impl ContactChanges {
    /// A new contact from a validated draft (which always carries a phone).
    pub fn create(self, id: ContactId, now: DateTime<Utc>) -> Result<Contact, ValidationError> {
        let phone = self
            .phone
            .clone()
            .ok_or_else(|| ValidationError::new("phone", "is required"))?;
        let mut contact = Contact {
            id,
            phone,
            first_name: None,
            last_name: None,
            email: None,
            tags: Vec::new(),
            attributes: BTreeMap::new(),
            consent: Consent::default(),
            created_at: now,
            updated_at: now,
        };
        self.apply_to(&mut contact, now);
        Ok(contact)
    }

    /// Applies the changes; consent changes are stamped with `now`.
    pub fn apply_to(self, contact: &mut Contact, now: DateTime<Utc>) {
        if let Some(phone) = self.phone {
            contact.phone = phone;
        }
        if let Some(v) = self.first_name {
            contact.first_name = v;
        }
        if let Some(v) = self.last_name {
            contact.last_name = v;
        }
        if let Some(v) = self.email {
            contact.email = v;
        }
        if let Some(v) = self.tags {
            contact.tags = v;
        }
        if let Some(v) = self.attributes {
            contact.attributes = v;
        }
        if let Some(c) = self.consent
            && (c.status != contact.consent.status || c.source != contact.consent.source)
        {
            contact.consent = Consent {
                status: c.status,
                source: c.source,
                at: Some(now),
            };
        }
        contact.updated_at = now;
    }
}

fn too_long(field: &str, max: usize) -> ValidationError {
    ValidationError::new(field, format!("is longer than {max} characters"))
}

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

/// Trims a name; empty becomes `None`. Shared with the CSV import, which validates row by row.
pub fn clean_name(field: &str, value: Option<String>) -> Result<Option<String>, ValidationError> {
    let Some(value) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.chars().count() > MAX_NAME_CHARS {
        return Err(too_long(field, MAX_NAME_CHARS));
    }
    if has_control(&value) {
        return Err(ValidationError::new(field, "contains control characters"));
    }
    Ok(Some(value))
}

/// Trims and checks an email address; empty becomes `None`.
pub fn clean_email(value: Option<String>) -> Result<Option<String>, ValidationError> {
    let Some(value) = value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if value.chars().count() > MAX_EMAIL_CHARS {
        return Err(too_long("email", MAX_EMAIL_CHARS));
    }
    let valid = value.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && !value.chars().any(|c| c.is_whitespace() || c.is_control())
    });
    if !valid {
        return Err(ValidationError::new(
            "email",
            format!("`{value}` is not an email address"),
        ));
    }
    Ok(Some(value))
}

/// Trims tags, drops case-insensitive repeats (first spelling wins) and checks the limits.
/// Two tags are the same when they differ only in case, in any script (as [`clean_tags`]
/// judges duplicates).
pub fn same_tag(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    a.to_lowercase() == b.to_lowercase()
}

pub fn clean_tags(tags: Vec<String>) -> Result<Vec<String>, ValidationError> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for tag in tags {
        let tag = tag.trim().to_owned();
        if tag.is_empty() {
            return Err(ValidationError::new("tags", "a tag is empty"));
        }
        if tag.chars().count() > MAX_TAG_CHARS {
            return Err(too_long("tags", MAX_TAG_CHARS));
        }
        if has_control(&tag) {
            return Err(ValidationError::new(
                "tags",
                "a tag contains control characters",
            ));
        }
        if seen.insert(tag.to_lowercase()) {
            out.push(tag);
        }
    }
    if out.len() > MAX_TAGS {
        return Err(ValidationError::new(
            "tags",
            format!("more than {MAX_TAGS} tags"),
        ));
    }
    Ok(out)
}

/// Checks the number of attributes, then each name and value.
pub fn clean_attributes(
    attributes: BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, ValidationError> {
    if attributes.len() > MAX_ATTRIBUTES {
        return Err(ValidationError::new(
            "attributes",
            format!("more than {MAX_ATTRIBUTES} attributes"),
        ));
    }
    for (name, value) in &attributes {
        validate_attribute_name(name)?;
        validate_attribute_value(name, value)?;
    }
    check_attributes_size(&attributes)?;
    Ok(attributes)
}

/// Checks a custom attribute's name: 1-64 of a-z, 0-9 and `_`, starting with a letter, and not
/// one of the contact's own field names. The CSV import checks column names with it once per file.
pub fn validate_attribute_name(name: &str) -> Result<(), ValidationError> {
    let field = || format!("attributes.{name}");
    let name_ok = !name.is_empty()
        && name.len() <= MAX_ATTRIBUTE_NAME_CHARS
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !name_ok {
        return Err(ValidationError::new(
            field(),
            "attribute names are 1-64 of a-z, 0-9 and _, starting with a letter",
        ));
    }
    if RESERVED_ATTRIBUTES.contains(&name) {
        return Err(ValidationError::new(
            field(),
            format!("`{name}` is a reserved name (a contact field): choose another"),
        ));
    }
    Ok(())
}

/// Checks the size of all attributes together ([`MAX_ATTRIBUTES_BYTES`]).
pub fn check_attributes_size(attributes: &BTreeMap<String, String>) -> Result<(), ValidationError> {
    let bytes: usize = attributes.iter().map(|(n, v)| n.len() + v.len()).sum();
    if bytes > MAX_ATTRIBUTES_BYTES {
        return Err(ValidationError::new(
            "attributes",
            format!(
                "take {bytes} bytes together, more than {} KiB",
                MAX_ATTRIBUTES_BYTES / 1024
            ),
        ));
    }
    Ok(())
}

/// Checks a custom attribute's value (its length).
pub fn validate_attribute_value(name: &str, value: &str) -> Result<(), ValidationError> {
    if value.chars().count() > MAX_ATTRIBUTE_VALUE_CHARS {
        return Err(too_long(
            &format!("attributes.{name}"),
            MAX_ATTRIBUTE_VALUE_CHARS,
        ));
    }
    Ok(())
}

/// Trims the source and requires one when consent is granted.
pub fn clean_consent(consent: ConsentInput) -> Result<ConsentInput, ValidationError> {
    let source = consent
        .source
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty());
    if source
        .as_ref()
        .is_some_and(|s| s.chars().count() > MAX_SOURCE_CHARS)
    {
        return Err(too_long("consent.source", MAX_SOURCE_CHARS));
    }
    if consent.status.allows_marketing() && source.is_none() {
        return Err(ValidationError::new(
            "consent.source",
            "is required when granting consent (where and how the contact agreed)",
        ));
    }
    Ok(ConsentInput {
        status: consent.status,
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us() -> Region {
        "US".parse().unwrap()
    }

    fn draft(json: &str) -> ContactDraft {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_reserved_attribute_name_is_named_in_the_refusal() {
        let refused = validate_attribute_name("phone").expect_err("reserved");
        assert!(
            refused.reason.contains("`phone` is a reserved name"),
            "{}",
            refused.reason
        );
        assert!(validate_attribute_name("phone_type").is_ok());
    }

    #[test]
    fn a_draft_becomes_a_normalised_contact() {
        let changes = draft(
            r#"{"phone":"(415) 555-2671","first_name":"  Ada ","tags":["vip","VIP"," new "],
                "attributes":{"city":"Paris"},"consent":{"status":"explicit","source":"web form"}}"#,
        )
        .validate(us())
        .unwrap();
        let now = Utc::now();
        let c = changes.create(ContactId::generate(), now).unwrap();
        assert_eq!(c.phone.as_str(), "+14155552671");
        assert_eq!(c.first_name.as_deref(), Some("Ada"));
        assert_eq!(c.tags, vec!["vip", "new"]);
        assert_eq!(c.consent.status, ConsentStatus::Explicit);
        assert_eq!(c.consent.at, Some(now));
    }

    #[test]
    fn each_bad_field_is_named() {
        let cases = [
            (r#"{"phone":"12"}"#, "phone"),
            (r#"{"phone":"+14155552671","email":"nope"}"#, "email"),
            (r#"{"phone":"+14155552671","tags":[""]}"#, "tags"),
            (
                r#"{"phone":"+14155552671","attributes":{"Bad Name":"x"}}"#,
                "attributes.Bad Name",
            ),
            (
                r#"{"phone":"+14155552671","attributes":{"phone":"x"}}"#,
                "attributes.phone",
            ),
            (
                r#"{"phone":"+14155552671","consent":{"status":"explicit"}}"#,
                "consent.source",
            ),
        ];
        for (json, field) in cases {
            let err = draft(json).validate(us()).unwrap_err();
            assert_eq!(err.field, field, "{json}");
        }
        let long = format!(
            r#"{{"phone":"+14155552671","first_name":"{}"}}"#,
            "a".repeat(101)
        );
        assert_eq!(draft(&long).validate(us()).unwrap_err().field, "first_name");
    }

    #[test]
    fn attributes_are_limited_in_number_and_in_size_together() {
        let many = |count: usize, chars: usize| -> BTreeMap<String, String> {
            (0..count)
                .map(|i| (format!("field_{i}"), "v".repeat(chars)))
                .collect()
        };
        // A CRM's wide export, and a few long notes, fit.
        assert!(clean_attributes(many(MAX_ATTRIBUTES, 20)).is_ok());
        assert!(clean_attributes(many(10, MAX_ATTRIBUTE_VALUE_CHARS)).is_ok());
        let err = clean_attributes(many(MAX_ATTRIBUTES + 1, 1)).unwrap_err();
        assert!(err.reason.contains("more than 250"), "{err:?}");
        // What the limits allowed before: 100 values of 1,000 characters.
        assert!(clean_attributes(many(100, 1000)).is_ok());
        let err = clean_attributes(many(40, MAX_ATTRIBUTE_VALUE_CHARS)).unwrap_err();
        assert!(err.reason.contains("more than 128 KiB"), "{err:?}");
    }

    #[test]
    fn unknown_fields_are_rejected() {
        assert!(serde_json::from_str::<ContactDraft>(r#"{"phone":"1","tenant_id":"x"}"#).is_err());
    }

    #[test]
    fn a_patch_tells_null_from_absent() {
        let patch: ContactPatch = serde_json::from_str(r#"{"first_name":null}"#).unwrap();
        let changes = patch.validate(us()).unwrap();
        assert_eq!(changes.first_name, Some(None));
        assert_eq!(changes.last_name, None);
    }

    #[test]
    fn consent_time_changes_only_with_consent() {
        let t0 = Utc::now();
        let mut c =
            draft(r#"{"phone":"+14155552671","consent":{"status":"implied","source":"pos"}}"#)
                .validate(us())
                .unwrap()
                .create(ContactId::generate(), t0)
                .unwrap();
        let t1 = t0 + chrono::Duration::seconds(5);
        let same: ContactPatch = serde_json::from_str(
            r#"{"first_name":"B","consent":{"status":"implied","source":"pos"}}"#,
        )
        .unwrap();
        same.validate(us()).unwrap().apply_to(&mut c, t1);
        assert_eq!(c.consent.at, Some(t0));
        assert_eq!(c.updated_at, t1);
    }
}
