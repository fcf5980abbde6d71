//! Overload controls (issue 17, the origin side): the bounded queue against M/M/c/K,
//! token buckets against their rate and burst, CoDel shedding against the unbounded
//! queue, the overload measures adding up, and bad values refused by key.

use std::fs;

use tiersim::output::report::Report;
use tiersim::theory::queue::mmck;

use crate::support::{assert_bad_input, run, stdout, tiersim, tiersim_ok};

/// A database-only path: `connections` connections with exponential service of mean
/// `service_ms`, Poisson arrivals at `rate`, `db_extra` added to the database's table.
fn database_only(rate: f64, connections: u32, service_ms: f64, db_extra: &str) -> String {
    format!(
        r#"
        name = "overload"
        seed = 11
        requests = 1_000_000
        warmup_requests = 20_000
        [workload]
        keys = 1_000_000
        rate = {rate:?}
        [[layers]]
        name = "db"
        kind = "database"
        connections = {connections}
        latency = {{ dist = "exponential", mean_ms = {service_ms:?} }}
        {db_extra}
        "#
    )
}

/// Mean and standard error of `xs` taken as independent batch means.
fn mean_se(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, (var / n).sqrt())
}

/// M/M/c/K with c = 4, `max_queue = 8` (K = 12), exponential service of 4 ms, at
/// ρ = 0.9, 1.0 and 1.2: the share of queries refused and the admitted queries' mean
/// wait against the closed form (Gross & Harris 2.5), within 5%.
///
/// Tolerance: 980,000 measured arrivals. The blocking share's standard error is
/// estimated from 20 batch means of the time series (batches of about 49 s, thousands
/// of busy periods each, so nearly independent) and asserted to be under 1.5% of the
/// value (it is about 1.2% at ρ = 0.9, less above): the 5% band is then more than
/// 3.3 standard errors, a false alarm under one in a thousand. The mean wait's spread
/// over seeds 1–5 at ρ = 1 was 0.5%, tighter still. The warm-up (20,000 arrivals, 20
/// s) leaves out the start from an empty queue.
#[test]
fn a_bounded_queue_blocks_and_waits_as_mmck_predicts() {
    for rate in [900.0, 1000.0, 1200.0] {
        let r = run(&database_only(rate, 4, 4.0, "max_queue = 8"));
        let o = &r.origin;
        let offered = o.requests + o.queue_full;
        assert_eq!(offered, r.requests, "every arrival reaches the database");
        let q = mmck(4, 12, rate, 0.004);
        let blocked = o.queue_full as f64 / offered as f64;
        let rows: Vec<_> = r
            .timeseries
            .iter()
            .filter(|b| b.t_s >= r.warmup_s)
            .collect();
        let per = rows.len() / 20;
        let batches: Vec<f64> = rows
            .chunks(per)
            .filter(|c| c.len() == per)
            .map(|c| {
                let refused: u64 = c.iter().map(|b| b.rejected).sum();
                let arrived: u64 = c.iter().map(|b| b.requests).sum();
                refused as f64 / arrived as f64
            })
            .collect();
        let (_, se) = mean_se(&batches);
        assert!(
            se / q.loss < 0.015,
            "ρ {}: se {se} of {}",
            rate * 0.004 / 4.0,
            q.loss
        );
        assert!(
            (blocked / q.loss - 1.0).abs() < 0.05,
            "rate {rate}: blocked {blocked}, M/M/c/K {}",
            q.loss
        );
        let wait_ms = q.mean_wait * 1e3;
        assert!(
            (o.mean_queue_wait_ms / wait_ms - 1.0).abs() < 0.05,
            "rate {rate}: wait {} ms, M/M/c/K {wait_ms} ms",
            o.mean_queue_wait_ms
        );
        assert!(
            o.peak_queue <= 8,
            "the queue never holds more than max_queue"
        );
        assert_eq!(r.overload.rejected.queue_full, o.queue_full);
    }
}

