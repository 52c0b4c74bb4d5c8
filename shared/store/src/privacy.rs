//! A person's rights over what a tenant holds about them: everything in one export, and
//! erasure from everywhere it is held.
//!
//! What the product holds about a contact, by where it is kept:
//! - the contact (profile, consent, attributes, tags), its phone claim and name-index entry;
//! - a message record per campaign that reached it (number, text, statuses), the status
//!   callbacks Twilio sent for it, and the SID item that ties a Twilio message to the record;
//! - the conversation with its number (replies, STOP/START/HELP), the thread's summary and the
//!   last campaign message sent to it;
//! - its do-not-contact entry;
//! - audit entries naming its number (texts it sent) or the contact.
//!
//! Erasure deletes all of that but the audit entries, which keep what was done and when with
//! the number replaced by its digest; a do-not-contact entry (or a withdrawn consent) stays as
//! an entry keyed by the digest, so the number is never messaged again because it was erased.

use std::sync::Arc;

use serde::Serialize;
use smscrm_domain::contact::ConsentStatus;
use smscrm_domain::ports::{Key, Query, Table, table};
use smscrm_domain::{CampaignId, Contact, ContactId, PhoneE164, TenantId};

use crate::codec::from_item;
use crate::delivery::StatusEvent;
use crate::inbox::InboundMessage;
use crate::messages::{MessageRecord, message_key, shard};
use crate::suppression::{OPTED_OUT_REASON, Suppression, phone_digest};
use crate::{AuditEntry, AuditLog, Contacts, DoNotContact, RepoError, keys};

/// Everything held about one contact.
#[derive(Debug, Clone, Serialize)]
pub struct ContactExport {
    pub contact: Contact,
    pub do_not_contact: Option<Suppression>,
    /// Every audit entry about the contact or its number: consent given and withdrawn (by
    /// the API, by STOP and START texts), imports aside.
    pub history: Vec<AuditEntry>,
    pub messages: Vec<SentMessage>,
    /// What the number texted to the tenant, newest first.
    pub replies: Vec<InboundMessage>,
}

/// A campaign's message to the contact, with what Twilio reported about it.
#[derive(Debug, Clone, Serialize)]
pub struct SentMessage {
    #[serde(flatten)]
    pub record: MessageRecord,
    pub status_callbacks: Vec<StatusEvent>,
}

/// What an erasure removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Erasure {
    pub messages: usize,
    pub replies: usize,
    pub audit_entries_redacted: usize,
    /// The number stays on the do-not-contact list, as a digest.
    pub kept_on_do_not_contact: bool,
}

#[derive(Clone)]
pub struct Privacy {
    table: Arc<dyn Table>,
}

impl Privacy {
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    pub async fn export(
        &self,
        tenant: &TenantId,
        id: &ContactId,
    ) -> Result<Option<ContactExport>, RepoError> {
        let Some(contact) = Contacts::new(self.table.clone()).get(tenant, id).await? else {
            return Ok(None);
        };
        let phone = contact.phone.clone();
        let mut messages = Vec::new();
        for record in self.records(tenant, id).await? {
            let status_callbacks = self
                .events(tenant, &record.campaign_id, id)
                .await?
                .into_iter()
                .map(|(_, event)| event)
                .collect();
            messages.push(SentMessage {
                record,
                status_callbacks,
            });
        }
        let history = self.history(tenant, &contact).await?;
        Ok(Some(ContactExport {
            do_not_contact: DoNotContact::new(self.table.clone())
                .get(tenant, &phone)
                .await?,
            replies: self.replies(tenant, &phone).await?,
            history,
            messages,
            contact,
        }))
    }

