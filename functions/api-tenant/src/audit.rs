//! `GET /v1/audit`: the tenant's audit log, newest first, by action and time range.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use smscrm_http::{ApiError, ApiQuery, Listing, Principal, page};
use smscrm_store::{AuditEntry, AuditFilter, AuditLog};

use crate::TenantState;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// One action, e.g. `tenant.paused`, or a family ending in a dot, e.g. `campaign.`.
    action: Option<String>,
    /// RFC 3339; entries at or after.
    since: Option<DateTime<Utc>>,
    /// RFC 3339; entries before.
    until: Option<DateTime<Utc>>,
    limit: Option<u32>,
    cursor: Option<String>,
}

pub async fn list(
    State(state): State<TenantState>,
    principal: Principal,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<Listing<AuditEntry>>, ApiError> {
    let (limit, cursor) = page(query.limit, query.cursor.as_deref())?;
    let filter = AuditFilter {
        action: query.action.filter(|a| !a.is_empty()),
        since: query.since,
        until: query.until,
    };
    let listed = AuditLog::new(state.app.table.clone())
        .list(&principal.tenant.id, &filter, cursor, limit)
        .await?;
    Ok(Json(Listing::new(listed.items, listed.next_cursor)))
}
