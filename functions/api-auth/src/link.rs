//! `POST /v1/auth/magic-link`: a sign-in link by email, for each tenant the address belongs to.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chrono::Duration;
use serde::Deserialize;
use serde_json::{Value, json};
use smscrm_domain::ports::OutgoingEmail;
use smscrm_domain::user::{Email, mint_secret};
use smscrm_http::{ApiError, ApiJson, ClientIp};
use smscrm_store::login::LINK_VALID_FOR;
use smscrm_store::{LoginToken, Logins, Users};

use crate::AuthState;

const WINDOW: Duration = Duration::minutes(15);
const PER_EMAIL: i64 = 5;
const PER_CLIENT: i64 = 20;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    email: String,
}

/// The same answer for every address, known or not.
fn accepted() -> (StatusCode, Json<Value>) {
    (
        StatusCode::ACCEPTED,
        Json(json!({
            "status": "accepted",
            "message": "If this address belongs to a user, a sign-in link is on its way. It works once, for 15 minutes.",
        })),
    )
}

pub async fn request(
    State(state): State<AuthState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    ApiJson(request): ApiJson<LinkRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let email = Email::parse(&request.email)?;
    let base = state.link_base(&headers)?;
    let logins = Logins::new(state.app.table.clone());
    let now = state.app.clock.now();
    // Counted whether or not the address is known, so the limits reveal nothing either.
    // The client first: one past its limit spends no address's allowance (or one address
    // could lock out every other).
    for (scope, subject, limit) in [
        ("link_client", client.as_str(), PER_CLIENT),
        ("link_email", email.as_str(), PER_EMAIL),
    ] {
        let (count, ends) = logins.count_request(scope, subject, WINDOW, now).await?;
        if count > limit {
            let retry_after_secs = u64::try_from((ends - now).num_seconds().max(1)).unwrap_or(1);
            return Err(ApiError::TooManyRequests { retry_after_secs });
        }
    }
    let users = Users::new(state.app.table.clone());
    for membership in users.memberships(&email).await? {
        let secret = mint_secret();
        let token = LoginToken {
            tenant_id: membership.tenant_id.clone(),
            user_id: membership.user_id,
            expires_at: now + LINK_VALID_FOR,
        };
        logins.issue(&secret.hash, &token).await?;
        let tenant_name = state
            .app
            .tenants
            .get(&membership.tenant_id)
            .await?
            .map_or_else(|| "smscrm".to_owned(), |t| t.name);
        let link = format!("{base}/v1/auth/verify?token={}", secret.plaintext);
        let email = OutgoingEmail {
            to: email.clone(),
            subject: format!("Sign in to {tenant_name} on smscrm"),
            text: format!(
                "Sign in to {tenant_name}:\n\n{link}\n\nThe link works once, for 15 minutes. \
                 If you did not ask for it, ignore this email."
            ),
        };
        // The answer stays the same: a failure here must not tell who is a user.
        if let Err(error) = state.mailer.send(&email).await {
            tracing::error!(%error, tenant_id = %membership.tenant_id, "sign-in email not sent");
        }
    }
    Ok(accepted())
}
