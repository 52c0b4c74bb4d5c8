//! The csv-import Lambda's handler on AWS adapters (moto): the S3 notification fixture in
//! `events/`, with its URL-encoded key, imports the file and writes the report next to it.

use std::sync::Arc;

use aws_lambda_events::event::s3::S3Event;
use bytes::Bytes;
use csv_import::{DropFolder, DropOutcome, handle_s3_event};
use smscrm_domain::Tenant;
use smscrm_domain::ports::{Blobs, Table};
use smscrm_store::{Contacts, Imports, Tenants};

#[tokio::test]
async fn an_s3_notification_imports_the_dropped_file() {
    let backend = smscrm_tests::backends::aws().await;
    let table: Arc<dyn Table> = backend.table.clone();
    let blobs: Arc<dyn Blobs> = backend.blobs.clone();
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
    };
    let outcomes = handle_s3_event(&folder, event.clone())
        .await
        .expect("handled");
    match outcomes.as_slice() {
        [DropOutcome::Imported { report, .. }] => {
            assert_eq!((report.created, report.invalid), (1, 1), "{report:?}");
        }
        other => panic!("expected one import, got {other:?}"),
    }
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
    let again = handle_s3_event(&folder, event).await.expect("handled");
    assert_eq!(again, vec![DropOutcome::Ignored("already imported")]);
}
