//! The application's side of overload (`[application]`): timeouts, retries with
//! backoff and jitter, the circuit breaker, and the metastable failure they make or
//! prevent (`scenarios/metastable_retry_storm.toml`).
//!
//! Every test uses a fixed seed. Most figures are exact identities of the model (a call
//! to a database that is down fails, so under a total outage every request makes
//! exactly `1 + max` calls; a constant service time makes the wasted work an exact
//! product); the statistical ones derive their tolerance in a comment.

use std::fs;

use tiersim::output::report::Report;
use tiersim::scenario::{Override, load};

use crate::support::{assert_bad_input, buckets, plan, repo, run, tiersim};

/// A database alone (`connections`, a constant `service_ms`) behind `rate` requests/s of
/// reads over 1,000 uniform keys for `duration_s`, with `application` and `extra` (faults,
/// metrics) appended.
fn db_only(rate: f64, duration_s: f64, db: &str, application: &str, extra: &str) -> String {
    format!(
        r#"
        name = "resilience"
        seed = 7
        duration_s = {duration_s}
        [workload]
        keys = 1000
        popularity = {{ dist = "uniform" }}
        rate = {rate}
        [[layers]]
        name = "db"
        kind = "database"
        {db}
        [application]
        {application}
        {extra}
        "#
    )
}

/// Under a database fault over the whole run, every call fails, so a request is called
/// `1 + max` times and then fails: calls per request are exactly `1 + max`.
#[test]
fn a_total_outage_makes_exactly_one_plus_max_calls_per_request() {
    for max in [0u64, 1, 3, 7] {
        let r = run(&db_only(
            500.0,
            4.0,
            r#"connections = 4
            latency = { dist = "constant", ms = 2 }"#,
            &format!("retries = {{ max = {max}, backoff_ms = 5, multiplier = 2.0, jitter = 0.5 }}"),
            r#"[[faults]]
            layer = "db"
            start_s = 0
            duration_s = 100"#,
        ));
        let o = &r.overload;
        assert!(r.requests > 1500, "{}", r.requests);
        assert_eq!(o.first_attempts, r.requests, "max {max}");
        assert_eq!(o.retries, max * r.requests, "max {max}");
        assert_eq!(
            (o.first_attempts + o.retries) as f64 / r.requests as f64,
            (1 + max) as f64
        );
        assert_eq!(o.retry_queries, 0, "the database was never reached");
        assert_eq!(
            r.failed_requests, r.requests,
            "every request failed in the end"
        );
        assert_eq!(r.origin.requests, 0);
        let per_bucket: u64 = r.timeseries.iter().map(|b| b.retries).sum();
        assert_eq!(per_bucket, o.retries, "timeseries.csv's retries add up");
    }
}

/// One request to a database that is down, retried 3 times with a backoff of 1 s and a
/// multiplier of 2: without jitter the retries come exactly 1, 3 and 7 s after it
/// arrived (1, 1 + 2, 1 + 2 + 4), and it fails at the last. With jitter 0.5 each wait
/// is within ±50% of its middle (the unit test `waits_grow_geometrically_within_the_jitter`
/// checks the draw; here the engine's use of it).
#[test]
fn backoff_spaces_the_retries_by_powers_of_the_multiplier() {
    let scenario = |jitter: f64| {
        format!(
            r#"
            name = "backoff"
            seed = 3
            requests = 1
            [workload]
            keys = 10
            rate = 1000.0
            [[layers]]
            name = "db"
            kind = "database"
            [application]
            retries = {{ max = 3, backoff_ms = 1000, multiplier = 2.0, jitter = {jitter} }}
            [[faults]]
            layer = "db"
            start_s = 0
            duration_s = 100
            [metrics]
            bucket_s = 0.01
            "#
        )
    };
    let retry_times = |r: &Report| -> Vec<f64> {
        r.timeseries
            .iter()
            .filter(|b| b.retries > 0)
            .map(|b| b.t_s)
            .collect()
    };
    let r = run(&scenario(0.0));
    let arrived = r.timeseries.iter().find(|b| b.requests > 0).unwrap().t_s;
    // The arrival is inside its 10 ms bucket, and so is each retry, at the same offset.
    let times = retry_times(&r);
    assert_eq!(times.len(), 3, "{times:?}");
    for (t, want) in times.iter().zip([1.0, 3.0, 7.0]) {
        assert!(
            (t - arrived - want).abs() < 0.0101,
            "{times:?} from {arrived}"
        );
    }
    let failed_at = r.timeseries.iter().find(|b| b.failed > 0).unwrap().t_s;
    assert!(
        (failed_at - times[2]).abs() < 1e-9,
        "it fails at its last retry"
    );

    let r = run(&scenario(0.5));
    let times = retry_times(&r);
    assert_eq!(times.len(), 3, "{times:?}");
    let mut prev = arrived;
    for (t, mid) in times.iter().zip([1.0, 2.0, 4.0]) {
        let gap = t - prev;
        // Each gap within ±50% of its middle, ± a bucket for where the times fall in theirs.
        assert!(
            gap >= 0.5 * mid - 0.0101 && gap <= 1.5 * mid + 0.0101,
            "{times:?}"
        );
        prev = *t;
    }
}

