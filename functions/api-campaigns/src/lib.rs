//! The campaigns API: `/v1/campaigns`, their lifecycle actions and estimates, as an axum
//! sub-router served by `lambda_http` on AWS and merged into the local host's router.

use std::sync::Arc;

use axum::extract::{FromRef, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use campaign_dispatcher::DispatchJob;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use smscrm_domain::campaign::{Action, Campaign, CampaignDraft, CampaignPatch, IllegalTransition};
use smscrm_domain::gates::Screen;
use smscrm_domain::ports::Queue;
use smscrm_domain::{CampaignId, TemplateId, ValidationError};
use smscrm_http::{
    ApiError, ApiJson, ApiJsonOrEmpty, ApiPath, ApiQuery, AppContext, Listing, PageParams,
    Principal, page,
};
use smscrm_store::{
    ActError, Campaigns, DispatchState, Dispatches, Estimate, MessageRecord, MessageStatus,
    Messages, RepoError,
};

/// What the campaign routes need beyond the common context.
#[derive(Clone)]
pub struct CampaignsState {
    pub app: AppContext,
    /// Where a campaign that starts sending gets its fan-out job.
    pub dispatch: Arc<dyn Queue>,
}

impl FromRef<CampaignsState> for AppContext {
    fn from_ref(state: &CampaignsState) -> AppContext {
        state.app.clone()
    }
}

pub fn router() -> Router<CampaignsState> {
    Router::new()
        .route("/v1/campaigns", get(list).post(create))
        .route("/v1/campaigns/{id}", get(fetch).patch(update))
        .route("/v1/campaigns/{id}/launch", post(launch))
        .route("/v1/campaigns/{id}/pause", post(pause))
        .route("/v1/campaigns/{id}/resume", post(resume))
        .route("/v1/campaigns/{id}/cancel", post(cancel))
        .route("/v1/campaigns/{id}/estimate", post(estimate))
        .route("/v1/campaigns/{id}/messages", get(messages))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessagesParams {
    #[serde(default)]
    pub status: Option<MessageStatus>,
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize)]
pub struct MessagesResponse {
    pub items: Vec<MessageRecord>,
    pub next_cursor: Option<String>,
}

/// `POST .../launch`: now, or at `send_at` when it is in the future.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LaunchRequest {
    #[serde(default)]
    pub send_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize)]
pub struct EstimateResponse {
    #[serde(flatten)]
    pub estimate: Estimate,
    /// `cost_millicents` in cents, for people.
    pub cost_cents: f64,
    /// The kill switch is on: nothing would be sent until the tenant is resumed.
    pub tenant_paused: bool,
}

fn campaigns(ctx: &AppContext) -> Campaigns {
    Campaigns::new(ctx.table.clone())
}

async fn create(
    State(ctx): State<AppContext>,
    principal: Principal,
    ApiJson(draft): ApiJson<CampaignDraft>,
) -> Result<Response, ApiError> {
    let tenant = &principal.tenant;
    let campaign = Campaign::new(draft, tenant.default_region, ctx.clock.now())?;
    require_template(&ctx, &principal, &campaign.template_id).await?;
    campaigns(&ctx).create(&tenant.id, &campaign).await?;
    Ok((StatusCode::CREATED, Json(campaign)).into_response())
}

async fn list(
    State(ctx): State<AppContext>,
    principal: Principal,
    ApiQuery(params): ApiQuery<PageParams>,
) -> Result<Json<Listing<Campaign>>, ApiError> {
    let (limit, cursor) = page(params.limit, params.cursor.as_deref())?;
    let found = campaigns(&ctx)
        .list(&principal.tenant.id, cursor, limit)
        .await?;
    Ok(Json(Listing::new(found.items, found.next_cursor)))
}

/// A campaign with the progress of its fan-out, once it has started.
#[derive(Debug, Serialize)]
pub struct CampaignView {
    #[serde(flatten)]
    pub campaign: Campaign,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fan_out: Option<FanOut>,
    /// Set while the tenant's kill switch is on: nothing of this campaign is sent meanwhile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tenant_paused: Option<serde_json::Value>,
}

#[derive(Debug, Serialize)]
pub struct FanOut {
    #[serde(flatten)]
    pub counts: smscrm_store::DispatchCounts,
    pub done: bool,
    pub finished_at: Option<DateTime<Utc>>,
}

impl From<DispatchState> for FanOut {
    fn from(state: DispatchState) -> Self {
        Self {
            counts: state.counts,
            done: state.done,
            finished_at: state.finished_at,
        }
    }
}

