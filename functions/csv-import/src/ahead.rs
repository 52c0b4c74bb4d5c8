//! The pass ahead of an import: a first read of the file that finds its duplicate phones and,
//! for a commit on a store where it pays, claims the phones of the rows to write in phone
//! order ([`Contacts::preclaim`]).
//!
//! Both need every phone of the file at once, so both go through sorts on disk ([`Sorter`]):
//! phones are sorted (as their claims' keys sort) in runs of a fixed size, written to a
//! temporary file and merged, so equal phones come together, first row first. What that teaches about
//! each row (a duplicate of row N, or the claim made for it) is sorted back into row order the
//! same way, and the main pass reads it beside the rows ([`Notes`]). Memory stays the same
//! whatever the size of the file: a million rows put about 74 MB in temporary files instead.

use std::io::{self, Read, Seek, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use smscrm_domain::contact::ConsentInput;
use smscrm_domain::{ConsentStatus, ContactId, PhoneE164, TenantId};
use smscrm_import::{ImportOptions, Resume, RowOutcome, Rows};
use smscrm_store::Contacts;
use smscrm_store::contact_import::{Preclaim, Preclaimed, key_order};
use tokio::time::Instant;

use crate::pipeline::{CountingReader, ImportFailure};
use crate::spill::{Record, Sorter};

/// Entries sorted in memory before they go to disk as one run (5-7 MB of them).
const SEGMENT: usize = 1 << 17;
/// Phones claimed per call of [`Contacts::preclaim`].
const CLAIM_GROUP: usize = 1 << 14;

/// Which rows (data rows, counted from 1) the pass looks at, and what for.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scope {
    /// Duplicates are noted for rows after this one (earlier rows still count as first rows).
    pub report_after: u64,
    /// Claims are made for rows after this one; `None`: no claims (a dry run, or a store where
    /// claiming ahead does not pay).
    pub claim_after: Option<u64>,
    /// The rows the pass notes and claims go no further than this one.
    pub through: u64,
    /// Whether rows past `through` are still read, for their opt-outs alone: a window of a
    /// file (a range read from the file's start) gives its first rows a later row's opt-out.
    /// The plan's survey stops at `through` instead (its limit on rows).
    pub opt_outs_past: bool,
}

/// What a row says against messaging its person. A number's first row takes the strongest
/// that any later row of it says, since "the first row wins" must not lose a "no", let alone
/// an opt-out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub(crate) enum Restricts {
    #[default]
    Nothing,
    /// A plain "no" in a consent column: consent withdrawn, not an opt-out.
    Withdraws,
    OptsOut,
}

impl Restricts {
    pub(crate) fn of(consent: Option<&ConsentInput>) -> Self {
        match consent.map(|c| c.status) {
            Some(ConsentStatus::Revoked) => Self::OptsOut,
            Some(ConsentStatus::Unknown) => Self::Withdraws,
            _ => Self::Nothing,
        }
    }

    /// As notes store it: 1 for an opt-out, as before "no"s were carried too.
    fn word(self) -> u64 {
        match self {
            Self::Nothing => 0,
            Self::OptsOut => 1,
            Self::Withdraws => 2,
        }
    }

    fn from_word(word: u64) -> Self {
        match word {
            0 => Self::Nothing,
            2 => Self::Withdraws,
            _ => Self::OptsOut,
        }
    }
}

/// The later row restricting a first row's phone most, and how.
pub(crate) type RestrictedBy = (u64, Restricts);

/// What the pass ahead learned of one row.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Note {
    /// An earlier row had the same phone (these digits); the first row wins. `restricts`:
    /// what this row says against messaging, which the first row takes (see `RestrictedLater`).
    Duplicate {
        first_row: u64,
        digits: u64,
        restricts: Restricts,
    },
    /// The row's phone was claimed ahead.
    Claimed(Preclaim),
    /// A later row of the same phone (the first to say it, `row`) says the person opted out,
    /// or said no: the first row's fields win, but not over that.
    RestrictedLater { row: u64, restricts: Restricts },
}

/// The notes of the pass ahead, in row order, read as the main pass reaches their rows.
pub(crate) struct Notes {
    sorted: Box<dyn Iterator<Item = io::Result<RowNote>> + Send>,
    next: Option<RowNote>,
    /// The file's data rows, when the pass ahead read it to the end.
    pub(crate) rows_in_file: Option<u64>,
}

impl Notes {
    /// The note on `row` (a file row number) if any, which must fit `phone`. Valid rows are
    /// asked for in file order.
    #[cfg(test)]
    pub(crate) fn take(
        &mut self,
        row: u64,
        phone: &PhoneE164,
    ) -> Result<Option<Note>, ImportFailure> {
        self.take_all(row, phone).map(|(note, _)| note)
    }

