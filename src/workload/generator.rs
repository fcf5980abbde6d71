//! The request generator of one run: which key each request asks for, when it arrives,
//! and whether it writes, misses or reloads, drawn from the run's seeded streams (or
//! taken from a trace). One pending arrival at a time, so a run of any length holds
//! one request.
//!
//! It knows the [`WorkloadPlan`] and random streams, not the caches or the engine that
//! serves the requests.

use std::sync::Arc;

use rand::{Rng, RngExt};
use rand_distr::{Distribution, Exp, Uniform, Zipf};
use rand_xoshiro::rand_core::SeedableRng;

use crate::SimTime;
use crate::base::rng::SimRng;
use crate::workload::alias::{ALIAS_TABLE_MAX_KEYS, AliasTable, ZipfTables};
use crate::workload::drift::Drift;
use crate::workload::profile::{Arrivals, Profile};
use crate::workload::spec::{PopularitySpec, WorkloadPlan};
use crate::workload::trace_feed::TraceFeed;

/// Keys drawn ahead at a time, so the engine can read their state ahead
/// ([`Workload::upcoming_keys`]).
pub const KEY_BATCH: usize = 32;

/// Draws popularity ranks.
#[derive(Clone, Debug)]
enum KeySampler {
    Uniform(Uniform<u32>),
    Alias(Arc<AliasTable>),
    Rejection(Zipf<f64>),
}

/// One generated request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Op {
    /// The key asked for.
    pub key: u32,
    /// Whether it writes the key.
    pub write: bool,
    /// Whether it reads a key that does not exist: the engine gives it the id
    /// `keys + key`, so missing keys follow the same popularity in a space of their own.
    pub missing: bool,
    /// Whether it is a reload (`reload_ratio`): a browser revalidates its fresh copy.
    pub reload: bool,
}

/// The request generator of one run.
#[derive(Clone, Debug)]
pub struct Workload {
    keys: KeySampler,
    gap: Exp<f64>,
    write_ratio: f64,
    /// Per class, the first key after it and its write ratio; empty when every key
    /// writes at `write_ratio`.
    class_writes: Box<[(u32, f64)]>,
    missing_ratio: f64,
    reload_ratio: f64,
    rng: SimRng,
    /// Keys have a stream of their own, split off `rng` at the start, so the arrival
    /// gaps do not depend on when key batches are drawn.
    key_rng: SimRng,
    /// Keys drawn ahead; `batch[next..]` are still to be used.
    batch: [u32; KEY_BATCH],
    next: usize,
    /// The trace that replaces the generator, if the plan has one.
    trace: Option<Box<TraceFeed>>,
    /// Arrivals of a rate profile or of classes' own rates, if the plan has them.
    streams: Option<Box<Streams>>,
    /// Whether gaps come from the trace's timestamps or the streams, not `gap`: one
    /// branch for the constant rate.
    special_gaps: bool,
    /// Whether ops come from a trace, a class's stream or a drifting ranking: one
    /// branch for a plain run.
    special_ops: bool,
    /// The drifting ranking, if the plan has one.
    drift: Option<Box<DriftFeed>>,
    /// Whether the last op came from a class's own stream, not the batch (so the batch
    /// is not read ahead twice).
    class_op: bool,
}

/// Arrivals drawn as absolute times, so rounding to nanoseconds never accumulates:
/// the workload's profile, and the classes' own rates, each a stream of its own,
/// merged in time order (ties to the earlier stream).
#[derive(Clone, Debug)]
struct Streams {
    streams: Vec<ArrivalStream>,
    /// The stream of the request whose op is drawn next.
    current: usize,
    /// The stream of the arrival after it.
    upcoming: usize,
    last: SimTime,
}

#[derive(Clone, Debug)]
struct ArrivalStream {
    arrivals: Arrivals,
    /// Its next arrival, seconds.
    next: f64,
    /// A class's own stream: the class's first key and the sampler of its ranks; `None`
    /// for the workload's stream, whose keys come from the batch.
    class: Option<(u32, KeySampler)>,
}

impl Streams {
    /// The stream whose arrival comes first.
    fn earliest(&self) -> usize {
        let mut best = 0;
        for (i, s) in self.streams.iter().enumerate() {
            if s.next < self.streams[best].next {
                best = i;
            }
        }
        best
    }

    /// The first arrival: every stream's first draw, the earliest taken.
    fn first(&mut self, rng: &mut SimRng) -> SimTime {
        for s in &mut self.streams {
            s.next = s.arrivals.next(rng);
        }
        self.upcoming = self.earliest();
        self.last = SimTime::from_secs_f64(self.streams[self.upcoming].next);
        self.last
    }

