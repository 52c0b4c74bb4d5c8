//! One CSV record to a validated row, with the domain's field rules.

use std::collections::BTreeMap;

use smscrm_domain::contact::{
    ConsentInput, ConsentStatus, MAX_ATTRIBUTES, MAX_SOURCE_CHARS, check_attributes_size,
    clean_email, clean_name, clean_tags, validate_attribute_value,
};
use smscrm_domain::{PhoneE164, Region, ValidationError};

use crate::mapping::Plan;
use crate::names::split_full_name;
use crate::phone::{PhoneReader, choose_reading};
use crate::records::Fields;
use crate::seen::Seen;
use crate::{DUPLICATE_OF, ImportRow, RefusedOptOut, RowOutcome};

mod consent_cells;

use consent_cells::{
    consent_cell, names_something_else_too, opt_out_cell, reads_as_flag, says_no_to_texts, word_key,
};

/// What a duplicate's reason says after its first row, in a report imported again.
const FROM_A_REPORT: &str = " in the file this report came from";

pub(crate) struct RowValidator {
    plan: Plan,
    headers: Vec<String>,
    phones: PhoneReader,
    /// What a country column's cells name.
    countries: Countries,
    declaration: Option<ConsentInput>,
    /// Attribute columns that may say the person wants no texts, and whether each names
    /// texts ([`crate::mapping::may_refuse_texts`]).
    refusals: Vec<(usize, bool)>,
    /// Each phone's first row: ~20 bytes a unique phone. `None`: the caller finds duplicates.
    seen: Option<Seen>,
}

impl RowValidator {
    pub(crate) fn new(
        plan: Plan,
        headers: Vec<String>,
        phones: PhoneReader,
        declaration: Option<ConsentInput>,
        find_duplicates: bool,
    ) -> Self {
        let refusals = (plan.attributes.iter())
            .filter_map(|(at, _)| crate::mapping::may_refuse_texts(&headers[*at]).map(|t| (*at, t)))
            .collect();
        Self {
            plan,
            headers,
            phones,
            countries: Countries::default(),
            declaration,
            refusals,
            seen: find_duplicates.then(Seen::default),
        }
    }

    pub(crate) fn header(&self, field: usize) -> String {
        self.headers
            .get(field)
            .cloned()
            .unwrap_or_else(|| format!("number {}", field + 1))
    }

    /// `None` for a row of empty cells (spreadsheets leave them at the end), which is
    /// skipped without a report.
    pub(crate) fn validate(&mut self, row: u64, fields: &Fields<'_>) -> Option<RowOutcome> {
        if fields.iter().all(|f| f.trim().is_empty()) {
            return None;
        }
        Some(match self.read(fields) {
            Err(reason) => RowOutcome::Invalid {
                row,
                opt_out: self.opt_out_of_refused(fields),
                reason,
            },
            Ok(mut valid) => {
                valid.row = row;
                let first_row = match &mut self.seen {
                    Some(seen) => {
                        seen.first_row(valid.phone.digits_u64(), valid.phone.as_str(), row)
                    }
                    None => row,
                };
                if first_row == row {
                    RowOutcome::Valid(valid)
                } else {
                    RowOutcome::Duplicate {
                        row,
                        first_row,
                        phone: valid.phone,
                    }
                }
            }
        })
    }

