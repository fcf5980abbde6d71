//! Scenarios: the file a user writes, and the validated [`Plan`] the engine runs.
//!
//! Loading goes in three steps, each with its own errors:
//! 1. parse the TOML or JSON text into a document (syntax errors, with line and column);
//! 2. apply `--set` overrides, then deserialize into [`Scenario`], a plain mirror of the
//!    file (unknown keys and wrong types, with the key path);
//! 3. [`Scenario::resolve`] checks every value and derives the [`Plan`] (rule violations,
//!    with the key path, the value and what is allowed).
//!
//! In a TOML file, steps 2 and 3 also give the line and column of the offending key.
//!
//! It knows every part's spec and plan (workload, layers, faults, sweep grid) and how
//! they fit together, not how any part runs: no engine, no output.

pub mod application;
pub mod bounds;
mod error;
pub mod fault;
pub mod grid;
mod overrides;

pub use crate::base::{Invalid, KeyPath, Seg};
pub use error::ScenarioError;
pub use overrides::Override;

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::SimTime;
use crate::layer::{CachePlan, DatabasePlan, LayerKind, LayerPlan, LayerSpec};
use crate::workload::{WorkloadPlan, WorkloadSpec};

/// The built-in default scenario (`scenarios/quickstart.toml`), run by `tiersim run`
/// without a file.
pub const QUICKSTART: &str = include_str!("../scenarios/quickstart.toml");

/// The application tier alone (`scenarios/app_tier.toml`): an in-process L1, Redis and
/// the database, the default path before browsers and CDNs were modelled. Benches and
/// tests that measure the app tier use it.
pub const APP_TIER: &str = include_str!("../scenarios/app_tier.toml");

/// A scenario file, as written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Names the run and its default output folder `results/<name>/`.
    pub name: String,
    /// Seeds every random stream of the run.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Stop after this many requests, warm-up included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<u64>,
    /// Stop generating requests after this many simulated seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<f64>,
    /// The first requests, left out of every metric: a number, or `"auto"` (MSER-5).
    #[serde(default)]
    pub warmup_requests: Warmup,
    /// What the clients ask for.
    pub workload: WorkloadSpec,
    /// The path, outermost first, ending in one `database`.
    pub layers: Vec<LayerSpec>,
    /// How metrics are gathered.
    #[serde(default)]
    pub metrics: MetricsSpec,
    /// Layers down for a window (see [`crate::scenario::fault`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<crate::scenario::fault::FaultSpec>,
    /// How the application calls the database: timeouts, retries, a circuit breaker
    /// (see [`crate::scenario::application`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application: Option<application::ApplicationSpec>,
    /// Axes and replications for `tiersim sweep`; ignored by `run`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<grid::SweepSpec>,
}

fn default_seed() -> u64 {
    1
}

/// `warmup_requests`: how many of the first requests are left out of the metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Warmup {
    /// This many.
    Requests(u64),
    /// As many as MSER-5 finds transient, on the origin-load and hit-ratio series
    /// ([`crate::metrics::steady`]).
    Auto,
}

impl Default for Warmup {
    fn default() -> Self {
        Warmup::Requests(0)
    }
}

impl Serialize for Warmup {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Warmup::Requests(n) => s.serialize_u64(*n),
            Warmup::Auto => s.serialize_str("auto"),
        }
    }
}

impl<'de> Deserialize<'de> for Warmup {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Warmup;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number of requests (0 or more) or \"auto\"")
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Warmup, E> {
                Ok(Warmup::Requests(n))
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Warmup, E> {
                u64::try_from(n)
                    .map(Warmup::Requests)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Signed(n), &self))
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Warmup, E> {
                match s {
                    "auto" => Ok(Warmup::Auto),
                    _ => Err(E::invalid_value(serde::de::Unexpected::Str(s), &self)),
                }
            }
        }
        d.deserialize_any(V)
    }
}

