//! How many SMS segments a body takes, counted the way Twilio and the carriers count them.
//! A body that fits the GSM-7 alphabet (3GPP TS 23.038) is sent in septets: 160 in a single
//! segment, 153 per segment once concatenated (the rest carries the concatenation header);
//! extension-table characters cost an escape septet too. Any other character sends the whole
//! body as UCS-2: 70 UTF-16 code units alone, 67 per concatenated segment. Neither an escape
//! pair nor a surrogate pair may be split, so a segment can end up one unit short.

use serde::{Deserialize, Serialize};

/// Septets in a message that is a single segment.
pub const GSM7_SINGLE: usize = 160;
/// Septets per segment of a concatenated message.
pub const GSM7_MULTI: usize = 153;
/// UTF-16 code units in a message that is a single segment.
pub const UCS2_SINGLE: usize = 70;
/// UTF-16 code units per segment of a concatenated message.
pub const UCS2_MULTI: usize = 67;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Encoding {
    #[serde(rename = "GSM-7")]
    Gsm7,
    #[serde(rename = "UCS-2")]
    Ucs2,
}

/// A GSM-7 stand-in for a character that would force UCS-2. serde writes a `char` as a
/// one-character string, which is what API clients expect for `from`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Replacement {
    pub from: char,
    pub to: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SegmentCount {
    pub encoding: Encoding,
    /// Characters as a person counts them (Unicode scalar values).
    pub characters: usize,
    /// What the segments are filled with: septets (GSM-7) or UTF-16 code units (UCS-2).
    pub units: usize,
    pub segments: usize,
    /// The distinct characters that forced UCS-2, in order of first appearance (empty for GSM-7).
    pub non_gsm_characters: Vec<char>,
    /// GSM-7 stand-ins offered for those characters, one per character that has one.
    pub replacements: Vec<Replacement>,
    /// Whether applying every replacement would make the body GSM-7 (true for a GSM-7 body).
    pub replaceable: bool,
}

/// The escape to the extension table: a code, not a character a user can type.
const ESCAPE: char = '\u{1b}';

/// The GSM 03.38 basic character set, indexed by its 7-bit code (0x1B is the escape, and
/// 0x24 is `¤`, not `$`, which sits at 0x02).
#[rustfmt::skip]
const GSM7_BASIC: [char; 128] = [
    '@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å',
    'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', ESCAPE, 'Æ', 'æ', 'ß', 'É',
    ' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/',
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?',
    '¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O',
    'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§',
    '¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
    'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à',
];

fn is_basic(c: char) -> bool {
    c != ESCAPE && GSM7_BASIC.contains(&c)
}

/// The extension table's user characters (its CR2 and SS2 codes are controls, not text).
fn is_extension(c: char) -> bool {
    matches!(
        c,
        '\u{0c}' | '^' | '{' | '}' | '\\' | '[' | ']' | '~' | '|' | '€'
    )
}

/// Whether `c` can be sent in GSM-7 (basic or extension table).
pub fn is_gsm7(c: char) -> bool {
    septets(c).is_some()
}

/// Septets `c` takes in GSM-7: 1 from the basic table, 2 (escape + code) from the extension
/// table, `None` when it forces UCS-2.
pub fn septets(c: char) -> Option<usize> {
    if is_basic(c) {
        Some(1)
    } else if is_extension(c) {
        Some(2)
    } else {
        None
    }
}

/// The GSM-7 stand-in for a character that phones and word processors slip into text. Only
/// punctuation and spaces: swapping one letter for another would change what the message says.
fn replacement(c: char) -> Option<&'static str> {
    match c {
        '\u{2018}' | '\u{2019}' | '\u{201a}' | '\u{201b}' | '\u{2032}' => Some("'"),
        '\u{201c}' | '\u{201d}' | '\u{201e}' | '\u{201f}' | '\u{2033}' | '\u{ab}' | '\u{bb}' => {
            Some("\"")
        }
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{2022}' => Some("-"),
        '\u{2026}' => Some("..."),
        '\u{09}' | '\u{a0}' | '\u{2002}'..='\u{200a}' | '\u{202f}' => Some(" "),
        '\u{200b}'..='\u{200d}' | '\u{feff}' | '\u{ad}' => Some(""),
        _ => None,
    }
}

/// The body with every known replacement applied (characters without one are kept).
pub fn to_gsm_safe(body: &str) -> String {
    let mut safe = String::with_capacity(body.len());
    for c in body.chars() {
        match replacement(c) {
            Some(to) => safe.push_str(to),
            None => safe.push(c),
        }
    }
    safe
}

