//! The campaign dispatcher on both backends, with a clock set by hand: one record per
//! recipient with its reason, quiet hours in the recipient's zone, send work for what may go
//! now, and a fan-out killed mid-way that resumes without writing any record twice.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use campaign_dispatcher::{DispatchJob, Dispatcher, Outcome, SendWork};
use chrono::{DateTime, Utc};
use smscrm_domain::campaign::{Action, Audience, Campaign, CampaignDraft, SenderInput};
use smscrm_domain::contact::ConsentInput;
use smscrm_domain::ports::{ManualClock, Queue};
use smscrm_domain::template::{Template, TemplateDraft};
use smscrm_domain::{ConsentStatus, ContactMerge, PhoneE164, Tenant, TenantId};
use smscrm_store::{
    Campaigns, Contacts, Dispatches, DoNotContact, MessageStatus, Messages, Suppression, Templates,
    Tenants,
};
use smscrm_tests::backends::Backend;
use tokio::time::Instant;

/// Contacts per fan-out page here: small, so a few hundred contacts make several pages.
const PAGE: u32 = 100;

macro_rules! dispatch_scenarios {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(&smscrm_tests::backends::embedded().await).await;
                }
            )*
        }
        mod aws {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(&smscrm_tests::backends::aws().await).await;
                }
            )*
        }
    };
}

dispatch_scenarios!(
    every_recipient_gets_one_record_with_its_reason_and_only_the_sendable_are_queued,
    a_fan_out_killed_mid_way_resumes_and_never_writes_a_record_twice,
    a_second_dispatcher_waits_for_the_lease_and_a_paused_campaign_stops,
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
        let table = backend.table();
        let clock = Arc::new(ManualClock::new(monday_ten_am_new_york()));
        let tenant =
            Tenant::new("Bakery", "America/New_York", "US", clock_now(&clock)).expect("tenant");
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
            .act(
                &tenant.id,
                &campaign.id,
                Action::Launch { later: false },
                None,
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
            dispatches: Dispatches::new(table),
            jobs: self.jobs.clone(),
            sends: self.sends.clone(),
            clock: self.clock.clone(),
            owner: owner.into(),
            page_size: PAGE,
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
            },
        )
        .await
        .expect("dnc");

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

    // Running the finished fan-out again changes nothing and queues nothing.
    let again = setup
        .dispatcher(backend, "a")
        .handle(&setup.job(), None)
        .await
        .expect("again");
    assert_eq!(again, Outcome::Finished(counts));
    assert!(drain(setup.sends.as_ref()).await.is_empty());
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
    dispatches
        .save(&setup.tenant, &setup.campaign.id, &after_page_one)
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
