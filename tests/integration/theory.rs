//! The simulator against closed-form results (DESIGN.md section 3).
//!
//! Every test uses a fixed seed; every tolerance is derived in a comment from the
//! model's statistics, not tuned until green.

use tiersim::output::report::{Report, TheoryRow};
use tiersim::theory::{self, che, queue};
use tiersim::workload::PopularitySpec;

use crate::support::{assert_bad_input, plan, repo, run, stdout, tiersim, tiersim_ok};

/// One cache layer in front of an instantaneous database: the cache sees the IRM
/// stream exactly, with no concurrency effects.
fn single_cache(
    keys: u64,
    alpha: f64,
    capacity: u64,
    policy: &str,
    requests: u64,
    warmup: u64,
) -> String {
    format!(
        r#"
        name = "irm"
        seed = 42
        requests = {requests}
        warmup_requests = {warmup}
        [workload]
        keys = {keys}
        popularity = {{ dist = "zipf", alpha = {alpha} }}
        rate = 1000.0
        [[layers]]
        name = "cache"
        kind = "redis"
        capacity = {capacity}
        policy = "{policy}"
        [[layers]]
        name = "db"
        kind = "database"
        latency = {{ dist = "constant", ms = 0 }}
        "#
    )
}

fn zipf(keys: u32, alpha: f64) -> Vec<f64> {
    PopularitySpec::Zipf { alpha }.probabilities(keys)
}

/// Runs `toml` and returns its report with the `theory` rows.
fn run_with_theory(toml: &str) -> (Report, Vec<TheoryRow>) {
    let plan = plan(toml);
    let report = tiersim::simulate(&plan);
    let rows = theory::compare(&plan, &report);
    (report, rows)
}

/// The row of `layer`'s `quantity`.
fn find<'a>(rows: &'a [TheoryRow], layer: &str, quantity: &str) -> &'a TheoryRow {
    rows.iter()
        .find(|r| r.layer == layer && r.quantity == quantity)
        .unwrap_or_else(|| panic!("no {layer} {quantity} row in {rows:#?}"))
}

// Sampling error for the hit-ratio checks: with n = 2,000,000 measured requests the
// binomial standard error of a hit ratio is at most sqrt(0.25 / n) = 0.00035. Hits
// of an LRU/FIFO cache are positively correlated over about a characteristic time,
// which inflates this by a small factor (batch means on these runs give under 3x),
// so the 0.005 budget leaves more than 4 standard errors for the approximation's own
// error, which for N = 100,000 is below 0.001 (Fricker, Robert and Roberts, ITC 2012).
const IRM_REQUESTS: u64 = 2_500_000;
const IRM_WARMUP: u64 = 500_000;

/// Each run's simulated hit ratio against `model`, and `theory::compare`'s row for the
/// layer against the same formula: the row names `model_name` and predicts its value.
fn check(policy: &str, model: impl Fn(&[f64], f64) -> f64, model_name: &str, tolerance: f64) {
    let n = 100_000;
    for alpha in [0.8, 1.0] {
        let q = zipf(n, alpha);
        for capacity in [1_000, 10_000] {
            let (report, rows) = run_with_theory(&single_cache(
                n as u64,
                alpha,
                capacity,
                policy,
                IRM_REQUESTS,
                IRM_WARMUP,
            ));
            let simulated = report.layers[0].hit_ratio.expect("a cache layer");
            let expected = model(&q, capacity as f64);
            let row = find(&rows, "cache", "hit_ratio");
            assert!(
                row.model
                    .as_deref()
                    .is_some_and(|m| m.starts_with(model_name)),
                "{row:?}"
            );
            // The rates are the probabilities times the request rate: the same solution.
            let predicted = row.predicted.expect("a model applies");
            assert!(
                (predicted - expected).abs() < 1e-9,
                "{predicted} vs {expected}"
            );
            assert_eq!(row.simulated, simulated);
            eprintln!(
                "{policy} alpha {alpha} C {capacity}: simulated {simulated:.5} theory {expected:.5}"
            );
            assert!(
                (simulated - expected).abs() < tolerance,
                "{policy} alpha {alpha} capacity {capacity}: simulated {simulated:.5}, theory {expected:.5}"
            );
        }
    }
}

