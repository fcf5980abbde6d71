//! The whole path: edge and shield against the two-tier TTL model, a shield in front of
//! many PoPs, and how load balancers, rings and browsers place copies.

use tiersim::theory::ttl::two_tier_hit;

use crate::support::{buckets, run};

/// One key at Poisson rate `lambda` through an edge (a one-PoP CDN) with TTL `t_e` and
/// a shield with TTL `t_s`, every latency zero: the shield's (hits, requests).
fn two_tier(lambda: f64, t_e: f64, t_s: f64, requests: u64) -> (u64, u64) {
    let r = run(&format!(
        r#"
        name = "two-tier"
        seed = 11
        requests = {requests}
        warmup_requests = 1000
        [workload]
        keys = 1
        rate = {lambda}
        [[layers]]
        name = "edge"
        kind = "cdn"
        capacity = 1
        ttl_s = {t_e}
        [[layers]]
        name = "shield"
        kind = "shield"
        capacity = 1
        ttl_s = {t_s}
        [[layers]]
        name = "db"
        kind = "database"
        "#
    ));
    (r.layers[1].hits, r.layers[1].requests)
}

/// The shield's hit ratio is `M(T_s) / (1 + M(T_s))`: each shield fill starts a renewal
/// of the edge's misses, and those within `T_s` of it hit.
///
/// 2M requests: the shield sees a fraction `1 / (1 + lambda T_e)` of them (182k at
/// lambda T_e = 10, 333k at 5), so the binomial standard error of its hit ratio is at
/// most `sqrt(0.17 * 0.83 / 182k) = 0.0009`, and 0.005 is more than five of them. (The
/// hits come in runs of one shield cycle each, but a cycle's hit count varies by less
/// than one, so the real error is no larger.)
#[test]
fn shield_hit_ratio_matches_the_two_tier_renewal_model() {
    for (lambda, t_e, t_s, figure) in [(1.0, 10.0, 60.0, 0.8325), (5.0, 1.0, 10.0, 0.8869)] {
        let model = two_tier_hit(lambda, t_e, t_s).expect("few renewals");
        assert!(
            (model - figure).abs() < 0.0001,
            "the renewal model gives {model:.4}, the issue {figure}"
        );
        let (hits, requests) = two_tier(lambda, t_e, t_s, 2_000_000);
        let simulated = hits as f64 / requests as f64;
        eprintln!(
            "lambda {lambda} T_e {t_e} T_s {t_s}: shield hit ratio {simulated:.4} over {requests} \
             shield requests, model {model:.4}"
        );
        assert!(
            (simulated - model).abs() < 0.005,
            "lambda {lambda}, T_e {t_e}, T_s {t_s}: simulated {simulated:.4}, model {model:.4}"
        );
    }
}

/// With `T_s <= T_e` an edge miss comes more than `T_e` after the previous one, by when
/// the shield's copy (filled then) has expired: the shield never hits.
#[test]
fn a_shield_ttl_within_the_edge_ttl_never_hits() {
    for (t_e, t_s) in [(10.0, 10.0), (10.0, 3.0)] {
        let (hits, requests) = two_tier(1.0, t_e, t_s, 200_000);
        assert!(requests > 15_000, "{requests}");
        assert_eq!(hits, 0, "T_e {t_e}, T_s {t_s}");
    }
}

/// One key at 200 requests/s from 2,000 clients over 20 PoPs (10/s each), CDN TTL T =
/// 10 s, all latencies zero, 2,000 s. Returns origin reads per T.
fn origin_fetches_per_ttl(shield: bool) -> f64 {
    let shield = if shield {
        "[[layers]]\nname = \"shield\"\nkind = \"shield\"\ncapacity = 10\nttl_s = 10"
    } else {
        ""
    };
    let r = run(&format!(
        r#"
        name = "pops"
        seed = 5
        duration_s = 2000
        [workload]
        keys = 1
        rate = 200.0
        clients = 2000
        [[layers]]
        name = "edge"
        kind = "cdn"
        pops = 20
        capacity = 10
        ttl_s = 10
        {shield}
        [[layers]]
        name = "db"
        kind = "database"
        "#
    ));
    assert_eq!(r.layers[0].nodes, 20);
    r.origin.reads as f64 / (2000.0 / 10.0)
}

