//! The origin database: `connections` servers working in parallel and a FIFO queue
//! behind them (an M/G/c queue), plus each key's current version.
//!
//! It owns the queue and the versions; it knows nothing of caches, requests' contents
//! or features (`write_back`'s durable versions are the engine's).

use std::collections::VecDeque;

use crate::SimTime;
use crate::base::rng::SimRng;
use crate::layer::DatabasePlan;
use crate::layer::latency::Latency;

/// The database of one run. It queues request ids; the engine owns the requests.
#[derive(Debug)]
pub struct Database {
    connections: u32,
    busy: u32,
    waiting: VecDeque<u32>,
    service: Latency,
    rng: SimRng,
    /// Per key: its version and its reads at the origin, side by side because a read
    /// that reaches the origin touches both, and with a large key space each separate
    /// array would cost its own cache miss.
    keys: Vec<KeyState>,
}

#[derive(Clone, Copy, Debug, Default)]
struct KeyState {
    version: u32,
    /// Reads of the key queued or in service.
    reads: u32,
}

impl Database {
    /// An idle database over `keys` keys, all at version 0.
    pub fn new(plan: &DatabasePlan, keys: u32, rng: SimRng) -> Self {
        Database {
            connections: plan.connections,
            busy: 0,
            waiting: VecDeque::new(),
            service: plan.service.clone(),
            rng,
            keys: vec![KeyState::default(); keys as usize],
        }
    }

    /// A query arrives. If a connection is free it starts now and its service time is
    /// returned; otherwise it waits in the queue.
    #[inline]
    pub fn arrive(&mut self, req: u32) -> Option<SimTime> {
        if self.busy < self.connections {
            self.busy += 1;
            Some(self.service.sample(&mut self.rng))
        } else {
            self.waiting.push_back(req);
            None
        }
    }

    /// A query finished and its connection is free; the next waiting query, if any,
    /// starts now: returns it and its service time.
    #[inline]
    pub fn depart(&mut self) -> Option<(u32, SimTime)> {
        match self.waiting.pop_front() {
            Some(next) => Some((next, self.service.sample(&mut self.rng))),
            None => {
                self.busy -= 1;
                None
            }
        }
    }

    /// The service time if it is constant.
    pub fn constant_service(&self) -> Option<SimTime> {
        self.service.constant()
    }

    /// Queries waiting for a connection.
    pub fn queue_len(&self) -> usize {
        self.waiting.len()
    }

    /// Connections serving a query.
    pub fn busy(&self) -> u32 {
        self.busy
    }

    /// Prefetches `key`'s state, like [`Cache::prefetch_index`](crate::store::cache::Cache::prefetch_index).
    #[inline]
    pub fn prefetch(&self, key: u32) {
        crate::mem::prefetch::prefetch(&self.keys, key as usize);
    }

    /// A read of `key` reached the origin; returns how many reads of it are there now.
    #[inline]
    pub fn read_arrived(&mut self, key: u32) -> u32 {
        let n = &mut self.keys[key as usize].reads;
        *n += 1;
        *n
    }

    /// A read of `key` was served.
    #[inline]
    pub fn read_served(&mut self, key: u32) {
        self.keys[key as usize].reads -= 1;
    }

    /// The current version of `key`.
    #[inline]
    pub fn version(&self, key: u32) -> u32 {
        self.keys[key as usize].version
    }

    /// Commits a write to `key`: its version moves on.
    #[inline]
    pub fn commit_write(&mut self, key: u32) -> u32 {
        let v = &mut self.keys[key as usize].version;
        *v = v.wrapping_add(1);
        *v
    }
}
