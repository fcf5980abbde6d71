//! ARC: adaptive replacement cache. T1 holds entries seen once recently, T2 entries seen at
//! least twice; the ghost lists B1 and B2 remember keys recently evicted from each. A miss
//! found in B1 grows T1's target size `p`, one found in B2 shrinks it.
//!
//! Megiddo and Modha, "ARC: a self-tuning, low overhead replacement cache", FAST 2003;
//! this follows the paper's Figure 4 case by case. In a byte-sized cache, sizes stand for
//! counts as libCacheSim's `ARC.c` has them, so miss counts agree: case IV.A applies when
//! `|T1| + |B1|` plus the incoming object would exceed `c`, and drops B1's oldest ghost
//! when B1 has one (the paper's `|T1| < c`, which with sizes can hold while B1 is empty);
//! nothing else bounds the directory (the paper's bounds need unit sizes: libCacheSim and
//! this let it run over by a few objects, and shrink it back one ghost per eviction).
//!
//! One choice differs: by default `p` moves by `max(|B2|/|B1|, 1)` times the returning
//! object's size, the paper's one page per hit in bytes. libCacheSim moves it by the ratio
//! alone, a byte or so per hit, so `p` hardly moves in a byte-sized cache;
//! [`ArcConfig::size_scaled_adaptation`] = false does that (on cloudPhysicsIO at 256 MiB,
//! 85,861 misses as libCacheSim against 86,391 by default). With unit sizes both agree.
//!
//! It sees slots and accesses only, as every policy does (see [`crate::policy`]): not the
//! cache that owns the slots, nor layers, requests or the engine.

use serde::{Deserialize, Serialize};

use super::ghost::Ghosts;
use super::list::{Links, List};
use super::{Access, BuildPolicy, Capacity, Policy, PrefetchHints, Slot, vec_bytes};
use crate::mem::prefetch::prefetch;

/// ARC parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ArcConfig {
    /// Whether a ghost hit moves `p` by the returning object's size times the ghost
    /// lists' ratio (default true), or by the ratio alone, as libCacheSim does (false).
    /// Matters only in byte-sized caches.
    pub size_scaled_adaptation: bool,
}

impl Default for ArcConfig {
    fn default() -> Self {
        ArcConfig {
            size_scaled_adaptation: true,
        }
    }
}

const T1: u8 = 0;
const T2: u8 = 1;
const B1: usize = 0;
const B2: usize = 1;

/// ARC, 17 bytes per resident entry plus 24 per ghost (see `ghost`): 41 bytes per cached
/// object once the directory is full (as many ghosts as entries), ghost arrays included.
#[derive(Debug)]
pub struct Arc {
    links: Links,
    t1: List,
    t2: List,
    list: Vec<u8>,
    size: Vec<u32>,
    key: Vec<u32>,
    t1_units: u64,
    t2_units: u64,
    /// The target size of T1.
    p: f64,
    c: u64,
    ghosts: Ghosts<2>,
    /// The key whose ghost hit already moved `p` (in `evict`, before its `insert`).
    adapted: Option<u32>,
    size_scaled: bool,
}

impl BuildPolicy for Arc {
    type Config = ArcConfig;
    fn build(config: &ArcConfig, capacity: Capacity, _seed: u64) -> Self {
        Arc {
            links: Links::with_capacity(capacity.slots_hint),
            t1: List::default(),
            t2: List::default(),
            list: Vec::with_capacity(capacity.slots_hint),
            size: Vec::with_capacity(capacity.slots_hint),
            key: Vec::with_capacity(capacity.slots_hint),
            t1_units: 0,
            t2_units: 0,
            p: 0.0,
            c: capacity.units,
            // |T1| + |T2| + |B1| + |B2| <= 2c: a full cache has at most c ghosts.
            ghosts: Ghosts::with_capacity(capacity.slots_hint),
            adapted: None,
            size_scaled: config.size_scaled_adaptation,
        }
    }
}

impl Arc {
    /// Cases II and III: a ghost hit in `ghost` moves the target `p`.
    fn adapt(&mut self, ghost: usize, size: u32) {
        let (b1, b2) = (self.ghosts.units(B1) as f64, self.ghosts.units(B2) as f64);
        let size = if self.size_scaled { size as f64 } else { 1.0 };
        if ghost == B1 {
            let delta = if b1 >= b2 { 1.0 } else { b2 / b1 };
            self.p = (self.p + delta * size).min(self.c as f64);
        } else {
            let delta = if b2 >= b1 { 1.0 } else { b1 / b2 };
            self.p = (self.p - delta * size).max(0.0);
        }
    }

    /// REPLACE: moves the LRU entry of T1 or T2 to its ghost list and returns its slot.
    fn replace(&mut self, in_b2: bool) -> Slot {
        let t1 = self.t1_units as f64;
        let from_t1 =
            !self.t1.is_empty() && (t1 > self.p || (in_b2 && t1 == self.p) || self.t2.is_empty());
        let s = if from_t1 {
            let s = self.t1.pop_front(&mut self.links).expect("not empty");
            self.t1_units -= self.size[s as usize] as u64;
            s
        } else {
            let s = self
                .t2
                .pop_front(&mut self.links)
                .expect("evict called on an empty cache");
            self.t2_units -= self.size[s as usize] as u64;
            s
        };
        let ghost = if from_t1 { B1 } else { B2 };
        self.ghosts
            .push(ghost, self.key[s as usize], self.size[s as usize]);
        s
    }
}

