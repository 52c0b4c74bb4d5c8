//! Sending end to end, over real HTTP, on the embedded store and on DynamoDB + SQS (moto),
//! against the Twilio simulator: every consenting recipient gets exactly one message, the
//! kill switch stops sends within a batch and resuming continues without duplicates, and a
//! flaky Twilio (server errors, 429s, answers lost after accepting) never causes a duplicate.

use crate::support;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;
use smscrm_domain::{PhoneE164, TenantId};
use smscrm_store::{DoNotContact, Suppression};
use support::sending::{
    FROM, PAUSE_TAKES_EFFECT, consenting, launch, one_each, records, tenant, wait_for,
};
use support::{TestApp, send};

on_both_backends!(
    every_consenting_recipient_gets_exactly_one_message,
    the_kill_switch_stops_sends_and_resuming_continues_without_duplicates,
    a_flaky_twilio_never_causes_a_duplicate_or_a_lost_message,
    refused_messages_fail_with_their_code_and_a_stop_joins_the_do_not_contact_list,
);

async fn every_consenting_recipient_gets_exactly_one_message(app: &TestApp) {
    let me = tenant(app, 100).await;
    let phones = consenting(app, &me, 30).await;
    app.post_contact(
        &me,
        json!({"phone": "+12125559998", "first_name": "Nobody"}),
    )
    .await;
    app.post_contact(
        &me,
        json!({"phone": "+12125559999", "first_name": "Stopped",
               "consent": {"status": "explicit", "source": "web form"}}),
    )
    .await;
    DoNotContact::new(app.ctx.table.clone())
        .add(
            &me.tenant_id.parse().expect("id"),
            &Suppression {
                phone: PhoneE164::from_e164("+12125559999").expect("phone"),
                reason: "manual".into(),
                at: chrono::Utc::now(),
                source: None,
            },
        )
        .await
        .expect("dnc");

    let path = launch(app, &me, "Hi {{first_name}}, fresh bread today!").await;
    let done = wait_for(app, &me, &path, "completed", Duration::from_secs(60)).await;

    let sent = one_each(app);
    let expected: HashSet<&str> = phones.iter().map(String::as_str).collect();
    assert_eq!(
        sent.keys().map(String::as_str).collect::<HashSet<_>>(),
        expected
    );
    let first = &sent["+12125551000"];
    // The tenant's default footer policy: a contact's first message says how to opt out.
    assert_eq!(
        first.body,
        "Hi Person0, fresh bread today!\nReply STOP to opt out"
    );
    assert_eq!(first.from.as_deref(), Some(FROM));
    assert_eq!(first.num_segments, 1);

    let fan_out = &done["fan_out"];
    assert_eq!(fan_out["sent"], 30, "{fan_out}");
    assert_eq!(fan_out["queued"], 0, "{fan_out}");
    assert_eq!(
        fan_out["skipped"],
        json!({"no_consent": 1, "do_not_contact": 1}),
        "{fan_out}"
    );
    let records = records(app, &me, &path).await;
    for (phone, message) in &sent {
        let record = &records[phone];
        assert_eq!(record["status"], "sent", "{record}");
        assert_eq!(record["sid"], message.sid.as_str(), "{record}");
        assert_eq!(record["attempts"], 1, "{record}");
    }
}

async fn the_kill_switch_stops_sends_and_resuming_continues_without_duplicates(app: &TestApp) {
    // 8 a second: 64 messages take 8 s, more than a pause may take to reach every sender
    // under load (`PAUSE_TAKES_EFFECT`), so the pause lands in the middle.
    let me = tenant(app, 8).await;
    let phones = consenting(app, &me, 64).await;
    let path = launch(app, &me, "Hi {{first_name}}").await;
    let started = Instant::now();
    while app.sim.accepted().len() < 5 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "nothing was sent"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let id: TenantId = me.tenant_id.parse().expect("id");
    app.ctx.tenants.set_paused(&id, true).await.expect("pause");
    // A worker trusts what it read of the tenant for a second and may finish the message it
    // holds; then nothing more goes.
    tokio::time::sleep(PAUSE_TAKES_EFFECT).await;
    let at_pause = app.sim.accepted().len();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        app.sim.accepted().len(),
        at_pause,
        "sends went on after the kill switch"
    );
    assert!(
        at_pause < phones.len(),
        "everything was sent before the pause took effect"
    );
    let (_, shown) = send(app.request(Method::GET, &path, &me)).await;
    assert_eq!(shown["status"], "sending");

    app.ctx
        .tenants
        .set_paused(&id, false)
        .await
        .expect("resume");
    // The scheduler notices the parked campaign and queues its waiting work again.
    smscrm_local_host::serve::scheduler(&app.ctx, &app.queues)
        .tick()
        .await
        .expect("tick");
    wait_for(app, &me, &path, "completed", Duration::from_secs(60)).await;
    assert_eq!(one_each(app).len(), phones.len());

    // A campaign paused and resumed through the API continues the same way.
    app.sim.clear();
    let path = launch(app, &me, "Second {{first_name}}").await;
    while app.sim.accepted().len() < 5 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (status, _) = send(app.request(Method::POST, &format!("{path}/pause"), &me)).await;
    assert_eq!(status, 200);
    tokio::time::sleep(PAUSE_TAKES_EFFECT).await;
    let at_pause = app.sim.accepted().len();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        app.sim.accepted().len(),
        at_pause,
        "sends went on after the pause"
    );
    assert!(
        at_pause < phones.len(),
        "everything was sent before the pause took effect"
    );
    let (status, _) = send(app.request(Method::POST, &format!("{path}/resume"), &me)).await;
    assert_eq!(status, 200);
    wait_for(app, &me, &path, "completed", Duration::from_secs(60)).await;
    assert_eq!(one_each(app).len(), phones.len());
}

