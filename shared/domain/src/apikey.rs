//! API keys: random secrets shown once and stored only as a hash.
//!
//! A key reads `smscrm_<key id>_<secret>`. The id lets an operator name a key (to revoke it)
//! without holding the secret; the SHA-256 of the whole key is what is stored and looked up.
//! A fast hash is enough because the secret has 256 bits of entropy: there is nothing to brute
//! force, unlike a password.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::user::Permission;
use crate::{ApiKeyId, TenantId, ValidationError};

const KEY_PREFIX: &str = "smscrm_";

/// What a key may do. Scopes do not imply one another: a key that only feeds contacts in
/// needs `write` and nothing else. `admin` covers settings, budgets, credentials, the kill
/// switch (a monitoring system may pull it) and the audit log. No scope manages people or
/// keys: that is for owners and admins, signed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Read,
    Write,
    Send,
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 4] = [Scope::Read, Scope::Write, Scope::Send, Scope::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Send => "send",
            Self::Admin => "admin",
        }
    }

    /// The scope a key needs for `permission`; none for managing people and keys.
    pub fn needed_for(permission: Permission) -> Option<Scope> {
        match permission {
            Permission::Read => Some(Self::Read),
            Permission::Write => Some(Self::Write),
            Permission::Send => Some(Self::Send),
            Permission::Administer => Some(Self::Admin),
            Permission::ManageAccess => None,
        }
    }

    /// A key's scopes as written by people (`read,write`): at least one, no unknown name,
    /// duplicates folded.
    pub fn parse_list<'a>(
        names: impl IntoIterator<Item = &'a str>,
    ) -> Result<Vec<Scope>, ValidationError> {
        let mut scopes = Vec::new();
        for name in names {
            let scope = match name.trim().to_ascii_lowercase().as_str() {
                "read" => Self::Read,
                "write" => Self::Write,
                "send" => Self::Send,
                "admin" => Self::Admin,
                _ => {
                    return Err(ValidationError::new(
                        "scopes",
                        format!("unknown scope {name:?}; scopes are read, write, send and admin"),
                    ));
                }
            };
            scopes.push(scope);
        }
        scopes.sort();
        scopes.dedup();
        if scopes.is_empty() {
            return Err(ValidationError::new(
                "scopes",
                "name at least one of read, write, send and admin",
            ));
        }
        Ok(scopes)
    }
}

/// Keys minted before scopes existed could do everything; they still can.
pub fn all_scopes() -> Vec<Scope> {
    Scope::ALL.to_vec()
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub tenant_id: TenantId,
    pub name: String,
    /// Hex SHA-256 of the full key.
    pub hash: String,
    #[serde(default = "all_scopes")]
    pub scopes: Vec<Scope>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Not kept on the key's record: the store fills it in when listing keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<DateTime<Utc>>,
}

impl ApiKey {
    pub fn has(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }
}

/// A newly minted key: the plaintext exists only here, to be shown once.
pub struct NewApiKey {
    pub key: ApiKey,
    pub plaintext: String,
}

impl std::fmt::Debug for NewApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewApiKey")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

pub fn mint(tenant_id: TenantId, name: &str, scopes: Vec<Scope>, now: DateTime<Utc>) -> NewApiKey {
    let mut secret = [0u8; 32];
    rand::rng().fill_bytes(&mut secret);
    let id = ApiKeyId::generate();
    let plaintext = format!(
        "{KEY_PREFIX}{id}_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret)
    );
    NewApiKey {
        key: ApiKey {
            id,
            tenant_id,
            name: name.trim().chars().take(100).collect(),
            hash: hash(&plaintext),
            scopes,
            created_at: now,
            revoked_at: None,
            last_used_at: None,
        },
        plaintext,
    }
}

/// The stored form of a presented key. Anything can be presented; only well-formed keys can
/// match, and the caller looks the hash up.
pub fn hash(presented: &str) -> String {
    let digest = Sha256::digest(presented.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Cheap shape check so garbage never reaches the store.
pub fn looks_like_key(presented: &str) -> bool {
    presented.starts_with(KEY_PREFIX)
        && presented.len() < 200
        && presented
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_keys_are_unique_and_stored_only_as_hashes() {
        let t = TenantId::generate();
        let a = mint(t.clone(), "ci", Scope::ALL.to_vec(), Utc::now());
        let b = mint(t, "ci", vec![Scope::Read], Utc::now());
        assert_ne!(a.plaintext, b.plaintext);
        assert!(looks_like_key(&a.plaintext));
        assert_eq!(a.key.hash, hash(&a.plaintext));
        assert!(!a.key.hash.contains(&a.plaintext));
        assert!(!format!("{a:?}").contains(&a.plaintext));
    }

    #[test]
    fn scopes_are_named_plainly_and_never_manage_access() {
        assert_eq!(
            Scope::parse_list(["Write", " read", "write"]),
            Ok(vec![Scope::Read, Scope::Write])
        );
        assert!(Scope::parse_list(["owner"]).is_err());
        assert!(Scope::parse_list([]).is_err());
        assert_eq!(Scope::needed_for(Permission::Send), Some(Scope::Send));
        assert_eq!(
            Scope::needed_for(Permission::Administer),
            Some(Scope::Admin)
        );
        assert_eq!(Scope::needed_for(Permission::ManageAccess), None);
        let old: ApiKey = serde_json::from_value(serde_json::json!({
            "id": ApiKeyId::generate(), "tenant_id": TenantId::generate(), "name": "old",
            "hash": "00", "created_at": Utc::now(), "revoked_at": null,
        }))
        .expect("a key stored before scopes");
        assert!(Scope::ALL.iter().all(|s| old.has(*s)));
    }

    #[test]
    fn garbage_is_not_a_key() {
        assert!(!looks_like_key("Bearer x"));
        assert!(!looks_like_key("smscrm_\u{0}"));
    }
}
