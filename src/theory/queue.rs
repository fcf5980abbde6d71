//! The database as a queue: `c` connections, one FIFO queue, Poisson arrivals.
//!
//! - Erlang B and C (A. K. Erlang, 1917; as in Kleinrock, *Queueing Systems* vol. 1,
//!   1975, section 3.6): `C(c, a)`, the probability that an arrival waits in an M/M/c
//!   queue at offered load `a = λ E[S]`; the mean wait `W_q = C(c, a) E[S] / (c - a)`,
//!   and `L_q = λ W_q` (Little).
//! - Service that is not exponential: the Allen–Cunneen approximation for M/G/c,
//!   `W_q ≈ W_q(M/M/c) (1 + c_s²) / 2` with `c_s²` the service time's squared
//!   coefficient of variation (Allen, *Probability, Statistics and Queueing Theory*,
//!   2nd ed., 1990); exact for one connection (Pollaczek–Khinchine), an approximation
//!   within a few percent at moderate load for more.
//! - M/M/c/K (Gross & Harris, *Fundamentals of Queueing Theory*, section 2.5): at most
//!   `K` queries in the system, the rest turned away: `theory` applies it to a database
//!   with a `max_queue`, with `K = connections + max_queue`.

/// Erlang B: the probability that all `c` servers are busy in an M/M/c/c loss system
/// at offered load `a`, by the stable recursion `B(k) = a B(k-1) / (k + a B(k-1))`.
///
/// ```
/// use tiersim::theory::queue::erlang_b;
/// // Erlang B tables: 10 circuits at 5 Erlangs block 1.84%.
/// assert!((erlang_b(10, 5.0) - 0.01838).abs() < 1e-5);
/// ```
pub fn erlang_b(c: u32, a: f64) -> f64 {
    (1..=c).fold(1.0, |b, k| a * b / (f64::from(k) + a * b))
}

/// Erlang C: the probability that an arrival waits in an M/M/c queue at offered load
/// `a < c`; 1 when `a >= c` (no steady state: everyone waits).
///
/// ```
/// use tiersim::theory::queue::erlang_c;
/// assert!((erlang_c(1, 0.7) - 0.7).abs() < 1e-12); // M/M/1: rho
/// assert!((erlang_c(2, 1.0) - 1.0 / 3.0).abs() < 1e-12);
/// ```
pub fn erlang_c(c: u32, a: f64) -> f64 {
    let c_f = f64::from(c);
    if a >= c_f {
        return 1.0;
    }
    let b = erlang_b(c, a);
    c_f * b / (c_f - a * (1.0 - b))
}

/// Mean wait for a connection in an M/M/c queue: arrivals `lambda` per unit time,
/// mean service `mean_service` (same unit). `None` at or above saturation.
pub fn mmc_mean_wait(c: u32, lambda: f64, mean_service: f64) -> Option<f64> {
    let a = lambda * mean_service;
    (a < f64::from(c)).then(|| erlang_c(c, a) * mean_service / (f64::from(c) - a))
}

/// Mean wait in an M/G/c queue by Allen–Cunneen: the M/M/c wait times `(1 + scv) / 2`,
/// `scv` the service time's squared coefficient of variation (exact for `c = 1`).
pub fn mgc_mean_wait(c: u32, lambda: f64, mean_service: f64, scv: f64) -> Option<f64> {
    mmc_mean_wait(c, lambda, mean_service).map(|w| w * (1.0 + scv) / 2.0)
}

/// The steady state of an M/M/c/K queue.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mmck {
    /// Probability that an arrival finds `K` in the system and is turned away.
    pub loss: f64,
    /// Mean number waiting.
    pub mean_queue: f64,
    /// Mean wait of the admitted arrivals (Little's law on the admitted rate).
    pub mean_wait: f64,
}

/// An M/M/c/K queue (`k >= c`): `c` servers, at most `k` in the system, arrivals
/// `lambda`, mean service `mean_service`. Any load is stable.
///
/// ```
/// use tiersim::theory::queue::mmck;
/// // M/M/1/K: loss = (1 - rho) rho^K / (1 - rho^(K+1)).
/// let q = mmck(1, 3, 0.5, 1.0);
/// assert!((q.loss - 0.5 * 0.125 / (1.0 - 0.0625)).abs() < 1e-12);
/// ```
pub fn mmck(c: u32, k: u32, lambda: f64, mean_service: f64) -> Mmck {
    let a = lambda * mean_service;
    let c_f = f64::from(c);
    // Unnormalized p_n: a^n / n! up to c, then times (a / c) per step.
    let mut p = Vec::with_capacity(k as usize + 1);
    let mut term = 1.0;
    for n in 0..=k {
        if n > 0 {
            term *= a / f64::from(n.min(c));
        }
        p.push(term);
    }
    let total: f64 = p.iter().sum();
    let loss = p[k as usize] / total;
    let mean_queue: f64 = p
        .iter()
        .enumerate()
        .skip(c as usize)
        .map(|(n, x)| (n as f64 - c_f) * x / total)
        .sum();
    let admitted = lambda * (1.0 - loss);
    Mmck {
        loss,
        mean_queue,
        mean_wait: if admitted > 0.0 {
            mean_queue / admitted
        } else {
            0.0
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn erlang_tables() {
        // Erlang B tables (e.g. Kleinrock vol. 1, or any teletraffic table): 5 circuits
        // at 2 Erlangs block 3.67%; 1 circuit: a / (1 + a).
        assert!((erlang_b(5, 2.0) - 0.03670).abs() < 1e-5);
        assert!((erlang_b(1, 0.5) - 1.0 / 3.0).abs() < 1e-12);
        // M/M/3 at a = 2: C = 4/9 (textbook); Erlang C from B: c B / (c - a (1 - B)).
        assert!((erlang_c(3, 2.0) - 4.0 / 9.0).abs() < 1e-12);
        assert_eq!(erlang_c(4, 4.0), 1.0);
    }

    #[test]
    fn mm1_wait_is_rho_over_mu_minus_lambda() {
        // M/M/1: W_q = rho / (mu - lambda).
        let w = mmc_mean_wait(1, 0.7, 1.0).unwrap();
        assert!((w - 0.7 / 0.3).abs() < 1e-12);
        assert_eq!(mmc_mean_wait(2, 2.0, 1.0), None);
        // M/D/1: half the M/M/1 wait (Pollaczek–Khinchine).
        assert!((mgc_mean_wait(1, 0.7, 1.0, 0.0).unwrap() - 0.35 / 0.3).abs() < 1e-12);
    }

    #[test]
    fn mmck_tends_to_mmc_and_to_erlang_b() {
        // A large K is the unbounded queue; K = c is the loss system.
        let big = mmck(8, 2000, 5.6, 1.0);
        assert!((big.mean_wait - mmc_mean_wait(8, 5.6, 1.0).unwrap()).abs() < 1e-9);
        assert!(big.loss < 1e-12);
        let loss = mmck(10, 10, 5.0, 1.0);
        assert!((loss.loss - erlang_b(10, 5.0)).abs() < 1e-12);
        assert_eq!(loss.mean_queue, 0.0);
    }
}
