//! [`open`]: sniffing, decoding and the header; [`Rows`]: the stream of row outcomes.

use std::io::{self, Chain, Cursor, Read};
use std::sync::{Arc, OnceLock};

use encoding_rs_io::{DecodeReaderBytes, DecodeReaderBytesBuilder};
use smscrm_domain::contact::{ConsentInput, ConsentStatus, clean_consent};

use crate::code_page::{CodePage, RegionHint};
use crate::late::{ForeignCodePage, Judged, LateDecision};
use crate::mapping::plan;
use crate::phone::PhoneReader;
use crate::records::{Between, Record, RecordReader, Text};
use crate::row::RowValidator;
use crate::sniff::{self, Encoding, SAMPLE_BYTES};
use crate::{Detected, ImportError, ImportOptions, RowOutcome};

/// Fields a header may have; the cap keeps a pathological first line from holding memory.
const MAX_HEADER_FIELDS: usize = 1024;
/// Spreadsheets export the empty columns past the last one used (a sheet once formatted to
/// column ZZ): read that many, and leave out those with no name at the end.
const HEADER_FIELDS_READ: usize = 16_384;
/// Cells a data row may have past its header's columns (trailing delimiters are common).
const EXTRA_FIELDS: usize = 64;

type Sampled<R> = Chain<Cursor<Vec<u8>>, R>;

/// The input as the records are read from it: as UTF-8, passed through when it is UTF-8
/// already, decoded otherwise, or as the bytes of a code page each record is read in.
pub enum Decoded<R: Read> {
    Utf8(Sampled<R>),
    /// All ASCII as far as the sample goes: see [`LateDecision`].
    Late(LateDecision<Sampled<R>>),
    /// A code page's bytes: see [`Text::CodePage`].
    CodePage(Sampled<R>),
    Other(DecodeReaderBytes<Sampled<R>, Vec<u8>>),
}

impl<R: Read> Read for Decoded<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Utf8(r) | Self::CodePage(r) => r.read(buf),
            Self::Late(r) => r.read(buf),
            Self::Other(r) => r.read(buf),
        }
    }
}

/// The rows of a file, in order. Iterating yields one [`RowOutcome`] per non-empty data row.
///
/// An I/O error ends the iteration early: call [`Rows::finish`] afterwards to tell a clean
/// end from a broken stream.
pub struct Rows<R: Read> {
    records: RecordReader<Sampled<Decoded<R>>>,
    detected: Detected,
    validator: RowValidator,
    max_field: usize,
    error: Option<io::Error>,
    /// File bytes before the decoded text: a UTF-8 byte-order mark.
    skipped: u64,
    /// For a read from a [`Resume`]: file bytes left out between the header and the rest,
    /// which the decoder did not see.
    left_out: u64,
    /// The file is a report of refused rows ([`crate::refused_rows_columns`]).
    refused_rows: bool,
}

/// A place between two rows of a file from which [`open_at`] reads on, as a worker that
/// imports only part of a large file does: a UTF-8 file, or one in a code page read as its
/// bytes (see [`Rows::resume_point`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Resume {
    /// Bytes of the file before the next row (blank lines before it included).
    pub offset: u64,
    /// The spreadsheet row of the row before it: rows read on are numbered as in the file.
    pub row: u64,
    /// The row before ended at a carriage return (the line feed next ends its line).
    pub ended_at_cr: bool,
    /// The file's delimiter, as detected on its start.
    pub delimiter: u8,
    /// How the whole read was reading the text there, which a part of the file alone could
    /// judge otherwise.
    pub text: ResumeText,
    /// The code page the whole read reads rows that are not UTF-8 in (see [`Text::Utf8`]).
    #[serde(default, with = "code_page_name::option")]
    pub(crate) rows_code_page: Option<CodePage>,
}

/// A code page by its WHATWG name, which `encoding_rs` knows it by again.
mod code_page_name {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::code_page::CodePage;

