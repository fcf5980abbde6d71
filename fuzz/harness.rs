//! tiersim's fuzz harness: generated inputs through the real binary, in child processes
//! under a timeout and memory limits, every outcome judged against the exit-code
//! contract (0 success, 2 bad input, 1 only when the output cannot be written).
//!
//! A case is a pure function of (seed, case number): a mutated scenario driven through
//! `tiersim validate` and then, if it is accepted, a short `tiersim run`; a generated
//! trace driven through `tiersim replay`; or, every hundredth case, an unmutated
//! scenario that must pass (a control: it catches a harness whose own command lines
//! are wrong). A case fails on a panic, a signal (an abort on the memory limit, a file
//! over the size limit), a timeout, an exit code outside the contract, an exit 2
//! without a message, or an exit 0 without its output files. Failures are grouped into
//! classes (a panic's location, a signal, an exit code and its message), the first
//! case of each is minimized to the fewest mutations that still fail the same way,
//! and each failing case's input is saved with a script that replays it.
//!
//! `fuzz/main.rs` is the command line; `tests/integration/fuzz.rs` tests this module
//! against fake binaries. It knows tiersim's command line and output files, not its
//! library.

#[path = "harness/child.rs"]
pub mod child;
#[path = "harness/scenario.rs"]
pub mod scenario;
#[path = "harness/trace.rs"]
pub mod trace;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rand::{Rng, RngExt};
use rand_xoshiro::Xoshiro256PlusPlus;
use rand_xoshiro::rand_core::SeedableRng;

use child::{Finished, Limits, Status};

/// The seeded generator every draw of a case comes from.
pub struct Gen(Xoshiro256PlusPlus);

impl Gen {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Gen {
        Gen(Xoshiro256PlusPlus::seed_from_u64(seed))
    }

    /// A uniform `u64`.
    pub fn u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        self.0.random_range(0..n)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.0.random::<f64>() < p
    }

    /// One of `xs` (non-empty), uniformly.
    pub fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }

    /// An index drawn with the given weights.
    pub fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u32 = weights.iter().sum();
        let mut x = self.0.random_range(0..total);
        for (i, &w) in weights.iter().enumerate() {
            if x < w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }

    /// Log-uniform in `[lo, hi]`.
    pub fn log_uniform(&mut self, lo: u64, hi: u64) -> u64 {
        let (a, b) = ((lo as f64).ln(), (hi.max(lo) as f64).ln());
        let x = a + (b - a) * self.0.random::<f64>();
        (x.exp().round() as u64).clamp(lo, hi.max(lo))
    }
}

/// SplitMix64's finaliser: case `i` of seed `s` draws from `mix(s ^ mix(i))`.
pub const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A scenario file the cases mutate.
#[derive(Clone, Debug)]
pub struct BaseScenario {
    /// Its file name (`app_tier.toml`).
    pub name: String,
    /// Its tree.
    pub tree: toml::Value,
    /// Its share of the cases: the built-in quickstart's setup (1M keys, 100k browser
    /// caches) takes ten times the others', so it gets a third of their share.
    pub weight: u32,
}

/// The scenario files cases start from.
#[derive(Clone, Debug)]
pub struct Corpus {
    /// In file-name order.
    pub scenarios: Vec<BaseScenario>,
}

impl Corpus {
    /// Every `*.toml` file in `dir`.
    pub fn load(dir: &Path) -> io::Result<Corpus> {
        let mut names: Vec<PathBuf> = fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .collect();
        names.sort();
        let mut scenarios = Vec::new();
        for p in names {
            let text = fs::read_to_string(&p)?;
            let tree = toml::from_str::<toml::Table>(&text)
                .map(toml::Value::Table)
                .map_err(|e| io::Error::other(format!("{}: {e}", p.display())))?;
            let name = p
                .file_name()
                .expect("a file")
                .to_string_lossy()
                .into_owned();
            let weight = if name == "quickstart.toml" { 1 } else { 3 };
            scenarios.push(BaseScenario { name, tree, weight });
        }
        if scenarios.is_empty() {
            return Err(io::Error::other(format!(
                "no scenario files in {}",
                dir.display()
            )));
        }
        Ok(Corpus { scenarios })
    }
}

