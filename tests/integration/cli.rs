//! The real binary: every subcommand's happy path, determinism, and bad input.

use std::fs;

use crate::support::{repo, stderr, stdout, tiersim, tiersim_ok};

const SMALL: [&str; 4] = ["--set", "requests=30000", "--set", "warmup_requests=3000"];

fn run_quickstart(dir: &std::path::Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["run", "-q"];
    if !extra.contains(&"--out") {
        args.extend(["--out", "out"]);
    }
    args.extend(SMALL);
    args.extend(extra);
    tiersim(dir, &args)
}

#[test]
fn run_default_scenario_writes_every_output() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_quickstart(dir.path(), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    for needle in ["quickstart", "hit ratio", "redis", "latency ms", "origin:"] {
        assert!(text.contains(needle), "summary lacks {needle}: {text}");
    }
    let mut files: Vec<String> = fs::read_dir(dir.path().join("out"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "latency.csv",
            "layers.csv",
            "scenario.json",
            "summary.json",
            "timeseries.csv"
        ],
        "every output, the scenario as run among them, and no temp files left behind"
    );

    let summary: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.path().join("out/summary.json")).unwrap())
            .unwrap();
    assert_eq!(summary["scenario"], "quickstart");
    assert_eq!(summary["requests"], 27_000);
    let layers = summary["layers"].as_array().unwrap();
    // The whole path: browser, cdn, shield, l1, redis, db.
    assert_eq!(layers.len(), 6);
    for l in layers {
        assert_eq!(
            l["hits"].as_u64().unwrap() + l["misses"].as_u64().unwrap(),
            l["requests"].as_u64().unwrap()
        );
        // The database is not a cache: no hit ratio.
        if l["kind"] == "database" {
            assert!(l["hit_ratio"].is_null());
        } else {
            let r = l["hit_ratio"].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&r));
        }
    }
    for key in [
        "requests",
        "mean_rps",
        "peak_rps",
        "peak_queue",
        "mean_queue_wait_ms",
        "peak_key_concurrency",
    ] {
        assert!(summary["origin"].get(key).is_some(), "origin.{key} missing");
    }
    for key in ["mean", "p50", "p90", "p99", "p999", "max"] {
        assert!(
            summary["latency_ms"][key].as_f64().is_some(),
            "latency_ms.{key} missing"
        );
    }

    let layers_csv = fs::read_to_string(dir.path().join("out/layers.csv")).unwrap();
    let mut lines = layers_csv.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("name,kind,policy,capacity,requests,hits,misses,hit_ratio")
    );
    assert_eq!(lines.count(), 6);
    let ts = fs::read_to_string(dir.path().join("out/timeseries.csv")).unwrap();
    assert!(
        ts.starts_with(
            "t_s,requests,origin_requests,origin_queue,origin_herd,completed,p99_ms,\
             origin_rps,origin_p99_ms,writes,failed,herd_events,origin_queue_mean,rejected,\
             timeouts,retries\n"
        ),
        "{}",
        ts.lines().next().unwrap_or_default()
    );
    let cdf = fs::read_to_string(dir.path().join("out/latency.csv")).unwrap();
    assert!(cdf.starts_with("quantile,latency_ms\n0.0,"), "{cdf}");
    // 30,000 requests at 5,000/s: about 6 one-second buckets, 5.4 s of them measured.
    let rows = ts.lines().count() - 1;
    assert!((5..=7).contains(&rows), "{rows} rows");
}

#[test]
fn same_seed_gives_identical_bytes_and_another_seed_differs() {
    let dir = tempfile::tempdir().unwrap();
    let read = |sub: &str| fs::read(dir.path().join(sub).join("summary.json")).unwrap();
    for (sub, seed) in [("a", "5"), ("b", "5"), ("c", "6")] {
        let mut args = vec!["run", "--out", sub, "-q", "--seed", seed];
        args.extend(SMALL);
        tiersim_ok(dir.path(), &args);
    }
    assert_eq!(read("a"), read("b"));
    assert_ne!(read("a"), read("c"));
    let ts = |sub: &str| fs::read(dir.path().join(sub).join("timeseries.csv")).unwrap();
    assert_eq!(ts("a"), ts("b"));
}