/// A token bucket of `rps` tokens a second and `burst` tokens at the database, or at a
/// first cache layer that always misses (capacity 1 over a million keys), arrivals at
/// `lambda`, with 10 ms time-series buckets.
fn limited(at_cache: bool, lambda: f64, rps: f64, burst: f64) -> Report {
    let limit = format!("rate_limit = {{ rps = {rps:?}, burst = {burst:?} }}");
    let (cache_limit, db_limit) = if at_cache {
        (limit.as_str(), "")
    } else {
        ("", limit.as_str())
    };
    run(&format!(
        r#"
        name = "limited"
        seed = 5
        requests = 300_000
        warmup_requests = 0
        [workload]
        keys = 1_000_000
        rate = {lambda:?}
        [metrics]
        bucket_s = 0.01
        [[layers]]
        name = "redis"
        kind = "redis"
        capacity = 1
        latency = {{ dist = "constant", ms = 0.0 }}
        {cache_limit}
        [[layers]]
        name = "db"
        kind = "database"
        connections = 1000
        latency = {{ dist = "constant", ms = 1.0 }}
        {db_limit}
        "#
    ))
}

/// Above its rate, a bucket admits `burst + r·T` over the arrivals' span T (it starts
/// full): the long-run admitted rate is r. The bucket is empty nearly always at λ = 4/3
/// r, so at most a token or two is lost while full: the count is within 1% (it is
/// within a few requests of 450,050 out of 450,000). Below its rate (λ = 2/3 r, burst
/// 50), a refusal needs 50 more arrivals than tokens: the deficit is an M/D/1-like
/// walk whose tail decays as e^(−θn) with (2/3)(e^θ − 1) = θ, θ ≈ 0.87, so about
/// e^(−43) per arrival: none in 300,000. In no 10 ms bucket, nor any run of buckets,
/// does the admitted count exceed burst + r·window.
#[test]
fn a_token_bucket_admits_its_rate_and_at_most_its_burst() {
    let (rps, burst) = (1500.0, 50.0);
    for at_cache in [false, true] {
        let over = limited(at_cache, 2000.0, rps, burst);
        // At the database, hits on the one-entry cache (the hottest key) never ask it.
        let admitted = if at_cache {
            over.requests - over.overload.rejected.rate_limited
        } else {
            over.origin.requests
        };
        let expected = burst + rps * over.duration_s;
        assert!(
            (admitted as f64 / expected - 1.0).abs() < 0.01,
            "at cache {at_cache}: admitted {admitted}, expected {expected}"
        );
        let refused = if at_cache {
            over.layers[0].rate_limited
        } else {
            over.origin.rate_limited
        };
        assert_eq!(refused, over.overload.rejected.rate_limited);
        // Every window of k buckets (refusals happen at arrival: the limit is at the
        // first hop, which has no latency).
        let admitted_per: Vec<u64> = over
            .timeseries
            .iter()
            .map(|b| {
                if at_cache {
                    b.requests - b.rejected
                } else {
                    b.origin_requests
                }
            })
            .collect();
        for k in [1usize, 2, 10, 100] {
            let bound = burst + rps * 0.01 * k as f64;
            for w in admitted_per.windows(k) {
                let n: u64 = w.iter().sum();
                assert!(n as f64 <= bound + 1e-9, "{n} admitted in {k} buckets");
            }
        }
        let under = limited(at_cache, 1000.0, rps, burst);
        assert_eq!(under.overload.rejected.total, 0, "at cache {at_cache}");
        assert_eq!(under.failed_requests, 0);
    }
}