    pub(super) fn serialize<S: Serializer>(code_page: &CodePage, to: S) -> Result<S::Ok, S::Error> {
        code_page.name().serialize(to)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(from: D) -> Result<CodePage, D::Error> {
        let name = String::deserialize(from)?;
        encoding_rs::Encoding::for_label(name.as_bytes())
            .ok_or_else(|| serde::de::Error::custom(format!("no code page is named {name}")))
    }

    pub(super) mod option {
        use serde::{Deserialize, Deserializer, Serialize, Serializer};

        use crate::code_page::CodePage;

        pub(crate) fn serialize<S: Serializer>(
            code_page: &Option<CodePage>,
            to: S,
        ) -> Result<S::Ok, S::Error> {
            code_page.map(|code_page| code_page.name()).serialize(to)
        }

        pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
            from: D,
        ) -> Result<Option<CodePage>, D::Error> {
            #[derive(Deserialize)]
            struct Named(#[serde(with = "super")] CodePage);
            Ok(Option::<Named>::deserialize(from)?.map(|Named(code_page)| code_page))
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ResumeText {
    Utf8,
    /// Nothing but ASCII before it, so UTF-8 or Windows-1252 is decided further on (see
    /// `late.rs`), at the same byte as in the whole read.
    AsciiSoFar,
    /// The bytes of a code page, each row read in it or, where written so, in UTF-8.
    CodePage(#[serde(with = "code_page_name")] CodePage),
}

/// Reads the start of `input`: detects the encoding (BOM, else UTF-8 if the first 64 KiB are
/// valid UTF-8, else Windows-1252), refuses binary data and text in code pages it does not
/// read ([`ImportError::CodePage`]), detects the delimiter, reads the header and maps the
/// columns. A file with a header and no rows is not an error: it yields no rows (the report
/// still shows what was detected).
pub fn open<R: Read>(input: R, options: &ImportOptions) -> Result<Rows<R>, ImportError> {
    open_with(input, options, None)
}

/// Reads a file on from `at` ([`Rows::resume_point`]): `input` is the file's start up
/// to the end of its header row ([`Rows::resume_point`] right after [`open`]), then the file
/// from `at.offset` on. Rows come out as [`open`] gives them there, numbered the same, except
/// that duplicates are not looked for (the rows before are not read).
pub fn open_at<R: Read>(
    input: R,
    options: &ImportOptions,
    at: &Resume,
) -> Result<Rows<R>, ImportError> {
    let options = ImportOptions {
        find_duplicates: false,
        ..options.clone()
    };
    open_with(input, &options, Some(at))
}

fn open_with<R: Read>(
    mut input: R,
    options: &ImportOptions,
    at: Option<&Resume>,
) -> Result<Rows<R>, ImportError> {
    let declaration = options
        .consent
        .as_ref()
        .map(|d| {
            clean_consent(ConsentInput {
                status: ConsentStatus::Explicit,
                source: Some(d.source.clone()),
            })
        })
        .transpose()
        .map_err(ImportError::InvalidConsent)?;

    let mut sample = sniff::read_sample(&mut input, SAMPLE_BYTES)?;
    let hint = RegionHint::of(options.region.code());
    // A part of a file is read as the whole read was reading it there: judged alone, its
    // sample could look like another encoding, or like binary data.
    let (encoding, late) = match at {
        Some(Resume {
            text: ResumeText::CodePage(code_page),
            ..
        }) => (Encoding::CodePage(code_page), false),
        Some(_) if sample.starts_with(b"\xEF\xBB\xBF") => (Encoding::Utf8Bom, false),
        Some(at) => (Encoding::Utf8, at.text == ResumeText::AsciiSoFar),
        None => {
            let encoding = sniff::detect_encoding(&sample, sample.len() < SAMPLE_BYTES)?;
            let encoding =
                sniff::as_the_region_writes(encoding, (&sample, sample.len() < SAMPLE_BYTES), hint);
            (encoding, encoding == Encoding::Utf8 && sample.is_ascii())
        }
    };
    let rows_code_page = match at {
        Some(at) => at.rows_code_page,
        None if encoding == Encoding::Utf8 || encoding == Encoding::Utf8Bom => {
            sniff::code_page_of_rows(&sample, sample.len() < SAMPLE_BYTES, hint)
        }
        None => None,
    };
    let mut read_as = Text::Utf8 {
        rows: rows_code_page,
    };
    let decided = Arc::new(OnceLock::new());
    let decoded = match encoding {
        _ if late => Decoded::Late(LateDecision::new(
            Cursor::new(sample).chain(input),
            decided.clone(),
            hint,
        )),
        Encoding::Utf8 => Decoded::Utf8(Cursor::new(sample).chain(input)),
        Encoding::Utf8Bom => {
            sample.drain(..3);
            Decoded::Utf8(Cursor::new(sample).chain(input))
        }
        // A part is read as the whole read was: a code page is read so only as bytes.
        Encoding::CodePage(code_page) if at.is_some() || read_as_bytes(code_page, &sample) => {
            read_as = Text::CodePage(code_page);
            Decoded::CodePage(Cursor::new(sample).chain(input))
        }
        Encoding::Utf16Le | Encoding::Utf16Be | Encoding::CodePage(_) => Decoded::Other(
            DecodeReaderBytesBuilder::new()
                .encoding(Some(encoding.encoding_rs()))
                .bom_override(true)
                .strip_bom(true)
                .build(Cursor::new(sample).chain(input)),
        ),
    };

    // The delimiter is judged on decoded text, so UTF-16 files are sniffed like any other.
    let mut decoded = decoded;
    // A code page's bytes read as such are judged as they are: none but ASCII is one of
    // the delimiters (see `read_as_bytes`).
    let text = sniff::read_sample(&mut decoded, SAMPLE_BYTES).map_err(read_error)?;
    if text.iter().all(u8::is_ascii_whitespace) {
        return Err(ImportError::Empty);
    }
    let excel_separator = sniff::excel_separator(&text);
    let delimiter = match (at, excel_separator) {
        // Judged on the file's start: the sample here holds a part of it.
        (Some(at), _) => at.delimiter,
        (None, Some(told)) => told,
        (None, None) => sniff::detect_delimiter(&text, text.len() < SAMPLE_BYTES),
    };
    let max_field = options.max_field_bytes;
    let mut records = RecordReader::new(
        Cursor::new(text).chain(decoded),
        delimiter,
        max_field,
        HEADER_FIELDS_READ,
    );
    records.read_as(read_as);
    records.hint_region(hint);
    if late {
        records.read_as_decided(decided);
    }

    let max_record = records.max_record();
    if excel_separator.is_some() {
        // Excel's `sep=;` line is a setting it does not show: the header is its row 1.
        records.next_record()?;
        let mut before_header = records.between();
        before_header.row = 0;
        records.resume(before_header);
    }
    let headers: Vec<String> = match records.next_record().map_err(read_error)? {
        None => return Err(ImportError::Empty),
        Some((_, Record::Fields(fields))) => fields.iter().map(|h| h.trim().to_owned()).collect(),
        Some((_, Record::TooManyFields)) => {
            return Err(ImportError::BadHeader(format!(
                "it has more than {HEADER_FIELDS_READ} columns"
            )));
        }
        Some((_, Record::FieldTooLong { field })) => {
            return Err(ImportError::BadHeader(format!(
                "column {} is longer than {max_field} bytes",
                field + 1
            )));
        }
        Some((_, Record::TooLong)) => {
            return Err(ImportError::BadHeader(format!(
                "it is longer than {max_record} bytes"
            )));
        }
        Some((_, Record::ForeignCodePage)) => return Err(ImportError::CodePage),
        Some((_, Record::UnclosedQuote { .. })) => {
            return Err(ImportError::BadHeader(
                "a quote in it is never closed, so the whole file was read as the header".into(),
            ));
        }
    };
    // Rows may carry the empty cells of the header's empty columns.
    records.set_max_fields(headers.len() + EXTRA_FIELDS);
    let mut headers = headers;
    if headers.len() > MAX_HEADER_FIELDS {
        while headers.last().is_some_and(String::is_empty) {
            headers.pop();
        }
    }
    if headers.len() > MAX_HEADER_FIELDS {
        return Err(ImportError::BadHeader(format!(
            "its columns run past the {MAX_HEADER_FIELDS}th up to its last named one (column \
             {})",
            headers.len()
        )));
    }
    let skipped = u64::from(encoding == Encoding::Utf8Bom) * 3;
    let mut left_out = 0;
    if let Some(at) = at {
        let offset = at.offset.saturating_sub(skipped);
        left_out = offset.saturating_sub(records.between().offset);
        records.resume(Between {
            offset,
            row: at.row,
            ended_at_cr: at.ended_at_cr,
        });
    }
    let refused_rows = crate::refused_rows_columns(&headers) > 0;
    if refused_rows {
        // A spreadsheet saving the report pads its header to its widest row, whose cells
        // past the file's columns must stay past the header.
        while headers.last().is_some_and(|h| h.trim().is_empty()) {
            headers.pop();
        }
    }
    let (plan, mapping) = plan(&headers, options.mapping.as_ref())?;
    let detected = Detected {
        encoding: encoding.label(),
        delimiter: char::from(delimiter),
        headers: headers.clone(),
        mapping,
        number_columns: plan.number_columns(&headers),
    };
    Ok(Rows {
        records,
        detected,
        validator: RowValidator::new(
            plan,
            headers,
            PhoneReader::new(options.region),
            declaration,
            options.find_duplicates,
        ),
        max_field,
        error: None,
        skipped,
        left_out,
        refused_rows,
    })
}

impl<R: Read> Rows<R> {
    pub fn detected(&self) -> &Detected {
        &self.detected
    }

    /// The encoding as read so far: the detected one, or the code page a file whose sample
    /// was all ASCII turned out to be in further on; and the encoding of its rows that are
    /// not in it, if any (`utf-8 with windows-1252 rows`, `windows-1251 with utf-8 rows`:
    /// the encoding the first was read in).
    pub fn encoding(&self) -> String {
        let file = match &self.records.input().get_ref().1 {
            Decoded::Late(late) => late.code_page().map(Encoding::label),
            _ => None,
        };
        let file = file.unwrap_or(self.detected.encoding);
        match self.records.other_encoding() {
            None => file.to_owned(),
            Some(rows) => format!("{file} with {} rows", rows.label()),
        }
    }

    /// Where the rows read so far end, for [`open_at`]; `None` where the file is decoded
    /// before it is read (UTF-16, a double-byte code page holding `|`): its text does not sit
    /// at the file's own offsets.
    pub fn resume_point(&self) -> Option<Resume> {
        let at = self.records.between();
        let bytes_of = |text: Text| match text {
            Text::CodePage(code_page) => Some(ResumeText::CodePage(code_page)),
            Text::Utf8 { .. } => None,
        };
        let text = match &self.records.input().get_ref().1 {
            Decoded::Utf8(_) => ResumeText::Utf8,
            Decoded::CodePage(_) => bytes_of(self.records.text())?,
            // However far ahead the decoder has read, a place before the first non-ASCII
            // byte is still undecided there.
            Decoded::Late(late) => match late.judged_at(at.offset - self.left_out) {
                Judged::AsciiSoFar => ResumeText::AsciiSoFar,
                Judged::Utf8 => ResumeText::Utf8,
                Judged::CodePage => bytes_of(self.records.text())?,
            },
            Decoded::Other(_) => return None,
        };
        Some(Resume {
            offset: at.offset + self.skipped,
            row: at.row,
            ended_at_cr: at.ended_at_cr,
            delimiter: self.delimiter(),
            text,
            // A part read on from before the first non-ASCII byte decides it again.
            rows_code_page: match (text, self.records.text()) {
                (ResumeText::Utf8, Text::Utf8 { rows }) => rows,
                _ => None,
            },
        })
    }

    /// The cells of the row last returned, as written (in UTF-8), for a report of refused
    /// rows that can be fixed and imported again; empty for a row refused unread (a field
    /// or the row too long, a quote never closed).
    pub fn cells(&self) -> Vec<String> {
        self.records
            .last_fields()
            .map(|fields| fields.iter().map(str::to_owned).collect())
            .unwrap_or_default()
    }

    fn delimiter(&self) -> u8 {
        u8::try_from(self.detected.delimiter).unwrap_or(b',')
    }

    /// After iterating: `Err` if reading the input failed part-way (the rows seen so far are
    /// all the rows that were read), or stopped where text in a code page it does not read
    /// starts after an all-ASCII start ([`ImportError::CodePage`]).
    pub fn finish(self) -> Result<(), ImportError> {
        match self.error {
            Some(e) => Err(read_error(e)),
            None => Ok(()),
        }
    }
}

/// A read error as the import reports it: text past an all-ASCII start in a code page it does
/// not read is the file's fault (see [`ForeignCodePage`]), anything else the stream's.
/// Whether a file in `code_page` can be parsed as its bytes, each record then read in it (or
/// in UTF-8: see [`Text::CodePage`]): none of its characters hold the bytes of a delimiter,
/// a quote or a line end. A double-byte code page's second byte may be `|` (0x7C), so such a
/// file whose start holds one is decoded whole, as before.
fn read_as_bytes(code_page: CodePage, sample: &[u8]) -> bool {
    code_page.is_single_byte() || !sample.contains(&b'|')
}

fn read_error(e: io::Error) -> ImportError {
    let ours = e
        .get_ref()
        .is_some_and(|inner| inner.is::<ForeignCodePage>());
    match ours {
        true => ImportError::CodePage,
        false => ImportError::Io(e),
    }
}

impl<R: Read> Iterator for Rows<R> {
    type Item = RowOutcome;

    fn next(&mut self) -> Option<RowOutcome> {
        if self.error.is_some() {
            return None;
        }
        let max_record = self.records.max_record();
        loop {
            let (row, record) = match self.records.next_record() {
                Ok(Some(record)) => record,
                Ok(None) => return None,
                Err(e) => {
                    self.error = Some(e);
                    return None;
                }
            };
            let invalid = |reason: String| {
                Some(RowOutcome::Invalid {
                    row,
                    reason,
                    opt_out: None,
                })
            };
            match record {
                Record::Fields(fields) => {
                    let fields = match self.refused_rows {
                        true => fields.unprotected(),
                        false => fields,
                    };
                    if let Some(outcome) = self.validator.validate(row, &fields) {
                        return Some(outcome);
                    }
                }
                Record::FieldTooLong { field } => {
                    return invalid(format!(
                        "field {} is longer than {} bytes",
                        self.validator.header(field),
                        self.max_field
                    ));
                }
                Record::TooManyFields => {
                    return invalid(format!(
                        "row has more than {} cells",
                        self.detected.headers.len() + EXTRA_FIELDS
                    ));
                }
                Record::TooLong => {
                    return invalid(format!("row is longer than {max_record} bytes"));
                }
                Record::ForeignCodePage => {
                    return invalid(
                        "row is not UTF-8 but in a code page this import does not read (it looks \
                         Cyrillic, Greek, Hebrew, Arabic, Thai or East Asian): save the file as \
                         \"CSV UTF-8\" and import it again"
                            .into(),
                    );
                }
                Record::UnclosedQuote { lines } => {
                    return invalid(format!(
                        "a quote opened in this row is never closed, so the rest of the file \
                         ({lines} more line(s)) was read into this row and not imported; close \
                         or remove the quote and import the file again"
                    ));
                }
            }
        }
    }
}
