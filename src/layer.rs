//! Layers: the stops of a request's path, outermost first, ending in the database.
//!
//! [`LayerSpec`] is the scenario's `[[layers]]` table, [`LayerPlan`] its validated form;
//! at run time a cache layer is a [`Layer`]: a [`Store`](crate::store::Store) of nodes (a
//! [`Cache`](crate::store::cache::Cache) each, or for browsers a slice of one arena per
//! client: [`crate::store::browser`]) behind a topology ([`crate::layer::topology`]) and a
//! latency. This module validates what a layer asks of its store through the store's own
//! check ([`StoreKind::check`]); it does not know how a store keeps its entries, nor the
//! engine.
//!
//! Capacities are per node: a `cdn` of 20 PoPs and `capacity = 10_000` holds up to
//! 200k entries in all, a `redis` of 4 shards 4 × `capacity`, a `browser` `capacity`
//! entries in each client.

pub mod http;
pub mod latency;
pub mod overload;
mod runtime;
pub mod stampede;
pub mod topology;

pub use runtime::{Layer, WriteEffect};

use serde::{Deserialize, Serialize};

use crate::SimTime;
use crate::base::Invalid;
use crate::layer::latency::{Latency, LatencySpec};
use crate::layer::overload::{RateLimit, RateLimitSpec, Shed, ShedSpec};
use crate::layer::stampede::{Stampede, StampedeSpec};
use crate::layer::topology::{Balancer, DEFAULT_VNODES, MAX_NODES, Regions};
use crate::policy::PolicySpec;
use crate::store::StoreKind;

/// What a layer models; a path lists them in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LayerKind {
    /// A private cache in each client.
    Browser,
    /// Edge PoPs near users.
    Cdn,
    /// An origin shield in front of the origin.
    Shield,
    /// A reverse-proxy micro-cache at the origin.
    Proxy,
    /// An in-process map inside each app instance.
    InProcess,
    /// A shared cache tier (Redis, Memcached).
    Redis,
    /// The source of truth.
    Database,
}

impl LayerKind {
    /// Every kind, in path order.
    pub const ALL: [LayerKind; 7] = [
        LayerKind::Browser,
        LayerKind::Cdn,
        LayerKind::Shield,
        LayerKind::Proxy,
        LayerKind::InProcess,
        LayerKind::Redis,
        LayerKind::Database,
    ];

    /// The name a scenario uses.
    pub fn as_str(self) -> &'static str {
        match self {
            LayerKind::Browser => "browser",
            LayerKind::Cdn => "cdn",
            LayerKind::Shield => "shield",
            LayerKind::Proxy => "proxy",
            LayerKind::InProcess => "in_process",
            LayerKind::Redis => "redis",
            LayerKind::Database => "database",
        }
    }

    /// The key that sets this kind's node count, if it has several nodes by topology
    /// rather than one per client.
    pub fn nodes_key(self) -> Option<&'static str> {
        match self {
            LayerKind::Cdn => Some("pops"),
            LayerKind::Shield | LayerKind::Proxy => Some("nodes"),
            LayerKind::InProcess => Some("instances"),
            LayerKind::Redis => Some("shards"),
            LayerKind::Browser | LayerKind::Database => None,
        }
    }

    /// Whether it is an HTTP cache, which obeys Cache-Control ([`crate::layer::http`]): the
    /// browser, the CDN, the shield and the reverse proxy. The app tier's caches
    /// (`in_process`, `redis`) hold the application's data behind the HTTP server and
    /// keep it for their own `ttl_s`.
    pub fn speaks_http(self) -> bool {
        match self {
            LayerKind::Browser | LayerKind::Cdn | LayerKind::Shield | LayerKind::Proxy => true,
            LayerKind::InProcess | LayerKind::Redis | LayerKind::Database => false,
        }
    }
}

