//! Every key the product stores, built here and nowhere else.
//!
//! | item            | pk                        | sk                  | gsi1pk / gsi1sk                          |
//! |-----------------|---------------------------|---------------------|------------------------------------------|
//! | tenant          | `TENANT#<t>`              | `TENANT`            | `TENANTS` / `<t>`                        |
//! | API key         | `TENANT#<t>`              | `APIKEY#<k>`        |                                          |
//! | API key by hash | `APIKEYHASH#<sha256>`     | `APIKEYHASH`        |                                          |
//! | contact         | `TENANT#<t>`              | `CONTACT#<c>`       | `TENANT#<t>#NAME#<c0>` / `<name>#<c>`     |
//! | phone claim     | `TENANT#<t>`              | `PHONE#<e164>`      |                                          |
//! | do-not-contact  | `TENANT#<t>`              | `DNC#<e164>`, or `DNC#H#<digest>` once its person is erased |        |
//! | import          | `TENANT#<t>`              | `IMPORT#<i>`        |                                          |
//! | import range    | `TENANT#<t>`              | `IMPORTRANGE#<i>#<n>` |                                        |
//! | dropped file's lease | `TENANT#<t>`         | `DROPFILE#<digest of its key>` |                               |
//! | template        | `TENANT#<t>`              | `TEMPLATE#<p>`      |                                          |
//! | attribute name  | `TENANT#<t>`              | `ATTR#<name>`       |                                          |
//! | campaign        | `TENANT#<t>`              | `CAMPAIGN#<c>`      |                                          |
//! | message record  | `TENANT#<t>#MSG#<c>#<nn>` | `MSG#<contact>`     |                                          |
//! | fan-out state   | `TENANT#<t>`              | `DISPATCH#<c>`      |                                          |
//! | its changes     | `TENANT#<t>`              | `DISPATCHCHANGES#<c>` and `...#<nn>` (per record shard) |       |
//! | parked sends    | `TENANT#<t>`              | `PARKED#<c>`        |                                          |
//! | Twilio SID      | `TENANT#<t>`              | `SID#<sid>` (the record it settled) |                          |
//! | status callback | `TENANT#<t>#EVT#<c>#<nn>` | `<contact>#<sid>#<status>` |                                   |
//! | inbound message | `TENANT#<t>#THREAD#<e164>` | `MSG#<at>#<sid>`, and `SID#<sid>` (seen) |                     |
//! | last sent to it | `TENANT#<t>#THREAD#<e164>` | `LASTOUT`          |                                          |
//! | inbox thread    | `TENANT#<t>`              | `THREAD#<e164>`     | `TENANT#<t>#INBOX` / `<last_at>#<e164>`  |
//! | audit entry     | `TENANT#<t>#AUDIT`        | `<at>#<id>`         |                                          |
//! | budget counter  | `TENANT#<t>`              | `BUDGET#D#<day>` / `BUDGET#M#<month>` |                        |
//!
//! Cross-tenant work lists are gsi2 entries on tenant items (the items stay under their
//! tenant's keys): `SCHEDULED` / `<send_at>#<t>#<c>` on scheduled campaigns, `SENDING` /
//! `<started>#<t>#<c>` on sending campaigns until they complete, `HELD#<nn>` /
//! `<release_at>#<t>#<c>#<contact>` on held message records, and `PARKED` / `<at>#<t>#<c>` on
//! campaigns whose sends stopped at a kill switch or pause (queued again on resume).
//!
//! The API-key-by-hash item is the one key not under a tenant: it is how a presented key finds
//! its tenant, and it holds nothing but that pointer. The name index is sharded by the first
//! character of the name, which is also what a prefix search needs, so one tenant's bulk import
//! does not pile every write onto one index partition.

use smscrm_domain::ports::Key;
use smscrm_domain::{ApiKeyId, CampaignId, ContactId, ImportId, PhoneE164, TemplateId, TenantId};

