//! Twilio's webhooks over real HTTP, on the embedded store and on DynamoDB (moto): only
//! requests signed by Twilio for the tenant, over the exact URL it called, are read; status
//! callbacks move a message only forward; STOP, START and HELP do what they say; everything
//! else lands in the inbox.

use crate::support;

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{Value, json};
use smscrm_domain::delivery::DeliveryStatus;
use smscrm_domain::{CampaignId, ContactId, PhoneE164, Tenant, TenantId};
use smscrm_store::{
    AuditLog, Dispatches, DoNotContact, MessageRecord, MessageStatus, Messages, Suppression,
};
use smscrm_twilio::credentials::{credentials_json, secret_name};
use smscrm_twilio::signature;
use support::{Caller, TestApp, send};

on_both_backends!(behind PUBLIC;
    only_twilios_signature_over_the_exact_url_is_accepted,
    status_callbacks_signed_independently_move_a_message_forward_once,
    stop_start_and_help_do_what_they_say,
    replies_land_in_the_inbox_once_per_message,
    a_rotated_auth_token_is_picked_up_within_seconds,
);

/// The public URL the webhooks take Twilio to have called (the test listens elsewhere).
const PUBLIC: &str = "https://hooks.example.test";
/// A tenant, account and token fixed so that the signatures below could be computed apart
/// from this code (Python's `hmac`, following Twilio's documented algorithm).
const TENANT: &str = "tn_01jf8m3q7x2k9v4t6r5w0y1z2a";
const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "5f3a9c0e7b2d4f6a8c1e3b5d7f9a0c2e";
const CAMPAIGN: &str = "cp_01jf8m3q7x2k9v4t6r5w0y1z2b";
const CONTACT: &str = "ct_01jf8m3q7x2k9v4t6r5w0y1z2c";
/// The tenant's number people text.
const NUMBER: &str = "+15005550006";

fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// An incoming "Help", in the fields and order Twilio posts them.
fn help_from_ada(body: &str) -> Vec<(String, String)> {
    form(&[
        ("ToCountry", "US"),
        ("SmsMessageSid", "SM11111111111111111111111111111111"),
        ("NumMedia", "0"),
        ("SmsSid", "SM11111111111111111111111111111111"),
        ("SmsStatus", "received"),
        ("Body", body),
        ("FromCountry", "US"),
        ("To", NUMBER),
        ("MessageSid", "SM11111111111111111111111111111111"),
        ("AccountSid", ACCOUNT),
        ("From", "+12125550101"),
        ("ApiVersion", "2010-04-01"),
        ("NumSegments", "1"),
    ])
}

/// The fixed tenant, with its own Twilio account in the secrets store and an API key.
async fn fixed_tenant(app: &TestApp) -> Caller {
    let id: TenantId = TENANT.parse().expect("tenant id");
    let mut tenant =
        Tenant::new("Acme", "America/New_York", "US", chrono::Utc::now()).expect("tenant");
    tenant.id = id.clone();
    app.ctx.tenants.create(&tenant).await.expect("create");
    let key = app
        .ctx
        .api_keys
        .create(
            &id,
            "test",
            smscrm_domain::apikey::Scope::ALL.to_vec(),
            chrono::Utc::now(),
        )
        .await
        .expect("key");
    app.secrets
        .put(&secret_name(&id), credentials_json(ACCOUNT, TOKEN).into())
        .await
        .expect("credentials");
    Caller {
        tenant_id: TENANT.into(),
        key: key.plaintext,
    }
}

