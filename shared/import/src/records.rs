//! CSV records with bounded memory.
//!
//! The `csv` crate's `Reader` grows its record buffer to fit any field, so one 10 MB cell
//! costs 10 MB (and a file that is one unterminated quote costs the whole file). This reader
//! drives `csv_core` (the `csv` crate's own state machine) with a record buffer we own: a
//! field may reach `max_field` bytes; past that the rest of its record is parsed into a small
//! scratch buffer and thrown away, and the record is reported as too long. Memory is at most
//! one record of capped fields plus the 64 KiB input buffer, whatever the file holds.

use std::io::{self, Read};
use std::sync::{Arc, OnceLock};

use csv_core::ReadRecordResult;
use unicode_normalization::{IsNormalized, UnicodeNormalization};

use crate::code_page::{self, CodePage, RegionHint};
use crate::sniff::Encoding;

const INPUT_BUFFER: usize = 64 * 1024;
const SCRATCH: usize = 8 * 1024;

/// One record, or why it was dropped. Borrowed from the reader until the next call.
pub(crate) enum Record<'a> {
    Fields(Fields<'a>),
    /// Field number `field` (0-based) is longer than the cap.
    FieldTooLong {
        field: usize,
    },
    /// More fields than the reader accepts (see [`RecordReader::new`]).
    TooManyFields,
    /// All fields together are longer than [`RecordReader::max_record`].
    TooLong,
    /// The file ended inside a quoted field that took in the `lines` lines after this one: a
    /// quote opened on this row and never closed, so the rows after it were read as its text.
    UnclosedQuote {
        lines: u64,
    },
    /// A record of a UTF-8 file in another script that no code page reads with confidence
    /// (see `code_page::guess`).
    ForeignCodePage,
}

pub(crate) struct Fields<'a> {
    text: &'a str,
    ends: &'a [usize],
    /// Cells as a report of refused rows protected them: see [`Fields::unprotected`].
    protected: bool,
}

impl<'a> Fields<'a> {
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// The field at `i`, or "" past the end (short rows read as empty cells).
    pub(crate) fn get(&self, i: usize) -> &'a str {
        if i >= self.ends.len() {
            return "";
        }
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        let field = &self.text[start..self.ends[i]];
        if self.protected
            && let Some(cell) = field.strip_prefix('\'')
            && cell.starts_with(crate::FORMULA_STARTS)
        {
            return cell;
        }
        field
    }

    /// These fields as a report of refused rows wrote them: each cell it protected against
    /// formula injection (`crate::csv_safe_cell`) reads as it was.
    pub(crate) fn unprotected(self) -> Self {
        Self {
            protected: true,
            ..self
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &'a str> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }
}

/// A record's text as UTF-8, if each of its fields is: csv-core joins the fields without
/// their delimiters, so two invalid halves (`\xC3` `,` `\xBC`) can join into a valid `ü`.
fn utf8<'t>(text: &'t [u8], ends: &[usize]) -> Option<&'t str> {
    let text = std::str::from_utf8(text).ok()?;
    ends.iter()
        .all(|&end| text.is_char_boundary(end))
        .then_some(text)
}

/// Where the text of the record last read is.
#[derive(Debug, Clone, Copy)]
enum Held {
    /// In `out`, as read.
    Out,
    Decoded,
    Normalized,
}

/// Whether `text` is in normalization form C, as nearly all text is: the letters of the
/// scripts most lists are written in are, and the quick check decides most other text without
/// composing it.
fn is_nfc(text: &str) -> bool {
    // Below U+0300, where the combining accents start, whose lead byte is 0xCC.
    if text.bytes().all(|b| b < 0xCC) || text.chars().all(stays_composed) {
        return true;
    }
    match unicode_normalization::is_nfc_quick(text.chars()) {
        IsNormalized::Yes => true,
        IsNormalized::No => false,
        IsNormalized::Maybe => text.chars().eq(text.nfc()),
    }
}

