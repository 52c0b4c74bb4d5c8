//! The people of a tenant: their email, their role, and what each role may do. Login secrets
//! (magic-link tokens, session ids) are random, shown once, and kept only as hashes.

use std::fmt;

use base64::Engine as _;
use chrono::{DateTime, Utc};
use rand::RngCore as _;
use serde::{Deserialize, Serialize};

use crate::{TenantId, UserId, ValidationError};

/// An email address, trimmed and lowercased. Checked for shape only: whether it receives mail
/// is for the magic link to find out.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, ValidationError> {
        let email = raw.trim().to_lowercase();
        let invalid =
            || ValidationError::new("email", format!("`{}` is not an email address", raw.trim()));
        let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
        let well_formed = !local.is_empty()
            && local.len() <= 64
            && email.len() <= 254
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && !email.chars().any(|c| c.is_whitespace() || c.is_control());
        if !well_formed {
            return Err(invalid());
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = ValidationError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<Email> for String {
    fn from(email: Email) -> Self {
        email.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a person may do in their tenant, most powerful first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Admin,
    /// Runs campaigns: contacts, templates, campaigns, imports.
    Member,
    /// Reads everything, changes nothing.
    Viewer,
}

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    Read,
    /// Contacts, templates, imports, campaign drafts.
    Write,
    /// Launching, pausing and resuming campaigns.
    Send,
    /// Settings, budgets, credentials, the kill switch, the audit log.
    Administer,
    /// People and API keys: who may act for the tenant. Only signed-in owners and admins,
    /// so that no key, however broad, can mint itself successors.
    ManageAccess,
}

impl Role {
    pub fn allows(self, permission: Permission) -> bool {
        match self {
            Self::Owner | Self::Admin => true,
            Self::Member => matches!(
                permission,
                Permission::Read | Permission::Write | Permission::Send
            ),
            Self::Viewer => permission == Permission::Read,
        }
    }
}

impl std::str::FromStr for Role {
    type Err = ValidationError;
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        serde_json::from_value(serde_json::Value::String(raw.trim().to_lowercase()))
            .map_err(|_| ValidationError::new("role", "one of owner, admin, member, viewer"))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub tenant_id: TenantId,
    pub email: Email,
    pub role: Role,
    pub created_at: DateTime<Utc>,
    #[serde(default)]
    pub last_login_at: Option<DateTime<Utc>>,
}

impl User {
    pub fn new(tenant_id: TenantId, email: Email, role: Role, now: DateTime<Utc>) -> Self {
        Self {
            id: UserId::generate(),
            tenant_id,
            email,
            role,
            created_at: now,
            last_login_at: None,
        }
    }
}

/// A random secret (a magic-link token, a session id) and the hash it is kept as.
pub struct Secret {
    pub plaintext: String,
    pub hash: String,
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Secret")
            .field("hash", &self.hash)
            .finish_non_exhaustive()
    }
}

/// 256 random bits, URL-safe: nothing to guess, so a fast hash is enough to keep it.
pub fn mint_secret() -> Secret {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let plaintext = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
    Secret {
        hash: crate::apikey::hash(&plaintext),
        plaintext,
    }
}

/// The hash of a presented secret, if it has the shape of one (so garbage reaches no store).
pub fn secret_hash(presented: &str) -> Option<String> {
    let shaped = presented.len() == 43
        && presented
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    shaped.then(|| crate::apikey::hash(presented))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_lowercased_and_checked_for_shape() {
        assert_eq!(
            Email::parse(" Ada@Example.COM ").map(|e| e.0),
            Ok("ada@example.com".into())
        );
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a da@example.com",
            "ada@.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn roles_allow_what_they_say() {
        use Permission::*;
        let table = [
            (Role::Owner, [true, true, true, true, true]),
            (Role::Admin, [true, true, true, true, true]),
            (Role::Member, [true, true, true, false, false]),
            (Role::Viewer, [true, false, false, false, false]),
        ];
        for (role, expected) in table {
            let got = [Read, Write, Send, Administer, ManageAccess].map(|p| role.allows(p));
            assert_eq!(got, expected, "{role:?}");
        }
        assert_eq!("Admin".parse::<Role>(), Ok(Role::Admin));
        assert!("root".parse::<Role>().is_err());
    }

    #[test]
    fn secrets_are_random_and_only_their_shape_is_hashed() {
        let (a, b) = (mint_secret(), mint_secret());
        assert_ne!(a.plaintext, b.plaintext);
        assert_eq!(secret_hash(&a.plaintext).as_deref(), Some(a.hash.as_str()));
        assert_eq!(secret_hash("short"), None);
        assert_eq!(secret_hash(&format!("{}!", &a.plaintext[..42])), None);
    }
}
