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

/// The instant a long-running handler should pause at: `margin` before the invocation's
/// deadline (milliseconds since the epoch, as the Lambda context gives it), leaving time to
/// save progress and queue a continuation.
pub fn pause_before(deadline_ms: u64, margin: std::time::Duration) -> tokio::time::Instant {
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let left = std::time::Duration::from_millis(deadline_ms.saturating_sub(now_ms));
    tokio::time::Instant::now() + left.saturating_sub(margin)
}
