//! Bulk upsert of imported rows, a batch at a time.
//!
//! Per batch: one batch_get of the phone claims; the claims of new phones written create-only
//! (a phone another import or the API claimed meanwhile keeps its contact, which the row
//! merges into, so two writers of one phone never make two contacts; if that contact is not
//! written yet, both write it and the later one's fields win); one batch_get of the
//! contacts the claims point to, one of the do-not-contact entries; and only then the
//! contacts. That order makes a crashed import safe to re-run: a claim whose contact is
//! missing is completed under the claimed id, so a number never gets two contacts. Rows that
//! change nothing are not written, so re-importing a file is cheap and changes nothing.
//!
//! A commit of many rows first claims their phones in phone order ([`Contacts::preclaim`]):
//! claims are keyed by phone, so written in file order each lands on a random page of the
//! claims range, and on the embedded store that random write was most of an import's time.
//! Claimed in order, they append (a first load) or merge in one sweep. The claims still go
//! before their contacts, so the crash rule above holds.
//!
//! Contacts are written unconditionally (BatchWriteItem has no conditions): an API edit racing
//! an import of the same contact may be overwritten by the imported fields. Imports are bulk operations
//! the tenant starts; the trade is worth the 25x fewer round trips.

use std::collections::{BTreeSet, HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde_json::Value;
use smscrm_domain::contact::{ConsentInput, ContactChanges};
use smscrm_domain::import_report::ImportCounts;
use smscrm_domain::ports::{Item, Key, StoreError, table};
use smscrm_domain::{
    Consent, ConsentStatus, Contact, ContactId, ContactMerge, PhoneE164, TenantId,
};

use crate::codec::from_item;
use crate::contacts::{PhoneClaim, claim_item, claim_item_for, contact_item};
use crate::suppression::{OPTED_OUT_REASON, Suppression};
use crate::{AttributeNames, Contacts, DoNotContact, RepoError, keys};

/// What a batch will write ([`Contacts::write_import`]), and the counts it will report.
#[derive(Default)]
pub struct Plan {
    counts: ImportCounts,
    attribute_names: BTreeSet<String>,
    new_claims: Vec<Item>,
    writes: Vec<Item>,
    /// Rows whose contact ends opted out whatever the row says (an opt-out stands, or the
    /// do-not-contact list says the person opted out), and rows whose number is on the list:
    /// what a preview of the rows must not hide.
    outcomes: Vec<(PhoneE164, RowOutcome)>,
}

/// What becomes of a row that its cells do not tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RowOutcome {
    /// Its number is on the tenant's do-not-contact list.
    pub suppressed: bool,
    /// Its contact is (or stays) opted out.
    pub opted_out: bool,
}

impl Plan {
    /// Adds `other`'s writes and counts to this plan's, so both are written at once.
    pub fn absorb(&mut self, other: Plan) {
        self.counts.add(other.counts);
        self.attribute_names.extend(other.attribute_names);
        self.new_claims.extend(other.new_claims);
        self.writes.extend(other.writes);
        self.outcomes.extend(other.outcomes);
    }

    /// What becomes of the row of `phone` beyond what it says, if anything.
    pub fn outcome_of(&self, phone: &str) -> RowOutcome {
        (self.outcomes.iter())
            .find(|(of, _)| of.as_str() == phone)
            .map(|(_, outcome)| *outcome)
            .unwrap_or_default()
    }

    pub fn counts(&self) -> ImportCounts {
        self.counts
    }

    /// The same writes, counted as `counts` (what an earlier plan of the same rows counted).
    pub fn counted_as(self, counts: ImportCounts) -> Self {
        Self { counts, ..self }
    }
}

/// What every chunk of a batch is planned with.
#[derive(Clone, Copy)]
struct ChunkContext<'a> {
    now: DateTime<Utc>,
    check_dnc: bool,
    /// False for a dry run: count, build nothing to write.
    commit: bool,
    /// Numbers (E.164 digits) to plan as if listed as opted out: see
    /// [`Contacts::plan_import_as_listed`].
    listed_ahead: &'a HashSet<u64>,
}