    /// The note on `row` as [`Notes::take`] gives it, and the later row that restricts the
    /// phone most, if one does ([`Note::RestrictedLater`], which a first row may have besides
    /// its claim, and twice: a "no", then an opt-out).
    pub(crate) fn take_all(
        &mut self,
        row: u64,
        phone: &PhoneE164,
    ) -> Result<(Option<Note>, Option<RestrictedBy>), ImportFailure> {
        let (mut note, mut restricted_by): (_, Option<RestrictedBy>) = (None, None);
        loop {
            if self.next.is_none() {
                self.next = self.sorted.next().transpose().map_err(temp_file)?;
            }
            match self.next.take_if(|next| next.row == row) {
                Some(RowNote {
                    note: Note::RestrictedLater { row, restricts },
                    ..
                }) => {
                    if restricted_by.is_none_or(|(_, before)| restricts > before) {
                        restricted_by = Some((row, restricts));
                    }
                }
                Some(taken) => note = Some(taken.note),
                None => break,
            }
        }
        // A note on a row this pass did not see as valid.
        if self.next.as_ref().is_some_and(|next| next.row < row) {
            return Err(changed());
        }
        let fits = match note {
            Some(Note::Duplicate { digits, .. }) => phone.digits_u64() == Some(digits),
            Some(Note::Claimed(claim)) => claim.fits(phone),
            Some(Note::RestrictedLater { .. }) | None => true,
        };
        if fits {
            Ok((note, restricted_by))
        } else {
            Err(changed())
        }
    }

    /// After the main pass has read the whole file: every note was taken (else the file ended
    /// sooner this time).
    pub(crate) fn finish(mut self) -> Result<(), ImportFailure> {
        let left = match self.next.take() {
            Some(note) => Some(note),
            None => self.sorted.next().transpose().map_err(temp_file)?,
        };
        match left {
            Some(_) => Err(changed()),
            None => Ok(()),
        }
    }
}

/// The two reads of the file saw different rows: it was replaced in between. (A stored
/// import's next attempt finds it replaced and refuses it; see `jobs`.)
fn changed() -> ImportFailure {
    ImportFailure::Internal("the file changed while it was being read; import it again".into())
}

/// Reads `input` for its valid rows' phones and works out the [`Notes`].
pub(crate) async fn look_ahead(
    contacts: &Contacts,
    tenant: &TenantId,
    options: &ImportOptions,
    input: Box<dyn Read + Send>,
    scope: Scope,
) -> Result<Notes, ImportFailure> {
    let started = Instant::now();
    let options = ImportOptions {
        find_duplicates: false,
        ..options.clone()
    };
    let (contacts, tenant) = (contacts.clone(), tenant.clone());
    let handle = tokio::runtime::Handle::current();
    let notes = tokio::task::spawn_blocking(move || -> Result<Notes, ImportFailure> {
        let (sightings, rows_in_file) = sightings(input, &options, scope, SEGMENT, &mut |_, _| {})?;
        let read = started.elapsed();
        let claim = |proposed| handle.block_on(contacts.preclaim(&tenant, proposed));
        let notes = Notes {
            rows_in_file,
            ..notes(sightings, scope, SEGMENT, claim)?
        };
        tracing::debug!(
            read_ms = read.as_millis() as u64,
            total_ms = started.elapsed().as_millis() as u64,
            "looked ahead"
        );
        Ok(notes)
    })
    .await
    .map_err(|join| ImportFailure::Internal(join.to_string()))??;
    Ok(notes)
}

/// The valid rows' phones up to `scope.through`, sorted as their claims' keys, then by row,
/// `segment` at a time in memory; and the file's data rows, if it was read to the end.
/// The parser over a file being read.
type FileRows = Rows<Box<dyn Read + Send>>;

/// `at_row` sees the parser after the header (data row 0) and after each data row.
fn sightings(
    input: Box<dyn Read + Send>,
    options: &ImportOptions,
    scope: Scope,
    segment: usize,
    at_row: &mut dyn FnMut(u64, &FileRows),
) -> Result<
    (
        impl Iterator<Item = io::Result<Sighting>> + use<>,
        Option<u64>,
    ),
    ImportFailure,
> {
    let mut rows = smscrm_import::open(input, options)?;
    let mut sorter = Sorter::new(segment, |s: &Sighting| (s.order, s.row));
    let mut rows_in_file = Some(0);
    at_row(0, &rows);
    let mut index = 0;
    while let Some(outcome) = rows.next() {
        index += 1;
        let past = index > scope.through;
        if past {
            rows_in_file = None;
            if !scope.opt_outs_past {
                break;
            }
        } else {
            at_row(index, &rows);
            rows_in_file = Some(index);
        }
        let RowOutcome::Valid(row) = outcome else {
            continue;
        };
        let restricts = Restricts::of(row.consent.as_ref());
        // Past the window only opt-outs and "no"s matter: they go to the window's first rows.
        if past && restricts == Restricts::Nothing {
            continue;
        }
        let claims = !past && scope.claim_after.is_some_and(|after| index > after);
        // Made in file order, so the contacts append.
        let id = claims.then(|| ContactId::generate().to_ulid().0);
        // Numbers too long for a u64 (never seen in practice) are left to the main pass.
        if let Some(sighting) = Sighting::new(&row.phone, row.row, index, id, restricts) {
            sorter.push(sighting).map_err(temp_file)?;
        }
    }
    // Two reads of one file can fail apart (an S3 stream reset): this one's notes would be
    // short, so it fails the run rather than leave the main pass to find it.
    rows.finish()?;
    Ok((sorter.finish().map_err(temp_file)?, rows_in_file))
}

