//! Crash consistency of the server: the real binary on a data dir, the mixed workload
//! against it, SIGKILL after a random short delay, restart on the same data dir, and the
//! [`Checker`] against the log of acknowledged answers — many times over.
//!
//! A start that fails (a store that does not open) ends the run with a violation. The store
//! is a parameter: the data dir's embedded store, or a PostgreSQL database
//! ([`CrashConfig::database_url`], or `TWOSTEP_DATABASE_URL` in the environment, which the
//! seed and the server both read). The checks are over HTTP, so they hold for either.

use crate::acklog::AckLog;
use crate::check::{Checker, Report, Sampling};
use crate::process::ServerSpec;
use crate::rng::Rng;
use crate::seed::{self, Counts, Seeded};
use crate::sinks::Sinks;
use crate::stats::{RunStats, Totals};
use crate::workload::{self, Ctx, Mix, Population};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

/// What to run.
#[derive(Debug, Clone)]
pub struct CrashConfig {
    /// The `twostep-server` binary.
    pub server_bin: PathBuf,
    /// Holds the data dir, the users file, the ack log and the server's log.
    pub work_dir: PathBuf,
    pub kills: u64,
    pub counts: Counts,
    pub workers: usize,
    /// The workload runs this long (uniformly drawn, ms) before each kill.
    pub delay_ms: (u64, u64),
    pub seed: u64,
    pub mix: Mix,
    /// Extra server configuration (`TWOSTEP_*`).
    pub env: Vec<(String, String)>,
    /// The store: a PostgreSQL database (empty) instead of the data dir's embedded store.
    pub database_url: Option<String>,
    pub sampling: Sampling,
    /// Scan the whole audit log every this many checks (and at the end).
    pub audit_every: u64,
    pub start_timeout: Duration,
}

impl CrashConfig {
    /// The short run of the test suite: `kills` kills of a debug build on small pools.
    pub fn short(server_bin: PathBuf, work_dir: PathBuf, kills: u64, seed: u64) -> Self {
        Self {
            server_bin,
            work_dir,
            kills,
            counts: Counts { totp: 600, password: 20, wrong: 30, locking: 120, enroll: 150 },
            workers: 6,
            delay_ms: (30, 400),
            seed,
            mix: Mix::CRASH,
            env: Vec::new(),
            database_url: None,
            sampling: Sampling::default(),
            audit_every: 1,
            start_timeout: Duration::from_secs(60),
        }
    }
}

/// What happened.
#[derive(Debug, Clone)]
pub struct CrashReport {
    pub kills: u64,
    pub starts: u64,
    pub elapsed: Duration,
    pub workload: Totals,
    pub check: Report,
}

impl std::fmt::Display for CrashReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let w = &self.workload;
        let c = &self.check;
        writeln!(
            f,
            "{} kills, {} starts in {:.1}s; {} operations, {} requests, {} without answer (killed)",
            self.kills,
            self.starts,
            self.elapsed.as_secs_f64(),
            w.ops.values().sum::<u64>(),
            w.requests,
            w.transport
        )?;
        writeln!(f, "operations: {:?}", w.ops)?;
        writeln!(f, "acknowledged: {:?} ({} log entries checked)", w.acks, c.entries)?;
        writeln!(f, "unexpected answers: {:?}", w.unexpected)?;
        for s in &w.samples {
            writeln!(f, "  {s}")?;
        }
        writeln!(
            f,
            "checks: {} restarts; {} session checks, {} replays refused ({} while waiting), \
             {} counters, {} locks, {} waits, {} enrollments, {} audit records",
            c.checks,
            c.sessions,
            c.replays_refused,
            c.replays_throttled,
            c.counters,
            c.locks,
            c.waits,
            c.enrollments,
            c.audit_records
        )?;
        writeln!(f, "violations: {}", c.violations.len())?;
        for v in &c.violations {
            writeln!(f, "  {v}")?;
        }
        Ok(())
    }
}

/// The server's configuration for a run: deliveries into `sinks`, the per-address budget
/// lifted (every request comes from 127.0.0.1), two hashing threads.
pub fn server_env(sinks: &Sinks, extra: &[(String, String)]) -> Vec<(String, String)> {
    let mut env = sinks.server_env();
    env.push(("TWOSTEP_ADDRESS_FAILURES_PER_MINUTE".into(), "1000000".into()));
    env.push(("TWOSTEP_HASH_THREADS".into(), "2".into()));
    env.extend(extra.iter().cloned());
    env
}

/// Runs the kill loop; see the module docs.
pub async fn run(cfg: CrashConfig) -> CrashReport {
    let t0 = Instant::now();
    std::fs::create_dir_all(&cfg.work_dir).expect("work dir");
    let data_dir = cfg.work_dir.join("data");
    let config = twostep_server::Config {
        data_dir: data_dir.clone(),
        database_url: cfg.database_url.clone().map(twostep_server::config::DatabaseUrl),
        ..Default::default()
    };
    let seeded: Seeded = seed::seed(config, cfg.counts).await;
    seeded.save(&cfg.work_dir.join("users.json"));
    let sinks = Sinks::start().await;
    let mut env = cfg.env.clone();
    if let Some(url) = &cfg.database_url {
        env.push(("TWOSTEP_DATABASE_URL".into(), url.clone()));
    }
    let spec = ServerSpec {
        bin: cfg.server_bin.clone(),
        data_dir,
        env: server_env(&sinks, &env),
        log: cfg.work_dir.join("server.log"),
    };
    let log_path = cfg.work_dir.join("acks.jsonl");
    let log = Arc::new(AckLog::create(&log_path).expect("ack log"));
    let mut checker = Checker::new(&seeded, &log_path, Some(log.clone()), cfg.seed);
    checker.sampling = cfg.sampling;
    let pop = Arc::new(Population::new(&seeded, None));
    let stats = Arc::new(RunStats::default());
    let http = workload::http_client();
    let mut rng = Rng::new(cfg.seed);
    let (mut kills, mut starts) = (0, 0);
    for cycle in 0..=cfg.kills {
        let mut server = match spec.start(cfg.start_timeout) {
            Ok(s) => s,
            Err(e) => {
                checker.report.violations.push(format!("start {cycle}: {e}"));
                break;
            }
        };
        starts += 1;
        let last = cycle == cfg.kills;
        let audit = last || cycle % cfg.audit_every.max(1) == 0;
        if let Err(e) = checker.check(&server.url, cycle, last, audit).await {
            checker.report.violations.push(format!("check after start {cycle}: {e}"));
            break;
        }
        if last {
            if let Err(e) = server.terminate(Duration::from_secs(30)) {
                checker.report.violations.push(format!("graceful stop: {e}"));
            }
            break;
        }
        let ctx = Ctx {
            http: http.clone(),
            url: server.url.clone(),
            log: Some(log.clone()),
            codes: Some(sinks.codes.clone()),
            cycle,
            throttle_expected: true,
            stats: stats.clone(),
        };
        let stop = Arc::new(AtomicBool::new(false));
        let load = tokio::spawn(workload::run_closed(
            ctx,
            pop.clone(),
            cfg.mix,
            cfg.workers,
            stop.clone(),
            cfg.seed.wrapping_add(cycle),
        ));
        tokio::time::sleep(Duration::from_millis(rng.range(cfg.delay_ms.0, cfg.delay_ms.1 + 1)))
            .await;
        server.kill9();
        kills += 1;
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let _ = load.await;
    }
    CrashReport {
        kills,
        starts,
        elapsed: t0.elapsed(),
        workload: stats.totals(),
        check: checker.report,
    }
}
