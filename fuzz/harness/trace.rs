//! Trace cases: a file in one of `tiersim replay`'s formats, with valid records, torn
//! records, garbage bytes, header rows, foreign content, compression (plain, `.gz`,
//! `.zst`) and broken compressed streams, replayed with valid and mutated flags.
//!
//! A case is a [`Base`] (format, record count, content seed, policies and sizes that
//! are valid for it) and a list of [`Mutation`]s applied in a fixed order, so any
//! subset of the list renders a trace too (what minimizing a failure needs). It knows
//! the formats' layouts, not how tiersim reads them.

use std::fmt;
use std::io::Write;

use super::Gen;

/// A trace format `tiersim replay --format` names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fmt {
    /// Delimited text, columns chosen by flags.
    Csv,
    /// libCacheSim's 24-byte binary records.
    OracleGeneral,
    /// The ARC paper's `start count ignore req_no` lines.
    ArcLis,
    /// One id per line.
    Lirs,
    /// Twitter's seven-column CSV.
    Twitter,
    /// `time id size` lines.
    Webcachesim,
}

/// Every format, in the order cases pick from.
pub const FORMATS: [Fmt; 6] = [
    Fmt::Csv,
    Fmt::OracleGeneral,
    Fmt::ArcLis,
    Fmt::Lirs,
    Fmt::Twitter,
    Fmt::Webcachesim,
];

impl Fmt {
    /// The `--format` name.
    pub fn name(self) -> &'static str {
        match self {
            Fmt::Csv => "csv",
            Fmt::OracleGeneral => "oracle_general",
            Fmt::ArcLis => "arc_lis",
            Fmt::Lirs => "lirs",
            Fmt::Twitter => "twitter",
            Fmt::Webcachesim => "webcachesim",
        }
    }

    /// The file name of a plain trace of this format.
    fn file_name(self) -> &'static str {
        match self {
            Fmt::Csv => "trace.csv",
            Fmt::OracleGeneral => "trace.oracleGeneral.bin",
            Fmt::ArcLis => "trace.lis",
            Fmt::Lirs => "trace.lirs",
            Fmt::Twitter => "trace.twr.csv",
            Fmt::Webcachesim => "trace.webcachesim.tr",
        }
    }

    /// The field separator of a text format.
    fn separator(self) -> &'static str {
        match self {
            Fmt::Csv | Fmt::Twitter => ",",
            _ => " ",
        }
    }
}

/// How the file is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// gzip, `.gz`.
    Gz,
    /// Zstandard, `.zst`.
    Zst,
}

/// What a trace case starts from: valid records and flags that fit them.
#[derive(Clone, Debug, PartialEq)]
pub struct Base {
    /// The records' format.
    pub format: Fmt,
    /// How many records.
    pub records: usize,
    /// Seeds the records.
    pub seed: u64,
    /// `--policy`, valid policies.
    pub policies: Vec<String>,
    /// `--size`.
    pub sizes: Vec<u64>,
    /// `--size-unit bytes` rather than entries.
    pub bytes: bool,
}

/// One change to a trace case.
#[derive(Clone, Debug, PartialEq)]
pub enum Mutation {
    /// Records of another format in the file (`--format` still names the base's).
    Foreign(Fmt),
    /// Field `field` of record `record` (both modulo what exists) becomes `value`.
    Field {
        /// Which record.
        record: usize,
        /// Which field.
        field: usize,
        /// Its new text (for `oracle_general`, a number wrapped to the field's width).
        value: String,
    },
    /// A header row first.
    Header(String),
    /// Blank lines, CRLF line ends and `*` marker lines between records.
    Noise,
    /// The file cut at this fraction of its length (per mille): a torn last record.
    Torn(u32),
    /// These bytes inserted at this fraction of the length (per mille).
    Garbage(u32, Vec<u8>),
    /// No bytes at all.
    Empty,
    /// Compressed (the extension says so).
    Compress(Compression),
    /// The compressed stream cut at this fraction (per mille).
    CorruptStream(u32),
    /// Another file name (a compressed stream without its extension, or plain bytes
    /// named `.gz`).
    Rename(String),
    /// `--format` names this instead.
    FormatArg(String),
    /// `--policy` is this list.
    Policies(String),
    /// `--size` is this list.
    Sizes(String),
    /// `--size-unit` is this.
    SizeUnit(String),
    /// A `--csv-*` flag and its value (`--csv-header` takes none).
    CsvFlag(String, Option<String>),
    /// `--seed` is this.
    Seed(String),
}

