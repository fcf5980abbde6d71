//! The Greedy-Dual family: one policy type, [`GreedyDual`], whose two instances are GDSF
//! ([`Gdsf`](super::Gdsf)) and LFUDA ([`Lfuda`](super::Lfuda)). They differ only in an
//! entry's weight and in whether a new object competes with the residents; each has its
//! own module for its rules and where they come from.
//!
//! It owns priorities, frequencies and the inflation value `L`, over an indexed heap
//! ([`SlotHeap`]). Like every policy it sees slots and accesses only (see
//! [`crate::policy`]).

use super::heap::SlotHeap;
use super::{Access, BYPASS, BuildPolicy, Capacity, NoConfig, Policy, Slot};

/// A priority with a deterministic tie-break: lower `value` first, then older `seq`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
struct Priority {
    value: f64,
    seq: u64,
}

impl Eq for Priority {}

impl PartialOrd for Priority {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Priority {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.value
            .total_cmp(&other.value)
            .then(self.seq.cmp(&other.seq))
    }
}

/// A Greedy-Dual policy with an inflation value `L`: an entry's priority is
/// `L + frequency × weight`, the victim is the lowest, and `L` becomes the victim's
/// priority, so long-resident entries age relative to new ones.
///
/// `GDSF` chooses the instance, at compile time so the hot paths carry no flag:
/// - `true`, [`Gdsf`](super::Gdsf): the weight is `10⁶ / size`, computed as libCacheSim's
///   GDSF computes it (`freq × 1e6 / size`, then `+ L`), so that equal priorities, and
///   the ties they cause, fall alike in both; and a new object competes with the
///   residents, so an eviction may return [`BYPASS`].
/// - `false`, [`Lfuda`](super::Lfuda): the weight is 1, and the lowest resident goes.
#[derive(Debug)]
pub struct GreedyDual<const GDSF: bool> {
    heap: SlotHeap<Priority>,
    freq: Vec<u32>,
    size: Vec<u32>,
    inflation: f64,
    seq: u64,
    /// The key being admitted and the priority it got before this miss's first eviction,
    /// for [`evict_or_bypass`](Self::evict_or_bypass).
    incoming: Option<(u32, f64)>,
}

/// GDSF's frequency-to-priority scale: libCacheSim's.
const PER_BYTE_SCALE: f64 = 1.0e6;

impl<const GDSF: bool> BuildPolicy for GreedyDual<GDSF> {
    type Config = NoConfig;
    fn build(_: &NoConfig, capacity: Capacity, _seed: u64) -> Self {
        GreedyDual {
            heap: SlotHeap::with_capacity(capacity.slots_hint),
            freq: Vec::with_capacity(capacity.slots_hint),
            size: Vec::with_capacity(capacity.slots_hint),
            inflation: 0.0,
            seq: 0,
            incoming: None,
        }
    }
}

impl<const GDSF: bool> GreedyDual<GDSF> {
    fn value(&self, freq: u32, size: u32) -> f64 {
        if GDSF {
            self.inflation + f64::from(freq) * PER_BYTE_SCALE / f64::from(size.max(1))
        } else {
            self.inflation + f64::from(freq)
        }
    }

    fn priority(&mut self, value: f64) -> Priority {
        self.seq += 1;
        Priority {
            value,
            seq: self.seq,
        }
    }

    fn evict_lowest(&mut self) -> Slot {
        let slot = self.heap.pop().expect("evict called on an empty cache");
        self.inflation = self.heap_key_of(slot);
        slot
    }

    /// Evicts as if the incoming entry (`key`, `size`) were already in the heap, with the
    /// priority it gets from `L` before this miss's evictions: the lowest resident, or
    /// [`BYPASS`] when the incoming entry is lower than all (it then sets `L`, as its own
    /// eviction would). A resident with an equal priority goes first: its was set earlier.
    fn evict_or_bypass(&mut self, key: u32, size: u32) -> Slot {
        let value = match self.incoming {
            Some((k, v)) if k == key => v,
            _ => {
                let v = self.value(1, size);
                self.incoming = Some((key, v));
                v
            }
        };
        let top = self.heap.peek().expect("evict called on an empty cache");
        if self.heap_key_of(top) <= value {
            return self.evict_lowest();
        }
        self.inflation = value;
        self.incoming = None;
        BYPASS
    }

    fn heap_key_of(&self, slot: Slot) -> f64 {
        self.heap.key(slot).value
    }

    /// The inflation value `L`, for tests.
    #[cfg(test)]
    pub(crate) fn inflation(&self) -> f64 {
        self.inflation
    }
}

impl<const GDSF: bool> Policy for GreedyDual<GDSF> {
    #[inline]
    fn insert(&mut self, slot: Slot, access: &Access) {
        let s = slot as usize;
        if s >= self.freq.len() {
            self.freq.resize(s + 1, 0);
            self.size.resize(s + 1, 0);
        }
        self.freq[s] = 1;
        self.size[s] = access.size;
        let value = match self.incoming.take() {
            Some((k, v)) if k == access.key => v,
            _ => self.value(1, access.size),
        };
        let p = self.priority(value);
        self.heap.push(slot, p);
    }
    #[inline]
    fn touch(&mut self, slot: Slot, _: &Access) {
        let s = slot as usize;
        self.freq[s] = self.freq[s].saturating_add(1);
        let p = self.priority(self.value(self.freq[s], self.size[s]));
        self.heap.update(slot, p);
    }
    #[inline]
    fn evict(&mut self, incoming: &Access) -> Slot {
        if GDSF {
            self.evict_or_bypass(incoming.key, incoming.size)
        } else {
            self.evict_lowest()
        }
    }
    #[inline]
    fn remove(&mut self, slot: Slot) {
        self.heap.remove(slot);
    }
}
