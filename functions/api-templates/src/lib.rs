//! The templates API: `/v1/templates` and `/v1/templates/preview`, as an axum sub-router served
//! by `lambda_http` on AWS and merged into the local host's router by `smscrm serve`.

mod preview;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use smscrm_domain::TemplateId;
use smscrm_domain::template::{Template, TemplateDraft, TemplateError, TemplatePatch};
use smscrm_http::{
    ApiError, ApiJson, ApiPath, ApiQuery, AppContext, Listing, PageParams, Principal, page,
};

pub fn router() -> Router<AppContext> {
    Router::new()
        .route("/v1/templates", get(list).post(create))
        .route("/v1/templates/preview", post(preview::preview))
        .route(
            "/v1/templates/{id}",
            get(fetch).patch(update).delete(remove),
        )
}

async fn create(
    State(ctx): State<AppContext>,
    principal: Principal,
    ApiJson(draft): ApiJson<TemplateDraft>,
) -> Result<Response, ApiError> {
    let tenant = &principal.tenant.id;
    let attributes = ctx.attribute_names.all(tenant).await?;
    let template = Template::new(draft, &attributes, ctx.clock.now()).map_err(refusal)?;
    ctx.templates.create(tenant, &template).await?;
    Ok((StatusCode::CREATED, Json(template)).into_response())
}

async fn list(
    State(ctx): State<AppContext>,
    principal: Principal,
    ApiQuery(params): ApiQuery<PageParams>,
) -> Result<Json<Listing<Template>>, ApiError> {
    let (limit, cursor) = page(params.limit, params.cursor.as_deref())?;
    let found = ctx
        .templates
        .list(&principal.tenant.id, cursor, limit)
        .await?;
    Ok(Json(Listing::new(found.items, found.next_cursor)))
}

async fn fetch(
    State(ctx): State<AppContext>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Template>, ApiError> {
    ctx.templates
        .get(&principal.tenant.id, &template_id(&id)?)
        .await?
        .map(Json)
        .ok_or(ApiError::NotFound("template"))
}

async fn update(
    State(ctx): State<AppContext>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    ApiJson(patch): ApiJson<TemplatePatch>,
) -> Result<Json<Template>, ApiError> {
    let tenant = &principal.tenant.id;
    let id = template_id(&id)?;
    let (mut template, version) = ctx
        .templates
        .get_versioned(tenant, &id)
        .await?
        .ok_or(ApiError::NotFound("template"))?;
    let attributes = ctx.attribute_names.all(tenant).await?;
    template
        .apply(patch, &attributes, ctx.clock.now())
        .map_err(refusal)?;
    ctx.templates.replace(tenant, &template, version).await?;
    Ok(Json(template))
}

async fn remove(
    State(ctx): State<AppContext>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let id = template_id(&id)?;
    ctx.templates
        .delete(&principal.tenant.id, &id)
        .await
        .map_err(|e| match ApiError::from(e) {
            ApiError::NotFound(_) => ApiError::NotFound("template"),
            other => other,
        })?;
    let target = format!("template:{id}");
    principal
        .audit(&ctx, "template.deleted", target, serde_json::json!({}))
        .await;
    Ok(StatusCode::NO_CONTENT)
}

/// A malformed id names no template: 404, the same answer as another tenant's id.
fn template_id(raw: &str) -> Result<TemplateId, ApiError> {
    raw.parse().map_err(|_| ApiError::NotFound("template"))
}

/// A field that fails its own rules is a 400 naming it; variables no contact has are a 422
/// with code `unknown_variable` listing them.
fn refusal(err: TemplateError) -> ApiError {
    match err {
        TemplateError::Invalid(invalid) => invalid.into(),
        TemplateError::UnknownVariables(unknown) => ApiError::Rule {
            code: "unknown_variable",
            message: unknown.to_string(),
            details: json!({ "field": "body", "variables": unknown.variables }),
        },
    }
}
