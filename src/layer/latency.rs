//! Latency distributions: how long a layer takes to answer, or the database to serve a query.
//!
//! Scenario files give every figure in milliseconds; samples come out as [`SimTime`].
//!
//! It knows distributions and random streams, not which layer or query draws from them.

use rand::Rng;
use rand_distr::{Distribution, Exp, LogNormal, Normal, Pareto, Uniform};
use serde::{Deserialize, Serialize};

use crate::SimTime;
use crate::base::Invalid;

/// A latency distribution as written in a scenario: `{ dist = "lognormal", median_ms = 5.0, sigma = 0.5 }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "dist", rename_all = "snake_case", deny_unknown_fields)]
pub enum LatencySpec {
    /// Always `ms`.
    Constant {
        /// The latency.
        ms: f64,
    },
    /// Uniform on `[min_ms, max_ms]`.
    Uniform {
        /// Lower bound.
        min_ms: f64,
        /// Upper bound.
        max_ms: f64,
    },
    /// Normal, truncated at zero (negative samples become 0).
    Normal {
        /// Mean before truncation.
        mean_ms: f64,
        /// Standard deviation before truncation.
        sd_ms: f64,
    },
    /// Log-normal with the given median and shape (the sigma of the underlying normal).
    Lognormal {
        /// Median, `exp(mu)`.
        median_ms: f64,
        /// Sigma of the underlying normal.
        sigma: f64,
    },
    /// Exponential with the given mean: M/M/c service.
    Exponential {
        /// Mean, `1/lambda`.
        mean_ms: f64,
    },
    /// Pareto (type I) with minimum `scale_ms` and tail index `shape`.
    Pareto {
        /// Minimum value.
        scale_ms: f64,
        /// Tail index; the mean is finite for shape > 1.
        shape: f64,
    },
}

impl Default for LatencySpec {
    fn default() -> Self {
        LatencySpec::Constant { ms: 0.0 }
    }
}

/// A validated latency distribution, ready to sample, in nanoseconds.
#[derive(Clone, Debug)]
pub enum Latency {
    /// A fixed latency.
    Constant(SimTime),
    /// Uniform, in ns.
    Uniform(Uniform<f64>),
    /// Normal in ns, truncated at zero.
    Normal(Normal<f64>),
    /// Log-normal in ns.
    LogNormal(LogNormal<f64>),
    /// Exponential in ns.
    Exp(Exp<f64>),
    /// Pareto in ns.
    Pareto(Pareto<f64>),
}

pub(crate) fn finite_nonneg(key: &str, v: f64) -> Result<f64, Invalid> {
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(Invalid::new(
            key,
            format!("is {v}; must be a finite number >= 0"),
        ))
    }
}

pub(crate) fn positive(key: &str, v: f64) -> Result<f64, Invalid> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(Invalid::new(
            key,
            format!("is {v}; must be a finite number > 0"),
        ))
    }
}

const NS_PER_MS: f64 = 1e6;

impl LatencySpec {
    /// The mean in milliseconds (for the normal, before truncation; infinite for a
    /// Pareto with shape <= 1).
    ///
    /// ```
    /// use tiersim::layer::latency::LatencySpec;
    /// let l = LatencySpec::Lognormal { median_ms: 5.0, sigma: 0.5 };
    /// assert!((l.mean_ms() - 5.0 * (0.125f64).exp()).abs() < 1e-12);
    /// ```
    pub fn mean_ms(&self) -> f64 {
        match *self {
            LatencySpec::Constant { ms } => ms,
            LatencySpec::Uniform { min_ms, max_ms } => (min_ms + max_ms) / 2.0,
            LatencySpec::Normal { mean_ms, .. } => mean_ms,
            LatencySpec::Lognormal { median_ms, sigma } => median_ms * (sigma * sigma / 2.0).exp(),
            LatencySpec::Exponential { mean_ms } => mean_ms,
            LatencySpec::Pareto { scale_ms, shape } if shape > 1.0 => {
                scale_ms * shape / (shape - 1.0)
            }
            LatencySpec::Pareto { .. } => f64::INFINITY,
        }
    }

