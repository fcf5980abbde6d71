//! The workload: which key each request asks for, when it arrives, and whether it writes.
//!
//! Arrivals are Poisson at `rate`; keys follow Zipf(alpha) over `keys` ranks (key 0 is
//! the most popular) or are uniform. Requests are generated lazily, one at a time, so a
//! run of any length holds one pending arrival.
//!
//! Or the requests come from a trace (`trace = { path, format }`), so a real workload
//! drives the whole hierarchy. Resolving the scenario reads the trace once: it checks
//! every record and maps the trace's ids to dense keys `0..n` in order of first
//! appearance (the caches index their arrays by dense key, so `n` must be known before
//! the run). The run then streams it a second time through the same file handle:
//! - arrival times follow the timestamps, times `time_unit_s` (default 1 s, the unit of
//!   `oracle_general` and `twitter`), shifted so the first request arrives at 0.
//!   Requests with equal timestamps arrive together; a timestamp older than the one
//!   before it arrives at once. With `rate` set, arrivals are Poisson at that rate
//!   instead (for traces without real timestamps: `arc_lis`, `lirs`);
//! - reads are reads; writes and deletes are writes (a write reaches the database and
//!   removes the key from every cache layer);
//! - object sizes and trace TTLs are not used yet: scenario capacities count entries,
//!   and each layer's `ttl_s` decides expiry;
//! - the run ends with the trace, or earlier at `requests` or `duration_s`;
//! - `csv` traces use the default columns (key in column 1, no header, no timestamps).
//!
//! A sweep resolves each point, and so reads the trace once per point to index it.
//!
//! Performance: with a million keys, the sampler's table and the caches' per-key arrays
//! are far larger than the CPU caches, and a request used to spend most of its time
//! waiting for memory. So keys are drawn [`KEY_BATCH`] at a time: the table reads of a
//! batch are prefetched together and overlap, and the engine prefetches the batch's
//! per-key state through [`Workload::upcoming_keys`] (see [`crate::mem::prefetch`]). The
//! Zipf table is a packed alias table ([`AliasTable`]): one 64-bit draw and one 8-byte
//! entry per key, instead of `rand_distr`'s `WeightedAliasIndex` (two draws, a bounded
//! integer with rejection, and two separate arrays).

pub mod write;

use std::fs::File;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use rand::{Rng, RngExt};
use rand_distr::{Distribution, Exp, Uniform, Zipf};
use serde::{Deserialize, Serialize};

use crate::SimTime;
use crate::base::Invalid;
use crate::base::rng::SimRng;
use crate::trace::ids::IdTable;
use crate::trace::{Format, Request, TraceReader, TraceSource};
use rand_xoshiro::rand_core::SeedableRng;

/// The most keys a workload may have: keys are `u32` and one value is reserved.
pub const MAX_KEYS: u64 = u32::MAX as u64 - 1;

/// Above this many keys the Zipf sampler switches from an alias table (O(1), 8 bytes
/// per key, ~20 ms setup per million keys) to rejection sampling (no table, ~25-45 ns
/// a draw).
const ALIAS_TABLE_MAX_KEYS: u32 = 1 << 24;

