//! The sender: one queued message record per unit of send work, sent at most once.
//!
//! For each unit it re-reads the record and checks the gates that can change after the
//! fan-out (the tenant's kill switch, the campaign's status, the do-not-contact list, the
//! recipient's window), waits for the sender's pace, **claims** the record with a conditional
//! write, calls Twilio, and records the SID. Send work is delivered at least once; the record
//! decides:
//! - already sent, failed or skipped: acknowledged without calling Twilio;
//! - claimed by a live sender: tried again after its lease;
//! - attempted before (a claim that expired, an unknown outcome, a server error): Twilio is
//!   asked for the message first, and it is sent only if Twilio has none.

mod backoff;
pub mod pacing;
mod reconcile;
mod worker;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use campaign_dispatcher::SendWork;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use smscrm_domain::campaign::{Campaign, CampaignStatus, Sender as CampaignSender};
use smscrm_domain::delivery::DeliveryStatus;
use smscrm_domain::ports::Clock;
use smscrm_domain::ports::sms::{
    MessageFrom, NewMessage, ProviderCredentials, ProviderMessage, SmsError, SmsProvider,
    UNSUBSCRIBED_RECIPIENT,
};
use smscrm_domain::quiet_hours::{self, Window};
use smscrm_domain::{CampaignId, Tenant, TenantId};
use smscrm_store::{
    Campaigns, Contacts, Dispatches, DoNotContact, MessageRecord, MessageStatus, Messages, Refund,
    RepoError, Suppression, Tenants,
};
use smscrm_twilio::{CredentialSource, webhooks};

pub use pacing::Pacer;
pub use worker::{Verdict, WorkerPool, requeue};

/// Settings of the sender, the same on Lambda and in the local host.
#[derive(Debug, Clone)]
pub struct SenderConfig {
    /// How long a claim keeps other senders off a record: longer than one message's handling
    /// (a Twilio call's timeout and a lookup), shorter than the send queue's visibility.
    pub lease: Duration,
    /// After a call ended without an answer, how long Twilio is given to show the message in
    /// its list before a lookup that finds nothing lets it be sent again.
    pub unknown_grace: Duration,
    /// Receives after which the queue moves send work to its dead-letter queue: the last
    /// receive records the record as failed, so the API shows it.
    pub max_receives: u32,
    /// Workers that may run at once across every host (the event source's maximum
    /// concurrency): each paces itself to its share of a sender's rate.
    pub workers: u32,
    /// The public base URL of the webhooks (Twilio posts each message's status changes
    /// under it), if Twilio can reach us.
    pub public_base_url: Option<String>,
    /// The Twilio client's timeout: a call is made only while the claim has this long left,
    /// and a margin.
    pub call_timeout: Duration,
}

impl Default for SenderConfig {
    fn default() -> Self {
        Self {
            lease: Duration::from_secs(120),
            unknown_grace: Duration::from_secs(60),
            max_receives: 8,
            workers: 4,
            public_base_url: None,
            call_timeout: Duration::from_secs(10),
        }
    }
}

/// The claim is taken this long before the pacing slot, so its write does not delay the call.
const CLAIM_AHEAD: Duration = Duration::from_millis(250);
/// Time kept on a claim beyond the call's timeout, for clocks that disagree a little.
const LEASE_MARGIN: Duration = Duration::from_secs(10);
/// A message with less of its recipient's window left than this when its turn comes is held
/// for the next window: Twilio would more likely expire it (30036) than deliver it in time.
const WINDOW_LEFT_TO_SEND: chrono::TimeDelta = chrono::TimeDelta::seconds(10);

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error(transparent)]
    Store(#[from] RepoError),
    #[error("the tenant's Twilio credentials cannot be read: {0}")]
    Credentials(String),
    #[error("Twilio could not be asked about an earlier attempt: {0}")]
    Lookup(SmsError),
}

