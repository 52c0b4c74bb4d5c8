//! Contacts, unique per tenant by phone number.
//!
//! Uniqueness is a phone-claim item (`PHONE#<e164>`) written in the same transaction as the
//! contact, so two concurrent creates of one number can never both succeed, on DynamoDB or
//! locally. Each contact carries a `version` that every write checks, so concurrent edits
//! never overwrite each other blindly.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use smscrm_domain::contact::ContactChanges;
use smscrm_domain::ports::{
    Condition, Cursor, Index, Item, Key, Query, StoreError, Table, TransactOp, table,
};
use smscrm_domain::{ConsentStatus, Contact, ContactId, PhoneE164, TenantId};

use crate::codec::{from_item, to_item};
use crate::suppression::{OPTED_OUT_REASON, Suppression};
use crate::{AttributeNames, DoNotContact, RepoError, keys};

/// How often a write is retried when a concurrent write got there first.
const MAX_ATTEMPTS: usize = 8;

#[derive(Clone)]
pub struct Contacts {
    pub(crate) table: Arc<dyn Table>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ContactPage {
    pub items: Vec<Contact>,
    pub next_cursor: Option<Cursor>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PhoneClaim {
    pub(crate) contact_id: ContactId,
}

/// What a search string asks for.
enum Search {
    PhonePrefix(String),
    NamePrefix(String),
}

impl Contacts {
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    pub async fn get(
        &self,
        tenant: &TenantId,
        id: &ContactId,
    ) -> Result<Option<Contact>, RepoError> {
        self.table
            .get(&keys::contact(tenant, id))
            .await?
            .map(from_item)
            .transpose()
    }

    pub async fn find_by_phone(
        &self,
        tenant: &TenantId,
        phone: &PhoneE164,
    ) -> Result<Option<Contact>, RepoError> {
        let Some(claim) = self.table.get(&keys::phone(tenant, phone)).await? else {
            return Ok(None);
        };
        let claim: PhoneClaim = from_item(claim)?;
        self.get(tenant, &claim.contact_id).await
    }

    /// Creates the contact with this phone, or applies the changes to the one that has it.
    /// Returns the contact and whether it was created.
    pub async fn upsert_by_phone(
        &self,
        tenant: &TenantId,
        changes: ContactChanges,
        now: DateTime<Utc>,
    ) -> Result<(Contact, bool), RepoError> {
        let phone = changes
            .phone
            .clone()
            .ok_or_else(|| smscrm_domain::ValidationError::new("phone", "is required"))?;
        self.record_attribute_names(tenant, &changes).await?;
        for _ in 0..MAX_ATTEMPTS {
            if let Some(claim) = self.table.get(&keys::phone(tenant, &phone)).await? {
                let claim: PhoneClaim = from_item(claim)?;
                match self
                    .update(tenant, &claim.contact_id, changes.clone(), now)
                    .await
                {
                    Ok(contact) => return Ok((contact, false)),
                    // A claim without its contact: an import stopped between writing the two
                    // (claims go first). Complete it under the claimed id.
                    Err(RepoError::NotFound) => {
                        let contact = changes.clone().create(claim.contact_id.clone(), now)?;
                        let ops = vec![
                            TransactOp::Check {
                                key: keys::phone(tenant, &phone),
                                condition: Condition::eq("contact_id", claim.contact_id.as_str()),
                            },
                            TransactOp::Put {
                                item: contact_item(tenant, &contact, 1)?,
                                condition: Some(Condition::ItemNotExists),
                            },
                        ];
                        match self.table.transact(ops).await {
                            Ok(()) => return Ok((contact, true)),
                            Err(StoreError::TransactionCanceled { .. }) => continue,
                            Err(other) => return Err(other.into()),
                        }
                    }
                    Err(other) => return Err(other),
                }
            }
            let contact = changes.clone().create(ContactId::generate(), now)?;
            let ops = vec![
                claim_op(tenant, &contact)?,
                TransactOp::Put {
                    item: contact_item(tenant, &contact, 1)?,
                    condition: Some(Condition::ItemNotExists),
                },
            ];
            match self.table.transact(ops).await {
                Ok(()) => return Ok((contact, true)),
                // Someone created this phone concurrently: update theirs instead.
                Err(StoreError::TransactionCanceled { .. }) => continue,
                Err(other) => return Err(other.into()),
            }
        }
        Err(busy())
    }

    /// Applies the changes to an existing contact, moving its phone claim if the phone changes.
    pub async fn update(
        &self,
        tenant: &TenantId,
        id: &ContactId,
        changes: ContactChanges,
        now: DateTime<Utc>,
    ) -> Result<Contact, RepoError> {
        self.record_attribute_names(tenant, &changes).await?;
        for _ in 0..MAX_ATTEMPTS {
            let (mut contact, version) = self.load(tenant, id).await?;
            let old_phone = contact.phone.clone();
            changes.clone().apply_to(&mut contact, now);
            let write = TransactOp::Put {
                item: contact_item(tenant, &contact, version + 1)?,
                condition: Some(Condition::eq("version", version)),
            };
            let result = if contact.phone == old_phone {
                self.put_op(write).await
            } else {
                let ops = vec![
                    write,
                    TransactOp::Delete {
                        key: keys::phone(tenant, &old_phone),
                        condition: Some(Condition::eq("contact_id", id.as_str())),
                    },
                    claim_op(tenant, &contact)?,
                ];
                self.table.transact(ops).await
            };
            match result {
                Ok(()) => return Ok(contact),
                Err(StoreError::ConditionFailed) => continue,
                Err(StoreError::TransactionCanceled { failed }) if failed.contains(&2) => {
                    return Err(self.phone_taken(tenant, &contact.phone).await);
                }
                Err(StoreError::TransactionCanceled { .. }) => continue,
                Err(other) => return Err(other.into()),
            }
        }
        Err(busy())
    }

    /// Why `phone` cannot be claimed. Its claim may have no contact yet: an import claims
    /// its phones before writing their contacts, and one that stopped part-way leaves such
    /// claims until it is committed again (or `upsert_by_phone` completes them).
    async fn phone_taken(&self, tenant: &TenantId, phone: &PhoneE164) -> RepoError {
        match self.find_by_phone(tenant, phone).await {
            Ok(None) => RepoError::Conflict(format!(
                "the phone {phone} is reserved by an import that has not written its contact \
                 yet: it is still running, or it stopped part-way and committing it again \
                 completes it"
            )),
            Ok(Some(_)) => {
                RepoError::Conflict(format!("another contact already has the phone {phone}"))
            }
            Err(err) => err,
        }
    }

    /// Templates may use any attribute a contact has: record the names first.
    async fn record_attribute_names(
        &self,
        tenant: &TenantId,
        changes: &ContactChanges,
    ) -> Result<(), RepoError> {
        let names = changes.attributes.iter().flat_map(|a| a.keys());
        AttributeNames::new(self.table.clone())
            .record(tenant, names.map(String::as_str))
            .await
    }

    /// Deletes the contact, keeping an opt-out: a contact who had revoked consent leaves
    /// their number on the do-not-contact list first, so that re-adding them (an import, an
    /// upsert) does not make them messageable again. Their START lifts it as any opt-out.
    /// (Erasure handles the list itself: `Privacy::erase`.)
    pub async fn delete_keeping_opt_out(
        &self,
        tenant: &TenantId,
        id: &ContactId,
        now: DateTime<Utc>,
    ) -> Result<Contact, RepoError> {
        let (contact, _) = self.load(tenant, id).await?;
        if contact.consent.status == ConsentStatus::Revoked {
            let entry = Suppression {
                phone: contact.phone.clone(),
                reason: OPTED_OUT_REASON.into(),
                at: now,
                source: Some("opted out, then the contact was deleted".into()),
            };
            DoNotContact::new(self.table.clone())
                .add_if_absent(tenant, &entry)
                .await?;
        }
        self.delete(tenant, id).await
    }

    /// Deletes the contact and frees its phone number.
    pub async fn delete(&self, tenant: &TenantId, id: &ContactId) -> Result<Contact, RepoError> {
        for _ in 0..MAX_ATTEMPTS {
            let (contact, version) = self.load(tenant, id).await?;
            let ops = vec![
                TransactOp::Delete {
                    key: keys::contact(tenant, id),
                    condition: Some(Condition::eq("version", version)),
                },
                TransactOp::Delete {
                    key: keys::phone(tenant, &contact.phone),
                    condition: Some(Condition::eq("contact_id", id.as_str())),
                },
            ];
            match self.table.transact(ops).await {
                Ok(()) => return Ok(contact),
                Err(StoreError::TransactionCanceled { .. }) => continue,
                Err(other) => return Err(other.into()),
            }
        }
        Err(busy())
    }

    /// Contacts in creation order.
    pub async fn list(
        &self,
        tenant: &TenantId,
        cursor: Option<Cursor>,
        limit: u32,
    ) -> Result<ContactPage, RepoError> {
        let page = self
            .table
            .query(
                &Query::partition(keys::tenant_partition(tenant))
                    .prefix(keys::CONTACT_PREFIX)
                    .limit(limit)
                    .after(cursor),
            )
            .await?;
        Ok(ContactPage {
            items: decode_all(page.items)?,
            next_cursor: page.next_cursor,
        })
    }

    /// Contacts whose phone (E.164, or national digits read in `calling_code`) or name starts
    /// with `q`, case-insensitively. Phone matches come in number order, names in name order.
    pub async fn search(
        &self,
        tenant: &TenantId,
        q: &str,
        calling_code: u16,
        cursor: Option<Cursor>,
        limit: u32,
    ) -> Result<ContactPage, RepoError> {
        match classify(q, calling_code) {
            Search::PhonePrefix(prefix) => self.search_phone(tenant, &prefix, cursor, limit).await,
            Search::NamePrefix(name) => {
                let Some(partition) = keys::name_partition(tenant, &name) else {
                    return self.list(tenant, cursor, limit).await;
                };
                let page = self
                    .table
                    .query(
                        &Query::partition(partition)
                            .on(Index::Gsi1)
                            .prefix(name)
                            .limit(limit)
                            .after(cursor),
                    )
                    .await?;
                Ok(ContactPage {
                    items: decode_all(page.items)?,
                    next_cursor: page.next_cursor,
                })
            }
        }
    }

    async fn search_phone(
        &self,
        tenant: &TenantId,
        prefix: &str,
        cursor: Option<Cursor>,
        limit: u32,
    ) -> Result<ContactPage, RepoError> {
        let page = self
            .table
            .query(
                &Query::partition(keys::tenant_partition(tenant))
                    .prefix(keys::phone_prefix(prefix))
                    .limit(limit.min(table::MAX_BATCH_GET as u32))
                    .after(cursor),
            )
            .await?;
        let ids = page
            .items
            .into_iter()
            .map(|item| from_item::<PhoneClaim>(item).map(|c| c.contact_id))
            .collect::<Result<Vec<_>, _>>()?;
        let wanted: Vec<Key> = ids.iter().map(|id| keys::contact(tenant, id)).collect();
        let mut found: HashMap<String, Contact> = HashMap::new();
        if !wanted.is_empty() {
            for item in self.table.batch_get(&wanted).await? {
                let contact: Contact = from_item(item)?;
                found.insert(contact.id.to_string(), contact);
            }
        }
        Ok(ContactPage {
            items: ids
                .iter()
                .filter_map(|id| found.remove(id.as_str()))
                .collect(),
            next_cursor: page.next_cursor,
        })
    }

    async fn load(&self, tenant: &TenantId, id: &ContactId) -> Result<(Contact, i64), RepoError> {
        let item = self
            .table
            .get(&keys::contact(tenant, id))
            .await?
            .ok_or(RepoError::NotFound)?;
        let version = item.get("version").and_then(Value::as_i64).unwrap_or(0);
        Ok((from_item(item)?, version))
    }

    async fn put_op(&self, op: TransactOp) -> Result<(), StoreError> {
        match op {
            TransactOp::Put { item, condition } => self.table.put(item, condition).await,
            other => self.table.transact(vec![other]).await,
        }
    }
}

fn busy() -> RepoError {
    RepoError::Store(StoreError::Unavailable(
        "the contact kept changing under concurrent writes; retry".into(),
    ))
}

fn decode_all(items: Vec<Item>) -> Result<Vec<Contact>, RepoError> {
    items.into_iter().map(from_item).collect()
}

pub(crate) fn claim_item(tenant: &TenantId, contact: &Contact) -> Result<Item, RepoError> {
    claim_item_for(tenant, &contact.phone, &contact.id)
}

pub(crate) fn claim_item_for(
    tenant: &TenantId,
    phone: &PhoneE164,
    contact: &ContactId,
) -> Result<Item, RepoError> {
    let claim = PhoneClaim {
        contact_id: contact.clone(),
    };
    to_item(&claim, &keys::phone(tenant, phone), "phone_claim")
}

pub(crate) fn claim_op(tenant: &TenantId, contact: &Contact) -> Result<TransactOp, RepoError> {
    Ok(TransactOp::Put {
        item: claim_item(tenant, contact)?,
        condition: Some(Condition::ItemNotExists),
    })
}

pub(crate) fn contact_item(
    tenant: &TenantId,
    contact: &Contact,
    version: i64,
) -> Result<Item, RepoError> {
    let mut item = to_item(contact, &keys::contact(tenant, &contact.id), "contact")?;
    item.insert("version".into(), Value::from(version));
    let name = keys::search_name(contact.first_name.as_deref(), contact.last_name.as_deref());
    if let Some((name, partition)) =
        name.and_then(|n| keys::name_partition(tenant, &n).map(|p| (n, p)))
    {
        item.insert(table::GSI1_PK.into(), Value::String(partition));
        item.insert(
            table::GSI1_SK.into(),
            Value::String(keys::name_sort(&name, &contact.id)),
        );
    }
    Ok(item)
}

fn classify(q: &str, calling_code: u16) -> Search {
    let q = q.trim();
    let looks_like_phone =
        q.starts_with('+') || q.starts_with(|c: char| c.is_ascii_digit() || c == '(');
    if looks_like_phone {
        let digits: String = q.chars().filter(char::is_ascii_digit).collect();
        if q.starts_with('+') {
            return Search::PhonePrefix(format!("+{digits}"));
        }
        // National form: drop the trunk prefix and prepend the tenant's country code.
        let national = digits.trim_start_matches('0');
        let national = if calling_code == 1 {
            national.strip_prefix('1').unwrap_or(national)
        } else {
            national
        };
        return Search::PhonePrefix(format!("+{calling_code}{national}"));
    }
    Search::NamePrefix(keys::search_name(Some(q), None).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_strings_are_classified() {
        let phone = |q| match classify(q, 1) {
            Search::PhonePrefix(p) => p,
            Search::NamePrefix(n) => panic!("{q} read as name {n}"),
        };
        assert_eq!(phone("+44 74"), "+4474");
        assert_eq!(phone("(415) 555"), "+1415555");
        assert_eq!(phone("1 415"), "+1415");
        match classify("  Ada   Love ", 1) {
            Search::NamePrefix(n) => assert_eq!(n, "ada love"),
            Search::PhonePrefix(p) => panic!("read as phone {p}"),
        }
        match classify("07400", 44) {
            Search::PhonePrefix(p) => assert_eq!(p, "+447400"),
            Search::NamePrefix(n) => panic!("read as name {n}"),
        }
    }
}
