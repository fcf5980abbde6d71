//! The fuzz harness (`fuzz/harness.rs`) itself: a case is a function of its seed and
//! number, its scenario files mostly parse, the request cap leaves a mutation's own
//! small `requests` alone, and a binary that panics, aborts, hangs or leaves the exit
//! code contract is reported as failing, with its input saved for replay. The real
//! binary passes the controls (the scenarios as shipped).

use std::path::{Path, PathBuf};
use std::time::Duration;

// The harness is shared with its command line (`fuzz/main.rs`); this test uses part of it.
#[allow(dead_code)]
#[path = "../../fuzz/harness.rs"]
mod harness;

use harness::child::Limits;
use harness::{Case, Config, Corpus, Input};

fn corpus() -> Corpus {
    Corpus::load(&super::support::repo().join("scenarios")).expect("the scenarios load")
}

fn config(bin: PathBuf, dir: &Path, cases: u64) -> Config {
    Config {
        bin,
        first: 0,
        cases,
        seed: 1,
        jobs: 2,
        limits: Limits {
            timeout: Duration::from_secs(20),
            memory: 2048 << 20,
            file_size: 256 << 20,
        },
        out: dir.join("out"),
        work: dir.join("work"),
        max_requests: 5_000,
        minimize: 1,
        keep: 3,
        run_args: Vec::new(),
        max_memory: Some(1024 << 20),
        progress: false,
    }
}

