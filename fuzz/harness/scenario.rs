//! Scenario cases: structural and numeric mutations of a scenario file.
//!
//! A file is parsed once into a TOML tree; a case is that tree and a list of
//! [`Mutation`]s drawn against it: values set to extremes (0, negative, 1e-9, 1e15,
//! NaN and infinities, NaN-ish strings, u32/u64/i64 edges written as raw literals),
//! scaled or off by one, retyped, enum strings changed, known keys added where they
//! are absent (with plausible or extreme values), unknown keys added, keys removed,
//! tables swapped, keys moved, array items (layers, faults, classes, regions)
//! duplicated, reordered, removed or added, the workload switched to a trace, the file
//! written as JSON, its text damaged (a duplicated key line, a cut, garbage bytes), or
//! a change passed as `--set` instead of written into the file.
//!
//! A mutation names its target by path, so any subset of a case's list still renders
//! (one whose target is gone is skipped): that is what minimizing a failure needs. It
//! knows the scenario format's keys and values, not what tiersim does with them.

use std::fmt;

use toml::{Table, Value};

use super::Gen;
use super::trace::{FORMATS, Fmt};

/// One step of a path into the tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// A table's key.
    Key(String),
    /// An array's item.
    Index(usize),
}

/// A path from the root of the tree.
pub type Path = Vec<Step>;

/// `a.b.0.c`.
pub fn dotted(path: &[Step]) -> String {
    let parts: Vec<String> = path
        .iter()
        .map(|s| match s {
            Step::Key(k) => k.clone(),
            Step::Index(i) => i.to_string(),
        })
        .collect();
    parts.join(".")
}

/// A value to write: a TOML value, or literal text that no TOML value holds (an
/// integer beyond i64, `1_000`, `0x10`, `1e999`).
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    /// A value.
    Toml(Value),
    /// Literal text, spliced into the file as written.
    Raw(String),
}

impl fmt::Display for Val {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Val::Toml(v) => write!(f, "{}", inline(v)),
            Val::Raw(s) => f.write_str(s),
        }
    }
}

/// One change to a scenario case.
#[derive(Clone, Debug, PartialEq)]
pub enum Mutation {
    /// Sets (or adds) the value at `path`; an index one past an array's end appends.
    Set {
        /// Where.
        path: Path,
        /// What.
        value: Val,
    },
    /// Removes a key or an array item.
    Remove(Path),
    /// Swaps two values (tables, arrays, items).
    Swap(Path, Path),
    /// Duplicates an array item (its copy follows it).
    Duplicate(Path),
    /// Moves a key into another table (`to` is the new path).
    Move(Path, Path),
    /// The workload reads a trace (written beside the scenario) instead of generating
    /// requests: `keys`, `popularity` and `write_ratio` go.
    TraceWorkload {
        /// The trace's format.
        format: Fmt,
        /// Its records.
        records: usize,
        /// Seeds them.
        seed: u64,
        /// Gzipped.
        gz: bool,
    },
    /// The file is written as JSON (`scenario.json`).
    Json,
    /// The n-th `key = value` or `[table]` line (modulo their count) is written twice.
    DuplicateLine(usize),
    /// The text is cut at this fraction (per mille).
    Truncate(u32),
    /// These bytes are inserted at this fraction of the text (per mille).
    Garbage(u32, Vec<u8>),
    /// `--set KEY=VALUE` on the command line instead of a change to the file.
    Override(String, String),
}

impl fmt::Display for Mutation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mutation::Set { path, value } => write!(f, "{} = {value}", dotted(path)),
            Mutation::Remove(p) => write!(f, "remove {}", dotted(p)),
            Mutation::Swap(a, b) => write!(f, "swap {} <-> {}", dotted(a), dotted(b)),
            Mutation::Duplicate(p) => write!(f, "duplicate {}", dotted(p)),
            Mutation::Move(a, b) => write!(f, "move {} -> {}", dotted(a), dotted(b)),
            Mutation::TraceWorkload {
                format,
                records,
                gz,
                ..
            } => write!(
                f,
                "workload.trace: {records} {} records{}",
                format.name(),
                if *gz { ", gzipped" } else { "" }
            ),
            Mutation::Json => f.write_str("written as JSON"),
            Mutation::DuplicateLine(n) => write!(f, "text: line-statement {n} written twice"),
            Mutation::Truncate(p) => write!(f, "text: cut at {p}\u{2030}"),
            Mutation::Garbage(p, b) => write!(f, "text: bytes {b:?} inserted at {p}\u{2030}"),
            Mutation::Override(k, v) => write!(f, "--set {k}={v}"),
        }
    }
}

impl Mutation {
    /// What it changes with array indices and layer names generalised (`layers.*.ttl_s`),
    /// for the report's tally of failing cases.
    pub fn target(&self) -> String {
        let general = |p: &[Step]| {
            let parts: Vec<String> = p
                .iter()
                .map(|s| match s {
                    Step::Key(k) => k.clone(),
                    Step::Index(_) => "*".into(),
                })
                .collect();
            parts.join(".")
        };
        match self {
            Mutation::Set { path, .. }
            | Mutation::Remove(path)
            | Mutation::Duplicate(path)
            | Mutation::Move(path, _) => general(path),
            Mutation::Swap(a, b) => format!("swap {} {}", general(a), general(b)),
            Mutation::TraceWorkload { .. } => "workload.trace".into(),
            Mutation::Json => "json".into(),
            Mutation::DuplicateLine(_) | Mutation::Truncate(_) | Mutation::Garbage(..) => {
                "text".into()
            }
            Mutation::Override(k, _) => {
                let mut parts: Vec<&str> = k.split('.').collect();
                for i in 1..parts.len() {
                    if matches!(parts[i - 1], "layers" | "faults" | "classes" | "regions") {
                        parts[i] = "*";
                    }
                }
                format!("--set {}", parts.join("."))
            }
        }
    }

    /// Whether it changes the file's text after the tree is written (so the harness
    /// cannot know what tiersim will read).
    pub fn is_text(&self) -> bool {
        matches!(
            self,
            Mutation::DuplicateLine(_) | Mutation::Truncate(_) | Mutation::Garbage(..)
        )
    }
}

