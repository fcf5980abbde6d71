//! The application's side of overload (`[application]`, see
//! [`crate::scenario::application`]): each call's deadline, the retries after a failed
//! call, and the circuit breaker. It keeps their run-time state and decides; the walk
//! (`path`'s origin and answer, `detours`' failure) acts on what it decides.
//!
//! A call is one attempt of a request at the database. Its state is kept by the
//! request's slot; a call that times out leaves its query behind in the database (the
//! work goes on and is wasted): that slot becomes a ghost, which the query's answer
//! frees, and the request goes on in a new slot. A deadline's event carries the call's
//! id, unique in the run, so a deadline that fires after its call ended (or after the
//! slot was reused) is seen to be stale.

use crate::SimTime;
use crate::base::rng::{SimRng, Stream, stream};
use crate::engine::overload::Cause;
use crate::scenario::Plan;
use crate::scenario::application::{ApplicationPlan, BreakerPlan};
use rand::RngExt;

/// A slot's call state.
#[derive(Clone, Copy, Debug, Default)]
struct Slot {
    /// The id of its call in flight at the database with a deadline (0: none).
    call: u32,
    /// Retries made so far.
    attempt: u32,
    /// The next call is a retry.
    retrying: bool,
    /// Its call was let through by a half-open breaker.
    probe: bool,
    /// Its caller gave up: the query's answer goes to nobody.
    ghost: bool,
    /// When its query started.
    started: SimTime,
}

/// Bytes of one slot's call state, for the memory estimate (`budget`).
pub(super) const SLOT_BYTES: u64 = size_of::<Slot>() as u64;

/// What the application does with a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Call {
    /// It goes to the database; with a deadline `(at, call id)` if `timeout_ms` is set.
    Made {
        /// A retry, not the first call.
        retry: bool,
        /// The deadline's time and the call's id.
        deadline: Option<(SimTime, u32)>,
    },
    /// The breaker refuses it.
    Refused {
        /// A retry, not the first call.
        retry: bool,
    },
}

/// What the application does after a failed call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct AfterFailure {
    /// Calls again at this time, or gives up (`None`).
    pub retry_at: Option<SimTime>,
    /// The failure opened the breaker (for this long).
    pub opened: Option<SimTime>,
}

/// The breaker's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Closed,
    Open { until: SimTime },
    HalfOpen { admitted: u32, succeeded: u32 },
}

/// Tenths of the window the breaker counts in: its view of the last `window_s` is
/// exact to a tenth of it.
const TENTHS: usize = 10;

/// The circuit breaker.
#[derive(Debug)]
struct Breaker {
    plan: BreakerPlan,
    state: State,
    /// Width of a tenth, ns.
    width: u64,
    /// Per tenth of the window: `(its index + 1, calls, failed)`; index 0 is unused.
    tenths: [(u64, u32, u32); TENTHS],
}

impl Breaker {
    fn new(plan: BreakerPlan) -> Self {
        Breaker {
            plan,
            state: State::Closed,
            width: (plan.window.as_nanos() / TENTHS as u64).max(1),
            tenths: [(0, 0, 0); TENTHS],
        }
    }

    /// A call at `now`: `Some(probe)` if it may go, `None` if refused.
    fn admit(&mut self, now: SimTime) -> Option<bool> {
        if let State::Open { until } = self.state {
            if now < until {
                return None;
            }
            self.state = State::HalfOpen {
                admitted: 0,
                succeeded: 0,
            };
        }
        match &mut self.state {
            State::Closed => Some(false),
            State::HalfOpen { admitted, .. } if *admitted < self.plan.probes => {
                *admitted += 1;
                Some(true)
            }
            _ => None,
        }
    }

