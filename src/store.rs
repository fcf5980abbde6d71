//! The cache store: entries, their index and the fill protocol (admit, make room, evict,
//! bypass), one for every cache the simulator keeps: scenario layers, browsers and
//! replay. It knows policies, not layers, requests or the engine.
//!
//! | piece | module |
//! |---|---|
//! | the fill protocol, generic over where slots live ([`fill::Slots`]) | [`fill`] |
//! | one cache node: entries, metas, a byte or entry budget | [`cache`] |
//! | its key -> slot index, dense or hashed | [`index`] |
//! | one small LRU cache per client, in one arena | [`browser`] |
//! | a layer's store: its nodes, whichever kind ([`Store`], [`StoreKind`]) | here |
//!
//! Replay (`crate::replay`) keeps its own slots, keyed by trace ids, and runs the same
//! protocol over them.

pub mod browser;
pub mod cache;
pub mod fill;
pub mod index;

pub use fill::{Fill, Lookup};

use crate::SimTime;
use crate::base::Invalid;
use crate::policy::{Capacity, PolicySpec};
use browser::{Browsers, MAX_BROWSER_CAPACITY};
use cache::Cache;

/// What a cache with content classes keeps about a copy besides its version and expiry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Meta {
    /// When the origin generated the response: a copy's age is `now - born`.
    pub born: SimTime,
    /// The client it was fetched for ([`Meta::NO_OWNER`] for a write's copy).
    pub owner: u32,
    /// The object's size, bytes.
    pub size: u32,
}

impl Meta {
    /// The owner of a copy that no client fetched (a write stored it).
    pub const NO_OWNER: u32 = u32::MAX;

    /// A one-byte copy born at 0 for nobody: what a cache without classes records.
    pub const UNIT: Meta = Meta {
        born: SimTime::ZERO,
        owner: Meta::NO_OWNER,
        size: 1,
    };
}

/// Which store a cache layer's nodes use, and so what the layer may ask of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StoreKind {
    /// A [`Cache`] per node: any policy, a budget in entries or bytes, a [`Meta`] per
    /// copy with content classes; writes, purges and warm-up fills reach its copies.
    Nodes,
    /// One small cache per client in one [`Browsers`] arena: at most
    /// [`MAX_BROWSER_CAPACITY`] entries each, LRU order only, no metas (so no `Age` or
    /// owner); private, so no write, purge or warm-up fill reaches it.
    PerClient,
}

impl StoreKind {
    /// Refuses what this store cannot do of what a layer asks of it, naming the key:
    /// `capacity` (entries per node; `u32::MAX` when sized in bytes), `capacity_bytes`
    /// and `policy` (`None`: the default, LRU).
    ///
    /// ```
    /// use tiersim::policy::PolicySpec;
    /// use tiersim::store::StoreKind;
    ///
    /// let fifo = PolicySpec::from_name("fifo").unwrap();
    /// assert!(StoreKind::Nodes.check(100, None, Some(&fifo)).is_ok());
    /// let e = StoreKind::PerClient.check(100, None, Some(&fifo)).unwrap_err();
    /// assert_eq!(e.to_string(), "key `policy`: is `fifo`; a browser cache keeps LRU order only; remove the key or use lru");
    /// ```
    pub fn check(
        self,
        capacity: u32,
        capacity_bytes: Option<u64>,
        policy: Option<&PolicySpec>,
    ) -> Result<(), Invalid> {
        if self == StoreKind::Nodes {
            return Ok(());
        }
        if capacity_bytes.is_some() {
            return Err(Invalid::new(
                "capacity_bytes",
                "does not apply to kind `browser`, whose per-client cache counts entries; \
                 use `capacity`",
            ));
        }
        if capacity > MAX_BROWSER_CAPACITY {
            return Err(Invalid::new(
                "capacity",
                format!(
                    "is {capacity}; a browser cache holds at most {MAX_BROWSER_CAPACITY} \
                     entries per client (it is scanned on every lookup)"
                ),
            ));
        }
        if let Some(p) = policy.filter(|p| p.name() != "lru") {
            return Err(Invalid::new(
                "policy",
                format!(
                    "is `{p}`; a browser cache keeps LRU order only; remove the key or use lru"
                ),
            ));
        }
        Ok(())
    }

