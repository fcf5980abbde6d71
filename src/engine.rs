//! The discrete-event engine: the event loop, and a request's walk out along the path
//! and back.
//!
//! A request arrives, consults each cache layer in turn (paying that layer's latency,
//! a round trip), and on a miss everywhere queues at the database. The response fills
//! every cache layer it passes on the way out: a hit at layer `i` fills layers `0..i`
//! at the moment of the hit; an origin response fills them all when the query completes.
//!
//! Requests overlap in time, so while one origin fetch for a key is in flight, other
//! requests for it miss too and go to the origin as well: the herd, counted in
//! [`OriginStats::herd_requests`](crate::metrics::OriginStats::herd_requests).
//!
//! Writes go straight to the database (except under `write_back`); when a write
//! commits, the key's version moves on and each cache layer's copy is dropped, stored or
//! left, by the write plan. A read takes the version current when its query
//! starts, so a read that started before a write and finishes after it fills the caches
//! with the old version: the cache-aside race, counted as stale hits later.
//!
//! # What it owns, and what it must not know
//!
//! The engine owns the order of things: the events, the requests in flight, the
//! layers' and the database's state during a run, and the walk (`path`: arrival, the
//! lookups outward in, the origin, the fills and the answer on the way back; `detours`:
//! waits, polls, background refreshes, failures, flushes, a write's propagation). It
//! must not know a feature's rules. Each cross-cutting feature keeps its run-time state
//! and its decisions in a file of its own, and the walk acts on what they decide:
//!
//! | file | feature | its state | what it decides |
//! |---|---|---|---|
//! | `defence` | stampede defences ([`crate::layer::stampede`]) | flights in flight, `xfetch`'s δ | serve stale, keep an expired copy, wait, poll at t, refresh, go inward |
//! | `faults` | faults ([`crate::scenario::fault`]) | what is down now | up, skip or fail; what a window's opening crashes |
//! | `writes` | write strategies ([`crate::workload::write`]) | `write_back`'s dirty keys and durable versions | what a commit does to a layer; whether a fill may replace a copy; when to flush |
//! | `overload` | overload controls ([`crate::layer::overload`]) | token buckets, the queue bound, CoDel's drop schedule | admit or refuse (429, 503) at a layer or the database; drop the queue's head (`shed`); why a request failed (`Cause`) |
//! | `http` | content classes ([`crate::layer::http`]) | each layer's rule per class, key sizes | revalidate or answer, 304, leak, how long a stored copy lives, bytes sent |
//! | `resilience` | the application's calls ([`crate::scenario::application`]) | each call's deadline and retries, the breaker | call or refuse, time out, retry when, open or close the breaker |
//!
//! Measurements are kept apart (`measure`), and so is read-ahead (`read_ahead`): what
//! is prefetched when, which changes speed and never results.
//!
//! # One walk, two instantiations
//!
//! There is one lookup and one fill. A run with none of a defence, a fault, versioned
//! keys, missing keys, content classes or an overload control runs the walk's `Plain`
//! instantiation, whose feature hooks compile to nothing; any other runs `Full`, whose
//! hooks ask the features. The plan decides which, once (`full`). `write_back` and
//! `write_through` are cheap checks on both.
//!
//! Hot-path rules: no allocation per request (requests live in a reused slab), one
//! pending arrival at a time, expiry checked lazily on lookup. Why the code is shaped as
//! it is for speed, with the measurements, is in `docs/performance.md`.

pub mod budget;
pub mod database;
mod defence;
mod detours;
mod event;
mod faults;
mod http;
mod measure;
pub mod overload;
mod path;
mod queue;
mod read_ahead;
mod request;
mod resilience;
mod writes;

pub use measure::{AutoWarmup, CHECKPOINTS, Measured};

use std::sync::atomic::{AtomicBool, Ordering};

