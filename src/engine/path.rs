//! A request's walk: its arrival, its lookups from the outermost layer in, the origin,
//! and on the way back the fills and its answer.
//!
//! There is one lookup ([`Engine::consult`]) and one fill ([`Engine::fill_layers`]).
//! Each has hooks where a feature may decide otherwise (a down layer, a defence, an
//! outdated version, a missing key, an HTTP rule); the hooks sit behind `W::FULL`, so
//! the [`Plain`] instantiation compiles them out and a plain run pays nothing for them,
//! and the [`Full`] one asks the features (`defence`, `faults`, `writes`, `http`) and
//! acts on their answers. The features' own detours (waiting, polling, refreshing,
//! failing) are in `detours`.

use crate::SimTime;
use crate::engine::Engine;
use crate::engine::event::Event;
use crate::engine::faults::Status;
use crate::engine::http::{self, Freshness, OnHit};
use crate::engine::overload::Cause;
use crate::engine::request::{NO_VALIDATOR, Passing, Request, Visit};
use crate::engine::writes::Writes;
use crate::store::cache::{Lookup, Meta};

/// Which instantiation of the walk a run takes.
pub(super) trait Walk {
    /// Whether the feature hooks are compiled in.
    const FULL: bool;
}

/// The walk of a run with no feature beyond a plain lookup and fill: no hooks.
pub(super) struct Plain;

impl Walk for Plain {
    const FULL: bool = false;
}

/// The walk of a run with a defence, a fault, versioned keys, missing keys, content
/// classes or an overload control: every hook asks its feature.
pub(super) struct Full;

impl Walk for Full {
    const FULL: bool = true;
}

