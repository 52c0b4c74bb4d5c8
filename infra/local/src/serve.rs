//! `smscrm serve`: every function's router on one port, on the chosen backend.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use csv_import::ImportWorker;
use smscrm_domain::ports::{Blobs, Mailer, Queue, Secrets};
use smscrm_http::{AppContext, health_router, with_common_layers};
use smscrm_twilio::CredentialSource;
use smscrm_twilio::credentials::DEFAULT_FALLBACK_SECRET;
use tokio::net::TcpListener;
use twilio_webhook::{WebhookConfig, WebhookState};

use crate::backend;
use crate::cli::{BackendArgs, ServeArgs};

/// How often expired items are purged from the embedded store (DynamoDB's TTL does this on AWS).
const PURGE_EVERY: Duration = Duration::from_secs(300);

/// A local import job runs this long before it pauses and queues its continuation, as the
/// `import-worker` Lambda does before its 15-minute limit.
pub const IMPORT_RUN_FOR: Duration = Duration::from_secs(10 * 60);
/// How often the local scheduler ticks (the AWS rule: every minute).
pub const SCHEDULER_EVERY: Duration = Duration::from_secs(30);
/// A failed import job is tried again after this long.
pub const IMPORT_RETRY_DELAY: Duration = Duration::from_secs(5);

/// The queues the functions talk through (SQS on AWS, SQLite queues locally).
#[derive(Clone)]
pub struct Queues {
    pub import_jobs: Arc<dyn Queue>,
    /// Campaign fan-out jobs.
    pub dispatch: Arc<dyn Queue>,
    /// Send work for the sender, one recipient per message.
    pub sends: Arc<dyn Queue>,
}

/// Every API function merged into one router, exactly as each runs alone on Lambda.
pub fn app(
    ctx: AppContext,
    blobs: Arc<dyn Blobs>,
    queues: &Queues,
    services: Services,
    webhooks: WebhookState,
) -> Router {
    let imports = api_imports::ImportsState::new(ctx.clone(), blobs, queues.import_jobs.clone());
    app_with(ctx, imports, queues, services, webhooks)
}

/// What some functions need beyond the store and the queues.
#[derive(Clone)]
pub struct Services {
    pub secrets: Arc<dyn Secrets>,
    pub mailer: Arc<dyn Mailer>,
    /// The URL people and Twilio reach the product at (links in emails point there).
    pub public_url: String,
}

/// [`app`] with the imports API's settings given.
pub fn app_with(
    ctx: AppContext,
    imports: api_imports::ImportsState,
    queues: &Queues,
    services: Services,
    webhooks: WebhookState,
) -> Router {
    let tenant = api_tenant::TenantState {
        app: ctx.clone(),
        secrets: services.secrets,
        dispatch: queues.dispatch.clone(),
    };
    let auth = api_auth::AuthState {
        app: ctx.clone(),
        mailer: services.mailer,
        public_base_url: Some(services.public_url),
    };
    let campaigns = api_campaigns::CampaignsState {
        app: ctx.clone(),
        dispatch: queues.dispatch.clone(),
    };
    let contacts = api_contacts::router()
        .merge(api_templates::router())
        .merge(api_inbox::router())
        .merge(health_router())
        .with_state(ctx);
    with_common_layers(
        contacts
            .merge(api_campaigns::router().with_state(campaigns))
            .merge(api_imports::router().with_state(imports))
            .merge(api_tenant::router().with_state(tenant))
            .merge(api_auth::router().with_state(auth))
            .merge(twilio_webhook::router().with_state(webhooks)),
    )
}

/// The webhooks' state: signatures are checked with the tenants' auth tokens (or the
/// platform's default account's) over URLs starting with `public_base_url`.
pub fn webhooks(
    ctx: &AppContext,
    secrets: Arc<dyn Secrets>,
    public_base_url: &str,
) -> WebhookState {
    let credentials = CredentialSource::new(secrets, Some(DEFAULT_FALLBACK_SECRET.to_owned()));
    WebhookState::new(
        ctx.table.clone(),
        ctx.clock.clone(),
        Arc::new(credentials),
        WebhookConfig {
            public_base_url: Some(public_base_url.to_owned()),
        },
    )
}

