//! Looking at the start of the file: its encoding, whether it is text at all, its delimiter.

use std::io::{self, Read};

use crate::ImportError;
use crate::code_page::{self, CodePage, RegionHint};

/// How much of the file the guesses are made from. Big enough for hundreds of rows, small
/// enough to hold in memory.
pub(crate) const SAMPLE_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    Utf8,
    Utf8Bom,
    Utf16Le,
    Utf16Be,
    /// Excel's plain "CSV", in the code page of the Windows it was saved on (or Mac Roman:
    /// old Mac Excel's, and "CSV (Macintosh)" to this day).
    CodePage(CodePage),
}

impl Encoding {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Utf8 => "utf-8",
            Self::Utf8Bom => "utf-8-bom",
            Self::Utf16Le => "utf-16le",
            Self::Utf16Be => "utf-16be",
            Self::CodePage(code_page) => code_page::label(code_page),
        }
    }

    pub(crate) fn encoding_rs(self) -> &'static encoding_rs::Encoding {
        match self {
            Self::Utf8 | Self::Utf8Bom => encoding_rs::UTF_8,
            Self::Utf16Le => encoding_rs::UTF_16LE,
            Self::Utf16Be => encoding_rs::UTF_16BE,
            Self::CodePage(code_page) => code_page,
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
    let encoding = utf8_or_code_page(sample, complete)?;
    if mostly_control(sample, encoding) {
        return Err(ImportError::Binary);
    }
    Ok(encoding)
}

/// UTF-8, or the code page text without a byte-order mark is in; `complete` as for
/// [`detect_encoding`].
pub(crate) fn utf8_or_code_page(text: &[u8], complete: bool) -> Result<Encoding, ImportError> {
    encoding_and_rows(text, complete).map(|(encoding, _)| encoding)
}

/// For text [`utf8_or_code_page`] reads as UTF-8: the code page its text that is not UTF-8
/// is in, if it holds some (as the tenant's country writes it: see [`as_the_region_writes`]).
pub(crate) fn code_page_of_rows(
    text: &[u8],
    complete: bool,
    hint: Option<RegionHint>,
) -> Option<CodePage> {
    match encoding_and_rows(text, complete) {
        Ok((Encoding::Utf8, Some(rows))) => Some(match hint {
            Some(hint) => hint.apply(rows, &code_page::not_utf8_runs(text)),
            None => rows,
        }),
        _ => None,
    }
}

/// `encoding`, or the code page of the tenant's country where it reads `text` as that
/// country's letters and the guess cannot tell ([`RegionHint::apply`]), or where `text`,
/// `complete` (the whole file), is UTF-8 by chance ([`RegionHint::chance_utf8`]).
pub(crate) fn as_the_region_writes(
    encoding: Encoding,
    (text, complete): (&[u8], bool),
    hint: Option<RegionHint>,
) -> Encoding {
    match (encoding, hint) {
        (Encoding::CodePage(chosen), Some(hint)) => Encoding::CodePage(hint.apply(chosen, text)),
        (Encoding::Utf8, Some(hint)) if !complete || std::str::from_utf8(text).is_err() => {
            match encoding_and_rows(text, complete) {
                Ok((_, Some(rows))) if hint.thai_after_all(text, rows) => {
                    Encoding::CodePage(encoding_rs::WINDOWS_874)
                }
                _ => encoding,
            }
        }
        // All of a file of a row or two: UTF-8 by chance?
        (Encoding::Utf8, Some(hint)) if complete => {
            hint.chance_utf8(text).map_or(encoding, Encoding::CodePage)
        }
        _ => encoding,
    }
}