impl Engine<'_> {
    /// Simulated time moves on to `now`, the time of the next event.
    #[inline]
    pub(super) fn advance(&mut self, now: SimTime) {
        self.clock = now;
        self.meter.m.timeseries.close_before(now);
    }

    /// The next request arrives at `now`, and goes its way.
    pub(super) fn arrival<W: Walk>(&mut self, now: SimTime) {
        let (req, write) = self.arrive(now);
        if !write {
            self.lookup(req, 0, now);
        } else if self.writes.write_back().is_some() {
            self.accept_write::<W>(req, now);
        } else {
            self.origin::<W>(req, now);
        }
    }

    /// The next request arrives at `now`: it is drawn and counted, and the one after it
    /// scheduled. Returns the request and whether it is a write. The same for every
    /// walk, so one copy serves both.
    fn arrive(&mut self, now: SimTime) -> (u32, bool) {
        let index = self.generated;
        self.generated += 1;
        let measured = index >= self.plan.warmup_requests;
        self.meter.arrival(now, measured);
        // Draw the gap before the key so the arrival times do not depend on the mix.
        let gap = self.workload.next_gap();
        let op = self.workload.next_op(now);
        if let Some(keys) = self.workload.upcoming_keys() {
            self.clients.draw();
            self.ahead.batch(
                keys,
                &self.clients,
                &self.plan.regions,
                &self.layers,
                &self.db,
                &self.http,
            );
        }
        let more = self.plan.requests.is_none_or(|n| self.generated < n);
        let next = now + gap;
        if more && self.plan.duration.is_none_or(|d| next <= d) {
            self.events
                .push_lane(super::ARRIVAL_LANE, next, Event::Arrival);
        } else {
            self.arrivals_done = true;
        }
        let (client, region) = self.clients.next(&self.plan.regions);
        let key = if op.missing {
            op.key + self.real_keys
        } else {
            op.key
        };
        let (size, class) = (self.http.size_of(op.key), self.http.class_of(op.key));
        let req = self.requests.alloc(Request {
            arrived: now,
            at_origin: SimTime::ZERO,
            key,
            version: 0,
            measured,
            write: op.write,
            background: false,
            from: 0,
            region,
            client,
            nodes: [0; crate::scenario::MAX_CACHE_LAYERS],
            size,
            class,
            reload: op.reload,
            cond_from: NO_VALIDATOR,
            validator: 0,
            not_modified: false,
            born: now,
        });
        if measured {
            self.meter.m.timeseries.arrival(now);
            if op.write {
                self.meter.m.writes += 1;
                self.meter.m.timeseries.write(now);
            } else {
                self.meter.m.reads += 1;
            }
        }
        (req, op.write)
    }

    /// Request `req` consults layer `i` at `now`, and goes on inward through every layer
    /// that answers in zero time without scheduling an event.
    ///
    /// One copy for both walks, which differ only in the consultation: the layers'
    /// routing and latency code is inlined once here.
    pub(super) fn lookup(&mut self, req: u32, mut i: usize, mut now: SimTime) {
        let Request {
            key,
            measured,
            from,
            client,
            region,
            ..
        } = self.requests[req];
        loop {
            if i == self.layers.len() {
                if self.full {
                    self.origin::<Full>(req, now);
                } else {
                    self.origin::<Plain>(req, now);
                }
                return;
            }
            self.ahead.passing(&self.layers, i, key, client, region);
            let node = self.layers[i].pick(key, client, region);
            if !self.layers[i].is_single() {
                self.requests[req].nodes[i] = node as u16;
            }
            let mut latency = self.layers[i].sample_latency(region);
            let inward = if self.full {
                self.consult_full(req, i, node, now, &mut latency)
            } else {
                self.consult::<Plain, false>(req, key, measured, from, i, node, now, &mut latency)
            };
            if !inward {
                return;
            }
            i += 1;
            if latency != SimTime::ZERO {
                now = now + latency;
                if self.events.take_if_next(now) {
                    // Nothing else happens before the next hop: take it now.
                    self.advance(now);
                    continue;
                }
                let event = if i == self.layers.len() {
                    self.db.prefetch(key);
                    Event::Origin { req }
                } else {
                    self.ahead
                        .hop_scheduled(&self.layers, i, key, client, region);
                    Event::Lookup {
                        req,
                        layer: i as u32,
                    }
                };
                if let Some(lane) = self.ahead.hop_lane(i - 1, region) {
                    self.events.push_lane(lane, now, event);
                } else {
                    self.events.push(now, event);
                }
                return;
            }
        }
    }

    /// [`Self::consult`] with every hook, out of line so that the plain walk's loop
    /// stays small.
    #[inline(never)]
    fn consult_full(
        &mut self,
        req: u32,
        i: usize,
        node: u32,
        now: SimTime,
        latency: &mut SimTime,
    ) -> bool {
        let Request {
            key,
            measured,
            from,
            ..
        } = self.requests[req];
        self.consult::<Full, false>(req, key, measured, from, i, node, now, latency)
    }

    /// Request `req` (for `key`, `measured`, filling from layer `from`) looks `key` up
    /// at node `node` of layer `i` at `now`, `latency` being the round trip; `POLLING`:
    /// a `lock` waiter looking again (at a defended layer, so without HTTP rules).
    /// Returns whether it goes on inward (a skipped layer sets `latency` to zero);
    /// otherwise it was answered, or waits.
    ///
    /// Outcomes at the layer: `requests = hits + misses + coalesced + stale_served`
    /// (a `lock` waiter counts once, when its wait ends).
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    pub(super) fn consult<W: Walk, const POLLING: bool>(
        &mut self,
        req: u32,
        key: u32,
        measured: bool,
        from: u16,
        i: usize,
        node: u32,
        now: SimTime,
        latency: &mut SimTime,
    ) -> bool {
        // Hook: a layer down (a poll has checked it already).
        if W::FULL && !POLLING {
            match self.faults.at(i, node) {
                Status::Up => {}
                Status::Skip => {
                    if measured && !self.requests[req].background {
                        self.meter.m.layers[i].skipped += 1;
                    }
                    *latency = SimTime::ZERO;
                    return true;
                }
                Status::Fail => {
                    self.fail(req, i, Cause::Fault, now);
                    return false;
                }
            }
        }
        // Hook: the layer's rate limit refuses the request (a 429), before any lookup.
        if W::FULL
            && !POLLING
            && let Some(o) = &mut self.overload
            && o.layer_refuses(i, now)
        {
            self.fail(req, i, Cause::RateLimited, now);
            return false;
        }
        let defended = W::FULL && self.defences.is_active(i);
        // A defended layer's lookup follows its defence alone, not HTTP revalidation.
        let http = W::FULL && !POLLING && self.http.active && !defended;
        let ask = http.then(|| http::Ask::of(&self.requests[req]));
        if measured && !POLLING {
            let stats = &mut self.meter.m.layers[i];
            stats.requests += 1;
            if let Some(ask) = &ask {
                stats.request_bytes += u64::from(ask.size);
            }
        }
        // Hook: a defence that answers, or goes inward, without a lookup.
        if defended
            && let Some(inward) = self.defended_before(
                Visit {
                    req,
                    key,
                    measured,
                    i,
                    now,
                },
                *latency,
            )
        {
            return inward;
        }
        let lookup = self.get::<W>(i, node, key, now);
        let (version, expires) = match lookup {
            Lookup::Hit {
                version, expires, ..
            } => (version, expires),
            Lookup::Miss | Lookup::Expired => {
                let expired = lookup == Lookup::Expired;
                // Hook: a defence may make the request wait, or lead a flight inward.
                if defended {
                    return self.defended_miss(
                        Visit {
                            req,
                            key,
                            measured,
                            i,
                            now,
                        },
                        expired,
                        POLLING,
                    );
                }
                if measured {
                    let stats = &mut self.meter.m.layers[i];
                    stats.misses += 1;
                    stats.expirations += u64::from(expired);
                }
                return true;
            }
        };
        // Hook: HTTP rules, under which a copy may have to be validated inward first.
        let mut answer = None;
        if let Some(ask) = &ask {
            let layer = &self.layers[i];
            match self
                .http
                .on_hit(i, ask, version, || layer.store.meta(node, key), now)
            {
                OnHit::Revalidate => {
                    if measured {
                        let stats = &mut self.meter.m.layers[i];
                        stats.misses += 1;
                        stats.revalidations += 1;
                    }
                    http::validate_from(&mut self.requests[req], i, version);
                    return true;
                }
                OnHit::Answer(a) => answer = Some((a, ask.size)),
            }
        }
        if measured {
            let stats = &mut self.meter.m.layers[i];
            if POLLING {
                let waiting_since = self.requests[req].at_origin;
                stats.coalesced += 1;
                stats.coalesced_wait_ns += (now - waiting_since).as_nanos();
            } else {
                stats.hits += 1;
                if W::FULL {
                    stats.negative_hits += u64::from(key >= self.real_keys);
                }
            }
            if let Some((a, size)) = answer {
                stats.hit_bytes += u64::from(size);
                stats.not_modified += u64::from(a.not_modified);
                stats.leaks += u64::from(a.leak);
            }
            self.meter.count_stale(&self.db, i, key, version, now);
        }
        // Hook: a defence may refresh the copy it served.
        if defended {
            self.defended_hit(i, key, expires, now);
        }
        if let Some((a, _)) = answer {
            let q = &mut self.requests[req];
            q.not_modified = a.not_modified;
            q.born = a.born;
        }
        self.fill::<W>(Passing::new(req, key, version, from, i), now);
        self.complete::<W>(req, now + *latency, i);
        false
    }

    /// Looks `key` up at node `node` of layer `i`, counting the entries a hit evicts
    /// (see [`Lookup::Hit`]) with the layer's other evictions. Hook: under
    /// `versioned_keys`, a hit on a copy of an outdated version is not one (readers ask
    /// for the current version's key); the copy is orphaned and the lookup is a miss.
    ///
    /// Callers match the result at once rather than keep it: a `Lookup` held in memory
    /// is read back whole, and waits for its narrow stores (`docs/performance.md`).
    #[inline(always)]
    fn get<W: Walk>(&mut self, i: usize, node: u32, key: u32, now: SimTime) -> Lookup {
        let lookup = self.layers[i].store.get(node, key, now);
        if let Lookup::Hit { evicted, .. } = lookup {
            self.meter.m.layers[i].evictions += u64::from(evicted);
        }
        match lookup {
            Lookup::Hit { version, .. }
                if W::FULL && self.writes.versioned && version != self.db.version(key) =>
            {
                self.layers[i].orphan_at(node, key);
                if self.meter.measuring() {
                    self.meter.m.layers[i].orphaned += 1;
                }
                Lookup::Miss
            }
            lookup => lookup,
        }
    }

    /// Request `req` reaches the database at `now`: it queues, or its query starts.
    pub(super) fn origin<W: Walk>(&mut self, req: u32, now: SimTime) {
        let db_position = self.layers.len();
        // The application's breaker may refuse the call; a call may have a deadline.
        let mut call = None;
        if self.resilience.is_some() {
            match self.app_call(req, now) {
                None => return,
                made => call = made,
            }
        }
        if W::FULL && !self.faults.is_up(db_position) {
            return self.fail(req, db_position, Cause::Fault, now);
        }
        // Hook: the database's rate limit and queue bound. `write_back`'s flushes are
        // exempt: nothing would retry a refused one, and its writes would vanish.
        if W::FULL
            && !(self.requests[req].write && self.requests[req].background)
            && let Some(o) = &mut self.overload
            && let Some(cause) = o.database_refuses(now, self.db.queue_len(), self.db.all_busy())
        {
            return self.fail(req, db_position, cause, now);
        }
        // Admitted: a retry that reaches the database is a retry query.
        if let Some(c) = &call
            && c.retry
            && self.requests[req].measured
        {
            self.meter.m.calls.retry_queries += 1;
        }
        let deadline = call.and_then(|c| c.deadline);
        self.meter.account_origin(&self.db, now);
        let r = &mut self.requests[req];
        r.at_origin = now;
        let Request {
            key,
            measured,
            write,
            background,
            size,
            ..
        } = *r;
        // A read that finds another read of its key in flight is part of a herd.
        let (mut herd, mut herd_event) = (false, false);
        let origin = &mut self.meter.m.origin;
        if write {
            if measured {
                origin.writes += 1;
            }
        } else {
            if measured && key >= self.real_keys {
                origin.not_found += 1;
            }
            let n = self.db.read_arrived(key);
            herd = n > 1;
            herd_event = n == self.plan.herd_threshold;
            if measured {
                // A background refresh is load, not a client's read.
                if W::FULL && background {
                    origin.refreshes += 1;
                } else {
                    origin.reads += 1;
                    if W::FULL && self.http.active {
                        origin.request_bytes += u64::from(size);
                    }
                }
                origin.herd_requests += u64::from(herd);
                origin.herd_events += u64::from(herd_event);
                origin.peak_key_concurrency = origin.peak_key_concurrency.max(n);
            }
        }
        let started = self.db.arrive(req);
        if measured {
            self.meter.m.timeseries.origin(now, herd, herd_event);
        }
        if let Some(service) = started {
            self.start_query(req, now, service);
        }
        // Only a query that may overrun its deadline needs the event: one that started
        // at once and ends in time does not.
        if let Some((at, call)) = deadline
            && started.is_none_or(|service| now + service > at)
        {
            self.events.push(at, Event::Timeout { req, call });
        }
    }

    /// Request `req`'s query starts at `now` and takes `service`; a read reads the
    /// key's version now.
    fn start_query(&mut self, req: u32, now: SimTime, service: SimTime) {
        let r = &mut self.requests[req];
        if !r.write {
            // Write-back: the database holds only what was flushed.
            r.version = self
                .writes
                .durable(r.key)
                .unwrap_or_else(|| self.db.version(r.key));
        }
        if let Some(res) = &mut self.resilience {
            res.started(req, now);
        }
        if r.measured {
            self.meter.m.origin.started += 1;
            self.meter.m.origin.wait_ns += (now - r.at_origin).as_nanos() as u128;
        }
        let event = Event::Served { req };
        if let Some(lane) = self.ahead.served_lane() {
            self.events.push_lane(lane, now + service, event);
        } else {
            self.events.push(now + service, event);
        }
    }

    /// The database finished request `req`'s query at `now`: a write commits, a read's
    /// response starts back out, filling every layer it passes. A query whose caller
    /// gave up (`application.timeout_ms`) commits, fills nothing and answers nobody.
    pub(super) fn served<W: Walk>(&mut self, req: u32, now: SimTime) {
        self.meter.account_origin(&self.db, now);
        if W::FULL && self.overload.as_ref().is_some_and(|o| o.codel.is_some()) {
            self.shed_heads(now);
        }
        if let Some((next, service)) = self.db.depart() {
            self.start_query(next, now, service);
        }
        let ghost = self.resilience.is_some() && self.answered(req, now);
        let Request {
            key,
            version,
            write,
            from,
            measured,
            background,
            at_origin,
            ..
        } = self.requests[req];
        if measured {
            self.meter.m.timeseries.origin_done(now, now - at_origin);
        }
        if write && background {
            let latest = self.db.version(key);
            self.writes.flushed(key, version, latest);
        } else if write {
            let version = self.db.commit_write(key);
            self.meter.committed(key, version, now);
            // A write that went around the write-back layer (down, with fallback).
            self.writes.committed_around(key);
            self.committed(key, now);
        } else if ghost {
            self.db.read_served(key);
        } else {
            self.db.read_served(key);
            if W::FULL
                && self.http.active
                && http::origin_answers(&mut self.requests[req], now)
                && measured
            {
                self.meter.m.origin.not_modified += 1;
            }
            if self.writes.write_back().is_some() && measured && !background {
                // Write-back: the database may answer with an unflushed (or lost)
                // write's older version.
                self.meter.count_stale_origin(&self.db, key, version, now);
            }
            self.fill::<W>(
                Passing::new(req, key, version, from, self.layers.len()),
                now,
            );
        }
        if ghost {
            self.requests.free(req);
        } else {
            self.complete::<W>(req, now, self.layers.len());
        }
    }

    /// A response passes layers on its way out (see [`Passing`]) and fills them.
    #[inline]
    pub(super) fn fill<W: Walk>(&mut self, passing: Passing, now: SimTime) {
        if W::FULL {
            self.fill_full(passing, now);
        } else {
            self.fill_layers::<Plain>(passing, now);
        }
    }

    /// [`Self::fill_layers`] with every hook, out of line like [`Self::consult_full`].
    #[inline(never)]
    fn fill_full(&mut self, passing: Passing, now: SimTime) {
        self.fill_layers::<Full>(passing, now);
    }

    /// Fills the layers a response passes with its version of its key. Hooks: down
    /// layers are not filled, a layer's HTTP rule decides whether and how long it
    /// stores, a 304 refreshes only a copy of its version, a "not found" answer is
    /// stored only where `negative_ttl_s` is set, a read of an outdated version under
    /// `versioned_keys` fills an orphan, and defended layers' flights end.
    #[inline(always)]
    fn fill_layers<W: Walk>(&mut self, passing: Passing, now: SimTime) {
        let Passing {
            req,
            key,
            version,
            from,
            upto,
        } = passing;
        // Fields, each read as it was written: the lookup that answered has just set
        // some, and a copy of the whole request would wait for them (docs/performance.md).
        let Request {
            class,
            client,
            not_modified,
            cond_from,
            born,
            size,
            ..
        } = self.requests[req];
        let guard = self.writes.guard_fills;
        let versioned = W::FULL && self.writes.versioned;
        let measuring = self.meter.measuring();
        let nodes = &self.requests[req].nodes;
        let path = self.layers[from..upto]
            .iter_mut()
            .zip(&mut self.meter.m.layers[from..upto])
            .zip(&nodes[from..upto]);
        for (j, ((layer, stats), &consulted)) in (from..).zip(path) {
            if W::FULL && self.faults.at(j, u32::from(consulted)) != Status::Up {
                continue;
            }
            let rule = if W::FULL && self.http.active {
                let rule = self.http.rule(j, class);
                if !rule.store {
                    continue;
                }
                Some(rule)
            } else {
                None
            };
            // The node the request consulted: its client's for browsers.
            let node = if layer.is_per_client() {
                client
            } else {
                u32::from(consulted)
            };
            let validated = W::FULL && not_modified && j >= cond_from as usize;
            // Only these need the resident copy's version: the peek is a memory access.
            let resident = if guard || versioned || validated {
                layer.store.peek(node, key).map(|(v, _)| v)
            } else {
                None
            };
            if guard && Writes::keeps_newer(resident, version) {
                continue;
            }
            if validated && resident != Some(version) {
                // A 304 has no body: it refreshes a copy of its version, stores nothing.
                continue;
            }
            let expires = if !W::FULL {
                layer.expiry(now)
            } else if key >= self.real_keys {
                match layer.negative_expiry(now) {
                    Some(e) => e,
                    None => continue,
                }
            } else {
                match http::freshness(rule, born, now) {
                    Freshness::Layer => layer.expiry(now),
                    Freshness::Until(t) => t,
                    Freshness::Spent => continue,
                }
            };
            let mut orphan_it = false;
            // The origin's version is read only when versions matter: it is a cold line
            // of a large array, and this runs on every answer.
            if versioned && resident.is_some_and(|v| v != version) {
                if version != self.db.version(key) {
                    // The current version is resident; an old one fills a key nobody
                    // reads, which the single-entry store cannot hold beside it.
                    continue;
                }
                // The old version's copy stays behind, unread.
                layer.orphan_at(node, key);
                if measuring {
                    stats.orphaned += 1;
                }
            } else if versioned && version != self.db.version(key) {
                orphan_it = true;
            }
            let meta = Meta {
                born,
                owner: client,
                size,
            };
            let fill = if W::FULL {
                layer.store.fill_with(node, key, version, expires, meta)
            } else {
                layer.store.fill(node, key, version, expires)
            };
            let evicted = fill.evicted();
            stats.evictions += u64::from(evicted);
            if orphan_it {
                // Filled under its outdated version's key: a slot no read will use.
                layer.orphan_at(node, key);
                if measuring {
                    stats.orphaned += 1;
                }
            }
        }
        if W::FULL && self.defences.any() {
            self.passed(passing, now);
        }
    }

    /// Request `req` is answered at `done` by layer `at` (the database if past the
    /// caches).
    pub(super) fn complete<W: Walk>(&mut self, req: u32, done: SimTime, at: usize) {
        // Fields, not a copy: see `fill_layers`.
        let Request {
            measured,
            write,
            background,
            arrived,
            ..
        } = self.requests[req];
        if W::FULL && self.http.active && measured && !write {
            http::count_bytes(&mut self.meter.m, &self.requests[req], at);
        }
        if measured && !write && !background {
            let latency = done - arrived;
            // Only the answering layer's histogram: the end-to-end one is their sum,
            // merged at the end, which saves a record per read.
            self.meter.m.served_latency[at].record(latency);
            self.meter.m.timeseries.completed(done, latency);
        }
        self.requests.free(req);
    }
}
