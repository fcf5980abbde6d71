//! LIRS as libCacheSim's `LIRS.c` runs it (`variant = "libcachesim"`), to the request:
//! its miss counts are those of the `libcachesim` wheel, in entries and in bytes.
//!
//! It departs from the paper (the parent module) in ways that change results:
//! - S holds at most twice the cache (by the sizes of its entries, ghosts included):
//!   after every request, non-resident keys leave S oldest first, in the order they
//!   became non-resident (libCacheSim's `LRU_nh` list, here a list through the ghosts);
//! - a hit on a resident HIR entry that is only in Q (`hit_RD_HIRinQ`) demotes LIR
//!   entries until the hit one would fit in the LIR set, though it stays HIR: a hit can
//!   evict. If the demotions push the hit entry itself out of Q it stays cached, in S
//!   only, and takes no room (we call it *stray*); a later hit makes it LIR and counts
//!   it again, a prune that reaches it forgets it (an eviction);
//! - room is made in units: a new key larger than the HIR share is never admitted (so in
//!   bytes most large objects are not); HIR entries are evicted while a new key fits in
//!   neither share; a returning ghost first demotes LIR entries until it fits in the LIR
//!   set; a demoted LIR entry larger than the HIR share is evicted, not queued;
//! - a hit on a Q entry moves it to Q's end (Q is an LRU list).
//!
//! So the cache's occupancy is the policy's to keep (`Policy::makes_room`): the cache
//! asks it to make room for a miss and releases what it evicts on a hit.
//!
//! Layout, and why: issue 4's 48 bytes per cached object. S is bounded to about twice
//! the cache, so there is about one ghost per cached object. A ghost is 24 bytes (S links,
//! non-resident-order links, key, hash chain) and a 4-byte bucket; a resident entry is
//! 17 (S links, key, flags, and the number of its Q node: Q holds 1% of the cache, so its
//! links live in a small arena of their own rather than in two words per slot). Sizes
//! are stored only once a size other than 1 is seen (a cache in bytes): 4 bytes more
//! per entry and per ghost.
//!
//! Like the parent, it sees slots and accesses only, not the cache, layers or engine.

use crate::policy::ghost::Chains;
use crate::policy::list::{Links, List, NIL};
use crate::policy::{Access, Capacity, Slot, vec_bytes};

use super::stack::{GHOST, Ghost, NEXT, PREV, Stack};

/// A resident entry's flags. `LIR` entries are in S; an HIR entry is in S, in Q or in
/// both; one in S alone is stray (see the module docs).
const LIR: u8 = 1;
const IN_S: u8 = 2;
const IN_Q: u8 = 4;

/// libCacheSim's LIRS over slot-indexed resident state, a Q arena and ghosts.
#[derive(Debug)]
pub(super) struct LibCacheSim {
    /// Recency stack S over slots and ghosts (non-resident keys): bottom is the LRU end.
    /// A ghost's `extra` is its links in the order of becoming non-resident (towards
    /// the older and the newer end).
    stack: Stack<[u32; 2]>,
    key: Vec<u32>,
    flags: Vec<u8>,
    /// A slot's Q node, while it is in Q.
    qnode: Vec<u32>,
    /// Q over Q nodes: front is the next HIR victim.
    qlinks: Links,
    queue: List,
    /// A Q node's slot; free nodes chain through it from `free_q`.
    qslot: Vec<u32>,
    free_q: u32,
    /// Ghost keys to ghost numbers.
    index: Chains,
    /// The oldest and the newest ghost in the order they became non-resident.
    nh_old: u32,
    nh_new: u32,
    /// Sizes of slots and of ghosts; both empty while every size seen was 1.
    size: Vec<u32>,
    ghost_size: Vec<u32>,
    sized: bool,
    /// Units of the LIR set, of Q, of the entries counted as cached (not the strays),
    /// and of S (ghosts included).
    lir_units: u64,
    hir_units: u64,
    used: u64,
    stack_units: u64,
    lir_cap: u64,
    hir_cap: u64,
    cap: u64,
    /// The ghost found by the last `make_room`, which `insert` turns into its slot.
    pending: u32,
    /// The slot of a hit on an entry in Q alone, which must not be evicted if the
    /// demotions it causes push it out of Q.
    touching: Slot,
    /// Evictions not yet handed to the cache.
    evicted: Vec<Slot>,
}

