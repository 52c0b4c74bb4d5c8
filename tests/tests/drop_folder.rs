//! The drop folder on both backends: a notification that fails part-way (the report file not
//! written, the job not queued) leaves its import failed, saying why, never stuck at
//! `committing` with no job, and its retry imports the file; two notifications of one upload
//! at once make one import.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::Utc;
use csv_import::{DropFolder, DropOutcome, ImportJob, ImportWorker, JobOutcome, StoredImportError};
use smscrm_domain::ports::blobs::{BlobError, BlobReader, BlobStat, PresignedUpload};
use smscrm_domain::ports::queue::{Delivery, OutgoingMessage, QueueError};
use smscrm_domain::ports::{Blobs, Query, Queue, Table};
use smscrm_domain::{ImportId, Tenant};
use smscrm_store::{AuditLog, Contacts, ImportRecord, ImportStatus, Imports, Tenants};
use smscrm_tests::backends::Backend;

smscrm_tests::backend_scenarios!(
    a_notification_whose_report_failed_fails_its_import_and_the_retry_imports,
    a_notification_whose_queueing_failed_fails_its_import_and_the_retry_imports,
    a_file_whose_name_leaves_no_room_for_a_sidecar_is_imported,
    a_sidecar_put_after_its_file_imports_the_file_again_with_it,
    a_file_refused_for_its_sidecar_is_imported_once_the_sidecar_is_deleted,
    an_older_imports_outcome_never_overwrites_a_newer_ones_report,
    two_notifications_of_one_upload_at_once_make_one_import,
    looking_again_at_an_imported_file_writes_nothing,
    a_workbook_is_refused_with_a_report_saying_to_save_it_as_csv,
    a_file_for_no_tenant_gets_a_report_once_and_is_imported_once_the_tenant_exists,
);

const FILE: &[u8] = b"name,mobile\nAda Lovelace,07911 123456\nBob Jones,07911 123457\n";

struct Setup {
    table: Arc<dyn Table>,
    blobs: Arc<Faulty<Arc<dyn Blobs>>>,
    jobs: Arc<Faulty<Arc<dyn Queue>>>,
    folder: DropFolder,
    tenant: Tenant,
    key: String,
}

/// A tenant, its file in the drop folder, and the drop folder on blobs and a queue that fail
/// on demand.
async fn setup(backend: &dyn Backend) -> Setup {
    let table = backend.table();
    let blobs = Arc::new(Faulty::new(backend.blobs()));
    let jobs = Arc::new(Faulty::new(backend.queue(Default::default()).await.queue));
    let tenant = Tenant::new("Dropper", "Europe/London", "GB", Utc::now()).expect("tenant");
    Tenants::new(table.clone())
        .create(&tenant)
        .await
        .expect("create tenant");
    let key = format!("tenants/{}/imports/list.csv", tenant.id);
    blobs
        .put(&key, Bytes::from_static(FILE), "text/csv")
        .await
        .expect("put file");
    let folder = DropFolder {
        tenants: Tenants::new(table.clone()),
        contacts: Contacts::new(table.clone()),
        imports: Imports::new(table.clone()),
        blobs: blobs.clone(),
        jobs: jobs.clone(),
        audit: AuditLog::new(table.clone()),
    };
    Setup {
        table,
        blobs,
        jobs,
        folder,
        tenant,
        key,
    }
}

impl Setup {
    async fn imports(&self) -> Vec<ImportRecord> {
        let (records, _) = Imports::new(self.table.clone())
            .list(&self.tenant.id, None, 100)
            .await
            .expect("list imports");
        records
    }

    /// Runs every queued job, each of which must complete; returns the imports they finished.
    async fn run_jobs(&self) -> Vec<ImportId> {
        let ended = self.run_jobs_ending_as_they_may().await;
        for (id, status) in &ended {
            assert_eq!(*status, ImportStatus::Completed, "{id}");
        }
        ended.into_iter().map(|(id, _)| id).collect()
    }

    /// Runs every queued job; returns the imports they finished, and how.
    async fn run_jobs_ending_as_they_may(&self) -> Vec<(ImportId, ImportStatus)> {
        self.run_jobs_up_to(usize::MAX).await
    }

