//! Which code page a text that is not all UTF-8 was saved in: Excel's plain "CSV" is in the
//! code page of the Windows (or old Mac) it was saved on.
//!
//! The guess is `chardetng`'s (Firefox's detector for legacy web pages), checked against what
//! a contact list looks like: it has no Mac Roman, and with only a few accented letters to go
//! by it sometimes takes a Spanish or Icelandic file for a Central European one
//! (`Ibáñez` as `Ibáńez`), so a Latin code page other than Windows-1252 needs more evidence,
//! and another script's needs its words to look like words of that script.

use encoding_rs::{
    BIG5, EUC_KR, Encoding, GBK, ISO_8859_2, ISO_8859_4, ISO_8859_5, ISO_8859_13, KOI8_R, KOI8_U,
    MACINTOSH, SHIFT_JIS, WINDOWS_874, WINDOWS_1250, WINDOWS_1251, WINDOWS_1252, WINDOWS_1254,
    WINDOWS_1257, WINDOWS_1258,
};

pub(crate) type CodePage = &'static Encoding;

/// The name a code page is reported under.
pub(crate) fn label(code_page: CodePage) -> &'static str {
    match code_page {
        _ if code_page == MACINTOSH => "mac-roman",
        _ => code_page.name(),
    }
}

/// Non-ASCII bytes, and different byte values among them, a Latin code page other than
/// Windows-1252 needs before it is taken over Windows-1252: fewer, and the guess is as often a
/// Western file's letters read as Czech or Turkish ones as the other way round.
const LATIN_EVIDENCE: (usize, usize) = (8, 2);

/// The code page `bytes` (text that is not UTF-8, or only its runs that are not: see
/// [`not_utf8_runs`]) is in; `None` for text of another script than Latin's that no code page
/// reads with confidence, which would be imported as garbage.
pub(crate) fn guess(bytes: &[u8]) -> Option<CodePage> {
    let mut detector = chardetng::EncodingDetector::new();
    detector.feed(bytes, true);
    let guessed = detector.guess(None, false);
    if !is_latin(guessed) {
        if let Some(east_asian) = east_asian_not(guessed, bytes) {
            return Some(east_asian);
        }
        return match another_script(bytes) {
            // The detector takes a file of half-width katakana alone (the name readings of
            // old Japanese systems) for ISO-8859-5 Cyrillic, which no Excel saves in
            // (Windows-1251 capitals are those bytes too: `ПЕТРОВ`).
            true if guessed == ISO_8859_5 && half_width_katakana_only(bytes) => Some(SHIFT_JIS),
            true => Some(koi8_as_written(guessed, bytes)),
            // Accents among Latin letters: no Cyrillic or Greek words.
            false => Some(single_byte(bytes)),
        };
    }
    if foreign_code_page(bytes) {
        // Short Chinese names may look Latin to the detector (GBK's `淑芬` is `Êç·Ò`): read
        // so if they are no Cyrillic words either (Windows-1251's `Кз·Т`).
        let (cyrillic, _) = WINDOWS_1251.decode_without_bom_handling(bytes);
        return crate::script_words::no_words(&cyrillic, false)
            .then(|| east_asian_by_shapes(bytes))
            .flatten();
    }
    let ours = single_byte(bytes);
    match ours != MACINTOSH && OTHER_LATIN.contains(&guessed) && enough_evidence(bytes, guessed) {
        true => Some(guessed),
        // Windows-1252, Mac Roman (which the detector does not know, and takes for
        // Windows-1250: `Björn` as `Bjšrn`) or, by its letters, Windows-1250. The detector's
        // ISO code pages are none Excel saves in: it takes Polish Windows-1250 for ISO-8859-2
        // when it holds no `ś` or `ź` (`Dšbrowski`).
        false => Some(ours),
    }
}

/// The East Asian code page `bytes` are in where the detector took them for a single-byte
/// code page of another script, which reads them as no words of it (GBK's `伟,王` as
/// Windows-1251's `О°,Нх`: [`crate::script_words`]), if its characters read as one
/// ([`east_asian_by_shapes`]).
fn east_asian_not(guessed: CodePage, bytes: &[u8]) -> Option<CodePage> {
    if !guessed.is_single_byte() || guessed == WINDOWS_874 {
        return None;
    }
    let (read, _) = guessed.decode_without_bom_handling(bytes);
    // No Excel saves in ISO-8859-5: doubtful words are enough.
    match crate::script_words::no_words(&read, guessed == ISO_8859_5) {
        true => east_asian_by_shapes(bytes),
        false => None,
    }
}

/// The double-byte code page that reads every character of `bytes` beyond ASCII as an
/// everyday one apart from Latin letters, two or more: Korean's, whose everyday characters
/// take the fewest lead bytes, first; then Big5's, GBK's and Shift-JIS's.
fn east_asian_by_shapes(bytes: &[u8]) -> Option<CodePage> {
    let (mut best, mut best_score) = (None, 0);
    for shape in DOUBLE_BYTE.iter().rev() {
        let (apart, other, apart_bytes) = shape.characters(bytes);
        // By bytes: Shift-JIS reads GBK's characters as pairs of half-width katakana.
        let score = apart_bytes.saturating_sub(6 * other);
        if apart >= 2 && score > best_score && reads_in(shape.code_page, bytes) {
            (best, best_score) = (Some(shape.code_page), score);
        }
    }
    best
}

/// The detector names all KOI8 text KOI8-U, whose Ukrainian letters are box-drawing signs in
/// KOI8-R: Russian text without them is reported as KOI8-R, which reads it alike.
fn koi8_as_written(guessed: CodePage, bytes: &[u8]) -> CodePage {
    let ukrainian = |b: &u8| matches!(b, 0xA4 | 0xA6 | 0xA7 | 0xAD | 0xB4 | 0xB6 | 0xB7 | 0xBD);
    match guessed == KOI8_U && !bytes.iter().any(ukrainian) {
        true => KOI8_R,
        false => guessed,
    }
}