    /// The gap to the arrival after the upcoming one, which becomes current.
    fn gap(&mut self, rng: &mut SimRng) -> SimTime {
        self.current = self.upcoming;
        let s = &mut self.streams[self.current];
        s.next = s.arrivals.next(rng);
        self.upcoming = self.earliest();
        let at = SimTime::from_secs_f64(self.streams[self.upcoming].next);
        let gap = SimTime::from_nanos(at.as_nanos().saturating_sub(self.last.as_nanos()));
        self.last = at;
        gap
    }

    /// The key of the current request, if a class's own stream brought it.
    fn class_key(&self, rng: &mut SimRng) -> Option<u32> {
        let (first, sampler) = self.streams[self.current].class.as_ref()?;
        Some(first + sampler.sample(rng))
    }
}

impl KeySampler {
    /// One rank.
    fn sample(&self, rng: &mut SimRng) -> u32 {
        match self {
            KeySampler::Uniform(d) => d.sample(rng),
            KeySampler::Alias(t) => t.sample(rng.next_u64()),
            KeySampler::Rejection(d) => d.sample(rng) as u32 - 1,
        }
    }

    /// Ranks `0..keys` by `popularity`.
    fn of(popularity: PopularitySpec, keys: u32) -> KeySampler {
        match popularity {
            PopularitySpec::Uniform | PopularitySpec::Zipf { alpha: 0.0 } => {
                KeySampler::Uniform(Uniform::new(0, keys).expect("keys >= 1"))
            }
            PopularitySpec::Zipf { alpha } if keys <= ALIAS_TABLE_MAX_KEYS => {
                KeySampler::Alias(ZipfTables::shared().get(keys, alpha))
            }
            PopularitySpec::Zipf { alpha } => {
                KeySampler::Rejection(Zipf::new(keys as f64, alpha).expect("validated alpha"))
            }
        }
    }
}

/// The drift, and the ranks of the keys drawn ahead: a batch is mapped to keys when it
/// is drawn (so read-ahead sees the right keys) and again at use if an event came
/// between.
#[derive(Clone, Debug)]
struct DriftFeed {
    drift: Drift,
    ranks: [u32; KEY_BATCH],
    /// [`Drift::epoch`] when the batch was mapped.
    mapped_at: u64,
}

impl Workload {
    /// A generator for `plan`, drawing from `rng`.
    ///
    /// ```
    /// use tiersim::base::rng::{stream, Stream};
    /// use tiersim::workload::{PopularitySpec, Workload, WorkloadPlan};
    /// let plan = WorkloadPlan { keys: 10, popularity: PopularitySpec::Zipf { alpha: 1.2 }, rate: 100.0, profile: None, drift: None, class_rates: vec![], write_ratio: 0.0, class_write_ratios: vec![], missing_ratio: 0.0, trace: None, timed: false, content: Default::default(), reload_ratio: 0.0 };
    /// let mut w = Workload::new(&plan, stream(1, Stream::Workload));
    /// assert!(w.next_op(tiersim::SimTime::ZERO).key < 10);
    /// assert!(w.next_gap().as_nanos() > 0);
    /// ```
    pub fn new(plan: &WorkloadPlan, mut rng: SimRng) -> Self {
        let trace = plan
            .trace
            .as_ref()
            .map(|t| Box::new(TraceFeed::new(t, plan.timed)));
        let keys = match plan.popularity {
            // A trace supplies the keys: no table to build.
            _ if trace.is_some() => KeySampler::Uniform(Uniform::new(0, 1).expect("1 key")),
            // Each class's keys by the popularity within it, times its request share.
            popularity if plan.content.is_active() => KeySampler::Alias(Arc::new(AliasTable::new(
                &plan.content.weights(|n| popularity.probabilities(n)),
            ))),
            PopularitySpec::Uniform | PopularitySpec::Zipf { alpha: 0.0 } => {
                KeySampler::Uniform(Uniform::new(0, plan.keys).expect("keys >= 1"))
            }
            PopularitySpec::Zipf { alpha } if plan.keys <= ALIAS_TABLE_MAX_KEYS => {
                KeySampler::Alias(ZipfTables::shared().get(plan.keys, alpha))
            }
            PopularitySpec::Zipf { alpha } => {
                KeySampler::Rejection(Zipf::new(plan.keys as f64, alpha).expect("validated alpha"))
            }
        };
        let key_rng = SimRng::seed_from_u64(rng.next_u64());
        // Split off only when present, so runs without drift keep their streams.
        let drift = plan.drift.as_ref().map(|d| {
            Box::new(DriftFeed {
                drift: Drift::new(d, plan.keys, SimRng::seed_from_u64(rng.next_u64())),
                ranks: [0; KEY_BATCH],
                mapped_at: 0,
            })
        });
        let timed = trace.as_ref().is_some_and(|t| t.timed);
        let streams =
            (!timed && (plan.profile.is_some() || !plan.class_rates.is_empty())).then(|| {
                let main = plan
                    .profile
                    .clone()
                    .unwrap_or_else(|| Arc::new(Profile::constant(plan.rate)));
                let stream = |profile: &Arc<Profile>, class| ArrivalStream {
                    arrivals: Arrivals::new(Arc::clone(profile)),
                    next: 0.0,
                    class,
                };
                let mut streams = vec![stream(&main, None)];
                for (c, profile) in &plan.class_rates {
                    let class = &plan.content.classes[usize::from(*c)];
                    let sampler = KeySampler::of(plan.popularity, class.keys);
                    streams.push(stream(profile, Some((class.first_key, sampler))));
                }
                Box::new(Streams {
                    streams,
                    current: 0,
                    upcoming: 0,
                    last: SimTime::ZERO,
                })
            });
        Workload {
            keys,
            gap: Exp::new(plan.rate / 1e9).expect("validated rate"),
            write_ratio: plan.write_ratio,
            class_writes: plan
                .content
                .classes
                .iter()
                .zip(&plan.class_write_ratios)
                .map(|(c, &r)| (c.first_key + c.keys, r))
                .collect(),
            missing_ratio: plan.missing_ratio,
            reload_ratio: plan.reload_ratio,
            key_rng,
            rng,
            batch: [0; KEY_BATCH],
            next: KEY_BATCH,
            special_gaps: timed || streams.is_some(),
            special_ops: trace.is_some() || streams.is_some() || drift.is_some(),
            trace,
            streams,
            drift,
            class_op: false,
        }
    }

