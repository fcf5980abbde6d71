//! The fill protocol, written once for every store: scenario nodes
//! ([`Cache`](super::cache::Cache)), browsers ([`Browsers`](super::browser::Browsers)) and
//! trace replay.
//!
//! On a fill of an absent key: an object larger than the whole store is refused; a
//! policy that [makes room](Policy::makes_room) itself decides what leaves and whether
//! the key enters; otherwise the policy may refuse the key ([`Policy::admit`]), and then
//! victims leave one by one until the object fits, unless the policy ranks it below them
//! all on the way ([`BYPASS`]). After every policy call that may evict, the slots the
//! policy evicted of its own accord ([`Policy::take_evicted`]) are freed.
//!
//! A store says where its slots, their contents and their budget live by implementing
//! [`Slots`]; the protocol is generic over it and over the policy, so each pair compiles
//! to its own code, with no dispatch per request. It knows slots, sizes and the
//! [`Policy`] trait; not keys, indexes, expiry or layers, which are the stores' own.

use crate::SimTime;
use crate::policy::{Access, BYPASS, Policy, Slot};

/// The result of a lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lookup {
    /// A fresh copy is resident.
    Hit {
        /// The origin version the copy holds.
        version: u32,
        /// When the copy expires.
        expires: SimTime,
        /// Entries the policy evicted of its own accord as it took the hit: a segment
        /// it promoted the copy into overflowed (SLRU or W-TinyLFU in a cache sized in
        /// bytes, LIRS's `libcachesim` variant). Usually 0.
        evicted: u32,
    },
    /// No copy is resident.
    Miss,
    /// A copy was resident but expired; it has been removed.
    Expired,
}

/// The result of a fill.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fill {
    /// The key was absent and is now resident.
    Inserted {
        /// Entries evicted to make room: 0 or 1, or more in a cache sized in bytes.
        evicted: u32,
    },
    /// The key was resident; its copy was overwritten.
    Updated {
        /// Entries the policy evicted of its own accord as it touched the key (see
        /// [`Lookup::Hit`]'s `evicted`).
        evicted: u32,
    },
    /// The store or the policy declined the key (too large, or not admitted); nothing
    /// changed.
    Rejected,
    /// The policy evicted `evicted` entries, then gave up on the key: it ranked it below
    /// every resident one ([`BYPASS`]), or made room and still declined it. It was not
    /// stored.
    Bypassed {
        /// Entries evicted before the policy gave up on the key.
        evicted: u32,
    },
}

impl Fill {
    /// Entries this fill evicted.
    pub fn evicted(self) -> u32 {
        match self {
            Fill::Inserted { evicted } | Fill::Bypassed { evicted } | Fill::Updated { evicted } => {
                evicted
            }
            Fill::Rejected => 0,
        }
    }
}

/// Where a store's slots, their contents and their budget live: what the protocol needs
/// of a store. Sizes are in the unit of [`Access::size`], the unit the policy counts in.
pub trait Slots {
    /// The policy that orders the slots.
    type Policy: Policy;
    /// What a fill writes into a slot.
    type Item;

    /// The policy.
    fn policy(&mut self) -> &mut Self::Policy;
    /// Whether the policy [makes room](Policy::makes_room) itself (a store may have
    /// asked once and kept the answer).
    fn makes_room(&self) -> bool;
    /// Whether an object of `size` can never fit: it is larger than the whole store.
    fn oversized(&self, size: u32) -> bool;
    /// Whether an object of `size` fits beside what is resident now.
    fn fits(&self, size: u32) -> bool;
    /// Frees `slot`, whose entry left (an eviction, a removal, an expiry), with its share
    /// of the budget.
    fn release(&mut self, slot: Slot);
    /// Frees `victim`, evicted to make room for a fill; returns it if the store reuses
    /// it in place for the incoming entry (then [`vacant`](Slots::vacant) is not
    /// called), `None` if it went back to the free slots. Only a store that one eviction
    /// always makes room in (every entry counting 1) may keep a victim for itself.
    #[inline]
    fn release_victim(&mut self, victim: Slot) -> Option<Slot> {
        self.release(victim);
        None
    }
    /// Called once the victims of a fill are out, before the new entry goes in: a
    /// chance to prefetch the next victim's state. The default does nothing.
    #[inline]
    fn evicted_for_fill(&mut self) {}
    /// A free slot for a new entry.
    fn vacant(&mut self) -> Slot;
    /// Writes `item` into the vacant `slot` and charges its size to the budget.
    fn occupy(&mut self, slot: Slot, item: Self::Item, access: &Access);
    /// Overwrites the resident `slot` with `item` (a fill of a resident key).
    fn overwrite(&mut self, slot: Slot, item: Self::Item, access: &Access);
}

