//! Browser caches: one small private LRU cache per client, all in one flat arena.
//!
//! A `browser` layer has a node per client, up to hundreds of thousands of them, each
//! holding tens to hundreds of entries. A [`Cache`](crate::store::cache::Cache) per client
//! would cost a dense index over the whole key space each (4 MB at 1M keys), so
//! browsers get their own store: client `c` owns one contiguous block of `capacity`
//! slots in one arena, looked up by scanning its keys (a few cache lines: cheaper than
//! hashing at these sizes), and evicts the slot least recently used, by a per-slot stamp
//! from one arena-wide access counter.
//!
//! Memory: 20 bytes per slot (key, version, stamp: 4 bytes each; expiry: 8), so
//! `20 * capacity` bytes per client and nothing else (640 bytes at the quickstart's 32
//! entries; 100k clients take 64 MB). Within a block the keys come first, so a lookup's
//! scan reads only keys; then a 16-byte record per slot, its stamp, version and expiry
//! together. With 100k clients nearly every lookup misses and every request then fills
//! its browser: the fill writes one line beside the keys, its slot's record, where
//! separate arrays of stamps, versions and expiries cost up to three more lines not in
//! the CPU's caches, and a read-ahead of the stamps besides. An eviction (a full block)
//! reads the records' stamps, a few more adjacent lines than an array of stamps alone
//! would take. The arena starts on a cache line, so a block of 32 slots scans two lines
//! of keys, not three, and no record straddles two lines.
//!
//! Stamps are `u32` and compared by their wrapping distance from the counter, so LRU
//! order holds as long as a resident entry was touched within the last 2^32 browser
//! accesses.

use crate::SimTime;
use crate::store::cache::{Fill, Lookup};

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
/// a record per slot (stamp, version, expiry low half, expiry high half).
/// One contiguous block per client rather than parallel arrays: a request touches one
/// client, and its block then costs one TLB walk and adjacent lines, not scattered ones.
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
        // The arena comes zeroed: only the keys need writing (not the whole 64 MB of the
        // quickstart's 100k clients twice over).
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

    #[inline]
    fn stamp(&mut self) -> u32 {
        self.clock = self.clock.wrapping_add(1);
        self.clock
    }

    /// Looks `key` up in `client`'s cache at `now`; an expired copy is removed.
    #[inline]
    pub fn get(&mut self, client: u32, key: u32, now: SimTime) -> Lookup {
        let base = self.base(client);
        let Some(i) = self.find(base, key) else {
            return Lookup::Miss;
        };
        let expires = self.expires(base, i);
        if expires <= now {
            self.words[base + i] = EMPTY;
            return Lookup::Expired;
        }
        let stamp = self.stamp();
        let at = self.record(base, i);
        self.words[at] = stamp;
        Lookup::Hit {
            version: self.words[at + 1],
            expires,
            evicted: 0,
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
        let (result, i) = match find_or_empty(&self.words[base..base + cap], key) {
            Slot::Found(i) => (Fill::Updated { evicted: 0 }, i),
            Slot::Empty(i) => (Fill::Inserted { evicted: 0 }, i),
            Slot::Full => {
                let records = &self.words[base + cap..base + cap * WORDS];
                (Fill::Inserted { evicted: 1 }, oldest(records, self.clock))
            }
        };
        let stamp = self.stamp();
        let w = &mut self.words[base..base + cap * WORDS];
        w[i] = key;
        let e = expires.as_nanos();
        let at = cap + RECORD * i;
        w[at..at + RECORD].copy_from_slice(&[stamp, version, e as u32, (e >> 32) as u32]);
        result
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

/// Keys compared per step of a scan. A block is scanned a fixed-width chunk at a time,
/// testing the whole chunk with no branch per key, which the compiler turns into a few
/// vector compares; only a chunk that matches is searched key by key. With 100k
/// clients nearly every browser lookup misses, so the whole block is scanned on most
/// requests, and the fill after the miss scans it again.
const LANES: usize = 16;

/// Whether `chunk` holds `value`.
#[inline(always)]
fn holds(chunk: &[u32; LANES], value: u32) -> bool {
    chunk.iter().fold(false, |any, &v| any | (v == value))
}

/// Where `value` first is in a chunk that [`holds`] it. Kept out of line: inlined, the
/// compiler merges it into the scan, which then compares key by key.
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
