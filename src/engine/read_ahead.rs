//! Read-ahead: prefetching the state that requests will touch soon, and the FIFO lanes
//! of the event queue that make "soon" known.
//!
//! With a large key space the caches' indexes, their entries and the database's key
//! state are far larger than the CPU's caches, and a request would stall on memory at
//! every stop. So the engine prefetches ahead of use: a batch of arrivals' keys at
//! once ([`ReadAhead::batch`]), the next layer's state when a hop is scheduled or
//! passes through an instant layer, and the lookups a lane will deliver a few events
//! ahead ([`ReadAhead::lane_ahead`]). Prefetching changes speed, never results. The
//! measurements behind each choice are in `docs/performance.md`.
//!
//! It owns the per-layer tables (which layers are read ahead with the arrivals, which
//! pass their misses through at once, which hop goes to which lane) and the clients
//! drawn ahead with a batch of keys; it knows nothing of features.

use crate::SimTime;
use crate::base::rng::SimRng;
use crate::engine::database::Database;
use crate::engine::event::Event;
use crate::engine::http::Http;
use crate::engine::queue::EventQueue;
use crate::engine::request::Requests;
use crate::layer::Layer;
use crate::layer::topology::Regions;
use crate::workload::KEY_BATCH;

/// How far behind its lane's front a lookup's index cell is prefetched
/// (see [`ReadAhead::lane_ahead`]).
const LANE_CELL_AHEAD: usize = 2;

/// A round trip this short is over within the same stretch of the event loop: the
/// layers before the first slower one are read ahead with the arrivals' keys, and a
/// layer this fast passes its misses on at once (see [`ReadAhead::passing`]).
const INSTANT: SimTime = SimTime::from_nanos(100_000);

/// The event-queue lane of the one pending arrival.
pub(super) const ARRIVAL_LANE: usize = 0;

/// What is prefetched when, and the event lanes of the hops.
pub(super) struct ReadAhead {
    /// The cache layers whose state is prefetched with a batch of keys: those a request
    /// reaches soon after it arrives. A layer behind a slow or variable round trip is
    /// prefetched when its hop is scheduled instead, and again from its lane.
    layers: usize,
    /// Per layer past `layers`: whether a request that misses there goes on to the next
    /// layer at once (a constant round trip under [`INSTANT`]), so the next layer's
    /// state is prefetched with this one's.
    pass_through: Vec<bool>,
    /// For each cache layer of constant latency, the FIFO lane of the event queue that
    /// the hop after it goes to, rather than the heap (see `queue`); for a layer whose
    /// latency is constant within each region (a CDN's round trip by region), a lane
    /// per region. Lane 0 holds the next arrival. Only constant sources get a lane, and
    /// a layer that takes no time none, as a pop from a lane scans every lane's front.
    /// Read through [`ReadAhead::hop_lane`].
    hop_lane: Vec<Option<usize>>,
    /// Regions of the plan, at least 1.
    regions: usize,
    /// The lane of `Served` events, if the database's service time is constant.
    served_lane: Option<usize>,
    /// Lanes in all.
    lanes: usize,
}