/// Without a shield each PoP fetches once per `T + 1/lambda_pop` (its TTL, then the wait
/// for its next request, lambda_pop = 10/s): `20 T / (T + 0.1) = 19.80` per T, plus at
/// most one partial cycle per PoP over the 200 TTL periods of the run (+0.1); the count's
/// own standard deviation is under 0.01 per T. With a shield, the origin's fetches are
/// more than `T_s` apart (each shield copy lives `T_s`), so at most one per T_s plus one
/// for the end of the run (1.005). Had the PoP misses reaching the shield been Poisson
/// (two a second), the wait after each shield expiry would bring it to 10 / 10.5 = 0.95;
/// they are not: PoPs filled from one shield copy expire T after their fill, so their
/// misses line up just after the shield's copy expires, and the measured figure is
/// 0.995. The bound asserted, 0.9, is the Poisson one less a margin.
#[test]
fn a_shield_collapses_twenty_pops_misses_into_one_origin_fetch_per_ttl() {
    let without = origin_fetches_per_ttl(false);
    let with = origin_fetches_per_ttl(true);
    eprintln!("origin fetches per key per TTL: {without:.3} without a shield, {with:.3} with");
    let model = 20.0 * 10.0 / 10.1;
    assert!(
        without >= model - 0.02 && without <= model + 0.12,
        "without a shield: {without}, model {model}"
    );
    assert!(
        (0.9..=1.005).contains(&with),
        "with a shield: {with} origin fetches per shield TTL"
    );
}

fn l1_and_redis(instances: &str, balancer: &str, shards: &str) -> tiersim::output::report::Report {
    run(&format!(
        r#"
        name = "placement"
        seed = 3
        requests = 100000
        [workload]
        keys = 100
        popularity = {{ dist = "uniform" }}
        rate = 1000.0
        [[layers]]
        name = "l1"
        kind = "in_process"
        capacity = 1000
        instances = {instances}
        balancer = "{balancer}"
        [[layers]]
        name = "redis"
        kind = "redis"
        capacity = 1000
        shards = {shards}
        [[layers]]
        name = "db"
        kind = "database"
        "#
    ))
}

/// 100 keys, 100k requests, caches larger than the key space, no TTL: a cache misses
/// each key once on each node it reaches. `key_hash` puts a key on one instance (100
/// misses), `round_robin` and `random` on all four (400: each of the 100 keys is asked
/// about 1,000 times, so every instance sees it). The ring puts each key on one shard, so
/// Redis misses each key once whatever the shard count.
#[test]
fn balancers_and_the_ring_place_copies_as_designed() {
    for (balancer, want) in [("key_hash", 100), ("round_robin", 400), ("random", 400)] {
        let r = l1_and_redis("4", balancer, "3");
        assert_eq!(r.layers[0].misses, want, "{balancer}");
        assert_eq!(r.layers[1].misses, 100, "{balancer}: each key on one shard");
        assert_eq!(r.layers[0].nodes, 4);
        assert_eq!(r.layers[1].nodes, 3);
    }
}