/// One `[[layers]]` table. Which keys apply depends on `kind`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerSpec {
    /// A unique name, used by `--set layers.NAME.KEY=...` and in reports.
    pub name: String,
    /// What the layer models.
    pub kind: LayerKind,
    /// Cache layers: the most entries held (per node). Give this or `capacity_bytes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u64>,
    /// Shared cache layers: the most bytes held (per node), object sizes coming from
    /// `workload.classes`. Give this or `capacity`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity_bytes: Option<u64>,
    /// Shared cache layers: store `private` and `no_store` responses anyway (a
    /// misconfiguration: a private copy served to another client is a leak). False when
    /// absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_private: Option<bool>,
    /// Cache layers: the eviction policy; LRU when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<PolicySpec>,
    /// Cache layers: seconds a copy stays fresh after its fill; absent means no expiry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl_s: Option<f64>,
    /// Cache layers: each TTL is drawn uniformly from `ttl_s * (1 ± jitter)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter: Option<f64>,
    /// The time to consult the layer (round trip). For the database: the service time of
    /// one query on one connection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency: Option<LatencySpec>,
    /// Database: queries served in parallel; the rest wait in a FIFO queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connections: Option<u32>,
    /// Cache layers: the stampede defence, `{ mode = "none" }` when absent (see
    /// [`crate::layer::stampede`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stampede: Option<StampedeSpec>,
    /// Cache layers: how long after a write commits its effect (delete or store) reaches
    /// this layer, ms; 0 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub propagation_delay_ms: Option<f64>,
    /// Cache layers: a batch of keys filled at one moment, so they expire together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_expiry: Option<SyncExpirySpec>,
    /// `cdn`: edge PoPs, spread over the workload's regions; one per region when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pops: Option<u32>,
    /// `cdn`: each region's round trip from a client to its PoP, ms, added to
    /// `latency`: `{ eu = 10, us = 25 }`, every region of `workload.regions` named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtt_ms: Option<std::collections::BTreeMap<String, f64>>,
    /// `shield`, `proxy`: nodes, a key's node chosen by hashing the key; 1 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<u32>,
    /// `in_process`: app instances, each with its own cache; 1 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instances: Option<u32>,
    /// `in_process`: how the load balancer picks an instance; `round_robin` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub balancer: Option<Balancer>,
    /// `redis`: shards on a consistent-hash ring; 1 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shards: Option<u32>,
    /// `redis`: points per shard on the ring; 64 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vnodes: Option<u32>,
    /// Cache layers: seconds a "not found" answer (a read of a key that does not exist,
    /// `workload.missing_ratio`) is cached; absent means such answers are not stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub negative_ttl_s: Option<f64>,
    /// Any layer: a token bucket in front of it, `{ rps, burst }`; a request that finds
    /// no token is refused (see [`crate::layer::overload`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<RateLimitSpec>,
    /// Database: the most queries waiting for a connection (those in service not
    /// counted); one more is refused at once. Unbounded when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_queue: Option<u64>,
    /// Database: CoDel load shedding, `{ target_ms, interval_ms }`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shed: Option<ShedSpec>,
}

/// How a validated cache layer's nodes are laid out and picked.
#[derive(Clone, Debug, PartialEq)]
pub enum Topology {
    /// One node.
    Single,
    /// One cache per client (`browser`).
    PerClient,
    /// `cdn` PoPs by client region, with each region's round trip.
    Pops {
        /// PoPs.
        pops: u32,
        /// Round trip client -> PoP per region (by region index), added to the latency.
        rtt: Vec<SimTime>,
    },
    /// Nodes by key hash (`shield`, `proxy`).
    KeyHash {
        /// Nodes.
        nodes: u32,
    },
    /// Shards on a consistent-hash ring (`redis`).
    Ring {
        /// Shards.
        shards: u32,
        /// Points per shard.
        vnodes: u32,
    },
    /// App instances behind a load balancer (`in_process`).
    Balanced {
        /// Instances.
        instances: u32,
        /// The balancer.
        balancer: Balancer,
    },
}

impl Topology {
    /// The store its nodes need: a browser cache per client, or a cache per node.
    pub fn store(&self) -> StoreKind {
        match self {
            Topology::PerClient => StoreKind::PerClient,
            _ => StoreKind::Nodes,
        }
    }

    /// Nodes, given the client count (browsers have one per client).
    pub fn nodes(&self, clients: u32) -> u32 {
        match *self {
            Topology::Single => 1,
            Topology::PerClient => clients,
            Topology::Pops { pops, .. } => pops,
            Topology::KeyHash { nodes } => nodes,
            Topology::Ring { shards, .. } => shards,
            Topology::Balanced { instances, .. } => instances,
        }
    }
}