    /// When the first request arrives: at 0, or with a profile, its first arrival
    /// (drawn, so the process is exactly the profile's from time 0).
    pub fn first_arrival(&mut self) -> SimTime {
        match &mut self.streams {
            Some(s) => s.first(&mut self.rng),
            None => SimTime::ZERO,
        }
    }

    /// Draws the next [`KEY_BATCH`] keys.
    fn refill(&mut self) {
        let rng = &mut self.key_rng;
        match &self.keys {
            KeySampler::Uniform(d) => {
                for k in &mut self.batch {
                    *k = d.sample(rng);
                }
            }
            KeySampler::Alias(t) => {
                // Draw and prefetch all first, so the table's misses overlap.
                let mut draws = [0u64; KEY_BATCH];
                for r in &mut draws {
                    *r = rng.next_u64();
                    t.prefetch(*r);
                }
                for (k, r) in self.batch.iter_mut().zip(draws) {
                    *k = t.sample(r);
                }
            }
            KeySampler::Rejection(d) => {
                for k in &mut self.batch {
                    *k = d.sample(rng) as u32 - 1;
                }
            }
        }
        self.next = 0;
        if let Some(d) = &mut self.drift {
            d.ranks = self.batch;
            for k in &mut self.batch {
                *k = d.drift.key(*k);
            }
            d.mapped_at = d.drift.epoch;
        }
    }

    /// If the last [`next_op`](Self::next_op) drew a new batch of keys, the batch (its
    /// key first): for reading the keys' state ahead.
    #[inline]
    pub fn upcoming_keys(&self) -> Option<&[u32; KEY_BATCH]> {
        (self.next == 1 && self.trace.is_none() && !self.class_op).then_some(&self.batch)
    }

    /// The time to the next arrival.
    #[inline]
    pub fn next_gap(&mut self) -> SimTime {
        if self.special_gaps {
            return self.special_gap();
        }
        SimTime::from_nanos_f64(self.gap.sample(&mut self.rng))
    }

    /// A gap from the trace's timestamps or the profile.
    #[cold]
    #[inline(never)]
    fn special_gap(&mut self) -> SimTime {
        if let Some(t) = &mut self.trace
            && t.timed
        {
            return t.gap();
        }
        let s = self.streams.as_mut().expect("streams give the gaps");
        s.gap(&mut self.rng)
    }

    /// The write ratio of `key`'s class (classes own contiguous key ranges, in order).
    #[inline]
    fn class_write_ratio(&self, key: u32) -> f64 {
        self.class_writes
            .iter()
            .find(|&&(end, _)| key < end)
            .map_or(self.write_ratio, |&(_, r)| r)
    }

