//! Twilio-shaped identifiers: a two-letter prefix and 32 lowercase hex digits.

use rand::Rng as _;

/// 32 random lowercase hex digits.
pub(crate) fn hex32() -> String {
    format!("{:032x}", rand::rng().random::<u128>())
}

/// A new random SID with this prefix (`SM`, `AC`, `SK`, ...).
pub(crate) fn new(prefix: &str) -> String {
    format!("{prefix}{}", hex32())
}

#[cfg(test)]
mod tests {
    #[test]
    fn has_the_prefix_and_32_lowercase_hex_digits() {
        let sid = super::new("SM");
        assert_eq!(sid.len(), 34);
        assert!(sid.starts_with("SM"));
        assert!(
            sid[2..]
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        );
    }
}