/// `sync_expiry = { keys = 10000, at_s = 0 }`: at `at_s` seconds the layer is filled
/// with keys `0..keys` (the most popular first), all at once, as a deploy, a warm-up
/// script or a restart does. Each copy's expiry is drawn as for any fill, so with
/// `jitter = 0` they all expire at `at_s + ttl_s`, and jitter spreads them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SyncExpirySpec {
    /// How many keys, from key 0.
    pub keys: u64,
    /// When they are filled, seconds of simulated time.
    #[serde(default)]
    pub at_s: f64,
}

/// A validated [`SyncExpirySpec`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SyncExpiry {
    /// Keys `0..keys` are filled.
    pub keys: u32,
    /// When.
    pub at: SimTime,
}

/// A validated cache layer.
#[derive(Clone, Debug)]
pub struct CachePlan {
    /// The layer's name.
    pub name: String,
    /// The layer's kind.
    pub kind: LayerKind,
    /// Entries per node (`u32::MAX` when the layer counts bytes).
    pub capacity: u32,
    /// Bytes per node, if the layer counts bytes.
    pub capacity_bytes: Option<u64>,
    /// Whether it stores private and no-store responses anyway.
    pub ignore_private: bool,
    /// Eviction policy.
    pub policy: PolicySpec,
    /// Time to live after a fill, if any.
    pub ttl: Option<SimTime>,
    /// TTL jitter fraction, in `[0, 1)`.
    pub jitter: f64,
    /// Round-trip latency to consult the layer.
    pub latency: Latency,
    /// The stampede defence.
    pub stampede: Stampede,
    /// A batch fill whose copies expire together, if any.
    pub sync_expiry: Option<SyncExpiry>,
    /// Delay between a write's commit and its effect here.
    pub propagation_delay: SimTime,
    /// Its nodes and how a request picks one.
    pub topology: Topology,
    /// How long a "not found" answer is cached, if it is.
    pub negative_ttl: Option<SimTime>,
    /// Its token bucket, if it has one.
    pub rate_limit: Option<RateLimit>,
}

/// A validated database.
#[derive(Clone, Debug)]
pub struct DatabasePlan {
    /// The layer's name.
    pub name: String,
    /// Parallel connections.
    pub connections: u32,
    /// Service time of one query.
    pub service: Latency,
    /// The service time's distribution as the scenario gives it (its parameters, for
    /// analysis: `theory`'s queueing models read its mean and variance).
    pub service_spec: LatencySpec,
    /// Its token bucket, if it has one.
    pub rate_limit: Option<RateLimit>,
    /// The most queries waiting for a connection, if bounded.
    pub max_queue: Option<u32>,
    /// CoDel load shedding, if on.
    pub shed: Option<Shed>,
}

/// A validated layer.
#[derive(Clone, Debug)]
pub enum LayerPlan {
    /// Any cache kind.
    Cache(CachePlan),
    /// The origin.
    Database(DatabasePlan),
}

