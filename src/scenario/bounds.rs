//! How long a run is expected to last (its [`Horizon`]), and the bounds on numeric keys
//! that follow from it: what a value means for this run, not what its type can hold.
//!
//! | bound | why |
//! |---|---|
//! | at most [`MAX_REQUESTS`] requests, given or expected (`rate × duration_s`, or a profile's ∫λ over `duration_s`) | about a day of the whole path at 1M requests/s; longer studies are sweeps of shorter runs |
//! | the expected arrivals last at most [`MAX_SIMULATED_S`] (10 years): `requests / rate` (with a profile, the time by which ∫λ reaches `requests`), `duration_s`, a trace's timestamps | no cache question needs more (TTLs, outages and daily cycles are minutes to weeks), and simulated time must stay far from its 584-year end |
//! | a latency's mean (any distribution; a Pareto needs shape > 1), a CDN round trip, a propagation delay, a lock's TTL and wait: at most the expected run, or [`MIN_LATENCY_LIMIT_S`] for a shorter run | a request slower than the whole run models nothing; a minute is longer than any real call waits before it times out |
//! | `workload.flush_interval_s`: at least 1 ns and at least `span / (10 × requests)` | below the clock's resolution it rounds to 0 and the timer fires forever; flushes outnumbering requests ten to one model nothing and only cost events |
//! | `metrics.bucket_s`: 1 µs to 10 years, coarsened (never refused) when the run would need more than [`MAX_BUCKETS`] rows | [`MAX_BUCKETS`] says why |
//! | a database's `shed.target_ms` and `shed.interval_ms`: at most the expected run, as a latency | a target no query can wait that long for never drops anything |
//! | `rate_limit.rps`: at most 1e9 a second; `rate_limit.burst`: 1 to 1e11 tokens ([`crate::layer::overload`]) | a token a nanosecond is the clock's resolution; more tokens than requests admit all |
//! | `sync_expiry.at_s`: at most the expected arrivals | a warm-up after the last request fills nothing a request reads |
//! | `warmup_requests`: fewer than the expected requests | otherwise nothing is measured |
//! | a fault's `start_s` and `duration_s`: at most 10 years | as for the run |
//! | `application.retries.max`: at most [`MAX_RETRIES`] | each retry is a call; a hundred already turns one request into a storm, and more would only multiply events |
//! | `workload.drift.shifts[].at_s`: at most 10 years; `workload.drift.churn.interval_s`: the keys it moves over the run at most [`MAX_FLUSHES_PER_REQUEST`] per request | each churn moves `round(share × top)` keys: more moves than requests model nothing and only cost time |
//!
//! Bounds that need no horizon sit with their keys: a lock's `poll_ms`
//! ([`crate::layer::stampede`]), a `browser` arena, node counts.

use crate::SimTime;
use crate::base::Invalid;
use crate::layer::{CachePlan, LayerSpec};
use crate::metrics::MAX_BUCKETS;
use crate::workload::WorkloadPlan;

use super::Scenario;

/// The longest a run's arrivals may last: 10 simulated years.
pub const MAX_SIMULATED_S: f64 = 10.0 * 365.25 * 86_400.0;

/// The most requests a run may make, given or expected.
pub const MAX_REQUESTS: u64 = 100_000_000_000;

/// A latency may be as long as the run, or this long in a shorter run (seconds).
pub const MIN_LATENCY_LIMIT_S: f64 = 60.0;

/// The most retries after a first call (`application.retries.max`).
pub const MAX_RETRIES: u32 = 100;

/// The most timed flushes per request over a run.
pub const MAX_FLUSHES_PER_REQUEST: f64 = 10.0;

/// How long a run is expected to last, and how many requests it makes: what the bounds
/// and the memory estimate start from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Horizon {
    /// Requests the run is expected to make: exact when `requests` stops it, else
    /// `rate × duration_s`, a profile's ∫λ over `duration_s` (a trace's length with its
    /// timestamps).
    pub requests: f64,
    /// Simulated seconds over which they arrive: `requests / rate` (with a profile, when
    /// ∫λ reaches `requests`), `duration_s`, or a trace's timestamps, whichever stops the
    /// run first.
    pub arrivals_s: f64,
    /// The expected end of the run: the arrivals, then the slowest hop of each layer and
    /// of the database (the largest of their draws, [`LatencySpec::expected_max_ms`](crate::layer::latency::LatencySpec::expected_max_ms)).
    /// An origin queue still draining can make a run longer still.
    pub span_s: f64,
    /// The mean time to consult every cache layer (and reach a CDN PoP), seconds.
    pub hops_mean_s: f64,
    /// The slowest such walk, seconds: every cache layer's largest draw.
    pub hops_max_s: f64,
    /// The database's mean service time, seconds.
    pub service_mean_s: f64,
}

