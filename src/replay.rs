//! Trace-driven replay: one cache, one policy, one size, fed a trace request by request.
//!
//! Byte semantics follow libCacheSim: a cache holds objects whose sizes sum to at most its
//! capacity; an object larger than the whole cache is never admitted, nor one the policy
//! declines ([`Policy::admit`], as libCacheSim's `can_insert`); on a miss, entries are
//! evicted until the new object fits, unless the policy ranks it below them all on the
//! way and refuses it ([`BYPASS`](crate::policy::BYPASS): GDSF, which stores before it
//! evicts, as libCacheSim's). With [`SizeUnit::Entries`] every object counts as 1
//! (sizes still feed the byte counters). Writes store the object whether it was resident
//! or not (and count as requests); deletes remove it and are not counted; a TTL expires
//! the copy at `time + ttl`, and a read of an expired copy is a miss. A policy that
//! [makes room](Policy::makes_room) itself (LIRS's `libcachesim` variant) decides instead
//! what a miss evicts and whether it enters; a policy may also evict of its own accord
//! ([`Policy::take_evicted`]), on a hit or beside a victim, as some of libCacheSim's do.
//! All of that is the store's one fill protocol ([`crate::store::fill`]).
//!
//! The scenario [`Cache`](crate::store::cache::Cache) indexes a key space known up front; a
//! trace's ids are discovered as it streams, so [`ReplayCache`] maps them to dense keys
//! and to resident slots with one open-addressing [`IdTable`], and keeps its slots
//! beside it. Both drive the same [`Policy`] types through the same protocol.
//!
//! The loop is compiled once per policy ([`AnyPolicy::with`]), reads requests in blocks,
//! and prefetches a block's state before processing it so the misses overlap
//! (`docs/performance.md`; `benches/replay.rs` measures it).

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;

use crate::output::report::OutputError;
use crate::policy::{
    Access, AnyPolicy, Capacity, Policy, PolicyFn, PolicySpec, PrefetchHints, Slot,
};
use crate::store::fill::{self, Slots};
use crate::trace::ids::{ABSENT, Bucket};
pub use crate::trace::ids::{IdTable, KeyMap};
use crate::trace::{Op, Request, Skipped, TraceError, TraceReader, TraceSource};

/// Requests decoded and prefetched together; see [`IdTable::prefetch_homes`].
const BLOCK: usize = 64;
/// The most ids the table is sized for ahead (16 MiB of buckets); beyond, it grows.
const IDS_AHEAD_MAX: u64 = 1 << 20;

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

/// What the cache keeps per resident slot, in one 16-byte record so a hit or an eviction
/// reads one cache line.
#[derive(Clone, Copy, Debug, Default)]
struct SlotMeta {
    /// The id's bucket in the [`IdTable`], to mark it absent on eviction.
    bucket: u32,
    units: u32,
    expires: u64,
}

/// Everything of a replay cache but the policy, so the hot loop can take the policy as a
/// concrete type (see [`AnyPolicy::with`]).
#[derive(Debug)]
struct Entries {
    ids: IdTable,
    meta: Vec<SlotMeta>,
    free: Vec<Slot>,
    used: u64,
    capacity: u64,
    unit: SizeUnit,
    /// Whether any request carried a TTL. Until one does every copy lives for ever, and a
    /// hit need not read its slot's expiry.
    ttl_seen: bool,
}

/// A replay cache's entries and its policy, as the fill protocol sees them.
struct Filling<'a, P> {
    entries: &'a mut Entries,
    policy: &'a mut P,
}