pub struct Sender {
    pub tenants: Tenants,
    pub campaigns: Campaigns,
    pub contacts: Contacts,
    pub messages: Messages,
    pub suppressions: DoNotContact,
    pub dispatches: Dispatches,
    pub provider: Arc<dyn SmsProvider>,
    pub credentials: CredentialSource,
    pub clock: Arc<dyn Clock>,
    pub config: SenderConfig,
}

/// What handling one unit of send work came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// Twilio accepted it now, or had accepted it on an earlier attempt.
    Sent { sid: String },
    /// Nothing to do: already sent, failed, skipped or held, or its record is gone.
    AlreadyDone,
    /// A gate stopped it at the last moment (`reason`: `do_not_contact`, `campaign_cancelled`).
    Skipped { reason: &'static str },
    /// Its recipient's window closed since the fan-out: held until it opens.
    Held,
    /// The tenant's kill switch or the campaign's pause: left queued, marked for a resume.
    Parked,
    /// Twilio refused it for good.
    Failed { code: Option<u32> },
    /// The queue's last receive failed too: the record is failed (`retries_exhausted`) and
    /// the work is left for the dead-letter queue.
    GaveUp,
    /// Try again after this long (another sender holds it, Twilio is busy or unsure).
    RetryAfter(Duration),
}

/// What one message's send needs besides its record.
struct Run<'a> {
    tenant: &'a Tenant,
    campaign: &'a Campaign,
    /// The pacing slot the call goes at.
    slot: tokio::time::Instant,
    receive_count: u32,
}

/// Why a message may not go now.
enum Stop {
    /// The tenant or the campaign no longer exists.
    Gone,
    /// Cancelled (or already completed): it never will; its reservation goes back to the
    /// budget of the tenant's zone.
    Cancelled(Tz),
    /// The tenant's kill switch or the campaign's pause: it waits for the resume.
    Paused,
}

/// How long a batch trusts what it read of a tenant or a campaign: a kill switch or a pause
/// takes effect within this much (plus one message).
const FRESH_FOR: Duration = Duration::from_secs(1);

/// The tenants and campaigns of a batch's work, read at most once a second.
#[derive(Default)]
pub struct BatchContext {
    tenants: HashMap<TenantId, (Instant, Option<Tenant>)>,
    campaigns: HashMap<(TenantId, CampaignId), (Instant, Option<Campaign>)>,
    /// Campaigns a record of this batch reached a final state in: they may be complete.
    pub settled: HashSet<(TenantId, CampaignId)>,
    /// When the batch's invocation ends (a Lambda's deadline): work whose pacing slot comes
    /// too late to call Twilio and settle before then goes back to the queue.
    pub stop_at: Option<tokio::time::Instant>,
}

