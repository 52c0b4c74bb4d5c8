//! The Lambda path: API Gateway HTTP API events (the fixtures in `events/`) converted by
//! lambda_http exactly as on AWS, answered by the same router, on the embedded store.

use std::sync::Arc;

use axum::body::Body;
use http_body_util::BodyExt as _;
use serde_json::Value;
use smscrm_domain::Tenant;
use smscrm_domain::ports::SystemClock;
use smscrm_http::{AppContext, health_router, with_common_layers};
use tower::ServiceExt as _;

fn event(name: &str, api_key: &str) -> lambda_http::Request {
    let path = format!("{}/../../events/{name}", env!("CARGO_MANIFEST_DIR"));
    let raw = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    lambda_http::request::from_str(&raw.replace("{{API_KEY}}", api_key))
        .expect("valid API Gateway event")
}

async fn call(ctx: &AppContext, request: lambda_http::Request) -> (u16, Value) {
    let app =
        with_common_layers(api_contacts::router().merge(health_router())).with_state(ctx.clone());
    let (parts, body) = request.into_parts();
    let request = axum::http::Request::from_parts(parts, Body::from(body.to_vec()));
    let response = app.oneshot(request).await.expect("infallible");
    let status = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, serde_json::from_slice(&bytes).expect("JSON body"))
}

#[tokio::test]
async fn api_gateway_events_create_and_list_contacts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let table = smscrm_local::SqliteTable::open(&dir.path().join("store.db")).expect("store");
    let ctx = AppContext::new(Arc::new(table), Arc::new(SystemClock));
    let tenant = Tenant::new("Acme", "America/New_York", "US", chrono::Utc::now()).expect("tenant");
    ctx.tenants.create(&tenant).await.expect("create tenant");
    let key = ctx
        .api_keys
        .create(
            &tenant.id,
            "test",
            smscrm_domain::apikey::Scope::ALL.to_vec(),
            chrono::Utc::now(),
        )
        .await
        .expect("key");

    let (status, created) = call(
        &ctx,
        event("apigw-http-create-contact.json", &key.plaintext),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["phone"], "+14155552671");

    let (status, listed) = call(&ctx, event("apigw-http-list-contacts.json", &key.plaintext)).await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["items"][0]["id"], created["id"]);

    // The audit log names the address API Gateway saw, not what a header claims.
    let forged = event("apigw-http-create-contact.json", &key.plaintext);
    let (mut parts, body) = forged.into_parts();
    parts.headers.insert(
        "x-forwarded-for",
        axum::http::HeaderValue::from_static("198.51.100.66"),
    );
    let body = body.to_vec();
    let patched = String::from_utf8(body)
        .expect("utf-8")
        .replace("(415) 555-2671", "(415) 555-2672");
    let (status, _) = call(
        &ctx,
        lambda_http::Request::from_parts(parts, patched.into()),
    )
    .await;
    assert_eq!(status, 201);
    let log = smscrm_store::AuditLog::new(ctx.table.clone())
        .list(&tenant.id, &Default::default(), None, 10)
        .await
        .expect("audit");
    let addresses: Vec<Option<&str>> = log.items.iter().map(|e| e.ip.as_deref()).collect();
    assert_eq!(addresses, [Some("203.0.113.7"), Some("203.0.113.7")]);

    let (status, denied) = call(&ctx, event("apigw-http-list-contacts.json", "smscrm_wrong")).await;
    assert_eq!(
        (status, denied["error"]["code"].as_str()),
        (401, Some("unauthorized"))
    );
}
