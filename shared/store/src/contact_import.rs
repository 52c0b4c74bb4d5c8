//! Bulk upsert of imported rows, a batch at a time.
//!
//! Per batch: one batch_get of the phone claims, one of the contacts they point to, one of the
//! do-not-contact entries; then the claims of new contacts are written, and only then the
//! contacts. That order makes a crashed import safe to re-run: a claim whose contact is
//! missing is completed under the claimed id, so a number never gets two contacts. Rows that
//! change nothing are not written, so re-importing a file is cheap and changes nothing.
//!
//! Writes are unconditional (BatchWriteItem has no conditions): an API edit racing an import of
//! the same contact may be overwritten by the imported fields. Imports are bulk operations
//! the tenant starts; the trade is worth the 25x fewer round trips.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde_json::Value;
use smscrm_domain::import_report::ImportCounts;
use smscrm_domain::ports::{Item, Key, StoreError, table};
use smscrm_domain::{Contact, ContactId, ContactMerge, TenantId};

use crate::codec::from_item;
use crate::contacts::{PhoneClaim, claim_item, contact_item};
use crate::{AttributeNames, Contacts, DoNotContact, RepoError, keys};

/// What a batch will write, and the counts it will report.
#[derive(Default)]
struct Plan {
    counts: ImportCounts,
    new_claims: Vec<Item>,
    writes: Vec<Item>,
}

impl Plan {
    fn absorb(&mut self, other: Plan) {
        self.counts.add(other.counts);
        self.new_claims.extend(other.new_claims);
        self.writes.extend(other.writes);
    }
}

/// Store calls of one import running at once.
const CHUNKS_IN_FLIGHT: usize = 4;

impl Contacts {
    /// Upserts rows with distinct phones. With `commit == false` (a dry run) nothing is
    /// written and the counts say what a commit would do.
    pub async fn import_batch(
        &self,
        tenant: &TenantId,
        rows: &[ContactMerge],
        now: DateTime<Utc>,
        commit: bool,
    ) -> Result<ImportCounts, RepoError> {
        // Chunks hold distinct phones, so they are independent: run a few at once to overlap
        // round trips (DynamoDB) and use both cores for reads and decoding (SQLite).
        let mut phones = HashSet::with_capacity(rows.len());
        if let Some(dup) = rows.iter().find(|r| !phones.insert(&r.phone)) {
            return Err(RepoError::Store(StoreError::Invalid(format!(
                "import batch names {} twice",
                dup.phone
            ))));
        }
        // Most tenants' lists are empty: one query then saves a lookup per row.
        let check_dnc = DoNotContact::new(self.table.clone()).any(tenant).await?;
        let mut plan = Plan::default();
        for group in rows.chunks(table::MAX_BATCH_GET * CHUNKS_IN_FLIGHT) {
            let chunks: Vec<_> = group
                .chunks(table::MAX_BATCH_GET)
                .map(|chunk| self.plan_chunk(tenant, chunk, now, check_dnc))
                .collect();
            for chunk in futures::future::try_join_all(chunks).await? {
                plan.absorb(chunk);
            }
        }
        if commit {
            let names = rows.iter().flat_map(|r| r.attributes.keys());
            AttributeNames::new(self.table.clone())
                .record(tenant, names.map(String::as_str))
                .await?;
            // Claims first: a crash before the contacts leaves claims the re-run completes.
            self.table.batch_put(plan.new_claims).await?;
            self.table.batch_put(plan.writes).await?;
        }
        Ok(plan.counts)
    }

    /// Reads what a chunk of (distinct) rows needs and decides what to write.
    async fn plan_chunk(
        &self,
        tenant: &TenantId,
        rows: &[ContactMerge],
        now: DateTime<Utc>,
        check_dnc: bool,
    ) -> Result<Plan, RepoError> {
        let claims = self.claims(tenant, rows).await?;
        let mut existing = self.contacts_by_id(tenant, claims.values()).await?;
        let suppressed = if check_dnc {
            let phones: Vec<_> = rows.iter().map(|r| &r.phone).collect();
            DoNotContact::new(self.table.clone())
                .which(tenant, &phones)
                .await?
        } else {
            HashSet::new()
        };
        let mut plan = Plan::default();
        for row in rows {
            let claimed = claims.get(row.phone.as_str());
            let (contact, version) = match claimed.and_then(|id| existing.remove(id.as_str())) {
                Some((mut contact, version)) => {
                    if !row.merge_into(&mut contact, now) {
                        plan.counts.unchanged += 1;
                        continue;
                    }
                    plan.counts.updated += 1;
                    (contact, version + 1)
                }
                None => {
                    let contact =
                        row.create(claimed.cloned().unwrap_or_else(ContactId::generate), now);
                    if claimed.is_none() {
                        plan.new_claims.push(claim_item(tenant, &contact)?);
                    }
                    plan.counts.created += 1;
                    (contact, 1)
                }
            };
            if suppressed.contains(&row.phone) {
                plan.counts.suppressed += 1;
            }
            plan.writes.push(contact_item(tenant, &contact, version)?);
        }
        Ok(plan)
    }

    async fn claims(
        &self,
        tenant: &TenantId,
        rows: &[ContactMerge],
    ) -> Result<HashMap<String, ContactId>, RepoError> {
        let wanted: Vec<Key> = rows.iter().map(|r| keys::phone(tenant, &r.phone)).collect();
        let mut claims = HashMap::with_capacity(wanted.len());
        for item in self.table.batch_get(&wanted).await? {
            let phone = item
                .get(table::SK)
                .and_then(Value::as_str)
                .and_then(|sk| sk.strip_prefix(keys::PHONE_PREFIX))
                .map(str::to_owned)
                .ok_or_else(|| RepoError::Corrupt("phone claim without a phone".into()))?;
            let claim: PhoneClaim = from_item(item)?;
            claims.insert(phone, claim.contact_id);
        }
        Ok(claims)
    }

    async fn contacts_by_id<'a>(
        &self,
        tenant: &TenantId,
        ids: impl Iterator<Item = &'a ContactId>,
    ) -> Result<HashMap<String, (Contact, i64)>, RepoError> {
        let wanted: Vec<Key> = ids.map(|id| keys::contact(tenant, id)).collect();
        let mut found = HashMap::with_capacity(wanted.len());
        if wanted.is_empty() {
            return Ok(found);
        }
        for item in self.table.batch_get(&wanted).await? {
            let version = item.get("version").and_then(Value::as_i64).unwrap_or(0);
            let contact: Contact = from_item(item)?;
            found.insert(contact.id.to_string(), (contact, version));
        }
        Ok(found)
    }
}
