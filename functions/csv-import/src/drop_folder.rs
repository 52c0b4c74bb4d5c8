//! The drop folder: a CSV put under `tenants/{tenant_id}/imports/` is committed with the
//! tenant's defaults, or the settings of an optional sidecar `{file}.mapping.json`, and a JSON
//! report is written to `tenants/{tenant_id}/imports/reports/{file}.json`.
//!
//! On AWS an S3 notification calls [`DropFolder::process`]; locally the host's watcher does,
//! for files appearing in `<data-dir>/dropbox/`. Processing creates the import record, writes
//! the report file saying `committing` and queues the commit (see [`crate::jobs`]), whose
//! worker overwrites the report with the outcome. A file whose report exists is skipped, so a
//! redelivered notification or a restarted watcher never imports a file twice (and importing
//! twice would change nothing anyway: imports are idempotent). A notification holds a short
//! lease on its file meanwhile, so two deliveries of one notification at once cannot both
//! find the file untaken.

use std::sync::Arc;

use chrono::Utc;
use serde::{Deserialize, Serialize};
use serde_json::json;
use smscrm_domain::import_report::ImportReport;
use smscrm_domain::ports::{BlobStat, Blobs, Queue};
use smscrm_domain::{ImportId, Region, Tenant, TenantId};
use smscrm_store::{
    Actor, AuditEntry, AuditLog, Contacts, ImportRecord, ImportSettings, ImportSource,
    ImportStatus, Imports, Tenants,
};

use crate::jobs::{ImportJob, enqueue};
use crate::stored::{StoredImport, StoredImportError};

const SIDECAR_SUFFIX: &str = ".mapping.json";

/// How long one notification may take to record its file's import (the function's timeout is
/// 60 s): a notification that dies holding the lease keeps its retry out no longer.
const DROP_LEASE: chrono::TimeDelta = chrono::TimeDelta::seconds(90);

/// A sidecar holds a few settings.
const MAX_SIDECAR_BYTES: u64 = 64 * 1024;

/// What a sidecar may say; every field is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Sidecar {
    #[serde(default)]
    mapping: Option<String>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    consent_source: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DropOutcome {
    /// The commit is on the import-jobs queue.
    Queued { import_id: ImportId },
    /// The file could not be imported; the report file says why.
    Refused { import_id: ImportId, reason: String },
    /// Not an import (a report, a sidecar, another folder) or already imported.
    Ignored(&'static str),
}

const NO_SUCH_TENANT: &str = "no such tenant";
/// A new sidecar arrived for a file still importing with the old one: once that import ends,
/// the file is imported again with the new sidecar.
const SIDECAR_WAITS: &str = "its new sidecar waits for the running import";
const NOT_A_TENANT_ID: &str = "not a tenant id";

/// Whether the drop folder looks at the file at `key`: a file to import, or one in a folder
/// named for no tenant ("tenants/My Shop/imports/"), which gets a report saying so.
pub fn worth_a_look(key: &str) -> bool {
    matches!(parse_key(key), Ok(_) | Err(NOT_A_TENANT_ID))
}

/// The sidecar an import of a dropped file ran with, as its report keeps it: a sidecar put
/// (or changed) after its file was imported has another version, and the file is imported
/// again with it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct SidecarSeen {
    /// Its name, when there was one.
    file: Option<String>,
    /// Its version (S3's ETag).
    version: Option<String>,
}

#[derive(Debug, Serialize)]
struct ReportFile<'a> {
    /// None when the file was refused before an import was made (no such tenant).
    import_id: Option<&'a ImportId>,
    file: &'a str,
    /// The version of the file imported (S3's ETag): the same file notified again is not
    /// imported twice, a new file dropped under the same name is.
    #[serde(skip_serializing_if = "Option::is_none")]
    file_version: Option<&'a str>,
    status: ImportStatus,
    failure: Option<&'a str>,
    /// What the import ran with: the tenant's region, or the sidecar's settings.
    #[serde(skip_serializing_if = "Option::is_none")]
    settings: Option<&'a ImportSettings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sidecar: Option<&'a SidecarSeen>,
    report: Option<&'a ImportReport>,
}

