//! The campaign dispatcher on both backends, with a clock set by hand: one record per
//! recipient with its reason, quiet hours in the recipient's zone, send work for what may go
//! now, and a fan-out killed mid-way that resumes without writing any record twice.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use campaign_dispatcher::{DispatchJob, Dispatcher, Outcome, Scheduler, SendWork, Tick};
use chrono::{DateTime, Utc};
use smscrm_domain::campaign::{Action, Audience, Campaign, CampaignDraft, SenderInput};
use smscrm_domain::contact::ConsentInput;
use smscrm_domain::ports::{Delivery, ManualClock, OutgoingMessage, Queue, QueueError};
use smscrm_domain::template::{Template, TemplateDraft};
use smscrm_domain::tenant::Budget;
use smscrm_domain::{ConsentStatus, ContactMerge, PhoneE164, Tenant, TenantId};
use smscrm_store::{
    Budgets, Campaigns, Contacts, Dispatches, DoNotContact, MessageStatus, Messages, Suppression,
    Templates, Tenants,
};
use smscrm_tests::backends::Backend;
use tokio::time::Instant;

/// Contacts per fan-out page here: small, so a few hundred contacts make several pages.
const PAGE: u32 = 100;

smscrm_tests::backend_scenarios!(
    every_recipient_gets_one_record_with_its_reason_and_only_the_sendable_are_queued,
    a_fan_out_killed_mid_way_resumes_and_never_writes_a_record_twice,
    a_second_dispatcher_waits_for_the_lease_and_a_paused_campaign_stops,
    messages_past_the_budget_cap_are_held_until_it_resets,
    the_scheduler_starts_scheduled_campaigns_on_time,
    the_scheduler_releases_held_messages_when_their_window_opens,
    a_budget_hold_released_at_midnight_waits_for_the_morning,
    a_cancelled_campaigns_held_messages_are_dropped,
    a_lost_fan_out_job_is_queued_again_unless_the_tenant_is_paused,
    a_paused_campaigns_held_messages_step_aside_until_it_resumes,
    a_message_dearer_than_the_cap_is_skipped_not_held_forever,
    a_release_that_cannot_queue_its_work_gives_its_reservation_back,
);

/// Monday 23 November 2026, 10:00 in New York, 07:00 in Los Angeles.
fn monday_ten_am_new_york() -> DateTime<Utc> {
    at("2026-11-23T15:00:00Z")
}

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .expect("time")
        .with_timezone(&Utc)
}

struct Setup {
    tenant: TenantId,
    campaign: Campaign,
    clock: Arc<ManualClock>,
    jobs: Arc<dyn Queue>,
    sends: Arc<dyn Queue>,
}

impl Setup {
    async fn new(backend: &dyn Backend, body: &str, audience: Audience) -> Self {
        Self::with_tenant(backend, body, audience, |_| {}).await
    }

    async fn with_tenant(
        backend: &dyn Backend,
        body: &str,
        audience: Audience,
        configure: impl FnOnce(&mut Tenant),
    ) -> Self {
        let table = backend.table();
        let clock = Arc::new(ManualClock::new(monday_ten_am_new_york()));
        let mut tenant =
            Tenant::new("Bakery", "America/New_York", "US", clock_now(&clock)).expect("tenant");
        configure(&mut tenant);
        Tenants::new(table.clone())
            .create(&tenant)
            .await
            .expect("tenant");
        let template = Template::new(
            TemplateDraft {
                name: "T".into(),
                body: body.into(),
            },
            &Default::default(),
            clock_now(&clock),
        )
        .expect("template");
        Templates::new(table.clone())
            .create(&tenant.id, &template)
            .await
            .expect("template");
        let mut campaign = Campaign::new(
            CampaignDraft {
                name: "Sale".into(),
                template_id: template.id.to_string(),
                audience,
                sender: SenderInput {
                    from: Some("+14155550100".into()),
                    messaging_service_sid: None,
                },
                link: None,
            },
            tenant.default_region,
            clock_now(&clock),
        )
        .expect("campaign");
        let campaigns = Campaigns::new(table.clone());
        campaigns
            .create(&tenant.id, &campaign)
            .await
            .expect("campaign");
        campaign = campaigns
            .launch(
                &tenant.id,
                &campaign.id,
                false,
                None,
                &template.body,
                clock_now(&clock),
            )
            .await
            .expect("launch");
        Self {
            tenant: tenant.id,
            campaign,
            clock,
            jobs: backend.queue(Default::default()).await.queue,
            sends: backend.queue(Default::default()).await.queue,
        }
    }

