//! The cache store: one abstraction behind every layer's nodes.
//!
//! A [`Cache`] maps dense integer keys to slots, keeps each resident entry's expiry and
//! version, and asks its [`Policy`] which entry to evict. Layers differ in topology,
//! latency and HTTP rules, never in how a node stores entries.
//!
//! Memory per resident entry: 16 bytes here (key, version, expiry), the policy's own
//! state (8 bytes for LRU and FIFO, 12 for LFU), plus the key -> slot index: either
//! dense, 4 bytes per key of the key space, or a hash table sized to the entries, 8 bytes
//! a bucket, 20 to 40 bytes per entry of capacity.
//!
//! An entry's key, version and expiry sit together in one 16-byte record rather than in
//! three parallel vectors: a lookup reads expiry and version, an eviction the victim's
//! key, and with caches far larger than the CPU caches each separate vector would cost
//! its own cache miss.
//!
//! The key -> slot index may hold stale slots: an eviction does not clear the victim's
//! index cell, and a cell counts only if the slot it names holds that same key. At
//! steady state every fill evicts, and the victim's cell is a random spot of a large
//! array, a cache miss on every fill; the check instead reads the entry, which a lookup
//! reads anyway.
//!
//! # Dense or hashed index
//!
//! A dense index has a cell per key of the key space, 4 MB per node over 1M keys even
//! for a node of 10k entries. A node holding a small share of the key space uses a hash
//! table instead ([`IndexKind`], chosen by [`Cache::new`] and [`Cache::with_meta`]):
//! linear probing over a power of two of packed (key, slot) `u64` buckets, 2.5 to 5
//! times the capacity, with a Fibonacci (multiplicative) hash. Its buckets go stale as
//! dense cells do (the same entry check finds them out), so an eviction costs nothing
//! here either; a fill that would take the used buckets past five eighths of the table
//! rebuilds it from the live entries instead (a scan of the entries, amortized O(1) a
//! fill). Lookups that end in an invalidation or an expiry remove their bucket at once
//! (backward-shift deletion: no tombstones). A cache sized in bytes, whose entry count
//! is unknown, starts at 16 buckets and doubles at a rebuild while its live entries take
//! more than two fifths of the table.
//!
//! The choice, by measurement (`examples/cache_index.rs`: 8 LRU nodes over one key
//! space, Zipf 0.9 keys scattered over it, a lookup and a fill on a miss, ns per
//! request, best of three, two runs on a shared 2-vCPU EPYC with 512 KiB of L2 per core
//! and 32 MiB of L3):
//!
//! | keys | capacity share | dense | hashed | hashed table / dense index |
//! |---|---|---|---|---|
//! | 10k | 0.16-1% | 13-31 ns | 30-45 ns | < 1/10 |
//! | 10k | 5-40% | 15-25 | 17-27 | 1/3-3 |
//! | 100k | 1% | 41-54 | 28 | 1/10 |
//! | 100k | 5% | 42-101 | 31-56 | 1/3 |
//! | 100k | 20% | 79-111 | 77-109 | 4/3 |
//! | 1M | 0.1-1% | 104-171 | 32-52 | 1/15-1/100 |
//! | 1M | 5% | 136-147 | 133-140 | 1/4 |
//! | 1M | 10% | 124-196 | 118-185 | 1/2 |
//! | 1M | 20-40% | 118-179 | 131-211 | 1-2 |
//! | 4M | 0.1-1% | 110-188 | 38-149 | 1/15-1/100 |
//! | 4M | 5% | 167-183 | 162-185 | 1/4 |
//! | 4M | 10% | 174-200 | 200-217 | 1/2 |
//!
//! The hash index wins by 2-3 times where its table is a small fraction of the dense
//! index; from about a quarter of it upwards the two are within noise, and once the
//! table is larger than the dense index the dense one wins. So a node hashes when its
//! table takes at most half the dense index's bytes (at most `key_space / 4` buckets,
//! rounded down to a power of two: 128Ki buckets, 1 MiB, over 1M keys), which keeps
//! every measured case at least as fast and saves memory in the neutral ones. Below
//! 64Ki keys the dense index (at most 256 KiB) stays in the CPU caches, and a tiny
//! hashed cache with a high miss ratio rebuilds often (1.5-1.8 times slower at 16 and
//! 100 entries over 10k keys), so the dense index is always used there. A hash index of
//! a cache sized in bytes that outgrows the bound turns dense for good. In the
//! quickstart the L1 instances (10k entries of 1M keys) and the CDN PoPs hash; the Redis
//! shards (100k entries: 256Ki buckets) stay dense, and so does the shield once it
//! holds more than about 52k objects.
//!
//! With content classes ([`crate::layer::http`]) a cache also keeps a [`Meta`] per slot: when
//! the origin generated the copy (for the `Age` it passes on), which client it was
//! fetched for (to count leaks of private copies), and its size. A cache of
//! `capacity_bytes` holds objects whose sizes sum to at most that many bytes, evicts
//! until a new object fits and never admits one larger than itself, as libCacheSim
//! does; its policy sees sizes in bytes. Any cache frees what its policy evicts on its
//! own ([`Policy::take_evicted`]) and stores nothing when the policy refuses the new key after
//! evicting for it ([`Fill::Bypassed`]).
//!
//! A policy that [makes room](Policy::makes_room) itself (LIRS's `libcachesim` variant)
//! decides what a fill evicts and whether it enters, and may evict on a hit: the cache
//! releases what it names and does not check its capacity for it.
//!
//! Expiry is lazy: an entry past its expiry is removed when it is next looked up (counted
//! as an expiration), or when the policy evicts it. No timer event per entry exists.

use crate::SimTime;
use crate::mem::prefetch::prefetch;
use crate::policy::{Access, AnyPolicy, BYPASS, Policy, Slot};

