use std::collections::HashSet;
use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::Utc;
use smscrm_domain::contact::ConsentInput;
use smscrm_domain::{ConsentStatus, ContactMerge, TenantId};
use smscrm_import::{
    DUPLICATE_OF, ImportError, ImportOptions, ImportRow, RefusedOptOut, Resume, RowOutcome,
};
use smscrm_store::contact_import::{Plan, Preclaim};

use crate::ahead::{Note, Notes, Restricts, Scope, look_ahead};
use crate::refused::RefusedRows;
use smscrm_store::{Checkpoint, Contacts, PendingBatch, RepoError};
use tokio::sync::mpsc;
use tokio::time::{Duration, Instant};

use smscrm_domain::import_report::ImportCounts;
use smscrm_domain::import_report::{
    ConsentCounts, ImportReport, PREVIEW_ROWS, PreviewRow, RowError,
};

/// Rows handed to the writer at a time: large enough to amortise round trips, small enough
/// that memory stays flat.
const BATCH_ROWS: usize = 1000;
/// A batch goes once its refused rows' cells hold this many bytes, whatever its rows.
const BATCH_CELL_BYTES: usize = 4 << 20;
/// Batches parsed ahead of the planner.
const BATCHES_IN_FLIGHT: usize = 4;
/// Batches planned ahead of the writer, which writes all that are waiting at once: on the
/// embedded store one commit of 8,000 contacts rewrites each name-index page it touches once
/// where eight commits rewrote it up to eight times (a first load of 1M rows: 40% less system
/// time, 5-7% faster; 30 MB more memory). DynamoDB gains nothing from it, and a Lambda
/// would write more past its deadline: one batch ahead there.
const PLANS_IN_FLIGHT: usize = 8;
const PLANS_IN_FLIGHT_DYNAMODB: usize = 1;

pub struct ImportRequest {
    pub tenant: TenantId,
    pub options: ImportOptions,
    /// False for a dry run: everything is checked and counted, nothing is written.
    pub commit: bool,
    /// A second reader of the same file. With it, the import first reads the file for its
    /// phones (the `ahead` module): duplicates are found on disk, so memory stays flat
    /// whatever the file's size, and a commit on the embedded store claims the phones in
    /// phone order ([`Contacts::preclaim`]) before writing contacts, several times faster
    /// there than claiming a batch at a time. Without it, duplicates are found in memory
    /// (about 20 bytes a phone).
    pub phones_from: Option<Box<dyn Read + Send>>,
}

/// How a commit that may outlive its worker runs: from where the last worker stopped, until a
/// deadline, saving its progress after every batch.
pub struct Resumable<'a> {
    /// Rows up to the checkpoint are parsed again (for the report and the in-file duplicate
    /// check, at parse speed) but not written again.
    pub from: Option<Checkpoint>,
    /// Only data rows `from + 1 ..= to` (counted from the first data row) are this run's: to
    /// write and to report. Earlier rows are parsed (the in-file duplicate check needs them),
    /// and parsing stops after `to`. `None`: the whole file.
    pub window: Option<(u64, u64)>,
    /// No batch starts after this instant, except the run's first (so every run makes
    /// progress): the run pauses instead.
    pub stop_at: Option<Instant>,
    pub checkpoints: &'a dyn Checkpoints,
}

/// Where a resumable run saves its progress.
#[async_trait::async_trait]
pub trait Checkpoints: Send + Sync {
    /// An error stops the run (e.g. the worker lost its lease to another).
    async fn save(&self, checkpoint: &Checkpoint) -> Result<(), RepoError>;
}

/// How a resumable run ended.
#[derive(Debug)]
pub enum Run {
    Finished(ImportReport),
    /// The deadline came first; everything up to the checkpoint is written.
    Paused(Checkpoint),
}