pub const TENANT_SK: &str = "TENANT";
pub const TENANTS_INDEX: &str = "TENANTS";
pub const APIKEY_PREFIX: &str = "APIKEY#";
pub const CONTACT_PREFIX: &str = "CONTACT#";
pub const PHONE_PREFIX: &str = "PHONE#";
pub const DNC_PREFIX: &str = "DNC#";
pub const IMPORT_PREFIX: &str = "IMPORT#";
pub const TEMPLATE_PREFIX: &str = "TEMPLATE#";
pub const ATTRIBUTE_PREFIX: &str = "ATTR#";
pub const CAMPAIGN_PREFIX: &str = "CAMPAIGN#";
/// Not under `IMPORT#`, so listing imports never meets a range.
pub const IMPORT_RANGE_PREFIX: &str = "IMPORTRANGE#";

pub fn tenant_partition(tenant: &TenantId) -> String {
    format!("TENANT#{tenant}")
}

pub fn tenant(tenant: &TenantId) -> Key {
    Key::new(tenant_partition(tenant), TENANT_SK)
}

pub fn api_key(tenant: &TenantId, key: &ApiKeyId) -> Key {
    Key::new(tenant_partition(tenant), format!("{APIKEY_PREFIX}{key}"))
}

pub fn api_key_hash(hash: &str) -> Key {
    Key::new(format!("APIKEYHASH#{hash}"), "APIKEYHASH")
}

pub fn contact(tenant: &TenantId, contact: &ContactId) -> Key {
    Key::new(
        tenant_partition(tenant),
        format!("{CONTACT_PREFIX}{contact}"),
    )
}

pub fn phone(tenant: &TenantId, phone: &PhoneE164) -> Key {
    Key::new(tenant_partition(tenant), format!("{PHONE_PREFIX}{phone}"))
}

pub fn dnc(tenant: &TenantId, phone: &PhoneE164) -> Key {
    Key::new(tenant_partition(tenant), format!("{DNC_PREFIX}{phone}"))
}

/// A do-not-contact entry whose person was erased: the number only as a salted hash
/// (`suppression::phone_digest`), under the same prefix so the list still counts it.
pub fn dnc_erased(tenant: &TenantId, digest: &str) -> Key {
    Key::new(tenant_partition(tenant), format!("{DNC_PREFIX}H#{digest}"))
}

pub fn import(tenant: &TenantId, import: &ImportId) -> Key {
    Key::new(tenant_partition(tenant), format!("{IMPORT_PREFIX}{import}"))
}

pub fn template(tenant: &TenantId, template: &TemplateId) -> Key {
    Key::new(
        tenant_partition(tenant),
        format!("{TEMPLATE_PREFIX}{template}"),
    )
}

pub fn campaign(tenant: &TenantId, campaign: &CampaignId) -> Key {
    Key::new(
        tenant_partition(tenant),
        format!("{CAMPAIGN_PREFIX}{campaign}"),
    )
}

/// The partition of a campaign's message records in `shard` (see `messages::SHARDS`).
pub fn messages_partition(tenant: &TenantId, campaign: &CampaignId, shard: u32) -> String {
    format!("TENANT#{tenant}#MSG#{campaign}#{shard:02}")
}

pub fn message(tenant: &TenantId, campaign: &CampaignId, shard: u32, contact: &ContactId) -> Key {
    Key::new(
        messages_partition(tenant, campaign, shard),
        format!("MSG#{contact}"),
    )
}

pub fn dispatch(tenant: &TenantId, campaign: &CampaignId) -> Key {
    Key::new(tenant_partition(tenant), format!("DISPATCH#{campaign}"))
}

/// Counter changes since the fan-out (held records the scheduler released, held again or
/// dropped), kept apart from the fan-out's own state so neither overwrites the other.
pub fn dispatch_changes(tenant: &TenantId, campaign: &CampaignId) -> Key {
    Key::new(
        tenant_partition(tenant),
        format!("DISPATCHCHANGES#{campaign}"),
    )
}

