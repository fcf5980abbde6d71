//! Capacity search: the largest value of one axis (the arrival rate by default) at which
//! a scenario still meets every service-level objective.
//!
//! A search over runs, not engine code. It evaluates the range's ends, then bisects the
//! bracket (at the geometric midpoint while the bracket spans more than ×10) until it is
//! within a relative tolerance or a step budget is spent. Each point runs `R`
//! replications, seeded as a sweep seeds the same point ([`super::Point::seed`]), in
//! parallel on a rayon pool, collected in replication order: the result is the same for
//! any thread count. Each objective's metric gets its mean and the half-width of a 95%
//! Student-t interval ([`super::mean_ci95`]): a point *passes* an objective when the
//! interval's unfavourable end meets it, *fails* when the favourable end misses it, and
//! is *uncertain* otherwise; uncertain points get `R` more replications at a time up to
//! a cap, and one still uncertain there counts as not shown to pass.
//!
//! The search assumes the objectives get worse as the axis grows (a rate, a key count),
//! which bisection needs.

use std::fmt::Write as _;
use std::path::Path;

use rayon::prelude::*;
use serde_json::{Value, json};

use super::{Point, mean_ci95};
pub use crate::output::number;
use crate::output::report::{OutputError, Report, write_atomic};
use crate::scenario::{Override, ScenarioError, Source};

