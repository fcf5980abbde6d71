//! SLRU: segmented LRU. New entries enter a probationary segment; a hit there promotes the
//! entry to a protected segment, whose overflow falls back to the probationary one.
//! Victims come from the probationary segment's LRU end.
//!
//! Karedla, Love and Wherry, "Caching strategies to improve disk system performance",
//! IEEE Computer, 1994.

use serde::{Deserialize, Serialize};

use super::list::{Links, List};
use super::{Access, BuildPolicy, Capacity, Policy, Slot};

/// SLRU parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlruConfig {
    /// Share of the capacity the protected segment may hold (default 0.8).
    pub protected_ratio: f64,
}

impl Default for SlruConfig {
    fn default() -> Self {
        SlruConfig {
            protected_ratio: 0.8,
        }
    }
}

const PROBATION: u8 = 0;
const PROTECTED: u8 = 1;

/// Two-segment LRU, 13 bytes per entry.
#[derive(Debug)]
pub struct Slru {
    links: Links,
    probation: List,
    protected: List,
    segment: Vec<u8>,
    size: Vec<u32>,
    protected_units: u64,
    protected_cap: u64,
}

impl BuildPolicy for Slru {
    type Config = SlruConfig;
    fn build(config: &SlruConfig, capacity: Capacity, _seed: u64) -> Self {
        Slru {
            links: Links::with_capacity(capacity.slots_hint),
            probation: List::default(),
            protected: List::default(),
            segment: Vec::with_capacity(capacity.slots_hint),
            size: Vec::with_capacity(capacity.slots_hint),
            protected_units: 0,
            protected_cap: (capacity.units as f64 * config.protected_ratio.clamp(0.0, 1.0)) as u64,
        }
    }
}

impl Policy for Slru {
    #[inline]
    fn insert(&mut self, slot: Slot, access: &Access) {
        let s = slot as usize;
        if s >= self.segment.len() {
            self.segment.resize(s + 1, PROBATION);
            self.size.resize(s + 1, 0);
        }
        self.segment[s] = PROBATION;
        self.size[s] = access.size;
        self.probation.push_back(&mut self.links, slot);
    }
    #[inline]
    fn touch(&mut self, slot: Slot, _: &Access) {
        let s = slot as usize;
        if self.segment[s] == PROTECTED {
            self.protected.move_to_back(&mut self.links, slot);
            return;
        }
        self.probation.remove(&mut self.links, slot);
        self.protected.push_back(&mut self.links, slot);
        self.segment[s] = PROTECTED;
        self.protected_units += self.size[s] as u64;
        while self.protected_units > self.protected_cap {
            let d = self
                .protected
                .pop_front(&mut self.links)
                .expect("positive units imply an entry");
            self.protected_units -= self.size[d as usize] as u64;
            self.segment[d as usize] = PROBATION;
            self.probation.push_back(&mut self.links, d);
        }
    }
    #[inline]
    fn evict(&mut self, _: &Access) -> Slot {
        if let Some(s) = self.probation.pop_front(&mut self.links) {
            return s;
        }
        let s = self
            .protected
            .pop_front(&mut self.links)
            .expect("evict called on an empty cache");
        self.protected_units -= self.size[s as usize] as u64;
        s
    }
    #[inline]
    fn remove(&mut self, slot: Slot) {
        if self.segment[slot as usize] == PROTECTED {
            self.protected.remove(&mut self.links, slot);
            self.protected_units -= self.size[slot as usize] as u64;
        } else {
            self.probation.remove(&mut self.links, slot);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_promote_and_protected_overflow_demotes() {
        // Capacity 4, protected holds 2.
        let cfg = SlruConfig {
            protected_ratio: 0.5,
        };
        let mut p = Slru::build(&cfg, Capacity::entries(4), 0);
        for s in 0..4 {
            p.insert(s, &Access::key(s));
        }
        for s in [1, 2, 3] {
            p.touch(s, &Access::key(s));
        }
        // 1 was demoted when 3 arrived in the protected segment.
        assert_eq!(p.protected.slots(&p.links), vec![2, 3]);
        assert_eq!(p.probation.slots(&p.links), vec![0, 1]);
        p.touch(2, &Access::key(2));
        assert_eq!(p.protected.slots(&p.links), vec![3, 2]);
        assert_eq!(p.evict(&Access::key(9)), 0);
        assert_eq!(p.evict(&Access::key(9)), 1);
        assert_eq!(p.evict(&Access::key(9)), 3);
        assert_eq!(p.protected_units, 1);
    }
}
