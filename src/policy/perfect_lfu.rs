//! Perfect LFU: every key's request count is kept for the whole run, evicted or not, and
//! the cache holds the most requested keys it has seen.
//!
//! Under the independent reference model its hit ratio tends to the sum of the top-C
//! popularities, the best any policy without knowledge of the future can do (Breslau,
//! Cao, Fan, Phillips and Shenker, "Web caching and Zipf-like distributions", INFOCOM
//! 1999, who name it against *in-cache* LFU, [`Lfu`](super::Lfu)). A newcomer enters a
//! full cache only if its count exceeds the smallest resident count; among equal counts
//! the entry that reached its count first leaves first.
//!
//! Cost: 4 bytes per key of the key space for the counts, 20 bytes per resident entry,
//! O(log C) per operation (an indexed binary heap).
//!
//! It sees slots and accesses only, as every policy does (see [`crate::policy`]): not the
//! cache that owns the slots, nor layers, requests or the engine.

use super::{Access, BuildPolicy, Capacity, NoConfig, Policy, Slot};

/// LFU over all-time counts, with admission.
#[derive(Debug, Default)]
pub struct PerfectLfu {
    /// key -> requests so far.
    counts: Vec<u32>,
    /// Resident slots, a binary min-heap by `(count, stamp)`.
    heap: Vec<Slot>,
    /// slot -> position in `heap`.
    pos: Vec<u32>,
    key_of: Vec<u32>,
    /// slot -> when it reached its current count, for the tie-break.
    stamp: Vec<u64>,
    clock: u64,
}

impl BuildPolicy for PerfectLfu {
    type Config = NoConfig;
    fn build(_: &NoConfig, capacity: Capacity, _seed: u64) -> Self {
        PerfectLfu {
            heap: Vec::with_capacity(capacity.slots_hint),
            ..Default::default()
        }
    }
}

impl PerfectLfu {
    #[inline]
    fn rank(&self, slot: Slot) -> (u32, u64) {
        let s = slot as usize;
        (self.counts[self.key_of[s] as usize], self.stamp[s])
    }

    fn count_request(&mut self, key: u32) -> u32 {
        let k = key as usize;
        if k >= self.counts.len() {
            self.counts.resize(k + 1, 0);
        }
        self.counts[k] += 1;
        self.counts[k]
    }

    fn swap(&mut self, i: usize, j: usize) {
        self.heap.swap(i, j);
        self.pos[self.heap[i] as usize] = i as u32;
        self.pos[self.heap[j] as usize] = j as u32;
    }

    fn sift_up(&mut self, mut i: usize) {
        while i > 0 {
            let parent = (i - 1) / 2;
            if self.rank(self.heap[i]) >= self.rank(self.heap[parent]) {
                break;
            }
            self.swap(i, parent);
            i = parent;
        }
    }

    fn sift_down(&mut self, mut i: usize) {
        loop {
            let (l, r) = (2 * i + 1, 2 * i + 2);
            let mut min = i;
            if l < self.heap.len() && self.rank(self.heap[l]) < self.rank(self.heap[min]) {
                min = l;
            }
            if r < self.heap.len() && self.rank(self.heap[r]) < self.rank(self.heap[min]) {
                min = r;
            }
            if min == i {
                return;
            }
            self.swap(i, min);
            i = min;
        }
    }

    fn take(&mut self, i: usize) -> Slot {
        let slot = self.heap[i];
        let last = self.heap.len() - 1;
        self.swap(i, last);
        self.heap.pop();
        if i < self.heap.len() {
            self.sift_down(i);
            self.sift_up(i);
        }
        slot
    }
}

impl Policy for PerfectLfu {
    fn admit(&mut self, incoming: &Access, full: bool) -> bool {
        let count = self.count_request(incoming.key);
        !full
            || self
                .heap
                .first()
                .is_none_or(|&min| count > self.rank(min).0)
    }

    fn insert(&mut self, slot: Slot, access: &Access) {
        let s = slot as usize;
        if s >= self.pos.len() {
            self.pos.resize(s + 1, 0);
            self.key_of.resize(s + 1, 0);
            self.stamp.resize(s + 1, 0);
        }
        if access.key as usize >= self.counts.len() {
            // Inserted without `admit` (never by `Cache`): count this request here.
            self.count_request(access.key);
        }
        self.key_of[s] = access.key;
        self.stamp[s] = self.clock;
        self.clock += 1;
        self.pos[s] = self.heap.len() as u32;
        self.heap.push(slot);
        self.sift_up(self.heap.len() - 1);
    }

    fn touch(&mut self, slot: Slot, access: &Access) {
        self.count_request(access.key);
        self.stamp[slot as usize] = self.clock;
        self.clock += 1;
        self.sift_down(self.pos[slot as usize] as usize);
    }

    fn evict(&mut self, _: &Access) -> Slot {
        assert!(!self.heap.is_empty(), "evict called on an empty cache");
        self.take(0)
    }

    fn remove(&mut self, slot: Slot) {
        self.take(self.pos[slot as usize] as usize);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heap_removal_keeps_order() {
        let mut p = PerfectLfu::default();
        for (slot, key) in [(0, 10), (1, 11), (2, 12), (3, 13)] {
            p.admit(&Access::key(key), false);
            p.insert(slot, &Access::key(key));
        }
        for _ in 0..3 {
            p.touch(0, &Access::key(10));
        }
        p.touch(2, &Access::key(12));
        p.remove(1);
        // counts: 10 -> 4, 12 -> 2, 13 -> 1
        assert_eq!(p.evict(&Access::key(99)), 3);
        assert_eq!(p.evict(&Access::key(99)), 2);
        assert_eq!(p.evict(&Access::key(99)), 0);
    }
}
