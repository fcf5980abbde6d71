//! GDSF: Greedy-Dual-Size-Frequency. Priority `L + frequency / size`: small and popular
//! objects stay; `L`, the last victim's priority, ages everything resident.
//!
//! Cherkasova, "Improving WWW proxies performance with Greedy-Dual-Size-Frequency
//! caching policy", HP Labs HPL-98-69, 1998. Cost is 1 per object (hit ratio, not byte
//! hit ratio, is the goal); frequency counts requests while resident, starting at 1.
//! Ties go to the entry whose priority was set first.

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
        self.0.insert(slot, access.size);
    }
    #[inline]
    fn touch(&mut self, slot: Slot, _: &Access) {
        self.0.touch(slot);
    }
    #[inline]
    fn evict(&mut self, _: &Access) -> Slot {
        self.0.evict()
    }
    #[inline]
    fn remove(&mut self, slot: Slot) {
        self.0.remove(slot);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sized(key: u32, size: u32) -> Access {
        Access {
            size,
            ..Access::key(key)
        }
    }

    #[test]
    fn large_objects_leave_first_and_inflation_ages() {
        let mut p = Gdsf::build(&NoConfig {}, Capacity::entries(4), 0);
        p.insert(0, &sized(0, 100)); // 0.01
        p.insert(1, &sized(1, 10)); // 0.1
        p.insert(2, &sized(2, 50)); // 0.02
        p.touch(0, &sized(0, 100)); // 0.02, set after 2's
        assert_eq!(p.evict(&sized(9, 1)), 2);
        assert_eq!(p.0.inflation(), 0.02);
        p.insert(2, &sized(3, 100)); // 0.02 + 0.01
        assert_eq!(p.evict(&sized(9, 1)), 0);
        assert_eq!(p.evict(&sized(9, 1)), 2);
        assert_eq!(p.evict(&sized(9, 1)), 1);
    }
}
