//! Ghost lists: FIFO-ordered keys of recently evicted entries, without their data.
//!
//! ARC (B1, B2), 2Q (A1out) and S3-FIFO (G) remember evicted keys to recognise a quick
//! return. A ghost outlives the slot its entry had, so ghosts are found by *key*, and one
//! key sits in at most one of the `N` lists.
//!
//! Layout, and why. Every ghost is one 20-byte node `(prev, next, key, size, chain)` in an
//! arena; the `N` lists are doubly linked through it, and freed nodes are reused (a free
//! chain), so the arena holds as many nodes as there were ever ghosts at once. Keys are
//! found by hashing to one of [`Chains`]' bucket heads, 4 bytes each, one bucket per
//! ghost, and following `chain` through the nodes of that bucket. Both are sized up front
//! from the policy's bound on its ghosts (a capacity's worth, or a share of it) and grow
//! only past it, with byte-sized caches of small objects.
//!
//! Cost per ghost: 24 bytes when a policy holds the ghosts it was sized for. With
//! chains, a lookup follows one node on average and a deletion moves nothing (the
//! layouts tried before are in `docs/performance.md`, "policy").
//!
//! Only the head and tail of a list are found through the list; a node's `prev` is read
//! only when it is not the head and its `next` only when it is not the tail, so popping
//! the oldest ghost writes nothing in the list but its head.
//!
//! It owns keys and their order; which list a key belongs in, and when, is the policy's.

/// The "no node" marker.
const NIL: u32 = u32::MAX;

/// A ghost: its neighbours in its list (towards the oldest and the newest end), its key,
/// the size it had, and its list (top two bits) with the next node of its hash chain.
#[derive(Clone, Copy, Debug)]
struct Node {
    prev: u32,
    next: u32,
    key: u32,
    size: u32,
    chain: u32,
}

/// Node numbers take the low 30 bits of `chain`; the top two bits name the list.
const NODE_BITS: u32 = 30;
const NODE_MASK: u32 = (1 << NODE_BITS) - 1;

impl ChainNodes for Vec<Node> {
    #[inline(always)]
    fn key(&self, n: u32) -> u32 {
        self[n as usize].key
    }
    #[inline(always)]
    fn chain(&self, n: u32) -> u32 {
        let c = self[n as usize].chain & NODE_MASK;
        if c == NODE_MASK { NIL } else { c }
    }
    #[inline(always)]
    fn set_chain(&mut self, n: u32, to: u32) {
        let c = &mut self[n as usize].chain;
        *c = (*c & !NODE_MASK) | (to & NODE_MASK);
    }
}

/// `N` ghost lists sharing one key index.
#[derive(Debug)]
pub(crate) struct Ghosts<const N: usize> {
    index: Chains,
    nodes: Vec<Node>,
    /// The first free node; free nodes chain through `next`.
    free: u32,
    /// The oldest node of each list, or `NIL`.
    heads: [u32; N],
    /// The newest node of each list, or `NIL`.
    tails: [u32; N],
    live: [u32; N],
    units: [u64; N],
}

impl<const N: usize> Ghosts<N> {
    /// Empty lists, sized for `ghosts` keys in all before anything grows, plus one: the
    /// policies push a ghost before they trim the lists back to their bound (ARC's
    /// REPLACE runs before the returning key leaves its ghost list).
    pub(crate) fn with_capacity(ghosts: usize) -> Self {
        const { assert!(N <= 4, "the list index takes two bits") };
        let ghosts = ghosts + 1;
        Ghosts {
            index: Chains::with_capacity(ghosts),
            nodes: Vec::with_capacity(ghosts),
            free: NIL,
            heads: [NIL; N],
            tails: [NIL; N],
            live: [0; N],
            units: [0; N],
        }
    }

    /// The list holding `key`, if any.
    #[inline]
    pub(crate) fn find(&self, key: u32) -> Option<usize> {
        let n = self.index.find(key, &self.nodes);
        (n != NIL).then(|| (self.nodes[n as usize].chain >> NODE_BITS) as usize)
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
        let tail = self.tails[i];
        let node = Node {
            prev: tail,
            next: NIL,
            key,
            size,
            chain: (i as u32) << NODE_BITS | NODE_MASK,
        };
        let n = if self.free != NIL {
            let n = self.free;
            self.free = self.nodes[n as usize].next;
            self.nodes[n as usize] = node;
            n
        } else {
            assert!(self.nodes.len() < NODE_MASK as usize, "too many ghosts");
            self.nodes.push(node);
            (self.nodes.len() - 1) as u32
        };
        if tail == NIL {
            self.heads[i] = n;
        } else {
            self.nodes[tail as usize].next = n;
        }
        self.tails[i] = n;
        self.index.insert(n, &mut self.nodes);
        self.live[i] += 1;
        self.units[i] += size as u64;
    }

    /// Forgets `key` if it is a ghost; returns the list it was in.
    #[inline]
    pub(crate) fn remove(&mut self, key: u32) -> Option<usize> {
        let n = self.index.find(key, &self.nodes);
        if n == NIL {
            return None;
        }
        let Node {
            prev,
            next,
            size,
            chain,
            ..
        } = self.nodes[n as usize];
        let i = (chain >> NODE_BITS) as usize;
        // A head's `prev` may be stale (see `pop_front`): read it only below the head.
        let head = n == self.heads[i];
        if head {
            self.heads[i] = next;
        } else {
            self.nodes[prev as usize].next = next;
        }
        if n == self.tails[i] {
            self.tails[i] = if head { NIL } else { prev };
        } else {
            self.nodes[next as usize].prev = prev;
        }
        self.release(i, n, size);
        Some(i)
    }

