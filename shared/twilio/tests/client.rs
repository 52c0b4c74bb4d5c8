//! The Twilio client over real HTTP, against small servers that answer as Twilio does and record
//! what they received.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Form, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{TimeZone as _, Utc};
use secrecy::SecretString;
use serde_json::{Value, json};
use smscrm_domain::ports::sms::{
    MessageFilter, MessageFrom, NewMessage, ProviderCredentials, SmsError, SmsProvider,
};
use smscrm_twilio::TwilioClient;
use smscrm_twilio::client::MAX_PAGES;

const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "auth-token-not-for-logs";
/// The client's timeout in these tests: short, so a hanging server fails fast, yet far above
/// what a local answer takes on a busy machine.
const TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
struct Received {
    method: Method,
    path: String,
    query: Vec<(String, String)>,
    authorization: Option<String>,
    form: Vec<(String, String)>,
}

impl Received {
    fn form_value(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
    fn query_value(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the server does with the n-th request (0-based): answer, or hold the connection open.
enum Reply {
    Now(Response),
    Never,
}

type Responder = Arc<dyn Fn(usize, &Received) -> Reply + Send + Sync>;

#[derive(Clone)]
struct Server {
    received: Arc<Mutex<Vec<Received>>>,
    responder: Responder,
}

impl Server {
    fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }
}

async fn record(
    State(server): State<Server>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
    // For a GET, axum reads the form from the query string; only POST forms matter here.
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let received = Received {
        form: if method == Method::POST {
            form
        } else {
            Vec::new()
        },
        method,
        path: uri.path().to_owned(),
        query,
        authorization: headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    };
    let n = {
        let mut all = server.received.lock().expect("lock");
        all.push(received.clone());
        all.len() - 1
    };
    match (server.responder)(n, &received) {
        Reply::Now(response) => response,
        Reply::Never => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
    }
}

/// Starts a server on a free port; returns a client pointed at it (under a path prefix, as the
/// simulator is) and the server's record.
async fn spawn(
    responder: impl Fn(usize, &Received) -> Reply + Send + Sync + 'static,
) -> (TwilioClient, Server) {
    let server = Server {
        received: Arc::default(),
        responder: Arc::new(responder),
    };
    let app = Router::new().fallback(record).with_state(server.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    let client = TwilioClient::new(&format!("http://{addr}/twilio-sim"), TIMEOUT).expect("client");
    (client, server)
}

fn json_reply(status: u16, body: Value) -> Reply {
    Reply::Now(
        (
            StatusCode::from_u16(status).expect("status"),
            [(header::CONTENT_TYPE, "application/json")],
            body.to_string(),
        )
            .into_response(),
    )
}

fn error_body(code: u32, status: u16, message: &str) -> Value {
    json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status,
    })
}

/// A message as Twilio's API returns it: counts as strings, dates in RFC 2822.
fn twilio_message(sid: &str, to: &str, from: Option<&str>, date_created: &str) -> Value {
    json!({
        "account_sid": ACCOUNT,
        "api_version": "2010-04-01",
        "body": "Sale starts now",
        "date_created": date_created,
        "date_sent": null,
        "date_updated": date_created,
        "direction": "outbound-api",
        "error_code": null,
        "error_message": null,
        "from": from,
        "messaging_service_sid": null,
        "num_media": "0",
        "num_segments": "2",
        "price": null,
        "price_unit": "USD",
        "sid": sid,
        "status": "queued",
        "to": to,
        "uri": format!("/2010-04-01/Accounts/{ACCOUNT}/Messages/{sid}.json"),
    })
}

fn credentials() -> ProviderCredentials {
    ProviderCredentials {
        account_sid: ACCOUNT.into(),
        username: ACCOUNT.into(),
        password: SecretString::from(TOKEN),
    }
}

fn message() -> NewMessage {
    NewMessage {
        to: "+15558675310".into(),
        from: MessageFrom::Number("+15005550006".into()),
        // Characters that form encoding must carry intact.
        body: "Hi & bye = 50% off +more ☃".into(),
        status_callback: Some("https://hooks.example.com/twilio/status?tenant=tn_1".into()),
        validity_period: Some(3600),
    }
}

fn messages_path() -> String {
    format!("/twilio-sim/2010-04-01/Accounts/{ACCOUNT}/Messages.json")
}

#[tokio::test]
async fn send_posts_the_form_with_basic_auth_and_parses_the_201() {
    let (client, server) = spawn(|_, _| {
        json_reply(
            201,
            twilio_message(
                "SM00000000000000000000000000000001",
                "+15558675310",
                Some("+15005550006"),
                "Thu, 24 Aug 2023 05:01:45 +0000",
            ),
        )
    })
    .await;

    let sent = client
        .send(&credentials(), &message())
        .await
        .expect("created");

    assert_eq!(sent.sid, "SM00000000000000000000000000000001");
    assert_eq!(sent.num_segments, 2);
    assert_eq!(sent.status, "queued");
    assert_eq!(sent.from.as_deref(), Some("+15005550006"));
    assert_eq!(sent.error_code, None);
    assert_eq!(
        sent.date_created,
        Some(Utc.with_ymd_and_hms(2023, 8, 24, 5, 1, 45).unwrap())
    );

    let received = server.received();
    assert_eq!(received.len(), 1);
    let request = &received[0];
    assert_eq!(request.method, Method::POST);
    assert_eq!(request.path, messages_path());
    let expected_auth = format!("Basic {}", STANDARD.encode(format!("{ACCOUNT}:{TOKEN}")));
    assert_eq!(
        request.authorization.as_deref(),
        Some(expected_auth.as_str())
    );
    let form: Vec<(&str, &str)> = request
        .form
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        form,
        [
            ("To", "+15558675310"),
            ("From", "+15005550006"),
            ("Body", "Hi & bye = 50% off +more ☃"),
            (
                "StatusCallback",
                "https://hooks.example.com/twilio/status?tenant=tn_1"
            ),
            ("ValidityPeriod", "3600"),
        ]
    );
}

