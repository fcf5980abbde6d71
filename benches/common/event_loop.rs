//! The event-loop benchmark that `engine` and `hierarchy` run on their own scenarios:
//! a plan of `REQUESTS` requests, the loop timed with setup excluded, and setup alone.

use std::hint::black_box;
use std::time::Duration;

use criterion::measurement::{Measurement, WallTime};
use criterion::{BatchSize, BenchmarkGroup, Throughput};
use tiersim::engine::Engine;
use tiersim::scenario::{Override, Plan, Source};

/// Requests simulated per sample, warm-up included (10% warm-up).
pub const REQUESTS: u64 = 1_000_000;

/// `source`'s plan for `REQUESTS` requests, 10% of them warm-up.
pub fn plan(source: Source) -> Plan {
    let set: Vec<Override> = [
        format!("requests={REQUESTS}"),
        format!("warmup_requests={}", REQUESTS / 10),
    ]
    .iter()
    .map(|s| Override::parse(s).expect("valid override"))
    .collect();
    source.plan(&set).expect("valid scenario").1
}

/// `run`: the event loop on `plan`, `REQUESTS` simulated requests per iteration, setup
/// excluded, sampled for `measurement`.
pub fn run<M: Measurement>(g: &mut BenchmarkGroup<'_, M>, plan: &Plan, measurement: Duration) {
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(3))
        .measurement_time(measurement);
    g.throughput(Throughput::Elements(REQUESTS));
    g.bench_function("run", |b| {
        b.iter_batched(
            || Engine::new(plan),
            |engine| {
                black_box(tiersim::output::report::Report::new(
                    plan,
                    engine.run(|_| {}),
                ))
            },
            BatchSize::LargeInput,
        )
    });
}

/// `setup`: `Engine::new` on `plan` alone, one engine per element.
pub fn setup(g: &mut BenchmarkGroup<'_, WallTime>, plan: &Plan) {
    g.throughput(Throughput::Elements(1));
    g.measurement_time(Duration::from_secs(10));
    g.bench_function("setup", |b| b.iter(|| black_box(Engine::new(plan))));
}