/// The `[workload]` table of a scenario.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkloadSpec {
    /// Distinct keys, `0..keys`; required, unless `trace` is set (then not allowed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<u64>,
    /// Key popularity; defaults to Zipf with alpha 0.9. Not allowed with `trace`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub popularity: Option<PopularitySpec>,
    /// Mean arrivals per second (Poisson); required, unless `trace` is set (then it
    /// replaces the trace's timestamps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// Fraction of requests that are writes (0 with `trace`: its operations decide).
    #[serde(default)]
    pub write_ratio: f64,
    /// How writes reach the caches (see [`crate::workload::write`]); `cache_aside` by default.
    #[serde(default)]
    pub write_strategy: crate::workload::write::WriteStrategy,
    /// What a write does to the copies it does not store; the strategy's default when
    /// absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub invalidation: Option<crate::workload::write::Invalidation>,
    /// Clients sending the requests, each request from one drawn uniformly; 1 when
    /// absent. A `browser` layer holds a cache per client.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clients: Option<u64>,
    /// Where the clients are: `[{ name = "eu", share = 0.5 }, ...]`, shares summing to
    /// 1; one region, `all`, when absent. A `cdn` maps each region to its PoPs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regions: Option<Vec<crate::layer::topology::RegionSpec>>,
    /// `write_back`: seconds between flushes (1 when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flush_interval_s: Option<f64>,
    /// `write_back`: a flush starts once this many writes are pending (1,000 when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flush_batch: Option<u32>,
    /// `tag_purge`: the number of tags; key k has tag `k % tags` (1 when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<u32>,
    /// Fraction of reads that ask for a key that does not exist (the database answers
    /// "not found"; a layer caches that answer only with `negative_ttl_s`).
    #[serde(default)]
    pub missing_ratio: f64,
    /// Take the requests from a trace instead of generating them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<TraceSpec>,
    /// Content classes: sizes and Cache-Control per share of the keys (see
    /// [`crate::layer::http`]); none when absent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classes: Vec<crate::layer::http::ClassSpec>,
    /// Fraction of reads that are reloads: a browser revalidates its fresh copy, unless
    /// the class is `immutable`. Needs `classes`.
    #[serde(default)]
    pub reload_ratio: f64,
}

impl WorkloadSpec {
    /// The write keys, for [`crate::workload::write::WritePlan::resolve`].
    pub fn write_keys(&self) -> crate::workload::write::WriteKeys {
        crate::workload::write::WriteKeys {
            strategy: self.write_strategy,
            invalidation: self.invalidation,
            flush_interval_s: self.flush_interval_s,
            flush_batch: self.flush_batch,
            tags: self.tags,
        }
    }
}

/// `workload.trace`: a trace file that supplies the requests; see the module docs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TraceSpec {
    /// The file, relative to the working directory; `.gz` and `.zst` are decompressed.
    pub path: PathBuf,
    /// Its format, as `tiersim replay --format` names it.
    pub format: String,
    /// Seconds per unit of the trace's timestamps.
    #[serde(default = "one_second")]
    pub time_unit_s: f64,
}

fn one_second() -> f64 {
    1.0
}

/// A trace checked and indexed by a first pass, ready to stream again.
#[derive(Debug)]
pub struct TracePlan {
    source: TraceSource,
    /// The handle the first pass read; later passes read through it (see
    /// [`TraceSource::reopen`]).
    file: Arc<File>,
    ids: IdTable,
    /// Records in the trace: the most requests a run on it can make.
    pub requests: u64,
    /// Nanoseconds per timestamp unit.
    time_unit_ns: f64,
}

impl PartialEq for TracePlan {
    fn eq(&self, other: &Self) -> bool {
        self.source.path == other.source.path
            && self.source.format == other.source.format
            && self.requests == other.requests
            && self.ids.len() == other.ids.len()
            && self.time_unit_ns == other.time_unit_ns
    }
}

impl TraceSpec {
    /// Checks the fields, then reads the whole trace: every record must parse.
    fn resolve(&self) -> Result<TracePlan, Invalid> {
        if !(self.time_unit_s.is_finite() && self.time_unit_s > 0.0) {
            return Err(Invalid::new(
                "time_unit_s",
                format!(
                    "is {}; must be a finite number of seconds > 0",
                    self.time_unit_s
                ),
            ));
        }
        let format: Format = self
            .format
            .parse()
            .map_err(|e: crate::trace::TraceError| Invalid::new("format", e.to_string()))?;
        let bad_path = |message: String| Invalid::new("path", message);
        let file = File::open(&self.path)
            .map_err(|e| bad_path(format!("cannot read trace `{}`: {e}", self.path.display())))?;
        let file = Arc::new(file);
        let source = TraceSource {
            path: self.path.clone(),
            format,
            csv: Default::default(),
        };
        let mut reader = source.reopen(&file).map_err(|e| bad_path(e.to_string()))?;
        let mut ids = IdTable::default();
        let mut requests = 0u64;
        let mut block = [Request::default(); 64];
        loop {
            let n = reader
                .read_batch(&mut block)
                .map_err(|e| bad_path(e.to_string()))?;
            if n == 0 {
                break;
            }
            for r in &block[..n] {
                ids.key(r.id).map_err(|e| bad_path(e.to_string()))?;
            }
            requests += n as u64;
        }
        if requests == 0 {
            return Err(bad_path(format!(
                "trace `{}` has no requests",
                self.path.display()
            )));
        }
        if ids.len() as u64 > MAX_KEYS {
            return Err(bad_path(format!(
                "trace `{}` has {} distinct objects; at most {MAX_KEYS} are allowed",
                self.path.display(),
                ids.len()
            )));
        }
        Ok(TracePlan {
            source,
            file,
            ids,
            requests,
            time_unit_ns: self.time_unit_s * 1e9,
        })
    }
}

