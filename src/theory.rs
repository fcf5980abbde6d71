//! Theory beside the simulation: for each layer of a scenario, the closed-form model
//! that applies (its prediction next to what the run measured), or the one assumption
//! that fails. It owns the formulas (`che`, `ttl`, `queue`, each citing its source)
//! and the decision of which applies; it reads a [`Plan`] and its [`Report`] and
//! returns the rows of `summary.json`'s `theory` block ([`TheoryRow`]). The engine never
//! calls it.
//!
//! Cache layers are taken in path order, each fed by the per-key request rates the
//! layers before it pass on: the workload's Poisson, independent-reference stream at
//! the first, then each layer's predicted misses. A layer of several nodes is modelled
//! node by node: nodes by key hash (shards, shield nodes, a `key_hash` balancer) each
//! hold their own keys; nodes that share the keys (round robin or random balancing,
//! PoPs, browsers) each see their share of every key's requests. The database is a
//! queue with `connections` servers.

pub mod che;
pub mod queue;
pub mod ttl;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::layer::latency::LatencySpec;
use crate::layer::stampede::Stampede;
use crate::layer::topology::{Balancer, PopMap, Ring, hash_salt, key_hash};
use crate::layer::{CachePlan, Topology};
use crate::output::report::{Report, TheoryRow};
use crate::scenario::Plan;
use crate::workload::PopularitySpec;
use crate::workload::write::WriteStrategy;

/// Fewer keys than this and the misses reaching the database are not taken as a
/// Poisson stream: the merge of many thin independent streams is nearly Poisson
/// (Palm–Khintchine), that of a few is not.
pub const MIN_KEYS_FOR_POISSON: u32 = 1_000;

/// The most keys the per-key formulas evaluate: each takes about 60 bytes of
/// transient vectors a key per layer, so this bounds them near 250 MB.
pub const MAX_KEYS: u32 = 1 << 22;

/// Model name of Che's approximation.
const CHE: &str = "Che approximation (LRU, independent reference model)";
/// Model name of the FIFO/RANDOM approximation.
const FIFO: &str = "FIFO/RANDOM approximation (Gelenbe 1973; Martina, Garetto & Leonardi 2014), independent reference model";
/// Model name of perfect LFU.
const LFU: &str = "perfect LFU: the C most popular keys (independent reference model)";
/// Model name of the TTL formula.
const TTL: &str = "TTL cache without reset (Jung, Berger & Balakrishnan 2003), Poisson requests";

/// Which model a cache layer takes.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Model {
    Lru,
    Fifo,
    Lfu,
    /// A TTL with room for every key: mean TTL, seconds, and its jitter.
    Ttl(f64, f64),
    /// A TTL (mean, jitter) and a capacity that both bind, under this eviction.
    Both(f64, f64, che::Eviction),
}

/// How a layer's nodes share the keys.
enum Split {
    /// Each key lives on one node: `node_of[key]`, among `nodes`.
    Partition { nodes: u32, node_of: Vec<u32> },
    /// Every node sees every key: (share of the requests, nodes with that share).
    Shared(Vec<(f64, u32)>),
}

impl Split {
    fn nodes(&self) -> u64 {
        match self {
            Split::Partition { nodes, .. } => u64::from(*nodes),
            Split::Shared(g) => g.iter().map(|&(_, n)| u64::from(n)).sum(),
        }
    }

    fn label(&self) -> String {
        match self {
            Split::Partition { nodes: 1, .. } => String::new(),
            Split::Partition { nodes, .. } => format!("; per node ({nodes} nodes by key hash)"),
            Split::Shared(_) => format!(
                "; per node ({} nodes, each a share of every key's requests)",
                self.nodes()
            ),
        }
    }
}

/// A single-node TTL layer without jitter fed by Poisson requests: the second tier
/// behind it sees a renewal process of its misses.
struct Edge {
    name: String,
    ttl: f64,
    rates: Vec<f64>,
}

/// What reaches a cache layer.
struct Input {
    /// Each key's requests per second.
    rates: Vec<f64>,
    /// The layer before, if any: then the stream is its misses.
    before: Option<String>,
    /// The layer before as an edge for the two-tier TTL result.
    edge: Option<Edge>,
    /// The layer before was a TTL layer of this many nodes sharing keys or not.
    ttl_nodes_before: Option<(String, u64)>,
}

