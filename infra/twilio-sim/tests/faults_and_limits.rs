//! What real Twilio does to a sender, on demand: server errors, 429s, answers that never come,
//! failure rules, latency and per-sender throughput.

mod common;

use std::time::{Duration, Instant};

use chrono::TimeDelta;
use common::{FROM, Harness, TO};
use twilio_sim::{FailureRule, Faults, RuleOutcome, SimConfig};

fn quiet() -> SimConfig {
    SimConfig {
        callback_delay: Duration::from_secs(60),
        ..SimConfig::default()
    }
}

#[tokio::test]
async fn server_errors_alternate_500_and_503_then_the_sender_recovers() {
    let h = Harness::start(quiet()).await;
    let (status, _) = h.send(TO, FROM, "before").await;
    assert_eq!(status, 201);
    h.sim.set_faults(Faults {
        server_errors: 3,
        ..Faults::default()
    });
    let mut statuses = Vec::new();
    for _ in 0..3 {
        let (status, error) = h.send(TO, FROM, "during").await;
        assert_eq!(error["code"], 20000 + u64::from(status), "{error}");
        assert_eq!(error["status"], status);
        statuses.push(status);
    }
    assert_eq!(statuses, [500, 503, 500]);
    let (status, _) = h.send(TO, FROM, "after").await;
    assert_eq!(status, 201);
    let bodies: Vec<String> = h.sim.accepted().into_iter().map(|m| m.body).collect();
    assert_eq!(
        bodies,
        ["before", "after"],
        "no server error accepted anything"
    );
}

#[tokio::test]
async fn too_many_requests_faults_answer_429_20429_without_accepting() {
    let h = Harness::start(SimConfig {
        faults: Faults {
            too_many_requests: 2,
            ..Faults::default()
        },
        ..quiet()
    })
    .await;
    for _ in 0..2 {
        let (status, error) = h.send(TO, FROM, "hi").await;
        assert_eq!(status, 429);
        assert_eq!(error["code"], 20429);
        assert_eq!(error["message"], "Too Many Requests");
        assert_eq!(error["status"], 429);
    }
    assert!(h.sim.accepted().is_empty());
    let (status, _) = h.send(TO, FROM, "hi").await;
    assert_eq!(status, 201);
    assert_eq!(h.sim.accepted().len(), 1);
}

#[tokio::test]
async fn accept_then_hang_records_the_message_the_client_never_hears_about() {
    let h = Harness::start(SimConfig::default()).await;
    h.sim.set_faults(Faults {
        accept_then_hang: 1,
        hang_for: Duration::from_secs(3),
        ..Faults::default()
    });
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .expect("a client");
    let started = Instant::now();
    let sent = impatient
        .post(h.messages_url(&h.account.sid))
        .basic_auth(&h.account.sid, Some(&h.account.auth_token))
        .form(&[("To", TO), ("From", FROM), ("Body", "did it go?")])
        .send()
        .await;
    let error = sent.expect_err("the client gives up");
    assert!(error.is_timeout(), "{error}");
    assert!(started.elapsed() < Duration::from_secs(2));

    let accepted = h.sim.accepted();
    assert_eq!(accepted.len(), 1, "the message exists all the same");
    assert_eq!(accepted[0].body, "did it go?");
    // The way out: look it up.
    let (status, page) = h.list(&[("To", TO), ("From", FROM)]).await;
    assert_eq!(status, 200);
    assert_eq!(page["messages"][0]["sid"], accepted[0].sid.as_str());
    // Its lifecycle went on without the client.
    h.wait_for_status(&accepted[0].sid, "delivered").await;

    let started = Instant::now();
    let (status, _) = h.send(TO, FROM, "next").await;
    assert_eq!(status, 201);
    assert!(started.elapsed() < Duration::from_secs(1), "one hang only");
}

