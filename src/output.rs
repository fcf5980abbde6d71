//! What a run leaves behind: the report (`summary.json`, `layers.csv`,
//! `timeseries.csv`, `latency.csv`, the terminal table) and the charts drawn from those
//! files, and the one-file HTML report (`html`). It reads measurements; it never runs a
//! simulation.

pub mod html;
pub mod plot;
pub mod report;