    /// Checks the parameters and builds the sampler.
    ///
    /// ```
    /// use tiersim::layer::latency::LatencySpec;
    /// let l = LatencySpec::Constant { ms: 0.3 }.resolve().unwrap();
    /// assert!(!l.is_zero());
    /// assert!(LatencySpec::Exponential { mean_ms: -1.0 }.resolve().is_err());
    /// ```
    pub fn resolve(&self) -> Result<Latency, Invalid> {
        Ok(match *self {
            LatencySpec::Constant { ms } => {
                Latency::Constant(SimTime::from_millis_f64(finite_nonneg("ms", ms)?))
            }
            LatencySpec::Uniform { min_ms, max_ms } => {
                let lo = finite_nonneg("min_ms", min_ms)?;
                let hi = finite_nonneg("max_ms", max_ms)?;
                if hi < lo {
                    return Err(Invalid::new(
                        "max_ms",
                        format!("is {hi}; must be >= min_ms ({lo})"),
                    ));
                }
                if hi == lo {
                    Latency::Constant(SimTime::from_millis_f64(lo))
                } else {
                    Latency::Uniform(
                        Uniform::new_inclusive(lo * NS_PER_MS, hi * NS_PER_MS)
                            .map_err(|e| Invalid::new("max_ms", e.to_string()))?,
                    )
                }
            }
            LatencySpec::Normal { mean_ms, sd_ms } => {
                let sd = finite_nonneg("sd_ms", sd_ms)?;
                if !mean_ms.is_finite() {
                    return Err(Invalid::new("mean_ms", "must be a finite number"));
                }
                Latency::Normal(
                    Normal::new(mean_ms * NS_PER_MS, sd * NS_PER_MS)
                        .map_err(|e| Invalid::new("sd_ms", e.to_string()))?,
                )
            }
            LatencySpec::Lognormal { median_ms, sigma } => {
                let median = positive("median_ms", median_ms)?;
                let sigma = finite_nonneg("sigma", sigma)?;
                Latency::LogNormal(
                    LogNormal::new((median * NS_PER_MS).ln(), sigma)
                        .map_err(|e| Invalid::new("sigma", e.to_string()))?,
                )
            }
            LatencySpec::Exponential { mean_ms } => {
                let mean = positive("mean_ms", mean_ms)?;
                Latency::Exp(
                    Exp::new(1.0 / (mean * NS_PER_MS))
                        .map_err(|e| Invalid::new("mean_ms", e.to_string()))?,
                )
            }
            LatencySpec::Pareto { scale_ms, shape } => {
                let scale = positive("scale_ms", scale_ms)?;
                let shape = positive("shape", shape)?;
                Latency::Pareto(
                    Pareto::new(scale * NS_PER_MS, shape)
                        .map_err(|e| Invalid::new("shape", e.to_string()))?,
                )
            }
        })
    }
}

impl Latency {
    /// Draws one latency. A constant draws nothing from `rng`.
    #[inline]
    pub fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> SimTime {
        match self {
            Latency::Constant(t) => *t,
            Latency::Uniform(d) => SimTime::from_nanos_f64(d.sample(rng)),
            Latency::Normal(d) => SimTime::from_nanos_f64(d.sample(rng).max(0.0)),
            Latency::LogNormal(d) => SimTime::from_nanos_f64(d.sample(rng)),
            Latency::Exp(d) => SimTime::from_nanos_f64(d.sample(rng)),
            Latency::Pareto(d) => SimTime::from_nanos_f64(d.sample(rng)),
        }
    }

    /// The latency if it is constant: the engine then schedules the hop in a FIFO lane
    /// instead of the event heap.
    #[inline]
    pub fn constant(&self) -> Option<SimTime> {
        match self {
            Latency::Constant(t) => Some(*t),
            _ => None,
        }
    }

    /// Whether every sample is zero, so a hop through it can be taken without an event.
    pub fn is_zero(&self) -> bool {
        matches!(self, Latency::Constant(t) if *t == SimTime::ZERO)
    }
}
