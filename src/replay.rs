//! Trace-driven replay: one cache, one policy, one size, fed a trace request by request.
//!
//! Byte semantics follow libCacheSim: a cache holds objects whose sizes sum to at most its
//! capacity; an object larger than the whole cache is never admitted; on a miss, entries
//! are evicted until the new object fits. With [`SizeUnit::Entries`] every object counts
//! as 1 (sizes still feed the byte counters). Writes store the object whether it was
//! resident or not (and count as requests); deletes remove it and are not counted;
//! a TTL expires the copy at `time + ttl`, and a read of an expired copy is a miss.
//!
//! The scenario [`Cache`](crate::cache::Cache) indexes a key space known up front; a
//! trace's ids are discovered as it streams, so [`ReplayCache`] maps them to dense keys
//! with an FxHash map and grows its index as keys appear. Both drive the same
//! [`Policy`] types.

use std::fmt::Write as _;
use std::path::Path;

use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::policy::{Access, AnyPolicy, Capacity, Policy, PolicySpec, Slot};
use crate::report::OutputError;
use crate::trace::{Op, Request, TraceError, TraceSource};

const ABSENT: Slot = Slot::MAX;
const BATCH: usize = 128;

/// What a cache size counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SizeUnit {
    /// Objects, whatever their size.
    #[default]
    Entries,
    /// Bytes.
    Bytes,
}

impl SizeUnit {
    /// The name `--size-unit` and `replay.csv` use.
    pub fn name(self) -> &'static str {
        match self {
            SizeUnit::Entries => "entries",
            SizeUnit::Bytes => "bytes",
        }
    }
}

impl std::str::FromStr for SizeUnit {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "entries" => Ok(SizeUnit::Entries),
            "bytes" => Ok(SizeUnit::Bytes),
            _ => Err(format!(
                "unknown size unit `{s}`; expected entries or bytes"
            )),
        }
    }
}

/// The outcome of one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Served from the cache.
    Hit,
    /// Not served from the cache (and stored, if it fits).
    Miss,
    /// A delete: not a request for the statistics.
    Uncounted,
}

/// A single cache for replay: dense keys to slots, sizes, expiries, and a policy.
#[derive(Debug)]
pub struct ReplayCache {
    index: Vec<Slot>,
    keys: Vec<u32>,
    units: Vec<u32>,
    expires: Vec<u64>,
    free: Vec<Slot>,
    used: u64,
    capacity: u64,
    unit: SizeUnit,
    policy: AnyPolicy,
}

impl ReplayCache {
    /// An empty cache of `capacity` (in `unit`) run by `policy`, seeded with `seed`.
    pub fn new(policy: &PolicySpec, capacity: u64, unit: SizeUnit, seed: u64) -> Self {
        // In bytes the entry count is unknown; guess a 4 KiB mean and let arrays grow.
        let slots_hint = match unit {
            SizeUnit::Entries => capacity,
            SizeUnit::Bytes => capacity / 4096,
        }
        .min(1 << 24) as usize;
        ReplayCache {
            index: Vec::new(),
            keys: Vec::with_capacity(slots_hint),
            units: Vec::with_capacity(slots_hint),
            expires: Vec::with_capacity(slots_hint),
            free: Vec::new(),
            used: 0,
            capacity,
            unit,
            policy: policy.build_sized(
                Capacity {
                    units: capacity,
                    slots_hint,
                },
                seed,
            ),
        }
    }

    /// Units in use (entries or bytes).
    pub fn used(&self) -> u64 {
        self.used
    }

    /// Processes one request for dense `key` at `now`; `next_access` feeds offline policies.
    #[inline]
    pub fn access(
        &mut self,
        key: u32,
        size: u32,
        op: Op,
        now: u64,
        ttl: u64,
        next_access: u64,
    ) -> Outcome {
        let k = key as usize;
        if k >= self.index.len() {
            // Keys are dense and appear in order, so this is amortised growth.
            self.index.resize((k + 1).max(self.index.len() * 2), ABSENT);
        }
        let units = match self.unit {
            SizeUnit::Entries => 1,
            SizeUnit::Bytes => size,
        };
        let access = Access {
            key,
            size: units,
            next_access,
        };
        let expires = if ttl == 0 {
            u64::MAX
        } else {
            now.saturating_add(ttl)
        };
        let slot = self.index[k];
        if slot != ABSENT {
            let s = slot as usize;
            if op == Op::Delete || self.expires[s] <= now {
                self.policy.remove(slot);
                self.release(slot);
            } else {
                self.policy.touch(slot, &access);
                if op == Op::Write {
                    self.expires[s] = expires;
                }
                return Outcome::Hit;
            }
        }
        if op == Op::Delete {
            return Outcome::Uncounted;
        }
        if units as u64 > self.capacity {
            return Outcome::Miss;
        }
        while self.used + units as u64 > self.capacity {
            let victim = self.policy.evict(&access);
            self.release(victim);
        }
        let slot = match self.free.pop() {
            Some(s) => s,
            None => {
                self.keys.push(0);
                self.units.push(0);
                self.expires.push(0);
                (self.keys.len() - 1) as Slot
            }
        };
        let s = slot as usize;
        self.keys[s] = key;
        self.units[s] = units;
        self.expires[s] = expires;
        self.index[k] = slot;
        self.used += units as u64;
        self.policy.insert(slot, &access);
        Outcome::Miss
    }

