//! Sweeps on a cluster: `--shard`, `--shard-from-env`, `tiersim merge`, and
//! `--backend slurm` against a real Slurm cluster on loopback
//! (`tests/cluster/slurm-loopback.sh`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::{repo, stderr, stdout, tiersim};

/// The sweep of the cluster checks: 6 points x 2 replications = 12 jobs of 20,000
/// requests of the app tier (without `-q`: the Slurm backend's progress lines are
/// checked; local runs print no bar where stderr is not a terminal).
fn sweep_args() -> Vec<String> {
    let scenario = repo().join("scenarios/app_tier.toml");
    [
        "sweep",
        scenario.to_str().unwrap(),
        "--grid",
        "layers.redis.ttl_s=5,30",
        "--grid",
        "layers.l1.policy=lru,fifo,lfu",
        "--replications",
        "2",
        "--set",
        "requests=20000",
        "--set",
        "warmup_requests=2000",
    ]
    .map(str::to_owned)
    .to_vec()
}

fn run(dir: &Path, args: &[String], extra: &[&str]) -> Output {
    let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
    all.extend(extra);
    tiersim(dir, &all)
}

#[test]
fn shards_from_the_command_line_and_the_environment_merge_into_the_local_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let args = sweep_args();
    let local = run(dir.path(), &args, &["--out", "local", "--jobs", "2"]);
    assert!(local.status.success(), "{}", stderr(&local));
    for k in 0..2 {
        let o = run(
            dir.path(),
            &args,
            &["--out", &format!("s{k}"), "--shard", &format!("{k}/3")],
        );
        assert!(o.status.success(), "{}", stderr(&o));
    }
    // Shard 2 as a Kubernetes Indexed Job would start it.
    let o = Command::new(env!("CARGO_BIN_EXE_tiersim"))
        .args(&args)
        .args(["--out", "s2", "--shard-from-env", "JOB_COMPLETION_INDEX/3"])
        .env("JOB_COMPLETION_INDEX", "2")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let m = tiersim(dir.path(), &["merge", "s0", "s1", "s2", "--out", "merged"]);
    assert!(m.status.success(), "{}", stderr(&m));
    assert!(
        stdout(&m).starts_with("merged 12 jobs from 3 shards"),
        "{}",
        stdout(&m)
    );
    for f in ["sweep.csv", "sweep_summary.csv"] {
        assert!(
            fs::read(dir.path().join("local").join(f)).unwrap()
                == fs::read(dir.path().join("merged").join(f)).unwrap(),
            "{f} differs from the local sweep's"
        );
    }
    // A missing shard fails the merge (exit 1), naming it; nothing is written.
    let m = tiersim(dir.path(), &["merge", "s0", "s2", "--out", "partial"]);
    assert_eq!(m.status.code(), Some(1), "{}", stderr(&m));
    assert!(stderr(&m).contains("from shard 1 of 3"), "{}", stderr(&m));
    assert!(!dir.path().join("partial").exists());
}

#[test]
fn bad_shard_arguments_are_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let args = sweep_args();
    for (extra, says) in [
        (
            vec!["--shard", "3/3"],
            "--shard `3/3`: K must be a whole number from 0 to 2",
        ),
        (vec!["--shard", "x"], "is not K/N"),
        (
            vec!["--shard-from-env", "TIERSIM_NO_SUCH_VAR/4"],
            "the environment variable TIERSIM_NO_SUCH_VAR is not set",
        ),
        (
            vec!["--backend", "slurm"],
            "--backend slurm needs --shards N",
        ),
    ] {
        let o = run(dir.path(), &args, &extra);
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(says), "{extra:?}: {}", stderr(&o));
    }
    let o = tiersim(dir.path(), &["merge", "nowhere", "--out", "m"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("nowhere: no such folder"),
        "{}",
        stderr(&o)
    );
}

/// A loopback Slurm cluster started by `tests/cluster/slurm-loopback.sh`, stopped on drop
/// (also when a check fails).
struct Cluster {
    dir: PathBuf,
}

impl Cluster {
    fn script() -> PathBuf {
        repo().join("tests/cluster/slurm-loopback.sh")
    }

    fn up(dir: &Path) -> Cluster {
        let o = Command::new(Self::script())
            .args(["up", dir.to_str().unwrap()])
            .output()
            .expect("bash runs the cluster script");
        let cluster = Cluster {
            dir: dir.to_owned(),
        };
        assert!(
            o.status.success(),
            "could not start the loopback Slurm cluster (this test needs root and the \
             slurm-wlm and munge packages; .ci/run installs them): {}{}",
            String::from_utf8_lossy(&o.stdout),
            stderr(&o)
        );
        cluster
    }