impl LibCacheSim {
    pub(super) fn new(hir_ratio: f64, capacity: Capacity) -> Self {
        // As `LIRS_init`: the HIR share is at least one unit.
        let hir = ((capacity.units as f64 * hir_ratio.clamp(0.0, 1.0)) as u64).max(1);
        let n = capacity.slots_hint;
        // S holds at most twice the cache, all LIR entries (the cache less Q) among them:
        // the ghosts are at most a cache and a Q, and a few while a request runs.
        let ghosts = n + n / 100 + 4;
        LibCacheSim {
            stack: Stack::new(n, ghosts),
            key: Vec::with_capacity(n),
            flags: Vec::with_capacity(n),
            qnode: Vec::with_capacity(n),
            qlinks: Links::default(),
            queue: List::default(),
            qslot: Vec::new(),
            free_q: NIL,
            index: Chains::with_capacity(ghosts),
            nh_old: NIL,
            nh_new: NIL,
            size: Vec::new(),
            ghost_size: Vec::new(),
            sized: false,
            lir_units: 0,
            hir_units: 0,
            used: 0,
            stack_units: 0,
            lir_cap: capacity.units.saturating_sub(hir),
            hir_cap: hir,
            cap: capacity.units,
            pending: NIL,
            touching: NIL,
            evicted: Vec::new(),
        }
    }

    // ---- sizes ----

    #[inline(always)]
    fn size(&self, slot: Slot) -> u64 {
        if self.sized {
            self.size[slot as usize] as u64
        } else {
            1
        }
    }

    #[inline(always)]
    fn ghost_size(&self, g: u32) -> u64 {
        if self.sized {
            self.ghost_size[g as usize] as u64
        } else {
            1
        }
    }

    /// The size of an S id.
    #[inline]
    fn id_size(&self, id: u32) -> u64 {
        if id & GHOST == 0 {
            self.size(id)
        } else {
            self.ghost_size(id & !GHOST)
        }
    }

    /// Starts keeping sizes: every entry and ghost so far had size 1.
    #[cold]
    fn keep_sizes(&mut self) {
        self.sized = true;
        self.size = vec![1; self.flags.len()];
        self.ghost_size = vec![1; self.stack.ghosts.len()];
    }

    // ---- Q ----

    fn q_push_back(&mut self, slot: Slot) {
        let q = if self.free_q != NIL {
            let q = self.free_q;
            self.free_q = self.qslot[q as usize];
            self.qslot[q as usize] = slot;
            q
        } else {
            self.qslot.push(slot);
            let q = (self.qslot.len() - 1) as u32;
            self.qlinks.ensure(q);
            q
        };
        self.qnode[slot as usize] = q;
        self.queue.push_back(&mut self.qlinks, q);
    }

    fn q_remove(&mut self, slot: Slot) {
        let q = self.qnode[slot as usize];
        self.queue.remove(&mut self.qlinks, q);
        self.qslot[q as usize] = self.free_q;
        self.free_q = q;
    }

    // ---- ghosts ----

    /// The resident `slot`, in S, leaves the cache: a ghost takes its place in S and
    /// becomes the newest non-resident key.
    fn become_ghost(&mut self, slot: Slot) {
        let ghost = Ghost {
            link: [NIL; 2],
            key: self.key[slot as usize],
            chain: NIL,
            extra: [self.nh_new, NIL],
        };
        let (g, fresh) = self.stack.new_ghost(ghost);
        if fresh && self.sized {
            self.ghost_size.push(0);
        }
        if self.sized {
            self.ghost_size[g as usize] = self.size[slot as usize];
        }
        self.stack.replace_slot(slot, g);
        if self.nh_new == NIL {
            self.nh_old = g;
        } else {
            self.stack.ghosts[self.nh_new as usize].extra[NEXT] = g;
        }
        self.nh_new = g;
        self.index.insert(g, &mut self.stack.ghosts);
    }

    /// Takes the ghost `g` out of the non-resident order.
    fn nh_remove(&mut self, g: u32) {
        let ghosts = &mut self.stack.ghosts;
        let [p, n] = ghosts[g as usize].extra;
        if p == NIL {
            self.nh_old = n;
        } else {
            ghosts[p as usize].extra[NEXT] = n;
        }
        if n == NIL {
            self.nh_new = p;
        } else {
            ghosts[n as usize].extra[PREV] = p;
        }
    }

