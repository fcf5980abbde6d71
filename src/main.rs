//! The `tiersim` command line: parses arguments, calls the library, prints errors once.
//!
//! Exit codes: 0 success, 1 a run failed (cannot write output), 2 bad input, 130 a run
//! stopped by Ctrl-C (its files hold what it measured).
//!
//! Everything it runs lives in the library; nothing in the library knows the command line.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use tiersim::engine::budget::{self, Estimate, parse_size};
use tiersim::output::plot::{ImageFormat, PlotError, plot_dir};
use tiersim::scenario::{Override, Plan, Scenario, Source};
use tiersim::sweep::shard::Shard;
use tiersim::sweep::{Axis, Sweep, SweepError};

#[global_allocator]
static ALLOC: tiersim::mem::hugepages::HugePages = tiersim::mem::hugepages::HugePages;

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

/// Options that `run` and `sweep` share.
/// The flags of every command that simulates a scenario.
#[derive(Args)]
struct ScenarioOptions {
    /// Override the scenario's seed (a sweep derives each job's seed from it).
    #[arg(long)]
    seed: Option<u64>,
    /// Override a scenario key, e.g. layers.redis.ttl_s=60 (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
    /// Memory the run may take (a sweep: all its parallel jobs), e.g. 4GiB or 500MB
    /// [default: what the system has available]
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    max_memory: Option<u64>,
}

#[derive(Args)]
struct RunOptions {
    #[command(flatten)]
    scenario: ScenarioOptions,
    /// Also draw the charts into the output folder.
    #[arg(long)]
    plot: bool,
    /// Also write a one-file HTML report, report.html, into the output folder.
    #[arg(long)]
    report: bool,
}

impl RunOptions {
    /// Draws the charts of the output in `out` into it, if `--plot` asks for them.
    fn draw_if_asked(&self, out: &Path) -> Result<(), Failure> {
        if self.plot {
            draw(out, out, ImageFormat::Both)?;
        }
        Ok(())
    }

    /// Writes `out/report.html` if `--report` asks for it; `source` is the scenario file.
    fn report_if_asked(&self, out: &Path, source: Option<&Path>) -> Result<(), Failure> {
        if self.report {
            let ctx = tiersim::output::html::Context {
                source: source.map(Path::to_owned),
                command: Some(this_command()),
            };
            write_report(out, &out.join("report.html"), &ctx)?;
        }
        Ok(())
    }
}

/// Where and how much of a sweep runs: one shard of it, or all of it on a cluster.
#[derive(Args)]
struct ClusterOptions {
    /// Run only shard K of N (from 0), e.g. 3/12; `tiersim merge` joins the shards.
    #[arg(long, value_name = "K/N", conflicts_with_all = ["shard_from_env", "backend"])]
    shard: Option<String>,
    /// --shard with K read from the environment variable VAR, e.g.
    /// SLURM_ARRAY_TASK_ID/12, JOB_COMPLETION_INDEX/12, AWS_BATCH_JOB_ARRAY_INDEX/12.
    #[arg(long, value_name = "VAR/N", conflicts_with = "backend")]
    shard_from_env: Option<String>,
    /// Where the jobs run: here, or as a Slurm job array and a merge job.
    #[arg(long, value_enum, default_value_t = Backend::Local)]
    backend: Backend,
    /// slurm: shards (array tasks) [default on --resume: the earlier submission's]
    #[arg(long, value_name = "N")]
    shards: Option<u32>,
    /// slurm: the partition to submit to.
    #[arg(long, value_name = "P")]
    partition: Option<String>,
    /// slurm: each job's time limit, e.g. 30:00 or 1-00:00:00.
    #[arg(long, value_name = "T")]
    time: Option<String>,
    /// slurm: one more sbatch argument for both jobs, e.g. --sbatch-arg=--cpus-per-task=4
    /// (repeatable).
    #[arg(long = "sbatch-arg", value_name = "ARG", allow_hyphen_values = true)]
    sbatch_args: Vec<String>,
}

