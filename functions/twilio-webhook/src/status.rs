//! Status callbacks: each is kept in its message's history, the message's delivery status
//! moves forward from all of them together, and error codes that mean the number must not be
//! messaged again put it on the do-not-contact list.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use smscrm_domain::delivery::{self, DeliveryStatus};
use smscrm_domain::{CampaignId, ContactId, TenantId};
use smscrm_http::{ApiError, ApiPath};
use smscrm_store::{Applied, StatusEvent, Suppression};

use crate::WebhookState;
use crate::signed::{self, Signed};

/// The record a callback is about, as the sender put it in the callback's URL.
#[derive(Debug, Default)]
struct RecordRef {
    campaign: Option<String>,
    contact: Option<String>,
}

pub async fn handle(
    State(state): State<WebhookState>,
    ApiPath(tenant_id): ApiPath<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let signed = signed::verify(&state, &tenant_id, &uri, &headers, &body).await?;
    let tenant = signed.tenant.id.clone();
    let event = event_of(&signed, &state)?;
    let Some((campaign, contact)) = record_of(&state, &tenant, &uri, &event.sid).await? else {
        tracing::warn!(sid = %event.sid, "a status callback for a message we have no record of");
        return Err(ApiError::NotFound("message"));
    };
    // The list first: once the message's status shows, its number is listed too, and a
    // failure here fails the callback before anything is counted.
    if let Some(code) = event.error_code {
        suppress(&state, &tenant, &campaign, &contact, code).await?;
    }
    let expires_at = signed.tenant.message_expiry(event.received_at);
    let first = state
        .messages
        .record_event(&tenant, &campaign, &contact, &event, expires_at)
        .await?;
    let applied = state
        .messages
        .apply_events(&tenant, &campaign, &contact)
        .await?;
    tracing::info!(sid = %event.sid, status = %event.status, first, ?applied, "status callback");
    if applied == Applied::Unknown {
        // A record erased (or expired) since is not brought back by its callbacks.
        if first {
            state
                .messages
                .forget_event(&tenant, &campaign, &contact, &event)
                .await?;
        }
        return Err(ApiError::NotFound("message"));
    }
    Ok(StatusCode::NO_CONTENT)
}

fn event_of(signed: &Signed, state: &WebhookState) -> Result<StatusEvent, ApiError> {
    let sid = signed.require("MessageSid")?.to_owned();
    let raw_status = signed.require("MessageStatus")?;
    let status: DeliveryStatus =
        raw_status
            .parse()
            .map_err(|e: delivery::UnknownStatus| ApiError::BadRequest {
                code: "invalid_webhook",
                message: e.to_string(),
            })?;
    let error_code = signed
        .get("ErrorCode")
        .map(|raw| {
            raw.parse::<u32>().map_err(|_| ApiError::BadRequest {
                code: "invalid_webhook",
                message: format!("`ErrorCode` `{raw}` is not a number"),
            })
        })
        .transpose()?;
    Ok(StatusEvent {
        sid,
        status,
        error_code,
        received_at: state.clock.now(),
        params: signed.params.iter().cloned().collect(),
    })
}

/// The record from the callback's URL (signed with the rest), or else from its SID.
async fn record_of(
    state: &WebhookState,
    tenant: &TenantId,
    uri: &Uri,
    sid: &str,
) -> Result<Option<(CampaignId, ContactId)>, ApiError> {
    let named = uri.query().map(record_ref).unwrap_or_default();
    if let (Some(campaign), Some(contact)) = (named.campaign, named.contact) {
        let parsed = campaign
            .parse::<CampaignId>()
            .ok()
            .zip(contact.parse::<ContactId>().ok());
        return match parsed {
            Some(found) => Ok(Some(found)),
            None => Err(ApiError::BadRequest {
                code: "invalid_webhook",
                message: "the callback URL names no valid message record".into(),
            }),
        };
    }
    Ok(state.messages.sid_owner(tenant, sid).await?)
}

fn record_ref(query: &str) -> RecordRef {
    let mut found = RecordRef::default();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        match name.as_ref() {
            "campaign" => found.campaign = Some(value.into_owned()),
            "contact" => found.contact = Some(value.into_owned()),
            _ => {}
        }
    }
    found
}

/// An error code meaning the number must not be messaged again puts it on the list (its
/// first reason stays, if it is there already).
async fn suppress(
    state: &WebhookState,
    tenant: &TenantId,
    campaign: &CampaignId,
    contact: &ContactId,
    code: u32,
) -> Result<(), ApiError> {
    let Some(reason) = delivery::suppression_reason(code) else {
        return Ok(());
    };
    let Some(record) = state.messages.get(tenant, campaign, contact).await? else {
        return Ok(());
    };
    let added = state
        .suppressions
        .add_if_absent(
            tenant,
            &Suppression {
                phone: record.phone.clone(),
                reason: reason.to_owned(),
                at: state.clock.now(),
                source: Some(format!("Twilio error {code}")),
            },
        )
        .await?;
    if added {
        tracing::info!(code, reason, "number added to the do-not-contact list");
    }
    Ok(())
}
