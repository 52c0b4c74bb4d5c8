//! Budget reservations: every message reserves its cost (segments x price) against the
//! tenant's daily and monthly caps before it is sent, in one conditional transaction over two
//! counters, so any number of concurrent senders can never spend past a cap.
//!
//! Counters are items per period, `BUDGET#D#<yyyy-mm-dd>` and `BUDGET#M#<yyyy-mm>` in the
//! tenant's time zone, holding `spent` in millicents. A period's counter is written even
//! without a cap, so spend is always known.

use std::sync::Arc;

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use smscrm_domain::TenantId;
use smscrm_domain::ports::{CmpOp, Condition, Key, StoreError, Table, TransactOp, Update};
use smscrm_domain::tenant::Budget;

use crate::{RepoError, keys};

const SPENT: &str = "spent";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Daily,
    Monthly,
}

/// A reservation that would pass a cap: the message is held with reason `budget` until
/// `resets_at` (or until the cap is raised).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("the {period:?} budget cap would be exceeded; it resets at {resets_at}")]
pub struct OverBudget {
    pub period: Period,
    pub resets_at: DateTime<Utc>,
    /// The amount alone is more than the cap: no reset makes it fit.
    pub exceeds_cap: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ReserveError {
    #[error(transparent)]
    OverBudget(#[from] OverBudget),
    #[error(transparent)]
    Repo(#[from] RepoError),
}

#[derive(Clone)]
pub struct Budgets {
    table: Arc<dyn Table>,
}

/// The two periods `now` falls in, in the tenant's zone.
struct Periods {
    day: NaiveDate,
    month: NaiveDate,
    zone: Tz,
}

impl Periods {
    fn at(now: DateTime<Utc>, zone: Tz) -> Self {
        let day = now.with_timezone(&zone).date_naive();
        let month = day.with_day(1).unwrap_or(day);
        Self { day, month, zone }
    }

    fn key(&self, tenant: &TenantId, period: Period) -> Key {
        match period {
            Period::Daily => keys::budget(tenant, &format!("D#{}", self.day.format("%Y-%m-%d"))),
            Period::Monthly => keys::budget(tenant, &format!("M#{}", self.month.format("%Y-%m"))),
        }
    }

    /// When the period ends: the next local midnight (or first of the month).
    fn resets_at(&self, period: Period) -> DateTime<Utc> {
        let next = match period {
            Period::Daily => self.day.checked_add_days(Days::new(1)),
            Period::Monthly => self.month.checked_add_months(Months::new(1)),
        }
        .unwrap_or(self.day);
        let midnight = next.and_hms_opt(0, 0, 0).unwrap_or_default();
        // A midnight skipped by a DST change (some zones change at 00:00) resolves to the
        // first instant after it; an ambiguous one to the earlier.
        self.zone
            .from_local_datetime(&midnight)
            .earliest()
            .or_else(|| {
                self.zone
                    .from_local_datetime(&(midnight + chrono::Duration::hours(1)))
                    .earliest()
            })
            .map_or_else(|| midnight.and_utc(), |t| t.with_timezone(&Utc))
    }
}

impl Budgets {
    pub fn new(table: Arc<dyn Table>) -> Self {
        Self { table }
    }

    pub(crate) fn table(&self) -> &dyn Table {
        self.table.as_ref()
    }

    /// Reserves `millicents` in both of the periods `now` falls in, or in neither.
    pub async fn reserve(
        &self,
        tenant: &TenantId,
        budget: Budget,
        zone: Tz,
        millicents: u64,
        now: DateTime<Utc>,
    ) -> Result<(), ReserveError> {
        let periods = Periods::at(now, zone);
        let amount = i64::try_from(millicents)
            .map_err(|_| RepoError::Store(StoreError::Invalid("amount too large".into())))?;
        let caps = [
            (Period::Daily, budget.daily_cap_cents),
            (Period::Monthly, budget.monthly_cap_cents),
        ];
        let mut ops = Vec::with_capacity(2);
        for (period, cap) in caps {
            let condition = match cap {
                None => None,
                Some(cents) => {
                    let room = i64::try_from(cents.saturating_mul(1000))
                        .unwrap_or(i64::MAX)
                        .saturating_sub(amount);
                    if room < 0 {
                        return Err(OverBudget {
                            exceeds_cap: true,
                            ..over(&periods, period)
                        }
                        .into());
                    }
                    Some(
                        Condition::AttrNotExists(SPENT.into()).or(Condition::Compare(
                            SPENT.into(),
                            CmpOp::Le,
                            room.into(),
                        )),
                    )
                }
            };
            ops.push(TransactOp::Update {
                key: periods.key(tenant, period),
                update: Update::new().add(SPENT, amount),
                condition,
            });
        }
        let written = crate::conflicts::transact(self.table.as_ref(), ops, "budget counters");
        match written.await? {
            Ok(()) => Ok(()),
            Err(failed) => {
                let period = if failed.contains(&0) {
                    Period::Daily
                } else {
                    Period::Monthly
                };
                Err(over(&periods, period).into())
            }
        }
    }

    /// What has been reserved in the periods `now` falls in (millicents): (day, month).
    pub async fn spent(
        &self,
        tenant: &TenantId,
        zone: Tz,
        now: DateTime<Utc>,
    ) -> Result<(u64, u64), RepoError> {
        let periods = &Periods::at(now, zone);
        let read = |period| async move {
            let item = self.table.get(&periods.key(tenant, period)).await?;
            Ok::<_, RepoError>(
                item.and_then(|i| i.get(SPENT).and_then(serde_json::Value::as_u64))
                    .unwrap_or(0),
            )
        };
        Ok((read(Period::Daily).await?, read(Period::Monthly).await?))
    }
}

/// The day's and the month's counter keys `at` falls in, in `zone`.
pub(crate) fn period_keys(tenant: &TenantId, at: DateTime<Utc>, zone: Tz) -> [Key; 2] {
    let periods = Periods::at(at, zone);
    [
        periods.key(tenant, Period::Daily),
        periods.key(tenant, Period::Monthly),
    ]
}

fn over(periods: &Periods, period: Period) -> OverBudget {
    OverBudget {
        period,
        resets_at: periods.resets_at(period),
        exceeds_cap: false,
    }
}
