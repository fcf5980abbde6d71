//! Simulated requests per second on the quickstart path: 1M keys under Zipf 0.9, an
#![allow(missing_docs)] // criterion_group! generates undocumented items
//! in-process LRU of 10k entries, a Redis LRU of 100k, then the database; one thread,
//! seeded, so every sample simulates exactly the same requests.
//!
//! Two benchmarks per workload group:
//! - `setup`: `Engine::new` alone (the Zipf alias table over 1M keys, the dense cache
//!   indexes), paid once per run whatever its length;
//! - `run`: the event loop for `REQUESTS` requests, setup excluded (`iter_batched`), with
//!   element throughput = simulated requests.
//!
//! Run with `cargo bench --bench engine`; it takes about two minutes.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use tiersim::engine::Engine;
use tiersim::scenario::{Override, Plan, Source};

/// Requests simulated per sample, warm-up included (the quickstart's 10% warm-up).
const REQUESTS: u64 = 1_000_000;

fn plan(extra: &[&str]) -> Plan {
    let mut set = vec![
        format!("requests={REQUESTS}"),
        format!("warmup_requests={}", REQUESTS / 10),
    ];
    set.extend(extra.iter().map(|s| s.to_string()));
    let set: Vec<Override> = set
        .iter()
        .map(|s| Override::parse(s).expect("valid override"))
        .collect();
    Source::quickstart().plan(&set).expect("valid scenario").1
}

fn quickstart(c: &mut Criterion) {
    let plan = plan(&[]);
    assert_eq!(plan.workload.keys, 1_000_000);
    assert_eq!(plan.caches.len(), 2);
    let mut g = c.benchmark_group("zipf0.9_keys1M");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(3))
        .measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(REQUESTS));
    g.bench_function("run", |b| {
        b.iter_batched(
            || Engine::new(&plan),
            |engine| black_box(engine.run(|_| {})),
            BatchSize::LargeInput,
        )
    });
    g.throughput(Throughput::Elements(1));
    g.measurement_time(Duration::from_secs(10));
    g.bench_function("setup", |b| b.iter(|| black_box(Engine::new(&plan))));
    g.finish();
}

criterion_group!(benches, quickstart);
criterion_main!(benches);
