//! Overload controls a layer may carry: a token-bucket rate limit on any layer, and at
//! the database a bounded queue and CoDel load shedding.
//!
//! | key | where | what it does |
//! |---|---|---|
//! | `rate_limit = { rps, burst }` | any layer | a token bucket of `burst` tokens (starts full) refilled at `rps` per second, shared by the layer's nodes; a request that finds no token is refused at once (a 429, cause `rate_limited`) |
//! | `max_queue = K` | database | at most `K` queries wait for a connection (those in service not counted); one arriving to a full queue is refused at once (a 503, cause `queue_full`) |
//! | `shed = { target_ms, interval_ms }` | database | CoDel (Nichols & Jacobson, "Controlling Queue Delay", ACM Queue 2012; RFC 8289): when a query leaves the queue, if the queue's sojourn time has stayed above `target_ms` for at least `interval_ms`, the query is dropped (cause `shed`), and the next drop comes `interval / √count` later while the sojourn stays above target |
//!
//! This module owns the specs and their validation; the run-time state (the buckets'
//! tokens, CoDel's drop schedule) and the decisions live with the engine (its
//! `overload` module), which this module does not know.

use serde::{Deserialize, Serialize};

use crate::SimTime;
use crate::base::Invalid;

/// `rate_limit = { rps = 100, burst = 20 }`, as written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitSpec {
    /// Tokens added per second.
    pub rps: f64,
    /// The bucket's capacity in tokens (it starts full): the largest burst admitted at
    /// once.
    pub burst: f64,
}

/// A validated [`RateLimitSpec`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimit {
    /// Tokens added per second, > 0.
    pub rps: f64,
    /// Capacity in tokens, >= 1.
    pub burst: f64,
}

/// `shed = { target_ms = 5, interval_ms = 100 }`, as written; both default to RFC 8289's
/// values.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShedSpec {
    /// The acceptable standing queue delay, ms (5 when absent).
    #[serde(default = "default_target_ms")]
    pub target_ms: f64,
    /// How long the delay must stay above target before the first drop, ms (100 when
    /// absent).
    #[serde(default = "default_interval_ms")]
    pub interval_ms: f64,
}

fn default_target_ms() -> f64 {
    5.0
}

fn default_interval_ms() -> f64 {
    100.0
}

/// A validated [`ShedSpec`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Shed {
    /// CoDel's target sojourn time.
    pub target: SimTime,
    /// CoDel's interval.
    pub interval: SimTime,
}

/// The most tokens per second a bucket may add: one a nanosecond, the clock's
/// resolution.
pub const MAX_RATE_LIMIT_RPS: f64 = 1e9;

/// The largest `burst`: more tokens than any run makes requests
/// ([`crate::scenario::bounds::MAX_REQUESTS`]) admit everything.
pub const MAX_BURST: f64 = 1e11;

impl RateLimitSpec {
    /// Checks `rps` (> 0, at most [`MAX_RATE_LIMIT_RPS`]) and `burst` (at least 1, at
    /// most [`MAX_BURST`]); errors name the key within the table.
    pub fn resolve(&self) -> Result<RateLimit, Invalid> {
        if !(self.rps.is_finite() && self.rps > 0.0 && self.rps <= MAX_RATE_LIMIT_RPS) {
            return Err(Invalid::new(
                "rps",
                format!(
                    "is {}; must be a number of requests per second > 0 and at most {MAX_RATE_LIMIT_RPS:e} \
                     (drop `rate_limit` for no limit)",
                    self.rps
                ),
            ));
        }
        if !(self.burst.is_finite() && self.burst >= 1.0 && self.burst <= MAX_BURST) {
            return Err(Invalid::new(
                "burst",
                format!(
                    "is {}; must be at least 1 token (a bucket that cannot hold one admits \
                     nothing) and at most {MAX_BURST:e}",
                    self.burst
                ),
            ));
        }
        Ok(RateLimit {
            rps: self.rps,
            burst: self.burst,
        })
    }
}

impl ShedSpec {
    /// Checks `target_ms` and `interval_ms` (each a finite number of milliseconds > 0,
    /// at least 1 ns); errors name the key within the table.
    pub fn resolve(&self) -> Result<Shed, Invalid> {
        let ms = |key: &str, v: f64| {
            if v.is_finite() && v >= 1e-6 {
                Ok(SimTime::from_secs_f64(v / 1e3))
            } else {
                Err(Invalid::new(
                    key,
                    format!("is {v}; must be a finite number of milliseconds > 0 (at least 1 ns)"),
                ))
            }
        };
        Ok(Shed {
            target: ms("target_ms", self.target_ms)?,
            interval: ms("interval_ms", self.interval_ms)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_values_are_refused_by_key() {
        let bad = |rps, burst| RateLimitSpec { rps, burst }.resolve().unwrap_err().key;
        assert_eq!(bad(0.0, 5.0).to_string(), "rps");
        assert_eq!(bad(-1.0, 5.0).to_string(), "rps");
        assert_eq!(bad(10.0, 0.5).to_string(), "burst");
        let shed = |target_ms, interval_ms| {
            ShedSpec {
                target_ms,
                interval_ms,
            }
            .resolve()
        };
        assert_eq!(shed(0.0, 100.0).unwrap_err().key.to_string(), "target_ms");
        assert_eq!(shed(5.0, 0.0).unwrap_err().key.to_string(), "interval_ms");
        assert!(shed(5.0, 100.0).is_ok());
    }
}
