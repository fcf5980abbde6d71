//! Browser caches: one small private LRU cache per client, all in one flat arena.
//!
//! A `browser` layer has a node per client, up to hundreds of thousands of them, each
//! holding tens to hundreds of entries. A [`Cache`](crate::cache::Cache) per client
//! would cost a dense index over the whole key space each (4 MB at 1M keys), so
//! browsers get their own store: client `c` owns slots `c * capacity..(c + 1) *
//! capacity` of four parallel arrays, looked up by scanning its keys (a few cache lines:
//! cheaper than hashing at these sizes), and evicts the slot least recently used, by a
//! per-slot stamp from one arena-wide access counter.
//!
//! Memory: 20 bytes per slot (key, version, stamp: 4 bytes each; expiry: 8), so
//! `20 * capacity` bytes per client and nothing else: 100k clients of 50 entries take
//! 100 MB. The key array is separate so a lookup's scan reads only keys.
//!
//! Stamps are `u32` and compared by their wrapping distance from the counter, so LRU
//! order holds as long as a resident entry was touched within the last 2^32 browser
//! accesses.

use crate::SimTime;
use crate::cache::{Fill, Lookup};

/// The key of an empty slot: no real key matches it.
const EMPTY: u32 = u32::MAX;

/// The most entries one client's browser cache may hold: lookups scan them.
pub const MAX_BROWSER_CAPACITY: u32 = 4096;

/// Every client's browser cache.
#[derive(Debug)]
pub struct Browsers {
    capacity: usize,
    keys: Vec<u32>,
    versions: Vec<u32>,
    stamps: Vec<u32>,
    expires: Vec<SimTime>,
    clock: u32,
}

impl Browsers {
    /// `clients` empty caches of `capacity` entries each.
    ///
    /// ```
    /// use tiersim::browser::Browsers;
    /// use tiersim::cache::{Fill, Lookup};
    /// use tiersim::SimTime;
    /// let mut b = Browsers::new(3, 2);
    /// b.fill(1, 7, 0, SimTime::NEVER);
    /// assert!(matches!(b.get(1, 7, SimTime::ZERO), Lookup::Hit { .. }));
    /// assert_eq!(b.get(0, 7, SimTime::ZERO), Lookup::Miss); // another client's
    /// b.fill(1, 8, 0, SimTime::NEVER);
    /// assert_eq!(b.fill(1, 9, 0, SimTime::NEVER), Fill::Inserted { evicted: true }); // evicts 7
    /// assert_eq!(b.get(1, 7, SimTime::ZERO), Lookup::Miss);
    /// ```
    pub fn new(clients: u32, capacity: u32) -> Self {
        let slots = clients as usize * capacity as usize;
        Browsers {
            capacity: capacity as usize,
            keys: vec![EMPTY; slots],
            versions: vec![0; slots],
            stamps: vec![0; slots],
            expires: vec![SimTime::ZERO; slots],
            clock: 0,
        }
    }

    /// Bytes the arena holds per client.
    pub fn bytes_per_client(&self) -> usize {
        self.capacity * (3 * size_of::<u32>() + size_of::<SimTime>())
    }

    /// Bytes the whole arena holds.
    pub fn bytes(&self) -> usize {
        self.keys.len() * (3 * size_of::<u32>() + size_of::<SimTime>())
    }

    /// Entries per client.
    pub fn capacity(&self) -> u32 {
        self.capacity as u32
    }

    #[inline]
    fn find(&self, client: u32, key: u32) -> Option<usize> {
        let base = client as usize * self.capacity;
        self.keys[base..base + self.capacity]
            .iter()
            .position(|&k| k == key)
            .map(|i| base + i)
    }

    #[inline]
    fn stamp(&mut self) -> u32 {
        self.clock = self.clock.wrapping_add(1);
        self.clock
    }

    /// Looks `key` up in `client`'s cache at `now`; an expired copy is removed.
    #[inline]
    pub fn get(&mut self, client: u32, key: u32, now: SimTime) -> Lookup {
        let Some(s) = self.find(client, key) else {
            return Lookup::Miss;
        };
        if self.expires[s] <= now {
            self.keys[s] = EMPTY;
            return Lookup::Expired;
        }
        self.stamps[s] = self.stamp();
        Lookup::Hit {
            version: self.versions[s],
            expires: self.expires[s],
        }
    }

    /// `key`'s version and expiry in `client`'s cache, fresh or not, touching nothing.
    #[inline]
    pub fn peek(&self, client: u32, key: u32) -> Option<(u32, SimTime)> {
        self.find(client, key)
            .map(|s| (self.versions[s], self.expires[s]))
    }

    /// Stores `key` in `client`'s cache, evicting its least recently used entry if full.
    #[inline]
    pub fn fill(&mut self, client: u32, key: u32, version: u32, expires: SimTime) -> Fill {
        let base = client as usize * self.capacity;
        let mut found = None;
        let mut empty = None;
        let (mut oldest, mut oldest_age) = (base, 0u32);
        for s in base..base + self.capacity {
            let k = self.keys[s];
            if k == key {
                found = Some(s);
                break;
            }
            if k == EMPTY {
                empty = empty.or(Some(s));
            } else {
                let age = self.clock.wrapping_sub(self.stamps[s]);
                if age >= oldest_age {
                    (oldest, oldest_age) = (s, age);
                }
            }
        }
        let (slot, result) = match (found, empty) {
            (Some(s), _) => (s, Fill::Updated),
            (None, Some(s)) => (s, Fill::Inserted { evicted: false }),
            (None, None) => (oldest, Fill::Inserted { evicted: true }),
        };
        self.keys[slot] = key;
        self.versions[slot] = version;
        self.expires[slot] = expires;
        self.stamps[slot] = self.stamp();
        result
    }

    /// Entries resident in `client`'s cache.
    pub fn len(&self, client: u32) -> u32 {
        let base = client as usize * self.capacity;
        self.keys[base..base + self.capacity]
            .iter()
            .filter(|&&k| k != EMPTY)
            .count() as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_naive_lru_per_client() {
        // Random fills and lookups over 3 clients of 4 entries against a list model.
        let mut b = Browsers::new(3, 4);
        let mut model: Vec<Vec<(u32, u32, SimTime)>> = vec![Vec::new(); 3]; // oldest first
        let mut z = 11u64;
        for step in 0..100_000u64 {
            z = crate::rng::mix64(z);
            let c = (z % 3) as u32;
            let key = ((z >> 8) % 9) as u32;
            let now = SimTime::from_nanos(step);
            let m = &mut model[c as usize];
            let pos = m.iter().position(|e| e.0 == key);
            if (z >> 16) % 2 == 0 {
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
                        }
                    }
                };
                assert_eq!(b.get(c, key, now), want, "step {step}");
            } else {
                let expires = SimTime::from_nanos(step + (z >> 24) % 50);
                let want = match pos {
                    Some(p) => {
                        m.remove(p);
                        Fill::Updated
                    }
                    None => {
                        let evicted = m.len() == 4;
                        if evicted {
                            m.remove(0);
                        }
                        Fill::Inserted { evicted }
                    }
                };
                m.push((key, step as u32, expires));
                assert_eq!(b.fill(c, key, step as u32, expires), want, "step {step}");
            }
            assert_eq!(b.len(c) as usize, model[c as usize].len());
        }
    }

    #[test]
    fn memory_is_twenty_bytes_a_slot() {
        assert_eq!(Browsers::new(10, 50).bytes_per_client(), 1000);
    }
}
