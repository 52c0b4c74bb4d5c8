//! `smscrm` commands on the AWS adapters (`--backend aws`), against the moto emulator that
//! `scripts/test` starts (AWS_ENDPOINT_URL).

use std::process::Command;

use serde_json::{Value, json};

mod common;

use common::{BIN, free_port};

async fn moto_table() -> String {
    assert!(
        std::env::var_os("AWS_ENDPOINT_URL").is_some(),
        "AWS_ENDPOINT_URL is not set: run the suite with scripts/test, which starts moto"
    );
    let sdk = smscrm_aws::sdk_config().await;
    let name = format!("smscrm-cli-{}", std::process::id());
    smscrm_aws::create_table(&aws_sdk_dynamodb::Client::new(&sdk), &name)
        .await
        .expect("create table in moto");
    name
}

fn smscrm(table: &str, args: &[&str]) -> Value {
    common::smscrm(["--backend", "aws", "--table", table].iter().chain(args))
}

#[tokio::test]
async fn cli_and_server_run_on_dynamodb() {
    let table = moto_table().await;
    let tenant = smscrm(
        &table,
        &[
            "tenant",
            "create",
            "--name",
            "Cloud Co",
            "--timezone",
            "America/Denver",
        ],
    );
    let key = tenant["api_key"].as_str().expect("api_key").to_owned();
    let tenant_id = tenant["tenant_id"].as_str().expect("tenant_id").to_owned();

    let sdk = smscrm_aws::sdk_config().await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue = |name: &'static str| {
        let sqs = sqs.clone();
        async move {
            smscrm_aws::create_queue_with_dlq(
                &sqs,
                &format!("smscrm-cli-{name}-{}", std::process::id()),
                60,
                5,
            )
            .await
            .unwrap_or_else(|e| panic!("create the {name} queue in moto: {e}"))
            .0
        }
    };
    let jobs_url = queue("jobs").await;
    let dispatch_url = queue("dispatch").await;
    let sends_url = queue("sends").await;
    let port = free_port();
    let mut server = Command::new(BIN)
        .args([
            "--backend",
            "aws",
            "--table",
            &table,
            "--import-jobs-queue-url",
            &jobs_url,
            "--dispatch-queue-url",
            &dispatch_url,
            "--send-queue-url",
            &sends_url,
            "serve",
            "--port",
            &port.to_string(),
        ])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("serve");
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    let mut up = false;
    // 30 s: it makes AWS calls before it listens, and moto is slow under a full test run.
    for _ in 0..300 {
        if http.get(format!("{base}/health")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(up, "server came up");

    let created = http
        .post(format!("{base}/v1/contacts"))
        .bearer_auth(&key)
        .json(&json!({"phone": "(303) 555-0147", "first_name": "Rocky"}))
        .send()
        .await
        .expect("create");
    assert_eq!(created.status(), 201);
    let listed: Value = http
        .get(format!("{base}/v1/contacts"))
        .bearer_auth(&key)
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(listed["items"][0]["phone"], "+13035550147");

    let minted = smscrm(&table, &["apikey", "create", "--tenant", &tenant_id]);
    smscrm(
        &table,
        &[
            "apikey",
            "revoke",
            "--tenant",
            &tenant_id,
            minted["api_key_id"].as_str().expect("id"),
        ],
    );
    let refused = http
        .get(format!("{base}/v1/contacts"))
        .bearer_auth(minted["api_key"].as_str().expect("key"))
        .send()
        .await
        .expect("request");
    assert_eq!(refused.status(), 401);
    let paused = smscrm(
        &table,
        &[
            "tenant",
            "pause",
            &tenant_id,
            "--reason",
            "carrier complaint",
        ],
    );
    assert_eq!(paused["paused"], true);
    assert_eq!(paused["pause"]["reason"], "carrier complaint");
    let _ = server.kill();
    let _ = server.wait();
}
