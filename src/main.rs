//! The `tiersim` command line: parses arguments, calls the library, prints errors once.
//!
//! Exit codes: 0 success, 1 a run failed (cannot write output), 2 bad input.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tiersim::engine::Engine;
use tiersim::scenario::{Override, Plan, Scenario, Source};

#[derive(Parser)]
#[command(
    name = "tiersim",
    version,
    about = "Discrete-event simulator of cache hierarchies"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run one scenario and print a summary; without SCENARIO, the built-in quickstart.
    Run {
        /// A scenario file (.toml or .json).
        scenario: Option<PathBuf>,
        /// Output folder [default: results/<scenario name>]
        #[arg(long)]
        out: Option<PathBuf>,
        /// Override the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Override a scenario key, e.g. layers.redis.ttl_s=60 (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
        /// No progress bar.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Replay a trace through one cache per (policy, size) and report miss ratios.
    Replay(ReplayArgs),
    /// Check a scenario file and say what is wrong, or that it is fine.
    Validate {
        /// A scenario file (.toml or .json).
        scenario: PathBuf,
        /// Check with these overrides applied (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        set: Vec<String>,
    },
}

#[derive(clap::Args)]
struct ReplayArgs {
    /// The trace file; .gz and .zst are decompressed on the fly.
    trace: PathBuf,
    /// Trace format: csv, oracle_general, arc_lis, lirs, twitter, webcachesim.
    #[arg(long)]
    format: String,
    /// Policies to compare, comma-separated (e.g. lru,arc,s3fifo).
    #[arg(long, value_delimiter = ',', required = true)]
    policy: Vec<String>,
    /// Cache sizes, comma-separated, in --size-unit.
    #[arg(long, value_delimiter = ',', required = true)]
    size: Vec<u64>,
    /// What a size counts: entries or bytes.
    #[arg(long, default_value = "entries")]
    size_unit: String,
    /// Output folder for replay.csv [default: results/replay-<trace file name>]
    #[arg(long)]
    out: Option<PathBuf>,
    /// Worker threads for the policy x size grid [default: all cores]
    #[arg(long)]
    jobs: Option<usize>,
    /// Seed for policies with internal randomness.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// csv: 1-based column of the object id.
    #[arg(long, default_value_t = 1)]
    csv_key: usize,
    /// csv: 1-based column of the timestamp.
    #[arg(long)]
    csv_time: Option<usize>,
    /// csv: 1-based column of the size in bytes.
    #[arg(long)]
    csv_size: Option<usize>,
    /// csv: the first line is a header.
    #[arg(long)]
    csv_header: bool,
    /// csv: field delimiter (one byte).
    #[arg(long, default_value = ",")]
    csv_delimiter: String,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
}

/// An error and the exit code it maps to.
struct Failure {
    code: u8,
    error: anyhow::Error,
}

impl<E: Into<anyhow::Error>> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure {
            code: 1,
            error: e.into(),
        }
    }
}

fn bad_input(e: impl Into<anyhow::Error>) -> Failure {
    Failure {
        code: 2,
        error: e.into(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("error: {:#}", f.error);
            ExitCode::from(f.code)
        }
    }
}

fn dispatch(command: Command) -> Result<(), Failure> {
    match command {
        Command::Run {
            scenario,
            out,
            seed,
            set,
            quiet,
        } => {
            let (_, mut plan) = load(scenario.as_deref(), &set)?;
            if let Some(seed) = seed {
                plan.seed = seed;
            }
            let out = out.unwrap_or_else(|| Path::new("results").join(&plan.name));
            let report = run_with_progress(&plan, quiet);
            report.write(&out)?;
            print!("{}", report.table());
            println!("wrote {}", out.display());
            Ok(())
        }
        Command::Replay(args) => replay(args),
        Command::Validate { scenario, set } => {
            let (s, plan) = load(Some(&scenario), &set)?;
            println!("{}: ok — {}", scenario.display(), describe(&s, &plan));
            Ok(())
        }
    }
}

