//! Overload controls at run time ([`crate::layer::overload`]): each layer's token
//! bucket, the database's queue bound and its CoDel shedder, and why a request failed
//! ([`Cause`]).
//!
//! It owns the buckets' tokens and CoDel's drop schedule, and decides admit or refuse
//! (at a layer, at the database) and drop or serve (at the queue's head); the walk acts
//! on the answers (`path`: the checks, hooks of the `Full` walk; `detours`: `fail` with
//! a cause). A run with no control keeps no state here (the engine holds `None`) and
//! walks `Plain`, which compiles the checks out.

use crate::SimTime;
use crate::layer::overload::{RateLimit, Shed};
use crate::metrics::Rejections;
use crate::scenario::Plan;

/// Why a request failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    /// A layer or the database down without fallback ([`crate::scenario::fault`]).
    Fault,
    /// A layer's token bucket was empty: a 429.
    RateLimited,
    /// The database's queue was full (`max_queue`): a 503.
    QueueFull,
    /// CoDel dropped the query at the head of the database's queue (`shed`).
    Shed,
    /// The application's deadline passed (`[application] timeout_ms`).
    Timeout,
    /// The application's circuit breaker was open.
    BreakerOpen,
}

impl Cause {
    /// Counts a refusal of this cause in `r` (a failure that is no refusal counts
    /// nowhere).
    pub fn count_in(self, r: &mut Rejections) {
        match self {
            Cause::RateLimited => r.rate_limited += 1,
            Cause::QueueFull => r.queue_full += 1,
            Cause::Shed => r.shed += 1,
            Cause::BreakerOpen => r.breaker_open += 1,
            Cause::Fault | Cause::Timeout => {}
        }
    }
}

/// A token bucket: `burst` tokens at most, refilled at `rps` per second, full at time
/// zero. Tokens are fractional; one request takes one whole token.
#[derive(Clone, Debug)]
pub struct TokenBucket {
    /// Tokens per nanosecond.
    per_ns: f64,
    burst: f64,
    tokens: f64,
    /// When `tokens` was last brought up to date.
    at: SimTime,
}

impl TokenBucket {
    /// A full bucket.
    pub fn new(limit: RateLimit) -> Self {
        TokenBucket {
            per_ns: limit.rps / 1e9,
            burst: limit.burst,
            tokens: limit.burst,
            at: SimTime::ZERO,
        }
    }

