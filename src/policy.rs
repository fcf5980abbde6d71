//! Eviction policies: which resident entry leaves when a full cache must take a new one.
//!
//! Every policy implements [`Policy`] over *slots*: small integers that the owning
//! [`Cache`](crate::cache::Cache) assigns to resident entries. A policy keeps only its own
//! ordering state (links, counters, ghosts), in arrays indexed by slot, so the per-entry
//! cost is a few `u32`s and no allocation happens per request.
//!
//! A scenario names a policy with a string (`policy = "lru"`) or, for a policy with
//! parameters, a table (`policy = { name = "lru" }`); both deserialize into
//! [`PolicySpec`], whose variants are generated from the one list in this file, together
//! with the runtime enum [`AnyPolicy`] that dispatches without a virtual call.
//!
//! Adding a policy: write `policy/<name>.rs` with a type implementing [`Policy`] and
//! [`BuildPolicy`], and add one line to the `policies!` list below.

mod arc;
mod belady;
mod clock;
mod fifo;
mod gdsf;
mod ghost;
mod heap;
mod lfu;
mod lfuda;
mod lirs;
mod list;
mod lru;
mod perfect_lfu;
mod random;
mod s3fifo;
mod sieve;
mod slru;
mod twoq;
mod wtinylfu;

pub use arc::{Arc, ArcConfig};
pub use belady::Belady;
pub use clock::Clock;
pub use fifo::Fifo;
pub use gdsf::Gdsf;
pub use lfu::Lfu;
pub use lfuda::Lfuda;
pub use lirs::{Lirs, LirsConfig};
pub use lru::Lru;
pub use perfect_lfu::PerfectLfu;
pub use random::Random;
pub use s3fifo::{S3Fifo, S3FifoConfig};
pub use sieve::Sieve;
pub use slru::{Slru, SlruConfig};
pub use twoq::{TwoQ, TwoQConfig};
pub use wtinylfu::{WTinyLfu, WTinyLfuConfig};

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Heap bytes of `v` by its capacity, for [`Policy::heap_bytes`].
pub(crate) fn vec_bytes<T>(v: &Vec<T>) -> usize {
    v.capacity() * std::mem::size_of::<T>()
}

/// A resident entry's position in its cache's arrays.
pub type Slot = u32;

/// What [`Policy::evict`] returns when the incoming entry itself ranks below every
/// resident one: the owner stops evicting and does not store it (entries already evicted
/// for it stay evicted). libCacheSim's GDSF inserts before it evicts, so a new object can
/// be its own victim; [`Gdsf`] reproduces that through this value.
pub const BYPASS: Slot = Slot::MAX;

/// What a policy learns about an access (a hit or an insertion).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    /// The dense key.
    pub key: u32,
    /// The object's size in bytes (1 where sizes are not modelled).
    pub size: u32,
    /// When this key is next requested, for offline policies; `u64::MAX` when unknown.
    pub next_access: u64,
}

impl Access {
    /// An access to `key` with unit size and an unknown future.
    pub const fn key(key: u32) -> Self {
        Access {
            key,
            size: 1,
            next_access: u64::MAX,
        }
    }
}

/// The ordering state of one cache's eviction policy.
///
/// The cache calls exactly one of these per event, so a policy sees every resident entry
/// from [`insert`](Policy::insert) to [`evict`](Policy::evict) or [`remove`](Policy::remove).
pub trait Policy {
    /// A new entry now lives in `slot`.
    fn insert(&mut self, slot: Slot, access: &Access);
    /// The entry in `slot` was read (a hit) or overwritten.
    fn touch(&mut self, slot: Slot, access: &Access);
    /// Chooses the entry to evict to make room for `incoming`, forgets it and returns its
    /// slot, or [`BYPASS`] when `incoming` should not be stored after all. Called only
    /// while at least one entry is resident.
    fn evict(&mut self, incoming: &Access) -> Slot;
    /// An entry the policy evicted on its own during the last [`touch`](Policy::touch) or
    /// [`insert`](Policy::insert), already forgotten, whose slot the owner must free. The
    /// owner calls this after each of those until it returns `None`. Segments with their
    /// own bounds do this: an SLRU hit whose demotions overflow the lowest segment, a 2Q
    /// entry entering a full Am. The default: `None`.
    #[inline]
    fn dropped(&mut self) -> Option<Slot> {
        None
    }
    /// Forgets the entry in `slot`, removed for another reason (expiry, invalidation).
    fn remove(&mut self, slot: Slot);
    /// Prefetches the state a [`touch`](Policy::touch) of `slot` will read
    /// ([`crate::prefetch`]). Replay calls it for a block of requests ahead of processing
    /// them, so their cache misses overlap; `slot` is a hint that may be stale or out of
    /// range, and must not panic. The default does nothing.
    #[inline]
    fn prefetch(&self, slot: Slot) {
        let _ = slot;
    }
    /// The slot the next [`evict`](Policy::evict) will most likely choose, if the policy
    /// knows it cheaply (an LRU's or a FIFO's oldest entry), so that its state can be
    /// prefetched while other requests are processed. A hint: the default is `None`.
    #[inline]
    fn next_victim(&self) -> Option<Slot> {
        None
    }
    /// Bytes of heap the policy's state holds (arrays by their capacity, ghosts
    /// included), for memory reports; `None` for a policy that does not account it.
    fn heap_bytes(&self) -> Option<usize> {
        None
    }
    /// Whether `incoming`, not resident, may enter; `full` says whether admitting it
    /// means an eviction. Called once per fill of an absent key, before any eviction.
    /// Most policies admit everything.
    #[inline]
    fn admit(&mut self, incoming: &Access, full: bool) -> bool {
        let _ = (incoming, full);
        true
    }
}

