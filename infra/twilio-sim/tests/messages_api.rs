//! The Messages API over real HTTP: create, authentication, validation, fetch, list and paging,
//! and the inspection endpoint.

mod common;

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use common::{FROM, Harness, TO};
use serde_json::{Value, json};
use twilio_sim::{Account, SimConfig, Simulator};

/// Callbacks far away, so statuses stay where the create left them.
fn quiet() -> SimConfig {
    SimConfig {
        callback_delay: Duration::from_secs(60),
        ..SimConfig::default()
    }
}

fn is_sid(value: &Value, prefix: &str) -> bool {
    value.as_str().is_some_and(|sid| {
        sid.len() == 34
            && sid.starts_with(prefix)
            && sid[2..]
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    })
}

#[tokio::test]
async fn create_answers_201_with_twilios_message_resource() {
    let h = Harness::start(quiet()).await;
    let (status, message) = h
        .create(&[
            ("To", TO),
            ("From", FROM),
            ("Body", "Hello there"),
            ("ValidityPeriod", "600"),
        ])
        .await;
    assert_eq!(status, 201, "{message}");
    assert!(is_sid(&message["sid"], "SM"), "{message}");
    let sid = message["sid"].as_str().unwrap_or_default();
    let expected = json!({
        "account_sid": h.account.sid,
        "api_version": "2010-04-01",
        "body": "Hello there",
        "date_sent": null,
        "direction": "outbound-api",
        "error_code": null,
        "error_message": null,
        "from": FROM,
        "messaging_service_sid": null,
        "num_media": "0",
        "num_segments": "1",
        "price": null,
        "price_unit": "USD",
        "status": "queued",
        "to": TO,
        "uri": format!("/2010-04-01/Accounts/{}/Messages/{sid}.json", h.account.sid),
    });
    for (field, value) in expected.as_object().into_iter().flatten() {
        assert_eq!(&message[field], value, "{field} in {message}");
    }
    for field in ["date_created", "date_updated"] {
        let text = message[field].as_str().unwrap_or_default();
        let parsed = DateTime::parse_from_rfc2822(text);
        assert!(
            parsed.is_ok() && text.ends_with(" +0000"),
            "{field}: {text}"
        );
        let age = Utc::now().signed_duration_since(parsed.unwrap_or_default());
        assert!(age < TimeDelta::seconds(5), "{field} is now: {text}");
    }
    let accepted = h.sim.accepted();
    assert_eq!(accepted.len(), 1);
    assert_eq!(accepted[0].sid, sid);
    assert_eq!(accepted[0].from.as_deref(), Some(FROM));
    assert_eq!(accepted[0].validity_period, Some(600));
    assert_eq!(accepted[0].num_segments, 1);
}

#[tokio::test]
async fn segments_are_counted_like_twilio_gsm7_and_ucs2() {
    let h = Harness::start(quiet()).await;
    let gsm_160 = "a".repeat(160);
    let gsm_161 = "a".repeat(161);
    let ucs2_70 = "ж".repeat(70);
    let ucs2_71 = "ж".repeat(71);
    // An emoji is two UTF-16 units, never split across segments: 36 of them are 72 units, so two.
    let emoji_36 = "😀".repeat(36);
    let cases = [
        (gsm_160.as_str(), "1"),
        (gsm_161.as_str(), "2"),
        (ucs2_70.as_str(), "1"),
        (ucs2_71.as_str(), "2"),
        (emoji_36.as_str(), "2"),
        ("Price: 5€ {today}", "1"),
    ];
    for (body, segments) in cases {
        let (status, message) = h.send(TO, FROM, body).await;
        assert_eq!(status, 201, "{message}");
        assert_eq!(message["num_segments"], segments, "{body}");
        assert_eq!(message["body"], body);
    }
    let counted: Vec<u32> = h.sim.accepted().iter().map(|m| m.num_segments).collect();
    assert_eq!(counted, [1, 2, 1, 2, 2, 1]);
}

#[tokio::test]
async fn a_messaging_service_picks_the_number_and_starts_accepted() {
    let h = Harness::start(quiet()).await;
    let service = "MG0123456789abcdef0123456789abcdef";
    let (status, message) = h
        .create(&[("To", TO), ("MessagingServiceSid", service), ("Body", "hi")])
        .await;
    assert_eq!(status, 201, "{message}");
    assert_eq!(message["status"], "accepted");
    assert_eq!(message["messaging_service_sid"], service);
    assert_eq!(message["from"], twilio_sim::MESSAGING_SERVICE_NUMBER);
    let accepted = h.sim.accepted();
    assert_eq!(accepted[0].messaging_service_sid.as_deref(), Some(service));
    assert_eq!(accepted[0].from, None);
}

