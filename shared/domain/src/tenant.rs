//! Tenants: the businesses using smscrm. Everything stored belongs to exactly one.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::keywords::KeywordSettings;
use crate::quiet_hours::QuietHours;
use crate::template::OptOutFooter;
use crate::{Region, TenantId, ValidationError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tenant {
    pub id: TenantId,
    pub name: String,
    /// IANA time zone, e.g. `America/New_York`: the fallback for quiet hours and budget resets.
    pub timezone: String,
    /// Region used to read phone numbers written without a country code.
    pub default_region: Region,
    /// The kill switch: when set, nothing is sent for this tenant.
    pub paused: bool,
    /// Who set the kill switch, when and why (absent for a switch set before this was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pause: Option<PauseInfo>,
    /// Absent in tenants stored before footers existed: they get the default.
    #[serde(default)]
    pub opt_out_footer: OptOutFooter,
    #[serde(default)]
    pub segment_prices: SegmentPrices,
    #[serde(default)]
    pub budget: Budget,
    /// When messages may be delivered, in each recipient's local time.
    #[serde(default)]
    pub quiet_hours: QuietHours,
    /// Segments per second each sender (a From number or a Messaging Service SID) may send,
    /// where it differs from [`default_sender_rate`].
    #[serde(default)]
    pub sender_rates: BTreeMap<String, u32>,
    /// Answers to HELP, and whether Twilio confirms STOP and START itself.
    #[serde(default)]
    pub keywords: KeywordSettings,
    /// How long message bodies, delivery reports and replies are kept (the store's TTL).
    #[serde(default = "default_retention_days")]
    pub message_retention_days: u32,
    pub created_at: DateTime<Utc>,
}

/// A year: long enough to answer a complaint about last season's campaign.
pub const DEFAULT_RETENTION_DAYS: u32 = 365;
/// Shortest: a month, well past the longest a campaign's records are in use (its sending,
/// held records, late delivery reports), so nothing a sender relies on expires mid-campaign.
pub const MIN_RETENTION_DAYS: u32 = 30;
/// Longest: ten years.
pub const MAX_RETENTION_DAYS: u32 = 3_650;

pub fn default_retention_days() -> u32 {
    DEFAULT_RETENTION_DAYS
}

pub fn validate_retention_days(days: u32) -> Result<u32, ValidationError> {
    if (MIN_RETENTION_DAYS..=MAX_RETENTION_DAYS).contains(&days) {
        Ok(days)
    } else {
        Err(ValidationError::new(
            "message_retention_days",
            format!("between {MIN_RETENTION_DAYS} and {MAX_RETENTION_DAYS} days"),
        ))
    }
}

/// What a sender may send without a configured rate: Twilio's US toll-free default (3
/// segments a second) for +1 8xx toll-free numbers, a long code's 1 for everything else.
pub fn default_sender_rate(sender: &str) -> u32 {
    const TOLL_FREE: [&str; 7] = ["800", "833", "844", "855", "866", "877", "888"];
    match sender.strip_prefix("+1") {
        Some(rest) if rest.len() == 10 && TOLL_FREE.iter().any(|p| rest.starts_with(p)) => 3,
        _ => 1,
    }
}

impl Tenant {
    /// Segments per second `sender` may send.
    pub fn sender_rate(&self, sender: &str) -> u32 {
        self.sender_rates
            .get(sender)
            .copied()
            .unwrap_or_else(|| default_sender_rate(sender))
            .max(1)
    }
}

/// Why sending is stopped for a tenant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PauseInfo {
    pub reason: String,
    /// Who pulled the switch: `api_key:<id>`, `user:<email>`, `operator:<name>`.
    pub by: String,
    pub at: DateTime<Utc>,
}

/// The longest reason a pause may give.
pub const MAX_PAUSE_REASON_CHARS: usize = 500;

pub fn validate_pause_reason(reason: &str) -> Result<String, ValidationError> {
    let reason = reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_PAUSE_REASON_CHARS {
        return Err(ValidationError::new(
            "reason",
            format!("say why, in 1-{MAX_PAUSE_REASON_CHARS} characters"),
        ));
    }
    Ok(reason.to_owned())
}

/// Spending caps in cents; `None` is no cap. Days and months are the tenant's (its time zone).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    #[serde(default)]
    pub daily_cap_cents: Option<u64>,
    #[serde(default)]
    pub monthly_cap_cents: Option<u64>,
}

