//! Phone cells to E.164: what spreadsheets do to numbers, then the fast path, then the
//! `phonenumber` crate (through [`PhoneE164::parse`]) for everything else.

use std::borrow::Cow;

use smscrm_domain::{PhoneE164, Region};

use crate::fastpath::FastPath;

mod extension;
mod notes;

pub(crate) use extension::strip_extension;
use notes::strip_label;
pub(crate) use notes::{country_by_name, folded, note_opts_out};

/// Reads phone cells for one region. Keeps the fast path's cache, so reuse one per file
/// (or per thread).
pub struct PhoneReader {
    region: Region,
    fast: FastPath,
}

impl PhoneReader {
    pub fn new(region: Region) -> Self {
        Self {
            region,
            fast: FastPath::new(region),
        }
    }

    /// The number in a cell, or a reason naming the value.
    pub fn read(&mut self, raw: &str) -> Result<PhoneE164, String> {
        let raw = plain(raw);
        let prepared = prepare(&raw, self.region)?;
        let number = &prepared.number;
        let ours = match self.fast.lookup(number) {
            Some(known) => known.or_else(|why| old_mexican(number, self.region).ok_or(why)),
            None => slow(number, self.region),
        };
        prepared.beside(ours, self.region)
    }

    pub fn region(&self) -> Region {
        self.region
    }

    /// A cell read for another region, without the fast path (whose cache is the import
    /// region's), and without the country a note in it names ([`PhoneReader::read`] weighs
    /// that).
    pub fn read_for(&self, raw: &str, region: Region) -> Result<PhoneE164, String> {
        slow(&prepare(&plain(raw), self.region)?.number, region)
    }

    /// How many numbers the fast path answered (the rest went to the crate).
    pub fn fast_path_hits(&self) -> u64 {
        self.fast.hits()
    }

    /// The same without the fast path: the reference the fast path is tested against.
    pub fn read_slow(&self, raw: &str) -> Result<PhoneE164, String> {
        let raw = plain(raw);
        let prepared = prepare(&raw, self.region)?;
        let ours = slow(&prepared.number, self.region);
        prepared.beside(ours, self.region)
    }
}

/// The cell with full-width digits and punctuation (`４１５－５５５`, as Japanese and Chinese
/// input methods type them) as their ASCII selves, which is what Unicode's compatibility
/// mapping makes of them, and typographic spaces as spaces: French and Swedish software
/// groups digits with a narrow no-break space (U+202F), typesetters with a thin or a figure
/// space, none of which the crate takes for a separator. Arabic, Persian and Thai keyboards
/// type their own digits (`٠٥٠ ١٢٣ ٤٥٦٧`), which the crate does not read either; and
/// right-to-left text puts invisible direction marks around and between a number's groups.
fn plain(raw: &str) -> Cow<'_, str> {
    // Most cells hold none of these: a byte scan for their UTF-8 lead bytes keeps them
    // uncopied. 0xEF: full width; 0xE2: the spaces and most marks; 0xD8, 0xD9, 0xDB: the
    // Arabic letter mark and Arabic and Persian digits; 0xE0: Thai digits.
    if !raw
        .bytes()
        .any(|b| matches!(b, 0xD8 | 0xD9 | 0xDB | 0xE0 | 0xE2 | 0xEF))
    {
        return Cow::Borrowed(raw);
    }
    raw.chars().filter_map(plain_char).collect()
}

/// One character of [`plain`]'s, or none for a direction mark.
fn plain_char(c: char) -> Option<char> {
    let digit = |zero: u32| char::from_digit(u32::from(c) - zero, 10);
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0),
        '\u{2007}' | '\u{2009}' | '\u{202F}' => Some(' '),
        '\u{0660}'..='\u{0669}' => digit(0x0660),
        '\u{06F0}'..='\u{06F9}' => digit(0x06F0),
        '\u{0E50}'..='\u{0E59}' => digit(0x0E50),
        // Left-to-right and right-to-left marks, the Arabic letter mark, embeddings,
        // overrides and isolates: they steer how text shows, and are no part of it.
        '\u{200E}'
        | '\u{200F}'
        | '\u{061C}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2066}'..='\u{2069}' => None,
        _ => Some(c),
    }
}

/// A phone cell ready to read: the number in it, and the country a note beside the number
/// names (`55 1234 5678 (Mexico)`).
struct Prepared<'a> {
    number: Cow<'a, str>,
    named: Option<Region>,
}

impl Prepared<'_> {
    /// `ours`, the number read for `region`, weighed against its reading for the country
    /// named beside it, as a country column's is ([`choose_reading`]): a word beside a number
    /// may be a name or a region ("Jordan:", "(CO)" for Como), so it wins only where the
    /// import's reading is no valid number, or no mobile where its own is one. A number with
    /// its country code of its own (`+`, or `region`'s international prefix) keeps it.
    fn beside(&self, ours: Result<PhoneE164, String>, region: Region) -> Result<PhoneE164, String> {
        match self.named.filter(|&named| named != region) {
            Some(named) if !has_country_code(&self.number, region) => choose_reading(
                ours,
                slow(&self.number, named),
                "the country written beside it",
            ),
            _ => ours,
        }
    }
}

