//! Campaign fan-out. A dispatch job (queued when a campaign starts sending) pages through the
//! tenant's contacts; for each one the audience selects it writes one message record, keyed by
//! campaign and contact, after the same gates the estimate applies (consent, do-not-contact,
//! missing variables) and the recipient's quiet hours; and it queues send work for the records
//! that may go now, ten to a queue call.
//!
//! Crash safety: the dispatcher holds a lease on the campaign's fan-out and saves its cursor and
//! counts after every page. A run that dies resumes from the last saved page; records that page
//! already wrote are found and kept (never written twice), and its send work is queued again:
//! the sender treats send work as at-least-once and sends a record once.

pub mod scheduler;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use smscrm_domain::campaign::{Action, Campaign, CampaignStatus};
use smscrm_domain::gates::{Screen, Skip, country_of};
use smscrm_domain::ports::queue::MAX_SEND_BATCH;
use smscrm_domain::ports::{Clock, OutgoingMessage, Queue, QueueError};
use smscrm_domain::quiet_hours::{self, Window};
use smscrm_domain::{CampaignId, Contact, ContactId, PhoneE164, Tenant, TenantId};
use smscrm_store::{
    ActError, Budgets, Campaigns, Contacts, DispatchCounts, DispatchState, Dispatches,
    DoNotContact, LeaseError, MessageRecord, MessageStatus, Messages, RepoError, ReserveError,
    Templates, Tenants,
};
use tokio::time::Instant;
use tracing::Instrument as _;

pub use scheduler::{Scheduler, Tick};

/// Contacts read per page (and saved progress per page).
pub const PAGE: u32 = 1000;
/// How long a dispatcher may hold a campaign without saving progress.
pub const LEASE: Duration = Duration::from_secs(5 * 60);
/// Send-work queue calls in flight at once.
const SENDS_IN_FLIGHT: usize = 8;

/// Fan out this campaign (or go on fanning it out).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DispatchJob {
    pub tenant_id: TenantId,
    pub campaign_id: CampaignId,
}

/// One recipient for the sender: the record to send.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendWork {
    pub tenant_id: TenantId,
    pub campaign_id: CampaignId,
    pub contact_id: ContactId,
}