    /// A call (a `probe` or not) ended at `now`, `failed` or not; returns whether that
    /// opened the breaker.
    fn outcome(&mut self, failed: bool, probe: bool, now: SimTime) -> bool {
        match &mut self.state {
            State::Closed => {
                let i = now.as_nanos() / self.width + 1;
                let t = &mut self.tenths[(i % TENTHS as u64) as usize];
                if t.0 != i {
                    *t = (i, 0, 0);
                }
                t.1 += 1;
                t.2 += u32::from(failed);
                if !failed {
                    return false;
                }
                let (calls, fails) = self
                    .tenths
                    .iter()
                    .filter(|t| t.0 + (TENTHS as u64) > i)
                    .fold((0u64, 0u64), |(c, f), t| {
                        (c + u64::from(t.1), f + u64::from(t.2))
                    });
                if calls >= u64::from(self.plan.min_calls)
                    && fails as f64 >= self.plan.failure_ratio * calls as f64
                {
                    self.open(now);
                    return true;
                }
                false
            }
            State::HalfOpen { succeeded, .. } if probe => {
                if failed {
                    self.open(now);
                    return true;
                }
                *succeeded += 1;
                if *succeeded >= self.plan.probes {
                    self.state = State::Closed;
                    self.tenths = [(0, 0, 0); TENTHS];
                }
                false
            }
            // A call made before the breaker opened: it tells nothing of now.
            _ => false,
        }
    }

    fn open(&mut self, now: SimTime) {
        self.state = State::Open {
            until: now + self.plan.open,
        };
    }
}

/// The application's timeouts, retries and breaker during a run.
#[derive(Debug)]
pub(super) struct Resilience {
    plan: ApplicationPlan,
    rng: SimRng,
    /// By request slot.
    slots: Vec<Slot>,
    /// The last call id given out.
    last_call: u32,
    breaker: Option<Breaker>,
}

impl Resilience {
    /// The state of `plan`'s application, if it has an `[application]` table.
    pub fn new(plan: &Plan) -> Option<Self> {
        let app = plan.application?;
        Some(Resilience {
            plan: app,
            rng: stream(plan.seed, Stream::Application),
            slots: Vec::new(),
            last_call: 0,
            breaker: app.breaker.map(Breaker::new),
        })
    }

    fn slot(&mut self, req: u32) -> &mut Slot {
        let i = req as usize;
        if i >= self.slots.len() {
            self.slots.resize(i + 1, Slot::default());
        }
        &mut self.slots[i]
    }

    /// Request `req` calls the database at `now`.
    pub fn call(&mut self, req: u32, now: SimTime) -> Call {
        let timeout = self.plan.timeout;
        let admitted = self.breaker.as_mut().map_or(Some(false), |b| b.admit(now));
        let id = if admitted.is_some() && timeout.is_some() {
            // Never 0, which means no call.
            self.last_call = self.last_call.checked_add(1).unwrap_or(1);
            self.last_call
        } else {
            0
        };
        let s = self.slot(req);
        let retry = s.retrying;
        if !retry {
            s.attempt = 0;
        }
        s.retrying = false;
        match admitted {
            None => Call::Refused { retry },
            Some(probe) => {
                s.probe = probe;
                s.call = id;
                Call::Made {
                    retry,
                    deadline: timeout.map(|t| (now + t, id)),
                }
            }
        }
    }

    /// Request `req`'s query started at `now`.
    #[inline]
    pub fn started(&mut self, req: u32, now: SimTime) {
        self.slot(req).started = now;
    }

    /// Request `req`'s query was answered at `now`: `Some(its service time)` if its
    /// caller had given up (the slot is free again), `None` if the call succeeded.
    pub fn answered(&mut self, req: u32, now: SimTime) -> Option<SimTime> {
        let s = self.slot(req);
        if s.ghost {
            s.ghost = false;
            return Some(now - s.started);
        }
        s.call = 0;
        let probe = s.probe;
        s.probe = false;
        if let Some(b) = &mut self.breaker {
            b.outcome(false, probe, now);
        }
        None
    }

    /// Whether `req` is a query whose caller gave up; if so it is dropped unserved (shed
    /// from the queue) and the slot no longer a ghost's.
    pub fn drop_ghost(&mut self, req: u32) -> bool {
        std::mem::take(&mut self.slot(req).ghost)
    }

