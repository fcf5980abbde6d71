//! Topology: how a request picks the node it consults within a layer.
//!
//! Every cache layer is a set of nodes of the same [`Cache`](crate::store::cache::Cache) (or,
//! for browsers, one slice of an arena per client); this module decides which node a
//! request reaches:
//!
//! | layer | nodes | a request's node |
//! |---|---|---|
//! | `browser` | one per client | its client's |
//! | `cdn` | `pops` | its client's region's PoP ([`Regions`], [`PopMap`]) |
//! | `shield`, `proxy` | `nodes` (1 by default) | key hash ([`key_hash`]) |
//! | `in_process` | `instances` | the load balancer ([`Balancer`]) |
//! | `redis` | `shards` | a consistent-hash ring ([`Ring`]) |
//!
//! A request remembers the node it consulted at each layer, so its response fills the
//! same node on the way back (a round-robin or random pick cannot be recomputed).
//!
//! It knows nodes, keys, clients and regions, not the caches on the nodes, the
//! requests' path or the engine that routes them.

use rand::Rng;
use serde::{Deserialize, Serialize};
use strength_reduce::StrengthReducedU32;

use crate::base::Invalid;
use crate::base::rng::{SimRng, mix64};

/// The most nodes one layer may have (other than browsers): node ids are `u16`.
pub const MAX_NODES: u32 = u16::MAX as u32;

/// `n` buckets of a uniform 64-bit hash, without a division (Lemire's multiply-shift).
#[inline]
pub fn bucket(h: u64, n: u32) -> u32 {
    ((u128::from(h) * u128::from(n)) >> 64) as u32
}

/// A key's node among `n` by plain hashing (shield and proxy `nodes`, the `key_hash`
/// balancer). `salt` separates layers, so two layers do not split the keys alike.
///
/// ```
/// use tiersim::layer::topology::key_hash;
/// assert_eq!(key_hash(42, 7, 8), key_hash(42, 7, 8));
/// assert!(key_hash(42, 7, 8) < 8);
/// ```
#[inline]
pub fn key_hash(key: u32, salt: u64, n: u32) -> u32 {
    bucket(mix64(u64::from(key) ^ salt), n)
}

/// The salt of layer `index`'s key hash in a run seeded `seed` (shield and proxy
/// `nodes`, the `key_hash` balancer): what [`key_hash`] takes to name a key's node.
pub fn hash_salt(seed: u64, index: usize) -> u64 {
    mix64(seed ^ 0x5348_4945_4c44 ^ index as u64)
}

/// How `in_process`'s load balancer spreads requests over the app instances.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Balancer {
    /// Instances in turn, in order of the requests reaching the layer.
    #[default]
    RoundRobin,
    /// A uniformly random instance per request, from the layer's own stream.
    Random,
    /// The instance a hash of the key names: each key lives in one L1 only.
    KeyHash,
}

impl Balancer {
    /// The name a scenario uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Balancer::RoundRobin => "round_robin",
            Balancer::Random => "random",
            Balancer::KeyHash => "key_hash",
        }
    }
}

/// A consistent-hash ring (Karger et al., 1997), as Redis Cluster clients and
/// memcached's ketama use one: each shard owns `vnodes` points on a 64-bit circle, and a
/// key belongs to the shard of the first point at or after its hash (wrapping round).
///
/// Points are `mix64` of `(shard, vnode)`, so shard `s`'s points are the same whatever
/// the other shards: adding a shard moves only the keys whose next point is now one of
/// the new shard's, about `1 / (n + 1)` of them, and all to the new shard. With `V`
/// points per shard a shard's share of the circle has a relative spread of about
/// `1 / sqrt(V)` (12% at the default 64).
///
/// A key's point is found through a table over the circle's top bits: bucket `b`
/// names the first point at or after its start, so a lookup searches only the points
/// inside one bucket (none or one, with about four buckets a point) instead of
/// binary-searching the whole ring: eight dependent probes at 256 points, for the
/// Redis shard of every request that reaches it.
#[derive(Clone, Debug)]
pub struct Ring {
    /// Points, sorted.
    points: Vec<u64>,
    /// The shard of each point.
    shards: Vec<u16>,
    /// `first[b]`: the first point at or after bucket `b`'s start, for `2^bits` buckets
    /// and one more entry, `points.len()`, closing the last.
    first: Vec<u32>,
    /// `64 - bits`: a hash's bucket is its top `bits` bits.
    shift: u32,
}

