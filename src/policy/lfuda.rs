//! LFUDA: LFU with dynamic aging. Priority `L + frequency`, where `L` is the last victim's
//! priority, so an object popular long ago cannot stay forever.
//!
//! Arlitt, Cherkasova, Dilley, Friedrich and Jin, "Evaluating content management
//! techniques for Web proxy caches", ACM SIGMETRICS Performance Evaluation Review, 2000
//! (as in Squid's heap LFUDA). Unlike GDSF the key ignores size; with byte capacities the
//! cache still evicts until the new object fits. Ties go to the entry whose priority was
//! set first.
//!
//! libCacheSim's `LFUDA.c` differs, by a bug rather than a choice, and its miss counts
//! are not a reference here: a hit adds the current minimum priority to the entry's
//! priority (`freq += min_freq`) instead of one to its count, so before the first
//! eviction hits change nothing and afterwards priorities grow geometrically. Finding
//! the next minimum scans every integer between the minimum and the maximum priority
//! (`update_min_freq`), so on cloudPhysicsIO at 100 entries it never finishes (the scan
//! passes 10⁷ integers by request 51,345); elsewhere a model of those rules reproduces
//! its counts exactly (94,145 misses at 1,000 entries against 94,176 here).
//!
//! It sees slots and accesses only, as every policy does (see [`crate::policy`]): not the
//! cache that owns the slots, nor layers, requests or the engine.

use super::greedy_dual::GreedyDual;

/// LFUDA over an indexed heap, 24 bytes per entry.
pub type Lfuda = GreedyDual<false>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Access, BuildPolicy, Capacity, NoConfig, Policy};

    #[test]
    fn aging_lets_new_entries_overtake_old_favourites() {
        let mut p = Lfuda::build(&NoConfig {}, Capacity::entries(2), 0);
        p.insert(0, &Access::key(0));
        for _ in 0..2 {
            p.touch(0, &Access::key(0)); // priority 3
        }
        p.insert(1, &Access::key(1)); // 1
        assert_eq!(p.evict(&Access::key(2)), 1);
        assert_eq!(p.inflation(), 1.0);
        p.insert(1, &Access::key(2)); // 1 + 1 = 2
        p.touch(1, &Access::key(2)); // 1 + 2 = 3, set after 0's 3
        assert_eq!(p.evict(&Access::key(3)), 0);
        assert_eq!(p.inflation(), 3.0);
    }
}