/// A rendered scenario case.
#[derive(Clone, Debug)]
pub struct Rendered {
    /// The scenario's file name, `scenario.toml` or `scenario.json`.
    pub file: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Other files beside it (a workload's trace).
    pub extra: Vec<(String, Vec<u8>)>,
    /// `--set` arguments, in order.
    pub overrides: Vec<(String, String)>,
    /// The tree as written (before any text mutation).
    pub tree: Value,
    /// Whether a text mutation changed the file after the tree was written.
    pub text_damaged: bool,
}

/// Renders `base` with `muts` applied in order; tree mutations whose target is gone
/// are skipped.
pub fn render(base: &Value, muts: &[Mutation]) -> Rendered {
    let mut tree = base.clone();
    let mut raws = Vec::new();
    let mut extra = Vec::new();
    for m in muts {
        apply(&mut tree, m, &mut raws, &mut extra);
    }
    let json = muts.contains(&Mutation::Json);
    let mut text = if json { to_json(&tree) } else { to_toml(&tree) };
    for (i, raw) in raws.iter().enumerate() {
        let token = placeholder(i);
        text = text
            .replace(&format!("\"{token}\""), raw)
            .replace(&format!("'{token}'"), raw);
    }
    let mut bytes = text.into_bytes();
    for m in muts {
        match m {
            Mutation::DuplicateLine(n) => bytes = duplicate_line(&bytes, *n),
            Mutation::Truncate(p) => {
                let at = bytes.len() * *p as usize / 1000;
                bytes.truncate(at);
            }
            Mutation::Garbage(p, g) => {
                let at = bytes.len() * *p as usize / 1000;
                bytes.splice(at..at, g.iter().copied());
            }
            _ => {}
        }
    }
    Rendered {
        file: if json {
            "scenario.json"
        } else {
            "scenario.toml"
        }
        .into(),
        bytes,
        extra,
        overrides: muts
            .iter()
            .filter_map(|m| match m {
                // A command-line argument cannot hold a NUL byte.
                Mutation::Override(k, v) => {
                    Some((k.replace('\0', "\u{fffd}"), v.replace('\0', "\u{fffd}")))
                }
                _ => None,
            })
            .collect(),
        tree,
        text_damaged: muts.iter().any(Mutation::is_text),
    }
}

fn placeholder(i: usize) -> String {
    format!("__FUZZ_RAW_{i}__")
}

fn to_toml(tree: &Value) -> String {
    match tree {
        Value::Table(t) => toml::to_string(t).unwrap_or_else(|e| format!("# unwritable: {e}\n")),
        other => format!("v = {}\n", inline(other)),
    }
}

/// A value in TOML's inline syntax, floats in their shortest form (`1e300`, not three
/// hundred digits).
pub fn inline(v: &Value) -> String {
    match v {
        Value::Float(f) if f.is_nan() => "nan".into(),
        Value::Float(f) if f.is_infinite() => if *f > 0.0 { "inf" } else { "-inf" }.into(),
        Value::Float(f) => format!("{f:?}"),
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(inline).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Table(t) => {
            let items: Vec<String> = t
                .iter()
                .map(|(k, v)| {
                    let bare = !k.is_empty()
                        && k.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                    let key = if bare {
                        k.clone()
                    } else {
                        Value::String(k.clone()).to_string()
                    };
                    format!("{key} = {}", inline(v))
                })
                .collect();
            format!("{{ {} }}", items.join(", "))
        }
        other => other.to_string(),
    }
}

/// A tree as JSON, NaN and infinities written as JavaScript would (which JSON refuses).
fn to_json(v: &Value) -> String {
    match v {
        Value::String(s) => serde_json::to_string(s).expect("strings serialize"),
        Value::Integer(i) => i.to_string(),
        Value::Float(f) if f.is_nan() => "NaN".into(),
        Value::Float(f) if f.is_infinite() => {
            if *f > 0.0 { "Infinity" } else { "-Infinity" }.into()
        }
        Value::Float(f) => format!("{f:?}"),
        Value::Boolean(b) => b.to_string(),
        Value::Datetime(d) => format!("\"{d}\""),
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(to_json).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Table(t) => {
            let items: Vec<String> = t
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{}: {}",
                        serde_json::to_string(k).expect("strings serialize"),
                        to_json(v)
                    )
                })
                .collect();
            format!("{{\n{}\n}}", items.join(",\n"))
        }
    }
}

fn duplicate_line(bytes: &[u8], n: usize) -> Vec<u8> {
    let text = String::from_utf8_lossy(bytes);
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let statements: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| {
            let t = l.trim_start();
            t.starts_with('[') || t.split_once('=').is_some_and(|(k, _)| !k.trim().is_empty())
        })
        .map(|(i, _)| i)
        .collect();
    if statements.is_empty() {
        return bytes.to_vec();
    }
    let at = statements[n % statements.len()];
    let mut out = String::new();
    for (i, l) in lines.iter().enumerate() {
        out.push_str(l);
        if i == at {
            if !l.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(l);
        }
    }
    out.into_bytes()
}

fn get<'a>(v: &'a Value, path: &[Step]) -> Option<&'a Value> {
    path.iter().try_fold(v, |cur, s| match (cur, s) {
        (Value::Table(t), Step::Key(k)) => t.get(k),
        (Value::Array(a), Step::Index(i)) => a.get(*i),
        _ => None,
    })
}

fn get_mut<'a>(v: &'a mut Value, path: &[Step]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |cur, s| match (cur, s) {
        (Value::Table(t), Step::Key(k)) => t.get_mut(k),
        (Value::Array(a), Step::Index(i)) => a.get_mut(*i),
        _ => None,
    })
}

/// Takes the value at `path` out of the tree.
fn take(tree: &mut Value, path: &[Step]) -> Option<Value> {
    let (last, parent) = path.split_last()?;
    match (get_mut(tree, parent)?, last) {
        (Value::Table(t), Step::Key(k)) => t.remove(k),
        (Value::Array(a), Step::Index(i)) if *i < a.len() => Some(a.remove(*i)),
        _ => None,
    }
}

/// Puts `value` at `path` (an index at the array's end appends); false if the parent
/// is missing or is not a container.
fn put(tree: &mut Value, path: &[Step], value: Value) -> bool {
    let Some((last, parent)) = path.split_last() else {
        return false;
    };
    match (get_mut(tree, parent), last) {
        (Some(Value::Table(t)), Step::Key(k)) => {
            t.insert(k.clone(), value);
            true
        }
        (Some(Value::Array(a)), Step::Index(i)) if *i < a.len() => {
            a[*i] = value;
            true
        }
        (Some(Value::Array(a)), Step::Index(i)) if *i == a.len() => {
            a.push(value);
            true
        }
        _ => false,
    }
}

fn apply(
    tree: &mut Value,
    m: &Mutation,
    raws: &mut Vec<String>,
    extra: &mut Vec<(String, Vec<u8>)>,
) {
    match m {
        Mutation::Set { path, value } => {
            let v = match value {
                Val::Toml(v) => v.clone(),
                Val::Raw(text) => {
                    raws.push(text.clone());
                    Value::String(placeholder(raws.len() - 1))
                }
            };
            put(tree, path, v);
        }
        Mutation::Remove(path) => {
            take(tree, path);
        }
        Mutation::Swap(a, b) => {
            if let (Some(va), Some(vb)) = (get(tree, a).cloned(), get(tree, b).cloned()) {
                put(tree, a, vb);
                put(tree, b, va);
            }
        }
        Mutation::Duplicate(path) => {
            if let (Some((Step::Index(i), parent)), Some(v)) =
                (path.split_last(), get(tree, path).cloned())
                && let Some(Value::Array(a)) = get_mut(tree, parent)
            {
                a.insert(i + 1, v);
            }
        }
        Mutation::Move(from, to) => {
            if get(tree, to).is_none()
                && let Some(v) = take(tree, from)
            {
                put(tree, to, v);
            }
        }
        Mutation::TraceWorkload {
            format,
            records,
            seed,
            gz,
        } => {
            let (name, bytes) = super::trace::workload_trace(*format, *records, *seed, *gz);
            if let Some(Value::Table(w)) = get_mut(tree, &[Step::Key("workload".into())]) {
                for k in ["keys", "popularity", "write_ratio"] {
                    w.remove(k);
                }
                let mut t = Table::new();
                t.insert("path".into(), Value::String(name.clone()));
                t.insert("format".into(), Value::String(format.name().into()));
                w.insert("trace".into(), Value::Table(t));
                extra.push((name, bytes));
            }
        }
        _ => {}
    }
}

