//! HTTP caching semantics (RFC 9111) as tiersim models them: content classes, their
//! Cache-Control, and the rules by which each layer stores, ages and revalidates a copy.
//!
//! A scenario without `[[workload.classes]]` has none of this: every key is one byte,
//! every layer stores everything and a copy lives for the layer's own `ttl_s` (or
//! forever), and the engine takes its plain path.
//!
//! With classes, each key belongs to one class (classes own contiguous key ranges, by
//! `key_share`), requests pick a class by `request_share` and then a key within it by
//! the workload's popularity, and each key has a size drawn once from its class's
//! distribution. The origin answers every read with the class's Cache-Control, and:
//! - **Which layers.** Cache-Control binds the HTTP caches: the browser, and the shared
//!   `cdn`, `shield` and `proxy`. The app tier's `in_process` and `redis` caches hold the
//!   application's data behind the HTTP server: they store every class for their own
//!   `ttl_s` (or forever), never leak, and answer a conditional request from a fresh
//!   copy like any layer.
//! - **Who stores.** A browser stores anything but `no_store`. A shared HTTP cache
//!   stores neither `private` nor `no_store` responses, unless it sets
//!   `ignore_private = true`, the misconfiguration the lessons warn about: a private
//!   copy stored there and served to a client other than the one it was fetched for is
//!   a **leak**.
//! - **Two clocks.** A layer's own `ttl_s`, where set, counts from that layer's fill and
//!   overrides the headers (Redis SETEX, a CDN's edge-TTL override). Otherwise freshness
//!   comes from the headers: the browser honours `max_age_s`, a shared layer
//!   `s_maxage_s`, falling back to `max_age_s`. Header freshness counts from when the
//!   origin generated the response, not from the fill: a response carries its age (the
//!   `Age` header) through the path, so a copy that a shield has held for 50 s reaches
//!   the edge with 50 s less freshness left. A copy that arrives with no freshness left
//!   is not stored. A class with neither header lives for the layer's `ttl_s`, or
//!   forever.
//! - **Revalidation.** A `no_cache` copy is stored but every use is validated inward
//!   with its ETag (its version), and a reload (`workload.reload_ratio`) validates a
//!   fresh browser copy unless the class is `immutable`. A layer holding a fresh copy
//!   (one it need not validate) answers a conditional request itself; the origin answers
//!   it after its query. Either answers 304, with no body, when the validator is still
//!   the current version, and the full response otherwise. A 304 refreshes the copies of
//!   that version it passes; layers without one get nothing (there is no body to store).
//!   A layer's `ttl_s` overrides `no_cache` as it overrides the other headers.
//!
//! Expired copies are not revalidated (they are dropped, as without classes): only
//! `no_cache` and reloads send conditional requests.
//!
//! It owns the rules, not their application: the engine applies them on a request's
//! path, and this module knows neither the engine nor the cache store.

use rand::Rng;
use rand_distr::{Distribution, Exp, LogNormal, Pareto, Uniform};
use serde::{Deserialize, Serialize};

use crate::SimTime;
use crate::base::Invalid;
use crate::layer::LayerKind;
use crate::layer::latency::{finite_nonneg, positive};

/// The most classes a workload may have: a class index fits a `u8`, and requests find
/// their class by scanning the list.
pub const MAX_CLASSES: usize = 64;

/// One `[[workload.classes]]` table: a kind of content, as its origin serves it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClassSpec {
    /// A unique name.
    pub name: String,
    /// Share of the keys that belong to the class; the shares sum to 1.
    pub key_share: f64,
    /// Share of the requests that ask for the class's keys; the shares sum to 1.
    pub request_share: f64,
    /// Object sizes, bytes, one drawn per key; `{ dist = "constant", bytes = 1 }` when
    /// absent (sizes not modelled: byte counts equal request counts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<SizeSpec>,
    /// `Cache-Control: max-age`, seconds: the browser's freshness lifetime, and shared
    /// layers' when `s_maxage_s` is absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age_s: Option<f64>,
    /// `s-maxage`, seconds: shared layers' freshness lifetime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s_maxage_s: Option<f64>,
    /// `private`: only the browser may store it.
    #[serde(default)]
    pub private: bool,
    /// `no-store`: nobody may store it.
    #[serde(default)]
    pub no_store: bool,
    /// `immutable`: a fresh browser copy is not revalidated on reload.
    #[serde(default)]
    pub immutable: bool,
    /// `no-cache`: a stored copy is revalidated (ETag) on every use.
    #[serde(default)]
    pub no_cache: bool,
    /// Fraction of the class's requests that write; the workload's `write_ratio` when
    /// absent, 0 for an `immutable` class (a new version is a new key, never a rewrite),
    /// which refuses any other value. Resolved by [`crate::workload::WorkloadSpec`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub write_ratio: Option<f64>,
}