    fn read(&mut self, fields: &Fields<'_>) -> Result<ImportRow, String> {
        if let Some(shifted) = self.shifted(fields) {
            return Err(shifted);
        }
        if let Some(duplicate) = self.plan.refused_because.map(|at| fields.get(at).trim())
            && duplicate.starts_with(DUPLICATE_OF)
        {
            // Imported as it is, it would merge into the first row's contact, overwriting it.
            // A report's report says so once.
            let duplicate = duplicate
                .split_once(FROM_A_REPORT)
                .map_or(duplicate, |(first, _)| first);
            return Err(format!(
                "{duplicate}{FROM_A_REPORT}; delete the row, or empty its {} cell to import it \
                 all the same",
                crate::REFUSED_ROW_COLUMNS[1]
            ));
        }
        let (phone_column, phone_cell, other_phones) = self.phone_cell(fields);
        if let Some(line) = self.lone_line(fields, phone_cell) {
            return Err(format!(
                "phone is missing; the row holds only `{line}` (if that is a title or footer \
                 line, as reports end with, such as Salesforce's \"Copyright ...\", it is no \
                 contact)"
            ));
        }
        if let Some(why) = self.not_to_text(fields, phone_column) {
            return Err(why);
        }
        let (phone_column, phone_cell, other_phones, phone) = match self.phone(fields, phone_cell) {
            Ok(phone) => (phone_column, phone_cell, other_phones, phone),
            Err(why) => self.valid_fallback(fields, phone_column).ok_or(why)?,
        };
        let (first_name, last_name, title) = self.names(fields)?;
        let emails = cell(fields, self.plan.email)
            .filter(|e| !is_placeholder(e))
            .map(emails_as_written)
            .unwrap_or_default();
        let email = clean_email(emails.first.map(str::to_owned)).map_err(reason)?;
        let tags = self.tags(fields)?;
        let mut attributes = self.attributes(fields, phone_column)?;
        if let Some(others) = other_phones {
            let others = others.split(":::").map(str::trim);
            keep_besides(&mut attributes, OTHER_PHONES, others).map_err(reason)?;
        }
        keep_besides(&mut attributes, OTHER_EMAILS, emails.others.into_iter()).map_err(reason)?;
        keep_besides(&mut attributes, TITLE, title.into_iter()).map_err(reason)?;
        keep_besides(
            &mut attributes,
            EXCHANGE_ADDRESS,
            emails.exchange.into_iter(),
        )
        .map_err(reason)?;
        if attributes.len() > MAX_ATTRIBUTES {
            return Err(format!(
                "row has more than {MAX_ATTRIBUTES} non-empty custom columns; leave out \
                 columns you do not need with a mapping such as skip=<column>"
            ));
        }
        check_attributes_size(&attributes).map_err(reason)?;
        let consent = self.consent(fields, phone_column, phone_cell)?;
        Ok(ImportRow {
            row: 0,
            phone,
            first_name,
            last_name,
            email,
            tags,
            attributes,
            consent,
        })
    }

