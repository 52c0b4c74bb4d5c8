//! Signing in when the product is served over HTTPS (its public address here), on the embedded
//! store and on DynamoDB + SES (moto): the cookies are `Secure` and carry the `__Host-` prefix,
//! so a browser takes them only from this host; they sign in and out like the plain ones.

use crate::support;

use chrono::Utc;
use reqwest::Method;
use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::json;
use smscrm_domain::TenantId;
use smscrm_domain::user::{Email, Role, User};
use smscrm_store::Users;
use support::TestApp;

on_both_backends!(behind "https://crm.example.test";
    over_https_the_cookies_are_secure_and_host_only,
);

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

fn named<'a>(cookies: &'a [String], name: &str) -> &'a str {
    cookies
        .iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} in {cookies:?}"))
}

fn value(cookie: &str) -> &str {
    cookie
        .split_once('=')
        .and_then(|(_, rest)| rest.split(';').next())
        .expect("value")
}

async fn over_https_the_cookies_are_secure_and_host_only(app: &TestApp) {
    let me = app.tenant("Bakery").await;
    let tenant: TenantId = me.tenant_id.parse().expect("id");
    let user = User::new(
        tenant,
        Email::parse("ada@example.com").expect("email"),
        Role::Owner,
        Utc::now(),
    );
    Users::new(app.ctx.table.clone())
        .create(&user)
        .await
        .expect("user");
    let asked = browser()
        .post(format!("{}/v1/auth/magic-link", app.base))
        .json(&json!({"email": "ada@example.com"}))
        .send()
        .await
        .expect("answer");
    assert_eq!(asked.status(), 202);
    let email = app.mail.sent().pop().expect("a link");
    assert!(
        email
            .text
            .contains("https://crm.example.test/v1/auth/verify?token="),
        "{}",
        email.text
    );
    let (_, token) = email.text.split_once("token=").expect("a link");
    let token = token.split_whitespace().next().expect("token");

    let signed_in = browser()
        .post(format!("{}/v1/auth/session", app.base))
        .form(&[("token", token)])
        .send()
        .await
        .expect("answer");
    assert_eq!(signed_in.status(), 303);
    let cookies: Vec<String> = signed_in
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    let session = named(&cookies, "__Host-smscrm_session");
    let csrf = named(&cookies, "__Host-smscrm_csrf");
    for cookie in [session, csrf] {
        for flag in ["Secure", "Path=/", "SameSite=Lax"] {
            assert!(cookie.contains(flag), "{flag} missing: {cookie}");
        }
        assert!(!cookie.contains("Domain"), "host-only: {cookie}");
    }
    assert!(session.contains("HttpOnly"), "{session}");

    let sent = format!(
        "{}; {}",
        session.split(';').next().expect("pair"),
        csrf.split(';').next().expect("pair")
    );
    let who = browser()
        .get(format!("{}/v1/me", app.base))
        .header(COOKIE, &sent)
        .send()
        .await
        .expect("answer");
    assert_eq!(who.status(), 200);
    let out = browser()
        .request(Method::POST, format!("{}/v1/auth/logout", app.base))
        .header(COOKIE, &sent)
        .header("x-csrf-token", value(csrf))
        .send()
        .await
        .expect("answer");
    assert_eq!(out.status(), 204);
    let cleared: Vec<String> = out
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    assert!(named(&cleared, "__Host-smscrm_session").contains("Max-Age=0"));
    let after = browser()
        .get(format!("{}/v1/me", app.base))
        .header(COOKIE, &sent)
        .send()
        .await
        .expect("answer");
    assert_eq!(after.status(), 401, "signed out");
}