/// An object-size distribution in bytes, as written in a scenario:
/// `{ dist = "lognormal", median_bytes = 20000, sigma = 1.0 }`. Samples are rounded and
/// clamped to `1..=u32::MAX`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "dist", rename_all = "snake_case", deny_unknown_fields)]
pub enum SizeSpec {
    /// Always `bytes`.
    Constant {
        /// The size.
        bytes: f64,
    },
    /// Uniform on `[min_bytes, max_bytes]`.
    Uniform {
        /// Lower bound.
        min_bytes: f64,
        /// Upper bound.
        max_bytes: f64,
    },
    /// Log-normal with the given median and sigma (of the underlying normal): the usual
    /// fit to web object sizes.
    Lognormal {
        /// Median, `exp(mu)`.
        median_bytes: f64,
        /// Sigma of the underlying normal.
        sigma: f64,
    },
    /// Exponential with the given mean.
    Exponential {
        /// Mean.
        mean_bytes: f64,
    },
    /// Pareto (type I) with minimum `scale_bytes` and tail index `shape`: heavy-tailed
    /// sizes (video, downloads).
    Pareto {
        /// Minimum size.
        scale_bytes: f64,
        /// Tail index.
        shape: f64,
    },
}

/// A validated [`SizeSpec`].
#[derive(Clone, Debug)]
enum SizeDist {
    Constant(u32),
    Uniform(Uniform<f64>),
    LogNormal(LogNormal<f64>),
    Exp(Exp<f64>),
    Pareto(Pareto<f64>),
}

impl SizeSpec {
    /// The mean, bytes (infinite for a Pareto of shape <= 1).
    fn mean(&self) -> f64 {
        match *self {
            SizeSpec::Constant { bytes } => bytes.round().max(1.0),
            SizeSpec::Uniform {
                min_bytes,
                max_bytes,
            } => (min_bytes + max_bytes) / 2.0,
            SizeSpec::Lognormal {
                median_bytes,
                sigma,
            } => median_bytes * (sigma * sigma / 2.0).exp(),
            SizeSpec::Exponential { mean_bytes } => mean_bytes,
            SizeSpec::Pareto { scale_bytes, shape } if shape > 1.0 => {
                scale_bytes * shape / (shape - 1.0)
            }
            SizeSpec::Pareto { .. } => f64::INFINITY,
        }
    }

    fn resolve(&self) -> Result<SizeDist, Invalid> {
        Ok(match *self {
            SizeSpec::Constant { bytes } => {
                let b = positive("bytes", bytes)?;
                if b > u32::MAX as f64 {
                    return Err(Invalid::new(
                        "bytes",
                        format!("is {b}; must be at most {} (4 GiB)", u32::MAX),
                    ));
                }
                SizeDist::Constant((b.round() as u32).max(1))
            }
            SizeSpec::Uniform {
                min_bytes,
                max_bytes,
            } => {
                let lo = positive("min_bytes", min_bytes)?;
                let hi = positive("max_bytes", max_bytes)?;
                if hi < lo {
                    return Err(Invalid::new(
                        "max_bytes",
                        format!("is {hi}; must be >= min_bytes ({lo})"),
                    ));
                }
                SizeDist::Uniform(
                    Uniform::new_inclusive(lo, hi)
                        .map_err(|e| Invalid::new("max_bytes", e.to_string()))?,
                )
            }
            SizeSpec::Lognormal {
                median_bytes,
                sigma,
            } => {
                let median = positive("median_bytes", median_bytes)?;
                let sigma = finite_nonneg("sigma", sigma)?;
                SizeDist::LogNormal(
                    LogNormal::new(median.ln(), sigma)
                        .map_err(|e| Invalid::new("sigma", e.to_string()))?,
                )
            }
            SizeSpec::Exponential { mean_bytes } => {
                let mean = positive("mean_bytes", mean_bytes)?;
                SizeDist::Exp(
                    Exp::new(1.0 / mean).map_err(|e| Invalid::new("mean_bytes", e.to_string()))?,
                )
            }
            SizeSpec::Pareto { scale_bytes, shape } => {
                let scale = positive("scale_bytes", scale_bytes)?;
                let shape = positive("shape", shape)?;
                SizeDist::Pareto(
                    Pareto::new(scale, shape).map_err(|e| Invalid::new("shape", e.to_string()))?,
                )
            }
        })
    }
}

