//! The real HTTP app on a free port, on a chosen backend, with tenants to call it as.

#![allow(dead_code)]

pub mod sending;

use std::sync::Arc;

use reqwest::{Client, Method, RequestBuilder, Response};
use serde_json::Value;
use smscrm_domain::ports::Secrets;
use smscrm_domain::user::{Email, Role, User, mint_secret};
use smscrm_http::AppContext;
use smscrm_local_host::serve::Queues;
use smscrm_store::{Logins, Session, Users};
use smscrm_tests::backends::Backend;

pub struct TestApp {
    pub base: String,
    pub ctx: AppContext,
    /// The app's clock: real time unless a test moves it.
    pub clock: Arc<ShiftedClock>,
    pub queues: Queues,
    /// The Twilio simulator the sender workers send to.
    pub sim: twilio_sim::Simulator,
    pub sim_url: String,
    /// Where the platform's default Twilio account (the simulator's) is kept.
    pub secrets: Arc<dyn Secrets>,
    /// What the product emailed, through the backend's mailer (SES on moto, or the outbox).
    pub mail: Arc<MailTap>,
    client: Client,
    server: tokio::task::JoinHandle<()>,
    workers: Vec<tokio::task::JoinHandle<()>>,
}

/// The product's mailer with a copy of every email it accepted, for tests to read.
pub struct MailTap {
    mailer: Arc<dyn smscrm_domain::ports::Mailer>,
    sent: std::sync::Mutex<Vec<smscrm_domain::ports::OutgoingEmail>>,
}

#[async_trait::async_trait]
impl smscrm_domain::ports::Mailer for MailTap {
    async fn send(
        &self,
        email: &smscrm_domain::ports::OutgoingEmail,
    ) -> Result<(), smscrm_domain::ports::MailError> {
        self.mailer.send(email).await?;
        self.sent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(email.clone());
        Ok(())
    }
}

impl MailTap {
    /// Every email sent so far, oldest first.
    pub fn sent(&self) -> Vec<smscrm_domain::ports::OutgoingEmail> {
        self.sent
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// Real time, moved by however much a test shifts it: time goes on (leases lapse, pacing
/// waits) while a test makes it any day and hour it needs.
#[derive(Debug, Default)]
pub struct ShiftedClock(std::sync::Mutex<chrono::Duration>);

impl ShiftedClock {
    /// From now on, it is `at` (and time goes on from there).
    pub fn shift_to(&self, at: chrono::DateTime<chrono::Utc>) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = at - chrono::Utc::now();
    }
}

impl smscrm_domain::ports::Clock for ShiftedClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now()
            + *self
                .0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A tenant and a key that speaks for it.
pub struct Caller {
    pub tenant_id: String,
    pub key: String,
}

/// A person of a tenant, signed in: the session cookie and the CSRF token a page sends back.
/// (`auth.rs` tests how one signs in; elsewhere tests start the session directly.)
pub struct Browser {
    pub cookie: String,
    pub csrf: String,
}

/// How [`TestApp::launch`] sets the host up; the default is `serve`'s.
pub struct Launch {
    pub sync_dry_run_bytes: u64,
    pub max_upload_bytes: u64,
    /// Whether sender workers consume the send queue.
    pub senders: bool,
    /// The host's public URL, when it is not the address listened on.
    pub public_url: Option<String>,
}

impl Default for Launch {
    fn default() -> Self {
        Self {
            sync_dry_run_bytes: api_imports::SYNC_DRY_RUN_BYTES,
            max_upload_bytes: api_imports::MAX_UPLOAD_BYTES,
            senders: true,
            public_url: None,
        }
    }
}

impl TestApp {
    /// The router on a free port, with the import worker, the campaign dispatcher and the
    /// sender's workers consuming their queues (new ones on `backend`), as in `serve`, and a
    /// Twilio simulator (on its own port) holding the platform's default account.
    pub async fn start(backend: &dyn Backend) -> Self {
        Self::launch(backend, Launch::default()).await
    }

    /// [`TestApp::start`] queueing the dry runs of files over `sync_dry_run_bytes`.
    pub async fn start_with(backend: &dyn Backend, sync_dry_run_bytes: u64) -> Self {
        let launch = Launch {
            sync_dry_run_bytes,
            ..Launch::default()
        };
        Self::launch(backend, launch).await
    }

    /// [`TestApp::start`] without sender workers: the test handles send work itself.
    pub async fn start_without_senders(backend: &dyn Backend) -> Self {
        let launch = Launch {
            senders: false,
            ..Launch::default()
        };
        Self::launch(backend, launch).await
    }