/// A country whose Windows writes its Latin letters in a code page other than Windows-1252,
/// which the detector cannot always tell from it: Hungarian Windows-1250 differs from it only
/// in `ő` and `ű` (Windows-1252's `õ` and `û`), a short Czech or Estonian file in a few
/// letters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RegionHint {
    code_page: CodePage,
    /// The country's letters beyond ASCII, lower case.
    letters: &'static str,
    /// Those of its letters its words never put before a vowel ([`SPELLING`]).
    never_before_a_vowel: &'static str,
    /// Those of its letters that end its words only after a vowel ([`SPELLING`]).
    ends_after_a_vowel: &'static str,
}

/// Where a country's words put some of its letters, lower case: the letters never put before a
/// vowel, and those ending a word only after a vowel (or an `r`). Polish writes `ni`, `si`,
/// `ci` and `zi` before a vowel, so `Begońa` and `Núńez` are Spanish (`Begoña`, `Núñez`:
/// Spanish puts `ñ` before a vowel only); a Slovak or Czech word ends in `č` as `Kováč` does,
/// so `Caffč` is Italian `Caffè`.
const SPELLING: &[(&str, &str, &str)] = &[("PL", "ćńśź", ""), ("SK", "", "čňŕ"), ("CZ", "", "čň")];

const REGION_HINTS: &[(&[&str], CodePage, &str)] = &[
    (&["HU"], WINDOWS_1250, "áéíóöőúüű"),
    (&["PL"], WINDOWS_1250, "ąćęłńóśźż"),
    (&["CZ"], WINDOWS_1250, "áčďéěíňóřšťúůýž"),
    (&["SK"], WINDOWS_1250, "áäčďéíĺľňóôŕšťúýž"),
    (&["SI"], WINDOWS_1250, "čšž"),
    (&["HR", "BA"], WINDOWS_1250, "čćđšž"),
    (&["RO"], WINDOWS_1250, "ăâîşţ"),
    (&["TR"], WINDOWS_1254, "çğıiöşüâîû"),
    (&["EE"], WINDOWS_1257, "äõöüšž"),
    (&["LV"], WINDOWS_1257, "āčēģīķļņšūž"),
    (&["LT"], WINDOWS_1257, "ąčęėįšųūž"),
    // Western countries, whose letters the detector may take for Central European ones
    // (Icelandic `Eyþór` as `Eyţór`, with enough of them).
    (&["IS", "FO"], WINDOWS_1252, "áæðéíóöúýþ"),
    (&["ES", "AD"], WINDOWS_1252, "áàçéèíïñóòúü"),
    (
        &[
            "MX", "AR", "CO", "CL", "PE", "VE", "EC", "GT", "CU", "BO", "DO", "HN", "PY", "SV",
            "NI", "CR", "PA", "UY", "PR",
        ],
        WINDOWS_1252,
        "áéíóúüñ",
    ),
    (&["PT", "BR", "AO", "MZ"], WINDOWS_1252, "áàâãçéêíóôõú"),
    (&["FR", "BE", "LU", "MC"], WINDOWS_1252, "àâæçéèêëîïôœùûüÿ"),
    (&["IT", "SM", "VA"], WINDOWS_1252, "àèéìíîòóùú"),
    (&["DE", "AT", "LI"], WINDOWS_1252, "äöüß"),
    (&["CH"], WINDOWS_1252, "äöüàâçéèêëîïôòìù"),
    (&["NL"], WINDOWS_1252, "áäéëèïíóöüú"),
    (&["DK", "NO"], WINDOWS_1252, "æøåé"),
    (&["SE"], WINDOWS_1252, "åäöé"),
    (&["FI"], WINDOWS_1252, "åäöšž"),
    // Another script's, for text too short to tell from UTF-8 ([`RegionHint::chance_utf8`]).
    (&["TH"], WINDOWS_874, ""),
    (&["CN", "SG"], GBK, ""),
    (&["TW", "HK", "MO"], BIG5, ""),
    (&["KR"], EUC_KR, ""),
    (&["JP"], SHIFT_JIS, ""),
];

impl RegionHint {
    /// The hint of the country `region` (an ISO 3166 code) names, if it has one.
    pub(crate) fn of(region: &str) -> Option<Self> {
        let (_, code_page, letters) = REGION_HINTS
            .iter()
            .find(|(regions, _, _)| regions.contains(&region))?;
        let (never_before_a_vowel, ends_after_a_vowel) = SPELLING
            .iter()
            .find(|(of, _, _)| *of == region)
            .map_or(("", ""), |(_, before, end)| (*before, *end));
        Some(Self {
            code_page: *code_page,
            letters,
            never_before_a_vowel,
            ends_after_a_vowel,
        })
    }

