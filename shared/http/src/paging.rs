//! `?limit=` and `?cursor=` as every list route reads them.

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