/// Counts the segments `body` takes and explains what, if anything, forced UCS-2.
pub fn count(body: &str) -> SegmentCount {
    let non_gsm_characters = non_gsm_characters(body);
    let encoding = if non_gsm_characters.is_empty() {
        Encoding::Gsm7
    } else {
        Encoding::Ucs2
    };
    let replacements: Vec<Replacement> = non_gsm_characters
        .iter()
        .filter_map(|&from| replacement(from).map(|to| Replacement { from, to }))
        .collect();
    SegmentCount {
        encoding,
        characters: body.chars().count(),
        units: body.chars().map(|c| units(encoding, c)).sum(),
        segments: segments(body, encoding),
        replaceable: replacements.len() == non_gsm_characters.len(),
        non_gsm_characters,
        replacements,
    }
}

fn non_gsm_characters(body: &str) -> Vec<char> {
    let mut seen = std::collections::HashSet::new();
    body.chars()
        .filter(|&c| !is_gsm7(c) && seen.insert(c))
        .collect()
}

/// Units `c` fills in a segment. In GSM-7 every character has septets (that is how the
/// encoding was chosen), so the fallback never applies.
fn units(encoding: Encoding, c: char) -> usize {
    match encoding {
        Encoding::Gsm7 => septets(c).unwrap_or(1),
        Encoding::Ucs2 => c.len_utf16(),
    }
}