/// The shape of a value, for choosing what to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Count,
    Seconds,
    Ms,
    Ratio,
    Bool,
    Name,
    Text,
    Kind,
    Policy,
    Latency,
    Size,
    Popularity,
    Stampede,
    SyncExpiry,
    Regions,
    Rtt,
    Strategy,
    Invalidation,
    Balancer,
    Format,
    Variant,
    Dist,
    Mode,
    LayerRef,
    Class,
    Layer,
    Fault,
    Sweep,
    Grid,
    Rate,
    Drift,
    RateLimit,
    Shed,
    Application,
    Retries,
    Breaker,
}

use Shape::*;

/// The keys a table may hold, by where it sits.
fn catalogue(path: &[Step]) -> &'static [(&'static str, Shape)] {
    let keys: Vec<&str> = path
        .iter()
        .map(|s| match s {
            Step::Key(k) => k.as_str(),
            Step::Index(_) => "*",
        })
        .collect();
    match keys.as_slice() {
        [] => &[
            ("name", Name),
            ("seed", Count),
            ("requests", Count),
            ("duration_s", Seconds),
            ("warmup_requests", Count),
            ("workload", Text),
            ("layers", Layer),
            ("metrics", Text),
            ("faults", Fault),
            ("sweep", Sweep),
            ("application", Application),
        ],
        ["workload"] => &[
            ("keys", Count),
            ("popularity", Popularity),
            ("rate", Rate),
            ("drift", Drift),
            ("class_rates", Text),
            ("write_ratio", Ratio),
            ("write_strategy", Strategy),
            ("invalidation", Invalidation),
            ("clients", Count),
            ("regions", Regions),
            ("flush_interval_s", Seconds),
            ("flush_batch", Count),
            ("tags", Count),
            ("missing_ratio", Ratio),
            ("classes", Class),
            ("reload_ratio", Ratio),
        ],
        ["workload", "popularity"] => &[("dist", Dist), ("alpha", Ratio)],
        ["workload", "rate"] => &[
            ("mean", Seconds),
            ("period_s", Seconds),
            ("peak_to_trough", Ratio),
            ("phase_s", Seconds),
            ("base", Seconds),
            ("start_s", Seconds),
            ("peak", Ratio),
            ("rise_s", Seconds),
            ("decay_s", Seconds),
            ("steps", Text),
            ("points", Text),
            ("path", Text),
        ],
        ["workload", "drift"] => &[("shifts", Text), ("churn", Text)],
        ["workload", "drift", "churn"] => {
            &[("interval_s", Seconds), ("top", Count), ("share", Ratio)]
        }
        ["workload", "trace"] => &[("path", Text), ("format", Format), ("time_unit_s", Seconds)],
        ["workload", "classes", "*"] => &[
            ("name", Name),
            ("key_share", Ratio),
            ("request_share", Ratio),
            ("size", Size),
            ("max_age_s", Seconds),
            ("s_maxage_s", Seconds),
            ("private", Bool),
            ("no_store", Bool),
            ("immutable", Bool),
            ("no_cache", Bool),
        ],
        ["workload", "classes", "*", "size"] => &[
            ("dist", Dist),
            ("bytes", Count),
            ("min_bytes", Count),
            ("max_bytes", Count),
            ("median_bytes", Count),
            ("sigma", Ratio),
            ("mean_bytes", Count),
            ("scale_bytes", Count),
            ("shape", Ratio),
        ],
        ["workload", "regions", "*"] => &[("name", Name), ("share", Ratio)],
        ["layers", "*"] => &[
            ("name", Name),
            ("kind", Kind),
            ("capacity", Count),
            ("capacity_bytes", Count),
            ("ignore_private", Bool),
            ("policy", Policy),
            ("ttl_s", Seconds),
            ("jitter", Ratio),
            ("latency", Latency),
            ("connections", Count),
            ("stampede", Stampede),
            ("propagation_delay_ms", Ms),
            ("sync_expiry", SyncExpiry),
            ("pops", Count),
            ("rtt_ms", Rtt),
            ("nodes", Count),
            ("instances", Count),
            ("balancer", Balancer),
            ("shards", Count),
            ("vnodes", Count),
            ("negative_ttl_s", Seconds),
            ("rate_limit", RateLimit),
            ("max_queue", Count),
            ("shed", Shed),
        ],
        ["layers", "*", "rate_limit"] => &[("rps", Count), ("burst", Count)],
        ["layers", "*", "shed"] => &[("target_ms", Ms), ("interval_ms", Ms)],
        ["application"] => &[
            ("timeout_ms", Ms),
            ("retries", Retries),
            ("breaker", Breaker),
        ],
        ["application", "retries"] => &[
            ("max", Count),
            ("backoff_ms", Ms),
            ("multiplier", Ratio),
            ("jitter", Ratio),
        ],
        ["application", "breaker"] => &[
            ("failure_ratio", Ratio),
            ("window_s", Seconds),
            ("min_calls", Count),
            ("open_s", Seconds),
            ("probes", Count),
        ],
        ["layers", "*", "latency"] => &[
            ("dist", Dist),
            ("ms", Ms),
            ("min_ms", Ms),
            ("max_ms", Ms),
            ("mean_ms", Ms),
            ("sd_ms", Ms),
            ("median_ms", Ms),
            ("sigma", Ratio),
            ("scale_ms", Ms),
            ("shape", Ratio),
        ],
        ["layers", "*", "stampede"] => &[
            ("mode", Mode),
            ("window_s", Seconds),
            ("lock_ttl_ms", Ms),
            ("poll_ms", Ms),
            ("wait_timeout_ms", Ms),
            ("beta", Ratio),
        ],
        ["layers", "*", "policy"] => &[
            ("name", Policy),
            ("protected_ratio", Ratio),
            ("segments", Count),
            ("kin", Ratio),
            ("kout", Ratio),
            ("hir_ratio", Ratio),
            ("variant", Variant),
            ("window_ratio", Ratio),
            ("small_ratio", Ratio),
            ("ghost_ratio", Ratio),
            ("move_to_main_threshold", Count),
            ("size_scaled_adaptation", Bool),
        ],
        ["layers", "*", "sync_expiry"] => &[("keys", Count), ("at_s", Seconds)],
        ["layers", "*", "rtt_ms"] => &[("all", Ms), ("eu", Ms), ("us", Ms), ("zz", Ms)],
        ["metrics"] => &[("bucket_s", Seconds), ("herd_threshold", Count)],
        ["faults", "*"] => &[
            ("layer", LayerRef),
            ("node", Count),
            ("start_s", Seconds),
            ("duration_s", Seconds),
            ("fallback", Bool),
        ],
        ["sweep"] => &[("replications", Count), ("grid", Grid)],
        _ => &[],
    }
}

