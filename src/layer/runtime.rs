//! A cache layer at run time: its store, how a request picks a node, its latency and its
//! TTLs. It knows its plan ([`CachePlan`]) and calls the [`Store`]; it does not know
//! which kind of store that is, nor the engine that calls it.

use crate::SimTime;
use crate::layer::latency::Latency;
use crate::layer::topology::{Balancer, PopMap, Regions, Ring, Route};
use crate::layer::{CachePlan, Topology};
use crate::store::cache::Meta;
use crate::store::{Store, StoreConfig};

/// A cache layer at run time: its nodes and how a request picks one, its latency and
/// TTL, and its own random stream.
#[derive(Debug)]
pub struct Layer {
    /// Its nodes' entries: lookups and fills go straight to it.
    pub store: Store,
    route: Route,
    latency: Latency,
    /// Round trip client -> node by region (`cdn`), added to `latency`; empty if none.
    rtt: Vec<SimTime>,
    ttl_ns: Option<f64>,
    jitter: f64,
    negative_ttl: Option<SimTime>,
    rng: crate::base::rng::SimRng,
}

/// What a committed write does to a layer's copies of its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WriteEffect {
    /// Delete them.
    Delete,
    /// Store `version` in their place.
    Store {
        /// The committed version.
        version: u32,
        /// The object's size, bytes (1 without content classes).
        size: u32,
    },
}

impl Layer {
    /// An empty layer for `plan` over `keys` keys and `clients` clients in `regions`;
    /// `seed` is the run's, `index` the layer's position in the path. With content
    /// classes, `objects` gives their mean size: the nodes then keep a [`Meta`] per copy
    /// (and can count bytes).
    pub fn new(
        plan: &CachePlan,
        keys: u32,
        regions: &Regions,
        rng: crate::base::rng::SimRng,
        seed: u64,
        index: usize,
        objects: Option<f64>,
    ) -> Self {
        let clients = *regions.first.last().expect("validated regions");
        let store = Store::new(&StoreConfig {
            kind: plan.topology.store(),
            nodes: plan.topology.nodes(clients),
            capacity: plan.capacity,
            capacity_bytes: plan.capacity_bytes,
            policy: &plan.policy,
            keys,
            objects,
            seed: crate::base::rng::mix64(seed ^ crate::base::rng::mix64(0xC0FFEE + index as u64)),
        });
        let salt = crate::layer::topology::hash_salt(seed, index);
        let route = match &plan.topology {
            Topology::Single => Route::Single,
            Topology::PerClient => Route::Client,
            Topology::Pops { pops, .. } => Route::Pop(PopMap::new(*pops, regions)),
            Topology::KeyHash { nodes } => Route::KeyHash { n: *nodes, salt },
            Topology::Ring { shards, vnodes } => Route::Ring(Ring::new(*shards, *vnodes)),
            Topology::Balanced {
                instances,
                balancer,
            } => match balancer {
                Balancer::RoundRobin => Route::RoundRobin {
                    n: *instances,
                    next: 0,
                },
                Balancer::Random => Route::Random {
                    n: *instances,
                    rng: Box::new(crate::base::rng::stream(
                        seed,
                        crate::base::rng::Stream::Balancer(index),
                    )),
                },
                Balancer::KeyHash => Route::KeyHash {
                    n: *instances,
                    salt,
                },
            },
        };
        let rtt = match &plan.topology {
            Topology::Pops { rtt, .. } if rtt.iter().any(|&t| t != SimTime::ZERO) => rtt.clone(),
            _ => Vec::new(),
        };
        Layer {
            store,
            route,
            latency: plan.latency.clone(),
            rtt,
            ttl_ns: plan.ttl.map(|t| t.as_nanos() as f64),
            jitter: plan.jitter,
            negative_ttl: plan.negative_ttl,
            rng,
        }
    }

    /// The node a request for `key` from `client` in `region` consults. A round-robin
    /// or random balancer moves on, so call it once per consultation.
    #[inline]
    pub fn pick(&mut self, key: u32, client: u32, region: u16) -> u32 {
        self.route.pick(key, client, region)
    }

    /// Whether the layer is one node, which every request consults.
    #[inline]
    pub fn is_single(&self) -> bool {
        matches!(self.route, Route::Single)
    }

    /// Whether the layer has a cache per client (a browser): a request's node is its
    /// client.
    #[inline]
    pub fn is_per_client(&self) -> bool {
        matches!(self.route, Route::Client)
    }

    /// Fills `key` at `version` at `now` on every node that may hold it (`sync_expiry`):
    /// its node if keys decide the node, else every node. Browsers are never filled so.
    pub fn fill_homes(&mut self, key: u32, version: u32, size: u32, now: SimTime) {
        self.on_write(key, WriteEffect::Store { version, size }, now);
    }