/// The scheduler, the local twin of the `scheduler` Lambda and its EventBridge rule.
pub fn scheduler(ctx: &AppContext, queues: &Queues) -> campaign_dispatcher::Scheduler {
    let table = &ctx.table;
    campaign_dispatcher::Scheduler {
        tenants: ctx.tenants.clone(),
        campaigns: smscrm_store::Campaigns::new(table.clone()),
        messages: smscrm_store::Messages::new(table.clone()),
        dispatches: smscrm_store::Dispatches::new(table.clone()),
        budgets: smscrm_store::Budgets::new(table.clone()),
        dispatch: queues.dispatch.clone(),
        sends: queues.sends.clone(),
        clock: ctx.clock.clone(),
    }
}

/// The campaign dispatcher, the local twin of the `campaign-dispatcher` Lambda.
pub fn dispatcher(ctx: &AppContext, queues: &Queues) -> campaign_dispatcher::Dispatcher {
    let table = &ctx.table;
    campaign_dispatcher::Dispatcher {
        tenants: ctx.tenants.clone(),
        campaigns: smscrm_store::Campaigns::new(table.clone()),
        templates: ctx.templates.clone(),
        contacts: ctx.contacts.clone(),
        suppressions: smscrm_store::DoNotContact::new(table.clone()),
        messages: smscrm_store::Messages::new(table.clone()),
        dispatches: smscrm_store::Dispatches::new(table.clone()),
        budgets: smscrm_store::Budgets::new(table.clone()),
        jobs: queues.dispatch.clone(),
        sends: queues.sends.clone(),
        clock: ctx.clock.clone(),
        owner: campaign_dispatcher::owner_name(),
        page_size: campaign_dispatcher::PAGE,
    }
}