    fn dispatcher(&self, backend: &dyn Backend, owner: &str) -> Dispatcher {
        let table = backend.table();
        Dispatcher {
            tenants: Tenants::new(table.clone()),
            campaigns: Campaigns::new(table.clone()),
            templates: Templates::new(table.clone()),
            contacts: Contacts::new(table.clone()),
            suppressions: DoNotContact::new(table.clone()),
            messages: Messages::new(table.clone()),
            dispatches: Dispatches::new(table.clone()),
            budgets: Budgets::new(table),
            jobs: self.jobs.clone(),
            sends: self.sends.clone(),
            clock: self.clock.clone(),
            owner: owner.into(),
            page_size: PAGE,
        }
    }

    fn scheduler(&self, backend: &dyn Backend) -> Scheduler {
        let table = backend.table();
        Scheduler {
            tenants: Tenants::new(table.clone()),
            campaigns: Campaigns::new(table.clone()),
            messages: Messages::new(table.clone()),
            dispatches: Dispatches::new(table.clone()),
            budgets: Budgets::new(table),
            dispatch: self.jobs.clone(),
            sends: self.sends.clone(),
            clock: self.clock.clone(),
        }
    }

    fn job(&self) -> DispatchJob {
        DispatchJob {
            tenant_id: self.tenant.clone(),
            campaign_id: self.campaign.id.clone(),
        }
    }
}

fn clock_now(clock: &ManualClock) -> DateTime<Utc> {
    smscrm_domain::ports::Clock::now(clock)
}

fn person(phone: &str, first: Option<&str>, consent: bool, tags: &[&str]) -> ContactMerge {
    ContactMerge {
        phone: PhoneE164::from_e164(phone).expect("e164"),
        first_name: first.map(str::to_owned),
        last_name: None,
        email: None,
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        attributes: BTreeMap::new(),
        consent: consent.then(|| ConsentInput {
            status: ConsentStatus::Explicit,
            source: Some("web form".into()),
        }),
    }
}

/// Every send-work message on the queue, acked.
async fn drain(sends: &dyn Queue) -> Vec<SendWork> {
    let mut work = Vec::new();
    loop {
        let batch = sends
            .receive(10, Duration::from_millis(100))
            .await
            .expect("receive");
        if batch.is_empty() {
            return work;
        }
        for delivery in batch {
            work.push(serde_json::from_str(&delivery.body).expect("send work"));
            sends.ack(&delivery.receipt).await.expect("ack");
        }
    }
}

