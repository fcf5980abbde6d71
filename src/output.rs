//! What a run leaves behind: the report (`summary.json`, `layers.csv`,
//! `timeseries.csv`, `latency.csv`, the terminal table) and the charts drawn from those
//! files. It reads measurements; it never runs a simulation.

pub mod plot;
pub mod report;
