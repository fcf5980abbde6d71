//! Replay speed: a 10M-request Zipf(1.0) trace over 1M objects in `oracle_general` format,
//! count-based capacities of 0.1%, 1% and 10% of the objects, one thread, wall clock
//! including reading and decoding the trace and mapping its ids.
//!
//! The trace is generated once (seeded) into `target/bench-traces/` by
//! [`tiersim::trace::generate_zipf_oracle`]. Run with
//! `cargo bench --bench replay` (filter, e.g. `-- lru/`); throughput is in requests/s.

// criterion_group! generates undocumented functions.
#![allow(missing_docs)]

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
