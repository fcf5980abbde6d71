//! LIRS: low inter-reference recency set. Entries whose last two accesses were close
//! (LIR) are protected; the rest (HIR) pass through a small queue. The recency stack S also
//! remembers non-resident HIR keys, so a key that returns soon enough becomes LIR.
//!
//! Jiang and Zhang, "LIRS: an efficient low inter-reference recency set replacement policy
//! to improve buffer cache performance", SIGMETRICS 2002. HIR entries get 1% of the cache
//! (at least one unit), as in the paper's experiments and libCacheSim's `LIRS`.
//!
//! S and Q hold keys, not slots, because a non-resident HIR key has no slot; the per-key
//! arrays cost 22 bytes per key ever seen and nothing per request.

use serde::{Deserialize, Serialize};

use super::list::{Links, List, NIL};
use super::{Access, BuildPolicy, Capacity, Policy, Slot};

/// LIRS parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LirsConfig {
    /// Share of the capacity for resident HIR entries (default 0.01).
    pub hir_ratio: f64,
}

impl Default for LirsConfig {
    fn default() -> Self {
        LirsConfig { hir_ratio: 0.01 }
    }
}

const UNKNOWN: u8 = 0;
const LIR: u8 = 1;
const HIR_RESIDENT: u8 = 2;
const HIR_GHOST: u8 = 3;

/// LIRS over key-indexed stack and queue links.
#[derive(Debug)]
pub struct Lirs {
    stack_links: Links,
    queue_links: Links,
    /// Recency stack S: front is the bottom.
    stack: List,
    /// Resident HIR queue Q: front is the next victim.
    queue: List,
    status: Vec<u8>,
    in_stack: Vec<bool>,
    size: Vec<u32>,
    slot_of: Vec<Slot>,
    key_of: Vec<u32>,
    lir_units: u64,
    lir_cap: u64,
}

impl BuildPolicy for Lirs {
    type Config = LirsConfig;
    fn build(config: &LirsConfig, capacity: Capacity, _seed: u64) -> Self {
        let hir = ((capacity.units as f64 * config.hir_ratio.clamp(0.0, 1.0)) as u64).max(1);
        Lirs {
            stack_links: Links::default(),
            queue_links: Links::default(),
            stack: List::default(),
            queue: List::default(),
            status: Vec::new(),
            in_stack: Vec::new(),
            size: Vec::new(),
            slot_of: Vec::new(),
            key_of: Vec::with_capacity(capacity.slots_hint),
            lir_units: 0,
            lir_cap: capacity.units.saturating_sub(hir),
        }
    }
}

impl Lirs {
    fn ensure_key(&mut self, key: u32) {
        let k = key as usize;
        if k >= self.status.len() {
            let n = (k + 1).max(self.status.len() * 2);
            self.status.resize(n, UNKNOWN);
            self.in_stack.resize(n, false);
            self.size.resize(n, 0);
            self.slot_of.resize(n, NIL);
        }
    }

    /// Removes HIR keys from the bottom of S until a LIR key is there.
    fn prune(&mut self) {
        loop {
            let k = self.stack.front();
            if k == NIL || self.status[k as usize] == LIR {
                return;
            }
            self.stack.remove(&mut self.stack_links, k);
            self.in_stack[k as usize] = false;
            if self.status[k as usize] == HIR_GHOST {
                self.status[k as usize] = UNKNOWN;
            }
        }
    }

    /// While the LIR set is over its size, turns the bottom LIR entry of S (never `keep`)
    /// into a resident HIR entry at the end of Q.
    fn shrink_lir(&mut self, keep: u32) {
        while self.lir_units > self.lir_cap {
            // The bottom must be a LIR entry before it can be demoted.
            self.prune();
            let k = self.stack.front();
            if k == NIL || k == keep {
                return;
            }
            let i = k as usize;
            self.stack.remove(&mut self.stack_links, k);
            self.in_stack[i] = false;
            self.status[i] = HIR_RESIDENT;
            self.lir_units -= self.size[i] as u64;
            self.queue.push_back(&mut self.queue_links, k);
            self.prune();
        }
    }

    fn make_lir(&mut self, key: u32) {
        let i = key as usize;
        self.status[i] = LIR;
        self.lir_units += self.size[i] as u64;
        self.shrink_lir(key);
    }

    /// The keys of S (bottom first) and Q (front first), for white-box tests.
    #[cfg(test)]
    fn dump(&self) -> (Vec<u32>, Vec<u32>) {
        (
            self.stack.slots(&self.stack_links),
            self.queue.slots(&self.queue_links),
        )
    }
}

