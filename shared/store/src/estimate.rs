//! `estimate`: who a campaign would message now, who it would skip and why, and what it would
//! cost, by walking the tenant's contacts once through the same [`Screen`] the dispatcher uses.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;
use smscrm_domain::campaign::Audience;
use smscrm_domain::gates::{Screen, Skip, country_of};
use smscrm_domain::ports::table::MAX_QUERY_LIMIT;
use smscrm_domain::segments::Encoding;
use smscrm_domain::tenant::SegmentPrices;
use smscrm_domain::{Contact, PhoneE164, TenantId};

use crate::{Contacts, DoNotContact, RepoError};

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Estimate {
    /// Contacts the audience's conditions select.
    pub audience: u64,
    /// Of those, the ones a message would be made for.
    pub recipients: u64,
    /// Of the audience, how many each gate would skip, by reason.
    pub skipped: BTreeMap<&'static str, u64>,
    pub segments: u64,
    /// Recipients whose message would be UCS-2 (a character outside GSM-7).
    pub ucs2_recipients: u64,
    pub cost_millicents: u64,
    /// Recipients by country (ISO code; `unknown` when the number has none).
    pub countries: BTreeMap<String, u64>,
}

impl Estimate {
    fn skip(&mut self, skip: &Skip) {
        *self.skipped.entry(skip.reason()).or_default() += 1;
    }
}

impl Contacts {
    /// Every contact the audience selects, screened as a first message (the footer policy may
    /// add the opt-out footer to first messages; a contact's history is not known yet).
    pub async fn estimate(
        &self,
        tenant: &TenantId,
        audience: &Audience,
        screen: &Screen<'_>,
        prices: &SegmentPrices,
    ) -> Result<Estimate, RepoError> {
        let dnc = DoNotContact::new(self.table.clone());
        let check_dnc = dnc.any(tenant).await?;
        let mut estimate = Estimate::default();
        let mut cursor = None;
        loop {
            let page = self.list(tenant, cursor, MAX_QUERY_LIMIT).await?;
            let selected: Vec<&Contact> =
                page.items.iter().filter(|c| audience.includes(c)).collect();
            let suppressed = if check_dnc {
                let phones: Vec<&PhoneE164> = selected.iter().map(|c| &c.phone).collect();
                dnc.which(tenant, &phones).await?
            } else {
                HashSet::new()
            };
            for contact in selected {
                estimate.audience += 1;
                match screen.check(contact, suppressed.contains(&contact.phone), true) {
                    Err(skip) => estimate.skip(&skip),
                    Ok(message) => {
                        let country = country_of(&contact.phone);
                        let segments = message.count.segments as u64;
                        estimate.recipients += 1;
                        estimate.segments += segments;
                        estimate.ucs2_recipients +=
                            u64::from(message.count.encoding == Encoding::Ucs2);
                        estimate.cost_millicents +=
                            segments * prices.for_country(country.as_deref());
                        *estimate
                            .countries
                            .entry(country.unwrap_or_else(|| "unknown".into()))
                            .or_default() += 1;
                    }
                }
            }
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(estimate),
            }
        }
    }
}