    /// A valid number from a fallback phone column when the phone column's own is none (an
    /// invalid landline beside a valid mobile), with its column and the other numbers of its
    /// cell. Not past a note saying not to text, which the row must keep; never for a mapped
    /// phone column (it has no fallbacks) or Google's typed numbers.
    fn valid_fallback<'f>(
        &mut self,
        fields: &Fields<'f>,
        column: usize,
    ) -> Option<(usize, &'f str, Option<&'f str>, PhoneE164)> {
        let plan = &self.plan;
        let refused = fields.get(column);
        if column != plan.phone
            || !plan.phone_types.is_empty()
            || crate::phone::note_opts_out(refused)
        {
            return None;
        }
        for at in plan.phone_fallbacks.clone() {
            let candidate = fields.get(at);
            if crate::phone::note_opts_out(candidate) {
                return None;
            }
            let (number, others) = match candidate.split_once(":::") {
                Some((first, others)) => (first, Some(others)),
                None => (candidate, None),
            };
            if !number.trim().is_empty()
                && let Ok(phone) = self.phone(fields, number)
            {
                return Some((at, number, others, phone));
            }
        }
        None
    }

    /// The row's first and last names: from the full-name column when there is one, with
    /// the title it starts with (`Mr.`), if any.
    fn names<'f>(&self, fields: &Fields<'f>) -> Result<Names<'f>, String> {
        let plan = &self.plan;
        let (first, last, title) = match cell(fields, plan.name) {
            Some(full) => self.full_name(full),
            None => (
                cell(fields, plan.first_name).map(str::to_owned),
                cell(fields, plan.last_name).map(str::to_owned),
                None,
            ),
        };
        let first_name = clean_name("first_name", first).map_err(reason)?;
        let last_name = clean_name("last_name", last).map_err(reason)?;
        Ok((first_name, last_name, title))
    }

    /// A full name's first and last names, and its title: `Mr. John Smith` is John Smith,
    /// greeted as John, and `Dr. Smith` has only a family name.
    fn full_name<'f>(&self, full: &'f str) -> (Option<String>, Option<String>, Option<&'f str>) {
        let plan = &self.plan;
        let (title, full) = match crate::names::title(full) {
            Some((title, rest)) if !rest.contains([' ', ',']) => {
                return (None, Some(rest.to_owned()), Some(title));
            }
            Some((title, rest)) => (Some(title), rest),
            None => (None, full),
        };
        // A "Last Name, First Name" column's cell without its comma: `Smith John`.
        let full = match full.split_once(char::is_whitespace) {
            Some((last, first))
                if plan.name_last_first
                    && !full.contains(',')
                    && !(plan.name_order_of_its_script
                        && crate::names::written_given_name_first(full)) =>
            {
                std::borrow::Cow::Owned(format!("{last}, {}", first.trim_start()))
            }
            _ if plan.name_two_surnames => (crate::names::with_two_surnames_first(full))
                .map_or(std::borrow::Cow::Borrowed(full), std::borrow::Cow::Owned),
            _ => std::borrow::Cow::Borrowed(full),
        };
        let (first, last) = split_full_name(&full);
        (Some(first), last, title)
    }

    fn tags(&self, fields: &Fields<'_>) -> Result<Vec<String>, String> {
        let Some(tags) = cell(fields, self.plan.tags) else {
            return Ok(Vec::new());
        };
        // A line break too: Excel's Alt+Enter lists.
        let tags = tags
            .split(":::")
            .flat_map(|part| part.split([',', ';', '|', '\n', '\r']))
            .map(tag_as_written)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect();
        clean_tags(tags).map_err(reason)
    }

    /// The row's custom attributes, kept as written (formulas too: `=1+1` is text here), only
    /// trimmed; and the phone column's cell when the row's phone was taken from another
    /// (`phone_column` is the one it was).
    fn attributes(
        &self,
        fields: &Fields<'_>,
        phone_column: usize,
    ) -> Result<BTreeMap<String, String>, String> {
        let plan = &self.plan;
        let unchosen = (plan.phone_not_chosen.as_ref())
            .filter(|_| phone_column != plan.phone)
            .map(|name| (plan.phone, name));
        let columns = (plan.attributes.iter().map(|(at, name)| (*at, name))).chain(unchosen);
        let mut attributes = BTreeMap::new();
        for (at, name) in columns {
            let Some(value) = cell(fields, Some(at)).map(without_text_prefix) else {
                continue;
            };
            validate_attribute_value(name, value).map_err(reason)?;
            attributes.insert(name.clone(), value.to_owned());
        }
        Ok(attributes)
    }

    /// The row's consent: its consent column's, else the import's declaration; none where a
    /// texts column says no; revoked where an opt-out column or a note beside the number
    /// says the person opted out.
    fn consent(
        &self,
        fields: &Fields<'_>,
        phone_column: usize,
        phone_cell: &str,
    ) -> Result<Option<ConsentInput>, String> {
        let (consent, declared) = match self.plan.consent.map(|at| (at, fields.get(at).trim())) {
            Some((at, value)) if !value.is_empty() => {
                let declared = self.declaration.as_ref().and_then(|d| d.source.as_deref());
                (consent_cell(value, &self.headers[at], declared)?, false)
            }
            _ => (self.declaration.clone(), true),
        };
        let grants = consent
            .as_ref()
            .is_some_and(|c| c.status.allows_marketing());
        let consent = match self.refused_texts(fields) {
            // A texts column says no ("SMS Status" of Unsubscribed): no consent, whatever
            // the declaration or the consent column grants.
            Some((header, true)) if grants || consent.is_none() => Some(ConsentInput {
                status: ConsentStatus::Unknown,
                source: Some(opt_out_source(header)),
            }),
            // A status naming no channel ("Subscription Status" of UNSUBSCRIBED) may be an
            // email's: it only keeps the declaration from granting.
            Some((_, false)) if grants && declared => None,
            _ => consent,
        };
        if let Some(why) = self.unreadable_opt_out(fields) {
            return Err(why);
        }
        let note_opts_out = crate::phone::note_opts_out(phone_cell);
        let phone_header = self.headers[phone_column].as_str();
        let opted_out = self
            .opted_out(fields)
            .or(note_opts_out.then_some(phone_header));
        Ok(match opted_out {
            Some(header) => Some(ConsentInput {
                status: ConsentStatus::Revoked,
                source: Some(opt_out_source(header)),
            }),
            None => consent,
        })
    }
}

/// A cell's trimmed text, `None` when it is empty or there is no such column.
fn cell<'f>(fields: &Fields<'f>, at: Option<usize>) -> Option<&'f str> {
    at.map(|at| fields.get(at).trim())
        .filter(|value| !value.is_empty())
}

