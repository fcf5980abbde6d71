//! The lessons the scenarios and the README teach, checked: every suggestion in a
//! scenario's header is run, and the direction it claims must show.
//!
//! A header suggests a variant in one form, which a person reads as prose and this
//! module parses:
//!
//! ```text
//! # Try: tiersim run scenarios/app_tier.toml --set layers.redis.capacity=10000
//! #   → origin load (origin.mean_rps) rises
//! #   → median latency (latency_ms.p50) rises ×5
//! ```
//!
//! A claim names a measure of the fixed vocabulary below ([`MEASURES`], and
//! `<layer> <field>` from [`LAYER_MEASURES`]), the `summary.json` path it reads (which
//! must be the vocabulary's), and a direction: `rises`, `falls` (optionally `×F`: by at
//! least that factor), `holds` (within 2%) or `becomes 0`. Any other header line that
//! suggests a variant (`--set`, `--grid`, `→`), a suggestion without a
//! claim, or a claim that does not parse fails the test: a new scenario cannot add an
//! unchecked claim.
//!
//! Noise: each scenario runs as written and with each suggestion at three seeds (its
//! own and the next two), base and variant paired by seed so they share their random
//! streams. A direction holds when all three paired differences agree in sign, their
//! mean exceeds 6.965 standard errors (the one-sided 99% point of Student's t with 2
//! degrees of freedom) and 1% of the base's mean (a lesson's effect must be visible,
//! not a rounding), and the means differ by the claimed factor.

use std::fs;
use std::path::Path;

use serde_json::Value;

use crate::support::{repo, stderr, tiersim};

/// Named measures and the `summary.json` path each reads.
const MEASURES: &[(&str, &str)] = &[
    ("origin load", "origin.mean_rps"),
    ("origin peak load", "origin.peak_rps"),
    ("origin reads", "origin.reads"),
    ("origin writes", "origin.writes"),
    ("origin queue peak", "origin.peak_queue"),
    ("origin queue mean", "origin.mean_queue"),
    ("origin queue wait", "origin.mean_queue_wait_ms"),
    ("origin utilization", "origin.utilization"),
    ("herd requests", "origin.herd_requests"),
    ("herd events", "origin.herd_events"),
    ("peak key concurrency", "origin.peak_key_concurrency"),
    ("median latency", "latency_ms.p50"),
    ("mean latency", "latency_ms.mean"),
    ("p99 latency", "latency_ms.p99"),
    ("p99.9 latency", "latency_ms.p999"),
    ("max latency", "latency_ms.max"),
    ("stale reads", "stale_reads"),
    ("oldest stale read", "stale_read_age_ms.max"),
    ("failed requests", "failed_requests"),
    ("availability", "availability"),
    ("lost writes", "lost_writes"),
    ("leaks", "leaks"),
    ("not modified", "not_modified"),
    ("timeouts", "overload.timeouts"),
    ("retries", "overload.retries"),
    ("wasted work", "overload.wasted_s"),
    ("breaker rejections", "overload.rejected.breaker_open"),
];

/// Per-layer measures: `<layer name> <label>` reads `layers.<layer name>.<field>`.
const LAYER_MEASURES: &[(&str, &str)] = &[
    ("hit ratio", "hit_ratio"),
    ("misses", "misses"),
    ("stale hits", "stale_hits"),
    ("coalesced", "coalesced"),
    ("stale served", "stale_served"),
    ("refreshes", "refreshes"),
    ("skipped", "skipped"),
    ("orphaned", "orphaned"),
    ("purged", "purged"),
    ("revalidations", "revalidations"),
];

/// The one-sided 99% point of Student's t with 2 degrees of freedom (three seeds).
const T_99_2DF: f64 = 6.965;
/// A claimed change must be at least this share of the base's mean.
const VISIBLE: f64 = 0.01;
/// `holds`: the mean moves by at most this share.
const HOLDS: f64 = 0.02;
/// Seeds per run: the scenario's and the next ones.
const SEEDS: u64 = 3;

#[derive(Clone, Debug, PartialEq)]
enum Direction {
    Rises(f64),
    Falls(f64),
    Holds,
    BecomesZero,
}

#[derive(Clone, Debug)]
struct Claim {
    label: String,
    path: String,
    direction: Direction,
}

#[derive(Clone, Debug)]
struct Suggestion {
    line: usize,
    sets: Vec<String>,
    claims: Vec<Claim>,
}

