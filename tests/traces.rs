//! Replays of traces against published numbers, and scenarios whose workload is a
//! trace.
//!
//! The tests that read the public traces in `../shared/traces` are in `shared_traces`,
//! ignored unless asked for (`cargo test --release -- --ignored shared_traces::`; `.ci/run`
//! runs them where the folder exists); the others use the trace shipped in `traces/` or
//! generate theirs.

use std::path::PathBuf;

use tiersim::policy::PolicySpec;
use tiersim::replay::{KeyMap, ReplayJob, SizeUnit};
use tiersim::scenario::{Format as ScenarioFormat, Source};
use tiersim::trace::{Format, Request, TraceSource};

#[path = "common/shared_traces.rs"]
mod shared;

#[path = "common/cli.rs"]
mod cli;
use cli::repo;

/// The trace shipped in `traces/`: what `generate_zipf_oracle(path, SHIPPED_REQUESTS,
/// SHIPPED_OBJECTS, SHIPPED_ALPHA, SHIPPED_SEED)` writes (`traces/README.md`).
const SHIPPED: &str = "traces/zipf0.9-10k.oracleGeneral.bin";
const SHIPPED_REQUESTS: u64 = 10_000;
const SHIPPED_OBJECTS: u64 = 2_000;
const SHIPPED_ALPHA: f64 = 0.9;
const SHIPPED_SEED: u64 = 42;

fn shipped() -> TraceSource {
    TraceSource {
        path: repo().join(SHIPPED),
        format: Format::OracleGeneral,
        csv: Default::default(),
    }
}

/// Requests and distinct pages after expansion.
fn counts(src: &TraceSource) -> (u64, usize) {
    let mut r = src.open().unwrap();
    let mut keys = KeyMap::default();
    let mut req = Request::default();
    let mut n = 0;
    while r.read(&mut req).unwrap() {
        keys.key(req.id).unwrap();
        n += 1;
    }
    (n, keys.len())
}

fn hit_ratio_percent(src: &TraceSource, policy: &str, size: u64) -> f64 {
    let r = ReplayJob::new(src.clone(), PolicySpec::from_name(policy).unwrap(), size)
        .run()
        .unwrap();
    100.0 * (1.0 - r.miss_ratio)
}

/// The shipped trace is the generator's output for its documented parameters, byte for
/// byte, so anyone can remake it and its provenance is checked on every run. After a
/// change to the generator, `TIERSIM_BLESS=1` rewrites it (then review the replays'
/// golden files, which read it).
#[test]
fn the_shipped_trace_is_the_generators_output() {
    let dir = tempfile::tempdir().unwrap();
    let made = dir.path().join("made.bin");
    tiersim::trace::generate_zipf_oracle(
        &made,
        SHIPPED_REQUESTS,
        SHIPPED_OBJECTS,
        SHIPPED_ALPHA,
        SHIPPED_SEED,
    )
    .unwrap();
    let made = std::fs::read(&made).unwrap();
    let path = repo().join(SHIPPED);
    if std::env::var_os("TIERSIM_BLESS").is_some_and(|v| v != "0") {
        std::fs::write(&path, &made).unwrap();
    }
    let bytes = std::fs::read(&path).unwrap();
    assert!(
        bytes == made,
        "{} is not the generator's output",
        path.display()
    );
    assert_eq!(bytes.len(), 24 * 10_000, "240 KB: small enough to ship");
    let (requests, objects) = counts(&shipped());
    assert_eq!((requests, objects), (10_000, 1_630));
}

