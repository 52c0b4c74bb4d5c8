//! Twilio's Messages API routes: create, fetch and list, behind Twilio's Basic authentication.

use std::sync::Arc;

use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::routing::{get, post};
use axum::{Json, Router};

use crate::auth::authenticate;
use crate::error::ApiError;
use crate::listing::{self, ListQuery, Page};
use crate::resource::{MessageResource, message_path};
use crate::state::Shared;
use crate::store::StoredMessage;
use crate::validate;

type Params = Vec<(String, String)>;

pub(crate) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route(
            "/2010-04-01/Accounts/{account_sid}/Messages.json",
            post(create).get(list),
        )
        // matchit cannot match `{sid}.json` inside a segment: the suffix is checked by hand.
        .route(
            "/2010-04-01/Accounts/{account_sid}/Messages/{file}",
            get(fetch),
        )
}

/// Unknown paths answer like Twilio's: a 20404 in JSON.
pub(crate) async fn not_found(uri: Uri) -> ApiError {
    ApiError::NotFound {
        uri: uri.path().to_owned(),
    }
}

fn malformed(text: String) -> ApiError {
    ApiError::invalid(20001, text)
}

async fn create(
    State(shared): State<Arc<Shared>>,
    Path(account_sid): Path<String>,
    headers: HeaderMap,
    form: Result<Form<Params>, FormRejection>,
) -> Result<(StatusCode, Json<MessageResource>), ApiError> {
    let account = authenticate(&shared.accounts(), &headers, &account_sid)?;
    let Form(params) = form.map_err(|rejection| malformed(rejection.body_text()))?;
    let draft = validate::draft(&params)?;
    let latency = shared.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let admitted = shared.admit(&account, draft)?;
    if let Some(hang) = admitted.hang {
        // The message exists already; a client that gives up now cannot know it.
        tokio::time::sleep(hang).await;
    }
    Ok((
        StatusCode::CREATED,
        Json(MessageResource::from(&admitted.stored)),
    ))
}

async fn fetch(
    State(shared): State<Arc<Shared>>,
    Path((account_sid, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<MessageResource>, ApiError> {
    authenticate(&shared.accounts(), &headers, &account_sid)?;
    let sid = file.strip_suffix(".json").unwrap_or(&file);
    let found = file.ends_with(".json").then(|| {
        shared.with_store(|store| {
            store
                .get(sid)
                .filter(|stored| stored.message.account_sid == account_sid)
                .map(MessageResource::from)
        })
    });
    found.flatten().map(Json).ok_or_else(|| ApiError::NotFound {
        uri: message_path(&account_sid, sid),
    })
}

async fn list(
    State(shared): State<Arc<Shared>>,
    Path(account_sid): Path<String>,
    headers: HeaderMap,
    query: Result<Query<Params>, QueryRejection>,
) -> Result<Json<Page>, ApiError> {
    authenticate(&shared.accounts(), &headers, &account_sid)?;
    let Query(params) = query.map_err(|rejection| malformed(rejection.body_text()))?;
    let query = ListQuery::parse(&params)?;
    shared
        .with_store(|store| {
            let matching: Vec<&StoredMessage> = store
                .iter()
                .rev()
                .filter(|stored| stored.message.account_sid == account_sid)
                .filter(|stored| query.matches(stored))
                .collect();
            listing::page(&query, &account_sid, &matching)
        })
        .map(Json)
}
