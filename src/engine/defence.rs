//! Stampede defences at run time: each defended layer's fetches in flight, and what a
//! lookup at that layer does about them.
//!
//! The modes, their parameters and their table of behaviour are in
//! [`crate::layer::stampede`], which owns the spec. This module owns the run's state:
//! per layer, the fetches of its keys in flight (a map from key to `Flight`, only for
//! keys with a fetch under way) and, for `xfetch`, each key's last measured recompute
//! time and its random stream. Its decisions come back as outcomes ([`Before`],
//! [`OnMiss`], [`Refresh`]): serve a stale copy, keep an expired one, wait, poll later,
//! refresh in the background, go inward. It does not know events, requests or
//! counters: the engine schedules, fills and counts on its word.

use rand::RngExt;
use rustc_hash::FxHashMap;

use crate::SimTime;
use crate::base::rng::{SimRng, Stream, stream};
use crate::engine::faults::FaultState;
use crate::layer::Layer;
use crate::layer::stampede::Stampede;
use crate::scenario::Plan;

/// A fetch of one key under way from a defended layer inward.
#[derive(Debug, Default)]
struct Flight {
    /// The request whose fetch it is.
    leader: u32,
    /// When it left the layer.
    started: SimTime,
    /// `lock`: when the lock lapses if the fetch has not passed back by then.
    lock_until: SimTime,
    /// `coalesce`: the requests waiting for its response.
    waiters: Vec<u32>,
}

/// A defended layer's run-time state.
#[derive(Debug)]
struct Defence {
    /// The defence.
    mode: Stampede,
    flights: FxHashMap<u32, Flight>,
    /// `xfetch`: each fetched key's last fetch time (δ), ns.
    delta: FxHashMap<u32, SimTime>,
    /// Waiter lists of ended flights, reused.
    spare: Vec<Vec<u32>>,
}

impl Defence {
    /// No flights yet.
    fn new(mode: Stampede) -> Self {
        Defence {
            mode,
            flights: FxHashMap::default(),
            delta: FxHashMap::default(),
            spare: Vec::new(),
        }
    }

    /// Whether the layer has a defence at all.
    #[inline]
    fn is_active(&self) -> bool {
        self.mode != Stampede::None
    }

    /// The fetch of `key` in flight, if any.
    fn flight(&mut self, key: u32) -> Option<&mut Flight> {
        self.flights.get_mut(&key)
    }

    /// Records that request `leader`'s fetch of `key` left the layer at `now`, unless
    /// one is already in flight; returns whether this one starts a new flight.
    fn start(&mut self, key: u32, leader: u32, now: SimTime, lock_until: SimTime) -> bool {
        if self.flights.contains_key(&key) {
            return false;
        }
        let waiters = self.spare.pop().unwrap_or_default();
        self.flights.insert(
            key,
            Flight {
                leader,
                started: now,
                lock_until,
                waiters,
            },
        );
        true
    }

    /// Request `req`'s response for `key` passes the layer at `now`: if `req` leads the
    /// key's flight, the flight ends and δ is measured. Returns the waiters to answer;
    /// hand the list back with [`Self::recycle`].
    fn pass(&mut self, key: u32, req: u32, now: SimTime) -> Option<Vec<u32>> {
        if self.flights.get(&key)?.leader != req {
            return None;
        }
        let f = self.flights.remove(&key)?;
        if let Stampede::Xfetch { .. } = self.mode {
            self.delta.insert(key, now - f.started);
        }
        Some(f.waiters)
    }

    /// Request `req`'s fetch of `key` failed: if it led the key's flight, the flight ends
    /// without measuring δ. Returns the waiters; hand the list back with [`Self::recycle`].
    fn abort(&mut self, key: u32, req: u32) -> Option<Vec<u32>> {
        if self.flights.get(&key)?.leader != req {
            return None;
        }
        self.flights.remove(&key).map(|f| f.waiters)
    }

    /// Returns an emptied waiter list for reuse.
    fn recycle(&mut self, mut waiters: Vec<u32>) {
        waiters.clear();
        self.spare.push(waiters);
    }

    /// `xfetch`: the last measured fetch time of `key`, if it was ever fetched.
    fn delta(&self, key: u32) -> Option<SimTime> {
        self.delta.get(&key).copied()
    }
}

