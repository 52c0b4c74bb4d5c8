//! `GET /messages`: what the simulator accepted, for tests and benchmarks that look from the
//! outside; `DELETE /messages` forgets it all (and the rate windows, opt-outs and replies)
//! between runs. `POST /inbound` texts a number as a person would; `GET /replies` shows what
//! was texted back.

use std::sync::Arc;

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::SecondsFormat;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::inbound::{InboundError, Reply};
use crate::state::Shared;
use crate::store::StoredMessage;

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/messages", get(list).delete(clear))
        .route("/inbound", post(inbound))
        .route("/replies", get(replies))
}

#[derive(Debug, Serialize)]
struct Inspected {
    sid: String,
    to: String,
    /// The number it goes from (the Messaging Service's pick when there is one).
    from: String,
    messaging_service_sid: Option<String>,
    body: String,
    num_segments: u32,
    /// RFC 3339 in UTC with milliseconds.
    accepted_at: String,
    status: &'static str,
}

impl From<&StoredMessage> for Inspected {
    fn from(stored: &StoredMessage) -> Self {
        let message = &stored.message;
        Self {
            sid: message.sid.clone(),
            to: message.to.clone(),
            from: stored.from.clone(),
            messaging_service_sid: message.messaging_service_sid.clone(),
            body: message.body.clone(),
            num_segments: message.num_segments,
            accepted_at: message
                .accepted_at
                .to_rfc3339_opts(SecondsFormat::Millis, true),
            status: stored.status.as_str(),
        }
    }
}

async fn list(State(shared): State<Arc<Shared>>) -> Json<Vec<Inspected>> {
    Json(shared.with_store(|store| store.iter().map(Inspected::from).collect()))
}

async fn clear(State(shared): State<Arc<Shared>>) -> StatusCode {
    shared.clear();
    StatusCode::NO_CONTENT
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Texted {
    from: String,
    to: String,
    body: String,
}

fn refusal(status: StatusCode, code: &str, message: String) -> Response {
    (status, Json(json!({"code": code, "message": message}))).into_response()
}

async fn inbound(
    State(shared): State<Arc<Shared>>,
    form: Result<Form<Texted>, FormRejection>,
) -> Response {
    let Form(texted) = match form {
        Ok(form) => form,
        Err(rejection) => {
            let message = format!("{} (form fields From, To, Body)", rejection.body_text());
            return refusal(StatusCode::BAD_REQUEST, "invalid_form", message);
        }
    };
    match crate::inbound::receive(&shared, &texted.from, &texted.to, &texted.body).await {
        Ok(inbound) => Json(inbound).into_response(),
        Err(error @ InboundError::NoWebhook(_)) => {
            refusal(StatusCode::NOT_FOUND, "no_webhook", error.to_string())
        }
        Err(error @ InboundError::UnknownAccount(_)) => {
            refusal(StatusCode::NOT_FOUND, "unknown_account", error.to_string())
        }
        Err(error @ InboundError::Unreachable { .. }) => refusal(
            StatusCode::BAD_GATEWAY,
            "webhook_unreachable",
            error.to_string(),
        ),
    }
}

async fn replies(State(shared): State<Arc<Shared>>) -> Json<Vec<Reply>> {
    Json(shared.replies())
}