impl SizeDist {
    fn sample<R: Rng + ?Sized>(&self, rng: &mut R) -> u32 {
        let x = match self {
            SizeDist::Constant(b) => return *b,
            SizeDist::Uniform(d) => d.sample(rng),
            SizeDist::LogNormal(d) => d.sample(rng),
            SizeDist::Exp(d) => d.sample(rng),
            SizeDist::Pareto(d) => d.sample(rng),
        };
        x.round().clamp(1.0, u32::MAX as f64) as u32
    }
}

/// A class's Cache-Control, validated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CacheControl {
    /// `max-age`.
    pub max_age: Option<SimTime>,
    /// `s-maxage`.
    pub s_maxage: Option<SimTime>,
    /// `private`.
    pub private: bool,
    /// `no-store`.
    pub no_store: bool,
    /// `immutable`.
    pub immutable: bool,
    /// `no-cache`.
    pub no_cache: bool,
}

/// A validated content class.
#[derive(Clone, Debug)]
pub struct ClassPlan {
    /// Its name.
    pub name: String,
    /// Its keys are `first_key..first_key + keys`.
    pub first_key: u32,
    /// How many keys it has.
    pub keys: u32,
    /// Share of the requests.
    pub request_share: f64,
    /// Its headers.
    pub control: CacheControl,
    size: SizeDist,
    /// The mean of its sizes, bytes.
    mean_size: f64,
}

/// The workload's content classes; empty when the scenario has none.
#[derive(Clone, Debug, Default)]
pub struct Content {
    /// Classes in key order.
    pub classes: Vec<ClassPlan>,
}

impl PartialEq for Content {
    fn eq(&self, other: &Self) -> bool {
        self.classes.len() == other.classes.len()
            && self.classes.iter().zip(&other.classes).all(|(a, b)| {
                a.name == b.name
                    && a.first_key == b.first_key
                    && a.keys == b.keys
                    && a.request_share == b.request_share
                    && a.control == b.control
            })
    }
}

fn seconds(key: &str, v: Option<f64>) -> Result<Option<SimTime>, Invalid> {
    match v {
        None => Ok(None),
        Some(s) if s.is_finite() && s >= 0.0 => Ok(Some(SimTime::from_secs_f64(s))),
        Some(s) => Err(Invalid::new(
            key,
            format!("is {s}; must be a finite number of seconds >= 0"),
        )),
    }
}

/// How far from 1 a list of shares may sum.
const SHARE_SUM_TOLERANCE: f64 = 1e-6;