const ABSENT: Slot = Slot::MAX;

/// The key of a free slot: no real key (they are below `u32::MAX - 1`) matches it.
const NO_KEY: u32 = u32::MAX;

/// The key of an orphaned entry (`versioned_keys`): resident and in the policy, but no
/// key's lookup finds it again; it leaves when the policy evicts it.
const ORPHAN: u32 = u32::MAX - 1;

/// Which key -> slot index a [`Cache`] uses (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndexKind {
    /// One cell per key of the key space.
    Dense,
    /// An open-addressing hash table sized to the resident entries.
    Hashed,
}

/// A packed bucket: the key in the high 32 bits, its slot in the low 32.
type Bucket = u64;

/// An empty bucket: its key half is `NO_KEY`, which no real key matches.
const EMPTY: Bucket = u64::MAX;

/// The fewest buckets a hash index has.
const MIN_BUCKETS: usize = 16;

/// A hash index is used only while its table takes at most `1 / DENSE_RATIO` of the
/// dense index's bytes (4 per key); past that the dense one is used (module docs).
const DENSE_RATIO: u64 = 2;

/// Below this many keys the dense index is used whatever the capacity: it takes at
/// most 256 KiB, stays in the CPU caches, and measured faster (module docs).
const DENSE_BELOW: u32 = 1 << 16;

/// Buckets for `live` resident keys: a power of two, at least 2.5 times `live`.
fn buckets_for(live: u32) -> usize {
    let b = (2 * live as usize).next_power_of_two().max(MIN_BUCKETS);
    if 5 * live as usize > 2 * b { 2 * b } else { b }
}

/// The most buckets a hash index over `key_space` keys may have (0: none).
fn max_buckets(key_space: u32) -> usize {
    if key_space < DENSE_BELOW {
        return 0;
    }
    // 8 bytes a bucket against 4 a key.
    let most = (u64::from(key_space) / (2 * DENSE_RATIO)) as usize;
    if most == 0 { 0 } else { 1 << most.ilog2() }
}

/// The key -> slot map. Either kind may name a stale slot (module docs).
#[derive(Clone, Debug)]
enum Index {
    /// key -> slot, `ABSENT` when not resident.
    Dense(Vec<Slot>),
    Hashed(HashIndex),
}

/// Linear probing over packed (key, slot) buckets, a power of two of them. A bucket
/// outlives its key's eviction (stale, like a dense cell) until the table is rebuilt
/// from the live entries, when the used buckets reach five eighths of the table.
#[derive(Clone, Debug)]
struct HashIndex {
    buckets: Vec<Bucket>,
    /// `64 - log2(buckets.len())`: a key's home bucket is the top bits of its hash.
    shift: u32,
    /// Buckets in use, live or stale.
    used: usize,
    /// The key space, for a switch to a dense index.
    key_space: u32,
    /// The most buckets it is rebuilt to before it turns dense.
    max_buckets: usize,
}

impl HashIndex {
    fn new(buckets: usize, key_space: u32, max_buckets: usize) -> Self {
        debug_assert!(buckets.is_power_of_two());
        HashIndex {
            buckets: vec![EMPTY; buckets],
            shift: 64 - buckets.trailing_zeros(),
            used: 0,
            key_space,
            max_buckets,
        }
    }

    #[inline]
    fn mask(&self) -> usize {
        self.buckets.len() - 1
    }

