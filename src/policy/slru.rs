//! SLRU: segmented LRU. Entries enter the lowest (probationary) segment; a hit moves an
//! entry up one segment, and a segment over its bound pushes its LRU entry down one, until
//! the probationary segment, whose LRU entries leave the cache. Victims come from the LRU
//! end of the lowest segment holding anything.
//!
//! Karedla, Love and Wherry, "Caching strategies to improve disk system performance",
//! IEEE Computer, 1994, with two segments; libCacheSim's `SLRU.c` generalises to `n`, and
//! the details follow it, so miss counts agree:
//! - every segment, the probationary one included, has a bound: a demotion that overflows
//!   the probationary segment evicts its LRU entry at once, during the hit (the owner
//!   learns it through [`Policy::take_evicted`]). With unit sizes and bounds summing to the
//!   capacity this never happens; with byte sizes a demoted object larger than the
//!   promoted one does it;
//! - a new entry goes to the lowest segment with room for it, the probationary one if
//!   none has: in a cache still filling, a full probationary segment passes new entries
//!   up, and with byte sizes so may one that an eviction left a little short.
//!
//! Segment sizes: the protected share, `floor(capacity × protected_ratio / (segments −
//! 1))` each, and the probationary one the rest. libCacheSim's default is 4 equal
//! segments (`segments = 4`, `protected_ratio = 0.75`); it sizes each `capacity / 4`, so
//! the two agree when 4 divides the capacity. Unlike libCacheSim, an object larger than
//! the probationary segment is still admitted: replay asks a policy nothing before it
//! evicts (no object of cloudPhysicsIO is that large at 1, 16 or 256 MiB).
//!
//! It sees slots and accesses only, as every policy does (see [`crate::policy`]): not the
//! cache that owns the slots, nor layers, requests or the engine.

use serde::{Deserialize, Serialize};

use super::list::{Links, List};
use super::{Access, BuildPolicy, Capacity, Policy, Slot};

/// The most segments (libCacheSim's bound too).
const MAX_SEGMENTS: u8 = 16;

/// SLRU parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlruConfig {
    /// Share of the capacity the protected segments hold together (default 0.8).
    pub protected_ratio: f64,
    /// Number of segments, the probationary one included, 1 to 16 (default 2). The
    /// protected share is split equally among the segments above the first. libCacheSim's
    /// SLRU is `segments = 4` with `protected_ratio = 0.75`.
    pub segments: u8,
}

impl Default for SlruConfig {
    fn default() -> Self {
        SlruConfig {
            protected_ratio: 0.8,
            segments: 2,
        }
    }
}

/// Segmented LRU, 13 bytes per entry.
#[derive(Debug)]
pub struct Slru {
    links: Links,
    /// Segment 0 is the probationary one; higher is hotter.
    lists: Vec<List>,
    units: Vec<u64>,
    bounds: Vec<u64>,
    segment: Vec<u8>,
    size: Vec<u32>,
    /// Entries a hit's demotions evicted, for [`Policy::take_evicted`].
    dropped: Vec<Slot>,
}

impl BuildPolicy for Slru {
    type Config = SlruConfig;
    fn build(config: &SlruConfig, capacity: Capacity, _seed: u64) -> Self {
        let n = config.segments.clamp(1, MAX_SEGMENTS) as usize;
        let mut bounds = vec![0; n];
        if n > 1 {
            let share = config.protected_ratio.clamp(0.0, 1.0) / (n - 1) as f64;
            let each = (capacity.units as f64 * share) as u64;
            bounds[1..].fill(each);
        }
        bounds[0] = capacity.units - bounds[1..].iter().sum::<u64>();
        Slru {
            links: Links::with_capacity(capacity.slots_hint),
            lists: vec![List::default(); n],
            units: vec![0; n],
            bounds,
            segment: Vec::with_capacity(capacity.slots_hint),
            size: Vec::with_capacity(capacity.slots_hint),
            dropped: Vec::with_capacity(MAX_SEGMENTS as usize),
        }
    }
    fn check(config: &SlruConfig) -> Result<(), String> {
        super::check_share("protected_ratio", config.protected_ratio)?;
        if !(1..=MAX_SEGMENTS).contains(&config.segments) {
            return Err(format!(
                "`segments` is from 1 to {MAX_SEGMENTS}; got {}",
                config.segments
            ));
        }
        Ok(())
    }
}

impl Slru {
    fn unlink(&mut self, slot: Slot) {
        let (i, s) = (self.segment[slot as usize] as usize, slot as usize);
        self.lists[i].remove(&mut self.links, slot);
        self.units[i] -= self.size[s] as u64;
    }

    fn push(&mut self, i: usize, slot: Slot) {
        self.segment[slot as usize] = i as u8;
        self.units[i] += self.size[slot as usize] as u64;
        self.lists[i].push_back(&mut self.links, slot);
    }