/// Whether `c` is in normalization form C whatever surrounds it: no mark that composes with or
/// reorders against the character before it, and no character normalization replaces. Latin
/// (to the combining accents at U+0300), Greek and Cyrillic letters, Hebrew and Arabic letters
/// without their points, kana, hangul syllables and the unified ideographs: a cheap first look
/// (the quick check costs a fifth of a Cyrillic file's parse).
fn stays_composed(c: char) -> bool {
    matches!(
        u32::from(c),
        0..=0x2FF
            | 0x386
            | 0x388..=0x3CE
            | 0x400..=0x482
            | 0x48A..=0x4FF
            | 0x5D0..=0x5EA
            | 0x620..=0x64A
            | 0x2010..=0x2027
            | 0x2030..=0x205E
            | 0x3041..=0x3096
            | 0x30A1..=0x30FA
            | 0x4E00..=0x9FFF
            | 0xAC00..=0xD7A3
    )
}

/// How a reader takes its input's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Text {
    /// UTF-8. A record that is not is read in `rows`, the code page the file's other such
    /// rows are in, if it suits the record (see [`code_page::guess_row_in`]).
    Utf8 { rows: Option<CodePage> },
    /// The bytes of a code page whose bytes below 0x80 are always ASCII (as delimiters,
    /// quotes and line ends are): a record that UTF-8 reads as it was written
    /// ([`code_page::written_in_utf8`]) is read as UTF-8, so rows merged in from a UTF-8
    /// export (or a UTF-8 header) keep their names.
    CodePage(CodePage),
}

/// Where [`decode_other`] puts a record.
struct Decoded<'r> {
    text: &'r mut String,
    ends: &'r mut Vec<usize>,
    first_encoding: &'r mut Option<Encoding>,
}

/// A record read in `code_page` whole, each field apart.
fn decode_in<'r>(
    code_page: CodePage,
    bytes: &[u8],
    ends: &[usize],
    into: Decoded<'r>,
) -> Record<'r> {
    into.text.clear();
    into.ends.clear();
    let mut start = 0;
    for &end in ends {
        let field = &bytes[start..end];
        let mut decoder = code_page.new_decoder_without_bom_handling();
        if let Some(most) = decoder.max_utf8_buffer_length(field.len()) {
            into.text.reserve(most);
        }
        // With room reserved for the most the field decodes to, it is decoded whole.
        let _ = decoder.decode_to_string(field, into.text, true);
        into.ends.push(into.text.len());
        start = end;
    }
    Record::Fields(Fields {
        text: into.text,
        ends: into.ends,
        protected: false,
    })
}

/// A record of a UTF-8 file that is not UTF-8, read in the code page that reads what UTF-8
/// cannot of it. In a Latin one, only those bytes are read so and everything else stays UTF-8:
/// a row pasted from a Windows (or old Mac) tool into a UTF-8 export is imported as its author
/// wrote it, and a note's Windows dash beside UTF-8 names (`Renée \x96 VIP`) garbles nothing.
/// In another script's (a row pasted from a Cyrillic or Japanese tool), each field is read in
/// it whole: its bytes may hold well-formed UTF-8 pairs by chance.
fn decode_other<'r>(
    bytes: &[u8],
    ends: &[usize],
    (rows, hint): (Option<CodePage>, Option<RegionHint>),
    into: Decoded<'r>,
) -> Record<'r> {
    // Well-formed UTF-8 that does not read as names: the code page's bytes, all of them.
    let whole = utf8(bytes, ends).is_some();
    let judged = match whole {
        true => bytes.to_vec(),
        false => not_utf8_fields(bytes, ends),
    };
    let Some(code_page) = code_page::guess_row_in(&judged, rows, hint) else {
        return Record::ForeignCodePage;
    };
    into.first_encoding
        .get_or_insert(Encoding::CodePage(code_page));
    if whole || !code_page::is_latin(code_page) {
        return decode_in(code_page, bytes, ends, into);
    }
    into.text.clear();
    into.ends.clear();
    let mut start = 0;
    for &end in ends {
        for chunk in bytes[start..end].utf8_chunks() {
            // A pair of the code page's bytes well-formed by chance: `É’` is not `ɒ`.
            for c in chunk.valid().chars() {
                match c.is_ascii() || code_page::in_names(c) {
                    true => into.text.push(c),
                    false => into.text.push_str(
                        &code_page
                            .decode_without_bom_handling(c.to_string().as_bytes())
                            .0,
                    ),
                }
            }
            let (text, _) = code_page.decode_without_bom_handling(chunk.invalid());
            into.text.push_str(&text);
        }
        into.ends.push(into.text.len());
        start = end;
    }
    Record::Fields(Fields {
        text: into.text,
        ends: into.ends,
        protected: false,
    })
}