#[test]
fn set_overrides_reach_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_quickstart(
        dir.path(),
        &[
            "--set",
            "layers.redis.capacity=1234",
            "--set",
            "layers.l1.policy=fifo",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let csv = fs::read_to_string(dir.path().join("out/layers.csv")).unwrap();
    assert!(csv.contains("redis,redis,lru,1234,"), "{csv}");
    assert!(csv.contains("l1,in_process,fifo,10000,"), "{csv}");
}

#[test]
fn run_scenario_files_in_toml_and_json_with_default_output_folder() {
    let dir = tempfile::tempdir().unwrap();
    let json = serde_json::json!({
        "name": "from-json",
        "requests": 5000,
        "workload": {"keys": 100, "popularity": {"dist": "zipf", "alpha": 1.1}, "rate": 100.0},
        "layers": [
            {"name": "cache", "kind": "redis", "capacity": 10, "policy": "lfu", "ttl_s": 5,
             "latency": {"dist": "uniform", "min_ms": 0.1, "max_ms": 0.5}},
            {"name": "db", "kind": "database", "connections": 4,
             "latency": {"dist": "pareto", "scale_ms": 1.0, "shape": 2.5}}
        ]
    });
    fs::write(dir.path().join("s.json"), json.to_string()).unwrap();
    tiersim_ok(dir.path(), &["run", "s.json", "-q"]);
    assert!(dir.path().join("results/from-json/summary.json").exists());

    tiersim_ok(
        dir.path(),
        &[
            "run",
            repo().join("scenarios/quickstart.toml").to_str().unwrap(),
            "--out",
            "q",
            "-q",
            "--set",
            "requests=2000",
            "--set",
            "warmup_requests=0",
        ],
    );
    assert!(dir.path().join("q/layers.csv").exists());
}

#[test]
fn validate_accepts_every_shipped_scenario() {
    let mut checked = 0;
    for entry in fs::read_dir(repo().join("scenarios")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml" || e == "json") {
            let out = tiersim(repo(), &["validate", path.to_str().unwrap()]);
            assert!(out.status.success(), "{}: {}", path.display(), stderr(&out));
            assert!(stdout(&out).contains(": ok"));
            checked += 1;
        }
    }
    assert!(checked >= 1);
}

/// One bad scenario, the exit code and the phrases its message must contain.
struct Bad {
    file: &'static str,
    text: String,
    phrases: &'static [&'static str],
}

const GOOD_TAIL: &str = r#"
[[layers]]
name = "db"
kind = "database"
"#;

fn toml_with(workload: &str, cache: &str) -> String {
    format!(
        "name = \"bad\"\nrequests = 100\n\n[workload]\n{workload}\n\n[[layers]]\nname = \"redis\"\nkind = \"redis\"\n{cache}\n{GOOD_TAIL}"
    )
}