impl Content {
    /// Checks `specs` and lays their classes out over `keys` keys: class `i` gets
    /// `round(key_share * keys)` keys after the classes before it, the last the rest.
    /// Errors are relative to `workload`.
    ///
    /// ```
    /// use tiersim::layer::http::{ClassSpec, Content};
    /// let class = |name: &str, key_share, request_share| ClassSpec {
    ///     name: name.into(), key_share, request_share, size: None, max_age_s: Some(60.0),
    ///     s_maxage_s: None, private: false, no_store: false, immutable: false, no_cache: false,
    ///     write_ratio: None,
    /// };
    /// let c = Content::resolve(&[class("img", 0.25, 0.5), class("page", 0.75, 0.5)], 100).unwrap();
    /// assert_eq!((c.classes[1].first_key, c.classes[1].keys), (25, 75));
    /// assert_eq!(c.class_of(24), 0);
    /// assert_eq!(c.class_of(25), 1);
    /// assert!(Content::resolve(&[class("img", 0.5, 1.0)], 100).is_err());
    /// ```
    pub fn resolve(specs: &[ClassSpec], keys: u32) -> Result<Content, Invalid> {
        if specs.is_empty() {
            return Ok(Content::default());
        }
        if specs.len() > MAX_CLASSES {
            return Err(Invalid::new(
                "classes",
                format!(
                    "has {} classes; at most {MAX_CLASSES} are allowed",
                    specs.len()
                ),
            ));
        }
        let mut classes = Vec::with_capacity(specs.len());
        let mut first = 0u64;
        for (i, s) in specs.iter().enumerate() {
            let at = |e: Invalid| e.at(i).under("classes");
            if s.name.is_empty() {
                return Err(at(Invalid::new("name", "is empty; give the class a name")));
            }
            if specs[..i].iter().any(|o| o.name == s.name) {
                return Err(at(Invalid::new(
                    "name",
                    format!("is `{}`, which an earlier class already has", s.name),
                )));
            }
            for (key, v) in [
                ("key_share", s.key_share),
                ("request_share", s.request_share),
            ] {
                if !(v.is_finite() && v > 0.0 && v <= 1.0) {
                    return Err(at(Invalid::new(key, format!("is {v}; must be in (0, 1]"))));
                }
            }
            let last = i + 1 == specs.len();
            let n = if last {
                keys as u64 - first.min(keys as u64)
            } else {
                (s.key_share * keys as f64).round() as u64
            };
            if n == 0 || first + n > keys as u64 {
                return Err(at(Invalid::new(
                    "key_share",
                    format!(
                        "is {}, which leaves the class no keys of the workload's {keys}; \
                         every class needs at least one",
                        s.key_share
                    ),
                )));
            }
            let control = CacheControl {
                max_age: seconds("max_age_s", s.max_age_s).map_err(at)?,
                s_maxage: seconds("s_maxage_s", s.s_maxage_s).map_err(at)?,
                private: s.private,
                no_store: s.no_store,
                immutable: s.immutable,
                no_cache: s.no_cache,
            };
            if control.immutable && control.max_age.is_none() {
                return Err(at(Invalid::new(
                    "immutable",
                    "needs max_age_s: immutable means \"fresh for max-age, never revalidate \
                     meanwhile\"",
                )));
            }
            let size = s
                .size
                .as_ref()
                .map_or(Ok(SizeDist::Constant(1)), |z| {
                    z.resolve().map_err(|e| e.under("size"))
                })
                .map_err(at)?;
            classes.push(ClassPlan {
                name: s.name.clone(),
                first_key: first as u32,
                keys: n as u32,
                request_share: s.request_share,
                control,
                size,
                mean_size: s.size.as_ref().map_or(1.0, SizeSpec::mean),
            });
            first += n;
        }
        for (key, sum) in [
            ("key_share", specs.iter().map(|s| s.key_share).sum::<f64>()),
            (
                "request_share",
                specs.iter().map(|s| s.request_share).sum::<f64>(),
            ),
        ] {
            if (sum - 1.0).abs() > SHARE_SUM_TOLERANCE {
                return Err(Invalid::new(
                    "classes",
                    format!("have {key}s summing to {sum}; they must sum to 1"),
                ));
            }
        }
        Ok(Content { classes })
    }

    /// The mean object size over the keys, bytes, from the classes' distributions (1
    /// without classes): what a cache sized in bytes holds per object, for memory
    /// estimates.
    pub fn mean_size(&self) -> f64 {
        let keys: f64 = self.classes.iter().map(|c| f64::from(c.keys)).sum();
        if keys == 0.0 {
            return 1.0;
        }
        let bytes: f64 = self
            .classes
            .iter()
            .map(|c| f64::from(c.keys) * c.mean_size)
            .sum();
        (bytes / keys).max(1.0)
    }