impl Horizon {
    /// The longest a latency's mean may be, in seconds ([`MIN_LATENCY_LIMIT_S`]).
    pub fn latency_limit_s(&self) -> f64 {
        self.arrivals_s.max(MIN_LATENCY_LIMIT_S)
    }

    /// The limit in words, for messages.
    fn latency_limit(&self) -> String {
        if self.arrivals_s >= MIN_LATENCY_LIMIT_S {
            format!("the run's expected duration ({})", seconds(self.arrivals_s))
        } else {
            format!(
                "a minute (the limit for runs shorter than that; this one is expected to \
                 last {})",
                seconds(self.arrivals_s)
            )
        }
    }
}

/// Seconds for a message, with a larger unit when it helps.
fn seconds(s: f64) -> String {
    const YEAR: f64 = 365.25 * 86_400.0;
    if s >= YEAR {
        format!("{s:.3e} s, {:.1} years", s / YEAR)
    } else if s >= 86_400.0 {
        format!("{s:.0} s, {:.1} days", s / 86_400.0)
    } else {
        format!("{} s", (s * 1000.0).round() / 1000.0)
    }
}

/// Checks the counts and lengths that make the run's horizon, and returns it. `requests`
/// is the resolved stop (a trace's length included). Errors name the key from the
/// scenario's top level.
pub(super) fn horizon(
    s: &Scenario,
    requests: Option<u64>,
    workload: &WorkloadPlan,
) -> Result<Horizon, Invalid> {
    if let Some(n) = requests
        && n > MAX_REQUESTS
    {
        return Err(Invalid::new(
            "requests",
            format!(
                "is {n}; at most {MAX_REQUESTS} (about a day of simulation at a million \
                 requests per second); for more, run a sweep with replications"
            ),
        ));
    }
    if let Some(d) = s.duration_s
        && d > MAX_SIMULATED_S
    {
        return Err(Invalid::new(
            "duration_s",
            format!("is {d}; at most {MAX_SIMULATED_S} seconds (10 simulated years)"),
        ));
    }
    let duration = s.duration_s.unwrap_or(f64::INFINITY);
    // How long the arrivals last with no `duration_s`, and which key sets it.
    let (pace_s, pace_key) = match &workload.trace {
        Some(t) if workload.timed => (t.span_s, "workload.trace.time_unit_s"),
        // With a profile, the time by which ∫λ reaches the requests.
        _ => (
            requests.map_or(f64::INFINITY, |n| workload.time_for(n as f64)),
            "workload.rate",
        ),
    };
    // The requests expected by `duration`: rate × duration, or ∫λ over it.
    let arriving = |duration: f64| workload.expected_arrivals(duration);
    if duration.is_infinite() && pace_s > MAX_SIMULATED_S {
        let (what, remedy) = if pace_key == "workload.rate" {
            (
                format!(
                    "is {}: {} requests would take {} to arrive",
                    rate_in_words(workload),
                    requests.unwrap_or(0),
                    seconds(pace_s)
                ),
                "raise the rate or lower `requests`",
            )
        } else {
            (
                format!("stretches the trace's timestamps over {}", seconds(pace_s)),
                "lower it, or set `duration_s`",
            )
        };
        return Err(Invalid::new(
            pace_key,
            format!(
                "{what}; a run may last at most 10 simulated years ({MAX_SIMULATED_S} s): \
                 {remedy}"
            ),
        ));
    }
    let arrivals_s = duration.min(pace_s);
    let expected = match (&workload.trace, requests) {
        (Some(_), Some(n)) if workload.timed => n as f64,
        (_, Some(n)) => (n as f64).min(arriving(duration)),
        (_, None) => arriving(duration),
    };
    if expected > MAX_REQUESTS as f64 {
        return Err(Invalid::new(
            "duration_s",
            format!(
                "is {duration}: at workload.rate = {} the run would make {expected:.3e} \
                 requests; at most {MAX_REQUESTS} (about a day of simulation at a million \
                 requests per second)",
                rate_in_words(workload)
            ),
        ));
    }
    if requests.is_none() && s.warmup_requests.fixed() as f64 >= expected {
        return Err(Invalid::new(
            "warmup_requests",
            format!(
                "is {}; must be below the requests the run is expected to make \
                 (∫ workload.rate over duration_s = {expected:.0}), or nothing is measured",
                s.warmup_requests.fixed()
            ),
        ));
    }
    let (mut hops_mean_ms, mut hops_max_ms) = (0.0, 0.0);
    let (mut service_mean_ms, mut service_max_ms) = (0.0, 0.0);
    for l in &s.layers {
        let latency = l.latency.clone().unwrap_or_default();
        let rtt = l
            .rtt_ms
            .as_ref()
            .map_or(0.0, |m| m.values().copied().fold(0.0, f64::max));
        if l.kind == crate::layer::LayerKind::Database {
            service_mean_ms = latency.mean_ms();
            service_max_ms = latency.expected_max_ms(expected);
        } else {
            hops_mean_ms += latency.mean_ms() + rtt;
            hops_max_ms += latency.expected_max_ms(expected) + rtt;
        }
    }
    Ok(Horizon {
        requests: expected,
        arrivals_s,
        // Simulated time ends at 2^64 ns (584 years).
        span_s: (arrivals_s + (hops_max_ms + service_max_ms) / 1e3).min(u64::MAX as f64 / 1e9),
        hops_mean_s: hops_mean_ms / 1e3,
        hops_max_s: hops_max_ms / 1e3,
        service_mean_s: service_mean_ms / 1e3,
    })
}

