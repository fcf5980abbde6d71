//! Simulated requests per second on the whole default path (`scenarios/quickstart.toml`):
//! a browser cache in each of 100k clients, a CDN of 20 PoPs over four regions, an
//! origin shield, 8 app instances behind a round-robin balancer, 4 Redis shards on a
//! consistent-hash ring and the database; 1M keys under Zipf 0.9; one thread, seeded.
//!
//! - `whole_path_clients100k_pops20_keys1M/run`: the event loop for `REQUESTS`
//!   requests, setup excluded, element throughput = simulated requests;
//! - `.../setup`: `Engine::new` alone (the browser arena, the per-node key indexes);
//! - `whole_path_clients100k_pops20_keys1M_cputime/run`: the same loop in the thread's
//!   CPU time, which the other processes of a shared machine do not inflate.
//!
//! After the runs it prints the process's peak resident memory (`VmHWM` in
//! `/proc/self/status`) and what a fresh engine's cache stores have allocated at setup
//! (entries and key indexes; nodes sized in bytes grow from there).
//!
//! Run with `cargo bench --bench hierarchy -- --noplot`.
//!
//! Reference figures, for regressions (2 shared vCPUs, other users' load, 1M requests per
//! iteration; builds d1d9451 to 4fc53a7, 8 runs in one day; thread CPU time in brackets):
//!
//! | `run` | M req/s | `setup` | peak RSS |
//! |---|---|---|---|
//! | 0.94-1.17 s | 0.86-1.07, median 1.02 (0.90-1.17, median 1.01) | 56-74 ms | 243-303 MB |
//!
//! The host's speed drifts by 10-30% from hour to hour, so a change is measured by running
//! both builds at once, one per CPU, swapping CPUs every round:
//! `python3 benches/compare_builds.py ROUNDS A B` (`tiersim run` of the quickstart). The
//! table's history, the profiles and what was tried: `docs/performance.md`, "Benchmarks".

#![allow(missing_docs)] // criterion_group! generates undocumented items

/// As in the `tiersim` binary: large blocks in huge pages (see `tiersim::mem::hugepages`).
#[global_allocator]
static ALLOC: tiersim::mem::hugepages::HugePages = tiersim::mem::hugepages::HugePages;

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use tiersim::engine::Engine;
use tiersim::scenario::Source;

#[path = "common/peak_rss.rs"]
mod peak_rss;

#[path = "common/cpu_time.rs"]
mod cpu_time;
use cpu_time::ThreadCpuTime;

#[path = "common/event_loop.rs"]
mod event_loop;
use event_loop::{plan, run, setup};

/// The loop's sampling time (ten samples of about a second each).
const MEASUREMENT: Duration = Duration::from_secs(30);

fn whole_path(c: &mut Criterion) {
    let plan = plan(Source::quickstart());
    assert_eq!(plan.workload.keys, 1_000_000);
    assert_eq!(plan.clients(), 100_000);
    assert_eq!(plan.caches.len(), 5);
    let mut g = c.benchmark_group("whole_path_clients100k_pops20_keys1M");
    run(&mut g, &plan, MEASUREMENT);
    setup(&mut g, &plan);
    g.finish();
    let engine = Engine::new(&plan);
    let stores = engine.store_bytes();
    drop(engine);
    if let Some(hwm) = peak_rss::peak_rss_bytes() {
        println!(
            "peak resident memory (VmHWM): {:.0} MB; one engine's cache stores: {:.0} MB",
            hwm as f64 / (1024.0 * 1024.0),
            stores as f64 / 1e6
        );
    }
}

/// The same loop timed in the benchmark thread's CPU time, so that time the scheduler
/// gives to other processes on this shared machine does not count.
fn whole_path_cpu(c: &mut Criterion<ThreadCpuTime>) {
    let plan = plan(Source::quickstart());
    let mut g = c.benchmark_group("whole_path_clients100k_pops20_keys1M_cputime");
    run(&mut g, &plan, MEASUREMENT);
    g.finish();
}

// Criterion's own charts need system fonts, which a bare machine lacks: text reports only.
criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = whole_path
}
criterion_group! {
    name = cpu;
    config = Criterion::default().without_plots().with_measurement(ThreadCpuTime);
    targets = whole_path_cpu
}
criterion_main!(benches, cpu);