/// What of a record is not UTF-8 ([`code_page::not_utf8_runs`]), judged on its fields apart,
/// as the file had them (csv-core joins them: `Zoë` and `Ørsted` would make one run of
/// accents).
fn not_utf8_fields(bytes: &[u8], ends: &[usize]) -> Vec<u8> {
    let mut fields = Vec::with_capacity(bytes.len() + ends.len());
    let mut start = 0;
    for &end in ends {
        fields.extend_from_slice(&bytes[start..end]);
        fields.push(b',');
        start = end;
    }
    code_page::not_utf8_runs(&fields)
}

pub(crate) struct RecordReader<R> {
    input: R,
    core: csv_core::Reader,
    buf: Box<[u8]>,
    pos: usize,
    len: usize,
    eof: bool,
    done: bool,
    out: Vec<u8>,
    ends: Vec<usize>,
    text: Text,
    /// How to read the input once a decision further on is made (see `late.rs`): until
    /// then, `text`.
    decided: Option<Arc<OnceLock<Text>>>,
    /// The tenant's country, for a row of a UTF-8 file read alone in its code page.
    hint: Option<RegionHint>,
    /// A record not read as it is, decoded (see [`RecordReader::other_encoding`]).
    decoded: String,
    decoded_ends: Vec<usize>,
    /// The encoding of the first record not read in the file's own.
    other_encoding: Option<Encoding>,
    max_field: usize,
    max_fields: usize,
    max_record: usize,
    /// The spreadsheet row of the last record: blank lines, which csv-core skips, are rows
    /// of their own to anyone who opens the file.
    row: u64,
    /// The last record ended at a `\r`: a `\n` right after it is the rest of its line end.
    ended_at_cr: bool,
    /// Input bytes taken by the records read so far.
    consumed: u64,
    /// The last record's length and field count in `out`, when it was returned as fields,
    /// and where its text is.
    last: Option<(usize, usize, Held)>,
    /// A record's text in normalization form C, when it was not (see `next_record`).
    normalized: String,
    normalized_ends: Vec<usize>,
}

/// Where the reader stands between two records: enough to read on from there with a reader
/// of its own (see [`RecordReader::resume`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Between {
    /// Input bytes before the next record (blank lines before it included).
    pub(crate) offset: u64,
    /// The spreadsheet row of the record before it.
    pub(crate) row: u64,
    /// The record before it ended at a `\r` (a `\n` next is the rest of that line end).
    pub(crate) ended_at_cr: bool,
}

