//! Phone cells to E.164: what spreadsheets do to numbers, then the fast path, then the
//! `phonenumber` crate (through [`PhoneE164::parse`]) for everything else.

use std::borrow::Cow;

use smscrm_domain::{PhoneE164, Region};

use crate::fastpath::FastPath;

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
        let number = prepare(raw)?;
        if let Some(known) = self.fast.lookup(&number) {
            return known;
        }
        slow(&number, self.region)
    }

    pub fn region(&self) -> Region {
        self.region
    }

    /// A cell read for another region, without the fast path (whose cache is the import
    /// region's).
    pub fn read_for(&self, raw: &str, region: Region) -> Result<PhoneE164, String> {
        slow(&prepare(raw)?, region)
    }

    /// How many numbers the fast path answered (the rest went to the crate).
    pub fn fast_path_hits(&self) -> u64 {
        self.fast.hits()
    }

    /// The same without the fast path: the reference the fast path is tested against.
    pub fn read_slow(&self, raw: &str) -> Result<PhoneE164, String> {
        slow(&prepare(raw)?, self.region)
    }
}

/// Undoes what spreadsheets do to a phone cell and drops an extension.
fn prepare(raw: &str) -> Result<Cow<'_, str>, String> {
    let cell = raw.trim();
    // Excel's "treat as text" prefix.
    let cell = cell.strip_prefix('\'').unwrap_or(cell).trim();
    let cell = strip_label(cell)?;
    if cell.is_empty() {
        return Err("phone is missing".into());
    }
    match excel_number(cell) {
        ExcelNumber::Not => Ok(Cow::Borrowed(strip_extension(cell))),
        ExcelNumber::Digits(digits) => Ok(Cow::Owned(digits)),
        ExcelNumber::Shortened => Err(format!(
            "phone `{cell}` was shortened by Excel (scientific notation keeps only some \
             digits); format the column as text and export again"
        )),
    }
}

/// The number as written; failing that, a number with its country code but no `+`
/// (`447911123456`, or `0044...` where `00` is not the region's international prefix), when
/// that reads as a valid international number.
pub(crate) fn slow(number: &str, region: Region) -> Result<PhoneE164, String> {
    match PhoneE164::parse(number, region) {
        Ok(phone) => Ok(phone),
        Err(err) => {
            if let Some(international) = without_plus(number)
                && let Ok(phone) = PhoneE164::parse(&international, region)
            {
                return Ok(phone);
            }
            Err(format!("phone {}", err.reason))
        }
    }
}

/// `+` and the digits, for a number of digits and separators only that may carry a country
/// code without `+`; `00` in front is taken as the international prefix.
pub(crate) fn without_plus(number: &str) -> Option<String> {
    if !number
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')'))
    {
        return None;
    }
    let digits: String = number.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.strip_prefix("00").unwrap_or(&digits);
    (digits.len() >= 8 && !digits.starts_with('0')).then(|| format!("+{digits}"))
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

/// Words in a note beside a number that say it is not a mobile to text (the row is refused).
const NOT_A_MOBILE: [&str; 14] = [
    "fax",
    "deceased",
    "dead",
    "old",
    "former",
    "wrong",
    "invalid",
    "disconnected",
    "landline",
    "pager",
    "festnetz",
    "fixe",
    "ancien",
    "verstorben",
];
/// Words in a note beside a number that say it is someone else's (`(wife's cell)`): not the
/// contact's to text (the row is refused).
const SOMEONE_ELSES: [&str; 31] = [
    "wife",
    "husband",
    "spouse",
    "partner",
    "mother",
    "mom",
    "mum",
    "father",
    "dad",
    "son",
    "daughter",
    "sister",
    "brother",
    "parent",
    "parents",
    "guardian",
    "carer",
    "caregiver",
    "assistant",
    "emergency",
    "boss",
    "neighbour",
    "neighbor",
    "ehefrau",
    "ehemann",
    "mutter",
    "vater",
    "notfall",
    "urgence",
    "mama",
    "papa",
];

