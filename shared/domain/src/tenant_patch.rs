//! A tenant's profile and settings as a client changes them (`PATCH /v1/tenant`): every field
//! optional, each one whole (a `budget` replaces both caps), each checked, and the names of the
//! fields that changed for the audit log.

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::keywords::{KeywordSettings, MAX_HELP_TEXT_CHARS};
use crate::quiet_hours::QuietHours;
use crate::template::{FooterPolicy, OptOutFooter};
use crate::tenant::{
    Budget, SegmentPrices, Tenant, validate_name, validate_retention_days, validate_timezone,
};
use crate::{PhoneE164, ValidationError};

/// The most segments a second a sender may be given (Twilio's short codes start at 100).
pub const MAX_SENDER_RATE: u32 = 1_000;
/// The most a segment may be priced at: $10, in millicents.
pub const MAX_SEGMENT_PRICE: u64 = 1_000_000;
pub const MAX_FOOTER_CHARS: usize = 100;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantPatch {
    pub name: Option<String>,
    pub timezone: Option<String>,
    /// ISO country code numbers without a `+` are read in.
    pub default_region: Option<String>,
    pub quiet_hours: Option<QuietHours>,
    pub budget: Option<Budget>,
    pub segment_prices: Option<SegmentPrices>,
    pub opt_out_footer: Option<OptOutFooter>,
    /// Segments per second by sender (a number or a Messaging Service SID); the whole map.
    pub sender_rates: Option<BTreeMap<String, u32>>,
    pub keywords: Option<KeywordSettings>,
    pub message_retention_days: Option<u32>,
}

impl TenantPatch {
    /// The tenant as the patch leaves it, or the first field that is not acceptable.
    pub fn apply(self, tenant: &Tenant) -> Result<Tenant, ValidationError> {
        let mut next = tenant.clone();
        if let Some(name) = self.name {
            next.name = validate_name(&name)?;
        }
        if let Some(timezone) = self.timezone {
            next.timezone = validate_timezone(&timezone)?;
        }
        if let Some(region) = self.default_region {
            next.default_region = region.trim().parse()?;
        }
        if let Some(hours) = self.quiet_hours {
            next.quiet_hours = hours;
        }
        if let Some(budget) = self.budget {
            next.budget = budget;
        }
        if let Some(prices) = self.segment_prices {
            next.segment_prices = checked_prices(prices)?;
        }
        if let Some(footer) = self.opt_out_footer {
            next.opt_out_footer = checked_footer(footer)?;
        }
        if let Some(rates) = self.sender_rates {
            next.sender_rates = checked_rates(rates)?;
        }
        if let Some(keywords) = self.keywords {
            next.keywords = checked_keywords(keywords)?;
        }
        if let Some(days) = self.message_retention_days {
            next.message_retention_days = validate_retention_days(days)?;
        }
        Ok(next)
    }
}

/// The fields `after` changed, by their names in the patch.
pub fn changed_fields(before: &Tenant, after: &Tenant) -> Vec<&'static str> {
    let (a, b) = (before.settings(), after.settings());
    [
        ("name", before.name != after.name),
        ("timezone", before.timezone != after.timezone),
        (
            "default_region",
            before.default_region != after.default_region,
        ),
        ("quiet_hours", a.quiet_hours != b.quiet_hours),
        ("budget", a.budget != b.budget),
        ("segment_prices", a.segment_prices != b.segment_prices),
        ("opt_out_footer", a.opt_out_footer != b.opt_out_footer),
        ("sender_rates", a.sender_rates != b.sender_rates),
        ("keywords", a.keywords != b.keywords),
        (
            "message_retention_days",
            a.message_retention_days != b.message_retention_days,
        ),
    ]
    .into_iter()
    .filter_map(|(name, changed)| changed.then_some(name))
    .collect()
}

fn price(field: String, millicents: u64) -> Result<u64, ValidationError> {
    if millicents > MAX_SEGMENT_PRICE {
        return Err(ValidationError::new(
            field,
            format!("at most {MAX_SEGMENT_PRICE} millicents ($10) a segment"),
        ));
    }
    Ok(millicents)
}

fn checked_prices(prices: SegmentPrices) -> Result<SegmentPrices, ValidationError> {
    let mut countries = BTreeMap::new();
    for (country, millicents) in prices.countries {
        let code = country.trim().to_ascii_uppercase();
        let field = format!("segment_prices.countries.{country}");
        if code.len() != 2 || !code.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(ValidationError::new(
                field,
                "not an ISO country code such as GB",
            ));
        }
        countries.insert(code, price(field, millicents)?);
    }
    Ok(SegmentPrices {
        default: price("segment_prices.default".into(), prices.default)?,
        countries,
    })
}