/// How a run of the harness is set up.
#[derive(Clone, Debug)]
pub struct Config {
    /// The `tiersim` binary under test.
    pub bin: PathBuf,
    /// The first case number.
    pub first: u64,
    /// How many cases.
    pub cases: u64,
    /// Seeds every case.
    pub seed: u64,
    /// Cases run at once.
    pub jobs: usize,
    /// Limits of every command.
    pub limits: Limits,
    /// Where failing cases are kept and `report.txt` is written.
    pub out: PathBuf,
    /// Scratch folder the cases run in (emptied per case, removed at the end).
    pub work: PathBuf,
    /// The most requests a `run` makes (each case draws its cap log-uniformly from
    /// 1,000 up to this).
    pub max_requests: u64,
    /// Per failure class, how many cases to shrink to their fewest mutations (0: none):
    /// the first, then each next case whose mutations do not include a reproducer
    /// already found (likely another cause of the same symptom).
    pub minimize: usize,
    /// Failing cases saved per class.
    pub keep: usize,
    /// Extra arguments for every `tiersim run`.
    pub run_args: Vec<String>,
    /// `--max-memory` (bytes) for every `validate` and `run`: below the address-space
    /// limit, so a case too big for it is refused by tiersim's estimate (exit 2) rather
    /// than aborted by the limit; the same on every machine, whatever memory it has.
    pub max_memory: Option<u64>,
    /// Print progress to stderr.
    pub progress: bool,
}

/// What a case feeds the binary.
#[derive(Clone, Debug)]
pub enum Input {
    /// A scenario as shipped; it must pass.
    Control {
        /// Index into the corpus.
        scenario: usize,
    },
    /// A mutated scenario.
    Scenario {
        /// Index into the corpus.
        scenario: usize,
        /// Its mutations, in order.
        muts: Vec<scenario::Mutation>,
    },
    /// A generated trace for `replay`.
    Trace {
        /// Valid records and flags.
        base: trace::Base,
        /// Its mutations.
        muts: Vec<trace::Mutation>,
    },
}

/// One generated case.
#[derive(Clone, Debug)]
pub struct Case {
    /// Its number.
    pub index: u64,
    /// What it feeds the binary.
    pub input: Input,
    /// The most requests its run makes.
    pub cap: u64,
    /// `run --plot`.
    pub plot: bool,
    /// `--out` is a path through a regular file, so nothing can be written.
    pub blocked_out: bool,
}

/// Every hundredth case is a control.
pub const CONTROL_EVERY: u64 = 100;

impl Case {
    /// Case `index` of `seed`: the same arguments give the same case.
    pub fn generate(corpus: &Corpus, seed: u64, index: u64, max_requests: u64) -> Case {
        let mut g = Gen::new(mix(seed ^ mix(index)));
        let cap = g.log_uniform(1_000, max_requests.max(1_000));
        let plot = g.chance(0.02);
        let blocked_out = g.chance(0.02);
        if index.is_multiple_of(CONTROL_EVERY) {
            let scenario = (index / CONTROL_EVERY) as usize % corpus.scenarios.len();
            return Case {
                index,
                input: Input::Control { scenario },
                cap,
                plot: false,
                blocked_out: false,
            };
        }
        let n = 1 + g.weighted(&[50, 30, 12, 8]);
        let input = if g.chance(0.72) {
            let weights: Vec<u32> = corpus.scenarios.iter().map(|s| s.weight).collect();
            let scenario = g.weighted(&weights);
            let gentle = g.chance(0.4);
            let muts = scenario::generate(&mut g, &corpus.scenarios[scenario].tree, n, gentle);
            Input::Scenario { scenario, muts }
        } else {
            let (base, muts) = trace::generate(&mut g, n);
            Input::Trace { base, muts }
        };
        Case {
            index,
            input,
            cap,
            plot,
            blocked_out,
        }
    }

    /// How many mutations it has.
    pub fn mutations(&self) -> usize {
        match &self.input {
            Input::Control { .. } => 0,
            Input::Scenario { muts, .. } => muts.len(),
            Input::Trace { muts, .. } => muts.len(),
        }
    }

    /// The same case with only the mutations `keep` selects.
    pub fn subset(&self, keep: &[usize]) -> Case {
        let mut c = self.clone();
        match &mut c.input {
            Input::Control { .. } => {}
            Input::Scenario { muts, .. } => {
                *muts = keep.iter().map(|&i| muts[i].clone()).collect();
            }
            Input::Trace { muts, .. } => {
                *muts = keep.iter().map(|&i| muts[i].clone()).collect();
            }
        }
        c
    }

