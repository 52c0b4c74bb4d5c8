//! `GET /messages`: what the simulator accepted, for tests and benchmarks that look from the
//! outside; `DELETE /messages` forgets it all (and the rate windows) between runs.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use chrono::SecondsFormat;
use serde::Serialize;

use crate::state::Shared;
use crate::store::StoredMessage;

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new().route("/messages", get(list).delete(clear))
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
