//! A fast path for phone numbers that gives exactly [`PhoneE164::parse`]'s output, proven
//! rather than hoped for.
//!
//! The `phonenumber` crate takes ~7 µs a number. Most numbers in a file share their first
//! digits with many others (an area code and exchange, a mobile prefix), and the crate's
//! decisions (strip a trunk `0`? a country code? is the number valid?) come from regular
//! expressions of its metadata. When every one of those expressions gives the same answer
//! for all numbers that share the first K digits, the crate treats the remaining digits as
//! opaque: they come out unchanged at the end of the E.164 form. So the crate runs once per
//! (shape, length, first K digits) on the first number seen, and later numbers with the same
//! key are formatted directly.
//!
//! The "same answer for all" part is proven, not sampled: each expression is compiled to a
//! DFA (over ASCII digits), and for every DFA state reachable after the prefix we check that
//! all continuations of the remaining length end equally (all match, or all do not). A family
//! (region, shape, country code, length) whose expressions do not pass for any K gets no fast
//! path. The crate's prefix *stripping* (trunk prefix, national prefix for parsing) is checked
//! per key on the first number: only literal prefixes that lie inside the K digits are taken.
//! The `fast_path_equals_the_crate` test runs both paths over many numbers as a second check.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

use phonenumber::metadata::{DATABASE, Metadata};
use regex_automata::dfa::Automaton;
use regex_automata::dfa::dense;
use regex_automata::util::primitives::StateID;
use regex_automata::util::start;
use regex_automata::{Anchored, MatchKind};
use rustc_hash::FxHashMap;
use smscrm_domain::{PhoneE164, Region};

/// Prefix lengths tried, shortest first (fewer keys, more hits).
const PREFIX_LENGTHS: [usize; 4] = [5, 6, 7, 8];
/// At least this many digits stay opaque; fewer would make the cache a copy of the file.
const MIN_TAIL: usize = 3;
/// The per-reader cache is cleared when it grows past this (memory stays bounded).
const MAX_KEYS: usize = 1 << 16;

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Shape {
    /// Digits only: read in the default region.
    National,
    /// `+` and digits.
    Plus,
}

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Family {
    shape: Shape,
    /// The country code whose metadata decides validity.
    code: u16,
    len: usize,
}

enum Verdict {
    /// E.164 = this + the digits after the prefix.
    Fast(Box<str>),
    /// Invalid for the whole key, with the crate's reason around the cell's text.
    Invalid(Reason),
    /// Not provable: use the crate.
    Slow,
    /// Not decided by this prefix: look at one more digit.
    Deeper,
    /// Invalid as written (uniformly, for the whole key), so the slow path goes on to read it
    /// as a number with its country code but no `+`: look that up instead. The reason is for
    /// when that is invalid too.
    TryInternational(Reason),
}

/// A reason naming the cell: `before` + the cell's text + `after`.
#[derive(Clone)]
struct Reason {
    before: Box<str>,
    after: Box<str>,
}

impl Reason {
    /// Splits the crate's reason for `written` around it; `None` if it does not name it.
    fn of(reason: &str, written: &str) -> Option<Self> {
        let quoted = format!("`{written}`");
        let (before, after) = reason.split_once(&quoted)?;
        Some(Self {
            before: format!("{before}`").into(),
            after: format!("`{after}").into(),
        })
    }

    fn for_cell(&self, cell: &str) -> String {
        format!("{}{cell}{}", self.before, self.after)
    }
}

pub(crate) struct FastPath {
    region: Region,
    region_code: u16,
    families: FxHashMap<Family, Option<Arc<Proof>>>,
    verdicts: FxHashMap<(Family, usize, u64), Verdict>,
    hits: u64,
}

impl FastPath {
    pub(crate) fn new(region: Region) -> Self {
        Self {
            region,
            region_code: region.calling_code(),
            families: FxHashMap::default(),
            verdicts: FxHashMap::default(),
            hits: 0,
        }
    }

    /// Numbers answered by the fast path so far.
    pub(crate) fn hits(&self) -> u64 {
        self.hits
    }

