//! Faults at run time: which path positions and nodes are down now, and what a request
//! or a crash does about it.
//!
//! The spec, its validation and the table of what `fallback` means live in
//! [`crate::scenario::fault`]; this module owns the state of a run ([`FaultState`]) and
//! its decisions: what a request finds at a position ([`Status`]) and what a fault's
//! window opening crashes ([`Crash`]). It knows nothing of requests, events or layers'
//! contents: the engine skips, fails and empties layers on its word.

use crate::scenario::fault::Fault;

/// What a request finds at a path position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Status {
    /// Working.
    Up,
    /// Down, with fallback: skip it.
    Skip,
    /// Down, without fallback: fail.
    Fail,
}

/// Open faults with fallback and without, over one layer or one node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Open {
    skip: u16,
    fail: u16,
}

impl Open {
    #[inline]
    fn status(self) -> Status {
        if self.fail > 0 {
            Status::Fail
        } else if self.skip > 0 {
            Status::Skip
        } else {
            Status::Up
        }
    }

    fn count(&mut self, fallback: bool) -> &mut u16 {
        if fallback {
            &mut self.skip
        } else {
            &mut self.fail
        }
    }
}

/// Which positions and nodes are down now. Windows may overlap: a node is down while
/// any open fault covers it (its layer's or its own), and fails rather than skips while
/// any of those has no fallback.
#[derive(Clone, Debug)]
pub(super) struct FaultState {
    /// Whether the plan has any fault: without, everything is up and nothing is read.
    active: bool,
    /// Whole-layer faults open, per position.
    layer: Vec<Open>,
    /// Per position, where its nodes' counts start in `node` and how many there are:
    /// nodes `0..=max` of those some fault names (none for most positions).
    nodes: Vec<(u32, u32)>,
    /// One-node faults open, per node of the positions that have them.
    node: Vec<Open>,
}

impl FaultState {
    /// Everything up, for a path of `positions` layers (caches and the database) and the
    /// plan's `faults`.
    pub fn new(positions: usize, faults: &[Fault]) -> Self {
        let mut len = vec![0u32; positions];
        for f in faults {
            if let Some(n) = f.node {
                len[f.layer] = len[f.layer].max(n + 1);
            }
        }
        let mut base = 0;
        let nodes = len
            .iter()
            .map(|&l| {
                base += l;
                (base - l, l)
            })
            .collect();
        FaultState {
            active: !faults.is_empty(),
            layer: vec![Open::default(); positions],
            nodes,
            node: vec![Open::default(); base as usize],
        }
    }

    /// What a request finds at `position` as a whole: whole-layer faults only (for the
    /// database and single-node layers, which have no one-node faults).
    #[inline]
    pub fn status(&self, position: usize) -> Status {
        self.layer[position].status()
    }

    /// What a request routed to `node` of `position` finds: down if its layer or the
    /// node is, failing if either fails.
    #[inline]
    pub fn status_at(&self, position: usize, node: u32) -> Status {
        let layer = self.layer[position];
        let (base, len) = self.nodes[position];
        if node >= len {
            return layer.status();
        }
        let own = self.node[(base + node) as usize];
        Open {
            skip: layer.skip | own.skip,
            fail: layer.fail | own.fail,
        }
        .status()
    }

