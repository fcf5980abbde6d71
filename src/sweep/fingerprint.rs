//! What makes two sweeps the same sweep: the resolved scenario, the grid, the
//! replications, the seed and the tiersim version. A sweep folder keeps it in
//! `sweep.json`; `--resume` (and, later, merging shards) refuses rows whose fingerprint
//! differs, and says what differs, so that one `sweep.csv` never mixes two
//! configurations.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::output::report::OutputError;

/// The file in a sweep folder that holds its fingerprint.
pub const FILE: &str = "sweep.json";

/// A sweep's identity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// The tiersim version that ran it.
    pub version: String,
    /// The scenario with the base overrides applied (`--set`), without its `[sweep]`
    /// table and seed, which are recorded below as they resolved.
    pub scenario: Value,
    /// The axes, in order: key and values.
    pub grid: Vec<(String, Vec<Value>)>,
    /// Runs per point.
    pub replications: u32,
    /// The base seed every job's seed derives from.
    pub seed: u64,
}

impl Fingerprint {
    /// How `self` (this sweep) differs from `other` (the one found in a folder), each
    /// part said in words: for the scenario, the first few keys whose values differ.
    pub fn differences(&self, other: &Fingerprint) -> Vec<String> {
        let mut out = Vec::new();
        if self.version != other.version {
            out.push(format!(
                "tiersim version {} there, {} now",
                other.version, self.version
            ));
        }
        let mut keys = Vec::new();
        diff_keys(&self.scenario, &other.scenario, "", &mut keys);
        if !keys.is_empty() {
            let shown = keys.len().min(5);
            let more = if keys.len() > shown {
                format!(" and {} more", keys.len() - shown)
            } else {
                String::new()
            };
            out.push(format!("scenario keys {}{more}", keys[..shown].join(", ")));
        }
        if self.grid != other.grid {
            out.push(format!(
                "the grid: {} there, {} now",
                describe_grid(&other.grid),
                describe_grid(&self.grid)
            ));
        }
        if self.replications != other.replications {
            out.push(format!(
                "replications {} there, {} now",
                other.replications, self.replications
            ));
        }
        if self.seed != other.seed {
            out.push(format!("seed {} there, {} now", other.seed, self.seed));
        }
        out
    }

    /// Reads the fingerprint in `dir`, if the folder has one.
    pub fn read(dir: &Path) -> Result<Option<Fingerprint>, String> {
        super::read_json(&dir.join(FILE), "a sweep fingerprint")
    }

    /// Writes it into `dir` (a temp file, then a rename).
    pub fn write(&self, dir: &Path) -> Result<(), OutputError> {
        super::write_json(&dir.join(FILE), self)
    }
}

fn describe_grid(grid: &[(String, Vec<Value>)]) -> String {
    if grid.is_empty() {
        return "no axes".into();
    }
    grid.iter()
        .map(|(k, v)| format!("{k} x{}", v.len()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Dotted keys under `prefix` whose values differ between `a` and `b`.
fn diff_keys(a: &Value, b: &Value, prefix: &str, out: &mut Vec<String>) {
    let key = |k: &str| {
        if prefix.is_empty() {
            k.to_owned()
        } else {
            format!("{prefix}.{k}")
        }
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(v)) => diff_keys(u, v, &key(k), out),
                    _ => out.push(key(k)),
                }
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (u, v)) in x.iter().zip(y).enumerate() {
                diff_keys(u, v, &key(&i.to_string()), out);
            }
        }
        _ if a != b => out.push(if prefix.is_empty() {
            "(the whole scenario)".into()
        } else {
            prefix.to_owned()
        }),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn print(scenario: Value, seed: u64) -> Fingerprint {
        Fingerprint {
            version: "0.1.0".into(),
            scenario,
            grid: vec![("layers.redis.ttl_s".into(), vec![Value::from(10)])],
            replications: 2,
            seed,
        }
    }

    #[test]
    fn differences_name_what_changed() {
        let a = print(serde_json::json!({"workload": {"rate": 100, "keys": 5}}), 1);
        assert!(a.differences(&a).is_empty());
        let b = print(serde_json::json!({"workload": {"rate": 200, "keys": 5}}), 2);
        assert_eq!(
            b.differences(&a),
            ["scenario keys workload.rate", "seed 1 there, 2 now"]
        );
        let mut c = a.clone();
        c.grid[0].1.push(Value::from(20));
        assert_eq!(
            c.differences(&a),
            ["the grid: layers.redis.ttl_s x1 there, layers.redis.ttl_s x2 now"]
        );
    }

    #[test]
    fn round_trips_through_its_file() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Fingerprint::read(dir.path()).unwrap(), None);
        let a = print(serde_json::json!({"name": "x"}), 7);
        a.write(dir.path()).unwrap();
        assert_eq!(Fingerprint::read(dir.path()).unwrap(), Some(a));
        std::fs::write(dir.path().join(FILE), "{").unwrap();
        assert!(
            Fingerprint::read(dir.path())
                .unwrap_err()
                .contains("sweep.json")
        );
    }
}
