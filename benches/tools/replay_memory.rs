//! Memory per cached object of a replay: replays the bench trace (see `replay_speed`;
//! generated first if needed, then measured in a fresh process) with one cache of SIZE
//! entries and prints two figures.
//!
//! `cargo bench --bench replay_memory -- [POLICY] [SIZE]` (by default `lru` and 100,000
//! entries). POLICY may carry parameters (`lirs:variant=libcachesim`).
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
//!
//! Reference: issue 4's target is 48 bytes per cached object; what LIRS's variants take
//! on this trace is in `docs/performance.md` ("policy").

use tiersim::policy::PolicySpec;
use tiersim::replay::ReplayJob;

#[path = "../common/bench_trace.rs"]
mod bench_trace;

#[path = "../common/peak_rss.rs"]
mod peak_rss;

#[path = "../common/tool_args.rs"]
mod tool_args;

fn vm_hwm_bytes() -> u64 {
    peak_rss::peak_rss_bytes().expect("Linux /proc/self/status with VmHWM")
}

fn main() {
    let args = tool_args::tool_args();
    let policy: PolicySpec = args
        .first()
        .map_or("lru", String::as_str)
        .parse()
        .expect("a policy");
    let size: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let (src, generated) = bench_trace::zipf_trace();
    if generated {
        // The generator's memory would count in this process's peak: measure in a new one.
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args(std::env::args().skip(1))
            .status()
            .unwrap();
        std::process::exit(status.code().unwrap_or(1));
    }
    let (r, policy_bytes) = ReplayJob::new(src, policy.clone(), size)
        .run_accounted()
        .unwrap();
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
