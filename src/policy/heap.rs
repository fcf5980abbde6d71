//! An indexed binary min-heap over slots, for the priority-based policies (GDSF, LFUDA,
//! Belady).
//!
//! Each slot remembers its position, so a hit can change its priority in O(log n) without
//! the stale duplicates (and the growth) of a lazy-deletion heap. State: the key, plus
//! 4 bytes of position and 4 in the heap array, per slot.
//!
//! It owns positions and order only: what a priority means is the policy's.

use super::Slot;
use super::list::NIL;

/// A min-heap of slots ordered by `K` (ties must be broken inside `K` for determinism).
#[derive(Debug, Default)]
pub(crate) struct SlotHeap<K> {
    heap: Vec<Slot>,
    pos: Vec<u32>,
    key: Vec<K>,
}

impl<K: Ord + Copy + Default> SlotHeap<K> {
    pub(crate) fn with_capacity(n: usize) -> Self {
        SlotHeap {
            heap: Vec::with_capacity(n),
            pos: Vec::with_capacity(n),
            key: Vec::with_capacity(n),
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.heap.len()
    }

    /// The key `slot` has in the heap.
    #[inline]
    pub(crate) fn key(&self, slot: Slot) -> K {
        self.key[slot as usize]
    }

    /// Adds `slot`, which is not in the heap.
    pub(crate) fn push(&mut self, slot: Slot, key: K) {
        let s = slot as usize;
        if s >= self.pos.len() {
            self.pos.resize(s + 1, NIL);
            self.key.resize(s + 1, K::default());
        }
        self.key[s] = key;
        self.pos[s] = self.heap.len() as u32;
        self.heap.push(slot);
        self.sift_up(self.heap.len() - 1);
    }

    /// Changes the key of `slot`, which is in the heap.
    pub(crate) fn update(&mut self, slot: Slot, key: K) {
        let s = slot as usize;
        let old = self.key[s];
        self.key[s] = key;
        let i = self.pos[s] as usize;
        if key < old {
            self.sift_up(i);
        } else {
            self.sift_down(i);
        }
    }

    /// The slot with the smallest key.
    #[inline]
    pub(crate) fn peek(&self) -> Option<Slot> {
        self.heap.first().copied()
    }

    /// Removes and returns the slot with the smallest key.
    pub(crate) fn pop(&mut self) -> Option<Slot> {
        let top = *self.heap.first()?;
        self.remove(top);
        Some(top)
    }

    /// Removes `slot`, which is in the heap.
    pub(crate) fn remove(&mut self, slot: Slot) {
        let i = self.pos[slot as usize] as usize;
        let last = self.heap.len() - 1;
        self.swap(i, last);
        self.heap.pop();
        self.pos[slot as usize] = NIL;
        if i < self.heap.len() {
            self.sift_down(i);
            self.sift_up(i);
        }
    }

    #[inline]
    fn less(&self, a: usize, b: usize) -> bool {
        self.key[self.heap[a] as usize] < self.key[self.heap[b] as usize]
    }

    #[inline]
    fn swap(&mut self, a: usize, b: usize) {
        self.heap.swap(a, b);
        self.pos[self.heap[a] as usize] = a as u32;
        self.pos[self.heap[b] as usize] = b as u32;
    }

    fn sift_up(&mut self, mut i: usize) {
        while i > 0 {
            let parent = (i - 1) / 2;
            if !self.less(i, parent) {
                break;
            }
            self.swap(i, parent);
            i = parent;
        }
    }

    fn sift_down(&mut self, mut i: usize) {
        let n = self.heap.len();
        loop {
            let (l, r) = (2 * i + 1, 2 * i + 2);
            let mut m = i;
            if l < n && self.less(l, m) {
                m = l;
            }
            if r < n && self.less(r, m) {
                m = r;
            }
            if m == i {
                break;
            }
            self.swap(i, m);
            i = m;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_key_order_after_updates_and_removals() {
        let mut h = SlotHeap::<u64>::with_capacity(4);
        for (s, k) in [(0, 50), (1, 10), (2, 40), (3, 30), (4, 20)] {
            h.push(s, k);
        }
        h.update(1, 60);
        h.update(2, 5);
        h.remove(3);
        assert_eq!(h.len(), 4);
        let order: Vec<Slot> = std::iter::from_fn(|| h.pop()).collect();
        assert_eq!(order, vec![2, 4, 0, 1]);
    }
}
