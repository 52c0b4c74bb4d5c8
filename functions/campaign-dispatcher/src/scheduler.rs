//! The scheduler's tick (every minute: an EventBridge rule on AWS, a timer in `smscrm serve`):
//! starts scheduled campaigns whose time has come, and releases held messages whose release
//! time has: a quiet-hours hold when the recipient's window opens, a budget hold when the cap
//! resets. Released messages pass the gates that can have changed since the
//! fan-out: the campaign still sending, the tenant's kill switch, the window, the budget.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use smscrm_domain::campaign::{Action, CampaignStatus};
use smscrm_domain::ports::{Clock, Queue};
use smscrm_domain::quiet_hours::{self, Window};
use smscrm_domain::{CampaignId, Tenant, TenantId};
use smscrm_store::messages::SHARDS;
use smscrm_store::{
    ActError, Budgets, Campaigns, Dispatches, MessageRecord, MessageStatus, Messages, Refund,
    RepoError, ReserveError, Tenants,
};

use crate::{DispatchError, DispatchJob, SendWork, enqueue, queue_send_work};

/// Index entries read per query: a tick handles at most this many of each kind per shard, the
/// rest the next tick.
const DUE_PER_TICK: u32 = 500;
/// A held record of a paused campaign (or tenant) is looked at again this much later.
const PAUSED_RECHECK_MINUTES: i64 = 15;
/// A sending campaign whose fan-out has not progressed (no live lease, not done) this long
/// after it started is queued again.
const STALLED_AFTER: std::time::Duration = std::time::Duration::from_secs(2 * 60);

pub struct Scheduler {
    pub tenants: Tenants,
    pub campaigns: Campaigns,
    pub messages: Messages,
    pub dispatches: Dispatches,
    pub budgets: Budgets,
    pub dispatch: Arc<dyn Queue>,
    pub sends: Arc<dyn Queue>,
    pub clock: Arc<dyn Clock>,
}

/// What one tick did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tick {
    pub started: usize,
    pub released: usize,
    /// Due, but held again (window closed, budget still spent) or left (campaign or tenant
    /// paused).
    pub kept: usize,
    /// Held for a campaign that was cancelled: skipped for good.
    pub dropped: usize,
    /// Held records whose release failed this tick (logged; retried next tick).
    pub failed: usize,
    /// Sending campaigns whose fan-out was queued again: its job was lost, or it stopped while
    /// the tenant's kill switch was on.
    pub redispatched: usize,
}

impl Scheduler {
    pub async fn tick(&self) -> Result<Tick, DispatchError> {
        let now = self.clock.now();
        let mut tick = Tick::default();
        self.start_due_campaigns(now, &mut tick).await?;
        self.redispatch_stalled(now, &mut tick).await?;
        self.resume_parked(&mut tick).await?;
        let mut context = Context::default();
        for shard in 0..SHARDS {
            for (tenant, record) in self.messages.due(shard, now, DUE_PER_TICK).await? {
                // One record's trouble must not hold up everyone else's: it stays due and is
                // tried again next tick.
                if let Err(e) = self
                    .release(&mut context, &tenant, record, now, &mut tick)
                    .await
                {
                    tracing::warn!(error = %e, tenant_id = %tenant, "releasing a held message failed");
                    tick.failed += 1;
                }
            }
        }
        // A dropped record may have been the last one a campaign waited for.
        for (tenant, campaign) in std::mem::take(&mut context.dropped_from) {
            crate::complete_if_settled(&self.campaigns, &self.dispatches, &tenant, &campaign, now)
                .await?;
        }
        Ok(tick)
    }

    /// Campaigns whose sends stopped at the tenant's kill switch or a pause: once they may
    /// send again (or are cancelled: their reservations go back), a dispatch job queues their
    /// waiting records' send work again.
    async fn resume_parked(&self, tick: &mut Tick) -> Result<(), DispatchError> {
        for (tenant_id, campaign_id) in self.messages.parked(DUE_PER_TICK).await? {
            let tenant = self.tenants.get(&tenant_id).await?;
            let campaign = self.campaigns.get(&tenant_id, &campaign_id).await?;
            let paused = tenant.as_ref().is_none_or(|t| t.paused);
            match campaign.map(|c| c.status) {
                Some(CampaignStatus::Sending) if !paused => {}
                Some(CampaignStatus::Cancelled) => {}
                // Paused, scheduled again, or the kill switch still on: it waits (a resume
                // queues its own job).
                Some(
                    CampaignStatus::Sending | CampaignStatus::Paused | CampaignStatus::Scheduled,
                ) => {
                    continue;
                }
                // Gone or completed: nothing is left to send.
                _ => {
                    if let Some(at) = self.messages.parked_at(&tenant_id, &campaign_id).await? {
                        self.messages.unpark(&tenant_id, &campaign_id, at).await?;
                    }
                    continue;
                }
            }
            // The dispatcher removes the mark once the work is queued.
            let job = DispatchJob {
                tenant_id,
                campaign_id,
            };
            enqueue(self.dispatch.as_ref(), &job).await?;
            tick.redispatched += 1;
        }
        Ok(())
    }

