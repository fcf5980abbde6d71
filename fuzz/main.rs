//! `cargo bench --bench fuzz -- [FLAGS]`: tiersim's fuzz harness (see `harness.rs`).
//!
//! Generated scenario files and traces go through the real `tiersim` binary (the one
//! cargo built for this target), in parallel child processes under a wall-clock
//! timeout, an address-space limit and a file-size limit. Exit status: 0 when every
//! case passed, 1 when some failed (the report says how, and where their inputs are),
//! 2 for bad flags.
//!
//! A harness-less bench target rather than an example or a binary: cargo builds the
//! `tiersim` binary before a bench target and hands it its path, so the harness always
//! tests the current build; it stays out of `cargo install`, out of `examples/` (which
//! teach the library) and out of a plain `cargo bench` (`bench = false`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

#[path = "harness.rs"]
mod harness;

use harness::child::{LIMITS_ENFORCED, Limits};
use harness::{Case, Config, Corpus};

/// tiersim's fuzz harness: mutated scenarios and traces through the real binary.
#[derive(Parser)]
#[command(name = "fuzz")]
struct Flags {
    /// Cases to run.
    #[arg(long, default_value_t = 1000)]
    cases: u64,
    /// Seed of every case: case N of seed S is always the same input.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The first case number (to split a long run over machines).
    #[arg(long, default_value_t = 0)]
    first: u64,
    /// Run only case N, show its input and save it whatever its outcome.
    #[arg(long, value_name = "N")]
    case: Option<u64>,
    /// Cases run at once [default: all cores].
    #[arg(long)]
    jobs: Option<usize>,
    /// Wall-clock limit of each command, seconds.
    #[arg(long, default_value_t = 10.0)]
    timeout_s: f64,
    /// Address-space limit of each command (RLIMIT_AS), MB.
    #[arg(long, default_value_t = 2048)]
    memory_mb: u64,
    /// `--max-memory` of every `validate` and `run`, MB [default: half of --memory-mb,
    /// so tiersim's estimate refuses a case too big for the limit before the limit
    /// aborts it; 0: none, tiersim reads the machine's available memory].
    #[arg(long)]
    max_memory_mb: Option<u64>,
    /// Largest file a command may write (RLIMIT_FSIZE), MB.
    #[arg(long, default_value_t = 256)]
    file_mb: u64,
    /// Where failing inputs are kept and report.txt is written.
    #[arg(long, default_value = "target/fuzz")]
    out: PathBuf,
    /// Where the cases' scratch folder is made (and removed at the end) [default:
    /// /dev/shm when the machine has that RAM disk (tiersim syncs every output file,
    /// which on a disk takes most of a short case's time), else OUT].
    #[arg(long)]
    work: Option<PathBuf>,
    /// The most requests a `run` makes; each case draws its cap from 1,000 up to this.
    #[arg(long, default_value_t = 20_000)]
    requests: u64,
    /// Failing cases kept per class.
    #[arg(long, default_value_t = 3)]
    keep: usize,
    /// Cases per failure class shrunk to their fewest mutations: the first, then
    /// others whose mutations do not contain a reproducer already found.
    #[arg(long, default_value_t = 4)]
    minimize: usize,
    /// The binary under test [default: the tiersim cargo built].
    #[arg(long)]
    bin: Option<PathBuf>,
    /// The scenario files to mutate [default: the repository's scenarios/].
    #[arg(long)]
    scenarios: Option<PathBuf>,
    /// An extra argument for every `tiersim run` (repeatable).
    #[arg(long, value_name = "ARG", allow_hyphen_values = true)]
    run_arg: Vec<String>,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

fn main() -> ExitCode {
    let flags = match Flags::try_parse() {
        Ok(f) => f,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    if !(flags.timeout_s.is_finite() && flags.timeout_s > 0.0) {
        eprintln!("error: --timeout-s must be a positive number of seconds");
        return ExitCode::from(2);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let corpus = match Corpus::load(&flags.scenarios.clone().unwrap_or(root.join("scenarios"))) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let (first, cases) = match flags.case {
        Some(n) => (n, 1),
        None => (flags.first, flags.cases),
    };
    let cfg = Config {
        bin: flags
            .bin
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_tiersim"))),
        first,
        cases,
        seed: flags.seed,
        jobs: flags
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
            .max(1),
        limits: Limits {
            timeout: Duration::from_secs_f64(flags.timeout_s),
            memory: flags.memory_mb << 20,
            file_size: flags.file_mb << 20,
        },
        work: flags
            .work
            .unwrap_or_else(|| {
                let shm = PathBuf::from("/dev/shm");
                if shm.is_dir() { shm } else { flags.out.clone() }
            })
            .join(format!("tiersim-fuzz-{}", std::process::id())),
        out: flags.out,
        max_requests: flags.requests,
        minimize: if flags.case.is_some() {
            0
        } else {
            flags.minimize
        },
        keep: if flags.case.is_some() { 1 } else { flags.keep },
        run_args: flags.run_arg,
        max_memory: match flags.max_memory_mb.unwrap_or(flags.memory_mb / 2) {
            0 => None,
            mb => Some(mb << 20),
        },
        progress: true,
    };
    println!(
        "fuzz: {} cases from {} of seed {}, {} jobs, {} s timeout, {} MB address space{}, \
         --max-memory {}, runs of at most {} requests, binary {}",
        cfg.cases,
        cfg.first,
        cfg.seed,
        cfg.jobs,
        flags.timeout_s,
        flags.memory_mb,
        if LIMITS_ENFORCED {
            " (setrlimit RLIMIT_AS in the child)"
        } else {
            " (not enforced on this platform)"
        },
        cfg.max_memory
            .map_or("unset".to_owned(), |m| format!("{} MB", m >> 20)),
        cfg.max_requests,
        cfg.bin.display()
    );
    if let Some(n) = flags.case {
        let case = Case::generate(&corpus, cfg.seed, n, cfg.max_requests);
        println!("case {n}: {}", case.describe(&corpus));
    }
    let summary = match harness::run(&cfg, &corpus) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: the harness failed: {e}");
            return ExitCode::from(1);
        }
    };
    if let Some(n) = flags.case {
        let dir = harness::case_dir(&cfg, n);
        if !dir.exists() {
            let case = Case::generate(&corpus, cfg.seed, n, cfg.max_requests);
            let o = harness::Outcome {
                index: n,
                statuses: Vec::new(),
                failure: None,
            };
            if let Err(e) = harness::save(&case, &corpus, &cfg, &o, &dir) {
                eprintln!("error: cannot save the case: {e}");
            }
        }
        println!("its input and commands.sh: {}", dir.display());
    }
    print!("{}", harness::report(&summary, &corpus, &cfg));
    if summary.classes.is_empty() {
        ExitCode::SUCCESS
    } else {
        println!(
            "\nFAILED: {} of {} cases ({} classes); report in {}",
            summary.failed(),
            summary.cases,
            summary.classes.len(),
            cfg.out.join("report.txt").display()
        );
        ExitCode::from(1)
    }
}