    /// The E.164 form [`PhoneE164::parse`] (with the import's no-`+` fallback) would give,
    /// when it is proven; `None` means "ask the crate".
    pub(crate) fn lookup(&mut self, number: &str) -> Option<Result<PhoneE164, String>> {
        let Canonical {
            plus,
            digits,
            rfc_group,
        } = canonical(number)?;
        if plus {
            if let Some(group) = rfc_group
                && country_code(&digits).is_none_or(|(_, len)| len != group)
            {
                return None;
            }
            return match self.lookup_digits(Shape::Plus, &digits)? {
                Found::Phone(phone) => Some(Ok(phone)),
                Found::Invalid(reason) => Some(Err(reason.for_cell(number))),
                Found::TryInternational(_) => None,
            };
        }
        match self.lookup_digits(Shape::National, &digits)? {
            Found::Phone(phone) => Some(Ok(phone)),
            Found::Invalid(reason) => Some(Err(reason.for_cell(number))),
            Found::TryInternational(national) => {
                // The slow path's second try (`phone::without_plus`): the country code
                // without `+`, after an optional `00`.
                let international = digits.strip_prefix(b"00").unwrap_or(&digits);
                if international.len() < 8 || international[0] == b'0' {
                    return Some(Err(national.for_cell(number)));
                }
                match self.lookup_digits(Shape::Plus, international)? {
                    Found::Phone(phone) => Some(Ok(phone)),
                    // The slow path reports the number as written.
                    Found::Invalid(_) => Some(Err(national.for_cell(number))),
                    Found::TryInternational(_) => None,
                }
            }
        }
    }

    /// `None`: not provable, ask the crate.
    fn lookup_digits(&mut self, shape: Shape, digits: &[u8]) -> Option<Found> {
        let code = match shape {
            Shape::National => self.region_code,
            Shape::Plus => {
                let (code, code_len) = country_code(digits)?;
                // A national number with a leading zero (Italy) takes the crate's own path.
                if digits.get(code_len) == Some(&b'0') {
                    return None;
                }
                code
            }
        };
        let family = Family {
            shape,
            code,
            len: digits.len(),
        };
        let region = self.region;
        let proof = self
            .families
            .entry(family)
            .or_insert_with(|| prove_family(region, family))
            .clone()?;
        let mut k = proof.k;
        loop {
            let key = (family, k, digits_value(&digits[..k]));
            if !self.verdicts.contains_key(&key) {
                if self.verdicts.len() >= MAX_KEYS {
                    self.verdicts.clear();
                }
                let verdict = decide(self.region, family, &proof, k, digits);
                self.verdicts.insert(key, verdict);
            }
            match self.verdicts.get(&key)? {
                Verdict::Fast(prefix) => {
                    let mut e164 = String::with_capacity(prefix.len() + digits.len() - k);
                    e164.push_str(prefix);
                    // ASCII digits only, checked by `canonical`.
                    e164.extend(digits[k..].iter().map(|&b| b as char));
                    self.hits += 1;
                    return Some(Found::Phone(PhoneE164::from_e164_unchecked(e164)));
                }
                Verdict::Invalid(reason) => {
                    self.hits += 1;
                    return Some(Found::Invalid(reason.clone()));
                }
                Verdict::TryInternational(reason) => {
                    return Some(Found::TryInternational(reason.clone()));
                }
                Verdict::Deeper => k += 1,
                Verdict::Slow => return None,
            }
        }
    }
}

enum Found {
    Phone(PhoneE164),
    Invalid(Reason),
    TryInternational(Reason),
}

/// A number written with digits, spaces, `-`, `.` and brackets only (anything else, letters
/// or extensions, is left to the crate): whether it starts with `+`, its digits, and for a
/// `+` number in RFC 3966 form the length of its first group of digits.
///
/// RFC 3966 form: no spaces and some `-.()` separator. The crate then takes the first group
/// after `+` as the country code, whatever it is (`+12-46-...` is country 12, invalid), where
/// with spaces it finds the code in the digits. The two agree when the first group is exactly
/// the country code, so other groupings are left to the crate.
struct Canonical {
    plus: bool,
    digits: Vec<u8>,
    rfc_group: Option<usize>,
}

fn canonical(number: &str) -> Option<Canonical> {
    // The crate refuses cells longer than 64 bytes whatever they hold.
    if number.len() > 64 {
        return None;
    }
    let (plus, rest) = match number.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, number),
    };
    let mut digits = Vec::with_capacity(16);
    for b in rest.bytes() {
        match b {
            b'0'..=b'9' => digits.push(b),
            b' ' | b'-' | b'.' | b'(' | b')' => {}
            _ => return None,
        }
    }
    let is_separator = |b: u8| matches!(b, b'-' | b'.' | b'(' | b')');
    let rfc_group = (plus && !rest.contains(' '))
        .then(|| rest.bytes().position(is_separator))
        .flatten();
    (7..=17).contains(&digits.len()).then_some(Canonical {
        plus,
        digits,
        rfc_group,
    })
}

