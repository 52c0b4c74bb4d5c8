//! Looking at the start of the file: its encoding, whether it is text at all, its delimiter.

use std::io::{self, Read};

use crate::ImportError;

/// How much of the file the guesses are made from. Big enough for hundreds of rows, small
/// enough to hold in memory.
pub(crate) const SAMPLE_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Utf8,
    Utf8Bom,
    Utf16Le,
    Utf16Be,
    Windows1252,
    /// Old Mac Excel's "CSV" (and "CSV (Macintosh)" to this day).
    MacRoman,
    /// Excel's "CSV" in Polish, Czech, Slovak, Hungarian, Croatian and Slovenian Windows.
    Windows1250,
}

impl Encoding {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Utf8 => "utf-8",
            Self::Utf8Bom => "utf-8-bom",
            Self::Utf16Le => "utf-16le",
            Self::Utf16Be => "utf-16be",
            Self::Windows1252 => "windows-1252",
            Self::MacRoman => "mac-roman",
            Self::Windows1250 => "windows-1250",
        }
    }

    pub(crate) fn encoding_rs(self) -> &'static encoding_rs::Encoding {
        match self {
            Self::Utf8 | Self::Utf8Bom => encoding_rs::UTF_8,
            Self::Utf16Le => encoding_rs::UTF_16LE,
            Self::Utf16Be => encoding_rs::UTF_16BE,
            Self::Windows1252 => encoding_rs::WINDOWS_1252,
            Self::MacRoman => encoding_rs::MACINTOSH,
            Self::Windows1250 => encoding_rs::WINDOWS_1250,
        }
    }
}

/// Reads up to `limit` bytes (fewer only at the end of the input).
pub(crate) fn read_sample<R: Read>(input: &mut R, limit: usize) -> io::Result<Vec<u8>> {
    let mut sample = Vec::with_capacity(limit.min(SAMPLE_BYTES));
    input.take(limit as u64).read_to_end(&mut sample)?;
    Ok(sample)
}

/// Magic numbers of files people upload by mistake. Most hold NUL bytes anyway; checking the
/// signature first catches the ones whose first kilobytes happen not to.
const BINARY_MAGIC: [&[u8]; 7] = [
    b"PK\x03\x04",                       // zip, and so .xlsx / .ods
    b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", // legacy .xls (OLE2)
    b"\x89PNG",                          // png
    b"\xFF\xD8\xFF",                     // jpeg
    b"GIF8",                             // gif
    b"%PDF",                             // pdf
    b"\x1F\x8B",                         // gzip
];

/// Decides the encoding from the sample. `complete` says the sample is the whole file, so a
/// multi-byte UTF-8 sequence cut at its end is an error rather than the sample's edge.
pub(crate) fn detect_encoding(sample: &[u8], complete: bool) -> Result<Encoding, ImportError> {
    if sample.is_empty() {
        return Err(ImportError::Empty);
    }
    if sample.starts_with(b"\xEF\xBB\xBF") {
        return Ok(Encoding::Utf8Bom);
    }
    if sample.starts_with(b"\xFF\xFE") {
        return Ok(Encoding::Utf16Le);
    }
    if sample.starts_with(b"\xFE\xFF") {
        return Ok(Encoding::Utf16Be);
    }
    if is_a_form_upload(sample) {
        return Err(ImportError::FormUpload);
    }
    if BINARY_MAGIC.iter().any(|magic| sample.starts_with(magic)) {
        return Err(ImportError::Binary);
    }
    if let Some(utf16) = utf16_without_bom(sample) {
        return Ok(utf16);
    }
    if sample.contains(&0) {
        return Err(ImportError::Binary);
    }
    let encoding = match std::str::from_utf8(sample) {
        Ok(_) => Encoding::Utf8,
        // `error_len() == None`: the sample ends inside a character, which is fine unless the
        // sample is the whole file.
        Err(e) if e.error_len().is_none() && !complete => Encoding::Utf8,
        // Before `holds_utf8`: Shift-JIS and GBK text holds well-formed UTF-8 pairs by chance.
        Err(_) if foreign_code_page(&not_utf8_runs(sample)) => return Err(ImportError::CodePage),
        Err(_) if holds_utf8(sample) => Encoding::Utf8,
        Err(_) => single_byte(sample),
    };
    if mostly_control(sample, encoding) {
        return Err(ImportError::Binary);
    }
    Ok(encoding)
}