use crate::SimTime;
use crate::base::rng::{Stream, stream};
use crate::engine::database::Database;
use crate::layer::Layer;
use crate::scenario::Plan;
use crate::workload::Workload;
use defence::Defences;
use event::Event;
use faults::FaultState;
use http::Http;
use measure::Meter;
use overload::Overload;
use path::{Full, Plain, Walk};
use queue::EventQueue;
use read_ahead::{ARRIVAL_LANE, Clients, ReadAhead};
use request::Requests;
use resilience::Resilience;
use writes::Writes;

/// How far a run has got, for progress bars.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Requests generated so far.
    pub generated: u64,
    /// Requests the run will generate, if known in advance.
    pub total: Option<u64>,
}

/// How often, in generated requests, the progress callback runs and the stop flag is
/// read.
const PROGRESS_EVERY: u64 = 1 << 16;

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// Every request the plan asks for arrived and was followed to its end.
    Complete,
    /// The stop flag was set: no request arrived after it was seen, and the requests
    /// already in flight were followed to their end, so what was measured is whole.
    Stopped,
}

/// One run of a plan.
pub struct Engine<'p> {
    plan: &'p Plan,
    events: EventQueue<Event>,
    requests: Requests,
    workload: Workload,
    /// The clients of the next arrivals, drawn ahead.
    clients: Clients,
    layers: Vec<Layer>,
    db: Database,
    /// What is prefetched when, and the event lanes of the hops.
    ahead: ReadAhead,
    defences: Defences,
    faults: FaultState,
    writes: Writes,
    http: Http<'p>,
    /// Rate limits, the queue bound and shedding, if the plan sets any.
    overload: Option<Overload>,
    /// The application's timeouts, retries and breaker, if `[application]` sets any.
    resilience: Option<Resilience>,
    /// Keys `0..real_keys` exist; ids from `real_keys` up are missing keys.
    real_keys: u32,
    /// Whether any feature beyond a plain lookup and fill is on: the run walks `Full`.
    full: bool,
    generated: u64,
    /// Whether the last arrival has been generated.
    arrivals_done: bool,
    /// The time of the event being handled.
    clock: SimTime,
    meter: Meter,
    /// The next arrival index at which the loop reports progress, reads the stop flag
    /// or takes a warm-up checkpoint: one comparison per arrival for all three.
    next_tick: u64,
}

