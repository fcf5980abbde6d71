//! Ghost lists: FIFO-ordered keys of recently evicted entries, without their data.
//!
//! ARC (B1, B2), 2Q (A1out) and S3-FIFO (G) remember evicted keys to recognise a quick
//! return. A ghost outlives the slot its entry had, so ghosts are found by *key*, and one
//! key sits in at most one of the `N` lists.
//!
//! Layout, and why: each list is a ring of `(key, size)` in FIFO order, and a small
//! open-addressing set maps a ghost's key to its list and ring position. Both grow with
//! the number of ghosts (bounded by the cache's capacity in every policy using them), not
//! with the key space: an earlier version kept links and sizes in arrays over every key
//! ever seen, which cost 13 bytes per key (13 KB per cached entry for a cache of 0.1% of
//! a 1M-key trace) and a cache miss in a multi-megabyte array at every ghost operation.
//! A ghost removed from the middle of its list (a ghost hit) is only marked dead in its
//! ring; `pop_front` skips dead marks, and a ring with more dead marks than ghosts is
//! compacted, so a ring holds at most about twice its ghosts.
//! Cost per ghost: 8 bytes in the ring (16 with dead marks) and 8 bytes per set bucket at
//! a load of 3/8 to 3/4, so about 19 to 37 bytes.

use std::collections::VecDeque;

/// A ghost in its ring: the key and the size it had; `size == DEAD` marks a removed one.
#[derive(Clone, Copy, Debug)]
struct Ghost {
    key: u32,
    size: u32,
}

const DEAD: u32 = u32::MAX;

/// Ring positions are kept modulo 2^30 in the set; the top two bits name the list.
const POS_BITS: u32 = 30;
const POS_MASK: u32 = (1 << POS_BITS) - 1;

/// `N` ghost lists sharing one key set.
#[derive(Debug)]
pub(crate) struct Ghosts<const N: usize> {
    set: KeySet,
    rings: [VecDeque<Ghost>; N],
    /// The ring position (modulo 2^30) of each ring's front.
    heads: [u32; N],
    live: [u32; N],
    units: [u64; N],
}

impl<const N: usize> Ghosts<N> {
    pub(crate) fn new() -> Self {
        const { assert!(N <= 4, "the list index takes two bits") };
        Ghosts {
            set: KeySet::default(),
            rings: std::array::from_fn(|_| VecDeque::new()),
            heads: [0; N],
            live: [0; N],
            units: [0; N],
        }
    }

    /// The list holding `key`, if any.
    #[inline]
    pub(crate) fn find(&self, key: u32) -> Option<usize> {
        self.set.get(key).map(|tag| (tag >> POS_BITS) as usize)
    }

    /// Total size of the keys in list `i`.
    #[inline]
    pub(crate) fn units(&self, i: usize) -> u64 {
        self.units[i]
    }

    /// Number of keys in list `i`, for tests.
    #[cfg(test)]
    pub(crate) fn len(&self, i: usize) -> u32 {
        self.live[i]
    }

    /// Appends `key` (not in any list) at the newest end of list `i`.
    #[inline]
    pub(crate) fn push(&mut self, i: usize, key: u32, size: u32) {
        debug_assert!(self.find(key).is_none(), "key {key} is already a ghost");
        let ring = &mut self.rings[i];
        let pos = self.heads[i].wrapping_add(ring.len() as u32) & POS_MASK;
        ring.push_back(Ghost { key, size });
        self.set.insert(key, (i as u32) << POS_BITS | pos);
        self.live[i] += 1;
        self.units[i] += size as u64;
    }

    /// Forgets `key` if it is a ghost; returns the list it was in.
    #[inline]
    pub(crate) fn remove(&mut self, key: u32) -> Option<usize> {
        let tag = self.set.remove(key)?;
        let i = (tag >> POS_BITS) as usize;
        let at = ((tag & POS_MASK).wrapping_sub(self.heads[i]) & POS_MASK) as usize;
        let g = &mut self.rings[i][at];
        debug_assert_eq!(g.key, key);
        self.units[i] -= g.size as u64;
        g.size = DEAD;
        self.live[i] -= 1;
        if self.rings[i].len() > 2 * self.live[i] as usize + 64 {
            self.compact(i);
        }
        Some(i)
    }

    /// Forgets the oldest key of list `i`; returns it.
    #[inline]
    pub(crate) fn pop_front(&mut self, i: usize) -> Option<u32> {
        while let Some(g) = self.rings[i].pop_front() {
            self.heads[i] = self.heads[i].wrapping_add(1) & POS_MASK;
            if g.size != DEAD {
                self.set.remove(g.key);
                self.live[i] -= 1;
                self.units[i] -= g.size as u64;
                return Some(g.key);
            }
        }
        None
    }

    /// Drops the oldest keys of list `i` until its size is at most `max_units`.
    #[inline]
    pub(crate) fn trim(&mut self, i: usize, max_units: u64) {
        while self.units[i] > max_units && self.pop_front(i).is_some() {}
    }