    /// Moves segment `i`'s LRU entry down one segment, or out of the cache from the
    /// lowest, and so on down while the segment below is over its bound.
    fn demote(&mut self, i: usize) {
        let slot = self.lists[i].front();
        self.unlink(slot);
        if i == 0 {
            self.dropped.push(slot);
            return;
        }
        self.push(i - 1, slot);
        while self.units[i - 1] > self.bounds[i - 1] {
            self.demote(i - 1);
        }
    }
}

impl Policy for Slru {
    #[inline]
    fn insert(&mut self, slot: Slot, access: &Access) {
        let s = slot as usize;
        if s >= self.segment.len() {
            self.segment.resize(s + 1, 0);
            self.size.resize(s + 1, 0);
        }
        self.size[s] = access.size;
        let size = access.size as u64;
        let i = (0..self.lists.len())
            .find(|&i| self.units[i] + size <= self.bounds[i])
            .unwrap_or(0);
        self.push(i, slot);
    }
    #[inline]
    fn touch(&mut self, slot: Slot, _: &Access) {
        let i = self.segment[slot as usize] as usize;
        if i + 1 == self.lists.len() {
            self.lists[i].move_to_back(&mut self.links, slot);
            return;
        }
        self.unlink(slot);
        self.push(i + 1, slot);
        while self.units[i + 1] > self.bounds[i + 1] {
            self.demote(i + 1);
        }
    }
    #[inline]
    fn evict(&mut self, _: &Access) -> Slot {
        let i = self
            .lists
            .iter()
            .position(|l| !l.is_empty())
            .expect("evict called on an empty cache");
        let slot = self.lists[i].front();
        self.unlink(slot);
        slot
    }
    #[inline]
    fn remove(&mut self, slot: Slot) {
        self.unlink(slot);
    }
    #[inline]
    fn take_evicted(&mut self) -> Option<Slot> {
        self.dropped.pop()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_promote_and_protected_overflow_demotes() {
        // Capacity 4: probation and protected hold 2 each.
        let cfg = SlruConfig {
            protected_ratio: 0.5,
            ..SlruConfig::default()
        };
        let mut p = Slru::build(&cfg, Capacity::entries(4), 0);
        for s in 0..4 {
            p.insert(s, &Access::key(s));
        }
        // Probation filled up first; 2 and 3 found room only in the protected segment.
        assert_eq!(p.lists[0].slots(&p.links), vec![0, 1]);
        assert_eq!(p.lists[1].slots(&p.links), vec![2, 3]);
        p.touch(1, &Access::key(1));
        // 1 entered the protected segment, whose LRU entry 2 came down.
        assert_eq!(p.lists[1].slots(&p.links), vec![3, 1]);
        assert_eq!(p.lists[0].slots(&p.links), vec![0, 2]);
        p.touch(3, &Access::key(3));
        assert_eq!(p.lists[1].slots(&p.links), vec![1, 3]);
        assert_eq!(p.evict(&Access::key(9)), 0);
        assert_eq!(p.evict(&Access::key(9)), 2);
        assert_eq!(p.evict(&Access::key(9)), 1);
        assert_eq!(p.units, vec![0, 1]);
        assert_eq!(p.take_evicted(), None);
    }

    #[test]
    fn four_segments_as_libcachesim() {
        let cfg = SlruConfig {
            protected_ratio: 0.75,
            segments: 4,
        };
        let p = Slru::build(&cfg, Capacity::entries(100), 0);
        assert_eq!(p.bounds, vec![25, 25, 25, 25]);
        // 10 does not divide by 4: libCacheSim leaves 2 units to no segment, this gives
        // them to probation.
        let p = Slru::build(&cfg, Capacity::entries(10), 0);
        assert_eq!(p.bounds, vec![4, 2, 2, 2]);
        let p = Slru::build(&SlruConfig::default(), Capacity::entries(100), 0);
        assert_eq!(p.bounds, vec![20, 80]);
    }

    #[test]
    fn a_demotion_that_overflows_probation_evicts_during_the_hit() {
        // 100 bytes: probation and protected hold 50 each.
        let cfg = SlruConfig {
            protected_ratio: 0.5,
            ..SlruConfig::default()
        };
        let mut p = Slru::build(&cfg, Capacity::entries(100), 0);
        p.insert(0, &Access::sized(0, 30));
        p.insert(1, &Access::sized(1, 20)); // probation full: 50
        p.insert(2, &Access::sized(2, 40)); // no room below: protected
        p.insert(3, &Access::sized(3, 10)); // protected: 50
        // 1 (20) goes up; protected holds 70 > 50, so 2 (40) comes down to probation,
        // 70 > 50, whose LRU entry 0 (30) leaves the cache; then 3 (10) stays up.
        p.touch(1, &Access::sized(1, 20));
        assert_eq!(p.take_evicted(), Some(0));
        assert_eq!(p.take_evicted(), None);
        assert_eq!(p.lists[0].slots(&p.links), vec![2]);
        assert_eq!(p.lists[1].slots(&p.links), vec![3, 1]);
        assert_eq!(p.units, vec![40, 30]);
    }
}
