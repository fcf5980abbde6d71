//! The cache store: entries, their index and the fill protocol (admit, make room, evict,
//! bypass), one for every cache the simulator keeps: scenario layers, browsers and
//! replay. It knows policies, not layers, requests or the engine.

pub mod browser;
pub mod cache;
