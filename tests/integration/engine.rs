//! Engine invariants: request flow is conserved, the herd is counted, stops are honoured.

use crate::support::{plan, run};

#[test]
fn every_read_is_answered_once_and_misses_flow_inward() {
    let report = run(&tiersim::scenario::APP_TIER
        .replace("requests = 1_000_000", "requests = 200_000")
        .replace("warmup_requests = 100_000", "warmup_requests = 20_000"));
    assert_eq!(report.requests, 180_000);
    assert_eq!(report.reads + report.writes, report.requests);
    let layers = &report.layers;
    assert_eq!(layers[0].requests, report.reads);
    for pair in layers.windows(2) {
        assert_eq!(pair[0].hits + pair[0].misses, pair[0].requests);
        assert_eq!(
            pair[0].misses, pair[1].requests,
            "{} -> {}",
            pair[0].name, pair[1].name
        );
    }
    let served: u64 = layers.iter().map(|l| l.hits).sum();
    assert_eq!(served, report.reads);
    assert_eq!(report.origin.reads, layers.last().unwrap().requests);
    assert_eq!(report.origin.requests, report.origin.reads + report.writes);
    assert_eq!(report.latency_ms.count, report.reads);
    let ts_requests: u64 = report.timeseries.iter().map(|b| b.requests).sum();
    let ts_origin: u64 = report.timeseries.iter().map(|b| b.origin_requests).sum();
    assert_eq!(ts_requests, report.requests);
    assert_eq!(ts_origin, report.origin.requests);
    let l = &report.latency_ms;
    assert!(l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.p999 && l.p999 <= l.max);
}

/// One hot key, TTL T, origin time delta: every request that misses while the first
/// fetch is in flight goes to the origin too, so each expiry costs 1 + lambda delta
/// origin calls on average (Poisson arrivals during delta).
///
/// lambda = 1000/s, delta = 10 ms: 11 calls per expiry. Cycles last about T + delta =
/// 110 ms, so 1,000 s give ~9,000 cycles; the per-cycle herd is Poisson(10), so the
/// mean's standard error is sqrt(10 / 9000) = 0.033, 0.3% of 11. 5% is 15 errors.
#[test]
fn herd_on_a_hot_key_costs_one_plus_lambda_delta_origin_calls_per_expiry() {
    let report = run(r#"
        name = "herd"
        seed = 3
        requests = 1_000_000
        [workload]
        keys = 1
        rate = 1000.0
        [[layers]]
        name = "cache"
        kind = "redis"
        capacity = 10
        ttl_s = 0.1
        [[layers]]
        name = "db"
        kind = "database"
        connections = 1000
        latency = { dist = "constant", ms = 10 }
        "#);
    let o = &report.origin;
    let expiries = o.reads - o.herd_requests;
    let per_expiry = o.reads as f64 / expiries as f64;
    assert!(
        (per_expiry - 11.0).abs() / 11.0 < 0.05,
        "{per_expiry} origin calls per expiry"
    );
    assert!(
        o.peak_key_concurrency >= 15,
        "peak {}",
        o.peak_key_concurrency
    );
    assert_eq!(o.peak_queue, 0, "1000 connections never queue");
}

#[test]
fn duration_alone_stops_the_run() {
    let p = plan(
        r#"
        name = "timed"
        duration_s = 50
        [workload]
        keys = 10
        rate = 2000.0
        [[layers]]
        name = "db"
        kind = "database"
        "#,
    );
    let report = tiersim::simulate(&p);
    // Poisson(100,000): standard deviation 316; 2,000 is over six of them.
    assert!(
        report.requests.abs_diff(100_000) < 2_000,
        "{}",
        report.requests
    );
    assert!(report.duration_s <= 50.0);
    assert_eq!(report.timeseries.len(), 50);
}

#[test]
fn results_do_not_depend_on_the_output_order_of_layers_statistics() {
    // The same plan run twice in one process gives equal reports: no hidden state.
    let p =
        plan(&tiersim::scenario::APP_TIER.replace("requests = 1_000_000", "requests = 150_000"));
    assert_eq!(tiersim::simulate(&p), tiersim::simulate(&p));
}
