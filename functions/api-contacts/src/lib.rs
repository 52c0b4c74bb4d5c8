//! The contacts API: `/v1/contacts`, as an axum sub-router served by `lambda_http` on AWS and
//! merged into the local host's router by `smscrm serve`. A person's rights are here too:
//! `GET /v1/contacts/{id}/export` (everything held about them) and
//! `DELETE /v1/contacts/{id}?erase=true` (erased everywhere; see `smscrm_store::privacy`).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use smscrm_domain::contact::{ContactDraft, ContactPatch};
use smscrm_domain::{Contact, ContactId};
use smscrm_http::{ApiError, ApiJson, ApiPath, ApiQuery, AppContext, Listing, Principal, page};
use smscrm_store::Privacy;

pub fn router() -> Router<AppContext> {
    Router::new()
        .route("/v1/contacts", get(list).post(upsert))
        .route("/v1/contacts/{id}", get(fetch).patch(update).delete(remove))
        .route("/v1/contacts/{id}/export", get(export))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteParams {
    /// Erase everything held about the person, not just the contact.
    #[serde(default)]
    pub erase: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub limit: Option<u32>,
    #[serde(default)]
    pub q: Option<String>,
}

/// Creates a contact, or updates the one with the same phone number (201 vs 200).
async fn upsert(
    State(ctx): State<AppContext>,
    principal: Principal,
    ApiJson(draft): ApiJson<ContactDraft>,
) -> Result<Response, ApiError> {
    let changes = draft.validate(principal.tenant.default_region)?;
    let now = ctx.clock.now();
    let (contact, created) = ctx
        .contacts
        .upsert_by_phone(&principal.tenant.id, changes, now)
        .await?;
    audit_consent(&ctx, &principal, &contact, now).await;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(contact)).into_response())
}

async fn list(
    State(ctx): State<AppContext>,
    principal: Principal,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<Listing<Contact>>, ApiError> {
    let (limit, cursor) = page(params.limit, params.cursor.as_deref())?;
    let tenant = &principal.tenant;
    let page = match params.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        Some(q) => {
            ctx.contacts
                .search(
                    &tenant.id,
                    q,
                    tenant.default_region.calling_code(),
                    cursor,
                    limit,
                )
                .await?
        }
        None => ctx.contacts.list(&tenant.id, cursor, limit).await?,
    };
    Ok(Json(Listing::new(page.items, page.next_cursor)))
}

async fn fetch(
    State(ctx): State<AppContext>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Contact>, ApiError> {
    let id = contact_id(&id)?;
    ctx.contacts
        .get(&principal.tenant.id, &id)
        .await?
        .map(Json)
        .ok_or(ApiError::NotFound("contact"))
}

async fn update(
    State(ctx): State<AppContext>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    ApiJson(patch): ApiJson<ContactPatch>,
) -> Result<Json<Contact>, ApiError> {
    let id = contact_id(&id)?;
    let changes = patch.validate(principal.tenant.default_region)?;
    let now = ctx.clock.now();
    let contact = ctx
        .contacts
        .update(&principal.tenant.id, &id, changes, now)
        .await
        .map_err(|e| not_found_as_contact(e.into()))?;
    audit_consent(&ctx, &principal, &contact, now).await;
    Ok(Json(contact))
}

/// Consent is stamped with the time it changed: when that is this request's, the log keeps
/// who granted or withdrew it, and on what grounds.
async fn audit_consent(
    ctx: &AppContext,
    principal: &Principal,
    contact: &Contact,
    now: chrono::DateTime<chrono::Utc>,
) {
    if contact.consent.at != Some(now) {
        return;
    }
    let details = serde_json::json!({
        "status": contact.consent.status, "source": contact.consent.source,
    });
    let target = format!("contact:{}", contact.id);
    principal
        .audit(ctx, "consent.changed", target, details)
        .await;
}

async fn export(
    State(ctx): State<AppContext>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<smscrm_store::ContactExport>, ApiError> {
    let id = contact_id(&id)?;
    let exported = Privacy::new(ctx.table.clone())
        .export(&principal.tenant.id, &id)
        .await?
        .ok_or(ApiError::NotFound("contact"))?;
    let target = format!("contact:{id}");
    principal
        .audit(&ctx, "contact.exported", target, serde_json::json!({}))
        .await;
    Ok(Json(exported))
}

async fn remove(
    State(ctx): State<AppContext>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    ApiQuery(params): ApiQuery<DeleteParams>,
) -> Result<Response, ApiError> {
    let id = contact_id(&id)?;
    if params.erase {
        let erased = Privacy::new(ctx.table.clone())
            .erase(&principal.tenant.id, &id, ctx.clock.now())
            .await
            .map_err(|e| not_found_as_contact(e.into()))?;
        let details = serde_json::to_value(erased).map_err(ApiError::internal)?;
        let target = format!("contact:{id}");
        principal
            .audit(&ctx, "contact.erased", target, details.clone())
            .await;
        return Ok(Json(serde_json::json!({ "erased": details })).into_response());
    }
    ctx.contacts
        .delete_keeping_opt_out(&principal.tenant.id, &id, ctx.clock.now())
        .await
        .map_err(|e| not_found_as_contact(e.into()))?;
    // No personal data in the entry: the log outlives the contact.
    let target = format!("contact:{id}");
    principal
        .audit(&ctx, "contact.deleted", target, serde_json::json!({}))
        .await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// A malformed id names no contact: 404, the same answer as an id of another tenant.
fn contact_id(raw: &str) -> Result<ContactId, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound("contact"))
}

fn not_found_as_contact(err: ApiError) -> ApiError {
    match err {
        ApiError::NotFound(_) => ApiError::NotFound("contact"),
        other => other,
    }
}
