//! A file whose sample is all ASCII: UTF-8 or a code page is decided at its first other byte.
//!
//! The encoding is guessed from the first 64 KiB. A large export from Windows Excel may hold
//! nothing but ASCII that far and an accented name further on: read as UTF-8, that row would
//! be rejected. So the choice waits for the first non-ASCII character, and is made as the
//! sample's is (`sniff::utf8_or_code_page`), on the 64 KiB from there on: UTF-8 (a row that
//! is not is then read in the code page those 64 KiB show such rows in, or alone in its own,
//! see `records`), or the code page that reads it, for the rest of the file (its bytes passed
//! on as they are for a single-byte one, so that a UTF-8 row further on is read as UTF-8);
//! text of another script that no code page reads with confidence (`code_page::guess`) stops
//! the import there.

use std::io::{self, Chain, Cursor, Read};
use std::sync::{Arc, OnceLock};
use std::{fmt, mem};

use encoding_rs_io::{DecodeReaderBytes, DecodeReaderBytesBuilder};

use crate::ImportError;
use crate::code_page::{self, RegionHint};
use crate::records::Text;
use crate::sniff::{self, Encoding, SAMPLE_BYTES};

type Rest<R> = Chain<Cursor<Vec<u8>>, R>;

/// Why reading stopped when the text after the ASCII is of another script that no code page
/// reads with confidence: `Rows` reports it as [`ImportError::CodePage`], the file's fault,
/// not as a read that broke off and may be retried.
#[derive(Debug)]
pub(crate) struct ForeignCodePage;

impl fmt::Display for ForeignCodePage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        ImportError::CodePage.fmt(f)
    }
}

impl std::error::Error for ForeignCodePage {}

pub(crate) struct LateDecision<R: Read> {
    state: State<R>,
    /// ASCII bytes read before the decision: where the first other byte sits.
    ascii: u64,
    /// How the records reader is to read what follows, once decided.
    decided: Arc<OnceLock<Text>>,
    hint: Option<RegionHint>,
}

enum State<R: Read> {
    Ascii(R),
    Utf8(Rest<R>),
    /// A single-byte code page's bytes, which the records reader reads in it.
    Bytes(Rest<R>, Encoding),
    CodePage(DecodeReaderBytes<Rest<R>, Vec<u8>>, Encoding),
    /// While moving from `Ascii` to a decision, and after a read error or a refusal during it.
    Deciding,
}

/// How the text at some place of the input is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Judged {
    /// Everything before it is ASCII: the decision is still to come there.
    AsciiSoFar,
    Utf8,
    CodePage,
}

impl<R: Read> LateDecision<R> {
    /// `decided` is set to how the records that follow are to be read once it is known.
    pub(crate) fn new(input: R, decided: Arc<OnceLock<Text>>, hint: Option<RegionHint>) -> Self {
        Self {
            state: State::Ascii(input),
            ascii: 0,
            decided,
            hint,
        }
    }

    /// The code page what came after the ASCII is read in, if not UTF-8.
    pub(crate) fn code_page(&self) -> Option<Encoding> {
        match self.state {
            State::CodePage(_, encoding) | State::Bytes(_, encoding) => Some(encoding),
            _ => None,
        }
    }

    /// How the input is read at `offset` (bytes from its start): however far ahead the
    /// reader has read, a place before the first non-ASCII byte is still undecided.
    pub(crate) fn judged_at(&self, offset: u64) -> Judged {
        match &self.state {
            State::Ascii(_) | State::Deciding => Judged::AsciiSoFar,
            _ if offset <= self.ascii => Judged::AsciiSoFar,
            State::Utf8(_) => Judged::Utf8,
            State::CodePage(..) | State::Bytes(..) => Judged::CodePage,
        }
    }

    /// Decides on `first` (the bytes from the first non-ASCII one on) and the input after it.
    fn decide(&mut self, mut first: Vec<u8>) -> io::Result<()> {
        let State::Ascii(mut input) = mem::replace(&mut self.state, State::Deciding) else {
            return Ok(());
        };
        // The import ends on a read error: nothing is left to decide.
        let wanted = SAMPLE_BYTES.saturating_sub(first.len()) as u64;
        let complete = (&mut input).take(wanted).read_to_end(&mut first)? < wanted as usize;
        // As the sample's would be; the rows before it are read.
        let (encoding, rows) = sniff::encoding_and_rows(&first, complete)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, ForeignCodePage))?;
        let encoding = sniff::as_the_region_writes(encoding, (&first, complete), self.hint);
        let rows = match (rows, self.hint) {
            (Some(rows), Some(hint)) => Some(hint.apply(rows, &code_page::not_utf8_runs(&first))),
            _ => rows,
        };
        let rest = Cursor::new(first).chain(input);
        let read_as = match encoding {
            Encoding::CodePage(code_page) if code_page.is_single_byte() => {
                Text::CodePage(code_page)
            }
            // Decoded here: a double-byte code page's characters may hold a `|`.
            Encoding::CodePage(_) => Text::Utf8 { rows: None },
            _ => Text::Utf8 { rows },
        };
        // Set once: the state was `Ascii` until now.
        let _ = self.decided.set(read_as);
        self.state = match encoding {
            Encoding::CodePage(_) if matches!(read_as, Text::CodePage(_)) => {
                State::Bytes(rest, encoding)
            }
            Encoding::CodePage(_) => State::CodePage(
                DecodeReaderBytesBuilder::new()
                    .encoding(Some(encoding.encoding_rs()))
                    .build(rest),
                encoding,
            ),
            _ => State::Utf8(rest),
        };
        Ok(())
    }
}

impl<R: Read> Read for LateDecision<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = match &mut self.state {
            State::Ascii(input) => input.read(buf)?,
            State::Utf8(rest) | State::Bytes(rest, _) => return rest.read(buf),
            State::CodePage(decoded, _) => return decoded.read(buf),
            State::Deciding => return Err(io::Error::other("the encoding decision failed")),
        };
        let Some(at) = buf[..n].iter().position(|b| !b.is_ascii()) else {
            self.ascii += n as u64;
            return Ok(n);
        };
        self.ascii += at as u64;
        self.decide(buf[at..n].to_vec())?;
        if at > 0 {
            return Ok(at);
        }
        self.read(buf)
    }
}
