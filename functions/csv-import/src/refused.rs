//! Where an import's refused rows go as it meets them: the report of refused rows (CSV), which
//! holds each row's cells as written, so that it can be fixed and imported again as it is.

use std::io::Write;

use smscrm_domain::import_report::RowError;
use smscrm_import::{REFUSED_ROW_COLUMNS, csv_safe_cell, refused_rows_columns};

/// Sees every refused row (invalid, or a duplicate) of a run, in file order.
pub trait RefusedRows {
    /// The file's header row, before any row.
    fn header(&mut self, _headers: &[String]) {}
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
pub struct RefusedRowsCsv<W: Write> {
    csv: csv::Writer<W>,
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
            // A row with cells past the header's columns is refused with them all.
            csv: csv::WriterBuilder::new().flexible(true).from_writer(out),
            failed,
            earlier_report: 0,
        }
    }

    /// Flushes and gives the output back; `Err` if any write failed.
    pub fn finish(mut self) -> Result<W, csv::Error> {
        if let Some(failed) = self.failed.take() {
            return Err(failed);
        }
        self.csv
            .into_inner()
            .map_err(|e| csv::Error::from(e.into_error()))
    }

    /// A row of another report of refused rows (a range's), as it was written there.
    pub fn copy<'a>(&mut self, row: impl IntoIterator<Item = &'a str>) {
        // Protecting a cell twice changes nothing: a protected cell starts with `'`.
        self.write(row);
    }

    fn write<'a>(&mut self, cells: impl IntoIterator<Item = &'a str>) {
        if self.failed.is_none() {
            let safe = cells
                .into_iter()
                .map(|cell| csv_safe_cell(cell).into_owned());
            self.failed = self.csv.write_record(safe.collect::<Vec<_>>()).err();
        }
    }
}

impl<W: Write> RefusedRows for RefusedRowsCsv<W> {
    fn header(&mut self, headers: &[String]) {
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
    fn header(&mut self, headers: &[String]) {
        (**self).header(headers);
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
        report.header(&["Phone".into(), "=Name".into()]);
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
}
