//! The real `twostep-server` binary as a child process: started on 127.0.0.1:0 (the address
//! is read from its own "listening on" line), killed with SIGKILL or stopped with SIGTERM,
//! and measured from `/proc`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Servers this process started and has not reaped (killed if this process is interrupted).
static LIVE: Mutex<Vec<u32>> = Mutex::new(Vec::new());

fn forget(pid: u32) {
    if let Ok(mut live) = LIVE.lock() {
        live.retain(|p| *p != pid);
    }
}

/// On SIGINT or SIGTERM: SIGKILL every server this process started, then exit, so that an
/// interrupted run leaves no server behind.
pub fn kill_servers_on_interrupt() {
    tokio::spawn(async {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut int), Ok(mut term)) =
            (signal(SignalKind::interrupt()), signal(SignalKind::terminate()))
        else {
            return;
        };
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
        let pids = LIVE.lock().map(|l| l.clone()).unwrap_or_default();
        for pid in pids {
            let _ = Command::new("kill").arg("-KILL").arg(pid.to_string()).status();
        }
        std::process::exit(130);
    });
}

/// How to start the server.
#[derive(Debug, Clone)]
pub struct ServerSpec {
    /// The `twostep-server` binary.
    pub bin: PathBuf,
    pub data_dir: PathBuf,
    /// Extra environment (`TWOSTEP_*` configuration).
    pub env: Vec<(String, String)>,
    /// Where its stderr goes (appended across starts).
    pub log: PathBuf,
}

/// A running server.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    pub url: String,
}

impl ServerSpec {
    /// Starts the server and waits until it listens; an error carries the end of its log
    /// (e.g. a store that does not open).
    pub fn start(&self, timeout: Duration) -> Result<ServerProcess, String> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|e| format!("{}: {e}", self.log.display()))?;
        let offset = log.metadata().map(|m| m.len()).unwrap_or(0) as usize;
        let mut child = Command::new(&self.bin)
            .arg("serve")
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&self.data_dir)
            .env("TWOSTEP_LOG", "warn")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("spawn {}: {e}", self.bin.display()))?;
        if let Ok(mut live) = LIVE.lock() {
            live.push(child.id());
        }
        let started = Instant::now();
        loop {
            let text = std::fs::read(&self.log).unwrap_or_default();
            let mine = String::from_utf8_lossy(text.get(offset..).unwrap_or_default()).into_owned();
            if let Some(i) = mine.find("listening on http://") {
                let rest = &mine[i + "listening on ".len()..];
                let url = rest.split_whitespace().next().unwrap_or_default().to_owned();
                return Ok(ServerProcess { child, url });
            }
            if let Ok(Some(status)) = child.try_wait() {
                forget(child.id());
                return Err(format!(
                    "the server exited ({status}) before listening:\n{}",
                    tail(&mine)
                ));
            }
            if started.elapsed() > timeout {
                let _ = child.kill();
                let _ = child.wait();
                forget(child.id());
                return Err(format!(
                    "the server did not listen within {timeout:?}:\n{}",
                    tail(&mine)
                ));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

fn tail(s: &str) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

impl ServerProcess {
    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGKILL, then reaps it.
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        forget(self.child.id());
    }

    /// SIGTERM (a graceful stop: in-flight requests finish, the store is flushed); SIGKILL
    /// if it has not exited within `timeout`. Whether it exited by itself and cleanly.
    pub fn terminate(&mut self, timeout: Duration) -> Result<(), String> {
        let _ = Command::new("kill").arg("-TERM").arg(self.pid().to_string()).status();
        let t = Instant::now();
        while t.elapsed() < timeout {
            if let Ok(Some(status)) = self.child.try_wait() {
                return if status.success() {
                    Ok(())
                } else {
                    Err(format!("exited with {status}"))
                };
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.kill9();
        Err(format!("did not stop within {timeout:?} of SIGTERM"))
    }

    /// Resident memory (VmRSS) in KiB, from `/proc/PID/status`.
    pub fn rss_kib(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        line.split_whitespace().nth(1)?.parse().ok()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.kill9();
        }
    }
}

/// Bytes under `dir`: (sum of file lengths, blocks allocated on disk).
pub fn dir_size(dir: &Path) -> (u64, u64) {
    use std::os::unix::fs::MetadataExt;
    let mut total = (0, 0);
    let Ok(entries) = std::fs::read_dir(dir) else { return total };
    for e in entries.flatten() {
        let Ok(m) = e.metadata() else { continue };
        if m.is_dir() {
            let (a, b) = dir_size(&e.path());
            total = (total.0 + a, total.1 + b);
        } else {
            total = (total.0 + m.len(), total.1 + m.blocks() * 512);
        }
    }
    total
}

/// The 1-minute load average.
pub fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0.0)
}
