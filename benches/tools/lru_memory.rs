//! Memory per cached entry of an LRU layer holding 10M entries: fills a
//! [`Cache`](tiersim::store::cache::Cache) of capacity 10M over a 10M-key space, touches every
//! entry, then prints the peak resident set size (`VmHWM`) divided by the entries.
//!
//! `cargo bench --bench lru_memory -- [ENTRIES]` (10M by default; about 300 MB). The
//! figure includes everything the process holds (the binary, the allocator), so it is an
//! upper bound. Reference: about 28 bytes per entry (4 for the key index, 16 for key,
//! version and expiry, 8 for the LRU links), well under the 64-byte target.

use tiersim::SimTime;
use tiersim::policy::PolicySpec;
use tiersim::store::cache::{Cache, Lookup};

#[path = "../common/peak_rss.rs"]
mod peak_rss;

#[path = "../common/tool_args.rs"]
mod tool_args;

fn vm_hwm_bytes() -> u64 {
    peak_rss::peak_rss_bytes().expect("Linux /proc/self/status with VmHWM")
}

fn main() {
    let entries: u32 = tool_args::tool_args()
        .first()
        .map_or(10_000_000, |s| s.parse().expect("ENTRIES is a number"));
    let before = vm_hwm_bytes();
    let policy = PolicySpec::from_name("lru")
        .expect("lru")
        .build(entries as usize, 1);
    let mut cache = Cache::new(entries, entries, policy);
    // Fill in a scattered order (a multiplicative permutation of the key space), as a
    // Zipf workload would, rather than key by key.
    let step = 2_654_435_761u64 % u64::from(entries).max(1);
    let step = if gcd(step, u64::from(entries)) == 1 {
        step
    } else {
        1
    };
    for i in 0..u64::from(entries) {
        let key = (i * step % u64::from(entries)) as u32;
        cache.fill(key, 0, SimTime::NEVER);
    }
    assert_eq!(cache.len(), entries);
    for key in (0..entries).step_by(7) {
        assert!(matches!(cache.get(key, SimTime::ZERO), Lookup::Hit { .. }));
    }
    let peak = vm_hwm_bytes();
    println!("entries: {entries}");
    println!("peak RSS (VmHWM): {:.1} MiB", peak as f64 / 1048576.0);
    println!("RSS before the cache: {:.1} MiB", before as f64 / 1048576.0);
    println!(
        "bytes per entry (peak RSS / entries): {:.1}",
        peak as f64 / f64::from(entries)
    );
    println!(
        "bytes per entry (cache only, peak minus RSS before): {:.1}",
        (peak - before) as f64 / f64::from(entries)
    );
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 { a } else { gcd(b, a % b) }
}
