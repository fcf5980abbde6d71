//! `tiersim sweep`: order-independent results, resume after an interruption, honest CIs.

use std::fs;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use tiersim::scenario::{Format, Source};
use tiersim::sweep::Sweep;

use crate::support::{repo, stderr, tiersim, tiersim_ok};

fn sorted_lines(path: &std::path::Path) -> Vec<String> {
    let text = fs::read_to_string(path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines.sort();
    lines
}

const GRID: [&str; 4] = [
    "--grid",
    "layers.redis.ttl_s=5,30",
    "--grid",
    "layers.l1.policy=lru,fifo,lfu",
];

fn sweep_args<'a>(out: &'a str, jobs: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let quickstart = repo().join("scenarios/app_tier.toml");
    let quickstart: &'static str =
        Box::leak(quickstart.to_str().unwrap().to_owned().into_boxed_str());
    let mut args = vec![
        "sweep",
        quickstart,
        "--out",
        out,
        "--jobs",
        jobs,
        "-q",
        "--replications",
        "2",
        "--set",
        // Long enough (about 0.1 s a job) that the interrupt lands while jobs remain.
        "requests=100000",
        "--set",
        "warmup_requests=10000",
    ];
    args.extend(GRID);
    args.extend(extra);
    args
}

#[test]
fn jobs_one_and_two_give_the_same_rows() {
    let dir = tempfile::tempdir().unwrap();
    for (out, jobs) in [("one", "1"), ("two", "2")] {
        tiersim_ok(dir.path(), &sweep_args(out, jobs, &[]));
    }
    let one = sorted_lines(&dir.path().join("one/sweep.csv"));
    assert_eq!(one, sorted_lines(&dir.path().join("two/sweep.csv")));
    // 6 points x 2 replications x 3 layers, plus the header.
    assert_eq!(one.len(), 6 * 2 * 3 + 1);
    assert_eq!(
        fs::read(dir.path().join("one/sweep_summary.csv")).unwrap(),
        fs::read(dir.path().join("two/sweep_summary.csv")).unwrap(),
        "the summary is written in grid order, not completion order"
    );
}

