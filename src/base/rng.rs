//! Seeded random streams: every stochastic part of a run draws from its own stream,
//! derived from the scenario seed and a fixed stream label.
//!
//! Separate streams give *common random numbers*: changing a layer's latency does not
//! change which keys the workload asks for, so two sweep points differ only where they
//! should. The generator is Xoshiro256++ from `rand_xoshiro`, whose output is fixed by
//! its specification, so a seed reproduces the same run on every platform and version.
//!
//! It names the streams' labels, not the parts of the model that draw from them.

use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::SeedableRng;

/// The generator every simulation stream uses.
pub type SimRng = Xoshiro256PlusPlus;

/// Labels of the independent streams of one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// Arrival gaps, keys and read/write choice.
    Workload,
    /// Database service times.
    Database,
    /// Latency samples and TTL jitter of the cache layer at this position.
    Layer(usize),
    /// Draws of the stampede defence of the cache layer at this position (`xfetch`).
    Stampede(usize),
    /// Which client sends each request (`workload.clients`): its own stream, so runs
    /// without browsers or a CDN draw nothing from it and stay as they were.
    Clients,
    /// The `random` load balancer of the cache layer at this position.
    Balancer(usize),
    /// Each key's object size (`workload.classes`).
    Sizes,
    /// The application's retry jitter (`[application]`).
    Application,
    /// Internal randomness of the eviction policy of layer `layer`, node `node`.
    Policy {
        /// Position of the layer in the path.
        layer: usize,
        /// Node within the layer.
        node: usize,
    },
}

impl Stream {
    fn label(self) -> u64 {
        match self {
            Stream::Workload => 1,
            Stream::Database => 2,
            Stream::Layer(i) => 0x100 + i as u64,
            Stream::Stampede(i) => 0x1_0000 + i as u64,
            Stream::Clients => 3,
            Stream::Sizes => 4,
            Stream::Application => 5,
            Stream::Balancer(i) => 0x2_0000 + i as u64,
            Stream::Policy { layer, node } => 0x1_0000_0000 + ((layer as u64) << 24) + node as u64,
        }
    }
}

/// SplitMix64's finaliser: a bijective mix with full avalanche.
pub const fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The generator for `stream` of a run seeded with `seed`.
///
/// ```
/// use rand_xoshiro::rand_core::Rng;
/// use tiersim::base::rng::{stream, Stream};
/// let mut a = stream(7, Stream::Workload);
/// let mut b = stream(7, Stream::Workload);
/// assert_eq!(a.next_u64(), b.next_u64());
/// assert_ne!(stream(7, Stream::Database).next_u64(), stream(8, Stream::Database).next_u64());
/// ```
pub fn stream(seed: u64, stream: Stream) -> SimRng {
    SimRng::seed_from_u64(mix64(seed ^ mix64(stream.label())))
}
