//! Writes at run time: what a committed write does to each cache layer, and the
//! write-back layer's dirty keys.
//!
//! The strategies, invalidation scopes and their tables are in
//! [`crate::workload::write`], which owns the spec. This module owns the run's state
//! (under `write_back`: the writes accepted and not flushed, the dirty keys, each
//! key's durable version) and its decisions: what a commit does to a layer's copies
//! ([`Writes::apply`]), whether a read's fill may replace a copy, when a flush is due,
//! what a flush carries, what a crash loses. It does not know events or requests: the
//! engine schedules propagations and flush queries on its word.

use rustc_hash::{FxHashMap, FxHashSet};

use crate::SimTime;
use crate::layer::{Layer, WriteEffect};
use crate::workload::write::{Invalidation, OnCommit, WritePlan};

/// The write plan of a run and its write-back state.
pub(super) struct Writes {
    /// What a committed write does to each cache layer's copy.
    pub on_commit: OnCommit,
    /// Whether a write also stores its new version in every cache layer.
    pub stores: bool,
    /// Whether a read's fill must not replace a newer version (`write_through`).
    pub guard_fills: bool,
    /// `versioned_keys`: copies of outdated versions are never read.
    pub versioned: bool,
    /// `tag_purge`: the number of tags.
    tags: u32,
    /// `write_back` state, if the strategy is on.
    back: Option<Box<WriteBack>>,
}

/// The write-back layer's bookkeeping (`write_back`, see [`crate::workload::write`]).
#[derive(Debug)]
struct WriteBack {
    /// The write-back layer: the innermost cache layer.
    layer: usize,
    /// A flush starts as soon as this many writes are pending.
    flush_batch: u64,
    /// Time between timed flushes.
    flush_interval: SimTime,
    /// Writes accepted since the last flush.
    pending: u64,
    /// Keys with unflushed writes, in the order they became dirty.
    dirty: Vec<u32>,
    dirty_set: FxHashSet<u32>,
    /// The durable version of each key whose latest accepted version has not reached the
    /// database (pending or lost): a read at the database reads this one.
    durable: FxHashMap<u32, u32>,
}

/// What a committed write did to a layer's copies, for the counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Applied {
    /// A copy was orphaned (`versioned_keys`).
    pub orphaned: bool,
    /// Copies purged with the key's tag (`tag_purge`).
    pub purged: u64,
}

/// A flush: the dirty keys, each to go to the database as one write query.
pub(super) struct Flush {
    /// The keys, in the order they became dirty; hand the list back with
    /// [`Writes::flushing_done`].
    pub keys: Vec<u32>,
    /// The writes they carry.
    pub writes: u64,
}

impl Writes {
    /// The plan's writes over `caches` cache layers.
    pub fn new(plan: &WritePlan, caches: usize) -> Self {
        Writes {
            on_commit: plan.on_commit(),
            stores: plan.stores(),
            guard_fills: plan.stores(),
            versioned: plan.invalidation == Invalidation::VersionedKeys,
            tags: plan.tags,
            back: plan.write_back.map(|wb| {
                Box::new(WriteBack {
                    layer: caches - 1,
                    flush_batch: u64::from(wb.flush_batch),
                    flush_interval: wb.flush_interval,
                    pending: 0,
                    dirty: Vec::new(),
                    dirty_set: FxHashSet::default(),
                    durable: FxHashMap::default(),
                })
            }),
        }
    }

    /// The write-back layer, if writes go to one.
    #[inline]
    pub fn write_back(&self) -> Option<usize> {
        self.back.as_ref().map(|wb| wb.layer)
    }

    /// `write_back`: the time between timed flushes.
    pub fn flush_interval(&self) -> Option<SimTime> {
        self.back.as_ref().map(|wb| wb.flush_interval)
    }

    /// A read's fill of `version` finds `resident` there: whether it must leave it (a
    /// write stored a newer version, which a read's fill does not undo).
    #[inline]
    pub fn keeps_newer(resident: Option<u32>, version: u32) -> bool {
        resident.is_some_and(|v| v.wrapping_sub(version) as i32 > 0)
    }

    /// A committed write to `key` reaches `layer` at `now`: deletes, orphans or purges
    /// its copies by the plan (storing the new version is [`Self::store`]'s). Keys
    /// `0..real_keys` exist.
    pub fn apply(&self, layer: &mut Layer, key: u32, now: SimTime, real_keys: u32) -> Applied {
        let mut applied = Applied::default();
        match self.on_commit {
            OnCommit::Nothing | OnCommit::Store => {}
            OnCommit::Delete => layer.on_write(key, WriteEffect::Delete, now),
            OnCommit::Orphan => applied.orphaned = layer.orphan(key),
            OnCommit::PurgeTag => {
                let mut k = key % self.tags;
                while k < real_keys {
                    applied.purged += u64::from(layer.invalidate(k));
                    k += self.tags;
                }
            }
        }
        applied
    }

    /// Stores `version` of `key` (`size` bytes) in `layer` at `now` for a write, except
    /// on the nodes in `down`: a node down by itself does not take the write.
    pub fn store(
        layer: &mut Layer,
        key: u32,
        version: u32,
        size: u32,
        now: SimTime,
        down: impl Iterator<Item = u32>,
    ) {
        layer.on_write(key, WriteEffect::Store { version, size }, now);
        down.for_each(|n| layer.invalidate_at(n, key));
    }

