//! Load that changes over time: `workload.rate` as a number or a profile
//! ([`RateSpec`]), its validated form ([`Profile`]: pieces with an exact rate, integral
//! and upper bound each) and the arrivals it gives ([`Arrivals`]: a non-homogeneous
//! Poisson process drawn by thinning).
//!
//! Thinning (Lewis and Shedler, "Simulation of nonhomogeneous Poisson processes by
//! thinning", Naval Research Logistics Quarterly 26(3), 1979): candidates arrive as a
//! Poisson process at a rate λ̄ ≥ λ(t), and a candidate at t is kept with probability
//! λ(t)/λ̄. The kept ones are exactly a Poisson process of rate λ(t). One global λ̄ (the
//! peak) would waste most draws in the troughs of a daily cycle or before a flash crowd,
//! so each piece of the profile has its own bound, the largest rate within it; a
//! candidate gap that crosses the piece's end is dropped and drawing restarts at the
//! end with the next piece's bound, which the exponential's lack of memory makes exact.
//!
//! It knows rates, times in seconds and random streams, not the engine that schedules
//! the arrivals nor the scenario that holds the key.

use std::fmt;
use std::path::PathBuf;

use rand::RngExt;
use rand_distr::{Distribution, Exp1};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::base::Invalid;
use crate::base::rng::SimRng;

/// `workload.rate`: requests per second, a number (a constant-rate Poisson process) or
/// a profile table (`{ profile = "daily", ... }`).
#[derive(Clone, Debug, PartialEq)]
pub enum RateSpec {
    /// A constant rate.
    Constant(f64),
    /// A rate that changes over time.
    Profile(ProfileSpec),
}