    /// Forgets the oldest key of list `i`; returns it.
    #[inline]
    pub(crate) fn pop_front(&mut self, i: usize) -> Option<u32> {
        let n = self.heads[i];
        if n == NIL {
            return None;
        }
        let Node {
            next, key, size, ..
        } = self.nodes[n as usize];
        // The new head's `prev` still names `n`; it is never read while it is the head.
        self.heads[i] = next;
        if n == self.tails[i] {
            self.tails[i] = NIL;
        }
        self.release(i, n, size);
        Some(key)
    }

    /// Unhashes node `n` of list `i` and frees it.
    #[inline]
    fn release(&mut self, i: usize, n: u32, size: u32) {
        self.index.remove(n, &mut self.nodes);
        self.nodes[n as usize].next = self.free;
        self.free = n;
        self.live[i] -= 1;
        self.units[i] -= size as u64;
    }

    /// Drops the oldest keys of list `i` until its size is at most `max_units`.
    #[inline]
    pub(crate) fn trim(&mut self, i: usize, max_units: u64) {
        while self.units[i] > max_units && self.pop_front(i).is_some() {}
    }

    /// Bytes held, for memory reports.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.index.heap_bytes() + super::vec_bytes(&self.nodes)
    }

    /// The keys of list `i`, oldest first, for white-box tests.
    #[cfg(test)]
    pub(crate) fn to_vec(&self, i: usize) -> Vec<u32> {
        let mut v = Vec::new();
        let mut n = self.heads[i];
        while n != NIL {
            let node = self.nodes[n as usize];
            v.push(node.key);
            n = if n == self.tails[i] { NIL } else { node.next };
        }
        v
    }
}

/// The nodes a [`Chains`] index threads its hash chains through: each has a key and the
/// next node of its chain (`NIL` at the end).
pub(crate) trait ChainNodes {
    /// The key of node `n`.
    fn key(&self, n: u32) -> u32;
    /// The node after `n` in its chain, or `NIL`.
    fn chain(&self, n: u32) -> u32;
    /// Sets the node after `n` in its chain.
    fn set_chain(&mut self, n: u32, to: u32);
}

/// A key index by separate chaining, its chains threaded through the caller's nodes:
/// 4 bytes of bucket head per bucket and one link per node, at most one key per bucket
/// on average. The bucket count is any integer (a key's bucket is the high half of its
/// 32-bit hash times the count), so it follows the caller's bound, not the next power of
/// two.
#[derive(Debug)]
pub(crate) struct Chains {
    heads: Vec<u32>,
    len: usize,
}

impl Chains {
    /// An index of `keys` buckets, holding that many keys before it grows.
    pub(crate) fn with_capacity(keys: usize) -> Self {
        Chains {
            heads: vec![NIL; keys.max(16)],
            len: 0,
        }
    }

    #[inline(always)]
    fn bucket(&self, key: u32) -> usize {
        let h = key.wrapping_mul(0x9E37_79B9);
        ((h as u64 * self.heads.len() as u64) >> 32) as usize
    }

    /// The node holding `key`, or `NIL`.
    #[inline]
    pub(crate) fn find(&self, key: u32, nodes: &impl ChainNodes) -> u32 {
        let mut n = self.heads[self.bucket(key)];
        while n != NIL && nodes.key(n) != key {
            n = nodes.chain(n);
        }
        n
    }

    /// Adds node `n`, whose key is not in the index.
    #[inline]
    pub(crate) fn insert(&mut self, n: u32, nodes: &mut impl ChainNodes) {
        if self.len >= self.heads.len() {
            self.grow(nodes);
        }
        let b = self.bucket(nodes.key(n));
        nodes.set_chain(n, self.heads[b]);
        self.heads[b] = n;
        self.len += 1;
    }

    /// Removes node `n`, which is in the index.
    #[inline]
    pub(crate) fn remove(&mut self, n: u32, nodes: &mut impl ChainNodes) {
        let b = self.bucket(nodes.key(n));
        let after = nodes.chain(n);
        let mut m = self.heads[b];
        if m == n {
            self.heads[b] = after;
        } else {
            loop {
                let c = nodes.chain(m);
                if c == n {
                    nodes.set_chain(m, after);
                    break;
                }
                m = c;
            }
        }
        self.len -= 1;
    }

    #[cold]
    fn grow(&mut self, nodes: &mut impl ChainNodes) {
        let n = self.heads.len() * 2;
        let old = std::mem::replace(&mut self.heads, vec![NIL; n]);
        for mut n in old {
            while n != NIL {
                let c = nodes.chain(n);
                let b = self.bucket(nodes.key(n));
                nodes.set_chain(n, self.heads[b]);
                self.heads[b] = n;
                n = c;
            }
        }
    }

    /// Bytes held, for memory reports.
    pub(crate) fn heap_bytes(&self) -> usize {
        super::vec_bytes(&self.heads)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    #[test]
    fn keys_move_between_lists_and_trim_by_size() {
        let mut g = Ghosts::<2>::with_capacity(4);
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
        let mut g = Ghosts::<2>::with_capacity(4);
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
            if x.is_multiple_of(1000) {
                for (l, m) in model.iter().enumerate() {
                    assert_eq!(g.to_vec(l), Vec::from_iter(m.iter().copied()));
                    assert_eq!(g.units(l), m.len() as u64);
                }
            }
        }
    }
}
