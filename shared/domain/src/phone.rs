//! Phone numbers in E.164, the only form stored or sent.

use std::fmt;
use std::str::FromStr;

use phonenumber::country::Source;
use phonenumber::{Mode, PhoneNumber, country};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ValidationError;

/// A region (ISO 3166-1 alpha-2 country code) used to read numbers written without `+`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Region(country::Id);

impl Region {
    pub fn code(&self) -> &str {
        self.0.as_ref()
    }

    /// The country calling code (1 for US and CA, 44 for GB, ...).
    pub fn calling_code(&self) -> u16 {
        phonenumber::metadata::DATABASE
            .by_id(self.code())
            .map_or(0, |meta| meta.country_code())
    }
}

impl FromStr for Region {
    type Err = ValidationError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        raw.trim()
            .to_ascii_uppercase()
            .parse::<country::Id>()
            .map(Region)
            .map_err(|_| {
                let hint = match raw.trim().to_ascii_uppercase().as_str() {
                    "UK" => " (the United Kingdom's is GB)",
                    _ => "",
                };
                ValidationError::new(
                    "region",
                    format!(
                        "`{raw}` is not an ISO 3166 two-letter country code such as US or \
                         GB{hint}"
                    ),
                )
            })
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Serialize for Region {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Region {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// A valid phone number in E.164 form (`+` and up to 15 digits).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PhoneE164(String);

impl PhoneE164 {
    /// Reads a number as people write it (spaces, dots, dashes, brackets, `+`, national
    /// trunk prefix), taking numbers without a country code to be in `default_region`.
    pub fn parse(raw: &str, default_region: Region) -> Result<Self, ValidationError> {
        let invalid = |reason: &str| ValidationError::new("phone", reason.to_owned());
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(invalid("is empty"));
        }
        if trimmed.len() > 64 {
            return Err(invalid("is too long to be a phone number"));
        }
        if !trimmed.chars().any(|c| c.is_ascii_digit()) {
            return Err(ValidationError::new(
                "phone",
                format!("`{trimmed}` has no digits"),
            ));
        }
        let number = phonenumber::parse(Some(default_region.0), trimmed).map_err(|e| {
            ValidationError::new("phone", format!("`{trimmed}` is not a phone number ({e})"))
        })?;
        let number = own_country_rules(trimmed, default_region, number);
        if !phonenumber::is_valid(&number) {
            // The region matters only to a number written without its country code.
            let read_as = match trimmed.starts_with('+') {
                true => String::new(),
                false => {
                    format!(" (read as a number of {default_region}: it does not start with +)")
                }
            };
            return Err(ValidationError::new(
                "phone",
                format!("`{trimmed}` is not a valid number{read_as}"),
            ));
        }
        Ok(Self(number.format().mode(Mode::E164).to_string()))
    }

    /// Wraps a string the caller has proven equal to what [`PhoneE164::parse`] returns for some
    /// input (the CSV import's fast path, checked against `parse` by its tests). Anything else
    /// must go through `parse` or `from_e164`.
    pub fn from_e164_unchecked(e164: String) -> Self {
        debug_assert!(
            e164.starts_with('+')
                && e164.len() <= 21
                && e164[1..].bytes().all(|b| b.is_ascii_digit()),
            "not E.164: {e164}"
        );
        Self(e164)
    }

    /// The digits after the `+` as a number: a compact key for sets of phones. `None` past 19
    /// digits (E.164 allows 15, but the crate accepts some longer national numbers).
    pub fn digits_u64(&self) -> Option<u64> {
        let digits = &self.0[1..];
        (digits.len() <= 19).then(|| digits.bytes().fold(0, |n, b| n * 10 + u64::from(b - b'0')))
    }

    /// Accepts only an already-normalised E.164 string (from storage, or a `+` number).
    pub fn from_e164(raw: &str) -> Result<Self, ValidationError> {
        let parsed = Self::parse(raw, Region(country::Id::US))?;
        if parsed.0 == raw {
            Ok(parsed)
        } else {
            Err(ValidationError::new(
                "phone",
                format!("`{raw}` is not in E.164 form (expected {parsed})"),
            ))
        }
    }

    /// Whether the number may be a mobile (its numbering plan says mobile, or cannot tell
    /// mobiles from fixed lines, as in the US): which reading of an ambiguous number to text.
    pub fn may_be_mobile(&self) -> bool {
        use phonenumber::Type;
        use phonenumber::metadata::DATABASE;
        phonenumber::parse(None, &self.0).is_ok_and(|number| {
            matches!(
                number.number_type(&DATABASE),
                Type::Mobile | Type::FixedLineOrMobile
            )
        })
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The `phonenumber` crate strips the *default region's* national prefix even from a number
/// written with its own country code: read with region US, `+49 151 23456789` loses the `1`
/// of `151` and becomes the wrong (but valid!) +495123456789. So a number that names another
/// country, with `+` or the region's international prefix (`011 49 ...` from the US), is read
/// again without a default region, where the crate applies that country's own rules.
fn own_country_rules(trimmed: &str, region: Region, number: PhoneNumber) -> PhoneNumber {
    if number.country().code() == region.calling_code() {
        return number;
    }
    let international = match number.country().source() {
        Source::Plus => trimmed.to_owned(),
        Source::Idd => match after_international_prefix(trimmed, region) {
            Some(rest) => format!("+{rest}"),
            None => return number,
        },
        Source::Number | Source::Default => return number,
    };
    match phonenumber::parse(None, &international) {
        Ok(again) if again.country().code() == number.country().code() => again,
        _ => number,
    }
}

/// What follows the default region's international prefix (`011` in the US, `00` in most of
/// Europe) at the start of `raw`, found the way the crate finds it: on the digits alone.
fn after_international_prefix(raw: &str, region: Region) -> Option<&str> {
    let idd = phonenumber::metadata::DATABASE
        .by_id(region.code())?
        .international_prefix()?;
    let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
    let found = idd.find(&digits).filter(|m| m.start() == 0)?;
    let mut seen = 0;
    for (at, c) in raw.char_indices() {
        if seen == found.end() {
            return Some(&raw[at..]);
        }
        if c.is_ascii_digit() {
            seen += 1;
        } else if c.is_alphabetic() {
            // Letters map to digits in the crate (vanity numbers): the count would be off.
            return None;
        }
    }
    None
}

impl fmt::Display for PhoneE164 {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for PhoneE164 {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

/// Deserialising checks the form only (`+` and 1 to 19 digits), not the numbering plan: a
/// `PhoneE164` is deserialised from what the store wrote, which was validated on the way in
/// (request bodies carry phones as strings and go through [`PhoneE164::parse`]). Running the
/// `phonenumber` crate again on every stored contact read was most of the CPU time of
/// re-importing a file.
impl<'de> Deserialize<'de> for PhoneE164 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        if is_e164_form(&raw) {
            Ok(Self(raw))
        } else {
            Err(serde::de::Error::custom(format!(
                "`{raw}` is not a phone number in E.164 form"
            )))
        }
    }
}

fn is_e164_form(raw: &str) -> bool {
    raw.strip_prefix('+').is_some_and(|digits| {
        (1..=19).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us() -> Region {
        "US".parse().unwrap()
    }

    #[test]
    fn normalises_what_people_write() {
        for raw in [
            "(415) 555-2671",
            "415.555.2671",
            "+1 415 555 2671",
            "1-415-555-2671",
            " 4155552671 ",
        ] {
            assert_eq!(
                PhoneE164::parse(raw, us()).unwrap().as_str(),
                "+14155552671",
                "{raw}"
            );
        }
    }

    #[test]
    fn uses_the_default_region_and_drops_the_trunk_prefix() {
        let gb: Region = "gb".parse().unwrap();
        assert_eq!(
            PhoneE164::parse("07400 123456", gb).unwrap().as_str(),
            "+447400123456"
        );
        let de: Region = "DE".parse().unwrap();
        assert_eq!(
            PhoneE164::parse("0151 23456789", de).unwrap().as_str(),
            "+4915123456789"
        );
    }

    #[test]
    fn rejects_invalid_numbers_with_a_reason() {
        for raw in ["", "abc", "123", "+1 415 555", "+999 1234567"] {
            let err = PhoneE164::parse(raw, us()).unwrap_err();
            assert_eq!(err.field, "phone");
            assert!(!err.reason.is_empty());
        }
    }

    #[test]
    fn stored_phones_deserialise_by_form() {
        let read = |json: &str| serde_json::from_str::<PhoneE164>(json).map(|p| p.0);
        assert_eq!(
            read(r#""+14155552671""#).ok().as_deref(),
            Some("+14155552671")
        );
        for bad in [
            r#""4155552671""#,
            r#""+1 415 555 2671""#,
            r#""+""#,
            r#""+0123""#,
            "12",
        ] {
            assert!(read(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn from_e164_only_takes_normalised_form() {
        assert!(PhoneE164::from_e164("+14155552671").is_ok());
        assert!(PhoneE164::from_e164("4155552671").is_err());
        assert!(PhoneE164::from_e164("+1 415 555 2671").is_err());
    }

    #[test]
    fn a_foreign_number_keeps_its_own_digits() {
        // The default region's trunk prefix `1` must not be stripped from a German `151`.
        for raw in ["+49 151 23456789", "011 49 151 23456789", "+4915123456789"] {
            assert_eq!(
                PhoneE164::parse(raw, us()).unwrap().as_str(),
                "+4915123456789",
                "{raw}"
            );
        }
        let gb: Region = "GB".parse().unwrap();
        assert_eq!(
            PhoneE164::parse("00 49 151 23456789", gb).unwrap().as_str(),
            "+4915123456789"
        );
        assert_eq!(
            PhoneE164::parse("+1 415 555 2671", gb).unwrap().as_str(),
            "+14155552671"
        );
    }

    #[test]
    fn digits_key() {
        let p = PhoneE164::parse("+447400123456", us()).unwrap();
        assert_eq!(p.digits_u64(), Some(447_400_123_456));
    }

    #[test]
    fn rejects_unknown_regions() {
        assert!("XX".parse::<Region>().is_err());
        assert!("USA".parse::<Region>().is_err());
        let uk = "uk".parse::<Region>().expect_err("UK is not ISO 3166");
        assert!(
            uk.reason.contains("United Kingdom's is GB"),
            "{}",
            uk.reason
        );
    }
}