impl<'p> Engine<'p> {
    /// Prepares a run: builds the samplers and empty caches.
    pub fn new(plan: &'p Plan) -> Self {
        // Missing keys get the ids `keys..2 * keys` (see `workload::Op::missing`).
        let missing = plan.workload.missing_ratio > 0.0;
        let keys = if missing {
            plan.workload.keys * 2
        } else {
            plan.workload.keys
        };
        let http = Http::new(plan);
        let objects = http.mean_size();
        let layers: Vec<Layer> = plan
            .caches
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let rng = stream(plan.seed, Stream::Layer(i));
                Layer::new(c, keys, &plan.regions, rng, plan.seed, i, objects)
            })
            .collect();
        let n = layers.len();
        let db = Database::new(
            &plan.database,
            keys,
            plan.horizon.requests,
            stream(plan.seed, Stream::Database),
        );
        let ahead = ReadAhead::new(&layers, &db, plan.regions.len());
        let defences = Defences::new(plan);
        let faults = FaultState::new(n + 1, &plan.faults);
        let writes = Writes::new(&plan.writes, n);
        let overload = Overload::new(plan);
        let full = defences.any()
            || !plan.faults.is_empty()
            || writes.versioned
            || missing
            || http.active
            || overload.is_some();
        Engine {
            plan,
            events: EventQueue::new(ahead.lanes()),
            requests: Requests::new(),
            workload: Workload::new(&plan.workload, stream(plan.seed, Stream::Workload)),
            clients: Clients::new(
                plan.needs_clients()
                    .then(|| stream(plan.seed, Stream::Clients)),
                plan.clients(),
            ),
            layers,
            db,
            ahead,
            defences,
            faults,
            writes,
            http,
            overload,
            resilience: Resilience::new(plan),
            real_keys: plan.workload.keys,
            full,
            generated: 0,
            arrivals_done: false,
            clock: SimTime::ZERO,
            meter: Meter::new(
                n,
                plan.bucket,
                plan.warmup_auto.then_some(plan.horizon.requests),
            ),
            next_tick: 0,
        }
    }

    /// Bytes the cache layers' stores take (entries and per-node indexes, not the
    /// policies' state): for memory reports.
    pub fn store_bytes(&self) -> usize {
        self.layers.iter().map(|l| l.store.bytes()).sum()
    }

    /// Bytes the database's per-key state takes, as allocated now: for memory reports
    /// (see [`budget`]).
    pub fn database_bytes(&self) -> u64 {
        self.db.key_bytes()
    }

    /// Runs to the end and returns what it measured.
    ///
    /// ```
    /// use tiersim::engine::Engine;
    /// use tiersim::scenario::Source;
    /// let (_, mut plan) = Source::quickstart().plan(&[]).unwrap();
    /// plan.requests = Some(20_000);
    /// plan.warmup_requests = 0;
    /// let measured = Engine::new(&plan).run(|_| {});
    /// assert_eq!(measured.reads + measured.writes, 20_000);
    /// ```
    pub fn run(self, progress: impl FnMut(Progress)) -> Measured {
        self.run_until(&AtomicBool::new(false), progress).0
    }

    /// [`Engine::run`], stopping early once `stop` is set (Ctrl-C): it is read where the
    /// progress callback runs, every few ten thousand arrivals, so it costs the event
    /// loop nothing. A stopped run lets no further request arrive and finishes the
    /// requests in flight, so its counts add up as a whole run's do.
    ///
    /// ```
    /// use std::sync::atomic::AtomicBool;
    /// use tiersim::engine::{Engine, Ending};
    /// use tiersim::scenario::Source;
    /// let (_, mut plan) = Source::quickstart().plan(&[]).unwrap();
    /// plan.requests = Some(20_000);
    /// let (measured, ending) = Engine::new(&plan).run_until(&AtomicBool::new(true), |_| {});
    /// assert_eq!(ending, Ending::Stopped);
    /// assert_eq!(measured.reads + measured.writes, 0);
    /// ```
    pub fn run_until(
        mut self,
        stop: &AtomicBool,
        mut progress: impl FnMut(Progress),
    ) -> (Measured, Ending) {
        for (i, c) in self.plan.caches.iter().enumerate() {
            if let Some(s) = c.sync_expiry {
                if s.at == SimTime::ZERO {
                    self.sync_fill(i);
                } else {
                    self.events.push(s.at, Event::SyncFill { layer: i as u32 });
                }
            }
        }
        for (f, fault) in self.plan.faults.iter().enumerate() {
            let fault_id = f as u32;
            self.events
                .push(fault.start, Event::FaultBegin { fault: fault_id });
            self.events
                .push(fault.end, Event::FaultEnd { fault: fault_id });
        }
        if let Some(every) = self.writes.flush_interval() {
            self.events.push(every, Event::Flush);
        }
        let first = self.workload.first_arrival();
        if self.plan.duration.is_none_or(|d| first <= d) {
            self.events.push_lane(ARRIVAL_LANE, first, Event::Arrival);
        } else {
            self.arrivals_done = true;
        }
        // The one choice of the walk's instantiation.
        let ending = if self.full {
            self.event_loop::<Full>(&mut progress, stop)
        } else {
            self.event_loop::<Plain>(&mut progress, stop)
        };
        progress(Progress {
            generated: self.generated,
            total: Some(self.generated),
        });
        let end = self.clock;
        self.meter.account_origin(&self.db, end);
        if self.writes.versioned {
            self.meter.m.orphans_resident = self.layers.iter().map(Layer::orphans).collect();
        }
        (self.meter.finish(end), ending)
    }

    /// Handles events in time order until none is left; says whether `stop` cut the
    /// arrivals short.
    fn event_loop<W: Walk>(
        &mut self,
        progress: &mut impl FnMut(Progress),
        stop: &AtomicBool,
    ) -> Ending {
        while let Some((now, event)) = self.events.pop() {
            if let Event::Arrival = event {
                // Before the arrival and the clock's move, so a stop drops it whole.
                if self.generated == self.next_tick && self.tick(now, progress, stop) {
                    self.drain::<W>();
                    return Ending::Stopped;
                }
                self.advance(now);
                self.arrival::<W>(now);
            } else {
                self.advance(now);
                self.handle::<W>(event, now);
            }
        }
        Ending::Complete
    }

    /// Progress, the stop flag and warm-up checkpoints, due before arrival
    /// `self.generated` at `now`; says whether to stop.
    #[cold]
    fn tick(
        &mut self,
        now: SimTime,
        progress: &mut impl FnMut(Progress),
        stop: &AtomicBool,
    ) -> bool {
        let n = self.generated;
        if n.is_multiple_of(PROGRESS_EVERY) {
            progress(Progress {
                generated: n,
                total: self.plan.requests,
            });
            if stop.load(Ordering::Relaxed) {
                return true;
            }
        }
        if self.meter.next_checkpoint() == Some(n) {
            self.meter.checkpoint(&self.db, now, n);
        }
        let progress_due = (n / PROGRESS_EVERY + 1) * PROGRESS_EVERY;
        self.next_tick = self
            .meter
            .next_checkpoint()
            .map_or(progress_due, |c| c.min(progress_due));
        false
    }

    /// After a stop: the requests in flight (and write-back's pending writes) finish;
    /// what was scheduled for later (a fault's window, a sync fill) no longer comes once
    /// nothing is left for it to touch, so the run ends with its last request.
    #[cold]
    fn drain<W: Walk>(&mut self) {
        // As after the last arrival: the timed flushes wind down too.
        self.arrivals_done = true;
        while let Some((now, event)) = self.events.pop() {
            // Not tied to a request: only worth running while something is left to touch.
            let scheduled = matches!(
                event,
                Event::Flush
                    | Event::SyncFill { .. }
                    | Event::FaultBegin { .. }
                    | Event::FaultEnd { .. }
            );
            let idle = self.requests.in_flight() == 0 && !self.writes.has_dirty();
            // The arrival already scheduled at the stop never comes.
            if matches!(event, Event::Arrival) || (scheduled && idle) {
                continue;
            }
            self.advance(now);
            self.handle::<W>(event, now);
        }
    }

    /// Handles `event`, due `now`, other than an arrival.
    #[inline(always)]
    fn handle<W: Walk>(&mut self, event: Event, now: SimTime) {
        match event {
            Event::Arrival => unreachable!("the loops handle arrivals"),
            Event::Lookup { req, layer } => {
                self.ahead.lane_ahead(
                    &self.events,
                    &self.requests,
                    &self.layers,
                    req,
                    layer as usize,
                );
                self.lookup(req, layer as usize, now);
            }
            Event::Origin { req } => self.origin::<W>(req, now),
            Event::Served { req } => self.served::<W>(req, now),
            Event::Poll { req, layer } => self.poll(req, layer as usize, now),
            Event::SyncFill { layer } => self.sync_fill(layer as usize),
            Event::Propagate { key, layer } => self.propagate(key, layer as usize, now),
            Event::FaultBegin { fault } => self.fault_begin(fault as usize),
            Event::FaultEnd { fault } => {
                self.faults.end(&self.plan.faults[fault as usize]);
            }
            Event::Flush => self.timed_flush::<W>(now),
            Event::Timeout { req, call } => self.timeout(req, call, now),
            Event::Retry { req } => self.origin::<W>(req, now),
        }
    }
}