impl fmt::Display for Mutation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mutation::Foreign(x) => write!(f, "records of format {}", x.name()),
            Mutation::Field {
                record,
                field,
                value,
            } => write!(f, "record {record} field {field} = {value:?}"),
            Mutation::Header(h) => write!(f, "header row {h:?}"),
            Mutation::Noise => f.write_str("blank lines, CRLF and * markers"),
            Mutation::Torn(p) => write!(f, "cut at {p}\u{2030} (torn record)"),
            Mutation::Garbage(p, b) => write!(f, "garbage bytes {b:?} at {p}\u{2030}"),
            Mutation::Empty => f.write_str("empty file"),
            Mutation::Compress(Compression::Gz) => f.write_str("gzip"),
            Mutation::Compress(Compression::Zst) => f.write_str("zstd"),
            Mutation::CorruptStream(p) => write!(f, "compressed stream cut at {p}\u{2030}"),
            Mutation::Rename(n) => write!(f, "file named {n}"),
            Mutation::FormatArg(s) => write!(f, "--format {s:?}"),
            Mutation::Policies(s) => write!(f, "--policy {s:?}"),
            Mutation::Sizes(s) => write!(f, "--size {s:?}"),
            Mutation::SizeUnit(s) => write!(f, "--size-unit {s:?}"),
            Mutation::CsvFlag(k, Some(v)) => write!(f, "{k} {v:?}"),
            Mutation::CsvFlag(k, None) => write!(f, "{k}"),
            Mutation::Seed(s) => write!(f, "--seed {s:?}"),
        }
    }
}

impl Mutation {
    /// What it changes, for the report's tally of failing cases.
    pub fn target(&self) -> String {
        match self {
            Mutation::Field { .. } => "trace field".into(),
            Mutation::Foreign(_) => "trace foreign records".into(),
            Mutation::Header(_) => "trace header row".into(),
            Mutation::Noise => "trace noise".into(),
            Mutation::Torn(_) => "trace torn".into(),
            Mutation::Garbage(..) => "trace garbage".into(),
            Mutation::Empty => "trace empty".into(),
            Mutation::Compress(_) => "trace compressed".into(),
            Mutation::CorruptStream(_) => "trace corrupt stream".into(),
            Mutation::Rename(_) => "trace file name".into(),
            Mutation::FormatArg(_) => "--format".into(),
            Mutation::Policies(_) => "--policy".into(),
            Mutation::Sizes(_) => "--size".into(),
            Mutation::SizeUnit(_) => "--size-unit".into(),
            Mutation::CsvFlag(k, _) => k.clone(),
            Mutation::Seed(_) => "--seed".into(),
        }
    }
}

/// Valid policy names (`belady` too: replay reads the trace twice for it).
pub const POLICIES: &[&str] = &[
    "fifo",
    "lru",
    "lfu",
    "perfect_lfu",
    "random",
    "clock",
    "slru",
    "2q",
    "arc",
    "lirs",
    "s3fifo",
    "sieve",
    "wtinylfu",
    "gdsf",
    "lfuda",
    "belady",
];

/// Policies with parameters, valid and not.
const POLICY_VARIANTS: &[&str] = &[
    "slru:protected_ratio=0.5",
    "slru:segments=16",
    "slru:segments=0",
    "slru:segments=255",
    "slru:protected_ratio=1",
    "2q:kin=0.5:kout=0.5",
    "2q:kin=-1",
    "2q:kin=0",
    "lirs:hir_ratio=0.5",
    "lirs:hir_ratio=nan",
    "lirs:hir_ratio=1",
    "lirs:variant=libcachesim",
    "wtinylfu:window_ratio=1",
    "wtinylfu:window_ratio=0",
    "wtinylfu:variant=libcachesim",
    "arc:size_scaled_adaptation=false",
    "s3fifo:small_ratio=0",
    "s3fifo:small_ratio=1",
    "s3fifo:move_to_main_threshold=0",
    "s3fifo:ghost_ratio=1e15",
    "lru:unknown=1",
    "lru:",
    ":",
    "",
    "LRU",
    "nosuch",
];

