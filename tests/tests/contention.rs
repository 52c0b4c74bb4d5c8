//! Writes that share a campaign's hot counter items lose races to one another: DynamoDB cancels
//! the loser with `TransactionConflict` (no condition failed). Neither store here races (SQLite
//! and moto run one write at a time), so the conflicts are injected: a reply, a STOP and a
//! delivery receipt must each still be written, once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use chrono::Utc;
use smscrm_domain::keywords::Keyword;
use smscrm_domain::ports::table::{Item, Key, Page, Query, TransactOp, Update};
use smscrm_domain::ports::{Condition, StoreError, Table};
use smscrm_domain::{CampaignId, ContactId, PhoneE164, TenantId};
use smscrm_store::{Dispatches, InboundMessage, Inbox};

/// The embedded store, with the next `conflicts` transactions cancelled as DynamoDB cancels one
/// that lost a race.
struct Contended {
    inner: smscrm_local::SqliteTable,
    conflicts: AtomicUsize,
}

#[async_trait]
impl Table for Contended {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.inner.get(key).await
    }
    async fn batch_get(&self, keys: &[Key]) -> Result<Vec<Item>, StoreError> {
        self.inner.batch_get(keys).await
    }
    async fn put(&self, item: Item, condition: Option<Condition>) -> Result<(), StoreError> {
        self.inner.put(item, condition).await
    }
    async fn update(
        &self,
        key: &Key,
        update: Update,
        condition: Option<Condition>,
    ) -> Result<Item, StoreError> {
        self.inner.update(key, update, condition).await
    }
    async fn delete(
        &self,
        key: &Key,
        condition: Option<Condition>,
    ) -> Result<Option<Item>, StoreError> {
        self.inner.delete(key, condition).await
    }
    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        self.inner.query(query).await
    }
    async fn batch_put(&self, items: Vec<Item>) -> Result<(), StoreError> {
        self.inner.batch_put(items).await
    }
    async fn transact(&self, ops: Vec<TransactOp>) -> Result<(), StoreError> {
        let lost = self
            .conflicts
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        if lost.is_ok() {
            return Err(StoreError::TransactionCanceled { failed: Vec::new() });
        }
        self.inner.transact(ops).await
    }
}

fn contended(dir: &tempfile::TempDir, conflicts: usize) -> Arc<Contended> {
    Arc::new(Contended {
        inner: smscrm_local::SqliteTable::open(&dir.path().join("store.db")).expect("store"),
        conflicts: AtomicUsize::new(conflicts),
    })
}

fn inbound(
    sid: &str,
    body: &str,
    keyword: Option<Keyword>,
    campaign: &CampaignId,
) -> InboundMessage {
    InboundMessage {
        sid: sid.into(),
        from: PhoneE164::from_e164("+12125550142").expect("phone"),
        to: "+14155550100".into(),
        body: body.into(),
        received_at: Utc::now(),
        keyword,
        contact_id: Some(ContactId::generate()),
        campaign_id: Some(campaign.clone()),
        num_segments: Some(1),
    }
}

#[tokio::test]
async fn replies_and_stops_that_lose_a_race_for_the_counters_are_kept_and_counted_once() {
    let dir = tempfile::tempdir().expect("dir");
    let table = contended(&dir, 5);
    let inbox = Inbox::new(table.clone());
    let (tenant, campaign) = (TenantId::generate(), CampaignId::generate());

    let reply = inbound("SM01", "What time do you open?", None, &campaign);
    assert!(
        inbox
            .record(&tenant, &reply, kept_until())
            .await
            .expect("kept")
    );
    let stop = inbound("SM02", "STOP", Some(Keyword::Stop), &campaign);
    table.conflicts.store(3, Ordering::SeqCst);
    assert!(
        inbox
            .record(&tenant, &stop, kept_until())
            .await
            .expect("kept")
    );
    // Twilio delivering the same message again changes nothing.
    assert!(
        !inbox
            .record(&tenant, &reply, kept_until())
            .await
            .expect("read")
    );

    let changes = Dispatches::new(table.clone())
        .changes(&tenant, &campaign)
        .await
        .expect("counts");
    assert_eq!(changes.get("replied"), Some(&1), "{changes:?}");
    assert_eq!(changes.get("opted_out"), Some(&1), "{changes:?}");
    let thread = inbox
        .thread(&tenant, &reply.from)
        .await
        .expect("read")
        .expect("thread");
    assert_eq!(thread.last_body, "STOP");
}

#[tokio::test]
async fn endless_conflicts_are_an_error_to_retry_not_a_silent_loss() {
    let dir = tempfile::tempdir().expect("dir");
    let table = contended(&dir, usize::MAX);
    let inbox = Inbox::new(table.clone());
    let (tenant, campaign) = (TenantId::generate(), CampaignId::generate());
    let reply = inbound("SM01", "Hello?", None, &campaign);
    let refused = inbox.record(&tenant, &reply, kept_until()).await;
    assert!(
        matches!(
            &refused,
            Err(smscrm_store::RepoError::Store(StoreError::Unavailable(_)))
        ),
        "{refused:?}"
    );
}

/// A year from now: the tenant's default retention.
fn kept_until() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now() + chrono::Duration::days(365)
}