/// 10 keys from 100 clients, a browser cache that holds them all: each browser misses
/// each key once, so 1,000 misses, and no client ever hits on another client's copy.
#[test]
fn browser_caches_are_private() {
    let r = run(r#"
        name = "browsers"
        seed = 9
        requests = 100000
        [workload]
        keys = 10
        popularity = { dist = "uniform" }
        rate = 1000.0
        clients = 100
        [[layers]]
        name = "browser"
        kind = "browser"
        capacity = 10
        [[layers]]
        name = "db"
        kind = "database"
        "#);
    assert_eq!(r.layers[0].misses, 1000);
    assert_eq!(r.layers[0].hits, 99_000);
}

/// Each PoP serves its region's clients with that region's round trip: with one PoP per
/// region and constant latencies, the CDN's answers take exactly the two round trips.
#[test]
fn regions_reach_their_pops_with_their_round_trip() {
    let r = run(r#"
        name = "regions"
        seed = 2
        requests = 50000
        [workload]
        keys = 5
        rate = 1000.0
        clients = 1000
        regions = [{ name = "near", share = 0.5 }, { name = "far", share = 0.5 }]
        [[layers]]
        name = "edge"
        kind = "cdn"
        capacity = 10
        rtt_ms = { near = 5, far = 40 }
        [[layers]]
        name = "db"
        kind = "database"
        "#);
    let edge = &r.layers[0];
    assert_eq!(edge.nodes, 2);
    // Each of 5 keys misses at each of 2 PoPs, and again while its first fetch is in
    // flight (the round trip is paid before the miss goes inward).
    assert!(edge.misses >= 10 && edge.misses < 100, "{}", edge.misses);
    assert_eq!(edge.misses, r.origin.reads);
    // Half the answers at 5 ms, half at 40 ms (HdrHistogram: 3 significant digits).
    assert!((edge.served_p50_ms - 5.0).abs() < 0.01 || (edge.served_p50_ms - 40.0).abs() < 0.05);
    assert!(
        (edge.served_p99_ms - 40.0).abs() < 0.05,
        "{}",
        edge.served_p99_ms
    );
}

/// A 20-PoP CDN in front of the database, down from 60 s to 120 s.
fn cdn_outage(fallback: bool) -> tiersim::output::report::Report {
    run(&format!(
        r#"
        name = "cdn-outage"
        seed = 14
        duration_s = 180
        [workload]
        keys = 1000
        popularity = {{ dist = "uniform" }}
        rate = 1000.0
        clients = 1000
        [[layers]]
        name = "cdn"
        kind = "cdn"
        pops = 20
        capacity = 1000
        ttl_s = 60
        latency = {{ dist = "constant", ms = 0 }}
        [[layers]]
        name = "db"
        kind = "database"
        connections = 100
        latency = {{ dist = "constant", ms = 1 }}
        [[faults]]
        layer = "cdn"
        start_s = 60
        duration_s = 60
        fallback = {fallback}
        "#
    ))
}

/// `(arrivals, origin requests)` in the 1 s buckets of `[from_s, to_s)`.
fn window(r: &tiersim::output::report::Report, from_s: f64, to_s: f64) -> (u64, u64) {
    buckets(r, from_s, to_s).fold((0, 0), |(a, o), b| (a + b.requests, o + b.origin_requests))
}

/// A whole CDN (every PoP) down for 60 s. The CDN is the first layer and answers in zero
/// time, so the requests that reach it in the window are exactly the arrivals in
/// [60 s, 120 s). With fallback they all go to the origin instead (its load in the
/// window equals the CDN's whole former load) and none fails; before the outage the
/// warm CDN had sent it under half (20 PoPs, each key at 0.05/s per PoP with a 60 s TTL:
/// a PoP hit ratio of about 3/4). Without fallback exactly those requests fail.
#[test]
fn a_cdn_outage_moves_its_load_to_the_origin_or_fails_it() {
    let skip = cdn_outage(true);
    let (arrivals, origin) = window(&skip, 60.0, 120.0);
    assert!(arrivals > 55_000, "{arrivals}");
    assert_eq!(skip.failed_requests, 0);
    assert_eq!(origin, arrivals, "the origin takes the CDN's whole load");
    let (before, origin_before) = window(&skip, 40.0, 60.0);
    assert!(
        (origin_before as f64) < 0.5 * before as f64,
        "{origin_before} of {before} before the outage"
    );

    let fail = cdn_outage(false);
    let (arrivals, origin) = window(&fail, 60.0, 120.0);
    assert_eq!(fail.failed_requests, arrivals);
    assert_eq!(fail.layers[0].failed, arrivals);
    assert_eq!(origin, 0, "nothing gets past a CDN that is down");
    assert!(fail.availability < 1.0 - 0.3);
}
