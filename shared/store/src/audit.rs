//! The tenant's audit log: an append-only record of who did what, and when. Entries are never
//! changed or deleted.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use smscrm_domain::TenantId;
use smscrm_domain::ports::table::SortKeyCondition;
use smscrm_domain::ports::{Condition, Cursor, Key, Query, Table, table};

use crate::codec::{all_items, from_item, to_item};
use crate::inbox::Listed;
use crate::{RepoError, keys};

/// Who acted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Actor {
    /// A person, by text message from their number (STOP, START).
    Recipient { phone: String },
    /// The platform itself (a sender, the scheduler, a Twilio callback).
    System { component: String },
    /// A tenant's system, by one of its API keys.
    ApiKey { key_id: String },
    /// A platform operator at the command line.
    Operator { name: String },
    /// One of the tenant's people, signed in.
    User { user_id: String, email: String },
}

impl Actor {
    /// How a pause or a change names who made it: `api_key:<id>`, `operator:<name>`, ...
    pub fn label(&self) -> String {
        match self {
            Self::Recipient { phone } => format!("recipient:{phone}"),
            Self::System { component } => format!("system:{component}"),
            Self::ApiKey { key_id } => format!("api_key:{key_id}"),
            Self::Operator { name } => format!("operator:{name}"),
            Self::User { email, .. } => format!("user:{email}"),
        }
    }
}

/// Which entries to list: one action, and a time range `[since, until)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub action: Option<String>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub id: String,
    pub at: DateTime<Utc>,
    pub actor: Actor,
    /// What was done, e.g. `consent.revoked`, `consent.restored`.
    pub action: String,
    /// What it was done to, e.g. `contact:<id>` or `phone:<e164>`.
    pub target: String,
    #[serde(default)]
    pub details: Value,
    /// The address the request came from, when a request did it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
}

impl AuditEntry {
    pub fn new(
        at: DateTime<Utc>,
        actor: Actor,
        action: &str,
        target: String,
        details: Value,
    ) -> Self {
        Self {
            id: ulid::Ulid::new().to_string().to_lowercase(),
            at,
            actor,
            action: action.to_owned(),
            target,
            details,
            ip: None,
        }
    }

    /// The same entry, noting the client address the request came from.
    pub fn from_ip(self, ip: impl Into<String>) -> Self {
        Self {
            ip: Some(ip.into()),
            ..self
        }
    }
}

fn entry_key(tenant: &TenantId, entry: &AuditEntry) -> Key {
    Key::new(
        keys::audit_partition(tenant),
        format!("{}#{}", keys::sort_time(entry.at), entry.id),
    )
}

fn mentions(entry: &AuditEntry, number: &str) -> bool {
    serde_json::to_string(entry).is_ok_and(|text| replace_number(&text, number, "").is_some())
}

/// `text` with each whole occurrence of `number` (not one inside a longer number) replaced;
/// `None` when there is none.
pub(crate) fn replace_number(text: &str, number: &str, replacement: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    let mut replaced = false;
    for (at, _) in text.match_indices(number) {
        let next = text[at + number.len()..].chars().next();
        if next.is_some_and(|c| c.is_ascii_digit()) || at < last {
            continue;
        }
        out.push_str(&text[last..at]);
        out.push_str(replacement);
        last = at + number.len();
        replaced = true;
    }
    out.push_str(&text[last..]);
    replaced.then_some(out)
}

#[derive(Clone)]
pub struct AuditLog {
    table: Arc<dyn Table>,
}

impl AuditLog {
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    pub async fn append(&self, tenant: &TenantId, entry: &AuditEntry) -> Result<(), RepoError> {
        let item = to_item(entry, &entry_key(tenant, entry), "audit")?;
        Ok(self
            .table
            .put(item, Some(Condition::AttrNotExists(table::PK.into())))
            .await?)
    }

    /// Every entry that mentions `needle` (a phone number), oldest first.
    pub async fn mentioning(
        &self,
        tenant: &TenantId,
        needle: &str,
    ) -> Result<Vec<AuditEntry>, RepoError> {
        let query = Query::partition(keys::audit_partition(tenant)).limit(500);
        let mut found = Vec::new();
        for item in all_items(self.table.as_ref(), &query).await? {
            let entry: AuditEntry = from_item(item)?;
            if mentions(&entry, needle) {
                found.push(entry);
            }
        }
        Ok(found)
    }

    /// Rewrites every entry that mentions `needle` with `replacement` in its place, keeping
    /// what was done and when but not to whose number: an erasure's one exception to an
    /// append-only log. Answers how many entries changed.
    pub async fn redact(
        &self,
        tenant: &TenantId,
        needle: &str,
        replacement: &str,
    ) -> Result<usize, RepoError> {
        let entries = self.mentioning(tenant, needle).await?;
        for entry in &entries {
            let text =
                serde_json::to_string(entry).map_err(|e| RepoError::Corrupt(e.to_string()))?;
            let text = replace_number(&text, needle, replacement).unwrap_or(text);
            let redacted: AuditEntry =
                serde_json::from_str(&text).map_err(|e| RepoError::Corrupt(e.to_string()))?;
            let item = to_item(&redacted, &entry_key(tenant, entry), "audit")?;
            self.table.put(item, None).await?;
        }
        Ok(entries.len())
    }

    /// Entries, newest first. The action is matched within each page read, so a filtered page
    /// may hold fewer than `limit` entries; only no cursor means the end.
    pub async fn list(
        &self,
        tenant: &TenantId,
        filter: &AuditFilter,
        after: Option<Cursor>,
        limit: u32,
    ) -> Result<Listed<AuditEntry>, RepoError> {
        let mut query = Query::partition(keys::audit_partition(tenant))
            .backward()
            .limit(limit)
            .after(after);
        // Sort keys are `<time>#<id>`: a bare time sorts before every entry at that time.
        let bound = |at: Option<DateTime<Utc>>, open: &str| {
            at.map_or_else(|| open.to_owned(), keys::sort_time)
        };
        if filter.since.is_some() || filter.until.is_some() {
            query = query.sort(SortKeyCondition::Between(
                bound(filter.since, "0"),
                bound(filter.until, "~"),
            ));
        }
        let mut listed: Listed<AuditEntry> = Listed::from_page(self.table.query(&query).await?)?;
        if let Some(action) = &filter.action {
            // `campaign.` names a family: every campaign action.
            let family = action.ends_with('.');
            listed.items.retain(|entry| {
                entry.action == *action || (family && entry.action.starts_with(action.as_str()))
            });
        }
        Ok(listed)
    }
}

#[cfg(test)]
mod tests {
    use super::replace_number;

    #[test]
    fn only_whole_numbers_are_replaced() {
        let text =
            r#"{"phone":"+14155550123","other":"+141555501234","target":"phone:+14155550123"}"#;
        assert_eq!(
            replace_number(text, "+14155550123", "erased").as_deref(),
            Some(r#"{"phone":"erased","other":"+141555501234","target":"phone:erased"}"#)
        );
        assert_eq!(replace_number("+141555501234", "+14155550123", "x"), None);
    }
}
