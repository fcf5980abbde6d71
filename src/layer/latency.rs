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

/// Milliseconds for a message: plain below a million, else in scientific notation.
fn fmt_ms(ms: f64) -> String {
    if ms < 1e6 {
        format!("{}", (ms * 1000.0).round() / 1000.0)
    } else {
        format!("{ms:.2e}")
    }
}

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

    /// About the largest of `n` draws, in milliseconds: the 1 - 1/n quantile, or an
    /// upper estimate of it (a Gaussian quantile by `sqrt(2 ln n)`, which exceeds it).
    /// For how long a run's slowest request may take.
    ///
    /// ```
    /// use tiersim::layer::latency::LatencySpec;
    /// let c = LatencySpec::Constant { ms: 2.0 };
    /// assert_eq!(c.expected_max_ms(1e6), 2.0);
    /// let e = LatencySpec::Exponential { mean_ms: 1.0 };
    /// assert!((e.expected_max_ms(1e6) - (1e6f64.ln() + 1.0)).abs() < 1e-9);
    /// ```
    pub fn expected_max_ms(&self, n: f64) -> f64 {
        let n = n.max(2.0);
        let z = (2.0 * n.ln()).sqrt();
        match *self {
            LatencySpec::Constant { ms } => ms,
            LatencySpec::Uniform { max_ms, .. } => max_ms,
            LatencySpec::Normal { mean_ms, sd_ms } => mean_ms + sd_ms * z,
            LatencySpec::Lognormal { median_ms, sigma } => median_ms * (sigma * z).exp(),
            LatencySpec::Exponential { mean_ms } => mean_ms * (n.ln() + 1.0),
            LatencySpec::Pareto { scale_ms, shape } => scale_ms * n.powf(1.0 / shape),
        }
    }

    /// Refuses a distribution whose mean is longer than `limit_ms` (a Pareto of shape
    /// <= 1 has none: its mean is infinite), naming the parameter that makes it so and
    /// the largest value it may take; `limit` says what the limit is, for the message.
    /// Call it on a distribution [`resolve`](Self::resolve) accepted.
    ///
    /// ```
    /// use tiersim::layer::latency::LatencySpec;
    /// let ok = LatencySpec::Lognormal { median_ms: 5.0, sigma: 0.5 };
    /// assert!(ok.check_mean(1000.0, "the run").is_ok());
    /// let wide = LatencySpec::Lognormal { median_ms: 5.0, sigma: 10.0 };
    /// let e = wide.check_mean(200_000.0, "the run (200 s)").unwrap_err();
    /// assert_eq!(e.key.to_string(), "sigma");
    /// assert!(e.message.contains("at most 4.6"), "{}", e.message);
    /// ```
    pub fn check_mean(&self, limit_ms: f64, limit: &str) -> Result<(), Invalid> {
        let mean = self.mean_ms();
        if mean <= limit_ms {
            return Ok(());
        }
        let too_long = |key: &str, value: f64, most: String| {
            Err(Invalid::new(
                key,
                format!(
                    "is {value}: the latency's mean would be {} ms, longer than {limit}; \
                     {most}",
                    fmt_ms(mean)
                ),
            ))
        };
        match *self {
            LatencySpec::Constant { ms } => too_long("ms", ms, format!("at most {limit_ms}")),
            LatencySpec::Uniform { min_ms, max_ms } => too_long(
                "max_ms",
                max_ms,
                format!("at most {}", 2.0 * limit_ms - min_ms),
            ),
            LatencySpec::Normal { mean_ms, .. } => {
                too_long("mean_ms", mean_ms, format!("at most {limit_ms}"))
            }
            LatencySpec::Exponential { mean_ms } => {
                too_long("mean_ms", mean_ms, format!("at most {limit_ms}"))
            }
            LatencySpec::Lognormal { median_ms, sigma } => {
                if median_ms > limit_ms {
                    too_long("median_ms", median_ms, format!("at most {limit_ms}"))
                } else {
                    // mean = median * exp(sigma^2 / 2)
                    let most = (2.0 * (limit_ms / median_ms).ln()).sqrt();
                    too_long(
                        "sigma",
                        sigma,
                        format!(
                            "with median_ms = {median_ms}, sigma must be at most {:.1}",
                            (most * 10.0).floor() / 10.0
                        ),
                    )
                }
            }
            LatencySpec::Pareto { scale_ms, shape } => {
                if shape <= 1.0 {
                    Err(Invalid::new(
                        "shape",
                        format!(
                            "is {shape}; a Pareto latency of shape <= 1 has an infinite mean \
                             (its samples grow without bound as the run goes on); it must \
                             be > 1"
                        ),
                    ))
                } else if scale_ms >= limit_ms {
                    too_long("scale_ms", scale_ms, format!("it must be below {limit_ms}"))
                } else {
                    // mean = scale * shape / (shape - 1)
                    let least = limit_ms / (limit_ms - scale_ms);
                    too_long(
                        "shape",
                        shape,
                        format!("with scale_ms = {scale_ms}, shape must be at least {least:.3}"),
                    )
                }
            }
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
