//! `smscrm import FILE --tenant ID ...`: the CLI entry point of the import pipeline.

use std::fs::File;
use std::io::{BufReader, IsTerminal as _};
use std::time::Duration;

use anyhow::{Context as _, bail};
use csv_import::{ImportReport, ImportRequest, Progress, RowError, wants_second_read};
use smscrm_domain::Region;
use smscrm_http::AppContext;
use smscrm_import::{ConsentDeclaration, ExplicitMapping, ImportOptions};

use crate::cli::ImportArgs;
use crate::commands::{print_json, tenant_id};

pub async fn run(ctx: &AppContext, args: ImportArgs) -> anyhow::Result<()> {
    let id = tenant_id(&args.tenant)?;
    let Some(tenant) = ctx.tenants.get(&id).await? else {
        bail!("no tenant {id}");
    };
    let region: Region = match &args.region {
        Some(raw) => raw.parse()?,
        None => tenant.default_region,
    };
    let mapping: Option<ExplicitMapping> = args.map.as_deref().map(str::parse).transpose()?;
    let options = ImportOptions {
        region,
        mapping,
        consent: args
            .consent
            .clone()
            .map(|source| ConsentDeclaration { source }),
        ..ImportOptions::new(region)
    };
    let file =
        File::open(&args.file).with_context(|| format!("cannot open {}", args.file.display()))?;
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut errors_csv = match &args.errors_csv {
        Some(path) => {
            let mut writer = csv::Writer::from_path(path)
                .with_context(|| format!("cannot write {}", path.display()))?;
            writer.write_record(["row", "reason"])?;
            Some(writer)
        }
        None => None,
    };
    let progress = Progress::default();
    let bar =
        (!args.json && std::io::stderr().is_terminal()).then(|| progress_bar(size, &progress));
    // A pipe or FIFO cannot be read twice: only a regular file gets the pass ahead (which
    // keeps memory flat and claims phones in order).
    let regular = std::fs::metadata(&args.file).is_ok_and(|m| m.is_file());
    let phones_from: Option<Box<dyn std::io::Read + Send>> =
        if !regular || !wants_second_read(!args.dry_run, size) {
            None
        } else {
            let again = File::open(&args.file)
                .with_context(|| format!("cannot open {}", args.file.display()))?;
            Some(Box::new(BufReader::with_capacity(256 * 1024, again)))
        };
    let request = ImportRequest {
        tenant: tenant.id.clone(),
        options,
        commit: !args.dry_run,
        phones_from,
    };
    let mut write_failure = None;
    let result = csv_import::run(
        &ctx.contacts,
        BufReader::with_capacity(256 * 1024, file),
        request,
        &progress,
        |error: &RowError| {
            if let Some(writer) = errors_csv.as_mut()
                && let Err(e) = writer.write_record(csv_import::error_record(error))
            {
                write_failure.get_or_insert(e);
            }
        },
    )
    .await;
    if let Some((bar, ticker)) = bar {
        ticker.abort();
        bar.finish_and_clear();
    }
    if let Some(e) = write_failure {
        return Err(e).context("writing the error report");
    }
    if let Some(mut writer) = errors_csv {
        writer.flush()?;
    }
    let report = result?;
    if args.json {
        print_json(&serde_json::to_value(&report)?)
    } else {
        print_summary(&report);
        Ok(())
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

fn print_summary(report: &ImportReport) {
    let verb = if report.dry_run { "would be" } else { "were" };
    println!(
        "{} rows read ({} encoding, delimiter {})",
        report.rows, report.encoding, report.delimiter
    );
    println!(
        "  valid {}, invalid {}, duplicates {}",
        report.valid, report.invalid, report.duplicates
    );
    println!(
        "  {} {verb} created, {} {verb} updated, {} unchanged, {} on the do-not-contact list",
        report.created, report.updated, report.unchanged, report.suppressed
    );
    if report.opt_outs_kept > 0 {
        println!(
            "  {} rows grant consent to contacts who opted out: their opt-outs stand",
            report.opt_outs_kept
        );
    }
    for (header, target) in &report.mapping {
        println!("  column {header:?} -> {target}");
    }
    for error in &report.errors {
        println!("  row {}: {}", error.row, error.reason);
    }
    if report.errors_total > report.errors.len() as u64 {
        println!(
            "  ... and {} more rejected rows (use --errors-csv to get them all)",
            report.errors_total - report.errors.len() as u64
        );
    }
}