    /// The key and kind of the request arriving at `now` (which a drifting popularity
    /// needs).
    #[inline]
    pub fn next_op(&mut self, now: SimTime) -> Op {
        if self.special_ops {
            return self.special_op(now);
        }
        if self.next == KEY_BATCH {
            self.refill();
        }
        let key = self.batch[self.next];
        self.next += 1;
        self.op_for(key)
    }

    /// [`next_op`](Self::next_op) from a trace, a class's own stream, or through the
    /// drifting ranking.
    #[cold]
    #[inline(never)]
    fn special_op(&mut self, now: SimTime) -> Op {
        if let Some(t) = &mut self.trace {
            return t.next_op();
        }
        let class_key = self
            .streams
            .as_ref()
            .and_then(|s| s.class_key(&mut self.key_rng));
        self.class_op = class_key.is_some();
        if let Some(key) = class_key {
            return self.op_for(key);
        }
        if let Some(d) = &mut self.drift {
            d.drift.advance(now);
        }
        if self.next == KEY_BATCH {
            self.refill();
        }
        let mut key = self.batch[self.next];
        if let Some(d) = &self.drift
            && d.mapped_at != d.drift.epoch
        {
            // The ranking changed since the batch was mapped.
            key = d.drift.key(d.ranks[self.next]);
        }
        self.next += 1;
        self.op_for(key)
    }

    /// The request for `key`: whether it writes, misses or reloads.
    #[inline(always)]
    fn op_for(&mut self, key: u32) -> Op {
        let ratio = if self.class_writes.is_empty() {
            self.write_ratio
        } else {
            self.class_write_ratio(key)
        };
        let write = ratio > 0.0 && self.rng.random::<f64>() < ratio;
        // Drawn only when enabled, so runs without missing keys keep their streams.
        let missing =
            !write && self.missing_ratio > 0.0 && self.rng.random::<f64>() < self.missing_ratio;
        let reload =
            !write && self.reload_ratio > 0.0 && self.rng.random::<f64>() < self.reload_ratio;
        Op {
            key,
            write,
            missing,
            reload,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::rng::{Stream, stream};

    fn frequencies(popularity: PopularitySpec, keys: u32, n: usize) -> Vec<f64> {
        let plan = WorkloadPlan {
            keys,
            popularity,
            rate: 1.0,
            profile: None,
            drift: None,
            class_rates: vec![],
            write_ratio: 0.0,
            class_write_ratios: vec![],
            missing_ratio: 0.0,
            trace: None,
            timed: false,
            content: Default::default(),
            reload_ratio: 0.0,
        };
        let mut w = Workload::new(&plan, stream(3, Stream::Workload));
        let mut counts = vec![0u32; keys as usize];
        for _ in 0..n {
            counts[w.next_op(SimTime::ZERO).key as usize] += 1;
        }
        counts.into_iter().map(|c| c as f64 / n as f64).collect()
    }

    #[test]
    fn samplers_match_popularity() {
        // 400k draws: the standard error of a frequency p is sqrt(p(1-p)/n) <= 0.0008,
        // so 0.004 is five standard errors.
        for alpha in [0.0, 0.8, 1.0, 1.4] {
            let spec = PopularitySpec::Zipf { alpha };
            let freq = frequencies(spec, 20, 400_000);
            for (f, q) in freq.iter().zip(spec.probabilities(20)) {
                assert!((f - q).abs() < 0.004, "alpha {alpha}: {f} vs {q}");
            }
        }
    }

    #[test]
    fn gaps_have_the_mean_of_the_rate() {
        let plan = WorkloadPlan {
            keys: 1,
            popularity: PopularitySpec::Uniform,
            rate: 250.0,
            profile: None,
            drift: None,
            class_rates: vec![],
            write_ratio: 0.5,
            class_write_ratios: vec![],
            missing_ratio: 0.0,
            trace: None,
            timed: false,
            content: Default::default(),
            reload_ratio: 0.0,
        };
        let mut w = Workload::new(&plan, stream(9, Stream::Workload));
        let n = 100_000;
        let (mut total, mut writes) = (0u64, 0);
        for _ in 0..n {
            total += w.next_gap().as_nanos();
            writes += w.next_op(SimTime::ZERO).write as u32;
        }
        // Exponential gaps: relative standard error 1/sqrt(n) = 0.3%; allow 1.5%.
        let mean_s = total as f64 / n as f64 / 1e9;
        assert!((mean_s * 250.0 - 1.0).abs() < 0.015, "{mean_s}");
        // Binomial writes: standard error 0.0016; allow 0.008.
        assert!((writes as f64 / n as f64 - 0.5).abs() < 0.008);
    }
}