    async fn start_due_campaigns(
        &self,
        now: DateTime<Utc>,
        tick: &mut Tick,
    ) -> Result<(), DispatchError> {
        for due in self.campaigns.due(now, DUE_PER_TICK).await? {
            match self
                .campaigns
                .act(&due.tenant_id, &due.campaign_id, Action::Start, None, now)
                .await
            {
                Ok(_) => {
                    let job = DispatchJob {
                        tenant_id: due.tenant_id,
                        campaign_id: due.campaign_id,
                    };
                    enqueue(self.dispatch.as_ref(), &job).await?;
                    tick.started += 1;
                }
                // Paused, cancelled or started by another tick since the index was read.
                Err(ActError::Illegal(_)) | Err(ActError::Repo(RepoError::NotFound)) => {}
                Err(ActError::Repo(e)) => return Err(e.into()),
            }
        }
        Ok(())
    }

    /// A sending campaign whose fan-out is unfinished and unleased gets its job again. Only
    /// campaigns that started a while ago: a fresh job may still be waiting in the queue.
    async fn redispatch_stalled(
        &self,
        now: DateTime<Utc>,
        tick: &mut Tick,
    ) -> Result<(), DispatchError> {
        let started_before = now - chrono::Duration::from_std(STALLED_AFTER).unwrap_or_default();
        for campaign in self.campaigns.sending(started_before, DUE_PER_TICK).await? {
            let (tenant_id, campaign_id) = (&campaign.tenant_id, &campaign.campaign_id);
            let state = self.dispatches.get(tenant_id, campaign_id).await?;
            let idle = state.as_ref().is_none_or(|s| {
                !s.done
                    && s.lease_until
                        .is_none_or(|until| until < now.timestamp_millis())
            });
            if state.as_ref().is_some_and(|s| s.done) {
                // Sent out: it completes once nothing is left (the sender completes it too;
                // this catches a completion that failed).
                // One campaign's trouble must not stop the tick: logged, tried next tick.
                if let Err(e) = crate::complete_if_settled(
                    &self.campaigns,
                    &self.dispatches,
                    tenant_id,
                    campaign_id,
                    now,
                )
                .await
                {
                    tracing::warn!(error = %e, tenant_id = %tenant_id, campaign_id = %campaign_id, "completing a campaign failed");
                }
                continue;
            }
            let paused = self.tenants.get(tenant_id).await?.is_none_or(|t| t.paused);
            if idle && !paused {
                let job = DispatchJob {
                    tenant_id: tenant_id.clone(),
                    campaign_id: campaign_id.clone(),
                };
                enqueue(self.dispatch.as_ref(), &job).await?;
                tick.redispatched += 1;
            }
        }
        Ok(())
    }

