//! Eviction policies: which resident entry leaves when a full cache must take a new one.
//!
//! Every policy implements [`Policy`] over *slots*: small integers that the owning
//! store ([`crate::store`]) assigns to resident entries. A policy keeps only its own
//! ordering state (links, counters, ghosts), in arrays indexed by slot, so the per-entry
//! cost is a few `u32`s and no allocation happens per request. It knows nothing of
//! stores, layers or traces.
//!
//! A scenario names a policy with a string (`policy = "lru"`) or, for a policy with
//! parameters, a table (`policy = { name = "lru" }`); both deserialize into
//! [`PolicySpec`], whose variants are generated from the one list in this file, together
//! with the runtime enum [`AnyPolicy`] that dispatches without a virtual call. A policy
//! written outside the crate runs from code as [`PolicySpec::Custom`] ([`CustomPolicy`]).
//!
//! Adding a policy: write `policy/<name>.rs` with a type implementing [`Policy`],
//! [`BuildPolicy`] and, if it has any, its [`PrefetchHints`], and add one line to the
//! `policies!` list below.
//!
//! Policies own ordering state and nothing else. They must not know the store that owns
//! their slots (it calls them, never the reverse), nor layers, requests, simulated time or the
//! engine: what a policy learns arrives in an [`Access`].

mod arc;
mod belady;
mod clock;
mod custom;
mod fifo;
mod gdsf;
mod ghost;
mod greedy_dual;
mod heap;
mod hints;
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
pub use custom::{BuildCustom, CustomPolicy};
pub use fifo::Fifo;
pub use gdsf::Gdsf;
pub use greedy_dual::GreedyDual;
pub use hints::PrefetchHints;
pub use lfu::Lfu;
pub use lfuda::Lfuda;
pub use lirs::{Lirs, LirsConfig, LirsVariant};
pub use lru::Lru;
pub use perfect_lfu::PerfectLfu;
pub use random::Random;
pub use s3fifo::{S3Fifo, S3FifoConfig};
pub use sieve::Sieve;
pub use slru::{Slru, SlruConfig};
pub use twoq::{TwoQ, TwoQConfig};
pub use wtinylfu::{WTinyLfu, WTinyLfuConfig, WTinyLfuVariant};

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
    /// The trace's own id for this key (the dense key where there is no trace), for a
    /// policy that must hash what another simulator hashes to agree with it.
    pub id: u64,
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
            id: key as u64,
            size: 1,
            next_access: u64::MAX,
        }
    }

    /// An access to `key` of `size` bytes with an unknown future.
    pub const fn sized(key: u32, size: u32) -> Self {
        Access {
            size,
            ..Access::key(key)
        }
    }
}

/// The ordering state of one cache's eviction policy.
///
/// The cache calls exactly one of these per event, so a policy sees every resident entry
/// from [`insert`](Policy::insert) to [`evict`](Policy::evict) or [`remove`](Policy::remove).
/// The store's fill protocol ([`crate::store::fill`]) says in which order.
pub trait Policy {
    /// A new entry now lives in `slot`.
    fn insert(&mut self, slot: Slot, access: &Access);
    /// The entry in `slot` was read (a hit) or overwritten.
    fn touch(&mut self, slot: Slot, access: &Access);
    /// Chooses the entry to evict to make room for `incoming`, forgets it and returns its
    /// slot, or [`BYPASS`] when `incoming` should not be stored after all. Called only
    /// while at least one entry is resident.
    fn evict(&mut self, incoming: &Access) -> Slot;
    /// Forgets the entry in `slot`, removed for another reason (expiry, invalidation).
    fn remove(&mut self, slot: Slot);
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
    /// Whether the policy keeps its own account of what the cache holds and chooses its
    /// victims itself, when and as many as it likes: in [`make_room`](Policy::make_room)
    /// for a fill, and even on a hit. A cache then calls `make_room` instead of checking
    /// its capacity and calling [`evict`](Policy::evict), and releases the slots
    /// [`take_evicted`](Policy::take_evicted) hands back after every call that may evict.
    /// Only LIRS in its `libcachesim` variant does: its reference evicts on hits and counts
    /// some hit entries as taking no room, which no `evict` per missing unit can mimic.
    /// The default is `false`; the answer never changes over a policy's life.
    #[inline]
    fn makes_room(&self) -> bool {
        false
    }
    /// For a policy that [`makes_room`](Policy::makes_room): evicts what it must for
    /// `incoming`, absent and no larger than the cache, to enter, and says whether it may
    /// (if so, the cache inserts it next). The victims go to
    /// [`take_evicted`](Policy::take_evicted). Never called otherwise.
    #[inline]
    fn make_room(&mut self, incoming: &Access) -> bool {
        let _ = incoming;
        unreachable!("make_room on a policy that does not make room")
    }
    /// A slot the policy evicted of its own accord that its owner has not released yet;
    /// each is handed back once, and the owner asks after every call that may evict:
    /// [`touch`](Policy::touch) (libCacheSim's SLRU and W-TinyLFU evict when a hit
    /// overflows a segment), [`evict`](Policy::evict) (beside the victim it returns),
    /// [`insert`](Policy::insert), [`remove`](Policy::remove) and
    /// [`make_room`](Policy::make_room). The default, for the policies that never do:
    /// `None`.
    #[inline]
    fn take_evicted(&mut self) -> Option<Slot> {
        None
    }
}

