//! Reports: `summary.json`, `layers.csv`, `timeseries.csv` and the terminal table.
//!
//! Every file is written to a temporary file in the output folder, then renamed over
//! its final name, so an interrupted run never leaves half a file behind; files get the
//! usual mode (0666 less the umask), as a plain create would give them.
//!
//! It formats the engine's measurements ([`crate::engine::Measured`]) for a plan; it never
//! runs the engine.

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::engine::Measured;
use crate::layer::LayerKind;
use crate::metrics::{Bucket, CdfPoint, LatencySummary};
use crate::scenario::Plan;

/// One layer's line of a report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerReport {
    /// The layer's name.
    pub name: String,
    /// The layer's kind.
    pub kind: LayerKind,
    /// Eviction policy (cache layers).
    pub policy: Option<String>,
    /// Capacity in entries (cache layers sized in entries), per node.
    pub capacity: Option<u64>,
    /// Reads that consulted the layer (at a cache layer inside a defended one, its
    /// background refreshes too). The database's: the clients' reads that reached it.
    pub requests: u64,
    /// Reads it answered from a fresh copy. The database answers every read that
    /// reaches it.
    pub hits: u64,
    /// Reads it passed inward.
    pub misses: u64,
    /// `hits / requests`, 0 when no request came; none for the database, which is not
    /// a cache.
    pub hit_ratio: Option<f64>,
    /// Share of all reads that this layer answered: each read counts once, at the layer
    /// whose copy answered it (a hit, a stale or stale-on-error answer, a `coalesce` or
    /// `lock` waiter answered by the flight it waited for there), or at the database.
    /// Background refreshes are no read. The shares sum to 1 less the reads that failed.
    pub served_share: f64,
    /// Entries evicted to make room.
    pub evictions: u64,
    /// Expired entries found on lookup.
    pub expirations: u64,
    /// Hits that served an outdated version.
    pub stale_hits: u64,
    /// Reads that waited for another read's fetch and were answered by it (stampede
    /// defences `coalesce` and `lock`); not counted in hits or misses.
    pub coalesced: u64,
    /// Their mean wait, ms.
    pub coalesced_wait_ms: f64,
    /// Reads answered with an expired copy (`stale_while_revalidate`); not counted in
    /// hits or misses.
    pub stale_served: u64,
    /// Background refreshes started (`stale_while_revalidate`, `refresh_ahead`, `xfetch`);
    /// the database's: the refresh queries it answered.
    pub refreshes: u64,
    /// Refreshes started while no other fetch of the key from this layer was in flight.
    pub refresh_cycles: u64,
    /// `lock` waiters that timed out and went inward.
    pub lock_timeouts: u64,
    /// Reads that failed further in and were answered here with an expired copy
    /// (`stale_if_error`); counted in misses too.
    pub stale_on_error: u64,
    /// Reads that went past the layer while it was down (a fault with fallback); not
    /// counted in requests.
    pub skipped: u64,
    /// Requests that failed because the layer was down (a fault without fallback).
    pub failed: u64,
    /// Copies orphaned by writes (`versioned_keys`).
    pub orphaned: u64,
    /// Orphans still taking a slot at the end of the run: capacity no read could use.
    pub orphans_resident: u64,
    /// Copies deleted by tag purges (`tag_purge`).
    pub purged: u64,
    /// Hits on a cached "not found" answer (`negative_ttl_s`), counted in hits too.
    pub negative_hits: u64,
    /// Median latency of the reads this layer answered, ms (0 if none).
    pub served_p50_ms: f64,
    /// Their 99th percentile, ms.
    pub served_p99_ms: f64,
    /// Nodes (PoPs, shards, instances; a browser's clients); 1 for the database. New
    /// columns go last, so scripts that read the first ones by position keep working.
    pub nodes: u64,
    /// Capacity in bytes per node, for a layer sized in bytes (`capacity` is then empty).
    pub capacity_bytes: Option<u64>,
    /// Reads that found a copy they had to validate inward (`no_cache`, a reload);
    /// counted in misses.
    pub revalidations: u64,
    /// Conditional reads answered 304, without a body; counted in hits.
    pub not_modified: u64,
    /// Private copies served to a client other than the one they were fetched for.
    pub leaks: u64,
    /// Bytes of the objects reads asked the layer for (each object's size from
    /// `workload.classes`; the byte columns are 0 without classes).
    pub request_bytes: u64,
    /// Bytes of those it answered.
    pub hit_bytes: u64,
    /// `hit_bytes / request_bytes`; none for the database.
    pub byte_hit_ratio: Option<f64>,
    /// Body bytes it sent outward (a `cdn`'s: CDN egress; the database's: origin egress):
    /// `request_bytes` less the bodies 304s spared.
    pub bytes_sent: u64,
    /// Body bytes it fetched from the layer inward (or the origin): its inward traffic,
    /// the misses' responses and its background refreshes; 0 for the database.
    pub bytes_fetched: u64,
    /// Requests its rate limit refused (429s; `rate_limit`), counted in `failed` too
    /// unless a `stale_if_error` layer outside answered them.
    pub rate_limited: u64,
}