/// Walks the sightings phone by phone: every row after a phone's first is a duplicate; first
/// rows in the claim scope are claimed by `claim`, a group at a time, in phone order.
fn notes(
    sightings: impl Iterator<Item = io::Result<Sighting>>,
    scope: Scope,
    segment: usize,
    mut claim: impl FnMut(Preclaimed) -> Result<Preclaimed, smscrm_store::RepoError>,
) -> Result<Notes, ImportFailure> {
    let mut notes = Sorter::new(segment, |n: &RowNote| n.row);
    let mut group = ClaimGroup::default();
    let mut first: Option<Sighting> = None;
    // The most the first row's phone is restricted, by it or by a later row already seen.
    let mut restricted = Restricts::Nothing;
    for sighting in sightings {
        let sighting = sighting.map_err(temp_file)?;
        match &first {
            Some(f) if f.digits == sighting.digits => {
                if sighting.index > scope.report_after && sighting.index <= scope.through {
                    let (first_row, digits) = (f.row, f.digits);
                    let note = Note::Duplicate {
                        first_row,
                        digits,
                        restricts: sighting.restricts,
                    };
                    notes
                        .push(RowNote::of(sighting.row, note))
                        .map_err(temp_file)?;
                }
                // The first row takes the restriction, if this run writes it (one resumed after
                // it wrote the first row took the note then).
                if sighting.restricts > restricted
                    && f.index > scope.report_after
                    && f.index <= scope.through
                {
                    let note = Note::RestrictedLater {
                        row: sighting.row,
                        restricts: sighting.restricts,
                    };
                    notes.push(RowNote::of(f.row, note)).map_err(temp_file)?;
                }
                restricted = restricted.max(sighting.restricts);
                continue;
            }
            _ => {}
        }
        restricted = sighting.restricts;
        if let Some(id) = sighting.id() {
            group.add(&sighting, id);
            if group.rows.len() == CLAIM_GROUP {
                group.claim(&mut claim, &mut notes)?;
            }
        }
        first = Some(sighting);
    }
    group.claim(&mut claim, &mut notes)?;
    Ok(Notes {
        sorted: Box::new(notes.finish().map_err(temp_file)?),
        next: None,
        rows_in_file: None,
    })
}

/// What the plan of a fanned-out commit learns reading the whole file once: how many rows it
/// has, where ranges of them start, and every duplicate row, so that each range's worker
/// reads only its own bytes and notes.
pub(crate) struct Survey {
    /// The file's data rows.
    pub(crate) rows: u64,
    /// The file's bytes.
    pub(crate) bytes: u64,
    /// Where the file can be read on from, when it can be (files read as bytes).
    pub(crate) places: Option<Places>,
    /// The duplicate rows' notes, in row order.
    notes: Notes,
}

/// Places between rows of a file read as bytes ([`smscrm_import::open_at`]).
pub(crate) struct Places {
    /// Right after the header.
    pub(crate) header_end: Resume,
    /// After data rows `step`, `2 * step`, ...
    pub(crate) every_step: Vec<Resume>,
}

