//! Sessions: started from a magic link's token, kept in a cookie, ended by sign-out.

use axum::Json;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::header::{LOCATION, ORIGIN, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use cookie::{Cookie, SameSite};
use serde::Deserialize;
use serde_json::json;
use smscrm_domain::user::{mint_secret, secret_hash};
use smscrm_http::auth::{CSRF_COOKIE, SESSION_COOKIE};
use smscrm_http::{ApiError, ApiQuery, Caller, ClientIp, Principal};
use smscrm_store::login::SESSION_MAX;
use smscrm_store::{Actor, AuditEntry, AuditLog, Logins, Session, Users};

use crate::AuthState;

#[derive(Debug, Deserialize)]
pub struct TokenParam {
    token: String,
}

fn invalid_link() -> ApiError {
    ApiError::BadRequest {
        code: "invalid_link",
        message: "this sign-in link is invalid, used or expired: ask for a new one".into(),
    }
}

/// The page a link opens: one button, so only a person (not a mail scanner) uses the token.
pub async fn confirm_page(ApiQuery(param): ApiQuery<TokenParam>) -> Result<Response, ApiError> {
    // Checked for shape only; escaping is moot for a token of [A-Za-z0-9_-].
    secret_hash(&param.token).ok_or_else(invalid_link)?;
    // `session` is relative: the page works under a path prefix too.
    let page = Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign in</title>\
         </head><body><form method=\"post\" action=\"session\">\
         <input type=\"hidden\" name=\"token\" value=\"{}\">\
         <button type=\"submit\">Sign in to smscrm</button></form></body></html>",
        param.token
    ));
    // Never inside another site's frame (a click there would sign the person in).
    let headers = [
        ("content-security-policy", "frame-ancestors 'none'"),
        ("x-frame-options", "DENY"),
        ("referrer-policy", "no-referrer"),
    ];
    Ok((headers, page).into_response())
}

/// Refuses a sign-in posted from another site: an attacker's page could otherwise sign a
/// visitor into the attacker's account with a link of its own (login CSRF).
fn same_site_only(state: &AuthState, headers: &HeaderMap) -> Result<(), ApiError> {
    let cross_site = || ApiError::Forbidden {
        code: "cross_site",
        message: "sign in from the link's own page".into(),
    };
    let fetch_site = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok());
    if fetch_site.is_some_and(|site| site == "cross-site" || site == "same-site") {
        return Err(cross_site());
    }
    let Some(origin) = headers.get(ORIGIN).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let ours = state.link_base(headers)?;
    let ours = ours
        .split_once("://")
        .map(|(scheme, rest)| format!("{scheme}://{}", rest.split('/').next().unwrap_or(rest)))
        .unwrap_or(ours);
    if !origin.eq_ignore_ascii_case(&ours) {
        return Err(cross_site());
    }
    Ok(())
}

