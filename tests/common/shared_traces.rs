//! The public traces in `../shared/traces`, for the tests that need them.
//!
//! Those tests sit in modules named `shared_traces` and are
//! `#[ignore = "needs ../shared/traces"]`, so a plain `cargo test` lists them as ignored
//! instead of passing them unread; `.ci/run` runs them (`-- --ignored shared_traces::`)
//! when the folder exists. A missing trace fails such a test. With
//! `TIERSIM_SHARED_TRACE_LOG` set, each trace a test asks for is logged as a line
//! `test name<TAB>file`, so `.ci/run` can check that every one of them read a trace.

// Each test binary that includes this file uses only part of it.
#![allow(dead_code)]

use std::io::Write;
use std::path::PathBuf;

/// The folder of shared traces beside the checkout.
pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/traces")
}

/// The shared trace `file` (a path under the folder). Panics if it is missing: a test
/// that needs it must not pass without it.
pub fn path(file: &str) -> PathBuf {
    let p = dir().join(file);
    assert!(
        p.is_file(),
        "this test needs {}, which is missing (README, Validation: the shared traces)",
        p.display()
    );
    if let Some(log) = std::env::var_os("TIERSIM_SHARED_TRACE_LOG") {
        // libtest runs each test on a thread named after it.
        let test = std::thread::current().name().unwrap_or("?").to_owned();
        // One write of one short line to a file opened for appending: lines from
        // concurrent tests do not interleave.
        let line = format!("{test}\t{file}\n");
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .and_then(|mut f| f.write_all(line.as_bytes()))
            .unwrap_or_else(|e| panic!("{}: {e}", PathBuf::from(&log).display()));
    }
    p
}
