//! Signing in over real HTTP, on the embedded store with the outbox and on DynamoDB with SES
//! (moto): magic links (single use, 15 minutes, the same answer for anyone, rate limited),
//! the session cookie's flags, CSRF on cookie-authenticated changes, expiry and sign-out.

use crate::support;

use chrono::{Duration, Utc};
use reqwest::Method;
use reqwest::header::{COOKIE, SET_COOKIE};
use serde_json::{Value, json};
use smscrm_domain::TenantId;
use smscrm_domain::user::{Email, Role, User, mint_secret};
use smscrm_store::{LoginToken, Logins, Session, Users};
use support::{Caller, TestApp, send};

on_both_backends!(
    a_magic_link_signs_in_once_with_a_well_flagged_cookie,
    every_address_gets_the_same_answer_and_requests_are_rate_limited,
    cookie_changes_need_the_csrf_token_and_sessions_expire_and_end,
    readers_change_nothing_and_only_admins_run_the_tenant,
    a_client_past_its_limit_spends_no_addresss_allowance,
    owners_and_admins_manage_people_and_the_last_owner_stays,
);

const ADA: &str = "ada@example.com";

/// A client that shows redirects instead of following them.
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client")
}

async fn owner(app: &TestApp) -> (Caller, User) {
    let me = app.tenant("Bakery").await;
    let tenant: TenantId = me.tenant_id.parse().expect("id");
    let user = User::new(
        tenant,
        Email::parse(ADA).expect("email"),
        Role::Owner,
        Utc::now(),
    );
    Users::new(app.ctx.table.clone())
        .create(&user)
        .await
        .expect("user");
    (me, user)
}

async fn ask_for_link(app: &TestApp, email: &str) -> (u16, Value, Option<String>) {
    ask_for_link_from(app, email, None).await
}

/// As [`ask_for_link`], from `client` as API Gateway would name it in `X-Forwarded-For`.
async fn ask_for_link_from(
    app: &TestApp,
    email: &str,
    client: Option<&str>,
) -> (u16, Value, Option<String>) {
    let mut request = browser()
        .post(format!("{}/v1/auth/magic-link", app.base))
        .json(&json!({ "email": email }));
    if let Some(client) = client {
        request = request.header("x-forwarded-for", format!("203.0.113.9, {client}"));
    }
    let response = request.send().await.expect("answer");
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response.json().await.expect("json");
    (status, body, retry_after)
}

/// The token in the last email to `email`.
fn token_in_last_email(app: &TestApp, email: &str) -> String {
    let sent = app.mail.sent();
    let last = sent
        .iter()
        .rev()
        .find(|e| e.to.as_str() == email)
        .unwrap_or_else(|| panic!("no email to {email}: {sent:?}"));
    assert!(last.subject.contains("Bakery"), "{last:?}");
    let (_, token) = last.text.split_once("token=").expect("a link");
    token.split_whitespace().next().expect("token").to_owned()
}

/// Posts the token as the verify page's button does; the status and the `Set-Cookie` values.
async fn use_token(app: &TestApp, token: &str) -> (u16, Vec<String>) {
    let response = browser()
        .post(format!("{}/v1/auth/session", app.base))
        .form(&[("token", token)])
        .send()
        .await
        .expect("answer");
    let cookies = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    (response.status().as_u16(), cookies)
}

fn value_of(set_cookies: &[String], name: &str) -> String {
    set_cookies
        .iter()
        .find_map(|c| c.strip_prefix(&format!("{name}=")))
        .and_then(|rest| rest.split(';').next())
        .unwrap_or_else(|| panic!("no {name} cookie in {set_cookies:?}"))
        .to_owned()
}

/// Signs in as Ada; the `Cookie` header a browser would send, and the CSRF token.
async fn signed_in(app: &TestApp) -> (String, String) {
    signed_in_as(app, ADA).await
}

async fn signed_in_as(app: &TestApp, email: &str) -> (String, String) {
    let (status, _, _) = ask_for_link(app, email).await;
    assert_eq!(status, 202);
    let (status, cookies) = use_token(app, &token_in_last_email(app, email)).await;
    assert_eq!(status, 303, "{cookies:?}");
    let (session, csrf) = (
        value_of(&cookies, "smscrm_session"),
        value_of(&cookies, "smscrm_csrf"),
    );
    (
        format!("smscrm_session={session}; smscrm_csrf={csrf}"),
        csrf,
    )
}

