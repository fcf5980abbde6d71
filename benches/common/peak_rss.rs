//! The process's peak resident set size, for the memory examples and benches: one copy,
//! included by `#[path]` (examples and benches are separate crates).

/// Peak resident memory of this process so far (`VmHWM` in `/proc/self/status`), in
/// bytes; `None` off Linux.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
