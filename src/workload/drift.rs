//! Popularity that drifts: `workload.drift`, a hot-set shift (a breaking story) and
//! gradual churn of the top ranks. The popularity sampler draws ranks as always; a
//! rank → key permutation, changed only at the drift's events, says which key holds each
//! rank now, so a request costs one array read and the run stays deterministic from its
//! seed.
//!
//! - **Shift** (`shifts = [{ at_s, rank }]`, ranks from 1, the most popular): at `at_s`
//!   the key holding `rank` jumps to rank 1; the keys at ranks 1 to `rank − 1` each move
//!   down one; every key below `rank` keeps its rank.
//! - **Churn** (`churn = { interval_s, top, share }`): every `interval_s` (first at
//!   `interval_s`), `round(share × top)` ranks of the top `top`, drawn uniformly without
//!   repeats, swap keys with as many ranks below the top, drawn likewise: that many keys
//!   leave the top set and as many newcomers take their ranks, and the keys that left
//!   take the newcomers' old ranks.
//!
//! Events at the same time apply shifts first, then churn. It knows ranks, keys, times
//! and its own seeded stream, not the samplers that draw the ranks.

use serde::{Deserialize, Serialize};

use crate::SimTime;
use crate::base::Invalid;
use crate::base::rng::SimRng;

/// `workload.drift`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DriftSpec {
    /// Hot-set shifts, any order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shifts: Vec<ShiftSpec>,
    /// Gradual churn of the top ranks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub churn: Option<ChurnSpec>,
}

/// One hot-set shift: at `at_s` the key at `rank` jumps to rank 1.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShiftSpec {
    /// When, simulated seconds from the start.
    pub at_s: f64,
    /// The rank (1: the most popular) of the key that jumps to rank 1; at least 2.
    pub rank: u64,
}

/// Churn: every `interval_s`, `round(share × top)` of the top `top` ranks get keys from
/// below the top.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChurnSpec {
    /// Seconds between changes, > 0.
    pub interval_s: f64,
    /// The top ranks that churn, at least 1 and fewer than the keys.
    pub top: u64,
    /// The share of them replaced each interval, in (0, 1].
    pub share: f64,
}

/// A validated drift.
#[derive(Clone, Debug, PartialEq)]
pub struct DriftPlan {
    /// Shifts in time order: (when, 0-based rank).
    pub shifts: Vec<(SimTime, u32)>,
    /// Churn: (interval, top ranks, ranks replaced per interval).
    pub churn: Option<(SimTime, u32, u32)>,
}

impl DriftPlan {
    /// Ranks replaced per churn interval (0 without churn): for the work bound.
    pub fn churned_per_interval(&self) -> u32 {
        self.churn.map_or(0, |c| c.2)
    }
}

impl DriftSpec {
    /// Checks the drift against a workload of `keys` keys.
    pub fn resolve(&self, keys: u32) -> Result<DriftPlan, Invalid> {
        let mut shifts = Vec::with_capacity(self.shifts.len());
        for (i, s) in self.shifts.iter().enumerate() {
            let at = |e: Invalid| e.at(i).under("shifts");
            if !(s.at_s.is_finite() && s.at_s >= 0.0) {
                return Err(at(Invalid::new(
                    "at_s",
                    format!("is {}; must be a finite number of seconds >= 0", s.at_s),
                )));
            }
            if s.rank < 2 || s.rank > u64::from(keys) {
                return Err(at(Invalid::new(
                    "rank",
                    format!(
                        "is {}; must be between 2 and workload.keys ({keys}): the rank, from \
                         1 the most popular, of the key that jumps to rank 1",
                        s.rank
                    ),
                )));
            }
            shifts.push((SimTime::from_secs_f64(s.at_s), (s.rank - 1) as u32));
        }
        // Stable: shifts at the same time apply in the file's order.
        shifts.sort_by_key(|s| s.0);
        let churn = match self.churn {
            None => None,
            Some(c) => {
                let bad = |key: &str, m: String| Invalid::new(key, m).under("churn");
                if !(c.interval_s.is_finite() && c.interval_s > 0.0) {
                    return Err(bad(
                        "interval_s",
                        format!(
                            "is {}; must be a finite number of seconds > 0",
                            c.interval_s
                        ),
                    ));
                }
                if c.top < 1 || c.top >= u64::from(keys) {
                    return Err(bad(
                        "top",
                        format!(
                            "is {}; must be at least 1 and below workload.keys ({keys}): \
                             newcomers come from below the top",
                            c.top
                        ),
                    ));
                }
                if !(c.share > 0.0 && c.share <= 1.0) {
                    return Err(bad("share", format!("is {}; must be in (0, 1]", c.share)));
                }
                let replaced = (c.share * c.top as f64).round() as u64;
                let below = u64::from(keys) - c.top;
                if replaced == 0 || replaced > below {
                    return Err(bad(
                        "share",
                        format!(
                            "replaces {replaced} of the top {} each interval; must replace at \
                             least 1 and at most the {below} keys below the top",
                            c.top
                        ),
                    ));
                }
                Some((
                    SimTime::from_secs_f64(c.interval_s).max(SimTime::from_nanos(1)),
                    c.top as u32,
                    replaced as u32,
                ))
            }
        };
        Ok(DriftPlan { shifts, churn })
    }
}