/// The rows of the `theory` block for a run of `plan` that gave `report`: one per cache
/// layer (`hit_ratio`), then the database's (`utilization`, `mean_queue_wait_ms`,
/// `mean_queue`, and the origin's `mean_rps` when every cache has a model).
pub fn compare(plan: &Plan, report: &Report) -> Vec<TheoryRow> {
    let mut rows = Vec::new();
    let global = workload_fails(plan);
    let mut input = match &global {
        Some(_) => None,
        None => Some(Input {
            rates: popularity(plan.workload.popularity, plan.workload.keys)
                .into_iter()
                .map(|q| q * plan.workload.rate)
                .collect(),
            before: None,
            edge: None,
            ttl_nodes_before: None,
        }),
    };
    let mut blocked: Option<String> = global.clone();
    for (index, c) in plan.caches.iter().enumerate() {
        let simulated = report.layers[index].hit_ratio.unwrap_or(0.0);
        let outcome = match (&input, &blocked) {
            (Some(inp), _) => layer(plan, index, c, inp),
            (None, Some(why)) => Err(why.clone()),
            (None, None) => unreachable!("a layer without input was blocked"),
        };
        match outcome {
            Ok((model, predicted, next)) => {
                rows.push(row(&c.name, "hit_ratio", Ok((model, predicted)), simulated));
                input = Some(next);
            }
            Err(why) => {
                rows.push(row(&c.name, "hit_ratio", Err(why.clone()), simulated));
                if global.is_none() {
                    blocked = Some(format!(
                        "the layer before it (`{}`) has no model, so the stream it passes on is unknown",
                        c.name
                    ));
                }
                input = None;
            }
        }
    }
    database(plan, report, input.as_ref(), &mut rows);
    rows
}

fn row(
    layer: &str,
    quantity: &str,
    what: Result<(String, f64), String>,
    simulated: f64,
) -> TheoryRow {
    let (model, predicted, fails) = match what {
        Ok((m, p)) => (Some(m), Some(p), None),
        Err(f) => (None, None, Some(f)),
    };
    TheoryRow {
        layer: layer.to_owned(),
        quantity: quantity.to_owned(),
        model,
        predicted,
        simulated,
        fails,
    }
}

fn popularity(p: PopularitySpec, keys: u32) -> Vec<f64> {
    p.probabilities(keys)
}

/// The assumption of the cache models that the workload breaks, if any.
fn workload_fails(plan: &Plan) -> Option<String> {
    let w = &plan.workload;
    if w.trace.is_some() {
        return Some(
            "the requests come from a trace: there is no popularity law to give the independent reference model"
                .to_owned(),
        );
    }
    if w.keys > MAX_KEYS {
        return Some(format!(
            "its {} keys exceed the {MAX_KEYS} that the per-key formulas evaluate here (`workload.keys`)",
            w.keys
        ));
    }
    if w.max_write_ratio() > 0.0 {
        return Some(
            "writes invalidate copies; the formulas assume a read-only independent reference model"
                .to_owned(),
        );
    }
    if w.missing_ratio > 0.0 {
        return Some(
            "some reads name keys that do not exist (`missing_ratio`); the formulas assume every read names one of the keys"
                .to_owned(),
        );
    }
    if w.content.is_active() {
        return Some(
            "content classes give keys their own sizes and Cache-Control lifetimes; the formulas assume entries of one size under one TTL per layer"
                .to_owned(),
        );
    }
    if !plan.faults.is_empty() {
        return Some(
            "a fault takes a layer down for a window; the formulas assume every layer up for the whole run"
                .to_owned(),
        );
    }
    None
}

