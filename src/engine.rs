//! The discrete-event engine: requests travel the path in simulated time.
//!
//! A request arrives, consults each cache layer in turn (paying that layer's latency,
//! a round trip), and on a miss everywhere queues at the database. The response fills
//! every cache layer it passes on the way out: a hit at layer `i` fills layers `0..i`
//! at the moment of the hit; an origin response fills them all when the query completes.
//!
//! Requests overlap in time, so while one origin fetch for a key is in flight, other
//! requests for it miss too and go to the origin as well: the herd, counted in
//! [`OriginStats::herd_requests`].
//!
//! Writes go straight to the database (except under `write_back`); when a write
//! commits, the key's version moves on and each cache layer's copy is dropped, stored or
//! left, by the write plan. A read takes the version current when its query
//! starts, so a read that started before a write and finishes after it fills the caches
//! with the old version: the cache-aside race, counted as stale hits later.
//!
//! A cache layer may defend against stampedes ([`crate::layer::stampede`]): its lookups then
//! go through `Engine::defended_lookup`, waiters and background refreshes are
//! requests like any other (a background one fills only the layers from the one that
//! started it inward, and its latency is not a read's), and every response that passes
//! a defended layer ends that layer's flight for the key.
//!
//! Faults ([`crate::scenario::fault`]) are two events each; a request finding its layer down skips
//! it or fails ([`Engine::fail`](Engine), where `stale_if_error` may still answer).
//! `write_back` ([`crate::workload::write`]) accepts writes at the innermost cache layer and flushes
//! them as background write queries on a timer event or a full batch.
//!
//! Content classes ([`crate::layer::http`]) add HTTP semantics on the same special path: per
//! layer and class, whether a response is stored and for how long (its Age travels with the
//! request as `born`), conditional requests and 304s, leaks, and bytes.
//!
//! None of this costs the plain path anything but one flag (`special`) per lookup and
//! per fill: a run without a defence, a fault, versioned keys, missing keys or content
//! classes takes
//! [`Engine::plain_lookup`](Engine) compiled without their checks, and the special
//! paths are `#[inline(never)]` or `#[cold]`.
//!
//! Hot-path rules: no allocation per request (requests live in a reused slab), one
//! pending arrival at a time, expiry checked lazily on lookup.
//!
//! Where the time goes, and why the code is shaped so (`benches/engine.rs` measures it;
//! its doc comment has the figures):
//! - Memory, not arithmetic, bounded the quickstart path: with 1M keys, the Zipf table
//!   and the per-key arrays (each cache's index, the database's key state) are far
//!   larger than the CPU caches, and a request stalled on a miss at every stop. Keys are
//!   now drawn in batches and their state prefetched for the whole batch at once
//!   ([`Engine::read_ahead`](Engine), [`crate::mem::prefetch`]), so the misses overlap.
//! - Events with a constant delay go to FIFO lanes and a hop due before every pending
//!   event skips the queue (see `queue`); only sampled delays use the heap.
//! - What is left is spread thin: latency sampling (`exp` of a normal), the two
//!   histogram records per request, LRU list updates, the heap.
//! - On the whole path (`benches/hierarchy.rs`) the lookups a round trip away wait on
//!   memory most: a lookup that comes out of a FIFO lane prefetches the lane's next
//!   ones (`Engine::prefetch_lane_ahead`), a request passing through an instant layer
//!   prefetches the next one's (`Engine::pass_through`), and large arrays sit in huge
//!   pages ([`crate::mem::hugepages`]).
//! - Stores to lines not in the CPU's caches (the LRU's links, a browser's record) sit
//!   in the store buffer until their lines arrive. A later load that reads fields just
//!   written with narrower stores, such as a copy of a whole `Request` or of a `Lookup`
//!   kept in memory, cannot be forwarded from them and waits for all of those stores:
//!   lookup results are matched at once and requests read field by field, not copied.

pub mod database;
mod queue;

use crate::SimTime;
use crate::base::rng::{SimRng, Stream, stream};
use crate::engine::database::Database;
use crate::layer::http::{Lifetime, Rule};
use crate::layer::stampede::{Defence, Stampede, xfetch_refresh};
use crate::layer::{Layer, WriteEffect};
use crate::metrics::{LatencyHistogram, LayerStats, OriginStats, TimeSeries};
use crate::scenario::Plan;
use crate::scenario::fault::{FaultState, Status};
use crate::store::cache::Lookup;
use crate::store::cache::Meta;
use crate::workload::Workload;
use crate::workload::write::{Invalidation, OnCommit};
use queue::EventQueue;
use rand::RngExt;
use rustc_hash::FxHashMap;

#[derive(Clone, Copy, Debug)]
enum Event {
    /// The next request arrives.
    Arrival,
    /// Request `req` consults cache layer `layer`.
    Lookup { req: u32, layer: u32 },
    /// Request `req` reaches the database.
    Origin { req: u32 },
    /// The database finished request `req`'s query.
    Served { req: u32 },
    /// Request `req`, waiting for a lock at layer `layer`, polls it.
    Poll { req: u32, layer: u32 },
    /// Layer `layer`'s `sync_expiry` batch fill.
    SyncFill { layer: u32 },
    /// A committed write to `key` reaches layer `layer` after its propagation delay.
    Propagate { key: u32, layer: u32 },
    /// Fault `fault` of the plan begins.
    FaultBegin { fault: u32 },
    /// Fault `fault` of the plan ends.
    FaultEnd { fault: u32 },
    /// The write-back layer's timed flush.
    Flush,
}

#[derive(Clone, Copy, Debug)]
struct Request {
    arrived: SimTime,
    /// When it reached the origin, or began waiting at a defended layer.
    at_origin: SimTime,
    key: u32,
    /// For reads, the version the query read.
    version: u32,
    measured: bool,
    write: bool,
    /// A background refresh, not a client's read: no latency, no read counted.
    background: bool,
    /// The outermost layer its response fills: 0, or the layer that started a
    /// background refresh.
    from: u16,
    /// Its client's region (0 unless `workload.regions`).
    region: u16,
    /// The client that sent it (0 unless the path has a browser or a CDN).
    client: u32,
    /// The node it consulted at each multi-node cache layer, so its response fills
    /// that node (see [`crate::layer::topology`]); browsers use `client`.
    nodes: [u16; crate::scenario::MAX_CACHE_LAYERS],
    /// The rest is for content classes ([`crate::layer::http`]) only.
    /// The object's size, bytes.
    size: u32,
    /// Its content class.
    class: u8,
    /// A reload: a browser revalidates its fresh copy (unless immutable).
    reload: bool,
    /// The outermost layer whose copy it validates inward ([`NO_VALIDATOR`] if none): a
    /// conditional request, carrying that copy's version as its ETag.
    cond_from: u8,
    /// The ETag (version) of that copy.
    validator: u32,
    /// Its answer is a 304: the validator is current, no body.
    not_modified: bool,
    /// When the origin generated the response it carries (its `Age` is `now - born`).
    born: SimTime,
}

/// [`Request::cond_from`] of a request that validates nothing.
const NO_VALIDATOR: u8 = u8::MAX;

impl Default for Request {
    fn default() -> Self {
        Request {
            arrived: SimTime::ZERO,
            at_origin: SimTime::ZERO,
            key: 0,
            version: 0,
            measured: false,
            write: false,
            background: false,
            from: 0,
            region: 0,
            client: 0,
            nodes: [0; crate::scenario::MAX_CACHE_LAYERS],
            size: 1,
            class: 0,
            reload: false,
            cond_from: NO_VALIDATOR,
            validator: 0,
            not_modified: false,
            born: SimTime::ZERO,
        }
    }
}

/// How far a run has got, for progress bars.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Requests generated so far.
    pub generated: u64,
    /// Requests the run will generate, if known in advance.
    pub total: Option<u64>,
}

