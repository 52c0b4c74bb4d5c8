//! The in-file duplicate check: which row had each phone first.
//!
//! This is the one structure of the parser that grows with the file, so it is kept small: a
//! phone's E.164 digits (a `u64`) and its first row (a `u32`) take 12 bytes, stored as three
//! `u32`s so no padding rounds them up to 16, plus the hash table's control byte. The table is
//! split into shards by a hash of the phone: a hash table grows by allocating one twice its
//! size and moving everything over, so one big table briefly needs three times its final
//! size, while each shard grows on its own and the transient is a shard's, not the file's.
//! Rows past `u32::MAX` and numbers too long for a `u64` go to plain maps (neither happens in
//! practice; they keep the check exact).

use rustc_hash::FxHashMap;

/// Shards of the compact map: enough that one shard's growth is a small transient.
const SHARDS: usize = 64;

#[derive(Default)]
pub(crate) struct Seen {
    /// Phone digits (as two `u32` halves) -> first row, for rows up to `u32::MAX`.
    shards: Vec<FxHashMap<[u32; 2], u32>>,
    /// Phone digits -> first row, for phones first seen past row `u32::MAX`.
    late: FxHashMap<u64, u64>,
    /// Numbers too long for a `u64` -> first row.
    long: FxHashMap<String, u64>,
}

impl Seen {
    /// The row that first had this phone (given as its digits, when they fit a `u64`, and as
    /// its E.164 string), recording `row` when it is the first.
    pub(crate) fn first_row(&mut self, digits: Option<u64>, e164: &str, row: u64) -> u64 {
        let Some(key) = digits else {
            return *self.long.entry(e164.to_owned()).or_insert(row);
        };
        if self.shards.is_empty() {
            self.shards = (0..SHARDS).map(|_| FxHashMap::default()).collect();
        }
        let halves = [(key >> 32) as u32, key as u32];
        // A multiplicative hash's top bits pick the shard, independent of the bits the shard's
        // own table uses.
        let shard = (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58) as usize % SHARDS;
        let map = &mut self.shards[shard];
        if let Some(&first) = map.get(&halves) {
            return u64::from(first);
        }
        match u32::try_from(row) {
            Ok(compact) if self.late.is_empty() => {
                map.insert(halves, compact);
                row
            }
            _ => *self.late.entry(key).or_insert(row),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_the_first_row_of_each_phone() {
        let mut seen = Seen::default();
        assert_eq!(seen.first_row(Some(12_025_550_100), "+12025550100", 2), 2);
        assert_eq!(seen.first_row(Some(447_400_123_456), "+447400123456", 3), 3);
        assert_eq!(seen.first_row(Some(12_025_550_100), "+12025550100", 9), 2);
        assert_eq!(
            seen.first_row(Some(447_400_123_456), "+447400123456", 10),
            3
        );
    }

    #[test]
    fn numbers_too_long_for_u64_are_checked_by_string() {
        let mut seen = Seen::default();
        let long = "+12345678901234567890";
        assert_eq!(seen.first_row(None, long, 5), 5);
        assert_eq!(seen.first_row(None, long, 6), 5);
    }

    #[test]
    fn rows_past_u32_stay_exact() {
        let mut seen = Seen::default();
        let big = u64::from(u32::MAX) + 7;
        assert_eq!(seen.first_row(Some(1), "+1", 4), 4);
        assert_eq!(seen.first_row(Some(2), "+2", big), big);
        assert_eq!(seen.first_row(Some(2), "+2", big + 1), big);
        assert_eq!(seen.first_row(Some(1), "+1", big + 2), 4);
        assert_eq!(seen.first_row(Some(3), "+3", big + 3), big + 3);
        assert_eq!(seen.first_row(Some(3), "+3", big + 4), big + 3);
    }

    #[test]
    fn digits_that_differ_only_in_high_bits_stay_apart() {
        let mut seen = Seen::default();
        let low = 42;
        let high = (1 << 40) + 42;
        assert_eq!(seen.first_row(Some(low), "+42", 1), 1);
        assert_eq!(seen.first_row(Some(high), "+1099511627818", 2), 2);
        assert_eq!(seen.first_row(Some(high), "+1099511627818", 3), 2);
    }
}