    fn release(&mut self, slot: Slot) {
        let s = slot as usize;
        self.index[self.keys[s] as usize] = ABSENT;
        self.used -= self.units[s] as u64;
        self.free.push(slot);
    }
}

/// One (policy, size) point of a replay. Serializes as a `replay.csv` row.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReplayResult {
    /// The policy's name.
    pub policy: String,
    /// The cache size.
    pub size: u64,
    /// What `size` counts.
    pub size_unit: SizeUnit,
    /// Requests (reads and writes; deletes excluded).
    pub requests: u64,
    /// Requests not served from the cache.
    pub misses: u64,
    /// `misses / requests`.
    pub miss_ratio: f64,
    /// Bytes requested.
    pub bytes: u64,
    /// Bytes of the missed requests.
    pub miss_bytes: u64,
    /// `miss_bytes / bytes`.
    pub byte_miss_ratio: f64,
}

/// Counts requests and misses as they happen.
#[derive(Clone, Copy, Debug, Default)]
struct Tally {
    requests: u64,
    misses: u64,
    bytes: u64,
    miss_bytes: u64,
}

impl Tally {
    #[inline]
    fn add(&mut self, outcome: Outcome, size: u32) {
        if outcome == Outcome::Uncounted {
            return;
        }
        self.requests += 1;
        self.bytes += size as u64;
        if outcome == Outcome::Miss {
            self.misses += 1;
            self.miss_bytes += size as u64;
        }
    }

    fn result(self, policy: &PolicySpec, size: u64, unit: SizeUnit) -> ReplayResult {
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        ReplayResult {
            policy: policy.name().to_owned(),
            size,
            size_unit: unit,
            requests: self.requests,
            misses: self.misses,
            miss_ratio: ratio(self.misses, self.requests),
            bytes: self.bytes,
            miss_bytes: self.miss_bytes,
            byte_miss_ratio: ratio(self.miss_bytes, self.bytes),
        }
    }
}

/// Maps trace ids to dense keys in order of first appearance.
#[derive(Debug, Default)]
pub struct KeyMap {
    ids: FxHashMap<u64, u32>,
}

impl KeyMap {
    /// The dense key of `id`, assigning the next one to a new id.
    #[inline]
    pub fn key(&mut self, id: u64) -> Result<u32, TraceError> {
        let n = self.ids.len();
        if n >= u32::MAX as usize {
            return Err(TraceError::Options(
                "the trace has more than 2^32 - 1 distinct objects".into(),
            ));
        }
        Ok(*self.ids.entry(id).or_insert(n as u32))
    }

