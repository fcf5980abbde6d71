//! Issue 16, "counters that add up": every read counted once by the layer that answered
//! it, background refreshes on their own counter, herd events by bucket, the layer
//! table's columns, and times in `timeseries.csv` without float noise.

use std::fs;

use tiersim::layer::LayerKind;
use tiersim::output::report::Report;
use tiersim::scenario::{Override, load};

use crate::support::{repo, stdout, tiersim};

/// Every stampede mode, with the parameters those that need them take.
const MODES: [&[&str]; 7] = [
    &["none"],
    &["coalesce"],
    &["lock"],
    &["stale_while_revalidate", "window_s=1"],
    &["refresh_ahead", "window_s=0.02"],
    &["stale_if_error", "window_s=1"],
    &["xfetch", "beta=1"],
];

/// Runs a shipped scenario, shortened, with `set` overrides.
fn scenario(name: &str, set: &[String]) -> Result<Report, String> {
    let mut overrides = vec![
        Override::parse("requests=12000").unwrap(),
        Override::parse("warmup_requests=1000").unwrap(),
    ];
    overrides.extend(set.iter().map(|s| Override::parse(s).unwrap()));
    let path = repo().join(format!("scenarios/{name}.toml"));
    let (_, plan) = load(&path, &overrides).map_err(|e| format!("{e:#}"))?;
    Ok(tiersim::simulate(&plan))
}

