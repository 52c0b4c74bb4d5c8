//! The tenant API over real HTTP, on the embedded store and on DynamoDB + SQS (moto): settings
//! shown, changed, checked and audited; Twilio credentials write-only; the kill switch stopping
//! a running campaign (sent by the sender to the simulator) and resuming it; the audit log's
//! filters; API keys with scopes and a last-used time, managed by admins.

use crate::support;

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::{Value, json};
use smscrm_domain::user::Role;
use support::sending::{
    PAUSE_TAKES_EFFECT, consenting, launch, one_each, records, tenant, wait_for,
};
use support::{Caller, TestApp, error_code, send};

on_both_backends!(
    settings_are_shown_changed_checked_and_audited,
    twilio_credentials_are_written_but_never_shown,
    the_kill_switch_stops_a_running_campaign_and_resuming_finishes_it,
    the_audit_log_filters_by_action_and_time_and_pages,
    admins_mint_scoped_keys_see_when_they_were_used_and_revoke_them,
    the_daily_budget_resets_at_the_tenants_midnight_not_utcs,
);

async fn patch(app: &TestApp, me: &Caller, body: Value) -> (u16, Value) {
    send(app.request(Method::PATCH, "/v1/tenant", me).json(&body)).await
}

async fn audit(app: &TestApp, me: &Caller, query: &str) -> Value {
    let (status, listed) = send(app.request(Method::GET, &format!("/v1/audit{query}"), me)).await;
    assert_eq!(status, 200, "{listed}");
    listed
}

fn actions(listed: &Value) -> Vec<&str> {
    listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|entry| entry["action"].as_str())
        .collect()
}

async fn settings_are_shown_changed_checked_and_audited(app: &TestApp) {
    let me = app.tenant("Bakery").await;
    let (status, shown) = send(app.request(Method::GET, "/v1/tenant", &me)).await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown["id"], me.tenant_id.as_str());
    assert_eq!(shown["name"], "Bakery");
    assert_eq!(shown["paused"], false);
    assert_eq!(
        shown["quiet_hours"],
        json!({"opens": "08:00", "closes": "21:00"})
    );
    assert_eq!(
        shown["spend"],
        json!({"today_millicents": 0, "this_month_millicents": 0})
    );
    assert_eq!(shown["twilio"]["own_credentials"], false);

    // Refused, each naming its field; nothing changes.
    for (body, field) in [
        (json!({"timezone": "Mars/Olympus"}), "timezone"),
        (
            json!({"quiet_hours": {"opens": "21:00", "closes": "08:00"}, "name": "X"}),
            "quiet_hours",
        ),
        (
            json!({"sender_rates": {"+14155550100": 0}}),
            "sender_rates.+14155550100",
        ),
    ] {
        let (status, refused) = patch(app, &me, body.clone()).await;
        assert!(status == 400 || status == 422, "{body}: {refused}");
        let text = refused.to_string();
        assert!(
            text.contains(field.split('.').next().unwrap_or(field)),
            "{body}: {refused}"
        );
    }
    let (status, refused) = patch(app, &me, json!({"nmae": "typo"})).await;
    assert_eq!(status, 422, "{refused}");
    let (_, unchanged) = send(app.request(Method::GET, "/v1/tenant", &me)).await;
    assert_eq!(unchanged["name"], "Bakery");

    let (status, changed) = patch(
        app,
        &me,
        json!({
            "name": "Bakery & Co", "timezone": "America/Chicago",
            "quiet_hours": {"opens": "09:00", "closes": "20:00"},
            "budget": {"daily_cap_cents": 5000, "monthly_cap_cents": 100000},
            "keywords": {"help_text": "Bakery: call 555-0100", "twilio_confirms_opt_out": false},
        }),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    let (_, shown) = send(app.request(Method::GET, "/v1/tenant", &me)).await;
    assert_eq!(shown["name"], "Bakery & Co");
    assert_eq!(shown["timezone"], "America/Chicago");
    assert_eq!(shown["budget"]["daily_cap_cents"], 5000);
    assert_eq!(shown["keywords"]["help_text"], "Bakery: call 555-0100");
    // What campaigns read changed too (the gates read the same tenant).
    assert_eq!(
        shown["quiet_hours"],
        json!({"opens": "09:00", "closes": "20:00"})
    );

    let listed = audit(app, &me, "").await;
    assert_eq!(actions(&listed), ["tenant.settings_changed"], "{listed}");
    let entry = &listed["items"][0];
    assert_eq!(
        entry["details"]["fields"],
        json!(["name", "timezone", "quiet_hours", "budget", "keywords"])
    );
    assert_eq!(entry["details"]["before"]["name"], "Bakery");
    assert_eq!(entry["details"]["after"]["name"], "Bakery & Co");
    assert_eq!(
        entry["details"]["before"]["budget"]["daily_cap_cents"],
        Value::Null
    );
    assert_eq!(entry["actor"]["kind"], "api_key");

    // The same values again change nothing and are not audited.
    let (status, _) = patch(app, &me, json!({"name": "Bakery & Co"})).await;
    assert_eq!(status, 200);
    assert_eq!(actions(&audit(app, &me, "").await).len(), 1);
}

