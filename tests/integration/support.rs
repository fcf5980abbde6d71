//! Shared helpers: building plans from inline TOML; running the binary and reading its
//! files (`tests/common/cli.rs`, shared with the other test binaries).

use tiersim::metrics::Bucket;
use tiersim::output::report::Report;
use tiersim::scenario::{Format, Plan, Source};

#[path = "../common/cli.rs"]
mod cli;
pub use cli::*;

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