/// How `c`'s nodes share the keys.
fn split(plan: &Plan, index: usize, c: &CachePlan) -> Split {
    let keys = plan.workload.keys;
    let by = |f: &dyn Fn(u32) -> u32, nodes: u32| Split::Partition {
        nodes,
        node_of: (0..keys).map(f).collect(),
    };
    let salt = hash_salt(plan.seed, index);
    match &c.topology {
        Topology::Single => by(&|_| 0, 1),
        Topology::KeyHash { nodes }
        | Topology::Balanced {
            instances: nodes,
            balancer: Balancer::KeyHash,
        } => by(&|k| key_hash(k, salt, *nodes), *nodes),
        Topology::Ring { shards, vnodes } => {
            let ring = Ring::new(*shards, *vnodes);
            by(&|k| ring.shard(k), *shards)
        }
        Topology::Balanced { instances, .. } => {
            Split::Shared(vec![(1.0 / f64::from(*instances), *instances)])
        }
        Topology::PerClient => {
            let n = plan.clients();
            Split::Shared(vec![(1.0 / f64::from(n), n)])
        }
        Topology::Pops { pops, .. } => {
            // Clients are drawn uniformly; each goes to its region's PoP by id.
            let map = PopMap::new(*pops, &plan.regions);
            let n = plan.clients();
            let mut per_pop = vec![0u32; *pops as usize];
            for client in 0..n {
                per_pop[map.pop(client, plan.regions.of(client)) as usize] += 1;
            }
            let mut groups: BTreeMap<u32, u32> = BTreeMap::new();
            for &k in &per_pop {
                *groups.entry(k).or_default() += 1;
            }
            Split::Shared(
                groups
                    .into_iter()
                    .filter(|&(k, _)| k > 0)
                    .map(|(k, m)| (f64::from(k) / f64::from(n), m))
                    .collect(),
            )
        }
    }
}