/// The rate for a message: the number, or a profile's peak.
fn rate_in_words(w: &WorkloadPlan) -> String {
    match (&w.profile, w.class_rates.is_empty()) {
        (None, true) => w.rate.to_string(),
        _ => format!("a profile peaking at {}", w.peak_rate()),
    }
}

/// Checks every key bounded by the run's horizon `h` (the module's table); errors name
/// the key from the scenario's top level.
pub(super) fn check(s: &Scenario, h: &Horizon, caches: &[CachePlan]) -> Result<(), Invalid> {
    let limit_s = h.latency_limit_s();
    let limit = h.latency_limit();
    for (i, layer) in s.layers.iter().enumerate() {
        check_layer(layer, limit_s, &limit, h, caches.get(i))
            .map_err(|e| e.at(i).under("layers"))?;
    }
    if let Some(interval) = s.workload.flush_interval_s {
        // The timer runs while requests arrive, and on while the database is down with
        // writes pending: until the last database fault ends.
        let db = s.layers.last().map(|l| l.name.as_str());
        let faults_end = s
            .faults
            .iter()
            .filter(|f| Some(f.layer.as_str()) == db)
            .map(|f| f.start_s + f.duration_s)
            .fold(0.0, f64::max);
        let timer_s = h.arrivals_s.max(faults_end);
        let least = timer_s / (MAX_FLUSHES_PER_REQUEST * h.requests.max(1.0));
        if interval < least {
            return Err(Invalid::new(
                "workload.flush_interval_s",
                format!(
                    "is {interval}; must be at least {least:.3e} s here: {} timed flushes \
                     over {} would outnumber the {:.0} requests more than \
                     {MAX_FLUSHES_PER_REQUEST} to 1",
                    (timer_s / interval).round(),
                    seconds(timer_s),
                    h.requests
                ),
            ));
        }
    }
    if let Some(d) = &s.workload.drift {
        check_drift(d, h)?;
    }
    let bucket_s = s.metrics.bucket_s;
    if bucket_s > MAX_SIMULATED_S {
        return Err(Invalid::new(
            "metrics.bucket_s",
            format!("is {bucket_s}; at most {MAX_SIMULATED_S} seconds (10 simulated years)"),
        ));
    }
    for (i, f) in s.faults.iter().enumerate() {
        for (key, v) in [("start_s", f.start_s), ("duration_s", f.duration_s)] {
            if v > MAX_SIMULATED_S {
                return Err(Invalid::new(
                    key,
                    format!("is {v}; at most {MAX_SIMULATED_S} seconds (10 simulated years)"),
                )
                .at(i)
                .under("faults"));
            }
        }
    }
    Ok(())
}

