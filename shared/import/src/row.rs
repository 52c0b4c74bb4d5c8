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
use crate::{ImportRow, RefusedOptOut, RowOutcome};

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
        let phone = self.phone(fields, phone_cell)?;
        let plan = &self.plan;
        let cell = |at: Option<usize>| {
            at.map(|at| fields.get(at).trim())
                .filter(|value| !value.is_empty())
        };
        let (first, last) = match cell(plan.name) {
            Some(full) => {
                let (first, last) = split_full_name(full);
                (Some(first), last)
            }
            None => (
                cell(plan.first_name).map(str::to_owned),
                cell(plan.last_name).map(str::to_owned),
            ),
        };
        let first_name = clean_name("first_name", first).map_err(reason)?;
        let last_name = clean_name("last_name", last).map_err(reason)?;
        let emails = cell(plan.email)
            .filter(|e| !is_placeholder(e))
            .map(emails_as_written)
            .unwrap_or_default();
        let email = clean_email(emails.first.map(str::to_owned)).map_err(reason)?;
        let tags = match cell(plan.tags) {
            // A line break too: Excel's Alt+Enter lists.
            Some(tags) => clean_tags(
                tags.split(":::")
                    .flat_map(|part| part.split([',', ';', '|', '\n', '\r']))
                    .map(tag_as_written)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect(),
            )
            .map_err(reason)?,
            None => Vec::new(),
        };
        let mut attributes = BTreeMap::new();
        for (at, name) in &plan.attributes {
            // Kept as written (formulas too: `=1+1` is text here), only trimmed.
            let Some(value) = cell(Some(*at)) else {
                continue;
            };
            let value = without_text_prefix(value);
            validate_attribute_value(name, value).map_err(reason)?;
            attributes.insert(name.clone(), value.to_owned());
        }
        if let Some(others) = other_phones {
            let others = others.split(":::").map(str::trim);
            keep_besides(&mut attributes, OTHER_PHONES, others).map_err(reason)?;
        }
        keep_besides(&mut attributes, OTHER_EMAILS, emails.others.into_iter()).map_err(reason)?;
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
        let (consent, declared) = match plan.consent.map(|at| (at, fields.get(at).trim())) {
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
        let consent = match opted_out {
            Some(header) => Some(ConsentInput {
                status: ConsentStatus::Revoked,
                source: Some(opt_out_source(header)),
            }),
            None => consent,
        };
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
            "" => plan
                .phone_fallbacks
                .iter()
                .copied()
                .find(|&at| !fields.get(at).trim().is_empty())
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

    /// The row's number, read for the import's region or the row's country.
    fn phone(&mut self, fields: &Fields<'_>, phone_cell: &str) -> Result<PhoneE164, String> {
        let plan = &self.plan;
        let country = plan
            .country
            .map(|at| fields.get(at).trim())
            .filter(|value| !value.is_empty())
            .and_then(|value| self.countries.region(value))
            .filter(|&region| region != self.phones.region());
        let ours = self.phones.read(phone_cell);
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

/// Whether an opt-out column's header is also a common noun: a bare "Stop" is a bus stop's or
/// a route's as often as a STOP received.
fn names_something_else_too(header: &str) -> bool {
    word_key(header) == "stop"
}

/// Whether a cell holds what an opt-out flag does: a yes or a no, a tick or a cross, an
/// opt-out word, a date or a time.
fn reads_as_flag(value: &str) -> bool {
    let key = word_key(value);
    yes_or_no(&key).is_some()
        || TICKS_AND_CROSSES.contains(&value)
        || OPT_OUT_WORDS.iter().any(|w| key.contains(w))
        || [
            "",
            "stop",
            "none",
            "unchecked",
            "checked",
            "na",
            "null",
            "unknown",
            "optin",
            "optedin",
        ]
        .contains(&key.as_str())
        || looks_like_a_time(value)
}

/// `2024-03-01`, `03/01/2024 14:05`, `1 Mar 2024`, `2024-03-01T14:05:00Z`: digits (four or
/// more) with separators, and no word but a month's, a weekday's or a clock's.
fn looks_like_a_time(value: &str) -> bool {
    const WORDS: [&str; 30] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
        "mon", "tue", "wed", "thu", "fri", "sat", "sun", "am", "pm", "t", "z", "utc", "gmt", "st",
        "nd", "rd", "th",
    ];
    let digits = value.chars().filter(char::is_ascii_digit).count();
    digits >= 4
        && value
            .split(|c: char| !c.is_alphabetic())
            .filter(|w| !w.is_empty())
            .all(|w| {
                let w = w.to_lowercase();
                WORDS
                    .iter()
                    .any(|m| w.starts_with(m) && (w.len() <= 3 || m.len() >= 3))
            })
}

/// Where an opt-out was read, as a contact's consent and the do-not-contact list say it.
fn opt_out_source(header: &str) -> String {
    format!("import column {header}")
        .chars()
        .take(MAX_SOURCE_CHARS)
        .collect()
}

/// The marks spreadsheets and forms fill boxes with.
const TICKS_AND_CROSSES: [&str; 9] = [
    "\u{2713}", "\u{2714}", "\u{2611}", "\u{2612}", "\u{2705}", "\u{2717}", "\u{2718}", "\u{274c}",
    "\u{2610}",
];

/// Whether an opt-out cell says the person opted out: yes-words do, no-words, placeholders
/// and an empty cell do not, and anything else does (a time, a reason, "Yes - replied
/// STOP"): an opt-out column is read erring towards not messaging.
fn opt_out_cell(value: &str) -> bool {
    if value.is_empty() {
        return false;
    }
    // A tick or a ticked box is a yes; a cross (beside ticks) and an empty box a no.
    match value {
        "\u{2713}" | "\u{2714}" | "\u{2611}" | "\u{2612}" | "\u{2705}" => return true,
        "\u{2717}" | "\u{2718}" | "\u{274c}" | "\u{2610}" => return false,
        _ => {}
    }
    let key = word_key(value);
    if let Some(yes) = yes_or_no(&key) {
        return yes;
    }
    !matches!(
        key.as_str(),
        "" | "none"
            | "unchecked"
            | "na"
            | "null"
            | "nil"
            | "unknown"
            | "subscribed"
            | "optedin"
            | "optin"
            | "active"
            | "notoptedout"
            | "off"
            | "disabled"
            | "inactive"
            | "notset"
            | "clean"
    )
}

/// What a cell saying the person opted out holds ("Unsubscribed", "No - opted out", "SMS
/// blocked", "Stopped", "Do not text"), as `word_key` writes them.
const OPT_OUT_WORDS: [&str; 11] = [
    "unsub",
    "optedout",
    "optout",
    "revoked",
    "blocked",
    "blacklist",
    "blocklist",
    "suppress",
    "stopped",
    "abgemeldet",
    "donot",
];

/// Whether a kind of number (Google's `Phone N - Type`) is a fax's or a pager's.
fn is_no_mobile(kind: &str) -> bool {
    kind.contains("fax") || kind.contains("pager")
}

/// Whether a cell of a column that may refuse texts does: "Unsubscribed", "Opted out",
/// "SMS blocked", "Stopped" (not "Not unsubscribed"), and where the column names texts, "No",
/// "Declined", "Never subscribed".
fn says_no_to_texts(value: &str, names_texts: bool) -> bool {
    let words = value
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .count();
    // An answer, not a sentence ("Reply STOP to unsubscribe", "No answer, call back").
    if words == 0 || words > 3 {
        return false;
    }
    let key = word_key(value);
    // "Do Not Email", "Unsubscribed (email)": another channel's.
    let texts = ["sms", "text"].iter().any(|w| key.contains(w));
    if !texts
        && ["email", "mail", "call", "whatsapp", "post"]
            .iter()
            .any(|w| key.contains(w))
    {
        return false;
    }
    let negated = matches!(first_word(value).as_str(), "not" | "never");
    let opts_out = OPT_OUT_WORDS.iter().any(|w| key.contains(w));
    if opts_out {
        return !negated;
    }
    // A plain no, in words ("0" may as well be a count).
    names_texts
        && key != "0"
        && (yes_or_no(&key) == Some(false)
            || matches!(
                key.as_str(),
                "declined"
                    | "denied"
                    | "refused"
                    | "nothanks"
                    | "neversubscribed"
                    | "notsubscribed"
                    | "nonsubscribed"
                    | "notoptedin"
            ))
}

/// A form's answer in words: "I agree", "Yes please", "Yes - SMS & Email", "I do not
/// agree"; a sentence ("I agree to receive text messages from ...") only where the column
/// asks the question (a form's check box holds its label when ticked): elsewhere it may be
/// the wording people were shown, which says nothing of whether they agreed.
fn form_answer(value: &str, first_word: &str, header: &str) -> Option<ConsentStatus> {
    if !matches!(first_word, "yes" | "agreed" | "agree" | "i") {
        return None;
    }
    let words: Vec<String> = value
        .split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '\u{2019}')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    if words.len() > 4 && !crate::mapping::is_consent_question(header) {
        return None;
    }
    // "Yes - Email only" answers for another channel.
    let any = |set: &[&str]| words.iter().any(|w| set.contains(&w.as_str()));
    if any(&[
        "email", "mail", "call", "calls", "phone", "whatsapp", "post",
    ]) && !any(&["sms", "text", "texts", "texting"])
    {
        return None;
    }
    let opening = &words[..words.len().min(4)];
    let has = |set: &[&str]| opening.iter().any(|w| set.contains(&w.as_str()));
    let negated = has(&[
        "not",
        "don't",
        "don\u{2019}t",
        "dont",
        "never",
        "no",
        "nicht",
    ]);
    let agrees =
        first_word != "i" || has(&["agree", "consent", "accept", "want", "would", "authorize"]);
    match (agrees, negated) {
        (true, false) => Some(ConsentStatus::Explicit),
        (_, true) if first_word == "i" => Some(ConsentStatus::Unknown),
        _ => None,
    }
}

