//! FIFO: evict the entry that was inserted first; hits change nothing.
//!
//! Under the independent reference model FIFO and RANDOM have the same hit ratio
//! (Gelenbe, "A unified approach to the evaluation of a class of replacement
//! algorithms", IEEE Trans. Computers, 1973).
//!
//! It sees slots and accesses only, as every policy does (see [`crate::policy`]): not the
//! cache that owns the slots, nor layers, requests or the engine.

use super::list::{Links, List, NIL};
use super::{Access, BuildPolicy, Capacity, NoConfig, Policy, PrefetchHints, Slot};

/// First in, first out.
#[derive(Debug, Default)]
pub struct Fifo {
    links: Links,
    queue: List,
}

impl BuildPolicy for Fifo {
    type Config = NoConfig;
    fn build(_: &NoConfig, capacity: Capacity, _seed: u64) -> Self {
        let capacity_hint = capacity.slots_hint;
        Fifo {
            links: Links::with_capacity(capacity_hint),
            queue: List::default(),
        }
    }
}

impl Fifo {
    /// Appends `slot` at the newest end.
    #[inline]
    pub(super) fn push(&mut self, slot: Slot) {
        self.queue.push_back(&mut self.links, slot);
    }

    /// Removes and returns the oldest entry.
    #[inline]
    pub(super) fn pop(&mut self) -> Slot {
        self.queue
            .pop_front(&mut self.links)
            .expect("evict called on an empty cache")
    }

    /// The slots from oldest to newest, for white-box tests.
    #[cfg(test)]
    pub(super) fn slots(&self) -> Vec<Slot> {
        self.queue.slots(&self.links)
    }
}

impl PrefetchHints for Fifo {
    #[inline]
    fn next_victim(&self) -> Option<Slot> {
        Some(self.queue.front()).filter(|&s| s != NIL)
    }
}

impl Policy for Fifo {
    #[inline]
    fn insert(&mut self, slot: Slot, _: &Access) {
        self.push(slot);
    }
    #[inline]
    fn touch(&mut self, _: Slot, _: &Access) {}
    #[inline]
    fn evict(&mut self, _: &Access) -> Slot {
        self.pop()
    }
    #[inline]
    fn remove(&mut self, slot: Slot) {
        self.queue.remove(&mut self.links, slot);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_in_insertion_order_ignoring_hits() {
        let mut p = Fifo::default();
        for s in 0..4 {
            p.insert(s, &Access::key(s));
        }
        p.touch(0, &Access::key(0));
        p.remove(1);
        assert_eq!(p.slots(), vec![0, 2, 3]);
        assert_eq!(p.next_victim(), Some(0));
        assert_eq!(p.evict(&Access::key(9)), 0);
        assert_eq!(p.next_victim(), Some(2));
        assert_eq!(p.evict(&Access::key(9)), 2);
    }
}