    /// Forgets the ghost `g`, out of S and of the non-resident order.
    fn free_ghost(&mut self, g: u32) {
        self.index.remove(g, &mut self.stack.ghosts);
        self.stack.free_ghost(g);
    }

    /// The ghost `g` leaves S and the non-resident order.
    fn drop_ghost(&mut self, g: u32) {
        self.stack.remove(g | GHOST);
        self.stack_units -= self.ghost_size(g);
        self.nh_remove(g);
        self.free_ghost(g);
    }

    // ---- libCacheSim's steps ----

    /// `LIRS_prune`: removes HIR entries and ghosts from the bottom of S until a LIR
    /// entry is there, never the top one.
    fn prune(&mut self) {
        while self.stack.bottom() != self.stack.top() {
            let id = self.stack.bottom();
            if id & GHOST != 0 {
                self.drop_ghost(id & !GHOST);
                continue;
            }
            let f = self.flags[id as usize];
            if f & LIR != 0 {
                return;
            }
            self.stack.remove(id);
            self.stack_units -= self.size(id);
            if f & IN_Q != 0 {
                self.flags[id as usize] = f & !IN_S;
            } else {
                // A stray entry in neither S nor Q is forgotten: evicted.
                self.flags[id as usize] = 0;
                self.evicted.push(id);
            }
        }
    }

    /// `evictHIR`: evicts Q's front; one still in S leaves a ghost there. Returns
    /// whether Q had an entry.
    fn evict_hir(&mut self) -> bool {
        let Some(q) = self.queue.pop_front(&mut self.qlinks) else {
            return false;
        };
        let slot = self.qslot[q as usize];
        self.qslot[q as usize] = self.free_q;
        self.free_q = q;
        let size = self.size(slot);
        self.hir_units -= size;
        self.used -= size;
        let f = self.flags[slot as usize] & !IN_Q;
        if f & IN_S != 0 {
            self.become_ghost(slot);
            self.flags[slot as usize] = 0;
            self.evicted.push(slot);
        } else if slot == self.touching {
            // The entry being hit stays cached, stray, when it is pushed on S.
            self.flags[slot as usize] = f;
        } else {
            self.flags[slot as usize] = 0;
            self.evicted.push(slot);
        }
        true
    }

    /// `evictLIR`: the bottom of S leaves it for the end of Q (evicting from Q's front
    /// what it needs), or the cache if it is larger than Q; then S is pruned.
    fn evict_lir(&mut self) {
        let b = self.stack.bottom();
        if b == NIL {
            return;
        }
        let size = self.id_size(b);
        // libCacheSim subtracts whatever is at the bottom (a LIR entry after a prune).
        self.lir_units = self.lir_units.saturating_sub(size);
        if b & GHOST != 0 {
            // Only with a bottom pruning cannot clear (S of one entry): libCacheSim
            // would queue the non-resident key as resident, which no cache can follow.
            self.drop_ghost(b & !GHOST);
            self.prune();
            return;
        }
        self.stack.remove(b);
        self.stack_units -= size;
        let f = self.flags[b as usize];
        if f & IN_Q != 0 {
            // An HIR entry at the bottom (never after a prune): it stays in Q.
            self.flags[b as usize] = IN_Q;
        } else {
            // A stray entry was not counted; libCacheSim subtracts it all the same.
            self.used = self.used.saturating_sub(size);
            if size <= self.hir_cap {
                while self.hir_units + size > self.hir_cap && self.evict_hir() {}
                self.q_push_back(b);
                self.flags[b as usize] = IN_Q;
                self.hir_units += size;
                self.used += size;
            } else {
                self.flags[b as usize] = 0;
                self.evicted.push(b);
            }
        }
        self.prune();
    }

    /// `limitStack`: while S holds more than twice the cache, the oldest non-resident
    /// keys leave it.
    fn limit_stack(&mut self) {
        while self.stack_units > 2 * self.cap && self.nh_old != NIL {
            self.drop_ghost(self.nh_old);
        }
    }

    /// Makes sure the per-slot arrays hold `slot`.
    #[inline]
    fn ensure(&mut self, slot: Slot) {
        let s = slot as usize;
        if s >= self.flags.len() {
            self.flags.resize(s + 1, 0);
            self.key.resize(s + 1, 0);
            self.qnode.resize(s + 1, NIL);
            self.stack.ensure(slot);
            if self.sized {
                self.size.resize(s + 1, 1);
            }
        }
    }

    // ---- the policy ----

