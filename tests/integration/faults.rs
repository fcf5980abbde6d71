//! Faults, write-back crashes, `stale_if_error`, versioned keys, tag purges and negative
//! caching, against exact counts where the model makes them exact.
//!
//! Every test uses a fixed seed. Most figures here are exact identities of the event
//! order (a request that reaches a down layer fails, a crash loses what was not
//! flushed), checked against an independent count from the time series; the two
//! statistical ones derive their tolerance in a comment.

use tiersim::SimTime;
use tiersim::base::rng::{Stream, stream};
use tiersim::layer::topology::{DEFAULT_VNODES, Ring};
use tiersim::output::report::Report;
use tiersim::scenario::Plan;
use tiersim::workload::Workload;

use crate::support::{buckets, plan, run};

/// Writes accepted in the buckets starting at `from_s` (inclusive) up to `to_s`
/// (exclusive).
fn writes_between(r: &Report, from_s: f64, to_s: f64) -> u64 {
    buckets(r, from_s, to_s).map(|b| b.writes).sum()
}

/// Requests that arrived in the buckets of `[from_s, to_s)`.
fn requests_between(r: &Report, from_s: f64, to_s: f64) -> u64 {
    buckets(r, from_s, to_s).map(|b| b.requests).sum()
}

/// 100 keys read and written uniformly at 2,000/s (30% writes) through one Redis layer
/// with room for every key and no TTL, in front of a 1 ms database, for 15 s; writes
/// are written back: flushed every second, or once `flush_batch` are pending.
fn write_back(flush_batch: u32, faults: &str) -> String {
    format!(
        r#"
        name = "write-back"
        seed = 11
        duration_s = 15
        [workload]
        keys = 100
        popularity = {{ dist = "uniform" }}
        rate = 2000.0
        write_ratio = 0.3
        write_strategy = "write_back"
        flush_interval_s = 1
        flush_batch = {flush_batch}
        [[layers]]
        name = "redis"
        kind = "redis"
        capacity = 1000
        latency = {{ dist = "constant", ms = 0 }}
        [[layers]]
        name = "db"
        kind = "database"
        connections = 100
        latency = {{ dist = "constant", ms = 1 }}
        [metrics]
        bucket_s = 0.5
        {faults}
        "#
    )
}

const CRASH: &str = r#"
        [[faults]]
        layer = "redis"
        start_s = 10.5
        duration_s = 1
        fallback = false
"#;

/// The crash at 10.5 s falls half-way between the timed flushes at 10 s and 11 s, and
/// with `flush_batch` out of reach no other flush happens: the writes lost are exactly
/// those accepted in (10 s, 10.5 s), which the 0.5 s bucket starting at 10 s counts
/// independently (a write is accepted at its arrival: the layer answers in zero time,
/// and an arrival exactly on a flush or crash instant has probability zero). Every
/// other write accepted by the layer is flushed by the end; those arriving while it is
/// down fail (no fallback), as do the reads.
#[test]
fn write_back_crash_loses_exactly_the_writes_since_the_last_flush() {
    let calm = run(&write_back(1_000_000, ""));
    assert_eq!(calm.lost_writes, 0);
    assert_eq!(
        calm.flushed_writes, calm.writes,
        "every write flushed by the end"
    );
    // Every read after a key's first fill (by a read or a write) hits the write-back
    // copy, which is the latest; only a cold miss whose query races an accepted write
    // reads stale, at the origin, and its fill does not replace the newer copy.
    let cold = calm.layers[0].misses;
    assert!(cold <= 110, "{cold}");
    assert_eq!(calm.layers[0].stale_hits, 0);
    assert!(calm.stale_reads <= cold, "{}", calm.stale_reads);
    assert!(
        calm.origin.writes < calm.writes,
        "flushes coalesce writes to a key"
    );

    let r = run(&write_back(1_000_000, CRASH));
    let since_flush = writes_between(&r, 10.0, 10.5);
    assert!(since_flush > 100, "{since_flush}");
    assert_eq!(r.lost_writes, since_flush);
    let around = writes_between(&r, 10.5, 11.5);
    assert_eq!(r.flushed_writes + r.lost_writes + around, r.writes);
    assert_eq!(r.failed_requests, requests_between(&r, 10.5, 11.5));
    // The crash emptied the cache and lost the newest versions: the reads that refill
    // it from the database get the older, durable ones until the key is written again.
    assert!(r.stale_reads > 0);
    // The time series carries the origin's rate and time per bucket.
    for b in &r.timeseries {
        assert!((b.origin_rps - b.origin_requests as f64 / 0.5).abs() < 1e-9);
        assert!(b.origin_requests == 0 || b.origin_p99_ms >= 0.99, "{b:?}");
    }
}

