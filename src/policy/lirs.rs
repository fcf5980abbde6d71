//! LIRS: low inter-reference recency set. Entries whose last two accesses were close
//! (LIR) are protected; the rest (HIR) pass through a small queue. The recency stack S also
//! remembers non-resident HIR keys, so a key that returns soon enough becomes LIR.
//!
//! Jiang and Zhang, "LIRS: an efficient low inter-reference recency set replacement policy
//! to improve buffer cache performance", SIGMETRICS 2002. HIR entries get 1% of the cache
//! (at least one unit), as in the paper's experiments and libCacheSim's `LIRS`.
//!
//! Layout, and why. State is kept for resident entries, by slot, and for the
//! non-resident HIR keys in S (the *ghosts*), in an arena found through a small key
//! index: memory follows the cache and its stack, not the key space. S links both kinds through one id space (a slot, or a ghost number with the top bit
//! set: `lirs/stack.rs`, which both variants use); an entry that leaves the cache while
//! in S is replaced in S by a ghost at the same position, so the stack's order, and
//! every result, is that of the paper's algorithm. Cost: 25 bytes per resident entry
//! (S and Q links, key, size, flags) and 20 per ghost (S links, key, hash chain, and a
//! 4-byte bucket: see `ghost::Chains`).
//!
//! S is not bounded here beyond the paper's pruning, so the ghosts in it are as many as
//! the trace makes them: several per cached object for a small cache, above issue 4's
//! 48 bytes per cached object (figures in `docs/performance.md`, "policy"). Bounding the
//! ghosts changes results: the authors' `lirs.c` has an optional limit on S (`MAX_S_LEN`, off by
//! default), and libCacheSim's `LIRS.c` (`limitStack`) drops the oldest non-resident
//! keys while S holds more than twice the cache. The default keeps the exact algorithm.
//!
//! Variants (`LirsConfig::variant`). `paper` (the default) is the above. `libcachesim`
//! (`lirs/libcachesim.rs`) is libCacheSim's `LIRS.c` to the miss, as its Python wheel
//! (0.3.5) runs it: for comparisons with figures from that simulator, and within issue
//! 4's 48 bytes per cached object. Its bounded S is not the only
//! difference: hits can evict, an entry can stay cached while taking no room, and in
//! bytes keys larger than 1% of the cache are never admitted (57% of cloudPhysics'
//! requests at 1 MiB), so a cache running it holds what libCacheSim's would, not at most
//! its capacity. `paper` stays the default: it keeps the cache's contract (evictions
//! only to fill, never over capacity), and its results are the published algorithm's.
//!
//! It sees slots and accesses only, as every policy does (see [`crate::policy`]): not the
//! cache that owns the slots, nor layers, requests or the engine.

use crate::mem::prefetch::prefetch;
use serde::{Deserialize, Serialize};

use super::ghost::Chains;
use super::list::{Links, List, NIL};
use super::{Access, BuildPolicy, Capacity, Policy, PrefetchHints, Slot, vec_bytes};

mod libcachesim;
mod stack;

use libcachesim::LibCacheSim;
use stack::{GHOST, Ghost, Stack};

/// LIRS parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LirsConfig {
    /// Share of the capacity for resident HIR entries (default 0.01).
    pub hir_ratio: f64,
    /// Which LIRS: the paper's algorithm (default) or libCacheSim's.
    pub variant: LirsVariant,
}

impl Default for LirsConfig {
    fn default() -> Self {
        LirsConfig {
            hir_ratio: 0.01,
            variant: LirsVariant::Paper,
        }
    }
}

/// Which LIRS algorithm runs (`variant = "paper"` or `"libcachesim"`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LirsVariant {
    /// Jiang and Zhang's algorithm, exactly: S keeps every non-resident key until a
    /// prune reaches it, so its memory follows the trace (see the module docs).
    #[default]
    Paper,
    /// libCacheSim's `LIRS.c`, to the miss: S bounded to twice the cache, a hit on an
    /// HIR entry in Q alone demotes LIR entries, and room is made in its own way
    /// (`lirs/libcachesim.rs` lists the differences). At most about 48 bytes per cached
    /// object.
    LibCacheSim,
}

/// A resident entry's flags: its status, and whether it is in S.
const LIR: u8 = 1;
const IN_STACK: u8 = 2;

/// LIRS, in the variant its configuration names.
#[derive(Debug)]
pub struct Lirs(Variant);

#[derive(Debug)]
enum Variant {
    Paper(Paper),
    LibCacheSim(LibCacheSim),
}