impl Policy for Lirs {
    #[inline]
    fn read_ahead(&self, slot: Slot) -> u32 {
        let key = self.key_of.get(slot as usize).copied().unwrap_or(0);
        let status = self.status.get(key as usize).map_or(0, |&x| x as u32);
        status ^ self.stack_links.peek(key)
    }
    fn insert(&mut self, slot: Slot, access: &Access) {
        let key = access.key;
        self.ensure_key(key);
        let s = slot as usize;
        if s >= self.key_of.len() {
            self.key_of.resize(s + 1, 0);
        }
        self.key_of[s] = key;
        let i = key as usize;
        self.slot_of[i] = slot;
        self.size[i] = access.size;
        if self.status[i] == HIR_GHOST {
            self.stack.move_to_back(&mut self.stack_links, key);
            self.make_lir(key);
        } else if self.lir_units + access.size as u64 <= self.lir_cap {
            // Warm-up: the LIR set is not full yet.
            self.status[i] = LIR;
            self.lir_units += access.size as u64;
            self.stack.push_back(&mut self.stack_links, key);
            self.in_stack[i] = true;
        } else {
            self.status[i] = HIR_RESIDENT;
            self.stack.push_back(&mut self.stack_links, key);
            self.in_stack[i] = true;
            self.queue.push_back(&mut self.queue_links, key);
        }
    }

    fn touch(&mut self, slot: Slot, _: &Access) {
        let key = self.key_of[slot as usize];
        let i = key as usize;
        if self.status[i] == LIR {
            self.stack.move_to_back(&mut self.stack_links, key);
            self.prune();
        } else if self.in_stack[i] {
            self.stack.move_to_back(&mut self.stack_links, key);
            self.queue.remove(&mut self.queue_links, key);
            self.make_lir(key);
        } else {
            self.stack.push_back(&mut self.stack_links, key);
            self.in_stack[i] = true;
            self.queue.move_to_back(&mut self.queue_links, key);
        }
    }

    fn evict(&mut self, _: &Access) -> Slot {
        if let Some(key) = self.queue.pop_front(&mut self.queue_links) {
            let i = key as usize;
            self.status[i] = if self.in_stack[i] { HIR_GHOST } else { UNKNOWN };
            return self.slot_of[i];
        }
        // Only after removals can Q be empty in a full cache: evict the bottom LIR entry.
        let key = self.stack.front();
        assert!(key != NIL, "evict called on an empty cache");
        self.forget_lir(key);
        self.slot_of[key as usize]
    }

    fn remove(&mut self, slot: Slot) {
        let key = self.key_of[slot as usize];
        let i = key as usize;
        if self.status[i] == LIR {
            self.forget_lir(key);
        } else {
            self.queue.remove(&mut self.queue_links, key);
            self.status[i] = if self.in_stack[i] { HIR_GHOST } else { UNKNOWN };
        }
    }
}

impl Lirs {
    fn forget_lir(&mut self, key: u32) {
        let i = key as usize;
        self.stack.remove(&mut self.stack_links, key);
        self.in_stack[i] = false;
        self.status[i] = UNKNOWN;
        self.lir_units -= self.size[i] as u64;
        self.prune();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hir_reuse_within_the_stack_becomes_lir() {
        // Capacity 3: LIR 2, HIR 1. Slot s holds key 10 + s.
        let mut p = Lirs::build(&LirsConfig::default(), Capacity::entries(3), 0);
        p.insert(0, &Access::key(10));
        p.insert(1, &Access::key(11));
        p.insert(2, &Access::key(12)); // HIR resident
        assert_eq!(p.dump(), (vec![10, 11, 12], vec![12]));
        // 13 misses: Q's front (12) is evicted but stays in S as a ghost.
        assert_eq!(p.evict(&Access::key(13)), 2);
        p.insert(2, &Access::key(13));
        assert_eq!(p.dump(), (vec![10, 11, 12, 13], vec![13]));
        assert_eq!(p.status[12], HIR_GHOST);
        // 12 returns while in S: it becomes LIR, and the bottom LIR (10) becomes HIR.
        assert_eq!(p.evict(&Access::key(12)), 2);
        p.insert(2, &Access::key(12));
        // 10 left S; its bottom is now the LIR key 11, so the ghost 13 above it stays.
        assert_eq!(p.dump(), (vec![11, 13, 12], vec![10]));
        assert_eq!(p.status[10], HIR_RESIDENT);
        assert_eq!(p.status[13], HIR_GHOST);
        // A hit on the bottom LIR key moves it up and prunes the ghost 13.
        p.touch(1, &Access::key(11));
        assert_eq!(p.dump(), (vec![12, 11], vec![10]));
        assert_eq!(p.status[13], UNKNOWN);
    }
}