/// A flush as soon as 50 writes are pending bounds the loss: at most 49 writes are
/// ever unflushed, so the crash loses between 0 and 49, and still exactly those
/// accepted since the last flush (here the flushes are many, so the identity is checked
/// as conservation: flushed + lost + around = all writes).
#[test]
fn write_back_flush_batch_bounds_the_loss() {
    let r = run(&write_back(50, CRASH));
    assert!(r.lost_writes < 50, "{}", r.lost_writes);
    let around = writes_between(&r, 10.5, 11.5);
    assert_eq!(r.flushed_writes + r.lost_writes + around, r.writes);
    assert!(r.flushes > 15 * 600 / 50 / 2, "{}", r.flushes);
}

/// 10 keys read uniformly at 1,000/s through Redis (TTL 1 s, `stampede` as given) in
/// front of a 1 ms database; a fault takes `layer` down from 5 s to 6 s.
fn outage(layer: &str, fallback: bool, stampede: &str) -> String {
    format!(
        r#"
        name = "outage"
        seed = 12
        duration_s = 10
        [workload]
        keys = 10
        popularity = {{ dist = "uniform" }}
        rate = 1000.0
        [[layers]]
        name = "redis"
        kind = "redis"
        capacity = 100
        ttl_s = 1
        latency = {{ dist = "constant", ms = 0 }}
        stampede = {stampede}
        [[layers]]
        name = "db"
        kind = "database"
        connections = 100
        latency = {{ dist = "constant", ms = 1 }}
        [metrics]
        bucket_s = 1
        [[faults]]
        layer = "{layer}"
        start_s = 5
        duration_s = 1
        fallback = {fallback}
        "#
    )
}

/// A cache layer down without fallback fails every read that reaches it in the window;
/// it is the first layer and answers in zero time, so those are exactly the reads that
/// arrive in [5 s, 6 s), the time series' bucket 5. With fallback, none fails, they all
/// go to the database instead (the origin's bucket 5 equals its arrivals), and the
/// crash leaves the layer cold when it comes back.
#[test]
fn a_layer_down_fails_or_skips_exactly_the_requests_in_its_window() {
    let none = r#"{ mode = "none" }"#;
    let fail = run(&outage("redis", false, none));
    let in_window = requests_between(&fail, 5.0, 6.0);
    assert!(in_window > 900, "{in_window}");
    assert_eq!(fail.failed_requests, in_window);
    assert_eq!(fail.layers[0].failed, in_window);
    let bucket = |r: &Report, t: f64| {
        r.timeseries
            .iter()
            .find(|b| (b.t_s - t).abs() < 1e-9)
            .unwrap()
            .clone()
    };
    assert_eq!(bucket(&fail, 5.0).failed, in_window);
    let want = 1.0 - in_window as f64 / fail.requests as f64;
    assert!((fail.availability - want).abs() < 1e-12);
    assert_eq!(
        fail.latency_ms.count + fail.failed_requests,
        fail.reads,
        "a failed read has no latency"
    );

    let skip = run(&outage("redis", true, none));
    assert_eq!(skip.failed_requests, 0);
    assert_eq!(skip.availability, 1.0);
    assert_eq!(skip.layers[0].skipped, in_window, "the same arrivals");
    assert_eq!(bucket(&skip, 5.0).origin_requests, in_window);
    assert!(bucket(&skip, 4.0).origin_requests < in_window / 10);
    // Back at 6 s, empty: each of the 10 keys misses once more than in bucket 4.
    assert!(bucket(&skip, 6.0).origin_requests >= 10);
}

/// 100 keys read uniformly at 1,000/s for 10 s through Redis of 4 shards (room for
/// every key, no TTL: once a key has been read, its shard holds it for good) in front of
/// a database that answers at once; `faults` as given.
fn shards(faults: &str) -> String {
    format!(
        r#"
        name = "shard-outage"
        seed = 13
        duration_s = 10
        [workload]
        keys = 100
        popularity = {{ dist = "uniform" }}
        rate = 1000.0
        [[layers]]
        name = "redis"
        kind = "redis"
        shards = 4
        capacity = 100
        latency = {{ dist = "constant", ms = 0 }}
        [[layers]]
        name = "db"
        kind = "database"
        connections = 100
        latency = {{ dist = "constant", ms = 0 }}
        [metrics]
        bucket_s = 1
        {faults}
        "#
    )
}