fn load(path: Option<&Path>, set: &[String]) -> Result<(Scenario, Plan), Failure> {
    let overrides = set
        .iter()
        .map(|s| Override::parse(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(bad_input)?;
    let source = match path {
        Some(p) => Source::read(p).map_err(bad_input)?,
        None => Source::quickstart(),
    };
    source.plan(&overrides).map_err(bad_input)
}

fn describe(s: &Scenario, plan: &Plan) -> String {
    let path: Vec<String> = s
        .layers
        .iter()
        .map(|l| format!("{} ({})", l.name, l.kind.as_str()))
        .collect();
    let stop = match (plan.requests, s.duration_s) {
        (Some(n), Some(d)) => format!("{n} requests or {d} s"),
        (Some(n), None) => format!("{n} requests"),
        (None, Some(d)) => format!("{d} s"),
        (None, None) => unreachable!("resolve requires one"),
    };
    format!(
        "scenario `{}`, {}, path {}",
        plan.name,
        stop,
        path.join(" -> ")
    )
}

fn run_with_progress(plan: &Plan, quiet: bool) -> tiersim::report::Report {
    let bar = match plan.requests {
        Some(n) => ProgressBar::new(n),
        None => ProgressBar::no_length(),
    };
    if quiet {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {bar:40} {human_pos}/{human_len} requests  {per_sec}  eta {eta}",
        )
        .expect("valid template"),
    );
    let report = Engine::new(plan).run(|p| bar.set_position(p.generated));
    bar.finish_and_clear();
    report
}

fn replay(args: ReplayArgs) -> Result<(), Failure> {
    use indicatif::ParallelProgressIterator;
    use rayon::prelude::*;
    use tiersim::policy::PolicySpec;
    use tiersim::replay::SizeUnit;
    use tiersim::trace::{CsvColumns, Format, TraceSource};

    let format: Format = args.format.parse().map_err(bad_input)?;
    let unit: SizeUnit = args
        .size_unit
        .parse()
        .map_err(|e: String| bad_input(anyhow::anyhow!(e)))?;
    let policies = args
        .policy
        .iter()
        .map(|p| p.trim().parse::<PolicySpec>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad_input(anyhow::anyhow!(e)))?;
    if let Some(&bad) = args.size.iter().find(|&&s| s == 0) {
        return Err(bad_input(anyhow::anyhow!(
            "--size {bad}: sizes must be at least 1"
        )));
    }
    let delimiter = match args.csv_delimiter.as_bytes() {
        [b] => *b,
        _ => {
            return Err(bad_input(anyhow::anyhow!(
                "--csv-delimiter must be one byte, got `{}`",
                args.csv_delimiter
            )));
        }
    };
    let source = TraceSource {
        path: args.trace.clone(),
        format,
        csv: CsvColumns {
            time: args.csv_time,
            key: args.csv_key,
            size: args.csv_size,
            header: args.csv_header,
            delimiter,
        },
    };
    // Open once up front so a missing file or bad options fail before any work starts.
    source.open().map_err(bad_input)?;
    let out = args.out.unwrap_or_else(|| {
        let name = args
            .trace
            .file_name()
            .map(|n| n.to_string_lossy().into_owned());
        Path::new("results").join(format!("replay-{}", name.unwrap_or_default()))
    });

    let grid: Vec<(PolicySpec, u64)> = policies
        .iter()
        .flat_map(|p| args.size.iter().map(move |&s| (p.clone(), s)))
        .collect();
    let bar = ProgressBar::new(grid.len() as u64);
    if args.quiet {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template("{spinner} {bar:40} {pos}/{len} replays  {elapsed}")
            .expect("valid template"),
    );
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs.unwrap_or(0))
        .build()?;
    let results = pool.install(|| {
        grid.par_iter()
            .progress_with(bar.clone())
            .map(|(p, s)| tiersim::replay::replay(&source, p, *s, unit, args.seed))
            .collect::<Result<Vec<_>, _>>()
    });
    bar.finish_and_clear();
    // A trace that opened but fails midway is bad input too (a corrupt record).
    let results = results.map_err(bad_input)?;
    tiersim::replay::write_csv(&out, &results)?;
    print!("{}", tiersim::replay::table(&results));
    println!("wrote {}", out.join("replay.csv").display());
    Ok(())
}