/// Cache layer `index`'s model, predicted hit ratio and the stream it passes on; or
/// why no model applies.
fn layer(
    plan: &Plan,
    index: usize,
    c: &CachePlan,
    input: &Input,
) -> Result<(String, f64, Input), String> {
    if c.capacity_bytes.is_some() {
        return Err("it is sized in bytes; the formulas count entries of one size".to_owned());
    }
    if let Some(mode) = stampede_mode(&c.stampede) {
        return Err(format!(
            "its stampede defence `{mode}` answers some reads with waits or stale copies, outside the hit-or-miss model"
        ));
    }
    if c.sync_expiry.is_some() {
        return Err(
            "a batch fill (`sync_expiry`) makes its copies expire together; the formulas describe a cache filled by its own misses"
                .to_owned(),
        );
    }
    let split = split(plan, index, c);
    let most_keys = match &split {
        Split::Partition { nodes, node_of } => {
            let mut count = vec![0u64; *nodes as usize];
            for (k, &n) in node_of.iter().enumerate() {
                if input.rates[k] > 0.0 {
                    count[n as usize] += 1;
                }
            }
            count.into_iter().max().unwrap_or(0)
        }
        Split::Shared(_) => input.rates.iter().filter(|&&r| r > 0.0).count() as u64,
    };
    let capacity = f64::from(c.capacity);
    let model = match c.ttl {
        Some(t) if u64::from(c.capacity) >= most_keys => Model::Ttl(t.as_secs_f64(), c.jitter),
        Some(t) => match c.policy.name() {
            "lru" => Model::Both(t.as_secs_f64(), c.jitter, che::Eviction::Lru),
            "fifo" => Model::Both(t.as_secs_f64(), c.jitter, che::Eviction::Fifo),
            "random" => Model::Both(t.as_secs_f64(), c.jitter, che::Eviction::Random),
            other => {
                return Err(format!(
                    "both its TTL and its capacity bind ({} entries per node for up to {most_keys} keys), and policy `{other}` has no closed form with a TTL (lru, fifo and random have)",
                    c.capacity
                ));
            }
        },
        None => match c.policy.name() {
            "lru" => Model::Lru,
            "fifo" | "random" => Model::Fifo,
            "perfect_lfu" => Model::Lfu,
            other => {
                return Err(format!(
                    "policy `{other}` has no closed form here (Che's approximation covers lru, fifo and random; perfect_lfu keeps the top C)"
                ));
            }
        },
    };
    // The two-tier TTL result needs each key on one node, behind one edge node.
    let renewal = match (model, &input.edge, &split) {
        (Model::Ttl(..), Some(edge), Split::Partition { .. }) => Some(edge),
        _ => None,
    };
    if let (Model::Ttl(..), None, Some((before, nodes))) = (model, renewal, &input.ttl_nodes_before)
        && *nodes > 1
    {
        return Err(format!(
            "its requests are the misses of `{before}`'s {nodes} nodes, whose copies filled from its own expire together; the two-tier TTL result assumes one node before it"
        ));
    }
    let hit_probs = |rates: &[f64]| -> Result<Vec<f64>, String> {
        Ok(match model {
            Model::Lru => che::lru_hit_probabilities(rates, capacity),
            Model::Fifo => che::fifo_hit_probabilities(rates, capacity),
            Model::Lfu => che::perfect_lfu_hit_probabilities(rates, capacity),
            Model::Ttl(t, _) => rates
                .iter()
                .map(|&r| ttl::hit_without_reset(r, t))
                .collect(),
            Model::Both(t, jitter, eviction) => {
                // Four quadrature points of a jittered TTL: midpoints of U(-1, 1)'s quarters.
                let ttls: Vec<f64> = if jitter == 0.0 {
                    vec![t]
                } else {
                    [-0.75, -0.25, 0.25, 0.75]
                        .iter()
                        .map(|u| t * (1.0 + jitter * u))
                        .collect()
                };
                che::ttl_hit_probabilities(rates, capacity, &ttls, eviction)
            }
        })
    };
    let mut served = vec![0.0; input.rates.len()];
    match &split {
        Split::Partition { nodes, node_of } => {
            let mut members: Vec<Vec<usize>> = vec![Vec::new(); *nodes as usize];
            for (k, &n) in node_of.iter().enumerate() {
                members[n as usize].push(k);
            }
            for keys in &members {
                let rates: Vec<f64> = keys.iter().map(|&k| input.rates[k]).collect();
                let h = match (renewal, model) {
                    (Some(edge), Model::Ttl(t, jitter)) => {
                        let mut h = Vec::with_capacity(keys.len());
                        for &k in keys {
                            h.push(renewal_hit(edge, k, t, jitter).ok_or_else(|| {
                                format!(
                                    "its TTL is more than {} times `{}`'s, too many renewals to sum",
                                    ttl::MAX_RENEWALS,
                                    edge.name
                                )
                            })?);
                        }
                        h
                    }
                    _ => hit_probs(&rates)?,
                };
                for ((&k, &r), hk) in keys.iter().zip(&rates).zip(h) {
                    served[k] += r * hk;
                }
            }
        }
        Split::Shared(groups) => {
            for &(share, count) in groups {
                let rates: Vec<f64> = input.rates.iter().map(|&r| r * share).collect();
                let h = hit_probs(&rates)?;
                for ((s, &r), hk) in served.iter_mut().zip(&rates).zip(h) {
                    *s += f64::from(count) * r * hk;
                }
            }
        }
    }
    let total: f64 = input.rates.iter().sum();
    let predicted = if total > 0.0 {
        served.iter().sum::<f64>() / total
    } else {
        0.0
    };
    let mut name = match (model, renewal) {
        (Model::Lru, _) => CHE.to_owned(),
        (Model::Fifo, _) => FIFO.to_owned(),
        (Model::Lfu, _) => LFU.to_owned(),
        (Model::Ttl(..), None) => TTL.to_owned(),
        (Model::Both(_, _, che::Eviction::Lru), _) => "Che approximation with a TTL from the fill: a copy leaves after T_C idle or T after its fill, the idle time taken as T_C plus an exponential".to_owned(),
        (Model::Both(..), _) => "FIFO/RANDOM approximation with a TTL from the fill: a copy leaves at its eviction time or T after its fill, whichever first".to_owned(),
        (Model::Ttl(..), Some(edge)) => format!(
            "two-tier TTL: the misses of `{}` as a renewal process (Jung et al. 2003; Berger et al. 2014)",
            edge.name
        ),
    };
    if let (Some(before), None) = (&input.before, renewal) {
        let _ = write!(
            name,
            "; its requests, the misses of `{before}`, taken as independent requests (Che, Tung & Wang 2002)"
        );
    }
    name.push_str(&split.label());
    let single = split.nodes() == 1;
    let next = Input {
        rates: input
            .rates
            .iter()
            .zip(&served)
            .map(|(r, s)| (r - s).max(0.0))
            .collect(),
        before: Some(c.name.clone()),
        edge: match model {
            Model::Ttl(t, jitter) if jitter == 0.0 && single && input.before.is_none() => {
                Some(Edge {
                    name: c.name.clone(),
                    ttl: t,
                    rates: input.rates.clone(),
                })
            }
            _ => None,
        },
        ttl_nodes_before: matches!(model, Model::Ttl(..)).then(|| (c.name.clone(), split.nodes())),
    };
    Ok((name, predicted, next))
}

