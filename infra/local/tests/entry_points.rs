//! The three ways in (the `smscrm import` CLI, the imports API, the drop folder) end in the
//! same contacts for the same file.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{BIN, smscrm};
use serde_json::{Value, json};

const FILE: &str = "Vorname;Nachname;Handy;E-Mail;Kundennummer;Labels\r\n\
Ada;Lovelace;(415) 555-2671;ada@example.com;=1+2;vip|north\r\n\
Grace;Hopper;+44 7911 123456;;A-17;\r\n\
Alan;;4.155552670E+9;;;\r\n\
Edsger;Dijkstra;+1 415.555.2673 ext. 12;;B-2;south\r\n\
Ada twice;;415-555-2671;;;\r\n\
Nobody;;n/a;;;\r\n";

/// The drop-folder report at `path` once it gives the outcome: it says `committing` while
/// the job runs.
async fn drop_outcome(path: &std::path::Path) -> Value {
    let started = Instant::now();
    loop {
        let report: Option<Value> = std::fs::read(path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok());
        match report {
            Some(report) if report["status"] != "committing" => return report,
            _ => {}
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the drop folder import of {} never ended",
            path.display()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn cli_api_and_drop_folder_import_the_same_contacts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().to_string_lossy().into_owned();
    let csv_path = dir.path().join("kunden.csv");
    std::fs::write(&csv_path, FILE).expect("write csv");
    let tenant = |name: &str| smscrm(["tenant", "create", "--name", name, "--data-dir", &data]);
    let (via_cli, via_api, via_drop) = (tenant("CLI"), tenant("API"), tenant("Drop"));
    let id = |t: &Value| t["tenant_id"].as_str().expect("tenant_id").to_owned();
    let mapping = "phone=Handy,first_name=Vorname,last_name=Nachname,email=E-Mail,tags=Labels";

    // 1. The CLI.
    let report = smscrm([
        "import",
        csv_path.to_str().expect("path"),
        "--tenant",
        &id(&via_cli),
        "--map",
        mapping,
        "--consent",
        "paper forms",
        "--json",
        "--data-dir",
        &data,
    ]);
    assert_eq!(
        (
            report["rows"].as_u64(),
            report["valid"].as_u64(),
            report["duplicates"].as_u64(),
            report["invalid"].as_u64()
        ),
        (Some(6), Some(4), Some(1), Some(1)),
        "{report}"
    );

    // The server, for the API and the drop folder.
    let port = common::free_port();
    let mut server = Command::new(BIN)
        .args(["serve", "--port", &port.to_string(), "--data-dir", &data])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    let mut lines = BufReader::new(server.stdout.take().expect("stdout")).lines();
    for line in lines.by_ref() {
        if line.expect("line").starts_with("smscrm listening") {
            break;
        }
    }
    std::thread::spawn(move || lines.for_each(drop));
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();

    // 2. The API.
    let api_key = via_api["api_key"].as_str().expect("key");
    let created: Value = http
        .post(format!("{base}/v1/imports"))
        .bearer_auth(api_key)
        .json(
            &json!({"filename": "kunden.csv", "mapping": mapping, "consent_source": "paper forms"}),
        )
        .send()
        .await
        .expect("create")
        .json()
        .await
        .expect("json");
    let import_id = created["import"]["id"].as_str().expect("id");
    let uploaded = http
        .put(format!(
            "{base}{}",
            created["upload"]["url"].as_str().expect("url")
        ))
        .bearer_auth(api_key)
        .body(FILE)
        .send()
        .await
        .expect("upload");
    assert_eq!(uploaded.status(), 200);
    let queued = http
        .post(format!("{base}/v1/imports/{import_id}/commit"))
        .bearer_auth(api_key)
        .send()
        .await
        .expect("commit");
    assert_eq!(queued.status(), 202, "a commit is queued");
    let started = Instant::now();
    let committed = loop {
        let record: Value = http
            .get(format!("{base}/v1/imports/{import_id}"))
            .bearer_auth(api_key)
            .send()
            .await
            .expect("poll")
            .json()
            .await
            .expect("json");
        if record["status"] != "committing" {
            break record;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "commit never ended"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(committed["status"], "completed", "{committed}");

    // 3. The drop folder, with a sidecar giving the same settings.
    let folder = dir
        .path()
        .join(format!("dropbox/tenants/{}/imports", id(&via_drop)));
    std::fs::create_dir_all(&folder).expect("mkdir");
    std::fs::write(
        folder.join("kunden.csv.mapping.json"),
        json!({"mapping": mapping, "consent_source": "paper forms"}).to_string(),
    )
    .expect("sidecar");
    std::fs::write(folder.join("kunden.csv"), FILE).expect("drop");
    let dropped = drop_outcome(&folder.join("reports/kunden.csv.json")).await;
    assert_eq!(dropped["status"], "completed", "{dropped}");
    assert_eq!(dropped["report"]["created"], 4);

    let list = |key: String| {
        let (http, base) = (http.clone(), base.clone());
        async move {
            let body: Value = http
                .get(format!("{base}/v1/contacts?limit=100"))
                .bearer_auth(key)
                .send()
                .await
                .expect("list")
                .json()
                .await
                .expect("json");
            let mut contacts: Vec<Value> = body["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|c| json!({
                    "phone": c["phone"], "first_name": c["first_name"], "last_name": c["last_name"],
                    "email": c["email"], "tags": c["tags"], "attributes": c["attributes"],
                    "consent": [c["consent"]["status"], c["consent"]["source"]],
                }))
                .collect();
            contacts.sort_by_key(|c| c["phone"].as_str().unwrap_or_default().to_owned());
            contacts
        }
    };
    let key = |t: &Value| t["api_key"].as_str().expect("key").to_owned();
    let from_cli = list(key(&via_cli)).await;
    assert_eq!(from_cli.len(), 4);
    assert_eq!(
        list(key(&via_api)).await,
        from_cli,
        "API import differs from CLI import"
    );
    assert_eq!(
        list(key(&via_drop)).await,
        from_cli,
        "drop folder import differs from CLI import"
    );

    // Each commit is in its tenant's audit log, with the consent declaration it made.
    for tenant in [&via_cli, &via_api, &via_drop] {
        let log: Value = http
            .get(format!("{base}/v1/audit?action=import.committed"))
            .bearer_auth(key(tenant))
            .send()
            .await
            .expect("audit")
            .json()
            .await
            .expect("json");
        let entries = log["items"].as_array().expect("items");
        assert_eq!(entries.len(), 1, "{log}");
        assert_eq!(
            entries[0]["details"]["consent_source"], "paper forms",
            "{log}"
        );
    }

    // What the rules say the file holds.
    let ada = from_cli
        .iter()
        .find(|c| c["phone"] == "+14155552671")
        .expect("ada");
    assert_eq!(
        ada["attributes"]["kundennummer"], "=1+2",
        "formula cells are kept as text"
    );
    assert_eq!(ada["tags"], json!(["vip", "north"]));
    assert_eq!(ada["consent"], json!(["explicit", "paper forms"]));
    assert!(from_cli.iter().any(|c| c["phone"] == "+447911123456"));
    assert!(
        from_cli.iter().any(|c| c["phone"] == "+14155552673"),
        "extension dropped"
    );
    assert!(
        from_cli.iter().any(|c| c["phone"] == "+14155552670"),
        "Excel notation expanded"
    );

    // A copy into the drop folder that stalls is taken once, whole: `FILE` written as `name`
    // in two parts, cut where `cut_before` starts, `pause` apart.
    let copy_stalling = async |name: &str, cut_before: &str, pause: Duration| {
        let (head, tail) = FILE.split_at(FILE.find(cut_before).expect("a place to cut"));
        let sidecar = json!({"mapping": mapping}).to_string();
        std::fs::write(folder.join(format!("{name}.mapping.json")), sidecar).expect("sidecar");
        std::fs::write(folder.join(name), head).expect("first part");
        tokio::time::sleep(pause).await;
        let mut file = (std::fs::OpenOptions::new().append(true))
            .open(folder.join(name))
            .expect("open");
        std::io::Write::write_all(&mut file, tail.as_bytes()).expect("rest");
        drop(file);
        let report = drop_outcome(&folder.join(format!("reports/{name}.json"))).await;
        let imports: Value = http
            .get(format!("{base}/v1/imports?limit=100"))
            .bearer_auth(key(&via_drop))
            .send()
            .await
            .expect("imports")
            .json()
            .await
            .expect("json");
        let items = imports["items"].as_array().expect("items");
        let taken = items.iter().filter(|i| i["filename"] == name).count();
        (report["report"]["rows"].clone(), taken)
    };
    // Stalled between rows for longer than a scan (0.5 s), well short of the 2 s a file
    // must stay the same for.
    let stalled = copy_stalling("stalled.csv", "Alan", Duration::from_millis(700)).await;
    assert_eq!(stalled, (json!(6), 1));
    // Stalled in the middle of a row for longer than that (a cut-off number may still read
    // as someone's): such a file is given longer.
    let midrow = copy_stalling("midrow.csv", "5552670E", Duration::from_secs(4)).await;
    assert_eq!(midrow, (json!(6), 1));

    let _ = server.kill();
    let _ = server.wait();
}

/// A file piped in cannot be read twice, so the CLI copies it to a temporary file first and
/// imports it as it imports a regular file: the same report, opt-outs in later rows included.
#[test]
fn a_piped_file_gets_the_same_report_as_a_regular_one() {
    use std::io::Write;

    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().to_string_lossy().into_owned();
    let csv_path = dir.path().join("kunden.csv");
    std::fs::write(&csv_path, FILE).expect("write csv");
    let mapping = "phone=Handy,first_name=Vorname,last_name=Nachname";
    let import = |name: &str, path: &str, stdin: Stdio| {
        let tenant = smscrm(["tenant", "create", "--name", name, "--data-dir", &data]);
        let tenant = tenant["tenant_id"].as_str().expect("tenant_id").to_owned();
        Command::new(BIN)
            .args([
                "import", path, "--tenant", &tenant, "--map", mapping, "--json",
            ])
            .args(["--data-dir", &data])
            .stdin(stdin)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("import")
    };
    let regular = import("File", csv_path.to_str().expect("path"), Stdio::null());
    let mut piped = import("Pipe", "-", Stdio::piped());
    let mut stdin = piped.stdin.take().expect("stdin");
    stdin.write_all(FILE.as_bytes()).expect("write stdin");
    drop(stdin);
    let report = |child: std::process::Child| {
        let out = child.wait_with_output().expect("wait");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut report: Value = serde_json::from_slice(&out.stdout).expect("json report");
        report.as_object_mut().expect("object").remove("import_id");
        report
    };
    let (from_file, from_pipe) = (report(regular), report(piped));
    assert_eq!(from_file["duplicates"], 1, "{from_file}");
    assert_eq!(
        from_file["errors"][0]["reason"],
        "duplicate of row 2 (+14155552671)"
    );
    assert_eq!(from_pipe, from_file);

    // Piped in too, a later row's opt-out reaches the first row of its number.
    let tenant = smscrm(["tenant", "create", "--name", "Stop", "--data-dir", &data]);
    let tenant = tenant["tenant_id"].as_str().expect("tenant_id").to_owned();
    let mut piped = Command::new(BIN)
        .args([
            "import",
            "-",
            "--tenant",
            &tenant,
            "--json",
            "--data-dir",
            &data,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("import");
    let mut stdin = piped.stdin.take().expect("stdin");
    stdin
        .write_all(b"phone,consent\n4155550900,yes\n415 555 0900,unsubscribed\n")
        .expect("write stdin");
    drop(stdin);
    let stopped = report(piped);
    let reason = stopped["errors"][0]["reason"].as_str().expect("reason");
    assert!(reason.contains("opt-out applies"), "{stopped}");
}

/// `--errors-csv` writes each refused row with its cells as the file had them (decoded to
/// UTF-8, cells past the header's columns too), separated by semicolons as the file was (so
/// German Excel opens it in columns), and that file, fixed, imports as it is.
#[test]
fn refused_rows_come_back_with_their_cells_and_import_again_once_fixed() {
    let (dir, data, tenant) = data_with_tenant("Refused");
    let import = |file: &std::path::Path, errors: &std::path::Path| {
        smscrm([
            "import".as_ref(),
            file.as_os_str(),
            "--tenant".as_ref(),
            tenant.as_ref(),
            "--region".as_ref(),
            "DE".as_ref(),
            "--json".as_ref(),
            "--errors-csv".as_ref(),
            errors.as_os_str(),
            "--data-dir".as_ref(),
            data.as_ref(),
        ])
    };
    // Windows-1252, as German Excel saves it: ë is one byte.
    let file = dir.path().join("kunden.csv");
    let mut bytes = b"Name;Handy;Notiz\r\nJos\xe9 Ruiz;0151 23456789;\"a; b\"\r\n".to_vec();
    bytes.extend(b"Zo\xeb Adams;12;x;extra\r\nAnn Lee;0151/23456789;dup\r\n");
    std::fs::write(&file, bytes).expect("write csv");
    let errors = dir.path().join("refused.csv");
    let report = import(&file, &errors);
    assert_eq!(
        (&report["valid"], &report["invalid"]),
        (&json!(1), &json!(1))
    );
    let refused = std::fs::read_to_string(&errors).expect("refused rows");
    let lines: Vec<&str> = refused.lines().collect();
    assert_eq!(
        lines[0], "\u{feff}error_row;error_reason;Name;Handy;Notiz",
        "{refused}"
    );
    assert!(lines[1].starts_with("3;"), "{refused}");
    assert!(lines[1].ends_with(";Zoë Adams;12;x;extra"), "{refused}");
    assert!(
        lines[2].starts_with("4;duplicate of row 2")
            && lines[2].ends_with(";Ann Lee;0151/23456789;dup"),
        "{refused}"
    );

    let fixed = dir.path().join("fixed.csv");
    // A duplicate is imported only once its reason is emptied: it updates the first row's.
    let text = refused
        .replace(";Zoë Adams;12;x;extra", ";Zoë Adams;0151 76543210;x")
        .replace(&lines[2][..lines[2].find(";Ann Lee").expect("Ann")], "4;");
    std::fs::write(&fixed, text).expect("write fixed");
    let again = import(&fixed, &dir.path().join("none.csv"));
    assert_eq!(
        (&again["valid"], &again["created"], &again["updated"]),
        (&json!(2), &json!(1), &json!(1)),
        "{again}"
    );
    let mapped: Vec<&str> = (again["mapping"].as_array().expect("mapping").iter())
        .filter_map(|pair| pair[0].as_str())
        .collect();
    assert_eq!(mapped, ["Name", "Handy", "Notiz"], "{again}");
    // Its own report has the file's columns once.
    let second = std::fs::read_to_string(dir.path().join("none.csv")).expect("second report");
    assert_eq!(second.lines().next(), Some(lines[0]), "{second}");

    // Naming the file being imported as the report would empty it before it is read.
    let out = Command::new(BIN)
        .arg("import")
        .arg(&fixed)
        .args(["--tenant", &tenant, "--json", "--data-dir", &data])
        .arg("--errors-csv")
        .arg(&fixed)
        .output()
        .expect("import");
    assert!(!out.status.success());
    let refused: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(refused["error"]["code"], "invalid_option", "{refused}");
    let kept = std::fs::read_to_string(&fixed).expect("fixed file");
    assert!(kept.contains("Zoë Adams;0151 76543210"), "{kept}");
}

/// A data directory with one tenant: the directory (deleted when dropped), its path, and the
/// tenant's id.
fn data_with_tenant(name: &str) -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().to_string_lossy().into_owned();
    let tenant = smscrm(["tenant", "create", "--name", name, "--data-dir", &data]);
    let tenant = tenant["tenant_id"].as_str().expect("tenant_id").to_owned();
    (dir, data, tenant)
}

/// `smscrm import --json` of `text` (written to `dir`) for `tenant`, read for the US.
fn import_us_csv(
    dir: &tempfile::TempDir,
    data: &str,
    tenant: &str,
    text: &str,
    dry_run: bool,
) -> Value {
    let file = dir.path().join("contacts.csv");
    std::fs::write(&file, text).expect("write csv");
    let file = file.to_string_lossy().into_owned();
    let mut args = vec!["import", &file, "--tenant", tenant, "--region", "US"];
    args.extend(["--json", "--data-dir", data]);
    if dry_run {
        args.push("--dry-run");
    }
    smscrm(args)
}

/// The text report quotes rejected cells: their control characters are shown escaped, so a
/// cell cannot retitle or clear the terminal of whoever reads the report.
#[test]
fn the_text_report_shows_a_cells_escape_sequences_escaped() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().to_string_lossy().into_owned();
    let csv_path = dir.path().join("contacts.csv");
    // Enough plain rows that a few control bytes do not make the file look binary.
    let mut csv = String::from("phone\n");
    for n in 0..200 {
        csv.push_str(&format!("+1415555{n:04}\n"));
    }
    csv.push_str("\u{1b}]0;pwned\u{7}\u{1b}[2J555\n");
    std::fs::write(&csv_path, csv).expect("write csv");
    let tenant = smscrm(["tenant", "create", "--name", "Esc", "--data-dir", &data]);
    let out = Command::new(BIN)
        .args(["import", csv_path.to_str().expect("path"), "--tenant"])
        .arg(tenant["tenant_id"].as_str().expect("tenant_id"))
        .args(["--data-dir", &data, "--dry-run"])
        .output()
        .expect("import");
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{shown}");
    let rejected = shown
        .lines()
        .find(|line| line.contains("row 202:"))
        .unwrap_or_else(|| panic!("row 202 rejected: {shown}"));
    assert!(rejected.contains(r"\u{1b}]0;pwned\u{7}"), "{rejected}");
    assert!(
        !shown.contains('\u{1b}') && !shown.contains('\u{7}'),
        "{shown:?}"
    );
}

/// `smscrm import ... | head` closes the pipe early: the command ends quietly, as Unix tools
/// do, instead of panicking on the write.
#[test]
fn a_closed_stdout_ends_the_cli_quietly() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().to_string_lossy().into_owned();
    let csv_path = dir.path().join("contacts.csv");
    std::fs::write(&csv_path, "phone\n+14155552671\n+14155552672\n").expect("write csv");
    let tenant = smscrm(["tenant", "create", "--name", "Pipe", "--data-dir", &data]);
    let mut child = Command::new(BIN)
        .args(["import", csv_path.to_str().expect("path"), "--tenant"])
        .arg(tenant["tenant_id"].as_str().expect("tenant_id"))
        .args(["--data-dir", &data])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("import");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(
            out.status.signal(),
            Some(13),
            "SIGPIPE, not {}: {stderr}",
            out.status
        );
    }
}

