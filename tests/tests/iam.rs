//! Deployed functions run under the IAM policies template.yaml gives them, and moto does not
//! check IAM unless asked. Here a moto server of the test's own has IAM checks turned on; the
//! world is set up by an administrator; then a scheduled campaign is started by the scheduler,
//! fanned out by the dispatcher and sent by the sender, and the Twilio webhook takes a START and
//! a STOP, each as a user holding exactly the DynamoDB actions template.yaml grants its
//! function; and a file dropped in the import folder goes in through the drop-folder function
//! and the import worker (fanned out in ranges) the same way, each also holding exactly the S3
//! statements, resources included, the template gives it. An action the code uses and the
//! template forgets fails here, as it would on AWS.

use crate::support;

use std::sync::Arc;
use std::time::Duration;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_dynamodb::config::Credentials;
use bytes::Bytes;
use chrono::NaiveTime;
use chrono::TimeZone;
use csv_import::{DropFolder, DropOutcome, ImportJob, ImportWorker, JobOutcome};
use reqwest::Method;
use sender::{Pacer, Verdict};
use serde_json::json;
use smscrm_domain::Tenant;
use smscrm_domain::ports::Blobs as _;
use smscrm_domain::ports::Queue;
use smscrm_domain::quiet_hours::QuietHours;
use smscrm_domain::{PhoneE164, TenantId};
use smscrm_http::AppContext;
use smscrm_store::{AuditLog, Contacts, DoNotContact, ImportStatus, Imports, Suppression, Tenants};
use smscrm_tests::backends::Backend as _;
use smscrm_tests::backends::QueueFactory as _;
use std::process::{Child, Command};
use support::{TestApp, send, test_sender};