/// Key `k`'s hit probability at a second tier with mean TTL `t` and `jitter` behind
/// `edge`: `E[M(T)] / (1 + E[M(T)])`, the expectation over the jittered TTL by the
/// midpoint rule on 16 points.
fn renewal_hit(edge: &Edge, k: usize, t: f64, jitter: f64) -> Option<f64> {
    let lambda = edge.rates[k];
    if lambda <= 0.0 {
        return Some(0.0);
    }
    let points: &[f64] = if jitter == 0.0 { &[0.0] } else { &MIDPOINTS };
    let mut m = 0.0;
    for &u in points {
        m += ttl::edge_miss_renewal(t * (1.0 + jitter * u), edge.ttl, lambda)?;
    }
    m /= points.len() as f64;
    Some(m / (1.0 + m))
}

/// Midpoints of 16 equal slices of `[-1, 1]`.
const MIDPOINTS: [f64; 16] = {
    let mut p = [0.0; 16];
    let mut i = 0;
    while i < 16 {
        p[i] = -1.0 + (2 * i + 1) as f64 / 16.0;
        i += 1;
    }
    p
};

/// A defence's name, or none for `none`.
fn stampede_mode(s: &Stampede) -> Option<&'static str> {
    match s {
        Stampede::None => None,
        Stampede::Coalesce => Some("coalesce"),
        Stampede::Lock { .. } => Some("lock"),
        Stampede::StaleWhileRevalidate { .. } => Some("stale_while_revalidate"),
        Stampede::StaleIfError { .. } => Some("stale_if_error"),
        Stampede::RefreshAhead { .. } => Some("refresh_ahead"),
        Stampede::Xfetch { .. } => Some("xfetch"),
    }
}

/// The squared coefficient of variation of a service time, or why it has none usable.
fn service_scv(s: &LatencySpec) -> Result<f64, String> {
    match *s {
        LatencySpec::Constant { .. } => Ok(0.0),
        LatencySpec::Exponential { .. } => Ok(1.0),
        LatencySpec::Uniform { min_ms, max_ms } => {
            let mean = (min_ms + max_ms) / 2.0;
            Ok(if mean > 0.0 {
                (max_ms - min_ms).powi(2) / 12.0 / (mean * mean)
            } else {
                0.0
            })
        }
        LatencySpec::Normal { mean_ms, sd_ms } if mean_ms >= 3.0 * sd_ms => {
            Ok(if mean_ms > 0.0 { (sd_ms / mean_ms).powi(2) } else { 0.0 })
        }
        LatencySpec::Normal { .. } => Err(
            "its service time is a normal truncated at zero well within three standard deviations, whose moments the formulas do not take"
                .to_owned(),
        ),
        LatencySpec::Lognormal { sigma, .. } => Ok((sigma * sigma).exp() - 1.0),
        LatencySpec::Pareto { shape, .. } if shape > 2.0 => Ok(1.0 / (shape * (shape - 2.0))),
        LatencySpec::Pareto { .. } => Err(
            "its service time (Pareto, shape at most 2) has an infinite variance; the queueing formulas need a finite one"
                .to_owned(),
        ),
    }
}