#[tokio::test]
async fn send_through_a_messaging_service_with_an_api_key() {
    let (client, server) = spawn(|_, _| {
        json_reply(
            201,
            twilio_message(
                "SM2",
                "+15558675310",
                None,
                "Thu, 24 Aug 2023 05:01:45 +0000",
            ),
        )
    })
    .await;
    let mut message = message();
    message.from = MessageFrom::MessagingService("MG0123456789abcdef0123456789abcdef".into());
    message.status_callback = None;
    message.validity_period = None;
    let credentials = ProviderCredentials {
        account_sid: ACCOUNT.into(),
        username: "SK0123".into(),
        password: SecretString::from("key-secret"),
    };

    let sent = client.send(&credentials, &message).await.expect("created");
    assert_eq!(
        sent.from, None,
        "a Messaging Service picks the number later"
    );

    let request = &server.received()[0];
    assert_eq!(
        request.form_value("MessagingServiceSid"),
        Some("MG0123456789abcdef0123456789abcdef")
    );
    assert_eq!(request.form_value("From"), None);
    assert_eq!(request.form_value("StatusCallback"), None);
    assert_eq!(request.form_value("ValidityPeriod"), None);
    // The account stays in the path; the key authenticates.
    assert_eq!(request.path, messages_path());
    let expected_auth = format!("Basic {}", STANDARD.encode("SK0123:key-secret"));
    assert_eq!(
        request.authorization.as_deref(),
        Some(expected_auth.as_str())
    );
}

#[tokio::test]
async fn an_invalid_to_is_permanent() {
    let (client, _server) = spawn(|_, _| {
        json_reply(
            400,
            error_body(
                21211,
                400,
                "The 'To' number +1555 is not a valid phone number.",
            ),
        )
    })
    .await;
    let err = client
        .send(&credentials(), &message())
        .await
        .expect_err("refused");
    assert_eq!(
        err,
        SmsError::Permanent {
            code: 21211,
            message: "The 'To' number +1555 is not a valid phone number.".into()
        }
    );
}

#[tokio::test]
async fn bad_credentials_stop_the_account() {
    let (client, _server) =
        spawn(|_, _| json_reply(401, error_body(20003, 401, "Authenticate"))).await;
    let err = client
        .send(&credentials(), &message())
        .await
        .expect_err("refused");
    assert_eq!(
        err,
        SmsError::Account {
            code: 20003,
            message: "Authenticate".into()
        }
    );
    assert!(!err.to_string().contains(TOKEN));
}