/// Bytes and rows read so far, for progress bars and records; shared with whoever shows it.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    bytes: Arc<AtomicU64>,
    rows: Arc<AtomicU64>,
    ahead: Arc<AtomicU64>,
    /// The file's data rows plus one; 0 until the pass ahead has counted them.
    rows_in_file: Arc<AtomicU64>,
}

impl Progress {
    /// Bytes the main pass has read.
    pub fn bytes_read(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
    /// Bytes the pass ahead has read (it runs first, when there is one).
    pub fn bytes_read_ahead(&self) -> u64 {
        self.ahead.load(Ordering::Relaxed)
    }
    pub fn rows_read(&self) -> u64 {
        self.rows.load(Ordering::Relaxed)
    }
    /// The file's data rows, once the pass ahead has read all of it.
    pub fn rows_in_file(&self) -> Option<u64> {
        self.rows_in_file.load(Ordering::Relaxed).checked_sub(1)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    /// The file cannot be imported at all (no phone column, binary, empty, ...).
    #[error(transparent)]
    File(#[from] ImportError),
    #[error("storing contacts failed: {0}")]
    Store(#[from] RepoError),
    #[error("the import stopped unexpectedly: {0}")]
    Internal(String),
}

enum Event {
    /// With its phone's claim, if the pass ahead made one.
    Valid(ImportRow, Preclaim),
    /// With the row's cells as written.
    Error(RowError, ErrorKind, Vec<String>),
}

enum ErrorKind {
    /// With the refused row's opt-out, which is kept for its number.
    Invalid(Option<RefusedOptOut>),
    Duplicate,
}

enum Message {
    Header(smscrm_import::Detected),
    Rows(Vec<Event>),
    /// The encoding turned out to be another than detected (see `smscrm_import::Rows::encoding`).
    Encoding(String),
}

/// Imports `input` for the tenant; `refused` sees every rejected row (the report keeps the
/// first [`crate::MAX_REPORTED_ERRORS`]).
pub async fn run<R: Read + Send + 'static>(
    contacts: &Contacts,
    input: R,
    request: ImportRequest,
    progress: &Progress,
    refused: impl RefusedRows,
) -> Result<ImportReport, ImportFailure> {
    match run_resumable(contacts, input, request, progress, None, refused).await? {
        Run::Finished(report) => Ok(report),
        Run::Paused(_) => Err(ImportFailure::Internal(
            "an import without a deadline paused".into(),
        )),
    }
}

/// [`run`], optionally resuming from a checkpoint, pausing at a deadline and saving progress.
pub async fn run_resumable<R: Read + Send + 'static>(
    contacts: &Contacts,
    input: R,
    request: ImportRequest,
    progress: &Progress,
    resumable: Option<Resumable<'_>>,
    refused: impl RefusedRows,
) -> Result<Run, ImportFailure> {
    run_from(contacts, input, request, progress, resumable, None, refused).await
}

/// A run over one part of a file read as bytes (a range of a fanned-out commit): its input is the
/// file's header row followed by the part's bytes.
pub(crate) struct PartRead {
    /// The place in the file where the part starts.
    pub(crate) resume: Resume,
    /// The part's duplicate rows, found by the plan's read of the whole file.
    pub(crate) notes: Notes,
}

/// [`run_resumable`], over the whole file or, with `part`, over the part of it that holds the
/// window's rows (which must start right after the window's first row).
pub(crate) async fn run_from<R: Read + Send + 'static>(
    contacts: &Contacts,
    input: R,
    mut request: ImportRequest,
    progress: &Progress,
    resumable: Option<Resumable<'_>>,
    part: Option<PartRead>,
    mut refused: impl RefusedRows,
) -> Result<Run, ImportFailure> {
    let mut report = ImportReport {
        dry_run: !request.commit,
        ..ImportReport::default()
    };
    let (first, last) = resumable
        .as_ref()
        .and_then(|r| r.window)
        .unwrap_or((0, u64::MAX));
    let whole_file = part.is_none() && (first, last) == (0, u64::MAX);
    let (resume, given_notes) = match part {
        Some(part) => (Some(part.resume), Some(part.notes)),
        None => (None, None),
    };
    let done = resumable
        .as_ref()
        .and_then(|r| r.from)
        .unwrap_or(Checkpoint {
            rows: first,
            ..Checkpoint::default()
        });
    report.add_counts(done.counts);
    let notes = match request.phones_from.take() {
        _ if given_notes.is_some() => given_notes,
        Some(phones) => {
            let claims = request.commit && contacts.claims_ahead_pay();
            let scope = Scope {
                report_after: first,
                claim_after: claims.then_some(done.rows),
                through: last,
                opt_outs_past: true,
            };
            let (tenant, options) = (&request.tenant, &request.options);
            let phones = Box::new(CountingReader {
                inner: phones,
                read: progress.ahead.clone(),
            });
            let notes = look_ahead(contacts, tenant, options, phones, scope).await?;
            if let Some(rows) = notes.rows_in_file {
                progress
                    .rows_in_file
                    .store(rows.saturating_add(1), Ordering::Relaxed);
            }
            Some(notes)
        }
        None => None,
    };
    // Started after the pass ahead, so the main reader (an S3 stream, say) never sits idle.
    let (tx, mut rx) = mpsc::channel::<Message>(BATCHES_IN_FLIGHT);
    let counting = CountingReader {
        inner: input,
        read: progress.bytes.clone(),
    };
    let options = ImportOptions {
        find_duplicates: notes.is_none(),
        ..request.options.clone()
    };
    let parser = tokio::task::spawn_blocking(move || parse(counting, &options, resume, notes, &tx));
    // Planned batches queue for the writer, so SQLite writes without waiting for planning, and
    // planning (reads, merges, building items) goes on while it writes.
    let plans_in_flight = match contacts.claims_ahead_pay() {
        true => PLANS_IN_FLIGHT,
        false => PLANS_IN_FLIGHT_DYNAMODB,
    };
    let (plans, planned) = mpsc::channel::<Planned>(plans_in_flight);
    let writer = Writer {
        contacts,
        tenant: &request.tenant,
        commit: request.commit,
        checkpoints: resumable.as_ref().map(|r| r.checkpoints),
        done,
    };
    let planner = Planner {
        contacts,
        tenant: &request.tenant,
        commit: request.commit,
        stop_at: resumable.as_ref().and_then(|r| r.stop_at),
        window: (first, last),
        rows_before: if resume.is_some() { first } else { 0 },
        done_rows: done.rows,
        pending: done.pending,
    };
    let (ended, written) = tokio::join!(
        planner.run(&mut rx, plans, &mut report, progress, &mut refused),
        writer.run(planned),
    );
    let done = written?;
    // Dropping the receiver stops the parser at its next batch.
    drop(rx);
    let parsed = parser.await;
    match ended? {
        Ended::Paused => return Ok(Run::Paused(done)),
        // The rest of the file is other runs' business.
        Ended::PastWindow => return Ok(Run::Finished(report)),
        Ended::WriterGone => {
            return Err(ImportFailure::Internal("the writer stopped".into()));
        }
        Ended::Input => {}
    }
    match parsed {
        // A header alone is most likely an export of an empty list, not what was meant.
        Ok(Ok(())) if whole_file && report.rows == 0 => Err(ImportError::NoRows.into()),
        Ok(Ok(())) => Ok(Run::Finished(report)),
        Ok(Err(e)) => Err(e),
        Err(join) => Err(ImportFailure::Internal(join.to_string())),
    }
}

/// The most refused rows' opt-outs a dry run keeps, to count what they suppress (8 MB or so);
/// past them a dry run counts fewer suppressed rows than the commit will.
const LISTED_AHEAD_CAP: usize = 1 << 19;

/// A planned batch, the data row it ends with, and the opt-outs of its refused rows.
type Planned = (Plan, u64, Vec<KeptOptOut>);

/// A refused row's opt-out, as the do-not-contact list and the contact record it.
struct KeptOptOut {
    phone: smscrm_domain::PhoneE164,
    /// Where it was read, and the row: `import column SMS Opt Out, row 7`.
    source: String,
}

impl KeptOptOut {
    fn of(row: u64, opt_out: RefusedOptOut) -> Self {
        Self {
            source: format!("{}, row {row}", opt_out.source)
                .chars()
                .take(smscrm_domain::contact::MAX_SOURCE_CHARS)
                .collect(),
            phone: opt_out.phone,
        }
    }
}

/// Why planning stopped.
enum Ended {
    /// The input ended.
    Input,
    /// The deadline came; everything planned is written.
    Paused,
    /// The rows after the window are other runs'.
    PastWindow,
    /// The writer stopped (it failed, and says why).
    WriterGone,
}

/// Turns parsed rows into planned batches for the [`Writer`], counting them into the report.
struct Planner<'a> {
    contacts: &'a Contacts,
    tenant: &'a TenantId,
    commit: bool,
    stop_at: Option<Instant>,
    /// Data rows `(first, last]` are this run's.
    window: (u64, u64),
    /// Data rows before the input's first (a part of the file starts after some).
    rows_before: u64,
    /// Rows up to here were written by earlier runs.
    done_rows: u64,
    /// The batch after them, which an earlier run began to write.
    pending: Option<PendingBatch>,
}

