//! The live lab page (`tiersim lab`): owns the controls derived from a scenario, the
//! short runs a change of control asks for, and the HTTP server that serves both.
//!
//! A run here is `tiersim run --set ... --set requests=<cap>` without the files: the
//! same [`Source::plan`] with the same overrides, then [`crate::simulate`], so a setting
//! gives the same numbers on the page as on the command line.
//!
//! - [`server`]: the HTTP server (`tiny_http`), its locks and limits.
//! - [`page`]: the page's HTML, CSS and script, embedded in the binary.

pub mod page;
pub mod server;

use serde::Serialize;
use serde_json::{Value, json};

use crate::engine::budget::Estimate;
use crate::layer::stampede::StampedeSpec;
use crate::policy::PolicySpec;
use crate::scenario::{Override, Source};
use crate::workload::write::WriteStrategy;

/// Requests per lab run unless `--max-requests` says otherwise.
pub const DEFAULT_MAX_REQUESTS: u64 = 200_000;

/// The memory one lab run may take, at most (less when the system has less available).
pub const MAX_RUN_MEMORY: u64 = 1 << 30;

/// One control of the page: a `--set` key and the values it may take.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Control {
    /// The key as `--set` takes it (`layers.redis.ttl_s`).
    pub key: String,
    /// What the page writes beside it.
    pub label: String,
    /// `range` (a slider over `values`) or `select`.
    pub kind: &'static str,
    /// The values, as `--set` writes them, in order.
    pub values: Vec<String>,
    /// The scenario's own value (one of `values`).
    pub value: String,
}

/// A lab run refused: the HTTP status and the message.
#[derive(Clone, Debug, PartialEq)]
pub struct Refused {
    /// 400 for a bad setting.
    pub status: u16,
    /// The scenario error's text, as `tiersim run --set` prints it after `error: `.
    pub message: String,
}

/// The scenario a lab serves and the cap on its runs.
#[derive(Clone, Debug)]
pub struct Lab {
    source: Source,
    controls: Vec<Control>,
    /// What `tiersim run` is given to load it (a path, or nothing for the built-in one).
    pub scenario_arg: Option<String>,
    /// Requests per run, at most.
    pub max_requests: u64,
}

/// An error's text and its causes, each once (as the command line prints it).
pub fn message(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(c) = cause {
        let c_text = c.to_string();
        if !text.ends_with(&c_text) {
            text.push_str(": ");
            text.push_str(&c_text);
        }
        cause = c.source();
    }
    text
}

fn bad(error: &(dyn std::error::Error + 'static)) -> Refused {
    Refused {
        status: 400,
        message: message(error),
    }
}

/// Nice slider values around `current`: a 1-2-3-5 ladder from `lo` to `hi`, and `current`.
fn ladder(current: f64, lo: f64, hi: f64) -> Vec<f64> {
    let mut out = vec![current];
    let mut decade = 10f64.powf(lo.log10().floor());
    while decade <= hi {
        for m in [1.0, 2.0, 3.0, 5.0] {
            let v = m * decade;
            if v >= lo && v <= hi {
                out.push(v);
            }
        }
        decade *= 10.0;
    }
    out.sort_by(f64::total_cmp);
    out.dedup();
    out
}

/// A number as `--set` writes it: integers without a fraction.
fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

fn range(key: String, label: String, values: Vec<f64>, current: f64) -> Control {
    Control {
        key,
        label,
        kind: "range",
        values: values.into_iter().map(num).collect(),
        value: num(current),
    }
}

/// Eviction policies offered by the page: every policy a scenario names, but those that
/// need to know the future (they run only in replay).
fn online_policies() -> Vec<&'static str> {
    PolicySpec::NAMES
        .iter()
        .copied()
        .filter(|n| PolicySpec::from_name(n).is_some_and(|p| !p.needs_future()))
        .collect()
}

fn select(key: String, label: String, values: &[&str], current: &str) -> Control {
    let mut values: Vec<String> = values.iter().map(|s| (*s).to_owned()).collect();
    if !values.iter().any(|v| v == current) {
        values.insert(0, current.to_owned());
    }
    Control {
        key,
        label,
        kind: "select",
        values,
        value: current.to_owned(),
    }
}

