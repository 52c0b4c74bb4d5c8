//! Signing in: magic-link tokens (single use, 15 minutes), sessions (12 hours idle, 7 days at
//! most), and the fixed-window counters that rate-limit login requests. Tokens and session ids
//! are kept as hashes only, with a TTL so the table forgets them.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use smscrm_domain::ports::{Condition, StoreError, Table, Update, table};
use smscrm_domain::{TenantId, UserId};

use crate::codec::{from_item, to_item, with_ttl};
use crate::{RepoError, keys};

pub const LINK_VALID_FOR: Duration = Duration::minutes(15);
pub const SESSION_IDLE: Duration = Duration::hours(12);
pub const SESSION_MAX: Duration = Duration::days(7);
/// A session's last-seen time is written at most this often.
const TOUCH_EVERY: Duration = Duration::minutes(5);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginToken {
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub tenant_id: TenantId,
    pub user_id: UserId,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// Hash of the CSRF token the session's pages send back with every change.
    pub csrf_hash: String,
}

impl Session {
    pub fn expires_at(&self) -> DateTime<Utc> {
        (self.last_seen_at + SESSION_IDLE).min(self.created_at + SESSION_MAX)
    }
}

#[derive(Clone)]
pub struct Logins {
    table: Arc<dyn Table>,
}

impl Logins {
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    pub async fn issue(&self, hash: &str, token: &LoginToken) -> Result<(), RepoError> {
        let item = to_item(token, &keys::login_token(hash), "login_token")?;
        let absent = Condition::AttrNotExists(table::PK.into());
        Ok(self
            .table
            .put(with_ttl(item, token.expires_at), Some(absent))
            .await?)
    }

    /// Uses the token up: the first caller gets it (if it has not expired), every later one
    /// gets nothing.
    pub async fn consume(
        &self,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<LoginToken>, RepoError> {
        let deleted = self
            .table
            .delete(&keys::login_token(hash), Some(Condition::ItemExists))
            .await;
        let item = match deleted {
            Ok(Some(item)) => item,
            Ok(None) | Err(StoreError::ConditionFailed) => return Ok(None),
            Err(other) => return Err(other.into()),
        };
        let token: LoginToken = from_item(item)?;
        Ok((token.expires_at > now).then_some(token))
    }

    pub async fn start_session(&self, hash: &str, session: &Session) -> Result<(), RepoError> {
        let item = to_item(session, &keys::session(hash), "session")?;
        let absent = Condition::AttrNotExists(table::PK.into());
        Ok(self
            .table
            .put(
                with_ttl(item, session.created_at + SESSION_MAX),
                Some(absent),
            )
            .await?)
    }

    /// The live session with this hash, its last-seen time moved to `now` (written at most
    /// every few minutes).
    pub async fn session(
        &self,
        hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Session>, RepoError> {
        let Some(item) = self.table.get(&keys::session(hash)).await? else {
            return Ok(None);
        };
        let mut session: Session = from_item(item)?;
        if session.expires_at() <= now {
            return Ok(None);
        }
        if now - session.last_seen_at >= TOUCH_EVERY {
            session.last_seen_at = now;
            let seen = serde_json::to_value(now).map_err(|e| RepoError::Corrupt(e.to_string()))?;
            let touched = self
                .table
                .update(
                    &keys::session(hash),
                    Update::new().set("last_seen_at", seen),
                    Some(Condition::ItemExists),
                )
                .await;
            match touched {
                // Logged out meanwhile.
                Err(StoreError::ConditionFailed) => return Ok(None),
                Ok(_) => {}
                // Best effort: every function that authenticates may write this item (the
                // template's CallerTouchPolicy), but a throttled write should not fail a read.
                Err(error) => tracing::warn!(%error, "the session's last-seen time was not moved"),
            }
        }
        Ok(Some(session))
    }

    pub async fn end_session(&self, hash: &str) -> Result<(), RepoError> {
        self.table.delete(&keys::session(hash), None).await?;
        Ok(())
    }

    /// Counts one more request of `subject` (an email, an address) in the current window of
    /// `window`; answers the count so far and when the window ends.
    pub async fn count_request(
        &self,
        scope: &str,
        subject: &str,
        window: Duration,
        now: DateTime<Utc>,
    ) -> Result<(i64, DateTime<Utc>), RepoError> {
        let seconds = window.num_seconds().max(1);
        let start = now.timestamp() - now.timestamp().rem_euclid(seconds);
        let ends = DateTime::from_timestamp(start + seconds, 0).unwrap_or(now + window);
        let item = self
            .table
            .update(
                &keys::rate(scope, subject, start),
                Update::new()
                    .add("count", 1)
                    .set(table::TTL, ends.timestamp()),
                None,
            )
            .await?;
        let count = item
            .get("count")
            .and_then(serde_json::Value::as_i64)
            .unwrap_or(1);
        Ok((count, ends))
    }
}