fn digits_value(digits: &[u8]) -> u64 {
    // A leading 1 keeps "0123" and "123" apart.
    digits.iter().fold(1, |n, &b| n * 10 + u64::from(b - b'0'))
}

/// The country code at the start of `digits` as the crate finds it: the first 1 to 3 digits
/// that are a known code (codes are prefix-free, so at most one fits).
fn country_code(digits: &[u8]) -> Option<(u16, usize)> {
    static CODES: OnceLock<Vec<bool>> = OnceLock::new();
    let codes = CODES.get_or_init(|| {
        (0..1000u16)
            .map(|c| DATABASE.by_code(&c).is_some())
            .collect()
    });
    // No calling code starts with 0, though counting digits would read `081` as 81 (whose
    // length then matched an RFC 3966 group, `+081-582-...`, which the crate reads as 81).
    if digits.first() == Some(&b'0') {
        return None;
    }
    let mut code = 0u16;
    for (len, &b) in digits.iter().take(3).enumerate() {
        code = code * 10 + u16::from(b - b'0');
        if codes[usize::from(code)] {
            return Some((code, len + 1));
        }
    }
    None
}

/// The crate's verdict on the first number of a key, turned into a rule for the whole key.
fn decide(region: Region, family: Family, proof: &Proof, k: usize, digits: &[u8]) -> Verdict {
    let tail = digits.len() - k;
    // Expressions decided by K digits for every prefix are decided by more digits too (a
    // subset of continuations), so only the per-key ones are checked again when deeper.
    if !proof
        .per_key
        .iter()
        .all(|(compiled, at)| decided_here(compiled, *at, &digits[..k], tail))
    {
        return if k < proof.k + MAX_DEEPER && k + 1 + MIN_TAIL <= digits.len() {
            Verdict::Deeper
        } else {
            Verdict::Slow
        };
    }
    let text: String = digits.iter().map(|&b| b as char).collect();
    let Some(own) = DATABASE.by_id(region.code()) else {
        return Verdict::Slow;
    };
    let code_metas = DATABASE.by_code(&family.code).unwrap_or_default();
    // Where the crate looks for a national prefix, in `digits`: at the start or after the
    // country code (national shape), after the country code (plus shape).
    let code_len = family.code.to_string().len();
    let starts = match family.shape {
        Shape::National => vec![0, code_len],
        Shape::Plus => vec![code_len],
    };
    // Each with whether the crate strips its prefixes from this number: the region's own
    // for a national number, the country code's for a `+` one.
    let mut metas = vec![(own, family.shape == Shape::National)];
    if family.shape == Shape::Plus {
        metas.extend(code_metas.iter().map(|&meta| (meta, true)));
    }
    // An international prefix changes the number's country: the crate's own path.
    if let Some(idd) = own.international_prefix()
        && idd.find(&text).is_some_and(|m| m.start() == 0)
    {
        return Verdict::Slow;
    }
    let Some(national_starts) = prefixes_decided(&metas, &starts, &text, k) else {
        return Verdict::Slow;
    };
    let written = match family.shape {
        Shape::National => text.clone(),
        Shape::Plus => format!("+{text}"),
    };
    let phone = match PhoneE164::parse(&written, region) {
        Ok(phone) => phone,
        // A verdict of "invalid" holds for the key only where the proof covers every place
        // the crate may have checked validity from: after a prefix it strips elsewhere (the
        // trunk `8` after +7, GB's `180020`), or after leading zeros it drops (it keeps the
        // national number as an integer: `00800...` in Kenya is 800...), validity turns on
        // digits past the key.
        Err(_)
            if national_starts.iter().any(|&at| {
                let past_zeros = at
                    + digits[at.min(digits.len())..]
                        .iter()
                        .take_while(|&&d| d == b'0')
                        .count();
                !proof.strips.contains(&at) || !proof.strips.contains(&past_zeros)
            }) =>
        {
            return Verdict::Slow;
        }
        Err(err) => {
            let reason = format!("phone {}", err.reason);
            return match (Reason::of(&reason, &written), family.shape) {
                (Some(reason), Shape::National) => Verdict::TryInternational(reason),
                (Some(reason), Shape::Plus) => Verdict::Invalid(reason),
                (None, _) => Verdict::Slow,
            };
        }
    };
    // The result must be the input's own digits after a stripped prefix inside the K digits,
    // in the country whose metadata the proof covered.
    let e164 = phone.as_str();
    let out = e164.as_bytes();
    let Some((out_code, out_code_len)) = country_code(&out[1..]) else {
        return Verdict::Slow;
    };
    let national = &out[1 + out_code_len..];
    let Some(stripped) = digits.len().checked_sub(national.len()) else {
        return Verdict::Slow;
    };
    if out_code != family.code
        || national.first().is_none_or(|&b| b == b'0')
        || !proof.strips.contains(&stripped)
        || &digits[stripped..] != national
    {
        return Verdict::Slow;
    }
    let prefix_len = 1 + out_code_len + (k - stripped);
    Verdict::Fast(e164[..prefix_len].into())
}

