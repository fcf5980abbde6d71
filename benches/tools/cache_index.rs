//! Dense against hashed key index (`tiersim::store::cache::IndexKind`) of one LRU cache, by
//! capacity share of the key space: nanoseconds per request (a lookup, and a fill on a
//! miss) under Zipf 0.9 keys, the hottest scattered over the key space. Several
//! caches of the key space run side by side (`NODES`), as the quickstart's nodes do,
//! so that one cache's index does not have the CPU caches to itself.
//!
//! `cargo bench --bench cache_index` (about a minute) prints one CSV row per key space and
//! share. The figures and the threshold they set (hash where a hash index is at most half
//! a dense one) are in `docs/performance.md`.

use std::time::Instant;

use tiersim::SimTime;
use tiersim::policy::PolicySpec;
use tiersim::store::cache::{Cache, IndexKind, Lookup};
use tiersim::workload::AliasTable;

const NODES: usize = 8;
const REQUESTS: usize = 4_000_000;

fn main() {
    let keys_grid = [10_000u32, 100_000, 1_000_000, 4_000_000];
    let shares = [0.001, 0.01, 0.05, 0.1, 0.2, 0.4];
    println!("keys,capacity,share,dense_ns,hashed_ns,hashed_over_dense,dense_MB,hashed_MB");
    for &keys in &keys_grid {
        let weights: Vec<f64> = (1..=keys).map(|r| (r as f64).powf(-0.9)).collect();
        let alias = AliasTable::new(&weights);
        let mut z = 7u64;
        let stream: Vec<(u32, u8)> = (0..REQUESTS)
            .map(|_| {
                z = tiersim::base::rng::mix64(z);
                let rank = alias.sample(z);
                // Scatter the ranks: an odd multiplier modulo the key space.
                let key = ((u64::from(rank) * 2_654_435_761) % u64::from(keys)) as u32;
                (key, (z >> 56) as u8 % NODES as u8)
            })
            .collect();
        for &share in &shares {
            let capacity = ((f64::from(keys) * share) as u32).max(16);
            let mut best = [f64::MAX; 2];
            let mut bytes = [0usize; 2];
            for _round in 0..3 {
                for (k, kind) in [IndexKind::Dense, IndexKind::Hashed]
                    .into_iter()
                    .enumerate()
                {
                    let mut nodes: Vec<Cache> = (0..NODES)
                        .map(|n| {
                            let p = PolicySpec::from_name("lru")
                                .unwrap()
                                .build(capacity as usize, n as u64);
                            let mut c = Cache::new(capacity, keys, p);
                            c.set_index_kind(kind);
                            c
                        })
                        .collect();
                    let t = Instant::now();
                    let mut hits = 0u64;
                    for (i, &(key, node)) in stream.iter().enumerate() {
                        let c = &mut nodes[node as usize];
                        let now = SimTime::from_nanos(i as u64);
                        match c.get(key, now) {
                            Lookup::Hit { .. } => hits += 1,
                            _ => {
                                c.fill(key, 0, SimTime::NEVER);
                            }
                        }
                    }
                    let ns = t.elapsed().as_nanos() as f64 / REQUESTS as f64;
                    std::hint::black_box(hits);
                    best[k] = best[k].min(ns);
                    bytes[k] = nodes.iter().map(Cache::index_bytes).sum();
                }
            }
            println!(
                "{keys},{capacity},{share},{:.1},{:.1},{:.2},{:.1},{:.1}",
                best[0],
                best[1],
                best[1] / best[0],
                bytes[0] as f64 / 1e6,
                bytes[1] as f64 / 1e6
            );
        }
    }
}