    /// `chosen`, a Latin code page guessed for `bytes`, or the country's when that reads them
    /// otherwise and only as its own letters and plain punctuation: a French `è` in a Polish
    /// tenant's list is no `č` (Polish has none), so that list stays Windows-1252.
    pub(crate) fn apply(self, chosen: CodePage, bytes: &[u8]) -> CodePage {
        if chosen == self.code_page {
            return chosen;
        }
        if !self.code_page.is_single_byte() {
            return self.east_asian(chosen, bytes);
        }
        if self.code_page == WINDOWS_874 {
            let thai = match is_latin(chosen) {
                true => thai_not_latin(chosen, bytes),
                // The detector takes a short Thai text for another script's (`ศิริพร` for
                // GBK's `仍迷久`), whose bytes Windows-874 seldom reads as Thai spelling, and
                // then with few vowels (a Korean or Chinese character's first byte is a Thai
                // consonant).
                false => reads_as_thai(bytes) && thai_vowels_enough(bytes),
            };
            return if thai { WINDOWS_874 } else { chosen };
        }
        if !is_latin(chosen) || !is_latin(self.code_page) {
            return chosen;
        }
        // One character a byte in both: the readings line up.
        let theirs: Vec<char> = self.reading(self.code_page, bytes);
        let ours: Vec<char> = self.reading(chosen, bytes);
        if theirs.len() != ours.len() {
            return chosen;
        }
        let mut differ = false;
        for (at, (&c, &was)) in theirs.iter().zip(&ours).enumerate() {
            if c.is_ascii() {
                continue;
            }
            if c.is_control() || c == '\u{FFFD}' {
                return chosen;
            }
            if c == was {
                continue;
            }
            let fits = match c.is_alphabetic() {
                true => self.own(c) && self.spelled_so(&theirs, at),
                // A spacing accent stands in no text: `½` is Windows-1250's `˝`.
                false => !matches!(c, '\u{2B0}'..='\u{2FF}' | '¨' | '´' | '¸' | '¯'),
            };
            if !fits {
                return chosen;
            }
            differ |= c.is_alphabetic();
        }
        match differ {
            true => self.code_page,
            false => chosen,
        }
    }

    fn reading(self, code_page: CodePage, bytes: &[u8]) -> Vec<char> {
        code_page
            .decode_without_bom_handling(bytes)
            .0
            .chars()
            .collect()
    }

    /// Whether `c` is one of the country's letters.
    fn own(self, c: char) -> bool {
        self.letters.contains(lower(c))
    }

    /// Whether the country's letter `read[at]` stands where its words put it: a consonant
    /// never alone (`£10` is no `Ł10`, a French `à` no Slovak `ŕ`), a letter its words never
    /// put before a vowel not before one (Polish `Begońa` is Spanish `Begoña`), and one they
    /// end only after a vowel not at a word's end after another consonant (Slovak and Czech
    /// `Caffč`, `Niccolň`, `Fontanŕ` are Italian `Caffè`, `Niccolò`, `Fontanà`; their `r`,
    /// `ŕ` and `ĺ` stand for vowels: `Krč`, `Kŕč`; `Kč` is short for koruna).
    fn spelled_so(self, read: &[char], at: usize) -> bool {
        let c = lower(read[at]);
        let before = at.checked_sub(1).and_then(|b| read.get(b)).copied();
        let after = read.get(at + 1).copied();
        let letter = |c: Option<char>| c.is_some_and(char::is_alphabetic);
        let consonant = |c: char| c.is_alphabetic() && !vowel(c);
        // An abbreviation's letter stands alone before its full stop (Czech `č.` for číslo).
        let alone = !letter(before) && !letter(after) && after != Some('.');
        let before_a_vowel = after.is_some_and(vowel);
        // In a word of four letters or more: `Kč` (koruna) is Czech.
        let word_start = read[..at].iter().rposition(|c| !c.is_alphabetic());
        let long_word = at - word_start.map_or(0, |start| start + 1) >= 3;
        let ends_after_a_consonant = !letter(after)
            && long_word
            && before.is_some_and(|b| consonant(b) && !"rŕĺ".contains(lower(b)));
        let misplaced = (consonant(c) && alone)
            || (self.never_before_a_vowel.contains(c) && before_a_vowel)
            || (self.ends_after_a_vowel.contains(c) && ends_after_a_consonant);
        !misplaced
    }
}

fn lower(c: char) -> char {
    c.to_lowercase().next().unwrap_or(c)
}

/// Whether `c` is a vowel of the Latin scripts the region hints write.
fn vowel(c: char) -> bool {
    "aąäâáàãåeęéèêëěiíìîïoóòôöõőuúùûüůűyýÿ".contains(lower(c))
}

impl RegionHint {
    /// `chosen`, or the country's East Asian code page when it reads `bytes` whole as its
    /// script (where a Latin code page was chosen, apart from Latin letters or with the Latin
    /// reading no words, `NBAÇòÃÔ` for `NBA球迷`: a French `é` read so is a kanji glued to
    /// them). A short list has too few characters for the
    /// detector, which takes `王,伟` for Cyrillic `РХ`; Cyrillic words, of any length, seldom
    /// all pair up into characters.
    fn east_asian(self, chosen: CodePage, bytes: &[u8]) -> CodePage {
        let (read, malformed) = self.code_page.decode_without_bom_handling(bytes);
        let script = read.chars().filter(|c| !c.is_ascii()).all(east_asian);
        let latin_words = || {
            let (latin, _) = chosen.decode_without_bom_handling(bytes);
            latin_glued_or(&latin, |c| "’‘“”–—€…·°«»\u{A0}".contains(c))
        };
        match !malformed
            && script
            && (!is_latin(chosen) || apart_from_latin(&read) || !latin_words())
        {
            true => self.code_page,
            false => chosen,
        }
    }

    /// Whether `text`, which is not all UTF-8 and holds rows in a Latin code page, is Thai in
    /// Windows-874 in a Thai tenant: Thai words glued to Latin ones pair up into UTF-8 Latin
    /// letters (`Grabรถ` is UTF-8's `Grabö`), and a UTF-8 Latin accent reads in Windows-874 as
    /// Thai as well (`é` as `รฉ`); a Thai file reads Latin-looking UTF-8 as Thai, so this
    /// one does too, when its rows that are not UTF-8 are Thai ([`thai_not_latin`]).
    pub(crate) fn thai_after_all(self, text: &[u8], rows: CodePage) -> bool {
        self.code_page == WINDOWS_874
            && is_latin(rows)
            && reads_as_thai(text)
            && thai_not_latin(rows, &not_utf8_runs(text))
    }

