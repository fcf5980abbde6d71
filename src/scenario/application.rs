//! The `[application]` table: how the application, the caller of the database, treats
//! its calls: a deadline per call (`timeout_ms`), retries with exponential backoff and
//! jitter (`retries`), and a circuit breaker (`breaker`).
//!
//! The application calls the database on every full miss, for every write that goes to
//! it, for write-back flushes and for background refreshes. This module owns the spec,
//! its validation and the resolved plan; the engine's `resilience` module keeps the
//! run-time state and makes the decisions.
//!
//! | key | what it does |
//! |---|---|
//! | `timeout_ms` | a call that is not answered within it (queueing included) fails at the deadline with cause `timeout`; the database still does the query (wasted work) and its answer fills nothing and answers nobody |
//! | `retries = { max, backoff_ms, multiplier, jitter }` | after a failed call the application waits `backoff_ms · multiplier^(n−1) · (1 ± jitter·U)` (U uniform in [0, 1), n the retry's number from 1) and calls again, at most `max` more times |
//! | `breaker = { failure_ratio, window_s, min_calls, open_s, probes }` | closed → open when, over the last `window_s`, at least `min_calls` calls ended and the failed share is at least `failure_ratio`; open: every call fails at once (cause `breaker_open`) for `open_s`; then half-open: `probes` calls go through, all succeed → closed, one fails → open again |

use serde::{Deserialize, Serialize};

use crate::SimTime;
use crate::base::Invalid;
use crate::scenario::bounds::MAX_RETRIES;

/// The `[application]` table, as written.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApplicationSpec {
    /// The deadline of one call to the database, ms, queueing included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<f64>,
    /// Retries after a failed call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<RetrySpec>,
    /// The circuit breaker in front of the database.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub breaker: Option<BreakerSpec>,
}

/// `retries = { max, backoff_ms, multiplier, jitter }`, as written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetrySpec {
    /// Calls after the first, at most.
    pub max: u32,
    /// The wait before the first retry, ms (0: retry at once).
    pub backoff_ms: f64,
    /// Each further wait is this many times the one before.
    pub multiplier: f64,
    /// Each wait is scaled by `1 ± jitter·U`, U uniform in [0, 1).
    pub jitter: f64,
}

impl Default for RetrySpec {
    fn default() -> Self {
        RetrySpec {
            max: 3,
            backoff_ms: 50.0,
            multiplier: 2.0,
            jitter: 0.5,
        }
    }
}

/// `breaker = { failure_ratio, window_s, min_calls, open_s, probes }`, as written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BreakerSpec {
    /// The failed share of the window's calls that opens it.
    pub failure_ratio: f64,
    /// The window the share is taken over, seconds.
    pub window_s: f64,
    /// Calls the window must hold before it may open.
    pub min_calls: u32,
    /// How long it stays open, seconds.
    pub open_s: f64,
    /// Calls let through half-open.
    pub probes: u32,
}

impl Default for BreakerSpec {
    fn default() -> Self {
        BreakerSpec {
            failure_ratio: 0.5,
            window_s: 10.0,
            min_calls: 20,
            open_s: 5.0,
            probes: 3,
        }
    }
}

/// A validated `[application]` table with at least one key set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ApplicationPlan {
    /// The deadline of a call, if any.
    pub timeout: Option<SimTime>,
    /// Retries, if any.
    pub retries: Option<RetryPlan>,
    /// The breaker, if any.
    pub breaker: Option<BreakerPlan>,
}

/// Validated retries.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RetryPlan {
    /// Calls after the first, at most.
    pub max: u32,
    /// The first wait.
    pub backoff: SimTime,
    /// The growth of the waits.
    pub multiplier: f64,
    /// The jitter, in [0, 1].
    pub jitter: f64,
}

impl RetryPlan {
    /// The wait before retry `n` (from 1), for a uniform draw `u` in [0, 1):
    /// `backoff · multiplier^(n−1) · (1 + jitter · (2u − 1))`.
    ///
    /// ```
    /// use tiersim::SimTime;
    /// use tiersim::scenario::application::RetryPlan;
    /// let r = RetryPlan { max: 3, backoff: SimTime::from_millis_f64(50.0), multiplier: 2.0, jitter: 0.5 };
    /// assert_eq!(r.wait(3, 0.5), SimTime::from_millis_f64(200.0));
    /// assert_eq!(r.wait(1, 0.0), SimTime::from_millis_f64(25.0));
    /// ```
    pub fn wait(&self, n: u32, u: f64) -> SimTime {
        if self.backoff == SimTime::ZERO {
            return SimTime::ZERO;
        }
        let base = self.backoff.as_nanos() as f64 * self.multiplier.powi(n as i32 - 1);
        let scaled = base * (1.0 + self.jitter * (2.0 * u - 1.0));
        // Capped at ten years: a wait past any run is no wait worth modelling.
        SimTime::from_nanos(scaled.min(MAX_WAIT_NS) as u64)
    }
}

/// The longest wait between calls, ns (ten years).
const MAX_WAIT_NS: f64 = 3.2e17;

/// A validated breaker.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BreakerPlan {
    /// The failed share that opens it, in (0, 1].
    pub failure_ratio: f64,
    /// The window of calls it looks at.
    pub window: SimTime,
    /// Calls the window must hold.
    pub min_calls: u32,
    /// How long it stays open.
    pub open: SimTime,
    /// Calls let through half-open, at least 1.
    pub probes: u32,
}

