//! Memory hints that make the hot paths faster without changing a result: software
//! prefetch of a slice element and huge pages for large blocks. The crate's only
//! `unsafe` lives here, behind safe functions; the measurements behind these hints are
//! in `docs/performance.md` ("mem").
//!
//! It knows memory, not what the simulator keeps in it: it names no other module.

pub mod hugepages;
pub mod prefetch;
