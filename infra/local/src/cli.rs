use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "smscrm",
    version,
    about = "smscrm local host and operator tools"
)]
pub struct Cli {
    #[command(flatten)]
    pub backend: BackendArgs,
    #[command(subcommand)]
    pub command: Command,
}

impl Cli {
    pub fn default_log_filter(&self) -> &'static str {
        match self.command {
            Command::Serve(_) => "info",
            _ => "warn",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendKind {
    /// SQLite and files under --data-dir.
    Embedded,
    /// DynamoDB and friends, configured by the usual AWS environment variables
    /// (AWS_ENDPOINT_URL, AWS_REGION, ...) and SMSCRM_TABLE.
    Aws,
}

#[derive(Debug, Clone, Args)]
pub struct BackendArgs {
    /// Where the embedded backend keeps its data.
    #[arg(
        long,
        global = true,
        env = "SMSCRM_DATA_DIR",
        default_value = ".smscrm"
    )]
    pub data_dir: PathBuf,
    #[arg(
        long,
        global = true,
        value_enum,
        env = "SMSCRM_BACKEND",
        default_value = "embedded"
    )]
    pub backend: BackendKind,
    /// DynamoDB table name (aws backend).
    #[arg(long, global = true, env = "SMSCRM_TABLE", default_value = "smscrm")]
    pub table: String,
    /// S3 bucket for uploaded files (aws backend).
    #[arg(
        long,
        global = true,
        env = "SMSCRM_BUCKET",
        default_value = "smscrm-imports"
    )]
    pub bucket: String,
    /// SQS queue URL of the import jobs (aws backend; needed by `serve`).
    #[arg(long, global = true, env = "SMSCRM_IMPORT_JOBS_QUEUE_URL")]
    pub import_jobs_queue_url: Option<String>,
    /// SQS queue URL of campaign fan-out jobs (aws backend; needed by `serve`).
    #[arg(long, global = true, env = "SMSCRM_DISPATCH_QUEUE_URL")]
    pub dispatch_queue_url: Option<String>,
    /// SQS queue URL of send work (aws backend; needed by `serve`).
    #[arg(long, global = true, env = "SMSCRM_SEND_QUEUE_URL")]
    pub send_queue_url: Option<String>,
    /// Prepended to secret names in Secrets Manager (aws backend), e.g. `prod/`.
    #[arg(long, global = true, env = "SMSCRM_SECRETS_PREFIX", default_value = "")]
    pub secrets_prefix: String,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve every API on one port.
    Serve(ServeArgs),
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Manage API keys.
    #[command(subcommand)]
    Apikey(ApiKeyCommand),
    /// Import contacts from a CSV file (prints a report; --json for one JSON object).
    Import(ImportArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The CSV file, or `-` to read standard input.
    pub file: PathBuf,
    #[arg(long)]
    pub tenant: String,
    /// Region for numbers without a country code (default: the tenant's).
    #[arg(long)]
    pub region: Option<String>,
    /// Explicit column mapping, e.g. `phone=Telefon,first_name=Vorname,attr:city=Stadt`.
    /// Targets: phone, first_name, last_name, name, email, consent, opt_out, tags, skip,
    /// attr:<name>.
    #[arg(long)]
    pub map: Option<String>,
    /// Declare consent for every row whose consent cell is empty (or that has no consent
    /// column), naming where it was given. An opt-out column's yes still wins.
    #[arg(long, value_name = "SOURCE")]
    pub consent: Option<String>,
    /// Check and count everything, write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print one JSON report on stdout.
    #[arg(long)]
    pub json: bool,
    /// Also write every rejected row (row, reason) to this CSV file.
    #[arg(long, value_name = "PATH")]
    pub errors_csv: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[arg(long, env = "SMSCRM_PORT", default_value_t = 3000)]
    pub port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Create (once) a demo tenant with contacts and print its API key.
    #[arg(long)]
    pub demo: bool,
    /// Twilio's API (https://api.twilio.com) for real sends with the tenants' credentials;
    /// without it, messages go to the Twilio simulator served at /twilio-sim/.
    #[arg(long, env = "SMSCRM_TWILIO_BASE_URL")]
    pub twilio_base_url: Option<String>,
    /// Sender workers (the analogue of the sender's maximum concurrency on AWS); each paces
    /// itself to its share of a sender's rate.
    #[arg(long, env = "SMSCRM_SENDER_WORKERS", default_value_t = 4)]
    pub sender_workers: u32,
    /// The URL Twilio reaches this host at (a tunnel's, for real Twilio), for its webhooks:
    /// status callbacks and incoming messages. Defaults to the address listened on.
    #[arg(long, env = "SMSCRM_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// The largest file `PUT /v1/imports/{id}/file` takes (5 GiB, S3's limit for one PUT, by
    /// default); a larger one is refused with 413 and nothing of it is kept.
    #[arg(long, env = "SMSCRM_MAX_UPLOAD_BYTES", default_value_t = api_imports::MAX_UPLOAD_BYTES)]
    pub max_upload_bytes: u64,
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant and its first API key; prints JSON.
    Create {
        #[arg(long)]
        name: String,
        /// IANA time zone, e.g. America/New_York.
        #[arg(long, default_value = "UTC")]
        timezone: String,
        /// Default phone region (ISO country code), e.g. US.
        #[arg(long, default_value = "US")]
        region: String,
        /// The email of the tenant's first owner, who signs in by magic link.
        #[arg(long)]
        owner: Option<String>,
    },
    /// List tenants as JSON lines.
    List,
    /// Stop all sending for a tenant (the kill switch).
    Pause {
        tenant: String,
        /// Why (kept with the switch and in the tenant's audit log).
        #[arg(long)]
        reason: String,
    },
    /// Resume sending for a tenant.
    Resume { tenant: String },
    /// Show (with no options) or change what campaigns' gates read; prints the settings.
    Settings {
        tenant: String,
        /// Delivery window in recipients' local time, e.g. 09:00-20:00.
        #[arg(long)]
        quiet_hours: Option<String>,
        /// Daily spending cap in cents; `none` removes it.
        #[arg(long)]
        daily_cap_cents: Option<String>,
        /// Monthly spending cap in cents; `none` removes it.
        #[arg(long)]
        monthly_cap_cents: Option<String>,
        /// Price of one segment in millicents for countries without their own price.
        #[arg(long)]
        default_price: Option<u64>,
        /// A country's segment price in millicents, e.g. GB=4000 (repeatable).
        #[arg(long = "price")]
        prices: Vec<String>,
        /// When the opt-out footer is added: first_message, always or never.
        #[arg(long)]
        footer_policy: Option<String>,
        #[arg(long)]
        footer_text: Option<String>,
        /// A sender's rate in segments per second, e.g. +15005550006=100 (repeatable; 0 removes
        /// it: long codes then get 1, US toll-free numbers 3).
        #[arg(long = "sender-rate")]
        sender_rates: Vec<String>,
        /// The answer to HELP and INFO; `default` restores the default text.
        #[arg(long)]
        help_text: Option<String>,
        /// Whether Twilio confirms STOP and START itself (its default opt-out handling, or
        /// Advanced Opt-Out): `true` (the default) or `false` (we answer them).
        #[arg(long)]
        twilio_confirms_opt_out: Option<bool>,
        /// Days message bodies, delivery reports and replies are kept (30 to 3650).
        #[arg(long)]
        message_retention_days: Option<u32>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ApiKeyCommand {
    /// Mint a new key for a tenant; prints JSON with the key, shown only this once.
    Create {
        #[arg(long)]
        tenant: String,
        #[arg(long, default_value = "cli")]
        name: String,
        /// What the key may do: any of read, write, send, admin, comma-separated. No key
        /// manages people or keys.
        #[arg(long, default_value = "read,write,send")]
        scopes: String,
    },
    /// Revoke a key by its id (key_...).
    Revoke {
        #[arg(long)]
        tenant: String,
        key_id: String,
    },
    /// List a tenant's keys (never the secrets).
    List {
        #[arg(long)]
        tenant: String,
    },
}