    pub(super) fn make_room(&mut self, incoming: &Access) -> bool {
        let size = incoming.size as u64;
        let g = self.index.find(incoming.key, &self.stack.ghosts);
        self.pending = g;
        if g != NIL {
            // A returning ghost. libCacheSim's lookup moved it to the top of S; its
            // `LIRS_can_insert` makes room in the LIR set, by the ghost's size, ...
            self.stack.move_ghost_to_top(g);
            let gsize = self.ghost_size(g);
            while self.lir_units + gsize > self.lir_cap && self.stack.bottom() != (g | GHOST) {
                self.evict_lir();
            }
            self.nh_remove(g);
            // ... and `LIRS_evict` in the cache's loop, by the request's size.
            while self.used + size > self.cap && self.stack.bottom() != (g | GHOST) {
                while self.hir_units >= self.hir_cap && self.evict_hir() {}
                self.evict_lir();
            }
            return true;
        }
        if size > self.lir_cap || size > self.hir_cap {
            return false;
        }
        if self.lir_units + size > self.lir_cap {
            while self.hir_units + size > self.hir_cap && self.evict_hir() {}
        }
        // libCacheSim's loop evicts while neither share has room (and spins otherwise,
        // which its own accounts never let happen).
        while self.used + size > self.cap
            && self.lir_units + size > self.lir_cap
            && self.hir_units + size > self.hir_cap
            && self.evict_hir()
        {}
        true
    }

    pub(super) fn insert(&mut self, slot: Slot, access: &Access) {
        if access.size != 1 && !self.sized {
            self.keep_sizes();
        }
        self.ensure(slot);
        let s = slot as usize;
        self.key[s] = access.key;
        let g = std::mem::replace(&mut self.pending, NIL);
        debug_assert!(g == NIL || self.stack.ghosts[g as usize].key == access.key);
        if g != NIL {
            // The ghost becomes LIR where it is (the top), keeping the size it had.
            let size = self.ghost_size(g);
            if self.sized {
                self.size[s] = size as u32;
            }
            self.stack.replace_ghost(g, slot);
            self.free_ghost(g);
            self.flags[s] = LIR | IN_S;
            self.lir_units += size;
            self.used += size;
        } else {
            let size = access.size as u64;
            if self.sized {
                self.size[s] = access.size;
            }
            self.stack.push(slot);
            if self.lir_units + size <= self.lir_cap {
                self.flags[s] = LIR | IN_S;
                self.lir_units += size;
            } else {
                self.flags[s] = IN_S;
                self.q_push_back(slot);
                self.flags[s] |= IN_Q;
                self.hir_units += size;
            }
            self.stack_units += size;
            self.used += size;
        }
        self.limit_stack();
    }

    pub(super) fn touch(&mut self, slot: Slot) {
        let f = self.flags[slot as usize];
        let size = self.size(slot);
        if f & IN_S != 0 {
            self.stack.move_to_top(slot);
            if f & LIR != 0 {
                self.prune();
            } else {
                // `hit_RD_HIRinS`: out of Q (a stray entry was not in it), then LIR.
                if f & IN_Q != 0 {
                    self.q_remove(slot);
                    self.hir_units -= size;
                    self.used -= size;
                    self.flags[slot as usize] = IN_S;
                }
                while self.lir_units + size > self.lir_cap && self.stack.bottom() != slot {
                    self.evict_lir();
                }
                self.flags[slot as usize] = LIR | IN_S;
                self.lir_units += size;
                self.used += size;
            }
        } else {
            // `hit_RD_HIRinQ`: to Q's end, LIR entries demoted as if it were to become
            // LIR, and onto S as HIR.
            let q = self.qnode[slot as usize];
            self.queue.move_to_back(&mut self.qlinks, q);
            self.touching = slot;
            while self.lir_units + size > self.lir_cap && self.stack.bottom() != NIL {
                self.evict_lir();
            }
            self.touching = NIL;
            self.stack.push(slot);
            self.stack_units += size;
            self.flags[slot as usize] |= IN_S;
        }
        self.limit_stack();
    }

    pub(super) fn remove(&mut self, slot: Slot) {
        let s = slot as usize;
        let f = self.flags[s];
        let size = self.size(slot);
        self.flags[s] = 0;
        if f & IN_Q != 0 {
            self.q_remove(slot);
            self.hir_units -= size;
            self.used -= size;
        }
        if f & IN_S != 0 {
            self.stack.remove(slot);
            self.stack_units -= size;
            if f & LIR != 0 {
                self.lir_units -= size;
                self.used -= size;
                self.prune();
            }
        }
    }