/// The number read for the import's region (`ours`) or for a country the row names
/// (`theirs`, which `theirs_is` describes): the one that is a valid number; where both are,
/// and differ, the one that may be a mobile (an address's country is not always the phone's:
/// a German mobile with an Austrian billing address, a US number in a British shop's file),
/// and none when both may: which is meant cannot be told.
pub(crate) fn choose_reading(
    ours: Result<PhoneE164, String>,
    theirs: Result<PhoneE164, String>,
    theirs_is: &str,
) -> Result<PhoneE164, String> {
    match (ours, theirs) {
        (Ok(ours), Ok(theirs)) if ours != theirs => {
            match (ours.may_be_mobile(), theirs.may_be_mobile()) {
                (false, true) => Ok(theirs),
                (true, true) => Err(format!(
                    "phone reads as a mobile both for the import's region ({ours}) and for \
                     {theirs_is} ({theirs}): write it with its country code"
                )),
                _ => Ok(ours),
            }
        }
        (Ok(ours), _) => Ok(ours),
        (Err(_), Ok(theirs)) => Ok(theirs),
        (Err(why), Err(_)) => Err(why),
    }
}

/// Whether a number carries its country code: `+`, or `region`'s international prefix
/// (`011 52 ...` from the US), as the crate reads it.
fn has_country_code(number: &str, region: Region) -> bool {
    use phonenumber::country::{Id, Source};
    let Ok(id) = region.code().parse::<Id>() else {
        return number.contains('+');
    };
    phonenumber::parse(Some(id), number)
        .is_ok_and(|n| matches!(n.country().source(), Source::Plus | Source::Idd))
}

/// Undoes what spreadsheets do to a phone cell, drops an extension, and finds the country a
/// note beside the number names (`region` is the import's: in a North American file `(CA)`
/// is California, not Canada).
fn prepare(raw: &str, region: Region) -> Result<Prepared<'_>, String> {
    let cell = raw.trim();
    // Excel's "treat as text" prefix.
    let cell = cell.strip_prefix('\'').unwrap_or(cell).trim();
    let (number, named) = strip_label(cell, region)?;
    if number.is_empty() {
        return Err("phone is missing".into());
    }
    let number = match excel_number(number) {
        ExcelNumber::Not => match trunk_for_carrier(strip_extension(number), region) {
            Cow::Borrowed(number) => old_national_prefix(number, region),
            owned => owned,
        },
        ExcelNumber::Digits(digits) => {
            return Ok(Prepared {
                number: Cow::Owned(digits),
                named,
            });
        }
        ExcelNumber::Shortened => {
            return Err(format!(
                "phone `{number}` was shortened by Excel (scientific notation keeps only some \
                 digits); format the column as text and export again"
            ));
        }
    };
    if let Some(why) = a_digit_beside(&number) {
        return Err(format!("phone `{cell}` {why}"));
    }
    if letters_among_digits(&number) {
        return Err(format!(
            "phone `{cell}` has letters among its digits (a letter O or l typed for 0 or 1?): \
             write the number in digits"
        ));
    }
    Ok(Prepared { number, named })
}

/// Brazil's `0xx11 98765-4321` (or `(0XX11)`) with the trunk `0` alone: `xx` stands for the
/// carrier code a long-distance call dials there, which the crate would read as a keypad's
/// digits. Only in a Brazilian import: elsewhere `011` may be the international prefix.
fn trunk_for_carrier(number: &str, region: Region) -> Cow<'_, str> {
    let (open, rest) = number.split_at(usize::from(number.starts_with('(')));
    match rest.get(..3).zip(rest.get(3..)) {
        Some((xx, digits))
            if region.code() == "BR"
                && xx.eq_ignore_ascii_case("0xx")
                && digits.starts_with(|c: char| c.is_ascii_digit()) =>
        {
            Cow::Owned(format!("{open}0{digits}"))
        }
        _ => Cow::Borrowed(number),
    }
}

/// A national number written in an older way the crate does not read: Ukraine's Soviet-era
/// long-distance `8` before the trunk `0` (`8 050 123 45 67`: 11 digits, which no Ukrainian
/// number has), and Chile's trunk `0`, dropped in 2016 (`09 8765 4321`: 10 digits, where its
/// numbers have 9). Only in those countries' imports, and never with a `+`.
fn old_national_prefix(number: &str, region: Region) -> Cow<'_, str> {
    let (prefix, digits) = match region.code() {
        "UA" => ("80", 11),
        "CL" => ("0", 10),
        _ => return Cow::Borrowed(number),
    };
    let mut written = number.bytes().filter(u8::is_ascii_digit);
    let starts = prefix.bytes().all(|p| written.next() == Some(p));
    match starts && number.bytes().filter(u8::is_ascii_digit).count() == digits {
        true if !number.contains('+') => Cow::Owned(number.replacen(&prefix[..1], "", 1)),
        _ => Cow::Borrowed(number),
    }
}