    /// Whether the workload has classes (and the engine models HTTP).
    pub fn is_active(&self) -> bool {
        !self.classes.is_empty()
    }

    /// The class of `key` (a key of the workload's range).
    #[inline]
    pub fn class_of(&self, key: u32) -> u8 {
        // Classes are few: a branch-free count of boundaries (docs/performance.md, "layer").
        let later = self.classes.get(1..).unwrap_or_default();
        later.iter().filter(|c| key >= c.first_key).count() as u8
    }

    /// Each key's request weight: its class's share times its popularity within the
    /// class, `popularity(n)` giving the probabilities of `n` keys by rank.
    pub fn weights(&self, popularity: impl Fn(u32) -> Vec<f64>) -> Vec<f64> {
        let mut w = Vec::new();
        for c in &self.classes {
            w.extend(popularity(c.keys).into_iter().map(|p| p * c.request_share));
        }
        w
    }

    /// Every key's size, drawn from its class's distribution in key order.
    pub fn sizes<R: Rng + ?Sized>(&self, rng: &mut R) -> Vec<u32> {
        let mut sizes = Vec::new();
        for c in &self.classes {
            sizes.extend((0..c.keys).map(|_| c.size.sample(rng)));
        }
        sizes
    }
}

/// How a layer computes a copy's expiry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lifetime {
    /// The layer's own `ttl_s` from its fill, or no expiry.
    Layer,
    /// Header freshness: this long after the origin generated the response.
    Header(SimTime),
}

/// What one layer does with one class's responses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rule {
    /// Whether it may store them.
    pub store: bool,
    /// How long a stored copy stays fresh.
    pub lifetime: Lifetime,
    /// Whether every use of a copy is validated inward (`no_cache`).
    pub revalidate: bool,
    /// Whether a reload validates a fresh copy (a browser, unless `immutable`).
    pub reload_revalidates: bool,
    /// Whether a stored copy belongs to one client (`private`, stored by a shared layer
    /// that ignores it): serving it to another is a leak.
    pub leaks: bool,
}

impl Rule {
    /// The rule of a layer of `kind` for content with `control`; `ttl` says whether the
    /// layer sets its own `ttl_s` (which overrides the headers), `ignore_private`
    /// whether it stores private and no-store responses anyway.
    ///
    /// ```
    /// use tiersim::layer::http::{CacheControl, Lifetime, Rule};
    /// use tiersim::layer::LayerKind;
    /// use tiersim::SimTime;
    /// let private = CacheControl { private: true, max_age: Some(SimTime::from_secs_f64(60.0)), ..Default::default() };
    /// assert!(Rule::new(LayerKind::Browser, false, false, &private).store);
    /// assert!(!Rule::new(LayerKind::Cdn, false, false, &private).store);
    /// let leaky = Rule::new(LayerKind::Cdn, false, true, &private);
    /// assert!(leaky.store && leaky.leaks);
    /// assert_eq!(leaky.lifetime, Lifetime::Header(SimTime::from_secs_f64(60.0)));
    /// // The app tier caches data, not HTTP responses: it stores what it likes.
    /// assert!(Rule::new(LayerKind::Redis, true, false, &private).store);
    /// ```
    pub fn new(kind: LayerKind, ttl: bool, ignore_private: bool, control: &CacheControl) -> Rule {
        if !kind.speaks_http() {
            return Rule {
                store: true,
                lifetime: Lifetime::Layer,
                revalidate: false,
                reload_revalidates: false,
                leaks: false,
            };
        }
        let browser = kind == LayerKind::Browser;
        let store = if browser {
            !control.no_store
        } else {
            ignore_private || !(control.private || control.no_store)
        };
        let header = if browser {
            control.max_age
        } else {
            control.s_maxage.or(control.max_age)
        };
        let lifetime = match header {
            Some(l) if !ttl => Lifetime::Header(l),
            _ => Lifetime::Layer,
        };
        Rule {
            store,
            lifetime,
            revalidate: control.no_cache && !ttl,
            reload_revalidates: browser && !control.immutable,
            leaks: !browser && store && control.private,
        }
    }
}
