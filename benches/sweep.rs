//! Sweep throughput: 16 points of the app-tier scenario with `--jobs 1` and `--jobs 2`,
//! in one criterion run so the two are compared as a ratio on the same machine state.
//!
//! `cargo bench --bench sweep`. Each point runs 200,000 requests of the app_tier
//! scenario (TTL x policy x Redis capacity, 2 x 2 x 4 points).

#![allow(missing_docs)] // criterion_group! generates undocumented items

/// As in the `tiersim` binary: large blocks in huge pages (see `tiersim::mem::hugepages`).
#[global_allocator]
static ALLOC: tiersim::mem::hugepages::HugePages = tiersim::mem::hugepages::HugePages;

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use tiersim::scenario::{Override, Source};
use tiersim::sweep::{Axis, Sweep};

fn sweep_16_points(c: &mut Criterion) {
    let mut group = c.benchmark_group("sweep_quickstart_16_points");
    group.sample_size(10);
    group.throughput(Throughput::Elements(16));
    for jobs in [1usize, 2] {
        group.bench_function(format!("jobs_{jobs}"), |b| {
            b.iter(|| {
                let dir = tempfile::tempdir().unwrap();
                let sweep = Sweep::new(
                    Source::app_tier(),
                    vec![
                        Override::parse("requests=200000").unwrap(),
                        Override::parse("warmup_requests=20000").unwrap(),
                    ],
                    vec![
                        Axis::parse("layers.redis.ttl_s=60,300").unwrap(),
                        Axis::parse("layers.redis.policy=lru,fifo").unwrap(),
                        Axis::parse("layers.redis.capacity=10000..1000000 log 4").unwrap(),
                    ],
                    Some(1),
                    None,
                )
                .unwrap();
                black_box(sweep.run(dir.path(), jobs, false, &|| {}).unwrap())
            })
        });
    }
    group.finish();
}

// Criterion's own charts need system fonts, which a bare machine lacks: text reports only.
criterion_group! {
    name = benches;
    config = Criterion::default().without_plots();
    targets = sweep_16_points
}
criterion_main!(benches);