impl Planner<'_> {
    fn past_deadline(&self) -> bool {
        self.stop_at.is_some_and(|at| Instant::now() >= at)
    }

    /// A refused row's reason, saying what becomes of its opt-out.
    fn keeps(&self, error: &RowError, opt_out: &RefusedOptOut) -> String {
        let phone = &opt_out.phone;
        match self.commit {
            true => format!(
                "{}; its opt-out is kept: {phone} is on the do-not-contact list",
                error.reason
            ),
            false => format!(
                "{}; its opt-out will be kept: a commit puts {phone} on the do-not-contact list",
                error.reason
            ),
        }
    }

    async fn run(
        self,
        rx: &mut mpsc::Receiver<Message>,
        plans: mpsc::Sender<Planned>,
        report: &mut ImportReport,
        progress: &Progress,
        refused: &mut impl RefusedRows,
    ) -> Result<Ended, ImportFailure> {
        let (first, last) = self.window;
        let mut planned_through = self.done_rows;
        let mut batches_planned = 0u64;
        // A dry run's refused rows' opt-outs, which a commit would put on the list.
        let mut listed_ahead = HashSet::new();
        // Data rows seen so far, this run's or not.
        let mut index = self.rows_before;
        let mut past_window = false;
        while let Some(message) = rx.recv().await {
            let events = match message {
                Message::Header(detected) => {
                    refused.header(&detected.headers, detected.delimiter);
                    describe(report, &detected);
                    continue;
                }
                Message::Rows(events) => events,
                Message::Encoding(label) => {
                    report.encoding = label;
                    continue;
                }
            };
            progress
                .rows
                .fetch_add(events.len() as u64, Ordering::Relaxed);
            let mut merges = Vec::with_capacity(events.len());
            let mut claims = Vec::with_capacity(events.len());
            let mut opt_outs = Vec::new();
            let previewed = report.preview.len();
            for event in events {
                index += 1;
                if index <= first {
                    continue;
                }
                if index > last {
                    past_window = true;
                    break;
                }
                report.rows += 1;
                match event {
                    Event::Valid(row, claim) => {
                        report.valid += 1;
                        count_consent(&mut report.consent, row.consent.as_ref());
                        let row_number = row.row;
                        let merge = to_merge(row);
                        if report.preview.len() < PREVIEW_ROWS {
                            report.preview.push(PreviewRow::of(row_number, &merge));
                        }
                        if index > self.done_rows {
                            merges.push(merge);
                            claims.push(claim);
                        }
                    }
                    Event::Error(mut error, kind, cells) => {
                        match kind {
                            ErrorKind::Invalid(opt_out) => {
                                report.invalid += 1;
                                if let Some(opt_out) = opt_out {
                                    report.consent.opted_out += 1;
                                    error.reason = self.keeps(&error, &opt_out);
                                    if index > self.done_rows {
                                        opt_outs.push(KeptOptOut::of(error.row, opt_out));
                                    }
                                }
                            }
                            ErrorKind::Duplicate => report.duplicates += 1,
                        }
                        refused.refused(&error, &cells);
                        report.record_error(error);
                    }
                }
            }
            let through = index.min(last);
            if through > planned_through {
                // A run's first batch goes ahead whatever the time, so every run progresses.
                let may_pause = batches_planned > 0;
                if may_pause && self.past_deadline() {
                    return Ok(Ended::Paused);
                }
                if self.commit {
                    for kept in &opt_outs {
                        self.contacts
                            .list_refused_opt_out(
                                self.tenant,
                                &kept.phone,
                                &kept.source,
                                Utc::now(),
                            )
                            .await?;
                    }
                }
                if !self.commit {
                    // What the commit's listing would do to this batch's rows and later ones.
                    let room = LISTED_AHEAD_CAP.saturating_sub(listed_ahead.len());
                    let digits = opt_outs.iter().filter_map(|kept| kept.phone.digits_u64());
                    listed_ahead.extend(digits.take(room));
                }
                let now = Utc::now();
                let mut plan = (self.contacts)
                    .plan_import_as_listed(
                        self.tenant,
                        &merges,
                        now,
                        &claims,
                        self.commit,
                        &listed_ahead,
                    )
                    .await?;
                for preview in &mut report.preview[previewed..] {
                    let outcome = plan.outcome_of(&preview.phone);
                    preview.stored_as(outcome.suppressed, outcome.opted_out);
                }
                // Batches an earlier run began to write (at once, as the writer merges them)
                // count as it counted them: their rows may be written already.
                match self.pending {
                    Some(pending) if through < pending.through => {
                        plan = plan.counted_as(ImportCounts::default());
                    }
                    Some(pending) if through == pending.through => {
                        plan = plan.counted_as(pending.counts);
                    }
                    _ => {}
                }
                // Written even if the deadline passed while planning (one batch, inside the
                // deadline's margin): planning a commit claims its new phones, and a plan
                // dropped unwritten would leave them claimed with no contact until the next run.
                batches_planned += 1;
                planned_through = through;
                report.add_counts(plan.counts());
                if plans.send((plan, through, opt_outs)).await.is_err() {
                    return Ok(Ended::WriterGone);
                }
            }
            if past_window {
                return Ok(Ended::PastWindow);
            }
        }
        Ok(Ended::Input)
    }
}

