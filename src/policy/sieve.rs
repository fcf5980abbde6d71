//! SIEVE: a FIFO queue with a hand that moves from old to new, clearing the visited bit of
//! entries it passes and evicting the first unvisited one; entries never move.
//!
//! Zhang, Yang, Yue, Vigfusson and Rashmi, "SIEVE is simpler than LRU: an efficient
//! turn-key eviction algorithm for web caches", NSDI 2024. As in libCacheSim's `Sieve`: a
//! new entry is unvisited; after an eviction the hand rests on the evicted entry's newer
//! neighbour and wraps to the oldest entry when it runs off the new end.
//!
//! It sees slots and accesses only, as every policy does (see [`crate::policy`]): not the
//! cache that owns the slots, nor layers, requests or the engine.

use super::list::{Links, List, NIL};
use super::{Access, BuildPolicy, Capacity, NoConfig, Policy, PrefetchHints, Slot};
use crate::mem::prefetch::prefetch;

/// SIEVE over one queue, 9 bytes per entry.
#[derive(Debug)]
pub struct Sieve {
    links: Links,
    queue: List,
    visited: Vec<bool>,
    /// The next entry the hand examines, or `NIL` to start from the oldest.
    hand: Slot,
}

impl BuildPolicy for Sieve {
    type Config = NoConfig;
    fn build(_: &NoConfig, capacity: Capacity, _seed: u64) -> Self {
        Sieve {
            links: Links::with_capacity(capacity.slots_hint),
            queue: List::default(),
            visited: Vec::with_capacity(capacity.slots_hint),
            hand: NIL,
        }
    }
}

impl Default for Sieve {
    fn default() -> Self {
        Sieve::build(&NoConfig {}, Capacity::entries(0), 0)
    }
}

impl PrefetchHints for Sieve {
    #[inline]
    fn prefetch(&self, slot: Slot) {
        prefetch(&self.visited, slot as usize);
    }
}

impl Policy for Sieve {
    #[inline]
    fn insert(&mut self, slot: Slot, _: &Access) {
        let s = slot as usize;
        if s >= self.visited.len() {
            self.visited.resize(s + 1, false);
        }
        self.visited[s] = false;
        self.queue.push_back(&mut self.links, slot);
    }
    #[inline]
    fn touch(&mut self, slot: Slot, _: &Access) {
        self.visited[slot as usize] = true;
    }
    #[inline]
    fn evict(&mut self, _: &Access) -> Slot {
        assert!(!self.queue.is_empty(), "evict called on an empty cache");
        let mut s = if self.hand == NIL {
            self.queue.front()
        } else {
            self.hand
        };
        while self.visited[s as usize] {
            self.visited[s as usize] = false;
            s = self.links.next(s);
            if s == NIL {
                s = self.queue.front();
            }
        }
        self.hand = self.links.next(s);
        self.queue.remove(&mut self.links, s);
        s
    }
    #[inline]
    fn remove(&mut self, slot: Slot) {
        if self.hand == slot {
            self.hand = self.links.next(slot);
        }
        self.queue.remove(&mut self.links, slot);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_skips_visited_and_keeps_its_place() {
        let mut p = Sieve::default();
        for s in 0..5 {
            p.insert(s, &Access::key(s));
        }
        p.touch(0, &Access::key(0));
        p.touch(1, &Access::key(1));
        p.touch(3, &Access::key(3));
        assert_eq!(p.evict(&Access::key(9)), 2);
        // Entries stay in place; the hand now points at 3.
        assert_eq!(p.queue.slots(&p.links), vec![0, 1, 3, 4]);
        assert_eq!(p.hand, 3);
        assert_eq!(
            (p.visited[0], p.visited[1], p.visited[3]),
            (false, false, true)
        );
        assert_eq!(p.evict(&Access::key(9)), 4);
        // The hand ran off the new end: it wraps to the oldest, 0, now unvisited.
        assert_eq!(p.hand, NIL);
        assert_eq!(p.evict(&Access::key(9)), 0);
        assert_eq!(p.queue.slots(&p.links), vec![1, 3]);
    }
}