/// Posts a webhook as Twilio would, with `signature` (none: unsigned); the status and body.
async fn post(
    app: &TestApp,
    path: &str,
    params: &[(String, String)],
    signature: Option<&str>,
) -> (u16, String) {
    let mut request = reqwest::Client::new()
        .post(format!("{}{path}", app.base))
        .form(params);
    if let Some(signature) = signature {
        request = request.header(signature::HEADER, signature);
    }
    let response = request.send().await.expect("the webhook answers");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

async fn only_twilios_signature_over_the_exact_url_is_accepted(app: &TestApp) {
    let me = fixed_tenant(app).await;
    let path = format!("/webhooks/twilio/{TENANT}/inbound");
    let genuine = "kCszFMT/jVB0WcPZ1DuYZ/88DE8=";

    // Refused: unsigned, forged, a genuine signature with one parameter changed, a genuine
    // signature on another tenant's URL. Nothing of them is kept.
    let (status, body) = post(app, &path, &help_from_ada("Help"), None).await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("invalid_signature"), "{body}");
    let (status, _) = post(
        app,
        &path,
        &help_from_ada("Help"),
        Some("Zm9yZ2VkIHNpZ25hdHVyZQ=="),
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = post(app, &path, &help_from_ada("HELP me"), Some(genuine)).await;
    assert_eq!(status, 403);
    let other = app.tenant("Other").await;
    let other_path = format!("/webhooks/twilio/{}/inbound", other.tenant_id);
    let (status, _) = post(app, &other_path, &help_from_ada("Help"), Some(genuine)).await;
    assert_eq!(status, 403);
    let (_, inbox) = send(app.request(Method::GET, "/v1/inbox", &me)).await;
    assert_eq!(inbox["items"], json!([]), "{inbox}");

    // Accepted: the genuine request over the URL Twilio called (the public one).
    let (status, twiml) = post(app, &path, &help_from_ada("Help"), Some(genuine)).await;
    assert_eq!(status, 200, "{twiml}");
    assert_eq!(
        twiml,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>Acme: reply STOP to \
         unsubscribe, START to subscribe again. Msg &amp; data rates may apply.</Message></Response>"
    );
    // The signature changed along with the body is Twilio's too (computed the same way).
    let (status, _) = post(
        app,
        &path,
        &help_from_ada("HELP me"),
        Some("cOH5l0qnsDMhkgKoGyxI1+3Z978="),
    )
    .await;
    assert_eq!(status, 200);
}

async fn status_callbacks_signed_independently_move_a_message_forward_once(app: &TestApp) {
    fixed_tenant(app).await;
    let tenant: TenantId = TENANT.parse().expect("id");
    let (campaign, contact): (CampaignId, ContactId) =
        (CAMPAIGN.parse().expect("id"), CONTACT.parse().expect("id"));
    let sid = "SM22222222222222222222222222222222";
    let messages = Messages::new(app.ctx.table.clone());
    let mut record = MessageRecord::new(
        campaign.clone(),
        contact.clone(),
        PhoneE164::from_e164("+12125550102").expect("phone"),
        chrono::Utc::now(),
    );
    record.status = MessageStatus::Sent;
    record.sid = Some(sid.into());
    record.delivery = Some(DeliveryStatus::Queued);
    messages.put_new(&tenant, &[record]).await.expect("record");

    let path = format!("/webhooks/twilio/{TENANT}/status?campaign={CAMPAIGN}&contact={CONTACT}");
    let callback = |status: &str, code: Option<&str>| {
        let mut params = form(&[
            ("MessageSid", sid),
            ("SmsSid", sid),
            ("AccountSid", ACCOUNT),
            ("From", NUMBER),
            ("To", "+12125550102"),
            ("MessageStatus", status),
            ("SmsStatus", status),
            ("ApiVersion", "2010-04-01"),
            ("NumSegments", "1"),
        ]);
        if let Some(code) = code {
            params.push(("ErrorCode".into(), code.into()));
        }
        params
    };
    let delivered = "qlkr6sGBBrt+y2jgm4KLMYSaQTU=";
    let undelivered = "zHgCqguGbKyPVTEng8WfaHAfSYc=";
    // The same callback twice, and a contradicting final status after it: one move.
    for _ in 0..2 {
        let (status, body) = post(app, &path, &callback("delivered", None), Some(delivered)).await;
        assert_eq!(status, 204, "{body}");
    }
    let (status, _) = post(
        app,
        &path,
        &callback("undelivered", Some("30007")),
        Some(undelivered),
    )
    .await;
    assert_eq!(status, 204);
    // A record of another campaign in the signed URL cannot be reached by editing it.
    let forged = path.replace(CONTACT, "ct_01jf8m3q7x2k9v4t6r5w0y1z2d");
    let (status, _) = post(app, &forged, &callback("delivered", None), Some(delivered)).await;
    assert_eq!(status, 403);

    let stored = messages
        .get(&tenant, &campaign, &contact)
        .await
        .expect("read")
        .expect("record");
    assert_eq!(stored.delivery, Some(DeliveryStatus::Delivered));
    assert_eq!(stored.delivery_error_code, None);
    let events = messages
        .events(&tenant, &campaign, &contact, sid)
        .await
        .expect("events");
    let heard: Vec<DeliveryStatus> = events.iter().map(|e| e.status).collect();
    assert_eq!(heard.len(), 2, "{heard:?}");
    assert!(heard.contains(&DeliveryStatus::Undelivered));
    let changes = Dispatches::new(app.ctx.table.clone())
        .changes(&tenant, &campaign)
        .await
        .expect("changes");
    assert_eq!(
        changes,
        BTreeMap::from([
            ("delivery__delivered".to_owned(), 1),
            ("delivery__queued".to_owned(), -1)
        ])
    );
    // 30007 is carrier filtering, not a reason to stop messaging the number.
    assert!(
        DoNotContact::new(app.ctx.table.clone())
            .get(
                &tenant,
                &PhoneE164::from_e164("+12125550102").expect("phone")
            )
            .await
            .expect("read")
            .is_none()
    );
}

/// An incoming message from `from`, signed as Twilio signs it; the status and TwiML.
async fn text(app: &TestApp, sid: &str, from: &str, body: &str) -> (u16, String) {
    let path = format!("/webhooks/twilio/{TENANT}/inbound");
    let params = form(&[
        ("MessageSid", sid),
        ("SmsMessageSid", sid),
        ("SmsSid", sid),
        ("AccountSid", ACCOUNT),
        ("From", from),
        ("To", NUMBER),
        ("Body", body),
        ("NumMedia", "0"),
        ("NumSegments", "1"),
        ("SmsStatus", "received"),
        ("ApiVersion", "2010-04-01"),
    ]);
    let signed = signature::sign(TOKEN, &format!("{PUBLIC}{path}"), &params);
    post(app, &path, &params, Some(&signed)).await
}

/// The TwiML that sends `text` back, or nothing.
fn twiml(text: Option<&str>) -> String {
    let message = text
        .map(|t| format!("<Message>{t}</Message>"))
        .unwrap_or_default();
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>{message}</Response>")
}

async fn contact(app: &TestApp, me: &Caller, phone: &str) -> Value {
    let (status, body) = app
        .post_contact(
            me,
            json!({"phone": phone, "consent": {"status": "explicit", "source": "web form"}}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    body
}

async fn stop_start_and_help_do_what_they_say(app: &TestApp) {
    let me = fixed_tenant(app).await;
    let tenant: TenantId = TENANT.parse().expect("id");
    let ada = contact(app, &me, "+12125550101").await;
    let ada_path = format!("/v1/contacts/{}", ada["id"].as_str().expect("id"));
    let dnc = DoNotContact::new(app.ctx.table.clone());
    let ada_phone = PhoneE164::from_e164("+12125550101").expect("phone");

    // STOP, in any case and with spaces: on the list, consent revoked, and no confirmation
    // of ours (Twilio sends its own by default).
    let (status, answer) = text(
        app,
        "SM00000000000000000000000000000001",
        "+12125550101",
        " stop ",
    )
    .await;
    assert_eq!((status, answer), (200, twiml(None)));
    let entry = dnc
        .get(&tenant, &ada_phone)
        .await
        .expect("read")
        .expect("listed");
    assert_eq!(entry.reason, "stop_reply");
    assert_eq!(entry.source.as_deref(), Some("stop to +15005550006"));
    let (_, shown) = send(app.request(Method::GET, &ada_path, &me)).await;
    assert_eq!(shown["consent"]["status"], "revoked", "{shown}");
    assert_eq!(
        shown["consent"]["source"], "stop to +15005550006",
        "{shown}"
    );
    assert!(shown["consent"]["at"].is_string(), "{shown}");

    // "Stop please" is a reply for a person, not an opt-out.
    let bob = contact(app, &me, "+12125550102").await;
    text(
        app,
        "SM00000000000000000000000000000002",
        "+12125550102",
        "Stop please",
    )
    .await;
    let bob_phone = PhoneE164::from_e164("+12125550102").expect("phone");
    assert!(dnc.get(&tenant, &bob_phone).await.expect("read").is_none());
    let (_, shown) = send(app.request(
        Method::GET,
        &format!("/v1/contacts/{}", bob["id"].as_str().expect("id")),
        &me,
    ))
    .await;
    assert_eq!(shown["consent"]["status"], "explicit", "{shown}");

    // START lifts Ada's own opt-out and restores consent, audited.
    let (status, answer) = text(
        app,
        "SM00000000000000000000000000000003",
        "+12125550101",
        "Unstop",
    )
    .await;
    assert_eq!((status, answer), (200, twiml(None)));
    assert!(dnc.get(&tenant, &ada_phone).await.expect("read").is_none());
    let (_, shown) = send(app.request(Method::GET, &ada_path, &me)).await;
    assert_eq!(shown["consent"]["status"], "explicit", "{shown}");
    let audit = AuditLog::new(app.ctx.table.clone())
        .list(&tenant, &smscrm_store::AuditFilter::default(), None, 10)
        .await
        .expect("audit");
    // The texts' entries (the contacts' creation through the API has its own).
    let by_texts: Vec<_> = audit
        .items
        .iter()
        .filter(|e| matches!(e.actor, smscrm_store::Actor::Recipient { .. }))
        .collect();
    let actions: Vec<&str> = by_texts.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["consent.restored", "consent.revoked"]);
    assert_eq!(
        by_texts[0].target,
        format!("contact:{}", ada["id"].as_str().expect("id"))
    );
    assert_eq!(
        by_texts[0].details["do_not_contact"],
        json!({"removed": "stop_reply"})
    );

    // A block someone at the tenant set is not the person's to lift.
    let carol_phone = PhoneE164::from_e164("+12125550103").expect("phone");
    dnc.add(
        &tenant,
        &Suppression {
            phone: carol_phone.clone(),
            reason: "manual".into(),
            at: chrono::Utc::now(),
            source: None,
        },
    )
    .await
    .expect("dnc");
    text(
        app,
        "SM00000000000000000000000000000004",
        "+12125550103",
        "START",
    )
    .await;
    assert_eq!(
        dnc.get(&tenant, &carol_phone)
            .await
            .expect("read")
            .map(|e| e.reason)
            .as_deref(),
        Some("manual")
    );

    // HELP gets the tenant's help text; with Twilio's own confirmations off, STOP and START
    // are confirmed by us.
    let mut settings = app
        .ctx
        .tenants
        .get(&tenant)
        .await
        .expect("read")
        .expect("tenant")
        .settings();
    settings.keywords.help_text = Some("Acme Bakery: call 555-0100 <any time>".into());
    settings.keywords.twilio_confirms_opt_out = false;
    app.ctx
        .tenants
        .set_settings(&tenant, &settings)
        .await
        .expect("settings");
    let (_, answer) = text(
        app,
        "SM00000000000000000000000000000005",
        "+12125550101",
        "info",
    )
    .await;
    assert_eq!(
        answer,
        twiml(Some("Acme Bakery: call 555-0100 &lt;any time&gt;"))
    );
    let (_, answer) = text(
        app,
        "SM00000000000000000000000000000006",
        "+12125550101",
        "QUIT",
    )
    .await;
    assert_eq!(
        answer,
        twiml(Some(
            "Acme: you are unsubscribed and will get no more messages. Reply START to subscribe again."
        ))
    );
    let (_, answer) = text(
        app,
        "SM00000000000000000000000000000007",
        "+12125550101",
        "yes",
    )
    .await;
    assert_eq!(
        answer,
        twiml(Some(
            "Acme: you are subscribed again. Reply STOP to unsubscribe."
        ))
    );
}

async fn replies_land_in_the_inbox_once_per_message(app: &TestApp) {
    let me = fixed_tenant(app).await;
    let ada = contact(app, &me, "+12125550101").await;
    text(
        app,
        "SM00000000000000000000000000000011",
        "+12125550101",
        "Is the shop open Sunday?",
    )
    .await;
    text(
        app,
        "SM00000000000000000000000000000012",
        "+12125550102",
        "Who is this?",
    )
    .await;
    // Twilio delivering the same message again changes nothing.
    for _ in 0..2 {
        let (status, answer) = text(
            app,
            "SM00000000000000000000000000000013",
            "+12125550101",
            "Thanks!",
        )
        .await;
        assert_eq!((status, answer), (200, twiml(None)));
    }

    let (status, inbox) = send(app.request(Method::GET, "/v1/inbox", &me)).await;
    assert_eq!(status, 200, "{inbox}");
    let threads = inbox["items"].as_array().expect("threads");
    let phones: Vec<&str> = threads.iter().filter_map(|t| t["phone"].as_str()).collect();
    assert_eq!(
        phones,
        ["+12125550101", "+12125550102"],
        "newest first: {inbox}"
    );
    assert_eq!(threads[0]["last_body"], "Thanks!");
    assert_eq!(threads[0]["received"], 2);
    assert_eq!(threads[0]["contact_id"], ada["id"]);
    assert!(threads[1]["contact_id"].is_null());

    // A thread reads newest first, a page at a time; the number may be written nationally.
    let (status, page) = send(app.request(Method::GET, "/v1/inbox/2125550101?limit=1", &me)).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["messages"]["items"][0]["body"], "Thanks!");
    assert_eq!(page["messages"]["items"][0]["keyword"], Value::Null);
    let cursor = page["messages"]["next_cursor"].as_str().expect("more");
    let (_, rest) = send(app.request(
        Method::GET,
        &format!("/v1/inbox/%2B12125550101?cursor={cursor}"),
        &me,
    ))
    .await;
    let bodies: Vec<&str> = rest["messages"]["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|m| m["body"].as_str())
        .collect();
    assert_eq!(bodies, ["Is the shop open Sunday?"]);

    // Another tenant sees none of it.
    let other = app.tenant("Other").await;
    let (_, theirs) = send(app.request(Method::GET, "/v1/inbox", &other)).await;
    assert_eq!(theirs["items"], json!([]));
    let (status, body) = send(app.request(Method::GET, "/v1/inbox/+12125550101", &other)).await;
    assert_eq!(status, 404, "{body}");
    let (status, _) = send(app.anonymous(Method::GET, "/v1/inbox")).await;
    assert_eq!(status, 401);
}

async fn a_rotated_auth_token_is_picked_up_within_seconds(app: &TestApp) {
    fixed_tenant(app).await;
    let path = format!("/webhooks/twilio/{TENANT}/inbound");
    let url = format!("{PUBLIC}{path}");
    let params = help_from_ada("Help");
    let (status, _) = post(app, &path, &params, Some("kCszFMT/jVB0WcPZ1DuYZ/88DE8=")).await;
    assert_eq!(status, 200, "the old token is cached");

    // The tenant rotates its auth token in Twilio's console and in its secret.
    let rotated = "0a1b2c3d4e5f60718293a4b5c6d7e8f9";
    let id: TenantId = TENANT.parse().expect("id");
    app.secrets
        .put(&secret_name(&id), credentials_json(ACCOUNT, rotated).into())
        .await
        .expect("credentials");
    let signed = signature::sign(rotated, &url, &params);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (status, body) = post(app, &path, &params, Some(&signed)).await;
        if status == 200 {
            break;
        }
        assert_eq!(status, 403, "{body}");
        assert!(
            std::time::Instant::now() < deadline,
            "the rotated token was never picked up"
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    let (status, _) = post(app, &path, &params, Some("kCszFMT/jVB0WcPZ1DuYZ/88DE8=")).await;
    assert_eq!(
        status, 403,
        "the old token is refused once the new one is read"
    );
}
