//! A value in a scenario that is not allowed, with the dotted key that holds it: the one
//! validation error every spec module returns, so that none of them imports the
//! scenario that reads them.
//!
//! It knows key paths and messages, not the specs that return it.

use std::fmt;

/// One step of a key path: a table key or an array index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Seg {
    /// A key in a table.
    Key(String),
    /// A position in an array, 0-based.
    Index(usize),
}

/// A path to a value in a scenario, such as `layers[1].capacity`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KeyPath(pub Vec<Seg>);

impl KeyPath {
    /// Parses a dotted key (`workload.popularity.alpha`).
    pub fn dotted(key: &str) -> Self {
        KeyPath(key.split('.').map(|k| Seg::Key(k.to_owned())).collect())
    }

    /// Renders the path, naming layers by their `name` where `doc` gives it
    /// (`layers.redis.capacity` rather than `layers[1].capacity`), the form `--set` takes.
    pub fn render(&self, doc: Option<&serde_json::Value>) -> String {
        let mut out = String::new();
        let mut cur = doc;
        for seg in &self.0 {
            match seg {
                Seg::Key(k) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    out.push_str(k);
                    cur = cur.and_then(|v| v.get(k));
                }
                Seg::Index(i) => {
                    let el = cur.and_then(|v| v.get(i));
                    match el.and_then(|e| e.get("name")).and_then(|n| n.as_str()) {
                        Some(name) if !name.is_empty() && !name.contains(['.', '=']) => {
                            out.push('.');
                            out.push_str(name);
                        }
                        _ => out.push_str(&format!("[{i}]")),
                    }
                    cur = el;
                }
            }
        }
        if out.is_empty() {
            "(top level)".into()
        } else {
            out
        }
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(None))
    }
}

/// A value that breaks a rule of the scenario format, found by a `resolve` step.
/// The key is relative to the table being resolved; callers prefix it with [`Invalid::under`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid {
    /// Where the value is.
    pub key: KeyPath,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl Invalid {
    /// A problem with the dotted `key`.
    pub fn new(key: &str, message: impl Into<String>) -> Self {
        Invalid {
            key: KeyPath::dotted(key),
            message: message.into(),
        }
    }

    /// The same problem, seen from the table that holds `prefix`.
    pub fn under(mut self, prefix: &str) -> Self {
        let mut path = KeyPath::dotted(prefix).0;
        path.append(&mut self.key.0);
        self.key = KeyPath(path);
        self
    }

    /// The same problem, seen from the array that holds this element at `index`.
    pub fn at(mut self, index: usize) -> Self {
        self.key.0.insert(0, Seg::Index(index));
        self
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "key `{}`: {}", self.key, self.message)
    }
}
