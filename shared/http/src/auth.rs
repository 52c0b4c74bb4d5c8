//! Who is calling: a tenant's system by `Authorization: Bearer <api key>`, or one of its people
//! by the session cookie a magic link set. The tenant comes from the key or the session and
//! nowhere else.
//!
//! A request authenticated by the cookie that changes anything (any method but GET, HEAD and
//! OPTIONS) must also carry the session's CSRF token in `X-CSRF-Token` (the page reads it from
//! the `smscrm_csrf` cookie, which another site cannot); API keys are exempt, as no browser
//! sends them on its own.
//!
//! Once the caller is known, the route's entry in [`crate::access::ROUTES`] decides whether
//! its role or its key's scopes let it in.

use axum::extract::{FromRef, FromRequestParts, MatchedPath};
use axum::http::header::{AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use smscrm_domain::apikey::Scope;
use smscrm_domain::user::{Email, Permission, Role, secret_hash};
use smscrm_domain::{ApiKeyId, Tenant, UserId};
use smscrm_store::{Actor, AuditEntry, AuditLog, Logins, Session, Users};

use crate::access::{self, Access};
use crate::{ApiError, AppContext, ClientIp};

pub const SESSION_COOKIE: &str = "smscrm_session";
pub const CSRF_COOKIE: &str = "smscrm_csrf";
/// Over HTTPS both cookies are named with this prefix: a browser then accepts them only from
/// this very host, over HTTPS, for every path, so no sibling subdomain can plant a session.
pub const HOST_PREFIX: &str = "__Host-";

/// A cookie's name as it is set: with the `__Host-` prefix when it is `Secure` (the prefix
/// requires it), plain on plain-HTTP localhost.
pub fn cookie_name(name: &str, secure: bool) -> String {
    if secure {
        format!("{HOST_PREFIX}{name}")
    } else {
        name.to_owned()
    }
}

/// The session id a request presents. Behind API Gateway (always HTTPS) only the `__Host-`
/// cookie counts; the local host also takes the plain one, which plain HTTP sets.
pub fn presented_session(parts: &Parts) -> Option<String> {
    let on_gateway = parts
        .extensions
        .get::<lambda_http::request::RequestContext>()
        .is_some();
    cookie(&parts.headers, &cookie_name(SESSION_COOKIE, true)).or_else(|| {
        (!on_gateway)
            .then(|| cookie(&parts.headers, SESSION_COOKIE))
            .flatten()
    })
}
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub tenant: Tenant,
    pub caller: Caller,
    /// Where the request came from, for the audit log.
    pub client_ip: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    ApiKey {
        key_id: ApiKeyId,
        scopes: Vec<Scope>,
    },
    User {
        user_id: UserId,
        email: Email,
        role: Role,
        /// Hash of the session id, so logout can end exactly this session.
        session_hash: String,
    },
}

impl Principal {
    /// Appends to the caller's tenant's audit log what it did to `target`, naming the caller
    /// and the address it called from. Called once the change is made, which a failed write
    /// here cannot undo: so it never fails the request, and a lost entry is logged as an
    /// error (with everything it would have said) for the operators' alarms.
    pub async fn audit(
        &self,
        ctx: &AppContext,
        action: &str,
        target: String,
        details: serde_json::Value,
    ) {
        let entry = AuditEntry::new(ctx.clock.now(), self.actor(), action, target, details)
            .from_ip(&self.client_ip);
        let appended = AuditLog::new(ctx.table.clone())
            .append(&self.tenant.id, &entry)
            .await;
        if let Err(error) = appended {
            tracing::error!(
                %error,
                tenant_id = %self.tenant.id,
                entry = %serde_json::to_string(&entry).unwrap_or_default(),
                "an audit entry was not written"
            );
        }
    }

    /// The caller as the audit log names it.
    pub fn actor(&self) -> Actor {
        match &self.caller {
            Caller::ApiKey { key_id, .. } => Actor::ApiKey {
                key_id: key_id.to_string(),
            },
            Caller::User { user_id, email, .. } => Actor::User {
                user_id: user_id.to_string(),
                email: email.to_string(),
            },
        }
    }

    /// Refuses the caller unless its role, or its key's scopes, allow `permission`.
    pub fn require(&self, permission: Permission) -> Result<(), ApiError> {
        match &self.caller {
            Caller::User { role, .. } if !role.allows(permission) => Err(ApiError::Forbidden {
                code: "forbidden_role",
                message: format!("a {} cannot do this", role_name(*role)),
            }),
            Caller::User { .. } => Ok(()),
            Caller::ApiKey { scopes, .. } => match Scope::needed_for(permission) {
                Some(scope) if scopes.contains(&scope) => Ok(()),
                Some(scope) => Err(ApiError::Forbidden {
                    code: "forbidden_scope",
                    message: format!("this API key lacks the {} scope", scope.as_str()),
                }),
                None => Err(ApiError::Forbidden {
                    code: "forbidden_scope",
                    message: "no API key manages people or keys; an owner or admin does this \
                              signed in"
                        .into(),
                }),
            },
        }
    }