/// A one-node fault of `shards`' Redis.
fn shard_down(node: u32, start_s: f64, duration_s: f64, fallback: bool) -> String {
    format!(
        "[[faults]]\nlayer = \"redis\"\nnode = {node}\nstart_s = {start_s}\n\
         duration_s = {duration_s}\nfallback = {fallback}\n"
    )
}

/// One arrival of [`routed`].
struct Arrival {
    t: SimTime,
    /// The Redis shard its key is on.
    shard: u32,
    key: u32,
    write: bool,
}

/// `plan`'s arrivals, regenerated through the public workload API (the engine draws the
/// gap to the next arrival, then the operation, from the workload stream), each key
/// routed through a ring of its own.
fn routed(plan: &Plan) -> Vec<Arrival> {
    let ring = Ring::new(4, DEFAULT_VNODES);
    let mut w = Workload::new(&plan.workload, stream(plan.seed, Stream::Workload));
    let end = plan.duration.expect("a timed scenario");
    let (mut t, mut out) = (SimTime::ZERO, Vec::new());
    loop {
        let gap = w.next_gap();
        let op = w.next_op(t);
        out.push(Arrival {
            t,
            shard: ring.shard(op.key),
            key: op.key,
            write: op.write,
        });
        if t + gap > end {
            return out;
        }
        t = t + gap;
    }
}

/// Reads arriving in `[from_s, to_s)` whose key is on a shard `shard` accepts.
fn count(arrivals: &[Arrival], from_s: f64, to_s: f64, shard: impl Fn(u32) -> bool) -> u64 {
    let (from, to) = (SimTime::from_secs_f64(from_s), SimTime::from_secs_f64(to_s));
    arrivals
        .iter()
        .filter(|a| !a.write && from <= a.t && a.t < to && shard(a.shard))
        .count() as u64
}

/// Keys on a shard `shard` accepts whose first request from `from_s` on is a read: if
/// that shard came back empty at `from_s`, each misses there once (a key written first
/// is stored by `write_through` instead).
fn refills(arrivals: &[Arrival], from_s: f64, shard: impl Fn(u32) -> bool) -> u64 {
    let from = SimTime::from_secs_f64(from_s);
    let mut seen = std::collections::BTreeSet::new();
    arrivals
        .iter()
        .filter(|a| from <= a.t && shard(a.shard) && seen.insert(a.key))
        .filter(|a| !a.write)
        .count() as u64
}

/// One shard of four down from 5 s to 6 s. Without fallback exactly the reads of the
/// window that the ring sends to that shard fail (counted independently, by replaying
/// the arrivals through the public workload and ring); with fallback exactly those skip
/// Redis and reach the database, and nothing fails. The other shards are untouched: the
/// layer's hits fall, against the same run without a fault, by exactly the skipped or
/// failed reads plus one miss per key of the down shard read after 6 s (it came back
/// empty, and nothing filled it while it was down, though the database answered its
/// skipped reads).
#[test]
fn one_redis_shard_down_fails_or_skips_exactly_its_requests() {
    let base = run(&shards(""));
    let arrivals = routed(&plan(&shards("")));
    assert_eq!(
        arrivals.len() as u64,
        base.requests,
        "the replay is the run's arrivals"
    );
    let down = 1;
    let on_it = |s: u32| s == down;
    let in_window = count(&arrivals, 5.0, 6.0, on_it);
    let refills = refills(&arrivals, 6.0, on_it);
    let all = count(&arrivals, 5.0, 6.0, |_| true);
    // Not a check, a guard that the test means something: the shard holds 14 of the
    // 100 keys (a ring of 64 points per shard splits them unevenly), so it gets about
    // 15% of the window's 1,000 reads, and each of its keys is read after 6 s.
    assert_eq!((in_window, all, refills), (149, 1014, 14));
    let origin = |r: &Report, from_s: f64, to_s: f64| -> u64 {
        buckets(r, from_s, to_s).map(|b| b.origin_requests).sum()
    };
    assert_eq!(origin(&base, 2.0, 10.0), 0, "warm: no miss after 2 s");

    let fail = run(&shards(&shard_down(down, 5.0, 1.0, false)));
    assert_eq!(fail.failed_requests, in_window);
    assert_eq!(fail.layers[0].failed, in_window);
    assert_eq!(fail.layers[0].skipped, 0);
    let want = 1.0 - in_window as f64 / fail.requests as f64;
    assert!((fail.availability - want).abs() < 1e-12);
    assert_eq!(fail.layers[0].requests, base.layers[0].requests - in_window);
    assert_eq!(
        fail.layers[0].hits,
        base.layers[0].hits - in_window - refills
    );
    assert_eq!(fail.layers[0].misses, base.layers[0].misses + refills);
    assert_eq!(origin(&fail, 5.0, 6.0), 0, "failed reads go nowhere");
    assert_eq!(
        origin(&fail, 6.0, 10.0),
        refills,
        "the shard came back empty"
    );

    let skip = run(&shards(&shard_down(down, 5.0, 1.0, true)));
    assert_eq!(skip.failed_requests, 0);
    assert_eq!(skip.availability, 1.0);
    assert_eq!(skip.layers[0].skipped, in_window);
    assert_eq!(origin(&skip, 5.0, 6.0), in_window, "the origin load rises");
    assert_eq!(
        skip.layers[0].hits,
        base.layers[0].hits - in_window - refills
    );
    assert_eq!(
        origin(&skip, 6.0, 10.0),
        refills,
        "not filled while down, empty after"
    );
}