/// `workload.drift`'s times, bounded by the run's horizon.
fn check_drift(d: &crate::workload::drift::DriftSpec, h: &Horizon) -> Result<(), Invalid> {
    for (i, shift) in d.shifts.iter().enumerate() {
        if shift.at_s > MAX_SIMULATED_S {
            return Err(Invalid::new(
                "at_s",
                format!(
                    "is {}; at most {MAX_SIMULATED_S} seconds (10 simulated years)",
                    shift.at_s
                ),
            )
            .at(i)
            .under("workload.drift.shifts"));
        }
    }
    if let Some(c) = d.churn {
        let moved = (c.share * c.top as f64).round().max(1.0);
        let least = h.arrivals_s * moved / (MAX_FLUSHES_PER_REQUEST * h.requests.max(1.0));
        if c.interval_s < least {
            return Err(Invalid::new(
                "workload.drift.churn.interval_s",
                format!(
                    "is {}; must be at least {least:.3e} s here: churning {moved:.0} keys                      every interval over {} would move more than {MAX_FLUSHES_PER_REQUEST}                      keys per request ({:.0} requests)",
                    c.interval_s,
                    seconds(h.arrivals_s),
                    h.requests
                ),
            ));
        }
    }
    Ok(())
}

/// One layer's keys bounded by the horizon; errors name the key within the layer.
fn check_layer(
    l: &LayerSpec,
    limit_s: f64,
    limit: &str,
    h: &Horizon,
    cache: Option<&CachePlan>,
) -> Result<(), Invalid> {
    let limit_ms = limit_s * 1e3;
    if let Some(d) = &l.latency {
        d.check_mean(limit_ms, limit)
            .map_err(|e| e.under("latency"))?;
    }
    let within = |key: &str, ms: f64| {
        if ms <= limit_ms {
            Ok(())
        } else {
            Err(Invalid::new(
                key,
                format!("is {ms} ms, longer than {limit} ({limit_ms} ms)"),
            ))
        }
    };
    for (region, &ms) in l.rtt_ms.iter().flatten() {
        within(&format!("rtt_ms.{region}"), ms)?;
    }
    if let Some(ms) = l.propagation_delay_ms {
        within("propagation_delay_ms", ms)?;
    }
    if let Some(crate::layer::stampede::StampedeSpec::Lock {
        lock_ttl_ms,
        wait_timeout_ms,
        ..
    }) = &l.stampede
    {
        within("stampede.lock_ttl_ms", *lock_ttl_ms)?;
        within("stampede.wait_timeout_ms", *wait_timeout_ms)?;
    }
    if let Some(shed) = &l.shed {
        within("shed.target_ms", shed.target_ms)?;
        within("shed.interval_ms", shed.interval_ms)?;
    }
    if let Some(at) = cache.and_then(|c| c.sync_expiry).map(|s| s.at)
        && at > SimTime::from_secs_f64(h.arrivals_s)
    {
        return Err(Invalid::new(
            "sync_expiry.at_s",
            format!(
                "is {}; must be at most the run's expected duration ({}): a warm-up after \
                 the last request fills nothing a request reads",
                at.as_secs_f64(),
                seconds(h.arrivals_s)
            ),
        ));
    }
    Ok(())
}

/// The time-series bucket for a run of `span_s` simulated seconds asked for at
/// `bucket`: itself, or, when the span would need more than [`MAX_BUCKETS`] rows, the
/// smallest round multiple of it (1, 2 or 5 times a power of ten) that needs no more.
///
/// ```
/// use tiersim::SimTime;
/// use tiersim::scenario::bounds::bucket_for;
/// let b = SimTime::from_secs_f64(1.0);
/// assert_eq!(bucket_for(b, 1000.0), b);
/// // A year of 1 s buckets would be 31.6M rows: 500 s buckets make 63,114.
/// assert_eq!(bucket_for(b, 365.25 * 86_400.0), SimTime::from_secs_f64(500.0));
/// ```
pub fn bucket_for(bucket: SimTime, span_s: f64) -> SimTime {
    let width_s = bucket.as_secs_f64();
    let need = span_s / (width_s * MAX_BUCKETS as f64);
    if width_s <= 0.0 || need <= 1.0 {
        return bucket;
    }
    let mut power = 1.0f64;
    let factor = 'round: loop {
        for m in [1.0, 2.0, 5.0] {
            if m * power >= need {
                break 'round m * power;
            }
        }
        power *= 10.0;
    };
    SimTime::from_nanos(bucket.as_nanos().saturating_mul(factor as u64))
}