    /// One line per mutation, after what it starts from.
    pub fn describe(&self, corpus: &Corpus) -> String {
        let mut s = String::new();
        match &self.input {
            Input::Control { scenario } => {
                let _ = writeln!(
                    s,
                    "control: {} as shipped",
                    corpus.scenarios[*scenario].name
                );
            }
            Input::Scenario { scenario, muts } if muts.is_empty() => {
                let _ = writeln!(
                    s,
                    "scenario {} as shipped (no mutation)",
                    corpus.scenarios[*scenario].name
                );
            }
            Input::Scenario { scenario, muts } => {
                let _ = writeln!(s, "scenario {}, mutated:", corpus.scenarios[*scenario].name);
                for m in muts {
                    let _ = writeln!(s, "  {m}");
                }
            }
            Input::Trace { base, muts } => {
                let _ = writeln!(
                    s,
                    "trace: {} valid {} records, policies {}, sizes {:?} {}; {}",
                    base.records,
                    base.format.name(),
                    base.policies.join(","),
                    base.sizes,
                    if base.bytes { "bytes" } else { "entries" },
                    if muts.is_empty() {
                        "no mutation"
                    } else {
                        "mutated:"
                    }
                );
                for m in muts {
                    let _ = writeln!(s, "  {m}");
                }
            }
        }
        let _ = write!(
            s,
            "run cap {} requests{}{}",
            self.cap,
            if self.plot { ", --plot" } else { "" },
            if self.blocked_out {
                ", --out cannot be written"
            } else {
                ""
            }
        );
        s
    }

    /// Its mutations' targets, for the report's tally.
    pub fn targets(&self) -> Vec<String> {
        match &self.input {
            Input::Control { .. } => vec!["control".into()],
            Input::Scenario { muts, .. } => muts.iter().map(|m| m.target()).collect(),
            Input::Trace { muts, .. } => {
                let mut t: Vec<String> = muts.iter().map(|m| m.target()).collect();
                if t.is_empty() {
                    t.push("trace (valid)".into());
                }
                t
            }
        }
    }
}

/// Which command of a case.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// `tiersim validate`.
    Validate,
    /// `tiersim run`.
    Run,
    /// `tiersim replay`.
    Replay,
}

impl Stage {
    /// The subcommand.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Validate => "validate",
            Stage::Run => "run",
            Stage::Replay => "replay",
        }
    }
}

/// A command of a case and what it may do.
#[derive(Clone, Debug)]
pub struct Command {
    /// Which.
    pub stage: Stage,
    /// Its arguments.
    pub args: Vec<String>,
    /// The exit codes that pass.
    pub allowed: Vec<i32>,
    /// Output files it must leave in `out/` when it exits 0.
    pub outputs: Vec<&'static str>,
    /// An exit 0 fails: its `--out` cannot be written.
    pub must_not_succeed: bool,
}

/// The files of a case, written into its folder, and its commands in order (each runs
/// only if the one before exited 0).
pub fn materialize(
    case: &Case,
    corpus: &Corpus,
    cfg: &Config,
    dir: &Path,
) -> io::Result<Vec<Command>> {
    let out_arg = if case.blocked_out {
        fs::write(
            dir.join("blocker"),
            b"a file, so blocker/out cannot be a folder\n",
        )?;
        "blocker/out"
    } else {
        "out"
    };
    let strict = matches!(case.input, Input::Control { .. });
    let allowed = |strict: bool| -> Vec<i32> {
        if strict {
            vec![0]
        } else if case.blocked_out {
            vec![1, 2]
        } else {
            vec![0, 2]
        }
    };
    match &case.input {
        Input::Control { scenario } | Input::Scenario { scenario, .. } => {
            let muts: &[scenario::Mutation] = match &case.input {
                Input::Scenario { muts, .. } => muts,
                _ => &[],
            };
            let r = scenario::render(&corpus.scenarios[*scenario].tree, muts);
            fs::write(dir.join(&r.file), &r.bytes)?;
            for (name, bytes) in &r.extra {
                fs::write(dir.join(name), bytes)?;
            }
            let sets: Vec<String> = r
                .overrides
                .iter()
                .flat_map(|(k, v)| ["--set".to_owned(), format!("{k}={v}")])
                .collect();
            let mut validate = vec!["validate".to_owned(), r.file.clone()];
            validate.extend(sets.iter().cloned());
            let mut run = vec!["run".to_owned(), r.file.clone()];
            run.extend(sets);
            if let Some(m) = cfg.max_memory {
                validate.push(format!("--max-memory={m}"));
                run.push(format!("--max-memory={m}"));
            }
            for (k, v) in capped(&r, case.cap) {
                run.push("--set".into());
                run.push(format!("{k}={v}"));
            }
            run.extend(["--out".into(), out_arg.into(), "--quiet".into()]);
            if case.plot {
                run.push("--plot".into());
            }
            run.extend(cfg.run_args.iter().cloned());
            Ok(vec![
                Command {
                    stage: Stage::Validate,
                    args: validate,
                    allowed: if strict { vec![0] } else { vec![0, 2] },
                    outputs: vec![],
                    must_not_succeed: false,
                },
                Command {
                    stage: Stage::Run,
                    args: run,
                    allowed: allowed(strict),
                    outputs: vec![
                        "summary.json",
                        "layers.csv",
                        "timeseries.csv",
                        "latency.csv",
                    ],
                    must_not_succeed: case.blocked_out,
                },
            ])
        }
        Input::Trace { base, muts } => {
            let r = trace::render(base, muts);
            fs::write(dir.join(&r.file), &r.bytes)?;
            let mut args = vec!["replay".to_owned(), r.file.clone()];
            args.extend(r.args);
            args.extend([
                "--out".into(),
                out_arg.into(),
                "--jobs=1".into(),
                "--quiet".into(),
            ]);
            Ok(vec![Command {
                stage: Stage::Replay,
                args,
                allowed: allowed(false),
                outputs: vec!["replay.csv"],
                must_not_succeed: case.blocked_out,
            }])
        }
    }
}

