//! The simulator's shared state, and the one place that decides whether a create is accepted:
//! faults, failure rules and rate limits are checked and the message recorded under one lock,
//! with no await in between, so a client hanging up mid-request cannot leave half a decision.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use chrono::Utc;

use crate::callbacks::{self, Event, Lifecycle};
use crate::config::{Account, CallbackMode, FailureRule, FinalStatus, RuleOutcome, SimConfig};
use crate::error::ApiError;
use crate::faults::FaultState;
use crate::inbound::{Reply, Route};
use crate::opt_out::{Keyword, OptOuts};
use crate::rate::RateLimiter;
use crate::store::{AcceptedMessage, Status, Store, StoredMessage};
use crate::validate::{Draft, Sender};

/// The number a Messaging Service sends from when the request names none.
pub const MESSAGING_SERVICE_NUMBER: &str = "+15005550006";

/// A poisoned lock only means another request panicked; the data is still consistent enough
/// for a simulator, and refusing every later request would hide the first failure.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[derive(Debug)]
struct Mutable {
    store: Store,
    faults: FaultState,
    rate: RateLimiter,
    latency: Duration,
    callback_delay: Duration,
    callback_mode: CallbackMode,
    /// Twilio's default opt-out handling: on unless a test turns it off.
    opt_out_handling: bool,
    opt_outs: OptOuts,
    /// Messages texted back to people who texted in, in order.
    replies: Vec<Reply>,
}

#[derive(Debug)]
pub(crate) struct Shared {
    accounts: Mutex<Vec<Account>>,
    rules: Mutex<Vec<FailureRule>>,
    /// Incoming-message webhooks by number.
    inbound_routes: Mutex<HashMap<String, Route>>,
    state: Mutex<Mutable>,
    /// Built once: every callback shares its connection pool.
    pub(crate) http: reqwest::Client,
}

/// A create that was accepted: the message, and how long to hold its answer (a fault).
#[derive(Debug)]
pub(crate) struct Admitted {
    pub stored: StoredMessage,
    pub hang: Option<Duration>,
}

fn rejection(code: u32, to: &str) -> ApiError {
    let message = match code {
        21211 => format!("The 'To' number {to} is not a valid phone number."),
        21610 => "Attempt to send to unsubscribed recipient".to_owned(),
        21614 => format!("'To' number {to} is not a valid mobile number"),
        _ => format!("The message to {to} cannot be sent."),
    };
    ApiError::invalid(code, message)
}