    /// The country's code page of another script, for a whole file (`text`) that is UTF-8 by
    /// chance: its UTF-8 is no words ([`words_in_utf8`]), and the code page reads it as its
    /// own script's characters. A file of a row or two may have nothing else to tell by: a
    /// Thai name of a leading vowel and two consonants is well-formed UTF-8 (`แดง`, UTF-8's
    /// phonetic `ᴧ`), and so is one in seven Chinese characters alone (GBK's `伟`, `ΰ`).
    /// In Thai, words glued to Latin ones count too, where their UTF-8 is in a script no list
    /// is written in (`Facebookเพจ` is UTF-8's `Facebookྨ`, a Tibetan sign).
    pub(crate) fn chance_utf8(self, text: &[u8]) -> Option<CodePage> {
        let utf8 = std::str::from_utf8(text).ok()?;
        if self.code_page == WINDOWS_874
            && reads_as_thai(text)
            && utf8
                .chars()
                .any(|c| !c.is_ascii() && !in_a_listed_script(c))
        {
            return Some(WINDOWS_874);
        }
        let own = match self.code_page {
            cp if cp == WINDOWS_874 => |c: char| matches!(c, '\u{E01}'..='\u{E5B}'),
            cp if !cp.is_single_byte() => east_asian,
            _ => return None,
        };
        let (read, malformed) = self.code_page.decode_without_bom_handling(text);
        let script = !malformed
            && read.chars().filter(|c| !c.is_ascii()).all(own)
            && apart_from_latin(&read);
        (script && !utf8.is_ascii() && !words_in_utf8(utf8)).then_some(self.code_page)
    }
}

/// Whether a fifth or more of the Thai letters Windows-874 reads `bytes` as are vowels, as in
/// Thai text (a third, in names).
fn thai_vowels_enough(bytes: &[u8]) -> bool {
    let (read, _) = WINDOWS_874.decode_without_bom_handling(bytes);
    let letters = read.chars().filter(|c| matches!(c, '\u{E01}'..='\u{E45}'));
    let (vowels, all) = letters.fold((0, 0), |(vowels, all), c| {
        (vowels + usize::from(crate::thai::vowel(c)), all + 1)
    });
    vowels * 5 >= all
}

/// Whether `c` is a letter or sign of a script contact lists are written in: Latin, Greek,
/// Cyrillic, Hebrew, Arabic, Indic, Thai, Lao, Myanmar, Georgian, Khmer, Chinese, Japanese and
/// Korean, or punctuation and currency; not Samaritan, Tibetan, Braille or rare Chinese.
fn in_a_listed_script(c: char) -> bool {
    matches!(
        u32::from(c),
        0..=0x6FF
            | 0x900..=0xEFF
            | 0x1000..=0x10FF
            | 0x1780..=0x17FF
            | 0x1E00..=0x1FFF
            | 0x2000..=0x20CF
            | 0x3000..=0x33FF
            | 0x4E00..=0x9FFF
            | 0xAC00..=0xD7AF
            | 0xFF00..=0xFFEF
    )
}

/// Whether `bytes`, which `latin` (a Latin code page) reads, are Thai in Windows-874: that
/// reads them as Thai words of two characters or more ([`reads_as_thai`]), and `latin` as no
/// words of names ([`latin_glued_or`]): Thai's consonants are its symbols (`รถ` as `Ã¶`).
/// A French `à` or a `®` alone is one Thai character, and `Müßig` Latin letters; three
/// accented letters in a row are no Latin word's (`BTSสยาม` as `BTSÊÂÒÁ`).
fn thai_not_latin(latin: CodePage, bytes: &[u8]) -> bool {
    let (read, _) = latin.decode_without_bom_handling(bytes);
    let accented_runs = read.split(|c: char| c.is_ascii() || !c.is_alphabetic());
    let three_in_a_row = accented_runs.clone().any(|run| run.chars().count() >= 3);
    reads_as_thai(bytes)
        && (three_in_a_row || !latin_glued_or(&read, |c| "’‘“”–—€…·°«»\u{A0}".contains(c)))
}

/// Whether Windows-874 reads each run of the non-ASCII bytes of `bytes` as two Thai
/// characters or more spelled as Thai is ([`crate::thai::spelled`]; its punctuation aside),
/// and some of them.
fn reads_as_thai(bytes: &[u8]) -> bool {
    let (read, _) = WINDOWS_874.decode_without_bom_handling(bytes);
    let punctuation = |c: char| "€…‘’“”•–—\u{A0}".contains(c);
    let mut any = false;
    for run in read.split(|c: char| c.is_ascii() || punctuation(c)) {
        let letters = run.chars().count();
        if letters > 0 && (letters < 2 || !crate::thai::spelled(run)) {
            return false;
        }
        any |= letters > 0;
    }
    any
}

/// Han, kana, hangul, and the full-width forms and punctuation East Asian text holds.
fn east_asian(c: char) -> bool {
    matches!(
        u32::from(c),
        0x1100..=0x11FF | 0x2E80..=0x9FFF | 0xAC00..=0xD7AF | 0xF900..=0xFAFF | 0xFF00..=0xFFEF
    )
}

/// Whether each word of `text` beyond ASCII reads as words do ([`reads_as_names`]): its
/// letters of one script, and a letter alone only as an East Asian character, an initial or
/// a Latin accent; no phonetic or Samaritan-like signs, which a code page's pairs make.
fn words_in_utf8(text: &str) -> bool {
    let mut start = 0;
    for word in text.split(|c: char| c.is_ascii()) {
        let end = start + word.len();
        let before = text[..start].chars().next_back();
        let after = text[end..].chars().next();
        start = end + 1;
        if !word.is_empty() && !reads_as_a_word(word, before, after) {
            return false;
        }
    }
    true
}