/// The origin's line of a report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OriginReport {
    /// Queries: reads, refreshes and writes.
    pub requests: u64,
    /// Read queries of clients' reads.
    pub reads: u64,
    /// Read queries of background refreshes (`stale_while_revalidate`, `refresh_ahead`,
    /// `xfetch`): load, but no client's read.
    pub refreshes: u64,
    /// Write queries.
    pub writes: u64,
    /// Queries per second over the measured arrival window.
    pub mean_rps: f64,
    /// Queries per second in the busiest time-series bucket of the measured window.
    pub peak_rps: f64,
    /// Most queries waiting for a connection at once over the window (`span_s`), every
    /// query counted: the warm-up's still waiting too.
    pub peak_queue: u64,
    /// Time-averaged queries waiting over the same window.
    pub mean_queue: f64,
    /// Mean wait for a connection of the measured queries, ms.
    pub mean_queue_wait_ms: f64,
    /// Time-averaged share of connections busy over the window (`span_s`).
    pub utilization: f64,
    /// Most reads of one key in flight at once.
    pub peak_key_concurrency: u32,
    /// Reads that found a read of the same key already in flight.
    pub herd_requests: u64,
    /// Times the reads of one key in flight reached `metrics.herd_threshold`.
    pub herd_events: u64,
    /// Reads of keys that do not exist (`workload.missing_ratio`).
    pub not_found: u64,
    /// Requests that failed here (the database down).
    pub failed: u64,
    /// Conditional reads it answered 304, without a body.
    pub not_modified: u64,
    /// Body bytes it sent: origin egress.
    pub bytes_sent: u64,
    /// Queries its rate limit refused (429s), not counted in `requests`.
    pub rate_limited: u64,
    /// Queries refused because `max_queue` queries were waiting (503s), not counted in
    /// `requests`.
    pub queue_full: u64,
    /// Queries CoDel dropped from the head of the queue (`shed`), counted in `requests`.
    pub shed: u64,
}

/// Refusals by cause, in `summary.json`'s `overload` object: client requests, each
/// counted once at the control that refused it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RejectedReport {
    /// By a rate limit at any layer (429).
    pub rate_limited: u64,
    /// By the database's full queue (503).
    pub queue_full: u64,
    /// By CoDel at the database's queue.
    pub shed: u64,
    /// By the application's open circuit breaker.
    pub breaker_open: u64,
    /// All of them.
    pub total: u64,
}

/// Load and what came of it, in `summary.json` (always present; zeros where nothing
/// is configured).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct OverloadReport {
    /// Client requests arriving per second over the arrivals' window (`duration_s`, as
    /// the origin's `mean_rps`).
    pub offered_rps: f64,
    /// Client requests answered successfully per second over the same span: the
    /// offered ones less those that failed.
    pub goodput_rps: f64,
    /// Database queries served per second over the same span, whoever asked (counted
    /// as they start: every query started completes before the run ends).
    pub throughput_rps: f64,
    /// Refusals by cause.
    pub rejected: RejectedReport,
    /// The application's calls to the database under `[application]` (see
    /// [`crate::scenario::application`]), counted for measured requests, background
    /// refreshes and flushes included: calls that overran `timeout_ms`.
    pub timeouts: u64,
    /// Calls beyond a request's first.
    pub retries: u64,
    /// First calls.
    pub first_attempts: u64,
    /// Retries that reached the database as queries.
    pub retry_queries: u64,
    /// Database service time spent on queries whose caller had given up, seconds.
    pub wasted_s: f64,
    /// Time the breaker spent open, refusing every call (half-open not counted):
    /// `open_s` for each opening, seconds.
    pub breaker_open_s: f64,
    /// Times the breaker opened.
    pub breaker_opened: u64,
}

/// One row of `summary.json`'s `theory` block: a model's prediction for one quantity
/// of one layer beside the simulated value, or the assumption that fails.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TheoryRow {
    /// A layer's name from the scenario (the database's too).
    pub layer: String,
    /// The quantity: a `summary.json` field of that layer or of the origin
    /// (`hit_ratio`, `mean_queue_wait_ms`, ...).
    pub quantity: String,
    /// The model and its assumptions; none when `fails` is set.
    pub model: Option<String>,
    /// The model's value; none when `fails` is set.
    pub predicted: Option<f64>,
    /// The simulated value.
    pub simulated: f64,
    /// One sentence naming the assumption that fails, when no model applies.
    pub fails: Option<String>,
}

impl OverloadReport {
    /// Calls per first call: `(first_attempts + retries) / first_attempts`, 1 with none.
    pub fn amplification(&self) -> f64 {
        if self.first_attempts == 0 {
            1.0
        } else {
            (self.first_attempts + self.retries) as f64 / self.first_attempts as f64
        }
    }
}