/// A database slower than the deadline: every call times out, the request fails at the
/// deadline, and the database still does every query: the wasted work is the service
/// time of them all. With a constant service that is exact: queries × 10 ms. With one
/// connection most queries time out queued, and still count their whole service.
#[test]
fn every_call_to_a_slow_database_times_out_and_its_work_is_wasted() {
    for connections in [1, 100] {
        let r = run(&db_only(
            50.0,
            20.0,
            &format!(
                r#"connections = {connections}
                latency = {{ dist = "constant", ms = 10 }}"#
            ),
            "timeout_ms = 1",
            "",
        ));
        let o = &r.overload;
        assert!(r.requests > 800, "{}", r.requests);
        assert_eq!(o.timeouts, r.requests, "every call overran");
        assert_eq!(r.failed_requests, r.requests);
        assert_eq!(r.origin.requests, r.requests, "each reached the database");
        assert_eq!(r.latency_ms.count, 0, "no read was answered");
        let want = r.requests as f64 * 0.010;
        assert!((o.wasted_s - want).abs() < 1e-6, "{} vs {want}", o.wasted_s);
        let per_bucket: u64 = r.timeseries.iter().map(|b| b.timeouts).sum();
        assert_eq!(per_bucket, o.timeouts);
    }
    // A lognormal service (median 50 ms, σ = 0.3, mean 50·e^0.045 = 52.30 ms) and a 5 ms
    // deadline, 7.7σ below the median: every call times out. wasted_s against
    // queries × mean: the coefficient of variation of one service is
    // sqrt(e^0.09 − 1) = 0.307, so over n ≈ 2,000 queries the mean's standard error is
    // 0.307/√n ≈ 0.69%; 4% is more than 5 standard errors.
    let r = run(&db_only(
        100.0,
        20.0,
        r#"connections = 100
        latency = { dist = "lognormal", median_ms = 50, sigma = 0.3 }"#,
        "timeout_ms = 5",
        "",
    ));
    let o = &r.overload;
    assert_eq!(o.timeouts, r.requests);
    let want = r.requests as f64 * 0.050 * (0.045f64).exp();
    assert!(
        (o.wasted_s / want - 1.0).abs() < 0.04,
        "{} vs {want}",
        o.wasted_s
    );
}

/// A timed-out call is retried and the retry succeeds: the request is answered once,
/// late, and its abandoned query's answer goes to nobody (no double answer, no failure).
#[test]
fn a_retry_after_a_timeout_answers_the_request_once() {
    // 10 ms queries, a 15 ms deadline, one connection: a query that waits behind
    // another overruns; its retry finds the queue shorter. Every request ends once.
    let r = run(&db_only(
        60.0,
        30.0,
        r#"connections = 1
        latency = { dist = "constant", ms = 10 }"#,
        r#"timeout_ms = 15
        retries = { max = 5, backoff_ms = 20, multiplier = 2.0, jitter = 0.5 }"#,
        "",
    ));
    let o = &r.overload;
    assert!(o.timeouts > 0 && o.retries > 0, "{o:?}");
    assert_eq!(
        r.latency_ms.count + r.failed_requests,
        r.requests,
        "every request answered or failed, once"
    );
    assert_eq!(
        r.origin.requests,
        o.first_attempts + o.retry_queries,
        "every call reached the database"
    );
}