/// Whether the crate's prefix stripping is decided by the first `k` digits: every literal
/// national prefix (and every alternative of a literal "national prefix for parsing") that
/// could start at a place the crate looks either fits inside the `k` digits or already
/// differs from them; a non-literal pattern must not match at all. If so, the places the
/// national number may start at once the crate has stripped what this number starts with.
fn prefixes_decided(
    metas: &[(&Metadata, bool)],
    starts: &[usize],
    text: &str,
    k: usize,
) -> Option<Vec<usize>> {
    let known = &text[..k];
    // The literal `lit` at `at`: decided if it ends within the prefix, or conflicts with it.
    let decided = |lit: &str, at: usize| {
        at + lit.len() <= k || known.get(at..).is_some_and(|seen| !lit.starts_with(seen))
    };
    let begins = |lit: &str, at: usize| text.get(at..).is_some_and(|rest| rest.starts_with(lit));
    let mut national_starts: Vec<usize> = starts.to_vec();
    for &(meta, strips_here) in metas {
        // Where a literal national prefix may be checked: where the crate starts, and after a
        // literal "prefix for parsing" that this number (so every number of the key) starts
        // with there.
        let mut np_starts: Vec<usize> = starts.to_vec();
        if let Some(npfp) = meta.national_prefix_for_parsing() {
            let pattern = npfp.as_str();
            if pattern.bytes().all(|b| b.is_ascii_digit() || b == b'|') {
                for &at in starts {
                    // Leftmost-first: the first alternative that fits is the one stripped.
                    for alt in pattern.split('|') {
                        if !decided(alt, at) {
                            return None;
                        }
                        if begins(alt, at) {
                            np_starts.push(at + alt.len());
                            break;
                        }
                    }
                }
            } else {
                for &at in starts {
                    if text
                        .get(at..)
                        .and_then(|rest| npfp.find(rest))
                        .is_some_and(|m| m.start() == 0)
                    {
                        return None;
                    }
                }
            }
        }
        if let Some(np) = meta.national_prefix() {
            if np_starts.iter().any(|&at| !decided(np, at)) {
                return None;
            }
            if strips_here {
                let after_np = np_starts.iter().filter(|&&at| begins(np, at));
                national_starts.extend(after_np.map(|at| at + np.len()).collect::<Vec<_>>());
            }
        }
        if strips_here {
            national_starts.extend(np_starts);
        }
    }
    national_starts.sort_unstable();
    national_starts.dedup();
    Some(national_starts)
}

/// What is proven about a family: the prefix length, where the crate's validity checks may
/// start (how many digits it stripped), and the few expressions that are not decided by the
/// prefix for every prefix, so each key checks them on its own prefix.
struct Proof {
    k: usize,
    strips: Vec<usize>,
    per_key: Vec<(Arc<Mutex<Compiled>>, usize)>,
}

/// Expressions left to per-key checks at most; more means the family is too irregular.
const MAX_PER_KEY: usize = 32;
/// How many digits past the family's K a key may go when its own checks need more.
const MAX_DEEPER: usize = 3;

/// The shortest prefix length K for which every expression the crate may evaluate on numbers
/// of this family, at the place it evaluates it, is decided by the first K digits (for all
/// prefixes, or for all but a few expressions checked per key).
fn prove_family(region: Region, family: Family) -> Option<Arc<Proof>> {
    type Proofs = Mutex<HashMap<(Region, Family), Option<Arc<Proof>>>>;
    static PROOFS: OnceLock<Proofs> = OnceLock::new();
    let proofs = PROOFS.get_or_init(Default::default);
    if let Some(known) = proofs.lock().ok()?.get(&(region, family)) {
        return known.clone();
    }
    let proven = PREFIX_LENGTHS
        .into_iter()
        .filter(|&k| k + MIN_TAIL <= family.len)
        .find_map(|k| prove(region, family, k))
        .map(Arc::new);
    proofs.lock().ok()?.insert((region, family), proven.clone());
    proven
}