pub struct DropFolder {
    pub tenants: Tenants,
    pub contacts: Contacts,
    pub imports: Imports,
    pub blobs: Arc<dyn Blobs>,
    /// The import-jobs queue.
    pub jobs: Arc<dyn Queue>,
    pub audit: AuditLog,
}

/// `tenants/{tenant}/imports/{file}` split into its tenant and file name, for an importable
/// file; `Err` says why a key is not one.
/// The files the drop folder imports (any case), the same locally and on S3, whose trigger
/// filters on the prefix only.
pub const IMPORTABLE_SUFFIXES: [&str; 3] = [".csv", ".tsv", ".txt"];

const PARTIAL_SUFFIXES: [&str; 6] = [
    ".filepart",
    ".part",
    ".partial",
    ".crdownload",
    ".download",
    ".tmp",
];

pub fn parse_key(key: &str) -> Result<(TenantId, &str), &'static str> {
    let mut parts = key.splitn(4, '/');
    let (Some("tenants"), Some(tenant), Some("imports"), Some(file)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("not under tenants/{tenant}/imports/");
    };
    if file.contains('/') {
        return Err("in a subfolder (reports are written there)");
    }
    // The folder itself (the marker object S3's console makes), or the reports folder.
    if file.is_empty() || file == "reports" {
        return Err("a folder");
    }
    if file.ends_with(SIDECAR_SUFFIX) {
        return Err("a mapping sidecar");
    }
    // Hidden files and editors' lock files (`.DS_Store`, `.~lock.x.csv#`, `~$x.csv`) are not
    // the user's exports.
    if file.starts_with('.') || file.starts_with("~$") {
        return Err("a hidden or lock file");
    }
    // What file managers leave in folders.
    if ["desktop.ini", "thumbs.db", "icon\r"].contains(&file.to_ascii_lowercase().as_str()) {
        return Err("a file manager's file");
    }
    // What upload tools and browsers write before renaming the file into place.
    let lower = file.to_ascii_lowercase();
    if PARTIAL_SUFFIXES.iter().any(|s| lower.ends_with(s)) {
        return Err("a file still being copied");
    }
    let tenant = tenant.parse().map_err(|_| NOT_A_TENANT_ID)?;
    Ok((tenant, file))
}

/// Why a file dropped in the folder is not imported for its type, if it is not: the user
/// dropped it to be imported, so the report says what to do instead.
pub fn type_refusal(file: &str) -> Option<String> {
    let lower = file.to_ascii_lowercase();
    if IMPORTABLE_SUFFIXES.iter().any(|s| lower.ends_with(s)) {
        return None;
    }
    let extension = lower.rsplit_once('.').map_or("", |(_, e)| e);
    let advice = match extension {
        "xlsx" | "xlsm" | "xls" | "ods" | "numbers" => {
            "it is a spreadsheet workbook: save the sheet as CSV (in Excel: File > Save As > \
             CSV UTF-8) and drop the .csv file"
        }
        "zip" | "gz" | "7z" | "rar" | "tar" | "tgz" => {
            "it is compressed: unpack it and drop the .csv file inside"
        }
        _ => "only .csv, .tsv and .txt files are imported: export the contacts as CSV",
    };
    Some(format!("{file} was not imported: {advice}"))
}

