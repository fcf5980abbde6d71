//! Property tests: each policy against a naive, obviously correct reference model.
//!
//! A random sequence of requests (and a few invalidations) drives both the real policy,
//! through a small slot-managing harness like the caches', and a `Vec`-based model of the
//! same algorithm; they must agree on every hit, miss and evicted key.

use std::collections::HashMap;

use proptest::prelude::*;
use tiersim::policy::{Access, AnyPolicy, BYPASS, Policy, PolicySpec, PrefetchHints, Slot};

/// What happened to one operation.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Event {
    Hit,
    /// A miss, and the key evicted to make room, if any.
    Miss(Option<u32>),
    /// A miss the policy declined to store after all (`BYPASS`).
    Bypassed,
    Removed(bool),
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Get(u32),
    Remove(u32),
}

/// The reference models implement this.
trait Model {
    fn get(&mut self, key: u32) -> Event;
    fn remove(&mut self, key: u32) -> bool;
}

/// Drives a real policy the way `Cache` does: slots, a free list, evict when full.
struct Harness {
    policy: AnyPolicy,
    slot_of: HashMap<u32, Slot>,
    key_of: Vec<u32>,
    free: Vec<Slot>,
    cap: usize,
    /// Whether the policy's `next_victim` hint must name the next eviction exactly (the
    /// list policies, whose oldest entry is the victim).
    exact_hint: bool,
    /// Keys the policy evicted on its own during the last operation (`Policy::take_evicted`).
    dropped: Vec<u32>,
}

impl Harness {
    fn new(name: &str, cap: usize) -> Self {
        Harness {
            policy: PolicySpec::from_name(name).unwrap().build(cap, 7),
            slot_of: HashMap::new(),
            key_of: Vec::new(),
            free: Vec::new(),
            cap,
            exact_hint: matches!(name, "lru" | "fifo"),
            dropped: Vec::new(),
        }
    }

    fn take_dropped(&mut self) {
        while let Some(slot) = self.policy.take_evicted() {
            let key = self.key_of[slot as usize];
            assert_eq!(
                self.slot_of.remove(&key),
                Some(slot),
                "dropped a resident entry"
            );
            self.free.push(slot);
            self.dropped.push(key);
        }
    }
}

impl Model for Harness {
    fn get(&mut self, key: u32) -> Event {
        let access = Access::key(key);
        self.dropped.clear();
        if let Some(&slot) = self.slot_of.get(&key) {
            self.policy.touch(slot, &access);
            self.take_dropped();
            return Event::Hit;
        }
        let mut evicted = None;
        let slot = if self.slot_of.len() == self.cap {
            let hint = self.policy.next_victim();
            let victim = self.policy.evict(&access);
            if victim == BYPASS {
                return Event::Bypassed;
            }
            if self.exact_hint {
                assert_eq!(hint, Some(victim), "next_victim names the next eviction");
            }
            let old = self.key_of[victim as usize];
            assert_eq!(self.slot_of.remove(&old), Some(victim));
            evicted = Some(old);
            victim
        } else if let Some(s) = self.free.pop() {
            s
        } else {
            self.key_of.push(0);
            (self.key_of.len() - 1) as Slot
        };
        self.key_of[slot as usize] = key;
        self.slot_of.insert(key, slot);
        self.policy.insert(slot, &access);
        self.take_dropped();
        Event::Miss(evicted)
    }

    fn remove(&mut self, key: u32) -> bool {
        self.dropped.clear();
        match self.slot_of.remove(&key) {
            Some(slot) => {
                self.policy.remove(slot);
                self.free.push(slot);
                true
            }
            None => false,
        }
    }
}

fn pos(v: &[u32], key: u32) -> Option<usize> {
    v.iter().position(|&k| k == key)
}

// ---------- reference models (front of each Vec = oldest / LRU end) ----------

struct FifoModel {
    q: Vec<u32>,
    cap: usize,
}
impl Model for FifoModel {
    fn get(&mut self, key: u32) -> Event {
        if pos(&self.q, key).is_some() {
            return Event::Hit;
        }
        let ev = (self.q.len() == self.cap).then(|| self.q.remove(0));
        self.q.push(key);
        Event::Miss(ev)
    }
    fn remove(&mut self, key: u32) -> bool {
        pos(&self.q, key).map(|i| self.q.remove(i)).is_some()
    }
}

