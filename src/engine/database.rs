//! The origin database: `connections` servers working in parallel and a FIFO queue
//! behind them (an M/G/c queue), plus each key's current version.
//!
//! It owns the queue and the versions; it knows nothing of caches, requests' contents
//! or features (`write_back`'s durable versions are the engine's).
//!
//! A key's state is kept in an array over the key space up to a bound set by the run's
//! requests, and in a hash map above it: a run of n requests touches at most n keys, so
//! a key space far larger than the run (up to 4 billion keys) costs memory for the keys
//! it reaches, not for all of them. Zipf ranks put the popular keys low, in the array.

use std::collections::VecDeque;

use rustc_hash::FxHashMap;

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
    /// Per key below `keys.len()`: its version and its reads at the origin, side by
    /// side because a read that reaches the origin touches both, and with a large key
    /// space each separate array would cost its own cache miss.
    keys: Vec<KeyState>,
    /// The state of the keys above, once touched.
    sparse: FxHashMap<u32, KeyState>,
}

#[derive(Clone, Copy, Debug, Default)]
struct KeyState {
    version: u32,
    /// Reads of the key queued or in service.
    reads: u32,
}

/// Bytes of one key's state in the array.
pub const KEY_STATE_BYTES: u64 = std::mem::size_of::<KeyState>() as u64;

/// Bytes of one key's state in the hash map, as held at its fullest (hashbrown: the
/// entry and a control byte per bucket, at most 7/8 full, buckets a power of two), before
/// it grows again.
pub const SPARSE_KEY_BYTES: u64 = 2 * (std::mem::size_of::<(u32, KeyState)>() as u64 + 1) * 8 / 7;

/// Keys the array always covers (a key space this small is one array, 16 MiB at most).
pub const DENSE_KEYS_MIN: u32 = 1 << 21;

impl Database {
    /// An idle database over `keys` keys, all at version 0, in a run expected to make
    /// `requests` requests: the array covers the first `max(2 × requests, 2^21)` keys
    /// (twice: a missing key's id is `keys` above its rank's).
    pub fn new(plan: &DatabasePlan, keys: u32, requests: f64, rng: SimRng) -> Self {
        Database {
            connections: plan.connections,
            busy: 0,
            waiting: VecDeque::new(),
            service: plan.service.clone(),
            rng,
            keys: vec![KeyState::default(); Database::dense_keys(keys, requests) as usize],
            sparse: FxHashMap::default(),
        }
    }

    /// How many of `keys` keys the array covers, in a run of `requests` requests.
    pub fn dense_keys(keys: u32, requests: f64) -> u32 {
        let reach = (2.0 * requests).clamp(0.0, u32::MAX as f64) as u32;
        keys.min(reach.max(DENSE_KEYS_MIN))
    }

    /// `key`'s state, to change it.
    #[inline]
    fn state_mut(&mut self, key: u32) -> &mut KeyState {
        match self.keys.get_mut(key as usize) {
            Some(s) => s,
            None => self.sparse.entry(key).or_default(),
        }
    }

    /// Keys of the hash map (for memory reports and tests).
    pub fn sparse_keys(&self) -> usize {
        self.sparse.len()
    }

    /// Heap bytes of the key states: the array, and the hash map as allocated.
    pub fn key_bytes(&self) -> u64 {
        self.keys.capacity() as u64 * KEY_STATE_BYTES
            + self.sparse.capacity() as u64 * (std::mem::size_of::<(u32, KeyState)>() as u64 + 1)
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

    /// The query at the head of the queue, if any waits.
    pub fn head(&self) -> Option<u32> {
        self.waiting.front().copied()
    }

    /// Removes the query at the head of the queue without starting it (shed).
    pub fn remove_head(&mut self) {
        self.waiting.pop_front();
    }

    /// Whether every connection is serving a query.
    #[inline]
    pub fn all_busy(&self) -> bool {
        self.busy == self.connections
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
        let n = &mut self.state_mut(key).reads;
        *n += 1;
        *n
    }

    /// A read of `key` was served.
    #[inline]
    pub fn read_served(&mut self, key: u32) {
        self.state_mut(key).reads -= 1;
    }

    /// The current version of `key`.
    #[inline]
    pub fn version(&self, key: u32) -> u32 {
        match self.keys.get(key as usize) {
            Some(s) => s.version,
            None => self.sparse_version(key),
        }
    }

    #[cold]
    fn sparse_version(&self, key: u32) -> u32 {
        self.sparse.get(&key).map_or(0, |s| s.version)
    }

    /// Commits a write to `key`: its version moves on.
    #[inline]
    pub fn commit_write(&mut self, key: u32) -> u32 {
        let v = &mut self.state_mut(key).version;
        *v = v.wrapping_add(1);
        *v
    }
}