impl Serialize for RateSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            RateSpec::Constant(r) => s.serialize_f64(*r),
            RateSpec::Profile(p) => p.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for RateSpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // By hand rather than `untagged`, so a wrong profile's error names its field.
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RateSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "requests per second (a number) or a profile table such as \
                     { profile = \"daily\", mean = 5000, peak_to_trough = 3 }",
                )
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RateSpec, E> {
                Ok(RateSpec::Constant(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RateSpec, E> {
                Ok(RateSpec::Constant(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RateSpec, E> {
                Ok(RateSpec::Constant(v as f64))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RateSpec, A::Error> {
                ProfileSpec::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RateSpec::Profile)
            }
        }
        d.deserialize_any(V)
    }
}

/// A rate profile, as written: `{ profile = "steps" | "ramp" | "daily" | "flash_crowd" |
/// "csv", ... }`. Times are simulated seconds from the start of the run, rates requests
/// per second.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "profile", rename_all = "snake_case", deny_unknown_fields)]
pub enum ProfileSpec {
    /// `steps = [[t_s, rps], ...]`: from each `t_s` the rate is `rps`, until the next;
    /// the first at 0, times increasing; the last holds to the end.
    Steps {
        /// The steps, `[t_s, rps]`.
        steps: Vec<[f64; 2]>,
    },
    /// `points = [[t_s, rps], ...]`: the rate moves linearly from each point to the
    /// next; the first at 0, times increasing; the last rate holds to the end.
    Ramp {
        /// The points, `[t_s, rps]`.
        points: Vec<[f64; 2]>,
    },
    /// A daily cycle: `mean × (1 + a·cos(2π(t − phase_s)/period_s))` with
    /// `a = (peak_to_trough − 1)/(peak_to_trough + 1)`, so the peak, at `phase_s` and
    /// every period after, is `peak_to_trough` times the trough half a period later.
    Daily {
        /// The mean rate over a period.
        mean: f64,
        /// The period, seconds (86,400 when absent).
        #[serde(default = "one_day")]
        period_s: f64,
        /// The peak rate over the trough rate, at least 1.
        peak_to_trough: f64,
        /// When the peak comes, seconds (0 when absent).
        #[serde(default)]
        phase_s: f64,
    },
    /// A flash crowd: `base` until `start_s`, then a linear rise over `rise_s` to
    /// `base × peak`, then an exponential decay back to `base` with time constant
    /// `decay_s` (`base × (1 + (peak − 1)·e^(−(t − start_s − rise_s)/decay_s))`).
    FlashCrowd {
        /// The rate outside the crowd.
        base: f64,
        /// When the rise starts, seconds.
        start_s: f64,
        /// The peak as a multiple of `base`, at least 1.
        peak: f64,
        /// The rise's length, seconds (0: a jump).
        rise_s: f64,
        /// The decay's time constant, seconds, > 0.
        decay_s: f64,
    },
    /// A CSV file of `t_s,rps` rows (a header row allowed), read as `steps`, or as a
    /// `ramp` with `interpolate = "linear"`.
    Csv {
        /// The file, relative to the working directory.
        path: PathBuf,
        /// `steps` (default) or `linear`.
        #[serde(default)]
        interpolate: Interpolate,
    },
}

fn one_day() -> f64 {
    86_400.0
}

/// How a CSV profile's rows join: as steps, or linearly.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interpolate {
    /// Each row's rate holds until the next row.
    #[default]
    Steps,
    /// The rate moves linearly from row to row.
    Linear,
}

/// The most rows a CSV profile (or `steps`, `points`) may have: a profile is up to
/// four pieces of 72 bytes per row, kept in memory (at most about 29 MB).
pub const MAX_PROFILE_POINTS: usize = 100_000;

/// The most requests per second any profile may reach (a billion: a thousand times the
/// whole path's simulated speed).
pub const MAX_PROFILE_RATE: f64 = 1e9;

/// Pieces a daily period is cut into: the bounds waste at most 1 − cos(π/48) ≈ 0.2% of
/// the peak per piece.
const DAILY_PIECES: usize = 48;

/// Pieces a linear segment is cut into, so a steep ramp wastes few draws.
const RAMP_PIECES: usize = 4;

/// A flash crowd's decay is cut into pieces of half a time constant (each bound wastes
/// at most 1 − e^(−1/2) of its excess) for this many time constants; a last piece runs
/// to the end.
const DECAY_CONSTANTS: usize = 16;

/// The rate's shape within one piece.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Shape {
    Const(f64),
    /// `r0 + slope·(t − t0)`.
    Linear {
        t0: f64,
        r0: f64,
        slope: f64,
    },
    /// `mean·(1 + amp·cos(omega·(t − phase)))`.
    Cos {
        mean: f64,
        amp: f64,
        omega: f64,
        phase: f64,
    },
    /// `base + extra·e^(−(t − t0)/tau)`.
    Decay {
        base: f64,
        extra: f64,
        t0: f64,
        tau: f64,
    },
}

impl Shape {
    fn rate(&self, t: f64) -> f64 {
        match *self {
            Shape::Const(r) => r,
            Shape::Linear { t0, r0, slope } => r0 + slope * (t - t0),
            Shape::Cos {
                mean,
                amp,
                omega,
                phase,
            } => mean * (1.0 + amp * (omega * (t - phase)).cos()),
            Shape::Decay {
                base,
                extra,
                t0,
                tau,
            } => base + extra * (-(t - t0) / tau).exp(),
        }
    }

    /// ∫ rate over `[a, b]`, in closed form.
    fn integral(&self, a: f64, b: f64) -> f64 {
        match *self {
            Shape::Const(r) => r * (b - a),
            Shape::Linear { .. } => (self.rate(a) + self.rate(b)) / 2.0 * (b - a),
            Shape::Cos {
                mean,
                amp,
                omega,
                phase,
            } => {
                mean * ((b - a)
                    + amp / omega * ((omega * (b - phase)).sin() - (omega * (a - phase)).sin()))
            }
            Shape::Decay {
                base,
                extra,
                t0,
                tau,
            } => {
                if b.is_infinite() {
                    return f64::INFINITY;
                }
                base * (b - a) + extra * tau * ((-(a - t0) / tau).exp() - (-(b - t0) / tau).exp())
            }
        }
    }
}

/// One piece of a profile: `[start, end)`, its shape, and the largest rate within it.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Piece {
    start: f64,
    end: f64,
    shape: Shape,
    bound: f64,
}

/// A validated rate profile: pieces covering `[0, ∞)` (the last one open-ended), or
/// `[0, period)` repeated.
#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    pieces: Vec<Piece>,
    /// Daily cycles repeat their pieces every `period` seconds.
    period: Option<f64>,
}