/// The changes a shard's records made by sending (one counter item per shard, so concurrent
/// senders rarely write the same item). [`dispatch_changes`] is a prefix of every one.
pub fn dispatch_changes_shard(tenant: &TenantId, campaign: &CampaignId, shard: u32) -> Key {
    Key::new(
        tenant_partition(tenant),
        format!("DISPATCHCHANGES#{campaign}#{shard:02}"),
    )
}

/// The record a Twilio message settled, so one message never settles two records.
pub fn sid(tenant: &TenantId, sid: &str) -> Key {
    Key::new(tenant_partition(tenant), format!("SID#{sid}"))
}

/// The partition of a campaign's status callbacks in `shard` (the shard of their records).
pub fn events_partition(tenant: &TenantId, campaign: &CampaignId, shard: u32) -> String {
    format!("TENANT#{tenant}#EVT#{campaign}#{shard:02}")
}

/// The sort-key prefix of one message's callbacks (one SID of one record).
pub fn events_prefix(contact: &ContactId, sid: &str) -> String {
    format!("{contact}#{sid}#")
}

/// One status callback: the same status heard twice is the same item.
pub fn event(
    tenant: &TenantId,
    campaign: &CampaignId,
    shard: u32,
    contact: &ContactId,
    sid: &str,
    status: &str,
) -> Key {
    Key::new(
        events_partition(tenant, campaign, shard),
        format!("{}{status}", events_prefix(contact, sid)),
    )
}

/// The partition of one number's conversation with the tenant.
pub fn thread_partition(tenant: &TenantId, phone: &PhoneE164) -> String {
    format!("TENANT#{tenant}#THREAD#{phone}")
}

pub const THREAD_MESSAGE_PREFIX: &str = "MSG#";

/// A message in a thread, in time order.
pub fn thread_message(tenant: &TenantId, phone: &PhoneE164, at: &str, sid: &str) -> Key {
    Key::new(
        thread_partition(tenant, phone),
        format!("{THREAD_MESSAGE_PREFIX}{at}#{sid}"),
    )
}

/// That an inbound message was handled: Twilio retries, and each is counted once.
pub fn thread_seen(tenant: &TenantId, phone: &PhoneE164, sid: &str) -> Key {
    Key::new(thread_partition(tenant, phone), format!("SID#{sid}"))
}

/// The last campaign message sent to a number: what a reply answers.
pub fn last_outbound(tenant: &TenantId, phone: &PhoneE164) -> Key {
    Key::new(thread_partition(tenant, phone), "LASTOUT")
}

/// A thread's summary, listed in the tenant's inbox.
pub fn thread(tenant: &TenantId, phone: &PhoneE164) -> Key {
    Key::new(tenant_partition(tenant), format!("THREAD#{phone}"))
}

/// The gsi1 partition of a tenant's threads, by their last message.
pub fn inbox_index(tenant: &TenantId) -> String {
    format!("TENANT#{tenant}#INBOX")
}

/// The partition of a tenant's audit log, in time order.
pub fn audit_partition(tenant: &TenantId) -> String {
    format!("TENANT#{tenant}#AUDIT")
}

pub const PARKED_PREFIX: &str = "PARKED#";

/// A campaign with queued records a sender left at a kill switch or pause.
pub fn parked(tenant: &TenantId, campaign: &CampaignId) -> Key {
    Key::new(
        tenant_partition(tenant),
        format!("{PARKED_PREFIX}{campaign}"),
    )
}

/// The gsi2 partition of parked campaigns (all tenants).
pub const PARKED_INDEX: &str = "PARKED";

/// The gsi2 partition of scheduled campaigns (all tenants): the scheduler's to-do list.
pub const SCHEDULED_INDEX: &str = "SCHEDULED";
/// The gsi2 partition of sending campaigns (all tenants): fan-outs the scheduler watches.
pub const SENDING_INDEX: &str = "SENDING";

