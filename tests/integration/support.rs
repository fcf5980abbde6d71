//! Shared helpers: building plans from inline TOML and running the binary.

use std::path::Path;
use std::process::{Command, Output};

use tiersim::metrics::Bucket;
use tiersim::output::report::Report;
use tiersim::scenario::{Format, Plan, Source};

/// Validates an inline TOML scenario, panicking with the error if it is invalid.
pub fn plan(toml: &str) -> Plan {
    match Source::new("test scenario", toml, Format::Toml).plan(&[]) {
        Ok((_, plan)) => plan,
        Err(e) => panic!("{e}"),
    }
}

/// The time-series buckets starting in `[from_s, to_s)`.
pub fn buckets(r: &Report, from_s: f64, to_s: f64) -> impl Iterator<Item = &Bucket> {
    r.timeseries
        .iter()
        .filter(move |b| b.t_s >= from_s - 1e-9 && b.t_s < to_s - 1e-9)
}

/// Runs an inline TOML scenario.
pub fn run(toml: &str) -> Report {
    tiersim::simulate(&plan(toml))
}

/// Runs the `tiersim` binary with `args` in `dir`.
pub fn tiersim(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tiersim"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the tiersim binary runs")
}

/// The binary's stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The binary's stdout as text.
pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The repository root, where `scenarios/` lives.
pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}