impl Sender {
    /// Handles one unit of send work, received for the `receive_count`th time.
    pub async fn handle(
        &self,
        work: &SendWork,
        receive_count: u32,
        context: &mut BatchContext,
        pacer: &mut Pacer,
    ) -> Result<Handled, SendError> {
        let (tenant_id, campaign_id) = (&work.tenant_id, &work.campaign_id);
        let Some(record) = self
            .messages
            .get(tenant_id, campaign_id, &work.contact_id)
            .await?
        else {
            tracing::warn!(contact_id = %work.contact_id, "send work for a record that does not exist");
            return Ok(Handled::AlreadyDone);
        };
        let now = self.clock.now();
        if record.status == MessageStatus::Held && record.release_at.is_some_and(|at| at <= now) {
            // The scheduler queues a released record's work just before it writes it queued.
            return Ok(Handled::RetryAfter(Duration::from_secs(2)));
        }
        if record.status == MessageStatus::Sent {
            // Work redelivered because applying the callbacks kept before the SID was written
            // failed right after the send: applied now, or they would wait for one more
            // callback that may never come.
            self.messages
                .apply_events(tenant_id, campaign_id, &work.contact_id)
                .await?;
            return Ok(Handled::AlreadyDone);
        }
        if record.status.is_final() || record.status == MessageStatus::Held {
            return Ok(Handled::AlreadyDone);
        }
        if let Some(wait) = live_claim(&record, now) {
            return Ok(Handled::RetryAfter(wait));
        }
        let (tenant, campaign) = match self.may_send(context, tenant_id, campaign_id).await? {
            Ok(running) => running,
            Err(stop) => return self.stop(context, tenant_id, &record, stop, now).await,
        };
        let zone: Tz = tenant.timezone.parse().unwrap_or(chrono_tz::UTC);
        // Read per message: a STOP that arrives mid-campaign stops the very next send.
        if self
            .suppressions
            .get(tenant_id, &record.phone)
            .await?
            .is_some()
        {
            return self
                .skip(context, tenant_id, &record, "do_not_contact", Some(zone))
                .await;
        }
        // Read per message too: a contact deleted or erased, or whose consent was withdrawn,
        // since the fan-out is not messaged.
        let gone = match self.contacts.get(tenant_id, &record.contact_id).await? {
            None => Some("contact_deleted"),
            Some(contact) if !contact.consent.status.allows_marketing() => Some("no_consent"),
            Some(_) => None,
        };
        if let Some(reason) = gone {
            return self
                .skip(context, tenant_id, &record, reason, Some(zone))
                .await;
        }
        let mut claimed = record.clone();
        match self.window(&tenant, zone, &record, now) {
            Window::Closed {
                opens_at,
                send_before,
            } => {
                return self
                    .hold(tenant_id, &record, opens_at, send_before, zone)
                    .await;
            }
            Window::Open { send_before } => claimed.send_before = Some(send_before),
        }
        // A slow sender's wait is spent before the claim, so no claim waits out its lease.
        let from = campaign_from(&campaign);
        let slot = pacer.take(from.key(), tenant.sender_rate(from.key()), record.segments);
        let finished_by = slot + self.config.call_timeout + LEASE_MARGIN;
        if context.stop_at.is_some_and(|stop| finished_by > stop) {
            // The slot goes unused; the next invocation's pacer starts after it.
            return Ok(Handled::RetryAfter(Duration::ZERO));
        }
        tokio::time::sleep_until(slot - CLAIM_AHEAD).await;
        // After a long wait, a kill switch or pause thrown meanwhile stops this message.
        let (tenant, campaign) = match self.may_send(context, tenant_id, campaign_id).await? {
            Ok(running) => running,
            Err(stop) => return self.stop(context, tenant_id, &record, stop, now).await,
        };
        let run = Run {
            tenant: &tenant,
            campaign: &campaign,
            slot,
            receive_count,
        };
        self.claim_and_send(context, pacer, &run, record, claimed)
            .await
    }

    /// The tenant and the campaign, if its messages may go now.
    async fn may_send(
        &self,
        context: &mut BatchContext,
        tenant_id: &TenantId,
        campaign_id: &CampaignId,
    ) -> Result<Result<(Tenant, Campaign), Stop>, RepoError> {
        let tenant = context.tenant(&self.tenants, tenant_id).await?;
        let campaign = context
            .campaign(&self.campaigns, tenant_id, campaign_id)
            .await?;
        let (Some(tenant), Some(campaign)) = (tenant, campaign) else {
            return Ok(Err(Stop::Gone));
        };
        Ok(match campaign.status {
            CampaignStatus::Sending if !tenant.paused => Ok((tenant, campaign)),
            CampaignStatus::Cancelled | CampaignStatus::Completed => {
                let zone = tenant.timezone.parse().unwrap_or(chrono_tz::UTC);
                Err(Stop::Cancelled(zone))
            }
            _ => Err(Stop::Paused),
        })
    }

    async fn stop(
        &self,
        context: &mut BatchContext,
        tenant: &TenantId,
        record: &MessageRecord,
        stop: Stop,
        now: DateTime<Utc>,
    ) -> Result<Handled, SendError> {
        match stop {
            Stop::Gone => {
                self.skip(context, tenant, record, "campaign_cancelled", None)
                    .await
            }
            Stop::Cancelled(zone) => {
                self.skip(context, tenant, record, "campaign_cancelled", Some(zone))
                    .await
            }
            Stop::Paused => self.park(tenant, &record.campaign_id, now).await,
        }
    }