/// UTF-16 without a byte-order mark (Excel never writes one, but other tools and scripts do;
/// big-endian too): the zero high byte of every ASCII character, which a CSV has plenty of
/// (delimiters, digits, line ends), falls on the odd bytes (little-endian) or the even ones
/// (big-endian), and hardly ever on the others. Binary data with zeros in such a pattern reads
/// as control characters or broken surrogates, and is not taken for it.
fn utf16_without_bom(sample: &[u8]) -> Option<Encoding> {
    let zeros = |first: usize| {
        let bytes = sample.iter().skip(first).step_by(2);
        bytes.filter(|&&b| b == 0).count()
    };
    let (even, odd) = (zeros(0), zeros(1));
    let units = sample.len() / 2;
    let encoding = match () {
        _ if odd > 0 && odd * 8 >= units && even * 10 <= odd => Encoding::Utf16Le,
        _ if even > 0 && even * 8 >= units && odd * 10 <= even => Encoding::Utf16Be,
        _ => return None,
    };
    let (text, _) = encoding
        .encoding_rs()
        .decode_without_bom_handling(&sample[..units * 2]);
    // A character the sample cut at its end (half a surrogate pair) is one replacement.
    let bad = text
        .chars()
        .filter(|&c| c == '\u{FFFD}' || (c.is_control() && !matches!(c, '\t' | '\n' | '\r')))
        .count();
    (bad <= 1).then_some(encoding)
}

/// Non-ASCII bytes a text needs before [`foreign_code_page`] judges it: fewer tell too little.
const CODE_PAGE_EVIDENCE: usize = 16;

/// Whether text that is not UTF-8 is in a code page of another script than Latin's: Excel's
/// plain "CSV" in Russian or Ukrainian (Windows-1251), Greek, Hebrew, Arabic or Thai Windows,
/// or in Japanese, Korean or Chinese (Shift-JIS, cp949, GBK, Big5). Read in a Western code
/// page, all of it would be imported as garbage (`Иван` as `Èâàí`).
///
/// Those scripts write words whose letters are all non-ASCII, so most non-ASCII bytes stand
/// in words of three or more of them; Latin scripts put an accented letter or a few among
/// ASCII ones (`José`, `Größe`, `Żółtów`, `Příjmení`, Turkish `Çığır`: Turkish reads as
/// Windows-1252 but for four letters). The double-byte code pages also put ASCII bytes inside
/// characters (Shift-JIS `山田` is `\x8ER\x93c`): see [`DoubleByte`].
pub(crate) fn foreign_code_page(bytes: &[u8]) -> bool {
    let non_ascii = bytes.iter().filter(|b| !b.is_ascii()).count();
    // East Asian names are short (`王`, `太郎`), and their characters are evidence early.
    (non_ascii >= CODE_PAGE_EVIDENCE && in_words(bytes) * 2 > non_ascii)
        || (non_ascii >= CODE_PAGE_EVIDENCE / 2 && DOUBLE_BYTE.iter().any(|cp| cp.reads(bytes)))
}

/// The non-ASCII bytes that stand in words of their own, three or more that no ASCII letter
/// touches (a Latin word's accented letters sit among ASCII ones: `Çığır`'s `ığı`).
fn in_words(bytes: &[u8]) -> usize {
    let latin = |at: usize| bytes.get(at).is_some_and(u8::is_ascii_alphabetic);
    let (mut total, mut start) = (0, 0);
    // The runs of non-ASCII bytes, each (but the last) followed by one ASCII byte.
    for run in bytes.split(u8::is_ascii) {
        let end = start + run.len();
        if run.len() >= 3 && !(start > 0 && latin(start - 1)) && !latin(end) {
            total += run.len();
        }
        start = end + 1;
    }
    total
}

/// A double-byte code page by the shape of its characters: a lead byte and a trail byte,
/// which may be ASCII. Read in the right one, a file's text is mostly the code page's
/// everyday characters (kana, hangul, the frequent ideographs, full-width punctuation), each
/// apart from Latin letters; a Western file's accents read so make characters glued to them
/// (`Müller`'s `ül`), rare ones, or none (`José,`).
struct DoubleByte {
    /// A byte that is a character alone (Shift-JIS's half-width katakana).
    single: fn(u8) -> bool,
    trail: fn(u8) -> bool,
    /// Whether a lead and trail byte make an everyday character.
    everyday: fn(u8, u8) -> bool,
}

