//! The imports API over real HTTP, on the embedded backend (local upload endpoint) and on
//! AWS (moto: presigned S3 upload, DynamoDB).

use crate::support;

use reqwest::Method;
use serde_json::{Value, json};
use support::{Caller, TestApp, error_code, send};

on_both_backends!(
    upload_dry_run_commit,
    a_file_without_phones_is_refused_with_the_headers_seen,
    a_wrong_mapping_is_mended_without_uploading_again,
    a_file_uploaded_as_a_web_form_is_refused_saying_how_to_upload_it,
    an_opt_out_in_a_later_row_of_a_number_is_not_lost,
    a_refused_row_keeps_its_opt_out,
    imports_are_private_to_their_tenant,
    settings_are_validated_when_the_import_is_created,
    running_before_the_upload_is_a_conflict,
    a_new_upload_clears_the_last_runs_counts,
    a_header_only_file_is_refused_and_the_refusal_kept_until_a_new_upload,
    a_russian_excel_file_is_read_in_its_code_page,
);

const MESSY: &str = "\u{feff}Given Name;Family Name;Phone 1 - Value;Store\r\n\
Ada;Lovelace;(415) 555-2671;North\r\n\
Bob;Builder;415.555.2672;South\r\n\
Ada again;;+1 415 555 2671;North\r\n\
Nobody;;12;\r\n";

/// Creates an import and uploads `csv` wherever the API says.
async fn create_and_upload(
    app: &TestApp,
    me: &Caller,
    csv: impl AsRef<[u8]>,
    settings: Value,
) -> String {
    let csv = csv.as_ref();
    let (status, created) =
        send(app.request(Method::POST, "/v1/imports", me).json(&settings)).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["import"]["status"], "awaiting_upload");
    let id = created["import"]["id"].as_str().expect("id").to_owned();
    let response = app.upload(me, &created, csv).await;
    let url = created["upload"]["url"].as_str().expect("url");
    if !url.starts_with("http") {
        let record: Value = response.json().await.expect("record");
        assert_eq!(record["status"], "uploaded");
        assert_eq!(record["bytes_total"], csv.len());
    }
    id
}

