//! The numbers lessons 1 to 10 and 20c of `scenarios/lessons/` tell a student, each
//! against the model that predicts it: each test is the one its lesson's `# Expect:`
//! line names. The runs are the lesson files as shipped (with the `--set` a lesson
//! suggests), through the real binary, at the file's seed.

use std::fs;
use std::path::Path;

use serde_json::Value;
use tiersim::theory::{che, ttl};

use crate::support::{csv_rows, repo, stderr, tiersim};

/// `tiersim run scenarios/lessons/FILE --set ...` into `dir/out`, and its summary.json.
fn lesson_in(dir: &Path, file: &str, sets: &[&str]) -> Value {
    let path = repo().join("scenarios/lessons").join(file);
    let mut args = vec!["run", path.to_str().unwrap(), "-q", "--out", "out"];
    for s in sets {
        // `seed=N` is the `--seed` flag; the rest are `--set`s.
        match s.strip_prefix("seed=") {
            Some(seed) => args.extend(["--seed", seed]),
            None => args.extend(["--set", s]),
        }
    }
    let out = tiersim(dir, &args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{file} {sets:?}: {}",
        stderr(&out)
    );
    serde_json::from_str(&fs::read_to_string(dir.join("out/summary.json")).unwrap()).unwrap()
}

/// The summary of `file` run with `sets`.
fn lesson(file: &str, sets: &[&str]) -> Value {
    lesson_in(tempfile::tempdir().unwrap().path(), file, sets)
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("{v} is not a number"))
}

/// Layer `name` of a summary.
fn layer<'a>(s: &'a Value, name: &str) -> &'a Value {
    s["layers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == name)
        .unwrap_or_else(|| panic!("no layer {name}"))
}

/// The share of clients' reads that reached the origin.
fn origin_share(s: &Value) -> f64 {
    f(&s["origin"]["reads"]) / f(&s["reads"])
}

/// The read latency at quantile `q` from `dir/out/latency.csv`.
fn latency_at(dir: &Path, q: &str) -> f64 {
    csv_rows(&dir.join("out/latency.csv"))
        .into_iter()
        .find(|r| r["quantile"] == q)
        .unwrap_or_else(|| panic!("no quantile {q} in latency.csv"))["latency_ms"]
        .parse()
        .unwrap()
}

/// Lesson 1: each key read λ = 10 times a second and kept T = 1.9 s on average (only the
/// mean counts) is hit λT/(1 + λT) = 19/20 of the time: the origin sees 1 read in 20.
/// Reads that arrive while a key's fetch (about 1.6 ms: Redis, the 1 ms query) is in
/// flight miss too, adding λδ ≈ 0.016 misses per 20 reads: 0.0508. Noise: 80,000
/// measured reads over 1,000 keys' ~4,000 cycles, the count's relative standard error
/// under 0.5% (0.00025), so ± 0.002 holds the bias and eight standard errors. Without
/// the cache (a 1 µs TTL) every read reaches the database, which serves at most
/// 5,000/s of the 10,000/s: fully busy, and its queue grows for the whole run.
#[test]
fn lesson_01_the_origin_sees_one_read_in_twenty() {
    let file = "01_hit_ratio_origin_load.toml";
    let model = ttl::hit_without_reset(10.0, 1.9);
    assert!((model - 0.95).abs() < 1e-12);
    let s = lesson(file, &[]);
    let share = origin_share(&s);
    assert!((share - (1.0 - model)).abs() < 0.002, "{share}");
    let none = lesson(file, &["layers.redis.ttl_s=0.000001"]);
    // A copy lives 1 µs: only a read within that of a fill hits (1 in 10^5).
    assert!(origin_share(&none) > 0.999, "{}", origin_share(&none));
    assert!(
        f(&none["origin"]["utilization"]) > 0.99,
        "{}",
        none["origin"]
    );
    // A backlog growing by 5,000 queries a second: the mean wait is seconds.
    assert!(
        f(&none["origin"]["mean_queue_wait_ms"]) > 1_000.0,
        "{}",
        none["origin"]
    );
}

