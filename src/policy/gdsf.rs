//! GDSF: Greedy-Dual-Size-Frequency. Priority `L + frequency / size`: small and popular
//! objects stay; `L`, the last victim's priority, ages everything resident.
//!
//! Cherkasova, "Improving WWW proxies performance with Greedy-Dual-Size-Frequency
//! caching policy", HP Labs HPL-98-69, 1998. Cost is 1 per object (hit ratio, not byte
//! hit ratio, is the goal); frequency counts requests while resident, starting at 1.
//! Ties go to the entry whose priority was set first.
//!
//! The details follow libCacheSim's `GDSF.cpp`, so miss counts agree: priorities are
//! `L + frequency × 10⁶ / size` in that order of operations, and a miss stores the new
//! object *before* evicting, so it competes with the residents at the priority `L` gave
//! it before this miss's evictions, and may be the victim itself. Then it is not stored
//! ([`BYPASS`](super::BYPASS)) and `L` becomes its priority; residents evicted before it
//! stay evicted. Evicting first instead gave the new object the raised `L` and never
//! refused it: on cloudPhysicsIO, 63 fewer misses than libCacheSim at 100 entries.
//!
//! It sees slots and accesses only, as every policy does (see [`crate::policy`]): not the
//! cache that owns the slots, nor layers, requests or the engine.

use super::greedy_dual::GreedyDual;

/// GDSF over an indexed heap, 24 bytes per entry.
pub type Gdsf = GreedyDual<true>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::{Access, BYPASS, BuildPolicy, Capacity, NoConfig, Policy};

    #[test]
    fn large_objects_leave_first_and_inflation_ages() {
        let mut p = Gdsf::build(&NoConfig {}, Capacity::entries(4), 0);
        p.insert(0, &Access::sized(0, 100)); // 10⁴
        p.insert(1, &Access::sized(1, 10)); // 10⁵
        p.insert(2, &Access::sized(2, 50)); // 2·10⁴
        p.touch(0, &Access::sized(0, 100)); // 2·10⁴, set after 2's
        assert_eq!(p.evict(&Access::sized(3, 1)), 2);
        assert_eq!(p.inflation(), 20_000.0);
        p.insert(2, &Access::sized(3, 1)); // 10⁶, from L before the eviction: not 2·10⁴ + 10⁶
        assert_eq!(p.evict(&Access::sized(4, 1)), 0);
        assert_eq!(p.evict(&Access::sized(4, 1)), 1);
        assert_eq!(p.evict(&Access::sized(4, 1)), 2);
    }

    #[test]
    fn a_new_object_below_every_resident_is_not_stored() {
        let mut p = Gdsf::build(&NoConfig {}, Capacity::entries(4), 0);
        p.insert(0, &Access::sized(0, 10)); // 10⁵
        p.insert(1, &Access::sized(1, 20)); // 5·10⁴
        // 100 bytes: 10⁴, below both: it is its own victim, and sets L.
        assert_eq!(p.evict(&Access::sized(2, 100)), BYPASS);
        assert_eq!(p.inflation(), 10_000.0);
        // 25 bytes: 4·10⁴ + L = 5·10⁴ ties with 1's, which was set first and goes.
        assert_eq!(p.evict(&Access::sized(3, 25)), 1);
        assert_eq!(p.inflation(), 50_000.0);
        // Its priority came from L before that eviction: 5·10⁴, not 9·10⁴.
        p.insert(1, &Access::sized(3, 25));
        assert_eq!(p.evict(&Access::sized(4, 1)), 1);
        assert_eq!(p.evict(&Access::sized(4, 1)), 0);
    }
}
