//! Memory hints that make the hot paths faster without changing a result: software
//! prefetch of a slice element and huge pages for large blocks. The crate's only
//! `unsafe` lives here; the figures behind these hints are in `docs/performance.md`.

pub mod hugepages;
pub mod prefetch;
