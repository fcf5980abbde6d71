//! A policy written outside the crate, run in a scenario built from code.
//!
//! MRU (most recently used) evicts the entry touched last. On a loop over more keys than
//! the cache holds, LRU always evicts the key the loop needs soonest and never hits;
//! MRU keeps most of the loop resident and hits on it every pass. The example implements
//! MRU as a [`Policy`], reads a scenario whose workload is such a loop (a CSV trace of
//! 50 passes over 1,000 keys, before an app cache of 500 entries), runs it with LRU and
//! with MRU, and checks both the counts and the difference.
//!
//! Run with `cargo run --release --example custom_policy` (a second or two).

use std::io::Write as _;

use tiersim::policy::{Access, CustomPolicy, Policy, PolicySpec, Slot};
use tiersim::scenario::{Format, Source};

/// The end of a list.
const NIL: Slot = Slot::MAX;

/// Most recently used: a recency list through the slots, the most recent at `head`,
/// which is the next victim.
#[derive(Debug, Default)]
struct Mru {
    /// The slot used just after each slot (towards older entries), or `NIL`.
    older: Vec<Slot>,
    /// The slot used just before each slot (towards `head`), or `NIL`.
    newer: Vec<Slot>,
    head: Slot,
}

impl Mru {
    fn with_capacity(slots: usize) -> Self {
        Mru {
            older: Vec::with_capacity(slots),
            newer: Vec::with_capacity(slots),
            head: NIL,
        }
    }

    /// Puts `slot`, not in the list, at its head.
    fn push_head(&mut self, slot: Slot) {
        let s = slot as usize;
        self.older[s] = self.head;
        self.newer[s] = NIL;
        if self.head != NIL {
            self.newer[self.head as usize] = slot;
        }
        self.head = slot;
    }

    /// Takes `slot` out of the list.
    fn unlink(&mut self, slot: Slot) {
        let s = slot as usize;
        let (older, newer) = (self.older[s], self.newer[s]);
        if older != NIL {
            self.newer[older as usize] = newer;
        }
        if newer != NIL {
            self.older[newer as usize] = older;
        } else {
            self.head = older;
        }
    }
}

impl Policy for Mru {
    fn insert(&mut self, slot: Slot, _: &Access) {
        // Slots are small integers handed out from 0: grow the links to reach them.
        if slot as usize >= self.older.len() {
            self.older.resize(slot as usize + 1, NIL);
            self.newer.resize(slot as usize + 1, NIL);
        }
        self.push_head(slot);
    }

    fn touch(&mut self, slot: Slot, _: &Access) {
        self.unlink(slot);
        self.push_head(slot);
    }

    fn evict(&mut self, _: &Access) -> Slot {
        let victim = self.head;
        assert_ne!(
            victim, NIL,
            "evict is called only while entries are resident"
        );
        self.unlink(victim);
        victim
    }

    fn remove(&mut self, slot: Slot) {
        self.unlink(slot);
    }
}

const KEYS: u32 = 1_000;
const PASSES: u32 = 50;
const CAPACITY: u32 = 500;

fn main() {
    // The loop, as a CSV trace: one key per line.
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("loop.csv");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).expect("writable"));
    for _ in 0..PASSES {
        for key in 0..KEYS {
            writeln!(file, "{key}").expect("writable");
        }
    }
    file.flush().expect("writable");
    drop(file);

    // A request every millisecond on average, each miss answered in a microsecond: no
    // request finds its key still on the way from the database.
    let text = format!(
        r#"
        name = "loop"
        [workload]
        trace = {{ path = "{}", format = "csv" }}
        rate = 1000.0
        [[layers]]
        name = "app"
        kind = "in_process"
        capacity = {CAPACITY}
        [[layers]]
        name = "db"
        kind = "database"
        latency = {{ dist = "constant", ms = 0.001 }}
        "#,
        path.display().to_string().replace('\\', "/")
    );
    let (_, plan) = Source::new("custom_policy example", text, Format::Toml)
        .plan(&[])
        .expect("a valid scenario");

    let mru = PolicySpec::Custom(CustomPolicy::new("mru", |capacity, _seed| {
        Box::new(Mru::with_capacity(capacity.slots_hint))
    }));
    let lru = PolicySpec::from_name("lru").expect("a built-in policy");

    println!("policy  requests      hits  hit_ratio");
    let mut ratios = Vec::new();
    for policy in [lru, mru] {
        let mut plan = plan.clone();
        plan.caches[0].policy = policy;
        let report = tiersim::simulate(&plan);
        let app = &report.layers[0];
        let hit_ratio = app.hit_ratio.expect("a cache layer");
        println!(
            "{:<6} {:>9} {:>9} {:>10.4}",
            app.policy.as_deref().unwrap_or("-"),
            app.requests,
            app.hits,
            hit_ratio
        );
        assert_eq!(
            app.hits + app.misses,
            app.requests,
            "every request hits or misses"
        );
        assert_eq!(
            app.requests,
            u64::from(KEYS * PASSES),
            "the whole trace ran"
        );
        ratios.push(hit_ratio);
    }
    let (lru, mru) = (ratios[0], ratios[1]);
    // LRU evicts each key just before the loop comes back to it.
    assert_eq!(lru, 0.0, "LRU never hits on a loop larger than the cache");
    // MRU keeps 499 keys resident from one pass to the next; the 500th slot churns.
    let expected = f64::from(CAPACITY - 1) / f64::from(KEYS);
    assert!(
        mru > 0.9 * expected && mru <= expected,
        "MRU hits on about {expected:.3} of the requests, got {mru:.4}"
    );
}
