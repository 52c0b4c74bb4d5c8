//! Running the real `smscrm` binary from tests.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::process::Command;

use serde_json::Value;

pub const BIN: &str = env!("CARGO_BIN_EXE_smscrm");

/// Runs `smscrm` with `args`, requires success, and returns the JSON it printed.
pub fn smscrm<I, S>(args: I) -> Value
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<_> = args.into_iter().map(|a| a.as_ref().to_owned()).collect();
    let out = Command::new(BIN).args(&args).output().expect("run smscrm");
    assert!(
        out.status.success(),
        "smscrm {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}