    /// Runs queued jobs, `most` at most; returns the imports they finished, and how.
    async fn run_jobs_up_to(&self, most: usize) -> Vec<(ImportId, ImportStatus)> {
        let worker = ImportWorker {
            contacts: Contacts::new(self.table.clone()),
            imports: Imports::new(self.table.clone()),
            blobs: self.blobs.clone(),
            queue: self.jobs.clone(),
            fan_out: Default::default(),
        };
        let mut finished = Vec::new();
        for _ in 0..most {
            let delivered = (self.jobs.inner)
                .receive(1, Duration::from_millis(200))
                .await
                .expect("receive");
            let Some(delivery) = delivered.into_iter().next() else {
                break;
            };
            let job: ImportJob = serde_json::from_str(&delivery.body).expect("job");
            if let JobOutcome::Finished(status) = worker.handle(&job, None).await.expect("run") {
                finished.push((job.import_id, status));
            }
            self.jobs.inner.ack(&delivery.receipt).await.expect("ack");
        }
        finished
    }

    async fn contact_count(&self) -> usize {
        Contacts::new(self.table.clone())
            .list(&self.tenant.id, None, 10)
            .await
            .expect("list contacts")
            .items
            .len()
    }

    /// The consent status of each contact.
    async fn consents(&self) -> Vec<String> {
        Contacts::new(self.table.clone())
            .list(&self.tenant.id, None, 10)
            .await
            .expect("list contacts")
            .items
            .iter()
            .map(|c| serde_json::to_value(c.consent.status).expect("status"))
            .map(|status| status.as_str().unwrap_or_default().to_owned())
            .collect()
    }

    async fn report_file(&self) -> serde_json::Value {
        let key = format!("tenants/{}/imports/reports/list.csv.json", self.tenant.id);
        self.report_at(&key).await
    }

    /// The drop-folder report at `key`, which must exist.
    async fn report_at(&self, key: &str) -> serde_json::Value {
        let bytes = self.blobs.get(key).await.expect("get").expect("report");
        serde_json::from_slice(&bytes).expect("json")
    }
}

/// The report file could not be written (the store was down): the notification fails and is
/// retried, and the retry imports the file.
async fn a_notification_whose_report_failed_fails_its_import_and_the_retry_imports(
    backend: &dyn Backend,
) {
    let s = setup(backend).await;
    s.blobs.failing.store(true, Ordering::SeqCst);
    assert!(s.folder.process(&s.key).await.is_err());
    s.blobs.failing.store(false, Ordering::SeqCst);
    s.retry_imports_the_file().await;
}

/// The job could not be queued: the same, through the queue.
async fn a_notification_whose_queueing_failed_fails_its_import_and_the_retry_imports(
    backend: &dyn Backend,
) {
    let s = setup(backend).await;
    s.jobs.failing.store(true, Ordering::SeqCst);
    assert!(s.folder.process(&s.key).await.is_err());
    s.jobs.failing.store(false, Ordering::SeqCst);
    s.retry_imports_the_file().await;
}

impl Setup {
    /// After a failed notification: its import failed, saying why; the retry imports the
    /// file as a new import, and the report names that one.
    async fn retry_imports_the_file(&self) {
        let imports = self.imports().await;
        let [failed] = imports.as_slice() else {
            panic!("one import expected: {imports:?}");
        };
        assert_eq!(failed.status, ImportStatus::Failed, "{failed:?}");
        assert!(
            failed
                .failure
                .as_deref()
                .is_some_and(|f| f.contains("will be retried")),
            "{failed:?}"
        );

        let DropOutcome::Queued { import_id } =
            self.folder.process(&self.key).await.expect("retried")
        else {
            panic!("the retry queues the file");
        };
        assert_ne!(&import_id, &failed.id);
        assert_eq!(self.run_jobs().await, vec![import_id.clone()]);
        assert_eq!(self.contact_count().await, 2);
        let report = self.report_file().await;
        assert_eq!(
            (&report["status"], &report["import_id"]),
            (
                &serde_json::json!("completed"),
                &serde_json::json!(import_id)
            ),
            "{report}"
        );
    }
}

/// A name of 244 bytes is a valid file name, but its sidecar's would not be (255 at most):
/// no sidecar, rather than a refusal for one that cannot exist.
async fn a_file_whose_name_leaves_no_room_for_a_sidecar_is_imported(backend: &dyn Backend) {
    let s = setup(backend).await;
    let name = format!("{}.csv", "ü".repeat(120));
    let key = format!("tenants/{}/imports/{name}", s.tenant.id);
    s.blobs
        .put(&key, Bytes::from_static(FILE), "text/csv")
        .await
        .expect("put file");
    let outcome = s.folder.process(&key).await.expect("processed");
    assert!(matches!(outcome, DropOutcome::Queued { .. }), "{outcome:?}");
    assert_eq!(s.run_jobs().await.len(), 1);
    assert_eq!(s.contact_count().await, 2);
}

