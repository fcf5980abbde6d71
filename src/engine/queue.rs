//! The future event list: events ordered by time, then by insertion order, so events due
//! at the same nanosecond run in the order they were scheduled.
//!
//! Most events need no heap. An event scheduled at `now + d` for a *constant* `d` (the
//! next arrival, the hop after a layer of constant latency, or of a CDN's round trip
//! from one region) is due no earlier than every event already scheduled that way,
//! because `now` never goes back. So each such source gets a FIFO *lane*, already
//! sorted, and only the events with sampled delays go into the binary heap. `pop` takes
//! the least `(time, seq)` among the heap top and the lane fronts; `seq` is one counter
//! shared by all, so the order is exactly that of a single heap holding everything, and
//! runs stay byte-identical. The least lane front is kept as lanes change, so only a
//! pop from a lane scans them.
//!
//! A hop due before every pending event skips the queue altogether
//! ([`EventQueue::take_if_next`]), as an in-process layer's microsecond hop usually is.
//! (How many events each saves: `docs/performance.md`.)
//!
//! Heap entries are 24 bytes and compare as one `u128` (`time << 64 | seq`), which keeps
//! the sift loops short.
//!
//! It owns the order of events and knows nothing of what they mean.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use crate::SimTime;

struct Entry<E> {
    /// `time << 64 | seq`: orders by time, then scheduling order.
    key: u128,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    /// Reversed, so the max-heap pops the earliest `(time, seq)`.
    #[inline]
    fn cmp(&self, other: &Self) -> Ordering {
        other.key.cmp(&self.key)
    }
}

#[inline]
fn key(time: SimTime, seq: u64) -> u128 {
    (u128::from(time.as_nanos()) << 64) | u128::from(seq)
}

/// Pending events. It holds only in-flight work and the one next arrival, so it stays
/// small and cheap however long the run.
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    /// Each lane's events are in nondecreasing time (and increasing `seq`) order.
    lanes: Vec<VecDeque<Entry<E>>>,
    /// Each lane's front key, `u128::MAX` when empty: scanned, when the earliest
    /// front leaves, rather than the deques.
    fronts: Vec<u128>,
    /// The least of `fronts`, and its lane: kept up to date as lanes change, so a pop
    /// from the heap and [`EventQueue::take_if_next`] need not scan the lanes.
    first_front: (u128, usize),
    seq: u64,
}

impl<E> EventQueue<E> {
    /// An empty queue with `lanes` FIFO lanes, numbered from 0.
    pub fn new(lanes: usize) -> Self {
        EventQueue {
            heap: BinaryHeap::with_capacity(1024),
            lanes: (0..lanes).map(|_| VecDeque::with_capacity(256)).collect(),
            fronts: vec![u128::MAX; lanes],
            first_front: (u128::MAX, 0),
            seq: 0,
        }
    }

    #[inline]
    fn entry(&mut self, time: SimTime, event: E) -> Entry<E> {
        let e = Entry {
            key: key(time, self.seq),
            event,
        };
        self.seq += 1;
        e
    }

    /// Schedules `event` at `time`.
    #[inline]
    pub fn push(&mut self, time: SimTime, event: E) {
        let e = self.entry(time, event);
        self.heap.push(e);
    }

    /// Schedules `event` at `time` in FIFO lane `lane`. `time` must be no earlier than
    /// that of any event pushed to the lane before: the caller guarantees it by pushing
    /// only events due at `now + d` for one constant `d` per lane, with `now` the time of
    /// the event being processed.
    #[inline]
    pub fn push_lane(&mut self, lane: usize, time: SimTime, event: E) {
        let e = self.entry(time, event);
        let q = &mut self.lanes[lane];
        debug_assert!(q.back().is_none_or(|b| b.key < e.key), "lane out of order");
        if q.is_empty() {
            self.fronts[lane] = e.key;
            if e.key < self.first_front.0 {
                self.first_front = (e.key, lane);
            }
        }
        q.push_back(e);
    }

