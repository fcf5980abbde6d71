//! Browser caches: one small private LRU cache per client, all in one flat arena.
//!
//! A `browser` layer has a node per client, up to hundreds of thousands of them, each
//! holding tens to hundreds of entries. A [`Cache`](crate::store::cache::Cache) per client
//! would cost an index over the key space each, so browsers are a store of their own:
//! client `c` owns one contiguous block of `capacity` slots in one arena, looked up by
//! scanning its keys, and evicts its least recently used slot, by a per-slot stamp from
//! one arena-wide access counter. Fills and lookups go through the store's [fill
//! protocol](super::fill), a block being its own (LRU) policy; what a browser cannot do
//! (another policy, a byte budget) the layer's validation refuses through
//! [`StoreKind::check`](super::StoreKind::check).
//!
//! Memory: 20 bytes per slot (key, version, stamp: 4 bytes each; expiry: 8), so
//! `20 * capacity` bytes per client and nothing else (640 bytes at the quickstart's 32
//! entries; 100k clients take 64 MB). Within a block the keys come first, so a lookup's
//! scan reads only keys; then a 16-byte record per slot, its stamp, version and expiry
//! together. The arena starts on a cache line. Why this layout:
//! `docs/performance.md`.
//!
//! Stamps are `u32` and compared by their wrapping distance from the counter, so LRU
//! order holds as long as a resident entry was touched within the last 2^32 browser
//! accesses.

use crate::SimTime;
use crate::policy::{Access, Policy, Slot as SlotId};
use crate::store::fill::{self, Fill, Lookup, Slots};

/// The key of an empty slot: no real key matches it.
const EMPTY: u32 = u32::MAX;

/// The most entries one client's browser cache may hold: lookups scan them.
pub const MAX_BROWSER_CAPACITY: u32 = 4096;

/// 32-bit words per slot: its key and its record.
const WORDS: usize = 1 + RECORD;

/// 32-bit words of a slot's record: its stamp, its version, then its expiry's low and
/// high halves.
const RECORD: usize = 4;

/// `u32`s per cache line, the arena's alignment.
const LINE_WORDS: usize = 16;

/// Every client's browser cache.
///
/// Client `c`'s block is `words[start + c * 5 * capacity..]`: its `capacity` keys, then
/// a record per slot (stamp, version, expiry low half, expiry high half), one
/// contiguous block per client because a request touches one client.
#[derive(Debug)]
pub struct Browsers {
    capacity: usize,
    /// The arena, a line longer than the blocks: they begin at `start`.
    words: Vec<u32>,
    /// The first word on a cache-line boundary (the allocator aligns to 16 bytes).
    start: usize,
    clock: u32,
}

impl Browsers {
    /// Empties every client's cache (the layer crashed).
    pub fn clear(&mut self) {
        self.words.fill(0);
        self.empty_keys();
        self.clock = 0;
    }

    /// Marks every key slot empty (the rest of the arena is zeroed already).
    fn empty_keys(&mut self) {
        let block = self.capacity * WORDS;
        if block == 0 {
            return;
        }
        for b in self.words[self.start..].chunks_exact_mut(block) {
            b[..self.capacity].fill(EMPTY);
        }
    }

    /// `clients` empty caches of `capacity` entries each.
    ///
    /// ```
    /// use tiersim::store::browser::Browsers;
    /// use tiersim::store::cache::{Fill, Lookup};
    /// use tiersim::SimTime;
    /// let mut b = Browsers::new(3, 2);
    /// b.fill(1, 7, 0, SimTime::NEVER);
    /// assert!(matches!(b.get(1, 7, SimTime::ZERO), Lookup::Hit { .. }));
    /// assert_eq!(b.get(0, 7, SimTime::ZERO), Lookup::Miss); // another client's
    /// b.fill(1, 8, 0, SimTime::NEVER);
    /// assert_eq!(b.fill(1, 9, 0, SimTime::NEVER), Fill::Inserted { evicted: 1 }); // evicts 7
    /// assert_eq!(b.get(1, 7, SimTime::ZERO), Lookup::Miss);
    /// ```
    pub fn new(clients: u32, capacity: u32) -> Self {
        let capacity = capacity as usize;
        let words = vec![0u32; clients as usize * capacity * WORDS + LINE_WORDS];
        // Never reallocated, so the offset holds; `align_offset` may decline (it never
        // does for a plain allocation), and then blocks start unaligned, which is slower
        // only.
        let start = match words.as_ptr().align_offset(LINE_WORDS * size_of::<u32>()) {
            s if s < LINE_WORDS => s,
            _ => 0,
        };
        let mut b = Browsers {
            capacity,
            words,
            start,
            clock: 0,
        };
        // The arena comes zeroed: only the keys need writing.
        b.empty_keys();
        b
    }

