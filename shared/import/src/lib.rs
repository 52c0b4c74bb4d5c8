//! The CSV contact-import parser, shared by every entry point (web upload, drop folder, CLI).
//!
//! Pure: it reads the [`std::io::Read`] it is given and nothing else, and turns the bytes into
//! a stream of validated rows in constant memory. Only the in-file dedupe set grows, by
//! about 20 bytes per unique phone (see `seen`); a caller that finds duplicates itself (the
//! import pipeline does, on disk) turns it off with [`ImportOptions::find_duplicates`].
//!
//! ```text
//! bytes -> sniff (encoding, binary?, delimiter) -> decode to UTF-8 -> bounded CSV records
//!       -> header mapping -> row validation (phone fast path, domain field rules) -> dedupe
//! ```
//!
//! Row numbers are what a person sees in Excel: the header is row 1, the first data row is
//! row 2. They count CSV *records*, so a quoted field holding newlines is still one row.
//! Entirely empty lines are skipped by the CSV parser and not counted (Excel does not write
//! them; a row of empty cells, `,,,`, is a record and is counted, then skipped silently).

mod code_page;
mod fastpath;
mod late;
mod latin;
mod mapping;
mod names;
mod phone;
mod records;
mod row;
mod rows;
mod script_words;
mod seen;
mod sniff;
mod thai;

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Serialize;
use smscrm_domain::contact::ConsentInput;
use smscrm_domain::{PhoneE164, Region, ValidationError};

pub use mapping::{ExplicitMapping, Target};
pub use phone::PhoneReader;
pub use rows::{Resume, ResumeText, Rows, open, open_at};

/// The columns a report of refused rows puts before the file's own (the row, and why it was
/// refused): left out when the report, fixed, is imported again.
pub const REFUSED_ROW_COLUMNS: [&str; 2] = ["error_row", "error_reason"];

/// How many of a header's first columns are a report of refused rows' own: both, or only
/// `error_reason` when the row numbers were deleted; 0 for any other file.
pub fn refused_rows_columns(headers: &[String]) -> usize {
    match headers {
        [row, reason, ..] if [row, reason] == REFUSED_ROW_COLUMNS => 2,
        [reason, ..] if reason == REFUSED_ROW_COLUMNS[1] => 1,
        _ => 0,
    }
}

/// What a cell starts with that a spreadsheet may run as a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// How the reason of a duplicate row starts (`duplicate of row 2 (+14155552671)`).
pub const DUPLICATE_OF: &str = "duplicate of row ";

/// The default cap on one field: far above any real cell, far below what could hurt memory.
pub const DEFAULT_MAX_FIELD_BYTES: usize = 64 * 1024;

/// How to read one file.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Numbers written without a country code are read in this region.
    pub region: Region,
    /// Columns named by the user; they override guessing from the headers.
    pub mapping: Option<ExplicitMapping>,
    /// "I have consent from these contacts": applies to rows without a consent-column value.
    pub consent: Option<ConsentDeclaration>,
    /// A field longer than this (in UTF-8 bytes) makes its row invalid; the file goes on.
    pub max_field_bytes: usize,
    /// True: a row whose phone an earlier row had is a [`RowOutcome::Duplicate`] (the check
    /// holds every phone in memory). False: it is `Valid`, and the caller finds duplicates.
    pub find_duplicates: bool,
}

impl ImportOptions {
    pub fn new(region: Region) -> Self {
        Self {
            region,
            mapping: None,
            consent: None,
            max_field_bytes: DEFAULT_MAX_FIELD_BYTES,
            find_duplicates: true,
        }
    }
}

/// An import-level consent declaration: every row without a consent-column value gets
/// explicit consent with this source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentDeclaration {
    pub source: String,
}

/// What was detected from the file, for the dry-run report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Detected {
    /// "utf-8", "utf-8-bom", "utf-16le", "utf-16be", "mac-roman", or a code page by its
    /// WHATWG name ("windows-1252", "windows-1251", "Shift_JIS", "GBK", ...).
    /// Once the file is read, [`Rows::encoding`] may say more: a file whose start is ASCII
    /// can turn out to be in a code page, and a UTF-8 file can hold rows in one ("utf-8 with
    /// windows-1252 rows").
    pub encoding: &'static str,
    pub delimiter: char,
    pub headers: Vec<String>,
    /// Every used column with what it feeds, in column order.
    pub mapping: Vec<(String, Target)>,
    /// The columns (kept as attributes in `mapping`) that numbers are also read with:
    /// `country` (each row's number is read for the country it names) and `area_code` (a
    /// number that does not read as written is read after it).
    pub number_columns: Vec<(String, &'static str)>,
}

/// The outcome of one data row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowOutcome {
    Valid(ImportRow),
    Invalid {
        row: u64,
        reason: String,
        /// The row's valid number and its opt-out, which refusing the row must not lose.
        opt_out: Option<RefusedOptOut>,
    },
    /// The same phone appeared earlier in the file: the first row wins.
    Duplicate {
        row: u64,
        first_row: u64,
        phone: PhoneE164,
    },
}

impl RowOutcome {
    pub fn row(&self) -> u64 {
        match self {
            Self::Valid(r) => r.row,
            Self::Invalid { row, .. } | Self::Duplicate { row, .. } => *row,
        }
    }
}

