//! Who may call what, over real HTTP: every authenticated route, called by each role signed in
//! and by API keys of each scope. The expectations are written here from the rules people are
//! told (viewers read, members run campaigns, owners and admins run the tenant; a key does
//! what its scopes say, and no key manages people or keys), not copied from the server's
//! table; the test also fails if the server's table and this one list different routes.

use crate::support;

use std::collections::BTreeSet;

use chrono::Utc;
use reqwest::Method;
use serde_json::{Value, json};
use smscrm_domain::TenantId;
use smscrm_domain::apikey::Scope;
use smscrm_domain::user::Role;
use support::{Browser, Caller, TestApp, send};

on_both_backends!(every_route_admits_exactly_the_roles_and_scopes_it_should);

/// Who a route is for, in the words of the docs.
#[derive(Debug, Clone, Copy)]
enum Rule {
    /// Anyone of the tenant (who am I).
    Anyone,
    /// Every role; keys with `read`.
    Readers,
    /// Owners, admins, members; keys with `write`.
    Writers,
    /// Owners, admins, members; keys with `send`.
    Senders,
    /// Owners and admins; keys with `admin`.
    Admins,
    /// Owners and admins, signed in; no key.
    PeopleManagers,
}

const EXPECTED: &[(&str, &str, Rule)] = &[
    ("GET", "/v1/me", Rule::Anyone),
    ("GET", "/v1/contacts", Rule::Readers),
    ("POST", "/v1/contacts", Rule::Writers),
    ("GET", "/v1/contacts/{id}", Rule::Readers),
    ("PATCH", "/v1/contacts/{id}", Rule::Writers),
    ("DELETE", "/v1/contacts/{id}", Rule::Writers),
    ("GET", "/v1/contacts/{id}/export", Rule::Readers),
    ("GET", "/v1/imports", Rule::Readers),
    ("POST", "/v1/imports", Rule::Writers),
    ("GET", "/v1/imports/{id}", Rule::Readers),
    ("PATCH", "/v1/imports/{id}", Rule::Writers),
    ("PUT", "/v1/imports/{id}/file", Rule::Writers),
    ("POST", "/v1/imports/{id}/dry-run", Rule::Writers),
    ("POST", "/v1/imports/{id}/commit", Rule::Writers),
    ("GET", "/v1/imports/{id}/errors.csv", Rule::Readers),
    ("GET", "/v1/templates", Rule::Readers),
    ("POST", "/v1/templates", Rule::Writers),
    ("POST", "/v1/templates/preview", Rule::Readers),
    ("GET", "/v1/templates/{id}", Rule::Readers),
    ("PATCH", "/v1/templates/{id}", Rule::Writers),
    ("DELETE", "/v1/templates/{id}", Rule::Writers),
    ("GET", "/v1/campaigns", Rule::Readers),
    ("POST", "/v1/campaigns", Rule::Writers),
    ("GET", "/v1/campaigns/{id}", Rule::Readers),
    ("PATCH", "/v1/campaigns/{id}", Rule::Writers),
    ("POST", "/v1/campaigns/{id}/launch", Rule::Senders),
    ("POST", "/v1/campaigns/{id}/pause", Rule::Senders),
    ("POST", "/v1/campaigns/{id}/resume", Rule::Senders),
    ("POST", "/v1/campaigns/{id}/cancel", Rule::Senders),
    ("POST", "/v1/campaigns/{id}/estimate", Rule::Readers),
    ("GET", "/v1/campaigns/{id}/messages", Rule::Readers),
    ("GET", "/v1/inbox", Rule::Readers),
    ("GET", "/v1/inbox/{phone}", Rule::Readers),
    ("GET", "/v1/tenant", Rule::Readers),
    ("PATCH", "/v1/tenant", Rule::Admins),
    ("PUT", "/v1/tenant/twilio", Rule::Admins),
    ("POST", "/v1/tenant/pause", Rule::Admins),
    ("POST", "/v1/tenant/resume", Rule::Admins),
    ("GET", "/v1/audit", Rule::Admins),
    ("GET", "/v1/api-keys", Rule::PeopleManagers),
    ("POST", "/v1/api-keys", Rule::PeopleManagers),
    ("DELETE", "/v1/api-keys/{id}", Rule::PeopleManagers),
    ("GET", "/v1/users", Rule::Readers),
    ("POST", "/v1/users", Rule::PeopleManagers),
    ("PATCH", "/v1/users/{id}", Rule::PeopleManagers),
    ("DELETE", "/v1/users/{id}", Rule::PeopleManagers),
];

#[derive(Debug, Clone, Copy)]
enum Who {
    Person(Role),
    Key(Scope),
}

impl Rule {
    fn admits(self, who: Who) -> bool {
        use Role::*;
        match (self, who) {
            (Rule::Anyone, _) => true,
            (Rule::Readers, Who::Person(_)) => true,
            (Rule::Writers | Rule::Senders, Who::Person(role)) => role != Viewer,
            (Rule::Admins | Rule::PeopleManagers, Who::Person(role)) => {
                matches!(role, Owner | Admin)
            }
            (Rule::Readers, Who::Key(scope)) => scope == Scope::Read,
            (Rule::Writers, Who::Key(scope)) => scope == Scope::Write,
            (Rule::Senders, Who::Key(scope)) => scope == Scope::Send,
            (Rule::Admins, Who::Key(scope)) => scope == Scope::Admin,
            (Rule::PeopleManagers, Who::Key(_)) => false,
        }
    }
}

/// How a caller authenticates: a bearer key, or a session cookie with its CSRF token.
enum Credentials {
    Key(Caller),
    Session(Browser),
}

