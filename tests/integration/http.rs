//! HTTP semantics of content classes: who may store private responses and what a
//! misconfigured shared cache leaks, `no_cache` revalidation and 304s, `immutable` under
//! reloads, the Age a copy carries along the path, and caches sized in bytes.

use tiersim::output::report::Report;
use tiersim::scenario::{Format, Source};

use crate::support::run;

/// `clients` clients ask for 20 private keys, 1 KB each, through `path` (TOML of the
/// cache layers) and a database.
fn private_content(clients: u32, path: &str) -> Report {
    run(&format!(
        r#"
        name = "private"
        seed = 21
        requests = 50000
        [workload]
        keys = 20
        popularity = {{ dist = "uniform" }}
        rate = 100.0
        clients = {clients}
        [[workload.classes]]
        name = "account"
        key_share = 1.0
        request_share = 1.0
        size = {{ dist = "constant", bytes = 1000 }}
        max_age_s = 60
        private = true
        {path}
        [[layers]]
        name = "db"
        kind = "database"
        "#
    ))
}

const SHARED: &str = r#"
    [[layers]]
    name = "cdn"
    kind = "cdn"
    capacity = 100
    [[layers]]
    name = "shield"
    kind = "shield"
    capacity = 100
"#;

#[test]
fn shared_layers_never_store_private_responses() {
    let r = private_content(100, SHARED);
    for l in &r.layers[..2] {
        // Capacity holds every key, so one stored copy would be hit within a minute.
        assert_eq!((l.hits, l.leaks), (0, 0), "{}", l.name);
        assert_eq!(l.misses, l.requests, "{}", l.name);
    }
    assert_eq!(r.origin.reads, r.reads);
    assert_eq!(r.leaks, 0);
}

/// With a browser in front whose copies live exactly as long as the CDN's (both take
/// max-age from the same response, born at the same moment), a client never asks the
/// CDN for a key while its own browser holds the copy it fetched: so every CDN hit on
/// a private copy serves it to a client other than its owner, and leaks must equal CDN
/// hits exactly.
#[test]
fn ignore_private_leaks_exactly_the_cross_client_serves() {
    let path = r#"
        [[layers]]
        name = "browser"
        kind = "browser"
        capacity = 100
        [[layers]]
        name = "cdn"
        kind = "cdn"
        capacity = 100
        ignore_private = true
    "#;
    let r = private_content(100, path);
    let cdn = &r.layers[1];
    assert!(cdn.hits > 10_000, "{}", cdn.hits);
    assert_eq!(cdn.leaks, cdn.hits);
    assert_eq!(r.leaks, cdn.hits);
    assert_eq!(r.layers[0].leaks, 0, "a browser is private: it never leaks");
}

/// One client: every CDN hit serves the copy back to the client it was fetched for.
#[test]
fn a_private_copy_served_back_to_its_owner_is_no_leak() {
    let path = r#"
        [[layers]]
        name = "cdn"
        kind = "cdn"
        capacity = 100
        ignore_private = true
    "#;
    let r = private_content(1, path);
    assert!(r.layers[0].hits > 40_000, "{}", r.layers[0].hits);
    assert_eq!(r.leaks, 0);
}