const DOUBLE_BYTE: [DoubleByte; 4] = [
    // Shift-JIS: symbols, full-width letters and kana (0x81–0x84), JIS level 1 kanji.
    DoubleByte {
        single: |b| matches!(b, 0xA1..=0xDF),
        trail: |b| matches!(b, 0x40..=0x7E | 0x80..=0xFC),
        everyday: |lead, _| matches!(lead, 0x81..=0x84 | 0x88..=0x98),
    },
    // GBK: GB2312's symbols and hanzi.
    DoubleByte {
        single: |_| false,
        trail: |b| matches!(b, 0x40..=0x7E | 0x80..=0xFE),
        everyday: |lead, trail| matches!(lead, 0xA1..=0xA9 | 0xB0..=0xF7) && trail >= 0xA1,
    },
    // Big5: symbols and the frequent hanzi.
    DoubleByte {
        single: |_| false,
        trail: |b| matches!(b, 0x40..=0x7E | 0xA1..=0xFE),
        everyday: |lead, _| matches!(lead, 0xA1..=0xC6),
    },
    // cp949 (Excel's "EUC-KR"): KS X 1001's symbols, jamo and hangul.
    DoubleByte {
        single: |_| false,
        trail: |b| matches!(b, 0x41..=0x5A | 0x61..=0x7A | 0x81..=0xFE),
        everyday: |lead, trail| matches!(lead, 0xA1..=0xAC | 0xB0..=0xC8) && trail >= 0xA1,
    },
];

impl DoubleByte {
    /// Whether `bytes` read in this code page are mostly everyday characters apart from
    /// Latin letters.
    fn reads(&self, bytes: &[u8]) -> bool {
        let (mut apart, mut other) = (0usize, 0usize);
        let (mut at, mut after_latin) = (0, false);
        while let Some(&byte) = bytes.get(at) {
            let trail = bytes.get(at + 1).copied().filter(|&t| (self.trail)(t));
            let (len, everyday) = match trail {
                _ if byte.is_ascii() || (self.single)(byte) => (1, (self.single)(byte)),
                Some(trail) => (2, (self.everyday)(byte, trail)),
                None => (1, false),
            };
            let before_latin = bytes.get(at + len).is_some_and(u8::is_ascii_alphabetic);
            match (byte.is_ascii(), everyday && !after_latin && !before_latin) {
                (true, _) => {}
                (false, true) => apart += 1,
                (false, false) => other += 1,
            }
            after_latin = byte.is_ascii_alphabetic();
            at += len;
        }
        apart >= CODE_PAGE_EVIDENCE / 4 && apart > 3 * other
    }
}

/// What of `bytes` is not UTF-8, for [`foreign_code_page`] to judge: each run of non-ASCII
/// bytes that UTF-8 cannot read as a whole, as it is, and the ASCII between; a space for each
/// run it reads (the UTF-8 names of a file with some rows in another encoding). Whole runs:
/// Shift-JIS, GBK and Thai text holds well-formed UTF-8 pairs by chance inside its words.
pub(crate) fn not_utf8_runs(bytes: &[u8]) -> Vec<u8> {
    let mut seen = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    while let Some(start) = rest.iter().position(|b| !b.is_ascii()) {
        let len = rest[start..].iter().position(u8::is_ascii);
        let (ascii, run) = rest[..start + len.unwrap_or(rest.len() - start)].split_at(start);
        seen.extend_from_slice(ascii);
        match std::str::from_utf8(run) {
            Ok(_) => seen.push(b' '),
            Err(_) => seen.extend_from_slice(run),
        }
        rest = &rest[ascii.len() + run.len()..];
    }
    seen.extend_from_slice(rest);
    seen
}