impl DropFolder {
    /// Imports the object at `key` if it is a new drop-folder file. An `Err` is worth retrying
    /// (storage unavailable); every problem with the file itself ends in a report.
    pub async fn process(&self, key: &str) -> Result<DropOutcome, StoredImportError> {
        // A sidecar put after its file: the file is imported again, with it.
        if let Some(file_key) = key.strip_suffix(SIDECAR_SUFFIX)
            && parse_key(file_key).is_ok()
            && self.blobs.stat(file_key).await?.is_some()
        {
            return Box::pin(self.process(file_key)).await;
        }
        let (tenant_id, file) = match parse_key(key) {
            Ok(found) => found,
            Err(NOT_A_TENANT_ID) => {
                let mut parts = key.split('/').skip(1);
                if let (Some(folder), Some(file)) = (parts.next(), parts.nth(1)) {
                    self.report_no_tenant(key, file, folder).await?;
                }
                return Ok(DropOutcome::Ignored(NOT_A_TENANT_ID));
            }
            Err(why) => return Ok(DropOutcome::Ignored(why)),
        };
        // Reads first, so a file that needs nothing costs no write: the local watcher looks
        // at every file twice a second.
        if let Err(why) = self.to_import(key, &tenant_id).await? {
            if why == NO_SUCH_TENANT {
                self.report_no_tenant(key, file, tenant_id.as_str()).await?;
            }
            if why == SIDECAR_WAITS {
                // Retried (S3 redelivers; the local watcher looks again), not dropped.
                return Err(StoredImportError::Busy(format!("{key}: {why}")));
            }
            return Ok(DropOutcome::Ignored(why));
        }
        // S3 may deliver a notification twice, at once: both would see the file untaken and
        // make an import each. The second waits for its retry, when the report marks the
        // file as taken. Under the lease, everything is checked again.
        let digest = key_digest(key);
        let owner = ulid::Ulid::new().to_string();
        let now = Utc::now();
        if !(self.imports)
            .take_drop_lease(&tenant_id, &digest, &owner, now, DROP_LEASE)
            .await?
        {
            return Err(StoredImportError::Busy(
                "another notification of this file is being processed".into(),
            ));
        }
        let outcome = self.process_leased(key, tenant_id.clone(), file).await;
        if let Err(error) = (self.imports)
            .release_drop_lease(&tenant_id, &digest, &owner)
            .await
        {
            // It expires on its own; a retry meanwhile waits for the next one.
            tracing::warn!(%error, key, "a drop-folder lease was not given back");
        }
        outcome
    }

