//! Status callbacks in any order, any number of times, some before the sender has written
//! the message's SID, some at once: every message ends in the status of its furthest
//! callback, and the campaign's counts move exactly once per move. On the embedded store and
//! on DynamoDB (moto).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use futures::future::join_all;
use rand::rngs::StdRng;
use rand::seq::SliceRandom as _;
use rand::{Rng as _, SeedableRng as _};
use smscrm_domain::delivery::DeliveryStatus::{self, *};
use smscrm_domain::{CampaignId, ContactId, PhoneE164, TenantId};
use smscrm_store::{Applied, Dispatches, MessageRecord, MessageStatus, Messages, StatusEvent};
use smscrm_tests::backend_scenarios;
use smscrm_tests::backends::Backend;

backend_scenarios!(
    random_orders_and_repeats_end_in_the_furthest_status_counted_once,
    callbacks_before_the_sid_is_written_are_applied_by_the_sender,
    callbacks_arriving_together_move_a_message_once,
);

/// What Twilio sends over a message's life: each status once, in the order they happen.
fn lifecycle(last: DeliveryStatus) -> Vec<(DeliveryStatus, Option<u32>)> {
    let code = match last {
        Undelivered => Some(30007),
        Failed => Some(30008),
        _ => None,
    };
    vec![(Queued, None), (Sending, None), (Sent, None), (last, code)]
}

struct Campaign {
    tenant: TenantId,
    campaign: CampaignId,
    messages: Messages,
    dispatches: Dispatches,
}

impl Campaign {
    fn new(backend: &dyn Backend) -> Self {
        Self {
            tenant: TenantId::generate(),
            campaign: CampaignId::generate(),
            messages: Messages::new(backend.table()),
            dispatches: Dispatches::new(backend.table()),
        }
    }

    /// A record the sender has claimed (no SID yet); `sent` writes it sent, as the sender does.
    async fn claimed(&self, n: usize) -> MessageRecord {
        let mut record = MessageRecord::new(
            self.campaign.clone(),
            ContactId::generate(),
            PhoneE164::from_e164(&format!("+1212555{:04}", n)).expect("phone"),
            Utc::now(),
        );
        record.status = MessageStatus::Claimed;
        record.attempts = 1;
        self.messages
            .put_new(&self.tenant, std::slice::from_ref(&record))
            .await
            .expect("record");
        record
    }

    async fn sent(&self, claimed: &MessageRecord, sid: &str) {
        let mut sent = claimed.clone();
        sent.status = MessageStatus::Sent;
        sent.sid = Some(sid.into());
        sent.delivery = Some(Queued);
        assert!(
            self.messages
                .mark_sent(&self.tenant, claimed, &sent)
                .await
                .expect("sent")
        );
        self.messages
            .apply_events(&self.tenant, &self.campaign, &claimed.contact_id)
            .await
            .expect("apply");
    }

    /// One callback, handled as the webhook handles it.
    async fn callback(
        &self,
        contact: &ContactId,
        sid: &str,
        (status, code): (DeliveryStatus, Option<u32>),
        at: DateTime<Utc>,
    ) -> Applied {
        let event = StatusEvent {
            sid: sid.into(),
            status,
            error_code: code,
            received_at: at,
            params: BTreeMap::from([("MessageStatus".to_owned(), status.to_string())]),
        };
        self.messages
            .record_event(
                &self.tenant,
                &self.campaign,
                contact,
                &event,
                at + chrono::Duration::days(365),
            )
            .await
            .expect("event");
        self.messages
            .apply_events(&self.tenant, &self.campaign, contact)
            .await
            .expect("apply")
    }

    async fn delivery(&self, contact: &ContactId) -> (Option<DeliveryStatus>, Option<u32>) {
        let record = self
            .messages
            .get(&self.tenant, &self.campaign, contact)
            .await
            .expect("read")
            .expect("record");
        (record.delivery, record.delivery_error_code)
    }

    async fn changes(&self) -> BTreeMap<String, i64> {
        let mut changes = self
            .dispatches
            .changes(&self.tenant, &self.campaign)
            .await
            .expect("changes");
        changes.retain(|_, n| *n != 0);
        changes
    }
}

