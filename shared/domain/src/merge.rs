//! How an imported row meets an existing contact: fields the row has replace the contact's,
//! tags are added to the contact's, attributes are overlaid, and nothing the row leaves empty
//! is erased. Importing the same row twice changes nothing the second time.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::contact::{ConsentInput, same_tag};
use crate::{Consent, Contact, ContactId, PhoneE164};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactMerge {
    pub phone: PhoneE164,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub tags: Vec<String>,
    pub attributes: BTreeMap<String, String>,
    pub consent: Option<ConsentInput>,
}

impl ContactMerge {
    pub fn create(&self, id: ContactId, now: DateTime<Utc>) -> Contact {
        let mut contact = Contact {
            id,
            phone: self.phone.clone(),
            first_name: None,
            last_name: None,
            email: None,
            tags: Vec::new(),
            attributes: BTreeMap::new(),
            consent: Consent::default(),
            created_at: now,
            updated_at: now,
        };
        self.merge_into(&mut contact, now);
        contact
    }

    /// Applies the row; returns whether anything changed (`updated_at` moves only then).
    pub fn merge_into(&self, contact: &mut Contact, now: DateTime<Utc>) -> bool {
        let before = contact.clone();
        if self.first_name.is_some() {
            contact.first_name.clone_from(&self.first_name);
        }
        if self.last_name.is_some() {
            contact.last_name.clone_from(&self.last_name);
        }
        if self.email.is_some() {
            contact.email.clone_from(&self.email);
        }
        for tag in &self.tags {
            if !contact.tags.iter().any(|t| same_tag(t, tag)) {
                contact.tags.push(tag.clone());
            }
        }
        for (name, value) in &self.attributes {
            contact.attributes.insert(name.clone(), value.clone());
        }
        if let Some(consent) = &self.consent
            && (consent.status != contact.consent.status
                || consent.source != contact.consent.source)
        {
            contact.consent = Consent {
                status: consent.status,
                source: consent.source.clone(),
                at: Some(now),
            };
        }
        let changed = *contact != before;
        if changed {
            contact.updated_at = now;
        }
        changed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ConsentStatus;

    fn row() -> ContactMerge {
        ContactMerge {
            phone: PhoneE164::from_e164("+14155552671").unwrap(),
            first_name: Some("Ada".into()),
            last_name: None,
            email: None,
            tags: vec!["Import".into()],
            attributes: BTreeMap::from([("city".into(), "Paris".into())]),
            consent: Some(ConsentInput {
                status: ConsentStatus::Explicit,
                source: Some("import".into()),
            }),
        }
    }

    #[test]
    fn merging_keeps_what_the_row_leaves_empty_and_is_idempotent() {
        let t0 = Utc::now();
        let mut contact = row().create(ContactId::generate(), t0);
        contact.last_name = Some("Lovelace".into());
        contact.tags.push("vip".into());
        contact.attributes.insert("plan".into(), "gold".into());
        let t1 = t0 + chrono::Duration::seconds(1);
        let mut again = row();
        again.tags = vec!["import".into(), "spring".into()];
        assert!(again.merge_into(&mut contact, t1));
        assert_eq!(contact.last_name.as_deref(), Some("Lovelace"));
        assert_eq!(contact.tags, ["Import", "vip", "spring"]);
        assert_eq!(contact.attributes.len(), 2);
        assert_eq!(contact.consent.at, Some(t0));
        let t2 = t1 + chrono::Duration::seconds(1);
        assert!(!again.merge_into(&mut contact, t2));
        assert_eq!(contact.updated_at, t1);
    }
}