async fn as_browser(
    app: &TestApp,
    method: Method,
    path: &str,
    cookie: &str,
    csrf: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = browser()
        .request(method, format!("{}{path}", app.base))
        .header(COOKIE, cookie);
    if let Some(csrf) = csrf {
        request = request.header("X-CSRF-Token", csrf);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("answer");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn a_magic_link_signs_in_once_with_a_well_flagged_cookie(app: &TestApp) {
    let (me, user) = owner(app).await;
    let (status, answer, _) = ask_for_link(app, " Ada@Example.com ").await;
    assert_eq!(status, 202, "{answer}");
    let token = token_in_last_email(app, ADA);

    // Opening the link (as a mail scanner would) does not use the token up.
    let page = browser()
        .get(format!("{}/v1/auth/verify?token={token}", app.base))
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), 200);
    let framing = page.headers().get("content-security-policy").cloned();
    assert_eq!(
        framing.as_ref().and_then(|v| v.to_str().ok()),
        Some("frame-ancestors 'none'")
    );
    // Relative, so it posts to /v1/auth/session under any path prefix.
    let html = page.text().await.expect("html");
    assert!(html.contains("action=\"session\""), "{html}");

    // Posted from another site (an attacker signing visitors into the attacker's account): no.
    for (header, value) in [
        ("origin", "https://evil.example"),
        ("sec-fetch-site", "cross-site"),
    ] {
        let refused = browser()
            .post(format!("{}/v1/auth/session", app.base))
            .header(header, value)
            .form(&[("token", token.as_str())])
            .send()
            .await
            .expect("answer");
        assert_eq!(refused.status(), 403, "{header}: {value}");
    }
    let no_token = browser()
        .post(format!("{}/v1/auth/session", app.base))
        .form(&[("tokn", token.as_str())])
        .send()
        .await
        .expect("answer");
    assert_eq!(no_token.status(), 400);
    let no_token: Value = no_token.json().await.expect("json");
    assert_eq!(no_token["error"]["code"], "invalid_form");

    let (status, cookies) = use_token(app, &token).await;
    assert_eq!(status, 303, "{cookies:?}");
    let session = cookies
        .iter()
        .find(|c| c.starts_with("smscrm_session="))
        .expect("session cookie");
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=604800"] {
        assert!(session.contains(flag), "{flag} missing: {session}");
    }
    // Served over plain HTTP on 127.0.0.1: the one place a cookie may go without `Secure`.
    assert!(!session.contains("Secure"), "{session}");
    let csrf = cookies
        .iter()
        .find(|c| c.starts_with("smscrm_csrf="))
        .expect("csrf cookie");
    assert!(!csrf.contains("HttpOnly"), "the page must read it: {csrf}");

    // Single use.
    let (status, _) = use_token(app, &token).await;
    assert_eq!(status, 400);

    let cookie = format!(
        "smscrm_session={}; smscrm_csrf={}",
        value_of(&cookies, "smscrm_session"),
        value_of(&cookies, "smscrm_csrf")
    );
    let (status, who) = as_browser(app, Method::GET, "/v1/me", &cookie, None, None).await;
    assert_eq!(status, 200, "{who}");
    assert_eq!(who["kind"], "user");
    assert_eq!(who["email"], ADA);
    assert_eq!(who["role"], "owner");
    assert_eq!(who["tenant"]["id"], me.tenant_id.as_str());
    let (_, audit) = send(app.request(Method::GET, "/v1/audit?action=user.signed_in", &me)).await;
    assert_eq!(
        audit["items"][0]["target"],
        format!("user:{}", user.id),
        "{audit}"
    );
    let signed_in = Users::new(app.ctx.table.clone())
        .get(&user.tenant_id, &user.id)
        .await
        .expect("read")
        .expect("user");
    assert!(signed_in.last_login_at.is_some());

    // Expired: a token past its 15 minutes is refused like a used one.
    let old = mint_secret();
    Logins::new(app.ctx.table.clone())
        .issue(
            &old.hash,
            &LoginToken {
                tenant_id: user.tenant_id.clone(),
                user_id: user.id.clone(),
                expires_at: Utc::now() - Duration::seconds(1),
            },
        )
        .await
        .expect("issued");
    let (status, _) = use_token(app, &old.plaintext).await;
    assert_eq!(status, 400);
    let (status, _) = use_token(app, "not-a-token").await;
    assert_eq!(status, 400);
}

/// The limits count in 15-minute windows of the clock: a test that crossed into the next
/// window would see its counts start again. It starts a second into one.
fn at_the_start_of_a_limit_window(app: &TestApp) {
    let now = Utc::now().timestamp();
    let start = now - now.rem_euclid(15 * 60) + 1;
    app.clock
        .shift_to(chrono::DateTime::from_timestamp(start, 0).expect("a time"));
}

