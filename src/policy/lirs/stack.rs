//! LIRS's recency stack S, shared by both variants (the paper's and libCacheSim's): they
//! differ in what they do to S, not in what S is, so its list code lives here once.
//!
//! S holds two kinds of entries, resident ones (by slot) and non-resident ones, the
//! *ghosts* (by number), in one doubly linked list over one id space: a slot, or a
//! ghost's number with the [`GHOST`] bit. A resident entry that leaves the cache is
//! replaced in S by a ghost at the same position ([`Stack::replace_slot`]), and a
//! returning ghost by its slot ([`Stack::replace_ghost`]), so S's order is the
//! algorithm's whatever the ids.
//!
//! A ghost exists only while it is in S, so S keeps the ghost records too. A ghost's S
//! links sit in its record, beside the key and hash chain that a lookup reads just
//! before S is relinked: one cache line per ghost, not two. Slot links are an array of
//! their own, as both variants kept them. Pushes and moves to the top take a slot,
//! which is what the hot paths (hits) have: no test of the ghost bit there.
//!
//! It owns S's links and ghost records; what a variant does to S is the variant's.

use crate::policy::Slot;
use crate::policy::ghost::ChainNodes;
use crate::policy::list::NIL;

/// An S id with this bit is a ghost's number; without, a resident slot.
pub(super) const GHOST: u32 = 1 << 31;

/// The ends of a link pair: towards the bottom of S and towards its top.
pub(super) const PREV: usize = 0;
pub(super) const NEXT: usize = 1;

/// A non-resident key in S: its links in S, the key, the next ghost in its hash chain
/// (`ghost::Chains`), and what the variant keeps besides (`X`).
#[derive(Clone, Copy, Debug)]
pub(super) struct Ghost<X> {
    pub(super) link: [u32; 2],
    pub(super) key: u32,
    pub(super) chain: u32,
    pub(super) extra: X,
}

impl<X> ChainNodes for Vec<Ghost<X>> {
    #[inline(always)]
    fn key(&self, n: u32) -> u32 {
        self[n as usize].key
    }
    #[inline(always)]
    fn chain(&self, n: u32) -> u32 {
        self[n as usize].chain
    }
    #[inline(always)]
    fn set_chain(&mut self, n: u32, to: u32) {
        self[n as usize].chain = to;
    }
}

/// S: the links of resident slots, the ghosts, and the two ends.
#[derive(Debug)]
pub(super) struct Stack<X> {
    /// S links of resident slots (`[prev, next]`), by slot.
    pub(super) slots: Vec<[u32; 2]>,
    /// The ghosts, by number, allocated by [`new_ghost`](Stack::new_ghost).
    pub(super) ghosts: Vec<Ghost<X>>,
    /// The first free ghost number; free ghosts chain through `link[NEXT]`.
    free_ghost: u32,
    bottom: u32,
    top: u32,
}

impl<X> Stack<X> {
    pub(super) fn new(slots: usize, ghosts: usize) -> Self {
        Stack {
            slots: Vec::with_capacity(slots),
            ghosts: Vec::with_capacity(ghosts),
            free_ghost: NIL,
            bottom: NIL,
            top: NIL,
        }
    }

    /// A number for `ghost`, not yet in S: a freed one if any, else a new one (then
    /// `fresh`, so a variant with per-ghost arrays of its own grows them too).
    pub(super) fn new_ghost(&mut self, ghost: Ghost<X>) -> (u32, bool) {
        if self.free_ghost != NIL {
            let g = self.free_ghost;
            self.free_ghost = self.ghosts[g as usize].link[NEXT];
            self.ghosts[g as usize] = ghost;
            (g, false)
        } else {
            assert!(
                self.ghosts.len() < (GHOST - 1) as usize,
                "too many LIRS ghosts"
            );
            self.ghosts.push(ghost);
            ((self.ghosts.len() - 1) as u32, true)
        }
    }

    /// Frees ghost `g`, already out of S and out of its variant's index.
    pub(super) fn free_ghost(&mut self, g: u32) {
        self.ghosts[g as usize].link[NEXT] = self.free_ghost;
        self.free_ghost = g;
    }

