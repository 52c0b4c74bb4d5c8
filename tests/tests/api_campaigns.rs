//! The campaigns API over real HTTP, on the embedded store and on DynamoDB (moto): drafts,
//! the lifecycle and its 409s, and estimates through every skip gate.

use crate::support;

use chrono::{Duration, Utc};
use reqwest::Method;
use serde_json::{Value, json};
use smscrm_domain::PhoneE164;
use smscrm_store::{DoNotContact, Suppression};
use support::{Caller, TestApp, error_code, send};

on_both_backends!(
    drafts_are_created_read_and_edited_until_launch,
    the_lifecycle_refuses_illegal_actions_with_the_current_status,
    the_estimate_counts_recipients_skips_segments_and_cost,
    launching_fans_out_and_the_campaign_shows_its_progress,
    tenants_never_see_each_other,
    bad_input_gets_clear_errors,
);

async fn template(app: &TestApp, me: &Caller, body: &str) -> String {
    let (status, created) = send(
        app.request(Method::POST, "/v1/templates", me)
            .json(&json!({"name": "T", "body": body})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    created["id"].as_str().expect("id").to_owned()
}

async fn campaign(app: &TestApp, me: &Caller, template_id: &str, extra: Value) -> Value {
    let mut body = json!({
        "name": "Spring sale", "template_id": template_id,
        "sender": {"from": "+1 415 555 0100"},
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let (status, created) = send(app.request(Method::POST, "/v1/campaigns", me).json(&body)).await;
    assert_eq!(status, 201, "{created}");
    created
}

async fn act(
    app: &TestApp,
    me: &Caller,
    id: &Value,
    action: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let path = format!("/v1/campaigns/{}/{action}", id.as_str().expect("id"));
    let mut request = app.request(Method::POST, &path, me);
    if let Some(body) = body {
        request = request.json(&body);
    }
    send(request).await
}

async fn drafts_are_created_read_and_edited_until_launch(app: &TestApp) {
    let me = app.tenant("Acme").await;
    let template_id = template(app, &me, "Hi {{first_name|there}}").await;
    let created = campaign(
        app,
        &me,
        &template_id,
        json!({"audience": {"tags": ["vip"]}, "link": "https://acme.example/sale"}),
    )
    .await;
    assert_eq!(created["status"], "draft");
    assert_eq!(created["sender"], json!({"from": "+14155550100"}));
    assert_eq!(created["audience"], json!({"tags": ["vip"]}));
    let path = format!("/v1/campaigns/{}", created["id"].as_str().expect("id"));
    let (status, fetched) = send(app.request(Method::GET, &path, &me)).await;
    assert_eq!((status, &fetched), (200, &created));

    let (status, edited) = send(app.request(Method::PATCH, &path, &me).json(&json!({
        "name": "Summer sale", "audience": {"any_tags": ["nyc", "sf"]}, "link": null,
        "sender": {"messaging_service_sid": format!("MG{}", "0".repeat(32))},
    })))
    .await;
    assert_eq!(status, 200, "{edited}");
    assert_eq!(edited["name"], "Summer sale");
    assert_eq!(edited["audience"], json!({"any_tags": ["nyc", "sf"]}));
    assert_eq!(edited["link"], Value::Null);

    let (status, listed) = send(app.request(Method::GET, "/v1/campaigns", &me)).await;
    assert_eq!(status, 200);
    assert_eq!(listed["items"], json!([edited]));

    let (status, launched) = act(app, &me, &created["id"], "launch", None).await;
    assert_eq!(status, 200, "{launched}");
    assert_eq!(launched["status"], "sending");
    assert!(launched["launched_at"].is_string());
    // The body is kept at launch: later template edits do not reach this campaign.
    assert_eq!(launched["body"], "Hi {{first_name|there}}");
    let (status, _) = send(
        app.request(Method::PATCH, &format!("/v1/templates/{template_id}"), &me)
            .json(&json!({"body": "Changed"})),
    )
    .await;
    assert_eq!(status, 200);
    let (_, after) = send(app.request(Method::GET, &path, &me)).await;
    assert_eq!(after["body"], "Hi {{first_name|there}}");
    let (status, refused) = send(
        app.request(Method::PATCH, &path, &me)
            .json(&json!({"name": "too late"})),
    )
    .await;
    assert_eq!((status, error_code(&refused)), (409, "illegal_transition"));
    // Sending, or completed already: the tenant has no contacts, so nothing is left to send.
    let current = &refused["error"]["details"]["status"];
    assert!(current == "sending" || current == "completed", "{refused}");
}

async fn the_lifecycle_refuses_illegal_actions_with_the_current_status(app: &TestApp) {
    let me = app.tenant("Acme").await;
    let template_id = template(app, &me, "Hello").await;
    let scheduled = campaign(app, &me, &template_id, json!({})).await;
    let id = &scheduled["id"];
    let send_at = (Utc::now() + Duration::hours(2)).to_rfc3339();
    let (status, body) = act(app, &me, id, "launch", Some(json!({"send_at": send_at}))).await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("scheduled")),
        "{body}"
    );
    assert!(body["send_at"].is_string());
    let (_, body) = act(app, &me, id, "pause", None).await;
    assert_eq!(body["status"], "paused");
    // Its time is still to come: resuming schedules it again.
    let (_, body) = act(app, &me, id, "resume", None).await;
    assert_eq!(body["status"], "scheduled");
    let (_, body) = act(app, &me, id, "cancel", None).await;
    assert_eq!(body["status"], "cancelled");
    assert!(body["finished_at"].is_string());
    for action in ["resume", "pause", "launch", "cancel"] {
        let (status, refused) = act(app, &me, id, action, None).await;
        assert_eq!(
            (status, error_code(&refused)),
            (409, "illegal_transition"),
            "{action}"
        );
        assert_eq!(refused["error"]["details"]["status"], "cancelled");
        assert_eq!(refused["error"]["details"]["campaign"]["id"], *id);
    }

    let now = campaign(app, &me, &template_id, json!({})).await;
    let id = &now["id"];
    let (status, refused) = act(app, &me, id, "pause", None).await;
    assert_eq!(
        (status, refused["error"]["details"]["status"].as_str()),
        (409, Some("draft"))
    );
    // The kill switch keeps the fan-out from finishing this (recipient-less) campaign before
    // the actions below reach it.
    let (status, _) = send(
        app.request(Method::POST, "/v1/tenant/pause", &me)
            .json(&json!({"reason": "holding the fan-out"})),
    )
    .await;
    assert_eq!(status, 200);
    // A send_at in the past means now.
    let past = (Utc::now() - Duration::minutes(5)).to_rfc3339();
    let (_, body) = act(app, &me, id, "launch", Some(json!({"send_at": past}))).await;
    assert_eq!(body["status"], "sending");
    let (_, body) = act(app, &me, id, "pause", None).await;
    assert_eq!(body["status"], "paused");
    let (_, body) = act(app, &me, id, "resume", None).await;
    assert_eq!(body["status"], "sending");
    let (status, _) = act(app, &me, id, "launch", None).await;
    assert_eq!(status, 409);
    let (status, body) = act(
        app,
        &me,
        &json!("cp_01jzzzzzzzzzzzzzzzzzzzzzzz"),
        "pause",
        None,
    )
    .await;
    assert_eq!((status, error_code(&body)), (404, "not_found"));
}

async fn the_estimate_counts_recipients_skips_segments_and_cost(app: &TestApp) {
    let me = app.tenant("Acme").await;
    let explicit = json!({"status": "explicit", "source": "web form"});
    let people = [
        // Two recipients: one short message, one long enough for two segments.
        json!({"phone": "+14155550001", "first_name": "Ada", "tags": ["vip"], "consent": explicit}),
        json!({"phone": "+442079460001", "first_name": "Alan", "tags": ["VIP"], "consent": explicit,
               "attributes": {"note": "x".repeat(150)}}),
        // Skipped: no consent, on the do-not-contact list, no first name.
        json!({"phone": "+14155550003", "first_name": "Cy", "tags": ["vip"]}),
        json!({"phone": "+14155550004", "first_name": "Di", "tags": ["vip"], "consent": explicit}),
        json!({"phone": "+14155550005", "tags": ["vip"], "consent": explicit}),
        // Not in the audience.
        json!({"phone": "+14155550006", "first_name": "Ed", "consent": explicit}),
    ];
    for person in people {
        let (status, body) = app.post_contact(&me, person).await;
        assert_eq!(status, 201, "{body}");
    }
    DoNotContact::new(app.ctx.table.clone())
        .add(
            &me.tenant_id.parse().expect("tenant id"),
            &Suppression {
                phone: PhoneE164::from_e164("+14155550004").expect("e164"),
                reason: "stop_reply".into(),
                at: Utc::now(),
                source: None,
            },
        )
        .await
        .expect("suppress");
    let template_id = template(app, &me, "Hi {{first_name}} {{note|}}").await;
    let created = campaign(
        app,
        &me,
        &template_id,
        json!({"audience": {"tags": ["vip"]}}),
    )
    .await;

    let (status, estimate) = act(app, &me, &created["id"], "estimate", None).await;
    assert_eq!(status, 200, "{estimate}");
    assert_eq!(estimate["audience"], 5);
    assert_eq!(estimate["recipients"], 2);
    assert_eq!(
        estimate["skipped"],
        json!({"no_consent": 1, "do_not_contact": 1, "missing_variable": 1})
    );
    // "Hi Ada \nReply STOP to opt out" is 1 segment; Alan's 150-character note makes 2.
    assert_eq!(estimate["segments"], 3);
    assert_eq!(estimate["cost_millicents"], 3 * 830);
    assert_eq!(estimate["cost_cents"], 2.49);
    assert_eq!(estimate["countries"], json!({"US": 1, "GB": 1}));
    assert_eq!(estimate["tenant_paused"], false);
}

async fn tenants_never_see_each_other(app: &TestApp) {
    let acme = app.tenant("Acme").await;
    let other = app.tenant("Other").await;
    let template_id = template(app, &acme, "Hello").await;
    let created = campaign(app, &acme, &template_id, json!({})).await;
    let path = format!("/v1/campaigns/{}", created["id"].as_str().expect("id"));
    let (status, _) = send(app.request(Method::GET, &path, &other)).await;
    assert_eq!(status, 404);
    let (status, _) = send(
        app.request(Method::PATCH, &path, &other)
            .json(&json!({"name": "x"})),
    )
    .await;
    assert_eq!(status, 404);
    for action in ["launch", "pause", "cancel", "estimate"] {
        let (status, _) = act(app, &other, &created["id"], action, None).await;
        assert_eq!(status, 404, "{action}");
    }
    let (_, listed) = send(app.request(Method::GET, "/v1/campaigns", &other)).await;
    assert_eq!(listed["items"], json!([]));
    // Another tenant's template cannot be used.
    let (status, refused) = send(
        app.request(Method::POST, "/v1/campaigns", &other)
            .json(&json!({
                "name": "x", "template_id": template_id, "sender": {"from": "+14155550100"},
            })),
    )
    .await;
    assert_eq!(
        (status, refused["error"]["details"]["field"].as_str()),
        (400, Some("template_id"))
    );
    let (_, still) = send(app.request(Method::GET, &path, &acme)).await;
    assert_eq!(still["status"], "draft");
}

async fn bad_input_gets_clear_errors(app: &TestApp) {
    let me = app.tenant("Acme").await;
    let template_id = template(app, &me, "Hello").await;
    let base = json!({"name": "A", "template_id": template_id, "sender": {"from": "+14155550100"}});
    let with = |key: &str, value: Value| {
        let mut body = base.clone();
        body[key] = value;
        body
    };
    let cases = [
        (with("name", json!(" ")), 400, "name"),
        (with("template_id", json!("tp_nope")), 400, "template_id"),
        (
            with("template_id", json!("tp_01jzzzzzzzzzzzzzzzzzzzzzzz")),
            400,
            "template_id",
        ),
        (with("sender", json!({})), 400, "sender"),
        (with("sender", json!({"from": "12"})), 400, "sender.from"),
        (
            with("sender", json!({"messaging_service_sid": "MG1"})),
            400,
            "sender.messaging_service_sid",
        ),
        (with("link", json!("acme.example")), 400, "link"),
        (
            with("audience", json!({"attributes": {"Bad Name": "x"}})),
            400,
            "audience.attributes",
        ),
    ];
    for (body, status, field) in cases {
        let (got, answer) = send(app.request(Method::POST, "/v1/campaigns", &me).json(&body)).await;
        assert_eq!(got, status, "{body}: {answer}");
        assert_eq!(answer["error"]["details"]["field"], field, "{answer}");
    }
    let (status, answer) = send(
        app.request(Method::POST, "/v1/campaigns", &me)
            .json(&with("status", json!("sending"))),
    )
    .await;
    assert_eq!((status, error_code(&answer)), (422, "invalid_body"));
    let created = campaign(app, &me, &template_id, json!({})).await;
    let (status, answer) = act(
        app,
        &me,
        &created["id"],
        "launch",
        Some(json!({"send_at": "soon"})),
    )
    .await;
    assert_eq!(
        (status, error_code(&answer)),
        (422, "invalid_body"),
        "{answer}"
    );
    let (status, _) = send(app.anonymous(Method::GET, "/v1/campaigns")).await;
    assert_eq!(status, 401);
}

async fn launching_fans_out_and_the_campaign_shows_its_progress(app: &TestApp) {
    let me = app.tenant("Acme").await;
    let explicit = json!({"status": "explicit", "source": "web form"});
    app.post_contact(&me, json!({"phone": "+12125550001", "consent": explicit}))
        .await;
    app.post_contact(&me, json!({"phone": "+12125550002"}))
        .await;
    let template_id = template(app, &me, "Hello").await;
    let created = campaign(app, &me, &template_id, json!({})).await;
    let path = format!("/v1/campaigns/{}", created["id"].as_str().expect("id"));
    let (_, fetched) = send(app.request(Method::GET, &path, &me)).await;
    assert!(fetched.get("fan_out").is_none(), "{fetched}");

    let (status, _) = act(app, &me, &created["id"], "launch", None).await;
    assert_eq!(status, 200);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let shown = loop {
        let (_, shown) = send(app.request(Method::GET, &path, &me)).await;
        if shown["fan_out"]["done"] == true {
            break shown;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "fan-out never finished: {shown}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let fan_out = &shown["fan_out"];
    assert_eq!(fan_out["audience"], 2);
    assert_eq!(fan_out["skipped"], json!({"no_consent": 1}));
    // Queued (or already sent: the test app runs senders), or held until 08:00 in New York,
    // depending on when the test runs.
    let held: u64 = fan_out["held"]
        .as_object()
        .map_or(0, |h| h.values().filter_map(Value::as_u64).sum());
    let queued_or_sent =
        fan_out["queued"].as_u64().unwrap_or(0) + fan_out["sent"].as_u64().unwrap_or(0);
    assert_eq!(queued_or_sent + held, 1, "{fan_out}");

    // Every record, a page at a time; and the skipped ones with their reason.
    let messages = format!("{path}/messages");
    let (status, first) = send(app.request(Method::GET, &format!("{messages}?limit=1"), &me)).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["items"].as_array().map(Vec::len), Some(1));
    let cursor = first["next_cursor"].as_str().expect("more");
    let (_, rest) = send(app.request(
        Method::GET,
        &format!("{messages}?limit=10&cursor={cursor}"),
        &me,
    ))
    .await;
    let mut phones: Vec<&str> = [&first, &rest]
        .iter()
        .flat_map(|p| p["items"].as_array().into_iter().flatten())
        .filter_map(|r| r["phone"].as_str())
        .collect();
    phones.sort_unstable();
    assert_eq!(phones, ["+12125550001", "+12125550002"]);
    assert!(rest["next_cursor"].is_null(), "{rest}");
    let (_, skipped) =
        send(app.request(Method::GET, &format!("{messages}?status=skipped"), &me)).await;
    assert_eq!(skipped["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(skipped["items"][0]["phone"], "+12125550002");
    assert_eq!(skipped["items"][0]["reason"], "no_consent");
    let (status, body) =
        send(app.request(Method::GET, &format!("{messages}?cursor=99:x"), &me)).await;
    assert_eq!((status, error_code(&body)), (400, "invalid_cursor"));
}