async fn every_address_gets_the_same_answer_and_requests_are_rate_limited(app: &TestApp) {
    at_the_start_of_a_limit_window(app);
    owner(app).await;
    let (_, known, _) = ask_for_link(app, ADA).await;
    let (status, unknown, _) = ask_for_link(app, "nobody@example.com").await;
    assert_eq!((status, &unknown), (202, &known));
    assert!(app.mail.sent().iter().all(|e| e.to.as_str() == ADA));
    let (status, refused, _) = ask_for_link(app, "not an address").await;
    assert_eq!(status, 400, "{refused}");

    // Five per address in 15 minutes, known or not.
    for email in [ADA, "nobody@example.com"] {
        let mut statuses = Vec::new();
        let mut retry_after = None;
        for _ in 0..5 {
            let (status, _, retry) = ask_for_link(app, email).await;
            statuses.push(status);
            retry_after = retry.or(retry_after);
        }
        assert_eq!(statuses, [202, 202, 202, 202, 429], "{email}");
        let seconds: u64 = retry_after.expect("Retry-After").parse().expect("seconds");
        assert!((1..=900).contains(&seconds), "{seconds}");
    }
    assert_eq!(app.mail.sent().len(), 5, "no link past the limit");
    // Another address has its own count (the client's limit is higher).
    let (status, _, _) = ask_for_link(app, "grace@example.com").await;
    assert_eq!(status, 202);
}

async fn cookie_changes_need_the_csrf_token_and_sessions_expire_and_end(app: &TestApp) {
    let (me, user) = owner(app).await;
    let (cookie, csrf) = signed_in(app).await;
    let rename = || Some(json!({"name": "Bakery & Co"}));

    let (status, refused) =
        as_browser(app, Method::PATCH, "/v1/tenant", &cookie, None, rename()).await;
    assert_eq!(
        (status, &refused["error"]["code"]),
        (403, &json!("csrf_failed"))
    );
    let forged = mint_secret().plaintext;
    let (status, _) = as_browser(
        app,
        Method::PATCH,
        "/v1/tenant",
        &cookie,
        Some(&forged),
        rename(),
    )
    .await;
    assert_eq!(status, 403);
    let (status, changed) = as_browser(
        app,
        Method::PATCH,
        "/v1/tenant",
        &cookie,
        Some(&csrf),
        rename(),
    )
    .await;
    assert_eq!(status, 200, "{changed}");
    let (_, audit) =
        send(app.request(Method::GET, "/v1/audit?action=tenant.settings_changed", &me)).await;
    assert_eq!(audit["items"][0]["actor"]["kind"], "user", "{audit}");
    assert_eq!(audit["items"][0]["actor"]["email"], ADA);
    // API keys need no CSRF token: no browser sends them on its own.
    let (status, _) = send(
        app.request(Method::PATCH, "/v1/tenant", &me)
            .json(&json!({"name": "Bakery"})),
    )
    .await;
    assert_eq!(status, 200);

    // Sessions end 12 hours after their last use, and 7 days after they began.
    let logins = Logins::new(app.ctx.table.clone());
    let now = Utc::now();
    for (began, last_seen, alive) in [
        (now - Duration::hours(14), now - Duration::hours(13), false),
        (now - Duration::days(8), now - Duration::minutes(1), false),
        (now - Duration::days(6), now - Duration::hours(11), true),
    ] {
        let id = mint_secret();
        let session = Session {
            tenant_id: user.tenant_id.clone(),
            user_id: user.id.clone(),
            created_at: began,
            last_seen_at: last_seen,
            csrf_hash: mint_secret().hash,
        };
        logins
            .start_session(&id.hash, &session)
            .await
            .expect("session");
        let cookie = format!("smscrm_session={}", id.plaintext);
        let (status, _) = as_browser(app, Method::GET, "/v1/me", &cookie, None, None).await;
        assert_eq!(
            status == 200,
            alive,
            "began {began}, last seen {last_seen}: {status}"
        );
    }

    // Signing out ends the session and clears both cookies.
    let response = browser()
        .post(format!("{}/v1/auth/logout", app.base))
        .header(COOKIE, &cookie)
        .header("X-CSRF-Token", &csrf)
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), 204);
    let cleared: Vec<&str> = response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert_eq!(cleared.len(), 2, "{cleared:?}");
    assert!(
        cleared.iter().all(|c| c.contains("Max-Age=0")),
        "{cleared:?}"
    );
    let (status, _) = as_browser(app, Method::GET, "/v1/me", &cookie, None, None).await;
    assert_eq!(status, 401);
}

