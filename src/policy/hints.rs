//! Speed hints a policy may give the store that runs it: which of its state an access
//! to a slot will read, and which slot it will most likely evict next, so that both can
//! be prefetched ([`crate::mem::prefetch`]) while other requests are processed. They are
//! not what a policy *is* ([`Policy`]): a policy without hints loses speed, never
//! correctness, and the stores call them only where they read ahead.

use super::{Belady, Gdsf, Lfu, Lfuda, PerfectLfu, Policy, Random, Slot, Slru};

/// Prefetch hints of a policy. Both methods default to no hint.
pub trait PrefetchHints {
    /// Prefetches the state a [`touch`](Policy::touch) of `slot` will read. A store calls
    /// it ahead of the access; `slot` is a hint that may be stale or out of range, and
    /// must not panic.
    #[inline]
    fn prefetch(&self, slot: Slot) {
        let _ = slot;
    }

    /// The slot the next [`evict`](Policy::evict) will most likely choose, if the policy
    /// knows it cheaply (an LRU's or a FIFO's oldest entry).
    #[inline]
    fn next_victim(&self) -> Option<Slot> {
        None
    }
}

// Policies whose state is not worth prefetching ahead (or not cheaply located).
impl PrefetchHints for Belady {}
impl PrefetchHints for Gdsf {}
impl PrefetchHints for Lfu {}
impl PrefetchHints for Lfuda {}
impl PrefetchHints for PerfectLfu {}
impl PrefetchHints for Random {}
impl PrefetchHints for Slru {}

/// A policy written outside this crate gives no hints.
impl PrefetchHints for Box<dyn Policy + Send> {}
