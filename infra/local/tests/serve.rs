//! The `smscrm` binary as a user runs it: `serve --demo`, CLI commands beside a running
//! server, and a restart that keeps everything.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::{Value, json};

mod common;

use common::{BIN, free_port};

struct Server {
    child: Child,
    base: String,
    demo_key: Option<String>,
}

impl Server {
    fn start(data_dir: &std::path::Path, demo: bool) -> Self {
        let port = free_port();
        let mut cmd = Command::new(BIN);
        cmd.args(["serve", "--port", &port.to_string(), "--data-dir"])
            .arg(data_dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        if demo {
            cmd.arg("--demo");
        }
        let mut child = cmd.spawn().expect("start smscrm serve");
        let stdout = child.stdout.take().expect("stdout");
        let mut demo_key = None;
        let mut base = None;
        let mut lines = BufReader::new(stdout).lines();
        for line in lines.by_ref() {
            let line = line.expect("stdout line");
            if let Some(key) = line.strip_prefix("Demo API key: ") {
                demo_key = Some(key.trim().to_owned());
            }
            if let Some(rest) = line.strip_prefix("smscrm listening on ") {
                base = rest.split_whitespace().next().map(str::to_owned);
                break;
            }
        }
        // Keep reading so the server never writes to a closed pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Self {
            child,
            base: base.expect("server printed its address"),
            demo_key,
        }
    }

