//! # tiersim
//!
//! A discrete-event simulator of cache hierarchies. A request leaves a client and walks
//! a path of cache layers, outermost first, until one of them holds a fresh copy or it
//! reaches the database; the response fills the layers it passes on the way back.
//!
//! ```text
//!  client ──▶ in_process (L1) ──miss──▶ redis ──miss──▶ database (connections + queue)
//!    ▲              │ hit                 │ hit                │
//!    └──────────────┴─────────────────────┴────────────────────┘  response fills the
//!                                                                  layers it passes
//! ```
//!
//! Simulated time is integer nanoseconds ([`SimTime`]); events due at the same instant
//! run in the order they were scheduled, and every random draw comes from a stream
//! seeded by the scenario ([`base::rng`]), so a scenario and a seed give the same bytes out.
//!
//! The pipeline, module by module:
//!
//! | step | module |
//! |---|---|
//! | read a TOML/JSON file, apply `--set`, validate into a [`scenario::Plan`] | [`scenario`] |
//! | generate requests: Zipf or uniform keys, Poisson arrivals, writes | [`workload`] |
//! | run the events | [`engine`] |
//! | each layer: a [`store::Store`] of nodes, a [`policy`], a TTL, a [`layer::latency`] | [`layer`], [`store`], [`policy`] |
//! | a layer's nodes and how a request picks one (regions, PoPs, load balancer, hash ring) | [`layer::topology`] |
//! | one small private cache per client, in one arena | [`store::browser`] |
//! | stampede defences of a cache layer (coalesce, lock, stale-while-revalidate, ...) | [`layer::stampede`] |
//! | write strategies (cache-aside, write-through, write-back, write-around) and invalidation | [`workload::write`] |
//! | layers down for a window: skip or fail, crashes, lost writes | [`scenario::fault`] |
//! | the origin's connection pool and queue | [`engine::database`] |
//! | counters, histograms, the time series | [`metrics`] |
//! | `summary.json`, `layers.csv`, `timeseries.csv`, the terminal table | [`output::report`] |
//! | closed-form models beside the simulation (Che, TTL, Erlang C), or the assumption that fails | [`theory`] |
//! | a grid of runs in parallel, with replications and confidence intervals | [`sweep`] |
//! | charts from those files, PNG and SVG | [`output::plot`] |
//! | read trace files (csv, oracle_general, arc_lis, lirs, twitter, webcachesim; gz/zst) | [`trace`] |
//! | replay a trace through one cache per (policy, size): `replay.csv` | [`replay`] |
//! | the live lab page: controls, short runs, its HTTP server (`tiersim lab`) | [`lab`] |
//! | memory hints for speed: software prefetch, huge pages for large blocks | [`mem::prefetch`], [`mem::hugepages`] |
//!
//! ```
//! use tiersim::scenario::{Override, Source};
//!
//! let set = [Override::parse("requests=50000").unwrap(), Override::parse("warmup_requests=5000").unwrap()];
//! let (_, plan) = Source::quickstart().plan(&set).unwrap();
//! let report = tiersim::simulate(&plan);
//! let l1 = &report.layers[0];
//! assert_eq!(l1.hits + l1.misses, l1.requests);
//! assert!(report.latency_ms.p99 >= report.latency_ms.p50);
//! ```
//!
//! Worked programs that end in assertions are in `examples/` (`examples/README.md`):
//! embedding a scenario, replaying a trace, a policy of your own.

#![warn(missing_docs)]

pub mod base;
pub mod engine;
pub mod lab;
pub mod layer;
pub mod mem;
pub mod metrics;
pub mod output;
pub mod policy;
pub mod replay;
pub mod scenario;
pub mod store;
pub mod sweep;
pub mod theory;
pub mod trace;
pub mod workload;

pub use base::SimTime;

use std::sync::atomic::AtomicBool;

use engine::{Ending, Engine, Progress};
use output::report::Report;
use scenario::Plan;

/// Runs `plan` to the end and reports: the engine's measurements made into a
/// [`Report`].
pub fn simulate(plan: &Plan) -> Report {
    simulate_with_progress(plan, |_| {})
}

/// [`simulate`], calling `progress` every few thousand requests (for progress bars).
pub fn simulate_with_progress(plan: &Plan, progress: impl FnMut(Progress)) -> Report {
    Report::new(plan, Engine::new(plan).run(progress))
}

/// [`simulate_with_progress`], stopping early once `stop` is set (the command line sets
/// it on Ctrl-C): the report then covers the requests that arrived before the stop,
/// each followed to its end, and says so ([`Report::complete`] is false).
///
/// ```
/// use std::sync::atomic::AtomicBool;
/// use tiersim::scenario::Source;
///
/// let (_, plan) = Source::quickstart().plan(&[]).unwrap();
/// let report = tiersim::simulate_until(&plan, &AtomicBool::new(true), |_| {});
/// assert!(!report.complete);
/// assert_eq!(report.requests, 0);
/// ```
pub fn simulate_until(plan: &Plan, stop: &AtomicBool, progress: impl FnMut(Progress)) -> Report {
    let (measured, ending) = Engine::new(plan).run_until(stop, progress);
    let mut report = Report::new(plan, measured);
    report.complete = ending == Ending::Complete;
    report
}

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
