//! The port conformance suite on the embedded adapters (SQLite table and queue, directory
//! blobs, secrets file), each test in a fresh temporary directory.

smscrm_tests::conformance_suite!(smscrm_tests::backends::embedded);
