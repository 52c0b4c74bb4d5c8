//! Transactions that share hot items (a campaign's counter shards, a budget period) lose races
//! to one another: DynamoDB cancels the loser with `TransactionConflict` and no failed
//! condition. Nothing of it was written, so running it again is safe, and needed: a reply or a
//! delivery receipt refused for a busy counter would be lost (Twilio does not retry).

use smscrm_domain::ports::{StoreError, Table, TransactOp};

use crate::RepoError;

/// How many times a transaction is run while conflicts alone cancel it.
pub(crate) const ATTEMPTS: usize = 20;

/// Runs `ops`, again while a conflict (and no condition) cancels it. `Ok(Err(failed))`: the
/// conditions of those operations (by index) failed, and nothing was written.
pub(crate) async fn transact(
    table: &dyn Table,
    ops: Vec<TransactOp>,
    what: &str,
) -> Result<Result<(), Vec<usize>>, RepoError> {
    for _ in 0..ATTEMPTS {
        match table.transact(ops.clone()).await {
            Ok(()) => return Ok(Ok(())),
            Err(StoreError::TransactionCanceled { failed }) if failed.is_empty() => continue,
            Err(StoreError::TransactionCanceled { failed }) => return Ok(Err(failed)),
            Err(other) => return Err(other.into()),
        }
    }
    Err(RepoError::Store(StoreError::Unavailable(format!(
        "{what} are busy; try again"
    ))))
}