    /// `key`'s home bucket: Fibonacci hashing (a multiply, the top bits).
    #[inline]
    fn home(&self, key: u32) -> usize {
        (u64::from(key).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    /// `Ok(bucket)` holding `key`, or `Err(bucket)`, the empty one ending its probes.
    #[inline]
    fn find(&self, key: u32) -> Result<usize, usize> {
        let mask = self.mask();
        let mut i = self.home(key);
        loop {
            let b = self.buckets[i];
            if b == EMPTY {
                return Err(i);
            }
            if (b >> 32) as u32 == key {
                return Ok(i);
            }
            i = (i + 1) & mask;
        }
    }

    /// The slot `key`'s bucket names (maybe stale), or `ABSENT`.
    #[inline]
    fn get(&self, key: u32) -> Slot {
        match self.find(key) {
            Ok(i) => self.buckets[i] as Slot,
            Err(_) => ABSENT,
        }
    }

    /// Points `key` at `slot`; false, changing nothing, if that needs a new bucket and
    /// the table is full (five eighths used): the caller rebuilds it.
    #[inline]
    fn set(&mut self, key: u32, slot: Slot) -> bool {
        let bucket = (u64::from(key) << 32) | u64::from(slot);
        match self.find(key) {
            Ok(i) => self.buckets[i] = bucket,
            Err(i) => {
                if 8 * (self.used + 1) > 5 * self.buckets.len() {
                    return false;
                }
                self.buckets[i] = bucket;
                self.used += 1;
            }
        }
        true
    }

    /// Removes `key`'s bucket if any, shifting later buckets of its run back (no
    /// tombstones: a probe still ends at the first empty bucket).
    #[inline]
    fn remove(&mut self, key: u32) {
        let Ok(mut hole) = self.find(key) else {
            return;
        };
        let mask = self.mask();
        let mut i = hole;
        loop {
            i = (i + 1) & mask;
            let b = self.buckets[i];
            if b == EMPTY {
                break;
            }
            // `b` may fill the hole if the hole lies on its probe path, home ..= i.
            let home = self.home((b >> 32) as u32);
            if i.wrapping_sub(home) & mask >= i.wrapping_sub(hole) & mask {
                self.buckets[hole] = b;
                hole = i;
            }
        }
        self.buckets[hole] = EMPTY;
        self.used -= 1;
    }
}

impl Index {
    /// The index for a cache expected to hold `entries` of `key_space` keys: hashed if
    /// its table would be small enough, else dense.
    fn for_entries(entries: u32, key_space: u32) -> Self {
        let buckets = buckets_for(entries.min(key_space));
        let most = max_buckets(key_space);
        if buckets <= most {
            Index::Hashed(HashIndex::new(buckets, key_space, most))
        } else {
            Index::Dense(vec![ABSENT; key_space as usize])
        }
    }

    fn key_space(&self) -> u32 {
        match self {
            Index::Dense(cells) => cells.len() as u32,
            Index::Hashed(h) => h.key_space,
        }
    }

    fn kind(&self) -> IndexKind {
        match self {
            Index::Dense(_) => IndexKind::Dense,
            Index::Hashed(_) => IndexKind::Hashed,
        }
    }

    fn bytes(&self) -> usize {
        match self {
            Index::Dense(cells) => 4 * cells.len(),
            Index::Hashed(h) => 8 * h.buckets.len(),
        }
    }

    /// The slot `key`'s cell or bucket names: `ABSENT`, or a slot that may hold
    /// another key now.
    #[inline]
    fn get(&self, key: u32) -> Slot {
        match self {
            Index::Dense(cells) => cells[key as usize],
            Index::Hashed(h) => h.get(key),
        }
    }

    /// Forgets `key`.
    #[inline]
    fn remove(&mut self, key: u32) {
        match self {
            Index::Dense(cells) => cells[key as usize] = ABSENT,
            Index::Hashed(h) => h.remove(key),
        }
    }
}

/// The result of [`Cache::get`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// A fresh copy is resident.
    Hit {
        /// The origin version the copy holds.
        version: u32,
        /// When the copy expires.
        expires: SimTime,
        /// Entries the policy evicted of its own accord as it took the hit: a segment
        /// it promoted the copy into overflowed (SLRU or W-TinyLFU in a cache sized in
        /// bytes, LIRS's `libcachesim` variant). Usually 0.
        evicted: u32,
    },
    /// No copy is resident.
    Miss,
    /// A copy was resident but expired; it has been removed.
    Expired,
}

/// The result of [`Cache::fill`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fill {
    /// The key was absent and is now resident.
    Inserted {
        /// Entries evicted to make room: 0 or 1, or more in a cache sized in bytes.
        evicted: u32,
    },
    /// The key was resident; its version and expiry were overwritten.
    Updated {
        /// Entries the policy evicted of its own accord as it touched the key (see
        /// [`Lookup::Hit`]'s `evicted`).
        evicted: u32,
    },
    /// The policy declined to admit the key; nothing changed.
    Rejected,
    /// The policy evicted `evicted` entries, then gave up on the key: it ranked it below
    /// every resident one ([`BYPASS`]), or made room and still declined it. It was not
    /// stored.
    Bypassed {
        /// Entries evicted before the policy gave up on the key.
        evicted: u32,
    },
}

impl Fill {
    /// Entries this fill evicted.
    pub fn evicted(self) -> u32 {
        match self {
            Fill::Inserted { evicted } | Fill::Bypassed { evicted } | Fill::Updated { evicted } => {
                evicted
            }
            Fill::Rejected => 0,
        }
    }
}

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

/// A byte budget (`capacity_bytes`).
#[derive(Clone, Copy, Debug)]
struct Budget {
    capacity: u64,
    used: u64,
}

/// A resident entry.
#[derive(Clone, Copy, Debug)]
struct Entry {
    expires: SimTime,
    key: u32,
    version: u32,
}

/// One cache node: at most `capacity` entries, chosen by an eviction policy.
///
/// ```
/// use tiersim::store::cache::{Cache, Fill, Lookup};
/// use tiersim::policy::PolicySpec;
/// use tiersim::SimTime;
///
/// let mut c = Cache::new(2, 10, PolicySpec::from_name("lru").unwrap().build(2, 0));
/// let t = SimTime::from_secs_f64(1.0);
/// c.fill(1, 0, SimTime::NEVER);
/// c.fill(2, 0, t);
/// assert!(matches!(c.get(1, SimTime::ZERO), Lookup::Hit { .. }));
/// assert_eq!(c.fill(3, 0, SimTime::NEVER), Fill::Inserted { evicted: 1 }); // evicts 2
/// assert_eq!(c.get(2, SimTime::ZERO), Lookup::Miss);
/// c.fill(2, 0, t);                                       // evicts 1
/// assert_eq!(c.get(2, t), Lookup::Expired);
/// ```
#[derive(Debug)]
pub struct Cache {
    /// key -> slot.
    index: Index,
    /// slot -> entry.
    entries: Vec<Entry>,
    free: Vec<Slot>,
    len: u32,
    capacity: u32,
    policy: AnyPolicy,
    /// slot -> meta, parallel to `entries`; empty unless the cache keeps metas.
    meta: Vec<Meta>,
    keeps_meta: bool,
    /// The byte budget of a cache sized in bytes.
    budget: Option<Budget>,
    /// Whether the policy [makes room](Policy::makes_room) itself.
    makes_room: bool,
}

impl Cache {
    /// An empty cache of `capacity` entries over the keys `0..key_space`.
    pub fn new(capacity: u32, key_space: u32, policy: AnyPolicy) -> Self {
        Cache::with_index(
            capacity,
            key_space,
            policy,
            Index::for_entries(capacity, key_space),
        )
    }

    fn with_index(capacity: u32, key_space: u32, policy: AnyPolicy, index: Index) -> Self {
        let reserve = capacity.min(key_space) as usize;
        Cache {
            index,
            entries: Vec::with_capacity(reserve),
            free: Vec::new(),
            len: 0,
            capacity,
            makes_room: policy.makes_room(),
            meta: Vec::new(),
            keeps_meta: false,
            budget: None,
            policy,
        }
    }

