//! Running the `twostep` binary and killing it with SIGKILL at a chosen moment: a delay after
//! it started, exactly at one of the core's hook points (the process pauses there), or a
//! short delay after it announced a point (inside the write that follows).

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};
use twostep_core::{ANNOUNCE_ENV, PAUSE_AT_ENV, POINT_MARKER};

/// Longest a run may take before the test gives up on it.
const PATIENCE: Duration = Duration::from_secs(60);

/// When to kill.
#[derive(Debug, Clone)]
pub enum KillAt {
    /// Never: let it run to the end.
    Never,
    /// This long after it was started.
    After(Duration),
    /// At this hook point (`NAME#N`), where the process pauses for the kill.
    Point(String),
    /// This long after it passed this hook point (typically `state.before_write#N`: the kill
    /// lands while the batch is written and flushed).
    AfterPoint(String, Duration),
}

/// How a run ended.
#[derive(Debug)]
pub enum Outcome {
    /// It ran to the end with this exit code, having passed these points (and printed this).
    Finished { code: i32, points: Vec<String>, output: String },
    /// It was killed while running.
    Killed,
}

/// The `twostep` binary for one data dir (and a server, for sign-in).
#[derive(Debug, Clone)]
pub struct Cli {
    pub data_dir: PathBuf,
    pub server: Option<String>,
}

impl Cli {
    pub fn new(data_dir: &Path) -> Self {
        Self { data_dir: data_dir.to_owned(), server: None }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_twostep"));
        if let Some(server) = &self.server {
            command.arg("--server").arg(server);
        }
        command
            .arg("--data-dir")
            .arg(&self.data_dir)
            .args(["--json", "--timeout", "20"])
            .args(args)
            .env_remove("TWOSTEP_SERVER")
            .env_remove("TWOSTEP_DATA_DIR")
            .env_remove("TWOSTEP_KEY_FILE")
            .env_remove(ANNOUNCE_ENV)
            .env_remove(PAUSE_AT_ENV)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    }

    /// Runs `args` with `stdin`, killing the process as `at` says.
    pub fn run(&self, args: &[&str], stdin: &str, at: &KillAt) -> Outcome {
        let mut command = self.command(args);
        match at {
            KillAt::Point(label) => {
                command.env(PAUSE_AT_ENV, label);
            }
            KillAt::Never | KillAt::AfterPoint(..) => {
                command.env(ANNOUNCE_ENV, "1");
            }
            KillAt::After(_) => {}
        }
        let started = Instant::now();
        let mut child = command.spawn().expect("the twostep binary starts");
        // A process killed before it read its input closes the pipe: that is expected.
        let _ = child.stdin.take().expect("stdin").write_all(stdin.as_bytes());
        let lines = read_lines(&mut child);
        let mut seen = vec![];
        match at {
            KillAt::Never => {}
            KillAt::After(delay) => {
                std::thread::sleep((started + *delay).saturating_duration_since(Instant::now()));
                return kill(child, &lines, seen);
            }
            KillAt::Point(label) => {
                let paused = format!("{POINT_MARKER}{label} paused");
                if wait_for(&lines, &mut seen, |line| line == paused) {
                    return kill(child, &lines, seen);
                }
            }
            KillAt::AfterPoint(label, delay) => {
                let passed = format!("{POINT_MARKER}{label}");
                if wait_for(&lines, &mut seen, |line| line == passed) {
                    spin(*delay);
                    return kill(child, &lines, seen);
                }
            }
        }
        let status = wait(&mut child);
        finished(status, &lines, seen)
    }
}

impl Cli {
    /// Runs `args` with `stdin` and kills the process as soon as `now` says so (asked every
    /// millisecond); `Finished` if it ended first.
    pub fn run_until(&self, args: &[&str], stdin: &str, mut now: impl FnMut() -> bool) -> Outcome {
        let mut child = self.command(args).spawn().expect("the twostep binary starts");
        let _ = child.stdin.take().expect("stdin").write_all(stdin.as_bytes());
        let lines = read_lines(&mut child);
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            if child.try_wait().expect("wait").is_some() {
                break;
            }
            if now() {
                return kill(child, &lines, vec![]);
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        let status = wait(&mut child);
        finished(status, &lines, vec![])
    }
}

/// The output lines of `child` (stderr: the points and logs; stdout: the JSON answer, for the
/// message when a run fails), as they come; the channel closes at the end of both.
fn read_lines(child: &mut Child) -> Receiver<String> {
    let (send, receive) = channel();
    let stderr: Box<dyn Read + Send> = Box::new(child.stderr.take().expect("stderr"));
    let stdout: Box<dyn Read + Send> = Box::new(child.stdout.take().expect("stdout"));
    for output in [stderr, stdout] {
        let send = send.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(output).lines() {
                let Ok(line) = line else { return };
                if send.send(line).is_err() {
                    return;
                }
            }
        });
    }
    receive
}

/// Reads lines (keeping them in `seen`) until one matches; false at EOF.
fn wait_for(
    lines: &Receiver<String>,
    seen: &mut Vec<String>,
    found: impl Fn(&str) -> bool,
) -> bool {
    let deadline = Instant::now() + PATIENCE;
    loop {
        match lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) => {
                let hit = found(&line);
                seen.push(line);
                if hit {
                    return true;
                }
            }
            Err(RecvTimeoutError::Disconnected) => return false,
            Err(RecvTimeoutError::Timeout) => panic!("no progress within {PATIENCE:?}: {seen:?}"),
        }
    }
}

/// Waits `delay` without giving the thread up (sleeps are too coarse below a millisecond).
fn spin(delay: Duration) {
    let until = Instant::now() + delay;
    while Instant::now() < until {
        std::hint::spin_loop();
    }
}

/// SIGKILL, unless it has ended already.
fn kill(mut child: Child, lines: &Receiver<String>, seen: Vec<String>) -> Outcome {
    let _ = child.kill(); // SIGKILL; an error means it has exited already.
    let status = wait(&mut child);
    if status.signal() == Some(9) {
        return Outcome::Killed;
    }
    finished(status, lines, seen)
}

fn wait(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the twostep binary did not finish within {PATIENCE:?}");
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn finished(status: ExitStatus, lines: &Receiver<String>, mut seen: Vec<String>) -> Outcome {
    seen.extend(lines.iter());
    let points = seen
        .iter()
        .filter_map(|line| line.strip_prefix(POINT_MARKER))
        .map(|point| point.trim_end_matches(" paused").to_owned())
        .collect();
    let code = status.code().unwrap_or_else(|| panic!("ended by a signal: {status:?}"));
    Outcome::Finished { code, points, output: seen.join("\n") }
}

/// A small, seeded pseudo-random source (splitmix64): the seed is printed, so a failing run
/// can be repeated with `TWOSTEP_CRASH_SEED`.
#[derive(Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Uniform in `[0, max]`, at microsecond resolution.
    pub fn duration(&mut self, max: Duration) -> Duration {
        Duration::from_micros(self.below(max.as_micros() as u64 + 1))
    }
}