/// Buckets per ring point in a [`Ring`]'s table.
const BUCKETS_PER_POINT: usize = 4;

/// The most buckets a [`Ring`]'s table has (256 KiB): a larger ring searches more
/// points per bucket instead.
const MAX_RING_BUCKETS: usize = 1 << 16;

/// Virtual nodes per shard on a [`Ring`] unless the layer sets `vnodes`.
pub const DEFAULT_VNODES: u32 = 64;

/// Salt of the ring's key hash, so a key's ring position is unrelated to its shield or
/// balancer hash.
const RING_KEY_SALT: u64 = 0x5249_4e47_4b45_5953;

impl Ring {
    /// A ring of `shards` shards, `vnodes` points each.
    pub fn new(shards: u32, vnodes: u32) -> Self {
        let mut pts: Vec<(u64, u16)> = (0..shards)
            .flat_map(|s| {
                (0..vnodes).map(move |v| (mix64(u64::from(s) << 32 | u64::from(v)), s as u16))
            })
            .collect();
        pts.sort_unstable();
        let points: Vec<u64> = pts.iter().map(|p| p.0).collect();
        let buckets = (BUCKETS_PER_POINT * points.len())
            .next_power_of_two()
            .clamp(2, MAX_RING_BUCKETS);
        let bits = buckets.trailing_zeros();
        let first = (0..buckets as u64)
            .map(|b| points.partition_point(|&p| p < b << (64 - bits)) as u32)
            .chain([points.len() as u32])
            .collect();
        Ring {
            shards: pts.iter().map(|p| p.1).collect(),
            points,
            first,
            shift: 64 - bits,
        }
    }

    /// The shard holding `key`.
    #[inline]
    pub fn shard(&self, key: u32) -> u32 {
        let h = mix64(u64::from(key) ^ RING_KEY_SALT);
        let b = (h >> self.shift) as usize;
        let (from, to) = (self.first[b] as usize, self.first[b + 1] as usize);
        let i = from + self.points[from..to].partition_point(|&p| p < h);
        u32::from(self.shards[if i == self.points.len() { 0 } else { i }])
    }
}

/// `workload.regions = [{ name = "eu", share = 0.4 }, ...]`: where the clients are.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionSpec {
    /// The region's name, referred to by a `cdn` layer's `rtt_ms`.
    pub name: String,
    /// Its share of the clients, in (0, 1]; the shares sum to 1.
    pub share: f64,
}

/// The clients, split into regions: region `r` holds the contiguous client ids
/// `first[r]..first[r + 1]`, its share of `clients` (rounded down at each boundary).
#[derive(Clone, Debug, PartialEq)]
pub struct Regions {
    /// Region names, in the scenario's order.
    pub names: Vec<String>,
    /// Each region's first client; one more entry, the client count, at the end.
    pub first: Vec<u32>,
}

/// The region of a workload without `regions`.
pub const DEFAULT_REGION: &str = "all";

