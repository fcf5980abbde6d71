//! Property tests of the cache store on random operation sequences.

use std::collections::VecDeque;

use proptest::prelude::*;
use tiersim::SimTime;
use tiersim::policy::PolicySpec;
use tiersim::store::cache::{Cache, Fill, IndexKind, Lookup};

#[derive(Clone, Debug)]
enum Op {
    /// Look the key up at the current time; fill it on a miss with this TTL (ns).
    Read {
        key: u32,
        ttl: u64,
    },
    Invalidate {
        key: u32,
    },
    /// Advance the clock.
    Wait {
        ns: u64,
    },
}

/// Keys `0..n` of the operations scattered over a key space of `1 << 20`.
fn scattered(key: u32) -> u32 {
    key.wrapping_mul(40_503) % (1 << 20)
}

/// Reads (with TTLs below `max_ttl`), invalidations and waits over `keys` keys.
fn ops_over(keys: u32, max_ttl: u64, len: usize) -> impl Strategy<Value = Vec<Op>> {
    let op = prop_oneof![
        6 => (0..keys, 1..max_ttl).prop_map(|(key, ttl)| Op::Read { key, ttl }),
        1 => (0..keys).prop_map(|key| Op::Invalidate { key }),
        2 => (1u64..60).prop_map(|ns| Op::Wait { ns }),
    ];
    proptest::collection::vec(op, 1..len)
}

/// Operations on 160 keys, long enough for a small hash index to be rebuilt often.
fn many_key_ops() -> impl Strategy<Value = Vec<Op>> {
    ops_over(160, 400, 1500)
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    ops_over(24, 200, 400)
}

/// A reference LRU with TTL: a vector from least to most recently used.
#[derive(Default)]
struct NaiveLru {
    entries: VecDeque<(u32, u64)>,
}

impl NaiveLru {
    /// A read of `key` at `now`: whether a fresh copy is resident (it becomes the most
    /// recent); an expired one is dropped.
    fn read(&mut self, key: u32, now: u64) -> bool {
        match self.entries.iter().position(|&(k, _)| k == key) {
            Some(p) if self.entries[p].1 > now => {
                let e = self.entries.remove(p).unwrap();
                self.entries.push_back(e);
                true
            }
            Some(p) => {
                self.entries.remove(p);
                false
            }
            None => false,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// For every policy: occupancy never exceeds capacity, an expired entry is never
    /// served, and a hit always returns the version last filled.
    #[test]
    fn store_invariants_hold_for_every_policy(ops in ops(), capacity in 1u32..10) {
        for name in PolicySpec::NAMES {
            let mut cache = Cache::new(capacity, 24, PolicySpec::from_name(name).unwrap().build(capacity as usize, 9));
            let mut now = 0u64;
            // What was last filled for each key: (version, expiry).
            let mut truth = [None::<(u32, u64)>; 24];
            let mut version = 0u32;
            for op in &ops {
                match *op {
                    Op::Read { key, ttl } => match (cache.len(), cache.get(key, SimTime::from_nanos(now))) {
                        (before, Lookup::Hit { version: v, expires, evicted }) => {
                            // A hit that evicts (a promotion overflowing a segment) says so.
                            prop_assert_eq!(before - cache.len(), evicted, "{}: uncounted eviction on a hit", name);
                            let (tv, te) = truth[key as usize].expect("a hit on a key never filled");
                            prop_assert_eq!(v, tv, "{}: stale version", name);
                            prop_assert!(te > now && expires.as_nanos() == te, "{}: expired entry served", name);
                        }
                        (_, Lookup::Miss | Lookup::Expired) => {
                            version += 1;
                            let exp = now + ttl;
                            if cache.fill(key, version, SimTime::from_nanos(exp)) != Fill::Rejected {
                                truth[key as usize] = Some((version, exp));
                            }
                        }
                    },
                    Op::Invalidate { key } => {
                        cache.invalidate(key);
                        prop_assert!(!cache.contains(key));
                    }
                    Op::Wait { ns } => now += ns,
                }
                prop_assert!(cache.len() <= capacity, "{}: {} entries > {}", name, cache.len(), capacity);
            }
        }
    }

    /// LRU with lazy expiry hits and misses exactly like a naive list model.
    #[test]
    fn lru_matches_a_naive_model(ops in ops(), capacity in 1u32..10) {
        let mut cache = Cache::new(capacity, 24, PolicySpec::from_name("lru").unwrap().build(capacity as usize, 0));
        let mut naive = NaiveLru::default();
        let mut now = 0u64;
        for op in &ops {
            match *op {
                Op::Read { key, ttl } => {
                    let naive_hit = naive.read(key, now);
                    let hit = matches!(cache.get(key, SimTime::from_nanos(now)), Lookup::Hit { .. });
                    prop_assert_eq!(hit, naive_hit);
                    if !hit {
                        if naive.entries.len() == capacity as usize {
                            naive.entries.pop_front();
                        }
                        naive.entries.push_back((key, now + ttl));
                        cache.fill(key, 0, SimTime::from_nanos(now + ttl));
                    }
                }
                Op::Invalidate { key } => {
                    naive.entries.retain(|&(k, _)| k != key);
                    cache.invalidate(key);
                }
                Op::Wait { ns } => now += ns,
            }
            prop_assert_eq!(cache.len() as usize, naive.entries.len());
        }
    }

    /// A small cache over a large key space (a hash index, stale buckets and rebuilds)
    /// hits, misses and holds exactly what a naive LRU does, for LRU and for the other
    /// policies' occupancy; the same cache forced to a dense index agrees call by call.
    #[test]
    fn hashed_index_matches_a_naive_model(ops in many_key_ops(), capacity in 1u32..48) {
        let lru = || PolicySpec::from_name("lru").unwrap().build(capacity as usize, 0);
        let mut cache = Cache::new(capacity, 1 << 20, lru());
        prop_assert_eq!(cache.index_kind(), IndexKind::Hashed);
        let mut dense = Cache::new(capacity, 1 << 20, lru());
        dense.set_index_kind(IndexKind::Dense);
        let mut naive = NaiveLru::default();
        let mut now = 0u64;
        for op in &ops {
            match *op {
                Op::Read { key, ttl } => {
                    let key = scattered(key);
                    let naive_hit = naive.read(key, now);
                    let got = cache.get(key, SimTime::from_nanos(now));
                    prop_assert_eq!(got, dense.get(key, SimTime::from_nanos(now)));
                    prop_assert_eq!(matches!(got, Lookup::Hit { .. }), naive_hit);
                    if !naive_hit {
                        if naive.entries.len() == capacity as usize {
                            naive.entries.pop_front();
                        }
                        naive.entries.push_back((key, now + ttl));
                        let exp = SimTime::from_nanos(now + ttl);
                        let filled = cache.fill(key, 0, exp);
                        prop_assert_eq!(filled, dense.fill(key, 0, exp));
                    }
                }
                Op::Invalidate { key } => {
                    let key = scattered(key);
                    naive.entries.retain(|&(k, _)| k != key);
                    let was = cache.invalidate(key);
                    prop_assert_eq!(was, dense.invalidate(key));
                    prop_assert!(!cache.contains(key));
                }
                Op::Wait { ns } => now += ns,
            }
            prop_assert_eq!(cache.len() as usize, naive.entries.len());
        }
        for key in (0..160).map(scattered) {
            let resident = naive.entries.iter().any(|&(k, _)| k == key);
            prop_assert_eq!(cache.contains(key), resident, "key {}", key);
        }
        prop_assert_eq!(cache.index_kind(), IndexKind::Hashed);
    }
}