/// The `--set`s that cap a run at `cap` requests.
///
/// A run stops at `requests` or `duration_s`, whichever comes first, so a cap on
/// requests bounds it whatever the mutation did to either. A scenario's own `requests`
/// stands when it is an integer no larger than the cap (a mutation to 0 or 1 runs as
/// written); anything larger, missing or unknowable (a damaged text, a `--set` that is
/// not an integer) is replaced by the cap. `warmup_requests` must stay below
/// `requests`, so one at or above the run's count becomes a tenth of it. Values above
/// the cap are still exercised: `validate` checks the file as written.
pub fn capped(r: &scenario::Rendered, cap: u64) -> Vec<(String, String)> {
    // Some(Some(n)): known integer; Some(None): absent; None: unknowable.
    let known = |key: &str| -> Option<Option<i64>> {
        if let Some((_, v)) = r.overrides.iter().rev().find(|(k, _)| k.trim() == key) {
            return v.trim().parse::<i64>().ok().map(Some);
        }
        if r.text_damaged {
            return None;
        }
        match r.tree.get(key) {
            None => Some(None),
            Some(toml::Value::Integer(n)) => Some(Some(*n)),
            Some(_) => None,
        }
    };
    let mut out = Vec::new();
    let requests = match known("requests") {
        Some(Some(n)) if n >= 0 && n as u64 <= cap => n as u64,
        _ => {
            out.push(("requests".to_owned(), cap.to_string()));
            cap
        }
    };
    let warmup_fits = match known("warmup_requests") {
        Some(Some(w)) => w >= 0 && (w as u64) < requests,
        Some(None) => true,
        None => false,
    };
    if !warmup_fits && requests > 0 {
        out.push(("warmup_requests".to_owned(), (requests / 10).to_string()));
    }
    out
}

/// A failed case: the command that failed and how.
#[derive(Clone, Debug)]
pub struct Failure {
    /// The command.
    pub stage: Stage,
    /// Its class: what failing cases share (a panic's location, a signal, a code).
    pub class: String,
    /// How it ended.
    pub status: Status,
    /// The first line of its stderr.
    pub first_line: String,
}

/// What became of a case.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The case number.
    pub index: u64,
    /// How each command that ran ended.
    pub statuses: Vec<(Stage, Status, Duration)>,
    /// The failure, if it failed.
    pub failure: Option<Failure>,
}

/// The first non-empty line of `text`.
pub fn first_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .chars()
        .take(300)
        .collect()
}

/// The panic's line of `stderr` and the message after it.
fn panic_lines(stderr: &str) -> Option<String> {
    let mut lines = stderr.lines().skip_while(|l| !l.contains("panicked at "));
    let at = lines.next()?.trim();
    Some(match lines.next() {
        Some(message) => format!("{at} {}", message.trim()),
        None => at.to_owned(),
    })
}