/// A scenario whose workload is a trace (`workload.trace`), with one LRU layer and an
/// origin that answers before the next request arrives: the layer sees exactly the
/// requests `tiersim replay` sees, so its hit count must equal the replay's. On the
/// shipped trace, whose timestamps count requests.
/// A scenario whose workload is `src` (requests 1 µs apart) through one LRU layer of
/// `capacity` entries in front of a database answering in 0.1 µs.
fn l1_over_trace(src: &TraceSource, format: &str, capacity: u32) -> tiersim::scenario::Plan {
    let path = src.path.display().to_string().replace('\\', "/");
    let text = format!(
        r#"
        name = "trace-l1"
        [workload]
        trace = {{ path = "{path}", format = "{format}", time_unit_s = 1e-6 }}
        [[layers]]
        name = "l1"
        kind = "in_process"
        capacity = {capacity}
        policy = "lru"
        latency = {{ dist = "constant", ms = 0.0 }}
        [[layers]]
        name = "db"
        kind = "database"
        latency = {{ dist = "constant", ms = 0.0001 }}
        "#
    );
    Source::new("trace-l1.toml", text, ScenarioFormat::Toml)
        .plan(&[])
        .unwrap()
        .1
}

#[test]
fn trace_workload_drives_a_layer_like_replay() {
    let src = shipped();
    // 1 µs apart, the 0.1 µs query is done before the next arrival, so no request
    // finds its key in flight.
    let plan = l1_over_trace(&src, "oracle_general", 100);
    assert_eq!(plan.requests, Some(10_000), "the trace's length");
    assert_eq!(plan.workload.keys, 1_630, "the trace's distinct objects");
    let report = tiersim::simulate(&plan);
    let lru = PolicySpec::from_name("lru").unwrap();
    let replayed = ReplayJob::new(src.clone(), lru.clone(), 100).run().unwrap();
    assert_eq!(report.layers[0].requests, replayed.requests);
    assert_eq!(report.layers[0].hits, replayed.requests - replayed.misses);
}

/// LIRS's `libcachesim` variant misses exactly where libCacheSim's `LIRS` does on Zipf
/// traces from tiersim's generator (`generate_zipf_oracle(path, 200_000, 20_000, ALPHA,
/// 42)`), beside `shared_traces::libcachesim_parity`'s trace. The figures are the libcachesim 0.3.5
/// wheel's: `lcs.LIRS(SIZE).process_trace(lcs.TraceReader(PATH,
/// lcs.TraceType.ORACLE_GENERAL_TRACE, p))`, `p.ignore_obj_size` true for entries, as in
/// `tests/peer/reference.py`, PATH that file. At
/// 100 entries (an HIR share of one entry) hits on HIR entries in Q alone leave entries
/// stray, which the cloudPhysics trace never does.
#[test]
fn lirs_libcachesim_variant_misses_as_libcachesim_on_zipf() {
    let dir = tempfile::tempdir().unwrap();
    let lirs: PolicySpec = "lirs:variant=libcachesim".parse().unwrap();
    for (alpha, misses) in [
        (1.0, [106320, 64500, 35360, 75848, 38300, 16861]),
        (0.8, [153792, 112582, 69670, 124988, 74457, 22600]),
    ] {
        let path = dir.path().join(format!("zipf{alpha}.oracleGeneral.bin"));
        tiersim::trace::generate_zipf_oracle(&path, 200_000, 20_000, alpha, 42).unwrap();
        let src = TraceSource {
            path,
            format: Format::OracleGeneral,
            csv: Default::default(),
        };
        let sizes = [
            (100, SizeUnit::Entries),
            (1000, SizeUnit::Entries),
            (5000, SizeUnit::Entries),
            (1 << 20, SizeUnit::Bytes),
            (8 << 20, SizeUnit::Bytes),
            (32 << 20, SizeUnit::Bytes),
        ];
        for ((size, unit), want) in sizes.into_iter().zip(misses) {
            let r = ReplayJob::new(src.clone(), lirs.clone(), size)
                .unit(unit)
                .run()
                .unwrap();
            assert_eq!(r.misses, want, "Zipf({alpha}) at {size} {unit:?}");
        }
    }
}

