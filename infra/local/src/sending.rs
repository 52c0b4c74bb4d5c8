//! Sending in the local host: the sender's worker pool on the durable send queue, calling
//! Twilio itself (`--twilio-base-url`) or, by default, the Twilio simulator mounted at
//! `/twilio-sim/` on the host's own port, whose account is the platform's default Twilio
//! account (tenants without credentials of their own send through it).

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use rand::Rng as _;
use secrecy::{ExposeSecret as _, SecretString};
use sender::{Sender, SenderConfig, WorkerPool};
use smscrm_domain::ports::{Queue, Secrets};
use smscrm_http::AppContext;
use smscrm_twilio::credentials::{DEFAULT_FALLBACK_SECRET, credentials_json};
use smscrm_twilio::{CredentialSource, TwilioClient};

/// How long a Twilio call may take before its outcome counts as unknown.
pub const TWILIO_TIMEOUT: Duration = Duration::from_secs(10);
/// Path the simulator is mounted at.
pub const SIM_PATH: &str = "/twilio-sim";

/// The sender of the local host, talking to `twilio_base_url`; a call unanswered after
/// `twilio_timeout` has an unknown outcome.
pub fn sender(
    ctx: &AppContext,
    secrets: Arc<dyn Secrets>,
    twilio_base_url: &str,
    twilio_timeout: Duration,
    config: SenderConfig,
) -> anyhow::Result<Sender> {
    let table = &ctx.table;
    Ok(Sender {
        tenants: ctx.tenants.clone(),
        campaigns: smscrm_store::Campaigns::new(table.clone()),
        contacts: smscrm_store::Contacts::new(table.clone()),
        messages: smscrm_store::Messages::new(table.clone()),
        suppressions: smscrm_store::DoNotContact::new(table.clone()),
        dispatches: smscrm_store::Dispatches::new(table.clone()),
        provider: Arc::new(
            TwilioClient::new(twilio_base_url, twilio_timeout)
                .context("the Twilio base URL is not usable")?,
        ),
        credentials: CredentialSource::new(secrets, Some(DEFAULT_FALLBACK_SECRET.to_owned())),
        clock: ctx.clock.clone(),
        config: SenderConfig {
            call_timeout: twilio_timeout,
            ..config
        },
    })
}

/// The pool of `workers` sender workers on the send queue.
pub fn worker_pool(sender: Sender, sends: Arc<dyn Queue>) -> WorkerPool {
    let workers = sender.config.workers;
    WorkerPool {
        sender: Arc::new(sender),
        queue: sends,
        workers,
    }
}

/// The simulator's account: the platform's default Twilio credentials, made once per data
/// directory and kept in its secrets.
pub async fn simulator_account(secrets: &dyn Secrets) -> anyhow::Result<twilio_sim::Account> {
    #[derive(serde::Deserialize)]
    struct Stored {
        account_sid: String,
        auth_token: String,
    }
    if let Some(value) = secrets.get(DEFAULT_FALLBACK_SECRET).await?
        && let Ok(stored) = serde_json::from_str::<Stored>(value.expose_secret())
    {
        return Ok(twilio_sim::Account {
            sid: stored.account_sid,
            auth_token: stored.auth_token,
            api_keys: Vec::new(),
        });
    }
    let hex = |n: usize| -> String {
        let mut rng = rand::rng();
        (0..n)
            .map(|_| char::from_digit(rng.random_range(0..16), 16).unwrap_or('0'))
            .collect()
    };
    let account = twilio_sim::Account {
        sid: format!("AC{}", hex(32)),
        auth_token: hex(32),
        api_keys: Vec::new(),
    };
    secrets
        .put(
            DEFAULT_FALLBACK_SECRET,
            SecretString::from(credentials_json(&account.sid, &account.auth_token)),
        )
        .await?;
    Ok(account)
}