async fn every_recipient_gets_one_record_with_its_reason_and_only_the_sendable_are_queued(
    backend: &dyn Backend,
) {
    let audience = Audience {
        tags: vec!["vip".into()],
        ..Audience::default()
    };
    let setup = Setup::new(backend, "Hi {{first_name}}", audience).await;
    let table = backend.table();
    let rows = [
        person("+12125550101", Some("Ada"), true, &["vip"]), // New York: queued
        person("+14155550102", Some("Grace"), true, &["vip"]), // Los Angeles: 07:00, held
        person("+12125550103", Some("Cy"), false, &["vip"]), // no consent
        person("+12125550104", Some("Di"), true, &["vip"]),  // do not contact
        person("+12125550105", None, true, &["vip"]),        // no first name
        person("+12125550106", Some("Ed"), true, &[]),       // not in the audience
    ];
    Contacts::new(table.clone())
        .import_batch(&setup.tenant, &rows, clock_now(&setup.clock), true)
        .await
        .expect("contacts");
    DoNotContact::new(table.clone())
        .add(
            &setup.tenant,
            &Suppression {
                phone: PhoneE164::from_e164("+12125550104").expect("e164"),
                reason: "stop_reply".into(),
                at: clock_now(&setup.clock),
                source: None,
            },
        )
        .await
        .expect("dnc");

    // Edited after launch: the campaign keeps the body it launched with.
    let templates = Templates::new(table.clone());
    let (mut template, version) = templates
        .get_versioned(&setup.tenant, &setup.campaign.template_id)
        .await
        .expect("get")
        .expect("template");
    template.body = "Changed".into();
    templates
        .replace(&setup.tenant, &template, version)
        .await
        .expect("edit");
    let outcome = setup
        .dispatcher(backend, "a")
        .handle(&setup.job(), None)
        .await
        .expect("dispatch");
    let Outcome::Finished(counts) = outcome else {
        panic!("{outcome:?}");
    };
    assert_eq!(counts.audience, 5);
    assert_eq!(counts.queued, 1);
    assert_eq!(counts.held, BTreeMap::from([("quiet_hours".into(), 1)]));
    assert_eq!(
        counts.skipped,
        BTreeMap::from([
            ("do_not_contact".into(), 1),
            ("missing_variable".into(), 1),
            ("no_consent".into(), 1),
        ])
    );

    let records = Messages::new(table)
        .all(&setup.tenant, &setup.campaign.id)
        .await
        .expect("records");
    assert_eq!(records.len(), 5);
    let by_phone = |phone: &str| {
        records
            .iter()
            .find(|r| r.phone.as_str() == phone)
            .unwrap_or_else(|| panic!("a record for {phone}"))
    };
    let ada = by_phone("+12125550101");
    assert_eq!(ada.status, MessageStatus::Queued);
    assert_eq!(ada.text.as_deref(), Some("Hi Ada\nReply STOP to opt out"));
    assert_eq!(ada.segments, 1);
    // The end of her window: 21:00 in New York.
    assert_eq!(ada.send_before, Some(at("2026-11-24T02:00:00Z")));
    let grace = by_phone("+14155550102");
    assert_eq!(
        (grace.status, grace.reason.as_deref()),
        (MessageStatus::Held, Some("quiet_hours"))
    );
    // 08:00 and 21:00 in Los Angeles.
    assert_eq!(grace.release_at, Some(at("2026-11-23T16:00:00Z")));
    assert_eq!(grace.send_before, Some(at("2026-11-24T05:00:00Z")));
    let nameless = by_phone("+12125550105");
    assert_eq!(
        (nameless.reason.as_deref(), nameless.variable.as_deref()),
        (Some("missing_variable"), Some("first_name"))
    );
    assert_eq!(
        by_phone("+12125550103").reason.as_deref(),
        Some("no_consent")
    );
    assert_eq!(
        by_phone("+12125550104").reason.as_deref(),
        Some("do_not_contact")
    );

    let work = drain(setup.sends.as_ref()).await;
    assert_eq!(work.len(), 1);
    assert_eq!(work[0].contact_id, ada.contact_id);
    assert_eq!(work[0].campaign_id, setup.campaign.id);

    // Running the finished fan-out again writes nothing and queues nothing...
    let again = setup
        .dispatcher(backend, "a")
        .handle(&setup.job(), None)
        .await
        .expect("again");
    assert_eq!(again, Outcome::Finished(counts.clone()));
    assert!(drain(setup.sends.as_ref()).await.is_empty());
    // ...unless a sender parked the campaign (a kill switch, a pause): then a resume's run
    // queues again the work of the records still waiting to be sent, only Ada's, and removes
    // the mark. The sender's claim keeps it from going twice.
    let messages = Messages::new(backend.table());
    messages
        .park(&setup.tenant, &setup.campaign.id, clock_now(&setup.clock))
        .await
        .expect("park");
    let resumed = setup
        .dispatcher(backend, "a")
        .handle(&setup.job(), None)
        .await
        .expect("resumed");
    assert_eq!(resumed, Outcome::Finished(counts));
    assert_eq!(drain(setup.sends.as_ref()).await, work);
    assert_eq!(
        messages
            .parked_at(&setup.tenant, &setup.campaign.id)
            .await
            .expect("read"),
        None
    );
}