/// What a run measured. Serializes as `summary.json`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// Scenario name.
    pub scenario: String,
    /// The run's seed.
    pub seed: u64,
    /// Whether the run went to its end; false for a run stopped early (Ctrl-C), whose
    /// figures cover only the requests that arrived before the stop.
    pub complete: bool,
    /// Measured requests (after warm-up), reads and writes.
    pub requests: u64,
    /// Measured reads.
    pub reads: u64,
    /// Measured writes.
    pub writes: u64,
    /// Requests left out as warm-up.
    pub warmup_requests: u64,
    /// Where the measured window starts, simulated seconds (the first measured
    /// arrival): the warm-up lasted this long. Every figure but `timeseries.csv`'s
    /// warm-up rows covers the window from here.
    pub warmup_s: f64,
    /// `warmup_requests = "auto"`: where MSER-5 truncated, seconds, before the cut
    /// was rounded up to a checkpoint (`warmup_s`); absent for a fixed warm-up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warmup_mser_s: Option<f64>,
    /// Whether the measured window looks steady: its origin load and hit ratio show
    /// no trend (see [`crate::metrics::steady`]) and, with an automatic warm-up, MSER-5
    /// found a truncation before the run's half.
    pub steady: bool,
    /// Why not, when not steady.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steady_reason: Option<String>,
    /// Simulated seconds from the first to the last measured arrival: the window of
    /// the rates (`mean_rps`).
    pub duration_s: f64,
    /// Simulated seconds from the first measured arrival to the run's last event (the
    /// measured requests followed to their end): the window of the origin's time
    /// averages (`mean_queue`, `utilization`) and of `peak_queue`.
    pub span_s: f64,
    /// Cache layers then the database, outermost first.
    pub layers: Vec<LayerReport>,
    /// The origin's load.
    pub origin: OriginReport,
    /// End-to-end read latency of the reads answered.
    pub latency_ms: LatencySummary,
    /// End-to-end latency of every client read, a failed one counted to its failure.
    pub latency_all_ms: LatencySummary,
    /// Offered load, goodput, throughput and refusals (overload controls).
    pub overload: OverloadReport,
    /// Reads served with an outdated version.
    pub stale_reads: u64,
    /// Their age: time since the origin's version moved past the one served, ms.
    pub stale_read_age_ms: LatencySummary,
    /// Reads and writes that failed (a layer or the database down without fallback,
    /// not answered by `stale_if_error`).
    pub failed_requests: u64,
    /// `1 - failed_requests / requests`; 1 when there were none.
    pub availability: f64,
    /// `write_back`: writes accepted by the write-back layer and lost in its crash
    /// before a flush carried them to the database.
    pub lost_writes: u64,
    /// `write_back`: flushes to the database.
    pub flushes: u64,
    /// `write_back`: writes those flushes carried (several to one key flush as one
    /// query).
    pub flushed_writes: u64,
    /// Private responses served by a shared layer to another client (`ignore_private`).
    pub leaks: u64,
    /// Reads answered 304 (without a body), by any layer or the origin.
    pub not_modified: u64,
    /// The bodies those 304s did not send, bytes.
    pub bytes_saved_304: u64,
    /// Body bytes the `cdn` layers sent to clients.
    pub cdn_egress_bytes: u64,
    /// Body bytes the origin sent.
    pub origin_egress_bytes: u64,
    /// The width of a `timeseries.csv` row, seconds, when the scenario's
    /// `metrics.bucket_s` was coarsened to it (the run would have needed more than
    /// [`crate::metrics::MAX_BUCKETS`] rows); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucket_s: Option<f64>,
    /// The `metrics.bucket_s` the scenario asked for, when coarsened.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bucket_coarsened_from_s: Option<f64>,
    /// When the run outlasted the rows a time series keeps
    /// ([`crate::metrics::MAX_ROWS`]): the time from which `timeseries.csv` has no rows
    /// (every other figure covers the whole run); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeseries_cut_at_s: Option<f64>,
    /// The closed-form models beside the simulation, one row per layer and quantity
    /// (`run --theory`, `tiersim theory`; filled by `crate::theory`); absent otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub theory: Option<Vec<TheoryRow>>,
    /// Whether the scenario sets an overload control or `[application]`: the table then
    /// shows the `overload:` line.
    #[serde(skip)]
    pub overload_controls: bool,
    /// The time series, written to `timeseries.csv`.
    #[serde(skip)]
    pub timeseries: Vec<Bucket>,
    /// The read latency distribution, written to `latency.csv`.
    #[serde(skip)]
    pub latency_cdf: Vec<CdfPoint>,
}

/// `bytes` in B, kB, MB, GB or TB (powers of 1000), three significant figures.
fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut v = bytes as f64;
    let mut unit = 0;
    while v >= 1000.0 && unit + 1 < UNITS.len() {
        v /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.3} {}", UNITS[unit])
    }
}

