//! libCacheSim's W-TinyLFU (`WTinyLFU.c` over its `SLRU.c` with `seg-size=1:4` and the
//! sketch of `minimalIncrementCBF.c`), as the libcachesim 0.3.5 wheel runs it.
//!
//! A mirror, not a redesign: each rule below is one that miss counts depend on, and
//! where it departs from the paper (or from what the code's own names promise) it says
//! so. C is the capacity, W = ⌊C × window_ratio⌋ the window's and M = C − W the main
//! cache's, all in the cache's unit (entries, or bytes).
//!
//! - **Window.** New entries enter an LRU window that is not bounded by W on its own:
//!   only when the whole cache is full does the window's LRU entry leave, and while the
//!   main cache has room it moves there with no contest (filling the main cache in
//!   window order). After warm-up the window holds about W, as in the paper.
//! - **Admission.** Otherwise the window's LRU entry (the candidate) contests the main
//!   cache's victim, its lowest non-empty segment's LRU entry: a strictly higher sketch
//!   estimate wins the victim's place, else the candidate is evicted (ties keep the
//!   incumbent, as in the paper).
//! - **Sketch.** A counting Bloom filter of `u32` counters and k = ⌈ln 2 × b⌉ = 10
//!   indices, sized for a 0.1% error at M entries: ⌈b × M⌉ counters, b = −ln 0.001 /
//!   ln² 2 ≈ 14.4 (at most 2³¹ − 1). Index i of an id is (a + i·b) mod n, a and b being
//!   XXH64 of its 8 bytes under two seeds, truncated to 32 bits. Sized per *byte* when
//!   the cache is: from 150 MiB up it is 8 GiB of virtual memory, of which only the
//!   touched pages become resident (the C `calloc`s the same).
//! - **What is counted.** Each insertion, each hit in the *main* cache (a window hit
//!   counts nothing), and each window entry leaving the window, admitted or not (where
//!   the source has a "TODO: add doorkeeper"). All counters halve after 32 × M main
//!   hits; the paper halves after a sample of W ≈ 10 × C additions of every access.
//! - **Main SLRU.** Two segments: probation ⌊0.2 M⌋ and protected ⌊0.8 M⌋. An entry
//!   entering the main cache goes to the *lowest segment with room*, so while probation
//!   is full it lands straight in protected; with no room in either it goes to
//!   probation over its quota. A probation hit moves to protected, whose overflow
//!   demotes its LRU entry to probation's MRU end, whose overflow evicts probation's LRU
//!   entry: a hit can evict. The cache frees such entries via
//!   [`Policy::take_evicted`]; so does an admission in bytes that needs more room than
//!   the victim left.
//! - **Admissible objects.** An object larger than W (or than probation's quota) is
//!   never cached (libCacheSim's `can_insert`): at 1 MiB, anything over 10 KiB. In
//!   entries, a cache under 100 entries has W = 0 and caches nothing.
//!
//! Departures from the paper that look like bugs rather than choices, for whoever
//! compares: the "minimal increment" filter increments *all* k counters on every add
//! (the conservative update's condition guards only a debug print), so it is a plain
//! counting Bloom filter; there is no doorkeeper, so one-hit wonders count fully; the
//! sample counts main hits only, so ageing runs at a rate set by the hit ratio rather
//! than by traffic; and `SLRU_remove` (deletes, expiries) does not update segment
//! occupancy (here it does: traces without deletes are unaffected).
//!
//! Like the parent, it sees slots and accesses only, not the cache, layers or engine.

use super::super::list::{Links, List, NIL};
use super::super::{Access, Capacity, Policy, PrefetchHints, Slot};
use super::WTinyLfuConfig;
use crate::mem::prefetch::prefetch;

const WINDOW: u8 = 0;
/// Segment `i` of the main SLRU is region `SEG + i`: probation 0, protected 1.
const SEG: u8 = 1;
const SEGMENTS: usize = 2;
/// Dropped by the main cache, waiting for [`Policy::take_evicted`].
const GONE: u8 = u8::MAX;