/// `xfetch`'s decision: refresh early when `u < e^(−τ/(β·δ))`, for `u` uniform on [0, 1).
fn xfetch_refresh(u: f64, tau: SimTime, beta: f64, delta: SimTime) -> bool {
    let scale = beta * delta.as_nanos() as f64;
    scale > 0.0 && u < (-(tau.as_nanos() as f64) / scale).exp()
}

/// What a defended layer does before it looks a key up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Before {
    /// Nothing: the lookup goes ahead.
    Lookup,
    /// `stale_while_revalidate`: serve the expired copy of `version` and refresh it.
    ServeStale {
        /// The copy's version.
        version: u32,
    },
    /// `stale_if_error`: go inward without a lookup, so the expired copy stays readable
    /// in case the path inward fails.
    KeepExpired,
}

/// What a defended layer does with a miss.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum OnMiss {
    /// `coalesce`: the request waits for the flight in progress, answered when its
    /// response passes.
    Wait,
    /// `lock`: the key is locked; the request polls again at `at`.
    Poll {
        /// When it looks again.
        at: SimTime,
    },
    /// The request goes inward (`timed_out`: a `lock` waiter gave up waiting).
    Inward {
        /// Whether a lock waiter gave up.
        timed_out: bool,
    },
}

/// A background refresh to start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Refresh {
    /// Whether no fetch of the key was in flight: a new refresh cycle.
    pub new_cycle: bool,
}

/// Every cache layer's defence in a run (inactive for layers without one).
pub(super) struct Defences {
    layers: Vec<Defence>,
    /// Draws of each defence (`xfetch`).
    rng: Vec<SimRng>,
    /// Whether any layer has one.
    any: bool,
}

impl Defences {
    /// The plan's defences, no flights yet.
    pub fn new(plan: &Plan) -> Self {
        let layers: Vec<Defence> = plan
            .caches
            .iter()
            .map(|c| Defence::new(c.stampede))
            .collect();
        Defences {
            any: layers.iter().any(Defence::is_active),
            rng: (0..layers.len())
                .map(|i| stream(plan.seed, Stream::Stampede(i)))
                .collect(),
            layers,
        }
    }

    /// Whether any layer has a defence.
    #[inline]
    pub fn any(&self) -> bool {
        self.any
    }

    /// Whether layer `i` has one.
    #[inline]
    pub fn is_active(&self, i: usize) -> bool {
        self.layers[i].is_active()
    }

    /// Layer `i`, about to look `key` up at `now`: whether it answers or goes inward
    /// with an expired copy instead. Defended layers are single-node: node 0.
    pub fn before_lookup(&self, i: usize, layer: &Layer, key: u32, now: SimTime) -> Before {
        let expired_within = |window: SimTime| {
            layer
                .store
                .peek(0, key)
                .filter(|&(_, expires)| expires <= now && now < expires + window)
        };
        match self.layers[i].mode {
            Stampede::StaleWhileRevalidate { window } => match expired_within(window) {
                Some((version, _)) => Before::ServeStale { version },
                None => Before::Lookup,
            },
            Stampede::StaleIfError { window } if expired_within(window).is_some() => {
                Before::KeepExpired
            }
            _ => Before::Lookup,
        }
    }

    /// Layer `i` served a copy of `key` expiring at `expires`, at `now`: whether to
    /// refresh it early (`refresh_ahead`, `xfetch`, which draws here).
    pub fn refreshes_on_hit(&mut self, i: usize, key: u32, expires: SimTime, now: SimTime) -> bool {
        match self.layers[i].mode {
            Stampede::RefreshAhead { window } => expires - now <= window,
            Stampede::Xfetch { beta } => match self.layers[i].delta(key) {
                Some(delta) => {
                    let u: f64 = self.rng[i].random();
                    xfetch_refresh(u, expires - now, beta, delta)
                }
                None => false,
            },
            _ => false,
        }
    }