/// One connection, exponential service of 1 ms, arrivals at 1.2 times its capacity:
/// without a bound the queue grows by (λ − μ) = 200 queries a second for the whole
/// run (250 s), so the mean wait is about (λ − μ)T/2 × 1 ms ≈ 25 s, and the second
/// half's queue is longer than the first's. With CoDel (target 5 ms, interval 20 ms,
/// RFC 8289's law) the drops keep the wait bounded: about 15 ms at seeds 1–5 (CoDel
/// has no closed form for open-loop arrivals, which do not slow down when dropped,
/// and its drop rate √count/interval lags the needed λ − μ, so it holds a few targets,
/// not one); asserted below 4 targets (20 ms), three orders of magnitude under the
/// unbounded queue, with about λ − μ = 1/6 of arrivals shed.
#[test]
fn codel_keeps_the_wait_near_its_target_where_the_unbounded_queue_grows() {
    let base = |extra: &str| {
        run(&database_only(1200.0, 1, 1.0, extra)
            .replace("1_000_000\n        warmup", "300_000\n        warmup"))
    };
    let unbounded = base("");
    assert!(
        unbounded.origin.mean_queue_wait_ms > 10_000.0,
        "{:?}",
        unbounded.origin
    );
    let half = unbounded.timeseries.len() / 2;
    let mean_q = |b: &[tiersim::metrics::Bucket]| {
        b.iter().map(|b| b.origin_queue_mean).sum::<f64>() / b.len() as f64
    };
    assert!(mean_q(&unbounded.timeseries[half..]) > 2.0 * mean_q(&unbounded.timeseries[..half]));
    let shed = base("shed = { target_ms = 5, interval_ms = 20 }");
    let wait = shed.origin.mean_queue_wait_ms;
    assert!(wait > 0.0 && wait < 20.0, "CoDel's mean wait {wait} ms");
    let share = shed.overload.rejected.shed as f64 / shed.requests as f64;
    assert!((share - 1.0 / 6.0).abs() < 0.03, "shed {share}");
    assert_eq!(shed.origin.shed, shed.overload.rejected.shed);
}

/// Every control at once (a cache layer's rate limit, the database's rate limit,
/// bounded queue and shedding): offered = arrivals / duration, goodput × span + failures
/// = arrivals, rejected.total = the sum of its causes = the time series' `rejected`,
/// `latency_all_ms` counts every read, `latency_ms` only the answered ones.
#[test]
fn the_overload_measures_add_up() {
    let r = run(r#"
        name = "all"
        seed = 3
        requests = 200_000
        warmup_requests = 10_000
        [workload]
        keys = 100_000
        rate = 3000.0
        write_ratio = 0.05
        [[layers]]
        name = "redis"
        kind = "redis"
        capacity = 10_000
        rate_limit = { rps = 2800, burst = 100 }
        latency = { dist = "constant", ms = 0.3 }
        [[layers]]
        name = "db"
        kind = "database"
        connections = 2
        max_queue = 20
        rate_limit = { rps = 1500, burst = 30 }
        shed = { target_ms = 2, interval_ms = 20 }
        latency = { dist = "exponential", mean_ms = 1.5 }
        "#);
    let v = &r.overload;
    let span = r.span_s;
    assert!((v.offered_rps * r.duration_s - r.requests as f64).abs() < 1e-6 * r.requests as f64);
    let good = v.goodput_rps * span;
    assert!((good + r.failed_requests as f64 - r.requests as f64).abs() < 1e-3);
    let c = &v.rejected;
    assert_eq!(
        c.total,
        c.rate_limited + c.queue_full + c.shed + c.breaker_open
    );
    for cause in [c.rate_limited, c.queue_full, c.shed] {
        assert!(cause > 0, "{c:?}");
    }
    let o = &r.origin;
    assert_eq!(c.rate_limited, r.layers[0].rate_limited + o.rate_limited);
    assert_eq!(c.queue_full, o.queue_full);
    assert_eq!(c.shed, o.shed);
    assert_eq!(r.layers[1].rate_limited, o.rate_limited);
    let series: u64 = r.timeseries.iter().map(|b| b.rejected).sum();
    assert_eq!(series, c.total);
    // No stale_if_error here: every refusal fails its request.
    assert_eq!(r.failed_requests, c.total);
    assert_eq!(r.latency_all_ms.count, r.reads);
    let failed_reads = r.reads - r.latency_ms.count;
    assert!(failed_reads > 0 && failed_reads <= c.total);
    assert!((v.throughput_rps * span - (o.requests - o.shed) as f64).abs() < 0.5);
    assert!((r.availability - good / r.requests as f64).abs() < 1e-9);
}

/// Nothing configured: the overload object is there, zero refusals, and the table has
/// no `overload:` line.
#[test]
fn without_controls_the_overload_object_holds_zeros() {
    let r = run(&database_only(500.0, 4, 4.0, "")
        .replace("1_000_000\n        warmup", "50_000\n        warmup"));
    assert_eq!(r.overload.rejected.total, 0);
    let v = &r.overload;
    assert!(v.offered_rps > 0.0);
    // Every request answered: goodput is the offered requests over the span, which
    // runs past the last arrival to the last answer, so it is a little lower.
    assert!((v.goodput_rps * r.span_s - r.requests as f64).abs() < 1e-6 * r.requests as f64);
    assert!(v.goodput_rps <= v.offered_rps);
    assert!(v.goodput_rps > 0.99 * v.offered_rps, "{v:?}");
    assert_eq!(r.latency_all_ms, r.latency_ms);
    assert!(!r.table().contains("overload:"));
}

/// `tiersim theory` shows M/M/c/K for a database with `max_queue`, and the table of a
/// run with a control has its `overload:` line.
#[test]
fn theory_shows_mmck_when_the_queue_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let toml = database_only(1000.0, 4, 4.0, "max_queue = 8")
        .replace("1_000_000\n        warmup", "200_000\n        warmup");
    fs::write(dir.path().join("s.toml"), toml).unwrap();
    let out = tiersim_ok(dir.path(), &["theory", "s.toml", "--quiet"]);
    let text = stdout(&out);
    assert!(text.contains("M/M/c/K, K = 12"), "{text}");
    assert!(text.contains("queue_full_share"), "{text}");
    let out = tiersim_ok(dir.path(), &["run", "s.toml", "--out", "o"]);
    let table = stdout(&out);
    assert!(table.contains("overload: offered"), "{table}");
    assert!(table.contains("queue full"), "{table}");
}