    /// A committed write reaches the layer: its copies of `key` are deleted or replaced
    /// on every node that may hold one (a CDN purge, an invalidation broadcast to the
    /// app instances). Browser caches are private: no write reaches them, and they keep
    /// their copy until it expires.
    pub fn on_write(&mut self, key: u32, effect: WriteEffect, now: SimTime) {
        let homes = self.homes(key);
        let caches = self.store.shared_mut();
        for n in homes {
            match effect {
                WriteEffect::Delete => {
                    caches[n].invalidate(key);
                }
                WriteEffect::Store { version, size } => {
                    let expires = expiry(self.ttl_ns, self.jitter, &mut self.rng, now);
                    let meta = Meta {
                        born: now,
                        owner: Meta::NO_OWNER,
                        size,
                    };
                    caches[n].fill_with(key, version, expires, meta);
                }
            }
        }
    }

    /// The nodes that may hold `key`: its node if keys decide the node, else all of
    /// them; none for browsers, which no write or purge reaches.
    fn homes(&self, key: u32) -> std::ops::Range<usize> {
        let nodes = self.store.shared().len();
        match self.route.peek(key, 0, 0) {
            Some(n) if self.route.by_key() && nodes > 0 => n as usize..n as usize + 1,
            _ => 0..nodes,
        }
    }

    /// Deletes `key` wherever the layer may hold it (a tag purge); whether a copy was
    /// there.
    pub fn invalidate(&mut self, key: u32) -> bool {
        let homes = self.homes(key);
        let caches = self.store.shared_mut();
        homes.fold(false, |any, n| caches[n].invalidate(key) | any)
    }

    /// Orphans the copies of `key` (`versioned_keys`); whether there was one.
    pub fn orphan(&mut self, key: u32) -> bool {
        let homes = self.homes(key);
        let caches = self.store.shared_mut();
        homes.fold(false, |any, n| caches[n].orphan(key) | any)
    }

    /// Orphans `node`'s copy of `key`, read and found outdated (`versioned_keys`).
    pub fn orphan_at(&mut self, node: u32, key: u32) {
        if let Some(c) = self.store.shared_mut().get_mut(node as usize) {
            c.orphan(key);
        }
    }

    /// Orphaned copies still taking a slot, over all nodes.
    pub fn orphans(&self) -> u64 {
        self.store
            .shared()
            .iter()
            .map(|c| u64::from(c.orphans()))
            .sum()
    }

    /// Empties `node` alone (it crashed, see [`crate::scenario::fault`]); for browsers, nothing.
    pub fn clear_node(&mut self, node: u32) {
        if let Some(c) = self.store.shared_mut().get_mut(node as usize) {
            c.clear();
        }
    }

    /// Deletes `node`'s copy of `key` (a write stored it on a node that is down).
    pub fn invalidate_at(&mut self, node: u32, key: u32) {
        if let Some(c) = self.store.shared_mut().get_mut(node as usize) {
            c.invalidate(key);
        }
    }

    /// Empties every node (the layer crashed).
    pub fn clear(&mut self) {
        self.store.clear();
    }

    /// Prefetches what a lookup of `key` by `client` in `region` will read, in two
    /// stages (see [`Store::prefetch`]): `second` false prefetches the index cell
    /// or a browser's block, `second` true reads the cell and prefetches the entry. Runs
    /// on the node the request will reach or, behind a round-robin or random balancer,
    /// on every instance.
    #[inline(always)]
    pub fn prefetch(&self, second: bool, key: u32, client: u32, region: u16) {
        self.store
            .prefetch(second, key, client, || self.route.peek(key, client, region));
    }

    /// The time this consultation of the layer takes, from a client in `region`.
    #[inline]
    pub fn sample_latency(&mut self, region: u16) -> SimTime {
        let t = self.latency.sample(&mut self.rng);
        match self.rtt.get(region as usize) {
            Some(&rtt) => t + rtt,
            None => t,
        }
    }

    /// The layer's latency from `region` if it is constant there (a constant latency,
    /// plus the region's round trip if the layer has one).
    pub fn constant_latency_in(&self, region: u16) -> Option<SimTime> {
        let rtt = self.rtt.get(region as usize).copied();
        self.latency
            .constant()
            .map(|t| rtt.map_or(t, |rtt| t + rtt))
    }

    /// The layer's latency if it is constant (the same for every region).
    pub fn constant_latency(&self) -> Option<SimTime> {
        if self.rtt.is_empty() {
            self.latency.constant()
        } else {
            None
        }
    }

    /// When a copy filled at `now` expires: `now + ttl * (1 + jitter * U(-1, 1))`.
    #[inline]
    pub fn expiry(&mut self, now: SimTime) -> SimTime {
        expiry(self.ttl_ns, self.jitter, &mut self.rng, now)
    }
}

#[inline]
fn expiry(
    ttl_ns: Option<f64>,
    jitter: f64,
    rng: &mut crate::base::rng::SimRng,
    now: SimTime,
) -> SimTime {
    match ttl_ns {
        None => SimTime::NEVER,
        Some(ttl) if jitter == 0.0 => now + SimTime::from_nanos_f64(ttl),
        Some(ttl) => {
            let u = uniform_minus1_1(rng);
            now + SimTime::from_nanos_f64(ttl * (1.0 + jitter * u))
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
fn uniform_minus1_1(rng: &mut crate::base::rng::SimRng) -> f64 {
    use rand::Rng;
    let one_to_two = f64::from_bits((rng.next_u64() >> 12) | (1023 << 52));
    (one_to_two - 1.0) * 2.0 + -1.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::rng::{Stream, stream};

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
