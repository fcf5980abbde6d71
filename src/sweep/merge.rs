//! Merging shard folders into one sweep folder: `sweep.csv` and `sweep_summary.csv`
//! byte for byte as a one-machine sweep of the same grid writes them.
//!
//! It needs only the folders: the grid and replications come from their fingerprints,
//! the layers from their manifests. It refuses folders of another sweep or another
//! sharding, names jobs found twice, and, when jobs are missing, names the shards that
//! hold them and writes nothing, so it can simply be run again once they finish.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use super::fingerprint::{self, Fingerprint};
use super::shard::{self, Manifest};
use super::{Point, SweepError, header, in_grid_order, points_of, read_rows, summary, write_rows};
use crate::output::report::OutputError;

/// Why shard folders could not be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// A folder is not a shard of a sweep, or cannot be read.
    #[error("{dir}: {message}")]
    Folder {
        /// The folder.
        dir: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A folder belongs to another sweep, or to another sharding of this one.
    #[error("{dir} is not a shard of the same sweep as {first}: {differences}")]
    Foreign {
        /// The folder.
        dir: PathBuf,
        /// The first folder, which the others are compared with.
        first: PathBuf,
        /// What differs, in words.
        differences: String,
    },
    /// The same job's rows are in two folders.
    #[error(
        "job {job} is in both {a} and {b}; give each shard's folder once (and all from one --shard N)"
    )]
    Duplicate {
        /// The job: its point and replication.
        job: String,
        /// One folder holding it.
        a: PathBuf,
        /// The other.
        b: PathBuf,
    },
    /// Jobs are missing: some shards have not finished, or their folders were not given.
    #[error(
        "{missing} of {jobs} jobs are missing, from shard{} {} of {count} ({}); nothing was written: run the merge again once they finish",
        if shards.len() == 1 { "" } else { "s" },
        list(shards),
        examples.join("; ")
    )]
    Missing {
        /// Jobs missing.
        missing: usize,
        /// Jobs in all.
        jobs: usize,
        /// The shards they belong to.
        shards: Vec<u32>,
        /// Shards in all.
        count: u32,
        /// The first few missing jobs, and the folders given that did not finish.
        examples: Vec<String>,
    },
    /// `--out` is one of the folders merged.
    #[error("--out {0} is one of the folders to merge; choose another folder")]
    OutIsInput(PathBuf),
    /// The output could not be written.
    #[error(transparent)]
    Output(#[from] OutputError),
}

impl MergeError {
    /// True when the folders given are wrong (exit 2), false when the sweep is only
    /// unfinished or the output cannot be written (exit 1).
    pub fn is_bad_input(&self) -> bool {
        !matches!(self, MergeError::Missing { .. } | MergeError::Output(_))
    }
}