/// Key popularity: `{ dist = "zipf", alpha = 0.9 }` or `{ dist = "uniform" }`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "dist", rename_all = "snake_case", deny_unknown_fields)]
pub enum PopularitySpec {
    /// Key `i` (0-based rank) is asked with probability proportional to `(i + 1)^-alpha`.
    Zipf {
        /// Skew, any value >= 0 (0 is uniform).
        alpha: f64,
    },
    /// Every key equally likely.
    Uniform,
}

impl Default for PopularitySpec {
    fn default() -> Self {
        PopularitySpec::Zipf { alpha: 0.9 }
    }
}

impl PopularitySpec {
    /// The probability of each key, most popular first. O(keys): for analysis and tests.
    ///
    /// ```
    /// use tiersim::workload::PopularitySpec;
    /// let q = PopularitySpec::Zipf { alpha: 1.0 }.probabilities(3);
    /// assert!((q[0] - 6.0 / 11.0).abs() < 1e-12);
    /// assert!((q.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    /// ```
    pub fn probabilities(&self, keys: u32) -> Vec<f64> {
        let w: Vec<f64> = match *self {
            PopularitySpec::Zipf { alpha } => (1..=keys).map(|i| (i as f64).powf(-alpha)).collect(),
            PopularitySpec::Uniform => vec![1.0; keys as usize],
        };
        let sum: f64 = w.iter().sum();
        w.into_iter().map(|x| x / sum).collect()
    }
}

/// A validated workload.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkloadPlan {
    /// Distinct keys.
    pub keys: u32,
    /// Key popularity (unused with a trace).
    pub popularity: PopularitySpec,
    /// Arrivals per second (with a trace: used only if `timed` is false).
    pub rate: f64,
    /// Fraction of writes (unused with a trace).
    pub write_ratio: f64,
    /// Fraction of reads for keys that do not exist.
    pub missing_ratio: f64,
    /// The trace that supplies the requests, if any; see the module docs.
    pub trace: Option<Arc<TracePlan>>,
    /// With a trace: whether arrivals follow its timestamps (no `rate` given).
    pub timed: bool,
    /// Content classes; none by default.
    pub content: crate::layer::http::Content,
    /// Fraction of reads that are reloads.
    pub reload_ratio: f64,
}

