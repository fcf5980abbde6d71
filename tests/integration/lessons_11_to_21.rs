//! The numbers lessons 11 to 19 and 21 (`scenarios/lessons/`) tell a student, each
//! asserted against its model: Che's approximation and perfect LFU, the TTL-cache
//! formula, a fluid queue, the ladder sum, or the outage's share of the arrivals.
//! Every run is in-process, on the lesson's file with `--set`-style overrides, at fixed
//! seeds; each tolerance is derived beside its assertion.

use tiersim::output::report::Report;
use tiersim::scenario::{Override, load};
use tiersim::theory::che;
use tiersim::workload::PopularitySpec;

use crate::support::{buckets, repo};

/// Runs `scenarios/lessons/<file>` with `sets` (`KEY=VALUE`, as `--set` takes them).
fn lesson(file: &str, sets: &[&str]) -> Report {
    let overrides: Vec<Override> = sets
        .iter()
        .map(|s| Override::parse(s).unwrap_or_else(|e| panic!("{s}: {e}")))
        .collect();
    let path = repo().join("scenarios/lessons").join(file);
    let (_, plan) = load(&path, &overrides).unwrap_or_else(|e| panic!("{e:#}"));
    tiersim::simulate(&plan)
}

/// The layer named `name` of a run.
fn layer<'a>(r: &'a Report, name: &str) -> &'a tiersim::output::report::LayerReport {
    r.layers
        .iter()
        .find(|l| l.name == name)
        .unwrap_or_else(|| panic!("no layer {name}"))
}

fn hit(r: &Report, name: &str) -> f64 {
    layer(r, name)
        .hit_ratio
        .expect("a cache layer has a hit ratio")
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// Zipf key probabilities of `keys` keys, most popular first.
fn zipf(alpha: f64, keys: u32) -> Vec<f64> {
    PopularitySpec::Zipf { alpha }.probabilities(keys)
}

/// Lesson 11. Seeds 1-3 per case (the lesson check's seeds). Models: calm LRU is
/// Che's approximation for 500 entries over Zipf 0.8 (0.19); perfect LFU, the top 500
/// keys' share (0.33), bounds calm in-cache LFU from above (an evicted key's count is
/// forgotten, so newcomers churn the lowest slots): it gets 0.29 at every seed.
/// Seeds' spread, measured: about 0.001 for LRU and calm LFU, 0.01 for LFU under
/// churn, so 0.01 is over five of them for the first two (Che's own error at this size
/// is a few thousandths) and 0.03 three for churned LFU.
#[test]
fn lesson_11_lfu_wins_calm_and_loses_under_churn() {
    let file = "11_eviction_policies.toml";
    let runs = |policy: &str, calm: bool| -> Vec<f64> {
        (1..=3)
            .map(|seed| {
                let seed = format!("seed={seed}");
                let policy = format!("layers.redis.policy={policy}");
                let mut sets = vec![seed.as_str(), policy.as_str()];
                if calm {
                    sets.push("workload.drift.churn.interval_s=1000");
                }
                hit(&lesson(file, &sets), "redis")
            })
            .collect()
    };
    let (lru_calm, lfu_calm) = (runs("lru", true), runs("lfu", true));
    let (lru_churn, lfu_churn) = (runs("lru", false), runs("lfu", false));
    let all = format!(
        "lru calm {lru_calm:?}, lfu calm {lfu_calm:?}, lru churn {lru_churn:?}, lfu churn {lfu_churn:?}"
    );
    let q = zipf(0.8, 50_000);
    let (che_lru, top) = (che::che_lru(&q, 500.0), che::perfect_lfu(&q, 500.0));
    assert!((che_lru - 0.19).abs() < 0.01, "Che {che_lru}");
    assert!(
        (mean(&lru_calm) - che_lru).abs() < 0.01,
        "Che {che_lru}: {all}"
    );
    assert!((top - 0.33).abs() < 0.005, "perfect LFU {top}");
    assert!(
        mean(&lfu_calm) < top && (mean(&lfu_calm) - 0.29).abs() < 0.01,
        "perfect LFU {top}: {all}"
    );
    // Churn hardly touches LRU (it forgets in a few hundred requests), and sinks LFU.
    assert!((mean(&lru_churn) - che_lru).abs() < 0.01, "{all}");
    assert!((mean(&lfu_churn) - 0.10).abs() < 0.03, "{all}");
    // Who wins, seed by seed: every seed of the winner above every seed of the loser.
    let (min, max) = (
        |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min),
        |v: &[f64]| v.iter().copied().fold(0.0, f64::max),
    );
    assert!(min(&lfu_calm) > max(&lru_calm), "{all}");
    assert!(min(&lru_churn) > max(&lfu_churn), "{all}");
}

