//! Load over time (issue 17, first part): rate profiles' arrivals against ∫λ, popularity
//! drift (hot-set shifts and churn) through the generator and the caches, and the
//! profile keys' errors from the real binary.

use std::fs;

use tiersim::SimTime;
use tiersim::base::rng::{Stream, stream};
use tiersim::workload::Workload;

use crate::support::{plan, run, stderr, tiersim};

/// A one-layer path at `rate` (a TOML value) for `duration_s`, every request measured,
/// 1 s buckets.
fn scenario(rate: &str, duration_s: f64, extra: &str) -> String {
    format!(
        r#"
name = "load"
seed = 17
duration_s = {duration_s}
warmup_requests = 0
[workload]
keys = 1000
rate = {rate}
{extra}
[[layers]]
name = "redis"
kind = "redis"
capacity = 100
[[layers]]
name = "db"
kind = "database"
connections = 1000
latency = {{ dist = "constant", ms = 0.1 }}
"#
    )
}

/// ∫ `rate` over `[a, b]` by Simpson's rule on 2,000 intervals: the test's own
/// integral, independent of the library's closed forms (error far below 1e-6 of the
/// counts for these smooth or piecewise shapes; steps are split at their edges).
fn integral(rate: &dyn Fn(f64) -> f64, a: f64, b: f64) -> f64 {
    let n = 2000;
    let h = (b - a) / n as f64;
    let mut s = rate(a) + rate(b - 1e-12);
    for i in 1..n {
        let w = if i % 2 == 1 { 4.0 } else { 2.0 };
        s += w * rate(a + h * i as f64);
    }
    s * h / 3.0
}

/// The chi-square critical value at p = 0.001 for `df` degrees of freedom, by Wilson
/// and Hilferty's cube-root approximation (z = 3.0902; within 0.5% of the exact
/// quantile for df ≥ 30): 88.2 at 50 degrees, 99.6 at 60.
fn chi2_critical(df: usize) -> f64 {
    let k = df as f64;
    let c = 2.0 / (9.0 * k);
    k * (1.0 - c + 3.0902 * c.sqrt()).powi(3)
}

/// Runs `rate` for `buckets` seconds and tests the arrivals per 1 s bucket against
/// ∫λ over it: with `duration_s` stopping the run, the counts are independent Poisson
/// variables of means E_i, so Σ (O_i − E_i)² / E_i is chi-square with `buckets` degrees
/// of freedom (no parameter fitted); every E_i is at least 500, where the normal
/// approximation holds. Refused above the p = 0.001 critical value.
fn arrivals_follow(name: &str, rate_toml: &str, rate: &dyn Fn(f64) -> f64, buckets: usize) {
    let r = run(&scenario(rate_toml, buckets as f64, ""));
    let mut chi2 = 0.0;
    for i in 0..buckets {
        let (a, b) = (i as f64, i as f64 + 1.0);
        let expected = integral(rate, a, b);
        assert!(expected >= 500.0, "{name}: bucket {i} expects {expected}");
        let observed = r
            .timeseries
            .iter()
            .find(|x| (x.t_s - a).abs() < 1e-9)
            .map_or(0, |x| x.requests) as f64;
        chi2 += (observed - expected).powi(2) / expected;
    }
    let critical = chi2_critical(buckets);
    assert!(
        chi2 < critical,
        "{name}: chi-square {chi2:.1} over {buckets} buckets, critical {critical:.1}"
    );
}

#[test]
fn steps_arrive_as_their_integral() {
    let rate = |t: f64| {
        if t < 20.0 {
            1000.0
        } else if t < 35.0 {
            4000.0
        } else {
            2000.0
        }
    };
    arrivals_follow(
        "steps",
        r#"{ profile = "steps", steps = [[0, 1000], [20, 4000], [35, 2000]] }"#,
        &rate,
        60,
    );
}

#[test]
fn ramps_arrive_as_their_integral() {
    let rate = |t: f64| {
        if t < 30.0 {
            1000.0 + 4000.0 * t / 30.0
        } else if t < 50.0 {
            5000.0 - 4000.0 * (t - 30.0) / 20.0
        } else {
            1000.0
        }
    };
    arrivals_follow(
        "ramp",
        r#"{ profile = "ramp", points = [[0, 1000], [30, 5000], [50, 1000]] }"#,
        &rate,
        60,
    );
}

#[test]
fn a_daily_cycle_arrives_as_its_integral() {
    // Peak-to-trough 4: amplitude (4 − 1)/(4 + 1) = 0.6; peak at 10 s, period 40 s.
    let rate = |t: f64| 2000.0 * (1.0 + 0.6 * (std::f64::consts::TAU * (t - 10.0) / 40.0).cos());
    arrivals_follow(
        "daily",
        r#"{ profile = "daily", mean = 2000, period_s = 40, peak_to_trough = 4, phase_s = 10 }"#,
        &rate,
        60,
    );
}

