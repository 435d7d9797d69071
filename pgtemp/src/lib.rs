//! A throwaway PostgreSQL cluster for tests, started from the Debian `postgresql` binaries.
//!
//! `initdb` in a fresh temp dir, `pg_ctl start` on 127.0.0.1 with a free port and the socket
//! in that dir, trust authentication for the `postgres` role. PostgreSQL refuses to run as
//! root, so as root everything runs through `runuser -u postgres` (the Debian package creates
//! that user).
//!
//! Teardown must happen even when a test panics or the test process is killed, and statics
//! are never dropped. So before `initdb` a small watchdog shell is spawned in its own process
//! group (Ctrl-C does not reach it) with a pipe as its stdin that only this process holds:
//! when the process ends, however it ends, the pipe closes and the watchdog stops the cluster
//! and removes the directory. [`Cluster::shared`] is one cluster per test process; dropping a
//! [`Cluster`] made with [`Cluster::start`] tears it down at once.

use std::io::Read;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock};

/// How to run the cluster.
#[derive(Debug, Clone)]
pub struct Options {
    /// `fsync` on (benchmarks: real durability) or off (tests: less disk traffic on a
    /// shared machine; a crash of PostgreSQL itself is not what tests simulate).
    pub fsync: bool,
    /// `max_connections`.
    pub max_connections: u32,
    /// More `-c name=value` settings.
    pub settings: Vec<(String, String)>,
}

impl Default for Options {
    fn default() -> Self {
        Self { fsync: false, max_connections: 300, settings: Vec::new() }
    }
}

/// A running cluster; see the crate docs.
#[derive(Debug)]
pub struct Cluster {
    dir: PathBuf,
    port: u16,
    bin: PathBuf,
    as_postgres: bool,
    watchdog: Mutex<Option<(Child, ChildStdin)>>,
}

/// Why a cluster could not start.
#[derive(Debug)]
pub struct Error(pub String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

fn err(what: &str, e: impl std::fmt::Display) -> Error {
    Error(format!("{what}: {e}"))
}

/// The directory with `initdb` and `pg_ctl`: `$TWOSTEP_PG_BIN`, else the newest
/// `/usr/lib/postgresql/*/bin` (Debian), else whatever `PATH` has.
pub fn bin_dir() -> Result<PathBuf, Error> {
    if let Some(p) = std::env::var_os("TWOSTEP_PG_BIN") {
        return Ok(PathBuf::from(p));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|d| {
            d.filter_map(Result::ok)
                .filter_map(|e| {
                    let v = e.file_name().to_str()?.parse::<u32>().ok()?;
                    let bin = e.path().join("bin");
                    bin.join("initdb").exists().then_some((v, bin))
                })
                .collect()
        })
        .unwrap_or_default();
    versions.sort();
    if let Some((_, bin)) = versions.pop() {
        return Ok(bin);
    }
    for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
        if dir.join("initdb").exists() {
            return Ok(dir);
        }
    }
    Err(Error(
        "PostgreSQL is not installed (apt-get install postgresql, or set TWOSTEP_PG_BIN)".into(),
    ))
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn free_port() -> Result<u16, Error> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| err("bind a free port", e))?;
    Ok(l.local_addr().map_err(|e| err("local addr", e))?.port())
}

fn run(mut cmd: Command, what: &str) -> Result<(), Error> {
    let out = cmd.output().map_err(|e| err(what, e))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(Error(format!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )))
    }
}