/// Lesson 12. Redis crashes at 9 s; write_back flushed at 8 s, so the writes accepted
/// in [8, 9) are lost: Poisson with mean 5,000/s × 0.2 × 1 s = 1,000, standard
/// deviation √1,000 ≈ 32, so ± 160 is five of them. They are exactly the writes the
/// time series counts in that second. write_through stores every write in Redis as the
/// database takes it: no read can be stale.
#[test]
fn lesson_12_write_back_loses_one_flush_interval() {
    let file = "12_write_strategies.toml";
    let back = lesson(file, &["workload.write_strategy=write_back"]);
    let lost = back.lost_writes as f64;
    assert!((lost - 1_000.0).abs() < 160.0, "lost {lost}");
    let second: u64 = buckets(&back, 8.0, 9.0).map(|b| b.writes).sum();
    assert_eq!(back.lost_writes, second);
    let through = lesson(file, &["workload.write_strategy=write_through"]);
    assert_eq!(through.stale_reads, 0);
    let aside = lesson(file, &[]);
    assert!(aside.stale_reads > 0 && aside.lost_writes == 0);
}

/// Lesson 13: the stale share of TTL-only invalidation against the model in the
/// lesson's header, r(T − (1 − e^(−wT))/w)/(1 + rT) with r = 1.9, w = 0.1, T = 10:
/// 0.349. Seeds 1-3 give 0.340, 0.344, 0.329 (a copy's reads are one Poisson cycle's,
/// so the share varies by about 0.008 a seed); their mean's standard error is 0.0046
/// and 0.025 is over five of them. delete_on_write leaves only the race of a delete
/// with a fill (at most a few in 10,000), versioned keys none.
#[test]
fn lesson_13_ttl_only_serves_the_model_share_stale() {
    let file = "13_invalidation.toml";
    let (r, w, t) = (1.9_f64, 0.1_f64, 10.0_f64);
    let model = r * (t - (1.0 - (-w * t).exp()) / w) / (1.0 + r * t);
    assert!((model - 0.349).abs() < 0.001, "{model}");
    let shares: Vec<f64> = (1..=3)
        .map(|seed| {
            let r = lesson(file, &[&format!("seed={seed}")]);
            r.stale_reads as f64 / r.reads as f64
        })
        .collect();
    assert!(
        (mean(&shares) - model).abs() < 0.025,
        "{shares:?} vs {model}"
    );
    let delete = lesson(file, &["workload.invalidation=delete_on_write"]);
    assert!(
        delete.stale_reads * 1_000 < delete.reads,
        "{}",
        delete.stale_reads
    );
    let versioned = lesson(file, &["workload.invalidation=versioned_keys"]);
    assert_eq!(versioned.stale_reads, 0);
    assert!(layer(&versioned, "redis").orphaned > 0);
}

/// Lesson 14: the database's "not found" answers per second. Without negative caching
/// every missing read reaches it: 1,000/s. With a 10 s negative TTL each missing id is
/// a TTL cache without reset, fetched at λ/(1 + λT) (λ = 0.1/s): 500/s in all. Over
/// the 40 s measured, about 20,000 such queries: at most √20,000 ≈ 141 of Poisson
/// noise (a renewal count varies less), 3.5/s, so ± 25/s is seven of them.
#[test]
fn lesson_14_negative_ttl_halves_not_found_queries() {
    let file = "14_negative_caching.toml";
    let per_s = |r: &Report| r.origin.not_found as f64 / r.duration_s;
    let (lambda, ttl) = (0.1, 10.0);
    let model = 1_000.0 / (1.0 + lambda * ttl);
    let without = per_s(&lesson(file, &[]));
    assert!((without - 1_000.0).abs() < 25.0, "{without}");
    let with = per_s(&lesson(file, &["layers.redis.negative_ttl_s=10"]));
    assert!((with - model).abs() < 25.0, "{with} vs {model}");
}

