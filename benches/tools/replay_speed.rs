//! Quick replay timing without criterion: replays the bench trace (10M requests, Zipf 1.0
//! over 1M objects; `benches/common/bench_trace.rs` generates it into
//! `target/bench-traces/` if needed) at 0.1%, 1% and 10% of its objects and prints, per
//! point, the median requests per wall-clock second (min and max), per CPU-second, and
//! the miss count.
//!
//! `cargo bench --bench replay_speed -- [POLICY,...] [REPEATS] [SIZE,...]`: by default
//! every policy of the `replay` bench, 5 repeats, the three sizes. A policy may carry
//! parameters (`lirs:variant=libcachesim`, as `tiersim replay --policy` reads them).
//! Reference figures: the `replay` bench's doc (the `median` columns).

use std::time::Instant;

use tiersim::policy::PolicySpec;
use tiersim::replay::ReplayJob;

#[path = "../common/bench_trace.rs"]
mod bench_trace;
use bench_trace::{OBJECTS, zipf_trace};

#[path = "../common/tool_args.rs"]
mod tool_args;

/// Nanoseconds this thread has run on a CPU (Linux `schedstat`): on a machine shared with
/// other work, requests per CPU-second vary less than per wall-clock second.
fn cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let args = tool_args::tool_args();
    let policies = args
        .first()
        .map(String::as_str)
        .unwrap_or("lru,fifo,clock,sieve,arc,s3fifo,wtinylfu,lirs,2q")
        .to_owned();
    let repeats: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(5);
    let sizes: Vec<u64> = match args.get(2) {
        Some(s) => s.split(',').map(|x| x.parse().expect("a size")).collect(),
        None => vec![OBJECTS / 1000, OBJECTS / 100, OBJECTS / 10],
    };
    let (src, _) = zipf_trace();
    for policy in policies.split(',') {
        let spec: PolicySpec = policy.parse().expect("a policy");
        for &size in &sizes {
            let job = ReplayJob::new(src.clone(), spec.clone(), size);
            let mut rates = Vec::new();
            let mut cpu_rates = Vec::new();
            let mut misses = 0;
            for _ in 0..repeats {
                let (t, c) = (Instant::now(), cpu_ns());
                let r = job.run().unwrap();
                rates.push(r.requests as f64 / t.elapsed().as_secs_f64() / 1e6);
                cpu_rates.push(r.requests as f64 / ((cpu_ns() - c) as f64 / 1e9) / 1e6);
                misses = r.misses;
            }
            rates.sort_by(f64::total_cmp);
            cpu_rates.sort_by(f64::total_cmp);
            println!(
                "{policy:>9} {size:>7}  wall median {:6.2} M req/s (min {:5.2} max {:5.2})  per CPU-s {:6.2}  misses {misses}",
                rates[rates.len() / 2],
                rates[0],
                rates[rates.len() - 1],
                cpu_rates[cpu_rates.len() / 2],
            );
        }
    }
}
