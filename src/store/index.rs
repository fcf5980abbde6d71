//! A [`Cache`](super::cache::Cache)'s key -> slot index: dense (a cell per key of the key
//! space) or hashed (linear probing over packed (key, slot) buckets, sized to the
//! entries). It knows keys and slots, not entries or policies.
//!
//! Either kind may name a stale slot: an eviction leaves the victim's cell or bucket as
//! it is, and the cache counts a cell only if the slot it names holds that same key
//! (so an eviction costs no write to a random spot of a large array).
//!
//! A hash index is a power of two of `u64` buckets, 2.5 to 5 times the entries, with a
//! Fibonacci (multiplicative) hash. A fill that would take the used buckets (live or
//! stale) past five eighths of the table makes the cache rebuild it from its live
//! entries (amortized O(1) a fill). Removals shift later buckets back: no tombstones.
//! A cache sized in bytes, whose entry count is unknown, starts at 16 buckets and
//! doubles at a rebuild while its live entries take more than two fifths of the table.
//!
//! Which kind: hashed while its table takes at most half the dense index's bytes (at
//! most `key_space / 4` buckets, rounded down to a power of two), and dense below 64Ki
//! keys, where the dense index fits the CPU caches; a hash index that outgrows its bound
//! turns dense for good. The measurements behind the thresholds are in
//! `docs/performance.md`.

use crate::mem::prefetch::prefetch;
use crate::policy::Slot;

/// The slot of a key with no cell or bucket.
pub(super) const ABSENT: Slot = Slot::MAX;

/// Which key -> slot index a [`Cache`](super::cache::Cache) uses (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndexKind {
    /// One cell per key of the key space.
    Dense,
    /// An open-addressing hash table sized to the resident entries.
    Hashed,
}

/// A packed bucket: the key in the high 32 bits, its slot in the low 32.
type Bucket = u64;

/// An empty bucket: its key half is `u32::MAX`, which no real key matches.
const EMPTY: Bucket = u64::MAX;

/// The fewest buckets a hash index has.
const MIN_BUCKETS: usize = 16;

/// A hash index is used only while its table takes at most `1 / DENSE_RATIO` of the
/// dense index's bytes (4 per key); past that the dense one is used.
const DENSE_RATIO: u64 = 2;

/// Below this many keys the dense index is used whatever the capacity: it takes at
/// most 256 KiB and stays in the CPU caches.
const DENSE_BELOW: u32 = 1 << 16;

/// Buckets for `live` resident keys: a power of two, at least 2.5 times `live`.
fn buckets_for(live: u32) -> usize {
    let b = (2 * live as usize).next_power_of_two().max(MIN_BUCKETS);
    if 5 * live as usize > 2 * b { 2 * b } else { b }
}

/// The most buckets a hash index over `key_space` keys may have (0: none).
fn max_buckets(key_space: u32) -> usize {
    if key_space < DENSE_BELOW {
        return 0;
    }
    // 8 bytes a bucket against 4 a key.
    let most = (u64::from(key_space) / (2 * DENSE_RATIO)) as usize;
    if most == 0 { 0 } else { 1 << most.ilog2() }
}

/// The key -> slot map. Either kind may name a stale slot (module docs).
#[derive(Clone, Debug)]
pub(super) enum Index {
    /// key -> slot, `ABSENT` when not resident.
    Dense(Vec<Slot>),
    Hashed(HashIndex),
}

/// Linear probing over packed (key, slot) buckets, a power of two of them. A bucket
/// outlives its key's eviction (stale, like a dense cell) until the table is rebuilt
/// from the live entries, when the used buckets reach five eighths of the table.
#[derive(Clone, Debug)]
pub(super) struct HashIndex {
    buckets: Vec<Bucket>,
    /// `64 - log2(buckets.len())`: a key's home bucket is the top bits of its hash.
    shift: u32,
    /// Buckets in use, live or stale.
    used: usize,
    /// The key space, for a switch to a dense index.
    key_space: u32,
    /// The most buckets it is rebuilt to before it turns dense.
    max_buckets: usize,
}

impl HashIndex {
    fn new(buckets: usize, key_space: u32, max_buckets: usize) -> Self {
        debug_assert!(buckets.is_power_of_two());
        HashIndex {
            buckets: vec![EMPTY; buckets],
            shift: 64 - buckets.trailing_zeros(),
            used: 0,
            key_space,
            max_buckets,
        }
    }