    async fn claim_and_send(
        &self,
        context: &mut BatchContext,
        pacer: &mut Pacer,
        run: &Run<'_>,
        read: MessageRecord,
        mut claimed: MessageRecord,
    ) -> Result<Handled, SendError> {
        let (tenant, campaign) = (run.tenant, run.campaign);
        let now = self.clock.now();
        let attempted_before = read.attempts > 0;
        claimed.status = MessageStatus::Claimed;
        claimed.attempts = read.attempts + 1;
        claimed.lease_until_ms = Some(now.timestamp_millis() + millis(self.config.lease));
        claimed.first_attempt_at.get_or_insert(now);
        if let MessageFrom::Number(number) = campaign_from(campaign) {
            claimed.from = Some(number);
        }
        if !self
            .messages
            .transition(&tenant.id, &read, &claimed, None)
            .await?
        {
            // Another sender (or the scheduler) changed it since it was read.
            return Ok(Handled::RetryAfter(Duration::from_secs(1)));
        }
        claimed.version = read.version + 1;
        let Some(credentials) = self
            .credentials
            .for_tenant(&tenant.id)
            .await
            .map_err(|e| SendError::Credentials(e.to_string()))?
        else {
            let error = SmsError::Account {
                code: 0,
                message: "no Twilio credentials are configured for this tenant".into(),
            };
            return self.account_failure(tenant, &claimed, &error).await;
        };
        if attempted_before {
            let found = match self.look_up(&credentials, &claimed, now).await {
                Ok(found) => found,
                // Twilio cannot say yet whether an earlier attempt went: the record waits,
                // queued rather than claimed, so running out of receives cannot strand it.
                Err(SendError::Lookup(error)) => {
                    tracing::warn!(%error, "looking the message up at Twilio failed");
                    let wait = backoff::delay(run.receive_count, None);
                    return self
                        .release(&tenant.id, &claimed, wait, true, Some(&error))
                        .await;
                }
                Err(other) => return Err(other),
            };
            match found {
                reconcile::Found::Sent(candidates) => {
                    // The same text to the same number may be another campaign's message: a
                    // SID that settled another record is not this one's.
                    for message in candidates {
                        if !self
                            .messages
                            .sid_taken_by_another(&tenant.id, &message.sid, &claimed)
                            .await?
                        {
                            tracing::info!(sid = %message.sid, "an earlier attempt had reached Twilio");
                            return self.sent(context, &tenant.id, &claimed, &message).await;
                        }
                    }
                }
                reconcile::Found::NotYet(wait) => {
                    return self.release(&tenant.id, &claimed, wait, true, None).await;
                }
                reconcile::Found::Nothing => {}
            }
        }
        // The call goes at the pacing slot, so what varies between the slot and Twilio's clock
        // is the call alone, not the claim's write. If the claim (or a lookup) made it late,
        // the worker's next slot moves back with it, so two calls are never closer than the
        // spacing; a call on time leaves the schedule alone (waking costs a millisecond,
        // which would otherwise add up to a slower rate).
        if tokio::time::Instant::now() > run.slot {
            let from = campaign_from(campaign);
            pacer.called(
                from.key(),
                tenant.sender_rate(from.key()),
                claimed.segments,
                tokio::time::Instant::now(),
            );
        } else {
            tokio::time::sleep_until(run.slot).await;
        }
        // Only while the claim outlasts the call: past its lease another sender may take it.
        let left = claimed.lease_until_ms.unwrap_or_default() - self.clock.now().timestamp_millis();
        if left < millis(self.config.call_timeout + LEASE_MARGIN) {
            tracing::warn!(left_ms = left, "the claim ran short before the call");
            self.unclaim(&tenant.id, &claimed, attempted_before, None)
                .await?;
            return Ok(Handled::RetryAfter(Duration::ZERO));
        }
        let now = self.clock.now();
        // A STOP processed while this message waited for its slot stops it here, a moment
        // before the call.
        if self
            .suppressions
            .get(&tenant.id, &claimed.phone)
            .await?
            .is_some()
        {
            // This claim's call never happened: the record is as its last attempt left it,
            // and its reservation goes back if no attempt ever reached Twilio.
            let mut unsent = claimed.clone();
            unsent.attempts = read.attempts;
            let zone = tenant.timezone.parse().ok();
            return self
                .skip(context, &tenant.id, &unsent, "do_not_contact", zone)
                .await;
        }
        // The wait for a pacing slot can outlast the recipient's window.
        match self.window_closing(tenant, &claimed, now) {
            Some(Window::Closed {
                opens_at,
                send_before,
            }) => {
                let mut unsent = claimed.clone();
                unsent.attempts = read.attempts;
                let zone = tenant.timezone.parse().unwrap_or(chrono_tz::UTC);
                return self
                    .hold(&tenant.id, &unsent, opens_at, send_before, zone)
                    .await;
            }
            // The tenant widened its hours since the fan-out: the message may live longer.
            Some(Window::Open { send_before }) => claimed.send_before = Some(send_before),
            None => {}
        }
        let callback = self.config.public_base_url.as_deref().map(|base| {
            webhooks::status_callback_url(
                base,
                &tenant.id,
                &claimed.campaign_id,
                &claimed.contact_id,
            )
        });
        let message = new_message(campaign, &claimed, callback, now);
        let outcome = self.provider.send(&credentials, &message).await;
        self.record_outcome(context, tenant, &claimed, outcome, run.receive_count)
            .await
    }