/// Bad `workload.trace` settings name the key, the value and what is allowed.
#[test]
fn trace_workload_errors_name_the_key() {
    let scenario = |workload: &str| {
        let text = format!(
            "name = \"t\"\n[workload]\n{workload}\n[[layers]]\nname = \"db\"\nkind = \"database\"\n"
        );
        Source::new("t.toml", text, ScenarioFormat::Toml)
            .plan(&[])
            .unwrap_err()
            .to_string()
    };
    let e = scenario(r#"trace = { path = "no/such/file.bin", format = "oracle_general" }"#);
    for phrase in [
        "t.toml:3",
        "workload.trace.path",
        "no/such/file.bin",
        "cannot read",
    ] {
        assert!(e.contains(phrase), "{phrase:?} missing in: {e}");
    }
    let e = scenario(r#"trace = { path = "x", format = "parquet" }"#);
    for phrase in [
        "workload.trace.format",
        "`parquet`",
        "oracle_general, arc_lis",
    ] {
        assert!(e.contains(phrase), "{phrase:?} missing in: {e}");
    }
    let e = scenario("keys = 10\ntrace = { path = \"x\", format = \"lirs\" }");
    assert!(
        e.contains("workload.keys") && e.contains("remove `keys`"),
        "{e}"
    );
    let e = scenario("missing_ratio = 0.1\ntrace = { path = \"x\", format = \"lirs\" }");
    assert!(
        e.contains("workload.missing_ratio") && e.contains("remove `missing_ratio`"),
        "{e}"
    );
    let e = scenario("rate = 10.0");
    assert!(
        e.contains("workload.keys") && e.contains("is missing"),
        "{e}"
    );
    // A file that is not a trace of its format, as `replay` reads it: the file, the
    // record and what is wrong are named.
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, bytes: &[u8]| {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p.display().to_string().replace('\\', "/")
    };
    for (path, format, phrases) in [
        (
            file("torn.bin", &[0u8; 30]),
            "oracle_general",
            &[
                "torn.bin",
                "6 bytes at byte offset 24",
                "not a whole 24-byte record",
            ][..],
        ),
        (
            file("empty.bin", b""),
            "oracle_general",
            &["empty.bin", "the trace has no requests"][..],
        ),
        (
            file("bad.lirs", b"1\n2\nx\n"),
            "lirs",
            &[
                "bad.lirs: line 3",
                "field `id` is `x`",
                "expected one block id",
            ][..],
        ),
        (
            file("header.csv", b"key\n1\n2\n"),
            "csv",
            &["header.csv: line 1", "looks like a header"][..],
        ),
    ] {
        let e = scenario(&format!(
            "trace = {{ path = \"{path}\", format = \"{format}\" }}"
        ));
        assert!(e.contains("workload.trace.path"), "{e}");
        for phrase in phrases {
            assert!(e.contains(phrase), "{phrase:?} missing in: {e}");
        }
    }
}

mod shared_traces {
    use super::*;

    /// The trace at `file` under the shared trace folder.
    fn shared_trace(file: &str, format: Format) -> TraceSource {
        TraceSource {
            path: shared::path(file),
            format,
            csv: Default::default(),
        }
    }

    /// libCacheSim's sample trace: 113,872 requests with real sizes.
    fn cloud_physics() -> TraceSource {
        shared_trace(
            "libcachesim/cloudPhysicsIO.oracleGeneral.bin",
            Format::OracleGeneral,
        )
    }

    fn arc_trace(name: &str) -> TraceSource {
        shared_trace(&format!("arc/{name}.lis.zst"), Format::ArcLis)
    }

    fn lirs_trace(name: &str) -> TraceSource {
        shared_trace(&format!("lirs/{name}.trace.gz"), Format::Lirs)
    }

    /// Megiddo and Modha, FAST 2003, Table III.
    #[test]
    #[ignore = "needs ../shared/traces"]
    fn arc_traces_have_the_papers_request_and_page_counts() {
        for (name, requests, pages) in [
            ("OLTP", 914_145, 186_880),
            ("P3", 3_912_296, 762_543),
            ("P6", 12_672_123, 773_770),
            ("P12", 13_208_930, 3_153_310),
            ("P2", 12_729_495, 913_347),
        ] {
            let src = arc_trace(name);
            assert_eq!(counts(&src), (requests, pages), "{name}");
        }
    }

    /// The ARC paper's Table IV, OLTP at c = 1000: LRU 32.83%, ARC 38.93%.
    #[test]
    #[ignore = "needs ../shared/traces"]
    fn oltp_hit_ratios_match_the_arc_paper() {
        let src = arc_trace("OLTP");
        let lru = hit_ratio_percent(&src, "lru", 1000);
        assert_eq!(format!("{lru:.2}"), "32.83", "LRU {lru}");
        // ARC does not reproduce the table's 38.93% exactly, and this is not a known bug.
        // Our ARC follows the paper's Figure 4 case by case, with p and delta real numbers
        // as in libCacheSim's ARC.c: 356,015 hits of 914,145 = 38.945%. A table value of
        // 38.93 means 355,831 to 355,921 hits, so we are 94 to 184 hits (0.010 to 0.020
        // points) above it. The request and page counts of the expanded trace equal Table
        // III exactly and LRU matches Table IV to the hit, so the trace and the cache-size
        // convention (1000 pages of 512 bytes) are not the cause. Figure 4 does leave
        // open whether delta and p are integers (libCacheSim's ARC.c notes the same
        // ambiguity). We tried the readings it allows on this trace: integer delta
        // (floor), 39.058%; `|T1| = p` compared with floor(p), 38.943%; p rounded or
        // ceiled in REPLACE, 38.948% and 38.951%; delta from |B1| and |B2| without the
        // requested key, 38.918%. None gives 38.93, so the authors' simulator must differ
        // in a detail the paper does not state. We keep the pseudo-code reading and pin
        // its exact count, so a regression shows as a changed count, not as drift inside
        // a tolerance.
        let arc_result = ReplayJob::new(src.clone(), PolicySpec::from_name("arc").unwrap(), 1000)
            .run()
            .unwrap();
        assert_eq!(arc_result.requests - arc_result.misses, 356_015, "ARC hits");
        let arc = hit_ratio_percent(&src, "arc", 1000);
        assert!(
            (arc - 38.93).abs() < 0.021,
            "ARC {arc}: the gap to the paper grew"
        );
        assert!(arc > lru + 6.0, "ARC beats LRU by about 6 points on OLTP");
    }

    /// Belady's MIN is a lower bound on misses for every online policy (unit sizes).
    #[test]
    #[ignore = "needs ../shared/traces"]
    fn belady_bounds_every_policy_on_oltp() {
        let src = arc_trace("OLTP");
        let opt = hit_ratio_percent(&src, "belady", 1000);
        for p in ["lru", "arc", "s3fifo", "lirs", "wtinylfu", "2q", "sieve"] {
            let h = hit_ratio_percent(&src, p, 1000);
            assert!(h < opt, "{p} {h} beats belady {opt}");
        }
    }

    /// The LIRS traces read, skip their `*` markers, and replay.
    #[test]
    #[ignore = "needs ../shared/traces"]
    fn lirs_traces_replay() {
        let src = lirs_trace("loop");
        let (n, pages) = counts(&src);
        assert!(n > 1000 && pages > 100, "{n} requests, {pages} pages");
        // A loop larger than the cache is LRU's worst case; LIRS keeps part of it.
        let size = pages as u64 / 2;
        let lru = hit_ratio_percent(&src, "lru", size);
        let lirs = hit_ratio_percent(&src, "lirs", size);
        assert!(lirs > lru + 10.0, "lirs {lirs} vs lru {lru}");
    }

    /// LIRS miss counts on every LIRS-paper trace, pinned from the key-indexed implementation
    /// (before the policy's state was sized by the cache): a change to LIRS's data structures
    /// must not move a single miss.
    #[test]
    #[ignore = "needs ../shared/traces"]
    fn lirs_miss_counts_are_pinned_on_the_lirs_traces() {
        const SIZES: [u64; 5] = [50, 200, 500, 1000, 2000];
        for (name, misses) in [
            ("2_pools", [76117, 49599, 48043, 45608, 40810]),
            ("cpp", [4034, 1424, 1275, 1228, 1223]),
            ("cs", [6571, 5975, 4783, 2799, 1409]),
            ("gli", [5778, 5182, 3994, 2964, 2529]),
            ("loop", [481049, 406698, 258495, 11490, 1011]),
            ("multi1", [10889, 8255, 7038, 5016, 2631]),
            ("multi2", [20801, 15911, 12930, 11012, 7601]),
            ("multi3", [24801, 19881, 16765, 15254, 11418]),
            ("ps", [8250, 5282, 4452, 3462, 3083]),
            ("sprite", [118735, 73729, 32036, 16470, 11706]),
        ] {
            let src = lirs_trace(name);
            let lirs = PolicySpec::from_name("lirs").unwrap();
            for (size, want) in SIZES.into_iter().zip(misses) {
                let r = ReplayJob::new(src.clone(), lirs.clone(), size)
                    .run()
                    .unwrap();
                assert_eq!(r.misses, want, "{name} at {size}");
            }
        }
    }

    /// A scenario whose workload is a trace (`workload.trace`), with one LRU layer and an
    /// origin that answers before the next request arrives: the layer sees exactly the
    /// requests `tiersim replay` sees, so its hit count must equal the replay's.
    #[test]
    #[ignore = "needs ../shared/traces"]
    fn trace_workload_drives_a_layer_like_replay_on_oltp() {
        let src = arc_trace("OLTP");
        // arc_lis timestamps count requests; 1 µs apart, the 0.1 µs query is done before
        // the next arrival, so no request finds its key in flight.
        let plan = l1_over_trace(&src, "arc_lis", 1000);
        assert_eq!(plan.requests, Some(914_145), "the trace's length");
        assert_eq!(plan.workload.keys, 186_880, "the trace's distinct pages");
        let report = tiersim::simulate(&plan);
        let replayed = ReplayJob::new(src.clone(), PolicySpec::from_name("lru").unwrap(), 1000)
            .run()
            .unwrap();
        assert_eq!(report.layers[0].requests, replayed.requests);
        assert_eq!(report.layers[0].hits, replayed.requests - replayed.misses);
        // 914,145 requests 1 µs apart.
        assert!(
            (report.duration_s - 0.914_144).abs() < 1e-6,
            "{}",
            report.duration_s
        );
    }

    /// One row of libCacheSim's output (`tests/peer/reference.py`).
    #[derive(Debug, serde::Deserialize)]
    struct PeerRow {
        policy: String,
        libcachesim: String,
        size: u64,
        size_unit: String,
        requests: u64,
        misses: u64,
        miss_bytes: Option<u64>,
    }

    /// Rows of the reference where tiersim differs from libCacheSim on purpose, and why. Each
    /// is a cache so small that libCacheSim refuses objects larger than a sub-queue, which
    /// tiersim admits: at 10 entries S3-FIFO's small queue is 1 entry and libCacheSim admits
    /// only objects below a tenth of the cache, so it caches nothing; at 64 KiB an object
    /// over a quarter of the cache is refused by libCacheSim's 2Q (larger than A1in) and
    /// SLRU (larger than a segment), and over a tenth by its S3-FIFO. libCacheSim's SLRU also
    /// leaves the remainder of a size not divisible by its segment count outside every
    /// segment (10 entries in 4 segments of 2); tiersim gives it to the lowest segment.
    const NOT_LIBCACHESIM: &[(&str, u64, &str)] = &[
        ("s3fifo", 10, "entries"),
        ("slru:protected_ratio=0.75:segments=4", 10, "entries"),
        ("s3fifo", 65536, "bytes"),
        ("2q", 65536, "bytes"),
        ("slru:protected_ratio=0.75:segments=4", 65536, "bytes"),
    ];

    /// tiersim's replay of cloudPhysicsIO meets libCacheSim's, the reference C simulator's,
    /// on every row it reported: the same requests and misses, and for caches sized in
    /// bytes the same missed bytes; except [`NOT_LIBCACHESIM`], which must still differ (so
    /// a change that closes a gap also updates the list). `tests/peer/reference.py` made the
    /// reference with the PyPI wheel of libCacheSim and says how to remake it; a policy it
    /// leaves out says why.
    #[test]
    #[ignore = "needs ../shared/traces"]
    fn libcachesim_parity() {
        let src = cloud_physics();
        let reference = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/peer/cloudPhysicsIO.libcachesim.csv");
        let mut rows = csv::ReaderBuilder::new()
            .comment(Some(b'#'))
            .from_path(&reference)
            .unwrap();
        let mut checked = 0;
        let mut wrong = Vec::new();
        for row in rows.deserialize::<PeerRow>() {
            let row = row.unwrap();
            let policy: PolicySpec = row.policy.parse().unwrap();
            let unit: SizeUnit = row.size_unit.parse().unwrap();
            let r = ReplayJob::new(src.clone(), policy.clone(), row.size)
                .unit(unit)
                .run()
                .unwrap();
            let miss_bytes = row.miss_bytes.map(|_| r.miss_bytes);
            let same =
                (r.requests, r.misses, miss_bytes) == (row.requests, row.misses, row.miss_bytes);
            let expected =
                !NOT_LIBCACHESIM.contains(&(row.policy.as_str(), row.size, row.size_unit.as_str()));
            if same != expected {
                wrong.push(format!(
                    "{} {} {}: tiersim {} requests, {} misses, missed bytes {:?}; {} {} {:?}{}",
                    row.policy,
                    row.size,
                    row.size_unit,
                    r.requests,
                    r.misses,
                    miss_bytes,
                    row.libcachesim,
                    row.misses,
                    row.miss_bytes,
                    if expected {
                        ""
                    } else {
                        " (listed as different, but equal)"
                    }
                ));
            }
            checked += 1;
        }
        assert!(checked > 100, "{checked} rows in {}", reference.display());
        assert!(
            wrong.is_empty(),
            "{} of {checked} rows disagree:\n{}",
            wrong.len(),
            wrong.join("\n")
        );
    }

    /// Every policy, tiny caches in entries and in bytes (objects larger than a segment, a
    /// queue or the LIR set's room): every replay finishes, with every request counted. (LIRS
    /// once panicked at 64 KiB.)
    #[test]
    #[ignore = "needs ../shared/traces"]
    fn every_policy_replays_tiny_caches() {
        let src = cloud_physics();
        let variants = [
            "lirs:variant=libcachesim",
            "wtinylfu:variant=libcachesim",
            "slru:segments=16",
        ];
        for name in PolicySpec::NAMES.iter().copied().chain(variants) {
            let policy: PolicySpec = name.parse().unwrap();
            for (size, unit) in [
                (1, SizeUnit::Entries),
                (2, SizeUnit::Entries),
                (3, SizeUnit::Entries),
                (7, SizeUnit::Entries),
                (4096, SizeUnit::Bytes),
                (65536, SizeUnit::Bytes),
            ] {
                let r = ReplayJob::new(src.clone(), policy.clone(), size)
                    .unit(unit)
                    .run()
                    .unwrap();
                assert_eq!(r.requests, 113_872, "{name} {size}");
                assert!(r.misses <= r.requests, "{name} {size}");
            }
        }
    }

    /// The reported input: libCacheSim's binary sample trace read as CSV gave 50,801 bogus
    /// requests; it is an error naming the file and its first line, which is not text.
    #[test]
    #[ignore = "needs ../shared/traces"]
    fn cloud_physics_read_as_csv_is_an_error() {
        let mut src = cloud_physics();
        src.format = Format::Csv;
        let lru = PolicySpec::from_name("lru").unwrap();
        let e = ReplayJob::new(src.clone(), lru.clone(), 10)
            .run()
            .unwrap_err()
            .to_string();
        for phrase in ["cloudPhysicsIO.oracleGeneral.bin: line 1", "is not text"] {
            assert!(e.contains(phrase), "{phrase:?} missing in: {e}");
        }
    }
}
