//! The tenant as `GET /v1/tenant` shows it.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use secrecy::ExposeSecret as _;
use serde::Serialize;
use serde_json::{Value, json};
use smscrm_domain::tenant::{PauseInfo, TenantSettings};
use smscrm_domain::{Tenant, TenantId};
use smscrm_http::ApiError;
use smscrm_store::Budgets;
use smscrm_twilio::credentials::secret_name;

use crate::TenantState;

#[derive(Debug, Serialize)]
pub struct TenantView {
    pub id: TenantId,
    pub name: String,
    pub timezone: String,
    pub default_region: String,
    /// The kill switch.
    pub paused: bool,
    pub pause: Option<PauseInfo>,
    #[serde(flatten)]
    pub settings: TenantSettings,
    pub spend: Spend,
    pub twilio: TwilioView,
    pub created_at: DateTime<Utc>,
}

/// What budget reservations hold so far, in the tenant's own day and month.
#[derive(Debug, Serialize)]
pub struct Spend {
    pub today_millicents: u64,
    pub this_month_millicents: u64,
}

/// Whether the tenant sends through an account of its own; its secrets are never shown.
#[derive(Debug, Serialize)]
pub struct TwilioView {
    pub own_credentials: bool,
    pub account_sid: Option<String>,
}

impl TenantView {
    pub async fn of(state: &TenantState, tenant: Tenant) -> Result<Self, ApiError> {
        let zone: Tz = tenant.timezone.parse().unwrap_or(chrono_tz::UTC);
        let (today, month) = Budgets::new(state.app.table.clone())
            .spent(&tenant.id, zone, state.app.clock.now())
            .await?;
        let twilio = twilio_view(state, &tenant.id).await?;
        Ok(Self {
            settings: tenant.settings(),
            id: tenant.id,
            name: tenant.name,
            timezone: tenant.timezone,
            default_region: tenant.default_region.code().to_owned(),
            paused: tenant.paused,
            pause: tenant.pause,
            spend: Spend {
                today_millicents: today,
                this_month_millicents: month,
            },
            twilio,
            created_at: tenant.created_at,
        })
    }
}

async fn twilio_view(state: &TenantState, tenant: &TenantId) -> Result<TwilioView, ApiError> {
    let stored = state
        .secrets
        .get(&secret_name(tenant))
        .await
        .map_err(|e| ApiError::Unavailable(Box::new(e)))?;
    let account_sid = stored.and_then(|value| {
        serde_json::from_str::<Value>(value.expose_secret())
            .ok()
            .and_then(|v| v["account_sid"].as_str().map(str::to_owned))
    });
    Ok(TwilioView {
        own_credentials: account_sid.is_some(),
        account_sid,
    })
}

/// The fields a patch can change, by their names in the patch, as JSON.
pub fn fields_of(tenant: &Tenant) -> Value {
    let mut fields = serde_json::to_value(tenant.settings()).unwrap_or_else(|_| json!({}));
    if let Some(map) = fields.as_object_mut() {
        map.insert("name".into(), json!(tenant.name));
        map.insert("timezone".into(), json!(tenant.timezone));
        map.insert("default_region".into(), json!(tenant.default_region.code()));
    }
    fields
}