impl WorkloadSpec {
    /// Checks every field; with a trace, reads it once (see the module docs).
    pub fn resolve(&self) -> Result<WorkloadPlan, Invalid> {
        if let Some(trace) = &self.trace {
            return self.resolve_trace(trace);
        }
        let keys = self.keys.ok_or_else(|| {
            Invalid::new(
                "keys",
                "is missing; give the number of distinct keys, or take the requests from a \
                 trace with `trace = { path, format }`",
            )
        })?;
        if keys == 0 || keys > MAX_KEYS {
            return Err(Invalid::new(
                "keys",
                format!("is {keys}; must be between 1 and {MAX_KEYS}"),
            ));
        }
        let rate = self.rate.ok_or_else(|| {
            Invalid::new(
                "rate",
                "is missing; give the mean requests per second (Poisson arrivals)",
            )
        })?;
        check_rate(rate)?;
        if !(0.0..=1.0).contains(&self.write_ratio) {
            return Err(Invalid::new(
                "write_ratio",
                format!("is {}; must be between 0 and 1", self.write_ratio),
            ));
        }
        if !(0.0..1.0).contains(&self.missing_ratio) {
            return Err(Invalid::new(
                "missing_ratio",
                format!("is {}; must be in [0, 1)", self.missing_ratio),
            ));
        }
        if self.missing_ratio > 0.0 && keys > MAX_KEYS / 2 {
            return Err(Invalid::new(
                "keys",
                format!(
                    "is {}; with missing_ratio > 0 it must be at most {} (missing keys get ids of their own)",
                    keys,
                    MAX_KEYS / 2
                ),
            ));
        }
        let popularity = self.popularity.unwrap_or_default();
        if let PopularitySpec::Zipf { alpha } = popularity
            && !(alpha.is_finite() && alpha >= 0.0)
        {
            return Err(Invalid::new(
                "popularity.alpha",
                format!("is {alpha}; must be a finite number >= 0"),
            ));
        }
        let content = crate::layer::http::Content::resolve(&self.classes, keys as u32)?;
        if content.is_active() && keys > ALIAS_TABLE_MAX_KEYS as u64 {
            return Err(Invalid::new(
                "keys",
                format!(
                    "is {keys}; with classes it must be at most {ALIAS_TABLE_MAX_KEYS} (their \
                     keys are drawn from one table)"
                ),
            ));
        }
        if !(0.0..=1.0).contains(&self.reload_ratio) {
            return Err(Invalid::new(
                "reload_ratio",
                format!("is {}; must be between 0 and 1", self.reload_ratio),
            ));
        }
        if self.reload_ratio > 0.0 && !content.is_active() {
            return Err(Invalid::new(
                "reload_ratio",
                "needs classes: a reload revalidates per the content's Cache-Control \
                 (add [[workload.classes]])",
            ));
        }
        Ok(WorkloadPlan {
            keys: keys as u32,
            popularity,
            rate,
            write_ratio: self.write_ratio,
            missing_ratio: self.missing_ratio,
            trace: None,
            timed: false,
            content,
            reload_ratio: self.reload_ratio,
        })
    }

    fn resolve_trace(&self, trace: &TraceSpec) -> Result<WorkloadPlan, Invalid> {
        let decided = |key: &str, what: &str| {
            Invalid::new(
                key,
                format!(
                    "is set, but the requests come from `workload.trace`, whose {what}; \
                     remove `{key}`"
                ),
            )
        };
        if self.keys.is_some() {
            return Err(decided("keys", "ids decide the keys"));
        }
        if self.popularity.is_some() {
            return Err(decided("popularity", "requests decide the popularity"));
        }
        if self.write_ratio != 0.0 {
            return Err(decided(
                "write_ratio",
                "operations decide which requests write",
            ));
        }
        if self.missing_ratio != 0.0 {
            return Err(decided(
                "missing_ratio",
                "ids decide which keys are asked for",
            ));
        }
        if !self.classes.is_empty() {
            return Err(decided("classes", "ids are not grouped into classes"));
        }
        if self.reload_ratio != 0.0 {
            return Err(decided(
                "reload_ratio",
                "requests have no classes to reload",
            ));
        }
        if let Some(rate) = self.rate {
            check_rate(rate)?;
        }
        let plan = trace.resolve().map_err(|e| e.under("trace"))?;
        Ok(WorkloadPlan {
            keys: plan.ids.len() as u32,
            popularity: PopularitySpec::Uniform,
            rate: self.rate.unwrap_or(1.0),
            write_ratio: 0.0,
            missing_ratio: 0.0,
            trace: Some(Arc::new(plan)),
            timed: self.rate.is_none(),
            content: crate::layer::http::Content::default(),
            reload_ratio: 0.0,
        })
    }
}

fn check_rate(rate: f64) -> Result<(), Invalid> {
    if rate.is_finite() && rate > 0.0 {
        Ok(())
    } else {
        Err(Invalid::new(
            "rate",
            format!("is {rate}; must be a finite number of requests per second > 0"),
        ))
    }
}

/// Keys drawn ahead at a time; see the module docs.
pub const KEY_BATCH: usize = 32;

/// Draws popularity ranks.
#[derive(Clone, Debug)]
enum KeySampler {
    Uniform(Uniform<u32>),
    Alias(Arc<AliasTable>),
    Rejection(Zipf<f64>),
}