/// `--backend`.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Backend {
    /// On this machine, on --jobs threads.
    Local,
    /// A Slurm job array of --shards shards, then a merge job.
    Slurm,
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
        /// Add the closed-form models beside the simulated figures: a `theory` block in
        /// summary.json and a table (see `tiersim theory`).
        #[arg(long)]
        theory: bool,
        #[command(flatten)]
        options: RunOptions,
    },
    /// Run a scenario and print each layer's closed-form model beside the simulation,
    /// or the assumption that fails.
    Theory {
        /// A scenario file (.toml or .json).
        scenario: PathBuf,
        /// Also write the run's files, summary.json with its `theory` block, here.
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        options: ScenarioOptions,
    },
    /// Run a scenario over a grid of settings in parallel; write sweep.csv and sweep_summary.csv.
    Sweep {
        /// A scenario file (.toml or .json); its [sweep] table adds axes.
        scenario: PathBuf,
        /// An axis: KEY=V1,V2,... or KEY=A..B step S or KEY=A..B log N (repeatable).
        #[arg(long, value_name = "KEY=VALUES")]
        grid: Vec<String>,
        /// Runs per grid point, each with its own seed [default: the scenario's, else 1]
        #[arg(long)]
        replications: Option<u32>,
        /// Parallel runs [default: all cores]
        #[arg(long)]
        jobs: Option<usize>,
        /// Output folder [default: results/<scenario name>-sweep]
        #[arg(long)]
        out: Option<PathBuf>,
        /// Keep the finished jobs of an interrupted sweep in --out and run only the rest.
        #[arg(long)]
        resume: bool,
        #[command(flatten)]
        cluster: ClusterOptions,
        #[command(flatten)]
        options: RunOptions,
    },
    /// Find the largest value of an axis (the arrival rate by default) that meets every
    /// objective: bisection with replications; writes capacity.csv, capacity.json and
    /// the latency-against-load chart.
    Capacity {
        /// A scenario file (.toml or .json).
        scenario: PathBuf,
        /// An objective (repeatable): p50|p90|p99|p999|mean|max<=N ms|s (read
        /// latency), availability>=X (a share or a percentage), origin.utilization<=X.
        #[arg(long, value_name = "OBJECTIVE", required = true)]
        slo: Vec<String>,
        /// The scenario key to search; the objectives must worsen as it grows.
        #[arg(long, default_value = "workload.rate")]
        axis: String,
        /// Where to search, LO..HI (whole numbers: the search tries whole numbers only)
        /// [default: the scenario's value ×1/4 to ×4]
        #[arg(long, value_name = "LO..HI")]
        range: Option<String>,
        /// Runs per point, each with its own seed (as a sweep derives them).
        #[arg(long, default_value_t = 3)]
        replications: u32,
        /// Runs per point at most: a point whose interval straddles an objective gets
        /// --replications more at a time up to this [default: 4 × --replications, at least 10]
        #[arg(long, value_name = "N")]
        max_replications: Option<u32>,
        /// Stop when the bracket is within this share of the answer (0.02 = 2%).
        #[arg(long, default_value_t = 0.02)]
        tolerance: f64,
        /// Bisection steps at most, after the range's two ends.
        #[arg(long, default_value_t = 20)]
        max_steps: u32,
        /// Parallel runs [default: all cores]
        #[arg(long)]
        jobs: Option<usize>,
        /// Output folder [default: results/<scenario name>-capacity]
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        options: ScenarioOptions,
    },
    /// Join the folders of a sharded sweep into one sweep.csv and sweep_summary.csv.
    Merge {
        /// Shard folders (`sweep --shard K/N --out DIR`), all shards of one sweep.
        #[arg(required = true)]
        dirs: Vec<PathBuf>,
        /// Output folder.
        #[arg(long)]
        out: PathBuf,
    },
    /// Serve the live lab page on 127.0.0.1: sliders for a scenario's keys, each change
    /// rerunning the engine on a short run.
    Lab {
        /// A scenario file (.toml or .json) [default: the built-in quickstart]
        scenario: Option<PathBuf>,
        /// Port to listen on; 0 picks a free one (the URL is printed).
        #[arg(long, default_value_t = 8080)]
        port: u16,
        /// Address to listen on; only this machine can connect unless another is given.
        #[arg(long, default_value = "127.0.0.1")]
        bind: std::net::IpAddr,
        /// Requests per run, at most (a run asking for more is refused).
        #[arg(long, value_name = "N", default_value_t = tiersim::lab::DEFAULT_MAX_REQUESTS)]
        max_requests: u64,
    },
    /// Draw charts from the files that run, sweep or replay wrote.
    Plot {
        /// A folder holding run, sweep or replay output.
        dir: PathBuf,
        /// Where to write the charts [default: DIR]
        #[arg(long)]
        out: Option<PathBuf>,
        /// Image formats.
        #[arg(long, value_enum, default_value_t = ImageFormat::Both)]
        format: ImageFormat,
    },
    /// Write a one-file HTML report (tables, inline charts, warnings, the command) of
    /// the files that run, sweep or replay wrote.
    Report {
        /// A folder holding run, sweep or replay output.
        dir: PathBuf,
        /// The report file [default: DIR/report.html]
        #[arg(long)]
        out: Option<PathBuf>,
        /// The scenario file, to show its header comment.
        #[arg(long)]
        scenario: Option<PathBuf>,
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
        /// Memory a run may take, e.g. 4GiB or 500MB [default: what the system has
        /// available]
        #[arg(long, value_name = "SIZE", value_parser = parse_size)]
        max_memory: Option<u64>,
    },
}