/// Why a capacity search could not be set up or finished.
#[derive(Debug, thiserror::Error)]
pub enum CapacityError {
    /// A flag's value is malformed or not allowed.
    #[error("{flag} {given:?}: {message}")]
    Flag {
        /// The flag (`--slo`, `--range`, ...).
        flag: &'static str,
        /// Its value as written.
        given: String,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// The scenario, or the scenario at a value of the axis, is invalid.
    #[error("{axis} = {value}: {source}")]
    Point {
        /// The axis key.
        axis: String,
        /// The value tried.
        value: String,
        /// Why the scenario refuses it (boxed: the error stays small on the `Ok` path).
        #[source]
        source: Box<ScenarioError>,
    },
    /// The base scenario is invalid.
    #[error(transparent)]
    Scenario(Box<ScenarioError>),
    /// Output could not be written.
    #[error(transparent)]
    Output(#[from] OutputError),
}

impl From<ScenarioError> for CapacityError {
    fn from(e: ScenarioError) -> Self {
        CapacityError::Scenario(Box::new(e))
    }
}

/// What an objective bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// A statistic of client read latency, in milliseconds, of every read
    /// (`latency_all_ms`: a failed one counted at its failure).
    Latency(&'static str),
    /// The share of client requests answered successfully (`availability`).
    Availability,
    /// The database's busy share (`origin.utilization`).
    OriginUtilization,
}

impl Metric {
    /// The metric's column stem in `capacity.csv` (`p99_ms`, `availability`, ...).
    pub fn column(&self) -> String {
        match self {
            Metric::Latency(s) => format!("{s}_ms"),
            Metric::Availability => "availability".into(),
            Metric::OriginUtilization => "origin_utilization".into(),
        }
    }

    /// The metric of one run's report.
    fn of(&self, report: &Report) -> f64 {
        match *self {
            Metric::Latency(stat) => {
                let l = &report.latency_all_ms;
                match stat {
                    "p50" => l.p50,
                    "p90" => l.p90,
                    "p99" => l.p99,
                    "p999" => l.p999,
                    "mean" => l.mean,
                    "max" => l.max,
                    _ => unreachable!("LATENCY_STATS names the statistics"),
                }
            }
            Metric::Availability => report.availability,
            Metric::OriginUtilization => report.origin.utilization,
        }
    }
}

/// One service-level objective: a metric and the bound it must meet.
#[derive(Clone, Debug, PartialEq)]
pub struct Objective {
    /// As written on the command line.
    pub text: String,
    /// What it bounds.
    pub metric: Metric,
    /// The bound, in the metric's unit (milliseconds for latency, a share otherwise).
    pub bound: f64,
    /// `true` for `<=` (latency, utilization), `false` for `>=` (availability).
    pub upper: bool,
}

/// The statistics `--slo` names, and the summary field each reads.
const LATENCY_STATS: [&str; 6] = ["p50", "p90", "p99", "p999", "mean", "max"];
const SLO_FORMS: &str = "p50|p90|p99|p999|mean|max <= N ms|s (e.g. p99<=200ms), \
     availability >= X (a share, 0.999, or a percentage, 99.9%), or \
     origin.utilization <= X (a share)";

impl Objective {
    /// Parses `p99<=200ms`, `mean <= 0.5 s`, `availability>=0.999` (or `99.9%`),
    /// `origin.utilization<=0.8`.
    pub fn parse(text: &str) -> Result<Objective, CapacityError> {
        let bad = |message: String| CapacityError::Flag {
            flag: "--slo",
            given: text.to_owned(),
            message,
        };
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let (name, op, value) = if let Some((n, v)) = compact.split_once("<=") {
            (n, "<=", v)
        } else if let Some((n, v)) = compact.split_once(">=") {
            (n, ">=", v)
        } else {
            return Err(bad(format!(
                "expected METRIC<=N or METRIC>=X; allowed: {SLO_FORMS}"
            )));
        };
        let number = |v: &str| -> Result<f64, CapacityError> {
            v.replace('_', "")
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite() && *x >= 0.0)
                .ok_or_else(|| {
                    bad(format!(
                        "{v:?} is not a non-negative number; allowed: {SLO_FORMS}"
                    ))
                })
        };
        let name = name.to_ascii_lowercase();
        let (metric, bound) = if let Some(stat) = LATENCY_STATS.iter().find(|s| **s == name) {
            let (digits, scale) = if let Some(d) = value.strip_suffix("ms") {
                (d, 1.0)
            } else if let Some(d) = value.strip_suffix('s') {
                (d, 1000.0)
            } else {
                return Err(bad(format!(
                    "a latency bound needs a unit, ms or s (e.g. {name}<={value}ms)"
                )));
            };
            let ms = number(digits)? * scale;
            if ms <= 0.0 {
                return Err(bad("a latency bound must be more than 0".into()));
            }
            (Metric::Latency(stat), ms)
        } else if name == "availability" {
            let x = match value.strip_suffix('%') {
                Some(p) => number(p)? / 100.0,
                None => number(value)?,
            };
            if x > 1.0 {
                return Err(bad(format!(
                    "availability is a share from 0 to 1 (or a percentage, 99.9%), not {value}"
                )));
            }
            (Metric::Availability, x)
        } else if name == "origin.utilization" {
            let x = number(value)?;
            if x > 1.0 {
                return Err(bad(format!(
                    "utilization is a share from 0 to 1, not {value}"
                )));
            }
            (Metric::OriginUtilization, x)
        } else {
            return Err(bad(format!(
                "unknown metric {name:?}; allowed: {SLO_FORMS}"
            )));
        };
        let upper = metric != Metric::Availability;
        if (op == "<=") != upper {
            let want = if upper { "<=" } else { ">=" };
            return Err(bad(format!(
                "{name} is bounded with {want} (a {} must not exceed it); allowed: {SLO_FORMS}",
                if upper {
                    "higher value is worse"
                } else {
                    "lower value is worse"
                },
            )));
        }
        Ok(Objective {
            text: text.to_owned(),
            metric,
            bound,
            upper,
        })
    }

    /// The verdict on an interval `mean ± half`.
    fn verdict(&self, mean: f64, half: f64) -> Verdict {
        if !mean.is_finite() {
            return Verdict::Fail;
        }
        let (worst, best) = if self.upper {
            (mean + half, mean - half)
        } else {
            (mean - half, mean + half)
        };
        let meets = |x: f64| {
            if self.upper {
                x <= self.bound
            } else {
                x >= self.bound
            }
        };
        if meets(worst) {
            Verdict::Pass
        } else if !meets(best) {
            Verdict::Fail
        } else {
            Verdict::Uncertain
        }
    }
}

/// A point's standing against an objective, or against all of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The interval's unfavourable end meets the objective.
    Pass,
    /// The interval's favourable end misses it.
    Fail,
    /// The interval straddles the bound.
    Uncertain,
}