async fn a_flaky_twilio_never_causes_a_duplicate_or_a_lost_message(app: &TestApp) {
    let me = tenant(app, 100).await;
    let phones = consenting(app, &me, 20).await;
    // Answers lost after accepting (the client gives up after a second), a 5xx storm and 429s.
    app.sim.set_faults(twilio_sim::Faults {
        accept_then_hang: 2,
        hang_for: Duration::from_secs(3),
        server_errors: 5,
        too_many_requests: 4,
    });
    let path = launch(app, &me, "Hi {{first_name}}").await;
    let done = wait_for(app, &me, &path, "completed", Duration::from_secs(90)).await;
    let sent = one_each(app);
    assert_eq!(sent.len(), phones.len(), "lost messages");
    assert_eq!(done["fan_out"]["sent"], 20, "{done}");
    assert_eq!(done["fan_out"]["queued"], 0, "{done}");
    assert_eq!(done["fan_out"]["failed"], json!({}), "{done}");
    let records = records(app, &me, &path).await;
    let retried = records
        .values()
        .filter(|r| r["attempts"].as_u64().unwrap_or(0) > 1)
        .count();
    // The lost answers and the server errors were each looked up before any resend.
    assert!(retried >= 2, "no record went through a second attempt");
    for (phone, message) in &sent {
        assert_eq!(records[phone]["sid"], message.sid.as_str());
    }
}

async fn refused_messages_fail_with_their_code_and_a_stop_joins_the_do_not_contact_list(
    app: &TestApp,
) {
    let me = tenant(app, 100).await;
    let phones = consenting(app, &me, 4).await;
    app.sim.add_rule(twilio_sim::FailureRule {
        to_suffix: "1001".into(),
        outcome: twilio_sim::RuleOutcome::Reject { code: 21211 },
    });
    app.sim.add_rule(twilio_sim::FailureRule {
        to_suffix: "1002".into(),
        outcome: twilio_sim::RuleOutcome::Reject { code: 21610 },
    });
    let path = launch(app, &me, "Hi {{first_name}}").await;
    let done = wait_for(app, &me, &path, "completed", Duration::from_secs(60)).await;
    assert_eq!(done["fan_out"]["sent"], 2, "{done}");
    assert_eq!(
        done["fan_out"]["failed"],
        json!({"21211": 1, "21610": 1}),
        "{done}"
    );
    let records = records(app, &me, &path).await;
    assert_eq!(records[&phones[1]]["status"], "failed");
    assert_eq!(records[&phones[1]]["error_code"], 21211);
    let tenant_id: TenantId = me.tenant_id.parse().expect("id");
    let stopped = DoNotContact::new(app.ctx.table.clone())
        .get(
            &tenant_id,
            &PhoneE164::from_e164(&phones[2]).expect("phone"),
        )
        .await
        .expect("read");
    assert_eq!(stopped.map(|s| s.reason), Some("stop_reply".to_owned()));
    // Refused messages cost nothing: only the two sent ones stay reserved (830 each).
    let tenant = app
        .ctx
        .tenants
        .get(&tenant_id)
        .await
        .expect("read")
        .expect("tenant");
    let zone: chrono_tz::Tz = tenant.timezone.parse().expect("zone");
    let (day, _) = smscrm_store::Budgets::new(app.ctx.table.clone())
        .spent(&tenant_id, zone, chrono::Utc::now())
        .await
        .expect("spent");
    assert_eq!(day, 2 * 830);
}
