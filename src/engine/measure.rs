//! What a run measures: the counters and histograms of [`Measured`], and the
//! bookkeeping that turns events into them (the measurement window, the origin's
//! queue integrals, the age of stale reads, and the automatic warm-up's checkpoints).
//!
//! `warmup_requests = "auto"`: every request is measured, and at a bounded number of
//! checkpoints over the run's first half ([`CHECKPOINTS`]) the counters and histograms
//! are copied. When the run ends, MSER-5 ([`crate::metrics::steady`]) picks the
//! truncation on the time series, rounded up to the next checkpoint, and every figure
//! becomes the final counters minus that checkpoint's: exact from the checkpoint on.
//!
//! It counts what the walk tells it; it decides nothing about a request.

use rustc_hash::FxHashMap;

use crate::SimTime;
use crate::engine::database::Database;
use crate::metrics::steady::{self, Truncation};
use crate::metrics::{Calls, LatencyHistogram, LayerStats, OriginStats, Rejections, TimeSeries};

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
    /// Latency of the client reads that failed, to their failure: with the answered
    /// ones' (`latency`), every read's (`latency_all_ms`).
    pub failed_latency: LatencyHistogram,
    /// Client requests refused by an overload control, by cause.
    pub rejections: Rejections,
    /// The application's timeouts, retries and breaker (`[application]`).
    pub calls: Calls,
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
    /// Where the measured window starts: the first measured arrival, or an automatic
    /// warm-up's cut (the checkpoint's arrival).
    pub from: SimTime,
    /// The span the time series covers, from its first measured arrival (before an
    /// automatic warm-up's cut: its rows show the warm-up) to the last event.
    pub series_span: (SimTime, SimTime),
    /// The automatic warm-up's decision, when the scenario asked for one.
    pub auto_warmup: Option<AutoWarmup>,
    /// From the first measured arrival to the last event.
    pub span: SimTime,
    /// Per-bucket counts over simulated time.
    pub timeseries: TimeSeries,
}

/// What the automatic warm-up decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AutoWarmup {
    /// MSER-5's truncation, in time-series buckets (the later of the origin-load and
    /// the hit-ratio series').
    pub truncation: Truncation,
    /// Requests left out: those that arrived before the checkpoint the truncation was
    /// rounded up to.
    pub requests: u64,
}

/// Checkpoints over the first half of a run with an automatic warm-up, 1/32 of the
/// run apart (and one past the half): the cut is rounded up to one of them, and the 17
/// copies of the counters and histograms are counted in the memory estimate.
pub const CHECKPOINTS: u64 = 16;

/// A copy of the counters at a checkpoint.
#[derive(Debug)]
struct Checkpoint {
    /// The arrival it was taken at (before it was handled), and that arrival's index.
    at: SimTime,
    arrivals: u64,
    layers: Vec<LayerStats>,
    /// The origin's counters; its peaks are those of the segment ending here.
    origin: OriginStats,
    calls: Calls,
    served_latency: Vec<LatencyHistogram>,
    stale_age: LatencyHistogram,
    failed_latency: LatencyHistogram,
    rejections: Rejections,
    /// `reads, writes, stale_reads, failed, lost_writes, flushes, flushed_writes,
    /// saved_bytes`.
    scalars: [u64; 8],
}

/// The counters of [`Measured`] that are plain sums, in [`Checkpoint::scalars`]' order.
fn scalars(m: &Measured) -> [u64; 8] {
    [
        m.reads,
        m.writes,
        m.stale_reads,
        m.failed,
        m.lost_writes,
        m.flushes,
        m.flushed_writes,
        m.saved_bytes,
    ]
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
    /// Automatic warm-up: arrivals between checkpoints (0: no automatic warm-up).
    checkpoint_every: u64,
    checkpoints: Vec<Checkpoint>,
}

