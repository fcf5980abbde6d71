//! The memory a run will take, estimated from its plan before anything is allocated:
//! pure arithmetic over the [`Plan`] and the sizes of the engine's records.
//!
//! [`Estimate::of`] lists the parts (each cache layer's stores, indexes and policy
//! state; the database's key state; the popularity table and object sizes; the
//! requests in flight; the write bookkeeping; histograms and the time series) with the
//! key that sizes each. `tiersim run`, `sweep` and `validate` refuse a plan whose
//! estimate exceeds the memory available ([`available`], or `--max-memory`), naming
//! the largest part and its key.
//!
//! Each part is an upper bound on what the part allocates, peaks of growing arrays
//! included (a `Vec` doubled holds up to twice its elements): `tests/memory.rs` checks
//! the total against a counting allocator on random scenarios, and
//! [`Estimate::stores_at_start`] against [`Engine::store_bytes`]. Three parts rest on
//! estimates, and say so: a cache sized in bytes holds as many objects as fit, counted
//! here at half the mean size each (an eighth for `gdsf`, which keeps small ones); the
//! requests in flight follow Little's law at the path's mean latencies, doubled for
//! bursts; and the origin backlog counts every request reaching an origin slower than
//! the arrivals (the caches' hits are not known before the run), so it may be far
//! above what a well-cached run queues.
//!
//! It knows the engine's records and the plan, and decides nothing about a run.
//!
//! [`Engine::store_bytes`]: super::Engine::store_bytes

use std::fmt;

use crate::layer::stampede::Stampede;
use crate::layer::{CachePlan, Topology};
use crate::metrics::{Bucket, LatencyHistogram, MAX_ROWS, TimeSeries};
use crate::policy::PolicySpec;
use crate::scenario::Plan;
use crate::store::cache::Cache;
use crate::store::{Meta, StoreKind};
use crate::workload::write::Invalidation;

use super::database::{Database, KEY_STATE_BYTES, SPARSE_KEY_BYTES};
use super::event::Event;
use super::request::Request;

/// Above this many keys a Zipf popularity is drawn by rejection, without a table
/// ([`crate::workload::alias`]).
const ALIAS_TABLE_MAX_KEYS: u64 = 1 << 24;

/// Bytes of a browser slot (key, version, expiry, LRU stamp) and of the arena's
/// alignment slack ([`crate::store::browser`]).
const BROWSER_SLOT_BYTES: u64 = 20;
const BROWSER_SLACK_BYTES: u64 = 64;

/// What a run keeps whatever its size: the event queue's initial heap and lanes, the
/// layers' and features' small tables, random streams. A measured upper bound.
const FIXED_BYTES: u64 = 2 << 20;

/// Per key of a write-back layer with unflushed writes: its place in the dirty list, the
/// dirty set and the durable versions (two hash maps at their fullest).
const DIRTY_KEY_BYTES: u64 = 4 * 2 + 2 * 2 * (8 + 1) * 8 / 7 * 3 / 2;

/// Per write: the commit time kept for the age of stale reads (a `u64 -> u64` hash map
/// at its fullest, with the old table alive while it grows).
const COMMIT_BYTES: u64 = 2 * (16 + 1) * 8 / 7 * 3 / 2;

/// Per key an `xfetch` layer has fetched: its last fetch time.
const XFETCH_KEY_BYTES: u64 = 2 * (4 + 8 + 1) * 8 / 7 * 3 / 2;

/// Bytes of a `timeseries.csv` row as written out: its text, at most.
const CSV_ROW_BYTES: u64 = 200;

/// One part of an [`Estimate`]: what takes the memory, how much, and the key that sizes
/// it.
#[derive(Clone, Debug, PartialEq)]
pub struct Part {
    /// What it is, for people.
    pub what: String,
    /// The scenario key to change to make it smaller.
    pub key: String,
    /// Bytes, at most (or about, where [`what`](Self::what) says so).
    pub bytes: u64,
}