/// A shell script standing in for tiersim.
fn fake(dir: &Path, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join("fake-tiersim");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// Every file a case writes, and its commands.
fn rendered(case: &Case, corpus: &Corpus, cfg: &Config, dir: &Path) -> Vec<String> {
    std::fs::create_dir_all(dir).unwrap();
    let commands = harness::materialize(case, corpus, cfg, dir).unwrap();
    let mut out: Vec<String> = commands.iter().map(|c| c.args.join(" ")).collect();
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files {
        out.push(format!("{}: {:?}", f.display(), std::fs::read(&f).unwrap()));
    }
    out.iter()
        .map(|s| s.replace(&dir.display().to_string(), ""))
        .collect()
}

#[test]
fn a_case_is_a_function_of_seed_and_number() {
    let corpus = corpus();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(PathBuf::from("tiersim"), tmp.path(), 0);
    let mut differ = 0;
    for i in 0..300 {
        let a = Case::generate(&corpus, 7, i, 20_000);
        let b = Case::generate(&corpus, 7, i, 20_000);
        let ra = rendered(&a, &corpus, &cfg, &tmp.path().join(format!("a{i}")));
        let rb = rendered(&b, &corpus, &cfg, &tmp.path().join(format!("b{i}")));
        assert_eq!(ra, rb, "case {i} of seed 7 rendered twice");
        let c = Case::generate(&corpus, 8, i, 20_000);
        differ += usize::from(a.describe(&corpus) != c.describe(&corpus));
    }
    // Controls (every hundredth case) are the same under any seed but their cap; the
    // other 297 cases differ unless two seeds draw the same mutations, which with
    // dozens of operators and values per draw happens to a handful at most.
    assert!(
        differ >= 290,
        "only {differ} of 300 cases differ between seeds 7 and 8"
    );
}

#[test]
fn generated_scenarios_mostly_parse() {
    let corpus = corpus();
    let (mut scenarios, mut parse, mut clean, mut clean_parse) = (0, 0, 0, 0);
    for i in 0..2_000 {
        let case = Case::generate(&corpus, 1, i, 20_000);
        let (scenario, muts) = match &case.input {
            Input::Control { scenario } => (*scenario, Vec::new()),
            Input::Scenario { scenario, muts } => (*scenario, muts.clone()),
            Input::Trace { .. } => continue,
        };
        let r = harness::scenario::render(&corpus.scenarios[scenario].tree, &muts);
        let text = String::from_utf8_lossy(&r.bytes);
        let ok = if r.file.ends_with(".json") {
            serde_json::from_str::<serde_json::Value>(&text).is_ok()
        } else {
            toml::from_str::<toml::Table>(&text).is_ok()
        };
        scenarios += 1;
        parse += usize::from(ok);
        // Without text damage, JSON or a raw literal, the file is the tree as TOML.
        let plain = muts.iter().all(|m| {
            !m.is_text()
                && *m != harness::scenario::Mutation::Json
                && !matches!(
                    m,
                    harness::scenario::Mutation::Set {
                        value: harness::scenario::Val::Raw(_),
                        ..
                    }
                )
        });
        if plain {
            clean += 1;
            clean_parse += usize::from(ok);
            assert!(ok, "case {i} is plain TOML but does not parse:\n{text}");
            if muts.is_empty() {
                let back = toml::Value::Table(toml::from_str(&text).unwrap());
                assert_eq!(back, corpus.scenarios[scenario].tree, "case {i} round trip");
            }
        }
    }
    assert!(scenarios > 1_000, "{scenarios} scenario cases of 2000");
    assert_eq!(clean, clean_parse);
    // Text damage, JSON and raw literals are each a few percent of the mutations.
    assert!(
        parse * 10 >= scenarios * 8,
        "{parse} of {scenarios} generated scenario files parse"
    );
}

#[test]
fn the_cap_keeps_a_small_requests_and_fixes_the_warmup() {
    use harness::scenario::{Mutation, Step, Val, render};
    let corpus = corpus();
    let app = corpus
        .scenarios
        .iter()
        .find(|s| s.name == "app_tier.toml")
        .unwrap();
    let set = |k: &str, v: i64| Mutation::Set {
        path: vec![Step::Key(k.into())],
        value: Val::Toml(toml::Value::Integer(v)),
    };
    let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    // As shipped: 1M requests, 100k warm-up.
    let r = render(&app.tree, &[]);
    assert_eq!(
        harness::capped(&r, 5_000),
        pairs(&[("requests", "5000"), ("warmup_requests", "500")])
    );
    // A mutation's own small count runs as written; the warm-up must stay below it.
    let r = render(&app.tree, &[set("requests", 10)]);
    assert_eq!(
        harness::capped(&r, 5_000),
        pairs(&[("warmup_requests", "1")])
    );
    let r = render(
        &app.tree,
        &[set("requests", 3_000), set("warmup_requests", 7)],
    );
    assert!(harness::capped(&r, 5_000).is_empty());
    // A --set the harness cannot read, or a damaged text, gets the cap.
    let r = render(
        &app.tree,
        &[Mutation::Override("requests".into(), "1e15".into())],
    );
    assert_eq!(
        harness::capped(&r, 5_000)[0],
        ("requests".into(), "5000".into())
    );
    let r = render(
        &app.tree,
        &[set("warmup_requests", 0), Mutation::Truncate(999)],
    );
    assert_eq!(
        harness::capped(&r, 5_000),
        pairs(&[("requests", "5000"), ("warmup_requests", "500")])
    );
}

#[test]
fn a_panicking_binary_fails_every_case_and_its_input_is_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = fake(
        tmp.path(),
        "echo \"thread 'main' (7) panicked at src/fake.rs:1:2:\" >&2\necho boom >&2\nexit 101",
    );
    let corpus = corpus();
    let cfg = config(bin, tmp.path(), 8);
    let s = harness::run(&cfg, &corpus).unwrap();
    assert_eq!(s.failed(), 8, "{s:#?}");
    for c in &s.classes {
        assert!(
            c.class.starts_with("panic at src/fake.rs:1:2 ["),
            "{}",
            c.class
        );
        // One case reproduces a panic that every input raises: no mutation needed.
        assert_eq!(c.minimal[0].0.mutations(), 0, "{}", c.class);
    }
    let first = s.classes[0].cases[0];
    let kept = harness::case_dir(&cfg, first);
    let script = std::fs::read_to_string(kept.join("commands.sh")).unwrap();
    assert!(
        script.contains(&format!("--seed 1 --case {first}")),
        "{script}"
    );
    let case_txt = std::fs::read_to_string(kept.join("case.txt")).unwrap();
    assert!(
        case_txt.starts_with(&format!("seed 1, case {first}\n")),
        "{case_txt}"
    );
    let report = std::fs::read_to_string(cfg.out.join("report.txt")).unwrap();
    assert!(report.contains("8 failed"), "{report}");
    assert!(!cfg.work.exists(), "the scratch folder is removed");
}