impl Warmup {
    /// The fixed number of requests left out; 0 for `auto`, which measures every
    /// request and cuts when the run ends.
    pub fn fixed(self) -> u64 {
        match self {
            Warmup::Requests(n) => n,
            Warmup::Auto => 0,
        }
    }
}

/// The `[metrics]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MetricsSpec {
    /// Width of a `timeseries.csv` bucket, in seconds.
    pub bucket_s: f64,
    /// A herd event is this many or more reads of one key at the origin at once.
    pub herd_threshold: u32,
}

impl Default for MetricsSpec {
    fn default() -> Self {
        MetricsSpec {
            bucket_s: 1.0,
            herd_threshold: 10,
        }
    }
}

/// A validated scenario: what the engine runs. Every value in it has been checked.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The scenario's name.
    pub name: String,
    /// The run's seed.
    pub seed: u64,
    /// Stop after this many requests, if set.
    pub requests: Option<u64>,
    /// Stop generating arrivals after this time, if set.
    pub duration: Option<SimTime>,
    /// Requests left out of the metrics (0 with an automatic warm-up).
    pub warmup_requests: u64,
    /// Whether the warm-up is automatic (`warmup_requests = "auto"`): every request is
    /// measured and MSER-5 decides the cut when the run ends.
    pub warmup_auto: bool,
    /// The workload.
    pub workload: WorkloadPlan,
    /// The cache layers, outermost first.
    pub caches: Vec<CachePlan>,
    /// The origin.
    pub database: DatabasePlan,
    /// Time-series bucket width: `metrics.bucket_s`, or a round multiple of it when the
    /// run would need more than [`crate::metrics::MAX_BUCKETS`] rows.
    pub bucket: SimTime,
    /// The width `metrics.bucket_s` asked for, when `bucket` is coarser.
    pub bucket_coarsened_from: Option<SimTime>,
    /// How long the run is expected to last, and its requests.
    pub horizon: bounds::Horizon,
    /// Concurrent origin reads of one key that make a herd event.
    pub herd_threshold: u32,
    /// What writes do to the caches.
    pub writes: crate::workload::write::WritePlan,
    /// Clients, `0..clients`, split into regions.
    pub regions: crate::layer::topology::Regions,
    /// Layers down for a window.
    pub faults: Vec<crate::scenario::fault::Fault>,
    /// The application's timeouts, retries and breaker; `None` when none is set.
    pub application: Option<application::ApplicationPlan>,
}

/// The most bytes the browser caches of a path may take (clients x capacity x 20).
pub const MAX_BROWSER_ARENA: u64 = 16_000_000_000;

/// The most cache layers a path may have: a request remembers its node at each.
pub const MAX_CACHE_LAYERS: usize = 16;

impl Plan {
    /// How many clients send requests.
    pub fn clients(&self) -> u32 {
        *self.regions.first.last().expect("validated regions")
    }

    /// Whether any overload control is set: a `rate_limit` on some layer, or the
    /// database's `max_queue` or `shed` (see [`crate::layer::overload`]).
    pub fn overload_controls(&self) -> bool {
        let db = &self.database;
        self.caches.iter().any(|c| c.rate_limit.is_some())
            || db.rate_limit.is_some()
            || db.max_queue.is_some()
            || db.shed.is_some()
    }

    /// Whether requests need a client drawn: some layer's node depends on it, or a layer
    /// counts leaks (`ignore_private`).
    pub fn needs_clients(&self) -> bool {
        self.caches.iter().any(|c| {
            // A leak is a private copy served to another client: clients must differ.
            c.ignore_private
                || matches!(
                    c.topology,
                    crate::layer::Topology::PerClient | crate::layer::Topology::Pops { .. }
                )
        })
    }
}