/// libCacheSim's `HASH_SEED0` and `HASH_SEED1`.
const SEEDS: [u64; 2] = [0x1234_5678, 0x1234_4321];

/// XXH64 (Collet's xxHash, 64-bit) of `x`'s 8 little-endian bytes: the whole algorithm
/// for an 8-byte input (one 8-byte lane, then the avalanche).
pub(crate) const fn xxh64_u64(x: u64, seed: u64) -> u64 {
    const P1: u64 = 0x9E37_79B1_85EB_CA87;
    const P2: u64 = 0xC2B2_AE3D_27D4_EB4F;
    const P3: u64 = 0x1656_67B1_9E37_79F9;
    const P4: u64 = 0x85EB_CA77_C2B2_AE63;
    const P5: u64 = 0x27D4_EB2F_1656_67C5;
    let mut h = seed.wrapping_add(P5).wrapping_add(8);
    h ^= x.wrapping_mul(P2).rotate_left(31).wrapping_mul(P1);
    h = h.rotate_left(27).wrapping_mul(P1).wrapping_add(P4);
    h ^= h >> 33;
    h = h.wrapping_mul(P2);
    h ^= h >> 29;
    h = h.wrapping_mul(P3);
    h ^ (h >> 32)
}

/// libCacheSim's `minimalIncrementCBF`: a counting Bloom filter whose estimate is the
/// least of an id's counters (module docs).
#[derive(Debug)]
pub(crate) struct CountingBloom {
    counters: Vec<u32>,
    hashes: u32,
}

impl CountingBloom {
    /// Sized as `minimalIncrementCBF_init(entries, 0.001)`: `entries` is a C `int`, so a
    /// main cache of 2 GiB or more wraps as it does there.
    // The constants are the C's, digit for digit (its ln 2 is one digit short), so that
    // the sizes agree exactly.
    #[allow(clippy::approx_constant)]
    pub(crate) fn new(entries: i32) -> Self {
        let bpe = -(0.001f64).ln() / 0.480453013918201;
        let hashes = (0.693147180559945 * bpe).ceil() as i32;
        let mut n = (bpe * entries as f64).ceil().min(i32::MAX as f64) as i32;
        if n < hashes {
            n = hashes * 2;
        }
        CountingBloom {
            // Zeroed memory comes from the OS untouched: a sketch sized per byte costs
            // only the pages its counters land on.
            counters: vec![0; n as usize],
            hashes: hashes as u32,
        }
    }

    /// The counters of `id`, as C's `unsigned int` arithmetic computes them.
    #[inline]
    fn indices(&self, id: u64) -> impl Iterator<Item = usize> + use<> {
        let a = xxh64_u64(id, SEEDS[0]) as u32;
        let b = xxh64_u64(id, SEEDS[1]) as u32;
        let n = self.counters.len() as u32;
        (0..self.hashes).map(move |i| (a.wrapping_add(i.wrapping_mul(b)) % n) as usize)
    }

    /// The least of `id`'s counters.
    #[inline]
    pub(crate) fn estimate(&self, id: u64) -> u32 {
        self.indices(id)
            .map(|x| self.counters[x])
            .min()
            .unwrap_or(u32::MAX)
    }

    /// Counts `id`: every one of its counters, twice where two indices coincide.
    #[inline]
    pub(crate) fn add(&mut self, id: u64) {
        for x in self.indices(id) {
            self.counters[x] = self.counters[x].wrapping_add(1);
        }
    }

    /// Halves every counter.
    fn decay(&mut self) {
        for c in &mut self.counters {
            *c >>= 1;
        }
    }
}

/// libCacheSim's W-TinyLFU: 21 bytes per entry plus the sketch (about 58 bytes per unit
/// of the main cache's capacity, up to 8 GiB).
#[derive(Debug)]
pub(crate) struct LcsTinyLfu {
    links: Links,
    window: List,
    seg: [List; SEGMENTS],
    region: Vec<u8>,
    size: Vec<u32>,
    /// Trace ids, which the sketch hashes.
    id: Vec<u64>,
    window_units: u64,
    seg_units: [u64; SEGMENTS],
    seg_max: [u64; SEGMENTS],
    window_cap: u64,
    main_cap: u64,
    cache_cap: u64,
    sketch: CountingBloom,
    main_hits: u64,
    decay_every: u64,
    dropped: Vec<Slot>,
}

