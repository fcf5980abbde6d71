//! Reading what charts are drawn from: the CSV files by column name, and the fault
//! windows of a run (from `summary.json` when it lists them, else from the scenario
//! stored beside the outputs).

use std::path::{Path, PathBuf};

use super::PlotError;

/// A CSV file as rows of text, with its columns by header name.
pub(super) struct Table {
    pub(super) path: PathBuf,
    pub(super) headers: Vec<String>,
    pub(super) rows: Vec<Vec<String>>,
}

impl Table {
    /// The table at `path`, or `None` when there is no such file.
    pub(super) fn read(path: &Path) -> Result<Option<Table>, PlotError> {
        if !path.exists() {
            return Ok(None);
        }
        let bad = |e: csv::Error| PlotError::Input {
            path: path.to_owned(),
            message: e.to_string(),
        };
        let mut reader = csv::Reader::from_path(path).map_err(bad)?;
        let headers = reader
            .headers()
            .map_err(bad)?
            .iter()
            .map(str::to_owned)
            .collect();
        let rows = reader
            .records()
            .map(|r| r.map(|r| r.iter().map(str::to_owned).collect()))
            .collect::<Result<_, _>>()
            .map_err(bad)?;
        Ok(Some(Table {
            path: path.to_owned(),
            headers,
            rows,
        }))
    }

    /// The index of a column that must be there.
    pub(super) fn col(&self, name: &str) -> Result<usize, PlotError> {
        self.opt(name).ok_or_else(|| PlotError::Input {
            path: self.path.clone(),
            message: format!("no column `{name}`"),
        })
    }

    /// The index of a column files of older versions may lack.
    pub(super) fn opt(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == name)
    }

    /// A cell as a number; NaN when empty or not a number.
    pub(super) fn num(&self, row: &[String], col: usize) -> f64 {
        row.get(col)
            .and_then(|c| c.parse().ok())
            .unwrap_or(f64::NAN)
    }
}

/// A layer (or one node of it) down for a window of simulated time.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Fault {
    pub(super) layer: String,
    pub(super) node: Option<u64>,
    pub(super) start_s: f64,
    pub(super) duration_s: f64,
    pub(super) fallback: bool,
}

/// Where a run folder's fault windows are read from, first found first.
pub(super) const FAULT_SOURCES: [&str; 3] = ["summary.json", "scenario.json", "scenario.toml"];

/// Where the measured window of the run in `dir` starts (`summary.json`'s
/// `warmup_s`), if its summary says and it left a warm-up out; the time series' rows
/// before it are warm-up.
pub(super) fn warmup_s(dir: &Path) -> Option<f64> {
    let text = std::fs::read_to_string(dir.join("summary.json")).ok()?;
    let doc: serde_json::Value = serde_json::from_str(&text).ok()?;
    // With nothing left out, `warmup_s` is the first arrival's time: no warm-up to shade.
    if doc.get("warmup_requests").and_then(|w| w.as_u64()) == Some(0) {
        return None;
    }
    doc.get("warmup_s")?.as_f64()
}

/// The fault windows of the run whose outputs are in `dir`: `summary.json`'s `faults`
/// if it has that key, else the `[[faults]]` of the scenario stored beside
/// (`scenario.json` or `scenario.toml`); none when neither says.
pub(super) fn faults(dir: &Path) -> Result<Vec<Fault>, PlotError> {
    for name in FAULT_SOURCES {
        let path = dir.join(name);
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let bad = |message: String| PlotError::Input {
            path: path.clone(),
            message,
        };
        let doc: serde_json::Value = if name.ends_with(".toml") {
            let v: toml::Table = toml::from_str(&text).map_err(|e| bad(e.to_string()))?;
            serde_json::to_value(v).map_err(|e| bad(e.to_string()))?
        } else {
            serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?
        };
        let Some(list) = doc.get("faults") else {
            continue;
        };
        let list = list
            .as_array()
            .ok_or_else(|| bad("`faults` is not a list".into()))?;
        return list
            .iter()
            .enumerate()
            .map(|(i, f)| fault(f).map_err(|m| bad(format!("faults[{i}]: {m}"))))
            .collect();
    }
    Ok(Vec::new())
}

/// The document `name` (JSON, or TOML read as JSON) in `dir`, if it is there and parses.
fn stored(dir: &Path, name: &str) -> Option<serde_json::Value> {
    let text = std::fs::read_to_string(dir.join(name)).ok()?;
    if name.ends_with(".toml") {
        serde_json::to_value(toml::from_str::<toml::Table>(&text).ok()?).ok()
    } else {
        serde_json::from_str(&text).ok()
    }
}

/// The scenario stored beside a run's outputs: `scenario.json`, else `scenario.toml`.
fn stored_scenario(dir: &Path) -> Option<serde_json::Value> {
    ["scenario.json", "scenario.toml"]
        .iter()
        .find_map(|n| stored(dir, n))
}

