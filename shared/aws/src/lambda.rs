//! What every Lambda `main` does before wiring its handler.

/// JSON logs for CloudWatch, filtered by `RUST_LOG` (default `info`), with each line carrying
/// its span's fields (tenant and request ids). No timestamps: CloudWatch adds its own.
pub fn init_logging() {
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_current_span(true)
        .without_time()
        .init();
}

/// A setting the template must provide; the error names it.
pub fn required_env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} is not set"))
}
