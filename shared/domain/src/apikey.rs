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

use crate::{ApiKeyId, TenantId};

const KEY_PREFIX: &str = "smscrm_";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub tenant_id: TenantId,
    pub name: String,
    /// Hex SHA-256 of the full key.
    pub hash: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
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

pub fn mint(tenant_id: TenantId, name: &str, now: DateTime<Utc>) -> NewApiKey {
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
            created_at: now,
            revoked_at: None,
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
        let a = mint(t.clone(), "ci", Utc::now());
        let b = mint(t, "ci", Utc::now());
        assert_ne!(a.plaintext, b.plaintext);
        assert!(looks_like_key(&a.plaintext));
        assert_eq!(a.key.hash, hash(&a.plaintext));
        assert!(!a.key.hash.contains(&a.plaintext));
        assert!(!format!("{a:?}").contains(&a.plaintext));
    }

    #[test]
    fn garbage_is_not_a_key() {
        assert!(!looks_like_key("Bearer x"));
        assert!(!looks_like_key("smscrm_\u{0}"));
    }
}