/// Code generic over the policy type, run by [`AnyPolicy::with`] on the concrete policy.
pub trait PolicyFn {
    /// What the code returns.
    type Output;
    /// Runs on `policy`.
    fn call<P: Policy + PrefetchHints>(self, policy: &mut P) -> Self::Output;
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
    /// Says what is wrong with `config`, if anything, naming the parameter and what is
    /// allowed: a scenario or command line gets the message instead of a policy that
    /// quietly clamps. The default: every configuration is fine.
    fn check(config: &Self::Config) -> Result<(), String> {
        let _ = config;
        Ok(())
    }
}

/// `Err` naming `key` unless `value` lies in `[0, 1]`: the shares policies split a cache by.
pub(crate) fn check_share(key: &str, value: f64) -> Result<(), String> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(format!(
            "`{key}` is a share of the cache, from 0 to 1; got {value}"
        ))
    }
}

/// The largest ghost list, as a multiple of the cache: ghosts remember recently evicted
/// keys so a quick return is recognised, and the papers keep at most one cache's worth
/// (2Q's `kout` 0.5, S3-FIFO's 0.9, ARC's 1); more remembers returns no policy acts on
/// and costs memory per ghost (an unbounded ratio aborted on allocation).
pub const MAX_GHOST_RATIO: f64 = 4.0;

/// `Err` naming `key` unless `value` is a ghost list's size from 0 to
/// [`MAX_GHOST_RATIO`] times the cache.
pub(crate) fn check_ghost(key: &str, value: f64) -> Result<(), String> {
    if (0.0..=MAX_GHOST_RATIO).contains(&value) {
        Ok(())
    } else {
        Err(format!(
            "`{key}` is the ghost list's size as a multiple of the cache, from 0 to \
             {MAX_GHOST_RATIO}; got {value}"
        ))
    }
}

/// The configuration of a policy without parameters: only `name` is allowed in its table.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoConfig {}