fn list(shards: &[u32]) -> String {
    shards
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a merge found and wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Merged {
    /// Jobs merged (all of the sweep's).
    pub jobs: usize,
    /// Shards in all.
    pub shards: u32,
    /// The nodes that ran them, sorted, each once.
    pub nodes: Vec<String>,
}

/// Merges the shard folders `dirs` into `out`: `sweep.csv` in grid order,
/// `sweep_summary.csv` and the sweep's fingerprint.
pub fn merge(dirs: &[PathBuf], out: &Path) -> Result<Merged, MergeError> {
    let folder = |dir: &Path, message: String| MergeError::Folder {
        dir: dir.to_owned(),
        message,
    };
    if dirs.is_empty() {
        return Err(folder(Path::new("merge"), "no folders given".into()));
    }
    let out_real = std::fs::canonicalize(out).ok();
    // The first folder's fingerprint, and the first finished shard's manifest: every
    // other folder must match them.
    let mut first: Option<(PathBuf, Fingerprint)> = None;
    let mut first_manifest: Option<(PathBuf, Manifest)> = None;
    let mut finished: Vec<(PathBuf, Manifest)> = Vec::new();
    let mut unfinished: Vec<PathBuf> = Vec::new();
    let mut seen_shard: HashMap<u32, PathBuf> = HashMap::new();
    for dir in dirs {
        if !dir.is_dir() {
            return Err(folder(dir, "no such folder".into()));
        }
        if out_real.is_some() && std::fs::canonicalize(dir).ok() == out_real {
            return Err(MergeError::OutIsInput(out.to_owned()));
        }
        let print = Fingerprint::read(dir)
            .map_err(|m| folder(dir, m))?
            .ok_or_else(|| {
                folder(
                    dir,
                    format!(
                        "no {} here: not a sweep folder (`tiersim sweep --shard K/N --out DIR` writes one)",
                        fingerprint::FILE
                    ),
                )
            })?;
        match &first {
            None => first = Some((dir.clone(), print)),
            Some((first_dir, p)) => {
                let differences = p.differences(&print);
                if !differences.is_empty() {
                    return Err(MergeError::Foreign {
                        dir: dir.clone(),
                        first: first_dir.clone(),
                        differences: differences.join("; "),
                    });
                }
            }
        }
        let Some(manifest) = Manifest::read(dir).map_err(|m| folder(dir, m))? else {
            // Its shard started and did not finish: its jobs count as missing.
            unfinished.push(dir.clone());
            continue;
        };
        match &first_manifest {
            None => first_manifest = Some((dir.clone(), manifest.clone())),
            Some((first_dir, m)) => {
                if m.shard.count != manifest.shard.count || m.layers != manifest.layers {
                    return Err(MergeError::Foreign {
                        dir: dir.clone(),
                        first: first_dir.clone(),
                        differences: if m.shard.count != manifest.shard.count {
                            format!(
                                "it is shard {} of {}, {} is of {}",
                                manifest.shard.index,
                                manifest.shard.count,
                                first_dir.display(),
                                m.shard.count
                            )
                        } else {
                            "their layers differ".into()
                        },
                    });
                }
            }
        }
        if let Some(other) = seen_shard.insert(manifest.shard.index, dir.clone()) {
            return Err(folder(
                dir,
                format!(
                    "it is shard {} of {}, and so is {}; give each shard's folder once",
                    manifest.shard.index,
                    manifest.shard.count,
                    other.display()
                ),
            ));
        }
        finished.push((dir.clone(), manifest));
    }
    let (_, print) = first.expect("at least one folder");
    let keys: Vec<String> = print.grid.iter().map(|(k, _)| k.clone()).collect();
    let points = points_of(print.grid.iter().map(|(k, v)| (k, v)));
    let header = header(keys.iter().cloned());
    let index: HashMap<Vec<String>, usize> = points
        .iter()
        .enumerate()
        .map(|(i, p)| (p.cells(), i))
        .collect();
    let reps = print.replications as usize;
    let jobs = points.len() * reps;
    let n_axes = keys.len();
    // Job number (point * replications + replication) -> the folder its rows came from.
    let mut owner: Vec<Option<usize>> = vec![None; jobs];
    let mut rows = Vec::new();
    for (i, (dir, manifest)) in finished.iter().enumerate() {
        let path = dir.join("sweep.csv");
        let found = read_rows(&path, &header).map_err(|e| match e {
            SweepError::Resume { message, .. } => folder(&path, message),
            other => folder(&path, other.to_string()),
        })?;
        let mut per_job: HashMap<usize, usize> = HashMap::new();
        for r in &found {
            let cells: Vec<String> = r.iter().take(n_axes).map(str::to_owned).collect();
            let job = index.get(&cells).and_then(|&p| {
                let rep: usize = r.get(n_axes)?.parse().ok()?;
                (rep < reps).then_some(p * reps + rep)
            });
            let job = job.ok_or_else(|| {
                folder(
                    &path,
                    format!(
                        "a row's point ({}) is not on this sweep's grid",
                        cells.join(", ")
                    ),
                )
            })?;
            *per_job.entry(job).or_default() += 1;
        }
        for (&job, &n) in &per_job {
            if n != manifest.layers.len() {
                return Err(folder(
                    &path,
                    format!(
                        "job {} has {n} rows, not one per layer ({}): the folder was changed after its shard finished; run the shard again",
                        label(&points, reps, job),
                        manifest.layers.len()
                    ),
                ));
            }
            if let Some(j) = owner[job] {
                return Err(MergeError::Duplicate {
                    job: label(&points, reps, job),
                    a: finished[j].0.clone(),
                    b: dir.clone(),
                });
            }
            owner[job] = Some(i);
        }
        rows.extend(found);
    }
    let missing: Vec<usize> = (0..jobs).filter(|&j| owner[j].is_none()).collect();
    if !missing.is_empty() {
        let count = finished.first().map_or(0, |(_, m)| m.shard.count).max(1);
        let assigned = shard::assign(&points, print.replications, count);
        let shards: BTreeSet<u32> = missing.iter().map(|&j| assigned[j]).collect();
        let mut examples: Vec<String> = missing
            .iter()
            .take(3)
            .map(|&j| format!("job {}", label(&points, reps, j)))
            .collect();
        if missing.len() > 3 {
            examples.push(format!("{} more", missing.len() - 3));
        }
        for dir in &unfinished {
            examples.push(format!("{} did not finish", dir.display()));
        }
        return Err(MergeError::Missing {
            missing: missing.len(),
            jobs,
            shards: shards.into_iter().collect(),
            count,
            examples,
        });
    }
    let layers = finished[0].1.layers.clone();
    let rows = in_grid_order(rows, n_axes, &points);
    std::fs::create_dir_all(out).map_err(|source| OutputError::Io {
        path: out.to_owned(),
        source,
    })?;
    print.write(out)?;
    write_rows(&out.join("sweep.csv"), &header, &rows)?;
    crate::output::report::write_atomic(
        &out.join("sweep_summary.csv"),
        &summary(&keys, &points, &layers, &rows),
    )?;
    let nodes: BTreeSet<String> = finished.iter().map(|(_, m)| m.node.clone()).collect();
    Ok(Merged {
        jobs,
        shards: finished[0].1.shard.count,
        nodes: nodes.into_iter().collect(),
    })
}

fn label(points: &[Point], reps: usize, job: usize) -> String {
    let p = &points[job / reps];
    let point = if p.coords.is_empty() {
        "(the only point)".to_owned()
    } else {
        p.label()
    };
    format!("{point} replication {}", job % reps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Override, Source};
    use crate::sweep::shard::Shard;
    use crate::sweep::{Axis, Sweep};

    /// A small sweep of the app tier: 3 points x 2 replications, 2,000 requests a job.
    fn sweep(seed: u64) -> Sweep {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/app_tier.toml");
        let set = ["requests=2000", "warmup_requests=200"]
            .iter()
            .map(|s| Override::parse(s).unwrap())
            .collect();
        let grid = vec![Axis::parse("layers.redis.ttl_s=5,30,60").unwrap()];
        Sweep::new(Source::read(&path).unwrap(), set, grid, Some(2), Some(seed)).unwrap()
    }

    fn shards(s: &Sweep, root: &Path, n: u32) -> Vec<PathBuf> {
        (0..n)
            .map(|k| {
                let dir = root.join(format!("s{k}"));
                let shard = Shard { index: k, count: n };
                s.run_shard(&dir, 1, false, Some((shard, "here")), &|| {})
                    .unwrap();
                dir
            })
            .collect()
    }

    #[test]
    fn shards_merge_into_the_local_sweeps_bytes() {
        let root = tempfile::tempdir().unwrap();
        let s = sweep(1);
        s.run(&root.path().join("local"), 2, false, &|| {}).unwrap();
        let dirs = shards(&s, root.path(), 4);
        let merged = merge(&dirs, &root.path().join("m")).unwrap();
        assert_eq!(merged.jobs, 6);
        assert_eq!(merged.nodes, ["here"]);
        for f in ["sweep.csv", "sweep_summary.csv", "sweep.json"] {
            assert_eq!(
                std::fs::read(root.path().join("local").join(f)).unwrap(),
                std::fs::read(root.path().join("m").join(f)).unwrap(),
                "{f}"
            );
        }
    }

    #[test]
    fn missing_shards_are_named_and_nothing_is_written() {
        let root = tempfile::tempdir().unwrap();
        let s = sweep(1);
        let dirs = shards(&s, root.path(), 3);
        let out = root.path().join("m");
        let e = merge(&[dirs[0].clone(), dirs[2].clone()], &out).unwrap_err();
        assert!(!e.is_bad_input());
        assert!(
            e.to_string()
                .starts_with("2 of 6 jobs are missing, from shard 1 of 3"),
            "{e}"
        );
        assert!(!out.exists(), "a failed merge writes nothing");
        // An unfinished shard (no manifest) counts as missing, and is named.
        std::fs::remove_file(dirs[1].join(shard::MANIFEST)).unwrap();
        let e = merge(&dirs, &out).unwrap_err();
        assert!(e.to_string().contains("s1 did not finish"), "{e}");
        // Rerun once the shard finished: the merge completes.
        s.run_shard(
            &dirs[1],
            1,
            true,
            Some((Shard { index: 1, count: 3 }, "here")),
            &|| {},
        )
        .unwrap();
        assert_eq!(merge(&dirs, &out).unwrap().jobs, 6);
    }

    #[test]
    fn duplicates_and_foreign_folders_are_refused() {
        let root = tempfile::tempdir().unwrap();
        let s = sweep(1);
        let dirs = shards(&s, root.path(), 2);
        let out = root.path().join("m");
        // The same shard twice.
        let e = merge(&[dirs[0].clone(), dirs[0].clone()], &out).unwrap_err();
        assert!(
            e.is_bad_input() && e.to_string().contains("give each shard's folder once"),
            "{e}"
        );
        // A job in two folders: shard 0 of 2 and the whole sweep as shard 0 of 1 differ
        // in count, so the count is named first.
        let whole = root.path().join("whole");
        s.run_shard(
            &whole,
            1,
            false,
            Some((Shard { index: 0, count: 1 }, "here")),
            &|| {},
        )
        .unwrap();
        let e = merge(&[dirs[0].clone(), whole.clone()], &out).unwrap_err();
        assert!(e.to_string().contains("it is shard 0 of 1"), "{e}");
        // The same job's rows under another shard's name (a folder copied by hand).
        let copy = root.path().join("copy");
        std::fs::create_dir(&copy).unwrap();
        for f in ["sweep.csv", "sweep.json"] {
            std::fs::copy(dirs[0].join(f), copy.join(f)).unwrap();
        }
        let mut m = Manifest::read(&dirs[1]).unwrap().unwrap();
        m.node = "copy".into();
        m.write(&copy).unwrap();
        let e = merge(&[dirs[0].clone(), copy], &out).unwrap_err();
        assert!(matches!(e, MergeError::Duplicate { .. }), "{e}");
        assert!(e.to_string().contains("replication"), "{e}");
        // Another seed is another sweep.
        let other = shards(&sweep(2), &root.path().join("other"), 2);
        let e = merge(&[dirs[0].clone(), other[1].clone()], &out).unwrap_err();
        assert!(
            e.is_bad_input() && e.to_string().contains("seed 2 there, 1 now"),
            "{e}"
        );
        assert!(!out.exists());
    }
}