/// A digit or two in brackets beside a number (`415-555-2607 (2)`, `2) 415...`, `(2) 415...`):
/// a note or a list's numbering, which read as part of the number would make it another
/// country's (`+41 555 526 072`). `(0)` and area codes (`(030)`, `(415)`) are a number's own,
/// and so is `(1)` (North America's code) or two or three digits before one (a country code).
fn a_digit_beside(number: &str) -> Option<&'static str> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if let Some(inner) = number.strip_suffix(')')
        && let Some((before, note)) = inner.rsplit_once('(')
        && before.ends_with(' ')
        && note.len() <= 2
        && digits(note)
    {
        return Some(
            "ends with a digit in brackets, which is no part of a phone number: remove it, or \
             write the number with + and its country code if it is one",
        );
    }
    let (lead, rest) = number.split_once(") ")?;
    let lead_alone = lead.len() == 1 && digits(lead);
    let single_code = lead
        .strip_prefix('(')
        .is_some_and(|d| d.len() == 1 && digits(d) && !matches!(d, "0" | "1"));
    let rest_digits = rest.bytes().filter(u8::is_ascii_digit).count();
    ((lead_alone || single_code) && rest_digits >= 9).then_some(
        "starts with a digit in brackets, which reads as a country code or a list's numbering: \
         write the number with + and its country code, or without the bracket",
    )
}

/// Whether an ASCII letter lies between a number's digits, or one that looks like a digit is
/// glued to them (`415-555-26O1`, `(415) 555-l234`, `4322O`): the crate would read it as a
/// phone keypad's digit, giving another number. Words apart from the digits (`1-800-FLOWERS`) are left to the crate, and
/// so is an extension's marker without digits (`415-555-2671x`).
fn letters_among_digits(number: &str) -> bool {
    // Most numbers: no letters at all.
    if !number.bytes().any(|b| b.is_ascii_alphabetic()) {
        return false;
    }
    let ends_with = |marker: &str| {
        number.len() >= marker.len()
            && number.is_char_boundary(number.len() - marker.len())
            && number[number.len() - marker.len()..].eq_ignore_ascii_case(marker)
    };
    let number = match ["ext.", "ext", "x"].into_iter().find(|m| ends_with(m)) {
        Some(marker) => &number[..number.len() - marker.len()],
        None => number,
    };
    let bytes = number.as_bytes();
    let (Some(first), Some(last)) = (
        bytes.iter().position(u8::is_ascii_digit),
        bytes.iter().rposition(u8::is_ascii_digit),
    ) else {
        return false;
    };
    // Glued to the first or last digit, only a letter that looks like a digit (`4322O`):
    // others are labels or notes (`M415...`, `...68priv`) the crate leaves out.
    let looks_like_a_digit = |at: Option<usize>| {
        at.and_then(|at| bytes.get(at))
            .is_some_and(|b| matches!(b, b'O' | b'o' | b'l' | b'I'))
    };
    bytes[first..last].iter().any(u8::is_ascii_alphabetic)
        || looks_like_a_digit(first.checked_sub(1))
        || looks_like_a_digit(Some(last + 1))
}

/// The number as written; failing that, a number with its country code but no `+`
/// (`447911123456`, or `0044...` where `00` is not the region's international prefix), or a
/// `+` number as its digits alone (`+316-12345678`), when that reads as a valid number.
pub(crate) fn slow(number: &str, region: Region) -> Result<PhoneE164, String> {
    match PhoneE164::parse(number, region) {
        Ok(phone) => Ok(phone),
        Err(err) => {
            let again = without_plus(number).or_else(|| plus_and_digits(number));
            if let Some(again) = again
                && let Ok(phone) = PhoneE164::parse(&again, region)
            {
                return Ok(phone);
            }
            if let Some(phone) = old_mexican(number, region) {
                return Ok(phone);
            }
            Err(format!("phone {}", err.reason))
        }
    }
}

/// A Mexican number as written before Mexico's 2019 change, read as it is written now (`+52`
/// and ten digits), when that is a valid number: a mobile's `1` after the country code
/// (`+52 1 55 1234 5678`, also after `00`, North America's `011` or without `+`), and in a
/// Mexican import the `044`/`045` mobile and `01` long-distance prefixes.
fn old_mexican(number: &str, region: Region) -> Option<PhoneE164> {
    let number = number.trim();
    let (plus, rest) = match number.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, number),
    };
    if !rest
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')'))
    {
        return None;
    }
    let digits: String = rest.chars().filter(char::is_ascii_digit).collect();
    let prefixes: &[&str] = match (plus, region.code()) {
        (true, _) => &["521"],
        (false, "MX") => &["044", "045", "01", "00521", "521"],
        (false, _) if region.calling_code() == 1 => &["011521", "00521", "521"],
        (false, _) => &["00521", "521"],
    };
    let ten = prefixes
        .iter()
        .find_map(|prefix| digits.strip_prefix(prefix).filter(|ten| ten.len() == 10))?;
    PhoneE164::parse(&format!("+52{ten}"), region).ok()
}

/// `+` and the digits, for a number of digits and separators only that may carry a country
/// code without `+`; `00` in front is taken as the international prefix.
pub(crate) fn without_plus(number: &str) -> Option<String> {
    if !digits_and_separators(number) {
        return None;
    }
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.strip_prefix("00").unwrap_or(&digits);
    (digits.len() >= 8 && !digits.starts_with('0')).then(|| format!("+{digits}"))
}