    async fn record_outcome(
        &self,
        context: &mut BatchContext,
        tenant: &Tenant,
        claimed: &MessageRecord,
        outcome: Result<ProviderMessage, SmsError>,
        receive_count: u32,
    ) -> Result<Handled, SendError> {
        let zone: Tz = tenant.timezone.parse().unwrap_or(chrono_tz::UTC);
        let error = match outcome {
            Ok(message) => return self.sent(context, &tenant.id, claimed, &message).await,
            Err(error) => error,
        };
        tracing::warn!(%error, attempt = claimed.attempts, "sending failed");
        let last_try = receive_count >= self.config.max_receives;
        match &error {
            SmsError::Permanent { code, message } => {
                if *code == UNSUBSCRIBED_RECIPIENT {
                    // An entry made meanwhile (by staff, a carrier) keeps its own reason: a
                    // later START lifts only opt-outs the person made.
                    self.suppressions
                        .add_if_absent(
                            &tenant.id,
                            &Suppression {
                                phone: claimed.phone.clone(),
                                reason: "stop_reply".into(),
                                at: self.clock.now(),
                                source: Some("Twilio error 21610".into()),
                            },
                        )
                        .await?;
                }
                self.fail(
                    context,
                    &tenant.id,
                    claimed,
                    Some(*code),
                    message,
                    Some(zone),
                )
                .await
            }
            SmsError::Account { .. } => self.account_failure(tenant, claimed, &error).await,
            SmsError::Retryable { retry_after, .. } if !last_try => {
                let wait = backoff::delay(receive_count, *retry_after);
                // Never processed: the next attempt need not ask Twilio first.
                self.release(&tenant.id, claimed, wait, false, Some(&error))
                    .await
            }
            // Twilio may have processed it behind the error, or may list it late: the claim is
            // kept for the grace period, then a lookup decides.
            SmsError::ServerError { .. } | SmsError::UnknownOutcome { .. } if !last_try => {
                let mut unsure = claimed.clone();
                unsure.unknown_since = Some(self.clock.now());
                unsure.error = Some(error.to_string());
                unsure.lease_until_ms =
                    Some(self.clock.now().timestamp_millis() + millis(self.config.unknown_grace));
                self.messages
                    .transition(&tenant.id, claimed, &unsure, None)
                    .await?;
                let wait = backoff::delay(receive_count, None).max(self.config.unknown_grace);
                Ok(Handled::RetryAfter(wait))
            }
            // The last receive: the record says so, and the queue keeps the work in its
            // dead-letter queue. Whatever may have reached Twilio is not refunded.
            _ => {
                let refund = matches!(error, SmsError::Retryable { .. }) && claimed.attempts == 1;
                let reason = format!("gave up after {receive_count} attempts: {error}");
                self.fail(
                    context,
                    &tenant.id,
                    claimed,
                    None,
                    &reason,
                    refund.then_some(zone),
                )
                .await?;
                Ok(Handled::GaveUp)
            }
        }
    }