/// Extreme texts for a number field.
const FIELD_TEXTS: &[&str] = &[
    "-1",
    "0",
    "1",
    "4294967295",
    "4294967296",
    "18446744073709551615",
    "18446744073709551616",
    "9223372036854775807",
    "-9223372036854775808",
    "1000000000000",
    "1e15",
    "nan",
    "inf",
    "",
    " ",
    "abc",
    "0x10",
    "+5",
    "1.5",
    "99999999999999999999999999999",
    "\u{0}",
    "\u{e9}",
];

/// Draws a trace case: its base and `n` mutations.
pub fn generate(g: &mut Gen, n: usize) -> (Base, Vec<Mutation>) {
    let format = g.pick(&FORMATS);
    let bytes = g.chance(0.3);
    let base = Base {
        format,
        records: g.pick(&[1, 2, 3, 10, 100, 1000, 5000]),
        seed: g.u64(),
        policies: (0..1 + g.below(3))
            .map(|_| (g.pick(POLICIES)).to_owned())
            .collect(),
        sizes: (0..1 + g.below(3))
            .map(|_| {
                if bytes {
                    g.pick(&[1, 100, 4096, 100_000, 10_000_000])
                } else {
                    g.pick(&[1, 2, 10, 100, 1000])
                }
            })
            .collect(),
        bytes,
    };
    let muts = (0..n).map(|_| mutation(g, &base)).collect();
    (base, muts)
}

fn mutation(g: &mut Gen, base: &Base) -> Mutation {
    // Weights, in the match's order: foreign records, field, header, noise, torn,
    // garbage, empty, compressed, broken stream, renamed, --format, --policy, --size,
    // --size-unit, a --csv-* flag, --seed.
    match g.weighted(&[10, 20, 5, 5, 8, 8, 3, 12, 4, 3, 3, 6, 8, 2, 5, 1]) {
        0 => Mutation::Foreign(g.pick(&FORMATS)),
        1 => Mutation::Field {
            record: g.below(base.records.max(1)),
            field: g.below(7),
            value: (g.pick(FIELD_TEXTS)).to_owned(),
        },
        2 => Mutation::Header(
            (g.pick(&[
                "time,key,size",
                "timestamp,key,key_size,value_size,client,op,ttl",
                "# comment",
                "time id size",
                "id",
                "\u{feff}time,key,size",
            ]))
            .to_owned(),
        ),
        3 => Mutation::Noise,
        4 => Mutation::Torn(g.below(1001) as u32),
        5 => Mutation::Garbage(g.below(1001) as u32, garbage(g)),
        6 => Mutation::Empty,
        7 => Mutation::Compress(if g.chance(0.5) {
            Compression::Gz
        } else {
            Compression::Zst
        }),
        8 => Mutation::CorruptStream(g.below(1000) as u32),
        9 => Mutation::Rename(
            (g.pick(&[
                "trace",
                "trace.gz",
                "trace.zst",
                "trace.csv.gz",
                "trace.bin",
            ]))
            .to_owned(),
        ),
        10 => Mutation::FormatArg(
            (g.pick(&[
                "csv",
                "oracle_general",
                "oracleGeneral",
                "arc_lis",
                "arc",
                "lirs",
                "twitter",
                "webcachesim",
                "",
                "CSV",
                "binary",
            ]))
            .to_owned(),
        ),
        11 => Mutation::Policies(
            (0..1 + g.below(3))
                .map(|_| {
                    if g.chance(0.5) {
                        g.pick(POLICY_VARIANTS)
                    } else {
                        g.pick(POLICIES)
                    }
                })
                .collect::<Vec<_>>()
                .join(","),
        ),
        12 => Mutation::Sizes(
            (0..1 + g.below(3))
                .map(|_| {
                    g.pick(&[
                        "0",
                        "1",
                        "2",
                        "3",
                        "7",
                        "100",
                        "65536",
                        "1000000",
                        "4294967295",
                        "4294967296",
                        "1000000000000000",
                        "18446744073709551615",
                        "-1",
                        "1e3",
                        "abc",
                    ])
                })
                .collect::<Vec<_>>()
                .join(","),
        ),
        13 => Mutation::SizeUnit((g.pick(&["bytes", "entries", "pages", ""])).to_owned()),
        14 => {
            let flag = g.pick(&[
                "--csv-key",
                "--csv-time",
                "--csv-size",
                "--csv-header",
                "--csv-delimiter",
            ]);
            let value = match flag {
                "--csv-header" => None,
                "--csv-delimiter" => Some(g.pick(&[",", ";", "\t", " ", "ab", "", "\u{e9}"])),
                _ => Some(g.pick(&[
                    "0",
                    "1",
                    "2",
                    "3",
                    "4",
                    "7",
                    "100",
                    "-1",
                    "18446744073709551615",
                ])),
            };
            Mutation::CsvFlag(flag.to_owned(), value.map(str::to_owned))
        }
        _ => Mutation::Seed((g.pick(&["0", "18446744073709551615", "-1"])).to_owned()),
    }
}

