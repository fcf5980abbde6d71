//! What a run measures: per-layer counters, origin load, latency histograms and the
//! time series. Only requests after the warm-up are recorded; [`steady`] finds where a
//! warm-up ends (MSER-5) and whether the window after it still trends.
//!
//! It counts what the engine tells it: it knows no layers, policies or requests, and
//! writes no file (that is [`crate::output`]'s).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::SimTime;

pub mod steady;

/// The longest latency a histogram tells apart (one hour); longer ones saturate.
const MAX_LATENCY_NS: u64 = 3_600_000_000_000;

/// The most rows a run's time series is planned for: the scenario coarsens its bucket
/// (`metrics.bucket_s`) to a round multiple when the run's expected span would need
/// more. 100,000 rows keep a simulated day at 1 s buckets (86,400), are a CSV of about
/// 6 MB and 9 MB in memory, and are more points than any chart can show.
pub const MAX_BUCKETS: u64 = 100_000;

/// The most rows a [`TimeSeries`] keeps: twice the planned bound, room for a run that
/// outlasts its expected span (a latency's far tail, an origin queue still draining).
/// Events past it are left out of the series, which says where it was cut.
pub const MAX_ROWS: usize = 2 * MAX_BUCKETS as usize;

/// What the application's timeouts, retries and breaker did (`[application]`):
/// calls made for measured requests, client reads and writes and background ones alike
/// (a background refresh or flush is a call too).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Calls {
    /// Calls that overran the deadline.
    pub timeouts: u64,
    /// Calls after a request's first.
    pub retries: u64,
    /// First calls.
    pub first_attempts: u64,
    /// Retries that reached the database as queries (not refused by the breaker, a
    /// fault or the origin's controls).
    pub retry_queries: u64,
    /// Database service time spent on queries whose caller had given up, ns.
    pub wasted_ns: u64,
    /// Time the breaker spent open (refusing every call; half-open not counted), ns.
    pub breaker_open_ns: u64,
    /// Times the breaker opened.
    pub breaker_opened: u64,
}

/// Counters of one cache layer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LayerStats {
    /// Reads that consulted the layer.
    pub requests: u64,
    /// Reads answered by a fresh copy.
    pub hits: u64,
    /// Reads passed inward.
    pub misses: u64,
    /// Entries evicted to make room.
    pub evictions: u64,
    /// Expired entries found and removed on lookup.
    pub expirations: u64,
    /// Hits that served a copy older than the origin's current version.
    pub stale_hits: u64,
    /// Reads that waited for another read's fetch (`coalesce`, `lock`) and were then
    /// answered by it: neither hits nor misses.
    pub coalesced: u64,
    /// Their total wait, ns.
    pub coalesced_wait_ns: u64,
    /// Reads answered with an expired copy (`stale_while_revalidate`): neither hits nor
    /// misses.
    pub stale_served: u64,
    /// Background fetches the layer started (`stale_while_revalidate`, `refresh_ahead`,
    /// `xfetch`).
    pub refreshes: u64,
    /// Those that started while no other fetch of their key from this layer was in
    /// flight: refresh cycles.
    pub refresh_cycles: u64,
    /// `lock` waiters that gave up and went inward (counted in `misses`).
    pub lock_timeouts: u64,
    /// Reads that failed further in and were answered here with an expired copy
    /// (`stale_if_error`); counted in `misses` too, as they missed here first.
    pub stale_on_error: u64,
    /// Reads that found the layer down and went past it (a fault with fallback); not
    /// counted in `requests`.
    pub skipped: u64,
    /// Reads and writes that found the layer down and failed (a fault without fallback).
    pub failed: u64,
    /// Copies made unreadable by a write (`versioned_keys`), left to age out.
    pub orphaned: u64,
    /// Copies deleted by tag purges (`tag_purge`), the written key's own included.
    pub purged: u64,
    /// Hits on a cached "not found" answer (`negative_ttl_s`), counted in `hits` too.
    pub negative_hits: u64,
    /// Reads that found a copy they had to validate inward (`no_cache`, or a reload of
    /// a fresh browser copy); counted in `misses`.
    pub revalidations: u64,
    /// Conditional reads this layer answered 304 (no body), counted in `hits`.
    pub not_modified: u64,
    /// Hits on a private copy fetched for another client (`ignore_private`).
    pub leaks: u64,
    /// Bytes of the objects reads asked this layer for.
    pub request_bytes: u64,
    /// Bytes of those it answered (hits, 304s included).
    pub hit_bytes: u64,
    /// Body bytes it sent outward: its answers and the responses it passed on.
    pub bytes_sent: u64,
    /// Body bytes it received from the layer inward (or the origin): the responses to
    /// its misses and its background refreshes, 304s (no body) left out.
    pub bytes_fetched: u64,
    /// Requests its rate limit refused (429s), counted in `failed` too (unless a
    /// `stale_if_error` layer outside answered them) and not in `requests`.
    pub rate_limited: u64,
}