/// Everything a run measures, raw: the caller turns it into a report
/// ([`crate::output::report::Report::new`]).
#[derive(Debug)]
pub struct Measured {
    /// Per cache layer, outermost first.
    pub layers: Vec<LayerStats>,
    /// The database's counters.
    pub origin: OriginStats,
    /// End-to-end read latency.
    pub latency: LatencyHistogram,
    /// Read latency by the layer that answered (the database last); `latency` is
    /// their sum, merged when the run ends.
    pub served_latency: Vec<LatencyHistogram>,
    /// Measured reads.
    pub reads: u64,
    /// Measured writes.
    pub writes: u64,
    /// Reads answered with a version the origin had moved past.
    pub stale_reads: u64,
    /// Ages of stale reads: time since the origin's version moved past the one served.
    pub stale_age: LatencyHistogram,
    /// Reads and writes that failed.
    pub failed: u64,
    /// `write_back`: writes accepted and lost in a crash before their flush.
    pub lost_writes: u64,
    /// `write_back`: flushes.
    pub flushes: u64,
    /// `write_back`: the writes the flushes carried.
    pub flushed_writes: u64,
    /// Copies orphaned by `versioned_keys` and still resident at the end, per layer.
    pub orphans_resident: Vec<u64>,
    /// Bytes that 304 answers did not send (content classes).
    pub saved_bytes: u64,
    /// From the first measured arrival to the last arrival.
    pub window: SimTime,
    /// From the first measured arrival to the last event.
    pub span: SimTime,
    /// Per-bucket counts over simulated time.
    pub timeseries: TimeSeries,
}

/// One run of a plan.
pub struct Engine<'p> {
    plan: &'p Plan,
    events: EventQueue<Event>,
    requests: Vec<Request>,
    free: Vec<u32>,
    workload: Workload,
    layers: Vec<Layer>,
    db: Database,
    /// Each cache layer's stampede defence.
    defences: Vec<Defence>,
    /// Whether any layer has one.
    defended: bool,
    /// Whether anything beyond a plain lookup and fill can happen (a defence, a fault,
    /// versioned keys, missing keys, content classes): when not, lookups and fills take the plain path and
    /// look at nothing else.
    special: bool,
    /// Whether the plan has faults, and which positions are down.
    faulted: bool,
    faults: FaultState,
    /// Keys `0..real_keys` exist; ids from `real_keys` up are missing keys.
    real_keys: u32,
    /// `versioned_keys`: copies of outdated versions are never read.
    versioned: bool,
    /// Content classes: HTTP semantics ([`crate::layer::http`]) apply.
    http: bool,
    /// Each key's size (content classes; empty otherwise).
    sizes: Vec<u32>,
    /// Layer `i`'s rule for class `c` at `i * classes + c`.
    rules: Vec<Rule>,
    classes: usize,
    /// `write_back` state, if the strategy is on.
    write_back: Option<Box<WriteBackState>>,
    /// Whether the last arrival has been generated.
    arrivals_done: bool,
    /// Draws of each defence (`xfetch`).
    defence_rng: Vec<SimRng>,
    /// What a committed write does to each cache layer's copy.
    on_commit: OnCommit,
    /// Whether a write also stores its new version in every cache layer.
    stores: bool,
    /// Whether a read's fill must not replace a newer version (`write_through`).
    guard_fills: bool,
    /// When each version of a key was committed, by `key << 32 | version`, for the age
    /// of stale reads. Only writes add to it.
    commits: FxHashMap<u64, SimTime>,
    /// For each cache layer of constant latency, the FIFO lane of the event queue that
    /// the hop after it goes to, rather than the heap (see `queue`); for a layer whose
    /// latency is constant within each region (a CDN's round trip by region), a lane
    /// per region. Lane 0 holds the next arrival. Only constant sources get a lane, and
    /// a layer that takes no time none, as a pop from a lane scans every lane's front.
    /// Read through [`Engine::hop_lane`].
    hop_lane: Vec<Option<usize>>,
    /// Regions of the plan, at least 1.
    regions: usize,
    /// The lane of `Served` events, if the database's service time is constant.
    served_lane: Option<usize>,
    generated: u64,
    /// The time of the event being handled.
    clock: SimTime,
    /// When measurement began (the first measured arrival), if it has.
    measure_from: Option<SimTime>,
    last_arrival: SimTime,
    /// Time of the last change of the origin queue or busy count, for their integrals.
    last_origin_change: SimTime,
    /// Draws each request's client, when some layer's node depends on it.
    clients: Option<SimRng>,
    /// Clients drawn ahead, one per key of the workload's batch, so that their state
    /// is prefetched with the keys'; `client_batch[client_next..]` are still to be used.
    client_batch: [u32; crate::workload::KEY_BATCH],
    client_next: usize,
    /// The cache layers whose state is prefetched with a batch of keys: those a request
    /// reaches soon after it arrives. A layer behind a slow or variable round trip
    /// (a CDN's, a shield's) is consulted after hundreds of other requests, by when
    /// what was prefetched then has left the CPU's own caches: its lookup's index cell
    /// is prefetched when the hop is scheduled instead, which still finds it in the
    /// shared cache more often than not, and again a few events before it if the hop
    /// comes out of a lane (`Engine::prefetch_lane_ahead`). (A second stage at the next
    /// arrival, the entry the cell names, cost 200 instructions a request on the
    /// quickstart and saved no time: it was dropped.)
    read_ahead_layers: usize,
    /// Per layer past `read_ahead_layers`: whether a request that misses there goes on
    /// to the next layer at once (a constant round trip under `INSTANT`, such as an
    /// app's in-process cache), so the next layer's lookup follows this one's within a
    /// few hundred instructions. `Engine::lookup` then prefetches the next layer's
    /// index cell when it schedules the hop to this one, and its entry as it consults
    /// this one: Redis behind the L1 on the quickstart (`benches/hierarchy.rs` has the
    /// measurement).
    pass_through: Vec<bool>,
    m: Measured,
}

/// The write-back layer's bookkeeping (`write_back`, see [`crate::workload::write`]).
#[derive(Debug, Default)]
struct WriteBackState {
    /// The write-back layer: the innermost cache layer.
    layer: usize,
    /// Writes accepted since the last flush.
    pending: u64,
    /// Keys with unflushed writes, in the order they became dirty.
    dirty: Vec<u32>,
    dirty_set: rustc_hash::FxHashSet<u32>,
    /// The durable version of each key whose latest accepted version has not reached the
    /// database (pending or lost): a read at the database reads this one.
    durable: FxHashMap<u32, u32>,
}

/// How far behind its lane's front a lookup's index cell is prefetched
/// (see `Engine::prefetch_lane_ahead`).
const LANE_CELL_AHEAD: usize = 2;

/// A round trip this short is over within the same stretch of the event loop: the
/// layers before the first slower one are read ahead with the arrivals' keys, and a
/// layer this fast passes its misses on at once (`Engine::pass_through`).
const INSTANT: SimTime = SimTime::from_nanos(100_000);

/// How often, in generated requests, the progress callback runs.
const PROGRESS_EVERY: u64 = 1 << 16;

/// The event-queue lane of the one pending arrival.
const ARRIVAL_LANE: usize = 0;