/// Random bytes, with some that parsers find hard: NUL, invalid UTF-8, a BOM, quotes,
/// line ends.
fn garbage(g: &mut Gen) -> Vec<u8> {
    let specials: &[&[u8]] = &[
        b"\0",
        b"\xff\xfe",
        b"\xef\xbb\xbf",
        b"\"",
        b"\r",
        b"\n",
        b",,,",
        b"\x1f\x8b",
        b"\x28\xb5\x2f\xfd",
    ];
    let mut out = Vec::new();
    for _ in 0..1 + g.below(4) {
        if g.chance(0.5) {
            out.extend_from_slice(g.pick(specials));
        } else {
            for _ in 0..1 + g.below(24) {
                out.push(g.u64() as u8);
            }
        }
    }
    out
}

/// A rendered trace case: the file to write and the `replay` arguments.
#[derive(Clone, Debug)]
pub struct Rendered {
    /// The trace's file name in the case folder.
    pub file: String,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// Everything after `replay FILE`, before `--out`.
    pub args: Vec<String>,
}

/// Renders `base` with `muts` applied, in a fixed order whatever the list's order:
/// records, fields, text, bytes, compression, name, then flags (the last of each
/// flag wins).
pub fn render(base: &Base, muts: &[Mutation]) -> Rendered {
    let content = muts
        .iter()
        .rev()
        .find_map(|m| match m {
            Mutation::Foreign(f) => Some(*f),
            _ => None,
        })
        .unwrap_or(base.format);
    let mut records = records(content, base.records, base.seed);
    for m in muts {
        if let Mutation::Field {
            record,
            field,
            value,
        } = m
            && !records.is_empty()
        {
            let len = records.len();
            let r = &mut records[record % len];
            let i = field % r.len();
            r[i] = value.clone();
        }
    }
    let header = muts.iter().find_map(|m| match m {
        Mutation::Header(h) => Some(h.as_str()),
        _ => None,
    });
    let noise = muts.contains(&Mutation::Noise);
    let mut bytes = serialize(content, &records, header, noise);
    for m in muts {
        match m {
            Mutation::Torn(p) => {
                let at = bytes.len() * *p as usize / 1000;
                bytes.truncate(at);
            }
            Mutation::Garbage(p, g) => {
                let at = bytes.len() * *p as usize / 1000;
                bytes.splice(at..at, g.iter().copied());
            }
            Mutation::Empty => bytes.clear(),
            _ => {}
        }
    }
    let compression = muts.iter().rev().find_map(|m| match m {
        Mutation::Compress(c) => Some(*c),
        _ => None,
    });
    let mut file = base.format.file_name().to_owned();
    if let Some(c) = compression {
        bytes = compress(&bytes, c);
        file.push_str(match c {
            Compression::Gz => ".gz",
            Compression::Zst => ".zst",
        });
        for m in muts {
            if let Mutation::CorruptStream(p) = m {
                let at = bytes.len() * *p as usize / 1000;
                bytes.truncate(at);
            }
        }
    }
    if let Some(name) = muts.iter().rev().find_map(|m| match m {
        Mutation::Rename(n) => Some(n),
        _ => None,
    }) {
        file = name.clone();
    }
    Rendered {
        file,
        bytes,
        args: args(base, muts),
    }
}