async fn fetch(
    State(ctx): State<AppContext>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<CampaignView>, ApiError> {
    let tenant = &principal.tenant.id;
    let id = campaign_id(&id)?;
    let campaign = campaigns(&ctx)
        .get(tenant, &id)
        .await?
        .ok_or(ApiError::NotFound("campaign"))?;
    let dispatches = Dispatches::new(ctx.table.clone());
    let mut fan_out = dispatches.get(tenant, &id).await?;
    if let Some(state) = &mut fan_out {
        // Held records released (or dropped) since, by the scheduler.
        state.counts.apply(&dispatches.changes(tenant, &id).await?);
    }
    let tenant_paused = principal.tenant.paused.then(|| {
        // Who paused it and why, when known.
        principal
            .tenant
            .pause
            .as_ref()
            .map_or_else(|| serde_json::json!({}), |info| serde_json::json!(info))
    });
    Ok(Json(CampaignView {
        campaign,
        fan_out: fan_out.map(FanOut::from),
        tenant_paused,
    }))
}

/// Only drafts change; any other status is a 409 naming it.
async fn update(
    State(ctx): State<AppContext>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    ApiJson(patch): ApiJson<CampaignPatch>,
) -> Result<Json<Campaign>, ApiError> {
    let tenant = &principal.tenant;
    let store = campaigns(&ctx);
    let (mut campaign, version) = store
        .get_versioned(&tenant.id, &campaign_id(&id)?)
        .await?
        .ok_or(ApiError::NotFound("campaign"))?;
    if campaign.status != smscrm_domain::campaign::CampaignStatus::Draft {
        return Err(state_conflict(
            format!("a {} campaign cannot be edited", campaign.status),
            &campaign,
        ));
    }
    campaign.apply(patch, tenant.default_region, ctx.clock.now())?;
    require_template(&ctx, &principal, &campaign.template_id).await?;
    store.replace(&tenant.id, &campaign, version).await?;
    Ok(Json(campaign))
}

async fn launch(
    State(state): State<CampaignsState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    ApiJsonOrEmpty(body): ApiJsonOrEmpty<LaunchRequest>,
) -> Result<Json<Campaign>, ApiError> {
    let ctx = &state.app;
    let send_at = body.send_at;
    let now = ctx.clock.now();
    let later = send_at.is_some_and(|at| at > now);
    let id = campaign_id(&id)?;
    // The body is kept on the campaign at launch: what recipients get no longer depends on
    // later edits (or the deletion) of the template.
    let body = match campaigns(ctx).get(&principal.tenant.id, &id).await? {
        Some(campaign) => Some(
            require_template(ctx, &principal, &campaign.template_id)
                .await?
                .body,
        ),
        None => None,
    };
    let action = Action::Launch { later };
    act(
        &state,
        &principal,
        &id,
        action,
        send_at.filter(|_| later),
        body,
    )
    .await
}

async fn pause(
    State(state): State<CampaignsState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Campaign>, ApiError> {
    act(
        &state,
        &principal,
        &campaign_id(&id)?,
        Action::Pause,
        None,
        None,
    )
    .await
}

async fn resume(
    State(state): State<CampaignsState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Campaign>, ApiError> {
    let id = campaign_id(&id)?;
    let now = state.app.clock.now();
    let current = campaigns(&state.app)
        .get(&principal.tenant.id, &id)
        .await?
        .ok_or(ApiError::NotFound("campaign"))?;
    let later = current.send_at.is_some_and(|at| at > now);
    act(
        &state,
        &principal,
        &id,
        Action::Resume { later },
        current.send_at,
        None,
    )
    .await
}

async fn cancel(
    State(state): State<CampaignsState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Campaign>, ApiError> {
    act(
        &state,
        &principal,
        &campaign_id(&id)?,
        Action::Cancel,
        None,
        None,
    )
    .await
}

/// Applies the action; a campaign that starts sending gets its fan-out queued.
async fn act(
    state: &CampaignsState,
    principal: &Principal,
    id: &CampaignId,
    action: Action,
    send_at: Option<DateTime<Utc>>,
    body: Option<String>,
) -> Result<Json<Campaign>, ApiError> {
    let ctx = &state.app;
    let tenant = &principal.tenant.id;
    let store = campaigns(ctx);
    let now = ctx.clock.now();
    let done = match (action, body) {
        (Action::Launch { later }, Some(body)) => {
            store.launch(tenant, id, later, send_at, &body, now).await
        }
        _ => store.act(tenant, id, action, send_at, now).await,
    };
    match done {
        Ok(campaign) => {
            let details = json!({
                "name": campaign.name, "status": campaign.status, "send_at": send_at,
            });
            let target = format!("campaign:{}", campaign.id);
            let queued = if campaign.status.is_sending() {
                let job = DispatchJob {
                    tenant_id: tenant.clone(),
                    campaign_id: campaign.id.clone(),
                };
                campaign_dispatcher::enqueue(state.dispatch.as_ref(), &job).await
            } else {
                Ok(())
            };
            // Done either way (a lost job is the scheduler's to queue again): audited.
            principal
                .audit(ctx, audit_action(action), target, details)
                .await;
            queued.map_err(|e| ApiError::Unavailable(Box::new(e)))?;
            Ok(Json(campaign))
        }
        Err(ActError::Illegal(IllegalTransition { from, action })) => {
            let current = store.get(tenant, id).await?;
            Err(ApiError::StateConflict {
                code: "illegal_transition",
                message: format!("a {from} campaign cannot {action}"),
                details: json!({ "status": from, "action": action, "campaign": current }),
            })
        }
        Err(ActError::Repo(RepoError::NotFound)) => Err(ApiError::NotFound("campaign")),
        Err(ActError::Repo(other)) => Err(other.into()),
    }
}

/// How the audit log names what a person or key did to a campaign.
fn audit_action(action: Action) -> &'static str {
    match action {
        Action::Launch { later: false } => "campaign.launched",
        Action::Launch { later: true } => "campaign.scheduled",
        Action::Pause => "campaign.paused",
        Action::Resume { .. } => "campaign.resumed",
        Action::Cancel => "campaign.cancelled",
        // Not the API's to do; named all the same should that change.
        Action::Start => "campaign.started",
        Action::Complete => "campaign.completed",
    }
}

async fn estimate(
    State(ctx): State<AppContext>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<EstimateResponse>, ApiError> {
    let tenant = &principal.tenant;
    let campaign = campaigns(&ctx)
        .get(&tenant.id, &campaign_id(&id)?)
        .await?
        .ok_or(ApiError::NotFound("campaign"))?;
    let template = require_template(&ctx, &principal, &campaign.template_id).await?;
    let body = template.parsed()?;
    let screen = Screen {
        body: &body,
        link: campaign.link.as_deref(),
        footer: &tenant.opt_out_footer,
    };
    let estimate = ctx
        .contacts
        .estimate(
            &tenant.id,
            &campaign.audience,
            &screen,
            &tenant.segment_prices,
        )
        .await?;
    Ok(Json(EstimateResponse {
        cost_cents: estimate.cost_millicents as f64 / 1000.0,
        estimate,
        tenant_paused: tenant.paused,
    }))
}

/// The campaign's message records: who gets what, and why anyone is skipped or held.
async fn messages(
    State(ctx): State<AppContext>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    ApiQuery(params): ApiQuery<MessagesParams>,
) -> Result<Json<MessagesResponse>, ApiError> {
    let tenant = &principal.tenant.id;
    let id = campaign_id(&id)?;
    campaigns(&ctx)
        .get(tenant, &id)
        .await?
        .ok_or(ApiError::NotFound("campaign"))?;
    // Same limits as every list; the cursor is this list's own.
    let (limit, _) = page(params.limit, None)?;
    let found = Messages::new(ctx.table.clone())
        .page(
            tenant,
            &id,
            params.status,
            params.cursor.as_deref().filter(|c| !c.is_empty()),
            limit,
        )
        .await?;
    Ok(Json(MessagesResponse {
        items: found.items,
        next_cursor: found.next_cursor,
    }))
}

/// The campaign's template, which must exist: a 400 naming `template_id` otherwise.
async fn require_template(
    ctx: &AppContext,
    principal: &Principal,
    id: &TemplateId,
) -> Result<smscrm_domain::template::Template, ApiError> {
    ctx.templates
        .get(&principal.tenant.id, id)
        .await?
        .ok_or_else(|| ValidationError::new("template_id", format!("no template `{id}`")).into())
}

fn state_conflict(message: String, campaign: &Campaign) -> ApiError {
    ApiError::StateConflict {
        code: "illegal_transition",
        message,
        details: json!({ "status": campaign.status, "campaign": campaign }),
    }
}

/// A malformed id names no campaign: 404, the same answer as another tenant's id.
fn campaign_id(raw: &str) -> Result<CampaignId, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound("campaign"))
}
