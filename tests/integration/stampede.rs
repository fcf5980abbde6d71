//! Stampede defences, herd events and synchronized expiry against their models.
//!
//! The hot-key scenario: one key read at Poisson rate λ through one cache with TTL T in
//! front of a database with a deterministic query time δ and enough connections never
//! to queue. Every test uses a fixed seed; every tolerance is derived in a comment.

use tiersim::output::report::{LayerReport, Report};

use crate::support::{plan, run};

/// λ = 1000/s, δ = 10 ms (λδ = 10), T = 100 ms, cache latency 0, and `stampede`.
fn hot_key(stampede: &str, requests: u64, warmup: u64, extra: &str) -> String {
    format!(
        r#"
        name = "hot-key"
        seed = 3
        requests = {requests}
        warmup_requests = {warmup}
        [workload]
        keys = 1
        rate = 1000.0
        [[layers]]
        name = "cache"
        kind = "redis"
        capacity = 10
        ttl_s = 0.1
        stampede = {stampede}
        {extra}
        [[layers]]
        name = "db"
        kind = "database"
        connections = 1000
        latency = {{ dist = "constant", ms = 10 }}
        "#
    )
}

fn cache(r: &Report) -> &LayerReport {
    &r.layers[0]
}

fn within(what: &str, got: f64, want: f64, rel: f64) {
    assert!(
        (got - want).abs() <= rel * want,
        "{what}: {got} vs {want} (tolerance {}%)",
        rel * 100.0
    );
}

/// Every read at the layer ends as exactly one outcome.
fn outcomes_add_up(l: &LayerReport) {
    assert_eq!(
        l.hits + l.misses + l.coalesced + l.stale_served,
        l.requests,
        "{l:?}"
    );
}