/// `file:line:col` of the first panic in `stderr`.
fn panic_location(stderr: &str) -> Option<String> {
    let at = stderr.find("panicked at ")? + "panicked at ".len();
    let rest = &stderr[at..];
    let end = rest.find(['\n', ' ']).unwrap_or(rest.len());
    Some(rest[..end].trim_end_matches(':').to_owned())
}

/// A message with its numbers and quoted values blanked, so that one kind of message
/// makes one class.
fn message_class(line: &str) -> String {
    let mut out = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '`' => {
                quoted = !quoted;
                if quoted {
                    out.push_str("`…`");
                }
            }
            _ if quoted => {}
            '0'..='9' => {
                if !out.ends_with('#') {
                    out.push('#');
                }
            }
            _ => out.push(c),
        }
    }
    out.chars().take(100).collect()
}

/// Judges one finished command.
pub fn judge(cmd: &Command, fin: &Finished, dir: &Path, out_dir: &str) -> Option<Failure> {
    let stage = cmd.stage;
    let first = panic_lines(&fin.stderr).unwrap_or_else(|| first_line(&fin.stderr));
    let fail = |class: String| {
        Some(Failure {
            stage,
            class: format!("{class} [{}]", stage.name()),
            status: fin.status,
            first_line: first.clone(),
        })
    };
    if let Some(loc) = panic_location(&fin.stderr) {
        return fail(format!("panic at {loc}"));
    }
    match fin.status {
        Status::TimedOut => return fail("timeout".into()),
        Status::Signaled(sig) => {
            let what = if fin.stderr.contains("memory allocation of") {
                "memory limit: an allocation failed".to_owned()
            } else if fin.stderr.contains("has overflowed its stack") {
                "stack overflow".to_owned()
            } else if sig == 25 {
                "file size limit: SIGXFSZ".to_owned()
            } else {
                format!("killed by {}", child::signal_name(sig))
            };
            return fail(what);
        }
        Status::Exited(code) => {
            if code == 101 {
                return fail("exit 101 (a panic without its message)".into());
            }
            if !cmd.allowed.contains(&code) {
                if code == 0 && cmd.must_not_succeed {
                    return fail("exit 0 though --out cannot be written".into());
                }
                return fail(format!("exit {code}: {}", message_class(&first)));
            }
            if code == 2 && !fin.stderr.contains("error") {
                return fail("exit 2 without an error message".into());
            }
            if code == 0 {
                for f in &cmd.outputs {
                    let p = dir.join(out_dir).join(f);
                    // JSON that parses; CSV with at least its header line.
                    let ok = match fs::read(&p) {
                        Ok(bytes) if f.ends_with(".json") => {
                            serde_json::from_slice::<serde_json::Value>(&bytes).is_ok()
                        }
                        Ok(bytes) => bytes.contains(&b'\n'),
                        Err(_) => false,
                    };
                    if !ok {
                        return fail(format!("exit 0 but {f} is missing, empty or unreadable"));
                    }
                }
            }
        }
    }
    None
}

/// Runs one case in `dir` (emptied first).
pub fn execute(case: &Case, corpus: &Corpus, cfg: &Config, dir: &Path) -> io::Result<Outcome> {
    if dir.exists() {
        fs::remove_dir_all(dir)?;
    }
    fs::create_dir_all(dir)?;
    let commands = materialize(case, corpus, cfg, dir)?;
    let mut statuses = Vec::new();
    let mut failure = None;
    for (i, cmd) in commands.iter().enumerate() {
        let fin = child::run(
            &cfg.bin,
            &cmd.args,
            dir,
            &dir.join(format!("stderr.{i}.{}.txt", cmd.stage.name())),
            cfg.limits,
        )?;
        statuses.push((cmd.stage, fin.status, fin.elapsed));
        failure = judge(cmd, &fin, dir, "out");
        if failure.is_some() || fin.status != Status::Exited(0) {
            break;
        }
    }
    Ok(Outcome {
        index: case.index,
        statuses,
        failure,
    })
}

