//! What a simulator is set up with: accounts, timing, callback behaviour, failure rules, faults
//! and rate limits.

use std::collections::HashMap;
use std::time::Duration;

/// A Twilio account the simulator accepts requests for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// `AC` followed by 32 hex digits.
    pub sid: String,
    pub auth_token: String,
    /// API keys of this account: `(SK..., secret)`.
    pub api_keys: Vec<(String, String)>,
}

impl Account {
    /// An account with a random SID and auth token, for tests that need one quickly.
    pub fn random() -> Self {
        Self {
            sid: crate::sid::new("AC"),
            auth_token: crate::sid::hex32(),
            api_keys: Vec::new(),
        }
    }

    /// Adds a random API key and returns its `(SK..., secret)`.
    pub fn add_api_key(&mut self) -> (String, String) {
        let key = (crate::sid::new("SK"), crate::sid::hex32());
        self.api_keys.push(key.clone());
        key
    }
}

/// How status callbacks reach the `StatusCallback` URL.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CallbackMode {
    #[default]
    InOrder,
    /// The same callbacks, never in the order the statuses happened.
    OutOfOrder,
    /// Every callback is sent twice.
    Twice,
    /// No callbacks at all (statuses still advance, as seen by fetch and list).
    None,
}

/// The status a message ends in when a [`RuleOutcome::Fail`] rule matches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinalStatus {
    Undelivered,
    Failed,
}

/// What happens to messages whose `To` ends with `to_suffix`. The first matching rule wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureRule {
    pub to_suffix: String,
    pub outcome: RuleOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleOutcome {
    /// The create answers 400 with this Twilio error code (21211, 21614, 21610, ...); nothing
    /// is accepted.
    Reject { code: u32 },
    /// The message is accepted, then its callbacks end in `status` with this `ErrorCode`.
    Fail { status: FinalStatus, code: u32 },
}

/// Injected trouble, consumed one create at a time. Counters go down as they fire, so a test can
/// set a few and then watch the client recover.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// The next N creates answer 500 and 503 alternately, without accepting anything.
    pub server_errors: u32,
    /// The next N creates answer 429 (error 20429), without accepting anything.
    pub too_many_requests: u32,
    /// The next N accepted creates are recorded (and their callbacks scheduled), but their
    /// answer is held for `hang_for`: a client that gives up earlier cannot tell whether the
    /// message went.
    pub accept_then_hang: u32,
    pub hang_for: Duration,
}

#[derive(Debug, Clone, Default)]
pub struct SimConfig {
    pub accounts: Vec<Account>,
    /// How long a create takes to answer (after authentication and validation).
    pub latency: Duration,
    /// Time before the first status callback and between the next ones.
    pub callback_delay: Duration,
    pub callbacks: CallbackMode,
    pub rules: Vec<FailureRule>,
    pub faults: Faults,
    /// Segments per second per sender (`From` number or Messaging Service SID); a sender without
    /// an entry (or with 0) is unlimited.
    pub rate_limits: HashMap<String, u32>,
}