macro_rules! policies {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal => $ty:ty ),+ $(,)?) => {
        /// A policy and its parameters as a scenario names them, or a policy from code.
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(remote = "Self", tag = "name", deny_unknown_fields)]
        pub enum PolicySpec {
            $( $(#[$doc])* #[serde(rename = $name)] $variant(<$ty as BuildPolicy>::Config), )+
            /// A policy written outside this crate, for scenarios built from code; it
            /// serializes as its name and no scenario file can name it.
            #[serde(skip)]
            Custom(CustomPolicy),
        }

        /// A built policy: one variant per policy, dispatched by `match`.
        pub enum AnyPolicy {
            $( $(#[$doc])* $variant($ty), )+
            /// A policy from code ([`PolicySpec::Custom`]), called through its vtable.
            Custom(Box<dyn Policy + Send>),
        }

        impl fmt::Debug for AnyPolicy {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self {
                    $( AnyPolicy::$variant(p) => f.debug_tuple(stringify!($variant)).field(p).finish(), )+
                    AnyPolicy::Custom(_) => f.debug_tuple("Custom").finish_non_exhaustive(),
                }
            }
        }

        impl PolicySpec {
            /// Every policy name a scenario accepts.
            pub const NAMES: &'static [&'static str] = &[$($name),+];

            /// The name a scenario uses for this policy (a custom policy's own name).
            pub fn name(&self) -> &'static str {
                match self {
                    $( PolicySpec::$variant(_) => $name, )+
                    PolicySpec::Custom(c) => c.name(),
                }
            }

            /// Builds the policy for a count-based cache of about `capacity_hint` entries.
            pub fn build(&self, capacity_hint: usize, seed: u64) -> AnyPolicy {
                self.build_sized(Capacity::entries(capacity_hint), seed)
            }

            /// Builds the policy for a cache of `capacity` (entries or bytes).
            pub fn build_sized(&self, capacity: Capacity, seed: u64) -> AnyPolicy {
                match self {
                    $( PolicySpec::$variant(c) => AnyPolicy::$variant(<$ty>::build(c, capacity, seed)), )+
                    PolicySpec::Custom(c) => AnyPolicy::Custom(c.build(capacity, seed)),
                }
            }

            /// Says what is wrong with the parameters, if anything (see
            /// [`BuildPolicy::check`]).
            pub fn check(&self) -> Result<(), String> {
                match self {
                    $( PolicySpec::$variant(c) => <$ty>::check(c), )+
                    PolicySpec::Custom(_) => Ok(()),
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
                match self {
                    $( AnyPolicy::$variant(p) => f.call(p), )+
                    AnyPolicy::Custom(p) => f.call(p),
                }
            }
        }

        impl Policy for AnyPolicy {
            #[inline]
            fn insert(&mut self, slot: Slot, access: &Access) {
                match self {
                    $( AnyPolicy::$variant(p) => p.insert(slot, access), )+
                    AnyPolicy::Custom(p) => p.insert(slot, access),
                }
            }
            #[inline]
            fn touch(&mut self, slot: Slot, access: &Access) {
                match self {
                    $( AnyPolicy::$variant(p) => p.touch(slot, access), )+
                    AnyPolicy::Custom(p) => p.touch(slot, access),
                }
            }
            #[inline]
            fn evict(&mut self, incoming: &Access) -> Slot {
                match self {
                    $( AnyPolicy::$variant(p) => p.evict(incoming), )+
                    AnyPolicy::Custom(p) => p.evict(incoming),
                }
            }
            #[inline]
            fn remove(&mut self, slot: Slot) {
                match self {
                    $( AnyPolicy::$variant(p) => p.remove(slot), )+
                    AnyPolicy::Custom(p) => p.remove(slot),
                }
            }
            #[inline]
            fn admit(&mut self, incoming: &Access, full: bool) -> bool {
                match self {
                    $( AnyPolicy::$variant(p) => p.admit(incoming, full), )+
                    AnyPolicy::Custom(p) => p.admit(incoming, full),
                }
            }
            #[inline]
            fn makes_room(&self) -> bool {
                match self {
                    $( AnyPolicy::$variant(p) => p.makes_room(), )+
                    AnyPolicy::Custom(p) => p.makes_room(),
                }
            }
            #[inline]
            fn make_room(&mut self, incoming: &Access) -> bool {
                match self {
                    $( AnyPolicy::$variant(p) => p.make_room(incoming), )+
                    AnyPolicy::Custom(p) => p.make_room(incoming),
                }
            }
            #[inline]
            fn take_evicted(&mut self) -> Option<Slot> {
                match self {
                    $( AnyPolicy::$variant(p) => p.take_evicted(), )+
                    AnyPolicy::Custom(p) => p.take_evicted(),
                }
            }
            fn heap_bytes(&self) -> Option<usize> {
                match self {
                    $( AnyPolicy::$variant(p) => p.heap_bytes(), )+
                    AnyPolicy::Custom(p) => p.heap_bytes(),
                }
            }
        }

        impl PrefetchHints for AnyPolicy {
            fn prefetch(&self, slot: Slot) {
                match self {
                    $( AnyPolicy::$variant(p) => p.prefetch(slot), )+
                    AnyPolicy::Custom(p) => p.prefetch(slot),
                }
            }
            #[inline]
            fn next_victim(&self) -> Option<Slot> {
                match self {
                    $( AnyPolicy::$variant(p) => p.next_victim(), )+
                    AnyPolicy::Custom(p) => p.next_victim(),
                }
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

/// The command-line form of a policy: its name, then each parameter that differs from
/// the policy's default as `:key=value`, in key order. [`FromStr`](std::str::FromStr)
/// reads it back, so a replay row names exactly the configuration that produced it.
///
/// ```
/// use tiersim::policy::PolicySpec;
///
/// let spec: PolicySpec = "slru:protected_ratio=0.5".parse().unwrap();
/// assert_eq!(spec.to_string(), "slru:protected_ratio=0.5");
/// assert_eq!(spec.to_string().parse::<PolicySpec>().unwrap(), spec);
/// assert_eq!("slru".parse::<PolicySpec>().unwrap().to_string(), "slru");
/// ```
impl fmt::Display for PolicySpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())?;
        if let PolicySpec::Custom(_) = self {
            return Ok(());
        }
        let default = PolicySpec::from_name(self.name()).expect("a spec's own name");
        let (Ok(toml::Value::Table(mine)), Ok(toml::Value::Table(theirs))) =
            (toml::Value::try_from(self), toml::Value::try_from(&default))
        else {
            return Ok(());
        };
        for (key, value) in mine.iter().filter(|(k, v)| theirs.get(*k) != Some(*v)) {
            match value {
                // Bare, unless the text would read back as another type.
                toml::Value::String(s) if parameter_value(s).is_str() => write!(f, ":{key}={s}")?,
                _ => write!(f, ":{key}={value}")?,
            }
        }
        Ok(())
    }
}

/// A parameter's value on the command line: a TOML value (number, boolean, quoted
/// string), or else the text itself as a string, so `variant=paper` needs no quotes.
fn parameter_value(text: &str) -> toml::Value {
    format!("v = {text}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(text.to_owned()))
}

/// Reads a policy's command-line form, `NAME[:KEY=VALUE...]` (see [`fmt::Display`]).
impl std::str::FromStr for PolicySpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let mut parts = s.split(':');
        let name = parts.next().unwrap_or_default().trim();
        let Some(spec) = PolicySpec::from_name(name) else {
            return Err(format!(
                "unknown policy `{name}`; expected one of: {}",
                PolicySpec::NAMES.join(", ")
            ));
        };
        let mut table = toml::Table::new();
        for part in parts {
            let Some((key, value)) = part.split_once('=') else {
                return Err(format!(
                    "policy `{s}`: parameter `{part}` is not KEY=VALUE (e.g. `{name}:key=value`)"
                ));
            };
            let key = key.trim();
            if key == "name" || table.contains_key(key) {
                return Err(format!("policy `{s}`: parameter `{key}` given twice"));
            }
            table.insert(key.to_owned(), parameter_value(value.trim()));
        }
        if table.is_empty() {
            return Ok(spec);
        }
        table.insert("name".to_owned(), toml::Value::String(name.to_owned()));
        let read = |table: toml::Table| {
            PolicySpec::deserialize(toml::Value::Table(table)).and_then(|spec| {
                spec.check()
                    .map(|()| spec)
                    .map_err(serde::de::Error::custom)
            })
        };
        read(table.clone()).map_err(|e| {
            // serde's message says what was wrong but not where: name the first
            // parameter that fails on its own.
            let culprit = table.iter().filter(|(k, _)| *k != "name").find(|(k, v)| {
                let alone = [
                    ("name", toml::Value::String(name.to_owned())),
                    (k, (*v).clone()),
                ];
                read(alone.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()).is_err()
            });
            match culprit {
                Some((key, _)) if !e.to_string().contains(&format!("`{key}`")) => {
                    format!("policy `{s}`: `{key}`: {e}")
                }
                _ => format!("policy `{s}`: {e}"),
            }
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
                let spec = PolicySpec::deserialize(de::value::MapAccessDeserializer::new(map))?;
                spec.check().map_err(de::Error::custom)?;
                Ok(spec)
            }
        }
        d.deserialize_any(NameOrTable)
    }
}

