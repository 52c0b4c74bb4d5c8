//! The csv-import and import-worker Lambdas' handlers on AWS adapters (moto): the S3
//! notification fixture in `events/`, with its URL-encoded key, queues the file's import on
//! SQS; the worker, given the queued message, imports it and writes the report next to it.

use std::sync::Arc;

use aws_lambda_events::event::s3::S3Event;
use bytes::Bytes;
use csv_import::{DropFolder, DropOutcome, ImportJob, ImportWorker, JobOutcome, handle_s3_event};
use smscrm_domain::Tenant;
use smscrm_domain::ports::{Blobs, Table};
use smscrm_store::{Contacts, ImportStatus, Imports, Tenants};
use smscrm_tests::backends::QueueFactory as _;

#[tokio::test]
async fn an_s3_notification_imports_the_dropped_file() {
    let backend = smscrm_tests::backends::aws().await;
    let table: Arc<dyn Table> = backend.table.clone();
    let blobs: Arc<dyn Blobs> = backend.blobs.clone();
    let jobs = backend.queue(Default::default()).await.queue;
    let tenant = Tenant::new("Dropper", "Europe/London", "GB", chrono::Utc::now()).expect("tenant");
    Tenants::new(table.clone())
        .create(&tenant)
        .await
        .expect("create tenant");

    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/../events/s3-put-import.json");
    let raw = std::fs::read_to_string(fixture)
        .expect("fixture")
        .replace("tn_01m8085nv3srfxwrhqvdn2qwkx", tenant.id.as_str());
    let event: S3Event = serde_json::from_str(&raw).expect("S3 event");
    let key = format!("tenants/{}/imports/March list (final) été.csv", tenant.id);
    blobs
        .put(
            &key,
            Bytes::from_static(b"name,mobile\nAda Lovelace,07911 123456\nBad,0\n"),
            "text/csv",
        )
        .await
        .expect("put file");

    let folder = DropFolder {
        tenants: Tenants::new(table.clone()),
        contacts: Contacts::new(table.clone()),
        imports: Imports::new(table.clone()),
        blobs: blobs.clone(),
        jobs: jobs.clone(),
        audit: smscrm_store::AuditLog::new(table.clone()),
    };
    let outcomes = handle_s3_event(&folder, event.clone())
        .await
        .expect("handled");
    let [DropOutcome::Queued { import_id }] = outcomes.as_slice() else {
        panic!("expected one queued import, got {outcomes:?}");
    };
    let delivered = jobs
        .receive(1, std::time::Duration::from_secs(1))
        .await
        .expect("receive");
    let job: ImportJob = serde_json::from_str(&delivered[0].body).expect("job");
    assert_eq!(&job.import_id, import_id);
    let worker = ImportWorker {
        contacts: Contacts::new(table.clone()),
        imports: Imports::new(table.clone()),
        blobs: blobs.clone(),
        queue: jobs.clone(),
        fan_out: Default::default(),
    };
    assert_eq!(
        worker.handle(&job, None).await.expect("worker"),
        JobOutcome::Finished(ImportStatus::Completed)
    );
    let record = Imports::new(table.clone())
        .get(&tenant.id, import_id)
        .await
        .expect("get")
        .expect("record");
    let report = record.report.expect("report");
    assert_eq!((report.created, report.invalid), (1, 1), "{report:?}");
    let page = Contacts::new(table.clone())
        .list(&tenant.id, None, 10)
        .await
        .expect("list");
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].phone.as_str(), "+447911123456");
    assert_eq!(page.items[0].first_name.as_deref(), Some("Ada"));
    assert_eq!(page.items[0].last_name.as_deref(), Some("Lovelace"));

    let report_key = format!(
        "tenants/{}/imports/reports/March list (final) été.csv.json",
        tenant.id
    );
    let report: serde_json::Value = serde_json::from_slice(
        &blobs
            .get(&report_key)
            .await
            .expect("get")
            .expect("report written"),
    )
    .expect("json");
    assert_eq!(report["status"], "completed");
    assert_eq!(report["report"]["errors"][0]["row"], 3);

    // S3 delivers at least once: the same notification again imports nothing more.
    let again = handle_s3_event(&folder, event.clone())
        .await
        .expect("handled");
    assert_eq!(again, vec![DropOutcome::Ignored("already imported")]);
    // And a redelivered job finds nothing to do.
    assert_eq!(
        worker.handle(&job, None).await.expect("worker"),
        JobOutcome::Skipped("the import is not committing")
    );

    // A corrected file dropped under the same name is a new file: imported, not ignored.
    blobs
        .put(
            &key,
            Bytes::from_static(b"name,mobile\nAda Lovelace,07911 123456\nBob Jones,07911 123457\n"),
            "text/csv",
        )
        .await
        .expect("put the corrected file");
    let outcomes = handle_s3_event(&folder, event.clone())
        .await
        .expect("handled");
    let [DropOutcome::Queued { import_id: second }] = outcomes.as_slice() else {
        panic!("expected the new file queued, got {outcomes:?}");
    };
    assert_ne!(second, import_id);
    let delivered = jobs
        .receive(1, std::time::Duration::from_secs(1))
        .await
        .expect("receive");
    let job: ImportJob = serde_json::from_str(&delivered[0].body).expect("job");
    assert_eq!(
        worker.handle(&job, None).await.expect("worker"),
        JobOutcome::Finished(ImportStatus::Completed)
    );
    let record = Imports::new(table.clone())
        .get(&tenant.id, second)
        .await
        .expect("get")
        .expect("record");
    let report = record.report.expect("report");
    assert_eq!(
        (report.created, report.unchanged, report.invalid),
        (1, 1, 0),
        "{report:?}"
    );
    let page = Contacts::new(table.clone())
        .list(&tenant.id, None, 10)
        .await
        .expect("list");
    assert_eq!(page.items.len(), 2);
    // Its notification again: this version is taken too.
    let again = handle_s3_event(&folder, event.clone())
        .await
        .expect("handled");
    assert_eq!(again, vec![DropOutcome::Ignored("already imported")]);

    // Each import of the name keeps its own error list: the first file's bad row is still
    // in the first import's, and the corrected file's has none.
    let errors_of = |id: smscrm_domain::ImportId| {
        let (imports, blobs, tenant) = (
            Imports::new(table.clone()),
            blobs.clone(),
            tenant.id.clone(),
        );
        async move {
            let record = imports
                .get(&tenant, &id)
                .await
                .expect("get")
                .expect("record");
            let bytes = blobs
                .get(&csv_import::errors_key(&record))
                .await
                .expect("get")
                .expect("errors.csv");
            String::from_utf8(bytes.to_vec()).expect("utf-8")
        }
    };
    let first_errors = errors_of(import_id.clone()).await;
    assert!(
        first_errors.lines().any(|l| l.starts_with("3,")),
        "{first_errors}"
    );
    assert_eq!(errors_of(second.clone()).await.lines().count(), 1);

    // A report left saying `committing` for an import that failed (its queueing failed, and
    // so did unmarking the file) does not keep this version from being imported.
    let mut failed = smscrm_store::ImportRecord::new(
        smscrm_domain::ImportId::generate(),
        tenant.id.clone(),
        "March list (final) été.csv".into(),
        smscrm_store::ImportSource::DropFolder,
        smscrm_store::ImportSettings {
            region: "GB".parse().expect("region"),
            mapping: None,
            consent_source: None,
        },
        key.clone(),
        chrono::Utc::now(),
    );
    failed.status = ImportStatus::Failed;
    Imports::new(table.clone())
        .create(&failed)
        .await
        .expect("create");
    let version = blobs.stat(&key).await.expect("stat").expect("file").tag;
    let stale = serde_json::json!({
        "import_id": failed.id,
        "file": "March list (final) été.csv",
        "file_version": version,
        "status": "committing",
        "failure": null,
        "report": null,
    });
    blobs
        .put(
            &report_key,
            Bytes::from(stale.to_string()),
            "application/json",
        )
        .await
        .expect("put report");
    let retried = handle_s3_event(&folder, event).await.expect("handled");
    assert!(
        matches!(retried.as_slice(), [DropOutcome::Queued { .. }]),
        "{retried:?}"
    );
}