async fn key(app: &TestApp, me: &Caller, scope: Scope) -> Credentials {
    let tenant: TenantId = me.tenant_id.parse().expect("id");
    let minted = app
        .ctx
        .api_keys
        .create(&tenant, scope.as_str(), vec![scope], Utc::now())
        .await
        .expect("key");
    Credentials::Key(Caller {
        tenant_id: me.tenant_id.clone(),
        key: minted.plaintext,
    })
}

/// The route with its placeholders filled with ids that name nothing: the access check comes
/// first, so an admitted caller gets a 404 or a 4xx about the body, never a 403.
fn concrete(path: &str) -> String {
    path.replace("{id}", "nothing_here")
        .replace("{phone}", "+14155550100")
}

async fn call(app: &TestApp, method: &str, path: &str, who: &Credentials) -> (u16, Value) {
    let method: Method = method.parse().expect("method");
    let mut request = match who {
        Credentials::Key(caller) => app.request(method.clone(), path, caller),
        Credentials::Session(person) => app.as_person(method.clone(), path, person),
    };
    if method != Method::GET && method != Method::DELETE {
        request = request.json(&json!({}));
    }
    let response = request.send().await.expect("answer");
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn every_route_admits_exactly_the_roles_and_scopes_it_should(app: &TestApp) {
    let server_routes: BTreeSet<(&str, &str)> = smscrm_http::access::ROUTES
        .iter()
        .map(|(m, p, _)| (*m, *p))
        .collect();
    let tested: BTreeSet<(&str, &str)> = EXPECTED.iter().map(|(m, p, _)| (*m, *p)).collect();
    assert_eq!(
        server_routes, tested,
        "the access table and this test list the same routes"
    );

    let me = app.tenant("Bakery").await;
    let mut callers = Vec::new();
    for role in [Role::Owner, Role::Admin, Role::Member, Role::Viewer] {
        let email = format!("{role:?}@example.com").to_lowercase();
        let person = app.signed_in(&me, &email, role).await;
        callers.push((Who::Person(role), Credentials::Session(person)));
    }
    for scope in Scope::ALL {
        callers.push((Who::Key(scope), key(app, &me, scope).await));
    }

    let mut wrong = Vec::new();
    for (method, route, rule) in EXPECTED {
        let path = concrete(route);
        for (who, credentials) in &callers {
            let (status, body) = call(app, method, &path, credentials).await;
            let code = body["error"]["code"].as_str().unwrap_or("");
            let refused = status == 403 && code.starts_with("forbidden_");
            // Let in: the handler ran, and answered about the request itself (a 404 for an
            // id that names nothing, a 400 or 422 for the empty body), or did what it does.
            let no_such_route = body["error"]["message"] == "route not found";
            let admitted =
                matches!(status, 200..=299 | 400 | 404 | 409 | 422) && !no_such_route && !refused;
            let right = if rule.admits(*who) {
                admitted
            } else {
                refused && code != "forbidden_route"
            };
            if !right {
                wrong.push(format!("{method} {route} by {who:?}: {status} {body}"));
            }
        }
    }
    // Nobody, nothing.
    for (method, route, _) in EXPECTED {
        let method: Method = method.parse().expect("method");
        let (status, _) = send(app.anonymous(method.clone(), &concrete(route))).await;
        if status != 401 {
            wrong.push(format!("{method} {route} by no one: {status}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong answers:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// The routes API Gateway sends on (template.yaml's `HttpApi` events), as (method, path).
fn deployed_routes() -> BTreeSet<(String, String)> {
    let template =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml"))
            .expect("template.yaml");
    template
        .lines()
        .filter_map(|line| {
            let rest = line.split_once("ApiId: !Ref Api, Method: ")?.1;
            let (method, rest) = rest.split_once(", Path: ")?;
            let path = rest.trim().trim_end_matches('}').trim().trim_matches('"');
            Some((method.to_owned(), path.to_owned()))
        })
        .collect()
}

/// Every route deployed under /v1 is in the access table, or public on purpose; every route in
/// the table is deployed, or local on purpose. A route left out of the table would be refused
/// to everyone; one left out of the template would not exist on AWS.
#[test]
fn the_access_table_covers_every_deployed_route() {
    const PUBLIC: &[(&str, &str)] = &[
        ("POST", "/v1/auth/magic-link"),
        ("GET", "/v1/auth/verify"),
        ("POST", "/v1/auth/session"),
        ("POST", "/v1/auth/logout"),
    ];
    // The local host's upload target; on AWS files go to S3 by a presigned URL.
    const LOCAL_ONLY: &[(&str, &str)] = &[("PUT", "/v1/imports/{id}/file")];
    let deployed = deployed_routes();
    assert!(deployed.len() > 40, "{deployed:?}");
    let named = |list: &[(&str, &str)]| -> BTreeSet<(String, String)> {
        list.iter()
            .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
            .collect()
    };
    let table = named(
        &smscrm_http::access::ROUTES
            .iter()
            .map(|(m, p, _)| (*m, *p))
            .collect::<Vec<_>>(),
    );
    let public = named(PUBLIC);
    let local = named(LOCAL_ONLY);
    let unlisted: Vec<_> = deployed
        .iter()
        .filter(|r| r.1.starts_with("/v1/") && !table.contains(*r) && !public.contains(*r))
        .collect();
    assert!(
        unlisted.is_empty(),
        "deployed, not in the access table: {unlisted:?}"
    );
    let undeployed: Vec<_> = table
        .iter()
        .chain(&public)
        .filter(|r| !deployed.contains(*r) && !local.contains(*r))
        .collect();
    assert!(
        undeployed.is_empty(),
        "not in template.yaml: {undeployed:?}"
    );
}