    #[inline]
    fn mask(&self) -> usize {
        self.buckets.len() - 1
    }

    /// `key`'s home bucket: Fibonacci hashing (a multiply, the top bits).
    #[inline]
    fn home(&self, key: u32) -> usize {
        (u64::from(key).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    /// `Ok(bucket)` holding `key`, or `Err(bucket)`, the empty one ending its probes.
    #[inline]
    fn find(&self, key: u32) -> Result<usize, usize> {
        let mask = self.mask();
        let mut i = self.home(key);
        loop {
            let b = self.buckets[i];
            if b == EMPTY {
                return Err(i);
            }
            if (b >> 32) as u32 == key {
                return Ok(i);
            }
            i = (i + 1) & mask;
        }
    }

    /// The slot `key`'s bucket names (maybe stale), or `ABSENT`.
    #[inline]
    fn get(&self, key: u32) -> Slot {
        match self.find(key) {
            Ok(i) => self.buckets[i] as Slot,
            Err(_) => ABSENT,
        }
    }

    /// Points `key` at `slot`; false, changing nothing, if that needs a new bucket and
    /// the table is full (five eighths used): the caller rebuilds it.
    #[inline]
    fn set(&mut self, key: u32, slot: Slot) -> bool {
        let bucket = (u64::from(key) << 32) | u64::from(slot);
        match self.find(key) {
            Ok(i) => self.buckets[i] = bucket,
            Err(i) => {
                if 8 * (self.used + 1) > 5 * self.buckets.len() {
                    return false;
                }
                self.buckets[i] = bucket;
                self.used += 1;
            }
        }
        true
    }

    /// Removes `key`'s bucket if any, shifting later buckets of its run back (no
    /// tombstones: a probe still ends at the first empty bucket).
    #[inline]
    fn remove(&mut self, key: u32) {
        let Ok(mut hole) = self.find(key) else {
            return;
        };
        let mask = self.mask();
        let mut i = hole;
        loop {
            i = (i + 1) & mask;
            let b = self.buckets[i];
            if b == EMPTY {
                break;
            }
            // `b` may fill the hole if the hole lies on its probe path, home ..= i.
            let home = self.home((b >> 32) as u32);
            if i.wrapping_sub(home) & mask >= i.wrapping_sub(hole) & mask {
                self.buckets[hole] = b;
                hole = i;
            }
        }
        self.buckets[hole] = EMPTY;
        self.used -= 1;
    }
}

impl Index {
    /// The index for a cache expected to hold `entries` of `key_space` keys: hashed if
    /// its table would be small enough, else dense.
    pub(super) fn for_entries(entries: u32, key_space: u32) -> Self {
        let buckets = buckets_for(entries.min(key_space));
        let most = max_buckets(key_space);
        if buckets <= most {
            Index::Hashed(HashIndex::new(buckets, key_space, most))
        } else {
            Index::dense(key_space)
        }
    }

    /// Bytes of the index [`for_entries`](Self::for_entries) makes for `entries` of
    /// `key_space` keys, and the most it may take while its cache holds up to `live`
    /// entries: a hash index is rebuilt larger, or turns dense, as it fills, and the old
    /// table is alive while the new one is built.
    pub(super) fn planned_bytes(entries: u32, live: u32, key_space: u32) -> (u64, u64) {
        let dense = 4 * u64::from(key_space);
        let buckets = buckets_for(entries.min(key_space));
        let most = max_buckets(key_space);
        if buckets > most {
            return (dense, dense);
        }
        let initial = 8 * buckets as u64;
        let grown = buckets_for(live.min(key_space).saturating_add(1)).max(buckets);
        let peak = if grown == buckets {
            initial
        } else if grown <= most {
            // The table it replaces, at most half the new one, is still alive.
            8 * grown as u64 * 3 / 2
        } else {
            dense + 8 * most as u64
        };
        (initial, peak)
    }

    /// An empty index of `kind` over `key_space` keys, for `entries` entries, whatever
    /// the automatic choice; a hash index of this kind never turns dense.
    pub(super) fn of_kind(kind: IndexKind, key_space: u32, entries: u32) -> Self {
        match kind {
            IndexKind::Dense => Index::dense(key_space),
            IndexKind::Hashed => {
                Index::Hashed(HashIndex::new(buckets_for(entries), key_space, usize::MAX))
            }
        }
    }

    fn dense(key_space: u32) -> Self {
        Index::Dense(vec![ABSENT; key_space as usize])
    }

    /// An empty index to replace this full hash index, for `live` entries and the one
    /// about to be set: the same table cleared, one twice as large if they take more than
    /// two fifths of it, or a dense index if that would be too large. At least a quarter
    /// of its buckets are free once the live entries are back in.
    pub(super) fn rebuilt(&mut self, live: u32) {
        let Index::Hashed(h) = self else {
            return;
        };
        let buckets = buckets_for(live + 1).max(h.buckets.len());
        if buckets == h.buckets.len() {
            h.buckets.fill(EMPTY);
            h.used = 0;
        } else if buckets <= h.max_buckets {
            *self = Index::Hashed(HashIndex::new(buckets, h.key_space, h.max_buckets));
        } else {
            *self = Index::dense(h.key_space);
        }
    }

    /// The keys it covers, `0..key_space`.
    pub(super) fn key_space(&self) -> u32 {
        match self {
            Index::Dense(cells) => cells.len() as u32,
            Index::Hashed(h) => h.key_space,
        }
    }

    pub(super) fn kind(&self) -> IndexKind {
        match self {
            Index::Dense(_) => IndexKind::Dense,
            Index::Hashed(_) => IndexKind::Hashed,
        }
    }

    pub(super) fn bytes(&self) -> usize {
        match self {
            Index::Dense(cells) => 4 * cells.len(),
            Index::Hashed(h) => 8 * h.buckets.len(),
        }
    }

    /// The slot `key`'s cell or bucket names: `ABSENT`, or a slot that may hold
    /// another key now.
    #[inline]
    pub(super) fn get(&self, key: u32) -> Slot {
        match self {
            Index::Dense(cells) => cells[key as usize],
            Index::Hashed(h) => h.get(key),
        }
    }

    /// Points `key` at `slot`; false, changing nothing, if a hash index is full and
    /// must be [rebuilt](Index::rebuilt) first.
    #[inline]
    pub(super) fn set(&mut self, key: u32, slot: Slot) -> bool {
        match self {
            Index::Dense(cells) => {
                cells[key as usize] = slot;
                true
            }
            Index::Hashed(h) => h.set(key, slot),
        }
    }

    /// Forgets `key`.
    #[inline]
    pub(super) fn remove(&mut self, key: u32) {
        match self {
            Index::Dense(cells) => cells[key as usize] = ABSENT,
            Index::Hashed(h) => h.remove(key),
        }
    }

    /// Prefetches `key`'s cell or home bucket.
    #[inline]
    pub(super) fn prefetch(&self, key: u32) {
        match self {
            Index::Dense(cells) => prefetch(cells, key as usize),
            Index::Hashed(h) => prefetch(&h.buckets, h.home(key)),
        }
    }

    /// The slot `key`'s cell or home bucket names, read without probing (a hint for a
    /// prefetch: a probe loop would stall a batch of them on mispredicted branches).
    #[inline]
    pub(super) fn home_slot(&self, key: u32) -> Slot {
        match self {
            Index::Dense(cells) => cells.get(key as usize).copied().unwrap_or(ABSENT),
            Index::Hashed(h) => {
                let b = h.buckets[h.home(key)];
                if (b >> 32) as u32 == key {
                    b as Slot
                } else {
                    ABSENT
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backward_shift_deletion_keeps_every_other_key_findable() {
        let mut h = HashIndex::new(64, 1 << 20, 64);
        let mut z = 11u64;
        let mut keys: Vec<(u32, Slot)> = Vec::new();
        while keys.len() < 40 {
            z = crate::base::rng::mix64(z);
            let key = (z % (1 << 20)) as u32;
            if keys.iter().all(|&(k, _)| k != key) {
                let slot = keys.len() as Slot;
                assert!(h.set(key, slot));
                keys.push((key, slot));
            }
        }
        assert!(!h.set(7 << 20, 0), "past five eighths: the caller rebuilds");
        while !keys.is_empty() {
            z = crate::base::rng::mix64(z);
            let (gone, _) = keys.swap_remove((z % keys.len() as u64) as usize);
            h.remove(gone);
            assert_eq!(h.get(gone), ABSENT);
            for &(k, slot) in &keys {
                assert_eq!(h.get(k), slot, "key {k}");
            }
            assert_eq!(h.used, keys.len());
        }
        assert!(h.buckets.iter().all(|&b| b == EMPTY));
    }
}
