//! What the sending and webhook benches share: the local host as `smscrm serve` runs it
//! (SQLite store and queues, file secrets), a Twilio simulator holding the platform's account,
//! and a campaign to `n` consenting contacts from a sender allowed `rate` segments a second at
//! any hour, launched and run to completion by the dispatcher and the sender's workers.
// Each bench uses a different part of this module.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveTime, Utc};
use smscrm_domain::campaign::{
    Action, Audience, Campaign, CampaignDraft, CampaignStatus, SenderInput,
};
use smscrm_domain::contact::ConsentInput;
use smscrm_domain::ports::{Queue, Secrets, SystemClock, Table};
use smscrm_domain::quiet_hours::QuietHours;
use smscrm_domain::template::{Template, TemplateDraft};
use smscrm_domain::{ConsentStatus, ContactMerge, PhoneE164, Tenant};
use smscrm_http::AppContext;
use smscrm_local_host::serve::Queues;
use smscrm_store::{Campaigns, Tenants};

pub const FROM: &str = "+14155550100";

pub fn setting(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The host's three queues on SQLite in `dir`, as `smscrm serve` opens them.
pub fn sqlite_queues(dir: &std::path::Path) -> anyhow::Result<Queues> {
    let queue = |name: &str| -> anyhow::Result<Arc<dyn Queue>> {
        Ok(Arc::new(smscrm_local::SqliteQueue::open(
            &dir.join("queue.db"),
            name,
            smscrm_local::QueueConfig {
                visibility_timeout: Duration::from_secs(900),
                max_receives: 10,
                dead_letter: None,
            },
        )?))
    };
    Ok(Queues {
        import_jobs: queue("import-jobs")?,
        dispatch: queue("campaign-dispatch")?,
        sends: queue("sends")?,
    })
}

pub struct Host {
    pub dir: tempfile::TempDir,
    pub table: Arc<dyn Table>,
    pub ctx: AppContext,
    pub queues: Queues,
    pub secrets: Arc<dyn Secrets>,
    pub sim: twilio_sim::Simulator,
    pub sim_url: String,
    pub account: twilio_sim::Account,
}

impl Host {
    pub async fn start(callbacks: twilio_sim::CallbackMode) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let table: Arc<dyn Table> = Arc::new(smscrm_local::SqliteTable::open(
            &dir.path().join("store.db"),
        )?);
        let ctx = AppContext::new(table.clone(), Arc::new(SystemClock));
        let queues = sqlite_queues(dir.path())?;
        let secrets: Arc<dyn Secrets> = Arc::new(smscrm_local::FileSecrets::new(
            dir.path().join("secrets.json"),
        ));
        let account = smscrm_local_host::sending::simulator_account(secrets.as_ref()).await?;
        let sim = twilio_sim::Simulator::new(twilio_sim::SimConfig {
            accounts: vec![account.clone()],
            callbacks,
            ..twilio_sim::SimConfig::default()
        });
        let (sim_url, _server) = sim.start().await?;
        Ok(Self {
            dir,
            table,
            ctx,
            queues,
            secrets,
            sim,
            sim_url,
            account,
        })
    }

    /// Runs the dispatcher and `workers` sender workers; each message's status callback goes to
    /// `public_base_url` when there is one.
    pub fn run_sending(&self, workers: u32, public_base_url: Option<String>) -> anyhow::Result<()> {
        tokio::spawn(
            smscrm_local_host::serve::dispatcher(&self.ctx, &self.queues)
                .consume(Duration::from_secs(600), Duration::from_secs(1)),
        );
        let sender = smscrm_local_host::sending::sender(
            &self.ctx,
            self.secrets.clone(),
            &self.sim_url,
            smscrm_local_host::sending::TWILIO_TIMEOUT,
            sender::SenderConfig {
                workers,
                max_receives: 10,
                public_base_url,
                ..sender::SenderConfig::default()
            },
        )?;
        let pool = smscrm_local_host::sending::worker_pool(sender, self.queues.sends.clone());
        tokio::spawn(pool.run());
        Ok(())
    }

    /// A tenant whose sender may send `rate` segments a second at any hour, `total` consenting
    /// contacts, and a draft campaign to all of them.
    pub async fn campaign(&self, total: usize, rate: u32) -> anyhow::Result<(Tenant, Campaign)> {
        let now = Utc::now();
        let mut tenant = Tenant::new("Bench Bakery", "America/New_York", "US", now)?;
        tenant.quiet_hours = QuietHours {
            opens: NaiveTime::MIN,
            closes: NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN),
        };
        tenant.sender_rates.insert(FROM.into(), rate);
        Tenants::new(self.table.clone()).create(&tenant).await?;
        let rows: Vec<ContactMerge> = (0..total).map(contact).collect();
        for chunk in rows.chunks(1000) {
            self.ctx
                .contacts
                .import_batch(&tenant.id, chunk, now, true)
                .await?;
        }
        let template = Template::new(
            TemplateDraft {
                name: "Bread".into(),
                body: "Hi {{first_name}}, fresh bread today!".into(),
            },
            &Default::default(),
            now,
        )?;
        self.ctx.templates.create(&tenant.id, &template).await?;
        let campaign = Campaign::new(
            CampaignDraft {
                name: "Bread".into(),
                template_id: template.id.to_string(),
                audience: Audience::default(),
                sender: SenderInput {
                    from: Some(FROM.into()),
                    messaging_service_sid: None,
                },
                link: None,
            },
            tenant.default_region,
            now,
        )?;
        Campaigns::new(self.table.clone())
            .create(&tenant.id, &campaign)
            .await?;
        Ok((tenant, campaign))
    }

    /// Launches the campaign and waits for it to complete (at most `within`); returns the
    /// seconds from launch to completed.
    pub async fn launch_and_wait(
        &self,
        tenant: &Tenant,
        campaign: &Campaign,
        within: Duration,
    ) -> anyhow::Result<f64> {
        let campaigns = Campaigns::new(self.table.clone());
        let started = Instant::now();
        campaigns
            .act(
                &tenant.id,
                &campaign.id,
                Action::Launch { later: false },
                None,
                Utc::now(),
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        campaign_dispatcher::enqueue(
            self.queues.dispatch.as_ref(),
            &campaign_dispatcher::DispatchJob {
                tenant_id: tenant.id.clone(),
                campaign_id: campaign.id.clone(),
            },
        )
        .await?;
        loop {
            let current = campaigns
                .get(&tenant.id, &campaign.id)
                .await?
                .map(|c| c.status);
            if current == Some(CampaignStatus::Completed) {
                return Ok(started.elapsed().as_secs_f64());
            }
            anyhow::ensure!(
                started.elapsed() < within,
                "the campaign did not complete in time"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn contact(i: usize) -> ContactMerge {
    let exchange = 200 + (i / 10_000) % 700;
    let line = i % 10_000;
    ContactMerge {
        phone: PhoneE164::from_e164_unchecked(format!("+1212{exchange:03}{line:04}")),
        first_name: Some(format!("Person{i}")),
        last_name: None,
        email: None,
        tags: vec![],
        attributes: BTreeMap::new(),
        consent: Some(ConsentInput {
            status: ConsentStatus::Explicit,
            source: Some("bench".into()),
        }),
    }
}
