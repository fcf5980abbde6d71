//! GDSF: Greedy-Dual-Size-Frequency. Priority `L + frequency / size`: small and popular
//! objects stay; `L`, the last victim's priority, ages everything resident.
//!
//! Cherkasova, "Improving WWW proxies performance with Greedy-Dual-Size-Frequency
//! caching policy", HP Labs HPL-98-69, 1998. Cost is 1 per object (hit ratio, not byte
//! hit ratio, is the goal); frequency counts requests while resident, starting at 1.
//! Ties go to the entry whose priority was set first.
//!
//! The details follow libCacheSim's `GDSF.cpp`, so miss counts agree: priorities are
//! `L + frequency × 10⁶ / size` in that order of operations, and a miss stores the new
//! object *before* evicting, so it competes with the residents at the priority `L` gave
//! it before this miss's evictions, and may be the victim itself. Then it is not stored
//! ([`BYPASS`](super::BYPASS)) and `L` becomes its priority; residents evicted before it
//! stay evicted. Evicting first instead gave the new object the raised `L` and never
//! refused it: on cloudPhysicsIO, 63 fewer misses than libCacheSim at 100 entries.
//!
//! It sees slots and accesses only, as every policy does (see [`crate::policy`]): not the
//! cache that owns the slots, nor layers, requests or the engine.

use super::heap::GreedyDual;
use super::{Access, BuildPolicy, Capacity, NoConfig, Policy, Slot};

/// GDSF over an indexed heap, 24 bytes per entry.
#[derive(Debug)]
pub struct Gdsf(GreedyDual);

impl BuildPolicy for Gdsf {
    type Config = NoConfig;
    fn build(_: &NoConfig, capacity: Capacity, _seed: u64) -> Self {
        Gdsf(GreedyDual::new(capacity.slots_hint, true))
    }
}

impl Policy for Gdsf {
    #[inline]
    fn insert(&mut self, slot: Slot, access: &Access) {
        self.0.insert(slot, access.key, access.size);
    }
    #[inline]
    fn touch(&mut self, slot: Slot, _: &Access) {
        self.0.touch(slot);
    }
    #[inline]
    fn evict(&mut self, incoming: &Access) -> Slot {
        self.0.evict_or_bypass(incoming.key, incoming.size)
    }
    #[inline]
    fn remove(&mut self, slot: Slot) {
        self.0.remove(slot);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::BYPASS;

    fn sized(key: u32, size: u32) -> Access {
        Access {
            size,
            ..Access::key(key)
        }
    }

    #[test]
    fn large_objects_leave_first_and_inflation_ages() {
        let mut p = Gdsf::build(&NoConfig {}, Capacity::entries(4), 0);
        p.insert(0, &sized(0, 100)); // 10⁴
        p.insert(1, &sized(1, 10)); // 10⁵
        p.insert(2, &sized(2, 50)); // 2·10⁴
        p.touch(0, &sized(0, 100)); // 2·10⁴, set after 2's
        assert_eq!(p.evict(&sized(3, 1)), 2);
        assert_eq!(p.0.inflation(), 20_000.0);
        p.insert(2, &sized(3, 1)); // 10⁶, from L before the eviction: not 2·10⁴ + 10⁶
        assert_eq!(p.evict(&sized(4, 1)), 0);
        assert_eq!(p.evict(&sized(4, 1)), 1);
        assert_eq!(p.evict(&sized(4, 1)), 2);
    }

    #[test]
    fn a_new_object_below_every_resident_is_not_stored() {
        let mut p = Gdsf::build(&NoConfig {}, Capacity::entries(4), 0);
        p.insert(0, &sized(0, 10)); // 10⁵
        p.insert(1, &sized(1, 20)); // 5·10⁴
        // 100 bytes: 10⁴, below both: it is its own victim, and sets L.
        assert_eq!(p.evict(&sized(2, 100)), BYPASS);
        assert_eq!(p.0.inflation(), 10_000.0);
        // 25 bytes: 4·10⁴ + L = 5·10⁴ ties with 1's, which was set first and goes.
        assert_eq!(p.evict(&sized(3, 25)), 1);
        assert_eq!(p.0.inflation(), 50_000.0);
        // Its priority came from L before that eviction: 5·10⁴, not 9·10⁴.
        p.insert(1, &sized(3, 25));
        assert_eq!(p.evict(&sized(4, 1)), 1);
        assert_eq!(p.evict(&sized(4, 1)), 0);
    }
}
