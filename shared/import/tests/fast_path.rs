//! The fast path must give exactly what the crate gives: both paths over many numbers.

use phonenumber::metadata::DATABASE;
use smscrm_domain::Region;
use smscrm_import::PhoneReader;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn digit(&mut self) -> char {
        char::from(b'0' + self.below(10) as u8)
    }
}

/// A national number like the region's examples, with its last digits (or more) replaced.
fn national(rng: &mut Rng, region: &str) -> String {
    let meta = DATABASE.by_id(region).expect("region");
    let d = meta.descriptors();
    let examples: Vec<&str> = [d.mobile(), d.fixed_line(), d.toll_free(), Some(d.general())]
        .into_iter()
        .flatten()
        .filter_map(|desc| desc.example())
        .collect();
    let example = examples[rng.below(examples.len())];
    let keep = rng.below(example.len() + 1);
    let mut n: String = example[..keep].to_owned();
    while n.len() < example.len() {
        n.push(rng.digit());
    }
    // Sometimes one digit more or less.
    match rng.below(10) {
        0 => {
            n.push(rng.digit());
        }
        1 => {
            n.pop();
        }
        _ => {}
    }
    n
}

fn format(rng: &mut Rng, digits: &str) -> String {
    match rng.below(5) {
        0 => digits.to_owned(),
        1 => digits
            .chars()
            .enumerate()
            .flat_map(|(i, c)| (i > 0 && i % 3 == 0).then_some(' ').into_iter().chain([c]))
            .collect(),
        2 if digits.len() > 6 => format!("({}) {}-{}", &digits[..3], &digits[3..6], &digits[6..]),
        3 => digits
            .chars()
            .enumerate()
            .flat_map(|(i, c)| (i > 0 && i % 4 == 0).then_some('-').into_iter().chain([c]))
            .collect(),
        _ => digits
            .chars()
            .enumerate()
            .flat_map(|(i, c)| (i > 0 && i % 2 == 0).then_some('.').into_iter().chain([c]))
            .collect(),
    }
}

fn written(rng: &mut Rng, region: &str, own: Region) -> String {
    let meta = DATABASE.by_id(region).expect("region");
    let code = meta.country_code();
    let n = national(rng, region);
    let np = meta.national_prefix().unwrap_or("");
    let (plus, digits) = match rng.below(7) {
        0 => (false, n),
        1 => (false, format!("{np}{n}")),
        2 | 3 => (true, format!("{code}{n}")),
        4 => (false, format!("00{code}{n}")),
        5 => (false, format!("{code}{n}")),
        _ => {
            // Random digits in the default region's country.
            let len = 6 + rng.below(11);
            let _ = own;
            (false, (0..len).map(|_| rng.digit()).collect())
        }
    };
    let body = format(rng, &digits);
    if plus {
        if rng.below(2) == 0 {
            format!("+{body}")
        } else {
            format!("+{code} {}", format(rng, &digits[code.to_string().len()..]))
        }
    } else {
        body
    }
}