#[tokio::test]
async fn bad_credentials_are_401_20003_and_api_keys_work() {
    let h = Harness::start(quiet()).await;
    let other = Account::random();
    h.sim.add_account(other.clone());
    let a = &h.account;
    let (key, secret) = a.api_keys[0].clone();
    let params = [("To", TO), ("From", FROM), ("Body", "hi")];
    let unauthenticated = json!({
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    });
    for (user, password, path) in [
        (a.sid.as_str(), "wrong", a.sid.as_str()),
        (a.sid.as_str(), secret.as_str(), a.sid.as_str()),
        (key.as_str(), a.auth_token.as_str(), a.sid.as_str()),
        // Right credentials, another (existing) account in the path.
        (a.sid.as_str(), a.auth_token.as_str(), other.sid.as_str()),
        (key.as_str(), secret.as_str(), other.sid.as_str()),
        (
            other.sid.as_str(),
            other.auth_token.as_str(),
            a.sid.as_str(),
        ),
    ] {
        let (status, body) = h.create_as(user, password, path, &params).await;
        assert_eq!(status, 401, "{user}:{password} on {path}");
        assert_eq!(body, unauthenticated);
    }
    let response = h
        .client
        .post(h.messages_url(&a.sid))
        .form(&params)
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status().as_u16(), 401, "no credentials at all");
    assert!(h.sim.accepted().is_empty());

    let (status, message) = h.create_as(&key, &secret, &a.sid, &params).await;
    assert_eq!(status, 201, "{message}");
    assert_eq!(message["account_sid"], a.sid.as_str());
    let (status, _) = h
        .create_as(&other.sid, &other.auth_token, &other.sid, &params)
        .await;
    assert_eq!(status, 201, "the other account sends for itself");
    assert_eq!(h.sim.accepted().len(), 2);
}

#[tokio::test]
async fn each_validation_error_has_its_twilio_code() {
    let h = Harness::start(quiet()).await;
    let long = "a".repeat(1601);
    let cases: [(&[(&str, &str)], u32); 9] = [
        (&[("From", FROM), ("Body", "hi")], 21604),
        (
            &[("To", "5005550009"), ("From", FROM), ("Body", "hi")],
            21211,
        ),
        (&[("To", "+1500555"), ("From", FROM), ("Body", "hi")], 21211),
        (&[("To", TO), ("Body", "hi")], 21603),
        (&[("To", TO), ("From", FROM)], 21602),
        (&[("To", TO), ("From", FROM), ("Body", "")], 21602),
        (&[("To", TO), ("From", FROM), ("Body", &long)], 21617),
        (
            &[
                ("To", TO),
                ("From", FROM),
                ("Body", "hi"),
                ("ValidityPeriod", "36001"),
            ],
            21624,
        ),
        (
            &[
                ("To", TO),
                ("From", FROM),
                ("Body", "hi"),
                ("StatusCallback", "nope"),
            ],
            21609,
        ),
    ];
    for (params, code) in cases {
        let (status, error) = h.create(params).await;
        assert_eq!(status, 400, "{params:?}: {error}");
        assert_eq!(error["code"], code, "{params:?}: {error}");
        assert_eq!(error["status"], 400);
        assert_eq!(
            error["more_info"],
            format!("https://www.twilio.com/docs/errors/{code}")
        );
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    let (_, error) = h.send("+1500555", FROM, "hi").await;
    assert_eq!(
        error["message"],
        "The 'To' number +1500555 is not a valid phone number."
    );
    assert!(h.sim.accepted().is_empty(), "nothing invalid is accepted");
}

#[tokio::test]
async fn fetch_finds_the_accounts_messages_and_404s_the_rest() {
    let h = Harness::start(quiet()).await;
    let (_, created) = h.send(TO, FROM, "fetch me").await;
    let sid = created["sid"].as_str().unwrap_or_default();
    let (status, fetched) = h.fetch(sid).await;
    assert_eq!(status, 200, "{fetched}");
    assert_eq!(fetched, created);

    let unknown = "SM00000000000000000000000000000000";
    let (status, error) = h.fetch(unknown).await;
    assert_eq!(status, 404);
    assert_eq!(error["code"], 20404);
    assert_eq!(error["status"], 404);
    assert_eq!(
        error["more_info"],
        "https://www.twilio.com/docs/errors/20404"
    );
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|m| m.contains(unknown) && m.contains("was not found")),
        "{error}"
    );

    // Another account cannot see it.
    let other = Account::random();
    h.sim.add_account(other.clone());
    let response = h
        .client
        .get(format!(
            "{}/2010-04-01/Accounts/{}/Messages/{sid}.json",
            h.base, other.sid
        ))
        .basic_auth(&other.sid, Some(&other.auth_token))
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status().as_u16(), 404);
}

