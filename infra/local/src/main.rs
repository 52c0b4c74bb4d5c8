//! `smscrm`: the local host. `serve` runs every function in one process on the embedded
//! adapters; the other commands are operator tools that work with or without a running server.

use clap::Parser;
use smscrm_local_host::{cli, commands};

/// jemalloc, not glibc's malloc: an import allocates on one thread (parsing, building items)
/// and frees on others (after SQLite writes), which glibc serves with arena locks and
/// consolidation. Measured on the 1M-row benchmark: first load 13.1 -> 10.4 s, re-import
/// 7.6 -> 4.8 s, for ~10 MB more resident memory (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's options, read before `main`: two arenas rather than four per core, which kept a
/// re-import's peak RSS at 115 MB instead of 128-145 MB, at no measurable cost. The
/// `_RJEM_MALLOC_CONF` environment variable still overrides it.
#[unsafe(export_name = "_rjem_malloc_conf")]
static JEMALLOC_OPTIONS: JemallocOptions = JemallocOptions(c"narenas:2".as_ptr());

/// A C string pointer jemalloc reads as `const char *malloc_conf`.
#[repr(transparent)]
struct JemallocOptions(*const std::ffi::c_char);

// SAFETY: it points at a string literal, immutable for the life of the process.
unsafe impl Sync for JemallocOptions {}

fn main() -> anyhow::Result<()> {
    limit_malloc_arenas();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

async fn run() -> anyhow::Result<()> {
    let cli = cli::Cli::parse();
    if !matches!(cli.command, cli::Command::Serve(_)) {
        die_on_closed_pipe();
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(cli.default_log_filter())),
        )
        .with_writer(std::io::stderr)
        .init();
    commands::run(cli).await
}

/// SQLite, being C, still allocates (its page caches) with glibc's malloc, from whichever
/// blocking thread runs it, and glibc gives each such thread its own arena (up to 8 per core).
/// Before jemalloc took Rust's allocations, the spare arenas held ~20 MB more resident memory
/// on a 1M-row import for no measurable speed; the cap stays for SQLite's share (not
/// re-measured since).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn limit_malloc_arenas() {
    if std::env::var_os("MALLOC_ARENA_MAX").is_some() {
        return; // the operator's choice
    }
    // SAFETY: mallopt only sets an allocator parameter, and runs before any other thread.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_malloc_arenas() {}

/// Rust ignores SIGPIPE, so printing to a closed pipe (`smscrm import --json | head`) panics.
/// The one-shot commands end quietly instead, like other Unix tools; `serve` keeps ignoring it,
/// as a server must when a client hangs up.
#[cfg(unix)]
fn die_on_closed_pipe() {
    // SAFETY: restores the default disposition of one signal; no handler runs our code.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(not(unix))]
fn die_on_closed_pipe() {}