    /// `write_back`: the layer accepted a write moving `key` from its `durable` version
    /// on. Returns whether a flush is due now (a full batch).
    pub fn accept(&mut self, key: u32, durable: u32) -> bool {
        let wb = self.back.as_mut().expect("write_back");
        wb.durable.entry(key).or_insert(durable);
        wb.pending += 1;
        if wb.dirty_set.insert(key) {
            wb.dirty.push(key);
        }
        wb.pending >= wb.flush_batch
    }

    /// `write_back`: whether keys are still dirty.
    pub fn has_dirty(&self) -> bool {
        self.back.as_ref().is_some_and(|wb| !wb.dirty.is_empty())
    }

    /// `write_back`: a flush starts, taking every dirty key (none if none is dirty).
    pub fn flush(&mut self) -> Option<Flush> {
        let wb = self.back.as_mut().expect("write_back");
        if wb.dirty.is_empty() {
            return None;
        }
        let writes = wb.pending;
        wb.pending = 0;
        let keys = std::mem::take(&mut wb.dirty);
        wb.dirty_set.clear();
        Some(Flush { keys, writes })
    }

    /// `write_back`: the flush's queries are sent; its key list comes back for reuse.
    pub fn flushing_done(&mut self, mut keys: Vec<u32>) {
        keys.clear();
        let wb = self.back.as_mut().expect("write_back");
        if wb.dirty.is_empty() {
            wb.dirty = keys;
        }
    }

    /// `write_back`: a flush query carrying `version` of `key` committed, the database
    /// being at `latest`: it now holds that version durably.
    #[cold]
    pub fn flushed(&mut self, key: u32, version: u32, latest: u32) {
        let wb = self.back.as_mut().expect("write_back");
        if let Some(d) = wb.durable.get_mut(&key) {
            if version.wrapping_sub(*d) as i32 > 0 {
                *d = version;
            }
            if *d == latest {
                wb.durable.remove(&key);
            }
        }
    }

    /// A write to `key` committed at the database around the write-back layer (down,
    /// with fallback): the database holds the latest version.
    #[inline]
    pub fn committed_around(&mut self, key: u32) {
        if let Some(wb) = self.back.as_mut() {
            wb.durable.remove(&key);
        }
    }

    /// The version of `key` the database holds, if the write-back layer holds a later
    /// one (pending or lost).
    #[inline]
    pub fn durable(&self, key: u32) -> Option<u32> {
        self.back.as_ref()?.durable.get(&key).copied()
    }

    /// Cache layer `layer` crashed: if it is the write-back layer, its unflushed writes
    /// are lost. Returns how many.
    pub fn crashed(&mut self, layer: usize) -> Option<u64> {
        let wb = self.back.as_mut().filter(|wb| wb.layer == layer)?;
        let lost = wb.pending;
        wb.pending = 0;
        wb.dirty.clear();
        wb.dirty_set.clear();
        Some(lost)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::write::{WriteBack as FlushPlan, WriteStrategy};

    fn write_back(batch: u32) -> Writes {
        let mut plan = WritePlan::new(WriteStrategy::WriteBack, None);
        plan.write_back = Some(FlushPlan {
            flush_interval: SimTime::from_secs_f64(1.0),
            flush_batch: batch,
        });
        Writes::new(&plan, 3)
    }

    #[test]
    fn write_back_batches_dirty_keys_and_tracks_durable_versions() {
        let mut w = write_back(3);
        assert_eq!(w.write_back(), Some(2), "the innermost layer");
        assert!(!w.accept(7, 0));
        assert!(!w.accept(7, 1), "a key dirty twice is one dirty key");
        assert_eq!(w.durable(7), Some(0), "the database still holds version 0");
        assert!(w.accept(9, 4), "the third write fills the batch");
        let flush = w.flush().unwrap();
        assert_eq!(
            (flush.keys.as_slice(), flush.writes),
            ([7, 9].as_slice(), 3)
        );
        assert!(!w.has_dirty() && w.flush().is_none());
        w.flushing_done(flush.keys);
        w.flushed(7, 2, 2);
        assert_eq!(w.durable(7), None, "durable at the latest version");
        w.flushed(9, 5, 6);
        assert_eq!(w.durable(9), Some(5), "a later write is still pending");
    }

    #[test]
    fn a_crash_loses_only_the_write_back_layers_pending_writes() {
        let mut w = write_back(10);
        w.accept(1, 0);
        w.accept(2, 0);
        assert_eq!(w.crashed(0), None, "not the write-back layer");
        assert_eq!(w.crashed(2), Some(2));
        assert!(!w.has_dirty());
        assert_eq!(
            w.durable(1),
            Some(0),
            "the lost write never reached the database"
        );
    }

    #[test]
    fn a_reads_fill_keeps_a_newer_version_across_wraparound() {
        assert!(Writes::keeps_newer(Some(5), 4));
        assert!(!Writes::keeps_newer(Some(4), 4));
        assert!(!Writes::keeps_newer(None, 4));
        assert!(
            Writes::keeps_newer(Some(1), u32::MAX),
            "version 1 follows u32::MAX"
        );
    }
}