#[derive(clap::Args)]
struct ReplayArgs {
    /// The trace file; .gz and .zst are decompressed on the fly.
    trace: PathBuf,
    /// Trace format: csv, oracle_general, arc_lis, lirs, twitter, webcachesim.
    #[arg(long)]
    format: String,
    /// Policies to compare, comma-separated (e.g. lru,arc,s3fifo); parameters follow a
    /// policy's name as :KEY=VALUE (e.g. slru:protected_ratio=0.5).
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
    /// Skip up to N records that do not parse (real-world logs have a few), reported in
    /// the table and replay.csv; one more is an error.
    #[arg(long, value_name = "N", default_value_t = 0)]
    skip_bad: u64,
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

/// The exit code of a run stopped by Ctrl-C, as a shell reports a SIGINT (128 + 2).
const INTERRUPTED: u8 = 130;

/// Set by the first Ctrl-C of a `run`; the engine reads it every few ten thousand
/// arrivals.
static STOP: AtomicBool = AtomicBool::new(false);

fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli.command) {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            eprintln!("error: {}", message(&f.error));
            ExitCode::from(f.code)
        }
    }
}

/// The error and its causes, each once: a cause whose text the message already ends
/// with (an error that both displays and chains its source) is not repeated.
fn message(error: &anyhow::Error) -> String {
    let mut text = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !text.ends_with(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}

/// Makes Ctrl-C set [`STOP`] (the run then stops and writes what it measured); a second
/// Ctrl-C quits at once.
fn stop_on_ctrl_c() {
    use std::io::Write;
    let handler = || {
        if STOP.swap(true, Ordering::SeqCst) {
            std::process::exit(i32::from(INTERRUPTED));
        }
        // A closed stderr must not panic the handler's thread.
        let _ = writeln!(
            std::io::stderr(),
            "\nstopping: finishing the requests in flight, then writing what was measured (Ctrl-C again quits at once)"
        );
    };
    // Without a handler Ctrl-C still ends the run, only without its files.
    let _ = ctrlc::set_handler(handler);
}

/// Runs `command`; the exit code when it did not fail.
fn dispatch(command: Command) -> Result<u8, Failure> {
    match command {
        Command::Lab {
            scenario,
            port,
            bind,
            max_requests,
        } => lab(
            scenario.as_deref(),
            std::net::SocketAddr::new(bind, port),
            max_requests,
        ),
        Command::Run {
            scenario,
            out,
            theory,
            options,
        } => {
            let (mut resolved, mut plan) = load(scenario.as_deref(), &options.scenario.set)?;
            if let Some(seed) = options.scenario.seed {
                plan.seed = seed;
                resolved.seed = seed;
            }
            check_memory(
                &plan,
                options.scenario.max_memory,
                1,
                !options.scenario.quiet,
            )?;
            let out = out.unwrap_or_else(|| Path::new("results").join(&plan.name));
            stop_on_ctrl_c();
            // Before simulating, so a folder that cannot be written costs no run.
            tiersim::output::report::check_writable(&out)?;
            let mut report = run_with_progress(&plan, options.scenario.quiet);
            if theory {
                report.theory = Some(tiersim::theory::compare(&plan, &report));
            }
            // The table first: if writing fails after all, the run is not lost.
            say(&report.table());
            if let Some(rows) = &report.theory {
                say(&format!("\ntheory\n{}", tiersim::theory::table(rows)));
            }
            report.write(&out)?;
            // The scenario as run (after --set), beside its outputs: charts read the
            // fault windows from it, and it is what reproduces the run.
            let mut text = serde_json::to_vec_pretty(&resolved).expect("scenarios serialize");
            text.push(b'\n');
            tiersim::output::report::write_atomic(&out.join("scenario.json"), &text)?;
            say(&format!("wrote {}\n", out.display()));
            if !report.complete {
                eprintln!(
                    "interrupted: the run stopped early; {} holds what was measured, marked \"complete\": false",
                    out.display()
                );
                if options.plot || options.report {
                    eprintln!(
                        "no charts or report drawn; `tiersim plot {0}` and `tiersim report {0}` draw them",
                        out.display()
                    );
                }
                return Ok(INTERRUPTED);
            }
            options.draw_if_asked(&out)?;
            options.report_if_asked(&out, scenario.as_deref())?;
            Ok(0)
        }
        Command::Theory {
            scenario,
            out,
            options:
                ScenarioOptions {
                    seed,
                    set,
                    quiet,
                    max_memory,
                },
        } => {
            let (mut resolved, mut plan) = load(Some(&scenario), &set)?;
            if let Some(seed) = seed {
                plan.seed = seed;
                resolved.seed = seed;
            }
            check_memory(&plan, max_memory, 1, !quiet)?;
            if let Some(out) = &out {
                tiersim::output::report::check_writable(out)?;
            }
            stop_on_ctrl_c();
            let mut report = run_with_progress(&plan, quiet);
            let rows = tiersim::theory::compare(&plan, &report);
            if !report.complete {
                say(
                    "stopped before the end: the simulated figures cover the requests that arrived before the stop\n",
                );
            }
            say(&tiersim::theory::table(&rows));
            report.theory = Some(rows);
            if let Some(out) = &out {
                report.write(out)?;
                let mut text = serde_json::to_vec_pretty(&resolved).expect("scenarios serialize");
                text.push(b'\n');
                tiersim::output::report::write_atomic(&out.join("scenario.json"), &text)?;
                say(&format!("wrote {}\n", out.display()));
            }
            Ok(if report.complete { 0 } else { INTERRUPTED })
        }
        Command::Sweep {
            scenario,
            grid,
            replications,
            jobs,
            out,
            resume,
            cluster,
            options,
        } => {
            if cluster.backend == Backend::Slurm {
                return sweep_on_slurm(
                    &scenario,
                    &grid,
                    replications,
                    out,
                    resume,
                    &cluster,
                    &options,
                );
            }
            let shard = shard_of(&cluster)?;
            let overrides = parse_overrides(&options.scenario.set)?;
            let axes = grid
                .iter()
                .map(|g| Axis::parse(g))
                .collect::<Result<Vec<_>, _>>()
                .map_err(bad_input)?;
            let source = Source::read(&scenario).map_err(bad_input)?;
            let sweep = Sweep::new(
                source.clone(),
                overrides.clone(),
                axes,
                replications,
                options.scenario.seed,
            )
            .map_err(bad_input)?;
            let name = &sweep.name;
            let out = out.unwrap_or_else(|| Path::new("results").join(format!("{name}-sweep")));
            let jobs =
                jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            check_sweep_memory(
                &source,
                &overrides,
                &sweep,
                jobs,
                options.scenario.max_memory,
            )?;
            let bar = progress_bar(
                Some(sweep.shard_jobs(shard) as u64),
                "{spinner} {bar:40} {pos}/{len} runs  {per_sec}  eta {eta}",
                options.scenario.quiet,
            );
            let node = node_name();
            let outcome = sweep
                .run_shard(
                    &out,
                    jobs,
                    resume,
                    shard.map(|s| (s, node.as_str())),
                    &|| bar.inc(1),
                )
                .map_err(|e| {
                    // A folder that cannot be resumed is the user's input to fix, not a
                    // failed run.
                    if matches!(e, SweepError::Resume { .. }) {
                        bad_input(e)
                    } else {
                        Failure::from(e)
                    }
                })?;
            bar.finish_and_clear();
            if let Some(s) = shard {
                say(&format!(
                    "shard {} of {}: {} runs, {} kept from an earlier run; wrote {} (`tiersim merge` joins the shards)\n",
                    s.index,
                    s.count,
                    outcome.ran,
                    outcome.resumed,
                    out.display()
                ));
                return Ok(0);
            }
            say(&format!(
                "{} points x {} replications: {} runs, {} kept from an earlier run; wrote {}\n",
                sweep.points.len(),
                sweep.replications,
                outcome.ran,
                outcome.resumed,
                out.display()
            ));
            options.draw_if_asked(&out)?;
            options.report_if_asked(&out, Some(&scenario))?;
            Ok(0)
        }
        Command::Capacity {
            scenario,
            slo,
            axis,
            range,
            replications,
            max_replications,
            tolerance,
            max_steps,
            jobs,
            out,
            options,
        } => {
            use tiersim::sweep::capacity::{Objective, Outcome, Question, Range, Search};
            let objectives = slo
                .iter()
                .map(|s| Objective::parse(s))
                .collect::<Result<Vec<_>, _>>()
                .map_err(bad_input)?;
            let range = range
                .as_deref()
                .map(Range::parse)
                .transpose()
                .map_err(bad_input)?;
            let overrides = parse_overrides(&options.set)?;
            let source = Source::read(&scenario).map_err(bad_input)?;
            let question = Question {
                axis,
                range,
                objectives,
                replications,
                max_replications,
                tolerance,
                max_steps,
                seed: options.seed,
            };
            let search =
                Search::new(source.clone(), overrides.clone(), question).map_err(bad_input)?;
            let out = out.unwrap_or_else(|| {
                Path::new("results").join(format!("{}-capacity", search.name()))
            });
            let jobs =
                jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
            let s = search.settings();
            // The high end's run is taken as the largest; `jobs` of them at once.
            let (_, plan) = source
                .plan(&search.overrides(s.range.hi))
                .map_err(bad_input)?;
            check_memory(
                &plan,
                options.max_memory,
                jobs.min(s.max_replications as usize) as u64,
                false,
            )?;
            let bar = progress_bar(
                None,
                "{spinner} {pos} runs  {per_sec}  {elapsed}",
                options.quiet,
            );
            let found = search.run(jobs, &|| bar.inc(1))?;
            bar.finish_and_clear();
            found.write(&out, &this_command())?;
            draw(&out, &out, ImageFormat::Both)?;
            say(&found.table());
            say(&format!(
                "{}\nwrote {}\n",
                found.answer_text(),
                out.display()
            ));
            Ok(match found.outcome {
                // The range the user gave holds no answer: theirs to widen.
                Outcome::NoneInRange => {
                    eprintln!("error: --range: {}", found.answer_text());
                    2
                }
                Outcome::AtLeastHigh | Outcome::Found => 0,
            })
        }
        Command::Merge { dirs, out } => merge(&dirs, &out),
        Command::Plot { dir, out, format } => {
            if !dir.is_dir() {
                return Err(bad_input(anyhow::anyhow!(
                    "{} is not a folder",
                    dir.display()
                )));
            }
            let out = out.unwrap_or_else(|| dir.clone());
            // `draw` says which failures are bad input (2) and which a failed run (1),
            // as for `run --plot`.
            draw(&dir, &out, format)?;
            Ok(0)
        }
        Command::Report { dir, out, scenario } => {
            if !dir.is_dir() {
                return Err(bad_input(anyhow::anyhow!(
                    "{} is not a folder",
                    dir.display()
                )));
            }
            let out = out.unwrap_or_else(|| dir.join("report.html"));
            let ctx = tiersim::output::html::Context {
                source: scenario,
                command: None,
            };
            write_report(&dir, &out, &ctx)?;
            Ok(0)
        }
        Command::Replay(args) => replay(args).map(|()| 0),
        Command::Validate {
            scenario,
            set,
            max_memory,
        } => {
            let (s, plan) = load(Some(&scenario), &set)?;
            say(&format!(
                "{}: ok — {}\n{}",
                scenario.display(),
                describe(&s, &plan),
                horizon(&plan)
            ));
            let estimate = Estimate::of(&plan);
            let (limit, from) = memory_limit(max_memory);
            say(&format!(
                "memory: {}{}",
                match limit {
                    Some(l) => format!("limit {} {from}; ", budget::bytes(l)),
                    None => String::new(),
                },
                estimate
            ));
            if let Some(limit) = limit {
                estimate.check(limit, &from).map_err(bad_input)?;
            }
            Ok(0)
        }
    }
}

/// Prints to stdout. A reader that has gone away (`tiersim run | head`) is not an error:
/// the outputs are already written, so the rest of the text is dropped.
fn say(text: &str) {
    use std::io::Write;
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

/// Writes the HTML report of `dir` to `out`; bad or missing input is exit code 2.
fn write_report(
    dir: &Path,
    out: &Path,
    ctx: &tiersim::output::html::Context,
) -> Result<(), Failure> {
    tiersim::output::html::write(dir, out, ctx).map_err(|e| {
        if e.is_bad_input() {
            bad_input(e)
        } else {
            Failure::from(e)
        }
    })?;
    say(&format!("wrote {}\n", out.display()));
    Ok(())
}

/// This process's command line, quoted for a shell, with the program called `tiersim`.
fn this_command() -> String {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quoted: Vec<String> = args
        .iter()
        .map(|a| tiersim::output::html::shell_word(a))
        .collect();
    format!("tiersim {}", quoted.join(" "))
}

fn draw(dir: &Path, out: &Path, format: ImageFormat) -> Result<(), Failure> {
    let drawn = plot_dir(dir, out, format).map_err(|e| match e {
        PlotError::Nothing(_) | PlotError::Input { .. } => bad_input(e),
        other => other.into(),
    })?;
    for f in &drawn.files {
        say(&format!("drew {}\n", f.display()));
    }
    for why in &drawn.left_out {
        eprintln!("note: no chart from {}: {why}", dir.display());
    }
    // Files that hold no measurement are a run's true output, not bad input: the exit
    // code stays the run's (0), and the note says why there is nothing to see.
    if drawn.files.is_empty() {
        eprintln!("nothing to draw in {}", dir.display());
    }
    Ok(())
}

/// Serves the lab page until Ctrl-C.
fn lab(
    scenario: Option<&Path>,
    addr: std::net::SocketAddr,
    max_requests: u64,
) -> Result<u8, Failure> {
    use std::io::Write;
    use tiersim::lab::{Lab, server::LabServer};
    if max_requests == 0 {
        return Err(bad_input(anyhow::anyhow!(
            "--max-requests 0: a lab run needs at least 1 request"
        )));
    }
    let source = match scenario {
        Some(p) => Source::read(p).map_err(bad_input)?,
        None => Source::quickstart(),
    };
    let arg = scenario.map(|p| p.display().to_string());
    let lab =
        Lab::new(source, arg, max_requests).map_err(|r| bad_input(anyhow::anyhow!(r.message)))?;
    let name = lab.name();
    let server = LabServer::bind(lab, addr)?;
    let url = match server.addr() {
        Some(a) => format!("http://{a}/"),
        None => format!("http://{addr}/"),
    };
    // Before the URL line: whoever reads it may send Ctrl-C at once.
    let _ = ctrlc::set_handler(|| STOP.store(true, Ordering::SeqCst));
    let mut out = std::io::stdout();
    // Tests and scripts read the URL from this first line.
    let _ = writeln!(out, "tiersim lab: {name} at {url} (Ctrl-C stops)");
    let _ = out.flush();
    server.serve(&STOP);
    eprintln!("tiersim lab: stopped");
    Ok(0)
}

fn parse_overrides(set: &[String]) -> Result<Vec<Override>, Failure> {
    set.iter()
        .map(|s| Override::parse(s))
        .collect::<Result<Vec<_>, _>>()
        .map_err(bad_input)
}

fn load(path: Option<&Path>, set: &[String]) -> Result<(Scenario, Plan), Failure> {
    let overrides = parse_overrides(set)?;
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

/// The run's expected length and its time series, for `validate`.
fn horizon(plan: &Plan) -> String {
    let h = &plan.horizon;
    let bucket = plan.bucket.as_secs_f64();
    let coarsened = plan
        .bucket_coarsened_from
        .map(|b| {
            format!(
                " (metrics.bucket_s = {} s coarsened: at most {} rows)",
                b.as_secs_f64(),
                tiersim::metrics::MAX_BUCKETS
            )
        })
        .unwrap_or_default();
    format!(
        "expected: {:.0} requests over {} s of simulated time, ending by about {} s; \
         timeseries.csv: about {:.0} rows of {bucket} s{coarsened}\n",
        h.requests,
        round3(h.arrivals_s),
        round3(h.span_s),
        (h.span_s / bucket).ceil()
    )
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The memory a run may take and where that figure comes from: `--max-memory`, else
/// what the system has available (none if it cannot be read).
fn memory_limit(max: Option<u64>) -> (Option<u64>, String) {
    match max {
        Some(b) => (Some(b), "set by --max-memory".into()),
        None => (
            budget::available(),
            "available (MemAvailable in /proc/meminfo; --max-memory overrides)".into(),
        ),
    }
}

/// Refuses a run (`jobs` of them at once) whose memory estimate exceeds the limit; with
/// `notes`, says on stderr when the run is large or its time series coarsened.
fn check_memory(plan: &Plan, max: Option<u64>, jobs: u64, notes: bool) -> Result<(), Failure> {
    let estimate = Estimate::of(plan);
    let (limit, from) = memory_limit(max);
    if let Some(limit) = limit {
        let (share, from) = if jobs > 1 {
            let from = format!(
                "each of {jobs} parallel jobs may take ({} {from}; --jobs runs fewer)",
                budget::bytes(limit)
            );
            (limit / jobs, from)
        } else {
            (limit, from)
        };
        estimate.check(share, &from).map_err(bad_input)?;
    }
    if notes {
        if estimate.total() >= 1_000_000_000 {
            eprintln!(
                "note: this run needs about {} of memory (estimate; `tiersim validate` lists \
                 the parts)",
                budget::bytes(estimate.total())
            );
        }
        if let Some(asked) = plan.bucket_coarsened_from {
            eprintln!(
                "note: metrics.bucket_s = {} s would need about {:.0} time-series rows over \
                 the run's expected {} s; timeseries.csv uses {} s buckets (at most {} rows)",
                asked.as_secs_f64(),
                (plan.horizon.span_s / asked.as_secs_f64()).ceil(),
                round3(plan.horizon.span_s),
                plan.bucket.as_secs_f64(),
                tiersim::metrics::MAX_BUCKETS
            );
        }
    }
    Ok(())
}

/// [`check_memory`] for a sweep: its largest point's run, `jobs` at once.
fn check_sweep_memory(
    source: &Source,
    base: &[Override],
    sweep: &Sweep,
    jobs: usize,
    max: Option<u64>,
) -> Result<(), Failure> {
    let mut largest: Option<(u64, Plan)> = None;
    for point in &sweep.points {
        let mut overrides = base.to_vec();
        overrides.extend(point.coords.iter().map(|(k, v)| Override {
            key: k.split('.').map(str::to_owned).collect(),
            value: v.clone(),
            assignment: format!("{k}={v}"),
        }));
        let (_, plan) = source.plan(&overrides).map_err(bad_input)?;
        let total = Estimate::of(&plan).total();
        if largest.as_ref().is_none_or(|(t, _)| total > *t) {
            largest = Some((total, plan));
        }
    }
    let parallel = jobs.min(sweep.jobs()).max(1) as u64;
    match largest {
        Some((_, plan)) => check_memory(&plan, max, parallel, false),
        None => Ok(()),
    }
}

/// A progress bar on stderr drawn with `template`, over `len` steps if known. indicatif
/// hides it by itself when stderr is not a terminal; `quiet` hides it always.
fn progress_bar(len: Option<u64>, template: &'static str, quiet: bool) -> ProgressBar {
    let bar = len.map_or_else(ProgressBar::no_length, ProgressBar::new);
    if quiet {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(ProgressStyle::with_template(template).expect("valid template"));
    bar
}

fn run_with_progress(plan: &Plan, quiet: bool) -> tiersim::output::report::Report {
    let bar = progress_bar(
        plan.requests,
        "{spinner} {bar:40} {human_pos}/{human_len} requests  {per_sec}  eta {eta}",
        quiet,
    );
    let report = tiersim::simulate_until(plan, &STOP, |p| bar.set_position(p.generated));
    bar.finish_and_clear();
    report
}

fn replay(args: ReplayArgs) -> Result<(), Failure> {
    use indicatif::ParallelProgressIterator;
    use rayon::prelude::*;
    use tiersim::policy::PolicySpec;
    use tiersim::replay::{ReplayJob, SizeUnit};
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
    // Read the first request up front, so that a missing, empty or torn file, bad options
    // or a trace in another format fail before any work starts.
    let bad_trace = |e: tiersim::trace::TraceError| {
        if e.is_bad_record() && args.skip_bad == 0 {
            bad_input(anyhow::anyhow!(
                "{e}\n(--skip-bad N skips up to N bad records)"
            ))
        } else {
            bad_input(e)
        }
    };
    source
        .open_skipping(args.skip_bad)
        .and_then(|mut r| r.read(&mut tiersim::trace::Request::default()))
        .map_err(bad_trace)?;
    let out = args.out.unwrap_or_else(|| {
        let name = args
            .trace
            .file_name()
            .map(|n| n.to_string_lossy().into_owned());
        Path::new("results").join(format!("replay-{}", name.unwrap_or_default()))
    });

    let grid: Vec<ReplayJob> = policies
        .iter()
        .flat_map(|p| {
            let source = &source;
            args.size.iter().map(move |&s| {
                ReplayJob::new(source.clone(), p.clone(), s)
                    .unit(unit)
                    .seed(args.seed)
                    .skip_bad(args.skip_bad)
            })
        })
        .collect();
    let bar = progress_bar(
        Some(grid.len() as u64),
        "{spinner} {bar:40} {pos}/{len} replays  {elapsed}",
        args.quiet,
    );
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(args.jobs.unwrap_or(0))
        .build()?;
    let results = pool.install(|| {
        grid.par_iter()
            .progress_with(bar.clone())
            .map(ReplayJob::run)
            .collect::<Result<Vec<_>, _>>()
    });
    bar.finish_and_clear();
    // A trace that opened but fails midway is bad input too (a corrupt record).
    let results = results.map_err(bad_trace)?;
    tiersim::replay::write_csv(&out, &results)?;
    print!("{}", tiersim::replay::table(&results, args.skip_bad));
    println!("wrote {}", out.join("replay.csv").display());
    Ok(())
}

/// The shard `--shard` or `--shard-from-env` asks for, if any.
fn shard_of(cluster: &ClusterOptions) -> Result<Option<Shard>, Failure> {
    let bad = |m: String| bad_input(anyhow::anyhow!(m));
    if let Some(s) = &cluster.shard {
        return s.parse().map(Some).map_err(|e| bad(format!("--shard {e}")));
    }
    let Some(spec) = &cluster.shard_from_env else {
        return Ok(None);
    };
    let (var, n) = spec.split_once('/').ok_or_else(|| {
        bad(format!(
            "--shard-from-env `{spec}` is not VAR/N (e.g. SLURM_ARRAY_TASK_ID/12)"
        ))
    })?;
    let k = std::env::var(var).map_err(|_| {
        bad(format!(
            "--shard-from-env {spec}: the environment variable {var} is not set (the batch system sets it in each task)"
        ))
    })?;
    format!("{}/{n}", k.trim())
        .parse()
        .map(Some)
        .map_err(|e| bad(format!("--shard-from-env {spec} ({var}={k}): {e}")))
}

/// The machine a shard runs on, for its manifest: Slurm's node name, else the host name.
fn node_name() -> String {
    std::env::var("SLURMD_NODENAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/proc/sys/kernel/hostname").ok())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

fn merge(dirs: &[PathBuf], out: &Path) -> Result<u8, Failure> {
    let merged = tiersim::sweep::merge::merge(dirs, out).map_err(|e| {
        if e.is_bad_input() {
            bad_input(e)
        } else {
            Failure::from(e)
        }
    })?;
    say(&format!(
        "merged {} jobs from {} shards (nodes: {}); wrote {}\n",
        merged.jobs,
        merged.shards,
        merged.nodes.join(", "),
        out.display()
    ));
    Ok(0)
}

/// `sweep --backend slurm`: checks the sweep here, then submits it and waits.
fn sweep_on_slurm(
    scenario: &Path,
    grid: &[String],
    replications: Option<u32>,
    out: Option<PathBuf>,
    resume: bool,
    cluster: &ClusterOptions,
    options: &RunOptions,
) -> Result<u8, Failure> {
    use tiersim::sweep::slurm;
    let bad = |m: String| bad_input(anyhow::anyhow!(m));
    let overrides = parse_overrides(&options.scenario.set)?;
    let axes = grid
        .iter()
        .map(|g| Axis::parse(g))
        .collect::<Result<Vec<_>, _>>()
        .map_err(bad_input)?;
    let source = Source::read(scenario).map_err(bad_input)?;
    let sweep = Sweep::new(source, overrides, axes, replications, options.scenario.seed)
        .map_err(bad_input)?;
    let out = out.unwrap_or_else(|| Path::new("results").join(format!("{}-sweep", sweep.name)));
    let earlier = if resume {
        slurm::earlier_shards(&out)
    } else {
        None
    };
    let shards = cluster.shards.or(earlier).ok_or_else(|| {
        bad(
            "--backend slurm needs --shards N (how many array tasks to split the sweep into)"
                .into(),
        )
    })?;
    if shards == 0 {
        return Err(bad("--shards must be at least 1".into()));
    }
    let abs = |p: &Path| std::path::absolute(p).map_err(|e| bad(format!("{}: {e}", p.display())));
    // The command every shard runs, by absolute paths: compute nodes start elsewhere.
    let mut args = vec!["sweep".to_owned(), abs(scenario)?.display().to_string()];
    for g in grid {
        args.extend(["--grid".to_owned(), g.clone()]);
    }
    if let Some(r) = replications {
        args.extend(["--replications".to_owned(), r.to_string()]);
    }
    if let Some(seed) = options.scenario.seed {
        args.extend(["--seed".to_owned(), seed.to_string()]);
    }
    for s in &options.scenario.set {
        args.extend(["--set".to_owned(), s.clone()]);
    }
    if let Some(m) = options.scenario.max_memory {
        args.extend(["--max-memory".to_owned(), m.to_string()]);
    }
    let command = slurm::ShardCommand {
        program: std::env::current_exe()?,
        args,
    };
    let opts = slurm::Options {
        shards,
        partition: cluster.partition.clone(),
        time: cluster.time.clone(),
        sbatch_args: cluster.sbatch_args.clone(),
        resume,
        poll: Duration::from_secs(1),
    };
    let quiet = options.scenario.quiet;
    let outcome = slurm::run(&sweep, &out, &command, &opts, &mut |p| {
        if !quiet {
            eprintln!(
                "shards: {} done, {} running, {} pending (of {} submitted)",
                p.done, p.running, p.pending, p.submitted
            );
        }
    })
    .map_err(|e| {
        if e.is_bad_input() {
            bad_input(e)
        } else {
            Failure::from(e)
        }
    })?;
    let submitted = if outcome.submitted.is_empty() {
        "no shard left to submit: merged here".to_owned()
    } else {
        format!(
            "submitted {} of {shards} shards ({}) as job {} and merge job {}",
            outcome.submitted.len(),
            outcome
                .submitted
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(","),
            outcome.array_job.as_deref().unwrap_or("-"),
            outcome.merge_job.as_deref().unwrap_or("-")
        )
    };
    say(&format!(
        "{} points x {} replications on slurm: {submitted}; nodes {}; wrote {}\n",
        sweep.points.len(),
        sweep.replications,
        outcome.merged.nodes.join(", "),
        out.display()
    ));
    options.draw_if_asked(&out)?;
    Ok(0)
}