/// The `replay` flags: valid ones for the base, then the mutations' (a later flag of
/// the same name wins, as clap takes the last).
fn args(base: &Base, muts: &[Mutation]) -> Vec<String> {
    let last = |f: &dyn Fn(&Mutation) -> Option<String>| muts.iter().rev().find_map(f);
    let format = last(&|m| match m {
        Mutation::FormatArg(s) => Some(s.clone()),
        _ => None,
    })
    .unwrap_or_else(|| base.format.name().to_owned());
    let policies = last(&|m| match m {
        Mutation::Policies(s) => Some(s.clone()),
        _ => None,
    })
    .unwrap_or_else(|| base.policies.join(","));
    let sizes = last(&|m| match m {
        Mutation::Sizes(s) => Some(s.clone()),
        _ => None,
    })
    .unwrap_or_else(|| {
        base.sizes
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(",")
    });
    let unit = last(&|m| match m {
        Mutation::SizeUnit(s) => Some(s.clone()),
        _ => None,
    })
    .unwrap_or_else(|| if base.bytes { "bytes" } else { "entries" }.to_owned());
    let mut out = vec![
        format!("--format={format}"),
        format!("--policy={policies}"),
        format!("--size={sizes}"),
        format!("--size-unit={unit}"),
    ];
    if base.format == Fmt::Csv {
        out.extend(["--csv-time=1", "--csv-key=2", "--csv-size=3"].map(String::from));
    }
    for m in muts {
        match m {
            Mutation::CsvFlag(k, Some(v)) => out.push(format!("{k}={v}")),
            Mutation::CsvFlag(k, None) => out.push(k.clone()),
            Mutation::Seed(s) => out.push(format!("--seed={s}")),
            _ => {}
        }
    }
    out
}

/// `n` valid records of `format`, as text fields, seeded.
fn records(format: Fmt, n: usize, seed: u64) -> Vec<Vec<String>> {
    let mut g = Gen::new(seed);
    let mut time = 1_000_000u64;
    (0..n)
        .map(|i| {
            time += g.below(3) as u64;
            // A skewed id: small ids are common, as in a Zipf-like workload.
            let r = g.below(64) as u64;
            let id = r * r / 8;
            let size = 1 + id * 37 % 4096;
            let fields: Vec<String> = match format {
                Fmt::Csv | Fmt::Webcachesim => {
                    vec![time.to_string(), id.to_string(), size.to_string()]
                }
                Fmt::OracleGeneral => vec![
                    (time % (1 << 32)).to_string(),
                    id.to_string(),
                    size.to_string(),
                    "-1".into(),
                ],
                Fmt::ArcLis => vec![
                    (id * 8).to_string(),
                    (1 + g.below(8)).to_string(),
                    "0".into(),
                    i.to_string(),
                ],
                Fmt::Lirs => vec![id.to_string()],
                Fmt::Twitter => {
                    let op = g.pick(&["get", "get", "get", "gets", "set", "add", "delete", "incr"]);
                    vec![
                        (time / 1000).to_string(),
                        format!("key{id}"),
                        (4 + id % 40).to_string(),
                        size.to_string(),
                        g.below(8).to_string(),
                        op.into(),
                        (g.pick(&["0", "0", "60", "3600"])).into(),
                    ]
                }
            };
            fields
        })
        .collect()
}

/// The records as the file's bytes.
fn serialize(format: Fmt, records: &[Vec<String>], header: Option<&str>, noise: bool) -> Vec<u8> {
    let mut out = Vec::new();
    if let Some(h) = header {
        out.extend_from_slice(h.as_bytes());
        out.push(b'\n');
    }
    for (i, r) in records.iter().enumerate() {
        if format == Fmt::OracleGeneral {
            let num = |s: &str| -> i128 { s.trim().parse::<i128>().unwrap_or(0) };
            out.extend_from_slice(&(num(&r[0]) as u32).to_le_bytes());
            out.extend_from_slice(&(num(&r[1]) as u64).to_le_bytes());
            out.extend_from_slice(&(num(&r[2]) as u32).to_le_bytes());
            out.extend_from_slice(&(num(&r[3]) as i64).to_le_bytes());
            continue;
        }
        out.extend_from_slice(r.join(format.separator()).as_bytes());
        if noise && i % 3 == 1 {
            out.extend_from_slice(b"\r\n\n*\n  \n");
        } else {
            out.push(b'\n');
        }
    }
    out
}

fn compress(bytes: &[u8], c: Compression) -> Vec<u8> {
    match c {
        Compression::Gz => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(bytes).expect("writes to memory");
            e.finish().expect("writes to memory")
        }
        Compression::Zst => zstd::encode_all(bytes, 1).expect("compresses in memory"),
    }
}

/// A valid trace for a scenario's `workload.trace`: `(file name, bytes)`.
pub fn workload_trace(format: Fmt, records: usize, seed: u64, gz: bool) -> (String, Vec<u8>) {
    let rs = self::records(format, records, seed);
    let mut bytes = serialize(format, &rs, None, false);
    let mut name = format.file_name().to_owned();
    if gz {
        bytes = compress(&bytes, Compression::Gz);
        name.push_str(".gz");
    }
    (name, bytes)
}
