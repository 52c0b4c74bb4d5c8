//! From header names to what each column feeds: aliases, explicit mappings, attribute names.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use serde::{Serialize, Serializer};
use smscrm_domain::contact::{MAX_ATTRIBUTE_NAME_CHARS, validate_attribute_name};

use crate::ImportError;
use crate::latin::fold;

mod consent_words;
mod guessing;

pub(crate) use consent_words::{is_consent_question, may_refuse_texts};
use guessing::{
    BARE_NAME, COUNTRY_MAY_BE_OTHER, country_rank_of, family_name_first, guess, is_area_code,
};

/// What a column feeds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    Phone,
    FirstName,
    LastName,
    /// A full name, split on its last space into first and last name; used only when the
    /// file has no first- or last-name column.
    Name,
    Email,
    Consent,
    /// Says whether the person opted out ("SMS Opt Out", "Do Not Text", Mailchimp's
    /// `UNSUB_TIME`): a yes records an opt-out whatever else the row or the import says; a
    /// no says nothing. Every such column counts.
    OptOut,
    Tags,
    /// A custom attribute with this name (usable in templates).
    Attribute(String),
    /// Ignored (explicit mappings only: `skip=Column`).
    Skip,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Phone => f.write_str("phone"),
            Self::FirstName => f.write_str("first_name"),
            Self::LastName => f.write_str("last_name"),
            Self::Name => f.write_str("name"),
            Self::Email => f.write_str("email"),
            Self::Consent => f.write_str("consent"),
            Self::OptOut => f.write_str("opt_out"),
            Self::Tags => f.write_str("tags"),
            Self::Attribute(name) => write!(f, "attr:{name}"),
            Self::Skip => f.write_str("skip"),
        }
    }
}

impl FromStr for Target {
    type Err = String;

    fn from_str(raw: &str) -> Result<Self, String> {
        Ok(match raw.trim() {
            "phone" => Self::Phone,
            "first_name" => Self::FirstName,
            "last_name" => Self::LastName,
            "name" => Self::Name,
            "email" => Self::Email,
            "consent" => Self::Consent,
            "opt_out" => Self::OptOut,
            "tags" => Self::Tags,
            "skip" => Self::Skip,
            other => match other.strip_prefix("attr:") {
                Some(name) => {
                    validate_attribute_name(name).map_err(|e| e.reason)?;
                    Self::Attribute(name.to_owned())
                }
                None => {
                    return Err(format!(
                        "`{other}` is not a target; use phone, first_name, last_name, name, \
                         email, consent, opt_out, tags, skip or attr:<name>"
                    ));
                }
            },
        })
    }
}

impl Serialize for Target {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Columns named by the user, as `target=Column` pairs: `phone=Telefon,first_name=Vorname,
/// tags=Labels,attr:city=Ort`. A column is matched by its exact (trimmed) name first, then
/// case/space/punctuation-insensitively. Column names containing `,` cannot be written here;
/// build the mapping with [`ExplicitMapping::new`] instead.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExplicitMapping(Vec<(Target, String)>);

impl ExplicitMapping {
    /// Each built-in target and each column at most once.
    pub fn new(pairs: Vec<(Target, String)>) -> Result<Self, ImportError> {
        let mut targets = HashSet::new();
        let mut columns = HashSet::new();
        for (target, column) in &pairs {
            let entry = || format!("{target}={column}");
            if column.trim().is_empty() {
                return Err(ImportError::InvalidMapping {
                    entry: entry(),
                    reason: "the column name is empty".into(),
                });
            }
            if *target != Target::Skip && !targets.insert(target.clone()) {
                return Err(ImportError::InvalidMapping {
                    entry: entry(),
                    reason: format!("`{target}` is mapped twice"),
                });
            }
            if !columns.insert(column.trim().to_owned()) {
                return Err(ImportError::InvalidMapping {
                    entry: entry(),
                    reason: format!("the column `{column}` is mapped twice"),
                });
            }
        }
        let parts = [Target::FirstName, Target::LastName];
        if targets.contains(&Target::Name) && parts.iter().any(|p| targets.contains(p)) {
            return Err(ImportError::InvalidMapping {
                entry: "name".into(),
                reason: "`name` is split into first and last name: map either `name` or \
                         `first_name` and `last_name`"
                    .into(),
            });
        }
        Ok(Self(pairs))
    }

    pub fn pairs(&self) -> &[(Target, String)] {
        &self.0
    }
}

impl FromStr for ExplicitMapping {
    type Err = ImportError;

    fn from_str(raw: &str) -> Result<Self, ImportError> {
        let mut pairs = Vec::new();
        for entry in raw.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let invalid = |reason: String| ImportError::InvalidMapping {
                entry: entry.to_owned(),
                reason,
            };
            let (target, column) = entry
                .split_once('=')
                .ok_or_else(|| invalid("expected target=Column, e.g. phone=Telefon".into()))?;
            let target = target.parse::<Target>().map_err(invalid)?;
            if column.trim() == "#0" {
                return Err(invalid("column positions start at #1".into()));
            }
            pairs.push((target, column.trim().to_owned()));
        }
        Self::new(pairs)
    }
}