/// Writes planned batches in order and saves a checkpoint after each.
struct Writer<'a> {
    contacts: &'a Contacts,
    tenant: &'a TenantId,
    commit: bool,
    checkpoints: Option<&'a dyn Checkpoints>,
    /// Everything up to here is written (and saved, for a resumable run).
    done: Checkpoint,
}

impl Writer<'_> {
    /// The batch a stopped run began to write, while this run has written only part of it
    /// (up to `through`): its rows past `through` may be written already, so a run resuming
    /// later must still count them as the stopped run did (this run counts none of them).
    fn still_pending(&self, through: u64) -> Option<PendingBatch> {
        self.done
            .pending
            .filter(|pending| through < pending.through)
    }

    /// Writes until the planner hangs up; what is written by then.
    async fn run(
        mut self,
        mut planned: mpsc::Receiver<Planned>,
    ) -> Result<Checkpoint, ImportFailure> {
        let (mut idle, mut busy) = (Duration::ZERO, Duration::ZERO);
        let mut since = Instant::now();
        while let Some((mut plan, mut through, mut opt_outs)) = planned.recv().await {
            idle += since.elapsed();
            since = Instant::now();
            while let Ok((next, next_through, next_opt_outs)) = planned.try_recv() {
                plan.absorb(next);
                through = next_through;
                opt_outs.extend(next_opt_outs);
            }
            let counts = plan.counts();
            if self.commit {
                // Should the run stop between writing and the checkpoint after it, the next
                // run still counts this batch's rows as this plan does.
                if let Some(checkpoints) = self.checkpoints {
                    let pending = Some(
                        self.still_pending(through)
                            .unwrap_or(PendingBatch { through, counts }),
                    );
                    checkpoints
                        .save(&Checkpoint {
                            pending,
                            ..self.done
                        })
                        .await?;
                }
                self.contacts.write_import(self.tenant, plan).await?;
                for kept in &opt_outs {
                    self.contacts
                        .revoke_for_refused_opt_out(
                            self.tenant,
                            &kept.phone,
                            &kept.source,
                            Utc::now(),
                        )
                        .await?;
                }
            }
            self.done.rows = through;
            self.done.counts.add(counts);
            self.done.pending = self.still_pending(through);
            if let Some(checkpoints) = self.checkpoints {
                checkpoints.save(&self.done).await?;
            }
            busy += since.elapsed();
            since = Instant::now();
        }
        // Which side of the pipeline is the bottleneck.
        tracing::debug!(
            busy_ms = busy.as_millis() as u64,
            idle_ms = idle.as_millis() as u64,
            "writer done"
        );
        Ok(self.done)
    }
}

