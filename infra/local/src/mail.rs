//! Email in the local host: the outbox adapter, with every email also printed (so the sign-in
//! link is right there in the terminal), and `GET /dev/outbox` to read them. Neither exists on
//! AWS, where SES sends them.

use async_trait::async_trait;
use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use smscrm_domain::ports::mailer::{MailError, Mailer, OutgoingEmail};
use smscrm_http::ApiError;
use smscrm_local::Outbox;
use smscrm_local::outbox::Sent;

/// The outbox, printing each email as it goes in.
pub struct PrintingOutbox(pub Outbox);

#[async_trait]
impl Mailer for PrintingOutbox {
    async fn send(&self, email: &OutgoingEmail) -> Result<(), MailError> {
        self.0.send(email).await?;
        println!(
            "Email to {} ({}):\n{}\n",
            email.to, email.subject, email.text
        );
        Ok(())
    }
}

/// `GET /dev/outbox`: every email the local host sent, oldest first.
pub fn dev_outbox(outbox: Outbox) -> Router {
    Router::new()
        .route("/dev/outbox", get(list))
        .with_state(outbox)
}

async fn list(State(outbox): State<Outbox>) -> Result<Json<Vec<Sent>>, ApiError> {
    outbox
        .list()
        .await
        .map(Json)
        .map_err(|e| ApiError::Unavailable(Box::new(e)))
}