    /// Whether call `call` of slot `req` is still waiting for the database.
    pub fn overran(&mut self, req: u32, call: u32) -> bool {
        let s = self.slot(req);
        s.call == call && !s.ghost
    }

    /// The call of `req` timed out: its query stays behind in `req` (a ghost), the
    /// request goes on in slot `new`.
    pub fn abandon(&mut self, req: u32, new: u32) {
        let old = *self.slot(req);
        *self.slot(new) = Slot {
            call: 0,
            ghost: false,
            ..old
        };
        let s = self.slot(req);
        s.ghost = true;
        s.call = 0;
        s.probe = false;
    }

    /// Request `req`'s call failed at `now` with `cause`: whether and when it calls
    /// again, and whether the failure opened the breaker.
    pub fn failed(&mut self, req: u32, cause: Cause, now: SimTime) -> AfterFailure {
        let s = self.slot(req);
        s.call = 0;
        let probe = std::mem::take(&mut s.probe);
        let attempt = s.attempt;
        let mut opened = None;
        // A call the breaker refused never reached the database: no outcome.
        if cause != Cause::BreakerOpen
            && let Some(b) = &mut self.breaker
            && b.outcome(true, probe, now)
        {
            opened = Some(b.plan.open);
        }
        let retry_at = match self.plan.retries {
            Some(r) if attempt < r.max => {
                let u: f64 = if r.jitter > 0.0 {
                    self.rng.random()
                } else {
                    0.5
                };
                let s = self.slot(req);
                s.attempt += 1;
                s.retrying = true;
                Some(now + r.wait(attempt + 1, u))
            }
            _ => None,
        };
        AfterFailure { retry_at, opened }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: f64) -> SimTime {
        SimTime::from_secs_f64(x)
    }

    fn breaker() -> Breaker {
        Breaker::new(BreakerPlan {
            failure_ratio: 0.5,
            window: s(10.0),
            min_calls: 4,
            open: s(5.0),
            probes: 2,
        })
    }

    /// Closed until min_calls calls with half failed, open for open_s, then two probes;
    /// both succeed and it closes, one fails and it opens again.
    #[test]
    fn the_breaker_opens_probes_and_closes() {
        let mut b = breaker();
        assert!(!b.outcome(true, false, s(1.0)));
        assert!(!b.outcome(true, false, s(1.1)));
        assert!(!b.outcome(false, false, s(1.2)), "3 calls: below min_calls");
        assert!(b.outcome(true, false, s(1.3)), "3 failed of 4");
        assert_eq!(b.admit(s(2.0)), None, "open: refused");
        assert_eq!(b.admit(s(6.29)), None);
        assert_eq!(b.admit(s(6.3)), Some(true), "half-open: a probe");
        assert_eq!(b.admit(s(6.31)), Some(true));
        assert_eq!(b.admit(s(6.32)), None, "only `probes` calls go through");
        assert!(
            !b.outcome(true, false, s(6.4)),
            "an older call tells nothing"
        );
        assert!(!b.outcome(false, true, s(6.5)));
        assert!(
            b.outcome(true, true, s(6.6)),
            "a failed probe opens it again"
        );
        assert_eq!(b.admit(s(11.5)), None);
        assert_eq!(b.admit(s(11.6)), Some(true));
        assert_eq!(b.admit(s(11.7)), Some(true));
        b.outcome(false, true, s(11.8));
        b.outcome(false, true, s(11.9));
        assert_eq!(b.state, State::Closed);
        assert_eq!(b.admit(s(12.0)), Some(false));
        // The window restarted: old failures no longer count.
        for t in [12.1, 12.2, 12.3] {
            assert!(!b.outcome(true, false, s(t)));
        }
    }

    /// Failures older than the window are forgotten.
    #[test]
    fn the_window_forgets_old_calls() {
        let mut b = breaker();
        for t in [0.0, 0.5, 1.0] {
            assert!(!b.outcome(true, false, s(t)));
        }
        // 11.5 s later the three failures are out of the window: 1 call, below min_calls.
        assert!(!b.outcome(true, false, s(12.5)));
        assert_eq!(b.state, State::Closed);
    }
}