impl Scenario {
    /// Checks every value and builds the plan.
    ///
    /// ```
    /// use tiersim::scenario::Scenario;
    /// let s = Scenario::from_toml_str("example", r#"
    ///     name = "tiny"
    ///     requests = 1000
    ///     [workload]
    ///     keys = 100
    ///     rate = 10.0
    ///     [[layers]]
    ///     name = "db"
    ///     kind = "database"
    /// "#).unwrap();
    /// let plan = s.resolve().unwrap();
    /// assert_eq!(plan.database.connections, 1);
    /// assert!(plan.caches.is_empty());
    /// ```
    pub fn resolve(&self) -> Result<Plan, Invalid> {
        check_name(&self.name)?;
        if let Some(0) = self.requests {
            return Err(Invalid::new("requests", "is 0; must be at least 1"));
        }
        let duration = match self.duration_s {
            None => None,
            Some(d) if d.is_finite() && d > 0.0 => Some(SimTime::from_secs_f64(d)),
            Some(d) => {
                return Err(Invalid::new(
                    "duration_s",
                    format!("is {d}; must be a finite number of seconds > 0"),
                ));
            }
        };
        // Reads a trace workload in full, so only after the cheap checks above.
        let workload = self.workload.resolve().map_err(|e| e.under("workload"))?;
        // A trace ends the run when it ends.
        let trace_len = workload.trace.as_ref().map(|t| t.requests);
        let requests = match (self.requests, trace_len) {
            (Some(n), Some(t)) => Some(n.min(t)),
            (None, Some(t)) => Some(t),
            (n, None) => n,
        };
        if requests.is_none() && duration.is_none() {
            return Err(Invalid::new(
                "requests",
                "is missing; set `requests` or `duration_s` (or both: the run stops at the first)",
            ));
        }
        if let Some(n) = requests
            && self.warmup_requests.fixed() >= n
        {
            let of_trace = match trace_len {
                Some(t) if t == n => " (the trace's length)",
                _ => "",
            };
            return Err(Invalid::new(
                "warmup_requests",
                format!(
                    "is {}; must be below `requests` ({n}{of_trace})",
                    self.warmup_requests.fixed()
                ),
            ));
        }
        let bucket_s = self.metrics.bucket_s;
        if !(bucket_s.is_finite() && bucket_s >= 1e-6) {
            return Err(Invalid::new(
                "metrics.bucket_s",
                format!("is {bucket_s}; must be at least 0.000001 seconds"),
            ));
        }
        if self.metrics.herd_threshold < 2 {
            return Err(Invalid::new(
                "metrics.herd_threshold",
                format!(
                    "is {}; must be at least 2 (concurrent reads of one key)",
                    self.metrics.herd_threshold
                ),
            ));
        }
        let clients = match self.workload.clients.unwrap_or(1) {
            c @ 1..crate::workload::MAX_KEYS => c as u32,
            c => {
                return Err(Invalid::new(
                    "workload.clients",
                    format!(
                        "is {c}; must be between 1 and {}",
                        crate::workload::MAX_KEYS - 1
                    ),
                ));
            }
        };
        let regions =
            crate::layer::topology::Regions::new(self.workload.regions.as_deref(), clients)
                .map_err(|e| e.under("workload"))?;

        let (database, caches) = self.resolve_layers(&regions)?;
        for (i, c) in caches.iter().enumerate() {
            // A browser arena is allocated up front: refuse one that cannot fit rather
            // than abort on allocation.
            let bytes = u64::from(clients) * u64::from(c.capacity) * 20;
            if c.topology == crate::layer::Topology::PerClient && bytes > MAX_BROWSER_ARENA {
                return Err(Invalid::new(
                    "capacity",
                    format!(
                        "is {} entries for each of {clients} clients: {} GB of browser \
                         caches (20 bytes an entry); at most {} GB",
                        c.capacity,
                        bytes / 1_000_000_000,
                        MAX_BROWSER_ARENA / 1_000_000_000
                    ),
                )
                .at(i)
                .under("layers"));
            }
        }
        for (i, c) in caches.iter().enumerate() {
            if let Some(s) = c.sync_expiry
                && s.keys > workload.keys
            {
                return Err(Invalid::new(
                    "sync_expiry.keys",
                    format!(
                        "is {}; must not exceed workload.keys ({})",
                        s.keys, workload.keys
                    ),
                )
                .at(i)
                .under("layers"));
            }
        }
        let writes =
            crate::workload::write::WritePlan::resolve(&self.workload.write_keys(), caches.len())
                .map_err(|e| e.under("workload"))?;
        let stops = crate::scenario::fault::Stop::path(&caches, &database, clients, &writes);
        let faults = self
            .faults
            .iter()
            .enumerate()
            .map(|(i, f)| f.resolve(&stops).map_err(|e| e.at(i).under("faults")))
            .collect::<Result<Vec<_>, _>>()?;
        let application = match &self.application {
            None => None,
            Some(a) => a.resolve().map_err(|e| e.under("application"))?,
        };
        let horizon = bounds::horizon(self, requests, &workload)?;
        bounds::check(self, &horizon, &caches)?;
        let asked = SimTime::from_secs_f64(bucket_s);
        let bucket = bounds::bucket_for(asked, horizon.span_s);
        Ok(Plan {
            faults,
            application,
            writes,
            name: self.name.clone(),
            seed: self.seed,
            requests,
            duration,
            warmup_requests: self.warmup_requests.fixed(),
            warmup_auto: self.warmup_requests == Warmup::Auto,
            workload,
            caches,
            database,
            bucket,
            bucket_coarsened_from: (bucket != asked).then_some(asked),
            horizon,
            herd_threshold: self.metrics.herd_threshold,
            regions,
        })
    }