/// Why the measured window `[from_s, to_s]` is not steady, if it is not: its whole
/// buckets' origin load and hit ratio (as the warm-up rule sees them) under the trend
/// test, and an automatic warm-up's truncation on its bound.
fn unsteady(
    rows: &[Bucket],
    bucket_s: f64,
    from_s: f64,
    to_s: f64,
    auto: Option<crate::engine::AutoWarmup>,
) -> Option<String> {
    use crate::metrics::steady::{TREND_BATCHES, TREND_T, trend_t};
    if auto.is_some_and(|a| a.truncation.at_bound) {
        return Some(
            "MSER-5's truncation fell on its bound (half the run): the run is too short to \
             show a steady window; raise requests"
                .to_owned(),
        );
    }
    // Whole buckets inside the window, with a little slack for float rounding.
    let eps = bucket_s * 1e-9;
    let inside: Vec<&Bucket> = rows
        .iter()
        .filter(|b| b.t_s + eps >= from_s && b.t_s + bucket_s <= to_s + eps)
        .collect();
    let load: Vec<f64> = inside.iter().map(|b| b.origin_rps).collect();
    let hit: Vec<f64> = inside
        .iter()
        .map(|b| 1.0 - b.origin_requests as f64 / b.requests.max(1) as f64)
        .collect();
    let (Some(tl), Some(th)) = (trend_t(&load), trend_t(&hit)) else {
        return Some(format!(
            "too short to test for a trend: {} whole buckets of {bucket_s} s in the measured \
             window, at least {} needed",
            inside.len(),
            2 * TREND_BATCHES
        ));
    };
    let halves = |v: &[f64]| {
        let h = v.len() / 2;
        let mean = |x: &[f64]| x.iter().sum::<f64>() / x.len().max(1) as f64;
        (mean(&v[..h]), mean(&v[h..]))
    };
    if tl.abs() > TREND_T {
        let (a, b) = halves(&load);
        return Some(format!(
            "the measured window still trends: origin load {a:.1}/s in its first half, \
             {b:.1}/s in its second (t = {tl:.1}, beyond ±{TREND_T}); raise requests or the warm-up"
        ));
    }
    if th.abs() > TREND_T {
        let (a, b) = halves(&hit);
        return Some(format!(
            "the measured window still trends: path hit ratio {a:.4} in its first half, \
             {b:.4} in its second (t = {th:.1}, beyond ±{TREND_T}); raise requests or the warm-up"
        ));
    }
    None
}

/// `n` with a comma between each group of three digits: `12,000`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

