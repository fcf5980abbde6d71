//! Trace ids to dense keys, in order of first appearance, and to a replay cache's
//! resident slots: the one table that a trace's ids go through, for replay and for a
//! scenario whose workload is a trace.

use crate::policy::Slot;
use crate::trace::{Request, TraceError};

/// The slot of an id with no resident copy.
pub(crate) const ABSENT: Slot = Slot::MAX;

/// The most distinct ids a replay takes: bucket positions are `u32`, and the table keeps
/// at least one empty bucket per id.
const MAX_IDS: u32 = 1 << 31;

/// One bucket of an [`IdTable`]: an id, its dense key, and its slot while resident.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bucket {
    pub(crate) id: u64,
    /// `EMPTY` for a free bucket (ids take every `u64` value, so the id cannot mark it).
    pub(crate) key: u32,
    pub(crate) slot: Slot,
}

const EMPTY: u32 = u32::MAX;
const FREE_BUCKET: Bucket = Bucket {
    id: 0,
    key: EMPTY,
    slot: ABSENT,
};

/// Trace ids to dense keys (in order of first appearance) and to resident slots: an
/// open-addressing table with linear probing, at most half full. One 16-byte bucket
/// answers both questions, so a request costs one cache miss, not two
/// (docs/performance.md).
#[derive(Clone, Debug)]
pub struct IdTable {
    pub(crate) buckets: Vec<Bucket>,
    /// `64 - log2(buckets.len())`: the home bucket is the top bits of the hash.
    shift: u32,
    len: u32,
}

impl Default for IdTable {
    fn default() -> Self {
        IdTable::with_capacity(0)
    }
}

impl IdTable {
    /// A table that holds `ids` distinct ids before it grows.
    pub fn with_capacity(ids: usize) -> Self {
        let n = (ids.clamp(8, MAX_IDS as usize) * 2).next_power_of_two();
        IdTable {
            buckets: vec![FREE_BUCKET; n],
            shift: 64 - n.trailing_zeros(),
            len: 0,
        }
    }

    /// Fibonacci hashing of the id folded on itself: the top bits depend on every bit of
    /// the id, so sequential ids (block numbers) and scattered ones both spread.
    #[inline(always)]
    fn home(&self, id: u64) -> usize {
        ((id ^ (id >> 32)).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    /// The bucket of `id`, inserting it with the next dense key if new. The second value
    /// says whether the table grew (and so every bucket moved).
    #[inline(always)]
    pub(crate) fn entry(&mut self, id: u64) -> Result<(usize, bool), TraceError> {
        let mask = self.buckets.len() - 1;
        let mut i = self.home(id);
        loop {
            let b = &self.buckets[i];
            if b.key == EMPTY {
                break;
            }
            if b.id == id {
                return Ok((i, false));
            }
            i = (i + 1) & mask;
        }
        self.insert_new(id, i)
    }

    #[cold]
    #[inline(never)]
    fn insert_new(&mut self, id: u64, mut i: usize) -> Result<(usize, bool), TraceError> {
        if self.len >= MAX_IDS - 1 {
            return Err(TraceError::Options(format!(
                "the trace has more than {} distinct objects, the most a replay takes",
                MAX_IDS - 1
            )));
        }
        let grow = (self.len as usize + 1) * 2 > self.buckets.len();
        if grow {
            self.grow();
            let mask = self.buckets.len() - 1;
            i = self.home(id);
            while self.buckets[i].key != EMPTY {
                i = (i + 1) & mask;
            }
        }
        self.buckets[i] = Bucket {
            id,
            key: self.len,
            slot: ABSENT,
        };
        self.len += 1;
        Ok((i, grow))
    }

    fn grow(&mut self) {
        let old = std::mem::take(&mut self.buckets);
        let n = old.len() * 2;
        self.buckets = vec![FREE_BUCKET; n];
        self.shift = 64 - n.trailing_zeros();
        let mask = n - 1;
        for b in old.into_iter().filter(|b| b.key != EMPTY) {
            let mut i = self.home(b.id);
            while self.buckets[i].key != EMPTY {
                i = (i + 1) & mask;
            }
            self.buckets[i] = b;
        }
    }

    /// The dense key of `id`, assigning the next one to a new id.
    #[inline]
    pub fn key(&mut self, id: u64) -> Result<u32, TraceError> {
        let (b, _) = self.entry(id)?;
        Ok(self.buckets[b].key)
    }

    /// Prefetches the home buckets of `reqs` ([`crate::mem::prefetch`]): the first stage of
    /// the replay's pipeline, a block before the requests are processed.
    #[inline]
    pub(crate) fn prefetch_homes(&self, reqs: &[Request]) {
        for r in reqs {
            crate::mem::prefetch::prefetch(&self.buckets, self.home(r.id));
        }
    }

    /// The slot the home bucket of `id` names, if it holds `id` (else `ABSENT`: the id is
    /// new, not resident, or probed past its home), for a prefetch of the slot's state.
    #[inline]
    pub(crate) fn home_slot(&self, id: u64) -> Slot {
        let b = self.buckets[self.home(id)];
        if b.id == id { b.slot } else { ABSENT }
    }

    /// The dense key of `id`, if it was seen.
    #[inline]
    pub fn get(&self, id: u64) -> Option<u32> {
        let mask = self.buckets.len() - 1;
        let mut i = self.home(id);
        loop {
            let b = &self.buckets[i];
            if b.key == EMPTY {
                return None;
            }
            if b.id == id {
                return Some(b.key);
            }
            i = (i + 1) & mask;
        }
    }

    /// Distinct ids seen.
    pub fn len(&self) -> usize {
        self.len as usize
    }

    /// Whether no id was seen.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes held, for the memory report.
    pub fn heap_bytes(&self) -> usize {
        self.buckets.capacity() * std::mem::size_of::<Bucket>()
    }
}

/// Maps trace ids to dense keys in order of first appearance.
pub type KeyMap = IdTable;
