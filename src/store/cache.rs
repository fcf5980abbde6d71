//! One cache node: the store behind every scenario layer's nodes.
//!
//! A [`Cache`] maps dense integer keys to slots through its [index](super::index), keeps
//! each resident entry's expiry and version, and runs the store's [fill
//! protocol](super::fill) with its [`Policy`]. Layers differ in topology, latency and HTTP
//! rules, never in how a node stores entries. It knows policies, not layers or requests.
//!
//! Memory per resident entry: 16 bytes here (key, version, expiry), the policy's own
//! state (8 bytes for LRU and FIFO, 12 for LFU), plus the key -> slot index: either
//! dense, 4 bytes per key of the key space, or a hash table sized to the entries, 8 bytes
//! a bucket, 20 to 40 bytes per entry of capacity.
//!
//! The index may name stale slots: an eviction leaves the victim's cell as it is, and a
//! cell counts only if the slot it names holds that same key.
//!
//! With content classes ([`crate::layer::http`]) a cache also keeps a [`Meta`] per slot:
//! when the origin generated the copy (for the `Age` it passes on), which client it was
//! fetched for (to count leaks of private copies), and its size. A cache of
//! `capacity_bytes` holds objects whose sizes sum to at most that many bytes, evicts
//! until a new object fits and never admits one larger than itself, as libCacheSim
//! does; its policy sees sizes in bytes.
//!
//! Expiry is lazy: an entry past its expiry is removed when it is next looked up (counted
//! as an expiration), or when the policy evicts it. No timer event per entry exists.

use crate::SimTime;
use crate::mem::prefetch::prefetch;
use crate::policy::{Access, AnyPolicy, Policy, PrefetchHints, Slot};
use crate::store::fill::{self, Slots};
use crate::store::index::Index;

pub use crate::store::Meta;
pub use crate::store::fill::{Fill, Lookup};
pub use crate::store::index::IndexKind;

/// The key of a free slot: no real key (they are below `u32::MAX - 1`) matches it.
const NO_KEY: u32 = u32::MAX;

/// The key of an orphaned entry (`versioned_keys`): resident and in the policy, but no
/// key's lookup finds it again; it leaves when the policy evicts it.
const ORPHAN: u32 = u32::MAX - 1;

/// A byte budget (`capacity_bytes`).
#[derive(Clone, Copy, Debug)]
struct Budget {
    capacity: u64,
    used: u64,
}

/// A resident entry: key, version and expiry in one record, which a lookup reads at
/// once (docs/performance.md).
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

/// A cache as the fill protocol sees it. `BYTES`: its budget counts bytes, not entries;
/// only a fill's budget checks read it, so lookups and removals take either.
struct Node<'a, const BYTES: bool>(&'a mut Cache);

