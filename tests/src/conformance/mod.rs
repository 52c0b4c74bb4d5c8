//! The port conformance suite: one set of async cases per port, each taking the port(s) and
//! asserting behaviour. [`conformance_suite!`](crate::conformance_suite) instantiates every case as a
//! `#[tokio::test]` on one backend; `tests/conformance_embedded.rs` and `tests/conformance_aws.rs`
//! invoke it once each, so a case can never run on one backend only.
//!
//! Adding a case: write a `pub async fn` in the port's module and add its name to the list in
//! [`conformance_suite!`](crate::conformance_suite). A generated test (`every_case_is_listed`)
//! fails when a `pub async fn` of a case module is missing from the list.

pub mod blobs;
pub mod mailer;
pub mod queue;
pub mod secrets;
pub mod table;

use std::future::Future;
use std::time::{Duration, Instant};

use serde_json::Value;
use smscrm_domain::ports::Item;

/// A name no other test (or earlier run against the same emulator) uses.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", ulid::Ulid::new().to_string().to_lowercase())
}

/// The JSON object as an [`Item`]; panics on anything else (test data only).
pub fn obj(value: Value) -> Item {
    match value {
        Value::Object(map) => map,
        other => panic!("test item must be a JSON object, got {other}"),
    }
}

/// Polls `probe` until it returns `Some`, or panics with `what` after `timeout`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The names of the `pub async fn` cases defined in a case module's source.
pub fn case_names(source: &str) -> Vec<String> {
    source
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("pub async fn "))
        .filter_map(|rest| rest.split(['(', '<']).next())
        .map(|name| name.trim().to_owned())
        .collect()
}

/// Fails when a case module defines a `pub async fn` that the suite macro does not list (or the
/// macro lists one that does not exist).
pub fn assert_all_listed(port: &str, source: &str, listed: &[&str]) {
    let mut defined = case_names(source);
    defined.sort();
    let mut listed: Vec<String> = listed.iter().map(|s| (*s).to_owned()).collect();
    listed.sort();
    assert_eq!(
        defined, listed,
        "the {port} cases defined in tests/src/conformance/{port}.rs and those listed in \
         conformance_suite! differ"
    );
}

/// Instantiates every conformance case as a `#[tokio::test]` on one backend.
///
/// `$backend` is an async function returning a type that implements
/// [`Backend`](crate::backends::Backend), e.g. `smscrm_tests::backends::embedded`. Each test gets
/// a fresh backend (its own table, bucket, queues, secrets).
#[macro_export]
macro_rules! conformance_suite {
    ($backend:path) => {
        $crate::__conformance_cases! { $backend;
            table: [
                round_trip_nested_json,
                put_replaces_whole_item,
                conditional_put_item_not_exists,
                conditions_on_put,
                conditions_on_update,
                conditions_on_delete,
                update_creates_missing_item,
                update_set_add_remove_returns_new_item,
                concurrent_counter_adds,
                claim_race_has_one_winner,
                budget_race_never_overspends,
                transaction_all_or_nothing,
                transaction_applies_every_kind_of_op,
                transaction_limits_are_invalid,
                pagination_visits_each_item_once_in_byte_order,
                sort_key_conditions,
                gsi_queries_paginate,
                cursor_from_another_partition_is_invalid,
                ttl_hides_expired_items,
                batch_put_last_wins_and_batch_get_skips_missing,
                batch_put_if_absent_keeps_what_is_there,
                delete_returns_old_item,
                invalid_requests_are_rejected,
            ];
            queue: [
                send_and_receive_all,
                retry_redelivers_with_new_receipt,
                ack_removes_message,
                visibility_timeout_hides_received_message,
                retry_after_delay_hides_message,
                dead_letter_after_max_receives,
                delay_hides_message,
                invalid_requests_are_rejected,
            ];
            blobs: [
                put_get_list_delete,
                missing_is_none,
                invalid_keys_are_rejected,
                binary_content_is_intact,
                unusual_keys_round_trip,
                list_uses_string_prefixes_and_sorts,
                open_streams_the_object,
                size_of_present_and_missing,
                open_version_reads_only_that_version,
                open_range_reads_part_of_a_version,
                stat_tag_changes_with_the_content,
                put_stream_large_round_trips,
                put_stream_around_the_part_size,
                put_stream_empty_body,
                put_stream_failing_body_stores_nothing,
                put_stream_cancelled_stores_nothing,
                presign_put_uploads_or_is_none,
            ];
            secrets: [
                put_get_overwrite,
                missing_is_none,
                invalid_names_are_rejected,
            ];
            mailer: [
                a_plain_text_email_is_accepted,
                a_subject_must_be_one_line,
            ];
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_cases {
    ($backend:path;
        table: [$($table:ident),* $(,)?];
        queue: [$($queue:ident),* $(,)?];
        blobs: [$($blobs:ident),* $(,)?];
        secrets: [$($secrets:ident),* $(,)?];
        mailer: [$($mailer:ident),* $(,)?];
    ) => {
        mod table {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $table() {
                    let backend = $backend().await;
                    $crate::conformance::table::$table(
                        $crate::backends::Backend::table(&backend),
                    )
                    .await;
                }
            )*
        }

        mod queue {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $queue() {
                    let backend = $backend().await;
                    $crate::conformance::queue::$queue(&backend).await;
                }
            )*
        }

        mod blobs {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $blobs() {
                    let backend = $backend().await;
                    $crate::conformance::blobs::$blobs(&backend).await;
                }
            )*
        }

        mod secrets {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $secrets() {
                    let backend = $backend().await;
                    $crate::conformance::secrets::$secrets(
                        $crate::backends::Backend::secrets(&backend),
                    )
                    .await;
                }
            )*
        }

        mod mailer {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $mailer() {
                    let backend = $backend().await;
                    $crate::conformance::mailer::$mailer(
                        $crate::backends::Backend::mailer(&backend),
                    )
                    .await;
                }
            )*
        }

        #[test]
        fn every_case_is_listed() {
            $crate::conformance::assert_all_listed(
                "table",
                $crate::conformance::table::SOURCE,
                &[$(stringify!($table)),*],
            );
            $crate::conformance::assert_all_listed(
                "queue",
                $crate::conformance::queue::SOURCE,
                &[$(stringify!($queue)),*],
            );
            $crate::conformance::assert_all_listed(
                "blobs",
                $crate::conformance::blobs::SOURCE,
                &[$(stringify!($blobs)),*],
            );
            $crate::conformance::assert_all_listed(
                "secrets",
                $crate::conformance::secrets::SOURCE,
                &[$(stringify!($secrets)),*],
            );
            $crate::conformance::assert_all_listed(
                "mailer",
                $crate::conformance::mailer::SOURCE,
                &[$(stringify!($mailer)),*],
            );
        }
    };
}