async fn a_fan_out_killed_mid_way_resumes_and_never_writes_a_record_twice(backend: &dyn Backend) {
    let setup = Setup::new(backend, "Hello", Audience::default()).await;
    let table = backend.table();
    let rows: Vec<ContactMerge> = (0..250)
        .map(|i| person(&format!("+1212555{:04}", i), Some("A"), true, &[]))
        .collect();
    let contacts = Contacts::new(table.clone());
    for chunk in rows.chunks(1000) {
        contacts
            .import_batch(&setup.tenant, chunk, clock_now(&setup.clock), true)
            .await
            .expect("contacts");
    }
    let first = setup.dispatcher(backend, "first");
    let dispatches = Dispatches::new(table.clone());
    let now = Some(Instant::now());
    // One page, then the deadline.
    assert_eq!(
        first.handle(&setup.job(), now).await.expect("page 1"),
        Outcome::Paused
    );
    let after_page_one = dispatches
        .get(&setup.tenant, &setup.campaign.id)
        .await
        .expect("state")
        .expect("saved");
    assert_eq!(after_page_one.counts.audience, 100);
    // Page 2 is written and queued, then the process dies before its progress is saved:
    // put back the state as it was after page 1.
    assert_eq!(
        first.handle(&setup.job(), now).await.expect("page 2"),
        Outcome::Paused
    );
    // As it was while the first dispatcher worked: its lease still live.
    let mut rolled_back = after_page_one.clone();
    rolled_back.lease_until = Some(clock_now(&setup.clock).timestamp_millis() + 300_000);
    dispatches
        .save(&setup.tenant, &setup.campaign.id, &rolled_back)
        .await
        .expect("roll back");

    // Another dispatcher waits out the dead one's lease, then finishes.
    let second = setup.dispatcher(backend, "second");
    let busy = second.handle(&setup.job(), None).await.expect("busy");
    assert!(matches!(busy, Outcome::Busy { .. }), "{busy:?}");
    setup.clock.advance(chrono::Duration::minutes(6));
    let Outcome::Finished(counts) = second.handle(&setup.job(), None).await.expect("resume") else {
        panic!("not finished");
    };
    assert_eq!((counts.audience, counts.queued), (250, 250));

    let records = Messages::new(table)
        .all(&setup.tenant, &setup.campaign.id)
        .await
        .expect("records");
    assert_eq!(records.len(), 250);
    let distinct: HashSet<_> = records.iter().map(|r| r.contact_id.clone()).collect();
    assert_eq!(distinct.len(), 250);
    // Send work is at least once: page 2 was queued twice, and every record at least once.
    let work = drain(setup.sends.as_ref()).await;
    assert_eq!(work.len(), 350);
    let queued: HashSet<_> = work.into_iter().map(|w| w.contact_id).collect();
    assert_eq!(queued, distinct);
}

async fn a_second_dispatcher_waits_for_the_lease_and_a_paused_campaign_stops(
    backend: &dyn Backend,
) {
    let setup = Setup::new(backend, "Hello", Audience::default()).await;
    let table = backend.table();
    let rows: Vec<ContactMerge> = (0..150)
        .map(|i| person(&format!("+1212555{:04}", i), Some("A"), true, &[]))
        .collect();
    let contacts = Contacts::new(table.clone());
    for chunk in rows.chunks(1000) {
        contacts
            .import_batch(&setup.tenant, chunk, clock_now(&setup.clock), true)
            .await
            .expect("contacts");
    }
    let first = setup.dispatcher(backend, "first");
    assert_eq!(
        first
            .handle(&setup.job(), Some(Instant::now()))
            .await
            .expect("page 1"),
        Outcome::Paused
    );
    // The continuation is on the jobs queue.
    let continuation = setup
        .jobs
        .receive(1, Duration::from_millis(500))
        .await
        .expect("receive");
    assert_eq!(continuation.len(), 1);
    let job: DispatchJob = serde_json::from_str(&continuation[0].body).expect("job");
    assert_eq!(job, setup.job());

    // A run that pauses gives its lease up; one at work holds it.
    Dispatches::new(table.clone())
        .acquire(
            &setup.tenant,
            &setup.campaign.id,
            "first",
            campaign_dispatcher::LEASE,
            clock_now(&setup.clock),
        )
        .await
        .expect("the first dispatcher at work again");
    let busy = setup
        .dispatcher(backend, "second")
        .handle(&setup.job(), None)
        .await
        .expect("busy");
    let Outcome::Busy { retry_in } = busy else {
        panic!("{busy:?}");
    };
    assert!(retry_in > Duration::from_secs(200) && retry_in <= Duration::from_secs(300));

    Campaigns::new(table.clone())
        .act(
            &setup.tenant,
            &setup.campaign.id,
            Action::Pause,
            None,
            clock_now(&setup.clock),
        )
        .await
        .expect("pause");
    let stopped = first.handle(&setup.job(), None).await.expect("paused");
    assert!(matches!(stopped, Outcome::Skipped(_)), "{stopped:?}");
    let records = Messages::new(table)
        .all(&setup.tenant, &setup.campaign.id)
        .await
        .expect("records");
    assert_eq!(records.len(), 100);
}

