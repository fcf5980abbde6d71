//! Sweeps: one scenario run over a grid of settings, with replications, in parallel.
//!
//! A grid is the cartesian product of axes; an axis is a dotted scenario key (anything
//! `--set` accepts) and its values. Each (point, replication) is a *job*, seeded from the
//! scenario seed, the point's coordinates and the replication number, never from its
//! position in the run order, so results are the same for any `--jobs` and any order.
//!
//! Rows are appended to `sweep.csv` as jobs finish, a job's rows in one write. With
//! `resume`, jobs whose rows are all present are not run again; a partial job left by an
//! interruption is dropped and run again. `sweep_summary.csv` gives, per point and layer,
//! the mean of every metric over the replications and the half-width of its 95%
//! confidence interval (Student's t), as Icarus reports them.
//!
//! `capacity` searches one axis for the largest value that meets service-level
//! objectives, running each point's replications as a sweep seeds them.
//!
//! It knows scenarios, overrides and reports, and runs each job through
//! [`crate::simulate`]; it knows nothing of the engine's insides, and nothing below it
//! knows sweeps.

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rayon::prelude::*;
use serde_json::Value;
use statrs::distribution::{ContinuousCDF, StudentsT};

pub mod capacity;
pub mod fingerprint;
pub mod merge;
pub mod shard;
pub mod slurm;

use crate::base::rng::mix64;
use crate::output::report::{OutputError, Report, write_atomic};
use crate::scenario::grid::AxisError;
pub use crate::scenario::grid::{Axis, GridValues, SweepSpec};
use crate::scenario::{Override, ScenarioError, Source};
use fingerprint::Fingerprint;
use shard::{Manifest, Shard};