    /// The nodes of `position` down by a one-node fault now (not those down with their
    /// whole layer).
    pub fn down_nodes(&self, position: usize) -> impl Iterator<Item = u32> + '_ {
        let (base, len) = self.nodes[position];
        self.node[base as usize..(base + len) as usize]
            .iter()
            .enumerate()
            .filter(|(_, o)| o.status() != Status::Up)
            .map(|(n, _)| n as u32)
    }

    fn open_count(&mut self, fault: &Fault) -> &mut Open {
        match fault.node {
            None => &mut self.layer[fault.layer],
            Some(n) => &mut self.node[(self.nodes[fault.layer].0 + n) as usize],
        }
    }

    /// `fault`'s window opens; returns whether what it takes down (its layer, or its
    /// node) was up until now, so the crash happens.
    pub fn begin(&mut self, fault: &Fault) -> bool {
        let was_up = match fault.node {
            None => self.status(fault.layer) == Status::Up,
            Some(n) => self.status_at(fault.layer, n) == Status::Up,
        };
        *self.open_count(fault).count(fault.fallback) += 1;
        was_up
    }

    /// `fault`'s window closes.
    pub fn end(&mut self, fault: &Fault) {
        *self.open_count(fault).count(fault.fallback) -= 1;
    }

    /// What a request routed to `node` of `position` finds, for the walk: up at once
    /// when the plan has no faults.
    #[inline]
    pub fn at(&self, position: usize, node: u32) -> Status {
        if self.active {
            self.status_at(position, node)
        } else {
            Status::Up
        }
    }

    /// Whether `position` as a whole is up (always, when the plan has no faults).
    #[inline]
    pub fn is_up(&self, position: usize) -> bool {
        !self.active || self.status(position) == Status::Up
    }

    /// What a request finds at `position` as a whole (always up without faults).
    #[inline]
    pub fn whole(&self, position: usize) -> Status {
        if self.active {
            self.status(position)
        } else {
            Status::Up
        }
    }

    /// `fault`'s window opens on a path of `caches` cache layers: what crashes, if
    /// anything. Something that was up goes down and, unless it is the database, loses
    /// its contents.
    pub fn open(&mut self, fault: &Fault, caches: usize) -> Option<Crash> {
        (self.begin(fault) && fault.layer != caches).then_some(Crash {
            layer: fault.layer,
            node: fault.node,
        })
    }
}

/// A cache layer, or one node of it, that went down: it comes back empty.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Crash {
    /// The layer.
    pub layer: usize,
    /// Its node, or `None` for every node.
    pub node: Option<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SimTime;

    fn fault(node: Option<u32>, fallback: bool) -> Fault {
        Fault {
            layer: 0,
            node,
            start: SimTime::ZERO,
            end: SimTime::ZERO,
            fallback,
        }
    }

    #[test]
    fn overlapping_windows_fail_while_any_has_no_fallback() {
        let (skip, fail) = (fault(None, true), fault(None, false));
        let mut s = FaultState::new(2, &[skip, fail]);
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

    #[test]
    fn node_faults_compose_with_each_other_and_with_their_layer() {
        let layer = fault(None, true);
        let (n2_fail, n2_skip, n0_skip) = (
            fault(Some(2), false),
            fault(Some(2), true),
            fault(Some(0), true),
        );
        let mut s = FaultState::new(2, &[layer, n2_fail, n2_skip, n0_skip]);
        let all = |s: &FaultState| (0..5).map(|n| s.status_at(0, n)).collect::<Vec<_>>();
        use Status::{Fail, Skip, Up};
        assert!(s.begin(&n2_skip), "node 2 crashes");
        assert_eq!(all(&s), [Up, Up, Skip, Up, Up]);
        assert_eq!(s.status(0), Up, "the layer as a whole is up");
        assert_eq!(s.down_nodes(0).collect::<Vec<_>>(), [2]);
        assert!(!s.begin(&n2_fail), "node 2 is down already");
        assert_eq!(all(&s), [Up, Up, Fail, Up, Up]);
        assert!(s.begin(&layer), "the rest of the layer crashes");
        assert_eq!(all(&s), [Skip, Skip, Fail, Skip, Skip]);
        assert!(!s.begin(&n0_skip), "node 0 is down with its layer");
        s.end(&layer);
        assert_eq!(all(&s), [Skip, Up, Fail, Up, Up]);
        assert_eq!(s.down_nodes(0).collect::<Vec<_>>(), [0, 2]);
        s.end(&n2_fail);
        s.end(&n0_skip);
        assert_eq!(all(&s), [Up, Up, Skip, Up, Up]);
        s.end(&n2_skip);
        assert_eq!(all(&s), [Up; 5]);
        assert_eq!(s.down_nodes(0).count(), 0);
        assert_eq!(s.status_at(1, 2), Up, "another position has no node table");
    }

    #[test]
    fn a_window_opening_crashes_what_was_up_but_not_the_database() {
        let db = Fault {
            layer: 1,
            ..fault(None, false)
        };
        let (first, second) = (fault(None, true), fault(None, false));
        let mut s = FaultState::new(2, &[first, second, db]);
        assert_eq!(
            s.open(&first, 1),
            Some(Crash {
                layer: 0,
                node: None
            })
        );
        assert_eq!(s.open(&second, 1), None, "already down");
        assert_eq!(s.open(&db, 1), None, "the database has no contents to lose");
        assert!(!s.is_up(1));
        assert_eq!(FaultState::new(2, &[]).at(0, 3), Status::Up);
    }
}