impl Meter {
    /// Nothing measured yet, for `layers` cache layers and time-series buckets of
    /// `bucket`; with checkpoints for an automatic warm-up if `auto` is the run's
    /// expected requests.
    pub fn new(layers: usize, bucket: SimTime, auto: Option<f64>) -> Self {
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
                failed_latency: LatencyHistogram::default(),
                rejections: Rejections::default(),
                calls: Calls::default(),
                lost_writes: 0,
                flushes: 0,
                flushed_writes: 0,
                orphans_resident: Vec::new(),
                saved_bytes: 0,
                window: SimTime::ZERO,
                from: SimTime::ZERO,
                series_span: (SimTime::ZERO, SimTime::ZERO),
                auto_warmup: None,
                span: SimTime::ZERO,
                timeseries: TimeSeries::new(bucket),
            },
            from: None,
            last_arrival: SimTime::ZERO,
            last_origin_change: SimTime::ZERO,
            commits: FxHashMap::default(),
            checkpoint_every: auto
                .map_or(0, |n| ((n / (2 * CHECKPOINTS) as f64).ceil() as u64).max(1)),
            checkpoints: Vec::new(),
        }
    }

    /// The next arrival index a checkpoint is due at, if any is left (the one after
    /// the half too, so a truncation at the half has one to round up to).
    pub fn next_checkpoint(&self) -> Option<u64> {
        let k = self.checkpoints.len() as u64 + 1;
        (self.checkpoint_every > 0 && k <= CHECKPOINTS + 1).then(|| k * self.checkpoint_every)
    }

    /// Takes a checkpoint before arrival `arrivals` (its index), due at `now`.
    #[cold]
    pub fn checkpoint(&mut self, db: &Database, now: SimTime, arrivals: u64) {
        self.account_origin(db, now);
        let m = &mut self.m;
        self.checkpoints.push(Checkpoint {
            at: now,
            arrivals,
            layers: m.layers.clone(),
            origin: m.origin,
            calls: m.calls,
            served_latency: m.served_latency.clone(),
            stale_age: m.stale_age.clone(),
            failed_latency: m.failed_latency.clone(),
            rejections: m.rejections,
            scalars: scalars(m),
        });
        // Peaks restart: each checkpoint keeps its segment's.
        m.origin.peak_queue = 0;
        m.origin.peak_key_concurrency = 0;
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

    /// Adds the time since the last change to the origin's queue and busy integrals,
    /// the queue's peak and its time series. Every query counts, warm-up's too: these
    /// are the origin's state over the measured window.
    #[inline]
    pub fn account_origin(&mut self, db: &Database, now: SimTime) {
        if self.from.is_some() {
            let len = db.queue_len() as u64;
            let dt = (now - self.last_origin_change).as_nanos() as u128;
            self.m.origin.queue_area += dt * len as u128;
            self.m.origin.busy_area += dt * db.busy() as u128;
            if dt > 0 {
                self.m.origin.peak_queue = self.m.origin.peak_queue.max(len);
            }
            self.m.timeseries.queue(self.last_origin_change, now, len);
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

    /// The run ended at `end`: the automatic warm-up's cut, the end-to-end latency,
    /// the window and the span.
    pub fn finish(mut self, end: SimTime) -> Measured {
        self.m.series_span = (self.from.unwrap_or(SimTime::ZERO), end);
        if self.checkpoint_every > 0 {
            self.cut();
        }
        for h in &self.m.served_latency {
            self.m.latency.add(h);
        }
        if let Some(from) = self.from {
            self.m.from = from;
        }
        self.m.window = self.from.map_or(SimTime::ZERO, |t| self.last_arrival - t);
        self.m.span = self.from.map_or(SimTime::ZERO, |t| end - t);
        self.m
    }

    /// MSER-5 on the origin-load and hit-ratio series (buckets that lie wholly before
    /// the last arrival), rounded up to a checkpoint; the counters become those since.
    fn cut(&mut self) {
        let width = self.m.timeseries.width_s();
        let (first, rows) = self.m.timeseries.rows();
        let full = ((self.last_arrival.as_secs_f64() / width) as usize).saturating_sub(first);
        let rows = &rows[..full.min(rows.len())];
        let load: Vec<f64> = rows.iter().map(|b| b.origin_requests as f64).collect();
        // Queries per request: 1 − the hit ratio of the whole path (writes on both sides).
        let hit: Vec<f64> = rows
            .iter()
            .map(|b| 1.0 - b.origin_requests as f64 / b.requests.max(1) as f64)
            .collect();
        let (a, b) = (steady::mser5(&load), steady::mser5(&hit));
        let truncation = Truncation {
            observations: a.observations.max(b.observations),
            at_bound: a.at_bound || b.at_bound,
        };
        let at = SimTime::from_secs_f64((first + truncation.observations) as f64 * width);
        let chosen = if truncation.observations == 0 {
            None
        } else {
            // The first checkpoint at or after the truncation, else the last one.
            let k = self.checkpoints.iter().position(|c| c.at >= at);
            k.or(self.checkpoints.len().checked_sub(1))
        };
        let mut requests = 0;
        if let Some(k) = chosen {
            let c = &self.checkpoints[k];
            let m = &mut self.m;
            for (now, before) in m.layers.iter_mut().zip(&c.layers) {
                *now = now.since(before);
            }
            let later = self.checkpoints[k + 1..].iter().map(|c| c.origin);
            let (peak_queue, peak_key) = later.fold(
                (m.origin.peak_queue, m.origin.peak_key_concurrency),
                |(q, p), o| (q.max(o.peak_queue), p.max(o.peak_key_concurrency)),
            );
            m.origin = m.origin.since(&c.origin);
            m.origin.peak_queue = peak_queue;
            m.origin.peak_key_concurrency = peak_key;
            for (now, before) in m.served_latency.iter_mut().zip(&c.served_latency) {
                now.subtract(before);
            }
            m.stale_age.subtract(&c.stale_age);
            m.failed_latency.subtract(&c.failed_latency);
            m.rejections = m.rejections.since(&c.rejections);
            m.calls = m.calls.since(&c.calls);
            let [reads, writes, stale, failed, lost, flushes, flushed, saved] = c.scalars;
            m.reads -= reads;
            m.writes -= writes;
            m.stale_reads -= stale;
            m.failed -= failed;
            m.lost_writes -= lost;
            m.flushes -= flushes;
            m.flushed_writes -= flushed;
            m.saved_bytes -= saved;
            self.from = Some(c.at);
            requests = c.arrivals;
        } else {
            // No cut: the peaks are the whole run's.
            let m = &mut self.m;
            for c in &self.checkpoints {
                m.origin.peak_queue = m.origin.peak_queue.max(c.origin.peak_queue);
                m.origin.peak_key_concurrency = m
                    .origin
                    .peak_key_concurrency
                    .max(c.origin.peak_key_concurrency);
            }
        }
        self.m.auto_warmup = Some(AutoWarmup {
            truncation,
            requests,
        });
    }
}