/// One column of an [`AliasTable`]: keep the column's own key when the draw's fraction
/// is below `threshold / 2^32`, else take `alias`.
#[derive(Clone, Copy, Debug)]
struct AliasEntry {
    threshold: u32,
    alias: u32,
}

/// Walker's alias method (Vose's construction), packed: one 8-byte entry per key, and
/// one 64-bit draw per sample. The draw times `n` gives the column in its high 64 bits
/// and, in its low bits, a fraction uniform within that column (Lemire's multiply), so
/// no second draw is needed. The bias of the column choice is below `n / 2^64`, and a
/// probability is quantized to `2^-32 / n`: far below what any run can detect.
#[derive(Clone, Debug)]
pub struct AliasTable {
    entries: Vec<AliasEntry>,
}

impl AliasTable {
    /// A table drawing index `i` with probability `weights[i] / sum(weights)`.
    /// Weights must be finite, non-negative, and not all zero.
    pub fn new(weights: &[f64]) -> Self {
        let n = weights.len();
        assert!(n > 0 && n <= u32::MAX as usize, "1..=u32::MAX weights");
        let sum: f64 = weights.iter().sum();
        assert!(sum.is_finite() && sum > 0.0, "finite positive weights");
        // Each column holds probability mass 1; scaled[i] is key i's mass in columns.
        let scale = n as f64 / sum;
        let mut scaled: Vec<f64> = weights.iter().map(|w| w * scale).collect();
        let mut entries: Vec<AliasEntry> = (0..n as u32)
            .map(|i| AliasEntry {
                threshold: u32::MAX,
                alias: i,
            })
            .collect();
        let (mut small, mut large): (Vec<u32>, Vec<u32>) =
            (0..n as u32).partition(|&i| scaled[i as usize] < 1.0);
        while let (Some(&s), Some(&l)) = (small.last(), large.last()) {
            small.pop();
            let p = scaled[s as usize];
            entries[s as usize] = AliasEntry {
                threshold: (p * 4_294_967_296.0).min(u32::MAX as f64) as u32,
                alias: l,
            };
            scaled[l as usize] -= 1.0 - p;
            if scaled[l as usize] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        // What is left holds mass 1 up to rounding: it keeps its own key (the initial
        // entry).
        AliasTable { entries }
    }

    /// The column of a draw, to prefetch.
    #[inline]
    fn column(&self, r: u64) -> (usize, u32) {
        let m = u128::from(r) * self.entries.len() as u128;
        ((m >> 64) as usize, (m as u64 >> 32) as u32)
    }

    /// The index drawn by `r`.
    #[inline]
    pub fn sample(&self, r: u64) -> u32 {
        let (col, frac) = self.column(r);
        let e = self.entries[col];
        if frac < e.threshold {
            col as u32
        } else {
            e.alias
        }
    }
}

/// The alias table of Zipf(`alpha`) over `keys` keys, shared with every other run of
/// this process that asks for the same one.
///
/// A sweep runs the same workload at many points, and building the table over 1M keys
/// (a million `powf` and Vose's construction) costs about as much as simulating 100k
/// requests; shared, it is built once. The table is a pure function of its two
/// parameters and is only read, so sharing it cannot change a result. The few most
/// recently used tables are kept, up to [`ZIPF_TABLES_KEPT_KEYS`] entries in all, so the
/// memory this holds stays bounded.
fn zipf_table(keys: u32, alpha: f64) -> Arc<AliasTable> {
    type Memo = Vec<(u32, u64, Arc<AliasTable>)>;
    static TABLES: Mutex<Memo> = Mutex::new(Vec::new());
    // A poisoned lock only means another run panicked while building; the list itself
    // is always consistent (it is changed only after a table is complete).
    let mut tables = TABLES.lock().unwrap_or_else(PoisonError::into_inner);
    let id = (keys, alpha.to_bits());
    let table = match tables.iter().position(|(k, a, _)| (*k, *a) == id) {
        Some(i) => tables.remove(i).2,
        None => {
            let weights: Vec<f64> = (1..=keys).map(|i| (i as f64).powf(-alpha)).collect();
            Arc::new(AliasTable::new(&weights))
        }
    };
    tables.push((id.0, id.1, Arc::clone(&table)));
    // Most recently used last: drop from the front until the rest fits the budget.
    while tables.iter().map(|(k, ..)| u64::from(*k)).sum::<u64>() > ZIPF_TABLES_KEPT_KEYS {
        tables.remove(0);
    }
    table
}

/// How many alias-table entries (8 bytes each) [`zipf_table`] keeps for reuse: 256 MiB.
const ZIPF_TABLES_KEPT_KEYS: u64 = 1 << 25;

/// One generated request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Op {
    /// The key asked for.
    pub key: u32,
    /// Whether it writes the key.
    pub write: bool,
    /// Whether it reads a key that does not exist: the engine gives it the id
    /// `keys + key`, so missing keys follow the same popularity in a space of their own.
    pub missing: bool,
    /// Whether it is a reload (`reload_ratio`): a browser revalidates its fresh copy.
    pub reload: bool,
}