/// A refused row's opt-out (an opt-out column, or a note in the phone cell, says the person
/// opted out) where its number itself is valid: an opt-out is a fact about the person whatever
/// is wrong with the rest of the row, so the import records it for the number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedOptOut {
    pub phone: PhoneE164,
    /// Where it was read, e.g. `import column SMS Opt Out`.
    pub source: String,
}

/// A validated row. Empty cells are `None` / absent: an import never clears a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportRow {
    pub row: u64,
    pub phone: PhoneE164,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub tags: Vec<String>,
    /// Custom attributes, named after their columns (see [`Target::Attribute`]).
    pub attributes: BTreeMap<String, String>,
    /// `None`: consent unknown, the import does not change it.
    pub consent: Option<ConsentInput>,
}

/// Why a whole file cannot be imported. Problems with single rows are [`RowOutcome::Invalid`].
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the file is empty: it needs a header row naming its columns (phone, first name, ...)")]
    Empty,
    #[error("the file has a header row but no data rows: there is nothing to import")]
    NoRows,
    #[error(
        "the file is not CSV text (it looks like binary data: an image, an archive, or an Excel \
         workbook); save it as CSV (UTF-8) and upload that"
    )]
    Binary,
    /// Text of another script than Latin's in no code page the import tells with confidence,
    /// which read as a Western one would be garbage (see `code_page::guess`).
    #[error(
        "the file's text is not in an encoding this import can tell: it looks like a \
         Cyrillic, Greek, Hebrew, Arabic, Thai or East Asian code page, but none reads it as \
         words of that script; save it as \"CSV UTF-8\" (or \"Unicode Text\") and import \
         again"
    )]
    CodePage,
    #[error(
        "the file was uploaded as a web form (multipart/form-data, as `curl -F` sends it), so \
         it starts with the form's boundary instead of the CSV: upload the file's own bytes as \
         the request body (`curl --data-binary @contacts.csv`)"
    )]
    FormUpload,
    #[error(
        "no phone column found among the headers {}{}; name it with a mapping such as \
         phone=<column> (or phone=#<position>)",
        list(headers),
        mapped_away.as_ref().map(|(column, target)| format!(
            " (the mapping gives `{column}`, which reads as a phone column, to {target})"
        )).unwrap_or_default()
    )]
    NoPhoneColumn {
        headers: Vec<String>,
        /// A phone-like column the explicit mapping gave another field, and that field.
        mapped_away: Option<(String, String)>,
    },
    #[error(
        "the mapping names the column `{column}`, which is not in the file; its headers are {} \
         (a column can also be named by its position, e.g. phone=#2)",
        list(headers)
    )]
    UnknownMappingColumn {
        column: String,
        headers: Vec<String>,
    },
    #[error(
        "the mapping's `{column}` matches several columns (positions {}); name one by its \
         position, e.g. phone=#{}",
        positions.iter().map(usize::to_string).collect::<Vec<_>>().join(", "),
        positions.first().copied().unwrap_or(1)
    )]
    AmbiguousMappingColumn {
        column: String,
        positions: Vec<usize>,
    },
    #[error("invalid mapping `{entry}`: {reason}")]
    InvalidMapping { entry: String, reason: String },
    #[error("invalid consent declaration: {0}")]
    InvalidConsent(ValidationError),
    #[error("the header row is unusable: {0}")]
    BadHeader(String),
    #[error("reading the file failed: {0}")]
    Io(#[from] std::io::Error),
    /// The temporary disk filled up: finding duplicates sorts 40 bytes a row there (75 with
    /// the embedded store's claims ahead).
    #[error(
        "the file is too large for the temporary disk space here (finding its duplicate phones \
         sorts 40 to 75 bytes a row on disk): split it into smaller files, or free space in the \
         temporary directory"
    )]
    NoSpaceToSort,
}

impl ImportError {
    /// Whether the mapping the user gave is what to fix, not the file: a column it names is
    /// not there, or is there twice, or is given two fields, or it gave the phone column to
    /// another field.
    pub fn is_the_mappings(&self) -> bool {
        matches!(
            self,
            Self::UnknownMappingColumn { .. }
                | Self::AmbiguousMappingColumn { .. }
                | Self::InvalidMapping { .. }
                | Self::NoPhoneColumn {
                    mapped_away: Some(_),
                    ..
                }
        )
    }
}

fn list(headers: &[String]) -> String {
    let quoted: Vec<String> = headers.iter().map(|h| format!("`{h}`")).collect();
    format!("[{}]", quoted.join(", "))
}

/// Protects a cell of a CSV *export* against formula injection (the OWASP rule): a cell
/// starting with `=`, `+`, `-`, `@`, tab or carriage return gets a leading `'`, so a
/// spreadsheet shows it as text instead of evaluating it. Imports keep such values as they
/// are: they are only dangerous when a spreadsheet opens them.
pub fn csv_safe_cell(value: &str) -> Cow<'_, str> {
    if value.starts_with(FORMULA_STARTS) {
        Cow::Owned(format!("'{value}"))
    } else {
        Cow::Borrowed(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_defused_for_export() {
        for v in ["=1+1", "+1 415", "-2", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(csv_safe_cell(v), format!("'{v}"));
        }
        assert!(matches!(csv_safe_cell("Ada"), Cow::Borrowed("Ada")));
        assert!(matches!(csv_safe_cell(""), Cow::Borrowed("")));
    }
}
