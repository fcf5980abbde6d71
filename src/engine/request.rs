//! Requests in flight, and the slab that holds them.
//!
//! A request is plain data: where it is on the path is the event that names it, and
//! what the features know about it (a flight it leads, a dirty key it will flush) is
//! kept by the features. Slots are reused, so a run allocates no request after its
//! first few thousand.

use std::ops::{Index, IndexMut};

use crate::SimTime;
use crate::scenario::MAX_CACHE_LAYERS;

/// A read or a write on its way along the path and back.
#[derive(Clone, Copy, Debug)]
pub(super) struct Request {
    pub arrived: SimTime,
    /// When it reached the origin, or began waiting at a defended layer.
    pub at_origin: SimTime,
    pub key: u32,
    /// For reads, the version the query read.
    pub version: u32,
    pub measured: bool,
    pub write: bool,
    /// A background refresh, not a client's read: no latency, no read counted.
    pub background: bool,
    /// The outermost layer its response fills: 0, or the layer that started a
    /// background refresh.
    pub from: u16,
    /// Its client's region (0 unless `workload.regions`).
    pub region: u16,
    /// The client that sent it (0 unless the path has a browser or a CDN).
    pub client: u32,
    /// The node it consulted at each multi-node cache layer, so its response fills
    /// that node (see [`crate::layer::topology`]); browsers use `client`.
    pub nodes: [u16; MAX_CACHE_LAYERS],
    /// The rest is for content classes ([`crate::layer::http`]) only.
    /// The object's size, bytes.
    pub size: u32,
    /// Its content class.
    pub class: u8,
    /// A reload: a browser revalidates its fresh copy (unless immutable).
    pub reload: bool,
    /// The outermost layer whose copy it validates inward ([`NO_VALIDATOR`] if none): a
    /// conditional request, carrying that copy's version as its ETag.
    pub cond_from: u8,
    /// The ETag (version) of that copy.
    pub validator: u32,
    /// Its answer is a 304: the validator is current, no body.
    pub not_modified: bool,
    /// When the origin generated the response it carries (its `Age` is `now - born`).
    pub born: SimTime,
}

/// [`Request::cond_from`] of a request that validates nothing.
pub(super) const NO_VALIDATOR: u8 = u8::MAX;

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
            nodes: [0; MAX_CACHE_LAYERS],
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

/// The requests in flight, by slot; freed slots are reused.
pub(super) struct Requests {
    slots: Vec<Request>,
    free: Vec<u32>,
}

impl Requests {
    /// Room for the usual number in flight.
    pub fn new() -> Self {
        Requests {
            slots: Vec::with_capacity(1024),
            free: Vec::with_capacity(1024),
        }
    }

    /// Stores `r` in a free slot and returns the slot.
    #[inline]
    pub fn alloc(&mut self, r: Request) -> u32 {
        match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = r;
                i
            }
            None => {
                self.slots.push(r);
                (self.slots.len() - 1) as u32
            }
        }
    }

    /// How many requests are in flight (background fetches too).
    pub fn in_flight(&self) -> usize {
        self.slots.len() - self.free.len()
    }

    /// Request `req` is done: its slot is free.
    #[inline]
    pub fn free(&mut self, req: u32) {
        self.free.push(req);
    }
}

impl Index<u32> for Requests {
    type Output = Request;

    #[inline]
    fn index(&self, req: u32) -> &Request {
        &self.slots[req as usize]
    }
}

impl IndexMut<u32> for Requests {
    #[inline]
    fn index_mut(&mut self, req: u32) -> &mut Request {
        &mut self.slots[req as usize]
    }
}

/// A response on its way out: request `req`'s answer, `version` of `key`, passing (and
/// filling) path positions `from..upto`.
#[derive(Clone, Copy, Debug)]
pub(super) struct Passing {
    pub req: u32,
    pub key: u32,
    pub version: u32,
    pub from: usize,
    pub upto: usize,
}

impl Passing {
    /// Request `req`'s answer, `version` of `key`, from position `upto` out to `from`
    /// (a request's `from` field: 0, or the layer that started a background refresh).
    #[inline]
    pub fn new(req: u32, key: u32, version: u32, from: u16, upto: usize) -> Self {
        Passing {
            req,
            key,
            version,
            from: usize::from(from),
            upto,
        }
    }
}

/// Request `req` (for `key`; `measured`: after warm-up) at layer `i` at `now`: what a
/// defended layer's detours need to know of a lookup.
#[derive(Clone, Copy, Debug)]
pub(super) struct Visit {
    pub req: u32,
    pub key: u32,
    pub measured: bool,
    pub i: usize,
    pub now: SimTime,
}