impl Lab {
    /// A lab over `source`, checked: its own settings must plan.
    pub fn new(
        source: Source,
        scenario_arg: Option<String>,
        max_requests: u64,
    ) -> Result<Lab, Refused> {
        let mut lab = Lab {
            source,
            controls: Vec::new(),
            scenario_arg,
            max_requests,
        };
        lab.plan(&[])?;
        lab.controls = lab.derive_controls();
        Ok(lab)
    }

    /// The scenario's name.
    pub fn name(&self) -> String {
        self.source
            .scenario(&[])
            .map(|s| s.name)
            .unwrap_or_default()
    }

    /// The controls the page shows, derived from the scenario: each cache layer's TTL,
    /// jitter, capacity, policy and stampede mode, the workload's rate and write
    /// strategy; each offering only the values the scenario accepts on their own.
    pub fn controls(&self) -> &[Control] {
        &self.controls
    }

    fn derive_controls(&self) -> Vec<Control> {
        let mut controls = self.candidate_controls();
        for c in &mut controls {
            let current = c.value.clone();
            let key = c.key.clone();
            c.values.retain(|v| {
                *v == current
                    || Override::parse(&format!("{key}={v}"))
                        .is_ok_and(|o| self.source.plan(&[o]).is_ok())
            });
        }
        controls.retain(|c| c.values.len() > 1);
        controls
    }

    fn candidate_controls(&self) -> Vec<Control> {
        let Ok(scenario) = self.source.scenario(&[]) else {
            return Vec::new();
        };
        let doc = serde_json::to_value(&scenario).unwrap_or_default();
        let mut out = Vec::new();
        let empty = Vec::new();
        for layer in doc["layers"].as_array().unwrap_or(&empty) {
            let name = layer["name"].as_str().unwrap_or_default();
            if layer["kind"] == "database" {
                continue;
            }
            let key = |k: &str| format!("layers.{name}.{k}");
            if let Some(ttl) = layer["ttl_s"].as_f64() {
                let values = ladder(ttl, 1.0, (10.0 * ttl).max(60.0));
                out.push(range(key("ttl_s"), format!("{name} TTL (s)"), values, ttl));
                let jitter = layer["jitter"].as_f64().unwrap_or(0.0);
                out.push(range(
                    key("jitter"),
                    format!("{name} TTL jitter"),
                    jitter_values(jitter),
                    jitter,
                ));
            }
            if let Some(cap) = layer["capacity"].as_f64() {
                let values = ladder(cap, (cap / 100.0).max(1.0).round(), cap * 10.0)
                    .into_iter()
                    .map(f64::round)
                    .collect();
                out.push(range(
                    key("capacity"),
                    format!("{name} capacity (entries)"),
                    values,
                    cap,
                ));
            }
            let policy = match &layer["policy"] {
                Value::String(s) => s.clone(),
                Value::Object(o) => o
                    .values()
                    .find_map(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_else(|| "lru".into()),
                _ => "lru".into(),
            };
            out.push(select(
                key("policy"),
                format!("{name} policy"),
                &online_policies(),
                &policy,
            ));
            let mode = layer["stampede"]["mode"].as_str().unwrap_or("none");
            out.push(select(
                key("stampede.mode"),
                format!("{name} stampede defence"),
                &StampedeSpec::MODES,
                mode,
            ));
        }
        if let Some(rate) = doc["workload"]["rate"].as_f64() {
            let values = ladder(rate, (rate / 10.0).max(1.0), rate * 10.0);
            out.push(range(
                "workload.rate".into(),
                "rate (req/s)".into(),
                values,
                rate,
            ));
        }
        if doc["workload"]["trace"].is_null() {
            let strategy = doc["workload"]["write_strategy"]
                .as_str()
                .unwrap_or("cache_aside");
            out.push(select(
                "workload.write_strategy".into(),
                "write strategy".into(),
                &WriteStrategy::NAMES,
                strategy,
            ));
        }
        out
    }

    /// The overrides of a lab run: `set` (each as `--set` takes it), then
    /// `requests=<cap>` unless `set` asks for fewer; more is refused.
    pub fn overrides(&self, set: &[String]) -> Result<Vec<Override>, Refused> {
        let mut overrides = set
            .iter()
            .map(|s| Override::parse(s))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(&e))?;
        let asked = overrides.iter().rev().find(|o| o.key == ["requests"]);
        match asked.map(|o| o.value.as_u64()) {
            None => overrides.push(
                Override::parse(&format!("requests={}", self.max_requests))
                    .expect("a number parses"),
            ),
            Some(Some(n)) if n <= self.max_requests => {}
            Some(_) => {
                return Err(Refused {
                    status: 400,
                    message: format!(
                        "requests: the lab runs at most {} requests (tiersim lab --max-requests); use `tiersim run` for longer runs",
                        self.max_requests
                    ),
                });
            }
        }
        Ok(overrides)
    }

