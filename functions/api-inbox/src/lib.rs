//! The inbox API: what people texted to the tenant's numbers, a thread per number.
//!
//! - `GET /v1/inbox`: threads, the one with the newest message first;
//! - `GET /v1/inbox/{phone}`: one thread, its messages newest first, and the last campaign
//!   message sent to the number (what a new reply would answer).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Serialize;
use smscrm_domain::PhoneE164;
use smscrm_http::{ApiError, ApiPath, ApiQuery, AppContext, Listing, PageParams, Principal, page};
use smscrm_store::{InboundMessage, Inbox, LastOutbound, Thread};

pub fn router() -> Router<AppContext> {
    Router::new()
        .route("/v1/inbox", get(threads))
        .route("/v1/inbox/{phone}", get(thread))
}

#[derive(Debug, Serialize)]
pub struct ThreadResponse {
    pub thread: Thread,
    /// The last campaign message sent to the number.
    pub last_outbound: Option<LastOutbound>,
    pub messages: Listing<InboundMessage>,
}

async fn threads(
    State(ctx): State<AppContext>,
    principal: Principal,
    ApiQuery(params): ApiQuery<PageParams>,
) -> Result<Json<Listing<Thread>>, ApiError> {
    let (limit, cursor) = page(params.limit, params.cursor.as_deref())?;
    let listed = Inbox::new(ctx.table.clone())
        .threads(&principal.tenant.id, cursor, limit)
        .await?;
    Ok(Json(Listing::new(listed.items, listed.next_cursor)))
}

async fn thread(
    State(ctx): State<AppContext>,
    principal: Principal,
    ApiPath(phone): ApiPath<String>,
    ApiQuery(params): ApiQuery<PageParams>,
) -> Result<Json<ThreadResponse>, ApiError> {
    let tenant = &principal.tenant;
    let (limit, cursor) = page(params.limit, params.cursor.as_deref())?;
    let phone = PhoneE164::parse(&phone, tenant.default_region)?;
    let inbox = Inbox::new(ctx.table.clone());
    let thread = inbox
        .thread(&tenant.id, &phone)
        .await?
        .ok_or(ApiError::NotFound("thread"))?;
    let messages = inbox.messages(&tenant.id, &phone, cursor, limit).await?;
    Ok(Json(ThreadResponse {
        thread,
        last_outbound: inbox.last_outbound(&tenant.id, &phone).await?,
        messages: Listing::new(messages.items, messages.next_cursor),
    }))
}