/// The paper's LIRS over slot-indexed resident state and an arena of ghosts.
#[derive(Debug)]
struct Paper {
    /// Recency stack S over slots and ghosts (non-resident HIR keys), which need
    /// nothing besides their S links, key and hash chain.
    stack: Stack<()>,
    /// Resident HIR queue Q over slots: front is the next victim.
    queue_links: Links,
    queue: List,
    flags: Vec<u8>,
    size: Vec<u32>,
    key: Vec<u32>,
    /// Ghost keys to ghost numbers.
    index: Chains,
    lir_units: u64,
    lir_cap: u64,
}

impl BuildPolicy for Lirs {
    type Config = LirsConfig;
    fn build(config: &LirsConfig, capacity: Capacity, _seed: u64) -> Self {
        Lirs(match config.variant {
            LirsVariant::Paper => Variant::Paper(Paper::new(config.hir_ratio, capacity)),
            LirsVariant::LibCacheSim => {
                Variant::LibCacheSim(LibCacheSim::new(config.hir_ratio, capacity))
            }
        })
    }
    fn check(config: &LirsConfig) -> Result<(), String> {
        super::check_share("hir_ratio", config.hir_ratio)
    }
}

impl PrefetchHints for Lirs {
    #[inline]
    fn prefetch(&self, slot: Slot) {
        match &self.0 {
            Variant::Paper(p) => p.prefetch(slot),
            Variant::LibCacheSim(p) => p.prefetch(slot),
        }
    }
}

impl Policy for Lirs {
    #[inline]
    fn insert(&mut self, slot: Slot, access: &Access) {
        match &mut self.0 {
            Variant::Paper(p) => p.insert(slot, access),
            Variant::LibCacheSim(p) => p.insert(slot, access),
        }
    }

    #[inline]
    fn touch(&mut self, slot: Slot, access: &Access) {
        match &mut self.0 {
            Variant::Paper(p) => p.touch(slot, access),
            Variant::LibCacheSim(p) => p.touch(slot),
        }
    }

    #[inline]
    fn evict(&mut self, incoming: &Access) -> Slot {
        match &mut self.0 {
            Variant::Paper(p) => p.evict(incoming),
            Variant::LibCacheSim(_) => {
                unreachable!("LIRS's libcachesim variant makes room itself (makes_room)")
            }
        }
    }

    #[inline]
    fn remove(&mut self, slot: Slot) {
        match &mut self.0 {
            Variant::Paper(p) => p.remove(slot),
            Variant::LibCacheSim(p) => p.remove(slot),
        }
    }

    fn heap_bytes(&self) -> Option<usize> {
        match &self.0 {
            Variant::Paper(p) => p.heap_bytes(),
            Variant::LibCacheSim(p) => Some(p.heap_bytes()),
        }
    }

    #[inline]
    fn makes_room(&self) -> bool {
        matches!(self.0, Variant::LibCacheSim(_))
    }

    #[inline]
    fn make_room(&mut self, incoming: &Access) -> bool {
        match &mut self.0 {
            Variant::Paper(_) => unreachable!("the paper's LIRS does not make room"),
            Variant::LibCacheSim(p) => p.make_room(incoming),
        }
    }

    #[inline]
    fn take_evicted(&mut self) -> Option<Slot> {
        match &mut self.0 {
            Variant::Paper(_) => None,
            Variant::LibCacheSim(p) => p.take_evicted(),
        }
    }
}

impl Paper {
    fn new(hir_ratio: f64, capacity: Capacity) -> Self {
        let hir = ((capacity.units as f64 * hir_ratio.clamp(0.0, 1.0)) as u64).max(1);
        let n = capacity.slots_hint;
        Paper {
            // The ghosts are as many as the trace makes them; start at a cache's worth.
            stack: Stack::new(n, n),
            queue_links: Links::with_capacity(n),
            queue: List::default(),
            flags: Vec::with_capacity(n),
            size: Vec::with_capacity(n),
            key: Vec::with_capacity(n),
            index: Chains::with_capacity(n),
            lir_units: 0,
            lir_cap: capacity.units.saturating_sub(hir),
        }
    }
}

impl Paper {
    /// The resident `slot`, in S, leaves the cache: a ghost takes its place in S.
    fn become_ghost(&mut self, slot: Slot) {
        let key = self.key[slot as usize];
        let ghost = Ghost {
            link: [NIL; 2],
            key,
            chain: NIL,
            extra: (),
        };
        let (g, _) = self.stack.new_ghost(ghost);
        self.stack.replace_slot(slot, g);
        self.index.insert(g, &mut self.stack.ghosts);
    }

