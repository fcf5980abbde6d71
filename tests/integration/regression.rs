//! Issue 16's crashes, hangs and runaway memory, each on the input that was reported:
//! the run now finishes (exit 0) or is refused with a message naming the key (exit 2).
//! Memory is checked through the estimate and the engine's own accounts, never by time.

use std::fs;
use std::path::Path;

use serde_json::Value;
use tiersim::engine::Engine;
use tiersim::engine::budget::Estimate;
use tiersim::metrics::{MAX_BUCKETS, MAX_ROWS};
use tiersim::scenario::{Override, Source};

use crate::support::{repo, stderr, stdout, tiersim};

fn scenario(name: &str) -> String {
    repo()
        .join("scenarios")
        .join(format!("{name}.toml"))
        .display()
        .to_string()
}

/// `tiersim run SCENARIO --set ...` into `dir/out`.
fn run(dir: &Path, name: &str, sets: &[&str]) -> std::process::Output {
    let path = scenario(name);
    let mut args = vec!["run", path.as_str(), "-q", "--out", "out"];
    for s in sets {
        args.extend(["--set", s]);
    }
    tiersim(dir, &args)
}

fn summary(dir: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(dir.join("out/summary.json")).unwrap()).unwrap()
}

fn timeseries_rows(dir: &Path) -> usize {
    fs::read_to_string(dir.join("out/timeseries.csv"))
        .unwrap()
        .lines()
        .count()
        - 1
}

/// Refused with exit 2, the message naming `key`.
fn refused(out: &std::process::Output, key: &str) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("key `{key}`")), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

fn plan(name: &str, sets: &[&str]) -> tiersim::scenario::Plan {
    let overrides: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
    Source::read(Path::new(&scenario(name)))
        .unwrap()
        .plan(&overrides)
        .unwrap()
        .1
}

/// `app_tier --set metrics.bucket_s=0.001` panicked (`metrics.rs`, out of bounds): a
/// hit answered in a later bucket opened the series' window there, and an earlier
/// sample fell before it. 200 s at 1 ms would also be 200,000 rows: coarsened to 5 ms.
#[test]
fn app_tier_with_millisecond_buckets_runs_and_coarsens() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), "app_tier", &["metrics.bucket_s=0.001"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = summary(dir.path());
    assert_eq!(s["bucket_s"], 0.005);
    assert_eq!(s["bucket_coarsened_from_s"], 0.001);
    assert!(s.get("timeseries_cut_at_s").is_none());
    let rows = timeseries_rows(dir.path());
    assert!(rows <= MAX_BUCKETS as usize && rows > 30_000, "{rows} rows");
    assert!(stdout(&out).contains("coarsened from metrics.bucket_s = 0.001 s"));
}

/// The same panic on `hot_key_stampede.toml`: 60 s at 1 ms is 60,000 rows, kept as asked.
#[test]
fn hot_key_stampede_with_millisecond_buckets_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), "hot_key_stampede", &["metrics.bucket_s=0.001"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(summary(dir.path()).get("bucket_coarsened_from_s").is_none());
    let rows = timeseries_rows(dir.path());
    assert!((58_000..=60_100).contains(&rows), "{rows} rows");
}

/// `write_back_crash.toml` with Redis at 1,500 ms or more panicked the same way (hits
/// answered 15 buckets of 0.1 s later).
#[test]
fn write_back_crash_with_a_slow_redis_runs() {
    for ms in ["1500", "5000"] {
        let dir = tempfile::tempdir().unwrap();
        let set = format!("layers.redis.latency.ms={ms}");
        let out = run(dir.path(), "write_back_crash", &[&set]);
        assert!(out.status.success(), "{ms} ms: {}", stderr(&out));
        let s = summary(dir.path());
        // Every measured read completes in a row: none is lost to the time series.
        let completed: u64 = fs::read_to_string(dir.path().join("out/timeseries.csv"))
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| l.split(',').nth(5).unwrap().parse::<u64>().unwrap())
            .sum();
        let reads = s["reads"].as_u64().unwrap();
        let failed = s["failed_requests"].as_u64().unwrap();
        assert!(
            completed <= reads && completed + failed >= reads,
            "{completed} {reads} {failed}"
        );
    }
}