    /// [`TestApp::start`] with webhooks that take Twilio to have called `public_url` (the
    /// host's public name behind a proxy), not the address they listen on.
    pub async fn start_behind(backend: &dyn Backend, public_url: &str) -> Self {
        let launch = Launch {
            public_url: Some(public_url.to_owned()),
            ..Launch::default()
        };
        Self::launch(backend, launch).await
    }

    /// [`TestApp::start`] with the given settings.
    pub async fn launch(backend: &dyn Backend, launch: Launch) -> Self {
        let Launch {
            sync_dry_run_bytes,
            max_upload_bytes,
            senders,
            public_url,
        } = launch;
        let queues = Queues {
            import_jobs: backend.queue(Default::default()).await.queue,
            dispatch: backend.queue(Default::default()).await.queue,
            sends: backend.queue(Default::default()).await.queue,
        };
        let (table, blobs) = (backend.table(), backend.blobs());
        let clock = Arc::new(ShiftedClock::default());
        let ctx = AppContext::new(table, clock.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a free port");
        let base = format!("http://{}", listener.local_addr().expect("local addr"));
        let worker = smscrm_local_host::serve::import_worker(&ctx, &blobs, &queues.import_jobs);
        let worker = tokio::spawn(worker.consume(
            smscrm_local_host::serve::IMPORT_RUN_FOR,
            std::time::Duration::from_millis(200),
        ));
        let dispatcher = smscrm_local_host::serve::dispatcher(&ctx, &queues);
        let dispatcher = tokio::spawn(dispatcher.consume(
            smscrm_local_host::serve::IMPORT_RUN_FOR,
            std::time::Duration::from_millis(200),
        ));
        let sim = twilio_sim::Simulator::new(twilio_sim::SimConfig::default());
        let secrets = backend.secrets();
        let account = smscrm_local_host::sending::simulator_account(secrets.as_ref())
            .await
            .expect("the simulator's account");
        sim.add_account(account);
        let (sim_url, sim_server) = sim.start().await.expect("the simulator starts");
        let mut workers = vec![sim_server];
        if senders {
            let mut sender = test_sender(&ctx, &secrets, &sim_url);
            sender.config.public_base_url = Some(base.clone());
            workers.push(tokio::spawn(
                smscrm_local_host::sending::worker_pool(sender, queues.sends.clone()).run(),
            ));
        }
        let mut imports =
            api_imports::ImportsState::new(ctx.clone(), blobs, queues.import_jobs.clone());
        imports.sync_dry_run_bytes = sync_dry_run_bytes;
        imports.max_upload_bytes = max_upload_bytes;
        let public_url = public_url.unwrap_or_else(|| base.clone());
        let webhooks = smscrm_local_host::serve::webhooks(&ctx, secrets.clone(), &public_url);
        let mail = Arc::new(MailTap {
            mailer: backend.mailer(),
            sent: std::sync::Mutex::default(),
        });
        let services = smscrm_local_host::serve::Services {
            secrets: secrets.clone(),
            mailer: mail.clone(),
            public_url,
        };
        let app =
            smscrm_local_host::serve::app_with(ctx.clone(), imports, &queues, services, webhooks)
                .into_make_service_with_connect_info::<std::net::SocketAddr>();
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("server runs");
        });
        Self {
            base,
            ctx,
            clock,
            queues,
            sim,
            sim_url,
            secrets,
            mail,
            client: Client::new(),
            server,
            workers: workers.into_iter().chain([worker, dispatcher]).collect(),
        }
    }

    pub async fn tenant(&self, name: &str) -> Caller {
        let (tenant, key) =
            smscrm_local_host::commands::create_tenant(&self.ctx, name, "America/New_York", "US")
                .await
                .expect("create tenant");
        Caller {
            tenant_id: tenant.id.to_string(),
            key,
        }
    }