/// The shipped scenarios' names.
fn scenarios() -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(repo().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Overrides that put `mode` on the scenario's innermost cache layer, made single-node
/// (defences are modelled on single-node layers): every refresh it starts goes to the
/// origin. `None` where the layer cannot take one, or the path has no cache layer
/// (`metastable_retry_storm`, a database alone).
fn defend_innermost(name: &str, mode: &[&str]) -> Option<Vec<String>> {
    let base = scenario(name, &[]).unwrap();
    let inner = &base.layers[base.layers.len().checked_sub(2)?];
    let mut set = Vec::new();
    if inner.kind == LayerKind::Cdn {
        // A CDN is refused a defence even with one PoP: a scenario whose innermost
        // cache is one runs without (`private_on_shared_cache`).
        return (mode[0] == "none").then_some(set);
    }
    if inner.nodes > 1 {
        let key = match inner.kind {
            LayerKind::Redis => "shards",
            LayerKind::InProcess => "instances",
            LayerKind::Shield | LayerKind::Proxy => "nodes",
            other => panic!("{name}: no single-node form for {other:?} here"),
        };
        set.push(format!("layers.{}.{key}=1", inner.name));
    }
    set.push(format!("layers.{}.stampede.mode={}", inner.name, mode[0]));
    for p in &mode[1..] {
        set.push(format!("layers.{}.stampede.{p}", inner.name));
    }
    Some(set)
}

/// The sum of the layers' served shares.
fn shares(r: &Report) -> f64 {
    r.layers.iter().map(|l| l.served_share).sum()
}

/// Herd events summed over the time series' buckets.
fn bucket_herds(r: &Report) -> u64 {
    r.timeseries.iter().map(|b| b.herd_events).sum()
}

/// For every shipped scenario and every stampede defence on its innermost cache layer,
/// the served shares add to 1 (to rounding: a sum of 7 ratios of integers, each within
/// half an ulp, so 1e-12 is a thousand ulps of slack), the origin answered one refresh
/// query per background refresh the layers issued, and its herd events are those of
/// the time series' buckets. `cdn_outage` carries a fault with fallback, so does each
/// mode here.
#[test]
fn served_shares_add_up_and_refreshes_have_their_own_counter() {
    let mut ran = 0;
    for name in scenarios() {
        for mode in MODES {
            let Some(set) = defend_innermost(&name, mode) else {
                continue;
            };
            let r = scenario(&name, &set).unwrap_or_else(|e| panic!("{name} {set:?}: {e}"));
            assert_eq!(r.failed_requests, 0, "{name} {set:?}");
            let sum = shares(&r);
            assert!(
                (sum - 1.0).abs() < 1e-12,
                "{name} {set:?}: shares sum to {sum}"
            );
            let issued: u64 = r.layers.iter().rev().skip(1).map(|l| l.refreshes).sum();
            assert_eq!(r.origin.refreshes, issued, "{name} {set:?}");
            let db = r.layers.last().unwrap();
            assert_eq!(db.refreshes, r.origin.refreshes, "{name} {set:?}");
            assert_eq!(db.requests, r.origin.reads, "{name} {set:?}");
            assert_eq!(
                r.origin.requests,
                r.origin.reads + r.origin.refreshes + r.origin.writes
            );
            assert_eq!(bucket_herds(&r), r.origin.herd_events, "{name} {set:?}");
            ran += 1;
        }
    }
    assert!(
        ran > 8 * MODES.len(),
        "every scenario ran every mode it can: {ran}"
    );
}

/// The reproducers: `hot_key_stampede` with `coalesce` (shares summed to 90.9%:
/// waiters counted nowhere), `refresh_ahead` (101.1%) and `xfetch` (103.1%: refreshes
/// counted as reads the database answered). Now 100%, the waiters answered by the
/// layer they waited at, and no refresh counted as a read.
#[test]
fn hot_key_stampede_shares_add_to_one_in_every_mode() {
    for (mode, extra) in [
        ("coalesce", None),
        ("refresh_ahead", Some("window_s=0.02")),
        ("xfetch", Some("beta=1")),
    ] {
        let mut set = vec![format!("layers.redis.stampede.mode={mode}")];
        set.extend(extra.map(|e| format!("layers.redis.stampede.{e}")));
        let path = repo().join("scenarios/hot_key_stampede.toml");
        let set: Vec<Override> = set.iter().map(|s| Override::parse(s).unwrap()).collect();
        let (_, plan) = load(&path, &set).unwrap();
        let r = tiersim::simulate(&plan);
        let (redis, db) = (&r.layers[0], &r.layers[1]);
        assert!((shares(&r) - 1.0).abs() < 1e-12, "{mode}: {}", shares(&r));
        // Each read answered at Redis: a hit, or a waiter answered by its flight.
        let at_redis = redis.hits + redis.coalesced + redis.stale_served;
        assert_eq!(
            redis.served_share,
            at_redis as f64 / r.reads as f64,
            "{mode}"
        );
        assert_eq!(db.served_share, r.origin.reads as f64 / r.reads as f64);
        assert_eq!(r.origin.refreshes, redis.refreshes, "{mode}");
        if mode == "coalesce" {
            assert!(redis.coalesced > 1000, "{mode}: {redis:?}");
        } else {
            assert!(redis.refreshes > 500, "{mode}: {redis:?}");
        }
    }
}

/// A layer down without fallback: the reads that fail are answered by no layer, so the
/// shares add to 1 less the failed reads (the scenario has no writes: every failure is a
/// read); with `stale_if_error` some of them are answered by the expired copy instead.
#[test]
fn failed_reads_are_the_only_reads_no_layer_answered() {
    for mode in [&["none"][..], &["stale_if_error", "window_s=1"]] {
        let set = defend_innermost("hot_key_stampede", mode).unwrap();
        // The database down for a second, without fallback (a database has none).
        let text = fs::read_to_string(repo().join("scenarios/hot_key_stampede.toml")).unwrap()
            + "\n[[faults]]\nlayer = \"db\"\nstart_s = 5\nduration_s = 1\n";
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("down.toml");
        fs::write(&file, text).unwrap();
        let mut overrides = vec![Override::parse("requests=12000").unwrap()];
        overrides.extend(set.iter().map(|s| Override::parse(s).unwrap()));
        let (_, plan) = load(&file, &overrides).unwrap();
        let r = tiersim::simulate(&plan);
        assert_eq!(r.writes, 0);
        let answered = shares(&r) + r.failed_requests as f64 / r.reads as f64;
        assert!((answered - 1.0).abs() < 1e-12, "{mode:?}: {answered}");
        if mode[0] == "none" {
            assert!(r.failed_requests > 0, "the database was down a second");
        } else {
            assert!(r.layers[0].stale_on_error > 0, "{:?}", r.layers[0]);
        }
    }
}

/// Runs a shipped scenario with the binary and `--set`s into `out/` of a new folder,
/// its table in `table.txt`; returns the folder.
fn run_cli(name: &str, set: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let file = repo().join(format!("scenarios/{name}.toml"));
    let mut args = vec!["run", file.to_str().unwrap(), "--out", "out", "--quiet"];
    for s in set {
        args.extend(["--set", s]);
    }
    let out = tiersim(dir.path(), &args);
    assert!(out.status.success(), "{}", crate::support::stderr(&out));
    fs::write(dir.path().join("table.txt"), stdout(&out)).unwrap();
    dir
}

/// The decimals of a number as written.
fn decimals(s: &str) -> usize {
    s.split_once('.').map_or(0, |(_, f)| f.len())
}

/// `t_s` once printed `10.100000000000001`. For buckets of 0.1 s, 1 ms and a third of a
/// second (333,333,333 ns), each `t_s` parses, is a whole number of buckets in integer
/// nanoseconds, and has no more decimals than the bucket width.
#[test]
fn bucket_times_have_the_precision_of_the_bucket() {
    for (bucket, width_ns, places) in [
        ("0.1", 100_000_000u64, 1),
        ("0.001", 1_000_000, 3),
        ("0.3333333333333333", 333_333_333, 9),
    ] {
        let dir = run_cli(
            "hot_key_stampede",
            &[&format!("metrics.bucket_s={bucket}"), "requests=20000"],
        );
        let ts = fs::read_to_string(dir.path().join("out/timeseries.csv")).unwrap();
        let mut rows = 0;
        for line in ts.lines().skip(1) {
            let t = line.split(',').next().unwrap();
            let secs: f64 = t.parse().unwrap_or_else(|_| panic!("{t} parses"));
            assert!(decimals(t) <= places, "bucket {bucket}: t_s {t}");
            assert!(!t.contains('e'), "bucket {bucket}: t_s {t}");
            let ns = (secs * 1e9).round() as u64;
            assert_eq!(ns % width_ns, 0, "bucket {bucket}: t_s {t}");
            rows += 1;
        }
        assert!(rows > 50, "bucket {bucket}: {rows} rows");
    }
}

/// The layer table: a layer sized in bytes shows its byte capacity (the quickstart's CDN
/// 1 GB a PoP, its shield 10 GB), the database no hit ratio, and the bytes table asks
/// and fetches different amounts: a layer fetches from below what it did not answer,
/// which is what the next layer inward sent it.
#[test]
fn layer_columns_mean_something() {
    let dir = run_cli("quickstart", &["requests=20000", "warmup_requests=2000"]);
    let table = fs::read_to_string(dir.path().join("table.txt")).unwrap();
    let row = |name: &str| -> Vec<String> {
        table
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("a row for {name} in\n{table}"))
            .split_whitespace()
            .map(str::to_owned)
            .collect()
    };
    // layer, kind, policy, nodes, capacity (two words for bytes), requests, hit ratio.
    assert_eq!(row("cdn")[4..6], ["1.000", "GB"], "{table}");
    assert_eq!(row("shield")[4..6], ["10.000", "GB"], "{table}");
    assert_eq!(row("redis")[4], "100000", "{table}");
    let db = row("db");
    assert_eq!((db[4].as_str(), db[6].as_str()), ("-", "-"), "{table}");

    let summary: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.path().join("out/summary.json")).unwrap())
            .unwrap();
    let layers = summary["layers"].as_array().unwrap();
    let get = |i: usize, k: &str| layers[i][k].as_u64().unwrap();
    assert_eq!(get(1, "capacity_bytes"), 1_000_000_000);
    assert!(layers[1]["capacity"].is_null());
    let db = layers.last().unwrap();
    assert!(db["hit_ratio"].is_null() && db["byte_hit_ratio"].is_null());
    for i in 0..layers.len() - 1 {
        let (asked, fetched) = (get(i, "request_bytes"), get(i, "bytes_fetched"));
        assert!(fetched < asked, "layer {i}: {fetched} >= {asked}");
        // No 304s here: what it fetched is what it asked less what it answered...
        assert_eq!(fetched, asked - get(i, "hit_bytes"), "layer {i}");
        // ...and what the next layer inward (the origin last) sent it.
        assert_eq!(fetched, get(i + 1, "bytes_sent"), "layer {i}");
    }
    let csv = fs::read_to_string(dir.path().join("out/layers.csv")).unwrap();
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let db_row: Vec<&str> = csv.lines().last().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    assert_eq!(db_row[col("hit_ratio")], "");
    assert_eq!(db_row[col("byte_hit_ratio")], "");
}

/// The CDN outage once had every bucket of its origin-load chart marked "≥ 10 herd
/// requests" while its summary said 0 herd events. Herd events are now counted per
/// bucket by the engine's one definition: they add up to the summary's, and a run with
/// none has no bucket with one; the stampede scenario has them in some buckets.
#[test]
fn herd_events_by_bucket_add_up_to_the_summary() {
    let outage = scenario("cdn_outage", &[]).unwrap();
    assert_eq!(outage.origin.herd_events, 0);
    assert!(outage.timeseries.iter().all(|b| b.herd_events == 0));
    let hot = scenario("hot_key_stampede", &[]).unwrap();
    assert!(hot.origin.herd_events > 10, "{:?}", hot.origin);
    assert_eq!(bucket_herds(&hot), hot.origin.herd_events);
    let with = hot.timeseries.iter().filter(|b| b.herd_events > 0).count();
    assert!(with > 0 && with < hot.timeseries.len());
}