    /// Distinct ids seen.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether no id was seen.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// Replays `source` through one cache of `size` `unit`s run by `policy`.
///
/// Streams the trace, except for policies that need the future (belady): those read it
/// once into memory (8 bytes and an op per request) to compute each request's next access
/// in a backward pass, then replay it; TTLs are ignored there.
pub fn replay(
    source: &TraceSource,
    policy: &PolicySpec,
    size: u64,
    unit: SizeUnit,
    seed: u64,
) -> Result<ReplayResult, TraceError> {
    if policy.needs_future() {
        return replay_offline(source, policy, size, unit, seed);
    }
    let mut reader = source.open()?;
    let mut keys = KeyMap::default();
    let mut cache = ReplayCache::new(policy, size, unit, seed);
    let mut tally = Tally::default();
    // Requests go in batches: the id lookups of a batch run back to back, so their cache
    // misses in the id map overlap instead of queueing behind the policy's.
    let mut batch = [Request::default(); BATCH];
    let mut dense = [0u32; BATCH];
    loop {
        let mut n = 0;
        while n < BATCH && reader.read(&mut batch[n])? {
            n += 1;
        }
        for (d, req) in dense.iter_mut().zip(&batch[..n]) {
            *d = keys.key(req.id)?;
        }
        for (&key, req) in dense.iter().zip(&batch[..n]) {
            let outcome = cache.access(key, req.size, req.op, req.time, req.ttl, u64::MAX);
            tally.add(outcome, req.size);
        }
        if n < BATCH {
            return Ok(tally.result(policy, size, unit));
        }
    }
}

fn replay_offline(
    source: &TraceSource,
    policy: &PolicySpec,
    size: u64,
    unit: SizeUnit,
    seed: u64,
) -> Result<ReplayResult, TraceError> {
    let mut reader = source.open()?;
    let mut ids = KeyMap::default();
    let (mut keys, mut sizes, mut ops) = (Vec::new(), Vec::new(), Vec::new());
    let mut req = Request::default();
    while reader.read(&mut req)? {
        keys.push(ids.key(req.id)?);
        sizes.push(req.size);
        ops.push(req.op);
    }
    let mut next = vec![u64::MAX; keys.len()];
    let mut last = vec![u64::MAX; ids.len()];
    for i in (0..keys.len()).rev() {
        next[i] = last[keys[i] as usize];
        if ops[i] != Op::Delete {
            last[keys[i] as usize] = i as u64;
        }
    }
    let mut cache = ReplayCache::new(policy, size, unit, seed);
    let mut tally = Tally::default();
    for i in 0..keys.len() {
        let outcome = cache.access(keys[i], sizes[i], ops[i], i as u64, 0, next[i]);
        tally.add(outcome, sizes[i]);
    }
    Ok(tally.result(policy, size, unit))
}

/// `replay.csv`'s bytes: a header and one row per result.
pub fn to_csv(results: &[ReplayResult]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in results {
        w.serialize(r).expect("serializing to memory cannot fail");
    }
    w.into_inner().expect("writing to memory cannot fail")
}

/// Writes `replay.csv` into `dir` (created if missing), atomically.
pub fn write_csv(dir: &Path, results: &[ReplayResult]) -> Result<(), OutputError> {
    std::fs::create_dir_all(dir).map_err(|source| OutputError::Io {
        path: dir.to_owned(),
        source,
    })?;
    crate::report::write_atomic(&dir.join("replay.csv"), &to_csv(results))
}

/// The terminal table of a replay.
pub fn table(results: &[ReplayResult]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{:<10} {:>14} {:>8} {:>12} {:>12} {:>10} {:>10}",
        "policy", "size", "unit", "requests", "misses", "miss_ratio", "byte_mr"
    );
    for r in results {
        let _ = writeln!(
            s,
            "{:<10} {:>14} {:>8} {:>12} {:>12} {:>10.4} {:>10.4}",
            r.policy,
            r.size,
            r.size_unit.name(),
            r.requests,
            r.misses,
            r.miss_ratio,
            r.byte_miss_ratio
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lru() -> PolicySpec {
        PolicySpec::from_name("lru").unwrap()
    }

    #[test]
    fn bytes_evict_until_the_object_fits_and_oversized_objects_bypass() {
        let mut c = ReplayCache::new(&lru(), 10, SizeUnit::Bytes, 0);
        assert_eq!(c.access(0, 4, Op::Read, 0, 0, u64::MAX), Outcome::Miss);
        assert_eq!(c.access(1, 4, Op::Read, 0, 0, u64::MAX), Outcome::Miss);
        assert_eq!(c.access(2, 11, Op::Read, 0, 0, u64::MAX), Outcome::Miss);
        assert_eq!(
            c.used(),
            8,
            "an object larger than the cache is not admitted"
        );
        // 9 bytes need both residents out.
        assert_eq!(c.access(3, 9, Op::Read, 0, 0, u64::MAX), Outcome::Miss);
        assert_eq!(c.used(), 9);
        assert_eq!(c.access(0, 4, Op::Read, 0, 0, u64::MAX), Outcome::Miss);
        assert_eq!(c.access(0, 4, Op::Read, 0, 0, u64::MAX), Outcome::Hit);
    }

    #[test]
    fn ttl_deletes_and_writes() {
        let mut c = ReplayCache::new(&lru(), 10, SizeUnit::Entries, 0);
        assert_eq!(c.access(0, 1, Op::Write, 100, 10, u64::MAX), Outcome::Miss);
        assert_eq!(c.access(0, 1, Op::Read, 109, 0, u64::MAX), Outcome::Hit);
        assert_eq!(c.access(0, 1, Op::Read, 110, 0, u64::MAX), Outcome::Miss);
        assert_eq!(
            c.access(0, 1, Op::Delete, 111, 0, u64::MAX),
            Outcome::Uncounted
        );
        assert_eq!(c.used(), 0);
        assert_eq!(c.access(0, 1, Op::Read, 112, 0, u64::MAX), Outcome::Miss);
    }
}