impl Verdict {
    /// `pass`, `fail` or `uncertain`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Uncertain => "uncertain",
        }
    }
}

/// `--range LO..HI`, integers when both ends are written as integers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Range {
    /// The low end.
    pub lo: f64,
    /// The high end.
    pub hi: f64,
    /// Whether the axis takes whole numbers (both ends written without a point).
    pub integer: bool,
}

impl Range {
    /// Parses `5000..80000` (underscores allowed).
    pub fn parse(text: &str) -> Result<Range, CapacityError> {
        let bad = |message: &str| CapacityError::Flag {
            flag: "--range",
            given: text.to_owned(),
            message: message.to_owned(),
        };
        let form = "expected LO..HI with 0 < LO < HI, e.g. 5000..80000";
        let (lo, hi) = text.split_once("..").ok_or_else(|| bad(form))?;
        let (lo, hi) = (lo.trim().replace('_', ""), hi.trim().replace('_', ""));
        let integer = [&lo, &hi].iter().all(|s| s.parse::<u64>().is_ok());
        let num = |s: &str| s.parse::<f64>().ok().filter(|x| x.is_finite());
        match (num(&lo), num(&hi)) {
            (Some(lo), Some(hi)) if lo > 0.0 && hi > lo => Ok(Range { lo, hi, integer }),
            _ => Err(bad(form)),
        }
    }

    /// The default range around the scenario's value `v`: ×1/4 to ×4.
    pub fn around(v: f64) -> Range {
        Range {
            lo: v / 4.0,
            hi: v * 4.0,
            integer: false,
        }
    }
}

/// The settings of a search.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The dotted scenario key searched (`workload.rate`).
    pub axis: String,
    /// Where to search.
    pub range: Range,
    /// Every objective a value must meet.
    pub objectives: Vec<Objective>,
    /// Replications per point at first.
    pub replications: u32,
    /// Replications per point at most (an uncertain point gets more up to this).
    pub max_replications: u32,
    /// Stop when (high - low) / low is at most this.
    pub tolerance: f64,
    /// Bisection steps at most, after the two ends.
    pub max_steps: u32,
    /// The base seed, from which each point's seeds derive.
    pub seed: u64,
}

/// The most replications a point may take: each is a whole run.
pub const MAX_REPLICATIONS: u32 = 1000;
/// The most bisection steps a search may take.
pub const MAX_STEPS: u32 = 200;

/// One evaluated value of the axis.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluated {
    /// The axis value.
    pub value: f64,
    /// The seed of each replication, in replication order.
    pub seeds: Vec<u64>,
    /// Per objective, the metric of each replication.
    pub samples: Vec<Vec<f64>>,
    /// Per objective, the mean and the 95% half-width (0 with one replication).
    pub stats: Vec<(f64, f64)>,
    /// Per objective, its verdict.
    pub verdicts: Vec<Verdict>,
    /// Fail if any objective fails, else uncertain if any is, else pass.
    pub verdict: Verdict,
}

/// How a search ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A bracket: the largest passing value and the smallest one not shown to pass.
    Found,
    /// The low end does not pass: no capacity within the range.
    NoneInRange,
    /// The high end passes: the capacity is at least the range's high end.
    AtLeastHigh,
}

/// A finished search.
#[derive(Clone, Debug)]
pub struct Capacity {
    /// The scenario's name.
    pub name: String,
    /// What was searched, and how.
    pub settings: Settings,
    /// Every evaluated point, in the order evaluated.
    pub points: Vec<Evaluated>,
    /// How it ended.
    pub outcome: Outcome,
    /// The largest value shown to pass (none when the low end does not).
    pub answer: Option<f64>,
    /// The smallest value not shown to pass (none when the high end passes).
    pub failing: Option<f64>,
}

