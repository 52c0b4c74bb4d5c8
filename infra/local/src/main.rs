//! `smscrm`: the local host. `serve` runs every function in one process on the embedded
//! adapters; the other commands are operator tools that work with or without a running server.

use clap::Parser;
use smscrm_local_host::{cli, commands};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = cli::Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(cli.default_log_filter())),
        )
        .with_writer(std::io::stderr)
        .init();
    commands::run(cli).await
}