impl<P: Policy + PrefetchHints> Slots for Filling<'_, P> {
    type Policy = P;
    type Item = SlotMeta;

    #[inline(always)]
    fn policy(&mut self) -> &mut P {
        self.policy
    }

    #[inline(always)]
    fn makes_room(&self) -> bool {
        self.policy.makes_room()
    }

    #[inline(always)]
    fn oversized(&self, size: u32) -> bool {
        size as u64 > self.entries.capacity
    }

    #[inline(always)]
    fn fits(&self, size: u32) -> bool {
        self.entries.used + size as u64 <= self.entries.capacity
    }

    #[inline(always)]
    fn release(&mut self, slot: Slot) {
        let e = &mut *self.entries;
        let m = e.meta[slot as usize];
        e.ids.buckets[m.bucket as usize].slot = ABSENT;
        e.used -= m.units as u64;
        e.free.push(slot);
    }

    /// The next eviction is some requests away: time for the victim's state (cold, by
    /// definition) to arrive before it is read.
    #[inline(always)]
    fn evicted_for_fill(&mut self) {
        if let Some(v) = self.policy.next_victim() {
            self.policy.prefetch(v);
            crate::mem::prefetch::prefetch(&self.entries.meta, v as usize);
        }
    }

    #[inline(always)]
    fn vacant(&mut self) -> Slot {
        let e = &mut *self.entries;
        match e.free.pop() {
            Some(s) => s,
            None => {
                e.meta.push(SlotMeta::default());
                (e.meta.len() - 1) as Slot
            }
        }
    }

    #[inline(always)]
    fn occupy(&mut self, slot: Slot, item: SlotMeta, _: &Access) {
        let e = &mut *self.entries;
        e.meta[slot as usize] = item;
        e.ids.buckets[item.bucket as usize].slot = slot;
        e.used += item.units as u64;
    }

    /// A write to a resident id refreshes its expiry; it keeps the size it was stored
    /// with.
    #[inline(always)]
    fn overwrite(&mut self, slot: Slot, item: SlotMeta, _: &Access) {
        self.entries.meta[slot as usize].expires = item.expires;
    }
}

impl Entries {
    /// Processes request `r`; `next_access` feeds offline policies.
    #[inline(always)]
    fn access<P: Policy + PrefetchHints>(
        &mut self,
        policy: &mut P,
        r: &Request,
        next_access: u64,
    ) -> Result<Outcome, TraceError> {
        let Request {
            time: now,
            id,
            size,
            op,
            ttl,
        } = *r;
        let (b, grew) = self.ids.entry(id)?;
        if grew {
            self.rebind();
        }
        let Bucket { key, slot, .. } = self.ids.buckets[b];
        let units = match self.unit {
            SizeUnit::Entries => 1,
            SizeUnit::Bytes => size,
        };
        let access = Access {
            key,
            id,
            size: units,
            next_access,
        };
        let expires = if ttl == 0 {
            u64::MAX
        } else {
            self.ttl_seen = true;
            now.saturating_add(ttl)
        };
        let item = SlotMeta {
            bucket: b as u32,
            units,
            expires,
        };
        let mut s = Filling {
            entries: self,
            policy,
        };
        if slot != ABSENT {
            let e = &s.entries;
            if op == Op::Delete || (e.ttl_seen && e.meta[slot as usize].expires <= now) {
                fill::remove(&mut s, slot);
            } else {
                if op == Op::Write {
                    s.overwrite(slot, item, &access);
                }
                fill::hit(&mut s, slot, &access);
                return Ok(Outcome::Hit);
            }
        }
        if op == Op::Delete {
            return Ok(Outcome::Uncounted);
        }
        fill::insert(&mut s, &access, item);
        Ok(Outcome::Miss)
    }

    /// After the id table grew, points every resident slot at its id's new bucket.
    #[cold]
    fn rebind(&mut self) {
        for (i, b) in self.ids.buckets.iter().enumerate() {
            if b.slot != ABSENT {
                self.meta[b.slot as usize].bucket = i as u32;
            }
        }
    }
}

/// A single cache for replay: trace ids to slots, sizes, expiries, and a policy.
#[derive(Debug)]
pub struct ReplayCache {
    entries: Entries,
    policy: AnyPolicy,
}

impl ReplayCache {
    /// An empty cache of `capacity` (in `unit`) run by `policy`, seeded with `seed`.
    pub fn new(policy: &PolicySpec, capacity: u64, unit: SizeUnit, seed: u64) -> Self {
        Self::with_ids(policy, capacity, unit, seed, 0)
    }