/// The blocking half: reads and validates, sending batches until the input or the receiver
/// ends. With the pass ahead's `notes`, they say which rows are duplicates (the parser then
/// keeps no phones) and carry the rows' claims.
fn parse<R: Read>(
    input: R,
    options: &ImportOptions,
    resume: Option<Resume>,
    mut notes: Option<Notes>,
    tx: &mpsc::Sender<Message>,
) -> Result<(), ImportFailure> {
    let mut rows = match resume {
        Some(at) => smscrm_import::open_at(input, options, &at)?,
        None => smscrm_import::open(input, options)?,
    };
    if tx
        .blocking_send(Message::Header(rows.detected().clone()))
        .is_err()
    {
        return Ok(());
    }
    let mut batch = Vec::with_capacity(BATCH_ROWS);
    let mut cell_bytes = 0;
    let mut too_long = std::collections::HashMap::new();
    while let Some(outcome) = rows.next() {
        let event = match outcome {
            RowOutcome::Valid(row) => {
                let (note, restricted_by) = match &mut notes {
                    // The pass ahead leaves numbers too long for a u64 to this pass. None is:
                    // E.164 numbers have at most 15 digits, the crate's longest 19. (Were one,
                    // a range read alone would miss its duplicates in other ranges.)
                    Some(_) if row.phone.digits_u64().is_none() => {
                        let first_row = *too_long.entry(row.phone.clone()).or_insert(row.row);
                        let note = (first_row != row.row).then_some(Note::Duplicate {
                            first_row,
                            digits: 0,
                            restricts: Restricts::Nothing,
                        });
                        (note, None)
                    }
                    Some(notes) => notes.take_all(row.row, &row.phone)?,
                    None => (None, None),
                };
                let mut row = row;
                if let Some((later, restricts)) = restricted_by
                    && restricts > Restricts::of(row.consent.as_ref())
                {
                    row.consent = Some(restricted_later(later, restricts));
                }
                match note {
                    Some(Note::Duplicate {
                        first_row,
                        restricts,
                        ..
                    }) => duplicate_restricting(
                        row.row,
                        first_row,
                        &row.phone,
                        restricts,
                        rows.cells(),
                    ),
                    Some(Note::Claimed(claim)) => Event::Valid(row, claim),
                    Some(Note::RestrictedLater { .. }) | None => Event::Valid(row, Preclaim::NONE),
                }
            }
            RowOutcome::Invalid {
                row,
                reason,
                opt_out,
            } => Event::Error(
                RowError { row, reason },
                ErrorKind::Invalid(opt_out),
                rows.cells(),
            ),
            RowOutcome::Duplicate {
                row,
                first_row,
                phone,
            } => duplicate(row, first_row, &phone, rows.cells()),
        };
        if let Event::Error(_, _, cells) = &event {
            cell_bytes += cells.iter().map(String::len).sum::<usize>();
        }
        batch.push(event);
        // Refused rows carry their cells (a row up to 1 MiB): a batch of them goes early
        // rather than hold the cells of a thousand rows.
        if batch.len() == BATCH_ROWS || cell_bytes >= BATCH_CELL_BYTES {
            cell_bytes = 0;
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_ROWS));
            if tx.blocking_send(Message::Rows(full)).is_err() {
                return Ok(());
            }
        }
    }
    if !batch.is_empty() {
        let _ = tx.blocking_send(Message::Rows(batch));
    }
    if rows.encoding() != rows.detected().encoding {
        let _ = tx.blocking_send(Message::Encoding(rows.encoding()));
    }
    // A read error mid-file ends the rows early; finish says so.
    rows.finish()?;
    match notes {
        Some(notes) => notes.finish(),
        None => Ok(()),
    }
}

