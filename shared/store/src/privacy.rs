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
//! - import reports (their preview rows and row errors) that quote its number.
//!
//! Erasure deletes all of that for the contact's number and every number it was messaged at,
//! but the audit entries and import reports, which keep what was done and when with the number
//! replaced by `erased-number` (and the person's preview rows dropped). A do-not-contact entry
//! (or a withdrawn consent) stays as an entry keyed by the number's digest, so the number is
//! never messaged again because it was erased. While a campaign still has a message for the
//! contact in flight (queued, held, being sent), erasure waits: it answers a conflict, and the
//! sender skips any message whose contact is gone.

use std::sync::Arc;

use serde::Serialize;
use smscrm_domain::contact::ConsentStatus;
use smscrm_domain::ports::{Key, Query, Table, table};
use smscrm_domain::{CampaignId, Contact, ContactId, PhoneE164, TenantId};

use crate::codec::{all_items, from_item, sort_key};
use crate::delivery::StatusEvent;
use crate::inbox::InboundMessage;
use crate::messages::{MessageRecord, message_key, shard};
use crate::suppression::{OPTED_OUT_REASON, Suppression};
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

/// What an erased number becomes where a record of what was done stays.
const ERASED: &str = "erased-number";

/// A finished import's item without the number, or `None` when it does not mention it (or is
/// still running).
fn redacted_import(
    mut item: smscrm_domain::ports::Item,
    phone: &PhoneE164,
) -> Option<smscrm_domain::ports::Item> {
    // An import record says its status; a range of one says whether it is done.
    let finished = matches!(
        item.get("status").and_then(|s| s.as_str()),
        Some("completed" | "failed")
    ) || item.get("done").and_then(|d| d.as_bool()) == Some(true);
    let text = serde_json::to_string(&item).ok()?;
    crate::audit::replace_number(&text, phone.as_str(), "")?;
    if !finished {
        return None;
    }
    if let Some(preview) = item
        .get_mut("report")
        .and_then(|r| r.get_mut("preview"))
        .and_then(|p| p.as_array_mut())
    {
        preview.retain(|row| row.get("phone").and_then(|p| p.as_str()) != Some(phone.as_str()));
    }
    let text = serde_json::to_string(&item).ok()?;
    let text = crate::audit::replace_number(&text, phone.as_str(), ERASED).unwrap_or(text);
    serde_json::from_str(&text).ok()
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
        let records = self.records(tenant, id).await?;
        if let Some(busy) = records.iter().find(|r| !r.status.is_final()) {
            return Err(RepoError::Conflict(format!(
                "campaign {} still has a message for this contact in flight ({:?}); erase it \
                 once the campaign is done with them, or cancel the campaign",
                busy.campaign_id, busy.status
            )));
        }
        // Every number the person was messaged at, and the one they have now.
        let mut phones = vec![contact.phone.clone()];
        for record in &records {
            if !phones.contains(&record.phone) {
                phones.push(record.phone.clone());
            }
        }
        // First, so that no later failure can leave a number messageable.
        let dnc = DoNotContact::new(self.table.clone());
        let withdrew = contact.consent.status == ConsentStatus::Revoked;
        let mut kept_on_do_not_contact = false;
        for (n, phone) in phones.iter().enumerate() {
            let reason = (n == 0 && withdrew).then_some(OPTED_OUT_REASON);
            kept_on_do_not_contact |= dnc.keep_erased(tenant, phone, reason, now).await?;
        }
        // Callbacks are looked for in every campaign: they can outlive their record.
        for campaign in self.campaign_ids(tenant).await? {
            for (key, _) in self.events(tenant, &campaign, id).await? {
                self.table.delete(&key, None).await?;
            }
        }
        for record in &records {
            if let Some(sid) = &record.sid {
                self.table.delete(&keys::sid(tenant, sid), None).await?;
            }
            let key = message_key(tenant, &record.campaign_id, id);
            self.table.delete(&key, None).await?;
        }
        let audit = AuditLog::new(self.table.clone());
        let (mut replies, mut audit_entries_redacted) = (0, 0);
        for phone in &phones {
            replies += self.erase_thread(tenant, phone).await?;
            audit_entries_redacted += audit.redact(tenant, phone.as_str(), ERASED).await?;
            self.redact_imports(tenant, phone).await?;
        }
        contacts.delete(tenant, id).await?;
        Ok(Erasure {
            messages: records.len(),
            replies,
            audit_entries_redacted,
            kept_on_do_not_contact,
        })
    }

    /// Finished imports' reports that quote the number: its preview rows dropped, the number
    /// replaced in row errors. (A running import writes its report at the end; it is the
    /// tenant importing the number again.)
    async fn redact_imports(&self, tenant: &TenantId, phone: &PhoneE164) -> Result<(), RepoError> {
        for prefix in [keys::IMPORT_PREFIX, keys::IMPORT_RANGE_PREFIX] {
            let query = Query::partition(keys::tenant_partition(tenant))
                .prefix(prefix)
                .limit(100);
            for item in all_items(self.table.as_ref(), &query).await? {
                if let Some(redacted) = redacted_import(item, phone) {
                    self.table.put(redacted, None).await?;
                }
            }
        }
        Ok(())
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
        let query = Query::partition(keys::tenant_partition(tenant))
            .prefix(keys::CAMPAIGN_PREFIX)
            .limit(500);
        let mut ids = Vec::new();
        for item in all_items(self.table.as_ref(), &query).await? {
            let sk = sort_key(&item);
            if let Some(id) = sk.strip_prefix(keys::CAMPAIGN_PREFIX) {
                let id = id.parse();
                ids.push(id.map_err(|_| RepoError::Corrupt(format!("campaign key {sk}")))?);
            }
        }
        Ok(ids)
    }

    /// The status callbacks of the contact's messages in one campaign, with their keys.
    async fn events(
        &self,
        tenant: &TenantId,
        campaign: &CampaignId,
        id: &ContactId,
    ) -> Result<Vec<(Key, StatusEvent)>, RepoError> {
        let partition = keys::events_partition(tenant, campaign, shard(id));
        let query = Query::partition(partition.clone()).prefix(format!("{id}#"));
        all_items(self.table.as_ref(), &query)
            .await?
            .into_iter()
            .map(|item| {
                Ok((
                    Key::new(partition.clone(), sort_key(&item)),
                    from_item(item)?,
                ))
            })
            .collect()
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
        let query = Query::partition(partition.clone());
        Ok(all_items(self.table.as_ref(), &query)
            .await?
            .into_iter()
            .map(|item| (Key::new(partition.clone(), sort_key(&item)), item))
            .collect())
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
