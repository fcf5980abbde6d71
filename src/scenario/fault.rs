//! Faults: a layer, or one node of it, down for a window of simulated time, and what
//! requests do about it.
//!
//! A scenario's `[[faults]]` array deserializes into [`FaultSpec`]s and resolves, against
//! the path, into [`Fault`]s: plain data naming a path position (cache layers `0..n`
//! outermost first, the database at `n`), optionally one node of it, and a window
//! `[start, end)`. At run time the engine turns each fault into two events and keeps
//! the state of what is down (its `faults` module), which answers "what does a request
//! find at position `i`, node `n`, now?" in constant time. This module owns the spec and
//! its validation; it knows nothing of the run.
//!
//! | `fallback` | a request reaching the down layer (or down node) |
//! |---|---|
//! | `true` | skips it: no lookup, no latency, no fill; it goes on inward (the origin load rises); counted in the layer's `skipped` |
//! | `false` (default) | fails; a `stale_if_error` layer outside it may still answer with a stale copy (see [`crate::layer::stampede`]), otherwise the request counts in `failed_requests` and the layer's `failed` |
//!
//! Going down is a crash: when the window opens, a cache layer loses its contents (it
//! comes back cold) and, if it is the `write_back` layer, the writes it accepted and
//! has not flushed yet are lost and counted (`lost_writes`). While it is down nothing
//! fills it, and a `write_through`/`write_back` write does not store into it. The
//! database may be faulted too, only without fallback (nothing lies behind it): reads
//! and writes that reach it in the window fail, the queries already queued or in
//! service finish, and a write-back flush that comes due keeps its writes pending for
//! the next one.
//!
//! # One node
//!
//! Without `node`, a fault takes every node of its layer down (every PoP of a CDN,
//! every shard). With `node = N` it takes only node `N` down, numbered from 0 below the
//! layer's count: `pops` for a `cdn`, `nodes` for a `shield` or `proxy`, `instances` for
//! `in_process`, `shards` for `redis`. The requests the layer's routing sends to that
//! node skip or fail as above; the others are untouched, and so are the other nodes'
//! contents. Only that node crashes (comes back empty) and only its fills are skipped.
//! Routing does not change: nothing steers requests away from the down node, as in the
//! time before a health check, DNS or a ring rebalance reacts. So:
//!
//! - `cdn`: the clients whose region maps to the PoP go past it (`fallback = true`, as
//!   a client falling back to the shield or origin hostname) or fail.
//! - `shield`, `proxy`: the keys hashed to the node go past it or fail.
//! - `in_process`: with `round_robin` or `random` every instance gets its share of the
//!   requests, so the down instance's share fails (or, with fallback, goes on to Redis
//!   without its L1); with `key_hash`, the keys of that instance.
//! - `redis`: the keys of the shard's arcs of the ring. This is what a client library
//!   does with a shard that stops answering and is not ejected from the ring: the call
//!   errors. `fallback = false` is an application that lets the error fail the request;
//!   `fallback = true` one that treats the error as a miss and reads the database
//!   (cache-aside), whose fill of that shard is lost too. Remapping the shard's keys to
//!   the next shard on the ring (twemproxy's `auto_eject_hosts`) is not modelled.
//!
//! `node` is rejected on a `browser` layer (its nodes are the clients' own caches: one
//! client's cache being unavailable is nobody's outage; fault the whole layer instead),
//! on the database (one node; its connections are not nodes), and on the `write_back`
//! layer when it has several nodes (its unflushed writes are kept for the layer as a
//! whole, so which of them one node's crash would lose is not modelled). On a layer of
//! one node, `node = 0` is the whole layer.
//!
//! # Overlapping windows
//!
//! Windows may overlap, whole-layer and one-node alike: a node is down while any open
//! fault covers it (one naming it, or one of its whole layer), and fails rather than
//! skips while any of those has no fallback. A fault whose layer or node is already
//! down when its window opens crashes nothing (it is already empty); a whole-layer
//! fault opening while one node is down crashes all the others. Each layer-wide and
//! each node's state is a pair of counters, so a lookup costs two array reads.

use serde::{Deserialize, Serialize};

use crate::SimTime;
use crate::base::Invalid;
use crate::layer::{CachePlan, DatabasePlan, LayerKind};
use crate::workload::write::WritePlan;