/// The request generator of one run.
#[derive(Clone, Debug)]
pub struct Workload {
    keys: KeySampler,
    gap: Exp<f64>,
    write_ratio: f64,
    missing_ratio: f64,
    reload_ratio: f64,
    rng: SimRng,
    /// Keys have a stream of their own, split off `rng` at the start, so the arrival
    /// gaps do not depend on when key batches are drawn.
    key_rng: SimRng,
    /// Keys drawn ahead; `batch[next..]` are still to be used.
    batch: [u32; KEY_BATCH],
    next: usize,
    /// The trace that replaces the generator, if the plan has one.
    trace: Option<Box<TraceFeed>>,
}

/// The second pass over a trace: requests in order, one read ahead for the next gap.
struct TraceFeed {
    plan: Arc<TracePlan>,
    reader: Box<dyn TraceReader>,
    /// The request the next [`Workload::next_op`] returns.
    current: Request,
    /// The one after it, once [`Workload::next_gap`] has read it.
    ahead: Option<Request>,
    /// Whether arrivals follow the timestamps (else the Poisson gaps).
    timed: bool,
}

impl std::fmt::Debug for TraceFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceFeed")
            .field("plan", &self.plan)
            .field("current", &self.current)
            .finish_non_exhaustive()
    }
}

impl Clone for TraceFeed {
    /// A feed from the start of the same trace.
    fn clone(&self) -> Self {
        TraceFeed::new(&self.plan, self.timed)
    }
}

impl TraceFeed {
    fn new(plan: &Arc<TracePlan>, timed: bool) -> Self {
        // Resolving read the whole trace through this handle without an error, so a
        // failure here means the file changed in the meantime: the run cannot go on
        // with it, and `Workload::new` has no error to return (see `changed`).
        let mut reader = plan
            .source
            .reopen(&plan.file)
            .unwrap_or_else(|e| changed(plan, &e.to_string()));
        let mut current = Request::default();
        if !reader
            .read(&mut current)
            .unwrap_or_else(|e| changed(plan, &e.to_string()))
        {
            changed(plan, "it is now empty");
        }
        TraceFeed {
            plan: Arc::clone(plan),
            reader,
            current,
            ahead: None,
            timed,
        }
    }

    /// The request after `current`, read once; `None` at the end of the trace.
    fn ahead(&mut self) -> Option<Request> {
        if self.ahead.is_none() {
            let mut r = Request::default();
            let more = self
                .reader
                .read(&mut r)
                .unwrap_or_else(|e| changed(&self.plan, &e.to_string()));
            self.ahead = more.then_some(r);
        }
        self.ahead
    }

    fn gap(&mut self) -> SimTime {
        let now = self.current.time;
        match self.ahead() {
            Some(next) => SimTime::from_nanos_f64(
                next.time.saturating_sub(now) as f64 * self.plan.time_unit_ns,
            ),
            None => SimTime::ZERO,
        }
    }

    fn next_op(&mut self) -> Op {
        let r = self.current;
        if let Some(next) = self.ahead() {
            self.current = next;
            self.ahead = None;
        }
        let key = self
            .plan
            .ids
            .get(r.id)
            .unwrap_or_else(|| changed(&self.plan, &format!("id {} is new", r.id)));
        Op {
            key,
            write: r.op != crate::trace::Op::Read,
            missing: false,
            reload: false,
        }
    }
}