    /// Runs tiersim with `args` in `cwd`, against the cluster.
    fn tiersim(&self, cwd: &Path, args: &[String], extra: &[&str]) -> Output {
        Command::new(Self::script())
            .args([
                "exec",
                self.dir.to_str().unwrap(),
                env!("CARGO_BIN_EXE_tiersim"),
            ])
            .args(args)
            .args(extra)
            .current_dir(cwd)
            .output()
            .unwrap()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(Self::script())
            .args(["down", self.dir.to_str().unwrap()])
            .status();
    }
}

#[test]
#[ignore = "needs a Slurm loopback cluster (root, slurm-wlm, munge): run via .ci/run"]
fn slurm_loopback_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let work = dir.path();
    let cluster = Cluster::up(&work.join("cluster"));
    let args = sweep_args();
    let local = run(work, &args, &["--out", "local", "--jobs", "1"]);
    assert!(local.status.success(), "{}", stderr(&local));

    // 12 shards and the merge job: the local sweep's bytes.
    let o = cluster.tiersim(
        work,
        &args,
        &["--backend", "slurm", "--shards", "12", "--out", "cl"],
    );
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("submitted 12 of 12 shards"),
        "{}",
        stdout(&o)
    );
    assert!(
        stderr(&o).contains("shards: 12 done, 0 running, 0 pending"),
        "{}",
        stderr(&o)
    );
    for f in ["sweep.csv", "sweep_summary.csv"] {
        assert!(
            fs::read(work.join("local").join(f)).unwrap()
                == fs::read(work.join("cl").join(f)).unwrap(),
            "{f} of the 12-shard Slurm sweep differs from the local sweep's"
        );
    }
    // The shards ran on more than one node (each records SLURMD_NODENAME).
    let mut nodes: Vec<String> = (0..12)
        .map(|k| {
            let text = fs::read_to_string(work.join(format!("cl/shards/shard-{k}/shard.json")));
            let m: serde_json::Value = serde_json::from_str(&text.unwrap()).unwrap();
            m["node"].as_str().unwrap().to_owned()
        })
        .collect();
    nodes.sort();
    nodes.dedup();
    assert!(nodes.len() > 1, "all shards ran on {nodes:?}");
    assert!(nodes.iter().all(|n| n.starts_with("node")), "{nodes:?}");

    // A shard that cannot write its folder (a file stands where it goes) fails the
    // command, which names it and its log; the merge job is cancelled.
    fs::create_dir_all(work.join("fl/shards")).unwrap();
    fs::write(work.join("fl/shards/shard-5"), "in the way").unwrap();
    let o = cluster.tiersim(
        work,
        &args,
        &["--backend", "slurm", "--shards", "12", "--out", "fl"],
    );
    assert_eq!(o.status.code(), Some(1), "{}{}", stdout(&o), stderr(&o));
    let log = work.join("fl/logs/shard-5.out");
    assert!(
        stderr(&o).contains(&format!(
            "1 of 12 shards failed: shard 5 (log {}",
            fs::canonicalize(&log).unwrap().display()
        )),
        "{}",
        stderr(&o)
    );
    assert!(!work.join("fl/sweep.csv").exists());
    let before: Vec<Vec<u8>> = (0..12)
        .filter(|&k| k != 5)
        .map(|k| fs::read(work.join(format!("fl/shards/shard-{k}/sweep.csv"))).unwrap())
        .collect();
    let mtimes = |k: u32| {
        fs::metadata(work.join(format!("fl/logs/shard-{k}.out")))
            .unwrap()
            .modified()
            .unwrap()
    };
    let logs_before: Vec<_> = (0..12).filter(|&k| k != 5).map(mtimes).collect();

    // --resume once the cause is gone resubmits shard 5 alone, and the merge completes.
    fs::remove_file(work.join("fl/shards/shard-5")).unwrap();
    let o = cluster.tiersim(
        work,
        &args,
        &["--backend", "slurm", "--out", "fl", "--resume"],
    );
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    assert!(
        stdout(&o).contains("submitted 1 of 12 shards (5)"),
        "{}",
        stdout(&o)
    );
    let after: Vec<Vec<u8>> = (0..12)
        .filter(|&k| k != 5)
        .map(|k| fs::read(work.join(format!("fl/shards/shard-{k}/sweep.csv"))).unwrap())
        .collect();
    assert!(before == after, "shards that had finished ran again");
    let logs_after: Vec<_> = (0..12).filter(|&k| k != 5).map(mtimes).collect();
    assert_eq!(
        logs_before, logs_after,
        "shards that had finished ran again"
    );
    assert!(
        fs::read(work.join("local/sweep.csv")).unwrap()
            == fs::read(work.join("fl/sweep.csv")).unwrap()
    );
    drop(cluster);
}