/// Store calls of one import running at once.
const CHUNKS_IN_FLIGHT: usize = 4;
/// Phones whose claims one range query reads, when their key range holds few others.
const RANGE_READ: usize = 400;
/// New claims built and written at a time by [`Contacts::preclaim`]: bounds the items held.
const PRECLAIM_WRITE_CHUNK: usize = 4000;
/// Marks, in a [`Preclaim`]'s phone field, a claim that existed before the import.
const EXISTED: u64 = 1 << 63;
/// A [`Preclaim`]'s phone field for a phone that was not claimed ahead (too long for 63 bits).
const NOT_CLAIMED: u64 = u64::MAX;

/// One row's phone claimed ahead of its contact: 24 bytes, so a million rows hold 24 MB.
#[derive(Debug, Clone, Copy)]
pub struct Preclaim {
    /// The phone's digits, with [`EXISTED`] set for a claim already there.
    phone: u64,
    /// The ULID of the contact the phone is claimed for.
    contact: [u64; 2],
}

/// Phones an import claims before writing contacts ([`Contacts::preclaim`]), in the order
/// proposed; each claim then goes with its row to [`Contacts::import_preclaimed`].
#[derive(Debug, Default)]
pub struct Preclaimed {
    rows: Vec<Preclaim>,
}

impl Preclaimed {
    /// Proposes `id` for the next row's `phone`.
    pub fn propose(&mut self, phone: &PhoneE164, id: &ContactId) {
        let phone = phone
            .digits_u64()
            .filter(|d| d & EXISTED == 0)
            .unwrap_or(NOT_CLAIMED);
        self.rows.push(Preclaim {
            phone,
            contact: ulid_halves(id),
        });
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The claims of rows `from..from + len` (fewer past the end).
    pub fn slice(&self, from: usize, len: usize) -> &[Preclaim] {
        let from = from.min(self.rows.len());
        &self.rows[from..(from + len).min(self.rows.len())]
    }

    /// The claims, in the order they were proposed.
    pub fn into_claims(self) -> Vec<Preclaim> {
        self.rows
    }
}

/// What a [`Preclaim`] says of its row's phone.
enum Claimed {
    /// The import wrote this claim: its contact is new.
    New(ContactId),
    /// The claim was there before: its contact may exist.
    Existing(ContactId),
}

impl Preclaim {
    /// No claim made ahead: the row is claimed the usual way.
    pub const NONE: Preclaim = Preclaim {
        phone: NOT_CLAIMED,
        contact: [0, 0],
    };

    /// Its 24 bytes, for keeping it on disk until its row comes.
    pub fn to_bytes(self) -> [u8; 24] {
        let mut bytes = [0; 24];
        bytes[..8].copy_from_slice(&self.phone.to_le_bytes());
        bytes[8..16].copy_from_slice(&self.contact[0].to_le_bytes());
        bytes[16..].copy_from_slice(&self.contact[1].to_le_bytes());
        bytes
    }

    pub fn from_bytes(bytes: [u8; 24]) -> Self {
        let word = |at: usize| {
            let mut word = [0; 8];
            word.copy_from_slice(&bytes[at..at + 8]);
            u64::from_le_bytes(word)
        };
        Self {
            phone: word(0),
            contact: [word(8), word(16)],
        }
    }

    /// Whether this can be the claim of `phone`'s row: it names that phone, or none (the
    /// row is then claimed the usual way).
    pub fn fits(&self, phone: &PhoneE164) -> bool {
        self.phone == NOT_CLAIMED || phone.digits_u64() == Some(self.phone & !EXISTED)
    }

