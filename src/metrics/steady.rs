//! Steady state: where a run's warm-up ends, and whether the window after it still
//! trends. It owns two rules over per-bucket series and knows nothing of the engine.
//!
//! - **MSER-5** (White 1997, "An effective truncation heuristic for bias reduction in
//!   simulation output"; White, Cobb & Spratt 2000): group the series into batch means
//!   of 5 observations, and truncate the `d` batches that minimise the marginal
//!   standard error of the mean of the rest, `Σ_{j>d} (Z_j − Z̄_d)² / (m − d)²`, with
//!   `d` at most half the batches. A minimum at that bound means the run is too short
//!   to show a steady window.
//! - **Trend test**: the window's buckets as 10 batch means; the mean of the second
//!   five minus the mean of the first five, over its standard error from the pooled
//!   variance of the batch means (a two-sample t statistic on 8 degrees of freedom, the
//!   first-versus-last comparison of Geweke 1992 with a batch-means variance in place
//!   of a spectral one). Batch means of a tenth of the window each are close to
//!   independent once the window is long against the series' correlation time, which
//!   is what makes the t distribution apply; its two-sided 1% point, 3.355, is the
//!   threshold, so a stationary run warns about once in a hundred.

/// Observations per batch of MSER-5.
pub const MSER_BATCH: usize = 5;

/// Batch means the trend test compares, half against half.
pub const TREND_BATCHES: usize = 10;

/// Student's t on 8 degrees of freedom, two-sided 1%: the trend test's threshold.
pub const TREND_T: f64 = 3.355;

/// Where MSER-5 truncates a series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Truncation {
    /// Observations to drop (a multiple of [`MSER_BATCH`]).
    pub observations: usize,
    /// Whether the minimum fell on the bound (half the batches): the run is too short
    /// for MSER-5 to find a steady window.
    pub at_bound: bool,
}

/// MSER-5's truncation of `series`; none (and not at the bound) for a series shorter
/// than two batches.
pub fn mser5(series: &[f64]) -> Truncation {
    let m = series.len() / MSER_BATCH;
    if m < 2 {
        return Truncation {
            observations: 0,
            at_bound: false,
        };
    }
    let z: Vec<f64> = series
        .chunks_exact(MSER_BATCH)
        .map(|c| c.iter().sum::<f64>() / MSER_BATCH as f64)
        .collect();
    // Suffix sums of Z and Z², so each d costs O(1): Σ(Z − Z̄)² = ΣZ² − (ΣZ)²/k.
    let (mut sum, mut sq) = (0.0, 0.0);
    let mut best = (f64::INFINITY, 0);
    let mut stats = vec![0.0; m + 1];
    for d in (0..m).rev() {
        sum += z[d];
        sq += z[d] * z[d];
        let k = (m - d) as f64;
        stats[d] = (sq - sum * sum / k).max(0.0) / (k * k);
    }
    for (d, &s) in stats.iter().enumerate().take(m / 2 + 1) {
        // Ties keep the earliest truncation: drop no more than needed.
        if s < best.0 {
            best = (s, d);
        }
    }
    Truncation {
        observations: best.1 * MSER_BATCH,
        at_bound: best.1 == m / 2,
    }
}

/// The trend test's t statistic over `series` (second half's mean minus the first's,
/// in standard errors); `None` for a series shorter than 2 × [`TREND_BATCHES`]
/// observations. An exactly constant series has none: 0.
pub fn trend_t(series: &[f64]) -> Option<f64> {
    let per = series.len() / TREND_BATCHES;
    if per < 2 {
        return None;
    }
    let z: Vec<f64> = series
        .chunks_exact(per)
        .take(TREND_BATCHES)
        .map(|c| c.iter().sum::<f64>() / per as f64)
        .collect();
    let half = TREND_BATCHES / 2;
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (a, b) = (mean(&z[..half]), mean(&z[half..]));
    let ss: f64 = z[..half].iter().map(|x| (x - a) * (x - a)).sum::<f64>()
        + z[half..].iter().map(|x| (x - b) * (x - b)).sum::<f64>();
    let pooled = ss / (TREND_BATCHES - 2) as f64;
    let se = (pooled * 2.0 / half as f64).sqrt();
    if se == 0.0 {
        return Some(if a == b { 0.0 } else { f64::INFINITY });
    }
    Some((b - a) / se)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngExt, SeedableRng};

    /// Normal noise (Box–Muller) from a fixed seed.
    fn noise(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = crate::base::rng::SimRng::seed_from_u64(seed);
        (0..n)
            .map(|_| {
                let (u, v): (f64, f64) = (rng.random(), rng.random());
                (-2.0 * (1.0 - u).ln()).sqrt() * (std::f64::consts::TAU * v).cos()
            })
            .collect()
    }

    /// A transient of 100 observations decaying from +10 (ten noise standard
    /// deviations) to 0, then 900 stationary ones: the truncation lands after the
    /// transient has decayed below the noise (e^-t/20 < 0.1 from t = 46) and well
    /// before the bound.
    #[test]
    fn mser5_truncates_after_a_known_transient() {
        let n = 1000;
        let y: Vec<f64> = noise(n, 7)
            .into_iter()
            .enumerate()
            .map(|(t, e)| e + 10.0 * (-(t as f64) / 20.0).exp())
            .collect();
        let cut = mser5(&y);
        assert!(!cut.at_bound, "{cut:?}");
        assert!(
            (40..=150).contains(&cut.observations),
            "truncation {cut:?}, transient over by about 50"
        );
        // After the cut the mean is the steady one: within 4 standard errors (1/√n).
        let rest = &y[cut.observations..];
        let mean = rest.iter().sum::<f64>() / rest.len() as f64;
        assert!(mean.abs() < 4.0 / (rest.len() as f64).sqrt(), "{mean}");
    }

    /// A stationary series: the truncation stays near 0 (MSER-5 on white noise picks
    /// a small d; 10% of the series is a generous bound at this length).
    #[test]
    fn mser5_keeps_a_stationary_series() {
        for seed in 1..=5 {
            let y = noise(1000, seed);
            let cut = mser5(&y);
            assert!(cut.observations <= 100, "seed {seed}: {cut:?}");
            assert!(!cut.at_bound);
        }
    }

    /// A series that only falls: the minimum sits on the bound, flagged.
    #[test]
    fn mser5_flags_a_series_that_never_settles() {
        let y: Vec<f64> = (0..200).map(|t| 1000.0 - t as f64).collect();
        assert!(mser5(&y).at_bound);
    }

    /// The trend test: a stationary series stays under the threshold (seeds fixed);
    /// a drift of 1 noise sd over the window is far above it (each half's mean of
    /// 500 observations moves by 0.5 with a standard error near 0.045).
    #[test]
    fn trend_test_tells_drift_from_noise() {
        for seed in 1..=5 {
            let t = trend_t(&noise(1000, seed)).unwrap();
            assert!(t.abs() < TREND_T, "seed {seed}: t = {t}");
        }
        let drift: Vec<f64> = noise(1000, 9)
            .into_iter()
            .enumerate()
            .map(|(t, e)| e - t as f64 / 1000.0)
            .collect();
        let t = trend_t(&drift).unwrap();
        assert!(t < -TREND_T, "t = {t}");
        assert_eq!(trend_t(&[1.0; 19]), None);
    }
}
