//! The ground every other module stands on: simulated time, seeded random streams and
//! the validation error that names a scenario key. It knows nothing of caches.

pub mod invalid;
pub mod rng;
mod time;

pub use invalid::{Invalid, KeyPath, Seg};
pub use time::SimTime;
