//! A file whose sample is all ASCII: UTF-8 or Windows-1252 is decided at its first other byte.
//!
//! The encoding is guessed from the first 64 KiB. A large export from Windows Excel may hold
//! nothing but ASCII that far and an accented name further on: read as UTF-8, that row would
//! be rejected. So the choice waits for the first non-ASCII character: a well-formed UTF-8
//! sequence means UTF-8, anything else Windows-1252, for the rest of the file.

use std::io::{self, Chain, Cursor, Read};
use std::mem;

use encoding_rs_io::{DecodeReaderBytes, DecodeReaderBytesBuilder};

/// The longest UTF-8 sequence: enough bytes to judge the first non-ASCII character.
const LONGEST_CHAR: usize = 4;

type Rest<R> = Chain<Cursor<Vec<u8>>, R>;

pub(crate) struct LateDecision<R: Read> {
    state: State<R>,
    /// ASCII bytes read before the decision: where the first other byte sits.
    ascii: u64,
}

enum State<R: Read> {
    Ascii(R),
    Utf8(Rest<R>),
    Windows1252(DecodeReaderBytes<Rest<R>, Vec<u8>>),
    /// While moving from `Ascii` to a decision, and after a read error during it.
    Deciding,
}

/// How the text at some place of the input is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Judged {
    /// Everything before it is ASCII: the decision is still to come there.
    AsciiSoFar,
    Utf8,
    Windows1252,
}

impl<R: Read> LateDecision<R> {
    pub(crate) fn new(input: R) -> Self {
        Self {
            state: State::Ascii(input),
            ascii: 0,
        }
    }

    /// Whether what came after the ASCII is read as Windows-1252.
    pub(crate) fn is_windows_1252(&self) -> bool {
        matches!(self.state, State::Windows1252(_))
    }

    /// How the input is read at `offset` (bytes from its start): however far ahead the
    /// reader has read, a place before the first non-ASCII byte is still undecided.
    pub(crate) fn judged_at(&self, offset: u64) -> Judged {
        match &self.state {
            State::Ascii(_) | State::Deciding => Judged::AsciiSoFar,
            _ if offset <= self.ascii => Judged::AsciiSoFar,
            State::Utf8(_) => Judged::Utf8,
            State::Windows1252(_) => Judged::Windows1252,
        }
    }

    /// Decides on `first` (the bytes from the first non-ASCII one on) and the input after it.
    fn decide(&mut self, mut first: Vec<u8>) -> io::Result<()> {
        let State::Ascii(mut input) = mem::replace(&mut self.state, State::Deciding) else {
            return Ok(());
        };
        while first.len() < LONGEST_CHAR {
            let mut byte = [0u8; 1];
            match input.read(&mut byte) {
                Ok(0) => break,
                Ok(_) => first.push(byte[0]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // The import ends on a read error: nothing is left to decide.
                Err(e) => return Err(e),
            }
        }
        let utf8 = match std::str::from_utf8(&first) {
            Ok(_) => true,
            Err(e) => e.valid_up_to() > 0,
        };
        let rest = Cursor::new(first).chain(input);
        self.state = if utf8 {
            State::Utf8(rest)
        } else {
            State::Windows1252(
                DecodeReaderBytesBuilder::new()
                    .encoding(Some(encoding_rs::WINDOWS_1252))
                    .build(rest),
            )
        };
        Ok(())
    }
}

impl<R: Read> Read for LateDecision<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = match &mut self.state {
            State::Ascii(input) => input.read(buf)?,
            State::Utf8(rest) => return rest.read(buf),
            State::Windows1252(decoded) => return decoded.read(buf),
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