    fn resolve_layers(
        &self,
        regions: &crate::layer::topology::Regions,
    ) -> Result<(DatabasePlan, Vec<CachePlan>), Invalid> {
        let Some(last) = self.layers.last() else {
            return Err(Invalid::new(
                "layers",
                "is empty; a path needs at least a layer of kind `database`",
            ));
        };
        let layer_err = |i: usize, e: Invalid| e.at(i).under("layers");
        if last.kind != LayerKind::Database {
            return Err(layer_err(
                self.layers.len() - 1,
                Invalid::new(
                    "kind",
                    "the last layer must be of kind `database` (the origin)",
                ),
            ));
        }
        let mut caches = Vec::new();
        let mut database = None;
        for (i, spec) in self.layers.iter().enumerate() {
            if spec.name.trim().is_empty() {
                return Err(layer_err(
                    i,
                    Invalid::new("name", "is empty; every layer needs a name"),
                ));
            }
            if let Some(j) = self.layers[..i].iter().position(|l| l.name == spec.name) {
                return Err(layer_err(
                    i,
                    Invalid::new(
                        "name",
                        format!(
                            "`{}` is also the name of layer {j}; names must be unique",
                            spec.name
                        ),
                    ),
                ));
            }
            if i > 0 && spec.kind < self.layers[i - 1].kind {
                let order: Vec<&str> = LayerKind::ALL.iter().map(|k| k.as_str()).collect();
                return Err(layer_err(
                    i,
                    Invalid::new(
                        "kind",
                        format!(
                            "`{}` cannot come after `{}`; layers go outermost first, in the order {}",
                            spec.kind.as_str(),
                            self.layers[i - 1].kind.as_str(),
                            order.join(", ")
                        ),
                    ),
                ));
            }
            if spec.kind == LayerKind::Database && i + 1 != self.layers.len() {
                return Err(layer_err(
                    i,
                    Invalid::new("kind", "only the last layer may be the `database`"),
                ));
            }
            if i >= MAX_CACHE_LAYERS && spec.kind != LayerKind::Database {
                return Err(layer_err(
                    i,
                    Invalid::new(
                        "kind",
                        format!("a path holds at most {MAX_CACHE_LAYERS} cache layers"),
                    ),
                ));
            }
            match spec.resolve(regions).map_err(|e| layer_err(i, e))? {
                LayerPlan::Cache(c) => caches.push(c),
                LayerPlan::Database(d) => database = Some(d),
            }
        }
        Ok((database.expect("the last layer is a database"), caches))
    }