impl LcsTinyLfu {
    pub(crate) fn new(config: &WTinyLfuConfig, capacity: Capacity) -> Self {
        let c = capacity.units;
        // As C converts `cache_size *= window_size` back to an integer.
        let window_cap = (c as f64 * config.window_ratio.clamp(0.0, 1.0)) as u64;
        let main_cap = c - window_cap;
        // `seg-size=1:4` computes 1.0 / 5 and 4.0 / 5; rounding the probation share keeps
        // 1 − 0.8 from landing one unit below libCacheSim's ⌊0.2 M⌋ when 0.2 M is whole.
        let protected = config.protected_ratio.clamp(0.0, 1.0);
        let probation = ((1.0 - protected) * 1e9).round() / 1e9;
        let hint = capacity.slots_hint;
        LcsTinyLfu {
            links: Links::with_capacity(hint),
            window: List::default(),
            seg: [List::default(); SEGMENTS],
            region: Vec::with_capacity(hint),
            size: Vec::with_capacity(hint),
            id: Vec::with_capacity(hint),
            window_units: 0,
            seg_units: [0; SEGMENTS],
            seg_max: [
                (probation * main_cap as f64) as u64,
                (protected * main_cap as f64) as u64,
            ],
            window_cap,
            main_cap,
            cache_cap: c,
            // C passes the main cache's `int64_t` size to an `int`.
            sketch: CountingBloom::new(main_cap as i32),
            main_hits: 0,
            decay_every: 32 * main_cap,
            dropped: Vec::with_capacity(8),
        }
    }

    fn main_units(&self) -> u64 {
        self.seg_units.iter().sum()
    }

    /// The main cache's victim: the LRU entry of its lowest segment holding any units.
    fn main_victim(&self) -> Slot {
        (0..SEGMENTS)
            .find(|&i| self.seg_units[i] > 0)
            .map_or(NIL, |i| self.seg[i].front())
    }

    fn seg_push(&mut self, slot: Slot, i: usize) {
        self.region[slot as usize] = SEG + i as u8;
        self.seg[i].push_back(&mut self.links, slot);
        self.seg_units[i] += self.size[slot as usize] as u64;
    }

    fn seg_unlink(&mut self, slot: Slot) {
        let i = (self.region[slot as usize] - SEG) as usize;
        self.seg[i].remove(&mut self.links, slot);
        self.seg_units[i] -= self.size[slot as usize] as u64;
    }

    fn window_unlink(&mut self, slot: Slot) {
        self.window.remove(&mut self.links, slot);
        self.window_units -= self.size[slot as usize] as u64;
    }

    /// Evicts the main victim behind the cache's back (`SLRU_evict` called from within
    /// the SLRU); the cache learns of it through `take_evicted`.
    fn drop_main_victim(&mut self) {
        let v = self.main_victim();
        self.seg_unlink(v);
        self.region[v as usize] = GONE;
        self.dropped.push(v);
    }

    /// `SLRU_insert`: the lowest segment with room, else probation once the main cache as
    /// a whole has room.
    fn main_insert(&mut self, slot: Slot) {
        let s = self.size[slot as usize] as u64;
        if let Some(i) = (0..SEGMENTS).find(|&i| self.seg_units[i] + s <= self.seg_max[i]) {
            return self.seg_push(slot, i);
        }
        while self.main_units() + s > self.main_cap {
            self.drop_main_victim();
        }
        self.seg_push(slot, 0);
    }

    /// `SLRU_cool`: segment `i`'s LRU entry moves down a segment, cascading; probation
    /// has no segment below, so cooling it evicts.
    fn cool(&mut self, i: usize) {
        if i == 0 {
            return self.drop_main_victim();
        }
        let t = self.seg[i].front();
        self.seg_unlink(t);
        self.seg_push(t, i - 1);
        while self.seg_units[i - 1] > self.seg_max[i - 1] {
            self.cool(i - 1);
        }
    }