/// The planner's question as asked on the command line, before it is checked.
#[derive(Clone, Debug)]
pub struct Question {
    /// The dotted scenario key to search (`workload.rate`).
    pub axis: String,
    /// Where to search; none: the scenario's value ×1/4 to ×4.
    pub range: Option<Range>,
    /// Every objective a value must meet.
    pub objectives: Vec<Objective>,
    /// Replications per point at first.
    pub replications: u32,
    /// Replications per point at most; none: 4 × `replications`, at least 10.
    pub max_replications: Option<u32>,
    /// The bracket's relative width at which the search stops.
    pub tolerance: f64,
    /// Bisection steps at most.
    pub max_steps: u32,
    /// The base seed; none: the scenario's.
    pub seed: Option<u64>,
}

/// A capacity search over one scenario, validated and ready to run.
pub struct Search {
    source: Source,
    base: Vec<Override>,
    settings: Settings,
    name: String,
}

impl Search {
    /// Checks the settings and the scenario at both ends of the range, so a bad value
    /// fails before anything runs. With no `range`, the range is the scenario's value
    /// of the axis ×1/4 to ×4.
    pub fn new(source: Source, base: Vec<Override>, q: Question) -> Result<Search, CapacityError> {
        let Question {
            axis,
            range,
            objectives,
            replications,
            max_replications,
            tolerance,
            max_steps,
            seed,
        } = q;
        let axis = axis.as_str();
        let flag = |flag: &'static str, given: String, message: &str| CapacityError::Flag {
            flag,
            given,
            message: message.to_owned(),
        };
        if objectives.is_empty() {
            return Err(flag("--slo", String::new(), "give at least one objective"));
        }
        if replications == 0 || replications > MAX_REPLICATIONS {
            return Err(flag(
                "--replications",
                replications.to_string(),
                &format!("must be 1 to {MAX_REPLICATIONS} (runs per point)"),
            ));
        }
        let max_replications = max_replications.unwrap_or((replications * 4).max(10));
        if max_replications < replications || max_replications > MAX_REPLICATIONS {
            return Err(flag(
                "--max-replications",
                max_replications.to_string(),
                &format!("must be from --replications ({replications}) to {MAX_REPLICATIONS}"),
            ));
        }
        if !(tolerance > 0.0 && tolerance < 1.0) {
            return Err(flag(
                "--tolerance",
                tolerance.to_string(),
                "must be more than 0 and less than 1 (a share of the answer, 0.02 = 2%)",
            ));
        }
        if max_steps > MAX_STEPS {
            return Err(flag(
                "--max-steps",
                max_steps.to_string(),
                &format!("must be at most {MAX_STEPS}"),
            ));
        }
        let (scenario, plan) = source.plan(&base)?;
        let range = match range {
            Some(r) => r,
            None => {
                let doc = serde_json::to_value(&scenario).expect("scenarios serialize");
                let v = lookup(&doc, axis)
                    .and_then(Value::as_f64)
                    .filter(|v| *v > 0.0);
                match v {
                    Some(v) => Range::around(v),
                    None => {
                        return Err(flag(
                            "--range",
                            String::new(),
                            &format!(
                                "needed for --axis {axis}: the scenario has no positive number there to search around"
                            ),
                        ));
                    }
                }
            }
        };
        let search = Search {
            name: plan.name.clone(),
            source,
            base,
            settings: Settings {
                axis: axis.to_owned(),
                range,
                objectives,
                replications,
                max_replications,
                tolerance,
                max_steps,
                seed: seed.unwrap_or(plan.seed),
            },
        };
        for v in [range.lo, range.hi] {
            let o = search.overrides(v);
            search
                .source
                .plan(&o)
                .map_err(|source| CapacityError::Point {
                    axis: axis.to_owned(),
                    value: number(v),
                    source: Box::new(source),
                })?;
        }
        Ok(search)
    }

    /// The scenario's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The search's settings, as resolved.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    fn json_value(&self, v: f64) -> Value {
        if self.settings.range.integer {
            json!(v as u64)
        } else {
            json!(v)
        }
    }

    fn point(&self, v: f64) -> Point {
        Point {
            coords: vec![(self.settings.axis.clone(), self.json_value(v))],
        }
    }

    /// The base overrides and the axis at `v`: what a run at `v` is planned from.
    pub fn overrides(&self, v: f64) -> Vec<Override> {
        let mut o = self.base.clone();
        o.extend(self.point(v).overrides());
        o
    }

    /// Runs replications `from..to` of value `v` on `pool`, in replication order.
    fn replicate(
        &self,
        pool: &rayon::ThreadPool,
        v: f64,
        from: u32,
        to: u32,
        tick: &(dyn Fn() + Sync),
    ) -> Result<Vec<(u64, Vec<f64>)>, CapacityError> {
        let overrides = self.overrides(v);
        let (_, plan) = self
            .source
            .plan(&overrides)
            .map_err(|source| CapacityError::Point {
                axis: self.settings.axis.clone(),
                value: number(v),
                source: Box::new(source),
            })?;
        let point = self.point(v);
        let reps: Vec<u32> = (from..to).collect();
        Ok(pool.install(|| {
            reps.par_iter()
                .map(|&r| {
                    let mut plan = plan.clone();
                    plan.seed = point.seed(self.settings.seed, r);
                    let report = crate::simulate(&plan);
                    tick();
                    let metrics = self
                        .settings
                        .objectives
                        .iter()
                        .map(|o| o.metric.of(&report));
                    (plan.seed, metrics.collect())
                })
                .collect()
        }))
    }

    /// Evaluates value `v`: `R` replications, more while uncertain, up to the cap.
    fn evaluate(
        &self,
        pool: &rayon::ThreadPool,
        v: f64,
        tick: &(dyn Fn() + Sync),
    ) -> Result<Evaluated, CapacityError> {
        let s = &self.settings;
        let mut runs = Vec::new();
        let mut n = s.replications;
        loop {
            runs.extend(self.replicate(pool, v, runs.len() as u32, n, tick)?);
            let e = self.judge(v, &runs);
            if e.verdict != Verdict::Uncertain || n >= s.max_replications {
                return Ok(e);
            }
            n = (n + s.replications).min(s.max_replications);
        }
    }

    fn judge(&self, value: f64, runs: &[(u64, Vec<f64>)]) -> Evaluated {
        let objectives = &self.settings.objectives;
        let samples: Vec<Vec<f64>> = (0..objectives.len())
            .map(|i| runs.iter().map(|(_, m)| m[i]).collect())
            .collect();
        let stats: Vec<(f64, f64)> = samples
            .iter()
            .map(|xs| {
                let (m, h) = mean_ci95(xs);
                (m, h.unwrap_or(0.0))
            })
            .collect();
        let verdicts: Vec<Verdict> = objectives
            .iter()
            .zip(&stats)
            .map(|(o, &(m, h))| o.verdict(m, h))
            .collect();
        let verdict = if verdicts.contains(&Verdict::Fail) {
            Verdict::Fail
        } else if verdicts.contains(&Verdict::Uncertain) {
            Verdict::Uncertain
        } else {
            Verdict::Pass
        };
        Evaluated {
            value,
            seeds: runs.iter().map(|(s, _)| *s).collect(),
            samples,
            stats,
            verdicts,
            verdict,
        }
    }

    /// The next value to try between `lo` and `hi`, or none when the bracket is
    /// within the tolerance (or no whole number lies between).
    fn midpoint(&self, lo: f64, hi: f64) -> Option<f64> {
        if hi - lo <= self.settings.tolerance * lo {
            return None;
        }
        // A wide bracket is halved in ratio, so a range over decades takes as many
        // steps at its low end as at its high one.
        let mid = if hi / lo > 10.0 {
            (lo * hi).sqrt()
        } else {
            (lo + hi) / 2.0
        };
        let mid = if self.settings.range.integer {
            mid.round()
        } else {
            mid
        };
        (mid > lo && mid < hi).then_some(mid)
    }

    /// Runs the search on `threads` threads, calling `tick` after each run.
    pub fn run(&self, threads: usize, tick: &(dyn Fn() + Sync)) -> Result<Capacity, CapacityError> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .build()
            .expect("a thread pool can be built");
        let s = &self.settings;
        let mut points = Vec::new();
        let low = self.evaluate(&pool, s.range.lo, tick)?;
        let low_passes = low.verdict == Verdict::Pass;
        points.push(low);
        let (outcome, answer, failing) = if !low_passes {
            (Outcome::NoneInRange, None, Some(s.range.lo))
        } else {
            let high = self.evaluate(&pool, s.range.hi, tick)?;
            let high_passes = high.verdict == Verdict::Pass;
            points.push(high);
            if high_passes {
                (Outcome::AtLeastHigh, Some(s.range.hi), None)
            } else {
                let (mut lo, mut hi) = (s.range.lo, s.range.hi);
                let mut steps = 0;
                while steps < s.max_steps {
                    let Some(mid) = self.midpoint(lo, hi) else {
                        break;
                    };
                    let e = self.evaluate(&pool, mid, tick)?;
                    // An uncertain point is not shown to pass: the answer stays below it.
                    if e.verdict == Verdict::Pass {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                    points.push(e);
                    steps += 1;
                }
                (Outcome::Found, Some(lo), Some(hi))
            }
        };
        Ok(Capacity {
            name: self.name.clone(),
            settings: s.clone(),
            points,
            outcome,
            answer,
            failing,
        })
    }
}