/// A `+` number of digits and separators as `+` and its digits alone. Written without
/// spaces (RFC 3966's form), the crate takes its first group for the country code, and
/// refuses `+316-12345678` (there is no +316) or `+351912-345-678`; yet a number written with
/// its country code means the same whatever its separators.
fn plus_and_digits(number: &str) -> Option<String> {
    let rest = number.trim().strip_prefix('+')?;
    // Spaces alone read as the crate reads them anyway: no second try for those.
    let punctuated = rest.contains(['-', '.', '(', ')']);
    (punctuated && digits_and_separators(rest)).then(|| {
        // `+34 (0) 612...`: a trunk's 0 written in brackets, which the crate drops only for
        // countries that have a trunk prefix.
        let rest = rest.replacen("(0)", "", 1);
        let digits = rest.chars().filter(char::is_ascii_digit);
        std::iter::once('+').chain(digits).collect()
    })
}

/// Whether `number` holds only digits and the separators the crate reads in a number.
fn digits_and_separators(number: &str) -> bool {
    number
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')'))
}

pub(crate) enum ExcelNumber {
    Not,
    Digits(String),
    Shortened,
}

/// Numbers Excel rewrote: `4155552671.0` (a float), `4.47911123456E+11` (scientific
/// notation). Scientific notation is exact only when the mantissa holds every digit, that is
/// when no zeros have to be appended: `4.48E+11` may have been any of a thousand numbers.
/// A decimal comma (`4,47911123456E+11`, from European Excel) is read as a point.
pub(crate) fn excel_number(cell: &str) -> ExcelNumber {
    if let Some(digits) = thousands_grouped(cell) {
        return ExcelNumber::Digits(digits);
    }
    if let Some((int, zeros)) = cell.split_once(['.', ','])
        && int.len() >= 6
        && int.bytes().all(|b| b.is_ascii_digit())
        && !zeros.is_empty()
        && zeros.bytes().all(|b| b == b'0')
    {
        return ExcelNumber::Digits(int.to_owned());
    }
    let Some((mantissa, exponent)) = cell.split_once(['E', 'e']) else {
        return ExcelNumber::Not;
    };
    let exponent = exponent.strip_prefix('+').unwrap_or(exponent);
    let (int, frac) = mantissa.split_once(['.', ',']).unwrap_or((mantissa, ""));
    let numeric = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty()
        || !numeric(int)
        || !numeric(frac)
        || exponent.is_empty()
        || !numeric(exponent)
        || exponent.len() > 2
    {
        return ExcelNumber::Not;
    }
    let Ok(shift) = exponent.parse::<usize>() else {
        return ExcelNumber::Not;
    };
    if shift > frac.len() {
        return ExcelNumber::Shortened;
    }
    // shift < frac.len() would leave a fraction: not a phone number, so let the parser say so.
    if shift < frac.len() {
        return ExcelNumber::Not;
    }
    ExcelNumber::Digits(format!("{int}{frac}"))
}

/// A number written with its digits grouped, as its digits: Excel's thousands separators (a
/// column formatted as a number with them: `4,155,559,103`, Swiss `791'234'567` with an
/// apostrophe or U+2019), India's lakhs and crores (`9,87,65,43,210`), or pairs
/// (`91,98,76,54,32,10`). One separator only, between well-formed groups, so that a list of
/// numbers or a comma-separated value is not merged into one. Dots need no undoing: the crate
/// reads them as a number's punctuation.
fn thousands_grouped(cell: &str) -> Option<String> {
    let separator = cell
        .chars()
        .find(|&c| matches!(c, ',' | '\'' | '\u{2019}'))?;
    let groups: Vec<&str> = cell.split(separator).collect();
    let digits = |s: &&str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !groups.iter().all(digits) {
        return None;
    }
    let lens: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    // Seven digits at least: shorter is no phone number anyway.
    Some(groups.concat()).filter(|number| well_grouped(&lens) && number.len() >= 7)
}

/// Whether groups of these lengths (three at least) are a grouping of one number: a first of
/// 1 to 3 digits and threes after it (thousands), or a first of 1 or 2 and twos after it,
/// the last of two or three (pairs, or lakhs and crores).
fn well_grouped(lens: &[usize]) -> bool {
    let [first, middle @ .., last] = lens else {
        return false;
    };
    let thousands = (1..=3).contains(first) && middle.iter().chain([last]).all(|&len| len == 3);
    let twos = (1..=2).contains(first) && middle.iter().all(|&len| len == 2);
    !middle.is_empty() && (thousands || (twos && matches!(last, 2 | 3)))
}

#[cfg(test)]
mod tests {
    use super::notes::{LINE_LABELS, OPTED_OUT_PHRASES, SOMEONE_ELSES, says, says_not_a_mobile};
    use super::*;

    fn read(raw: &str, region: &str) -> Result<String, String> {
        PhoneReader::new(region.parse().unwrap())
            .read(raw)
            .map(|p| p.to_string())
    }

    /// The byte scan that spares most cells a copy notices every character [`plain`] changes.
    #[test]
    fn the_scan_sees_every_character_plain_changes() {
        let changed = (0..=0xFFFF)
            .filter_map(char::from_u32)
            .filter(|&c| plain_char(c) != Some(c));
        for c in changed {
            let cell = format!("05{c}0");
            assert!(
                matches!(plain(&cell), Cow::Owned(_)),
                "U+{:04X}",
                u32::from(c)
            );
        }
        assert!(matches!(plain("+971 50 123 4567"), Cow::Borrowed(_)));
    }