fn not_understood(value: &str) -> String {
    format!(
        "consent `{value}` is not understood: use yes or no (or unsubscribed to record an \
         opt-out; explicit, implied, revoked and unknown as this product exports them)"
    )
}

/// A cell's first word, lowercased: "No - unsubscribed" -> `no`.
fn first_word(value: &str) -> String {
    value
        .split(|c: char| !c.is_alphanumeric())
        .find(|w| !w.is_empty())
        .map(str::to_lowercase)
        .unwrap_or_default()
}

/// A cell's letters and digits, lowercased: `Opted-Out` -> `optedout`.
fn word_key(value: &str) -> String {
    value
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Yes and no as spreadsheets and people write them, in English, German, French and Spanish
/// (Excel in German writes WAHR and FALSCH for TRUE and FALSE, in French VRAI and FAUX).
fn yes_or_no(key: &str) -> Option<bool> {
    match key {
        "yes" | "y" | "true" | "1" | "x" | "ja" | "j" | "wahr" | "oui" | "vrai" | "si" | "sí" => {
            Some(true)
        }
        "no" | "n" | "false" | "0" | "nein" | "falsch" | "non" | "faux" => Some(false),
        _ => None,
    }
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
    let digits = value.strip_prefix('+').unwrap_or(value);
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
        Err(_) => crate::phone::country_by_name(&crate::phone::folded(&key)),
    }
}

