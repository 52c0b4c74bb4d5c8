use std::str::FromStr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use chrono::Utc;
use csv_import::{ImportJob, StoredImport, StoredImportError, enqueue, errors_key};
use futures::TryStreamExt as _;
use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use serde::{Deserialize, Serialize};
use serde_json::json;
use smscrm_domain::ports::blobs::BlobError;
use smscrm_domain::{ImportId, Region, Tenant, ValidationError};
use smscrm_http::{ApiError, ApiJson, ApiPath, ApiQuery, Principal};
use smscrm_import::{ExplicitMapping, ImportError};
use smscrm_store::{ImportRecord, ImportSettings, ImportSource, ImportStatus};

use crate::ImportsState;

/// How long an upload URL stays valid.
const UPLOAD_WINDOW: Duration = Duration::from_secs(3600);
const MAX_FILENAME_CHARS: usize = 200;
const MAX_CONSENT_SOURCE_CHARS: usize = 200;

pub fn router() -> Router<ImportsState> {
    Router::new()
        .route("/v1/imports", post(create).get(list))
        .route("/v1/imports/{id}", get(fetch).patch(change))
        .route(
            "/v1/imports/{id}/file",
            // The local host's upload endpoint: files of any size, streamed to storage.
            put(upload).layer(DefaultBodyLimit::disable()),
        )
        .route("/v1/imports/{id}/dry-run", post(dry_run))
        .route("/v1/imports/{id}/commit", post(commit))
        .route("/v1/imports/{id}/errors.csv", get(errors_csv))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateImport {
    #[serde(default)]
    filename: Option<String>,
    /// Region for numbers without a country code; the tenant's by default.
    #[serde(default)]
    region: Option<String>,
    /// Explicit column mapping, e.g. `phone=Telefon,first_name=Vorname`.
    #[serde(default)]
    mapping: Option<String>,
    /// "I have consent from these contacts", naming where it was given.
    #[serde(default)]
    consent_source: Option<String>,
}

/// The import's region for numbers without a country code: the tenant's unless given.
fn region_or_default(raw: Option<&str>, tenant: &Tenant) -> Result<Region, ValidationError> {
    raw.map_or(Ok(tenant.default_region), Region::from_str)
}

/// An explicit mapping as written, once it parses; blank is none.
fn checked_mapping(raw: Option<&str>) -> Result<Option<String>, ValidationError> {
    let Some(raw) = raw.map(str::trim).filter(|m| !m.is_empty()) else {
        return Ok(None);
    };
    ExplicitMapping::from_str(raw).map_err(|e| ValidationError::new("mapping", e.to_string()))?;
    Ok(Some(raw.to_owned()))
}

fn checked_consent_source(raw: Option<&str>) -> Result<Option<String>, ValidationError> {
    match raw.map(str::trim) {
        Some("") | None => Ok(None),
        Some(s) if s.chars().count() > MAX_CONSENT_SOURCE_CHARS => Err(ValidationError::new(
            "consent_source",
            format!("is longer than {MAX_CONSENT_SOURCE_CHARS} characters"),
        )),
        Some(s) => Ok(Some(s.to_owned())),
    }
}

/// A change of an import's settings: a field left out stays, `null` clears it (the region
/// goes back to the tenant's).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeImport {
    #[serde(default, deserialize_with = "given")]
    region: Option<Option<String>>,
    #[serde(default, deserialize_with = "given")]
    mapping: Option<Option<String>>,
    #[serde(default, deserialize_with = "given")]
    consent_source: Option<Option<String>>,
}