    /// A request arrives at `now` (no earlier than the last): takes a token if there is
    /// one; returns whether it did.
    #[inline]
    pub fn take(&mut self, now: SimTime) -> bool {
        let dt = (now - self.at).as_nanos() as f64;
        self.tokens = (self.tokens + dt * self.per_ns).min(self.burst);
        self.at = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// CoDel's dequeue-side state (RFC 8289, section 5, with a query for a packet): it
/// drops only after the sojourn time has stayed at or above `target` for a whole
/// `interval`, then at `interval / √count` spacing while it stays there; it leaves the
/// dropping state as soon as a query's sojourn falls below `target`.
#[derive(Clone, Debug)]
pub struct CoDel {
    target: SimTime,
    interval: SimTime,
    /// When the sojourn time will have been above target for an interval, if it is
    /// above target now (RFC 8289's `first_above_time`).
    first_above: Option<SimTime>,
    dropping: bool,
    /// When the next drop is due in the dropping state.
    drop_next: SimTime,
    /// Drops since entering the dropping state (carried over when it re-enters soon).
    count: u32,
    /// `count` when the dropping state was last entered.
    last_count: u32,
}

impl CoDel {
    /// An idle shedder.
    pub fn new(shed: Shed) -> Self {
        CoDel {
            target: shed.target,
            interval: shed.interval,
            first_above: None,
            dropping: false,
            drop_next: SimTime::ZERO,
            count: 0,
            last_count: 0,
        }
    }

    /// `t + interval / √count`: when the next drop is due.
    fn control_law(&self, t: SimTime) -> SimTime {
        let gap = self.interval.as_nanos() as f64 / f64::from(self.count.max(1)).sqrt();
        t + SimTime::from_nanos(gap as u64)
    }

    /// RFC 8289's `ok_to_drop`: whether the sojourn has been at or above target for at
    /// least an interval, updating when that began.
    fn above_for_an_interval(&mut self, sojourn: SimTime, now: SimTime) -> bool {
        if sojourn < self.target {
            self.first_above = None;
            return false;
        }
        match self.first_above {
            None => {
                self.first_above = Some(now + self.interval);
                false
            }
            Some(t) => now >= t,
        }
    }

    /// A query leaves the queue at `now` after waiting `sojourn` (`last`: no other
    /// query waits behind it): whether to drop it. As RFC 8289 never drops the last
    /// packet of a queue, the last query is served and ends the time above target.
    pub fn drop_head(&mut self, sojourn: SimTime, now: SimTime, last: bool) -> bool {
        let ok = if last {
            self.first_above = None;
            false
        } else {
            self.above_for_an_interval(sojourn, now)
        };
        if self.dropping {
            if !ok {
                self.dropping = false;
                return false;
            }
            if now >= self.drop_next {
                self.count += 1;
                self.drop_next = self.control_law(self.drop_next);
                return true;
            }
            return false;
        }
        if !ok {
            return false;
        }
        self.dropping = true;
        // Re-entering soon after leaving: start near the last rate, not from scratch.
        let delta = self.count.saturating_sub(self.last_count);
        let recent = now < self.drop_next + SimTime::from_nanos(16 * self.interval.as_nanos());
        self.count = if delta > 1 && recent { delta } else { 1 };
        self.last_count = self.count;
        self.drop_next = self.control_law(now);
        true
    }
}

/// A run's overload controls.
#[derive(Debug)]
pub struct Overload {
    /// Per cache layer, its bucket if it has one.
    layers: Vec<Option<TokenBucket>>,
    /// The database's bucket.
    database: Option<TokenBucket>,
    /// The database's queue bound.
    pub max_queue: Option<u32>,
    /// The database's shedder.
    pub codel: Option<CoDel>,
}

impl Overload {
    /// The plan's controls, or `None` when it sets none.
    pub fn new(plan: &Plan) -> Option<Self> {
        if !plan.overload_controls() {
            return None;
        }
        let layers: Vec<Option<TokenBucket>> = plan
            .caches
            .iter()
            .map(|c| c.rate_limit.map(TokenBucket::new))
            .collect();
        let db = &plan.database;
        Some(Overload {
            layers,
            database: db.rate_limit.map(TokenBucket::new),
            max_queue: db.max_queue,
            codel: db.shed.map(CoDel::new),
        })
    }

    /// Whether cache layer `i` refuses a request arriving at `now` (its bucket empty).
    #[inline]
    pub fn layer_refuses(&mut self, i: usize, now: SimTime) -> bool {
        self.layers[i].as_mut().is_some_and(|b| !b.take(now))
    }

    /// Whether the database refuses a query arriving at `now`, with `waiting` queries
    /// waiting and every connection busy if `full`: the cause, if it does.
    #[inline]
    pub fn database_refuses(&mut self, now: SimTime, waiting: usize, busy: bool) -> Option<Cause> {
        if let Some(b) = &mut self.database
            && !b.take(now)
        {
            return Some(Cause::RateLimited);
        }
        match self.max_queue {
            Some(k) if busy && waiting >= k as usize => Some(Cause::QueueFull),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(x: f64) -> SimTime {
        SimTime::from_secs_f64(x / 1e3)
    }

    /// Starts full with `burst`; then admits one per 1/rps.
    #[test]
    fn a_bucket_admits_its_burst_then_its_rate() {
        let mut b = TokenBucket::new(RateLimit {
            rps: 100.0,
            burst: 5.0,
        });
        let at_zero = (0..10).filter(|_| b.take(SimTime::ZERO)).count();
        assert_eq!(at_zero, 5);
        // 10 ms later exactly one token has come back.
        assert!(b.take(ms(10.0)));
        assert!(!b.take(ms(10.0)));
        // A long pause refills to the burst, never beyond.
        let later = (0..10).filter(|_| b.take(ms(10_000.0))).count();
        assert_eq!(later, 5);
    }

    /// In any window of length w the bucket admits at most burst + rps·w: checked at
    /// every window start over a dense stream of arrivals.
    #[test]
    fn no_window_admits_more_than_burst_plus_rate() {
        let (rps, burst) = (1000.0, 20.0);
        let mut b = TokenBucket::new(RateLimit { rps, burst });
        // 10 arrivals per ms: ten times the rate.
        let admitted: Vec<SimTime> = (0..100_000u64)
            .map(|i| SimTime::from_nanos(i * 100_000))
            .filter(|&t| b.take(t))
            .collect();
        for w_ms in [1.0, 5.0, 50.0, 500.0] {
            let w = ms(w_ms);
            let mut j = 0;
            for i in 0..admitted.len() {
                while j < admitted.len() && admitted[j] < admitted[i] + w {
                    j += 1;
                }
                let bound = burst + rps * w_ms / 1e3;
                assert!((j - i) as f64 <= bound + 1e-9, "{} in {w_ms} ms", j - i);
            }
        }
        // And the long-run rate is the bucket's: the first burst, then one per 1/rps up
        // to the last arrival (at 9.9999 s: 9,999.9 tokens, so 9,999 whole ones).
        let last_s = 99_999.0 * 1e-4;
        assert_eq!(admitted.len() as f64, burst + (rps * last_s).floor());
    }

    /// No drop before the sojourn has stayed above target for a whole interval; then
    /// drops at interval/√count spacing; none once the sojourn falls below target.
    #[test]
    fn codel_waits_an_interval_then_drops_at_interval_over_sqrt_count() {
        let shed = Shed {
            target: ms(5.0),
            interval: ms(100.0),
        };
        let mut c = CoDel::new(shed);
        let high = ms(20.0);
        // Above target from t = 0: nothing dropped before t = 100 ms.
        let mut drops = Vec::new();
        for t in 0..=1000u64 {
            let now = ms(t as f64);
            if c.drop_head(high, now, false) {
                drops.push(now);
            }
        }
        assert_eq!(
            drops[0],
            ms(100.0),
            "the first drop comes an interval after"
        );
        // Then the gaps are interval/√1, interval/√2, ... (to the nanosecond, and the
        // dequeues come every ms, so each drop is at the first ms at or after its due time).
        let mut due = drops[0];
        for (k, pair) in drops.windows(2).enumerate() {
            let gap = ms(100.0).as_nanos() as f64 / ((k + 1) as f64).sqrt();
            due = due + SimTime::from_nanos(gap as u64);
            let want = SimTime::from_nanos(due.as_nanos().div_ceil(1_000_000) * 1_000_000);
            assert_eq!(pair[1], want, "drop {}", k + 2);
        }
        assert!(drops.len() >= 5);
        // Below target: no drop, and the dropping state ends.
        assert!(!c.drop_head(ms(1.0), ms(1001.0), false));
        assert!(
            !c.drop_head(high, ms(1002.0), false),
            "a new interval starts"
        );
    }
}
