//! Campaign fan-out on the embedded store: a 100,000-contact audience to message records and
//! queued send work, as `smscrm serve` runs it (`serve::dispatcher`), in release mode.
//!
//! `cargo bench -p smscrm-local-host --bench fan_out` (options: BENCH_CONTACTS=100000)

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use smscrm_domain::campaign::{Action, Audience, Campaign, CampaignDraft, SenderInput};
use smscrm_domain::contact::ConsentInput;
use smscrm_domain::ports::{ManualClock, Table};
use smscrm_domain::template::{Template, TemplateDraft};
use smscrm_domain::{ConsentStatus, ContactMerge, PhoneE164, Tenant};
use smscrm_http::AppContext;
use smscrm_store::{Campaigns, Tenants};

/// Area codes across the US zones, so quiet hours hold some recipients (it is 10:00 in New
/// York on the bench's clock: 07:00 on the west coast).
const AREAS: [&str; 8] = ["212", "617", "305", "312", "713", "303", "415", "206"];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let total: usize = std::env::var("BENCH_CONTACTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir()?;
    let table: Arc<dyn Table> = Arc::new(smscrm_local::SqliteTable::open(
        &dir.path().join("store.db"),
    )?);
    let now: DateTime<Utc> = "2026-11-23T15:00:00Z".parse()?;
    let ctx = AppContext::new(table.clone(), Arc::new(ManualClock::new(now)));
    let queues = common::sqlite_queues(dir.path())?;

    let tenant = Tenant::new("Bench Bakery", "America/New_York", "US", now)?;
    Tenants::new(table.clone()).create(&tenant).await?;
    let started = Instant::now();
    let rows: Vec<ContactMerge> = (0..total).map(contact).collect();
    for chunk in rows.chunks(1000) {
        ctx.contacts
            .import_batch(&tenant.id, chunk, now, true)
            .await?;
    }
    println!(
        "contacts={total}: imported in {:.2} s",
        started.elapsed().as_secs_f64()
    );

    let template = Template::new(
        TemplateDraft {
            name: "Sale".into(),
            body: "Hi {{first_name|there}}, fresh bread today: {{link}}".into(),
        },
        &Default::default(),
        now,
    )?;
    ctx.templates.create(&tenant.id, &template).await?;
    let campaign = Campaign::new(
        CampaignDraft {
            name: "Sale".into(),
            template_id: template.id.to_string(),
            audience: Audience::default(),
            sender: SenderInput {
                from: Some("+14155550100".into()),
                messaging_service_sid: None,
            },
            link: Some("https://bakery.example/sale".into()),
        },
        tenant.default_region,
        now,
    )?;
    let campaigns = Campaigns::new(table.clone());
    campaigns.create(&tenant.id, &campaign).await?;
    campaigns
        .act(
            &tenant.id,
            &campaign.id,
            Action::Launch { later: false },
            None,
            now,
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;

    let dispatcher = smscrm_local_host::serve::dispatcher(&ctx, &queues);
    let job = campaign_dispatcher::DispatchJob {
        tenant_id: tenant.id.clone(),
        campaign_id: campaign.id.clone(),
    };
    let started = Instant::now();
    let outcome = dispatcher.handle(&job, None).await?;
    let elapsed = started.elapsed().as_secs_f64();
    let campaign_dispatcher::Outcome::Finished(counts) = outcome else {
        anyhow::bail!("fan-out did not finish: {outcome:?}");
    };
    let queued_messages = queues.sends.approximate_len().await?;
    println!(
        "fan-out: {total} contacts -> {} records ({} queued, held {:?}, skipped {:?}) and {queued_messages} send messages in {elapsed:.2} s = {:.0} recipients/s",
        counts.audience,
        counts.queued,
        counts.held,
        counts.skipped,
        counts.audience as f64 / elapsed
    );
    Ok(())
}

fn contact(i: usize) -> ContactMerge {
    let area = AREAS[i % AREAS.len()];
    let exchange = 200 + (i / 10_000) % 700;
    let line = i % 10_000;
    ContactMerge {
        phone: PhoneE164::from_e164_unchecked(format!("+1{area}{exchange:03}{line:04}")),
        first_name: (!i.is_multiple_of(10)).then(|| format!("Person{i}")),
        last_name: None,
        email: None,
        tags: vec![],
        attributes: BTreeMap::new(),
        consent: (!i.is_multiple_of(20)).then(|| ConsentInput {
            status: ConsentStatus::Explicit,
            source: Some("bench".into()),
        }),
    }
}