/// Tells a field given as `null` (`Some(None)`) from one left out (`None`).
fn given<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Changes the settings (mapping, region, consent declaration) of an import not yet
/// committed, so a dry run showing a wrong mapping is fixed without uploading the file again.
/// A checked import is `uploaded` again: dry-run it with the new settings.
async fn change(
    State(state): State<ImportsState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<ChangeImport>,
) -> Result<Json<ImportRecord>, ApiError> {
    let loaded = load(&state, &principal, &id).await?;
    // Before its file is uploaded too.
    let record = match arrived(&state, loaded.clone()).await {
        Err(ApiError::Conflict(_)) if loaded.status == ImportStatus::AwaitingUpload => loaded,
        other => other?,
    };
    let (tenant, old) = (&principal.tenant, &record.settings);
    let settings = ImportSettings {
        region: match &request.region {
            Some(raw) => region_or_default(raw.as_deref(), tenant)?,
            None => old.region,
        },
        mapping: match &request.mapping {
            Some(raw) => checked_mapping(raw.as_deref())?,
            None => old.mapping.clone(),
        },
        consent_source: match &request.consent_source {
            Some(raw) => checked_consent_source(raw.as_deref())?,
            None => old.consent_source.clone(),
        },
    };
    // The same settings again: its dry run still holds.
    if settings == record.settings {
        return Ok(Json(record));
    }
    let changed = (state.imports)
        .change_settings(&record.tenant_id, &record.id, &settings, Utc::now())
        .await?;
    Ok(Json(changed))
}

#[derive(Debug, Serialize)]
struct UploadTarget {
    method: &'static str,
    /// Absolute for S3; relative to the API's base URL on the local host, where the request
    /// also needs the API key.
    url: String,
    headers: Vec<(String, String)>,
    expires_at: Option<chrono::DateTime<Utc>>,
}

