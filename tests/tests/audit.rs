//! The audit log over real HTTP, on the embedded store and on DynamoDB + SQS (moto): each
//! sensitive action a tenant's system takes leaves one entry naming the key that did it and
//! the address it called from (the last `X-Forwarded-For` entry, which API Gateway appends).

use crate::support;

use chrono::{Duration, Utc};
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};
use support::{Caller, TestApp, send};

on_both_backends!(each_sensitive_action_names_who_did_it_and_from_where);

const CLIENT: &str = "198.51.100.7";

fn from_client(request: RequestBuilder) -> RequestBuilder {
    // The first address is the client's to write; only the last is trusted.
    request.header("x-forwarded-for", format!("10.9.9.9, {CLIENT}"))
}

async fn call(app: &TestApp, me: &Caller, method: Method, path: &str, body: Value) -> Value {
    let (status, answer) = send(from_client(app.request(method, path, me)).json(&body)).await;
    assert!((200..300).contains(&status), "{path}: {status} {answer}");
    answer
}

async fn import(app: &TestApp, me: &Caller) -> String {
    let created = call(
        app,
        me,
        Method::POST,
        "/v1/imports",
        json!({"filename": "march.csv", "consent_source": "paper forms"}),
    )
    .await;
    let id = created["import"]["id"].as_str().expect("id").to_owned();
    app.upload(me, &created, "phone,first name\n+14155550111,Ada\n")
        .await;
    call(
        app,
        me,
        Method::POST,
        &format!("/v1/imports/{id}/commit"),
        json!({}),
    )
    .await;
    id
}

async fn each_sensitive_action_names_who_did_it_and_from_where(app: &TestApp) {
    let me = app.tenant("Bakery").await;
    let (_, who) = send(app.request(Method::GET, "/v1/me", &me)).await;
    let key_id = who["api_key_id"].as_str().expect("key id").to_owned();

    let contact = call(
        app,
        &me,
        Method::POST,
        "/v1/contacts",
        json!({"phone": "+14155550123", "consent": {"status": "explicit", "source": "web form"}}),
    )
    .await;
    let contact_path = format!("/v1/contacts/{}", contact["id"].as_str().expect("id"));
    // A change that leaves consent as it was is not a consent change.
    call(
        app,
        &me,
        Method::PATCH,
        &contact_path,
        json!({"first_name": "Sam"}),
    )
    .await;
    call(
        app,
        &me,
        Method::PATCH,
        &contact_path,
        json!({"consent": {"status": "revoked"}}),
    )
    .await;
    let (status, _) = send(from_client(app.request(Method::DELETE, &contact_path, &me))).await;
    assert_eq!(status, 204);

    let template = call(
        app,
        &me,
        Method::POST,
        "/v1/templates",
        json!({"name": "T", "body": "Hello"}),
    )
    .await;
    let template_id = template["id"].as_str().expect("id").to_owned();
    let campaign = call(
        app,
        &me,
        Method::POST,
        "/v1/campaigns",
        json!({"name": "Spring", "template_id": template_id, "sender": {"from": "+14155550100"}}),
    )
    .await;
    let campaign_path = format!("/v1/campaigns/{}", campaign["id"].as_str().expect("id"));
    let later = (Utc::now() + Duration::hours(2)).to_rfc3339();
    for (action, body) in [
        ("launch", json!({"send_at": later})),
        ("pause", json!({})),
        ("resume", json!({})),
        ("cancel", json!({})),
    ] {
        let path = format!("{campaign_path}/{action}");
        call(app, &me, Method::POST, &path, body).await;
    }
    let now = call(
        app,
        &me,
        Method::POST,
        "/v1/campaigns",
        json!({"name": "Now", "template_id": template_id, "sender": {"from": "+14155550100"}}),
    )
    .await;
    let path = format!("/v1/campaigns/{}/launch", now["id"].as_str().expect("id"));
    call(app, &me, Method::POST, &path, json!({})).await;
    let (status, _) = send(from_client(app.request(
        Method::DELETE,
        &format!("/v1/templates/{template_id}"),
        &me,
    )))
    .await;
    assert_eq!(status, 204);

    let import_id = import(app, &me).await;
    call(
        app,
        &me,
        Method::PATCH,
        "/v1/tenant",
        json!({"name": "Bakery & Co"}),
    )
    .await;

    let (status, log) = send(app.request(Method::GET, "/v1/audit?limit=100", &me)).await;
    assert_eq!(status, 200, "{log}");
    let entries = log["items"].as_array().expect("items");
    let targets = |action: &str| -> Vec<&str> {
        entries
            .iter()
            .filter(|e| e["action"] == action)
            .filter_map(|e| e["target"].as_str())
            .collect()
    };
    let contact_target = format!("contact:{}", contact["id"].as_str().expect("id"));
    let campaign_target = format!("campaign:{}", campaign["id"].as_str().expect("id"));
    assert_eq!(
        targets("consent.changed"),
        [contact_target.as_str(), contact_target.as_str()],
        "granted, then revoked; the name change is not one: {log}"
    );
    assert_eq!(targets("contact.deleted"), [contact_target.as_str()]);
    assert_eq!(
        targets("template.deleted"),
        [format!("template:{template_id}")]
    );
    for action in [
        "campaign.scheduled",
        "campaign.paused",
        "campaign.resumed",
        "campaign.cancelled",
    ] {
        assert_eq!(targets(action), [campaign_target.as_str()], "{action}");
    }
    assert_eq!(targets("campaign.launched").len(), 1);
    assert_eq!(targets("import.committed"), [format!("import:{import_id}")]);
    assert_eq!(targets("tenant.settings_changed").len(), 1);

    let revoked = entries
        .iter()
        .filter(|e| e["action"] == "consent.changed")
        .map(|e| &e["details"]["status"])
        .collect::<Vec<_>>();
    assert_eq!(
        revoked,
        [&json!("revoked"), &json!("explicit")],
        "newest first"
    );
    let committed = entries
        .iter()
        .find(|e| e["action"] == "import.committed")
        .expect("committed");
    assert_eq!(committed["details"]["consent_source"], "paper forms");
    assert_eq!(entries.len(), 11, "one entry per action: {log}");
    for entry in entries {
        assert_eq!(
            (
                &entry["actor"]["kind"],
                &entry["actor"]["key_id"],
                &entry["ip"]
            ),
            (&json!("api_key"), &json!(key_id), &json!(CLIENT)),
            "{entry}"
        );
        assert!(
            !entry.to_string().contains("+14155550123"),
            "no phone numbers in the log: {entry}"
        );
    }
}
