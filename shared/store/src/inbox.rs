//! What people text back: each number's conversation with the tenant (a thread), the
//! tenant's inbox of threads, newest first, and which campaign a reply answers (the last one
//! that messaged the number).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use smscrm_domain::keywords::Keyword;
use smscrm_domain::ports::{
    Condition, Cursor, Index, Query, StoreError, Table, TransactOp, Update, table,
};
use smscrm_domain::{CampaignId, ContactId, PhoneE164, TenantId};

use crate::codec::{from_item, to_item, with_ttl};
use crate::messages::{OPTED_OUT, REPLIED, shard};
use crate::{RepoError, keys};

/// The last campaign message sent to a number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastOutbound {
    pub campaign_id: CampaignId,
    pub contact_id: ContactId,
    pub sid: String,
    pub at: DateTime<Utc>,
}

/// A message someone texted to one of the tenant's numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundMessage {
    /// Twilio's `MessageSid`.
    pub sid: String,
    pub from: PhoneE164,
    /// The tenant's number it was sent to.
    pub to: String,
    pub body: String,
    pub received_at: DateTime<Utc>,
    /// STOP, START or HELP (and their kin), when the whole body is one.
    pub keyword: Option<Keyword>,
    /// The contact with this number, if there is one.
    pub contact_id: Option<ContactId>,
    /// The campaign it answers: the last one that messaged the number.
    pub campaign_id: Option<CampaignId>,
    pub num_segments: Option<u32>,
}

/// A number's conversation, as the inbox lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thread {
    pub phone: PhoneE164,
    pub contact_id: Option<ContactId>,
    pub last_body: String,
    pub last_keyword: Option<Keyword>,
    pub last_at: DateTime<Utc>,
    pub last_campaign_id: Option<CampaignId>,
    /// Messages received from the number.
    pub received: u64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Listed<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<Cursor>,
}

impl<T: serde::de::DeserializeOwned> Listed<T> {
    /// A query's page, its items decoded.
    pub(crate) fn from_page(page: smscrm_domain::ports::table::Page) -> Result<Self, RepoError> {
        Ok(Self {
            items: page
                .items
                .into_iter()
                .map(from_item)
                .collect::<Result<_, _>>()?,
            next_cursor: page.next_cursor,
        })
    }
}

#[derive(Clone)]
pub struct Inbox {
    table: Arc<dyn Table>,
}

impl Inbox {
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    pub async fn last_outbound(
        &self,
        tenant: &TenantId,
        phone: &PhoneE164,
    ) -> Result<Option<LastOutbound>, RepoError> {
        self.table
            .get(&keys::last_outbound(tenant, phone))
            .await?
            .map(from_item)
            .transpose()
    }

    /// Whether this inbound message was recorded already (Twilio retries).
    pub async fn seen(
        &self,
        tenant: &TenantId,
        phone: &PhoneE164,
        sid: &str,
    ) -> Result<bool, RepoError> {
        Ok(self
            .table
            .get(&keys::thread_seen(tenant, phone, sid))
            .await?
            .is_some())
    }

