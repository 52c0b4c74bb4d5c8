//! Extensions written after a number, which a text message cannot dial.

/// What marks an extension, lower case: English, then French (`poste`, `p.`), Italian
/// (`interno`, `int.`), Spanish and Portuguese (`anexo`), Brazilian (`ramal`), Polish
/// (`wew.`, for wewnętrzny) and Dutch (`toestel`). Longer first, as `extension` ends like
/// `ext`. An abbreviation ending in `.` counts only with its dot: `p` or `int` alone may be
/// anything.
const MARKERS: [&str; 12] = [
    "extension",
    "interno",
    "toestel",
    "poste",
    "anexo",
    "ramal",
    "ext",
    "int.",
    "wew.",
    "p.",
    "x",
    "#",
];

/// Drops an extension: `x123`, `ext. 123`, `extension 123`, `#123`, `poste 123` after the
/// number, in brackets or not (`(ext. 12)`), or RFC 3966's `;ext=123`.
pub(crate) fn strip_extension(cell: &str) -> &str {
    if let Some(number) = before_a_bracketed_extension(cell) {
        return number;
    }
    // The extension's digits run to the end of the cell.
    let digits_start = cell.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    // Every marker ends with a letter, a dot or `#`: most cells (`415-555-2671`) have none
    // there, and need no lower-cased copy.
    let marked = cell[..digits_start]
        .trim_end_matches([' ', ':', '='])
        .ends_with(|c: char| c.is_ascii_alphabetic() || c == '.' || c == '#');
    if digits_start == cell.len() || !marked {
        return cell;
    }
    let lower = cell.to_ascii_lowercase();
    let before = lower[..digits_start].trim_end_matches([' ', ':', '=']);
    for marker in MARKERS {
        // The dot after a marker is its own, or optional (`ext.`).
        let before = match marker.ends_with('.') {
            true => before,
            false => before.trim_end_matches([' ', '.', ':', '=']),
        };
        if let Some(number) = before.strip_suffix(marker)
            && !glued_to_a_word(marker, number)
        {
            let number = number.trim_end_matches([' ', ',', ';']);
            if number.bytes().any(|b| b.is_ascii_digit()) {
                return cell[..number.len()].trim_end();
            }
        }
    }
    cell
}

/// Whether a marker is the end of a word (`fax`, `shop.`), so no marker. English `ext` and
/// `extension` have always been taken wherever they are.
fn glued_to_a_word(marker: &str, before: &str) -> bool {
    !matches!(marker, "ext" | "extension") && before.ends_with(|c: char| c.is_ascii_alphabetic())
}

/// The number before an extension written in brackets: `415-555-2671 (ext 12)`,
/// `020 7946 0018 [x12]`, `(poste 123)`. A marker is needed: `(12)` alone is no extension.
fn before_a_bracketed_extension(cell: &str) -> Option<&str> {
    let cell = cell.trim_end();
    let open = match cell.as_bytes().last()? {
        b')' => '(',
        b']' => '[',
        _ => return None,
    };
    let at = cell.rfind(open)?;
    let inside = cell[at + 1..cell.len() - 1].trim().to_ascii_lowercase();
    let digits = MARKERS
        .into_iter()
        .find_map(|marker| inside.strip_prefix(marker))?
        .trim_start_matches([' ', '.', ':', '=']);
    let number = cell[..at].trim_end();
    let is_extension = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && number.bytes().any(|b| b.is_ascii_digit());
    is_extension.then_some(number)
}