    /// Stops it the way Ctrl-C or a service manager does, and waits for a clean exit.
    fn stop(mut self) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        assert!(sent.success());
        let status = self.child.wait().expect("wait");
        assert!(status.success(), "clean shutdown, got {status}");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

fn cli(data_dir: &std::path::Path, args: &[&str]) -> Value {
    let data_dir = data_dir.to_string_lossy();
    common::smscrm(args.iter().copied().chain(["--data-dir", &data_dir]))
}

#[tokio::test]
async fn demo_server_keeps_data_across_restarts_and_shares_it_with_the_cli() {
    let dir = tempfile::tempdir().expect("temp dir");
    let http = reqwest::Client::new();
    let server = Server::start(dir.path(), true);
    let key = server.demo_key.clone().expect("demo key printed");

    let list = |base: String, key: String| {
        let http = http.clone();
        async move {
            let response = http
                .get(format!("{base}/v1/contacts?limit=100"))
                .bearer_auth(key)
                .send()
                .await
                .expect("list");
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.expect("json")
        }
    };
    let demo_contacts = list(server.base.clone(), key.clone()).await["items"]
        .as_array()
        .map_or(0, Vec::len);
    assert!(demo_contacts >= 10, "demo data has contacts");
    let templates: Value = http
        .get(format!("{}/v1/templates", server.base))
        .bearer_auth(&key)
        .send()
        .await
        .expect("templates")
        .json()
        .await
        .expect("json");
    assert_eq!(templates["items"][0]["name"], "Fresh bread", "{templates}");

    let created = http
        .post(format!("{}/v1/contacts", server.base))
        .bearer_auth(&key)
        .json(&json!({"phone": "+1 646 555 0100", "first_name": "Kept"}))
        .send()
        .await
        .expect("create");
    assert_eq!(created.status(), 201);

    // A CLI command on the same data directory while the server runs.
    let tenant = cli(
        dir.path(),
        &[
            "tenant",
            "create",
            "--name",
            "Side Shop",
            "--timezone",
            "Europe/London",
            "--region",
            "GB",
        ],
    );
    let side_key = tenant["api_key"].as_str().expect("api_key").to_owned();
    assert!(
        tenant["tenant_id"]
            .as_str()
            .is_some_and(|t| t.starts_with("tn_"))
    );
    let side = http
        .post(format!("{}/v1/contacts", server.base))
        .bearer_auth(&side_key)
        .json(&json!({"phone": "07911 123456"}))
        .send()
        .await
        .expect("create in new tenant");
    assert_eq!(side.status(), 201);
    assert_eq!(
        side.json::<Value>().await.expect("json")["phone"],
        "+447911123456"
    );

    server.stop();
    let server = Server::start(dir.path(), true);
    assert_eq!(
        server.demo_key.as_deref(),
        Some(key.as_str()),
        "the demo key survives a restart"
    );
    let after = list(server.base.clone(), key.clone()).await;
    let phones: Vec<&str> = after["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|c| c["phone"].as_str())
        .collect();
    assert_eq!(phones.len(), demo_contacts + 1);
    assert!(phones.contains(&"+16465550100"));
    let side_list = list(server.base.clone(), side_key).await;
    assert_eq!(side_list["items"].as_array().map(Vec::len), Some(1));

    // Revoking from the CLI takes effect on the running server.
    let tenant_id = tenant["tenant_id"].as_str().expect("id");
    let minted = cli(dir.path(), &["apikey", "create", "--tenant", tenant_id]);
    let revoked = cli(
        dir.path(),
        &[
            "apikey",
            "revoke",
            "--tenant",
            tenant["tenant_id"].as_str().expect("id"),
            minted["api_key_id"].as_str().expect("key id"),
        ],
    );
    assert!(revoked["revoked_at"].is_string());
    let refused = http
        .get(format!("{}/v1/contacts", server.base))
        .bearer_auth(minted["api_key"].as_str().expect("key"))
        .send()
        .await
        .expect("request");
    assert_eq!(refused.status(), 401);
    server.stop();
}

#[test]
fn cli_errors_are_clear_and_fail_the_command() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = Command::new(BIN)
        .args([
            "tenant",
            "create",
            "--name",
            "X",
            "--timezone",
            "Mars/Base",
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("timezone"));
}

#[test]
fn tenant_settings_are_shown_changed_and_validated() {
    let dir = tempfile::tempdir().expect("temp dir");
    let created = cli(dir.path(), &["tenant", "create", "--name", "Shop"]);
    let tenant = created["tenant_id"].as_str().expect("tenant_id");
    let shown = cli(dir.path(), &["tenant", "settings", tenant]);
    assert_eq!(
        shown["settings"]["quiet_hours"],
        json!({"opens": "08:00", "closes": "21:00"})
    );
    assert_eq!(
        shown["settings"]["opt_out_footer"]["policy"],
        "first_message"
    );
    let changed = cli(
        dir.path(),
        &[
            "tenant",
            "settings",
            tenant,
            "--quiet-hours",
            "09:00-20:30",
            "--daily-cap-cents",
            "500",
            "--price",
            "gb=4000",
            "--footer-policy",
            "always",
        ],
    );
    let settings = &changed["settings"];
    assert_eq!(
        settings["quiet_hours"],
        json!({"opens": "09:00", "closes": "20:30"})
    );
    assert_eq!(settings["budget"]["daily_cap_cents"], 500);
    assert_eq!(settings["budget"]["monthly_cap_cents"], Value::Null);
    assert_eq!(settings["segment_prices"]["countries"]["GB"], 4000);
    assert_eq!(settings["opt_out_footer"]["policy"], "always");
    // Read back by a new process: stored.
    assert_eq!(
        cli(dir.path(), &["tenant", "settings", tenant])["settings"],
        *settings
    );

    for bad in [
        ["--quiet-hours", "21:00-08:00"],
        ["--daily-cap-cents", "lots"],
        ["--footer-policy", "sometimes"],
    ] {
        let out = Command::new(BIN)
            .args(["tenant", "settings", tenant])
            .args(bad)
            .arg("--data-dir")
            .arg(dir.path())
            .output()
            .expect("run");
        assert!(!out.status.success(), "{bad:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(bad[1]) || stderr.contains("quiet_hours"),
            "{stderr}"
        );
    }
}

#[tokio::test]
async fn people_can_text_the_demo_bakerys_number() {
    let dir = tempfile::tempdir().expect("temp dir");
    let http = reqwest::Client::new();
    let server = Server::start(dir.path(), true);
    let key = server.demo_key.clone().expect("demo key printed");
    let text = |body: &'static str| {
        http.post(format!("{}/twilio-sim/inbound", server.base))
            .form(&[
                ("From", "+12125550142"),
                ("To", "+15125550100"),
                ("Body", body),
            ])
            .send()
    };

    let help: Value = text("help")
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(help["http_status"], 200, "{help}");
    let bodies: Vec<&str> = help["replies"]
        .as_array()
        .expect("replies")
        .iter()
        .filter_map(|reply| reply["body"].as_str())
        .collect();
    assert!(
        bodies.iter().any(|body| body.starts_with("Demo Bakery")),
        "the bakery answers HELP itself: {help}"
    );

    let reply: Value = text("Do you have rye?")
        .await
        .expect("sent")
        .json()
        .await
        .expect("json");
    assert_eq!(reply["http_status"], 200, "{reply}");
    let inbox: Value = http
        .get(format!("{}/v1/inbox/+12125550142", server.base))
        .bearer_auth(&key)
        .send()
        .await
        .expect("inbox")
        .json()
        .await
        .expect("json");
    assert_eq!(
        inbox["messages"]["items"][0]["body"], "Do you have rye?",
        "{inbox}"
    );
    server.stop();
}

#[tokio::test]
async fn the_demo_owner_signs_in_with_the_link_from_the_outbox() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = Server::start(dir.path(), true);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let asked = http
        .post(format!("{}/v1/auth/magic-link", server.base))
        .json(&json!({"email": "owner@demo-bakery.example"}))
        .send()
        .await
        .expect("asked");
    assert_eq!(asked.status(), 202);
    let outbox: Value = http
        .get(format!("{}/dev/outbox", server.base))
        .send()
        .await
        .expect("outbox")
        .json()
        .await
        .expect("json");
    let text = outbox[0]["text"].as_str().expect("an email");
    let link = text
        .split_whitespace()
        .find(|word| word.starts_with(&server.base))
        .expect("a link to this server");
    let token = link.split_once("token=").expect("token").1;
    let signed_in = http
        .post(format!("{}/v1/auth/session", server.base))
        .form(&[("token", token)])
        .send()
        .await
        .expect("session");
    assert_eq!(signed_in.status(), 303);
    let session = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix("smscrm_session="))
        .and_then(|rest| rest.split(';').next())
        .expect("session cookie")
        .to_owned();
    let me: Value = http
        .get(format!("{}/v1/me", server.base))
        .header("cookie", format!("smscrm_session={session}"))
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    assert_eq!(me["email"], "owner@demo-bakery.example", "{me}");
    assert_eq!(me["role"], "owner");
    assert_eq!(me["tenant"]["name"], "Demo Bakery");
    server.stop();
}
