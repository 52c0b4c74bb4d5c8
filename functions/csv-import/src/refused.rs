//! Where an import's refused rows go as it meets them: the report of refused rows (CSV), which
//! holds each row's cells as written, so that it can be fixed and imported again as it is.

use std::io::Write;

use smscrm_domain::import_report::RowError;
use smscrm_import::{REFUSED_ROW_COLUMNS, csv_safe_cell, refused_rows_columns};

/// Sees every refused row (invalid, or a duplicate) of a run, in file order.
pub trait RefusedRows {
    /// The file's header row and delimiter, before any row.
    fn header(&mut self, _headers: &[String], _delimiter: char) {}
    /// A refused row and its cells as written (none for a row refused unread: a field too
    /// long, a quote never closed).
    fn refused(&mut self, error: &RowError, cells: &[String]);
}

impl<F: FnMut(&RowError)> RefusedRows for F {
    fn refused(&mut self, error: &RowError, _cells: &[String]) {
        self(error)
    }
}

/// The report of refused rows as CSV: `error_row`, `error_reason`, then the file's own
/// columns. Importing it again leaves out its first two columns (`smscrm_import` knows
/// them). It starts with a byte-order mark, without which Excel reads UTF-8 as its own
/// code page (`JosÃ©`). Every cell is protected against formula injection, since reasons
/// quote what the file held and the report is opened in spreadsheets.
///
/// It is separated by semicolons when the file was: the spreadsheets of the locales that
/// save CSV that way (German, French, ...) open a comma-separated file as one column.
pub struct RefusedRowsCsv<W: Write> {
    /// Always there but while [`RefusedRowsCsv::header`] swaps it for one with the file's
    /// delimiter.
    csv: Option<csv::Writer<W>>,
    /// The first write that failed: a row the report lost is a row nobody is told about.
    failed: Option<csv::Error>,
    /// The file's first columns that were an earlier report's own, left out of this one.
    earlier_report: usize,
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

impl<W: Write> RefusedRowsCsv<W> {
    pub fn new(mut out: W) -> Self {
        let failed = out.write_all(UTF8_BOM).err().map(csv::Error::from);
        Self {
            csv: Some(writer(out, b',')),
            failed,
            earlier_report: 0,
        }
    }

    /// Flushes and gives the output back; `Err` if any write failed.
    pub fn finish(mut self) -> Result<W, csv::Error> {
        if let Some(failed) = self.failed.take() {
            return Err(failed);
        }
        let csv = self.csv.ok_or_else(lost)?;
        csv.into_inner()
            .map_err(|e| csv::Error::from(e.into_error()))
    }

    /// Before any row: the report takes the delimiter that suits the file's.
    fn separate_as(&mut self, delimiter: char) {
        if delimiter != ';' {
            return;
        }
        self.csv = match self.csv.take().map(csv::Writer::into_inner) {
            Some(Ok(out)) => Some(writer(out, b';')),
            Some(Err(unflushed)) => {
                let kind = unflushed.error().kind();
                self.failed.get_or_insert(std::io::Error::from(kind).into());
                Some(unflushed.into_inner())
            }
            None => None,
        };
    }

    /// A row of another report of refused rows (a range's), as it was written there.
    pub fn copy<'a>(&mut self, row: impl IntoIterator<Item = &'a str>) {
        // Protecting a cell twice changes nothing: a protected cell starts with `'`.
        self.write(row);
    }

    fn write<'a>(&mut self, cells: impl IntoIterator<Item = &'a str>) {
        if self.failed.is_some() {
            return;
        }
        let Some(csv) = self.csv.as_mut() else {
            self.failed = Some(lost());
            return;
        };
        let safe = cells
            .into_iter()
            .map(|cell| csv_safe_cell(cell).into_owned());
        self.failed = csv.write_record(safe.collect::<Vec<_>>()).err();
    }
}

/// The delimiter of a report [`RefusedRowsCsv`] wrote: what follows its first column's name.
pub(crate) fn delimiter_of(report: &[u8]) -> u8 {
    let header = report.strip_prefix(UTF8_BOM).unwrap_or(report);
    match header.get(REFUSED_ROW_COLUMNS[0].len()) {
        Some(b';') => b';',
        _ => b',',
    }
}

/// A row with cells past the header's columns is refused with them all, hence `flexible`.
fn writer<W: Write>(out: W, delimiter: u8) -> csv::Writer<W> {
    csv::WriterBuilder::new()
        .flexible(true)
        .delimiter(delimiter)
        .from_writer(out)
}

fn lost() -> csv::Error {
    std::io::Error::other("the report's output was lost").into()
}

impl<W: Write> RefusedRows for RefusedRowsCsv<W> {
    fn header(&mut self, headers: &[String], delimiter: char) {
        self.separate_as(delimiter);
        // A report's rows refused again: one error_row and error_reason, the latest.
        self.earlier_report = refused_rows_columns(headers);
        let own = headers.iter().skip(self.earlier_report).map(String::as_str);
        self.write(REFUSED_ROW_COLUMNS.into_iter().chain(own));
    }

    fn refused(&mut self, error: &RowError, cells: &[String]) {
        let row = error.row.to_string();
        let first = [row.as_str(), error.reason.as_str()];
        let own = cells.iter().skip(self.earlier_report).map(String::as_str);
        self.write(first.into_iter().chain(own));
    }
}

/// Lent to a run, which is then given back for [`RefusedRowsCsv::finish`].
impl<W: Write> RefusedRows for &mut RefusedRowsCsv<W> {
    fn header(&mut self, headers: &[String], delimiter: char) {
        (**self).header(headers, delimiter);
    }

    fn refused(&mut self, error: &RowError, cells: &[String]) {
        (**self).refused(error, cells);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_rows_keep_their_cells_and_never_start_a_cell_with_a_formula() {
        let mut report = RefusedRowsCsv::new(Vec::new());
        report.header(&["Phone".into(), "=Name".into()], '|');
        let error = RowError {
            row: 7,
            reason: "=HYPERLINK(\"http://x\")".into(),
        };
        report.refused(&error, &["+1 415".into(), "Ada".into(), "extra".into()]);
        let out = report.finish().expect("written");
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "\u{feff}error_row,error_reason,Phone,'=Name\n\
             7,\"'=HYPERLINK(\"\"http://x\"\")\",'+1 415,Ada,extra\n"
        );
    }

    #[test]
    fn a_semicolon_separated_file_gets_a_semicolon_separated_report() {
        let mut report = RefusedRowsCsv::new(Vec::new());
        report.header(&["Name".into(), "Handy".into()], ';');
        let error = RowError {
            row: 3,
            reason: "not a phone number: 12".into(),
        };
        report.refused(&error, &["Zoë; Adams".into(), "12".into()]);
        let out = report.finish().expect("written");
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "\u{feff}error_row;error_reason;Name;Handy\n\
             3;not a phone number: 12;\"Zoë; Adams\";12\n"
        );
    }
}