/// A letter's script, as far as words go: Latin 0, East Asian 1, Greek 2, else its block.
fn script(c: char) -> u32 {
    match u32::from(c) {
        0..=0x24F | 0x1E00..=0x1EFF => 0,
        _ if east_asian(c) => 1,
        0x370..=0x3FF | 0x1F00..=0x1FFF => 2,
        code => code >> 7,
    }
}

/// Whether each word of `field` beyond ASCII is a word of two letters or more in Greek,
/// Cyrillic, Hebrew or Arabic (or East Asian ones, with `east_asian_too`), apart from Latin
/// letters: a row merged into a Thai or East Asian file from a UTF-8 export in another
/// script (`Ελένη`, `Глеб`), which the file's code page reads as its own characters. Its
/// pairs seldom make such words: GBK's `伟` is a Greek letter alone.
fn other_scripts(field: &str, east_asian_too: bool) -> bool {
    let mut start = 0;
    for word in field.split(|c: char| c.is_ascii()) {
        let end = start + word.len();
        let before = field[..start].chars().next_back();
        let after = field[end..].chars().next();
        start = end + 1;
        if word.is_empty() {
            continue;
        }
        let letters: Vec<u32> = word
            .chars()
            .filter(|c| c.is_alphabetic())
            .map(script)
            .collect();
        let latin = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphabetic());
        let wanted =
            |s: u32| matches!(s, 2 | 8 | 9 | 0xB | 0xC | 0xD) || (east_asian_too && s == 1);
        // A Chinese surname is one character; a Thai word seldom pairs up into one.
        let least = if east_asian_too && letters.first() == Some(&1) {
            1
        } else {
            2
        };
        if letters.len() < least
            || !wanted(letters[0])
            || latin(before)
            || latin(after)
            || !reads_as_a_word(word, before, after)
        {
            return false;
        }
    }
    true
}

fn reads_as_a_word(word: &str, before: Option<char>, after: Option<char>) -> bool {
    let odd = |c: char| matches!(u32::from(c), 0x800..=0x8FF | 0x1D00..=0x1DBF);
    let mut letters = word.chars().filter(|c| c.is_alphabetic());
    if let Some(first) = letters.next() {
        let mut count = 1;
        for c in letters {
            if script(c) != script(first) {
                return false;
            }
            count += 1;
        }
        let glued = before.is_some_and(|c| c.is_ascii_alphabetic())
            || after.is_some_and(|c| c.is_ascii_alphabetic());
        if count == 1 && script(first) > 1 && !glued && after != Some('.') {
            return false;
        }
    }
    !word.chars().any(odd) && reads_as_names(word)
}

/// Whether no character of `text` beyond ASCII touches an ASCII letter, as another script's
/// words stand in a list.
fn apart_from_latin(text: &str) -> bool {
    let mut before = None::<char>;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let after = chars.peek().copied();
        let latin = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphabetic());
        if !c.is_ascii() && (latin(before) || latin(after)) {
            return false;
        }
        before = Some(c);
    }
    true
}

/// [`guess`] for one row of a UTF-8 file that is not UTF-8: Latin accents among ASCII letters
/// (a row pasted from a Windows or Mac tool) are read in the single-byte code page their
/// letters suit, without the detector, which costs microseconds a row and has too little of
/// one row to tell Latin code pages apart.
pub(crate) fn guess_row(bytes: &[u8]) -> Option<CodePage> {
    match !accents_on_letters(bytes) && another_script(bytes) {
        true => guess(bytes),
        false => Some(single_byte(bytes)),
    }
}

/// [`guess_row`] for a row of a UTF-8 file whose other rows that are not UTF-8 are in `file`
/// (as far as its start tells): a row of the same kind (Latin accents, or another script's
/// words) is read in it, which one row alone has too little text to tell (a Czech row's
/// `Dvořák` reads as well in Windows-1252's `Dvoøák`).
/// A double-byte code page's rows are taken for its own whenever they read in it: their
/// second bytes may be ASCII letters, which makes them look like Latin accents. A row guessed
/// alone is read as the tenant's country writes, where `hint` tells ([`RegionHint::apply`]).
pub(crate) fn guess_row_in(
    bytes: &[u8],
    file: Option<CodePage>,
    hint: Option<RegionHint>,
) -> Option<CodePage> {
    let latin_row = accents_on_letters(bytes) || !another_script(bytes);
    match file {
        Some(file) if is_latin(file) == latin_row => Some(file),
        Some(file)
            if !file.is_single_byte()
                && (file.decode_without_bom_handling_and_without_replacement(bytes)).is_some() =>
        {
            Some(file)
        }
        _ => guess_row(bytes).map(|alone| match hint {
            Some(hint) => hint.apply(alone, bytes),
            None => alone,
        }),
    }
}

/// Whether a record of a file in `code_page` that is well-formed UTF-8 was written in UTF-8
/// (a row merged in from a UTF-8 export, or a UTF-8 header) rather than being the code page's
/// bytes paired up by chance: it reads as names do ([`reads_as_names`]); a single-byte code
/// page's text pairs up into such letters only where an accented capital meets a symbol or a
/// rare capital. A double-byte code page's pairs make Greek or Cyrillic letters (GBK's `伟` is
/// UTF-8's `ΰ`), hardly ever a run of three-byte characters, as its scripts' are; seldom
/// Latin letters glued to ASCII ones, as Latin accents stand (`José`, though the code page
/// reads `Jos茅`): see [`latin_glued_or`]. Thai's leading vowels pair up into three-byte
/// characters (`เกด` is UTF-8's Samaritan `ࡴ`), so there only Thai ones count. Text the code
/// page cannot read (bytes it leaves undefined) is UTF-8 whatever it says.
pub(crate) fn written_in_utf8(text: &str, ends: &[usize], code_page: CodePage) -> bool {
    let fields = || {
        let starts = std::iter::once(0).chain(ends.iter().copied());
        starts
            .zip(ends)
            .filter_map(|(start, &end)| text.get(start..end))
    };
    let as_written = match () {
        // Thai glues its words to Latin ones (`Grabรถ`, `SALEลด`), and its pairs make Latin
        // letters as often as accents do (`รถ` is UTF-8's `ö`): only Thai written in UTF-8.
        _ if code_page == WINDOWS_874 => {
            !code_page.encode(text).2 || fields().all(|field| other_scripts(field, true))
        }
        _ if code_page.is_single_byte() => reads_as_names(text),
        _ => {
            fields().all(|field| latin_glued_or(field, |c| c.len_utf8() >= 3))
                || fields().all(|field| other_scripts(field, false))
        }
    };
    as_written || !reads_in(code_page, text.as_bytes())
}