    pub fn request(&self, method: Method, path: &str, caller: &Caller) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&caller.key)
    }

    /// Adds a person with `role` to the caller's tenant and starts a session for them.
    pub async fn signed_in(&self, caller: &Caller, email: &str, role: Role) -> Browser {
        let tenant: smscrm_domain::TenantId = caller.tenant_id.parse().expect("tenant id");
        let now = chrono::Utc::now();
        let user = User::new(
            tenant.clone(),
            Email::parse(email).expect("email"),
            role,
            now,
        );
        Users::new(self.ctx.table.clone())
            .create(&user)
            .await
            .expect("user");
        let (id, csrf) = (mint_secret(), mint_secret());
        let session = Session {
            tenant_id: tenant,
            user_id: user.id,
            created_at: now,
            last_seen_at: now,
            csrf_hash: csrf.hash,
        };
        Logins::new(self.ctx.table.clone())
            .start_session(&id.hash, &session)
            .await
            .expect("session");
        Browser {
            cookie: format!("smscrm_session={}", id.plaintext),
            csrf: csrf.plaintext,
        }
    }

    /// A request as the signed-in person's page makes it.
    pub fn as_person(&self, method: Method, path: &str, person: &Browser) -> RequestBuilder {
        self.client
            .request(method, format!("{}{path}", self.base))
            .header(reqwest::header::COOKIE, &person.cookie)
            .header("x-csrf-token", &person.csrf)
    }

    /// Puts `body` where `POST /v1/imports` said to (a presigned S3 URL, needing no key of
    /// ours, or the local host's upload route); the response.
    pub async fn upload(
        &self,
        caller: &Caller,
        created: &Value,
        body: impl AsRef<[u8]>,
    ) -> Response {
        let upload = &created["upload"];
        assert_eq!(upload["method"], "PUT");
        let url = upload["url"].as_str().expect("url");
        let mut request = if url.starts_with("http") {
            reqwest::Client::new().put(url)
        } else {
            self.request(Method::PUT, url, caller)
        };
        for pair in upload["headers"].as_array().expect("headers") {
            request = request.header(
                pair[0].as_str().expect("name"),
                pair[1].as_str().expect("value"),
            );
        }
        let response = (request.body(body.as_ref().to_vec()).send().await).expect("upload");
        assert!(
            response.status().is_success(),
            "upload: {}",
            response.status()
        );
        response
    }

    pub fn anonymous(&self, method: Method, path: &str) -> RequestBuilder {
        self.client.request(method, format!("{}{path}", self.base))
    }

    pub async fn post_contact(&self, caller: &Caller, body: Value) -> (u16, Value) {
        send(
            self.request(Method::POST, "/v1/contacts", caller)
                .json(&body),
        )
        .await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.server.abort();
        for worker in &self.workers {
            worker.abort();
        }
    }
}

/// A sender as tests run it: the queues' 5 receives, short waits, Twilio calls that give up
/// after a second.
pub fn test_sender(ctx: &AppContext, secrets: &Arc<dyn Secrets>, sim_url: &str) -> sender::Sender {
    let config = sender::SenderConfig {
        lease: std::time::Duration::from_secs(30),
        unknown_grace: std::time::Duration::from_secs(2),
        max_receives: 5,
        workers: 4,
        public_base_url: None,
        call_timeout: std::time::Duration::from_secs(1),
    };
    smscrm_local_host::sending::sender(
        ctx,
        secrets.clone(),
        sim_url,
        std::time::Duration::from_secs(1),
        config,
    )
    .expect("a sender")
}

/// Sends and returns the status and the JSON body (Null when there is none).
pub async fn send(request: RequestBuilder) -> (u16, Value) {
    let response: Response = request.send().await.expect("request reaches the server");
    let status = response.status().as_u16();
    let bytes = response.bytes().await.expect("body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| panic!("body is JSON: {}", String::from_utf8_lossy(&bytes)))
    };
    (status, body)
}

/// Asserts the uniform error shape and returns the code.
pub fn error_code(body: &Value) -> &str {
    let error = &body["error"];
    assert!(
        error["message"].as_str().is_some_and(|m| !m.is_empty()),
        "message in {body}"
    );
    assert!(error.get("details").is_some(), "details in {body}");
    error["code"]
        .as_str()
        .unwrap_or_else(|| panic!("code in {body}"))
}

/// Runs each `async fn(&TestApp)` scenario once per backend (`mod embedded`, `mod aws`), so
/// behaviour cannot differ between them. Invoke at the top level of a test module; `suite.rs`
/// declares `support` first, with `#[macro_use]`, so every module sees it.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        on_both_backends!(@start |backend| $crate::support::TestApp::start(backend); $($name),*);
    };
    // Webhooks taking Twilio to have called `$public` (see `TestApp::start_behind`).
    (behind $public:expr; $($name:ident),* $(,)?) => {
        on_both_backends!(@start |backend| $crate::support::TestApp::start_behind(backend, $public); $($name),*);
    };
    (@start |$backend:ident| $start:expr; $($name:ident),*) => {
        mod embedded {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let backend = smscrm_tests::backends::embedded().await;
                    let $backend = &backend;
                    let app = $start.await;
                    super::$name(&app).await;
                }
            )*
        }
        mod aws {
            #[allow(unused_imports)]
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let backend = smscrm_tests::backends::aws().await;
                    let $backend = &backend;
                    let app = $start.await;
                    super::$name(&app).await;
                }
            )*
        }
    };
}
