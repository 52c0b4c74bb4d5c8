//! Webhooks end to end on the local host: the Twilio simulator posts its signed status
//! callbacks (out of order, twice) and people's texts to the app over real HTTP, on the
//! embedded store and on DynamoDB + SQS (moto).

use crate::support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::Utc;

use reqwest::Method;
use serde_json::{Value, json};
use smscrm_domain::{PhoneE164, TenantId};
use smscrm_store::DoNotContact;
use support::sending::{
    FROM, consenting, launch, one_each, records, tenant, texts_reach_the_app, wait_for,
};
use support::{Caller, TestApp, send};
use twilio_sim::{CallbackMode, FailureRule, FinalStatus, RuleOutcome};

on_both_backends!(
    delivery_receipts_reach_every_message_in_any_order_and_repeated,
    a_stop_mid_campaign_stops_what_was_not_sent_and_replies_are_counted,
);

/// Polls the campaign until `check` holds for its fan-out counts; returns them.
async fn fan_out_until(
    app: &TestApp,
    me: &Caller,
    path: &str,
    what: &str,
    check: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (_, shown) = send(app.request(Method::GET, path, me)).await;
        if check(&shown["fan_out"]) {
            return shown["fan_out"].clone();
        }
        assert!(Instant::now() < deadline, "never {what}: {shown}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn fails(suffix: &str, status: FinalStatus, code: u32) -> FailureRule {
    FailureRule {
        to_suffix: suffix.into(),
        outcome: RuleOutcome::Fail { status, code },
    }
}

async fn delivery_receipts_reach_every_message_in_any_order_and_repeated(app: &TestApp) {
    let me = tenant(app, 100).await;
    let phones = consenting(app, &me, 8).await;
    app.sim
        .add_rule(fails("1002", FinalStatus::Undelivered, 30007));
    app.sim
        .add_rule(fails("1003", FinalStatus::Undelivered, 30004));
    app.sim.add_rule(fails("1004", FinalStatus::Failed, 30008));

    // Callbacks never in the order the statuses happened.
    app.sim
        .set_callbacks(CallbackMode::OutOfOrder, Duration::from_millis(20));
    let first = launch(app, &me, "Fresh bread today, {{first_name}}!").await;
    wait_for(app, &me, &first, "completed", Duration::from_secs(60)).await;
    let expected = json!({"delivered": 5, "undelivered": 2, "failed": 1});
    let fan_out = fan_out_until(app, &me, &first, "all delivered or not", |f| {
        f["delivery"] == expected
    })
    .await;
    assert_eq!(
        fan_out["delivery_errors"],
        json!({"30004": 1, "30007": 1, "30008": 1}),
        "{fan_out}"
    );
    let by_phone = records(app, &me, &first).await;
    assert_eq!(by_phone[&phones[0]]["delivery"], "delivered");
    assert_eq!(by_phone[&phones[2]]["delivery"], "undelivered");
    assert_eq!(by_phone[&phones[2]]["delivery_error_code"], 30007);
    assert_eq!(by_phone[&phones[4]]["delivery"], "failed");
    // Blocked (30004) joins the do-not-contact list; carrier filtering (30007) does not.
    let tenant_id: TenantId = me.tenant_id.parse().expect("id");
    let dnc = DoNotContact::new(app.ctx.table.clone());
    let listed = |phone: &str| {
        let dnc = dnc.clone();
        let (tenant_id, phone) = (
            tenant_id.clone(),
            PhoneE164::from_e164(phone).expect("phone"),
        );
        async move {
            dnc.get(&tenant_id, &phone)
                .await
                .expect("read")
                .map(|e| e.reason)
        }
    };
    assert_eq!(listed(&phones[3]).await.as_deref(), Some("carrier_blocked"));
    assert_eq!(listed(&phones[2]).await, None);

    // Every callback twice: the same counts, once each.
    app.sim.clear();
    app.sim
        .set_callbacks(CallbackMode::Twice, Duration::from_millis(20));
    let second = launch(app, &me, "Croissants too, {{first_name}}!").await;
    wait_for(app, &me, &second, "completed", Duration::from_secs(60)).await;
    let expected = json!({"delivered": 5, "undelivered": 1, "failed": 1});
    let fan_out = fan_out_until(app, &me, &second, "all delivered or not", |f| {
        f["delivery"] == expected
    })
    .await;
    assert_eq!(fan_out["sent"], 7, "{fan_out}");
    assert_eq!(
        fan_out["skipped"],
        json!({"do_not_contact": 1}),
        "{fan_out}"
    );
    // Nothing more moves: give the last repeats time to arrive, then read again.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, shown) = send(app.request(Method::GET, &second, &me)).await;
    assert_eq!(shown["fan_out"]["delivery"], expected, "{shown}");
    assert_eq!(
        shown["fan_out"]["delivery_errors"],
        json!({"30007": 1, "30008": 1})
    );
}

async fn a_stop_mid_campaign_stops_what_was_not_sent_and_replies_are_counted(app: &TestApp) {
    // 1 segment a second over 4 workers: the last of 10 recipients goes about 8 s in, time
    // for three STOPs to come in one after the other on a busy machine.
    let me = tenant(app, 1).await;
    let phones = consenting(app, &me, 10).await;
    texts_reach_the_app(app, &me).await;
    // Twilio's own blocking off: the platform's gate alone must stop the message.
    app.sim.set_opt_out_handling(false);

    let path = launch(app, &me, "Fresh bread today, {{first_name}}!").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while app.sim.accepted().is_empty() {
        assert!(Instant::now() < deadline, "nothing was sent");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Four workers take the recipients in no set order: the three last not yet messaged text
    // STOP, one after the other, while the campaign goes on.
    let messaged: Vec<String> = app.sim.accepted().into_iter().map(|m| m.to).collect();
    let stopping: Vec<String> = phones
        .iter()
        .rev()
        .filter(|phone| !messaged.contains(phone))
        .take(3)
        .cloned()
        .collect();
    assert_eq!(
        stopping.len(),
        3,
        "nearly everyone was messaged at once: {messaged:?}"
    );
    let mut processed_at = BTreeMap::new();
    for phone in &stopping {
        let stop = app
            .sim
            .receive(phone, FROM, "Stop")
            .await
            .expect("delivered");
        assert_eq!(stop.http_status, 200, "{}", stop.body);
        assert!(stop.replies.is_empty(), "{:?}", stop.replies);
        processed_at.insert(phone.clone(), Utc::now());
    }

    wait_for(app, &me, &path, "completed", Duration::from_secs(60)).await;
    let sent = one_each(app);
    // A message already on its way when its STOP came may have gone; none went after.
    for (phone, at) in &processed_at {
        if let Some(message) = sent.get(phone) {
            assert!(
                message.accepted_at <= *at,
                "{phone} was messaged after its STOP"
            );
        }
    }
    let by_phone = records(app, &me, &path).await;
    let skipped: Vec<&String> = stopping
        .iter()
        .filter(|phone| by_phone[*phone]["reason"] == "do_not_contact")
        .collect();
    assert!(
        !skipped.is_empty(),
        "every STOP came too late: {by_phone:?}"
    );
    for phone in &skipped {
        assert_eq!(by_phone[*phone]["status"], "skipped");
        assert!(!sent.contains_key(*phone));
    }
    assert_eq!(sent.len(), phones.len() - skipped.len());

    // A reply and a STOP from people this campaign messaged count against it (as does a STOP
    // above whose message was already on its way).
    let messaged: Vec<&String> = phones
        .iter()
        .filter(|phone| sent.contains_key(*phone) && !stopping.contains(phone))
        .collect();
    let late_stops = stopping.iter().filter(|p| sent.contains_key(*p)).count();
    let reply = app
        .sim
        .receive(messaged[0], FROM, "What time do you open?")
        .await
        .expect("delivered");
    assert_eq!(reply.http_status, 200);
    app.sim
        .receive(messaged[1], FROM, "STOP")
        .await
        .expect("delivered");
    let fan_out = fan_out_until(app, &me, &path, "counted", |f| {
        f["replies"] == 1 && f["opt_outs"].as_u64() >= Some(1)
    })
    .await;
    assert!(
        fan_out["opt_outs"].as_u64() <= Some(1 + late_stops as u64),
        "{fan_out}"
    );
    assert_eq!(fan_out["sent"], sent.len(), "{fan_out}");
    let (_, thread) =
        send(app.request(Method::GET, &format!("/v1/inbox/{}", messaged[0]), &me)).await;
    assert_eq!(
        thread["messages"]["items"][0]["body"], "What time do you open?",
        "{thread}"
    );
    assert_eq!(
        thread["last_outbound"]["campaign_id"].as_str(),
        path.strip_prefix("/v1/campaigns/"),
        "{thread}"
    );
    assert_eq!(
        thread["messages"]["items"][0]["campaign_id"],
        thread["last_outbound"]["campaign_id"]
    );
}