/// Whether bytes that are not all UTF-8 are to be read as UTF-8 still: any of their non-ASCII
/// characters is well-formed UTF-8. Read so, every row UTF-8 cannot read is read in its own
/// single-byte encoding (see `records`): a UTF-8 export with rows pasted from a Windows tool,
/// or a Windows export with UTF-8 rows (or a Windows header) merged in, keeps every name; read
/// as Windows-1252, each UTF-8 row is garbled (`RenÃ©e`). Single-byte text hardly ever holds
/// a well-formed pair by chance (an accented capital right before a symbol: `ß“`), and then
/// only that pair is misread. (A character a sample cut at its end is no whole one.)
pub(crate) fn holds_utf8(bytes: &[u8]) -> bool {
    bytes.utf8_chunks().any(|chunk| !chunk.valid().is_ascii())
}

/// The single-byte encoding that reads `bytes` as the most plausible text: Windows-1252
/// unless Mac Roman or Windows-1250 is clearly better (Central European Excel: its `ł`, `ą`,
/// `ż` are Windows-1252's `³`, `¹`, `¿`). The two put letters at different bytes: Mac Roman's `é` (0x8E)
/// is Windows-1252's `Ž`, its `ü` (0x9F) is `Ÿ`, and Windows-1252's `é` (0xE9) is Mac Roman's
/// `È`. So each non-ASCII byte beside an ASCII letter scores for an encoding that reads it as
/// a letter of the right case (a capital inside a lowercase word, or after a letter and
/// before a lowercase one, does not count: `MŸller`) or as the punctuation and marks words
/// carry (`O’Brien`, `Don’t`, `‘quoted`, `Acme™`: Windows-1252's quotes are Mac Roman's `í`
/// and `ì`, its `™` Mac Roman's `ö`), and against one that reads it as anything else.
pub(crate) fn single_byte(bytes: &[u8]) -> Encoding {
    let score = |encoding: &'static encoding_rs::Encoding| -> i64 {
        let mut total = 0;
        for (at, &byte) in bytes.iter().enumerate() {
            if byte.is_ascii() {
                continue;
            }
            let before = at.checked_sub(1).map(|b| bytes[b]);
            let after = bytes.get(at + 1).copied();
            if !before.is_some_and(|b| b.is_ascii_alphabetic())
                && !after.is_some_and(|b| b.is_ascii_alphabetic())
            {
                continue;
            }
            let (text, _) = encoding.decode_without_bom_handling(std::slice::from_ref(&byte));
            let Some(c) = text.chars().next() else {
                continue;
            };
            let in_lowercase_word = before.is_some_and(|b| b.is_ascii_lowercase());
            let (after_letter, before_letter) = (
                before.is_some_and(|b| b.is_ascii_alphabetic()),
                after.is_some_and(|b| b.is_ascii_alphabetic()),
            );
            // `MŸller`, or before a capitalised word (`OÕBrien`: Mac Roman's `’` is `Õ`).
            let capitalised_next = after.is_some_and(|b| b.is_ascii_uppercase())
                && bytes.get(at + 2).is_some_and(u8::is_ascii_lowercase);
            let mid_word_capital =
                after_letter && (after.is_some_and(|b| b.is_ascii_lowercase()) || capitalised_next);
            let letter =
                c.is_alphabetic() && !(c.is_uppercase() && (in_lowercase_word || mid_word_capital));
            // An apostrophe sits inside words or ends them; an opening quote starts one (Mac
            // Roman's `ë` in `Zoë` is Windows-1252's `‘`); quotes, dashes and marks stand at
            // their edges only (Mac Roman's `ñ` in `Muñoz` is Windows-1252's `–`).
            let inside = after_letter && before_letter;
            let word_punctuation = match c {
                '’' => true,
                '‘' => !after_letter,
                '“' | '”' | '–' | '—' | '…' => !inside,
                '™' | '®' | '©' => !before_letter,
                // Spanish questions open with one: "¿Acepta SMS?".
                '¿' | '¡' => !after_letter,
                _ => false,
            };
            total += match letter || word_punctuation {
                true => 1,
                false => -1,
            };
        }
        total
    };
    // Best first on a tie: most Western letters read the same in Windows-1250.
    [
        Encoding::Windows1252,
        Encoding::MacRoman,
        Encoding::Windows1250,
    ]
    .into_iter()
    .map(|encoding| (score(encoding.encoding_rs()), encoding))
    .reduce(|best, next| if next.0 > best.0 { next } else { best })
    .map_or(Encoding::Windows1252, |(_, encoding)| encoding)
}