/// Counters of the origin.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OriginStats {
    /// Read queries of clients' reads.
    pub reads: u64,
    /// Read queries of background refreshes (`stale_while_revalidate`, `refresh_ahead`,
    /// `xfetch`): load on the origin, but no client's read.
    pub refreshes: u64,
    /// Write queries.
    pub writes: u64,
    /// Reads that arrived while another read of the same key was in flight: the herd.
    pub herd_requests: u64,
    /// Most reads of one key in flight at once.
    pub peak_key_concurrency: u32,
    /// Times the reads of one key in flight reached the herd threshold.
    pub herd_events: u64,
    /// Longest queue for a connection.
    pub peak_queue: u64,
    /// Queries that started service.
    pub started: u64,
    /// Their total wait for a connection, ns.
    pub wait_ns: u128,
    /// Integral of the queue length over the measured time, in ns.
    pub queue_area: u128,
    /// Integral of busy connections over the measured time, in ns.
    pub busy_area: u128,
    /// Reads of keys that do not exist (answered "not found").
    pub not_found: u64,
    /// Conditional reads answered 304 (no body).
    pub not_modified: u64,
    /// Bytes of the objects reads asked for.
    pub request_bytes: u64,
    /// Body bytes sent: origin egress.
    pub bytes_sent: u64,
    /// Queries the database's rate limit refused (429s), not counted in `reads`,
    /// `refreshes` or `writes`.
    pub rate_limited: u64,
    /// Queries refused because the queue was full (`max_queue`, 503s), not counted in
    /// `reads`, `refreshes` or `writes`.
    pub queue_full: u64,
    /// Queries CoDel dropped at the head of the queue (`shed`), counted where they
    /// arrived (`reads`, ...).
    pub shed: u64,
}

/// Client requests refused by an overload control, by cause: each counted once, at
/// the control that refused it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rejections {
    /// By a rate limit, at any layer (429).
    pub rate_limited: u64,
    /// By the database's full queue (503).
    pub queue_full: u64,
    /// By CoDel at the database's queue.
    pub shed: u64,
    /// By the application's open circuit breaker.
    pub breaker_open: u64,
}

impl Rejections {
    /// Every refusal.
    pub fn total(&self) -> u64 {
        self.rate_limited + self.queue_full + self.shed + self.breaker_open
    }
}

/// `since` of a struct of counters: what was counted since `before`, a copy taken
/// earlier (a warm-up checkpoint), each counter less `before`'s. Every field is named
/// once, so a new one does not compile until it says whether it subtracts (`counts`)
/// or is kept as this copy's (`keeps`: the peaks, which the caller keeps per segment).
macro_rules! since {
    ($t:ident { counts: $($c:ident),* $(,)? $(; keeps: $($k:ident),* $(,)?)? }) => {
        impl $t {
            /// What was counted since `before`, a copy taken earlier (see `since!`).
            pub fn since(&self, before: &$t) -> $t {
                let $t { $($c,)* $($($k,)*)? } = *self;
                $t { $($c: $c - before.$c,)* $($($k,)*)? }
            }
        }
    };
}

since!(Calls {
    counts: timeouts,
    retries,
    first_attempts,
    retry_queries,
    wasted_ns,
    breaker_open_ns,
    breaker_opened,
});

