//! HTTP semantics at run time: each layer's rule for each content class, each key's
//! size and class, and what a copy, a fill or the origin does under them.
//!
//! The rules themselves (who stores, which header gives the freshness, what
//! revalidates) are derived in [`crate::layer::http`], which owns the spec. This module
//! owns the run's table of them and its decisions: a fresh copy revalidates inward or
//! answers ([`OnHit`]: a 304 or not, a leak or not), a response stored at a layer lives
//! until when ([`Freshness`]), the origin answers 304 or not, and which layers a
//! response's bytes crossed. It does not know events or the walk: the engine sends a
//! request on, fills and counts on its word.

use crate::SimTime;
use crate::base::rng::{Stream, stream};
use crate::engine::measure::Measured;
use crate::engine::request::{NO_VALIDATOR, Request};
use crate::layer::http::{Content, Lifetime, Rule};
use crate::scenario::Plan;
use crate::store::cache::Meta;

/// The content classes of a run (inactive without classes: every key one byte, class 0).
pub(super) struct Http<'p> {
    /// Whether the workload has classes: HTTP semantics apply.
    pub active: bool,
    content: &'p Content,
    /// Each key's size (empty without classes).
    sizes: Vec<u32>,
    /// Layer `i`'s rule for class `c` at `i * classes + c`.
    rules: Vec<Rule>,
    classes: usize,
    /// Keys `0..real_keys` exist; ids from `real_keys` up are missing keys.
    real_keys: u32,
}

/// How a layer's fresh copy answers a read (content classes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Answer {
    /// A 304: the request's validator is the copy's version.
    pub not_modified: bool,
    /// A private copy fetched for another client.
    pub leak: bool,
    /// When the origin generated the copy (its age travels outward with it).
    pub born: SimTime,
}

/// When a copy that a response stores at a layer expires.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Freshness {
    /// The layer's own expiry (`ttl_s`, or never).
    Layer,
    /// At this time.
    Until(SimTime),
    /// It arrived with no freshness left: not stored.
    Spent,
}

impl<'p> Http<'p> {
    /// The plan's classes, rules and key sizes (drawn from their own stream).
    pub fn new(plan: &'p Plan) -> Self {
        let content = &plan.workload.content;
        let active = content.is_active();
        let sizes = if active {
            content.sizes(&mut stream(plan.seed, Stream::Sizes))
        } else {
            Vec::new()
        };
        let rules = plan
            .caches
            .iter()
            .flat_map(|c| {
                content.classes.iter().map(|class| {
                    Rule::new(c.kind, c.ttl.is_some(), c.ignore_private, &class.control)
                })
            })
            .collect();
        Http {
            active,
            content,
            sizes,
            rules,
            classes: content.classes.len(),
            real_keys: plan.workload.keys,
        }
    }

    /// The mean object size, bytes, with classes (for layers sized in bytes).
    pub fn mean_size(&self) -> Option<f64> {
        self.active
            .then(|| self.sizes.iter().map(|&s| s as f64).sum::<f64>() / self.sizes.len() as f64)
    }

    /// Layer `i`'s rule for `class`.
    #[inline]
    pub fn rule(&self, i: usize, class: u8) -> Rule {
        self.rules[i * self.classes + class as usize]
    }

    /// The real key behind `key`: itself, or a missing key's twin, `key % real_keys`
    /// (a division, tens of cycles, which the common case skips).
    #[inline]
    fn real_key(&self, key: u32) -> u32 {
        if key < self.real_keys {
            key
        } else {
            key % self.real_keys
        }
    }

    /// `key`'s content class (a missing key's is its real twin's): 0 without classes.
    #[inline]
    pub fn class_of(&self, key: u32) -> u8 {
        if self.active {
            self.content.class_of(self.real_key(key))
        } else {
            0
        }
    }

    /// `key`'s size in bytes: 1 without content classes.
    #[inline]
    pub fn size_of(&self, key: u32) -> u32 {
        // Checked first: a plain run pays no division per request.
        if self.active {
            self.sizes[self.real_key(key) as usize]
        } else {
            1
        }
    }

    /// Prefetches `key`'s size, read at its arrival.
    #[inline]
    pub fn prefetch_size(&self, key: u32) {
        if self.active {
            crate::mem::prefetch::prefetch(&self.sizes, self.real_key(key) as usize);
        }
    }

    /// Whether layer `i` takes a write's copy of `key` (every layer, without classes).
    pub fn stores(&self, i: usize, key: u32) -> bool {
        !self.active || self.rule(i, self.class_of(key)).store
    }
}

/// What a read brings to a layer's fresh copy: the fields of the request that HTTP
/// rules look at, each read alone (not a copy of the whole request).
#[derive(Clone, Copy, Debug)]
pub(super) struct Ask {
    /// The object's class.
    pub class: u8,
    /// Its size, bytes.
    pub size: u32,
    /// A reload.
    pub reload: bool,
    /// The outermost layer whose copy it validates ([`NO_VALIDATOR`] if none).
    pub cond_from: u8,
    /// That copy's version.
    pub validator: u32,
    /// The client that sent it.
    pub client: u32,
}

impl Ask {
    /// What `r` asks.
    #[inline]
    pub fn of(r: &Request) -> Self {
        Ask {
            class: r.class,
            size: r.size,
            reload: r.reload,
            cond_from: r.cond_from,
            validator: r.validator,
            client: r.client,
        }
    }
}