    /// Drops the dead marks of ring `i` and renumbers its ghosts from its head.
    #[cold]
    fn compact(&mut self, i: usize) {
        let ring = &mut self.rings[i];
        ring.retain(|g| g.size != DEAD);
        for (n, g) in ring.iter().enumerate() {
            let pos = self.heads[i].wrapping_add(n as u32) & POS_MASK;
            self.set.insert(g.key, (i as u32) << POS_BITS | pos);
        }
    }

    /// Bytes held, for memory reports.
    #[allow(dead_code)]
    pub(crate) fn heap_bytes(&self) -> usize {
        self.set.heap_bytes()
            + self
                .rings
                .iter()
                .map(|r| r.capacity() * std::mem::size_of::<Ghost>())
                .sum::<usize>()
    }

    /// The keys of list `i`, oldest first, for white-box tests.
    #[cfg(test)]
    pub(crate) fn to_vec(&self, i: usize) -> Vec<u32> {
        self.rings[i]
            .iter()
            .filter(|g| g.size != DEAD)
            .map(|g| g.key)
            .collect()
    }
}

/// A `u32 -> u32` map by open addressing with linear probing and backward-shift deletion
/// (no tombstones, so probe lengths stay short under constant churn).
#[derive(Debug)]
struct KeySet {
    /// `(key, value)`; `key == FREE` marks an empty bucket.
    buckets: Vec<(u32, u32)>,
    shift: u32,
    len: usize,
}

const FREE: u32 = u32::MAX;

impl Default for KeySet {
    fn default() -> Self {
        KeySet {
            buckets: vec![(FREE, 0); 16],
            shift: 32 - 4,
            len: 0,
        }
    }
}

impl KeySet {
    #[inline(always)]
    fn home(&self, key: u32) -> usize {
        (key.wrapping_mul(0x9E37_79B9) >> self.shift) as usize
    }

    #[inline(always)]
    fn mask(&self) -> usize {
        self.buckets.len() - 1
    }

    /// The bucket holding `key`, or the free bucket where it would go.
    #[inline(always)]
    fn probe(&self, key: u32) -> usize {
        let mut i = self.home(key);
        loop {
            let k = self.buckets[i].0;
            if k == key || k == FREE {
                return i;
            }
            i = (i + 1) & self.mask();
        }
    }

    #[inline]
    fn get(&self, key: u32) -> Option<u32> {
        let (k, v) = self.buckets[self.probe(key)];
        (k == key).then_some(v)
    }

    /// Inserts or overwrites.
    #[inline]
    fn insert(&mut self, key: u32, value: u32) {
        debug_assert_ne!(key, FREE);
        let i = self.probe(key);
        if self.buckets[i].0 == FREE {
            if (self.len + 1) * 4 > self.buckets.len() * 3 {
                self.grow();
                return self.insert(key, value);
            }
            self.len += 1;
        }
        self.buckets[i] = (key, value);
    }

    #[inline]
    fn remove(&mut self, key: u32) -> Option<u32> {
        let mut i = self.probe(key);
        let (k, v) = self.buckets[i];
        if k != key {
            return None;
        }
        self.len -= 1;
        // Backward shift: move later members of the run into the hole when their home
        // does not lie cyclically in (hole, their position].
        let mask = self.mask();
        let mut j = i;
        loop {
            j = (j + 1) & mask;
            let kj = self.buckets[j].0;
            if kj == FREE {
                break;
            }
            let h = self.home(kj);
            if (j.wrapping_sub(h) & mask) >= (j.wrapping_sub(i) & mask) {
                self.buckets[i] = self.buckets[j];
                i = j;
            }
        }
        self.buckets[i] = (FREE, 0);
        Some(v)
    }

    #[cold]
    fn grow(&mut self) {
        let old = std::mem::take(&mut self.buckets);
        let n = old.len() * 2;
        self.buckets = vec![(FREE, 0); n];
        self.shift = 32 - n.trailing_zeros();
        for (k, v) in old.into_iter().filter(|b| b.0 != FREE) {
            let i = self.probe(k);
            self.buckets[i] = (k, v);
        }
    }

    fn heap_bytes(&self) -> usize {
        self.buckets.capacity() * std::mem::size_of::<(u32, u32)>()
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

    #[test]
    fn matches_a_naive_model_under_churn() {
        // Pushes, middle removals (dead marks, compaction) and pops against VecDeques.
        let mut g = Ghosts::<2>::new();
        let mut model: [VecDeque<u32>; 2] = [VecDeque::new(), VecDeque::new()];
        let mut x = 12345u64;
        for _ in 0..200_000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let key = ((x >> 33) % 3000) as u32;
            let list = ((x >> 20) & 1) as usize;
            match (x >> 10) % 4 {
                0 | 1 => {
                    if g.find(key).is_none() {
                        g.push(list, key, 1);
                        model[list].push_back(key);
                    }
                }
                2 => {
                    let want = model.iter().position(|m| m.contains(&key));
                    if let Some(l) = want {
                        model[l].retain(|&k| k != key);
                    }
                    assert_eq!(g.remove(key), want);
                }
                _ => assert_eq!(g.pop_front(list), model[list].pop_front()),
            }
            if x % 1000 == 0 {
                for (l, m) in model.iter().enumerate() {
                    assert_eq!(g.to_vec(l), Vec::from_iter(m.iter().copied()));
                    assert_eq!(g.units(l), m.len() as u64);
                }
            }
        }
    }
}
