//! Issue 16, steady state and one window: the automatic warm-up (MSER-5), the trend
//! warning, and the origin's queue figures over the measured window.

use std::fs;

use serde_json::Value;
use tiersim::output::report::Report;
use tiersim::scenario::{Override, Source};

use crate::support::{repo, stderr, stdout, tiersim};

/// The quickstart with `sets` applied.
fn quickstart(sets: &[&str]) -> Report {
    let set: Vec<Override> = sets.iter().map(|s| Override::parse(s).unwrap()).collect();
    let (_, plan) = Source::quickstart().plan(&set).unwrap();
    tiersim::simulate(&plan)
}

/// The database's share of reads, and the origin's mean load.
fn headline(r: &Report) -> (f64, f64) {
    (r.origin.mean_rps, r.layers.last().unwrap().served_share)
}

/// Mean and sample standard deviation.
fn mean_sd(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let m = x.iter().sum::<f64>() / n;
    let v = x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (n - 1.0);
    (m, v.sqrt())
}

/// The quickstart as shipped (5M requests, `warmup_requests = "auto"`) reports the
/// steady state a much longer run measures: 12M requests, the first 4M (800 s, well
/// past the ~450 s the caches take to fill) left out.
///
/// Tolerance, from the replications' spread: three replications (seeds 1 to 3) give
/// the sample sd `s` of one quickstart's estimate over its window `W_q`. The long run's
/// estimate over its window `W_ref` has sd about `s √(W_q / W_ref)` (a time average's
/// variance falls as 1/window), so the difference of the replications' mean and the
/// long run has sd `s √(1/3 + W_q / W_ref)`; it must lie within Student's t on 2
/// degrees of freedom at 99% two-sided (9.925) of those. The unsteady figures of
/// issue 16 (origin 1,399/s against a steady ~880/s) miss this by an order of magnitude.
#[test]
fn the_quickstart_reports_steady_state_numbers() {
    let reps: Vec<Report> = (1..=3)
        .map(|seed| quickstart(&[&format!("seed={seed}")]))
        .collect();
    for r in &reps {
        assert!(r.steady, "seed {}: {:?}", r.seed, r.steady_reason);
        let mser = r.warmup_mser_s.expect("an automatic warm-up");
        assert!(r.warmup_s >= mser, "the cut is rounded up to a checkpoint");
        assert!(r.warmup_requests > 0);
        assert_eq!(r.requests + r.warmup_requests, 5_000_000);
    }
    let long = quickstart(&["seed=100", "requests=12000000", "warmup_requests=4000000"]);
    assert!(long.steady, "{:?}", long.steady_reason);
    let w_q = reps.iter().map(|r| r.duration_s).sum::<f64>() / 3.0;
    let ratio = (1.0 / 3.0 + w_q / long.duration_s).sqrt();
    let (rps_ref, db_ref) = headline(&long);
    let rps: Vec<f64> = reps.iter().map(|r| headline(r).0).collect();
    let db: Vec<f64> = reps.iter().map(|r| headline(r).1).collect();
    for (name, x, reference) in [("origin mean", rps, rps_ref), ("db share", db, db_ref)] {
        let (m, s) = mean_sd(&x);
        let tol = 9.925 * s * ratio;
        eprintln!(
            "{name}: replications {x:?}, mean {m}, sd {s}; long run {reference}, tolerance {tol}"
        );
        assert!(
            (m - reference).abs() <= tol,
            "{name}: quickstart {m} (replications {x:?}) vs long run {reference}, tolerance {tol}"
        );
    }
}

