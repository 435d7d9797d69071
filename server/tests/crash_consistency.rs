//! Crash consistency: the real `twostep-server` binary under the load generator's mixed
//! workload is killed with SIGKILL at random moments and restarted on the same data dir; after
//! every restart the store must open and every acknowledged answer must still hold (sessions
//! authenticate, accepted codes are not accepted again, failure counts never go back, locks
//! and waits persist, confirmed channels stay confirmed, audit records exist). Once on the
//! embedded store, once on PostgreSQL (a throwaway cluster). The long run for the record is
//! `scripts/crash-server.sh`; results in `docs/RELIABILITY.md`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use twostep_bench::crash::{CrashConfig, CrashReport, run};

fn seed() -> u64 {
    std::env::var("TWOSTEP_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(twostep_bench::now_ms)
}

/// Runs `kills` kills and checks that nothing acknowledged was lost and that the run really
/// exercised every kind of durable write.
async fn kill_and_check(kills: u64, database_url: Option<String>) -> CrashReport {
    let dir = tempfile::tempdir().unwrap();
    let seed = seed();
    let mut cfg = CrashConfig::short(
        env!("CARGO_BIN_EXE_twostep-server").into(),
        dir.path().to_path_buf(),
        kills,
        seed,
    );
    cfg.database_url = database_url;
    let r = run(cfg).await;
    println!("seed {seed}\n{r}");
    let server_log = std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
    assert!(
        r.check.violations.is_empty(),
        "acknowledged state was lost (seed {seed}):\n{r}\nserver log (end):\n{}",
        &server_log[server_log.len().saturating_sub(4000)..]
    );
    assert_eq!(r.kills, kills, "{r}");
    assert_eq!(r.starts, kills + 1, "{r}");
    // Every answer was one the workload expects for what it sent and what came before (a
    // server error, or a session ended by a kill in the middle of a confirmation, is not).
    assert!(r.workload.unexpected.is_empty(), "unexpected answers (seed {seed}): {r}");
    // The load really exercised every kind of durable write, and the checks really ran.
    for kind in ["step_up", "challenge", "session", "failure", "enrolled"] {
        assert!(r.workload.acks.get(kind).copied().unwrap_or(0) > 0, "no {kind} acknowledged: {r}");
    }
    let locks = r.workload.acks.get("failure_locking").copied().unwrap_or(0)
        + r.workload.acks.get("locked").copied().unwrap_or(0);
    assert!(locks > 0, "no lock acknowledged: {r}");
    let c = &r.check;
    assert_eq!(c.checks, kills + 1);
    assert!(c.sessions > 0 && c.counters > 0 && c.locks > 0 && c.enrollments > 0, "{r}");
    assert!(c.replays_refused > 0, "no replay reached the replay guard: {r}");
    assert!(c.audit_records > 0, "{r}");
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9_under_a_mixed_load() {
    kill_and_check(50, None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_kill_9_on_postgresql() {
    let cluster = twostep_pgtemp::Cluster::shared().expect("a throwaway PostgreSQL cluster");
    let url = cluster.schema_url("crash_consistency").expect("a schema");
    kill_and_check(25, Some(url)).await;
}