    /// As [`new`](Self::new), with room for `ids` distinct trace ids before the id table
    /// grows.
    pub fn with_ids(
        policy: &PolicySpec,
        capacity: u64,
        unit: SizeUnit,
        seed: u64,
        ids: usize,
    ) -> Self {
        // In bytes the entry count is unknown; guess a 4 KiB mean and let arrays grow.
        let slots_hint = match unit {
            SizeUnit::Entries => capacity,
            SizeUnit::Bytes => capacity / 4096,
        }
        .min(1 << 24) as usize;
        ReplayCache {
            entries: Entries {
                ids: IdTable::with_capacity(ids),
                meta: Vec::with_capacity(slots_hint),
                free: Vec::new(),
                used: 0,
                capacity,
                unit,
                ttl_seen: false,
            },
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
        self.entries.used
    }

    /// Processes request `r` (its time, id, size, operation and TTL); `next_access`
    /// (the time of the id's next request, `u64::MAX` if unknown) feeds offline policies.
    pub fn access(&mut self, r: &Request, next_access: u64) -> Result<Outcome, TraceError> {
        self.entries.access(&mut self.policy, r, next_access)
    }

    /// Replays everything `reader` yields, in blocks, with the policy's concrete type.
    fn run(&mut self, reader: &mut dyn TraceReader) -> Result<Tally, TraceError> {
        struct Run<'a> {
            store: &'a mut Entries,
            reader: &'a mut dyn TraceReader,
        }
        impl PolicyFn for Run<'_> {
            type Output = Result<Tally, TraceError>;
            fn call<P: Policy + PrefetchHints>(self, policy: &mut P) -> Self::Output {
                // A two-stage software pipeline over blocks of requests: a block's home
                // buckets are prefetched when it is decoded, a block ahead of its
                // processing; just before it is processed, the buckets (in cache by
                // then) give the slots whose policy and slot state is prefetched in turn.
                let mut tally = Tally::default();
                let mut blocks = [[Request::default(); BLOCK]; 2];
                let mut len = self.reader.read_batch(&mut blocks[0])?;
                self.store.ids.prefetch_homes(&blocks[0][..len]);
                let mut cur = 0;
                while len != 0 {
                    let next = self.reader.read_batch(&mut blocks[1 - cur])?;
                    self.store.ids.prefetch_homes(&blocks[1 - cur][..next]);
                    let reqs = &blocks[cur][..len];
                    for r in reqs {
                        let slot = self.store.ids.home_slot(r.id);
                        if slot != ABSENT {
                            policy.prefetch(slot);
                            if self.store.ttl_seen {
                                crate::mem::prefetch::prefetch(&self.store.meta, slot as usize);
                            }
                        }
                    }
                    for r in reqs {
                        let outcome = self.store.access(policy, r, u64::MAX)?;
                        tally.add(outcome, r.size);
                    }
                    len = next;
                    cur = 1 - cur;
                }
                Ok(tally)
            }
        }
        self.policy.with(Run {
            store: &mut self.entries,
            reader,
        })
    }
}

/// One (policy, size) point of a replay. Serializes as a `replay.csv` row.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReplayResult {
    /// The policy in its command-line form: its name, then any non-default parameters.
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
    /// Bad records of the trace skipped within the budget
    /// ([`ReplayJob::skip_bad`]); the same for every point of one trace.
    pub bad_records_skipped: u64,
    /// The first of them: the file, the record and what was wrong. Not in `replay.csv`.
    #[serde(skip)]
    pub first_bad_record: Option<String>,
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

    fn result(self, job: &ReplayJob, skipped: Skipped) -> ReplayResult {
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        ReplayResult {
            policy: job.policy.to_string(),
            size: job.size,
            size_unit: job.unit,
            requests: self.requests,
            misses: self.misses,
            miss_ratio: ratio(self.misses, self.requests),
            bytes: self.bytes,
            miss_bytes: self.miss_bytes,
            byte_miss_ratio: ratio(self.miss_bytes, self.bytes),
            bad_records_skipped: skipped.count,
            first_bad_record: skipped.first,
        }
    }
}

/// One replay: a trace through one cache of one policy and size; one point of
/// `tiersim replay`'s grid.
///
/// [`new`](Self::new) takes what every replay names; the rest have defaults that the
/// builder methods change: [`SizeUnit::Entries`], seed 1 (as `--seed`'s), no bad record
/// skipped.
///
/// ```no_run
/// use tiersim::policy::PolicySpec;
/// use tiersim::replay::{ReplayJob, SizeUnit};
/// use tiersim::trace::{CsvColumns, Format, TraceSource};
///
/// let source = TraceSource {
///     path: "trace.oracleGeneral.bin".into(),
///     format: Format::OracleGeneral,
///     csv: CsvColumns::default(),
/// };
/// let lru = PolicySpec::from_name("lru").unwrap();
/// let result = ReplayJob::new(source, lru, 1 << 20)
///     .unit(SizeUnit::Bytes)
///     .skip_bad(10)
///     .run()
///     .unwrap();
/// println!("miss ratio {}", result.miss_ratio);
/// ```
#[derive(Clone, Debug)]
pub struct ReplayJob {
    /// The trace.
    pub source: TraceSource,
    /// The cache's policy.
    pub policy: PolicySpec,
    /// The cache's size, in [`unit`](Self::unit)s.
    pub size: u64,
    /// What `size` counts.
    pub unit: SizeUnit,
    /// The seed of a policy with internal randomness.
    pub seed: u64,
    /// How many bad records of the trace may be skipped (one more is an error).
    pub skip_bad: u64,
}