    /// The bottom of S (the oldest entry), or `NIL`.
    #[inline(always)]
    pub(super) fn bottom(&self) -> u32 {
        self.bottom
    }

    /// The top of S (the newest entry), or `NIL`.
    #[inline(always)]
    pub(super) fn top(&self) -> u32 {
        self.top
    }

    /// Makes room for the links of `slot`.
    #[inline]
    pub(super) fn ensure(&mut self, slot: Slot) {
        let s = slot as usize;
        if s >= self.slots.len() {
            self.slots.resize(s + 1, [NIL; 2]);
        }
    }

    #[inline(always)]
    pub(super) fn link(&self, id: u32) -> [u32; 2] {
        if id & GHOST == 0 {
            self.slots[id as usize]
        } else {
            self.ghosts[(id & !GHOST) as usize].link
        }
    }

    #[inline(always)]
    fn set_link(&mut self, id: u32, end: usize, to: u32) {
        if id & GHOST == 0 {
            self.slots[id as usize][end] = to;
        } else {
            self.ghosts[(id & !GHOST) as usize].link[end] = to;
        }
    }

    /// Points the neighbours `[p, n]` of an entry of S at `after_p` and `before_n`
    /// (or, where a neighbour is `NIL`, the bottom or top of S).
    #[inline(always)]
    fn relink(&mut self, [p, n]: [u32; 2], after_p: u32, before_n: u32) {
        if p == NIL {
            self.bottom = after_p;
        } else {
            self.set_link(p, NEXT, after_p);
        }
        if n == NIL {
            self.top = before_n;
        } else {
            self.set_link(n, PREV, before_n);
        }
    }

    /// Unlinks `id` from S.
    #[inline]
    pub(super) fn remove(&mut self, id: u32) {
        let [p, n] = self.link(id);
        self.relink([p, n], n, p);
    }

    /// Makes `id`, whose own links already point down at the top, the top.
    #[inline(always)]
    fn set_top(&mut self, id: u32) {
        let top = self.top;
        if top == NIL {
            self.bottom = id;
        } else {
            self.set_link(top, NEXT, id);
        }
        self.top = id;
    }

    /// Pushes the resident `slot`, not in S, on the top of S.
    // `#[inline]`, as `move_to_top`: `always` cost every hit spills (docs/performance.md).
    #[inline]
    pub(super) fn push(&mut self, slot: Slot) {
        debug_assert_eq!(slot & GHOST, 0);
        self.slots[slot as usize] = [self.top, NIL];
        self.set_top(slot);
    }

    /// Moves the resident `slot`, in S, to the top of S.
    #[inline]
    pub(super) fn move_to_top(&mut self, slot: Slot) {
        if self.top != slot {
            self.remove(slot);
            self.push(slot);
        }
    }

    /// Moves the ghost `g`, in S, to the top of S.
    #[inline]
    pub(super) fn move_ghost_to_top(&mut self, g: u32) {
        let id = g | GHOST;
        if self.top != id {
            self.remove(id);
            self.ghosts[g as usize].link = [self.top, NIL];
            self.set_top(id);
        }
    }

    /// Replaces the resident `slot` in S by the ghost `g`, not in S, at the same place.
    #[inline(always)]
    pub(super) fn replace_slot(&mut self, slot: Slot, g: u32) {
        let link = self.slots[slot as usize];
        self.ghosts[g as usize].link = link;
        self.relink(link, g | GHOST, g | GHOST);
    }

    /// Replaces the ghost `g` in S by the resident `slot`, not in S, at the same place.
    #[inline(always)]
    pub(super) fn replace_ghost(&mut self, g: u32, slot: Slot) {
        let link = self.ghosts[g as usize].link;
        self.slots[slot as usize] = link;
        self.relink(link, slot, slot);
    }

    /// The ids of S, bottom first, for tests.
    #[cfg(test)]
    pub(super) fn ids(&self) -> Vec<u32> {
        let mut out = Vec::new();
        let mut id = self.bottom;
        while id != NIL {
            out.push(id);
            id = self.link(id)[NEXT];
        }
        out
    }
}
