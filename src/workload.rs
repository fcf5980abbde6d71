//! The workload: which key each request asks for, when it arrives, and whether it writes.
//!
//! Arrivals are Poisson at `rate`, a number or a profile over time (then a
//! non-homogeneous Poisson process, [`profile`]); keys follow Zipf(alpha) over `keys`
//! ranks (key 0 is the most popular) or are uniform, and the ranking may drift over the
//! run ([`drift`]). Requests are generated lazily, one at a time, so a
//! run of any length holds one pending arrival.
//!
//! Or the requests come from a trace (`trace = { path, format }`), so a real workload
//! drives the whole hierarchy. Resolving the scenario reads the trace once: it checks
//! every record and maps the trace's ids to dense keys `0..n` in order of first
//! appearance (the caches index their arrays by dense key, so `n` must be known before
//! the run). The run then streams it a second time through the same file handle:
//! - arrival times follow the timestamps, times `time_unit_s` (default 1 s, the unit of
//!   `oracle_general` and `twitter`), shifted so the first request arrives at 0.
//!   Requests with equal timestamps arrive together; a timestamp older than the one
//!   before it arrives at once. With `rate` set, arrivals are Poisson at that rate
//!   instead (for traces without real timestamps: `arc_lis`, `lirs`);
//! - reads are reads; writes and deletes are writes (a write reaches the database and
//!   removes the key from every cache layer);
//! - object sizes and trace TTLs are not used yet: scenario capacities count entries,
//!   and each layer's `ttl_s` decides expiry;
//! - the run ends with the trace, or earlier at `requests` or `duration_s`;
//! - `csv` traces use the default columns (key in column 1, no header, no timestamps).
//!
//! A sweep resolves each point, and so reads the trace once per point to index it.
//!
//! | concept | module |
//! |---|---|
//! | the `[workload]` table, its validation, the [`WorkloadPlan`] | [`spec`] |
//! | the alias table that draws Zipf ranks, and the memo of Zipf tables | [`alias`] |
//! | the runtime generator: [`Workload`], [`Op`], keys drawn [`KEY_BATCH`] ahead | [`generator`] |
//! | the second pass over a trace that drives a run | `trace_feed` |
//! | write strategies and invalidation | [`write`](mod@write) |
//! | `workload.rate` as a profile over time, and arrivals drawn by thinning | [`profile`] |
//! | classes' own rates (`workload.class_rates`), merged with the workload's stream | [`generator`] |
//! | popularity that drifts: hot-set shifts and churn of the top ranks | [`drift`] |
//!
//! Keys are drawn a batch ahead so that their memory reads overlap
//! (`docs/performance.md`, "workload").
//!
//! The workload knows the trace readers and the content classes it draws keys by; it
//! does not know the caches, the engine or the scenario file that holds its table.

pub mod alias;
pub mod drift;
pub mod generator;
pub mod profile;
pub mod spec;
mod trace_feed;
pub mod write;

pub use alias::{AliasTable, ZipfTables};
pub use generator::{KEY_BATCH, Op, Workload};
pub use spec::{MAX_KEYS, PopularitySpec, TracePlan, TraceSpec, WorkloadPlan, WorkloadSpec};
