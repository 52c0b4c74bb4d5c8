//! A Twilio simulator: a real HTTP server speaking Twilio's Messages API wire format (create,
//! fetch, list), with signed status callbacks, and knobs for what real Twilio does to a sender:
//! latency, failures, 429s, 5xx, answers that never come, and per-sender throughput. People
//! text in too: incoming-message webhooks, Twilio's default STOP/START/HELP handling, and TwiML
//! replies.
//!
//! Tests start it in-process with [`Simulator::start`]; the local host mounts
//! [`Simulator::router`] under `/twilio-sim`.

mod api;
mod auth;
mod callbacks;
mod config;
mod error;
mod faults;
mod inbound;
mod inspect;
mod listing;
mod opt_out;
mod rate;
mod resource;
mod sid;
mod state;
mod store;
mod twiml;
mod validate;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;

pub use config::{Account, CallbackMode, FailureRule, Faults, FinalStatus, RuleOutcome, SimConfig};
pub use error::ApiError;
pub use inbound::{Inbound, InboundError, Reply, ReplySource};
pub use listing::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
pub use resource::API_VERSION;
pub use state::MESSAGING_SERVICE_NUMBER;
pub use store::{AcceptedMessage, Status};
pub use validate::{MAX_BODY_CHARS, MAX_VALIDITY_PERIOD};

/// A running (or ready to run) simulator. Clones share everything.
#[derive(Debug, Clone)]
pub struct Simulator {
    shared: Arc<state::Shared>,
}

impl Simulator {
    pub fn new(config: SimConfig) -> Self {
        Self {
            shared: Arc::new(state::Shared::new(config)),
        }
    }

    /// Routes relative to the mount point: `/2010-04-01/Accounts/{AccountSid}/Messages.json`
    /// (POST create, GET list), `/2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json` (GET
    /// fetch), `GET /messages` (inspection), `DELETE /messages` (forget everything),
    /// `POST /inbound` (a person texts a number: form `From`, `To`, `Body`) and `GET /replies`.
    pub fn router(&self) -> Router {
        api::routes()
            .merge(inspect::routes())
            .fallback(api::not_found)
            .with_state(Arc::clone(&self.shared))
    }

    /// Binds 127.0.0.1 on a free port and serves [`Self::router`]; returns the base URL (no
    /// trailing slash) and the server's task.
    pub async fn start(&self) -> std::io::Result<(String, tokio::task::JoinHandle<()>)> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let address = listener.local_addr()?;
        let router = self.router();
        let task = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                tracing::error!(%error, "twilio simulator stopped");
            }
        });
        Ok((format!("http://{address}"), task))
    }

    /// Every accepted message, in arrival order.
    pub fn accepted(&self) -> Vec<AcceptedMessage> {
        self.shared.with_store(store::Store::accepted)
    }

    /// The current status of an accepted message.
    pub fn status(&self, sid: &str) -> Option<Status> {
        self.shared
            .with_store(|store| store.get(sid).map(|stored| stored.status))
    }

    /// Forgets every accepted message and the rate windows (limits stay).
    pub fn clear(&self) {
        self.shared.clear();
    }

    /// Adds an account, replacing one with the same SID.
    pub fn add_account(&self, account: Account) {
        self.shared.add_account(account);
    }

    /// Replaces the pending faults.
    pub fn set_faults(&self, faults: Faults) {
        self.shared.set_faults(faults);
    }

    /// Limits a sender (`From` number or Messaging Service SID); 0 lifts its limit.
    pub fn set_rate_limit(&self, sender: &str, segments_per_second: u32) {
        self.shared.set_rate_limit(sender, segments_per_second);
    }

    pub fn set_latency(&self, latency: Duration) {
        self.shared.set_latency(latency);
    }

    /// Adds a failure rule, checked after the ones already there.
    pub fn add_rule(&self, rule: FailureRule) {
        self.shared.add_rule(rule);
    }

    /// Changes the callback mode and delay for messages accepted from now on.
    pub fn set_callbacks(&self, mode: CallbackMode, delay: Duration) {
        self.shared.set_callbacks(mode, delay);
    }

    /// Sets where messages texted to `number` are posted, signed with `account_sid`'s token
    /// (the number's "A message comes in" webhook).
    pub fn set_inbound_url(&self, number: &str, account_sid: &str, url: &str) {
        self.shared.set_inbound_route(
            number,
            inbound::Route {
                account_sid: account_sid.to_owned(),
                url: url.to_owned(),
            },
        );
    }

    /// Turns Twilio's default opt-out handling on (the default) or off.
    pub fn set_opt_out_handling(&self, on: bool) {
        self.shared.set_opt_out_handling(on);
    }

    /// A person (`from`) texts `body` to `to`, one of the numbers given an inbound URL.
    pub async fn receive(&self, from: &str, to: &str, body: &str) -> Result<Inbound, InboundError> {
        inbound::receive(&self.shared, from, to, body).await
    }

    /// Every message texted back to people who texted in, in order.
    pub fn replies(&self) -> Vec<Reply> {
        self.shared.replies()
    }
}
