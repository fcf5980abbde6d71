//! Running the real `tiersim` binary and reading what it wrote, for every test binary
//! that drives the command line (`tests/integration/support.rs` re-exports it).

// Each test binary that includes this file uses only part of it.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Output};

/// The repository root, where `scenarios/` and `traces/` live.
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The `tiersim` binary, to be given its arguments.
pub fn command() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tiersim"))
}

/// Runs the `tiersim` binary with `args` in `dir`.
pub fn tiersim(dir: &Path, args: &[&str]) -> Output {
    command()
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the tiersim binary runs")
}

/// Runs the `tiersim` binary with `args` in `dir` and asserts it succeeded.
pub fn tiersim_ok(dir: &Path, args: &[&str]) -> Output {
    let out = tiersim(dir, args);
    assert!(out.status.success(), "{}", stderr(&out));
    out
}

/// Bytes of output as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The binary's stderr as text.
pub fn stderr(out: &Output) -> String {
    text(&out.stderr)
}

/// The binary's stdout as text.
pub fn stdout(out: &Output) -> String {
    text(&out.stdout)
}

/// Asserts a run exited 2 (bad input) with every phrase in its error and no panic.
pub fn assert_bad_input(out: &Output, phrases: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    for p in phrases {
        assert!(err.contains(p), "{p:?} missing in: {err}");
    }
}

/// A CSV file's rows as maps from column name to value.
pub fn csv_rows(path: &Path) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            headers
                .iter()
                .zip(rec.iter())
                .map(|(h, v)| (h.to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}