/// Lesson 15: the classes are alike but for `private`, so each CDN hit is an account
/// page's with probability 1/2, and a leak unless the client is the one who fetched it
/// (1 in 10,000). Over about 104,000 hits the binomial standard error is
/// √(0.25 / 104,000) = 0.0016; seeds 1-3 spread by 0.001 (0.4991, 0.4992, 0.5000):
/// ± 0.01 is six of the binomial's.
#[test]
fn lesson_15_half_the_cdn_hits_leak() {
    let r = lesson("15_private_leaks.toml", &[]);
    let cdn = layer(&r, "cdn");
    let share = r.leaks as f64 / cdn.hits as f64;
    assert!(
        (share - 0.5).abs() < 0.01,
        "{} leaks of {} hits",
        r.leaks,
        cdn.hits
    );
    let fixed = lesson(
        "15_private_leaks.toml",
        &["layers.cdn.ignore_private=false"],
    );
    assert_eq!(fixed.leaks, 0);
}

/// Lesson 16. Immutable: no reload revalidates. Without `immutable` a use of a fresh
/// browser copy is a reload with probability 0.2, and then a revalidation (counted in
/// misses, not hits): over about 29,600 such uses the binomial standard error is
/// √(0.16 / 29,600) = 0.0023, so ± 0.012 is five of them. With `no_cache` every read
/// is validated at the origin: the database answers every read.
#[test]
fn lesson_16_reloads_revalidate_unless_immutable() {
    let file = "16_immutable_etag.toml";
    let immutable = lesson(file, &[]);
    assert_eq!(layer(&immutable, "browser").revalidations, 0);
    let mutable = lesson(file, &["workload.classes.asset.immutable=false"]);
    let b = layer(&mutable, "browser");
    let share = b.revalidations as f64 / (b.hits + b.revalidations) as f64;
    assert!((share - 0.2).abs() < 0.012, "{share}");
    let no_cache = lesson(file, &["workload.classes.asset.no_cache=true"]);
    assert_eq!(layer(&no_cache, "browser").hits, 0);
    assert_eq!(layer(&no_cache, "db").requests, no_cache.reads);
}

/// Lesson 17. The CDN's 10 s without failover is a fifth of the 50 s measured: the
/// failed share is binomial over about 100,000 arrivals, standard error
/// √(0.16 / 100,000) = 0.0013, so ± 0.007 is five of them. Redis: the origin's extra
/// requests/s while one shard of four is down, against the whole tier's, each over its
/// own calm seconds before. A shard owns a quarter of the ring, give or take
/// 1/√vnodes (an eighth of it), and the few hottest keys past the CDN weigh unevenly:
/// ± 0.1 (40%) holds either.
#[test]
fn lesson_17_outage_costs_its_share() {
    let file = "17_outages.toml";
    let r = lesson(file, &[]);
    assert!((r.availability - 0.8).abs() < 0.007, "{}", r.availability);
    let failover = lesson(file, &["faults.0.fallback=true"]);
    assert_eq!(failover.failed_requests, 0);
    let extra = |r: &Report| {
        let rps = |a, b| {
            let v: Vec<f64> = buckets(r, a, b).map(|b| b.origin_rps).collect();
            mean(&v)
        };
        rps(41.0, 50.0) - rps(32.0, 40.0)
    };
    let one = lesson(file, &["faults.1.node=1"]);
    let ratio = extra(&one) / extra(&r);
    assert!((ratio - 0.25).abs() < 0.1, "{ratio}");
}