/// Code generic over the policy type, run by [`AnyPolicy::with`] on the concrete policy.
pub trait PolicyFn {
    /// What the code returns.
    type Output;
    /// Runs on `policy`.
    fn call<P: Policy>(self, policy: &mut P) -> Self::Output;
}

/// How much a cache holds, as its policy needs to know it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Capacity {
    /// The capacity in the unit of [`Access::size`]: entries when every size is 1, bytes
    /// otherwise. Policies that split the cache into segments (SLRU, 2Q, ARC, S3-FIFO,
    /// W-TinyLFU, LIRS) size the segments in this unit.
    pub units: u64,
    /// About how many entries will be resident, to size arrays up front.
    pub slots_hint: usize,
}

impl Capacity {
    /// A count-based capacity of `n` entries.
    pub const fn entries(n: usize) -> Self {
        Capacity {
            units: n as u64,
            slots_hint: n,
        }
    }
}

/// How a policy is made from its scenario configuration.
pub trait BuildPolicy: Policy + Sized {
    /// The policy's parameters, as a scenario table; `Default` gives the documented defaults.
    type Config: Default + Clone + fmt::Debug + PartialEq + Serialize + for<'de> Deserialize<'de>;
    /// A policy for a cache of `capacity`; `seed` feeds any internal randomness.
    fn build(config: &Self::Config, capacity: Capacity, seed: u64) -> Self;
}

/// The configuration of a policy without parameters: only `name` is allowed in its table.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoConfig {}

macro_rules! policies {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal => $ty:ty ),+ $(,)?) => {
        /// A policy and its parameters as a scenario names them.
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(remote = "Self", tag = "name", deny_unknown_fields)]
        pub enum PolicySpec {
            $( $(#[$doc])* #[serde(rename = $name)] $variant(<$ty as BuildPolicy>::Config), )+
        }

        /// A built policy: one variant per policy, dispatched by `match`.
        #[derive(Debug)]
        pub enum AnyPolicy {
            $( $(#[$doc])* $variant($ty), )+
        }

        impl PolicySpec {
            /// Every policy name a scenario accepts.
            pub const NAMES: &'static [&'static str] = &[$($name),+];

            /// The name a scenario uses for this policy.
            pub fn name(&self) -> &'static str {
                match self { $( PolicySpec::$variant(_) => $name, )+ }
            }

            /// Builds the policy for a count-based cache of about `capacity_hint` entries.
            pub fn build(&self, capacity_hint: usize, seed: u64) -> AnyPolicy {
                self.build_sized(Capacity::entries(capacity_hint), seed)
            }

            /// Builds the policy for a cache of `capacity` (entries or bytes).
            pub fn build_sized(&self, capacity: Capacity, seed: u64) -> AnyPolicy {
                match self {
                    $( PolicySpec::$variant(c) => AnyPolicy::$variant(<$ty>::build(c, capacity, seed)), )+
                }
            }

            /// The policy called `name`, with default parameters.
            pub fn from_name(name: &str) -> Option<PolicySpec> {
                match name {
                    $( $name => Some(PolicySpec::$variant(Default::default())), )+
                    _ => None,
                }
            }
        }

        impl AnyPolicy {
            /// Calls `f` with the concrete policy, so a hot loop generic over [`Policy`]
            /// is compiled once per policy and dispatches once, not once per request.
            #[inline]
            pub fn with<F: PolicyFn>(&mut self, f: F) -> F::Output {
                match self { $( AnyPolicy::$variant(p) => f.call(p), )+ }
            }
        }

        impl Policy for AnyPolicy {
            #[inline]
            fn insert(&mut self, slot: Slot, access: &Access) {
                match self { $( AnyPolicy::$variant(p) => p.insert(slot, access), )+ }
            }
            #[inline]
            fn touch(&mut self, slot: Slot, access: &Access) {
                match self { $( AnyPolicy::$variant(p) => p.touch(slot, access), )+ }
            }
            #[inline]
            fn evict(&mut self, incoming: &Access) -> Slot {
                match self { $( AnyPolicy::$variant(p) => p.evict(incoming), )+ }
            }
            #[inline]
            fn remove(&mut self, slot: Slot) {
                match self { $( AnyPolicy::$variant(p) => p.remove(slot), )+ }
            }
            #[inline]
            fn admit(&mut self, incoming: &Access, full: bool) -> bool {
                match self { $( AnyPolicy::$variant(p) => p.admit(incoming, full), )+ }
            }
            #[inline]
            fn dropped(&mut self) -> Option<Slot> {
                match self { $( AnyPolicy::$variant(p) => p.dropped(), )+ }
            }
            #[inline]
            fn next_victim(&self) -> Option<Slot> {
                match self { $( AnyPolicy::$variant(p) => p.next_victim(), )+ }
            }
            fn prefetch(&self, slot: Slot) {
                match self { $( AnyPolicy::$variant(p) => p.prefetch(slot), )+ }
            }
            fn heap_bytes(&self) -> Option<usize> {
                match self { $( AnyPolicy::$variant(p) => p.heap_bytes(), )+ }
            }
        }
    };
}