#[test]
fn an_interrupted_sweep_resumes_to_the_same_rows() {
    let dir = tempfile::tempdir().unwrap();
    tiersim_ok(dir.path(), &sweep_args("full", "1", &[]));

    let mut child = Command::new(env!("CARGO_BIN_EXE_tiersim"))
        .args(sweep_args("cut", "1", &[]))
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let csv = dir.path().join("cut/sweep.csv");
    let start = Instant::now();
    // Wait for a few finished jobs (header + 3 rows each), then interrupt.
    while fs::read_to_string(&csv).map_or(0, |t| t.lines().count()) < 1 + 3 * 3 {
        assert!(start.elapsed() < Duration::from_secs(60), "no progress");
        if child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    // The signal may land after the last job, while the sweep writes its summary: only
    // a sweep the signal ended (not one that exited 0) must be unfinished.
    let interrupted =
        std::os::unix::process::ExitStatusExt::signal(&child.wait().unwrap()).is_some();
    let partial = sorted_lines(&csv).len();
    if interrupted {
        assert!(
            partial < 6 * 2 * 3 + 1,
            "the interrupt left the sweep unfinished"
        );
    }
    tiersim_ok(dir.path(), &sweep_args("cut", "2", &["--resume"]));
    assert_eq!(
        sorted_lines(&csv),
        sorted_lines(&dir.path().join("full/sweep.csv"))
    );
    assert_eq!(
        fs::read(dir.path().join("cut/sweep_summary.csv")).unwrap(),
        fs::read(dir.path().join("full/sweep_summary.csv")).unwrap()
    );
}

#[test]
fn resume_drops_a_torn_last_job() {
    let dir = tempfile::tempdir().unwrap();
    tiersim_ok(dir.path(), &sweep_args("s", "2", &[]));
    let csv = dir.path().join("s/sweep.csv");
    let expected = sorted_lines(&csv);
    // Cut the file in the middle of the last job's second row.
    let text = fs::read_to_string(&csv).unwrap();
    let keep: Vec<&str> = text.lines().collect();
    let torn = format!(
        "{}\n{}",
        keep[..keep.len() - 2].join("\n"),
        &keep[keep.len() - 2][..20]
    );
    fs::write(&csv, torn).unwrap();
    let o = tiersim_ok(dir.path(), &sweep_args("s", "2", &["--resume"]));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("1 runs, 11 kept"),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert_eq!(sorted_lines(&csv), expected);
}

#[test]
fn bad_grids_are_rejected_before_anything_runs() {
    let dir = tempfile::tempdir().unwrap();
    let q = repo().join("scenarios/app_tier.toml");
    let q = q.to_str().unwrap();
    for (grid, phrase) in [
        (
            "layers.redis.capacity=100,0",
            "grid point layers.redis.capacity=0",
        ),
        ("layers.redis.ttl_s=10..1 step 1", "needs A <= B"),
        ("layers.nosuch.ttl_s=1,2", "no element named `nosuch`"),
        ("novalues", "expected KEY=V1,V2"),
    ] {
        let o = tiersim(
            dir.path(),
            &["sweep", q, "--grid", grid, "--out", "x", "-q"],
        );
        assert_eq!(o.status.code(), Some(2), "{grid}: {}", stderr(&o));
        assert!(stderr(&o).contains(phrase), "{grid}: {}", stderr(&o));
        assert!(
            !dir.path().join("x").exists(),
            "nothing is written for a bad grid"
        );
    }
}

/// Che's approximation for LRU, N = 10,000, Zipf 0.8, C = 1,000; computed as in
/// `theory.rs`.
fn che_point() -> f64 {
    let q = tiersim::workload::PopularitySpec::Zipf { alpha: 0.8 }.probabilities(10_000);
    let occupancy = |t: f64| q.iter().map(|&p| 1.0 - (-p * t).exp()).sum::<f64>();
    let (mut lo, mut hi) = (0.0, 1e9);
    for _ in 0..200 {
        let mid = (lo + hi) / 2.0;
        if occupancy(mid) < 1_000.0 {
            lo = mid
        } else {
            hi = mid
        }
    }
    q.iter().map(|&p| p * (1.0 - (-p * lo).exp())).sum()
}

/// A 95% confidence interval should cover the true value 95% of the time, so at least
/// 9 of 10 independent intervals cover it with probability 0.914 (binomial); seeds are
/// fixed, so the outcome is reproducible. The covered value is Che's approximation,
/// whose own error at N = 10,000, C = 1,000 (about 1e-4) is small beside the
/// intervals' half-width (about 1e-3).
#[test]
fn confidence_intervals_cover_the_che_value() {
    let expected = che_point();
    let toml = r#"
        name = "ci"
        requests = 120_000
        warmup_requests = 20_000
        [workload]
        keys = 10_000
        popularity = { dist = "zipf", alpha = 0.8 }
        rate = 1000.0
        [[layers]]
        name = "cache"
        kind = "redis"
        capacity = 1000
        [[layers]]
        name = "db"
        kind = "database"
        latency = { dist = "constant", ms = 0 }
        [sweep]
        replications = 10
    "#;
    let dir = tempfile::tempdir().unwrap();
    let mut covered = 0;
    for seed in 1..=10u64 {
        let source = Source::new("ci", toml, Format::Toml);
        let sweep = Sweep::new(source, vec![], vec![], None, Some(seed)).unwrap();
        let out = dir.path().join(seed.to_string());
        sweep.run(&out, 2, false, &|| {}).unwrap();
        let mut reader = csv::Reader::from_path(out.join("sweep_summary.csv")).unwrap();
        let headers = reader.headers().unwrap().clone();
        let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
        let row = reader
            .records()
            .map(Result::unwrap)
            .find(|r| &r[col("layer")] == "cache")
            .unwrap();
        let mean: f64 = row[col("hit_ratio_mean")].parse().unwrap();
        let half: f64 = row[col("hit_ratio_ci95")].parse().unwrap();
        eprintln!("seed {seed}: {mean:.5} ± {half:.5} vs Che {expected:.5}");
        assert!(half > 0.0 && half < 0.01);
        if (mean - expected).abs() <= half {
            covered += 1;
        }
    }
    assert!(
        covered >= 9,
        "{covered} of 10 intervals cover Che's value {expected:.5}"
    );
}

/// Sweeping a node count of the whole path: each row says how many nodes its layer had
/// and the latency of the reads that layer answered.
#[test]
fn sweep_rows_carry_nodes_and_served_latency() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = repo().join("scenarios/quickstart.toml");
    tiersim_ok(
        dir.path(),
        &[
            "sweep",
            scenario.to_str().unwrap(),
            "--out",
            "out",
            "-q",
            "--set",
            "requests=20000",
            "--set",
            "warmup_requests=2000",
            "--grid",
            "layers.redis.shards=1,4",
        ],
    );
    let mut reader = csv::Reader::from_path(dir.path().join("out/sweep.csv")).unwrap();
    let headers = reader.headers().unwrap().clone();
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let (shards, layer, nodes) = (col("layers.redis.shards"), col("layer"), col("nodes"));
    let (p50, p99) = (col("served_p50_ms"), col("served_p99_ms"));
    let mut redis_rows = 0;
    for row in reader.records() {
        let row = row.unwrap();
        let (lo, hi): (f64, f64) = (row[p50].parse().unwrap(), row[p99].parse().unwrap());
        assert!(lo <= hi, "{row:?}");
        if &row[layer] == "redis" {
            redis_rows += 1;
            assert_eq!(&row[nodes], &row[shards], "{row:?}");
        }
    }
    assert_eq!(redis_rows, 2);
}