/// Words in a note beside a number that say its owner is not to be texted: the row imports
/// with an opt-out.
const OPTED_OUT: [&str; 5] = ["dnc", "unsubscribed", "stop", "optout", "dnd"];
/// Phrases to the same effect.
const OPTED_OUT_PHRASES: [&str; 13] = [
    "do not",
    "don't",
    "dont",
    "no sms",
    "no text",
    "opted out",
    "never text",
    "keine sms",
    "kein sms",
    "nicht anrufen",
    "ne pas",
    "no llamar",
    "no enviar",
];
/// What a note may say about a number's line when it stands beside it without brackets or a
/// colon (`Mobile 07911 ...`, `415-555-2671 cell`); other words there are left to the crate.
const LINE_LABELS: [&str; 22] = [
    "mobile",
    "mob",
    "cell",
    "cellphone",
    "home",
    "work",
    "office",
    "business",
    "personal",
    "private",
    "privat",
    "handy",
    "mobil",
    "portable",
    "movil",
    "whatsapp",
    "main",
    "primary",
    "direct",
    "phone",
    "tel",
    "telephone",
];

/// Drops the notes written beside the number, as the crate drops leading text: `(mobile)`,
/// `M: 07911...`, `tel:+44...`, `(UK)`, `Mobile 07911...`. A note saying the number is not a
/// mobile to text (`(fax)`, `Old:`) refuses the cell; one saying its owner is not to be texted
/// (`(do not text)`) is dropped here, and [`note_opts_out`] tells the row.
fn strip_label(cell: &str) -> Result<&str, String> {
    // Most cells: no letters, no notes.
    if !cell.contains(char::is_alphabetic) {
        return Ok(cell);
    }
    // Whatever the punctuation around it (`Fax/020...`).
    if says_not_a_mobile(cell) {
        return Err(format!(
            "phone `{cell}` carries a note saying it is not a mobile to text: remove the note \
             if this number may be texted"
        ));
    }
    if says(cell, &SOMEONE_ELSES, &[]) {
        return Err(format!(
            "phone `{cell}` carries a note saying it is someone else's number: put the \
             contact's own number there"
        ));
    }
    Ok(notes_beside(cell).0)
}

/// Whether text in a phone cell says its owner is not to be texted (`(do not text)`,
/// `DNC-415...`).
pub(crate) fn note_opts_out(cell: &str) -> bool {
    cell.contains(char::is_alphabetic) && says(cell, &OPTED_OUT, &OPTED_OUT_PHRASES)
}

/// The number in a phone cell and the notes beside it. A note is letters, spaces, `.` and `'`
/// only, so `(415) 555-2671` keeps its area code.
fn notes_beside(cell: &str) -> (&str, Vec<&str>) {
    let is_note = |s: &str| {
        s.chars().any(char::is_alphabetic)
            && s.chars().all(|c| {
                c.is_alphabetic() || matches!(c, ' ' | '.' | '\'' | '\u{2019}' | '-' | ',' | '/')
            })
    };
    // Without brackets or a colon, only words known to go beside numbers are notes.
    let is_bare_note = |s: &str| {
        is_note(s)
            && (says(s, &LINE_LABELS, &[])
                || says_not_a_mobile(s)
                || says(s, &OPTED_OUT, &OPTED_OUT_PHRASES))
    };
    let mut number = cell;
    let mut notes = Vec::new();
    if let Some(inner) = number.strip_suffix(')')
        && let Some(open) = inner.rfind('(')
        && is_note(&inner[open + 1..])
    {
        notes.push(inner[open + 1..].trim());
        number = inner[..open].trim_end();
    }
    if let Some((label, rest)) = number.split_once(':')
        && is_note(label.trim())
    {
        notes.push(label.trim());
        number = rest.trim_start();
    }
    if let Some(start) = number.find(|c: char| c.is_ascii_digit() || matches!(c, '+' | '('))
        && start > 0
        && is_bare_note(number[..start].trim())
    {
        notes.push(number[..start].trim());
        number = &number[start..];
    }
    if let Some(end) = number.rfind(|c: char| c.is_ascii_digit() || c == ')')
        && end + 1 < number.len()
    {
        let after = number[end + 1..]
            .trim_start_matches([' ', '-', '\u{2013}', ',', '/'])
            .trim();
        if is_bare_note(after) {
            notes.push(after);
            number = number[..end + 1].trim_end();
        }
    }
    (number, notes)
}