/// An argument as a POSIX shell reads it back.
pub fn shell_quote(arg: &str) -> String {
    if !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_./=:,-+@%".contains(c))
    {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// Saves a failing case's inputs (not its outputs) into `dest` with `commands.sh`,
/// which replays its commands there, and `case.txt`, which says what it is.
pub fn save(
    case: &Case,
    corpus: &Corpus,
    cfg: &Config,
    outcome: &Outcome,
    dest: &Path,
) -> io::Result<()> {
    if dest.exists() {
        fs::remove_dir_all(dest)?;
    }
    fs::create_dir_all(dest)?;
    let commands = materialize(case, corpus, cfg, dest)?;
    let bin = fs::canonicalize(&cfg.bin).unwrap_or_else(|_| cfg.bin.clone());
    let mut sh = format!(
        "#!/bin/sh\n# fuzz case {} of seed {}: its commands, run in this folder.\n\
         # Replay with the harness: cargo bench --bench fuzz -- --seed {} --case {}\n\
         cd \"$(dirname \"$0\")\" || exit 1\nTIERSIM=${{TIERSIM:-{}}}\n",
        case.index,
        cfg.seed,
        cfg.seed,
        case.index,
        shell_quote(&bin.to_string_lossy())
    );
    for (i, c) in commands.iter().enumerate() {
        let args: Vec<String> = c.args.iter().map(|a| shell_quote(a)).collect();
        let sep = if i + 1 < commands.len() { " &&" } else { "" };
        let _ = writeln!(sh, "\"$TIERSIM\" {}{sep}", args.join(" "));
    }
    fs::write(dest.join("commands.sh"), sh)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dest.join("commands.sh"), fs::Permissions::from_mode(0o755))?;
    }
    let mut txt = format!(
        "seed {}, case {}\n{}\n",
        cfg.seed,
        case.index,
        case.describe(corpus)
    );
    for (stage, status, elapsed) in &outcome.statuses {
        let _ = writeln!(
            txt,
            "{}: {status:?} after {:.2} s",
            stage.name(),
            elapsed.as_secs_f64()
        );
    }
    if let Some(f) = &outcome.failure {
        let _ = writeln!(
            txt,
            "failure: {}\nfirst line of stderr: {}",
            f.class, f.first_line
        );
    }
    fs::write(dest.join("case.txt"), txt)
}

/// The failing cases of one class.
#[derive(Clone, Debug)]
pub struct Class {
    /// What they share.
    pub class: String,
    /// Their numbers, in order.
    pub cases: Vec<u64>,
    /// The first case's failure.
    pub first: Failure,
    /// How often each mutation target appears among them.
    pub targets: BTreeMap<String, usize>,
    /// Minimal reproducers, and how each failed.
    pub minimal: Vec<(Case, Failure)>,
}

/// What a harness run found.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    /// Cases run.
    pub cases: u64,
    /// Failure classes, by their first case.
    pub classes: Vec<Class>,
    /// Per command and status: how often it came up, the total time, the first case.
    pub statuses: BTreeMap<(Stage, String), (u64, Duration, u64)>,
    /// Wall-clock time of the whole run.
    pub elapsed: Duration,
    /// The slowest command: (case, stage, time).
    pub slowest: Option<(u64, Stage, Duration)>,
}

impl Summary {
    /// Failing cases.
    pub fn failed(&self) -> usize {
        self.classes.iter().map(|c| c.cases.len()).sum()
    }
}

fn status_name(s: Status) -> String {
    match s {
        Status::Exited(c) => format!("exit {c}"),
        Status::Signaled(sig) => child::signal_name(sig),
        Status::TimedOut => "timeout".into(),
    }
}

/// Removes the scratch folder when a run ends, by error or not.
struct Scratch<'a>(&'a Path);

impl Drop for Scratch<'_> {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(self.0);
    }
}

/// A worker's scratch folder.
fn work_dir(cfg: &Config, worker: usize) -> PathBuf {
    cfg.work.join(format!("w{worker}"))
}

/// Where the `m`-th minimal reproducer of class `k` (from 0) is kept.
pub fn minimal_dir(cfg: &Config, k: usize, m: usize) -> PathBuf {
    cfg.out
        .join("failures")
        .join(format!("class-{:02}-minimal-{m}", k + 1))
}

/// Where a failing case is kept.
pub fn case_dir(cfg: &Config, index: u64) -> PathBuf {
    cfg.out.join("failures").join(format!("case-{index:08}"))
}

