//! Twilio's webhooks, as an axum sub-router served by `lambda_http` on AWS and merged into
//! the local host's router:
//!
//! - `POST /webhooks/twilio/{tenant_id}/status`: status callbacks of the messages we sent;
//! - `POST /webhooks/twilio/{tenant_id}/inbound`: messages people text to the tenant's numbers.
//!
//! They are public: every request must carry Twilio's signature, made with the tenant's auth
//! token over the exact URL Twilio called, or it is refused (403) before anything is read or
//! changed. The URL is rebuilt from the configured public base URL (see [`WebhookConfig`]).

mod inbound;
mod signed;
mod status;
mod twiml;

use std::sync::Arc;

use axum::Router;
use axum::routing::post;
use smscrm_domain::ports::{Clock, Table};
use smscrm_store::{AuditLog, Contacts, DoNotContact, Inbox, Messages, Tenants};
use smscrm_twilio::{CredentialSource, webhooks};

pub use signed::SignatureError;

/// What the webhooks need to know of where they run.
#[derive(Debug, Clone, Default)]
pub struct WebhookConfig {
    /// The scheme, host and any path prefix Twilio calls, without a trailing slash: e.g.
    /// `https://sms.example.com`. The request's own path and query string follow it. `None`
    /// rebuilds it as `https://` and the request's `Host` (an API Gateway's own domain).
    pub public_base_url: Option<String>,
}

/// The webhook routes' state.
#[derive(Clone)]
pub struct WebhookState {
    pub config: Arc<WebhookConfig>,
    pub clock: Arc<dyn Clock>,
    pub tenants: Tenants,
    pub contacts: Contacts,
    pub messages: Messages,
    pub suppressions: DoNotContact,
    pub inbox: Inbox,
    pub audit: AuditLog,
    pub credentials: Arc<CredentialSource>,
}

impl WebhookState {
    pub fn new(
        table: Arc<dyn Table>,
        clock: Arc<dyn Clock>,
        credentials: Arc<CredentialSource>,
        config: WebhookConfig,
    ) -> Self {
        Self {
            config: Arc::new(WebhookConfig {
                public_base_url: config
                    .public_base_url
                    .map(|url| url.trim_end_matches('/').to_owned()),
            }),
            clock,
            tenants: Tenants::new(table.clone()),
            contacts: Contacts::new(table.clone()),
            messages: Messages::new(table.clone()),
            suppressions: DoNotContact::new(table.clone()),
            inbox: Inbox::new(table.clone()),
            audit: AuditLog::new(table),
            credentials,
        }
    }
}

pub fn router() -> Router<WebhookState> {
    Router::new()
        .route(webhooks::STATUS_ROUTE, post(status::handle))
        .route(webhooks::INBOUND_ROUTE, post(inbound::handle))
}