    /// Forgets the ghost `g`, already out of S.
    fn free_ghost(&mut self, g: u32) {
        self.index.remove(g, &mut self.stack.ghosts);
        self.stack.free_ghost(g);
    }

    /// Removes HIR entries and ghosts from the bottom of S until a LIR entry is there.
    fn prune(&mut self) {
        loop {
            let id = self.stack.bottom();
            if id == NIL {
                return;
            }
            if id & GHOST == 0 {
                let f = &mut self.flags[id as usize];
                if *f & LIR != 0 {
                    return;
                }
                *f &= !IN_STACK;
                self.stack.remove(id);
            } else {
                self.stack.remove(id);
                self.free_ghost(id & !GHOST);
            }
        }
    }

    /// While the LIR set is over its size, turns the bottom LIR entry of S (never `keep`)
    /// into a resident HIR entry at the end of Q.
    fn shrink_lir(&mut self, keep: Slot) {
        while self.lir_units > self.lir_cap {
            // The bottom must be a LIR entry before it can be demoted.
            self.prune();
            let s = self.stack.bottom();
            if s == NIL || s == keep {
                return;
            }
            let i = s as usize;
            self.stack.remove(s);
            self.flags[i] = 0;
            self.lir_units -= self.size[i] as u64;
            self.queue.push_back(&mut self.queue_links, s);
            self.prune();
        }
    }

    fn make_lir(&mut self, slot: Slot) {
        let i = slot as usize;
        self.flags[i] = LIR | IN_STACK;
        self.lir_units += self.size[i] as u64;
        self.shrink_lir(slot);
    }

    fn forget_lir(&mut self, slot: Slot) {
        self.stack.remove(slot);
        self.flags[slot as usize] = 0;
        self.lir_units -= self.size[slot as usize] as u64;
        self.prune();
    }

    /// The keys of S (bottom first) and Q (front first), for white-box tests.
    #[cfg(test)]
    fn dump(&self) -> (Vec<u32>, Vec<u32>) {
        let key = |id: u32| {
            if id & GHOST == 0 {
                self.key[id as usize]
            } else {
                self.stack.ghosts[(id & !GHOST) as usize].key
            }
        };
        let s = self.stack.ids().into_iter().map(key).collect();
        let q = self.queue.slots(&self.queue_links);
        (s, q.into_iter().map(key).collect())
    }

    /// What the model calls a key's status, for white-box tests.
    #[cfg(test)]
    fn status(&self, key: u32) -> &'static str {
        if self.index.find(key, &self.stack.ghosts) != NIL {
            return "ghost";
        }
        for id in self.stack.ids() {
            if id & GHOST == 0 && self.key[id as usize] == key {
                return if self.flags[id as usize] & LIR != 0 {
                    "lir"
                } else {
                    "hir"
                };
            }
        }
        let mut s = self.queue.front();
        while s != NIL {
            if self.key[s as usize] == key {
                return "hir";
            }
            s = self.queue_links.next(s);
        }
        "unknown"
    }
}

impl PrefetchHints for Paper {
    #[inline]
    fn prefetch(&self, slot: Slot) {
        prefetch(&self.flags, slot as usize);
        prefetch(&self.stack.slots, slot as usize);
    }
}

impl Policy for Paper {
    fn heap_bytes(&self) -> Option<usize> {
        Some(
            vec_bytes(&self.stack.slots)
                + self.queue_links.heap_bytes()
                + vec_bytes(&self.flags)
                + vec_bytes(&self.size)
                + vec_bytes(&self.key)
                + vec_bytes(&self.stack.ghosts)
                + self.index.heap_bytes(),
        )
    }

    fn insert(&mut self, slot: Slot, access: &Access) {
        let key = access.key;
        let s = slot as usize;
        if s >= self.flags.len() {
            self.flags.resize(s + 1, 0);
            self.size.resize(s + 1, 0);
            self.key.resize(s + 1, 0);
            self.stack.ensure(slot);
            self.queue_links.ensure(slot);
        }
        self.key[s] = key;
        self.size[s] = access.size;
        let g = self.index.find(key, &self.stack.ghosts);
        if g != NIL {
            // A ghost in S returns: it becomes LIR, on the top of S.
            let id = g | GHOST;
            self.stack.remove(id);
            self.free_ghost(g);
            self.stack.push(slot);
            self.make_lir(slot);
        } else if self.lir_units + access.size as u64 <= self.lir_cap {
            // Warm-up: the LIR set is not full yet.
            self.flags[s] = LIR | IN_STACK;
            self.lir_units += access.size as u64;
            self.stack.push(slot);
        } else {
            self.flags[s] = IN_STACK;
            self.stack.push(slot);
            self.queue.push_back(&mut self.queue_links, slot);
        }
    }