fn sids(page: &Value) -> Vec<String> {
    page["messages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["sid"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn list_filters_by_to_from_and_date_sent_newest_first() {
    let h = Harness::start(quiet()).await;
    let (to_x, to_y, from_1, from_2) = ("+15005550101", "+15005550102", FROM, "+15005550002");
    let mut to_x_from_1 = Vec::new();
    let mut to_x_all = Vec::new();
    for (to, from) in [
        (to_x, from_1),
        (to_y, from_1),
        (to_x, from_2),
        (to_x, from_1),
        (to_y, from_2),
        (to_x, from_1),
    ] {
        let (status, message) = h.send(to, from, "hi").await;
        assert_eq!(status, 201);
        let sid = message["sid"].as_str().unwrap_or_default().to_owned();
        if to == to_x {
            to_x_all.push(sid.clone());
            if from == from_1 {
                to_x_from_1.push(sid);
            }
        }
    }
    to_x_all.reverse();
    to_x_from_1.reverse();

    let (status, page) = h.list(&[("To", to_x)]).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(sids(&page), to_x_all, "newest first");
    assert_eq!(page["page"], 0);
    assert_eq!(page["page_size"], 50);
    assert_eq!(page["start"], 0);
    assert_eq!(page["end"], 3);
    assert_eq!(page["next_page_uri"], Value::Null);
    assert_eq!(page["previous_page_uri"], Value::Null);
    assert!(page["messages"][0]["num_segments"].is_string());

    let (_, page) = h.list(&[("To", to_x), ("From", from_1)]).await;
    assert_eq!(sids(&page), to_x_from_1);

    let today = Utc::now().date_naive();
    let day = |offset: i64| {
        (today + TimeDelta::days(offset))
            .format("%Y-%m-%d")
            .to_string()
    };
    let (yesterday, today_s, tomorrow) = (day(-1), day(0), day(1));
    for (name, date, expected) in [
        ("DateSent>", &today_s, 4),
        ("DateSent>", &yesterday, 4),
        ("DateSent>", &tomorrow, 0),
        ("DateSent>=", &today_s, 4),
        ("DateSent", &today_s, 4),
        ("DateSent", &yesterday, 0),
        ("DateSent<", &today_s, 4),
        ("DateSent<=", &yesterday, 0),
    ] {
        let (status, page) = h.list(&[("To", to_x), (name, date)]).await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(sids(&page).len(), expected, "{name}={date}");
    }
    // The helper libraries send full times; to the second.
    let an_hour_ago = (Utc::now() - TimeDelta::hours(1)).format("%Y-%m-%dT%H:%M:%SZ");
    let (_, page) = h
        .list(&[("To", to_x), ("DateSent>", &an_hour_ago.to_string())])
        .await;
    assert_eq!(sids(&page).len(), 4);

    let (status, error) = h.list(&[("DateSent>", "last week")]).await;
    assert_eq!(status, 400, "{error}");
}

#[tokio::test]
async fn paging_follows_next_page_uri_even_while_messages_arrive() {
    let h = Harness::start(quiet()).await;
    let to = "+15005550103";
    let mut created = Vec::new();
    for n in 0..5 {
        let (_, message) = h.send(to, FROM, &format!("message {n}")).await;
        created.push(message["sid"].as_str().unwrap_or_default().to_owned());
    }
    h.send("+15005550104", FROM, "someone else").await;
    let mut newest_first = created.clone();
    newest_first.reverse();

    let (status, first) = h
        .list(&[("To", to), ("DateSent>", "2020-01-01"), ("PageSize", "2")])
        .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(sids(&first), newest_first[..2]);
    assert_eq!(first["page_size"], 2);
    assert_eq!(first["end"], 1);
    // A message arriving between two pages does not shift the next ones.
    h.send(to, FROM, "late").await;

    let mut seen = sids(&first);
    let mut page = first.clone();
    let mut pages = 1;
    while let Some(next) = page["next_page_uri"].as_str() {
        assert!(next.starts_with("/2010-04-01/Accounts/"), "{next}");
        assert!(next.contains("DateSent%3E=2020-01-01"), "{next}");
        let (status, body) = h.get(next).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["page"], pages);
        seen.extend(sids(&body));
        page = body;
        pages += 1;
        assert!(pages < 10, "paging ends");
    }
    assert_eq!(seen, newest_first);
    assert_eq!(pages, 3);

    let previous = page["previous_page_uri"].as_str().unwrap_or_default();
    let (status, back) = h.get(previous).await;
    assert_eq!(status, 200, "{back}");
    assert_eq!(sids(&back), newest_first[2..4]);

    let first_uri = page["first_page_uri"].as_str().unwrap_or_default();
    let (_, again) = h.get(first_uri).await;
    assert_eq!(sids(&again).len(), 2);
    assert_eq!(
        sids(&again)[1],
        newest_first[0],
        "now with the late one first"
    );

    let (status, page_two) = h
        .list(&[("To", to), ("PageSize", "2"), ("Page", "2")])
        .await;
    assert_eq!(status, 200);
    assert_eq!(page_two["start"], 4);
    assert_eq!(sids(&page_two), newest_first[3..]);
}