/// A run's memory, part by part.
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    /// The parts, in the order the engine builds them.
    pub parts: Vec<Part>,
}

/// A cache layer's stores: as [`Engine::new`](super::Engine::new) allocates them, and
/// at their largest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StoreEstimate {
    /// Entries reserved, key indexes and browser arenas, before the first request.
    pub start: u64,
    /// The most they take during the run, policy state included.
    pub peak: u64,
}

impl Estimate {
    /// The estimate for `plan`.
    ///
    /// ```
    /// use tiersim::engine::budget::Estimate;
    /// use tiersim::scenario::Source;
    /// let (_, plan) = Source::app_tier().plan(&[]).unwrap();
    /// let e = Estimate::of(&plan);
    /// assert!(e.total() > 10_000_000 && e.total() < 500_000_000, "{e}");
    /// ```
    pub fn of(plan: &Plan) -> Estimate {
        let s = Sizes::of(plan);
        let mut parts = Vec::new();
        for c in &plan.caches {
            let store = store_estimate(plan, c, &s);
            let nodes = c.topology.nodes(plan.clients());
            let (what, key) = match c.topology.store() {
                StoreKind::PerClient => (
                    format!(
                        "layer `{}`: {} browser caches of {} entries",
                        c.name, nodes, c.capacity
                    ),
                    format!("layers.{}.capacity (or workload.clients)", c.name),
                ),
                StoreKind::Nodes => (
                    format!(
                        "layer `{}`: {} node{} of {}, {} state and key index{}",
                        c.name,
                        nodes,
                        if nodes == 1 { "" } else { "s" },
                        match c.capacity_bytes {
                            Some(b) => format!("{} (about {:.0} objects)", bytes(b), s.slots(c)),
                            None => format!("{} entries", c.capacity),
                        },
                        c.policy.name(),
                        if c.capacity_bytes.is_some() {
                            ", objects half the mean size"
                        } else {
                            ""
                        }
                    ),
                    format!(
                        "layers.{}.{}{}",
                        c.name,
                        if c.capacity_bytes.is_some() {
                            "capacity_bytes"
                        } else {
                            "capacity"
                        },
                        match c.kind.nodes_key() {
                            Some(k) if nodes > 1 => format!(" (or {k})"),
                            _ => String::new(),
                        }
                    ),
                ),
            };
            // A Redis ring: its points sorted with their shards, then split (16 bytes a
            // point while sorting, 10 after), and its bucket table.
            let ring = match c.topology {
                Topology::Ring { shards, vnodes } => {
                    26 * u64::from(shards) * u64::from(vnodes) + (4 << 16)
                }
                _ => 0,
            };
            parts.push(Part {
                what,
                key,
                bytes: store.peak + ring,
            });
        }
        parts.push(Part {
            what: format!(
                "database `{}`: the version of each key a run reaches (an array over {} of \
                 the {} keys, a map above)",
                plan.database.name,
                Database::dense_keys(s.key_space, s.requests),
                s.key_space
            ),
            key: "workload.keys".into(),
            bytes: database_bytes(&s),
        });
        let w = &plan.workload;
        let pieces = w.profile.iter().chain(w.class_rates.iter().map(|c| &c.1));
        let pieces: u64 = pieces.map(|p| p.bytes()).sum();
        if pieces > 0 {
            parts.push(Part {
                what: "the rate profiles' pieces".into(),
                key: "workload.rate".into(),
                bytes: pieces,
            });
        }
        if w.trace.is_none() {
            let n = u64::from(w.keys);
            let table = if w.content.is_active() {
                // Each class's probabilities, the weights, then the alias table's build.
                48 * n
            } else {
                match w.popularity {
                    crate::workload::PopularitySpec::Zipf { alpha }
                        if alpha > 0.0 && n <= ALIAS_TABLE_MAX_KEYS =>
                    {
                        // Weights, scaled weights, entries, the two work lists.
                        32 * n
                    }
                    _ => 0,
                }
            };
            if table > 0 {
                parts.push(Part {
                    what: format!("popularity: the alias table over {n} keys"),
                    key: "workload.keys".into(),
                    bytes: table,
                });
            }
            if let Some(d) = &w.drift {
                // A churn's draw of distinct ranks may hold an index as long as the
                // ranks it draws from, for the moment of the event.
                let churn = if d.churn.is_some() { 4 * n } else { 0 };
                parts.push(Part {
                    what: format!("popularity drift: the rank-to-key permutation of {n} keys"),
                    key: "workload.drift".into(),
                    bytes: 4 * n + churn,
                });
            }
            if w.content.is_active() {
                parts.push(Part {
                    what: format!("object sizes of {n} keys"),
                    key: "workload.keys".into(),
                    bytes: 12 * n,
                });
            }
        } else {
            parts.push(Part {
                what: "the trace's reader (its buffer and decompressor)".into(),
                key: "workload.trace".into(),
                bytes: 16 << 20,
            });
        }
        let per_request = request_bytes(plan);
        parts.push(Part {
            what: format!(
                "requests in flight: about {:.0} at once (Little's law at the path's mean \
                 latencies)",
                s.in_flight
            ),
            key: "workload.rate".into(),
            bytes: in_flight_bytes(plan, &s),
        });
        if s.backlog > 0.0 {
            parts.push(Part {
                what: format!(
                    "origin backlog: up to {:.0} requests queued, if every request reached \
                     the database, which serves {:.0} of the {:.0} per second",
                    s.backlog, s.origin_capacity, s.rate
                ),
                key: format!("layers.{}.connections", plan.database.name),
                bytes: 2 * per_request * s.backlog as u64,
            });
        }
        let writes = writes_bytes(plan, &s);
        if writes > 0 {
            parts.push(Part {
                what: format!("write bookkeeping: {:.0} writes", s.writes),
                key: "workload.write_ratio".into(),
                bytes: writes,
            });
        }
        parts.push(Part {
            what: format!(
                "time series: {} rows of {} s, and the latency histograms",
                s.rows,
                plan.bucket.as_secs_f64()
            ),
            key: "metrics.bucket_s".into(),
            bytes: s.rows * (size_of::<Bucket>() as u64 * 2 + CSV_ROW_BYTES)
                + TimeSeries::histogram_bytes()
                + (plan.caches.len() as u64 + 4) * LatencyHistogram::heap_bytes(),
        });
        if plan.warmup_auto {
            let per = (plan.caches.len() as u64 + 3) * LatencyHistogram::heap_bytes()
                + plan.caches.len() as u64 * size_of::<crate::metrics::LayerStats>() as u64
                + size_of::<crate::metrics::OriginStats>() as u64;
            parts.push(Part {
                what: format!(
                    "the automatic warm-up's {} checkpoints of the counters and histograms",
                    crate::engine::CHECKPOINTS + 1
                ),
                key: "warmup_requests".into(),
                bytes: (crate::engine::CHECKPOINTS + 1) * per,
            });
        }
        parts.push(Part {
            what: "the engine's fixed tables".into(),
            key: "-".into(),
            bytes: FIXED_BYTES,
        });
        Estimate { parts }
    }