/// A sidecar put after its file (uploads go one at a time) is not lost. Put while the
/// import without it runs, its notification fails, to be retried; as S3 stops retrying after
/// a few minutes, the import's end looks at the file again and imports it with the sidecar.
/// Put or changed later, its notification imports the file again. The report says what the
/// import ran with.
async fn a_sidecar_put_after_its_file_imports_the_file_again_with_it(backend: &dyn Backend) {
    let s = setup(backend).await;
    let outcome = s.folder.process(&s.key).await.expect("processed");
    assert!(matches!(outcome, DropOutcome::Queued { .. }), "{outcome:?}");
    assert_eq!(
        s.report_file().await["sidecar"]["file"],
        serde_json::Value::Null
    );
    let sidecar = format!("{}.mapping.json", s.key);
    let put_sidecar = |source: &'static str| {
        let body = format!(r#"{{"consent_source": "{source}"}}"#);
        let (blobs, sidecar) = (s.blobs.clone(), sidecar.clone());
        async move {
            (blobs.put(&sidecar, Bytes::from(body), "application/json"))
                .await
                .expect("put sidecar");
        }
    };
    put_sidecar("signup form").await;
    let early = s.folder.process(&sidecar).await;
    assert!(
        matches!(early, Err(StoredImportError::Busy(_))),
        "{early:?}"
    );
    // The notification is not delivered again: the first import's end imports the file.
    let ended = s.run_jobs().await;
    let [first, second] = ended.as_slice() else {
        panic!("two imports expected: {ended:?}");
    };
    assert_ne!(first, second);
    assert_eq!(s.consents().await, vec!["explicit", "explicit"]);
    let report = s.report_file().await;
    assert_eq!(report["import_id"], second.as_str(), "{report}");
    assert_eq!(report["status"], "completed", "{report}");
    assert_eq!(
        report["settings"]["consent_source"], "signup form",
        "{report}"
    );
    assert_eq!(
        report["sidecar"]["file"], "list.csv.mapping.json",
        "{report}"
    );
    for key in [&s.key, &sidecar] {
        let again = s.folder.process(key).await.expect("looked again");
        assert_eq!(again, DropOutcome::Ignored("already imported"), "{key}");
    }

    put_sidecar("in-store sign-up").await;
    let outcome = s.folder.process(&sidecar).await.expect("processed");
    assert!(matches!(outcome, DropOutcome::Queued { .. }), "{outcome:?}");
    assert_eq!(s.run_jobs().await.len(), 1);
    let report = s.report_file().await;
    assert_eq!(
        report["settings"]["consent_source"], "in-store sign-up",
        "{report}"
    );
    // Deleting the sidecar does not import the file again without it.
    s.blobs.delete(&sidecar).await.expect("delete sidecar");
    let again = s.folder.process(&s.key).await.expect("looked again");
    assert_eq!(again, DropOutcome::Ignored("already imported"));
    assert_eq!(s.imports().await.len(), 3);
}

