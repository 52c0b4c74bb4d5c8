//! People texting a number: the incoming-message webhook (parameters, signature), TwiML replies,
//! Twilio's default STOP/START/HELP handling, and what a failing webhook gets.

mod common;

use common::{FROM, Harness, Receiver};
use serde_json::Value;
use smscrm_twilio::signature;
use twilio_sim::{InboundError, ReplySource, SimConfig};

const PERSON: &str = "+12125550142";

async fn setup(tag: &str) -> (Harness, Receiver, String) {
    let h = Harness::start(SimConfig::default()).await;
    let receiver = Receiver::start().await;
    let url = receiver.inbound_url(tag);
    h.sim.set_inbound_url(FROM, &h.account.sid, &url);
    (h, receiver, url)
}

#[tokio::test]
async fn an_incoming_text_is_posted_signed_and_its_twiml_messages_are_sent_back() {
    let (h, receiver, url) = setup("in").await;
    receiver.answer_with(
        200,
        r#"<?xml version="1.0" encoding="UTF-8"?><Response><Message>Open 8 to 6 &amp; Sundays</Message><Message to="+12125550199"><Body>Ada asked about hours</Body></Message></Response>"#,
    );

    let inbound = h
        .sim
        .receive(PERSON, FROM, "What time do you open?")
        .await
        .expect("delivered");

    assert_eq!(inbound.http_status, 200);
    assert_eq!(inbound.debugger_error, None);
    let posted = receiver.wait_for("in", 1).await;
    let webhook = &posted[0];
    for (name, value) in [
        ("MessageSid", inbound.sid.as_str()),
        ("SmsMessageSid", inbound.sid.as_str()),
        ("SmsSid", inbound.sid.as_str()),
        ("AccountSid", h.account.sid.as_str()),
        ("From", PERSON),
        ("To", FROM),
        ("Body", "What time do you open?"),
        ("NumMedia", "0"),
        ("NumSegments", "1"),
        ("SmsStatus", "received"),
        ("ApiVersion", "2010-04-01"),
    ] {
        assert_eq!(webhook.param(name), Some(value), "{name}: {webhook:?}");
    }
    assert!(inbound.sid.starts_with("SM") && inbound.sid.len() == 34);
    let signed = webhook.signature.as_deref().expect("signed");
    assert!(signature::verify(
        &h.account.auth_token,
        &url,
        &webhook.params,
        signed
    ));

    let replies: Vec<(&str, &str, &str)> = inbound
        .replies
        .iter()
        .map(|r| (r.from.as_str(), r.to.as_str(), r.body.as_str()))
        .collect();
    assert_eq!(
        replies,
        [
            (FROM, PERSON, "Open 8 to 6 & Sundays"),
            (FROM, "+12125550199", "Ada asked about hours"),
        ]
    );
    assert!(
        inbound
            .replies
            .iter()
            .all(|r| r.source == ReplySource::Twiml
                && r.refused.is_none()
                && r.in_reply_to == inbound.sid)
    );
    assert_eq!(h.sim.replies(), inbound.replies);
    // Replies are not outbound API messages.
    assert!(h.sim.accepted().is_empty());
}

#[tokio::test]
async fn stop_blocks_the_number_until_start_and_twilio_confirms_each_keyword() {
    let (h, receiver, _) = setup("stop").await;
    receiver.answer_with(
        200,
        "<Response><Message>Sorry to see you go</Message></Response>",
    );

    let stop = h
        .sim
        .receive(PERSON, FROM, " stop ")
        .await
        .expect("delivered");
    assert_eq!(stop.replies.len(), 2, "{:?}", stop.replies);
    assert_eq!(stop.replies[0].source, ReplySource::OptOutHandling);
    assert!(stop.replies[0].body.contains("unsubscribed"));
    assert_eq!(stop.replies[0].refused, None);
    // The webhook's own reply to STOP is blocked: the person opted out of this number.
    assert_eq!(stop.replies[1].source, ReplySource::Twiml);
    assert_eq!(stop.replies[1].refused, Some(21610));
    // The webhook still heard about it.
    assert_eq!(
        receiver.wait_for("stop", 1).await[0].param("Body"),
        Some(" stop ")
    );

    let (status, refused) = h.send(PERSON, FROM, "Fresh bread!").await;
    assert_eq!(
        (status, refused["code"].as_i64()),
        (400, Some(21610)),
        "{refused}"
    );
    // Per number: another of the account's numbers may still text the person.
    let (status, sent) = h.send(PERSON, "+15005550002", "Fresh bread!").await;
    assert_eq!(status, 201, "{sent}");

    receiver.answer_with(200, "<Response/>");
    let help = h
        .sim
        .receive(PERSON, FROM, "help")
        .await
        .expect("delivered");
    assert_eq!(help.replies.len(), 1);
    assert!(help.replies[0].body.contains("Reply STOP to unsubscribe"));
    let (status, _) = h.send(PERSON, FROM, "Fresh bread!").await;
    assert_eq!(status, 400, "HELP does not lift a STOP");

    let start = h
        .sim
        .receive(PERSON, FROM, "Unstop")
        .await
        .expect("delivered");
    assert!(start.replies[0].body.contains("re-subscribed"));
    let (status, sent) = h.send(PERSON, FROM, "Fresh bread!").await;
    assert_eq!(status, 201, "{sent}");
}

