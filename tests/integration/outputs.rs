//! Issue 16, outputs and paths: Ctrl-C during `run`, the scenario's name as a folder,
//! the output folder checked before simulating, the files' mode, and error texts that
//! say each cause once.

use std::fs;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::Value;
use tiersim::output::report::Report;
use tiersim::scenario::{Override, Source};

use crate::support::{plan, repo, stderr, stdout, tiersim, tiersim_ok};

/// The arrivals between two readings of the stop flag (`engine::PROGRESS_EVERY`): a
/// progress callback that sets the flag at its first call past 0 stops the run after
/// exactly this many.
const CHECK_EVERY: u64 = 1 << 16;

/// Runs `plan` with a stop flag that the progress callback sets at its first call past
/// the start: a Ctrl-C at a known point (after `CHECK_EVERY` arrivals), so the stop is
/// deterministic.
fn stopped(plan: &tiersim::scenario::Plan) -> Report {
    let stop = AtomicBool::new(false);
    tiersim::simulate_until(plan, &stop, |p| {
        if p.generated > 0 {
            stop.store(true, Ordering::Relaxed);
        }
    })
}

fn scenario_plan(file: &str, set: &[&str]) -> tiersim::scenario::Plan {
    let set: Vec<Override> = set.iter().map(|s| Override::parse(s).unwrap()).collect();
    Source::read(&repo().join("scenarios").join(file))
        .unwrap()
        .plan(&set)
        .unwrap()
        .1
}

/// Every layer's requests are accounted for: the database's reads are its hits, and a
/// cache layer's requests are its hits, misses, and the reads a defence answered.
fn assert_counts_add_up(r: &Report) {
    assert_eq!(r.reads + r.writes, r.requests);
    for l in &r.layers {
        assert_eq!(
            l.hits + l.misses + l.coalesced + l.stale_served,
            l.requests,
            "layer {}",
            l.name
        );
    }
}

#[test]
fn a_stopped_run_covers_the_requests_before_the_stop_and_says_so() {
    // The check runs before an arrival, so a stop seen at the 65,536th request's check
    // lets exactly 65,536 arrive; the warm-up takes 10,000 of them.
    let set = ["warmup_requests=10000"];
    let r = stopped(&scenario_plan("app_tier.toml", &set));
    assert!(!r.complete);
    assert_eq!(r.requests + r.warmup_requests, CHECK_EVERY);
    assert_counts_add_up(&r);
    assert!(
        r.table().starts_with("stopped before the end"),
        "{}",
        r.table()
    );
    // The same figures, bit for bit, as a whole run of those 65,536 requests: the
    // requests in flight at the stop were followed to their end.
    let whole = tiersim::simulate(&scenario_plan(
        "app_tier.toml",
        &["warmup_requests=10000", "requests=65536"],
    ));
    assert!(whole.complete);
    assert!(!whole.table().contains("stopped"));
    assert_same(
        &Report {
            complete: true,
            ..r
        },
        &whole,
    );
}

#[test]
fn what_was_scheduled_after_the_stop_does_not_change_a_stopped_run() {
    // 65,536 arrivals at 2,000/s end near 32.8 s, before the CDN's outage at 60 s: the
    // run ends with its last request, so the outage's window never opens, and a run
    // whose outage is a day later reports the same, bit for bit (the time-averaged
    // queue and utilization would otherwise stretch to the outage's end).
    let r = stopped(&scenario_plan("cdn_outage.toml", &[]));
    assert!(!r.complete);
    assert_eq!(r.requests + r.warmup_requests, CHECK_EVERY);
    assert_counts_add_up(&r);
    assert_eq!(r.failed_requests, 0);
    assert_eq!(r.layers[0].skipped, 0);
    let later = stopped(&scenario_plan(
        "cdn_outage.toml",
        &["faults.0.start_s=86400"],
    ));
    assert_same(&later, &r);
}

/// `a == b`, saying where they differ first without printing two whole reports.
fn assert_same(a: &Report, b: &Report) {
    assert!(
        a == b,
        "differ: requests {} vs {}; origin {:?} vs {:?}; time series {} vs {} buckets",
        a.requests,
        b.requests,
        a.origin,
        b.origin,
        a.timeseries.len(),
        b.timeseries.len()
    );
}

