//! What an import found and did: the report shown after a dry run or a commit.

use crate::ContactMerge;
use serde::Serialize;

/// How many row errors a report carries; every error still reaches the error sink.
pub const MAX_REPORTED_ERRORS: usize = 1000;
/// How many normalised rows a report previews.
pub const PREVIEW_ROWS: usize = 10;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct RowError {
    pub row: u64,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ImportReport {
    pub dry_run: bool,
    /// Data rows read (the header is not counted).
    pub rows: u64,
    pub valid: u64,
    pub invalid: u64,
    pub duplicates: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub suppressed: u64,
    /// Rows granting consent to a contact who had opted out: the opt-out stands.
    #[serde(default)]
    pub opt_outs_kept: u64,
    /// What the valid rows say about consent.
    #[serde(default)]
    pub consent: ConsentCounts,
    pub encoding: String,
    pub delimiter: String,
    /// Column header -> what it was read as (`phone`, `first_name`, `attr:city`, ...).
    pub mapping: Vec<(String, String)>,
    /// Column header -> what numbers are also read with from it, beside the attribute it is
    /// kept as: `country` (each row's number is read for its country) or `area_code`.
    #[serde(default)]
    pub number_columns: Vec<(String, String)>,
    /// The first rows as they will be stored.
    pub preview: Vec<PreviewRow>,
    /// The first [`MAX_REPORTED_ERRORS`] invalid and duplicate rows, in file order.
    pub errors: Vec<RowError>,
    pub errors_total: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PreviewRow {
    pub row: u64,
    pub phone: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub tags: Vec<String>,
    pub attributes: std::collections::BTreeMap<String, String>,
    /// The consent the contact will have: `revoked` where an opt-out stands.
    pub consent: Option<String>,
    /// The number is on the do-not-contact list: imported, never messaged.
    #[serde(default)]
    pub suppressed: bool,
    /// The person opted out before (or the do-not-contact list says so), which the row does
    /// not lift: only their own START does.
    #[serde(default)]
    pub opt_out_stands: bool,
}

impl PreviewRow {
    pub fn of(row: u64, merge: &ContactMerge) -> Self {
        Self {
            row,
            phone: merge.phone.to_string(),
            first_name: merge.first_name.clone(),
            last_name: merge.last_name.clone(),
            email: merge.email.clone(),
            tags: merge.tags.clone(),
            attributes: merge.attributes.clone(),
            consent: merge
                .consent
                .as_ref()
                .and_then(|c| serde_json::to_value(c.status).ok())
                .and_then(|v| v.as_str().map(str::to_owned)),
            suppressed: false,
            opt_out_stands: false,
        }
    }

    /// What the store says of the row beyond its cells.
    pub fn stored_as(&mut self, suppressed: bool, opted_out: bool) {
        self.suppressed |= suppressed;
        if opted_out && self.consent.as_deref() != Some(REVOKED) {
            self.consent = Some(REVOKED.to_owned());
            self.opt_out_stands = true;
        }
    }
}

/// [`crate::ConsentStatus::Revoked`] as the API writes it.
const REVOKED: &str = "revoked";

impl ImportReport {
    pub fn record_error(&mut self, error: RowError) {
        self.errors_total += 1;
        if self.errors.len() < MAX_REPORTED_ERRORS {
            self.errors.push(error);
        }
    }

    /// Adds the report of the rows that follow this report's (the next range of a file
    /// committed in ranges), as if one run had read both.
    pub fn absorb(&mut self, later: ImportReport) {
        self.rows += later.rows;
        self.valid += later.valid;
        self.invalid += later.invalid;
        self.duplicates += later.duplicates;
        self.consent.given += later.consent.given;
        self.consent.withdrawn += later.consent.withdrawn;
        self.consent.opted_out += later.consent.opted_out;
        self.add_counts(ImportCounts {
            created: later.created,
            updated: later.updated,
            unchanged: later.unchanged,
            suppressed: later.suppressed,
            opt_outs_kept: later.opt_outs_kept,
        });
        if self.encoding.is_empty() {
            self.encoding = later.encoding;
            self.delimiter = later.delimiter;
            self.mapping = later.mapping;
            self.number_columns = later.number_columns;
        }
        let room = PREVIEW_ROWS.saturating_sub(self.preview.len());
        self.preview.extend(later.preview.into_iter().take(room));
        // The first errors in file order: none of the later rows' while some of these rows'
        // were cut from the list (each range's report keeps only its first ones).
        if self.errors.len() as u64 == self.errors_total {
            let room = MAX_REPORTED_ERRORS.saturating_sub(self.errors.len());
            self.errors.extend(later.errors.into_iter().take(room));
        }
        self.errors_total += later.errors_total;
    }

    pub fn add_counts(&mut self, counts: ImportCounts) {
        self.created += counts.created;
        self.updated += counts.updated;
        self.unchanged += counts.unchanged;
        self.suppressed += counts.suppressed;
        self.opt_outs_kept += counts.opt_outs_kept;
    }
}

/// What valid rows say about consent, from a consent or opt-out column or the import's
/// declaration; rows saying nothing leave a contact's consent as it is. A grant meets an
/// earlier opt-out without lifting it ([`ImportReport::opt_outs_kept`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ConsentCounts {
    /// Rows giving consent (explicit or implied).
    pub given: u64,
    /// Rows saying no: consent withdrawn, not an opt-out.
    pub withdrawn: u64,
    /// Rows saying the person opted out.
    pub opted_out: u64,
}

/// What writing a batch of rows did (or, in a dry run, would do).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ImportCounts {
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Rows whose number is on the do-not-contact list, whether created, updated or unchanged:
    /// imported, but never messaged.
    pub suppressed: u64,
    /// Rows granting consent to a contact who had opted out: the opt-out stands.
    #[serde(default)]
    pub opt_outs_kept: u64,
}

impl ImportCounts {
    pub fn add(&mut self, other: ImportCounts) {
        self.created += other.created;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
        self.suppressed += other.suppressed;
        self.opt_outs_kept += other.opt_outs_kept;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_errors(rows: std::ops::Range<u64>, kept: usize) -> ImportReport {
        let mut report = ImportReport::default();
        for row in rows {
            report.record_error(RowError {
                row,
                reason: "bad".into(),
            });
        }
        report.errors.truncate(kept);
        report
    }

    #[test]
    fn merged_errors_are_the_first_ones_without_gaps() {
        // The first range kept all its errors: the next range's follow them.
        let mut whole = with_errors(2..12, 10);
        whole.absorb(with_errors(500..505, 5));
        let rows: Vec<u64> = whole.errors.iter().map(|e| e.row).collect();
        assert_eq!(rows.len(), 15);
        assert_eq!((rows[9], rows[10]), (11, 500));
        // The first range's list was cut: the next range's would leave a gap.
        let mut whole = with_errors(2..152, 100);
        whole.absorb(with_errors(500..505, 5));
        assert_eq!(whole.errors.len(), 100);
        assert!(whole.errors.iter().all(|e| e.row < 152));
        assert_eq!(whole.errors_total, 155);
    }
}
