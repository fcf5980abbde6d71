//! RANDOM: evict a uniformly random resident entry.
//!
//! Under the independent reference model its hit ratio equals FIFO's (Gelenbe, "A unified
//! approach to the evaluation of a class of replacement algorithms", IEEE Trans.
//! Computers, 1973). The victim comes from a Xoshiro256++ stream seeded by `build`'s seed,
//! so a run repeats exactly.
//!
//! It sees slots and accesses only, as every policy does (see [`crate::policy`]): not the
//! cache that owns the slots, nor layers, requests or the engine.

use rand::RngExt;
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::SeedableRng;

use super::list::NIL;
use super::{Access, BuildPolicy, Capacity, NoConfig, Policy, Slot};

/// Random eviction: a dense array of resident slots and each slot's index in it (8 bytes
/// per entry).
#[derive(Debug)]
pub struct Random {
    resident: Vec<Slot>,
    pos: Vec<u32>,
    rng: Xoshiro256PlusPlus,
}

impl BuildPolicy for Random {
    type Config = NoConfig;
    fn build(_: &NoConfig, capacity: Capacity, seed: u64) -> Self {
        Random {
            resident: Vec::with_capacity(capacity.slots_hint),
            pos: Vec::with_capacity(capacity.slots_hint),
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
        }
    }
}

impl Policy for Random {
    #[inline]
    fn insert(&mut self, slot: Slot, _: &Access) {
        let s = slot as usize;
        if s >= self.pos.len() {
            self.pos.resize(s + 1, NIL);
        }
        self.pos[s] = self.resident.len() as u32;
        self.resident.push(slot);
    }
    #[inline]
    fn touch(&mut self, _: Slot, _: &Access) {}
    #[inline]
    fn evict(&mut self, _: &Access) -> Slot {
        assert!(!self.resident.is_empty(), "evict called on an empty cache");
        let i = self.rng.random_range(0..self.resident.len());
        let slot = self.resident[i];
        self.remove(slot);
        slot
    }
    #[inline]
    fn remove(&mut self, slot: Slot) {
        let i = self.pos[slot as usize] as usize;
        let last = *self.resident.last().expect("slot is resident");
        self.resident.swap_remove(i);
        if last != slot {
            self.pos[last as usize] = i as u32;
        }
        self.pos[slot as usize] = NIL;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(seed: u64) -> Vec<Slot> {
        let mut p = Random::build(&NoConfig {}, Capacity::entries(8), seed);
        for s in 0..8 {
            p.insert(s, &Access::key(s));
        }
        p.remove(3);
        (0..7).map(|_| p.evict(&Access::key(99))).collect()
    }

    #[test]
    fn same_seed_same_victims_and_every_resident_slot_leaves_once() {
        let a = run(7);
        assert_eq!(a, run(7));
        assert_ne!(a, run(8), "another seed gives another order");
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, vec![0, 1, 2, 4, 5, 6, 7]);
    }
}