async fn twilio_credentials_are_written_but_never_shown(app: &TestApp) {
    let me = app.tenant("Bakery").await;
    let token = "f00dfeedf00dfeedf00dfeedf00dfeed";
    let put = |body: Value| {
        send(
            app.request(Method::PUT, "/v1/tenant/twilio", &me)
                .json(&body),
        )
    };
    let (status, refused) = put(json!({"account_sid": "AC123", "auth_token": token})).await;
    assert_eq!(status, 400, "{refused}");
    assert!(refused.to_string().contains("account_sid"), "{refused}");
    let account = "AC0123456789abcdef0123456789abcdef";
    let (status, refused) = put(json!({
        "account_sid": account, "auth_token": token, "api_key_sid": "SK0123456789abcdef0123456789abcdef",
    }))
    .await;
    assert_eq!(status, 400, "{refused}");

    let (status, _) = put(json!({"account_sid": account, "auth_token": token})).await;
    assert_eq!(status, 204);
    let (_, shown) = send(app.request(Method::GET, "/v1/tenant", &me)).await;
    assert_eq!(
        shown["twilio"],
        json!({"own_credentials": true, "account_sid": account})
    );
    assert!(
        !shown.to_string().contains(token),
        "the token is shown: {shown}"
    );
    let listed = audit(app, &me, "").await;
    assert_eq!(actions(&listed), ["tenant.twilio_credentials_set"]);
    assert!(
        !listed.to_string().contains(token),
        "the token is audited: {listed}"
    );
    // The sender and the webhooks read them from the secrets store.
    let id = me.tenant_id.parse().expect("id");
    let stored = app
        .secrets
        .get(&smscrm_twilio::credentials::secret_name(&id))
        .await
        .expect("read")
        .expect("stored");
    let stored: Value =
        serde_json::from_str(secrecy::ExposeSecret::expose_secret(&stored)).expect("json");
    assert_eq!(stored, json!({"account_sid": account, "auth_token": token}));
}