/// The path `label` reads, if the vocabulary has it.
fn measure(label: &str) -> Option<String> {
    if let Some((_, path)) = MEASURES.iter().find(|(l, _)| *l == label) {
        return Some(path.to_string());
    }
    LAYER_MEASURES.iter().find_map(|(l, field)| {
        let layer = label.strip_suffix(l)?.strip_suffix(' ')?;
        (!layer.is_empty() && !layer.contains(' ')).then(|| format!("layers.{layer}.{field}"))
    })
}

fn parse_direction(text: &str) -> Result<Direction, String> {
    let factor = |rest: &str| -> Result<f64, String> {
        let rest = rest.trim();
        if rest.is_empty() {
            return Ok(1.0);
        }
        rest.strip_prefix('×')
            .and_then(|f| f.trim().parse::<f64>().ok())
            .filter(|f| *f > 1.0)
            .ok_or_else(|| format!("`{rest}` is not a factor `×F` with F > 1"))
    };
    if let Some(rest) = text.strip_prefix("rises") {
        return Ok(Direction::Rises(factor(rest)?));
    }
    if let Some(rest) = text.strip_prefix("falls") {
        return Ok(Direction::Falls(factor(rest)?));
    }
    match text {
        "holds" => Ok(Direction::Holds),
        "becomes 0" => Ok(Direction::BecomesZero),
        _ => Err(format!(
            "direction `{text}`: say `rises`, `falls` (either with `×F`), `holds` or `becomes 0`"
        )),
    }
}

/// `label (path) direction`.
fn parse_claim(text: &str) -> Result<Claim, String> {
    let open = text
        .find(" (")
        .ok_or_else(|| format!("claim `{text}`: no `(summary path)` after the measure"))?;
    let close = text[open..]
        .find(") ")
        .map(|i| open + i)
        .ok_or_else(|| format!("claim `{text}`: no direction after the `(path)`"))?;
    let label = text[..open].trim().to_string();
    let path = text[open + 2..close].trim().to_string();
    let direction = parse_direction(text[close + 2..].trim())?;
    match measure(&label) {
        Some(p) if p == path => Ok(Claim {
            label,
            path,
            direction,
        }),
        Some(p) => Err(format!(
            "claim `{text}`: `{label}` reads `{p}`, not `{path}`"
        )),
        None => Err(format!(
            "claim `{text}`: `{label}` is not in the vocabulary (tests/integration/lessons.rs)"
        )),
    }
}

/// `[tiersim run [scenarios/FILE]] --set K=V ...`.
fn parse_command(file: &str, text: &str) -> Result<Vec<String>, String> {
    let mut words: Vec<&str> = text.split_whitespace().collect();
    if words.starts_with(&["tiersim", "run"]) {
        words.drain(..2);
        if let Some(w) = words.first().filter(|w| !w.starts_with("--")) {
            if *w != format!("scenarios/{file}") {
                return Err(format!("`{text}` runs `{w}`, not scenarios/{file}"));
            }
            words.remove(0);
        }
    }
    let mut sets = Vec::new();
    let mut it = words.into_iter();
    while let Some(w) = it.next() {
        match (w, it.next()) {
            ("--set", Some(kv)) if kv.contains('=') => sets.push(kv.to_string()),
            _ => return Err(format!("`{text}`: only `--set KEY=VALUE` pairs may follow")),
        }
    }
    if sets.is_empty() {
        return Err(format!("`{text}` changes nothing"));
    }
    Ok(sets)
}

/// The suggestions of the header (the comment lines before the first key) of `file`.
fn parse_header(file: &str, text: &str) -> Result<Vec<Suggestion>, String> {
    let mut out: Vec<Suggestion> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let at = |e: String| format!("{file}:{line_no}: {e}");
        let line = line.trim_end();
        if line.is_empty() {
            continue;
        }
        let Some(comment) = line.strip_prefix('#') else {
            break;
        };
        if let Some(command) = comment.strip_prefix(" Try:") {
            out.push(Suggestion {
                line: line_no,
                sets: parse_command(file, command).map_err(at)?,
                claims: Vec::new(),
            });
        } else if let Some(claim) = comment.trim_start().strip_prefix('→') {
            let s = out
                .last_mut()
                .ok_or_else(|| at("a claim before any `# Try:`".into()))?;
            s.claims.push(parse_claim(claim.trim()).map_err(at)?);
        } else if comment.starts_with(" Chart: ") {
            // A lesson's chart command (`sweep --grid ...`): `lesson_header_problems`
            // checks its form, and results/lessons/regenerate.sh runs it.
            continue;
        } else if ["--set", "--grid", "→"].iter().any(|w| comment.contains(w)) {
            return Err(at(format!(
                "`{line}` suggests a command outside the `# Try: --set K=V` / `#   → measure \
                 (path) direction` form, so no test checks it"
            )));
        }
    }
    if let Some(s) = out.iter().find(|s| s.claims.is_empty()) {
        return Err(format!(
            "{file}:{}: `# Try:` without a `→` claim under it",
            s.line
        ));
    }
    Ok(out)
}

