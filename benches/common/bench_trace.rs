//! The replay benchmarks' trace: 10M requests, Zipf(1.0) over 1M objects, in
//! `oracle_general` format, generated once (seeded) into `target/bench-traces/` and
//! reused while complete. Shared by the `replay` bench and the replay tools.

use std::path::PathBuf;

use tiersim::trace::{Format, TraceSource, generate_zipf_oracle};

/// Requests in the trace.
pub const REQUESTS: u64 = 10_000_000;
/// Distinct objects in the trace.
pub const OBJECTS: u64 = 1_000_000;

/// The trace, generated first if it is missing or incomplete, and whether it was
/// (generating holds the whole trace in memory, which a memory figure must not count).
pub fn zipf_trace() -> (TraceSource, bool) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-traces");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("zipf1.0_10M_1M.oracleGeneral.bin");
    let complete = std::fs::metadata(&path).is_ok_and(|m| m.len() == 24 * REQUESTS);
    if !complete {
        generate_zipf_oracle(&path, REQUESTS, OBJECTS, 1.0, 42).unwrap();
    }
    let src = TraceSource {
        path,
        format: Format::OracleGeneral,
        csv: Default::default(),
    };
    (src, !complete)
}