/// Frees the slots the policy evicted of its own accord ([`Policy::take_evicted`]) and
/// says how many; nothing for the policies that never do.
#[inline(always)]
pub fn release_evicted<S: Slots>(s: &mut S) -> u32 {
    let mut n = 0;
    while let Some(slot) = s.policy().take_evicted() {
        s.release(slot);
        n += 1;
    }
    n
}

/// A hit on the resident `slot`: the policy is told, and whatever it evicts in turn is
/// freed. Returns how many entries that was.
#[inline(always)]
pub fn hit<S: Slots>(s: &mut S, slot: Slot, access: &Access) -> u32 {
    s.policy().touch(slot, access);
    release_evicted(s)
}

/// Removes the resident `slot` (expired, invalidated, deleted) from the policy and the
/// store.
#[inline(always)]
pub fn remove<S: Slots>(s: &mut S, slot: Slot) {
    s.policy().remove(slot);
    s.release(slot);
    release_evicted(s);
}

/// A fill of a key: an update of its `resident` slot if it has one, else
/// [`insert`].
#[inline(always)]
pub fn fill<S: Slots>(s: &mut S, resident: Option<Slot>, access: &Access, item: S::Item) -> Fill {
    match resident {
        Some(slot) => {
            s.overwrite(slot, item, access);
            Fill::Updated {
                evicted: hit(s, slot, access),
            }
        }
        None => insert(s, access, item),
    }
}

/// A fill of an absent key (see the module docs).
#[inline(always)]
pub fn insert<S: Slots>(s: &mut S, access: &Access, item: S::Item) -> Fill {
    if s.oversized(access.size) {
        return Fill::Rejected;
    }
    if s.makes_room() {
        return insert_made_room(s, access, item);
    }
    let full = !s.fits(access.size);
    if !s.policy().admit(access, full) {
        return Fill::Rejected;
    }
    let mut evicted = 0;
    let mut reused = None;
    if full {
        while !s.fits(access.size) {
            let victim = s.policy().evict(access);
            if victim == BYPASS {
                return Fill::Bypassed { evicted };
            }
            reused = s.release_victim(victim);
            evicted += 1 + release_evicted(s);
        }
        s.evicted_for_fill();
    }
    let slot = match reused {
        Some(slot) => slot,
        None => s.vacant(),
    };
    evicted += store(s, slot, access, item);
    Fill::Inserted { evicted }
}

/// [`insert`] for a policy that makes room itself: it evicts what it chooses and says
/// whether the key enters; the budget is its to keep.
#[cold]
fn insert_made_room<S: Slots>(s: &mut S, access: &Access, item: S::Item) -> Fill {
    let admitted = s.policy().make_room(access);
    let mut evicted = release_evicted(s);
    match (admitted, evicted) {
        (false, 0) => Fill::Rejected,
        (false, _) => Fill::Bypassed { evicted },
        (true, _) => {
            let slot = s.vacant();
            evicted += store(s, slot, access, item);
            Fill::Inserted { evicted }
        }
    }
}

/// Puts `item` in the vacant `slot` and tells the policy; returns how many entries the
/// policy evicted of its own accord as it took the new one in.
#[inline(always)]
fn store<S: Slots>(s: &mut S, slot: Slot, access: &Access, item: S::Item) -> u32 {
    s.occupy(slot, item, access);
    s.policy().insert(slot, access);
    release_evicted(s)
}