/// Why a sweep could not be set up or finished.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// An axis is malformed.
    #[error("--grid {arg}: {message}")]
    Axis {
        /// The axis as written.
        arg: String,
        /// What is wrong.
        message: String,
    },
    /// `--replications` (or the scenario's `sweep.replications`) is 0, or gives more
    /// jobs than [`MAX_JOBS`].
    #[error("{given}: {message}")]
    Replications {
        /// Where the count came from, as written (`--replications 0`).
        given: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// A grid point is not a valid scenario.
    #[error("grid point {point}: {source}")]
    Point {
        /// The point's coordinates.
        point: String,
        /// Why it is invalid.
        #[source]
        source: ScenarioError,
    },
    /// The base scenario is invalid.
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    /// An existing `sweep.csv` cannot be resumed.
    #[error("cannot resume {path}: {message}")]
    Resume {
        /// The file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// Output could not be written.
    #[error(transparent)]
    Output(#[from] OutputError),
}

impl From<AxisError> for SweepError {
    fn from(e: AxisError) -> Self {
        SweepError::Axis {
            arg: e.arg,
            message: e.message,
        }
    }
}

/// Renders a value for a CSV cell: strings bare, anything else as JSON.
fn cell(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One grid point: a value for each axis.
#[derive(Clone, Debug, PartialEq)]
pub struct Point {
    /// `(key, value)` per axis, in axis order.
    pub coords: Vec<(String, Value)>,
}

impl Point {
    /// `key=value key=value`, for messages.
    pub fn label(&self) -> String {
        self.coords
            .iter()
            .map(|(k, v)| format!("{k}={}", cell(v)))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn cells(&self) -> Vec<String> {
        self.coords.iter().map(|(_, v)| cell(v)).collect()
    }

    fn overrides(&self) -> Vec<Override> {
        self.coords
            .iter()
            .map(|(k, v)| Override {
                key: k.split('.').map(str::to_owned).collect(),
                value: v.clone(),
                assignment: format!("{k}={}", cell(v)),
            })
            .collect()
    }

    /// The seed of `replication` at this point: a hash of the base seed, the point's
    /// coordinates (sorted by key, so axis order does not matter) and the replication.
    pub fn seed(&self, base: u64, replication: u32) -> u64 {
        let mut coords: Vec<String> = self
            .coords
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        coords.sort();
        let mut h = mix64(base);
        for byte in coords.join("\u{1f}").bytes() {
            h = mix64(h ^ byte as u64);
        }
        mix64(h ^ mix64(0x5EED_0000 + replication as u64))
    }
}

/// The grid points of `axes` (key, values), in cartesian order: the last axis varies
/// fastest.
fn points_of<'a>(axes: impl IntoIterator<Item = (&'a String, &'a Vec<Value>)>) -> Vec<Point> {
    let mut points = vec![Point { coords: Vec::new() }];
    for (key, values) in axes {
        points = points
            .into_iter()
            .flat_map(|p| {
                values.iter().map(move |v| {
                    let mut coords = p.coords.clone();
                    coords.push((key.clone(), v.clone()));
                    Point { coords }
                })
            })
            .collect();
    }
    points
}

/// A validated sweep, ready to run.
pub struct Sweep {
    /// The scenario's name.
    pub name: String,
    source: Source,
    base: Vec<Override>,
    /// The axes, scenario `[sweep]` table first, then `--grid` (which replaces a key the table also has).
    pub axes: Vec<Axis>,
    /// The grid points, in cartesian order (the last axis varies fastest).
    pub points: Vec<Point>,
    /// Runs per point.
    pub replications: u32,
    seed: u64,
    layer_names: Vec<String>,
    /// The scenario with the base overrides applied, as JSON, for the fingerprint.
    resolved: Value,
}

/// What a finished sweep did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Jobs run now.
    pub ran: usize,
    /// Jobs found complete in an earlier run's `sweep.csv`.
    pub resumed: usize,
}

const JOB_COLUMNS: [&str; 2] = ["replication", "seed"];
const ROW_COLUMNS: [&str; 56] = [
    "layer",
    "kind",
    "policy",
    "capacity",
    "requests",
    "hits",
    "misses",
    "hit_ratio",
    "served_share",
    "evictions",
    "expirations",
    "stale_hits",
    "coalesced",
    "coalesced_wait_ms",
    "stale_served",
    "refreshes",
    "lock_timeouts",
    "stale_on_error",
    "skipped",
    "failed",
    "orphaned",
    "purged",
    "negative_hits",
    "nodes",
    "served_p50_ms",
    "served_p99_ms",
    "origin_requests",
    "origin_mean_rps",
    "origin_peak_rps",
    "origin_peak_queue",
    "origin_mean_queue",
    "origin_mean_queue_wait_ms",
    "origin_utilization",
    "origin_peak_key_concurrency",
    "origin_herd_requests",
    "origin_herd_events",
    "latency_mean_ms",
    "latency_p50_ms",
    "latency_p90_ms",
    "latency_p99_ms",
    "latency_p999_ms",
    "latency_max_ms",
    "stale_reads",
    "stale_read_age_p50_ms",
    "stale_read_age_p99_ms",
    "failed_requests",
    "availability",
    "lost_writes",
    "revalidations",
    "not_modified",
    "leaks",
    "request_bytes",
    "hit_bytes",
    "byte_hit_ratio",
    "bytes_sent",
    "bytes_fetched",
];
/// The first numeric column of `ROW_COLUMNS`: everything from here on is summarized.
const FIRST_METRIC: usize = 4;

/// The most jobs (grid points times replications) one sweep runs: each is a whole run,
/// so even at a second each this is more than a day on one core.
pub const MAX_JOBS: u64 = 100_000;

impl Sweep {
    /// Combines the scenario's `[sweep]` table with `grid` axes from the command line,
    /// and checks every point, so a bad value fails before anything runs.
    pub fn new(
        source: Source,
        base: Vec<Override>,
        grid: Vec<Axis>,
        replications: Option<u32>,
        seed: Option<u64>,
    ) -> Result<Sweep, SweepError> {
        let (scenario, plan) = source.plan(&base)?;
        let spec = scenario.sweep.clone().unwrap_or_default();
        let mut axes: Vec<Axis> = Vec::new();
        for (key, values) in &spec.grid {
            axes.push(Axis::from_spec(key, values)?);
        }
        for (i, axis) in grid.iter().enumerate() {
            if grid[..i].iter().any(|a| a.key == axis.key) {
                return Err(SweepError::Axis {
                    arg: axis.key.clone(),
                    message: "this key is given twice; give each axis once, with all its values"
                        .into(),
                });
            }
        }
        for axis in grid {
            axes.retain(|a| a.key != axis.key);
            axes.push(axis);
        }
        for axis in &axes {
            if let Some(v) = axis
                .values
                .iter()
                .enumerate()
                .find_map(|(i, v)| axis.values[..i].contains(v).then_some(v))
            {
                return Err(SweepError::Axis {
                    arg: axis.key.clone(),
                    message: format!(
                        "the value {} is repeated; its jobs would run twice and narrow the confidence interval (use --replications for more runs)",
                        cell(v)
                    ),
                });
            }
        }
        let given = replications.map(|r| format!("--replications {r}"));
        let replications = replications.unwrap_or(spec.replications);
        if replications == 0 {
            return Err(SweepError::Replications {
                given: given.unwrap_or_else(|| "sweep.replications = 0 in the scenario".into()),
                message: "must be at least 1 (the runs of each grid point)".into(),
            });
        }
        // Counted before the points are built: an absurd grid is refused, not allocated.
        let points = axes
            .iter()
            .try_fold(1u64, |n, a| n.checked_mul(a.values.len() as u64));
        let jobs = points.and_then(|p| p.checked_mul(u64::from(replications)));
        if jobs.is_none_or(|j| j > MAX_JOBS) {
            let points = points.map_or("more than 2^64".into(), |p| p.to_string());
            return Err(SweepError::Replications {
                given: given.unwrap_or_else(|| "sweep".into()),
                message: format!(
                    "{points} grid points x {replications} replications is more than the \
                     {MAX_JOBS} jobs a sweep may run (each job is a whole run); use fewer \
                     replications or fewer grid values"
                ),
            });
        }
        let points = points_of(axes.iter().map(|a| (&a.key, &a.values)));
        let mut layer_names = None;
        for point in &points {
            let mut overrides = base.clone();
            overrides.extend(point.overrides());
            let (_, p) = source
                .plan(&overrides)
                .map_err(|source| SweepError::Point {
                    point: point.label(),
                    source,
                })?;
            let names: Vec<String> = p
                .caches
                .iter()
                .map(|c| c.name.clone())
                .chain([p.database.name.clone()])
                .collect();
            layer_names.get_or_insert(names);
        }
        Ok(Sweep {
            name: plan.name.clone(),
            source,
            base,
            axes,
            points,
            replications,
            seed: seed.unwrap_or(plan.seed),
            layer_names: layer_names.unwrap_or_default(),
            resolved: {
                let mut doc = serde_json::to_value(&scenario).expect("scenarios serialize");
                if let Value::Object(m) = &mut doc {
                    // The grid and replications are recorded as they resolved, below.
                    m.remove("sweep");
                    // The seed is recorded as the sweep uses it (after --seed).
                    m.remove("seed");
                }
                doc
            },
        })
    }

    /// What makes this sweep the one it is (see [`fingerprint`]).
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            scenario: self.resolved.clone(),
            grid: self
                .axes
                .iter()
                .map(|a| (a.key.clone(), a.values.clone()))
                .collect(),
            replications: self.replications,
            seed: self.seed,
        }
    }

    /// Jobs in all: points times replications.
    pub fn jobs(&self) -> usize {
        self.points.len() * self.replications as usize
    }

    /// Jobs that `shard` runs (all of them without one).
    pub fn shard_jobs(&self, shard: Option<Shard>) -> usize {
        match shard {
            None => self.jobs(),
            Some(s) => shard::assign(&self.points, self.replications, s.count)
                .into_iter()
                .filter(|&k| k == s.index)
                .count(),
        }
    }

    /// The layers of every job, in row order.
    pub fn layer_names(&self) -> &[String] {
        &self.layer_names
    }

    fn header(&self) -> Vec<String> {
        header(self.axes.iter().map(|a| a.key.clone()))
    }

    /// Runs every job not already in `dir/sweep.csv` (with `resume`) on `threads`
    /// threads, calling `tick` after each job, then writes `sweep_summary.csv`.
    pub fn run(
        &self,
        dir: &Path,
        threads: usize,
        resume: bool,
        tick: &(dyn Fn() + Sync),
    ) -> Result<Outcome, SweepError> {
        self.run_shard(dir, threads, resume, None, tick)
    }

    /// [`Sweep::run`], or with `shard` (`Some((shard, node))`) only that shard's jobs:
    /// then no summary, and the [`shard::MANIFEST`] naming `node` is written last, once
    /// all of the shard's jobs are in `sweep.csv`. Either way `sweep.csv` ends in grid
    /// order (point, then replication), whatever order the jobs finished in.
    pub fn run_shard(
        &self,
        dir: &Path,
        threads: usize,
        resume: bool,
        shard: Option<(Shard, &str)>,
        tick: &(dyn Fn() + Sync),
    ) -> Result<Outcome, SweepError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| OutputError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let csv_path = dir.join("sweep.csv");
        let header = self.header();
        let fingerprint = self.fingerprint();
        let resume = resume && csv_path.exists();
        if resume {
            self.check_fingerprint(dir, &csv_path, &fingerprint)?;
        }
        // Written again at the end: until then the folder is not a finished shard.
        match std::fs::remove_file(dir.join(shard::MANIFEST)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(dir)(e))?,
            _ => {}
        }
        let mine: Vec<bool> = match shard {
            None => vec![true; self.jobs()],
            Some((s, _)) => shard::assign(&self.points, self.replications, s.count)
                .into_iter()
                .map(|k| k == s.index)
                .collect(),
        };
        let index: HashMap<Vec<String>, usize> = self
            .points
            .iter()
            .enumerate()
            .map(|(i, p)| (p.cells(), i))
            .collect();
        let r = self.replications as usize;
        let ours = |cells: &[String], rep: u32| {
            index
                .get(cells)
                .is_some_and(|&p| (rep as usize) < r && mine[p * r + rep as usize])
        };
        let done = if resume {
            self.recover(&csv_path, &header, &ours)?
        } else {
            // A new sweep replaces whatever another one left here, whole: its rows and
            // its fingerprint, so the folder never mixes two configurations.
            fingerprint.write(dir)?;
            write_atomic(&csv_path, &csv_line(&header))?;
            let _ = std::fs::remove_file(dir.join("sweep_summary.csv"));
            Default::default()
        };
        let todo: Vec<(usize, u32)> = (0..self.points.len())
            .flat_map(|p| (0..self.replications).map(move |r| (p, r)))
            .filter(|&(p, r)| mine[p * self.replications as usize + r as usize])
            .filter(|&(p, r)| !done.contains_key(&(self.points[p].cells(), r)))
            .collect();
        let file = OpenOptions::new()
            .append(true)
            .open(&csv_path)
            .map_err(io(&csv_path))?;
        let file = Mutex::new(file);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .build()
            .expect("a thread pool can be built");
        pool.install(|| {
            todo.par_iter()
                .try_for_each(|&(p, r)| -> Result<(), SweepError> {
                    let rows = self.run_job(p, r)?;
                    let mut f = file.lock().expect("no writer panics");
                    f.write_all(&rows)
                        .and_then(|_| f.flush())
                        .map_err(io(&csv_path))?;
                    drop(f);
                    tick();
                    Ok(())
                })
        })?;
        drop(file);
        let rows = read_rows(&csv_path, &header)?;
        let rows = in_grid_order(rows, self.axes.len(), &self.points);
        write_rows(&csv_path, &header, &rows)?;
        match shard {
            None => {
                let keys: Vec<String> = self.axes.iter().map(|a| a.key.clone()).collect();
                let text = summary(&keys, &self.points, &self.layer_names, &rows);
                write_atomic(&dir.join("sweep_summary.csv"), &text)?;
            }
            Some((s, node)) => Manifest {
                shard: s,
                jobs: mine.iter().filter(|&&m| m).count(),
                layers: self.layer_names.clone(),
                node: node.to_owned(),
            }
            .write(dir)?,
        }
        Ok(Outcome {
            ran: todo.len(),
            resumed: done.len(),
        })
    }

    fn run_job(&self, p: usize, replication: u32) -> Result<Vec<u8>, SweepError> {
        let point = &self.points[p];
        let mut overrides = self.base.clone();
        overrides.extend(point.overrides());
        let (_, mut plan) = self
            .source
            .plan(&overrides)
            .map_err(|source| SweepError::Point {
                point: point.label(),
                source,
            })?;
        plan.seed = point.seed(self.seed, replication);
        let report = crate::simulate(&plan);
        let mut out = Vec::new();
        for row in rows(&report) {
            let mut line = point.cells();
            line.push(replication.to_string());
            line.push(plan.seed.to_string());
            line.extend(row);
            out.extend(csv_line(&line));
        }
        Ok(out)
    }

    /// Refuses to resume rows that another configuration wrote.
    fn check_fingerprint(
        &self,
        dir: &Path,
        csv_path: &Path,
        this: &Fingerprint,
    ) -> Result<(), SweepError> {
        let resume_err = |message: String| SweepError::Resume {
            path: csv_path.to_owned(),
            message,
        };
        match Fingerprint::read(dir).map_err(resume_err)? {
            None => Err(resume_err(format!(
                "the folder has no {} saying which sweep wrote it (an older tiersim?); run without --resume to start over",
                fingerprint::FILE
            ))),
            Some(found) => {
                let differences = this.differences(&found);
                if differences.is_empty() {
                    Ok(())
                } else {
                    Err(resume_err(format!(
                        "it was written by another sweep: {}; run without --resume to replace it, or choose another --out",
                        differences.join("; ")
                    )))
                }
            }
        }
    }

    /// Reads an interrupted `sweep.csv`, keeps the jobs whose rows are all there, and
    /// rewrites it with only those.
    fn recover(
        &self,
        path: &Path,
        header: &[String],
        ours: &dyn Fn(&[String], u32) -> bool,
    ) -> Result<HashMap<(Vec<String>, u32), usize>, SweepError> {
        let resume_err = |message: String| SweepError::Resume {
            path: path.to_owned(),
            message,
        };
        let text = std::fs::read(path).map_err(|source| OutputError::Io {
            path: path.to_owned(),
            source,
        })?;
        // A line cut by an interruption has no newline: drop it.
        let complete = match text.iter().rposition(|&b| b == b'\n') {
            Some(end) => &text[..=end],
            None => &text[..0],
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_reader(complete);
        let found: Vec<String> = reader
            .headers()
            .map_err(|e| resume_err(e.to_string()))?
            .iter()
            .map(str::to_owned)
            .collect();
        if found != header {
            return Err(resume_err(
                "its columns differ from this sweep's (another grid?); remove it or choose another --out".into(),
            ));
        }
        let n_axes = self.axes.len();
        let mut jobs: HashMap<(Vec<String>, u32), Vec<csv::StringRecord>> = HashMap::new();
        let mut order = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| resume_err(e.to_string()))?;
            let coords: Vec<String> = record.iter().take(n_axes).map(str::to_owned).collect();
            let replication: u32 = record
                .get(n_axes)
                .and_then(|r| r.parse().ok())
                .ok_or_else(|| resume_err("a row has no replication number".into()))?;
            let key = (coords, replication);
            if !jobs.contains_key(&key) {
                order.push(key.clone());
            }
            jobs.entry(key).or_default().push(record);
        }
        let layers = self.layer_names.len();
        let mut out = csv_line(header);
        let mut done = HashMap::new();
        for key in order {
            let records = &jobs[&key];
            // Another shard's job (a folder reused with another K/N) is dropped too.
            if records.len() == layers && ours(&key.0, key.1) {
                for r in records {
                    out.extend(csv_line(&r.iter().map(str::to_owned).collect::<Vec<_>>()));
                }
                done.insert(key, records.len());
            }
        }
        write_atomic(path, &out)?;
        Ok(done)
    }
}