async fn create(
    State(state): State<ImportsState>,
    principal: Principal,
    ApiJson(request): ApiJson<CreateImport>,
) -> Result<Response, ApiError> {
    let tenant = &principal.tenant;
    let settings = ImportSettings {
        region: region_or_default(request.region.as_deref(), tenant)?,
        mapping: checked_mapping(request.mapping.as_deref())?,
        consent_source: checked_consent_source(request.consent_source.as_deref())?,
    };
    let filename = clean_filename(request.filename.as_deref())?;
    let id = ImportId::generate();
    let now = Utc::now();
    let blob_key = format!("tenants/{}/uploads/{id}.csv", tenant.id);
    let (source, tenant_id) = (ImportSource::Api, tenant.id.clone());
    let record = ImportRecord::new(id, tenant_id, filename, source, settings, blob_key, now);
    state.imports.create(&record).await?;
    let upload = match state
        .blobs
        .presign_put(&record.blob_key, UPLOAD_WINDOW, "text/csv")
        .await
        .map_err(blob_error)?
    {
        Some(presigned) => UploadTarget {
            method: presigned.method,
            url: presigned.url,
            headers: presigned.headers,
            expires_at: Some(presigned.expires_at),
        },
        None => UploadTarget {
            method: "PUT",
            url: format!("/v1/imports/{}/file", record.id),
            headers: vec![("content-type".into(), "text/csv".into())],
            expires_at: None,
        },
    };
    Ok((
        StatusCode::CREATED,
        Json(json!({ "import": record, "upload": upload })),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    #[serde(default)]
    cursor: Option<String>,
    #[serde(default)]
    limit: Option<u32>,
}

async fn list(
    State(state): State<ImportsState>,
    principal: Principal,
    ApiQuery(params): ApiQuery<ListParams>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (limit, cursor) = smscrm_http::paging::page(params.limit, params.cursor.as_deref())?;
    let (items, next) = state
        .imports
        .list(&principal.tenant.id, cursor, limit)
        .await?;
    Ok(Json(
        json!({ "items": items, "next_cursor": next.map(|c| c.encode()) }),
    ))
}

async fn fetch(
    State(state): State<ImportsState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ImportRecord>, ApiError> {
    load(&state, &principal, &id).await.map(Json)
}

async fn upload(
    State(state): State<ImportsState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<ImportRecord>, ApiError> {
    let record = load(&state, &principal, &id).await?;
    if !matches!(
        record.status,
        ImportStatus::AwaitingUpload | ImportStatus::Uploaded | ImportStatus::Checked
    ) {
        return Err(conflict(&record));
    }
    let too_large = ApiError::PayloadTooLarge {
        limit: usize::try_from(state.max_upload_bytes).unwrap_or(usize::MAX),
    };
    if declared_length(&headers).is_some_and(|n| n > state.max_upload_bytes) {
        return Err(too_large);
    }
    // A body without a length is cut off where it passes the limit, and the blob store then
    // drops the partial file.
    let limit = usize::try_from(state.max_upload_bytes).unwrap_or(usize::MAX);
    let stream = Limited::new(body, limit).into_data_stream().map_err(|e| {
        match e.is::<LengthLimitError>() {
            true => std::io::Error::new(std::io::ErrorKind::FileTooLarge, e),
            false => std::io::Error::other(e),
        }
    });
    let reader = tokio_util::io::StreamReader::new(stream);
    let put = state
        .blobs
        .put_stream(&record.blob_key, Box::pin(reader), "text/csv")
        .await;
    match put {
        Err(BlobError::Body(e)) if e.kind() == std::io::ErrorKind::FileTooLarge => {
            return Err(too_large);
        }
        other => other.map_err(blob_error)?,
    };
    let stored = state
        .blobs
        .stat(&record.blob_key)
        .await
        .map_err(blob_error)?
        .ok_or_else(|| ApiError::Conflict("the upload was replaced or deleted".into()))?;
    let record = state
        .imports
        .uploaded(&record.tenant_id, &record.id, &stored, Utc::now())
        .await?;
    Ok(Json(record))
}

/// Runs the dry run and answers `200` with the report, or, for a file larger than
/// [`ImportsState::sync_dry_run_bytes`], queues it and answers `202` with the record
/// (`checking`; it becomes `checked` with the report). A dry run already `checking` is
/// queued again, which resumes it if its worker died.
async fn dry_run(
    State(state): State<ImportsState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<ImportRecord>), ApiError> {
    let record = arrived(&state, load(&state, &principal, &id).await?).await?;
    let movable = [ImportStatus::Uploaded, ImportStatus::Checked];
    if record.status == ImportStatus::Checking {
        if running(&record) {
            return Ok((StatusCode::ACCEPTED, Json(record)));
        }
        let job = ImportJob::dry_run(record.tenant_id.clone(), record.id.clone());
        enqueue(&*state.jobs, &job)
            .await
            .map_err(|e| ApiError::Unavailable(Box::new(e)))?;
        return Ok((StatusCode::ACCEPTED, Json(record)));
    }
    if !movable.contains(&record.status) {
        return Err(conflict(&record));
    }
    if record.bytes_total.unwrap_or(0) <= state.sync_dry_run_bytes {
        return Ok((StatusCode::OK, Json(check(&state, record).await?)));
    }
    let runner = StoredImport {
        contacts: &state.app.contacts,
        imports: &state.imports,
        blobs: &state.blobs,
    };
    match runner.preflight(&record).await {
        Ok(()) => {}
        Err(StoredImportError::File(e)) => return Err(unreadable(e)),
        Err(StoredImportError::NoFile) => {
            return Err(ApiError::Conflict(
                "upload the file before running the import".into(),
            ));
        }
        Err(other) => return Err(ApiError::internal(other)),
    }
    let (tenant, id, before) = (&record.tenant_id, &record.id, record.status);
    let checking = (state.imports)
        .transition(tenant, id, &movable, ImportStatus::Checking, Utc::now())
        .await?;
    let job = ImportJob::dry_run(tenant.clone(), id.clone());
    if let Err(e) = enqueue(&*state.jobs, &job).await {
        let back = [ImportStatus::Checking];
        let _ = (state.imports)
            .transition(tenant, id, &back, before, Utc::now())
            .await;
        return Err(ApiError::Unavailable(Box::new(e)));
    }
    Ok((StatusCode::ACCEPTED, Json(checking)))
}

/// Queues the commit and answers `202 Accepted` with the record (`committing`). Committing an
/// import that is already committing queues it again: that resumes a commit whose worker died,
/// from its checkpoint, and is harmless otherwise (one worker at a time holds the import).
async fn commit(
    State(state): State<ImportsState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<ImportRecord>), ApiError> {
    let record = arrived(&state, load(&state, &principal, &id).await?).await?;
    let runner = StoredImport {
        contacts: &state.app.contacts,
        imports: &state.imports,
        blobs: &state.blobs,
    };
    let before = record.status;
    let record = if before == ImportStatus::Committing {
        if running(&record) {
            return Ok((StatusCode::ACCEPTED, Json(record)));
        }
        record
    } else {
        let movable = [ImportStatus::Uploaded, ImportStatus::Checked];
        if !movable.contains(&before) {
            return Err(conflict(&record));
        }
        if let Err(e) = runner.preflight(&record).await {
            return Err(refuse(&runner, &record, e).await);
        }
        let now = Utc::now();
        (state.imports)
            .transition(
                &record.tenant_id,
                &record.id,
                &movable,
                ImportStatus::Committing,
                now,
            )
            .await?
    };
    let job = ImportJob::new(record.tenant_id.clone(), record.id.clone());
    if let Err(e) = enqueue(&*state.jobs, &job).await {
        if before != ImportStatus::Committing {
            let back = [ImportStatus::Committing];
            let now = Utc::now();
            let _ = (state.imports)
                .transition(&record.tenant_id, &record.id, &back, before, now)
                .await;
        }
        return Err(ApiError::Unavailable(Box::new(e)));
    }
    // The consent declaration is the tenant's word for every contact in the file: the log
    // keeps who gave it.
    let details = json!({
        "filename": record.filename,
        "consent_source": record.settings.consent_source,
        "restarted": before == ImportStatus::Committing,
    });
    let target = format!("import:{}", record.id);
    principal
        .audit(&state.app, "import.committed", target, details)
        .await;
    Ok((StatusCode::ACCEPTED, Json(record)))
}

/// A worker holds the import's lease: queueing it again would only add a job that waits.
fn running(record: &ImportRecord) -> bool {
    record
        .lease_until
        .is_some_and(|until| until > Utc::now().timestamp())
}

/// A file the preflight refuses fails the import, with the reason (422).
async fn refuse(
    runner: &StoredImport<'_>,
    record: &ImportRecord,
    error: StoredImportError,
) -> ApiError {
    match error {
        StoredImportError::File(e) => match runner.keep_refusal(record, &e).await {
            Ok(()) => unreadable(e),
            Err(stored) => ApiError::from(stored),
        },
        StoredImportError::NoFile => {
            ApiError::Conflict("upload the file before running the import".into())
        }
        other => ApiError::internal(other),
    }
}

/// A presigned upload goes straight to S3, so the record learns of it here: an import
/// awaiting its file whose file has arrived, or one whose file was uploaded again (the URL is
/// valid for a while), is `uploaded` with that file, its last dry run cleared.
async fn arrived(state: &ImportsState, record: ImportRecord) -> Result<ImportRecord, ApiError> {
    let replaceable = [ImportStatus::Uploaded, ImportStatus::Checked];
    if record.status != ImportStatus::AwaitingUpload && !replaceable.contains(&record.status) {
        return Ok(record);
    }
    let stored = state
        .blobs
        .stat(&record.blob_key)
        .await
        .map_err(blob_error)?;
    let Some(stored) = stored else {
        return Err(ApiError::Conflict(
            "upload the file before running the import".into(),
        ));
    };
    let same = match &record.upload_tag {
        Some(tag) => *tag == stored.tag,
        // Recorded before upload tags were kept: the size tells most new files apart.
        None => record.bytes_total == Some(stored.size),
    };
    if record.status != ImportStatus::AwaitingUpload && same {
        return Ok(record);
    }
    Ok(state
        .imports
        .uploaded(&record.tenant_id, &record.id, &stored, Utc::now())
        .await?)
}

/// Runs the dry run; a file that cannot be imported is refused with the reason (422). The
/// dry run reads the whole file within the request: see the README on large files.
async fn check(state: &ImportsState, record: ImportRecord) -> Result<ImportRecord, ApiError> {
    let runner = StoredImport {
        contacts: &state.app.contacts,
        imports: &state.imports,
        blobs: &state.blobs,
    };
    match runner.dry_run(&record).await {
        Ok(_) => state
            .imports
            .get(&record.tenant_id, &record.id)
            .await?
            .ok_or(ApiError::NotFound("import")),
        Err(StoredImportError::File(e)) => Err(unreadable(e)),
        Err(StoredImportError::NoFile) => Err(ApiError::Conflict(
            "upload the file before running the import".into(),
        )),
        Err(StoredImportError::Repo(e)) => Err(e.into()),
        Err(replaced @ StoredImportError::Replaced) => {
            Err(ApiError::Conflict(replaced.to_string()))
        }
        Err(other) => Err(ApiError::internal(other)),
    }
}

async fn errors_csv(
    State(state): State<ImportsState>,
    principal: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let record = load(&state, &principal, &id).await?;
    // A file uploaded again has no report yet: the last file's list is not this one's. The
    // import is there, so not 404: a client polls on until the run ends.
    if record.report.is_none() {
        let status = serde_json::to_value(record.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let message = match &record.failure {
            // Failed before reading any row (a file it could not read, a wrong mapping).
            Some(failure) if record.status == ImportStatus::Failed => {
                format!("the import failed and has no error report: {failure}")
            }
            Some(failure) => format!(
                "the import's file was refused, so it has no error report: {failure} (upload \
                 the file again, or change the import's settings, and run it again)"
            ),
            None => format!(
                "the import is {status}: its error report is written when a dry run or a \
                 commit of its file ends"
            ),
        };
        return Err(ApiError::StateConflict {
            code: "report_not_ready",
            message,
            details: serde_json::json!({ "status": status }),
        });
    }
    let Some(reader) = state
        .blobs
        .open(&errors_key(&record))
        .await
        .map_err(blob_error)?
    else {
        return Err(ApiError::NotFound("error report"));
    };
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(reader));
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}-errors.csv\"", record.id),
            ),
        ],
        body,
    )
        .into_response())
}

