//! W-TinyLFU: a small LRU window admits every new entry; an entry leaving the window
//! enters the main SLRU only if a frequency sketch says it is more popular than the entry
//! it would displace.
//!
//! Einziger, Friedman and Manes, "TinyLFU: a highly efficient cache admission policy",
//! ACM Trans. Storage 2017. Two variants ([`WTinyLfuVariant`]):
//! - `caffeine` (the default) follows Caffeine's layout: a 1% window, a main SLRU with
//!   80% protected, a count-min sketch of 4-bit counters (4 rows) behind a doorkeeper
//!   Bloom filter, and a reset that halves every counter after 10 × width additions;
//! - `libcachesim` reproduces libCacheSim's `WTinyLFU.c` request for request (its miss
//!   counts, on the traces tested), quirks included; `wtinylfu/lcs.rs` says what differs.
//!
//! It sees slots and accesses only, as every policy does (see [`crate::policy`]): not the
//! cache that owns the slots, nor layers, requests or the engine.

use crate::mem::prefetch::prefetch;
use serde::{Deserialize, Serialize};

use super::list::{Links, List};
use super::{Access, BuildPolicy, Capacity, Policy, PrefetchHints, Slot};
use crate::base::rng::mix64;

mod lcs;

/// Which W-TinyLFU to simulate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WTinyLfuVariant {
    /// Caffeine's design (module docs): the paper's structure, tuned as Caffeine tunes it.
    #[default]
    Caffeine,
    /// libCacheSim's `WTinyLFU`, reproduced exactly so that miss counts can be compared
    /// with results published from it.
    LibCacheSim,
}

/// W-TinyLFU parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WTinyLfuConfig {
    /// Which design to simulate (default `caffeine`).
    pub variant: WTinyLfuVariant,
    /// The window's share of the capacity (default 0.01).
    pub window_ratio: f64,
    /// The protected segment's share of the main region (default 0.8).
    pub protected_ratio: f64,
}

impl Default for WTinyLfuConfig {
    fn default() -> Self {
        WTinyLfuConfig {
            variant: WTinyLfuVariant::Caffeine,
            window_ratio: 0.01,
            protected_ratio: 0.8,
        }
    }
}

/// A count-min sketch of 4-bit counters with a doorkeeper: the first sighting of a key
/// only sets its doorkeeper bits, so one-hit wonders do not pollute the counters.
#[derive(Debug)]
pub(crate) struct FrequencySketch {
    counters: Vec<u8>,
    mask: u64,
    door: Vec<u64>,
    door_mask: u64,
    additions: u64,
    sample_size: u64,
}

const ROWS: u64 = 4;
const MAX_COUNT: u8 = 15;

impl FrequencySketch {
    pub(crate) fn new(entries: usize) -> Self {
        let width = entries.max(16).next_power_of_two() as u64;
        let door_bits = width * 8;
        FrequencySketch {
            counters: vec![0; (width * ROWS) as usize],
            mask: width - 1,
            door: vec![0; (door_bits / 64) as usize],
            door_mask: door_bits - 1,
            additions: 0,
            sample_size: 10 * width,
        }
    }

    #[inline]
    fn hashes(key: u32) -> (u64, u64) {
        let h = mix64(key as u64);
        (h, mix64(h) | 1)
    }

    #[inline]
    fn door_bits(&self, h: u64, g: u64) -> [u64; 2] {
        [h & self.door_mask, h.wrapping_add(g) >> 7 & self.door_mask]
    }

    /// Row `row`'s counter for hashes `(h, g)`: double hashing, one probe per row; the
    /// multiple of `g` wraps by design.
    #[inline]
    fn cell(&self, row: u64, h: u64, g: u64) -> usize {
        (row * (self.mask + 1) + (h.wrapping_add(row.wrapping_mul(g)) >> 8 & self.mask)) as usize
    }

    #[inline]
    fn in_door(&self, h: u64, g: u64) -> bool {
        self.door_bits(h, g)
            .iter()
            .all(|&b| self.door[(b / 64) as usize] >> (b % 64) & 1 == 1)
    }

    /// Records one access to `key`.
    #[inline]
    pub(crate) fn increment(&mut self, key: u32) {
        let (h, g) = Self::hashes(key);
        if !self.in_door(h, g) {
            for b in self.door_bits(h, g) {
                self.door[(b / 64) as usize] |= 1 << (b % 64);
            }
        } else {
            for row in 0..ROWS {
                let i = self.cell(row, h, g);
                let c = &mut self.counters[i];
                if *c < MAX_COUNT {
                    *c += 1;
                }
            }
        }
        self.additions += 1;
        if self.additions >= self.sample_size {
            self.reset();
        }
    }

    /// The estimated accesses to `key` since the last reset (about halved at each).
    #[inline]
    pub(crate) fn estimate(&self, key: u32) -> u8 {
        let (h, g) = Self::hashes(key);
        let mut min = MAX_COUNT;
        for row in 0..ROWS {
            min = min.min(self.counters[self.cell(row, h, g)]);
        }
        min + self.in_door(h, g) as u8
    }