/// The columns of `sweep.csv` for axes `keys`.
fn header(keys: impl Iterator<Item = String>) -> Vec<String> {
    keys.chain(
        JOB_COLUMNS
            .iter()
            .chain(&ROW_COLUMNS)
            .map(|s| s.to_string()),
    )
    .collect()
}

/// The rows of the `sweep.csv` at `path`, whose columns must be `header`.
fn read_rows(path: &Path, header: &[String]) -> Result<Vec<csv::StringRecord>, SweepError> {
    let bad = |message: String| SweepError::Resume {
        path: path.to_owned(),
        message,
    };
    let mut reader = csv::Reader::from_path(path).map_err(|e| bad(e.to_string()))?;
    let found = reader.headers().map_err(|e| bad(e.to_string()))?;
    if found.iter().ne(header.iter().map(String::as_str)) {
        return Err(bad(
            "its columns differ from this sweep's (another grid?)".into()
        ));
    }
    reader
        .records()
        .collect::<Result<_, _>>()
        .map_err(|e| bad(e.to_string()))
}

/// `rows` sorted by point (grid order), then replication; a job's rows keep their order.
fn in_grid_order(
    mut rows: Vec<csv::StringRecord>,
    n_axes: usize,
    points: &[Point],
) -> Vec<csv::StringRecord> {
    let index: HashMap<Vec<String>, usize> = points
        .iter()
        .enumerate()
        .map(|(i, p)| (p.cells(), i))
        .collect();
    let key = |r: &csv::StringRecord| {
        let cells: Vec<String> = r.iter().take(n_axes).map(str::to_owned).collect();
        let point = index.get(&cells).copied().unwrap_or(usize::MAX);
        let replication: u64 = r
            .get(n_axes)
            .and_then(|x| x.parse().ok())
            .unwrap_or(u64::MAX);
        (point, replication)
    };
    rows.sort_by_cached_key(key);
    rows
}

