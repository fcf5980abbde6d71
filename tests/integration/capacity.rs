//! `tiersim capacity`: the answer against a closed form, the ends of the range, bad
//! flags, and the same answer whatever `--jobs`.

use std::fs;
use std::path::Path;

use crate::support::{assert_bad_input, csv_rows, stdout, tiersim, tiersim_ok};

/// The database alone as an M/M/1 queue: one connection, exponential service of mean
/// 1 ms (mu = 1000/s), Poisson arrivals at `workload.rate`. A read's latency is its
/// sojourn, of mean 1/(mu - lambda).
const MM1: &str = r#"
name = "mm1"
seed = 7
requests = 200_000
warmup_requests = 20_000
[workload]
keys = 1000
rate = 500.0
[[layers]]
name = "db"
kind = "database"
connections = 1
latency = { dist = "exponential", mean_ms = 1.0 }
"#;

fn mm1(dir: &Path) -> String {
    let path = dir.join("mm1.toml");
    fs::write(&path, MM1).unwrap();
    path.to_str().unwrap().to_owned()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

/// `mean <= 5 ms` on M/M/1: 1/(mu - lambda) <= X gives lambda* = mu - 1/X = 800/s.
///
/// Tolerance, from the model and the search: at rho = 0.8 the time-average number in
/// system has asymptotic variance 2 rho (1 + rho) / (1 - rho)^4 = 1800 service times
/// (Whitt, "Planning queueing simulations", 1989); 180,000 measured reads span 225,000
/// service times, so one replication's mean sojourn has a relative standard error of
/// sqrt(1800 / 225000) / L = 0.089 / 4 = 2.2%. Three replications give a 95% half-width
/// of t(2) 2.2% / sqrt(3) = 5.5%, so a point passes only where the true mean is below
/// 5 / 1.055 = 4.74 ms, lambda = 789/s (-1.4%); the bisection stops within 2% of the
/// answer. The answer is then at least lambda* (1 - 0.014 - 0.02) = 0.966 lambda*; the
/// test allows 0.95. Above: a passing point at 1.01 lambda* (mean 5.21 ms, +4.2%) would
/// need a sample mean more than 9% below its true one, about 4 standard errors.
#[test]
fn mm1_answer_lands_on_the_closed_form() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = mm1(dir.path());
    let out = tiersim_ok(
        dir.path(),
        &[
            "capacity",
            &scenario,
            "--slo",
            "mean<=5ms",
            "--range",
            "400..1000",
            "--out",
            "cap",
            "-q",
            "--jobs",
            "2",
        ],
    );
    let cap = json(&dir.path().join("cap/capacity.json"));
    let (mu, x_s) = (1000.0, 0.005);
    let exact = mu - 1.0 / x_s;
    let answer = cap["answer"].as_f64().unwrap();
    let failing = cap["smallest_failing"].as_f64().unwrap();
    assert_eq!(cap["outcome"], "found");
    assert!(
        answer >= 0.95 * exact && answer <= 1.01 * exact,
        "answer {answer}/s, M/M/1 gives {exact}/s"
    );
    assert!(failing > answer && failing - answer <= 0.02 * answer + 1.0);
    // The low end reads the model too: 1/(1000 - 400) s = 1.667 ms, within 2% (its
    // relative standard error at rho = 0.4 is about 0.3%).
    let rows = csv_rows(&dir.path().join("cap/capacity.csv"));
    let low = rows.iter().find(|r| r["value"] == "400").unwrap();
    let w: f64 = low["mean_ms_mean"].parse().unwrap();
    assert!((w - 1000.0 / 600.0).abs() / (1000.0 / 600.0) < 0.02, "{w}");
    assert_eq!(low["verdict"], "pass");
    let text = stdout(&out);
    assert!(text.contains("meets mean<=5ms at 95% confidence"), "{text}");
    assert!(text.contains("fails"), "{text}");
    for f in ["capacity_latency.svg", "capacity_latency.png"] {
        assert!(dir.path().join("cap").join(f).is_file(), "{f}");
    }
    let svg = fs::read_to_string(dir.path().join("cap/capacity_latency.svg")).unwrap();
    assert!(svg.len() > 10_000, "a chart with its series");
}