#[tokio::test]
async fn with_opt_out_handling_off_a_stop_is_only_forwarded() {
    let (h, receiver, _) = setup("off").await;
    h.sim.set_opt_out_handling(false);
    let stop = h
        .sim
        .receive(PERSON, FROM, "STOP")
        .await
        .expect("delivered");
    assert!(stop.replies.is_empty(), "{:?}", stop.replies);
    assert_eq!(receiver.wait_for("off", 1).await.len(), 1);
    let (status, sent) = h.send(PERSON, FROM, "Fresh bread!").await;
    assert_eq!(status, 201, "{sent}");
}

#[tokio::test]
async fn a_failing_or_non_twiml_webhook_is_a_debugger_error_and_sends_nothing() {
    let (h, receiver, _) = setup("bad").await;
    receiver.answer_with(500, "<Response><Message>never sent</Message></Response>");
    let failed = h
        .sim
        .receive(PERSON, FROM, "hello")
        .await
        .expect("delivered");
    assert_eq!(
        (failed.http_status, failed.debugger_error),
        (500, Some(11200))
    );
    assert!(failed.replies.is_empty());

    receiver.answer_with(200, "OK");
    let not_twiml = h
        .sim
        .receive(PERSON, FROM, "hello")
        .await
        .expect("delivered");
    assert_eq!(not_twiml.debugger_error, Some(12100));
    assert_eq!(not_twiml.body, "OK");
    assert!(h.sim.replies().is_empty());

    let unknown = h.sim.receive(PERSON, "+15005550003", "hello").await;
    assert_eq!(unknown, Err(InboundError::NoWebhook("+15005550003".into())));
}

#[tokio::test]
async fn people_text_in_over_http_too() {
    let (h, receiver, _) = setup("http").await;
    receiver.answer_with(200, "<Response><Message>Hi!</Message></Response>");
    let post = |form: Vec<(&'static str, &'static str)>| {
        h.client
            .post(format!("{}/inbound", h.base))
            .form(&form)
            .send()
    };
    let (status, inbound) = common::read(
        post(vec![("From", PERSON), ("To", FROM), ("Body", "Hello")])
            .await
            .expect("answers"),
    )
    .await;
    assert_eq!(status, 200, "{inbound}");
    assert_eq!(inbound["http_status"], 200);
    assert_eq!(inbound["replies"][0]["body"], "Hi!");
    assert_eq!(inbound["replies"][0]["source"], "twiml");
    assert_eq!(inbound["replies"][0]["to"], PERSON);

    let (status, replies) = h.get("/replies").await;
    assert_eq!(status, 200);
    assert_eq!(replies.as_array().map(Vec::len), Some(1), "{replies}");

    let (status, refused) = common::read(
        post(vec![
            ("From", PERSON),
            ("To", "+15005550003"),
            ("Body", "Hi"),
        ])
        .await
        .expect("answers"),
    )
    .await;
    assert_eq!(
        (status, &refused["code"]),
        (404, &Value::from("no_webhook")),
        "{refused}"
    );
    let (status, refused) = common::read(
        post(vec![("From", PERSON), ("To", FROM)])
            .await
            .expect("answers"),
    )
    .await;
    assert_eq!(
        (status, &refused["code"]),
        (400, &Value::from("invalid_form")),
        "{refused}"
    );
}