/// Bad values are refused before the run, naming the file, the key and what is
/// allowed, exit 2.
#[test]
fn bad_overload_values_are_refused_by_key() {
    let dir = tempfile::tempdir().unwrap();
    let cache = |extra: &str| {
        format!(
            r#"
            name = "bad"
            requests = 1000
            [workload]
            keys = 100
            rate = 100.0
            [[layers]]
            name = "redis"
            kind = "redis"
            capacity = 10
            {extra}
            [[layers]]
            name = "db"
            kind = "database"
            "#
        )
    };
    let db = |extra: &str| database_only(100.0, 1, 1.0, extra);
    let cases = [
        (
            cache("rate_limit = { rps = 0, burst = 5 }"),
            &["layers.redis.rate_limit.rps", "> 0"][..],
        ),
        (
            db("rate_limit = { rps = -3, burst = 5 }"),
            &["layers.db.rate_limit.rps", "> 0"][..],
        ),
        (
            cache("rate_limit = { rps = 10, burst = 0.5 }"),
            &["layers.redis.rate_limit.burst", "at least 1"][..],
        ),
        (
            cache("max_queue = 10"),
            &["layers.redis.max_queue", "applies only to kind `database`"][..],
        ),
        (
            cache("shed = { target_ms = 5, interval_ms = 100 }"),
            &["layers.redis.shed", "applies only to kind `database`"][..],
        ),
        (
            db("shed = { target_ms = 0, interval_ms = 100 }"),
            &["layers.db.shed.target_ms", "> 0"][..],
        ),
        (
            db("shed = { target_ms = 5, interval_ms = 0 }"),
            &["layers.db.shed.interval_ms", "> 0"][..],
        ),
        (db("max_queue = -1"), &["max_queue"][..]),
    ];
    for (toml, phrases) in cases {
        fs::write(dir.path().join("s.toml"), &toml).unwrap();
        let out = tiersim(dir.path(), &["validate", "s.toml"]);
        let mut all = vec!["s.toml"];
        all.extend_from_slice(phrases);
        assert_bad_input(&out, &all);
    }
}