#[test]
fn bad_scenarios_exit_2_with_a_precise_message_and_no_panic() {
    let ok_workload = "keys = 100\nrate = 10.0";
    let cases = [
        Bad {
            file: "syntax.toml",
            text: "name = \"bad\"\nrequests = = 3\n".into(),
            phrases: &["syntax.toml", "line 2"],
        },
        Bad {
            file: "unknown.toml",
            text: toml_with(ok_workload, "capacity = 10\ncapcity = 5"),
            phrases: &["unknown.toml:12:1", "layers.redis.capcity", "unknown field `capcity`", "capacity"],
        },
        Bad {
            file: "type.toml",
            text: toml_with(ok_workload, "capacity = \"lots\""),
            phrases: &["type.toml:11:1", "layers.redis.capacity", "invalid type: string \"lots\""],
        },
        Bad {
            file: "zero.toml",
            text: toml_with(ok_workload, "capacity = 0"),
            phrases: &["zero.toml:11:1", "layers.redis.capacity", "is 0; must be at least 1"],
        },
        Bad {
            file: "negative.toml",
            text: toml_with(ok_workload, "capacity = -5"),
            phrases: &["layers.redis.capacity", "invalid value: integer `-5`"],
        },
        Bad {
            file: "alpha.toml",
            text: toml_with("keys = 100\nrate = 10.0\npopularity = { dist = \"zipf\", alpha = -0.5 }", "capacity = 10"),
            phrases: &["workload.popularity.alpha", "is -0.5; must be a finite number >= 0"],
        },
        Bad {
            file: "nan.toml",
            text: toml_with("keys = 100\nrate = nan", "capacity = 10"),
            phrases: &["nan.toml:6:1", "workload.rate", "is NaN; must be a finite number"],
        },
        Bad {
            file: "negrate.toml",
            text: toml_with("keys = 100\nrate = -3.0", "capacity = 10"),
            phrases: &["workload.rate", "is -3;"],
        },
        Bad {
            file: "policy.toml",
            text: toml_with(ok_workload, "capacity = 10\npolicy = \"lur\""),
            phrases: &["layers.redis.policy", "unknown policy `lur`", "lru"],
        },
        Bad {
            file: "policy_share.toml",
            text: toml_with(ok_workload, "capacity = 10\npolicy = { name = \"slru\", protected_ratio = 1.5 }"),
            phrases: &["policy_share.toml:12:1", "layers.redis.policy", "`protected_ratio` is a share of the cache, from 0 to 1; got 1.5"],
        },
        Bad {
            file: "policy_string.toml",
            text: toml_with(ok_workload, "capacity = 10\npolicy = \"slru:segments=0\""),
            phrases: &["layers.redis.policy", "`segments` is from 1 to 16; got 0"],
        },
        Bad {
            file: "nodb.toml",
            text: "name = \"x\"\nrequests = 10\n[workload]\nkeys = 1\nrate = 1.0\n[[layers]]\nname = \"r\"\nkind = \"redis\"\ncapacity = 1\n".into(),
            phrases: &["layers.r.kind", "last layer must be of kind `database`"],
        },
        Bad {
            file: "order.json",
            text: r#"{"name":"x","requests":10,"workload":{"keys":1,"rate":1},
                      "layers":[{"name":"r","kind":"redis","capacity":1},{"name":"l1","kind":"in_process","capacity":1},{"name":"db","kind":"database"}]}"#
                .into(),
            phrases: &["order.json", "layers.l1.kind", "cannot come after `redis`"],
        },
        Bad {
            file: "json_type.json",
            text: r#"{"name":"x","requests":10,"workload":{"keys":"many","rate":1},"layers":[{"name":"db","kind":"database"}]}"#.into(),
            phrases: &["json_type.json", "workload.keys", "invalid type: string \"many\""],
        },
        Bad {
            file: "missing.toml",
            text: "name = \"x\"\n[workload]\nkeys = 1\nrate = 1.0\n[[layers]]\nname = \"db\"\nkind = \"database\"\n".into(),
            phrases: &["key `requests`", "set `requests` or `duration_s`"],
        },
        Bad {
            file: "edge_order.toml",
            text: "name = \"x\"\nrequests = 1\n[workload]\nkeys = 1\nrate = 1.0\nregions = [{ name = \"eu\", share = 0.5 }, { name = \"us\", share = 0.5 }]\nclients = 10\n[[layers]]\nname = \"sh\"\nkind = \"shield\"\ncapacity = 1\n[[layers]]\nname = \"edge\"\nkind = \"cdn\"\ncapacity = 1\n[[layers]]\nname = \"db\"\nkind = \"database\"\n".into(),
            phrases: &["layers.edge.kind", "`cdn` cannot come after `shield`"],
        },
        Bad {
            file: "rtt.toml",
            text: "name = \"x\"\nrequests = 1\n[workload]\nkeys = 1\nrate = 1.0\nregions = [{ name = \"eu\", share = 0.5 }, { name = \"us\", share = 0.5 }]\nclients = 10\n[[layers]]\nname = \"edge\"\nkind = \"cdn\"\ncapacity = 1\nrtt_ms = { eu = 10 }\n[[layers]]\nname = \"db\"\nkind = \"database\"\n".into(),
            phrases: &["rtt.toml:", "layers.edge.rtt_ms", "no entry for region `us`"],
        },
        Bad {
            file: "pops_on_redis.toml",
            text: toml_with(ok_workload, "capacity = 10\npops = 3"),
            phrases: &["layers.redis.pops", "applies only to kind `cdn`, not to `redis`"],
        },
        Bad {
            file: "balancer.toml",
            text: "name = \"x\"\nrequests = 1\n[workload]\nkeys = 1\nrate = 1.0\nregions = [{ name = \"eu\", share = 0.5 }, { name = \"us\", share = 0.5 }]\nclients = 10\n[[layers]]\nname = \"app\"\nkind = \"in_process\"\ncapacity = 1\ninstances = 2\nbalancer = \"least_conn\"\n[[layers]]\nname = \"db\"\nkind = \"database\"\n".into(),
            phrases: &["layers.app.balancer", "unknown variant `least_conn`", "round_robin"],
        },
        Bad {
            file: "shares.toml",
            text: "name = \"x\"\nrequests = 1\n[workload]\nkeys = 1\nrate = 1.0\nregions = [{ name = \"eu\", share = 0.5 }]\n[[layers]]\nname = \"db\"\nkind = \"database\"\n".into(),
            phrases: &["workload.regions", "shares sum to 0.5; they must sum to 1"],
        },
        Bad {
            file: "defended_shards.toml",
            text: toml_with(ok_workload, "capacity = 10\nshards = 3\nstampede = { mode = \"coalesce\" }"),
            phrases: &["layers.redis.stampede", "single-node layers only", "shards = 1"],
        },
    ];
    let dir = tempfile::tempdir().unwrap();
    for case in &cases {
        fs::write(dir.path().join(case.file), &case.text).unwrap();
        for cmd in ["validate", "run"] {
            let out = tiersim(
                dir.path(),
                &[cmd, case.file, "-q"][..if cmd == "run" { 3 } else { 2 }],
            );
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{cmd} {}: {err}", case.file);
            assert!(!err.contains("panicked"), "{err}");
            for phrase in case.phrases {
                assert!(
                    err.contains(phrase),
                    "{cmd} {}: missing `{phrase}` in: {err}",
                    case.file
                );
            }
        }
    }
    assert!(
        !dir.path().join("results").exists(),
        "a failed run writes nothing"
    );
}