since!(Rejections {
    counts: rate_limited,
    queue_full,
    shed,
    breaker_open,
});

since!(LayerStats {
    counts: requests,
    hits,
    misses,
    evictions,
    expirations,
    stale_hits,
    coalesced,
    coalesced_wait_ns,
    stale_served,
    refreshes,
    refresh_cycles,
    lock_timeouts,
    stale_on_error,
    skipped,
    failed,
    orphaned,
    purged,
    negative_hits,
    revalidations,
    not_modified,
    leaks,
    request_bytes,
    hit_bytes,
    bytes_sent,
    bytes_fetched,
    rate_limited,
});

since!(OriginStats {
    counts:
    reads,
    refreshes,
    writes,
    herd_requests,
    herd_events,
    started,
    wait_ns,
    queue_area,
    busy_area,
    not_found,
    not_modified,
    request_bytes,
    bytes_sent,
    rate_limited,
    queue_full,
    shed;
    keeps: peak_queue, peak_key_concurrency,
});

/// A latency histogram in nanoseconds, 3 significant digits, with an exact mean.
#[derive(Clone, Debug)]
pub struct LatencyHistogram {
    hist: Histogram<u64>,
    sum_ns: u128,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        LatencyHistogram {
            hist: Histogram::new_with_bounds(1, MAX_LATENCY_NS, 3).expect("valid bounds"),
            sum_ns: 0,
        }
    }
}

/// Percentiles in milliseconds, as reports give them.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LatencySummary {
    /// Samples.
    pub count: u64,
    /// Exact mean.
    pub mean: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
    /// Largest sample.
    pub max: f64,
}

/// Heap bytes of one histogram of `sigfig` significant digits over 1 ns..1 hour, as
/// hdrhistogram sizes it (measured on one, once).
fn histogram_bytes(sigfig: u8) -> u64 {
    let h = Histogram::<u64>::new_with_bounds(1, MAX_LATENCY_NS, sigfig).expect("valid bounds");
    (h.distinct_values() * std::mem::size_of::<u64>()) as u64
}

impl LatencyHistogram {
    /// Heap bytes of one latency histogram, for memory estimates.
    pub fn heap_bytes() -> u64 {
        static BYTES: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
        *BYTES.get_or_init(|| histogram_bytes(3))
    }

    /// Adds one sample.
    #[inline]
    pub fn record(&mut self, latency: SimTime) {
        let ns = latency.as_nanos();
        self.hist.saturating_record(ns);
        self.sum_ns += ns as u128;
    }

    /// Samples recorded.
    pub fn count(&self) -> u64 {
        self.hist.len()
    }

    /// Adds every sample of `other` (same bounds and precision).
    pub fn add(&mut self, other: &LatencyHistogram) {
        self.hist
            .add(&other.hist)
            .expect("latency histograms share their bounds");
        self.sum_ns += other.sum_ns;
    }

    /// Removes every sample of `earlier`, a copy of this histogram taken before: what
    /// was recorded since.
    pub fn subtract(&mut self, earlier: &LatencyHistogram) {
        self.hist
            .subtract(&earlier.hist)
            .expect("an earlier copy holds no more than the histogram");
        self.sum_ns -= earlier.sum_ns;
    }

    /// The distribution as `(quantile, latency ms)` points: 200 even steps, then the
    /// tail to 99.999%, for a CDF chart.
    pub fn cdf(&self) -> Vec<CdfPoint> {
        if self.hist.is_empty() {
            return Vec::new();
        }
        let even = (0..=200).map(|i| i as f64 / 200.0);
        let tail = [
            0.991, 0.993, 0.995, 0.997, 0.998, 0.999, 0.9995, 0.9999, 0.99999,
        ];
        let mut qs: Vec<f64> = even.chain(tail).collect();
        qs.sort_by(f64::total_cmp);
        qs.dedup();
        qs.into_iter()
            .map(|q| CdfPoint {
                quantile: q,
                latency_ms: self.hist.value_at_quantile(q) as f64 / 1e6,
            })
            .collect()
    }