impl RowValidator {
    /// Why a row with more cells than the header is refused. They are usually an unquoted
    /// delimiter inside a value ("Smith, John"), which shifts every later column: refuse
    /// rather than misread.
    fn shifted(&self, fields: &Fields<'_>) -> Option<String> {
        let (at, extra) = fields
            .iter()
            .enumerate()
            .skip(self.headers.len())
            .find(|(_, f)| !f.trim().is_empty())?;
        Some(format!(
            "row has more cells than the header has columns ({} or more, cell {} is `{}`); \
             quote values that contain the delimiter",
            at + 1,
            at + 1,
            extra.trim()
        ))
    }

    /// The phone column this row fills (the mapped one, or a fallback when it is empty), the
    /// number's cell, and the other numbers Google Contacts lists beside it.
    fn phone_cell<'f>(&self, fields: &Fields<'f>) -> (usize, &'f str, Option<&'f str>) {
        let plan = &self.plan;
        // Google Contacts writes a label's several numbers into one cell, ` ::: ` apart: the
        // first is the contact's phone, the others are kept as an attribute.
        let phone_column = match fields.get(plan.phone).trim() {
            _ if !plan.phone_types.is_empty() => self.google_phone(fields),
            // One with digits first: `Call front desk` in the first is no number to take. Not
            // past a note saying not to text (`do not text`), which the row must keep.
            "" => (plan.phone_fallbacks.iter().copied())
                .take_while(|&at| !crate::phone::note_opts_out(fields.get(at)))
                .find(|&at| fields.get(at).bytes().any(|b| b.is_ascii_digit()))
                .or_else(|| {
                    (plan.phone_fallbacks.iter().copied())
                        .find(|&at| !fields.get(at).trim().is_empty())
                })
                .or_else(|| {
                    (plan.line_fallbacks.iter().copied())
                        .find(|&at| looks_like_a_number(fields.get(at)))
                })
                .unwrap_or(plan.phone),
            _ => plan.phone,
        };
        match fields.get(phone_column).split_once(":::") {
            Some((first, others)) => (phone_column, first, Some(others)),
            None => (phone_column, fields.get(phone_column), None),
        }
    }

    /// Of Google Contacts' numbers, the row's first mobile, else its first that is not a fax
    /// or a pager, else its first ([`RowValidator::not_to_text`] then refuses it).
    fn google_phone(&self, fields: &Fields<'_>) -> usize {
        let filled = || {
            (self.plan.phone_types.iter())
                .filter(|&&(value, _)| !fields.get(value).trim().is_empty())
        };
        let kind = |at: usize| {
            fields
                .get(at)
                .trim()
                .trim_start_matches("* ")
                .to_lowercase()
        };
        filled()
            .find(|&&(_, of)| ["mobile", "cell"].iter().any(|m| kind(of).contains(m)))
            .or_else(|| filled().find(|&&(_, of)| !is_no_mobile(&kind(of))))
            .or_else(|| filled().next())
            .map_or(self.plan.phone, |&(value, _)| value)
    }

    /// Why the number in `column` is not one to text, when its kind (Google's `Phone N -
    /// Type`) says it is a fax or a pager.
    fn not_to_text(&self, fields: &Fields<'_>, column: usize) -> Option<String> {
        let &(_, of) = self.plan.phone_types.iter().find(|&&(v, _)| v == column)?;
        let kind = fields.get(of).trim();
        is_no_mobile(&kind.to_lowercase()).then(|| {
            format!(
                "phone `{}` is a {kind} ({}), not a mobile to text: the row has no other number",
                fields.get(column).trim(),
                self.headers[of]
            )
        })
    }

    /// The text of a row without a phone that fills one cell of several with what a report's
    /// footer line says (Salesforce's "Copyright ...", "Confidential Information ...").
    fn lone_line<'f>(&self, fields: &Fields<'f>, phone_cell: &str) -> Option<&'f str> {
        if !phone_cell.trim().is_empty() || self.headers.len() < 2 {
            return None;
        }
        let mut filled = fields.iter().map(str::trim).filter(|f| !f.is_empty());
        let line = match (filled.next(), filled.next()) {
            (Some(line), None) => line,
            _ => return None,
        };
        // A name alone is a contact without a phone; these are what report footers say.
        let lower = line.to_lowercase();
        [
            "copyright",
            "©",
            "(c)",
            "confidential",
            "generated by",
            "rights reserved",
        ]
        .iter()
        .any(|word| lower.contains(word))
        .then_some(line)
    }

    /// The row's number, read for the import's region or the row's country; failing that,
    /// after the row's area code when the file keeps those apart ("DDD", "Lada").
    fn phone(&mut self, fields: &Fields<'_>, phone_cell: &str) -> Result<PhoneE164, String> {
        let as_written = self.phone_as_written(fields, phone_cell);
        match (as_written, self.after_area_code(fields, phone_cell)) {
            (Err(why), Some(joined)) => self.phone_as_written(fields, &joined).map_err(|_| why),
            (read, _) => read,
        }
    }

    /// The phone cell after the row's area code, when there is one and the number has no
    /// country code.
    fn after_area_code(&self, fields: &Fields<'_>, phone_cell: &str) -> Option<String> {
        let area = cell(fields, self.plan.area_code)?;
        let area = area.trim_start_matches('(').trim_end_matches(')').trim();
        let digits = area.bytes().all(|b| b.is_ascii_digit());
        let international = phone_cell.trim_start().starts_with(['+', '\'']);
        (digits && (1..=5).contains(&area.len()) && !international)
            .then(|| format!("{area} {}", phone_cell.trim()))
    }

    fn phone_as_written(
        &mut self,
        fields: &Fields<'_>,
        phone_cell: &str,
    ) -> Result<PhoneE164, String> {
        let plan = &self.plan;
        let named = plan.country.and_then(|at| cell(fields, Some(at)));
        let country = named
            .and_then(|value| self.countries.region(value))
            .filter(|&region| region != self.phones.region());
        let ours = self.phones.read(phone_cell);
        if let Some(value) = named
            && country.is_none()
            && self.countries.region(value).is_none()
            && !plan.country_may_be_other
            && !says_no_country(value)
            && !own_country_code(phone_cell, &ours, self.phones.region())
        {
            // Read for the import's region, a foreign number would be a stranger's.
            return Err(format!(
                "the row's country `{value}` is not one this import knows, so phone `{}` \
                 cannot be read for it: write the number with + and its country code, or the \
                 country as its two-letter code (such as FR)",
                phone_cell.trim()
            ));
        }
        match country {
            // Written with its country code, the number reads the same for any region.
            Some(_) if phone_cell.trim_start().starts_with(['+', '\'']) => ours,
            Some(region) => choose_reading(
                ours,
                self.phones.read_for(phone_cell, region),
                "the row's country",
            ),
            None => ours,
        }
        .map_err(|why| match several_numbers(phone_cell) {
            true => format!(
                "phone `{}` holds more than one number: keep one in the phone column (put \
                 others in a column of their own)",
                phone_cell.trim()
            ),
            false => why,
        })
    }

    /// A refused row's opt-out, if it says the person opted out and its number is valid. Not
    /// for a row with cells past the header: its columns may be shifted, so neither the
    /// opt-out nor the number can be trusted to be this person's.
    fn opt_out_of_refused(&mut self, fields: &Fields<'_>) -> Option<RefusedOptOut> {
        if self.shifted(fields).is_some() {
            return None;
        }
        let (phone_column, phone_cell, _) = self.phone_cell(fields);
        let header = match self.opted_out(fields) {
            Some(header) => header.to_owned(),
            None if crate::phone::note_opts_out(phone_cell) => self.headers[phone_column].clone(),
            None => self.consent_opts_out(fields)?.to_owned(),
        };
        let phone = self.phone(fields, phone_cell).ok()?;
        Some(RefusedOptOut {
            phone,
            source: opt_out_source(&header),
        })
    }

    /// The consent column's header, if its cell says the person opted out ("unsubscribed").
    fn consent_opts_out(&self, fields: &Fields<'_>) -> Option<&str> {
        let at = self.plan.consent?;
        let header = self.headers[at].as_str();
        let value = fields.get(at).trim();
        match consent_cell(value, header, None) {
            Ok(Some(consent)) if consent.status == ConsentStatus::Revoked => Some(header),
            _ => None,
        }
    }

    /// The first column of [`RowValidator::refusals`] saying no to texts (an opt-out word,
    /// "Unsubscribed", "Opted out"; or, in a column naming texts, a plain no), and whether it
    /// names texts.
    fn refused_texts(&self, fields: &Fields<'_>) -> Option<(&str, bool)> {
        let saying_no = |texts: bool| {
            self.refusals
                .iter()
                .filter(move |&&(_, names_texts)| names_texts == texts)
                .find(|&&(at, names_texts)| says_no_to_texts(fields.get(at).trim(), names_texts))
                .map(|&(at, names_texts)| (self.headers[at].as_str(), names_texts))
        };
        // A column of texts first: its no weighs more.
        saying_no(true).or_else(|| saying_no(false))
    }

    /// The header of the first opt-out column saying this row's person opted out.
    fn opted_out(&self, fields: &Fields<'_>) -> Option<&str> {
        self.plan
            .opt_outs
            .iter()
            .find(|&&at| self.opt_out_says(at, fields.get(at).trim()) == Some(true))
            .map(|&at| self.headers[at].as_str())
    }

    /// What opt-out column `at`'s cell says; `None` when a column whose header is also a
    /// common noun holds something no flag holds (a bare "Stop" column of bus stops).
    fn opt_out_says(&self, at: usize, value: &str) -> Option<bool> {
        if !names_something_else_too(&self.headers[at]) {
            return Some(opt_out_cell(value));
        }
        match value {
            "" => Some(false),
            _ if reads_as_flag(value) => Some(opt_out_cell(value)),
            _ => None,
        }
    }

    /// Why a row is refused whose opt-out column may be something else and holds no flag.
    fn unreadable_opt_out(&self, fields: &Fields<'_>) -> Option<String> {
        let at = *self
            .plan
            .opt_outs
            .iter()
            .find(|&&at| self.opt_out_says(at, fields.get(at).trim()).is_none())?;
        let header = &self.headers[at];
        Some(format!(
            "column `{header}` is read as an opt-out flag (yes, no, a date, STOP), but this \
             row's `{}` is none of those; if the column holds something else, map it as an \
             attribute (attr:{}={header}), or as skip={header}",
            fields.get(at).trim(),
            word_key(header),
        ))
    }
}