/// The trace was read in full when the scenario was resolved; a second pass that fails
/// or disagrees means it was modified during the run. Results would be wrong, and the
/// engine's workload cannot return an error, so the run stops here, naming the file.
#[cold]
fn changed(plan: &TracePlan, what: &str) -> ! {
    panic!(
        "trace `{}` changed while the run read it ({what}); rerun on an unchanging file",
        plan.source.path.display()
    )
}

impl Workload {
    /// A generator for `plan`, drawing from `rng`.
    ///
    /// ```
    /// use tiersim::base::rng::{stream, Stream};
    /// use tiersim::workload::{PopularitySpec, Workload, WorkloadPlan};
    /// let plan = WorkloadPlan { keys: 10, popularity: PopularitySpec::Zipf { alpha: 1.2 }, rate: 100.0, write_ratio: 0.0, missing_ratio: 0.0, trace: None, timed: false, content: Default::default(), reload_ratio: 0.0 };
    /// let mut w = Workload::new(&plan, stream(1, Stream::Workload));
    /// assert!(w.next_op().key < 10);
    /// assert!(w.next_gap().as_nanos() > 0);
    /// ```
    pub fn new(plan: &WorkloadPlan, mut rng: SimRng) -> Self {
        let trace = plan
            .trace
            .as_ref()
            .map(|t| Box::new(TraceFeed::new(t, plan.timed)));
        let keys = match plan.popularity {
            // A trace supplies the keys: no table to build.
            _ if trace.is_some() => KeySampler::Uniform(Uniform::new(0, 1).expect("1 key")),
            // Each class's keys by the popularity within it, times its request share.
            popularity if plan.content.is_active() => KeySampler::Alias(Arc::new(AliasTable::new(
                &plan.content.weights(|n| popularity.probabilities(n)),
            ))),
            PopularitySpec::Uniform | PopularitySpec::Zipf { alpha: 0.0 } => {
                KeySampler::Uniform(Uniform::new(0, plan.keys).expect("keys >= 1"))
            }
            PopularitySpec::Zipf { alpha } if plan.keys <= ALIAS_TABLE_MAX_KEYS => {
                KeySampler::Alias(zipf_table(plan.keys, alpha))
            }
            PopularitySpec::Zipf { alpha } => {
                KeySampler::Rejection(Zipf::new(plan.keys as f64, alpha).expect("validated alpha"))
            }
        };
        Workload {
            keys,
            gap: Exp::new(plan.rate / 1e9).expect("validated rate"),
            write_ratio: plan.write_ratio,
            missing_ratio: plan.missing_ratio,
            reload_ratio: plan.reload_ratio,
            key_rng: SimRng::seed_from_u64(rng.next_u64()),
            rng,
            batch: [0; KEY_BATCH],
            next: KEY_BATCH,
            trace,
        }
    }

    /// Draws the next [`KEY_BATCH`] keys.
    fn refill(&mut self) {
        let rng = &mut self.key_rng;
        match &self.keys {
            KeySampler::Uniform(d) => {
                for k in &mut self.batch {
                    *k = d.sample(rng);
                }
            }
            KeySampler::Alias(t) => {
                // Draw all first and prefetch their columns, then read the table: the
                // misses overlap instead of queueing one behind another.
                let mut draws = [0u64; KEY_BATCH];
                for r in &mut draws {
                    *r = rng.next_u64();
                    crate::mem::prefetch::prefetch(&t.entries, t.column(*r).0);
                }
                for (k, r) in self.batch.iter_mut().zip(draws) {
                    *k = t.sample(r);
                }
            }
            KeySampler::Rejection(d) => {
                for k in &mut self.batch {
                    *k = d.sample(rng) as u32 - 1;
                }
            }
        }
        self.next = 0;
    }

    /// If the last [`next_op`](Self::next_op) drew a new batch of keys, the batch (its
    /// key first): for reading the keys' state ahead.
    #[inline]
    pub fn upcoming_keys(&self) -> Option<&[u32; KEY_BATCH]> {
        (self.next == 1 && self.trace.is_none()).then_some(&self.batch)
    }