impl Report {
    /// The report of a run of `plan` that measured `m`.
    pub fn new(plan: &Plan, m: Measured) -> Report {
        // Every read is recorded once, in the histogram of the layer that answered it.
        let share = |i: usize| ratio(m.served_latency[i].count(), m.reads);
        let mut layers: Vec<LayerReport> = plan
            .caches
            .iter()
            .zip(&m.layers)
            .zip(&m.served_latency)
            .enumerate()
            .map(|(i, ((c, s), lat))| LayerReport {
                name: c.name.clone(),
                kind: c.kind,
                policy: Some(c.policy.name().to_owned()),
                // A layer sized in bytes reports `capacity_bytes` instead.
                capacity: c.capacity_bytes.is_none().then_some(c.capacity as u64),
                nodes: u64::from(c.topology.nodes(plan.clients())),
                served_p50_ms: lat.summary().p50,
                served_p99_ms: lat.summary().p99,
                requests: s.requests,
                hits: s.hits,
                misses: s.misses,
                hit_ratio: Some(ratio(s.hits, s.requests)),
                served_share: share(i),
                evictions: s.evictions,
                expirations: s.expirations,
                stale_hits: s.stale_hits,
                coalesced: s.coalesced,
                coalesced_wait_ms: if s.coalesced > 0 {
                    s.coalesced_wait_ns as f64 / s.coalesced as f64 / 1e6
                } else {
                    0.0
                },
                stale_served: s.stale_served,
                refreshes: s.refreshes,
                refresh_cycles: s.refresh_cycles,
                lock_timeouts: s.lock_timeouts,
                stale_on_error: s.stale_on_error,
                skipped: s.skipped,
                failed: s.failed,
                orphaned: s.orphaned,
                orphans_resident: 0,
                purged: s.purged,
                negative_hits: s.negative_hits,
                capacity_bytes: c.capacity_bytes,
                revalidations: s.revalidations,
                not_modified: s.not_modified,
                leaks: s.leaks,
                request_bytes: s.request_bytes,
                hit_bytes: s.hit_bytes,
                byte_hit_ratio: Some(ratio(s.hit_bytes, s.request_bytes)),
                bytes_sent: s.bytes_sent,
                bytes_fetched: s.bytes_fetched,
                rate_limited: s.rate_limited,
            })
            .collect();
        for (l, &n) in layers.iter_mut().zip(&m.orphans_resident) {
            l.orphans_resident = n;
        }
        let o = &m.origin;
        layers.push(LayerReport {
            name: plan.database.name.clone(),
            kind: LayerKind::Database,
            policy: None,
            capacity: None,
            nodes: 1,
            served_p50_ms: m.served_latency[plan.caches.len()].summary().p50,
            served_p99_ms: m.served_latency[plan.caches.len()].summary().p99,
            requests: o.reads,
            hits: o.reads,
            misses: 0,
            hit_ratio: None,
            served_share: share(plan.caches.len()),
            evictions: 0,
            expirations: 0,
            stale_hits: 0,
            coalesced: 0,
            coalesced_wait_ms: 0.0,
            stale_served: 0,
            refreshes: o.refreshes,
            refresh_cycles: 0,
            lock_timeouts: 0,
            stale_on_error: 0,
            skipped: 0,
            failed: m.failed - m.layers.iter().map(|s| s.failed).sum::<u64>(),
            orphaned: 0,
            orphans_resident: 0,
            purged: 0,
            negative_hits: 0,
            capacity_bytes: None,
            revalidations: 0,
            not_modified: o.not_modified,
            leaks: 0,
            request_bytes: o.request_bytes,
            hit_bytes: o.request_bytes,
            byte_hit_ratio: None,
            bytes_sent: o.bytes_sent,
            bytes_fetched: 0,
            rate_limited: o.rate_limited,
        });
        let timeseries_cut_at_s = m.timeseries.cut_at_s();
        let timeseries = m.timeseries.finish(m.series_span.0, m.series_span.1);
        let bucket_s = plan.bucket.as_secs_f64();
        let window_s = m.window.as_secs_f64();
        let from_s = m.from.as_secs_f64();
        // The rows of the measured window: an automatic warm-up's rows start before it
        // (and the bucket it cuts counts both sides), so only whole buckets after it.
        let series_from_s = m.series_span.0.as_secs_f64();
        let in_window = |b: &Bucket| series_from_s >= from_s || b.t_s + bucket_s * 1e-9 >= from_s;
        let steady_reason = unsteady(
            &timeseries,
            bucket_s,
            from_s,
            from_s + window_s,
            m.auto_warmup,
        );
        let span_ns = m.span.as_nanos() as f64;
        let per_span = |area: u128| {
            if span_ns > 0.0 {
                area as f64 / span_ns
            } else {
                0.0
            }
        };
        let span_s = m.span.as_secs_f64();
        let per_s = |n: u64| if span_s > 0.0 { n as f64 / span_s } else { 0.0 };
        Report {
            scenario: plan.name.clone(),
            seed: plan.seed,
            complete: true,
            requests: m.reads + m.writes,
            reads: m.reads,
            writes: m.writes,
            warmup_requests: m.auto_warmup.map_or(plan.warmup_requests, |a| a.requests),
            warmup_s: from_s,
            warmup_mser_s: m.auto_warmup.map(|a| {
                m.series_span.0.as_secs_f64() + a.truncation.observations as f64 * bucket_s
            }),
            steady: steady_reason.is_none(),
            steady_reason,
            duration_s: window_s,
            span_s: m.span.as_secs_f64(),
            layers,
            origin: OriginReport {
                requests: o.reads + o.refreshes + o.writes,
                reads: o.reads,
                refreshes: o.refreshes,
                writes: o.writes,
                mean_rps: if window_s > 0.0 {
                    (o.reads + o.refreshes + o.writes) as f64 / window_s
                } else {
                    0.0
                },
                peak_rps: timeseries
                    .iter()
                    .filter(|b| in_window(b))
                    .map(|b| b.origin_requests)
                    .max()
                    .unwrap_or(0) as f64
                    / bucket_s,
                peak_queue: o.peak_queue,
                mean_queue: per_span(o.queue_area),
                mean_queue_wait_ms: if o.started > 0 {
                    o.wait_ns as f64 / o.started as f64 / 1e6
                } else {
                    0.0
                },
                utilization: per_span(o.busy_area) / plan.database.connections as f64,
                peak_key_concurrency: o.peak_key_concurrency,
                herd_requests: o.herd_requests,
                herd_events: o.herd_events,
                not_found: o.not_found,
                failed: m.failed - m.layers.iter().map(|s| s.failed).sum::<u64>(),
                not_modified: o.not_modified,
                bytes_sent: o.bytes_sent,
                rate_limited: o.rate_limited,
                queue_full: o.queue_full,
                shed: o.shed,
            },
            leaks: m.layers.iter().map(|s| s.leaks).sum(),
            not_modified: o.not_modified + m.layers.iter().map(|s| s.not_modified).sum::<u64>(),
            bytes_saved_304: m.saved_bytes,
            cdn_egress_bytes: plan
                .caches
                .iter()
                .zip(&m.layers)
                .filter(|(c, _)| c.kind == LayerKind::Cdn)
                .map(|(_, s)| s.bytes_sent)
                .sum(),
            origin_egress_bytes: o.bytes_sent,
            failed_requests: m.failed,
            availability: 1.0 - ratio(m.failed, m.reads + m.writes),
            lost_writes: m.lost_writes,
            flushes: m.flushes,
            flushed_writes: m.flushed_writes,
            latency_ms: m.latency.summary(),
            latency_all_ms: {
                let mut all = m.latency.clone();
                all.add(&m.failed_latency);
                all.summary()
            },
            overload: OverloadReport {
                // Over the arrivals' window: a backlog drained after the last arrival
                // (a retry storm's) lengthens the span, not the load offered.
                offered_rps: if window_s > 0.0 {
                    (m.reads + m.writes) as f64 / window_s
                } else {
                    0.0
                },
                goodput_rps: per_s((m.reads + m.writes).saturating_sub(m.failed)),
                // Every query that starts completes: a run ends when its last query does.
                throughput_rps: per_s(o.started),
                rejected: RejectedReport {
                    rate_limited: m.rejections.rate_limited,
                    queue_full: m.rejections.queue_full,
                    shed: m.rejections.shed,
                    breaker_open: m.rejections.breaker_open,
                    total: m.rejections.total(),
                },
                timeouts: m.calls.timeouts,
                retries: m.calls.retries,
                first_attempts: m.calls.first_attempts,
                retry_queries: m.calls.retry_queries,
                wasted_s: m.calls.wasted_ns as f64 / 1e9,
                breaker_open_s: m.calls.breaker_open_ns as f64 / 1e9,
                breaker_opened: m.calls.breaker_opened,
            },
            overload_controls: plan.overload_controls() || plan.application.is_some(),
            latency_cdf: m.latency.cdf(),
            stale_reads: m.stale_reads,
            stale_read_age_ms: m.stale_age.summary(),
            bucket_s: plan.bucket_coarsened_from.map(|_| bucket_s),
            bucket_coarsened_from_s: plan.bucket_coarsened_from.map(|b| b.as_secs_f64()),
            timeseries_cut_at_s,
            theory: None,
            timeseries,
        }
    }