    /// Mean and percentiles in milliseconds; zeros when empty.
    pub fn summary(&self) -> LatencySummary {
        let n = self.hist.len();
        if n == 0 {
            return LatencySummary::default();
        }
        let ms = |ns: u64| ns as f64 / 1e6;
        LatencySummary {
            count: n,
            mean: self.sum_ns as f64 / n as f64 / 1e6,
            p50: ms(self.hist.value_at_quantile(0.5)),
            p90: ms(self.hist.value_at_quantile(0.9)),
            p99: ms(self.hist.value_at_quantile(0.99)),
            p999: ms(self.hist.value_at_quantile(0.999)),
            max: ms(self.hist.max()),
        }
    }
}

/// One point of a latency distribution.
#[derive(Clone, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct CdfPoint {
    /// The quantile, in [0, 1].
    pub quantile: f64,
    /// The latency at that quantile, ms.
    pub latency_ms: f64,
}

/// One bucket of the time series.
#[derive(Clone, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Bucket {
    /// Bucket start, seconds of simulated time: the bucket's integer nanoseconds in
    /// seconds, written with no more decimals than the bucket width has.
    #[serde(serialize_with = "decimal_seconds")]
    pub t_s: f64,
    /// Requests that arrived.
    pub requests: u64,
    /// Queries that reached the origin.
    pub origin_requests: u64,
    /// Longest origin queue (queries waiting for a connection) at any time in the
    /// bucket, every query counted, warm-up's too.
    pub origin_queue: u64,
    /// Origin reads that found a read of the same key in flight (the herd).
    pub origin_herd: u64,
    /// Requests completed.
    pub completed: u64,
    /// 99th-percentile latency of the requests completed, ms.
    pub p99_ms: f64,
    // Columns added after the first seven, so that readers of the older files still
    // find those where they were.
    /// `origin_requests` per second.
    pub origin_rps: f64,
    /// 99th-percentile time at the origin (queue wait and query) of the queries
    /// finished in the bucket, ms.
    pub origin_p99_ms: f64,
    /// Client writes that arrived.
    pub writes: u64,
    /// Requests that failed (a layer or the database down without fallback).
    pub failed: u64,
    /// Times the origin reads of one key in flight reached `metrics.herd_threshold`
    /// (the summary's `herd_events`, bucket by bucket).
    pub herd_events: u64,
    /// Time-weighted mean origin queue over the part of the bucket inside the
    /// measured window (every query counted, as `origin_queue`).
    pub origin_queue_mean: f64,
    /// Client requests refused by an overload control (any cause: rate limit, full
    /// queue, shed, open breaker).
    #[serde(default)]
    pub rejected: u64,
    /// The queue-length integral over the bucket, ns (not written: the mean is).
    #[serde(skip)]
    pub queue_area_ns: u128,
    /// Calls from the application to the database that overran `application.timeout_ms`
    /// (absent from files written before it: read as 0).
    #[serde(default)]
    pub timeouts: u64,
    /// Calls from the application that were retries (`application.retries`).
    #[serde(default)]
    pub retries: u64,
}

/// Writes seconds in plain decimal notation (Rust's shortest round-trip form, never an
/// exponent): a time computed from integer nanoseconds reads back as that decimal.
fn decimal_seconds<S: serde::Serializer>(t_s: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(t_s)
}

/// `ns` nanoseconds in seconds, the nearest double to the exact decimal (one correctly
/// rounded division, where a product of rounded widths would add noise).
fn ns_to_s(ns: u64) -> f64 {
    ns as f64 / 1e9
}

