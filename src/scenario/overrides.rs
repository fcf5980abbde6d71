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
                Value::Object(map) => {
                    // An index into a list the document lacks: a new table would be the
                    // wrong type, so say that the list is missing.
                    let next = &self.key[depth + 1];
                    if !map.contains_key(step) && next.parse::<usize>().is_ok() {
                        let list = self.key[..=depth].join(".");
                        return Err(bad(format!(
                            "there is no {} {next}: the scenario has no `{list}` (add them in the file: [[{list}]])",
                            element(step)
                        )));
                    }
                    map.entry(step.clone())
                        .or_insert_with(|| Value::Object(Default::default()))
                }
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
                        None if step.parse::<usize>().is_ok() => {
                            let named = if names.is_empty() {
                                String::new()
                            } else {
                                format!("; names: {}", names.join(", "))
                            };
                            return Err(bad(format!(
                                "there is no {} {step}: `{here}` has {}, numbered from 0{named}",
                                depth
                                    .checked_sub(1)
                                    .map_or("element", |d| element(&self.key[d])),
                                items.len()
                            )));
                        }
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

/// What one element of the list `list` is called in a message: `faults` → `fault`,
/// `classes` → `class`.
fn element(list: &str) -> &str {
    list.strip_suffix("ses")
        .map(|stem| &list[..stem.len() + 1])
        .or_else(|| list.strip_suffix('s'))
        .unwrap_or(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_element_is_named_by_its_list() {
        for (list, one) in [
            ("faults", "fault"),
            ("layers", "layer"),
            ("classes", "class"),
            ("regions", "region"),
            ("grid", "grid"),
        ] {
            assert_eq!(element(list), one);
        }
    }

    #[test]
    fn an_index_into_a_missing_list_names_the_list() {
        let mut doc = serde_json::json!({ "workload": {} });
        let err = Override::parse("workload.classes.0.name=x")
            .unwrap()
            .apply(&mut doc)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "--set workload.classes.0.name=x: there is no class 0: the scenario has no `workload.classes` (add them in the file: [[workload.classes]])"
        );
        // A new table is still made for a named key.
        let mut doc = serde_json::json!({});
        Override::parse("metrics.bucket_s=1")
            .unwrap()
            .apply(&mut doc)
            .unwrap();
        assert_eq!(doc, serde_json::json!({ "metrics": { "bucket_s": 1 } }));
    }
}