/// Overlapping windows compose: shard 1 down with fallback from 5 s to 7 s, the whole
/// layer down without fallback from 6 s to 6.5 s. Every read of [6 s, 6.5 s) fails
/// (failing beats skipping), shard 1's reads of the rest of its window skip, and each
/// shard comes back empty once: shard 1 at 7 s (not crashed again at 6 s), the others at
/// 6.5 s.
#[test]
fn whole_layer_and_one_node_faults_overlap() {
    let faults = format!(
        "{}[[faults]]\nlayer = \"redis\"\nstart_s = 6\nduration_s = 0.5\n",
        shard_down(1, 5.0, 2.0, true)
    );
    let base = run(&shards(""));
    let r = run(&shards(&faults));
    let arrivals = routed(&plan(&shards("")));
    let one = |s: u32| s == 1;
    let failed = count(&arrivals, 6.0, 6.5, |_| true);
    let skipped = count(&arrivals, 5.0, 6.0, one) + count(&arrivals, 6.5, 7.0, one);
    assert_eq!(r.failed_requests, failed);
    assert_eq!(r.layers[0].skipped, skipped);
    let refills = refills(&arrivals, 6.5, |s| s != 1) + refills(&arrivals, 7.0, one);
    assert_eq!(r.layers[0].misses, base.layers[0].misses + refills);
    assert_eq!(
        r.layers[0].hits,
        base.layers[0].hits - failed - skipped - refills
    );
}

/// A node down takes no write either: under `write_through` (20% writes, which go to
/// the database and then store their version in every cache), the writes of the window
/// to shard 1's keys are not stored there, so after 6 s each of its keys misses once
/// unless its first request is a write (the base run, warm, never misses after 2 s).
/// The writes themselves do not fail: they do not pass through Redis.
#[test]
fn a_node_down_is_not_stored_into_by_writes() {
    let scenario = |faults: &str| {
        shards(faults).replace(
            "rate = 1000.0",
            "rate = 1000.0\n        write_ratio = 0.2\n        write_strategy = \"write_through\"",
        )
    };
    let base = run(&scenario(""));
    let r = run(&scenario(&shard_down(1, 5.0, 1.0, false)));
    let arrivals = routed(&plan(&scenario("")));
    let one = |s: u32| s == 1;
    let written = arrivals
        .iter()
        .filter(|a| a.write && a.shard == 1 && a.t >= SimTime::from_secs_f64(5.0))
        .filter(|a| a.t < SimTime::from_secs_f64(6.0))
        .count();
    assert!(written > 20, "{written} writes to the down shard");
    assert_eq!(r.failed_requests, count(&arrivals, 5.0, 6.0, one));
    let after = refills(&arrivals, 6.0, one);
    assert!(after > 5, "{after}");
    assert_eq!(r.origin.reads, base.origin.reads + after);
}

