//! Replaying a trace from code: write a small trace, replay it through caches of several
//! policies and sizes, read the miss ratios, and check them against theory.
//!
//! The trace is a CSV file in a temporary folder: a header, then `time,object` per
//! request, 200,000 requests over 20,000 objects whose popularity is Zipf(0.8). Any
//! trace the `tiersim replay` command reads works the same way: a [`TraceSource`] names
//! the file, its [`Format`] and, for CSV, which column holds what ([`CsvColumns`]).
//!
//! The program prints a miss-ratio table and checks what must hold:
//! - Belady's MIN (`belady`, which knows the future) misses least: its misses bound
//!   every online policy's, at every size;
//! - every policy misses at least once per distinct object (its first request);
//! - the miss ratio falls as the cache grows (guaranteed for LRU and MIN, which keep at
//!   every size what they would keep at a smaller one; on a skewed trace like this one,
//!   true of every policy here).
//!
//! Run with `cargo run --release --example replay_trace` (a second or two).

use std::io::Write;

use tiersim::base::rng::mix64;
use tiersim::policy::PolicySpec;
use tiersim::replay::{ReplayJob, ReplayResult};
use tiersim::trace::{CsvColumns, Format, TraceSource};
use tiersim::workload::AliasTable;

const REQUESTS: u64 = 200_000;
const OBJECTS: u32 = 20_000;
const ALPHA: f64 = 0.8;

/// Writes the trace: object ids drawn from Zipf(`ALPHA`) over `OBJECTS` ranks, each rank
/// scattered to an id of its own so that popular objects are not neighbours. Returns how
/// many distinct objects it asks for.
fn write_trace(path: &std::path::Path) -> std::io::Result<u64> {
    let weights: Vec<f64> = (1..=OBJECTS).map(|r| f64::from(r).powf(-ALPHA)).collect();
    let zipf = AliasTable::new(&weights);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    writeln!(out, "time,object")?;
    let mut seen = vec![false; OBJECTS as usize];
    let mut z = 42u64; // the seed: the same trace every run
    for t in 0..REQUESTS {
        z = mix64(z);
        let rank = zipf.sample(z);
        seen[rank as usize] = true;
        writeln!(out, "{t},{}", mix64(u64::from(rank)) >> 16)?;
    }
    out.flush()?;
    Ok(seen.iter().filter(|&&s| s).count() as u64)
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("zipf0.8.csv");
    let distinct = write_trace(&path).unwrap();
    let source = TraceSource {
        path,
        format: Format::Csv,
        csv: CsvColumns {
            time: Some(1),
            key: 2,
            header: true,
            ..CsvColumns::default()
        },
    };

    let policies = [
        "belady", "lru", "fifo", "clock", "sieve", "arc", "s3fifo", "lirs", "wtinylfu",
    ];
    // 0.5%, 2%, 10% and 40% of the objects, in entries.
    let sizes = [100u64, 400, 2_000, 8_000];
    let mut results: Vec<Vec<ReplayResult>> = Vec::new();
    for name in policies {
        let policy = PolicySpec::from_name(name).unwrap();
        let row = sizes
            .iter()
            .map(|&size| {
                ReplayJob::new(source.clone(), policy.clone(), size)
                    .run()
                    .unwrap()
            })
            .collect();
        results.push(row);
    }

    print!("{:>9}", "policy");
    for size in sizes {
        print!(" {:>8}", format!("{size}"));
    }
    println!("   (miss ratio by cache size, entries)");
    for (name, row) in policies.iter().zip(&results) {
        print!("{name:>9}");
        for r in row {
            print!(" {:>8.4}", r.miss_ratio);
        }
        println!();
    }

    let belady = &results[0];
    for (name, row) in policies.iter().zip(&results) {
        for (i, r) in row.iter().enumerate() {
            assert_eq!(r.requests, REQUESTS);
            assert!(r.misses >= distinct, "{name}: fewer misses than objects");
            assert!(
                belady[i].misses <= r.misses,
                "{name} at {}: {} misses, fewer than Belady's {}",
                r.size,
                r.misses,
                belady[i].misses
            );
        }
        for w in row.windows(2) {
            assert!(
                w[1].miss_ratio < w[0].miss_ratio,
                "{name}: {} at {} entries, {} at {}",
                w[0].miss_ratio,
                w[0].size,
                w[1].miss_ratio,
                w[1].size
            );
        }
    }
    println!(
        "\n{distinct} distinct objects: every policy misses each once at least; Belady's \
         misses bound every policy's; every miss ratio falls with size."
    );
}