/// The value at dotted `key` in a scenario document; a list element is picked by its
/// `name` (`layers.db.connections`).
fn lookup<'a>(doc: &'a Value, key: &str) -> Option<&'a Value> {
    key.split('.').try_fold(doc, |v, part| match v {
        Value::Object(m) => m.get(part),
        Value::Array(items) => items
            .iter()
            .find(|i| i.get("name").and_then(Value::as_str) == Some(part)),
        _ => None,
    })
}

/// A metric value and its half-width with the unit, for the table: the half-width to
/// two significant figures, the mean to the same decimal place.
fn metric_text(metric: Metric, mean: f64, half: f64) -> String {
    let digits = if half > 0.0 && half.is_finite() {
        (1 - half.log10().floor() as i32).clamp(0, 9) as usize
    } else if mean != 0.0 && mean.is_finite() {
        (3 - mean.abs().log10().floor() as i32).clamp(0, 9) as usize
    } else {
        0
    };
    let unit = if matches!(metric, Metric::Latency(_)) {
        " ms"
    } else {
        ""
    };
    format!("{mean:.digits$} ± {half:.digits$}{unit}")
}

impl Capacity {
    /// The evaluated points sorted by axis value (the curve).
    pub fn curve(&self) -> Vec<&Evaluated> {
        let mut pts: Vec<&Evaluated> = self.points.iter().collect();
        pts.sort_by(|a, b| a.value.total_cmp(&b.value));
        pts
    }