impl<R: Read> RecordReader<R> {
    /// `input` is UTF-8 (the decoder's output) unless [`Self::read_as`] says otherwise.
    /// Records with more than `max_fields`
    /// fields are dropped as [`Record::TooManyFields`], and records longer than
    /// [`Self::max_record`] bytes in all as [`Record::TooLong`].
    pub(crate) fn new(input: R, delimiter: u8, max_field: usize, max_fields: usize) -> Self {
        // The default terminator, CRLF, takes `\r\n`, `\n` and a lone `\r` (old Mac Excel)
        // each as one line end.
        let core = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
        Self {
            input,
            core,
            buf: vec![0; INPUT_BUFFER].into_boxed_slice(),
            pos: 0,
            len: 0,
            eof: false,
            done: false,
            out: Vec::new(),
            ends: Vec::new(),
            text: Text::Utf8 { rows: None },
            decided: None,
            hint: None,
            decoded: String::new(),
            decoded_ends: Vec::new(),
            other_encoding: None,
            max_field: max_field.max(1),
            max_fields: max_fields.max(1),
            max_record: (4 * max_field).max(1 << 20),
            row: 0,
            ended_at_cr: false,
            consumed: 0,
            last: None,
            normalized: String::new(),
            normalized_ends: Vec::new(),
        }
    }