/// A positive, finite number of seconds or ms, or the message saying what is allowed.
fn positive(key: &str, v: f64, unit: &str) -> Result<(), Invalid> {
    let max = MAX_DURATION_S * if unit == "ms" { 1e3 } else { 1.0 };
    if v.is_finite() && v > 0.0 && v <= max {
        Ok(())
    } else {
        Err(Invalid::new(
            key,
            format!(
                "is {v}; must be a number of {} above 0 and at most 10 years",
                if unit == "ms" {
                    "milliseconds"
                } else {
                    "seconds"
                }
            ),
        ))
    }
}

/// The longest duration any key of the table may give: ten years, as a run.
const MAX_DURATION_S: f64 = crate::scenario::bounds::MAX_SIMULATED_S;

impl ApplicationSpec {
    /// Checks every key: `None` when none is set (an empty table changes nothing).
    pub fn resolve(&self) -> Result<Option<ApplicationPlan>, Invalid> {
        let timeout = match self.timeout_ms {
            None => None,
            Some(t) => {
                positive("timeout_ms", t, "ms")?;
                Some(SimTime::from_millis_f64(t))
            }
        };
        let retries = match &self.retries {
            None => None,
            Some(r) => Some(r.resolve().map_err(|e| e.under("retries"))?),
        };
        let breaker = match &self.breaker {
            None => None,
            Some(b) => Some(b.resolve().map_err(|e| e.under("breaker"))?),
        };
        if timeout.is_none() && retries.is_none() && breaker.is_none() {
            return Ok(None);
        }
        Ok(Some(ApplicationPlan {
            timeout,
            retries,
            breaker,
        }))
    }
}

impl RetrySpec {
    fn resolve(&self) -> Result<RetryPlan, Invalid> {
        if self.max > MAX_RETRIES {
            return Err(Invalid::new(
                "max",
                format!(
                    "is {}; must be between 0 and {MAX_RETRIES} retries after the first call",
                    self.max
                ),
            ));
        }
        let b = self.backoff_ms;
        if !(b.is_finite() && (0.0..=MAX_DURATION_S * 1e3).contains(&b)) {
            return Err(Invalid::new(
                "backoff_ms",
                format!("is {b}; must be a number of milliseconds from 0 to 10 years"),
            ));
        }
        let m = self.multiplier;
        if !(m.is_finite() && (1.0..=100.0).contains(&m)) {
            return Err(Invalid::new(
                "multiplier",
                format!("is {m}; must be between 1 and 100 (each wait at least the one before)"),
            ));
        }
        let j = self.jitter;
        if !(j.is_finite() && (0.0..=1.0).contains(&j)) {
            return Err(Invalid::new(
                "jitter",
                format!("is {j}; must be between 0 and 1 (a share of the wait)"),
            ));
        }
        Ok(RetryPlan {
            max: self.max,
            backoff: SimTime::from_millis_f64(b),
            multiplier: m,
            jitter: j,
        })
    }
}

impl BreakerSpec {
    fn resolve(&self) -> Result<BreakerPlan, Invalid> {
        let r = self.failure_ratio;
        if !(r.is_finite() && r > 0.0 && r <= 1.0) {
            return Err(Invalid::new(
                "failure_ratio",
                format!("is {r}; must be above 0 and at most 1 (a share of the calls)"),
            ));
        }
        positive("window_s", self.window_s, "s")?;
        positive("open_s", self.open_s, "s")?;
        if self.min_calls < 1 {
            return Err(Invalid::new(
                "min_calls",
                "is 0; must be at least 1 call".to_string(),
            ));
        }
        if self.probes < 1 {
            return Err(Invalid::new(
                "probes",
                "is 0; must be at least 1 call let through half-open".to_string(),
            ));
        }
        Ok(BreakerPlan {
            failure_ratio: r,
            window: SimTime::from_secs_f64(self.window_s),
            min_calls: self.min_calls,
            open: SimTime::from_secs_f64(self.open_s),
            probes: self.probes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The schedule of waits: backoff·multiplier^(n−1), within ±jitter of it.
    #[test]
    fn waits_grow_geometrically_within_the_jitter() {
        let r = RetryPlan {
            max: 5,
            backoff: SimTime::from_millis_f64(10.0),
            multiplier: 3.0,
            jitter: 0.2,
        };
        for n in 1..=5 {
            let mid = 10.0 * 3f64.powi(n as i32 - 1);
            for u in [0.0, 0.25, 0.5, 0.999] {
                let w = r.wait(n, u).as_secs_f64() * 1e3;
                assert!(
                    w >= mid * 0.8 - 1e-6 && w <= mid * 1.2 + 1e-6,
                    "n {n} u {u}: {w}"
                );
            }
            assert!((r.wait(n, 0.5).as_secs_f64() * 1e3 - mid).abs() < 1e-6);
        }
        let now = RetryPlan {
            backoff: SimTime::ZERO,
            ..r
        };
        assert_eq!(now.wait(4, 0.9), SimTime::ZERO);
    }

    #[test]
    fn an_empty_table_is_no_plan() {
        assert_eq!(ApplicationSpec::default().resolve(), Ok(None));
    }
}