    #[test]
    fn what_people_write() {
        for (raw, region, want) in [
            ("(415) 555-2671", "US", "+14155552671"),
            ("+1 415 555 2688 (mobile)", "US", "+14155552688"),
            ("Mobile: (415) 555-2688", "US", "+14155552688"),
            ("tel:+1-415-555-2688", "GB", "+14155552688"),
            ("Work phone: 415 555 2688", "US", "+14155552688"),
            ("M: 07911 123456", "GB", "+447911123456"),
            ("T: 020 7946 0018", "GB", "+442079460018"),
            ("Tel.: 020 7946 0018", "GB", "+442079460018"),
            ("Telefon: 0151 23456789", "DE", "+4915123456789"),
            ("07911 123456 (UK)", "GB", "+447911123456"),
            ("+1 415 555 2671 (WhatsApp)", "US", "+14155552671"),
            ("415-555-2671 mobile", "US", "+14155552671"),
            ("415 555 2671 - cell", "US", "+14155552671"),
            ("Mobile 07911 123456", "GB", "+447911123456"),
            ("415.555.2671", "US", "+14155552671"),
            ("+1 415-555-2671", "GB", "+14155552671"),
            ("1-415-555-2671", "US", "+14155552671"),
            ("0044 7911 123456", "US", "+447911123456"),
            ("0044 7911 123456", "GB", "+447911123456"),
            ("07911 123456", "GB", "+447911123456"),
            ("0151 23456789", "DE", "+4915123456789"),
            // Country code without `+`: nationally invalid, internationally valid.
            ("14155552671", "US", "+14155552671"),
            ("447911123456", "US", "+447911123456"),
            ("447911123456", "GB", "+447911123456"),
            ("14155552671", "GB", "+14155552671"),
            ("4915123456789", "US", "+4915123456789"),
            // Extensions are dropped.
            ("(415) 555-2671 x123", "US", "+14155552671"),
            ("415-555-2671 ext. 123", "US", "+14155552671"),
            ("415-555-2671 #123", "US", "+14155552671"),
            ("415 555 2671 extension 9", "US", "+14155552671"),
            ("+14155552671;ext=5", "US", "+14155552671"),
            ("415-555-2671 (ext 12)", "US", "+14155552671"),
            ("415-555-2671 (Ext. 12)", "US", "+14155552671"),
            ("020 7946 0018 [x12]", "GB", "+442079460018"),
            ("(415) 555-2671 (extension 9)", "US", "+14155552671"),
            // Excel: leading zero lost, floats, scientific notation, text prefix.
            ("7911123456", "GB", "+447911123456"),
            ("15123456789", "DE", "+4915123456789"),
            ("4155552671.0", "US", "+14155552671"),
            ("4.47911123456E+11", "US", "+447911123456"),
            ("4,47911123456E+11", "US", "+447911123456"),
            // ...but where it is also a valid national number, the national reading wins.
            ("447911123456", "DE", "+49447911123456"),
            ("4.155552671E+09", "US", "+14155552671"),
            ("'+44 7911 123456", "US", "+447911123456"),
            ("'07911123456", "GB", "+447911123456"),
        ] {
            assert_eq!(read(raw, region).as_deref(), Ok(want), "{raw} in {region}");
        }
    }

    #[test]
    fn rejections_name_the_value() {
        let err = read("4.48E+11", "GB").unwrap_err();
        assert!(
            err.contains("`4.48E+11`") && err.contains("shortened by Excel"),
            "{err}"
        );
        let err = read("555-0199", "US").unwrap_err();
        assert!(err.contains("`555-0199`"), "{err}");
        assert_eq!(read("  ", "US").unwrap_err(), "phone is missing");
        let err = read("call me", "US").unwrap_err();
        assert!(err.contains("`call me` has no digits"), "{err}");
        // A digit in brackets beside the number would make it another country's.
        for (raw, region) in [
            ("415-555-2607 (2)", "US"),
            ("(415) 555-2607 (2)", "US"),
            ("415.555.2607 (1)", "US"),
            ("(2) 415-555-2607", "US"),
            ("2) 415-555-2607", "US"),
            ("(7) 415-555-2607", "US"),
            ("7911 123801 (2)", "GB"),
            ("(2) 0151 23456787", "DE"),
        ] {
            let err = read(raw, region).unwrap_err();
            assert!(
                err.contains("a digit in brackets"),
                "{raw} in {region}: {err}"
            );
        }
        // The region is named only where it was used: for a number without a country code.
        let err = read("+44 7911 12345", "US").unwrap_err();
        assert!(!err.contains("read as"), "{err}");
        let err = read("7911 12345", "GB").unwrap_err();
        assert!(err.contains("read as a number of GB"), "{err}");
        // A note saying the number is not a mobile refuses it, whatever its punctuation.
        for cell in [
            "020 7946 0018 (fax)",
            "Fax: 020 7946 0018",
            "Fax.: 020 7946 0018",
            "Fax 020 7946 0018",
            "Fax/020 7946 0018",
            "020 7946 0018 fax",
            "Old: 415 555 2671",
            "020 7946 0018 (Festnetz)",
            "07911 123456 (old number)",
            "07911 123456 (former cell)",
            "07911 123456 (old one)",
            "07911 123456 (old, moved to Texas)",
            "07911 123456 (old - use email)",
            "OLD 07911 123456",
        ] {
            let err = read(cell, "GB").unwrap_err();
            assert!(err.contains("not a mobile"), "{cell}: {err}");
        }
        // Not when the note says the opposite, or "old" names a place.
        for cell in [
            "07911 123456 (no fax)",
            "07911 123456 (Old Town office)",
            "Old Street shop: 07911 123456",
        ] {
            assert_eq!(read(cell, "GB").as_deref(), Ok("+447911123456"), "{cell}");
        }
        for cell in [
            "07911 123456 (wife's cell)",
            "Emergency: 07911 123456",
            "07911 123456 (mom)",
            "Mum\u{2019}s mobile: 07911 123456",
            "Mutter: 07911 123456",
        ] {
            let err = read(cell, "GB").unwrap_err();
            assert!(err.contains("someone else's"), "{cell}: {err}");
        }
        // Words beside a number that are not a line's label are left to the crate, which
        // refuses them.
        for cell in ["415 555 2605 not in service", "415 555 2605 number changed"] {
            assert!(read(cell, "US").is_err(), "{cell}");
        }
    }