    /// What is claimed for `phone`, if this is its claim (a row whose claim is not it, or
    /// was not claimed ahead, is claimed the usual way).
    fn of(&self, phone: &PhoneE164) -> Option<Claimed> {
        if self.phone == NOT_CLAIMED || phone.digits_u64() != Some(self.phone & !EXISTED) {
            return None;
        }
        let [hi, lo] = self.contact;
        let id = ContactId::from_ulid(ulid::Ulid((u128::from(hi) << 64) | u128::from(lo)));
        Some(if self.phone & EXISTED == 0 {
            Claimed::New(id)
        } else {
            Claimed::Existing(id)
        })
    }
}

/// A number whose owner opted out (they texted STOP, or opted out and their contact was
/// deleted) stays opted out on the contact an import creates for it, whatever its row grants:
/// an import never lifts an opt-out, and the contact says so, as the list does.
fn keep_the_opt_out(contact: &mut Contact, entry: &Suppression) {
    if contact.consent.status != ConsentStatus::Revoked {
        contact.consent = Consent {
            status: ConsentStatus::Revoked,
            source: Some(
                entry
                    .source
                    .clone()
                    .unwrap_or_else(|| "on the do-not-contact list".into()),
            ),
            at: Some(entry.at),
        };
    }
}

fn ulid_halves(id: &ContactId) -> [u64; 2] {
    let ulid = id.to_ulid().0;
    [(ulid >> 64) as u64, ulid as u64]
}

/// A phone claim item as (phone, contact).
fn claim_of(item: Item) -> Result<(String, ContactId), RepoError> {
    let phone = item
        .get(table::SK)
        .and_then(Value::as_str)
        .and_then(|sk| sk.strip_prefix(keys::PHONE_PREFIX))
        .map(str::to_owned)
        .ok_or_else(|| RepoError::Corrupt("phone claim without a phone".into()))?;
    let claim: PhoneClaim = from_item(item)?;
    Ok((phone, claim.contact_id))
}

/// Sorts phone digits as their claims' keys sort: as strings, byte by byte (`+4412...` before
/// `+491...`, though it is the larger number). [`Contacts::preclaim`] works fastest on phones
/// in this order.
pub fn key_order(digits: u64) -> (u64, u32) {
    let len = digits.checked_ilog10().map_or(1, |l| l + 1);
    // Up to 19 digits, so the padded value fits a u64; the length breaks ties (`+1` < `+10`).
    (digits * 10u64.pow(19 - len.min(19)), len)
}

fn phone_of(digits: u64) -> PhoneE164 {
    PhoneE164::from_e164_unchecked(format!("+{digits}"))
}

impl Contacts {
    /// Whether [`Contacts::preclaim`] is worth a second read of the file: on the embedded
    /// store, where claims written in key order append; not on DynamoDB.
    pub fn claims_ahead_pay(&self) -> bool {
        self.table.sorted_bulk_writes_pay()
    }

    /// Claims, in phone order, the phones an import is about to commit, each for the contact
    /// id proposed (made in file order, so the contacts append too). A phone claimed already
    /// keeps its contact.
    pub async fn preclaim(
        &self,
        tenant: &TenantId,
        mut claims: Preclaimed,
    ) -> Result<Preclaimed, RepoError> {
        // (phone, row) in the order of the claims' keys: 16 bytes a row while claiming.
        let mut order: Vec<(u64, u32)> = Vec::with_capacity(claims.rows.len());
        for (row, claim) in claims.rows.iter().enumerate() {
            let row = u32::try_from(row).map_err(|_| {
                RepoError::Store(StoreError::Invalid("too many rows to claim ahead".into()))
            })?;
            if claim.phone != NOT_CLAIMED {
                order.push((claim.phone, row));
            }
        }
        order.sort_unstable_by_key(|&(phone, _)| key_order(phone));
        if order.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err(RepoError::Store(StoreError::Invalid(
                "preclaim names a phone twice".into(),
            )));
        }
        let mut ranges_pay = true;
        for group in order.chunks(RANGE_READ * CHUNKS_IN_FLIGHT) {
            let ranges = group.chunks(RANGE_READ).map(|range| async move {
                match ranges_pay {
                    true => self.claims_between(tenant, range).await,
                    false => Ok(None),
                }
            });
            let ranges = futures::future::try_join_all(ranges).await?;
            // Keys of other phones crowd these ranges: stop trying them.
            ranges_pay = ranges.iter().all(Option::is_some);
            let mut found = HashMap::new();
            for (range, read) in group.chunks(RANGE_READ).zip(ranges) {
                match read {
                    Some(claims) => found.extend(claims),
                    None => found.extend(self.claims_of(tenant, range).await?),
                }
            }
            for (phone, row) in group {
                if let Some(existing) = found.get(phone_of(*phone).as_str()) {
                    claims.rows[*row as usize] = Preclaim {
                        phone: phone | EXISTED,
                        contact: ulid_halves(existing),
                    };
                }
            }
        }
        // Create-only: a claim another import or the API made since the reads above keeps
        // its contact, and this import merges into that contact.
        let mut batch = Vec::with_capacity(PRECLAIM_WRITE_CHUNK);
        let mut rows_of = HashMap::new();
        for (phone, row) in order {
            let claim = claims.rows[row as usize];
            if claim.phone & EXISTED != 0 {
                continue;
            }
            let [hi, lo] = claim.contact;
            let id = ContactId::from_ulid(ulid::Ulid((u128::from(hi) << 64) | u128::from(lo)));
            batch.push(claim_item_for(tenant, &phone_of(phone), &id)?);
            rows_of.insert(phone, row);
            if batch.len() == PRECLAIM_WRITE_CHUNK {
                let written = std::mem::take(&mut batch);
                self.adopt_taken(tenant, written, &mut rows_of, &mut claims)
                    .await?;
            }
        }
        self.adopt_taken(tenant, batch, &mut rows_of, &mut claims)
            .await?;
        Ok(claims)
    }