fn duplicate(
    row: u64,
    first_row: u64,
    phone: &smscrm_domain::PhoneE164,
    cells: Vec<String>,
) -> Event {
    let reason = format!("{DUPLICATE_OF}{first_row} ({phone})");
    Event::Error(RowError { row, reason }, ErrorKind::Duplicate, cells)
}

/// A duplicate, whose opt-out or "no" the first row took: the report says it was not lost.
fn duplicate_restricting(
    row: u64,
    first_row: u64,
    phone: &smscrm_domain::PhoneE164,
    restricts: Restricts,
    cells: Vec<String>,
) -> Event {
    let applies = match restricts {
        Restricts::Nothing => return duplicate(row, first_row, phone, cells),
        Restricts::Withdraws => "its \"no\" to consent",
        Restricts::OptsOut => "its opt-out",
    };
    let reason = format!(
        "{DUPLICATE_OF}{first_row} ({phone}); {applies} applies to the contact of row \
         {first_row}"
    );
    Event::Error(RowError { row, reason }, ErrorKind::Duplicate, cells)
}

/// The consent of a first row whose phone a later row opts out, or says no for: neither is
/// lost to "the first row wins".
fn restricted_later(row: u64, restricts: Restricts) -> ConsentInput {
    let status = match restricts {
        Restricts::OptsOut => ConsentStatus::Revoked,
        _ => ConsentStatus::Unknown,
    };
    ConsentInput {
        status,
        source: Some(format!("import row {row}")),
    }
}