/// Waits until `count` messages have reached the simulator.
async fn until_sent(app: &TestApp, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while app.sim.accepted().len() < count {
        assert!(
            Instant::now() < deadline,
            "only {} sent",
            app.sim.accepted().len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn the_kill_switch_stops_a_running_campaign_and_resuming_finishes_it(app: &TestApp) {
    let me = tenant(app, 2).await;
    let phones = consenting(app, &me, 16).await;
    let path = launch(app, &me, "Fresh bread today, {{first_name}}!").await;
    until_sent(app, 1).await;

    let pause = |body: Value| {
        send(
            app.request(Method::POST, "/v1/tenant/pause", &me)
                .json(&body),
        )
    };
    let (status, refused) = pause(json!({"reason": "  "})).await;
    assert_eq!(status, 400, "{refused}");
    let (status, paused) = pause(json!({"reason": "customer complaint"})).await;
    assert_eq!(status, 200, "{paused}");
    assert_eq!(paused["paused"], true);
    assert_eq!(paused["pause"]["reason"], "customer complaint");
    assert!(
        paused["pause"]["by"]
            .as_str()
            .is_some_and(|by| by.starts_with("api_key:"))
    );

    // A call already on its way may land; after that, nothing while the switch is on.
    tokio::time::sleep(PAUSE_TAKES_EFFECT).await;
    let sent_when_paused = app.sim.accepted().len();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        app.sim.accepted().len(),
        sent_when_paused,
        "sent while paused"
    );
    assert!(
        sent_when_paused < phones.len(),
        "everything went before the pause"
    );
    let (_, campaign) = send(app.request(Method::GET, &path, &me)).await;
    assert_eq!(
        campaign["tenant_paused"]["reason"], "customer complaint",
        "{campaign}"
    );
    assert_eq!(campaign["status"], "sending");

    let (status, resumed) = send(app.request(Method::POST, "/v1/tenant/resume", &me)).await;
    assert_eq!(status, 200, "{resumed}");
    assert_eq!(resumed["paused"], false);
    assert_eq!(resumed["pause"], Value::Null);
    wait_for(app, &me, &path, "completed", Duration::from_secs(90)).await;
    assert_eq!(
        one_each(app).len(),
        phones.len(),
        "one message each, no duplicates"
    );
    let (_, campaign) = send(app.request(Method::GET, &path, &me)).await;
    assert_eq!(campaign.get("tenant_paused"), None, "{campaign}");

    let listed = audit(app, &me, "?action=tenant.").await;
    assert_eq!(
        actions(&listed),
        ["tenant.resumed", "tenant.paused"],
        "{listed}"
    );
    assert_eq!(
        listed["items"][1]["details"]["reason"],
        "customer complaint"
    );
}

async fn the_audit_log_filters_by_action_and_time_and_pages(app: &TestApp) {
    let me = app.tenant("Bakery").await;
    let started = chrono::Utc::now();
    for reason in ["one", "two"] {
        let body = json!({ "reason": reason });
        let (status, _) = send(
            app.request(Method::POST, "/v1/tenant/pause", &me)
                .json(&body),
        )
        .await;
        assert_eq!(status, 200);
        let (status, _) = send(app.request(Method::POST, "/v1/tenant/resume", &me)).await;
        assert_eq!(status, 200);
    }
    let all = audit(app, &me, "").await;
    assert_eq!(
        actions(&all),
        [
            "tenant.resumed",
            "tenant.paused",
            "tenant.resumed",
            "tenant.paused"
        ]
    );
    let paused = audit(app, &me, "?action=tenant.paused").await;
    let reasons: Vec<&Value> = paused["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| &e["details"]["reason"])
        .collect();
    assert_eq!(reasons, [&json!("two"), &json!("one")]);

    let at =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let later = chrono::Utc::now() + chrono::Duration::hours(1);
    let none = audit(app, &me, &format!("?since={}", at(later))).await;
    assert_eq!(none["items"], json!([]), "{none}");
    let within = audit(
        app,
        &me,
        &format!("?since={}&until={}", at(started), at(later)),
    )
    .await;
    assert_eq!(actions(&within).len(), 4, "{within}");

    // A page at a time, newest first, to the end.
    let mut seen = Vec::new();
    let mut query = "?limit=3".to_owned();
    loop {
        let page = audit(app, &me, &query).await;
        seen.extend(actions(&page).into_iter().map(str::to_owned));
        match page["next_cursor"].as_str() {
            Some(cursor) => query = format!("?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    assert_eq!(seen, actions(&all));

    // Another tenant sees none of it.
    let other = app.tenant("Other").await;
    assert_eq!(audit(app, &other, "").await["items"], json!([]));
    let (status, refused) = send(app.request(Method::GET, "/v1/audit?since=yesterday", &me)).await;
    assert_eq!(status, 400, "{refused}");
}

async fn admins_mint_scoped_keys_see_when_they_were_used_and_revoke_them(app: &TestApp) {
    let me = app.tenant("Bakery").await;
    let ada = app.signed_in(&me, "ada@example.com", Role::Admin).await;
    let mint = |body: Value| {
        send(
            app.as_person(Method::POST, "/v1/api-keys", &ada)
                .json(&body),
        )
    };

    for (body, field) in [
        (json!({"name": "sync", "scopes": ["owner"]}), "scopes"),
        (json!({"name": "sync", "scopes": []}), "scopes"),
        (json!({"name": " ", "scopes": ["read"]}), "name"),
    ] {
        let (status, refused) = mint(body).await;
        assert_eq!(status, 400, "{refused}");
        assert_eq!(refused["error"]["details"]["field"], field, "{refused}");
    }
    let (status, refused) = mint(json!({"name": "sync"})).await;
    assert_eq!((status, error_code(&refused)), (422, "invalid_body"));

    let (status, minted) = mint(json!({"name": "CRM sync", "scopes": ["write", "read"]})).await;
    assert_eq!(status, 201, "{minted}");
    assert_eq!(minted["scopes"], json!(["read", "write"]));
    assert_eq!(minted["last_used_at"], Value::Null);
    assert!(minted.get("hash").is_none(), "{minted}");
    let sync = Caller {
        tenant_id: me.tenant_id.clone(),
        key: minted["api_key"]
            .as_str()
            .expect("the key, shown once")
            .to_owned(),
    };

    // It does what its scopes say, and nothing more.
    let (status, _) = app
        .post_contact(&sync, json!({"phone": "+14155550123"}))
        .await;
    assert_eq!(status, 201);
    let (status, _) = send(app.request(Method::GET, "/v1/contacts", &sync)).await;
    assert_eq!(status, 200);
    let (status, who) = send(app.request(Method::GET, "/v1/me", &sync)).await;
    assert_eq!((status, &who["scopes"]), (200, &json!(["read", "write"])));
    let (status, refused) = send(
        app.request(Method::POST, "/v1/tenant/pause", &sync)
            .json(&json!({"reason": "x"})),
    )
    .await;
    assert_eq!((status, error_code(&refused)), (403, "forbidden_scope"));
    assert!(
        refused["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("admin")),
        "{refused}"
    );

    // The list shows when each key was last used, never a secret.
    let (status, listed) = send(app.as_person(Method::GET, "/v1/api-keys", &ada)).await;
    assert_eq!(status, 200, "{listed}");
    let keys = listed["data"].as_array().expect("data");
    assert_eq!(
        keys.len(),
        2,
        "the tenant's first key and this one: {listed}"
    );
    let listed_sync = keys
        .iter()
        .find(|k| k["id"] == minted["id"])
        .expect("listed");
    let used: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(listed_sync["last_used_at"].clone()).expect("a last-used time");
    let created: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(minted["created_at"].clone()).expect("created_at");
    assert!(used >= created, "{listed_sync}");
    for key in keys {
        assert!(
            key.get("hash").is_none() && key.get("api_key").is_none(),
            "{key}"
        );
    }

    // Another tenant's admin cannot see or revoke it.
    let other = app.tenant("Other").await;
    let bob = app.signed_in(&other, "bob@example.com", Role::Owner).await;
    let path = format!("/v1/api-keys/{}", minted["id"].as_str().expect("id"));
    let (status, _) = send(app.as_person(Method::DELETE, &path, &bob)).await;
    assert_eq!(status, 404);
    let (_, theirs) = send(app.as_person(Method::GET, "/v1/api-keys", &bob)).await;
    assert_eq!(theirs["data"].as_array().map(Vec::len), Some(1), "{theirs}");

    let (status, revoked) = send(app.as_person(Method::DELETE, &path, &ada)).await;
    assert_eq!(status, 200, "{revoked}");
    assert!(revoked["revoked_at"].is_string());
    let (status, _) = send(app.request(Method::GET, "/v1/contacts", &sync)).await;
    assert_eq!(status, 401, "revoked at once");
    let (status, _) = send(app.as_person(Method::DELETE, &path, &ada)).await;
    assert_eq!(status, 409);

    let log = audit(app, &me, "").await;
    for action in ["api_key.created", "api_key.revoked"] {
        let entry = log["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|e| e["action"] == action)
            .unwrap_or_else(|| panic!("{action} in {log}"));
        assert_eq!(entry["actor"]["email"], "ada@example.com", "{entry}");
    }
}

async fn spend(app: &TestApp, me: &Caller) -> (u64, u64) {
    let (status, shown) = send(app.request(Method::GET, "/v1/tenant", me)).await;
    assert_eq!(status, 200, "{shown}");
    let spend = &shown["spend"];
    (
        spend["today_millicents"].as_u64().expect("today"),
        spend["this_month_millicents"].as_u64().expect("this month"),
    )
}

async fn the_daily_budget_resets_at_the_tenants_midnight_not_utcs(app: &TestApp) {
    use chrono::TimeZone as _;
    use chrono_tz::America::New_York;
    // 23:58 in New York, the tenant's zone, ten days from now (so what this test writes is
    // not past its retention): already the next day in UTC.
    let day = (chrono::Utc::now() + chrono::Duration::days(10))
        .with_timezone(&New_York)
        .date_naive();
    let local = |date: chrono::NaiveDate, h, m, sec| {
        New_York
            .from_local_datetime(&date.and_hms_opt(h, m, sec).expect("time"))
            .earliest()
            .expect("a time New York has")
            .with_timezone(&chrono::Utc)
    };
    let next_day = day.succ_opt().expect("a next day");
    let midnight = local(next_day, 0, 0, 0);
    app.clock.shift_to(local(day, 23, 58, 0));
    let me = tenant(app, 100).await;
    let (status, changed) = patch(
        app,
        &me,
        json!({"budget": {"daily_cap_cents": 1, "monthly_cap_cents": null}}),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    let phones = consenting(app, &me, 2).await;

    // One US segment (830 millicents) fits a cent a day; the second message waits for the
    // tenant's next day.
    let path = launch(app, &me, "Fresh bread today!").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let held = loop {
        let all = records(app, &me, &path).await;
        let held: Vec<&Value> = all.values().filter(|r| r["status"] == "held").collect();
        let sent = all.values().filter(|r| r["status"] == "sent").count();
        if held.len() == 1 && sent == 1 {
            break held[0].clone();
        }
        assert!(Instant::now() < deadline, "{all:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(held["reason"], "budget", "{held}");
    assert_eq!(
        held["release_at"],
        midnight.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "New York's midnight"
    );
    assert_eq!(spend(app, &me).await, (830, 830));

    // Half a minute past the tenant's midnight (UTC's day began hours ago): today's spend is
    // zero, the month's is not (unless the month turned too), and the held message goes.
    app.clock.shift_to(local(next_day, 0, 0, 30));
    let same_month = chrono::Datelike::month(&day) == chrono::Datelike::month(&next_day);
    let month_so_far = if same_month { 830 } else { 0 };
    assert_eq!(spend(app, &me).await, (0, month_so_far));
    let tick = smscrm_local_host::serve::scheduler(&app.ctx, &app.queues)
        .tick()
        .await
        .expect("tick");
    assert_eq!(tick.released, 1, "{tick:?}");
    wait_for(app, &me, &path, "completed", Duration::from_secs(30)).await;
    let sent = one_each(app);
    assert_eq!(sent.len(), phones.len(), "{sent:?}");
    assert_eq!(spend(app, &me).await, (830, month_so_far + 830));
}