    /// The time to the next arrival.
    #[inline]
    pub fn next_gap(&mut self) -> SimTime {
        if let Some(t) = &mut self.trace
            && t.timed
        {
            return t.gap();
        }
        SimTime::from_nanos_f64(self.gap.sample(&mut self.rng))
    }

    /// The next request's key and kind.
    #[inline]
    pub fn next_op(&mut self) -> Op {
        if let Some(t) = &mut self.trace {
            return t.next_op();
        }
        if self.next == KEY_BATCH {
            self.refill();
        }
        let key = self.batch[self.next];
        self.next += 1;
        let write = self.write_ratio > 0.0 && self.rng.random::<f64>() < self.write_ratio;
        // Drawn only when enabled, so runs without missing keys keep their streams.
        let missing =
            !write && self.missing_ratio > 0.0 && self.rng.random::<f64>() < self.missing_ratio;
        let reload =
            !write && self.reload_ratio > 0.0 && self.rng.random::<f64>() < self.reload_ratio;
        Op {
            key,
            write,
            missing,
            reload,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::rng::{Stream, stream};

    fn frequencies(popularity: PopularitySpec, keys: u32, n: usize) -> Vec<f64> {
        let plan = WorkloadPlan {
            keys,
            popularity,
            rate: 1.0,
            write_ratio: 0.0,
            missing_ratio: 0.0,
            trace: None,
            timed: false,
            content: Default::default(),
            reload_ratio: 0.0,
        };
        let mut w = Workload::new(&plan, stream(3, Stream::Workload));
        let mut counts = vec![0u32; keys as usize];
        for _ in 0..n {
            counts[w.next_op().key as usize] += 1;
        }
        counts.into_iter().map(|c| c as f64 / n as f64).collect()
    }

    #[test]
    fn samplers_match_popularity() {
        // 400k draws: the standard error of a frequency p is sqrt(p(1-p)/n) <= 0.0008,
        // so 0.004 is five standard errors.
        for alpha in [0.0, 0.8, 1.0, 1.4] {
            let spec = PopularitySpec::Zipf { alpha };
            let freq = frequencies(spec, 20, 400_000);
            for (f, q) in freq.iter().zip(spec.probabilities(20)) {
                assert!((f - q).abs() < 0.004, "alpha {alpha}: {f} vs {q}");
            }
        }
    }

    #[test]
    fn alias_table_is_exact_on_a_grid_of_draws() {
        // Draws spread evenly over u64 hit each index in proportion to its weight,
        // up to the 2^-32 quantization of the thresholds.
        let w = [5.0, 0.0, 1.0, 3.0, 0.5, 10.0, 0.5];
        let t = AliasTable::new(&w);
        let sum: f64 = w.iter().sum();
        let n = 1u64 << 20;
        let mut counts = [0u64; 7];
        for i in 0..n {
            counts[t.sample(i.wrapping_mul(u64::MAX / n)) as usize] += 1;
        }
        for (c, w) in counts.iter().zip(w) {
            assert!((*c as f64 / n as f64 - w / sum).abs() < 1e-5, "{counts:?}");
        }
    }

    #[test]
    fn gaps_have_the_mean_of_the_rate() {
        let plan = WorkloadPlan {
            keys: 1,
            popularity: PopularitySpec::Uniform,
            rate: 250.0,
            write_ratio: 0.5,
            missing_ratio: 0.0,
            trace: None,
            timed: false,
            content: Default::default(),
            reload_ratio: 0.0,
        };
        let mut w = Workload::new(&plan, stream(9, Stream::Workload));
        let n = 100_000;
        let (mut total, mut writes) = (0u64, 0);
        for _ in 0..n {
            total += w.next_gap().as_nanos();
            writes += w.next_op().write as u32;
        }
        // Exponential gaps: relative standard error 1/sqrt(n) = 0.3%; allow 1.5%.
        let mean_s = total as f64 / n as f64 / 1e9;
        assert!((mean_s * 250.0 - 1.0).abs() < 0.015, "{mean_s}");
        // Binomial writes: standard error 0.0016; allow 0.008.
        assert!((writes as f64 / n as f64 - 0.5).abs() < 0.008);
    }
}