const TEMPLATE: &str = include_str!("../../template.yaml");
const FROM: &str = "+14155550100";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_goes_out_with_each_function_holding_only_its_table_actions() {
    let moto = Moto::start().await;
    let admin = moto.user("admin", &["*"]).await;
    let mut users = std::collections::HashMap::new();
    for function in [
        "SchedulerFunction",
        "CampaignDispatcherFunction",
        "SenderFunction",
        "TwilioWebhookFunction",
    ] {
        users.insert(function, moto.user_of(function).await);
    }
    moto.check_iam_from_now_on().await;

    let backend = smscrm_tests::backends::aws_on(moto.config(&admin).await).await;
    let app = TestApp::start_without_senders(&backend).await;
    // Midday in New York, whatever the hour: the recipients' window is open.
    let new_york = chrono_tz::America::New_York;
    let today = chrono::Utc::now().with_timezone(&new_york).date_naive();
    let noon = new_york
        .from_local_datetime(&today.and_hms_opt(12, 0, 0).expect("time"))
        .single()
        .expect("noon exists")
        .with_timezone(&chrono::Utc);
    app.clock.shift_to(noon);
    // A function's own table handle: its DynamoDB calls go out as its user.
    let ctx_of = |function: &str| {
        let user = &users[function];
        let moto = &moto;
        let (table_name, clock) = (backend.table_name.clone(), app.clock.clone());
        async move { AppContext::new(moto.table(user, &table_name).await, clock) }
    };
    let me = app.tenant("Bakery").await;
    let tenant: TenantId = me.tenant_id.parse().expect("tenant id");
    let mut settings = app
        .ctx
        .tenants
        .get(&tenant)
        .await
        .expect("read")
        .expect("tenant")
        .settings();
    settings.quiet_hours = QuietHours {
        opens: NaiveTime::MIN,
        closes: NaiveTime::from_hms_opt(23, 59, 59).expect("time"),
    };
    settings.sender_rates.insert(FROM.into(), 100);
    app.ctx
        .tenants
        .set_settings(&tenant, &settings)
        .await
        .expect("settings");
    for phone in ["+12125552001", "+12125552002"] {
        let (status, body) = app
            .post_contact(
                &me,
                json!({"phone": phone, "first_name": "Ann",
                       "consent": {"status": "explicit", "source": "web form"}}),
            )
            .await;
        assert_eq!(status, 201, "{body}");
    }
    // An opt-out after the fan-out, so the sender's own do-not-contact check finds one.
    let (_, template) = send(
        app.request(Method::POST, "/v1/templates", &me)
            .json(&json!({"name": "T", "body": "Hi {{first_name}}"})),
    )
    .await;
    let (_, campaign) = send(
        app.request(Method::POST, "/v1/campaigns", &me)
            .json(&json!({
                "name": "Sale", "template_id": template["id"], "sender": {"from": FROM},
            })),
    )
    .await;
    let launch = format!(
        "/v1/campaigns/{}/launch",
        campaign["id"].as_str().expect("id")
    );
    let send_at = noon + chrono::Duration::minutes(30);
    let (status, body) = send(
        app.request(Method::POST, &launch, &me)
            .json(&json!({"send_at": send_at})),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "scheduled", "{body}");

    // The scheduler starts it on time, as its own user, onto queues of the test's own.
    let queues = smscrm_local_host::serve::Queues {
        import_jobs: backend.queue(Default::default()).await.queue,
        dispatch: backend.queue(Default::default()).await.queue,
        sends: backend.queue(Default::default()).await.queue,
    };
    app.clock.shift_to(send_at + chrono::Duration::minutes(1));
    let scheduler =
        smscrm_local_host::serve::scheduler(&ctx_of("SchedulerFunction").await, &queues);
    let tick = scheduler
        .tick()
        .await
        .unwrap_or_else(|e| panic!("the scheduler, on its own policy{REFUSED}: {e:?}"));
    assert_eq!(tick.started, 1);
    // The dispatcher fans it out, as its own user.
    let jobs = taken(queues.dispatch.as_ref(), 1).await;
    let job: campaign_dispatcher::DispatchJob =
        serde_json::from_value(jobs[0].clone()).expect("job");
    let dispatcher =
        smscrm_local_host::serve::dispatcher(&ctx_of("CampaignDispatcherFunction").await, &queues);
    let outcome = dispatcher
        .handle(&job, None)
        .await
        .unwrap_or_else(|e| panic!("the dispatcher, on its own policy{REFUSED}: {e:?}"));
    assert!(
        matches!(outcome, campaign_dispatcher::Outcome::Finished(_)),
        "{outcome:?}"
    );
    let work = taken(queues.sends.as_ref(), 2).await;
    DoNotContact::new(app.ctx.table.clone())
        .add(
            &tenant,
            &Suppression {
                phone: PhoneE164::from_e164("+12125552002").expect("phone"),
                reason: "stop_reply".into(),
                at: chrono::Utc::now(),
                source: None,
            },
        )
        .await
        .expect("opt-out");

    // The sender, as its own user.
    let sender = test_sender(&ctx_of("SenderFunction").await, &app.secrets, &app.sim_url);
    let bodies: Vec<String> = work.iter().map(|w| w.to_string()).collect();
    let batch: Vec<(&str, u32)> = bodies.iter().map(|b| (b.as_str(), 1)).collect();
    // One at a time first, so a refusal shows as the error it is.
    let mut pacer = Pacer::new(1);
    let mut context = sender::BatchContext::default();
    for (item, _) in work.iter().zip(&batch) {
        let item: campaign_dispatcher::SendWork =
            serde_json::from_value(item.clone()).expect("send work");
        sender
            .handle(&item, 1, &mut context, &mut pacer)
            .await
            .unwrap_or_else(|e| panic!("the sender, on its own policy{REFUSED}: {e:?}"));
    }
    // What the batch does after its messages: completes the campaign.
    assert_eq!(context.settled.len(), 1);
    for (tenant, campaign) in &context.settled {
        let completed = campaign_dispatcher::complete_if_settled(
            &sender.campaigns,
            &sender.dispatches,
            tenant,
            campaign,
            sender.clock.now(),
        )
        .await
        .unwrap_or_else(|e| panic!("completing, on the sender's policy: {e:?}"));
        assert!(completed);
    }
    // Work delivered again is acknowledged, on the same policy.
    let verdicts = sender.handle_batch(&batch, &mut pacer, None).await;
    assert_eq!(verdicts, [Verdict::Ack, Verdict::Ack]);

    // The webhook, as its own user: the person who opted out texts START, then STOP.
    let ctx = ctx_of("TwilioWebhookFunction").await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let state = smscrm_local_host::serve::webhooks(&ctx, app.secrets.clone(), &base);
    let webhook = twilio_webhook::router()
        .with_state(state)
        .into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = tokio::spawn(async move { axum::serve(listener, webhook).await });
    let account = smscrm_local_host::sending::simulator_account(app.secrets.as_ref())
        .await
        .expect("account");
    let url = smscrm_twilio::webhooks::inbound_url(&base, &tenant);
    app.sim.set_inbound_url(FROM, &account.sid, &url);
    let suppressions = DoNotContact::new(app.ctx.table.clone());
    let opted_out = PhoneE164::from_e164("+12125552002").expect("phone");
    for (text, listed) in [("START", false), ("STOP", true)] {
        let inbound = app
            .sim
            .receive(opted_out.as_str(), FROM, text)
            .await
            .expect("the webhook is reachable");
        assert_eq!(
            inbound.http_status, 200,
            "{text}, on the webhook's policy: {}",
            inbound.body
        );
        let entry = suppressions.get(&tenant, &opted_out).await.expect("read");
        assert_eq!(entry.is_some(), listed, "after {text}");
    }
    server.abort();
    let sent: Vec<String> = app.sim.accepted().into_iter().map(|m| m.to).collect();
    assert_eq!(sent, ["+12125552001"]);
    let (_, campaign) = send(app.request(
        Method::GET,
        &format!("/v1/campaigns/{}", campaign["id"].as_str().expect("id")),
        &me,
    ))
    .await;
    assert_eq!(campaign["status"], "completed", "{campaign}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_file_goes_in_with_each_function_holding_only_its_table_and_bucket_actions() {
    let moto = Moto::start().await;
    let admin = moto.user("admin", &["*"]).await;
    // The bucket first: the functions' S3 statements name it.
    let backend = smscrm_tests::backends::aws_on(moto.config(&admin).await).await;
    let drop_user = moto
        .user_in_bucket("CsvImportFunction", &backend.bucket)
        .await;
    let worker_user = moto
        .user_in_bucket("ImportWorkerFunction", &backend.bucket)
        .await;
    moto.check_iam_from_now_on().await;
    let admin_table = backend.table();
    let tenant = Tenant::new("Dropper", "Europe/London", "GB", chrono::Utc::now()).expect("tenant");
    Tenants::new(admin_table.clone())
        .create(&tenant)
        .await
        .expect("create tenant");
    let key = format!("tenants/{}/imports/list.csv", tenant.id);
    // Three ranges of two rows; Ada's number again in the last, noted as a duplicate.
    let file = "name,mobile\nAda Lovelace,07911 123456\nBad,0\nAlan Turing,07911 123457\n\
                Grace Hopper,07911 123458\nAda Again,07911 123456\nEdsger Dijkstra,07911 123459\n";
    backend
        .blobs
        .put(&key, Bytes::from_static(file.as_bytes()), "text/csv")
        .await
        .expect("put file");
    let jobs = backend.queue(Default::default()).await.queue;

    // The drop folder's function takes the file, as its own user.
    let table = moto.table(&drop_user, &backend.table_name).await;
    let folder = DropFolder {
        tenants: Tenants::new(table.clone()),
        contacts: Contacts::new(table.clone()),
        imports: Imports::new(table.clone()),
        blobs: moto.blobs(&drop_user, &backend.bucket).await,
        jobs: jobs.clone(),
        audit: AuditLog::new(table),
    };
    let outcome = folder
        .process(&key)
        .await
        .unwrap_or_else(|e| panic!("the drop folder, on its own policy{REFUSED}: {e:?}"));
    assert!(matches!(outcome, DropOutcome::Queued { .. }), "{outcome:?}");
    // A sidecar put while the import runs, its notification not delivered: the import's end
    // looks at the file again and queues it with the sidecar.
    backend
        .blobs
        .put(
            &format!("{key}.mapping.json"),
            Bytes::from_static(br#"{"consent_source": "shop sign-up"}"#),
            "application/json",
        )
        .await
        .expect("put sidecar");
    // The worker plans the ranges, runs them, merges them and deletes their notes, as its
    // own user.
    let table = moto.table(&worker_user, &backend.table_name).await;
    let worker = ImportWorker {
        contacts: Contacts::new(table.clone()),
        imports: Imports::new(table),
        blobs: moto.blobs(&worker_user, &backend.bucket).await,
        queue: jobs.clone(),
        fan_out: csv_import::FanOut {
            above_bytes: 0,
            rows_per_range: 2,
            ..Default::default()
        },
    };
    let mut imported = Vec::new();
    for _ in 0..2 {
        let (mut ranges, mut queued) = (0, Vec::new());
        loop {
            if queued.is_empty() {
                queued = taken(jobs.as_ref(), 1).await;
            }
            let job: ImportJob = serde_json::from_value(queued.remove(0)).expect("job");
            let outcome = worker
                .handle(&job, None)
                .await
                .unwrap_or_else(|e| panic!("the import worker, on its own policy{REFUSED}: {e:?}"));
            match outcome {
                JobOutcome::Planned { ranges: 3 } => {}
                JobOutcome::RangeDone { .. } => ranges += 1,
                JobOutcome::Finished(ImportStatus::Completed) => {
                    imported.push(job.import_id);
                    break;
                }
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(ranges, 2, "the last of three ranges merges");
    }
    assert_ne!(
        imported[0], imported[1],
        "the sidecar's import is a new one"
    );
    let page = Contacts::new(admin_table)
        .list(&tenant.id, None, 10)
        .await
        .expect("list");
    assert!(
        page.items
            .iter()
            .all(|c| c.consent.source.as_deref() == Some("shop sign-up")),
        "the sidecar's declaration: {:?}",
        page.items
    );
    let mut phones: Vec<&str> = page.items.iter().map(|c| c.phone.as_str()).collect();
    phones.sort_unstable();
    assert_eq!(
        phones,
        [
            "+447911123456",
            "+447911123457",
            "+447911123458",
            "+447911123459"
        ]
    );
    let reports = format!("tenants/{}/imports/reports/", tenant.id);
    let left = backend.blobs.list(&reports).await.expect("list reports");
    assert!(
        left.iter().all(|name| !name.contains(".notes.")),
        "notes left: {left:?}"
    );
    assert!(
        left.iter().any(|name| name.ends_with("list.csv.json")),
        "the report: {left:?}"
    );
}

/// `actions` as moto checks them: AWS authorises a transaction by the item actions in it,
/// which the template grants; moto asks for the operation itself.
fn as_granted(actions: &[String]) -> Vec<&str> {
    let mut granted: Vec<&str> = actions.iter().map(String::as_str).collect();
    granted.push("dynamodb:TransactWriteItems");
    granted
}

/// The DynamoDB actions template.yaml's policies give the function `resource`.
fn dynamodb_actions(resource: &str) -> Vec<String> {
    let mut actions: Vec<String> = resource_body(resource)
        .lines()
        .filter_map(|line| line.trim().strip_prefix("- "))
        .filter(|action| action.starts_with("dynamodb:"))
        .map(str::to_owned)
        .collect();
    actions.sort();
    actions.dedup();
    actions
}

/// The text of template.yaml's `resource`, up to the next resource.
fn resource_body(resource: &str) -> &'static str {
    let start = TEMPLATE
        .find(&format!("\n  {resource}:\n"))
        .unwrap_or_else(|| panic!("{resource} in template.yaml"));
    let body = &TEMPLATE[start + 1..];
    // The next resource starts at the same indentation.
    let end = body
        .lines()
        .skip(1)
        .position(|line| line.starts_with("  ") && !line.starts_with("   ") && line.ends_with(':'))
        .map_or(body.len(), |n| {
            body.lines().take(n + 1).map(|l| l.len() + 1).sum()
        });
    &body[..end]
}

/// The S3 statements template.yaml's policies give the function `resource`, as IAM
/// statements on `bucket` (the template's bucket name, `smscrm-${Stage}-imports-${AWS::AccountId}`).
fn s3_statements(resource: &str, bucket: &str) -> Vec<serde_json::Value> {
    let lines: Vec<&str> = resource_body(resource).lines().map(str::trim).collect();
    let mut statements = Vec::new();
    for (at, line) in lines.iter().enumerate() {
        let Some(actions) = line.strip_prefix("Action:").map(str::trim) else {
            continue;
        };
        if !actions.contains("s3:") {
            continue;
        }
        let mut actions: Vec<&str> = actions
            .trim_matches(|c| c == '[' || c == ']')
            .split(',')
            .map(str::trim)
            .collect();
        // AWS authorises a HEAD by `s3:GetObject` and a listing by `s3:ListBucket`; moto
        // asks for the operations themselves.
        if actions.contains(&"s3:GetObject") {
            actions.push("s3:HeadObject");
        }
        if actions.contains(&"s3:ListBucket") {
            actions.push("s3:ListObjectsV2");
        }
        let arn = lines[at + 1..]
            .iter()
            .find_map(|l| l.strip_prefix("Resource: !Sub"))
            .unwrap_or_else(|| panic!("{resource}: a Resource after {line}"))
            .trim()
            .trim_matches('"')
            .replace("${AWS::Partition}", "aws")
            .replace("smscrm-${Stage}-imports-${AWS::AccountId}", bucket);
        assert!(!arn.contains("${"), "{resource}: {arn}");
        statements.push(json!({"Effect": "Allow", "Action": actions, "Resource": arn}));
    }
    statements
}

/// moto refuses in XML, which the SDK cannot read: an AccessDenied shows as an unexpected `<`.
const REFUSED: &str = " (a refusal reads as an unexpected `<`)";

/// `expected` messages, taken off `queue`.
async fn taken(queue: &dyn Queue, expected: usize) -> Vec<serde_json::Value> {
    let mut taken = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while taken.len() < expected {
        assert!(std::time::Instant::now() < deadline, "nothing queued");
        for delivery in queue
            .receive(10, Duration::from_millis(200))
            .await
            .expect("receive")
        {
            taken.push(serde_json::from_str(&delivery.body).expect("a JSON message"));
            queue.ack(&delivery.receipt).await.expect("ack");
        }
    }
    taken
}

/// A moto server of this test's own, stopped when dropped.
struct Moto {
    endpoint: String,
    http: reqwest::Client,
    process: Child,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

struct User {
    key: String,
    secret: String,
}

impl Moto {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let server = concat!(env!("CARGO_MANIFEST_DIR"), "/../.venv/bin/moto_server");
        let process = Command::new(server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("start {server} (scripts/test installs it): {e}"));
        let moto = Self {
            endpoint: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
            process,
        };
        // 30 s: a second moto starting cold on a machine busy with the rest of the tests.
        for _ in 0..300 {
            let up = moto
                .http
                .get(format!("{}/moto-api/", moto.endpoint))
                .send()
                .await;
            if up.is_ok() {
                return moto;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("moto did not answer on {}", moto.endpoint);
    }

    /// An IAM user allowed `actions` on every resource, with an access key. Only before
    /// [`Moto::check_iam_from_now_on`]: the request is not signed.
    async fn user(&self, name: &str, actions: &[&str]) -> User {
        let statement = json!({"Effect": "Allow", "Action": actions, "Resource": "*"});
        self.user_with(name, vec![statement]).await
    }

    /// An IAM user whose policy is `statements`, with an access key; as [`Moto::user`].
    async fn user_with(&self, name: &str, statements: Vec<serde_json::Value>) -> User {
        let policy = json!({"Version": "2012-10-17", "Statement": statements});
        self.iam(&[("Action", "CreateUser"), ("UserName", name)])
            .await;
        self.iam(&[
            ("Action", "PutUserPolicy"),
            ("UserName", name),
            ("PolicyName", "function"),
            ("PolicyDocument", &policy.to_string()),
        ])
        .await;
        let created = self
            .iam(&[("Action", "CreateAccessKey"), ("UserName", name)])
            .await;
        let field = |tag: &str| {
            let open = format!("<{tag}>");
            let from = created.find(&open).expect("access key in the answer") + open.len();
            let to = created[from..].find('<').expect("closing tag") + from;
            created[from..to].to_owned()
        };
        User {
            key: field("AccessKeyId"),
            secret: field("SecretAccessKey"),
        }
    }

    /// A user holding the DynamoDB actions template.yaml grants `function`.
    async fn user_of(&self, function: &str) -> User {
        let actions = dynamodb_actions(function);
        assert!(
            actions.contains(&"dynamodb:PutItem".to_owned()),
            "read {function}'s policy: {actions:?}"
        );
        self.user(function, &as_granted(&actions)).await
    }

    /// A user holding the DynamoDB actions and the S3 statements template.yaml grants
    /// `function`, its statements' bucket being `bucket`.
    async fn user_in_bucket(&self, function: &str, bucket: &str) -> User {
        let actions = dynamodb_actions(function);
        let mut statements = vec![json!({
            "Effect": "Allow",
            "Action": as_granted(&actions),
            "Resource": "*",
        })];
        let s3 = s3_statements(function, bucket);
        assert!(!s3.is_empty(), "read {function}'s S3 statements");
        statements.extend(s3);
        self.user_with(function, statements).await
    }

    /// `bucket` as `user` reaches it.
    async fn blobs(&self, user: &User, bucket: &str) -> Arc<dyn smscrm_domain::ports::Blobs> {
        let s3 = smscrm_aws::s3_client(&self.config(user).await);
        Arc::new(smscrm_aws::S3Blobs::new(s3, bucket))
    }

    /// The table `name` as `user` reaches it.
    async fn table(&self, user: &User, name: &str) -> Arc<smscrm_aws::DynamoTable> {
        let dynamodb = aws_sdk_dynamodb::Client::new(&self.config(user).await);
        Arc::new(smscrm_aws::DynamoTable::new(dynamodb, name))
    }

    async fn iam(&self, params: &[(&str, &str)]) -> String {
        let mut form = params.to_vec();
        form.push(("Version", "2010-05-08"));
        // Unchecked while IAM checks are off; it names the service for moto's routing.
        let auth = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/iam/aws4_request, \
                    SignedHeaders=host, Signature=0";
        let response = self
            .http
            .post(format!("{}/", self.endpoint))
            .header("Authorization", auth)
            .form(&form)
            .send()
            .await
            .expect("IAM answers");
        let status = response.status();
        let body = response.text().await.expect("IAM body");
        assert!(status.is_success(), "IAM {params:?}: {status} {body}");
        body
    }

    /// From now on every request must be signed by a user whose policies allow it.
    async fn check_iam_from_now_on(&self) {
        let response = self
            .http
            .post(format!("{}/moto-api/reset-auth", self.endpoint))
            .body("0")
            .send()
            .await
            .expect("moto answers");
        assert!(response.status().is_success());
    }

    async fn config(&self, user: &User) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(&self.endpoint)
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new(
                &user.key,
                &user.secret,
                None,
                None,
                "iam-test",
            ))
            .load()
            .await
    }
}
