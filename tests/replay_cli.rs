//! The `tiersim replay` command line, driven as a user would: the real binary in a temp
//! folder.

use std::path::PathBuf;
use std::process::Command;

fn tiersim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tiersim"))
}

fn cloud_physics() -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/traces/libcachesim/cloudPhysicsIO.oracleGeneral.bin");
    if p.is_file() {
        Some(p)
    } else {
        eprintln!("skipped: {} is missing", p.display());
        None
    }
}

#[test]
fn replay_writes_a_sane_csv() {
    let Some(trace) = cloud_physics() else { return };
    let out = tempfile::tempdir().unwrap();
    let o = tiersim()
        .arg("replay")
        .arg(&trace)
        .args([
            "--format",
            "oracle_general",
            "--policy",
            "lru,s3fifo,belady",
        ])
        .args(["--size", "100,1000,10000", "--jobs", "2", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(out.path().join("replay.csv")).unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "policy,size,size_unit,requests,misses,miss_ratio,bytes,miss_bytes,byte_miss_ratio"
    );
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(str::to_owned).collect())
        .collect();
    assert_eq!(rows.len(), 9);
    let mr = |policy: &str, size: &str| -> f64 {
        let r = rows
            .iter()
            .find(|r| r[0] == policy && r[1] == size)
            .unwrap();
        assert_eq!(r[2], "entries");
        assert_eq!(r[3], "113872", "every request counted");
        let (req, miss): (u64, u64) = (r[3].parse().unwrap(), r[4].parse().unwrap());
        let ratio: f64 = r[5].parse().unwrap();
        assert!((ratio - miss as f64 / req as f64).abs() < 1e-12);
        let b: f64 = r[8].parse().unwrap();
        assert!((0.0..=1.0).contains(&b));
        ratio
    };
    assert!(mr("lru", "100") > mr("lru", "1000"));
    assert!(mr("lru", "1000") > mr("lru", "10000"));
    for size in ["100", "1000", "10000"] {
        assert!(mr("belady", size) <= mr("lru", size), "belady is optimal");
    }
}

#[test]
fn bytes_unit_is_reported() {
    let Some(trace) = cloud_physics() else { return };
    let out = tempfile::tempdir().unwrap();
    let o = tiersim()
        .arg("replay")
        .arg(&trace)
        .args(["--format", "oracle_general", "--policy", "gdsf,lru"])
        .args(["--size", "1000000", "--size-unit", "bytes", "--out"])
        .arg(out.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(out.path().join("replay.csv")).unwrap();
    assert!(csv.contains("gdsf,1000000,bytes,113872,"), "{csv}");
}

fn fails_with(args: &[&str], needle: &str) {
    let o = tiersim().args(args).output().unwrap();
    assert_eq!(o.status.code(), Some(2), "{args:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(needle), "{args:?}: {err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn bad_input_exits_2_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("t.txt");
    std::fs::write(&t, "1 2 3\n4 x 6\n").unwrap();
    let t = t.to_str().unwrap();
    let base = ["replay", t, "--size", "10"];
    let with = |extra: &[&'static str]| -> Vec<&str> {
        base.iter().copied().chain(extra.iter().copied()).collect()
    };
    fails_with(
        &[
            "replay",
            "/nonexistent/trace",
            "--format",
            "lirs",
            "--policy",
            "lru",
            "--size",
            "1",
        ],
        "cannot read trace /nonexistent/trace",
    );
    fails_with(
        &with(&["--format", "nope", "--policy", "lru"]),
        "unknown trace format `nope`",
    );
    fails_with(
        &with(&["--format", "lirs", "--policy", "lru,lur"]),
        "unknown policy `lur`",
    );
    fails_with(
        &with(&["--format", "webcachesim", "--policy", "lru"]),
        "record 2: field `id` is `x`",
    );
    fails_with(
        &with(&[
            "--format",
            "lirs",
            "--policy",
            "lru",
            "--size-unit",
            "pages",
        ]),
        "unknown size unit `pages`",
    );
}

#[test]
fn scenarios_reject_belady() {
    let scenario = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/app_tier.toml");
    let o = tiersim()
        .arg("validate")
        .arg(&scenario)
        .args(["--set", "layers.redis.policy=belady"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("only trace replay"), "{err}");
}