    /// `summary.json`'s text.
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).expect("reports serialize");
        s.push('\n');
        s
    }

    /// Writes `summary.json`, `layers.csv`, `timeseries.csv` and `latency.csv` into
    /// `dir`, creating it.
    pub fn write(&self, dir: &Path) -> Result<(), OutputError> {
        create_dir(dir)?;
        write_atomic(&dir.join("summary.json"), self.to_json().as_bytes())?;
        write_atomic(&dir.join("layers.csv"), &csv_bytes(&self.layers)?)?;
        write_atomic(&dir.join("timeseries.csv"), &csv_headed(&self.timeseries)?)?;
        write_atomic(&dir.join("latency.csv"), &csv_headed(&self.latency_cdf)?)?;
        Ok(())
    }

    /// Bytes and HTTP semantics per layer, for runs with content classes.
    fn http_table(&self) -> String {
        let mut rows = vec![
            [
                "layer",
                "asked",
                "byte hit ratio",
                "fetched",
                "revalidated",
                "304s",
                "leaks",
            ]
            .map(str::to_owned)
            .to_vec(),
        ];
        for l in &self.layers {
            rows.push(vec![
                l.name.clone(),
                human_bytes(l.request_bytes),
                fixed4(l.byte_hit_ratio),
                fetched(l),
                l.revalidations.to_string(),
                l.not_modified.to_string(),
                l.leaks.to_string(),
            ]);
        }
        let mut out = align(&rows);
        let _ = writeln!(
            out,
            "egress: CDN {}, origin {}; 304s saved {}; {} private responses leaked",
            human_bytes(self.cdn_egress_bytes),
            human_bytes(self.origin_egress_bytes),
            human_bytes(self.bytes_saved_304),
            self.leaks
        );
        out
    }

    /// The summary as aligned text tables, for the terminal.
    pub fn table(&self) -> String {
        let mut out = String::new();
        if !self.complete {
            let _ = writeln!(
                out,
                "stopped before the end: every figure covers only the requests that arrived before the stop, each followed to its end"
            );
        }
        let _ = writeln!(
            out,
            "scenario {}  seed {}  {} requests ({} reads, {} writes) over {:.1} s simulated, {} warm-up left out",
            self.scenario,
            self.seed,
            self.requests,
            self.reads,
            self.writes,
            self.duration_s,
            self.warmup_requests
        );
        if let Some(mser) = self.warmup_mser_s {
            let _ = writeln!(
                out,
                "warm-up: auto (MSER-5 on origin load and hit ratio) truncates at {mser:.1} s; \
                 measured from {:.1} s (the next checkpoint), {} requests left out",
                self.warmup_s, self.warmup_requests
            );
        }
        if let Some(why) = &self.steady_reason {
            let _ = writeln!(out, "warning: not steady: {why}");
        }
        if let (Some(b), Some(from)) = (self.bucket_s, self.bucket_coarsened_from_s) {
            let _ = writeln!(
                out,
                "timeseries.csv: {b} s buckets, coarsened from metrics.bucket_s = {from} s \
                 (at most {} rows)",
                crate::metrics::MAX_BUCKETS
            );
        }
        if let Some(cut) = self.timeseries_cut_at_s {
            let _ = writeln!(
                out,
                "timeseries.csv: no rows from {cut} s (the run outlasted the {} rows a series \
                 keeps; every other figure covers the whole run)",
                crate::metrics::MAX_ROWS
            );
        }
        let mut rows = vec![
            [
                "layer",
                "kind",
                "policy",
                "nodes",
                "capacity",
                "requests",
                "hit ratio",
                "served",
                "p50 ms",
                "p99 ms",
                "evictions",
                "expired",
            ]
            .map(str::to_owned)
            .to_vec(),
        ];
        for l in &self.layers {
            rows.push(vec![
                l.name.clone(),
                l.kind.as_str().to_owned(),
                l.policy.clone().unwrap_or_else(|| "-".into()),
                l.nodes.to_string(),
                capacity(l),
                l.requests.to_string(),
                fixed4(l.hit_ratio),
                format!("{:.1}%", l.served_share * 100.0),
                format!("{:.3}", l.served_p50_ms),
                format!("{:.3}", l.served_p99_ms),
                l.evictions.to_string(),
                l.expirations.to_string(),
            ]);
        }
        out.push_str(&align(&rows));
        if self.layers.iter().any(|l| l.request_bytes > 0) {
            out.push_str(&self.http_table());
        }
        let o = &self.origin;
        let _ = writeln!(
            out,
            "origin: {} queries ({} reads, {} refreshes, {} writes), {:.1}/s mean, {:.1}/s peak; queue mean {:.2}, peak {}, wait {:.3} ms; utilization {:.1}%; herd {} (peak {} on one key, {} herd events)",
            o.requests,
            o.reads,
            o.refreshes,
            o.writes,
            o.mean_rps,
            o.peak_rps,
            o.mean_queue,
            o.peak_queue,
            o.mean_queue_wait_ms,
            o.utilization * 100.0,
            o.herd_requests,
            o.peak_key_concurrency,
            o.herd_events
        );
        for l in &self.layers {
            if l.coalesced + l.stale_served + l.refreshes + l.lock_timeouts > 0 {
                let _ = writeln!(
                    out,
                    "stampede at {}: {} coalesced (mean wait {:.3} ms), {} stale served, {} refreshes in {} cycles, {} lock timeouts",
                    l.name,
                    l.coalesced,
                    l.coalesced_wait_ms,
                    l.stale_served,
                    l.refreshes,
                    l.refresh_cycles,
                    l.lock_timeouts
                );
            }
        }
        for l in &self.layers {
            if l.stale_on_error + l.skipped + l.failed + l.orphaned + l.purged + l.negative_hits > 0
            {
                let _ = writeln!(
                    out,
                    "at {}: {} skipped while down, {} failed, {} stale on error, {} orphaned ({} still resident), {} purged, {} negative hits",
                    l.name,
                    l.skipped,
                    l.failed,
                    l.stale_on_error,
                    l.orphaned,
                    l.orphans_resident,
                    l.purged,
                    l.negative_hits
                );
            }
        }
        if self.failed_requests > 0 || self.layers.iter().any(|l| l.skipped > 0) {
            let _ = writeln!(
                out,
                "availability: {:.4}% ({} failed requests)",
                self.availability * 100.0,
                self.failed_requests
            );
        }
        if self.overload_controls {
            let v = &self.overload;
            let r = &v.rejected;
            let _ = writeln!(
                out,
                "overload: offered {}/s, goodput {}/s (availability {:.1}%), rejected {} (rate limit {}, queue full {}, shed {}, breaker {})",
                grouped(v.offered_rps.round() as u64),
                grouped(v.goodput_rps.round() as u64),
                self.availability * 100.0,
                grouped(r.total),
                grouped(r.rate_limited),
                grouped(r.queue_full),
                grouped(r.shed),
                grouped(r.breaker_open),
            );
            if v.first_attempts > 0 {
                let _ = writeln!(
                    out,
                    "  calls: timeouts {}, retries {} (amplification {:.2}), wasted {:.1} s, breaker open {:.1} s ({} openings)",
                    grouped(v.timeouts),
                    grouped(v.retries),
                    v.amplification(),
                    v.wasted_s,
                    v.breaker_open_s,
                    v.breaker_opened
                );
            }
        }
        if self.flushes + self.lost_writes > 0 {
            let _ = writeln!(
                out,
                "write-back: {} flushes carried {} writes; {} lost writes",
                self.flushes, self.flushed_writes, self.lost_writes
            );
        }
        let l = &self.latency_ms;
        let _ = writeln!(
            out,
            "latency ms: mean {:.3}  p50 {:.3}  p90 {:.3}  p99 {:.3}  p99.9 {:.3}  max {:.3}",
            l.mean, l.p50, l.p90, l.p99, l.p999, l.max
        );
        if self.failed_requests > 0 {
            // Successes only above; a planner's objective is usually on every request.
            let a = &self.latency_all_ms;
            let _ = writeln!(
                out,
                "latency ms, every read (a failed one to its failure): mean {:.3}  p50 {:.3}  p90 {:.3}  p99 {:.3}  p99.9 {:.3}  max {:.3}",
                a.mean, a.p50, a.p90, a.p99, a.p999, a.max
            );
        }
        if self.writes > 0 {
            let a = &self.stale_read_age_ms;
            let _ = writeln!(
                out,
                "stale reads: {} (age ms: p50 {:.3}  p99 {:.3}  max {:.3})",
                self.stale_reads, a.p50, a.p99, a.max
            );
        }
        out
    }
}