#[test]
fn bad_command_lines_are_clear() {
    let dir = tempfile::tempdir().unwrap();
    let out = tiersim(dir.path(), &["run", "--set", "layers.nosuch.ttl_s=5"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out)
            .contains("no element named `nosuch`; names: browser, cdn, shield, l1, redis, db"),
        "{}",
        stderr(&out)
    );

    let out = tiersim(dir.path(), &["run", "--set", "layers.redis.ttl_s=-1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("(from --set): key `layers.redis.ttl_s`: is -1"),
        "{}",
        stderr(&out)
    );

    let out = tiersim(dir.path(), &["run", "--set", "novalue"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("expected KEY=VALUE"));

    let out = tiersim(dir.path(), &["validate", "absent.toml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("cannot read scenario absent.toml"));

    let out = tiersim(dir.path(), &["validate", "scenario.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("use a file ending in .toml or .json"));
}

#[test]
fn unwritable_output_fails_with_exit_1_and_keeps_existing_files() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("taken"), "not a folder").unwrap();
    let out = run_quickstart(dir.path(), &["--out", "taken/sub"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("cannot write taken/sub"));
    assert_eq!(
        fs::read_to_string(dir.path().join("taken")).unwrap(),
        "not a folder"
    );
}

/// Every TOML example in README.md is a valid scenario.
#[test]
fn readme_scenario_examples_validate() {
    let readme = fs::read_to_string(repo().join("README.md")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let blocks: Vec<&str> = readme
        .split("```toml\n")
        .skip(1)
        .map(|b| b.split("```").next().unwrap())
        .collect();
    assert!(!blocks.is_empty());
    for (i, block) in blocks.iter().enumerate() {
        let file = format!("readme{i}.toml");
        fs::write(dir.path().join(&file), block).unwrap();
        let out = tiersim(dir.path(), &["validate", &file]);
        assert!(out.status.success(), "README block {i}: {}", stderr(&out));
    }
}

/// Regression: `tiersim ... | head` used to panic when stdout closed early.
#[test]
fn a_closed_stdout_is_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tiersim"))
        .args(["run", "-q", "--out", "o"])
        .args(SMALL)
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(!stderr(&out).contains("panicked"));
    assert!(dir.path().join("o/summary.json").exists());
}