/// With `--json`, a refused import still prints one JSON object on stdout, naming a stable
/// code and the reason, and fails the command; a script never gets an empty stdout.
#[test]
fn with_json_a_refused_import_is_one_json_object_and_fails() {
    let (dir, data, tenant) = data_with_tenant("Json");
    let write = |name: &str, body: &[u8]| {
        let path = dir.path().join(name);
        std::fs::write(&path, body).expect("write");
        path.to_string_lossy().into_owned()
    };
    let empty = write("empty.csv", b"");
    let no_phone = write("names.csv", b"name,city\nAda,Paris\n");
    let header_only = write("header.csv", b"phone,name\r\n\r\n");
    let good = write("good.csv", b"phone\n+14155550100\n");
    let missing = dir
        .path()
        .join("missing.csv")
        .to_string_lossy()
        .into_owned();
    let cases: [(&[&str], &str, &str); 10] = [
        (&[&empty], "unreadable_file", "empty"),
        (&[&header_only], "unreadable_file", "no data rows"),
        (
            &[&header_only, "--dry-run"],
            "unreadable_file",
            "no data rows",
        ),
        (&[&no_phone], "unreadable_file", "no phone column"),
        (&[&missing], "cannot_open", "missing.csv"),
        (&[&good, "--region", "XX"], "invalid_option", "--region"),
        (&[&good, "--map", "phone"], "invalid_option", "--map"),
        (
            &[&good, "--map", "phone=Telefon"],
            "invalid_mapping",
            "`Telefon`, which is not in the file",
        ),
        (&[&good, "--consent", " "], "invalid_option", "consent"),
        (
            &[&good, "--tenant", "tn_00000000000000000000000000"],
            "not_found",
            "no tenant",
        ),
    ];
    for (args, code, says) in cases {
        let mut command = Command::new(BIN);
        command.arg("import").args(args);
        if !args.contains(&"--tenant") {
            command.args(["--tenant", &tenant]);
        }
        let out = command
            .args(["--json", "--data-dir", &data])
            .output()
            .expect("run");
        assert!(!out.status.success(), "{args:?}");
        let stdout = String::from_utf8(out.stdout).expect("utf-8");
        let body: Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("{args:?}: stdout is not one JSON object ({e}): {stdout}"));
        assert_eq!(body["error"]["code"], code, "{args:?}: {body}");
        let message = body["error"]["message"].as_str().expect("message");
        assert!(message.contains(says), "{args:?}: {message}");
    }
}