impl<'p> Engine<'p> {
    /// Prepares a run: builds the samplers and empty caches.
    pub fn new(plan: &'p Plan) -> Self {
        // Missing keys get the ids `keys..2 * keys` (see `workload::Op::missing`).
        let keys = if plan.workload.missing_ratio > 0.0 {
            plan.workload.keys * 2
        } else {
            plan.workload.keys
        };
        let content = &plan.workload.content;
        let http = content.is_active();
        let sizes = if http {
            content.sizes(&mut stream(plan.seed, Stream::Sizes))
        } else {
            Vec::new()
        };
        let objects =
            http.then(|| sizes.iter().map(|&s| s as f64).sum::<f64>() / sizes.len() as f64);
        let layers: Vec<Layer> = plan
            .caches
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let rng = stream(plan.seed, Stream::Layer(i));
                Layer::new(c, keys, &plan.regions, rng, plan.seed, i, objects)
            })
            .collect();
        let rules = plan
            .caches
            .iter()
            .flat_map(|c| {
                content.classes.iter().map(|class| {
                    Rule::new(c.kind, c.ttl.is_some(), c.ignore_private, &class.control)
                })
            })
            .collect();
        let n = layers.len();
        let read_ahead_layers = layers
            .iter()
            .position(|l| l.constant_latency().is_none_or(|t| t > INSTANT))
            .map_or(n, |i| i + 1);
        let pass_through = layers
            .iter()
            .enumerate()
            .map(|(i, l)| {
                i >= read_ahead_layers
                    && i + 1 < n
                    && l.constant_latency().is_some_and(|t| t <= INSTANT)
            })
            .collect();
        let db = Database::new(&plan.database, keys, stream(plan.seed, Stream::Database));
        let mut lanes = ARRIVAL_LANE + 1;
        let mut lane_if = |constant: bool| {
            constant.then(|| {
                lanes += 1;
                lanes - 1
            })
        };
        // A lane per layer of constant latency, or per region where its round trip
        // depends on the client's region (a CDN's `rtt_ms`).
        let regions = plan.regions.len().max(1);
        let mut hop_lane = Vec::with_capacity(n * regions);
        for l in &layers {
            if let Some(t) = l.constant_latency() {
                // A layer that takes no time schedules no hop (the request goes on at
                // once), so it needs no lane to scan.
                let lane = lane_if(t > SimTime::ZERO);
                hop_lane.extend((0..regions).map(|_| lane));
            } else {
                let per_region = (0..regions).all(|r| l.constant_latency_in(r as u16).is_some());
                hop_lane.extend((0..regions).map(|_| lane_if(per_region)));
            }
        }
        let served_lane = lane_if(db.constant_service().is_some());
        let defences: Vec<Defence> = plan
            .caches
            .iter()
            .map(|c| Defence::new(c.stampede))
            .collect();
        let defended = defences.iter().any(Defence::is_active);
        let versioned = plan.writes.invalidation == Invalidation::VersionedKeys;
        let faulted = !plan.faults.is_empty();
        let missing = plan.workload.missing_ratio > 0.0;
        Engine {
            defended,
            special: defended || faulted || versioned || missing || http,
            http,
            sizes,
            rules,
            classes: content.classes.len(),
            faulted,
            faults: FaultState::new(n + 1, &plan.faults),
            real_keys: plan.workload.keys,
            versioned,
            write_back: plan.writes.write_back.map(|_| {
                Box::new(WriteBackState {
                    layer: n - 1,
                    ..WriteBackState::default()
                })
            }),
            arrivals_done: false,
            defences,
            on_commit: plan.writes.on_commit(),
            stores: plan.writes.stores(),
            guard_fills: plan.writes.stores(),
            commits: FxHashMap::default(),
            defence_rng: (0..n)
                .map(|i| stream(plan.seed, Stream::Stampede(i)))
                .collect(),
            plan,
            events: EventQueue::new(lanes),
            hop_lane,
            regions,
            served_lane,
            requests: Vec::with_capacity(1024),
            free: Vec::with_capacity(1024),
            workload: Workload::new(&plan.workload, stream(plan.seed, Stream::Workload)),
            layers,
            db,
            generated: 0,
            clock: SimTime::ZERO,
            measure_from: None,
            last_arrival: SimTime::ZERO,
            last_origin_change: SimTime::ZERO,
            clients: plan
                .needs_clients()
                .then(|| stream(plan.seed, Stream::Clients)),
            client_batch: [0; crate::workload::KEY_BATCH],
            client_next: 0,
            read_ahead_layers,
            pass_through,
            m: Measured {
                layers: vec![LayerStats::default(); n],
                origin: OriginStats::default(),
                latency: LatencyHistogram::default(),
                served_latency: vec![LatencyHistogram::default(); n + 1],
                reads: 0,
                writes: 0,
                stale_reads: 0,
                stale_age: LatencyHistogram::default(),
                failed: 0,
                lost_writes: 0,
                flushes: 0,
                flushed_writes: 0,
                orphans_resident: Vec::new(),
                saved_bytes: 0,
                window: SimTime::ZERO,
                span: SimTime::ZERO,
                timeseries: TimeSeries::new(plan.bucket),
            },
        }
    }

    /// Bytes the cache layers' stores take (entries and per-node indexes, not the
    /// policies' state): for memory reports.
    pub fn store_bytes(&self) -> usize {
        self.layers.iter().map(Layer::approx_bytes).sum()
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
    pub fn run(mut self, mut progress: impl FnMut(Progress)) -> Measured {
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
        if let Some(wb) = self.plan.writes.write_back {
            self.events.push(wb.flush_interval, Event::Flush);
        }
        self.events
            .push_lane(ARRIVAL_LANE, SimTime::ZERO, Event::Arrival);
        while let Some((now, event)) = self.events.pop() {
            self.advance(now);
            match event {
                Event::Arrival => {
                    self.arrival(now);
                    if self.generated.is_multiple_of(PROGRESS_EVERY) {
                        progress(Progress {
                            generated: self.generated,
                            total: self.plan.requests,
                        });
                    }
                }
                Event::Lookup { req, layer } => {
                    self.prefetch_lane_ahead(req, layer as usize);
                    self.lookup(req, layer as usize, now);
                }
                Event::Origin { req } => self.origin(req, now),
                Event::Served { req } => self.served(req, now),
                Event::Poll { req, layer } => self.poll(req, layer as usize, now),
                Event::SyncFill { layer } => self.sync_fill(layer as usize),
                Event::Propagate { key, layer } => self.propagate(key, layer as usize, now),
                Event::FaultBegin { fault } => self.fault_begin(fault as usize),
                Event::FaultEnd { fault } => {
                    self.faults.end(&self.plan.faults[fault as usize]);
                }
                Event::Flush => self.timed_flush(now),
            }
        }
        progress(Progress {
            generated: self.generated,
            total: Some(self.generated),
        });
        let end = self.clock;
        self.account_origin(end);
        for h in &self.m.served_latency {
            self.m.latency.add(h);
        }
        self.m.window = self
            .measure_from
            .map_or(SimTime::ZERO, |t| self.last_arrival - t);
        self.m.span = self.measure_from.map_or(SimTime::ZERO, |t| end - t);
        if self.versioned {
            self.m.orphans_resident = self.layers.iter().map(Layer::orphans).collect();
        }
        self.m
    }

    fn arrival(&mut self, now: SimTime) {
        let index = self.generated;
        self.generated += 1;
        self.last_arrival = now;
        let measured = index >= self.plan.warmup_requests;
        if measured && self.measure_from.is_none() {
            self.measure_from = Some(now);
            self.last_origin_change = now;
        }
        // Draw the gap before the key so the arrival times do not depend on the mix.
        let gap = self.workload.next_gap();
        let op = self.workload.next_op();
        if let Some(keys) = self.workload.upcoming_keys() {
            if let Some(rng) = &mut self.clients {
                // A new batch of keys: draw their clients too (in order, from their own
                // stream, so each request's client is what one draw per request gives).
                let n = self.plan.clients();
                for c in &mut self.client_batch {
                    *c = crate::layer::topology::bucket(rand::Rng::next_u64(rng), n);
                }
                self.client_next = 0;
            }
            self.read_ahead(keys);
        }
        let more = self.plan.requests.is_none_or(|n| self.generated < n);
        let next = now + gap;
        if more && self.plan.duration.is_none_or(|d| next <= d) {
            self.events.push_lane(ARRIVAL_LANE, next, Event::Arrival);
        } else {
            self.arrivals_done = true;
        }
        let (client, region) = if self.clients.is_some() {
            let c = self.client_batch[self.client_next];
            self.client_next += 1;
            (c, self.plan.regions.of(c))
        } else {
            (0, 0)
        };
        let key = if op.missing {
            op.key + self.real_keys
        } else {
            op.key
        };
        let (size, class) = (self.size_of(op.key), self.class_of(op.key));
        let req = self.alloc(Request {
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
            self.m.timeseries.arrival(now);
        }
        if op.write {
            if measured {
                self.m.writes += 1;
                self.m.timeseries.write(now);
            }
            if self.write_back.is_some() {
                self.accept_write(req, now);
            } else {
                self.origin(req, now);
            }
        } else {
            if measured {
                self.m.reads += 1;
            }
            self.lookup(req, 0, now);
        }
    }

    /// Request `req` consults layer `i` at `now`, and goes on inward through every layer
    /// that answers in zero time without scheduling an event.
    fn lookup(&mut self, req: u32, mut i: usize, mut now: SimTime) {
        let Request {
            key,
            measured,
            from,
            client,
            region,
            ..
        } = self.requests[req as usize];
        loop {
            if i == self.layers.len() {
                self.origin(req, now);
                return;
            }
            if self.pass_through[i] {
                self.layers[i + 1].prefetch(true, key, client, region);
            }
            let node = self.layers[i].pick(key, client, region);
            if !self.layers[i].is_single() {
                self.requests[req as usize].nodes[i] = node as u16;
            }
            let mut latency = self.layers[i].sample_latency(region);
            let inward = if self.special {
                self.special_lookup(req, i, node, now, &mut latency)
            } else {
                self.plain_lookup::<false>(req, key, measured, from, i, node, now, latency)
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
                    if i >= self.read_ahead_layers {
                        self.layers[i].prefetch(false, key, client, region);
                        if self.pass_through[i] {
                            self.layers[i + 1].prefetch(false, key, client, region);
                        }
                    }
                    Event::Lookup {
                        req,
                        layer: i as u32,
                    }
                };
                if let Some(lane) = self.hop_lane(i - 1, region) {
                    self.events.push_lane(lane, now, event);
                } else {
                    self.events.push(now, event);
                }
                return;
            }
        }
    }

    /// A lookup at layer `i` without a defence: returns whether the request goes on
    /// inward. `SPECIAL` adds the checks of versioned and missing keys; the plain path
    /// is compiled without them.
    #[inline(always)]
    #[allow(clippy::too_many_arguments)]
    fn plain_lookup<const SPECIAL: bool>(
        &mut self,
        req: u32,
        key: u32,
        measured: bool,
        from: u16,
        i: usize,
        node: u32,
        now: SimTime,
        latency: SimTime,
    ) -> bool {
        let lookup = if SPECIAL {
            self.get_current(i, node, key, now)
        } else {
            self.get(i, node, key, now)
        };
        let stats = &mut self.m.layers[i];
        if measured {
            stats.requests += 1;
        }
        match lookup {
            Lookup::Hit { version, .. } => {
                if measured {
                    stats.hits += 1;
                    if SPECIAL {
                        stats.negative_hits += u64::from(key >= self.real_keys);
                    }
                    self.count_stale(i, key, version, now);
                }
                self.fill(req, key, version, from as usize, i, now);
                self.complete(req, now + latency, i);
                false
            }
            Lookup::Miss | Lookup::Expired => {
                if measured {
                    stats.misses += 1;
                    stats.expirations += u64::from(lookup == Lookup::Expired);
                }
                true
            }
        }
    }

    /// Looks `key` up at node `node` of layer `i`, counting the entries a hit evicts
    /// (see [`Lookup::Hit`]) with the layer's other evictions.
    #[inline(always)]
    fn get(&mut self, i: usize, node: u32, key: u32, now: SimTime) -> Lookup {
        let lookup = self.layers[i].get(node, key, now);
        if let Lookup::Hit { evicted, .. } = lookup {
            self.m.layers[i].evictions += u64::from(evicted);
        }
        lookup
    }

    /// Looks `key` up at node `node` of layer `i` as [`Engine::get`] does, then applies
    /// `versioned_keys`: a hit on a copy of an outdated version is not one (readers ask
    /// for the current version's key); the copy is orphaned and the lookup is a miss.
    ///
    /// Callers match the result at once rather than keep the `Lookup`: a `Lookup` that
    /// stays in memory is written field by field and read back whole, and that read
    /// cannot be forwarded from the pending writes, so it waited for every store before
    /// it, the policy's writes to cold lines included (a fifth of the cycles of the
    /// lookups, `perf annotate`).
    #[inline(always)]
    fn get_current(&mut self, i: usize, node: u32, key: u32, now: SimTime) -> Lookup {
        match self.get(i, node, key, now) {
            Lookup::Hit { version, .. } if self.versioned && version != self.db.version(key) => {
                self.layers[i].orphan_at(node, key);
                if self.measure_from.is_some() {
                    self.m.layers[i].orphaned += 1;
                }
                Lookup::Miss
            }
            lookup => lookup,
        }
    }

    /// A lookup at layer `i` when the run has anything special (see `special`): a fault,
    /// a defence, versioned or missing keys. Returns whether the request goes on inward;
    /// a skipped layer takes no time (`latency` becomes zero).
    #[inline(never)]
    fn special_lookup(
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
            background,
            ..
        } = self.requests[req as usize];
        if self.faulted {
            match self.faults.status_at(i, node) {
                Status::Up => {}
                Status::Skip => {
                    if measured && !background {
                        self.m.layers[i].skipped += 1;
                    }
                    *latency = SimTime::ZERO;
                    return true;
                }
                Status::Fail => {
                    self.fail(req, i, now);
                    return false;
                }
            }
        }
        if self.defences[i].is_active() {
            return self.defended_lookup(req, i, now, *latency, false);
        }
        if self.http {
            return self.http_lookup(req, i, node, now, *latency);
        }
        self.plain_lookup::<true>(req, key, measured, from, i, node, now, *latency)
    }

    /// Layer `i`'s rule for `class`.
    #[inline]
    fn rule(&self, i: usize, class: u8) -> Rule {
        self.rules[i * self.classes + class as usize]
    }

    /// A lookup at layer `i` under HTTP semantics ([`crate::layer::http`]): a copy that must be
    /// validated sends the request on inward as a conditional one; a fresh copy answers
    /// (304 if the request's validator is current), counting a leak if it is a private
    /// copy fetched for another client. Returns whether the request goes on inward.
    #[inline]
    fn http_lookup(
        &mut self,
        req: u32,
        i: usize,
        node: u32,
        now: SimTime,
        latency: SimTime,
    ) -> bool {
        // The fields this needs, not a copy of the whole request.
        let Request {
            key,
            class,
            size,
            measured,
            reload,
            cond_from,
            validator,
            client,
            from,
            ..
        } = self.requests[req as usize];
        let lookup = self.get_current(i, node, key, now);
        let rule = self.rule(i, class);
        let size = u64::from(size);
        if measured {
            let stats = &mut self.m.layers[i];
            stats.requests += 1;
            stats.request_bytes += size;
        }
        let version = match lookup {
            Lookup::Hit { version, .. } => version,
            Lookup::Miss | Lookup::Expired => {
                if measured {
                    let stats = &mut self.m.layers[i];
                    stats.misses += 1;
                    stats.expirations += u64::from(lookup == Lookup::Expired);
                }
                return true;
            }
        };
        if rule.revalidate || (reload && rule.reload_revalidates) {
            if measured {
                let stats = &mut self.m.layers[i];
                stats.misses += 1;
                stats.revalidations += 1;
            }
            let q = &mut self.requests[req as usize];
            if q.cond_from == NO_VALIDATOR {
                q.cond_from = i as u8;
                q.validator = version;
            }
            return true;
        }
        let meta = self.layers[i].meta(node, key);
        let not_modified = cond_from != NO_VALIDATOR && validator == version;
        if measured {
            let leak =
                rule.leaks && meta.is_some_and(|m| m.owner != client && m.owner != Meta::NO_OWNER);
            let stats = &mut self.m.layers[i];
            stats.hits += 1;
            stats.hit_bytes += size;
            stats.not_modified += u64::from(not_modified);
            stats.leaks += u64::from(leak);
            stats.negative_hits += u64::from(key >= self.real_keys);
            self.count_stale(i, key, version, now);
        }
        let q = &mut self.requests[req as usize];
        q.not_modified = not_modified;
        // The copy's age travels outward with it.
        q.born = meta.map_or(now, |m| m.born);
        self.fill(req, key, version, from as usize, i, now);
        self.complete(req, now + latency, i);
        false
    }

    /// A lookup at layer `i`, which has a stampede defence, `latency` being its round
    /// trip. Returns whether the request goes on inward (at `now + latency`); otherwise
    /// it was answered, or waits. `polling`: a `lock` waiter looking again.
    ///
    /// Outcomes at the layer: `requests = hits + misses + coalesced + stale_served`
    /// (a `lock` waiter counts once, when its wait ends).
    #[inline(never)]
    fn defended_lookup(
        &mut self,
        req: u32,
        i: usize,
        now: SimTime,
        latency: SimTime,
        polling: bool,
    ) -> bool {
        let Request {
            key,
            measured,
            from,
            at_origin: waiting_since,
            ..
        } = self.requests[req as usize];
        let mode = self.defences[i].mode;
        if measured && !polling {
            self.m.layers[i].requests += 1;
        }
        if let Stampede::StaleWhileRevalidate { window } = mode
            && let Some((version, expires)) = self.layers[i].peek(0, key)
            && expires <= now
            && now < expires + window
        {
            if measured {
                self.m.layers[i].stale_served += 1;
                self.count_stale(i, key, version, now);
            }
            self.refresh(i, key, now);
            self.complete(req, now + latency, i);
            return false;
        }
        if let Stampede::StaleIfError { window } = mode
            && let Some((_, expires)) = self.layers[i].peek(0, key)
            && expires <= now
            && now < expires + window
        {
            // Keep the expired copy readable, in case the path inward fails.
            if measured {
                let stats = &mut self.m.layers[i];
                stats.misses += 1;
                stats.expirations += 1;
            }
            return true;
        }
        // Defended layers are single-node (validated), so the node is 0.
        let lookup = self.get_current(i, 0, key, now);
        if let Lookup::Hit {
            version, expires, ..
        } = lookup
        {
            if measured {
                let stats = &mut self.m.layers[i];
                if polling {
                    stats.coalesced += 1;
                    stats.coalesced_wait_ns += (now - waiting_since).as_nanos();
                } else {
                    stats.hits += 1;
                    stats.negative_hits += u64::from(key >= self.real_keys);
                }
                self.count_stale(i, key, version, now);
            }
            match mode {
                Stampede::RefreshAhead { window } if expires - now <= window => {
                    self.refresh(i, key, now);
                }
                Stampede::Xfetch { beta } => {
                    if let Some(delta) = self.defences[i].delta(key) {
                        let u: f64 = self.defence_rng[i].random();
                        if xfetch_refresh(u, expires - now, beta, delta) {
                            self.refresh(i, key, now);
                        }
                    }
                }
                _ => {}
            }
            self.fill(req, key, version, from as usize, i, now);
            self.complete(req, now + latency, i);
            return false;
        }
        let defence = &mut self.defences[i];
        let mut timed_out = false;
        match mode {
            Stampede::Coalesce => {
                if let Some(flight) = defence.flight(key) {
                    flight.waiters.push(req);
                    self.requests[req as usize].at_origin = now;
                    return false;
                }
                defence.start(key, req, now, SimTime::ZERO);
            }
            Stampede::Lock {
                lock_ttl,
                poll,
                wait_timeout,
            } => {
                let since = if polling { waiting_since } else { now };
                match defence.flight(key) {
                    Some(f) if f.lock_until > now => {
                        if now - since < wait_timeout {
                            self.requests[req as usize].at_origin = since;
                            self.events.push(
                                now + poll,
                                Event::Poll {
                                    req,
                                    layer: i as u32,
                                },
                            );
                            return false;
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
                }
            }
            Stampede::StaleIfError { .. } => {}
            _ => {
                // Remember the fetch: one refresh per key at a time, and xfetch's δ.
                defence.start(key, req, now, SimTime::ZERO);
            }
        }
        if measured {
            let stats = &mut self.m.layers[i];
            stats.misses += 1;
            stats.expirations += u64::from(lookup == Lookup::Expired);
            stats.lock_timeouts += u64::from(timed_out);
        }
        true
    }

    /// Counts a read of `version` of `key` served at layer `i` at `now` if the origin
    /// has moved on.
    #[inline]
    fn count_stale(&mut self, i: usize, key: u32, version: u32, now: SimTime) {
        if version != self.db.version(key) {
            self.stale_read(i, key, version, now);
        }
    }

    #[cold]
    fn stale_read(&mut self, i: usize, key: u32, version: u32, now: SimTime) {
        self.m.layers[i].stale_hits += 1;
        self.count_stale_origin(key, version, now);
    }

    /// Counts a read of `version` of `key` at `now` as stale if the origin's latest
    /// accepted version has moved on, and records its age.
    fn count_stale_origin(&mut self, key: u32, version: u32, now: SimTime) {
        if version == self.db.version(key) {
            return;
        }
        self.m.stale_reads += 1;
        let next = (key as u64) << 32 | version.wrapping_add(1) as u64;
        if let Some(&moved) = self.commits.get(&next) {
            self.m.stale_age.record(now - moved);
        }
    }

    /// A write to `key` committed at `now`: each cache layer's copy is deleted, stored
    /// or left alone, now or after the layer's propagation delay.
    fn committed(&mut self, key: u32, now: SimTime) {
        if self.on_commit == OnCommit::Nothing {
            return;
        }
        for i in 0..self.layers.len() {
            let delay = self.plan.caches[i].propagation_delay;
            if delay == SimTime::ZERO {
                self.propagate(key, i, now);
            } else {
                self.events.push(
                    now + delay,
                    Event::Propagate {
                        key,
                        layer: i as u32,
                    },
                );
            }
        }
    }

    /// A committed write to `key` reaches layer `i`.
    fn propagate(&mut self, key: u32, i: usize, now: SimTime) {
        let measured = self.measure_from.is_some();
        let layer = &mut self.layers[i];
        match self.on_commit {
            OnCommit::Nothing | OnCommit::Store => {}
            OnCommit::Delete => layer.on_write(key, WriteEffect::Delete, now),
            OnCommit::Orphan => {
                if layer.orphan(key) && measured {
                    self.m.layers[i].orphaned += 1;
                }
            }
            OnCommit::PurgeTag => {
                let tags = self.plan.writes.tags;
                let mut purged = 0;
                let mut k = key % tags;
                while k < self.real_keys {
                    purged += u64::from(layer.invalidate(k));
                    k += tags;
                }
                if measured {
                    self.m.layers[i].purged += purged;
                }
            }
        }
        if self.stores && !(self.faulted && self.faults.status(i) != Status::Up) {
            let version = self.db.version(key);
            let size = self.size_of(key);
            if !self.http || self.rule(i, self.class_of(key)).store {
                let layer = &mut self.layers[i];
                layer.on_write(key, WriteEffect::Store { version, size }, now);
                // A node down by itself does not take the write.
                self.faults
                    .down_nodes(i)
                    .for_each(|n| layer.invalidate_at(n, key));
            }
        }
    }

    /// `write_back`: the write-back layer accepts write `req` now (unless it is down: a
    /// skip sends the write to the database, a failure fails it).
    #[cold]
    fn accept_write(&mut self, req: u32, now: SimTime) {
        let layer = self.write_back.as_ref().expect("write_back").layer;
        if self.faulted {
            match self.faults.status(layer) {
                Status::Up => {}
                Status::Skip => return self.origin(req, now),
                Status::Fail => return self.fail(req, layer, now),
            }
        }
        let key = self.requests[req as usize].key;
        let durable = self.db.version(key);
        let version = self.db.commit_write(key);
        self.commits
            .insert((key as u64) << 32 | version as u64, now);
        let wb = self.write_back.as_mut().expect("write_back");
        wb.durable.entry(key).or_insert(durable);
        wb.pending += 1;
        if wb.dirty_set.insert(key) {
            wb.dirty.push(key);
        }
        let full = wb.pending >= u64::from(self.plan.writes.write_back.expect("plan").flush_batch);
        self.committed(key, now);
        self.free.push(req);
        if full {
            self.flush(now);
        }
    }

    /// `write_back`: the timed flush, and the next one while writes may still come.
    fn timed_flush(&mut self, now: SimTime) {
        self.flush(now);
        let wb = self.write_back.as_ref().expect("write_back");
        if !self.arrivals_done || !wb.dirty.is_empty() {
            let every = self.plan.writes.write_back.expect("plan").flush_interval;
            self.events.push(now + every, Event::Flush);
        }
    }

    /// `write_back`: every dirty key goes to the database as one write query carrying its
    /// current version. With the database down, the writes stay pending.
    #[cold]
    fn flush(&mut self, now: SimTime) {
        let db = self.layers.len();
        if self.faulted && self.faults.status(db) != Status::Up {
            return;
        }
        let measured = self.measure_from.is_some();
        let wb = self.write_back.as_mut().expect("write_back");
        if wb.dirty.is_empty() {
            return;
        }
        if measured {
            self.m.flushes += 1;
            self.m.flushed_writes += wb.pending;
        }
        wb.pending = 0;
        let mut dirty = std::mem::take(&mut wb.dirty);
        wb.dirty_set.clear();
        for &key in &dirty {
            let req = self.alloc(Request {
                arrived: now,
                at_origin: SimTime::ZERO,
                key,
                version: self.db.version(key),
                measured,
                write: true,
                background: true,
                ..Request::default()
            });
            self.origin(req, now);
        }
        dirty.clear();
        let wb = self.write_back.as_mut().expect("write_back");
        if wb.dirty.is_empty() {
            wb.dirty = dirty;
        }
    }

    /// `write_back`: a flush query carrying `version` of `key` committed: the database
    /// now holds it durably.
    #[cold]
    fn flushed(&mut self, key: u32, version: u32) {
        let latest = self.db.version(key);
        let wb = self.write_back.as_mut().expect("write_back");
        if let Some(d) = wb.durable.get_mut(&key) {
            if version.wrapping_sub(*d) as i32 > 0 {
                *d = version;
            }
            if *d == latest {
                wb.durable.remove(&key);
            }
        }
    }

    /// Fault `f` begins: its layer (or node) goes down. If it was up, it crashes: a cache
    /// layer (node) loses its contents and, if it is the write-back layer, its unflushed
    /// writes.
    fn fault_begin(&mut self, f: usize) {
        let fault = self.plan.faults[f];
        if !self.faults.begin(&fault) || fault.layer == self.layers.len() {
            return;
        }
        match fault.node {
            Some(node) => self.layers[fault.layer].clear_node(node),
            None => self.layers[fault.layer].clear(),
        }
        if let Some(wb) = self.write_back.as_mut()
            && wb.layer == fault.layer
        {
            if self.measure_from.is_some() {
                self.m.lost_writes += wb.pending;
            }
            wb.pending = 0;
            wb.dirty.clear();
            wb.dirty_set.clear();
        }
    }

    /// Request `req` failed at path position `at` (a layer or the database down without
    /// fallback). The flights it led end and their waiters fail with it; then the
    /// innermost `stale_if_error` layer outside `at` with a copy expired less than its
    /// window ago answers it, or it counts as failed.
    #[cold]
    fn fail(&mut self, req: u32, at: usize, now: SimTime) {
        let r = self.requests[req as usize];
        let from = r.from as usize;
        let mut waiters = Vec::new();
        if self.defended {
            for j in from..at.min(self.layers.len()) {
                if let Some(w) = self.defences[j].abort(r.key, req) {
                    waiters.extend_from_slice(&w);
                    self.defences[j].recycle(w);
                }
            }
        }
        let counted = r.measured && !r.background;
        let stale = (!r.write)
            .then(|| self.stale_if_error(from, at, r.key, now))
            .flatten();
        if let Some((j, version)) = stale {
            if counted {
                self.m.layers[j].stale_on_error += 1;
                self.count_stale(j, r.key, version, now);
            }
            self.complete(req, now, j);
        } else {
            if counted {
                self.m.failed += 1;
                self.m.timeseries.failed(now);
                if let Some(stats) = self.m.layers.get_mut(at) {
                    stats.failed += 1;
                }
            }
            self.free.push(req);
        }
        for w in waiters {
            self.fail(w, at, now);
        }
    }

    /// The innermost layer of `from..at` that is up, serves `stale_if_error`, and holds
    /// a copy of `key` expired less than its window ago (or fresh): its index and the
    /// copy's version.
    fn stale_if_error(
        &self,
        from: usize,
        at: usize,
        key: u32,
        now: SimTime,
    ) -> Option<(usize, u32)> {
        (from..at.min(self.layers.len())).rev().find_map(|j| {
            let Stampede::StaleIfError { window } = self.defences[j].mode else {
                return None;
            };
            if self.faulted && self.faults.status(j) != Status::Up {
                return None;
            }
            // `stale_if_error` is a defence, and defended layers are single-node.
            let (version, expires) = self.layers[j].peek(0, key)?;
            (now < expires + window).then_some((j, version))
        })
    }

    /// Layer `i` refreshes `key` in the background: a request that starts at layer
    /// `i + 1` now and fills layers `i..`. `stale_while_revalidate` and `refresh_ahead`
    /// start one only when no fetch of the key from this layer is in flight; `xfetch`
    /// (without a lock) starts one every time it decides to.
    fn refresh(&mut self, i: usize, key: u32, now: SimTime) {
        let in_flight = self.defences[i].flight(key).is_some();
        let always = matches!(self.defences[i].mode, Stampede::Xfetch { .. });
        if in_flight && !always {
            return;
        }
        let measured = self.measure_from.is_some();
        if measured {
            let stats = &mut self.m.layers[i];
            stats.refreshes += 1;
            stats.refresh_cycles += u64::from(!in_flight);
        }
        let class = self.class_of(key);
        let bg = self.alloc(Request {
            arrived: now,
            key,
            measured,
            background: true,
            from: i as u16,
            size: self.size_of(key),
            class,
            born: now,
            ..Request::default()
        });
        self.defences[i].start(key, bg, now, SimTime::ZERO);
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
    fn poll(&mut self, req: u32, i: usize, now: SimTime) {
        if self.faulted {
            // The layer went down while the request waited there.
            match self.faults.status(i) {
                Status::Up => {}
                Status::Skip => return self.hop(req, i + 1, now),
                Status::Fail => return self.fail(req, i, now),
            }
        }
        let region = self.requests[req as usize].region;
        let latency = self.layers[i].sample_latency(region);
        if self.defended_lookup(req, i, now, latency, true) {
            self.hop(req, i + 1, now + latency);
        }
    }

    /// Request `req`'s response for `key` at `version` passed layers `from..upto` at
    /// `now`: each defended one's flight for the key that `req` leads ends, and its
    /// waiters are answered (their response passes the layers outside, too).
    #[inline(never)]
    fn passed(&mut self, req: u32, key: u32, version: u32, from: usize, upto: usize, now: SimTime) {
        for j in from..upto {
            if !self.defences[j].is_active() {
                continue;
            }
            let Some(waiters) = self.defences[j].pass(key, req, now) else {
                continue;
            };
            let born = self.requests[req as usize].born;
            for &w in &waiters {
                self.requests[w as usize].born = born;
                let r = self.requests[w as usize];
                if r.measured {
                    let stats = &mut self.m.layers[j];
                    stats.coalesced += 1;
                    stats.coalesced_wait_ns += (now - r.at_origin).as_nanos();
                }
                self.fill(w, key, version, r.from as usize, j, now);
                self.complete(w, now, j);
            }
            self.defences[j].recycle(waiters);
        }
    }

    /// Layer `i`'s `sync_expiry` batch: keys `0..keys` filled now, all at once.
    fn sync_fill(&mut self, i: usize) {
        let Some(sync) = self.plan.caches[i].sync_expiry else {
            return;
        };
        let now = self.clock;
        for key in 0..sync.keys {
            let version = self.db.version(key);
            let size = self.size_of(key);
            self.layers[i].fill_homes(key, version, size, now);
        }
    }

    fn origin(&mut self, req: u32, now: SimTime) {
        if self.faulted && self.faults.status(self.layers.len()) != Status::Up {
            return self.fail(req, self.layers.len(), now);
        }
        self.account_origin(now);
        let r = &mut self.requests[req as usize];
        r.at_origin = now;
        let Request {
            key,
            measured,
            write,
            size,
            ..
        } = *r;
        // A read that finds another read of its key in flight is part of a herd.
        let mut herd = false;
        if write {
            if measured {
                self.m.origin.writes += 1;
            }
        } else {
            if measured && key >= self.real_keys {
                self.m.origin.not_found += 1;
            }
            let n = self.db.read_arrived(key);
            herd = n > 1;
            if measured {
                self.m.origin.reads += 1;
                if self.http {
                    self.m.origin.request_bytes += u64::from(size);
                }
                self.m.origin.herd_requests += u64::from(herd);
                self.m.origin.herd_events += u64::from(n == self.plan.herd_threshold);
                self.m.origin.peak_key_concurrency = self.m.origin.peak_key_concurrency.max(n);
            }
        }
        let started = self.db.arrive(req);
        if measured {
            let queue = self.db.queue_len() as u64;
            self.m.origin.peak_queue = self.m.origin.peak_queue.max(queue);
            self.m.timeseries.origin(now, queue, herd);
        }
        if let Some(service) = started {
            self.start_query(req, now, service);
        }
    }

    fn start_query(&mut self, req: u32, now: SimTime, service: SimTime) {
        let r = &mut self.requests[req as usize];
        if !r.write {
            r.version = self.db.version(r.key);
            if let Some(wb) = &self.write_back
                && let Some(&durable) = wb.durable.get(&r.key)
            {
                // Write-back: the database holds only what was flushed.
                r.version = durable;
            }
        }
        if r.measured {
            self.m.origin.started += 1;
            self.m.origin.wait_ns += (now - r.at_origin).as_nanos() as u128;
        }
        let event = Event::Served { req };
        if let Some(lane) = self.served_lane {
            self.events.push_lane(lane, now + service, event);
        } else {
            self.events.push(now + service, event);
        }
    }

    fn served(&mut self, req: u32, now: SimTime) {
        self.account_origin(now);
        if let Some((next, service)) = self.db.depart() {
            self.start_query(next, now, service);
        }
        let Request {
            key,
            version,
            write,
            from,
            measured,
            background,
            at_origin,
            ..
        } = self.requests[req as usize];
        if measured {
            self.m.timeseries.origin_done(now, now - at_origin);
        }
        if write && background {
            self.flushed(key, version);
        } else if write {
            let version = self.db.commit_write(key);
            self.commits
                .insert((key as u64) << 32 | version as u64, now);
            if let Some(wb) = self.write_back.as_mut() {
                // A write that went around the write-back layer (down, with fallback).
                wb.durable.remove(&key);
            }
            self.committed(key, now);
        } else {
            self.db.read_served(key);
            if self.http {
                self.origin_answered(req, now);
            }
            if self.write_back.is_some() && measured && !background {
                // Write-back: the database may answer with an unflushed (or lost)
                // write's older version.
                self.count_stale_origin(key, version, now);
            }
            self.fill(req, key, version, from as usize, self.layers.len(), now);
        }
        self.complete(req, now, self.layers.len());
    }

    /// The origin answers read `req` at `now` (content classes): a fresh response, or a
    /// 304 if the request's validator is the version the query read.
    fn origin_answered(&mut self, req: u32, now: SimTime) {
        let r = &mut self.requests[req as usize];
        r.born = now;
        r.not_modified = r.cond_from != NO_VALIDATOR && r.validator == r.version;
        if r.not_modified && r.measured {
            self.m.origin.not_modified += 1;
        }
    }

    /// Request `req`'s response for `key` passes layers `from..upto` on its way out and
    /// fills them.
    #[inline]
    fn fill(&mut self, req: u32, key: u32, version: u32, from: usize, upto: usize, now: SimTime) {
        if self.special {
            return self.special_fill(req, key, version, from, upto, now);
        }
        let guard = self.guard_fills;
        let r = &self.requests[req as usize];
        let (client, nodes) = (r.client, &r.nodes);
        for ((layer, stats), &node) in self.layers[from..upto]
            .iter_mut()
            .zip(&mut self.m.layers[from..upto])
            .zip(&nodes[from..upto])
        {
            // The node the request consulted: its client's for browsers.
            let node = if layer.is_per_client() {
                client
            } else {
                u32::from(node)
            };
            if guard
                && layer
                    .peek(node, key)
                    .is_some_and(|(v, _)| v.wrapping_sub(version) as i32 > 0)
            {
                // A write stored a newer version here: a read's fill does not undo it.
                continue;
            }
            let expires = layer.expiry(now);
            let evicted = layer.fill(node, key, version, expires).evicted();
            stats.evictions += u64::from(evicted);
        }
    }

    /// [`Self::fill`] when the run has anything special: down layers are not filled, a
    /// "not found" answer is stored only where `negative_ttl_s` is set, a read of an
    /// outdated version under `versioned_keys` fills an orphan, and defended layers'
    /// flights end.
    #[inline(never)]
    fn special_fill(
        &mut self,
        req: u32,
        key: u32,
        version: u32,
        from: usize,
        upto: usize,
        now: SimTime,
    ) {
        // The fields this needs, each read as it was written: the lookup that answered
        // has just set some of them (`born`, `not_modified`), and a wide copy of the
        // whole request cannot be forwarded from those narrow pending stores, so it
        // waited for every store before it, the policy's writes to cold lines included
        // (two thirds of this function's cycles, `perf annotate`).
        let Request {
            class,
            client,
            not_modified,
            cond_from,
            born,
            size,
            ..
        } = self.requests[req as usize];
        for j in from..upto {
            let consulted = self.requests[req as usize].nodes[j];
            if self.faulted && self.faults.status_at(j, u32::from(consulted)) != Status::Up {
                continue;
            }
            let rule = if self.http {
                let rule = self.rule(j, class);
                if !rule.store {
                    continue;
                }
                Some(rule)
            } else {
                None
            };
            let layer = &mut self.layers[j];
            // The node the request consulted: its client's for browsers.
            let node = if layer.is_per_client() {
                client
            } else {
                u32::from(consulted)
            };
            let validated = not_modified && j >= cond_from as usize;
            // Only these need the resident copy's version: the peek is a memory access.
            let resident = if self.guard_fills || self.versioned || validated {
                layer.peek(node, key).map(|(v, _)| v)
            } else {
                None
            };
            if self.guard_fills && resident.is_some_and(|v| v.wrapping_sub(version) as i32 > 0) {
                continue;
            }
            if validated && resident != Some(version) {
                // A 304 has no body: it refreshes a copy of its version, stores nothing.
                continue;
            }
            let expires = if key >= self.real_keys {
                match layer.negative_expiry(now) {
                    Some(e) => e,
                    None => continue,
                }
            } else {
                match rule.map(|r| (r.lifetime, r.revalidate)) {
                    None | Some((Lifetime::Layer, _)) => layer.expiry(now),
                    // Validated on every use: freshness does not matter.
                    Some((Lifetime::Header(_), true)) => SimTime::NEVER,
                    Some((Lifetime::Header(lifetime), false)) => {
                        let expires = born + lifetime;
                        if expires <= now {
                            // Arrived with no freshness left (its Age is past max-age).
                            continue;
                        }
                        expires
                    }
                }
            };
            let mut orphan_it = false;
            // The origin's version is read only when versions matter: it is a cold line
            // of a large array, and this runs on every answer.
            if self.versioned && resident.is_some_and(|v| v != version) {
                if version != self.db.version(key) {
                    // The current version is resident; an old one fills a key nobody
                    // reads, which the single-entry store cannot hold beside it.
                    continue;
                }
                // The old version's copy stays behind, unread.
                layer.orphan_at(node, key);
                if self.measure_from.is_some() {
                    self.m.layers[j].orphaned += 1;
                }
            } else if self.versioned && version != self.db.version(key) {
                orphan_it = true;
            }
            let meta = Meta {
                born,
                owner: client,
                size,
            };
            let evicted = layer.fill_with(node, key, version, expires, meta).evicted();
            self.m.layers[j].evictions += u64::from(evicted);
            if orphan_it {
                // Filled under its outdated version's key: a slot no read will use.
                layer.orphan_at(node, key);
                if self.measure_from.is_some() {
                    self.m.layers[j].orphaned += 1;
                }
            }
        }
        if self.defended {
            self.passed(req, key, version, from, upto, now);
        }
    }

    /// Request `req` is answered at `done` by layer `at` (the database if past the
    /// caches).
    fn complete(&mut self, req: u32, done: SimTime, at: usize) {
        // Fields, not a copy: see `special_fill`.
        let Request {
            measured,
            write,
            background,
            arrived,
            ..
        } = self.requests[req as usize];
        if self.http && measured && !write {
            self.count_bytes(req, at);
        }
        if measured && !write && !background {
            let latency = done - arrived;
            // Only the answering layer's histogram: the end-to-end one is their sum,
            // merged at the end, which saves a record per read.
            self.m.served_latency[at].record(latency);
            self.m.timeseries.completed(done, latency);
        }
        self.free.push(req);
    }

    /// Read `req`, answered by path position `at`, sent its body outward from there, or,
    /// answered 304, from the layer whose copy it validated.
    #[cold]
    fn count_bytes(&mut self, req: u32, at: usize) {
        let Request {
            size,
            not_modified,
            cond_from,
            from,
            ..
        } = self.requests[req as usize];
        let size = u64::from(size);
        let n = self.layers.len();
        let top = if not_modified {
            self.m.saved_bytes += size;
            cond_from as usize
        } else {
            at
        };
        let upto = if top == n {
            self.m.origin.bytes_sent += size;
            n
        } else {
            top + 1
        };
        for stats in &mut self.m.layers[from as usize..upto] {
            stats.bytes_sent += size;
        }
    }

    /// Simulated time moves on to `now`, the time of the next event.
    #[inline]
    fn advance(&mut self, now: SimTime) {
        self.clock = now;
        self.m.timeseries.close_before(now);
    }

    /// Adds the time since the last change to the origin's queue and busy integrals.
    #[inline]
    fn account_origin(&mut self, now: SimTime) {
        if self.measure_from.is_some() {
            let dt = (now - self.last_origin_change).as_nanos() as u128;
            self.m.origin.queue_area += dt * self.db.queue_len() as u128;
            self.m.origin.busy_area += dt * self.db.busy() as u128;
            self.last_origin_change = now;
        }
    }

    /// Prefetches the per-key state of the next requests' keys, all at once so their
    /// misses overlap: with a large key space, a request otherwise stalls on memory at
    /// every layer in turn (see [`crate::workload`]). Two passes: the index cells first,
    /// then, with those on their way or in, the entries they name.
    #[cold]
    fn read_ahead(&self, keys: &[u32]) {
        let mut regions = [0u16; crate::workload::KEY_BATCH];
        if self.clients.is_some() {
            for (r, &client) in regions.iter_mut().zip(&self.client_batch) {
                *r = self.plan.regions.of(client);
            }
        }
        for second in [false, true] {
            let batch = keys.iter().zip(&self.client_batch).zip(&regions);
            for ((&k, &client), &region) in batch {
                for layer in &self.layers[..self.read_ahead_layers] {
                    layer.prefetch(second, k, client, region);
                }
                if !second {
                    self.db.prefetch(k);
                    if self.http {
                        // The object's size, read at arrival.
                        crate::mem::prefetch::prefetch(&self.sizes, self.real_key(k) as usize);
                    }
                }
            }
        }
    }

    /// The event lane of the hop after layer `i` for a client in `region`, if it has
    /// one (else the hop goes to the heap).
    #[inline]
    fn hop_lane(&self, i: usize, region: u16) -> Option<usize> {
        self.hop_lane[i * self.regions + usize::from(region)]
    }

    /// A lookup at `layer` came out of a FIFO lane (a hop of constant latency, such as
    /// a CDN's round trip from one region): the lane's next lookups are known, so their
    /// state is prefetched in two stages, a software pipeline, each a few lane events
    /// ahead: the index cell of the lookup [`LANE_CELL_AHEAD`] behind the front, and the
    /// entry named by the cell of the one at the front (prefetched two turns ago).
    ///
    /// On the quickstart these are the shield's lookups, which stalled on memory more
    /// than anything else: prefetched when the hop is scheduled, tens of milliseconds
    /// of simulated time earlier, their lines have left the CPU's caches again, and one
    /// event ahead is too late. Alternating builds, this cut the run's user time by
    /// 4-5%; prefetching the outer layers that a hit would fill as well cost more than
    /// it saved.
    #[inline]
    fn prefetch_lane_ahead(&self, req: u32, layer: usize) {
        if layer < self.read_ahead_layers {
            return;
        }
        let region = self.requests[req as usize].region;
        let Some(lane) = self.hop_lane(layer - 1, region) else {
            return;
        };
        for (k, second) in [(LANE_CELL_AHEAD, false), (0, true)] {
            if let Some(&Event::Lookup { req, layer }) = self.events.lane_ahead(lane, k) {
                let r = &self.requests[req as usize];
                self.layers[layer as usize].prefetch(second, r.key, r.client, r.region);
            }
        }
    }

    /// The real key behind `key`: itself, or a missing key's twin, `key % real_keys`
    /// (a division, tens of cycles, which the common case skips).
    #[inline]
    fn real_key(&self, key: u32) -> u32 {
        if key < self.real_keys {
            key
        } else {
            key % self.real_keys
        }
    }

    /// `key`'s content class (a missing key's is its real twin's): 0 without classes.
    #[inline]
    fn class_of(&self, key: u32) -> u8 {
        if self.http {
            self.plan.workload.content.class_of(self.real_key(key))
        } else {
            0
        }
    }

    /// `key`'s size in bytes: 1 without content classes.
    #[inline]
    fn size_of(&self, key: u32) -> u32 {
        // Checked first: a plain run pays no division per request.
        if self.http {
            self.sizes[self.real_key(key) as usize]
        } else {
            1
        }
    }

    #[inline]
    fn alloc(&mut self, r: Request) -> u32 {
        match self.free.pop() {
            Some(i) => {
                self.requests[i as usize] = r;
                i
            }
            None => {
                self.requests.push(r);
                (self.requests.len() - 1) as u32
            }
        }
    }
}