    /// Ages the sketch: halves the counters, clears the doorkeeper. Runs once per
    /// `10 × width` additions, so its cost is amortised over them.
    fn reset(&mut self) {
        for c in &mut self.counters {
            *c >>= 1;
        }
        self.door.fill(0);
        self.additions /= 2;
    }
}

const WINDOW: u8 = 0;
const PROBATION: u8 = 1;
const PROTECTED: u8 = 2;

/// W-TinyLFU in one of its [variants](WTinyLfuVariant). The variant is matched once per
/// call: a branch that always goes the same way.
#[derive(Debug)]
pub struct WTinyLfu(Inner);

#[derive(Debug)]
enum Inner {
    Caffeine(Caffeine),
    LibCacheSim(lcs::LcsTinyLfu),
}

impl BuildPolicy for WTinyLfu {
    type Config = WTinyLfuConfig;
    fn build(config: &WTinyLfuConfig, capacity: Capacity, _seed: u64) -> Self {
        match config.variant {
            WTinyLfuVariant::Caffeine => WTinyLfu(Inner::Caffeine(Caffeine::new(config, capacity))),
            WTinyLfuVariant::LibCacheSim => {
                WTinyLfu(Inner::LibCacheSim(lcs::LcsTinyLfu::new(config, capacity)))
            }
        }
    }
    fn check(config: &WTinyLfuConfig) -> Result<(), String> {
        super::check_share("window_ratio", config.window_ratio)?;
        super::check_share("protected_ratio", config.protected_ratio)
    }
}

macro_rules! each {
    ($self:ident, $p:ident => $e:expr) => {
        match &mut $self.0 {
            Inner::Caffeine($p) => $e,
            Inner::LibCacheSim($p) => $e,
        }
    };
}

impl PrefetchHints for WTinyLfu {
    #[inline]
    fn prefetch(&self, slot: Slot) {
        match &self.0 {
            Inner::Caffeine(p) => p.prefetch(slot),
            Inner::LibCacheSim(p) => p.prefetch(slot),
        }
    }
}

impl Policy for WTinyLfu {
    #[inline]
    fn insert(&mut self, slot: Slot, access: &Access) {
        each!(self, p => p.insert(slot, access))
    }
    #[inline]
    fn touch(&mut self, slot: Slot, access: &Access) {
        each!(self, p => p.touch(slot, access))
    }
    #[inline]
    fn evict(&mut self, incoming: &Access) -> Slot {
        each!(self, p => p.evict(incoming))
    }
    #[inline]
    fn remove(&mut self, slot: Slot) {
        each!(self, p => p.remove(slot))
    }
    #[inline]
    fn admit(&mut self, incoming: &Access, full: bool) -> bool {
        each!(self, p => p.admit(incoming, full))
    }
    #[inline]
    fn take_evicted(&mut self) -> Option<Slot> {
        each!(self, p => p.take_evicted())
    }
}

/// Caffeine's W-TinyLFU: 17 bytes per entry plus the sketch (4 bytes and 8 doorkeeper
/// bits per entry of capacity).
#[derive(Debug)]
struct Caffeine {
    links: Links,
    window: List,
    probation: List,
    protected: List,
    region: Vec<u8>,
    size: Vec<u32>,
    key: Vec<u32>,
    window_units: u64,
    protected_units: u64,
    window_cap: u64,
    protected_cap: u64,
    sketch: FrequencySketch,
}

impl Caffeine {
    fn new(config: &WTinyLfuConfig, capacity: Capacity) -> Self {
        let c = capacity.units;
        let window_cap = ((c as f64 * config.window_ratio.clamp(0.0, 1.0)) as u64).max(1);
        let main_cap = c.saturating_sub(window_cap);
        Caffeine {
            links: Links::with_capacity(capacity.slots_hint),
            window: List::default(),
            probation: List::default(),
            protected: List::default(),
            region: Vec::with_capacity(capacity.slots_hint),
            size: Vec::with_capacity(capacity.slots_hint),
            key: Vec::with_capacity(capacity.slots_hint),
            window_units: 0,
            protected_units: 0,
            window_cap,
            protected_cap: (main_cap as f64 * config.protected_ratio.clamp(0.0, 1.0)) as u64,
            sketch: FrequencySketch::new(capacity.slots_hint),
        }
    }
}

impl Caffeine {
    /// The main region's next victim: probation's LRU entry, else protected's.
    fn main_victim(&self) -> Option<Slot> {
        [self.probation.front(), self.protected.front()]
            .into_iter()
            .find(|&s| s != super::list::NIL)
    }

    fn unlink(&mut self, slot: Slot) {
        let s = slot as usize;
        let size = self.size[s] as u64;
        match self.region[s] {
            WINDOW => {
                self.window.remove(&mut self.links, slot);
                self.window_units -= size;
            }
            PROBATION => self.probation.remove(&mut self.links, slot),
            _ => {
                self.protected.remove(&mut self.links, slot);
                self.protected_units -= size;
            }
        }
    }

