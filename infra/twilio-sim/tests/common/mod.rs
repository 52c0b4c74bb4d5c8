//! What the integration tests share: a started simulator with one account and a client, and a
//! small server that records the status callbacks and incoming-message webhooks it receives,
//! answering the latter with whatever a test sets.
// Each test binary uses a different part of this module.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::routing::post;
use serde_json::Value;
use twilio_sim::{Account, SimConfig, Simulator};

pub const FROM: &str = "+15005550001";
pub const TO: &str = "+15005550009";

pub struct Harness {
    pub sim: Simulator,
    pub base: String,
    pub account: Account,
    pub client: reqwest::Client,
    _server: tokio::task::JoinHandle<()>,
}

impl Harness {
    /// A simulator with `config` plus one fresh account (with an API key).
    pub async fn start(mut config: SimConfig) -> Self {
        let mut account = Account::random();
        account.add_api_key();
        config.accounts.push(account.clone());
        let sim = Simulator::new(config);
        let (base, server) = sim.start().await.expect("the simulator starts");
        Self {
            sim,
            base,
            account,
            client: reqwest::Client::new(),
            _server: server,
        }
    }

    pub fn messages_url(&self, account_sid: &str) -> String {
        format!(
            "{}/2010-04-01/Accounts/{account_sid}/Messages.json",
            self.base
        )
    }

    /// Creates a message with the account's SID and auth token.
    pub async fn create(&self, params: &[(&str, &str)]) -> (u16, Value) {
        let account = &self.account;
        self.create_as(&account.sid, &account.auth_token, &account.sid, params)
            .await
    }

    pub async fn create_as(
        &self,
        username: &str,
        password: &str,
        path_account: &str,
        params: &[(&str, &str)],
    ) -> (u16, Value) {
        let response = self
            .client
            .post(self.messages_url(path_account))
            .basic_auth(username, Some(password))
            .form(params)
            .send()
            .await
            .expect("the simulator answers");
        read(response).await
    }

    /// A simple valid create to `to`.
    pub async fn send(&self, to: &str, from: &str, body: &str) -> (u16, Value) {
        self.create(&[("To", to), ("From", from), ("Body", body)])
            .await
    }

    /// GETs a path relative to the base (or a full URL), with the account's credentials.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let url = if path.starts_with("http") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        };
        let response = self
            .client
            .get(url)
            .basic_auth(&self.account.sid, Some(&self.account.auth_token))
            .send()
            .await
            .expect("the simulator answers");
        read(response).await
    }

    /// Lists the account's messages with these query parameters (one page).
    pub async fn list(&self, query: &[(&str, &str)]) -> (u16, Value) {
        let response = self
            .client
            .get(self.messages_url(&self.account.sid))
            .basic_auth(&self.account.sid, Some(&self.account.auth_token))
            .query(query)
            .send()
            .await
            .expect("the simulator answers");
        read(response).await
    }

    pub async fn fetch(&self, sid: &str) -> (u16, Value) {
        let path = format!(
            "/2010-04-01/Accounts/{}/Messages/{sid}.json",
            self.account.sid
        );
        self.get(&path).await
    }

    /// Polls the message until it has `status` (or panics after a few seconds).
    pub async fn wait_for_status(&self, sid: &str, status: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let (code, message) = self.fetch(sid).await;
            assert_eq!(code, 200, "{message}");
            if message["status"] == status {
                return message;
            }
            assert!(
                Instant::now() < deadline,
                "{sid} never reached {status}: {message}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

pub async fn read(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, json)
}

/// A status callback as the receiver got it.
#[derive(Debug, Clone)]
pub struct Callback {
    /// The URL it was posted to, as seen by the receiver (path and query).
    pub path_and_query: String,
    pub signature: Option<String>,
    pub params: Vec<(String, String)>,
}

impl Callback {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    pub fn status(&self) -> &str {
        self.param("MessageStatus").unwrap_or_default()
    }
}

type Received = Arc<Mutex<Vec<Callback>>>;
/// The answer to incoming-message webhooks: HTTP status and body (TwiML or not).
type Answer = Arc<Mutex<(u16, String)>>;

/// A server recording every status callback and incoming message posted to it.
pub struct Receiver {
    pub base: String,
    received: Received,
    answer: Answer,
    _server: tokio::task::JoinHandle<()>,
}

async fn answer_inbound(
    State((received, answer)): State<(Received, Answer)>,
    uri: Uri,
    headers: HeaderMap,
    form: Form<Vec<(String, String)>>,
) -> (StatusCode, [(header::HeaderName, &'static str); 1], String) {
    record(State(received), uri, headers, form).await;
    let (status, body) = answer.lock().expect("not poisoned").clone();
    (
        StatusCode::from_u16(status).expect("a status"),
        [(header::CONTENT_TYPE, "text/xml")],
        body,
    )
}

async fn record(
    State(received): State<Received>,
    uri: Uri,
    headers: HeaderMap,
    Form(params): Form<Vec<(String, String)>>,
) {
    let signature = headers
        .get("X-Twilio-Signature")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let path_and_query = uri
        .path_and_query()
        .map(ToString::to_string)
        .unwrap_or_default();
    received.lock().expect("not poisoned").push(Callback {
        path_and_query,
        signature,
        params,
    });
}

impl Receiver {
    pub async fn start() -> Self {
        let received = Received::default();
        let answer: Answer = Arc::new(Mutex::new((200, "<Response/>".to_owned())));
        let router = axum::Router::new()
            .route("/status", post(record))
            .with_state(Arc::clone(&received))
            .merge(
                axum::Router::new()
                    .route("/inbound", post(answer_inbound))
                    .with_state((Arc::clone(&received), Arc::clone(&answer))),
            );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let base = format!("http://{}", listener.local_addr().expect("an address"));
        let server = tokio::spawn(async move {
            axum::serve(listener, router)
                .await
                .expect("the receiver runs");
        });
        Self {
            base,
            received,
            answer,
            _server: server,
        }
    }

    /// The incoming-message webhook URL for `tag`.
    pub fn inbound_url(&self, tag: &str) -> String {
        format!("{}/inbound?tag={tag}&number=1", self.base)
    }

    /// What incoming-message webhooks answer from now on.
    pub fn answer_with(&self, status: u16, body: &str) {
        *self.answer.lock().expect("not poisoned") = (status, body.to_owned());
    }

    /// The callback URL for one message: the query makes it unique and must be signed too.
    pub fn url(&self, tag: &str) -> String {
        format!("{}/status?tag={tag}&tenant=t%201", self.base)
    }

    /// The callbacks for `tag` once `count` have arrived (panics after a few seconds).
    pub async fn wait_for(&self, tag: &str, count: usize) -> Vec<Callback> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let got = self.of(tag);
            if got.len() >= count {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "only {} of {count} callbacks for {tag}: {got:?}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The callbacks for `tag` received so far, in arrival order.
    pub fn of(&self, tag: &str) -> Vec<Callback> {
        let marker = format!("tag={tag}&");
        self.received
            .lock()
            .expect("not poisoned")
            .iter()
            .filter(|callback| callback.path_and_query.contains(&marker))
            .cloned()
            .collect()
    }
}
