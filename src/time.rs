//! Simulated time: integer nanoseconds, so event order never depends on float rounding.

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
    pub fn from_nanos_f64(ns: f64) -> Self {
        // `as` saturates: NaN and negatives go to 0, overflow to u64::MAX.
        SimTime(ns.round() as u64)
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
