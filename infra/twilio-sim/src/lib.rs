//! A Twilio simulator: a real HTTP server speaking Twilio's Messages API wire format (create,
//! fetch, list), with signed status callbacks, and knobs for what real Twilio does to a sender:
//! latency, failures, 429s, 5xx, answers that never come, and per-sender throughput.
//!
//! Tests start it in-process with [`Simulator::start`]; the local host mounts
//! [`Simulator::router`] under `/twilio-sim`.

mod api;
mod auth;
mod callbacks;
mod config;
mod error;
mod faults;
mod inspect;
mod listing;
mod rate;
mod resource;
mod sid;
mod state;
mod store;
mod validate;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;

pub use config::{Account, CallbackMode, FailureRule, Faults, FinalStatus, RuleOutcome, SimConfig};
pub use error::ApiError;
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
    /// fetch), `GET /messages` (inspection) and `DELETE /messages` (forget everything).
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
}