    /// The dropped version of the file at `key` and its tenant when the file is to be
    /// imported; otherwise why not: it is gone, this version was taken already, or its tenant
    /// does not exist.
    async fn to_import(
        &self,
        key: &str,
        tenant_id: &TenantId,
    ) -> Result<Result<(BlobStat, Tenant), &'static str>, StoredImportError> {
        let Some(dropped) = self.blobs.stat(key).await? else {
            return Ok(Err("the file is gone"));
        };
        let sidecar = self.sidecar_seen(key).await?;
        match self
            .taken(tenant_id, &report_key(key), &dropped.tag, &sidecar)
            .await?
        {
            Taken::No => {}
            Taken::Yes => return Ok(Err("already imported")),
            Taken::UntilItEnds => return Ok(Err(SIDECAR_WAITS)),
        }
        match self.tenants.get(tenant_id).await? {
            Some(tenant) => Ok(Ok((dropped, tenant))),
            None => Ok(Err(NO_SUCH_TENANT)),
        }
    }

    /// Tells whoever dropped a file in a folder named for no tenant (a mistyped id, or a
    /// tenant not created yet) why nothing happens, once per version of the file. The report
    /// names no import and does not mark the file taken: once the tenant exists, the file is
    /// imported.
    async fn report_no_tenant(
        &self,
        key: &str,
        file: &str,
        tenant_id: &str,
    ) -> Result<(), StoredImportError> {
        let Some(dropped) = self.blobs.stat(key).await? else {
            return Ok(());
        };
        let at = report_key(key);
        if let Some(bytes) = self.blobs.get(&at).await?
            && let Ok(told) = serde_json::from_slice::<ToldBefore>(&bytes)
            && told.file_version.as_deref() == Some(dropped.tag.as_str())
        {
            return Ok(());
        }
        let failure = match tenant_id.parse::<TenantId>() {
            Ok(_) => format!(
                "{file} was not imported: there is no tenant `{tenant_id}`; check the folder's \
                 name, or, once the tenant exists, put the file there again"
            ),
            Err(_) => format!(
                "{file} was not imported: the folder `{tenant_id}` is not a tenant id; put the \
                 file in tenants/<tenant id>/imports/, with the id as `smscrm tenant` or the \
                 API shows it"
            ),
        };
        let body = ReportFile {
            import_id: None,
            file,
            file_version: Some(&dropped.tag),
            status: ImportStatus::Failed,
            failure: Some(&failure),
            settings: None,
            sidecar: None,
            report: None,
        };
        put_report(&*self.blobs, key, &body).await
    }

    async fn process_leased(
        &self,
        key: &str,
        tenant_id: TenantId,
        file: &str,
    ) -> Result<DropOutcome, StoredImportError> {
        let (dropped, tenant) = match self.to_import(key, &tenant_id).await? {
            Ok(found) => found,
            Err(SIDECAR_WAITS) => {
                return Err(StoredImportError::Busy(format!("{key}: {SIDECAR_WAITS}")));
            }
            Err(why) => return Ok(DropOutcome::Ignored(why)),
        };
        let now = Utc::now();
        let settings = ImportSettings {
            region: tenant.default_region,
            mapping: None,
            consent_source: None,
        };
        let (id, source) = (ImportId::generate(), ImportSource::DropFolder);
        let mut record = ImportRecord::new(
            id,
            tenant.id.clone(),
            file.to_owned(),
            source,
            settings,
            key.to_owned(),
            now,
        );
        record.status = ImportStatus::Committing;
        record.bytes_total = Some(dropped.size);
        let seen = self.sidecar_seen(key).await?;
        let sidecar = self.sidecar(key).await;
        if let Ok(sidecar) = &sidecar {
            apply(sidecar, &mut record.settings);
        }
        self.imports.create(&record).await?;
        let queued = self.queue(&mut record, sidecar, &seen, &dropped.tag).await;
        if let Err(e) = &queued {
            // Not left at `committing` with no job: the retried notification makes a new
            // import, since the report file does not mark the file taken.
            let reason = format!("the import could not be started ({e}); it will be retried");
            let _ = self.runner().fail(&record, &reason).await;
        }
        queued
    }

    fn runner(&self) -> StoredImport<'_> {
        StoredImport {
            contacts: &self.contacts,
            imports: &self.imports,
            blobs: &self.blobs,
        }
    }

    /// Pins the dropped version on its new import, then queues the import, or fails it when
    /// the sidecar is refused; the report file says which.
    async fn queue(
        &self,
        record: &mut ImportRecord,
        sidecar: Result<Sidecar, String>,
        seen: &SidecarSeen,
        tag: &str,
    ) -> Result<DropOutcome, StoredImportError> {
        // This version is the one imported: replaced before the job reads it, the job fails
        // and the new version's own notification imports it.
        let pinned = (self.imports)
            .pin_file(&record.tenant_id, &record.id, tag)
            .await?;
        record.file_tag = Some(pinned);
        let refused = match type_refusal(&record.filename) {
            Some(refusal) => Err(refusal),
            None => sidecar.and_then(|s| check(&s)),
        };
        if let Err(refusal) = refused {
            self.runner().fail(record, &refusal).await?;
            let status = ImportStatus::Failed;
            let failure = Some(refusal.as_str());
            write_report_seen(&*self.blobs, record, status, failure, None, Some(seen)).await?;
            return Ok(DropOutcome::Refused {
                import_id: record.id.clone(),
                reason: refusal,
            });
        }
        // The report file marks the file as taken before the job can finish and overwrite it.
        let committing = ImportStatus::Committing;
        write_report_seen(&*self.blobs, record, committing, None, None, Some(seen)).await?;
        let job = ImportJob::new(record.tenant_id.clone(), record.id.clone());
        if let Err(e) = enqueue(&*self.jobs, &job).await {
            // Unmark the file, so the retried notification queues it.
            let _ = self.blobs.delete(&report_key(&record.blob_key)).await;
            return Err(StoredImportError::Internal(format!("not queued: {e}")));
        }
        self.audit_commit(record).await;
        Ok(DropOutcome::Queued {
            import_id: record.id.clone(),
        })
    }

    /// Best effort: the file is queued and marked taken, so a retry would not import it
    /// again; a lost entry is logged rather than retried.
    async fn audit_commit(&self, record: &ImportRecord) {
        let entry = AuditEntry::new(
            Utc::now(),
            Actor::System {
                component: "drop-folder".into(),
            },
            "import.committed",
            format!("import:{}", record.id),
            serde_json::json!({
                "filename": record.filename,
                "consent_source": record.settings.consent_source,
                "object": record.blob_key,
            }),
        );
        if let Err(error) = self.audit.append(&record.tenant_id, &entry).await {
            tracing::error!(%error, import_id = %record.id, "a drop-folder commit was not audited");
        }
    }

    /// Whether the report beside the file says this version of it was taken already, with
    /// this version of its sidecar. A report without a version (written before versions were
    /// kept) counts as taken, and one without a sidecar's as taken with any. One still saying
    /// `committing` for an import that failed does not: its queueing failed, and so did
    /// unmarking the file.
    async fn taken(
        &self,
        tenant: &TenantId,
        report_key: &str,
        tag: &str,
        sidecar: &SidecarSeen,
    ) -> Result<Taken, StoredImportError> {
        #[derive(Deserialize)]
        struct Report {
            file_version: Option<String>,
            import_id: Option<ImportId>,
            status: Option<ImportStatus>,
            #[serde(default)]
            sidecar: Option<SidecarSeen>,
        }
        let Some(bytes) = self.blobs.get(report_key).await? else {
            return Ok(Taken::No);
        };
        let report = match serde_json::from_slice::<Report>(&bytes) {
            Ok(report) => report,
            Err(_) => return Ok(Taken::Yes),
        };
        // A sidecar put or changed since imports the file again. One deleted since does only
        // if the import failed (for its sidecar, say): after a good import it changes nothing.
        let failed = report.status == Some(ImportStatus::Failed);
        let new_sidecar = report.sidecar.is_some_and(|before| {
            before.version != sidecar.version && (sidecar.version.is_some() || failed)
        });
        Ok(
            match (report.file_version, report.status, report.import_id) {
                (Some(version), _, _) if version != tag => Taken::No,
                (Some(_), Some(ImportStatus::Committing), Some(id)) => {
                    let record = self.imports.get(tenant, &id).await?;
                    match record.is_none_or(|r| r.status != ImportStatus::Failed) {
                        true if new_sidecar => Taken::UntilItEnds,
                        true => Taken::Yes,
                        false => Taken::No,
                    }
                }
                // Refused before any import was made: there was no such tenant.
                (Some(_), Some(ImportStatus::Failed), None) => Taken::No,
                _ if new_sidecar => Taken::No,
                _ => Taken::Yes,
            },
        )
    }

    /// The sidecar beside the file at `key` as it is now: its name and version, if any.
    async fn sidecar_seen(&self, key: &str) -> Result<SidecarSeen, StoredImportError> {
        let sidecar = format!("{key}{SIDECAR_SUFFIX}");
        let name = sidecar.rsplit('/').next().unwrap_or(&sidecar);
        if name.len() > 255 || sidecar.len() > 1024 {
            return Ok(SidecarSeen::default());
        }
        Ok(match self.blobs.stat(&sidecar).await? {
            Some(stat) => SidecarSeen {
                file: Some(name.to_owned()),
                version: Some(stat.tag),
            },
            None => SidecarSeen::default(),
        })
    }

    async fn sidecar(&self, key: &str) -> Result<Sidecar, String> {
        let sidecar = format!("{key}{SIDECAR_SUFFIX}");
        // A name too long for a file (255 bytes) or an S3 key (1,024) cannot have a sidecar.
        let name = sidecar.rsplit('/').next().unwrap_or(&sidecar);
        if name.len() > 255 || sidecar.len() > 1024 {
            return Ok(Sidecar::default());
        }
        // Read whole: a few settings, never a file dropped under that name by mistake.
        match self.blobs.size(&sidecar).await {
            Ok(Some(size)) if size > MAX_SIDECAR_BYTES => {
                return Err(format!(
                    "the mapping sidecar is larger than {} KiB",
                    MAX_SIDECAR_BYTES / 1024
                ));
            }
            Ok(_) => {}
            Err(e) => return Err(format!("the mapping sidecar could not be read: {e}")),
        }
        match self.blobs.get(&sidecar).await {
            Ok(None) => Ok(Sidecar::default()),
            Ok(Some(bytes)) => serde_json::from_slice(&bytes)
                .map_err(|e| format!("the mapping sidecar is not valid: {e}")),
            Err(e) => Err(format!("the mapping sidecar could not be read: {e}")),
        }
    }
}