    /// A note saying the owner is not to be texted keeps the number, and says so.
    #[test]
    fn a_note_saying_not_to_text_is_an_opt_out() {
        for cell in [
            "07911 123456 (do not call)",
            "07911 123456 (Do Not Text)",
            "07911 123456 (don't text)",
            "Do not text - 07911 123456",
            "DNC-07911 123456",
            "07911 123456 keine SMS",
            "07911 123456 (Don\u{2019}t text)",
            "07911 123456 (Work - do not text)",
            "07911 123456 (no texts)",
            "07911 123456 (calls only)",
            "07911 123456 (no marketing)",
            "07911 123456 (text: no)",
            "07911 123456 (SMS - no)",
            "07911 123456 (Texts: No)",
            "07911 123456 (no texting)",
            "07911 123456 (no text messages)",
            "07911 123456 (no promo)",
            "07911 123456 (voice only)",
            "07911 123456 call only",
            "07911 123456 text no",
            "Calls only: 07911 123456",
        ] {
            assert_eq!(read(cell, "GB").as_deref(), Ok("+447911123456"), "{cell}");
            assert!(note_opts_out(cell), "{cell}");
        }
        // A number's label is no "no" to texts, nor is a patient's "no messages" (leave no
        // voicemail).
        for cell in [
            "SMS No: 07911 123456",
            "Text no. 07911 123456",
            "07911 123456 (home, no messages)",
        ] {
            assert!(!note_opts_out(cell), "{cell}");
        }
        assert_eq!(
            read("SMS No: 07911 123456", "GB").as_deref(),
            Ok("+447911123456")
        );
        // Nor does any of these phrases say the number is not a mobile or someone else's.
        for phrase in OPTED_OUT_PHRASES {
            assert!(!says_not_a_mobile(phrase), "{phrase}");
            assert!(!says(phrase, &SOMEONE_ELSES, &[]), "{phrase}");
            assert!(!says(phrase, &LINE_LABELS, &[]), "{phrase}");
        }
        for cell in [
            "07911 123456 (mobile)",
            "07911 123456",
            "Piano text 07911 123456",
            "Dontae: 07911 123456",
        ] {
            assert!(!note_opts_out(cell), "{cell}");
        }
    }

    /// Both paths, which must agree.
    fn read_both(raw: &str, region: &str) -> Result<String, String> {
        let mut reader = PhoneReader::new(region.parse().unwrap());
        let slow = reader.read_slow(raw).map(|p| p.to_string());
        let fast = reader.read(raw).map(|p| p.to_string());
        assert_eq!(fast, slow, "{raw} in {region}");
        fast
    }

