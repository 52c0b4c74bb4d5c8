//! `smscrm import FILE --tenant ID ...`: the CLI entry point of the import pipeline.

use std::fs::File;
use std::io::{BufReader, IsTerminal as _};
use std::time::Duration;

use csv_import::{ImportFailure, ImportReport, ImportRequest, Progress, RefusedRowsCsv};
use smscrm_domain::Region;
use smscrm_http::AppContext;
use smscrm_import::{ConsentDeclaration, ExplicitMapping, ImportError, ImportOptions};

use crate::cli::ImportArgs;
use crate::commands::{print_json, tenant_id};

/// Why `smscrm import` stopped without a report; `--json` prints it as
/// `{"error": {"code", "message"}}` on stdout, so a script always gets one JSON object.
#[derive(Debug, thiserror::Error)]
enum Failure {
    /// A flag's value is not usable (`--tenant`, `--region`, `--map`).
    #[error("{0}")]
    Option(String),
    #[error("no tenant {0}")]
    NoTenant(String),
    #[error("cannot {action} {path}: {source}")]
    File {
        action: &'static str,
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Import(#[from] ImportFailure),
    #[error("writing the error report failed: {0}")]
    ErrorsCsv(#[from] csv::Error),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl Failure {
    /// Stable, like the API's error codes (`unreadable_file` is the API's too).
    fn code(&self) -> &'static str {
        match self {
            Self::Option(_) => "invalid_option",
            Self::NoTenant(_) => "not_found",
            Self::File { .. } => "cannot_open",
            Self::Import(ImportFailure::File(ImportError::Io(_))) => "read_failed",
            Self::Import(ImportFailure::File(ImportError::NoSpaceToSort)) => "no_space",
            Self::Import(ImportFailure::File(e)) if e.is_the_mappings() => "invalid_mapping",
            Self::Import(ImportFailure::File(ImportError::InvalidConsent(_))) => "invalid_option",
            Self::Import(ImportFailure::File(_)) => "unreadable_file",
            Self::Import(ImportFailure::Store(_)) => "store_failed",
            Self::Import(ImportFailure::Internal(_)) | Self::Other(_) => "internal",
            Self::ErrorsCsv(_) => "errors_csv_failed",
        }
    }
}

pub async fn run(ctx: &AppContext, args: ImportArgs) -> anyhow::Result<()> {
    let json = args.json;
    match import(ctx, args).await {
        Ok(report) if json => print_json(&serde_json::to_value(&report)?),
        Ok(report) => {
            print_summary(&report);
            Ok(())
        }
        Err(failure) => {
            if json {
                print_json(&serde_json::json!({
                    "error": { "code": failure.code(), "message": failure.to_string() }
                }))?;
            }
            Err(failure.into())
        }
    }
}

async fn import(ctx: &AppContext, args: ImportArgs) -> Result<ImportReport, Failure> {
    let id = tenant_id(&args.tenant).map_err(|e| Failure::Option(e.to_string()))?;
    let Some(tenant) = ctx.tenants.get(&id).await.map_err(anyhow::Error::from)? else {
        return Err(Failure::NoTenant(id.to_string()));
    };
    let region: Region = match &args.region {
        Some(raw) => raw
            .parse()
            .map_err(|e| Failure::Option(format!("--region: {e}")))?,
        None => tenant.default_region,
    };
    let mapping: Option<ExplicitMapping> = args
        .map
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(|e: ImportError| Failure::Option(format!("--map: {e}")))?;
    let options = ImportOptions {
        region,
        mapping,
        consent: args
            .consent
            .clone()
            .map(|source| ConsentDeclaration { source }),
        ..ImportOptions::new(region)
    };
    let open = |path: &std::path::Path| {
        File::open(path).map_err(|source| Failure::File {
            action: "open",
            path: path.display().to_string(),
            source,
        })
    };
    let from_stdin = args.file.as_os_str() == "-";
    // Standard input, a pipe or a FIFO cannot be read twice: it is copied to a temporary file
    // first, so every import reads its file twice, as the pass ahead needs (memory stays
    // flat, a first row takes a later row's opt-out, phones are claimed in order).
    let regular = !from_stdin && std::fs::metadata(&args.file).is_ok_and(|m| m.is_file());
    let copy = if regular {
        None
    } else {
        Some(spool(&args.file, from_stdin)?)
    };
    let path = copy
        .as_ref()
        .map_or(args.file.as_path(), |copy| copy.path());
    let file = open(path)?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let input: Box<dyn std::io::Read + Send> = Box::new(file);
    if let Some(errors) = &args.errors_csv
        && same_file(errors, &args.file)
    {
        // Creating the report would empty the file before it is read: a fixed report
        // imported with --errors-csv naming itself.
        return Err(Failure::Option(format!(
            "--errors-csv {} names the file being imported; name another file",
            errors.display()
        )));
    }
    let errors_to: Box<dyn std::io::Write + Send> = match &args.errors_csv {
        Some(path) => Box::new(std::fs::File::create(path).map_err(|e| Failure::File {
            action: "write",
            path: path.display().to_string(),
            source: e,
        })?),
        None => Box::new(std::io::sink()),
    };
    let mut refused = RefusedRowsCsv::new(std::io::BufWriter::new(errors_to));
    let progress = Progress::default();
    let bar =
        (!args.json && std::io::stderr().is_terminal()).then(|| progress_bar(size, &progress));
    let again = open(path)?;
    let phones_from: Option<Box<dyn std::io::Read + Send>> =
        Some(Box::new(BufReader::with_capacity(256 * 1024, again)));
    let request = ImportRequest {
        tenant: tenant.id.clone(),
        options,
        commit: !args.dry_run,
        phones_from,
    };
    let result = csv_import::run(
        &ctx.contacts,
        BufReader::with_capacity(256 * 1024, input),
        request,
        &progress,
        &mut refused,
    )
    .await;
    if let Some((bar, ticker)) = bar {
        ticker.abort();
        bar.finish_and_clear();
    }
    // Flushed here, not on drop, which would lose a failure.
    let written = refused.finish().and_then(|out| {
        let flushed = out.into_inner().map_err(|e| e.into_error());
        flushed.map(drop).map_err(csv::Error::from)
    });
    let report = result?;
    if !args.dry_run {
        // Committed, whatever became of the report of refused rows.
        audit_commit(ctx, &tenant.id, &args, &report).await;
    }
    written?;
    Ok(report)
}

/// Whether two paths name one file (an existing one: a path not yet created names none).
fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// A copy of standard input (`from_stdin`) or of the pipe at `file`, to read twice.
fn spool(file: &std::path::Path, from_stdin: bool) -> Result<tempfile::NamedTempFile, Failure> {
    let failed = |source| Failure::File {
        action: "copy",
        path: file.display().to_string(),
        source,
    };
    let mut copy = tempfile::NamedTempFile::new().map_err(failed)?;
    let copied = if from_stdin {
        std::io::copy(&mut std::io::stdin().lock(), &mut copy)
    } else {
        File::open(file).and_then(|mut pipe| std::io::copy(&mut pipe, &mut copy))
    };
    copied.map_err(failed)?;
    Ok(copy)
}

/// The audit log keeps a CLI commit as it keeps one by the API or the drop folder: who gave
/// the consent declaration, for which file. Best effort: the contacts are written, so a lost
/// entry is told on stderr rather than failing the command.
async fn audit_commit(
    ctx: &AppContext,
    tenant: &smscrm_domain::TenantId,
    args: &ImportArgs,
    report: &ImportReport,
) {
    let actor = smscrm_store::Actor::Operator {
        name: std::env::var("USER").unwrap_or_else(|_| "cli".into()),
    };
    let details = serde_json::json!({
        "filename": args.file.file_name().map(|n| n.to_string_lossy()),
        "consent_source": args.consent,
        "created": report.created,
        "updated": report.updated,
    });
    let target = format!("file:{}", args.file.display());
    let entry =
        smscrm_store::AuditEntry::new(ctx.clock.now(), actor, "import.committed", target, details);
    if let Err(e) = smscrm_store::AuditLog::new(ctx.table.clone())
        .append(tenant, &entry)
        .await
    {
        eprintln!("warning: the import was not written to the audit log: {e}");
    }
}

fn progress_bar(
    size: u64,
    progress: &Progress,
) -> (indicatif::ProgressBar, tokio::task::JoinHandle<()>) {
    let bar = indicatif::ProgressBar::new(size);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} {msg} {bytes}/{total_bytes} [{wide_bar}] {bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let (ticking, progress) = (bar.clone(), progress.clone());
    let ticker = tokio::spawn(async move {
        let mut shown = "";
        loop {
            // The pass ahead (when there is one) reads the file first, then the main pass.
            let (main, ahead) = (progress.bytes_read(), progress.bytes_read_ahead());
            let (phase, position) = match main {
                0 if ahead > 0 => ("checking phones", ahead),
                _ => ("importing", main),
            };
            if phase != shown {
                shown = phase;
                ticking.set_message(phase);
                ticking.reset_eta();
            }
            ticking.set_position(position);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    (bar, ticker)
}

/// `text` with control characters escaped: a reason quotes the file's cells, and a cell's
/// escape sequences must not reach the terminal (retitle it, clear it).
fn printable(text: &str) -> String {
    let mut shown = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            shown.extend(c.escape_default());
        } else {
            shown.push(c);
        }
    }
    shown
}

/// "1 row", "2 rows".
fn rows(count: u64) -> String {
    match count {
        1 => "1 row".to_owned(),
        n => format!("{n} rows"),
    }
}

fn print_summary(report: &ImportReport) {
    let verb = if report.dry_run { "would be" } else { "were" };
    println!(
        "{} read ({} encoding, delimiter {})",
        rows(report.rows),
        report.encoding,
        report.delimiter
    );
    println!(
        "  valid {}, invalid {}, duplicates {}",
        report.valid, report.invalid, report.duplicates
    );
    println!(
        "  contacts {verb} created: {}, updated: {}; unchanged: {}; on the do-not-contact \
         list: {}",
        report.created, report.updated, report.unchanged, report.suppressed
    );
    let consent = report.consent;
    println!(
        "  consent: given in {}, refused in {}, opted out in {}; other rows leave it as it is",
        rows(consent.given),
        rows(consent.withdrawn),
        rows(consent.opted_out)
    );
    if report.opt_outs_kept > 0 {
        println!(
            "  {} grant consent to contacts who opted out: their opt-outs stand",
            rows(report.opt_outs_kept)
        );
    }
    for (header, target) in &report.mapping {
        println!("  column {header:?} -> {target}");
    }
    for (header, role) in &report.number_columns {
        let reads = match role.as_str() {
            "country" => "each row's number is read for the country it names",
            _ => "a number that does not read as written is read after its area code",
        };
        println!("  column {header:?} also reads numbers: {reads}");
    }
    for error in &report.errors {
        println!("  row {}: {}", error.row, printable(&error.reason));
    }
    if report.errors_total > report.errors.len() as u64 {
        println!(
            "  ... and {} more rejected rows (use --errors-csv to get them all)",
            report.errors_total - report.errors.len() as u64
        );
    }
}
