//! Integration tests: one binary, topic modules.
//!
//! - `theory`: the simulator against closed-form results of caching and queueing theory.
//! - `architecture`: the top-level modules import each other in no circle.
//! - `capacity`: `tiersim capacity` against M/M/1's closed form, the range's ends, bad
//!   flags, the same curve for any `--jobs`.
//! - `cli`: the real `tiersim` binary, run in temporary folders.
//! - `cluster`: sweeps split into shards and merged; `--backend slurm` against a real
//!   Slurm cluster on loopback (ignored by `cargo test`; `.ci/run` runs it).
//! - `engine`: invariants of whole runs (flow conservation, the herd, stops).
//! - `properties`: proptest invariants of the cache store.
//! - `stampede`: stampede defences, herd events and synchronized expiry against their models.
//! - `faults`: faults, write-back crashes, stale_if_error, versioned keys, tag purges, negative caching.
//! - `sweep`: grids in parallel, resume, confidence intervals.
//! - `plot`: every chart kind renders and is labelled.
//! - `http`: content classes: private content and leaks, no-cache and 304s, immutable,
//!   the Age along the path, byte capacities.
//! - `lab`: `tiersim lab` over HTTP on loopback; its page in headless Chromium via
//!   WebDriver (ignored by `cargo test`; `.ci/run` runs it).
//! - `load`: rate profiles' arrivals against ∫λ (chi-square), hot-set shifts and churn,
//!   LFU against LRU under churn, and the profile keys' errors.
//! - `overload`: the bounded queue against M/M/c/K, token buckets' rate and burst,
//!   CoDel against the unbounded queue, the overload measures adding up, bad values.
//! - `golden`: every scenario's output files and replays of the shared traces, byte for
//!   byte against `tests/golden/`.
//! - `path`: the whole path: two-tier TTL, a shield before many PoPs, balancers, rings, browsers.
//! - `outputs`: Ctrl-C during a run, the scenario's name as a folder, output folders
//!   checked before a run, the files' mode, error texts that say each cause once.
//! - `regression`: issue 16's crashes, hangs and runaway memory on their reported
//!   inputs; the memory estimate against the engine's own accounts.
//! - `counters`: issue 16's counters that add up: served shares, refreshes, herd events
//!   by bucket, the layer table's columns, bucket times without float noise.
//! - `lessons`: every scenario header's suggested variants and the README's commands
//!   show the direction they claim; immutable classes are never rewritten.
//! - `lessons_1_to_10`: the numbers lessons 1 to 10 and 20c of `scenarios/lessons/`
//!   tell a student, each against its model.
//! - `lessons_11_to_21`: the number each of lessons 11-19 and 21 (`scenarios/lessons/`)
//!   expects, against its model.
//! - `report`: the one-file HTML report: self-contained, escaped, every chart, the
//!   theory block and warnings of a fixture; headless Chromium loads it (ignored by
//!   `cargo test`; `.ci/run` runs it).
//! - `resilience`: the application's timeouts, retries with backoff and the circuit
//!   breaker against exact counts; the metastable retry storm and what stops it.
//! - `store`: the cache store seen from a scenario: custom policies, the browser store's
//!   capability check.
//! - `fuzz`: the fuzz harness (`fuzz/`) against fake binaries, and the real binary on its
//!   controls.

mod architecture;
mod capacity;
mod cli;
mod cluster;
mod counters;
mod engine;
mod faults;
mod fuzz;
mod golden;
mod http;
mod lab;
mod lessons;
mod lessons_11_to_21;
mod lessons_1_to_10;
mod load;
mod outputs;
mod overload;
mod path;
mod plot;
mod properties;
mod regression;
mod report;
mod resilience;
mod stampede;
mod steady;
mod store;
mod support;
mod sweep;
mod theory;