/// Whether the run in `dir` has load worth charting over time: a rate that is not a
/// number (`workload.rate` or a class's rate, in the stored scenario), or overload
/// controls that did something (a non-zero count under `summary.json`'s `overload`:
/// refusals, timeouts, retries, wasted work, breaker time; not its `*_rps` rates nor
/// `first_attempts`, which every run has). A constant-rate run without them says no.
pub(super) fn load_varies(dir: &Path) -> bool {
    // Rates and first attempts measure every run's load, not what a control did.
    fn nonzero(v: &serde_json::Value) -> bool {
        match v {
            serde_json::Value::Number(n) => n.as_f64().is_some_and(|x| x != 0.0),
            serde_json::Value::Object(m) => m
                .iter()
                .any(|(k, v)| !k.ends_with("_rps") && k != "first_attempts" && nonzero(v)),
            serde_json::Value::Array(a) => a.iter().any(nonzero),
            _ => false,
        }
    }
    let profiled = stored_scenario(dir)
        .and_then(|doc| {
            let w = doc.get("workload")?;
            let rate = w
                .get("rate")
                .is_some_and(|r| !r.is_number() && !r.is_null());
            let classes = w
                .get("class_rates")
                .and_then(|c| c.as_object())
                .is_some_and(|c| c.values().any(|r| !r.is_number()));
            Some(rate || classes)
        })
        .unwrap_or(false);
    profiled
        || stored(dir, "summary.json")
            .and_then(|s| s.get("overload").map(nonzero))
            .unwrap_or(false)
}

/// Whether the run whose outputs are in `dir` had a rate profile: its stored scenario
/// (`scenario.json` or `scenario.toml`) has a table as `workload.rate`. A folder
/// without one, or with one that does not parse, says no: the chart then draws the
/// origin's load alone, as before.
pub(super) fn rate_profile(dir: &Path) -> bool {
    stored_scenario(dir)
        .and_then(|doc| doc.get("workload")?.get("rate").map(|r| r.is_object()))
        .unwrap_or(false)
}

fn fault(f: &serde_json::Value) -> Result<Fault, String> {
    let number = |key: &str| {
        f.get(key)
            .and_then(serde_json::Value::as_f64)
            .ok_or_else(|| format!("`{key}` must be a number of seconds"))
    };
    Ok(Fault {
        layer: f
            .get("layer")
            .and_then(serde_json::Value::as_str)
            .ok_or("`layer` must be a layer's name")?
            .to_owned(),
        node: f.get("node").and_then(serde_json::Value::as_u64),
        start_s: number("start_s")?,
        duration_s: number("duration_s")?,
        fallback: f
            .get("fallback")
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_varies_with_a_profile_or_an_overload_count_not_with_rates() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write("scenario.json", r#"{"workload": {"rate": 5000.0}}"#);
        write(
            "summary.json",
            r#"{"overload": {"offered_rps": 5000.0, "goodput_rps": 4990.0, "throughput_rps": 1900.0,
                "first_attempts": 9000, "rejected": {"total": 0, "shed": 0}, "timeouts": 0}}"#,
        );
        assert!(!load_varies(dir.path()), "rates alone are every run's");
        write(
            "summary.json",
            r#"{"overload": {"offered_rps": 5000.0, "rejected": {"total": 3, "shed": 3}}}"#,
        );
        assert!(load_varies(dir.path()), "a control refused requests");
        write("summary.json", "{}");
        write(
            "scenario.json",
            r#"{"workload": {"rate": {"profile": "steps", "steps": [[0, 100], [10, 200]]}}}"#,
        );
        assert!(load_varies(dir.path()), "a rate profile");
    }

    #[test]
    fn faults_come_from_the_scenario_beside_and_summary_json_first() {
        let dir = tempfile::tempdir().unwrap();
        assert!(faults(dir.path()).unwrap().is_empty());
        std::fs::write(
            dir.path().join("scenario.toml"),
            "name = \"x\"\n[[faults]]\nlayer = \"cdn\"\nstart_s = 60\nduration_s = 30\nfallback = true\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("summary.json"), r#"{"scenario": "x"}"#).unwrap();
        let f = faults(dir.path()).unwrap();
        assert_eq!(
            f,
            [Fault {
                layer: "cdn".into(),
                node: None,
                start_s: 60.0,
                duration_s: 30.0,
                fallback: true
            }]
        );
        std::fs::write(
            dir.path().join("summary.json"),
            r#"{"faults": [{"layer": "redis", "node": 2, "start_s": 1.5, "duration_s": 2}]}"#,
        )
        .unwrap();
        let f = faults(dir.path()).unwrap();
        assert_eq!(
            (f[0].layer.as_str(), f[0].node, f[0].fallback),
            ("redis", Some(2), false)
        );
        std::fs::write(
            dir.path().join("summary.json"),
            r#"{"faults": [{"layer": "redis"}]}"#,
        )
        .unwrap();
        let e = faults(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("summary.json") && e.contains("faults[0]") && e.contains("start_s"),
            "{e}"
        );
    }
}