struct LruModel {
    q: Vec<u32>,
    cap: usize,
}
impl Model for LruModel {
    fn get(&mut self, key: u32) -> Event {
        if let Some(i) = pos(&self.q, key) {
            self.q.remove(i);
            self.q.push(key);
            return Event::Hit;
        }
        let ev = (self.q.len() == self.cap).then(|| self.q.remove(0));
        self.q.push(key);
        Event::Miss(ev)
    }
    fn remove(&mut self, key: u32) -> bool {
        pos(&self.q, key).map(|i| self.q.remove(i)).is_some()
    }
}

/// LFU: (key, count, when it reached that count); evict the lowest (count, when).
struct LfuModel {
    e: Vec<(u32, u64, u64)>,
    cap: usize,
    tick: u64,
}
impl Model for LfuModel {
    fn get(&mut self, key: u32) -> Event {
        self.tick += 1;
        if let Some(x) = self.e.iter_mut().find(|x| x.0 == key) {
            x.1 += 1;
            x.2 = self.tick;
            return Event::Hit;
        }
        let mut ev = None;
        if self.e.len() == self.cap {
            let i = (0..self.e.len())
                .min_by_key(|&i| (self.e[i].1, self.e[i].2))
                .unwrap();
            ev = Some(self.e.remove(i).0);
        }
        self.e.push((key, 1, self.tick));
        Event::Miss(ev)
    }
    fn remove(&mut self, key: u32) -> bool {
        let n = self.e.len();
        self.e.retain(|x| x.0 != key);
        n != self.e.len()
    }
}

struct ClockModel {
    q: Vec<(u32, bool)>,
    cap: usize,
}
impl Model for ClockModel {
    fn get(&mut self, key: u32) -> Event {
        if let Some(x) = self.q.iter_mut().find(|x| x.0 == key) {
            x.1 = true;
            return Event::Hit;
        }
        let mut ev = None;
        if self.q.len() == self.cap {
            loop {
                let (k, r) = self.q.remove(0);
                if !r {
                    ev = Some(k);
                    break;
                }
                self.q.push((k, false));
            }
        }
        self.q.push((key, false));
        Event::Miss(ev)
    }
    fn remove(&mut self, key: u32) -> bool {
        let n = self.q.len();
        self.q.retain(|x| x.0 != key);
        n != self.q.len()
    }
}

/// SIEVE: entries never move; the hand is the key it points at (None: the oldest).
struct SieveModel {
    q: Vec<(u32, bool)>,
    hand: Option<u32>,
    cap: usize,
}
impl SieveModel {
    fn next_key(&self, i: usize) -> Option<u32> {
        self.q.get(i + 1).map(|x| x.0)
    }
}
impl Model for SieveModel {
    fn get(&mut self, key: u32) -> Event {
        if let Some(x) = self.q.iter_mut().find(|x| x.0 == key) {
            x.1 = true;
            return Event::Hit;
        }
        let mut ev = None;
        if self.q.len() == self.cap {
            let mut i = self
                .hand
                .map(|h| self.q.iter().position(|x| x.0 == h).unwrap())
                .unwrap_or(0);
            while self.q[i].1 {
                self.q[i].1 = false;
                i = (i + 1) % self.q.len();
            }
            self.hand = self.next_key(i);
            ev = Some(self.q.remove(i).0);
        }
        self.q.push((key, false));
        Event::Miss(ev)
    }
    fn remove(&mut self, key: u32) -> bool {
        let Some(i) = self.q.iter().position(|x| x.0 == key) else {
            return false;
        };
        if self.hand == Some(key) {
            self.hand = self.next_key(i);
        }
        self.q.remove(i);
        true
    }
}