/// Where an opt-out was read, as a contact's consent and the do-not-contact list say it.
fn opt_out_source(header: &str) -> String {
    format!("import column {header}")
        .chars()
        .take(MAX_SOURCE_CHARS)
        .collect()
}

/// Whether a cell holds a phone number and nothing else: seven digits or more, and only the
/// punctuation numbers are written with.
fn looks_like_a_number(cell: &str) -> bool {
    let cell = cell.trim();
    cell.bytes().filter(u8::is_ascii_digit).count() >= 7
        && cell
            .bytes()
            .all(|b| b.is_ascii_digit() || b" +-.()/".contains(&b))
}

/// Whether a kind of number (Google's `Phone N - Type`) is a fax's or a pager's.
fn is_no_mobile(kind: &str) -> bool {
    kind.contains("fax") || kind.contains("pager")
}

/// A tag without what exports wrap it in: Mailchimp quotes each (`"VIP","Customer"`), Google
/// Contacts marks its own groups with `* ` (`* myContacts ::: VIP`).
fn tag_as_written(tag: &str) -> &str {
    let tag = tag.trim();
    let tag = tag
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .unwrap_or(tag)
        .trim();
    tag.strip_prefix("* ").unwrap_or(tag).trim()
}

/// The region a country cell names: a two- or three-letter code, a name in English ("United
/// Kingdom", "Germany") or in the country's language ("Deutschland"), or a calling code
/// (`44`, `+1`).
fn country_region(value: &str) -> Option<Region> {
    let value = value.strip_prefix('\'').unwrap_or(value).trim();
    if value.contains('/') {
        // "N/A", not Namibia.
        return None;
    }
    // `0044` as dialled from Europe; `044` stays ISO's (the Bahamas).
    let dialled = value
        .strip_prefix("00")
        .filter(|rest| (1..=3).contains(&rest.len()) && !rest.starts_with('0'));
    let digits = dialled.or(value.strip_prefix('+')).unwrap_or(value);
    if !digits.is_empty() && digits.len() <= 3 && digits.bytes().all(|b| b.is_ascii_digit()) {
        if digits.starts_with('0') {
            // No calling code starts with 0: ISO 3166's numeric code (`036`, Australia).
            let country = celes::Country::from_code(digits).ok()?;
            return country.alpha2.parse().ok();
        }
        let code: u16 = digits.parse().ok()?;
        let regions = phonenumber::metadata::DATABASE.by_code(&code)?;
        let main = regions
            .iter()
            .find(|m| m.is_main_country_for_code())
            .or(regions.first())?;
        return main.id().parse().ok();
    }
    let key = word_key(value);
    if key == "uk" {
        return "GB".parse().ok();
    }
    match <celes::Country as std::str::FromStr>::from_str(&key)
        .or_else(|_| celes::Country::from_alias(&key))
    {
        Ok(country) => country.alpha2.parse().ok(),
        // In its own language: "Deutschland", "Österreich", "México".
        Err(_) => crate::phone::country_by_name(&crate::phone::folded(&key))
            // ISO's short names: "Tanzania, United Republic of", "Korea, Republic of" (not
            // North Korea's "..., Democratic People's Republic of").
            .or_else(|| {
                let (name, rest) = value.split_once(',')?;
                let rest = rest.to_lowercase();
                (rest.contains("republic") && !rest.contains("democratic"))
                    .then(|| country_region(name))
                    .flatten()
            }),
    }
}