impl LayerSpec {
    /// Checks the keys that apply to this layer's kind and rejects the ones that do not;
    /// `regions` are the workload's (a `cdn`'s `rtt_ms` names them).
    pub fn resolve(&self, regions: &Regions) -> Result<LayerPlan, Invalid> {
        let topology = self.topology(regions)?;
        let latency = match &self.latency {
            Some(l) => l.resolve().map_err(|e| e.under("latency"))?,
            None => LatencySpec::default().resolve()?,
        };
        let rate_limit = match &self.rate_limit {
            Some(r) => Some(r.resolve().map_err(|e| e.under("rate_limit"))?),
            None => None,
        };
        if self.kind == LayerKind::Database {
            for (key, set) in [
                ("capacity", self.capacity.is_some()),
                ("capacity_bytes", self.capacity_bytes.is_some()),
                ("ignore_private", self.ignore_private.is_some()),
                ("policy", self.policy.is_some()),
                ("ttl_s", self.ttl_s.is_some()),
                ("jitter", self.jitter.is_some()),
                ("stampede", self.stampede.is_some()),
                ("sync_expiry", self.sync_expiry.is_some()),
                ("propagation_delay_ms", self.propagation_delay_ms.is_some()),
                ("negative_ttl_s", self.negative_ttl_s.is_some()),
            ] {
                if set {
                    return Err(Invalid::new(
                        key,
                        "applies to cache layers, not to kind `database`",
                    ));
                }
            }
            let connections = self.connections.unwrap_or(1);
            if connections == 0 {
                return Err(Invalid::new("connections", "is 0; must be at least 1"));
            }
            let max_queue = match self.max_queue {
                None => None,
                Some(k) if k <= u64::from(u32::MAX) => Some(k as u32),
                Some(k) => {
                    return Err(Invalid::new(
                        "max_queue",
                        format!(
                            "is {k}; must be a number of waiting queries from 0 to {} (omit \
                             it for an unbounded queue)",
                            u32::MAX
                        ),
                    ));
                }
            };
            let shed = match &self.shed {
                Some(s) => Some(s.resolve().map_err(|e| e.under("shed"))?),
                None => None,
            };
            return Ok(LayerPlan::Database(DatabasePlan {
                name: self.name.clone(),
                connections,
                service: latency,
                service_spec: self.latency.clone().unwrap_or_default(),
                rate_limit,
                max_queue,
                shed,
            }));
        }
        for (key, set) in [
            ("connections", self.connections.is_some()),
            ("max_queue", self.max_queue.is_some()),
            ("shed", self.shed.is_some()),
        ] {
            if set {
                return Err(Invalid::new(
                    key,
                    format!(
                        "applies only to kind `database` (the queue for its connections), not \
                         to kind `{}`; a cache layer takes `rate_limit`",
                        self.kind.as_str()
                    ),
                ));
            }
        }
        let capacity = match (self.capacity, self.capacity_bytes) {
            (None, None) => {
                return Err(Invalid::new(
                    "capacity",
                    "is missing; a cache layer needs its size: `capacity` in entries or \
                     `capacity_bytes`",
                ));
            }
            (Some(_), Some(_)) => {
                return Err(Invalid::new(
                    "capacity_bytes",
                    "is set with `capacity`; size the layer in entries or in bytes, not both",
                ));
            }
            (Some(0), _) => return Err(Invalid::new("capacity", "is 0; must be at least 1 entry")),
            (Some(c), _) if c >= u32::MAX as u64 => {
                return Err(Invalid::new(
                    "capacity",
                    format!("is {c}; must be below {}", u32::MAX),
                ));
            }
            (Some(c), _) => c as u32,
            (None, Some(0)) => {
                return Err(Invalid::new(
                    "capacity_bytes",
                    "is 0; must be at least 1 byte",
                ));
            }
            (None, Some(_)) => u32::MAX,
        };
        let store = topology.store();
        store.check(capacity, self.capacity_bytes, self.policy.as_ref())?;
        if self.kind == LayerKind::Browser && self.ignore_private.is_some() {
            return Err(Invalid::new(
                "ignore_private",
                "does not apply to kind `browser`: a browser is the private cache that may \
                 store private responses",
            ));
        }
        if !self.kind.speaks_http() && self.ignore_private.is_some() {
            return Err(Invalid::new(
                "ignore_private",
                format!(
                    "does not apply to kind `{}`, an application cache that ignores \
                     Cache-Control; it applies to the shared HTTP caches: cdn, shield, proxy",
                    self.kind.as_str()
                ),
            ));
        }
        if !store.takes_writes() {
            for (key, set) in [
                ("stampede", self.stampede.is_some()),
                ("sync_expiry", self.sync_expiry.is_some()),
                ("propagation_delay_ms", self.propagation_delay_ms.is_some()),
            ] {
                if set {
                    return Err(Invalid::new(
                        key,
                        "does not apply to kind `browser`: a private cache in each client, \
                         which no write or warm-up script reaches",
                    ));
                }
            }
        }
        // One PoP with round trips is still one node: the defence sees every read.
        let several = topology == Topology::PerClient || topology.nodes(1) > 1;
        if several
            && self
                .stampede
                .as_ref()
                .is_some_and(|s| *s != StampedeSpec::default())
        {
            return Err(Invalid::new(
                "stampede",
                format!(
                    "is set on a layer of several nodes ({}); stampede defences are \
                     modelled for single-node layers only (set {} = 1, or drop the defence)",
                    if topology == Topology::PerClient {
                        "a browser cache per client".to_string()
                    } else {
                        topology.nodes(1).to_string()
                    },
                    self.kind.nodes_key().unwrap_or("nodes")
                ),
            ));
        }
        let ttl = match self.ttl_s {
            None => None,
            Some(t) if t.is_finite() && t > 0.0 => Some(SimTime::from_secs_f64(t)),
            Some(t) => {
                return Err(Invalid::new(
                    "ttl_s",
                    format!(
                        "is {t}; must be a finite number of seconds > 0 (omit it for no expiry)"
                    ),
                ));
            }
        };
        let jitter = self.jitter.unwrap_or(0.0);
        if !(0.0..1.0).contains(&jitter) {
            return Err(Invalid::new(
                "jitter",
                format!("is {jitter}; must be in [0, 1)"),
            ));
        }
        if jitter > 0.0 && ttl.is_none() {
            return Err(Invalid::new(
                "jitter",
                "needs ttl_s: there is no TTL to jitter",
            ));
        }
        if let Some(p) = self.policy.as_ref().filter(|p| p.needs_future()) {
            return Err(Invalid::new(
                "policy",
                format!(
                    "`{p}` needs to know each key's next request, which only trace replay \
                     (`tiersim replay`) has; pick an online policy for a scenario layer"
                ),
            ));
        }
        let stampede = self.stampede.as_ref().map_or(Ok(Stampede::None), |s| {
            s.resolve(ttl.map(|t| t.as_secs_f64()))
                .map_err(|e| e.under("stampede"))
        })?;
        let sync_expiry = match &self.sync_expiry {
            None => None,
            Some(s) => {
                if ttl.is_none() {
                    return Err(Invalid::new(
                        "sync_expiry",
                        "needs ttl_s: copies that never expire cannot expire together",
                    ));
                }
                if s.keys == 0 || s.keys > capacity as u64 || self.capacity_bytes.is_some() {
                    return Err(Invalid::new(
                        "sync_expiry.keys",
                        format!(
                            "is {}; must be between 1 and the layer's capacity ({capacity}), \
                             which must be in entries",
                            s.keys
                        ),
                    ));
                }
                if !(s.at_s.is_finite() && s.at_s >= 0.0) {
                    return Err(Invalid::new(
                        "sync_expiry.at_s",
                        format!("is {}; must be a finite number of seconds >= 0", s.at_s),
                    ));
                }
                Some(SyncExpiry {
                    keys: s.keys as u32,
                    at: SimTime::from_secs_f64(s.at_s),
                })
            }
        };
        let propagation_delay = match self.propagation_delay_ms {
            None => SimTime::ZERO,
            Some(d) if d.is_finite() && d >= 0.0 => SimTime::from_secs_f64(d / 1e3),
            Some(d) => {
                return Err(Invalid::new(
                    "propagation_delay_ms",
                    format!("is {d}; must be a finite number of milliseconds >= 0"),
                ));
            }
        };
        let negative_ttl = match self.negative_ttl_s {
            None => None,
            Some(t) if t.is_finite() && t > 0.0 => Some(SimTime::from_secs_f64(t)),
            Some(t) => {
                return Err(Invalid::new(
                    "negative_ttl_s",
                    format!(
                        "is {t}; must be a finite number of seconds > 0 (omit it not to cache \"not found\")"
                    ),
                ));
            }
        };
        Ok(LayerPlan::Cache(CachePlan {
            rate_limit,
            topology,
            negative_ttl,
            propagation_delay,
            stampede,
            sync_expiry,
            name: self.name.clone(),
            kind: self.kind,
            capacity,
            capacity_bytes: self.capacity_bytes,
            ignore_private: self.ignore_private.unwrap_or(false),
            policy: self.policy.clone().unwrap_or_default(),
            ttl,
            jitter,
            latency,
        }))
    }
}

