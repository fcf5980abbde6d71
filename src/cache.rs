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
        /// Whether another entry was evicted to make room.
        evicted: bool,
    },
    /// The key was resident; its version and expiry were overwritten.
    Updated,
    /// The policy declined to admit the key; nothing changed.
    Rejected,
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
/// assert_eq!(c.fill(3, 0, SimTime::NEVER), Fill::Inserted { evicted: true }); // evicts 2
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
        if self.capacity == 0 {
            return Fill::Inserted { evicted: false };
        }
        let access = Access::key(key);
        let entry = Entry {
            expires,
            key,
            version,
        };
        if let Some(slot) = self.slot(key) {
            self.entries[slot as usize] = entry;
            self.policy.touch(slot, &access);
            return Fill::Updated;
        }
        let full = self.len == self.capacity;
        if !self.policy.admit(&access, full) {
            return Fill::Rejected;
        }
        let mut evicted = false;
        let slot = if full {
            // The victim's slot is reused in place: no free-list traffic at steady state.
            let victim = self.policy.evict(&access);
            // The victim's index cell is left stale: the entry overwritten below no
            // longer holds its key.
            self.len -= 1;
            evicted = true;
            victim
        } else if let Some(s) = self.free.pop() {
            s
        } else {
            self.entries.push(entry);
            (self.entries.len() - 1) as Slot
        };
        self.entries[slot as usize] = entry;
        self.index[key as usize] = slot;
        self.len += 1;
        self.policy.insert(slot, &access);
        Fill::Inserted { evicted }
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
                self.entries[slot].key = NO_KEY;
                self.free.push(slot as Slot);
                self.len -= 1;
            }
        }
        debug_assert_eq!(self.len, 0);
    }

    fn release(&mut self, key: u32, slot: Slot) {
        self.index[key as usize] = ABSENT;
        self.entries[slot as usize].key = NO_KEY;
        self.free.push(slot);
        self.len -= 1;
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
                            Fill::Inserted { evicted }
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
        assert_eq!(
            c.fill(3, 0, SimTime::NEVER),
            Fill::Inserted { evicted: true }
        );
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