/// One `[[faults]]` table, as written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// The `name` of the layer that goes down.
    pub layer: String,
    /// Only this node of the layer goes down (from 0; see the [module docs](self)); the
    /// whole layer when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<u32>,
    /// When it goes down, seconds of simulated time.
    pub start_s: f64,
    /// How long it stays down, seconds.
    pub duration_s: f64,
    /// Whether requests skip the layer (`true`) or fail (`false`).
    #[serde(default)]
    pub fallback: bool,
}

/// A validated fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    /// Path position: a cache layer's index, or the number of cache layers for the
    /// database.
    pub layer: usize,
    /// The one node that goes down, below the layer's node count; `None`: all of them.
    pub node: Option<u32>,
    /// When it goes down.
    pub start: SimTime,
    /// When it comes back.
    pub end: SimTime,
    /// Skip (`true`) or fail (`false`).
    pub fallback: bool,
}

/// A path position as a fault sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stop<'a> {
    /// The layer's `name`.
    pub name: &'a str,
    /// Its kind.
    pub kind: LayerKind,
    /// Its nodes (clients for a browser, 1 for the database).
    pub nodes: u32,
    /// Whether it is the `write_back` layer.
    pub write_back: bool,
}

impl<'a> Stop<'a> {
    /// The stops of a path: its `caches` outermost first, then its `database`.
    pub fn path(
        caches: &'a [CachePlan],
        database: &'a DatabasePlan,
        clients: u32,
        writes: &WritePlan,
    ) -> Vec<Stop<'a>> {
        let write_back = writes.write_back.map(|_| caches.len().wrapping_sub(1));
        caches
            .iter()
            .enumerate()
            .map(|(i, c)| Stop {
                name: &c.name,
                kind: c.kind,
                nodes: c.topology.nodes(clients),
                write_back: write_back == Some(i),
            })
            .chain([Stop {
                name: &database.name,
                kind: LayerKind::Database,
                nodes: 1,
                write_back: false,
            }])
            .collect()
    }
}

