//! The events of a run: what happens next, and to which request.
//!
//! An event names requests by their slot in the slab ([`super::request`]) and layers by
//! their path position; it carries no feature state.

/// Something due at a moment of simulated time.
#[derive(Clone, Copy, Debug)]
pub(super) enum Event {
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
    /// The deadline of call `call` of request `req` (`application.timeout_ms`); stale if
    /// that call has ended (see `resilience`).
    Timeout { req: u32, call: u32 },
    /// Request `req` calls the database again (`application.retries`).
    Retry { req: u32 },
}
