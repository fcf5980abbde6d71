//! Layers: the stops of a request's path, outermost first, ending in the database.
//!
//! Every cache layer is the same [`Cache`](crate::cache::Cache) store behind a topology
//! and a latency; [`LayerSpec`] is the scenario's `[[layers]]` table and [`LayerPlan`]
//! its validated form.

use serde::{Deserialize, Serialize};

use crate::SimTime;
use crate::latency::{Latency, LatencySpec};
use crate::policy::PolicySpec;
use crate::scenario::Invalid;
use crate::stampede::{Stampede, StampedeSpec};

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

    /// Whether the simulator models this kind yet. Browser, CDN, shield and proxy need
    /// their topology and HTTP semantics, which are not built; running them as a plain
    /// cache would give numbers that look right and are not.
    pub fn is_supported(self) -> bool {
        match self {
            LayerKind::InProcess | LayerKind::Redis | LayerKind::Database => true,
            LayerKind::Browser | LayerKind::Cdn | LayerKind::Shield | LayerKind::Proxy => false,
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
    /// Cache layers: the most entries held (per node).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<u64>,
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
    /// [`crate::stampede`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stampede: Option<StampedeSpec>,
    /// Cache layers: how long after a write commits its effect (delete or store) reaches
    /// this layer, ms; 0 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub propagation_delay_ms: Option<f64>,
    /// Cache layers: a batch of keys filled at one moment, so they expire together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_expiry: Option<SyncExpirySpec>,
    /// Cache layers: seconds a "not found" answer (a read of a key that does not exist,
    /// `workload.missing_ratio`) is cached; absent means such answers are not stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub negative_ttl_s: Option<f64>,
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
    /// Entries per node.
    pub capacity: u32,
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
    /// How long a "not found" answer is cached, if it is.
    pub negative_ttl: Option<SimTime>,
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
    /// Checks the keys that apply to this layer's kind and rejects the ones that do not.
    pub fn resolve(&self) -> Result<LayerPlan, Invalid> {
        if !self.kind.is_supported() {
            return Err(Invalid::new(
                "kind",
                format!(
                    "`{}` is not modelled yet (its topology and HTTP rules are still to be built); \
                     supported kinds: in_process, redis, database",
                    self.kind.as_str()
                ),
            ));
        }
        let latency = match &self.latency {
            Some(l) => l.resolve().map_err(|e| e.under("latency"))?,
            None => LatencySpec::default().resolve()?,
        };
        if self.kind == LayerKind::Database {
            for (key, set) in [
                ("capacity", self.capacity.is_some()),
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
            return Ok(LayerPlan::Database(DatabasePlan {
                name: self.name.clone(),
                connections,
                service: latency,
            }));
        }
        if self.connections.is_some() {
            return Err(Invalid::new(
                "connections",
                "applies only to kind `database`",
            ));
        }
        let capacity = match self.capacity {
            None => {
                return Err(Invalid::new(
                    "capacity",
                    "is missing; a cache layer needs its size in entries",
                ));
            }
            Some(0) => return Err(Invalid::new("capacity", "is 0; must be at least 1 entry")),
            Some(c) if c >= u32::MAX as u64 => {
                return Err(Invalid::new(
                    "capacity",
                    format!("is {c}; must be below {}", u32::MAX),
                ));
            }
            Some(c) => c as u32,
        };
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
            s.resolve().map_err(|e| e.under("stampede"))
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
                if s.keys == 0 || s.keys > capacity as u64 {
                    return Err(Invalid::new(
                        "sync_expiry.keys",
                        format!(
                            "is {}; must be between 1 and the layer's capacity ({capacity})",
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
            negative_ttl,
            propagation_delay,
            stampede,
            sync_expiry,
            name: self.name.clone(),
            kind: self.kind,
            capacity,
            policy: self.policy.clone().unwrap_or_default(),
            ttl,
            jitter,
            latency,
        }))
    }
}

/// A cache layer at run time: its store, latency and TTL, and its own random stream.
#[derive(Debug)]
pub struct Layer {
    /// The layer's store.
    pub cache: crate::cache::Cache,
    latency: Latency,
    ttl_ns: Option<f64>,
    jitter: f64,
    negative_ttl: Option<SimTime>,
    rng: crate::rng::SimRng,
}

impl Layer {
    /// An empty layer for `plan` over `keys` keys.
    pub fn new(plan: &CachePlan, keys: u32, rng: crate::rng::SimRng, policy_seed: u64) -> Self {
        let hint = plan.capacity.min(keys) as usize;
        Layer {
            cache: crate::cache::Cache::new(
                plan.capacity,
                keys,
                plan.policy.build(hint, policy_seed),
            ),
            latency: plan.latency.clone(),
            ttl_ns: plan.ttl.map(|t| t.as_nanos() as f64),
            jitter: plan.jitter,
            negative_ttl: plan.negative_ttl,
            rng,
        }
    }

    /// The time this consultation of the layer takes.
    #[inline]
    pub fn sample_latency(&mut self) -> SimTime {
        self.latency.sample(&mut self.rng)
    }

    /// The layer's latency if it is constant.
    pub fn constant_latency(&self) -> Option<SimTime> {
        self.latency.constant()
    }

    /// When a copy filled at `now` expires: `now + ttl * (1 + jitter * U(-1, 1))`.
    #[inline]
    pub fn expiry(&mut self, now: SimTime) -> SimTime {
        match self.ttl_ns {
            None => SimTime::NEVER,
            Some(ttl) if self.jitter == 0.0 => now + SimTime::from_nanos_f64(ttl),
            Some(ttl) => {
                let u = uniform_minus1_1(&mut self.rng);
                now + SimTime::from_nanos_f64(ttl * (1.0 + self.jitter * u))
            }
        }
    }
}

impl Layer {
    /// When a "not found" answer stored at `now` expires, if the layer stores them.
    pub fn negative_expiry(&self, now: SimTime) -> Option<SimTime> {
        self.negative_ttl.map(|t| now + t)
    }
}

/// A draw on [-1, 1), bit for bit what `rng.random_range(-1.0..=1.0)` gives in rand
/// 0.10 (52 random mantissa bits, a value in [1, 2), minus one, times the width 2, plus
/// the low end), without that call's per-draw range checks: a fill with TTL jitter
/// draws one, and fills come once or twice per request.
#[inline]
fn uniform_minus1_1(rng: &mut crate::rng::SimRng) -> f64 {
    use rand::Rng;
    let one_to_two = f64::from_bits((rng.next_u64() >> 12) | (1023 << 52));
    (one_to_two - 1.0) * 2.0 + -1.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Stream, stream};

    #[test]
    fn jitter_draws_match_rand() {
        use rand::RngExt;
        let (mut a, mut b) = (stream(4, Stream::Layer(0)), stream(4, Stream::Layer(0)));
        for _ in 0..10_000 {
            let want: f64 = a.random_range(-1.0..=1.0);
            assert_eq!(uniform_minus1_1(&mut b).to_bits(), want.to_bits());
        }
    }
}
