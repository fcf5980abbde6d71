//! Integration tests: one binary, topic modules.
//!
//! - `theory`: the simulator against closed-form results of caching and queueing theory.
//! - `cli`: the real `tiersim` binary, run in temporary folders.

mod cli;
mod support;
mod theory;