/// Writes `header` and `rows` to `path` (a temp file, then a rename).
fn write_rows(
    path: &Path,
    header: &[String],
    rows: &[csv::StringRecord],
) -> Result<(), OutputError> {
    let mut out = csv_line(header);
    for r in rows {
        out.extend(csv_line(&r.iter().map(str::to_owned).collect::<Vec<_>>()));
    }
    write_atomic(path, &out)
}

/// `sweep_summary.csv` from rows in grid order: per point (grid order) and layer
/// (`layers` order), every metric's mean over the replications and its 95% CI.
fn summary(
    keys: &[String],
    points: &[Point],
    layers: &[String],
    rows: &[csv::StringRecord],
) -> Vec<u8> {
    let n_axes = keys.len();
    let first_metric = n_axes + JOB_COLUMNS.len() + FIRST_METRIC;
    // (point cells, layer) -> per metric, the replications' values, in replication
    // order (the rows are in grid order), so the sums are the same on every machine.
    let mut groups: HashMap<(Vec<String>, String), Vec<Vec<f64>>> = HashMap::new();
    for record in rows {
        let coords: Vec<String> = record.iter().take(n_axes).map(str::to_owned).collect();
        let layer = record
            .get(n_axes + JOB_COLUMNS.len())
            .unwrap_or_default()
            .to_owned();
        let values: Vec<f64> = record
            .iter()
            .skip(first_metric)
            .map(|v| v.parse().unwrap_or(f64::NAN))
            .collect();
        let g = groups.entry((coords, layer)).or_default();
        if g.is_empty() {
            g.resize(values.len(), Vec::new());
        }
        for (col, v) in g.iter_mut().zip(values) {
            col.push(v);
        }
    }
    let metrics = &ROW_COLUMNS[FIRST_METRIC..];
    let mut header: Vec<String> = keys.to_vec();
    header.push("layer".into());
    header.push("replications".into());
    for m in metrics {
        header.push(format!("{m}_mean"));
        header.push(format!("{m}_ci95"));
    }
    let mut out = csv_line(&header);
    for point in points {
        for layer in layers {
            let Some(cols) = groups.get(&(point.cells(), layer.clone())) else {
                continue;
            };
            let mut line = point.cells();
            line.push(layer.clone());
            line.push(cols.first().map_or(0, Vec::len).to_string());
            for col in cols {
                let (mean, half) = mean_ci95(col);
                // A metric that does not apply to the layer (empty cells) stays empty.
                if mean.is_nan() {
                    line.extend([String::new(), String::new()]);
                    continue;
                }
                line.push(mean.to_string());
                line.push(half.map_or(String::new(), |h| h.to_string()));
            }
            out.extend(csv_line(&line));
        }
    }
    out
}

