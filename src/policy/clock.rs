//! CLOCK (second chance): a FIFO where a hit sets a reference bit; the hand clears a set
//! bit and passes the entry over once instead of evicting it.
//!
//! Corbató, "A paging experiment with the Multics system" (MIT Project MAC, 1968). As in
//! libCacheSim's `Clock` with a 1-bit counter: an inserted entry starts unreferenced, and a
//! passed-over entry goes to the newest end of the queue.
//!
//! It sees slots and accesses only, as every policy does (see [`crate::policy`]): not the
//! cache that owns the slots, nor layers, requests or the engine.

use super::fifo::Fifo;
use super::{Access, BuildPolicy, Capacity, NoConfig, Policy, PrefetchHints, Slot};
use crate::mem::prefetch::prefetch;

/// CLOCK over one FIFO queue (front = the hand), 9 bytes per entry.
#[derive(Debug, Default)]
pub struct Clock {
    queue: Fifo,
    referenced: Vec<bool>,
}

impl BuildPolicy for Clock {
    type Config = NoConfig;
    fn build(config: &NoConfig, capacity: Capacity, seed: u64) -> Self {
        Clock {
            queue: Fifo::build(config, capacity, seed),
            referenced: Vec::with_capacity(capacity.slots_hint),
        }
    }
}

impl PrefetchHints for Clock {
    #[inline]
    fn prefetch(&self, slot: Slot) {
        prefetch(&self.referenced, slot as usize);
    }
}

impl Policy for Clock {
    #[inline]
    fn insert(&mut self, slot: Slot, _: &Access) {
        let s = slot as usize;
        if s >= self.referenced.len() {
            self.referenced.resize(s + 1, false);
        }
        self.referenced[s] = false;
        self.queue.push(slot);
    }
    #[inline]
    fn touch(&mut self, slot: Slot, _: &Access) {
        self.referenced[slot as usize] = true;
    }
    #[inline]
    fn evict(&mut self, _: &Access) -> Slot {
        loop {
            let slot = self.queue.pop();
            let r = &mut self.referenced[slot as usize];
            if !*r {
                return slot;
            }
            *r = false;
            self.queue.push(slot);
        }
    }
    #[inline]
    fn remove(&mut self, slot: Slot) {
        self.queue.remove(slot);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn referenced_entries_get_a_second_chance() {
        let mut p = Clock::default();
        for s in 0..4 {
            p.insert(s, &Access::key(s));
        }
        p.touch(0, &Access::key(0));
        p.touch(1, &Access::key(1));
        assert_eq!(p.evict(&Access::key(9)), 2);
        assert_eq!(p.queue.slots(), vec![3, 0, 1]);
        assert!(!p.referenced[0] && !p.referenced[1]);
        p.touch(3, &Access::key(3));
        assert_eq!(p.evict(&Access::key(9)), 0);
        assert_eq!(p.queue.slots(), vec![1, 3]);
    }
}