/// Coalescing: each expiry costs exactly one origin call; the reads that arrive during
/// its δ wait for it. Poisson arrivals: λδ = 10 waiters per expiry on average, each
/// arriving uniformly within the fetch, so waiting δ/2 = 5 ms on average.
///
/// 1,000 s give ~9,000 expiries (cycle T + δ). Waiters per expiry are Poisson(10): the
/// mean's standard error is sqrt(10 / 9000) = 0.033, 0.3% of 10. Waits are uniform on
/// [0, δ] (sd 2.9 ms) over ~90,000 waiters: standard error 0.01 ms, 0.2% of 5 ms. The 5%
/// budget is over 15 standard errors for both; the run is exact up to sampling.
#[test]
fn coalesce_makes_one_origin_call_per_expiry_and_waiters_wait_half_delta() {
    let r = run(&hot_key(r#"{ mode = "coalesce" }"#, 1_000_000, 0, ""));
    let (c, o) = (cache(&r), &r.origin);
    outcomes_add_up(c);
    assert_eq!(o.reads, c.misses, "every origin read is a leader's miss");
    assert_eq!(
        c.misses,
        c.expirations + 1,
        "one fetch per expiry, plus the cold miss"
    );
    assert_eq!(o.herd_requests, 0);
    assert_eq!(o.peak_key_concurrency, 1);
    within(
        "waiters per expiry",
        c.coalesced as f64 / c.misses as f64,
        10.0,
        0.05,
    );
    within("mean wait ms", c.coalesced_wait_ms, 5.0, 0.05);
    assert_eq!(
        r.latency_ms.count, r.reads,
        "waiters' latencies are recorded"
    );
}

/// Without a defence, herd events (k or more concurrent origin reads of the key) follow
/// the herd's law: an expiry brings 1 + N reads, N ~ Poisson(λδ = 10), so with k = 10
/// a fraction P(N >= 9) = 0.6672 of expiries is a herd event, and with k = 2 a fraction
/// P(N >= 1) = 1 - e^-10. Over ~9,000 expiries the binomial standard error of the first
/// fraction is sqrt(0.667 * 0.333 / 9000) = 0.005; 0.025 is five of them.
#[test]
fn herd_events_count_expiries_with_k_or_more_concurrent_origin_reads() {
    let r = run(&hot_key(r#"{ mode = "none" }"#, 1_000_000, 0, ""));
    let expiries = (r.origin.reads - r.origin.herd_requests) as f64;
    let share = r.origin.herd_events as f64 / expiries;
    assert!((share - 0.6672).abs() < 0.025, "{share}");
    let r2 = run(&format!(
        "{}\n[metrics]\nherd_threshold = 2\n",
        hot_key(r#"{ mode = "none" }"#, 1_000_000, 0, "")
    ));
    let share2 = r2.origin.herd_events as f64 / expiries;
    assert!(share2 > 0.999 && share2 <= 1.0, "{share2}");
}

/// `lock` with polls every 1 ms: one origin call per expiry (the holder), and the
/// others are answered at their first poll after the fill: λδ = 10 of them per expiry
/// (Poisson, standard error 0.3% over ~9,000 expiries as above; 5% budget).
/// A timeout shorter than δ sends the waiters inward instead.
#[test]
fn lock_holds_the_origin_to_one_call_per_expiry_and_times_out() {
    let r = run(&hot_key(
        r#"{ mode = "lock", poll_ms = 1, wait_timeout_ms = 100 }"#,
        1_000_000,
        0,
        "",
    ));
    let (c, o) = (cache(&r), &r.origin);
    outcomes_add_up(c);
    assert_eq!(o.reads, c.misses);
    assert_eq!(c.misses, c.expirations + 1);
    assert_eq!(c.lock_timeouts, 0);
    within(
        "waiters per expiry",
        c.coalesced as f64 / c.misses as f64,
        10.0,
        0.05,
    );
    // A waiter is answered at its first poll at or after the fill: wait in [δ/2, δ/2 + 1 ms].
    assert!(
        c.coalesced_wait_ms >= 5.0 * 0.95 && c.coalesced_wait_ms <= 6.0 * 1.05,
        "{}",
        c.coalesced_wait_ms
    );

    let t = run(&hot_key(
        r#"{ mode = "lock", poll_ms = 1, wait_timeout_ms = 2 }"#,
        200_000,
        0,
        "",
    ));
    let c = cache(&t);
    outcomes_add_up(c);
    assert!(c.lock_timeouts > 0 && t.origin.herd_requests > 0, "{c:?}");
}

/// `xfetch` without a lock (Vattani et al. 2015): a read at time-to-expiry τ starts a
/// recomputation with probability e^(-τ/(βδ)). With Poisson reads the triggers form a
/// Poisson process of intensity λ e^(-τ/(βδ)); its integrated intensity down to τ is
/// Λ(τ) = λβδ e^(-τ/(βδ)). The first trigger is at Λ(τ0) ~ Exp(1) (TTL ≫ βδ makes the
/// start effectively at Λ = 0), and until its fill δ later, further triggers are
/// Poisson with mean Λ(τ0)(e^(1/β) - 1). So recomputations per cycle average
/// 1 + (e^(1/β) - 1) = e^(1/β): 2.718 for β = 1, 1.649 for β = 2.
///
/// Here λ = 10,000/s, δ = 10 ms, T = 250 ms: Λ(T) = λβδ e^(-T/(βδ)) is below 1e-3
/// (β = 2), and the fill comes before expiry unless Λ(τ0) > λβδ e^(-1/β), beyond 36
/// (β = 1): never. Per cycle the count has variance (e-1) + (e-1)² = 4.7 for β = 1
/// (sd 2.2) and 1.1 for β = 2; ~5,000 cycles in 1,200 s give standard errors of 1.1%
/// and 0.9% of the means, so 5% is over four of them.
#[test]
fn xfetch_starts_e_to_the_one_over_beta_recomputations_per_cycle() {
    for (beta, want) in [(1.0, 1f64.exp()), (2.0, 0.5f64.exp())] {
        let toml = hot_key(
            &format!(r#"{{ mode = "xfetch", beta = {beta} }}"#),
            12_000_000,
            10_000,
            "",
        )
        .replace("rate = 1000.0", "rate = 10000.0")
        .replace("ttl_s = 0.1", "ttl_s = 0.25");
        let r = run(&toml);
        let c = cache(&r);
        outcomes_add_up(c);
        assert!(c.refresh_cycles > 4_000, "{c:?}");
        assert_eq!(c.misses, 0, "every cycle refreshes before expiry");
        let per_cycle = c.refreshes as f64 / c.refresh_cycles as f64;
        within(
            &format!("recomputations per cycle, beta {beta}"),
            per_cycle,
            want,
            0.05,
        );
        assert_eq!(r.origin.refreshes, c.refreshes);
    }
}

/// `stale_while_revalidate` with a window far longer than the gaps between reads:
/// after the cold start, every expiry is met by a stale read that starts the one
/// revalidation of the cycle, so the origin sees at most one fetch per TTL cycle and no
/// read ever waits for it (every latency is the cache's own 0.5 ms). Exact, no sampling.
#[test]
fn stale_while_revalidate_never_makes_a_read_wait_on_the_origin() {
    let toml = hot_key(
        r#"{ mode = "stale_while_revalidate", window_s = 1 }"#,
        200_000,
        1_000,
        "",
    )
    .replace(
        "capacity = 10",
        "capacity = 10\n        latency = { dist = \"constant\", ms = 0.5 }",
    );
    let r = run(&toml);
    let c = cache(&r);
    outcomes_add_up(c);
    assert_eq!(c.misses, 0);
    assert!(c.stale_served > 0);
    assert_eq!(r.origin.refreshes, c.refresh_cycles);
    assert_eq!(
        c.refreshes, c.refresh_cycles,
        "one revalidation per key at a time"
    );
    // Each cycle lasts at least T + δ (a fill, T fresh, then a stale read and δ of
    // revalidation), so cycles <= duration / (T + δ) + 1.
    let max_cycles = (r.duration_s / 0.11).ceil() as u64 + 1;
    assert!(
        r.origin.refreshes <= max_cycles,
        "{} > {max_cycles}",
        r.origin.refreshes
    );
    // Histograms keep three significant digits; a read that waited on the origin
    // would take at least δ = 10 ms.
    assert!(r.latency_ms.max < 0.501, "{}", r.latency_ms.max);
}

/// `refresh_ahead` with a 20 ms window (twice δ): the first read within 20 ms of expiry
/// refreshes, and with λ = 1000/s the chance that no read comes in the first 10 ms of
/// the window (so that the refresh lands after expiry) is e^-10 per cycle: over ~900
/// cycles, under 0.05% in all. So there are no misses after the cold start, and one
/// refresh per cycle.
#[test]
fn refresh_ahead_refreshes_once_per_cycle_before_expiry() {
    let r = run(&hot_key(
        r#"{ mode = "refresh_ahead", window_s = 0.02 }"#,
        100_000,
        1_000,
        "",
    ));
    let c = cache(&r);
    outcomes_add_up(c);
    assert_eq!(c.misses, 0);
    assert_eq!(c.refreshes, c.refresh_cycles);
    assert_eq!(r.origin.refreshes, c.refreshes);
    // A cycle lasts T - 20 ms + (time to the first read in the window) + δ ~ 91 ms.
    let cycles = c.refresh_cycles as f64;
    let expected = r.duration_s / (0.1 - 0.02 + 0.001 + 0.01);
    within("refresh cycles", cycles, expected, 0.05);
}

/// Synchronized expiry: 10,000 keys filled at t = 0 with T = 10 s all expire at 10 s;
/// read uniformly at 50,000/s (5 reads/s per key), each key's next read after expiry
/// misses, so the origin gets 10,000 (1 - e^(-5 t)) misses in the t seconds after 10 s:
/// 3,935 in the first 100 ms bucket, 39,350/s. With ±20% jitter, expiries spread
/// uniformly over [8 s, 12 s], 2,500/s, and each brings one miss: the peak bucket holds
/// ~250 ± a few sqrt(250) = 16, so ~2,900/s at most, under 8% of the synchronized peak;
/// the required fifth leaves a wide margin.
#[test]
fn jitter_spreads_a_synchronized_expiry() {
    let scenario = |jitter: f64| {
        format!(
            r#"
            name = "sync"
            seed = 5
            duration_s = 15
            [workload]
            keys = 10000
            popularity = {{ dist = "uniform" }}
            rate = 50000.0
            [[layers]]
            name = "cache"
            kind = "redis"
            capacity = 10000
            ttl_s = 10
            jitter = {jitter}
            sync_expiry = {{ keys = 10000, at_s = 0 }}
            [[layers]]
            name = "db"
            kind = "database"
            connections = 1000
            latency = {{ dist = "constant", ms = 1 }}
            [metrics]
            bucket_s = 0.1
            "#
        )
    };
    let sync = run(&scenario(0.0));
    let spread = run(&scenario(0.2));
    // Before expiry, the batch fill means no misses at all.
    let early: u64 = sync
        .timeseries
        .iter()
        .filter(|b| b.t_s < 9.9)
        .map(|b| b.origin_requests)
        .sum();
    assert_eq!(early, 0);
    within("synchronized peak", sync.origin.peak_rps, 39_350.0, 0.05);
    assert!(
        spread.origin.peak_rps * 5.0 <= sync.origin.peak_rps,
        "{} vs {}",
        spread.origin.peak_rps,
        sync.origin.peak_rps
    );
}

#[test]
fn stampede_keys_are_validated_by_name() {
    let bad = |stampede: &str| {
        let toml = hot_key(stampede, 100, 0, "");
        tiersim::scenario::Source::new("t", toml, tiersim::scenario::Format::Toml)
            .plan(&[])
            .unwrap_err()
            .to_string()
    };
    let e = bad(r#"{ mode = "sometimes" }"#);
    assert!(e.contains("stampede") && e.contains("sometimes"), "{e}");
    let e = bad(r#"{ mode = "stale_while_revalidate", window_s = 0 }"#);
    assert!(
        e.contains("layers.cache.stampede.window_s") || e.contains("stampede.window_s"),
        "{e}"
    );
    let e = bad(r#"{ mode = "coalesce", beta = 2 }"#);
    assert!(e.contains("beta"), "{e}");
    let e = bad(r#"{ mode = "none" }
        sync_expiry = { keys = 11 }"#);
    assert!(e.contains("sync_expiry.keys"), "{e}");
    // `none` plans and runs exactly as no table at all.
    let a = plan(&hot_key(r#"{ mode = "none" }"#, 20_000, 0, ""));
    let b = plan(
        &hot_key(r#"{ mode = "none" }"#, 20_000, 0, "")
            .replace("stampede = { mode = \"none\" }", ""),
    );
    assert_eq!(tiersim::simulate(&a), tiersim::simulate(&b));
}

/// Ten keys read and written uniformly (20% writes, 40 writes/s per key) through one
/// cache with a long TTL, in front of a database with query time `db_ms`.
fn writes(strategy: &str, db_ms: f64, extra: &str) -> String {
    format!(
        r#"
        name = "writes"
        seed = 9
        requests = 200000
        warmup_requests = 10000
        [workload]
        keys = 10
        popularity = {{ dist = "uniform" }}
        rate = 2000.0
        write_ratio = 0.2
        write_strategy = "{strategy}"
        [[layers]]
        name = "cache"
        kind = "redis"
        capacity = 100
        ttl_s = 10
        {extra}
        [[layers]]
        name = "db"
        kind = "database"
        connections = 1000
        latency = {{ dist = "constant", ms = {db_ms} }}
        "#
    )
}

/// The cache-aside race. A write W to k arrives at a and commits at a + δ, deleting k
/// from the cache. A read R of k misses at r in (a, a + δ) (k was deleted by an earlier
/// write or never filled), its query reads the committed version at r, which is still
/// the old one, and it fills that old version at r + δ, after W's delete: every later
/// hit is stale until the next write or the TTL. The race needs a commit inside a
/// read's query, so with δ = 0 it cannot happen (no stale read at all), and with δ =
/// 5 ms (0.2 writes per key per δ) it does, while `write_through`, whose read fills
/// never replace the newer version the write stored, has none with the same arrivals.
#[test]
fn cache_aside_races_a_read_fill_and_write_through_does_not() {
    let instant = run(&writes("cache_aside", 0.0, ""));
    assert_eq!(instant.stale_reads, 0, "no query spans a commit");
    let aside = run(&writes("cache_aside", 5.0, ""));
    assert!(aside.stale_reads > 100, "{}", aside.stale_reads);
    assert_eq!(aside.stale_read_age_ms.count, aside.stale_reads);
    assert!(aside.stale_read_age_ms.p50 > 0.0);
    let through = run(&writes("write_through", 5.0, "").replace(
        "write_strategy = \"write_through\"",
        "write_strategy = \"write_through\"\ninvalidation = \"delete_on_write\"",
    ));
    assert_eq!(through.stale_reads, 0);
    assert_eq!(through.reads, aside.reads, "the same arrivals");
}

/// `write_around` with `ttl_only` leaves outdated copies until they expire (here 10 s,
/// against 25 ms between writes of a key), so most of its hits after a key's first write
/// are stale, several times `cache_aside`'s race alone; a propagation delay on the delete widens
/// the window in which a copy is outdated.
#[test]
fn write_around_and_slow_purges_read_staler() {
    let aside = run(&writes("cache_aside", 5.0, ""));
    let around = run(&writes("write_around", 5.0, ""));
    assert!(
        around.stale_reads > 5 * aside.stale_reads,
        "{} vs {}",
        around.stale_reads,
        aside.stale_reads
    );
    let slow = run(&writes("cache_aside", 5.0, "propagation_delay_ms = 50"));
    assert!(
        slow.stale_reads > 2 * aside.stale_reads,
        "{} vs {}",
        slow.stale_reads,
        aside.stale_reads
    );
}

/// The shipped hot-key scenario (`scenarios/hot_key_stampede.toml`: λ = 1,000/s, T =
/// 100 ms, δ = 10 ms, Redis answering in 0.3 ms) with `stale_while_revalidate`: after
/// the warm-up every expiry is met by a stale read, so the origin sees one fetch per
/// TTL cycle of at least T + δ, at most duration / (T + δ) + 1 in all; no read waits on
/// the origin, so the slowest read takes Redis's 0.3 ms (histograms keep three
/// significant digits). Exact, no sampling.
#[test]
fn stale_while_revalidate_on_the_shipped_hot_key_scenario() {
    let set: Vec<tiersim::scenario::Override> = [
        "layers.redis.stampede.mode=stale_while_revalidate",
        "layers.redis.stampede.window_s=1",
    ]
    .iter()
    .map(|s| tiersim::scenario::Override::parse(s).unwrap())
    .collect();
    let path = crate::support::repo().join("scenarios/hot_key_stampede.toml");
    let (_, plan) = tiersim::scenario::load(&path, &set).unwrap();
    let r = tiersim::simulate(&plan);
    let c = cache(&r);
    outcomes_add_up(c);
    assert_eq!(c.misses, 0);
    assert_eq!(r.origin.refreshes, c.refresh_cycles);
    assert_eq!(
        c.refreshes, c.refresh_cycles,
        "one revalidation per key at a time"
    );
    let max_cycles = (r.duration_s / 0.11).ceil() as u64 + 1;
    assert!(
        r.origin.refreshes <= max_cycles,
        "{} > {max_cycles}",
        r.origin.refreshes
    );
    assert_eq!(r.origin.peak_key_concurrency, 1);
    assert!(r.latency_ms.max < 0.301, "{}", r.latency_ms.max);
}