/// A ratio to four decimals, `-` where there is none (the database).
fn fixed4(r: Option<f64>) -> String {
    r.map_or("-".into(), |r| format!("{r:.4}"))
}

/// A layer's capacity per node: entries, or bytes for a layer sized in bytes.
fn capacity(l: &LayerReport) -> String {
    match (l.capacity, l.capacity_bytes) {
        (Some(c), _) => c.to_string(),
        (None, Some(b)) => human_bytes(b),
        (None, None) => "-".into(),
    }
}

/// The bytes a layer fetched from below, `-` for the database (nothing is below it).
fn fetched(l: &LayerReport) -> String {
    if l.kind == LayerKind::Database {
        "-".into()
    } else {
        human_bytes(l.bytes_fetched)
    }
}

/// Left-aligns the first column and right-aligns the rest.
fn align(rows: &[Vec<String>]) -> String {
    let cols = rows[0].len();
    let width: Vec<usize> = (0..cols)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in rows {
        for (c, cell) in r.iter().enumerate() {
            if c == 0 {
                let _ = write!(out, "{cell:<w$}", w = width[c]);
            } else {
                let _ = write!(out, "  {cell:>w$}", w = width[c]);
            }
        }
        out.push('\n');
    }
    out
}

/// Why output could not be written. The message names the file; the cause is its
/// [`source`](std::error::Error::source) (`{:#}` with `anyhow` prints both, once).
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// A file or folder could not be created or written.
    #[error("cannot write {path}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// Rows could not be encoded as CSV.
    #[error("cannot encode CSV")]
    Csv(#[from] csv::Error),
}