async fn readers_change_nothing_and_only_admins_run_the_tenant(app: &TestApp) {
    let (me, owner) = owner(app).await;
    let users = Users::new(app.ctx.table.clone());
    for (email, role) in [
        ("vera@example.com", Role::Viewer),
        ("max@example.com", Role::Member),
    ] {
        let user = User::new(
            owner.tenant_id.clone(),
            Email::parse(email).expect("email"),
            role,
            Utc::now(),
        );
        users.create(&user).await.expect("user");
    }
    let contact = || Some(json!({"phone": "+14155550123", "first_name": "Sam"}));
    let pause = || Some(json!({"reason": "testing"}));

    let (viewer, viewer_csrf) = signed_in_as(app, "vera@example.com").await;
    let (status, _) = as_browser(app, Method::GET, "/v1/tenant", &viewer, None, None).await;
    assert_eq!(status, 200);
    let (status, _) = as_browser(app, Method::GET, "/v1/audit", &viewer, None, None).await;
    assert_eq!(status, 403, "the audit log names people: for admins");
    let (status, refused) = as_browser(
        app,
        Method::POST,
        "/v1/contacts",
        &viewer,
        Some(&viewer_csrf),
        contact(),
    )
    .await;
    assert_eq!(
        (status, &refused["error"]["code"]),
        (403, &json!("forbidden_role")),
        "{refused}"
    );

    let (member, member_csrf) = signed_in_as(app, "max@example.com").await;
    let (status, created) = as_browser(
        app,
        Method::POST,
        "/v1/contacts",
        &member,
        Some(&member_csrf),
        contact(),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    for (method, path, body) in [
        (Method::POST, "/v1/tenant/pause", pause()),
        (Method::PATCH, "/v1/tenant", Some(json!({"name": "Mine"}))),
    ] {
        let (status, refused) =
            as_browser(app, method, path, &member, Some(&member_csrf), body).await;
        assert_eq!(status, 403, "{path}: {refused}");
    }

    let (owner_cookie, owner_csrf) = signed_in(app).await;
    let (status, paused) = as_browser(
        app,
        Method::POST,
        "/v1/tenant/pause",
        &owner_cookie,
        Some(&owner_csrf),
        pause(),
    )
    .await;
    assert_eq!(status, 200, "{paused}");
    assert_eq!(paused["pause"]["by"], format!("user:{ADA}"));
    let (_, tenant) = send(app.request(Method::GET, "/v1/tenant", &me)).await;
    assert_eq!(tenant["paused"], true);

    // Anyone may sign out.
    let response = browser()
        .post(format!("{}/v1/auth/logout", app.base))
        .header(COOKIE, &viewer)
        .header("X-CSRF-Token", &viewer_csrf)
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), 204);
}

async fn a_client_past_its_limit_spends_no_addresss_allowance(app: &TestApp) {
    at_the_start_of_a_limit_window(app);
    owner(app).await;
    let mut statuses = Vec::new();
    for n in 0..21 {
        let email = format!("probe{n}@example.com");
        statuses.push(ask_for_link_from(app, &email, Some("198.51.100.7")).await.0);
    }
    assert_eq!(statuses.iter().filter(|&&s| s == 202).count(), 20);
    assert_eq!(statuses.last(), Some(&429));
    // Past its limit, the client asks for Ada again and again: refused, and not counted
    // against Ada, who still gets her five from anywhere else.
    for _ in 0..10 {
        assert_eq!(
            ask_for_link_from(app, ADA, Some("198.51.100.7")).await.0,
            429
        );
    }
    let mut ada = Vec::new();
    for _ in 0..6 {
        ada.push(ask_for_link_from(app, ADA, Some("192.0.2.44")).await.0);
    }
    assert_eq!(ada, [202, 202, 202, 202, 202, 429]);
}