    /// Bytes the arena holds per client.
    pub fn bytes_per_client(&self) -> usize {
        self.capacity * WORDS * size_of::<u32>()
    }

    /// Bytes the whole arena holds.
    pub fn bytes(&self) -> usize {
        self.words.len() * size_of::<u32>()
    }

    /// Entries per client.
    pub fn capacity(&self) -> u32 {
        self.capacity as u32
    }

    /// The start of `client`'s block.
    #[inline]
    fn base(&self, client: u32) -> usize {
        self.start + client as usize * self.capacity * WORDS
    }

    /// Where slot `i`'s record is in the block at `base`.
    #[inline]
    fn record(&self, base: usize, i: usize) -> usize {
        base + self.capacity + RECORD * i
    }

    /// Prefetches `client`'s keys, a line at a time ([`crate::mem::prefetch`]), so that a
    /// lookup soon after finds them in the CPU cache. Not the records: which one a fill
    /// writes is known only then.
    #[inline]
    pub fn prefetch(&self, client: u32) {
        let base = self.base(client);
        for i in (base..base + self.capacity).step_by(LINE_WORDS) {
            crate::mem::prefetch::prefetch(&self.words, i);
        }
    }

    #[inline]
    fn find(&self, base: usize, key: u32) -> Option<usize> {
        find(&self.words[base..base + self.capacity], key)
    }

    #[inline]
    fn expires(&self, base: usize, i: usize) -> SimTime {
        let at = self.record(base, i) + 2;
        SimTime::from_nanos(u64::from(self.words[at]) | u64::from(self.words[at + 1]) << 32)
    }

    /// `client`'s block as the fill protocol sees it, with `empty` its first empty slot
    /// (`NONE` if full or unknown).
    #[inline(always)]
    fn block(&mut self, client: u32, empty: usize) -> Block<'_> {
        let base = self.base(client);
        let cap = self.capacity;
        let (keys, records) = self.words[base..base + cap * WORDS].split_at_mut(cap);
        Block {
            keys,
            records,
            clock: &mut self.clock,
            empty,
        }
    }

    /// Looks `key` up in `client`'s cache at `now`; an expired copy is removed.
    #[inline]
    pub fn get(&mut self, client: u32, key: u32, now: SimTime) -> Lookup {
        let base = self.base(client);
        let Some(i) = self.find(base, key) else {
            return Lookup::Miss;
        };
        let expires = self.expires(base, i);
        let mut block = self.block(client, NONE);
        if expires <= now {
            fill::remove(&mut block, i as SlotId);
            return Lookup::Expired;
        }
        let evicted = fill::hit(&mut block, i as SlotId, &Access::key(key));
        Lookup::Hit {
            version: block.records[RECORD * i + 1],
            expires,
            evicted,
        }
    }

    /// `key`'s version and expiry in `client`'s cache, fresh or not, touching nothing.
    #[inline]
    pub fn peek(&self, client: u32, key: u32) -> Option<(u32, SimTime)> {
        let base = self.base(client);
        self.find(base, key)
            .map(|i| (self.words[self.record(base, i) + 1], self.expires(base, i)))
    }

    /// Stores `key` in `client`'s cache, evicting its least recently used entry if full.
    #[inline]
    pub fn fill(&mut self, client: u32, key: u32, version: u32, expires: SimTime) -> Fill {
        let base = self.base(client);
        let cap = self.capacity;
        if cap == 0 {
            return Fill::Rejected;
        }
        // One scan finds the key or else the first empty slot.
        let (resident, empty) = match find_or_empty(&self.words[base..base + cap], key) {
            Slot::Found(i) => (Some(i as SlotId), NONE),
            Slot::Empty(i) => (None, i),
            Slot::Full => (None, NONE),
        };
        let mut block = self.block(client, empty);
        fill::fill(&mut block, resident, &Access::key(key), (version, expires))
    }

    /// Entries resident in `client`'s cache.
    pub fn len(&self, client: u32) -> u32 {
        let base = self.base(client);
        self.words[base..base + self.capacity]
            .iter()
            .filter(|&&k| k != EMPTY)
            .count() as u32
    }
}

/// No slot: a full block's `empty`.
const NONE: usize = usize::MAX;