/// Reads the JSON file `path` of a sweep folder (`what` names it in errors): `None`
/// when there is no such file.
fn read_json<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> Result<Option<T>, String> {
    let text = match std::fs::read(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    serde_json::from_slice(&text)
        .map(Some)
        .map_err(|e| format!("{} is not {what}: {e}", path.display()))
}

/// Writes `value` as pretty JSON to `path` (a temp file, then a rename).
fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> Result<(), OutputError> {
    let mut text = serde_json::to_vec_pretty(value).expect("sweep records serialize");
    text.push(b'\n');
    write_atomic(path, &text)
}

/// The mean of `xs` and the half-width of its 95% confidence interval from Student's t
/// with n - 1 degrees of freedom (none for a single value).
///
/// ```
/// let (m, h) = tiersim::sweep::mean_ci95(&[1.0, 2.0, 3.0]);
/// assert_eq!(m, 2.0);
/// assert!((h.unwrap() - 4.302653 * 1.0 / 3f64.sqrt()).abs() < 1e-5);
/// ```
pub fn mean_ci95(xs: &[f64]) -> (f64, Option<f64>) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    if xs.len() < 2 {
        return (mean, None);
    }
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let t = StudentsT::new(0.0, 1.0, n - 1.0)
        .expect("n >= 2")
        .inverse_cdf(0.975);
    (mean, Some(t * (var / n).sqrt()))
}