impl Shared {
    pub(crate) fn new(config: SimConfig) -> Self {
        // Twilio's own limits (error 11205): 10 s to connect, 15 s in all for the answer.
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(15))
            .build()
            .unwrap_or_else(|error| {
                tracing::warn!(%error, "callback client with defaults instead");
                reqwest::Client::new()
            });
        Self {
            accounts: Mutex::new(config.accounts),
            rules: Mutex::new(config.rules),
            state: Mutex::new(Mutable {
                store: Store::default(),
                faults: FaultState::new(config.faults),
                rate: RateLimiter::new(config.rate_limits),
                latency: config.latency,
                callback_delay: config.callback_delay,
                callback_mode: config.callbacks,
                opt_out_handling: true,
                opt_outs: OptOuts::default(),
                replies: Vec::new(),
            }),
            inbound_routes: Mutex::new(HashMap::new()),
            http,
        }
    }

    pub(crate) fn accounts(&self) -> MutexGuard<'_, Vec<Account>> {
        lock(&self.accounts)
    }

    pub(crate) fn add_account(&self, account: Account) {
        let mut accounts = lock(&self.accounts);
        accounts.retain(|known| known.sid != account.sid);
        accounts.push(account);
    }

    pub(crate) fn auth_token(&self, account_sid: &str) -> Option<String> {
        self.accounts()
            .iter()
            .find(|account| account.sid == account_sid)
            .map(|account| account.auth_token.clone())
    }

    pub(crate) fn set_inbound_route(&self, number: &str, route: Route) {
        lock(&self.inbound_routes).insert(number.to_owned(), route);
    }

    pub(crate) fn inbound_route(&self, number: &str) -> Option<Route> {
        lock(&self.inbound_routes).get(number).cloned()
    }

    pub(crate) fn set_opt_out_handling(&self, on: bool) {
        lock(&self.state).opt_out_handling = on;
    }

    /// Applies a keyword `person` texted to `number` when opt-out handling is on; says whether
    /// it was (and so whether Twilio confirms it).
    pub(crate) fn handle_keyword(&self, keyword: Keyword, number: &str, person: &str) -> bool {
        let mut state = lock(&self.state);
        if state.opt_out_handling {
            state.opt_outs.apply(keyword, number, person);
        }
        state.opt_out_handling
    }

    /// Sends replies (Twilio's confirmations always go; a TwiML reply to a person who opted out
    /// of its number is refused with 21610) and records them; returns them as recorded.
    pub(crate) fn send_replies(&self, replies: Vec<Reply>) -> Vec<Reply> {
        let mut state = lock(&self.state);
        let replies: Vec<Reply> = replies
            .into_iter()
            .map(|mut reply| {
                let twiml = reply.source == crate::inbound::ReplySource::Twiml;
                if twiml && state.opt_outs.blocks(&reply.from, &reply.to) {
                    reply.refused = Some(21610);
                }
                reply
            })
            .collect();
        state.replies.extend(replies.iter().cloned());
        replies
    }

    pub(crate) fn replies(&self) -> Vec<Reply> {
        lock(&self.state).replies.clone()
    }

    pub(crate) fn with_store<R>(&self, read: impl FnOnce(&Store) -> R) -> R {
        read(&lock(&self.state).store)
    }

    pub(crate) fn clear(&self) {
        let mut state = lock(&self.state);
        state.store.clear();
        state.rate.clear();
        state.opt_outs.clear();
        state.replies.clear();
    }

    pub(crate) fn set_faults(&self, faults: crate::config::Faults) {
        lock(&self.state).faults.set(faults);
    }

    pub(crate) fn set_rate_limit(&self, sender: &str, segments_per_second: u32) {
        lock(&self.state)
            .rate
            .set_limit(sender, segments_per_second);
    }

    pub(crate) fn latency(&self) -> Duration {
        lock(&self.state).latency
    }

    pub(crate) fn set_latency(&self, latency: Duration) {
        lock(&self.state).latency = latency;
    }

    pub(crate) fn add_rule(&self, rule: FailureRule) {
        lock(&self.rules).push(rule);
    }

    pub(crate) fn set_callbacks(&self, mode: CallbackMode, delay: Duration) {
        let mut state = lock(&self.state);
        state.callback_mode = mode;
        state.callback_delay = delay;
    }

    pub(crate) fn callback_mode(&self) -> CallbackMode {
        lock(&self.state).callback_mode
    }

    pub(crate) fn advance(&self, sid: &str, event: Event) {
        lock(&self.state)
            .store
            .advance(sid, event.status, event.error_code, Utc::now());
    }

    /// Accepts the create, or says why not. An accepted message's lifecycle starts at once.
    pub(crate) fn admit(
        self: &Arc<Self>,
        account: &Account,
        draft: Draft,
    ) -> Result<Admitted, ApiError> {
        let rule = lock(&self.rules)
            .iter()
            .find(|rule| draft.to.ends_with(&rule.to_suffix))
            .map(|rule| rule.outcome.clone());
        let mut state = lock(&self.state);
        if let Some(error) = state.faults.refuse() {
            return Err(error);
        }
        let from = match &draft.sender {
            Sender::Number(number) => number.as_str(),
            Sender::Service { from, .. } => from.as_deref().unwrap_or(MESSAGING_SERVICE_NUMBER),
        };
        if state.opt_outs.blocks(from, &draft.to) {
            return Err(rejection(21610, &draft.to));
        }
        let final_event = match rule {
            Some(RuleOutcome::Reject { code }) => return Err(rejection(code, &draft.to)),
            Some(RuleOutcome::Fail { status, code }) => Event {
                status: match status {
                    FinalStatus::Undelivered => Status::Undelivered,
                    FinalStatus::Failed => Status::Failed,
                },
                error_code: Some(code),
            },
            None => Event {
                status: Status::Delivered,
                error_code: None,
            },
        };
        // Both clocks are read together so the accepted_at a test sees agrees with the window.
        let (instant, now) = (Instant::now(), Utc::now());
        if !state
            .rate
            .try_take(draft.sender.rate_key(), draft.num_segments, instant)
        {
            return Err(ApiError::TooManyRequests);
        }
        let (from, messaging_service_sid, status) = match draft.sender {
            Sender::Number(number) => (Some(number), None, Status::Queued),
            Sender::Service { sid, from } => (from, Some(sid), Status::Accepted),
        };
        let stored = StoredMessage {
            from: from
                .clone()
                .unwrap_or_else(|| MESSAGING_SERVICE_NUMBER.to_owned()),
            message: AcceptedMessage {
                sid: crate::sid::new("SM"),
                account_sid: account.sid.clone(),
                to: draft.to,
                from,
                messaging_service_sid,
                body: draft.body,
                num_segments: draft.num_segments,
                accepted_at: now,
                status_callback: draft.status_callback,
                validity_period: draft.validity_period,
            },
            status,
            date_updated: now,
            date_sent: None,
            error_code: None,
        };
        state.store.push(stored.clone());
        let hang = state.faults.hang();
        let delay = state.callback_delay;
        drop(state);
        let lifecycle = Lifecycle {
            sid: stored.message.sid.clone(),
            account_sid: account.sid.clone(),
            auth_token: account.auth_token.clone(),
            from: stored.from.clone(),
            to: stored.message.to.clone(),
            messaging_service_sid: stored.message.messaging_service_sid.clone(),
            num_segments: stored.message.num_segments,
            status_callback: stored.message.status_callback.clone(),
            final_event,
        };
        tokio::spawn(callbacks::run(Arc::clone(self), lifecycle, delay));
        Ok(Admitted { stored, hang })
    }
}
