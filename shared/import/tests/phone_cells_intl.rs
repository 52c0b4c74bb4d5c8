//! Valid mobiles as people and their software write them outside the English-speaking world,
//! in other scripts' digits too.

use smscrm_import::PhoneReader;

/// Both paths, which must agree.
fn read(raw: &str, region: &str) -> Result<String, String> {
    let mut reader = PhoneReader::new(region.parse().unwrap());
    let slow = reader.read_slow(raw).map(|p| p.to_string());
    let fast = reader.read(raw).map(|p| p.to_string());
    assert_eq!(fast, slow, "`{raw}` in {region}");
    // Again, now that the fast path has seen the number.
    assert_eq!(
        reader.read(raw).map(|p| p.to_string()),
        slow,
        "`{raw}` again"
    );
    fast
}

fn reads_as(cases: &[(&str, &str, &str)]) {
    for &(raw, region, want) in cases {
        assert_eq!(
            read(raw, region).as_deref(),
            Ok(want),
            "`{raw}` in {region}"
        );
    }
}

/// Without spaces, the crate takes a `+` number's first group for its country code.
#[test]
fn a_plus_number_means_the_same_whatever_its_separators() {
    reads_as(&[
        ("+316-12345678", "NL", "+31612345678"),
        ("+3161-2345678", "NL", "+31612345678"),
        ("+31 6-12345678", "NL", "+31612345678"),
        ("+351912-345-678", "PT", "+351912345678"),
        ("+351912-345-678", "US", "+351912345678"),
        ("+316-12345678 (Belgium)", "NL", "+31612345678"),
        // The trunk's 0 in brackets, where the country has no trunk prefix.
        ("+34 (0) 612 34 56 78", "ES", "+34612345678"),
        ("+34 (0)612345678", "GB", "+34612345678"),
        ("+44 (0) 7911 123456", "GB", "+447911123456"),
    ]);
    // Split anywhere, with any of the crate's separators.
    for e164 in [
        "+31612345678",
        "+351912345678",
        "+447911123456",
        "+14155552671",
        "+5511987654321",
        "+919876543210",
        "+4915123456789",
    ] {
        for at in 2..e164.len() {
            for separator in ["-", ".", ")"] {
                let raw = format!("{}{separator}{}", &e164[..at], &e164[at..]);
                assert_eq!(read(&raw, "US").as_deref(), Ok(e164), "`{raw}`");
            }
        }
    }
    // Digits that are no valid number are refused as written.
    let err = read("+316-1234", "NL").unwrap_err();
    assert!(err.contains("`+316-1234`"), "{err}");
}

/// Excel's digit grouping: Swiss apostrophes, India's lakhs and crores, pairs.
#[test]
fn excel_digit_groupings() {
    reads_as(&[
        ("791'234'567", "CH", "+41791234567"),
        ("41'791'234'567", "CH", "+41791234567"),
        ("791\u{2019}234\u{2019}567", "CH", "+41791234567"),
        ("'791'234'567", "CH", "+41791234567"),
        ("9,87,65,43,210", "IN", "+919876543210"),
        ("9,19,87,65,43,210", "IN", "+919876543210"),
        ("91,98,76,54,32,10", "IN", "+919876543210"),
        ("4,155,559,103", "US", "+14155559103"),
    ]);
    // A list, or separators mixed, is no one number.
    for (raw, region) in [
        ("98765,43210", "IN"),
        ("9876,543,210", "IN"),
        ("987,65,43,210", "IN"),
        ("9,87,65,432,10", "IN"),
        ("791'234,567", "CH"),
        ("415,555,2671", "US"),
    ] {
        assert!(read(raw, region).is_err(), "`{raw}` in {region}");
    }
}

/// Typographic spaces between digit groups (French and Swedish software's U+202F).
#[test]
fn typographic_spaces_separate_digits() {
    reads_as(&[
        ("46\u{202f}701\u{202f}234\u{202f}567", "SE", "+46701234567"),
        ("46\u{2009}701\u{2009}234\u{2009}567", "SE", "+46701234567"),
        ("46\u{2007}701\u{2007}234\u{2007}567", "SE", "+46701234567"),
        ("070\u{202f}123\u{202f}45\u{202f}67", "SE", "+46701234567"),
        (
            "06\u{202f}12\u{202f}34\u{202f}56\u{202f}78",
            "FR",
            "+33612345678",
        ),
        ("46\u{a0}701\u{a0}234\u{a0}567", "SE", "+46701234567"),
    ]);
}

