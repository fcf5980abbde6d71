//! The Slurm backend of a sweep: a job array of shards and a merge job that depends on
//! it, submitted with `sbatch`, watched with `squeue`.
//!
//! Layout of the output folder `OUT`: `slurm/shard.sh` and `slurm/merge.sh` (the batch
//! scripts; they call the `tiersim` binary and read the scenario by absolute path, so a
//! compute node needs only those two on a shared file system), `slurm/job.json` (the
//! shard count and job ids), `shards/shard-K/` (each shard's `sweep.csv` and manifest),
//! `logs/shard-K.out` and `logs/merge.out`, and the merged `sweep.csv`,
//! `sweep_summary.csv` and `sweep.json`. A shard counts as done when its folder holds
//! its manifest ([`super::shard::MANIFEST`]), which it writes last; `--resume`
//! resubmits only the shards without one.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Sweep;
use super::fingerprint::Fingerprint;
use super::merge::{self, MergeError, Merged};
use super::shard::Manifest;
use crate::output::report::{OutputError, write_atomic};

/// How to submit.
#[derive(Clone, Debug)]
pub struct Options {
    /// Shards (array tasks).
    pub shards: u32,
    /// `--partition`, if any.
    pub partition: Option<String>,
    /// `--time` (a Slurm time limit such as `30:00`), if any.
    pub time: Option<String>,
    /// More `sbatch` arguments, given to both jobs as they are.
    pub sbatch_args: Vec<String>,
    /// Keep the shards that finished in an earlier submission; submit only the others.
    pub resume: bool,
    /// How often to ask `squeue`.
    pub poll: Duration,
}

/// The command every shard runs: the `tiersim` binary and the `sweep` arguments that
/// define the sweep (scenario, grid, replications, seed, overrides), without `--out`,
/// `--shard`, `--jobs` or `--resume`, which the batch script adds.
#[derive(Clone, Debug)]
pub struct ShardCommand {
    /// The `tiersim` binary, by an absolute path the compute nodes see.
    pub program: PathBuf,
    /// `sweep SCENARIO --grid ...`, the scenario by an absolute path.
    pub args: Vec<String>,
}

/// Where the submitted shards are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Shards submitted now.
    pub submitted: usize,
    /// Of those, finished (successfully or not).
    pub done: usize,
    /// Running.
    pub running: usize,
    /// Waiting in the queue.
    pub pending: usize,
}

/// A shard that failed, and where its output went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailedShard {
    /// The shard.
    pub index: u32,
    /// Its log file.
    pub log: PathBuf,
    /// The log's last line, if any (tiersim's error).
    pub last_line: Option<String>,
}

/// Why a Slurm sweep did not finish.
#[derive(Debug, thiserror::Error)]
pub enum SlurmError {
    /// The folder holds another sweep, or another sharding of this one.
    #[error("cannot resume {dir}: {message}")]
    Resume {
        /// The output folder.
        dir: PathBuf,
        /// Why.
        message: String,
    },
    /// A Slurm command could not be run or failed.
    #[error("{command}: {message}")]
    Command {
        /// The command, e.g. `sbatch`.
        command: String,
        /// What happened.
        message: String,
    },
    /// Shards failed: the merge job was cancelled.
    #[error(
        "{} of {submitted} shards failed: {}; fix the cause, then run the same command with --resume to resubmit only them",
        failed.len(),
        failed.iter().map(|f| format!(
            "shard {} (log {}{})",
            f.index,
            f.log.display(),
            f.last_line.as_deref().map(|l| format!(": {l}")).unwrap_or_default()
        )).collect::<Vec<_>>().join(", ")
    )]
    Failed {
        /// Shards submitted.
        submitted: usize,
        /// The failed ones.
        failed: Vec<FailedShard>,
    },
    /// The merge job failed.
    #[error("the merge job failed (log {}{})", log.display(), last_line.as_deref().map(|l| format!(": {l}")).unwrap_or_default())]
    MergeJob {
        /// Its log file.
        log: PathBuf,
        /// The log's last line, if any.
        last_line: Option<String>,
    },
    /// Merging the finished shards here failed.
    #[error(transparent)]
    Merge(#[from] MergeError),
    /// Output could not be written.
    #[error(transparent)]
    Output(#[from] OutputError),
}

impl SlurmError {
    /// True when the user's input is at fault (exit 2), false for a failed run (exit 1).
    pub fn is_bad_input(&self) -> bool {
        match self {
            SlurmError::Resume { .. } => true,
            SlurmError::Merge(e) => e.is_bad_input(),
            _ => false,
        }
    }
}

/// What a finished Slurm sweep did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Shards submitted now (all of them, or with `resume` those not done before).
    pub submitted: Vec<u32>,
    /// The job array's id, if one was submitted.
    pub array_job: Option<String>,
    /// The merge job's id, if one was submitted (without, the merge ran here).
    pub merge_job: Option<String>,
    /// What the merge found.
    pub merged: Merged,
}

