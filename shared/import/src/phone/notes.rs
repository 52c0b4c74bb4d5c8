//! The notes people write beside a number: labels (`Mobile:`), kinds (`(fax)`), owners
//! (`(wife's)`), opt-outs (`(do not text)`) and countries (`(UK)`, `Mexico`).

use smscrm_domain::Region;

pub(crate) use crate::latin::folded;

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
pub(super) const SOMEONE_ELSES: [&str; 31] = [
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
/// Phrases to the same effect (and "text: no", [`says_no_to_texts`]).
pub(super) const OPTED_OUT_PHRASES: [&str; 22] = [
    "do not",
    "don't",
    "dont",
    "no sms",
    "no text",
    "no texts",
    "no texting",
    "no text messages",
    "no marketing",
    "no promo",
    "no promos",
    "calls only",
    "call only",
    "voice only",
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
pub(super) const LINE_LABELS: [&str; 22] = [
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
/// `M: 07911...`, `tel:+44...`, `(UK)`, `Mobile 07911...`, and tells the country a note names
/// (`Mexico 55 1234 5678`, `(NZ)`). A note saying the number is not a mobile to text (`(fax)`,
/// `Old:`) refuses the cell, as do notes naming two countries; one saying its owner is not to
/// be texted (`(do not text)`) is dropped here, and [`note_opts_out`] tells the row.
pub(super) fn strip_label(cell: &str, region: Region) -> Result<(&str, Option<Region>), String> {
    // Most cells: no letters, no notes.
    if !cell.contains(char::is_alphabetic) {
        return Ok((cell, None));
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
    let (number, notes) = notes_beside(cell, region);
    let mut named = None;
    for (note, before_colon) in notes {
        let Some(country) = note_country(note, before_colon, region) else {
            continue;
        };
        match named {
            Some(other) if other != country => {
                return Err(format!(
                    "phone `{cell}` names two countries ({other} and {country}): keep the one \
                     the number is in, or write the number with its country code"
                ));
            }
            _ => named = Some(country),
        }
    }
    Ok((number, named))
}

/// Whether text in a phone cell says its owner is not to be texted (`(do not text)`,
/// `DNC-415...`, `(text: no)`).
pub(crate) fn note_opts_out(cell: &str) -> bool {
    cell.contains(char::is_alphabetic) && says_opted_out(cell)
}

fn says_opted_out(text: &str) -> bool {
    says(text, &OPTED_OUT, &OPTED_OUT_PHRASES) || says_no_to_texts(text)
}

/// Whether text answers "no" about texts: `text: no`, `SMS - no`, `texts no`. Not where the
/// "no" is a number's (`SMS No.: 07911 ...`, `Text no 415 ...`): digits follow it.
fn says_no_to_texts(text: &str) -> bool {
    let lower = text.to_lowercase();
    let mut words = Vec::new();
    let mut start = None;
    for (at, c) in lower.char_indices().chain([(lower.len(), ' ')]) {
        match (c.is_alphabetic(), start) {
            (true, None) => start = Some(at),
            (false, Some(from)) => {
                words.push((from, at));
                start = None;
            }
            _ => {}
        }
    }
    words.windows(2).any(|pair| {
        let [(a, a_end), (b, b_end)] = [pair[0], pair[1]];
        matches!(&lower[a..a_end], "text" | "texts" | "texting" | "sms")
            && &lower[b..b_end] == "no"
            && lower[a_end..b]
                .chars()
                .all(|c| matches!(c, ' ' | ':' | '-' | '=' | '?'))
            && !lower[b_end..]
                .trim_start_matches([' ', '.', ':', '#'])
                .starts_with(|c: char| c.is_ascii_digit() || matches!(c, '+' | '('))
    })
}

/// The number in a phone cell and the notes beside it, each with whether it is a label
/// before a colon. A note is letters, spaces, `.` and `'` only (and `:` in brackets,
/// `(text: no)`), so `(415) 555-2671` keeps its area code.
fn notes_beside(cell: &str, region: Region) -> (&str, Vec<(&str, bool)>) {
    let is_note = |s: &str, colon: bool| {
        s.chars().any(char::is_alphabetic)
            && s.chars().all(|c| {
                c.is_alphabetic()
                    || matches!(c, ' ' | '.' | '\'' | '\u{2019}' | '-' | ',' | '/')
                    || (colon && c == ':')
            })
    };
    // Without brackets or a colon, only words known to go beside numbers are notes.
    let is_bare_note = |s: &str| {
        is_note(s, false)
            && (says(s, &LINE_LABELS, &[])
                || says_not_a_mobile(s)
                || says_opted_out(s)
                || note_country(s, false, region).is_some())
    };
    let mut number = cell;
    let mut notes = Vec::new();
    for (open, close) in [('(', ')'), ('[', ']')] {
        if let Some(inner) = number.strip_suffix(close)
            && let Some(at) = inner.rfind(open)
            && is_note(&inner[at + 1..], true)
        {
            notes.push((inner[at + 1..].trim(), false));
            number = inner[..at].trim_end();
        }
        // Before the number too (`(MX) 55 1234 5678`), which the crate would skip as text;
        // several (`(Work) (UK) 07911 ...`).
        while notes.len() < 4
            && let Some(inner) = number.strip_prefix(open)
            && let Some(at) = inner.find(close)
            && is_note(&inner[..at], true)
        {
            notes.push((inner[..at].trim(), false));
            number = inner[at + 1..].trim_start();
        }
    }
    if let Some((label, rest)) = number.split_once(':')
        && is_note(label.trim(), false)
    {
        notes.push((label.trim(), true));
        number = rest.trim_start();
    }
    if let Some(start) = number.find(|c: char| c.is_ascii_digit() || matches!(c, '+' | '('))
        && start > 0
        && is_bare_note(number[..start].trim())
    {
        notes.push((number[..start].trim(), false));
        number = &number[start..];
    }
    if let Some(end) = number.rfind(|c: char| c.is_ascii_digit() || c == ')')
        && end + 1 < number.len()
    {
        let after = number[end + 1..]
            .trim_start_matches([' ', '-', '\u{2013}', ',', '/'])
            .trim();
        if is_bare_note(after) {
            notes.push((after, false));
            number = number[..end + 1].trim_end();
        }
    }
    (number, notes)
}

/// The country a note beside a number names, when it names one unambiguously: the note, line
/// words aside (`Mexico cell`), is a country's name in English or its own language
/// (`Österreich`), `UK`, or an ISO alpha-3 code in capitals (`USA`); or the whole note is an
/// ISO alpha-2 code in capitals (`MX`), though not as a label before a colon (`PH:`) nor, in a
/// North American or Australian import, a state's or province's (`(CA)` is California).
/// Lower-case codes are words (`no`, `in`, `it`, `be`).
fn note_country(note: &str, before_colon: bool, import: Region) -> Option<Region> {
    let words = || {
        note.split(|c: char| !c.is_alphabetic())
            .filter(|w| !w.is_empty())
    };
    let whole: String = words().collect();
    if whole.len() == 2 && whole.bytes().all(|b| b.is_ascii_uppercase()) && whole != "UK" {
        if before_colon || state_or_province(&whole, import) {
            return None;
        }
        return region_of(celes::Country::from_alpha2(&whole).ok()?);
    }
    let country: String = words()
        .filter(|w| {
            let word = w.to_lowercase();
            !LINE_LABELS.contains(&word.as_str()) && word != "number"
        })
        .collect();
    if country.eq_ignore_ascii_case("uk") {
        return "GB".parse().ok();
    }
    if country.len() == 3 && country.bytes().all(|b| b.is_ascii_uppercase()) {
        return region_of(celes::Country::from_alpha3(&country).ok()?);
    }
    if country.chars().count() <= 3 {
        return None;
    }
    let key = folded(&country);
    // The US state, in a North American file.
    if key == "georgia" && import.calling_code() == 1 {
        return None;
    }
    country_by_name(&key)
}

fn region_of(country: celes::Country) -> Option<Region> {
    country.alpha2.parse().ok()
}

/// Whether two capitals beside a number in this import's file may be a state's or province's
/// postal abbreviation rather than a country's code: US and Canadian ones in a North American
/// import (`CA`, `DE`, `IN`, `GA`), Australian ones that are also country codes in an
/// Australian import.
fn state_or_province(code: &str, import: Region) -> bool {
    const NORTH_AMERICA: [&str; 69] = [
        "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "DC", "FL", "GA", "HI", "ID", "IL", "IN",
        "IA", "KS", "KY", "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH",
        "NJ", "NM", "NY", "NC", "ND", "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT",
        "VT", "VA", "WA", "WV", "WI", "WY", "AS", "GU", "MP", "PR", "VI", "AB", "BC", "MB", "NB",
        "NL", "NS", "NT", "NU", "ON", "PE", "QC", "SK", "YT",
    ];
    match import.calling_code() {
        1 => NORTH_AMERICA.contains(&code),
        61 => matches!(code, "SA" | "WA" | "NT"),
        _ => false,
    }
}

/// Countries as their people write them, accents folded; English names are celes'.
const COUNTRIES_IN_THEIR_LANGUAGES: [(&str, &str); 253] = [
    ("deutschland", "DE"),
    ("osterreich", "AT"),
    ("oesterreich", "AT"),
    ("schweiz", "CH"),
    ("suisse", "CH"),
    ("svizzera", "CH"),
    ("espana", "ES"),
    ("italia", "IT"),
    ("nederland", "NL"),
    ("belgie", "BE"),
    ("belgique", "BE"),
    ("brasil", "BR"),
    ("polska", "PL"),
    ("sverige", "SE"),
    ("norge", "NO"),
    ("danmark", "DK"),
    ("eire", "IE"),
    ("suomi", "FI"),
    ("turkiye", "TR"),
    // As German, French and Spanish files name other countries.
    ("frankreich", "FR"),
    ("polen", "PL"),
    ("spanien", "ES"),
    ("italien", "IT"),
    ("niederlande", "NL"),
    ("belgien", "BE"),
    ("danemark", "DK"),
    ("schweden", "SE"),
    ("norwegen", "NO"),
    ("turkei", "TR"),
    ("griechenland", "GR"),
    ("tschechien", "CZ"),
    ("ungarn", "HU"),
    ("rumanien", "RO"),
    ("kroatien", "HR"),
    ("russland", "RU"),
    ("grossbritannien", "GB"),
    ("großbritannien", "GB"),
    ("england", "GB"),
    ("allemagne", "DE"),
    ("espagne", "ES"),
    ("italie", "IT"),
    ("angleterre", "GB"),
    ("paysbas", "NL"),
    ("autriche", "AT"),
    ("pologne", "PL"),
    ("maroc", "MA"),
    ("alemania", "DE"),
    ("francia", "FR"),
    ("inglaterra", "GB"),
    ("reinounido", "GB"),
    ("estadosunidos", "US"),
    ("etatsunis", "US"),
    // As Dutch files name them.
    ("duitsland", "DE"),
    ("frankrijk", "FR"),
    ("spanje", "ES"),
    ("zwitserland", "CH"),
    ("oostenrijk", "AT"),
    ("verenigdkoninkrijk", "GB"),
    ("engeland", "GB"),
    ("verenigdestaten", "US"),
    ("zweden", "SE"),
    ("noorwegen", "NO"),
    ("denemarken", "DK"),
    ("ierland", "IE"),
    ("brazilie", "BR"),
    ("turkije", "TR"),
    ("griekenland", "GR"),
    ("marokko", "MA"),
    // As Italian files name them.
    ("germania", "DE"),
    ("spagna", "ES"),
    ("paesibassi", "NL"),
    ("olanda", "NL"),
    ("belgio", "BE"),
    ("regnounito", "GB"),
    ("inghilterra", "GB"),
    ("statiuniti", "US"),
    ("portogallo", "PT"),
    ("svezia", "SE"),
    ("norvegia", "NO"),
    ("danimarca", "DK"),
    ("brasile", "BR"),
    ("messico", "MX"),
    ("grecia", "GR"),
    ("turchia", "TR"),
    ("marocco", "MA"),
    // As Spanish and Portuguese files name them.
    ("paisesbajos", "NL"),
    ("holanda", "NL"),
    ("belgica", "BE"),
    ("suiza", "CH"),
    ("suecia", "SE"),
    ("noruega", "NO"),
    ("dinamarca", "DK"),
    ("turquia", "TR"),
    ("marruecos", "MA"),
    ("alemanha", "DE"),
    ("franca", "FR"),
    ("espanha", "ES"),
    ("paisesbaixos", "NL"),
    ("suica", "CH"),
    ("marrocos", "MA"),
    ("polonia", "PL"),
    ("finlandia", "FI"),
    ("irlanda", "IE"),
    // As Polish files name them.
    ("niemcy", "DE"),
    ("francja", "FR"),
    ("hiszpania", "ES"),
    ("wlochy", "IT"),
    ("holandia", "NL"),
    ("niderlandy", "NL"),
    ("szwajcaria", "CH"),
    ("wielkabrytania", "GB"),
    ("anglia", "GB"),
    ("stanyzjednoczone", "US"),
    ("portugalia", "PT"),
    ("szwecja", "SE"),
    ("norwegia", "NO"),
    ("dania", "DK"),
    ("irlandia", "IE"),
    ("brazylia", "BR"),
    ("meksyk", "MX"),
    ("grecja", "GR"),
    ("turcja", "TR"),
    ("ukraina", "UA"),
    ("czechy", "CZ"),
    ("rosja", "RU"),
    // As Swedish, Danish and Norwegian files name them.
    ("tyskland", "DE"),
    ("frankrike", "FR"),
    ("nederlanderna", "NL"),
    ("osterrike", "AT"),
    ("storbritannien", "GB"),
    ("irland", "IE"),
    ("brasilien", "BR"),
    ("mexiko", "MX"),
    ("grekland", "GR"),
    ("turkiet", "TR"),
    ("frankrig", "FR"),
    ("ostrig", "AT"),
    ("graekenland", "GR"),
    ("tyrkiet", "TR"),
    ("spania", "ES"),
    ("belgia", "BE"),
    ("sveits", "CH"),
    ("storbritannia", "GB"),
    ("hellas", "GR"),
    ("tyrkia", "TR"),
    // As Finnish files name them.
    ("saksa", "DE"),
    ("ranska", "FR"),
    ("espanja", "ES"),
    ("alankomaat", "NL"),
    ("hollanti", "NL"),
    ("sveitsi", "CH"),
    ("itavalta", "AT"),
    ("isobritannia", "GB"),
    ("englanti", "GB"),
    ("yhdysvallat", "US"),
    ("portugali", "PT"),
    ("puola", "PL"),
    ("ruotsi", "SE"),
    ("norja", "NO"),
    ("tanska", "DK"),
    ("viro", "EE"),
    ("irlanti", "IE"),
    ("brasilia", "BR"),
    ("meksiko", "MX"),
    ("kreikka", "GR"),
    ("turkki", "TR"),
    ("venaja", "RU"),
    // As Their own languages files name them.
    ("eesti", "EE"),
    ("latvija", "LV"),
    ("lietuva", "LT"),
    ("cesko", "CZ"),
    ("ceskarepublika", "CZ"),
    ("slovensko", "SK"),
    ("slovenija", "SI"),
    ("hrvatska", "HR"),
    ("magyarorszag", "HU"),
    ("ellada", "GR"),
    // Abbreviations and short names.
    ("ksa", "SA"),
    ("saudi", "SA"),
    ("kingdomofsaudiarabia", "SA"),
    ("uae", "AE"),
    ("emirates", "AE"),
    ("eeuu", "US"),
    ("eua", "US"),
    ("usa", "US"),
    ("estadosunidosdeamerica", "US"),
    ("korea", "KR"),
    ("southkorea", "KR"),
    ("macaosar", "MO"),
    ("hongkongsar", "HK"),
    // Arabic.
    ("السعودية", "SA"),
    ("المملكةالعربيةالسعودية", "SA"),
    ("الإمارات", "AE"),
    ("الامارات", "AE"),
    ("الإماراتالعربيةالمتحدة", "AE"),
    ("الاماراتالعربيةالمتحدة", "AE"),
    ("مصر", "EG"),
    ("المغرب", "MA"),
    ("فرنسا", "FR"),
    ("الكويت", "KW"),
    ("قطر", "QA"),
    ("البحرين", "BH"),
    ("عمان", "OM"),
    ("الأردن", "JO"),
    ("لبنان", "LB"),
    ("العراق", "IQ"),
    ("الجزائر", "DZ"),
    ("تونس", "TN"),
    // Russian and Ukrainian.
    ("россия", "RU"),
    ("росія", "RU"),
    ("украина", "UA"),
    ("україна", "UA"),
    ("польша", "PL"),
    ("польща", "PL"),
    ("германия", "DE"),
    ("німеччина", "DE"),
    ("казахстан", "KZ"),
    ("беларусь", "BY"),
    ("білорусь", "BY"),
    ("молдова", "MD"),
    // Chinese, Japanese and Korean.
    ("中国", "CN"),
    ("中國", "CN"),
    ("香港", "HK"),
    ("澳門", "MO"),
    ("澳门", "MO"),
    ("台灣", "TW"),
    ("台湾", "TW"),
    ("臺灣", "TW"),
    ("日本", "JP"),
    ("韓国", "KR"),
    ("韩国", "KR"),
    ("韓國", "KR"),
    ("新加坡", "SG"),
    ("美国", "US"),
    ("美國", "US"),
    ("アメリカ", "US"),
    ("한국", "KR"),
    ("대한민국", "KR"),
    ("미국", "US"),
    ("일본", "JP"),
    ("중국", "CN"),
    // Hebrew, Greek, Thai, Vietnamese, Turkish and Malay.
    ("ישראל", "IL"),
    ("ελλάδα", "GR"),
    ("κύπρος", "CY"),
    ("ไทย", "TH"),
    ("ประเทศไทย", "TH"),
    ("hanquoc", "KR"),
    ("trungquoc", "CN"),
    ("nhatban", "JP"),
    ("almanya", "DE"),
    ("singapura", "SG"),
    ("jerman", "DE"),
    ("amerikaserikat", "US"),
];

/// The country with this name (lower-case letters, accents folded, no spaces:
/// `newzealand`), in English or its own language.
pub(crate) fn country_by_name(key: &str) -> Option<Region> {
    if let Some((_, code)) = COUNTRIES_IN_THEIR_LANGUAGES
        .iter()
        .find(|(name, _)| *name == key)
    {
        return code.parse().ok();
    }
    // Names before aliases: celes' alias `samoa` is American Samoa.
    region_of(
        celes::Country::from_name(key)
            .or_else(|_| celes::Country::from_alias(key))
            .ok()?,
    )
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
pub(super) fn says(text: &str, words: &[&str], phrases: &[&str]) -> bool {
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
pub(super) fn says_not_a_mobile(text: &str) -> bool {
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
