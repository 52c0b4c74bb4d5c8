//! Tenants: the businesses using smscrm. Everything stored belongs to exactly one.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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
    pub created_at: DateTime<Utc>,
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
}

impl Tenant {
    pub fn settings(&self) -> TenantSettings {
        TenantSettings {
            quiet_hours: self.quiet_hours,
            budget: self.budget,
            segment_prices: self.segment_prices.clone(),
            opt_out_footer: self.opt_out_footer.clone(),
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
            opt_out_footer: OptOutFooter::default(),
            segment_prices: SegmentPrices::default(),
            budget: Budget::default(),
            quiet_hours: QuietHours::default(),
            created_at: now,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