impl<const BYTES: bool> Slots for Node<'_, BYTES> {
    type Policy = AnyPolicy;
    type Item = (Entry, Meta);

    #[inline(always)]
    fn policy(&mut self) -> &mut AnyPolicy {
        &mut self.0.policy
    }

    #[inline(always)]
    fn makes_room(&self) -> bool {
        self.0.makes_room
    }

    #[inline(always)]
    fn oversized(&self, size: u32) -> bool {
        BYTES && self.0.budget.is_some_and(|b| u64::from(size) > b.capacity)
    }

    #[inline(always)]
    fn fits(&self, size: u32) -> bool {
        if BYTES {
            self.0
                .budget
                .is_none_or(|b| b.used + u64::from(size) <= b.capacity)
        } else {
            self.0.len < self.0.capacity
        }
    }

    #[inline(always)]
    fn release(&mut self, slot: Slot) {
        self.0.release_slot(slot);
    }

    /// Counted in entries, the one victim's slot takes the new entry in place: no
    /// free-list traffic at steady state. Its index cell is left stale.
    #[inline(always)]
    fn release_victim(&mut self, victim: Slot) -> Option<Slot> {
        if BYTES {
            self.release(victim);
            None
        } else {
            self.0.len -= 1;
            Some(victim)
        }
    }

    #[inline(always)]
    fn vacant(&mut self) -> Slot {
        let c = &mut *self.0;
        match c.free.pop() {
            Some(s) => s,
            None => {
                c.entries.push(Entry {
                    expires: SimTime::ZERO,
                    key: NO_KEY,
                    version: 0,
                });
                if c.keeps_meta {
                    c.meta.push(Meta::UNIT);
                }
                (c.entries.len() - 1) as Slot
            }
        }
    }

    #[inline(always)]
    fn occupy(&mut self, slot: Slot, (entry, meta): (Entry, Meta), _: &Access) {
        let c = &mut *self.0;
        c.entries[slot as usize] = entry;
        if c.keeps_meta {
            c.meta[slot as usize] = meta;
        }
        c.index_set(entry.key, slot);
        c.len += 1;
        if let Some(b) = &mut c.budget {
            b.used += u64::from(meta.size);
        }
    }

    #[inline(always)]
    fn overwrite(&mut self, slot: Slot, (entry, meta): (Entry, Meta), _: &Access) {
        let c = &mut *self.0;
        c.entries[slot as usize] = entry;
        if BYTES {
            let old = std::mem::replace(&mut c.meta[slot as usize], meta).size;
            if let Some(b) = &mut c.budget {
                b.used = b.used - u64::from(old) + u64::from(meta.size);
            }
        } else if c.keeps_meta {
            c.meta[slot as usize] = meta;
        }
    }
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
        let cache = Cache::with_index(capacity, key_space, policy, index);
        Cache {
            keeps_meta: true,
            budget: bytes.map(|capacity| Budget { capacity, used: 0 }),
            // Nor does it reserve its entries: they grow as it fills.
            entries: if bytes.is_some() {
                Vec::new()
            } else {
                cache.entries
            },
            ..cache
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
        let entries = self.capacity.min(key_space).max(self.len);
        self.index = Index::of_kind(kind, key_space, entries);
        self.reindex();
    }

    /// Points `key` at `slot` in the index, rebuilding a full hash index first.
    #[inline]
    fn index_set(&mut self, key: u32, slot: Slot) {
        if !self.index.set(key, slot) {
            self.rebuild_index();
            self.index_set(key, slot);
        }
    }

    /// Replaces a full hash index by one of the live entries alone (see
    /// [`Index::rebuilt`]). Amortized O(1) a fill.
    #[cold]
    fn rebuild_index(&mut self) {
        let live = self.entries.iter().filter(|e| e.key < ORPHAN).count() as u32;
        self.index.rebuilt(live);
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

    /// Bytes of the key index [`Cache::new`] (or, sized in bytes, [`Cache::with_meta`],
    /// with `entries` 0) makes for `entries` entries over `key_space` keys, and the most
    /// it may take while the cache holds up to `live` entries: for memory estimates,
    /// which must agree with [`index_bytes`](Self::index_bytes).
    pub fn planned_index_bytes(entries: u32, live: u32, key_space: u32) -> (u64, u64) {
        Index::planned_bytes(entries, live, key_space)
    }

    /// Bytes of one slot's entry, and of its [`Meta`] if the cache keeps metas.
    pub const SLOT_BYTES: (u64, u64) = (
        std::mem::size_of::<Entry>() as u64,
        std::mem::size_of::<Meta>() as u64,
    );

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

    /// The cache as the fill protocol's lookups and removals see it.
    #[inline(always)]
    fn slots(&mut self) -> Node<'_, false> {
        Node(self)
    }

    /// Prefetches `key`'s index cell or home bucket ([`crate::mem::prefetch`]): the first
    /// stage of a read-ahead, which a batch of keys runs before the second
    /// ([`Cache::prefetch_entry`]), so the misses of the whole batch overlap.
    #[inline]
    pub fn prefetch_index(&self, key: u32) {
        self.index.prefetch(key);
    }

    /// Reads `key`'s index cell or home bucket, prefetched by
    /// [`Cache::prefetch_index`], and prefetches the entry, meta and policy state of
    /// the slot it names: what a lookup of `key` soon after will read. A hash index's
    /// home bucket is taken as is, without probing: the slot is only a hint.
    #[inline]
    pub fn prefetch_entry(&self, key: u32) {
        let slot = self.index.home_slot(key);
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
            self.index.remove(key);
            fill::remove(&mut self.slots(), slot);
            return Lookup::Expired;
        }
        let evicted = fill::hit(&mut self.slots(), slot, &Access::key(key));
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
        let entry = Entry {
            expires,
            key,
            version,
        };
        let resident = self.slot(key);
        fill::fill(
            &mut Node::<false>(self),
            resident,
            &Access::key(key),
            (entry, meta),
        )
    }

    /// [`fill_with`](Self::fill_with) for a cache sized in bytes: the policy sees the
    /// object's size.
    #[cold]
    fn fill_sized(&mut self, key: u32, version: u32, expires: SimTime, meta: Meta) -> Fill {
        let access = Access {
            size: meta.size,
            ..Access::key(key)
        };
        let entry = Entry {
            expires,
            key,
            version,
        };
        let resident = self.slot(key);
        fill::fill(&mut Node::<true>(self), resident, &access, (entry, meta))
    }

    /// Removes `key` if resident (an invalidation); returns whether it was.
    pub fn invalidate(&mut self, key: u32) -> bool {
        let Some(slot) = self.slot(key) else {
            return false;
        };
        self.index.remove(key);
        fill::remove(&mut self.slots(), slot);
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
                if key != ORPHAN {
                    self.index.remove(key);
                }
                fill::remove(&mut self.slots(), slot as Slot);
            }
        }
        debug_assert_eq!(self.len, 0);
    }

    /// Frees `slot`, whose index cell the caller has dealt with (or leaves stale).
    #[inline]
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