/// What `slurm/job.json` keeps between submissions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct JobFile {
    shards: u32,
    array_job: Option<String>,
    merge_job: Option<String>,
}

/// The folder of shard `k` under `out`.
pub fn shard_dir(out: &Path, k: u32) -> PathBuf {
    out.join("shards").join(format!("shard-{k}"))
}

/// The log file of shard `k` under `out`.
pub fn shard_log(out: &Path, k: u32) -> PathBuf {
    out.join("logs").join(format!("shard-{k}.out"))
}

/// Submits `sweep` as a job array of `opts.shards` shards and a merge job into `out`,
/// waits for them, calling `progress` whenever the counts change, and returns once the
/// merged files are in `out`.
pub fn run(
    sweep: &Sweep,
    out: &Path,
    command: &ShardCommand,
    opts: &Options,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Outcome, SlurmError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| OutputError::Io { path, source }
    };
    for sub in ["", "shards", "logs", "slurm"] {
        std::fs::create_dir_all(out.join(sub)).map_err(io(&out.join(sub)))?;
    }
    // Batch scripts run elsewhere, from another working directory.
    let out = &std::fs::canonicalize(out).map_err(io(out))?;
    let fingerprint = sweep.fingerprint();
    let job_path = out.join("slurm").join("job.json");
    let todo: Vec<u32> = if opts.resume {
        resume_check(out, &fingerprint, opts.shards)?;
        (0..opts.shards)
            .filter(|&k| !shard_done(out, k, opts.shards, &fingerprint))
            .collect()
    } else {
        fingerprint.write(out)?;
        for k in 0..opts.shards {
            // A stale manifest must not pass for this submission's.
            let _ = std::fs::remove_file(shard_dir(out, k).join(super::shard::MANIFEST));
        }
        (0..opts.shards).collect()
    };
    let merged_files = ["sweep.csv", "sweep_summary.csv"];
    for f in merged_files {
        let _ = std::fs::remove_file(out.join(f));
    }
    let shard_dirs: Vec<PathBuf> = (0..opts.shards).map(|k| shard_dir(out, k)).collect();
    if todo.is_empty() {
        // Every shard finished in an earlier submission: only the merge is left.
        let merged = merge::merge(&shard_dirs, out)?;
        return Ok(Outcome {
            submitted: Vec::new(),
            array_job: None,
            merge_job: None,
            merged,
        });
    }
    let shard_script = out.join("slurm").join("shard.sh");
    write_script(&shard_script, &shard_script_text(out, command, opts))?;
    let merge_script = out.join("slurm").join("merge.sh");
    let mut merge_args = vec!["merge".to_owned()];
    merge_args.extend(shard_dirs.iter().map(|d| d.display().to_string()));
    merge_args.extend(["--out".to_owned(), out.display().to_string()]);
    write_script(
        &merge_script,
        &format!(
            "#!/bin/sh\n# Written by `tiersim sweep --backend slurm`: merges the shards into {}.\nexec {}\n",
            out.display(),
            quote_all(&command.program, &merge_args)
        ),
    )?;
    let mut common: Vec<String> = Vec::new();
    if let Some(p) = &opts.partition {
        common.push(format!("--partition={p}"));
    }
    if let Some(t) = &opts.time {
        common.push(format!("--time={t}"));
    }
    common.extend(opts.sbatch_args.iter().cloned());
    let name = format!("tiersim-{}", sweep.name);
    let mut array_args = vec![
        "--parsable".to_owned(),
        format!("--array={}", ranges(&todo)),
        format!("--job-name={name}"),
        format!(
            "--output={}",
            out.join("logs").join("shard-%a.out").display()
        ),
    ];
    array_args.extend(common.iter().cloned());
    array_args.push(shard_script.display().to_string());
    let array_job = sbatch(&array_args)?;
    let mut merge_sbatch = vec![
        "--parsable".to_owned(),
        format!("--dependency=afterok:{array_job}"),
        format!("--job-name={name}-merge"),
        format!("--output={}", out.join("logs").join("merge.out").display()),
    ];
    merge_sbatch.extend(common);
    merge_sbatch.push(merge_script.display().to_string());
    let merge_job = match sbatch(&merge_sbatch) {
        Ok(id) => id,
        Err(e) => {
            scancel(&array_job);
            return Err(e);
        }
    };
    let mut text = serde_json::to_vec_pretty(&JobFile {
        shards: opts.shards,
        array_job: Some(array_job.clone()),
        merge_job: Some(merge_job.clone()),
    })
    .expect("job files serialize");
    text.push(b'\n');
    write_atomic(&job_path, &text)?;

    // Wait for the array.
    let mut last = None;
    loop {
        let queue = squeue(&[&array_job, &merge_job])?;
        let tasks: Vec<&(String, String)> = queue
            .iter()
            .filter(|(id, _)| id.starts_with(&format!("{array_job}_")) || *id == array_job)
            .collect();
        let pending = tasks.iter().filter(|(_, s)| s == "PENDING").count();
        let running = tasks.len() - pending;
        let now = Progress {
            submitted: todo.len(),
            done: todo.len().saturating_sub(tasks.len()),
            running,
            pending,
        };
        if last != Some(now) {
            progress(&now);
            last = Some(now);
        }
        if tasks.is_empty() {
            break;
        }
        std::thread::sleep(opts.poll);
    }
    // A shard writes its manifest before it exits; a shared file system may show it a
    // moment later than the queue shows the task gone.
    let mut failed: Vec<u32> = Vec::new();
    for attempt in 0..10 {
        failed = todo
            .iter()
            .copied()
            .filter(|&k| !shard_done(out, k, opts.shards, &fingerprint))
            .collect();
        if failed.is_empty() || attempt == 9 {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    if !failed.is_empty() {
        scancel(&merge_job);
        return Err(SlurmError::Failed {
            submitted: todo.len(),
            failed: failed
                .into_iter()
                .map(|k| FailedShard {
                    index: k,
                    log: shard_log(out, k),
                    last_line: last_line(&shard_log(out, k)),
                })
                .collect(),
        });
    }
    while !squeue(&[&merge_job])?.is_empty() {
        std::thread::sleep(opts.poll);
    }
    let merge_log = out.join("logs").join("merge.out");
    let mut finished = false;
    for _ in 0..10 {
        finished = merged_files.iter().all(|f| out.join(f).exists());
        if finished {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    if !finished {
        return Err(SlurmError::MergeJob {
            last_line: last_line(&merge_log),
            log: merge_log,
        });
    }
    let mut nodes: Vec<String> = (0..opts.shards)
        .filter_map(|k| Manifest::read(&shard_dir(out, k)).ok().flatten())
        .map(|m| m.node)
        .collect();
    nodes.sort();
    nodes.dedup();
    Ok(Outcome {
        submitted: todo,
        array_job: Some(array_job),
        merge_job: Some(merge_job),
        merged: Merged {
            jobs: sweep.jobs(),
            shards: opts.shards,
            nodes,
        },
    })
}

/// The shard count an earlier submission into `out` used, if any.
pub fn earlier_shards(out: &Path) -> Option<u32> {
    let text = std::fs::read(out.join("slurm").join("job.json")).ok()?;
    serde_json::from_slice::<JobFile>(&text)
        .ok()
        .map(|j| j.shards)
}

/// Refuses to resume a folder of another sweep or another shard count.
fn resume_check(out: &Path, this: &Fingerprint, shards: u32) -> Result<(), SlurmError> {
    let err = |message: String| SlurmError::Resume {
        dir: out.to_owned(),
        message,
    };
    match Fingerprint::read(out).map_err(err)? {
        None => {
            return Err(err(
                "it holds no sweep.json from an earlier submission; run without --resume".into(),
            ));
        }
        Some(found) => {
            let d = this.differences(&found);
            if !d.is_empty() {
                return Err(err(format!(
                    "it was written by another sweep: {}; run without --resume to replace it, or choose another --out",
                    d.join("; ")
                )));
            }
        }
    }
    if let Some(n) = earlier_shards(out).filter(|&n| n != shards) {
        return Err(err(format!(
            "it was split into {n} shards, not {shards}: a job's shard depends on the count; give --shards {n}"
        )));
    }
    Ok(())
}

/// Shard `k` of `n` finished: its manifest is there, and its fingerprint is this sweep's.
fn shard_done(out: &Path, k: u32, n: u32, this: &Fingerprint) -> bool {
    let dir = shard_dir(out, k);
    let manifest = Manifest::read(&dir).ok().flatten();
    manifest.is_some_and(|m| m.shard.index == k && m.shard.count == n)
        && Fingerprint::read(&dir).ok().flatten().as_ref() == Some(this)
}

fn shard_script_text(out: &Path, command: &ShardCommand, opts: &Options) -> String {
    let mut args = command.args.clone();
    args.extend([
        "--shard-from-env".to_owned(),
        format!("SLURM_ARRAY_TASK_ID/{}", opts.shards),
        "--quiet".to_owned(),
    ]);
    if opts.resume {
        args.push("--resume".to_owned());
    }
    let prefix = shard_dir(out, 0);
    let prefix = prefix.display().to_string();
    let prefix = prefix.strip_suffix('0').expect("ends in shard-0");
    format!(
        "#!/bin/sh\n\
         # Written by `tiersim sweep --backend slurm`: one shard of the job array, the\n\
         # shard's index from SLURM_ARRAY_TASK_ID, its threads from --cpus-per-task.\n\
         exec {} --out {}\"$SLURM_ARRAY_TASK_ID\" --jobs \"${{SLURM_CPUS_PER_TASK:-1}}\"\n",
        quote_all(&command.program, &args),
        quote(prefix)
    )
}

fn quote(s: &str) -> String {
    shlex::try_quote(s)
        .map(|q| q.into_owned())
        .unwrap_or_else(|_| format!("'{}'", s.replace('\0', "").replace('\'', r"'\''")))
}

fn quote_all(program: &Path, args: &[String]) -> String {
    std::iter::once(quote(&program.display().to_string()))
        .chain(args.iter().map(|a| quote(a)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn write_script(path: &Path, text: &str) -> Result<(), OutputError> {
    write_atomic(path, text.as_bytes())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).map_err(
            |source| OutputError::Io {
                path: path.to_owned(),
                source,
            },
        )?;
    }
    Ok(())
}

/// `0-3,5,7-8` for `[0, 1, 2, 3, 5, 7, 8]` (sorted), as `--array` takes it.
fn ranges(ks: &[u32]) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < ks.len() {
        let mut j = i;
        while j + 1 < ks.len() && ks[j + 1] == ks[j] + 1 {
            j += 1;
        }
        parts.push(if i == j {
            ks[i].to_string()
        } else {
            format!("{}-{}", ks[i], ks[j])
        });
        i = j + 1;
    }
    parts.join(",")
}

fn run_slurm(program: &str, args: &[String]) -> Result<String, SlurmError> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| SlurmError::Command {
            command: program.to_owned(),
            message: format!("cannot run it ({e}): is Slurm installed here, and on the PATH?"),
        })?;
    if !out.status.success() {
        return Err(SlurmError::Command {
            command: format!("{program} {}", args.join(" ")),
            message: format!(
                "{} ({})",
                String::from_utf8_lossy(&out.stderr).trim(),
                out.status
            ),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Submits; the job id (`--parsable` prints `id` or `id;cluster`).
fn sbatch(args: &[String]) -> Result<String, SlurmError> {
    let text = run_slurm("sbatch", args)?;
    let id = text.trim().split(';').next().unwrap_or_default().to_owned();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(SlurmError::Command {
            command: "sbatch".into(),
            message: format!("expected a job id, got `{}`", text.trim()),
        });
    }
    Ok(id)
}

fn scancel(job: &str) {
    // Best effort: the job may have left the queue already.
    let _ = Command::new("scancel").arg(job).output();
}

/// The jobs and array tasks of `jobs` still in the queue: (id, state), array tasks one
/// per line as `ARRAY_K`.
fn squeue(jobs: &[&str]) -> Result<Vec<(String, String)>, SlurmError> {
    let args: Vec<String> = vec![
        "--noheader".into(),
        "--array".into(),
        format!("--jobs={}", jobs.join(",")),
        "--format=%i|%T".into(),
    ];
    let mut tries = 0;
    loop {
        match run_slurm("squeue", &args) {
            Ok(text) => {
                return Ok(text
                    .lines()
                    .filter_map(|l| l.trim().split_once('|'))
                    .map(|(i, s)| (i.to_owned(), s.to_owned()))
                    .collect());
            }
            // Jobs that left the controller's memory are "invalid": gone.
            Err(SlurmError::Command { message, .. }) if message.contains("Invalid job id") => {
                return Ok(Vec::new());
            }
            // The controller may be busy for a moment; give up after about a minute.
            Err(e) if tries >= 30 => return Err(e),
            Err(_) => {
                tries += 1;
                std::thread::sleep(Duration::from_secs(2));
            }
        }
    }
}

fn last_line(path: &Path) -> Option<String> {
    let text = std::fs::read(path).ok()?;
    String::from_utf8_lossy(&text)
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| l.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn array_ranges() {
        assert_eq!(ranges(&[0, 1, 2, 3, 5, 7, 8]), "0-3,5,7-8");
        assert_eq!(ranges(&[4]), "4");
    }

    #[test]
    fn the_shard_script_quotes_its_arguments() {
        let text = shard_script_text(
            Path::new("/o u t"),
            &ShardCommand {
                program: "/bin/tiersim".into(),
                args: vec![
                    "sweep".into(),
                    "/s/a b.toml".into(),
                    "--grid".into(),
                    "k=1,2".into(),
                ],
            },
            &Options {
                shards: 12,
                partition: None,
                time: None,
                sbatch_args: Vec::new(),
                resume: false,
                poll: Duration::from_secs(1),
            },
        );
        assert!(text.contains(
            "exec /bin/tiersim sweep '/s/a b.toml' --grid 'k=1,2' --shard-from-env SLURM_ARRAY_TASK_ID/12 --quiet --out '/o u t/shards/shard-'\"$SLURM_ARRAY_TASK_ID\""
        ), "{text}");
    }
}