    /// The sum of the parts, bytes.
    pub fn total(&self) -> u64 {
        self.parts.iter().map(|p| p.bytes).sum()
    }

    /// The largest part.
    pub fn largest(&self) -> &Part {
        self.parts
            .iter()
            .max_by_key(|p| p.bytes)
            .expect("an estimate has parts")
    }

    /// Each cache layer's stores ([`StoreEstimate`]), outermost first: at the start they
    /// are what [`Engine::store_bytes`](super::Engine::store_bytes) reports.
    pub fn stores(plan: &Plan) -> Vec<StoreEstimate> {
        let s = Sizes::of(plan);
        plan.caches
            .iter()
            .map(|c| store_estimate(plan, c, &s))
            .collect()
    }

    /// The stores of every cache layer before the first request, bytes: what
    /// [`Engine::store_bytes`](super::Engine::store_bytes) reports of a new engine.
    pub fn stores_at_start(plan: &Plan) -> u64 {
        Estimate::stores(plan).iter().map(|s| s.start).sum()
    }

    /// The database's key state before the first request, bytes: what
    /// [`Database::key_bytes`] reports of a new database.
    pub fn database_at_start(plan: &Plan) -> u64 {
        let s = Sizes::of(plan);
        u64::from(Database::dense_keys(s.key_space, s.requests)) * KEY_STATE_BYTES
    }