fn segments(body: &str, encoding: Encoding) -> usize {
    let (single, multi) = match encoding {
        Encoding::Gsm7 => (GSM7_SINGLE, GSM7_MULTI),
        Encoding::Ucs2 => (UCS2_SINGLE, UCS2_MULTI),
    };
    let total: usize = body.chars().map(|c| units(encoding, c)).sum();
    if total <= single {
        return usize::from(total > 0);
    }
    // Fill character by character: a pair that does not fit whole starts the next segment.
    let (mut segments, mut filled) = (1, 0);
    for width in body.chars().map(|c| units(encoding, c)) {
        if filled + width > multi {
            segments += 1;
            filled = 0;
        }
        filled += width;
    }
    segments
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(n: usize) -> String {
        "a".repeat(n)
    }

    #[test]
    fn empty_body_is_zero_gsm7_segments() {
        let counted = count("");
        assert_eq!(counted.encoding, Encoding::Gsm7);
        assert_eq!(counted.segments, 0);
        assert_eq!(counted.units, 0);
        assert_eq!(counted.characters, 0);
    }

    #[test]
    fn gsm7_single_and_concatenated_boundaries() {
        for (len, segments) in [(1, 1), (160, 1), (161, 2), (306, 2), (307, 3), (459, 3)] {
            let counted = count(&a(len));
            assert_eq!(counted.encoding, Encoding::Gsm7, "{len}");
            assert_eq!(counted.units, len, "{len}");
            assert_eq!(counted.segments, segments, "{len} characters");
        }
    }

    #[test]
    fn extension_characters_take_two_septets() {
        let fits = count(&"€".repeat(80));
        assert_eq!(fits.encoding, Encoding::Gsm7);
        assert_eq!((fits.characters, fits.units, fits.segments), (80, 160, 1));
        let spills = count(&"€".repeat(81));
        assert_eq!(
            (spills.characters, spills.units, spills.segments),
            (81, 162, 2)
        );
        for c in ['^', '{', '}', '\\', '[', ']', '~', '|', '€', '\u{0c}'] {
            assert_eq!(septets(c), Some(2), "{c:?}");
        }
    }

    #[test]
    fn escape_pair_is_not_split_across_segments() {
        // 306 septets would fit two segments of 153, but the € cannot straddle the boundary.
        let body = format!("{}€{}", a(152), a(152));
        let counted = count(&body);
        assert_eq!((counted.characters, counted.units), (305, 306));
        assert_eq!(counted.segments, 3);
        // The same length made of single septets does fit two segments.
        assert_eq!(count(&a(306)).segments, 2);
    }

    #[test]
    fn emoji_forces_ucs2_and_counts_two_units() {
        let counted = count("Hi 😀");
        assert_eq!(counted.encoding, Encoding::Ucs2);
        assert_eq!(
            (counted.characters, counted.units, counted.segments),
            (4, 5, 1)
        );
        assert_eq!(counted.non_gsm_characters, vec!['😀']);
        assert!(counted.replacements.is_empty());
        assert!(!counted.replaceable);
    }

    #[test]
    fn ucs2_single_and_concatenated_boundaries() {
        // The ’ forces UCS-2 and takes one unit, like each 'a'.
        for (units, segments) in [(70, 1), (71, 2), (134, 2), (135, 3), (201, 3), (202, 4)] {
            let counted = count(&format!("’{}", a(units - 1)));
            assert_eq!(counted.encoding, Encoding::Ucs2);
            assert_eq!(counted.units, units);
            assert_eq!(counted.segments, segments, "{units} units");
        }
    }

    #[test]
    fn surrogate_pair_is_not_split_across_segments() {
        // 134 units would fit two segments of 67, but the emoji cannot straddle the boundary.
        let counted = count(&format!("{}😀{}", a(66), a(66)));
        assert_eq!((counted.characters, counted.units), (133, 134));
        assert_eq!(counted.segments, 3);
        // With the emoji ending segment one exactly, two segments suffice.
        assert_eq!(count(&format!("{}😀{}", a(65), a(67))).segments, 2);
    }

    #[test]
    fn smart_quote_is_replaceable_and_gsm_safe_matches_ascii() {
        let body = "It’s on – see you…";
        let counted = count(body);
        assert_eq!(counted.encoding, Encoding::Ucs2);
        assert_eq!(counted.non_gsm_characters, vec!['’', '–', '…']);
        assert_eq!(
            counted.replacements,
            vec![
                Replacement {
                    from: '’', to: "'"
                },
                Replacement {
                    from: '–', to: "-"
                },
                Replacement {
                    from: '…',
                    to: "..."
                },
            ]
        );
        assert!(counted.replaceable);

        let safe = to_gsm_safe(body);
        assert_eq!(safe, "It's on - see you...");
        let safe_count = count(&safe);
        assert_eq!(safe_count.encoding, Encoding::Gsm7);
        assert!(safe_count.non_gsm_characters.is_empty());
        assert_eq!(safe_count, count("It's on - see you..."));
    }

    #[test]
    fn smart_quote_alone_forces_ucs2_with_one_replacement() {
        let counted = count("’");
        assert_eq!(counted.non_gsm_characters, vec!['’']);
        assert_eq!(
            counted.replacements,
            vec![Replacement {
                from: '’', to: "'"
            }]
        );
        assert!(counted.replaceable);
        // One stray quote costs a segment: 201 units are three UCS-2 segments, two in GSM-7.
        let long = format!("{}’", a(200));
        assert_eq!(count(&long).segments, 3);
        let safe = count(&to_gsm_safe(&long));
        assert_eq!((safe.encoding, safe.segments), (Encoding::Gsm7, 2));
        assert_eq!(safe, count(&format!("{}'", a(200))));
    }

    #[test]
    fn invisible_and_space_characters_are_replaced() {
        let body = "a\u{a0}b\u{200b}c\u{ad}d\te\u{202f}f\u{feff}";
        let counted = count(body);
        assert!(counted.replaceable);
        assert_eq!(to_gsm_safe(body), "a bcd e f");
        assert_eq!(count(&to_gsm_safe(body)).encoding, Encoding::Gsm7);
    }

    #[test]
    fn lowercase_c_cedilla_forces_ucs2_without_replacement() {
        let counted = count("Ça va, garçon");
        assert_eq!(counted.encoding, Encoding::Ucs2);
        assert_eq!(counted.non_gsm_characters, vec!['ç']);
        assert!(counted.replacements.is_empty());
        assert!(!counted.replaceable);
        assert_eq!(to_gsm_safe("garçon"), "garçon");
        assert!(is_gsm7('Ç'));
        assert_eq!(count("Ça va").encoding, Encoding::Gsm7);
    }

    #[test]
    fn mixed_replaceable_and_unreplaceable_is_not_replaceable() {
        let counted = count("“Olá” 😀");
        assert_eq!(counted.non_gsm_characters, vec!['“', 'á', '”', '😀']);
        assert_eq!(counted.replacements.len(), 2);
        assert!(!counted.replaceable);
    }

    #[test]
    fn characters_differ_from_units_for_extension_and_emoji() {
        let gsm = count("{€}");
        assert_eq!(
            (gsm.encoding, gsm.characters, gsm.units),
            (Encoding::Gsm7, 3, 6)
        );
        let ucs = count("😀😀");
        assert_eq!(
            (ucs.encoding, ucs.characters, ucs.units),
            (Encoding::Ucs2, 2, 4)
        );
    }

    #[test]
    fn basic_table_is_gsm_03_38() {
        assert_eq!(GSM7_BASIC[0x02], '$');
        assert_eq!(GSM7_BASIC[0x24], '¤');
        assert_eq!(GSM7_BASIC[0x09], 'Ç');
        let mut sorted = GSM7_BASIC.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 128, "no character appears twice");
        for c in "@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà\n\r".chars()
        {
            assert_eq!(septets(c), Some(1), "{c:?}");
        }
        for c in ['\u{1b}', '`', 'ç', 'á', 'ê', 'À', '\t', '\u{0}'] {
            assert_eq!(septets(c), None, "{c:?}");
            assert!(!is_gsm7(c));
        }
    }

    #[test]
    fn serialises_with_wire_names_and_chars_as_strings() {
        let value = serde_json::to_value(count("’")).expect("a count serialises");
        assert_eq!(value["encoding"], "UCS-2");
        assert_eq!(value["non_gsm_characters"], serde_json::json!(["’"]));
        assert_eq!(
            value["replacements"],
            serde_json::json!([{ "from": "’", "to": "'" }])
        );
        assert_eq!(value["replaceable"], true);
        let gsm = serde_json::to_value(count("hi")).expect("a count serialises");
        assert_eq!(gsm["encoding"], "GSM-7");
        assert_eq!(gsm["segments"], 1);
    }
}
