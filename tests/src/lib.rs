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
