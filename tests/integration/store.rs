//! The store seen from a scenario: a policy written outside the crate runs in a layer,
//! and a browser layer refuses what its store cannot do, naming the key.

use tiersim::policy::{Access, CustomPolicy, Lru, Policy, PolicySpec, Slot};
use tiersim::scenario::{Format, Source};

use crate::support::plan;

/// FIFO written from outside: evicts in insertion order, hits do not reorder.
#[derive(Default)]
struct Fifo {
    order: std::collections::VecDeque<Slot>,
}

impl Policy for Fifo {
    fn insert(&mut self, slot: Slot, _: &Access) {
        self.order.push_back(slot);
    }
    fn touch(&mut self, _: Slot, _: &Access) {}
    fn evict(&mut self, _: &Access) -> Slot {
        self.order.pop_front().expect("resident entries")
    }
    fn remove(&mut self, slot: Slot) {
        self.order.retain(|&s| s != slot);
    }
}

const SCENARIO: &str = r#"
    name = "custom"
    seed = 3
    requests = 50000
    [workload]
    keys = 1000
    rate = 1000.0
    write_ratio = 0.05
    [[layers]]
    name = "l1"
    kind = "in_process"
    capacity = 100
    ttl_s = 5
    [[layers]]
    name = "db"
    kind = "database"
    "#;

/// A custom policy that is the built-in FIFO, written again, gives the built-in FIFO's
/// counts request for request; the report names it by its own name.
#[test]
fn a_custom_policy_runs_like_the_built_in_it_copies() {
    let run = |policy: PolicySpec| {
        let mut p = plan(SCENARIO);
        p.caches[0].policy = policy;
        tiersim::simulate(&p)
    };
    let custom = run(CustomPolicy::new("my_fifo", |_, _| Box::new(Fifo::default())).into());
    let builtin = run(PolicySpec::from_name("fifo").unwrap());
    let (c, b) = (&custom.layers[0], &builtin.layers[0]);
    assert_eq!(c.policy.as_deref(), Some("my_fifo"));
    assert_eq!(
        (c.hits, c.misses, c.evictions),
        (b.hits, b.misses, b.evictions)
    );
    assert_eq!(c.hits + c.misses, c.requests);
    assert!(c.hits > 0 && c.evictions > 0, "{c:?}");
    // And it is not just any policy: LRU differs on the same requests.
    let lru = run(CustomPolicy::new("my_lru", |_, _| Box::new(Lru::default())).into());
    assert_ne!(lru.layers[0].hits, c.hits);
}

/// A custom policy serializes as its name, and a file cannot name it.
#[test]
fn a_custom_policy_is_its_name_and_no_file_can_name_it() {
    let spec: PolicySpec = CustomPolicy::new("mine", |_, _| Box::new(Lru::default())).into();
    assert_eq!(spec.to_string(), "mine");
    assert_eq!(serde_json::to_string(&spec).unwrap(), r#""mine""#);
    assert!(spec.check().is_ok() && !spec.needs_future());
    let file = SCENARIO.replace("ttl_s = 5", "ttl_s = 5\n    policy = \"mine\"");
    let e = Source::new("bad.toml", file, Format::Toml)
        .plan(&[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("unknown policy `mine`"), "{e}");
}

/// A browser layer's store keeps LRU order only, in entries, at most 4096 a client:
/// the store's own check refuses anything else and names the key.
#[test]
fn a_browser_store_refuses_what_it_cannot_do() {
    let error = |layer: &str| {
        let toml = format!(
            "name = \"b\"\nrequests = 10\n[workload]\nkeys = 100\nrate = 1.0\nclients = 10\n\
             [[layers]]\nname = \"browser\"\nkind = \"browser\"\n{layer}\n\
             [[layers]]\nname = \"db\"\nkind = \"database\"\n"
        );
        match Source::new("bad.toml", toml, Format::Toml).plan(&[]) {
            Ok(_) => panic!("accepted: {layer}"),
            Err(e) => e.to_string(),
        }
    };
    let e = error("capacity = 10\npolicy = \"fifo\"");
    assert!(
        e.contains("layers.browser.policy")
            && e.contains("a browser cache keeps LRU order only; remove the key or use lru"),
        "{e}"
    );
    let e = error("capacity = 5000");
    assert!(
        e.contains("layers.browser.capacity") && e.contains("at most 4096"),
        "{e}"
    );
    let e = error("capacity_bytes = 1000");
    assert!(e.contains("layers.browser.capacity_bytes"), "{e}");
    let e = error("capacity = 10\nsync_expiry = { keys = 5 }\nttl_s = 1");
    assert!(e.contains("sync_expiry") && e.contains("no write"), "{e}");
    // LRU, named or not, is fine.
    assert!(
        Source::new(
            "ok.toml",
            "name = \"b\"\nrequests = 10\n[workload]\nkeys = 100\nrate = 1.0\n\
             [[layers]]\nname = \"browser\"\nkind = \"browser\"\ncapacity = 10\npolicy = \"lru\"\n\
             [[layers]]\nname = \"db\"\nkind = \"database\"\n",
            Format::Toml
        )
        .plan(&[])
        .is_ok()
    );
}