/// Reads `input` whole for [`Survey`], noting a place every `step` data rows; `None` when it
/// has more than `max_rows` data rows (it stops reading there: the sort on disk is what
/// `max_rows` keeps within the disk).
pub(crate) async fn survey(
    input: Box<dyn Read + Send>,
    options: &ImportOptions,
    step: u64,
    max_rows: u64,
) -> Result<Option<Survey>, ImportFailure> {
    let options = ImportOptions {
        find_duplicates: false,
        ..options.clone()
    };
    let step = step.max(1);
    tokio::task::spawn_blocking(move || -> Result<Option<Survey>, ImportFailure> {
        let whole = Scope {
            report_after: 0,
            claim_after: None,
            through: max_rows,
            opt_outs_past: false,
        };
        let read = Arc::new(AtomicU64::new(0));
        let input = Box::new(CountingReader {
            inner: input,
            read: read.clone(),
        });
        let (mut header_end, mut every_step, mut readable) = (None, Vec::new(), true);
        // Asked after every row: a file read as ASCII so far can turn out Windows-1252 at any
        // row, and then no part of it is read as the whole file is.
        let mut at_row = |index: u64, rows: &FileRows| match rows.resume_point() {
            None => readable = false,
            Some(place) if index == 0 => header_end = Some(place),
            Some(place) if index.is_multiple_of(step) => every_step.push(place),
            Some(_) => {}
        };
        let (sightings, rows) = sightings(input, &options, whole, SEGMENT, &mut at_row)?;
        let Some(rows) = rows else {
            return Ok(None);
        };
        let no_claims = |_| {
            Err(smscrm_store::RepoError::Conflict(
                "a survey claims nothing".into(),
            ))
        };
        let notes = notes(sightings, whole, SEGMENT, no_claims)?;
        let places = match header_end {
            Some(header_end) if readable => Some(Places {
                header_end,
                every_step,
            }),
            _ => None,
        };
        Ok(Some(Survey {
            rows,
            bytes: read.load(Ordering::Relaxed),
            places,
            notes,
        }))
    })
    .await
    .map_err(|join| ImportFailure::Internal(join.to_string()))?
}

impl Survey {
    /// The notes of each range, as files of records: range `k` has the rows after
    /// `last_rows[k - 1]` (file row numbers) up to `last_rows[k]`.
    pub(crate) async fn notes_by_range(
        self,
        last_rows: Vec<u64>,
    ) -> Result<Vec<std::fs::File>, ImportFailure> {
        let mut sorted = self.notes.sorted;
        tokio::task::spawn_blocking(move || -> Result<Vec<std::fs::File>, ImportFailure> {
            let mut files = Vec::with_capacity(last_rows.len());
            let mut next = sorted.next().transpose().map_err(temp_file)?;
            for last_row in last_rows {
                let mut out = io::BufWriter::new(tempfile::tempfile().map_err(temp_file)?);
                let mut bytes = Vec::with_capacity(RowNote::SIZE);
                while let Some(note) = next.take_if(|n| n.row <= last_row) {
                    bytes.clear();
                    note.encode(&mut bytes);
                    out.write_all(&bytes).map_err(temp_file)?;
                    next = sorted.next().transpose().map_err(temp_file)?;
                }
                let mut file = out.into_inner().map_err(|e| temp_file(e.into_error()))?;
                file.seek(io::SeekFrom::Start(0)).map_err(temp_file)?;
                files.push(file);
            }
            match next {
                None => Ok(files),
                Some(_) => Err(ImportFailure::Internal("a note past the last range".into())),
            }
        })
        .await
        .map_err(|join| ImportFailure::Internal(join.to_string()))?
    }
}

impl Notes {
    /// A range's notes, as [`Survey::notes_by_range`] wrote them.
    pub(crate) fn read_from(input: impl Read + Send + 'static) -> Self {
        let mut input = io::BufReader::new(input);
        let records = std::iter::from_fn(move || {
            let mut bytes = [0; RowNote::SIZE];
            match input.read_exact(&mut bytes) {
                Ok(()) => Some(Ok(RowNote::decode(&bytes))),
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => None,
                Err(e) => Some(Err(e)),
            }
        });
        Self {
            sorted: Box::new(records),
            next: None,
            rows_in_file: None,
        }
    }
}

/// First rows waiting to be claimed, in phone order.
#[derive(Default)]
struct ClaimGroup {
    proposed: Preclaimed,
    rows: Vec<u64>,
}

impl ClaimGroup {
    fn add(&mut self, sighting: &Sighting, id: u128) {
        self.proposed
            .propose(&sighting.phone(), &ContactId::from_ulid(ulid::Ulid(id)));
        self.rows.push(sighting.row);
    }

    fn claim(
        &mut self,
        claim: &mut impl FnMut(Preclaimed) -> Result<Preclaimed, smscrm_store::RepoError>,
        notes: &mut Sorter<RowNote, u64>,
    ) -> Result<(), ImportFailure> {
        if self.rows.is_empty() {
            return Ok(());
        }
        let claimed = claim(std::mem::take(&mut self.proposed))?;
        for (row, claim) in self.rows.drain(..).zip(claimed.into_claims()) {
            notes
                .push(RowNote::of(row, Note::Claimed(claim)))
                .map_err(temp_file)?;
        }
        Ok(())
    }
}

/// A full disk refuses the file (no retry gives it room); anything else is worth a retry.
fn temp_file(err: io::Error) -> ImportFailure {
    use io::ErrorKind::{FileTooLarge, QuotaExceeded, StorageFull};
    if matches!(err.kind(), StorageFull | QuotaExceeded | FileTooLarge) {
        return ImportFailure::File(smscrm_import::ImportError::NoSpaceToSort);
    }
    ImportFailure::Internal(format!("the import's temporary files failed: {err}"))
}