#[test]
fn lru_matches_che_approximation() {
    check("lru", che::che_lru, "Che approximation", 0.005);
}

#[test]
fn fifo_matches_fifo_random_approximation() {
    check("fifo", che::fifo_random, "FIFO/RANDOM approximation", 0.005);
}

/// Perfect LFU keeps the C most popular keys: hit ratio = sum of the top-C
/// probabilities. `perfect_lfu` keeps every key's count, so once the counts separate
/// the top C from the rest (a few thousand requests per rank near C) it holds exactly
/// them. The tolerance is the issue's 0.01: besides the sampling error above, keys near
/// rank C whose probabilities nearly tie swap places, each costing about q_C (under
/// 2e-4 here).
#[test]
fn perfect_lfu_matches_the_top_c_popularities() {
    check("perfect_lfu", che::perfect_lfu, "perfect LFU", 0.01);
}

/// In-cache LFU (`lfu`, libCacheSim's semantics) forgets a key's count when it is
/// evicted, so keys that were lucky early stay and popular newcomers are evicted
/// first: it must do worse than perfect LFU, and better than nothing (above LRU's
/// share at this skew would be asking too much: it is not, at 1% capacity).
#[test]
fn in_cache_lfu_stays_below_perfect_lfu() {
    let n = 100_000;
    let q = zipf(n, 0.8);
    let report = run(&single_cache(
        n as u64,
        0.8,
        1_000,
        "lfu",
        IRM_REQUESTS,
        IRM_WARMUP,
    ));
    let top: f64 = q[..1_000].iter().sum();
    let hit = report.layers[0].hit_ratio.expect("a cache layer");
    assert!(
        hit < top - 0.01 && hit > 0.5 * top,
        "in-cache lfu {hit:.4}, perfect {top:.4}"
    );
}

/// TTL cache with capacity for every key, expiry counted from the fill: each key's
/// requests form renewal cycles of one miss then a TTL's worth of Poisson hits, so the
/// hit ratio is lambda T / (1 + lambda T) whatever the TTL's distribution, given its mean.
#[test]
fn ttl_cache_matches_renewal_formula_with_and_without_jitter() {
    // 1,000 uniform keys at 1,000 requests/s: lambda = 1/s per key; T sets lambda T.
    // 1,000,000 measured requests: binomial error <= 0.0005; cycles are independent
    // renewals, so correlation is short. 0.005 is ten standard errors.
    for jitter in [0.0, 0.5] {
        for lambda_t in [0.1, 1.0, 10.0] {
            let report = run(&format!(
                r#"
                name = "ttl"
                seed = 7
                requests = 1_100_000
                warmup_requests = 100_000
                [workload]
                keys = 1000
                popularity = {{ dist = "uniform" }}
                rate = 1000.0
                [[layers]]
                name = "cache"
                kind = "redis"
                capacity = 2000
                ttl_s = {lambda_t}
                jitter = {jitter}
                [[layers]]
                name = "db"
                kind = "database"
                latency = {{ dist = "constant", ms = 0 }}
                "#
            ));
            let expected = lambda_t / (1.0 + lambda_t);
            let simulated = report.layers[0].hit_ratio.expect("a cache layer");
            eprintln!(
                "ttl lambda T {lambda_t} jitter {jitter}: simulated {simulated:.5} expected {expected:.5}"
            );
            assert!(
                (simulated - expected).abs() < 0.005,
                "lambda T {lambda_t}, jitter {jitter}: simulated {simulated:.5}, expected {expected:.5}"
            );
            assert_eq!(
                report.layers[0].evictions, 0,
                "capacity exceeds the key count"
            );
        }
    }
}