    fn enter_probation(&mut self, slot: Slot) {
        self.region[slot as usize] = PROBATION;
        self.probation.push_back(&mut self.links, slot);
    }
}

impl PrefetchHints for Caffeine {
    #[inline]
    fn prefetch(&self, slot: Slot) {
        self.links.prefetch(slot);
        prefetch(&self.region, slot as usize);
    }
}

impl Policy for Caffeine {
    fn insert(&mut self, slot: Slot, access: &Access) {
        let s = slot as usize;
        if s >= self.region.len() {
            self.region.resize(s + 1, WINDOW);
            self.size.resize(s + 1, 0);
            self.key.resize(s + 1, 0);
        }
        self.sketch.increment(access.key);
        self.region[s] = WINDOW;
        self.size[s] = access.size;
        self.key[s] = access.key;
        self.window_units += access.size as u64;
        self.window.push_back(&mut self.links, slot);
        // The cache had room, so the window's overflow fits in the main region unfiltered.
        while self.window_units > self.window_cap && self.window.len() > 1 {
            let w = self.window.front();
            self.unlink(w);
            self.enter_probation(w);
        }
    }

    fn touch(&mut self, slot: Slot, access: &Access) {
        self.sketch.increment(access.key);
        let s = slot as usize;
        match self.region[s] {
            WINDOW => self.window.move_to_back(&mut self.links, slot),
            PROTECTED => self.protected.move_to_back(&mut self.links, slot),
            _ => {
                self.probation.remove(&mut self.links, slot);
                self.region[s] = PROTECTED;
                self.protected_units += self.size[s] as u64;
                self.protected.push_back(&mut self.links, slot);
                while self.protected_units > self.protected_cap {
                    let d = self
                        .protected
                        .pop_front(&mut self.links)
                        .expect("positive units imply an entry");
                    self.protected_units -= self.size[d as usize] as u64;
                    self.enter_probation(d);
                }
            }
        }
    }

    fn evict(&mut self, incoming: &Access) -> Slot {
        let overflows = self.window_units + incoming.size as u64 > self.window_cap;
        let candidate = self.window.front();
        let victim = self.main_victim();
        if candidate != super::list::NIL && (overflows || victim.is_none()) {
            // The window's LRU entry must leave the window: it takes the main victim's
            // place only if the sketch says it is more popular (ties keep the incumbent).
            if let Some(v) = victim {
                let (ck, vk) = (self.key[candidate as usize], self.key[v as usize]);
                if self.sketch.estimate(ck) > self.sketch.estimate(vk) {
                    self.unlink(v);
                    self.unlink(candidate);
                    self.enter_probation(candidate);
                    return v;
                }
            }
            self.unlink(candidate);
            return candidate;
        }
        let v = victim.expect("evict called on an empty cache");
        self.unlink(v);
        v
    }

    fn remove(&mut self, slot: Slot) {
        self.unlink(slot);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sketch_counts_after_the_doorkeeper_and_ages() {
        let mut f = FrequencySketch::new(16);
        assert_eq!(f.estimate(5), 0);
        f.increment(5);
        assert_eq!(
            f.estimate(5),
            1,
            "the first sighting only sets the doorkeeper"
        );
        for _ in 0..20 {
            f.increment(5);
        }
        assert_eq!(f.estimate(5), MAX_COUNT + 1, "counters saturate at 15");
        f.reset();
        assert_eq!(f.estimate(5), 7, "a reset halves and clears the doorkeeper");
    }

    #[test]
    fn window_candidate_must_beat_the_probation_victim() {
        // Capacity 10: window 1, main 9 (protected 7).
        let mut p = Caffeine::new(&WTinyLfuConfig::default(), Capacity::entries(10));
        for s in 0..10 {
            p.insert(s, &Access::key(100 + s));
        }
        // Each insert pushed the previous window entry to probation.
        assert_eq!(p.window.slots(&p.links), vec![9]);
        assert_eq!(p.probation.slots(&p.links), (0..9).collect::<Vec<_>>());
        p.touch(1, &Access::key(101));
        assert_eq!(p.protected.slots(&p.links), vec![1]);
        // Candidate 9 (seen once) does not beat victim 0 (seen once): 9 leaves.
        assert_eq!(p.evict(&Access::key(200)), 9);
        p.insert(9, &Access::key(200));
        for _ in 0..3 {
            p.touch(9, &Access::key(200));
        }
        // Now candidate 200 is more popular than victim 0: 0 leaves, 200 enters probation.
        assert_eq!(p.evict(&Access::key(201)), 0);
        assert_eq!(p.probation.slots(&p.links), vec![2, 3, 4, 5, 6, 7, 8, 9]);
        assert!(p.window.is_empty());
    }
}
