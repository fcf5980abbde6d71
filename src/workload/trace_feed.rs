//! The second pass over a trace that drives a run: its requests in order, as the
//! generator's [`Op`]s and arrival gaps. The first pass, which checks and indexes the
//! trace, is [`TraceSpec::resolve`](crate::workload::TraceSpec)'s.
//!
//! It knows the trace readers and the plan's id table, not the engine that consumes the
//! requests.

use std::sync::Arc;

use crate::SimTime;
use crate::trace::{Request, TraceReader};
use crate::workload::generator::Op;
use crate::workload::spec::TracePlan;

/// The second pass over a trace: requests in order, one read ahead for the next gap.
pub(super) struct TraceFeed {
    plan: Arc<TracePlan>,
    reader: Box<dyn TraceReader>,
    /// The request the next [`Workload::next_op`](crate::workload::Workload::next_op)
    /// returns.
    current: Request,
    /// The one after it, once [`Workload::next_gap`](crate::workload::Workload::next_gap)
    /// has read it.
    ahead: Option<Request>,
    /// Whether arrivals follow the timestamps (else the Poisson gaps).
    pub(super) timed: bool,
}

impl std::fmt::Debug for TraceFeed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceFeed")
            .field("plan", &self.plan)
            .field("current", &self.current)
            .finish_non_exhaustive()
    }
}

impl Clone for TraceFeed {
    /// A feed from the start of the same trace.
    fn clone(&self) -> Self {
        TraceFeed::new(&self.plan, self.timed)
    }
}

impl TraceFeed {
    /// A feed from the start of `plan`'s trace.
    pub(super) fn new(plan: &Arc<TracePlan>, timed: bool) -> Self {
        // Resolving read the whole trace through this handle without an error, so a
        // failure here means the file changed in the meantime: the run cannot go on
        // with it, and `Workload::new` has no error to return (see `changed`).
        let mut reader = plan
            .source
            .reopen(&plan.file)
            .unwrap_or_else(|e| changed(plan, &e.to_string()));
        let mut current = Request::default();
        if !reader
            .read(&mut current)
            .unwrap_or_else(|e| changed(plan, &e.to_string()))
        {
            changed(plan, "it is now empty");
        }
        TraceFeed {
            plan: Arc::clone(plan),
            reader,
            current,
            ahead: None,
            timed,
        }
    }

    /// The request after `current`, read once; `None` at the end of the trace.
    fn ahead(&mut self) -> Option<Request> {
        if self.ahead.is_none() {
            let mut r = Request::default();
            let more = self
                .reader
                .read(&mut r)
                .unwrap_or_else(|e| changed(&self.plan, &e.to_string()));
            self.ahead = more.then_some(r);
        }
        self.ahead
    }

    /// The time from the current request's arrival to the next one's.
    pub(super) fn gap(&mut self) -> SimTime {
        let now = self.current.time;
        match self.ahead() {
            Some(next) => SimTime::from_nanos_f64(
                next.time.saturating_sub(now) as f64 * self.plan.time_unit_ns,
            ),
            None => SimTime::ZERO,
        }
    }

    /// The current request, as an [`Op`]; the next one becomes current.
    pub(super) fn next_op(&mut self) -> Op {
        let r = self.current;
        if let Some(next) = self.ahead() {
            self.current = next;
            self.ahead = None;
        }
        let key = self
            .plan
            .ids
            .get(r.id)
            .unwrap_or_else(|| changed(&self.plan, &format!("id {} is new", r.id)));
        Op {
            key,
            write: r.op != crate::trace::Op::Read,
            missing: false,
            reload: false,
        }
    }
}

/// The trace was read in full when the scenario was resolved; a second pass that fails
/// or disagrees means it was modified during the run. Results would be wrong, and the
/// engine's workload cannot return an error, so the run stops here, naming the file.
#[cold]
fn changed(plan: &TracePlan, what: &str) -> ! {
    panic!(
        "trace `{}` changed while the run read it ({what}); rerun on an unchanging file",
        plan.source.path.display()
    )
}
