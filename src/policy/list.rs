//! Intrusive doubly linked lists over slots: the building block of the queue-based policies.
//!
//! The links live in one [`Links`] (two `u32` per slot) that several [`List`]s may share,
//! so a slot can move between lists (LFU's frequency classes, SLRU's segments) in O(1)
//! without allocating.
//!
//! A slot's `prev` and `next` are stored side by side (`[prev, next]`), not in two
//! vectors: an unlink or a move touches both, so one cache line serves instead of two.
//!
//! It owns links only: which list a slot belongs to, and why, is the policy's.

use super::Slot;

/// The "no slot" marker.
pub(crate) const NIL: Slot = Slot::MAX;

/// Per-slot `[prev, next]` links shared by the lists of one policy.
#[derive(Clone, Debug, Default)]
pub(crate) struct Links {
    link: Vec<[Slot; 2]>,
}

const PREV: usize = 0;
const NEXT: usize = 1;

impl Links {
    pub(crate) fn with_capacity(n: usize) -> Self {
        Links {
            link: Vec::with_capacity(n),
        }
    }

    /// Makes room for `slot`; slots are handed out densely, so this rarely grows.
    #[inline]
    pub(crate) fn ensure(&mut self, slot: Slot) {
        let need = slot as usize + 1;
        if need > self.link.len() {
            self.link.resize(need, [NIL; 2]);
        }
    }

    /// Heap bytes held, for memory reports.
    pub(crate) fn heap_bytes(&self) -> usize {
        super::vec_bytes(&self.link)
    }

    /// Prefetches the links of `slot`: for [`Policy::prefetch`](super::Policy::prefetch).
    #[inline]
    pub(crate) fn prefetch(&self, slot: Slot) {
        crate::mem::prefetch::prefetch(&self.link, slot as usize);
    }

    /// The slot after `slot` in its list (towards the newest end), or `NIL`.
    #[inline]
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn next(&self, slot: Slot) -> Slot {
        self.link[slot as usize][NEXT]
    }
}

/// A list of slots; `front` is the oldest end, `back` the newest.
#[derive(Clone, Copy, Debug)]
pub(crate) struct List {
    head: Slot,
    tail: Slot,
    len: u32,
}

impl Default for List {
    fn default() -> Self {
        List {
            head: NIL,
            tail: NIL,
            len: 0,
        }
    }
}

impl List {
    #[inline]
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn len(&self) -> u32 {
        self.len
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The oldest slot, or `NIL`.
    #[inline]
    pub(crate) fn front(&self) -> Slot {
        self.head
    }

    /// Appends `slot` at the newest end. `slot` must not be in any list.
    #[inline]
    pub(crate) fn push_back(&mut self, links: &mut Links, slot: Slot) {
        links.ensure(slot);
        let s = slot as usize;
        links.link[s] = [self.tail, NIL];
        if self.tail == NIL {
            self.head = slot;
        } else {
            links.link[self.tail as usize][NEXT] = slot;
        }
        self.tail = slot;
        self.len += 1;
    }

    /// Unlinks `slot`, which must be in this list.
    #[inline]
    pub(crate) fn remove(&mut self, links: &mut Links, slot: Slot) {
        let s = slot as usize;
        let [p, n] = links.link[s];
        if p == NIL {
            self.head = n;
        } else {
            links.link[p as usize][NEXT] = n;
        }
        if n == NIL {
            self.tail = p;
        } else {
            links.link[n as usize][PREV] = p;
        }
        self.len -= 1;
    }

    /// Removes and returns the oldest slot.
    #[inline]
    pub(crate) fn pop_front(&mut self, links: &mut Links) -> Option<Slot> {
        let h = self.head;
        if h == NIL {
            return None;
        }
        self.remove(links, h);
        Some(h)
    }

    /// Moves `slot`, already in this list, to the newest end.
    #[inline]
    pub(crate) fn move_to_back(&mut self, links: &mut Links, slot: Slot) {
        if self.tail != slot {
            self.remove(links, slot);
            self.push_back(links, slot);
        }
    }

    /// The slots from oldest to newest, for white-box tests.
    #[cfg(test)]
    pub(crate) fn slots(&self, links: &Links) -> Vec<Slot> {
        let mut v = Vec::with_capacity(self.len as usize);
        let mut s = self.head;
        while s != NIL {
            v.push(s);
            s = links.next(s);
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_remove_move() {
        let mut links = Links::default();
        let mut l = List::default();
        for s in [3, 1, 4, 0] {
            l.push_back(&mut links, s);
        }
        assert_eq!(l.slots(&links), vec![3, 1, 4, 0]);
        l.move_to_back(&mut links, 1);
        assert_eq!(l.slots(&links), vec![3, 4, 0, 1]);
        l.remove(&mut links, 0);
        assert_eq!(l.pop_front(&mut links), Some(3));
        assert_eq!(l.slots(&links), vec![4, 1]);
        assert_eq!(l.len(), 2);
    }
}
