//! The tenant's people: `GET /v1/users`; `POST /v1/users {"email", "role"}` invites (an email
//! with a sign-in link good for 7 days); `PATCH /v1/users/{id} {"role"}`; `DELETE
//! /v1/users/{id}`. Owners and admins manage people; only owners make or unmake owners; the
//! last owner stays. A role change or a removal takes effect on the person's next request.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::Duration;
use serde::Deserialize;
use serde_json::{Value, json};
use smscrm_domain::UserId;
use smscrm_domain::ports::OutgoingEmail;
use smscrm_domain::user::{Email, Role, User, mint_secret};
use smscrm_http::{ApiError, ApiJson, ApiPath, Caller, Principal};
use smscrm_store::users::Refused;
use smscrm_store::{LoginToken, Logins, Users};

use crate::AuthState;

/// How long an invitation's link works.
const INVITE_VALID_FOR: Duration = Duration::days(7);

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Invite {
    email: String,
    role: Role,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    role: Role,
}

/// Owners are made and unmade by owners (and by the tenant's API keys, until keys have scopes).
fn may_touch_owners(principal: &Principal) -> Result<(), ApiError> {
    match &principal.caller {
        Caller::User {
            role: Role::Owner, ..
        } => Ok(()),
        _ => Err(ApiError::Forbidden {
            code: "forbidden_role",
            message: "only an owner makes or unmakes owners".into(),
        }),
    }
}

async fn audited(
    state: &AuthState,
    principal: &Principal,
    action: &str,
    user: &User,
    details: Value,
) {
    let target = format!("user:{}", user.id);
    principal.audit(&state.app, action, target, details).await;
}

pub async fn list(
    State(state): State<AuthState>,
    principal: Principal,
) -> Result<Json<Value>, ApiError> {
    let users = Users::new(state.app.table.clone())
        .list(&principal.tenant.id)
        .await?;
    Ok(Json(json!({ "items": users })))
}

pub async fn invite(
    State(state): State<AuthState>,
    principal: Principal,
    headers: HeaderMap,
    ApiJson(invite): ApiJson<Invite>,
) -> Result<(StatusCode, Json<User>), ApiError> {
    if invite.role == Role::Owner {
        may_touch_owners(&principal)?;
    }
    let email = Email::parse(&invite.email)?;
    let now = state.app.clock.now();
    let user = User::new(principal.tenant.id.clone(), email, invite.role, now);
    Users::new(state.app.table.clone()).create(&user).await?;
    audited(
        &state,
        &principal,
        "user.invited",
        &user,
        json!({ "email": user.email, "role": user.role }),
    )
    .await;
    let secret = mint_secret();
    let token = LoginToken {
        tenant_id: user.tenant_id.clone(),
        user_id: user.id.clone(),
        expires_at: now + INVITE_VALID_FOR,
    };
    Logins::new(state.app.table.clone())
        .issue(&secret.hash, &token)
        .await?;
    let link = format!(
        "{}/v1/auth/verify?token={}",
        state.link_base(&headers)?,
        secret.plaintext
    );
    let tenant = &principal.tenant.name;
    let email = OutgoingEmail {
        to: user.email.clone(),
        subject: format!("You are invited to {tenant} on smscrm"),
        text: format!(
            "You have been invited to {tenant} on smscrm. Sign in:\n\n{link}\n\nThe link works \
             once, for 7 days; after that, ask for a sign-in link with this address."
        ),
    };
    if let Err(error) = state.mailer.send(&email).await {
        // The person exists; they can still ask for a sign-in link themselves.
        tracing::error!(%error, user_id = %user.id, "invitation email not sent");
    }
    Ok((StatusCode::CREATED, Json(user)))
}

async fn target(state: &AuthState, principal: &Principal, id: &str) -> Result<User, ApiError> {
    let id: UserId = id.parse()?;
    Users::new(state.app.table.clone())
        .get(&principal.tenant.id, &id)
        .await?
        .ok_or(ApiError::NotFound("user"))
}

fn refused(refusal: Refused) -> ApiError {
    match refusal {
        Refused::LastOwner => ApiError::StateConflict {
            code: "last_owner",
            message: "a tenant keeps at least one owner: make someone else an owner first".into(),
            details: Value::Null,
        },
        Refused::Changed => ApiError::Conflict("the user changed meanwhile: read it again".into()),
    }
}

pub async fn change_role(
    State(state): State<AuthState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    ApiJson(change): ApiJson<RoleChange>,
) -> Result<Json<User>, ApiError> {
    let user = target(&state, &principal, &id).await?;
    if user.role == Role::Owner || change.role == Role::Owner {
        may_touch_owners(&principal)?;
    }
    if user.role == change.role {
        return Ok(Json(user));
    }
    let changed = Users::new(state.app.table.clone())
        .set_role(&user, change.role)
        .await?
        .map_err(refused)?;
    audited(
        &state,
        &principal,
        "user.role_changed",
        &user,
        json!({ "from": user.role, "to": change.role }),
    )
    .await;
    Ok(Json(changed))
}

pub async fn remove(
    State(state): State<AuthState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let user = target(&state, &principal, &id).await?;
    if user.role == Role::Owner {
        may_touch_owners(&principal)?;
    }
    Users::new(state.app.table.clone())
        .remove(&user)
        .await?
        .map_err(refused)?;
    audited(
        &state,
        &principal,
        "user.removed",
        &user,
        json!({ "email": user.email, "role": user.role }),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}