    /// A country named beside a number without a country code is the number's, not the
    /// import's region: a stranger in the import's country must not be texted.
    #[test]
    fn a_country_named_beside_the_number_is_the_numbers() {
        // Valid only there, or a mobile only there: read for the country named.
        for (raw, region, want) in [
            ("Österreich 0664 1234568", "DE", "+436641234568"),
            ("Oesterreich 0664 1234569", "DE", "+436641234569"),
            ("Schweiz 079 123 45 68", "DE", "+41791234568"),
            ("NZ 021 123 4567", "AU", "+64211234567"),
            ("New Zealand 021 123 4568", "AU", "+64211234568"),
            ("USA 415-555-2671", "GB", "+14155552671"),
            ("415-555-2672 (U.S.)", "GB", "+14155552672"),
            ("Ireland 087 123 4567", "GB", "+353871234567"),
            ("Éire 087 123 4568", "GB", "+353871234568"),
            ("UK 07911 123456", "US", "+447911123456"),
            ("07911 123457 (uk mobile)", "US", "+447911123457"),
            // In brackets before the number, or square ones after it.
            ("(UK) 07911 123501", "US", "+447911123501"),
            ("[GB] 07911 123502", "US", "+447911123502"),
            ("(USA) 415-555-2601", "GB", "+14155552601"),
            ("(Mexico) 55 1234 5601", "GB", "+525512345601"),
            ("(MX) 55 1234 5602", "GB", "+525512345602"),
            ("55 1234 5603 [MX]", "GB", "+525512345603"),
            ("(mobile) 07911 123503", "GB", "+447911123503"),
            ("(Mobile) (0151) 2345 6789", "DE", "+4915123456789"),
            ("(Work) (UK) 07911 123904", "US", "+447911123904"),
            // Other countries named in the file's language.
            ("(Frankreich) 06 12 34 56 78", "DE", "+33612345678"),
            ("(Polen) 512 345 678", "DE", "+48512345678"),
            ("Angleterre 07911 123905", "FR", "+447911123905"),
            ("Großbritannien 07911 123906", "DE", "+447911123906"),
            // A number's own brackets.
            ("+44 (0) 20 7946 0018", "GB", "+442079460018"),
            ("(1) 415-555-2610", "US", "+14155552610"),
            ("(030) 1234567", "DE", "+49301234567"),
            // Excel's thousands separators.
            ("4,155,559,103", "US", "+14155559103"),
            ("447,911,123,456", "US", "+447911123456"),
            // Typed full width.
            (
                "\u{ff14}\u{ff11}\u{ff15}\u{ff0d}\u{ff15}\u{ff15}\u{ff15}\u{ff0d}\u{ff12}\u{ff16}\u{ff11}\u{ff15}",
                "US",
                "+14155552615",
            ),
            (
                "\u{ff0b}\u{ff18}\u{ff11} 90 1234 5678",
                "US",
                "+819012345678",
            ),
            // The import's own country changes nothing.
            ("07911 123456 (UK)", "GB", "+447911123456"),
            ("Mexico 55 1234 5679", "MX", "+525512345679"),
            // A number with its own country code keeps it.
            ("+44 7911 123456 (Mexico)", "US", "+447911123456"),
            ("011 44 7911 123456 (Mexico)", "US", "+447911123456"),
            ("MX +1 415 555 2671", "GB", "+14155552671"),
            // A word that names a country but is a name or a region here ("Jordan:", Como,
            // Northern Ireland): the import's reading stands where the other is no number,
            // or no mobile where it is one.
            ("India 415-555-2677", "US", "+14155552677"),
            ("Jersey 201-555-2682", "US", "+12015552682"),
            ("(415) 555-2676 BR", "US", "+14155552676"),
            ("India: 07911 123456", "GB", "+447911123456"),
            ("Chad: 415 555 2671", "US", "+14155552671"),
            ("07911 123464 (NI)", "GB", "+447911123464"),
            ("Ireland 07911 123456", "GB", "+447911123456"),
            ("USA 020 7946 0018", "GB", "+442079460018"),
            ("NZ 0412 345 678", "AU", "+61412345678"),
            // Labels, lower-case words, and North American states are no countries.
            ("PH: 415 555 2671", "US", "+14155552671"),
            ("Ph: 415 555 2671", "US", "+14155552671"),
            ("415 555 2671 (CA)", "US", "+14155552671"),
            ("415 555 2671 (DE)", "US", "+14155552671"),
            ("415 555 2671 (Georgia)", "US", "+14155552671"),
            ("415 555 2671 (in)", "US", "+14155552671"),
            ("415 555 2671 (no)", "US", "+14155552671"),
            ("Mobile 07911 123456", "GB", "+447911123456"),
        ] {
            assert_eq!(
                read_both(raw, region).as_deref(),
                Ok(want),
                "{raw} in {region}"
            );
        }
        // A mobile both at home and in the country named: which is meant cannot be told, so
        // the number is refused rather than texting a stranger.
        for (raw, region) in [
            ("Mexico 55 1234 5679", "US"),
            ("MX 55 1234 5680", "US"),
            ("55 1234 5681 (Mexico)", "US"),
            ("55 1234 5682 (MX)", "US"),
            ("(MX) 55 1234 5611", "US"),
            ("[MX] 55 1234 5623", "US"),
            ("(Mexico) 33 1234 5613", "US"),
            ("México 55 1234 5683", "US"),
            ("Mexico: 55 1234 5686", "US"),
            ("MEX 55 1234 5687", "US"),
            ("USA 415-555-2675", "MX"),
            ("333 123 4570 (CO)", "IT"),
        ] {
            let err = read_both(raw, region).unwrap_err();
            assert!(
                err.contains("the country written beside it") && err.contains("country code"),
                "{raw} in {region}: {err}"
            );
        }
        let err = read_both("Mexico 55 1234 5679 (USA)", "GB").unwrap_err();
        assert!(err.contains("names two countries"), "{err}");
    }

