use smscrm_domain::ValidationError;
use smscrm_domain::ports::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    #[error("not found")]
    NotFound,
    /// The change clashes with stored state (a phone already taken, a key already revoked).
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Validation(#[from] ValidationError),
    #[error("invalid pagination cursor")]
    InvalidCursor,
    /// A stored item no longer decodes: a bug or a migration gap, never the caller's fault.
    #[error("stored item is corrupt: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for RepoError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::InvalidCursor => Self::InvalidCursor,
            other => Self::Store(other),
        }
    }
}
