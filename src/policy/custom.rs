//! Policies written outside this crate: a type implementing [`Policy`], named and built
//! by code, that a scenario built from code can run ([`PolicySpec::Custom`]).

use std::fmt;
use std::sync::Arc as Shared;

use super::{Access, Capacity, Policy, PolicySpec, Slot};

/// What builds a custom policy for a cache of a given [`Capacity`], from a seed.
pub type BuildCustom = dyn Fn(Capacity, u64) -> Box<dyn Policy + Send> + Send + Sync;

/// A policy from code: its name, as reports and `Display` give it, and how to build it
/// for each cache that runs it. It cannot come from a scenario file, which names only
/// the built-in policies ([`PolicySpec::NAMES`]); it serializes as its name.
///
/// ```
/// use tiersim::policy::{Access, CustomPolicy, Lru, Policy, PolicySpec, Slot};
///
/// /// An LRU under another name.
/// struct Mine(Lru);
/// impl Policy for Mine {
///     fn insert(&mut self, slot: Slot, access: &Access) { self.0.insert(slot, access) }
///     fn touch(&mut self, slot: Slot, access: &Access) { self.0.touch(slot, access) }
///     fn evict(&mut self, incoming: &Access) -> Slot { self.0.evict(incoming) }
///     fn remove(&mut self, slot: Slot) { self.0.remove(slot) }
/// }
///
/// let spec = PolicySpec::Custom(CustomPolicy::new("mine", |_, _| Box::new(Mine(Lru::default()))));
/// assert_eq!(spec.to_string(), "mine");
/// let mut policy = spec.build(10, 0);
/// policy.insert(0, &Access::key(7));
/// assert_eq!(policy.evict(&Access::key(8)), 0);
/// ```
#[derive(Clone)]
pub struct CustomPolicy {
    name: &'static str,
    build: Shared<BuildCustom>,
}

impl CustomPolicy {
    /// A policy called `name`, each cache's instance made by `build` from the cache's
    /// capacity and a seed for any randomness.
    pub fn new(
        name: &'static str,
        build: impl Fn(Capacity, u64) -> Box<dyn Policy + Send> + Send + Sync + 'static,
    ) -> Self {
        CustomPolicy {
            name,
            build: Shared::new(build),
        }
    }

    /// Its name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// A new instance for a cache of `capacity`.
    pub fn build(&self, capacity: Capacity, seed: u64) -> Box<dyn Policy + Send> {
        (self.build)(capacity, seed)
    }
}

impl fmt::Debug for CustomPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CustomPolicy")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The same name and the same builder.
impl PartialEq for CustomPolicy {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
            && std::ptr::addr_eq(Shared::as_ptr(&self.build), Shared::as_ptr(&other.build))
    }
}

impl From<CustomPolicy> for PolicySpec {
    fn from(custom: CustomPolicy) -> Self {
        PolicySpec::Custom(custom)
    }
}

/// A boxed policy is a policy: what [`AnyPolicy::Custom`](super::AnyPolicy::Custom) runs.
impl<P: Policy + ?Sized> Policy for Box<P> {
    #[inline]
    fn insert(&mut self, slot: Slot, access: &Access) {
        (**self).insert(slot, access)
    }
    #[inline]
    fn touch(&mut self, slot: Slot, access: &Access) {
        (**self).touch(slot, access)
    }
    #[inline]
    fn evict(&mut self, incoming: &Access) -> Slot {
        (**self).evict(incoming)
    }
    #[inline]
    fn remove(&mut self, slot: Slot) {
        (**self).remove(slot)
    }
    fn heap_bytes(&self) -> Option<usize> {
        (**self).heap_bytes()
    }
    #[inline]
    fn admit(&mut self, incoming: &Access, full: bool) -> bool {
        (**self).admit(incoming, full)
    }
    #[inline]
    fn makes_room(&self) -> bool {
        (**self).makes_room()
    }
    #[inline]
    fn make_room(&mut self, incoming: &Access) -> bool {
        (**self).make_room(incoming)
    }
    #[inline]
    fn take_evicted(&mut self) -> Option<Slot> {
        (**self).take_evicted()
    }
}