async fn owners_and_admins_manage_people_and_the_last_owner_stays(app: &TestApp) {
    let (me, ada) = owner(app).await;
    let (status, refused) = send(app.request(Method::GET, "/v1/api-keys", &me)).await;
    assert_eq!(
        (status, &refused["error"]["code"]),
        (403, &json!("forbidden_scope")),
        "no key, however broad, manages who acts for the tenant"
    );
    let (ada_cookie, ada_csrf) = signed_in(app).await;
    let api = |method: Method, path: &str, body: Option<Value>| {
        let (cookie, csrf, path) = (ada_cookie.clone(), ada_csrf.clone(), path.to_owned());
        async move { as_browser(app, method, &path, &cookie, Some(&csrf), body).await }
    };
    let (status, bob) = api(
        Method::POST,
        "/v1/users",
        Some(json!({"email": "Bob@Example.com", "role": "admin"})),
    )
    .await;
    assert_eq!(status, 201, "{bob}");
    assert_eq!(bob["email"], "bob@example.com");
    let (status, _) = api(
        Method::POST,
        "/v1/users",
        Some(json!({"email": "bob@example.com", "role": "viewer"})),
    )
    .await;
    assert_eq!(status, 409, "one user per address");
    let (status, refused) = api(
        Method::POST,
        "/v1/users",
        Some(json!({"email": "x@example.com", "role": "root"})),
    )
    .await;
    assert_eq!(status, 422, "{refused}");

    // The invitation's link signs Bob in.
    let invitation = app.mail.sent().into_iter().last().expect("an invitation");
    assert_eq!(invitation.to.as_str(), "bob@example.com");
    assert!(invitation.subject.contains("invited"), "{invitation:?}");
    let (bob_cookie, bob_csrf) = {
        let token = token_in_last_email(app, "bob@example.com");
        let (status, cookies) = use_token(app, &token).await;
        assert_eq!(status, 303);
        (
            format!(
                "smscrm_session={}; smscrm_csrf={}",
                value_of(&cookies, "smscrm_session"),
                value_of(&cookies, "smscrm_csrf")
            ),
            value_of(&cookies, "smscrm_csrf"),
        )
    };
    let as_bob = |method: Method, path: String, body: Option<Value>| {
        let (cookie, csrf) = (bob_cookie.clone(), bob_csrf.clone());
        async move { as_browser(app, method, &path, &cookie, Some(&csrf), body).await }
    };
    let (status, who) = as_bob(Method::GET, "/v1/me".into(), None).await;
    assert_eq!((status, &who["role"]), (200, &json!("admin")));

    // An admin manages people, but not owners.
    let (status, refused) = as_bob(
        Method::POST,
        "/v1/users".into(),
        Some(json!({"email": "carol@example.com", "role": "owner"})),
    )
    .await;
    assert_eq!(
        (status, &refused["error"]["code"]),
        (403, &json!("forbidden_role"))
    );
    let (status, carol) = as_bob(
        Method::POST,
        "/v1/users".into(),
        Some(json!({"email": "carol@example.com", "role": "member"})),
    )
    .await;
    assert_eq!(status, 201, "{carol}");
    let ada_path = format!("/v1/users/{}", ada.id);
    let (status, _) = as_bob(
        Method::PATCH,
        ada_path.clone(),
        Some(json!({"role": "viewer"})),
    )
    .await;
    assert_eq!(status, 403);

    // The last owner stays one, and stays.
    let (status, refused) = api(Method::PATCH, &ada_path, Some(json!({"role": "admin"}))).await;
    assert_eq!(
        (status, &refused["error"]["code"]),
        (409, &json!("last_owner")),
        "{refused}"
    );
    let (status, _) = api(Method::DELETE, &ada_path, None).await;
    assert_eq!(status, 409);
    let bob_path = format!("/v1/users/{}", bob["id"].as_str().expect("id"));
    let (status, _) = api(Method::PATCH, &bob_path, Some(json!({"role": "owner"}))).await;
    assert_eq!(status, 200);
    let (status, demoted) = api(Method::PATCH, &ada_path, Some(json!({"role": "admin"}))).await;
    assert_eq!(
        (status, &demoted["role"]),
        (200, &json!("admin")),
        "{demoted}"
    );
    let (status, _) = api(Method::DELETE, &bob_path, None).await;
    assert_eq!(status, 403, "Ada is an admin now");
    let (status, _) = as_bob(Method::DELETE, bob_path.clone(), None).await;
    assert_eq!(status, 409, "Bob is the last owner now");

    // Everyone reads the list; removing someone ends their access at once.
    let (status, listed) = api(Method::GET, "/v1/users", None).await;
    assert_eq!(status, 200);
    let roles: Vec<(&str, &str)> = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|u| {
            (
                u["email"].as_str().unwrap_or(""),
                u["role"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(roles.len(), 3, "{listed}");
    assert!(roles.contains(&("ada@example.com", "admin")));
    assert!(roles.contains(&("bob@example.com", "owner")));
    let carol_path = format!("/v1/users/{}", carol["id"].as_str().expect("id"));
    let (status, _) = as_bob(Method::DELETE, carol_path, None).await;
    assert_eq!(status, 204);
    let (_, listed) = api(Method::GET, "/v1/users", None).await;
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(2));

    let (_, audit) = api(Method::GET, "/v1/audit", None).await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    for action in [
        "user.invited",
        "user.role_changed",
        "user.removed",
        "user.signed_in",
    ] {
        assert!(actions.contains(&action), "{action} not in {actions:?}");
    }
}