    fn window(
        &self,
        tenant: &Tenant,
        zone: Tz,
        record: &MessageRecord,
        now: DateTime<Utc>,
    ) -> Window {
        let recipient = quiet_hours::zone_for(&record.phone, zone);
        match record.send_before {
            Some(deadline) if now < deadline => Window::Open {
                send_before: deadline,
            },
            _ => quiet_hours::window(now, recipient, tenant.quiet_hours),
        }
    }

    /// The recipient's window as of [`WINDOW_LEFT_TO_SEND`] from `now`, when `record`'s
    /// window closes before then.
    fn window_closing(
        &self,
        tenant: &Tenant,
        record: &MessageRecord,
        now: DateTime<Utc>,
    ) -> Option<Window> {
        let deadline = record.send_before?;
        if deadline - now >= WINDOW_LEFT_TO_SEND {
            return None;
        }
        let zone = tenant.timezone.parse().unwrap_or(chrono_tz::UTC);
        let recipient = quiet_hours::zone_for(&record.phone, zone);
        Some(quiet_hours::window(
            now + WINDOW_LEFT_TO_SEND,
            recipient,
            tenant.quiet_hours,
        ))
    }

    async fn look_up(
        &self,
        credentials: &ProviderCredentials,
        claimed: &MessageRecord,
        now: DateTime<Utc>,
    ) -> Result<reconcile::Found, SendError> {
        reconcile::look_up(
            self.provider.as_ref(),
            credentials,
            claimed,
            now,
            self.config.unknown_grace,
        )
        .await
        .map_err(SendError::Lookup)
    }

    async fn sent(
        &self,
        context: &mut BatchContext,
        tenant: &TenantId,
        claimed: &MessageRecord,
        message: &ProviderMessage,
    ) -> Result<Handled, SendError> {
        let mut sent = claimed.clone();
        sent.status = MessageStatus::Sent;
        sent.sid = Some(message.sid.clone());
        sent.from = message.from.clone();
        sent.provider_status = Some(message.status.clone());
        sent.delivery = message.status.parse().ok();
        if sent.delivery.is_some_and(DeliveryStatus::is_final) {
            // A lookup can find the message already final (an earlier attempt's outcome was
            // unknown): no later callback can add its code once the status is final.
            sent.delivery_error_code = message.error_code;
            sent.delivery_final_at = Some(self.clock.now());
        }
        sent.sent_at = Some(self.clock.now());
        sent.lease_until_ms = None;
        sent.error = None;
        if !self.messages.mark_sent(tenant, claimed, &sent).await? {
            // Either the claim was lost (its lease ran out: the record's next reader looks the
            // message up and finds it), or another record's lookup took this SID first (a
            // rare race between two records of the same text to the same number). The record
            // is written sent all the same if the claim is still ours: never left claimed.
            let written = self
                .messages
                .transition(tenant, claimed, &sent, None)
                .await?;
            tracing::warn!(sid = %message.sid, written, "the SID was already taken, or the claim lost");
        }
        // Status callbacks that came before the SID was written are applied now.
        self.messages
            .apply_events(tenant, &claimed.campaign_id, &claimed.contact_id)
            .await?;
        context
            .settled
            .insert((tenant.clone(), claimed.campaign_id.clone()));
        Ok(Handled::Sent {
            sid: message.sid.clone(),
        })
    }

