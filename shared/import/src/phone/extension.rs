//! Extensions written after a number, which a text message cannot dial.

/// Drops an extension: `x123`, `ext. 123`, `extension 123`, `#123` after the number, in
/// brackets or not (`(ext. 12)`), or RFC 3966's `;ext=123`.
pub(crate) fn strip_extension(cell: &str) -> &str {
    if let Some(number) = before_a_bracketed_extension(cell) {
        return number;
    }
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

/// The number before an extension written in brackets: `415-555-2671 (ext 12)`,
/// `020 7946 0018 [x12]`. A marker is needed: `(12)` alone is no extension.
fn before_a_bracketed_extension(cell: &str) -> Option<&str> {
    let cell = cell.trim_end();
    let open = match cell.as_bytes().last()? {
        b')' => '(',
        b']' => '[',
        _ => return None,
    };
    let at = cell.rfind(open)?;
    let inside = cell[at + 1..cell.len() - 1].trim().to_ascii_lowercase();
    let digits = ["extension", "ext", "x", "#"]
        .into_iter()
        .find_map(|marker| inside.strip_prefix(marker))?
        .trim_start_matches([' ', '.', ':', '=']);
    let number = cell[..at].trim_end();
    let is_extension = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && number.bytes().any(|b| b.is_ascii_digit());
    is_extension.then_some(number)
}