/// S3-FIFO as libCacheSim's S3FIFO.c describes it, with plain vectors.
struct S3FifoModel {
    small: Vec<u32>,
    main: Vec<u32>,
    ghost: Vec<u32>,
    freq: HashMap<u32, u8>,
    cap: usize,
    small_cap: usize,
    ghost_cap: usize,
    has_evicted: bool,
}
impl S3FifoModel {
    fn new(cap: usize) -> Self {
        S3FifoModel {
            small: vec![],
            main: vec![],
            ghost: vec![],
            freq: HashMap::new(),
            cap,
            small_cap: (cap as f64 * 0.1) as usize,
            ghost_cap: (cap as f64 * 0.9) as usize,
            has_evicted: false,
        }
    }
    fn evict(&mut self) -> u32 {
        self.has_evicted = true;
        loop {
            if self.main.len() > self.cap - self.small_cap || self.small.is_empty() {
                loop {
                    let k = self.main.remove(0);
                    let f = self.freq[&k];
                    if f == 0 {
                        self.freq.remove(&k);
                        return k;
                    }
                    self.freq.insert(k, f.min(3) - 1);
                    self.main.push(k);
                }
            }
            while !self.small.is_empty() {
                let k = self.small.remove(0);
                if self.freq[&k] >= 2 {
                    self.freq.insert(k, 0);
                    self.main.push(k);
                } else {
                    self.freq.remove(&k);
                    self.ghost.push(k);
                    if self.ghost.len() > self.ghost_cap {
                        self.ghost.remove(0);
                    }
                    return k;
                }
            }
        }
    }
}
impl Model for S3FifoModel {
    fn get(&mut self, key: u32) -> Event {
        if let Some(f) = self.freq.get_mut(&key) {
            *f = (*f + 1).min(3);
            return Event::Hit;
        }
        // The key leaves the ghost before the eviction, which could push it out.
        let in_ghost = pos(&self.ghost, key)
            .map(|i| self.ghost.remove(i))
            .is_some();
        let ev = (self.small.len() + self.main.len() == self.cap).then(|| self.evict());
        if in_ghost || (!self.has_evicted && self.small.len() >= self.small_cap) {
            self.main.push(key);
        } else {
            self.small.push(key);
        }
        self.freq.insert(key, 0);
        Event::Miss(ev)
    }
    fn remove(&mut self, key: u32) -> bool {
        if self.freq.remove(&key).is_none() {
            return false;
        }
        self.small.retain(|&k| k != key);
        self.main.retain(|&k| k != key);
        true
    }
}

/// ARC as in the paper's Figure 4, with plain vectors (front = LRU).
struct ArcModel {
    t1: Vec<u32>,
    t2: Vec<u32>,
    b1: Vec<u32>,
    b2: Vec<u32>,
    p: f64,
    c: usize,
}
impl ArcModel {
    fn replace(&mut self, in_b2: bool) -> u32 {
        let t1 = self.t1.len() as f64;
        if !self.t1.is_empty() && (t1 > self.p || (in_b2 && t1 == self.p) || self.t2.is_empty()) {
            let k = self.t1.remove(0);
            self.b1.push(k);
            k
        } else {
            let k = self.t2.remove(0);
            self.b2.push(k);
            k
        }
    }
}
impl Model for ArcModel {
    fn get(&mut self, key: u32) -> Event {
        if let Some(i) = pos(&self.t1, key) {
            self.t1.remove(i);
            self.t2.push(key);
            return Event::Hit;
        }
        if let Some(i) = pos(&self.t2, key) {
            self.t2.remove(i);
            self.t2.push(key);
            return Event::Hit;
        }
        let full = self.t1.len() + self.t2.len() == self.c;
        let (b1, b2) = (self.b1.len() as f64, self.b2.len() as f64);
        let mut ev = None;
        if let Some(i) = pos(&self.b1, key) {
            self.p = (self.p + if b1 >= b2 { 1.0 } else { b2 / b1 }).min(self.c as f64);
            if full {
                ev = Some(self.replace(false));
            }
            self.b1.retain(|&k| k != key);
            let _ = i;
            self.t2.push(key);
        } else if pos(&self.b2, key).is_some() {
            self.p = (self.p - if b2 >= b1 { 1.0 } else { b1 / b2 }).max(0.0);
            if full {
                ev = Some(self.replace(true));
            }
            self.b2.retain(|&k| k != key);
            self.t2.push(key);
        } else {
            if full {
                if self.t1.len() + self.b1.len() >= self.c {
                    // As libCacheSim: B1 having a ghost, not |T1| < c, which removals can
                    // make differ (the directory is not trimmed after them).
                    if !self.b1.is_empty() {
                        self.b1.remove(0);
                        ev = Some(self.replace(false));
                    } else {
                        ev = Some(self.t1.remove(0));
                    }
                } else {
                    let total = self.t1.len() + self.t2.len() + self.b1.len() + self.b2.len();
                    if total >= 2 * self.c {
                        self.b2.remove(0);
                    }
                    ev = Some(self.replace(false));
                }
            }
            self.t1.push(key);
        }
        // After invalidations the directory may outgrow the paper's bounds; as in
        // libCacheSim, nothing trims it but case IV's ghost deletions.
        Event::Miss(ev)
    }
    fn remove(&mut self, key: u32) -> bool {
        let n = self.t1.len() + self.t2.len();
        self.t1.retain(|&k| k != key);
        self.t2.retain(|&k| k != key);
        n != self.t1.len() + self.t2.len()
    }
}