    /// `SLRU_find` on a hit: up one segment (MRU of the top one), then cool the segment
    /// the entry is in while it is over quota.
    fn main_hit(&mut self, slot: Slot) {
        let i = (self.region[slot as usize] - SEG) as usize;
        if i == SEGMENTS - 1 {
            return self.seg[i].move_to_back(&mut self.links, slot);
        }
        self.seg_unlink(slot);
        self.seg_push(slot, i + 1);
        loop {
            let r = self.region[slot as usize];
            // The C reads the entry's segment again after each cooling; if the entry
            // itself was evicted it reads freed memory, and here it stops.
            if r == GONE {
                break;
            }
            let i = (r - SEG) as usize;
            if self.seg_units[i] <= self.seg_max[i] {
                break;
            }
            self.cool(i);
        }
    }
}

impl PrefetchHints for LcsTinyLfu {
    #[inline]
    fn prefetch(&self, slot: Slot) {
        self.links.prefetch(slot);
        prefetch(&self.region, slot as usize);
    }
}

impl Policy for LcsTinyLfu {
    fn admit(&mut self, incoming: &Access, _full: bool) -> bool {
        let s = incoming.size as u64;
        s <= self.cache_cap && s <= self.window_cap && s <= self.seg_max[0] && s <= self.main_cap
    }

    fn insert(&mut self, slot: Slot, access: &Access) {
        let s = slot as usize;
        if s >= self.region.len() {
            self.region.resize(s + 1, WINDOW);
            self.size.resize(s + 1, 0);
            self.id.resize(s + 1, 0);
        }
        self.region[s] = WINDOW;
        self.size[s] = access.size;
        self.id[s] = access.id;
        self.window_units += access.size as u64;
        self.window.push_back(&mut self.links, slot);
        self.sketch.add(access.id);
    }

    fn touch(&mut self, slot: Slot, access: &Access) {
        if self.region[slot as usize] == WINDOW {
            return self.window.move_to_back(&mut self.links, slot);
        }
        self.main_hit(slot);
        self.sketch.add(access.id);
        self.main_hits += 1;
        if self.main_hits >= self.decay_every {
            self.main_hits = 0;
            self.sketch.decay();
        }
    }

    fn evict(&mut self, _incoming: &Access) -> Slot {
        loop {
            if self.window_units == 0 {
                let v = self.main_victim();
                self.seg_unlink(v);
                return v;
            }
            let w = self.window.front();
            let wid = self.id[w as usize];
            let out = if self.main_units() + self.size[w as usize] as u64 <= self.main_cap {
                self.window_unlink(w);
                self.main_insert(w);
                None
            } else {
                let v = self.main_victim();
                let vid = self.id[v as usize];
                if self.sketch.estimate(wid) > self.sketch.estimate(vid) {
                    self.seg_unlink(v);
                    self.window_unlink(w);
                    self.main_insert(w);
                    Some(v)
                } else {
                    self.window_unlink(w);
                    Some(w)
                }
            };
            // Counted whether it moved, won or lost (module docs).
            self.sketch.add(wid);
            if let Some(v) = out {
                return v;
            }
        }
    }

    fn remove(&mut self, slot: Slot) {
        match self.region[slot as usize] {
            WINDOW => self.window_unlink(slot),
            GONE => {}
            _ => self.seg_unlink(slot),
        }
    }

