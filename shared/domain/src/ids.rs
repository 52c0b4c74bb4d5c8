//! Identifiers: a type prefix and a ULID, so ids sort by creation time and say what they name.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ValidationError;

/// A ULID later than every other this process made: ids made within one millisecond still
/// sort in the order they were made (a plain ULID's random part would shuffle them), so lists
/// "in creation order" are. Across processes, order holds to the millisecond.
fn next_ulid() -> ulid::Ulid {
    static GENERATOR: std::sync::Mutex<ulid::Generator> =
        std::sync::Mutex::new(ulid::Generator::new());
    let mut generator = GENERATOR
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // Overflow needs 2^80 ids in one millisecond; a fresh ULID is then as good as any.
    generator.generate().unwrap_or_else(|_| ulid::Ulid::new())
}

macro_rules! prefixed_id {
    ($name:ident, $prefix:literal, $what:literal) => {
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            pub fn generate() -> Self {
                Self::from_ulid(next_ulid())
            }

            pub fn from_ulid(ulid: ulid::Ulid) -> Self {
                Self(format!("{}{}", $prefix, ulid.to_string().to_lowercase()))
            }

            /// The ULID after the prefix: 16 bytes, where the id's string takes 29 and more.
            pub fn to_ulid(&self) -> ulid::Ulid {
                // Every constructor checked the ULID, so nil is unreachable.
                ulid::Ulid::from_string(&self.0[$prefix.len()..]).unwrap_or(ulid::Ulid::nil())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = ValidationError;

            fn from_str(raw: &str) -> Result<Self, Self::Err> {
                let valid = raw
                    .strip_prefix($prefix)
                    .and_then(|rest| ulid::Ulid::from_string(rest).ok())
                    .is_some_and(|ulid| ulid.to_string().to_lowercase() == raw[$prefix.len()..]);
                if valid {
                    Ok(Self(raw.to_owned()))
                } else {
                    Err(ValidationError::new(
                        "id",
                        format!(
                            "`{raw}` is not a {} id (expected `{}` followed by a ULID)",
                            $what, $prefix
                        ),
                    ))
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(d)?;
                raw.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

prefixed_id!(TenantId, "tn_", "tenant");
prefixed_id!(ContactId, "ct_", "contact");
prefixed_id!(ApiKeyId, "key_", "API key");
prefixed_id!(ImportId, "im_", "import");
prefixed_id!(TemplateId, "tp_", "template");
prefixed_id!(CampaignId, "cp_", "campaign");
prefixed_id!(UserId, "us_", "user");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_round_trip_and_sort_by_time() {
        let a = ContactId::generate();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = ContactId::generate();
        assert!(a < b);
        assert_eq!(a.as_str().parse::<ContactId>().unwrap(), a);
        assert_eq!(ContactId::from_ulid(a.to_ulid()), a);
    }

    #[test]
    fn ids_made_in_one_millisecond_keep_their_order() {
        let made: Vec<ContactId> = (0..1000).map(|_| ContactId::generate()).collect();
        let mut sorted = made.clone();
        sorted.sort();
        assert_eq!(made, sorted);
    }

    #[test]
    fn rejects_wrong_prefix_case_and_garbage() {
        let t = TenantId::generate();
        assert!(t.as_str().parse::<ContactId>().is_err());
        assert!(t.as_str().to_uppercase().parse::<TenantId>().is_err());
        assert!("tn_".parse::<TenantId>().is_err());
        assert!("tn_../../etc".parse::<TenantId>().is_err());
    }
}