/// The database alone is an M/M/c queue with exponential service.
///
/// Tolerance: for M/M/1 at rho = 0.7 the asymptotic variance of the time-average
/// number in system is 2 rho (1 + rho) / (1 - rho)^4 = 294 (service-time units; Whitt,
/// "Planning queueing simulations", Management Science 1989). Over 1,000,000 customers
/// (1.43e6 service times) the relative standard error of the mean is about 0.6%, and
/// the mean wait, tied to it by Little's law, is as precise. 5% is over 8 standard
/// errors; c = 8 at the same rho is less variable still.
#[test]
fn database_is_an_mmc_queue() {
    for c in [1u32, 8] {
        let mean_service_ms = 1.0;
        let rho = 0.7;
        let lambda = rho * c as f64 / (mean_service_ms / 1000.0); // per second
        let (report, rows) = run_with_theory(&format!(
            r#"
            name = "mmc"
            seed = 11
            requests = 1_050_000
            warmup_requests = 50_000
            [workload]
            keys = 1000
            rate = {lambda}
            [[layers]]
            name = "db"
            kind = "database"
            connections = {c}
            latency = {{ dist = "exponential", mean_ms = {mean_service_ms} }}
            "#
        ));
        let o = &report.origin;
        let a = rho * c as f64;
        let expected_wait_ms =
            queue::erlang_c(c, a) / (c as f64 / mean_service_ms - lambda / 1000.0);
        // `theory` predicts the same from the scenario's rate, and names the model.
        let row = find(&rows, "db", "mean_queue_wait_ms");
        assert_eq!(
            row.model
                .as_deref()
                .map(|m| m.starts_with("Erlang C (M/M/c)")),
            Some(true)
        );
        assert!((row.predicted.unwrap() - expected_wait_ms).abs() < 1e-9 * expected_wait_ms);
        let rel = (o.mean_queue_wait_ms - expected_wait_ms).abs() / expected_wait_ms;
        eprintln!(
            "M/M/{c}: wait {:.5} ms vs Erlang C {expected_wait_ms:.5}; Lq {:.4} vs lambda Wq {:.4}",
            o.mean_queue_wait_ms,
            o.mean_queue,
            o.mean_rps * o.mean_queue_wait_ms / 1000.0
        );
        assert!(
            rel < 0.05,
            "c = {c}: mean wait {} ms, Erlang C {expected_wait_ms} ms",
            o.mean_queue_wait_ms
        );
        // Little's law on the queue, on one sample path: L_q = lambda W_q up to edge
        // effects of the few queries in flight at the ends of the window (< 0.1%).
        let little = o.mean_rps * o.mean_queue_wait_ms / 1000.0;
        assert!(
            (o.mean_queue - little).abs() / little < 0.01,
            "c = {c}: mean queue {} vs lambda W = {little}",
            o.mean_queue
        );
        assert!(
            (o.utilization - rho).abs() < 0.01,
            "c = {c}: utilization {}",
            o.utilization
        );
        // The time-weighted queue length against Erlang C, L_q = C(c, a) rho / (1 - rho):
        // at c = 1 its standard error is about 0.9% (the number in system's 0.6% above,
        // at L_q = 1.63 rather than L = 2.33), so 5% is over 5 standard errors.
        let lq = queue::erlang_c(c, a) * rho / (1.0 - rho);
        assert!(
            (o.mean_queue - lq).abs() / lq < 0.05,
            "c = {c}: mean queue {} vs Erlang C {lq}",
            o.mean_queue
        );
        // The time series' per-bucket means, weighted by each bucket's part of the
        // window (first measured arrival to last event), average to the run's mean.
        let (from, to) = (report.warmup_s, report.warmup_s + report.span_s);
        let width = report.timeseries[1].t_s - report.timeseries[0].t_s;
        let area: f64 = report
            .timeseries
            .iter()
            .map(|b| b.origin_queue_mean * ((b.t_s + width).min(to) - b.t_s.max(from)).max(0.0))
            .sum();
        assert!(
            (area / report.span_s - o.mean_queue).abs() <= 1e-6 * o.mean_queue,
            "c = {c}: buckets average to {}, the run's mean is {}",
            area / report.span_s,
            o.mean_queue
        );
        // Every read reached the database; the latency is wait + service.
        assert_eq!(o.reads, report.reads);
        let expected_latency = expected_wait_ms + mean_service_ms;
        assert!((report.latency_ms.mean - expected_latency).abs() / expected_latency < 0.05);
    }
}