/// A coalescing layer's flight is led by a request whose call times out and is retried
/// from a new slot: the flight follows it, so its waiters are answered by the retry's
/// answer (or fail with it), each once.
#[test]
fn a_timed_out_leader_still_answers_its_coalesced_waiters() {
    let r = run(r#"
        name = "leader"
        seed = 5
        duration_s = 20
        [workload]
        keys = 20
        popularity = { dist = "zipf", alpha = 1.0 }
        rate = 200.0
        [[layers]]
        name = "redis"
        kind = "redis"
        capacity = 100
        ttl_s = 0.05
        latency = { dist = "constant", ms = 0.2 }
        stampede = { mode = "coalesce" }
        [[layers]]
        name = "db"
        kind = "database"
        connections = 4
        latency = { dist = "lognormal", median_ms = 5, sigma = 0.8 }
        [application]
        timeout_ms = 10
        retries = { max = 2, backoff_ms = 1, multiplier = 2.0, jitter = 0.5 }
        "#);
    let o = &r.overload;
    // A query overruns 10 ms one time in five (ln 2 / 0.8 = 0.87σ above the median).
    assert!(o.timeouts > 100 && o.retries > 100, "{o:?}");
    assert!(r.layers[0].coalesced > 100, "{}", r.layers[0].coalesced);
    assert!(r.failed_requests > 0, "some leaders ran out of retries");
    assert_eq!(
        r.latency_ms.count + r.failed_requests,
        r.requests,
        "every request answered or failed, once: no waiter left behind"
    );
}

/// A database down from 5 s to 6 s, a breaker over a 1 s window (half its calls failed,
/// at least 20) open for 3 s: it opens once, during the outage; while open no call
/// reaches the database, though it is back from 6 s, and every request fails at once;
/// its probes then succeed and it closes: from there every request is answered.
#[test]
fn the_breaker_opens_under_an_outage_fails_fast_probes_and_closes() {
    let r = run(&db_only(
        200.0,
        15.0,
        r#"connections = 50
        latency = { dist = "constant", ms = 1 }"#,
        "breaker = { failure_ratio = 0.5, window_s = 1, min_calls = 20, open_s = 3, probes = 3 }",
        r#"[[faults]]
        layer = "db"
        start_s = 5
        duration_s = 1
        [metrics]
        bucket_s = 0.5"#,
    ));
    let o = &r.overload;
    assert_eq!(o.breaker_opened, 1, "{o:?}");
    assert!((o.breaker_open_s - 3.0).abs() < 1e-9, "{o:?}");
    // It opened within the outage: after at least min_calls failures, at the latest when
    // the window held only failures (1 s after the outage began).
    let opened = buckets(&r, 5.0, 6.5)
        .find(|b| b.origin_requests == 0 && b.failed > 0)
        .map(|b| b.t_s)
        .expect("a bucket of the outage");
    assert!((5.0..6.0).contains(&opened), "{opened}");
    for b in buckets(&r, 0.0, 5.0) {
        assert_eq!(b.failed, 0, "{b:?}");
        assert_eq!(b.origin_requests, b.requests, "{b:?}");
    }
    // From 6 s the database is up, but the breaker, open until at least 8 s, lets
    // nothing through: no query, every request refused.
    for b in buckets(&r, 6.0, 8.0) {
        assert_eq!(b.origin_requests, 0, "{b:?}");
        assert_eq!(b.failed, b.requests, "{b:?}");
    }
    // Open for 3 s from a moment before 6 s: half-open and closed by 9 s.
    for b in buckets(&r, 9.0, 15.0) {
        assert_eq!(b.failed, 0, "{b:?}");
        assert_eq!(b.origin_requests, b.requests, "{b:?}");
    }
    // No retries: each refusal is a failed request; the rest failed on the database
    // while it was down, at least min_calls of them before it opened, at most the
    // outage's requests.
    let down = r.failed_requests - o.rejected.breaker_open;
    let outage: u64 = buckets(&r, 5.0, 6.0).map(|b| b.requests).sum();
    assert!((20..=outage).contains(&down), "{down} of {outage}");
}

/// `scenarios/metastable_retry_storm.toml`, as written and with `sets`.
fn storm(sets: &[&str]) -> Report {
    let path = repo().join("scenarios/metastable_retry_storm.toml");
    let overrides: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
    let (_, plan) = load(&path, &overrides).unwrap();
    tiersim::simulate(&plan)
}

/// Per bucket of `[from_s, to_s)`: (requests, origin queries, failed, retries) summed.
fn totals(r: &Report, from_s: f64, to_s: f64) -> (u64, u64, u64, u64) {
    buckets(r, from_s, to_s).fold((0, 0, 0, 0), |(a, o, f, t), b| {
        (
            a + b.requests,
            o + b.origin_requests,
            f + b.failed,
            t + b.retries,
        )
    })
}

/// The metastable failure: a half-second spike to twice the database's capacity, with
/// timeouts and immediate retries, leaves it overloaded to the end of the run; with
/// backoff and jitter, or with a breaker, it recovers.
///
/// Thresholds, from the model: the database serves 1,000 queries/s and the clients
/// send 500/s. Stuck, every call times out, so each request costs 1 + 3 queries: origin
/// load ≈ 2,000/s, four times the requests, and nearly every request fails; the test asks
/// for more than three times and more than 90% failed over the last 15 s (7,500
/// requests: Poisson noise is about 1%). Recovered, no call times out once the spike's
/// retries are done, so from 25 s no call times out and nothing fails, exactly, and
/// origin queries are requests plus the last few late retries of the spike's calls.
#[test]
fn a_retry_storm_outlives_its_trigger_unless_backoff_or_a_breaker_stops_it() {
    let stuck = storm(&[]);
    let (req, origin, failed, _) = totals(&stuck, 2.0, 10.0);
    assert_eq!(origin, req, "before the spike every request is one query");
    assert_eq!(failed, 0);
    let (req, origin, failed, retries) = totals(&stuck, 25.0, 40.0);
    assert!(req > 7000, "{req}");
    assert!(origin > 3 * req, "origin {origin} for {req} requests");
    assert!(failed * 10 > 9 * req, "failed {failed} of {req}");
    assert!(retries > 2 * req, "{retries}");

    let backoff = storm(&[
        "application.retries.backoff_ms=2000",
        "application.retries.multiplier=2",
        "application.retries.jitter=1",
    ]);
    let breaker = storm(&[
        "application.breaker.window_s=1",
        "application.breaker.open_s=1",
    ]);
    for (name, r) in [("backoff", &backoff), ("breaker", &breaker)] {
        let (req, origin, failed, retries) = totals(r, 25.0, 40.0);
        let timeouts: u64 = buckets(r, 25.0, 40.0).map(|b| b.timeouts).sum();
        assert!(req > 7000, "{name}: {req}");
        assert_eq!(timeouts, 0, "{name}: no call overruns");
        assert_eq!(failed, 0, "{name}");
        // A late retry of the spike's calls may still come (the third waits up to
        // 2 × (2 + 4 + 8) s), and succeeds.
        assert_eq!(origin, req + retries, "{name}: one query per request again");
        assert!(retries * 100 < req, "{name}: {retries}");
    }
    assert!(breaker.overload.breaker_opened >= 1);
    assert_eq!(backoff.overload.breaker_opened, 0);
}

/// Lesson 20a (`scenarios/lessons/20a_retry_storm.toml`): from 15 s on, stuck, every
/// call times out, so each request makes exactly 1 + max = 4 queries and fails; with
/// backoff and jitter nothing times out or fails and a request is one query.
///
/// Tolerance: the ratios are taken over the requests and queries of the window's
/// buckets, and a request's 4 calls span 0.6 s (its failure comes 0.8 s after it
/// arrived), so the requests near the window's two edges count their queries on one
/// side or the other: at 250/s about 200 requests an edge, whose difference is Poisson
/// noise of about √400 = 20 requests × 4 queries, 0.5% of the window's 15,000 queries.
/// 2% is four times that.
#[test]
fn retry_storm_lesson_multiplies_the_load_by_one_plus_max() {
    let lesson = |sets: &[&str]| {
        let path = repo().join("scenarios/lessons/20a_retry_storm.toml");
        let overrides: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
        tiersim::simulate(&load(&path, &overrides).unwrap().1)
    };
    let stuck = lesson(&[]);
    let (req, origin, failed, _) = totals(&stuck, 15.0, 30.0);
    assert!(req > 3500, "{req}");
    let per_request = origin as f64 / req as f64;
    assert!((per_request / 4.0 - 1.0).abs() < 0.02, "{per_request}");
    let failed_share = failed as f64 / req as f64;
    assert!((failed_share - 1.0).abs() < 0.02, "{failed_share}");

    let backoff = lesson(&[
        "application.retries.backoff_ms=2000",
        "application.retries.jitter=1",
    ]);
    let (req, origin, failed, retries) = totals(&backoff, 15.0, 30.0);
    let timeouts: u64 = buckets(&backoff, 15.0, 30.0).map(|b| b.timeouts).sum();
    assert_eq!((failed, timeouts), (0, 0));
    assert_eq!(
        origin,
        req + retries,
        "a query per request, and the last late retries"
    );
    assert!(retries * 100 < req, "{retries}");
}

/// The memory estimate counts every call a request may make: the storm's origin
/// backlog (every call timing out, each leaving its query queued: about 31,000 at the
/// peak) is within the estimate's backlog part, which counting each request once would
/// put at the run's 20,750 requests.
#[test]
fn the_memory_estimate_counts_the_retries_queued_in_a_storm() {
    let path = repo().join("scenarios/metastable_retry_storm.toml");
    let (_, plan) = load(&path, &[]).unwrap();
    let estimate = tiersim::engine::budget::Estimate::of(&plan);
    let backlog = estimate
        .parts
        .iter()
        .find(|p| p.what.starts_with("origin backlog"))
        .expect("a backlog part");
    let queued: u64 = backlog
        .what
        .split_whitespace()
        .nth(4)
        .and_then(|n| n.parse().ok())
        .expect("up to N");
    let r = tiersim::simulate(&plan);
    assert!(r.origin.peak_queue > 20_000, "{}", r.origin.peak_queue);
    assert!(
        r.origin.peak_queue <= queued,
        "{} > {queued}",
        r.origin.peak_queue
    );
}

/// Erlang C and its kin assume each query once, waited for to its end: with an
/// `[application]` table the theory row of the database names that assumption.
#[test]
fn theory_says_the_queue_models_do_not_cover_timeouts_and_retries() {
    let text = |application: &str| {
        db_only(
            100.0,
            5.0,
            r#"connections = 2
            latency = { dist = "exponential", mean_ms = 5 }"#,
            application,
            "",
        )
    };
    let fails = |application: &str| {
        let plan = plan(&text(application));
        let report = tiersim::simulate(&plan);
        let rows = tiersim::theory::compare(&plan, &report);
        let db: Vec<_> = rows.iter().filter(|r| r.layer == "db").cloned().collect();
        assert!(!db.is_empty());
        db.into_iter().map(|r| r.fails).collect::<Vec<_>>()
    };
    // Without the table (an empty one is none) Erlang C applies.
    assert!(fails("").iter().all(Option::is_none));
    for why in fails("timeout_ms = 50") {
        let why = why.expect("no model");
        assert!(why.contains("[application]"), "{why}");
    }
}

/// Each bad `[application]` value is refused naming the file, the key and what is
/// allowed; exit 2, no panic.
#[test]
fn bad_application_keys_are_refused_with_the_file_the_key_and_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str, &str)] = &[
        ("timeout_ms = 0", "application.timeout_ms", "above 0"),
        ("timeout_ms = -5", "application.timeout_ms", "above 0"),
        (
            "retries = { max = 101 }",
            "application.retries.max",
            "between 0 and 100",
        ),
        (
            "retries = { multiplier = 0.5 }",
            "application.retries.multiplier",
            "between 1 and 100",
        ),
        (
            "retries = { jitter = 1.5 }",
            "application.retries.jitter",
            "between 0 and 1",
        ),
        (
            "retries = { jitter = -0.1 }",
            "application.retries.jitter",
            "between 0 and 1",
        ),
        (
            "retries = { backoff_ms = -1 }",
            "application.retries.backoff_ms",
            "from 0",
        ),
        (
            "breaker = { failure_ratio = 1.5 }",
            "application.breaker.failure_ratio",
            "above 0 and at most 1",
        ),
        (
            "breaker = { failure_ratio = 0 }",
            "application.breaker.failure_ratio",
            "above 0 and at most 1",
        ),
        (
            "breaker = { open_s = 0 }",
            "application.breaker.open_s",
            "above 0",
        ),
        (
            "breaker = { window_s = -1 }",
            "application.breaker.window_s",
            "above 0",
        ),
        (
            "breaker = { probes = 0 }",
            "application.breaker.probes",
            "at least 1",
        ),
        ("retry = 3", "application", "unknown field `retry`"),
    ];
    for (i, (line, key, rule)) in cases.iter().enumerate() {
        let file = format!("bad{i}.toml");
        fs::write(dir.path().join(&file), db_only(10.0, 1.0, "", line, "")).unwrap();
        for cmd in ["validate", "run"] {
            let out = tiersim(dir.path(), &[cmd, &file]);
            assert_bad_input(&out, &[&file, key, rule]);
        }
    }
    assert!(
        !dir.path().join("results").exists(),
        "a refused run writes nothing"
    );
}