/// [`utf8_or_code_page`], and for UTF-8 [`code_page_of_rows`] with it.
pub(crate) fn encoding_and_rows(
    text: &[u8],
    complete: bool,
) -> Result<(Encoding, Option<CodePage>), ImportError> {
    let error = match std::str::from_utf8(text) {
        Ok(_) => return Ok((Encoding::Utf8, None)),
        Err(error) => error,
    };
    // `error_len() == None`: the text ends inside a character, which is fine unless it is
    // the whole file.
    if error.error_len().is_none() && !complete {
        return Ok((Encoding::Utf8, None));
    }
    // Judged up to its last line end, when the file goes on: a double-byte character the
    // sample cut in two would count against the code page the file is in.
    let text = match text.iter().rposition(|&b| b == b'\n') {
        Some(end) if !complete => &text[..=end],
        _ => text,
    };
    let runs = code_page::not_utf8_runs(text);
    let code_page = code_page::guess(&runs).ok_or(ImportError::CodePage)?;
    // A file holding UTF-8 is read as UTF-8, and each row that is not in its own encoding
    // (see `records`), unless its UTF-8 may be pairs of another script's code page that are
    // well-formed by chance, as Shift-JIS and GBK text holds.
    let utf8 = match code_page::is_latin(code_page) {
        true => code_page::holds_utf8(text),
        false => code_page::holds_utf8_runs(text),
    };
    Ok(match utf8 {
        true => (Encoding::Utf8, Some(code_page)),
        false => (Encoding::CodePage(code_page), None),
    })
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
    let windows_1252 = encoding == Encoding::CodePage(encoding_rs::WINDOWS_1252);
    let undefined = |b: u8| windows_1252 && matches!(b, 0x81 | 0x8D | 0x8F | 0x90 | 0x9D);
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
            Encoding::CodePage(encoding_rs::WINDOWS_1252)
        );
        // Mac Roman, from old Mac Excel: Müller, José, Gärtner, MÜLLER.
        assert_eq!(
            detect_encoding(b"M\x9Fller,Jos\x8E,G\x8Artner,M\x86LLER\n", true).unwrap(),
            Encoding::CodePage(encoding_rs::MACINTOSH)
        );
        // The same names in Windows-1252, and one that reads the same in both (a byte
        // between two others is judged by its letters only).
        assert_eq!(
            detect_encoding(b"M\xFCller,Jos\xE9,G\xE4rtner,M\xDCLLER\n", true).unwrap(),
            Encoding::CodePage(encoding_rs::WINDOWS_1252)
        );
        // Windows-1252's typographic quotes read as letters in Mac Roman too: a tie, and
        // Windows-1252 wins it; a Mac Roman accent still tells.
        assert_eq!(
            detect_encoding(b"O\x92Brien,Don\x92t text,VIP \x96 weekends\n", true).unwrap(),
            Encoding::CodePage(encoding_rs::WINDOWS_1252)
        );
        assert_eq!(
            detect_encoding(b"O\xD5Brien,Jos\x8E\n", true).unwrap(),
            Encoding::CodePage(encoding_rs::MACINTOSH)
        );
        // Mac Roman's Spanish letters are Windows-1252's dashes inside words: Mu\x96oz.
        assert_eq!(
            detect_encoding(b"Garc\x92a,Mu\x96oz,L\x97pez,N\x9C\x96ez\n", true).unwrap(),
            Encoding::CodePage(encoding_rs::MACINTOSH)
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
            Encoding::CodePage(encoding_rs::MACINTOSH)
        );
        assert_eq!(
            detect_encoding(b"Company,Phone\nAcme\x99,1\nWidgets\xAE Inc,2\n", true).unwrap(),
            Encoding::CodePage(encoding_rs::WINDOWS_1252)
        );
        assert_eq!(
            detect_encoding(b"Quote\n\x91Hello\x92 she said\n", true).unwrap(),
            Encoding::CodePage(encoding_rs::WINDOWS_1252)
        );
        // Mac Roman's apostrophe between capitals of a name is Windows-1252's `Õ`.
        assert_eq!(
            detect_encoding(b"First,Last\r\nSean,O\xD5Brien\r\nMary,D\xD5Arcy\r\n", true).unwrap(),
            Encoding::CodePage(encoding_rs::MACINTOSH)
        );
        // Portuguese capitals stay Windows-1252's.
        assert_eq!(
            detect_encoding(b"Name\nLE\xD5ES\nCAM\xD5ES\n", true).unwrap(),
            Encoding::CodePage(encoding_rs::WINDOWS_1252)
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