impl ReplayJob {
    /// A replay of `source` through a cache of `size` entries run by `policy`, seed 1,
    /// no bad record skipped.
    pub fn new(source: TraceSource, policy: PolicySpec, size: u64) -> Self {
        ReplayJob {
            source,
            policy,
            size,
            unit: SizeUnit::Entries,
            seed: 1,
            skip_bad: 0,
        }
    }

    /// The same job with sizes counted in `unit`.
    pub fn unit(mut self, unit: SizeUnit) -> Self {
        self.unit = unit;
        self
    }

    /// The same job with policies seeded by `seed`.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// The same job skipping up to `skip_bad` bad records of the trace (one more is an
    /// error); the result counts them.
    pub fn skip_bad(mut self, skip_bad: u64) -> Self {
        self.skip_bad = skip_bad;
        self
    }

    /// Runs the replay; a bad record beyond the [`skip_bad`](Self::skip_bad) budget is
    /// an error.
    ///
    /// Streams the trace, except for policies that need the future (belady): those read
    /// it once into memory (8 bytes and an op per request) to compute each request's next
    /// access in a backward pass, then replay it; TTLs are ignored there.
    pub fn run(&self) -> Result<ReplayResult, TraceError> {
        if self.policy.needs_future() {
            return self.run_offline();
        }
        self.run_online().map(|(r, _)| r)
    }

    /// As [`run`](Self::run) (online policies only), also returning the heap bytes the
    /// policy's state holds at the end ([`Policy::heap_bytes`]), for
    /// `benches/tools/replay_memory.rs`.
    pub fn run_accounted(&self) -> Result<(ReplayResult, Option<usize>), TraceError> {
        self.run_online()
    }

    /// An empty cache for this job, with room for `ids` trace ids before its table grows.
    fn cache(&self, ids: usize) -> ReplayCache {
        ReplayCache::with_ids(&self.policy, self.size, self.unit, self.seed, ids)
    }

    fn run_online(&self) -> Result<(ReplayResult, Option<usize>), TraceError> {
        let mut reader = self.source.open_skipping(self.skip_bad)?;
        // A trace has at most as many ids as records; most have far fewer, so the ahead
        // sizing stops at a million and the table grows past that.
        let ids = self.source.records_hint().unwrap_or(0).min(IDS_AHEAD_MAX) as usize;
        let mut cache = self.cache(ids);
        let tally = cache.run(reader.as_mut())?;
        let result = tally.result(self, reader.skipped());
        Ok((result, cache.policy.heap_bytes()))
    }

    fn run_offline(&self) -> Result<ReplayResult, TraceError> {
        let mut reader = self.source.open_skipping(self.skip_bad)?;
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
        let mut cache = self.cache(0);
        let mut tally = Tally::default();
        for i in 0..keys.len() {
            // Dense keys serve as the ids: the cache maps them again, in the same order.
            let r = Request {
                time: i as u64,
                id: keys[i] as u64,
                size: sizes[i],
                op: ops[i],
                ttl: 0,
            };
            let outcome = cache.access(&r, next[i])?;
            tally.add(outcome, sizes[i]);
        }
        Ok(tally.result(self, reader.skipped()))
    }
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
    crate::output::report::write_atomic(&dir.join("replay.csv"), &to_csv(results))
}