/// Lesson 18: round robin gives each instance a share of every key's requests, and an
/// LRU's hit ratio under IRM does not depend on its rate: one 1,000-entry LRU (Che).
/// Key hash gives each instance its own keys: eight such caches act as one of 8,000
/// (Che again; the split by hash is even to a few percent). Tolerance 0.01: Che's own
/// error here (under 0.002 in `tiersim theory`), the restart's lost hits (instance 0
/// refills 1,000 entries, at most 1,000 hits of the 100,000 measured: 0.01 at worst,
/// a few thousandths in fact), and the seed (binomial, 0.0015).
#[test]
fn lesson_18_key_hash_pools_the_instances() {
    let file = "18_per_instance_caches.toml";
    let q = zipf(0.9, 100_000);
    let (one, pooled) = (che::che_lru(&q, 1_000.0), che::che_lru(&q, 8_000.0));
    assert!((one - 0.34).abs() < 0.01 && (pooled - 0.57).abs() < 0.01);
    let rr = hit(&lesson(file, &[]), "l1");
    assert!((rr - one).abs() < 0.01, "round robin {rr}, Che {one}");
    let kh = hit(&lesson(file, &["layers.l1.balancer=key_hash"]), "l1");
    assert!((kh - pooled).abs() < 0.01, "key hash {kh}, Che {pooled}");
}

/// Lesson 19: the ladder sum. Latencies are constant and the database never queues
/// (100 connections at 6%: Erlang C's chance of a wait is below 10^-40), so the mean is
/// Σ served_share × the path's latency up to the layer that answered, to the
/// histogram's rounding (0.001 ms). From the models: Che's hit ratios, the L1's and
/// Redis's (fed the L1's misses as IRM), give the shares; Che is off by about 0.006 at
/// Redis here (its input is not IRM), 0.02 ms of the mean, so ± 0.05 ms.
#[test]
fn lesson_19_mean_latency_is_the_ladder_sum() {
    let r = lesson("19_latency_ladder.toml", &[]);
    let ladder = [0.001, 0.201, 3.201];
    let sum: f64 = r
        .layers
        .iter()
        .zip(ladder)
        .map(|(l, ms)| l.served_share * ms)
        .sum();
    assert!(
        (r.latency_ms.mean - sum).abs() < 0.001,
        "{} vs {sum}",
        r.latency_ms.mean
    );
    assert!(
        (r.latency_ms.mean - 1.32).abs() < 0.05,
        "{}",
        r.latency_ms.mean
    );
    let q = zipf(0.9, 100_000);
    let l1 = che::lru_hit_probabilities(&q, 1_000.0);
    let passed: Vec<f64> = q.iter().zip(&l1).map(|(q, h)| q * (1.0 - h)).collect();
    let miss_l1: f64 = passed.iter().sum();
    let redis_q: Vec<f64> = passed.iter().map(|p| p / miss_l1).collect();
    let h2 = che::che_lru(&redis_q, 10_000.0);
    let h1 = 1.0 - miss_l1;
    let model = h1 * ladder[0] + miss_l1 * (h2 * ladder[1] + (1.0 - h2) * ladder[2]);
    assert!(
        (r.latency_ms.mean - model).abs() < 0.05,
        "{} vs {model}",
        r.latency_ms.mean
    );
}

/// Lesson 21: a fluid queue. With 5 connections of 20 ms (μ = 250/s) the queue grows
/// at λ(t) − μ while λ(t) = 200(1 + 0.5 cos θ) is above it (|θ| < π/3), and peaks at
/// the integral, (P/2π)(200 sin(π/3) − 100π/3) = 6,540 for P = 600 s. The arrivals
/// over those 200 s are Poisson, about 56,000: a standard deviation of 240, so ± 15%
/// (980) is four of them. Sized for the peak (8 connections: 400/s, 75% busy at the
/// peak) an M/D/8 queue of 100 has a chance below 10^-10.
#[test]
fn lesson_21_the_mean_sized_database_queues_at_the_peak() {
    let file = "21_daily_cycle.toml";
    let period = 600.0;
    let third = std::f64::consts::PI / 3.0;
    let fluid = period / (2.0 * std::f64::consts::PI) * (200.0 * third.sin() - 100.0 * third);
    assert!((fluid - 6_540.0).abs() < 5.0, "{fluid}");
    let mean_sized = lesson(file, &[]).origin.peak_queue as f64;
    assert!(
        (mean_sized - fluid).abs() < 0.15 * fluid,
        "{mean_sized} vs {fluid}"
    );
    let peak_sized = lesson(file, &["layers.db.connections=8"]).origin.peak_queue;
    assert!(peak_sized < 100, "{peak_sized}");
}
