//! What a run measures: the counters and histograms of [`Measured`], and the
//! bookkeeping that turns events into them (the measurement window, the origin's
//! queue integrals, the age of stale reads).
//!
//! It counts what the walk tells it; it decides nothing about a request.

use rustc_hash::FxHashMap;

use crate::SimTime;
use crate::engine::database::Database;
use crate::metrics::{LatencyHistogram, LayerStats, OriginStats, TimeSeries};

/// Everything a run measures, raw: the caller turns it into a report
/// ([`crate::output::report::Report::new`]).
#[derive(Debug)]
pub struct Measured {
    /// Per cache layer, outermost first.
    pub layers: Vec<LayerStats>,
    /// The database's counters.
    pub origin: OriginStats,
    /// End-to-end read latency.
    pub latency: LatencyHistogram,
    /// Read latency by the layer that answered (the database last); `latency` is
    /// their sum, merged when the run ends.
    pub served_latency: Vec<LatencyHistogram>,
    /// Measured reads.
    pub reads: u64,
    /// Measured writes.
    pub writes: u64,
    /// Reads answered with a version the origin had moved past.
    pub stale_reads: u64,
    /// Ages of stale reads: time since the origin's version moved past the one served.
    pub stale_age: LatencyHistogram,
    /// Reads and writes that failed.
    pub failed: u64,
    /// `write_back`: writes accepted and lost in a crash before their flush.
    pub lost_writes: u64,
    /// `write_back`: flushes.
    pub flushes: u64,
    /// `write_back`: the writes the flushes carried.
    pub flushed_writes: u64,
    /// Copies orphaned by `versioned_keys` and still resident at the end, per layer.
    pub orphans_resident: Vec<u64>,
    /// Bytes that 304 answers did not send (content classes).
    pub saved_bytes: u64,
    /// From the first measured arrival to the last arrival.
    pub window: SimTime,
    /// From the first measured arrival to the last event.
    pub span: SimTime,
    /// Per-bucket counts over simulated time.
    pub timeseries: TimeSeries,
}

/// The measurements of a run in progress.
pub(super) struct Meter {
    /// The counters so far.
    pub m: Measured,
    /// When measurement began (the first measured arrival), if it has.
    pub from: Option<SimTime>,
    pub last_arrival: SimTime,
    /// Time of the last change of the origin queue or busy count, for their integrals.
    last_origin_change: SimTime,
    /// When each version of a key was committed, by `key << 32 | version`, for the age
    /// of stale reads. Only writes add to it.
    commits: FxHashMap<u64, SimTime>,
}

impl Meter {
    /// Nothing measured yet, for `layers` cache layers and time-series buckets of
    /// `bucket`.
    pub fn new(layers: usize, bucket: SimTime) -> Self {
        Meter {
            m: Measured {
                layers: vec![LayerStats::default(); layers],
                origin: OriginStats::default(),
                latency: LatencyHistogram::default(),
                served_latency: vec![LatencyHistogram::default(); layers + 1],
                reads: 0,
                writes: 0,
                stale_reads: 0,
                stale_age: LatencyHistogram::default(),
                failed: 0,
                lost_writes: 0,
                flushes: 0,
                flushed_writes: 0,
                orphans_resident: Vec::new(),
                saved_bytes: 0,
                window: SimTime::ZERO,
                span: SimTime::ZERO,
                timeseries: TimeSeries::new(bucket),
            },
            from: None,
            last_arrival: SimTime::ZERO,
            last_origin_change: SimTime::ZERO,
            commits: FxHashMap::default(),
        }
    }

    /// Whether measurement has begun.
    #[inline]
    pub fn measuring(&self) -> bool {
        self.from.is_some()
    }

    /// A request arrives at `now`; `measured` if it is past the warm-up.
    #[inline]
    pub fn arrival(&mut self, now: SimTime, measured: bool) {
        self.last_arrival = now;
        if measured && self.from.is_none() {
            self.from = Some(now);
            self.last_origin_change = now;
        }
    }

    /// Adds the time since the last change to the origin's queue and busy integrals.
    #[inline]
    pub fn account_origin(&mut self, db: &Database, now: SimTime) {
        if self.from.is_some() {
            let dt = (now - self.last_origin_change).as_nanos() as u128;
            self.m.origin.queue_area += dt * db.queue_len() as u128;
            self.m.origin.busy_area += dt * db.busy() as u128;
            self.last_origin_change = now;
        }
    }

    /// `version` of `key` was committed (accepted) at `now`.
    #[inline]
    pub fn committed(&mut self, key: u32, version: u32, now: SimTime) {
        self.commits
            .insert((key as u64) << 32 | version as u64, now);
    }

    /// Counts a read of `version` of `key` served at layer `i` at `now` if the origin
    /// has moved on.
    #[inline]
    pub fn count_stale(&mut self, db: &Database, i: usize, key: u32, version: u32, now: SimTime) {
        if version != db.version(key) {
            self.stale_read(db, i, key, version, now);
        }
    }

    #[cold]
    fn stale_read(&mut self, db: &Database, i: usize, key: u32, version: u32, now: SimTime) {
        self.m.layers[i].stale_hits += 1;
        self.count_stale_origin(db, key, version, now);
    }

    /// Counts a read of `version` of `key` at `now` as stale if the origin's latest
    /// accepted version has moved on, and records its age.
    pub fn count_stale_origin(&mut self, db: &Database, key: u32, version: u32, now: SimTime) {
        if version == db.version(key) {
            return;
        }
        self.m.stale_reads += 1;
        let next = (key as u64) << 32 | version.wrapping_add(1) as u64;
        if let Some(&moved) = self.commits.get(&next) {
            self.m.stale_age.record(now - moved);
        }
    }

    /// The run ended at `end`: the end-to-end latency, the window and the span.
    pub fn finish(mut self, end: SimTime) -> Measured {
        for h in &self.m.served_latency {
            self.m.latency.add(h);
        }
        self.m.window = self.from.map_or(SimTime::ZERO, |t| self.last_arrival - t);
        self.m.span = self.from.map_or(SimTime::ZERO, |t| end - t);
        self.m
    }
}