    /// The crate reads letters as a phone keypad's digits: a letter O or l typed for 0 or 1
    /// would give another number.
    #[test]
    fn letters_among_the_digits_are_refused() {
        for (raw, region) in [
            ("415-555-26O1", "US"),
            ("(415) 555-l234", "US"),
            ("415 555 2O2O", "US"),
            ("+91 98765 4322O", "US"),
            ("O7911 123456", "GB"),
            ("Mobile: 07911 12345l", "GB"),
            ("07911 l23456 (mobile)", "GB"),
            ("415-555-26O1 x12", "US"),
        ] {
            let err = read_both(raw, region).unwrap_err();
            assert!(
                err.contains(&format!("`{raw}`"))
                    && err.contains("letters among its digits")
                    && err.contains("in digits"),
                "{raw}: {err}"
            );
        }
        // Words apart from the digits are the crate's, as before, and so are other letters
        // glued to the ends: labels and notes (`M415...`, `...68priv`).
        assert!(read_both("1-800-FLOWERS", "US").is_ok());
        for raw in ["415-555-2671y", "M415-555-2671", "0171/1234568priv"] {
            let read = read_both(raw, "US");
            assert!(
                read.as_ref().is_ok() || !read.as_ref().unwrap_err().contains("letters among"),
                "{raw}: {read:?}"
            );
        }
        assert_eq!(
            read_both("415-555-2671x", "US").as_deref(),
            Ok("+14155552671")
        );
        assert_eq!(
            read_both("415 555 2671 ext. 9", "US").as_deref(),
            Ok("+14155552671")
        );
        assert_eq!(
            read_both("4.47911123456E+11", "US").as_deref(),
            Ok("+447911123456")
        );
    }

    /// Mexico dropped the `1` after +52 and the 044/045/01 prefixes in 2019.
    #[test]
    fn old_mexican_forms_are_read_as_written_now() {
        for (raw, region, want) in [
            ("+5215512345679", "US", "+525512345679"),
            ("+52 1 33 1234 5678", "US", "+523312345678"),
            ("+52 1 55 1234 5679", "MX", "+525512345679"),
            ("00 52 1 55 1234 5679", "GB", "+525512345679"),
            ("011 52 1 55 1234 5679", "US", "+525512345679"),
            ("044 55 1234 5679", "MX", "+525512345679"),
            ("045 55 1234 5679", "MX", "+525512345679"),
            ("01 55 1234 5679", "MX", "+525512345679"),
            ("044 55 1234 5679 (Mexico)", "US", "+525512345679"),
        ] {
            assert_eq!(
                read_both(raw, region).as_deref(),
                Ok(want),
                "{raw} in {region}"
            );
        }
        // Only for Mexico.
        for (raw, region) in [("044 55 1234 5679", "US"), ("01 55 1234 5679", "GB")] {
            assert!(read_both(raw, region).is_err(), "{raw} in {region}");
        }
    }

    #[test]
    fn extension_markers() {
        assert_eq!(strip_extension("415 555 2671"), "415 555 2671");
        assert_eq!(strip_extension("415 555 2671x12"), "415 555 2671");
        assert_eq!(strip_extension("415 555 2671, ext: 12"), "415 555 2671");
        assert_eq!(strip_extension("+14155552671;ext=5"), "+14155552671");
        assert_eq!(strip_extension("fax 12"), "fax 12");
    }

    #[test]
    fn extension_markers_in_other_languages() {
        for (cell, number) in [
            ("514 555-1234 poste 123", "514 555-1234"),
            ("514 555-1234 P. 22", "514 555-1234"),
            ("514 555-1234 p.: 22", "514 555-1234"),
            ("514 555-1234 (Poste 123)", "514 555-1234"),
            ("02 1234 5678 int. 21", "02 1234 5678"),
            ("02 1234 5678 [int. 21]", "02 1234 5678"),
            ("02 1234 5678 interno 21", "02 1234 5678"),
            ("91 123 45 67 anexo 3", "91 123 45 67"),
            ("(11) 2345-6789 ramal 12", "(11) 2345-6789"),
            ("22 123 45 67 wew. 12", "22 123 45 67"),
            ("020 123 4567 toestel 12", "020 123 4567"),
        ] {
            assert_eq!(strip_extension(cell), number, "{cell}");
        }
        // Abbreviations need their dot, markers digits after them and a number before them,
        // and none is the end of a word.
        for cell in [
            "514 555-1234 p 22",
            "514 555-1234 int 22",
            "514 555-1234 shop. 22",
            "514 555-1234 print. 22",
            "514 555-1234 Laposte 22",
            "514 555-1234 poste",
            "poste 123",
            "514 555-1234 (int 22)",
        ] {
            assert_eq!(strip_extension(cell), cell, "{cell}");
        }
    }

    /// Excel's digit groupings are undone; anything else that has commas is left alone.
    #[test]
    fn digit_groupings() {
        for (cell, digits) in [
            ("4,155,559,103", "4155559103"),
            ("791'234'567", "791234567"),
            ("791\u{2019}234\u{2019}567", "791234567"),
            ("9,87,65,43,210", "9876543210"),
            ("91,98,76,54,32,10", "919876543210"),
        ] {
            assert_eq!(thousands_grouped(cell).as_deref(), Some(digits), "{cell}");
        }
        for cell in [
            "98765,43210",
            "4155552671,4155552672",
            "415,555,2671",
            "9,87,65,432,10",
            "987,65,43,210",
            "1,23,456",
            "12,34,56",
            "791'234,567",
            "1,,234,567",
            "9,87,65,43,210,",
        ] {
            assert_eq!(thousands_grouped(cell), None, "{cell}");
        }
    }
}
