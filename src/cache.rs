//! The cache store: one abstraction behind every layer's nodes.
//!
//! A [`Cache`] maps dense integer keys to slots, keeps each resident entry's expiry and
//! version, and asks its [`Policy`] which entry to evict. Layers differ in topology,
//! latency and HTTP rules, never in how a node stores entries.
//!
//! Memory per resident entry: 16 bytes here (key, version, expiry), the policy's own
//! state (8 bytes for LRU and FIFO, 12 for LFU), plus 4 bytes per key of the key space
//! for the dense index.
//!
//! An entry's key, version and expiry sit together in one 16-byte record rather than in
//! three parallel vectors: a lookup reads expiry and version, an eviction the victim's
//! key, and with caches far larger than the CPU caches each separate vector would cost
//! its own cache miss.
//!
//! The key -> slot index may hold stale slots: an eviction does not clear the victim's
//! index cell, and a cell counts only if the slot it names holds that same key. At
//! steady state every fill evicts, and the victim's cell is a random spot of a
//! `4 * key_space`-byte array, a cache miss on every fill; the check instead reads the
//! entry, which a lookup reads anyway.
//!
//! With content classes ([`crate::http`]) a cache also keeps a [`Meta`] per slot: when
//! the origin generated the copy (for the `Age` it passes on), which client it was
//! fetched for (to count leaks of private copies), and its size. A cache of
//! `capacity_bytes` holds objects whose sizes sum to at most that many bytes, evicts
//! until a new object fits and never admits one larger than itself, as libCacheSim
//! does; its policy sees sizes in bytes.
//!
//! Expiry is lazy: an entry past its expiry is removed when it is next looked up (counted
//! as an expiration), or when the policy evicts it. No timer event per entry exists.

use crate::SimTime;
use crate::policy::{Access, AnyPolicy, Policy, Slot};

const ABSENT: Slot = Slot::MAX;

/// The key of a free slot: no real key (they are below `u32::MAX - 1`) matches it.
const NO_KEY: u32 = u32::MAX;

/// The key of an orphaned entry (`versioned_keys`): resident and in the policy, but no
/// key's lookup finds it again; it leaves when the policy evicts it.
const ORPHAN: u32 = u32::MAX - 1;

/// The result of [`Cache::get`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// A fresh copy is resident.
    Hit {
        /// The origin version the copy holds.
        version: u32,
        /// When the copy expires.
        expires: SimTime,
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
    Updated,
    /// The policy declined to admit the key; nothing changed.
    Rejected,
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
/// use tiersim::cache::{Cache, Fill, Lookup};
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
    /// key -> slot, `ABSENT` when not resident.
    index: Vec<Slot>,
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
}

impl Cache {
    /// An empty cache of `capacity` entries over the keys `0..key_space`.
    pub fn new(capacity: u32, key_space: u32, policy: AnyPolicy) -> Self {
        let reserve = capacity.min(key_space) as usize;
        Cache {
            index: vec![ABSENT; key_space as usize],
            entries: Vec::with_capacity(reserve),
            free: Vec::new(),
            len: 0,
            capacity,
            policy,
            meta: Vec::new(),
            keeps_meta: false,
            budget: None,
        }
    }