/// The shape of the value at `path`, if the catalogue knows it.
fn shape_at(path: &[Step]) -> Option<Shape> {
    let (Step::Key(k), parent) = path.split_last()? else {
        return None;
    };
    catalogue(parent)
        .iter()
        .find(|(name, _)| name == k)
        .map(|(_, s)| *s)
}

/// The kinds of node in a tree, for choosing targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Node {
    Number,
    Str,
    Other,
    Table,
    Array,
}

fn nodes(v: &Value, path: &mut Path, out: &mut Vec<(Path, Node)>) {
    let node = match v {
        Value::Integer(_) | Value::Float(_) => Node::Number,
        Value::String(_) => Node::Str,
        Value::Table(_) => Node::Table,
        Value::Array(_) => Node::Array,
        _ => Node::Other,
    };
    out.push((path.clone(), node));
    match v {
        Value::Table(t) => {
            for (k, child) in t {
                path.push(Step::Key(k.clone()));
                nodes(child, path, out);
                path.pop();
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                path.push(Step::Index(i));
                nodes(child, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

/// Draws `n` mutations of `base`, each against the tree the earlier ones left. A
/// `gentle` case draws only plausible values (scaled, off by one, valid enum strings,
/// catalogued keys with ordinary values), so that most of its files pass validation
/// and reach a run.
pub fn generate(g: &mut Gen, base: &Value, n: usize, gentle: bool) -> Vec<Mutation> {
    let mut tree = base.clone();
    let mut out = Vec::new();
    let (mut raws, mut extra) = (Vec::new(), Vec::new());
    for _ in 0..n {
        let m = if gentle {
            gentle_mutation(g, &tree)
        } else {
            mutation(g, &tree)
        };
        apply(&mut tree, &m, &mut raws, &mut extra);
        out.push(m);
    }
    out
}

fn pick_node(g: &mut Gen, all: &[(Path, Node)], want: &[Node]) -> Option<Path> {
    let fit: Vec<&Path> = all
        .iter()
        .filter(|(p, n)| !p.is_empty() && want.contains(n))
        .map(|(p, _)| p)
        .collect();
    (!fit.is_empty()).then(|| fit[g.below(fit.len())].clone())
}

fn gentle_mutation(g: &mut Gen, tree: &Value) -> Mutation {
    let mut all = Vec::new();
    nodes(tree, &mut Vec::new(), &mut all);
    let tables: Vec<Path> = all
        .iter()
        .filter(|(_, n)| *n == Node::Table)
        .map(|(p, _)| p.clone())
        .collect();
    let numeric = pick_node(g, &all, &[Node::Number]);
    // Weights: a number scaled or off by one, a known key, a valid enum string.
    match g.weighted(&[40, 30, 15]) {
        0 if numeric.is_some() => {
            let path = numeric.expect("checked");
            let v = get(tree, &path).cloned().unwrap_or(Value::Integer(0));
            let value = if g.chance(0.75) {
                let k = g.pick(&[-3, -2, -1, 1, 2, 3]);
                let f = 10f64.powi(k) * g.pick(&[1.0, 2.0, 5.0]);
                match v {
                    Value::Integer(i) => Val::Toml(Value::Integer(((i as f64) * f).round() as i64)),
                    Value::Float(x) => Val::Toml(Value::Float(x * f)),
                    other => Val::Toml(other),
                }
            } else {
                match v {
                    Value::Integer(i) => {
                        Val::Toml(Value::Integer(i.saturating_add(g.pick(&[-1, 1]))))
                    }
                    Value::Float(x) => Val::Toml(Value::Float(x * g.pick(&[0.5, 0.9, 1.1, 2.0]))),
                    other => Val::Toml(other),
                }
            };
            Mutation::Set { path, value }
        }
        2 => {
            let strings = pick_node(g, &all, &[Node::Str]);
            match strings.and_then(|p| shape_at(&p).filter(|s| shape_is_enum(*s)).map(|s| (p, s))) {
                Some((path, shape)) => Mutation::Set {
                    value: valid_enum(g, shape, tree),
                    path,
                },
                None => known_key(g, tree, &tables, 0.05),
            }
        }
        _ => {
            let m = known_key(g, tree, &tables, 0.05);
            match m {
                // A quarter as --set, the way a user tries a variant.
                Mutation::Set {
                    ref path,
                    ref value,
                } if g.chance(0.25) => {
                    let text = match value {
                        Val::Toml(Value::String(s)) => s.clone(),
                        v => v.to_string(),
                    };
                    Mutation::Override(override_key(g, tree, path), text)
                }
                m => m,
            }
        }
    }
}

fn known_key(g: &mut Gen, tree: &Value, tables: &[Path], ext: f64) -> Mutation {
    let table = tables[g.below(tables.len())].clone();
    let keys = catalogue(&table);
    if keys.is_empty() {
        return Mutation::Set {
            path: vec![Step::Key("seed".into())],
            value: Val::Toml(Value::Integer(g.below(1000) as i64)),
        };
    }
    let (key, shape) = keys[g.below(keys.len())];
    let mut path = table;
    path.push(Step::Key(key.into()));
    Mutation::Set {
        value: value_for(g, shape, tree, ext),
        path,
    }
}

fn mutation(g: &mut Gen, tree: &Value) -> Mutation {
    let mut all = Vec::new();
    nodes(tree, &mut Vec::new(), &mut all);
    let numbers = [Node::Number];
    let leaves = [Node::Number, Node::Str, Node::Other];
    let containers = [Node::Table, Node::Array];
    let tables: Vec<Path> = all
        .iter()
        .filter(|(_, n)| *n == Node::Table)
        .map(|(p, _)| p.clone())
        .collect();
    // Weights, in the match's order: extreme, scaled, off by one, known key, enum
    // string, retyped, removed, unknown key, swap, move, array item, trace workload,
    // damaged text, JSON, --set.
    let choice = g.weighted(&[25, 8, 3, 14, 10, 7, 7, 4, 3, 2, 8, 3, 4, 2, 10]);
    let fallback = || Mutation::Set {
        path: vec![Step::Key("fuzz_unknown".into())],
        value: Val::Toml(Value::Integer(1)),
    };
    match choice {
        0 => pick_node(g, &all, &numbers)
            .map(|path| Mutation::Set {
                path,
                value: extreme(g),
            })
            .unwrap_or_else(fallback),
        1 => pick_node(g, &all, &numbers)
            .and_then(|path| {
                let v = get(tree, &path)?;
                Some(Mutation::Set {
                    value: scaled(g, v),
                    path,
                })
            })
            .unwrap_or_else(fallback),
        2 => pick_node(g, &all, &numbers)
            .and_then(|path| {
                let v = match get(tree, &path)? {
                    Value::Integer(i) => {
                        Value::Integer(i.saturating_add(if g.chance(0.5) { 1 } else { -1 }))
                    }
                    Value::Float(f) if g.chance(0.5) => Value::Float(f.next_up()),
                    Value::Float(f) => Value::Float(f.next_down()),
                    _ => return None,
                };
                Some(Mutation::Set {
                    path,
                    value: Val::Toml(v),
                })
            })
            .unwrap_or_else(fallback),
        3 => known_key(g, tree, &tables, 0.4),
        4 => pick_node(g, &all, &[Node::Str])
            .map(|path| {
                let shape = shape_at(&path).unwrap_or(Text);
                Mutation::Set {
                    value: enum_value(g, shape, tree),
                    path,
                }
            })
            .unwrap_or_else(fallback),
        5 => pick_node(g, &all, &leaves)
            .map(|path| Mutation::Set {
                value: retyped(g, get(tree, &path)),
                path,
            })
            .unwrap_or_else(fallback),
        6 => pick_node(
            g,
            &all,
            &[
                Node::Number,
                Node::Str,
                Node::Other,
                Node::Table,
                Node::Array,
            ],
        )
        .map(Mutation::Remove)
        .unwrap_or_else(fallback),
        7 => {
            let mut path = tables[g.below(tables.len())].clone();
            let name = g.pick(&[
                "fuzz_unknown",
                "capacityy",
                "ttl",
                "Requests",
                "layer",
                "kind",
                "",
                "a.b",
                "\u{e9}",
            ]);
            path.push(Step::Key(name.into()));
            Mutation::Set {
                value: any_value(g),
                path,
            }
        }
        8 => {
            let a = pick_node(g, &all, &containers);
            let b = pick_node(g, &all, &containers);
            match (a, b) {
                (Some(a), Some(b)) if !a.starts_with(&b) && !b.starts_with(&a) => {
                    Mutation::Swap(a, b)
                }
                _ => fallback(),
            }
        }
        9 => {
            let from = pick_node(g, &all, &leaves);
            match from {
                Some(from) => {
                    let Some(Step::Key(k)) = from.last() else {
                        return fallback();
                    };
                    let mut to = tables[g.below(tables.len())].clone();
                    to.push(Step::Key(k.clone()));
                    Mutation::Move(from, to)
                }
                None => fallback(),
            }
        }
        10 => array_mutation(g, tree, &all).unwrap_or_else(fallback),
        11 => Mutation::TraceWorkload {
            format: g.pick(&FORMATS),
            records: g.pick(&[1, 10, 1000, 5000]),
            seed: g.u64(),
            gz: g.chance(0.2),
        },
        12 => match g.below(3) {
            0 => Mutation::DuplicateLine(g.below(1000)),
            1 => Mutation::Truncate(g.below(1000) as u32),
            _ => {
                let bytes: &[&[u8]] = &[
                    b"\0",
                    b"\xff\xfe",
                    b"\xef\xbb\xbf",
                    b"\"",
                    b"[[",
                    b"]",
                    b"=",
                    b"\n[metrics]\n",
                    b"\r",
                    b"#",
                    b"'''",
                ];
                Mutation::Garbage(g.below(1001) as u32, (g.pick(bytes)).to_vec())
            }
        },
        13 => Mutation::Json,
        _ => overridden(g, tree, &all).unwrap_or_else(fallback),
    }
}

fn array_mutation(g: &mut Gen, tree: &Value, all: &[(Path, Node)]) -> Option<Mutation> {
    let arrays: Vec<&Path> = all
        .iter()
        .filter(|(_, n)| *n == Node::Array)
        .map(|(p, _)| p)
        .collect();
    let named = |k: &str| -> Path {
        match k {
            "classes" | "regions" => vec![Step::Key("workload".into()), Step::Key(k.into())],
            _ => vec![Step::Key(k.into())],
        }
    };
    // Layers and faults most often: their order and count mean the most.
    let path = match g.below(4) {
        0 | 1 => named("layers"),
        2 => named(g.pick(&["faults", "classes", "regions"])),
        _ if !arrays.is_empty() => arrays[g.below(arrays.len())].clone(),
        _ => named("layers"),
    };
    let len = match get(tree, &path) {
        Some(Value::Array(a)) => a.len(),
        _ => 0,
    };
    let item = |i: usize| {
        let mut p = path.clone();
        p.push(Step::Index(i));
        p
    };
    let last = path.last().cloned();
    Some(match g.below(5) {
        0 if len > 0 => Mutation::Duplicate(item(g.below(len))),
        1 if len > 1 => Mutation::Swap(item(g.below(len)), item(g.below(len))),
        2 if len > 0 => Mutation::Remove(item(g.below(len))),
        3 => Mutation::Set {
            path: path.clone(),
            value: Val::Toml(Value::Array(Vec::new())),
        },
        _ => {
            let shape = match last {
                Some(Step::Key(k)) if k == "layers" => Layer,
                Some(Step::Key(k)) if k == "faults" => Fault,
                Some(Step::Key(k)) if k == "classes" => Class,
                Some(Step::Key(k)) if k == "regions" => Regions,
                _ => Text,
            };
            // New items go anywhere: at the end, or over an existing one.
            let at = if len > 0 && g.chance(0.3) {
                g.below(len)
            } else {
                len
            };
            let value = match value_for(g, shape, tree, 0.2) {
                Val::Toml(Value::Array(mut a)) if !a.is_empty() => Val::Toml(a.swap_remove(0)),
                v => v,
            };
            if len == 0 && get(tree, &path).is_none() {
                Mutation::Set {
                    path,
                    value: match value {
                        Val::Toml(v) => Val::Toml(Value::Array(vec![v])),
                        raw => raw,
                    },
                }
            } else {
                Mutation::Set {
                    path: item(at),
                    value,
                }
            }
        }
    })
}

/// A `--set` argument: an existing key or a catalogued one, a value as the command
/// line writes it (strings bare or quoted), a layer addressed by name or by index.
fn overridden(g: &mut Gen, tree: &Value, all: &[(Path, Node)]) -> Option<Mutation> {
    let (path, shape) = if g.chance(0.6) {
        let path = pick_node(g, all, &[Node::Number, Node::Str, Node::Other])?;
        let shape = shape_at(&path).unwrap_or(Text);
        (path, shape)
    } else {
        let tables: Vec<&Path> = all
            .iter()
            .filter(|(_, n)| *n == Node::Table)
            .map(|(p, _)| p)
            .collect();
        let mut path = tables[g.below(tables.len())].clone();
        let keys = catalogue(&path);
        if keys.is_empty() {
            return None;
        }
        let (key, shape) = keys[g.below(keys.len())];
        path.push(Step::Key(key.into()));
        (path, shape)
    };
    let value = match g.below(3) {
        0 => extreme(g),
        1 if shape_is_enum(shape) => enum_value(g, shape, tree),
        _ => value_for(g, shape, tree, 0.3),
    };
    let key = override_key(g, tree, &path);
    let text = match &value {
        Val::Toml(Value::String(s)) if g.chance(0.5) => s.clone(),
        v => v.to_string(),
    };
    Some(Mutation::Override(key, text))
}

/// `path` as `--set` writes it: an array item by its `name` mostly, else its index.
fn override_key(g: &mut Gen, tree: &Value, path: &[Step]) -> String {
    let mut key = Vec::new();
    for (i, s) in path.iter().enumerate() {
        match s {
            Step::Key(k) => key.push(k.clone()),
            Step::Index(ix) => {
                let name = get(tree, &path[..=i])
                    .and_then(|v| v.get("name"))
                    .and_then(Value::as_str);
                match name {
                    Some(n) if g.chance(0.7) => key.push(n.to_owned()),
                    _ => key.push(ix.to_string()),
                }
            }
        }
    }
    key.join(".")
}

fn shape_is_enum(s: Shape) -> bool {
    matches!(
        s,
        Kind | Policy
            | Strategy
            | Invalidation
            | Balancer
            | Format
            | Variant
            | Dist
            | Mode
            | LayerRef
            | Name
    )
}

/// Numbers at the edges: 0, negative, tiny, huge, NaN and infinities, u32/u64/i64
/// edges (beyond i64 as raw literals), and strings that look like numbers.
pub fn extreme(g: &mut Gen) -> Val {
    use Value::{Float as F, Integer as I, String as S};
    let pool = [
        Val::Toml(I(0)),
        Val::Toml(I(-1)),
        Val::Toml(I(1)),
        Val::Toml(I(2)),
        Val::Toml(I(255)),
        Val::Toml(I(65_536)),
        Val::Toml(I(i64::from(i32::MAX))),
        Val::Toml(I(i64::from(u32::MAX) - 1)),
        Val::Toml(I(i64::from(u32::MAX))),
        Val::Toml(I(i64::from(u32::MAX) + 1)),
        Val::Toml(I(1_000_000_000)),
        Val::Toml(I(1_000_000_000_000_000)),
        Val::Toml(I((1 << 53) + 1)),
        Val::Toml(I(i64::MAX)),
        Val::Toml(I(i64::MIN)),
        Val::Toml(F(0.0)),
        Val::Toml(F(-0.0)),
        Val::Toml(F(-1.0)),
        Val::Toml(F(1e-9)),
        Val::Toml(F(1e-12)),
        Val::Toml(F(5e-324)),
        Val::Toml(F(0.001)),
        Val::Toml(F(0.5)),
        Val::Toml(F(0.999_999_999)),
        Val::Toml(F(1.000_000_001)),
        Val::Toml(F(1e9)),
        Val::Toml(F(1e15)),
        Val::Toml(F(1e300)),
        Val::Toml(F(f64::MAX)),
        Val::Toml(F(f64::NAN)),
        Val::Toml(F(f64::INFINITY)),
        Val::Toml(F(f64::NEG_INFINITY)),
        Val::Raw("18446744073709551615".into()),
        Val::Raw("18446744073709551616".into()),
        Val::Raw("1_000_000".into()),
        Val::Raw("0x7fffffff".into()),
        Val::Raw("1e999".into()),
        Val::Raw("-nan".into()),
        Val::Toml(S("nan".into())),
        Val::Toml(S("NaN".into())),
        Val::Toml(S("inf".into())),
        Val::Toml(S("-inf".into())),
        Val::Toml(S("1e15".into())),
        Val::Toml(S("".into())),
        Val::Toml(S("0".into())),
        Val::Toml(S("-1".into())),
    ];
    pool[g.below(pool.len())].clone()
}

fn scaled(g: &mut Gen, v: &Value) -> Val {
    let k = g.pick(&[-9, -6, -3, -2, -1, 1, 2, 3, 4, 6, 9]);
    let factor = 10f64.powi(k);
    Val::Toml(match v {
        Value::Integer(i) => {
            let x = *i as f64 * factor;
            if x.fract() == 0.0 && x.abs() < 9.0e18 {
                Value::Integer(x as i64)
            } else {
                Value::Float(x)
            }
        }
        Value::Float(f) => Value::Float(f * factor),
        other => other.clone(),
    })
}

fn retyped(g: &mut Gen, v: Option<&Value>) -> Val {
    let options = [
        Value::String("60".into()),
        Value::String("lru".into()),
        Value::Integer(60),
        Value::Float(60.5),
        Value::Boolean(true),
        Value::Array(vec![Value::Integer(1), Value::Integer(2)]),
        Value::Array(Vec::new()),
        Value::Table(Table::new()),
        Value::Datetime("1979-05-27T07:32:00Z".parse().expect("a valid datetime")),
    ];
    let fits: Vec<&Value> = options
        .iter()
        .filter(|o| v.is_none_or(|v| std::mem::discriminant(*o) != std::mem::discriminant(v)))
        .collect();
    Val::Toml(fits[g.below(fits.len())].clone())
}

fn any_value(g: &mut Gen) -> Val {
    if g.chance(0.5) {
        extreme(g)
    } else {
        retyped(g, None)
    }
}

/// Names of the tree's layers.
fn layer_names(tree: &Value) -> Vec<String> {
    match tree.get("layers") {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|l| l.get("name").and_then(Value::as_str).map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// Valid strings of an enum-like key most of the time, else a near miss or junk.
fn enum_value(g: &mut Gen, shape: Shape, tree: &Value) -> Val {
    let s = |x: &str| Val::Toml(Value::String(x.to_owned()));
    if g.chance(0.25) {
        let junk = [
            "",
            "LRU",
            "lru ",
            "none\n",
            "nosuch",
            "\u{e9}",
            "\0",
            "../../escaped",
            "a/b",
            "nan",
        ];
        if g.chance(0.1) {
            return s(&"x".repeat(10_000));
        }
        return s(g.pick(&junk));
    }
    valid_enum(g, shape, tree)
}

/// A valid string of an enum-like key (a layer's name for a reference).
fn valid_enum(g: &mut Gen, shape: Shape, tree: &Value) -> Val {
    let s = |x: &str| Val::Toml(Value::String(x.to_owned()));
    let names = layer_names(tree);
    let pick_str = |g: &mut Gen, xs: &[&str]| s(g.pick(xs));
    match shape {
        Kind => pick_str(
            g,
            &[
                "browser",
                "cdn",
                "shield",
                "proxy",
                "in_process",
                "redis",
                "database",
            ],
        ),
        Policy => pick_str(g, super::trace::POLICIES),
        Strategy => pick_str(
            g,
            &["cache_aside", "write_through", "write_back", "write_around"],
        ),
        Invalidation => pick_str(
            g,
            &["ttl_only", "delete_on_write", "versioned_keys", "tag_purge"],
        ),
        Balancer => pick_str(g, &["round_robin", "random", "key_hash"]),
        Format => pick_str(
            g,
            &[
                "csv",
                "oracle_general",
                "arc_lis",
                "lirs",
                "twitter",
                "webcachesim",
            ],
        ),
        Variant => pick_str(g, &["paper", "libcachesim", "caffeine"]),
        Dist => pick_str(
            g,
            &[
                "constant",
                "uniform",
                "normal",
                "lognormal",
                "exponential",
                "pareto",
                "zipf",
            ],
        ),
        Mode => pick_str(
            g,
            &[
                "none",
                "coalesce",
                "lock",
                "stale_while_revalidate",
                "stale_if_error",
                "refresh_ahead",
                "xfetch",
            ],
        ),
        LayerRef | Name if !names.is_empty() && g.chance(0.7) => s(&names[g.below(names.len())]),
        _ => pick_str(g, &["db", "redis", "l1", "cdn", "eu", "static", "x"]),
    }
}

fn number(g: &mut Gen, plausible: &[f64], extreme_share: f64, integer: bool) -> Val {
    if g.chance(extreme_share) {
        return extreme(g);
    }
    let x = g.pick(plausible);
    if integer {
        Val::Toml(Value::Integer(x as i64))
    } else {
        Val::Toml(Value::Float(x))
    }
}

fn table(pairs: Vec<(&str, Val)>) -> Val {
    let t: Table = pairs
        .into_iter()
        .map(|(k, v)| (k.to_owned(), plain(v)))
        .collect();
    Val::Toml(Value::Table(t))
}

/// A raw literal cannot sit inside a generated table; an edge value stands for it.
fn plain(v: Val) -> Value {
    match v {
        Val::Toml(v) => v,
        Val::Raw(_) => Value::Integer(i64::MAX),
    }
}

/// A value of `shape`: plausible, with each number extreme with probability `ext`.
/// A table of the keys `catalogue` lists at `path` (`*`: an array item), each there
/// with chance `p`, with values drawn for their shapes.
fn catalogued(g: &mut Gen, path: &[&str], p: f64, tree: &Value, ext: f64) -> Val {
    let steps: Vec<Step> = path
        .iter()
        .map(|k| match *k {
            "*" => Step::Index(0),
            k => Step::Key(k.to_owned()),
        })
        .collect();
    let mut pairs = Vec::new();
    for &(k, shape) in catalogue(&steps) {
        if g.chance(p) {
            pairs.push((k, value_for(g, shape, tree, ext)));
        }
    }
    table(pairs)
}

fn value_for(g: &mut Gen, shape: Shape, tree: &Value, ext: f64) -> Val {
    let count = [0.0, 1.0, 2.0, 3.0, 8.0, 64.0, 1000.0, 100_000.0];
    let seconds = [0.0, 0.001, 0.1, 1.0, 2.5, 60.0, 300.0, 3600.0];
    let ms = [0.0, 0.001, 0.3, 5.0, 100.0, 1500.0, 60_000.0];
    let ratio = [0.0, 0.01, 0.2, 0.5, 0.99, 1.0, 1.01, -0.01];
    match shape {
        Count => number(g, &count, ext, true),
        Seconds => number(g, &seconds, ext, false),
        Ms => number(g, &ms, ext, false),
        Ratio => number(g, &ratio, ext, false),
        Bool => Val::Toml(Value::Boolean(g.chance(0.5))),
        Text | Grid => any_value(g),
        Policy if g.chance(0.3) => {
            let name = g.pick(super::trace::POLICIES);
            let params = [
                ("protected_ratio", Ratio),
                ("segments", Count),
                ("hir_ratio", Ratio),
                ("window_ratio", Ratio),
                ("kin", Ratio),
                ("variant", Variant),
            ];
            let (k, sh) = params[g.below(params.len())];
            let v = value_for(g, sh, tree, ext);
            table(vec![
                ("name", Val::Toml(Value::String(name.into()))),
                (k, v),
            ])
        }
        Name | Kind | Policy | Strategy | Invalidation | Balancer | Format | Variant | Dist
        | Mode | LayerRef => enum_value(g, shape, tree),
        Latency => {
            let dist = g.pick(&[
                "constant",
                "uniform",
                "normal",
                "lognormal",
                "exponential",
                "pareto",
            ]);
            let params: &[(&str, Shape)] = match dist {
                "constant" => &[("ms", Ms)],
                "uniform" => &[("min_ms", Ms), ("max_ms", Ms)],
                "normal" => &[("mean_ms", Ms), ("sd_ms", Ms)],
                "lognormal" => &[("median_ms", Ms), ("sigma", Ratio)],
                "exponential" => &[("mean_ms", Ms)],
                _ => &[("scale_ms", Ms), ("shape", Ratio)],
            };
            let mut pairs = vec![("dist", Val::Toml(Value::String(dist.into())))];
            for &(k, sh) in params {
                pairs.push((k, value_for(g, sh, tree, ext)));
            }
            table(pairs)
        }
        Size => {
            let dist = g.pick(&["constant", "uniform", "lognormal", "exponential", "pareto"]);
            let params: &[(&str, Shape)] = match dist {
                "constant" => &[("bytes", Count)],
                "uniform" => &[("min_bytes", Count), ("max_bytes", Count)],
                "lognormal" => &[("median_bytes", Count), ("sigma", Ratio)],
                "exponential" => &[("mean_bytes", Count)],
                _ => &[("scale_bytes", Count), ("shape", Ratio)],
            };
            let mut pairs = vec![("dist", Val::Toml(Value::String(dist.into())))];
            for &(k, sh) in params {
                pairs.push((k, value_for(g, sh, tree, ext)));
            }
            table(pairs)
        }
        Popularity => {
            if g.chance(0.3) {
                table(vec![("dist", Val::Toml(Value::String("uniform".into())))])
            } else {
                let alpha = number(g, &[0.0, 0.5, 0.9, 1.0, 1.5, 3.0], ext, false);
                table(vec![
                    ("dist", Val::Toml(Value::String("zipf".into()))),
                    ("alpha", alpha),
                ])
            }
        }
        Stampede => {
            let mode = match enum_value(g, Mode, tree) {
                Val::Toml(Value::String(m)) => m,
                _ => "none".into(),
            };
            let mut pairs = vec![("mode", Val::Toml(Value::String(mode.clone())))];
            match mode.as_str() {
                "stale_while_revalidate" | "stale_if_error" | "refresh_ahead" => {
                    pairs.push(("window_s", value_for(g, Seconds, tree, ext)))
                }
                "lock" => {
                    for k in ["lock_ttl_ms", "poll_ms", "wait_timeout_ms"] {
                        if g.chance(0.6) {
                            pairs.push((k, value_for(g, Ms, tree, ext)));
                        }
                    }
                }
                "xfetch" => pairs.push(("beta", number(g, &[0.0, 0.5, 1.0, 2.0], ext, false))),
                _ => {}
            }
            table(pairs)
        }
        // The overload tables: the keys their catalogue entries list.
        RateLimit => catalogued(g, &["layers", "*", "rate_limit"], 1.0, tree, ext),
        Shed => catalogued(g, &["layers", "*", "shed"], 1.0, tree, ext),
        Retries => catalogued(g, &["application", "retries"], 0.7, tree, ext),
        Breaker => catalogued(g, &["application", "breaker"], 0.7, tree, ext),
        Application => catalogued(g, &["application"], 0.6, tree, ext),
        SyncExpiry => {
            let keys = value_for(g, Count, tree, ext);
            let at = value_for(g, Seconds, tree, ext);
            table(vec![("keys", keys), ("at_s", at)])
        }
        Regions => {
            let n = 1 + g.below(4);
            let names = ["eu", "us", "ap", "sa"];
            let items: Vec<Value> = (0..n)
                .map(|i| {
                    let share = if g.chance(0.8) {
                        Val::Toml(Value::Float(1.0 / n as f64))
                    } else {
                        value_for(g, Ratio, tree, ext)
                    };
                    plain(table(vec![
                        ("name", Val::Toml(Value::String(names[i].into()))),
                        ("share", share),
                    ]))
                })
                .collect();
            Val::Toml(Value::Array(items))
        }
        Rtt => {
            let mut pairs = Vec::new();
            for name in ["all", "eu", "us", "ap", "na", "sa"] {
                if g.chance(0.4) {
                    pairs.push((name, value_for(g, Ms, tree, ext)));
                }
            }
            table(pairs)
        }
        Class => {
            let mut pairs = vec![
                ("name", Val::Toml(Value::String(format!("c{}", g.below(4))))),
                ("key_share", value_for(g, Ratio, tree, ext)),
                ("request_share", value_for(g, Ratio, tree, ext)),
            ];
            if g.chance(0.5) {
                pairs.push(("size", value_for(g, Size, tree, ext)));
            }
            for (k, sh) in [
                ("max_age_s", Seconds),
                ("s_maxage_s", Seconds),
                ("private", Bool),
                ("no_store", Bool),
                ("immutable", Bool),
                ("no_cache", Bool),
            ] {
                if g.chance(0.3) {
                    pairs.push((k, value_for(g, sh, tree, ext)));
                }
            }
            Val::Toml(Value::Array(vec![plain(table(pairs))]))
        }
        Layer => {
            let kind = match enum_value(g, Kind, tree) {
                Val::Toml(Value::String(k)) => k,
                _ => "redis".into(),
            };
            let mut pairs = vec![
                (
                    "name",
                    Val::Toml(Value::String(format!("fuzz{}", g.below(3)))),
                ),
                ("kind", Val::Toml(Value::String(kind.clone()))),
            ];
            if kind == "database" {
                pairs.push(("connections", value_for(g, Count, tree, ext)));
            } else {
                pairs.push(("capacity", value_for(g, Count, tree, ext)));
                if g.chance(0.5) {
                    pairs.push(("ttl_s", value_for(g, Seconds, tree, ext)));
                }
            }
            if g.chance(0.5) {
                pairs.push(("latency", value_for(g, Latency, tree, ext)));
            }
            Val::Toml(Value::Array(vec![plain(table(pairs))]))
        }
        Fault => {
            let mut pairs = vec![
                ("layer", enum_value(g, LayerRef, tree)),
                ("start_s", value_for(g, Seconds, tree, ext)),
                ("duration_s", value_for(g, Seconds, tree, ext)),
                ("fallback", Val::Toml(Value::Boolean(g.chance(0.5)))),
            ];
            if g.chance(0.3) {
                pairs.push(("node", value_for(g, Count, tree, ext)));
            }
            Val::Toml(Value::Array(vec![plain(table(pairs))]))
        }
        // A number as before, or a profile of each kind with plausible or extreme values.
        Rate if g.chance(0.6) => number(g, &seconds, ext, false),
        Rate => {
            let n = |g: &mut Gen| number(g, &[0.0, 1.0, 3.0, 100.0, 5000.0, -1.0], ext, false);
            let kind = Val::Toml(Value::String(
                g.pick(&["steps", "ramp", "daily", "flash_crowd", "csv", "wave"])
                    .to_string(),
            ));
            let points = |g: &mut Gen| {
                let rows = g.below(4);
                let pts = (0..rows)
                    .map(|i| {
                        let t = if i == 0 && g.chance(0.8) {
                            0.0
                        } else {
                            g.pick(&[0.0, 1.0, 10.0, -1.0, 1e300])
                        };
                        Value::Array(vec![
                            Value::Float(t),
                            Value::Float(g.pick(&[0.0, 10.0, 1e4, -5.0, 1e12])),
                        ])
                    })
                    .collect();
                Val::Toml(Value::Array(pts))
            };
            match plain(kind.clone()).as_str() {
                Some("steps") => table(vec![("profile", kind), ("steps", points(g))]),
                Some("ramp") => table(vec![("profile", kind), ("points", points(g))]),
                Some("daily") => table(vec![
                    ("profile", kind),
                    ("mean", n(g)),
                    ("period_s", n(g)),
                    ("peak_to_trough", n(g)),
                ]),
                Some("flash_crowd") => table(vec![
                    ("profile", kind),
                    ("base", n(g)),
                    ("start_s", n(g)),
                    ("peak", n(g)),
                    ("rise_s", n(g)),
                    ("decay_s", n(g)),
                ]),
                Some("csv") => table(vec![
                    ("profile", kind),
                    ("path", Val::Toml(Value::String("no_such_rate.csv".into()))),
                ]),
                _ => table(vec![("profile", kind), ("mean", n(g))]),
            }
        }
        Drift => {
            let shift = table(vec![
                ("at_s", value_for(g, Seconds, tree, ext)),
                ("rank", value_for(g, Count, tree, ext)),
            ]);
            let churn = table(vec![
                ("interval_s", value_for(g, Seconds, tree, ext)),
                ("top", value_for(g, Count, tree, ext)),
                ("share", value_for(g, Ratio, tree, ext)),
            ]);
            let mut pairs = Vec::new();
            if g.chance(0.6) {
                pairs.push(("shifts", Val::Toml(Value::Array(vec![plain(shift)]))));
            }
            if g.chance(0.6) {
                pairs.push(("churn", churn));
            }
            table(pairs)
        }
        Sweep => {
            let mut grid = Table::new();
            let names = layer_names(tree);
            let layer = names.first().cloned().unwrap_or_else(|| "redis".into());
            grid.insert(
                format!("layers.{layer}.ttl_s"),
                if g.chance(0.5) {
                    Value::Array(vec![Value::Integer(1), Value::Integer(2)])
                } else {
                    Value::String(
                        (g.pick(&["10..300 step 10", "1..1e15 log 1000000", "1..0 step 0"])).into(),
                    )
                },
            );
            let mut pairs = vec![("grid", Val::Toml(Value::Table(grid)))];
            pairs.push(("replications", value_for(g, Count, tree, ext)));
            table(pairs)
        }
    }
}
