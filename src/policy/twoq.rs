//! 2Q: first-time entries wait in a FIFO (A1in); when they leave it their keys are kept in
//! a ghost FIFO (A1out), and a miss that finds its key there goes to the main LRU (Am).
//! Hits in A1in change nothing, so a burst of correlated references does not look like
//! popularity.
//!
//! Johnson and Shasha, "2Q: a low overhead high performance buffer management replacement
//! algorithm", VLDB 1994 (the full version, with Kin = 25% and Kout = 50% of the cache).
//!
//! A miss looks its key up in A1out before it evicts, as libCacheSim's `TwoQ.c` does:
//! the evictions push keys into A1out and trim it, and looking up afterwards would lose
//! the incoming key's own ghost when it was the oldest (on cloudPhysicsIO, 4 more misses
//! than libCacheSim at 100 and 1000 entries). So the first `evict` for a miss takes the
//! key out of A1out and `insert` remembers it.
//!
//! Am has its own bound, the capacity less Kin, as in libCacheSim: a returning key that
//! would overflow it evicts Am's LRU entries (through [`Policy::take_evicted`]) even when the
//! cache has room, which takes A1in below Kin: byte sizes, or removals.
//!
//! Left as is, and unlike libCacheSim: it never admits an object larger than Kin, so a
//! cache of fewer than 4 entries (Kin = 0) stores nothing; here any object that fits the
//! cache is admitted. No object of cloudPhysicsIO is that large at 1, 16 or 256 MiB.
//!
//! It sees slots and accesses only, as every policy does (see [`crate::policy`]): not the
//! cache that owns the slots, nor layers, requests or the engine.

use crate::mem::prefetch::prefetch;
use serde::{Deserialize, Serialize};

use super::ghost::Ghosts;
use super::list::{Links, List};
use super::{Access, BuildPolicy, Capacity, Policy, PrefetchHints, Slot, vec_bytes};

/// 2Q parameters, as shares of the capacity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TwoQConfig {
    /// A1in's target size, Kin (default 0.25).
    pub kin: f64,
    /// A1out's size, Kout (default 0.5).
    pub kout: f64,
}

impl Default for TwoQConfig {
    fn default() -> Self {
        TwoQConfig {
            kin: 0.25,
            kout: 0.5,
        }
    }
}

const A1IN: u8 = 0;
const AM: u8 = 1;

/// 2Q, 17 bytes per entry plus 24 per key in A1out (see `ghost`; Kout = 0.5 ghosts per
/// entry by default, so 29 bytes per cached object).
#[derive(Debug)]
pub struct TwoQ {
    links: Links,
    a1in: List,
    am: List,
    segment: Vec<u8>,
    size: Vec<u32>,
    key: Vec<u32>,
    a1in_units: u64,
    am_units: u64,
    kin: u64,
    kout: u64,
    capacity: u64,
    a1out: Ghosts<1>,
    /// The incoming key, when `evict` found it in A1out and took it out (see the module
    /// doc): its `insert` goes to Am.
    returning: Option<u32>,
}

impl BuildPolicy for TwoQ {
    type Config = TwoQConfig;
    fn build(config: &TwoQConfig, capacity: Capacity, _seed: u64) -> Self {
        let share = |r: f64| (capacity.units as f64 * r.max(0.0)) as u64;
        TwoQ {
            links: Links::with_capacity(capacity.slots_hint),
            a1in: List::default(),
            am: List::default(),
            segment: Vec::with_capacity(capacity.slots_hint),
            size: Vec::with_capacity(capacity.slots_hint),
            key: Vec::with_capacity(capacity.slots_hint),
            a1in_units: 0,
            am_units: 0,
            kin: share(config.kin),
            kout: share(config.kout),
            capacity: capacity.units,
            a1out: Ghosts::with_capacity(
                (capacity.slots_hint as f64 * config.kout.max(0.0)) as usize,
            ),
            returning: None,
        }
    }
    fn check(config: &TwoQConfig) -> Result<(), String> {
        super::check_share("kin", config.kin)?;
        super::check_ghost("kout", config.kout)
    }
}

impl PrefetchHints for TwoQ {
    #[inline]
    fn prefetch(&self, slot: Slot) {
        self.links.prefetch(slot);
        prefetch(&self.segment, slot as usize);
    }
}