    fn at(&self, v: f64) -> Option<&Evaluated> {
        self.points.iter().find(|p| p.value == v)
    }

    /// The objectives' metrics at `p`, as `p99 42.1 ± 1.3 ms`.
    fn figures(&self, p: &Evaluated) -> String {
        self.settings
            .objectives
            .iter()
            .zip(&p.stats)
            .map(|(o, &(m, h))| {
                format!(
                    "{} {}",
                    o.metric.column().trim_end_matches("_ms"),
                    metric_text(o.metric, m, h)
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The answer in one or two sentences.
    pub fn answer_text(&self) -> String {
        let s = &self.settings;
        let slo = s
            .objectives
            .iter()
            .map(|o| o.text.as_str())
            .collect::<Vec<_>>()
            .join(" and ");
        let reps = |p: &Evaluated| format!("{} replications", p.seeds.len());
        match self.outcome {
            Outcome::NoneInRange => {
                let p = &self.points[0];
                format!(
                    "no capacity within the range: {} = {} already {} {slo} ({}; 95% CI over {}); lower the range's low end",
                    s.axis,
                    number(s.range.lo),
                    if p.verdict == Verdict::Fail {
                        "fails"
                    } else {
                        "cannot be shown to meet"
                    },
                    self.figures(p),
                    reps(p)
                )
            }
            Outcome::AtLeastHigh => {
                let p = self.at(s.range.hi).expect("the high end was evaluated");
                format!(
                    "the answer is at least {}: {} = {} (the range's high end) meets {slo} at 95% confidence ({}; {}); raise the range's high end to find the limit",
                    number(s.range.hi),
                    s.axis,
                    number(s.range.hi),
                    self.figures(p),
                    reps(p)
                )
            }
            Outcome::Found => {
                let (a, f) = (
                    self.answer.expect("found has an answer"),
                    self.failing.expect("found has a failing value"),
                );
                let (pa, pf) = (
                    self.at(a).expect("evaluated"),
                    self.at(f).expect("evaluated"),
                );
                format!(
                    "{} = {} meets {slo} at 95% confidence ({}; {}); {} {} ({}; {})",
                    s.axis,
                    number(a),
                    self.figures(pa),
                    reps(pa),
                    number(f),
                    if pf.verdict == Verdict::Fail {
                        "fails"
                    } else {
                        "is uncertain"
                    },
                    self.figures(pf),
                    reps(pf)
                )
            }
        }
    }

    /// The curve as a table: each evaluated point, each metric's mean ± 95% half-width,
    /// its verdict.
    pub fn table(&self) -> String {
        let s = &self.settings;
        let mut head = vec![s.axis.clone(), "runs".into()];
        head.extend(s.objectives.iter().map(|o| o.text.clone()));
        head.push("verdict".into());
        let mut rows = vec![head];
        for p in self.curve() {
            let mut row = vec![number(p.value), p.seeds.len().to_string()];
            for ((o, &(m, h)), v) in s.objectives.iter().zip(&p.stats).zip(&p.verdicts) {
                row.push(format!("{} {}", metric_text(o.metric, m, h), v.as_str()));
            }
            row.push(p.verdict.as_str().into());
            rows.push(row);
        }
        let widths: Vec<usize> = (0..rows[0].len())
            .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
            .collect();
        let mut out = String::new();
        for row in &rows {
            let cells: Vec<String> = row
                .iter()
                .zip(&widths)
                .enumerate()
                .map(|(i, (c, w))| {
                    if i == 0 {
                        format!("{c:>w$}")
                    } else {
                        format!("{c:<w$}")
                    }
                })
                .collect();
            let _ = writeln!(out, "{}", cells.join("  ").trim_end());
        }
        out
    }

    /// `capacity.csv`: one row per evaluated point, by axis value.
    pub fn csv(&self) -> Vec<u8> {
        let mut head = vec!["value".to_owned(), "replications".into(), "verdict".into()];
        for o in &self.settings.objectives {
            let c = o.metric.column();
            head.extend([
                format!("{c}_mean"),
                format!("{c}_ci95"),
                format!("{c}_verdict"),
            ]);
        }
        let mut out = head.join(",");
        out.push('\n');
        for p in self.curve() {
            let mut row = vec![
                p.value.to_string(),
                p.seeds.len().to_string(),
                p.verdict.as_str().to_owned(),
            ];
            for (&(m, h), v) in p.stats.iter().zip(&p.verdicts) {
                row.extend([m.to_string(), h.to_string(), v.as_str().to_owned()]);
            }
            out.push_str(&row.join(","));
            out.push('\n');
        }
        out.into_bytes()
    }

    /// `capacity.json`: the answer, the bracket, the objectives, each point's seeds and
    /// samples, and `command`.
    pub fn json(&self, command: &str) -> Value {
        let s = &self.settings;
        json!({
            "scenario": self.name,
            "command": command,
            "axis": s.axis,
            "range": [s.range.lo, s.range.hi],
            "outcome": match self.outcome {
                Outcome::Found => "found",
                Outcome::NoneInRange => "none_in_range",
                Outcome::AtLeastHigh => "at_least_high",
            },
            "answer": self.answer,
            "smallest_failing": self.failing,
            "statement": self.answer_text(),
            "confidence": 0.95,
            "objectives": s.objectives.iter().map(|o| json!({
                "text": o.text,
                "metric": o.metric.column(),
                "bound": o.bound,
                "direction": if o.upper { "<=" } else { ">=" },
            })).collect::<Vec<_>>(),
            "tolerance": s.tolerance,
            "replications": s.replications,
            "max_replications": s.max_replications,
            "max_steps": s.max_steps,
            "seed": s.seed,
            "points": self.points.iter().map(|p| json!({
                "value": p.value,
                "verdict": p.verdict.as_str(),
                "seeds": p.seeds,
                "metrics": s.objectives.iter().enumerate().map(|(i, o)| json!({
                    "metric": o.metric.column(),
                    "samples": p.samples[i],
                    "mean": p.stats[i].0,
                    "ci95": p.stats[i].1,
                    "verdict": p.verdicts[i].as_str(),
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        })
    }

    /// Writes `capacity.csv` and `capacity.json` into `dir`, each whole or not at all.
    pub fn write(&self, dir: &Path, command: &str) -> Result<(), CapacityError> {
        std::fs::create_dir_all(dir).map_err(|source| OutputError::Io {
            path: dir.to_owned(),
            source,
        })?;
        write_atomic(&dir.join("capacity.csv"), &self.csv())?;
        let mut text = serde_json::to_vec_pretty(&self.json(command)).expect("json serializes");
        text.push(b'\n');
        write_atomic(&dir.join("capacity.json"), &text)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objectives_parse_and_refuse() {
        let o = Objective::parse("p99<=200ms").unwrap();
        assert_eq!(
            (o.metric, o.bound, o.upper),
            (Metric::Latency("p99"), 200.0, true)
        );
        let o = Objective::parse("mean <= 0.5 s").unwrap();
        assert_eq!((o.metric, o.bound), (Metric::Latency("mean"), 500.0));
        let o = Objective::parse("availability>=99.9%").unwrap();
        assert!((o.bound - 0.999).abs() < 1e-12 && !o.upper);
        assert_eq!(
            Objective::parse("origin.utilization<=0.8").unwrap().metric,
            Metric::OriginUtilization
        );
        for bad in [
            "p99<=200",
            "p98<=1ms",
            "p99>=1ms",
            "availability<=0.9",
            "availability>=2",
            "p99=1ms",
            "p99<=-1ms",
            "p99<=0ms",
        ] {
            let e = Objective::parse(bad).unwrap_err().to_string();
            assert!(e.starts_with("--slo"), "{bad}: {e}");
        }
    }

    #[test]
    fn verdicts_use_the_unfavourable_end() {
        let o = Objective::parse("p99<=10ms").unwrap();
        assert_eq!(o.verdict(8.0, 1.0), Verdict::Pass);
        assert_eq!(o.verdict(9.5, 1.0), Verdict::Uncertain);
        assert_eq!(o.verdict(11.5, 1.0), Verdict::Fail);
        let a = Objective::parse("availability>=0.99").unwrap();
        assert_eq!(a.verdict(0.995, 0.001), Verdict::Pass);
        assert_eq!(a.verdict(0.991, 0.002), Verdict::Uncertain);
        assert_eq!(a.verdict(0.98, 0.001), Verdict::Fail);
    }

    #[test]
    fn ranges_parse() {
        assert_eq!(
            Range::parse("5_000..80000").unwrap(),
            Range {
                lo: 5000.0,
                hi: 80000.0,
                integer: true
            }
        );
        assert!(!Range::parse("0.5..2").unwrap().integer);
        for bad in ["5..5", "0..3", "9..3", "x..3", "5000"] {
            assert!(Range::parse(bad).is_err(), "{bad}");
        }
    }
}