async fn messages_past_the_budget_cap_are_held_until_it_resets(backend: &dyn Backend) {
    // 2 cents a day: four segments at the tenant's 0.5 cents, not five.
    let setup = Setup::with_tenant(backend, "Hello", Audience::default(), |tenant| {
        tenant.budget = Budget {
            daily_cap_cents: Some(2),
            monthly_cap_cents: None,
        };
        tenant.segment_prices.default = 500;
    })
    .await;
    let table = backend.table();
    let rows: Vec<ContactMerge> = (0..5)
        .map(|i| person(&format!("+1212555{:04}", i), Some("A"), true, &[]))
        .collect();
    Contacts::new(table.clone())
        .import_batch(&setup.tenant, &rows, clock_now(&setup.clock), true)
        .await
        .expect("contacts");
    let Outcome::Finished(counts) = setup
        .dispatcher(backend, "a")
        .handle(&setup.job(), None)
        .await
        .expect("dispatch")
    else {
        panic!("not finished");
    };
    assert_eq!(counts.queued, 4);
    assert_eq!(counts.held, BTreeMap::from([("budget".into(), 1)]));
    let records = Messages::new(table.clone())
        .all(&setup.tenant, &setup.campaign.id)
        .await
        .expect("records");
    let held: Vec<_> = records
        .iter()
        .filter(|r| r.status == MessageStatus::Held)
        .collect();
    assert_eq!(held.len(), 1);
    // The next midnight in New York.
    assert_eq!(held[0].release_at, Some(at("2026-11-24T05:00:00Z")));
    assert!(records.iter().all(|r| r.cost_millicents == 500));
    let spent = Budgets::new(table)
        .spent(
            &setup.tenant,
            chrono_tz::America::New_York,
            clock_now(&setup.clock),
        )
        .await
        .expect("spent");
    assert_eq!(spent, (2000, 2000));
    assert_eq!(drain(setup.sends.as_ref()).await.len(), 4);
}

async fn the_scheduler_starts_scheduled_campaigns_on_time(backend: &dyn Backend) {
    let setup = Setup::new(backend, "Hello", Audience::default()).await;
    // The campaign `Setup` launched fans out now, so only the scheduled one is the scheduler's.
    setup
        .dispatcher(backend, "a")
        .handle(&setup.job(), None)
        .await
        .expect("dispatch");
    let table = backend.table();
    let campaigns = Campaigns::new(table.clone());
    let template_id = setup.campaign.template_id.to_string();
    let draft = CampaignDraft {
        name: "Later".into(),
        template_id,
        audience: Audience::default(),
        sender: SenderInput {
            from: Some("+14155550100".into()),
            messaging_service_sid: None,
        },
        link: None,
    };
    let region = "US".parse().expect("region");
    let later = Campaign::new(draft, region, clock_now(&setup.clock)).expect("campaign");
    campaigns
        .create(&setup.tenant, &later)
        .await
        .expect("create");
    let send_at = clock_now(&setup.clock) + chrono::Duration::hours(1);
    campaigns
        .act(
            &setup.tenant,
            &later.id,
            Action::Launch { later: true },
            Some(send_at),
            clock_now(&setup.clock),
        )
        .await
        .expect("schedule");
    let scheduler = setup.scheduler(backend);
    assert_eq!(scheduler.tick().await.expect("tick").started, 0);

    setup.clock.advance(chrono::Duration::minutes(61));
    assert_eq!(scheduler.tick().await.expect("tick").started, 1);
    let started = campaigns
        .get(&setup.tenant, &later.id)
        .await
        .expect("get")
        .expect("campaign");
    assert_eq!(
        started.status,
        smscrm_domain::campaign::CampaignStatus::Sending
    );
    let jobs = setup
        .jobs
        .receive(10, Duration::from_millis(500))
        .await
        .expect("receive");
    let jobs: Vec<DispatchJob> = jobs
        .iter()
        .map(|d| serde_json::from_str(&d.body).expect("job"))
        .collect();
    assert_eq!(
        jobs,
        [DispatchJob {
            tenant_id: setup.tenant.clone(),
            campaign_id: later.id.clone()
        }]
    );
    // Started once: the index no longer lists it.
    assert_eq!(scheduler.tick().await.expect("tick"), Tick::default());
}

