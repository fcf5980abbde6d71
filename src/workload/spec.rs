//! The `[workload]` table and its validated form: [`WorkloadSpec`] mirrors the scenario
//! file, [`WorkloadSpec::resolve`] checks it (reading a trace once to index it) and gives
//! the immutable [`WorkloadPlan`] a run starts from.
//!
//! It knows values and their rules, not how requests are drawn from them
//! ([`crate::workload::generator`]) nor the scenario that holds the table.

use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::base::Invalid;
use crate::trace::ids::IdTable;
use crate::trace::{Format, Request, TraceSource};
use crate::workload::alias::ALIAS_TABLE_MAX_KEYS;
use crate::workload::drift::{DriftPlan, DriftSpec};
use crate::workload::profile::{Profile, RateSpec};

/// The most keys a workload may have: keys are `u32` and one value is reserved.
pub const MAX_KEYS: u64 = u32::MAX as u64 - 1;

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
    /// Arrivals per second (Poisson): a number, or a profile that changes over time
    /// ([`crate::workload::profile`]); required, unless `trace` is set (then it replaces
    /// the trace's timestamps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<RateSpec>,
    /// Classes' own rates, by class name: a class's requests are its `request_share` of
    /// `rate`, plus its own rate (a number or a profile) as a Poisson stream of its own.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub class_rates: std::collections::BTreeMap<String, RateSpec>,
    /// Popularity that drifts over the run ([`crate::workload::drift`]); none when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift: Option<DriftSpec>,
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

