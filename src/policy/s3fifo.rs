//! S3-FIFO: a small FIFO (S) that filters one-hit wonders, a main FIFO (M) with CLOCK-like
//! reinsertion, and a ghost FIFO (G) of keys recently dropped from S.
//!
//! Yang, Zhang, Qiu, Yue and Rashmi, "FIFO queues are all you need for cache eviction",
//! SOSP 2023. The details follow libCacheSim's `S3FIFO.c` so miss counts agree: S is 10% of
//! the cache and G 90% (in the cache's unit), a hit adds one to a 2-bit counter, an entry
//! leaves S for M when its counter reached `move_to_main_threshold` (2), M reinserts an
//! entry with a non-zero counter after decrementing it, a miss whose key is in G goes
//! straight to M, and until the first eviction S overflows into M. A miss looks its key
//! up in G before it evicts, as libCacheSim does: evicting from S pushes keys into G and
//! trims it, and looking up afterwards would lose the incoming key's own ghost when it was
//! the oldest. So the first `evict` for a miss takes the key out of G and `insert`
//! remembers it.
//!
//! Left as is, and unlike libCacheSim: libCacheSim never admits an object larger than S,
//! and evicts for one exactly S's size but then does not store it. With unit sizes that
//! stores nothing at all below 20 entries (S holds 1 entry or none); no object of
//! cloudPhysicsIO is that large at 1, 16 or 256 MiB.
//!
//! It sees slots and accesses only, as every policy does (see [`crate::policy`]): not the
//! cache that owns the slots, nor layers, requests or the engine.

use crate::mem::prefetch::prefetch;
use serde::{Deserialize, Serialize};

use super::ghost::Ghosts;
use super::list::{Links, List};
use super::{Access, BuildPolicy, Capacity, Policy, PrefetchHints, Slot, vec_bytes};

/// S3-FIFO parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct S3FifoConfig {
    /// S's share of the capacity (default 0.1).
    pub small_ratio: f64,
    /// G's size as a share of the capacity (default 0.9).
    pub ghost_ratio: f64,
    /// Hits in S needed to move to M instead of G (default 2, as libCacheSim).
    pub move_to_main_threshold: u8,
}

impl Default for S3FifoConfig {
    fn default() -> Self {
        S3FifoConfig {
            small_ratio: 0.1,
            ghost_ratio: 0.9,
            move_to_main_threshold: 2,
        }
    }
}

const SMALL: u8 = 0;
const MAIN: u8 = 1;
const MAX_FREQ: u8 = 3;

/// S3-FIFO, 18 bytes per resident entry plus 24 per ghost (see `ghost`; 0.9 ghosts per
/// entry by default, so about 40 bytes per cached object).
#[derive(Debug)]
pub struct S3Fifo {
    links: Links,
    small: List,
    main: List,
    queue: Vec<u8>,
    freq: Vec<u8>,
    size: Vec<u32>,
    key: Vec<u32>,
    small_units: u64,
    main_units: u64,
    small_cap: u64,
    main_cap: u64,
    ghost_cap: u64,
    threshold: u8,
    has_evicted: bool,
    ghost: Ghosts<1>,
    /// The incoming key, when `evict` found it in G and took it out: its `insert` goes to
    /// M.
    returning: Option<u32>,
}

impl BuildPolicy for S3Fifo {
    type Config = S3FifoConfig;
    fn build(config: &S3FifoConfig, capacity: Capacity, _seed: u64) -> Self {
        let small_cap = (capacity.units as f64 * config.small_ratio.clamp(0.0, 1.0)) as u64;
        S3Fifo {
            links: Links::with_capacity(capacity.slots_hint),
            small: List::default(),
            main: List::default(),
            queue: Vec::with_capacity(capacity.slots_hint),
            freq: Vec::with_capacity(capacity.slots_hint),
            size: Vec::with_capacity(capacity.slots_hint),
            key: Vec::with_capacity(capacity.slots_hint),
            small_units: 0,
            main_units: 0,
            small_cap,
            main_cap: capacity.units - small_cap,
            ghost_cap: (capacity.units as f64 * config.ghost_ratio.max(0.0)) as u64,
            threshold: config.move_to_main_threshold.min(MAX_FREQ),
            has_evicted: false,
            ghost: Ghosts::with_capacity(
                (capacity.slots_hint as f64 * config.ghost_ratio.max(0.0)) as usize,
            ),
            returning: None,
        }
    }
    fn check(config: &S3FifoConfig) -> Result<(), String> {
        super::check_share("small_ratio", config.small_ratio)?;
        super::check_ghost("ghost_ratio", config.ghost_ratio)?;
        if config.move_to_main_threshold > MAX_FREQ {
            return Err(format!(
                "`move_to_main_threshold` counts hits on a 2-bit counter, from 0 to \
                 {MAX_FREQ}; got {}",
                config.move_to_main_threshold
            ));
        }
        Ok(())
    }
}

impl S3Fifo {
    fn push_main(&mut self, slot: Slot) {
        self.queue[slot as usize] = MAIN;
        self.main_units += self.size[slot as usize] as u64;
        self.main.push_back(&mut self.links, slot);
    }

    /// Drops S's oldest entries into M until one leaves for G; `None` when S ran empty.
    fn evict_small(&mut self) -> Option<Slot> {
        while let Some(s) = self.small.pop_front(&mut self.links) {
            let i = s as usize;
            self.small_units -= self.size[i] as u64;
            if self.freq[i] >= self.threshold {
                self.freq[i] = 0;
                self.push_main(s);
            } else {
                self.ghost.push(0, self.key[i], self.size[i]);
                self.ghost.trim(0, self.ghost_cap);
                return Some(s);
            }
        }
        None
    }

