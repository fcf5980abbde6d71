//! Simulated time: integer nanoseconds, so event order never depends on float rounding.
//!
//! It knows only numbers: no scenario, no event, no engine.

use std::fmt;
use std::ops::{Add, Sub};

/// A point in simulated time, or a duration, in integer nanoseconds since the run began.
///
/// ```
/// use tiersim::SimTime;
/// let t = SimTime::from_millis_f64(1.5);
/// assert_eq!(t.as_nanos(), 1_500_000);
/// assert_eq!((t + SimTime::from_secs_f64(1.0)).as_millis_f64(), 1001.5);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(u64);

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);
    /// Later than any event: the expiry of an entry without TTL.
    pub const NEVER: SimTime = SimTime(u64::MAX);

    /// Wraps a nanosecond count.
    pub const fn from_nanos(ns: u64) -> Self {
        SimTime(ns)
    }

    /// Converts seconds, rounding to the nearest nanosecond; negative or NaN becomes zero.
    pub fn from_secs_f64(s: f64) -> Self {
        Self::from_nanos_f64(s * 1e9)
    }

    /// Converts milliseconds, rounding to the nearest nanosecond; negative or NaN becomes zero.
    pub fn from_millis_f64(ms: f64) -> Self {
        Self::from_nanos_f64(ms * 1e6)
    }

    /// Converts nanoseconds, rounding; saturates at [`SimTime::NEVER`].
    #[inline]
    pub fn from_nanos_f64(ns: f64) -> Self {
        // Exactly `ns.round() as u64` (half away from zero; NaN and negatives to 0,
        // overflow to u64::MAX), without `f64::round`, a libm call (docs/performance.md).
        // Below 2^52 the fraction `ns - trunc(ns)` is computed exactly; at or above it
        // every f64 is already an integer. NaN compares false both times and ends in
        // `NaN as u64`, which is 0.
        if ns < 4_503_599_627_370_496.0 {
            if ns > 0.0 {
                // Signed conversions: one instruction each way, u64 several.
                let whole = ns as i64;
                let up = ns - whole as f64 >= 0.5;
                SimTime((whole + i64::from(up)) as u64)
            } else {
                SimTime(0) // zero or negative
            }
        } else {
            SimTime(ns as u64) // an integer already, or NaN (to 0); saturates
        }
    }

    /// The nanosecond count.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// Seconds as a float, for reports.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }

    /// Milliseconds as a float, for reports.
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }

    /// `self + d`, saturating at [`SimTime::NEVER`].
    pub const fn saturating_add(self, d: SimTime) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl Add for SimTime {
    type Output = SimTime;
    fn add(self, rhs: SimTime) -> SimTime {
        self.saturating_add(rhs)
    }
}

impl Sub for SimTime {
    type Output = SimTime;
    fn sub(self, rhs: SimTime) -> SimTime {
        SimTime(self.0.saturating_sub(rhs.0))
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.6}s", self.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_nanos_f64_rounds_like_round() {
        let cases = [
            0.0,
            -0.0,
            -0.4,
            -0.6,
            -3.0,
            0.49999999999999994,
            0.5,
            1.5,
            2.5,
            1e6 + 0.4999,
            1e6 + 0.5,
            4_503_599_627_370_495.5,
            4_503_599_627_370_496.0,
            9.007_199_254_740_993e15,
            1.8e19,
            1e30,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        for x in cases {
            assert_eq!(
                SimTime::from_nanos_f64(x).as_nanos(),
                x.round() as u64,
                "{x}"
            );
        }
        let mut z = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..100_000 {
            z = crate::base::rng::mix64(z);
            let x = f64::from_bits(z >> 2); // positive, every magnitude
            assert_eq!(
                SimTime::from_nanos_f64(x).as_nanos(),
                x.round() as u64,
                "{x}"
            );
            let y = (z >> 11) as f64 / 1024.0; // fractions at ns scale
            assert_eq!(
                SimTime::from_nanos_f64(y).as_nanos(),
                y.round() as u64,
                "{y}"
            );
        }
    }
}