fn prove(region: Region, family: Family, k: usize) -> Option<Proof> {
    let own = DATABASE.by_id(region.code())?;
    let code_metas = DATABASE.by_code(&family.code).unwrap_or_default();
    let own_code_len = region.calling_code().to_string().len();
    let code_len = family.code.to_string().len();
    let np = own.national_prefix().map_or(0, str::len);
    // Where the national number may start once the crate has stripped what it strips.
    let strips: Vec<usize> = match family.shape {
        Shape::National => vec![0, np, own_code_len, own_code_len + np],
        Shape::Plus => vec![code_len],
    };
    let mut strips: Vec<usize> = strips.into_iter().filter(|&at| at < k).collect();
    strips.sort_unstable();
    strips.dedup();

    // (pattern, where the crate starts matching it)
    let mut checks: Vec<(String, usize)> = Vec::new();
    let non_literal = |meta: &Metadata| {
        meta.national_prefix_for_parsing()
            .map(|r| r.as_str().to_owned())
            .filter(|p| !p.bytes().all(|b| b.is_ascii_digit() || b == b'|'))
    };
    if let Some(idd) = own.international_prefix() {
        checks.push((idd.as_str().to_owned(), 0));
    }
    match family.shape {
        Shape::National => {
            // Whether to strip the region's own country code written without `+`.
            checks.push((
                own.descriptors()
                    .general()
                    .national_number()
                    .as_str()
                    .to_owned(),
                0,
            ));
            if let Some(p) = non_literal(own) {
                checks.push((p.clone(), 0));
                checks.push((p, own_code_len));
            }
        }
        Shape::Plus => {
            for meta in std::iter::once(own).chain(code_metas.iter().copied()) {
                if let Some(p) = non_literal(meta) {
                    checks.push((p, code_len));
                }
            }
        }
    }
    for pattern in validity_patterns(&code_metas) {
        for &at in &strips {
            checks.push((pattern.clone(), at));
        }
    }
    checks.sort();
    checks.dedup();

    let mut per_key = Vec::new();
    for (pattern, at) in checks {
        if at >= k {
            return None;
        }
        match uniform(&pattern, k - at, family.len - k) {
            Some(true) => {}
            Some(false) => {
                per_key.push((compiled(&pattern)?, at));
                if per_key.len() > MAX_PER_KEY {
                    return None;
                }
            }
            None => return None,
        }
    }
    Some(Proof { k, strips, per_key })
}

/// The expressions `is_valid` matches: each region's leading digits (to pick the region
/// among those sharing a code) and number-type patterns.
fn validity_patterns(metas: &[&Metadata]) -> Vec<String> {
    let mut patterns = HashSet::new();
    for meta in metas {
        let d = meta.descriptors();
        let descriptors = [
            Some(d.general()),
            d.fixed_line(),
            d.mobile(),
            d.toll_free(),
            d.premium_rate(),
            d.shared_cost(),
            d.personal_number(),
            d.voip(),
            d.pager(),
            d.uan(),
            d.voicemail(),
        ];
        for desc in descriptors.into_iter().flatten() {
            patterns.insert(desc.national_number().as_str().to_owned());
        }
        if let Some(leading) = meta.leading_digits() {
            patterns.insert(leading.as_str().to_owned());
        }
    }
    let mut patterns: Vec<String> = patterns.into_iter().collect();
    patterns.sort();
    patterns
}

/// Whether the expression, started at `at`, is decided by this key's prefix.
fn decided_here(compiled: &Mutex<Compiled>, at: usize, prefix: &[u8], tail: usize) -> bool {
    let Ok(mut c) = compiled.lock() else {
        return false;
    };
    let mut state = c.start;
    for &d in &prefix[at..] {
        state = c.dfa.next_state(state, d);
    }
    matches!(outcomes(&mut c, state, tail), 1 | 2)
}

/// The crate matches with `find(..).start() == 0`: "some prefix of the number matches". For
/// digit strings that is a full match of `(?:pattern)[0-9]*`, which a DFA can answer.
struct Compiled {
    dfa: dense::DFA<Vec<u32>>,
    start: StateID,
    /// (state, digits left) -> bit 1: some continuation matches, bit 2: some does not.
    outcomes: HashMap<(StateID, usize), u8>,
}