/// The preview shows rows as they will be stored: where an opt-out stands (the contact's, or
/// the do-not-contact list's), a row's "yes" to texts does not show as consent.
#[test]
fn the_preview_shows_an_opt_out_that_stands_over_a_rows_consent() {
    let (dir, data, tenant) = data_with_tenant("Prev");
    let import = |text: &str, dry_run: bool| import_us_csv(&dir, &data, &tenant, text, dry_run);
    // Cy opts out; Bea's row is refused, but her opt-out goes on the do-not-contact list.
    let first = import(
        "Phone,First Name,Email,SMS Opt Out\n\
         415-555-3003,Cy,,yes\n\
         415-555-3002,Bea,not an email,yes\n",
        false,
    );
    assert_eq!((&first["valid"], &first["invalid"]), (&json!(1), &json!(1)));
    let checked = import(
        "Phone,First Name,SMS Consent\n\
         415-555-3002,Bea,yes\n\
         415-555-3003,Cy,yes\n\
         415-555-3004,Di,yes\n",
        true,
    );
    let shown: Vec<(&Value, &Value, &Value)> = (checked["preview"].as_array())
        .expect("preview")
        .iter()
        .map(|row| (&row["consent"], &row["suppressed"], &row["opt_out_stands"]))
        .collect();
    assert_eq!(
        shown,
        [
            (&json!("revoked"), &json!(true), &json!(true)),
            (&json!("revoked"), &json!(false), &json!(true)),
            (&json!("explicit"), &json!(false), &json!(false)),
        ],
        "{checked}"
    );
    assert_eq!(
        (&checked["suppressed"], &checked["opt_outs_kept"]),
        (&json!(1), &json!(2)),
        "{checked}"
    );
}

/// A refused row saying its person opted out puts the number on the do-not-contact list
/// before the rows after it are written; a dry run counts what that suppresses as the commit
/// does.
#[test]
fn a_dry_run_counts_what_a_refused_rows_opt_out_suppresses() {
    let (dir, data, tenant) = data_with_tenant("Dry");
    let text = "Phone,First Name,Email,SMS Opt Out,SMS Consent\n\
                415-555-3102,Bea,not an email,yes,\n\
                415-555-3102,Bea,bea@example.com,,yes\n\
                415-555-3103,Cy,,,yes\n";
    let import = |dry_run: bool| import_us_csv(&dir, &data, &tenant, text, dry_run);
    let counts = |report: &Value| {
        let fields = ["valid", "invalid", "created", "suppressed", "opt_outs_kept"];
        fields.map(|field| report[field].clone())
    };
    let checked = import(true);
    let committed = import(false);
    assert_eq!(
        counts(&checked),
        counts(&committed),
        "{checked}\n{committed}"
    );
    assert_eq!(
        (&committed["suppressed"], &committed["opt_outs_kept"]),
        (&json!(1), &json!(1)),
        "{committed}"
    );
    assert_eq!(checked["preview"][0]["consent"], "revoked", "{checked}");
}