    /// Parses TOML text, for tests and examples; `origin` names it in errors.
    pub fn from_toml_str(origin: &str, text: &str) -> Result<Scenario, ScenarioError> {
        Source::new(origin, text, Format::Toml).scenario(&[])
    }
}

/// The scenario's name names its output folder (`results/<name>/`), so it must be a
/// plain file name: one that cannot lead out of `results/` or hide there.
fn check_name(name: &str) -> Result<(), Invalid> {
    const ALLOWED: &str = "must be a plain file name, as it names the output folder results/<name>: not empty, no `/`, `\\`, `..` or control characters, not starting with `.`";
    if name.trim().is_empty() {
        return Err(Invalid::new("name", format!("is empty; {ALLOWED}")));
    }
    let problem = if name.contains(['/', '\\']) {
        "has a path separator"
    } else if name.contains("..") {
        "has `..`"
    } else if name.chars().any(char::is_control) {
        "has a control character"
    } else if name.starts_with('.') {
        "starts with `.`"
    } else {
        return Ok(());
    };
    Err(Invalid::new(
        "name",
        format!("is {name:?}, which {problem}; {ALLOWED}"),
    ))
}

/// A scenario file's syntax.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// `.toml`
    Toml,
    /// `.json`
    Json,
}

/// Scenario text and where it came from.
#[derive(Clone, Debug)]
pub struct Source {
    origin: String,
    text: String,
    format: Format,
}

impl Source {
    /// Text from elsewhere, named `origin` in errors.
    pub fn new(origin: impl Into<String>, text: impl Into<String>, format: Format) -> Self {
        Source {
            origin: origin.into(),
            text: text.into(),
            format,
        }
    }

    /// The built-in quickstart scenario.
    pub fn quickstart() -> Self {
        Source::new("built-in scenario `quickstart`", QUICKSTART, Format::Toml)
    }

    /// The built-in app-tier scenario ([`APP_TIER`]).
    pub fn app_tier() -> Self {
        Source::new("built-in scenario `app_tier`", APP_TIER, Format::Toml)
    }