/// The gsi2 partition of held message records in `shard` (all tenants), by release time.
pub fn held_index(shard: u32) -> String {
    format!("HELD#{shard:02}")
}

/// A time as index sort keys hold it: fixed width, so byte order is time order.
pub fn index_time(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A time to the millisecond as sort keys hold it (fixed width: byte order is time order).
pub fn sort_time(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// A budget counter; `period` is `D#<yyyy-mm-dd>` or `M#<yyyy-mm>`.
pub fn budget(tenant: &TenantId, period: &str) -> Key {
    Key::new(tenant_partition(tenant), format!("BUDGET#{period}"))
}

pub fn attribute(tenant: &TenantId, name: &str) -> Key {
    Key::new(
        tenant_partition(tenant),
        format!("{ATTRIBUTE_PREFIX}{name}"),
    )
}

/// Range `index` of a fanned-out commit; zero-padded so ranges list in order.
pub fn import_range(tenant: &TenantId, import: &ImportId, index: u32) -> Key {
    Key::new(
        tenant_partition(tenant),
        format!("{}{index:05}", import_ranges_prefix(import)),
    )
}

pub fn import_ranges_prefix(import: &ImportId) -> String {
    format!("{IMPORT_RANGE_PREFIX}{import}#")
}

/// The sort-key prefix of phone claims starting with `digits` (a `+` and digits).
pub fn phone_prefix(digits: &str) -> String {
    format!("{PHONE_PREFIX}{digits}")
}

/// The drop folder's lease on one dropped file, by a digest of the file's key (keys may be
/// longer than a sort key may).
pub fn drop_file(tenant: &TenantId, key_digest: &str) -> Key {
    Key::new(tenant_partition(tenant), format!("DROPFILE#{key_digest}"))
}

/// How a name is searched: lower case, single spaces.
pub fn search_name(first: Option<&str>, last: Option<&str>) -> Option<String> {
    let joined = [first, last]
        .into_iter()
        .flatten()
        .flat_map(str::split_whitespace)
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    (!joined.is_empty()).then_some(joined)
}

/// The name-index partition for names (or search prefixes) starting like `name`.
pub fn name_partition(tenant: &TenantId, name: &str) -> Option<String> {
    name.chars()
        .next()
        .map(|first| format!("TENANT#{tenant}#NAME#{first}"))
}

pub fn name_sort(name: &str, contact: &ContactId) -> String {
    format!("{name}#{contact}")
}

pub const USER_PREFIX: &str = "USER#";

pub fn user(tenant: &TenantId, id: &smscrm_domain::UserId) -> Key {
    Key::new(tenant_partition(tenant), format!("{USER_PREFIX}{id}"))
}

/// One user per email per tenant.
pub fn user_email(tenant: &TenantId, email: &smscrm_domain::user::Email) -> Key {
    Key::new(tenant_partition(tenant), format!("USEREMAIL#{email}"))
}

/// How many owners the tenant has (the last one cannot go).
pub fn owners(tenant: &TenantId) -> Key {
    Key::new(tenant_partition(tenant), "OWNERS")
}

/// The tenants an email belongs to (not tenant-scoped: a login starts from the email alone).
pub fn memberships_partition(email: &smscrm_domain::user::Email) -> String {
    format!("EMAIL#{email}")
}

pub fn membership(email: &smscrm_domain::user::Email, tenant: &TenantId) -> Key {
    Key::new(memberships_partition(email), tenant_partition(tenant))
}

/// A magic-link token, by its hash.
pub fn login_token(hash: &str) -> Key {
    Key::new(format!("LOGIN#{hash}"), "LOGIN")
}

/// A session, by the hash of its id.
pub fn session(hash: &str) -> Key {
    Key::new(format!("SESSION#{hash}"), "SESSION")
}

/// A rate limit's counter for one window.
pub fn rate(scope: &str, subject: &str, window: i64) -> Key {
    Key::new(format!("RATE#{scope}#{subject}"), window.to_string())
}