/// Lesson 20b (`scenarios/lessons/20b_rate_limit.toml`): the database's rate limit caps
/// its load during the flash crowd at burst + rps per second (the bucket admits at most
/// burst + r·w in any window w: 2,000 in a 1 s bucket), refuses the rest at once (each
/// refusal a failed read), and keeps p99 below 60 ms; without it (rps raised to
/// 100,000) the queue grows through the spike and p99 passes 500 ms. Measured at seeds
/// 1–3: 30–31 ms and 973–1,025 ms, so both thresholds are far from the values.
#[test]
fn rate_limit_lesson_caps_the_database_and_keeps_reads_fast() {
    let dir = tempfile::tempdir().unwrap();
    let lesson = crate::support::repo().join("scenarios/lessons/20b_rate_limit.toml");
    let summary = |out: &str, sets: &[&str]| {
        let mut args = vec!["run", lesson.to_str().unwrap(), "--out", out, "--quiet"];
        for s in sets {
            args.extend(["--set", s]);
        }
        tiersim_ok(dir.path(), &args);
        let text = fs::read_to_string(dir.path().join(out).join("summary.json")).unwrap();
        serde_json::from_str::<serde_json::Value>(&text).unwrap()
    };
    let limited = summary("limited", &[]);
    let p99 = limited["latency_ms"]["p99"].as_f64().unwrap();
    assert!(p99 < 60.0, "p99 {p99} ms with the limit");
    assert!(limited["origin"]["peak_rps"].as_f64().unwrap() <= 2000.0);
    let refused = limited["overload"]["rejected"]["rate_limited"]
        .as_u64()
        .unwrap();
    assert!(refused > 0);
    assert_eq!(limited["failed_requests"].as_u64().unwrap(), refused);
    assert_eq!(limited["origin"]["rate_limited"].as_u64().unwrap(), refused);
    let open = summary("open", &["layers.db.rate_limit.rps=100000"]);
    let p99 = open["latency_ms"]["p99"].as_f64().unwrap();
    assert!(p99 > 500.0, "p99 {p99} ms without the limit");
    assert_eq!(open["failed_requests"], 0);
}

/// `write_back`'s flushes are exempt from the database's controls: a limit tight
/// enough to refuse reads (and a queue bound and shedding) leaves every flush query in
/// place, the same count as without the controls at the same seed, and loses no
/// write. Without the exemption, refused flushes vanished with their writes.
#[test]
fn write_back_flushes_pass_the_database_controls() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = crate::support::repo().join("scenarios/write_back_crash.toml");
    let summary = |out: &str, sets: &[&str]| {
        let mut args = vec!["run", scenario.to_str().unwrap(), "--out", out, "--quiet"];
        for s in sets {
            args.extend(["--set", s]);
        }
        tiersim_ok(dir.path(), &args);
        let text = fs::read_to_string(dir.path().join(out).join("summary.json")).unwrap();
        serde_json::from_str::<serde_json::Value>(&text).unwrap()
    };
    let free = summary("free", &[]);
    let limited = summary(
        "limited",
        &[
            "layers.db.rate_limit.rps=50",
            "layers.db.rate_limit.burst=5",
            "layers.db.max_queue=0",
            "layers.db.shed.target_ms=0.001",
            "layers.db.shed.interval_ms=0.001",
        ],
    );
    assert!(limited["overload"]["rejected"]["total"].as_u64().unwrap() > 0);
    assert_eq!(limited["origin"]["writes"], free["origin"]["writes"]);
    assert_eq!(limited["lost_writes"], free["lost_writes"]);
}
