//! Who may call which route: the whole policy in one table, checked by the [`Principal`]
//! extractor for every authenticated route before its handler runs. A person's role and an
//! API key's scopes are both checked against the permission the route needs.
//!
//! A route that authenticates but is missing here is refused to everyone (and logged), so a
//! new route cannot be open by omission. Rules that depend on the data (only owners make
//! owners) stay in their handlers.
//!
//! [`Principal`]: crate::Principal

use axum::http::Method;
use smscrm_domain::user::Permission;

/// What a route asks of its caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Any signed-in person or valid key of the tenant (who am I).
    AnyCaller,
    Needs(Permission),
}

use Access::{AnyCaller, Needs};
use Permission::{Administer, ManageAccess, Read, Send, Write};

/// Every authenticated route: method, path as the router writes it, what it needs.
pub const ROUTES: &[(&str, &str, Access)] = &[
    ("GET", "/v1/me", AnyCaller),
    // Contacts.
    ("GET", "/v1/contacts", Needs(Read)),
    ("POST", "/v1/contacts", Needs(Write)),
    ("GET", "/v1/contacts/{id}", Needs(Read)),
    ("PATCH", "/v1/contacts/{id}", Needs(Write)),
    ("DELETE", "/v1/contacts/{id}", Needs(Write)),
    ("GET", "/v1/contacts/{id}/export", Needs(Read)),
    // Imports.
    ("GET", "/v1/imports", Needs(Read)),
    ("POST", "/v1/imports", Needs(Write)),
    ("GET", "/v1/imports/{id}", Needs(Read)),
    ("PATCH", "/v1/imports/{id}", Needs(Write)),
    ("PUT", "/v1/imports/{id}/file", Needs(Write)),
    ("POST", "/v1/imports/{id}/dry-run", Needs(Write)),
    ("POST", "/v1/imports/{id}/commit", Needs(Write)),
    ("GET", "/v1/imports/{id}/errors.csv", Needs(Read)),
    // Templates. A preview changes nothing.
    ("GET", "/v1/templates", Needs(Read)),
    ("POST", "/v1/templates", Needs(Write)),
    ("POST", "/v1/templates/preview", Needs(Read)),
    ("GET", "/v1/templates/{id}", Needs(Read)),
    ("PATCH", "/v1/templates/{id}", Needs(Write)),
    ("DELETE", "/v1/templates/{id}", Needs(Write)),
    // Campaigns: drafting is writing; whatever starts or stops messages is sending.
    ("GET", "/v1/campaigns", Needs(Read)),
    ("POST", "/v1/campaigns", Needs(Write)),
    ("GET", "/v1/campaigns/{id}", Needs(Read)),
    ("PATCH", "/v1/campaigns/{id}", Needs(Write)),
    ("POST", "/v1/campaigns/{id}/launch", Needs(Send)),
    ("POST", "/v1/campaigns/{id}/pause", Needs(Send)),
    ("POST", "/v1/campaigns/{id}/resume", Needs(Send)),
    ("POST", "/v1/campaigns/{id}/cancel", Needs(Send)),
    ("POST", "/v1/campaigns/{id}/estimate", Needs(Read)),
    ("GET", "/v1/campaigns/{id}/messages", Needs(Read)),
    // Replies.
    ("GET", "/v1/inbox", Needs(Read)),
    ("GET", "/v1/inbox/{phone}", Needs(Read)),
    // The tenant: settings, money, credentials, the kill switch and the audit log.
    ("GET", "/v1/tenant", Needs(Read)),
    ("PATCH", "/v1/tenant", Needs(Administer)),
    ("PUT", "/v1/tenant/twilio", Needs(Administer)),
    ("POST", "/v1/tenant/pause", Needs(Administer)),
    ("POST", "/v1/tenant/resume", Needs(Administer)),
    ("GET", "/v1/audit", Needs(Administer)),
    // Who may act for the tenant.
    ("GET", "/v1/api-keys", Needs(ManageAccess)),
    ("POST", "/v1/api-keys", Needs(ManageAccess)),
    ("DELETE", "/v1/api-keys/{id}", Needs(ManageAccess)),
    ("GET", "/v1/users", Needs(Read)),
    ("POST", "/v1/users", Needs(ManageAccess)),
    ("PATCH", "/v1/users/{id}", Needs(ManageAccess)),
    ("DELETE", "/v1/users/{id}", Needs(ManageAccess)),
];

/// What `method` on the route `path` (as matched, with `{placeholders}`) needs; `None` when
/// the route is not in the table. HEAD is answered by GET's handler, so it needs what GET does.
pub fn required(method: &Method, path: &str) -> Option<Access> {
    let method = if method == Method::HEAD {
        "GET"
    } else {
        method.as_str()
    };
    ROUTES
        .iter()
        .find(|(m, p, _)| *m == method && *p == path)
        .map(|(_, _, access)| *access)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_route_is_listed_once() {
        let mut seen = std::collections::HashSet::new();
        for (method, path, _) in ROUTES {
            assert!(seen.insert((method, path)), "{method} {path} twice");
            assert!(method.parse::<Method>().is_ok(), "{method}");
        }
        assert_eq!(required(&Method::HEAD, "/v1/contacts"), Some(Needs(Read)));
        assert_eq!(required(&Method::POST, "/v1/nowhere"), None);
    }
}