#[test]
fn a_flash_crowd_arrives_as_its_integral() {
    let rate = |t: f64| {
        let (base, peak, start, rise, decay) = (800.0, 6.0, 15.0, 5.0, 8.0);
        if t < start {
            base
        } else if t < start + rise {
            base + base * (peak - 1.0) * (t - start) / rise
        } else {
            base * (1.0 + (peak - 1.0) * (-(t - start - rise) / decay).exp())
        }
    };
    arrivals_follow(
        "flash_crowd",
        r#"{ profile = "flash_crowd", base = 800, start_s = 15, peak = 6, rise_s = 5, decay_s = 8 }"#,
        &rate,
        60,
    );
}

#[test]
fn a_csv_profile_arrives_as_its_integral() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rate.csv");
    fs::write(&path, "t_s,rps\n0,1500\n10,3000\n40,600\n").unwrap();
    let rate = |t: f64| {
        if t < 10.0 {
            1500.0 + 150.0 * t
        } else if t < 40.0 {
            3000.0 - 80.0 * (t - 10.0)
        } else {
            600.0
        }
    };
    let toml = format!(
        r#"{{ profile = "csv", path = "{}", interpolate = "linear" }}"#,
        path.display()
    );
    arrivals_follow("csv", &toml, &rate, 60);
}

/// Arrivals and keys of `toml`'s workload, drawn through the public generator as the
/// engine draws them (the gap to the next arrival, then the current request's key).
fn keys_over_time(toml: &str) -> Vec<(f64, u32)> {
    let plan = plan(toml);
    let mut w = Workload::new(&plan.workload, stream(plan.seed, Stream::Workload));
    let end = plan.duration.expect("a timed scenario");
    let mut t = w.first_arrival();
    let mut out = Vec::new();
    while t <= end {
        let gap = w.next_gap();
        out.push((t.as_secs_f64(), w.next_op(t).key));
        t = SimTime::from_nanos(t.as_nanos() + gap.as_nanos());
    }
    out
}

#[test]
fn a_hot_set_shift_makes_the_new_key_the_most_requested() {
    // Zipf(1) over 1,000 keys: rank 1 has probability 1/H(1000) = 0.1336, rank 2 half
    // that. At 30 s the key at rank 500 (key 499) jumps to rank 1 and key 0 to rank 2.
    let toml = scenario(
        "2000",
        60.0,
        "popularity = { dist = \"zipf\", alpha = 1.0 }\ndrift = { shifts = [{ at_s = 30, rank = 500 }] }",
    );
    let arrivals = keys_over_time(&toml);
    let count = |from: f64, to: f64| {
        let mut c = vec![0u32; 1000];
        let mut n = 0;
        for &(t, k) in &arrivals {
            if t >= from && t < to {
                c[k as usize] += 1;
                n += 1;
            }
        }
        (c, n)
    };
    let argmax = |c: &[u32]| (0..c.len()).max_by_key(|&i| c[i]).unwrap();
    let (before, _) = count(0.0, 30.0);
    assert_eq!(argmax(&before), 0);
    assert!(before[499] < 40, "key 499 is rare before: {}", before[499]);
    let (after, n) = count(30.0, 60.0);
    assert_eq!(argmax(&after), 499, "the breaking story leads after 30 s");
    // Its share is rank 1's, 0.1336: binomial standard error sqrt(p(1 − p)/n) ≈ 0.0014
    // at n ≈ 60,000; allow five.
    let share = f64::from(after[499]) / n as f64;
    assert!((share - 0.1336).abs() < 0.007, "share {share}");
    // Key 0 moved to rank 2: half rank 1's share, within five standard errors.
    let share0 = f64::from(after[0]) / n as f64;
    assert!((share0 - 0.0668).abs() < 0.0052, "key 0's share {share0}");
}