/// A valid row's phone.
struct Sighting {
    /// The order of the phone's claim key ([`key_order`]).
    order: (u64, u32),
    digits: u64,
    row: u64,
    /// The data row's index (from 1), which [`Scope`] counts in.
    index: u64,
    /// The ULID proposed for the phone's contact, in the claim scope, as two halves (which
    /// keep this struct at 56 bytes); zero outside it (no ULID is zero: its time never is).
    id: [u64; 2],
    /// What the row says against messaging (stored in the index's top two bits).
    restricts: Restricts,
}

/// The bits of a stored index that say the row opts out, or says no: no file has 2^62 rows.
const OPTS_OUT: u64 = 1 << 63;
const WITHDRAWS: u64 = 1 << 62;

impl Sighting {
    /// `None` for a number too long for a `u64` (E.164 numbers have at most 15 digits).
    fn new(
        phone: &PhoneE164,
        row: u64,
        index: u64,
        id: Option<u128>,
        restricts: Restricts,
    ) -> Option<Self> {
        let digits = phone.digits_u64()?;
        let id = id.unwrap_or(0);
        Some(Self {
            order: key_order(digits),
            digits,
            row,
            index,
            id: [(id >> 64) as u64, id as u64],
            restricts,
        })
    }

    fn id(&self) -> Option<u128> {
        let id = (u128::from(self.id[0]) << 64) | u128::from(self.id[1]);
        (id != 0).then_some(id)
    }

    fn phone(&self) -> PhoneE164 {
        PhoneE164::from_e164_unchecked(format!("+{}", self.digits))
    }
}

impl Record for Sighting {
    const SIZE: usize = 40;

    fn encode(&self, out: &mut Vec<u8>) {
        let index = match self.restricts {
            Restricts::Nothing => self.index,
            Restricts::Withdraws => self.index | WITHDRAWS,
            Restricts::OptsOut => self.index | OPTS_OUT,
        };
        for word in [self.digits, self.row, index, self.id[0], self.id[1]] {
            out.extend_from_slice(&word.to_le_bytes());
        }
    }

    fn decode(bytes: &[u8]) -> Self {
        let digits = u64_at(bytes, 0);
        let index = u64_at(bytes, 16);
        Self {
            order: key_order(digits),
            digits,
            row: u64_at(bytes, 8),
            index: index & !(OPTS_OUT | WITHDRAWS),
            id: [u64_at(bytes, 24), u64_at(bytes, 32)],
            restricts: if index & OPTS_OUT != 0 {
                Restricts::OptsOut
            } else if index & WITHDRAWS != 0 {
                Restricts::Withdraws
            } else {
                Restricts::Nothing
            },
        }
    }
}

/// A note on one row.
struct RowNote {
    row: u64,
    note: Note,
}

impl RowNote {
    fn of(row: u64, note: Note) -> Self {
        Self { row, note }
    }
}

const DUPLICATE: u8 = 0;
const CLAIMED: u8 = 1;
const RESTRICTED_LATER: u8 = 2;

impl Record for RowNote {
    const SIZE: usize = 33;

    fn encode(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.row.to_le_bytes());
        match self.note {
            Note::Duplicate {
                first_row,
                digits,
                restricts,
            } => {
                out.push(DUPLICATE);
                out.extend_from_slice(&first_row.to_le_bytes());
                out.extend_from_slice(&digits.to_le_bytes());
                out.extend_from_slice(&restricts.word().to_le_bytes());
            }
            Note::Claimed(claim) => {
                out.push(CLAIMED);
                out.extend_from_slice(&claim.to_bytes());
            }
            // The kind an opt-out had before "no"s were carried, with the level after the row
            // (0 there, as before, is an opt-out): a worker of the release before reads a "no"
            // as an opt-out, erring towards not messaging, rather than failing the range.
            Note::RestrictedLater { row, restricts } => {
                out.push(RESTRICTED_LATER);
                out.extend_from_slice(&row.to_le_bytes());
                let level = match restricts {
                    Restricts::Withdraws => Restricts::Withdraws.word(),
                    _ => 0,
                };
                out.extend_from_slice(&level.to_le_bytes());
                out.extend_from_slice(&[0; 8]);
            }
        }
    }

    fn decode(bytes: &[u8]) -> Self {
        let mut claim = [0; 24];
        claim.copy_from_slice(&bytes[9..33]);
        let note = match bytes[8] {
            DUPLICATE => Note::Duplicate {
                first_row: u64_at(bytes, 9),
                digits: u64_at(bytes, 17),
                restricts: Restricts::from_word(u64_at(bytes, 25)),
            },
            RESTRICTED_LATER => Note::RestrictedLater {
                row: u64_at(bytes, 9),
                restricts: match Restricts::from_word(u64_at(bytes, 17)) {
                    Restricts::Withdraws => Restricts::Withdraws,
                    _ => Restricts::OptsOut,
                },
            },
            _ => Note::Claimed(Preclaim::from_bytes(claim)),
        };
        Self {
            row: u64_at(bytes, 0),
            note,
        }
    }
}