impl Regions {
    /// Validates `specs` (keys relative to `workload`) for `clients` clients; no specs
    /// means one region, [`DEFAULT_REGION`], holding every client.
    pub fn new(specs: Option<&[RegionSpec]>, clients: u32) -> Result<Regions, Invalid> {
        let Some(specs) = specs else {
            return Ok(Regions {
                names: vec![DEFAULT_REGION.to_owned()],
                first: vec![0, clients],
            });
        };
        if specs.is_empty() {
            return Err(Invalid::new(
                "regions",
                "is empty; list at least one `{ name, share }` or leave it out",
            ));
        }
        if specs.len() > MAX_NODES as usize {
            return Err(Invalid::new(
                "regions",
                format!("has {} regions; at most {MAX_NODES}", specs.len()),
            ));
        }
        let mut cum = 0.0;
        let mut first = vec![0u32];
        for (i, s) in specs.iter().enumerate() {
            let at = |k: &str, m: String| Invalid::new(k, m).at(i).under("regions");
            if s.name.trim().is_empty() {
                return Err(at("name", "is empty; every region needs a name".into()));
            }
            if specs[..i].iter().any(|o| o.name == s.name) {
                return Err(at(
                    "name",
                    format!("`{}` names two regions; names must be unique", s.name),
                ));
            }
            if !(s.share.is_finite() && s.share > 0.0 && s.share <= 1.0) {
                return Err(at("share", format!("is {}; must be in (0, 1]", s.share)));
            }
            cum += s.share;
            let end = if i + 1 == specs.len() {
                clients
            } else {
                ((cum * f64::from(clients)).floor() as u32).min(clients)
            };
            if end <= *first.last().expect("non-empty") {
                return Err(at(
                    "share",
                    format!(
                        "is {}, which gives region `{}` no client of {clients}; raise the \
                         share or workload.clients",
                        s.share, s.name
                    ),
                ));
            }
            first.push(end);
        }
        if (cum - 1.0).abs() > 1e-6 {
            return Err(Invalid::new(
                "regions",
                format!("shares sum to {cum}; they must sum to 1"),
            ));
        }
        Ok(Regions {
            names: specs.iter().map(|s| s.name.clone()).collect(),
            first,
        })
    }

    /// How many regions.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there is none (never, once validated).
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// The region of `client`: the region starts at or below it, counted without a
    /// branch on each (regions are few; `docs/performance.md`, "layer").
    #[inline]
    pub fn of(&self, client: u32) -> u16 {
        let starts = &self.first[1..self.first.len() - 1];
        starts.iter().filter(|&&f| client >= f).count() as u16
    }

    /// Clients of region `r`.
    pub fn clients(&self, r: usize) -> u32 {
        self.first[r + 1] - self.first[r]
    }
}

/// Which PoP serves which client: region `r` gets `count[r]` of the PoPs, in proportion
/// to its share of the clients (largest remainder, at least one each), and its clients
/// are spread over them in turn (`client mod count`), as geo-DNS or anycast sends each
/// client to one nearby PoP.
#[derive(Clone, Debug)]
pub struct PopMap {
    /// Each region's first PoP.
    first_pop: Vec<u16>,
    /// Each region's number of PoPs, as a divisor: a CDN lookup's modulo is then a
    /// multiply and a shift, not a division.
    count: Vec<StrengthReducedU32>,
    /// Each region's first client.
    first_client: Vec<u32>,
}

impl PopMap {
    /// `pops` PoPs over `regions`; needs `pops >= regions.len()`.
    pub fn new(pops: u32, regions: &Regions) -> PopMap {
        let r = regions.len();
        let total = f64::from(*regions.first.last().expect("non-empty"));
        let extra = pops as usize - r;
        // One PoP each, then the rest by largest remainder of share * extra.
        let want: Vec<f64> = (0..r)
            .map(|i| f64::from(regions.clients(i)) / total * extra as f64)
            .collect();
        let mut count: Vec<u16> = want.iter().map(|w| 1 + w.floor() as u16).collect();
        let mut left = pops as usize - count.iter().map(|&c| c as usize).sum::<usize>();
        let mut order: Vec<usize> = (0..r).collect();
        order.sort_by(|&a, &b| (want[b] - want[b].floor()).total_cmp(&(want[a] - want[a].floor())));
        for &i in order.iter().cycle() {
            if left == 0 {
                break;
            }
            count[i] += 1;
            left -= 1;
        }
        let mut first_pop = Vec::with_capacity(r);
        let mut next = 0u16;
        for &c in &count {
            first_pop.push(next);
            next += c;
        }
        PopMap {
            first_pop,
            count: count
                .iter()
                .map(|&c| StrengthReducedU32::new(u32::from(c)))
                .collect(),
            first_client: regions.first[..r].to_vec(),
        }
    }

