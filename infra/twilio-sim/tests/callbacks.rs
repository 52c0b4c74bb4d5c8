//! Status callbacks, as a small server in the test receives them: sequence, parameters,
//! X-Twilio-Signature over the exact URL, the callback modes, and failure rules.

mod common;

use std::time::Duration;

use common::{Callback, FROM, Harness, Receiver, TO};
use smscrm_twilio::signature;
use twilio_sim::{CallbackMode, FailureRule, FinalStatus, RuleOutcome, SimConfig};

fn config(mode: CallbackMode) -> SimConfig {
    SimConfig {
        callback_delay: Duration::from_millis(20),
        callbacks: mode,
        ..SimConfig::default()
    }
}

async fn send_with_callback(h: &Harness, to: &str, url: &str) -> String {
    let (status, message) = h
        .create(&[
            ("To", to),
            ("From", FROM),
            ("Body", "hi"),
            ("StatusCallback", url),
        ])
        .await;
    assert_eq!(status, 201, "{message}");
    message["sid"].as_str().unwrap_or_default().to_owned()
}

fn statuses(callbacks: &[Callback]) -> Vec<&str> {
    callbacks.iter().map(Callback::status).collect()
}

#[tokio::test]
async fn callbacks_come_in_order_with_twilios_params_and_a_valid_signature() {
    let receiver = Receiver::start().await;
    let h = Harness::start(config(CallbackMode::InOrder)).await;
    let url = receiver.url("in-order");
    // Sent with an API key: Twilio still signs with the account's auth token.
    let (key, secret) = h.account.api_keys[0].clone();
    let (status, message) = h
        .create_as(
            &key,
            &secret,
            &h.account.sid,
            &[
                ("To", TO),
                ("From", FROM),
                ("Body", "hi"),
                ("StatusCallback", &url),
            ],
        )
        .await;
    assert_eq!(status, 201, "{message}");
    let sid = message["sid"].as_str().unwrap_or_default();

    let callbacks = receiver.wait_for("in-order", 3).await;
    assert_eq!(statuses(&callbacks), ["queued", "sent", "delivered"]);
    for callback in &callbacks {
        let signed = callback.signature.as_deref().unwrap_or_default();
        let token = &h.account.auth_token;
        assert!(
            signature::verify(token, &url, &callback.params, signed),
            "{callback:?}"
        );
        assert!(!signature::verify(&secret, &url, &callback.params, signed));
        let other_url = url.replace("tenant=t%201", "tenant=t2");
        assert!(!signature::verify(
            token,
            &other_url,
            &callback.params,
            signed
        ));

        let status = callback.status();
        for (name, value) in [
            ("MessageSid", sid),
            ("SmsSid", sid),
            ("AccountSid", h.account.sid.as_str()),
            ("From", FROM),
            ("To", TO),
            ("SmsStatus", status),
            ("ApiVersion", "2010-04-01"),
            ("NumSegments", "1"),
        ] {
            assert_eq!(callback.param(name), Some(value), "{name} in {callback:?}");
        }
        assert_eq!(callback.param("ErrorCode"), None);
        assert_eq!(callback.param("MessagingServiceSid"), None);
    }
    let fetched = h.wait_for_status(sid, "delivered").await;
    assert!(fetched["date_sent"].is_string(), "{fetched}");
    assert_eq!(fetched["error_code"], serde_json::Value::Null);
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(receiver.of("in-order").len(), 3, "no more than three");
}

#[tokio::test]
async fn out_of_order_sends_every_status_once_in_another_order() {
    let receiver = Receiver::start().await;
    let h = Harness::start(config(CallbackMode::OutOfOrder)).await;
    let sid = send_with_callback(&h, TO, &receiver.url("shuffled")).await;
    let callbacks = receiver.wait_for("shuffled", 3).await;
    let order = statuses(&callbacks);
    assert_ne!(order, ["queued", "sent", "delivered"]);
    let mut sorted = order.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, ["delivered", "queued", "sent"]);
    // The message itself still moved forward only.
    h.wait_for_status(&sid, "delivered").await;
}

#[tokio::test]
async fn twice_sends_every_callback_two_times() {
    let receiver = Receiver::start().await;
    let h = Harness::start(config(CallbackMode::Twice)).await;
    send_with_callback(&h, TO, &receiver.url("twice")).await;
    let callbacks = receiver.wait_for("twice", 6).await;
    assert_eq!(
        statuses(&callbacks),
        ["queued", "queued", "sent", "sent", "delivered", "delivered"]
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(receiver.of("twice").len(), 6);
}

#[tokio::test]
async fn without_callbacks_the_status_still_advances() {
    let receiver = Receiver::start().await;
    let h = Harness::start(config(CallbackMode::None)).await;
    let sid = send_with_callback(&h, TO, &receiver.url("none")).await;
    h.wait_for_status(&sid, "delivered").await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(receiver.of("none").is_empty());
}

#[tokio::test]
async fn fail_rules_end_in_their_status_with_the_error_code() {
    let receiver = Receiver::start().await;
    let h = Harness::start(SimConfig {
        rules: vec![
            FailureRule {
                to_suffix: "0003".into(),
                outcome: RuleOutcome::Fail {
                    status: FinalStatus::Undelivered,
                    code: 30003,
                },
            },
            FailureRule {
                to_suffix: "0007".into(),
                outcome: RuleOutcome::Fail {
                    status: FinalStatus::Failed,
                    code: 30007,
                },
            },
        ],
        ..config(CallbackMode::InOrder)
    })
    .await;
    let sid = send_with_callback(&h, "+15005550003", &receiver.url("undelivered")).await;
    let callbacks = receiver.wait_for("undelivered", 3).await;
    assert_eq!(statuses(&callbacks), ["queued", "sent", "undelivered"]);
    assert_eq!(callbacks[2].param("ErrorCode"), Some("30003"));
    assert_eq!(callbacks[1].param("ErrorCode"), None);
    let fetched = h.wait_for_status(&sid, "undelivered").await;
    assert_eq!(fetched["error_code"], 30003);

    // Through a Messaging Service: its SID and the number it picked are in every callback.
    let service = "MG00000000000000000000000000000007";
    let url = receiver.url("failed");
    let (status, message) = h
        .create(&[
            ("To", "+15005550007"),
            ("MessagingServiceSid", service),
            ("Body", "hi"),
            ("StatusCallback", &url),
        ])
        .await;
    assert_eq!(status, 201, "{message}");
    let callbacks = receiver.wait_for("failed", 3).await;
    assert_eq!(statuses(&callbacks), ["queued", "sent", "failed"]);
    assert_eq!(callbacks[2].param("ErrorCode"), Some("30007"));
    for callback in &callbacks {
        assert_eq!(callback.param("MessagingServiceSid"), Some(service));
        assert_eq!(
            callback.param("From"),
            Some(twilio_sim::MESSAGING_SERVICE_NUMBER)
        );
        let signed = callback.signature.as_deref().unwrap_or_default();
        assert!(signature::verify(
            &h.account.auth_token,
            &url,
            &callback.params,
            signed
        ));
    }
}

#[tokio::test]
async fn an_unreachable_callback_url_does_not_stop_the_message() {
    let h = Harness::start(config(CallbackMode::InOrder)).await;
    // A port nothing listens on any more.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
        listener.local_addr().expect("an address")
    };
    let sid = send_with_callback(&h, TO, &format!("http://{closed}/status")).await;
    h.wait_for_status(&sid, "delivered").await;
}
