//! Status callbacks: every one is kept as the message's history, and the record's delivery
//! status is worked out from all of them, so duplicates change nothing and any order of
//! arrival ends in the same state.
//!
//! A callback may come before the sender has written the SID Twilio answered with (Twilio can
//! call back within milliseconds). It is stored all the same, and the sender works the record's
//! status out again once it has written the SID: whichever of the two comes second sees both.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use smscrm_domain::delivery::{self, DeliveryStatus};
use smscrm_domain::ports::{Condition, Query, StoreError, table};
use smscrm_domain::{CampaignId, ContactId, TenantId};

use crate::codec::{from_item, to_item, with_ttl};
use crate::messages::{MessageRecord, MessageStatus, Messages, shard};
use crate::{RepoError, keys};

/// Attempts when a concurrent callback moved the record first.
const MAX_ATTEMPTS: usize = 10;

/// One status callback, as Twilio sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusEvent {
    pub sid: String,
    pub status: DeliveryStatus,
    pub error_code: Option<u32>,
    pub received_at: DateTime<Utc>,
    /// Every parameter of the callback, for whoever needs to look closer.
    pub params: BTreeMap<String, String>,
}

/// What a callback did to its record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    /// The delivery status moved (counts with it).
    Moved {
        from: Option<DeliveryStatus>,
        to: DeliveryStatus,
    },
    /// Nothing new: a duplicate, an older status, or a final status already reached.
    Unchanged,
    /// The record has not got this SID yet: the sender applies it once it has.
    Pending,
    /// No such record.
    Unknown,
}

/// Where one callback of a message is kept.
fn event_key(
    tenant: &TenantId,
    campaign: &CampaignId,
    contact: &ContactId,
    event: &StatusEvent,
) -> smscrm_domain::ports::Key {
    keys::event(
        tenant,
        campaign,
        shard(contact),
        contact,
        &event.sid,
        event.status.as_str(),
    )
}

impl Messages {
    /// Keeps a callback in the message's history until `expires_at`; `false` if the same
    /// status of the same message was kept before.
    pub async fn record_event(
        &self,
        tenant: &TenantId,
        campaign: &CampaignId,
        contact: &ContactId,
        event: &StatusEvent,
        expires_at: DateTime<Utc>,
    ) -> Result<bool, RepoError> {
        let key = event_key(tenant, campaign, contact, event);
        let item = with_ttl(to_item(event, &key, "status_event")?, expires_at);
        let absent = Condition::AttrNotExists(table::PK.into());
        match self.table().put(item, Some(absent)).await {
            Ok(()) => Ok(true),
            Err(StoreError::ConditionFailed) => Ok(false),
            Err(other) => Err(other.into()),
        }
    }

    /// Takes back a callback kept for a record that turned out not to exist.
    pub async fn forget_event(
        &self,
        tenant: &TenantId,
        campaign: &CampaignId,
        contact: &ContactId,
        event: &StatusEvent,
    ) -> Result<(), RepoError> {
        let key = event_key(tenant, campaign, contact, event);
        self.table().delete(&key, None).await?;
        Ok(())
    }

    /// A message's callbacks, by status name.
    pub async fn events(
        &self,
        tenant: &TenantId,
        campaign: &CampaignId,
        contact: &ContactId,
        sid: &str,
    ) -> Result<Vec<StatusEvent>, RepoError> {
        let page = self
            .table()
            .query(
                &Query::partition(keys::events_partition(tenant, campaign, shard(contact)))
                    .prefix(keys::events_prefix(contact, sid)),
            )
            .await?;
        page.items.into_iter().map(from_item).collect()
    }

    /// Works the record's delivery status out from its callbacks, and moves it (and its
    /// campaign's counts) if they take it further.
    pub async fn apply_events(
        &self,
        tenant: &TenantId,
        campaign: &CampaignId,
        contact: &ContactId,
    ) -> Result<Applied, RepoError> {
        for _ in 0..MAX_ATTEMPTS {
            let Some(record) = self.get(tenant, campaign, contact).await? else {
                return Ok(Applied::Unknown);
            };
            let (MessageStatus::Sent, Some(sid)) = (record.status, record.sid.as_deref()) else {
                return Ok(Applied::Pending);
            };
            let events = self.events(tenant, campaign, contact, sid).await?;
            let Some(updated) = fold(&record, &events) else {
                return Ok(Applied::Unchanged);
            };
            if self.transition(tenant, &record, &updated, None).await? {
                return Ok(Applied::Moved {
                    from: record.delivery,
                    to: updated.delivery.unwrap_or(DeliveryStatus::Queued),
                });
            }
        }
        Err(RepoError::Store(StoreError::Unavailable(
            "the message is being updated by others; try again".into(),
        )))
    }
}

/// The record as its callbacks leave it, if they move it: the furthest status heard (a final
/// one first heard wins over another), with that status's error code.
pub fn fold(record: &MessageRecord, events: &[StatusEvent]) -> Option<MessageRecord> {
    let mut ordered: Vec<&StatusEvent> = events.iter().collect();
    ordered.sort_by_key(|e| e.received_at);
    let mut updated = record.clone();
    let mut moved = false;
    for event in ordered {
        if let Some(next) = delivery::advance(updated.delivery, event.status) {
            updated.delivery = Some(next);
            if next.is_final() {
                updated.delivery_error_code = event.error_code;
                updated.delivery_final_at = Some(event.received_at);
            }
            moved = true;
        }
    }
    moved.then_some(updated)
}

#[cfg(test)]
mod tests {
    use super::*;
    use smscrm_domain::PhoneE164;
    use smscrm_domain::delivery::DeliveryStatus::*;

    fn sent() -> MessageRecord {
        let mut record = MessageRecord::new(
            CampaignId::generate(),
            ContactId::generate(),
            PhoneE164::parse("+12125550100", "US".parse().expect("region")).expect("phone"),
            Utc::now(),
        );
        record.status = MessageStatus::Sent;
        record.sid = Some("SM1".into());
        record.delivery = Some(Queued);
        record
    }

    fn event(status: DeliveryStatus, code: Option<u32>, second: i64) -> StatusEvent {
        StatusEvent {
            sid: "SM1".into(),
            status,
            error_code: code,
            received_at: DateTime::from_timestamp(1_700_000_000 + second, 0).expect("time"),
            params: BTreeMap::new(),
        }
    }

    #[test]
    fn the_furthest_status_wins_whatever_the_order() {
        let events = [
            event(Undelivered, Some(30007), 1),
            event(Sent, None, 2),
            event(Queued, None, 3),
        ];
        let folded = fold(&sent(), &events).expect("moves");
        assert_eq!(folded.delivery, Some(Undelivered));
        assert_eq!(folded.delivery_error_code, Some(30007));
        assert_eq!(
            folded.count_names(),
            ["sent", "delivery__undelivered", "delivery_error__30007"]
        );
        // Nothing further to learn from the same callbacks again.
        assert_eq!(fold(&folded, &events), None);
    }

    #[test]
    fn a_final_status_is_never_left() {
        let mut done = sent();
        done.delivery = Some(Delivered);
        assert_eq!(fold(&done, &[event(Failed, Some(30008), 1)]), None);
    }
}