/// Whether a country cell says no country: a placeholder (`-`, `N/A`, `unknown`, `other`).
fn says_no_country(value: &str) -> bool {
    matches!(
        word_key(value).as_str(),
        "" | "na" | "none" | "null" | "nil" | "unknown" | "other" | "others" | "tbd" | "xx"
    )
}

/// Whether the number carries its own country code: written with `+` or `00`, or read as
/// another country's than the import's.
fn own_country_code(cell: &str, ours: &Result<PhoneE164, String>, region: Region) -> bool {
    let cell = cell.trim_start().trim_start_matches(['\'', '(']);
    cell.starts_with('+')
        || cell.starts_with("00")
        || ours.as_ref().is_ok_and(|phone| {
            !phone
                .as_str()
                .starts_with(&format!("+{}", region.calling_code()))
        })
}

/// A country column's cells read as regions, remembered: a file names a few countries
/// over and over. `None` for what is no country this import knows ("Narnia", "-"): a number
/// without its country code is then refused (a placeholder reads it for the import's region).
#[derive(Default)]
struct Countries {
    known: std::collections::HashMap<String, Option<Region>>,
}

impl Countries {
    /// A file with more distinct cells than this is not a column of countries.
    const REMEMBERED: usize = 1024;

    fn region(&mut self, cell: &str) -> Option<Region> {
        if let Some(known) = self.known.get(cell) {
            return *known;
        }
        let region = country_region(cell);
        // A long cell names no country: kept, 1,024 of them would hold megabytes.
        if self.known.len() < Self::REMEMBERED && cell.len() <= 64 {
            self.known.insert(cell.to_owned(), region);
        }
        region
    }
}