/// Whether each character of `field` beyond ASCII is `other`, or a letter of European
/// names ([`name_accent`]) in a run that an ASCII letter touches, in the case of its word.
/// East Asian words glued to Latin ones (`VIP客户`, `LG전자`) pair up so now and then: `Mr谭`
/// is UTF-8's `Mr` and a combining mark, `DJ킹` its `DJŷ`, `KT체크` its `KTüũ`.
fn latin_glued_or(field: &str, other: impl Fn(char) -> bool) -> bool {
    let (mut before, mut two_before) = (None::<char>, None::<char>);
    // Whether the run of Latin letters being read follows an ASCII letter.
    let mut run_glued = None;
    let mut chars = field.chars().peekable();
    while let Some(c) = chars.next() {
        if name_accent(c) {
            run_glued.get_or_insert(before.is_some_and(|b| b.is_ascii_alphabetic()));
            // An accent takes its word's case: no capital after a lower-case letter, no
            // lower-case letter before a capital or after two ASCII ones (`DJŷ`).
            let after = chars.peek().copied();
            let capital = |c: Option<char>| c.is_some_and(|c| c.is_ascii_uppercase());
            if (c.is_uppercase() && before.is_some_and(char::is_lowercase))
                || (c.is_lowercase() && after.is_some_and(char::is_uppercase))
                || (c.is_lowercase() && capital(before) && capital(two_before))
            {
                return false;
            }
        } else {
            if run_glued.take() == Some(false) && !c.is_ascii_alphabetic() {
                return false;
            }
            if !c.is_ascii() && !other(c) {
                return false;
            }
        }
        two_before = before;
        before = Some(c);
    }
    run_glued != Some(false) && reads_as_names(field)
}

/// A precomposed letter of European names beyond ASCII: Latin-1's, Latin Extended-A's but
/// for the rare ones (`ŷ`, `ũ`, `ĸ`, `ŀ`...), Vietnamese `ơ`/`ư` and Romanian `ș`/`ț`.
fn name_accent(c: char) -> bool {
    let rare = [
        0x128, 0x129, 0x12C, 0x12D, 0x132, 0x133, 0x138, 0x13F, 0x140, 0x149, 0x14E, 0x14F, 0x166,
        0x167, 0x168, 0x169, 0x16C, 0x16D, 0x174, 0x175, 0x176, 0x177, 0x17F,
    ];
    match u32::from(c) {
        0xD7 | 0xF7 => false,
        code @ 0x100..=0x17F => !rare.contains(&code),
        code => matches!(code, 0xC0..=0xFF | 0x1A0 | 0x1A1 | 0x1AF | 0x1B0 | 0x218..=0x21B),
    }
}

/// Whether `code_page` reads `bytes` as text: none it leaves undefined (which WHATWG's
/// single-byte code pages read as C1 controls) or that cannot stand where they do.
fn reads_in(code_page: CodePage, bytes: &[u8]) -> bool {
    let (text, malformed) = code_page.decode_without_bom_handling(bytes);
    !malformed && !text.chars().any(|c| matches!(c, '\u{80}'..='\u{9F}'))
}

/// Whether `text` stands as names and notes do: each character beyond ASCII is one names hold
/// ([`in_names`]) or a combining accent (macOS writes `é` as `e` and one), no lower-case one
/// sits between ASCII capitals (a Slovak `PÄŤKO` in Windows-1250 is UTF-8's `PčKO`), and no
/// Greek, Cyrillic, Hebrew or Arabic letter touches an ASCII one (Mac Roman's `Jean–Édouard`
/// is UTF-8's `JeanЃdouard`).
pub(crate) fn reads_as_names(text: &str) -> bool {
    let mut before = None;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if !c.is_ascii() {
            if !(matches!(u32::from(c), 0x300..=0x36F) || in_names(c)) {
                return false;
            }
            let after = chars.peek().copied();
            let capital = |c: Option<char>| c.is_some_and(|c| c.is_ascii_uppercase());
            if c.is_lowercase() && capital(before) && capital(after) {
                return false;
            }
            let latin = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphabetic());
            if matches!(u32::from(c), 0x370..=0x6FF) && (latin(before) || latin(after)) {
                return false;
            }
        }
        before = Some(c);
    }
    true
}

/// Whether each run of non-ASCII bytes touches an ASCII letter (`José`, `Núñez`): how Latin
/// accents stand, and a cheap first look before [`another_script`].
fn accents_on_letters(bytes: &[u8]) -> bool {
    let letter = |at: Option<usize>| {
        at.and_then(|at| bytes.get(at))
            .is_some_and(u8::is_ascii_alphabetic)
    };
    let mut start = 0;
    for run in bytes.split(u8::is_ascii) {
        let end = start + run.len();
        if !run.is_empty() && !letter(start.checked_sub(1)) && !letter(Some(end)) {
            return false;
        }
        start = end + 1;
    }
    true
}