/// Four Redis shards on a consistent-hash ring are four LRU caches, each with the keys
/// the ring gives it: `theory` solves Che's approximation per shard, with the ring's
/// own split (uneven by a few percent at 64 points a shard).
///
/// Tolerance: 1,000,000 measured requests, binomial standard error at most 0.0005,
/// inflated under 3x by the correlation of LRU hits (batch means, as above): 0.0015.
/// Che's own error at 25,000 keys a shard is below 0.001 (Fricker, Robert & Roberts
/// 2012), so 0.006 is over three standard errors beyond it.
#[test]
fn sharded_lru_is_che_per_shard() {
    let (report, rows) = run_with_theory(
        r#"
        name = "shards"
        seed = 3
        requests = 1_100_000
        warmup_requests = 100_000
        [workload]
        keys = 100_000
        popularity = { dist = "zipf", alpha = 0.8 }
        rate = 1000.0
        [[layers]]
        name = "redis"
        kind = "redis"
        shards = 4
        capacity = 2_500
        [[layers]]
        name = "db"
        kind = "database"
        latency = { dist = "constant", ms = 0 }
        "#,
    );
    let row = find(&rows, "redis", "hit_ratio");
    let model = row.model.as_deref().unwrap();
    assert!(
        model.contains("Che") && model.contains("4 nodes by key hash"),
        "{model}"
    );
    let (predicted, simulated) = (row.predicted.unwrap(), report.layers[0].hit_ratio.unwrap());
    eprintln!("4 shards: simulated {simulated:.5}, theory {predicted:.5}");
    assert!((simulated - predicted).abs() < 0.006, "{row:?}");
}

/// An LRU behind an LRU: the second sees the first's misses, which `theory` takes as an
/// independent reference stream with rates `q_i exp(-q_i T_1)` (Che, Tung & Wang
/// 2002). That is an approximation beyond Che's own: the misses of one key are not
/// Poisson (a miss is never followed within the first cache's eviction time by
/// another: they come more evenly spaced than Poisson), so no sampling argument bounds
/// the gap. Measured at this seed: L1 +0.0008, L2 -0.0056 (simulated less predicted:
/// the approximation overestimates the second tier). The L1 check keeps Che's 0.006
/// budget (as for the shards above, at 1M requests); the L2 one allows 0.015, under
/// three times the gap measured, as a regression guard on the composition, not a bound
/// from theory.
#[test]
fn lru_behind_lru_is_che_on_the_first_caches_misses() {
    let (report, rows) = run_with_theory(
        r#"
        name = "two-lru"
        seed = 5
        requests = 1_100_000
        warmup_requests = 100_000
        [workload]
        keys = 100_000
        popularity = { dist = "zipf", alpha = 0.8 }
        rate = 1000.0
        [[layers]]
        name = "l1"
        kind = "in_process"
        capacity = 1_000
        [[layers]]
        name = "l2"
        kind = "redis"
        capacity = 10_000
        [[layers]]
        name = "db"
        kind = "database"
        latency = { dist = "constant", ms = 0 }
        "#,
    );
    for (i, name, tolerance) in [(0, "l1", 0.006), (1, "l2", 0.015)] {
        let row = find(&rows, name, "hit_ratio");
        let simulated = report.layers[i].hit_ratio.unwrap();
        eprintln!(
            "{name}: simulated {simulated:.5}, theory {:.5}",
            row.predicted.unwrap()
        );
        assert!(
            (simulated - row.predicted.unwrap()).abs() < tolerance,
            "{row:?}"
        );
    }
    assert!(
        find(&rows, "l2", "hit_ratio")
            .model
            .as_deref()
            .unwrap()
            .contains("misses of `l1`"),
        "{rows:#?}"
    );
    // The origin's rate, the L2 misses' predicted rate: both layers' errors add up, at
    // most 0.006 + 0.015 of the 1,000 requests/s.
    let rps = find(&rows, "db", "mean_rps");
    assert!(
        (rps.simulated - rps.predicted.unwrap()).abs() < 21.0,
        "{rps:?}"
    );
}

