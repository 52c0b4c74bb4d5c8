//! How an imported row meets an existing contact: fields the row has replace the contact's,
//! tags are added to the contact's, attributes are overlaid, and nothing the row leaves empty
//! is erased. Importing the same row twice changes nothing the second time.
//!
//! Consent is not simply overwritten, since a list is often older than what the contact did
//! since (see [`consent_after`]): an opt-out stands whatever a file says, the first evidence
//! of consent is kept, and a row saying "no" withdraws a consent the contact had.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::contact::{ConsentInput, same_tag};
use crate::{Consent, ConsentStatus, Contact, ContactId, PhoneE164};

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
        if let Some(consent) = self
            .consent
            .as_ref()
            .and_then(|row| consent_after(&contact.consent, row, now))
        {
            contact.consent = consent;
        }
        let changed = *contact != before;
        if changed {
            contact.updated_at = now;
        }
        changed
    }

    /// Whether the row grants consent that [`ContactMerge::merge_into`] does not apply because
    /// the contact opted out: the report counts these rows.
    pub fn meets_an_opt_out(&self, contact: &Contact) -> bool {
        contact.consent.status == ConsentStatus::Revoked && self.grants_consent()
    }

    /// Whether the row (or the import's declaration) gives consent to be messaged.
    pub fn grants_consent(&self) -> bool {
        self.consent
            .as_ref()
            .is_some_and(|row| row.status.allows_marketing())
    }
}

/// The contact's consent once an imported row stating `row` has met it, `None` when it stays.
/// A row's status is what the file (or the import's declaration) says: a grant, `Unknown` for
/// a plain "no", or `Revoked` for an opt-out.
fn consent_after(existing: &Consent, row: &ConsentInput, now: DateTime<Utc>) -> Option<Consent> {
    use ConsentStatus::{Explicit, Implied, Revoked, Unknown};
    let replace = match (existing.status, row.status) {
        // Only the person lifts an opt-out (START, or a change made for them one by one), not
        // a list that may predate it.
        (Revoked, _) => false,
        (_, Revoked) => true,
        // The first evidence of consent is what a complaint needs: keep its source and time.
        (Explicit, Explicit | Implied) | (Implied, Implied) => false,
        (Implied | Unknown, Explicit) | (Unknown, Implied) => true,
        // The tenant's own records now say there is no consent: stop messaging.
        (Explicit | Implied, Unknown) => true,
        (Unknown, Unknown) => false,
    };
    replace.then(|| Consent {
        status: row.status,
        source: row.source.clone(),
        at: Some(now),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

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

    fn with_consent(status: ConsentStatus, source: &str) -> ContactMerge {
        ContactMerge {
            consent: Some(ConsentInput {
                status,
                source: Some(source.into()),
            }),
            ..row()
        }
    }

    #[test]
    fn an_import_never_lifts_an_opt_out_and_keeps_the_first_consent() {
        use ConsentStatus::{Explicit, Revoked, Unknown};
        let t0 = Utc::now();
        let t1 = t0 + chrono::Duration::seconds(1);
        let signed_up = with_consent(Explicit, "signup form");
        let mut contact = signed_up.create(ContactId::generate(), t0);
        assert_eq!(contact.consent.status, Explicit);

        // Another grant (a declaration, a "yes" column) leaves the first evidence alone.
        let declared = with_consent(Explicit, "web form 2024");
        assert!(!declared.merge_into(&mut contact, t1));
        assert_eq!(
            (contact.consent.source.as_deref(), contact.consent.at),
            (Some("signup form"), Some(t0))
        );
        assert!(!declared.meets_an_opt_out(&contact));

        // An opt-out column revokes; later grants leave the opt-out standing, and say so.
        let opted_out = with_consent(Revoked, "import column SMS Opt-In");
        assert!(opted_out.merge_into(&mut contact, t1));
        assert_eq!(contact.consent.status, Revoked);
        for grant in [
            declared.clone(),
            with_consent(Explicit, "import column SMS"),
        ] {
            assert!(grant.meets_an_opt_out(&contact));
            let before = contact.clone();
            let mut merged = contact.clone();
            grant.merge_into(&mut merged, t1 + chrono::Duration::seconds(1));
            assert_eq!(merged.consent, before.consent);
        }
        // A plain "no" does not soften an opt-out either.
        let no = with_consent(Unknown, "import column SMS");
        let mut merged = contact.clone();
        no.merge_into(&mut merged, t1);
        assert_eq!(merged.consent.status, Revoked);
    }

    #[test]
    fn a_plain_no_withdraws_consent_and_gives_none_to_a_new_contact() {
        use ConsentStatus::{Explicit, Unknown};
        let t0 = Utc::now();
        let no = with_consent(Unknown, "import column Accepts SMS");
        assert_eq!(no.create(ContactId::generate(), t0).consent.status, Unknown);
        let mut contact = with_consent(Explicit, "signup form").create(ContactId::generate(), t0);
        let t1 = t0 + chrono::Duration::seconds(1);
        assert!(no.merge_into(&mut contact, t1));
        assert_eq!(
            (contact.consent.status, contact.consent.source.as_deref()),
            (Unknown, Some("import column Accepts SMS"))
        );
        assert!(!no.merge_into(&mut contact, t1 + chrono::Duration::seconds(1)));
    }
}