/// Per-bucket counts, and the latency histograms of the current bucket: a request's
/// completion is never earlier than the event being processed, so buckets before the
/// current one are final, and their histograms are read (p99) and reset as time moves
/// past them. A completion due in a later bucket (a hit answered after its layer's
/// latency) waits as a `(bucket, latency)` pair until time reaches its bucket: memory
/// per answer in flight, not per bucket it spans.
///
/// At most [`MAX_ROWS`] rows are kept; what falls later is left out, and
/// [`TimeSeries::cut_at_s`] says from when.
#[derive(Debug)]
pub struct TimeSeries {
    width: u64,
    /// The last bucket looked up, as `[start, end)` in ns and its index: consecutive
    /// events almost always fall in the same bucket, so most lookups need no division.
    last: (u64, u64, usize),
    rows: Vec<Bucket>,
    first: Option<usize>,
    /// The bucket of the event being processed.
    current: usize,
    /// The current bucket's histograms: end-to-end latency and time at the origin.
    open: Box<[Histogram<u64>; 2]>,
    /// Samples for later buckets: `(bucket, histogram << 63 | ns)`, earliest first.
    ahead: BinaryHeap<Reverse<(usize, u64)>>,
    /// Whether an event fell past the last row kept ([`MAX_ROWS`]).
    cut: bool,
    /// Where the events past [`MAX_ROWS`] are counted, and dropped.
    beyond: Bucket,
}

/// Which histogram of a bucket a sample goes to, in the top bit of a pending sample.
const HISTOGRAM_BIT: u32 = 63;

impl TimeSeries {
    /// A series of buckets `width` wide, from time zero.
    pub fn new(width: SimTime) -> Self {
        let h = || Histogram::new_with_bounds(1, MAX_LATENCY_NS, 2).expect("valid bounds");
        TimeSeries {
            width: width.as_nanos().max(1),
            last: (0, 0, 0),
            rows: Vec::new(),
            first: None,
            current: 0,
            open: Box::new([h(), h()]),
            ahead: BinaryHeap::new(),
            cut: false,
            beyond: Bucket::default(),
        }
    }

    /// Heap bytes of the current bucket's histograms, for memory estimates.
    pub fn histogram_bytes() -> u64 {
        static BYTES: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
        *BYTES.get_or_init(|| 2 * histogram_bytes(2) + size_of::<[Histogram<u64>; 2]>() as u64)
    }

    /// Heap bytes of a sample waiting for a later bucket, for memory estimates.
    pub const PENDING_SAMPLE_BYTES: u64 = size_of::<(usize, u64)>() as u64;

    /// The index of the bucket holding `t`.
    #[inline]
    fn bucket(&mut self, t: SimTime) -> usize {
        let t = t.as_nanos();
        let (start, end, i) = self.last;
        if start <= t && t < end {
            return i;
        }
        let i = t / self.width;
        let start = i * self.width;
        self.last = (start, start.saturating_add(self.width), i as usize);
        i as usize
    }

    #[inline]
    fn row(&mut self, t: SimTime) -> &mut Bucket {
        let i = self.bucket(t);
        if i >= self.rows.len() {
            if i >= MAX_ROWS {
                return self.past_the_end();
            }
            self.rows.resize_with(i + 1, Bucket::default);
        }
        self.first = Some(self.first.map_or(i, |f| f.min(i)));
        &mut self.rows[i]
    }

    /// An event in bucket `i`, past the rows kept: noted, and counted nowhere.
    #[cold]
    fn past_the_end(&mut self) -> &mut Bucket {
        self.cut = true;
        &mut self.beyond
    }

    /// A measured request arrived at `t`.
    #[inline]
    pub fn arrival(&mut self, t: SimTime) {
        self.row(t).requests += 1;
    }

    /// A measured query reached the origin at `t`; `herd` if a read of the same key
    /// was already in flight, `herd_event` if this read brought the key's reads in
    /// flight to the herd threshold.
    #[inline]
    pub fn origin(&mut self, t: SimTime, herd: bool, herd_event: bool) {
        let row = self.row(t);
        row.origin_requests += 1;
        row.origin_herd += u64::from(herd);
        row.herd_events += u64::from(herd_event);
    }

    /// The origin queue held `len` queries from `from` to `to`: adds to each bucket's
    /// integral and maximum. Time-weighted, so a queue that only drains still shows.
    #[inline]
    pub fn queue(&mut self, from: SimTime, to: SimTime, len: u64) {
        if len > 0 && to > from {
            self.queue_span(from.as_nanos(), to.as_nanos(), len);
        }
    }