#[test]
fn churn_replaces_top_keys_through_the_generator() {
    // Every 10 s, half of the top 20 ranks get keys from below. Zipf(1.2): ranks 1-20
    // take most requests, so the most requested keys of each interval change by about
    // the share; the exact share per interval is `drift`'s unit test.
    let toml = scenario(
        "3000",
        40.0,
        "popularity = { dist = \"zipf\", alpha = 1.2 }\ndrift = { churn = { interval_s = 10, top = 20, share = 0.5 } }",
    );
    let arrivals = keys_over_time(&toml);
    let top_keys = |from: f64| {
        let mut c = std::collections::HashMap::<u32, u32>::new();
        for &(_, k) in arrivals.iter().filter(|a| a.0 >= from && a.0 < from + 10.0) {
            *c.entry(k).or_default() += 1;
        }
        let mut v: Vec<(u32, u32)> = c.into_iter().collect();
        v.sort_by_key(|&(k, n)| (std::cmp::Reverse(n), k));
        // The top 5 ranks are far apart in probability (rank 5 has 1.3 times rank 6's),
        // so at 30,000 requests the five most requested keys are those ranks' keys.
        v.iter().take(5).map(|x| x.0).collect::<Vec<_>>()
    };
    let first = top_keys(0.0);
    assert_eq!(first, [0, 1, 2, 3, 4]);
    let mut changed = 0;
    for i in 1..4 {
        let later = top_keys(10.0 * i as f64);
        changed += later.iter().filter(|k| !first.contains(k)).count();
    }
    assert!(changed > 0, "churn moved no key out of the top five");
}

/// Hit ratios of one cache of 500 entries over 50,000 keys (Zipf 0.8), `policy`, five
/// seeds, with or without churn of the top 2,000 ranks (half of them every 2 s).
fn hit_ratios(policy: &str, churn: bool) -> Vec<f64> {
    let drift = if churn {
        "drift = { churn = { interval_s = 2, top = 2000, share = 0.5 } }"
    } else {
        ""
    };
    (1..=5)
        .map(|seed| {
            let toml = format!(
                r#"
name = "churn"
seed = {seed}
duration_s = 40
warmup_requests = 40000
[workload]
keys = 50000
rate = 10000
popularity = {{ dist = "zipf", alpha = 0.8 }}
{drift}
[[layers]]
name = "redis"
kind = "redis"
capacity = 500
policy = "{policy}"
[[layers]]
name = "db"
kind = "database"
connections = 1000
latency = {{ dist = "constant", ms = 0.1 }}
"#
            );
            run(&toml).layers[0]
                .hit_ratio
                .expect("a cache layer has a hit ratio")
        })
        .collect()
}

#[test]
fn lfu_loses_to_lru_under_churn_and_wins_without() {
    // Each comparison: every seed of the winner above every seed of the loser (the
    // gap beyond the replications' spread), on fixed seeds 1-5.
    let spread = |v: &[f64]| {
        (
            v.iter().copied().fold(f64::INFINITY, f64::min),
            v.iter().copied().fold(0.0, f64::max),
        )
    };
    let (lru_calm, lfu_calm) = (hit_ratios("lru", false), hit_ratios("lfu", false));
    let (lru_churn, lfu_churn) = (hit_ratios("lru", true), hit_ratios("lfu", true));
    let report = format!(
        "lru calm {lru_calm:?}, lfu calm {lfu_calm:?}, lru churn {lru_churn:?}, lfu churn {lfu_churn:?}"
    );
    assert!(spread(&lfu_calm).0 > spread(&lru_calm).1, "{report}");
    assert!(spread(&lru_churn).0 > spread(&lfu_churn).1, "{report}");
}

#[test]
fn constant_rate_runs_draw_the_same_arrivals_as_before() {
    // A number keeps the constant-rate path: the first arrival at 0 and exponential
    // gaps, drawn from the workload stream as before profiles existed.
    let arrivals = keys_over_time(&scenario("1000", 1.0, ""));
    assert_eq!(arrivals[0].0, 0.0);
    let as_steps = keys_over_time(&scenario(
        r#"{ profile = "steps", steps = [[0, 1000]] }"#,
        1.0,
        "",
    ));
    assert!(as_steps[0].0 > 0.0, "a profile's first arrival is drawn");
}

