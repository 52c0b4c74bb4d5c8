//! Where Twilio calls us back: the paths of a tenant's webhooks, under the public base URL.

use smscrm_domain::{CampaignId, ContactId, TenantId};

/// The route of status callbacks (axum syntax).
pub const STATUS_ROUTE: &str = "/webhooks/twilio/{tenant_id}/status";
/// The route of incoming messages (axum syntax).
pub const INBOUND_ROUTE: &str = "/webhooks/twilio/{tenant_id}/inbound";

/// The `StatusCallback` of one message: the record it belongs to rides in the query string,
/// which Twilio signs with the rest of the URL.
pub fn status_callback_url(
    public_base_url: &str,
    tenant: &TenantId,
    campaign: &CampaignId,
    contact: &ContactId,
) -> String {
    format!(
        "{}/webhooks/twilio/{tenant}/status?campaign={campaign}&contact={contact}",
        public_base_url.trim_end_matches('/')
    )
}

/// What to set as a tenant's numbers' "a message comes in" webhook.
pub fn inbound_url(public_base_url: &str, tenant: &TenantId) -> String {
    format!(
        "{}/webhooks/twilio/{tenant}/inbound",
        public_base_url.trim_end_matches('/')
    )
}
