//! Characteristic-time approximations of capacity-bound caches under the independent
//! reference model (IRM): LRU (Che's approximation), FIFO and RANDOM, and perfect LFU.
//!
//! Keys are given by their request rates (or probabilities: only ratios matter for the
//! hit ratio); `capacity` is in entries.
//!
//! - LRU: Che, Tung & Wang, "Hierarchical Web caching systems: modeling, design and
//!   experimental results", IEEE JSAC 20(7), 2002; its accuracy explained by Fricker,
//!   Robert & Roberts, "A versatile and accurate approximation for LRU cache
//!   performance", ITC 24, 2012. The characteristic time `T` solves
//!   `sum_i (1 - exp(-q_i T)) = C`; key `i` hits with probability `1 - exp(-q_i T)`.
//! - FIFO and RANDOM: Gelenbe, "A unified approach to the evaluation of a class of
//!   replacement algorithms", IEEE Trans. Computers 22(6), 1973 (both have the same hit
//!   ratio under IRM), in the characteristic-time form of Martina, Garetto & Leonardi,
//!   "A unified approach to the performance analysis of caching systems", INFOCOM 2014:
//!   `T` solves `sum_i q_i T / (1 + q_i T) = C`; key `i` hits with probability
//!   `q_i T / (1 + q_i T)`.
//! - Perfect LFU (every key's count kept): in steady state it holds the `C` most
//!   popular keys, which hit always; the others never do.

/// Solves `f(t) = target` for `f` increasing and concave with `f(0) = 0`, by Newton's
/// method from 0: on a concave function each step stays below the root, so the
/// iterates rise to it monotonically.
fn solve_concave(f: impl Fn(f64) -> (f64, f64), target: f64) -> f64 {
    let mut t = 0.0;
    for _ in 0..500 {
        let (v, dv) = f(t);
        if dv <= 0.0 {
            break;
        }
        let next = t + (target - v) / dv;
        if next.is_nan() || next <= t || (next - t) <= 1e-13 * next {
            return next.max(t);
        }
        t = next;
    }
    t
}

/// Keys with a positive rate: the ones a cache can ever hold.
fn live(q: &[f64]) -> usize {
    q.iter().filter(|&&x| x > 0.0).count()
}

/// LRU's characteristic time for rates `q` and `capacity` entries; `None` when the cache
/// holds every key with a positive rate (nothing is ever evicted).
pub fn lru_characteristic_time(q: &[f64], capacity: f64) -> Option<f64> {
    (capacity < live(q) as f64).then(|| {
        solve_concave(
            |t| {
                q.iter().fold((0.0, 0.0), |(v, d), &qi| {
                    let e = (-qi * t).exp();
                    (v + 1.0 - e, d + qi * e)
                })
            },
            capacity,
        )
    })
}

/// Each key's hit probability in an LRU cache (Che's approximation).
pub fn lru_hit_probabilities(q: &[f64], capacity: f64) -> Vec<f64> {
    match lru_characteristic_time(q, capacity) {
        Some(t) => q.iter().map(|&qi| 1.0 - (-qi * t).exp()).collect(),
        None => q
            .iter()
            .map(|&qi| if qi > 0.0 { 1.0 } else { 0.0 })
            .collect(),
    }
}

/// Each key's hit probability in a FIFO or RANDOM cache.
pub fn fifo_hit_probabilities(q: &[f64], capacity: f64) -> Vec<f64> {
    match fifo_characteristic_time(q, capacity) {
        Some(t) => q.iter().map(|&qi| qi * t / (1.0 + qi * t)).collect(),
        None => q
            .iter()
            .map(|&qi| if qi > 0.0 { 1.0 } else { 0.0 })
            .collect(),
    }
}

/// Each key's hit probability under perfect LFU: 1 for the `capacity` keys of highest
/// rate (ties broken by key order), 0 for the others.
pub fn perfect_lfu_hit_probabilities(q: &[f64], capacity: f64) -> Vec<f64> {
    let mut order: Vec<usize> = (0..q.len()).filter(|&i| q[i] > 0.0).collect();
    order.sort_by(|&a, &b| q[b].total_cmp(&q[a]).then(a.cmp(&b)));
    let mut h = vec![0.0; q.len()];
    for &i in order.iter().take(capacity.max(0.0) as usize) {
        h[i] = 1.0;
    }
    h
}