/// Round-robin instances: with instance 2 of 4 down, the load balancer still sends it
/// every fourth read reaching the layer, so exactly the reads of the window whose
/// arrival index is 2 modulo 4 fail (the indices come from the time series: every read
/// reaches the L1 first, at its arrival).
#[test]
fn one_round_robin_instance_down_fails_every_fourth_read() {
    let r = run(r#"
        name = "instance-outage"
        seed = 14
        duration_s = 4
        [workload]
        keys = 100
        rate = 1000.0
        [[layers]]
        name = "l1"
        kind = "in_process"
        instances = 4
        balancer = "round_robin"
        capacity = 100
        latency = { dist = "constant", ms = 0 }
        [[layers]]
        name = "db"
        kind = "database"
        latency = { dist = "constant", ms = 1 }
        [metrics]
        bucket_s = 1
        [[faults]]
        layer = "l1"
        node = 2
        start_s = 2
        duration_s = 1
        "#);
    let before = requests_between(&r, 0.0, 2.0);
    let window = before..before + requests_between(&r, 2.0, 3.0);
    let want = window.filter(|i| i % 4 == 2).count() as u64;
    assert!(want > 200, "{want}");
    assert_eq!(r.failed_requests, want);
    assert_eq!(r.layers[0].failed, want);
}

/// The database down for a second: without a defence, every read that misses Redis in
/// the window fails (about one per key per TTL of 1 s, plus a herd of 1 ms). With
/// `stale_if_error` and a window of 10 s, each of those finds its key's copy expired
/// less than a second ago and is answered with it: no read fails at all, and each such
/// answer is counted.
#[test]
fn stale_if_error_answers_reads_the_database_fails() {
    let plain = run(&outage("db", false, r#"{ mode = "none" }"#));
    assert!(plain.failed_requests >= 10, "{}", plain.failed_requests);
    assert_eq!(
        plain.layers[1].failed, plain.failed_requests,
        "at the origin"
    );
    let sie = run(&outage(
        "db",
        false,
        r#"{ mode = "stale_if_error", window_s = 10 }"#,
    ));
    assert_eq!(sie.failed_requests, 0);
    assert!(sie.layers[0].stale_on_error >= 10, "{:?}", sie.layers[0]);
    assert_eq!(sie.availability, 1.0);
    let c = &sie.layers[0];
    assert_eq!(c.hits + c.misses, c.requests);
    // A window too short to reach back to the expiry serves nothing stale.
    let short = run(&outage(
        "db",
        false,
        r#"{ mode = "stale_if_error", window_s = 0.000001 }"#,
    ));
    assert_eq!(short.layers[0].stale_on_error, 0);
    assert!(short.failed_requests >= 10);
}

/// Ten keys read and written uniformly (20% writes) through one cache in front of a
/// 5 ms database: the cache-aside race of `stampede::cache_aside_races_...` exists.
fn raced(invalidation: &str, extra: &str) -> String {
    format!(
        r#"
        name = "raced"
        seed = 9
        requests = 200000
        warmup_requests = 10000
        [workload]
        keys = 10
        popularity = {{ dist = "uniform" }}
        rate = 2000.0
        write_ratio = 0.2
        invalidation = "{invalidation}"
        {extra}
        [[layers]]
        name = "cache"
        kind = "redis"
        capacity = 100
        ttl_s = 10
        [[layers]]
        name = "db"
        kind = "database"
        connections = 1000
        latency = {{ dist = "constant", ms = 5 }}
        "#
    )
}

/// `versioned_keys`: a read asks for the current version's key, so a copy of an older
/// version, even one a racing read filled after the write, is never served: zero stale
/// reads, where `delete_on_write` has hundreds on the same arrivals; the old copies
/// are orphaned instead and take slots until the policy evicts them.
#[test]
fn versioned_keys_never_read_stale_and_orphan_old_copies() {
    let deleted = run(&raced("delete_on_write", ""));
    assert!(deleted.stale_reads > 100, "{}", deleted.stale_reads);
    let versioned = run(&raced("versioned_keys", ""));
    assert_eq!(versioned.stale_reads, 0);
    assert_eq!(versioned.reads, deleted.reads, "the same arrivals");
    let c = &versioned.layers[0];
    assert!(c.orphaned > 1000, "{c:?}");
    assert!(c.orphans_resident > 0 && c.orphans_resident <= 100, "{c:?}");
}

/// `tag_purge` with as many tags as keys purges exactly the written key: the run is
/// identical to `delete_on_write`'s. With 2 tags a write purges its half of the keys:
/// more copies go, and the origin reads more.
#[test]
fn tag_purge_with_one_key_per_tag_is_delete_on_write() {
    let deleted = run(&raced("delete_on_write", ""));
    let own = run(&raced("tag_purge", "tags = 10"));
    assert_eq!(own.stale_reads, deleted.stale_reads);
    assert_eq!(own.origin, deleted.origin);
    assert_eq!(own.layers[0].hits, deleted.layers[0].hits);
    let halves = run(&raced("tag_purge", "tags = 2"));
    assert!(halves.layers[0].purged > 2 * own.layers[0].purged);
    assert!(halves.origin.reads > deleted.origin.reads);
}

/// Negative caching. Half the reads ask for missing keys (100 of them, uniform:
/// λ = 1,000 × 0.5 / 100 = 5 reads/s each). Without `negative_ttl_s` each reaches the
/// database. With a 10 s negative TTL (expiry counted from the fill) a key's reads hit
/// with probability λT / (1 + λT) = 50/51 = 0.9804 (the TTL-cache law). Over 100 s
/// there are ~1,000 fill cycles; the miss fraction 1/51 = 0.0196 has standard error
/// about sqrt(1000) / 50,000 = 0.0006, and a 1 ms query adds λδ = 0.005 herd misses per
/// cycle (0.0001 of the ratio): 0.5% (0.005) is eight standard errors.
#[test]
fn negative_caching_follows_the_ttl_law() {
    let scenario = |negative: &str| {
        format!(
            r#"
            name = "negative"
            seed = 13
            requests = 100000
            [workload]
            keys = 100
            popularity = {{ dist = "uniform" }}
            rate = 1000.0
            missing_ratio = 0.5
            [[layers]]
            name = "cache"
            kind = "redis"
            capacity = 1000
            ttl_s = 10
            {negative}
            [[layers]]
            name = "db"
            kind = "database"
            connections = 100
            latency = {{ dist = "constant", ms = 1 }}
            "#
        )
    };
    let plain = run(&scenario(""));
    let missing = plain.origin.not_found;
    assert!(missing > 45_000 && missing < 55_000, "{missing}");
    assert_eq!(plain.layers[0].negative_hits, 0);
    let cached = run(&scenario("negative_ttl_s = 10"));
    let ratio = cached.layers[0].negative_hits as f64 / missing as f64;
    assert!((ratio - 50.0 / 51.0).abs() < 0.005, "{ratio}");
    assert_eq!(
        cached.layers[0].negative_hits + cached.origin.not_found,
        missing,
        "the same arrivals: each missing read hits a negative copy or reaches the origin"
    );
}

/// Bad fault and write keys are rejected by name.
#[test]
fn fault_and_write_keys_are_validated_by_name() {
    let bad = |toml: String| {
        tiersim::scenario::Source::new("t", toml, tiersim::scenario::Format::Toml)
            .plan(&[])
            .unwrap_err()
            .to_string()
    };
    let e = bad(outage("nowhere", true, r#"{ mode = "none" }"#));
    assert!(
        e.contains("faults[0].layer") && e.contains("nowhere"),
        "{e}"
    );
    let e = bad(outage("db", true, r#"{ mode = "none" }"#));
    assert!(e.contains("faults[0].fallback"), "{e}");
    // `outage`'s Redis is one node: node 0 is the layer itself, node 2 does not exist.
    let e = bad(outage("redis", true, r#"{ mode = "none" }"#)
        .replace("start_s = 5", "start_s = 5\n        node = 2"));
    assert!(
        e.contains("faults[0].node") && e.contains("is 2") && e.contains("only 0"),
        "{e}"
    );
    let e = bad(shards(&shard_down(4, 5.0, 1.0, true)));
    assert!(
        e.contains("faults[0].node") && e.contains("`shards = 4`") && e.contains("0 to 3"),
        "{e}"
    );
    let e = bad(shards(
        &shard_down(0, 5.0, 1.0, false).replace("\"redis\"", "\"db\""),
    ));
    assert!(
        e.contains("faults[0].node") && e.contains("database"),
        "{e}"
    );
    let wb = write_back(10, "").replace("kind = \"redis\"", "kind = \"redis\"\n        shards = 2")
        + &shard_down(1, 5.0, 1.0, true);
    let e = bad(wb);
    assert!(
        e.contains("faults[0].node") && e.contains("write_back"),
        "{e}"
    );
    let e = bad(write_back(0, ""));
    assert!(e.contains("workload.flush_batch"), "{e}");
    // Write-back tuning is checked under any strategy, and used by write_back only.
    let e = bad(raced("ttl_only", "flush_interval_s = 0"));
    assert!(e.contains("workload.flush_interval_s"), "{e}");
    let e = bad(raced("tag_purge", "tags = 0"));
    assert!(e.contains("workload.tags"), "{e}");
}