/// The origin's refusals (a database rate limit's 429s) are failed calls the
/// application retries like any other. With a rate limit far below the arrivals and
/// immediate retries, every refused call is either retried or is a request's last
/// failure, so `rejected.total = retries + failed_requests` exactly (the database is up
/// and fast, so no call fails otherwise); and the breaker, counting 429s as failures,
/// opens.
#[test]
fn the_origin_refusals_are_retried_and_open_the_breaker() {
    let r = run(&db_only(
        2_000.0,
        4.0,
        r#"connections = 50
        latency = { dist = "constant", ms = 1 }
        rate_limit = { rps = 200, burst = 10 }"#,
        "retries = { max = 2, backoff_ms = 0, multiplier = 1.0, jitter = 0.0 }",
        "",
    ));
    let o = &r.overload;
    assert!(o.rejected.rate_limited > 1000, "{:?}", o.rejected);
    assert_eq!(o.rejected.total, o.rejected.rate_limited);
    assert_eq!(o.rejected.total, o.retries + r.failed_requests, "{o:?}");
    assert_eq!(o.timeouts, 0);
    // A retry the rate limit refused never reached the database: not a retry query.
    assert!(o.retry_queries < o.retries, "{o:?}");
    assert!(o.retry_queries + o.rejected.total >= o.retries, "{o:?}");
    let with_breaker = run(&db_only(
        2_000.0,
        4.0,
        r#"connections = 50
        latency = { dist = "constant", ms = 1 }
        rate_limit = { rps = 200, burst = 10 }"#,
        "breaker = { failure_ratio = 0.5, window_s = 1, min_calls = 20, open_s = 0.5, probes = 3 }",
        "",
    ));
    let b = &with_breaker.overload;
    assert!(b.breaker_opened > 0, "{b:?}");
    assert!(b.rejected.breaker_open > 0, "{b:?}");
    assert_eq!(
        b.rejected.total,
        b.rejected.rate_limited + b.rejected.breaker_open
    );
}