/// `--set workload.flush_interval_s=1e-9` never finished: 6e10 flush events in 60 s
/// (and below 1 ns the interval rounded to 0 and the timer fired forever at t = 0).
#[test]
fn a_flush_interval_far_below_the_requests_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    for v in ["1e-9", "1e-12"] {
        let set = format!("workload.flush_interval_s={v}");
        let out = run(dir.path(), "write_back_crash", &[&set]);
        let err = refused(&out, "workload.flush_interval_s");
        assert!(err.contains("must be at least"), "{err}");
    }
    // The scenario's own suggestion, ten times as often, still runs.
    let out = run(
        dir.path(),
        "write_back_crash",
        &["workload.flush_interval_s=0.1"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

/// `keys` at its allowed maximum aborted allocating 34 GB, `keys = 10^9` took 7.8 GB
/// without a word: the database kept a version for every key of the key space. It now
/// keeps an array for the keys a run can reach and a map above.
#[test]
fn a_huge_key_space_costs_the_keys_a_run_touches() {
    for keys in ["workload.keys=4294967294", "workload.keys=1000000000"] {
        let p = plan("app_tier", &[keys]);
        let engine = Engine::new(&p);
        assert!(
            engine.database_bytes() <= 16 << 20,
            "{keys}: {}",
            engine.database_bytes()
        );
        assert_eq!(engine.database_bytes(), Estimate::database_at_start(&p));
        let total = Estimate::of(&p).total();
        assert!(total < 300_000_000, "{keys}: {}", Estimate::of(&p));
    }
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        "app_tier",
        &[
            "workload.keys=4294967294",
            "requests=200000",
            "warmup_requests=0",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(summary(dir.path())["requests"], 200_000);
}

/// `--set layers.db.latency.sigma=10` on a lognormal database grew to 23 GB: a mean of
/// 10^22 ms puts completions centuries ahead, and the time series grew to reach them.
#[test]
fn a_latency_longer_than_the_run_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), "app_tier", &["layers.db.latency.sigma=10"]);
    let err = refused(&out, "layers.db.latency.sigma");
    assert!(err.contains("sigma must be at most 4.6"), "{err}");
    let out = run(
        dir.path(),
        "app_tier",
        &[r#"layers.db.latency={ dist = "pareto", scale_ms = 1, shape = 0.9 }"#],
    );
    refused(&out, "layers.db.latency.shape");
}

/// `workload.rate=1e-6` reached 16.7 GB and `rate=0.001` wrote a 725 MB
/// timeseries.csv: on app_tier they are 31,688 and 31.7 simulated years, past the
/// 10-year bound; on hot_key_stampede 0.001 is 1.9 years, run with coarser buckets.
#[test]
fn a_rate_too_low_is_refused_or_coarsened() {
    let dir = tempfile::tempdir().unwrap();
    for rate in ["workload.rate=1e-6", "workload.rate=0.001"] {
        let out = run(dir.path(), "app_tier", &[rate]);
        let err = refused(&out, "workload.rate");
        assert!(err.contains("10 simulated years"), "{err}");
    }
    let out = run(dir.path(), "hot_key_stampede", &["workload.rate=0.001"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let s = summary(dir.path());
    assert_eq!(s["bucket_coarsened_from_s"], 0.1);
    let bytes = fs::metadata(dir.path().join("out/timeseries.csv"))
        .unwrap()
        .len();
    assert!(timeseries_rows(dir.path()) <= MAX_BUCKETS as usize);
    assert!(bytes < 10_000_000, "{bytes} bytes");
}

/// `requests=10^15` was accepted, a run of years.
#[test]
fn too_many_requests_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), "app_tier", &["requests=1000000000000000"]);
    refused(&out, "requests");
    // Given as a duration, the same count names the duration.
    let out = run(
        dir.path(),
        "write_back_crash",
        &["duration_s=300000000", "workload.rate=1000000"],
    );
    refused(&out, "duration_s");
}

/// A lock's poll at the clock's resolution polled forever at one instant.
#[test]
fn a_poll_below_the_clock_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        "hot_key_stampede",
        &[
            "layers.redis.stampede.mode=lock",
            "layers.redis.stampede.poll_ms=1e-12",
        ],
    );
    refused(&out, "layers.redis.stampede.poll_ms");
}