pub async fn enqueue(queue: &dyn Queue, job: &DispatchJob) -> Result<(), QueueError> {
    let body = serde_json::to_string(job).map_err(|e| QueueError::Invalid(e.to_string()))?;
    queue.send_batch(vec![OutgoingMessage::new(body)]).await
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every contact has been looked at.
    Finished(DispatchCounts),
    /// The deadline came first; a continuation is queued.
    Paused,
    /// Another dispatcher holds the campaign: try again after this long.
    Busy { retry_in: Duration },
    /// Nothing to do (no such campaign, not sending, the tenant's kill switch is on).
    Skipped(&'static str),
}

#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error(transparent)]
    Store(#[from] RepoError),
    #[error("queueing failed: {0}")]
    Queue(#[from] QueueError),
    #[error("the campaign's template {0} no longer exists")]
    NoTemplate(String),
    #[error("the tenant's time zone `{0}` is not one the zone database knows")]
    Zone(String),
    #[error("another dispatcher took the campaign over")]
    LeaseLost,
}

pub struct Dispatcher {
    pub tenants: Tenants,
    pub campaigns: Campaigns,
    pub templates: Templates,
    pub contacts: Contacts,
    pub suppressions: DoNotContact,
    pub messages: Messages,
    pub dispatches: Dispatches,
    pub budgets: Budgets,
    /// Where continuations go.
    pub jobs: Arc<dyn Queue>,
    /// Where send work goes.
    pub sends: Arc<dyn Queue>,
    pub clock: Arc<dyn Clock>,
    /// Names this dispatcher's leases.
    pub owner: String,
    /// Contacts read (and progress saved) per page: [`PAGE`] but in tests.
    pub page_size: u32,
}

/// What a page of contacts needs besides the contacts.
struct Run<'a> {
    tenant: &'a Tenant,
    zone: Tz,
    campaign: &'a Campaign,
    screen: Screen<'a>,
}

impl Dispatcher {
    pub async fn handle(
        &self,
        job: &DispatchJob,
        stop_at: Option<Instant>,
    ) -> Result<Outcome, DispatchError> {
        let (tenant_id, campaign_id) = (&job.tenant_id, &job.campaign_id);
        let Some(tenant) = self.tenants.get(tenant_id).await? else {
            return Ok(Outcome::Skipped("no such tenant"));
        };
        let Some(campaign) = self.campaigns.get(tenant_id, campaign_id).await? else {
            return Ok(Outcome::Skipped("no such campaign"));
        };
        if campaign.status == CampaignStatus::Cancelled {
            // Records a sender left queued get their work once more: the sender skips them
            // and gives their reservations back.
            self.requeue(tenant_id, campaign_id).await?;
            return Ok(Outcome::Skipped("the campaign is cancelled"));
        }
        if !campaign.status.is_sending() {
            return Ok(Outcome::Skipped("the campaign is not sending"));
        }
        if tenant.paused {
            return Ok(Outcome::Skipped("the tenant's kill switch is on"));
        }
        let now = self.clock.now();
        let mut state = match self
            .dispatches
            .acquire(tenant_id, campaign_id, &self.owner, LEASE, now)
            .await
        {
            Ok(state) => state,
            Err(LeaseError::Leased(leased)) => {
                let retry_in = (leased.until - now).to_std().unwrap_or_default();
                return Ok(Outcome::Busy { retry_in });
            }
            Err(LeaseError::Repo(e)) => return Err(e.into()),
        };
        if state.done {
            // A resume (of the campaign, or of the tenant's sending): the fan-out is over, but
            // records the sender left queued at the pause need their send work again.
            let outcome = self.requeue(tenant_id, campaign_id).await;
            self.dispatches
                .release(tenant_id, campaign_id, &self.owner)
                .await?;
            let requeued = outcome?;
            tracing::info!(requeued, "send work queued again after a pause");
            complete_if_settled(
                &self.campaigns,
                &self.dispatches,
                tenant_id,
                campaign_id,
                now,
            )
            .await?;
            return Ok(Outcome::Finished(state.counts));
        }
        // The body kept at launch; campaigns launched without one use the template as it is.
        let body = match &campaign.body {
            Some(body) => body.clone(),
            None => {
                self.templates
                    .get(tenant_id, &campaign.template_id)
                    .await?
                    .ok_or_else(|| DispatchError::NoTemplate(campaign.template_id.to_string()))?
                    .body
            }
        };
        let body = smscrm_domain::template::Body::parse(&body).map_err(RepoError::from)?;
        let run = Run {
            zone: tenant
                .timezone
                .parse()
                .map_err(|_| DispatchError::Zone(tenant.timezone.clone()))?,
            tenant: &tenant,
            campaign: &campaign,
            screen: Screen {
                body: &body,
                link: campaign.link.as_deref(),
                footer: &tenant.opt_out_footer,
            },
        };
        let outcome = self.pages(&run, &mut state, stop_at, job).await;
        if let Ok(Outcome::Finished(_)) = &outcome {
            // Nothing to send at all (every recipient skipped), or the sender already sent it
            // all while the last page was being saved.
            complete_if_settled(
                &self.campaigns,
                &self.dispatches,
                tenant_id,
                campaign_id,
                self.clock.now(),
            )
            .await?;
        }
        // Whatever happened, the next job need not wait out this run's lease.
        self.dispatches
            .release(tenant_id, campaign_id, &self.owner)
            .await?;
        outcome
    }

    async fn pages(
        &self,
        run: &Run<'_>,
        state: &mut DispatchState,
        stop_at: Option<Instant>,
        job: &DispatchJob,
    ) -> Result<Outcome, DispatchError> {
        let tenant = &run.tenant.id;
        loop {
            let page = self
                .contacts
                .list(tenant, state.cursor()?, self.page_size)
                .await?;
            // Each page at its own time: a run can last many minutes, across a window's close
            // or midnight.
            let now = self.clock.now();
            self.fan_out(run, &page.items, &mut state.counts, now)
                .await?;
            state.cursor = page.next_cursor.map(|c| c.encode());
            if state.cursor.is_none() {
                state.done = true;
                state.finished_at = Some(self.clock.now());
            }
            state.lease_until =
                Some(self.clock.now().timestamp_millis() + LEASE.as_millis() as i64);
            self.dispatches
                .save(tenant, &run.campaign.id, state)
                .await?;
            if state.done {
                return Ok(Outcome::Finished(state.counts.clone()));
            }
            if !self.still_sending(run).await? {
                return Ok(Outcome::Skipped("the campaign stopped sending"));
            }
            if stop_at.is_some_and(|at| Instant::now() >= at) {
                enqueue(self.jobs.as_ref(), job).await?;
                return Ok(Outcome::Paused);
            }
        }
    }

    /// Queues send work again for every record still waiting to be sent (a sender may hold a
    /// claim on some: its claim keeps them from going twice).
    async fn requeue(
        &self,
        tenant: &TenantId,
        campaign: &CampaignId,
    ) -> Result<usize, DispatchError> {
        // Nothing parked, nothing to queue again: jobs queued while an earlier pass ran find
        // its mark gone. The mark goes only once the pass is through, and only the one read
        // here: a sender parking again meanwhile leaves a new one.
        let Some(parked_at) = self.messages.parked_at(tenant, campaign).await? else {
            return Ok(0);
        };
        let mut cursor: Option<String> = None;
        let mut requeued = 0;
        loop {
            let page = self
                .messages
                .page(tenant, campaign, None, cursor.as_deref(), self.page_size)
                .await?;
            let work: Vec<SendWork> = page
                .items
                .into_iter()
                .filter(|r| matches!(r.status, MessageStatus::Queued | MessageStatus::Claimed))
                .map(|r| SendWork {
                    tenant_id: tenant.clone(),
                    campaign_id: campaign.clone(),
                    contact_id: r.contact_id,
                })
                .collect();
            requeued += work.len();
            queue_send_work(self.sends.as_ref(), work).await?;
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        self.messages.unpark(tenant, campaign, parked_at).await?;
        Ok(requeued)
    }
    /// A pause or cancel, or the tenant's kill switch, stops the fan-out at the next page; a
    /// resume queues a new job (the scheduler does, once the kill switch is off).
    async fn still_sending(&self, run: &Run<'_>) -> Result<bool, DispatchError> {
        let current = self.campaigns.get(&run.tenant.id, &run.campaign.id).await?;
        let tenant = self.tenants.get(&run.tenant.id).await?;
        Ok(current.is_some_and(|c| c.status.is_sending()) && tenant.is_some_and(|t| !t.paused))
    }

    /// One page of contacts: records for the audience, then send work for what may go now.
    async fn fan_out(
        &self,
        run: &Run<'_>,
        contacts: &[Contact],
        counts: &mut DispatchCounts,
        now: DateTime<Utc>,
    ) -> Result<(), DispatchError> {
        let tenant = &run.tenant.id;
        let campaign = &run.campaign.id;
        let selected: Vec<&Contact> = contacts
            .iter()
            .filter(|c| run.campaign.audience.includes(c))
            .collect();
        // Asked per page: a first STOP may arrive while the fan-out runs.
        let suppressed = if self.suppressions.any(tenant).await? {
            let phones: Vec<&PhoneE164> = selected.iter().map(|c| &c.phone).collect();
            self.suppressions.which(tenant, &phones).await?
        } else {
            HashSet::new()
        };
        let ids: Vec<&ContactId> = selected.iter().map(|c| &c.id).collect();
        let mut existing: HashMap<ContactId, MessageRecord> = self
            .messages
            .existing(tenant, campaign, &ids)
            .await?
            .into_iter()
            .map(|r| (r.contact_id.clone(), r))
            .collect();
        let mut fresh = Vec::new();
        let mut kept = Vec::new();
        for contact in selected {
            match existing.remove(&contact.id) {
                Some(record) => kept.push(record),
                None => {
                    fresh.push(self.record(run, contact, suppressed.contains(&contact.phone), now))
                }
            }
        }
        // A run that stalled past its lease must not reserve for, or write over, records
        // another run wrote (and a sender moved on) meanwhile: the lease is checked right
        // before.
        let holder = self.dispatches.get(tenant, campaign).await?;
        if holder.and_then(|s| s.lease_owner).as_deref() != Some(self.owner.as_str()) {
            return Err(DispatchError::LeaseLost);
        }
        self.reserve_budget(run, &mut fresh, now).await?;
        for record in &mut fresh {
            record.initial_count = Some(record.count_name());
        }
        // Records before their send work: the sender finds the record of every message.
        self.messages.put_new(tenant, &fresh).await?;
        let mut to_send = Vec::new();
        for record in kept.into_iter().chain(fresh) {
            counts.count(&record);
            if record.status == MessageStatus::Queued {
                to_send.push(record.contact_id);
            }
        }
        let work = to_send
            .into_iter()
            .map(|contact_id| SendWork {
                tenant_id: tenant.clone(),
                campaign_id: campaign.clone(),
                contact_id,
            })
            .collect();
        queue_send_work(self.sends.as_ref(), work).await
    }

    /// Reserves the cost of the page's queued records against the tenant's caps: all at once
    /// when it fits (one transaction), else one by one, holding with reason `budget` (until
    /// the cap resets) those that no longer fit. Reserved before the records are written, so
    /// a crash in between over-counts spend, never under-counts it.
    async fn reserve_budget(
        &self,
        run: &Run<'_>,
        records: &mut [MessageRecord],
        now: DateTime<Utc>,
    ) -> Result<(), DispatchError> {
        let prices = &run.tenant.segment_prices;
        for record in records.iter_mut() {
            let country = country_of(&record.phone);
            record.cost_millicents =
                u64::from(record.segments) * prices.for_country(country.as_deref());
        }
        let queued = |r: &&mut MessageRecord| r.status == MessageStatus::Queued;
        let total: u64 = records
            .iter_mut()
            .filter(queued)
            .map(|r| r.cost_millicents)
            .sum();
        if total == 0 {
            return Ok(());
        }
        let tenant = &run.tenant;
        let reserve = |millicents| {
            self.budgets
                .reserve(&tenant.id, tenant.budget, run.zone, millicents, now)
        };
        match reserve(total).await {
            Ok(()) => {
                for record in records.iter_mut().filter(queued) {
                    record.reserved_at = Some(now);
                }
                return Ok(());
            }
            Err(ReserveError::Repo(e)) => return Err(e.into()),
            Err(ReserveError::OverBudget(_)) => {}
        }
        // Near the cap: one by one until one does not fit; the rest wait without trying, so a
        // spent budget costs one failed reservation per page, not one per recipient.
        let mut exhausted = None;
        for record in records.iter_mut().filter(queued) {
            if exhausted.is_none() {
                match reserve(record.cost_millicents).await {
                    Ok(()) => {
                        record.reserved_at = Some(now);
                        continue;
                    }
                    // Dearer than the cap itself: no reset would make it fit.
                    Err(ReserveError::OverBudget(over)) if over.exceeds_cap => {
                        record.status = MessageStatus::Skipped;
                        record.reason = Some("over_cap".into());
                        continue;
                    }
                    Err(ReserveError::OverBudget(over)) => exhausted = Some(over.resets_at),
                    Err(ReserveError::Repo(e)) => return Err(e.into()),
                }
            }
            record.status = MessageStatus::Held;
            record.reason = Some("budget".into());
            record.release_at = exhausted;
        }
        Ok(())
    }

    fn record(
        &self,
        run: &Run<'_>,
        contact: &Contact,
        suppressed: bool,
        now: DateTime<Utc>,
    ) -> MessageRecord {
        let mut record = MessageRecord::new(
            run.campaign.id.clone(),
            contact.id.clone(),
            contact.phone.clone(),
            now,
        );
        record.retention_days = Some(run.tenant.message_retention_days);
        // Every message is a contact's first until sending keeps a history (the footer
        // policy's "first message" then becomes exact).
        match run.screen.check(contact, suppressed, true) {
            Err(skip) => {
                record.reason = Some(skip.reason().to_owned());
                if let Skip::MissingVariable { variable } = skip {
                    record.variable = Some(variable);
                }
            }
            Ok(message) => {
                record.segments = u32::try_from(message.count.segments).unwrap_or(u32::MAX);
                record.encoding = Some(message.count.encoding);
                record.text = Some(message.text);
                let zone = quiet_hours::zone_for(&contact.phone, run.zone);
                match quiet_hours::window(now, zone, run.tenant.quiet_hours) {
                    Window::Open { send_before } => {
                        record.status = MessageStatus::Queued;
                        record.send_before = Some(send_before);
                    }
                    Window::Closed {
                        opens_at,
                        send_before,
                    } => {
                        record.status = MessageStatus::Held;
                        record.reason = Some("quiet_hours".into());
                        record.release_at = Some(opens_at);
                        record.send_before = Some(send_before);
                    }
                }
            }
        }
        record
    }

    /// Consumes dispatch jobs until the process ends (the local host; Lambda has its own loop).
    pub async fn consume(self, run_for: Duration, retry_delay: Duration) {
        loop {
            let deliveries = match self.jobs.receive(1, Duration::from_secs(20)).await {
                Ok(d) => d,
                Err(e) => {
                    tracing::warn!(error = %e, "receiving dispatch jobs failed");
                    tokio::time::sleep(retry_delay).await;
                    continue;
                }
            };
            for delivery in deliveries {
                let stop_at = Instant::now() + run_for;
                self.deliver(&delivery.body, &delivery.receipt, stop_at, retry_delay)
                    .await;
            }
        }
    }

    async fn deliver(&self, body: &str, receipt: &str, stop_at: Instant, retry_delay: Duration) {
        let job: DispatchJob = match serde_json::from_str(body) {
            Ok(job) => job,
            Err(e) => {
                // Retrying cannot fix it; the dead-letter queue keeps it for a person.
                tracing::error!(error = %e, body, "unreadable dispatch job");
                let _ = self.jobs.retry_after(receipt, retry_delay).await;
                return;
            }
        };
        let span = tracing::info_span!("dispatch", tenant_id = %job.tenant_id, campaign_id = %job.campaign_id);
        let outcome = self.handle(&job, Some(stop_at)).instrument(span).await;
        match outcome {
            Ok(Outcome::Busy { retry_in }) => {
                let _ = self.jobs.retry_after(receipt, retry_in).await;
            }
            Ok(outcome) => {
                tracing::info!(?outcome, "dispatch job handled");
                if let Err(e) = self.jobs.ack(receipt).await {
                    tracing::warn!(error = %e, "acking a dispatch job failed");
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "dispatch failed; it will be retried");
                let _ = self.jobs.retry_after(receipt, retry_delay).await;
            }
        }
    }
}

/// Queues send work, ten messages to a call, a few calls at once.
pub async fn queue_send_work(queue: &dyn Queue, work: Vec<SendWork>) -> Result<(), DispatchError> {
    let batches: Vec<Vec<OutgoingMessage>> = work
        .chunks(MAX_SEND_BATCH)
        .map(|chunk| {
            chunk
                .iter()
                .map(|w| {
                    serde_json::to_string(w)
                        .map(OutgoingMessage::new)
                        .map_err(|e| QueueError::Invalid(e.to_string()))
                })
                .collect()
        })
        .collect::<Result<_, _>>()?;
    for group in batches.chunks(SENDS_IN_FLIGHT) {
        let calls = group.iter().map(|batch| queue.send_batch(batch.clone()));
        futures::future::try_join_all(calls).await?;
    }
    Ok(())
}

/// Completes a sending campaign whose fan-out is done and whose every record is sent, failed
/// or skipped. `true` if this call completed it.
pub async fn complete_if_settled(
    campaigns: &Campaigns,
    dispatches: &Dispatches,
    tenant: &TenantId,
    campaign: &CampaignId,
    now: DateTime<Utc>,
) -> Result<bool, RepoError> {
    let Some((state, counts)) = dispatches.counts(tenant, campaign).await? else {
        return Ok(false);
    };
    if !state.done || !counts.settled() {
        return Ok(false);
    }
    match campaigns
        .act(tenant, campaign, Action::Complete, None, now)
        .await
    {
        Ok(_) => {
            tracing::info!(tenant_id = %tenant, campaign_id = %campaign, "campaign completed");
            Ok(true)
        }
        // Paused, cancelled or completed by someone else: not ours to complete.
        Err(ActError::Illegal(_)) | Err(ActError::Repo(RepoError::NotFound)) => Ok(false),
        Err(ActError::Repo(e)) => Err(e),
    }
}

/// A lease owner name unique to this process and run.
pub fn owner_name() -> String {
    format!("dispatcher-{}", ulid::Ulid::new())
}