#[test]
fn a_stopped_write_back_run_flushes_every_write_it_accepted() {
    // 2,000 requests/s for 60 s would be 120,000; the stop comes at 65,536. The writes
    // accepted before it are dirty until the next timed flush, which still comes.
    let r = stopped(&plan(
        r#"
            name = "write-back"
            duration_s = 60
            [workload]
            keys = 100
            popularity = { dist = "uniform" }
            rate = 2000.0
            write_ratio = 0.3
            write_strategy = "write_back"
            flush_interval_s = 1
            flush_batch = 1_000_000
            [[layers]]
            name = "redis"
            kind = "redis"
            capacity = 1000
            [[layers]]
            name = "db"
            kind = "database"
            connections = 100
            "#,
    ));
    assert!(!r.complete);
    assert_eq!(r.requests, CHECK_EVERY);
    assert_counts_add_up(&r);
    assert_eq!(r.lost_writes, 0);
    assert_eq!(r.flushed_writes, r.writes, "every accepted write flushed");
}

/// Waits for `path` to exist, up to a minute (it appears within milliseconds; the bound
/// only keeps a broken binary from hanging the test).
fn wait_for(path: &Path) {
    for _ in 0..6000 {
        if path.exists() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("{} never appeared", path.display());
}

#[test]
fn ctrl_c_during_run_writes_what_was_measured_and_exits_130() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = repo().join("scenarios/app_tier.toml");
    // 50M requests take the binary half a minute or more; the stop comes long before.
    let child = Command::new(env!("CARGO_BIN_EXE_tiersim"))
        .args(["run", "-q", "--out", "out"])
        .arg(&scenario)
        .args(["--set", "requests=50000000", "--set", "warmup_requests=0"])
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The folder appears once the handler is in place (the probe comes after it);
    // the pause lets the simulation get going, and nothing below depends on its length.
    wait_for(&dir.path().join("out"));
    std::thread::sleep(std::time::Duration::from_millis(300));
    // The shell's own `kill`, so the test needs no procps.
    let kill = Command::new("sh")
        .args(["-c", &format!("kill -INT {}", child.id())])
        .status()
        .unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("interrupted: the run stopped early; out holds what was measured, marked \"complete\": false"),
        "{}",
        stderr(&out)
    );
    assert!(
        stdout(&out).starts_with("stopped before the end"),
        "{}",
        stdout(&out)
    );
    let summary: Value =
        serde_json::from_str(&fs::read_to_string(dir.path().join("out/summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["complete"], false);
    let requests = summary["requests"].as_u64().unwrap();
    assert!(requests < 50_000_000, "{requests}");
    assert_eq!(
        summary["reads"].as_u64().unwrap() + summary["writes"].as_u64().unwrap(),
        requests
    );
    for l in summary["layers"].as_array().unwrap() {
        assert_eq!(
            l["hits"].as_u64().unwrap() + l["misses"].as_u64().unwrap(),
            l["requests"].as_u64().unwrap(),
            "{l}"
        );
    }
    for f in ["layers.csv", "timeseries.csv", "latency.csv"] {
        assert!(dir.path().join("out").join(f).exists(), "{f}");
    }
}

#[test]
fn a_scenario_name_that_is_not_a_plain_file_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path().join("work");
    fs::create_dir(&work).unwrap();
    let out = tiersim(&work, &["run", "-q", "--set", "name=../../escaped"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: built-in scenario `quickstart` (from --set): key `name`: is \"../../escaped\", which has a path separator; must be a plain file name, as it names the output folder results/<name>: not empty, no `/`, `\\`, `..` or control characters, not starting with `.`\n"
    );
    assert!(!dir.path().join("escaped").exists());
    assert!(!work.join("results").exists());

    // The same rule for a name in the file; `a.b` and `quick-start_2` are fine.
    let text = fs::read_to_string(repo().join("scenarios/app_tier.toml")).unwrap();
    // The `name` line's number, wherever the header leaves it.
    let line = 1 + text.lines().position(|l| l.starts_with("name = ")).unwrap();
    for (name, problem) in [
        ("'a\\b'", Some("has a path separator")),
        ("'..'", Some("has `..`")),
        ("'a..b'", Some("has `..`")),
        ("'.hidden'", Some("starts with `.`")),
        ("\"tab\\there\"", Some("has a control character")),
        ("'a.b'", None),
        ("'quick-start_2'", None),
    ] {
        let file = text.replacen("name = \"app_tier\"", &format!("name = {name}"), 1);
        assert_ne!(file, text);
        fs::write(work.join("s.toml"), file).unwrap();
        let out = tiersim(&work, &["validate", "s.toml"]);
        let err = stderr(&out);
        match problem {
            Some(problem) => {
                assert_eq!(out.status.code(), Some(2), "{name}");
                assert!(
                    err.contains(&format!("s.toml:{line}:1: key `name`: is ")),
                    "{name}: {err}"
                );
                let says = format!(", which {problem}; must be a plain file name");
                assert!(err.contains(&says), "{name}: {err}");
            }
            None => assert!(out.status.success(), "{name}: {err}"),
        }
    }
}

#[test]
fn an_output_folder_that_cannot_be_written_fails_before_the_run() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("taken"), "not a folder").unwrap();
    let out = tiersim(dir.path(), &["run", "-q", "--out", "taken/sub"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "error: cannot write taken/sub: Not a directory (os error 20)\n"
    );
    // Nothing was simulated: a run prints its table before writing its files.
    assert_eq!(stdout(&out), "");

    // `plot` into the same folder fails the same way, with the same code.
    tiersim_ok(
        dir.path(),
        &[
            "run",
            "-q",
            "--out",
            "o",
            "--set",
            "requests=20000",
            "--set",
            "warmup_requests=0",
        ],
    );
    let out = tiersim(dir.path(), &["plot", "o", "--out", "taken/sub"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stderr(&out),
        "error: cannot write taken/sub: Not a directory (os error 20)\n"
    );
}

#[test]
fn a_write_that_fails_after_the_run_still_prints_the_table() {
    let dir = tempfile::tempdir().unwrap();
    // The folder is writable, so the check before the run passes; the rename over
    // summary.json, a folder, fails at the end (for root too).
    fs::create_dir_all(dir.path().join("o/summary.json")).unwrap();
    let out = tiersim(
        dir.path(),
        &[
            "run",
            "-q",
            "--out",
            "o",
            "--set",
            "requests=20000",
            "--set",
            "warmup_requests=0",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).starts_with("scenario quickstart  seed 1  20000 requests"));
    assert!(stdout(&out).contains("latency ms:"));
    assert_eq!(
        stderr(&out),
        "error: cannot write o/summary.json: Is a directory (os error 21)\n"
    );
}

/// Runs the binary under `umask`, through the shell, which sets it for the child alone.
fn tiersim_with_umask(dir: &Path, umask: &str, args: &[&str]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!("umask {umask} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_tiersim"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

#[cfg(unix)]
#[test]
fn output_files_get_the_usual_mode_under_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();
    let small = ["--set", "requests=20000", "--set", "warmup_requests=0"];
    for (umask, want) in [("022", 0o644), ("077", 0o600)] {
        let out_dir = format!("o{umask}");
        let mut args = vec!["run", "-q", "--out", &out_dir];
        args.extend(small);
        let out = tiersim_with_umask(dir.path(), umask, &args);
        assert!(out.status.success(), "{}", stderr(&out));
        let svg = tiersim_with_umask(dir.path(), umask, &["plot", &out_dir, "--format", "both"]);
        assert!(svg.status.success(), "{}", stderr(&svg));
        let mut files: Vec<_> = fs::read_dir(dir.path().join(&out_dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        files.sort();
        assert!(files.len() >= 5, "{files:?}");
        for f in files {
            assert_eq!(mode(&f), want, "{} under umask {umask}", f.display());
        }
    }
}

#[test]
fn error_texts_say_each_cause_once() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 4] = [
        (
            &["run", "absent.toml"],
            "error: cannot read scenario absent.toml: No such file or directory (os error 2)\n",
        ),
        (
            &["validate", "latin1.toml"],
            "error: cannot read scenario latin1.toml: stream did not contain valid UTF-8\n",
        ),
        (
            &[
                "replay",
                "absent.bin",
                "--format",
                "lirs",
                "--policy",
                "lru",
                "--size",
                "10",
            ],
            "error: cannot read trace absent.bin: No such file or directory (os error 2)\n",
        ),
        (
            &["run", "--set", "faults.0.fallback=true"],
            "error: --set faults.0.fallback=true: there is no fault 0: the scenario has no `faults` (add them in the file: [[faults]])\n",
        ),
    ];
    fs::write(dir.path().join("latin1.toml"), b"name = \"caf\xe9\"\n").unwrap();
    for (args, want) in cases {
        let out = tiersim(dir.path(), args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(stderr(&out), want, "{args:?}");
    }

    // An index past the end of a list that exists says how many there are.
    let cdn = repo().join("scenarios/cdn_outage.toml");
    let cdn = cdn.to_str().unwrap();
    let out = tiersim(
        dir.path(),
        &["validate", cdn, "--set", "faults.3.fallback=true"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: --set faults.3.fallback=true: there is no fault 3: `faults` has 1, numbered from 0\n"
    );
    let out = tiersim(dir.path(), &["validate", cdn, "--set", "layers.7.ttl_s=1"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: --set layers.7.ttl_s=1: there is no layer 7: `layers` has 3, numbered from 0; names: cdn, shield, db\n"
    );
    // An index that exists still works.
    tiersim_ok(
        dir.path(),
        &["validate", cdn, "--set", "faults.0.fallback=false"],
    );
}
