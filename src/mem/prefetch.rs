//! Software prefetch: a hint that asks the CPU to start loading the cache line holding
//! an element, so a later read of it finds the line in cache instead of stalling on
//! memory. The hot loops know their next keys a batch ahead ([`crate::workload`],
//! [`crate::replay`]), so the misses of a whole batch overlap (`docs/performance.md`).
//!
//! This module and [`crate::mem::hugepages`] hold the crate's only `unsafe`:
//! `std::hint::prefetch_read` is not stable yet, and the x86 intrinsic takes a raw
//! pointer. The functions here take a slice and an index, so callers stay safe. It
//! knows slices and indexes, not what they hold.

/// Starts loading the cache line of `slice[i]` into every cache level. An index out of
/// range is ignored, as any hint may be: nothing is read and nothing can fault.
///
/// ```
/// let keys = vec![7u32; 1024];
/// tiersim::mem::prefetch::prefetch(&keys, 900);
/// tiersim::mem::prefetch::prefetch(&keys, 5000); // out of range: a no-op
/// assert_eq!(keys[900], 7);
/// ```
#[inline(always)]
pub fn prefetch<T>(slice: &[T], i: usize) {
    if i < slice.len() {
        line(slice.as_ptr().wrapping_add(i));
    }
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
#[allow(unsafe_code)]
fn line<T>(p: *const T) {
    use std::arch::x86_64::{_MM_HINT_T0, _mm_prefetch};
    // SAFETY: `prefetcht0` only hints the cache hierarchy: it never faults, whatever the
    // address, writes nothing and changes no value a later load returns; `p` points
    // into a live slice besides. SSE is part of the x86_64 baseline.
    unsafe { _mm_prefetch::<_MM_HINT_T0>(p.cast()) }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
fn line<T>(_: *const T) {}