policies! {
    /// First in, first out: hits do not reorder.
    Fifo = "fifo" => Fifo,
    /// Least recently used.
    Lru = "lru" => Lru,
    /// Least frequently used, in-cache counts, O(1); ties go to the least recently used.
    Lfu = "lfu" => Lfu,
    /// LFU with every key's count kept for ever: holds the most requested keys seen.
    PerfectLfu = "perfect_lfu" => PerfectLfu,
    /// Uniformly random victim, from a seeded stream.
    Random = "random" => Random,
    /// CLOCK (second chance): a hit sets a reference bit that buys one more pass.
    Clock = "clock" => Clock,
    /// Segmented LRU: a probationary and a protected segment.
    Slru = "slru" => Slru,
    /// 2Q: a FIFO for first-timers, a ghost of their keys, an LRU for the rest.
    TwoQ = "2q" => TwoQ,
    /// ARC: adaptive balance between recency and frequency, with ghost lists.
    Arc = "arc" => Arc,
    /// LIRS: inter-reference recency decides which entries are protected.
    Lirs = "lirs" => Lirs,
    /// S3-FIFO: a small FIFO, a main FIFO with reinsertion, and a ghost FIFO.
    S3Fifo = "s3fifo" => S3Fifo,
    /// SIEVE: a FIFO with a hand that skips visited entries.
    Sieve = "sieve" => Sieve,
    /// Window TinyLFU: an LRU window, an SLRU main and a frequency-sketch admission filter.
    WTinyLfu = "wtinylfu" => WTinyLfu,
    /// Greedy-Dual-Size-Frequency: small, popular objects stay (size-aware).
    Gdsf = "gdsf" => Gdsf,
    /// LFU with dynamic aging (size-independent key, aging like GDSF).
    Lfuda = "lfuda" => Lfuda,
    /// Belady's MIN: evict the entry whose next access is farthest (needs the future).
    Belady = "belady" => Belady,
}

impl PolicySpec {
    /// Whether the policy needs [`Access::next_access`], known only when replaying a trace.
    pub fn needs_future(&self) -> bool {
        matches!(self, PolicySpec::Belady(_))
    }
}

impl Default for PolicySpec {
    fn default() -> Self {
        PolicySpec::Lru(NoConfig {})
    }
}

impl fmt::Display for PolicySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for PolicySpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        PolicySpec::from_name(s).ok_or_else(|| {
            format!(
                "unknown policy `{s}`; expected one of: {}",
                PolicySpec::NAMES.join(", ")
            )
        })
    }
}

/// A policy is written either as its name or as a table with `name` and parameters.
impl<'de> Deserialize<'de> for PolicySpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct NameOrTable;
        impl<'de> Visitor<'de> for NameOrTable {
            type Value = PolicySpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(
                    f,
                    "a policy name ({}) or a table with `name`",
                    PolicySpec::NAMES.join(", ")
                )
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<PolicySpec, E> {
                s.parse().map_err(E::custom)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<PolicySpec, A::Error> {
                PolicySpec::deserialize(de::value::MapAccessDeserializer::new(map))
            }
        }
        d.deserialize_any(NameOrTable)
    }
}

impl Serialize for PolicySpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        PolicySpec::serialize(self, s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_from_name_or_table() {
        let a: PolicySpec = serde_json::from_str(r#""lfu""#).unwrap();
        let b: PolicySpec = serde_json::from_str(r#"{"name":"lfu"}"#).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.name(), "lfu");
        let err = serde_json::from_str::<PolicySpec>(r#""lur""#).unwrap_err();
        assert!(err.to_string().contains("unknown policy `lur`"), "{err}");
        let err = serde_json::from_str::<PolicySpec>(r#"{"name":"lru","x":1}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `x`"), "{err}");
    }
}