/// A sidecar the import refuses (a mapping naming no column of the file), then deleted to
/// go with the defaults: the file is imported, not left refused for good.
async fn a_file_refused_for_its_sidecar_is_imported_once_the_sidecar_is_deleted(
    backend: &dyn Backend,
) {
    let s = setup(backend).await;
    let sidecar = format!("{}.mapping.json", s.key);
    s.blobs
        .put(
            &sidecar,
            Bytes::from_static(br#"{"region": "nowhere"}"#),
            "application/json",
        )
        .await
        .expect("put sidecar");
    let refused = s.folder.process(&s.key).await.expect("processed");
    assert!(
        matches!(refused, DropOutcome::Refused { .. }),
        "{refused:?}"
    );
    s.blobs.delete(&sidecar).await.expect("delete sidecar");
    let outcome = s.folder.process(&s.key).await.expect("processed");
    assert!(matches!(outcome, DropOutcome::Queued { .. }), "{outcome:?}");
    assert_eq!(s.run_jobs().await.len(), 1);
    assert_eq!(s.contact_count().await, 2);
}

/// A corrected file dropped while the first version still imports: the first import ends
/// failed (its file was replaced) without writing over the new import's report, which the
/// watcher would then take for a version not yet imported.
async fn an_older_imports_outcome_never_overwrites_a_newer_ones_report(backend: &dyn Backend) {
    let s = setup(backend).await;
    let first = s.folder.process(&s.key).await.expect("processed");
    let DropOutcome::Queued { import_id: older } = first else {
        panic!("{first:?}");
    };
    let corrected = b"name,mobile\nAda Lovelace,07911 123456\nCy Young,07911 123458\n";
    s.blobs
        .put(&s.key, Bytes::from_static(corrected), "text/csv")
        .await
        .expect("put corrected file");
    let second = s.folder.process(&s.key).await.expect("processed");
    let DropOutcome::Queued { import_id: newer } = second else {
        panic!("{second:?}");
    };
    // The older import's job first (the queue delivers in order here).
    let ended = s.run_jobs_up_to(1).await;
    assert_eq!(ended, vec![(older, ImportStatus::Failed)]);
    let report = s.report_file().await;
    assert_eq!(report["import_id"], serde_json::json!(newer), "{report}");
    let looked = s.folder.process(&s.key).await.expect("looked again");
    assert_eq!(looked, DropOutcome::Ignored("already imported"));
    let ended = s.run_jobs_ending_as_they_may().await;
    assert_eq!(ended, vec![(newer.clone(), ImportStatus::Completed)]);
    let report = s.report_file().await;
    assert_eq!(
        (&report["import_id"], &report["status"]),
        (&serde_json::json!(newer), &serde_json::json!("completed")),
        "{report}"
    );
    let again = s.folder.process(&s.key).await.expect("looked again");
    assert_eq!(again, DropOutcome::Ignored("already imported"));
}

/// S3 may deliver a notification twice, at once. The second, arriving while the first is
/// recording the file, fails (so S3 retries it) instead of making a second import; retried,
/// it finds the file taken.
async fn two_notifications_of_one_upload_at_once_make_one_import(backend: &dyn Backend) {
    let s = setup(backend).await;
    // The file's own upload left a wake-up behind: taken now, so the next one is the report's.
    let _ = tokio::time::timeout(Duration::from_millis(10), s.blobs.put_waiting.notified()).await;
    let held = s.blobs.put_gate.lock().await;
    let first = s.folder.process(&s.key);
    let second = async {
        tokio::time::timeout(Duration::from_secs(10), s.blobs.put_waiting.notified())
            .await
            .expect("the first notification never wrote its report");
        // The first waits at the gate writing its report, holding the lease; without the
        // lease the second would reach the gate too.
        let second = tokio::time::timeout(Duration::from_secs(10), s.folder.process(&s.key)).await;
        drop(held);
        second
    };
    let (first, second) = tokio::join!(first, second);
    let second = second.expect("the second notification did not wait for the first");
    assert!(
        matches!(second, Err(StoredImportError::Busy(_))),
        "{second:?}"
    );
    assert!(matches!(first, Ok(DropOutcome::Queued { .. })), "{first:?}");
    assert_eq!(s.imports().await.len(), 1);

    let retried = s.folder.process(&s.key).await.expect("retried");
    assert_eq!(retried, DropOutcome::Ignored("already imported"));
    assert_eq!(s.run_jobs().await.len(), 1);
    assert_eq!(s.contact_count().await, 2);
}

/// The local watcher looks at every file twice a second: a file imported already, or for no
/// such tenant, is told apart by reads alone, with no lease written (and the report for no
/// such tenant written once).
async fn looking_again_at_an_imported_file_writes_nothing(backend: &dyn Backend) {
    let s = setup(backend).await;
    let outcome = s.folder.process(&s.key).await.expect("processed");
    assert!(matches!(outcome, DropOutcome::Queued { .. }), "{outcome:?}");
    let before = s.tenant_items().await;
    // A lease taken and given back leaves its expiry behind, in whole seconds: a second on,
    // any write would show.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let again = s.folder.process(&s.key).await.expect("looked again");
    assert_eq!(again, DropOutcome::Ignored("already imported"));
    assert_eq!(s.tenant_items().await, before);

    let nobody = smscrm_domain::TenantId::generate();
    let key = format!("tenants/{nobody}/imports/list.csv");
    s.blobs
        .put(&key, Bytes::from_static(FILE), "text/csv")
        .await
        .expect("put file");
    let outcome = s.folder.process(&key).await.expect("processed");
    assert_eq!(outcome, DropOutcome::Ignored("no such tenant"));
    let told = s.blobs.puts.load(Ordering::SeqCst);
    let again = s.folder.process(&key).await.expect("looked again");
    assert_eq!(again, DropOutcome::Ignored("no such tenant"));
    assert_eq!(s.blobs.puts.load(Ordering::SeqCst), told, "told twice");
    let page = (s.table)
        .query(&Query::partition(format!("TENANT#{nobody}")))
        .await
        .expect("query");
    assert!(page.items.is_empty(), "{:?}", page.items);
}

/// An Excel workbook dropped by mistake: refused, with a report beside it saying what to
/// do and a failed import in the API saying the same; looked at again, it is left alone.
async fn a_workbook_is_refused_with_a_report_saying_to_save_it_as_csv(backend: &dyn Backend) {
    let s = setup(backend).await;
    let key = format!("tenants/{}/imports/Contacts.xlsx", s.tenant.id);
    let workbook = Bytes::from_static(b"PK\x03\x04\x14\x00\x06\x00binary workbook");
    s.blobs
        .put(&key, workbook, "application/octet-stream")
        .await
        .expect("put workbook");
    let outcome = s.folder.process(&key).await.expect("processed");
    let DropOutcome::Refused { import_id, reason } = outcome else {
        panic!("refused expected: {outcome:?}");
    };
    assert!(reason.contains("save the sheet as CSV"), "{reason}");
    let report_key = format!("tenants/{}/imports/reports/Contacts.xlsx.json", s.tenant.id);
    let report = s.report_at(&report_key).await;
    assert_eq!(report["status"], "failed", "{report}");
    assert_eq!(
        report["import_id"],
        serde_json::json!(import_id),
        "{report}"
    );
    assert_eq!(report["failure"], serde_json::json!(reason), "{report}");
    let imports = s.imports().await;
    let [record] = imports.as_slice() else {
        panic!("one import expected: {imports:?}");
    };
    assert_eq!(record.status, ImportStatus::Failed);
    assert_eq!(record.failure.as_deref(), Some(reason.as_str()));

    let again = s.folder.process(&key).await.expect("looked again");
    assert_eq!(again, DropOutcome::Ignored("already imported"));
    assert_eq!(s.imports().await.len(), 1);
    assert!(s.run_jobs().await.is_empty());
}

/// A folder named for a tenant that does not exist (yet): the file is not imported, and a
/// report beside it says why. Once the tenant is created with that id, the file is imported.
async fn a_file_for_no_tenant_gets_a_report_once_and_is_imported_once_the_tenant_exists(
    backend: &dyn Backend,
) {
    let s = setup(backend).await;
    let mut later = Tenant::new("Later", "Europe/London", "GB", Utc::now()).expect("tenant");
    later.id = smscrm_domain::TenantId::generate();
    let key = format!("tenants/{}/imports/list.csv", later.id);
    s.blobs
        .put(&key, Bytes::from_static(FILE), "text/csv")
        .await
        .expect("put file");
    let outcome = s.folder.process(&key).await.expect("processed");
    assert_eq!(outcome, DropOutcome::Ignored("no such tenant"));
    let report_key = format!("tenants/{}/imports/reports/list.csv.json", later.id);
    let report = s.report_at(&report_key).await;
    assert_eq!(report["status"], "failed", "{report}");
    assert_eq!(report["import_id"], serde_json::Value::Null, "{report}");
    let failure = report["failure"].as_str().expect("failure");
    assert!(
        failure.contains(&format!("there is no tenant `{}`", later.id)),
        "{failure}"
    );

    // A folder named for the shop rather than its id: the same report.
    let misnamed = "tenants/My Shop/imports/list.csv";
    s.blobs
        .put(misnamed, Bytes::from_static(FILE), "text/csv")
        .await
        .expect("put file");
    let outcome = s.folder.process(misnamed).await.expect("processed");
    assert_eq!(outcome, DropOutcome::Ignored("not a tenant id"));
    let report = (s.report_at("tenants/My Shop/imports/reports/list.csv.json")).await;
    let failure = report["failure"].as_str().expect("failure");
    assert!(
        failure.contains("the folder `My Shop` is not a tenant id"),
        "{failure}"
    );

    Tenants::new(s.table.clone())
        .create(&later)
        .await
        .expect("create tenant");
    let outcome = s.folder.process(&key).await.expect("processed");
    let DropOutcome::Queued { import_id } = outcome else {
        panic!("queued expected: {outcome:?}");
    };
    assert_eq!(s.run_jobs().await, vec![import_id]);
    let contacts = Contacts::new(s.table.clone())
        .list(&later.id, None, 10)
        .await
        .expect("list contacts");
    assert_eq!(contacts.items.len(), 2);
}

impl Setup {
    /// Everything stored under the tenant's partition.
    async fn tenant_items(&self) -> Vec<smscrm_domain::ports::Item> {
        let query = Query::partition(format!("TENANT#{}", self.tenant.id)).limit(1000);
        self.table.query(&query).await.expect("query").items
    }
}

/// A port that fails its writes while `failing` is set: blobs fail `put` (reports), the
/// queue fails `send_batch`. Reads pass through; blobs' `put` waits while `put_gate` is
/// held, saying so on `put_waiting`.
struct Faulty<P> {
    inner: P,
    failing: AtomicBool,
    /// Writes passed through (blobs' `put`).
    puts: std::sync::atomic::AtomicUsize,
    put_gate: tokio::sync::Mutex<()>,
    put_waiting: tokio::sync::Notify,
}

impl<P> Faulty<P> {
    fn new(inner: P) -> Self {
        Self {
            inner,
            failing: AtomicBool::new(false),
            puts: Default::default(),
            put_gate: tokio::sync::Mutex::new(()),
            put_waiting: tokio::sync::Notify::new(),
        }
    }

    fn failing(&self) -> bool {
        self.failing.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl Blobs for Faulty<Arc<dyn Blobs>> {
    async fn put(&self, key: &str, body: Bytes, content_type: &str) -> Result<(), BlobError> {
        self.put_waiting.notify_one();
        let _open = self.put_gate.lock().await;
        if self.failing() {
            return Err(BlobError::Unavailable("injected: the store is down".into()));
        }
        self.puts.fetch_add(1, Ordering::SeqCst);
        self.inner.put(key, body, content_type).await
    }
    async fn get(&self, key: &str) -> Result<Option<Bytes>, BlobError> {
        self.inner.get(key).await
    }
    async fn delete(&self, key: &str) -> Result<(), BlobError> {
        self.inner.delete(key).await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<String>, BlobError> {
        self.inner.list(prefix).await
    }
    async fn open(&self, key: &str) -> Result<Option<BlobReader>, BlobError> {
        self.inner.open(key).await
    }
    async fn open_version(&self, key: &str, tag: &str) -> Result<Option<BlobReader>, BlobError> {
        self.inner.open_version(key, tag).await
    }
    async fn open_range(
        &self,
        key: &str,
        tag: &str,
        start: u64,
        end: u64,
    ) -> Result<Option<BlobReader>, BlobError> {
        self.inner.open_range(key, tag, start, end).await
    }
    async fn put_stream(
        &self,
        key: &str,
        body: BlobReader,
        content_type: &str,
    ) -> Result<u64, BlobError> {
        self.inner.put_stream(key, body, content_type).await
    }
    async fn presign_put(
        &self,
        key: &str,
        expires_in: Duration,
        content_type: &str,
    ) -> Result<Option<PresignedUpload>, BlobError> {
        self.inner.presign_put(key, expires_in, content_type).await
    }
    async fn stat(&self, key: &str) -> Result<Option<BlobStat>, BlobError> {
        self.inner.stat(key).await
    }
}

#[async_trait]
impl Queue for Faulty<Arc<dyn Queue>> {
    async fn send_batch(&self, messages: Vec<OutgoingMessage>) -> Result<(), QueueError> {
        if self.failing() {
            return Err(QueueError::Unavailable(
                "injected: the queue is down".into(),
            ));
        }
        self.inner.send_batch(messages).await
    }
    async fn receive(&self, max: u32, wait: Duration) -> Result<Vec<Delivery>, QueueError> {
        self.inner.receive(max, wait).await
    }
    async fn ack(&self, receipt: &str) -> Result<(), QueueError> {
        self.inner.ack(receipt).await
    }
    async fn retry_after(&self, receipt: &str, delay: Duration) -> Result<(), QueueError> {
        self.inner.retry_after(receipt, delay).await
    }
    async fn approximate_len(&self) -> Result<u64, QueueError> {
        self.inner.approximate_len().await
    }
}