/// Issue 16's report: the quickstart as it was (1M requests, 100k warm-up) still
/// trends, and now says so in `summary.json` and the table.
#[test]
fn a_window_that_still_trends_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let o = tiersim(
        dir.path(),
        &[
            "run",
            "-q",
            "--out",
            "out",
            "--set",
            "requests=1000000",
            "--set",
            "warmup_requests=100000",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let summary: Value =
        serde_json::from_str(&fs::read_to_string(dir.path().join("out/summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["steady"], false);
    let why = summary["steady_reason"].as_str().unwrap();
    assert!(
        why.contains("still trends") && why.contains("origin load"),
        "{why}"
    );
    assert!(stdout(&o).contains("warning: not steady: the measured window still trends"));
}

/// `warmup_requests = "auto"` from the command line: the table and `summary.json` give
/// the cut in requests and seconds; everything measured is what arrived after it.
#[test]
fn auto_warmup_reports_its_cut() {
    let dir = tempfile::tempdir().unwrap();
    let o = tiersim(
        dir.path(),
        &[
            "run",
            "-q",
            "--out",
            "out",
            "--set",
            "requests=600000",
            "--set",
            "warmup_requests=auto",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
    let s: Value =
        serde_json::from_str(&fs::read_to_string(dir.path().join("out/summary.json")).unwrap())
            .unwrap();
    let (mser, from) = (
        s["warmup_mser_s"].as_f64().unwrap(),
        s["warmup_s"].as_f64().unwrap(),
    );
    // The quickstart's caches are still filling over 120 s: MSER-5 cuts something.
    assert!(mser > 0.0 && from >= mser, "{mser} {from}");
    let left_out = s["warmup_requests"].as_u64().unwrap();
    assert_eq!(s["requests"].as_u64().unwrap() + left_out, 600_000);
    assert!(stdout(&o).contains(&format!(
        "warm-up: auto (MSER-5 on origin load and hit ratio) truncates at {mser:.1} s; \
         measured from {from:.1} s"
    )));
    // The time series keeps the warm-up's rows, for the chart to shade.
    let ts = fs::read_to_string(dir.path().join("out/timeseries.csv")).unwrap();
    assert!(
        ts.lines().nth(1).unwrap().starts_with("0"),
        "rows from time 0"
    );
}

/// A warm-up that is neither a number nor "auto" is bad input: exit 2, naming the key
/// and what is allowed.
#[test]
fn a_bad_warmup_names_what_is_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let o = tiersim(
        dir.path(),
        &["validate", "--set", "warmup_requests=soon"]
            .iter()
            .copied()
            .chain([repo().join("scenarios/app_tier.toml").to_str().unwrap()])
            .collect::<Vec<_>>(),
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    let e = stderr(&o);
    assert!(
        e.contains("warmup_requests") && e.contains("\"auto\"") && e.contains("soon"),
        "{e}"
    );
}

/// Issue 16's queue reproducer: the warm-up's herd still drains through the measured
/// window, where no measured query reaches the origin. Every queue figure covers that
/// window and counts every query: the peak is at least the mean, the time series shows
/// the queue, and its per-bucket time-weighted means, weighted by each bucket's part of
/// the window, average to the run's mean (to float rounding).
#[test]
fn queue_figures_cover_one_window() {
    let dir = tempfile::tempdir().unwrap();
    let path = repo().join("scenarios/hot_key_stampede.toml");
    let mut args = vec!["run", path.to_str().unwrap(), "-q", "--out", "out"];
    for s in [
        "workload.rate=10000",
        "layers.db.latency.ms=100",
        "layers.db.connections=20",
        "layers.redis.ttl_s=5",
    ] {
        args.extend(["--set", s]);
    }
    let o = tiersim(dir.path(), &args);
    assert!(o.status.success(), "{}", stderr(&o));
    let s: Value =
        serde_json::from_str(&fs::read_to_string(dir.path().join("out/summary.json")).unwrap())
            .unwrap();
    let origin = &s["origin"];
    let (mean, peak) = (
        origin["mean_queue"].as_f64().unwrap(),
        origin["peak_queue"].as_u64().unwrap(),
    );
    assert!(mean > 0.0, "the reproducer's queue: {origin}");
    assert!(peak as f64 >= mean, "peak {peak} < mean {mean}");
    let (from, span) = (
        s["warmup_s"].as_f64().unwrap(),
        s["span_s"].as_f64().unwrap(),
    );
    let width = 0.1; // the scenario's metrics.bucket_s
    let text = fs::read_to_string(dir.path().join("out/timeseries.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (t, max, avg) = (col("t_s"), col("origin_queue"), col("origin_queue_mean"));
    let (mut area, mut series_peak) = (0.0, 0);
    for line in lines {
        let f: Vec<&str> = line.split(',').collect();
        let t: f64 = f[t].parse().unwrap();
        let inside = (t + width).min(from + span) - t.max(from);
        area += f[avg].parse::<f64>().unwrap() * inside.max(0.0);
        series_peak = series_peak.max(f[max].parse::<u64>().unwrap());
    }
    assert_eq!(series_peak, peak, "the series' peak is the run's");
    let series_mean = area / span;
    assert!(
        (series_mean - mean).abs() <= 1e-6 * mean,
        "buckets average to {series_mean}, the run's mean is {mean}"
    );
    let u = origin["utilization"].as_f64().unwrap();
    assert!(u > 0.0 && u <= 1.0, "{u}");
}