impl Profile {
    /// The rate at `t` seconds.
    ///
    /// ```
    /// use tiersim::workload::profile::{Profile, ProfileSpec};
    /// let p = Profile::resolve(&ProfileSpec::Steps { steps: vec![[0.0, 10.0], [5.0, 30.0]] }).unwrap();
    /// assert_eq!(p.rate(4.9), 10.0);
    /// assert_eq!(p.rate(5.0), 30.0);
    /// assert_eq!(p.integral(0.0, 10.0), 200.0);
    /// ```
    pub fn rate(&self, t: f64) -> f64 {
        let (_, local) = self.fold(t);
        let p = &self.pieces[self.piece_at(local)];
        p.shape.rate(local)
    }

    /// Bytes its pieces take: for the memory estimate.
    pub fn bytes(&self) -> u64 {
        (self.pieces.len() * std::mem::size_of::<Piece>()) as u64
    }

    /// The highest rate anywhere in the profile.
    pub fn peak(&self) -> f64 {
        self.pieces.iter().map(|p| p.bound).fold(0.0, f64::max)
    }

    /// The expected arrivals in `[a, b]`: ∫ rate, in closed form piece by piece.
    pub fn integral(&self, a: f64, b: f64) -> f64 {
        if b <= a {
            return 0.0;
        }
        self.cumulative(b) - self.cumulative(a)
    }

    /// ∫ rate over `[0, t]`.
    fn cumulative(&self, t: f64) -> f64 {
        if t.is_infinite() {
            return f64::INFINITY;
        }
        let (cycles, local) = match self.period {
            Some(p) => ((t / p).floor(), t - (t / p).floor() * p),
            None => (0.0, t),
        };
        let per_cycle = self.period.map_or(0.0, |p| self.integral_within(0.0, p));
        cycles * per_cycle + self.integral_within(0.0, local)
    }

    /// ∫ rate over `[a, b]` within one cycle (or the whole line without a period).
    fn integral_within(&self, a: f64, b: f64) -> f64 {
        self.pieces
            .iter()
            .filter(|p| p.end > a && p.start < b)
            .map(|p| p.shape.integral(p.start.max(a), p.end.min(b)))
            .sum()
    }

