//! The memory estimate against what a run allocates: for random small scenarios
//! (proptest, a fixed seed), the peak growth of the heap while a plan is built into an
//! engine, run and reported is at most the estimate of [`Estimate::of`], and the
//! estimate, less its origin backlog, at most [`OVER`] times the peak plus [`SLACK`].
//!
//! The heap is measured by a counting global allocator, so this binary holds one test
//! (a second one on another thread would count into it). A `realloc` counts as the
//! change of size it is: the old block is given up as the new one is taken.
//!
//! On 2 × 1,000 cases (seeds `0x5eed_0016` and `0x5eed_0017`) the estimate was 1.08 to
//! 13 times the peak: close on runs dominated by arrays over the keys (the popularity
//! table, the database), far on runs of a few MB, where the parts it counts in full
//! whatever the run (the fixed tables, the histograms) dominate.

#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering::Relaxed};

use proptest::prelude::*;
use tiersim::engine::Engine;
use tiersim::engine::budget::Estimate;
use tiersim::scenario::{Format, Source};

/// Bytes the heap holds now.
static NOW: AtomicIsize = AtomicIsize::new(0);
/// The most it has held since the last reset.
static PEAK: AtomicIsize = AtomicIsize::new(0);

/// The system allocator, counting.
struct Counting;

