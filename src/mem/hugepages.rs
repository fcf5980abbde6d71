//! An allocator that asks the kernel to back large blocks with huge pages.
//!
//! The simulator's large arrays are read at random across tens or hundreds of
//! megabytes, and a 2 MiB page spares most of the TLB misses of 4 KiB ones (why and how
//! much: `docs/performance.md`, "mem"). [`HugePages`] marks every block of 4 MiB or more
//! with `madvise(MADV_HUGEPAGE)` as it is allocated or grown, before it is first
//! written; Linux's transparent huge pages then back it (most distributions enable them
//! for marked memory: `/sys/kernel/mm/transparent_hugepage/enabled` reads `madvise`).
//! Smaller blocks, and every other system, get the system allocator unchanged. It
//! changes how memory is backed, never what a run computes, and it knows no other
//! module.
//!
//! The `tiersim` binary and the benchmarks install it:
//!
//! ```
//! #[global_allocator]
//! static ALLOC: tiersim::mem::hugepages::HugePages = tiersim::mem::hugepages::HugePages;
//!
//! let v = vec![7u32; 3_000_000];
//! assert!(v.iter().all(|&x| x == 7));
//! ```

use std::alloc::{GlobalAlloc, Layout, System};

/// The system allocator, with huge pages asked for on large blocks.
#[derive(Clone, Copy, Debug, Default)]
pub struct HugePages;

/// Blocks smaller than this are left alone: they span few huge pages, if any.
const MIN_BYTES: usize = 4 << 20;

/// A transparent huge page on x86-64 and AArch64 Linux.
const HUGE_PAGE: usize = 2 << 20;

// The crate's other `unsafe` (see `crate::mem::prefetch`): a global allocator's methods are
// `unsafe` by the trait's contract. Each forwards to `System` under the same contract
// and only adds an advice call on the block `System` returned.
#[allow(unsafe_code)]
// SAFETY: every method forwards to `System` with the caller's arguments, so `System`'s
// guarantees hold; `advise` never changes a block's contents, size or alignment.
unsafe impl GlobalAlloc for HugePages {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded under this method's own contract.
        let p = unsafe { System.alloc(layout) };
        advise(p, layout.size());
        p
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded under this method's own contract.
        let p = unsafe { System.alloc_zeroed(layout) };
        advise(p, layout.size());
        p
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded under this method's own contract.
        unsafe { System.dealloc(ptr, layout) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded under this method's own contract.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        advise(p, new_size);
        p
    }
}

/// Asks for huge pages over the whole 2 MiB pages inside the `len` bytes at `start`,
/// if the block is large.
#[inline]
fn advise(start: *mut u8, len: usize) {
    if len >= MIN_BYTES && !start.is_null() {
        let first = (start as usize).next_multiple_of(HUGE_PAGE);
        let end = (start as usize + len) / HUGE_PAGE * HUGE_PAGE;
        if first < end {
            huge_pages(first, end - first);
        }
    }
}

#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn huge_pages(start: usize, len: usize) {
    // SAFETY: `MADV_HUGEPAGE` changes only how the kernel backs the range, never its
    // contents or who may access it, and the range is page aligned inside one live
    // block. A failure (a kernel without transparent huge pages) leaves small pages.
    unsafe {
        libc::madvise(start as *mut libc::c_void, len, libc::MADV_HUGEPAGE);
    }
}

#[cfg(not(target_os = "linux"))]
fn huge_pages(_: usize, _: usize) {}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    /// The `VmFlags` of the mapping that holds `addr`, from `/proc/self/smaps`.
    fn vm_flags(addr: usize) -> Option<String> {
        let smaps = std::fs::read_to_string("/proc/self/smaps").ok()?;
        let mut inside = false;
        for line in smaps.lines() {
            if let Some((range, _)) = line.split_once(' ')
                && let Some((lo, hi)) = range.split_once('-')
                && let (Ok(lo), Ok(hi)) =
                    (usize::from_str_radix(lo, 16), usize::from_str_radix(hi, 16))
            {
                inside = lo <= addr && addr < hi;
            } else if inside && let Some(flags) = line.strip_prefix("VmFlags:") {
                return Some(flags.trim().to_string());
            }
        }
        None
    }

    #[test]
    #[allow(unsafe_code)]
    fn large_blocks_are_marked_and_keep_their_contents() {
        if !std::path::Path::new("/sys/kernel/mm/transparent_hugepage/enabled").exists() {
            eprintln!("this kernel has no transparent huge pages: nothing to mark");
            return;
        }
        let layout = Layout::from_size_align(16 << 20, 8).unwrap();
        // SAFETY: a non-zero layout; the block is written and read within its size,
        // grown with the layout it was allocated with, and freed once.
        unsafe {
            let p = HugePages.alloc(layout);
            assert!(!p.is_null());
            let flags = vm_flags(p as usize + (8 << 20)).expect("the block is mapped");
            assert!(
                flags.split(' ').any(|f| f == "hg"),
                "no MADV_HUGEPAGE on the block: {flags}"
            );
            p.add(12345).write(42);
            let q = HugePages.realloc(p, layout, 32 << 20);
            assert!(!q.is_null());
            assert_eq!(q.add(12345).read(), 42, "growing keeps the contents");
            let flags = vm_flags(q as usize + (24 << 20)).expect("the grown block is mapped");
            assert!(flags.split(' ').any(|f| f == "hg"), "grown block: {flags}");
            HugePages.dealloc(q, Layout::from_size_align(32 << 20, 8).unwrap());
        }
    }
}