/// LRU and FIFO whose TTL and capacity both bind (100,000 Zipf 0.8 keys at 1,000/s,
/// 1,000 entries, TTL 5 s for LRU and 1 s for FIFO, whose eviction time is shorter,
/// ±10% jitter): `theory` takes the capacity's characteristic time (expired copies keep
/// their slot until evicted: lazy expiry) and each copy serving hits until its
/// eviction or its TTL, whichever first; for LRU the idle eviction time is itself
/// approximated (see `theory::che`). Sampling: 1M measured requests, standard error
/// under 0.0015 (as for the shards above). Measured at this seed: LRU +0.0007, FIFO
/// +0.0012 (simulated less predicted); 0.006 is the shards' budget.
#[test]
fn lru_and_fifo_with_a_binding_ttl_match_the_combined_model() {
    for (policy, ttl) in [("lru", 5.0), ("fifo", 1.0)] {
        let (report, rows) = run_with_theory(&format!(
            r#"
            name = "lru-ttl"
            seed = 21
            requests = 1_100_000
            warmup_requests = 100_000
            [workload]
            keys = 100_000
            popularity = {{ dist = "zipf", alpha = 0.8 }}
            rate = 1000.0
            [[layers]]
            name = "cache"
            kind = "redis"
            capacity = 1_000
            policy = "{policy}"
            ttl_s = {ttl}
            jitter = 0.1
            [[layers]]
            name = "db"
            kind = "database"
            latency = {{ dist = "constant", ms = 0 }}
            "#
        ));
        let row = find(&rows, "cache", "hit_ratio");
        assert!(
            row.model.as_deref().unwrap().contains("with a TTL"),
            "{row:?}"
        );
        let (simulated, predicted) = (report.layers[0].hit_ratio.unwrap(), row.predicted.unwrap());
        let l = &report.layers[0];
        eprintln!(
            "{policy} + TTL: simulated {simulated:.5}, theory {predicted:.5}; {} expirations, {} evictions",
            l.expirations, l.evictions
        );
        // Both bind: copies expire and copies are evicted.
        assert!(l.expirations > 1_000 && l.evictions > 10_000, "{l:?}");
        assert!((simulated - predicted).abs() < 0.006, "{row:?}");
    }
}

/// The two-tier TTL result through `theory`: 100 uniform keys at 1 request/s each, an
/// edge (one PoP) with TTL 10 s and a shield with TTL 60 s. Each key's shield hit ratio
/// is M(60)/(1 + M(60)) = 0.8325 (the issue's figure, `path.rs`), so is the layer's.
/// The edge's is the TTL formula, 10/11.
///
/// Tolerance: the shield sees 1/11 of 2,000,000 requests (182k), binomial standard
/// error 0.0009; 0.005 is over five (as in `path.rs`). The edge's 1.8M requests give
/// 0.0002; 0.005 is generous there.
#[test]
fn shield_behind_one_edge_is_the_two_tier_ttl_result() {
    let toml = |pops: u32| {
        format!(
            r#"
            name = "two-tier"
            seed = 13
            requests = {}
            warmup_requests = 10_000
            [workload]
            keys = 100
            popularity = {{ dist = "uniform" }}
            rate = 100.0
            clients = 100
            [[layers]]
            name = "edge"
            kind = "cdn"
            pops = {pops}
            capacity = 100
            ttl_s = 10
            [[layers]]
            name = "shield"
            kind = "shield"
            capacity = 100
            ttl_s = 60
            [[layers]]
            name = "db"
            kind = "database"
            "#,
            if pops == 1 { 2_010_000 } else { 20_000 }
        )
    };
    let (report, rows) = run_with_theory(&toml(1));
    let edge = find(&rows, "edge", "hit_ratio");
    assert!((edge.predicted.unwrap() - 10.0 / 11.0).abs() < 1e-12);
    assert!(
        (report.layers[0].hit_ratio.unwrap() - 10.0 / 11.0).abs() < 0.005,
        "{edge:?}"
    );
    let shield = find(&rows, "shield", "hit_ratio");
    assert!(
        shield.model.as_deref().unwrap().starts_with("two-tier TTL"),
        "{shield:?}"
    );
    assert!(
        (shield.predicted.unwrap() - 0.8325).abs() < 1e-4,
        "{shield:?}"
    );
    let simulated = report.layers[1].hit_ratio.unwrap();
    eprintln!(
        "shield: simulated {simulated:.5}, theory {:.5}",
        shield.predicted.unwrap()
    );
    assert!(
        (simulated - shield.predicted.unwrap()).abs() < 0.005,
        "{shield:?}"
    );
    // Four PoPs filled from one shield copy expire together: not a renewal of one edge.
    let (_, rows) = run_with_theory(&toml(4));
    let shield = find(&rows, "shield", "hit_ratio");
    assert!(shield.predicted.is_none(), "{shield:?}");
    assert!(
        shield.fails.as_deref().unwrap().contains("expire together"),
        "{shield:?}"
    );
}

