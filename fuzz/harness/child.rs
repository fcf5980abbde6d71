//! One command of a case: the real binary in a child process, with a wall-clock timeout
//! and resource limits, its stderr kept for classification.
//!
//! Limits are `setrlimit` calls in the child between `fork` and `exec` (a `pre_exec`
//! hook): `RLIMIT_AS` (address space, the memory limit), `RLIMIT_FSIZE` (a runaway output
//! file dies of `SIGXFSZ` instead of filling the disk) and `RLIMIT_CORE` = 0 (an abort
//! leaves no core file). It knows processes and limits, not what tiersim's commands mean.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The limits every command of a case runs under.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Wall-clock time before the child is killed.
    pub timeout: Duration,
    /// Address space, bytes (`RLIMIT_AS`).
    pub memory: u64,
    /// Largest file the child may write, bytes (`RLIMIT_FSIZE`).
    pub file_size: u64,
}

/// How a child ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// It exited with this code.
    Exited(i32),
    /// A signal ended it (not ours).
    Signaled(i32),
    /// It ran past the timeout and was killed.
    TimedOut,
}

/// A finished command.
#[derive(Clone, Debug)]
pub struct Finished {
    /// How it ended.
    pub status: Status,
    /// Its stderr, the first 64 KiB, lossily decoded.
    pub stderr: String,
    /// Wall-clock time it took.
    pub elapsed: Duration,
}

/// The most stderr kept: a panic's message and location come first.
const STDERR_KEPT: u64 = 64 << 10;

/// Runs `bin args` in `dir` under `limits`, stdout discarded, stderr captured through
/// `stderr_file` (a file, not a pipe, so a chatty child never blocks on a full pipe).
pub fn run(
    bin: &Path,
    args: &[String],
    dir: &Path,
    stderr_file: &Path,
    limits: Limits,
) -> std::io::Result<Finished> {
    let err = File::create(stderr_file)?;
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(err))
        // Short, stable stderr: a panic's first lines without a backtrace.
        .env("RUST_BACKTRACE", "0")
        // The harness runs cases in parallel; each child keeps to one core.
        .env("RAYON_NUM_THREADS", "1");
    limit(&mut cmd, limits);
    let start = Instant::now();
    let mut child = cmd.spawn()?;
    // Poll with a growing pause: most commands end within tens of milliseconds.
    let mut pause = Duration::from_micros(500);
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break exit_status(s);
        }
        if start.elapsed() >= limits.timeout {
            // Ours to end: the child we spawned, by its handle.
            let _ = child.kill();
            let _ = child.wait();
            break Status::TimedOut;
        }
        std::thread::sleep(pause.min(limits.timeout.saturating_sub(start.elapsed())));
        pause = (pause * 2).min(Duration::from_millis(20));
    };
    let elapsed = start.elapsed();
    let mut bytes = Vec::new();
    File::open(stderr_file)?
        .take(STDERR_KEPT)
        .read_to_end(&mut bytes)?;
    Ok(Finished {
        status,
        stderr: String::from_utf8_lossy(&bytes).into_owned(),
        elapsed,
    })
}

#[cfg(unix)]
fn exit_status(s: std::process::ExitStatus) -> Status {
    use std::os::unix::process::ExitStatusExt;
    match (s.code(), s.signal()) {
        (Some(code), _) => Status::Exited(code),
        (None, Some(sig)) => Status::Signaled(sig),
        (None, None) => Status::Exited(-1),
    }
}

#[cfg(not(unix))]
fn exit_status(s: std::process::ExitStatus) -> Status {
    Status::Exited(s.code().unwrap_or(-1))
}

/// Installs the limits in the child before it executes the binary.
#[cfg(target_os = "linux")]
#[allow(unsafe_code)]
fn limit(cmd: &mut Command, limits: Limits) {
    use std::os::unix::process::CommandExt;
    let set = |resource, bytes: u64| {
        let l = libc::rlimit {
            rlim_cur: bytes,
            rlim_max: bytes,
        };
        // SAFETY: setrlimit is async-signal-safe and touches only this process's limits.
        if unsafe { libc::setrlimit(resource, &l) } == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    };
    // SAFETY: the hook runs in the forked child and calls only setrlimit, which is
    // async-signal-safe; it allocates nothing and takes no lock.
    unsafe {
        cmd.pre_exec(move || {
            set(libc::RLIMIT_AS, limits.memory)?;
            set(libc::RLIMIT_FSIZE, limits.file_size)?;
            set(libc::RLIMIT_CORE, 0)
        });
    }
}

/// Elsewhere the timeout still holds, but memory and file sizes are not limited.
#[cfg(not(target_os = "linux"))]
fn limit(_cmd: &mut Command, _limits: Limits) {}

/// Whether commands run under the memory limit on this platform.
pub const LIMITS_ENFORCED: bool = cfg!(target_os = "linux");

/// A signal's name, for reports.
pub fn signal_name(sig: i32) -> String {
    let name = match sig {
        1 => "SIGHUP",
        2 => "SIGINT",
        4 => "SIGILL",
        5 => "SIGTRAP",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        15 => "SIGTERM",
        24 => "SIGXCPU",
        25 => "SIGXFSZ",
        _ => return format!("signal {sig}"),
    };
    name.to_owned()
}