/// One client's block during a lookup or a fill: its keys, its records, the arena's
/// clock, and the first empty slot its scan found. It is its own policy: LRU by stamp.
struct Block<'a> {
    keys: &'a mut [u32],
    records: &'a mut [u32],
    clock: &'a mut u32,
    /// The slot a new entry takes: the first empty one, or the victim; `NONE` if full.
    empty: usize,
}

impl Block<'_> {
    /// Stamps slot `i` with the next tick of the clock: it is now the most recent.
    #[inline(always)]
    fn stamp(&mut self, i: SlotId) {
        *self.clock = self.clock.wrapping_add(1);
        self.records[RECORD * i as usize] = *self.clock;
    }
}

impl Slots for Block<'_> {
    type Policy = Self;
    /// Version and expiry.
    type Item = (u32, SimTime);

    #[inline(always)]
    fn policy(&mut self) -> &mut Self {
        self
    }

    #[inline(always)]
    fn makes_room(&self) -> bool {
        false
    }

    #[inline(always)]
    fn oversized(&self, _: u32) -> bool {
        false
    }

    #[inline(always)]
    fn fits(&self, _: u32) -> bool {
        self.empty != NONE
    }

    #[inline(always)]
    fn release(&mut self, slot: SlotId) {
        self.keys[slot as usize] = EMPTY;
    }

    /// The victim's slot takes the new entry in place.
    #[inline(always)]
    fn release_victim(&mut self, victim: SlotId) -> Option<SlotId> {
        self.empty = victim as usize;
        None
    }

    #[inline(always)]
    fn vacant(&mut self) -> SlotId {
        self.empty as SlotId
    }

    #[inline(always)]
    fn occupy(&mut self, slot: SlotId, item: (u32, SimTime), access: &Access) {
        self.overwrite(slot, item, access);
    }

    #[inline(always)]
    fn overwrite(&mut self, slot: SlotId, (version, expires): (u32, SimTime), access: &Access) {
        let i = slot as usize;
        self.keys[i] = access.key;
        let e = expires.as_nanos();
        self.records[RECORD * i + 1..RECORD * (i + 1)].copy_from_slice(&[
            version,
            e as u32,
            (e >> 32) as u32,
        ]);
    }
}

/// A block's eviction order: least recently stamped first.
impl Policy for Block<'_> {
    #[inline(always)]
    fn insert(&mut self, slot: SlotId, _: &Access) {
        self.stamp(slot);
    }

    #[inline(always)]
    fn touch(&mut self, slot: SlotId, _: &Access) {
        self.stamp(slot);
    }

    #[inline(always)]
    fn evict(&mut self, _: &Access) -> SlotId {
        oldest(self.records, *self.clock) as SlotId
    }

    #[inline(always)]
    fn remove(&mut self, _: SlotId) {}
}

/// Keys compared per step of a scan: a whole chunk is tested with no branch per key
/// (a few vector compares), and only a chunk that matches is searched key by key.
const LANES: usize = 16;

/// Whether `chunk` holds `value`.
#[inline(always)]
fn holds(chunk: &[u32; LANES], value: u32) -> bool {
    chunk.iter().fold(false, |any, &v| any | (v == value))
}

/// Where `value` first is in a chunk that [`holds`] it. Out of line, so the compiler
/// keeps the scan itself vectorized.
#[inline(never)]
fn position_in(chunk: &[u32; LANES], value: u32) -> usize {
    chunk.iter().position(|&v| v == value).unwrap_or(0)
}

/// The first position of `key` in `keys`.
#[inline]
fn find(keys: &[u32], key: u32) -> Option<usize> {
    let (chunks, rest) = keys.as_chunks::<LANES>();
    for (c, chunk) in chunks.iter().enumerate() {
        if holds(chunk, key) {
            return Some(c * LANES + position_in(chunk, key));
        }
    }
    let done = chunks.len() * LANES;
    rest.iter().position(|&k| k == key).map(|i| done + i)
}

/// Where a fill goes in a block, from one scan of its keys.
enum Slot {
    /// The key's own slot.
    Found(usize),
    /// The first empty slot (the key is absent).
    Empty(usize),
    /// Neither: evict.
    Full,
}

