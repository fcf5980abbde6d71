//! Embedding tiersim in a program: a scenario from an inline TOML string, an override
//! applied from code, a run, and the report read field by field.
//!
//! An application tier (an in-process LRU in front of a Redis LRU in front of a
//! database) runs twice, with Redis at 5,000 and at 50,000 entries, the way
//! `tiersim run --set layers.redis.capacity=...` would run it. The program prints each
//! layer's hit ratio, the origin's load and the latency percentiles, then checks what
//! must hold:
//! - every layer's reads are its hits plus its misses;
//! - a read that misses the L1 is a read at Redis;
//! - the larger Redis has the higher hit ratio, and sends fewer reads to the database;
//! - the 99th percentile is at least the median.
//!
//! Run with `cargo run --release --example embed_scenario` (a second or two).

use tiersim::output::report::Report;
use tiersim::scenario::{Format, Override, Source};

/// The scenario, as a user would write it in a file (`scenarios/app_tier.toml`, smaller).
const SCENARIO: &str = r#"
name = "embedded_app_tier"
seed = 7
requests = 200_000
warmup_requests = 20_000

[workload]
keys = 100_000
popularity = { dist = "zipf", alpha = 0.9 }
rate = 2_000.0              # requests per second, Poisson
write_ratio = 0.01          # a write goes to the database and deletes the key everywhere

[[layers]]
name = "l1"
kind = "in_process"
capacity = 1_000
policy = "lru"
ttl_s = 60
latency = { dist = "constant", ms = 0.001 }

[[layers]]
name = "redis"
kind = "redis"
capacity = 5_000            # the override below sets it per run
policy = "lru"
ttl_s = 300
latency = { dist = "lognormal", median_ms = 0.3, sigma = 0.3 }

[[layers]]
name = "db"
kind = "database"
connections = 20
latency = { dist = "lognormal", median_ms = 5.0, sigma = 0.5 }
"#;

/// Resolves the scenario with Redis at `capacity` entries and runs it.
fn run(capacity: u64) -> Report {
    let source = Source::new("examples/embed_scenario.rs", SCENARIO, Format::Toml);
    // Overrides are `--set` arguments: checked like a value written in the file.
    let set = [Override::parse(&format!("layers.redis.capacity={capacity}")).unwrap()];
    let (_scenario, plan) = source.plan(&set).unwrap_or_else(|e| panic!("{e:#}"));
    tiersim::simulate(&plan)
}

fn print(report: &Report) {
    println!(
        "{:>8} {:>9} {:>9} {:>9} {:>9}",
        "layer", "reads", "hits", "misses", "hit ratio"
    );
    for l in &report.layers {
        println!(
            "{:>8} {:>9} {:>9} {:>9} {:>9}",
            l.name,
            l.requests,
            l.hits,
            l.misses,
            // The database is not a cache: it has no hit ratio.
            l.hit_ratio.map_or("-".into(), |h| format!("{h:.3}"))
        );
    }
    let o = &report.origin;
    println!(
        "origin: {} reads and {} writes, {:.0} queries/s on average, {:.0} at peak, \
         {:.1}% of its connections busy",
        o.reads,
        o.writes,
        o.mean_rps,
        o.peak_rps,
        100.0 * o.utilization
    );
    let lat = &report.latency_ms;
    println!(
        "read latency: mean {:.3} ms, p50 {:.3}, p90 {:.3}, p99 {:.3}, max {:.1}\n",
        lat.mean, lat.p50, lat.p90, lat.p99, lat.max
    );
}

fn main() {
    let mut reports = Vec::new();
    for capacity in [5_000, 50_000] {
        println!("redis capacity {capacity}:");
        let report = run(capacity);
        print(&report);
        reports.push(report);
    }
    let (small, large) = (&reports[0], &reports[1]);

    for report in &reports {
        assert_eq!(report.reads + report.writes, report.requests);
        for l in &report.layers {
            assert_eq!(l.hits + l.misses, l.requests, "layer {}", l.name);
        }
        // The path is l1, redis, db: every L1 miss reads Redis, every Redis miss the db.
        let [l1, redis, db] = &report.layers[..] else {
            panic!("three layers")
        };
        assert_eq!(l1.misses, redis.requests);
        assert_eq!(redis.misses, db.requests);
        assert!(report.latency_ms.p99 >= report.latency_ms.p50);
        assert!(report.latency_ms.p50 > 0.0);
    }
    let redis = |r: &Report| r.layers[1].hit_ratio.expect("a cache layer");
    assert!(
        redis(large) > redis(small),
        "a larger cache hits more: {} vs {}",
        redis(large),
        redis(small)
    );
    assert!(large.origin.reads < small.origin.reads);
    // The L1 is the same in both runs, and sees the same requests.
    assert_eq!(small.layers[0].requests, large.layers[0].requests);

    // A value the rules forbid is reported with its key, not run.
    let bad = [Override::parse("layers.redis.capacity=0").unwrap()];
    let err = Source::new("examples/embed_scenario.rs", SCENARIO, Format::Toml)
        .plan(&bad)
        .unwrap_err();
    println!("capacity = 0 is refused: {err:#}");
    assert!(err.to_string().contains("capacity"));
}