    /// The PoP of `client`, in region `region`.
    #[inline]
    pub fn pop(&self, client: u32, region: u16) -> u32 {
        let r = region as usize;
        let within = client - self.first_client[r];
        u32::from(self.first_pop[r]) + within % self.count[r]
    }

    /// How many PoPs region `r` has.
    pub fn pops_in(&self, r: usize) -> u32 {
        self.count[r].get()
    }
}

/// How one layer routes a request to a node: built from the layer's plan.
#[derive(Clone, Debug)]
pub enum Route {
    /// One node: always 0.
    Single,
    /// Browsers: the client's own cache.
    Client,
    /// CDN PoPs by the client's region.
    Pop(PopMap),
    /// `n` nodes by a hash of the key.
    KeyHash {
        /// Nodes.
        n: u32,
        /// Separates layers.
        salt: u64,
    },
    /// Shards on a consistent-hash ring.
    Ring(Ring),
    /// App instances in turn.
    RoundRobin {
        /// Instances.
        n: u32,
        /// The next one.
        next: u32,
    },
    /// A random app instance per request.
    Random {
        /// Instances.
        n: u32,
        /// The layer's balancer stream.
        rng: Box<SimRng>,
    },
}

impl Route {
    /// The node a request for `key` from `client` in `region` consults.
    #[inline]
    pub fn pick(&mut self, key: u32, client: u32, region: u16) -> u32 {
        match self {
            Route::Single => 0,
            Route::Client => client,
            Route::Pop(m) => m.pop(client, region),
            Route::KeyHash { n, salt } => key_hash(key, *salt, *n),
            Route::Ring(r) => r.shard(key),
            Route::RoundRobin { n, next } => {
                let i = *next;
                *next = if i + 1 == *n { 0 } else { i + 1 };
                i
            }
            Route::Random { n, rng } => bucket(rng.next_u64(), *n),
        }
    }

    /// The node `pick` would give, if it depends only on the request (not on the
    /// balancer's turn or draw): for reading ahead.
    #[inline]
    pub fn peek(&self, key: u32, client: u32, region: u16) -> Option<u32> {
        match self {
            Route::Single => Some(0),
            Route::Client => Some(client),
            Route::Pop(m) => Some(m.pop(client, region)),
            Route::KeyHash { n, salt } => Some(key_hash(key, *salt, *n)),
            Route::Ring(r) => Some(r.shard(key)),
            Route::RoundRobin { .. } | Route::Random { .. } => None,
        }
    }