    /// Whether writes, purges and warm-up fills reach the copies it holds.
    pub fn takes_writes(self) -> bool {
        self == StoreKind::Nodes
    }
}

/// What a layer's store is built from.
#[derive(Clone, Copy, Debug)]
pub struct StoreConfig<'a> {
    /// The kind of store.
    pub kind: StoreKind,
    /// Nodes: the layer's nodes, or its clients for a per-client store.
    pub nodes: u32,
    /// Entries per node (`u32::MAX` when the budget is in bytes).
    pub capacity: u32,
    /// Bytes per node, if the budget is in bytes.
    pub capacity_bytes: Option<u64>,
    /// Each node's policy.
    pub policy: &'a PolicySpec,
    /// The key space, `0..keys`.
    pub keys: u32,
    /// With content classes, the objects' mean size: the nodes then keep a [`Meta`] per
    /// copy (and can count bytes).
    pub objects: Option<f64>,
    /// Node 0's policy seed; the others' are derived from it.
    pub seed: u64,
}

/// A cache layer's copies: its nodes' caches, or its clients' browser caches. A node
/// is an index below the layer's node count (a client, for a per-client store).
#[derive(Debug)]
pub struct Store(Nodes);

/// The nodes of a [`Store`].
// A single node stays in place, unboxed: the app tier's lookups would otherwise pay a
// pointer chase each.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
enum Nodes {
    /// One node, held in place.
    One(Cache),
    /// One [`Cache`] per node.
    Caches(Vec<Cache>),
    /// One browser cache per client.
    Browsers(Browsers),
}

impl Store {
    /// An empty store as `config` says.
    pub fn new(config: &StoreConfig<'_>) -> Self {
        let StoreConfig {
            kind,
            nodes,
            capacity,
            capacity_bytes,
            policy,
            keys,
            objects,
            seed,
        } = *config;
        let build = |s: u64| -> Cache {
            match (objects, capacity_bytes) {
                (None, None) => {
                    Cache::new(capacity, keys, policy.build(capacity.min(keys) as usize, s))
                }
                (_, bytes) => {
                    // A byte budget holds about budget / mean size objects.
                    let slots = bytes.map_or(capacity as u64, |b| {
                        (b as f64 / objects.unwrap_or(1.0).max(1.0)).ceil() as u64
                    });
                    let units = Capacity {
                        units: bytes.unwrap_or(capacity as u64),
                        slots_hint: slots.min(keys as u64) as usize,
                    };
                    Cache::with_meta(capacity, bytes, keys, policy.build_sized(units, s))
                }
            }
        };
        Store(match kind {
            StoreKind::PerClient => Nodes::Browsers(Browsers::new(nodes, capacity)),
            StoreKind::Nodes if nodes == 1 => Nodes::One(build(seed)),
            StoreKind::Nodes => Nodes::Caches(
                (0..nodes)
                    .map(|n| {
                        // Node 0 keeps the seed a single-node layer always had.
                        build(if n == 0 {
                            seed
                        } else {
                            crate::base::rng::mix64(seed ^ u64::from(n))
                        })
                    })
                    .collect(),
            ),
        })
    }

    /// Looks `key` up at `node` at `now`.
    #[inline(always)]
    pub fn get(&mut self, node: u32, key: u32, now: SimTime) -> Lookup {
        match &mut self.0 {
            Nodes::One(c) => c.get(key, now),
            Nodes::Caches(c) => c[node as usize].get(key, now),
            Nodes::Browsers(b) => b.get(node, key, now),
        }
    }

    /// `key`'s version and expiry at `node`, fresh or not, touching nothing.
    #[inline(always)]
    pub fn peek(&self, node: u32, key: u32) -> Option<(u32, SimTime)> {
        match &self.0 {
            Nodes::One(c) => c.peek(key),
            Nodes::Caches(c) => c[node as usize].peek(key),
            Nodes::Browsers(b) => b.peek(node, key),
        }
    }