#[test]
fn extensions_in_other_languages_are_dropped() {
    reads_as(&[
        ("514 555-1234 poste 123", "CA", "+15145551234"),
        ("514 555-1234 p. 22", "CA", "+15145551234"),
        ("514 555-1234, Poste 123", "CA", "+15145551234"),
        ("514 555-1234 (poste 123)", "CA", "+15145551234"),
        ("514 555-1234 (p. 22)", "CA", "+15145551234"),
        ("+39 3471234567 int. 21", "IT", "+393471234567"),
        ("+39 347 123 4567 interno 21", "IT", "+393471234567"),
        ("+34 612 34 56 78 anexo 3", "ES", "+34612345678"),
        ("(11) 98765-4321 ramal 12", "BR", "+5511987654321"),
        ("512 345 678 wew. 12", "PL", "+48512345678"),
        ("06 12345678 toestel 12", "NL", "+31612345678"),
    ]);
    // An abbreviation without its dot, or a marker ending a word, is no marker.
    for raw in [
        "514 555-1234 p 22",
        "514 555-1234 ap. 22",
        "514 555-1234 int 22",
    ] {
        let err = read(raw, "CA").unwrap_err();
        assert!(err.contains("letters among its digits"), "{raw}: {err}");
    }
}

/// Brazil's `0xx`: the carrier code a long-distance call dials, before the area code.
#[test]
fn brazils_carrier_placeholder_is_the_trunk_prefix() {
    reads_as(&[
        ("0xx11 98765-4321", "BR", "+5511987654321"),
        ("0XX11 98765-4321", "BR", "+5511987654321"),
        ("(0xx11) 98765-4321", "BR", "+5511987654321"),
        ("0xx21 2345-6789", "BR", "+552123456789"),
    ]);
    // Elsewhere `011` may be the international prefix: refused as before.
    for (raw, region) in [("0xx11 98765-4321", "US"), ("0xx 11 98765-4321", "BR")] {
        let err = read(raw, region).unwrap_err();
        assert!(err.contains("letters among its digits"), "{raw}: {err}");
    }
}

/// Arabic, Persian and Thai keyboards type their own digits, alone or among ASCII ones.
#[test]
fn digits_of_other_scripts_are_digits() {
    reads_as(&[
        ("٠٥٠ ١٢٣ ٤٥٦٧", "AE", "+971501234567"),
        ("+٩٧١ ٥٠ ١٢٣ ٤٥٦٧", "AE", "+971501234567"),
        ("٠٥٠-١٢٣-٤٥٦٧", "AE", "+971501234567"),
        ("۰۵۰۱۲۳۴۵۶۷", "AE", "+971501234567"),
        ("๐๘๑-๒๓๔-๕๖๗๘", "TH", "+66812345678"),
        ("+966 5۵۵۱۲3456", "SA", "+966555123456"),
    ]);
}

/// Right-to-left text marks the direction around and inside a number's groups.
#[test]
fn direction_marks_inside_a_number_are_dropped() {
    reads_as(&[
        ("052\u{200f}-234-5678", "IL", "+972522345678"),
        ("052\u{200e}-234\u{200e}-5670", "IL", "+972522345670"),
        ("\u{2067}052-234-5678\u{2069}", "IL", "+972522345678"),
        ("\u{202b}+971 50\u{202c} 123 4567", "AE", "+971501234567"),
        ("٠٥٠\u{061c} ١٢٣ ٤٥٦٧", "AE", "+971501234567"),
    ]);
}

/// Older ways of writing a national number, still in long-kept lists: Ukraine's Soviet-era
/// long-distance `8` before the trunk `0` (`8 050 123 45 67`), and Chile's trunk `0` before
/// mobiles and area codes, dropped in 2016 (`09 8765 4321`, `02 2123 4567`).
#[test]
fn old_national_prefixes_are_read() {
    reads_as(&[
        ("8 050 123 45 67", "UA", "+380501234567"),
        ("8(067)123-45-67", "UA", "+380671234567"),
        ("80501234567", "UA", "+380501234567"),
        ("050 123 45 67", "UA", "+380501234567"),
        ("09 8765 4321", "CL", "+56987654321"),
        ("(09) 8765-4321", "CL", "+56987654321"),
        ("02 2123 4567", "CL", "+56221234567"),
        ("9 8765 4321", "CL", "+56987654321"),
    ]);
    // Only there: a Russian number keeps its trunk 8, and elsewhere `8 050...` is no
    // Ukrainian number.
    assert_eq!(read("8 916 123-45-67", "RU").as_deref(), Ok("+79161234567"));
    assert_ne!(
        read("8 050 123 45 67", "PL").as_deref(),
        Ok("+380501234567")
    );
    assert_ne!(read("09 8765 4321", "AR").as_deref(), Ok("+56987654321"));
}