    /// Refuses the run if the estimate exceeds `limit` bytes; `limit_from` says where
    /// the limit comes from, for the message.
    pub fn check(&self, limit: u64, limit_from: &str) -> Result<(), TooLarge> {
        if self.total() <= limit {
            return Ok(());
        }
        Err(TooLarge {
            estimate: self.total(),
            limit,
            limit_from: limit_from.to_owned(),
            largest: self.largest().clone(),
        })
    }
}

impl fmt::Display for Estimate {
    /// The total, then the parts from the largest, one a line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "about {} in all", bytes(self.total()))?;
        let mut parts: Vec<&Part> = self.parts.iter().collect();
        parts.sort_by_key(|p| std::cmp::Reverse(p.bytes));
        for p in parts {
            writeln!(f, "  {:>9}  {} [{}]", bytes(p.bytes), p.what, p.key)?;
        }
        Ok(())
    }
}

/// A run whose estimate exceeds the memory it may take.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub struct TooLarge {
    /// The estimate, bytes.
    pub estimate: u64,
    /// The limit, bytes.
    pub limit: u64,
    /// Where the limit comes from.
    pub limit_from: String,
    /// The largest part.
    pub largest: Part,
}

impl fmt::Display for TooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "this run needs about {} of memory (estimate), more than the {} {}; the largest \
             part is {}, {}: lower `{}`",
            bytes(self.estimate),
            bytes(self.limit),
            self.limit_from,
            self.largest.what,
            bytes(self.largest.bytes),
            self.largest.key
        )
    }
}

/// Bytes in B, kB, MB, GB or TB (powers of 1000), three significant figures.
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else if v >= 100.0 {
        format!("{v:.0} {}", UNITS[unit])
    } else if v >= 10.0 {
        format!("{v:.1} {}", UNITS[unit])
    } else {
        format!("{v:.2} {}", UNITS[unit])
    }
}

/// Parses a memory size: a number of bytes, or with a unit, `kB`, `MB`, `GB`, `TB`
/// (powers of 1000) or `KiB`, `MiB`, `GiB`, `TiB` (powers of 1024), in any case, with
/// or without a space; a bare `K`, `M`, `G` or `T` counts as the power of 1000.
///
/// ```
/// use tiersim::engine::budget::parse_size;
/// assert_eq!(parse_size("4GiB"), Ok(4 << 30));
/// assert_eq!(parse_size("500MB"), Ok(500_000_000));
/// assert_eq!(parse_size("1.5 G"), Ok(1_500_000_000));
/// assert_eq!(parse_size("123"), Ok(123));
/// assert!(parse_size("4 GB of RAM").is_err());
/// ```
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number: f64 = number.replace('_', "").parse().map_err(|_| {
        format!("`{text}` is not a size; give bytes, or a number and a unit: 4GiB, 500MB")
    })?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "m" | "mb" => 1e6,
        "g" | "gb" => 1e9,
        "t" | "tb" => 1e12,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        "tib" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(format!(
                "`{text}`: unknown unit `{other}`; use B, kB, MB, GB, TB, KiB, MiB, GiB or TiB"
            ));
        }
    };
    let n = number * scale;
    if !(n.is_finite() && n >= 1.0 && n < u64::MAX as f64) {
        return Err(format!("`{text}`: a size must be at least 1 byte"));
    }
    Ok(n.round() as u64)
}