fn csv_bytes<T: Serialize>(rows: &[T]) -> Result<Vec<u8>, OutputError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.serialize(r)?;
    }
    w.into_inner()
        .map_err(|e| OutputError::Csv(e.into_error().into()))
}

/// [`csv_bytes`], with the header even when there are no rows (a run that measured
/// nothing): a CSV file always says what its columns are.
fn csv_headed<T: Serialize + Default>(rows: &[T]) -> Result<Vec<u8>, OutputError> {
    if !rows.is_empty() {
        return csv_bytes(rows);
    }
    let mut bytes = csv_bytes(&[T::default()])?;
    let header = bytes.iter().position(|&b| b == b'\n').map_or(0, |i| i + 1);
    bytes.truncate(header);
    Ok(bytes)
}

fn create_dir(dir: &Path) -> Result<(), OutputError> {
    std::fs::create_dir_all(dir).map_err(|source| OutputError::Io {
        path: dir.to_owned(),
        source,
    })
}

/// A temporary file in `dir` with the mode a plain create gives (0666 less the umask),
/// not `tempfile`'s private 0600, since it is renamed into place as an output.
pub(crate) fn temp_file_in(dir: &Path, suffix: &str) -> std::io::Result<tempfile::NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    builder.suffix(suffix);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    builder.tempfile_in(dir)
}

/// Checks that files can be written into `dir`, creating it: writes a probe file and
/// removes it. A run calls it before simulating, so a folder it cannot write fails in
/// a moment rather than after the whole run.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// tiersim::output::report::check_writable(&dir.path().join("new")).unwrap();
/// assert!(dir.path().join("new").is_dir());
/// std::fs::write(dir.path().join("file"), "").unwrap();
/// assert!(tiersim::output::report::check_writable(&dir.path().join("file/sub")).is_err());
/// ```
pub fn check_writable(dir: &Path) -> Result<(), OutputError> {
    create_dir(dir)?;
    let io = |source| OutputError::Io {
        path: dir.to_owned(),
        source,
    };
    let mut probe = temp_file_in(dir, "").map_err(io)?;
    probe.write_all(b"probe").map_err(io)?;
    probe.close().map_err(io)
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename,
/// so readers see the old file or the whole new one, never a part. The file gets the
/// usual mode: 0666 less the umask (0644 under the common 022).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    let io = |source| OutputError::Io {
        path: path.to_owned(),
        source,
    };
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = temp_file_in(dir, "").map_err(io)?;
    tmp.write_all(bytes).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}
