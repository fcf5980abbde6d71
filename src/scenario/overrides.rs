//! `--set KEY=VALUE` (and sweep grid points): dotted-key edits of a scenario document,
//! applied before it is checked, so an override is validated like a value in the file.
//!
//! It edits documents: it knows no spec, so any key the file may hold can be set.

use serde_json::Value;

use super::ScenarioError;

/// One override: a dotted key and the value to put there.
#[derive(Clone, Debug, PartialEq)]
pub struct Override {
    /// The key, split at dots; a step into `layers` names a layer (or gives its index).
    pub key: Vec<String>,
    /// The new value.
    pub value: Value,
    /// The argument as the user wrote it, for messages.
    pub assignment: String,
}

impl Override {
    /// Parses `KEY=VALUE`. The value is read as a TOML value (`60`, `0.9`, `true`,
    /// `"lru"`, `{ dist = "constant", ms = 1 }`); anything else is taken as a string,
    /// so `policy=lfu` needs no quotes.
    ///
    /// ```
    /// use tiersim::scenario::Override;
    /// let o = Override::parse("layers.redis.ttl_s=60").unwrap();
    /// assert_eq!(o.key, ["layers", "redis", "ttl_s"]);
    /// assert_eq!(o.value, serde_json::json!(60));
    /// assert_eq!(Override::parse("layers.redis.policy=lfu").unwrap().value, "lfu");
    /// assert!(Override::parse("no_equals_sign").is_err());
    /// ```
    pub fn parse(assignment: &str) -> Result<Self, ScenarioError> {
        let bad = |message: &str| ScenarioError::Override {
            assignment: assignment.to_owned(),
            message: message.to_owned(),
        };
        let (key, raw) = assignment
            .split_once('=')
            .ok_or_else(|| bad("expected KEY=VALUE, such as layers.redis.ttl_s=60"))?;
        let key: Vec<String> = key.trim().split('.').map(|s| s.trim().to_owned()).collect();
        if key.iter().any(|s| s.is_empty()) {
            return Err(bad(
                "the key has an empty part; write dotted keys such as workload.rate",
            ));
        }
        let raw = raw.trim();
        let value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .and_then(|v| serde_json::to_value(v).ok())
            .unwrap_or_else(|| Value::String(raw.to_owned()));
        Ok(Override {
            key,
            value,
            assignment: assignment.to_owned(),
        })
    }

    /// Puts the value into `doc`, creating missing tables on the way.
    pub fn apply(&self, doc: &mut Value) -> Result<(), ScenarioError> {
        let bad = |message: String| ScenarioError::Override {
            assignment: self.assignment.clone(),
            message,
        };
        let (last, steps) = self.key.split_last().expect("keys are never empty");
        let mut cur = doc;
        for (depth, step) in steps.iter().enumerate() {
            let here = self.key[..depth].join(".");
            cur = match cur {
                Value::Object(map) => map
                    .entry(step.clone())
                    .or_insert_with(|| Value::Object(Default::default())),
                Value::Array(items) => {
                    let names: Vec<String> = items
                        .iter()
                        .filter_map(|i| i.get("name").and_then(Value::as_str).map(str::to_owned))
                        .collect();
                    let pos = items
                        .iter()
                        .position(|i| i.get("name").and_then(Value::as_str) == Some(step.as_str()))
                        .or_else(|| step.parse::<usize>().ok().filter(|&i| i < items.len()));
                    match pos {
                        Some(i) => &mut items[i],
                        None => {
                            return Err(bad(format!(
                                "`{here}` has no element named `{step}`; names: {}",
                                names.join(", ")
                            )));
                        }
                    }
                }
                _ => return Err(bad(format!("`{here}` is a value, not a table"))),
            };
        }
        match cur {
            Value::Object(map) => {
                map.insert(last.clone(), self.value.clone());
                Ok(())
            }
            _ => Err(bad(format!(
                "`{}` is a value, not a table",
                steps.join(".")
            ))),
        }
    }
}
