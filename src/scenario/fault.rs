//! Faults: a layer, or one node of it, down for a window of simulated time, and what
//! requests do about it.
//!
//! A scenario's `[[faults]]` array deserializes into [`FaultSpec`]s and resolves, against
//! the path, into [`Fault`]s: plain data naming a path position (cache layers `0..n`
//! outermost first, the database at `n`), optionally one node of it, and a window
//! `[start, end)`. At run time the engine turns each fault into two events and keeps a
//! [`FaultState`], which answers "what does a request find at position `i`, node `n`,
//! now?" with a [`Status`], in constant time.
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

/// What a request finds at a path position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Working.
    Up,
    /// Down, with fallback: skip it.
    Skip,
    /// Down, without fallback: fail.
    Fail,
}

/// Open faults with fallback and without, over one layer or one node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Open {
    skip: u16,
    fail: u16,
}

impl Open {
    #[inline]
    fn status(self) -> Status {
        if self.fail > 0 {
            Status::Fail
        } else if self.skip > 0 {
            Status::Skip
        } else {
            Status::Up
        }
    }

    fn count(&mut self, fallback: bool) -> &mut u16 {
        if fallback {
            &mut self.skip
        } else {
            &mut self.fail
        }
    }
}

/// Which positions and nodes are down now. Windows may overlap: a node is down while
/// any open fault covers it (its layer's or its own), and fails rather than skips while
/// any of those has no fallback.
#[derive(Clone, Debug)]
pub struct FaultState {
    /// Whole-layer faults open, per position.
    layer: Vec<Open>,
    /// Per position, where its nodes' counts start in `node` and how many there are:
    /// nodes `0..=max` of those some fault names (none for most positions).
    nodes: Vec<(u32, u32)>,
    /// One-node faults open, per node of the positions that have them.
    node: Vec<Open>,
}

impl FaultState {
    /// Everything up, for a path of `positions` layers (caches and the database) and the
    /// plan's `faults`.
    pub fn new(positions: usize, faults: &[Fault]) -> Self {
        let mut len = vec![0u32; positions];
        for f in faults {
            if let Some(n) = f.node {
                len[f.layer] = len[f.layer].max(n + 1);
            }
        }
        let mut base = 0;
        let nodes = len
            .iter()
            .map(|&l| {
                base += l;
                (base - l, l)
            })
            .collect();
        FaultState {
            layer: vec![Open::default(); positions],
            nodes,
            node: vec![Open::default(); base as usize],
        }
    }

    /// What a request finds at `position` as a whole: whole-layer faults only (for the
    /// database and single-node layers, which have no one-node faults).
    #[inline]
    pub fn status(&self, position: usize) -> Status {
        self.layer[position].status()
    }

    /// What a request routed to `node` of `position` finds: down if its layer or the
    /// node is, failing if either fails.
    #[inline]
    pub fn status_at(&self, position: usize, node: u32) -> Status {
        let layer = self.layer[position];
        let (base, len) = self.nodes[position];
        if node >= len {
            return layer.status();
        }
        let own = self.node[(base + node) as usize];
        Open {
            skip: layer.skip | own.skip,
            fail: layer.fail | own.fail,
        }
        .status()
    }

    /// The nodes of `position` down by a one-node fault now (not those down with their
    /// whole layer).
    pub fn down_nodes(&self, position: usize) -> impl Iterator<Item = u32> + '_ {
        let (base, len) = self.nodes[position];
        self.node[base as usize..(base + len) as usize]
            .iter()
            .enumerate()
            .filter(|(_, o)| o.status() != Status::Up)
            .map(|(n, _)| n as u32)
    }

    fn open(&mut self, fault: &Fault) -> &mut Open {
        match fault.node {
            None => &mut self.layer[fault.layer],
            Some(n) => &mut self.node[(self.nodes[fault.layer].0 + n) as usize],
        }
    }

    /// `fault`'s window opens; returns whether what it takes down (its layer, or its
    /// node) was up until now, so the crash happens.
    pub fn begin(&mut self, fault: &Fault) -> bool {
        let was_up = match fault.node {
            None => self.status(fault.layer) == Status::Up,
            Some(n) => self.status_at(fault.layer, n) == Status::Up,
        };
        *self.open(fault).count(fault.fallback) += 1;
        was_up
    }

    /// `fault`'s window closes.
    pub fn end(&mut self, fault: &Fault) {
        *self.open(fault).count(fault.fallback) -= 1;
    }
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

    fn fault(node: Option<u32>, fallback: bool) -> Fault {
        Fault {
            layer: 0,
            node,
            start: SimTime::ZERO,
            end: SimTime::ZERO,
            fallback,
        }
    }

    #[test]
    fn overlapping_windows_fail_while_any_has_no_fallback() {
        let (skip, fail) = (fault(None, true), fault(None, false));
        let mut s = FaultState::new(2, &[skip, fail]);
        assert!(s.begin(&skip));
        assert_eq!(s.status(0), Status::Skip);
        assert!(!s.begin(&fail), "already down: no second crash");
        assert_eq!(s.status(0), Status::Fail);
        s.end(&fail);
        assert_eq!(s.status(0), Status::Skip);
        s.end(&skip);
        assert_eq!(s.status(0), Status::Up);
        assert_eq!(s.status(1), Status::Up);
    }

    #[test]
    fn node_faults_compose_with_each_other_and_with_their_layer() {
        let layer = fault(None, true);
        let (n2_fail, n2_skip, n0_skip) = (
            fault(Some(2), false),
            fault(Some(2), true),
            fault(Some(0), true),
        );
        let mut s = FaultState::new(2, &[layer, n2_fail, n2_skip, n0_skip]);
        let all = |s: &FaultState| (0..5).map(|n| s.status_at(0, n)).collect::<Vec<_>>();
        use Status::{Fail, Skip, Up};
        assert!(s.begin(&n2_skip), "node 2 crashes");
        assert_eq!(all(&s), [Up, Up, Skip, Up, Up]);
        assert_eq!(s.status(0), Up, "the layer as a whole is up");
        assert_eq!(s.down_nodes(0).collect::<Vec<_>>(), [2]);
        assert!(!s.begin(&n2_fail), "node 2 is down already");
        assert_eq!(all(&s), [Up, Up, Fail, Up, Up]);
        assert!(s.begin(&layer), "the rest of the layer crashes");
        assert_eq!(all(&s), [Skip, Skip, Fail, Skip, Skip]);
        assert!(!s.begin(&n0_skip), "node 0 is down with its layer");
        s.end(&layer);
        assert_eq!(all(&s), [Skip, Up, Fail, Up, Up]);
        assert_eq!(s.down_nodes(0).collect::<Vec<_>>(), [0, 2]);
        s.end(&n2_fail);
        s.end(&n0_skip);
        assert_eq!(all(&s), [Up, Up, Skip, Up, Up]);
        s.end(&n2_skip);
        assert_eq!(all(&s), [Up; 5]);
        assert_eq!(s.down_nodes(0).count(), 0);
        assert_eq!(s.status_at(1, 2), Up, "another position has no node table");
    }
}