/// The number at `path` (`layers.NAME.field` picks a layer by name).
fn read(summary: &Value, path: &str) -> f64 {
    let mut parts = path.split('.');
    let mut v = summary;
    while let Some(p) = parts.next() {
        v = if p == "layers" {
            let name = parts.next().expect("a layer name");
            v["layers"]
                .as_array()
                .and_then(|ls| ls.iter().find(|l| l["name"] == name))
                .unwrap_or_else(|| panic!("no layer `{name}` in summary.json"))
        } else {
            &v[p]
        };
    }
    v.as_f64()
        .unwrap_or_else(|| panic!("`{path}` is not a number in summary.json: {v}"))
}

/// `tiersim run scenarios/FILE --seed SEED --set ...`'s summary.json.
fn summary(file: &str, seed: u64, sets: &[String]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let path = repo().join("scenarios").join(file);
    let seed = seed.to_string();
    let mut args = vec![
        "run",
        path.to_str().unwrap(),
        "-q",
        "--out",
        "out",
        "--seed",
        &seed,
    ];
    for s in sets {
        args.extend(["--set", s]);
    }
    let out = tiersim(dir.path(), &args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{file} {sets:?}: {}",
        stderr(&out)
    );
    serde_json::from_str(&fs::read_to_string(dir.path().join("out/summary.json")).unwrap()).unwrap()
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

/// Whether `variant` differs from `base` (paired by seed) as `direction` says; the
/// rule is in the module's doc.
fn check(direction: &Direction, base: &[f64], variant: &[f64]) -> Result<(), String> {
    let d: Vec<f64> = variant.iter().zip(base).map(|(v, b)| v - b).collect();
    let n = d.len() as f64;
    let (dm, bm, vm) = (mean(&d), mean(base), mean(variant));
    let sd = (d.iter().map(|x| (x - dm).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
    let se = sd / n.sqrt();
    let shown = |sign: f64| {
        let agree = d.iter().all(|x| sign * x > 0.0);
        let big = sign * dm > T_99_2DF * se && sign * dm >= VISIBLE * bm.abs();
        if agree && big {
            Ok(())
        } else {
            Err(format!(
                "differences {d:?}: mean {dm:.6}, standard error {se:.6} (need all of one sign, \
                 beyond {T_99_2DF} standard errors and {VISIBLE} of the base)"
            ))
        }
    };
    match *direction {
        Direction::Rises(f) => {
            shown(1.0)?;
            if vm < f * bm {
                return Err(format!("mean {vm} is not ×{f} of {bm}"));
            }
        }
        Direction::Falls(f) => {
            shown(-1.0)?;
            if vm * f > bm {
                return Err(format!("mean {vm} is not 1/{f} of {bm}"));
            }
        }
        Direction::Holds => {
            if dm.abs() > HOLDS * bm.abs() {
                return Err(format!(
                    "mean moves by {dm} from {bm}, more than {HOLDS} of it"
                ));
            }
        }
        Direction::BecomesZero => {
            if !(base.iter().all(|b| *b > 0.0) && variant.iter().all(|v| *v == 0.0)) {
                return Err("the base is not above 0 at every seed, or the variant not 0".into());
            }
        }
    }
    Ok(())
}

/// Runs every suggestion of `file`'s header and checks its claims.
fn lessons_hold(file: &str) {
    let text = fs::read_to_string(repo().join("scenarios").join(file)).unwrap();
    let suggestions = parse_header(file, &text).unwrap_or_else(|e| panic!("{e}"));
    assert!(!suggestions.is_empty(), "{file} suggests nothing to try");
    let seed: u64 = text
        .lines()
        .find_map(|l| l.strip_prefix("seed = "))
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| panic!("{file} has no `seed = N` line"));
    let seeds: Vec<u64> = (seed..seed + SEEDS).collect();
    let base: Vec<Value> = seeds.iter().map(|&s| summary(file, s, &[])).collect();
    let mut failures = Vec::new();
    for s in &suggestions {
        let variant: Vec<Value> = seeds.iter().map(|&x| summary(file, x, &s.sets)).collect();
        for c in &s.claims {
            let b: Vec<f64> = base.iter().map(|v| read(v, &c.path)).collect();
            let v: Vec<f64> = variant.iter().map(|v| read(v, &c.path)).collect();
            if let Err(e) = check(&c.direction, &b, &v) {
                failures.push(format!(
                    "{file}:{} --set {}: {} ({}) {:?}: base {b:?}, variant {v:?}: {e}",
                    s.line,
                    s.sets.join(" --set "),
                    c.label,
                    c.path,
                    c.direction
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The scenario files of `scenarios/<dir>`, as `<dir><file>`, sorted.
fn tomls(dir: &str) -> Vec<String> {
    let mut files: Vec<String> = fs::read_dir(repo().join("scenarios").join(dir))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|f| f.ends_with(".toml"))
        .map(|f| format!("{dir}{f}"))
        .collect();
    files.sort();
    files
}

/// The header lines of a lesson that a teacher reads, in this order; each must be there.
const LESSON_FIELDS: &[&str] = &[
    "# Shows:",
    "# Change:",
    "# Look for:",
    "# Expect:",
    "# Chart:",
];

/// What is wrong with lesson `file`'s header (`scenarios/lessons/README.md` explains the
/// form): its title, its fields, the test its `# Expect:` names, and its chart.
fn lesson_header_problems(file: &str, text: &str) -> Vec<String> {
    let stem = file.trim_end_matches(".toml");
    let number = stem.split('_').next().unwrap_or_default();
    let header: Vec<&str> = text
        .lines()
        .take_while(|l| l.starts_with('#') || l.is_empty())
        .collect();
    let mut problems = Vec::new();
    let title = format!("# Lesson {}:", number.trim_start_matches('0'));
    if !header.first().is_some_and(|l| l.starts_with(&title)) {
        problems.push(format!("the first line is not `{title} <title>`"));
    }
    let mut last = 0;
    for field in LESSON_FIELDS {
        match header.iter().position(|l| l.starts_with(field)) {
            Some(i) if i >= last => last = i,
            Some(_) => problems.push(format!("`{field}` is out of order ({LESSON_FIELDS:?})")),
            None => problems.push(format!("no `{field}` line")),
        }
    }
    // `# Expect:` (and the lines that continue it) name the test that asserts the number,
    // as `tests/integration/<module>.rs::<test>`; that test must exist.
    let expect: String = header
        .iter()
        .skip_while(|l| !l.starts_with("# Expect:"))
        .take_while(|l| !l.starts_with("# Chart:"))
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    let named: Vec<&str> = expect
        .split_whitespace()
        .filter(|w| w.starts_with("tests/integration/") && w.contains(".rs::"))
        .collect();
    if named.is_empty() {
        problems.push("`# Expect:` names no `tests/integration/<module>.rs::<test>`".into());
    }
    for w in named {
        let w = w.trim_end_matches(|c: char| !c.is_alphanumeric() && c != '_');
        let (path, test) = w.split_once("::").unwrap();
        let found = fs::read_to_string(repo().join(path))
            .is_ok_and(|src| src.contains(&format!("fn {test}(")));
        if !found {
            problems.push(format!("`# Expect:` names {w}, which does not exist"));
        }
    }
    if let Some(chart) = header.iter().find_map(|l| l.strip_prefix("# Chart: ")) {
        {
            let ok = chart.split_once(" => ").is_some_and(|(command, svg)| {
                (command == "run" || command.starts_with("run ") || command.starts_with("sweep "))
                    && svg.ends_with(".svg")
            });
            if !ok {
                problems.push(format!(
                    "`# Chart: {chart}` is not `run|sweep [ARGS] => <chart>.svg` \
                     (results/lessons/regenerate.sh reads it)"
                ));
            }
            if !repo().join(format!("results/lessons/{stem}.svg")).is_file() {
                problems.push(format!(
                    "results/lessons/{stem}.svg is missing: run results/lessons/regenerate.sh {number}"
                ));
            }
        }
    }
    problems
}

/// Every lesson has a teacher's header, a test for its number and its chart, and the
/// index lists it.
#[test]
fn every_lesson_has_its_header_test_and_chart() {
    let index = fs::read_to_string(repo().join("scenarios/lessons/README.md")).unwrap();
    let mut problems = Vec::new();
    for file in tomls("lessons/") {
        let name = file.trim_start_matches("lessons/");
        let text = fs::read_to_string(repo().join("scenarios").join(&file)).unwrap();
        for p in lesson_header_problems(name, &text) {
            problems.push(format!("scenarios/{file}: {p}"));
        }
        if !index.contains(&format!("({name})")) {
            problems.push(format!(
                "scenarios/lessons/README.md does not link ({name})"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The header check refuses what a teacher would miss.
#[test]
fn a_lesson_header_without_its_fields_is_refused() {
    let p = lesson_header_problems("03_x.toml", "# Lesson 3: x\n# Shows: a\n\nseed = 1\n");
    assert!(p.iter().any(|p| p.contains("no `# Change:`")), "{p:?}");
    assert!(p.iter().any(|p| p.contains("names no")), "{p:?}");
    let p = lesson_header_problems(
        "03_x.toml",
        "# Lesson 4: x\n# Shows: a\n# Change: b\n# Look for: c\n\
         # Expect: 1, tests/integration/lessons.rs::no_such_test\n# Chart: walk => a.svg\n",
    );
    assert!(p.iter().any(|p| p.contains("`# Lesson 3:")), "{p:?}");
    assert!(p.iter().any(|p| p.contains("does not exist")), "{p:?}");
    assert!(p.iter().any(|p| p.contains("is not `run|sweep")), "{p:?}");
}

macro_rules! lessons {
    ($($test:ident: $file:literal,)*) => {
        $(
            #[test]
            fn $test() {
                lessons_hold($file);
            }
        )*

        /// Every scenario file has its test above.
        #[test]
        fn every_scenario_has_its_lessons_checked() {
            let listed = [$($file),*];
            let mut files = tomls("");
            files.extend(tomls("lessons/"));
            for f in &files {
                assert!(listed.contains(&f.as_str()), "scenarios/{f}: add it to `lessons!`");
            }
        }
    };
}

lessons! {
    app_tier: "app_tier.toml",
    cdn_outage: "cdn_outage.toml",
    flash_crowd: "flash_crowd.toml",
    hot_key_stampede: "hot_key_stampede.toml",
    layered_ttls: "layered_ttls.toml",
    metastable_retry_storm: "metastable_retry_storm.toml",
    private_on_shared_cache: "private_on_shared_cache.toml",
    quickstart: "quickstart.toml",
    sync_expiry: "sync_expiry.toml",
    write_back_crash: "write_back_crash.toml",
    write_strategies: "write_strategies.toml",
    lesson_01_hit_ratio_origin_load: "lessons/01_hit_ratio_origin_load.toml",
    lesson_02_zipf_skew: "lessons/02_zipf_skew.toml",
    lesson_03_cache_before_slow_db: "lessons/03_cache_before_slow_db.toml",
    lesson_04_micro_cache: "lessons/04_micro_cache.toml",
    lesson_05_cdn_origin_shield: "lessons/05_cdn_origin_shield.toml",
    lesson_06_layered_ttls: "lessons/06_layered_ttls.toml",
    lesson_07_stampede_defences: "lessons/07_stampede_defences.toml",
    lesson_08_sync_expiry_warming: "lessons/08_sync_expiry_warming.toml",
    lesson_09_ttl_tradeoff: "lessons/09_ttl_tradeoff.toml",
    lesson_10_read_write_mix: "lessons/10_read_write_mix.toml",
    lesson_11_eviction_policies: "lessons/11_eviction_policies.toml",
    lesson_12_write_strategies: "lessons/12_write_strategies.toml",
    lesson_13_invalidation: "lessons/13_invalidation.toml",
    lesson_14_negative_caching: "lessons/14_negative_caching.toml",
    lesson_15_private_leaks: "lessons/15_private_leaks.toml",
    lesson_16_immutable_etag: "lessons/16_immutable_etag.toml",
    lesson_17_outages: "lessons/17_outages.toml",
    lesson_18_per_instance_caches: "lessons/18_per_instance_caches.toml",
    lesson_19_latency_ladder: "lessons/19_latency_ladder.toml",
    lesson_20a_retry_storm: "lessons/20a_retry_storm.toml",
    lesson_20b_rate_limit: "lessons/20b_rate_limit.toml",
    lesson_20c_flash_crowd: "lessons/20c_flash_crowd.toml",
    lesson_21_daily_cycle: "lessons/21_daily_cycle.toml",
}

/// The parser refuses what it cannot check, so a header cannot slip a claim past it.
#[test]
fn headers_that_cannot_be_checked_are_refused() {
    let bad = |header: &str| parse_header("x.toml", header).unwrap_err();
    let e = bad("# Try: --set a.b=1 and watch it grow\n");
    assert!(e.contains("only `--set KEY=VALUE`"), "{e}");
    let e = bad("# Try: --set a.b=1\n");
    assert!(e.contains("without a `→` claim"), "{e}");
    let e = bad("# and `--set layers.x.ttl_s=1` makes the origin load grow\n");
    assert!(e.contains("x.toml:1") && e.contains("outside the"), "{e}");
    let e = bad("# Try: --set a.b=1\n#   → origin load (origin.mean_rps) grows\n");
    assert!(e.contains("direction `grows`"), "{e}");
    let e = bad("# Try: --set a.b=1\n#   → origin load (origin.peak_rps) rises\n");
    assert!(e.contains("reads `origin.mean_rps`"), "{e}");
    let e = bad("# Try: --set a.b=1\n#   → database mood (origin.mood) rises\n");
    assert!(e.contains("not in the vocabulary"), "{e}");
    let e = bad("# Try: tiersim run scenarios/y.toml --set a.b=1\n");
    assert!(e.contains("not scenarios/x.toml"), "{e}");
    let ok = parse_header(
        "x.toml",
        "# Chart: sweep --grid a.b=1,2 => sweep_hit_ratio.svg\n\
         # Try: tiersim run scenarios/x.toml --set a.b=1 --set c=2\n\
         #   → redis hit ratio (layers.redis.hit_ratio) falls ×5\n\
         #   → origin load (origin.mean_rps) holds\n\nname = \"x\"\n# --set after the header\n",
    )
    .unwrap();
    assert_eq!(ok.len(), 1);
    assert_eq!(ok[0].sets, ["a.b=1", "c=2"]);
    assert_eq!(ok[0].claims[0].direction, Direction::Falls(5.0));
    assert_eq!(ok[0].claims[1].direction, Direction::Holds);
}

/// The noise rule: a change inside the seeds' spread, or below 1%, is not a direction.
#[test]
fn a_direction_must_stand_out_of_the_noise() {
    let base = [100.0, 102.0, 98.0];
    assert!(check(&Direction::Rises(1.0), &base, &[110.0, 112.0, 108.5]).is_ok());
    // One seed disagrees.
    assert!(check(&Direction::Rises(1.0), &base, &[110.0, 101.0, 108.0]).is_err());
    // All agree, but the differences scatter as much as they move.
    assert!(check(&Direction::Rises(1.0), &base, &[100.1, 112.0, 98.2]).is_err());
    // Consistent but invisible: 0.008% (the quickstart's shield TTL on the origin load).
    let tiny = base.map(|b| b * 1.000_08);
    assert!(check(&Direction::Rises(1.0), &base, &tiny).is_err());
    assert!(check(&Direction::Holds, &base, &tiny).is_ok());
    assert!(check(&Direction::Falls(10.0), &base, &[9.0, 9.5, 9.0]).is_ok());
    assert!(check(&Direction::Falls(10.0), &base, &[11.0, 11.5, 11.0]).is_err());
    assert!(check(&Direction::BecomesZero, &base, &[0.0; 3]).is_ok());
    assert!(check(&Direction::BecomesZero, &[0.0; 3], &[0.0; 3]).is_err());
}

/// The `nth` README command starting `starts` (its text, so the test runs what the
/// README shows), and a temporary folder holding a copy of `scenarios/` to run it in.
fn readme_command(starts: &str, nth: usize) -> (tempfile::TempDir, Vec<String>) {
    let readme = fs::read_to_string(repo().join("README.md")).unwrap();
    let (at, _) = readme
        .match_indices(starts)
        .nth(nth)
        .unwrap_or_else(|| panic!("the README has no command {nth} `{starts}`"));
    let end = readme[at..].find('`').map(|i| at + i).unwrap();
    let command: Vec<String> = readme[at..end]
        .split_whitespace()
        .filter(|w| *w != "\\")
        .map(String::from)
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let scenarios = dir.path().join("scenarios");
    fs::create_dir(&scenarios).unwrap();
    for f in tomls("") {
        fs::copy(repo().join("scenarios").join(&f), scenarios.join(&f)).unwrap();
    }
    (dir, command)
}

/// The summary rows of a sweep: (axis value, metric) → mean.
fn sweep_means(dir: &Path, axis: &str, layer: &str, metric: &str) -> Vec<(String, f64)> {
    let text = fs::read_to_string(dir.join("sweep_summary.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("no column `{name}` in {header:?}"))
    };
    let (a, l, m) = (col(axis), col("layer"), col(&format!("{metric}_mean")));
    lines
        .map(|r| r.split(',').collect::<Vec<_>>())
        .filter(|r| r[l] == layer)
        .map(|r| (r[a].to_string(), r[m].parse().unwrap()))
        .collect()
}

type Means = std::collections::HashMap<String, f64>;

/// Runs the `nth` README sweep of the hot-key scenario (without `--plot`), and returns
/// each mode's mean p99 and p99.9 latency.
fn readme_stampede_sweep(nth: usize) -> (Means, Means) {
    let (dir, command) = readme_command("tiersim sweep scenarios/hot_key_stampede.toml", nth);
    assert_eq!(command[..2], ["tiersim", "sweep"]);
    let mut args: Vec<&str> = command[1..]
        .iter()
        .map(String::as_str)
        .filter(|a| *a != "--plot")
        .collect();
    args.extend(["--out", "sweep", "-q"]);
    let out = tiersim(dir.path(), &args);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    let sweep = dir.path().join("sweep");
    let axis = "layers.redis.stampede.mode";
    let means = |metric| {
        sweep_means(&sweep, axis, "redis", metric)
            .into_iter()
            .collect::<Means>()
    };
    (means("latency_p99_ms"), means("latency_p999_ms"))
}

/// The README's sweep over `stampede.mode` runs every defence (it failed: `window_s`
/// was required by some modes and refused by others), and shows what the README says:
/// without a defence a tenth of reads wait for the 10 ms query; with the early modes
/// none do, their p99.9 below a millisecond; `lock`'s waiters wait for their poll, so
/// its p99.9 is above `coalesce`'s. One run per mode: the latencies are constant
/// (0.3 ms Redis, 10 ms query), so these are not close calls a seed could flip.
#[test]
fn the_readme_sweep_over_stampede_modes_compares_every_defence() {
    let (p99, p999) = readme_stampede_sweep(0);
    for mode in [
        "none",
        "coalesce",
        "lock",
        "stale_while_revalidate",
        "refresh_ahead",
        "xfetch",
    ] {
        assert!(p999.contains_key(mode), "{mode} missing from {p999:?}");
    }
    assert!(p99["none"] >= 10.0, "{p99:?}");
    for early in ["xfetch", "refresh_ahead", "stale_while_revalidate"] {
        assert!(p999[early] < 1.0, "{early}: {p999:?}");
    }
    assert!(p999["lock"] > p999["coalesce"], "{p999:?}");
}

/// The README's chart of four defences says `xfetch` makes no read wait for the query
/// and `lock`'s p99.9 is about two 10 ms polls (between one and three, above the 10 ms
/// of one query plus Redis).
#[test]
fn the_readme_chart_of_four_defences_shows_what_it_says() {
    let (_, p999) = readme_stampede_sweep(1);
    assert_eq!(p999.len(), 4, "{p999:?}");
    assert!(p999["xfetch"] < 1.0, "{p999:?}");
    assert!(p999["lock"] > 10.3 && p999["lock"] < 30.0, "{p999:?}");
}

/// `write_back_crash.toml`'s suggestion `--set workload.write_strategy=write_through`
/// was refused (`flush_interval_s applies only to write_back`): the write-back tuning is
/// now checked under any strategy and used by write_back only, so the variant runs and
/// loses nothing; a bad value is still refused whatever the strategy.
#[test]
fn write_back_tuning_does_not_block_another_strategy() {
    let through = summary(
        "write_back_crash.toml",
        1,
        &["workload.write_strategy=write_through".into()],
    );
    assert_eq!(through["lost_writes"], 0);
    assert_eq!(through["flushes"], 0);
    assert!(through["writes"].as_u64().unwrap() > 10_000);
    let dir = tempfile::tempdir().unwrap();
    let path = repo().join("scenarios/write_back_crash.toml");
    let out = tiersim(
        dir.path(),
        &[
            "validate",
            path.to_str().unwrap(),
            "--set",
            "workload.write_strategy=cache_aside",
            "--set",
            "workload.flush_batch=0",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let e = stderr(&out);
    assert!(
        e.contains("write_back_crash.toml") && e.contains("key `workload.flush_batch`"),
        "{e}"
    );
}

/// The quickstart's writes rewrote its immutable static assets, which browsers keep
/// for a year: stale browser hits. Now an immutable class takes no writes. With the
/// page and account classes `no_store` (no browser copy of them), every browser hit is
/// a static asset's: before the fix the 1% writes left thousands stale, now none are,
/// while the other classes still write.
#[test]
fn immutable_classes_are_never_rewritten() {
    let s = summary(
        "quickstart.toml",
        1,
        &[
            "workload.classes.page.no_store=true".into(),
            "workload.classes.account.no_store=true".into(),
        ],
    );
    let browser = &s["layers"][0];
    assert_eq!(browser["name"], "browser");
    assert!(browser["hits"].as_u64().unwrap() > 1_000, "{browser}");
    assert_eq!(browser["stale_hits"], 0, "{browser}");
    // The page and account classes (half the requests) write at 1%: about 4,500 of
    // the 900,000 measured requests.
    assert!(s["writes"].as_u64().unwrap() > 3_000, "{}", s["writes"]);
}

/// A class's `write_ratio` sets its share of writes; an immutable class refuses one
/// above 0, saying why.
#[test]
fn classes_write_at_their_own_ratio() {
    let scenario = |static_writes: &str| {
        format!(
            r#"
            name = "classes"
            seed = 5
            requests = 100000
            [workload]
            keys = 1000
            rate = 1000.0
            write_ratio = 0.1
            [[workload.classes]]
            name = "static"
            key_share = 0.5
            request_share = 0.5
            max_age_s = 1000
            immutable = true
            {static_writes}
            [[workload.classes]]
            name = "hot"
            key_share = 0.5
            request_share = 0.5
            write_ratio = 0.3
            [[layers]]
            name = "redis"
            kind = "redis"
            capacity = 100
            [[layers]]
            name = "db"
            kind = "database"
            "#
        )
    };
    let r = crate::support::run(&scenario(""));
    // Writes: binomial(100,000, 0.5 × 0.3 = 0.15), standard error
    // sqrt(0.15 × 0.85 / 100,000) = 0.0011; 0.006 is over five of them. Without
    // per-class ratios it would be 0.1 (the workload's) or 0.2 (both at 0.3).
    let share = r.writes as f64 / r.requests as f64;
    assert!((share - 0.15).abs() < 0.006, "{share}");
    let e = tiersim::scenario::Source::new(
        "classes.toml",
        scenario("write_ratio = 0.01"),
        tiersim::scenario::Format::Toml,
    )
    .plan(&[])
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("classes.toml")
            && e.contains("workload.classes.static.write_ratio")
            && e.contains("immutable"),
        "{e}"
    );
}

/// The README's sweep of the application tier, and what the README reads from it: with
/// 30 s Redis stops improving at 100k entries; with 300 s it still gains from 100k to
/// 316k; at 31,623 entries LRU beats FIFO, and with 300 s LFU beats both; the L1 is
/// unaffected. Each point is one run of about 300,000 measured reads at its own seed:
/// a hit ratio's binomial standard error is at most sqrt(0.25 / 100,000) = 0.0016 at
/// Redis (which sees over 100,000 of them), so every margin below (0.01) is over six
/// of them, and the L1's spread (0.005 around its mean) over five.
#[test]
fn the_readme_sweep_of_the_app_tier_shows_what_it_says() {
    let (dir, command) = readme_command("tiersim sweep scenarios/app_tier.toml", 0);
    let mut args: Vec<&str> = command[1..]
        .iter()
        .map(String::as_str)
        .filter(|a| *a != "--plot")
        .map(|a| a.trim_matches('"'))
        .collect();
    // The README quotes the range axis for the shell: one argument.
    let range = args
        .iter()
        .position(|a| a.starts_with("layers.redis.capacity="))
        .unwrap();
    let joined = args[range..range + 3].join(" ");
    args.splice(range..range + 3, [joined.as_str()]);
    args.extend(["--out", "sweep", "-q"]);
    let out = tiersim(dir.path(), &args);
    assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
    let text = fs::read_to_string(dir.path().join("sweep/sweep_summary.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (cap, ttl, policy, layer, hit) = (
        col("layers.redis.capacity"),
        col("layers.redis.ttl_s"),
        col("layers.redis.policy"),
        col("layer"),
        col("hit_ratio_mean"),
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let at = |l: &str, c: &str, t: &str, p: &str| -> f64 {
        rows.iter()
            .find(|r| r[layer] == l && r[cap] == c && r[ttl] == t && r[policy] == p)
            .unwrap_or_else(|| panic!("no row {l} {c} {t} {p}"))[hit]
            .parse()
            .unwrap()
    };
    for p in ["lru", "fifo", "lfu"] {
        let flat = at("redis", "1000000", "30", p) - at("redis", "100000", "30", p);
        assert!(flat.abs() < 0.01, "{p}, 30 s: 100k -> 1M moves by {flat}");
        let gain = at("redis", "316228", "300", p) - at("redis", "100000", "300", p);
        assert!(gain > 0.01, "{p}, 300 s: 100k -> 316k gains {gain}");
    }
    for t in ["30", "300"] {
        let (lru, fifo) = (
            at("redis", "31623", t, "lru"),
            at("redis", "31623", t, "fifo"),
        );
        assert!(lru > fifo + 0.01, "{t} s: lru {lru}, fifo {fifo}");
    }
    let lfu = at("redis", "31623", "300", "lfu");
    assert!(lfu > at("redis", "31623", "300", "lru") + 0.01, "{lfu}");
    let l1: Vec<f64> = rows
        .iter()
        .filter(|r| r[layer] == "l1")
        .map(|r| r[hit].parse().unwrap())
        .collect();
    assert_eq!(l1.len(), 30);
    let m = mean(&l1);
    assert!(l1.iter().all(|h| (h - m).abs() < 0.005), "{l1:?}");
}