impl LayerSpec {
    /// Checks the topology keys (`pops`, `rtt_ms`, `nodes`, `instances`, `balancer`,
    /// `shards`, `vnodes`): each applies to one kind only.
    fn topology(&self, regions: &Regions) -> Result<Topology, Invalid> {
        let kind = self.kind;
        let only = |key: &str, set: bool, owner: LayerKind| {
            if set && kind != owner {
                Err(Invalid::new(
                    key,
                    format!(
                        "applies only to kind `{}`, not to `{}`",
                        owner.as_str(),
                        kind.as_str()
                    ),
                ))
            } else {
                Ok(())
            }
        };
        only("pops", self.pops.is_some(), LayerKind::Cdn)?;
        only("rtt_ms", self.rtt_ms.is_some(), LayerKind::Cdn)?;
        if self.nodes.is_some() && !matches!(kind, LayerKind::Shield | LayerKind::Proxy) {
            return Err(Invalid::new(
                "nodes",
                format!(
                    "applies only to kinds `shield` and `proxy`, not to `{}`{}",
                    kind.as_str(),
                    kind.nodes_key()
                        .map(|k| format!(" (its key is `{k}`)"))
                        .unwrap_or_default()
                ),
            ));
        }
        only("instances", self.instances.is_some(), LayerKind::InProcess)?;
        only("balancer", self.balancer.is_some(), LayerKind::InProcess)?;
        only("shards", self.shards.is_some(), LayerKind::Redis)?;
        only("vnodes", self.vnodes.is_some(), LayerKind::Redis)?;
        let count = |key: &str, v: Option<u32>, default: u32| match v.unwrap_or(default) {
            0 => Err(Invalid::new(key, "is 0; must be at least 1")),
            n if n > MAX_NODES => Err(Invalid::new(
                key,
                format!("is {n}; must be at most {MAX_NODES}"),
            )),
            n => Ok(n),
        };
        Ok(match kind {
            LayerKind::Database => Topology::Single,
            LayerKind::Browser => Topology::PerClient,
            LayerKind::Cdn => {
                let pops = count("pops", self.pops, regions.len() as u32)?;
                if (pops as usize) < regions.len() {
                    return Err(Invalid::new(
                        "pops",
                        format!(
                            "is {pops}; each of the workload's {} regions needs a PoP of its own",
                            regions.len()
                        ),
                    ));
                }
                let mut rtt = vec![SimTime::ZERO; regions.len()];
                if let Some(map) = &self.rtt_ms {
                    for (name, &ms) in map {
                        let Some(r) = regions.names.iter().position(|n| n == name) else {
                            return Err(Invalid::new(
                                "rtt_ms",
                                format!(
                                    "names region `{name}`, which workload.regions does not \
                                     have; its regions: {}",
                                    regions.names.join(", ")
                                ),
                            ));
                        };
                        if !(ms.is_finite() && ms >= 0.0) {
                            return Err(Invalid::new(
                                &format!("rtt_ms.{name}"),
                                format!("is {ms}; must be a finite number of milliseconds >= 0"),
                            ));
                        }
                        rtt[r] = SimTime::from_millis_f64(ms);
                    }
                    if let Some(missing) = regions.names.iter().find(|n| !map.contains_key(*n)) {
                        return Err(Invalid::new(
                            "rtt_ms",
                            format!(
                                "has no entry for region `{missing}`; give every region of \
                                 workload.regions its round trip ({})",
                                regions.names.join(", ")
                            ),
                        ));
                    }
                }
                if pops == 1 && rtt.iter().all(|&t| t == SimTime::ZERO) {
                    Topology::Single
                } else {
                    Topology::Pops { pops, rtt }
                }
            }
            LayerKind::Shield | LayerKind::Proxy => match count("nodes", self.nodes, 1)? {
                1 => Topology::Single,
                nodes => Topology::KeyHash { nodes },
            },
            LayerKind::InProcess => {
                let balancer = self.balancer.unwrap_or_default();
                match count("instances", self.instances, 1)? {
                    1 => Topology::Single,
                    instances => Topology::Balanced {
                        instances,
                        balancer,
                    },
                }
            }
            LayerKind::Redis => {
                let vnodes = count("vnodes", self.vnodes, DEFAULT_VNODES)?;
                match count("shards", self.shards, 1)? {
                    1 => Topology::Single,
                    shards => Topology::Ring { shards, vnodes },
                }
            }
        })
    }
}
