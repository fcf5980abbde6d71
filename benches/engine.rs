//! Simulated requests per second on the app-tier path (`scenarios/app_tier.toml`, the
//! quickstart before the whole path was modelled): 1M keys under Zipf 0.9, an
//! in-process LRU of 10k entries, a Redis LRU of 100k, then the database; one thread,
//! seeded, so every sample simulates exactly the same requests.
//!
//! Benchmarks, grouped by workload:
//! - `zipf0.9_keys1M/run`: the event loop for `REQUESTS` requests, setup excluded
//!   (`iter_batched`), with element throughput = simulated requests, in wall time;
//! - `zipf0.9_keys1M/setup`: `Engine::new` alone (the dense cache indexes, and the Zipf
//!   alias table over 1M keys, which a process builds once and keeps in
//!   `tiersim::workload::ZipfTables`: so this measures a repeat run, as in a sweep; a
//!   process's first run pays about 20 ms more);
//! - `zipf0.9_keys1M_cputime/run`: the same loop in the thread's CPU time, which the
//!   other processes of a shared machine do not inflate.
//!
//! Run with `cargo bench --bench engine`; it takes about two minutes.
//!
//! Reference figures, for regressions (2 shared vCPUs, AMD EPYC, 1M requests per
//! iteration; build 26e2069, 3 runs, load average 0.9-1.3):
//!
//! | `run`, wall | `run`, thread CPU time | `setup` |
//! |---|---|---|
//! | 0.282-0.293 s (3.41-3.55 M req/s, median 3.52) | 0.282-0.293 s (3.41-3.54 M req/s) | 0.38-0.42 ms |
//!
//! Compare two builds by alternating them, not against this table
//! (`python3 benches/compare_builds.py ROUNDS A B scenarios/app_tier.toml --set
//! requests=3000000`). The table's history and the profiles: `docs/performance.md`,
//! "Benchmarks".

#![allow(missing_docs)] // criterion_group! generates undocumented items

/// As in the `tiersim` binary: large blocks in huge pages (see `tiersim::mem::hugepages`).
#[global_allocator]
static ALLOC: tiersim::mem::hugepages::HugePages = tiersim::mem::hugepages::HugePages;

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use tiersim::scenario::Source;

#[path = "common/cpu_time.rs"]
mod cpu_time;
use cpu_time::ThreadCpuTime;

#[path = "common/event_loop.rs"]
mod event_loop;
use event_loop::{plan, run, setup};

/// The loop's sampling time.
const MEASUREMENT: Duration = Duration::from_secs(20);

fn app_tier(c: &mut Criterion) {
    let plan = plan(Source::app_tier());
    assert_eq!(plan.workload.keys, 1_000_000);
    assert_eq!(plan.caches.len(), 2);
    let mut g = c.benchmark_group("zipf0.9_keys1M");
    run(&mut g, &plan, MEASUREMENT);
    setup(&mut g, &plan);
    g.finish();
}

/// The same loop timed in CPU time of the benchmark thread, so that time the scheduler
/// gives to other processes on a shared machine does not count (cache interference
/// still does).
fn app_tier_cpu(c: &mut Criterion<ThreadCpuTime>) {
    let plan = plan(Source::app_tier());
    let mut g = c.benchmark_group("zipf0.9_keys1M_cputime");
    run(&mut g, &plan, MEASUREMENT);
    g.finish();
}

// Criterion's own charts need system fonts, which a bare machine lacks: text reports only.
criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = app_tier
}
criterion_group! {
    name = cpu;
    config = Criterion::default().without_plots().with_measurement(ThreadCpuTime);
    targets = app_tier_cpu
}
criterion_main!(benches, cpu);