    /// The fields of the last record, if it was returned as [`Record::Fields`] (a report of
    /// refused rows shows them as written).
    pub(crate) fn last_fields(&self) -> Option<Fields<'_>> {
        let (out_len, nends, held) = self.last?;
        Some(match held {
            Held::Out => Fields {
                // Taken as it was: its bytes are UTF-8.
                text: utf8(&self.out[..out_len], &self.ends[..nends])?,
                ends: &self.ends[..nends],
                protected: false,
            },
            Held::Decoded => Fields {
                text: &self.decoded,
                ends: &self.decoded_ends,
                protected: false,
            },
            Held::Normalized => Fields {
                text: &self.normalized,
                ends: &self.normalized_ends,
                protected: false,
            },
        })
    }

    /// Reads the input's bytes as `text` says from here on.
    pub(crate) fn read_as(&mut self, text: Text) {
        self.text = text;
    }

    /// Reads a row of a UTF-8 file that is not UTF-8, when nothing else tells its code page,
    /// as the tenant's country writes.
    pub(crate) fn hint_region(&mut self, hint: Option<RegionHint>) {
        self.hint = hint;
    }

    /// Reads the input's bytes as `decided` says once it is set.
    pub(crate) fn read_as_decided(&mut self, decided: Arc<OnceLock<Text>>) {
        self.decided = Some(decided);
    }

    /// How the input's bytes are read now.
    pub(crate) fn text(&self) -> Text {
        let decided = self.decided.as_ref().and_then(|decided| decided.get());
        decided.copied().unwrap_or(self.text)
    }

    /// Where the reader stands: after the last record it returned.
    pub(crate) fn between(&self) -> Between {
        Between {
            offset: self.consumed,
            row: self.row,
            ended_at_cr: self.ended_at_cr,
        }
    }

    /// Reads on as if the records up to `at` had been read: the input that follows is the
    /// input from `at.offset` on.
    pub(crate) fn resume(&mut self, at: Between) {
        self.consumed = at.offset;
        self.row = at.row;
        self.ended_at_cr = at.ended_at_cr;
    }

    pub(crate) fn input(&self) -> &R {
        &self.input
    }

    /// The cap on a whole record: four fields at the cap, at least 1 MiB. It keeps a row of
    /// many fields just under the cap from holding `max_fields * max_field` bytes.
    pub(crate) fn max_record(&self) -> usize {
        self.max_record
    }

    /// Changes the field cap, e.g. to the header's width once it is known.
    pub(crate) fn set_max_fields(&mut self, max_fields: usize) {
        self.max_fields = max_fields.max(1);
    }

    fn fill(&mut self) -> io::Result<()> {
        if self.pos == self.len && !self.eof {
            self.pos = 0;
            self.len = loop {
                match self.input.read(&mut self.buf) {
                    Ok(n) => break n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                }
            };
            self.eof = self.len == 0;
        }
        Ok(())
    }

    /// The next record and its row (1 for the first; a blank line before a record counts as
    /// a row, as a spreadsheet shows it), `None` at the end of the input.
    pub(crate) fn next_record(&mut self) -> io::Result<Option<(u64, Record<'_>)>> {
        self.last = None;
        if self.done {
            return Ok(None);
        }
        // Blank lines are the line ends csv-core skips before the record; counted here, as
        // its own line counter counts `\n` alone and so misses them in old Mac (CR) files.
        let mut blank = BlankLines::after(self.ended_at_cr);
        let mut inside = 0u64;
        let mut last_byte = None;
        // Quote characters read for the record: an odd count at the end of the file means
        // its last quoted field was never closed (stray quotes inside unquoted fields aside).
        let mut quotes = 0usize;
        let mut ended_by_eof;
        let mut out_len = 0;
        let mut nends = 0;
        // Set once the record is known to be dropped; the rest is parsed into scratch.
        let mut dropped: Option<Dropped> = None;
        let mut scratch = [0u8; SCRATCH];
        let mut scratch_ends = [0usize; 64];
        loop {
            self.fill()?;
            let input = &self.buf[self.pos..self.len];
            let (result, nin) = if dropped.is_some() {
                let (result, nin, nout, _) =
                    self.core
                        .read_record(input, &mut scratch, &mut scratch_ends);
                inside += newlines(&scratch[..nout]);
                (result, nin)
            } else {
                // Room for the current field to reach `max_field + 1` bytes: one byte over
                // the cap tells "too long" from "exactly the cap".
                let field_start = if nends == 0 { 0 } else { self.ends[nends - 1] };
                let field_cap = field_start + self.max_field + 1;
                let limit = field_cap.min(self.max_record + 1);
                if self.out.len() < limit {
                    self.out.resize(limit, 0);
                }
                if self.ends.len() < (nends + 16).min(self.max_fields + 1) {
                    self.ends.resize((nends + 16).min(self.max_fields + 1), 0);
                }
                let (result, nin, nout, nend) = self.core.read_record(
                    input,
                    &mut self.out[out_len..limit],
                    &mut self.ends[nends..],
                );
                inside += newlines(&self.out[out_len..out_len + nout]);
                out_len += nout;
                nends += nend;
                if let Some(field) = (nends.saturating_sub(nend)..nends)
                    .find(|&i| self.field_len(i) > self.max_field)
                {
                    dropped = Some(Dropped::FieldTooLong(field));
                } else if result == ReadRecordResult::OutputFull && nend == 0 {
                    dropped = Some(if limit == field_cap {
                        Dropped::FieldTooLong(nends)
                    } else {
                        Dropped::RecordTooLong
                    });
                } else if result == ReadRecordResult::OutputEndsFull
                    && self.ends.len() > self.max_fields
                {
                    dropped = Some(Dropped::TooManyFields);
                }
                (result, nin)
            };
            if nin > 0 {
                blank.read(&input[..nin]);
                last_byte = Some(input[nin - 1]);
                quotes += input[..nin].iter().filter(|&&b| b == b'"').count();
            }
            ended_by_eof = input.is_empty();
            self.pos += nin;
            self.consumed += nin as u64;
            match result {
                ReadRecordResult::InputEmpty
                | ReadRecordResult::OutputFull
                | ReadRecordResult::OutputEndsFull => continue,
                ReadRecordResult::Record => break,
                ReadRecordResult::End => {
                    self.done = true;
                    return Ok(None);
                }
            }
        }
        let own_end = u64::from(matches!(last_byte, Some(b'\n' | b'\r')));
        self.ended_at_cr = last_byte == Some(b'\r');
        self.row += 1 + blank.count;
        let unclosed = ended_by_eof && quotes % 2 == 1 && self.swallowed(&dropped, nends, out_len);
        let read = dropped.is_none() && !unclosed;
        let text = self.text();
        let (bytes, ends) = (&self.out[..out_len], &self.ends[..nends]);
        let as_utf8 = match (utf8(bytes, ends).filter(|_| read), text) {
            // In a file known to hold rows in a code page, a row that reads as UTF-8 but not
            // as names is one of them (Polish `JÓŹWIAK` is UTF-8's `JӏWIAK`).
            (Some(text), Text::Utf8 { rows: Some(_) })
                if !text.is_ascii() && !code_page::reads_as_names(text) =>
            {
                None
            }
            (Some(text), Text::Utf8 { .. }) => Some(text),
            (Some(text), Text::CodePage(_)) if text.is_ascii() => Some(text),
            (Some(text), Text::CodePage(code_page)) => {
                code_page::written_in_utf8(text, ends, code_page).then(|| {
                    self.other_encoding.get_or_insert(Encoding::Utf8);
                    text
                })
            }
            (None, _) => None,
        };
        let record = match dropped {
            _ if unclosed => Record::UnclosedQuote {
                lines: self.lines_swallowed(&dropped, nends, inside.saturating_sub(own_end)),
            },
            Some(Dropped::FieldTooLong(field)) => Record::FieldTooLong { field },
            Some(Dropped::TooManyFields) => Record::TooManyFields,
            Some(Dropped::RecordTooLong) => Record::TooLong,
            None => {
                let into = Decoded {
                    text: &mut self.decoded,
                    ends: &mut self.decoded_ends,
                    first_encoding: &mut self.other_encoding,
                };
                match (as_utf8, text) {
                    (Some(text), _) => Record::Fields(Fields {
                        text,
                        ends,
                        protected: false,
                    }),
                    (None, Text::CodePage(code_page)) => decode_in(code_page, bytes, ends, into),
                    (None, Text::Utf8 { rows }) => {
                        decode_other(bytes, ends, (rows, self.hint), into)
                    }
                }
            }
        };
        let mut held = match as_utf8 {
            Some(_) => Held::Out,
            None => Held::Decoded,
        };
        let record = match record {
            // Composed, as keyboards type it: a name written `e` and an accent (macOS, and
            // Vietnamese Windows-1258, write so) is the same name, and its message's accent
            // stays one GSM-7 character instead of sending the whole message as UCS-2.
            Record::Fields(fields) if !fields.text.is_ascii() && !is_nfc(fields.text) => {
                self.normalized.clear();
                self.normalized_ends.clear();
                for field in fields.iter() {
                    self.normalized.extend(field.nfc());
                    self.normalized_ends.push(self.normalized.len());
                }
                held = Held::Normalized;
                Record::Fields(Fields {
                    text: &self.normalized,
                    ends: &self.normalized_ends,
                    protected: false,
                })
            }
            other => other,
        };
        if read {
            self.last = Some((out_len, nends, held));
        }
        Ok(Some((self.row, record)))
    }

    /// The encoding of the first record not read in the file's own, if one was not: a code
    /// page in a UTF-8 file, UTF-8 in a code page's.
    pub(crate) fn other_encoding(&self) -> Option<Encoding> {
        self.other_encoding
    }

    /// Whether the record's last field spans lines, as a quote left open at the end of the
    /// file makes it (all it swallowed is in that field). A dropped record's text is gone:
    /// any line end inside it counts.
    fn swallowed(&self, dropped: &Option<Dropped>, nends: usize, out_len: usize) -> bool {
        match dropped {
            Some(_) => true,
            None => {
                let last = self.last_field(nends, out_len);
                last.contains(&b'\n') || last.contains(&b'\r')
            }
        }
    }

    /// The lines after the open quote's: line ends in the last field, its final one (the
    /// file's own last line end) aside; `counted` for a dropped record.
    fn lines_swallowed(&self, dropped: &Option<Dropped>, nends: usize, counted: u64) -> u64 {
        if dropped.is_some() {
            return counted;
        }
        let last = self.last_field(nends, usize::MAX);
        let last = last
            .strip_suffix(b"\r\n")
            .or_else(|| last.strip_suffix(b"\n"))
            .or_else(|| last.strip_suffix(b"\r"))
            .unwrap_or(last);
        let crlf = last.windows(2).filter(|w| w == b"\r\n").count();
        let ends = last.iter().filter(|&&b| b == b'\n' || b == b'\r').count();
        (ends - crlf) as u64
    }

    fn last_field(&self, nends: usize, out_len: usize) -> &[u8] {
        match nends {
            0 => &self.out[..out_len.min(self.out.len())],
            n => {
                let start = if n == 1 { 0 } else { self.ends[n - 2] };
                &self.out[start..self.ends[n - 1]]
            }
        }
    }

    fn field_len(&self, i: usize) -> usize {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.ends[i] - start
    }
}

