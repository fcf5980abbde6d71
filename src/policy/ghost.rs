//! Ghost lists: FIFO-ordered keys of recently evicted entries, without their data.
//!
//! ARC (B1, B2), 2Q (A1out) and S3-FIFO (G) remember evicted keys to recognise a quick
//! return. A ghost outlives the slot its entry had, so ghosts are indexed by *key*: the
//! links and sizes live in arrays over the key space (12 bytes per key ever seen, none
//! per request), and one key sits in at most one of the `N` lists.

use super::list::{Links, List};

/// `N` ghost lists sharing one key-indexed link array.
#[derive(Debug)]
pub(crate) struct Ghosts<const N: usize> {
    links: Links,
    /// Which list holds the key: 0 none, `i + 1` list `i`.
    tag: Vec<u8>,
    size: Vec<u32>,
    lists: [List; N],
    units: [u64; N],
}

impl<const N: usize> Ghosts<N> {
    pub(crate) fn new() -> Self {
        Ghosts {
            links: Links::default(),
            tag: Vec::new(),
            size: Vec::new(),
            lists: [List::default(); N],
            units: [0; N],
        }
    }

    /// The list holding `key`, if any.
    #[inline]
    pub(crate) fn find(&self, key: u32) -> Option<usize> {
        match self.tag.get(key as usize) {
            Some(&t) if t != 0 => Some(t as usize - 1),
            _ => None,
        }
    }

    /// Total size of the keys in list `i`.
    #[inline]
    pub(crate) fn units(&self, i: usize) -> u64 {
        self.units[i]
    }

    /// Number of keys in list `i`, for tests.
    #[cfg(test)]
    pub(crate) fn len(&self, i: usize) -> u32 {
        self.lists[i].len()
    }

    /// Appends `key` (not in any list) at the newest end of list `i`.
    #[inline]
    pub(crate) fn push(&mut self, i: usize, key: u32, size: u32) {
        let k = key as usize;
        if k >= self.tag.len() {
            // Grows with the key space, amortised: the next `key` values need no resize.
            let n = (k + 1).max(self.tag.len() * 2);
            self.tag.resize(n, 0);
            self.size.resize(n, 0);
        }
        debug_assert_eq!(self.tag[k], 0, "key {key} is already a ghost");
        self.tag[k] = i as u8 + 1;
        self.size[k] = size;
        self.units[i] += size as u64;
        self.lists[i].push_back(&mut self.links, key);
    }

    /// Forgets `key` if it is a ghost; returns the list it was in.
    #[inline]
    pub(crate) fn remove(&mut self, key: u32) -> Option<usize> {
        let i = self.find(key)?;
        self.lists[i].remove(&mut self.links, key);
        self.forget(i, key);
        Some(i)
    }

    /// Forgets the oldest key of list `i`; returns it.
    #[inline]
    pub(crate) fn pop_front(&mut self, i: usize) -> Option<u32> {
        let key = self.lists[i].pop_front(&mut self.links)?;
        self.forget(i, key);
        Some(key)
    }

    /// Drops the oldest keys of list `i` until its size is at most `max_units`.
    #[inline]
    pub(crate) fn trim(&mut self, i: usize, max_units: u64) {
        while self.units[i] > max_units && self.pop_front(i).is_some() {}
    }

    fn forget(&mut self, i: usize, key: u32) {
        let k = key as usize;
        self.tag[k] = 0;
        self.units[i] -= self.size[k] as u64;
    }

    /// The keys of list `i`, oldest first, for white-box tests.
    #[cfg(test)]
    pub(crate) fn to_vec(&self, i: usize) -> Vec<u32> {
        let mut v = Vec::new();
        let mut k = self.lists[i].front();
        while k != super::list::NIL {
            v.push(k);
            k = self.links.next(k);
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_move_between_lists_and_trim_by_size() {
        let mut g = Ghosts::<2>::new();
        g.push(0, 7, 3);
        g.push(0, 2, 1);
        g.push(1, 100, 5);
        assert_eq!(g.find(7), Some(0));
        assert_eq!(g.find(100), Some(1));
        assert_eq!(g.find(3), None);
        assert_eq!(g.units(0), 4);
        g.trim(0, 1);
        assert_eq!(g.to_vec(0), vec![2]);
        assert_eq!(g.remove(100), Some(1));
        assert_eq!(g.len(1), 0);
        assert_eq!(g.units(1), 0);
        g.push(1, 7, 1);
        assert_eq!(g.pop_front(1), Some(7));
        assert_eq!(g.find(7), None);
    }
}
