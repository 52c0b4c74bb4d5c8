//! One CSV record to a validated row, with the domain's field rules.

use std::collections::BTreeMap;

use smscrm_domain::ValidationError;
use smscrm_domain::contact::{
    ConsentInput, ConsentStatus, MAX_ATTRIBUTES, MAX_SOURCE_CHARS, clean_email, clean_name,
    clean_tags, validate_attribute_value,
};

use crate::mapping::Plan;
use crate::phone::PhoneReader;
use crate::records::Fields;
use crate::seen::Seen;
use crate::{ImportRow, RowOutcome};

pub(crate) struct RowValidator {
    plan: Plan,
    headers: Vec<String>,
    phones: PhoneReader,
    declaration: Option<ConsentInput>,
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
        Self {
            plan,
            headers,
            phones,
            declaration,
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
            Err(reason) => RowOutcome::Invalid { row, reason },
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
        let plan = &self.plan;
        // Extra cells past the header are usually an unquoted delimiter inside a value
        // ("Smith, John"), which shifts every later column: refuse rather than misread.
        if let Some((at, extra)) = fields
            .iter()
            .enumerate()
            .skip(self.headers.len())
            .find(|(_, f)| !f.trim().is_empty())
        {
            return Err(format!(
                "row has more cells than the header has columns ({} or more, cell {} is \
                 `{}`); quote values that contain the delimiter",
                at + 1,
                at + 1,
                extra.trim()
            ));
        }
        let phone = self.phones.read(fields.get(plan.phone))?;
        let cell = |at: Option<usize>| {
            at.map(|at| fields.get(at).trim())
                .filter(|value| !value.is_empty())
        };
        let (first, last) = match cell(plan.name) {
            Some(full) => match full.rsplit_once(char::is_whitespace) {
                Some((first, last)) => (Some(first.trim()), Some(last)),
                None => (Some(full), None),
            },
            None => (cell(plan.first_name), cell(plan.last_name)),
        };
        let first_name = clean_name("first_name", first.map(str::to_owned)).map_err(reason)?;
        let last_name = clean_name("last_name", last.map(str::to_owned)).map_err(reason)?;
        let email = clean_email(cell(plan.email).map(str::to_owned)).map_err(reason)?;
        let tags = match cell(plan.tags) {
            Some(tags) => clean_tags(
                tags.split([',', ';', '|'])
                    .map(str::trim)
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
            validate_attribute_value(name, value).map_err(reason)?;
            attributes.insert(name.clone(), value.to_owned());
        }
        if attributes.len() > MAX_ATTRIBUTES {
            return Err(format!(
                "row has more than {MAX_ATTRIBUTES} non-empty custom columns"
            ));
        }
        let consent = match plan.consent.map(|at| (at, fields.get(at).trim())) {
            Some((at, value)) if !value.is_empty() => consent_cell(value, &self.headers[at])?,
            _ => self.declaration.clone(),
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

fn reason(e: ValidationError) -> String {
    format!("{} {}", e.field, e.reason)
}

/// A consent cell. Granting words give explicit consent sourced to the column; a plain "no"
/// is `Unknown`: no consent (a new contact's stays unknown, an existing contact's consent is
/// withdrawn), but not an opt-out, since not having ticked a box is not one; opt-out words
/// record a revocation. How each meets a contact's consent is `ContactMerge`'s rule. Anything
/// else makes the row invalid rather than guess about consent.
fn consent_cell(value: &str, header: &str) -> Result<Option<ConsentInput>, String> {
    let key: String = value
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect();
    let status = match key.as_str() {
        "yes" | "y" | "true" | "1" | "x" | "optedin" | "optin" | "subscribed" | "granted"
        | "agreed" | "consented" => ConsentStatus::Explicit,
        "no" | "n" | "false" | "0" | "notsubscribed" | "none" | "unknown" => ConsentStatus::Unknown,
        "unsubscribed" | "optedout" | "optout" | "revoked" | "stop" | "withdrawn" => {
            ConsentStatus::Revoked
        }
        _ => {
            return Err(format!(
                "consent `{value}` is not understood: use yes or no (or unsubscribed to record \
                 an opt-out)"
            ));
        }
    };
    let source: String = format!("import column {header}")
        .chars()
        .take(MAX_SOURCE_CHARS)
        .collect();
    Ok(Some(ConsentInput {
        status,
        source: Some(source),
    }))
}