    /// Erases the contact and what is held about it (see the module's notes); `NotFound`
    /// when there is no such contact.
    pub async fn erase(
        &self,
        tenant: &TenantId,
        id: &ContactId,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Erasure, RepoError> {
        let contacts = Contacts::new(self.table.clone());
        let contact = contacts.get(tenant, id).await?.ok_or(RepoError::NotFound)?;
        let phone = &contact.phone;
        // First, so that no later failure can leave the number messageable.
        let withdrew = contact.consent.status == ConsentStatus::Revoked;
        let kept_on_do_not_contact = DoNotContact::new(self.table.clone())
            .keep_erased(tenant, phone, withdrew.then_some(OPTED_OUT_REASON), now)
            .await?;
        let records = self.records(tenant, id).await?;
        for record in &records {
            for (key, _) in self.events(tenant, &record.campaign_id, id).await? {
                self.table.delete(&key, None).await?;
            }
            if let Some(sid) = &record.sid {
                self.table.delete(&keys::sid(tenant, sid), None).await?;
            }
            let key = message_key(tenant, &record.campaign_id, id);
            self.table.delete(&key, None).await?;
        }
        let replies = self.erase_thread(tenant, phone).await?;
        let digest = format!("erased:{}", phone_digest(tenant, phone));
        let audit_entries_redacted = AuditLog::new(self.table.clone())
            .redact(tenant, phone.as_str(), &digest)
            .await?;
        contacts.delete(tenant, id).await?;
        Ok(Erasure {
            messages: records.len(),
            replies,
            audit_entries_redacted,
            kept_on_do_not_contact,
        })
    }

    /// The contact's message records, one per campaign that reached it.
    async fn records(
        &self,
        tenant: &TenantId,
        id: &ContactId,
    ) -> Result<Vec<MessageRecord>, RepoError> {
        let campaigns = self.campaign_ids(tenant).await?;
        let mut records = Vec::new();
        for chunk in campaigns.chunks(table::MAX_BATCH_GET) {
            let wanted: Vec<Key> = chunk.iter().map(|c| message_key(tenant, c, id)).collect();
            for item in self.table.batch_get(&wanted).await? {
                records.push(from_item::<MessageRecord>(item)?);
            }
        }
        records.sort_by_key(|r| r.created_at);
        Ok(records)
    }

    async fn campaign_ids(&self, tenant: &TenantId) -> Result<Vec<CampaignId>, RepoError> {
        let mut ids = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .table
                .query(
                    &Query::partition(keys::tenant_partition(tenant))
                        .prefix(keys::CAMPAIGN_PREFIX)
                        .limit(500)
                        .after(cursor),
                )
                .await?;
            for item in &page.items {
                let sk = item.get(table::SK).and_then(|v| v.as_str()).unwrap_or("");
                if let Some(id) = sk.strip_prefix(keys::CAMPAIGN_PREFIX) {
                    ids.push(
                        id.parse()
                            .map_err(|_| RepoError::Corrupt(format!("campaign key {sk}")))?,
                    );
                }
            }
            cursor = page.next_cursor;
            if cursor.is_none() {
                return Ok(ids);
            }
        }
    }

    /// The status callbacks of the contact's messages in one campaign, with their keys.
    async fn events(
        &self,
        tenant: &TenantId,
        campaign: &CampaignId,
        id: &ContactId,
    ) -> Result<Vec<(Key, StatusEvent)>, RepoError> {
        let partition = keys::events_partition(tenant, campaign, shard(id));
        let prefix = format!("{id}#");
        let mut events = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .table
                .query(
                    &Query::partition(partition.clone())
                        .prefix(prefix.clone())
                        .after(cursor),
                )
                .await?;
            for item in page.items {
                let sk = item.get(table::SK).and_then(|v| v.as_str()).unwrap_or("");
                let key = Key::new(partition.clone(), sk);
                events.push((key, from_item(item)?));
            }
            cursor = page.next_cursor;
            if cursor.is_none() {
                return Ok(events);
            }
        }
    }

    async fn replies(
        &self,
        tenant: &TenantId,
        phone: &PhoneE164,
    ) -> Result<Vec<InboundMessage>, RepoError> {
        Ok(self
            .thread_items(tenant, phone)
            .await?
            .into_iter()
            .filter(|(key, _)| key.sk.starts_with(keys::THREAD_MESSAGE_PREFIX))
            .map(|(_, item)| from_item(item))
            .collect::<Result<Vec<InboundMessage>, _>>()?
            .into_iter()
            .rev()
            .collect())
    }

    /// Deletes the conversation with the number and its summary; answers how many messages
    /// it held.
    async fn erase_thread(&self, tenant: &TenantId, phone: &PhoneE164) -> Result<usize, RepoError> {
        let mut messages = 0;
        for (key, _) in self.thread_items(tenant, phone).await? {
            if key.sk.starts_with(keys::THREAD_MESSAGE_PREFIX) {
                messages += 1;
            }
            self.table.delete(&key, None).await?;
        }
        self.table
            .delete(&keys::thread(tenant, phone), None)
            .await?;
        Ok(messages)
    }

    /// Every item of the conversation's partition: messages, seen SIDs, the last outbound.
    async fn thread_items(
        &self,
        tenant: &TenantId,
        phone: &PhoneE164,
    ) -> Result<Vec<(Key, smscrm_domain::ports::Item)>, RepoError> {
        let partition = keys::thread_partition(tenant, phone);
        let mut items = Vec::new();
        let mut cursor = None;
        loop {
            let page = self
                .table
                .query(&Query::partition(partition.clone()).after(cursor))
                .await?;
            for item in page.items {
                let sk = item.get(table::SK).and_then(|v| v.as_str()).unwrap_or("");
                items.push((Key::new(partition.clone(), sk), item));
            }
            cursor = page.next_cursor;
            if cursor.is_none() {
                return Ok(items);
            }
        }
    }

    /// Audit entries about the contact or its number, oldest first.
    async fn history(
        &self,
        tenant: &TenantId,
        contact: &Contact,
    ) -> Result<Vec<AuditEntry>, RepoError> {
        let log = AuditLog::new(self.table.clone());
        let mut entries = log.mentioning(tenant, contact.phone.as_str()).await?;
        let target = format!("contact:{}", contact.id);
        for entry in log.mentioning(tenant, &target).await? {
            if !entries.iter().any(|e| e.id == entry.id) {
                entries.push(entry);
            }
        }
        entries.sort_by(|a, b| (a.at, &a.id).cmp(&(b.at, &b.id)));
        Ok(entries)
    }
}