#[test]
fn wrong_profiles_are_refused_with_the_key_and_what_is_allowed() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("bad.csv"), "t_s,rps\n0,100\n5,abc\n").unwrap();
    let cases = [
        (
            r#"{ profile = "steps", steps = [[0, 100], [10, -5]] }"#,
            &["workload.rate.steps", "cannot go negative"][..],
        ),
        (
            r#"{ profile = "daily", mean = 100, peak_to_trough = 0.5 }"#,
            &[
                "workload.rate.peak_to_trough",
                "must be a finite number >= 1",
            ][..],
        ),
        (
            r#"{ profile = "flash_crowd", base = 10, start_s = 1, peak = 5, rise_s = 1, decay_s = 0 }"#,
            &["workload.rate.decay_s", "> 0"][..],
        ),
        (
            r#"{ profile = "csv", path = "bad.csv" }"#,
            &["workload.rate.path", "bad.csv", "line 3", "two numbers"][..],
        ),
        (
            r#"{ profile = "wave", mean = 3 }"#,
            &["wave", "steps", "flash_crowd"][..],
        ),
    ];
    for (rate, phrases) in cases {
        fs::write(dir.path().join("s.toml"), scenario(rate, 10.0, "")).unwrap();
        let out = tiersim(dir.path(), &["validate", "s.toml"]);
        assert_eq!(out.status.code(), Some(2), "{rate}: {}", stderr(&out));
        let err = stderr(&out);
        for p in phrases {
            assert!(err.contains(p), "{rate}: `{p}` missing from {err}");
        }
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn a_run_with_a_profile_charts_its_offered_load_and_a_constant_one_does_not() {
    let dir = tempfile::tempdir().unwrap();
    for (name, rate) in [
        (
            "profiled",
            r#"{ profile = "steps", steps = [[0, 500], [2, 1500]] }"#,
        ),
        ("constant", "1000"),
    ] {
        fs::write(dir.path().join("s.toml"), scenario(rate, 4.0, "")).unwrap();
        let out = tiersim(
            dir.path(),
            &["run", "s.toml", "--out", name, "--plot", "--quiet"],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let svg = fs::read_to_string(dir.path().join(name).join("origin_rps.svg")).unwrap();
        assert_eq!(
            svg.contains("offered"),
            name == "profiled",
            "{name}: the offered-load line is drawn only with a profile"
        );
    }
}

#[test]
fn the_expected_horizon_of_a_profile_is_its_integral() {
    // 100/s for 50 s makes 5,000 requests; the other 5,000 at 1,000/s take 5 s more.
    // A daily cycle's day holds mean × period requests whatever its shape.
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            r#"{ profile = "steps", steps = [[0, 100], [50, 1000]] }"#,
            "requests = 10000",
            "10000 requests over 55 s",
        ),
        (
            r#"{ profile = "daily", mean = 50, peak_to_trough = 3, phase_s = 3600 }"#,
            "duration_s = 86400",
            "4320000 requests over 86400 s",
        ),
    ];
    for (rate, stop, expected) in cases {
        let toml = scenario(rate, 1.0, "").replace("duration_s = 1", stop);
        fs::write(dir.path().join("s.toml"), toml).unwrap();
        let out = tiersim(dir.path(), &["validate", "s.toml"]);
        let text = crate::support::stdout(&out);
        assert!(
            text.contains(expected),
            "{rate}: `{expected}` missing from {text}"
        );
    }
}

#[test]
fn a_class_rate_adds_its_own_stream_to_its_share() {
    // `news` gets its 0.1 share of the workload's 1,000/s plus its own steps, 500/s then
    // 3,000/s from 30 s; `pages` its 0.9 share only. Per 1 s bucket and class, the
    // arrivals are Poisson of mean 100 + own(t) and 900: chi-square over the 2 × 60
    // buckets (120 degrees of freedom; every mean ≥ 600), critical value at p = 0.001.
    let classes = r#"
class_rates = { news = { profile = "steps", steps = [[0, 500], [30, 3000]] } }
[[workload.classes]]
name = "pages"
key_share = 0.5
request_share = 0.9
[[workload.classes]]
name = "news"
key_share = 0.5
request_share = 0.1
"#;
    let arrivals = keys_over_time(&scenario("1000", 60.0, classes));
    let mut counts = [[0u32; 2]; 60];
    for &(t, k) in &arrivals {
        if t < 60.0 {
            counts[t as usize][usize::from(k >= 500)] += 1;
        }
    }
    let mut chi2 = 0.0;
    for (b, [pages, news]) in counts.iter().enumerate() {
        let own = if b < 30 { 500.0 } else { 3000.0 };
        for (observed, expected) in [(pages, 900.0), (news, 100.0 + own)] {
            chi2 += (f64::from(*observed) - expected).powi(2) / expected;
        }
    }
    assert!(chi2 < chi2_critical(120), "chi-square {chi2:.1}");
    // And the run's horizon counts both: 1,000 × 60 + 500 × 30 + 3,000 × 30.
    let plan = plan(&scenario("1000", 60.0, classes));
    assert!(
        (plan.horizon.requests - 165_000.0).abs() < 1e-6,
        "{}",
        plan.horizon.requests
    );
}

#[test]
fn a_class_rate_for_no_class_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let extra = "class_rates = { blog = 10 }\n[[workload.classes]]\nname = \"pages\"\nkey_share = 1\nrequest_share = 1\n";
    fs::write(dir.path().join("s.toml"), scenario("1000", 10.0, extra)).unwrap();
    let out = tiersim(dir.path(), &["validate", "s.toml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("workload.class_rates.blog") && err.contains("pages"),
        "{err}"
    );
}