impl Policy for TwoQ {
    fn heap_bytes(&self) -> Option<usize> {
        Some(
            self.links.heap_bytes()
                + vec_bytes(&self.segment)
                + vec_bytes(&self.size)
                + vec_bytes(&self.key)
                + self.a1out.heap_bytes(),
        )
    }
    #[inline]
    fn insert(&mut self, slot: Slot, access: &Access) {
        let s = slot as usize;
        if s >= self.segment.len() {
            self.segment.resize(s + 1, A1IN);
            self.size.resize(s + 1, 0);
            self.key.resize(s + 1, 0);
        }
        self.size[s] = access.size;
        self.key[s] = access.key;
        let returning = self.returning.take() == Some(access.key);
        if returning || self.a1out.remove(access.key).is_some() {
            self.segment[s] = AM;
            self.am_units += access.size as u64;
            self.am.push_back(&mut self.links, slot);
        } else {
            self.segment[s] = A1IN;
            self.a1in_units += access.size as u64;
            self.a1in.push_back(&mut self.links, slot);
        }
    }
    #[inline]
    fn touch(&mut self, slot: Slot, _: &Access) {
        if self.segment[slot as usize] == AM {
            self.am.move_to_back(&mut self.links, slot);
        }
    }
    #[inline]
    fn evict(&mut self, incoming: &Access) -> Slot {
        if self.returning != Some(incoming.key) && self.a1out.remove(incoming.key).is_some() {
            self.returning = Some(incoming.key);
        }
        if !self.a1in.is_empty() && (self.a1in_units > self.kin || self.am.is_empty()) {
            let s = self.a1in.pop_front(&mut self.links).expect("not empty");
            let (key, size) = (self.key[s as usize], self.size[s as usize]);
            self.a1in_units -= size as u64;
            self.a1out.push(0, key, size);
            self.a1out.trim(0, self.kout);
            return s;
        }
        let s = self
            .am
            .pop_front(&mut self.links)
            .expect("evict called on an empty cache");
        self.am_units -= self.size[s as usize] as u64;
        s
    }
    #[inline]
    fn remove(&mut self, slot: Slot) {
        if self.segment[slot as usize] == AM {
            self.am.remove(&mut self.links, slot);
            self.am_units -= self.size[slot as usize] as u64;
        } else {
            self.a1in.remove(&mut self.links, slot);
            self.a1in_units -= self.size[slot as usize] as u64;
        }
    }
    /// Only an entry returning to Am can take Am over its bound, and never by itself: the
    /// newest entry, at the back, does not leave.
    #[inline]
    fn take_evicted(&mut self) -> Option<Slot> {
        if self.am_units <= self.capacity.saturating_sub(self.kin) || self.am.len() < 2 {
            return None;
        }
        let s = self.am.pop_front(&mut self.links).expect("two entries");
        self.am_units -= self.size[s as usize] as u64;
        Some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a1in_overflow_goes_to_ghost_and_ghost_hits_go_to_am() {
        // Capacity 4: Kin = 1, Kout = 2.
        let mut p = TwoQ::build(&TwoQConfig::default(), Capacity::entries(4), 0);
        for s in 0..4 {
            p.insert(s, &Access::key(10 + s));
        }
        p.touch(0, &Access::key(10)); // a hit in A1in changes nothing
        assert_eq!(p.evict(&Access::key(20)), 0);
        assert_eq!(p.evict(&Access::key(20)), 1);
        assert_eq!(p.evict(&Access::key(20)), 2);
        assert_eq!(p.a1out.to_vec(0), vec![11, 12], "A1out keeps Kout = 2 keys");
        p.insert(0, &Access::key(12));
        assert_eq!(p.am.slots(&p.links), vec![0]);
        assert_eq!(p.a1in.slots(&p.links), vec![3]);
        assert_eq!(p.a1out.to_vec(0), vec![11]);
        // A1in holds 1 = Kin, so the victim comes from Am.
        assert_eq!(p.evict(&Access::key(20)), 0);
    }

    #[test]
    fn a_returning_key_is_found_before_evictions_trim_a1out() {
        // Capacity 4: Kin = 1, Kout = 2.
        let mut p = TwoQ::build(&TwoQConfig::default(), Capacity::entries(4), 0);
        for s in 0..4 {
            p.insert(s, &Access::key(10 + s));
        }
        assert_eq!(p.evict(&Access::key(20)), 0);
        p.insert(0, &Access::key(20));
        assert_eq!(p.evict(&Access::key(21)), 1);
        p.insert(1, &Access::key(21));
        assert_eq!(p.a1out.to_vec(0), vec![10, 11]);
        // 10 returns: its eviction pushes 12 and would trim 10, the oldest ghost.
        assert_eq!(p.evict(&Access::key(10)), 2);
        p.insert(2, &Access::key(10));
        assert_eq!(p.am.slots(&p.links), vec![2]);
        assert_eq!(p.a1out.to_vec(0), vec![11, 12]);
    }

    #[test]
    fn a_returning_key_that_overflows_am_evicts_from_am() {
        // Capacity 4: Kin = 1, Kout = 2, Am holds 3.
        let mut p = TwoQ::build(&TwoQConfig::default(), Capacity::entries(4), 0);
        for s in 0..4 {
            p.insert(s, &Access::key(10 + s));
        }
        for (slot, key) in [(0, 20), (1, 21), (2, 10), (3, 11), (0, 12)] {
            p.evict(&Access::key(key));
            p.insert(slot, &Access::key(key));
            assert_eq!(p.take_evicted(), None);
        }
        // Keys 10, 11 and 12 returned to Am; A1in holds 21, and A1out 13 and 20.
        assert_eq!(p.am.slots(&p.links), vec![2, 3, 0]);
        assert_eq!(p.a1in.slots(&p.links), vec![1]);
        // 21 is invalidated: the cache has room, but 13 returning overflows Am.
        p.remove(1);
        p.insert(1, &Access::key(13));
        assert_eq!(p.take_evicted(), Some(2));
        assert_eq!(p.take_evicted(), None);
        assert_eq!(p.am.slots(&p.links), vec![3, 0, 1]);
        assert_eq!(p.am_units, 3);
    }
}