fn u64_at(bytes: &[u8], at: usize) -> u64 {
    let mut word = [0; 8];
    word.copy_from_slice(&bytes[at..at + 8]);
    u64::from_le_bytes(word)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::io::Cursor;

    use smscrm_domain::Region;

    use super::*;

    #[test]
    fn a_full_disk_refuses_the_file_and_other_failures_are_retried() {
        let full = temp_file(io::Error::from(io::ErrorKind::StorageFull));
        assert!(
            matches!(
                full,
                ImportFailure::File(smscrm_import::ImportError::NoSpaceToSort)
            ),
            "{full:?}"
        );
        let other = temp_file(io::Error::from(io::ErrorKind::PermissionDenied));
        assert!(matches!(other, ImportFailure::Internal(_)), "{other:?}");
    }

    /// A phone's first row wins, but a later row's opt-out or "no" goes to it (the first
    /// such, in whatever segment it sorts; the strongest, when a "no" and an opt-out both
    /// come), unless the run resumed past the first row; the restricting duplicate is noted
    /// as such.
    #[test]
    fn a_later_opt_out_goes_to_the_first_row() {
        let file = "phone,consent\n\
                    2125550001,yes\n\
                    2125550002,yes\n\
                    2125550001,\n\
                    2125550001,unsubscribed\n\
                    2125550002,no\n\
                    2125550001,stop\n\
                    2125550003,unsubscribed\n\
                    2125550003,yes\n\
                    2125550004,yes\n\
                    2125550004,no\n\
                    2125550004,stop\n";
        let taken = |report_after| {
            let scope = Scope {
                report_after,
                claim_after: None,
                opt_outs_past: false,
                through: u64::MAX,
            };
            let input = Box::new(Cursor::new(file));
            let (sightings, _) =
                sightings(input, &options(false), scope, 2, &mut |_, _| {}).expect("sightings");
            let mut notes =
                notes(sightings, scope, 2, |_| unreachable!("no claims")).expect("notes");
            let mut all = Vec::new();
            for (row, digits) in [
                (2, 1),
                (3, 2),
                (4, 1),
                (5, 1),
                (6, 2),
                (7, 1),
                (8, 3),
                (9, 3),
                (10, 4),
                (11, 4),
                (12, 4),
            ] {
                let phone = PhoneE164::from_e164_unchecked(format!("+1212555000{digits}"));
                let (note, restricted_by) = notes.take_all(row, &phone).expect("take");
                let restricts = match note {
                    Some(Note::Duplicate { restricts, .. }) => restricts,
                    _ => Restricts::Nothing,
                };
                all.push((row, restricted_by, restricts));
            }
            notes.finish().expect("every note taken");
            all
        };
        use Restricts::{Nothing, OptsOut, Withdraws};
        assert_eq!(
            taken(0),
            [
                (2, Some((5, OptsOut)), Nothing),
                (3, Some((6, Withdraws)), Nothing),
                (4, None, Nothing),
                (5, None, OptsOut),
                (6, None, Withdraws),
                (7, None, OptsOut),
                // A first row that opts out itself needs nothing from later rows.
                (8, None, Nothing),
                (9, None, Nothing),
                (10, Some((12, OptsOut)), Nothing),
                (11, None, Withdraws),
                (12, None, OptsOut),
            ]
        );
        // Resumed after data row 1 (file row 2), which an earlier run wrote with its note.
        assert_eq!(taken(1)[0], (2, None, Nothing));
    }

    /// Notes on disk outlive a release (a plan's ranges run on the workers deployed then):
    /// an opt-out noted by the release before reads back as one, and a "no" keeps its kind.
    #[test]
    fn restriction_notes_read_back_across_releases() {
        let before: Vec<u8> =
            [&7u64.to_le_bytes()[..], &[2], &9u64.to_le_bytes(), &[0; 16]].concat();
        let read = RowNote::decode(&before);
        assert!(matches!(
            read.note,
            Note::RestrictedLater {
                row: 9,
                restricts: Restricts::OptsOut
            }
        ));
        for restricts in [Restricts::OptsOut, Restricts::Withdraws] {
            let mut out = Vec::new();
            RowNote::of(7, Note::RestrictedLater { row: 9, restricts }).encode(&mut out);
            assert_eq!(out.len(), RowNote::SIZE);
            assert_eq!(out[8], 2, "the kind the release before knows");
            let Note::RestrictedLater {
                restricts: back, ..
            } = RowNote::decode(&out).note
            else {
                panic!("a restriction");
            };
            assert_eq!(back, restricts);
        }
    }

    /// On the claims-ahead path a first row has two notes (its claim and the later opt-out);
    /// with segments of 2 both sorts spill. Both come back on the row.
    #[test]
    fn a_first_row_takes_its_claim_and_a_later_opt_out_together() {
        let mut file = String::from("phone,consent\n");
        for i in 0..9u64 {
            file.push_str(&format!("212555000{i},yes\n"));
        }
        for i in 0..9u64 {
            file.push_str(&format!("212555000{i},stop\n"));
        }
        for report_after in [0u64, 4] {
            let scope = Scope {
                report_after,
                claim_after: Some(report_after),
                opt_outs_past: false,
                through: u64::MAX,
            };
            let input = Box::new(Cursor::new(file.clone()));
            let (sightings, _) =
                sightings(input, &options(false), scope, 2, &mut |_, _| {}).expect("sightings");
            let mut notes =
                notes(sightings, scope, 2, |proposed: Preclaimed| Ok(proposed)).expect("notes");
            for i in 0..18u64 {
                let row = i + 2;
                let phone = PhoneE164::from_e164_unchecked(format!("+1212555000{}", i % 9));
                let (note, by) = notes.take_all(row, &phone).expect("take");
                if i < 9 {
                    let mine = i >= report_after;
                    assert_eq!(matches!(note, Some(Note::Claimed(_))), mine, "row {row}");
                    let by_row = mine.then_some((row + 9, Restricts::OptsOut));
                    assert_eq!(by, by_row, "row {row}");
                } else {
                    assert!(
                        matches!(
                            note,
                            Some(Note::Duplicate {
                                restricts: Restricts::OptsOut,
                                ..
                            })
                        ),
                        "row {row}"
                    );
                    assert_eq!(by, None);
                }
            }
            notes.finish().expect("all taken");
        }
    }

    /// 60 rows over 23 phones, so every phone comes back, most of them several segments later;
    /// row 9 is invalid.
    fn file() -> String {
        let mut csv = String::from("phone,first name\n");
        for i in 0..60u32 {
            match i {
                7 => csv.push_str("not a phone,Nobody\n"),
                _ => csv.push_str(&format!("+1 212 555 {:04},Name{i}\n", (i * 7) % 23)),
            }
        }
        csv
    }

    fn options(find_duplicates: bool) -> ImportOptions {
        ImportOptions {
            find_duplicates,
            ..ImportOptions::new("US".parse::<Region>().expect("region"))
        }
    }

    /// What the parser's in-memory check says: row -> first row.
    fn duplicates_in_memory() -> HashMap<u64, u64> {
        let rows = smscrm_import::open(Cursor::new(file()), &options(true)).expect("open");
        rows.filter_map(|outcome| match outcome {
            RowOutcome::Duplicate { row, first_row, .. } => Some((row, first_row)),
            _ => None,
        })
        .collect()
    }

    struct Seen {
        duplicates: HashMap<u64, u64>,
        claims: HashMap<u64, u64>,
        claimed_in_order: Vec<u64>,
    }

    /// Runs the pass with segments of 5 entries (so both sorts spill to disk) and a claimer
    /// that records the phones it is given and claims each for the contact proposed.
    fn look(scope: Scope) -> Seen {
        let input = Box::new(Cursor::new(file()));
        let (sightings, _) =
            sightings(input, &options(false), scope, 5, &mut |_, _| {}).expect("sightings");
        let mut claimed_in_order = Vec::new();
        let mut notes = notes(sightings, scope, 5, |proposed: Preclaimed| {
            let claims = proposed.into_claims();
            claimed_in_order.extend(claims.iter().map(|c| digits_of(*c)));
            let mut back = Preclaimed::default();
            for claim in claims {
                let bytes = claim.to_bytes();
                let id = u128::from(u64_at(&bytes, 8)) << 64 | u128::from(u64_at(&bytes, 16));
                let phone = PhoneE164::from_e164_unchecked(format!("+{}", digits_of(claim)));
                back.propose(&phone, &ContactId::from_ulid(ulid::Ulid(id)));
            }
            Ok(back)
        })
        .expect("notes");
        let (mut duplicates, mut claims) = (HashMap::new(), HashMap::new());
        for row in 2..=61 {
            let phone = PhoneE164::from_e164_unchecked(format!("+{}", phone_of_row(row)));
            match notes.take(row, &phone).expect("take") {
                Some(Note::Duplicate { first_row, .. }) => drop(duplicates.insert(row, first_row)),
                Some(Note::Claimed(claim)) => drop(claims.insert(row, digits_of(claim))),
                Some(Note::RestrictedLater { .. }) | None => {}
            }
        }
        Seen {
            duplicates,
            claims,
            claimed_in_order,
        }
    }

    fn digits_of(claim: Preclaim) -> u64 {
        u64_at(&claim.to_bytes(), 0)
    }

    fn phone_of_row(row: u64) -> u64 {
        let i = (row - 2) as u32;
        12_125_550_000 + u64::from((i * 7) % 23)
    }

    #[test]
    fn duplicates_found_on_disk_match_the_in_memory_check_and_claims_return_to_their_rows() {
        let whole = Scope {
            report_after: 0,
            claim_after: Some(0),
            opt_outs_past: false,
            through: u64::MAX,
        };
        let seen = look(whole);
        let expected = duplicates_in_memory();
        assert_eq!(expected.len(), 60 - 1 - 23);
        assert_eq!(seen.duplicates, expected);
        // Every phone's first row, and only those, is claimed, for its own phone.
        assert_eq!(seen.claims.len(), 23);
        for (row, digits) in &seen.claims {
            assert!(!expected.contains_key(row));
            assert_eq!(*digits, phone_of_row(*row), "row {row}");
        }
        // Claimed in the order of their keys.
        let mut sorted = seen.claimed_in_order.clone();
        sorted.sort_by_key(|d| key_order(*d));
        assert_eq!(seen.claimed_in_order, sorted);
    }

    /// The pass ahead counts the file's rows for the import's progress, invalid ones too,
    /// but only when it reads the whole file.
    #[test]
    fn counts_the_files_rows_when_it_reads_to_the_end() {
        let rows_in = |through| {
            let input = Box::new(Cursor::new(file()));
            let scope = Scope {
                report_after: 0,
                claim_after: None,
                through,
                opt_outs_past: false,
            };
            sightings(input, &options(false), scope, 5, &mut |_, _| {})
                .expect("sightings")
                .1
        };
        assert_eq!(rows_in(u64::MAX), Some(60));
        assert_eq!(rows_in(60), Some(60));
        assert_eq!(rows_in(59), None);
        let empty = sightings(
            Box::new(Cursor::new("phone\n")),
            &options(false),
            Scope {
                report_after: 0,
                claim_after: None,
                opt_outs_past: false,
                through: u64::MAX,
            },
            5,
            &mut |_, _| {},
        )
        .expect("sightings")
        .1;
        assert_eq!(empty, Some(0));
    }

    /// A main pass that reads other rows than the pass ahead did (the file was replaced
    /// between the two reads) is stopped, not fed wrong notes.
    #[test]
    fn notes_that_do_not_fit_the_rows_read_say_the_file_changed() {
        let scope = Scope {
            report_after: 0,
            claim_after: None,
            opt_outs_past: false,
            through: u64::MAX,
        };
        let noted = *duplicates_in_memory().keys().min().expect("a duplicate");
        let fresh = || {
            let input = Box::new(Cursor::new(file()));
            let (sightings, _) =
                sightings(input, &options(false), scope, 5, &mut |_, _| {}).expect("sightings");
            notes(sightings, scope, 5, |_| {
                unreachable!("a dry run claims nothing")
            })
            .expect("notes")
        };
        let phone = |row| PhoneE164::from_e164_unchecked(format!("+{}", phone_of_row(row)));
        let other = PhoneE164::from_e164_unchecked("+14155550100".into());
        assert!(matches!(
            fresh().take(noted, &phone(noted)),
            Ok(Some(Note::Duplicate { .. }))
        ));
        let changed = |result: Result<Option<Note>, ImportFailure>| matches!(result, Err(ImportFailure::Internal(m)) if m.contains("file changed"));
        assert!(
            changed(fresh().take(noted, &other)),
            "another phone on the noted row"
        );
        assert!(
            changed(fresh().take(noted + 1, &phone(noted + 1))),
            "the noted row missing"
        );
        // The file ends before the noted rows: they were never taken.
        assert!(
            changed(fresh().finish().map(|()| None)),
            "rows missing at the end"
        );
        let mut all_taken = fresh();
        for row in 2..=61 {
            all_taken.take(row, &phone(row)).expect("take");
        }
        assert!(all_taken.finish().is_ok());
    }

    #[test]
    fn a_window_reports_its_own_rows_against_every_earlier_row() {
        // Data rows 11.. are reported, rows 21.. (file rows 22..) are claimed.
        let scope = Scope {
            report_after: 10,
            claim_after: Some(20),
            opt_outs_past: false,
            through: 50,
        };
        let seen = look(scope);
        let expected: HashMap<u64, u64> = duplicates_in_memory()
            .into_iter()
            .filter(|(row, _)| (12..=51).contains(row))
            .collect();
        assert_eq!(seen.duplicates, expected);
        assert!(seen.duplicates.values().any(|first| *first < 12));
        assert!(seen.claims.keys().all(|row| (22..=51).contains(row)));
        assert!(!seen.claims.is_empty());
        // A dry run (no claim scope) claims nothing.
        let dry = look(Scope {
            claim_after: None,
            ..scope
        });
        assert!(dry.claims.is_empty() && dry.claimed_in_order.is_empty());
        assert_eq!(dry.duplicates, expected);
    }
}