enum Dropped {
    FieldTooLong(usize),
    TooManyFields,
    RecordTooLong,
}

/// Line ends in `bytes`: `\r\n`, a lone `\n` and a lone `\r` count one each.
fn newlines(bytes: &[u8]) -> u64 {
    let lfs = bytes.iter().filter(|&&b| b == b'\n').count();
    let crs = bytes.iter().filter(|&&b| b == b'\r').count();
    if crs == 0 {
        return lfs as u64;
    }
    let crlfs = bytes.windows(2).filter(|w| w == b"\r\n").count();
    (crs + lfs - crlfs) as u64
}

/// Counts the blank lines at the start of a record's input, which may arrive in pieces.
struct BlankLines {
    count: u64,
    after_cr: bool,
    done: bool,
}

impl BlankLines {
    /// `after_cr`: the input before ended at a `\r`, so a `\n` first ends no line of its own.
    fn after(after_cr: bool) -> Self {
        Self {
            count: 0,
            after_cr,
            done: false,
        }
    }

    fn read(&mut self, bytes: &[u8]) {
        for &b in bytes {
            if self.done {
                return;
            }
            match b {
                b'\r' => self.count += 1,
                b'\n' if !self.after_cr => self.count += 1,
                b'\n' => {}
                _ => self.done = true,
            }
            self.after_cr = b == b'\r';
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_stays_composed_is_composed_and_composes_with_nothing_before_it() {
        let chars = (0..=0x10FFFF).filter_map(char::from_u32);
        for c in chars.filter(|&c| stays_composed(c)) {
            let quick = unicode_normalization::is_nfc_quick(std::iter::once(c));
            assert_eq!(quick, IsNormalized::Yes, "{:X}", u32::from(c));
            let class = unicode_normalization::char::canonical_combining_class(c);
            assert_eq!(class, 0, "{:X}", u32::from(c));
        }
    }

    fn read_all(text: &[u8], max_field: usize) -> Vec<Result<Vec<String>, String>> {
        let mut reader = RecordReader::new(text, b',', max_field, 8);
        let mut all = Vec::new();
        while let Some((_, record)) = reader.next_record().unwrap() {
            all.push(match record {
                Record::Fields(f) => Ok(f.iter().map(str::to_owned).collect()),
                Record::FieldTooLong { field } => Err(format!("long {field}")),
                Record::TooManyFields => Err("many".into()),
                Record::TooLong => Err("record".into()),
                Record::UnclosedQuote { lines } => Err(format!("unclosed, {lines} lines")),
                Record::ForeignCodePage => Err("code page".into()),
            });
        }
        all
    }

    #[test]
    fn line_ends_and_quotes() {
        let text = b"a,b\r\n1,\"x,\"\"y\"\"\nz\"\r2,3\n4,5";
        assert_eq!(
            read_all(text, 100),
            vec![
                Ok(vec!["a".into(), "b".into()]),
                Ok(vec!["1".into(), "x,\"y\"\nz".into()]),
                Ok(vec!["2".into(), "3".into()]),
                Ok(vec!["4".into(), "5".into()]),
            ]
        );
    }

    #[test]
    fn a_quote_never_closed_is_told_apart_from_one_spanning_lines() {
        let unclosed = b"a,b\n1,\"abc\n2,x\n3,y\n";
        assert_eq!(
            read_all(unclosed, 100),
            vec![
                Ok(vec!["a".into(), "b".into()]),
                Err("unclosed, 2 lines".into()),
            ]
        );
        // Without a last line end, and with a tail longer than a field may be.
        let long = format!("a,b\n1,\"abc\n{}", "2,x\n".repeat(40));
        assert_eq!(
            read_all(long.as_bytes(), 100)[1],
            Err("unclosed, 40 lines".into())
        );
        // Closed quotes spanning lines, at the end of the file too, are fields as usual; so
        // is a quote left open on the last line alone, which swallowed nothing.
        // Old Mac line ends.
        assert_eq!(
            read_all(b"a,b\r1,\"abc\r2,x\r3,y", 100)[1],
            Err("unclosed, 2 lines".into())
        );
        for text in [
            &b"a,b\n1,\"x\ny\"\n"[..],
            b"a,b\n1,\"x\ny\"",
            b"a,b\n1,\"x",
            // A stray quote in an unquoted field, after a closed multi-line one.
            b"a,b,c\n\"x\ny\",1,5'10\"",
        ] {
            assert!(read_all(text, 100).iter().all(Result::is_ok), "{text:?}");
        }
    }

    fn rows(text: &[u8], max_field: usize) -> Vec<u64> {
        let mut reader = RecordReader::new(text, b',', max_field, 8);
        let mut rows = Vec::new();
        while let Some((row, _)) = reader.next_record().unwrap() {
            rows.push(row);
        }
        rows
    }

    #[test]
    fn rows_are_numbered_as_a_spreadsheet_shows_them() {
        // Blank lines are rows; a quoted field's line breaks are not.
        assert_eq!(
            rows(b"a,b\n1,2\n\n\n3,\"x\ny\"\r\n\r\n4,5\n\n6,7", 100),
            [1, 2, 5, 7, 9]
        );
        // The same for records dropped as too long, whose bytes are not kept.
        let long = format!("a\n\n1,\"{}\n{}\"\n\n2\n", "x".repeat(50), "y".repeat(50));
        assert_eq!(rows(long.as_bytes(), 10), [1, 3, 5]);
        assert_eq!(rows(b"a\n1\n", 100), [1, 2]);
        // Old Mac line ends, and a CRLF file's blank lines.
        assert_eq!(
            rows(b"a,b\r1,2\r\r\r3,\"x\ry\"\r\r4,5\r\r6,7", 100),
            [1, 2, 5, 7, 9]
        );
        assert_eq!(
            rows(b"a,b\r\n1,2\r\n\r\n\r\n3,\"x\r\ny\"\r\n\r\n4,5\r\n", 100),
            [1, 2, 5, 7]
        );
        let long = format!("a\r\r1,\"{}\r{}\"\r\r2\r", "x".repeat(50), "y".repeat(50));
        assert_eq!(rows(long.as_bytes(), 10), [1, 3, 5]);
    }

    #[test]
    fn long_fields_and_wide_records_are_dropped_alone() {
        let long = "x".repeat(1000);
        let text = format!("a,b\n1,{long}\n{long},2\n1,2,3,4,5,6,7,8,9,10\n3,4\n");
        let want: Vec<Result<Vec<String>, String>> = vec![
            Ok(vec!["a".into(), "b".into()]),
            Err("long 1".into()),
            Err("long 0".into()),
            Err("many".into()),
            Ok(vec!["3".into(), "4".into()]),
        ];
        assert_eq!(read_all(text.as_bytes(), 10), want);
        // Exactly the cap is fine.
        assert_eq!(
            read_all(b"abcdefghij\n", 10),
            vec![Ok(vec!["abcdefghij".into()])]
        );
    }
}