    async fn fail(
        &self,
        context: &mut BatchContext,
        tenant: &TenantId,
        claimed: &MessageRecord,
        code: Option<u32>,
        message: &str,
        refund_in: Option<Tz>,
    ) -> Result<Handled, SendError> {
        let mut failed = claimed.clone();
        failed.status = MessageStatus::Failed;
        failed.error_code = code;
        failed.reason = code.is_none().then(|| "retries_exhausted".to_owned());
        failed.error = Some(message.to_owned());
        failed.lease_until_ms = None;
        let refund = refund_in.and_then(|zone| Refund::of(claimed, zone));
        self.messages
            .transition(tenant, claimed, &failed, refund)
            .await?;
        context
            .settled
            .insert((tenant.clone(), claimed.campaign_id.clone()));
        Ok(Handled::Failed { code })
    }

    /// Back to queued for another attempt; `asked_twilio_next` keeps the attempt counted, so
    /// the next one looks the message up first.
    async fn release(
        &self,
        tenant: &TenantId,
        claimed: &MessageRecord,
        wait: Duration,
        asked_twilio_next: bool,
        error: Option<&SmsError>,
    ) -> Result<Handled, SendError> {
        self.unclaim(tenant, claimed, asked_twilio_next, error)
            .await?;
        Ok(Handled::RetryAfter(wait))
    }

    /// Gives the claim up: the record is queued again, as written (`None` if the claim was
    /// lost meanwhile).
    async fn unclaim(
        &self,
        tenant: &TenantId,
        claimed: &MessageRecord,
        asked_twilio_next: bool,
        error: Option<&SmsError>,
    ) -> Result<Option<MessageRecord>, SendError> {
        let mut queued = claimed.clone();
        queued.status = MessageStatus::Queued;
        queued.lease_until_ms = None;
        if !asked_twilio_next {
            queued.attempts = claimed.attempts.saturating_sub(1);
        }
        if let Some(error) = error {
            queued.error = Some(error.to_string());
        }
        if self
            .messages
            .transition(tenant, claimed, &queued, None)
            .await?
        {
            queued.version = claimed.version + 1;
            Ok(Some(queued))
        } else {
            Ok(None)
        }
    }

    async fn skip(
        &self,
        context: &mut BatchContext,
        tenant: &TenantId,
        record: &MessageRecord,
        reason: &'static str,
        refund_in: Option<Tz>,
    ) -> Result<Handled, SendError> {
        let mut skipped = record.clone();
        skipped.status = MessageStatus::Skipped;
        skipped.reason = Some(reason.into());
        skipped.lease_until_ms = None;
        let refund = refund_in
            .filter(|_| record.attempts == 0)
            .and_then(|zone| Refund::of(record, zone));
        if self
            .messages
            .transition(tenant, record, &skipped, refund)
            .await?
        {
            context
                .settled
                .insert((tenant.clone(), record.campaign_id.clone()));
            Ok(Handled::Skipped { reason })
        } else {
            Ok(Handled::RetryAfter(Duration::from_secs(1)))
        }
    }

    /// The recipient's window closed since the fan-out: held like the fan-out holds, its
    /// reservation given back (the release reserves again).
    async fn hold(
        &self,
        tenant: &TenantId,
        record: &MessageRecord,
        opens_at: DateTime<Utc>,
        send_before: DateTime<Utc>,
        zone: Tz,
    ) -> Result<Handled, SendError> {
        let mut held = record.clone();
        held.status = MessageStatus::Held;
        held.reason = Some("quiet_hours".into());
        held.release_at = Some(opens_at);
        held.send_before = Some(send_before);
        held.reserved_at = None;
        held.lease_until_ms = None;
        // An earlier attempt may have reached Twilio (and cost): nothing is given back then
        // (spend is over-counted, never under-counted).
        let refund = (record.attempts == 0)
            .then(|| Refund::of(record, zone))
            .flatten();
        if record.attempts > 0 {
            held.reserved_at = record.reserved_at;
        }
        if self
            .messages
            .transition(tenant, record, &held, refund)
            .await?
        {
            Ok(Handled::Held)
        } else {
            Ok(Handled::RetryAfter(Duration::from_secs(1)))
        }
    }