/// Why the queueing models do not apply to the database, if they do not.
fn database_fails(plan: &Plan) -> Option<String> {
    let w = &plan.workload;
    if plan.application.is_some() {
        return Some(
            "the application may time out, retry or refuse its calls (`[application]`); the queueing formulas assume each query once, waited for to its end"
                .to_owned(),
        );
    }
    if !plan.faults.is_empty() {
        return Some(
            "a fault takes a layer down for a window; the formulas assume every layer up for the whole run"
                .to_owned(),
        );
    }
    if w.trace.is_some() && w.timed {
        return Some(
            "arrivals follow the trace's timestamps; the queueing formulas assume Poisson arrivals"
                .to_owned(),
        );
    }
    if plan.writes.strategy == WriteStrategy::WriteBack && w.max_write_ratio() > 0.0 {
        return Some(
            "write-back flushes writes in batches; the queueing formulas assume Poisson arrivals"
                .to_owned(),
        );
    }
    if plan.database.rate_limit.is_some() || plan.database.shed.is_some() {
        return Some(
            "a rate limit or shedding at the database refuses queries the queueing formulas would admit"
                .to_owned(),
        );
    }
    if plan.caches.iter().any(|c| c.sync_expiry.is_some()) {
        return Some(
            "a batch fill (`sync_expiry`) expires all at once, so queries come in a burst; the queueing formulas assume Poisson arrivals"
                .to_owned(),
        );
    }
    if !plan.caches.is_empty() && w.trace.is_none() && w.keys < MIN_KEYS_FOR_POISSON {
        return Some(format!(
            "its queries are the misses of {} key{}, too few to merge into a Poisson stream; the queueing formulas assume Poisson arrivals",
            w.keys,
            if w.keys == 1 { "" } else { "s" }
        ));
    }
    None
}

/// The database's rows: the queue at the simulated (or, without caches, the
/// scenario's) arrival rate, and the origin's rate predicted by the caches' models.
fn database(plan: &Plan, report: &Report, input: Option<&Input>, rows: &mut Vec<TheoryRow>) {
    let db = &plan.database;
    let o = &report.origin;
    if let (false, Some(inp)) = (plan.caches.is_empty(), input) {
        let predicted: f64 = inp.rates.iter().sum();
        rows.push(row(
            &db.name,
            "mean_rps",
            Ok((
                "the read rate through the caches' models in turn".to_owned(),
                predicted,
            )),
            o.mean_rps,
        ));
    }
    let fails = database_fails(plan);
    let scv = service_scv(&db.service_spec);
    let (lambda, source) = if plan.caches.is_empty() && plan.workload.trace.is_none() {
        (
            plan.workload.rate,
            "Poisson arrivals at the scenario's rate",
        )
    } else {
        (
            o.mean_rps,
            "at the simulated query rate, the misses of many keys taken as Poisson",
        )
    };
    let mean_s = db.service_spec.mean_ms() / 1000.0;
    let c = db.connections;
    if let Some(k) = db.max_queue {
        return bounded(plan, report, fails, lambda, rows, k);
    }
    let a = lambda * mean_s;
    let fails = fails.or_else(|| scv.clone().err()).or_else(|| {
        (a >= f64::from(c)).then(|| {
            format!(
                "its offered load ({a:.2} busy connections' worth) reaches its {c} connections: the queue has no steady state"
            )
        })
    });
    if let Some(why) = fails {
        rows.push(row(
            &db.name,
            "mean_queue_wait_ms",
            Err(why),
            o.mean_queue_wait_ms,
        ));
        return;
    }
    let scv = scv.expect("checked above");
    let wait_s = queue::mgc_mean_wait(c, lambda, mean_s, scv).expect("below saturation");
    let queue_model = if scv == 1.0 && matches!(db.service_spec, LatencySpec::Exponential { .. }) {
        "Erlang C (M/M/c)".to_owned()
    } else if c == 1 {
        "Pollaczek–Khinchine (M/G/1)".to_owned()
    } else {
        format!("Allen–Cunneen (M/G/c): Erlang C times (1 + c_s²)/2, c_s² = {scv:.3}")
    };
    rows.push(row(
        &db.name,
        "utilization",
        Ok((format!("offered load λE[S]/c, {source}"), a / f64::from(c))),
        o.utilization,
    ));
    rows.push(row(
        &db.name,
        "mean_queue_wait_ms",
        Ok((format!("{queue_model}, {source}"), wait_s * 1000.0)),
        o.mean_queue_wait_ms,
    ));
    rows.push(row(
        &db.name,
        "mean_queue",
        Ok((
            format!("Little's law on {queue_model}, {source}"),
            lambda * wait_s,
        )),
        o.mean_queue,
    ));
}

