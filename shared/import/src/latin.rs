//! Latin letters beyond ASCII, as ASCII: how headers, country names and notes are matched
//! whatever the language of the file ("Prénom", "Straße", "Imię", "Łódź").

/// `c` as ASCII letters if it is a Latin letter beyond ASCII (`é` -> `e`, `ß` -> `ss`, `ł` ->
/// `l`, `Œ` -> `OE`), keeping its case; any other character as it is: no list here knows the
/// words of other scripts.
pub(crate) fn fold(c: char) -> impl Iterator<Item = char> {
    let latin = matches!(u32::from(c), 0xC0..=0x24F | 0x1E00..=0x1EFF) && c.is_alphabetic();
    let ascii = latin
        .then(|| deunicode::deunicode_char(c))
        .flatten()
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphabetic()))
        .unwrap_or("");
    let own = ascii.is_empty().then_some(c);
    ascii.chars().chain(own)
}

/// Lower case, Latin letters as ASCII (`México` -> `mexico`, `Österreich` -> `osterreich`).
pub(crate) fn folded(text: &str) -> String {
    text.chars()
        .flat_map(fold)
        .flat_map(char::to_lowercase)
        .collect()
}