/// A header's words, lowercased with accents folded: `Tél. portable` -> `tel`, `portable`;
/// `HomePhone` -> `home`, `phone`.
fn words(header: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut last_lower = false;
    for c in header.chars() {
        for folded in fold(c) {
            // Letters of other scripts make words too, which no list here knows.
            if !folded.is_alphanumeric() {
                last_lower = false;
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
                continue;
            }
            if folded.is_ascii_uppercase() && last_lower && !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            last_lower = folded.is_ascii_lowercase();
            word.push(folded.to_ascii_lowercase());
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Lowercase ASCII letters and digits only, accents folded: `E-mail 1 - Value` ->
/// `email1value`, `Téléphone` -> `telephone`.
pub(crate) fn normalise(header: &str) -> String {
    let mut key = String::with_capacity(header.len());
    for c in header.chars() {
        for folded in fold(c) {
            if folded.is_ascii_alphanumeric() {
                key.push(folded.to_ascii_lowercase());
            }
        }
    }
    key
}

/// Snake case of a header for an attribute name: `Date of Birth` -> `date_of_birth`.
fn snake(header: &str) -> String {
    let mut name = String::with_capacity(header.len());
    for c in header.chars() {
        for folded in fold(c) {
            if folded.is_ascii_alphanumeric() {
                name.push(folded.to_ascii_lowercase());
            } else if !name.ends_with('_') {
                name.push('_');
            }
        }
    }
    let mut name = name.trim_matches('_').to_owned();
    if name.starts_with(|c: char| c.is_ascii_digit()) {
        name.insert_str(0, "col_");
    }
    // Room for a `_NN` suffix within the limit.
    truncate_name(&name, MAX_ATTRIBUTE_NAME_CHARS - 4)
}

/// The letters of `header` in Latin ones (`Город` -> `Gorod`, `都市` -> `Du Shi`); anything
/// else a space (`📱` is no word).
fn spelt_in_latin(header: &str) -> String {
    let spelt = |c: char| match c.is_alphabetic() {
        true => deunicode::deunicode_char(c).unwrap_or(" "),
        false => " ",
    };
    header.chars().map(spelt).collect()
}

/// `name`'s first `chars` characters, without a trailing `_`.
fn truncate_name(name: &str, chars: usize) -> String {
    let mut name: String = name.chars().take(chars).collect();
    while name.ends_with('_') {
        name.pop();
    }
    name
}

/// Google Contacts' `Phone N - Value` columns, each with its `Phone N - Type` (`Phone N -
/// Label` in its exports since 2024).
fn google_phone_types(headers: &[String]) -> Vec<(usize, usize)> {
    let keys: Vec<String> = headers.iter().map(|h| normalise(h)).collect();
    keys.iter()
        .enumerate()
        .filter_map(|(at, key)| {
            let n = key.strip_prefix("phone")?.strip_suffix("value")?;
            if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let kinds = [format!("phone{n}type"), format!("phone{n}label")];
            keys.iter()
                .position(|k| kinds.contains(k))
                .map(|kind| (at, kind))
        })
        .collect()
}

/// The columns a file's rows are read through.
#[derive(Debug, Clone, Default)]
pub(crate) struct Plan {
    pub phone: usize,
    /// Other columns whose headers say phone, best first (kept as attributes too): a row
    /// whose phone cell is empty takes its number from the first of them that has one (a
    /// landline-only row of a file with a mobile column). None when a mapping names the phone.
    pub phone_fallbacks: Vec<usize>,
    /// Columns named only by a line ("Home", "Work", "Main", as phone apps export them): a
    /// row whose phone columns are all empty takes a number from the first of them whose cell
    /// is one (the header may as well name an address or an employer). Kept as attributes.
    pub line_fallbacks: Vec<usize>,
    /// Google Contacts' numbers with their kinds: each `Phone N - Value` column and its
    /// `Phone N - Type`, in file order, when the phone was guessed from them. A row's phone
    /// is its first mobile, or else its first number that is not a fax or a pager.
    pub phone_types: Vec<(usize, usize)>,
    /// The attribute keeping the phone column's cell when a row's phone is taken from another
    /// column (another of Google's, or a fallback where the phone column's is no number).
    pub phone_not_chosen: Option<String>,
    pub first_name: Option<usize>,
    pub last_name: Option<usize>,
    pub name: Option<usize>,
    /// The full-name column's header says it holds "Last, First", or names the language
    /// writes family name first ("ФИО", "氏名", "Họ và tên"): a cell without its comma
    /// (`Smith John`, `Петров Иван Сергеевич`) is read in that order too.
    pub name_last_first: bool,
    /// The full-name column's header is in a script other than Latin letters ("ФИО", "姓名",
    /// "성명"): its language's names are written family name first, but a cell in Latin
    /// letters (`John Smith`) may be an English name, given name first
    /// (`names::written_given_name_first`).
    pub name_order_of_its_script: bool,
    /// The full-name column's header says it holds two surnames ("Nombre y apellidos"):
    /// the last two words of a cell are the family name.
    pub name_two_surnames: bool,
    pub email: Option<usize>,
    pub consent: Option<usize>,
    pub opt_outs: Vec<usize>,
    pub tags: Option<usize>,
    pub attributes: Vec<(usize, String)>,
    /// A column naming each row's country (kept as an attribute too): numbers written
    /// without a country code are read for it rather than for the import's region.
    pub country: Option<usize>,
    /// The country column may hold something else (Mailchimp's "CC" elsewhere): a cell naming
    /// no country this import knows changes nothing.
    pub country_may_be_other: bool,
    /// A column holding each row's area code apart ("DDD" in Brazil, "Lada" in Mexico, "Area
    /// Code"; kept as an attribute too): a number that does not read as written is read
    /// after it.
    pub area_code: Option<usize>,
    /// In a report of refused rows imported again, the column saying why each was refused.
    pub refused_because: Option<usize>,
}

impl Plan {
    /// The columns numbers are also read with, for the report: see
    /// [`crate::Detected::number_columns`].
    pub(crate) fn number_columns(&self, headers: &[String]) -> Vec<(String, &'static str)> {
        let country = self.country.map(|at| (headers[at].clone(), "country"));
        let area_code = self.area_code.map(|at| (headers[at].clone(), "area_code"));
        country.into_iter().chain(area_code).collect()
    }
}

/// Maps every column: explicit entries first, then aliases, then attributes for the rest.
/// Returns the plan and, for the report, each used column with its target.
///
/// Attribute names: the header in snake case (`[a-z0-9_]`, accents folded, at most 60
/// characters, `col_` before a leading digit). A header that gives no usable name (empty, or
/// only other scripts) becomes `column_<n>` (n = its 1-based position); a name that is
/// reserved (`phone`, `email`, ...) or already taken gets `_2`, `_3`, ... appended.
pub(crate) fn plan(
    headers: &[String],
    explicit: Option<&ExplicitMapping>,
) -> Result<(Plan, Vec<(String, Target)>), ImportError> {
    // A report of refused rows, fixed and imported again: its first columns are the report's.
    let report_columns = crate::refused_rows_columns(headers);
    let mut targets = explicit_targets(headers, explicit, report_columns)?;
    let taken: HashSet<Target> = targets.iter().flatten().cloned().collect();
    let mut phones = guess_open_targets(headers, &mut targets, &taken);
    settle_name_columns(headers, &mut targets, &taken);
    let mut names = name_attributes(headers, &mut targets);

    let mut plan = Plan {
        refused_because: report_columns.checked_sub(1),
        ..Plan::default()
    };
    phones.sort_unstable();
    plan.phone_fallbacks = phones.iter().skip(1).map(|&(_, at)| at).collect();
    if !phones.is_empty() {
        plan.line_fallbacks = (targets.iter().enumerate())
            .filter(|(at, t)| {
                matches!(t, Some(Target::Attribute(_)))
                    && matches!(normalise(&headers[*at]).as_str(), "home" | "work" | "main")
            })
            .map(|(at, _)| at)
            .collect();
    }
    let (phone, report) = place(headers, targets, &mut plan);
    plan.country = plan
        .attributes
        .iter()
        .filter_map(|(at, _)| Some((country_rank_of(&headers[*at])?, *at)))
        .min()
        .map(|(_, at)| at);
    plan.country_may_be_other = plan
        .country
        .is_some_and(|at| country_rank_of(&headers[at]) == Some(COUNTRY_MAY_BE_OTHER));
    plan.area_code = (plan.attributes.iter())
        .find(|(at, _)| is_area_code(&normalise(&headers[*at])))
        .map(|&(at, _)| at);
    plan.phone = phone.ok_or_else(|| ImportError::NoPhoneColumn {
        headers: headers.to_vec(),
        mapped_away: (report.iter())
            .find(|(header, target)| {
                *target != Target::Phone && guess(header).is_some_and(|(t, _)| t == Target::Phone)
            })
            .map(|(header, target)| (header.clone(), target.to_string())),
    })?;
    // Only where the phone was guessed from Google's columns, not mapped.
    let types = google_phone_types(headers);
    if !phones.is_empty() && types.iter().any(|&(value, _)| value == plan.phone) {
        plan.phone_types = types;
    }
    if !phones.is_empty() {
        let header = &headers[plan.phone];
        plan.phone_not_chosen = Some(attribute_name(header, plan.phone, &mut names));
    }
    Ok((plan, report))
}

/// Each column's target as the explicit mapping names it; a report's own columns are
/// skipped.
fn explicit_targets(
    headers: &[String],
    explicit: Option<&ExplicitMapping>,
    report_columns: usize,
) -> Result<Vec<Option<Target>>, ImportError> {
    let mut targets: Vec<Option<Target>> = vec![None; headers.len()];
    for (target, column) in explicit.map(ExplicitMapping::pairs).unwrap_or_default() {
        let at = find_column(headers, column, report_columns)?;
        if targets[at].is_some() {
            return Err(ImportError::InvalidMapping {
                entry: column.clone(),
                reason: format!(
                    "names column {} (`{}`), which another entry maps too",
                    at + 1,
                    headers[at]
                ),
            });
        }
        if *target == Target::Consent
            && guess(&headers[at]).is_some_and(|(t, _)| t == Target::OptOut)
        {
            return Err(ImportError::InvalidMapping {
                entry: format!("consent={column}"),
                reason: format!(
                    "`{}` reads as an opt-out column, where yes means the person opted \
                     out: map it as opt_out={column}",
                    headers[at]
                ),
            });
        }
        targets[at] = Some(target.clone());
    }
    for target in targets.iter_mut().take(report_columns) {
        target.get_or_insert(Target::Skip);
    }
    Ok(targets)
}

/// Guesses the built-in targets the explicit mapping (`taken`) left open, the best-ranked
/// column for each; every opt-out column counts. Returns the columns whose headers say
/// phone, with their ranks, when the mapping names none.
fn guess_open_targets(
    headers: &[String],
    targets: &mut [Option<Target>],
    taken: &HashSet<Target>,
) -> Vec<(u8, usize)> {
    let mut best: Vec<(Target, u8, usize)> = Vec::new();
    let mut phones: Vec<(u8, usize)> = Vec::new();
    for (at, header) in headers.iter().enumerate() {
        if targets[at].is_some() {
            continue;
        }
        let Some((target, rank)) = guess_among(header, headers) else {
            continue;
        };
        if target == Target::OptOut {
            // Every one counts: any of them saying so is an opt-out.
            targets[at] = Some(target);
            continue;
        }
        if target == Target::Phone && !taken.contains(&Target::Phone) {
            phones.push((rank, at));
        }
        // A full name mapped explicitly is what the user wants split: name columns guessed
        // beside it stay attributes.
        let parts_of_taken_name =
            taken.contains(&Target::Name) && matches!(target, Target::FirstName | Target::LastName);
        if taken.contains(&target) || parts_of_taken_name {
            continue;
        }
        match best.iter_mut().find(|(t, _, _)| *t == target) {
            Some(slot) if rank < slot.1 => *slot = (target, rank, at),
            Some(_) => {}
            None => best.push((target, rank, at)),
        }
    }
    for (target, _, at) in best {
        targets[at] = Some(target);
    }
    phones
}

/// What a header suggests beside the others: Japanese names the family name `名字` beside
/// the given name `名前`, where Chinese `名字` alone is the given name.
fn guess_among(header: &str, headers: &[String]) -> Option<(Target, u8)> {
    if header.trim() == "名字" && headers.iter().any(|h| h.trim() == "名前") {
        return Some((Target::LastName, 0));
    }
    guess(header)
}

/// A full name is split only when there is neither a first- nor a last-name column;
/// otherwise it is kept as an attribute, or read as the family name beside a first name.
fn settle_name_columns(
    headers: &[String],
    targets: &mut [Option<Target>],
    taken: &HashSet<Target>,
) {
    let has = |targets: &[Option<Target>], target: Target| targets.contains(&Some(target));
    let (first, last) = (
        has(targets, Target::FirstName),
        has(targets, Target::LastName),
    );
    if !(first || last) || taken.contains(&Target::Name) {
        return;
    }
    // "Name;Vorname" and "Nom;Prénom" pair a family name with a first name; in English,
    // "Name" beside "First Name" is as likely the full name, so it stays an attribute.
    let first_is_foreign = targets.iter().zip(headers).any(|(t, h)| {
        *t == Some(Target::FirstName)
            && matches!(normalise(h).as_str(), "vorname" | "prenom" | "voornaam")
    });
    for (at, t) in targets.iter_mut().enumerate() {
        if *t != Some(Target::Name) {
            continue;
        }
        let bare = matches!(normalise(&headers[at]).as_str(), BARE_NAME | "nom");
        *t = (first && !last && bare && first_is_foreign).then_some(Target::LastName);
    }
}

/// Makes every column still without a target an attribute; returns the attribute names
/// taken.
fn name_attributes(headers: &[String], targets: &mut [Option<Target>]) -> HashSet<String> {
    let mut names: HashSet<String> = targets
        .iter()
        .filter_map(|t| match t {
            Some(Target::Attribute(name)) => Some(name.clone()),
            _ => None,
        })
        .collect();
    for (at, header) in headers.iter().enumerate() {
        if targets[at].is_none() {
            targets[at] = Some(Target::Attribute(attribute_name(header, at, &mut names)));
        }
    }
    names
}

/// Puts each column's target into the plan; returns the phone column, if any, and each used
/// column with its target for the report.
fn place(
    headers: &[String],
    targets: Vec<Option<Target>>,
    plan: &mut Plan,
) -> (Option<usize>, Vec<(String, Target)>) {
    let mut phone = None;
    let mut report = Vec::new();
    for (at, target) in targets.into_iter().enumerate() {
        let Some(target) = target else { continue };
        match &target {
            Target::Phone => phone = Some(at),
            Target::FirstName => plan.first_name = Some(at),
            Target::LastName => plan.last_name = Some(at),
            Target::Name => {
                plan.name = Some(at);
                plan.name_order_of_its_script = family_name_first(&headers[at])
                    && !headers[at].chars().any(|c| c.is_ascii_alphabetic());
                plan.name_last_first = family_name_first(&headers[at])
                    || matches!(
                        normalise(&headers[at]).as_str(),
                        "lastnamefirstname" | "surnamefirstname" | "nachnamevorname" | "nomprenom"
                    );
                plan.name_two_surnames = matches!(
                    normalise(&headers[at]).as_str(),
                    "nombreyapellidos" | "nombresyapellidos" | "nombreapellidos"
                );
            }
            Target::Email => plan.email = Some(at),
            Target::Consent => plan.consent = Some(at),
            Target::OptOut => plan.opt_outs.push(at),
            Target::Tags => plan.tags = Some(at),
            Target::Attribute(name) => plan.attributes.push((at, name.clone())),
            Target::Skip => continue,
        }
        report.push((headers[at].clone(), target));
    }
    (phone, report)
}

/// The column a mapping names: by its exact (trimmed) header, else by `#n` (its 1-based
/// position: how to pick one of two `Phone` columns, or one without a name), else by a
/// header equal to it case, space and punctuation aside, when just one is. Positions count
/// in the file a report of refused rows came from when this file is one (it puts
/// `report_columns` columns first), so the file's mapping maps the report too.
fn find_column(
    headers: &[String],
    column: &str,
    report_columns: usize,
) -> Result<usize, ImportError> {
    let column = column.trim();
    let exact: Vec<usize> = (0..headers.len())
        .filter(|&at| headers[at].trim() == column)
        .collect();
    match exact.as_slice() {
        [at] => return Ok(*at),
        [] => {}
        several => {
            return Err(ImportError::AmbiguousMappingColumn {
                column: column.to_owned(),
                positions: several.iter().map(|at| at + 1).collect(),
            });
        }
    }
    if let Some(n) = column
        .strip_prefix('#')
        .and_then(|n| n.parse::<usize>().ok())
        && (1..=headers.len() - report_columns).contains(&n)
    {
        return Ok(n - 1 + report_columns);
    }
    let key = normalise(column);
    let matching: Vec<usize> = (0..headers.len())
        .filter(|&at| !key.is_empty() && normalise(&headers[at]) == key)
        .collect();
    match matching.as_slice() {
        [at] => Ok(*at),
        [] => Err(ImportError::UnknownMappingColumn {
            column: column.to_owned(),
            headers: headers.to_vec(),
        }),
        several => Err(ImportError::AmbiguousMappingColumn {
            column: column.to_owned(),
            positions: several.iter().map(|at| at + 1).collect(),
        }),
    }
}

fn attribute_name(header: &str, at: usize, taken: &mut HashSet<String>) -> String {
    let mut base = snake(header);
    if base.is_empty() {
        // A header in another script, spelt in Latin letters as templates name attributes
        // (`Город` -> `gorod`, `都市` -> `du_shi`).
        base = snake(&spelt_in_latin(header));
    }
    if base.is_empty() {
        base = format!("column_{}", at + 1);
    }
    let usable = |name: &str, taken: &HashSet<String>| {
        validate_attribute_name(name).is_ok() && !taken.contains(name)
    };
    let mut name = base.clone();
    let mut n = 2;
    while !usable(&name, taken) {
        // The base gives way to the suffix, so the name stays within the limit.
        let suffix = format!("_{n}");
        let room = MAX_ATTRIBUTE_NAME_CHARS.saturating_sub(suffix.len());
        name = truncate_name(&base, room) + &suffix;
        n += 1;
    }
    taken.insert(name.clone());
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    fn report(list: &[&str], explicit: Option<&str>) -> Vec<(String, String)> {
        let explicit = explicit.map(|e| e.parse::<ExplicitMapping>().unwrap());
        let (_, report) = plan(&headers(list), explicit.as_ref()).unwrap();
        report
            .into_iter()
            .map(|(h, t)| (h, t.to_string()))
            .collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
            .collect()
    }

    #[test]
    fn a_mobile_column_wins_whatever_it_is_called() {
        for (mobile, other) in [
            ("Mobile No.", "Tel."),
            ("Handy", "Telefon"),
            ("Téléphone portable", "Téléphone"),
            ("Móvil", "Teléfono"),
            ("Cell No", "Phone No"),
        ] {
            assert_eq!(
                report(&["Name", other, mobile], None)[2],
                (mobile.to_owned(), "phone".to_owned()),
                "{mobile} over {other}"
            );
        }
    }

    #[test]
    fn real_exports() {
        assert_eq!(
            report(&["Given Name", "Family Name", "Phone 1 - Value"], None),
            pairs(&[
                ("Given Name", "first_name"),
                ("Family Name", "last_name"),
                ("Phone 1 - Value", "phone")
            ])
        );
        assert_eq!(
            report(
                &["First Name", "Last Name", "Phone", "Accepts SMS Marketing"],
                None
            ),
            pairs(&[
                ("First Name", "first_name"),
                ("Last Name", "last_name"),
                ("Phone", "phone"),
                ("Accepts SMS Marketing", "consent")
            ])
        );
        assert_eq!(
            report(
                &[
                    "First Name",
                    "Last Name",
                    "Phone Number",
                    "Mobile Phone Number"
                ],
                None
            ),
            pairs(&[
                ("First Name", "first_name"),
                ("Last Name", "last_name"),
                ("Phone Number", "attr:phone_number"),
                ("Mobile Phone Number", "phone")
            ])
        );
        assert_eq!(
            report(
                &["Email Address", "First Name", "Last Name", "Phone Number"],
                None
            ),
            pairs(&[
                ("Email Address", "email"),
                ("First Name", "first_name"),
                ("Last Name", "last_name"),
                ("Phone Number", "phone")
            ])
        );
        // Pipedrive: every field of a person under "Person - ".
        assert_eq!(
            report(
                &[
                    "Person - Name",
                    "Person - Email - Work",
                    "Person - Email - Home",
                    "Person - Phone - Work",
                    "Person - Phone - Mobile",
                    "Organization - Name",
                ],
                None
            ),
            pairs(&[
                ("Person - Name", "name"),
                ("Person - Email - Work", "attr:person_email_work"),
                ("Person - Email - Home", "email"),
                ("Person - Phone - Work", "attr:person_phone_work"),
                ("Person - Phone - Mobile", "phone"),
                ("Organization - Name", "attr:organization_name"),
            ])
        );
        // Typeform and Google Forms: the questions asked.
        assert_eq!(
            report(
                &[
                    "What's your first name?",
                    "And your last name?",
                    "What's your mobile number?",
                    "What's your email?",
                    "What's your favourite cake?",
                ],
                None
            ),
            pairs(&[
                ("What's your first name?", "first_name"),
                ("And your last name?", "last_name"),
                ("What's your mobile number?", "phone"),
                ("What's your email?", "email"),
                (
                    "What's your favourite cake?",
                    "attr:what_s_your_favourite_cake"
                ),
            ])
        );
        // Brevo: the number for texts is "SMS"; WhatsApp's goes first, then SMS's.
        assert_eq!(
            report(&["EMAIL", "SMS", "WHATSAPP"], None),
            pairs(&[
                ("EMAIL", "email"),
                ("SMS", "attr:sms"),
                ("WHATSAPP", "phone"),
            ])
        );
        assert_eq!(report(&["EMAIL", "SMS"], None)[1].1, "phone");
        // Apple's contacts as CSV: the iPhone's number is the mobile.
        assert_eq!(
            report(&["First name", "iPhone", "Home", "Email (Home)"], None),
            pairs(&[
                ("First name", "first_name"),
                ("iPhone", "phone"),
                ("Home", "attr:home"),
                ("Email (Home)", "email"),
            ])
        );
    }

    #[test]
    fn attribute_names() {
        assert_eq!(
            report(
                &[
                    "Mobile",
                    "Date of Birth",
                    "Téléphone",
                    "",
                    "2nd City",
                    "Phone",
                    "city",
                    "City!",
                    "Город",
                    "都市",
                    "📱"
                ],
                None
            ),
            pairs(&[
                ("Mobile", "phone"),
                ("Date of Birth", "attr:date_of_birth"),
                ("Téléphone", "attr:telephone"),
                ("", "attr:column_4"),
                ("2nd City", "attr:col_2nd_city"),
                ("Phone", "attr:phone_2"),
                ("city", "attr:city"),
                ("City!", "attr:city_2"),
                ("Город", "attr:gorod"),
                ("都市", "attr:du_shi"),
                ("📱", "attr:column_11"),
            ])
        );
    }

    #[test]
    fn long_headers_that_start_alike_get_distinct_names_within_the_limit() {
        // Survey exports: long questions, numbered, that differ only at the end.
        let question = "1. How did you hear about us? Please pick the option that fits best";
        let list = [
            "Phone".to_owned(),
            format!("{question} (online)"),
            format!("{question} (in store)"),
            format!("{question} (a friend)"),
        ];
        let list: Vec<&str> = list.iter().map(String::as_str).collect();
        let names: Vec<String> = report(&list, None)
            .into_iter()
            .skip(1)
            .map(|(_, target)| target)
            .collect();
        let unique: HashSet<&String> = names.iter().collect();
        assert_eq!(unique.len(), 3, "{names:?}");
        for name in &names {
            let name = name.strip_prefix("attr:").expect("an attribute");
            assert!(name.starts_with("col_1_how_did_you_hear"), "{name}");
            validate_attribute_name(name).expect("a valid name");
        }
    }

    #[test]
    fn full_name_is_split_only_without_parts() {
        assert_eq!(
            report(&["Name", "Cell"], None),
            pairs(&[("Name", "name"), ("Cell", "phone")])
        );
        assert_eq!(
            report(&["Full Name", "First", "Cell"], None),
            pairs(&[
                ("Full Name", "attr:full_name"),
                ("First", "first_name"),
                ("Cell", "phone")
            ])
        );
        // "Name;Vorname", "Nom;Prénom": beside a first name, a bare name is the family name.
        for (name, first) in [("Name", "Vorname"), ("Nom", "Prénom")] {
            assert_eq!(
                report(&[name, first, "Handy"], None),
                pairs(&[
                    (name, "last_name"),
                    (first, "first_name"),
                    ("Handy", "phone")
                ])
            );
        }
        assert_eq!(
            report(&["Name", "Vorname", "Nachname", "Handy"], None),
            pairs(&[
                ("Name", "attr:name"),
                ("Vorname", "first_name"),
                ("Nachname", "last_name"),
                ("Handy", "phone")
            ])
        );
        assert_eq!(
            report(&["Name", "First Name", "Phone"], None),
            pairs(&[
                ("Name", "attr:name"),
                ("First Name", "first_name"),
                ("Phone", "phone")
            ])
        );
        assert_eq!(
            report(&["Guest Name", "Phone"], None),
            pairs(&[("Guest Name", "name"), ("Phone", "phone")])
        );
    }

    #[test]
    fn phone_columns_are_found_by_their_words_the_mobile_first() {
        for (mobile, other) in [
            ("Téléphone mobile", "Téléphone"),
            ("Handy-Nr.", "Telefon"),
            ("Mobil-Nr.", "Telefon"),
            ("Mobilfunknummer", "Telefon"),
            ("Cellulare", "Telefono"),
            ("Mobile Phone 1", "Phone 1"),
            ("Phone 2 (Mobile)", "Phone 1"),
            ("Phone (Mobile)", "Phone (Home)"),
            ("Personal Cell", "Work Phone"),
            ("Tél. portable", "Téléphone fixe"),
            ("Mobiel", "Telefoon"),
            ("MobilePhone", "HomePhone"),
            ("Handy privat", "Telefon geschäftlich"),
            ("Numéro de portable", "Numéro de téléphone"),
            ("Mobile (SMS)", "Phone"),
            ("Mobile Number (for SMS)", "Phone"),
            ("What's your mobile number?", "Phone"),
            ("Your best cell number", "Your phone"),
        ] {
            let mapped = report(&["Nom", other, mobile], None);
            assert_eq!(
                mapped[2],
                (mobile.to_owned(), "phone".to_owned()),
                "{mobile} over {other}: {mapped:?}"
            );
            assert_eq!(report(&["Nom", other], None)[1].1, "phone", "{other}");
        }
        // About a phone, not one; nor a fax, nor a name that starts like one; nor someone
        // else's number.
        for header in [
            "Emergency Contact Mobile",
            "Parent Cell",
            "Assistant's Phone",
            "Phone number (Company)",
            "Letzter Telefonkontakt",
            "Mobile Carrier",
            "Mobile App",
            "Cell Carrier",
            "Mobile 紧急联系人",
            "No Mobile",
            "Phone 1 - Type",
            "Mobile Phone Verified",
            "Phone Country Code",
            "Fax Phone",
            "Phonetic First Name",
            "Mobility Aid",
            "Mobile Opt-In Date",
            "Cancellation Reason",
        ] {
            let mapped = report(&[header, "Phone"], None);
            assert_eq!(mapped[1].1, "phone", "{header}: {mapped:?}");
            assert!(mapped[0].1.starts_with("attr:"), "{header}: {mapped:?}");
        }
    }

    #[test]
    fn consent_and_opt_out_columns_in_words() {
        for header in [
            "Texting Opt Out",
            "Opt-out SMS",
            "SMS Blocked",
            "DND",
            "Do Not Disturb",
            "Global Opt Out",
            "Marketing Opt Out",
            "Unsubscribe",
            "Unsubscribed from SMS",
            "SMS Opt-Out Reason",
            "Abgemeldet",
            "Désabonné",
            "Keine SMS",
            // Brevo's, Klaviyo's and POS systems' flags, and negated ones.
            "SMS_BLACKLISTED",
            "SMS Blacklisted",
            "SMS Suppressed",
            "No Texts",
            "No SMS Marketing",
            "STOP received",
            "Don't Text",
            "Please don't text me",
            "SMS Disabled",
            "Texts Off",
            "Block SMS",
            "Text Message Opt Out",
            "Opt Out of SMS",
            "Unsubscribed (SMS)",
            "No Contact",
            "No Marketing",
            "Geen SMS",
            "Ne pas contacter",
            "Afgemeld",
            "Désinscrit",
        ] {
            assert_eq!(report(&["Phone", header], None)[1].1, "opt_out", "{header}");
        }
        for header in [
            "SMS Consent Given",
            "OK to Text",
            "Opt-in SMS",
            "opt_in_sms",
            "Text Message Opt In",
            "Marketing SMS",
            "SMS Status",
            "SMS Subscriber",
            "SMS-Einwilligung",
            "Einwilligung SMS",
            "Accepte les SMS",
            "Acepta SMS",
            "Mobile Marketing",
            "Receive SMS",
            "Allow SMS",
            "Send Promotional Texts",
            "Promotional Texts",
            "TCPA Consent",
            "Prior Express Consent",
        ] {
            assert_eq!(report(&["Phone", header], None)[1].1, "consent", "{header}");
        }
        // Mailchimp's columns about a subscription, email-only opt-outs, an unsubscribe link,
        // the tool's own "SMS" flag: none of them.
        for header in [
            "OPTIN_TIME",
            "OPTIN_IP",
            "CONFIRM_TIME",
            "Email Opt Out",
            "Unsubscribed from Email",
            "Unsubscribe URL",
            "SMS Opt-In Date",
            "SMS",
        ] {
            let mapped = report(&["Phone", header], None);
            assert_eq!(mapped[0].1, "phone", "{header}: {mapped:?}");
            assert!(mapped[1].1.starts_with("attr:"), "{header}: {mapped:?}");
        }
    }

    /// An import never lifts an opt-out, so guesses err away from both: no consent from a
    /// negated, telephone or about-a-consent header; no opt-out from an email-only, privacy
    /// or everyone-filled one.
    #[test]
    fn word_guesses_leave_doubtful_columns_alone() {
        for header in [
            // Every Dynamics 365 export; other things not to do.
            "(Do Not Modify) Contact",
            "(Do Not Modify) Row Checksum",
            "Do Not Resuscitate",
            "Do Not Send Statements",
            "Do Not Merge",
            // Said of an opt-out, counted, or its wording and settings.
            "Not Unsubscribed",
            "Never Opted Out",
            "Opt-Out Cleared",
            "Opt Out Removed",
            "Unsubscribes",
            "Total Unsubscribes",
            "Opt-outs",
            "Opt-Out Rate",
            "Opt Out Message",
            "Unsubscribe Groups",
            // Opt-outs from something else than being contacted.
            "Directory Opt Out",
            "Paperless Opt Out",
            "Photo Opt Out",
            "CCPA Opt Out",
            "Blocked Number",
            "Card Blocked",
            // Transactional texts, and the line's capability.
            "SMS Transactional Consent",
            "Can Receive SMS",
            "Would you like to receive texts about appointments?",
            // Counts, codes, other channels' flags, email suppression, reminders.
            "No. of SMS",
            "No of Texts Sent",
            "No SMS sent",
            "Suppressed",
            "Blacklisted",
            "Suppression List",
            "WHATSAPP_BLACKLISTED",
            "Push Suppressed",
            "Call Blacklisted",
            "Promo SMS Sent",
            "SMS Promo Code",
            "Text Promo",
            "Allow SMS Notifications",
            "Receive SMS Reminders",
            // Questions asking for an opt-out, or about reminders or other channels.
            "Revoke consent for SMS marketing messages",
            "Customer declined consent to receive SMS messages",
            "May we leave a message at this number?",
            "Can we send you a message on WhatsApp about your order?",
            "Would you like to receive a text message reminder before your appointment?",
            "How would you like us to contact you? (Email, Text message, Phone call)",
            "Not OK to Text",
            "SMS Consent Withdrawn",
            "SMS Marketing Declined",
            "Phone Consent",
            "Phone Marketing Opt-in",
            "Mobile App Push Opt-in",
            "Phone Recording Consent",
            "SMS Consent Timestamp",
            "SMS Consent Language",
            "SMS Opt-in Form",
            "Cell (text OK)",
            "HASOPTEDOUTOFEMAIL",
            "DONOTEMAIL",
            "emailoptout",
            "HasOptedOutOfFax",
            "Do Not Track",
            "Cookie Opt-Out",
            "DNC Scrub Date",
            "Last DNC Check",
            "DNC Status",
            "DND Hours",
            "Do Not Disturb Until",
            "Unsubscribe Token",
            "Opt-out Keyword",
            "Bus Stop",
        ] {
            let mapped = report(&["Phone", header], None);
            assert!(mapped[1].1.starts_with("attr:"), "{header}: {mapped:?}");
        }
        // A question asking for an opt-out is never a consent column.
        assert_eq!(
            report(
                &["Phone", "Withdraw my consent to receive text messages"],
                None
            )[1]
            .1,
            "opt_out"
        );
        assert_eq!(
            report(
                &["Phone", "Tick this box if you do not want to receive SMS"],
                None
            )[1]
            .1,
            "opt_out"
        );
        let header = "Check this box if you do NOT want to receive text messages";
        assert_ne!(report(&["Phone", header], None)[1].1, "consent");
        // A number not to text is not the phone.
        assert_eq!(
            report(&["Cell (No Text)", "Phone"], None),
            pairs(&[("Cell (No Text)", "attr:cell_no_text"), ("Phone", "phone")])
        );
        // "Is Mobile" is a flag, not the number.
        assert_eq!(
            report(&["Phone", "Is Mobile"], None),
            pairs(&[("Phone", "phone"), ("Is Mobile", "attr:is_mobile")])
        );
        let explicit = "consent=Texting Opt Out"
            .parse::<ExplicitMapping>()
            .unwrap();
        let refused = plan(&headers(&["Phone", "Texting Opt Out"]), Some(&explicit));
        assert!(matches!(refused, Err(ImportError::InvalidMapping { .. })));
    }

    #[test]
    fn consent_and_opt_out_columns() {
        for header in [
            "SMS Marketing",
            "SMS Opt-In Status",
            "Text Opt-In",
            "Accepts Text Messages",
            "Mobile Opt-In",
            "SMS Subscription Status",
        ] {
            assert_eq!(report(&["Phone", header], None)[1].1, "consent", "{header}");
        }
        // Every opt-out column counts; an email-only one is not about texts.
        assert_eq!(
            report(
                &[
                    "Phone",
                    "SMS Opt Out",
                    "Do Not Call",
                    "Email Opt Out",
                    "UNSUB_TIME"
                ],
                None
            ),
            pairs(&[
                ("Phone", "phone"),
                ("SMS Opt Out", "opt_out"),
                ("Do Not Call", "opt_out"),
                ("Email Opt Out", "attr:email_opt_out"),
                ("UNSUB_TIME", "opt_out")
            ])
        );
    }

    #[test]
    fn explicit_mapping_overrides() {
        assert_eq!(
            report(
                &["Telefon", "Vorname", "Phone", "Ort", "Notes"],
                Some("phone=Telefon, first_name=vorname, attr:city=Ort, skip=Notes")
            ),
            pairs(&[
                ("Telefon", "phone"),
                ("Vorname", "first_name"),
                ("Phone", "attr:phone_2"),
                ("Ort", "attr:city"),
            ])
        );
        let err = plan(
            &headers(&["a", "b"]),
            Some(&"phone=Telefon".parse().unwrap()),
        )
        .unwrap_err();
        assert!(err.to_string().contains("`Telefon`"), "{err}");
        assert!(err.to_string().contains("[`a`, `b`]"), "{err}");
        // A full name mapped explicitly is split, even beside a column that looks like a
        // first name (which stays an attribute).
        assert_eq!(
            report(&["Phone", "Contact", "First Name"], Some("name=Contact")),
            pairs(&[
                ("Phone", "phone"),
                ("Contact", "name"),
                ("First Name", "attr:first_name_2"),
            ])
        );
        for bad in [
            "phone",
            "fone=x",
            "phone=a,phone=b",
            "attr:Bad=x",
            "phone= ",
            "name=a,first_name=b",
        ] {
            assert!(bad.parse::<ExplicitMapping>().is_err(), "{bad}");
        }
    }

    #[test]
    fn no_phone_column_lists_headers() {
        let err = plan(&headers(&["Name", "Email"]), None).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("[`Name`, `Email`]") && msg.contains("mapping such as phone="),
            "{msg}"
        );
    }
}
