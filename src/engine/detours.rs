//! The detours of the walk that the features decide, and what the engine does about
//! them: a defended layer's stale answers, waits, polls and background refreshes;
//! failures; `write_back`'s accepted writes and flushes; a committed write reaching
//! each layer; a fault's crash; `sync_expiry`'s batch fill.
//!
//! The decisions are the features' (`defence`, `faults`, `writes`, `http`); here they
//! become events, fills, answers and counts. All of it is off the plain walk: these run
//! only in runs that have the feature, and the rare ones are `#[cold]`.

use crate::SimTime;
use crate::engine::Engine;
use crate::engine::defence::{Before, OnMiss};
use crate::engine::event::Event;
use crate::engine::faults::Status;
use crate::engine::overload::Cause;
use crate::engine::path::{Full, Walk};
use crate::engine::request::{Passing, Request, Visit};
use crate::engine::resilience::Call;
use crate::engine::writes::Writes;
use crate::workload::write::OnCommit;

/// A call from the application to the database that the breaker let through.
pub(super) struct AppCall {
    /// It follows a failed call of the same request.
    pub retry: bool,
    /// Its deadline and call id, with `application.timeout_ms`.
    pub deadline: Option<(SimTime, u32)>,
}

impl Engine<'_> {
    /// Layer `i`'s defence, before the visit's request looks its key up (`latency`
    /// being the round trip): `Some(inward)` if it answered from an expired copy or
    /// sends the request inward without a lookup, `None` if the lookup goes ahead.
    #[inline(never)]
    pub(super) fn defended_before(&mut self, visit: Visit, latency: SimTime) -> Option<bool> {
        let Visit {
            req,
            key,
            measured,
            i,
            now,
        } = visit;
        match self.defences.before_lookup(i, &self.layers[i], key, now) {
            Before::Lookup => None,
            Before::ServeStale { version } => {
                if measured {
                    self.meter.m.layers[i].stale_served += 1;
                    self.meter.count_stale(&self.db, i, key, version, now);
                }
                self.refresh(i, key, now);
                self.complete::<Full>(req, now + latency, i);
                Some(false)
            }
            Before::KeepExpired => {
                if measured {
                    let stats = &mut self.meter.m.layers[i];
                    stats.misses += 1;
                    stats.expirations += 1;
                }
                Some(true)
            }
        }
    }

    /// Layer `i`'s defence served a copy of `key` expiring at `expires`: it may refresh
    /// it in the background.
    #[inline(never)]
    pub(super) fn defended_hit(&mut self, i: usize, key: u32, expires: SimTime, now: SimTime) {
        if self.defences.refreshes_on_hit(i, key, expires, now) {
            self.refresh(i, key, now);
        }
    }

    /// The visit's request missed its key at defended layer `i` (`expired`: its copy
    /// had expired; `polling`: a `lock` waiter looking again): it waits, polls later,
    /// or goes inward. Returns whether it goes inward.
    #[inline(never)]
    pub(super) fn defended_miss(&mut self, visit: Visit, expired: bool, polling: bool) -> bool {
        let (req, key, measured, i, now) =
            (visit.req, visit.key, visit.measured, visit.i, visit.now);
        let since = if polling {
            self.requests[req].at_origin
        } else {
            now
        };
        match self.defences.on_miss(i, key, req, now, since) {
            OnMiss::Wait => {
                self.requests[req].at_origin = now;
                false
            }
            OnMiss::Poll { at } => {
                self.requests[req].at_origin = since;
                let layer = i as u32;
                self.events.push(at, Event::Poll { req, layer });
                false
            }
            OnMiss::Inward { timed_out } => {
                if measured {
                    let stats = &mut self.meter.m.layers[i];
                    stats.misses += 1;
                    stats.expirations += u64::from(expired);
                    stats.lock_timeouts += u64::from(timed_out);
                }
                true
            }
        }
    }

    /// Layer `i` refreshes `key` in the background, if its defence starts a refresh
    /// now: a request that starts at layer `i + 1` now and fills layers `i..`.
    fn refresh(&mut self, i: usize, key: u32, now: SimTime) {
        let Some(refresh) = self.defences.refresh(i, key) else {
            return;
        };
        let measured = self.meter.measuring();
        if measured {
            let stats = &mut self.meter.m.layers[i];
            stats.refreshes += 1;
            stats.refresh_cycles += u64::from(refresh.new_cycle);
        }
        let class = self.http.class_of(key);
        let bg = self.requests.alloc(Request {
            arrived: now,
            key,
            measured,
            background: true,
            from: i as u16,
            size: self.http.size_of(key),
            class,
            born: now,
            ..Request::default()
        });
        self.defences.start(i, key, bg, now);
        self.hop(bg, i + 1, now);
    }

    /// Request `req` consults layer `next` (the origin if past the last) at `at`, no
    /// earlier than now: through the event queue, so that whatever is being handled
    /// finishes first.
    fn hop(&mut self, req: u32, next: usize, at: SimTime) {
        let event = if next == self.layers.len() {
            Event::Origin { req }
        } else {
            Event::Lookup {
                req,
                layer: next as u32,
            }
        };
        self.events.push(at, event);
    }

    /// A `lock` waiter at layer `i` looks again.
    #[inline(never)]
    pub(super) fn poll(&mut self, req: u32, i: usize, now: SimTime) {
        // The layer may have gone down while the request waited there.
        match self.faults.whole(i) {
            Status::Up => {}
            Status::Skip => return self.hop(req, i + 1, now),
            Status::Fail => return self.fail(req, i, Cause::Fault, now),
        }
        let Request {
            key,
            measured,
            from,
            region,
            ..
        } = self.requests[req];
        let mut latency = self.layers[i].sample_latency(region);
        // Defended layers are single-node: node 0.
        if self.consult::<Full, true>(req, key, measured, from, i, 0, now, &mut latency) {
            self.hop(req, i + 1, now + latency);
        }
    }

    /// A response passed its layers at `now` (see [`Passing`]): each defended one's
    /// flight for the key that the request leads ends, and its
    /// waiters are answered (their response passes the layers outside, too).
    #[inline(never)]
    pub(super) fn passed(&mut self, passing: Passing, now: SimTime) {
        let (req, key, version) = (passing.req, passing.key, passing.version);
        for j in passing.from..passing.upto {
            let Some(waiters) = self.defences.pass(j, key, req, now) else {
                continue;
            };
            let born = self.requests[req].born;
            for &w in &waiters {
                self.requests[w].born = born;
                let r = self.requests[w];
                if r.measured {
                    let stats = &mut self.meter.m.layers[j];
                    stats.coalesced += 1;
                    stats.coalesced_wait_ns += (now - r.at_origin).as_nanos();
                }
                self.fill::<Full>(Passing::new(w, key, version, r.from, j), now);
                self.complete::<Full>(w, now, j);
            }
            self.defences.recycle(j, waiters);
        }
    }

    /// Request `req` failed at path position `at` for `cause` (a layer or the database
    /// down without fallback, refused by an overload control, or a call to the database
    /// that timed out or met the open breaker). A refusal is counted once, for this
    /// request (the layer's or the database's counter by cause, the run's rejections,
    /// the time series); then a call to the database may be retried (`resilience`
    /// decides), or the request fails ([`Self::fail_now`]).
    #[cold]
    pub(super) fn fail(&mut self, req: u32, at: usize, cause: Cause, now: SimTime) {
        let r = self.requests[req];
        if !matches!(cause, Cause::Fault | Cause::Timeout) && r.measured {
            if let Some(stats) = self.meter.m.layers.get_mut(at) {
                stats.rate_limited += 1;
            } else {
                let o = &mut self.meter.m.origin;
                match cause {
                    Cause::RateLimited => o.rate_limited += 1,
                    Cause::QueueFull => o.queue_full += 1,
                    Cause::Shed => o.shed += 1,
                    _ => {}
                }
            }
            if !r.background {
                cause.count_in(&mut self.meter.m.rejections);
                self.meter.m.timeseries.rejected(now);
            }
        }
        if at == self.layers.len()
            && let Some(res) = &mut self.resilience
        {
            let after = res.failed(req, cause, now);
            if let Some(open) = after.opened
                && self.meter.measuring()
            {
                let o = &mut self.meter.m.calls;
                o.breaker_opened += 1;
                o.breaker_open_ns += open.as_nanos();
            }
            if let Some(t) = after.retry_at {
                self.events.push(t, Event::Retry { req });
                return;
            }
        }
        self.fail_now(req, at, now);
    }

    /// Request `req` fails at path position `at`, with no retry. The flights it led end
    /// and their waiters fail with it; then the innermost `stale_if_error` layer outside
    /// `at` with a copy expired less than its window ago answers it, or it counts as
    /// failed (a read's latency, to its failure, goes to `latency_all_ms`).
    fn fail_now(&mut self, req: u32, at: usize, now: SimTime) {
        let r = self.requests[req];
        let from = r.from as usize;
        let mut waiters = Vec::new();
        self.defences.abort(from, at, r.key, req, &mut waiters);
        let counted = r.measured && !r.background;
        let stale = (!r.write)
            .then(|| {
                self.defences
                    .stale_if_error(&self.layers, &self.faults, from, at, r.key, now)
            })
            .flatten();
        if let Some((j, version)) = stale {
            if counted {
                self.meter.m.layers[j].stale_on_error += 1;
                self.meter.count_stale(&self.db, j, r.key, version, now);
            }
            self.complete::<Full>(req, now, j);
        } else {
            if counted {
                self.meter.m.failed += 1;
                self.meter.m.timeseries.failed(now);
                if !r.write {
                    self.meter.m.failed_latency.record(now - r.arrived);
                }
                if let Some(stats) = self.meter.m.layers.get_mut(at) {
                    stats.failed += 1;
                }
            }
            self.requests.free(req);
        }
        for w in waiters {
            self.fail_now(w, at, now);
        }
    }

    /// CoDel (`shed`) looks at the queries at the head of the database's queue as a
    /// connection frees at `now`: each it drops fails with cause `shed`; a flush at the
    /// head is served.
    #[cold]
    pub(super) fn shed_heads(&mut self, now: SimTime) {
        while let Some(head) = self.db.head() {
            let r = self.requests[head];
            if r.write && r.background {
                // `write_back`'s flush: nothing would retry it (see `origin`).
                return;
            }
            let last = self.db.queue_len() == 1;
            let codel = self.overload.as_mut().and_then(|o| o.codel.as_mut());
            let Some(codel) = codel else { return };
            if !codel.drop_head(now - r.at_origin, now, last) {
                return;
            }
            self.db.remove_head();
            if !r.write {
                self.db.read_served(r.key);
            }
            if self
                .resilience
                .as_mut()
                .is_some_and(|res| res.drop_ghost(head))
            {
                // A query whose caller timed out: dropped unserved, no client to fail.
                if r.measured {
                    self.meter.m.origin.shed += 1;
                }
                self.requests.free(head);
                continue;
            }
            self.fail(head, self.layers.len(), Cause::Shed, now);
        }
    }

    /// `write_back`: the write-back layer accepts write `req` now (unless it is down: a
    /// skip sends the write to the database, a failure fails it).
    #[cold]
    pub(super) fn accept_write<W: Walk>(&mut self, req: u32, now: SimTime) {
        let layer = self.writes.write_back().expect("write_back");
        match self.faults.whole(layer) {
            Status::Up => {}
            Status::Skip => return self.origin::<W>(req, now),
            Status::Fail => return self.fail(req, layer, Cause::Fault, now),
        }
        let key = self.requests[req].key;
        let durable = self.db.version(key);
        let version = self.db.commit_write(key);
        self.meter.committed(key, version, now);
        let full = self.writes.accept(key, durable);
        self.committed(key, now);
        self.requests.free(req);
        if full {
            self.flush::<W>(now);
        }
    }

    /// `write_back`: the timed flush, and the next one while writes may still come.
    pub(super) fn timed_flush<W: Walk>(&mut self, now: SimTime) {
        self.flush::<W>(now);
        if !self.arrivals_done || self.writes.has_dirty() {
            let every = self.writes.flush_interval().expect("write_back");
            self.events.push(now + every, Event::Flush);
        }
    }

    /// `write_back`: every dirty key goes to the database as one write query carrying its
    /// current version. With the database down, the writes stay pending.
    #[cold]
    fn flush<W: Walk>(&mut self, now: SimTime) {
        if !self.faults.is_up(self.layers.len()) {
            return;
        }
        let measured = self.meter.measuring();
        let Some(flush) = self.writes.flush() else {
            return;
        };
        if measured {
            self.meter.m.flushes += 1;
            self.meter.m.flushed_writes += flush.writes;
        }
        for &key in &flush.keys {
            let req = self.requests.alloc(Request {
                arrived: now,
                at_origin: SimTime::ZERO,
                key,
                version: self.db.version(key),
                measured,
                write: true,
                background: true,
                ..Request::default()
            });
            self.origin::<W>(req, now);
        }
        self.writes.flushing_done(flush.keys);
    }

    /// A write to `key` committed at `now`: each cache layer's copy is deleted, stored
    /// or left alone, now or after the layer's propagation delay.
    pub(super) fn committed(&mut self, key: u32, now: SimTime) {
        if self.writes.on_commit == OnCommit::Nothing {
            return;
        }
        for i in 0..self.layers.len() {
            let delay = self.plan.caches[i].propagation_delay;
            if delay == SimTime::ZERO {
                self.propagate(key, i, now);
            } else {
                let layer = i as u32;
                self.events
                    .push(now + delay, Event::Propagate { key, layer });
            }
        }
    }

    /// A committed write to `key` reaches layer `i` at `now`.
    pub(super) fn propagate(&mut self, key: u32, i: usize, now: SimTime) {
        let applied = self
            .writes
            .apply(&mut self.layers[i], key, now, self.real_keys);
        if self.meter.measuring() {
            let stats = &mut self.meter.m.layers[i];
            stats.orphaned += u64::from(applied.orphaned);
            stats.purged += applied.purged;
        }
        if self.writes.stores && self.faults.is_up(i) {
            let version = self.db.version(key);
            let size = self.http.size_of(key);
            if self.http.stores(i, key) {
                let down = self.faults.down_nodes(i);
                Writes::store(&mut self.layers[i], key, version, size, now, down);
            }
        }
    }

    /// Fault `f` begins: its layer (or node) goes down. If it was up, it crashes: a cache
    /// layer (node) loses its contents and, if it is the write-back layer, its unflushed
    /// writes.
    pub(super) fn fault_begin(&mut self, f: usize) {
        let fault = self.plan.faults[f];
        let Some(crash) = self.faults.open(&fault, self.layers.len()) else {
            return;
        };
        match crash.node {
            Some(node) => self.layers[crash.layer].clear_node(node),
            None => self.layers[crash.layer].clear(),
        }
        if let Some(lost) = self.writes.crashed(crash.layer)
            && self.meter.measuring()
        {
            self.meter.m.lost_writes += lost;
        }
    }

    /// Layer `i`'s `sync_expiry` batch: keys `0..keys` filled now, all at once.
    pub(super) fn sync_fill(&mut self, i: usize) {
        let Some(sync) = self.plan.caches[i].sync_expiry else {
            return;
        };
        let now = self.clock;
        for key in 0..sync.keys {
            let version = self.db.version(key);
            let size = self.http.size_of(key);
            self.layers[i].fill_homes(key, version, size, now);
        }
    }

    /// Request `req` calls the database at `now` (`[application]` set): the breaker
    /// may refuse the call, which then fails (`None`); a call that goes says whether it
    /// is a retry, and may have a deadline, `(at, call id)`, which the walk schedules if
    /// the query may overrun it.
    #[inline(never)]
    pub(super) fn app_call(&mut self, req: u32, now: SimTime) -> Option<AppCall> {
        let res = self.resilience.as_mut()?;
        let call = res.call(req, now);
        let measured = self.requests[req].measured;
        let (retry, made) = match call {
            Call::Made { retry, deadline } => (retry, Some(deadline)),
            Call::Refused { retry } => (retry, None),
        };
        if measured {
            let o = &mut self.meter.m.calls;
            if retry {
                o.retries += 1;
                self.meter.m.timeseries.retry(now);
            } else {
                o.first_attempts += 1;
            }
        }
        let Some(deadline) = made else {
            self.fail(req, self.layers.len(), Cause::BreakerOpen, now);
            return None;
        };
        Some(AppCall { retry, deadline })
    }

    /// The deadline of call `call` of request `req` (`application.timeout_ms`): if the
    /// call is still waiting for the database, the application gives up on it. Its
    /// query stays in the database under the old slot (its answer will go to nobody);
    /// the request goes on in a new slot, and the failure may be retried.
    #[cold]
    pub(super) fn timeout(&mut self, req: u32, call: u32, now: SimTime) {
        let Some(res) = &mut self.resilience else {
            return;
        };
        if !res.overran(req, call) {
            return;
        }
        let r = self.requests[req];
        let moved = self.requests.alloc(r);
        res.abandon(req, moved);
        let db = self.layers.len();
        // The flights it led wait for the request, not for the abandoned query.
        self.defences.relead(r.from as usize, db, r.key, req, moved);
        if r.measured {
            self.meter.m.calls.timeouts += 1;
            self.meter.m.timeseries.timeout(now);
        }
        self.fail(moved, db, Cause::Timeout, now);
    }

    /// Request `req`'s query was answered at `now` (`[application]` set): whether its
    /// caller had given up (the answer goes to nobody; its service time was wasted).
    #[inline(never)]
    pub(super) fn answered(&mut self, req: u32, now: SimTime) -> bool {
        let Some(res) = &mut self.resilience else {
            return false;
        };
        match res.answered(req, now) {
            Some(service) => {
                if self.requests[req].measured {
                    self.meter.m.calls.wasted_ns += service.as_nanos();
                }
                true
            }
            None => false,
        }
    }
}