/// A report's rows for `sweep.csv`: one per layer, without the job columns.
fn rows(r: &Report) -> Vec<Vec<String>> {
    let o = &r.origin;
    let l = &r.latency_ms;
    r.layers
        .iter()
        .map(|layer| {
            vec![
                layer.name.clone(),
                layer.kind.as_str().to_owned(),
                layer.policy.clone().unwrap_or_default(),
                layer.capacity.map_or(String::new(), |c| c.to_string()),
                layer.requests.to_string(),
                layer.hits.to_string(),
                layer.misses.to_string(),
                opt(layer.hit_ratio),
                layer.served_share.to_string(),
                layer.evictions.to_string(),
                layer.expirations.to_string(),
                layer.stale_hits.to_string(),
                layer.coalesced.to_string(),
                layer.coalesced_wait_ms.to_string(),
                layer.stale_served.to_string(),
                layer.refreshes.to_string(),
                layer.lock_timeouts.to_string(),
                layer.stale_on_error.to_string(),
                layer.skipped.to_string(),
                layer.failed.to_string(),
                layer.orphaned.to_string(),
                layer.purged.to_string(),
                layer.negative_hits.to_string(),
                layer.nodes.to_string(),
                layer.served_p50_ms.to_string(),
                layer.served_p99_ms.to_string(),
                o.requests.to_string(),
                o.mean_rps.to_string(),
                o.peak_rps.to_string(),
                o.peak_queue.to_string(),
                o.mean_queue.to_string(),
                o.mean_queue_wait_ms.to_string(),
                o.utilization.to_string(),
                o.peak_key_concurrency.to_string(),
                o.herd_requests.to_string(),
                o.herd_events.to_string(),
                l.mean.to_string(),
                l.p50.to_string(),
                l.p90.to_string(),
                l.p99.to_string(),
                l.p999.to_string(),
                l.max.to_string(),
                r.stale_reads.to_string(),
                r.stale_read_age_ms.p50.to_string(),
                r.stale_read_age_ms.p99.to_string(),
                r.failed_requests.to_string(),
                r.availability.to_string(),
                r.lost_writes.to_string(),
                layer.revalidations.to_string(),
                layer.not_modified.to_string(),
                layer.leaks.to_string(),
                layer.request_bytes.to_string(),
                layer.hit_bytes.to_string(),
                opt(layer.byte_hit_ratio),
                layer.bytes_sent.to_string(),
                layer.bytes_fetched.to_string(),
            ]
        })
        .collect()
}

/// A value that may not apply (a database's hit ratio): empty when it does not.
fn opt(v: Option<f64>) -> String {
    v.map_or(String::new(), |v| v.to_string())
}

fn csv_line(cells: &[String]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(cells)
        .expect("writing to memory cannot fail");
    w.into_inner().expect("writing to memory cannot fail")
}