#[tokio::test]
async fn reject_rules_answer_400_with_their_code() {
    let h = Harness::start(SimConfig {
        rules: vec![
            FailureRule {
                to_suffix: "0610".into(),
                outcome: RuleOutcome::Reject { code: 21610 },
            },
            FailureRule {
                to_suffix: "0614".into(),
                outcome: RuleOutcome::Reject { code: 21614 },
            },
            FailureRule {
                to_suffix: "0211".into(),
                outcome: RuleOutcome::Reject { code: 21211 },
            },
        ],
        ..quiet()
    })
    .await;
    for (to, code) in [
        ("+15005550610", 21610),
        ("+15005550614", 21614),
        ("+15005550211", 21211),
    ] {
        let (status, error) = h.send(to, FROM, "hi").await;
        assert_eq!(status, 400, "{error}");
        assert_eq!(error["code"], code);
        assert_eq!(
            error["more_info"],
            format!("https://www.twilio.com/docs/errors/{code}")
        );
    }
    assert!(h.sim.accepted().is_empty());
    let (status, _) = h.send("+15005550615", FROM, "hi").await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn latency_delays_every_create() {
    let h = Harness::start(quiet()).await;
    // A second: far above what a request takes on a busy machine.
    let latency = Duration::from_secs(1);
    h.sim.set_latency(latency);
    let started = Instant::now();
    let (status, _) = h.send(TO, FROM, "slow").await;
    assert_eq!(status, 201);
    assert!(started.elapsed() >= latency);
    h.sim.set_latency(Duration::ZERO);
    let started = Instant::now();
    h.send(TO, FROM, "fast").await;
    assert!(started.elapsed() < latency);
}

#[tokio::test]
async fn a_burst_above_the_senders_rate_gets_429s_and_any_second_stays_within_it() {
    let limited = "+15005550301";
    let free = "+15005550302";
    let h = Harness::start(quiet()).await;
    h.sim.set_rate_limit(limited, 3);

    let burst = (0..12).map(|n| {
        let h = &h;
        async move {
            let sender = if n % 2 == 0 { limited } else { free };
            (sender, h.send(TO, sender, "burst").await)
        }
    });
    let results = futures::future::join_all(burst).await;
    let count = |sender: &str, code: u16| {
        results
            .iter()
            .filter(|(s, (status, _))| *s == sender && *status == code)
            .count()
    };
    assert_eq!(count(limited, 201), 3, "{results:?}");
    assert_eq!(count(limited, 429), 3);
    assert_eq!(count(free, 201), 6, "an unlimited sender is not held back");
    for (_, (status, body)) in &results {
        if *status == 429 {
            assert_eq!(body["code"], 20429);
        }
    }

    // Keep pushing for a while: the accepted ones never exceed 3 in any second.
    let until = Instant::now() + Duration::from_millis(1500);
    while Instant::now() < until {
        h.send(TO, limited, "steady").await;
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    let times: Vec<_> = h
        .sim
        .accepted()
        .into_iter()
        .filter(|m| m.from.as_deref() == Some(limited))
        .map(|m| m.accepted_at)
        .collect();
    assert!(times.len() >= 6, "it kept sending: {}", times.len());
    // A millisecond of slack for the wall clock against the limiter's monotonic one.
    let window = TimeDelta::milliseconds(999);
    for (i, start) in times.iter().enumerate() {
        let within = times[i..].iter().filter(|t| **t - *start < window).count();
        assert!(
            within <= 3,
            "{within} accepted within a second from {start}"
        );
    }
}

#[tokio::test]
async fn rate_limits_count_segments_and_apply_to_messaging_services() {
    let h = Harness::start(quiet()).await;
    let sender = "+15005550303";
    let service = "MG00000000000000000000000000000001";
    h.sim.set_rate_limit(sender, 3);
    h.sim.set_rate_limit(service, 1);
    let two_segments = "a".repeat(200);
    let (status, _) = h.send(TO, sender, &two_segments).await;
    assert_eq!(status, 201);
    let (status, error) = h.send(TO, sender, &two_segments).await;
    assert_eq!((status, &error["code"]), (429, &20429.into()), "2 + 2 > 3");
    let (status, _) = h.send(TO, sender, "one more fits").await;
    assert_eq!(status, 201);

    let by_service = [("To", TO), ("MessagingServiceSid", service), ("Body", "hi")];
    assert_eq!(h.create(&by_service).await.0, 201);
    assert_eq!(h.create(&by_service).await.0, 429);
    h.sim.set_rate_limit(service, 0);
    assert_eq!(h.create(&by_service).await.0, 201, "0 lifts the limit");
}