    async fn park(
        &self,
        tenant: &TenantId,
        campaign: &CampaignId,
        now: DateTime<Utc>,
    ) -> Result<Handled, SendError> {
        self.messages.park(tenant, campaign, now).await?;
        Ok(Handled::Parked)
    }

    /// Twilio refuses the account (or it has no credentials): nothing of this tenant can go
    /// until a person fixes it, so its sending is paused instead of burning the queue.
    async fn account_failure(
        &self,
        tenant: &Tenant,
        claimed: &MessageRecord,
        error: &SmsError,
    ) -> Result<Handled, SendError> {
        tracing::error!(
            tenant_id = %tenant.id,
            %error,
            alert = "twilio_account",
            "Twilio refuses the tenant's account: its sending is paused"
        );
        self.credentials.forget(&tenant.id);
        self.tenants.set_paused(&tenant.id, true).await?;
        self.release(&tenant.id, claimed, Duration::ZERO, false, Some(error))
            .await?;
        self.park(&tenant.id, &claimed.campaign_id, self.clock.now())
            .await
    }
}

/// How long another sender's claim still has, if it is live.
fn live_claim(record: &MessageRecord, now: DateTime<Utc>) -> Option<Duration> {
    if record.status != MessageStatus::Claimed {
        return None;
    }
    let left = record.lease_until_ms? - now.timestamp_millis();
    (left > 0).then(|| Duration::from_millis(left as u64))
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

/// Who a campaign's messages are from, as Twilio takes it.
fn campaign_from(campaign: &Campaign) -> MessageFrom {
    match &campaign.sender {
        CampaignSender::From(phone) => MessageFrom::Number(phone.as_str().to_owned()),
        CampaignSender::MessagingServiceSid(sid) => MessageFrom::MessagingService(sid.clone()),
    }
}

trait SenderKey {
    fn key(&self) -> &str;
}

impl SenderKey for MessageFrom {
    /// The name a sender's rate is configured under.
    fn key(&self) -> &str {
        match self {
            MessageFrom::Number(n) => n,
            MessageFrom::MessagingService(sid) => sid,
        }
    }
}

/// Twilio's longest `ValidityPeriod`.
const MAX_VALIDITY: i64 = 36_000;

fn new_message(
    campaign: &Campaign,
    record: &MessageRecord,
    status_callback: Option<String>,
    now: DateTime<Utc>,
) -> NewMessage {
    // A message still in Twilio's queue when the recipient's window closes expires (30036)
    // instead of arriving at night.
    let validity_period = record.send_before.map(|deadline| {
        let seconds = (deadline - now).num_seconds().clamp(1, MAX_VALIDITY);
        u32::try_from(seconds).unwrap_or(1)
    });
    NewMessage {
        to: record.phone.as_str().to_owned(),
        from: campaign_from(campaign),
        body: record.text.clone().unwrap_or_default(),
        status_callback,
        validity_period,
    }
}

impl BatchContext {
    async fn tenant(
        &mut self,
        tenants: &Tenants,
        id: &TenantId,
    ) -> Result<Option<Tenant>, RepoError> {
        match self.tenants.get(id) {
            Some((at, tenant)) if at.elapsed() < FRESH_FOR => Ok(tenant.clone()),
            _ => {
                let tenant = tenants.get(id).await?;
                self.tenants
                    .insert(id.clone(), (Instant::now(), tenant.clone()));
                Ok(tenant)
            }
        }
    }

    async fn campaign(
        &mut self,
        campaigns: &Campaigns,
        tenant: &TenantId,
        id: &CampaignId,
    ) -> Result<Option<Campaign>, RepoError> {
        let key = (tenant.clone(), id.clone());
        match self.campaigns.get(&key) {
            Some((at, campaign)) if at.elapsed() < FRESH_FOR => Ok(campaign.clone()),
            _ => {
                let campaign = campaigns.get(tenant, id).await?;
                self.campaigns
                    .insert(key, (Instant::now(), campaign.clone()));
                Ok(campaign)
            }
        }
    }
}