/// Creates an import with default settings; returns the API's answer (record and upload).
async fn create_import(app: &TestApp, me: &Caller) -> Value {
    let (status, created) = send(
        app.request(Method::POST, "/v1/imports", me)
            .json(&json!({})),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    created
}

/// Polls the import until its commit has ended, and returns the record.
async fn finished(app: &TestApp, me: &Caller, id: &str) -> Value {
    finished_with(app, me, id, "committing").await
}

/// Polls the import until it leaves `running`, and returns the record.
async fn finished_with(app: &TestApp, me: &Caller, id: &str, running: &str) -> Value {
    let started = std::time::Instant::now();
    loop {
        let (status, record) =
            send(app.request(Method::GET, &format!("/v1/imports/{id}"), me)).await;
        assert_eq!(status, 200, "{record}");
        if record["status"] != running {
            return record;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "the commit never ended: {record}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn contacts(app: &TestApp, me: &Caller) -> Vec<Value> {
    let (_, list) = send(app.request(Method::GET, "/v1/contacts?limit=100", me)).await;
    list["items"].as_array().cloned().unwrap_or_default()
}

async fn upload_dry_run_commit(app: &TestApp) {
    let me = app.tenant("Importer").await;
    let id = create_and_upload(
        app,
        &me,
        MESSY,
        json!({"filename": "march.csv", "consent_source": "paper forms"}),
    )
    .await;

    let (status, checked) =
        send(app.request(Method::POST, &format!("/v1/imports/{id}/dry-run"), &me)).await;
    assert_eq!(status, 200, "{checked}");
    assert_eq!(checked["status"], "checked");
    let report = &checked["report"];
    assert_eq!(
        (
            report["rows"].as_u64(),
            report["valid"].as_u64(),
            report["invalid"].as_u64(),
            report["duplicates"].as_u64()
        ),
        (Some(4), Some(2), Some(1), Some(1)),
        "{report}"
    );
    assert_eq!(
        (report["created"].as_u64(), report["dry_run"].as_bool()),
        (Some(2), Some(true))
    );
    assert_eq!(report["encoding"], "utf-8-bom");
    assert_eq!(report["delimiter"], ";");
    assert_eq!(report["preview"][0]["phone"], "+14155552671");
    assert_eq!(report["preview"][0]["attributes"]["store"], "North");
    assert_eq!(report["errors"][0]["row"], 4);
    assert_eq!(report["errors"][1]["row"], 5);
    assert!(
        contacts(app, &me).await.is_empty(),
        "a dry run writes nothing"
    );

    let (status, queued) =
        send(app.request(Method::POST, &format!("/v1/imports/{id}/commit"), &me)).await;
    assert_eq!(status, 202, "{queued}");
    assert_eq!(queued["status"], "committing");
    // The commit's progress starts from nothing, not where the dry run ended.
    assert_eq!(
        (&queued["rows_done"], &queued["rows_total"]),
        (&json!(0), &Value::Null),
        "{queued}"
    );
    let done = finished(app, &me, &id).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["report"]["created"], 2);
    assert_eq!(done["rows_done"], 4);
    assert_eq!(done["rows_total"], 4);
    assert_eq!(done["bytes_checked"], done["bytes_total"]);
    let stored = contacts(app, &me).await;
    assert_eq!(stored.len(), 2);
    let ada = stored
        .iter()
        .find(|c| c["phone"] == "+14155552671")
        .expect("ada");
    assert_eq!(ada["first_name"], "Ada");
    assert_eq!(ada["consent"]["status"], "explicit");
    assert_eq!(ada["consent"]["source"], "paper forms");

    let (status, again) =
        send(app.request(Method::POST, &format!("/v1/imports/{id}/commit"), &me)).await;
    assert_eq!((status, error_code(&again)), (409, "conflict"));

    let response = app
        .request(Method::GET, &format!("/v1/imports/{id}/errors.csv"), &me)
        .send()
        .await
        .expect("errors.csv");
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("text");
    let lines: Vec<&str> = text.lines().collect();
    // Each refused row with its cells as written (a leading `+` defused for spreadsheets).
    assert_eq!(
        lines[0], "\u{feff}error_row;error_reason;Given Name;Family Name;Phone 1 - Value;Store",
        "a byte-order mark first, for Excel; semicolons, as the file had"
    );
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[1].starts_with("4;duplicate of row 2"), "{text}");
    assert!(
        lines[1].ends_with(";Ada again;;'+1 415 555 2671;North"),
        "{text}"
    );
    assert!(lines[2].starts_with("5;"), "{text}");
    assert!(lines[2].ends_with(";Nobody;;12;"), "{text}");

    let (_, list) = send(app.request(Method::GET, "/v1/imports", &me)).await;
    assert_eq!(list["items"][0]["id"], id.as_str());

    // Fixed, the report imports as it is: its own two columns are left out, and a duplicate
    // stays refused rather than overwrite the first row's contact.
    let fixed = text.replace(";Nobody;;12;", ";Nobody;;415 555 2673;");
    let again = create_and_upload(app, &me, &fixed, json!({"filename": "fixed.csv"})).await;
    let (status, checked) =
        send(app.request(Method::POST, &format!("/v1/imports/{again}/dry-run"), &me)).await;
    assert_eq!(status, 200, "{checked}");
    let report = &checked["report"];
    assert_eq!(
        (
            &report["valid"],
            &report["invalid"],
            &report["created"],
            &report["updated"]
        ),
        (&json!(1), &json!(1), &json!(1), &json!(0)),
        "{report}"
    );
    let reason = report["errors"][0]["reason"].as_str().unwrap_or_default();
    assert!(
        reason.starts_with("duplicate of row 2 (+14155552671) in the file this report came from")
            && reason.contains("empty its error_reason cell"),
        "{report}"
    );
    let mapped: Vec<&str> = (report["mapping"].as_array().expect("mapping").iter())
        .filter_map(|pair| pair[0].as_str())
        .collect();
    assert_eq!(
        mapped,
        ["Given Name", "Family Name", "Phone 1 - Value", "Store"],
        "{report}"
    );
}

/// Russian Excel's plain "CSV" is Windows-1251: the dry run reads it so, names attributes in
/// Latin letters, and says its country column reads each row's number for its country.
async fn a_russian_excel_file_is_read_in_its_code_page(app: &TestApp) {
    let me = app.tenant("Moscow shop").await;
    let text = "Имя;Фамилия;Мобильный;Страна;Город\r\n\
                Иван;Петров;8 916 123-45-67;Россия;Москва\r\n\
                Ольга;Смирнова;050 123 4567;Украина;Київ\r\n";
    let (csv, _, unmappable) = encoding_rs::WINDOWS_1251.encode(text);
    assert!(!unmappable);
    let id = create_and_upload(app, &me, &csv, json!({"region": "RU"})).await;
    let (status, checked) =
        send(app.request(Method::POST, &format!("/v1/imports/{id}/dry-run"), &me)).await;
    assert_eq!(status, 200, "{checked}");
    let report = &checked["report"];
    assert_eq!(report["encoding"], "windows-1251", "{report}");
    assert_eq!(report["valid"], 2, "{report}");
    let preview = |at: usize, field: &str| report["preview"][at][field].clone();
    assert_eq!(
        [
            preview(0, "first_name"),
            preview(0, "phone"),
            preview(1, "phone")
        ],
        [json!("Иван"), json!("+79161234567"), json!("+380501234567")],
        "{report}"
    );
    assert_eq!(preview(1, "attributes")["gorod"], "Київ", "{report}");
    assert_eq!(
        report["number_columns"],
        json!([["Страна", "country"]]),
        "{report}"
    );
}

/// "The first row wins" over a number's later rows, but not over an opt-out: a later row
/// saying the person unsubscribed revokes the consent of the contact the first row writes (a
/// new one, or one who had consented), in the dry run's counts as in the commit's; a later
/// "no" withdraws the first row's "yes", as it would from a file of its own.
async fn an_opt_out_in_a_later_row_of_a_number_is_not_lost(app: &TestApp) {
    let me = app.tenant("Importer").await;
    consenting_bea(app, &me).await;
    let file = "Phone,Consent,First Name\n\
                4155550900,yes,First\n\
                4155550901,yes,Bea\n\
                (415) 555-0900,unsubscribed,Second\n\
                415.555.0901,unsubscribed,Bea again\n\
                4155550902,Yes,Cy\n\
                415 555 0902,No,Cy again\n";
    let id = create_and_upload(app, &me, file, json!({})).await;
    let (status, checked) =
        send(app.request(Method::POST, &format!("/v1/imports/{id}/dry-run"), &me)).await;
    assert_eq!(status, 200, "{checked}");
    let (status, _) =
        send(app.request(Method::POST, &format!("/v1/imports/{id}/commit"), &me)).await;
    assert_eq!(status, 202);
    let done = finished(app, &me, &id).await;
    assert_eq!(done["status"], "completed", "{done}");
    let (mut dry, mut committed) = (checked["report"].clone(), done["report"].clone());
    dry["dry_run"] = json!(null);
    committed["dry_run"] = json!(null);
    assert_eq!(dry, committed, "the dry run counted what the commit did");
    assert_eq!(
        (
            &committed["created"],
            &committed["updated"],
            &committed["duplicates"]
        ),
        (&json!(2), &json!(1), &json!(3)),
        "{committed}"
    );
    assert_eq!(
        committed["consent"],
        json!({"given": 0, "withdrawn": 1, "opted_out": 2}),
        "what the first rows say, with their later rows' opt-outs and no"
    );
    let reason = committed["errors"][0]["reason"].as_str().expect("reason");
    assert!(reason.contains("opt-out applies"), "{reason}");
    let reason = committed["errors"][2]["reason"].as_str().expect("reason");
    assert!(reason.contains("\"no\" to consent applies"), "{reason}");
    let stored = contacts(app, &me).await;
    let consent = |phone: &str| {
        let contact = stored
            .iter()
            .find(|c| c["phone"] == phone)
            .unwrap_or_else(|| panic!("{phone}: {stored:?}"));
        (
            contact["first_name"].clone(),
            contact["consent"]["status"].clone(),
        )
    };
    assert_eq!(consent("+14155550900"), (json!("First"), json!("revoked")));
    assert_eq!(consent("+14155550901"), (json!("Bea"), json!("revoked")));
    assert_eq!(consent("+14155550902"), (json!("Cy"), json!("unknown")));
}

/// A row refused for another field (a bad email) still says its person opted out: the
/// number goes on the do-not-contact list and an existing contact's consent is revoked, so
/// fixing the row and importing it again, even with a consent declaration, cannot make the
/// person messageable. A dry run says what a commit will do and writes nothing. A refused
/// number, or a row saying no opt-out, changes nothing.
async fn a_refused_row_keeps_its_opt_out(app: &TestApp) {
    let me = app.tenant("Importer").await;
    consenting_bea(app, &me).await;
    let file = "Phone,Email,SMS Opt Out,First Name\n\
                4155550901,bea@@example,yes,Bea\n\
                4155550903,cy@@example,1,Cy\n\
                4155550904,di@@example,no,Di\n\
                12,ed@example.com,yes,Ed\n";
    let id = create_and_upload(app, &me, file, json!({})).await;
    let (status, checked) =
        send(app.request(Method::POST, &format!("/v1/imports/{id}/dry-run"), &me)).await;
    assert_eq!(status, 200, "{checked}");
    let dry = &checked["report"];
    assert_eq!(
        (&dry["invalid"], &dry["consent"]["opted_out"]),
        (&json!(4), &json!(2)),
        "{dry}"
    );
    let reason = dry["errors"][0]["reason"].as_str().expect("reason");
    assert!(
        reason.contains("a commit puts +14155550901 on the do-not-contact list"),
        "{reason}"
    );
    let consent_of = |phone: &'static str| {
        let me = &me;
        async move {
            let stored = contacts(app, me).await;
            stored
                .iter()
                .find(|c| c["phone"] == phone)
                .map(|c| c["consent"]["status"].clone())
        }
    };
    assert_eq!(
        consent_of("+14155550901").await,
        Some(json!("explicit")),
        "a dry run writes nothing"
    );

    let (status, _) =
        send(app.request(Method::POST, &format!("/v1/imports/{id}/commit"), &me)).await;
    assert_eq!(status, 202);
    let done = finished(app, &me, &id).await;
    assert_eq!(done["status"], "completed", "{done}");
    let committed = &done["report"];
    assert_eq!(
        (&committed["invalid"], &committed["created"]),
        (&json!(4), &json!(0)),
        "{committed}"
    );
    let reasons: Vec<&str> = committed["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["reason"].as_str().expect("reason"))
        .collect();
    assert!(
        reasons[0].contains("its opt-out is kept: +14155550901 is on the do-not-contact list"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].contains("+14155550903 is on the do-not-contact list"),
        "{reasons:?}"
    );
    assert!(
        !reasons[2].contains("opt-out") && !reasons[3].contains("opt-out"),
        "{reasons:?}"
    );
    assert_eq!(consent_of("+14155550901").await, Some(json!("revoked")));
    assert_eq!(
        consent_of("+14155550903").await,
        None,
        "a refused row creates no contact"
    );

    // The rows fixed and imported again, declaring consent: the two who opted out stay out.
    let fixed = "Phone,Email,First Name\n\
                 4155550901,bea@example.com,Bea\n\
                 4155550903,cy@example.com,Cy\n\
                 4155550904,di@example.com,Di\n";
    let id = create_and_upload(app, &me, fixed, json!({"consent_source": "signup form"})).await;
    let (status, _) =
        send(app.request(Method::POST, &format!("/v1/imports/{id}/commit"), &me)).await;
    assert_eq!(status, 202);
    let done = finished(app, &me, &id).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(done["report"]["suppressed"], json!(2), "{done}");
    assert_eq!(consent_of("+14155550901").await, Some(json!("revoked")));
    assert_eq!(consent_of("+14155550903").await, Some(json!("revoked")));
    assert_eq!(consent_of("+14155550904").await, Some(json!("explicit")));
}

/// Bea, +14155550901, who gave explicit consent on a web form.
async fn consenting_bea(app: &TestApp, me: &Caller) {
    let (status, bea) = send(app.request(Method::POST, "/v1/contacts", me).json(&json!({
        "phone": "+14155550901", "first_name": "Bea",
        "consent": {"status": "explicit", "source": "web form"},
    })))
    .await;
    assert_eq!(status, 201, "{bea}");
}

/// `curl -F file=@contacts.csv` sends a multipart form, whose wrapping is then stored around
/// the CSV: the dry run says so, and how to upload instead, rather than "no phone column".
async fn a_file_uploaded_as_a_web_form_is_refused_saying_how_to_upload_it(app: &TestApp) {
    let me = app.tenant("Importer").await;
    let form = "--------------------------5353c0adf60e03eb\r\n\
                Content-Disposition: form-data; name=\"file\"; filename=\"contacts.csv\"\r\n\
                Content-Type: text/csv\r\n\r\n\
                phone\r\n4155552671\r\n\
                --------------------------5353c0adf60e03eb--\r\n";
    let id = create_and_upload(app, &me, form, json!({})).await;
    let message = refused_dry_run(app, &me, &id).await;
    assert!(message.contains("--data-binary"), "{message}");
}

/// Dry-runs import `id`, which must be refused as unreadable; the refusal's message.
async fn refused_dry_run(app: &TestApp, me: &Caller, id: &str) -> String {
    let (status, body) =
        send(app.request(Method::POST, &format!("/v1/imports/{id}/dry-run"), me)).await;
    assert_eq!(
        (status, error_code(&body)),
        (422, "unreadable_file"),
        "{body}"
    );
    body["error"]["message"]
        .as_str()
        .expect("message")
        .to_owned()
}

async fn a_file_without_phones_is_refused_with_the_headers_seen(app: &TestApp) {
    let me = app.tenant("Importer").await;
    let id = create_and_upload(app, &me, "Name,Email\nAda,ada@example.com\n", json!({})).await;
    let message = refused_dry_run(app, &me, &id).await;
    assert!(
        message.contains("Name") && message.contains("Email"),
        "{message}"
    );
    let (status, body) =
        send(app.request(Method::POST, &format!("/v1/imports/{id}/commit"), &me)).await;
    assert_eq!(status, 422, "{body}");
    // Refused, not failed: a new upload or a mapping can still mend it.
    let (_, record) = send(app.request(Method::GET, &format!("/v1/imports/{id}"), &me)).await;
    assert_eq!(record["status"], "uploaded");
    assert!(
        record["failure"]
            .as_str()
            .is_some_and(|f| f.contains("Email"))
    );
    // It has no error report: the refusal says why instead.
    let (status, body) =
        send(app.request(Method::GET, &format!("/v1/imports/{id}/errors.csv"), &me)).await;
    assert_eq!(
        (status, error_code(&body)),
        (409, "report_not_ready"),
        "{body}"
    );
    let message = body["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("was refused, so it has no error report") && message.contains("Email"),
        "{body}"
    );
}

/// A dry run showing a wrong mapping is mended by changing the import's settings, without
/// uploading the file again; a commit refused for its mapping does not fail the import.
async fn a_wrong_mapping_is_mended_without_uploading_again(app: &TestApp) {
    let me = app.tenant("Importer").await;
    // Before the upload too.
    let created = create_import(app, &me).await;
    let waiting = created["import"]["id"].as_str().expect("id");
    let (status, changed) = send(
        app.request(Method::PATCH, &format!("/v1/imports/{waiting}"), &me)
            .json(&json!({"region": "DE"})),
    )
    .await;
    assert_eq!(
        (status, &changed["status"], &changed["settings"]["region"]),
        (200, &json!("awaiting_upload"), &json!("DE")),
        "{changed}"
    );
    let csv = "Handy;Vorname\n0151 23456789;Jo\n";
    let id = create_and_upload(app, &me, csv, json!({"mapping": "phone=Telefon"})).await;
    let path = format!("/v1/imports/{id}");
    let (status, body) = send(app.request(Method::POST, &format!("{path}/dry-run"), &me)).await;
    assert_eq!(
        (status, error_code(&body)),
        (422, "invalid_mapping"),
        "{body}"
    );
    let (status, body) = send(app.request(Method::POST, &format!("{path}/commit"), &me)).await;
    assert_eq!(
        (status, error_code(&body)),
        (422, "invalid_mapping"),
        "{body}"
    );
    let change = |settings: Value| app.request(Method::PATCH, &path, &me).json(&settings);

    // Checked before it is kept; another tenant's key finds no such import.
    let (status, body) = send(change(json!({"mapping": "phone"}))).await;
    assert_eq!(
        (status, body["error"]["details"]["field"].as_str()),
        (400, Some("mapping")),
        "{body}"
    );
    let (status, body) = send(change(json!({"tenant_id": "x"}))).await;
    assert_eq!((status, error_code(&body)), (422, "invalid_body"), "{body}");
    let other = app.tenant("Other").await;
    let (status, _) = send(
        app.request(Method::PATCH, &path, &other)
            .json(&json!({"region": "DE"})),
    )
    .await;
    assert_eq!(status, 404);

    let mapping = "phone=Handy,first_name=Vorname";
    let (status, changed) = send(change(json!({"mapping": mapping, "region": "DE"}))).await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(
        (&changed["status"], &changed["failure"]),
        (&json!("uploaded"), &Value::Null),
        "{changed}"
    );
    assert_eq!(changed["settings"]["mapping"], mapping);
    let (status, checked) = send(app.request(Method::POST, &format!("{path}/dry-run"), &me)).await;
    assert_eq!(status, 200, "{checked}");
    assert_eq!(checked["report"]["valid"], 1, "{checked}");

    // The same settings again change nothing: the dry run stands.
    let (status, same) = send(change(json!({"mapping": mapping}))).await;
    assert_eq!(
        (status, &same["status"]),
        (200, &json!("checked")),
        "{same}"
    );
    assert_eq!(same["report"]["valid"], 1, "{same}");
    // A checked import whose settings change must be dry-run again; what is left out stays.
    let (status, changed) = send(change(json!({"consent_source": "trade fair"}))).await;
    assert_eq!(status, 200, "{changed}");
    assert_eq!(
        (&changed["status"], &changed["report"]),
        (&json!("uploaded"), &Value::Null),
        "{changed}"
    );
    assert_eq!(
        (
            &changed["settings"]["mapping"],
            &changed["settings"]["region"]
        ),
        (&json!(mapping), &json!("DE")),
        "{changed}"
    );
    let (status, body) = send(app.request(Method::POST, &format!("{path}/commit"), &me)).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(finished(app, &me, &id).await["status"], "completed");
    let jo = contacts(app, &me).await;
    assert_eq!(jo.len(), 1, "{jo:?}");
    assert_eq!(
        (
            &jo[0]["phone"],
            &jo[0]["first_name"],
            &jo[0]["consent"]["source"]
        ),
        (&json!("+4915123456789"), &json!("Jo"), &json!("trade fair"))
    );
    // A committed import's settings are what it ran with.
    let (status, body) = send(change(json!({"region": "GB"}))).await;
    assert_eq!((status, error_code(&body)), (409, "conflict"), "{body}");
}

async fn imports_are_private_to_their_tenant(app: &TestApp) {
    let a = app.tenant("A").await;
    let b = app.tenant("B").await;
    let id = create_and_upload(app, &a, MESSY, json!({})).await;
    for (method, path) in [
        (Method::GET, format!("/v1/imports/{id}")),
        (Method::POST, format!("/v1/imports/{id}/dry-run")),
        (Method::POST, format!("/v1/imports/{id}/commit")),
        (Method::GET, format!("/v1/imports/{id}/errors.csv")),
        (Method::PUT, format!("/v1/imports/{id}/file")),
    ] {
        let (status, body) = send(
            app.request(method.clone(), &path, &b)
                .body("phone\n+14155550000\n"),
        )
        .await;
        assert_eq!(
            (status, error_code(&body)),
            (404, "not_found"),
            "{method} {path}"
        );
    }
    let (_, list) = send(app.request(Method::GET, "/v1/imports", &b)).await;
    assert_eq!(list["items"], json!([]));
    assert!(contacts(app, &b).await.is_empty());
}

async fn settings_are_validated_when_the_import_is_created(app: &TestApp) {
    let me = app.tenant("Importer").await;
    for (settings, field) in [
        (json!({"region": "XX"}), "region"),
        (json!({"mapping": "phone"}), "mapping"),
        (json!({"filename": "a\u{0}b"}), "filename"),
        // Shown as `report_csv.exe` reversed: a spoofed name.
        (json!({"filename": "report\u{202e}vsc.exe"}), "filename"),
        (json!({"mapping": "phone=#0"}), "mapping"),
    ] {
        let (status, body) = send(
            app.request(Method::POST, "/v1/imports", &me)
                .json(&settings),
        )
        .await;
        assert_eq!(
            (status, body["error"]["details"]["field"].as_str()),
            (400, Some(field)),
            "{body}"
        );
    }
    let (status, body) = send(
        app.request(Method::POST, "/v1/imports", &me)
            .json(&json!({"tenant_id": "x"})),
    )
    .await;
    assert_eq!((status, error_code(&body)), (422, "invalid_body"));
}

async fn running_before_the_upload_is_a_conflict(app: &TestApp) {
    let me = app.tenant("Importer").await;
    let created = create_import(app, &me).await;
    let id = created["import"]["id"].as_str().expect("id");
    for action in ["dry-run", "commit"] {
        let (status, body) =
            send(app.request(Method::POST, &format!("/v1/imports/{id}/{action}"), &me)).await;
        assert_eq!(
            (status, error_code(&body)),
            (409, "conflict"),
            "{action}: {body}"
        );
    }
}

/// A file uploaded again after a dry run is another file: nothing of the first file's run
/// (its report, its row count, its size) is shown as the new file's. (A presigned S3 upload
/// does not tell the record: the next dry run or commit sees the new file.)
/// An export of an empty list (a header row alone) is refused rather than "completed" with
/// nothing in it; the import says why until a new file is uploaded.
async fn a_header_only_file_is_refused_and_the_refusal_kept_until_a_new_upload(app: &TestApp) {
    let me = app.tenant("Importer").await;
    let created = create_import(app, &me).await;
    let id = created["import"]["id"].as_str().expect("id").to_owned();
    app.upload(&me, &created, "Phone,First Name\r\n").await;
    let message = refused_dry_run(app, &me, &id).await;
    assert!(message.contains("no data rows"), "{message}");
    let (_, record) = send(app.request(Method::GET, &format!("/v1/imports/{id}"), &me)).await;
    assert_eq!(
        (&record["status"], &record["failure"]),
        (&json!("uploaded"), &json!(message)),
        "{record}"
    );

    app.upload(&me, &created, "Phone,First Name\r\n+1 415 555 2673,Cy\r\n")
        .await;
    let (status, checked) =
        send(app.request(Method::POST, &format!("/v1/imports/{id}/dry-run"), &me)).await;
    assert_eq!(status, 200, "{checked}");
    assert_eq!(
        (
            &checked["status"],
            &checked["failure"],
            &checked["report"]["valid"]
        ),
        (&json!("checked"), &Value::Null, &json!(1)),
        "{checked}"
    );
}

async fn a_new_upload_clears_the_last_runs_counts(app: &TestApp) {
    let me = app.tenant("Importer").await;
    let created = create_import(app, &me).await;
    let id = created["import"]["id"].as_str().expect("id").to_owned();
    app.upload(&me, &created, MESSY).await;
    let dry_run = || send(app.request(Method::POST, &format!("/v1/imports/{id}/dry-run"), &me));
    let (status, checked) = dry_run().await;
    assert_eq!(status, 200, "{checked}");
    assert_eq!(
        (
            checked["rows_total"].as_u64(),
            checked["rows_done"].as_u64()
        ),
        (Some(4), Some(4))
    );

    let shorter = "phone\n+1 415 555 2673\n";
    let response = app.upload(&me, &created, shorter).await;
    let local = !created["upload"]["url"]
        .as_str()
        .expect("url")
        .starts_with("http");
    if local {
        // The first file's error list is not the new file's, and the new one's is not
        // written yet.
        let (status, body) =
            send(app.request(Method::GET, &format!("/v1/imports/{id}/errors.csv"), &me)).await;
        assert_eq!(
            (status, error_code(&body)),
            (409, "report_not_ready"),
            "{body}"
        );
        assert_eq!(body["error"]["details"]["status"], "uploaded", "{body}");
    }
    if !created["upload"]["url"]
        .as_str()
        .expect("url")
        .starts_with("http")
    {
        let record: Value = response.json().await.expect("record");
        assert_eq!(record["status"], "uploaded", "{record}");
        assert_eq!(record["bytes_total"], shorter.len());
        assert_eq!(
            (
                &record["rows_total"],
                &record["rows_done"],
                &record["bytes_checked"]
            ),
            (&Value::Null, &json!(0), &json!(0)),
            "{record}"
        );
        assert_eq!(record["report"], Value::Null);
    }
    let (status, checked) = dry_run().await;
    assert_eq!(status, 200, "{checked}");
    assert_eq!(
        (
            checked["rows_total"].as_u64(),
            checked["report"]["rows"].as_u64()
        ),
        (Some(1), Some(1)),
        "{checked}"
    );
    // A presigned upload is noticed by the dry run: the record describes the new file.
    assert_eq!(checked["bytes_total"], shorter.len(), "{checked}");
}

/// Every file counts as too large to dry-run within its request.
async fn queued_dry_run(backend: &dyn smscrm_tests::backends::Backend) {
    let app = TestApp::start_with(backend, 0).await;
    let me = app.tenant("Importer").await;
    let id = create_and_upload(&app, &me, MESSY, json!({})).await;

    let (status, queued) =
        send(app.request(Method::POST, &format!("/v1/imports/{id}/dry-run"), &me)).await;
    assert_eq!(
        (status, queued["status"].as_str()),
        (202, Some("checking")),
        "{queued}"
    );
    let checked = finished_with(&app, &me, &id, "checking").await;
    assert_eq!(checked["status"], "checked", "{checked}");
    let report = &checked["report"];
    assert_eq!(report["dry_run"], true);
    assert_eq!(
        (
            report["rows"].as_u64(),
            report["valid"].as_u64(),
            report["created"].as_u64()
        ),
        (Some(4), Some(2), Some(2)),
        "{report}"
    );
    assert!(
        contacts(&app, &me).await.is_empty(),
        "a dry run writes nothing"
    );

    // A mapping naming a column the file lacks is the mapping's fault, not the file's.
    let mapped = json!({"mapping": "phone=Telefon"});
    let unmapped = create_and_upload(&app, &me, "Phone\n4155550100\n", mapped).await;
    let (status, body) = send(app.request(
        Method::POST,
        &format!("/v1/imports/{unmapped}/dry-run"),
        &me,
    ))
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (422, "invalid_mapping"),
        "{body}"
    );
    assert_eq!(body["error"]["details"]["field"], "mapping", "{body}");

    // A file without phones is refused at once, as a synchronous dry run would.
    let bad = create_and_upload(&app, &me, "Name\nAda\n", json!({})).await;
    let (status, body) =
        send(app.request(Method::POST, &format!("/v1/imports/{bad}/dry-run"), &me)).await;
    assert_eq!(
        (status, error_code(&body)),
        (422, "unreadable_file"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_dry_run_embedded() {
    queued_dry_run(&smscrm_tests::backends::embedded().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_dry_run_aws() {
    queued_dry_run(&smscrm_tests::backends::aws().await).await;
}

/// The upload endpoint refuses a file over its limit, whether the client declares the size
/// or streams the body without one, and keeps nothing of it: no file, no half-written
/// temporary, the import still waiting for its upload. A file of exactly the limit is taken.
async fn an_upload_over_the_limit_is_refused_and_keeps_nothing(
    backend: &dyn smscrm_tests::backends::Backend,
) {
    const LIMIT: usize = 64;
    let launch = support::Launch {
        max_upload_bytes: LIMIT as u64,
        ..support::Launch::default()
    };
    let app = TestApp::launch(backend, launch).await;
    let me = app.tenant("Importer").await;
    let created = create_import(&app, &me).await;
    let id = created["import"]["id"].as_str().expect("id").to_owned();
    let path = format!("/v1/imports/{id}/file");
    let row = "phone\n+1 415 555 2671\n";
    let over = row.repeat(LIMIT / row.len() + 1);

    let (status, body) = send(
        app.request(Method::PUT, &path, &me)
            .header("content-type", "text/csv")
            .body(over.clone()),
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (413, "payload_too_large"),
        "{body}"
    );
    assert_eq!(body["error"]["details"]["limit_bytes"], LIMIT, "{body}");

    // No length declared: the body is cut off where it passes the limit.
    let chunks: Vec<Result<String, std::io::Error>> =
        over.lines().map(|line| Ok(format!("{line}\n"))).collect();
    let (status, body) = send(
        app.request(Method::PUT, &path, &me)
            .header("content-type", "text/csv")
            .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks))),
    )
    .await;
    assert_eq!(
        (status, error_code(&body)),
        (413, "payload_too_large"),
        "{body}"
    );

    let (status, record) = send(app.request(Method::GET, &format!("/v1/imports/{id}"), &me)).await;
    assert_eq!(
        (status, &record["status"]),
        (200, &json!("awaiting_upload"))
    );
    let (status, body) =
        send(app.request(Method::POST, &format!("/v1/imports/{id}/dry-run"), &me)).await;
    assert_eq!((status, error_code(&body)), (409, "conflict"), "{body}");
    assert_eq!(backend.unfinished_blob_writes().await, Vec::<String>::new());

    let exactly = &over[..LIMIT];
    let (status, record) = send(
        app.request(Method::PUT, &path, &me)
            .header("content-type", "text/csv")
            .body(exactly.to_owned()),
    )
    .await;
    assert_eq!(
        (status, &record["status"], &record["bytes_total"]),
        (200, &json!("uploaded"), &json!(LIMIT)),
        "{record}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_over_the_limit_is_refused_and_keeps_nothing_embedded() {
    an_upload_over_the_limit_is_refused_and_keeps_nothing(
        &smscrm_tests::backends::embedded().await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_over_the_limit_is_refused_and_keeps_nothing_aws() {
    an_upload_over_the_limit_is_refused_and_keeps_nothing(&smscrm_tests::backends::aws().await)
        .await;
}