    /// The time by which `n` arrivals are expected: the `t` with ∫₀ᵗ rate = `n`.
    pub fn time_for(&self, n: f64) -> f64 {
        if n <= 0.0 {
            return 0.0;
        }
        if !n.is_finite() {
            return f64::INFINITY;
        }
        // Whole cycles first, then the pieces of the last one.
        let (mut base_t, mut left) = (0.0, n);
        if let Some(p) = self.period {
            let per_cycle = self.integral_within(0.0, p);
            let cycles = (n / per_cycle).floor();
            base_t = cycles * p;
            left -= cycles * per_cycle;
        }
        for piece in &self.pieces {
            let whole = piece.shape.integral(piece.start, piece.end);
            if whole < left {
                left -= whole;
                continue;
            }
            // Within this piece: bisect the monotone integral.
            let (mut lo, mut hi) = (piece.start, piece.end);
            if hi.is_infinite() {
                // The last piece's rate tends to a positive floor (`resolve` checks it).
                let floor = piece.shape.rate(f64::MAX).min(piece.shape.rate(lo));
                hi = lo + left / floor.max(f64::MIN_POSITIVE);
            }
            for _ in 0..200 {
                let mid = (lo + hi) / 2.0;
                if piece.shape.integral(piece.start, mid) < left {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            return base_t + hi;
        }
        // A rounding remainder past a cycle's last piece.
        base_t + self.period.unwrap_or(0.0)
    }

    /// `t` as (start of its cycle, offset within it).
    fn fold(&self, t: f64) -> (f64, f64) {
        match self.period {
            Some(p) => {
                let base = (t / p).floor() * p;
                (base, (t - base).clamp(0.0, p))
            }
            None => (0.0, t),
        }
    }

    /// The index of the piece holding `local` (an offset within a cycle).
    fn piece_at(&self, local: f64) -> usize {
        self.pieces
            .partition_point(|p| p.end <= local)
            .min(self.pieces.len() - 1)
    }

    /// A constant rate `r` as a profile (for a stream merged with others).
    pub fn constant(r: f64) -> Profile {
        Profile::from_points(&[[0.0, r]], Interpolate::Steps)
    }

    /// Checks `spec` and cuts it into pieces.
    pub fn resolve(spec: &ProfileSpec) -> Result<Profile, Invalid> {
        match spec {
            ProfileSpec::Steps { steps } => {
                let pts = check_points("steps", steps)?;
                Ok(Self::from_points(&pts, Interpolate::Steps))
            }
            ProfileSpec::Ramp { points } => {
                let pts = check_points("points", points)?;
                Ok(Self::from_points(&pts, Interpolate::Linear))
            }
            ProfileSpec::Csv { path, interpolate } => {
                let pts = read_csv(path)?;
                let pts = check_points("path", &pts).map_err(|e| {
                    Invalid::new("path", format!("`{}`: {}", path.display(), e.message))
                })?;
                Ok(Self::from_points(&pts, *interpolate))
            }
            ProfileSpec::Daily {
                mean,
                period_s,
                peak_to_trough,
                phase_s,
            } => Self::daily(*mean, *period_s, *peak_to_trough, *phase_s),
            ProfileSpec::FlashCrowd {
                base,
                start_s,
                peak,
                rise_s,
                decay_s,
            } => Self::flash_crowd(*base, *start_s, *peak, *rise_s, *decay_s),
        }
    }

    fn from_points(pts: &[[f64; 2]], how: Interpolate) -> Profile {
        let mut pieces = Vec::new();
        for w in pts.windows(2) {
            let ([t0, r0], [t1, r1]) = (w[0], w[1]);
            match how {
                Interpolate::Steps => pieces.push(Piece {
                    start: t0,
                    end: t1,
                    shape: Shape::Const(r0),
                    bound: r0,
                }),
                Interpolate::Linear => {
                    let slope = (r1 - r0) / (t1 - t0);
                    for k in 0..RAMP_PIECES {
                        let a = t0 + (t1 - t0) * k as f64 / RAMP_PIECES as f64;
                        let b = if k + 1 == RAMP_PIECES {
                            t1
                        } else {
                            t0 + (t1 - t0) * (k + 1) as f64 / RAMP_PIECES as f64
                        };
                        let shape = Shape::Linear { t0, r0, slope };
                        pieces.push(Piece {
                            start: a,
                            end: b,
                            shape,
                            bound: shape.rate(a).max(shape.rate(b)).max(0.0),
                        });
                    }
                }
            }
        }
        let last = pts[pts.len() - 1];
        pieces.push(Piece {
            start: last[0],
            end: f64::INFINITY,
            shape: Shape::Const(last[1]),
            bound: last[1],
        });
        Profile {
            pieces,
            period: None,
        }
    }

    fn daily(mean: f64, period: f64, ratio: f64, phase: f64) -> Result<Profile, Invalid> {
        check_rate("mean", mean)?;
        positive_time("period_s", period)?;
        if !(ratio.is_finite() && ratio >= 1.0) {
            return Err(Invalid::new(
                "peak_to_trough",
                format!("is {ratio}; must be a finite number >= 1 (1: a constant rate)"),
            ));
        }
        if !(phase.is_finite() && phase >= 0.0) {
            return Err(Invalid::new(
                "phase_s",
                format!("is {phase}; must be a finite number of seconds >= 0"),
            ));
        }
        let amp = (ratio - 1.0) / (ratio + 1.0);
        if mean * (1.0 + amp) > MAX_PROFILE_RATE {
            return Err(too_fast("mean", mean * (1.0 + amp)));
        }
        let omega = std::f64::consts::TAU / period;
        let phase = phase % period;
        let shape = Shape::Cos {
            mean,
            amp,
            omega,
            phase,
        };
        let pieces = (0..DAILY_PIECES)
            .map(|k| {
                let a = period * k as f64 / DAILY_PIECES as f64;
                let b = if k + 1 == DAILY_PIECES {
                    period
                } else {
                    period * (k + 1) as f64 / DAILY_PIECES as f64
                };
                // The peak (at `phase`, and a period on) may fall inside the piece.
                let peak_inside = [phase, phase + period, phase - period]
                    .iter()
                    .any(|&p| p >= a && p <= b);
                let bound = if peak_inside {
                    mean * (1.0 + amp)
                } else {
                    shape.rate(a).max(shape.rate(b))
                };
                Piece {
                    start: a,
                    end: b,
                    shape,
                    // Rounding must never leave the bound below the rate.
                    bound: bound * (1.0 + 1e-12),
                }
            })
            .collect();
        Ok(Profile {
            pieces,
            period: Some(period),
        })
    }

    fn flash_crowd(
        base: f64,
        start: f64,
        peak: f64,
        rise: f64,
        decay: f64,
    ) -> Result<Profile, Invalid> {
        check_rate("base", base)?;
        if !(start.is_finite() && start >= 0.0) {
            return Err(Invalid::new(
                "start_s",
                format!("is {start}; must be a finite number of seconds >= 0"),
            ));
        }
        if !(peak.is_finite() && peak >= 1.0) {
            return Err(Invalid::new(
                "peak",
                format!("is {peak}; must be a finite multiple of `base` >= 1"),
            ));
        }
        if base * peak > MAX_PROFILE_RATE {
            return Err(too_fast("peak", base * peak));
        }
        if !(rise.is_finite() && rise >= 0.0) {
            return Err(Invalid::new(
                "rise_s",
                format!("is {rise}; must be a finite number of seconds >= 0 (0: a jump)"),
            ));
        }
        positive_time("decay_s", decay)?;
        let top = base * peak;
        let mut pieces = Vec::new();
        if start > 0.0 {
            pieces.push(Piece {
                start: 0.0,
                end: start,
                shape: Shape::Const(base),
                bound: base,
            });
        }
        let t_peak = start + rise;
        if rise > 0.0 {
            let shape = Shape::Linear {
                t0: start,
                r0: base,
                slope: (top - base) / rise,
            };
            for k in 0..RAMP_PIECES {
                let a = start + rise * k as f64 / RAMP_PIECES as f64;
                let b = if k + 1 == RAMP_PIECES {
                    t_peak
                } else {
                    start + rise * (k + 1) as f64 / RAMP_PIECES as f64
                };
                pieces.push(Piece {
                    start: a,
                    end: b,
                    shape,
                    bound: shape.rate(b).max(shape.rate(a)) * (1.0 + 1e-12),
                });
            }
        }
        let shape = Shape::Decay {
            base,
            extra: top - base,
            t0: t_peak,
            tau: decay,
        };
        for k in 0..=2 * DECAY_CONSTANTS {
            let a = t_peak + decay * k as f64 / 2.0;
            let b = if k == 2 * DECAY_CONSTANTS {
                f64::INFINITY
            } else {
                t_peak + decay * (k + 1) as f64 / 2.0
            };
            pieces.push(Piece {
                start: a,
                end: b,
                shape,
                bound: shape.rate(a) * (1.0 + 1e-12),
            });
        }
        Ok(Profile {
            pieces,
            period: None,
        })
    }
}

/// Checks `[t_s, rps]` points: at least one, the first at 0, times increasing and
/// finite, rates >= 0 and the last one > 0 (it holds to the end of the run, which must
/// come).
fn check_points(key: &str, pts: &[[f64; 2]]) -> Result<Vec<[f64; 2]>, Invalid> {
    if pts.is_empty() {
        return Err(Invalid::new(
            key,
            "is empty; give at least one [t_s, rps] point, the first at t_s = 0",
        ));
    }
    if pts.len() > MAX_PROFILE_POINTS {
        return Err(Invalid::new(
            key,
            format!(
                "has {} points; at most {MAX_PROFILE_POINTS} are allowed",
                pts.len()
            ),
        ));
    }
    if pts[0][0] != 0.0 {
        return Err(Invalid::new(
            key,
            format!(
                "starts at t_s = {}; the first point must be at t_s = 0 (the rate from the start)",
                pts[0][0]
            ),
        ));
    }
    for (i, &[t, r]) in pts.iter().enumerate() {
        let at = |m: String| Invalid::new(key, format!("point {i} ([{t}, {r}]): {m}"));
        if !t.is_finite() || (i > 0 && t <= pts[i - 1][0]) {
            return Err(at(
                "its t_s must be finite and greater than the point before's".into(),
            ));
        }
        if !(r.is_finite() && r >= 0.0) {
            return Err(at(
                "its rate must be a finite number of requests per second >= 0 (a profile \
                 cannot go negative)"
                    .into(),
            ));
        }
        if r > MAX_PROFILE_RATE {
            return Err(at(format!(
                "its rate is above {MAX_PROFILE_RATE:e} per second"
            )));
        }
    }
    let last = pts[pts.len() - 1];
    if last[1] <= 0.0 {
        return Err(Invalid::new(
            key,
            format!(
                "ends at rate {} (t_s = {}); the last rate holds to the end of the run and \
                 must be > 0, or the run would never end",
                last[1], last[0]
            ),
        ));
    }
    Ok(pts.to_vec())
}

/// Reads `t_s,rps` rows; the first may be a header. Errors name the file and line.
fn read_csv(path: &std::path::Path) -> Result<Vec<[f64; 2]>, Invalid> {
    let bad = |m: String| Invalid::new("path", format!("`{}`: {m}", path.display()));
    let file = std::fs::File::open(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .trim(csv::Trim::All)
        .from_reader(std::io::BufReader::new(file));
    let mut pts = Vec::new();
    for (row, record) in reader.records().enumerate() {
        let record = record.map_err(|e| bad(format!("{e}")))?;
        let line = record.position().map_or(row as u64 + 1, |p| p.line());
        if record.len() != 2 {
            return Err(bad(format!(
                "line {line} has {} fields; each line is `t_s,rps`: two numbers",
                record.len()
            )));
        }
        let parse = |i: usize| record[i].parse::<f64>();
        match (parse(0), parse(1)) {
            (Ok(t), Ok(r)) => pts.push([t, r]),
            // A header line: text above the numbers.
            _ if row == 0 => continue,
            _ => {
                return Err(bad(format!(
                    "line {line} (`{}`) is not `t_s,rps`: two numbers, seconds and \
                     requests per second",
                    record.iter().collect::<Vec<_>>().join(",")
                )));
            }
        }
        if pts.len() > MAX_PROFILE_POINTS {
            return Err(bad(format!(
                "has more than {MAX_PROFILE_POINTS} rows; at most that many are allowed"
            )));
        }
    }
    if pts.is_empty() {
        return Err(bad("has no `t_s,rps` rows".into()));
    }
    Ok(pts)
}

/// Checks a rate key of a profile: finite, > 0 and at most [`MAX_PROFILE_RATE`].
fn check_rate(key: &str, r: f64) -> Result<(), Invalid> {
    if !(r.is_finite() && r > 0.0) {
        return Err(Invalid::new(
            key,
            format!("is {r}; must be a finite number of requests per second > 0"),
        ));
    }
    if r > MAX_PROFILE_RATE {
        return Err(too_fast(key, r));
    }
    Ok(())
}

fn too_fast(key: &str, r: f64) -> Invalid {
    Invalid::new(
        key,
        format!("gives a rate of {r:e} per second; at most {MAX_PROFILE_RATE:e} is allowed"),
    )
}

fn positive_time(key: &str, s: f64) -> Result<(), Invalid> {
    if s.is_finite() && s > 0.0 {
        Ok(())
    } else {
        Err(Invalid::new(
            key,
            format!("is {s}; must be a finite number of seconds > 0"),
        ))
    }
}

/// Arrival times of a profile, drawn by thinning (see the module's docs).
#[derive(Clone, Debug)]
pub struct Arrivals {
    profile: std::sync::Arc<Profile>,
    /// The time of the last candidate, seconds since the start of the current cycle.
    local: f64,
    /// The start of the current cycle, seconds.
    cycle: f64,
    /// The piece `local` is in.
    piece: usize,
}

impl Arrivals {
    /// Arrivals of `profile` from time 0.
    pub fn new(profile: std::sync::Arc<Profile>) -> Self {
        Arrivals {
            profile,
            local: 0.0,
            cycle: 0.0,
            piece: 0,
        }
    }

    /// The time of the next arrival, seconds since the start, drawn from `rng`.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use rand_xoshiro::rand_core::SeedableRng;
    /// use tiersim::workload::profile::{Arrivals, Profile, ProfileSpec};
    /// let p = Profile::resolve(&ProfileSpec::Steps { steps: vec![[0.0, 1000.0]] }).unwrap();
    /// let mut a = Arrivals::new(Arc::new(p));
    /// let mut rng = tiersim::base::rng::SimRng::seed_from_u64(1);
    /// let (t1, t2) = (a.next(&mut rng), a.next(&mut rng));
    /// assert!(0.0 < t1 && t1 < t2);
    /// ```
    pub fn next(&mut self, rng: &mut SimRng) -> f64 {
        let pieces = &self.profile.pieces;
        loop {
            let p = &pieces[self.piece];
            let gap = if p.bound > 0.0 {
                <Exp1 as Distribution<f64>>::sample(&Exp1, rng) / p.bound
            } else {
                f64::INFINITY
            };
            let t = self.local + gap;
            if t >= p.end {
                // Past the piece: restart at its end under the next piece's bound (exact:
                // the exponential has no memory).
                self.local = p.end;
                self.piece += 1;
                if self.piece == pieces.len() {
                    let period = self.profile.period.expect("only cycles end");
                    self.cycle += period;
                    self.local = 0.0;
                    self.piece = 0;
                }
                continue;
            }
            self.local = t;
            // A constant piece keeps every candidate: no uniform to draw.
            let keep = match p.shape {
                Shape::Const(_) => true,
                shape => rng.random::<f64>() * p.bound < shape.rate(t),
            };
            if keep {
                return self.cycle + t;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn daily() -> Profile {
        Profile::resolve(&ProfileSpec::Daily {
            mean: 100.0,
            period_s: 100.0,
            peak_to_trough: 3.0,
            phase_s: 30.0,
        })
        .unwrap()
    }

    #[test]
    fn bounds_cover_the_rate() {
        let profiles = [
            daily(),
            Profile::resolve(&ProfileSpec::FlashCrowd {
                base: 10.0,
                start_s: 5.0,
                peak: 20.0,
                rise_s: 2.0,
                decay_s: 3.0,
            })
            .unwrap(),
            Profile::resolve(&ProfileSpec::Ramp {
                points: vec![[0.0, 5.0], [10.0, 50.0], [20.0, 0.0], [30.0, 7.0]],
            })
            .unwrap(),
        ];
        for p in &profiles {
            for piece in &p.pieces {
                let end = piece.end.min(piece.start + 100.0);
                for k in 0..=100 {
                    let t = piece.start + (end - piece.start) * k as f64 / 100.0;
                    assert!(piece.shape.rate(t) <= piece.bound, "{piece:?} at {t}");
                    assert!(piece.shape.rate(t) >= 0.0);
                }
            }
        }
    }

    #[test]
    fn integrals_and_their_inverse() {
        let p = daily();
        // A whole period integrates to mean × period.
        assert!((p.integral(0.0, 100.0) - 10_000.0).abs() < 1e-6);
        assert!((p.integral(7.0, 207.0) - 20_000.0).abs() < 1e-6);
        for n in [1.0, 500.0, 10_000.0, 123_456.0] {
            let t = p.time_for(n);
            assert!((p.integral(0.0, t) - n).abs() < 1e-6 * n.max(1.0), "{n}");
        }
        // The peak is at phase_s: 100 × (1 + 0.5).
        assert!((p.rate(30.0) - 150.0).abs() < 1e-9);
        assert!((p.rate(80.0) - 50.0).abs() < 1e-9);
    }

    #[test]
    fn wrong_profiles_are_refused() {
        let cases = [
            (
                ProfileSpec::Steps {
                    steps: vec![[0.0, 10.0], [5.0, -1.0], [6.0, 2.0]],
                },
                "cannot go negative",
            ),
            (
                ProfileSpec::Steps {
                    steps: vec![[1.0, 10.0]],
                },
                "first point must be at t_s = 0",
            ),
            (
                ProfileSpec::Ramp {
                    points: vec![[0.0, 10.0], [5.0, 0.0]],
                },
                "must be > 0",
            ),
            (
                ProfileSpec::Daily {
                    mean: 10.0,
                    period_s: 10.0,
                    peak_to_trough: 0.5,
                    phase_s: 0.0,
                },
                "peak_to_trough",
            ),
        ];
        for (spec, phrase) in cases {
            let e = Profile::resolve(&spec).unwrap_err().to_string();
            assert!(e.contains(phrase), "{e}");
        }
    }
}