/// The memory available to a new process now, bytes: `MemAvailable` in
/// `/proc/meminfo` (Linux); `None` where it cannot be read.
pub fn available() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line
        .trim_start_matches("MemAvailable:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// The counts every part starts from.
struct Sizes {
    /// Expected requests.
    requests: f64,
    /// Keys the caches and the database index: the workload's, twice with missing keys.
    key_space: u32,
    /// Keys a run can touch: at most one new key per request.
    touched: f64,
    /// Writes expected (every request of a trace, whose operations are not known).
    writes: f64,
    /// Whether old copies stay resident under their own versions (`versioned_keys`).
    versioned: bool,
    /// The mean object size, bytes.
    mean_size: f64,
    /// Requests in flight at once: by Little's law, and at least the 1024 a run
    /// makes room for.
    in_flight: f64,
    /// Requests queued at an origin slower than the arrivals, if all reached it.
    backlog: f64,
    /// The arrival rate, per second.
    rate: f64,
    /// The requests per second the origin serves at most.
    origin_capacity: f64,
    /// Time-series rows.
    rows: u64,
}

impl Sizes {
    fn of(plan: &Plan) -> Sizes {
        let w = &plan.workload;
        let h = &plan.horizon;
        let requests = h.requests.max(1.0);
        let key_space = if w.missing_ratio > 0.0 {
            w.keys.saturating_mul(2)
        } else {
            w.keys
        };
        let writes = if w.trace.is_some() {
            requests
        } else {
            requests * w.max_write_ratio()
        };
        let rate = if w.trace.is_some() && w.timed {
            if h.arrivals_s > 0.0 {
                requests / h.arrivals_s
            } else {
                requests
            }
        } else {
            // With a profile, its peak: the in-flight count and backlog at the busiest
            // moment bound the others.
            w.peak_rate()
        };
        // Little's law over the path's mean times, doubled for bursts; an origin that
        // cannot keep up with every request holds the excess in its queue.
        let service = h.service_mean_s;
        let capacity = if service > 0.0 {
            f64::from(plan.database.connections) / service
        } else {
            f64::INFINITY
        };
        // With retries every request may call the database 1 + max times (a timed-out
        // call's query stays queued beside its retry): the worst case is every call.
        let calls = 1.0
            + plan
                .application
                .and_then(|a| a.retries)
                .map_or(0.0, |r| f64::from(r.max));
        let backlog = ((rate * calls - capacity).max(0.0) * h.arrivals_s).min(requests * calls);
        let busy = 2.0 * rate * calls * (h.hops_mean_s + service);
        let in_flight = (busy + 1024.0).min(requests * calls + 1024.0);
        // An origin slower than the requests ends the run when its queue has drained:
        // every request through it, in the worst case, after the arrivals' own span.
        let drain_s = if backlog > 0.0 {
            requests * calls * service / f64::from(plan.database.connections)
        } else {
            0.0
        };
        let end_s = h.span_s.max(drain_s + h.span_s - h.arrivals_s);
        let rows = ((end_s / plan.bucket.as_secs_f64()).ceil() + 2.0).min(MAX_ROWS as f64);
        Sizes {
            requests,
            key_space,
            touched: requests.min(f64::from(key_space)),
            writes,
            versioned: plan.writes.invalidation == Invalidation::VersionedKeys,
            mean_size: w.content.mean_size(),
            in_flight,
            backlog,
            rate,
            origin_capacity: capacity,
            rows: rows as u64,
        }
    }

    /// The most slots a node of `c` fills: its capacity in entries (orphans included
    /// under `versioned_keys`, up to one per write), or for a cache sized in bytes the
    /// objects that fit at half the mean size (an eighth for `gdsf`).
    fn slots(&self, c: &CachePlan) -> f64 {
        let keys = f64::from(self.key_space) + if self.versioned { self.writes } else { 0.0 };
        match c.capacity_bytes {
            None => f64::from(c.capacity).min(keys),
            Some(b) => {
                let smaller = if c.policy.name() == "gdsf" { 8.0 } else { 2.0 };
                (b as f64 * smaller / self.mean_size)
                    .ceil()
                    .min(b as f64)
                    .min(keys)
            }
        }
    }
}

/// A cache layer's stores: at the start, and at their largest.
fn store_estimate(plan: &Plan, c: &CachePlan, s: &Sizes) -> StoreEstimate {
    let nodes = u64::from(c.topology.nodes(plan.clients()));
    if c.topology.store() == StoreKind::PerClient {
        let arena = nodes * u64::from(c.capacity) * BROWSER_SLOT_BYTES + BROWSER_SLACK_BYTES;
        return StoreEstimate {
            start: arena,
            peak: arena,
        };
    }
    let (entry, meta) = Cache::SLOT_BYTES;
    debug_assert_eq!(meta, size_of::<Meta>() as u64);
    let keeps_meta = plan.workload.content.is_active() || c.capacity_bytes.is_some();
    let slots = s.slots(c) as u64;
    // Every entry was put there by a fill: a response, a refresh (at most one per
    // request), a write's store on each node, a warm-up. What grows with the entries is
    // bounded by the fills over the layer's nodes, taken here on average per node.
    let refreshes = !matches!(
        c.stampede,
        Stampede::None | Stampede::Coalesce | Stampede::Lock { .. } | Stampede::StaleIfError { .. }
    );
    let fills = s.requests * if refreshes { 2.0 } else { 1.0 }
        + if plan.writes.stores() {
            s.writes * nodes as f64
        } else {
            0.0
        }
        + c.sync_expiry.map_or(0.0, |e| f64::from(e.keys));
    let per_node = (fills / nodes as f64).ceil() as u64;
    let used = slots.min(per_node).max(1);
    let seen = (s.touched as u64).min(per_node);
    let reserved = match c.capacity_bytes {
        None => u64::from(c.capacity.min(s.key_space)),
        Some(_) => 0,
    };
    let (index_start, index_peak) = Cache::planned_index_bytes(
        if c.capacity_bytes.is_some() {
            0
        } else {
            c.capacity
        },
        used.min(u64::from(u32::MAX)) as u32,
        s.key_space,
    );
    // Arrays that grow past what was reserved hold up to twice their elements.
    let grown = |per_slot: u64, reserved: u64| {
        if used <= reserved {
            reserved * per_slot
        } else {
            2 * used * per_slot
        }
    };
    let entries = grown(entry, reserved) + if keeps_meta { grown(meta, 0) } else { 0 };
    let free_list = 2 * 4 * used;
    let policy = policy_bytes(c, slots, used, seen, s);
    StoreEstimate {
        start: nodes * (reserved * entry + index_start),
        peak: nodes * (entries + free_list + index_peak + policy),
    }
}

/// Bytes of a node's policy state for `slots` slots (`used` of them filled, for a
/// policy that grows with its entries): per slot, by policy (measured, with their
/// growth, on churning Zipf and uniform streams), plus the state some keep per key it
/// has `seen` (`perfect_lfu`'s counts, LIRS's non-resident entries).
fn policy_bytes(c: &CachePlan, slots: u64, used: u64, seen: u64, s: &Sizes) -> u64 {
    let (mean_size, keys) = (s.mean_size, f64::from(s.key_space));
    let (per_slot, per_key) = match c.policy.name() {
        "fifo" | "lru" | "random" => (8, 0),
        "clock" | "sieve" => (10, 0),
        "slru" => (16, 0),
        "lfu" => (20, 0),
        "wtinylfu" => (28, 0),
        "2q" => (32, 0),
        "gdsf" | "lfuda" => (36, 0),
        "arc" | "s3fifo" => (44, 0),
        "perfect_lfu" => (16, 12),
        "lirs" => (48, 12),
        // A policy from code: what the built-in ones take at most, per slot.
        _ => (64, 0),
    };
    // The figures above are at the default ghost lists (2Q's kout 0.5, S3-FIFO's 0.9);
    // a longer list reserves 24 bytes per ghost more (27 with the measured margin).
    let ghosts_over_default = match &c.policy {
        PolicySpec::TwoQ(q) => q.kout - 0.5,
        PolicySpec::S3Fifo(f) => f.ghost_ratio - 0.9,
        _ => 0.0,
    };
    let per_slot = per_slot + (27.0 * ghosts_over_default.max(0.0)).ceil() as u64;
    // A cache sized in entries builds its policy for them; one sized in bytes for the
    // mean object, and lets it grow with the entries.
    let state = match c.capacity_bytes {
        // Built for the objects of the mean size that fit (the engine's mean of the
        // drawn sizes, within a quarter of the distributions' here), grown past that.
        Some(b) => {
            let hint = (b as f64 / mean_size).ceil().min(keys) * 1.25;
            per_slot * (hint as u64).max(2 * used)
        }
        None => per_slot * slots,
    };
    state + per_key * seen
}

/// The database's key state: the array, and the hash map of the keys above it that a
/// run touches.
fn database_bytes(s: &Sizes) -> u64 {
    let dense = Database::dense_keys(s.key_space, s.requests);
    let sparse = (f64::from(s.key_space - dense)).min(s.touched);
    u64::from(dense) * KEY_STATE_BYTES + (sparse * (SPARSE_KEY_BYTES * 3 / 2) as f64) as u64
}

/// The requests in flight: their records, events, queue places and waits, in arrays
/// that double.
fn in_flight_bytes(plan: &Plan, s: &Sizes) -> u64 {
    let propagations = plan
        .caches
        .iter()
        .map(|c| c.propagation_delay.as_secs_f64())
        .fold(0.0, f64::max)
        * plan.caches.len() as f64
        * s.writes
        / plan.horizon.arrivals_s.max(1e-9);
    2 * request_bytes(plan)
        * (s.in_flight + propagations.min(s.writes * plan.caches.len() as f64)) as u64
}

/// Bytes of one request in flight: its record and free-list place, its event, its place
/// in the origin queue or among a flight's waiters, and a sample it may leave for a
/// later time-series bucket; with `[application]`, its call state.
fn request_bytes(plan: &Plan) -> u64 {
    let calls = if plan.application.is_some() {
        super::resilience::SLOT_BYTES
    } else {
        0
    };
    calls
        + size_of::<Request>() as u64
        + 4
        + 16
        + size_of::<Event>().next_multiple_of(16) as u64
        + 4
        + 4
        + TimeSeries::PENDING_SAMPLE_BYTES
}

/// Writes' bookkeeping: commit times for stale-read ages, a write-back layer's dirty
/// keys, `xfetch`'s fetch times.
fn writes_bytes(plan: &Plan, s: &Sizes) -> u64 {
    let commits = (s.writes * COMMIT_BYTES as f64) as u64;
    let dirty = if plan.writes.write_back.is_some() {
        (s.writes.min(f64::from(s.key_space)) * DIRTY_KEY_BYTES as f64) as u64
    } else {
        0
    };
    let xfetch = plan
        .caches
        .iter()
        .filter(|c| matches!(c.stampede, crate::layer::stampede::Stampede::Xfetch { .. }))
        .count() as u64
        * (s.touched * XFETCH_KEY_BYTES as f64) as u64;
    commits + dirty + xfetch
}
