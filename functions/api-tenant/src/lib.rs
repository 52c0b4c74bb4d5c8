//! The tenant API, for the tenant's own staff and systems:
//!
//! - `GET /v1/tenant`: profile, settings, the kill switch, spend so far today and this month
//!   (the tenant's days and months), whether it has Twilio credentials of its own;
//! - `PATCH /v1/tenant`: profile and settings, every field checked (a 400 names the first bad
//!   one); the audit log keeps what changed, before and after;
//! - `PUT /v1/tenant/twilio`: the tenant's Twilio credentials, write-only (never shown);
//! - `POST /v1/tenant/pause` `{"reason"}` and `POST /v1/tenant/resume`: the kill switch;
//! - `GET /v1/audit?action=&since=&until=`: the audit log, newest first;
//! - `GET/POST /v1/api-keys`, `DELETE /v1/api-keys/{id}`: the tenant's API keys.

mod audit;
mod credentials;
mod keys;
mod view;

use std::sync::Arc;

use axum::extract::{FromRef, State};
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use smscrm_domain::campaign::CampaignStatus;
use smscrm_domain::ports::{Queue, Secrets};
use smscrm_domain::tenant::{PauseInfo, validate_pause_reason};
use smscrm_domain::tenant_patch::{TenantPatch, changed_fields};
use smscrm_http::{ApiError, ApiJson, AppContext, Principal};
use smscrm_store::{Campaigns, Messages};

pub use view::TenantView;

#[derive(Clone)]
pub struct TenantState {
    pub app: AppContext,
    pub secrets: Arc<dyn Secrets>,
    /// Where a resume queues the campaigns the kill switch parked.
    pub dispatch: Arc<dyn Queue>,
}

impl FromRef<TenantState> for AppContext {
    fn from_ref(state: &TenantState) -> Self {
        state.app.clone()
    }
}

pub fn router() -> Router<TenantState> {
    Router::new()
        .route("/v1/tenant", get(show).patch(change))
        .route("/v1/tenant/twilio", put(credentials::set))
        .route("/v1/tenant/pause", post(pause))
        .route("/v1/tenant/resume", post(resume))
        .route("/v1/audit", get(audit::list))
        .route("/v1/api-keys", get(keys::list).post(keys::create))
        .route("/v1/api-keys/{id}", delete(keys::revoke))
}

/// Appends one entry to the caller's tenant's audit log.
pub(crate) async fn audited(
    state: &TenantState,
    principal: &Principal,
    action: &str,
    target: String,
    details: Value,
) {
    principal.audit(&state.app, action, target, details).await;
}

async fn show(
    State(state): State<TenantState>,
    principal: Principal,
) -> Result<Json<TenantView>, ApiError> {
    Ok(Json(TenantView::of(&state, principal.tenant).await?))
}

async fn change(
    State(state): State<TenantState>,
    principal: Principal,
    ApiJson(patch): ApiJson<TenantPatch>,
) -> Result<Json<TenantView>, ApiError> {
    let before = &principal.tenant;
    let after = patch.apply(before)?;
    let fields = changed_fields(before, &after);
    if fields.is_empty() {
        return Ok(Json(TenantView::of(&state, after).await?));
    }
    let saved = state.app.tenants.save_fields(&after, &fields).await?;
    let (old, new) = (view::fields_of(before), view::fields_of(&saved));
    let pick = |all: &Value| -> Value {
        fields
            .iter()
            .map(|&name| (name.to_owned(), all[name].clone()))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    let details = json!({ "fields": fields, "before": pick(&old), "after": pick(&new) });
    let target = format!("tenant:{}", saved.id);
    audited(
        &state,
        &principal,
        "tenant.settings_changed",
        target,
        details,
    )
    .await;
    Ok(Json(TenantView::of(&state, saved).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PauseRequest {
    reason: String,
}

async fn pause(
    State(state): State<TenantState>,
    principal: Principal,
    ApiJson(request): ApiJson<PauseRequest>,
) -> Result<Json<TenantView>, ApiError> {
    let info = PauseInfo {
        reason: validate_pause_reason(&request.reason)?,
        by: principal.actor().label(),
        at: state.app.clock.now(),
    };
    let tenant = state.app.tenants.pause(&principal.tenant.id, &info).await?;
    tracing::warn!(tenant_id = %tenant.id, reason = %info.reason, by = %info.by, "tenant paused");
    let target = format!("tenant:{}", tenant.id);
    let details = json!({ "reason": info.reason });
    audited(&state, &principal, "tenant.paused", target, details).await;
    Ok(Json(TenantView::of(&state, tenant).await?))
}

async fn resume(
    State(state): State<TenantState>,
    principal: Principal,
) -> Result<Json<TenantView>, ApiError> {
    let was = principal.tenant.pause.clone();
    let tenant = state.app.tenants.resume(&principal.tenant.id).await?;
    let requeued = requeue_parked(&state, &tenant.id).await?;
    let target = format!("tenant:{}", tenant.id);
    let details = json!({
        "was_paused": principal.tenant.paused, "pause": was, "campaigns_requeued": requeued,
    });
    audited(&state, &principal, "tenant.resumed", target, details).await;
    Ok(Json(TenantView::of(&state, tenant).await?))
}

/// Queues the campaigns the kill switch parked mid-send, so they go on at once rather than at
/// the scheduler's next tick (which would queue them too; the dispatcher runs a job once).
async fn requeue_parked(
    state: &TenantState,
    tenant: &smscrm_domain::TenantId,
) -> Result<usize, ApiError> {
    let table = &state.app.table;
    let campaigns = Campaigns::new(table.clone());
    let mut requeued = 0;
    for campaign_id in Messages::new(table.clone()).parked_of(tenant).await? {
        let sending = campaigns
            .get(tenant, &campaign_id)
            .await?
            .is_some_and(|c| c.status == CampaignStatus::Sending);
        if !sending {
            continue;
        }
        let job = campaign_dispatcher::DispatchJob {
            tenant_id: tenant.clone(),
            campaign_id,
        };
        campaign_dispatcher::enqueue(state.dispatch.as_ref(), &job)
            .await
            .map_err(|e| ApiError::Unavailable(Box::new(e)))?;
        requeued += 1;
    }
    Ok(requeued)
}