    /// Request `req` missed `key` at layer `i` at `now`, having waited there since
    /// `since` (`now` unless it is a `lock` waiter polling): it waits, polls later, or
    /// goes inward, leading a flight where the mode keeps one.
    pub fn on_miss(
        &mut self,
        i: usize,
        key: u32,
        req: u32,
        now: SimTime,
        since: SimTime,
    ) -> OnMiss {
        let defence = &mut self.layers[i];
        let mut timed_out = false;
        match defence.mode {
            Stampede::Coalesce => {
                if let Some(flight) = defence.flight(key) {
                    flight.waiters.push(req);
                    return OnMiss::Wait;
                }
                defence.start(key, req, now, SimTime::ZERO);
            }
            Stampede::Lock {
                lock_ttl,
                poll,
                wait_timeout,
            } => match defence.flight(key) {
                Some(f) if f.lock_until > now => {
                    if now - since < wait_timeout {
                        return OnMiss::Poll { at: now + poll };
                    }
                    timed_out = true;
                }
                Some(f) => {
                    // The holder's lock lapsed: take it over.
                    f.leader = req;
                    f.started = now;
                    f.lock_until = now + lock_ttl;
                }
                None => {
                    defence.start(key, req, now, now + lock_ttl);
                }
            },
            Stampede::StaleIfError { .. } => {}
            _ => {
                // Remember the fetch: one refresh per key at a time, and xfetch's δ.
                defence.start(key, req, now, SimTime::ZERO);
            }
        }
        OnMiss::Inward { timed_out }
    }

    /// Whether layer `i` refreshes `key` in the background now: `stale_while_revalidate`
    /// and `refresh_ahead` start one only when no fetch of the key from this layer is in
    /// flight; `xfetch` (without a lock) starts one every time it decides to.
    pub fn refresh(&self, i: usize, key: u32) -> Option<Refresh> {
        let in_flight = self.layers[i].flights.contains_key(&key);
        let always = matches!(self.layers[i].mode, Stampede::Xfetch { .. });
        (!in_flight || always).then_some(Refresh {
            new_cycle: !in_flight,
        })
    }

    /// Request `leader`'s fetch of `key` left layer `i` at `now` (a background refresh),
    /// unless one is in flight already.
    pub fn start(&mut self, i: usize, key: u32, leader: u32, now: SimTime) {
        self.layers[i].start(key, leader, now, SimTime::ZERO);
    }

    /// Request `req`'s response for `key` passes layer `j` at `now`: if `req` leads the
    /// key's flight there, the flight ends; returns its waiters, to answer and then hand
    /// back with [`Self::recycle`].
    #[inline]
    pub fn pass(&mut self, j: usize, key: u32, req: u32, now: SimTime) -> Option<Vec<u32>> {
        let defence = &mut self.layers[j];
        if !defence.is_active() {
            return None;
        }
        defence.pass(key, req, now)
    }

    /// Returns layer `j`'s emptied waiter list for reuse.
    pub fn recycle(&mut self, j: usize, waiters: Vec<u32>) {
        self.layers[j].recycle(waiters);
    }

    /// Request `req`'s fetch of `key` failed at path position `at`, having started at
    /// layer `from`: the flights it led in `from..at` end, and their waiters are added
    /// to `waiters` (they fail with it).
    pub fn abort(&mut self, from: usize, at: usize, key: u32, req: u32, waiters: &mut Vec<u32>) {
        if !self.any {
            return;
        }
        let to = at.min(self.layers.len());
        for defence in &mut self.layers[from..to] {
            if let Some(w) = defence.abort(key, req) {
                waiters.extend_from_slice(&w);
                defence.recycle(w);
            }
        }
    }

    /// Request `old`'s fetch of `key`, started at layer `from`, goes on as request `new`
    /// (its call timed out and it moved slots): the flights it led in `from..at` are
    /// led by `new`.
    pub fn relead(&mut self, from: usize, at: usize, key: u32, old: u32, new: u32) {
        if !self.any {
            return;
        }
        let to = at.min(self.layers.len());
        for defence in &mut self.layers[from..to] {
            if let Some(f) = defence.flights.get_mut(&key)
                && f.leader == old
            {
                f.leader = new;
            }
        }
    }