async fn random_orders_and_repeats_end_in_the_furthest_status_counted_once(backend: &dyn Backend) {
    let c = Campaign::new(backend);
    let mut rng = StdRng::seed_from_u64(20261122);
    let finals = [Delivered, Undelivered, Failed];
    let mut expected: BTreeMap<String, i64> = BTreeMap::new();
    for n in 0..20 {
        let claimed = c.claimed(n).await;
        let sid = format!("SM{n:032}");
        c.sent(&claimed, &sid).await;
        let planned = finals[rng.random_range(0..finals.len())];
        // Some callbacks lost, some repeated, all shuffled; now and then a contradicting
        // final status too (the first final status heard stays).
        let mut callbacks: Vec<_> = lifecycle(planned)
            .into_iter()
            .filter(|&(status, _)| status == planned || rng.random_bool(0.7))
            .collect();
        for _ in 0..rng.random_range(0..3) {
            let again = callbacks[rng.random_range(0..callbacks.len())];
            callbacks.push(again);
        }
        if rng.random_bool(0.3) {
            let other = finals[rng.random_range(0..finals.len())];
            callbacks.push(lifecycle(other)[3]);
        }
        callbacks.shuffle(&mut rng);
        let start = Utc::now();
        for (i, callback) in callbacks.iter().enumerate() {
            c.callback(
                &claimed.contact_id,
                &sid,
                *callback,
                start + Duration::milliseconds(i as i64),
            )
            .await;
        }
        let (last, code) = callbacks
            .iter()
            .copied()
            .find(|(status, _)| status.is_final())
            .expect("a final status");
        assert_eq!(
            c.delivery(&claimed.contact_id).await,
            (Some(last), code),
            "{callbacks:?}"
        );
        *expected.entry(format!("delivery__{last}")).or_default() += 1;
        if let Some(code) = code {
            *expected
                .entry(format!("delivery_error__{code}"))
                .or_default() += 1;
        }
        // Claimed to sent.
        *expected.entry("queued".into()).or_default() -= 1;
        *expected.entry("sent".into()).or_default() += 1;
    }
    expected.retain(|_, n| *n != 0);
    assert_eq!(c.changes().await, expected);
}

async fn callbacks_before_the_sid_is_written_are_applied_by_the_sender(backend: &dyn Backend) {
    let c = Campaign::new(backend);
    let claimed = c.claimed(1).await;
    let sid = "SM00000000000000000000000000000001";
    let now = Utc::now();
    // Twilio answers fast: its callbacks come while the sender is still writing the SID.
    for (i, callback) in lifecycle(Delivered).into_iter().rev().enumerate() {
        let applied = c
            .callback(
                &claimed.contact_id,
                sid,
                callback,
                now + Duration::milliseconds(i as i64),
            )
            .await;
        assert_eq!(applied, Applied::Pending);
    }
    assert_eq!(c.delivery(&claimed.contact_id).await, (None, None));
    c.sent(&claimed, sid).await;
    assert_eq!(
        c.delivery(&claimed.contact_id).await,
        (Some(Delivered), None)
    );
    assert_eq!(
        c.changes().await,
        BTreeMap::from([
            ("delivery__delivered".to_owned(), 1),
            ("queued".to_owned(), -1),
            ("sent".to_owned(), 1)
        ])
    );
    // A callback for a message with no record is refused by the webhook (not found).
    let stranger = ContactId::generate();
    assert_eq!(
        c.callback(&stranger, "SM9", (Delivered, None), now).await,
        Applied::Unknown
    );
}

async fn callbacks_arriving_together_move_a_message_once(backend: &dyn Backend) {
    let c = Campaign::new(backend);
    let mut records = Vec::new();
    for n in 0..4 {
        let claimed = c.claimed(n).await;
        let sid = format!("SM{n:032}");
        c.sent(&claimed, &sid).await;
        records.push((claimed.contact_id, sid));
    }
    let now = Utc::now();
    let c = &c;
    let mut all = Vec::new();
    for (contact, sid) in &records {
        let mut callbacks = lifecycle(Undelivered);
        callbacks.extend(lifecycle(Undelivered));
        all.extend(
            callbacks
                .into_iter()
                .map(|callback| c.callback(contact, sid, callback, now)),
        );
    }
    join_all(all).await;
    for (contact, _) in &records {
        assert_eq!(c.delivery(contact).await, (Some(Undelivered), Some(30007)));
    }
    assert_eq!(
        c.changes().await,
        BTreeMap::from([
            ("delivery__undelivered".to_owned(), 4),
            ("delivery_error__30007".to_owned(), 4),
            ("queued".to_owned(), -4),
            ("sent".to_owned(), 4)
        ])
    );
}
