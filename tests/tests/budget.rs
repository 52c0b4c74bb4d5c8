//! Budget caps on both backends: concurrent reservations never spend past a cap, and caps
//! reset at the tenant's local midnight and first of the month.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::America::New_York;
use smscrm_domain::TenantId;
use smscrm_domain::ports::Table;
use smscrm_domain::tenant::Budget;
use smscrm_store::{Budgets, OverBudget, Period, ReserveError};

smscrm_tests::table_scenarios!(
    concurrent_reservations_never_pass_the_cap,
    the_daily_cap_resets_at_local_midnight,
    the_monthly_cap_holds_across_days_until_the_first,
    a_message_dearer_than_the_cap_is_held_without_writing,
);

/// One US segment, in millicents.
const SEGMENT: u64 = 830;

fn at(rfc3339: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(rfc3339)
        .expect("time")
        .with_timezone(&Utc)
}

fn over(result: Result<(), ReserveError>) -> OverBudget {
    match result {
        Err(ReserveError::OverBudget(over)) => over,
        other => panic!("expected over budget, got {other:?}"),
    }
}

async fn concurrent_reservations_never_pass_the_cap(table: Arc<dyn Table>) {
    let tenant = TenantId::generate();
    let budget = Budget {
        daily_cap_cents: Some(10),
        monthly_cap_cents: Some(1000),
    };
    let now = at("2026-11-22T15:00:00Z");
    let tasks: Vec<_> = (0..40)
        .map(|_| {
            let budgets = Budgets::new(table.clone());
            let tenant = tenant.clone();
            tokio::spawn(async move {
                budgets
                    .reserve(&tenant, budget, New_York, SEGMENT, now)
                    .await
            })
        })
        .collect();
    let mut reserved = 0;
    for task in tasks {
        match task.await.expect("task") {
            Ok(()) => reserved += 1,
            Err(ReserveError::OverBudget(over)) => assert_eq!(over.period, Period::Daily),
            Err(other) => panic!("{other}"),
        }
    }
    // 10 cents hold 12 segments of 0.83 cents, and not one more.
    assert_eq!(reserved, 12);
    let spent = Budgets::new(table.clone())
        .spent(&tenant, New_York, now)
        .await
        .expect("spent");
    assert_eq!(spent, (12 * SEGMENT, 12 * SEGMENT));
}

async fn the_daily_cap_resets_at_local_midnight(table: Arc<dyn Table>) {
    let budgets = Budgets::new(table);
    let tenant = TenantId::generate();
    let budget = Budget {
        daily_cap_cents: Some(1),
        monthly_cap_cents: None,
    };
    // 23:00 in New York on 31 October is 03:00 UTC on 1 November.
    let late = at("2026-11-01T03:00:00Z");
    budgets
        .reserve(&tenant, budget, New_York, SEGMENT, late)
        .await
        .expect("first");
    let held = over(
        budgets
            .reserve(&tenant, budget, New_York, SEGMENT, late)
            .await,
    );
    assert_eq!(held.period, Period::Daily);
    // Local midnight, still on daylight time (EDT, UTC-4).
    assert_eq!(held.resets_at, at("2026-11-01T04:00:00Z"));
    budgets
        .reserve(&tenant, budget, New_York, SEGMENT, held.resets_at)
        .await
        .expect("a new day");
    // 1 November is the day clocks fall back: its midnight is the next one on EST (UTC-5).
    let held = over(
        budgets
            .reserve(
                &tenant,
                budget,
                New_York,
                SEGMENT,
                at("2026-11-01T20:00:00Z"),
            )
            .await,
    );
    assert_eq!(held.resets_at, at("2026-11-02T05:00:00Z"));
}

async fn the_monthly_cap_holds_across_days_until_the_first(table: Arc<dyn Table>) {
    let budgets = Budgets::new(table);
    let tenant = TenantId::generate();
    let budget = Budget {
        daily_cap_cents: Some(100),
        monthly_cap_cents: Some(2),
    };
    for day in ["2026-11-10T15:00:00Z", "2026-11-11T15:00:00Z"] {
        budgets
            .reserve(&tenant, budget, New_York, SEGMENT, at(day))
            .await
            .expect("within the month's cap");
    }
    let held = over(
        budgets
            .reserve(
                &tenant,
                budget,
                New_York,
                SEGMENT,
                at("2026-11-12T15:00:00Z"),
            )
            .await,
    );
    assert_eq!(held.period, Period::Monthly);
    let first = New_York
        .with_ymd_and_hms(2026, 12, 1, 0, 0, 0)
        .single()
        .expect("midnight");
    assert_eq!(held.resets_at, first.with_timezone(&Utc));
    // The refused reservation left the day's counter as it was.
    let (day, month) = budgets
        .spent(&tenant, New_York, at("2026-11-12T15:00:00Z"))
        .await
        .expect("spent");
    assert_eq!((day, month), (0, 2 * SEGMENT));
}

async fn a_message_dearer_than_the_cap_is_held_without_writing(table: Arc<dyn Table>) {
    let budgets = Budgets::new(table);
    let tenant = TenantId::generate();
    let budget = Budget {
        daily_cap_cents: Some(2),
        monthly_cap_cents: None,
    };
    let now = at("2026-11-22T15:00:00Z");
    let held = over(
        budgets
            .reserve(&tenant, budget, New_York, 3 * SEGMENT, now)
            .await,
    );
    assert_eq!(held.period, Period::Daily);
    assert_eq!(
        budgets.spent(&tenant, New_York, now).await.expect("spent"),
        (0, 0)
    );
}
