//! A person's rights over real HTTP, on the embedded store and on DynamoDB + SQS (moto), with
//! messages sent to the Twilio simulator and texts and status callbacks coming back from it:
//! the export holds everything held about the person; erasure removes it everywhere but keeps
//! the number off-limits when they had opted out.

use crate::support;

use std::time::{Duration, Instant};

use chrono::Utc;
use reqwest::Method;
use serde_json::{Value, json};
use smscrm_domain::ports::{Query, table};
use smscrm_domain::{CampaignId, ContactId, PhoneE164, TenantId};
use smscrm_store::{DoNotContact, keys};
use support::sending::{FROM, consenting, launch, records, tenant, texts_reach_the_app, wait_for};
use support::{Caller, TestApp, send};

on_both_backends!(
    the_export_holds_everything_and_erasure_removes_it_but_keeps_the_opt_out,
    erasure_keeps_a_withdrawn_consent_and_nothing_else,
    message_bodies_reports_and_replies_expire_after_the_tenants_retention,
);

async fn contact_id(app: &TestApp, me: &Caller, phone: &str) -> String {
    let (_, found) = send(app.request(Method::GET, &format!("/v1/contacts?q={phone}"), me)).await;
    found["items"][0]["id"].as_str().expect("id").to_owned()
}

/// Waits until `check` holds for the campaign's record for `phone`.
async fn record_until(
    app: &TestApp,
    me: &Caller,
    path: &str,
    phone: &str,
    check: impl Fn(&Value) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let all = records(app, me, path).await;
        if all.get(phone).is_some_and(&check) {
            return;
        }
        assert!(Instant::now() < deadline, "never: {:?}", all.get(phone));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every audit entry of the tenant, newest first.
async fn audit_log(app: &TestApp, me: &Caller) -> Vec<Value> {
    let mut all = Vec::new();
    let mut query = "?limit=100".to_owned();
    loop {
        let (status, page) = send(app.request(Method::GET, &format!("/v1/audit{query}"), me)).await;
        assert_eq!(status, 200, "{page}");
        all.extend(page["items"].as_array().expect("items").iter().cloned());
        match page["next_cursor"].as_str() {
            Some(cursor) => query = format!("?limit=100&cursor={cursor}"),
            None => return all,
        }
    }
}

async fn the_export_holds_everything_and_erasure_removes_it_but_keeps_the_opt_out(app: &TestApp) {
    let me = tenant(app, 100).await;
    let phones = consenting(app, &me, 2).await;
    let (ada_phone, bob_phone) = (phones[0].as_str(), phones[1].as_str());
    let tenant_id: TenantId = me.tenant_id.parse().expect("id");
    texts_reach_the_app(app, &me).await;
    let account = smscrm_local_host::sending::simulator_account(app.secrets.as_ref())
        .await
        .expect("account");

    let first = launch(app, &me, "Fresh bread today, {{first_name}}!").await;
    wait_for(app, &me, &first, "completed", Duration::from_secs(60)).await;
    record_until(app, &me, &first, ada_phone, |r| {
        r["delivery"] == "delivered"
    })
    .await;
    for text in ["What time do you open?", "STOP"] {
        let answer = app.sim.receive(ada_phone, FROM, text).await.expect("sent");
        assert_eq!(answer.http_status, 200, "{}", answer.body);
    }
    let ada = contact_id(app, &me, ada_phone).await;

    // The export: profile, do-not-contact entry, consent history, messages with Twilio's
    // reports, replies.
    let export_path = format!("/v1/contacts/{ada}/export");
    let (status, exported) = send(app.request(Method::GET, &export_path, &me)).await;
    assert_eq!(status, 200, "{exported}");
    assert_eq!(exported["contact"]["phone"], ada_phone);
    assert_eq!(exported["contact"]["consent"]["status"], "revoked");
    assert_eq!(exported["do_not_contact"]["reason"], "stop_reply");
    let history: Vec<&str> = exported["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        history,
        ["consent.changed", "consent.revoked"],
        "{exported}"
    );
    let messages = exported["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 1, "{exported}");
    assert_eq!(
        messages[0]["text"],
        "Fresh bread today, Person0!\nReply STOP to opt out"
    );
    let callbacks: Vec<&str> = messages[0]["status_callbacks"]
        .as_array()
        .expect("callbacks")
        .iter()
        .filter_map(|c| c["status"].as_str())
        .collect();
    assert!(callbacks.contains(&"delivered"), "{callbacks:?}");
    let replies: Vec<&str> = exported["replies"]
        .as_array()
        .expect("replies")
        .iter()
        .filter_map(|r| r["body"].as_str())
        .collect();
    assert_eq!(replies, ["STOP", "What time do you open?"]);
    assert!(
        !exported.to_string().contains(bob_phone),
        "nothing of Bob's in Ada's export"
    );
    let other = app.tenant("Other").await;
    let (status, _) = send(app.request(Method::GET, &export_path, &other)).await;
    assert_eq!(status, 404, "another tenant's contact is not there");

    // Erasure, of every number Ada was messaged at, not just the one she has now.
    let ada_path = format!("/v1/contacts/{ada}");
    let (status, moved) = send(
        app.request(Method::PATCH, &ada_path, &me)
            .json(&json!({"phone": "+12125559999"})),
    )
    .await;
    assert_eq!(status, 200, "{moved}");
    let (status, erased) =
        send(app.request(Method::DELETE, &format!("{ada_path}?erase=true"), &me)).await;
    assert_eq!(status, 200, "{erased}");
    assert_eq!(
        (
            &erased["erased"]["messages"],
            &erased["erased"]["replies"],
            &erased["erased"]["kept_on_do_not_contact"]
        ),
        (&json!(1), &json!(2), &json!(true)),
        "{erased}"
    );
    let (status, _) = send(app.request(Method::GET, &ada_path, &me)).await;
    assert_eq!(status, 404);
    // A callback Twilio sends late, for the erased message, is refused and not kept.
    let campaign_id: CampaignId = first.rsplit('/').next().expect("id").parse().expect("id");
    let ada_id: ContactId = ada.parse().expect("id");
    let url =
        smscrm_twilio::webhooks::status_callback_url(&app.base, &tenant_id, &campaign_id, &ada_id);
    let sid = messages[0]["sid"].as_str().expect("sid").to_owned();
    let params: Vec<(String, String)> = [
        ("MessageSid", sid.as_str()),
        ("MessageStatus", "read"),
        ("AccountSid", account.sid.as_str()),
        ("To", ada_phone),
        ("From", FROM),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let signature = smscrm_twilio::signature::sign(&account.auth_token, &url, &params);
    let late = reqwest::Client::new()
        .post(&url)
        .header(smscrm_twilio::signature::HEADER, signature)
        .form(&params)
        .send()
        .await
        .expect("answer");
    assert_eq!(late.status(), 404);
    let events = app
        .ctx
        .table
        .query(
            &Query::partition(keys::events_partition(
                &tenant_id,
                &campaign_id,
                smscrm_store::messages::shard(&ada_id),
            ))
            .prefix(format!("{ada_id}#")),
        )
        .await
        .expect("query");
    assert!(events.items.is_empty(), "{:?}", events.items);
    let (_, threads) = send(app.request(Method::GET, "/v1/inbox", &me)).await;
    assert!(!threads.to_string().contains(ada_phone), "{threads}");
    let (_, thread) = send(app.request(Method::GET, &format!("/v1/inbox/{ada_phone}"), &me)).await;
    assert!(!thread.to_string().contains("What time"), "{thread}");
    let left = records(app, &me, &first).await;
    assert!(!left.contains_key(ada_phone), "{left:?}");
    assert!(left.contains_key(bob_phone), "Bob's record stays");
    let log = audit_log(app, &me).await;
    assert!(
        !Value::from(log.clone()).to_string().contains(ada_phone),
        "the log keeps what was done, not to which number"
    );
    let actions: Vec<&str> = log.iter().filter_map(|e| e["action"].as_str()).collect();
    for action in ["contact.erased", "contact.exported", "consent.revoked"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }

    // The number stays off-limits: added again (a re-import), it is still not messaged.
    let ada_e164 = PhoneE164::from_e164(ada_phone).expect("phone");
    let kept = DoNotContact::new(app.ctx.table.clone())
        .get(&tenant_id, &ada_e164)
        .await
        .expect("read")
        .expect("still on the list");
    assert_eq!(kept.reason, "stop_reply");
    assert_eq!(kept.source, None, "nothing but the digest and why");
    let (status, _) = app
        .post_contact(
            &me,
            json!({"phone": ada_phone, "consent": {"status": "explicit", "source": "re-import"}}),
        )
        .await;
    assert_eq!(status, 201);
    app.sim.clear();
    let second = launch(app, &me, "Croissants too!").await;
    wait_for(app, &me, &second, "completed", Duration::from_secs(60)).await;
    let again = records(app, &me, &second).await;
    assert_eq!(again[ada_phone]["reason"], "do_not_contact", "{again:?}");
    let sent: Vec<String> = app.sim.accepted().into_iter().map(|m| m.to).collect();
    assert_eq!(sent, [bob_phone.to_owned()]);
}

async fn erasure_keeps_a_withdrawn_consent_and_nothing_else(app: &TestApp) {
    let me = app.tenant("Bakery").await;
    let tenant_id: TenantId = me.tenant_id.parse().expect("id");
    let dnc = DoNotContact::new(app.ctx.table.clone());
    for (phone, consent, kept) in [
        (
            "+14155550101",
            json!({"status": "explicit", "source": "web form"}),
            false,
        ),
        ("+14155550102", json!({"status": "revoked"}), true),
    ] {
        let (status, created) = app
            .post_contact(&me, json!({"phone": phone, "consent": consent}))
            .await;
        assert_eq!(status, 201, "{created}");
        let path = format!(
            "/v1/contacts/{}?erase=true",
            created["id"].as_str().expect("id")
        );
        let (status, erased) = send(app.request(Method::DELETE, &path, &me)).await;
        assert_eq!(status, 200, "{erased}");
        assert_eq!(erased["erased"]["kept_on_do_not_contact"], kept, "{phone}");
        let listed = dnc
            .get(&tenant_id, &PhoneE164::from_e164(phone).expect("phone"))
            .await
            .expect("read");
        assert_eq!(listed.is_some(), kept, "{phone}");
        let (status, _) = send(app.request(Method::DELETE, &path, &me)).await;
        assert_eq!(status, 404, "erased already");
    }
    let (status, refused) = send(app.request(
        Method::DELETE,
        "/v1/contacts/ct_01jf8m3q7x2k9v4t6r5w0y1z2c?erase=maybe",
        &me,
    ))
    .await;
    assert_eq!(status, 400, "{refused}");

    // An import's report quotes the people in it (its preview, its row errors): erasing one
    // takes them out of it and leaves the others.
    let csv = "phone,first name\n+14155550103,Cleo\n+14155550103,Cleo again\n+14155550104,Dan\n";
    let (status, created) = send(
        app.request(Method::POST, "/v1/imports", &me)
            .json(&json!({"filename": "list.csv", "consent_source": "paper forms"})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let import_id = created["import"]["id"].as_str().expect("id").to_owned();
    app.upload(&me, &created, csv).await;
    let import_path = format!("/v1/imports/{import_id}");
    let (status, _) = send(app.request(Method::POST, &format!("{import_path}/commit"), &me)).await;
    assert_eq!(status, 202);
    let deadline = Instant::now() + Duration::from_secs(30);
    let report = loop {
        let (_, shown) = send(app.request(Method::GET, &import_path, &me)).await;
        if shown["status"] == "completed" {
            break shown;
        }
        assert!(Instant::now() < deadline, "{shown}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(report.to_string().contains("+14155550103"), "{report}");
    let cleo = contact_id(app, &me, "+14155550103").await;
    let (status, _) = send(app.request(
        Method::DELETE,
        &format!("/v1/contacts/{cleo}?erase=true"),
        &me,
    ))
    .await;
    assert_eq!(status, 200);
    let (_, after) = send(app.request(Method::GET, &import_path, &me)).await;
    assert!(!after.to_string().contains("+14155550103"), "{after}");
    assert!(
        after.to_string().contains("+14155550104"),
        "Dan stays: {after}"
    );
    assert_eq!(after["report"]["created"], 2, "the counts stay: {after}");
}

/// Every item of a partition, with when it expires (`None`: never).
async fn expiries(app: &TestApp, partition: String) -> Vec<(String, Option<i64>)> {
    let page = app
        .ctx
        .table
        .query(&Query::partition(partition))
        .await
        .expect("query");
    assert!(page.next_cursor.is_none());
    page.items
        .iter()
        .map(|item| {
            let sk = item[table::SK].as_str().unwrap_or("").to_owned();
            (sk, item.get(table::TTL).and_then(Value::as_i64))
        })
        .collect()
}

async fn message_bodies_reports_and_replies_expire_after_the_tenants_retention(app: &TestApp) {
    let me = tenant(app, 100).await;
    let (status, refused) = send(
        app.request(Method::PATCH, "/v1/tenant", &me)
            .json(&json!({"message_retention_days": 7})),
    )
    .await;
    assert_eq!(status, 400, "{refused}");
    assert_eq!(
        refused["error"]["details"]["field"],
        "message_retention_days"
    );
    let (status, changed) = send(
        app.request(Method::PATCH, "/v1/tenant", &me)
            .json(&json!({"message_retention_days": 30})),
    )
    .await;
    assert_eq!(
        (status, &changed["message_retention_days"]),
        (200, &json!(30))
    );

    let phones = consenting(app, &me, 1).await;
    let tenant_id: TenantId = me.tenant_id.parse().expect("id");
    texts_reach_the_app(app, &me).await;
    let started = Utc::now();
    let path = launch(app, &me, "Fresh bread today!").await;
    wait_for(app, &me, &path, "completed", Duration::from_secs(60)).await;
    record_until(app, &me, &path, &phones[0], |r| {
        r["delivery"] == "delivered"
    })
    .await;
    let answer = app
        .sim
        .receive(&phones[0], FROM, "Thanks!")
        .await
        .expect("sent");
    assert_eq!(answer.http_status, 200);

    // Everything about the message expires 30 days on (the tables' TTL attribute).
    let month = |at: chrono::DateTime<Utc>| (at + chrono::Duration::days(30)).timestamp();
    let in_a_month = month(started)..=month(Utc::now());
    let campaign: CampaignId = path.rsplit('/').next().expect("id").parse().expect("id");
    let contact: ContactId = contact_id(app, &me, &phones[0]).await.parse().expect("id");
    let shard = smscrm_store::messages::shard(&contact);
    let phone = PhoneE164::from_e164(&phones[0]).expect("phone");
    let record = app
        .ctx
        .table
        .get(&smscrm_store::messages::message_key(
            &tenant_id, &campaign, &contact,
        ))
        .await
        .expect("read")
        .expect("record");
    let sid = record["sid"].as_str().expect("sent").to_owned();
    let mut expiring = vec![(
        "record".to_owned(),
        record.get(table::TTL).and_then(Value::as_i64),
    )];
    expiring.extend(expiries(app, keys::events_partition(&tenant_id, &campaign, shard)).await);
    expiring.extend(expiries(app, keys::thread_partition(&tenant_id, &phone)).await);
    for key in [
        keys::thread(&tenant_id, &phone),
        keys::sid(&tenant_id, &sid),
    ] {
        let item = app.ctx.table.get(&key).await.expect("read").expect("item");
        expiring.push((key.sk.clone(), item.get(table::TTL).and_then(Value::as_i64)));
    }
    let kinds: Vec<&str> = expiring.iter().map(|(sk, _)| sk.as_str()).collect();
    assert!(
        kinds.iter().any(|k| k.ends_with("#delivered"))
            && kinds.iter().any(|k| k.starts_with("MSG#"))
            && kinds.contains(&"LASTOUT"),
        "callbacks, the reply and the last-outbound pointer: {kinds:?}"
    );
    for (what, ttl) in &expiring {
        assert!(
            ttl.is_some_and(|t| in_a_month.contains(&t)),
            "{what} expires at {ttl:?}, not in {in_a_month:?}"
        );
    }
    // The contact itself is kept: retention is about messages, not people.
    let contact_item = app
        .ctx
        .table
        .get(&keys::contact(&tenant_id, &contact))
        .await
        .expect("read")
        .expect("contact");
    assert_eq!(contact_item.get(table::TTL), None);
}
