//! Campaigns as the sending tests run them: a tenant whose recipients may be messaged at any
//! hour, consenting contacts, a launched campaign, and what the simulator and the API show.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::NaiveTime;
use reqwest::Method;
use serde_json::{Value, json};
use smscrm_domain::TenantId;
use smscrm_domain::quiet_hours::QuietHours;

use super::{Caller, TestApp, send};

/// How long a message already past its gates may still take to reach Twilio after a pause: a
/// sender trusts what it read of the tenant and the campaign for 1 s, claims 250 ms before its
/// slot, then writes the claim and calls: four store round trips, which on moto under a full
/// test run's load can take a second or more (2.5 s here was once not enough).
pub const PAUSE_TAKES_EFFECT: Duration = Duration::from_secs(5);

/// The sender every campaign here sends from.
pub const FROM: &str = "+14155550100";

/// A tenant whose recipients may be messaged at any hour (the tests run at any hour) and whose
/// sender may send `rate` segments a second.
pub async fn tenant(app: &TestApp, rate: u32) -> Caller {
    let me = app.tenant("Bakery").await;
    let id: TenantId = me.tenant_id.parse().expect("tenant id");
    let current = app
        .ctx
        .tenants
        .get(&id)
        .await
        .expect("read")
        .expect("tenant");
    let mut settings = current.settings();
    settings.quiet_hours = QuietHours {
        opens: NaiveTime::MIN,
        closes: NaiveTime::from_hms_opt(23, 59, 59).expect("time"),
    };
    settings.sender_rates.insert(FROM.into(), rate);
    app.ctx
        .tenants
        .set_settings(&id, &settings)
        .await
        .expect("settings");
    me
}

/// `n` consenting contacts, `+1212555<nnnn>`, named `Person<n>`.
pub async fn consenting(app: &TestApp, me: &Caller, n: usize) -> Vec<String> {
    let mut phones = Vec::new();
    for i in 0..n {
        let phone = format!("+1212555{:04}", 1000 + i);
        let (status, body) = app
            .post_contact(
                me,
                json!({
                    "phone": phone, "first_name": format!("Person{i}"),
                    "consent": {"status": "explicit", "source": "web form"},
                }),
            )
            .await;
        assert_eq!(status, 201, "{body}");
        phones.push(phone);
    }
    phones
}

/// Creates and launches a campaign of `body` to every contact; returns its path.
pub async fn launch(app: &TestApp, me: &Caller, body: &str) -> String {
    let (status, template) = send(
        app.request(Method::POST, "/v1/templates", me)
            .json(&json!({"name": "T", "body": body})),
    )
    .await;
    assert_eq!(status, 201, "{template}");
    let (status, campaign) = send(app.request(Method::POST, "/v1/campaigns", me).json(&json!({
        "name": "Fresh bread", "template_id": template["id"], "sender": {"from": FROM},
    })))
    .await;
    assert_eq!(status, 201, "{campaign}");
    let path = format!("/v1/campaigns/{}", campaign["id"].as_str().expect("id"));
    let (status, launched) = send(app.request(Method::POST, &format!("{path}/launch"), me)).await;
    assert_eq!(status, 200, "{launched}");
    path
}

/// Waits for the campaign to reach `status`; returns it.
pub async fn wait_for(
    app: &TestApp,
    me: &Caller,
    path: &str,
    status: &str,
    within: Duration,
) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let (_, shown) = send(app.request(Method::GET, path, me)).await;
        if shown["status"] == status {
            return shown;
        }
        assert!(
            Instant::now() < deadline,
            "the campaign never became {status}: {shown}; the simulator has {} messages",
            app.sim.accepted().len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The simulator's messages by recipient; fails on any recipient messaged twice.
pub fn one_each(app: &TestApp) -> BTreeMap<String, twilio_sim::AcceptedMessage> {
    let mut by_recipient = BTreeMap::new();
    for message in app.sim.accepted() {
        let to = message.to.clone();
        if let Some(first) = by_recipient.insert(to.clone(), message) {
            panic!("{to} got two messages; the first was {}", first.sid);
        }
    }
    by_recipient
}

/// Every record of the campaign, by phone.
pub async fn records(app: &TestApp, me: &Caller, path: &str) -> BTreeMap<String, Value> {
    let mut all = BTreeMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("{path}/messages?limit=100");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let (status, page) = send(app.request(Method::GET, &url, me)).await;
        assert_eq!(status, 200, "{page}");
        for item in page["items"].as_array().into_iter().flatten() {
            all.insert(
                item["phone"].as_str().unwrap_or_default().to_owned(),
                item.clone(),
            );
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return all,
        }
    }
}

/// Points the simulator's number [`FROM`] at the tenant's inbound webhook, as a Twilio
/// console would: what people text it reaches the app.
pub async fn texts_reach_the_app(app: &TestApp, me: &Caller) {
    let tenant_id: TenantId = me.tenant_id.parse().expect("tenant id");
    let account = smscrm_local_host::sending::simulator_account(app.secrets.as_ref())
        .await
        .expect("account");
    app.sim.set_inbound_url(
        FROM,
        &account.sid,
        &smscrm_twilio::webhooks::inbound_url(&app.base, &tenant_id),
    );
}
