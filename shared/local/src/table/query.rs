//! Queries as SQL: a key-ordered range scan over the primary key or a GSI's partial index,
//! with DynamoDB's paging rules.

use std::fmt::Write as _;

use rusqlite::Connection;
use rusqlite::types::Value as SqlValue;
use smscrm_domain::ports::table::{
    Cursor, Direction, Index, Key, Page, Query, SortKeyCondition, StoreError,
};

use super::row::{ITEM_COLUMNS, restore, successor, text};
use crate::db::Fail;

/// One end of the sort-key range.
struct Bound {
    value: Vec<u8>,
    inclusive: bool,
}

impl Bound {
    fn inclusive(value: &str) -> Option<Self> {
        Some(Self {
            value: value.as_bytes().to_vec(),
            inclusive: true,
        })
    }
    fn exclusive(value: &str) -> Option<Self> {
        Some(Self {
            value: value.as_bytes().to_vec(),
            inclusive: false,
        })
    }
}

/// The sort-key condition as a byte range (lower, upper).
fn bounds(cond: Option<&SortKeyCondition>) -> Result<(Option<Bound>, Option<Bound>), StoreError> {
    use SortKeyCondition as C;
    Ok(match cond {
        None => (None, None),
        Some(C::Eq(v)) => (Bound::inclusive(v), Bound::inclusive(v)),
        Some(C::Prefix(p)) if p.is_empty() => (None, None),
        Some(C::Prefix(p)) => (
            Bound::inclusive(p),
            successor(p.as_bytes()).map(|value| Bound {
                value,
                inclusive: false,
            }),
        ),
        Some(C::Between(low, high)) => {
            if low.as_bytes() > high.as_bytes() {
                // DynamoDB's ValidationException for BETWEEN with bounds the wrong way round.
                return Err(StoreError::Invalid(
                    "BETWEEN needs its lower bound at or below its upper bound".into(),
                ));
            }
            (Bound::inclusive(low), Bound::inclusive(high))
        }
        Some(C::Lt(v)) => (None, Bound::exclusive(v)),
        Some(C::Le(v)) => (None, Bound::inclusive(v)),
        Some(C::Gt(v)) => (Bound::exclusive(v), None),
        Some(C::Ge(v)) => (Bound::inclusive(v), None),
    })
}

/// The values of the order columns at the cursor: the sort key, then on a GSI the table key.
fn cursor_position(index: Index, cursor: &Cursor) -> Result<Vec<Vec<u8>>, StoreError> {
    let values: Vec<&str> = match (index, &cursor.index_key) {
        (Index::Primary, None) => vec![&cursor.key.sk],
        (Index::Gsi1 | Index::Gsi2, Some(ikey)) => vec![&ikey.sk, &cursor.key.pk, &cursor.key.sk],
        _ => return Err(StoreError::InvalidCursor),
    };
    Ok(values.into_iter().map(|v| v.as_bytes().to_vec()).collect())
}

/// Whether resuming after `position` excludes everything `bound` (the condition's bound on the
/// side the scan starts from) excludes, making the bound redundant. Otherwise the cursor lies
/// outside the range, before its start, and the bound makes the cursor redundant.
fn cursor_is_tighter(position: &[Vec<u8>], bound: Option<&Bound>, direction: Direction) -> bool {
    let (Some(bound), Some(sort_key)) = (bound, position.first()) else {
        return true;
    };
    let beyond = match direction {
        Direction::Forward => sort_key.as_slice() > bound.value.as_slice(),
        Direction::Backward => sort_key.as_slice() < bound.value.as_slice(),
    };
    // At the bound itself, an exclusive bound also drops the rest of the cursor's sort key.
    beyond || (sort_key == &bound.value && bound.inclusive)
}

/// A query rendered as SQL and its parameters.
pub(super) struct Plan {
    sql: String,
    params: Vec<SqlValue>,
    index: Index,
    limit: usize,
}