fn count_consent(counts: &mut ConsentCounts, consent: Option<&ConsentInput>) {
    match consent.map(|c| c.status) {
        Some(ConsentStatus::Revoked) => counts.opted_out += 1,
        Some(ConsentStatus::Unknown) => counts.withdrawn += 1,
        Some(_) => counts.given += 1,
        None => {}
    }
}

fn describe(report: &mut ImportReport, detected: &smscrm_import::Detected) {
    report.encoding = detected.encoding.to_owned();
    report.delimiter = match detected.delimiter {
        '\t' => "tab".to_owned(),
        other => other.to_string(),
    };
    report.mapping = detected
        .mapping
        .iter()
        .map(|(header, target)| (header.clone(), target.to_string()))
        .collect();
    report.number_columns = detected
        .number_columns
        .iter()
        .map(|(header, role)| (header.clone(), (*role).to_owned()))
        .collect();
}

fn to_merge(row: ImportRow) -> ContactMerge {
    ContactMerge {
        phone: row.phone,
        first_name: row.first_name,
        last_name: row.last_name,
        email: row.email,
        tags: row.tags,
        attributes: row.attributes,
        consent: row.consent,
    }
}

pub(crate) struct CountingReader<R> {
    pub(crate) inner: R,
    pub(crate) read: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}
