//! Shards: which of N machines runs which job of a sweep, and the manifest a finished
//! shard leaves in its folder.
//!
//! A job (point × replication) is keyed by XXH3-64 (the xxHash spec's 64-bit XXH3,
//! seed 0, from the `xxhash-rust` crate: a documented, frozen algorithm, unlike std's
//! `DefaultHasher`) of its coordinates sorted by key and its replication. Jobs are ranked
//! by that key and dealt round-robin to the shards, so every shard gets the same number of
//! jobs within one, and a job's shard depends only on the set of jobs and N, never on the
//! order of the axes or of their values.

use std::path::Path;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::Point;
use crate::output::report::OutputError;

/// The file a shard writes last, into its folder, when all its jobs are in `sweep.csv`.
pub const MANIFEST: &str = "shard.json";

/// Shard `index` of `count` (0-based), as `--shard K/N` gives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// This shard, from 0.
    pub index: u32,
    /// Shards in all.
    pub count: u32,
}

impl FromStr for Shard {
    type Err = String;

    /// Parses `K/N` with `0 <= K < N`.
    fn from_str(s: &str) -> Result<Shard, String> {
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| format!("`{s}` is not K/N (e.g. 3/12: shard 3 of 12, from 0)"))?;
        let count: u32 = n
            .trim()
            .parse()
            .ok()
            .filter(|&n| n >= 1)
            .ok_or_else(|| format!("`{s}`: N must be a whole number of at least 1"))?;
        let index: u32 = k
            .trim()
            .parse()
            .ok()
            .filter(|&k| k < count)
            .ok_or_else(|| {
                format!(
                    "`{s}`: K must be a whole number from 0 to {} (shards count from 0)",
                    count - 1
                )
            })?;
        Ok(Shard { index, count })
    }
}

/// A job's stable key: XXH3-64 of `key=value` per coordinate (values as JSON), sorted by
/// key and joined by U+001F, then U+001E and the replication in decimal.
pub fn job_key(point: &Point, replication: u32) -> u64 {
    let mut coords: Vec<String> = point
        .coords
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    coords.sort();
    let text = format!("{}\u{1e}{replication}", coords.join("\u{1f}"));
    xxhash_rust::xxh3::xxh3_64(text.as_bytes())
}

/// The shard of every job of `points` × `replications` among `count`, in job order
/// (point by point, replications within a point).
pub fn assign(points: &[Point], replications: u32, count: u32) -> Vec<u32> {
    let mut ranked: Vec<(u64, usize)> = points
        .iter()
        .flat_map(|p| (0..replications).map(move |r| job_key(p, r)))
        .enumerate()
        .map(|(job, key)| (key, job))
        .collect();
    // Ties (a 64-bit collision) fall back to job order, which only a collision can reach.
    ranked.sort_unstable();
    let mut shard = vec![0; ranked.len()];
    for (rank, (_, job)) in ranked.into_iter().enumerate() {
        shard[job] = (rank % count as usize) as u32;
    }
    shard
}

/// What a finished shard says about itself in [`MANIFEST`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Which shard.
    pub shard: Shard,
    /// Jobs it ran (all of its share).
    pub jobs: usize,
    /// The layers of each job, in row order, which a merge needs to order and summarize.
    pub layers: Vec<String>,
    /// The machine that ran it (`SLURMD_NODENAME` under Slurm, else the host name).
    pub node: String,
}

impl Manifest {
    /// Reads the manifest in `dir`, if there is one.
    pub fn read(dir: &Path) -> Result<Option<Manifest>, String> {
        super::read_json(&dir.join(MANIFEST), "a shard manifest")
    }

    /// Writes it into `dir` (a temp file, then a rename).
    pub fn write(&self, dir: &Path) -> Result<(), OutputError> {
        super::write_json(&dir.join(MANIFEST), self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn grid(a: &[i64], b: &[&str]) -> Vec<Point> {
        let mut out = Vec::new();
        for &x in a {
            for &y in b {
                out.push(Point {
                    coords: vec![
                        ("layers.redis.ttl_s".into(), Value::from(x)),
                        ("layers.l1.policy".into(), Value::from(y)),
                    ],
                });
            }
        }
        out
    }

    #[test]
    fn parses_k_of_n() {
        assert_eq!(
            "3/12".parse::<Shard>(),
            Ok(Shard {
                index: 3,
                count: 12
            })
        );
        assert!("12/12".parse::<Shard>().unwrap_err().contains("0 to 11"));
        assert!("0/0".parse::<Shard>().unwrap_err().contains("at least 1"));
        assert!("3".parse::<Shard>().unwrap_err().contains("K/N"));
        assert!("-1/4".parse::<Shard>().is_err());
    }

    #[test]
    fn shards_are_balanced_within_one_job() {
        let points = grid(&[1, 2, 3, 4, 5, 6, 7], &["lru", "lfu", "fifo"]);
        for replications in [1, 2, 5] {
            let jobs = points.len() * replications as usize;
            for count in [1, 2, 3, 5, 12, 64] {
                let shards = assign(&points, replications, count);
                let mut sizes = vec![0usize; count as usize];
                for s in shards {
                    sizes[s as usize] += 1;
                }
                let (lo, hi) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
                assert!(hi - lo <= 1, "{jobs} jobs on {count} shards: {sizes:?}");
                assert_eq!(sizes.iter().sum::<usize>(), jobs);
            }
        }
    }

    #[test]
    fn a_jobs_shard_does_not_depend_on_the_grid_order() {
        let a = grid(&[1, 2, 3, 4], &["lru", "lfu", "fifo"]);
        // The same grid with values listed in another order and the axes swapped.
        let mut b: Vec<Point> = grid(&[4, 2, 3, 1], &["fifo", "lru", "lfu"])
            .into_iter()
            .map(|mut p| {
                p.coords.reverse();
                p
            })
            .collect();
        b.reverse();
        let (sa, sb) = (assign(&a, 3, 5), assign(&b, 3, 5));
        let find = |points: &[Point], p: &Point| {
            points
                .iter()
                .position(|q| {
                    let mut x = q.coords.clone();
                    let mut y = p.coords.clone();
                    x.sort_by(|u, v| u.0.cmp(&v.0));
                    y.sort_by(|u, v| u.0.cmp(&v.0));
                    x == y
                })
                .unwrap()
        };
        for (i, p) in a.iter().enumerate() {
            let j = find(&b, p);
            for r in 0..3 {
                assert_eq!(sa[i * 3 + r], sb[j * 3 + r], "{}", p.label());
            }
        }
    }

    #[test]
    fn job_keys_are_pinned() {
        // XXH3-64 is frozen by its spec: these values must never change, or shards of
        // a sweep run by two tiersim builds would not merge.
        let p = &grid(&[10], &["lru"])[0];
        assert_eq!(
            job_key(p, 0),
            xxhash_rust::xxh3::xxh3_64(
                "layers.l1.policy=\"lru\"\u{1f}layers.redis.ttl_s=10\u{1e}0".as_bytes()
            )
        );
        assert_eq!(
            xxhash_rust::xxh3::xxh3_64(b""),
            0x2D06_8005_38D3_94C2,
            "the XXH3-64 of nothing, from the xxHash spec's test vectors"
        );
    }
}