    pub(super) fn take_evicted(&mut self) -> Option<Slot> {
        self.evicted.pop()
    }

    pub(super) fn prefetch(&self, slot: Slot) {
        crate::mem::prefetch::prefetch(&self.flags, slot as usize);
        crate::mem::prefetch::prefetch(&self.stack.slots, slot as usize);
    }

    pub(super) fn heap_bytes(&self) -> usize {
        vec_bytes(&self.stack.slots)
            + vec_bytes(&self.key)
            + vec_bytes(&self.flags)
            + vec_bytes(&self.qnode)
            + self.qlinks.heap_bytes()
            + vec_bytes(&self.qslot)
            + vec_bytes(&self.stack.ghosts)
            + self.index.heap_bytes()
            + vec_bytes(&self.size)
            + vec_bytes(&self.ghost_size)
            + vec_bytes(&self.evicted)
    }

    /// The keys of S (bottom first, ghosts as `!key`) and Q (front first), for tests.
    #[cfg(test)]
    pub(super) fn dump(&self) -> (Vec<i64>, Vec<u32>) {
        let s = (self.stack.ids().into_iter())
            .map(|id| {
                if id & GHOST == 0 {
                    self.key[id as usize] as i64
                } else {
                    -(self.stack.ghosts[(id & !GHOST) as usize].key as i64)
                }
            })
            .collect();
        let q = self.queue.slots(&self.qlinks);
        let q = q
            .into_iter()
            .map(|n| self.key[self.qslot[n as usize] as usize])
            .collect();
        (s, q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    /// A cache around the policy, as `replay` drives one that makes room.
    struct Mini {
        p: LibCacheSim,
        slot_of: HashMap<u32, Slot>,
        key_of: Vec<u32>,
        free: Vec<Slot>,
    }

    impl Mini {
        fn new(units: u64) -> Self {
            Mini {
                p: LibCacheSim::new(
                    0.01,
                    Capacity {
                        units,
                        slots_hint: 4,
                    },
                ),
                slot_of: HashMap::new(),
                key_of: Vec::new(),
                free: Vec::new(),
            }
        }

        fn release_evicted(&mut self) -> Vec<u32> {
            let mut out = Vec::new();
            while let Some(s) = self.p.take_evicted() {
                let k = self.key_of[s as usize];
                assert_eq!(self.slot_of.remove(&k), Some(s));
                self.free.push(s);
                out.push(k);
            }
            out.sort_unstable();
            out
        }

        /// Whether `key` hit, and the keys evicted.
        fn get(&mut self, key: u32, size: u32) -> (bool, Vec<u32>) {
            let access = Access {
                size,
                ..Access::key(key)
            };
            if let Some(&s) = self.slot_of.get(&key) {
                self.p.touch(s);
                return (true, self.release_evicted());
            }
            let admitted = self.p.make_room(&access);
            let evicted = self.release_evicted();
            if admitted {
                let s = self.free.pop().unwrap_or_else(|| {
                    self.key_of.push(0);
                    (self.key_of.len() - 1) as Slot
                });
                self.key_of[s as usize] = key;
                self.slot_of.insert(key, s);
                self.p.insert(s, &access);
                assert!(self.p.take_evicted().is_none(), "an insert evicts nothing");
            }
            (false, evicted)
        }

        fn remove(&mut self, key: u32) {
            if let Some(s) = self.slot_of.remove(&key) {
                self.p.remove(s);
                self.free.push(s);
                self.release_evicted();
            }
        }

        /// The policy's accounts agree with its lists, and its residents with ours.
        fn check(&self) {
            let p = &self.p;
            let (mut lir, mut hir, mut stack, mut ghosts) = (0, 0, 0, 0);
            let mut id = p.stack.bottom();
            while id != NIL {
                stack += p.id_size(id);
                if id & GHOST != 0 {
                    ghosts += 1;
                    assert_eq!(
                        p.index
                            .find(p.stack.ghosts[(id & !GHOST) as usize].key, &p.stack.ghosts),
                        id & !GHOST
                    );
                } else {
                    assert!(p.flags[id as usize] & IN_S != 0);
                }
                id = p.stack.link(id)[NEXT];
            }
            let mut nh = 0;
            let mut g = p.nh_old;
            while g != NIL {
                nh += 1;
                g = p.stack.ghosts[g as usize].extra[NEXT];
            }
            assert_eq!(nh, ghosts, "every ghost in S is in the non-resident order");
            for (&k, &s) in &self.slot_of {
                let f = p.flags[s as usize];
                assert_ne!(f, 0, "resident {k} is known to the policy");
                assert_eq!(p.key[s as usize], k);
                if f & LIR != 0 {
                    assert_eq!(f & IN_Q, 0);
                    lir += p.size(s);
                }
                if f & IN_Q != 0 {
                    hir += p.size(s);
                    assert_eq!(p.qslot[p.qnode[s as usize] as usize], s);
                }
            }
            assert_eq!(
                p.queue.len() as usize,
                self.slot_of
                    .values()
                    .filter(|&&s| p.flags[s as usize] & IN_Q != 0)
                    .count()
            );
            assert_eq!((p.lir_units, p.hir_units, p.stack_units), (lir, hir, stack));
            assert_eq!(p.used, lir + hir, "stray entries take no room");
            assert!(p.used <= p.cap && stack <= 2 * p.cap);
        }
    }

    #[test]
    fn a_hit_in_q_alone_demotes_and_can_leave_its_entry_stray() {
        // Capacity 3: LIR 2, HIR 1. Hits and misses as the libcachesim wheel gives them
        // (`LIRS(3)`, each request `get` in turn); ghosts are negative in S.
        let mut c = Mini::new(3);
        for k in [1, 2, 3] {
            assert_eq!(c.get(k, 1), (false, vec![]));
        }
        assert_eq!(c.p.dump(), (vec![1, 2, 3], vec![3]));
        // Neither share has room: Q's front goes, a ghost in S.
        assert_eq!(c.get(4, 1), (false, vec![3]));
        assert_eq!(c.p.dump(), (vec![1, 2, -3, 4], vec![4]));
        assert_eq!(c.get(1, 1), (true, vec![]));
        // The prune takes the ghost and the HIR entry 4, which stays in Q alone.
        assert_eq!(c.get(2, 1), (true, vec![]));
        assert_eq!(c.p.dump(), (vec![1, 2], vec![4]));
        // A hit on 4: 1 is demoted to Q, whose front is 4 itself. 4 stays cached, stray.
        assert_eq!(c.get(4, 1), (true, vec![]));
        assert_eq!(c.p.dump(), (vec![2, 4], vec![1]));
        assert_eq!((c.p.lir_units, c.p.hir_units, c.p.used), (1, 1, 2));
        c.check();
        // So 5 finds room in the LIR set: four entries in a cache of three.
        assert_eq!(c.get(5, 1), (false, vec![]));
        assert_eq!(c.slot_of.len(), 4);
        // A hit makes the stray LIR: 2 is demoted, evicting 1 from Q.
        assert_eq!(c.get(4, 1), (true, vec![1]));
        assert_eq!(c.p.dump(), (vec![5, 4], vec![2]));
        assert_eq!(c.get(1, 1), (false, vec![2]));
        assert_eq!(c.get(3, 1), (false, vec![1]));
        assert_eq!(c.p.dump(), (vec![5, 4, -1, 3], vec![3]));
        c.check();
    }

    #[test]
    fn keys_larger_than_the_hir_share_are_not_admitted() {
        // 1000 units: HIR 10, LIR 990.
        let mut c = Mini::new(1000);
        assert_eq!(c.get(1, 11), (false, vec![]));
        assert!(c.slot_of.is_empty());
        assert_eq!(c.get(1, 10), (false, vec![]));
        assert_eq!(c.get(1, 10), (true, vec![]));
        assert!(c.p.sized);
        c.check();
    }

    #[test]
    fn accounts_hold_over_random_requests_and_removals() {
        for (units, sizes) in [(3, 1), (10, 1), (50, 1), (400, 12), (2000, 40)] {
            let mut c = Mini::new(units);
            let mut x = 0x2545_f491_4f6c_dd1du64;
            for _ in 0..20_000 {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                // Skewed keys: small ones often, with fixed sizes.
                let key = ((x % 97) * (x >> 40 & 3) + (x >> 20) % 7) as u32 % 120;
                let size = 1 + key % sizes;
                if x >> 60 == 0 {
                    c.remove(key);
                } else {
                    c.get(key, size);
                }
                c.check();
            }
        }
    }
}