/// `workload.trace`: a trace file that supplies the requests; see [`crate::workload`].
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
    /// The file and its format.
    pub(super) source: TraceSource,
    /// The handle the first pass read; later passes read through it (see
    /// [`TraceSource::reopen`]).
    pub(super) file: Arc<File>,
    /// The trace's ids, each mapped to its dense key.
    pub(super) ids: IdTable,
    /// Records in the trace: the most requests a run on it can make.
    pub requests: u64,
    /// Simulated seconds from its first timestamp to its latest: how long its requests
    /// take to arrive when they follow the timestamps.
    pub span_s: f64,
    /// Nanoseconds per timestamp unit.
    pub(super) time_unit_ns: f64,
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
        let (mut first, mut latest) = (None, 0u64);
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
                first.get_or_insert(r.time);
                latest = latest.max(r.time);
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
        let span_units = latest.saturating_sub(first.unwrap_or(0));
        Ok(TracePlan {
            source,
            file,
            ids,
            requests,
            span_s: span_units as f64 * self.time_unit_s,
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
    /// Arrivals per second (with a trace: used only if `timed` is false); with a
    /// `profile`, its peak.
    pub rate: f64,
    /// The rate over time, when `workload.rate` is a profile; arrivals are then drawn
    /// by thinning ([`crate::workload::profile`]).
    pub profile: Option<Arc<Profile>>,
    /// Popularity drift, if any ([`crate::workload::drift`]).
    pub drift: Option<Arc<DriftPlan>>,
    /// Classes' own arrival streams, added to `rate`'s: (class index, its rate as a
    /// profile), in class order.
    pub class_rates: Vec<(u8, Arc<Profile>)>,
    /// Fraction of writes (unused with a trace); with classes, of the classes that do
    /// not set their own.
    pub write_ratio: f64,
    /// Each class's fraction of writes, in class order; empty when every class writes at
    /// `write_ratio` (or there are no classes).
    pub class_write_ratios: Vec<f64>,
    /// Fraction of reads for keys that do not exist.
    pub missing_ratio: f64,
    /// The trace that supplies the requests, if any; see [`crate::workload`].
    pub trace: Option<Arc<TracePlan>>,
    /// With a trace: whether arrivals follow its timestamps (no `rate` given).
    pub timed: bool,
    /// Content classes; none by default.
    pub content: crate::layer::http::Content,
    /// Fraction of reads that are reloads.
    pub reload_ratio: f64,
}

impl WorkloadPlan {
    /// The largest fraction of requests any class writes: an upper bound of the run's
    /// share of writes.
    pub fn max_write_ratio(&self) -> f64 {
        self.class_write_ratios
            .iter()
            .fold(self.write_ratio, |m, &r| m.max(r))
    }

    /// The arrivals expected in the first `duration_s` seconds: `rate × duration`, or
    /// the integral of the profile, plus the classes' own rates.
    pub fn expected_arrivals(&self, duration_s: f64) -> f64 {
        let main = match &self.profile {
            Some(p) => p.integral(0.0, duration_s),
            None => self.rate * duration_s,
        };
        main + self
            .class_rates
            .iter()
            .map(|(_, p)| p.integral(0.0, duration_s))
            .sum::<f64>()
    }

    /// When `n` arrivals are expected: the `t` with [`expected_arrivals`](Self::expected_arrivals)`(t) = n`.
    pub fn time_for(&self, n: f64) -> f64 {
        if self.class_rates.is_empty() {
            return match &self.profile {
                Some(p) => p.time_for(n),
                None => n / self.rate,
            };
        }
        // The sum is increasing: double an upper end, then bisect.
        let mut hi = 1.0;
        while self.expected_arrivals(hi) < n && hi < f64::MAX / 4.0 {
            hi *= 2.0;
        }
        let mut lo = 0.0;
        for _ in 0..200 {
            let mid = (lo + hi) / 2.0;
            if self.expected_arrivals(mid) < n {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        hi
    }

    /// The highest total rate: `rate` (a profile's peak) plus the classes' peaks.
    pub fn peak_rate(&self) -> f64 {
        self.rate + self.class_rates.iter().map(|(_, p)| p.peak()).sum::<f64>()
    }
}

impl WorkloadSpec {
    /// Checks every field; with a trace, reads it once (see [`crate::workload`]).
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
        let rate = self.rate.as_ref().ok_or_else(|| {
            Invalid::new(
                "rate",
                "is missing; give the mean requests per second (Poisson arrivals), or a \
                 profile such as { profile = \"daily\", mean = 5000, peak_to_trough = 3 }",
            )
        })?;
        let (rate, profile) = resolve_rate(rate)?;
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
        let class_write_ratios = self.class_write_ratios()?;
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
        let mut class_rates = Vec::new();
        for (name, r) in &self.class_rates {
            let Some(i) = content.classes.iter().position(|c| &c.name == name) else {
                return Err(Invalid::new(
                    &format!("class_rates.{name}"),
                    format!(
                        "names no class; give a rate to one of [[workload.classes]]'s names \
                         ({})",
                        content
                            .classes
                            .iter()
                            .map(|c| c.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            };
            let key = format!("class_rates.{name}");
            let profile = match r {
                RateSpec::Constant(x) => check_rate(*x)
                    .map(|()| Profile::constant(*x))
                    .map_err(|e| Invalid::new(&key, e.message))?,
                RateSpec::Profile(p) => Profile::resolve(p).map_err(|e| e.under(&key))?,
            };
            class_rates.push((i as u8, Arc::new(profile)));
        }
        class_rates.sort_by_key(|c| c.0);
        let drift = match &self.drift {
            None => None,
            Some(_) if content.is_active() => {
                return Err(Invalid::new(
                    "drift",
                    "cannot be combined with classes yet: classes own fixed key ranges by \
                     popularity, which a drifting ranking would mix",
                ));
            }
            Some(d) => Some(Arc::new(
                d.resolve(keys as u32).map_err(|e| e.under("drift"))?,
            )),
        };
        Ok(WorkloadPlan {
            keys: keys as u32,
            popularity,
            rate,
            profile,
            drift,
            class_rates,
            write_ratio: self.write_ratio,
            class_write_ratios,
            missing_ratio: self.missing_ratio,
            trace: None,
            timed: false,
            content,
            reload_ratio: self.reload_ratio,
        })
    }

    /// Each class's write ratio (see [`crate::layer::http::ClassSpec::write_ratio`]), or
    /// none when they all equal `write_ratio`, so such runs draw as before.
    fn class_write_ratios(&self) -> Result<Vec<f64>, Invalid> {
        let mut ratios = Vec::with_capacity(self.classes.len());
        for (i, c) in self.classes.iter().enumerate() {
            let at = |message: String| Invalid::new("write_ratio", message).at(i).under("classes");
            let ratio = match c.write_ratio {
                Some(r) if !(0.0..=1.0).contains(&r) => {
                    return Err(at(format!("is {r}; must be between 0 and 1")));
                }
                Some(r) if c.immutable && r > 0.0 => {
                    return Err(at(format!(
                        "is {r}, but class `{}` is immutable: its content never changes \
                         under its key (a new version is a new key), so it takes no writes; \
                         remove `write_ratio` or `immutable`",
                        c.name
                    )));
                }
                Some(r) => r,
                // Immutable content is never rewritten in place.
                None if c.immutable => 0.0,
                None => self.write_ratio,
            };
            ratios.push(ratio);
        }
        if ratios.iter().all(|&r| r == self.write_ratio) {
            ratios.clear();
        }
        Ok(ratios)
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
        if self.drift.is_some() {
            return Err(decided("drift", "ids decide which keys are asked for"));
        }
        if !self.class_rates.is_empty() {
            return Err(decided("class_rates", "requests have no classes"));
        }
        let (rate, profile) = match &self.rate {
            Some(r) => resolve_rate(r)?,
            None => (1.0, None),
        };
        let plan = trace.resolve().map_err(|e| e.under("trace"))?;
        Ok(WorkloadPlan {
            keys: plan.ids.len() as u32,
            popularity: PopularitySpec::Uniform,
            rate,
            profile,
            drift: None,
            class_rates: Vec::new(),
            write_ratio: 0.0,
            class_write_ratios: Vec::new(),
            missing_ratio: 0.0,
            trace: Some(Arc::new(plan)),
            timed: self.rate.is_none(),
            content: crate::layer::http::Content::default(),
            reload_ratio: 0.0,
        })
    }
}

/// A rate as the plan holds it: a number, or a profile and its peak.
fn resolve_rate(rate: &RateSpec) -> Result<(f64, Option<Arc<Profile>>), Invalid> {
    match rate {
        RateSpec::Constant(r) => check_rate(*r).map(|()| (*r, None)),
        RateSpec::Profile(p) => {
            let profile = Profile::resolve(p).map_err(|e| e.under("rate"))?;
            Ok((profile.peak(), Some(Arc::new(profile))))
        }
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