    /// Reinserts M's oldest entries with a decremented counter until one with zero leaves.
    fn evict_main(&mut self) -> Slot {
        loop {
            let s = self
                .main
                .pop_front(&mut self.links)
                .expect("evict called on an empty cache");
            let i = s as usize;
            if self.freq[i] == 0 {
                self.main_units -= self.size[i] as u64;
                return s;
            }
            self.freq[i] -= 1;
            self.main.push_back(&mut self.links, s);
        }
    }
}

impl PrefetchHints for S3Fifo {
    #[inline]
    fn prefetch(&self, slot: Slot) {
        prefetch(&self.freq, slot as usize);
    }
}

impl Policy for S3Fifo {
    fn heap_bytes(&self) -> Option<usize> {
        Some(
            self.links.heap_bytes()
                + vec_bytes(&self.queue)
                + vec_bytes(&self.freq)
                + vec_bytes(&self.size)
                + vec_bytes(&self.key)
                + self.ghost.heap_bytes(),
        )
    }
    #[inline]
    fn insert(&mut self, slot: Slot, access: &Access) {
        let s = slot as usize;
        if s >= self.queue.len() {
            self.queue.resize(s + 1, SMALL);
            self.freq.resize(s + 1, 0);
            self.size.resize(s + 1, 0);
            self.key.resize(s + 1, 0);
        }
        self.freq[s] = 0;
        self.size[s] = access.size;
        self.key[s] = access.key;
        let ghost_hit =
            self.returning.take() == Some(access.key) || self.ghost.remove(access.key).is_some();
        if ghost_hit || (!self.has_evicted && self.small_units >= self.small_cap) {
            self.push_main(slot);
        } else {
            self.queue[s] = SMALL;
            self.small_units += access.size as u64;
            self.small.push_back(&mut self.links, slot);
        }
    }
    #[inline]
    fn touch(&mut self, slot: Slot, _: &Access) {
        let f = &mut self.freq[slot as usize];
        *f = (*f + 1).min(MAX_FREQ);
    }
    #[inline]
    fn evict(&mut self, incoming: &Access) -> Slot {
        if self.returning != Some(incoming.key) && self.ghost.remove(incoming.key).is_some() {
            self.returning = Some(incoming.key);
        }
        self.has_evicted = true;
        loop {
            if self.main_units > self.main_cap || self.small.is_empty() {
                return self.evict_main();
            }
            if let Some(s) = self.evict_small() {
                return s;
            }
        }
    }
    #[inline]
    fn remove(&mut self, slot: Slot) {
        let s = slot as usize;
        if self.queue[s] == MAIN {
            self.main.remove(&mut self.links, slot);
            self.main_units -= self.size[s] as u64;
        } else {
            self.small.remove(&mut self.links, slot);
            self.small_units -= self.size[s] as u64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_filters_main_reinserts_ghost_readmits() {
        // Capacity 10: S 1, M 9, G 9.
        let mut p = S3Fifo::build(&S3FifoConfig::default(), Capacity::entries(10), 0);
        // Before the first eviction S overflows into M: key 100 in S, 101..109 in M.
        for s in 0..10 {
            p.insert(s, &Access::key(100 + s));
        }
        assert_eq!(p.small.slots(&p.links), vec![0]);
        assert_eq!(p.main.slots(&p.links), (1..10).collect::<Vec<_>>());
        // S holds 1 unit, not more than its share, M is within its share: evict from S.
        assert_eq!(p.evict(&Access::key(200)), 0);
        assert_eq!(p.ghost.to_vec(0), vec![100]);
        p.insert(0, &Access::key(200));
        // Two hits move 200 to M on the next eviction from S; S then runs empty, so M
        // evicts: 1 has a hit, so it goes round once with its counter back to 0.
        p.touch(0, &Access::key(200));
        p.touch(0, &Access::key(200));
        p.touch(1, &Access::key(101));
        assert_eq!(p.evict(&Access::key(201)), 2);
        assert_eq!(p.main.slots(&p.links), vec![3, 4, 5, 6, 7, 8, 9, 0, 1]);
        assert_eq!((p.freq[0], p.freq[1]), (0, 0));
        // A miss on a ghost key goes straight to M.
        p.insert(2, &Access::key(100));
        assert_eq!(p.main.slots(&p.links).last(), Some(&2));
        assert!(p.ghost.to_vec(0).is_empty());
        assert!(p.small.is_empty());
    }

    #[test]
    fn a_returning_key_is_found_before_evictions_trim_the_ghost() {
        // Capacity 4: S 2, M 2, G 1.
        let cfg = S3FifoConfig {
            small_ratio: 0.5,
            ghost_ratio: 0.25,
            ..S3FifoConfig::default()
        };
        let mut p = S3Fifo::build(&cfg, Capacity::entries(4), 0);
        for s in 0..4 {
            p.insert(s, &Access::key(10 + s));
        }
        assert_eq!(p.evict(&Access::key(20)), 0);
        p.insert(0, &Access::key(20));
        assert_eq!(p.ghost.to_vec(0), vec![10]);
        // 10 returns: evicting 11 from S pushes it into G, which holds one key and would
        // drop 10 first.
        assert_eq!(p.evict(&Access::key(10)), 1);
        p.insert(1, &Access::key(10));
        assert_eq!(p.main.slots(&p.links), vec![2, 3, 1]);
        assert_eq!(p.ghost.to_vec(0), vec![11]);
    }
}