/// The Latin code pages Windows Excel saves in besides Windows-1252: Central European,
/// Turkish, Baltic and Vietnamese.
const OTHER_LATIN: [CodePage; 4] = [WINDOWS_1250, WINDOWS_1254, WINDOWS_1257, WINDOWS_1258];

/// Whether `code_page` writes a Latin script.
pub(crate) fn is_latin(code_page: CodePage) -> bool {
    [WINDOWS_1252, MACINTOSH, ISO_8859_2, ISO_8859_4, ISO_8859_13]
        .into_iter()
        .chain(OTHER_LATIN)
        .any(|latin| latin == code_page)
}

/// Whether `bytes` give enough evidence to read them in `code_page` rather than Windows-1252
/// ([`LATIN_EVIDENCE`]): counting only the letters the two read differently, whatever their
/// case (`ñ` and `Ñ` are one: `Begoña YÁÑEZ` is no Polish `Begońa YÁŃEZ`).
fn enough_evidence(bytes: &[u8], code_page: CodePage) -> bool {
    let mut differing = std::collections::BTreeSet::new();
    let mut non_ascii = 0;
    for &byte in bytes.iter().filter(|b| !b.is_ascii()) {
        non_ascii += 1;
        let one = std::slice::from_ref(&byte);
        let read = |page: CodePage| page.decode_without_bom_handling(one).0;
        let western = read(WINDOWS_1252);
        if read(code_page) != western {
            differing.insert(western.to_lowercase());
        }
    }
    let (bytes_needed, values_needed) = LATIN_EVIDENCE;
    non_ascii >= bytes_needed && differing.len() >= values_needed
}

/// Whether the non-ASCII bytes of `bytes` are shaped as another script's are in its code
/// page: [`foreign_code_page`]'s test, on however little text.
fn another_script(bytes: &[u8]) -> bool {
    let non_ascii = bytes.iter().filter(|b| !b.is_ascii()).count();
    non_ascii > 0
        && (in_words(bytes) * 2 > non_ascii || DOUBLE_BYTE.iter().any(|cp| cp.reads(bytes, 2)))
}

/// Whether every non-ASCII byte of `bytes` is one Shift-JIS reads as half-width katakana
/// alone. Cyrillic, Greek, Hebrew and Arabic code pages put everyday letters past them
/// (Windows-1251's lower case, KOI8's capitals), and Thai puts its vowels and tone marks there
/// (and the detector knows Thai).
fn half_width_katakana_only(bytes: &[u8]) -> bool {
    let mut non_ascii = bytes.iter().filter(|b| !b.is_ascii());
    non_ascii.clone().count() >= CODE_PAGE_EVIDENCE / 4
        && non_ascii.all(|b| matches!(b, 0xA1..=0xDF))
}

/// Whether the UTF-8 in `bytes` (text another script's code page reads: see [`guess`]) is
/// the file's own rather than pairs of that code page's bytes that happen to be well-formed
/// UTF-8 (a GBK `伟` is UTF-8's `ΰ`): a good share of its runs of non-ASCII bytes are UTF-8
/// whole. A UTF-8 file with rows pasted from a Cyrillic tool has plenty; a GBK file about
/// one in twelve.
pub(crate) fn holds_utf8_runs(bytes: &[u8]) -> bool {
    let (mut utf8, mut other) = (0usize, 0usize);
    let mut start = 0;
    for run in bytes.split(u8::is_ascii) {
        let end = start + run.len();
        if !run.is_empty() {
            let before = start.checked_sub(1).map(|at| char::from(bytes[at]));
            let after = bytes.get(end).map(|&byte| char::from(byte));
            match std::str::from_utf8(run) {
                Ok(word) if counts_as_utf8(word, before, after) => utf8 += 1,
                _ => other += 1,
            }
        }
        start = end + 1;
    }
    utf8 > 0 && utf8 * 3 >= other
}

/// Whether a well-formed UTF-8 run, between ASCII `before` and `after`, is a word of UTF-8
/// text ([`reads_as_a_word`]) with its Latin letters ones names hold ([`name_accent`]), and
/// more than combining marks: GBK's `谭` and `台` glued to a Latin letter are UTF-8's
/// combining marks on it (`Mr̷`, `T̨`), Thai `SALEลด` UTF-8's `SALEŴ`.
fn counts_as_utf8(word: &str, before: Option<char>, after: Option<char>) -> bool {
    let combining = |c: char| matches!(u32::from(c), 0x300..=0x36F);
    let latin = |c: char| matches!(u32::from(c), 0xC0..=0x24F);
    reads_as_a_word(word, before, after)
        && !word.chars().all(combining)
        && word.chars().all(|c| !latin(c) || name_accent(c))
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
        || (non_ascii >= CODE_PAGE_EVIDENCE / 2
            && DOUBLE_BYTE
                .iter()
                .any(|cp| cp.reads(bytes, CODE_PAGE_EVIDENCE / 4)))
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
    code_page: CodePage,
    /// A byte that is a character alone (Shift-JIS's half-width katakana).
    single: fn(u8) -> bool,
    trail: fn(u8) -> bool,
    /// Whether a lead and trail byte make an everyday character.
    everyday: fn(u8, u8) -> bool,
}

/// Shift-JIS: symbols, full-width letters and kana (0x81–0x84), JIS level 1 kanji.
const SHIFT_JIS_SHAPES: DoubleByte = DoubleByte {
    code_page: SHIFT_JIS,
    single: |b| matches!(b, 0xA1..=0xDF),
    trail: |b| matches!(b, 0x40..=0x7E | 0x80..=0xFC),
    everyday: |lead, _| matches!(lead, 0x81..=0x84 | 0x88..=0x98),
};