fn checked_footer(footer: OptOutFooter) -> Result<OptOutFooter, ValidationError> {
    let text = footer.text.trim();
    let length = text.chars().count();
    if footer.policy != FooterPolicy::Never && (length == 0 || length > MAX_FOOTER_CHARS) {
        return Err(ValidationError::new(
            "opt_out_footer.text",
            format!("1-{MAX_FOOTER_CHARS} characters, e.g. \"Reply STOP to opt out\""),
        ));
    }
    Ok(OptOutFooter {
        policy: footer.policy,
        text: text.to_owned(),
    })
}

fn is_messaging_service(sender: &str) -> bool {
    sender.len() == 34
        && sender.starts_with("MG")
        && sender[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

fn checked_rates(rates: BTreeMap<String, u32>) -> Result<BTreeMap<String, u32>, ValidationError> {
    let mut checked = BTreeMap::new();
    for (sender, rate) in rates {
        let field = format!("sender_rates.{sender}");
        let sender = sender.trim().to_owned();
        if PhoneE164::from_e164(&sender).is_err() && !is_messaging_service(&sender) {
            return Err(ValidationError::new(
                field,
                "a sender is an E.164 number (+14155550100) or a Messaging Service SID (MG...)",
            ));
        }
        if !(1..=MAX_SENDER_RATE).contains(&rate) {
            return Err(ValidationError::new(
                field,
                format!("1-{MAX_SENDER_RATE} segments a second"),
            ));
        }
        checked.insert(sender, rate);
    }
    Ok(checked)
}

fn checked_keywords(keywords: KeywordSettings) -> Result<KeywordSettings, ValidationError> {
    let help_text = keywords
        .help_text
        .map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty());
    if help_text
        .as_ref()
        .is_some_and(|text| text.chars().count() > MAX_HELP_TEXT_CHARS)
    {
        return Err(ValidationError::new(
            "keywords.help_text",
            format!("at most {MAX_HELP_TEXT_CHARS} characters"),
        ));
    }
    Ok(KeywordSettings {
        help_text,
        ..keywords
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant() -> Tenant {
        Tenant::new("Acme", "America/New_York", "US", chrono::Utc::now()).expect("tenant")
    }

    fn patch(json: serde_json::Value) -> Result<Tenant, ValidationError> {
        let patch: TenantPatch = serde_json::from_value(json).expect("a patch");
        patch.apply(&tenant())
    }

    fn field_of(json: serde_json::Value) -> String {
        patch(json).expect_err("refused").field
    }

    #[test]
    fn a_patch_changes_only_what_it_names() {
        let before = tenant();
        let after = serde_json::from_value::<TenantPatch>(serde_json::json!({
            "name": " Acme Bakery ", "timezone": "Europe/London", "default_region": "gb",
            "budget": {"daily_cap_cents": 500, "monthly_cap_cents": null},
            "sender_rates": {"+14155550100": 10, "MG0123456789abcdef0123456789abcdef": 50},
            "keywords": {"help_text": "  ", "twilio_confirms_opt_out": false},
        }))
        .expect("patch")
        .apply(&before)
        .expect("valid");
        assert_eq!(after.name, "Acme Bakery");
        assert_eq!(after.default_region.code(), "GB");
        assert_eq!(after.budget.daily_cap_cents, Some(500));
        assert_eq!(after.keywords.help_text, None);
        assert_eq!(after.quiet_hours, before.quiet_hours);
        assert_eq!(
            changed_fields(&before, &after),
            [
                "name",
                "timezone",
                "default_region",
                "budget",
                "sender_rates",
                "keywords"
            ]
        );
    }

    #[test]
    fn each_bad_field_is_named() {
        use serde_json::json;
        assert_eq!(field_of(json!({"name": ""})), "name");
        assert_eq!(field_of(json!({"name": "Acme\nBcc: x"})), "name");
        assert_eq!(field_of(json!({"timezone": "Mars/Olympus"})), "timezone");
        assert_eq!(field_of(json!({"default_region": "XX"})), "region");
        assert_eq!(
            field_of(json!({"sender_rates": {"555-0100": 10}})),
            "sender_rates.555-0100"
        );
        assert_eq!(
            field_of(json!({"sender_rates": {"+14155550100": 0}})),
            "sender_rates.+14155550100"
        );
        assert_eq!(
            field_of(json!({"segment_prices": {"default": 2000000}})),
            "segment_prices.default"
        );
        assert_eq!(
            field_of(json!({"segment_prices": {"default": 830, "countries": {"GBR": 4000}}})),
            "segment_prices.countries.GBR"
        );
        assert_eq!(
            field_of(json!({"opt_out_footer": {"policy": "always", "text": " "}})),
            "opt_out_footer.text"
        );
        let long = "x".repeat(MAX_HELP_TEXT_CHARS + 1);
        assert_eq!(
            field_of(json!({"keywords": {"help_text": long}})),
            "keywords.help_text"
        );
    }

    #[test]
    fn unknown_fields_are_refused() {
        let typo = serde_json::from_value::<TenantPatch>(serde_json::json!({"nmae": "x"}));
        assert!(typo.is_err());
    }
}
