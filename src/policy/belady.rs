//! Belady's MIN: evict the entry whose next request is farthest in the future (never
//! requested again counts as farthest). Optimal for unit sizes; an upper bound to compare
//! online policies against.
//!
//! Belady, "A study of replacement algorithms for a virtual-storage computer", IBM
//! Systems Journal, 1966. It reads [`Access::next_access`], which only trace replay knows
//! (from the trace, or from a backward pass over it), so scenarios reject it.
//!
//! It sees slots and accesses only, as every policy does (see [`crate::policy`]): not the
//! cache that owns the slots, nor layers, requests or the engine.

use super::heap::SlotHeap;
use super::{Access, BuildPolicy, Capacity, NoConfig, Policy, Slot};

/// Belady's MIN over an indexed heap keyed by the reversed next-access time, 24 bytes per
/// entry.
#[derive(Debug)]
pub struct Belady {
    /// Min-heap on `(u64::MAX - next_access, slot)`: the farthest next access first.
    heap: SlotHeap<(u64, Slot)>,
}

impl BuildPolicy for Belady {
    type Config = NoConfig;
    fn build(_: &NoConfig, capacity: Capacity, _seed: u64) -> Self {
        Belady {
            heap: SlotHeap::with_capacity(capacity.slots_hint),
        }
    }
}

impl Policy for Belady {
    #[inline]
    fn insert(&mut self, slot: Slot, access: &Access) {
        self.heap.push(slot, (u64::MAX - access.next_access, slot));
    }
    #[inline]
    fn touch(&mut self, slot: Slot, access: &Access) {
        self.heap
            .update(slot, (u64::MAX - access.next_access, slot));
    }
    #[inline]
    fn evict(&mut self, _: &Access) -> Slot {
        self.heap.pop().expect("evict called on an empty cache")
    }
    #[inline]
    fn remove(&mut self, slot: Slot) {
        self.heap.remove(slot);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(key: u32, next_access: u64) -> Access {
        Access {
            next_access,
            ..Access::key(key)
        }
    }

    #[test]
    fn evicts_the_farthest_next_access() {
        let mut p = Belady::build(&NoConfig {}, Capacity::entries(3), 0);
        p.insert(0, &at(0, 10));
        p.insert(1, &at(1, 5));
        p.insert(2, &at(2, u64::MAX));
        assert_eq!(p.evict(&at(3, 7)), 2, "never requested again goes first");
        p.insert(2, &at(3, 7));
        p.touch(1, &at(1, 20));
        assert_eq!(p.evict(&at(4, 8)), 1);
        assert_eq!(p.evict(&at(4, 8)), 0);
    }
}