/// A campaign fanned out at 10:00 in New York to Ada there (queued, its work taken off the
/// queue) and Grace in Los Angeles (held until 08:00 there).
async fn ada_queued_grace_held(backend: &dyn Backend) -> Setup {
    let setup = Setup::new(backend, "Hello", Audience::default()).await;
    let rows = [
        person("+12125550101", Some("Ada"), true, &[]),
        person("+14155550102", Some("Grace"), true, &[]),
    ];
    Contacts::new(backend.table())
        .import_batch(&setup.tenant, &rows, clock_now(&setup.clock), true)
        .await
        .expect("contacts");
    setup
        .dispatcher(backend, "a")
        .handle(&setup.job(), None)
        .await
        .expect("dispatch");
    assert_eq!(drain(setup.sends.as_ref()).await.len(), 1);
    setup
}

async fn the_scheduler_releases_held_messages_when_their_window_opens(backend: &dyn Backend) {
    let setup = ada_queued_grace_held(backend).await;
    let table = backend.table();
    let scheduler = setup.scheduler(backend);
    setup.clock.set(at("2026-11-23T15:59:00Z"));
    assert_eq!(scheduler.tick().await.expect("tick"), Tick::default());

    // 08:00 in Los Angeles.
    setup.clock.set(at("2026-11-23T16:00:30Z"));
    let tick = scheduler.tick().await.expect("tick");
    assert_eq!(tick.released, 1);
    let work = drain(setup.sends.as_ref()).await;
    assert_eq!(work.len(), 1);
    let grace = Messages::new(table.clone())
        .get(&setup.tenant, &setup.campaign.id, &work[0].contact_id)
        .await
        .expect("get")
        .expect("record");
    assert_eq!(grace.phone.as_str(), "+14155550102");
    assert_eq!((grace.status, grace.reason), (MessageStatus::Queued, None));
    // The campaign's counts follow: two queued, none held.
    let dispatches = Dispatches::new(table.clone());
    let mut counts = dispatches
        .get(&setup.tenant, &setup.campaign.id)
        .await
        .expect("state")
        .expect("saved")
        .counts;
    assert_eq!(counts.held, BTreeMap::from([("quiet_hours".into(), 1)]));
    counts.apply(
        &dispatches
            .changes(&setup.tenant, &setup.campaign.id)
            .await
            .expect("changes"),
    );
    assert_eq!((counts.queued, counts.held.len()), (2, 0));
    // Released once.
    assert_eq!(scheduler.tick().await.expect("tick"), Tick::default());
}

async fn a_budget_hold_released_at_midnight_waits_for_the_morning(backend: &dyn Backend) {
    let setup = Setup::with_tenant(backend, "Hello", Audience::default(), |tenant| {
        tenant.budget = Budget {
            daily_cap_cents: Some(1),
            monthly_cap_cents: None,
        };
        tenant.segment_prices.default = 500;
    })
    .await;
    let table = backend.table();
    let rows = [
        person("+12125550101", Some("Ada"), true, &[]),
        person("+12125550102", Some("Bo"), true, &[]),
        person("+12125550103", Some("Cy"), true, &[]),
    ];
    Contacts::new(table.clone())
        .import_batch(&setup.tenant, &rows, clock_now(&setup.clock), true)
        .await
        .expect("contacts");
    let Outcome::Finished(counts) = setup
        .dispatcher(backend, "a")
        .handle(&setup.job(), None)
        .await
        .expect("dispatch")
    else {
        panic!("not finished");
    };
    assert_eq!(counts.held, BTreeMap::from([("budget".into(), 1)]));
    let scheduler = setup.scheduler(backend);
    // Midnight in New York: the budget is new, but the window is closed until 08:00.
    setup.clock.set(at("2026-11-24T05:00:30Z"));
    let tick = scheduler.tick().await.expect("tick");
    assert_eq!((tick.released, tick.kept), (0, 1));
    setup.clock.set(at("2026-11-24T13:00:30Z"));
    assert_eq!(scheduler.tick().await.expect("tick").released, 1);
    let spent = Budgets::new(table)
        .spent(
            &setup.tenant,
            chrono_tz::America::New_York,
            clock_now(&setup.clock),
        )
        .await
        .expect("spent");
    assert_eq!(spent.0, 500);
}

