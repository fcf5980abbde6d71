//! Replay speed: a 10M-request Zipf(1.0) trace over 1M objects in `oracle_general` format,
//! count-based capacities of 0.1%, 1% and 10% of the objects, one thread, wall clock
//! including reading and decoding the trace and mapping its ids.
//!
//! The trace is generated once (seeded) into `target/bench-traces/` by
//! `tiersim::trace::generate_zipf_oracle` (`benches/common/bench_trace.rs`). Run with
//! `cargo bench --bench replay -- --noplot` (filter, e.g. `-- lru/`); throughput is in
//! requests/s. `cargo bench --bench replay_speed` is a quicker check that also prints
//! requests per CPU-second and the miss counts.
//!
//! Reference, millions of requests/s, wall clock, 2-core AMD EPYC VM, load average about 1
//! (this process), with software prefetch: `replay_speed`, medians of 5 runs per point;
//! and this bench, criterion's estimate, taken minutes apart in a faster phase of the
//! shared host (every policy ran faster then: compare within a column, not across):
//!
//! | policy | 0.1% median | criterion | 1% median | criterion | 10% median | criterion |
//! |---|---|---|---|---|---|---|
//! | lru | 15.7 | 24.5 | 13.4 | 22.7 | 15.8 | 19.4 |
//! | fifo | 14.3 | 26.2 | 11.3 | 25.8 | 15.2 | 24.3 |
//! | clock | 16.1 | 23.5 | 18.0 | 21.5 | 17.3 | 21.7 |
//! | sieve | 24.8 | 26.9 | 27.9 | 30.4 | 22.4 | 24.9 |
//! | arc | 13.1 | 14.2 | 14.5 | 14.6 | 9.0 | 11.1 |
//! | s3fifo | 13.9 | 14.7 | 11.4 | 14.7 | 8.3 | 13.0 |
//! | wtinylfu | 12.7 | 14.0 | 13.2 | 14.4 | 10.7 | 11.2 |
//! | lirs | 13.6 | 13.1 | 10.7 | 12.2 | 7.0 | 11.7 |
//! | 2q | 13.7 | 16.5 | 9.0 | 15.0 | 6.9 | 9.5 |
//!
//! Misses at 0.1% / 1% / 10%, a regression reference (a change here is a change of
//! behaviour, not of speed): lru 5,966,527 / 4,148,150 / 2,231,212; fifo 6,329,110 /
//! 4,497,242 / 2,527,509; clock 5,859,551 / 4,051,626 / 2,164,217; sieve 4,909,116 /
//! 3,420,300 / 1,902,196; arc 4,967,936 / 3,402,861 / 1,901,257; s3fifo 4,947,073 /
//! 3,375,949 / 1,873,525; wtinylfu 5,019,874 / 3,425,226 / 1,948,159; lirs 5,109,654 /
//! 3,513,097 / 1,930,549; 2q 5,096,289 / 3,514,275 / 1,991,055.
//!
//! The figures before the id table, the ghost arena and software prefetch, and how each
//! change was measured: `docs/performance.md`, "Benchmarks".

// criterion_group! generates undocumented functions.
#![allow(missing_docs)]

/// As in the `tiersim` binary: large blocks in huge pages (see `tiersim::mem::hugepages`).
#[global_allocator]
static ALLOC: tiersim::mem::hugepages::HugePages = tiersim::mem::hugepages::HugePages;

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use tiersim::policy::PolicySpec;
use tiersim::replay::ReplayJob;

#[path = "common/bench_trace.rs"]
mod bench_trace;
use bench_trace::{OBJECTS, REQUESTS, zipf_trace};

fn bench(c: &mut Criterion) {
    let (src, _) = zipf_trace();
    let mut g = c.benchmark_group("zipf1.0_10M_over_1M");
    g.throughput(Throughput::Elements(REQUESTS));
    g.sample_size(10);
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(5));
    for policy in [
        "lru", "fifo", "clock", "sieve", "arc", "s3fifo", "wtinylfu", "lirs", "2q",
    ] {
        let spec = PolicySpec::from_name(policy).unwrap();
        for size in [OBJECTS / 1000, OBJECTS / 100, OBJECTS / 10] {
            let job = ReplayJob::new(src.clone(), spec.clone(), size);
            g.bench_with_input(BenchmarkId::new(policy, size), &job, |b, job| {
                b.iter(|| job.run().unwrap())
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