    #[cold]
    fn queue_span(&mut self, mut from: u64, to: u64, len: u64) {
        while from < to {
            let i = (from / self.width) as usize;
            let end = ((i as u64 + 1).saturating_mul(self.width)).min(to);
            let row = self.row(SimTime::from_nanos(from));
            row.queue_area_ns += (end - from) as u128 * len as u128;
            row.origin_queue = row.origin_queue.max(len);
            if i >= MAX_ROWS {
                return;
            }
            from = end;
        }
    }

    /// A measured client write arrived at `t`.
    #[inline]
    pub fn write(&mut self, t: SimTime) {
        self.row(t).writes += 1;
    }

    /// A measured call overran its deadline at `t`.
    pub fn timeout(&mut self, t: SimTime) {
        self.row(t).timeouts += 1;
    }

    /// A measured call was retried at `t`.
    pub fn retry(&mut self, t: SimTime) {
        self.row(t).retries += 1;
    }

    /// A measured request failed at `t`.
    pub fn failed(&mut self, t: SimTime) {
        self.row(t).failed += 1;
    }

    /// A measured client request was refused at `t` (an overload control).
    pub fn rejected(&mut self, t: SimTime) {
        self.row(t).rejected += 1;
    }

    /// A measured request completed at `done` after `latency`.
    #[inline]
    pub fn completed(&mut self, done: SimTime, latency: SimTime) {
        self.row(done).completed += 1;
        self.record(0, done, latency);
    }

    /// A measured query left the origin at `done` after `time` there (queue and query).
    #[inline]
    pub fn origin_done(&mut self, done: SimTime, time: SimTime) {
        self.row(done);
        self.record(1, done, time);
    }

    /// Records `value` in histogram `which` of the bucket holding `t`, no earlier than
    /// the current one.
    #[inline]
    fn record(&mut self, which: usize, t: SimTime, value: SimTime) {
        let i = self.bucket(t);
        if i == self.current {
            self.open[which].saturating_record(value.as_nanos());
        } else {
            self.later(i, which, value);
        }
    }

    /// A sample for a later bucket waits for time to reach it.
    #[cold]
    fn later(&mut self, i: usize, which: usize, value: SimTime) {
        debug_assert!(i > self.current, "completions never go back in time");
        if i < MAX_ROWS {
            // Any value past the histograms' range saturates alike.
            let ns = value.as_nanos().min((1 << HISTOGRAM_BIT) - 1);
            self.ahead
                .push(Reverse((i, (which as u64) << HISTOGRAM_BIT | ns)));
        }
    }

    /// Finalizes every bucket that ends at or before `now`.
    #[inline]
    pub fn close_before(&mut self, now: SimTime) {
        let c = self.bucket(now);
        if c != self.current {
            self.close_until(c);
        }
    }

    /// Finalizes the current bucket and every bucket before `c` that has samples
    /// waiting; `c` becomes the current one.
    #[cold]
    fn close_until(&mut self, c: usize) {
        self.close(self.current);
        while let Some(&Reverse((k, _))) = self.ahead.peek() {
            if k >= c {
                break;
            }
            self.close(k);
        }
        self.current = c;
    }

    /// Records bucket `k`'s waiting samples, then reads its p99s into its row and
    /// resets the histograms.
    fn close(&mut self, k: usize) {
        while let Some(&Reverse((b, sample))) = self.ahead.peek() {
            if b != k {
                break;
            }
            self.ahead.pop();
            let which = (sample >> HISTOGRAM_BIT) as usize;
            self.open[which].saturating_record(sample & !(1 << HISTOGRAM_BIT));
        }
        if self.open.iter().all(Histogram::is_empty) {
            return;
        }
        let p99 = |h: &Histogram<u64>| {
            if h.is_empty() {
                0.0
            } else {
                h.value_at_quantile(0.99) as f64 / 1e6
            }
        };
        // A bucket with a sample has its row (`row` comes before `record`), unless it
        // lies past the rows kept.
        if let Some(row) = self.rows.get_mut(k) {
            row.p99_ms = p99(&self.open[0]);
            row.origin_p99_ms = p99(&self.open[1]);
        }
        for h in self.open.iter_mut() {
            h.reset();
        }
    }