/// The settings campaigns' gates read, changed together.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantSettings {
    pub quiet_hours: QuietHours,
    pub budget: Budget,
    pub segment_prices: SegmentPrices,
    pub opt_out_footer: OptOutFooter,
    #[serde(default)]
    pub sender_rates: BTreeMap<String, u32>,
    #[serde(default)]
    pub keywords: KeywordSettings,
    #[serde(default = "default_retention_days")]
    pub message_retention_days: u32,
}

impl Tenant {
    /// When what is written about a message at `at` expires.
    pub fn message_expiry(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        at + chrono::Duration::days(i64::from(self.message_retention_days))
    }

    pub fn settings(&self) -> TenantSettings {
        TenantSettings {
            quiet_hours: self.quiet_hours,
            budget: self.budget,
            segment_prices: self.segment_prices.clone(),
            opt_out_footer: self.opt_out_footer.clone(),
            sender_rates: self.sender_rates.clone(),
            keywords: self.keywords.clone(),
            message_retention_days: self.message_retention_days,
        }
    }
}

/// What one segment costs the tenant, in millicents (thousandths of a cent: Twilio's US rate
/// of $0.0083 a segment is 830), by ISO country code, with a default for every other country.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentPrices {
    pub default: u64,
    #[serde(default)]
    pub countries: BTreeMap<String, u64>,
}

impl Default for SegmentPrices {
    fn default() -> Self {
        Self {
            default: 830,
            countries: BTreeMap::new(),
        }
    }
}

impl SegmentPrices {
    pub fn for_country(&self, country: Option<&str>) -> u64 {
        country
            .and_then(|c| self.countries.get(c))
            .copied()
            .unwrap_or(self.default)
    }
}

pub fn validate_name(name: &str) -> Result<String, ValidationError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ValidationError::new("name", "must be 1-200 characters"));
    }
    // It goes into email subjects and texts, one line.
    if name.chars().any(char::is_control) {
        return Err(ValidationError::new(
            "name",
            "must be one line, without control characters",
        ));
    }
    Ok(name.to_owned())
}

pub fn validate_timezone(tz: &str) -> Result<String, ValidationError> {
    tz.trim()
        .parse::<chrono_tz::Tz>()
        .map(|tz| tz.name().to_owned())
        .map_err(|_| {
            ValidationError::new(
                "timezone",
                format!("`{tz}` is not an IANA time zone such as America/New_York"),
            )
        })
}

impl Tenant {
    pub fn new(
        name: &str,
        timezone: &str,
        default_region: &str,
        now: DateTime<Utc>,
    ) -> Result<Self, ValidationError> {
        Ok(Self {
            id: TenantId::generate(),
            name: validate_name(name)?,
            timezone: validate_timezone(timezone)?,
            default_region: default_region.parse()?,
            paused: false,
            pause: None,
            opt_out_footer: OptOutFooter::default(),
            segment_prices: SegmentPrices::default(),
            budget: Budget::default(),
            quiet_hours: QuietHours::default(),
            sender_rates: BTreeMap::new(),
            keywords: KeywordSettings::default(),
            message_retention_days: DEFAULT_RETENTION_DAYS,
            created_at: now,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn senders_default_to_their_kind_of_numbers_rate() {
        let mut t = Tenant::new("A", "UTC", "US", Utc::now()).unwrap();
        assert_eq!(t.sender_rate("+18005550100"), 3);
        assert_eq!(t.sender_rate("+12125550100"), 1);
        assert_eq!(t.sender_rate("MG0123456789abcdef0123456789abcdef"), 1);
        t.sender_rates.insert("+12125550100".into(), 100);
        assert_eq!(t.sender_rate("+12125550100"), 100);
    }

    #[test]
    fn validates_each_field() {
        let now = Utc::now();
        let t = Tenant::new(" Acme ", "Europe/Paris", "fr", now).unwrap();
        assert_eq!(
            (
                t.name.as_str(),
                t.timezone.as_str(),
                t.default_region.code()
            ),
            ("Acme", "Europe/Paris", "FR")
        );
        assert_eq!(Tenant::new("", "UTC", "US", now).unwrap_err().field, "name");
        assert_eq!(
            Tenant::new("A", "Mars/Olympus", "US", now)
                .unwrap_err()
                .field,
            "timezone"
        );
        assert_eq!(
            Tenant::new("A", "UTC", "ZZ", now).unwrap_err().field,
            "region"
        );
    }
}