/// The database's rows when its queue is bounded (`max_queue`): M/M/c/K with
/// `K = connections + max_queue`, at the arrival rate `lambda` of the queries offered
/// (admitted and refused), when the service is exponential and nothing else shapes the
/// queue; otherwise one line saying which assumption fails.
fn bounded(
    plan: &Plan,
    report: &Report,
    fails: Option<String>,
    lambda: f64,
    rows: &mut Vec<TheoryRow>,
    max_queue: u32,
) {
    let db = &plan.database;
    let o = &report.origin;
    let offered = o.requests + o.queue_full;
    let blocked = if offered > 0 {
        o.queue_full as f64 / offered as f64
    } else {
        0.0
    };
    let fails = fails
        .or_else(|| {
            (!matches!(db.service_spec, LatencySpec::Exponential { .. })).then(|| {
                "its service time is not exponential; M/M/c/K (the bounded queue) needs it"
                    .to_owned()
            })
        })
        .or_else(|| {
            (db.rate_limit.is_some() || db.shed.is_some()).then(|| {
                "a rate limit or shedding at the database refuses queries M/M/c/K would admit"
                    .to_owned()
            })
        });
    if let Some(why) = fails {
        rows.push(row(&db.name, "queue_full_share", Err(why), blocked));
        return;
    }
    // The simulated query rate counts the admitted; the model takes the offered.
    let lambda = if plan.caches.is_empty() && plan.workload.trace.is_none() {
        lambda
    } else {
        lambda * offered as f64 / o.requests.max(1) as f64
    };
    let c = db.connections;
    let k = c.saturating_add(max_queue);
    let mean_s = db.service_spec.mean_ms() / 1000.0;
    let q = queue::mmck(c, k, lambda, mean_s);
    let model = format!("M/M/c/K, K = {k} (connections + max_queue)");
    rows.push(row(
        &db.name,
        "queue_full_share",
        Ok((
            format!("{model}: blocking probability (origin.queue_full / queries offered)"),
            q.loss,
        )),
        blocked,
    ));
    rows.push(row(
        &db.name,
        "mean_queue_wait_ms",
        Ok((
            format!("{model}: wait of the admitted"),
            q.mean_wait * 1000.0,
        )),
        o.mean_queue_wait_ms,
    ));
    rows.push(row(
        &db.name,
        "mean_queue",
        Ok((format!("{model}: mean number waiting"), q.mean_queue)),
        o.mean_queue,
    ));
}

/// A number for the table: four decimals below 100, one above.
fn num(x: f64) -> String {
    if x.abs() >= 100.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.4}")
    }
}

/// The terminal table of `rows`: layer, quantity, model, predicted, simulated and gap
/// (simulated less predicted), then one line per row whose model does not apply.
pub fn table(rows: &[TheoryRow]) -> String {
    let mut cells = vec![
        [
            "layer",
            "quantity",
            "model",
            "predicted",
            "simulated",
            "gap",
        ]
        .map(str::to_owned),
    ];
    for r in rows {
        if let (Some(m), Some(p)) = (&r.model, r.predicted) {
            cells.push([
                r.layer.clone(),
                r.quantity.clone(),
                m.clone(),
                num(p),
                num(r.simulated),
                format!("{:+.4}", r.simulated - p),
            ]);
        }
    }
    let mut widths = [0usize; 6];
    for row in &cells {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    if cells.len() > 1 {
        for row in &cells {
            let line = format!(
                "{:<w0$}  {:<w1$}  {:<w2$}  {:>w3$}  {:>w4$}  {:>w5$}",
                row[0],
                row[1],
                row[2],
                row[3],
                row[4],
                row[5],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2],
                w3 = widths[3],
                w4 = widths[4],
                w5 = widths[5],
            );
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    for r in rows {
        if let Some(why) = &r.fails {
            let _ = writeln!(
                out,
                "{} {}: no model ({} simulated): {why}",
                r.layer,
                r.quantity,
                num(r.simulated)
            );
        }
    }
    out
}