fn grew(by: isize) {
    let now = NOW.fetch_add(by, Relaxed) + by;
    PEAK.fetch_max(now, Relaxed);
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged,
// which upholds `GlobalAlloc`'s contract as `System` does; the counters are atomics
// that allocate nothing.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grew(layout.size() as isize);
        // SAFETY: forwarded unchanged (see the impl).
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grew(layout.size() as isize);
        // SAFETY: forwarded unchanged (see the impl).
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        NOW.fetch_sub(layout.size() as isize, Relaxed);
        // SAFETY: forwarded unchanged (see the impl).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        grew(new_size as isize - layout.size() as isize);
        // SAFETY: forwarded unchanged (see the impl).
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// The estimate may exceed the measured peak by this factor (plus [`SLACK`]): it
/// bounds each part on its own, every growing array at twice its elements, every layer
/// as full as its capacity and its fills allow, and the requests in flight at twice
/// Little's law, which a run rarely reaches all at once. The origin backlog is left
/// out: it assumes no cache hits, so on a well-cached run it bounds, and is not close.
const OVER: f64 = 8.0;

/// Bytes the estimate may exceed the measured peak by, whatever the run: the fixed
/// tables it counts for every run (2 MiB) and the histograms it counts at full size.
const SLACK: f64 = 4e6;

/// A small scenario: one to three cache layers of the kinds a path allows, a database,
/// and the workload, metrics and writes drawn from ranges every key accepts.
fn scenario() -> impl Strategy<Value = String> {
    let latency = prop_oneof![
        (0.0..3.0f64).prop_map(|ms| format!(r#"{{ dist = "constant", ms = {ms} }}"#)),
        (0.01..5.0f64, 0.0..1.5f64).prop_map(|(m, s)| format!(
            r#"{{ dist = "lognormal", median_ms = {m}, sigma = {s} }}"#
        )),
        (0.01..5.0f64).prop_map(|m| format!(r#"{{ dist = "exponential", mean_ms = {m} }}"#)),
    ];
    let policy = prop::sample::select(vec![
        "lru",
        "fifo",
        "lfu",
        "perfect_lfu",
        "clock",
        "slru",
        "2q",
        "arc",
        "lirs",
        "s3fifo",
        // The longest ghost lists allowed: the estimate counts them.
        "s3fifo:ghost_ratio=4",
        "2q:kout=4",
        "sieve",
        "wtinylfu",
        "gdsf",
        "random",
    ]);
    let layer = (
        prop::sample::select(vec!["cdn", "shield", "in_process", "redis"]),
        prop_oneof![1u32..1_000, 1_000u32..200_000],
        policy,
        prop::option::of(0.05..30.0f64),
        latency.clone(),
        1u32..4,
        any::<bool>(),
    );
    (
        (
            prop_oneof![1u64..1_000, 1_000u64..100_000, 100_000u64..2_000_000],
            0.0..1.2f64,
            100.0..50_000.0f64,
            1_000u64..30_000,
        ),
        (0.0..0.3f64, prop::sample::select(vec!["cache_aside", "write_through", "write_back"])),
        (0.0..0.2f64, any::<bool>(), 1u64..2_000),
        proptest::collection::vec(layer, 1..4),
        (1u32..64, latency),
        prop::sample::select(vec![0.001, 0.01, 0.1, 1.0]),
    )
        .prop_map(
            |(
                (keys, alpha, rate, requests),
                (write_ratio, strategy),
                (missing, classes, clients),
                mut layers,
                (connections, db_latency),
                bucket_s,
            )| {
                // Kinds in path order, each once.
                layers.sort_by_key(|l| ["cdn", "shield", "in_process", "redis"].iter().position(|k| *k == l.0));
                layers.dedup_by_key(|l| l.0);
                let mut t = format!(
                    "name = \"memory\"\nrequests = {requests}\nwarmup_requests = {}\n\
                     [workload]\nkeys = {keys}\nrate = {rate}\nwrite_ratio = {write_ratio}\n\
                     write_strategy = \"{strategy}\"\nmissing_ratio = {missing}\n\
                     clients = {clients}\npopularity = {{ dist = \"zipf\", alpha = {alpha} }}\n",
                    requests / 10
                );
                if classes {
                    t += "[[workload.classes]]\nname = \"a\"\nkey_share = 0.5\nrequest_share = 0.6\n\
                          size = { dist = \"lognormal\", median_bytes = 2000, sigma = 1.0 }\n\
                          max_age_s = 30\n\
                          [[workload.classes]]\nname = \"b\"\nkey_share = 0.5\nrequest_share = 0.4\n\
                          size = { dist = \"constant\", bytes = 500 }\n";
                }
                for (kind, capacity, policy, ttl, latency, nodes, bytes) in &layers {
                    t += &format!("[[layers]]\nname = \"{kind}\"\nkind = \"{kind}\"\npolicy = \"{policy}\"\nlatency = {latency}\n");
                    if *bytes && classes && matches!(*kind, "cdn" | "shield") {
                        t += &format!("capacity_bytes = {}\n", u64::from(*capacity) * 1000);
                    } else {
                        t += &format!("capacity = {capacity}\n");
                    }
                    if let Some(ttl) = ttl {
                        t += &format!("ttl_s = {ttl}\n");
                    }
                    let key = match *kind {
                        "cdn" => "pops",
                        "shield" => "nodes",
                        "in_process" => "instances",
                        _ => "shards",
                    };
                    t += &format!("{key} = {nodes}\n");
                }
                t += &format!(
                    "[[layers]]\nname = \"db\"\nkind = \"database\"\nconnections = {connections}\nlatency = {db_latency}\n\
                     [metrics]\nbucket_s = {bucket_s}\n"
                );
                t
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 64,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed_0016),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// measured peak <= estimate <= OVER x measured peak + SLACK.
    #[test]
    fn the_estimate_bounds_the_peak_heap_of_a_run(toml in scenario()) {
        // Scenarios the bounds refuse are outside the property.
        let Ok((_, plan)) = Source::new("generated", toml.as_str(), Format::Toml).plan(&[]) else {
            return Ok(());
        };
        let estimate = Estimate::of(&plan).total() as f64;
        let base = NOW.load(Relaxed);
        PEAK.store(base, Relaxed);
        let report = tiersim::output::report::Report::new(&plan, Engine::new(&plan).run(|_| {}));
        let peak = (PEAK.load(Relaxed) - base) as f64;
        drop(report);
        prop_assert!(peak <= estimate, "peak {peak} > estimate {estimate}\n{toml}\n{}", Estimate::of(&plan));
        // The origin backlog assumes no cache hits: it bounds, it does not estimate.
        let backlog = Estimate::of(&plan)
            .parts
            .iter()
            .filter(|p| p.what.starts_with("origin backlog"))
            .map(|p| p.bytes as f64)
            .sum::<f64>();
        prop_assert!(
            estimate - backlog <= OVER * peak + SLACK,
            "estimate {estimate} > {OVER} x peak {peak} + {SLACK}\n{toml}\n{}",
            Estimate::of(&plan)
        );
    }
}
