//! Incoming messages. A whole-body STOP (or kin) puts the number on the do-not-contact list
//! and revokes its consent; START (or kin) lifts an opt-out the person made and restores
//! consent; HELP is answered with the tenant's help text. Everything, keywords included, is
//! kept in the number's thread, and counted once against the campaign it answers.
//!
//! Twilio may deliver the same message twice: one already recorded gets the same answer and
//! changes nothing.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use serde_json::json;
use smscrm_domain::contact::{ConsentInput, ContactChanges};
use smscrm_domain::keywords::{self, Keyword};
use smscrm_domain::{ConsentStatus, Contact, PhoneE164, Tenant};
use smscrm_http::{ApiError, ApiPath};
use smscrm_store::suppression::OPTED_OUT_REASON;
use smscrm_store::{Actor, AuditEntry, InboundMessage, Suppression};

use crate::WebhookState;
use crate::signed::{self, Signed};
use crate::twiml::Twiml;

/// Who texted what, to which of the tenant's numbers.
struct Incoming<'a> {
    tenant: &'a Tenant,
    from: PhoneE164,
    to: &'a str,
    body: &'a str,
    contact: Option<Contact>,
}

pub async fn handle(
    State(state): State<WebhookState>,
    ApiPath(tenant_id): ApiPath<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Twiml, ApiError> {
    let signed = signed::verify(&state, &tenant_id, &uri, &headers, &body).await?;
    let tenant = &signed.tenant;
    let sid = signed.require("MessageSid")?;
    let from = sender_of(&signed)?;
    let text = signed.get("Body").unwrap_or("");
    let keyword = Keyword::of(text);
    if state.inbox.seen(&tenant.id, &from, sid).await? {
        tracing::info!(%sid, "a message recorded before: answered again, nothing changed");
        return Ok(answer(tenant, keyword));
    }
    let incoming = Incoming {
        tenant,
        to: signed.require("To")?,
        body: text,
        contact: state.contacts.find_by_phone(&tenant.id, &from).await?,
        from,
    };
    match keyword {
        Some(Keyword::Stop) => opt_out(&state, &incoming).await?,
        Some(Keyword::Start) => opt_in(&state, &incoming).await?,
        Some(Keyword::Help) | None => {}
    }
    let answered = state
        .inbox
        .last_outbound(&tenant.id, &incoming.from)
        .await?;
    let message = InboundMessage {
        sid: sid.to_owned(),
        from: incoming.from.clone(),
        to: incoming.to.to_owned(),
        body: text.to_owned(),
        received_at: state.clock.now(),
        keyword,
        contact_id: incoming.contact.as_ref().map(|c| c.id.clone()),
        campaign_id: answered.map(|last| last.campaign_id),
        num_segments: signed.get("NumSegments").and_then(|n| n.parse().ok()),
    };
    let expires_at = tenant.message_expiry(message.received_at);
    state.inbox.record(&tenant.id, &message, expires_at).await?;
    tracing::info!(%sid, keyword = ?keyword, campaign_id = ?message.campaign_id, "inbound message recorded");
    Ok(answer(tenant, keyword))
}

fn sender_of(signed: &Signed) -> Result<PhoneE164, ApiError> {
    let raw = signed.require("From")?;
    PhoneE164::parse(raw, signed.tenant.default_region).map_err(|e| ApiError::BadRequest {
        code: "invalid_webhook",
        message: format!("`From` `{raw}` is not a phone number: {}", e.reason),
    })
}

/// What to text back: the help text, and a STOP or START confirmation unless Twilio sends
/// its own.
fn answer(tenant: &Tenant, keyword: Option<Keyword>) -> Twiml {
    let settings = &tenant.keywords;
    Twiml(match keyword {
        Some(Keyword::Help) => Some(settings.help_text(&tenant.name)),
        Some(Keyword::Stop) if !settings.twilio_confirms_opt_out => {
            Some(keywords::stop_confirmation(&tenant.name))
        }
        Some(Keyword::Start) if !settings.twilio_confirms_opt_out => {
            Some(keywords::start_confirmation(&tenant.name))
        }
        _ => None,
    })
}

async fn opt_out(state: &WebhookState, incoming: &Incoming<'_>) -> Result<(), ApiError> {
    let tenant = &incoming.tenant.id;
    let now = state.clock.now();
    let source = format!("{} to {}", incoming.body.trim(), incoming.to);
    state
        .suppressions
        .add_if_absent(
            tenant,
            &Suppression {
                phone: incoming.from.clone(),
                reason: OPTED_OUT_REASON.into(),
                at: now,
                source: Some(source.clone()),
            },
        )
        .await?;
    set_consent(state, incoming, ConsentStatus::Revoked, &source).await?;
    audit(
        state,
        incoming,
        "consent.revoked",
        json!({ "keyword": incoming.body.trim(), "to": incoming.to }),
    )
    .await
}

async fn opt_in(state: &WebhookState, incoming: &Incoming<'_>) -> Result<(), ApiError> {
    let tenant = &incoming.tenant.id;
    let source = format!("{} to {}", incoming.body.trim(), incoming.to);
    // Only the person's own opt-out is theirs to lift: a block a person at the tenant set,
    // or a carrier's, stays.
    let list = match state.suppressions.get(tenant, &incoming.from).await? {
        Some(entry) if entry.reason == OPTED_OUT_REASON => {
            // Conditional: a block set for another reason since the read stays.
            let suppressions = &state.suppressions;
            if suppressions
                .remove_if_reason(tenant, &incoming.from, OPTED_OUT_REASON)
                .await?
            {
                json!({ "removed": entry.reason })
            } else {
                json!({ "kept": "changed meanwhile" })
            }
        }
        Some(entry) => json!({ "kept": entry.reason }),
        None => json!(null),
    };
    set_consent(state, incoming, ConsentStatus::Explicit, &source).await?;
    audit(
        state,
        incoming,
        "consent.restored",
        json!({ "keyword": incoming.body.trim(), "to": incoming.to, "do_not_contact": list }),
    )
    .await
}

async fn set_consent(
    state: &WebhookState,
    incoming: &Incoming<'_>,
    status: ConsentStatus,
    source: &str,
) -> Result<(), ApiError> {
    let Some(contact) = &incoming.contact else {
        return Ok(());
    };
    let changes = ContactChanges {
        consent: Some(ConsentInput {
            status,
            source: Some(source.to_owned()),
        }),
        ..ContactChanges::default()
    };
    state
        .contacts
        .update(&incoming.tenant.id, &contact.id, changes, state.clock.now())
        .await?;
    Ok(())
}

async fn audit(
    state: &WebhookState,
    incoming: &Incoming<'_>,
    action: &str,
    details: serde_json::Value,
) -> Result<(), ApiError> {
    let target = match &incoming.contact {
        Some(contact) => format!("contact:{}", contact.id),
        None => format!("phone:{}", incoming.from),
    };
    let entry = AuditEntry::new(
        state.clock.now(),
        Actor::Recipient {
            phone: incoming.from.as_str().to_owned(),
        },
        action,
        target,
        details,
    );
    state.audit.append(&incoming.tenant.id, &entry).await?;
    Ok(())
}