    /// An empty cache that keeps a [`Meta`] per copy (content classes), holding at most
    /// `capacity` entries or, if `bytes` is set, objects of at most that many bytes in
    /// all; `policy` must count in the same unit.
    ///
    /// ```
    /// use tiersim::store::cache::{Cache, Fill, Meta};
    /// use tiersim::policy::{Capacity, PolicySpec};
    /// use tiersim::SimTime;
    ///
    /// let lru = PolicySpec::from_name("lru").unwrap();
    /// let units = Capacity { units: 100, slots_hint: 4 };
    /// let mut c = Cache::with_meta(u32::MAX, Some(100), 10, lru.build_sized(units, 0));
    /// let sized = |size| Meta { size, ..Meta::UNIT };
    /// c.fill_with(1, 0, SimTime::NEVER, sized(60));
    /// c.fill_with(2, 0, SimTime::NEVER, sized(30));
    /// assert_eq!(c.fill_with(3, 0, SimTime::NEVER, sized(50)), Fill::Inserted { evicted: 1 });
    /// assert!(!c.contains(1) && c.contains(2) && c.contains(3));
    /// assert_eq!(c.fill_with(4, 0, SimTime::NEVER, sized(101)), Fill::Rejected);
    /// assert_eq!(c.used_bytes(), Some(80));
    /// ```
    pub fn with_meta(capacity: u32, bytes: Option<u64>, key_space: u32, policy: AnyPolicy) -> Self {
        // A byte budget says nothing of the entry count: start small, grow as it fills.
        let entries = if bytes.is_some() { 0 } else { capacity };
        let index = Index::for_entries(entries, key_space);
        Cache {
            keeps_meta: true,
            budget: bytes.map(|capacity| Budget { capacity, used: 0 }),
            ..Cache::with_index(capacity, key_space, policy, index)
        }
    }

    /// Which index this cache uses now: chosen from its capacity and key space, and a
    /// hash index of a cache sized in bytes turns dense if it grows too large.
    pub fn index_kind(&self) -> IndexKind {
        self.index.kind()
    }

    /// Replaces the index with one of `kind` over the same keys, whatever the automatic
    /// choice (for benchmarks and tests); nothing else changes. O(key space).
    pub fn set_index_kind(&mut self, kind: IndexKind) {
        let key_space = self.index.key_space();
        self.index = match kind {
            IndexKind::Dense => Index::Dense(vec![ABSENT; key_space as usize]),
            IndexKind::Hashed => {
                let entries = self.capacity.min(key_space).max(self.len);
                Index::Hashed(HashIndex::new(buckets_for(entries), key_space, usize::MAX))
            }
        };
        self.reindex();
    }

    /// Points `key` at `slot` in the index.
    #[inline]
    fn index_set(&mut self, key: u32, slot: Slot) {
        match &mut self.index {
            Index::Dense(cells) => cells[key as usize] = slot,
            Index::Hashed(h) => {
                if !h.set(key, slot) {
                    self.rebuild_index();
                    self.index_set(key, slot);
                }
            }
        }
    }

    /// Replaces a full hash index by one of the live entries alone, twice as large if
    /// they take more than two fifths of it, or by a dense index if that would be too
    /// large. Amortized O(1) a fill: at least a quarter of the table's buckets are
    /// free after it.
    #[cold]
    fn rebuild_index(&mut self) {
        let Index::Hashed(h) = &self.index else {
            return;
        };
        let live = self.entries.iter().filter(|e| e.key < ORPHAN).count() as u32;
        // Room for the key about to be set.
        let buckets = buckets_for(live + 1).max(h.buckets.len());
        if buckets == h.buckets.len() {
            let Index::Hashed(h) = &mut self.index else {
                unreachable!()
            };
            h.buckets.fill(EMPTY);
            h.used = 0;
        } else if buckets <= h.max_buckets {
            self.index = Index::Hashed(HashIndex::new(buckets, h.key_space, h.max_buckets));
        } else {
            self.index = Index::Dense(vec![ABSENT; h.key_space as usize]);
        }
        self.reindex();
    }

    /// Fills an empty index from the live entries.
    fn reindex(&mut self) {
        for slot in 0..self.entries.len() as Slot {
            let key = self.entries[slot as usize].key;
            if key < ORPHAN {
                self.index_set(key, slot);
            }
        }
    }

    /// Bytes the key -> slot index takes now.
    pub fn index_bytes(&self) -> usize {
        self.index.bytes()
    }