/// M/D/1: a constant service time at one connection, where Pollaczek–Khinchine is
/// exact, `W_q = rho E[S] / (2 (1 - rho))`: 1.1667 ms at rho = 0.7, E[S] = 1 ms.
///
/// Tolerance: M/D/1's number in system varies less than M/M/1's, so the 0.6% relative
/// standard error derived for M/M/1 above (Whitt 1989, same run length) bounds it; 5%
/// is over 8 of them.
#[test]
fn database_with_constant_service_is_pollaczek_khinchine() {
    let (report, rows) = run_with_theory(
        r#"
        name = "md1"
        seed = 17
        requests = 1_050_000
        warmup_requests = 50_000
        [workload]
        keys = 1000
        rate = 700.0
        [[layers]]
        name = "db"
        kind = "database"
        latency = { dist = "constant", ms = 1 }
        "#,
    );
    let row = find(&rows, "db", "mean_queue_wait_ms");
    assert!(
        row.model
            .as_deref()
            .unwrap()
            .starts_with("Pollaczek–Khinchine"),
        "{row:?}"
    );
    let predicted = row.predicted.unwrap();
    assert!((predicted - 0.7 / (2.0 * 0.3)).abs() < 1e-9, "{predicted}");
    let simulated = report.origin.mean_queue_wait_ms;
    assert!((simulated - predicted).abs() / predicted < 0.05, "{row:?}");
    let u = find(&rows, "db", "utilization");
    assert!((u.simulated - 0.7).abs() < 0.01, "{u:?}");
}

/// Where a model does not apply, the row says which assumption fails, in one sentence,
/// and predicts nothing; the layers behind a layer without a model have none either.
#[test]
fn each_broken_assumption_is_named() {
    let base = |layer: &str, workload: &str| {
        format!(
            r#"
            name = "fails"
            seed = 1
            requests = 2000
            warmup_requests = 0
            [workload]
            keys = 1000
            rate = 100.0
            {workload}
            [[layers]]
            name = "cache"
            kind = "redis"
            capacity = 100
            {layer}
            [[layers]]
            name = "l2"
            kind = "redis"
            capacity = 100
            [[layers]]
            name = "db"
            kind = "database"
            "#
        )
    };
    for (layer, workload, phrase) in [
        ("", "write_ratio = 0.1", "writes invalidate copies"),
        ("policy = \"arc\"", "", "policy `arc` has no closed form"),
        (
            "policy = \"perfect_lfu\"\nttl_s = 5",
            "",
            "no closed form with a TTL",
        ),
        (
            "stampede = { mode = \"coalesce\" }",
            "",
            "stampede defence `coalesce`",
        ),
        ("sync_expiry = { keys = 100 }\nttl_s = 5", "", "sync_expiry"),
        ("", "missing_ratio = 0.1", "keys that do not exist"),
    ] {
        let (_, rows) = run_with_theory(&base(layer, workload));
        let cache = find(&rows, "cache", "hit_ratio");
        assert!(
            cache.predicted.is_none() && cache.model.is_none(),
            "{cache:?}"
        );
        let why = cache.fails.as_deref().unwrap();
        assert!(why.contains(phrase), "{layer} {workload}: {why}");
        let l2 = find(&rows, "l2", "hit_ratio");
        assert!(l2.fails.is_some(), "{l2:?}");
    }
}

/// A key space too large for the per-key formulas is refused in a sentence, before
/// any per-key vector is allocated (100M keys would take about 6 GB of them).
#[test]
fn too_many_keys_for_the_formulas_are_named_not_allocated() {
    let (_, rows) = run_with_theory(
        r#"
        name = "huge"
        requests = 1000
        warmup_requests = 0
        [workload]
        keys = 100_000_000
        rate = 100.0
        [[layers]]
        name = "cache"
        kind = "redis"
        capacity = 100
        [[layers]]
        name = "db"
        kind = "database"
        "#,
    );
    let why = find(&rows, "cache", "hit_ratio").fails.as_deref().unwrap();
    assert!(why.contains("100000000 keys exceed the 4194304"), "{why}");
}