impl Cluster {
    /// One cluster per process with the default (test) options, started on first use and
    /// torn down by the watchdog when the process exits.
    pub fn shared() -> Result<&'static Cluster, Error> {
        static SHARED: OnceLock<Result<Cluster, String>> = OnceLock::new();
        SHARED
            .get_or_init(|| Cluster::start(&Options::default()).map_err(|e| e.0))
            .as_ref()
            .map_err(|e| Error(e.clone()))
    }

    /// Starts a new cluster (about 3 s).
    pub fn start(opts: &Options) -> Result<Cluster, Error> {
        let bin = bin_dir()?;
        let as_postgres = running_as_root();
        let dir = std::env::temp_dir().join(format!(
            "twostep-pg-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        std::fs::create_dir(&dir).map_err(|e| err("create the cluster dir", e))?;
        let mut cluster = Cluster { dir, port: 0, bin, as_postgres, watchdog: Mutex::new(None) };
        cluster.spawn_watchdog()?;
        if as_postgres {
            let mut c = Command::new("chown");
            c.arg("postgres:").arg(&cluster.dir);
            run(c, "chown the cluster dir to postgres")?;
        }
        let mut init = cluster.command("initdb");
        init.arg("-D").arg(cluster.dir.join("db")).args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ]);
        run(init, "initdb")?;
        let mut last = None;
        for _ in 0..5 {
            cluster.port = free_port()?;
            let mut o = format!(
                "-p {} -k {} -c listen_addresses=127.0.0.1 -c max_connections={} -c fsync={}",
                cluster.port,
                cluster.dir.display(),
                opts.max_connections,
                if opts.fsync { "on" } else { "off" }
            );
            for (k, v) in &opts.settings {
                o.push_str(&format!(" -c {k}={v}"));
            }
            let mut start = cluster.command("pg_ctl");
            start
                .arg("-D")
                .arg(cluster.dir.join("db"))
                .arg("-l")
                .arg(cluster.dir.join("server.log"))
                .args(["-w", "-t", "60", "-o", &o, "start"])
                .stdin(Stdio::null())
                // Its own process group: a Ctrl-C on the test run does not stop PostgreSQL
                // under the watchdog's feet.
                .process_group(0);
            match run(start, "pg_ctl start") {
                Ok(()) => return Ok(cluster),
                Err(e) => last = Some(e),
            }
        }
        let log = std::fs::read_to_string(cluster.dir.join("server.log")).unwrap_or_default();
        Err(Error(format!("{}\n{log}", last.map(|e| e.0).unwrap_or_default())))
    }

    fn command(&self, tool: &str) -> Command {
        let path = self.bin.join(tool);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    fn spawn_watchdog(&mut self) -> Result<(), Error> {
        let stop = self.command("pg_ctl");
        let prog: Vec<String> = std::iter::once(stop.get_program())
            .chain(stop.get_args())
            .map(|s| shell_quote(&s.to_string_lossy()))
            .collect();
        let script = format!(
            "trap '' INT TERM HUP\n\
             while read -r _; do :; done\n\
             {} -D \"$1/db\" stop -m immediate -w >/dev/null 2>&1\n\
             rm -rf \"$1\"\n",
            prog.join(" ")
        );
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg("sh")
            .arg(&self.dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .map_err(|e| err("spawn the cluster watchdog", e))?;
        let stdin = child.stdin.take().ok_or_else(|| Error("watchdog stdin".into()))?;
        *self.watchdog.lock().map_err(|_| Error("watchdog lock".into()))? = Some((child, stdin));
        Ok(())
    }

    /// The TCP port on 127.0.0.1.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The cluster's directory (data files in `db/`, the log in `server.log`).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `postgres://postgres@127.0.0.1:PORT/DATABASE`.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// A URL whose connections use `schema` (created here if missing) as their search
    /// path: one cluster serves many isolated stores at the cost of a `CREATE SCHEMA`.
    pub fn schema_url(&self, schema: &str) -> Result<String, Error> {
        if schema.is_empty()
            || !schema.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(Error(format!("schema name {schema:?}: use a-z 0-9 _")));
        }
        self.psql("postgres", &format!("CREATE SCHEMA IF NOT EXISTS {schema}"))?;
        Ok(format!("{}?options=-c%20search_path%3D{schema}", self.url("postgres")))
    }

    /// Runs SQL with `psql` and returns its unaligned, tuples-only output.
    pub fn psql(&self, database: &str, sql: &str) -> Result<String, Error> {
        let psql = self.bin.join("psql");
        let out = Command::new(psql)
            .args([
                "-X",
                "-q",
                "-A",
                "-t",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
            ])
            .arg("-p")
            .arg(self.port.to_string())
            .arg("-d")
            .arg(database)
            .arg("-c")
            .arg(sql)
            .output()
            .map_err(|e| err("psql", e))?;
        if !out.status.success() {
            return Err(Error(format!("psql: {}", String::from_utf8_lossy(&out.stderr))));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_owned())
    }

    /// Stops the cluster and removes its directory, waiting until both are done.
    pub fn stop(&self) {
        let taken = self.watchdog.lock().ok().and_then(|mut g| g.take());
        if let Some((mut child, stdin)) = taken {
            drop(stdin);
            let _ = child.wait();
            if let Some(mut e) = child.stderr.take() {
                let _ = e.read_to_end(&mut Vec::new());
            }
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.stop();
    }
}

fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn starts_answers_and_is_removed_on_drop() {
        let c = Cluster::start(&Options::default()).expect("cluster starts");
        let dir = c.dir().to_owned();
        assert!(dir.join("db/PG_VERSION").exists());
        assert_eq!(c.psql("postgres", "SELECT 40 + 2").unwrap(), "42");
        let url = c.schema_url("t_one").unwrap();
        assert!(url.contains("search_path%3Dt_one"));
        assert_eq!(
            c.psql("postgres", "SELECT count(*) FROM pg_namespace WHERE nspname = 't_one'")
                .unwrap(),
            "1"
        );
        assert!(c.schema_url("Robert'); DROP").is_err());
        drop(c);
        assert!(!dir.exists(), "the cluster dir is removed");
    }

    #[test]
    fn a_killed_owner_still_removes_its_cluster() {
        // A child process (this test binary, filtered to the helper below) starts a cluster,
        // prints its dir and is killed with SIGKILL: the watchdog must clean up.
        if std::env::var_os("TWOSTEP_PGTEMP_CHILD").is_some() {
            return;
        }
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "tests::child_starts_a_cluster_and_waits",
                "--nocapture",
                "--include-ignored",
            ])
            .env("TWOSTEP_PGTEMP_CHILD", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let out = std::io::BufReader::new(child.stdout.take().unwrap());
        let dir = std::io::BufRead::lines(out)
            .map(Result::unwrap)
            .find_map(|l| l.strip_prefix("CLUSTER ").map(PathBuf::from))
            .expect("the child prints its cluster dir");
        assert!(dir.join("db/PG_VERSION").exists());
        child.kill().unwrap();
        child.wait().unwrap();
        for _ in 0..200 {
            if !dir.exists() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("{} still exists after its owner was killed", dir.display());
    }

    #[test]
    #[ignore = "helper run by a_killed_owner_still_removes_its_cluster"]
    fn child_starts_a_cluster_and_waits() {
        if std::env::var_os("TWOSTEP_PGTEMP_CHILD").is_none() {
            return;
        }
        let c = Cluster::shared().unwrap();
        println!("CLUSTER {}", c.dir().display());
        std::thread::sleep(std::time::Duration::from_secs(120));
    }
}