#[test]
fn signals_codes_and_timeouts_are_failures() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = fake(
        tmp.path(),
        "case \"$1\" in\n  validate) exit 0 ;;\n  run) echo 'error: it broke' >&2; exit 3 ;;\n  \
         replay) kill -ABRT $$ ;;\nesac",
    );
    let corpus = corpus();
    let cfg = config(bin, tmp.path(), 30);
    let s = harness::run(&cfg, &corpus).unwrap();
    let classes: Vec<&str> = s.classes.iter().map(|c| c.class.as_str()).collect();
    assert!(
        classes.contains(&"exit 3: error: it broke [run]"),
        "{classes:?}"
    );
    assert!(
        classes.contains(&"killed by SIGABRT [replay]"),
        "{classes:?}"
    );
    assert_eq!(s.failed(), 30, "{classes:?}");

    let bin = fake(tmp.path(), "exec sleep 60");
    let cfg = Config {
        cases: 1,
        limits: Limits {
            timeout: Duration::from_millis(300),
            ..cfg.limits
        },
        minimize: 0,
        ..config(bin, tmp.path(), 1)
    };
    let s = harness::run(&cfg, &corpus).unwrap();
    assert_eq!(s.classes[0].class, "timeout [validate]");
}

#[test]
fn exit_2_passes_except_for_a_control() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = fake(tmp.path(), "echo 'error: bad input' >&2\nexit 2");
    let corpus = corpus();
    let cfg = config(bin, tmp.path(), 201);
    let s = harness::run(&cfg, &corpus).unwrap();
    // Cases 0, 100 and 200 are controls: the scenarios as shipped must pass.
    assert_eq!(s.classes.len(), 1, "{s:#?}");
    assert_eq!(s.classes[0].class, "exit 2: error: bad input [validate]");
    assert_eq!(s.classes[0].cases, [0, 100, 200]);

    // Exit 0 without the output files a run writes is a failure too.
    let bin = fake(tmp.path(), "exit 0");
    let s = harness::run(&config(bin, tmp.path(), 1), &corpus).unwrap();
    assert_eq!(
        s.classes[0].class,
        "exit 0 but summary.json is missing, empty or unreadable [run]"
    );
}

#[test]
fn the_real_binary_passes_every_control() {
    let corpus = corpus();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(PathBuf::from(env!("CARGO_BIN_EXE_tiersim")), tmp.path(), 0);
    for k in 0..corpus.scenarios.len() as u64 {
        let case = Case::generate(&corpus, 1, k * harness::CONTROL_EVERY, cfg.max_requests);
        assert!(matches!(case.input, Input::Control { .. }));
        let o = harness::execute(&case, &corpus, &cfg, &tmp.path().join("case")).unwrap();
        assert!(o.failure.is_none(), "{}: {o:?}", case.describe(&corpus));
        assert_eq!(o.statuses.len(), 2, "validate, then run");
    }
}

/// A case too big for the harness's memory limit is refused by tiersim's own estimate
/// (exit 2, a pass), because every `validate` and `run` gets `--max-memory` below the
/// limit: 5M browser caches (6.4 GB) under a 2 GB address space, 1 GB budget.
#[test]
fn a_case_too_big_for_the_limit_is_refused_by_the_estimate() {
    let corpus = corpus();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(PathBuf::from(env!("CARGO_BIN_EXE_tiersim")), tmp.path(), 0);
    let scenario = corpus
        .scenarios
        .iter()
        .position(|s| s.name == "private_on_shared_cache.toml")
        .unwrap();
    let case = Case {
        index: 1,
        input: Input::Scenario {
            scenario,
            muts: vec![harness::scenario::Mutation::Override(
                "workload.clients".into(),
                "5000000".into(),
            )],
        },
        cap: 1_000,
        plot: false,
        blocked_out: false,
    };
    let commands = harness::materialize(&case, &corpus, &cfg, tmp.path()).unwrap();
    for c in &commands {
        assert!(
            c.args.contains(&format!("--max-memory={}", 1024u64 << 20)),
            "{:?}",
            c.args
        );
    }
    let o = harness::execute(&case, &corpus, &cfg, &tmp.path().join("case")).unwrap();
    assert!(o.failure.is_none(), "{o:?}");
    assert_eq!(
        o.statuses
            .iter()
            .map(|&(stage, status, _)| (stage, status))
            .collect::<Vec<_>>(),
        [(harness::Stage::Validate, harness::child::Status::Exited(2))],
        "validate refuses it; run is not reached"
    );
}