/// Lesson 2: the exponent α where the 500 most read of 10,000 rows take 92% of the
/// reads solves H(500, α) / H(10,000, α) = 0.92 (the Zipf CDF, H the generalised
/// harmonic number); the lesson gives it to three decimals. An LRU cache of 500 then
/// gets Che's hit ratio (0.884). Noise: 180,000 measured reads, the hit ratio's
/// binomial standard error sqrt(0.88 × 0.12 / 180,000) = 0.0008, Che's approximation
/// within 0.005 of simulation at 500 entries over 10,000 keys (`theory.rs`'s checks):
/// ± 0.01 holds both.
#[test]
fn lesson_02_five_percent_of_keys_take_92_percent_of_reads() {
    let (n, top) = (10_000usize, 500usize);
    let share = |a: f64| {
        let w: Vec<f64> = (1..=n).map(|i| (i as f64).powf(-a)).collect();
        w[..top].iter().sum::<f64>() / w.iter().sum::<f64>()
    };
    let (mut lo, mut hi) = (0.5, 2.0);
    for _ in 0..60 {
        let mid = (lo + hi) / 2.0;
        if share(mid) < 0.92 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    let file = "02_zipf_skew.toml";
    let text = fs::read_to_string(repo().join("scenarios/lessons").join(file)).unwrap();
    let alpha: f64 = text
        .lines()
        .find_map(|l| l.split("alpha = ").nth(1))
        .and_then(|r| r.trim_end_matches([' ', '}']).parse().ok())
        .expect("the lesson's alpha");
    assert!(
        (alpha - lo).abs() < 0.0005,
        "the file's {alpha}, the CDF's {lo}"
    );
    assert!((share(alpha) - 0.92).abs() < 0.001);
    let w: Vec<f64> = (1..=n).map(|i| (i as f64).powf(-alpha)).collect();
    let sum: f64 = w.iter().sum();
    let q: Vec<f64> = w.iter().map(|x| x / sum).collect();
    let predicted = che::che_lru(&q, top as f64);
    assert!((predicted - 0.884).abs() < 0.001, "{predicted}");
    let s = lesson(file, &[]);
    let hit = f(&layer(&s, "redis")["hit_ratio"]);
    assert!(
        (hit - predicted).abs() < 0.01,
        "simulated {hit}, Che {predicted}"
    );
    // Below what the skew allows (perfect LFU's 92%): LRU keeps some rows read once.
    assert!(hit < 0.92);
}

/// Lesson 3: 120 rows read once a second each (λ = 1) and kept T = 4 s are hit
/// λT/(1 + λT) = 4/5 of the time; reads during a row's 100.5 ms fetch miss too
/// (λδ = 0.1 per cycle): misses are 1.1 / 5.1 = 0.216 of reads, the database's load
/// down 78%. Noise: about 6,600 reads over ~1,300 cycles; ± 0.02 is over four binomial
/// standard errors (sqrt(0.216 × 0.784 / 6,600) = 0.005). p95 sits among the misses
/// (21.6% > 5%) that wait for nothing but the 100 ms query (a 26% busy database of 10
/// connections: no queue), so it is 100 ms plus Redis's 0.5 ms. Without the cache 120
/// reads/s meet 100 served: the backlog grows 20 a second, the last reads of the
/// minute wait 10 s, and p95 is seconds.
#[test]
fn lesson_03_a_cache_cuts_database_load_by_80_percent() {
    let file = "03_cache_before_slow_db.toml";
    let dir = tempfile::tempdir().unwrap();
    let s = lesson_in(dir.path(), file, &[]);
    let share = origin_share(&s);
    assert!((share - 1.1 / 5.1).abs() < 0.02, "{share}");
    let p95 = latency_at(dir.path(), "0.95");
    assert!((100.0..101.0).contains(&p95), "{p95}");
    let none = tempfile::tempdir().unwrap();
    let n = lesson_in(none.path(), file, &["layers.redis.ttl_s=0.000001"]);
    assert_eq!(origin_share(&n), 1.0);
    let p95 = latency_at(none.path(), "0.95");
    assert!(p95 > 1_000.0, "{p95}");
}

/// Lesson 4: a 1 s micro-cache with stale-while-updating refreshes the URL once per
/// cycle: the copy expires 1 s after its fill, the next read (1/500 s later on
/// average) is served stale and starts the refresh, whose 20 ms query (plus the
/// proxy's 0.5 ms) fills the next copy. One origin request per 1.0225 s: 0.978/s, a
/// 500× reduction of the 500 reads/s. Noise: the cycle's only randomness is the wait for
/// a read (standard deviation 2 ms per cycle), so the count over ~58 cycles is
/// exact to ±1: ± 0.05/s is three requests. Without the defence the reads during each
/// 20.5 ms refetch (about 10) go to the origin too.
#[test]
fn lesson_04_a_one_second_micro_cache_sends_one_request_a_second() {
    let file = "04_micro_cache.toml";
    let s = lesson(file, &[]);
    let rps = f(&s["origin"]["requests"]) / f(&s["duration_s"]);
    let model = 1.0 / (1.0 + 1.0 / 500.0 + 0.0205);
    assert!((rps - model).abs() < 0.05, "{rps}, the model's {model}");
    assert_eq!(
        f(&s["origin"]["reads"]),
        0.0,
        "no read waited for the origin"
    );
    let herd = lesson(file, &["layers.proxy.stampede.mode=none"]);
    let per_expiry = f(&herd["origin"]["reads"]) / f(&layer(&herd, "proxy")["expirations"]);
    // 1 + λδ = 1 + 500 × 0.0205 ≈ 11; its mean over ~58 expiries has a standard error
    // of sqrt(10 / 58) = 0.4: ± 2 is five.
    assert!((per_expiry - 11.25).abs() < 2.0, "{per_expiry}");
}

/// Lesson 5: the shield keeps the image 60 s and collapses concurrent misses, so over
/// the 600 s run it fetches at most once per 60 s: at most 11 origin reads (the first
/// fill, then one per expiry). Without it (a 1 µs TTL, no collapsing) each of the 20
/// PoPs refetches at least once per 61 s (its TTL and the wait for its next read): at
/// least 20 × 9 = 180, and more with the reads of a PoP that arrive during its 70 ms
/// fetch. The bound is exact, whatever the seed, so each of three seeds is checked.
#[test]
fn lesson_05_a_shield_sends_one_request_per_ttl() {
    let file = "05_cdn_origin_shield.toml";
    for seed in ["1", "2", "3"] {
        let s = lesson(file, &[&format!("seed={seed}")]);
        let reads = f(&s["origin"]["reads"]);
        let span = f(&s["duration_s"]);
        assert!(reads <= (span / 60.0).floor() + 1.0, "{reads} in {span} s");
        assert!(reads >= 9.0, "{reads}");
    }
    let s = lesson(
        file,
        &[
            "layers.shield.ttl_s=0.000001",
            "layers.shield.stampede.mode=none",
        ],
    );
    let reads = f(&s["origin"]["reads"]);
    assert!(reads >= 180.0, "{reads}");
}

/// Lesson 6: the CDN (60 s) misses a page about every 61 s; Redis's copy (300 s) is
/// hit by every CDN miss until it expires: M(300)/(1 + M(300)), M the renewal function
/// of the CDN's misses (reads at λ = 0.99/s per page), 0.80. Noise: 20 pages over 45
/// minutes, about 180 Redis misses; the model's cycle is nearly deterministic (four CDN
/// refetches fit in 300 s, a fifth cannot), so ± 0.02 is the window's edges. Ages add
/// up: a stale read can be older than the CDN's 60 s (at most 300 + 60 s).
#[test]
fn lesson_06_a_cdn_refetch_is_still_a_redis_hit() {
    let file = "06_layered_ttls.toml";
    let model = ttl::two_tier_hit(0.99, 60.0, 300.0).unwrap();
    assert!((model - 0.80).abs() < 0.01, "{model}");
    let s = lesson(file, &[]);
    let hit = f(&layer(&s, "redis")["hit_ratio"]);
    assert!((hit - model).abs() < 0.02, "simulated {hit}, model {model}");
    let oldest = f(&s["stale_read_age_ms"]["max"]);
    assert!(oldest > 60_000.0 && oldest <= 360_000.0, "{oldest}");
}

/// Lesson 7: without a defence each expiry of the hot key sends the first read and
/// every read arriving during its refetch (10 ms query, 0.3 ms Redis: λδ ≈ 10.3 at
/// λ = 1,000/s) to the origin: 11.3 per expiry. Its mean over ~160 expiries has a
/// standard error of sqrt(10.3 / 160) = 0.25: ± 1 is four. `coalesce` sends exactly one.
#[test]
fn lesson_07_a_stampede_is_eleven_reads_per_expiry() {
    let file = "07_stampede_defences.toml";
    let per_expiry = |s: &Value| f(&s["origin"]["reads"]) / f(&layer(s, "redis")["expirations"]);
    let none = lesson(file, &[]);
    let herd = per_expiry(&none);
    assert!((herd - 11.3).abs() < 1.0, "{herd}");
    let coalesce = lesson(file, &["layers.redis.stampede.mode=coalesce"]);
    assert_eq!(per_expiry(&coalesce), 1.0);
}

/// Lesson 8: 2,000 keys warmed at 0 with a 5 s TTL all expire at 5 s; in the bucket
/// [5, 5.1 s) each key is read with probability 1 − e^(−λΔ), λ = 5/s, Δ = 0.1 s, and
/// its first read goes to the origin: 787 queries, plus the reads of a key during its
/// 5.3 ms fetch (λδ = 0.0265 each): 808, a rate of 8,080/s. Noise: a binomial count of
/// standard deviation sqrt(2,000 × 0.393 × 0.607) = 21.8: ± 87 (four of them). With
/// jitter 0.2 the expiries spread over 4 to 6 s (1,000 keys a second at most): the
/// peak falls under 2,500/s.
#[test]
fn lesson_08_synchronised_expiry_spikes_the_origin() {
    let file = "08_sync_expiry_warming.toml";
    let p = 1.0 - (-0.5f64).exp();
    let model = 2_000.0 * p * (1.0 + 5.0 * 0.0053) / 0.1;
    let s = lesson(file, &[]);
    let peak = f(&s["origin"]["peak_rps"]);
    assert!((peak - model).abs() < 870.0, "{peak}, the model's {model}");
    let jitter = lesson(file, &["layers.redis.jitter=0.2"]);
    assert!(
        f(&jitter["origin"]["peak_rps"]) < 2_500.0,
        "{}",
        jitter["origin"]
    );
}

/// Lesson 9: Redis holds every key, so each key k, read at λ_k = 200 × 0.99 × q_k per
/// second (q the Zipf(0.9) law over 1,000 keys), is hit λ_k T/(1 + λ_k T) of its reads
/// (TTL without reset): 0.931 over all reads at T = 60 s. Noise: 150,000 measured reads,
/// the binomial standard error 0.0007; ± 0.01 also holds the refetch herd (a 5.3 ms
/// fetch). A copy lives at most 60 s, so no stale read is older.
#[test]
fn lesson_09_a_longer_ttl_trades_freshness_for_load() {
    let file = "09_ttl_tradeoff.toml";
    let w: Vec<f64> = (1..=1_000).map(|i| f64::from(i).powf(-0.9)).collect();
    let sum: f64 = w.iter().sum();
    let model: f64 = w
        .iter()
        .map(|x| x / sum * ttl::hit_without_reset(200.0 * 0.99 * x / sum, 60.0))
        .sum();
    assert!((model - 0.931).abs() < 0.001, "{model}");
    let s = lesson(file, &[]);
    let hit = f(&layer(&s, "redis")["hit_ratio"]);
    assert!((hit - model).abs() < 0.01, "simulated {hit}, model {model}");
    assert!(f(&s["stale_reads"]) > 0.0);
    assert!(f(&s["stale_read_age_ms"]["max"]) <= 60_000.0);
}

/// Lesson 10: with cache-aside a key's copy serves the reads between two writes: a
/// read is followed by r/w more reads before the next write, so the hit ratio is
/// 1 − w (w the write share), less the reads during a refetch (1.3 ms at 10 reads/s per
/// key: 0.013 per miss). Noise: 89,000 measured requests, the binomial standard error
/// at w = 0.5 sqrt(0.25 / 45,000) = 0.0024: ± 0.01 is four. Keys that never repeat
/// give no hit: over 4 × 10^9 keys a read finds its key among the 1,000 the cache holds
/// with probability 2.5 × 10^−7, so 90,000 reads hit with probability 2%.
#[test]
fn lesson_10_writes_and_unique_keys_defeat_a_cache() {
    let file = "10_read_write_mix.toml";
    for (w, set) in [
        (0.01, "workload.write_ratio=0.01"),
        (0.5, "workload.write_ratio=0.5"),
    ] {
        let s = lesson(file, &[set]);
        let hit = f(&layer(&s, "redis")["hit_ratio"]);
        assert!((hit - (1.0 - w)).abs() < 0.01, "w = {w}: {hit}");
    }
    let s = lesson(file, &["workload.keys=4000000000"]);
    assert_eq!(f(&layer(&s, "redis")["hit_ratio"]), 0.0);
}

/// Lesson 20c: the story's first reads, at about 320/s (rank 1 of Zipf(0.9) over
/// 10,000 keys: 6.4% of the 5,000/s peak), all miss for the 52.5 ms of CDN, Redis and
/// query: about 1 + 320 × 0.0525 ≈ 18 origin reads of one key at once, a Poisson count
/// of standard deviation 4: at least 10 (a herd event) is two below. Collapsing at the
/// CDN, the only way in, lets one read per key through: exactly 1, at every seed.
#[test]
fn lesson_20c_collapsing_at_the_cdn_sends_one_read() {
    let file = "20c_flash_crowd.toml";
    let s = lesson(file, &[]);
    assert!(
        f(&s["origin"]["peak_key_concurrency"]) >= 10.0,
        "{}",
        s["origin"]
    );
    assert!(f(&s["origin"]["herd_events"]) >= 1.0, "{}", s["origin"]);
    for seed in ["1", "2", "3"] {
        let c = lesson(
            file,
            &["layers.cdn.stampede.mode=coalesce", &format!("seed={seed}")],
        );
        assert_eq!(
            f(&c["origin"]["peak_key_concurrency"]),
            1.0,
            "{}",
            c["origin"]
        );
    }
}