    fn touch(&mut self, slot: Slot, _: &Access) {
        let f = self.flags[slot as usize];
        if f & LIR != 0 {
            self.stack.move_to_top(slot);
            self.prune();
        } else if f & IN_STACK != 0 {
            self.stack.move_to_top(slot);
            self.queue.remove(&mut self.queue_links, slot);
            self.make_lir(slot);
        } else {
            self.stack.push(slot);
            self.flags[slot as usize] = IN_STACK;
            self.queue.move_to_back(&mut self.queue_links, slot);
        }
    }

    fn evict(&mut self, _: &Access) -> Slot {
        if let Some(s) = self.queue.pop_front(&mut self.queue_links) {
            if self.flags[s as usize] & IN_STACK != 0 {
                self.become_ghost(s);
            }
            self.flags[s as usize] = 0;
            return s;
        }
        // Q is empty only after removals, or with sizes: an object too large for the LIR
        // set's room enters as HIR, at the bottom of S if S was empty, and may be a ghost
        // there now. Pruning leaves a LIR entry at the bottom; evict it.
        self.prune();
        let s = self.stack.bottom();
        assert!(s != NIL, "evict called on an empty cache");
        self.forget_lir(s);
        s
    }

    fn remove(&mut self, slot: Slot) {
        let f = self.flags[slot as usize];
        if f & LIR != 0 {
            self.forget_lir(slot);
        } else {
            self.queue.remove(&mut self.queue_links, slot);
            if f & IN_STACK != 0 {
                self.become_ghost(slot);
            }
            self.flags[slot as usize] = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With sizes, an object too large for the LIR set's room enters S as HIR; evicted,
    /// it leaves a ghost at the bottom of S, under a LIR entry: the next eviction with Q
    /// empty must skip the ghost (it once read the ghost as a slot and panicked).
    #[test]
    fn eviction_with_q_empty_skips_a_ghost_at_the_bottom() {
        // 100 bytes: LIR 99, HIR 1.
        let capacity = Capacity {
            units: 100,
            slots_hint: 4,
        };
        let mut p = Paper::new(0.01, capacity);
        p.insert(0, &Access::sized(10, 100)); // HIR: 100 > 99; alone in S and Q
        assert_eq!(p.evict(&Access::sized(11, 10)), 0); // a ghost of key 10 at the bottom of S
        p.insert(0, &Access::sized(11, 10)); // LIR, above the ghost
        assert_eq!(p.dump(), (vec![10, 11], vec![]));
        assert_eq!(p.evict(&Access::sized(12, 95)), 0);
        assert_eq!(p.dump(), (vec![], vec![]));
    }

    #[test]
    fn hir_reuse_within_the_stack_becomes_lir() {
        // Capacity 3: LIR 2, HIR 1. Slot s holds key 10 + s.
        let mut p = Paper::new(0.01, Capacity::entries(3));
        p.insert(0, &Access::key(10));
        p.insert(1, &Access::key(11));
        p.insert(2, &Access::key(12)); // HIR resident
        assert_eq!(p.dump(), (vec![10, 11, 12], vec![12]));
        // 13 misses: Q's front (12) is evicted but stays in S as a ghost.
        assert_eq!(p.evict(&Access::key(13)), 2);
        p.insert(2, &Access::key(13));
        assert_eq!(p.dump(), (vec![10, 11, 12, 13], vec![13]));
        assert_eq!(p.status(12), "ghost");
        // 12 returns while in S: it becomes LIR, and the bottom LIR (10) becomes HIR.
        assert_eq!(p.evict(&Access::key(12)), 2);
        p.insert(2, &Access::key(12));
        // 10 left S; its bottom is now the LIR key 11, so the ghost 13 above it stays.
        assert_eq!(p.dump(), (vec![11, 13, 12], vec![10]));
        assert_eq!(p.status(10), "hir");
        assert_eq!(p.status(13), "ghost");
        // A hit on the bottom LIR key moves it up and prunes the ghost 13.
        p.touch(1, &Access::key(11));
        assert_eq!(p.dump(), (vec![12, 11], vec![10]));
        assert_eq!(p.status(13), "unknown");
    }
}