    #[inline]
    fn take_evicted(&mut self) -> Option<Slot> {
        self.dropped.pop()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xxh64_matches_the_reference_library() {
        // From libxxhash 0.8.1's XXH64 over the 8 little-endian bytes.
        let cases = [
            (0, SEEDS[0], 0x67bb_774d_39f5_d473),
            (0, SEEDS[1], 0xc2a6_4453_b85a_5e79),
            (1, SEEDS[0], 0x071b_9484_a237_4097),
            (42, SEEDS[1], 0xca6b_8301_1840_5888),
            (0xdead_beef_cafe_babe, SEEDS[0], 0x22d7_d824_a6d4_bc68),
        ];
        for (x, seed, h) in cases {
            assert_eq!(xxh64_u64(x, seed), h, "XXH64({x:#x}, {seed:#x})");
        }
    }

    #[test]
    fn counting_bloom_sizes_counts_all_and_decays() {
        let f = CountingBloom::new(990);
        assert_eq!((f.hashes, f.counters.len()), (10, 14_234));
        assert_eq!(
            CountingBloom::new(0).counters.len(),
            20,
            "at least 2k counters"
        );
        assert_eq!(
            CountingBloom::new(i32::MAX).counters.len(),
            i32::MAX as usize
        );
        let mut f = CountingBloom::new(1000);
        assert_eq!(f.estimate(7), 0);
        for _ in 0..5 {
            f.add(7);
        }
        assert_eq!(f.estimate(7), 5);
        // Every counter of 7 went up, not only the least ones: the sum shows it.
        let total: u32 = f.counters.iter().sum();
        assert_eq!(total, 5 * 10);
        f.decay();
        assert_eq!(f.estimate(7), 2);
    }

    fn entries(n: usize) -> LcsTinyLfu {
        LcsTinyLfu::new(&WTinyLfuConfig::default(), Capacity::entries(n))
    }

    fn fill(p: &mut LcsTinyLfu, slots: std::ops::Range<Slot>) {
        for s in slots {
            p.insert(s, &Access::key(100 + s));
        }
    }

    #[test]
    fn sizes_follow_libcachesim() {
        let p = entries(1000);
        assert_eq!((p.window_cap, p.main_cap), (10, 990));
        assert_eq!(p.seg_max, [198, 792]);
        let p = entries(100);
        assert_eq!((p.window_cap, p.main_cap, p.seg_max), (1, 99, [19, 79]));
        let mut p = entries(99);
        assert!(
            !p.admit(&Access::key(1), false),
            "no window, nothing cached"
        );
    }

    #[test]
    fn window_spills_into_main_lowest_segment_first_then_contests() {
        // C = 200: W = 2, M = 198, probation 39, protected 158 (197 in all).
        let mut p = entries(200);
        fill(&mut p, 0..200);
        assert_eq!(
            p.window.len(),
            200,
            "the window is unbounded until the cache fills"
        );
        // The first eviction moves window entries to main while it has room: 39 to
        // probation, 158 to protected, then one more to probation over its quota.
        let v = p.evict(&Access::key(999));
        assert_eq!(p.seg.map(|l| l.len()), [40, 158]);
        assert_eq!((p.seg[0].front(), p.seg[1].front()), (0, 39));
        assert_eq!(p.region[197], SEG);
        // Then 198 contests probation's LRU, 0: counted once (insertion) against twice
        // (insertion, leaving the window), it loses.
        assert_eq!(v, 198);
        assert_eq!(p.window.slots(&p.links), vec![199]);
        assert!(p.take_evicted().is_none());
        // A newcomer counted more often than 0 wins 0's place, in probation.
        p.insert(198, &Access::key(500));
        while p.sketch.estimate(500) <= p.sketch.estimate(100) {
            p.sketch.add(500);
        }
        assert_eq!(
            p.evict(&Access::key(999)),
            199,
            "199 is first in line, and loses"
        );
        assert_eq!(p.evict(&Access::key(999)), 0);
        assert_eq!(p.region[198], SEG);
    }

    #[test]
    fn a_hit_that_overflows_probation_evicts() {
        let mut p = entries(200);
        fill(&mut p, 0..200);
        p.evict(&Access::key(999));
        // A probation hit: protected, full, demotes its LRU (39) into probation, already
        // over quota, which evicts probation's LRU (0) behind the cache's back.
        p.touch(10, &Access::key(110));
        assert_eq!(p.region[10], SEG + 1);
        assert_eq!(p.region[39], SEG);
        assert_eq!(p.take_evicted(), Some(0));
        assert_eq!(p.take_evicted(), None);
        assert_eq!(p.seg_units, [39, 158]);
        // A protected hit only reorders.
        p.touch(10, &Access::key(110));
        assert_eq!(p.take_evicted(), None);
    }
}