/// `tiersim theory` on a shipped scenario where a model applies: the hot key's Redis
/// layer is a TTL cache of one key (predicted 100/101), and the simulated ratio falls
/// short by the herd of misses during each 10 ms refetch; the database's queries, the
/// misses of one key, are named as no Poisson stream.
#[test]
fn theory_command_prints_the_table_for_a_shipped_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = repo().join("scenarios/hot_key_stampede.toml");
    let out = tiersim_ok(
        dir.path(),
        &[
            "theory",
            scenario.to_str().unwrap(),
            "--set",
            "requests=20000",
            "-q",
        ],
    );
    let text = stdout(&out);
    let header = text.lines().next().unwrap();
    for column in [
        "layer",
        "quantity",
        "model",
        "predicted",
        "simulated",
        "gap",
    ] {
        assert!(header.contains(column), "{text}");
    }
    let redis = text
        .lines()
        .find(|l| l.starts_with("redis"))
        .expect("a redis row");
    assert!(
        redis.contains("TTL cache without reset") && redis.contains("0.9901"),
        "{text}"
    );
    assert!(
        text.contains("db mean_queue_wait_ms: no model") && text.contains("misses of 1 key,"),
        "{text}"
    );
    // Nothing written without --out.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

/// `tiersim theory` where an assumption fails (a batch fill), and `--out` writes the
/// run's files with the `theory` block.
#[test]
fn theory_command_names_the_failed_assumption_and_writes_the_block() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = repo().join("scenarios/sync_expiry.toml");
    let out = tiersim_ok(
        dir.path(),
        &[
            "theory",
            scenario.to_str().unwrap(),
            "--set",
            "duration_s=1",
            "-q",
            "--out",
            "o",
        ],
    );
    let text = stdout(&out);
    assert!(text.contains("redis hit_ratio: no model"), "{text}");
    assert!(text.contains("a batch fill (`sync_expiry`)"), "{text}");
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("o/summary.json")).unwrap()).unwrap();
    let rows = summary["theory"].as_array().expect("a theory block");
    let redis = &rows[0];
    assert_eq!(redis["layer"], "redis");
    assert_eq!(redis["quantity"], "hit_ratio");
    assert!(redis["model"].is_null() && redis["predicted"].is_null());
    assert!(redis["simulated"].is_number());
    assert!(redis["fails"].as_str().unwrap().contains("sync_expiry"));
}

/// `run --theory` adds the block; a plain `run` has none (golden files stay as they are).
#[test]
fn run_theory_adds_the_block_and_plain_run_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = repo().join("scenarios/hot_key_stampede.toml");
    let s = scenario.to_str().unwrap();
    tiersim_ok(
        dir.path(),
        &[
            "run",
            s,
            "--set",
            "requests=5000",
            "-q",
            "--out",
            "a",
            "--theory",
        ],
    );
    tiersim_ok(
        dir.path(),
        &["run", s, "--set", "requests=5000", "-q", "--out", "b"],
    );
    let read = |d: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(dir.path().join(d).join("summary.json")).unwrap())
            .unwrap()
    };
    let (a, b) = (read("a"), read("b"));
    let rows = a["theory"].as_array().expect("a theory block");
    assert_eq!(rows[0]["layer"], "redis");
    assert!(rows[0]["predicted"].is_number() && rows[0]["fails"].is_null());
    assert!(b.get("theory").is_none());
    // The rest of the summary is the same run.
    let mut a = a;
    a.as_object_mut().unwrap().remove("theory");
    assert_eq!(a, b);
}

/// A scenario that does not parse is bad input for `theory` too: exit 2, the file named.
#[test]
fn theory_command_refuses_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let bad = "name = \"x\"\nrequests = 10\n[workload]\nkeys = 0\nrate = 1.0\n\
               [[layers]]\nname = \"db\"\nkind = \"database\"\n";
    std::fs::write(dir.path().join("bad.toml"), bad).unwrap();
    let out = tiersim(dir.path(), &["theory", "bad.toml"]);
    assert_bad_input(&out, &["bad.toml", "keys"]);
}
