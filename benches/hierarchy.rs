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
//! Reference figures (2 shared vCPUs, other users' load, 1M requests per iteration):
//!
//! | build | `run` | M req/s | `setup` | peak RSS |
//! |---|---|---|---|---|
//! | 9160595 (whole path, dense indexes, no content classes), load 2.7-3.7 | 1.57-1.81 s | 0.59 | 165-189 ms | 232 MB |
//! | content classes in the quickstart (HTTP rules, sizes, byte-sized CDN and shield), dense indexes, load 1.0-1.6 | 1.97-2.01 s | 0.50 | 107-140 ms | 488-506 MB |
//! | f57de5d + hash indexes where they are at most half a dense one (the 8 L1 instances, the 20 PoPs), load 1.3-1.4 | 1.93-2.19 s | 0.49 | 102-114 ms | 259 MB |
//! | software prefetch (batch read-ahead, object sizes, slow hops' lookups), load 1.0-1.3 | 1.47-1.64 s | 0.65 | 73-77 ms | 257 MB |
//! | 8aca2d6, the same code as the row above, measured 2026-11-24, load 1.0-1.4 | 1.09 s | 0.92 | - | - |
//! | c2a49ff (vector browser scans, a CDN lane per region, huge pages), 5 runs, load 1.0-1.8 | 0.98-1.06 s | 0.95-1.02, median 1.00 | 48-56 ms | 227-285 MB |
//! | 26e2069 (+ lane-ahead prefetch), load 0.9-1.6; CPU time in brackets | 0.98-1.10 s | 1.02, 0.91 (0.99, 0.94) | 46-57 ms | 279-286 MB |
//! | 4060837 (the code of the row above), 4 runs on 2026-11-24, alternated with the next row's builds | 0.94-1.21 s | 0.83-1.06, median 0.92 (0.79-0.92, median 0.86) | 51-61 ms | 262-344 MB |
//! | d1d9451 to 4fc53a7 (this session's builds, below), 8 runs the same day | 0.94-1.17 s | 0.86-1.07, median 1.02 (0.90-1.17, median 1.01) | 56-74 ms | 243-303 MB |
//!
//! Alternated in one session, the hash indexes left `run` unchanged within this
//! machine's noise (medians 2.18 s against 1.99 s) and halved the benchmark's peak
//! memory (`tiersim run` of the quickstart: 171 MB against 268 MB). The content classes
//! cost roughly a sixth (rows measured in different sessions): every request takes the
//! engine's special path (HTTP rules per layer and class, a meta per copy, byte budgets).
//!
//! The last row was taken in a fast phase of the shared host; alternated with its
//! parent (d44fe09), `tiersim run` of the quickstart (1M requests, user time, 5 rounds)
//! took a median 2.16 s against 2.78 s.
//!
//! The same host ran the same code (8aca2d6) at 0.65 and at 0.92 M req/s in different
//! sessions: compare builds only by alternating them. 8aca2d6 against 26e2069,
//! `tiersim run` of the quickstart (1M requests; 11 rounds, every round faster): user
//! time medians 1.12 s against 1.00 s, system time 0.12 s against 0.08 s, peak RSS 170
//! against 180 MB. Instructions (cachegrind, 300k against 600k requests, the
//! difference): 5,000 a request before, 4,400 after. What changed, by effect:
//! - Browser scans test 16 keys at a time without a branch per key (SSE2 compares), and
//!   a fill finds the key or an empty slot in one pass: 350 to 150 instructions a
//!   request. With 100k clients and 32 entries each, 99.5% of browser lookups miss.
//! - A CDN's round trip is constant per region, so its hops get a FIFO lane per region
//!   instead of the heap (2.1 heap events a request to 1.3), and the queue keeps its
//!   least lane front instead of scanning the lanes at every pop.
//! - Huge pages for blocks of 4 MiB or more (`tiersim::mem::hugepages`): about 4% of user
//!   time and a third of the system time (page faults), for about 10 MB more resident.
//! - Lookups that come out of a lane prefetch the lane's next ones
//!   (`Engine::prefetch_lane_ahead` then, `ReadAhead::lane_ahead` now): about 4% (9 rounds, 8 faster).
//! - Dropped: the second read-ahead stage of slow hops at the next arrival (200
//!   instructions a request, no time saved).
//!
//! Memory still bounds it: `Cache::get` takes an eighth of the cycles (`perf record`)
//! for 2% of the instructions, waiting on the shield's dense index cell (a 4 MB array
//! read at random) and on entries. Tried without gain: prefetching the next heap event's
//! lookup (one event ahead is too late), smaller or larger key batches, mimalloc,
//! fat LTO with one codegen unit.
//!
//! The two rows of 2026-11-24 come from one session whose host slowed down as it went
//! (the same build ran at 1.06 and at 0.83 M req/s an hour apart), so builds were
//! compared by running both at once, one per CPU, swapping CPUs every round (`tiersim
//! run` of the quickstart, user time; two copies of one build differ by up to 5% a
//! round, median 0.3%): `benches/compare_builds.py ROUNDS A B`. 4fc53a7 against 4060837, 14 rounds, 12 faster: median ratio of
//! user times 0.87; cachegrind, 4,540 instructions a request before, 4,590 after. What
//! changed, by effect:
//! - No wide read of fields just written. A `Lookup` kept in memory by the lookup path
//!   (written field by field, copied whole) and a `Request` copied whole at a fill were
//!   read back with 16-byte loads over narrower pending stores. Such a load cannot be
//!   forwarded; it waits until every older store has reached the cache, the LRU's
//!   writes to cold lines included. `perf annotate` put a fifth of the lookups' cycles
//!   and two thirds of `special_fill`'s (now `fill_layers`) on those loads. Lookups are matched at once;
//!   requests are read field by field.
//! - Redis behind the app's L1 (a 1 µs round trip) is prefetched as requests pass
//!   through: its index cell when the hop to the L1 is scheduled, its entry as the L1
//!   is consulted (`Engine::pass_through` then, `ReadAhead::passing` now).
//! - The two items above together: about 10% (median ratio 0.904); the `Lookup` half
//!   of the first with the second, before the `Request` half: 0.967.
//! - 4% and 2.6%: browser blocks. Each slot's stamp, version and expiry share one
//!   16-byte record, and the arena starts on a cache line. A fill, on nearly every
//!   request, writes one line beside the keys instead of four, and the read-ahead
//!   fetches the two lines of keys, not four. A full block's eviction reads the
//!   records' stamps: neutral on the quickstart with 1,000 clients, whose blocks stay
//!   full.
//! - 1-1.5% each: the consistent-hash ring's bucket table (no binary search), the PoP
//!   choice's modulo by strength reduction, branch-free region and content-class scans
//!   (the ring's table alone saves 77 instructions a request; the scans spend a few
//!   more to save mispredicted branches).
//!
//! Tried and dropped, same method: prefetching all the nodes a write invalidates at
//! once (neutral); prefetching the cells of the outer layers a hit will fill, from the
//! lane ahead (7% slower with browsers, neutral without) or when the origin starts a
//! query (neutral); prefetching the meta's line beside the entry's (neutral); reading
//! each key batch a whole batch early, two stages a batch apart (3.5% slower); the
//! lane-ahead entry one event earlier (2% slower); no read-ahead at scheduling for
//! hops that come out of a lane (neutral).
//!
//! Where the rest goes, by ablation (same method, outputs not kept): the LRU's list
//! writes on hits 4.4% at most (touches made no-ops), the latency histograms 3%, the
//! object sizes' own array 3%. The remainder is spread over the lookups' misses, which
//! prefetching has mostly turned into waits for free miss buffers: `perf` now puts the
//! stalls on prefetch instructions, the memory system's limit on misses in flight.

#![allow(missing_docs)] // criterion_group! generates undocumented items

/// As in the `tiersim` binary: large blocks in huge pages (see `tiersim::mem::hugepages`).
#[global_allocator]
static ALLOC: tiersim::mem::hugepages::HugePages = tiersim::mem::hugepages::HugePages;

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use tiersim::engine::Engine;
use tiersim::scenario::Source;

#[path = "../examples/common/peak_rss.rs"]
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