impl ReadAhead {
    /// The tables for a path of `layers` before `db`, clients in `regions` regions.
    pub fn new(layers: &[Layer], db: &Database, regions: usize) -> Self {
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
        let mut lanes = ARRIVAL_LANE + 1;
        let mut lane_if = |constant: bool| {
            constant.then(|| {
                lanes += 1;
                lanes - 1
            })
        };
        // A lane per layer of constant latency, or per region where its round trip
        // depends on the client's region (a CDN's `rtt_ms`).
        let regions = regions.max(1);
        let mut hop_lane = Vec::with_capacity(n * regions);
        for l in layers {
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
        ReadAhead {
            layers: read_ahead_layers,
            pass_through,
            hop_lane,
            regions,
            served_lane,
            lanes,
        }
    }

    /// The event queue's lanes in all.
    pub fn lanes(&self) -> usize {
        self.lanes
    }

    /// The event lane of the hop after layer `i` for a client in `region`, if it has
    /// one (else the hop goes to the heap).
    #[inline]
    pub fn hop_lane(&self, i: usize, region: u16) -> Option<usize> {
        self.hop_lane[i * self.regions + usize::from(region)]
    }

    /// The lane of `Served` events, if any.
    #[inline]
    pub fn served_lane(&self) -> Option<usize> {
        self.served_lane
    }

    /// Prefetches the per-key state of the next requests' keys, all at once so their
    /// misses overlap (see [`crate::workload`]). Two passes: the index cells first,
    /// then, with those on their way or in, the entries they name.
    #[cold]
    pub fn batch(
        &self,
        keys: &[u32],
        clients: &Clients,
        regions: &Regions,
        layers: &[Layer],
        db: &Database,
        http: &Http<'_>,
    ) {
        let mut in_region = [0u16; KEY_BATCH];
        if clients.rng.is_some() {
            for (r, &client) in in_region.iter_mut().zip(&clients.batch) {
                *r = regions.of(client);
            }
        }
        for second in [false, true] {
            let batch = keys.iter().zip(&clients.batch).zip(&in_region);
            for ((&k, &client), &region) in batch {
                for layer in &layers[..self.layers] {
                    layer.prefetch(second, k, client, region);
                }
                if !second {
                    db.prefetch(k);
                    // The object's size, read at arrival.
                    http.prefetch_size(k);
                }
            }
        }
    }

    /// A request is about to consult layer `i`: if the layer passes misses through at
    /// once, the next layer's entry is prefetched (its cell was when the hop to `i` was
    /// scheduled).
    #[inline(always)]
    pub fn passing(&self, layers: &[Layer], i: usize, key: u32, client: u32, region: u16) {
        if self.pass_through[i] {
            layers[i + 1].prefetch(true, key, client, region);
        }
    }

    /// A hop to layer `i` was scheduled: a layer not read ahead with the arrivals gets
    /// its index cell prefetched now, and so does the one it passes through to.
    #[inline(always)]
    pub fn hop_scheduled(&self, layers: &[Layer], i: usize, key: u32, client: u32, region: u16) {
        if i >= self.layers {
            layers[i].prefetch(false, key, client, region);
            if self.pass_through[i] {
                layers[i + 1].prefetch(false, key, client, region);
            }
        }
    }

    /// A lookup of request `req` at `layer` came out of a FIFO lane (a hop of constant
    /// latency): the lane's next lookups are known, so their state is prefetched in two
    /// stages, a software pipeline, each a few lane events ahead: the index cell of the
    /// lookup [`LANE_CELL_AHEAD`] behind the front, and the entry named by the cell of
    /// the one at the front (prefetched two turns ago).
    #[inline(always)]
    pub fn lane_ahead(
        &self,
        events: &EventQueue<Event>,
        requests: &Requests,
        layers: &[Layer],
        req: u32,
        layer: usize,
    ) {
        if layer < self.layers {
            return;
        }
        let region = requests[req].region;
        let Some(lane) = self.hop_lane(layer - 1, region) else {
            return;
        };
        for (k, second) in [(LANE_CELL_AHEAD, false), (0, true)] {
            if let Some(&Event::Lookup { req, layer }) = events.lane_ahead(lane, k) {
                let r = &requests[req];
                layers[layer as usize].prefetch(second, r.key, r.client, r.region);
            }
        }
    }
}

/// The clients of the next requests, drawn ahead with each batch of keys so that their
/// state is prefetched with the keys'.
pub(super) struct Clients {
    /// Draws each request's client, when some layer's node depends on it.
    rng: Option<SimRng>,
    /// Clients in all: each is drawn among `0..clients`.
    clients: u32,
    /// One per key of the workload's batch; `batch[next..]` are still to be used.
    batch: [u32; KEY_BATCH],
    next: usize,
}

impl Clients {
    /// Clients drawn from `rng` among `clients`, if the path needs them (else every
    /// request is client 0).
    pub fn new(rng: Option<SimRng>, clients: u32) -> Self {
        Clients {
            rng,
            clients,
            batch: [0; KEY_BATCH],
            // Empty: a workload that draws no batch of keys (a trace) still gets its
            // clients drawn, a batch at a time, by `next`.
            next: KEY_BATCH,
        }
    }

    /// A new batch of keys: draws their clients (in order, from their own stream, so
    /// each request's client is what one draw per request gives).
    #[inline]
    pub fn draw(&mut self) {
        if let Some(rng) = &mut self.rng {
            for c in &mut self.batch {
                *c = crate::layer::topology::bucket(rand::Rng::next_u64(rng), self.clients);
            }
            self.next = 0;
        }
    }

    /// The next request's client and its region (both 0 without clients).
    #[inline]
    pub fn next(&mut self, regions: &Regions) -> (u32, u16) {
        if self.rng.is_some() {
            // Only a trace's requests, which come without a batch of keys, get here
            // with the batch used up.
            if self.next == KEY_BATCH {
                self.draw();
            }
            let c = self.batch[self.next];
            self.next += 1;
            (c, regions.of(c))
        } else {
            (0, 0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::rng::{Stream, stream};

    /// A trace's requests come without a batch of keys, so `draw` is never called: the
    /// clients are still drawn, a batch at a time, past the first batch (this indexed
    /// out of bounds at the 33rd request) and not all client 0.
    #[test]
    fn clients_are_drawn_without_a_batch_of_keys() {
        let regions = Regions {
            names: vec!["a".into(), "b".into()],
            first: vec![0, 50, 100],
        };
        let mut clients = Clients::new(Some(stream(1, Stream::Clients)), 100);
        let drawn: Vec<(u32, u16)> = (0..3 * KEY_BATCH + 5)
            .map(|_| clients.next(&regions))
            .collect();
        assert!(
            drawn
                .iter()
                .all(|&(c, r)| c < 100 && r == u16::from(c >= 50))
        );
        // 101 uniform draws among 100 clients: all in one region has probability 2^-100.
        assert!(drawn.iter().any(|&(_, r)| r == 0) && drawn.iter().any(|&(_, r)| r == 1));
        let mut none = Clients::new(None, 100);
        assert_eq!(none.next(&regions), (0, 0));
    }
}