/// A number Excel was told to keep as text (`'07102`, `'+1 555 0100`: Shopify writes zip codes
/// and ids so), without the `'`. Other text starting with `'` is kept as written.
fn without_text_prefix(value: &str) -> &str {
    match value.strip_prefix('\'') {
        Some(number)
            if number.starts_with(|c: char| c.is_ascii_digit() || c == '+')
                && number.chars().all(|c| {
                    c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '.' | '(' | ')')
                }) =>
        {
            number
        }
        _ => value,
    }
}

/// The attribute keeping a phone cell's further numbers (Google Contacts' ` ::: ` lists).
pub const OTHER_PHONES: &str = "other_phones";
/// A row's first and last names, and the title its full name starts with.
type Names<'f> = (Option<String>, Option<String>, Option<&'f str>);

/// The attribute keeping the title a full name starts with (`Mr.`, `Dr.`, `Frau`).
pub const TITLE: &str = "name_title";
/// The attribute keeping an email cell's further addresses.
pub const OTHER_EMAILS: &str = "other_emails";
/// The attribute keeping an Exchange address (`/o=ExchangeLabs/...`), which Outlook exports in
/// the email column of colleagues' contacts: not an email address, but not to be lost.
pub const EXCHANGE_ADDRESS: &str = "exchange_address";