/// `no_cache` objects that never change, 1,000 bytes each, requested by 10 clients
/// through their browsers and one CDN PoP. Every repeat request revalidates and gets a
/// 304 (no cached copy may answer without the origin, the CDN's included), and the
/// origin sends each key's body once: on its very first fetch. A browser's first fetch
/// of a key that the CDN holds revalidates the CDN's copy, which then sends the body.
#[test]
fn no_cache_revalidates_every_repeat_and_the_origin_sends_no_body_for_304s() {
    let r = run(r#"
        name = "no-cache"
        seed = 22
        requests = 20000
        [workload]
        keys = 20
        popularity = { dist = "uniform" }
        rate = 100.0
        clients = 10
        [[workload.classes]]
        name = "feed"
        key_share = 1.0
        request_share = 1.0
        size = { dist = "constant", bytes = 1000 }
        no_cache = true
        [[layers]]
        name = "browser"
        kind = "browser"
        capacity = 100
        [[layers]]
        name = "cdn"
        kind = "cdn"
        capacity = 100
        [[layers]]
        name = "db"
        kind = "database"
    "#);
    let (browser, cdn) = (&r.layers[0], &r.layers[1]);
    let first_fetches = browser.misses - browser.revalidations;
    assert!(first_fetches <= 10 * 20, "{first_fetches}");
    assert_eq!(browser.hits, 0);
    assert_eq!(browser.revalidations, browser.requests - first_fetches);
    assert_eq!(
        cdn.hits, 0,
        "a no-cache copy answers nothing without the origin"
    );
    assert_eq!(r.origin.reads, browser.requests);
    assert_eq!(r.origin.not_modified, r.origin.reads - 20);
    assert_eq!(r.not_modified, r.origin.not_modified);
    assert_eq!(r.origin_egress_bytes, 20 * 1000);
    assert_eq!(r.bytes_saved_304, 1000 * r.origin.not_modified);
    // The CDN sends a body only for the browsers' first fetches; the browser hands the
    // client the body of every read.
    assert_eq!(cdn.bytes_sent, 1000 * first_fetches);
    assert_eq!(browser.bytes_sent, 1000 * browser.requests);
}

/// Reads of 50 keys by 5 clients through their browsers, 30% of them reloads.
fn reloads(immutable: bool) -> Report {
    run(&format!(
        r#"
        name = "reload"
        seed = 23
        requests = 30000
        [workload]
        keys = 50
        rate = 100.0
        clients = 5
        reload_ratio = 0.3
        [[workload.classes]]
        name = "asset"
        key_share = 1.0
        request_share = 1.0
        max_age_s = 1000000
        immutable = {immutable}
        [[layers]]
        name = "browser"
        kind = "browser"
        capacity = 100
        [[layers]]
        name = "db"
        kind = "database"
        "#
    ))
}

/// A reload revalidates a fresh browser copy unless the class is immutable. Each read
/// is a reload with probability 0.3, independently of everything else, so among reads
/// that find a fresh copy the revalidated share is binomial: with about 29,000 of them
/// its standard error is sqrt(0.21 / 29,000) = 0.0027, and 0.015 is over five of them.
#[test]
fn immutable_copies_are_not_revalidated_on_reload() {
    let fixed = reloads(true);
    assert_eq!(fixed.layers[0].revalidations, 0);
    assert!(fixed.layers[0].hits > 29_000, "{}", fixed.layers[0].hits);
    let mutable = reloads(false);
    let b = &mutable.layers[0];
    let found = b.hits + b.revalidations;
    let share = b.revalidations as f64 / found as f64;
    assert!((share - 0.3).abs() < 0.015, "{share}");
    // Nothing changes at the origin: every revalidation is a 304.
    assert_eq!(mutable.origin.not_modified, b.revalidations);
}

/// 10 clients (1 request/s each, 10/s in all) read one key through their browsers and a
/// shield, which take their freshness from the same header (`max-age` for the browser,
/// `s-maxage` for the shield, both T = 2 s), all latencies zero.
fn age_along_the_path(browser_ttl: &str) -> Report {
    run(&format!(
        r#"
        name = "age"
        seed = 24
        duration_s = 20000
        [workload]
        keys = 1
        rate = 10.0
        clients = 10
        [[workload.classes]]
        name = "page"
        key_share = 1.0
        request_share = 1.0
        max_age_s = 2
        s_maxage_s = 2
        [[layers]]
        name = "browser"
        kind = "browser"
        capacity = 10
        {browser_ttl}
        [[layers]]
        name = "shield"
        kind = "shield"
        capacity = 10
        [[layers]]
        name = "db"
        kind = "database"
        "#
    ))
}

/// A copy's age travels with it: a browser filled from the shield's copy gets only the
/// freshness that copy has left, so every copy of one origin response expires at the
/// same instant, born + T. The origin's fetches then start cycles of T plus the wait
/// for the next request, and within a cycle each of the other K - 1 clients reaches the
/// shield once if it asks at all in those T seconds: shield hits per origin fetch are
/// `(K - 1)(1 - exp(-lambda_c T))` = 9 (1 - e^-2) = 7.782, clients' arrivals being
/// independent Poisson streams (uniform client draws thin the Poisson arrivals).
///
/// About 9,500 cycles; hits per cycle are a sum of 9 Bernoulli(0.865) with variance
/// 1.05, so the mean's standard error is 0.011 and 0.06 is over five of them.
///
/// Counting the browser's freshness from its own fill instead (a browser `ttl_s`, which
/// overrides the header) lets browser copies outlive the shield's, so fewer clients
/// need the shield each cycle: the figure must fall well below the model.
#[test]
fn a_copy_arrives_with_its_age_and_expires_with_its_origin_response() {
    let model = 9.0 * (1.0 - (-2.0f64).exp());
    let r = age_along_the_path("");
    let per_fetch = r.layers[1].hits as f64 / r.origin.reads as f64;
    eprintln!("shield hits per origin fetch {per_fetch:.3}, model {model:.3}");
    assert!((per_fetch - model).abs() < 0.06, "{per_fetch} vs {model}");
    let own_clock = age_along_the_path("ttl_s = 2");
    let per_fetch = own_clock.layers[1].hits as f64 / own_clock.origin.reads as f64;
    eprintln!("with the browser's own clock: {per_fetch:.3}");
    assert!(per_fetch < model - 0.5, "{per_fetch}");
}

/// An LRU cache of `capacity_bytes = C * S` over objects of constant size S behaves as
/// one of `capacity = C`: hit for hit.
#[test]
fn a_byte_budget_of_equal_objects_matches_an_entry_count() {
    let scenario = |capacity: &str| {
        run(&format!(
            r#"
            name = "bytes"
            seed = 25
            requests = 100000
            [workload]
            keys = 10000
            rate = 1000.0
            [[workload.classes]]
            name = "blob"
            key_share = 1.0
            request_share = 1.0
            size = {{ dist = "constant", bytes = 4096 }}
            [[layers]]
            name = "redis"
            kind = "redis"
            {capacity}
            [[layers]]
            name = "db"
            kind = "database"
            "#
        ))
    };
    let entries = scenario("capacity = 500");
    let bytes = scenario("capacity_bytes = 2048000");
    let (e, b) = (&entries.layers[0], &bytes.layers[0]);
    assert_eq!((e.hits, e.evictions), (b.hits, b.evictions));
    assert!(e.hits > 10_000);
    assert_eq!(b.capacity_bytes, Some(2_048_000));
    assert_eq!(b.capacity, None);
    assert_eq!(b.request_bytes, 4096 * b.requests);
    assert_eq!(b.byte_hit_ratio, b.hit_ratio);
}

/// Two classes, small objects asked for four times as often as large ones, through a
/// CDN sized in bytes: requested bytes weigh each read by its object's size, and since
/// the hits favour the popular small objects the byte hit ratio falls below the hit
/// ratio; with no 304s every layer sends a body for every read it gets.
#[test]
fn byte_hit_ratio_weighs_hits_by_size() {
    let r = run(r#"
        name = "sizes"
        seed = 26
        requests = 200000
        [workload]
        keys = 10000
        popularity = { dist = "zipf", alpha = 0.8 }
        rate = 1000.0
        [[workload.classes]]
        name = "small"
        key_share = 0.5
        request_share = 0.8
        size = { dist = "constant", bytes = 1000 }
        [[workload.classes]]
        name = "large"
        key_share = 0.5
        request_share = 0.2
        size = { dist = "constant", bytes = 100000 }
        [[layers]]
        name = "cdn"
        kind = "cdn"
        capacity_bytes = 20000000
        [[layers]]
        name = "db"
        kind = "database"
    "#);
    let cdn = &r.layers[0];
    // Requests: 80% small (1 kB), 20% large (100 kB).
    let expected = 0.8 * 1000.0 + 0.2 * 100_000.0;
    let mean = cdn.request_bytes as f64 / cdn.requests as f64;
    // The large share is binomial over 200k reads: standard error 0.0009 of 0.2, so the
    // mean size is within 100 kB * 0.0045 = 450 bytes at five of them.
    assert!((mean - expected).abs() < 450.0, "{mean}");
    assert!(
        cdn.byte_hit_ratio.unwrap() < cdn.hit_ratio.unwrap() - 0.05,
        "{cdn:?}"
    );
    // No 304s: the origin sends a body for every read it answers, the CDN for every
    // read it gets.
    assert_eq!(r.origin_egress_bytes, r.layers[1].request_bytes);
    assert_eq!(cdn.bytes_sent, cdn.request_bytes);
    assert_eq!(r.cdn_egress_bytes, cdn.bytes_sent);
}

fn error(toml: &str) -> String {
    match Source::new("bad.toml", toml, Format::Toml).plan(&[]) {
        Ok(_) => panic!("accepted:\n{toml}"),
        Err(e) => e.to_string(),
    }
}

const DB: &str = "[[layers]]\nname = \"db\"\nkind = \"database\"\n";

#[test]
fn bad_classes_and_byte_capacities_are_named_with_what_is_allowed() {
    let workload = |classes: &str| {
        format!("name = \"x\"\nrequests = 10\n[workload]\nkeys = 100\nrate = 1.0\n{classes}\n{DB}")
    };
    let class = |name: &str, keys: f64, reqs: f64, extra: &str| {
        format!(
            "[[workload.classes]]\nname = \"{name}\"\nkey_share = {keys}\nrequest_share = {reqs}\n{extra}\n"
        )
    };
    let e = error(&workload(
        &(class("a", 0.5, 0.5, "") + &class("b", 0.4, 0.5, "")),
    ));
    assert!(
        e.contains("workload.classes") && e.contains("sum to 1"),
        "{e}"
    );
    let e = error(&workload(&class("a", 1.0, 1.0, "immutable = true")));
    assert!(
        e.contains("workload.classes.a.immutable") && e.contains("max_age_s"),
        "{e}"
    );
    let e = error(&workload(&class("a", 1.0, 1.0, "max_age_s = -1")));
    assert!(e.contains("max_age_s") && e.contains(">= 0"), "{e}");
    let e = error(&workload(&class(
        "a",
        1.0,
        1.0,
        "size = { dist = \"lognormal\", median_bytes = 0, sigma = 1 }",
    )));
    assert!(e.contains("size.median_bytes"), "{e}");
    let e = error(&workload(
        &(class("a", 0.5, 0.5, "") + &class("a", 0.5, 0.5, "")),
    ));
    assert!(e.contains(".name") && e.contains("earlier class"), "{e}");
    let e = error(&workload("reload_ratio = 0.5"));
    assert!(e.contains("reload_ratio") && e.contains("classes"), "{e}");
    let layers = |layer: &str| {
        format!(
            "name = \"x\"\nrequests = 10\n[workload]\nkeys = 100\nrate = 1.0\n[[layers]]\nname = \"c\"\n{layer}\n{DB}"
        )
    };
    let e = error(&layers(
        "kind = \"redis\"\ncapacity = 10\ncapacity_bytes = 1000",
    ));
    assert!(
        e.contains("capacity_bytes") && e.contains("not both"),
        "{e}"
    );
    let e = error(&layers("kind = \"browser\"\ncapacity_bytes = 1000"));
    assert!(e.contains("capacity_bytes") && e.contains("browser"), "{e}");
    let e = error(&layers(
        "kind = \"browser\"\ncapacity = 10\nignore_private = true",
    ));
    assert!(e.contains("ignore_private"), "{e}");
    let e = error(&layers("kind = \"redis\""));
    assert!(e.contains("capacity_bytes"), "{e}");
}

/// Runs `scenarios/layered_ttls.toml` with `set` overrides.
fn layered_ttls(set: &[&str]) -> Report {
    let path = crate::support::repo().join("scenarios/layered_ttls.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    let set: Vec<_> = set
        .iter()
        .map(|s| tiersim::scenario::Override::parse(s).unwrap())
        .collect();
    let (_, plan) = Source::new("layered_ttls.toml", &text, Format::Toml)
        .plan(&set)
        .unwrap();
    tiersim::simulate(&plan)
}

/// The shipped lesson: with header freshness and the Age carried along, no read is
/// older than s-maxage (300 s), however many shared caches refill from each other;
/// with each layer's own clock the ages add up. The bound allows the latency
/// histogram's three significant digits (0.1%, 0.3 s) and the queries' own time.
#[test]
fn header_freshness_bounds_the_age_of_reads_and_own_clocks_stack_it() {
    let headers = layered_ttls(&[]);
    assert!(headers.stale_reads > 0);
    let max_s = headers.stale_read_age_ms.max / 1e3;
    assert!(max_s < 301.0, "{max_s}");
    let own = layered_ttls(&[
        "layers.shield.ttl_s=300",
        "layers.cdn.ttl_s=300",
        "layers.browser.ttl_s=60",
    ]);
    let max_s = own.stale_read_age_ms.max / 1e3;
    assert!(max_s > 360.0, "{max_s}");
}