/// Whether, after any `prefix` digits, all continuations of exactly `tail` digits end the
/// same way. `None`: the pattern could not be compiled (then nothing is proven).
fn uniform(pattern: &str, prefix: usize, tail: usize) -> Option<bool> {
    let compiled = compiled(pattern)?;
    let mut compiled = compiled.lock().ok()?;
    let mut states = HashSet::from([compiled.start]);
    for _ in 0..prefix {
        states = states
            .iter()
            .flat_map(|&s| (b'0'..=b'9').map(move |d| (s, d)))
            .map(|(s, d)| compiled.dfa.next_state(s, d))
            .collect();
    }
    Some(
        states
            .into_iter()
            .all(|s| matches!(outcomes(&mut compiled, s, tail), 1 | 2)),
    )
}

/// Compiled once per process: the same metadata serves every import.
fn compiled(pattern: &str) -> Option<Arc<Mutex<Compiled>>> {
    type Cache = Mutex<HashMap<String, Option<Arc<Mutex<Compiled>>>>>;
    static COMPILED: OnceLock<Cache> = OnceLock::new();
    COMPILED
        .get_or_init(Default::default)
        .lock()
        .ok()?
        .entry(pattern.to_owned())
        .or_insert_with(|| compile(pattern).map(|c| Arc::new(Mutex::new(c))))
        .clone()
}

fn compile(pattern: &str) -> Option<Compiled> {
    let dfa = dense::Builder::new()
        .syntax(
            regex_automata::util::syntax::Config::new()
                .unicode(false)
                .utf8(false)
                .ignore_whitespace(true),
        )
        .configure(
            dense::Config::new()
                .match_kind(MatchKind::All)
                .start_kind(regex_automata::dfa::StartKind::Anchored),
        )
        .build(&format!("(?:{pattern})[0-9]*"))
        .ok()?;
    let start = dfa
        .start_state(&start::Config::new().anchored(Anchored::Yes))
        .ok()?;
    Some(Compiled {
        dfa,
        start,
        outcomes: HashMap::new(),
    })
}

fn outcomes(c: &mut Compiled, state: StateID, left: usize) -> u8 {
    if left == 0 {
        let end = c.dfa.next_eoi_state(state);
        return if c.dfa.is_match_state(end) { 1 } else { 2 };
    }
    if c.dfa.is_dead_state(state) {
        return 2;
    }
    if let Some(&known) = c.outcomes.get(&(state, left)) {
        return known;
    }
    let mut all = 0;
    for d in b'0'..=b'9' {
        let next = c.dfa.next_state(state, d);
        all |= outcomes(c, next, left - 1);
        if all == 3 {
            break;
        }
    }
    c.outcomes.insert((state, left), all);
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniformity() {
        // After "2", four more digits always match; after "1" never.
        assert_eq!(uniform(r"2\d{4}", 1, 4), Some(true));
        // Whether it matches depends on the 4th digit: not decided by 2.
        assert_eq!(uniform(r"2\d{2}[5-9]\d", 2, 3), Some(false));
        assert_eq!(uniform(r"2\d{2}[5-9]\d", 4, 1), Some(true));
        // Prefix semantics: `1` matches anything starting with 1.
        assert_eq!(uniform("1", 1, 9), Some(true));
    }

    #[test]
    fn nanp_and_common_european_families_are_proven() {
        let us: Region = "US".parse().unwrap();
        let gb: Region = "GB".parse().unwrap();
        let de: Region = "DE".parse().unwrap();
        for (region, shape, code, len) in [
            (us, Shape::National, 1, 10),
            (us, Shape::National, 1, 11),
            (us, Shape::Plus, 1, 11),
            (us, Shape::Plus, 44, 12),
            (gb, Shape::National, 44, 11),
            (gb, Shape::Plus, 44, 12),
            (de, Shape::National, 49, 11),
            (de, Shape::Plus, 49, 13),
        ] {
            let family = Family { shape, code, len };
            let proof = prove_family(region, family);
            assert!(proof.is_some(), "{region} +{code} {len} digits");
            if let Some(p) = proof {
                println!(
                    "{region} +{code} {len}: k={} per-key={}",
                    p.k,
                    p.per_key.len()
                );
            }
        }
    }
}