/// The terminal table of a replay; below it, the bad records skipped, if any were (or
/// `skip_bad`, the budget, is not 0).
pub fn table(results: &[ReplayResult], skip_bad: u64) -> String {
    let mut s = String::new();
    // Wide enough for the longest policy with its parameters.
    let w = results.iter().map(|r| r.policy.len()).fold(10, usize::max);
    let _ = writeln!(
        s,
        "{:<w$} {:>14} {:>8} {:>12} {:>12} {:>10} {:>10}",
        "policy", "size", "unit", "requests", "misses", "miss_ratio", "byte_mr"
    );
    for r in results {
        let _ = writeln!(
            s,
            "{:<w$} {:>14} {:>8} {:>12} {:>12} {:>10.4} {:>10.4}",
            r.policy,
            r.size,
            r.size_unit.name(),
            r.requests,
            r.misses,
            r.miss_ratio,
            r.byte_miss_ratio
        );
    }
    // Every point read the same trace, so skipped the same records.
    if let Some(r) = results.first()
        && (r.bad_records_skipped > 0 || skip_bad > 0)
    {
        let _ = write!(
            s,
            "skipped {} bad record{} (at most {skip_bad} allowed)",
            r.bad_records_skipped,
            if r.bad_records_skipped == 1 { "" } else { "s" }
        );
        match &r.first_bad_record {
            Some(first) => {
                let _ = writeln!(s, "; the first: {first}");
            }
            None => s.push('\n'),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// libCacheSim's W-TinyLFU evicts on some hits ([`Policy::take_evicted`]): the cache
    /// must free those entries, and then agree with a replay request for request.
    #[test]
    fn entries_a_policy_drops_on_a_hit_are_freed() {
        use crate::SimTime;
        use crate::policy::{WTinyLfuConfig, WTinyLfuVariant};
        use crate::store::cache::{Cache, Lookup};
        let spec = PolicySpec::WTinyLfu(WTinyLfuConfig {
            variant: WTinyLfuVariant::LibCacheSim,
            ..Default::default()
        });
        let (capacity, keys) = (200, 2000);
        let mut c = Cache::new(capacity, keys, spec.build(capacity as usize, 1));
        let mut r = ReplayCache::new(&spec, capacity as u64, SizeUnit::Entries, 1);
        let mut x = 1u64;
        let (mut hits, mut drops) = (0, 0);
        for _ in 0..100_000 {
            x = crate::base::rng::mix64(x);
            // Three requests in four go to 20 hot keys.
            let key = ((x >> 32) % if x.is_multiple_of(4) { keys as u64 } else { 20 }) as u32;
            let before = c.len();
            let hit = matches!(c.get(key, SimTime::ZERO), Lookup::Hit { .. });
            drops += (c.len() < before) as u32;
            if !hit {
                c.fill(key, 0, SimTime::NEVER);
            }
            let read = Request {
                id: key as u64,
                size: 1,
                ..Request::default()
            };
            let replayed = r.access(&read, u64::MAX).unwrap();
            assert_eq!(hit, replayed == Outcome::Hit, "key {key}");
            hits += hit as u32;
            assert!(c.len() <= capacity);
        }
        assert_eq!(c.len(), (0..keys).filter(|&k| c.contains(k)).count() as u32);
        assert!(hits > 10_000 && drops > 0, "{hits} hits, {drops} drops");
    }

    fn lru() -> PolicySpec {
        PolicySpec::from_name("lru").unwrap()
    }

    /// `op` on `id` of `size` at `now` with `ttl`, no future known.
    fn at(c: &mut ReplayCache, id: u64, size: u32, op: Op, now: u64, ttl: u64) -> Outcome {
        let r = Request {
            time: now,
            id,
            size,
            op,
            ttl,
        };
        c.access(&r, u64::MAX).unwrap()
    }

    #[test]
    fn bytes_evict_until_the_object_fits_and_oversized_objects_bypass() {
        let mut c = ReplayCache::new(&lru(), 10, SizeUnit::Bytes, 0);
        assert_eq!(at(&mut c, 0, 4, Op::Read, 0, 0), Outcome::Miss);
        assert_eq!(at(&mut c, 1, 4, Op::Read, 0, 0), Outcome::Miss);
        assert_eq!(at(&mut c, 2, 11, Op::Read, 0, 0), Outcome::Miss);
        assert_eq!(
            c.used(),
            8,
            "an object larger than the cache is not admitted"
        );
        // 9 bytes need both residents out.
        assert_eq!(at(&mut c, 3, 9, Op::Read, 0, 0), Outcome::Miss);
        assert_eq!(c.used(), 9);
        assert_eq!(at(&mut c, 0, 4, Op::Read, 0, 0), Outcome::Miss);
        assert_eq!(at(&mut c, 0, 4, Op::Read, 0, 0), Outcome::Hit);
    }

    #[test]
    fn ttl_deletes_and_writes() {
        let mut c = ReplayCache::new(&lru(), 10, SizeUnit::Entries, 0);
        assert_eq!(at(&mut c, 0, 1, Op::Write, 100, 10), Outcome::Miss);
        assert_eq!(at(&mut c, 0, 1, Op::Read, 109, 0), Outcome::Hit);
        assert_eq!(at(&mut c, 0, 1, Op::Read, 110, 0), Outcome::Miss);
        assert_eq!(at(&mut c, 0, 1, Op::Delete, 111, 0), Outcome::Uncounted);
        assert_eq!(c.used(), 0);
        assert_eq!(at(&mut c, 0, 1, Op::Read, 112, 0), Outcome::Miss);
    }
}