/// Adds `values` (the empty ones left out) to the attribute `name`, after what a column of
/// that name holds, comma-separated.
fn keep_besides<'a>(
    attributes: &mut BTreeMap<String, String>,
    name: &str,
    values: impl Iterator<Item = &'a str>,
) -> Result<(), ValidationError> {
    let values: Vec<&str> = values.filter(|v| !v.is_empty()).collect();
    if values.is_empty() {
        return Ok(());
    }
    let values = values.join(", ");
    let kept = attributes
        .entry(name.to_owned())
        .and_modify(|v: &mut String| *v = format!("{v}, {values}"))
        .or_insert(values);
    validate_attribute_value(name, kept)
}

/// An email cell's addresses as exports write them.
#[derive(Default)]
struct Emails<'a> {
    /// The contact's email.
    first: Option<&'a str>,
    others: Vec<&'a str>,
    exchange: Option<&'a str>,
}

/// Reads an email cell: Google Contacts' ` ::: ` lists and `;` or `,` lists (the first address
/// is the contact's, the others are kept), `Name <address>`, `mailto:` links, Outlook's
/// Exchange addresses.
fn emails_as_written(cell: &str) -> Emails<'_> {
    // Most cells: one plain address.
    if !cell
        .bytes()
        .any(|b| matches!(b, b':' | b';' | b',' | b'<' | b'/'))
    {
        return Emails {
            first: Some(cell),
            ..Emails::default()
        };
    }
    if cell.starts_with("/o=") || cell.starts_with("/O=") {
        return Emails {
            exchange: Some(cell),
            ..Emails::default()
        };
    }
    let mut addresses = split_addresses(cell)
        .into_iter()
        .map(address_as_written)
        .filter(|a| !a.is_empty());
    Emails {
        first: addresses.next(),
        others: addresses.collect(),
        exchange: None,
    }
}

/// An email cell's parts: split at ` ::: `, `;` and `,`, but not inside quotes or `<...>`
/// (`"Lovelace, Ada" <ada@example.com>, Bob <bob@example.com>`).
fn split_addresses(cell: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    for list in cell.split(":::") {
        let (mut start, mut quoted, mut angled) = (0, false, false);
        for (at, c) in list.char_indices() {
            match c {
                '"' => quoted = !quoted,
                '<' if !quoted => angled = true,
                '>' if !quoted => angled = false,
                ',' | ';' if !quoted && !angled => {
                    parts.push(&list[start..at]);
                    start = at + 1;
                }
                _ => {}
            }
        }
        parts.push(&list[start..]);
    }
    parts
}

/// `Ada Lovelace <ada@example.com>` and `mailto:ada@example.com` -> `ada@example.com`.
fn address_as_written(part: &str) -> &str {
    let part = part.trim();
    let part = match (part.rfind('<'), part.strip_suffix('>')) {
        (Some(open), Some(_)) => &part[open + 1..part.len() - 1],
        _ => part,
    };
    let part = part.trim();
    match part.get(..7) {
        // Without a link's `?subject=...`.
        Some(scheme) if scheme.eq_ignore_ascii_case("mailto:") => {
            let address = &part[7..];
            address.split_once('?').map_or(address, |(a, _)| a).trim()
        }
        _ => part,
    }
}

/// Whether a phone cell reads as two or more numbers (`a / b`, `a or b`, `a; b`): each part
/// has enough digits to be a number of its own.
fn several_numbers(cell: &str) -> bool {
    let digits = |part: &str| part.chars().filter(char::is_ascii_digit).count();
    let parts = cell
        .split(['/', ';', ',', '&', '|'])
        .flat_map(|p| p.split(" or "))
        .filter(|p| digits(p) >= 7)
        .count();
    let words = cell.split_whitespace().filter(|w| digits(w) >= 7).count();
    parts >= 2 || words >= 2
}

/// What exports write in an empty email cell: read as no email rather than a malformed one.
fn is_placeholder(value: &str) -> bool {
    // Every address has an `@` and no placeholder does: most cells stop here, unallocated.
    if value.len() > 16 || value.contains('@') {
        return false;
    }
    let key: String = value
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    matches!(
        key.as_str(),
        "" | "na" | "none" | "null" | "nil" | "unknown" | "noemail" | "notprovided"
    )
}

fn reason(e: ValidationError) -> String {
    format!("{} {}", e.field, e.reason)
}