/// Runs cases `cfg.first..cfg.first + cfg.cases` on `cfg.jobs` threads, saves the
/// failing ones, minimizes each class's first case, and returns what it found.
pub fn run(cfg: &Config, corpus: &Corpus) -> io::Result<Summary> {
    let start = Instant::now();
    let failures = cfg.out.join("failures");
    if failures.exists() {
        fs::remove_dir_all(&failures)?;
    }
    fs::create_dir_all(&failures)?;
    fs::create_dir_all(&cfg.work)?;
    let _scratch = Scratch(&cfg.work);
    let next = AtomicU64::new(cfg.first);
    let end = cfg.first + cfg.cases;
    let (tx, rx) = mpsc::channel::<io::Result<Outcome>>();
    let mut outcomes: Vec<Outcome> = Vec::with_capacity(cfg.cases as usize);
    std::thread::scope(|s| -> io::Result<()> {
        for w in 0..cfg.jobs.max(1) {
            let tx = tx.clone();
            let next = &next;
            s.spawn(move || {
                let dir = work_dir(cfg, w);
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= end {
                        break;
                    }
                    let case = Case::generate(corpus, cfg.seed, i, cfg.max_requests);
                    let result = execute(&case, corpus, cfg, &dir).and_then(|o| {
                        if o.failure.is_some() {
                            save(&case, corpus, cfg, &o, &case_dir(cfg, i))?;
                        }
                        Ok(o)
                    });
                    let failed = result.is_err();
                    if tx.send(result).is_err() || failed {
                        break;
                    }
                }
                let _ = fs::remove_dir_all(&dir);
            });
        }
        drop(tx);
        let mut last = Instant::now();
        let mut failing = 0;
        for r in rx {
            let o = r?;
            failing += usize::from(o.failure.is_some());
            outcomes.push(o);
            if cfg.progress && last.elapsed() >= Duration::from_secs(10) {
                last = Instant::now();
                eprintln!(
                    "[fuzz] {}/{} cases, {failing} failing, {:.0} s",
                    outcomes.len(),
                    cfg.cases,
                    start.elapsed().as_secs_f64()
                );
            }
        }
        Ok(())
    })?;
    if outcomes.len() as u64 != cfg.cases {
        return Err(io::Error::other("a worker stopped early"));
    }
    outcomes.sort_by_key(|o| o.index);
    let mut summary = Summary {
        cases: cfg.cases,
        ..Summary::default()
    };
    let mut by_class: BTreeMap<String, usize> = BTreeMap::new();
    for o in &outcomes {
        for &(stage, status, t) in &o.statuses {
            let e = summary
                .statuses
                .entry((stage, status_name(status)))
                .or_insert((0, Duration::ZERO, o.index));
            e.0 += 1;
            e.1 += t;
            if summary.slowest.is_none_or(|(_, _, s)| t > s) {
                summary.slowest = Some((o.index, stage, t));
            }
        }
        let Some(f) = &o.failure else { continue };
        let case = Case::generate(corpus, cfg.seed, o.index, cfg.max_requests);
        let k = *by_class.entry(f.class.clone()).or_insert_with(|| {
            summary.classes.push(Class {
                class: f.class.clone(),
                cases: Vec::new(),
                first: f.clone(),
                targets: BTreeMap::new(),
                minimal: Vec::new(),
            });
            summary.classes.len() - 1
        });
        let class = &mut summary.classes[k];
        class.cases.push(o.index);
        for t in case.targets() {
            *class.targets.entry(t).or_default() += 1;
        }
        if class.cases.len() > cfg.keep {
            let _ = fs::remove_dir_all(case_dir(cfg, o.index));
        }
    }
    let dir = cfg.work.join("minimize");
    for (k, class) in summary.classes.iter_mut().enumerate() {
        for &i in &class.cases {
            if class.minimal.len() >= cfg.minimize {
                break;
            }
            let case = Case::generate(corpus, cfg.seed, i, cfg.max_requests);
            let targets = case.targets();
            let explained = class
                .minimal
                .iter()
                .any(|(small, _)| small.targets().iter().all(|t| targets.contains(t)));
            if explained {
                continue;
            }
            let (small, failure) = minimize(&case, &class.first, corpus, cfg, &dir)?;
            let o = Outcome {
                index: small.index,
                statuses: Vec::new(),
                failure: Some(failure.clone()),
            };
            let m = class.minimal.len() + 1;
            save(&small, corpus, cfg, &o, &minimal_dir(cfg, k, m))?;
            class.minimal.push((small, failure));
        }
    }
    summary.elapsed = start.elapsed();
    fs::write(cfg.out.join("report.txt"), report(&summary, corpus, cfg))?;
    Ok(summary)
}