    /// Whether a key lives on one node only, so a write need reach that node alone.
    pub fn by_key(&self) -> bool {
        matches!(self, Route::Single | Route::KeyHash { .. } | Route::Ring(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_robin_spreads_evenly() {
        let mut r = Route::RoundRobin { n: 7, next: 0 };
        let mut counts = [0u32; 7];
        for k in 0..7_000 {
            counts[r.pick(k % 3, 0, 0) as usize] += 1;
        }
        assert_eq!(counts, [1000; 7]);
    }

    #[test]
    fn random_balancer_is_near_uniform() {
        // 70k draws over 7 instances: each count is Binomial(70k, 1/7), sd ~93; 5 sd.
        let mut r = Route::Random {
            n: 7,
            rng: Box::new(crate::base::rng::stream(
                3,
                crate::base::rng::Stream::Balancer(0),
            )),
        };
        let mut counts = [0i64; 7];
        for _ in 0..70_000 {
            counts[r.pick(0, 0, 0) as usize] += 1;
        }
        assert!(
            counts.iter().all(|&c| (c - 10_000).abs() < 465),
            "{counts:?}"
        );
    }

    #[test]
    fn key_hash_is_stable_and_spreads() {
        let mut counts = [0i64; 8];
        for k in 0..80_000 {
            let n = key_hash(k, 9, 8);
            assert_eq!(n, key_hash(k, 9, 8));
            counts[n as usize] += 1;
        }
        // Binomial(80k, 1/8): sd ~94; 5 sd.
        assert!(
            counts.iter().all(|&c| (c - 10_000).abs() < 470),
            "{counts:?}"
        );
    }

    #[test]
    fn ring_table_finds_the_first_point_at_or_after_the_hash() {
        // Against a binary search of the whole ring, from a ring too small for its
        // table to one whose table is capped.
        for (shards, vnodes) in [(1, 1), (3, 5), (4, DEFAULT_VNODES), (7, 20_000)] {
            let ring = Ring::new(shards, vnodes);
            for key in (0..200_000u32).step_by(7) {
                let h = mix64(u64::from(key) ^ RING_KEY_SALT);
                let i = ring.points.partition_point(|&p| p < h);
                let want = ring.shards[if i == ring.points.len() { 0 } else { i }];
                assert_eq!(
                    ring.shard(key),
                    u32::from(want),
                    "{shards}x{vnodes}, key {key}"
                );
            }
        }
    }

    #[test]
    fn ring_moves_about_one_over_n_keys_and_only_to_the_new_shard() {
        let keys = 200_000u32;
        for n in [4u32, 8, 16] {
            let before = Ring::new(n, DEFAULT_VNODES);
            let after = Ring::new(n + 1, DEFAULT_VNODES);
            let mut moved = 0u32;
            for k in 0..keys {
                let (a, b) = (before.shard(k), after.shard(k));
                assert_eq!(a, before.shard(k), "stable");
                if a != b {
                    assert_eq!(b, n, "a key moves only to the new shard");
                    moved += 1;
                }
            }
            // The new shard's share of the circle: mean 1/(n+1), relative sd about
            // 1/sqrt(V) = 1/8 with V = 64 points; 3 sd is 0.375 relative.
            let share = f64::from(moved) / f64::from(keys);
            let want = 1.0 / f64::from(n + 1);
            assert!(
                (share - want).abs() < 0.375 * want,
                "n={n}: moved {share}, want {want}"
            );
        }
    }

    #[test]
    fn a_client_is_in_the_region_whose_range_holds_it() {
        // Uneven shares, a region of one client among them (empty ones are invalid).
        let spec = |name: &str, share| RegionSpec {
            name: name.into(),
            share,
        };
        let specs = [
            spec("a", 0.6),
            spec("b", 0.05),
            spec("c", 0.1),
            spec("d", 0.25),
        ];
        let r = Regions::new(Some(&specs), 20).unwrap();
        assert_eq!(r.first, vec![0, 12, 13, 15, 20]);
        for client in 0..20 {
            let at = r.of(client) as usize;
            assert!(
                r.first[at] <= client && client < r.first[at + 1],
                "client {client}"
            );
        }
    }

    #[test]
    fn regions_split_clients_and_pops() {
        let specs = vec![
            RegionSpec {
                name: "eu".into(),
                share: 0.5,
            },
            RegionSpec {
                name: "us".into(),
                share: 0.3,
            },
            RegionSpec {
                name: "ap".into(),
                share: 0.2,
            },
        ];
        let r = Regions::new(Some(&specs), 1000).unwrap();
        assert_eq!(r.first, vec![0, 500, 800, 1000]);
        assert_eq!((r.of(0), r.of(499), r.of(500), r.of(999)), (0, 0, 1, 2));
        let m = PopMap::new(10, &r);
        assert_eq!((m.pops_in(0), m.pops_in(1), m.pops_in(2)), (5, 3, 2));
        let mut seen = [0u32; 10];
        for c in 0..1000 {
            seen[m.pop(c, r.of(c)) as usize] += 1;
        }
        assert_eq!(seen, [100; 10]);
        let bad = Regions::new(
            Some(&[RegionSpec {
                name: "x".into(),
                share: 0.5,
            }]),
            10,
        )
        .unwrap_err();
        assert!(bad.message.contains("sum to 1"), "{}", bad.message);
    }
}