    /// Puts a number whose row an import refused, but which says its person opted out, on the
    /// do-not-contact list (unless it is there already: its first reason stays). Done before
    /// the batch holding the row is planned, so a row of the number later in the file
    /// creates its contact opted out and is counted as suppressed.
    pub async fn list_refused_opt_out(
        &self,
        tenant: &TenantId,
        phone: &PhoneE164,
        source: &str,
        now: DateTime<Utc>,
    ) -> Result<(), RepoError> {
        let entry = Suppression {
            phone: phone.clone(),
            reason: OPTED_OUT_REASON.into(),
            at: now,
            source: Some(source.to_owned()),
        };
        DoNotContact::new(self.table.clone())
            .add_if_absent(tenant, &entry)
            .await?;
        Ok(())
    }

    /// Revokes the consent of the number's contact, if it has one that has not opted out
    /// already: as a STOP reply does, beside the list entry [`Contacts::list_refused_opt_out`]
    /// made. Done after the batch holding the row is written, so a contact an earlier row of
    /// the file created is revoked too.
    pub async fn revoke_for_refused_opt_out(
        &self,
        tenant: &TenantId,
        phone: &PhoneE164,
        source: &str,
        now: DateTime<Utc>,
    ) -> Result<(), RepoError> {
        let Some(contact) = self.find_by_phone(tenant, phone).await? else {
            return Ok(());
        };
        if contact.consent.status == ConsentStatus::Revoked {
            return Ok(());
        }
        let changes = ContactChanges {
            consent: Some(ConsentInput {
                status: ConsentStatus::Revoked,
                source: Some(source.to_owned()),
            }),
            ..ContactChanges::default()
        };
        match self.update(tenant, &contact.id, changes, now).await {
            // Deleted meanwhile: the list entry still stands for the number.
            Err(RepoError::NotFound) => Ok(()),
            other => other.map(drop),
        }
    }

    /// Upserts rows with distinct phones. With `commit == false` (a dry run) nothing is
    /// written and the counts say what a commit would do.
    pub async fn import_batch(
        &self,
        tenant: &TenantId,
        rows: &[ContactMerge],
        now: DateTime<Utc>,
        commit: bool,
    ) -> Result<ImportCounts, RepoError> {
        self.import_preclaimed(tenant, rows, now, commit, &[]).await
    }

    /// [`Contacts::import_batch`] for rows whose phones [`Contacts::preclaim`] claimed:
    /// `preclaimed[i]` is row `i`'s claim (rows past it, or whose phone it does not name, are
    /// claimed the usual way).
    pub async fn import_preclaimed(
        &self,
        tenant: &TenantId,
        rows: &[ContactMerge],
        now: DateTime<Utc>,
        commit: bool,
        preclaimed: &[Preclaim],
    ) -> Result<ImportCounts, RepoError> {
        let plan = self
            .plan_import(tenant, rows, now, preclaimed, commit)
            .await?;
        let counts = plan.counts();
        if commit {
            self.write_import(tenant, plan).await?;
        }
        Ok(counts)
    }

    /// The reading half of [`Contacts::import_preclaimed`]: what to write. Batches of an import
    /// hold distinct phones, so one batch can be planned while the previous one is written.
    /// Without `commit` (a dry run) only the counts are made, no items.
    pub async fn plan_import(
        &self,
        tenant: &TenantId,
        rows: &[ContactMerge],
        now: DateTime<Utc>,
        preclaimed: &[Preclaim],
        commit: bool,
    ) -> Result<Plan, RepoError> {
        let listed_ahead = HashSet::new();
        (self.plan_import_as_listed(tenant, rows, now, preclaimed, commit, &listed_ahead)).await
    }

