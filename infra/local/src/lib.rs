//! The local host: every function of smscrm in one process, plus operator commands.
//! `main.rs` is the `smscrm` binary; tests use [`serve::app`] to run the real router.

pub mod backend;
pub mod cli;
pub mod commands;
pub mod demo;
pub mod dropbox;
pub mod import;
pub mod mail;
pub mod sending;
pub mod serve;
