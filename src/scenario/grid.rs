//! A sweep's grid as a scenario and the command line give it: the `[sweep]` table and
//! `--grid` axes. Running the grid is [`crate::sweep`]'s; this is only what it says.
//!
//! It knows no run, report or thread.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::scenario::Override;

/// The `[sweep]` table of a scenario.
///
/// ```toml
/// [sweep]
/// replications = 5
/// grid = { "layers.redis.ttl_s" = "10..300 step 10", "layers.redis.policy" = ["lru", "lfu"] }
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepSpec {
    /// Runs per grid point, each with its own seed.
    #[serde(default = "one")]
    pub replications: u32,
    /// Axis key -> a list of values, or a range string (`"10..300 step 10"`, `"1000..1000000 log 7"`).
    #[serde(default)]
    pub grid: BTreeMap<String, GridValues>,
}

fn one() -> u32 {
    1
}

impl Default for SweepSpec {
    fn default() -> Self {
        SweepSpec {
            replications: 1,
            grid: BTreeMap::new(),
        }
    }
}

/// An axis's values as a scenario writes them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum GridValues {
    /// Explicit values.
    List(Vec<Value>),
    /// A range: `A..B step S` (arithmetic, inclusive) or `A..B log N` (N geometric points).
    Range(String),
}

/// One axis of a grid.
#[derive(Clone, Debug, PartialEq)]
pub struct Axis {
    /// The dotted scenario key.
    pub key: String,
    /// Its values, in order.
    pub values: Vec<Value>,
}

/// An axis that cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("--grid {arg}: {message}")]
pub struct AxisError {
    /// The axis as written.
    pub arg: String,
    /// What is wrong.
    pub message: String,
}

impl Axis {
    /// Parses `KEY=V1,V2,...`, `KEY=A..B step S` or `KEY=A..B log N`. Values are read as
    /// TOML values, bare words as strings; commas inside braces, brackets or quotes do
    /// not split.
    ///
    /// ```
    /// use tiersim::scenario::grid::Axis;
    /// let a = Axis::parse("layers.redis.ttl_s=10..30 step 10").unwrap();
    /// assert_eq!(a.values, [10, 20, 30].map(serde_json::Value::from));
    /// let p = Axis::parse("layers.redis.policy=lru,lfu").unwrap();
    /// assert_eq!(p.values, ["lru", "lfu"].map(serde_json::Value::from));
    /// let g = Axis::parse("layers.redis.capacity=1000..100000 log 3").unwrap();
    /// assert_eq!(g.values, [1000, 10000, 100000].map(serde_json::Value::from));
    /// ```
    pub fn parse(arg: &str) -> Result<Axis, AxisError> {
        let bad = |message: &str| AxisError {
            arg: arg.to_owned(),
            message: message.to_owned(),
        };
        let (key, values) = arg
            .split_once('=')
            .ok_or_else(|| bad("expected KEY=V1,V2,... or KEY=A..B step S"))?;
        let key = key.trim();
        if key.is_empty() {
            return Err(bad("the key is empty"));
        }
        let values = if values.contains("..") && !values.contains(',') {
            range(values.trim()).map_err(|m| bad(&m))?
        } else {
            split_top_level(values)
                .into_iter()
                .map(|v| value_of(v.trim()))
                .collect()
        };
        if values.is_empty() {
            return Err(bad("no values"));
        }
        Ok(Axis {
            key: key.to_owned(),
            values,
        })
    }

    /// The axis a scenario's `[sweep]` table gives `key`.
    pub fn from_spec(key: &str, values: &GridValues) -> Result<Axis, AxisError> {
        match values {
            GridValues::List(v) if !v.is_empty() => Ok(Axis {
                key: key.to_owned(),
                values: v.clone(),
            }),
            GridValues::List(_) => Err(AxisError {
                arg: key.to_owned(),
                message: "no values".into(),
            }),
            GridValues::Range(r) => Axis::parse(&format!("{key}={r}")),
        }
    }
}

/// A value from the command line: a TOML literal, else a bare string.
fn value_of(raw: &str) -> Value {
    Override::parse(&format!("v={raw}"))
        .map(|o| o.value)
        .unwrap_or_else(|_| Value::String(raw.to_owned()))
}

fn split_top_level(s: &str) -> Vec<&str> {
    let (mut depth, mut quoted, mut start) = (0i32, false, 0);
    let mut parts = Vec::new();
    for (i, c) in s.char_indices() {
        match c {
            '"' | '\'' => quoted = !quoted,
            '{' | '[' if !quoted => depth += 1,
            '}' | ']' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts.into_iter().filter(|p| !p.trim().is_empty()).collect()
}

/// The most values one range gives.
const MAX_VALUES: usize = 100_000;

/// `A..B step S` or `A..B log N`; integers stay integers when A, B (and S) are.
fn range(spec: &str) -> Result<Vec<Value>, String> {
    let (bounds, rest) = match spec.split_once(char::is_whitespace) {
        Some((b, r)) => (b, r.trim()),
        None => return Err("a range needs `step S` or `log N`, e.g. 10..300 step 10".into()),
    };
    let (a, b) = bounds.split_once("..").ok_or("expected A..B")?;
    let num = |s: &str| {
        s.trim()
            .replace('_', "")
            .parse::<f64>()
            .map_err(|_| format!("`{s}` is not a number"))
    };
    let (a, b) = (num(a)?, num(b)?);
    if !(a.is_finite() && b.is_finite()) {
        return Err("a range's bounds A and B must be finite numbers".into());
    }
    let integral = |x: f64| x.fract() == 0.0;
    let (kind, n) = rest
        .split_once(char::is_whitespace)
        .ok_or("expected `step S` or `log N`")?;
    let as_value = |x: f64, ints: bool| {
        if ints {
            Value::from(x.round() as i64)
        } else {
            Value::from(x)
        }
    };
    match kind {
        "step" => {
            let step = num(n)?;
            if step.is_nan() || step <= 0.0 || b < a {
                return Err("needs A <= B and a step > 0".into());
            }
            let count = ((b - a) / step + 1e-9).floor().min(MAX_VALUES as f64) as usize + 1;
            if count > MAX_VALUES {
                return Err(format!(
                    "more than {MAX_VALUES} values; a range gives at most {MAX_VALUES}"
                ));
            }
            let ints = integral(a) && integral(step);
            Ok((0..count)
                .map(|i| as_value(a + step * i as f64, ints))
                .collect())
        }
        "log" => {
            let n: usize = n
                .trim()
                .parse()
                .map_err(|_| format!("`{n}` is not a count"))?;
            if n < 2 || a.is_nan() || a <= 0.0 || b <= a {
                return Err("a log range needs 0 < A < B and at least 2 points".into());
            }
            if n > MAX_VALUES {
                return Err(format!("{n} values; a range gives at most {MAX_VALUES}"));
            }
            let ints = integral(a) && integral(b);
            let ratio = (b / a).powf(1.0 / (n - 1) as f64);
            Ok((0..n)
                .map(|i| {
                    if i == n - 1 {
                        b
                    } else {
                        a * ratio.powi(i as i32)
                    }
                })
                .map(|x| as_value(x, ints))
                .collect())
        }
        other => Err(format!(
            "unknown range kind `{other}`; use `step S` or `log N`"
        )),
    }
}