impl Plan {
    /// `query` must have passed `Query::validate`.
    pub fn new(query: &Query) -> Result<Self, StoreError> {
        let index = query.index;
        // The index's attribute names are also its column names.
        let (pcol, scol) = index.key_attrs();
        // The order of the scan and the position a cursor names: DynamoDB orders a GSI's items
        // by its sort key; ties are broken by the table key so a cursor is a unique position.
        let order: &[&str] = match index {
            Index::Primary => &["sk"],
            Index::Gsi1 | Index::Gsi2 => &[scol, "pk", "sk"],
        };
        let mut plan = Self {
            sql: format!(
                "SELECT pk, sk, {pcol}, {scol}, ttl, {ITEM_COLUMNS} FROM items WHERE {pcol} = ?1"
            ),
            params: vec![SqlValue::Blob(query.partition.as_bytes().to_vec())],
            index,
            limit: query.limit as usize,
        };
        let (mut lower, mut upper) = bounds(query.sort.as_ref())?;
        let resume = match &query.cursor {
            Some(cursor) => {
                let position = cursor_position(index, cursor)?;
                let start = match query.direction {
                    Direction::Forward => &mut lower,
                    Direction::Backward => &mut upper,
                };
                // The cursor and the condition bound the scan on the same side. SQLite starts
                // its range at only one of them, so give it the tighter one alone: the other
                // would be checked row by row from the start of the range on every page.
                if cursor_is_tighter(&position, start.as_ref(), query.direction) {
                    *start = None;
                    Some(position)
                } else {
                    None
                }
            }
            None => None,
        };
        if let Some(b) = lower {
            let op = if b.inclusive { ">=" } else { ">" };
            let at = plan.bind(SqlValue::Blob(b.value));
            plan.push(format_args!(" AND {scol} {op} ?{at}"));
        }
        if let Some(b) = upper {
            let op = if b.inclusive { "<=" } else { "<" };
            let at = plan.bind(SqlValue::Blob(b.value));
            plan.push(format_args!(" AND {scol} {op} ?{at}"));
        }
        if let Some(position) = resume {
            plan.resume_after(&position, order, query.direction);
        }
        let dir = match query.direction {
            Direction::Forward => "ASC",
            Direction::Backward => "DESC",
        };
        let order_by: Vec<String> = order.iter().map(|col| format!("{col} {dir}")).collect();
        let at = plan.bind(SqlValue::Integer(i64::from(query.limit)));
        plan.push(format_args!(
            " ORDER BY {} LIMIT ?{at}",
            order_by.join(", ")
        ));
        Ok(plan)
    }

    /// Strictly after the cursor position in the scan direction: a row-value comparison over
    /// the order columns, which SQLite turns into the start of a range on the index.
    fn resume_after(&mut self, position: &[Vec<u8>], order: &[&str], direction: Direction) {
        let op = match direction {
            Direction::Forward => ">",
            Direction::Backward => "<",
        };
        let slots: Vec<String> = position
            .iter()
            .map(|v| format!("?{}", self.bind(SqlValue::Blob(v.clone()))))
            .collect();
        self.push(format_args!(
            " AND ({}) {op} ({})",
            order.join(", "),
            slots.join(", ")
        ));
    }

    fn bind(&mut self, value: SqlValue) -> usize {
        self.params.push(value);
        self.params.len()
    }

    fn push(&mut self, sql: std::fmt::Arguments<'_>) {
        // Writing to a String cannot fail.
        let _ = self.sql.write_fmt(sql);
    }

    /// Runs the plan. As DynamoDB applies `Limit` before filters, `limit` rows are read in key
    /// order, expired ones are dropped from the page afterwards, and a cursor is returned
    /// whenever the limit was reached (even when nothing follows), naming the last row read.
    pub fn run(&self, conn: &Connection, now_epoch: i64) -> Result<Page, Fail<StoreError>> {
        let mut stmt = conn.prepare_cached(&self.sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(self.params.iter()))?;
        let mut page = Page::default();
        let mut read = 0;
        let mut last = None;
        while let Some(row) = rows.next()? {
            read += 1;
            let ttl: Option<i64> = row.get(4)?;
            if ttl.is_none_or(|ttl| ttl > now_epoch) {
                page.items.push(restore(row, 5).map_err(Fail::Port)?);
            }
            if read == self.limit {
                last = Some(self.cursor_at(row)?);
            }
        }
        page.next_cursor = last;
        Ok(page)
    }

    fn cursor_at(&self, row: &rusqlite::Row<'_>) -> Result<Cursor, Fail<StoreError>> {
        let column = |at: usize| -> Result<String, Fail<StoreError>> {
            text(row.get::<_, Vec<u8>>(at)?).map_err(Fail::Port)
        };
        let key = Key::new(column(0)?, column(1)?);
        let index_key = match self.index {
            Index::Primary => None,
            Index::Gsi1 | Index::Gsi2 => Some(Key::new(column(2)?, column(3)?)),
        };
        Ok(Cursor {
            index: self.index,
            key,
            index_key,
        })
    }

    #[cfg(test)]
    pub fn sql(&self) -> &str {
        &self.sql
    }
}