    /// [`Contacts::plan_import`], planning the numbers in `listed_ahead` (E.164 digits) as if
    /// they were listed as opted out: what a dry run counts for the rows of numbers whose
    /// refused rows a commit lists ([`Contacts::list_refused_opt_out`]) before their batch.
    pub async fn plan_import_as_listed(
        &self,
        tenant: &TenantId,
        rows: &[ContactMerge],
        now: DateTime<Utc>,
        preclaimed: &[Preclaim],
        commit: bool,
        listed_ahead: &HashSet<u64>,
    ) -> Result<Plan, RepoError> {
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
        let check_dnc =
            !listed_ahead.is_empty() || DoNotContact::new(self.table.clone()).any(tenant).await?;
        let mut plan = Plan::default();
        let group_rows = table::MAX_BATCH_GET * CHUNKS_IN_FLIGHT;
        for (g, group) in rows.chunks(group_rows).enumerate() {
            let chunks: Vec<_> = group
                .chunks(table::MAX_BATCH_GET)
                .enumerate()
                .map(|(c, chunk)| {
                    let from = g * group_rows + c * table::MAX_BATCH_GET;
                    let claimed = preclaimed.get(from..).unwrap_or_default();
                    let context = ChunkContext {
                        now,
                        check_dnc,
                        commit,
                        listed_ahead,
                    };
                    self.plan_chunk(tenant, chunk, context, claimed)
                })
                .collect();
            for chunk in futures::future::try_join_all(chunks).await? {
                plan.absorb(chunk);
            }
        }
        plan.attribute_names = rows
            .iter()
            .flat_map(|r| r.attributes.keys().cloned())
            .collect();
        Ok(plan)
    }

    /// The writing half of [`Contacts::import_preclaimed`].
    pub async fn write_import(&self, tenant: &TenantId, plan: Plan) -> Result<(), RepoError> {
        AttributeNames::new(self.table.clone())
            .record(tenant, plan.attribute_names.iter().map(String::as_str))
            .await?;
        // Claims first: a crash before the contacts leaves claims the re-run completes.
        self.table.batch_put(plan.new_claims).await?;
        self.table.batch_put(plan.writes).await?;
        Ok(())
    }