/// Issue 16: `--resume` after changing `--seed` or `--set` kept the old jobs ("0 runs,
/// 2 kept") and mixed two configurations in one `sweep.csv`.
#[test]
fn resume_refuses_a_folder_another_configuration_wrote() {
    let dir = tempfile::tempdir().unwrap();
    tiersim_ok(dir.path(), &sweep_args("s", "2", &[]));
    let csv = dir.path().join("s/sweep.csv");
    let before = fs::read(&csv).unwrap();
    for (change, what) in [
        (vec!["--seed", "99"], "seed"),
        (
            vec!["--set", "layers.redis.capacity=500"],
            "layers.1.capacity",
        ),
        (vec!["--grid", "workload.rate=500,1000"], "the grid"),
    ] {
        let mut args = sweep_args("s", "2", &["--resume"]);
        args.extend(change);
        let o = tiersim(dir.path(), &args);
        assert_eq!(o.status.code(), Some(2), "{what}: {}", stderr(&o));
        let e = stderr(&o);
        assert!(
            e.contains("written by another sweep") && e.contains(what),
            "{e}"
        );
        assert_eq!(fs::read(&csv).unwrap(), before, "{what}: rows untouched");
    }
    // The same sweep resumes, with nothing left to run.
    let o = tiersim_ok(dir.path(), &sweep_args("s", "2", &["--resume"]));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("0 runs, 12 kept"), "{out}");
}

/// A sweep without `--resume` into a folder that holds another sweep's rows replaces
/// them whole; a folder without a fingerprint is not resumed.
#[test]
fn a_new_sweep_replaces_another_ones_rows_whole() {
    let dir = tempfile::tempdir().unwrap();
    tiersim_ok(dir.path(), &sweep_args("s", "2", &[]));
    let mut args = sweep_args("s", "2", &[]);
    args.extend(["--seed", "5"]);
    tiersim_ok(dir.path(), &args);
    let rows = sorted_lines(&dir.path().join("s/sweep.csv"));
    assert_eq!(rows.len(), 6 * 2 * 3 + 1, "only the new sweep's rows");
    fs::remove_file(dir.path().join("s/sweep.json")).unwrap();
    let o = tiersim(dir.path(), &sweep_args("s", "2", &["--resume"]));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("sweep.json"), "{}", stderr(&o));
}

/// Issue 16: the same axis twice silently kept the second; repeated values ran
/// identical jobs and narrowed the confidence interval.
#[test]
fn an_axis_given_twice_or_a_repeated_value_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut twice = sweep_args("t", "1", &[]);
    twice.extend(["--grid", "layers.redis.ttl_s=60"]);
    let o = tiersim(dir.path(), &twice);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("layers.redis.ttl_s") && stderr(&o).contains("twice"));
    let mut repeated = sweep_args("r", "1", &[]);
    repeated.extend(["--grid", "workload.rate=100,200,100"]);
    let o = tiersim(dir.path(), &repeated);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("100 is repeated"), "{}", stderr(&o));
    assert!(!dir.path().join("t").exists() && !dir.path().join("r").exists());
}