#[tokio::test]
async fn the_inspection_endpoint_lists_accepted_messages_in_arrival_order() {
    let h = Harness::start(quiet()).await;
    h.send("+15005550201", FROM, "first").await;
    h.send("+15005550202", FROM, &"ж".repeat(71)).await;
    h.send("nope", FROM, "rejected").await;
    let response = h
        .client
        .get(format!("{}/messages", h.base))
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status().as_u16(), 200);
    let (_, list) = common::read(response).await;
    let list = list.as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 2, "{list:?}");
    let accepted = h.sim.accepted();
    for (item, message) in list.iter().zip(&accepted) {
        assert_eq!(item["sid"], message.sid.as_str());
        assert_eq!(item["to"], message.to.as_str());
        assert_eq!(item["from"], FROM);
        assert_eq!(item["body"], message.body.as_str());
        assert_eq!(item["num_segments"], message.num_segments);
        assert!(item["num_segments"].is_u64());
        let at = item["accepted_at"].as_str().unwrap_or_default();
        // e.g. 2026-11-22T06:10:52.123Z
        assert_eq!(at.len(), 24, "{at}");
        assert!(at.ends_with('Z') && at.as_bytes()[19] == b'.', "{at}");
        let parsed = DateTime::parse_from_rfc3339(at).map(|t| t.with_timezone(&Utc));
        assert_eq!(
            parsed.ok().map(|t| t.timestamp_millis()),
            Some(message.accepted_at.timestamp_millis())
        );
    }
    assert_eq!(list[0]["body"], "first");
    assert_eq!(list[1]["num_segments"], 2);

    let response = h
        .client
        .delete(format!("{}/messages", h.base))
        .send()
        .await
        .expect("an answer");
    assert_eq!(response.status().as_u16(), 204);
    assert!(h.sim.accepted().is_empty());
    let (_, list) = h.get("/messages").await;
    assert_eq!(list, json!([]));
}

#[tokio::test]
async fn it_works_nested_under_a_prefix_like_the_local_host_mounts_it() {
    let account = Account::random();
    let sim = Simulator::new(SimConfig {
        accounts: vec![account.clone()],
        ..quiet()
    });
    let app = axum::Router::new().nest("/twilio-sim", sim.router());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let base = format!(
        "http://{}/twilio-sim",
        listener.local_addr().expect("an address")
    );
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serves") });
    let client = reqwest::Client::new();
    let messages = format!("{base}/2010-04-01/Accounts/{}/Messages.json", account.sid);
    for n in 0..3 {
        let response = client
            .post(&messages)
            .basic_auth(&account.sid, Some(&account.auth_token))
            .form(&[("To", TO), ("From", FROM), ("Body", &format!("n{n}"))])
            .send()
            .await
            .expect("an answer");
        assert_eq!(response.status().as_u16(), 201);
    }
    let get = |url: String| {
        client
            .get(url)
            .basic_auth(&account.sid, Some(&account.auth_token))
            .send()
    };
    let (_, page) = common::read(get(format!("{messages}?PageSize=2")).await.expect("page")).await;
    let next = page["next_page_uri"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (status, page) = common::read(get(format!("{base}{next}")).await.expect("page")).await;
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["messages"][0]["body"], "n0");
    let (status, error) = common::read(
        get(format!("{base}/2010-04-01/Nothing"))
            .await
            .expect("404"),
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(error["code"], 20404);
    let (status, list) = common::read(get(format!("{base}/messages")).await.expect("list")).await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().map(Vec::len), Some(3));
}
