//! Replay speed: a 10M-request Zipf(1.0) trace over 1M objects in `oracle_general` format,
//! count-based capacities of 0.1%, 1% and 10% of the objects, one thread, wall clock
//! including reading and decoding the trace and mapping its ids.
//!
//! The trace is generated once (seeded) into `target/bench-traces/` by
//! [`tiersim::trace::generate_zipf_oracle`]. Run with
//! `cargo bench --bench replay -- --noplot` (filter, e.g. `-- lru/`); throughput is in
//! requests/s. `cargo run --release --example replay_speed` is a quicker check that
//! also prints requests per CPU-second and the miss counts.
//!
//! Reference, millions of requests/s, medians of 3 runs of `replay_speed` on a 2-core
//! AMD EPYC VM, load average 0.5-1.0, before and after the id table, read-ahead and
//! per-policy loop (same session, interleaved; miss counts identical):
//!
//! | policy | 0.1% before | after | 1% before | after | 10% before | after |
//! |---|---|---|---|---|---|---|
//! | lru | 8.1 | 13.2 | 9.0 | 12.9 | 6.2 | 10.1 |
//! | fifo | 10.1 | 14.2 | 8.2 | 16.7 | 6.2 | 13.7 |
//! | clock | 10.5 | 10.3 | 10.1 | 10.8 | 8.6 | 13.4 |
//! | sieve | 9.9 | 19.3 | 9.2 | 20.3 | 9.1 | 16.1 |
//! | arc | 6.5 | 10.1 | 6.5 | 11.0 | 5.9 | 7.9 |
//! | s3fifo | 7.0 | 12.4 | 5.1 | 10.2 | 5.1 | 7.2 |
//! | wtinylfu | 7.3 | 11.7 | 6.6 | 11.3 | 4.4 | 7.7 |
//! | lirs | 3.6 | 6.7 | 3.8 | 5.7 | 3.4 | 7.2 |
//! | 2q | 5.3 | 11.6 | 5.8 | 8.6 | 5.4 | 8.7 |
//!
//! After the ghost arena (ARC, S3-FIFO, 2Q) and LIRS's state by slot instead of by key:
//! millions of requests/s, wall clock, medians of `replay_speed POLICY 1 SIZE` runs
//! alternating the previous build and this one point by point (5 pairs for the changed
//! policies, 3 for the unchanged ones, whose differences are this machine's noise: the
//! two cores were shared with other builds, load average 1.5 to 4, so absolute figures
//! are below the table above):
//!
//! | policy | 0.1% before | after | 1% before | after | 10% before | after |
//! |---|---|---|---|---|---|---|
//! | lirs | 4.8 | 9.0 | 4.6 | 8.4 | 5.3 | 6.8 |
//! | arc | 9.7 | 11.2 | 9.6 | 10.0 | 7.0 | 6.8 |
//! | s3fifo | 9.7 | 9.2 | 9.8 | 10.6 | 7.5 | 6.7 |
//! | 2q | 9.6 | 11.8 | 7.9 | 9.0 | 7.0 | 7.3 |
//! | lru (unchanged) | 8.5 | 9.0 | 6.4 | 7.6 | 5.3 | 6.0 |
//! | fifo (unchanged) | 10.5 | 10.0 | 8.3 | 7.0 | 9.8 | 9.4 |
//! | clock (unchanged) | 8.7 | 7.4 | 6.0 | 6.7 | 6.9 | 6.6 |
//! | sieve (unchanged) | 7.4 | 7.4 | 9.2 | 10.2 | 6.6 | 5.9 |
//! | wtinylfu (unchanged) | 5.4 | 6.0 | 4.8 | 5.7 | 3.7 | 3.3 |
//!
//! After software prefetch ([`tiersim::mem::prefetch`]: a block's id buckets prefetched a
//! block ahead, its slots' policy state just before it is processed, and an LRU's or
//! FIFO's next victim after an eviction), millions of requests/s, wall clock, same trace
//! and machine, load average about 1 (this process). `replay_speed`, medians of 5 runs
//! per point; and `cargo bench --bench replay`, criterion's estimate, taken minutes
//! apart in a faster phase of the shared host (every policy, changed or not, ran
//! faster then: compare within a column, not across). Miss counts unchanged:
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
//! Alternating the build before prefetch (d44fe09) and the first prefetching one
//! (two stages, no victim prefetch), `replay_speed` at 10%, four runs each (medians of
//! 1-3 repeats; one round of the old build overlapped a compile and is left out):
//! LRU 7.3, 9.6, 10.0 against 10.6, 11.2, 11.8, 9.1; ARC 5.8, 8.7, 5.3 against 10.7,
//! 9.2, 7.8, 8.7; S3-FIFO 6.8, 8.2, 6.1 against 9.1, 7.3, 8.3, 7.3; LIRS 6.4, 7.0, 5.0
//! against 8.1, 5.7, 11.0, 6.1; W-TinyLFU 8.9, 9.0, 6.9 against 10.4, 9.1, 11.3, 8.5.
//! The victim prefetch then moved LRU at 10% from 10.1, 11.3, 9.1 to 10.4, 15.5, 15.8
//! (alternated, 3 rounds). A third, deeper stage (an LRU entry's list neighbours,
//! prefetched a block later) measured no better and was left out.
//!
//! Misses at 0.1% / 1% / 10% (a regression reference, unchanged by that change): lru 5,966,527 / 4,148,150 /
//! 2,231,212; fifo 6,329,110 / 4,497,242 / 2,527,509; clock 5,859,551 / 4,051,626 /
//! 2,164,217; sieve 4,909,116 / 3,420,300 / 1,902,196; arc 4,967,936 / 3,402,861 /
//! 1,901,257; s3fifo 4,947,073 / 3,375,949 / 1,873,525; wtinylfu 5,019,874 /
//! 3,425,226 / 1,948,159; lirs 5,109,654 / 3,513,097 / 1,930,549; 2q 5,096,289 /
//! 3,514,275 / 1,991,055.

// criterion_group! generates undocumented functions.
#![allow(missing_docs)]

/// As in the `tiersim` binary: large blocks in huge pages (see `tiersim::mem::hugepages`).
#[global_allocator]
static ALLOC: tiersim::mem::hugepages::HugePages = tiersim::mem::hugepages::HugePages;

use std::path::PathBuf;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use tiersim::policy::PolicySpec;
use tiersim::replay::{SizeUnit, replay};
use tiersim::trace::{Format, TraceSource, generate_zipf_oracle};

const REQUESTS: u64 = 10_000_000;
const OBJECTS: u64 = 1_000_000;

fn trace() -> TraceSource {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-traces");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("zipf1.0_10M_1M.oracleGeneral.bin");
    let complete = std::fs::metadata(&path).is_ok_and(|m| m.len() == 24 * REQUESTS);
    if !complete {
        generate_zipf_oracle(&path, REQUESTS, OBJECTS, 1.0, 42).unwrap();
    }
    TraceSource {
        path,
        format: Format::OracleGeneral,
        csv: Default::default(),
    }
}

fn bench(c: &mut Criterion) {
    let src = trace();
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
            g.bench_with_input(BenchmarkId::new(policy, size), &size, |b, &size| {
                b.iter(|| replay(&src, &spec, size, SizeUnit::Entries, 1).unwrap())
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
