//! The sender killed at its worst moments, on both backends: between its claim and the
//! Twilio call, and between Twilio's acceptance and the SID write; send work delivered again
//! after the message went; Twilio refusing the account. In every case the simulator holds
//! exactly one message per recipient, or none, and no record is lost.

use crate::support;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use campaign_dispatcher::SendWork;
use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use reqwest::Method;
use sender::{Handled, Pacer, Sender};
use serde_json::json;
use smscrm_domain::delivery::DeliveryStatus;
use smscrm_domain::ports::sms::{
    MessageFilter, NewMessage, ProviderCredentials, ProviderMessage, SmsError, SmsProvider,
};
use smscrm_domain::quiet_hours::QuietHours;
use smscrm_domain::{ContactId, TenantId};
use smscrm_store::{MessageRecord, MessageStatus, Messages, StatusEvent};
use smscrm_tests::backends::Backend;
use support::{Caller, TestApp, send, test_sender};

smscrm_tests::backend_scenarios!(
    killed_between_claim_and_twilio_the_message_goes_once_after_the_lease,
    killed_after_twilio_accepted_the_message_is_found_and_never_sent_again,
    send_work_delivered_again_after_sending_is_acknowledged_without_a_call,
    an_answer_lost_after_accepting_is_looked_up_before_any_resend,
    twilio_refusing_the_account_pauses_the_tenant_without_burning_the_queue,
    the_last_receive_records_the_failure_where_the_api_shows_it,
    a_lookup_never_takes_another_campaigns_message_for_its_own,
    a_message_found_already_undelivered_keeps_its_error_code,
    send_work_again_for_a_sent_message_applies_the_callbacks_kept_for_it,
    a_contact_deleted_or_unconsented_after_the_fan_out_is_not_messaged_nor_erased_mid_flight,
    a_message_whose_window_closes_before_its_turn_is_held_for_the_morning_not_sent,
    work_whose_turn_comes_after_the_invocations_deadline_goes_back_to_the_queue,
    a_lookup_that_keeps_failing_leaves_the_message_queued_not_claimed,
);

const FROM: &str = "+14155550100";

/// A campaign to `recipients` consenting contacts, fanned out: its send work is on the queue.
struct Launched {
    app: TestApp,
    me: Caller,
    tenant: TenantId,
    template_id: String,
    work: Vec<SendWork>,
}

async fn launched(backend: &dyn Backend, recipients: usize) -> Launched {
    let all_day = QuietHours {
        opens: NaiveTime::MIN,
        closes: NaiveTime::from_hms_opt(23, 59, 59).expect("time"),
    };
    launched_in(backend, recipients, all_day, None).await
}