const DOUBLE_BYTE: [DoubleByte; 4] = [
    SHIFT_JIS_SHAPES,
    // GBK: GB2312's symbols and hanzi.
    DoubleByte {
        code_page: GBK,
        single: |_| false,
        trail: |b| matches!(b, 0x40..=0x7E | 0x80..=0xFE),
        everyday: |lead, trail| matches!(lead, 0xA1..=0xA9 | 0xB0..=0xF7) && trail >= 0xA1,
    },
    // Big5: symbols and the frequent hanzi.
    DoubleByte {
        code_page: BIG5,
        single: |_| false,
        trail: |b| matches!(b, 0x40..=0x7E | 0xA1..=0xFE),
        everyday: |lead, _| matches!(lead, 0xA1..=0xC6),
    },
    // cp949 (Excel's "EUC-KR"): KS X 1001's symbols, jamo and hangul.
    DoubleByte {
        code_page: EUC_KR,
        single: |_| false,
        trail: |b| matches!(b, 0x41..=0x5A | 0x61..=0x7A | 0x81..=0xFE),
        everyday: |lead, trail| matches!(lead, 0xA1..=0xAC | 0xB0..=0xC8) && trail >= 0xA1,
    },
];

impl DoubleByte {
    /// Whether `bytes` read in this code page are mostly everyday characters apart from
    /// Latin letters, at least `least` of them.
    fn reads(&self, bytes: &[u8], least: usize) -> bool {
        let (apart, other, _) = self.characters(bytes);
        apart >= least && apart > 3 * other
    }

    /// The non-ASCII characters `bytes` read as in this code page: everyday ones apart from
    /// Latin letters, and others; and the bytes of the everyday ones.
    fn characters(&self, bytes: &[u8]) -> (usize, usize, usize) {
        let (mut apart, mut other, mut apart_bytes) = (0usize, 0usize, 0usize);
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
                (false, true) => (apart, apart_bytes) = (apart + 1, apart_bytes + len),
                (false, false) => other += 1,
            }
            after_latin = byte.is_ascii_alphabetic();
            at += len;
        }
        (apart, other, apart_bytes)
    }
}

/// What of `bytes` is not UTF-8, for [`foreign_code_page`] to judge: each run of non-ASCII
/// bytes that UTF-8 cannot read as a whole, or reads as no name holds (`JÓŹWIAK`'s `ÓŹ` is
/// UTF-8's `ӏ`: see [`reads_as_names`]), as it is, and the ASCII between; a space for each
/// run it reads (the UTF-8 names of a file with some rows in another encoding). Whole runs:
/// Shift-JIS, GBK and Thai text holds well-formed UTF-8 pairs by chance inside its words.
pub(crate) fn not_utf8_runs(bytes: &[u8]) -> Vec<u8> {
    let mut seen = Vec::with_capacity(bytes.len());
    let mut start = 0;
    for run in bytes.split(u8::is_ascii) {
        let end = start + run.len();
        // With the ASCII characters either side, which tell a capital's word.
        let beside = &bytes[start.saturating_sub(1)..(end + 1).min(bytes.len())];
        match !run.is_empty() && std::str::from_utf8(beside).is_ok_and(reads_as_names) {
            true => seen.push(b' '),
            false => seen.extend_from_slice(run),
        }
        if let Some(&ascii) = bytes.get(end) {
            seen.push(ascii);
        }
        start = end + 1;
    }
    seen
}

/// Whether bytes that are not all UTF-8 are to be read as UTF-8 still: a run of their
/// non-ASCII bytes is well-formed UTF-8 whole, of characters names and notes hold. Read so,
/// every row UTF-8 cannot read is read in its own code page (see `records`): a UTF-8 export
/// with rows pasted from a Windows tool, or a Windows export with UTF-8 rows (or a Windows
/// header) merged in, keeps every name; read as Windows-1252, each UTF-8 row is garbled
/// (`RenÃ©e`). Single-byte text holds well-formed pairs by chance, an accented capital
/// before a symbol or another capital, which make no such characters: `RENÉ’S` is UTF-8's
/// `RENɒS`, Polish `ŻÓŁKIEWSKI` holds `ӣ`, Czech `RŮŽIČKOVÁ` an Arabic mark.
pub(crate) fn holds_utf8(bytes: &[u8]) -> bool {
    let mut start = 0;
    for run in bytes.split(u8::is_ascii) {
        let end = start + run.len();
        // With the ASCII characters either side, which tell a capital's word.
        let beside = &bytes[start.saturating_sub(1)..(end + 1).min(bytes.len())];
        if !run.is_empty() && std::str::from_utf8(beside).is_ok_and(reads_as_names) {
            return true;
        }
        start = end + 1;
    }
    false
}

/// Whether a character beyond ASCII is one names and notes hold: Latin letters and marks
/// (Latin-1, Extended-A, Vietnamese, Romanian), Greek, Cyrillic, Hebrew and Arabic letters,
/// and anything written with three or four UTF-8 bytes (punctuation, East Asian scripts).
pub(crate) fn in_names(c: char) -> bool {
    matches!(
        u32::from(c),
        0xA0..=0x17F
            | 0x1A0..=0x1B0
            | 0x218..=0x21B
            | 0x386..=0x3CE
            | 0x400..=0x45F
            | 0x5D0..=0x5EA
            | 0x620..=0x64A
            | 0x800..
    )
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
pub(crate) fn single_byte(bytes: &[u8]) -> CodePage {
    let score = |encoding: CodePage| -> i64 {
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
    [WINDOWS_1252, MACINTOSH, WINDOWS_1250]
        .into_iter()
        .map(|encoding| (score(encoding), encoding))
        .reduce(|best, next| if next.0 > best.0 { next } else { best })
        .map_or(WINDOWS_1252, |(_, encoding)| encoding)
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
