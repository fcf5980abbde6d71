//! LRU: evict the entry whose last access is oldest.
//!
//! Under the independent reference model its hit ratio follows Che's approximation
//! (Che, Tung and Wang, "Hierarchical Web caching systems: modeling, design and
//! experimental results", IEEE JSAC 2002); `tests/integration/theory.rs` checks it.
//!
//! It sees slots and accesses only, as every policy does (see [`crate::policy`]): not the
//! cache that owns the slots, nor layers, requests or the engine.

use super::list::{Links, List, NIL};
use super::{Access, BuildPolicy, Capacity, NoConfig, Policy, PrefetchHints, Slot};

/// Least recently used: one recency list, 8 bytes of state per entry.
#[derive(Debug, Default)]
pub struct Lru {
    links: Links,
    recency: List,
}

impl BuildPolicy for Lru {
    type Config = NoConfig;
    fn build(_: &NoConfig, capacity: Capacity, _seed: u64) -> Self {
        let capacity_hint = capacity.slots_hint;
        Lru {
            links: Links::with_capacity(capacity_hint),
            recency: List::default(),
        }
    }
}

impl PrefetchHints for Lru {
    #[inline]
    fn prefetch(&self, slot: Slot) {
        self.links.prefetch(slot);
    }
    #[inline]
    fn next_victim(&self) -> Option<Slot> {
        Some(self.recency.front()).filter(|&s| s != NIL)
    }
}

impl Policy for Lru {
    #[inline]
    fn insert(&mut self, slot: Slot, _: &Access) {
        self.recency.push_back(&mut self.links, slot);
    }
    #[inline]
    fn touch(&mut self, slot: Slot, _: &Access) {
        self.recency.move_to_back(&mut self.links, slot);
    }
    #[inline]
    fn evict(&mut self, _: &Access) -> Slot {
        self.recency
            .pop_front(&mut self.links)
            .expect("evict called on an empty cache")
    }
    #[inline]
    fn remove(&mut self, slot: Slot) {
        self.recency.remove(&mut self.links, slot);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hits_move_to_the_back() {
        let mut p = Lru::default();
        for s in 0..4 {
            p.insert(s, &Access::key(s));
        }
        p.touch(0, &Access::key(0));
        p.touch(2, &Access::key(2));
        assert_eq!(p.recency.slots(&p.links), vec![1, 3, 0, 2]);
        assert_eq!(p.next_victim(), Some(1));
        assert_eq!(p.evict(&Access::key(9)), 1);
        p.remove(3);
        assert_eq!(p.next_victim(), Some(0));
        assert_eq!(p.evict(&Access::key(9)), 0);
        p.evict(&Access::key(9));
        assert_eq!(p.next_victim(), None);
    }
}