/// A run that outlasts its expected span (here an origin of one connection draining
/// about 20 s of queries after 2 s of arrivals, at 50 µs buckets) keeps MAX_ROWS rows
/// and says where it cut.
#[test]
fn a_series_longer_than_expected_is_cut_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        "hot_key_stampede",
        &[
            "requests=2000",
            "warmup_requests=0",
            "layers.db.connections=1",
            "layers.redis.ttl_s=0.001",
            "metrics.bucket_s=0.00005",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let s = summary(dir.path());
    let cut = s["timeseries_cut_at_s"].as_f64().unwrap();
    assert!((cut - MAX_ROWS as f64 * 0.00005).abs() < 1e-6, "{cut}");
    assert!(timeseries_rows(dir.path()) <= MAX_ROWS);
    assert!(stdout(&out).contains("timeseries.csv: no rows from"));
}

/// The estimate refuses, names the limit and the largest part's key; `--max-memory`
/// sets the limit for `run`, `sweep` (shared by the parallel jobs) and `validate`.
#[test]
fn max_memory_refuses_a_run_above_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario("app_tier");
    let out = tiersim(
        dir.path(),
        &["run", &path, "-q", "--out", "out", "--max-memory", "20MB"],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("(estimate), more than the 20.0 MB set by --max-memory")
            && err.contains("lower `workload.keys`"),
        "{err}"
    );
    let out = tiersim(dir.path(), &["validate", &path, "--max-memory", "1GiB"]);
    let text = stdout(&out);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        text.contains("memory: limit 1.07 GB set by --max-memory; about"),
        "{text}"
    );
    assert!(text.contains("[workload.keys]"), "{text}");
    let out = tiersim(dir.path(), &["validate", &path, "--max-memory", "20MB"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = tiersim(
        dir.path(),
        &[
            "sweep",
            &path,
            "--grid",
            "layers.redis.capacity=1000,2000",
            "--jobs",
            "2",
            "--max-memory",
            "60MB",
            "-q",
            "--out",
            "sweep",
        ],
    );
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("each of 2 parallel jobs"), "{err}");
    let out = tiersim(dir.path(), &["validate", &path, "--max-memory", "lots"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// The estimate is the one account of a run's stores: a new engine's stores and
/// database are what it says, on every scenario and on the variants that change which
/// index a cache uses (hash, dense, sized in bytes) and the database's key array.
#[test]
fn the_estimate_agrees_with_the_engine() {
    let mut cases: Vec<(&str, Vec<&str>)> = [
        "app_tier",
        "quickstart",
        "cdn_outage",
        "hot_key_stampede",
        "layered_ttls",
        "private_on_shared_cache",
        "sync_expiry",
        "write_back_crash",
        "write_strategies",
    ]
    .into_iter()
    .map(|n| (n, Vec::new()))
    .collect();
    cases.push(("app_tier", vec!["layers.redis.capacity=900000"]));
    cases.push(("app_tier", vec!["workload.missing_ratio=0.1"]));
    cases.push(("app_tier", vec!["workload.keys=100000000"]));
    cases.push(("quickstart", vec!["layers.l1.instances=1"]));
    for (name, sets) in &cases {
        let p = plan(name, sets);
        let engine = Engine::new(&p);
        assert_eq!(
            engine.store_bytes() as u64,
            Estimate::stores_at_start(&p),
            "{name} {sets:?}"
        );
        assert_eq!(
            engine.database_bytes(),
            Estimate::database_at_start(&p),
            "{name} {sets:?}"
        );
        for s in Estimate::stores(&p) {
            assert!(s.start <= s.peak, "{name} {sets:?}: {s:?}");
        }
    }
}

// The fuzz harness's findings (`fuzz/`, README "Testing"), each on the input it saved.

/// `tiersim replay` with `args` on `trace` (written into `dir`), into `dir/out`.
fn replay(dir: &Path, trace: (&str, &[u8]), args: &[&str]) -> std::process::Output {
    fs::write(dir.join(trace.0), trace.1).unwrap();
    let mut all = vec!["replay", trace.0, "--out", "out", "--quiet"];
    all.extend(args);
    tiersim(dir, &all)
}

/// A run's CSV file as its lines.
fn lines(dir: &Path, file: &str) -> Vec<String> {
    fs::read_to_string(dir.join("out").join(file))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

/// Fuzz case 3001 of seed 1 (cdn_outage with a trace workload) panicked in
/// `read_ahead.rs` ("index 32 out of bounds for length 32"): clients were drawn with
/// each batch of generated keys, and a trace has none, so its requests read past the
/// batch (and, before that, all came from client 0). Two clients in two regions before
/// a CDN of two PoPs: the run finishes, and reads come from both regions. The CDN's
/// round trip is 10 ms from `eu`, 20 ms from `us`, the database 1 ms, so a read takes
/// 10 or 11 ms from `eu` and 20 or 21 from `us`: the fastest read under 15 ms and the
/// slowest over it show both. Each read's region is a fair coin (clients drawn
/// uniformly, one per region), so 360 reads all in one region has probability 2^-359.
#[test]
fn a_trace_workload_with_clients_before_pops_runs() {
    let dir = tempfile::tempdir().unwrap();
    let trace: String = (0..400)
        .map(|i| format!("{} 1 0 {i}\n", i * 7 % 97))
        .collect();
    fs::write(dir.path().join("trace.lis"), trace).unwrap();
    fs::write(
        dir.path().join("s.toml"),
        r#"
name = "trace_pops"
seed = 1
warmup_requests = 40

[workload]
clients = 2
rate = 1000.0
trace = { path = "trace.lis", format = "arc_lis" }
regions = [{ name = "eu", share = 0.5 }, { name = "us", share = 0.5 }]

[[layers]]
name = "cdn"
kind = "cdn"
capacity = 50
pops = 2
rtt_ms = { eu = 10, us = 20 }

[[layers]]
name = "db"
kind = "database"
connections = 4
latency = { dist = "constant", ms = 1.0 }
"#,
    )
    .unwrap();
    let out = tiersim(dir.path(), &["run", "s.toml", "-q", "--out", "out"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(summary(dir.path())["reads"], 360);
    let mut r = csv::Reader::from_path(dir.path().join("out/latency.csv")).unwrap();
    let ms: Vec<f64> = r
        .deserialize::<tiersim::metrics::CdfPoint>()
        .map(|p| p.unwrap().latency_ms)
        .collect();
    let (fastest, slowest) = (ms[0], ms[ms.len() - 1]);
    assert!(
        fastest < 15.0 && slowest > 15.0,
        "{fastest} .. {slowest} ms"
    );
}

/// Fuzz cases 2613 (`hot_key_stampede`, `duration_s = 0.001`: every request in the
/// warm-up) and 7642 (`layered_ttls`, `write_ratio = 1`: no read) wrote a
/// `timeseries.csv` or `latency.csv` of zero bytes, and `tiersim plot` then failed on
/// them. Every CSV file has its header; `plot` (and `run --plot`) says there is nothing
/// to draw, draws no empty chart, and exits 0 as the run did.
#[test]
fn a_run_that_measures_nothing_has_headers_and_plots_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(dir.path(), "hot_key_stampede", &["duration_s=0.001"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(summary(dir.path())["requests"], 0);
    for (file, first) in [
        ("timeseries.csv", "t_s,requests,origin_requests,"),
        ("latency.csv", "quantile,latency_ms"),
    ] {
        let l = lines(dir.path(), file);
        assert_eq!(l.len(), 1, "{file}: {l:?}");
        assert!(l[0].starts_with(first), "{file}: {l:?}");
    }
    let out = tiersim(dir.path(), &["plot", "out"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("nothing to draw in out"), "{err}");
    assert!(
        err.contains("timeseries.csv has no rows (the run measured nothing"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    let path = scenario("hot_key_stampede");
    let out = tiersim(
        dir.path(),
        &[
            "run",
            &path,
            "-q",
            "--out",
            "out",
            "--plot",
            "--set",
            "duration_s=0.001",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stderr(&out).contains("nothing to draw"), "{}", stderr(&out));
    let charts = fs::read_dir(dir.path().join("out"))
        .unwrap()
        .filter(|e| {
            let p = e.as_ref().unwrap().path();
            p.extension().is_some_and(|x| x == "png" || x == "svg")
        })
        .count();
    assert_eq!(charts, 0, "no empty chart is drawn");

    // Writes only: the origin's load is drawn, the latency of reads is not.
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        "layered_ttls",
        &[
            "workload.write_ratio=1.0",
            "requests=3000",
            "warmup_requests=300",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(lines(dir.path(), "latency.csv"), ["quantile,latency_ms"]);
    let out = tiersim(dir.path(), &["plot", "out", "--format", "svg"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("latency.csv has no rows (no read was measured)"),
        "{err}"
    );
    assert!(dir.path().join("out/origin_rps.svg").exists(), "{err}");
    assert!(!dir.path().join("out/latency_ccdf.svg").exists(), "{err}");
}

/// Fuzz case 1535 (`replay --policy s3fifo:ghost_ratio=1e15`) aborted allocating
/// 4 PB: a ghost list's size was unbounded. A ghost list remembers at most a few times
/// the cache (the papers keep one cache's worth or less): larger is refused, naming the
/// parameter, in `replay` and in a scenario alike; 2Q's `kout` likewise.
#[test]
fn ghost_lists_are_bounded() {
    let dir = tempfile::tempdir().unwrap();
    for policy in ["s3fifo:ghost_ratio=1e15", "2q:kout=1e15"] {
        let out = replay(
            dir.path(),
            ("t.lirs", b"1\n2\n1\n"),
            &["--format", "lirs", "--policy", policy, "--size", "10"],
        );
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{err}");
        let key = &policy[policy.find(':').unwrap() + 1..policy.find('=').unwrap()];
        assert!(
            err.contains(&format!("`{key}`")) && err.contains("from 0 to 4"),
            "{err}"
        );
    }
    let out = run(
        dir.path(),
        "app_tier",
        &["layers.redis.policy=s3fifo:ghost_ratio=1e15"],
    );
    let err = refused(&out, "layers.redis.policy");
    assert!(
        err.contains("`ghost_ratio`") && err.contains("from 0 to 4"),
        "{err}"
    );
    let out = replay(
        dir.path(),
        ("t.lirs", b"1\n2\n1\n"),
        &[
            "--format",
            "lirs",
            "--policy",
            "s3fifo:ghost_ratio=4",
            "--size",
            "10",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Fuzz: an `arc_lis` record `0 18446744073709551615 0 0` asked for 2^64 pages (a
/// replay that never ends). It is a bad record, named by its line, and `--skip-bad`
/// counts it like any other.
#[test]
fn an_arc_lis_record_of_endless_pages_is_a_bad_record() {
    let dir = tempfile::tempdir().unwrap();
    let trace: (&str, &[u8]) = ("t.lis", b"1 2 0 0\n0 18446744073709551615 0 1\n5 1 0 2\n");
    let flags = ["--format", "arc_lis", "--policy", "lru", "--size", "10"];
    let out = replay(dir.path(), trace, &flags);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("t.lis: line 2: n_blocks is 18446744073709551615; a line asks for 1 to"),
        "{err}"
    );
    let mut with_budget = flags.to_vec();
    with_budget.extend(["--skip-bad", "1"]);
    let out = replay(dir.path(), trace, &with_budget);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut r = csv::Reader::from_path(dir.path().join("out/replay.csv")).unwrap();
    let headers = r.headers().unwrap().clone();
    let row = r.records().next().unwrap().unwrap();
    let col = |name: &str| &row[headers.iter().position(|h| h == name).unwrap()];
    assert_eq!(col("requests"), "3", "the good lines' three pages");
    assert_eq!(col("bad_records_skipped"), "1");
}

/// `private_on_shared_cache --set workload.clients=5000000` is a browser cache per
/// client, 6.4 GB: the estimate refuses it before anything is allocated when it is over
/// `--max-memory`, naming the key to lower; `validate` says the same.
#[test]
fn millions_of_browser_caches_are_refused_by_the_estimate() {
    let dir = tempfile::tempdir().unwrap();
    let path = scenario("private_on_shared_cache");
    for command in ["run", "validate"] {
        let out = tiersim(
            dir.path(),
            &[
                command,
                &path,
                "--set",
                "workload.clients=5000000",
                "--max-memory",
                "200MB",
            ],
        );
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{command}: {err}");
        assert!(
            err.contains("more than the 200 MB set by --max-memory")
                && err.contains("5000000 browser caches")
                && err.contains("workload.clients"),
            "{command}: {err}"
        );
    }
    assert!(!dir.path().join("out").exists());
}

/// `sweep --replications` had no upper bound (and its zero was reported as a grid
/// axis): a sweep runs at most `MAX_JOBS` jobs, points times replications, counted
/// before any point is built; a range gives at most 100,000 values and needs finite
/// bounds.
#[test]
fn sweep_jobs_are_bounded() {
    use tiersim::sweep::MAX_JOBS;
    let dir = tempfile::tempdir().unwrap();
    let path = scenario("app_tier");
    let sweep = |args: &[&str]| {
        let mut all = vec!["sweep", path.as_str(), "-q", "--out", "sweep"];
        all.extend(args);
        let out = tiersim(dir.path(), &all);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
        err
    };
    let err = sweep(&["--replications", "0"]);
    assert!(
        err.contains("--replications 0: must be at least 1"),
        "{err}"
    );
    let err = sweep(&[
        "--replications",
        "4000000000",
        "--grid",
        "layers.redis.ttl_s=10,20",
    ]);
    assert!(
        err.contains("--replications 4000000000: 2 grid points x 4000000000 replications")
            && err.contains(&format!("more than the {MAX_JOBS} jobs")),
        "{err}"
    );
    let err = sweep(&[
        "--grid",
        "layers.redis.ttl_s=1..1000 step 1",
        "--grid",
        "layers.redis.capacity=1..1000 step 1",
    ]);
    assert!(
        err.contains("sweep: 1000000 grid points x 1 replications"),
        "{err}"
    );
    let err = sweep(&["--grid", "layers.redis.ttl_s=1..1e300 log 1000000000000"]);
    assert!(err.contains("a range gives at most 100000"), "{err}");
    let err = sweep(&["--grid", "layers.redis.ttl_s=1..inf step 1"]);
    assert!(err.contains("must be finite"), "{err}");
    assert!(!dir.path().join("sweep/sweep.csv").exists());
}

/// Ghost lists up to 4 times the cache are allowed (see `ghost_lists_are_bounded`), and
/// each ghost reserves 24 bytes: the estimate counts the ghosts above the default list
/// (S3-FIFO 0.9, 2Q 0.5 of the cache), so it stays above what the run allocates.
#[test]
fn the_estimate_counts_long_ghost_lists() {
    let capacity = 1_000_000u64;
    let total = |policy: &str| {
        let p = plan(
            "app_tier",
            &[
                &format!("layers.redis.capacity={capacity}"),
                &format!("layers.redis.policy={policy}"),
            ],
        );
        Estimate::of(&p).total()
    };
    for (long, default, extra) in [
        ("s3fifo:ghost_ratio=4", "s3fifo", 4.0 - 0.9),
        ("2q:kout=4", "2q", 4.0 - 0.5),
    ] {
        let more = total(long) - total(default);
        let ghosts = (24.0 * extra * capacity as f64) as u64;
        assert!(
            more >= ghosts,
            "{long}: {more} more bytes, {ghosts} ghosts' worth"
        );
    }
}

/// A single-PoP CDN with a round trip was refused a stampede defence as "a layer of
/// several nodes (1)": one PoP is one node, and the defence sees all its reads. Two
/// PoPs are still refused, naming the key to change.
#[test]
fn a_single_pop_cdn_takes_a_stampede_defence() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(
        dir.path(),
        "private_on_shared_cache",
        &[
            "requests=20000",
            "warmup_requests=2000",
            "layers.cdn.stampede.mode=coalesce",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let s = summary(dir.path());
    let cdn = &s["layers"][1];
    assert_eq!(cdn["name"], "cdn");
    let shares: f64 = s["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["served_share"].as_f64().unwrap())
        .sum();
    assert!((shares - 1.0).abs() < 1e-12, "shares add to {shares}");
    let two = run(
        dir.path(),
        "private_on_shared_cache",
        &["layers.cdn.pops=2", "layers.cdn.stampede.mode=coalesce"],
    );
    let err = refused(&two, "layers.cdn.stampede");
    assert!(err.contains("pops = 1"), "{err}");
}
