//! TTL caches: a copy lives a time `T` after its fill, whatever its capacity (which is
//! taken to hold every key).
//!
//! - Without reset (the TTL counts from the fill, as tiersim's layers do): with renewal
//!   requests for a key whose renewal function is `M`, each cycle is one miss then the
//!   requests within `T` of it, all hits, so the hit ratio is `E[M(T)] / (1 + E[M(T)])`
//!   (Jung, Berger & Balakrishnan, "Modeling TTL-based Internet caches", INFOCOM 2003).
//!   For Poisson requests at rate `λ`, `M(T) = λT`: `λ E[T] / (1 + λ E[T])`, whatever
//!   the TTL's distribution given its mean.
//! - With reset (each hit restarts the TTL, an idle timeout): a request hits when the
//!   previous one came within `T`, so with Poisson requests the hit ratio is
//!   `1 - exp(-λT)` (Fofack, Nain, Neglia & Towsley, "Analysis of TTL-based cache
//!   networks", VALUETOOLS 2012). tiersim's layers do not reset; the formula is here for
//!   teaching and comparison.
//! - Two tiers (an edge with TTL `T_e` before a second tier with TTL `T_s`, both
//!   without reset, the edge fed by Poisson requests at rate `λ`): the second tier sees
//!   the edge's misses, a renewal process with inter-miss time `T_e + Exp(λ)` (the TTL,
//!   then the wait for the next request). Jung et al.'s formula with that renewal
//!   function gives its hit ratio `M(T_s) / (1 + M(T_s))`, with
//!   `M(t) = sum_{k >= 1, k T_e <= t} P(Gamma(k, λ) <= t - k T_e)`. This is the
//!   two-level case of Fofack et al. (2012) and of Berger, Gland, Singla & Ciucu, "Exact
//!   analysis of TTL cache networks", Performance Evaluation 79, 2014. It assumes one
//!   edge node before the second tier: several edges filled from one second-tier copy
//!   expire together, which no renewal model of independent edges describes.

/// Hit ratio of a TTL cache without reset, Poisson requests at rate `lambda`, mean TTL
/// `ttl` (same time unit).
///
/// ```
/// use tiersim::theory::ttl::hit_without_reset;
/// assert!((hit_without_reset(1.0, 10.0) - 10.0 / 11.0).abs() < 1e-12);
/// ```
pub fn hit_without_reset(lambda: f64, ttl: f64) -> f64 {
    let m = lambda * ttl;
    m / (1.0 + m)
}

/// Hit ratio of a TTL cache whose hits restart the TTL, Poisson requests at rate
/// `lambda`, TTL `ttl`.
///
/// ```
/// use tiersim::theory::ttl::hit_with_reset;
/// assert!((hit_with_reset(1.0, 1.0) - (1.0 - (-1.0f64).exp())).abs() < 1e-12);
/// ```
pub fn hit_with_reset(lambda: f64, ttl: f64) -> f64 {
    1.0 - (-lambda * ttl).exp()
}

/// `P(Gamma(k, rate) <= x)` for a whole shape `k >= 1`: one less the Poisson(rate x)
/// probability of fewer than `k` events, summed in log space (no overflow at large
/// `rate x`).
fn gamma_cdf(k: u32, rate: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    let m = rate * x;
    let (mut log_term, mut below) = (-m, 0.0);
    for j in 0..k {
        if j > 0 {
            log_term += m.ln() - f64::from(j).ln();
        }
        below += log_term.exp();
    }
    (1.0 - below).clamp(0.0, 1.0)
}

/// The most renewals [`edge_miss_renewal`] sums: beyond it, `T_s / T_e` is so large
/// that the caller should not use the two-tier form.
pub const MAX_RENEWALS: u32 = 10_000;

/// The renewal function at `t` of the misses of an edge with TTL `t_e > 0` fed by
/// Poisson requests at rate `lambda`: the expected edge misses in `(0, t]` after one at
/// 0. `None` when more than [`MAX_RENEWALS`] fit in `t`.
pub fn edge_miss_renewal(t: f64, t_e: f64, lambda: f64) -> Option<f64> {
    if t_e <= 0.0 || t / t_e > f64::from(MAX_RENEWALS) {
        return None;
    }
    let mut m = 0.0;
    let mut k = 1u32;
    while f64::from(k) * t_e <= t {
        m += gamma_cdf(k, lambda, t - f64::from(k) * t_e);
        k += 1;
    }
    Some(m)
}

/// The second tier's hit ratio behind one edge: `M(T_s) / (1 + M(T_s))`.
///
/// ```
/// use tiersim::theory::ttl::two_tier_hit;
/// // T_s <= T_e: the edge's next miss comes after the second tier's copy expired.
/// assert_eq!(two_tier_hit(1.0, 10.0, 10.0), Some(0.0));
/// ```
pub fn two_tier_hit(lambda: f64, t_e: f64, t_s: f64) -> Option<f64> {
    edge_miss_renewal(t_s, t_e, lambda).map(|m| m / (1.0 + m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gamma_cdf_matches_the_exponential_and_erlang_2() {
        // Gamma(1, λ) is Exp(λ); Gamma(2, λ): 1 - e^{-λx}(1 + λx).
        assert!((gamma_cdf(1, 2.0, 0.7) - (1.0 - (-1.4f64).exp())).abs() < 1e-12);
        assert!((gamma_cdf(2, 2.0, 0.7) - (1.0 - (-1.4f64).exp() * 2.4)).abs() < 1e-12);
        assert_eq!(gamma_cdf(3, 1000.0, 10.0), 1.0);
    }

    #[test]
    fn two_tier_reference_values() {
        // The issue's figures (tests/integration/path.rs checks them against the engine).
        assert!((two_tier_hit(1.0, 10.0, 60.0).unwrap() - 0.8325).abs() < 1e-4);
        assert!((two_tier_hit(5.0, 1.0, 10.0).unwrap() - 0.8869).abs() < 1e-4);
    }

    #[test]
    fn a_long_second_tier_ttl_tends_to_the_poisson_rate_of_edge_misses() {
        // M(t) ~ t / (T_e + 1/λ) for t much longer than a cycle (elementary renewal).
        let (lambda, t_e, t) = (2.0, 1.0, 1000.0);
        let m = edge_miss_renewal(t, t_e, lambda).unwrap();
        assert!((m / (t / (t_e + 1.0 / lambda)) - 1.0).abs() < 0.01, "{m}");
        assert_eq!(edge_miss_renewal(1e9, 1.0, 1.0), None);
    }

    #[test]
    fn reset_hits_more_than_no_reset() {
        // An idle timeout keeps a hot copy forever; a fill timeout drops it every T.
        for x in [0.1, 1.0, 10.0] {
            assert!(hit_with_reset(1.0, x) > hit_without_reset(1.0, x));
        }
    }
}