    /// Stores `key` at `node`.
    #[inline(always)]
    pub fn fill(&mut self, node: u32, key: u32, version: u32, expires: SimTime) -> Fill {
        match &mut self.0 {
            Nodes::One(c) => c.fill(key, version, expires),
            Nodes::Caches(c) => c[node as usize].fill(key, version, expires),
            Nodes::Browsers(b) => b.fill(node, key, version, expires),
        }
    }

    /// Stores `key` at `node` with its [`Meta`], which a per-client store does not keep.
    #[inline(always)]
    pub fn fill_with(
        &mut self,
        node: u32,
        key: u32,
        version: u32,
        expires: SimTime,
        meta: Meta,
    ) -> Fill {
        match &mut self.0 {
            Nodes::One(c) => c.fill_with(key, version, expires, meta),
            Nodes::Caches(c) => c[node as usize].fill_with(key, version, expires, meta),
            Nodes::Browsers(b) => b.fill(node, key, version, expires),
        }
    }

    /// The [`Meta`] of `node`'s copy of `key`, if resident and kept.
    #[inline(always)]
    pub fn meta(&self, node: u32, key: u32) -> Option<Meta> {
        match &self.0 {
            Nodes::One(c) => c.meta(key),
            Nodes::Caches(c) => c[node as usize].meta(key),
            Nodes::Browsers(_) => None,
        }
    }

    /// The nodes that writes, purges, orphaning and crashes of a node reach, one
    /// [`Cache`] each; none in a per-client store ([`StoreKind::takes_writes`]).
    #[inline]
    pub fn shared(&self) -> &[Cache] {
        match &self.0 {
            Nodes::One(c) => std::slice::from_ref(c),
            Nodes::Caches(c) => c,
            Nodes::Browsers(_) => &[],
        }
    }

    /// [`shared`](Self::shared), to change them.
    #[inline]
    pub fn shared_mut(&mut self) -> &mut [Cache] {
        match &mut self.0 {
            Nodes::One(c) => std::slice::from_mut(c),
            Nodes::Caches(c) => c,
            Nodes::Browsers(_) => &mut [],
        }
    }

    /// Empties every node (the layer crashed).
    pub fn clear(&mut self) {
        match &mut self.0 {
            Nodes::One(c) => c.clear(),
            Nodes::Caches(caches) => caches.iter_mut().for_each(Cache::clear),
            Nodes::Browsers(b) => b.clear(),
        }
    }

    /// Prefetches what a lookup of `key` by `client` will read, in two stages (see
    /// [`Cache::prefetch_index`]): `second` false prefetches the index cell or the
    /// client's browser block, `second` true reads the cell and prefetches the entry (a
    /// browser has no second stage). Of several nodes it reads ahead on the one `node`
    /// names, or on all if it names none.
    #[inline(always)]
    pub fn prefetch(
        &self,
        second: bool,
        key: u32,
        client: u32,
        node: impl FnOnce() -> Option<u32>,
    ) {
        let stage = |c: &Cache| {
            if second {
                c.prefetch_entry(key)
            } else {
                c.prefetch_index(key)
            }
        };
        match &self.0 {
            Nodes::One(c) => stage(c),
            Nodes::Caches(c) => match node() {
                Some(n) => stage(&c[n as usize]),
                None => c.iter().for_each(stage),
            },
            Nodes::Browsers(b) => {
                if !second {
                    b.prefetch(client)
                }
            }
        }
    }

    /// Entries resident at `node`.
    pub fn len(&self, node: u32) -> u32 {
        match &self.0 {
            Nodes::One(c) => c.len(),
            Nodes::Caches(c) => c[node as usize].len(),
            Nodes::Browsers(b) => b.len(node),
        }
    }

    /// Bytes the copies take, excluding policy state: per node, its entries and metas
    /// and its key index, as allocated now; for browsers the arena.
    pub fn bytes(&self) -> usize {
        let node = |n: &Cache| n.entry_bytes() + n.index_bytes();
        match &self.0 {
            Nodes::One(c) => node(c),
            Nodes::Caches(c) => c.iter().map(node).sum(),
            Nodes::Browsers(b) => b.bytes(),
        }
    }
}
