//! End-to-end tests and the port conformance suite of smscrm.
//!
//! - [`conformance`]: one set of cases per port, instantiated on both backends by
//!   [`conformance_suite!`] in `tests/conformance_embedded.rs` and `tests/conformance_aws.rs`.
//! - [`backends`]: fresh, isolated embedded and AWS (moto) backends, for the suite and the
//!   end-to-end tests.
//!
//! Run everything with `scripts/test`: it starts the moto server the AWS backend needs.

pub mod backends;
pub mod conformance;

/// Runs each `async fn(Arc<dyn Table>)` scenario once per backend (`mod embedded` and
/// `mod aws`), so repository behaviour cannot differ between them.
#[macro_export]
macro_rules! table_scenarios {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let backend = $crate::backends::embedded().await;
                    super::$name(backend.table.clone()).await;
                }
            )*
        }
        mod aws {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let backend = $crate::backends::aws().await;
                    super::$name(backend.table.clone()).await;
                }
            )*
        }
    };
}

/// Runs each `async fn(&dyn Backend)` scenario once per backend (`mod embedded`, `mod aws`),
/// for scenarios that need more of a backend than its table (queues, blobs).
#[macro_export]
macro_rules! backend_scenarios {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(&$crate::backends::embedded().await).await;
                }
            )*
        }
        mod aws {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(&$crate::backends::aws().await).await;
                }
            )*
        }
    };
}