fn cookie_header(state: &AuthState, name: &str, value: &str, http_only: bool) -> HeaderValue {
    let max_age = cookie::time::Duration::seconds(if value.is_empty() {
        0
    } else {
        SESSION_MAX.num_seconds()
    });
    let name = smscrm_http::auth::cookie_name(name, state.secure_cookies());
    let cookie = Cookie::build((name, value))
        .path("/")
        .http_only(http_only)
        .secure(state.secure_cookies())
        .same_site(SameSite::Lax)
        .max_age(max_age)
        .build();
    HeaderValue::from_str(&cookie.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

pub async fn start(
    State(state): State<AuthState>,
    ClientIp(client): ClientIp,
    request_headers: HeaderMap,
    form: Result<Form<TokenParam>, FormRejection>,
) -> Result<Response, ApiError> {
    same_site_only(&state, &request_headers)?;
    let Form(param) = form.map_err(|rejection| ApiError::BadRequest {
        code: "invalid_form",
        message: format!("post the link's token as the form field `token` ({rejection})"),
    })?;
    let hash = secret_hash(&param.token).ok_or_else(invalid_link)?;
    let logins = Logins::new(state.app.table.clone());
    let now = state.app.clock.now();
    let token = logins.consume(&hash, now).await?.ok_or_else(invalid_link)?;
    let users = Users::new(state.app.table.clone());
    let user = users
        .get(&token.tenant_id, &token.user_id)
        .await?
        .ok_or_else(invalid_link)?;
    let (session_id, csrf) = (mint_secret(), mint_secret());
    let session = Session {
        tenant_id: user.tenant_id.clone(),
        user_id: user.id.clone(),
        created_at: now,
        last_seen_at: now,
        csrf_hash: csrf.hash,
    };
    logins.start_session(&session_id.hash, &session).await?;
    // The session exists: what follows is record-keeping, and must not cost the person the
    // link they just used.
    if let Err(error) = users.record_login(&user.tenant_id, &user.id, now).await {
        tracing::warn!(%error, "the sign-in time was not recorded");
    }
    let actor = Actor::User {
        user_id: user.id.to_string(),
        email: user.email.to_string(),
    };
    let entry = AuditEntry::new(
        now,
        actor,
        "user.signed_in",
        format!("user:{}", user.id),
        json!({}),
    )
    .from_ip(client);
    let audit = AuditLog::new(state.app.table.clone());
    if let Err(error) = audit.append(&user.tenant_id, &entry).await {
        tracing::error!(%error, user_id = %user.id, "a sign-in was not audited");
    }
    let mut headers = HeaderMap::new();
    headers.append(
        SET_COOKIE,
        cookie_header(&state, SESSION_COOKIE, &session_id.plaintext, true),
    );
    headers.append(
        SET_COOKIE,
        cookie_header(&state, CSRF_COOKIE, &csrf.plaintext, false),
    );
    let home = match &state.public_base_url {
        Some(base) => format!("{}/", base.trim_end_matches('/')),
        None => "/".to_owned(),
    };
    headers.insert(
        LOCATION,
        HeaderValue::from_str(&home).unwrap_or_else(|_| HeaderValue::from_static("/")),
    );
    Ok((StatusCode::SEE_OTHER, headers).into_response())
}

/// Signing out is open to every role (so not behind `Principal`'s rule that readers change
/// nothing), but, as a change, it needs the CSRF token too.
pub async fn logout(
    State(state): State<AuthState>,
    parts: axum::http::request::Parts,
) -> Result<Response, ApiError> {
    let headers = &parts.headers;
    let session_hash = smscrm_http::auth::presented_session(&parts)
        .and_then(|id| secret_hash(&id))
        .ok_or(ApiError::Unauthorized)?;
    let logins = Logins::new(state.app.table.clone());
    let session = logins
        .session(&session_hash, state.app.clock.now())
        .await?
        .ok_or(ApiError::Unauthorized)?;
    smscrm_http::auth::check_csrf(headers, &session)?;
    logins.end_session(&session_hash).await?;
    let mut headers = HeaderMap::new();
    headers.append(SET_COOKIE, cookie_header(&state, SESSION_COOKIE, "", true));
    headers.append(SET_COOKIE, cookie_header(&state, CSRF_COOKIE, "", false));
    Ok((StatusCode::NO_CONTENT, headers).into_response())
}

pub async fn me(principal: Principal) -> Json<serde_json::Value> {
    let tenant = json!({ "id": principal.tenant.id, "name": principal.tenant.name });
    let body = match principal.caller {
        Caller::User {
            user_id,
            email,
            role,
            ..
        } => json!({
            "kind": "user", "user_id": user_id, "email": email, "role": role, "tenant": tenant,
        }),
        Caller::ApiKey { key_id, scopes } => json!({
            "kind": "api_key", "api_key_id": key_id, "scopes": scopes, "tenant": tenant,
        }),
    };
    Json(body)
}