/// An objective the low end already misses: said, the point kept, exit 2.
#[test]
fn a_low_end_that_fails_is_no_capacity_in_range() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = mm1(dir.path());
    // Service alone is 1 ms on average: no rate meets a 0.5 ms mean.
    let out = tiersim(
        dir.path(),
        &[
            "capacity",
            &scenario,
            "--slo",
            "mean<=0.5ms",
            "--range",
            "400..1000",
            "--out",
            "cap",
            "-q",
        ],
    );
    assert_bad_input(
        &out,
        &["no capacity within the range", "400", "mean<=0.5ms"],
    );
    let cap = json(&dir.path().join("cap/capacity.json"));
    assert_eq!(cap["outcome"], "none_in_range");
    assert!(cap["answer"].is_null());
    assert_eq!(csv_rows(&dir.path().join("cap/capacity.csv")).len(), 1);
}

/// A high end that passes: the answer is at least HI, exit 0.
#[test]
fn a_high_end_that_passes_is_a_lower_bound() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = mm1(dir.path());
    // At 300/s the mean sojourn is 1/700 s = 1.43 ms, far below 5 ms.
    let out = tiersim_ok(
        dir.path(),
        &[
            "capacity",
            &scenario,
            "--slo",
            "mean<=5ms",
            "--range",
            "100..300",
            "--out",
            "cap",
            "-q",
        ],
    );
    assert!(
        stdout(&out).contains("the answer is at least 300"),
        "{}",
        stdout(&out)
    );
    let cap = json(&dir.path().join("cap/capacity.json"));
    assert_eq!(cap["outcome"], "at_least_high");
    assert_eq!(cap["answer"].as_f64(), Some(300.0));
}

/// Bad flags: exit 2, naming the flag and what is allowed, before anything runs.
#[test]
fn bad_flags_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = mm1(dir.path());
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["--slo", "p99<200ms"],
            &["--slo", "p50|p90|p99|p999|mean|max"],
        ),
        (&["--slo", "p99<=200"], &["--slo", "unit, ms or s"]),
        (&["--slo", "p98<=2ms"], &["--slo", "unknown metric"]),
        (
            &["--slo", "availability>=1.5"],
            &["--slo", "share from 0 to 1"],
        ),
        (&["--slo", "availability<=0.9"], &["--slo", ">="]),
        (
            &["--slo", "p99<=5ms", "--range", "900..400"],
            &["--range", "0 < LO < HI"],
        ),
        (
            &["--slo", "p99<=5ms", "--range", "abc"],
            &["--range", "LO..HI"],
        ),
        (
            &["--slo", "p99<=5ms", "--tolerance", "0"],
            &["--tolerance", "less than 1"],
        ),
        (
            &["--slo", "p99<=5ms", "--replications", "0"],
            &["--replications", "1 to"],
        ),
        (
            &[
                "--slo",
                "p99<=5ms",
                "--replications",
                "5",
                "--max-replications",
                "2",
            ],
            &["--max-replications"],
        ),
        (
            &[
                "--slo",
                "p99<=5ms",
                "--axis",
                "layers.db.connections",
                "--range",
                "0.5..3",
            ],
            &["layers.db.connections", "u32"],
        ),
        (
            &["--slo", "p99<=5ms", "--axis", "workload.nope"],
            &["--range", "workload.nope"],
        ),
    ];
    for (args, phrases) in cases {
        let mut all = vec!["capacity", scenario.as_str(), "--out", "cap", "-q"];
        all.extend_from_slice(args);
        let out = tiersim(dir.path(), &all);
        assert_bad_input(&out, phrases);
        assert!(!dir.path().join("cap").exists(), "{args:?} ran");
    }
}

/// Replications run in parallel, collected in order: the same curve for any `--jobs`.
#[test]
fn same_curve_whatever_the_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = mm1(dir.path());
    let run = |jobs: &str, out: &str| {
        tiersim_ok(
            dir.path(),
            &[
                "capacity",
                &scenario,
                "--slo",
                "p99<=20ms",
                "--slo",
                "availability>=0.999",
                "--range",
                "400..1000",
                "--tolerance",
                "0.05",
                "--out",
                out,
                "-q",
                "--jobs",
                jobs,
                "--set",
                "requests=50000",
                "--set",
                "warmup_requests=5000",
            ],
        );
        let mut cap = json(&dir.path().join(out).join("capacity.json"));
        cap.as_object_mut().unwrap().remove("command");
        (
            fs::read(dir.path().join(out).join("capacity.csv")).unwrap(),
            cap,
        )
    };
    let (csv1, json1) = run("1", "one");
    let (csv2, json2) = run("2", "two");
    assert_eq!(csv1, csv2);
    assert_eq!(json1, json2);
}