/// The fewest of `case`'s mutations that still fail with `class`: none if the base
/// alone does, else a single mutation if one does, else the list with every mutation
/// dropped whose removal keeps the failure (at most twice the list's length in reruns).
pub fn minimize(
    case: &Case,
    first: &Failure,
    corpus: &Corpus,
    cfg: &Config,
    dir: &Path,
) -> io::Result<(Case, Failure)> {
    let fails = |c: &Case| -> io::Result<Option<Failure>> {
        let o = execute(c, corpus, cfg, dir)?;
        Ok(o.failure.filter(|f| f.class == first.class))
    };
    let n = case.mutations();
    let mut keep: Vec<usize> = (0..n).collect();
    if n > 0 && fails(&case.subset(&[]))?.is_some() {
        // It fails unmutated: the base alone (a trace's valid records, a scenario as
        // shipped) is the reproducer.
        keep.clear();
    }
    if keep.len() > 1 {
        for i in 0..n {
            if fails(&case.subset(&[i]))?.is_some() {
                keep = vec![i];
                break;
            }
        }
        if keep.len() > 1 {
            let mut j = keep.len();
            while j > 0 {
                j -= 1;
                let mut fewer = keep.clone();
                fewer.remove(j);
                if fails(&case.subset(&fewer))?.is_some() {
                    keep = fewer;
                }
            }
        }
    }
    let small = case.subset(&keep);
    // The last run decides what is reported: a failure that does not recur (a timeout
    // near the limit on a busy machine) is reported as the whole case, and says so.
    match fails(&small)? {
        Some(f) => Ok((small, f)),
        None => Ok((
            case.clone(),
            Failure {
                first_line: "(did not recur when rerun)".into(),
                ..first.clone()
            },
        )),
    }
}

/// The run's report: outcomes per command, then each failure class with its cases, the
/// targets its mutations hit, its minimal reproducer and how to replay it.
pub fn report(s: &Summary, corpus: &Corpus, cfg: &Config) -> String {
    let mut r = String::new();
    let _ = writeln!(
        r,
        "{} cases (seed {}, cases {}..{}) in {:.0} s: {} failed in {} classes",
        s.cases,
        cfg.seed,
        cfg.first,
        cfg.first + cfg.cases,
        s.elapsed.as_secs_f64(),
        s.failed(),
        s.classes.len()
    );
    for ((stage, status), (n, t, first)) in &s.statuses {
        let _ = writeln!(
            r,
            "  {:<8} {:<8} {:>8} commands, {:>7.1} s (first: case {first})",
            stage.name(),
            status,
            n,
            t.as_secs_f64()
        );
    }
    if let Some((case, stage, t)) = s.slowest {
        let _ = writeln!(
            r,
            "  slowest: case {case} {} {:.2} s",
            stage.name(),
            t.as_secs_f64()
        );
    }
    for (k, c) in s.classes.iter().enumerate() {
        let shown: Vec<String> = c.cases.iter().take(10).map(u64::to_string).collect();
        let _ = writeln!(
            r,
            "\nclass {}: {}\n  {} cases: {}{}",
            k + 1,
            c.class,
            c.cases.len(),
            shown.join(", "),
            if c.cases.len() > 10 { ", ..." } else { "" }
        );
        let mut targets: Vec<(&String, &usize)> = c.targets.iter().collect();
        targets.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        let t: Vec<String> = targets
            .iter()
            .take(8)
            .map(|(t, n)| format!("{t} ({n})"))
            .collect();
        let _ = writeln!(r, "  mutation targets: {}", t.join(", "));
        let _ = writeln!(
            r,
            "  first case {}: {} after {}; stderr: {}",
            c.cases[0],
            c.first.stage.name(),
            status_name(c.first.status),
            c.first.first_line
        );
        for (m, (small, f)) in c.minimal.iter().enumerate() {
            let _ = writeln!(
                r,
                "  minimal reproducer {} (case {}, {} of {} mutations): {} -> {}; stderr: {}",
                m + 1,
                small.index,
                small.mutations(),
                Case::generate(corpus, cfg.seed, small.index, cfg.max_requests).mutations(),
                f.stage.name(),
                status_name(f.status),
                f.first_line
            );
            for line in small.describe(corpus).lines() {
                let _ = writeln!(r, "    {line}");
            }
            let _ = writeln!(
                r,
                "    saved: {}/commands.sh",
                minimal_dir(cfg, k, m + 1).display()
            );
        }
        let _ = writeln!(
            r,
            "  replay: cargo bench --bench fuzz -- --seed {} --case {}   (input in {})",
            cfg.seed,
            c.cases[0],
            case_dir(cfg, c.cases[0]).display()
        );
    }
    r
}