    /// Records an inbound message in its thread and the inbox, and counts it against the
    /// campaign it answers (a reply, or a STOP), all at once and only once: `false` if it was
    /// recorded before.
    pub async fn record(
        &self,
        tenant: &TenantId,
        message: &InboundMessage,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, RepoError> {
        let phone = &message.from;
        let at = keys::sort_time(message.received_at);
        let seen = with_ttl(
            to_item(
                &serde_json::json!({ "at": message.received_at }),
                &keys::thread_seen(tenant, phone, &message.sid),
                "inbound_seen",
            )?,
            expires_at,
        );
        let mut ops = vec![
            TransactOp::Put {
                item: seen,
                condition: Some(Condition::AttrNotExists(table::PK.into())),
            },
            TransactOp::Put {
                item: with_ttl(
                    to_item(
                        message,
                        &keys::thread_message(tenant, phone, &at, &message.sid),
                        "inbound",
                    )?,
                    expires_at,
                ),
                condition: None,
            },
            // The summary quotes the last message: it goes when that message goes.
            TransactOp::Update {
                key: keys::thread(tenant, phone),
                update: thread_update(tenant, message, &at)?
                    .set(table::TTL, expires_at.timestamp()),
                condition: None,
            },
        ];
        if let Some(campaign) = &message.campaign_id
            && let Some(counter) = campaign_counter(message.keyword)
        {
            // Any shard's counter item adds up to the campaign's counts.
            let counter_shard = message.contact_id.as_ref().map_or(0, shard);
            ops.push(TransactOp::Update {
                key: keys::dispatch_changes_shard(tenant, campaign, counter_shard),
                update: Update::new().add(counter, 1),
                condition: None,
            });
        }
        match crate::conflicts::transact(self.table.as_ref(), ops, "campaign counters").await? {
            Ok(()) => Ok(true),
            Err(failed) if failed.contains(&0) => Ok(false),
            Err(failed) => Err(RepoError::Store(StoreError::TransactionCanceled { failed })),
        }
    }

    /// The tenant's threads, the one with the newest message first.
    pub async fn threads(
        &self,
        tenant: &TenantId,
        after: Option<Cursor>,
        limit: u32,
    ) -> Result<Listed<Thread>, RepoError> {
        let page = self
            .table
            .query(
                &Query::partition(keys::inbox_index(tenant))
                    .on(Index::Gsi1)
                    .backward()
                    .limit(limit)
                    .after(after),
            )
            .await?;
        Listed::from_page(page)
    }

    pub async fn thread(
        &self,
        tenant: &TenantId,
        phone: &PhoneE164,
    ) -> Result<Option<Thread>, RepoError> {
        self.table
            .get(&keys::thread(tenant, phone))
            .await?
            .map(from_item)
            .transpose()
    }

    /// A thread's messages, newest first.
    pub async fn messages(
        &self,
        tenant: &TenantId,
        phone: &PhoneE164,
        after: Option<Cursor>,
        limit: u32,
    ) -> Result<Listed<InboundMessage>, RepoError> {
        let page = self
            .table
            .query(
                &Query::partition(keys::thread_partition(tenant, phone))
                    .prefix(keys::THREAD_MESSAGE_PREFIX)
                    .backward()
                    .limit(limit)
                    .after(after),
            )
            .await?;
        Listed::from_page(page)
    }
}

/// Which campaign count a message adds to: replies, and STOPs; START and HELP to none.
fn campaign_counter(keyword: Option<Keyword>) -> Option<&'static str> {
    match keyword {
        None => Some(REPLIED),
        Some(Keyword::Stop) => Some(OPTED_OUT),
        Some(Keyword::Start | Keyword::Help) => None,
    }
}

/// The thread's summary after `message`, listed under its time in the inbox.
fn thread_update(
    tenant: &TenantId,
    message: &InboundMessage,
    at: &str,
) -> Result<Update, RepoError> {
    let json =
        |value: serde_json::Result<Value>| value.map_err(|e| RepoError::Corrupt(e.to_string()));
    Ok(Update::new()
        .set("phone", message.from.as_str())
        .set(
            "contact_id",
            json(serde_json::to_value(&message.contact_id))?,
        )
        .set("last_body", message.body.as_str())
        .set("last_keyword", json(serde_json::to_value(message.keyword))?)
        .set("last_at", json(serde_json::to_value(message.received_at))?)
        .set(
            "last_campaign_id",
            json(serde_json::to_value(&message.campaign_id))?,
        )
        .set("type", "thread")
        .add("received", 1)
        .set(table::GSI1_PK, keys::inbox_index(tenant))
        .set(table::GSI1_SK, format!("{at}#{}", message.from)))
}