/// LIRS as in the paper (Jiang and Zhang 2002, HIR share 1%), with plain vectors and a
/// status map: S bottom first, Q front first.
struct LirsModel {
    s: Vec<u32>,
    q: Vec<u32>,
    /// `Lir`, `Hir` (resident) or `Ghost` (non-resident, in S); absent = unknown.
    status: HashMap<u32, LirsStatus>,
    lir: usize,
    lir_cap: usize,
    cap: usize,
}
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LirsStatus {
    Lir,
    Hir,
    Ghost,
}
impl LirsModel {
    fn new(cap: usize) -> Self {
        let hir = ((cap as f64 * 0.01) as usize).max(1);
        LirsModel {
            s: vec![],
            q: vec![],
            status: HashMap::new(),
            lir: 0,
            lir_cap: cap.saturating_sub(hir),
            cap,
        }
    }
    fn move_to_top(&mut self, key: u32) {
        self.s.retain(|&k| k != key);
        self.s.push(key);
    }
    fn prune(&mut self) {
        while let Some(&k) = self.s.first() {
            if self.status.get(&k) == Some(&LirsStatus::Lir) {
                return;
            }
            self.s.remove(0);
            if self.status.get(&k) == Some(&LirsStatus::Ghost) {
                self.status.remove(&k);
            }
        }
    }
    fn make_lir(&mut self, key: u32) {
        self.status.insert(key, LirsStatus::Lir);
        self.lir += 1;
        while self.lir > self.lir_cap {
            self.prune();
            match self.s.first() {
                Some(&k) if k != key => {
                    self.s.remove(0);
                    self.status.insert(k, LirsStatus::Hir);
                    self.lir -= 1;
                    self.q.push(k);
                    self.prune();
                }
                _ => return,
            }
        }
    }
    fn forget_lir(&mut self, key: u32) {
        self.s.retain(|&k| k != key);
        self.status.remove(&key);
        self.lir -= 1;
        self.prune();
    }
    fn leave(&mut self, key: u32) {
        if pos(&self.s, key).is_some() {
            self.status.insert(key, LirsStatus::Ghost);
        } else {
            self.status.remove(&key);
        }
    }
}
impl Model for LirsModel {
    fn get(&mut self, key: u32) -> Event {
        match self.status.get(&key).copied() {
            Some(LirsStatus::Lir) => {
                self.move_to_top(key);
                self.prune();
                return Event::Hit;
            }
            Some(LirsStatus::Hir) => {
                if pos(&self.s, key).is_some() {
                    self.move_to_top(key);
                    self.q.retain(|&k| k != key);
                    self.make_lir(key);
                } else {
                    self.s.push(key);
                    self.q.retain(|&k| k != key);
                    self.q.push(key);
                }
                return Event::Hit;
            }
            _ => {}
        }
        let resident = self
            .status
            .values()
            .filter(|&&st| st != LirsStatus::Ghost)
            .count();
        let mut ev = None;
        if resident == self.cap {
            if self.q.is_empty() {
                let k = self.s[0];
                self.forget_lir(k);
                ev = Some(k);
            } else {
                let k = self.q.remove(0);
                self.leave(k);
                ev = Some(k);
            }
        }
        if self.status.get(&key) == Some(&LirsStatus::Ghost) {
            self.move_to_top(key);
            self.make_lir(key);
        } else if self.lir < self.lir_cap {
            self.status.insert(key, LirsStatus::Lir);
            self.lir += 1;
            self.s.push(key);
        } else {
            self.status.insert(key, LirsStatus::Hir);
            self.s.push(key);
            self.q.push(key);
        }
        Event::Miss(ev)
    }
    fn remove(&mut self, key: u32) -> bool {
        match self.status.get(&key).copied() {
            Some(LirsStatus::Lir) => self.forget_lir(key),
            Some(LirsStatus::Hir) => {
                self.q.retain(|&k| k != key);
                self.leave(key);
            }
            _ => return false,
        }
        true
    }
}

fn model(name: &str, cap: usize) -> Box<dyn Model> {
    match name {
        "lirs" => Box::new(LirsModel::new(cap)),
        "fifo" => Box::new(FifoModel { q: vec![], cap }),
        "lru" => Box::new(LruModel { q: vec![], cap }),
        "lfu" => Box::new(LfuModel {
            e: vec![],
            cap,
            tick: 0,
        }),
        "clock" => Box::new(ClockModel { q: vec![], cap }),
        "sieve" => Box::new(SieveModel {
            q: vec![],
            hand: None,
            cap,
        }),
        "s3fifo" => Box::new(S3FifoModel::new(cap)),
        "arc" => Box::new(ArcModel {
            t1: vec![],
            t2: vec![],
            b1: vec![],
            b2: vec![],
            p: 0.0,
            c: cap,
        }),
        _ => unreachable!(),
    }
}