    /// A request for `key` failed at path position `at` at `now`, having started at
    /// layer `from`: the innermost layer of `from..at` that is up, serves
    /// `stale_if_error`, and holds a copy of `key` expired less than its window ago (or
    /// fresh) answers it. Returns that layer and the copy's version.
    pub fn stale_if_error(
        &self,
        layers: &[Layer],
        faults: &FaultState,
        from: usize,
        at: usize,
        key: u32,
        now: SimTime,
    ) -> Option<(usize, u32)> {
        (from..at.min(layers.len())).rev().find_map(|j| {
            let Stampede::StaleIfError { window } = self.layers[j].mode else {
                return None;
            };
            if !faults.is_up(j) {
                return None;
            }
            // `stale_if_error` is a defence, and defended layers are single-node.
            let (version, expires) = layers[j].store.peek(0, key)?;
            (now < expires + window).then_some((j, version))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flight_measures_delta_and_hands_back_its_waiters() {
        let mut d = Defence::new(Stampede::Xfetch { beta: 1.0 });
        let t = SimTime::from_nanos;
        assert!(d.start(7, 1, t(100), SimTime::ZERO));
        assert!(!d.start(7, 2, t(110), SimTime::ZERO));
        d.flight(7).unwrap().waiters.push(3);
        assert_eq!(
            d.pass(7, 2, t(120)),
            None,
            "only the leader's response ends it"
        );
        assert_eq!(d.pass(7, 1, t(130)), Some(vec![3]));
        assert_eq!(d.delta(7), Some(t(30)));
        assert_eq!(d.pass(7, 1, t(140)), None);
    }

    #[test]
    fn xfetch_probability_is_exponential_in_time_to_expiry() {
        let ms = |m: u64| SimTime::from_nanos(m * 1_000_000);
        // τ = βδ: probability e^-1 = 0.368.
        assert!(xfetch_refresh(0.36, ms(10), 1.0, ms(10)));
        assert!(!xfetch_refresh(0.37, ms(10), 1.0, ms(10)));
        assert!(!xfetch_refresh(0.0, ms(10), 1.0, SimTime::ZERO));
    }

    fn one(mode: Stampede) -> Defences {
        Defences {
            layers: vec![Defence::new(mode)],
            rng: vec![stream(1, Stream::Stampede(0))],
            any: true,
        }
    }

    #[test]
    fn coalesce_sends_the_first_miss_inward_and_the_others_wait_for_it() {
        let mut d = one(Stampede::Coalesce);
        let t = SimTime::from_nanos;
        let inward = OnMiss::Inward { timed_out: false };
        assert_eq!(d.on_miss(0, 7, 1, t(10), t(10)), inward);
        assert_eq!(d.on_miss(0, 7, 2, t(11), t(11)), OnMiss::Wait);
        assert_eq!(d.pass(0, 7, 2, t(20)), None, "not the leader's response");
        assert_eq!(d.pass(0, 7, 1, t(20)), Some(vec![2]));
        assert_eq!(
            d.on_miss(0, 7, 3, t(21), t(21)),
            inward,
            "the flight is over"
        );
    }

    #[test]
    fn a_lock_waiter_polls_until_it_gives_up_or_the_lock_lapses() {
        let ms = |m: u64| SimTime::from_nanos(m * 1_000_000);
        let mut d = one(Stampede::Lock {
            lock_ttl: ms(100),
            poll: ms(10),
            wait_timeout: ms(50),
        });
        assert_eq!(
            d.on_miss(0, 7, 1, ms(0), ms(0)),
            OnMiss::Inward { timed_out: false }
        );
        assert_eq!(
            d.on_miss(0, 7, 2, ms(5), ms(5)),
            OnMiss::Poll { at: ms(15) }
        );
        assert_eq!(
            d.on_miss(0, 7, 2, ms(60), ms(5)),
            OnMiss::Inward { timed_out: true }
        );
        assert_eq!(
            d.on_miss(0, 7, 3, ms(100), ms(100)),
            OnMiss::Inward { timed_out: false },
            "the lock lapsed: taken over"
        );
        let mut waiters = Vec::new();
        d.abort(0, 1, 7, 3, &mut waiters);
        assert_eq!(
            d.on_miss(0, 7, 4, ms(101), ms(101)),
            OnMiss::Inward { timed_out: false },
            "the new holder failed: the lock is free"
        );
    }

    #[test]
    fn one_refresh_per_key_at_a_time_except_for_xfetch() {
        let t = SimTime::from_nanos;
        let mut swr = one(Stampede::StaleWhileRevalidate { window: t(100) });
        assert_eq!(swr.refresh(0, 7), Some(Refresh { new_cycle: true }));
        swr.start(0, 7, 1, t(0));
        assert_eq!(swr.refresh(0, 7), None);
        let mut xfetch = one(Stampede::Xfetch { beta: 1.0 });
        xfetch.start(0, 7, 1, t(0));
        assert_eq!(xfetch.refresh(0, 7), Some(Refresh { new_cycle: false }));
        let mut ahead = one(Stampede::RefreshAhead { window: t(10) });
        assert!(ahead.refreshes_on_hit(0, 7, t(110), t(100)));
        assert!(!ahead.refreshes_on_hit(0, 7, t(111), t(100)));
    }
}