impl FaultSpec {
    /// Checks the fault against the path (caches outermost first, then the database);
    /// errors name the key under the fault, the bad value and what is allowed.
    pub fn resolve(&self, path: &[Stop<'_>]) -> Result<Fault, Invalid> {
        let Some(layer) = path.iter().position(|s| s.name == self.layer) else {
            let names: Vec<&str> = path.iter().map(|s| s.name).collect();
            return Err(Invalid::new(
                "layer",
                format!(
                    "`{}` is not a layer of this path; layers: {}",
                    self.layer,
                    names.join(", ")
                ),
            ));
        };
        let node = match self.node {
            Some(n) => resolve_node(n, &path[layer])?,
            None => None,
        };
        let is_db = layer + 1 == path.len();
        if is_db && self.fallback {
            return Err(Invalid::new(
                "fallback",
                "is true for the database; nothing lies behind the origin to fall back to \
                 (set it to false: requests reaching it fail)",
            ));
        }
        let secs = |key: &str, v: f64, min: &str, ok: bool| {
            if v.is_finite() && ok {
                Ok(SimTime::from_secs_f64(v))
            } else {
                Err(Invalid::new(
                    key,
                    format!("is {v}; must be a finite number of seconds {min}"),
                ))
            }
        };
        let start = secs("start_s", self.start_s, ">= 0", self.start_s >= 0.0)?;
        let duration = secs("duration_s", self.duration_s, "> 0", self.duration_s > 0.0)?;
        Ok(Fault {
            layer,
            node,
            start,
            end: start + duration,
            fallback: self.fallback,
        })
    }
}

/// `node = n` at `stop`: the node, or `None` for a layer of one node (the whole layer).
fn resolve_node(n: u32, stop: &Stop<'_>) -> Result<Option<u32>, Invalid> {
    let name = stop.name;
    let Some(count_key) = stop.kind.nodes_key() else {
        let why = if stop.kind == LayerKind::Browser {
            format!(
                "`{name}` is a browser layer, whose nodes are the clients' own caches: one \
                 client's cache being unavailable is no outage; omit `node` to take every \
                 client's browser cache down, or set it on a cdn, shield, proxy, in_process \
                 or redis layer"
            )
        } else {
            format!(
                "`{name}` is the database, a single node (its connections are not nodes); omit `node`"
            )
        };
        return Err(Invalid::new("node", format!("is {n}, but {why}")));
    };
    let nodes = stop.nodes;
    if n >= nodes {
        let allowed = if nodes == 1 {
            "only 0 (or omit `node`)".to_string()
        } else {
            format!("0 to {}", nodes - 1)
        };
        return Err(Invalid::new(
            "node",
            format!(
                "is {n}, but layer `{name}` (kind {}) has {nodes} node{} (`{count_key} = \
                 {nodes}`), numbered from 0: allowed {allowed}",
                stop.kind.as_str(),
                if nodes == 1 { "" } else { "s" }
            ),
        ));
    }
    if nodes == 1 {
        return Ok(None);
    }
    if stop.write_back {
        return Err(Invalid::new(
            "node",
            format!(
                "is {n}, but `{name}` is the write_back layer, whose unflushed writes are \
                 kept for the layer as a whole: one node's crash is not modelled there; \
                 omit `node` to take the whole layer down"
            ),
        ));
    }
    Ok(Some(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(layer: &str) -> FaultSpec {
        FaultSpec {
            layer: layer.into(),
            node: None,
            start_s: 1.0,
            duration_s: 2.0,
            fallback: true,
        }
    }

    fn stop(name: &str, kind: LayerKind, nodes: u32) -> Stop<'_> {
        Stop {
            name,
            kind,
            nodes,
            write_back: false,
        }
    }

    /// A browser of 100 clients, an L1 of one instance, Redis of 4 shards, the database.
    fn path() -> [Stop<'static>; 4] {
        [
            stop("b", LayerKind::Browser, 100),
            stop("l1", LayerKind::InProcess, 1),
            stop("redis", LayerKind::Redis, 4),
            stop("db", LayerKind::Database, 1),
        ]
    }

    #[test]
    fn resolves_against_the_path_and_names_bad_keys() {
        let path = path();
        let f = spec("redis").resolve(&path).unwrap();
        assert_eq!(
            (f.layer, f.node, f.end),
            (2, None, SimTime::from_secs_f64(3.0))
        );
        assert_eq!(
            spec("nope").resolve(&path).unwrap_err().key.to_string(),
            "layer"
        );
        assert_eq!(
            spec("db").resolve(&path).unwrap_err().key.to_string(),
            "fallback"
        );
        let neg = FaultSpec {
            duration_s: 0.0,
            ..spec("l1")
        };
        assert_eq!(
            neg.resolve(&path).unwrap_err().key.to_string(),
            "duration_s"
        );
        let bad: Result<FaultSpec, _> =
            toml::from_str("layer = \"l1\"\nstart_s = 1\nduration_s = 1\ncrash = true");
        assert!(bad.is_err(), "unknown keys are rejected");
    }

    #[test]
    fn node_must_name_a_node_of_a_multi_node_cache_layer() {
        let path = path();
        let node = |layer: &str, n: u32| FaultSpec {
            node: Some(n),
            ..spec(layer)
        };
        assert_eq!(node("redis", 3).resolve(&path).unwrap().node, Some(3));
        let e = node("redis", 4).resolve(&path).unwrap_err();
        assert_eq!(e.key.to_string(), "node");
        assert!(
            e.message.contains("shards = 4") && e.message.contains("0 to 3"),
            "{}",
            e.message
        );
        // One node: node 0 is the whole layer, and nothing else exists.
        assert_eq!(node("l1", 0).resolve(&path).unwrap().node, None);
        let e = node("l1", 1).resolve(&path).unwrap_err();
        assert!(e.message.contains("instances = 1"), "{}", e.message);
        let e = node("b", 0).resolve(&path).unwrap_err();
        assert!(e.message.contains("browser"), "{}", e.message);
        let e = FaultSpec {
            fallback: false,
            ..node("db", 0)
        }
        .resolve(&path)
        .unwrap_err();
        assert!(e.message.contains("database"), "{}", e.message);
        let mut wb = path;
        wb[2].write_back = true;
        let e = node("redis", 1).resolve(&wb).unwrap_err();
        assert!(e.message.contains("write_back"), "{}", e.message);
    }
}
