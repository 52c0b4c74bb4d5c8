//! Phone numbers in E.164, the only form stored or sent.

use std::fmt;
use std::str::FromStr;

use phonenumber::{Mode, country};
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
                ValidationError::new(
                    "region",
                    format!("`{raw}` is not an ISO 3166 two-letter country code such as US or GB"),
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
            return Err(invalid("has no digits"));
        }
        let number = phonenumber::parse(Some(default_region.0), trimmed).map_err(|e| {
            ValidationError::new("phone", format!("`{trimmed}` is not a phone number ({e})"))
        })?;
        if !phonenumber::is_valid(&number) {
            return Err(ValidationError::new(
                "phone",
                format!(
                    "`{trimmed}` is not a valid number (read with default region {default_region})"
                ),
            ));
        }
        Ok(Self(number.format().mode(Mode::E164).to_string()))
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

    pub fn as_str(&self) -> &str {
        &self.0
    }
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

impl<'de> Deserialize<'de> for PhoneE164 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::from_e164(&raw).map_err(serde::de::Error::custom)
    }
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
    fn from_e164_only_takes_normalised_form() {
        assert!(PhoneE164::from_e164("+14155552671").is_ok());
        assert!(PhoneE164::from_e164("4155552671").is_err());
        assert!(PhoneE164::from_e164("+1 415 555 2671").is_err());
    }

    #[test]
    fn rejects_unknown_regions() {
        assert!("XX".parse::<Region>().is_err());
        assert!("USA".parse::<Region>().is_err());
    }
}
