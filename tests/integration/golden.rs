//! Golden outputs: every scenario in `scenarios/`, replays of the trace shipped in
//! `traces/` and of the shared traces, compared byte for byte with the files committed
//! under `tests/golden/`. The shared traces' replays are in `shared_traces`, ignored
//! unless asked for (`.ci/run` runs them where `../shared/traces` exists).
//!
//! A change that alters an output updates these files in the same commit and says why;
//! a refactor never does. To rewrite them after an intended change:
//! `TIERSIM_BLESS=1 cargo test --release --test integration golden`, then review the diff.

use std::fs;
use std::path::{Path, PathBuf};

use crate::support::{repo, stderr, tiersim};

/// The files `tiersim run` writes that are pinned.
const RUN_FILES: [&str; 4] = [
    "summary.json",
    "layers.csv",
    "timeseries.csv",
    "latency.csv",
];

/// Every policy of the `policies!` list, in its order.
const ALL_POLICIES: &str = "fifo,lru,lfu,perfect_lfu,random,clock,slru,2q,arc,lirs,s3fifo,sieve,wtinylfu,gdsf,lfuda,belady";

fn golden_dir() -> PathBuf {
    repo().join("tests/golden")
}

fn blessing() -> bool {
    std::env::var_os("TIERSIM_BLESS").is_some_and(|v| v != "0")
}

/// Compares `produced` with the golden file `golden` (or writes it when blessing);
/// returns a line describing a mismatch.
fn check(produced: &Path, golden: &Path) -> Option<String> {
    let got = fs::read(produced).unwrap_or_else(|e| panic!("{}: {e}", produced.display()));
    if blessing() {
        fs::create_dir_all(golden.parent().unwrap()).unwrap();
        fs::write(golden, &got).unwrap();
        return None;
    }
    let want = match fs::read(golden) {
        Ok(w) => w,
        Err(e) => return Some(format!("{}: {e}", golden.display())),
    };
    if got == want {
        return None;
    }
    let (got, want) = (
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&want),
    );
    let line = got
        .lines()
        .zip(want.lines())
        .position(|(g, w)| g != w)
        .unwrap_or_else(|| got.lines().count().min(want.lines().count()));
    Some(format!(
        "{} differs from {} at line {}:\n  got:  {}\n  want: {}",
        produced.display(),
        golden.display(),
        line + 1,
        got.lines().nth(line).unwrap_or("<end of file>"),
        want.lines().nth(line).unwrap_or("<end of file>"),
    ))
}

/// The scenario files, sorted.
fn scenarios() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(repo().join("scenarios"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml" || e == "json"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_scenario_writes_its_golden_files() {
    let files = scenarios();
    assert!(files.len() >= 9, "the scenarios folder lost files");
    let mut wrong = Vec::new();
    for file in files {
        let name = file.file_stem().unwrap().to_str().unwrap().to_owned();
        let out = tempfile::tempdir().unwrap();
        // Whole scenarios: each runs in well under a second in release.
        let o = tiersim(
            out.path(),
            &["run", file.to_str().unwrap(), "--out", "out", "--quiet"],
        );
        assert!(o.status.success(), "{name}: {}", stderr(&o));
        for f in RUN_FILES {
            let golden = golden_dir().join("scenarios").join(&name).join(f);
            wrong.extend(check(&out.path().join("out").join(f), &golden));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Replays `trace` (a path) in `format` with every policy at `sizes` in `unit`, and
/// compares `replay.csv` with the golden `tests/golden/replay/NAME.csv`.
fn replay_golden(
    name: &str,
    trace: &Path,
    format: &str,
    sizes: &str,
    unit: &str,
) -> Option<String> {
    let out = tempfile::tempdir().unwrap();
    let o = tiersim(
        out.path(),
        &[
            "replay",
            trace.to_str().unwrap(),
            "--format",
            format,
            "--policy",
            ALL_POLICIES,
            "--size",
            sizes,
            "--size-unit",
            unit,
            "--out",
            "out",
            "--quiet",
        ],
    );
    assert!(o.status.success(), "{name}: {}", stderr(&o));
    let golden = golden_dir().join("replay").join(format!("{name}.csv"));
    check(&out.path().join("out/replay.csv"), &golden)
}

/// Replays of the trace shipped in `traces/`, which every checkout has.
#[test]
fn replays_of_the_shipped_trace_write_their_golden_files() {
    let trace = repo().join("traces/zipf0.9-10k.oracleGeneral.bin");
    let wrong: Vec<String> = [
        ("shipped-entries", "10,100,1000", "entries"),
        ("shipped-bytes", "100000,1000000", "bytes"),
    ]
    .into_iter()
    .filter_map(|(name, sizes, unit)| replay_golden(name, &trace, "oracle_general", sizes, unit))
    .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[path = "../common/shared_traces.rs"]
mod shared;

mod shared_traces {
    use super::*;

    /// Replays pinned on the shared traces: (golden name, trace under ../shared/traces,
    /// format, sizes, size unit).
    const REPLAYS: [(&str, &str, &str, &str, &str); 5] = [
        (
            "cloudPhysicsIO-entries",
            "libcachesim/cloudPhysicsIO.oracleGeneral.bin",
            "oracle_general",
            "100,1000,10000",
            "entries",
        ),
        (
            "cloudPhysicsIO-bytes",
            "libcachesim/cloudPhysicsIO.oracleGeneral.bin",
            "oracle_general",
            "1000000,100000000",
            "bytes",
        ),
        (
            "OLTP",
            "arc/OLTP.lis.zst",
            "arc_lis",
            "1000,10000",
            "entries",
        ),
        (
            "multi2",
            "lirs/multi2.trace.gz",
            "lirs",
            "100,1000",
            "entries",
        ),
        (
            "sprite",
            "lirs/sprite.trace.gz",
            "lirs",
            "100,1000",
            "entries",
        ),
    ];

    #[test]
    #[ignore = "needs ../shared/traces"]
    fn replays_of_the_shared_traces_write_their_golden_files() {
        let mut wrong = Vec::new();
        for (name, trace, format, sizes, unit) in REPLAYS {
            let path = super::shared::path(trace);
            wrong.extend(replay_golden(name, &path, format, sizes, unit));
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }
}