    /// Where the series was cut, in seconds of simulated time (the end of the last row
    /// it keeps, [`MAX_ROWS`]), if events fell past it.
    pub fn cut_at_s(&self) -> Option<f64> {
        self.cut
            .then(|| ns_to_s((MAX_ROWS as u64).saturating_mul(self.width)))
    }

    /// `(index of the first row, rows)` so far: the counts, for the warm-up rule.
    pub fn rows(&self) -> (usize, &[Bucket]) {
        let first = self.first.unwrap_or(self.rows.len());
        (first, &self.rows[first..])
    }

    /// The rows from the first measured bucket, all buckets closed; queue means over
    /// each bucket's part of the window `[from, to]`.
    pub fn finish(mut self, from: SimTime, to: SimTime) -> Vec<Bucket> {
        self.close_until(usize::MAX);
        let width_s = ns_to_s(self.width);
        let first = self.first.unwrap_or(self.rows.len());
        // In place: no second copy of the rows.
        self.rows.drain(..first);
        let mut rows = self.rows;
        for (i, r) in rows.iter_mut().enumerate() {
            r.t_s = ns_to_s((first + i) as u64 * self.width);
            r.origin_rps = r.origin_requests as f64 / width_s;
            let start = (first + i) as u64 * self.width;
            let end = start.saturating_add(self.width).min(to.as_nanos());
            let inside = end.saturating_sub(start.max(from.as_nanos()));
            if inside > 0 {
                r.origin_queue_mean = r.queue_area_ns as f64 / inside as f64;
            }
        }
        rows
    }

    /// The bucket width in seconds.
    pub fn width_s(&self) -> f64 {
        ns_to_s(self.width)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(x: f64) -> SimTime {
        SimTime::from_millis_f64(x)
    }

    /// The pattern behind the panic of issue 16 (`metrics.bucket_s = 0.001`, a Redis
    /// latency of 1,500 ms): a hit's answer recorded for a later bucket while nothing
    /// else is open, then a sample for an earlier bucket, still ahead of the clock.
    #[test]
    fn answers_due_in_later_buckets_wait_for_them() {
        let mut ts = TimeSeries::new(ms(1.0));
        ts.close_before(ms(0.5));
        ts.completed(ms(20.5), ms(20.0)); // due 20 buckets ahead
        ts.origin_done(ms(3.5), ms(3.0)); // earlier than it, later than now
        ts.close_before(ms(5.0));
        ts.completed(ms(5.2), ms(1.0));
        ts.close_before(ms(30.0));
        let rows = ts.finish(SimTime::ZERO, SimTime::from_nanos(u64::MAX));
        let at = |t: f64| rows.iter().find(|r| (r.t_s - t).abs() < 1e-9).unwrap();
        // Histograms of 2 significant digits: within 1%.
        let near = |got: f64, want: f64| (got / want - 1.0).abs() < 0.01;
        assert!(near(at(0.003).origin_p99_ms, 3.0), "{rows:?}");
        assert!(near(at(0.005).p99_ms, 1.0), "{rows:?}");
        assert!(near(at(0.020).p99_ms, 20.0), "{rows:?}");
        assert_eq!(at(0.020).completed, 1);
        assert_eq!(rows.iter().filter(|r| r.p99_ms > 0.0).count(), 2);
    }

    /// Events past the rows a series keeps are left out, and the series says from when.
    #[test]
    fn a_series_keeps_at_most_max_rows() {
        let width = ms(1.0);
        let mut ts = TimeSeries::new(width);
        ts.arrival(ms(1.5));
        let past = SimTime::from_nanos(width.as_nanos() * (MAX_ROWS as u64 + 10));
        ts.completed(past, past);
        assert_eq!(ts.cut_at_s(), Some(MAX_ROWS as f64 * 1e-3));
        let rows = ts.finish(SimTime::ZERO, SimTime::from_nanos(u64::MAX));
        assert_eq!(rows.len(), 1, "nothing past the last row kept");
        assert_eq!(rows[0].requests, 1);
    }
}