impl PrefetchHints for Arc {
    #[inline]
    fn prefetch(&self, slot: Slot) {
        self.links.prefetch(slot);
        prefetch(&self.list, slot as usize);
    }
}

impl Policy for Arc {
    fn heap_bytes(&self) -> Option<usize> {
        Some(
            self.links.heap_bytes()
                + vec_bytes(&self.list)
                + vec_bytes(&self.size)
                + vec_bytes(&self.key)
                + self.ghosts.heap_bytes(),
        )
    }
    fn insert(&mut self, slot: Slot, access: &Access) {
        let s = slot as usize;
        if s >= self.list.len() {
            self.list.resize(s + 1, T1);
            self.size.resize(s + 1, 0);
            self.key.resize(s + 1, 0);
        }
        self.size[s] = access.size;
        self.key[s] = access.key;
        let adapted = self.adapted.take() == Some(access.key);
        if let Some(g) = self.ghosts.find(access.key) {
            // Adapt while the key still counts in its ghost list, as `evict` does.
            if !adapted {
                self.adapt(g, access.size);
            }
            self.ghosts.remove(access.key);
            self.list[s] = T2;
            self.t2_units += access.size as u64;
            self.t2.push_back(&mut self.links, slot);
        } else {
            self.list[s] = T1;
            self.t1_units += access.size as u64;
            self.t1.push_back(&mut self.links, slot);
        }
    }

    fn touch(&mut self, slot: Slot, _: &Access) {
        let s = slot as usize;
        if self.list[s] == T2 {
            self.t2.move_to_back(&mut self.links, slot);
        } else {
            self.t1.remove(&mut self.links, slot);
            self.t1_units -= self.size[s] as u64;
            self.list[s] = T2;
            self.t2_units += self.size[s] as u64;
            self.t2.push_back(&mut self.links, slot);
        }
    }

    fn evict(&mut self, incoming: &Access) -> Slot {
        let key = incoming.key;
        match self.ghosts.find(key) {
            Some(g) => {
                if self.adapted != Some(key) {
                    self.adapt(g, incoming.size);
                    self.adapted = Some(key);
                }
                self.replace(g == B2)
            }
            None => {
                let incoming = u64::from(incoming.size);
                if self.t1_units + self.ghosts.units(B1) + incoming > self.c {
                    if self.ghosts.pop_front(B1).is_some() {
                        self.replace(false)
                    } else {
                        // Case IV.A with B1 empty: T1 alone fills the cache; its LRU
                        // entry leaves without a ghost.
                        let s = self
                            .t1
                            .pop_front(&mut self.links)
                            .expect("T1 fills the cache");
                        self.t1_units -= self.size[s as usize] as u64;
                        s
                    }
                } else {
                    let total = self.t1_units
                        + self.t2_units
                        + self.ghosts.units(B1)
                        + self.ghosts.units(B2);
                    if total >= 2 * self.c {
                        self.ghosts.pop_front(B2);
                    }
                    self.replace(false)
                }
            }
        }
    }

    fn remove(&mut self, slot: Slot) {
        let s = slot as usize;
        if self.list[s] == T2 {
            self.t2.remove(&mut self.links, slot);
            self.t2_units -= self.size[s] as u64;
        } else {
            self.t1.remove(&mut self.links, slot);
            self.t1_units -= self.size[s] as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(p: &Arc) -> (Vec<Slot>, Vec<Slot>, Vec<u32>, Vec<u32>) {
        (
            p.t1.slots(&p.links),
            p.t2.slots(&p.links),
            p.ghosts.to_vec(B1),
            p.ghosts.to_vec(B2),
        )
    }

    #[test]
    fn follows_the_paper_cases() {
        let mut p = Arc::build(&ArcConfig::default(), Capacity::entries(2), 0);
        // Slot s holds key 10 + s until reused.
        p.insert(0, &Access::key(10));
        p.insert(1, &Access::key(11));
        p.touch(0, &Access::key(10)); // case I: T1 -> T2
        assert_eq!(state(&p), (vec![1], vec![0], vec![], vec![]));
        // Case IV.B: key 12 is new; |T1| = 1 > p = 0, so T1's LRU goes to B1.
        assert_eq!(p.evict(&Access::key(12)), 1);
        p.insert(1, &Access::key(12));
        assert_eq!(state(&p), (vec![1], vec![0], vec![11], vec![]));
        // Case II: key 11 is in B1: p grows to 1; |T1| = 1 is not > p, so T2's LRU (key 10)
        // goes to B2, and 11 enters T2.
        assert_eq!(p.evict(&Access::key(11)), 0);
        assert_eq!(p.p, 1.0);
        p.insert(0, &Access::key(11));
        assert_eq!(state(&p), (vec![1], vec![0], vec![], vec![10]));
        // Case III: key 10 is in B2: p shrinks to 0; T1's LRU (key 12) goes to B1.
        assert_eq!(p.evict(&Access::key(10)), 1);
        assert_eq!(p.p, 0.0);
        p.insert(1, &Access::key(10));
        assert_eq!(state(&p), (vec![], vec![0, 1], vec![12], vec![]));
    }
}