/// Whether a dropped file was imported already.
enum Taken {
    No,
    Yes,
    /// It is importing still, and its sidecar has changed since: imported again after.
    UntilItEnds,
}

/// The key of a dropped file, as its lease names it.
fn key_digest(key: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Where the drop-folder report of the file at `blob_key` goes.
pub fn report_key(blob_key: &str) -> String {
    crate::stored::beside(blob_key, "json")
}

/// Writes (or overwrites) the JSON report beside a drop-folder file, keeping the sidecar the
/// report written when the import was queued names.
pub(crate) async fn write_report(
    blobs: &dyn Blobs,
    record: &ImportRecord,
    status: ImportStatus,
    failure: Option<&str>,
    report: Option<&ImportReport>,
) -> Result<(), StoredImportError> {
    write_report_seen(blobs, record, status, failure, report, None).await
}

async fn write_report_seen(
    blobs: &dyn Blobs,
    record: &ImportRecord,
    status: ImportStatus,
    failure: Option<&str>,
    report: Option<&ImportReport>,
    sidecar: Option<&SidecarSeen>,
) -> Result<(), StoredImportError> {
    #[derive(Deserialize)]
    struct Before {
        import_id: Option<ImportId>,
        sidecar: Option<SidecarSeen>,
    }
    let before = match sidecar {
        Some(_) => None,
        None => blobs
            .get(&report_key(&record.blob_key))
            .await?
            .and_then(|bytes| serde_json::from_slice::<Before>(&bytes).ok()),
    };
    // A newer import of the file (a new version dropped meanwhile) has written its report:
    // this older one's outcome is on its import record, not over that report.
    if let Some(Before {
        import_id: Some(other),
        ..
    }) = &before
        && *other != record.id
    {
        return Ok(());
    }
    let before = before.and_then(|before| before.sidecar);
    let body = ReportFile {
        import_id: Some(&record.id),
        file: &record.filename,
        file_version: record.file_tag.as_deref(),
        status,
        failure,
        settings: Some(&record.settings),
        sidecar: sidecar.or(before.as_ref()),
        report,
    };
    put_report(blobs, &record.blob_key, &body).await
}

async fn put_report(
    blobs: &dyn Blobs,
    blob_key: &str,
    body: &ReportFile<'_>,
) -> Result<(), StoredImportError> {
    let bytes = serde_json::to_vec_pretty(body)
        .unwrap_or_else(|e| json!({ "error": e.to_string() }).to_string().into_bytes());
    blobs
        .put(&report_key(blob_key), bytes.into(), "application/json")
        .await?;
    Ok(())
}

/// The version a report was written for.
#[derive(Deserialize)]
struct ToldBefore {
    file_version: Option<String>,
}

fn apply(sidecar: &Sidecar, settings: &mut ImportSettings) {
    if let Some(region) = sidecar
        .region
        .as_deref()
        .and_then(|r| r.parse::<Region>().ok())
    {
        settings.region = region;
    }
    settings.mapping.clone_from(&sidecar.mapping);
    // As in the API: a blank source declares nothing.
    settings.consent_source = (sidecar.consent_source.as_deref())
        .map(str::trim)
        .filter(|source| !source.is_empty())
        .map(str::to_owned);
}

/// A sidecar value that does not parse refuses the file rather than importing it wrongly.
fn check(sidecar: &Sidecar) -> Result<(), String> {
    if let Some(region) = &sidecar.region {
        region
            .parse::<Region>()
            .map_err(|e| format!("the mapping sidecar's region: {e}"))?;
    }
    if let Some(mapping) = &sidecar.mapping {
        mapping
            .parse::<smscrm_import::ExplicitMapping>()
            .map_err(|e| format!("the mapping sidecar's mapping: {e}"))?;
    }
    Ok(())
}

/// The S3 notification handler: each record's key, URL-decoded, goes to
/// [`DropFolder::process`], one at a time (an import already saturates the table's write
/// path). A retryable failure fails the invocation so S3's asynchronous invoke retries it;
/// files already imported are skipped on the retry.
pub async fn handle_s3_event(
    folder: &DropFolder,
    event: aws_lambda_events::event::s3::S3Event,
) -> Result<Vec<DropOutcome>, Box<dyn std::error::Error + Send + Sync>> {
    let mut outcomes = Vec::new();
    for record in event.records {
        let Some(raw) = record.s3.object.key.as_deref() else {
            continue;
        };
        let key = smscrm_aws::decode_event_key(raw)?;
        let outcome = folder.process(&key).await?;
        match &outcome {
            DropOutcome::Queued { import_id } => tracing::info!(%key, %import_id, "queued"),
            DropOutcome::Refused { import_id, reason } => {
                tracing::warn!(%key, %import_id, %reason, "refused");
            }
            DropOutcome::Ignored(why) => tracing::info!(%key, why, "ignored"),
        }
        outcomes.push(outcome);
    }
    Ok(outcomes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_blank_consent_source_declares_nothing() {
        let mut settings = ImportSettings {
            region: "US".parse().expect("region"),
            mapping: None,
            consent_source: None,
        };
        for (given, kept) in [(" ", None), (" paper forms ", Some("paper forms"))] {
            let sidecar = Sidecar {
                consent_source: Some(given.into()),
                ..Sidecar::default()
            };
            apply(&sidecar, &mut settings);
            assert_eq!(settings.consent_source.as_deref(), kept, "{given:?}");
        }
    }

    #[test]
    fn files_not_in_csv_are_refused_saying_what_to_do() {
        for file in ["a b.csv", "LIST.CSV", "tabs.tsv", "Export.Txt"] {
            assert_eq!(type_refusal(file), None, "{file}");
        }
        for (file, says) in [
            ("Contacts.XLSX", "save the sheet as CSV"),
            ("old.xls", "save the sheet as CSV"),
            ("list.csv.zip", "unpack it"),
            ("list.pdf", "only .csv, .tsv and .txt files"),
            ("list", "only .csv, .tsv and .txt files"),
        ] {
            let refusal = type_refusal(file).expect(file);
            assert!(
                refusal.starts_with(file) && refusal.contains(says),
                "{refusal}"
            );
        }
    }

    #[test]
    fn only_files_directly_in_an_imports_folder_count() {
        let t = TenantId::generate();
        for file in ["a b.csv", "LIST.CSV", "tabs.tsv", "Export.Txt"] {
            assert_eq!(
                parse_key(&format!("tenants/{t}/imports/{file}")),
                Ok((t.clone(), file))
            );
        }
        for key in [
            format!("tenants/{t}/imports/reports/a.csv.json"),
            format!("tenants/{t}/imports/a.csv.mapping.json"),
            format!("tenants/{t}/imports/.DS_Store"),
            format!("tenants/{t}/imports/.~lock.a.csv#"),
            format!("tenants/{t}/imports/~$a.csv"),
            format!("tenants/{t}/imports/reports"),
            format!("tenants/{t}/imports/list.csv.filepart"),
            format!("tenants/{t}/imports/Thumbs.db"),
            format!("tenants/{t}/imports/desktop.ini"),
            format!("tenants/{t}/imports/list.csv.PART"),
            format!("tenants/{t}/imports/"),
            format!("tenants/{t}/imports/2024/a.csv"),
            format!("tenants/{t}/uploads/a.csv"),
            "tenants/nope/imports/a.csv".to_owned(),
            "a.csv".to_owned(),
        ] {
            assert!(parse_key(&key).is_err(), "{key}");
        }
    }
}