    fn plan(&self, set: &[String]) -> Result<crate::scenario::Plan, Refused> {
        let overrides = self.overrides(set)?;
        let (_, plan) = self.source.plan(&overrides).map_err(|e| bad(&e))?;
        let limit = crate::engine::budget::available()
            .unwrap_or(MAX_RUN_MEMORY)
            .min(MAX_RUN_MEMORY);
        Estimate::of(&plan)
            .check(limit, "a lab run may take (at most 1 GiB)")
            .map_err(|e| bad(&e))?;
        Ok(plan)
    }

    /// The `tiersim run` command that gives the same numbers as [`Lab::run`] on `set`.
    pub fn command(&self, set: &[String]) -> String {
        let mut words = vec!["tiersim".to_owned(), "run".to_owned()];
        words.extend(self.scenario_arg.iter().cloned());
        if let Ok(overrides) = self.overrides(set) {
            for o in overrides {
                words.push("--set".into());
                words.push(o.assignment);
            }
        }
        words.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ")
    }

    /// Runs the scenario with `set` applied: `summary.json`'s content, the time series
    /// (`t_s`, `origin_rps`, `p99_ms` per bucket) and the command that reproduces it.
    pub fn run(&self, set: &[String]) -> Result<Value, Refused> {
        let plan = self.plan(set)?;
        let report = crate::simulate(&plan);
        let summary = serde_json::to_value(&report).expect("reports serialize");
        let series: Vec<Value> = report
            .timeseries
            .iter()
            .map(|b| json!({ "t_s": b.t_s, "origin_rps": b.origin_rps, "p99_ms": b.p99_ms }))
            .collect();
        Ok(json!({
            "summary": summary,
            "timeseries": series,
            "max_requests": self.max_requests,
            "set": set,
            "command": self.command(set),
        }))
    }
}

/// `word` as a POSIX shell reads it back: as is when plain, else in single quotes.
fn quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "._/=:,+-@%".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Jitter values: 0 and a ladder up to 0.9, with the scenario's own.
fn jitter_values(current: f64) -> Vec<f64> {
    let mut v = vec![0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.9, current];
    v.sort_by(f64::total_cmp);
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ladder_holds_the_current_value_in_order() {
        let v = ladder(60.0, 1.0, 600.0);
        assert!(v.contains(&60.0));
        assert!(v.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(v.first(), Some(&1.0));
        assert_eq!(v.last(), Some(&500.0));
    }

    #[test]
    fn controls_of_the_app_tier() {
        let lab = Lab::new(Source::app_tier(), None, 150_000).unwrap();
        let keys: Vec<String> = lab.controls().iter().map(|c| c.key.clone()).collect();
        for k in [
            "layers.l1.ttl_s",
            "layers.redis.capacity",
            "layers.redis.stampede.mode",
            "workload.rate",
            "workload.write_strategy",
        ] {
            assert!(keys.iter().any(|x| x == k), "{k} in {keys:?}");
        }
    }

    #[test]
    fn more_requests_than_the_cap_are_refused() {
        let lab = Lab::new(Source::app_tier(), None, 150_000).unwrap();
        let e = lab.overrides(&["requests=150001".into()]).unwrap_err();
        assert_eq!(e.status, 400);
        assert!(e.message.contains("at most 150000"), "{}", e.message);
        assert!(lab.overrides(&["requests=149999".into()]).is_ok());
    }
}