/// A drift during a run: the rank → key permutation and the next event.
#[derive(Clone, Debug)]
pub struct Drift {
    /// `perm[rank]` is the key at `rank` (0-based) now.
    perm: Vec<u32>,
    shifts: Vec<(SimTime, u32)>,
    next_shift: usize,
    churn: Option<(SimTime, u32, u32)>,
    next_churn: SimTime,
    /// The earliest pending event; [`SimTime::NEVER`] when none is left.
    next_event: SimTime,
    /// Counts events applied, so keys mapped ahead can tell they are out of date.
    pub epoch: u64,
    rng: SimRng,
}

impl Drift {
    /// The identity ranking of `keys` keys, with `plan`'s events to come.
    pub fn new(plan: &DriftPlan, keys: u32, rng: SimRng) -> Self {
        let mut d = Drift {
            perm: (0..keys).collect(),
            shifts: plan.shifts.clone(),
            next_shift: 0,
            churn: plan.churn,
            next_churn: plan.churn.map_or(SimTime::NEVER, |c| c.0),
            next_event: SimTime::NEVER,
            epoch: 0,
            rng,
        };
        d.next_event = d.earliest();
        d
    }

    fn earliest(&self) -> SimTime {
        let shift = self
            .shifts
            .get(self.next_shift)
            .map_or(SimTime::NEVER, |s| s.0);
        shift.min(self.next_churn)
    }

    /// Applies every event due at or before `now`.
    #[inline]
    pub fn advance(&mut self, now: SimTime) {
        if now >= self.next_event {
            self.apply(now);
        }
    }

    #[cold]
    fn apply(&mut self, now: SimTime) {
        loop {
            let shift = self
                .shifts
                .get(self.next_shift)
                .copied()
                .filter(|s| s.0 <= now);
            if let Some((at, rank)) = shift
                && at <= self.next_churn
            {
                self.perm[..=rank as usize].rotate_right(1);
                self.next_shift += 1;
            } else if self.next_churn <= now {
                let (interval, top, replaced) = self.churn.expect("a churn time");
                self.churn_once(top, replaced);
                self.next_churn = self.next_churn.saturating_add(interval);
            } else {
                break;
            }
            self.epoch += 1;
        }
        self.next_event = self.earliest();
    }

    fn churn_once(&mut self, top: u32, replaced: u32) {
        let below = self.perm.len() - top as usize;
        let out = rand::seq::index::sample(&mut self.rng, top as usize, replaced as usize);
        let inn = rand::seq::index::sample(&mut self.rng, below, replaced as usize);
        for (a, b) in out.iter().zip(inn.iter()) {
            self.perm.swap(a, top as usize + b);
        }
    }

    /// The key at 0-based `rank` now.
    #[inline]
    pub fn key(&self, rank: u32) -> u32 {
        self.perm[rank as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_xoshiro::rand_core::SeedableRng;

    #[test]
    fn a_shift_moves_one_key_up_and_the_ones_above_down() {
        let spec = DriftSpec {
            shifts: vec![ShiftSpec { at_s: 1.0, rank: 4 }],
            churn: None,
        };
        let plan = spec.resolve(6).unwrap();
        let mut d = Drift::new(&plan, 6, SimRng::seed_from_u64(1));
        d.advance(SimTime::from_secs_f64(0.5));
        assert_eq!(d.perm, [0, 1, 2, 3, 4, 5]);
        d.advance(SimTime::from_secs_f64(1.0));
        assert_eq!(d.perm, [3, 0, 1, 2, 4, 5]);
        assert_eq!(d.epoch, 1);
    }

    #[test]
    fn churn_replaces_the_share_of_the_top_each_interval() {
        let spec = DriftSpec {
            shifts: vec![],
            churn: Some(ChurnSpec {
                interval_s: 10.0,
                top: 100,
                share: 0.2,
            }),
        };
        let plan = spec.resolve(1000).unwrap();
        let mut d = Drift::new(&plan, 1000, SimRng::seed_from_u64(7));
        let mut before: Vec<u32> = d.perm[..100].to_vec();
        for i in 1..=5u64 {
            d.advance(SimTime::from_secs_f64(10.0 * i as f64));
            let now: Vec<u32> = d.perm[..100].to_vec();
            let kept = now.iter().filter(|k| before.contains(k)).count();
            assert_eq!(kept, 80, "interval {i}");
            before = now;
        }
        assert_eq!(d.epoch, 5);
        let mut all = d.perm.clone();
        all.sort_unstable();
        assert_eq!(all, (0..1000).collect::<Vec<_>>(), "still a permutation");
    }
}