async fn a_cancelled_campaigns_held_messages_are_dropped(backend: &dyn Backend) {
    let setup = Setup::new(backend, "Hello", Audience::default()).await;
    let table = backend.table();
    let rows = [person("+14155550102", Some("Grace"), true, &[])];
    Contacts::new(table.clone())
        .import_batch(&setup.tenant, &rows, clock_now(&setup.clock), true)
        .await
        .expect("contacts");
    setup
        .dispatcher(backend, "a")
        .handle(&setup.job(), None)
        .await
        .expect("dispatch");
    Campaigns::new(table.clone())
        .act(
            &setup.tenant,
            &setup.campaign.id,
            Action::Cancel,
            None,
            clock_now(&setup.clock),
        )
        .await
        .expect("cancel");
    setup.clock.set(at("2026-11-23T16:00:30Z"));
    let scheduler = setup.scheduler(backend);
    let tick = scheduler.tick().await.expect("tick");
    assert_eq!((tick.released, tick.dropped), (0, 1));
    let records = Messages::new(table)
        .all(&setup.tenant, &setup.campaign.id)
        .await
        .expect("records");
    assert_eq!(
        (records[0].status, records[0].reason.as_deref()),
        (MessageStatus::Skipped, Some("campaign_cancelled"))
    );
    assert!(drain(setup.sends.as_ref()).await.is_empty());
    assert_eq!(scheduler.tick().await.expect("tick"), Tick::default());
}

async fn a_lost_fan_out_job_is_queued_again_unless_the_tenant_is_paused(backend: &dyn Backend) {
    // Launched (by `Setup`), but its dispatch job never ran.
    let setup = Setup::new(backend, "Hello", Audience::default()).await;
    let scheduler = setup.scheduler(backend);
    let jobs = |queue: Arc<dyn Queue>| async move {
        let found = queue
            .receive(10, Duration::from_millis(300))
            .await
            .expect("receive");
        for delivery in &found {
            queue.ack(&delivery.receipt).await.expect("ack");
        }
        found.len()
    };
    // A job queued a moment ago may still be on its way.
    setup.clock.advance(chrono::Duration::seconds(30));
    assert_eq!(scheduler.tick().await.expect("tick").redispatched, 0);

    let tenants = Tenants::new(backend.table());
    tenants
        .set_paused(&setup.tenant, true)
        .await
        .expect("pause");
    // The kill switch: a fan-out job finds nothing to do, and writes nothing.
    let stopped = setup
        .dispatcher(backend, "a")
        .handle(&setup.job(), None)
        .await
        .expect("paused tenant");
    assert_eq!(stopped, Outcome::Skipped("the tenant's kill switch is on"));
    let records = Messages::new(backend.table())
        .all(&setup.tenant, &setup.campaign.id)
        .await
        .expect("records");
    assert!(records.is_empty());
    setup.clock.advance(chrono::Duration::minutes(3));
    assert_eq!(scheduler.tick().await.expect("tick").redispatched, 0);
    assert_eq!(jobs(setup.jobs.clone()).await, 0);

    tenants
        .set_paused(&setup.tenant, false)
        .await
        .expect("resume");
    assert_eq!(scheduler.tick().await.expect("tick").redispatched, 1);
    assert_eq!(jobs(setup.jobs.clone()).await, 1);
    // Once its fan-out has finished, it is left alone.
    setup
        .dispatcher(backend, "a")
        .handle(&setup.job(), None)
        .await
        .expect("dispatch");
    assert_eq!(scheduler.tick().await.expect("tick").redispatched, 0);
}