    /// If an event scheduled now at `time` would be the next to pop, takes its place in
    /// the order (its sequence number) and returns true: the caller then handles it at
    /// once instead of pushing and popping it, with the same result.
    #[inline]
    pub fn take_if_next(&mut self, time: SimTime) -> bool {
        let k = key(time, self.seq);
        let heap = self.heap.peek().map_or(u128::MAX, |e| e.key);
        if k < heap && k < self.first_front.0 {
            self.seq += 1;
            true
        } else {
            false
        }
    }

    /// The event `k` places behind the front of lane `lane` (0: its front), if any:
    /// what that lane will deliver later, for prefetching.
    #[inline]
    pub fn lane_ahead(&self, lane: usize, k: usize) -> Option<&E> {
        self.lanes.get(lane)?.get(k).map(|e| &e.event)
    }

    /// The earliest event, ties broken by scheduling order.
    // Always: each of the event loop's two instantiations inlines it (docs/performance.md).
    #[inline(always)]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let heap = self.heap.peek().map_or(u128::MAX, |e| e.key);
        let e = if heap <= self.first_front.0 {
            self.heap.pop()?
        } else {
            let i = self.first_front.1;
            let q = &mut self.lanes[i];
            let e = q.pop_front()?;
            self.fronts[i] = q.front().map_or(u128::MAX, |f| f.key);
            // A fold with a strict `<`: the fronts differ unless empty, so comparing
            // whole (front, lane) pairs is wasted work (docs/performance.md).
            self.first_front = self
                .fronts
                .iter()
                .enumerate()
                .fold(
                    (u128::MAX, 0),
                    |m, (i, &f)| if f < m.0 { (f, i) } else { m },
                );
            e
        };
        Some((SimTime::from_nanos((e.key >> 64) as u64), e.event))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_then_insertion_order() {
        let mut q = EventQueue::new(0);
        let t = SimTime::from_nanos;
        q.push(t(5), 'a');
        q.push(t(1), 'b');
        q.push(t(5), 'c');
        q.push(t(1), 'd');
        let order: Vec<char> = std::iter::from_fn(|| q.pop().map(|(_, e)| e)).collect();
        assert_eq!(order, ['b', 'd', 'a', 'c']);
    }

    #[test]
    fn lanes_merge_with_the_heap_as_one_queue() {
        // The same pushes into a lane-less queue and a laned one pop in the same order.
        let mut plain = EventQueue::new(0);
        let mut laned = EventQueue::new(2);
        let mut z = 1u64;
        let mut now = 0u64;
        let mut popped = (Vec::new(), Vec::new());
        for i in 0..10_000u32 {
            z = crate::base::rng::mix64(z);
            let t = SimTime::from_nanos(now + z % 7);
            match z % 3 {
                0 => {
                    plain.push(t, i);
                    laned.push(t, i);
                }
                c => {
                    let d = SimTime::from_nanos(now + 3 * c);
                    plain.push(d, i);
                    laned.push_lane(c as usize - 1, d, i);
                }
            }
            if z.is_multiple_of(2) {
                let a = plain.pop().unwrap();
                let b = laned.pop().unwrap();
                now = a.0.as_nanos();
                popped.0.push(a);
                popped.1.push(b);
            }
        }
        // Taking an event in place is the same as pushing and popping it.
        let t = SimTime::from_nanos(now + 100);
        assert!(!plain.take_if_next(t) && !laned.take_if_next(t));
        popped.0.extend(std::iter::from_fn(|| plain.pop()));
        popped.1.extend(std::iter::from_fn(|| laned.pop()));
        assert_eq!(popped.0, popped.1);
    }

    #[test]
    fn take_if_next_only_before_every_pending_event() {
        let t = SimTime::from_nanos;
        let mut q = EventQueue::new(1);
        assert!(q.take_if_next(t(9)), "an empty queue");
        q.push(t(5), 'h');
        q.push_lane(0, t(7), 'l');
        assert!(
            !q.take_if_next(t(5)),
            "a tie goes to the earlier-scheduled event"
        );
        assert!(!q.take_if_next(t(6)));
        assert!(q.take_if_next(t(4)));
        assert_eq!(q.pop(), Some((t(5), 'h')));
        assert!(!q.take_if_next(t(7)));
        assert!(q.take_if_next(t(6)));
        assert_eq!(q.pop(), Some((t(7), 'l')));
        assert_eq!(q.pop(), None);
    }
}