    /// Reads what a chunk of (distinct) rows needs and decides what to write.
    async fn plan_chunk(
        &self,
        tenant: &TenantId,
        rows: &[ContactMerge],
        ChunkContext {
            now,
            check_dnc,
            commit,
            listed_ahead,
        }: ChunkContext<'_>,
        preclaimed: &[Preclaim],
    ) -> Result<Plan, RepoError> {
        // Phones claimed ahead need no claim reads. Their contacts are still read: an API
        // upsert may have completed a claim this import made, and its fields must merge.
        let mut fresh = HashSet::new();
        let mut claims = HashMap::new();
        let mut unclaimed: Vec<&PhoneE164> = Vec::new();
        for (i, row) in rows.iter().enumerate() {
            match preclaimed.get(i).and_then(|claim| claim.of(&row.phone)) {
                Some(Claimed::New(id)) => {
                    fresh.insert(row.phone.as_str());
                    claims.insert(row.phone.as_str().to_owned(), id);
                }
                Some(Claimed::Existing(id)) => {
                    claims.insert(row.phone.as_str().to_owned(), id);
                }
                None => unclaimed.push(&row.phone),
            }
        }
        if !unclaimed.is_empty() {
            claims.extend(self.claims(tenant, unclaimed.iter().copied()).await?);
            if commit {
                self.claim_unclaimed(tenant, &unclaimed, &mut claims, &mut fresh)
                    .await?;
            }
        }
        let mut existing = self.contacts_by_id(tenant, claims.values()).await?;
        let mut listed = if check_dnc {
            let phones: Vec<_> = rows.iter().map(|r| &r.phone).collect();
            DoNotContact::new(self.table.clone())
                .entries(tenant, &phones)
                .await?
        } else {
            HashMap::new()
        };
        if !listed_ahead.is_empty() {
            for row in rows {
                if row
                    .phone
                    .digits_u64()
                    .is_some_and(|d| listed_ahead.contains(&d))
                {
                    listed
                        .entry(row.phone.clone())
                        .or_insert_with(|| Suppression {
                            phone: row.phone.clone(),
                            reason: OPTED_OUT_REASON.into(),
                            at: now,
                            source: None,
                        });
                }
            }
        }
        let mut plan = Plan::default();
        for row in rows {
            // Whether created, updated or unchanged, a listed number stays suppressed.
            let listing = listed.get(&row.phone);
            if listing.is_some() {
                plan.counts.suppressed += 1;
            }
            let opted_out = listing.filter(|entry| entry.reason == OPTED_OUT_REASON);
            let outcome = RowOutcome {
                suppressed: listing.is_some(),
                opted_out: opted_out.is_some(),
            };
            let claimed = claims.get(row.phone.as_str());
            let (contact, version) = match claimed.and_then(|id| existing.remove(id.as_str())) {
                Some((mut contact, version)) => {
                    let listed_out = opted_out.is_some() && row.grants_consent();
                    if row.meets_an_opt_out(&contact) || listed_out {
                        plan.counts.opt_outs_kept += 1;
                    }
                    let merged = row.merge_into(&mut contact, now);
                    let outcome = RowOutcome {
                        opted_out: outcome.opted_out
                            || contact.consent.status == ConsentStatus::Revoked,
                        ..outcome
                    };
                    if outcome != RowOutcome::default() {
                        plan.outcomes.push((row.phone.clone(), outcome));
                    }
                    // The list says the person opted out (a STOP, or a refused row of this
                    // import saying so): the contact says so too, whatever the row grants.
                    let revoked = match opted_out {
                        Some(entry) if contact.consent.status != ConsentStatus::Revoked => {
                            keep_the_opt_out(&mut contact, entry);
                            true
                        }
                        _ => false,
                    };
                    if !merged && !revoked {
                        plan.counts.unchanged += 1;
                        continue;
                    }
                    plan.counts.updated += 1;
                    (Some(contact), version + 1)
                }
                None => {
                    if outcome != RowOutcome::default() {
                        plan.outcomes.push((row.phone.clone(), outcome));
                    }
                    plan.counts.created += 1;
                    if opted_out.is_some() && row.grants_consent() {
                        plan.counts.opt_outs_kept += 1;
                    }
                    let contact = commit.then(|| {
                        let id = claimed.cloned().unwrap_or_else(ContactId::generate);
                        let mut contact = row.create(id, now);
                        if let Some(entry) = opted_out {
                            keep_the_opt_out(&mut contact, entry);
                        }
                        contact
                    });
                    // A claim this import just made stands. Any other is written (again): a
                    // claim whose contact is missing may have been deleted with it meanwhile.
                    if let Some(contact) = &contact
                        && !fresh.contains(row.phone.as_str())
                    {
                        plan.new_claims.push(claim_item(tenant, contact)?);
                    }
                    (contact, 1)
                }
            };
            if let Some(contact) = contact.filter(|_| commit) {
                plan.writes.push(contact_item(tenant, &contact, version)?);
            }
        }
        Ok(plan)
    }