async fn a_paused_campaigns_held_messages_step_aside_until_it_resumes(backend: &dyn Backend) {
    let setup = Setup::new(backend, "Hello", Audience::default()).await;
    let table = backend.table();
    let rows = [person("+14155550102", Some("Grace"), true, &[])];
    Contacts::new(table.clone())
        .import_batch(&setup.tenant, &rows, clock_now(&setup.clock), true)
        .await
        .expect("contacts");
    setup
        .dispatcher(backend, "a")
        .handle(&setup.job(), None)
        .await
        .expect("dispatch");
    let campaigns = Campaigns::new(table.clone());
    campaigns
        .act(
            &setup.tenant,
            &setup.campaign.id,
            Action::Pause,
            None,
            clock_now(&setup.clock),
        )
        .await
        .expect("pause");
    setup.clock.set(at("2026-11-23T16:00:30Z"));
    let scheduler = setup.scheduler(backend);
    let tick = scheduler.tick().await.expect("tick");
    assert_eq!((tick.kept, tick.released), (1, 0));
    let records = Messages::new(table.clone())
        .all(&setup.tenant, &setup.campaign.id)
        .await
        .expect("records");
    // Out of the way of the index entries behind it for a quarter of an hour.
    assert_eq!(records[0].release_at, Some(at("2026-11-23T16:15:30Z")));
    assert_eq!(scheduler.tick().await.expect("tick"), Tick::default());

    campaigns
        .act(
            &setup.tenant,
            &setup.campaign.id,
            Action::Resume { later: false },
            None,
            clock_now(&setup.clock),
        )
        .await
        .expect("resume");
    setup.clock.set(at("2026-11-23T16:16:00Z"));
    assert_eq!(scheduler.tick().await.expect("tick").released, 1);
    assert_eq!(drain(setup.sends.as_ref()).await.len(), 1);
}

async fn a_message_dearer_than_the_cap_is_skipped_not_held_forever(backend: &dyn Backend) {
    let setup = Setup::with_tenant(backend, "Hello", Audience::default(), |tenant| {
        tenant.budget = Budget {
            daily_cap_cents: Some(1),
            monthly_cap_cents: None,
        };
        tenant.segment_prices.countries.insert("GB".into(), 4000);
    })
    .await;
    let table = backend.table();
    let rows = [
        person("+12125550101", Some("Ada"), true, &[]),
        person("+442079460001", Some("Alan"), true, &[]),
    ];
    Contacts::new(table.clone())
        .import_batch(&setup.tenant, &rows, clock_now(&setup.clock), true)
        .await
        .expect("contacts");
    let Outcome::Finished(counts) = setup
        .dispatcher(backend, "a")
        .handle(&setup.job(), None)
        .await
        .expect("dispatch")
    else {
        panic!("not finished");
    };
    // 4 cents for a UK segment against a 1-cent day: no reset would make it fit.
    assert_eq!(counts.skipped, BTreeMap::from([("over_cap".into(), 1)]));
    assert_eq!((counts.queued, counts.held.len()), (1, 0));
}

/// A queue that refuses every send.
struct QueueDown;

#[async_trait::async_trait]
impl Queue for QueueDown {
    async fn send_batch(&self, _: Vec<OutgoingMessage>) -> Result<(), QueueError> {
        Err(QueueError::Unavailable("the queue is down".into()))
    }
    async fn receive(&self, _: u32, _: Duration) -> Result<Vec<Delivery>, QueueError> {
        Ok(Vec::new())
    }
    async fn ack(&self, _: &str) -> Result<(), QueueError> {
        Ok(())
    }
    async fn retry_after(&self, _: &str, _: Duration) -> Result<(), QueueError> {
        Ok(())
    }
    async fn approximate_len(&self) -> Result<u64, QueueError> {
        Ok(0)
    }
}

async fn a_release_that_cannot_queue_its_work_gives_its_reservation_back(backend: &dyn Backend) {
    let setup = ada_queued_grace_held(backend).await;
    let table = backend.table();
    let spent = || async {
        Budgets::new(table.clone())
            .spent(
                &setup.tenant,
                chrono_tz::America::New_York,
                clock_now(&setup.clock),
            )
            .await
            .expect("spent")
            .0
    };
    let one_message = spent().await;
    assert!(one_message > 0, "Ada's message is reserved");

    // 08:00 in Los Angeles, and the send queue is down: Grace's message stays held, and the
    // reservation made for it is given back.
    setup.clock.set(at("2026-11-23T16:00:30Z"));
    let mut failing = setup.scheduler(backend);
    failing.sends = Arc::new(QueueDown);
    assert_eq!(failing.tick().await.expect("tick").released, 0);
    assert_eq!(spent().await, one_message);
    // The queue is back: released once, and reserved once.
    assert_eq!(
        setup
            .scheduler(backend)
            .tick()
            .await
            .expect("tick")
            .released,
        1
    );
    assert_eq!(drain(setup.sends.as_ref()).await.len(), 1);
    assert_eq!(spent().await, 2 * one_message);
}
