//! The real HTTP app on a free port, on a chosen backend, with tenants to call it as.

#![allow(dead_code)]

use std::sync::Arc;

use reqwest::{Client, Method, RequestBuilder, Response};
use serde_json::Value;
use smscrm_domain::ports::SystemClock;
use smscrm_http::AppContext;
use smscrm_local_host::serve::Queues;
use smscrm_tests::backends::Backend;

pub struct TestApp {
    pub base: String,
    pub ctx: AppContext,
    pub queues: Queues,
    client: Client,
    server: tokio::task::JoinHandle<()>,
    workers: Vec<tokio::task::JoinHandle<()>>,
}

/// A tenant and a key that speaks for it.
pub struct Caller {
    pub tenant_id: String,
    pub key: String,
}

impl TestApp {
    /// The router on a free port, with the import worker and the campaign dispatcher consuming
    /// their queues (new ones on `backend`), as in `serve`.
    pub async fn start(backend: &dyn Backend) -> Self {
        Self::start_with(backend, api_imports::SYNC_DRY_RUN_BYTES).await
    }

    /// [`TestApp::start`] queueing the dry runs of files over `sync_dry_run_bytes`.
    pub async fn start_with(backend: &dyn Backend, sync_dry_run_bytes: u64) -> Self {
        let queues = Queues {
            import_jobs: backend.queue(Default::default()).await.queue,
            dispatch: backend.queue(Default::default()).await.queue,
            sends: backend.queue(Default::default()).await.queue,
        };
        let (table, blobs) = (backend.table(), backend.blobs());
        let ctx = AppContext::new(table, Arc::new(SystemClock));
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
        let mut imports =
            api_imports::ImportsState::new(ctx.clone(), blobs, queues.import_jobs.clone());
        imports.sync_dry_run_bytes = sync_dry_run_bytes;
        let app = smscrm_local_host::serve::app_with(ctx.clone(), imports, &queues);
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("server runs");
        });
        Self {
            base,
            ctx,
            queues,
            client: Client::new(),
            server,
            workers: vec![worker, dispatcher],
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
/// behaviour cannot differ between them. Invoke at the test file's top level.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let backend = smscrm_tests::backends::embedded().await;
                    let app = $crate::TestApp::start(&backend).await;
                    super::$name(&app).await;
                }
            )*
        }
        mod aws {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let backend = smscrm_tests::backends::aws().await;
                    let app = $crate::TestApp::start(&backend).await;
                    super::$name(&app).await;
                }
            )*
        }
    };
}