    /// Reads a `.toml` or `.json` file.
    pub fn read(path: &Path) -> Result<Self, ScenarioError> {
        let format = match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
        {
            Some(e) if e == "toml" => Format::Toml,
            Some(e) if e == "json" => Format::Json,
            _ => {
                return Err(ScenarioError::Format {
                    path: path.to_owned(),
                });
            }
        };
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.to_owned(),
            source,
        })?;
        Ok(Source::new(path.display().to_string(), text, format))
    }

    /// Parses, applies `overrides` and deserializes.
    pub fn scenario(&self, overrides: &[Override]) -> Result<Scenario, ScenarioError> {
        let doc = self.document(overrides)?;
        serde_path_to_error::deserialize::<_, Scenario>(&doc).map_err(|e| {
            let mut path = KeyPath(
                e.path()
                    .iter()
                    .filter_map(|s| match s {
                        serde_path_to_error::Segment::Seq { index } => Some(Seg::Index(*index)),
                        serde_path_to_error::Segment::Map { key } => Some(Seg::Key(key.clone())),
                        serde_path_to_error::Segment::Enum { .. }
                        | serde_path_to_error::Segment::Unknown => None,
                    })
                    .collect(),
            );
            let message = e.inner().to_string();
            // A missing key is reported at its table; name the key itself.
            if let Some(missing) = message
                .strip_prefix("missing field `")
                .and_then(|rest| rest.split('`').next())
            {
                path.0.push(Seg::Key(missing.to_owned()));
            }
            self.invalid(&doc, overrides, &path, message)
        })
    }

    /// Parses, applies `overrides`, deserializes and validates.
    pub fn plan(&self, overrides: &[Override]) -> Result<(Scenario, Plan), ScenarioError> {
        let scenario = self.scenario(overrides)?;
        match scenario.resolve() {
            Ok(plan) => Ok((scenario, plan)),
            Err(invalid) => {
                let doc = serde_json::to_value(&scenario).expect("scenarios serialize");
                Err(self.invalid(&doc, overrides, &invalid.key, invalid.message))
            }
        }
    }

    fn document(&self, overrides: &[Override]) -> Result<Value, ScenarioError> {
        let syntax = |message: String| ScenarioError::Syntax {
            origin: self.origin.clone(),
            message,
        };
        let mut doc: Value = match self.format {
            Format::Toml => {
                let table: toml::Table = toml::from_str(&self.text)
                    .map_err(|e| syntax(e.to_string().trim_end().to_owned()))?;
                // JSON has no NaN or infinity: catch them before the conversion turns them into null.
                let mut path = KeyPath::default();
                if let Some(v) = non_finite(&toml::Value::Table(table.clone()), &mut path) {
                    let doc = serde_json::to_value(&table).unwrap_or_default();
                    let message = format!("is {v}; must be a finite number");
                    return Err(self.invalid(&doc, &[], &path, message));
                }
                serde_json::to_value(table).expect("TOML tables convert to JSON")
            }
            Format::Json => serde_json::from_str(&self.text).map_err(|e| syntax(e.to_string()))?,
        };
        for o in overrides {
            o.apply(&mut doc)?;
        }
        Ok(doc)
    }

    fn invalid(
        &self,
        doc: &Value,
        overrides: &[Override],
        path: &KeyPath,
        message: String,
    ) -> ScenarioError {
        let key = path.render(Some(doc));
        let overridden = overrides.iter().any(|o| {
            let set = o.key.join(".");
            key == set || key.starts_with(&format!("{set}."))
        });
        let location = if overridden {
            " (from --set)".to_owned()
        } else if self.format == Format::Toml {
            toml_location(&self.text, path)
                .map(|(l, c)| format!(":{l}:{c}"))
                .unwrap_or_default()
        } else {
            String::new()
        };
        ScenarioError::Invalid {
            origin: self.origin.clone(),
            location,
            key,
            message,
        }
    }
}

/// The first NaN or infinite float in `v`, leaving its path in `path`.
fn non_finite(v: &toml::Value, path: &mut KeyPath) -> Option<f64> {
    match v {
        toml::Value::Float(f) if !f.is_finite() => Some(*f),
        toml::Value::Table(t) => t.iter().find_map(|(k, v)| {
            path.0.push(Seg::Key(k.clone()));
            let found = non_finite(v, path);
            if found.is_none() {
                path.0.pop();
            }
            found
        }),
        toml::Value::Array(a) => a.iter().enumerate().find_map(|(i, v)| {
            path.0.push(Seg::Index(i));
            let found = non_finite(v, path);
            if found.is_none() {
                path.0.pop();
            }
            found
        }),
        _ => None,
    }
}

/// The 1-based line and column of the key at `path` in TOML `text`, or of the deepest
/// table on the path that exists (for a missing key).
fn toml_location(text: &str, path: &KeyPath) -> Option<(usize, usize)> {
    let doc = toml_edit::Document::parse(text).ok()?;
    let mut item = doc.as_item();
    let mut span = None;
    for seg in &path.0 {
        let next = match seg {
            Seg::Key(k) => item
                .as_table_like()
                .and_then(|t| t.get_key_value(k))
                .map(|(key, it)| (key.span(), it)),
            Seg::Index(i) => item.get(*i).map(|it| (None, it)),
        };
        match next {
            Some((key_span, it)) => {
                item = it;
                span = key_span.or(it.span()).or(span);
            }
            None => break,
        }
    }
    let offset = span?.start;
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.chars().rev().take_while(|&c| c != '\n').count() + 1;
    Some((line, col))
}

/// Reads and validates a scenario file, with `overrides` applied.
pub fn load(path: &Path, overrides: &[Override]) -> Result<(Scenario, Plan), ScenarioError> {
    Source::read(path)?.plan(overrides)
}