    /// Applies the access table's entry for the route this request matched.
    fn admit(&self, parts: &Parts) -> Result<(), ApiError> {
        let route = parts
            .extensions
            .get::<MatchedPath>()
            .map(MatchedPath::as_str);
        match route.and_then(|path| access::required(&parts.method, path)) {
            Some(Access::AnyCaller) => Ok(()),
            Some(Access::Needs(permission)) => self.require(permission),
            None => {
                tracing::error!(?route, method = %parts.method, "an authenticated route is missing from the access table");
                Err(ApiError::Forbidden {
                    code: "forbidden_route",
                    message: "this route is not open to anyone yet".into(),
                })
            }
        }
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Owner => "owner",
        Role::Admin => "admin",
        Role::Member => "member",
        Role::Viewer => "viewer",
    }
}

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split_once(' ')
                .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        })
        .map(|(_, key)| key.trim())
}

impl<S> FromRequestParts<S> for Principal
where
    AppContext: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let ctx = AppContext::from_ref(state);
        let client_ip = ClientIp::of(parts).0;
        let principal = match bearer(&parts.headers) {
            Some(key) => by_api_key(&ctx, key, client_ip).await?,
            None => by_session(&ctx, parts, client_ip).await?,
        };
        tracing::Span::current().record("tenant_id", tracing::field::display(&principal.tenant.id));
        principal.admit(parts)?;
        Ok(principal)
    }
}

/// The request carries the session's CSRF token (a change made with the session cookie).
pub fn check_csrf(headers: &HeaderMap, session: &Session) -> Result<(), ApiError> {
    let presented = headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .and_then(secret_hash);
    if presented.as_deref() != Some(session.csrf_hash.as_str()) {
        return Err(ApiError::Forbidden {
            code: "csrf_failed",
            message: format!(
                "send the {CSRF_COOKIE} (or __Host-{CSRF_COOKIE}) cookie's value in the \
                 X-CSRF-Token header with every \
                 change"
            ),
        });
    }
    Ok(())
}

async fn by_api_key(
    ctx: &AppContext,
    presented: &str,
    client_ip: String,
) -> Result<Principal, ApiError> {
    let resolved = ctx
        .api_keys
        .resolve(presented, ctx.clock.now())
        .await?
        .ok_or(ApiError::Unauthorized)?;
    let tenant = ctx
        .tenants
        .get(&resolved.tenant_id)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    Ok(Principal {
        tenant,
        caller: Caller::ApiKey {
            key_id: resolved.key_id,
            scopes: resolved.scopes,
        },
        client_ip,
    })
}

async fn by_session(
    ctx: &AppContext,
    parts: &Parts,
    client_ip: String,
) -> Result<Principal, ApiError> {
    let session_hash = presented_session(parts)
        .and_then(|id| secret_hash(&id))
        .ok_or(ApiError::Unauthorized)?;
    let session = Logins::new(ctx.table.clone())
        .session(&session_hash, ctx.clock.now())
        .await?
        .ok_or(ApiError::Unauthorized)?;
    let changes = !matches!(parts.method, Method::GET | Method::HEAD | Method::OPTIONS);
    if changes {
        check_csrf(&parts.headers, &session)?;
    }
    let user = Users::new(ctx.table.clone())
        .get(&session.tenant_id, &session.user_id)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    let tenant = ctx
        .tenants
        .get(&session.tenant_id)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    Ok(Principal {
        tenant,
        caller: Caller::User {
            user_id: user.id,
            email: user.email,
            role: user.role,
            session_hash,
        },
        client_ip,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(cookies: &str, on_gateway: bool) -> Parts {
        let (mut parts, ()) = axum::http::Request::builder()
            .header(COOKIE, cookies)
            .body(())
            .expect("request")
            .into_parts();
        if on_gateway {
            parts
                .extensions
                .insert(lambda_http::request::RequestContext::ApiGatewayV2(
                    Default::default(),
                ));
        }
        parts
    }

    #[test]
    fn behind_the_gateway_only_the_host_only_cookie_is_a_session() {
        let plain = "smscrm_session=planted";
        let host_only = "__Host-smscrm_session=mine";
        assert_eq!(
            presented_session(&parts(plain, false)).as_deref(),
            Some("planted")
        );
        assert_eq!(presented_session(&parts(plain, true)), None);
        let both = format!("{plain}; {host_only}");
        assert_eq!(
            presented_session(&parts(&both, true)).as_deref(),
            Some("mine")
        );
        assert_eq!(
            presented_session(&parts(&both, false)).as_deref(),
            Some("mine")
        );
        assert_eq!(cookie_name(CSRF_COOKIE, true), "__Host-smscrm_csrf");
        assert_eq!(cookie_name(CSRF_COOKIE, false), "smscrm_csrf");
    }
}
