//! Faults: a layer down for a window of simulated time, and what requests do about it.
//!
//! A scenario's `[[faults]]` array deserializes into [`FaultSpec`]s and resolves, against
//! the path, into [`Fault`]s: plain data naming a path position (cache layers `0..n`
//! outermost first, the database at `n`) and a window `[start, end)`. At run time the
//! engine turns each fault into two events and keeps a [`FaultState`], which answers
//! "what does a request find at position `i` now?" with a [`Status`].
//!
//! | `fallback` | a request reaching the down layer |
//! |---|---|
//! | `true` | skips it: no lookup, no latency, no fill; it goes on inward (the origin load rises) |
//! | `false` (default) | fails; a `stale_if_error` layer outside it may still answer with a stale copy (see [`crate::stampede`]), otherwise the request counts in `failed_requests` |
//!
//! Going down is a crash: when the window opens, a cache layer loses its contents (it
//! comes back cold) and, if it is the `write_back` layer, the writes it accepted and
//! has not flushed yet are lost and counted (`lost_writes`). The database may be
//! faulted too, only without fallback (nothing lies behind it): reads and writes that
//! reach it in the window fail, the queries already queued or in service finish, and a
//! write-back flush that comes due keeps its writes pending for the next one.
//!
//! A fault takes a whole layer down, all its nodes (every PoP of a CDN, every shard).
//! `node` is accepted in the file for a single node's outage, which is not modelled
//! yet: setting it is an error that says so rather than a silent whole-layer outage.

use serde::{Deserialize, Serialize};

use crate::SimTime;
use crate::scenario::Invalid;

/// One `[[faults]]` table, as written.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// The `name` of the layer that goes down.
    pub layer: String,
    /// One node of the layer; not modelled yet (a fault takes every node of its layer down).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<u32>,
    /// When it goes down, seconds of simulated time.
    pub start_s: f64,
    /// How long it stays down, seconds.
    pub duration_s: f64,
    /// Whether requests skip the layer (`true`) or fail (`false`).
    #[serde(default)]
    pub fallback: bool,
}

/// A validated fault.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fault {
    /// Path position: a cache layer's index, or the number of cache layers for the
    /// database.
    pub layer: usize,
    /// When it goes down.
    pub start: SimTime,
    /// When it comes back.
    pub end: SimTime,
    /// Skip (`true`) or fail (`false`).
    pub fallback: bool,
}

impl FaultSpec {
    /// Checks the fault against the path's layer names (caches outermost first, then the
    /// database); errors name the key under the fault.
    pub fn resolve(&self, layers: &[&str]) -> Result<Fault, Invalid> {
        let Some(layer) = layers.iter().position(|n| *n == self.layer) else {
            return Err(Invalid::new(
                "layer",
                format!(
                    "`{}` is not a layer of this path; layers: {}",
                    self.layer,
                    layers.join(", ")
                ),
            ));
        };
        if let Some(node) = self.node {
            return Err(Invalid::new(
                "node",
                format!(
                    "is {node}; a single node's outage is not modelled yet; omit `node` to \
                     take the whole layer (all its nodes) down"
                ),
            ));
        }
        let is_db = layer + 1 == layers.len();
        if is_db && self.fallback {
            return Err(Invalid::new(
                "fallback",
                "is true for the database; nothing lies behind the origin to fall back to \
                 (set it to false: requests reaching it fail)",
            ));
        }
        let secs = |key: &str, v: f64, min: &str, ok: bool| {
            if v.is_finite() && ok {
                Ok(SimTime::from_secs_f64(v))
            } else {
                Err(Invalid::new(
                    key,
                    format!("is {v}; must be a finite number of seconds {min}"),
                ))
            }
        };
        let start = secs("start_s", self.start_s, ">= 0", self.start_s >= 0.0)?;
        let duration = secs("duration_s", self.duration_s, "> 0", self.duration_s > 0.0)?;
        Ok(Fault {
            layer,
            start,
            end: start + duration,
            fallback: self.fallback,
        })
    }
}

/// What a request finds at a path position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Working.
    Up,
    /// Down, with fallback: skip it.
    Skip,
    /// Down, without fallback: fail.
    Fail,
}

/// Which positions are down now. Windows may overlap: a position is down while any of
/// its faults is open, and fails rather than skips while any open one has no fallback.
#[derive(Clone, Debug)]
pub struct FaultState {
    skip: Vec<u16>,
    fail: Vec<u16>,
}

impl FaultState {
    /// Everything up, for a path of `positions` layers (caches and the database).
    pub fn new(positions: usize) -> Self {
        FaultState {
            skip: vec![0; positions],
            fail: vec![0; positions],
        }
    }

    /// What a request finds at `position`.
    #[inline]
    pub fn status(&self, position: usize) -> Status {
        if self.fail[position] > 0 {
            Status::Fail
        } else if self.skip[position] > 0 {
            Status::Skip
        } else {
            Status::Up
        }
    }

    /// `fault`'s window opens; returns whether its position was up until now (so the
    /// crash happens).
    pub fn begin(&mut self, fault: &Fault) -> bool {
        let was_up = self.status(fault.layer) == Status::Up;
        let count = if fault.fallback {
            &mut self.skip
        } else {
            &mut self.fail
        };
        count[fault.layer] += 1;
        was_up
    }

    /// `fault`'s window closes.
    pub fn end(&mut self, fault: &Fault) {
        let count = if fault.fallback {
            &mut self.skip
        } else {
            &mut self.fail
        };
        count[fault.layer] -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(layer: &str) -> FaultSpec {
        FaultSpec {
            layer: layer.into(),
            node: None,
            start_s: 1.0,
            duration_s: 2.0,
            fallback: true,
        }
    }

    #[test]
    fn resolves_against_the_path_and_names_bad_keys() {
        let path = ["l1", "redis", "db"];
        let f = spec("redis").resolve(&path).unwrap();
        assert_eq!((f.layer, f.end), (1, SimTime::from_secs_f64(3.0)));
        assert_eq!(
            spec("nope").resolve(&path).unwrap_err().key.to_string(),
            "layer"
        );
        let node = FaultSpec {
            node: Some(0),
            ..spec("redis")
        };
        let e = node.resolve(&path).unwrap_err();
        assert!(e.message.contains("not modelled yet"), "{}", e.message);
        assert_eq!(
            spec("db").resolve(&path).unwrap_err().key.to_string(),
            "fallback"
        );
        let neg = FaultSpec {
            duration_s: 0.0,
            ..spec("l1")
        };
        assert_eq!(
            neg.resolve(&path).unwrap_err().key.to_string(),
            "duration_s"
        );
        let bad: Result<FaultSpec, _> =
            toml::from_str("layer = \"l1\"\nstart_s = 1\nduration_s = 1\ncrash = true");
        assert!(bad.is_err(), "unknown keys are rejected");
    }

    #[test]
    fn overlapping_windows_fail_while_any_has_no_fallback() {
        let mut s = FaultState::new(2);
        let skip = Fault {
            layer: 0,
            start: SimTime::ZERO,
            end: SimTime::ZERO,
            fallback: true,
        };
        let fail = Fault {
            fallback: false,
            ..skip
        };
        assert!(s.begin(&skip));
        assert_eq!(s.status(0), Status::Skip);
        assert!(!s.begin(&fail), "already down: no second crash");
        assert_eq!(s.status(0), Status::Fail);
        s.end(&fail);
        assert_eq!(s.status(0), Status::Skip);
        s.end(&skip);
        assert_eq!(s.status(0), Status::Up);
        assert_eq!(s.status(1), Status::Up);
    }
}