/// A note's words, lowercased, one space apart: anything but letters and `'` counts as a
/// space.
fn words_of(text: &str) -> String {
    let text: String = text
        .chars()
        .map(|c| match c {
            '\'' | '\u{2019}' => '\'',
            c if c.is_alphabetic() => c.to_lowercase().next().unwrap_or(c),
            _ => ' ',
        })
        .collect();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whether text has one of `words` or `phrases`, in any case. Whole words, a possessive's
/// `'s` aside ("Mum's mobile"); whole phrases ("Dontae" is no "dont").
fn says(text: &str, words: &[&str], phrases: &[&str]) -> bool {
    let joined = words_of(text);
    joined
        .split(' ')
        .any(|w| words.contains(&w.strip_suffix("'s").unwrap_or(w)))
        || phrases
            .iter()
            .any(|p| format!(" {joined} ").contains(&format!(" {p} ")))
}

/// Whether a note says the number is not a mobile to text: a word of [`NOT_A_MOBILE`] that
/// is not negated ("no fax" is not a fax), where "old" and its kin are about the number
/// ("Old:", "(old)", "old cell", "old, moved", "old one"), not a name ("Old Town office").
fn says_not_a_mobile(text: &str) -> bool {
    let words = words_and_stops(text);
    words.iter().enumerate().any(|(at, (word, stop))| {
        let word = word.as_str();
        if !NOT_A_MOBILE.contains(&word) {
            return false;
        }
        let before = at.checked_sub(1).map(|b| words[b].0.as_str());
        if matches!(
            before,
            Some("no" | "not" | "kein" | "keine" | "non" | "pas")
        ) {
            return false;
        }
        match word {
            "old" | "former" | "ancien" => {
                *stop
                    || words.get(at + 1).is_none_or(|(next, _)| {
                        LINE_LABELS.contains(&next.as_str())
                            || matches!(
                                next.as_str(),
                                "number"
                                    | "no"
                                    | "nr"
                                    | "num"
                                    | "line"
                                    | "landline"
                                    | "numero"
                                    | "numéro"
                                    | "nummer"
                                    | "fax"
                                    | "one"
                            )
                    })
            }
            _ => true,
        }
    })
}

/// A note's words, lowercased (letters and `'`), each with whether something other than a
/// space comes before the next word: punctuation or digits (`Old: 020...`, `old, moved`).
fn words_and_stops(text: &str) -> Vec<(String, bool)> {
    let mut words: Vec<(String, bool)> = Vec::new();
    let mut word = String::new();
    for c in text.chars() {
        let c = if c == '\u{2019}' { '\'' } else { c };
        if c.is_alphabetic() || c == '\'' {
            word.extend(c.to_lowercase());
            continue;
        }
        if !word.is_empty() {
            words.push((std::mem::take(&mut word), false));
        }
        if !c.is_whitespace()
            && let Some((_, stop)) = words.last_mut()
        {
            *stop = true;
        }
    }
    if !word.is_empty() {
        words.push((word, false));
    }
    words
}

/// Drops an extension: `x123`, `ext. 123`, `extension 123`, `#123` after the number, or
/// RFC 3966's `;ext=123`.
pub(crate) fn strip_extension(cell: &str) -> &str {
    let lower = cell.to_ascii_lowercase();
    // The extension's digits run to the end of the cell.
    let digits_start = lower.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    if digits_start == lower.len() {
        return cell;
    }
    let before = lower[..digits_start].trim_end_matches([' ', '.', ':', '=']);
    for marker in ["extension", "ext", "x", "#"] {
        if let Some(number) = before.strip_suffix(marker) {
            // A marker glued to a word ("fax") is not a marker.
            if marker.len() > 1 || !number.ends_with(|c: char| c.is_ascii_alphabetic()) {
                let number = number.trim_end_matches([' ', ',', ';']);
                if number.bytes().any(|b| b.is_ascii_digit()) {
                    return cell[..number.len()].trim_end();
                }
            }
        }
    }
    cell
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(raw: &str, region: &str) -> Result<String, String> {
        PhoneReader::new(region.parse().unwrap())
            .read(raw)
            .map(|p| p.to_string())
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
        ] {
            assert_eq!(read(cell, "GB").as_deref(), Ok("+447911123456"), "{cell}");
            assert!(note_opts_out(cell), "{cell}");
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

    #[test]
    fn extension_markers() {
        assert_eq!(strip_extension("415 555 2671"), "415 555 2671");
        assert_eq!(strip_extension("415 555 2671x12"), "415 555 2671");
        assert_eq!(strip_extension("415 555 2671, ext: 12"), "415 555 2671");
        assert_eq!(strip_extension("+14155552671;ext=5"), "+14155552671");
        assert_eq!(strip_extension("fax 12"), "fax 12");
    }
}
