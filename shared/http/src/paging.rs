//! `?limit=` and `?cursor=` as every list route reads them.

use serde::{Deserialize, Serialize};
use smscrm_domain::ValidationError;
use smscrm_domain::ports::Cursor;

use crate::ApiError;

pub const DEFAULT_PAGE: u32 = 50;
pub const MAX_PAGE: u32 = 100;

/// The page size (default [`DEFAULT_PAGE`], 1..=[`MAX_PAGE`]) and the cursor to continue after
/// (an empty `?cursor=` starts from the beginning).
pub fn page(limit: Option<u32>, cursor: Option<&str>) -> Result<(u32, Option<Cursor>), ApiError> {
    let limit = match limit {
        None => DEFAULT_PAGE,
        Some(n) if (1..=MAX_PAGE).contains(&n) => n,
        Some(_) => {
            return Err(ValidationError::new("limit", format!("must be 1..={MAX_PAGE}")).into());
        }
    };
    let cursor = cursor
        .filter(|c| !c.is_empty())
        .map(Cursor::decode)
        .transpose()?;
    Ok((limit, cursor))
}

/// `?cursor=&limit=` of a list route with no other parameters.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageParams {
    #[serde(default)]
    pub cursor: Option<String>,
    #[serde(default)]
    pub limit: Option<u32>,
}

/// A list response: `{"items": [...], "next_cursor": "..." | null}`.
#[derive(Debug, Serialize)]
pub struct Listing<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Listing<T> {
    pub fn new(items: Vec<T>, next: Option<Cursor>) -> Self {
        Self {
            items,
            next_cursor: next.map(|c| c.encode()),
        }
    }
}