    async fn claims<'a>(
        &self,
        tenant: &TenantId,
        phones: impl IntoIterator<Item = &'a PhoneE164>,
    ) -> Result<HashMap<String, ContactId>, RepoError> {
        let wanted: Vec<Key> = phones.into_iter().map(|p| keys::phone(tenant, p)).collect();
        let found = self.table.batch_get(&wanted).await?;
        found.into_iter().map(claim_of).collect()
    }

    /// Claims, create-only, each of `phones` that has no claim in `claims`, for a new contact
    /// id, before any contact is written (the crash rule). A phone another import or the API
    /// claimed since the read keeps its contact, which this row then merges into: two
    /// writers of one phone never make two contacts.
    async fn claim_unclaimed<'r>(
        &self,
        tenant: &TenantId,
        phones: &[&'r PhoneE164],
        claims: &mut HashMap<String, ContactId>,
        fresh: &mut HashSet<&'r str>,
    ) -> Result<(), RepoError> {
        let mut items = Vec::new();
        let mut proposed = Vec::new();
        for phone in phones.iter().filter(|p| !claims.contains_key(p.as_str())) {
            let id = ContactId::generate();
            items.push(claim_item_for(tenant, phone, &id)?);
            proposed.push((*phone, id));
        }
        if items.is_empty() {
            return Ok(());
        }
        let taken: HashSet<Key> = self
            .table
            .batch_put_if_absent(items)
            .await?
            .into_iter()
            .collect();
        let mut lost = Vec::new();
        for (phone, id) in proposed {
            if taken.contains(&keys::phone(tenant, phone)) {
                lost.push(phone);
            } else {
                fresh.insert(phone.as_str());
                claims.insert(phone.as_str().to_owned(), id);
            }
        }
        if !lost.is_empty() {
            claims.extend(self.claims(tenant, lost).await?);
        }
        Ok(())
    }

    /// Writes new claims unless taken meanwhile; a taken one's row gets the claim's contact.
    async fn adopt_taken(
        &self,
        tenant: &TenantId,
        new_claims: Vec<Item>,
        rows_of: &mut HashMap<u64, u32>,
        claims: &mut Preclaimed,
    ) -> Result<(), RepoError> {
        let taken = self.table.batch_put_if_absent(new_claims).await?;
        let phones: Vec<PhoneE164> = taken
            .iter()
            .filter_map(|key| key.sk.strip_prefix(keys::PHONE_PREFIX))
            .filter_map(|e164| PhoneE164::from_e164(e164).ok())
            .collect();
        // Rows whose claim vanished again are claimed the usual way, batch by batch.
        for phone in phones.iter().filter_map(PhoneE164::digits_u64) {
            if let Some(row) = rows_of.get(&phone) {
                claims.rows[*row as usize].phone = NOT_CLAIMED;
            }
        }
        for chunk in phones.chunks(table::MAX_BATCH_GET) {
            for (phone, contact) in self.claims(tenant, chunk.iter()).await? {
                let digits = PhoneE164::from_e164(&phone)
                    .ok()
                    .and_then(|p| p.digits_u64());
                if let Some(row) = digits.and_then(|d| rows_of.get(&d)) {
                    claims.rows[*row as usize] = Preclaim {
                        phone: digits.unwrap_or_default() | EXISTED,
                        contact: ulid_halves(&contact),
                    };
                }
            }
        }
        rows_of.clear();
        Ok(())
    }

    /// The claims of `phones` (in key order), one query for their whole key range; `None` when
    /// the range holds too many other claims for one page.
    async fn claims_between(
        &self,
        tenant: &TenantId,
        phones: &[(u64, u32)],
    ) -> Result<Option<HashMap<String, ContactId>>, RepoError> {
        let (Some((first, _)), Some((last, _))) = (phones.first(), phones.last()) else {
            return Ok(Some(HashMap::new()));
        };
        let key = |digits: u64| keys::phone(tenant, &phone_of(digits)).sk;
        let query = table::Query {
            sort: Some(table::SortKeyCondition::Between(key(*first), key(*last))),
            limit: table::MAX_QUERY_LIMIT,
            ..table::Query::partition(keys::tenant_partition(tenant))
        };
        let page = self.table.query(&query).await?;
        if page.next_cursor.is_some() {
            return Ok(None);
        }
        page.items
            .into_iter()
            .map(claim_of)
            .collect::<Result<_, _>>()
            .map(Some)
    }

    /// The claims of `phones`, a batch_get per [`table::MAX_BATCH_GET`], a few at once.
    async fn claims_of(
        &self,
        tenant: &TenantId,
        phones: &[(u64, u32)],
    ) -> Result<HashMap<String, ContactId>, RepoError> {
        let reads = phones.chunks(table::MAX_BATCH_GET).map(|chunk| {
            let phones: Vec<PhoneE164> = chunk.iter().map(|(p, _)| phone_of(*p)).collect();
            async move { self.claims(tenant, phones.iter()).await }
        });
        let mut found = HashMap::new();
        for claims in futures::future::try_join_all(reads).await? {
            found.extend(claims);
        }
        Ok(found)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_sort_as_their_keys_do() {
        let mut digits = [
            4912345678u64,
            33612345678,
            1,
            10,
            2,
            447911123456,
            15551234567,
        ];
        digits.sort_by_key(|d| key_order(*d));
        let mut strings: Vec<String> = digits.iter().map(|d| format!("PHONE#+{d}")).collect();
        let sorted = {
            let mut s = strings.clone();
            s.sort();
            s
        };
        assert_eq!(strings, sorted);
        strings.dedup();
        assert_eq!(strings.len(), 7);
    }
}