/// The request-weighted hit ratio of hit probabilities `h` under rates `q`.
pub fn hit_ratio(q: &[f64], h: &[f64]) -> f64 {
    let total: f64 = q.iter().sum();
    if total > 0.0 {
        q.iter().zip(h).map(|(a, b)| a * b).sum::<f64>() / total
    } else {
        0.0
    }
}

/// LRU's hit ratio by Che's approximation.
///
/// ```
/// use tiersim::theory::che::che_lru;
/// // Two keys, one slot: T solves (1 - e^{-0.5 T}) * 2 = 1, so T = 2 ln 2, and each
/// // key hits with probability 1/2.
/// assert!((che_lru(&[0.5, 0.5], 1.0) - 0.5).abs() < 1e-9);
/// ```
pub fn che_lru(q: &[f64], capacity: f64) -> f64 {
    hit_ratio(q, &lru_hit_probabilities(q, capacity))
}

/// FIFO's and RANDOM's hit ratio.
///
/// ```
/// use tiersim::theory::che::fifo_random;
/// // Uniform keys: every policy holds C of N keys, hit ratio C / N.
/// assert!((fifo_random(&[0.25; 4], 1.0) - 0.25).abs() < 1e-9);
/// ```
pub fn fifo_random(q: &[f64], capacity: f64) -> f64 {
    hit_ratio(q, &fifo_hit_probabilities(q, capacity))
}

/// Perfect LFU's hit ratio: the share of requests for the `capacity` most popular keys.
pub fn perfect_lfu(q: &[f64], capacity: f64) -> f64 {
    hit_ratio(q, &perfect_lfu_hit_probabilities(q, capacity))
}

/// Which eviction a capacity-bound cache with a TTL uses, for [`ttl_hit_probabilities`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Eviction {
    /// A copy leaves after `T_C` without a request (LRU).
    Lru,
    /// A copy leaves `T_C` after its fill (FIFO).
    Fifo,
    /// A copy leaves after an exponential time of mean `T_C` (RANDOM).
    Random,
}

/// Mean time a copy stays, filled at a request of a key with Poisson rate `r`, evicted
/// by `eviction` with characteristic time `t_c` or at its TTL `ttl`, whichever first.
///
/// For LRU the idle eviction time `τ` (the first gap of `t_c` without a request) is
/// taken as `t_c` plus an exponential of the same mean, `(e^{r t_c} - 1)/r - t_c`: exact
/// as `r t_c -> 0` (no request in the gap), and as `r t_c` grows the sum of a geometric
/// number of shorter gaps tends to an exponential (Rényi's theorem); exact too when the
/// TTL is at most `t_c` (the copy always lives `T`) or unbounded (Che).
fn stay(eviction: Eviction, r: f64, t_c: f64, ttl: f64) -> f64 {
    match eviction {
        Eviction::Fifo => ttl.min(t_c),
        Eviction::Random => t_c * -(-ttl / t_c).exp_m1(),
        Eviction::Lru if ttl <= t_c => ttl,
        Eviction::Lru => {
            let rest = ttl - t_c;
            let m = (r * t_c).exp_m1() / r - t_c;
            if m <= 0.0 {
                t_c
            } else if !m.is_finite() || m > 1e12 * rest {
                ttl
            } else {
                t_c + m * -(-rest / m).exp_m1()
            }
        }
    }
}

/// FIFO's (and RANDOM's) characteristic time; `None` when the cache holds every key.
pub fn fifo_characteristic_time(q: &[f64], capacity: f64) -> Option<f64> {
    (capacity < live(q) as f64).then(|| {
        solve_concave(
            |t| {
                q.iter().fold((0.0, 0.0), |(v, d), &qi| {
                    let x = qi * t;
                    (v + x / (1.0 + x), d + qi / ((1.0 + x) * (1.0 + x)))
                })
            },
            capacity,
        )
    })
}