/// What a layer's fresh copy does for a read under HTTP rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum OnHit {
    /// It must be validated first: the read goes on inward as a conditional request
    /// (see [`validate_from`]).
    Revalidate,
    /// It answers.
    Answer(Answer),
}

impl Http<'_> {
    /// Layer `i`'s fresh copy of `version` meets read `ask` at `now`: a `no_cache` copy,
    /// or a reload's browser copy, is validated inward; otherwise it answers (a 304 if
    /// the read validates that version, a leak if it is a private copy fetched for
    /// another client). `meta` reads the copy's [`Meta`], a memory access made only for
    /// an answer.
    #[inline]
    pub fn on_hit(
        &self,
        i: usize,
        ask: &Ask,
        version: u32,
        meta: impl FnOnce() -> Option<Meta>,
        now: SimTime,
    ) -> OnHit {
        let rule = self.rule(i, ask.class);
        if rule.revalidate || (ask.reload && rule.reload_revalidates) {
            return OnHit::Revalidate;
        }
        let meta = meta();
        OnHit::Answer(Answer {
            not_modified: ask.cond_from != NO_VALIDATOR && ask.validator == version,
            leak: rule.leaks
                && meta.is_some_and(|m| m.owner != ask.client && m.owner != Meta::NO_OWNER),
            // The copy's age travels outward with it.
            born: meta.map_or(now, |m| m.born),
        })
    }
}

/// Marks `r` conditional, validating layer `i`'s copy of `version` inward, unless an
/// outer layer's copy is validated already.
#[inline]
pub(super) fn validate_from(r: &mut Request, i: usize, version: u32) {
    if r.cond_from == NO_VALIDATOR {
        r.cond_from = i as u8;
        r.validator = version;
    }
}

/// When a copy of a response generated at `born` and stored at `now` under `rule`
/// expires (`None`: no classes, the layer's own expiry).
#[inline]
pub(super) fn freshness(rule: Option<Rule>, born: SimTime, now: SimTime) -> Freshness {
    match rule.map(|r| (r.lifetime, r.revalidate)) {
        None | Some((Lifetime::Layer, _)) => Freshness::Layer,
        // Validated on every use: freshness does not matter.
        Some((Lifetime::Header(_), true)) => Freshness::Until(SimTime::NEVER),
        Some((Lifetime::Header(lifetime), false)) => {
            let expires = born + lifetime;
            if expires <= now {
                // Arrived with no freshness left (its Age is past max-age).
                Freshness::Spent
            } else {
                Freshness::Until(expires)
            }
        }
    }
}

/// The origin answers read `r` at `now`: a fresh response, or a 304 if the request's
/// validator is the version the query read. Returns whether it is a 304.
#[inline]
pub(super) fn origin_answers(r: &mut Request, now: SimTime) -> bool {
    r.born = now;
    r.not_modified = r.cond_from != NO_VALIDATOR && r.validator == r.version;
    r.not_modified
}

/// Read `r`, answered by path position `at`, sent its body outward from there, or,
/// answered 304, from the layer whose copy it validated: counts the bytes each layer
/// (and the origin) sent, and those each layer outside that one fetched from below.
#[cold]
pub(super) fn count_bytes(m: &mut Measured, r: &Request, at: usize) {
    let size = u64::from(r.size);
    let n = m.layers.len();
    let top = if r.not_modified {
        m.saved_bytes += size;
        r.cond_from as usize
    } else {
        at
    };
    let upto = if top == n {
        m.origin.bytes_sent += size;
        n
    } else {
        top + 1
    };
    for (j, stats) in (r.from as usize..upto).zip(&mut m.layers[r.from as usize..upto]) {
        stats.bytes_sent += size;
        stats.bytes_fetched += if j < top { size } else { 0 };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(lifetime: Lifetime, revalidate: bool) -> Rule {
        Rule {
            store: true,
            lifetime,
            revalidate,
            reload_revalidates: false,
            leaks: false,
        }
    }

    #[test]
    fn header_freshness_counts_from_the_origin_and_spent_copies_are_not_stored() {
        let t = SimTime::from_nanos;
        assert_eq!(freshness(None, t(0), t(5)), Freshness::Layer);
        let header = rule(Lifetime::Header(t(10)), false);
        assert_eq!(freshness(Some(header), t(0), t(5)), Freshness::Until(t(10)));
        assert_eq!(freshness(Some(header), t(0), t(10)), Freshness::Spent);
        let no_cache = rule(Lifetime::Header(t(10)), true);
        assert_eq!(
            freshness(Some(no_cache), t(0), t(50)),
            Freshness::Until(SimTime::NEVER)
        );
    }

    #[test]
    fn a_conditional_request_is_marked_at_its_outermost_validated_copy() {
        let mut r = Request::default();
        validate_from(&mut r, 1, 4);
        validate_from(&mut r, 3, 5);
        assert_eq!((r.cond_from, r.validator), (1, 4));
        r.version = 4;
        assert!(origin_answers(&mut r, SimTime::from_nanos(9)), "a 304");
        r.version = 5;
        assert!(!origin_answers(&mut r, SimTime::from_nanos(9)));
        assert_eq!(r.born, SimTime::from_nanos(9));
    }
}
