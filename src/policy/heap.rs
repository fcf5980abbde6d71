//! An indexed binary min-heap over slots, for the priority-based policies (GDSF, LFUDA,
//! Belady).
//!
//! Each slot remembers its position, so a hit can change its priority in O(log n) without
//! the stale duplicates (and the growth) of a lazy-deletion heap. State: the key, plus
//! 4 bytes of position and 4 in the heap array, per slot.
//!
//! It owns positions and order only: what a priority means is the policy's.

use super::list::NIL;
use super::{BYPASS, Slot};

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

/// A priority with a deterministic tie-break: lower `value` first, then older `seq`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Priority {
    pub(crate) value: f64,
    pub(crate) seq: u64,
}

impl Eq for Priority {}

impl PartialOrd for Priority {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Priority {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.value
            .total_cmp(&other.value)
            .then(self.seq.cmp(&other.seq))
    }
}

/// The Greedy-Dual family with an inflation value `L`: an entry's priority is
/// `L + frequency × weight`, the victim is the lowest, and `L` becomes the victim's
/// priority, so long-resident entries age relative to new ones.
///
/// GDSF's weight is `10⁶ / size`, computed as libCacheSim's GDSF computes it
/// (`freq × 1e6 / size`, then `+ L`), so that equal priorities, and the ties they cause,
/// fall alike in both.
#[derive(Debug)]
pub(crate) struct GreedyDual {
    heap: SlotHeap<Priority>,
    freq: Vec<u32>,
    size: Vec<u32>,
    inflation: f64,
    seq: u64,
    /// Divide the frequency by the size (GDSF) or not (LFUDA).
    per_byte: bool,
    /// The key being admitted and the priority it got before this miss's first eviction,
    /// for [`evict_or_bypass`](Self::evict_or_bypass).
    incoming: Option<(u32, f64)>,
}

/// GDSF's frequency-to-priority scale: libCacheSim's.
const PER_BYTE_SCALE: f64 = 1.0e6;

impl GreedyDual {
    pub(crate) fn new(slots_hint: usize, per_byte: bool) -> Self {
        GreedyDual {
            heap: SlotHeap::with_capacity(slots_hint),
            freq: Vec::with_capacity(slots_hint),
            size: Vec::with_capacity(slots_hint),
            inflation: 0.0,
            seq: 0,
            per_byte,
            incoming: None,
        }
    }

    fn value(&self, freq: u32, size: u32) -> f64 {
        if self.per_byte {
            self.inflation + f64::from(freq) * PER_BYTE_SCALE / f64::from(size.max(1))
        } else {
            self.inflation + f64::from(freq)
        }
    }

    fn priority(&mut self, value: f64) -> Priority {
        self.seq += 1;
        Priority {
            value,
            seq: self.seq,
        }
    }

    pub(crate) fn insert(&mut self, slot: Slot, key: u32, size: u32) {
        let s = slot as usize;
        if s >= self.freq.len() {
            self.freq.resize(s + 1, 0);
            self.size.resize(s + 1, 0);
        }
        self.freq[s] = 1;
        self.size[s] = size;
        let value = match self.incoming.take() {
            Some((k, v)) if k == key => v,
            _ => self.value(1, size),
        };
        let p = self.priority(value);
        self.heap.push(slot, p);
    }

    pub(crate) fn touch(&mut self, slot: Slot) {
        let s = slot as usize;
        self.freq[s] = self.freq[s].saturating_add(1);
        let p = self.priority(self.value(self.freq[s], self.size[s]));
        self.heap.update(slot, p);
    }

    pub(crate) fn evict(&mut self) -> Slot {
        let slot = self.heap.pop().expect("evict called on an empty cache");
        self.inflation = self.heap_key_of(slot);
        slot
    }

    /// Evicts as if the incoming entry (`key`, `size`) were already in the heap, with the
    /// priority it gets from `L` before this miss's evictions: the lowest resident, or
    /// [`BYPASS`] when the incoming entry is lower than all (it then sets `L`, as its own
    /// eviction would). A resident with an equal priority goes first: its was set earlier.
    pub(crate) fn evict_or_bypass(&mut self, key: u32, size: u32) -> Slot {
        let value = match self.incoming {
            Some((k, v)) if k == key => v,
            _ => {
                let v = self.value(1, size);
                self.incoming = Some((key, v));
                v
            }
        };
        let top = self.heap.peek().expect("evict called on an empty cache");
        if self.heap_key_of(top) <= value {
            return self.evict();
        }
        self.inflation = value;
        self.incoming = None;
        BYPASS
    }

    fn heap_key_of(&self, slot: Slot) -> f64 {
        self.heap.key(slot).value
    }

    pub(crate) fn remove(&mut self, slot: Slot) {
        self.heap.remove(slot);
    }

    /// The inflation value `L`, for tests.
    #[cfg(test)]
    pub(crate) fn inflation(&self) -> f64 {
        self.inflation
    }
}