    async fn release(
        &self,
        context: &mut Context,
        tenant_id: &TenantId,
        read: MessageRecord,
        now: DateTime<Utc>,
        tick: &mut Tick,
    ) -> Result<(), DispatchError> {
        let mut record = read.clone();
        let tenant = context.tenant(&self.tenants, tenant_id).await?;
        let status = context
            .campaign_status(&self.campaigns, tenant_id, &record.campaign_id)
            .await?;
        let Some(tenant) = tenant else {
            return self
                .drop_held(context, tenant_id, &read, "tenant_missing", tick)
                .await;
        };
        match status {
            Some(CampaignStatus::Sending) if !tenant.paused => {}
            Some(CampaignStatus::Cancelled | CampaignStatus::Completed) | None => {
                return self
                    .drop_held(context, tenant_id, &read, "campaign_cancelled", tick)
                    .await;
            }
            // Paused (the campaign or the tenant): looked at again later, and out of the way of
            // the records behind it in the index meanwhile.
            _ => {
                record.release_at = Some(now + chrono::Duration::minutes(PAUSED_RECHECK_MINUTES));
                self.messages
                    .transition(tenant_id, &read, &record, None)
                    .await?;
                tick.kept += 1;
                return Ok(());
            }
        }
        let zone = tenant.timezone.parse().unwrap_or(chrono_tz::UTC);
        let recipient_zone = quiet_hours::zone_for(&record.phone, zone);
        match quiet_hours::window(now, recipient_zone, tenant.quiet_hours) {
            Window::Closed {
                opens_at,
                send_before,
            } => {
                record.reason = Some("quiet_hours".into());
                record.release_at = Some(opens_at);
                record.send_before = Some(send_before);
            }
            // A record held again after an attempt that may have reached Twilio keeps its
            // reservation: none is made twice.
            Window::Open { send_before } if read.reserved_at.is_some() => {
                record.send_before = Some(send_before);
                record.status = MessageStatus::Queued;
                record.reason = None;
                record.release_at = None;
            }
            Window::Open { send_before } => {
                record.send_before = Some(send_before);
                // Held records were not reserved at the fan-out: they are now.
                let reserved = self
                    .budgets
                    .reserve(&tenant.id, tenant.budget, zone, record.cost_millicents, now)
                    .await;
                match reserved {
                    Ok(()) => {
                        record.status = MessageStatus::Queued;
                        record.reason = None;
                        record.release_at = None;
                        record.reserved_at = Some(now);
                    }
                    Err(ReserveError::OverBudget(over)) if over.exceeds_cap => {
                        return self
                            .drop_held(context, tenant_id, &read, "over_cap", tick)
                            .await;
                    }
                    Err(ReserveError::OverBudget(over)) => {
                        record.reason = Some("budget".into());
                        record.release_at = Some(over.resets_at);
                    }
                    Err(ReserveError::Repo(e)) => return Err(e.into()),
                }
            }
        }
        if record.status == MessageStatus::Queued {
            // Send work before the record leaves the held index: if queueing fails, the record
            // is still held and due, and the next tick tries again (send work is at least once;
            // the sender waits for a due held record and sends a record once).
            let work = SendWork {
                tenant_id: tenant_id.clone(),
                campaign_id: record.campaign_id.clone(),
                contact_id: record.contact_id.clone(),
            };
            if let Err(error) = queue_send_work(self.sends.as_ref(), vec![work]).await {
                // The record stays held and the next tick reserves again: this tick's
                // reservation goes back, or the budget would count the message twice.
                if let Some(refund) = Refund::of(&record, zone)
                    .filter(|_| record.reserved_at == Some(now) && read.reserved_at.is_none())
                {
                    self.budgets.refund(&tenant.id, refund).await?;
                }
                return Err(error);
            }
        }
        // The record, its counts and nothing else move together; a record another tick moved
        // first is left to it, and this tick's reservation given back.
        if !self
            .messages
            .transition(tenant_id, &read, &record, None)
            .await?
        {
            if let Some(refund) =
                Refund::of(&record, zone).filter(|_| record.reserved_at == Some(now))
            {
                self.budgets.refund(&tenant.id, refund).await?;
            }
            return Ok(());
        }
        if record.status == MessageStatus::Queued {
            tick.released += 1;
        } else {
            tick.kept += 1;
        }
        Ok(())
    }

    /// A held record whose campaign (or tenant) is gone for good: skipped with `reason`.
    async fn drop_held(
        &self,
        context: &mut Context,
        tenant_id: &TenantId,
        read: &MessageRecord,
        reason: &str,
        tick: &mut Tick,
    ) -> Result<(), DispatchError> {
        let mut record = read.clone();
        record.status = MessageStatus::Skipped;
        record.reason = Some(reason.into());
        record.release_at = None;
        if self
            .messages
            .transition(tenant_id, read, &record, None)
            .await?
        {
            tick.dropped += 1;
        }
        context
            .dropped_from
            .insert((tenant_id.clone(), record.campaign_id.clone()));
        Ok(())
    }

    /// Ticks every `every` until the process ends (the local host).
    pub async fn run(self, every: std::time::Duration) {
        let mut interval = tokio::time::interval(every);
        loop {
            interval.tick().await;
            match self.tick().await {
                Ok(tick) if tick != Tick::default() => tracing::info!(?tick, "scheduler tick"),
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "scheduler tick failed"),
            }
        }
    }
}

/// Tenants and campaign statuses read once per tick.
#[derive(Default)]
struct Context {
    tenants: HashMap<TenantId, Option<Tenant>>,
    campaigns: HashMap<CampaignId, Option<CampaignStatus>>,
    /// Campaigns a held record was dropped from this tick.
    dropped_from: std::collections::HashSet<(TenantId, CampaignId)>,
}

impl Context {
    async fn tenant(
        &mut self,
        tenants: &Tenants,
        id: &TenantId,
    ) -> Result<Option<Tenant>, RepoError> {
        if !self.tenants.contains_key(id) {
            let tenant = tenants.get(id).await?;
            self.tenants.insert(id.clone(), tenant);
        }
        Ok(self.tenants.get(id).cloned().flatten())
    }

    async fn campaign_status(
        &mut self,
        campaigns: &Campaigns,
        tenant: &TenantId,
        id: &CampaignId,
    ) -> Result<Option<CampaignStatus>, RepoError> {
        if !self.campaigns.contains_key(id) {
            let status = campaigns.get(tenant, id).await?.map(|c| c.status);
            self.campaigns.insert(id.clone(), status);
        }
        Ok(self.campaigns.get(id).copied().flatten())
    }
}