    /// Bytes the entries (and their metas, if kept) take, as allocated.
    pub fn entry_bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<Entry>()
            + self.meta.capacity() * std::mem::size_of::<Meta>()
    }

    /// Resident entries (fresh or not yet noticed to be expired).
    pub fn len(&self) -> u32 {
        self.len
    }

    /// Whether no entry is resident.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The most entries this cache holds.
    pub fn capacity(&self) -> u32 {
        self.capacity
    }

    /// Bytes held, if the cache is sized in bytes.
    pub fn used_bytes(&self) -> Option<u64> {
        self.budget.map(|b| b.used)
    }

    /// The [`Meta`] of `key`'s copy, if resident and the cache keeps metas.
    #[inline]
    pub fn meta(&self, key: u32) -> Option<Meta> {
        self.meta.get(self.slot(key)? as usize).copied()
    }

    /// Whether `key` is resident, without touching the policy or expiring it.
    pub fn contains(&self, key: u32) -> bool {
        self.slot(key).is_some()
    }

    /// `key`'s slot if resident. Its index cell may be stale (see the module docs).
    #[inline]
    fn slot(&self, key: u32) -> Option<Slot> {
        let slot = self.index.get(key);
        match self.entries.get(slot as usize) {
            Some(e) if e.key == key => Some(slot),
            _ => None,
        }
    }

    /// Prefetches `key`'s index cell or home bucket ([`crate::mem::prefetch`]): the first
    /// stage of a read-ahead, which a batch of keys runs before the second
    /// ([`Cache::prefetch_entry`]), so the misses of the whole batch overlap.
    #[inline]
    pub fn prefetch_index(&self, key: u32) {
        match &self.index {
            Index::Dense(cells) => prefetch(cells, key as usize),
            Index::Hashed(h) => prefetch(&h.buckets, h.home(key)),
        }
    }

    /// Reads `key`'s index cell or home bucket, prefetched by
    /// [`Cache::prefetch_index`], and prefetches the entry, meta and policy state of
    /// the slot it names: what a lookup of `key` soon after will read. A hash index's
    /// home bucket is taken as is, without probing: a probe loop here would stall the
    /// batch on a mispredicted branch per key, and the slot is only a hint anyway.
    #[inline]
    pub fn prefetch_entry(&self, key: u32) {
        let slot = match &self.index {
            Index::Dense(cells) => cells.get(key as usize).copied().unwrap_or(ABSENT),
            Index::Hashed(h) => {
                let b = h.buckets[h.home(key)];
                if (b >> 32) as u32 == key {
                    b as Slot
                } else {
                    ABSENT
                }
            }
        };
        if (slot as usize) < self.entries.len() {
            prefetch(&self.entries, slot as usize);
            prefetch(&self.meta, slot as usize);
            self.policy.prefetch(slot);
        }
    }

    /// `key`'s version and expiry if resident, fresh or expired, without touching the
    /// policy or removing it: `stale_while_revalidate` serves an expired copy.
    #[inline]
    pub fn peek(&self, key: u32) -> Option<(u32, SimTime)> {
        let e = self.entries[self.slot(key)? as usize];
        Some((e.version, e.expires))
    }

    /// Looks `key` up at `now`: a fresh copy counts as a hit for the policy; an expired
    /// one is removed.
    #[inline]
    pub fn get(&mut self, key: u32, now: SimTime) -> Lookup {
        let Some(slot) = self.slot(key) else {
            return Lookup::Miss;
        };
        let Entry {
            expires, version, ..
        } = self.entries[slot as usize];
        if expires <= now {
            self.policy.remove(slot);
            self.release(key, slot);
            self.release_evicted();
            return Lookup::Expired;
        }
        self.policy.touch(slot, &Access::key(key));
        let evicted = self.release_evicted();
        Lookup::Hit {
            version,
            expires,
            evicted,
        }
    }

    /// Stores `key` at `version` until `expires`, evicting if the cache is full.
    #[inline]
    pub fn fill(&mut self, key: u32, version: u32, expires: SimTime) -> Fill {
        self.fill_with(key, version, expires, Meta::UNIT)
    }

    /// [`fill`](Self::fill) with the copy's [`Meta`], which a cache sized in bytes
    /// needs for the size (a cache without metas ignores it).
    #[inline]
    pub fn fill_with(&mut self, key: u32, version: u32, expires: SimTime, meta: Meta) -> Fill {
        if self.capacity == 0 {
            return Fill::Inserted { evicted: 0 };
        }
        if self.budget.is_some() {
            return self.fill_sized(key, version, expires, meta);
        }
        let access = Access::key(key);
        let entry = Entry {
            expires,
            key,
            version,
        };
        if let Some(slot) = self.slot(key) {
            self.entries[slot as usize] = entry;
            if self.keeps_meta {
                self.meta[slot as usize] = meta;
            }
            self.policy.touch(slot, &access);
            let evicted = self.release_evicted();
            return Fill::Updated { evicted };
        }
        if self.makes_room {
            return self.fill_made_room(entry, meta, &access);
        }
        let full = self.len == self.capacity;
        if !self.policy.admit(&access, full) {
            return Fill::Rejected;
        }
        let mut evicted = 0;
        let slot = if full {
            // The victim's slot is reused in place: no free-list traffic at steady state.
            let victim = self.policy.evict(&access);
            if victim == BYPASS {
                return Fill::Bypassed { evicted: 0 };
            }
            // The victim's index cell or bucket is left stale: the entry overwritten
            // below no longer holds its key.
            self.len -= 1;
            evicted = 1 + self.release_evicted();
            victim
        } else {
            self.vacant_slot(entry)
        };
        evicted += self.store(slot, entry, meta, &access);
        Fill::Inserted { evicted }
    }

    /// A free slot, or a new one at the end of the arrays.
    #[inline]
    fn vacant_slot(&mut self, entry: Entry) -> Slot {
        match self.free.pop() {
            Some(s) => s,
            None => self.push_slot(entry),
        }
    }

    /// Stores `entry` (with `meta`) in the vacant `slot`: its index cell, the byte
    /// budget and the policy's state. Returns how many entries the policy evicted of its
    /// own accord as it took the new one in.
    #[inline]
    fn store(&mut self, slot: Slot, entry: Entry, meta: Meta, access: &Access) -> u32 {
        self.entries[slot as usize] = entry;
        if self.keeps_meta {
            self.meta[slot as usize] = meta;
        }
        self.index_set(entry.key, slot);
        self.len += 1;
        if let Some(b) = &mut self.budget {
            b.used += u64::from(meta.size);
        }
        self.policy.insert(slot, access);
        self.release_evicted()
    }

    /// A new slot at the end of the arrays.
    fn push_slot(&mut self, entry: Entry) -> Slot {
        self.entries.push(entry);
        if self.keeps_meta {
            self.meta.push(Meta::UNIT);
        }
        (self.entries.len() - 1) as Slot
    }

    /// [`fill_with`](Self::fill_with) for a cache sized in bytes: evicts until the object
    /// fits; one larger than the whole cache is never admitted.
    #[cold]
    fn fill_sized(&mut self, key: u32, version: u32, expires: SimTime, meta: Meta) -> Fill {
        let Budget { capacity, .. } = self.budget.expect("sized");
        let size = u64::from(meta.size);
        let access = Access {
            size: meta.size,
            ..Access::key(key)
        };
        let entry = Entry {
            expires,
            key,
            version,
        };
        if let Some(slot) = self.slot(key) {
            let old = u64::from(self.meta[slot as usize].size);
            self.entries[slot as usize] = entry;
            self.meta[slot as usize] = meta;
            self.policy.touch(slot, &access);
            self.budget_mut().used = self.budget_mut().used - old + size;
            let evicted = self.release_evicted();
            return Fill::Updated { evicted };
        }
        if size > capacity {
            return Fill::Rejected;
        }
        if self.makes_room {
            return self.fill_made_room(entry, meta, &access);
        }
        let full = self.budget_mut().used + size > capacity;
        if !self.policy.admit(&access, full) {
            return Fill::Rejected;
        }
        let mut evicted = 0;
        while self.len > 0 && self.budget_mut().used + size > capacity {
            // The victim's cell or bucket is left stale: its entry is freed.
            let victim = self.policy.evict(&access);
            if victim == BYPASS {
                return Fill::Bypassed { evicted };
            }
            self.release_slot(victim);
            evicted += 1 + self.release_evicted();
        }
        let slot = self.vacant_slot(entry);
        evicted += self.store(slot, entry, meta, &access);
        Fill::Inserted { evicted }
    }

    /// A fill for a policy that [makes room](Policy::makes_room): it evicts what it
    /// chooses and says whether the key enters; the capacity is its to keep.
    #[cold]
    fn fill_made_room(&mut self, entry: Entry, meta: Meta, access: &Access) -> Fill {
        let admitted = self.policy.make_room(access);
        let mut evicted = self.release_evicted();
        match (admitted, evicted) {
            (false, 0) => Fill::Rejected,
            (false, _) => Fill::Bypassed { evicted },
            (true, _) => {
                let slot = self.vacant_slot(entry);
                evicted += self.store(slot, entry, meta, access);
                Fill::Inserted { evicted }
            }
        }
    }

    /// Releases the slots the policy evicted of its own accord ([`Policy::take_evicted`]:
    /// on a hit, beside a victim, or making room); their index cells are left stale, as
    /// an eviction's are. Returns how many. Compiles to a test of the policy's variant
    /// for the policies that never do.
    #[inline]
    fn release_evicted(&mut self) -> u32 {
        let mut n = 0;
        while let Some(slot) = self.policy.take_evicted() {
            self.release_slot(slot);
            n += 1;
        }
        n
    }

    fn budget_mut(&mut self) -> &mut Budget {
        self.budget.as_mut().expect("sized")
    }

    /// Removes `key` if resident (an invalidation); returns whether it was.
    pub fn invalidate(&mut self, key: u32) -> bool {
        let Some(slot) = self.slot(key) else {
            return false;
        };
        self.policy.remove(slot);
        self.release(key, slot);
        self.release_evicted();
        true
    }

    /// Detaches `key`'s copy from its key (`versioned_keys`: a newer version is now the
    /// one readers ask for): it keeps its slot and its place in the policy until evicted,
    /// but is never found again. Returns whether a copy was resident.
    pub fn orphan(&mut self, key: u32) -> bool {
        let Some(slot) = self.slot(key) else {
            return false;
        };
        self.index.remove(key);
        self.entries[slot as usize].key = ORPHAN;
        true
    }

    /// Resident orphaned entries: capacity that no read can use. O(capacity).
    pub fn orphans(&self) -> u32 {
        self.entries.iter().filter(|e| e.key == ORPHAN).count() as u32
    }

    /// Drops every entry, orphans included (a crash). O(capacity).
    pub fn clear(&mut self) {
        for slot in 0..self.entries.len() {
            let key = self.entries[slot].key;
            let resident = key == ORPHAN || (key != NO_KEY && self.slot(key) == Some(slot as Slot));
            if resident {
                self.policy.remove(slot as Slot);
                if key != ORPHAN {
                    self.index.remove(key);
                }
                self.release_slot(slot as Slot);
                self.release_evicted();
            }
        }
        debug_assert_eq!(self.len, 0);
    }

    fn release(&mut self, key: u32, slot: Slot) {
        self.index.remove(key);
        self.release_slot(slot);
    }

    /// Frees `slot`, whose index cell the caller has dealt with.
    fn release_slot(&mut self, slot: Slot) {
        self.entries[slot as usize].key = NO_KEY;
        self.free.push(slot);
        self.len -= 1;
        if let Some(b) = &mut self.budget {
            b.used -= u64::from(self.meta[slot as usize].size);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::PolicySpec;

    fn cache(policy: &str, capacity: u32) -> Cache {
        Cache::new(
            capacity,
            100,
            PolicySpec::from_name(policy)
                .unwrap()
                .build(capacity as usize, 1),
        )
    }

    #[test]
    fn occupancy_never_exceeds_capacity_and_slots_are_reused() {
        let mut c = cache("lru", 3);
        for k in 0..50 {
            c.fill(k % 7, 0, SimTime::NEVER);
            assert!(c.len() <= 3);
        }
        assert_eq!(
            c.entries.len(),
            3,
            "no slot beyond capacity is ever allocated"
        );
        assert!(c.invalidate(49 % 7));
        assert!(!c.invalidate(49 % 7));
        c.fill(50, 0, SimTime::NEVER);
        assert_eq!(c.entries.len(), 3, "a freed slot is reused");
    }

    #[test]
    fn keeps_the_most_requested_keys_even_after_eviction() {
        // Perfect LFU in the store: counts outlive residence.
        let spec = PolicySpec::from_name("perfect_lfu").unwrap();
        let mut c = Cache::new(2, 10, spec.build(2, 0));
        let read = |c: &mut Cache, k: u32| {
            if !matches!(c.get(k, SimTime::ZERO), Lookup::Hit { .. }) {
                c.fill(k, 0, SimTime::NEVER);
            }
        };
        // counts: 1 -> 3, 2 -> 2
        for k in [1, 1, 1, 2, 2] {
            read(&mut c, k);
        }
        // 3 arrives with count 1 < min resident count 2: not admitted.
        assert_eq!(c.fill(3, 0, SimTime::NEVER), Fill::Rejected);
        assert!(!c.contains(3));
        // Two more requests for 3 bring it to 3 > 2: it replaces 2.
        assert_eq!(c.fill(3, 0, SimTime::NEVER), Fill::Rejected);
        assert_eq!(c.fill(3, 0, SimTime::NEVER), Fill::Inserted { evicted: 1 });
        assert!(c.contains(1) && c.contains(3) && !c.contains(2));
        // 2 keeps its count of 2 while out of the cache: one more request (3) is not
        // enough to beat the residents' minimum of 3, a second (4) is.
        assert_eq!(c.fill(2, 0, SimTime::NEVER), Fill::Rejected);
        assert_eq!(c.fill(2, 0, SimTime::NEVER), Fill::Inserted { evicted: 1 });
        assert!(c.contains(2), "remembered count brought 2 back");
        // Ties at count 3 would have evicted the one that reached it first; 1 has 3, 3 has 3.
        assert!(c.contains(1) ^ c.contains(3));
    }

    #[test]
    fn matches_a_naive_lru_with_stale_index_cells() {
        let c = cache("lru", 8);
        assert_eq!(c.index_kind(), IndexKind::Dense, "100 keys: dense");
        check_against_naive_lru(c);
    }

    #[test]
    fn matches_a_naive_lru_with_stale_hash_buckets() {
        let mut c = cache("lru", 8);
        c.set_index_kind(IndexKind::Hashed);
        check_against_naive_lru(c);
    }

    /// Random fills, lookups, invalidations and expiries against a plain list model:
    /// an evicted key's stale index cell or bucket must never make it look resident.
    fn check_against_naive_lru(mut c: Cache) {
        let mut model: Vec<(u32, u32, SimTime)> = Vec::new(); // oldest first
        let mut z = 5u64;
        for step in 0..200_000u64 {
            z = crate::base::rng::mix64(z);
            let key = (z % 40) as u32;
            let now = SimTime::from_nanos(step);
            let pos = model.iter().position(|e| e.0 == key);
            match (z >> 8) % 4 {
                0 | 1 => {
                    let want = match pos {
                        None => Lookup::Miss,
                        Some(p) if model[p].2 <= now => {
                            model.remove(p);
                            Lookup::Expired
                        }
                        Some(p) => {
                            let e = model.remove(p);
                            model.push(e);
                            Lookup::Hit {
                                version: e.1,
                                expires: e.2,
                                evicted: 0,
                            }
                        }
                    };
                    assert_eq!(c.get(key, now), want, "step {step}");
                }
                2 => {
                    let version = (z >> 16) as u32 % 5;
                    let expires = SimTime::from_nanos(step + (z >> 24) % 64);
                    let want = match pos {
                        Some(p) => {
                            model.remove(p);
                            Fill::Updated { evicted: 0 }
                        }
                        None => {
                            let evicted = model.len() == 8;
                            if evicted {
                                model.remove(0);
                            }
                            Fill::Inserted {
                                evicted: u32::from(evicted),
                            }
                        }
                    };
                    model.push((key, version, expires));
                    assert_eq!(c.fill(key, version, expires), want, "step {step}");
                }
                _ => {
                    if let Some(p) = pos {
                        model.remove(p);
                    }
                    assert_eq!(c.invalidate(key), pos.is_some(), "step {step}");
                }
            }
            assert_eq!(c.len() as usize, model.len());
            for k in 0..40 {
                assert_eq!(c.contains(k), model.iter().any(|e| e.0 == k), "key {k}");
            }
        }
    }

    #[test]
    fn backward_shift_deletion_keeps_every_other_key_findable() {
        let mut h = HashIndex::new(64, 1 << 20, 64);
        let mut z = 11u64;
        let mut keys: Vec<(u32, Slot)> = Vec::new();
        while keys.len() < 40 {
            z = crate::base::rng::mix64(z);
            let key = (z % (1 << 20)) as u32;
            if keys.iter().all(|&(k, _)| k != key) {
                let slot = keys.len() as Slot;
                assert!(h.set(key, slot));
                keys.push((key, slot));
            }
        }
        assert!(!h.set(7 << 20, 0), "past five eighths: the caller rebuilds");
        while !keys.is_empty() {
            z = crate::base::rng::mix64(z);
            let (gone, _) = keys.swap_remove((z % keys.len() as u64) as usize);
            h.remove(gone);
            assert_eq!(h.get(gone), ABSENT);
            for &(k, slot) in &keys {
                assert_eq!(h.get(k), slot, "key {k}");
            }
            assert_eq!(h.used, keys.len());
        }
        assert!(h.buckets.iter().all(|&b| b == EMPTY));
    }

    #[test]
    fn index_is_chosen_by_capacity_share_and_a_byte_sized_one_turns_dense() {
        let lru = PolicySpec::from_name("lru").unwrap();
        let kind = |capacity: u32, keys: u32| {
            Cache::new(capacity, keys, lru.build(capacity.min(keys) as usize, 0)).index_kind()
        };
        assert_eq!(kind(10_000, 1_000_000), IndexKind::Hashed);
        assert_eq!(kind(26_000, 1_000_000), IndexKind::Hashed);
        assert_eq!(kind(100_000, 1_000_000), IndexKind::Dense);
        assert_eq!(kind(100, 60_000), IndexKind::Dense, "a small key space");
        assert_eq!(kind(u32::MAX, 1_000_000), IndexKind::Dense);

        let keys = 1 << 17; // at most 32Ki buckets: 13107 live entries at a rebuild
        let units = crate::policy::Capacity {
            units: 1 << 40,
            slots_hint: 16,
        };
        let mut c = Cache::with_meta(u32::MAX, Some(1 << 40), keys, lru.build_sized(units, 0));
        assert_eq!((c.index_kind(), c.index_bytes()), (IndexKind::Hashed, 128));
        let key = |i: u32| i.wrapping_mul(40_503) % keys;
        for i in 0..6_000 {
            c.fill(key(i), i, SimTime::NEVER);
        }
        assert_eq!(c.index_kind(), IndexKind::Hashed, "grown, not dense yet");
        assert_eq!(c.index_bytes(), 8 * 16_384);
        for i in 6_000..30_000 {
            c.fill(key(i), i, SimTime::NEVER);
        }
        assert_eq!(c.index_kind(), IndexKind::Dense);
        assert_eq!(c.len(), 30_000);
        for i in 0..30_000 {
            assert_eq!(c.peek(key(i)), Some((i, SimTime::NEVER)));
        }
        assert!(!c.contains(key(30_000)));
    }

    #[test]
    fn orphans_keep_their_slot_until_evicted_and_clear_empties_all() {
        let mut c = cache("lru", 3);
        c.fill(1, 0, SimTime::NEVER);
        c.fill(2, 0, SimTime::NEVER);
        assert!(c.orphan(1));
        assert!(!c.orphan(1));
        assert_eq!(c.get(1, SimTime::ZERO), Lookup::Miss);
        assert_eq!(
            (c.len(), c.orphans()),
            (2, 1),
            "the orphan still takes a slot"
        );
        c.fill(1, 1, SimTime::NEVER);
        assert_eq!((c.len(), c.orphans()), (3, 1));
        // The orphan is the least recently used: the next insert evicts it.
        assert_eq!(c.fill(3, 0, SimTime::NEVER), Fill::Inserted { evicted: 1 });
        assert_eq!(c.orphans(), 0);
        assert!(c.contains(1) && c.contains(2) && c.contains(3));
        c.orphan(2);
        c.clear();
        assert!(c.is_empty());
        assert!(!c.contains(1) && !c.contains(3));
        c.fill(4, 0, SimTime::NEVER);
        assert!(c.contains(4));
    }

    #[test]
    fn orphans_and_clear_with_a_hash_index() {
        let mut c = Cache::new(
            3,
            1 << 20,
            PolicySpec::from_name("lru").unwrap().build(3, 1),
        );
        assert_eq!(c.index_kind(), IndexKind::Hashed);
        c.fill(1, 0, SimTime::NEVER);
        c.fill(2, 0, SimTime::NEVER);
        assert!(c.orphan(1));
        assert_eq!(c.get(1, SimTime::ZERO), Lookup::Miss);
        c.fill(1, 1, SimTime::NEVER);
        assert_eq!(c.fill(3, 0, SimTime::NEVER), Fill::Inserted { evicted: 1 });
        assert_eq!((c.len(), c.orphans()), (3, 0));
        c.clear();
        assert!(c.is_empty() && !c.contains(1) && !c.contains(2) && !c.contains(3));
        for k in 0..100 {
            c.fill(k << 12, k, SimTime::NEVER);
        }
        assert!((97..100).all(|k| c.peek(k << 12) == Some((k, SimTime::NEVER))));
        assert_eq!(c.len(), 3);
    }

    #[test]
    fn a_policy_that_makes_room_evicts_on_hits_and_may_overfill() {
        // LIRS as libCacheSim runs it, capacity 3 (see its unit test of the same trace).
        let lirs: PolicySpec = "lirs:variant=libcachesim".parse().unwrap();
        let mut c = Cache::new(3, 100, lirs.build(3, 1));
        let mut out = Vec::new();
        for k in [1, 2, 3, 4, 1, 2, 4, 5, 4, 1, 3] {
            if let Lookup::Hit { evicted, .. } = c.get(k, SimTime::ZERO) {
                out.push(format!("{k} hit -{evicted} {}", c.len()));
            } else {
                let Fill::Inserted { evicted } = c.fill(k, 0, SimTime::NEVER) else {
                    panic!("{k} not admitted")
                };
                out.push(format!("{k} miss -{evicted} {}", c.len()));
            }
        }
        // The hit on 4 after 5 came in evicts: the cache goes from 4 entries to 3.
        let want = "1 miss -0 1, 2 miss -0 2, 3 miss -0 3, 4 miss -1 3, 1 hit -0 3, \
                    2 hit -0 3, 4 hit -0 3, 5 miss -0 4, 4 hit -1 3, 1 miss -1 3, 3 miss -1 3";
        assert_eq!(out.join(", "), want);
        assert!(c.contains(3) && c.contains(4) && c.contains(5) && !c.contains(1));
        assert!(c.invalidate(4));
        c.clear();
        assert!(c.is_empty());
    }

    #[test]
    fn refill_overwrites_version_and_expiry() {
        let mut c = cache("fifo", 2);
        c.fill(1, 1, SimTime::from_nanos(10));
        assert_eq!(
            c.fill(1, 2, SimTime::from_nanos(20)),
            Fill::Updated { evicted: 0 }
        );
        assert_eq!(
            c.get(1, SimTime::from_nanos(15)),
            Lookup::Hit {
                version: 2,
                expires: SimTime::from_nanos(20),
                evicted: 0,
            }
        );
        assert_eq!(c.get(1, SimTime::from_nanos(20)), Lookup::Expired);
        assert!(c.is_empty());
    }
}