#[tokio::test]
async fn too_many_requests_is_retryable_after_twilios_delay() {
    let (client, _server) = spawn(|_, _| {
        Reply::Now(
            (
                StatusCode::TOO_MANY_REQUESTS,
                [
                    (header::CONTENT_TYPE, "application/json"),
                    (header::RETRY_AFTER, "7"),
                ],
                error_body(20429, 429, "Too Many Requests").to_string(),
            )
                .into_response(),
        )
    })
    .await;
    let err = client
        .send(&credentials(), &message())
        .await
        .expect_err("limited");
    assert!(
        matches!(
            err,
            SmsError::Retryable {
                retry_after: Some(d),
                ..
            } if d == Duration::from_secs(7)
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn server_errors_keep_their_status() {
    for status in [500, 503] {
        let (client, _server) = spawn(move |_, _| {
            Reply::Now(
                StatusCode::from_u16(status)
                    .expect("status")
                    .into_response(),
            )
        })
        .await;
        let err = client
            .send(&credentials(), &message())
            .await
            .expect_err("server error");
        assert!(
            matches!(err, SmsError::ServerError { status: s, .. } if s == status),
            "{status}: {err:?}"
        );
    }
}

#[tokio::test]
async fn no_answer_in_time_is_an_unknown_outcome() {
    let (client, server) = spawn(|_, _| Reply::Never).await;
    let started = Instant::now();
    let err = client
        .send(&credentials(), &message())
        .await
        .expect_err("timed out");
    assert!(matches!(err, SmsError::UnknownOutcome { .. }), "{err:?}");
    assert!(started.elapsed() < TIMEOUT * 5, "{:?}", started.elapsed());
    // The request did reach the server: that is why the outcome is unknown.
    assert_eq!(server.received().len(), 1);
}

#[tokio::test]
async fn a_success_we_cannot_read_is_an_unknown_outcome() {
    let (client, _server) = spawn(|_, _| {
        Reply::Now((StatusCode::CREATED, "<html>proxy says hi</html>").into_response())
    })
    .await;
    let err = client
        .send(&credentials(), &message())
        .await
        .expect_err("unreadable");
    assert!(matches!(err, SmsError::UnknownOutcome { .. }), "{err:?}");
}

#[tokio::test]
async fn nothing_listening_is_retryable() {
    // A port that was free a moment ago: connections to it are refused.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    let client = TwilioClient::new(&format!("http://{addr}"), TIMEOUT).expect("client");
    let err = client
        .send(&credentials(), &message())
        .await
        .expect_err("refused");
    assert!(
        matches!(
            err,
            SmsError::Retryable {
                retry_after: None,
                ..
            }
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn fetch_finds_a_message_or_none() {
    let (client, server) = spawn(|_, received| {
        if received.path.ends_with("/Messages/SM1.json") {
            json_reply(
                200,
                twilio_message(
                    "SM1",
                    "+15558675310",
                    Some("+15005550006"),
                    "Thu, 24 Aug 2023 05:01:45 +0000",
                ),
            )
        } else {
            json_reply(
                404,
                error_body(20404, 404, "The requested resource was not found"),
            )
        }
    })
    .await;

    let found = client
        .fetch(&credentials(), "SM1")
        .await
        .expect("fetched")
        .expect("exists");
    assert_eq!(found.sid, "SM1");
    assert_eq!(found.num_segments, 2);

    let missing = client.fetch(&credentials(), "SM2").await.expect("fetched");
    assert_eq!(missing, None);

    let received = server.received();
    assert_eq!(received.len(), 2);
    assert_eq!(received[0].method, Method::GET);
    assert_eq!(
        received[0].path,
        format!("/twilio-sim/2010-04-01/Accounts/{ACCOUNT}/Messages/SM1.json")
    );
    assert!(received[0].authorization.is_some());
}

#[tokio::test]
async fn fetch_of_a_sid_that_cannot_exist_asks_nobody() {
    let (client, server) = spawn(|_, _| json_reply(500, json!({}))).await;
    let found = client
        .fetch(&credentials(), "../../Calls")
        .await
        .expect("no call made");
    assert_eq!(found, None);
    assert!(server.received().is_empty());
}

#[tokio::test]
async fn list_follows_pages_and_filters_on_the_exact_time() {
    let next = format!(
        "/2010-04-01/Accounts/{ACCOUNT}/Messages.json?To=%2B15558675310&PageSize=1000&Page=1&PageToken=PAabc"
    );
    let next_for_server = next.clone();
    let (client, server) = spawn(move |n, _| match n {
        0 => json_reply(
            200,
            json!({
                "messages": [
                    twilio_message("SMb", "+15558675310", Some("+15005550006"), "Thu, 24 Aug 2023 06:30:00 +0000"),
                    twilio_message("SMa", "+15558675310", Some("+15005550006"), "Thu, 24 Aug 2023 05:01:45 +0000"),
                ],
                "next_page_uri": next_for_server,
                "page": 0,
                "page_size": 2,
            }),
        ),
        1 => json_reply(
            200,
            json!({
                "messages": [
                    // Exactly at the bound: kept.
                    twilio_message("SMc", "+15558675310", Some("+15005550006"), "Thu, 24 Aug 2023 05:00:00 +0000"),
                    // Before the bound: dropped, and no page after this one is read.
                    twilio_message("SMold", "+15558675310", Some("+15005550006"), "Thu, 24 Aug 2023 04:59:59 +0000"),
                ],
                "next_page_uri": format!("/2010-04-01/Accounts/{ACCOUNT}/Messages.json?Page=2"),
                "page": 1,
                "page_size": 2,
            }),
        ),
        _ => json_reply(500, json!({"code": 20500, "message": "a third page was read"})),
    })
    .await;
    let filter = MessageFilter {
        to: "+15558675310".into(),
        from: Some("+15005550006".into()),
        created_after: Utc.with_ymd_and_hms(2023, 8, 24, 5, 0, 0).unwrap(),
    };

    let listed = client.list(&credentials(), &filter).await.expect("listed");

    let sids: Vec<&str> = listed.iter().map(|m| m.sid.as_str()).collect();
    assert_eq!(
        sids,
        ["SMb", "SMa", "SMc"],
        "newest first, none before the bound, no page past it"
    );

    let received = server.received();
    assert_eq!(received.len(), 2);
    let first = &received[0];
    assert_eq!(first.path, messages_path());
    assert_eq!(first.query_value("To"), Some("+15558675310"));
    assert_eq!(first.query_value("From"), Some("+15005550006"));
    // Twilio's DateSent filter would hide a message still in its queue (no send date yet).
    assert_eq!(first.query_value("DateSent>"), None);
    assert_eq!(first.query_value("PageSize"), Some("1000"));
    assert!(first.authorization.is_some());
    let second = &received[1];
    // next_page_uri is relative to the base URL, prefix included.
    assert_eq!(second.path, messages_path());
    assert_eq!(second.query_value("PageToken"), Some("PAabc"));
    assert_eq!(second.query_value("Page"), Some("1"));
    assert!(second.authorization.is_some());
}

#[tokio::test]
async fn list_gives_up_rather_than_answer_part_of_an_endless_list() {
    let (client, server) = spawn(|n, _| {
        json_reply(
            200,
            json!({
                "messages": [],
                "next_page_uri": format!("/2010-04-01/Accounts/{ACCOUNT}/Messages.json?Page={}", n + 1),
            }),
        )
    })
    .await;
    let filter = MessageFilter {
        to: "+15558675310".into(),
        from: None,
        created_after: Utc.with_ymd_and_hms(2023, 8, 24, 5, 0, 0).unwrap(),
    };
    let err = client
        .list(&credentials(), &filter)
        .await
        .expect_err("too many pages");
    assert!(matches!(err, SmsError::UnknownOutcome { .. }), "{err:?}");
    assert_eq!(server.received().len(), MAX_PAGES);
    assert_eq!(server.received()[0].query_value("From"), None);
}

#[tokio::test]
async fn list_never_sends_credentials_to_another_host() {
    let (client, server) = spawn(|_, _| {
        json_reply(
            200,
            json!({
                "messages": [],
                "next_page_uri": "https://elsewhere.example.com/2010-04-01/Accounts/AC1/Messages.json",
            }),
        )
    })
    .await;
    let filter = MessageFilter {
        to: "+15558675310".into(),
        from: None,
        created_after: Utc::now(),
    };
    let err = client
        .list(&credentials(), &filter)
        .await
        .expect_err("refused to follow");
    assert!(matches!(err, SmsError::UnknownOutcome { .. }), "{err:?}");
    assert_eq!(server.received().len(), 1);
}

#[tokio::test]
async fn a_failing_page_fails_the_list() {
    let (client, _server) = spawn(|n, _| match n {
        0 => json_reply(
            200,
            json!({
                "messages": [twilio_message("SMa", "+15558675310", None, "Thu, 24 Aug 2023 05:01:45 +0000")],
                "next_page_uri": format!("/2010-04-01/Accounts/{ACCOUNT}/Messages.json?Page=1"),
            }),
        ),
        _ => Reply::Now(StatusCode::SERVICE_UNAVAILABLE.into_response()),
    })
    .await;
    let filter = MessageFilter {
        to: "+15558675310".into(),
        from: None,
        created_after: Utc.with_ymd_and_hms(2023, 8, 24, 0, 0, 0).unwrap(),
    };
    let err = client
        .list(&credentials(), &filter)
        .await
        .expect_err("second page failed");
    assert!(
        matches!(err, SmsError::ServerError { status: 503, .. }),
        "{err:?}"
    );
}