/// A multipart form body: a boundary line, then the part's headers. Uploading with
/// `curl -F file=@x.csv` stores that wrapping around the CSV.
fn is_a_form_upload(sample: &[u8]) -> bool {
    let head = &sample[..sample.len().min(1024)];
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    head.starts_with("--") && head.contains("content-disposition: form-data")
}

/// Text has almost no control bytes besides tab and line ends; binary data has plenty. Read
/// as Windows-1252, the five bytes it leaves undefined count as control bytes too (in UTF-8
/// they are continuation bytes: every hiragana from あ to み has one).
fn mostly_control(sample: &[u8], encoding: Encoding) -> bool {
    let undefined =
        |b: u8| encoding == Encoding::Windows1252 && matches!(b, 0x81 | 0x8D | 0x8F | 0x90 | 0x9D);
    let control = sample
        .iter()
        .filter(|&&b| {
            (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r')) || b == 0x7F || undefined(b)
        })
        .count();
    control * 20 > sample.len()
}

/// The delimiters people's tools write: Excel in most of Europe writes `;`.
const CANDIDATES: [u8; 4] = [b',', b';', b'\t', b'|'];

/// How many records of the sample the delimiter is judged on.
const SNIFF_RECORDS: usize = 50;

/// The delimiter an Excel `sep=;` first line names (Excel writes one so that other locales
/// read the file; it shows no such row).
pub(crate) fn excel_separator(text: &[u8]) -> Option<u8> {
    let rest = text
        .get(..4)?
        .eq_ignore_ascii_case(b"sep=")
        .then(|| &text[4..])?;
    match rest {
        [delimiter, b'\r' | b'\n', ..] if !delimiter.is_ascii_alphanumeric() => Some(*delimiter),
        _ => None,
    }
}

/// Picks the delimiter that splits the first records of the (decoded, UTF-8) sample most
/// consistently: the share of data records with as many fields as the header (or one more,
/// a trailing delimiter), then the header's field count. Parsing with the real CSV parser
/// means delimiters inside quoted fields are ignored. A file with one column gets `,`.
pub(crate) fn detect_delimiter(text: &[u8], complete: bool) -> u8 {
    let mut best = (b',', 0.0f64, 1usize);
    for delimiter in CANDIDATES {
        let counts = field_counts(text, delimiter, complete);
        let Some((&header, data)) = counts.split_first() else {
            continue;
        };
        if header < 2 {
            continue;
        }
        let consistency = if data.is_empty() {
            1.0
        } else {
            let fitting = data
                .iter()
                .filter(|&&n| n == header || n == header + 1)
                .count();
            fitting as f64 / data.len() as f64
        };
        if (consistency, header) > (best.1, best.2) {
            best = (delimiter, consistency, header);
        }
    }
    best.0
}

/// Field counts of the first records, leaving out a last record the sample may have cut.
fn field_counts(text: &[u8], delimiter: u8, complete: bool) -> Vec<usize> {
    let mut reader = csv_core::ReaderBuilder::new().delimiter(delimiter).build();
    let mut output = vec![0u8; text.len().max(1)];
    let mut ends = vec![0usize; 4096];
    let mut input = text;
    let mut counts = Vec::new();
    let mut fields = 0;
    while counts.len() < SNIFF_RECORDS {
        let (result, nin, _, nend) = reader.read_record(input, &mut output, &mut ends);
        input = &input[nin..];
        fields += nend;
        match result {
            csv_core::ReadRecordResult::Record => {
                counts.push(fields);
                fields = 0;
            }
            // The output holds the whole sample, so only `ends` can fill: a record of more
            // than 4096 fields is not a contact list with this delimiter.
            csv_core::ReadRecordResult::OutputEndsFull => return vec![1],
            csv_core::ReadRecordResult::OutputFull => return counts,
            csv_core::ReadRecordResult::InputEmpty => {
                if !complete {
                    // The rest of this record is past the sample.
                    break;
                }
                // Feed the end of input so the last record (without a line end) completes.
                input = &[];
                let (result, _, _, nend) = reader.read_record(input, &mut output, &mut ends);
                if result == csv_core::ReadRecordResult::Record {
                    counts.push(fields + nend);
                }
                break;
            }
            csv_core::ReadRecordResult::End => break,
        }
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_consistent_delimiter() {
        let cases: [(&str, u8); 6] = [
            ("a,b,c\n1,2,3\n4,5,6\n", b','),
            ("a;b;c\n1;2,5;3\n4;5;6\n", b';'),
            ("a\tb\n1\t2\n", b'\t'),
            ("a|b|c\n1|2|3\n", b'|'),
            ("name,phone\n\"Smith; John\",1\n\"Doe; Jane\",2\n", b','),
            ("phone\n1\n2\n", b','),
        ];
        for (text, want) in cases {
            assert_eq!(
                detect_delimiter(text.as_bytes(), true) as char,
                want as char,
                "{text:?}"
            );
        }
    }

    #[test]
    fn japanese_text_without_a_bom_is_utf8_not_binary() {
        // A Numbers or Google Sheets export: most kana carry a 0x81 continuation byte.
        let csv = "姓,名,せい,めい,携帯電話\n山田,太郎,やまだ,たろう,09012345678\n\
                   佐藤,花子,さとう,はなこ,08098765432\n";
        assert_eq!(
            detect_encoding(csv.as_bytes(), true).unwrap(),
            Encoding::Utf8
        );
    }

    /// Latin words with three accented letters in a row (`Żółkiewska`, `Çığır`), or whose
    /// accents pair up as a double-byte code page's characters do (Big5 reads `Żółtów` as
    /// three), are Latin: a town's customer list with it on every row, and Turkish names,
    /// judged whole or by row.
    #[test]
    fn latin_words_that_look_like_another_script_are_latin() {
        let mut polish = String::from("First Name;Last Name;Mobile;City\n");
        for (first, last) in [
            ("Anna", "Żółkiewska"),
            ("Jan", "Żółtowski"),
            ("Piotr", "Wójcik"),
            ("Ewa", "Żółkiewska"),
        ] {
            polish.push_str(&format!("{first};{last};501234567;Żółtów\n"));
        }
        let turkish = "First Name;Last Name;Mobile;City\nYağız;Öğüt;5321234567;Iğdır\n\
                       Çağrı;Öğüt;5331234567;Çığır\nIşık;Doğuş;5341234567;Çığır\n";
        let cases = [
            (polish.as_str(), encoding_rs::WINDOWS_1250),
            (turkish, encoding_rs::WINDOWS_1254),
        ];
        for (text, encoding) in cases {
            assert!(!foreign_code_page(&encoding.encode(text).0), "{text}");
            for row in text.lines() {
                assert!(!foreign_code_page(&encoding.encode(row).0), "{row}");
            }
        }
    }

    /// A word in a code page keeps the well-formed UTF-8 it holds by chance (Windows-874's
    /// `ใจดี` starts with `\xE3\xA8\xB4`, which is UTF-8's `㨴`): only a word UTF-8 reads whole
    /// is UTF-8's.
    #[test]
    fn what_is_not_utf8_is_judged_by_whole_words() {
        let (thai, _, _) = encoding_rs::WINDOWS_874.encode("ใจดี");
        assert!(std::str::from_utf8(&thai[..3]).is_ok());
        let mut row = thai.to_vec();
        row.extend_from_slice(",Renée,Zoë".as_bytes());
        let mut want = thai.to_vec();
        want.extend_from_slice(b",Ren e,Zo ");
        assert_eq!(not_utf8_runs(&row), want);
    }

    #[test]
    fn a_file_uploaded_as_a_form_is_told_apart() {
        let form = b"--------------------------5353c0adf60e03eb\r\n\
                     Content-Disposition: form-data; name=\"file\"; filename=\"x.csv\"\r\n\
                     Content-Type: text/csv\r\n\r\nphone\r\n4155552671\r\n";
        assert!(matches!(
            detect_encoding(form, true),
            Err(ImportError::FormUpload)
        ));
        // A CSV whose first cell starts with dashes is a CSV.
        assert!(detect_encoding(b"--name,phone\nAda,4155552671\n", true).is_ok());
    }

    #[test]
    fn encodings_and_binary() {
        assert_eq!(detect_encoding(b"a,b\n", true).unwrap(), Encoding::Utf8);
        assert_eq!(
            detect_encoding(b"\xEF\xBB\xBFa,b\n", true).unwrap(),
            Encoding::Utf8Bom
        );
        assert_eq!(
            detect_encoding(b"caf\xE9,b\n", true).unwrap(),
            Encoding::Windows1252
        );
        // Mac Roman, from old Mac Excel: Müller, José, Gärtner, MÜLLER.
        assert_eq!(
            detect_encoding(b"M\x9Fller,Jos\x8E,G\x8Artner,M\x86LLER\n", true).unwrap(),
            Encoding::MacRoman
        );
        // The same names in Windows-1252, and one that reads the same in both (a byte
        // between two others is judged by its letters only).
        assert_eq!(
            detect_encoding(b"M\xFCller,Jos\xE9,G\xE4rtner,M\xDCLLER\n", true).unwrap(),
            Encoding::Windows1252
        );
        // Windows-1252's typographic quotes read as letters in Mac Roman too: a tie, and
        // Windows-1252 wins it; a Mac Roman accent still tells.
        assert_eq!(
            detect_encoding(b"O\x92Brien,Don\x92t text,VIP \x96 weekends\n", true).unwrap(),
            Encoding::Windows1252
        );
        assert_eq!(
            detect_encoding(b"O\xD5Brien,Jos\x8E\n", true).unwrap(),
            Encoding::MacRoman
        );
        // Mac Roman's Spanish letters are Windows-1252's dashes inside words: Mu\x96oz.
        assert_eq!(
            detect_encoding(b"Garc\x92a,Mu\x96oz,L\x97pez,N\x9C\x96ez\n", true).unwrap(),
            Encoding::MacRoman
        );
        // A UTF-8 export with one row in Windows-1252 stays UTF-8; more of Windows-1252 than
        // of UTF-8 does not.
        assert_eq!(
            detect_encoding(
                &["Zo\u{eb},Ren\u{e9}e,Jos\u{e9}\n".as_bytes(), b"Jos\xE9\n"].concat(),
                true
            )
            .unwrap(),
            Encoding::Utf8
        );
        // Fewer UTF-8 rows, or a Windows header: UTF-8 still, each other row read in its own.
        assert_eq!(
            detect_encoding(b"Zo\xC3\xAB\nJos\xE9,Ren\xE9e\n", true).unwrap(),
            Encoding::Utf8
        );
        assert_eq!(
            detect_encoding(b"Pr\xE9nom,T\xE9l\xE9phone\nZo\xC3\xAB,1\n", true).unwrap(),
            Encoding::Utf8
        );
        // As much of each: UTF-8, which reads the other row in its own encoding still.
        assert_eq!(
            detect_encoding(b"Name,Phone\nJos\xE9,1\nRen\xC3\xA9,2\n", true).unwrap(),
            Encoding::Utf8
        );
        // Mac Roman's letters that are Windows-1252's opening quote or capital Y (Zoë, Noël,
        // Müller), and Windows-1252's trade mark, which is Mac Roman's `ö`.
        assert_eq!(
            detect_encoding(b"First,Last\rZo\x91,Bront\x91\rNo\x91l,M\x9Fller\r", true).unwrap(),
            Encoding::MacRoman
        );
        assert_eq!(
            detect_encoding(b"Company,Phone\nAcme\x99,1\nWidgets\xAE Inc,2\n", true).unwrap(),
            Encoding::Windows1252
        );
        assert_eq!(
            detect_encoding(b"Quote\n\x91Hello\x92 she said\n", true).unwrap(),
            Encoding::Windows1252
        );
        // Mac Roman's apostrophe between capitals of a name is Windows-1252's `Õ`.
        assert_eq!(
            detect_encoding(b"First,Last\r\nSean,O\xD5Brien\r\nMary,D\xD5Arcy\r\n", true).unwrap(),
            Encoding::MacRoman
        );
        // Portuguese capitals stay Windows-1252's.
        assert_eq!(
            detect_encoding(b"Name\nLE\xD5ES\nCAM\xD5ES\n", true).unwrap(),
            Encoding::Windows1252
        );
        // A sample cut inside "é" is still UTF-8 when the file goes on.
        assert_eq!(detect_encoding(b"caf\xC3", false).unwrap(), Encoding::Utf8);
        assert!(matches!(
            detect_encoding(b"PK\x03\x04rest", true),
            Err(ImportError::Binary)
        ));
        assert!(matches!(
            detect_encoding(b"a\x01\x02\x03\x04b", true),
            Err(ImportError::Binary)
        ));
        assert!(matches!(
            detect_encoding(b"", true),
            Err(ImportError::Empty)
        ));
    }
}