/// A country column's cells read as regions, remembered: a file names a few countries
/// over and over. `None` for what is no country this import knows ("Narnia", "-",
/// "Nordland"): the import's region reads that row's number, as without the column.
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
        if self.known.len() < Self::REMEMBERED {
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

/// A consent cell. Granting words give explicit consent sourced to the column ("implied",
/// as this product's own contact status reads, gives implied consent); a plain "no" is
/// `Unknown`: no consent (a new contact's stays unknown, an existing contact's consent is
/// withdrawn), but not an opt-out, since not having ticked a box is not one; opt-out words
/// record a revocation; a grant's source names the import's declared source too, when it has
/// one; "unknown", "none" and what mailing tools write for a subscription that is not settled
/// (Mailchimp's "pending", an unconfirmed opt-in, and "cleaned", a bounced address) say
/// nothing (consent stays as it is, and the import's declaration does not apply). How each
/// meets a contact's consent is `ContactMerge`'s rule. Anything else makes the row invalid
/// rather than guess about consent.
fn consent_cell(
    value: &str,
    header: &str,
    declared: Option<&str>,
) -> Result<Option<ConsentInput>, String> {
    let key = word_key(value);
    // The first word, for answers put in a few words: "No - unsubscribed", "Not opted in".
    let first_word = first_word(value);
    let negated = matches!(first_word.as_str(), "not" | "never");
    // A sentence (the consent wording, "Reply STOP to opt out") is not an answer.
    let short = value.split_whitespace().count() <= 3;
    let says_opt_out = OPT_OUT_WORDS.iter().any(|w| key.contains(w));
    // Check marks have no letters to read.
    match value.trim() {
        "\u{2713}" | "\u{2714}" | "\u{2611}" | "\u{2705}" => {
            return consent_cell("yes", header, declared);
        }
        "\u{2717}" | "\u{2718}" | "\u{2610}" | "\u{274c}" => {
            return consent_cell("no", header, declared);
        }
        _ => {}
    }
    let status = match key.as_str() {
        // Says nothing either way: leaves consent as it is (bounced, cleaned: an email's).
        "" | "na" | "null" | "none" | "unknown" | "pending" | "cleaned" | "bounced" => {
            return Ok(None);
        }
        // A message's delivery, in a status column: nothing about consent.
        "delivered" | "undelivered" | "failed" | "sent" | "queued" | "sending" => return Ok(None),
        yes if yes_or_no(yes) == Some(true) => ConsentStatus::Explicit,
        no if yes_or_no(no) == Some(false) => ConsentStatus::Unknown,
        "optedin" | "optin" | "subscribed" | "granted" | "agreed" | "consented" | "explicit"
        | "confirmed" | "doubleoptin" | "singleoptin" | "checked" | "on" | "ok" | "okay"
        | "sim" | "iagree" | "agree" | "accepted" | "iaccept" | "iconsent" => {
            ConsentStatus::Explicit
        }
        // Airtable's and forms' empty boxes, and Portuguese.
        "unchecked" | "off" | "nao" | "não" => ConsentStatus::Unknown,
        // Constant Contact's "Implicit" permission.
        "implied" | "implicit" => ConsentStatus::Implied,
        "unsubscribed" | "optedout" | "optout" | "revoked" | "stop" | "stopped" | "withdrawn" => {
            ConsentStatus::Revoked
        }
        // An opt-out however it is put ("No - unsubscribed", "Unsubscribed (STOP)").
        _ if short && says_opt_out && !negated => ConsentStatus::Revoked,
        // "Not opted out", "never unsubscribed": no opt-out, but no consent either.
        _ if short && says_opt_out => return Ok(None),
        _ if let Some(status) = form_answer(value, &first_word, header) => status,
        // Klaviyo's NEVER_SUBSCRIBED, "not opted in", "declined".
        _ if short
            && matches!(
                first_word.as_str(),
                "no" | "not"
                    | "never"
                    | "non"
                    | "declined"
                    | "denied"
                    | "refused"
                    | "nicht"
                    | "kein"
                    | "keine"
                    | "neversubscribed"
                    | "nonsubscribed"
                    | "notsubscribed"
            ) =>
        {
            ConsentStatus::Unknown
        }
        _ => return Err(not_understood(value)),
    };
    // A grant keeps where the import says consent was given, as well as the column.
    let source = match declared {
        Some(declared) if status.allows_marketing() => {
            format!("{declared} (import column {header})")
        }
        _ => format!("import column {header}"),
    };
    let source: String = source.chars().take(MAX_SOURCE_CHARS).collect();
    Ok(Some(ConsentInput {
        status,
        source: Some(source),
    }))
}