fn run(name: &str, cap: usize, ops: &[Op]) -> Result<(), TestCaseError> {
    let mut real = Harness::new(name, cap);
    let mut reference = model(name, cap);
    for (i, &op) in ops.iter().enumerate() {
        let (a, b) = match op {
            Op::Get(k) => (real.get(k), reference.get(k)),
            Op::Remove(k) => (
                Event::Removed(real.remove(k)),
                Event::Removed(reference.remove(k)),
            ),
        };
        prop_assert_eq!(a, b, "{} cap {}: op #{} {:?}", name, cap, i, op);
    }
    Ok(())
}

/// Skewed keys (a few hot ones) so that hits, ghosts and promotions all happen.
fn ops(keys: u32, removes: bool) -> impl Strategy<Value = Vec<Op>> {
    let key = prop_oneof![3 => 0..4u32, 2 => 0..keys];
    let op = (key, 0..20u32).prop_map(move |(k, r)| {
        if removes && r == 0 {
            Op::Remove(k)
        } else {
            Op::Get(k)
        }
    });
    proptest::collection::vec(op, 0..600)
}

fn cases() -> ProptestConfig {
    ProptestConfig {
        cases: 1024,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x5eed),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

macro_rules! model_test {
    ($test:ident, $name:literal, $caps:expr) => {
        proptest! {
            #![proptest_config(cases())]
            #[test]
            fn $test(cap in $caps, seq in ops(40, true)) {
                run($name, cap, &seq)?;
            }
        }
    };
}

model_test!(fifo_matches_model, "fifo", 1usize..12);
model_test!(lru_matches_model, "lru", 1usize..12);
model_test!(lfu_matches_model, "lfu", 1usize..12);
model_test!(clock_matches_model, "clock", 1usize..12);
model_test!(sieve_matches_model, "sieve", 1usize..12);
model_test!(s3fifo_matches_model, "s3fifo", 1usize..40);
model_test!(arc_matches_model, "arc", 1usize..16);
model_test!(lirs_matches_model, "lirs", 1usize..40);

proptest! {
    #![proptest_config(cases())]
    /// LIRS again over more keys, at sizes whose HIR share is 1 entry and more.
    #[test]
    fn lirs_matches_model_with_larger_caches(cap in 100usize..200, seq in ops(1000, true)) {
        run("lirs", cap, &seq)?;
    }
}

/// Issue 4's memory budget: at most 48 bytes of policy state per cached object, ghosts
/// included, by the policy's own heap accounting, for ARC once its directory is full.
/// (Its arrays are sized from the capacity, so this holds at any size.)
#[test]
fn arc_state_is_at_most_48_bytes_per_cached_object() {
    for cap in [1_000usize, 10_000, 100_000] {
        let mut h = Harness::new("arc", cap);
        let mut x = 1u64;
        for _ in 0..20 * cap {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let r = (x >> 33) as u32;
            // Half the requests to a hot set twice the cache, half over 100 caches' worth.
            let span = if r & 1 == 0 { 2 } else { 100 };
            h.get((r >> 1) % (span * cap as u32));
        }
        let bytes = h.policy.heap_bytes().expect("ARC accounts its heap");
        assert!(bytes <= 48 * cap, "ARC at {cap}: {bytes} bytes");
    }
}

proptest! {
    #![proptest_config(cases())]
    /// Every policy, with or without a reference model: victims are resident entries, the
    /// cache never holds more than its capacity, and a removed entry is never evicted.
    #[test]
    fn every_policy_evicts_only_resident_entries(cap in 1usize..20, seq in ops(50, true)) {
        for name in PolicySpec::NAMES {
            let mut h = Harness::new(name, cap);
            let mut resident = std::collections::HashSet::new();
            for &op in &seq {
                match op {
                    Op::Get(k) => match h.get(k) {
                        Event::Hit => prop_assert!(resident.contains(&k), "{}", name),
                        Event::Miss(ev) => {
                            prop_assert!(!resident.contains(&k), "{}", name);
                            if let Some(e) = ev {
                                prop_assert!(resident.remove(&e), "{} evicted {}", name, e);
                            }
                            resident.insert(k);
                        }
                        Event::Bypassed => prop_assert!(!resident.contains(&k), "{}", name),
                        Event::Removed(_) => unreachable!(),
                    },
                    Op::Remove(k) => prop_assert_eq!(h.remove(k), resident.remove(&k)),
                }
                for e in &h.dropped {
                    prop_assert!(resident.remove(e), "{} dropped {}", name, e);
                }
                prop_assert!(resident.len() <= cap);
            }
        }
    }
}