async fn load(
    state: &ImportsState,
    principal: &Principal,
    raw_id: &str,
) -> Result<ImportRecord, ApiError> {
    let id: ImportId = raw_id.parse().map_err(|_| ApiError::NotFound("import"))?;
    state
        .imports
        .get(&principal.tenant.id, &id)
        .await?
        .ok_or(ApiError::NotFound("import"))
}

fn conflict(record: &ImportRecord) -> ApiError {
    let status = serde_json::to_value(record.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    ApiError::Conflict(format!("the import is {status}"))
}

fn unreadable(e: ImportError) -> ApiError {
    if e.is_the_mappings() {
        return ApiError::Rule {
            code: "invalid_mapping",
            message: e.to_string(),
            details: serde_json::json!({ "field": "mapping" }),
        };
    }
    ApiError::Unreadable(e.to_string())
}

/// The body's `Content-Length`, when the client sent a readable one.
fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

fn blob_error(e: BlobError) -> ApiError {
    match e {
        BlobError::Body(io) => ApiError::BadRequest {
            code: "upload_interrupted",
            message: format!("the upload did not complete: {io}"),
        },
        BlobError::Unavailable(_) => ApiError::Unavailable(Box::new(e)),
        other => ApiError::internal(other),
    }
}

fn clean_filename(raw: Option<&str>) -> Result<String, ApiError> {
    let name = raw
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .unwrap_or("upload.csv");
    // Bidirectional overrides make a name display as another (`txt.exe` shown as `exe.txt`).
    let hidden = |c: char| {
        c.is_control()
            || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if name.chars().count() > MAX_FILENAME_CHARS || name.chars().any(hidden) {
        return Err(ValidationError::new("filename", "must be 1-200 printable characters").into());
    }
    Ok(name.to_owned())
}