/// A run with failed reads prints the latency of every read beside that of the
/// answered ones: in the retry storm every failed read waited out 1 + `max` deadlines
/// (four of 200 ms), so every read's p99 is far above the answered reads' (which are
/// under one deadline).
#[test]
fn the_table_prints_every_reads_latency_when_reads_failed() {
    let dir = tempfile::tempdir().unwrap();
    let file = repo().join("scenarios/metastable_retry_storm.toml");
    let out = crate::support::tiersim_ok(
        dir.path(),
        &["run", file.to_str().unwrap(), "-q", "--out", "out"],
    );
    let text = crate::support::stdout(&out);
    let p99 = |prefix: &str| -> f64 {
        let line = text
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no `{prefix}` line in\n{text}"));
        let at = line.find("p99 ").unwrap() + 4;
        line[at..]
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let answered = p99("latency ms: ");
    let every = p99("latency ms, every read");
    assert!(answered < 200.0, "{answered}");
    assert!(every >= 4.0 * 200.0 * 0.99, "{every}");
}

/// Offered load is the arrivals' rate, whatever the backlog after them: with a deadline
/// far below the service time and 100 immediate retries, every request leaves 101
/// queries behind, which the database drains for a long time after the last arrival
/// (the span grows about a hundredfold), yet the offered load stays the scenario's
/// 2,000/s. 20,000 Poisson arrivals: the rate over their window is within 3 standard
/// errors (3/√20,000 ≈ 2.1%) of 2,000; 5% is asserted.
#[test]
fn a_backlog_after_the_last_arrival_does_not_dilute_the_offered_load() {
    let r = run(&db_only(
        2_000.0,
        10.0,
        r#"connections = 2
        latency = { dist = "constant", ms = 2 }"#,
        r#"timeout_ms = 0.001
        retries = { max = 100, backoff_ms = 0, multiplier = 1.0, jitter = 0.0 }"#,
        "",
    ));
    assert!(
        r.span_s > 50.0 * r.duration_s,
        "{} {}",
        r.span_s,
        r.duration_s
    );
    let v = &r.overload;
    assert!((v.offered_rps / 2_000.0 - 1.0).abs() < 0.05, "{v:?}");
    assert_eq!(v.goodput_rps, 0.0);
    assert_eq!(v.first_attempts + v.retries, 101 * r.requests);
}