/// [`launched`] with the tenant's `quiet_hours`, launched at `at` on the app's clock.
async fn launched_in(
    backend: &dyn Backend,
    recipients: usize,
    quiet_hours: QuietHours,
    at: Option<DateTime<Utc>>,
) -> Launched {
    let app = TestApp::start_without_senders(backend).await;
    let me = app.tenant("Bakery").await;
    let tenant: TenantId = me.tenant_id.parse().expect("id");
    let mut settings = app
        .ctx
        .tenants
        .get(&tenant)
        .await
        .expect("read")
        .expect("tenant")
        .settings();
    settings.quiet_hours = quiet_hours;
    settings.sender_rates.insert(FROM.into(), 100);
    app.ctx
        .tenants
        .set_settings(&tenant, &settings)
        .await
        .expect("settings");
    for i in 0..recipients {
        let (status, body) = app
            .post_contact(
                &me,
                json!({"phone": format!("+1212555{:04}", 2000 + i), "first_name": "Ann",
                       "consent": {"status": "explicit", "source": "web form"}}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    let (_, template) = send(
        app.request(Method::POST, "/v1/templates", &me)
            .json(&json!({"name": "T", "body": "Hi {{first_name}}"})),
    )
    .await;
    let template_id = template["id"].as_str().expect("id").to_owned();
    if let Some(at) = at {
        app.clock.shift_to(at);
    }
    let work = launch_campaign(&app, &me, &template_id, recipients).await;
    Launched {
        app,
        me,
        tenant,
        template_id,
        work,
    }
}

/// Launches a campaign of the template to every contact; returns its send work, taken off
/// the queue.
async fn launch_campaign(
    app: &TestApp,
    me: &Caller,
    template_id: &str,
    recipients: usize,
) -> Vec<SendWork> {
    let (_, campaign) = send(app.request(Method::POST, "/v1/campaigns", me).json(&json!({
        "name": "Sale", "template_id": template_id, "sender": {"from": FROM},
    })))
    .await;
    let path = format!("/v1/campaigns/{}", campaign["id"].as_str().expect("id"));
    let (status, _) = send(app.request(Method::POST, &format!("{path}/launch"), me)).await;
    assert_eq!(status, 200);
    let mut work = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while work.len() < recipients {
        assert!(
            std::time::Instant::now() < deadline,
            "fan-out never queued the work"
        );
        for delivery in app
            .queues
            .sends
            .receive(10, Duration::from_millis(200))
            .await
            .expect("receive")
        {
            work.push(serde_json::from_str(&delivery.body).expect("send work"));
            app.queues.sends.ack(&delivery.receipt).await.expect("ack");
        }
    }
    work
}

impl Launched {
    fn sender(&self) -> Sender {
        test_sender(&self.app.ctx, &self.app.secrets, &self.app.sim_url)
    }

    /// `sender` handling one unit of work as its `receive_count`th delivery.
    async fn handle(&self, sender: &Sender, work: &SendWork, receive_count: u32) -> Handled {
        let mut context = Default::default();
        sender
            .handle(work, receive_count, &mut context, &mut Pacer::new(1))
            .await
            .expect("handled")
    }

    async fn record(&self, contact: &ContactId) -> MessageRecord {
        let work = &self.work[0];
        Messages::new(self.app.ctx.table.clone())
            .get(&self.tenant, &work.campaign_id, contact)
            .await
            .expect("read")
            .expect("record")
    }
}

/// A Twilio that the process dies on: before the request leaves, or after the answer came
/// (the sender never gets to write it down). "Dies" is a call that never returns once it has
/// got that far (it says so); the test then drops the sender's future, as a crash would.
struct DiesOnSend {
    inner: Arc<dyn SmsProvider>,
    after_twilio: bool,
    reached: Arc<tokio::sync::Notify>,
}

impl DiesOnSend {
    fn new(inner: Arc<dyn SmsProvider>, after_twilio: bool) -> Self {
        Self {
            inner,
            after_twilio,
            reached: Arc::new(tokio::sync::Notify::new()),
        }
    }
}

#[async_trait]
impl SmsProvider for DiesOnSend {
    async fn send(
        &self,
        c: &ProviderCredentials,
        m: &NewMessage,
    ) -> Result<ProviderMessage, SmsError> {
        if self.after_twilio {
            let _accepted = self.inner.send(c, m).await;
        }
        self.reached.notify_one();
        std::future::pending().await
    }
    async fn fetch(
        &self,
        c: &ProviderCredentials,
        sid: &str,
    ) -> Result<Option<ProviderMessage>, SmsError> {
        self.inner.fetch(c, sid).await
    }
    async fn list(
        &self,
        c: &ProviderCredentials,
        f: &MessageFilter,
    ) -> Result<Vec<ProviderMessage>, SmsError> {
        self.inner.list(c, f).await
    }
}

/// Runs a sender whose provider is `dying` on `work` until it dies.
async fn dies(launched: &Launched, dying: DiesOnSend, work: &SendWork) {
    let reached = dying.reached.clone();
    let sender = with_provider(launched.sender(), Arc::new(dying));
    tokio::select! {
        handled = launched.handle(&sender, work, 1) => {
            panic!("the sender was meant to die, but it finished: {handled:?}")
        }
        () = reached.notified() => {}
        () = tokio::time::sleep(Duration::from_secs(30)) => panic!("the sender never got to Twilio"),
    }
}

fn with_provider(mut sender: Sender, provider: Arc<dyn SmsProvider>) -> Sender {
    sender.provider = provider;
    sender
}

/// Moves past the claim's lease (30 s in tests) by rewriting it as expired, as time would.
async fn expire_lease(launched: &Launched, contact: &ContactId) {
    let messages = Messages::new(launched.app.ctx.table.clone());
    let read = launched.record(contact).await;
    assert_eq!(read.status, MessageStatus::Claimed, "{read:?}");
    let mut expired = read.clone();
    expired.lease_until_ms = Some(chrono::Utc::now().timestamp_millis() - 1);
    assert!(
        messages
            .transition(&launched.tenant, &read, &expired, None)
            .await
            .expect("write")
    );
}

async fn killed_between_claim_and_twilio_the_message_goes_once_after_the_lease(
    backend: &dyn Backend,
) {
    let launched = launched(backend, 1).await;
    let work = &launched.work[0];
    let real = launched.sender();
    dies(
        &launched,
        DiesOnSend::new(real.provider.clone(), false),
        work,
    )
    .await;
    assert!(launched.app.sim.accepted().is_empty());

    // Redelivered while the claim is live: it waits for the lease.
    assert!(matches!(
        launched.handle(&real, work, 2).await,
        Handled::RetryAfter(_)
    ));
    expire_lease(&launched, &work.contact_id).await;
    // After it: Twilio is asked first (an attempt was made), has nothing, so it goes.
    let handled = launched.handle(&real, work, 3).await;
    assert!(matches!(handled, Handled::Sent { .. }), "{handled:?}");
    assert_eq!(launched.app.sim.accepted().len(), 1);
    let record = launched.record(&work.contact_id).await;
    assert_eq!((record.status, record.attempts), (MessageStatus::Sent, 2));
}

async fn killed_after_twilio_accepted_the_message_is_found_and_never_sent_again(
    backend: &dyn Backend,
) {
    let launched = launched(backend, 1).await;
    let work = &launched.work[0];
    let real = launched.sender();
    dies(
        &launched,
        DiesOnSend::new(real.provider.clone(), true),
        work,
    )
    .await;
    let accepted = launched.app.sim.accepted();
    assert_eq!(
        accepted.len(),
        1,
        "Twilio took the message before the sender died"
    );

    expire_lease(&launched, &work.contact_id).await;
    let handled = launched.handle(&real, work, 2).await;
    assert_eq!(
        handled,
        Handled::Sent {
            sid: accepted[0].sid.clone()
        }
    );
    assert_eq!(launched.app.sim.accepted().len(), 1, "sent twice");
    let record = launched.record(&work.contact_id).await;
    assert_eq!(record.status, MessageStatus::Sent);
    assert_eq!(record.sid.as_deref(), Some(accepted[0].sid.as_str()));
}

async fn send_work_delivered_again_after_sending_is_acknowledged_without_a_call(
    backend: &dyn Backend,
) {
    let launched = launched(backend, 3).await;
    let sender = launched.sender();
    let bodies: Vec<String> = launched
        .work
        .iter()
        .map(|w| serde_json::to_string(w).expect("json"))
        .collect();
    let batch = |receive_count| -> Vec<(&str, u32)> {
        bodies.iter().map(|b| (b.as_str(), receive_count)).collect()
    };
    let mut pacer = Pacer::new(1);
    let verdicts = sender.handle_batch(&batch(1), &mut pacer, None).await;
    assert_eq!(verdicts, vec![sender::Verdict::Ack; 3]);
    // The whole batch again (SQS redelivers, or the work was queued twice): acknowledged,
    // and Twilio is not called.
    let verdicts = sender.handle_batch(&batch(2), &mut pacer, None).await;
    assert_eq!(verdicts, vec![sender::Verdict::Ack; 3]);
    assert_eq!(launched.app.sim.accepted().len(), 3);
    for work in &launched.work {
        assert_eq!(
            launched.handle(&sender, work, 3).await,
            Handled::AlreadyDone
        );
    }
    // The last one completed the campaign.
    let (_, campaigns) = send(
        launched
            .app
            .request(Method::GET, "/v1/campaigns", &launched.me),
    )
    .await;
    assert_eq!(campaigns["items"][0]["status"], "completed", "{campaigns}");
}

async fn an_answer_lost_after_accepting_is_looked_up_before_any_resend(backend: &dyn Backend) {
    let launched = launched(backend, 1).await;
    let work = &launched.work[0];
    let mut sender = launched.sender();
    // Room enough that "at once" stays within it on a busy machine.
    sender.config.unknown_grace = Duration::from_secs(6);
    launched.app.sim.set_faults(twilio_sim::Faults {
        accept_then_hang: 1,
        hang_for: Duration::from_secs(3),
        ..Default::default()
    });
    // The client gives up after a second: the outcome is unknown, and the record waits.
    let handled = launched.handle(&sender, work, 1).await;
    assert!(matches!(handled, Handled::RetryAfter(_)), "{handled:?}");
    let record = launched.record(&work.contact_id).await;
    assert_eq!(record.status, MessageStatus::Claimed);
    assert!(record.unknown_since.is_some());
    // Delivered again at once: still within the grace Twilio gets to list it.
    assert!(matches!(
        launched.handle(&sender, work, 2).await,
        Handled::RetryAfter(_)
    ));
    tokio::time::sleep(Duration::from_millis(6100)).await;
    let handled = launched.handle(&sender, work, 3).await;
    assert!(matches!(handled, Handled::Sent { .. }), "{handled:?}");
    assert_eq!(launched.app.sim.accepted().len(), 1, "sent twice");
}

async fn twilio_refusing_the_account_pauses_the_tenant_without_burning_the_queue(
    backend: &dyn Backend,
) {
    let launched = launched(backend, 2).await;
    // The tenant's own credentials, which Twilio (the simulator) does not know.
    launched
        .app
        .secrets
        .put(
            &smscrm_twilio::credentials::secret_name(&launched.tenant),
            smscrm_twilio::credentials::credentials_json(&format!("AC{}", "0".repeat(32)), "wrong")
                .into(),
        )
        .await
        .expect("secret");
    let sender = launched.sender();
    assert_eq!(
        launched.handle(&sender, &launched.work[0], 1).await,
        Handled::Parked
    );
    let tenant = launched
        .app
        .ctx
        .tenants
        .get(&launched.tenant)
        .await
        .expect("read")
        .expect("tenant");
    assert!(tenant.paused, "the kill switch was not set");
    // The rest of the queue is parked without calling Twilio.
    assert_eq!(
        launched.handle(&sender, &launched.work[1], 1).await,
        Handled::Parked
    );
    for work in &launched.work {
        let record = launched.record(&work.contact_id).await;
        assert_eq!(
            (record.status, record.attempts),
            (MessageStatus::Queued, 0),
            "{record:?}"
        );
    }
    assert!(launched.app.sim.accepted().is_empty());
}

async fn the_last_receive_records_the_failure_where_the_api_shows_it(backend: &dyn Backend) {
    let launched = launched(backend, 1).await;
    let work = &launched.work[0];
    let sender = launched.sender();
    launched.app.sim.set_faults(twilio_sim::Faults {
        server_errors: 2,
        ..Default::default()
    });
    // An early receive goes back to the queue; after a 5xx the claim is kept for the grace
    // period (Twilio may have processed it behind the error).
    let handled = launched.handle(&sender, work, 1).await;
    assert!(matches!(handled, Handled::RetryAfter(_)), "{handled:?}");
    let record = launched.record(&work.contact_id).await;
    assert_eq!(record.status, MessageStatus::Claimed);
    assert!(record.unknown_since.is_some());
    // The queue's last receive (5 in tests), after the grace: Twilio has nothing, the second
    // 5xx fails the record, and the work is left to go to the dead-letter queue.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let handled = launched.handle(&sender, work, 5).await;
    assert_eq!(handled, Handled::GaveUp);
    let (_, campaigns) = send(
        launched
            .app
            .request(Method::GET, "/v1/campaigns", &launched.me),
    )
    .await;
    let path = format!(
        "/v1/campaigns/{}/messages?status=failed",
        campaigns["items"][0]["id"].as_str().expect("id")
    );
    let (status, failed) = send(launched.app.request(Method::GET, &path, &launched.me)).await;
    assert_eq!(status, 200);
    let record = &failed["items"][0];
    assert_eq!(record["reason"], "retries_exhausted", "{failed}");
    assert!(
        record["error"]
            .as_str()
            .is_some_and(|e| e.contains("gave up after 5 attempts")),
        "{record}"
    );
    assert!(launched.app.sim.accepted().is_empty());
}

async fn a_lookup_never_takes_another_campaigns_message_for_its_own(backend: &dyn Backend) {
    let launched = launched(backend, 1).await;
    let sender = launched.sender();
    let first = launched.handle(&sender, &launched.work[0], 1).await;
    assert!(matches!(first, Handled::Sent { .. }), "{first:?}");
    // A second campaign of the same text to the same person, whose first attempt never
    // reached Twilio (a lost request): its lookup finds the first campaign's message.
    let second = launch_campaign(&launched.app, &launched.me, &launched.template_id, 1).await;
    let messages = Messages::new(launched.app.ctx.table.clone());
    let read = messages
        .get(
            &launched.tenant,
            &second[0].campaign_id,
            &second[0].contact_id,
        )
        .await
        .expect("read")
        .expect("record");
    let mut attempted = read.clone();
    attempted.attempts = 1;
    attempted.first_attempt_at = Some(chrono::Utc::now());
    assert!(
        messages
            .transition(&launched.tenant, &read, &attempted, None)
            .await
            .expect("write")
    );

    let handled = launched.handle(&sender, &second[0], 2).await;
    let Handled::Sent { sid } = handled else {
        panic!("not sent: {handled:?}");
    };
    assert_ne!(
        Handled::Sent { sid: sid.clone() },
        first,
        "took the other campaign's message"
    );
    assert_eq!(
        launched.app.sim.accepted().len(),
        2,
        "the second campaign's message never went"
    );
}

/// The campaign's fan-out counts as the API shows them.
async fn fan_out(launched: &Launched) -> serde_json::Value {
    let path = format!("/v1/campaigns/{}", launched.work[0].campaign_id);
    let (_, shown) = send(launched.app.request(Method::GET, &path, &launched.me)).await;
    shown["fan_out"].clone()
}

async fn a_message_found_already_undelivered_keeps_its_error_code(backend: &dyn Backend) {
    let launched = launched(backend, 1).await;
    let work = &launched.work[0];
    let phone = launched.record(&work.contact_id).await.phone;
    launched.app.sim.add_rule(twilio_sim::FailureRule {
        to_suffix: phone.as_str().to_owned(),
        outcome: twilio_sim::RuleOutcome::Fail {
            status: twilio_sim::FinalStatus::Undelivered,
            code: 30007,
        },
    });
    let real = launched.sender();
    dies(
        &launched,
        DiesOnSend::new(real.provider.clone(), true),
        work,
    )
    .await;
    let sid = launched.app.sim.accepted()[0].sid.clone();
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while launched.app.sim.status(&sid) != Some(twilio_sim::Status::Undelivered) {
        assert!(std::time::Instant::now() < deadline, "never undelivered");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // The lookup finds it final, with no callback to come: the code comes from the lookup.
    expire_lease(&launched, &work.contact_id).await;
    assert_eq!(
        launched.handle(&real, work, 2).await,
        Handled::Sent { sid: sid.clone() }
    );
    let record = launched.record(&work.contact_id).await;
    assert_eq!(record.delivery, Some(DeliveryStatus::Undelivered));
    assert_eq!(record.delivery_error_code, Some(30007));
    let counts = fan_out(&launched).await;
    assert_eq!(counts["delivery"], json!({"undelivered": 1}), "{counts}");
    assert_eq!(counts["delivery_errors"], json!({"30007": 1}), "{counts}");
}

async fn send_work_again_for_a_sent_message_applies_the_callbacks_kept_for_it(
    backend: &dyn Backend,
) {
    let launched = launched(backend, 1).await;
    let work = &launched.work[0];
    let sender = launched.sender();
    let handled = launched.handle(&sender, work, 1).await;
    let Handled::Sent { sid } = handled else {
        panic!("not sent: {handled:?}");
    };
    // A callback kept but not applied: the sender failed between its SID write and applying
    // what had come before it, and its work was delivered again.
    let messages = Messages::new(launched.app.ctx.table.clone());
    let event = StatusEvent {
        sid,
        status: DeliveryStatus::Delivered,
        error_code: None,
        received_at: chrono::Utc::now(),
        params: Default::default(),
    };
    assert!(
        messages
            .record_event(
                &launched.tenant,
                &work.campaign_id,
                &work.contact_id,
                &event,
                chrono::Utc::now() + chrono::Duration::days(365),
            )
            .await
            .expect("kept")
    );
    assert_eq!(
        launched.handle(&sender, work, 2).await,
        Handled::AlreadyDone
    );
    let record = launched.record(&work.contact_id).await;
    assert_eq!(record.delivery, Some(DeliveryStatus::Delivered));
    assert_eq!(launched.app.sim.accepted().len(), 1, "sent twice");
    let counts = fan_out(&launched).await;
    assert_eq!(counts["delivery"], json!({"delivered": 1}), "{counts}");
}

async fn a_contact_deleted_or_unconsented_after_the_fan_out_is_not_messaged_nor_erased_mid_flight(
    backend: &dyn Backend,
) {
    let launched = launched(backend, 3).await;
    let (app, me) = (&launched.app, &launched.me);
    let [gone, withdrawn, kept] = [0, 1, 2].map(|i| launched.work[i].contact_id.clone());

    // Its message is queued: erasing would leave the campaign counting a message that no
    // longer exists, so it waits.
    let path = |id: &ContactId| format!("/v1/contacts/{id}");
    let (status, refused) =
        send(app.request(Method::DELETE, &format!("{}?erase=true", path(&gone)), me)).await;
    assert_eq!(status, 409, "{refused}");
    let (status, _) = send(app.request(Method::DELETE, &path(&gone), me)).await;
    assert_eq!(status, 204, "deleting the contact itself is fine");
    let (status, _) = send(
        app.request(Method::PATCH, &path(&withdrawn), me)
            .json(&json!({"consent": {"status": "revoked"}})),
    )
    .await;
    assert_eq!(status, 200);

    let sender = launched.sender();
    let handled: Vec<Handled> = {
        let mut all = Vec::new();
        for work in &launched.work {
            all.push(launched.handle(&sender, work, 1).await);
        }
        all
    };
    assert_eq!(
        handled[..2],
        [
            Handled::Skipped {
                reason: "contact_deleted"
            },
            Handled::Skipped {
                reason: "no_consent"
            }
        ]
    );
    assert!(matches!(handled[2], Handled::Sent { .. }), "{handled:?}");
    let sent: Vec<String> = app.sim.accepted().into_iter().map(|m| m.to).collect();
    assert_eq!(
        sent,
        [launched.record(&kept).await.phone.as_str().to_owned()]
    );

    // Done with them: now the erasure goes through.
    let (status, erased) =
        send(app.request(Method::DELETE, &format!("{}?erase=true", path(&kept)), me)).await;
    assert_eq!(status, 200, "{erased}");
    assert_eq!(erased["erased"]["messages"], 1);
}

async fn a_message_whose_window_closes_before_its_turn_is_held_for_the_morning_not_sent(
    backend: &dyn Backend,
) {
    // Fanned out ten seconds before the recipient's quiet hours start (21:00 in New York): by
    // the time the sender gets to it, too little of the window is left for Twilio to deliver
    // it, and sent anyway it would expire (30036) or arrive at night.
    let new_york = chrono_tz::America::New_York;
    let today = Utc::now().with_timezone(&new_york).date_naive();
    let local = |day: chrono::NaiveDate, h, m, s| {
        new_york
            .from_local_datetime(&day.and_hms_opt(h, m, s).expect("time"))
            .single()
            .expect("no DST change at these hours")
            .with_timezone(&Utc)
    };
    let evening = QuietHours {
        opens: NaiveTime::from_hms_opt(8, 0, 0).expect("time"),
        closes: NaiveTime::from_hms_opt(21, 0, 0).expect("time"),
    };
    let launched = launched_in(backend, 1, evening, Some(local(today, 20, 59, 50))).await;
    let work = &launched.work[0];
    assert_eq!(
        launched.record(&work.contact_id).await.send_before,
        Some(local(today, 21, 0, 0)),
        "queued while the window was open"
    );

    let handled = launched.handle(&launched.sender(), work, 1).await;
    assert_eq!(handled, Handled::Held);
    assert!(launched.app.sim.accepted().is_empty(), "sent at 21:00");
    let record = launched.record(&work.contact_id).await;
    assert_eq!(record.status, MessageStatus::Held);
    let tomorrow = today.succ_opt().expect("a next day");
    assert_eq!(record.release_at, Some(local(tomorrow, 8, 0, 0)));
    assert_eq!(record.attempts, 0, "nothing reached Twilio");
}

async fn work_whose_turn_comes_after_the_invocations_deadline_goes_back_to_the_queue(
    backend: &dyn Backend,
) {
    let launched = launched(backend, 3).await;
    // One message a second shared by four workers: this worker's turns come about 4 s apart.
    let mut settings = launched
        .app
        .ctx
        .tenants
        .get(&launched.tenant)
        .await
        .expect("read")
        .expect("tenant")
        .settings();
    settings.sender_rates.insert(FROM.into(), 1);
    launched
        .app
        .ctx
        .tenants
        .set_settings(&launched.tenant, &settings)
        .await
        .expect("settings");
    let sender = launched.sender();
    let bodies: Vec<String> = launched
        .work
        .iter()
        .map(|w| serde_json::to_string(w).expect("json"))
        .collect();
    let batch: Vec<(&str, u32)> = bodies.iter().map(|b| (b.as_str(), 1)).collect();
    // A call and its settling take up to the call timeout (1 s here) and a 10 s margin: the
    // invocation ends in time for the first message only, whose turn comes once its record,
    // tenant, campaign, list entry and contact are read (up to 3.5 s on a busy moto; 2 s
    // was once too little in CI), and not for the second, whose turn is 4 s on.
    let stop_at = tokio::time::Instant::now() + Duration::from_millis(14_500);
    let mut pacer = Pacer::new(4);
    let verdicts = sender.handle_batch(&batch, &mut pacer, Some(stop_at)).await;
    let back = sender::Verdict::RetryAfter(Duration::ZERO);
    assert_eq!(verdicts, [sender::Verdict::Ack, back, back]);
    assert_eq!(launched.app.sim.accepted().len(), 1);
    // The next invocation sends the rest, once each.
    let batch: Vec<(&str, u32)> = bodies.iter().map(|b| (b.as_str(), 2)).collect();
    let verdicts = sender.handle_batch(&batch, &mut Pacer::new(1), None).await;
    assert_eq!(verdicts, vec![sender::Verdict::Ack; 3]);
    let mut sent: Vec<String> = launched
        .app
        .sim
        .accepted()
        .into_iter()
        .map(|m| m.to)
        .collect();
    sent.sort();
    sent.dedup();
    assert_eq!(sent.len(), 3, "each recipient once");
    assert_eq!(launched.app.sim.accepted().len(), 3);
}

/// A Twilio whose message list answers 503 while `failing` is set.
struct ListFails {
    inner: Arc<dyn SmsProvider>,
    failing: std::sync::atomic::AtomicBool,
}

#[async_trait]
impl SmsProvider for ListFails {
    async fn send(
        &self,
        c: &ProviderCredentials,
        m: &NewMessage,
    ) -> Result<ProviderMessage, SmsError> {
        self.inner.send(c, m).await
    }
    async fn fetch(
        &self,
        c: &ProviderCredentials,
        sid: &str,
    ) -> Result<Option<ProviderMessage>, SmsError> {
        self.inner.fetch(c, sid).await
    }
    async fn list(
        &self,
        c: &ProviderCredentials,
        f: &MessageFilter,
    ) -> Result<Vec<ProviderMessage>, SmsError> {
        if self.failing.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(SmsError::ServerError {
                status: 503,
                reason: "Service Unavailable".into(),
            });
        }
        self.inner.list(c, f).await
    }
}

async fn a_lookup_that_keeps_failing_leaves_the_message_queued_not_claimed(backend: &dyn Backend) {
    let launched = launched(backend, 1).await;
    let work = &launched.work[0];
    let real = launched.sender();
    let twilio = Arc::new(ListFails {
        inner: real.provider.clone(),
        failing: true.into(),
    });
    let mut sender = with_provider(launched.sender(), twilio.clone());
    sender.config.unknown_grace = Duration::ZERO;
    launched.app.sim.set_faults(twilio_sim::Faults {
        accept_then_hang: 1,
        hang_for: Duration::from_secs(3),
        ..Default::default()
    });
    // The answer is lost; every lookup after it fails, up to the queue's last receive.
    assert!(matches!(
        launched.handle(&sender, work, 1).await,
        Handled::RetryAfter(_)
    ));
    let last = sender.config.max_receives;
    for receive in 2..=last {
        let handled = launched.handle(&sender, work, receive).await;
        assert!(matches!(handled, Handled::RetryAfter(_)), "{handled:?}");
        let record = launched.record(&work.contact_id).await;
        // Not claimed: work queued again finds it free, and nothing strands it.
        assert_eq!(record.status, MessageStatus::Queued, "receive {receive}");
        assert!(record.error.is_some_and(|e| e.contains("503")));
    }
    // Twilio answers again: the lookup finds the message, which is not sent twice.
    twilio
        .failing
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let handled = launched.handle(&sender, work, 1).await;
    assert!(matches!(handled, Handled::Sent { .. }), "{handled:?}");
    assert_eq!(launched.app.sim.accepted().len(), 1, "sent twice");
}