/// Each key's hit probability in a cache of `capacity` entries evicting by `eviction`
/// whose copies also expire a TTL after their fill, the TTL drawn evenly from `ttls`
/// (one value, or quadrature points of a jittered TTL).
///
/// Expiry is lazy, as in tiersim: an expired copy keeps its slot until it is evicted
/// or looked up (then refilled), so the slots follow the eviction alone and the
/// characteristic time `T_C` is the capacity-bound model's. A copy serves hits for
/// `S`, the mean of the shorter of its eviction time and its TTL, then the next
/// request misses: the hit probability is `r S / (1 + r S)` (Jung et al. 2003's
/// renewal argument, by Wald's identity on the Poisson requests).
pub fn ttl_hit_probabilities(
    q: &[f64],
    capacity: f64,
    ttls: &[f64],
    eviction: Eviction,
) -> Vec<f64> {
    let t_c = match eviction {
        Eviction::Lru => lru_characteristic_time(q, capacity),
        Eviction::Fifo | Eviction::Random => fifo_characteristic_time(q, capacity),
    }
    .unwrap_or(f64::INFINITY);
    q.iter()
        .map(|&r| {
            if r <= 0.0 {
                return 0.0;
            }
            let s =
                ttls.iter().map(|&t| stay(eviction, r, t_c, t)).sum::<f64>() / ttls.len() as f64;
            r * s / (1.0 + r * s)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zipf(n: usize, alpha: f64) -> Vec<f64> {
        let w: Vec<f64> = (1..=n).map(|i| (i as f64).powf(-alpha)).collect();
        let s: f64 = w.iter().sum();
        w.into_iter().map(|x| x / s).collect()
    }

    #[test]
    fn the_characteristic_time_fills_the_cache() {
        let q = zipf(10_000, 0.8);
        let t = lru_characteristic_time(&q, 100.0).unwrap();
        let occupancy: f64 = q.iter().map(|&x| 1.0 - (-x * t).exp()).sum();
        assert!((occupancy - 100.0).abs() < 1e-6, "{occupancy}");
    }

    #[test]
    fn uniform_keys_hit_in_proportion_to_the_capacity() {
        // Under a uniform IRM every policy holds C of N keys at random: C / N.
        let q = vec![1.0; 1000];
        assert!((che_lru(&q, 100.0) - 0.1).abs() < 1e-9);
        assert!((fifo_random(&q, 100.0) - 0.1).abs() < 1e-9);
        assert!((perfect_lfu(&q, 100.0) - 0.1).abs() < 1e-12);
    }

    #[test]
    fn lru_beats_fifo_and_perfect_lfu_beats_both_on_skew() {
        // Under IRM, perfect LFU is optimal among policies without the future, and
        // LRU does better than FIFO/RANDOM on a skewed law (Gelenbe 1973; Fricker et al.).
        let q = zipf(10_000, 0.9);
        let (lru, fifo, lfu) = (
            che_lru(&q, 100.0),
            fifo_random(&q, 100.0),
            perfect_lfu(&q, 100.0),
        );
        assert!(fifo < lru && lru < lfu, "{fifo} {lru} {lfu}");
    }

    #[test]
    fn a_ttl_cache_tends_to_its_limits() {
        let q = zipf(10_000, 0.8);
        for e in [Eviction::Lru, Eviction::Fifo] {
            // A TTL far beyond the eviction time: the capacity-bound result.
            let long = hit_ratio(&q, &ttl_hit_probabilities(&q, 100.0, &[1e12], e));
            let plain = if e == Eviction::Lru {
                che_lru(&q, 100.0)
            } else {
                fifo_random(&q, 100.0)
            };
            assert!((long - plain).abs() < 1e-6, "{e:?}: {long} vs {plain}");
            // Room for every key: the TTL formula.
            let roomy = ttl_hit_probabilities(&q, 20_000.0, &[5.0], e);
            assert!((roomy[0] - q[0] * 5.0 / (1.0 + q[0] * 5.0)).abs() < 1e-12);
        }
    }

    #[test]
    fn a_cache_that_holds_every_key_always_hits() {
        assert_eq!(che_lru(&[0.2, 0.8, 0.0], 2.0), 1.0);
        assert_eq!(fifo_random(&[0.2, 0.8], 5.0), 1.0);
    }
}