/// A custom policy serializes as its name alone.
impl Serialize for PolicySpec {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            PolicySpec::Custom(c) => s.serialize_str(c.name()),
            _ => PolicySpec::serialize(self, s),
        }
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

    #[test]
    fn command_line_form_names_parameters_and_reads_back() {
        let spec: PolicySpec = "slru : protected_ratio = 0.25".parse().unwrap();
        let PolicySpec::Slru(config) = &spec else {
            panic!("{spec:?}")
        };
        assert_eq!(config.protected_ratio, 0.25);
        assert_eq!(spec.to_string(), "slru:protected_ratio=0.25");
        // A parameter set to its default is not written.
        assert_eq!(
            "slru:protected_ratio=0.8"
                .parse::<PolicySpec>()
                .unwrap()
                .to_string(),
            "slru"
        );
        for name in PolicySpec::NAMES {
            let spec = PolicySpec::from_name(name).unwrap();
            assert_eq!(spec.to_string(), *name);
            assert_eq!(spec.to_string().parse::<PolicySpec>().unwrap(), spec);
        }
    }

    #[test]
    fn command_line_form_errors_name_the_problem() {
        let err = |s: &str| s.parse::<PolicySpec>().unwrap_err();
        assert!(
            err("lur").contains("unknown policy `lur`"),
            "{}",
            err("lur")
        );
        let e = err("lru:size=3");
        assert!(
            e.contains("policy `lru:size=3`") && e.contains("unknown field `size`"),
            "{e}"
        );
        let e = err("slru:protected_ratio");
        assert!(e.contains("not KEY=VALUE"), "{e}");
        let e = err("slru:protected_ratio=high");
        assert!(e.contains("`protected_ratio`: invalid type"), "{e}");
        let e = err("slru:protected_ratio=0.1:protected_ratio=0.2");
        assert!(e.contains("given twice"), "{e}");
        let e = err("slru:protected_ratio=1.5");
        assert!(
            e.contains("`protected_ratio`") && e.contains("from 0 to 1"),
            "{e}"
        );
        let e = err("slru:segments=0");
        assert!(e.contains("`segments`") && e.contains("1 to 16"), "{e}");
        for bad in [
            "lirs:hir_ratio=-1",
            "wtinylfu:window_ratio=2",
            "2q:kin=1.5",
            "2q:kout=-1",
        ] {
            assert!(
                err(bad).contains("from 0 to 1") || err(bad).contains("`kout`"),
                "{}",
                err(bad)
            );
        }
        // Ghost lists are bounded by what they mean: a few times the cache at most.
        for (bad, key) in [
            ("s3fifo:ghost_ratio=1e15", "ghost_ratio"),
            ("s3fifo:ghost_ratio=-0.5", "ghost_ratio"),
            ("s3fifo:ghost_ratio=nan", "ghost_ratio"),
            ("2q:kout=1e15", "kout"),
            ("2q:kout=inf", "kout"),
        ] {
            let e = err(bad);
            assert!(
                e.contains(&format!("`{key}`")) && e.contains("from 0 to 4"),
                "{bad}: {e}"
            );
        }
        let e = err("s3fifo:small_ratio=2");
        assert!(
            e.contains("`small_ratio`") && e.contains("from 0 to 1"),
            "{e}"
        );
        let e = err("s3fifo:move_to_main_threshold=4");
        assert!(
            e.contains("`move_to_main_threshold`") && e.contains("0 to 3"),
            "{e}"
        );
        for good in [
            "s3fifo:ghost_ratio=4",
            "s3fifo:ghost_ratio=0",
            "2q:kout=4",
            "s3fifo:move_to_main_threshold=3",
        ] {
            assert!(good.parse::<PolicySpec>().is_ok(), "{good}");
        }
        let e = serde_json::from_str::<PolicySpec>(r#"{"name":"slru","segments":17}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("`segments`"), "{e}");
    }

    #[test]
    fn a_custom_policy_builds_per_cache_and_runs_through_with() {
        let spec = PolicySpec::Custom(CustomPolicy::new("lru_again", |capacity, seed| {
            assert_eq!((capacity.units, seed), (2, 9));
            Box::new(Lru::build(&NoConfig {}, capacity, seed))
        }));
        assert_eq!(spec.name(), "lru_again");
        assert_eq!(spec, spec.clone());
        assert_ne!(
            spec,
            PolicySpec::Custom(CustomPolicy::new("lru_again", |_, _| Box::new(
                Lru::default()
            )))
        );
        let mut p = spec.build(2, 9);
        assert!(format!("{p:?}").starts_with("Custom"));
        struct Fill3;
        impl PolicyFn for Fill3 {
            type Output = Slot;
            fn call<P: Policy + PrefetchHints>(self, p: &mut P) -> Slot {
                for slot in 0..2 {
                    p.insert(slot, &Access::key(slot));
                }
                p.touch(0, &Access::key(0));
                p.evict(&Access::key(2))
            }
        }
        assert_eq!(p.with(Fill3), 1, "LRU order, through the vtable");
    }

    #[test]
    fn spec_with_parameters_from_a_string_and_back() {
        let s: PolicySpec = "lirs:variant=libcachesim".parse().unwrap();
        let PolicySpec::Lirs(c) = &s else {
            panic!("{s:?}")
        };
        assert_eq!(c.variant, LirsVariant::LibCacheSim);
        assert_eq!(c.hir_ratio, 0.01);
        assert_eq!(s.to_string(), "lirs:variant=libcachesim");
        let s: PolicySpec = "lirs:hir_ratio=0.02:variant=paper".parse().unwrap();
        assert_eq!(s.to_string(), "lirs:hir_ratio=0.02");
        assert_eq!("lirs".parse::<PolicySpec>().unwrap().to_string(), "lirs");
        let err = "lirs:variant=lru".parse::<PolicySpec>().unwrap_err();
        assert!(err.contains("unknown variant `lru`"), "{err}");
        let err = "lirs:x=1".parse::<PolicySpec>().unwrap_err();
        assert!(err.contains("unknown field `x`"), "{err}");
        let err = "lirs:variant".parse::<PolicySpec>().unwrap_err();
        assert!(err.contains("not KEY=VALUE"), "{err}");
        assert!(
            "lur"
                .parse::<PolicySpec>()
                .unwrap_err()
                .contains("unknown policy `lur`")
        );
    }
}