pub async fn run(backend_args: &BackendArgs, args: ServeArgs) -> anyhow::Result<()> {
    let backend = backend::open(backend_args).await?;
    let demo = if args.demo {
        let demo = crate::demo::ensure(&backend.ctx, &backend_args.data_dir).await?;
        println!(
            "Demo tenant {} ready with {} contacts.",
            demo.tenant_id, demo.contacts
        );
        println!("Demo API key: {}", demo.api_key);
        println!(
            "Demo sign-in: POST /v1/auth/magic-link {{\"email\": \"{}\"}} (the link is printed here)",
            crate::demo::OWNER
        );
        Some(demo)
    } else {
        None
    };
    if let Some(table) = backend.embedded_table.clone() {
        tokio::spawn(async move {
            let mut every = tokio::time::interval(PURGE_EVERY);
            loop {
                every.tick().await;
                if let Err(e) = table.purge_expired().await {
                    tracing::warn!(error = %e, "purging expired items failed");
                }
            }
        });
    }
    let queues = backend::queues(backend_args).await?;
    let jobs = queues.import_jobs.clone();
    tokio::spawn(
        import_worker(&backend.ctx, &backend.blobs, &jobs)
            .consume(IMPORT_RUN_FOR, IMPORT_RETRY_DELAY),
    );
    tokio::spawn(dispatcher(&backend.ctx, &queues).consume(IMPORT_RUN_FOR, IMPORT_RETRY_DELAY));
    tokio::spawn(scheduler(&backend.ctx, &queues).run(SCHEDULER_EVERY));
    let addr = format!("{}:{}", args.host, args.port);
    let listener = TcpListener::bind(&addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let local = listener.local_addr()?;
    let public_url = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{local}"));
    let (simulator, twilio_base_url) = match &args.twilio_base_url {
        Some(url) => (None, url.clone()),
        None => {
            let account = crate::sending::simulator_account(backend.secrets.as_ref()).await?;
            let sim = twilio_sim::Simulator::new(twilio_sim::SimConfig {
                accounts: vec![account.clone()],
                ..twilio_sim::SimConfig::default()
            });
            if let Some(demo) = &demo {
                // People can text the demo bakery's number (through the simulator's /inbound).
                let url = smscrm_twilio::webhooks::inbound_url(&public_url, &demo.tenant_id);
                sim.set_inbound_url(crate::demo::NUMBER, &account.sid, &url);
            }
            (
                Some(sim),
                format!("http://{local}{}", crate::sending::SIM_PATH),
            )
        }
    };
    let sender = crate::sending::sender(
        &backend.ctx,
        backend.secrets.clone(),
        &twilio_base_url,
        crate::sending::TWILIO_TIMEOUT,
        sender::SenderConfig {
            workers: args.sender_workers,
            max_receives: crate::backend::JOB_RECEIVES,
            public_base_url: Some(public_url.clone()),
            ..sender::SenderConfig::default()
        },
    )?;
    tokio::spawn(crate::sending::worker_pool(sender, queues.sends.clone()).run());
    tokio::spawn(crate::dropbox::watch(csv_import::DropFolder {
        tenants: backend.ctx.tenants.clone(),
        contacts: backend.ctx.contacts.clone(),
        imports: smscrm_store::Imports::new(backend.ctx.table.clone()),
        blobs: backend.blobs.clone(),
        jobs: jobs.clone(),
        audit: smscrm_store::AuditLog::new(backend.ctx.table.clone()),
    }));
    println!(
        "smscrm listening on http://{local} (data in {})",
        backend_args.data_dir.display()
    );
    let dropbox = backend_args.data_dir.join("dropbox").join("tenants");
    if let Err(error) = std::fs::create_dir_all(&dropbox) {
        tracing::warn!(%error, "the drop folder could not be made");
    }
    println!(
        "Drop folder: CSV files put in {}/<tenant id>/imports/ are imported (reports in its \
         reports/ folder)",
        dropbox.display()
    );
    let webhooks = webhooks(&backend.ctx, backend.secrets.clone(), &public_url);
    let outbox = smscrm_local::Outbox::new(backend_args.data_dir.join("outbox"));
    let services = Services {
        secrets: backend.secrets.clone(),
        mailer: Arc::new(crate::mail::PrintingOutbox(outbox.clone())),
        public_url: public_url.clone(),
    };
    let mut imports =
        api_imports::ImportsState::new(backend.ctx.clone(), backend.blobs, jobs.clone());
    imports.max_upload_bytes = args.max_upload_bytes;
    let mut router = app_with(backend.ctx, imports, &queues, services, webhooks)
        .merge(crate::mail::dev_outbox(outbox));
    if let Some(sim) = simulator {
        println!(
            "Twilio simulator at http://{local}{path}/ (sent messages: GET {path}/messages; \
             text in: POST {path}/inbound From=.. To=.. Body=..)",
            path = crate::sending::SIM_PATH,
        );
        if demo.is_some() {
            println!(
                "The demo bakery's number {} answers texts (STOP, START, HELP, replies).",
                crate::demo::NUMBER
            );
        }
        router = router.nest(crate::sending::SIM_PATH, sim.router());
    }
    // The peer address stands in for API Gateway's X-Forwarded-For (rate limits, audit).
    let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    println!("smscrm stopped");
    Ok(())
}

/// The worker that commits imports, the local twin of the `import-worker` Lambda.
pub fn import_worker(
    ctx: &AppContext,
    blobs: &Arc<dyn Blobs>,
    jobs: &Arc<dyn Queue>,
) -> ImportWorker {
    ImportWorker {
        contacts: ctx.contacts.clone(),
        imports: smscrm_store::Imports::new(ctx.table.clone()),
        blobs: blobs.clone(),
        queue: jobs.clone(),
        // One worker, one writer: ranges would run one after another, each claiming its
        // phones a batch at a time, where one run claims them all in phone order ahead
        // (BENCHMARKS.md, "Fanned-out commits"). A run of any size pauses and continues.
        fan_out: csv_import::FanOut {
            above_bytes: u64::MAX,
            ..csv_import::FanOut::default()
        },
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down");
}
