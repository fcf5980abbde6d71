//! Memory per cached object of a replay: `cargo run --release --example replay_memory --
//! POLICY SIZE` replays the bench trace (see `replay_speed`) with one cache of SIZE
//! entries and prints two figures. POLICY may carry parameters (`lirs:variant=libcachesim`).
//!
//! - `peak_rss`: the process's peak resident set size (`VmHWM`). Run it at two sizes, in
//!   two processes: the id table, the trace buffer and the binary are the same in both,
//!   so the difference divided by the difference in sizes is what a cached object costs:
//!   the policy's state, ghosts included, plus the replay's 16-byte slot record. It
//!   counts what was touched, growth slack and allocator rounding included, but is
//!   coarse (pages) at small sizes.
//! - `policy_bytes`: the policy's own heap accounting at the end of the replay
//!   ([`Policy::heap_bytes`](tiersim::policy::Policy::heap_bytes): its arrays by
//!   capacity, ghosts included; `-` for a policy that does not account it), and that
//!   divided by SIZE. Exact at any size, but blind to transient peaks.

use std::path::PathBuf;

use tiersim::policy::PolicySpec;
use tiersim::replay::{SizeUnit, replay_accounted};
use tiersim::trace::{Format, TraceSource};

#[path = "common/peak_rss.rs"]
mod peak_rss;

fn vm_hwm_bytes() -> u64 {
    peak_rss::peak_rss_bytes().expect("Linux /proc/self/status with VmHWM")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let policy: PolicySpec = args
        .get(1)
        .map_or("lru", String::as_str)
        .parse()
        .expect("a policy");
    let size: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/bench-traces/zipf1.0_10M_1M.oracleGeneral.bin");
    assert!(
        path.is_file(),
        "run the replay_speed example first to generate {}",
        path.display()
    );
    let src = TraceSource {
        path,
        format: Format::OracleGeneral,
        csv: Default::default(),
    };
    let (r, policy_bytes) = replay_accounted(&src, &policy, size, SizeUnit::Entries, 1).unwrap();
    let policy_bytes = match policy_bytes {
        Some(b) => format!("{b} ({:.1} per object)", b as f64 / size as f64),
        None => "-".to_owned(),
    };
    println!(
        "{} {size} misses {} peak_rss {} policy_bytes {policy_bytes}",
        policy,
        r.misses,
        vm_hwm_bytes()
    );
}