    /// An empty cache that keeps a [`Meta`] per copy (content classes), holding at most
    /// `capacity` entries or, if `bytes` is set, objects of at most that many bytes in
    /// all; `policy` must count in the same unit.
    ///
    /// ```
    /// use tiersim::cache::{Cache, Fill, Meta};
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
        Cache {
            keeps_meta: true,
            budget: bytes.map(|capacity| Budget { capacity, used: 0 }),
            ..Cache::new(capacity, key_space, policy)
        }
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
        let slot = self.index[key as usize];
        match self.entries.get(slot as usize) {
            Some(e) if e.key == key => Some(slot),
            _ => None,
        }
    }

    /// Reads `key`'s index and entry without changing anything, so that a lookup soon
    /// after finds them in the CPU cache. Returns a value derived from both, for the
    /// caller to feed to `black_box`, so the loads are not optimised away. Reading a
    /// batch of keys this way overlaps their cache misses.
    #[inline]
    pub fn read_ahead(&self, key: u32) -> u32 {
        let slot = self.index[key as usize];
        match self.entries.get(slot as usize) {
            Some(e) => e.version,
            None => slot,
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
            return Lookup::Expired;
        }
        self.policy.touch(slot, &Access::key(key));
        Lookup::Hit { version, expires }
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
            return Fill::Updated;
        }
        let full = self.len == self.capacity;
        if !self.policy.admit(&access, full) {
            return Fill::Rejected;
        }
        let mut evicted = 0;
        let slot = if full {
            // The victim's slot is reused in place: no free-list traffic at steady state.
            let victim = self.policy.evict(&access);
            // The victim's index cell is left stale: the entry overwritten below no
            // longer holds its key.
            self.len -= 1;
            evicted = 1;
            victim
        } else if let Some(s) = self.free.pop() {
            s
        } else {
            self.push_slot(entry)
        };
        self.entries[slot as usize] = entry;
        if self.keeps_meta {
            self.meta[slot as usize] = meta;
        }
        self.index[key as usize] = slot;
        self.len += 1;
        self.policy.insert(slot, &access);
        Fill::Inserted { evicted }
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
            key,
            size: meta.size,
            next_access: u64::MAX,
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
            return Fill::Updated;
        }
        if size > capacity {
            return Fill::Rejected;
        }
        let full = self.budget_mut().used + size > capacity;
        if !self.policy.admit(&access, full) {
            return Fill::Rejected;
        }
        let mut evicted = 0;
        while self.len > 0 && self.budget_mut().used + size > capacity {
            let victim = self.policy.evict(&access);
            let victim_key = self.entries[victim as usize].key;
            if victim_key != ORPHAN {
                self.index[victim_key as usize] = ABSENT;
            }
            self.release_slot(victim);
            evicted += 1;
        }
        let slot = match self.free.pop() {
            Some(s) => s,
            None => self.push_slot(entry),
        };
        self.entries[slot as usize] = entry;
        self.meta[slot as usize] = meta;
        self.index[key as usize] = slot;
        self.len += 1;
        self.budget_mut().used += size;
        self.policy.insert(slot, &access);
        Fill::Inserted { evicted }
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
        true
    }

    /// Detaches `key`'s copy from its key (`versioned_keys`: a newer version is now the
    /// one readers ask for): it keeps its slot and its place in the policy until evicted,
    /// but is never found again. Returns whether a copy was resident.
    pub fn orphan(&mut self, key: u32) -> bool {
        let Some(slot) = self.slot(key) else {
            return false;
        };
        self.index[key as usize] = ABSENT;
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
                    self.index[key as usize] = ABSENT;
                }
                self.release_slot(slot as Slot);
            }
        }
        debug_assert_eq!(self.len, 0);
    }

    fn release(&mut self, key: u32, slot: Slot) {
        self.index[key as usize] = ABSENT;
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
    fn matches_a_naive_lru_with_stale_index_cells() {
        // Random fills, lookups, invalidations and expiries against a plain list model:
        // an evicted key's stale index cell must never make it look resident.
        let mut c = cache("lru", 8);
        let mut model: Vec<(u32, u32, SimTime)> = Vec::new(); // oldest first
        let mut z = 5u64;
        for step in 0..200_000u64 {
            z = crate::rng::mix64(z);
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
                            Fill::Updated
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
    fn refill_overwrites_version_and_expiry() {
        let mut c = cache("fifo", 2);
        c.fill(1, 1, SimTime::from_nanos(10));
        assert_eq!(c.fill(1, 2, SimTime::from_nanos(20)), Fill::Updated);
        assert_eq!(
            c.get(1, SimTime::from_nanos(15)),
            Lookup::Hit {
                version: 2,
                expires: SimTime::from_nanos(20)
            }
        );
        assert_eq!(c.get(1, SimTime::from_nanos(20)), Lookup::Expired);
        assert!(c.is_empty());
    }
}