/// `key`'s slot in `keys`, or else the first empty one, in one pass.
#[inline]
fn find_or_empty(keys: &[u32], key: u32) -> Slot {
    const NONE: usize = usize::MAX;
    let (chunks, rest) = keys.as_chunks::<LANES>();
    let mut empty = NONE;
    for (c, chunk) in chunks.iter().enumerate() {
        if holds(chunk, key) {
            return Slot::Found(c * LANES + position_in(chunk, key));
        }
        if empty == NONE && holds(chunk, EMPTY) {
            empty = c * LANES + position_in(chunk, EMPTY);
        }
    }
    let done = chunks.len() * LANES;
    if let Some(i) = rest.iter().position(|&k| k == key) {
        return Slot::Found(done + i);
    }
    if empty == NONE
        && let Some(i) = rest.iter().position(|&k| k == EMPTY)
    {
        empty = done + i;
    }
    if empty == NONE {
        Slot::Full
    } else {
        Slot::Empty(empty)
    }
}

/// The least recently used slot of a block's `records`: the stamp (each record's first
/// word) furthest behind `clock`, the last such if two tie.
#[inline]
fn oldest(records: &[u32], clock: u32) -> usize {
    let (records, _) = records.as_chunks::<RECORD>();
    let mut at = 0;
    let mut max = 0;
    for (i, r) in records.iter().enumerate() {
        let age = clock.wrapping_sub(r[0]);
        if age >= max {
            (at, max) = (i, age);
        }
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_naive_lru_per_client() {
        // Below one scan chunk, exactly one, and chunks plus a remainder.
        for capacity in [4, 16, 37] {
            lru_against_a_model(capacity);
        }
    }

    /// Random fills and lookups over 3 clients of `capacity` entries against a list
    /// model, over about twice as many keys as fit.
    fn lru_against_a_model(capacity: usize) {
        let mut b = Browsers::new(3, capacity as u32);
        let mut model: Vec<Vec<(u32, u32, SimTime)>> = vec![Vec::new(); 3]; // oldest first
        let mut z = 11u64;
        for step in 0..100_000u64 {
            z = crate::base::rng::mix64(z);
            let c = (z % 3) as u32;
            let key = ((z >> 8) % (2 * capacity as u64 + 1)) as u32;
            let now = SimTime::from_nanos(step);
            let m = &mut model[c as usize];
            let pos = m.iter().position(|e| e.0 == key);
            if (z >> 16).is_multiple_of(2) {
                let want = match pos {
                    None => Lookup::Miss,
                    Some(p) if m[p].2 <= now => {
                        m.remove(p);
                        Lookup::Expired
                    }
                    Some(p) => {
                        let e = m.remove(p);
                        m.push(e);
                        Lookup::Hit {
                            version: e.1,
                            expires: e.2,
                            evicted: 0,
                        }
                    }
                };
                assert_eq!(b.get(c, key, now), want, "capacity {capacity}, step {step}");
            } else {
                let expires = SimTime::from_nanos(step + (z >> 24) % 50);
                let want = match pos {
                    Some(p) => {
                        m.remove(p);
                        Fill::Updated { evicted: 0 }
                    }
                    None => {
                        let evicted = m.len() == capacity;
                        if evicted {
                            m.remove(0);
                        }
                        Fill::Inserted {
                            evicted: u32::from(evicted),
                        }
                    }
                };
                m.push((key, step as u32, expires));
                let got = b.fill(c, key, step as u32, expires);
                assert_eq!(got, want, "capacity {capacity}, step {step}");
            }
            assert_eq!(b.len(c) as usize, model[c as usize].len());
        }
    }

    #[test]
    fn a_cache_of_no_entries_stores_nothing() {
        let mut b = Browsers::new(2, 0);
        assert_eq!(b.fill(1, 7, 0, SimTime::NEVER), Fill::Rejected);
        assert_eq!(b.get(1, 7, SimTime::ZERO), Lookup::Miss);
    }

    #[test]
    fn a_crash_empties_every_client() {
        let mut b = Browsers::new(3, 4);
        for c in 0..3 {
            b.fill(c, 7, 1, SimTime::NEVER);
        }
        b.clear();
        for c in 0..3 {
            assert_eq!((b.len(c), b.get(c, 7, SimTime::ZERO)), (0, Lookup::Miss));
        }
        assert_eq!(
            b.fill(1, 8, 0, SimTime::NEVER),
            Fill::Inserted { evicted: 0 }
        );
    }

    #[test]
    fn blocks_start_on_a_cache_line() {
        let b = Browsers::new(3, 32);
        for client in 0..3 {
            let at = b.words[b.base(client)..].as_ptr() as usize;
            assert_eq!(at % 64, 0, "client {client}");
        }
    }

    #[test]
    fn memory_is_twenty_bytes_a_slot() {
        assert_eq!(Browsers::new(10, 50).bytes_per_client(), 1000);
    }
}
