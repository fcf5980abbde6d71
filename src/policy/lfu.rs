//! LFU: evict the entry with the fewest hits while resident, in O(1) per operation.
//!
//! The structure is the one of Shah, Mitra and Matani, "An O(1) algorithm for
//! implementing the LFU cache eviction scheme" (2010): a list of frequency classes in
//! increasing order, each holding its entries in the order they reached that frequency.
//! Counts are *in-cache*: an evicted entry forgets its count, as in libCacheSim's `LFU`.
//!
//! Tie-break: among the entries with the lowest count, the one that reached that count
//! first is evicted (LRU within a frequency class).
//!
//! It sees slots and accesses only, as every policy does (see [`crate::policy`]): not the
//! cache that owns the slots, nor layers, requests or the engine.

use super::list::{Links, List, NIL};
use super::{Access, BuildPolicy, Capacity, NoConfig, Policy, Slot};

#[derive(Clone, Copy, Debug)]
struct Class {
    freq: u64,
    entries: List,
    /// Neighbouring classes, by increasing frequency.
    lower: u32,
    higher: u32,
}

/// Least frequently used, with 12 bytes of state per entry plus one class per distinct count.
#[derive(Debug)]
pub struct Lfu {
    links: Links,
    class_of: Vec<u32>,
    classes: Vec<Class>,
    free_classes: Vec<u32>,
    /// The class with the lowest frequency, or `NIL`.
    lowest: u32,
}

impl BuildPolicy for Lfu {
    type Config = NoConfig;
    fn build(_: &NoConfig, capacity: Capacity, _seed: u64) -> Self {
        let capacity_hint = capacity.slots_hint;
        Lfu {
            links: Links::with_capacity(capacity_hint),
            class_of: Vec::with_capacity(capacity_hint),
            classes: Vec::new(),
            free_classes: Vec::new(),
            lowest: NIL,
        }
    }
}

impl Default for Lfu {
    /// An empty LFU; `lowest` must start as `NIL`, which a derived `Default` would make 0.
    fn default() -> Self {
        Lfu::build(&NoConfig {}, Capacity::entries(0), 0)
    }
}

impl Lfu {
    /// A new, empty class of frequency `freq` placed between `lower` and `higher`.
    fn new_class(&mut self, freq: u64, lower: u32, higher: u32) -> u32 {
        let class = Class {
            freq,
            entries: List::default(),
            lower,
            higher,
        };
        let id = match self.free_classes.pop() {
            Some(id) => {
                self.classes[id as usize] = class;
                id
            }
            None => {
                self.classes.push(class);
                (self.classes.len() - 1) as u32
            }
        };
        if lower == NIL {
            self.lowest = id;
        } else {
            self.classes[lower as usize].higher = id;
        }
        if higher != NIL {
            self.classes[higher as usize].lower = id;
        }
        id
    }

    fn unlink_slot(&mut self, slot: Slot) -> u32 {
        let c = self.class_of[slot as usize];
        self.classes[c as usize]
            .entries
            .remove(&mut self.links, slot);
        c
    }

    fn drop_class_if_empty(&mut self, c: u32) {
        let Class {
            entries,
            lower,
            higher,
            ..
        } = self.classes[c as usize];
        if !entries.is_empty() {
            return;
        }
        if lower == NIL {
            self.lowest = higher;
        } else {
            self.classes[lower as usize].higher = higher;
        }
        if higher != NIL {
            self.classes[higher as usize].lower = lower;
        }
        self.free_classes.push(c);
    }

    fn place(&mut self, slot: Slot, c: u32) {
        self.classes[c as usize]
            .entries
            .push_back(&mut self.links, slot);
        self.class_of[slot as usize] = c;
    }

    /// The frequency of the entry in `slot`, for tests.
    #[cfg(test)]
    fn freq(&self, slot: Slot) -> u64 {
        self.classes[self.class_of[slot as usize] as usize].freq
    }
}

impl Policy for Lfu {
    fn insert(&mut self, slot: Slot, _: &Access) {
        if slot as usize >= self.class_of.len() {
            self.class_of.resize(slot as usize + 1, NIL);
        }
        let c = if self.lowest != NIL && self.classes[self.lowest as usize].freq == 1 {
            self.lowest
        } else {
            self.new_class(1, NIL, self.lowest)
        };
        self.place(slot, c);
    }

    fn touch(&mut self, slot: Slot, _: &Access) {
        let c = self.unlink_slot(slot);
        let Class { freq, higher, .. } = self.classes[c as usize];
        let target = if higher != NIL && self.classes[higher as usize].freq == freq + 1 {
            higher
        } else {
            self.new_class(freq + 1, c, higher)
        };
        self.place(slot, target);
        self.drop_class_if_empty(c);
    }

    fn evict(&mut self, _: &Access) -> Slot {
        let c = self.lowest;
        assert!(c != NIL, "evict called on an empty cache");
        let slot = self.classes[c as usize]
            .entries
            .pop_front(&mut self.links)
            .expect("classes in the chain are never empty");
        self.drop_class_if_empty(c);
        slot
    }

    fn remove(&mut self, slot: Slot) {
        let c = self.unlink_slot(slot);
        self.drop_class_if_empty(c);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_lowest_count_then_oldest_at_that_count() {
        let mut p = Lfu::default();
        for s in 0..4 {
            p.insert(s, &Access::key(s));
        }
        // counts: 0 -> 3, 1 -> 1, 2 -> 2, 3 -> 1
        for s in [0, 0, 2] {
            p.touch(s, &Access::key(s));
        }
        assert_eq!((p.freq(0), p.freq(1), p.freq(2), p.freq(3)), (3, 1, 2, 1));
        assert_eq!(p.evict(&Access::key(9)), 1);
        assert_eq!(p.evict(&Access::key(9)), 3);
        // 2 reached count 2 before it is evicted ahead of 0 (count 3).
        p.insert(5, &Access::key(5));
        assert_eq!(p.evict(&Access::key(9)), 5);
        p.remove(2);
        assert_eq!(p.evict(&Access::key(9)), 0);
        assert_eq!(p.lowest, NIL);
    }
}