#[test]
fn fast_path_equals_the_crate() {
    let regions = [
        "US", "CA", "GB", "DE", "FR", "IT", "AU", "IN", "BR", "MX", "JM", "BB", "ES", "NL", "CH",
        "AR",
    ];
    let mut rng = Rng(0x1234_5678_9ABC_DEF1);
    // Per (default region, origin) pair. Cases stay grouped by origin: the crate keeps only
    // 100 compiled expressions, and mixing all countries at random makes it recompile them
    // all the time (slow, not wrong).
    let per_pair: usize = std::env::var("FAST_PATH_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(150);
    let mut compared = 0;
    for own in ["US", "GB", "DE", "FR", "CA", "AU", "IN", "JM"] {
        let region: Region = own.parse().unwrap();
        // One reader per default region: its cache fills as it goes, as in an import.
        let mut reader = PhoneReader::new(region);
        let mut cases: Vec<String> = regions
            .iter()
            .flat_map(|from| (0..per_pair).map(move |_| *from))
            .map(|from| written(&mut rng, from, region))
            .collect();
        // NANP edges: unassigned area codes, N11, 0/1 starts, Barbados' 7-digit prefixes.
        for npa in [
            "201", "999", "911", "555", "246", "876", "800", "900", "100", "011", "415",
        ] {
            for _ in 0..20 {
                let rest: String = (0..7).map(|_| rng.digit()).collect();
                cases.push(format!("{npa}{rest}"));
                cases.push(format!("1{npa}{rest}"));
                cases.push(format!("+1 {npa} {rest}"));
                cases.push(format!("246521{}", &rest[..4]));
            }
        }
        // Each case twice: the second read of a key comes from the cache.
        for raw in cases.iter().flat_map(|c| [c, c]) {
            let fast = reader.read(raw).map(|p| p.to_string());
            let slow = reader.read_slow(raw).map(|p| p.to_string());
            assert_eq!(fast, slow, "`{raw}` in {own}");
            compared += 1;
        }
    }
    assert!(compared > 0);
    // And it is used: every NANP number of the common shapes goes the fast way once its key
    // has been seen.
    let mut reader = PhoneReader::new("US".parse().unwrap());
    for raw in [
        "(415) 555-2671",
        "415-555-2672",
        "+1 415 555 2673",
        "1-415-555-2674",
        "+44 7911 123456",
        "+44 7911 123457",
    ] {
        reader.read(raw).unwrap();
    }
    assert!(reader.fast_path_hits() >= 4, "{}", reader.fast_path_hits());
}

/// An invalid number must not make the fast path reject later valid numbers that start the
/// same way when the crate strips a prefix the fast path's proof does not cover (the trunk
/// `8` after +7 and +993, GB's `180020` relay prefix, leading zeros): there, validity turns on
/// later digits.
#[test]
fn an_invalid_number_does_not_condemn_its_neighbours() {
    let pairs = [
        ("US", "+7 8 726 474 8191", "+7 8 726 443 1729"),
        ("GB", "+7 8 726 474 8191", "+7 8 726 443 1729"),
        ("US", "7 8 726 474 8191", "7 8 726 443 1729"),
        ("KZ", "+7 8 7171 040664", "+7 8 7172 123456"),
        ("GB", "+993 8 11 040664", "+993 8 12 345678"),
        ("GB", "180020 7911 561552", "180020 7911 123456"),
        ("GB", "180020 20 9837 9246", "180020 20 7946 0018"),
        ("RU", "+7 8 8 807 267 28 97", "+7 8 8 800 212 34 88"),
        // The crate drops the second leading zero too (it keeps national numbers as integers).
        ("KE", "00800177293", "00800430482"),
    ];
    for (own, invalid, valid) in pairs {
        let mut reader = PhoneReader::new(own.parse().unwrap());
        assert!(reader.read_slow(invalid).is_err(), "`{invalid}` in {own}");
        let _ = reader.read(invalid);
        let expected = reader.read_slow(valid).map(|p| p.to_string());
        assert!(expected.is_ok(), "`{valid}` in {own}");
        assert_eq!(
            reader.read(valid).map(|p| p.to_string()),
            expected,
            "`{valid}` in {own} after `{invalid}`"
        );
    }
}

/// Found by fuzzing (the fast path against the crate): `+081-...` in RFC 3966's form, whose
/// first group the crate reads as country code 81, was refused by the fast path, which read
/// `081` as 81 and then asked the crate about the digits without their dashes.
#[test]
fn a_plus_zero_country_code_in_rfc3966_form_reads_as_the_crate_does() {
    for cell in [
        "+081-582135215",
        "+081-582-911-345",
        "+081582911345",
        "+01-415-555-2671",
    ] {
        let mut reader = PhoneReader::new("US".parse().unwrap());
        let slow = reader.read_slow(cell).map(|p| p.to_string());
        let fast = reader.read(cell).map(|p| p.to_string());
        assert_eq!(fast, slow, "`{cell}` in US");
    }
}
