//! The soak: measure capacity with a short closed-loop ramp of the mixed workload, then run
//! it open-loop at a fixed rate (a fraction of that capacity) for a long time, writing one
//! CSV row per sample period: throughput, errors, latency percentiles, the server's RSS, the
//! data dir's size, the sweeper's counters and the machine's load average.
//!
//! Open loop: operations start on a fixed schedule whether or not earlier ones finished, and
//! a request's latency counts from when it was due, so a stalled server shows as latency
//! instead of silently lowering the rate (no coordinated omission).

use crate::process::{ServerProcess, ServerSpec, dir_size, load_average};
use crate::rng::Rng;
use crate::seed::{self, Counts};
use crate::sinks::Sinks;
use crate::stats::RunStats;
use crate::workload::{self, Ctx, Mix, Population, Recorder, run_op};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// What to run.
#[derive(Debug, Clone)]
pub struct SoakConfig {
    pub server_bin: PathBuf,
    pub work_dir: PathBuf,
    pub counts: Counts,
    pub mix: Mix,
    /// Extra server configuration (`TWOSTEP_*`).
    pub env: Vec<(String, String)>,
    /// Closed-loop worker counts of the ramp, each for `ramp_secs`.
    pub ramp: Vec<usize>,
    pub ramp_secs: u64,
    /// The steady rate as a fraction of the measured capacity.
    pub fraction: f64,
    pub steady_secs: u64,
    pub sample_secs: u64,
    pub csv: PathBuf,
    pub seed: u64,
    /// Operations in flight at most; beyond, scheduled operations are dropped (errors).
    pub max_in_flight: u64,
}

const CSV_HEADER: &str = "minute,elapsed_s,ops,ops_per_s,errors,skipped,dropped,p50_ms,p99_ms,verify_p50_ms,verify_p99_ms,signin_p99_ms,rss_mib,datadir_mib,datadir_disk_mib,audit_records,sweeper_runs,sweeper_scanned,sweeper_removed,load1";

async fn metric(http: &reqwest::Client, url: &str, name: &str) -> u64 {
    let Ok(r) = http.get(format!("{url}/metrics")).send().await else { return 0 };
    let text = r.text().await.unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|v| v.strip_prefix(' ')))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map_or(0, |v| v as u64)
}

fn ctx(url: &str, sinks: &Sinks, stats: &Arc<RunStats>) -> Ctx {
    Ctx {
        http: workload::http_client(),
        url: url.to_owned(),
        log: None,
        codes: Some(sinks.codes.clone()),
        cycle: 0,
        throttle_expected: false,
        stats: stats.clone(),
    }
}

/// The closed-loop ramp; returns the best throughput (operations/s).
async fn ramp(cfg: &SoakConfig, url: &str, sinks: &Sinks, pop: &Arc<Population>) -> f64 {
    let mut best: f64 = 0.0;
    for (i, &workers) in cfg.ramp.iter().enumerate() {
        let stats = Arc::new(RunStats::default());
        let stop = Arc::new(AtomicBool::new(false));
        let t = Instant::now();
        let run = tokio::spawn(workload::run_closed(
            ctx(url, sinks, &stats),
            pop.clone(),
            cfg.mix,
            workers,
            stop.clone(),
            cfg.seed + i as u64,
        ));
        tokio::time::sleep(Duration::from_secs(cfg.ramp_secs)).await;
        stop.store(true, Ordering::Relaxed);
        let ops = run.await.unwrap_or(0);
        let rate = ops as f64 / t.elapsed().as_secs_f64();
        let mut w = stats.take_window();
        let totals = stats.totals();
        println!(
            "ramp: {workers:>3} workers: {rate:>7.1} ops/s, p50 {:.1} ms, p99 {:.1} ms, errors {} {:?}",
            w.quantile_ms(0.5, |_| true),
            w.quantile_ms(0.99, |_| true),
            totals.errors(),
            totals.unexpected
        );
        for sample in &totals.samples {
            println!("  {sample}");
        }
        w.latencies.clear();
        if rate < best * 1.03 && i > 0 {
            best = best.max(rate);
            break;
        }
        best = best.max(rate);
    }
    best
}

/// Runs the soak; returns whether it finished with zero errors.
pub async fn run(cfg: SoakConfig) -> bool {
    std::fs::create_dir_all(&cfg.work_dir).expect("work dir");
    let data_dir = cfg.work_dir.join("data");
    let config = twostep_server::Config { data_dir: data_dir.clone(), ..Default::default() };
    let seeded = seed::seed(config, cfg.counts).await;
    census(&data_dir, "seeded").await;
    let sinks = Sinks::start().await;
    let spec = ServerSpec {
        bin: cfg.server_bin.clone(),
        data_dir: data_dir.clone(),
        env: crate::crash::server_env(&sinks, &cfg.env),
        log: cfg.work_dir.join("server.log"),
    };
    let mut server: ServerProcess = spec.start(Duration::from_secs(60)).expect("server starts");
    let url = server.url.clone();
    let pop = Arc::new(Population::new(&seeded, Some(twostep_server::throttle::FREE_FAILURES)));
    println!(
        "== soak: {} cores, load average {:.2}, server pid {}",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        load_average(),
        server.pid()
    );
    let capacity = ramp(&cfg, &url, &sinks, &pop).await;
    let rate = capacity * cfg.fraction;
    println!("capacity {capacity:.1} ops/s; steady rate {rate:.1} ops/s for {} s", cfg.steady_secs);

    let stats = Arc::new(RunStats::default());
    let ctx = ctx(&url, &sinks, &stats);
    let skipped = Arc::new(AtomicU64::new(0));
    let dropped = Arc::new(AtomicU64::new(0));
    let in_flight = Arc::new(AtomicU64::new(0));
    let mut csv = std::fs::File::create(&cfg.csv).expect("csv");
    writeln!(csv, "{CSV_HEADER}").unwrap();
    let start = Instant::now();
    let sample = Duration::from_secs(cfg.sample_secs.max(1));
    let mut next_sample = start + sample;
    let mut rng = Rng::new(cfg.seed ^ 0x50a4);
    let mut issued: u64 = 0;
    let mut minute = 0;
    let (mut total_ops, mut total_skipped) = (0, 0);
    let http = workload::http_client();
    let rows = (cfg.steady_secs / sample.as_secs()).max(1);
    while minute < rows {
        let due = (start.elapsed().as_secs_f64() * rate) as u64;
        while issued < due {
            let scheduled = start + Duration::from_secs_f64(issued as f64 / rate);
            issued += 1;
            let kind = cfg.mix.pick(&mut rng);
            if in_flight.load(Ordering::Relaxed) >= cfg.max_in_flight {
                dropped.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            in_flight.fetch_add(1, Ordering::Relaxed);
            let (ctx, pop, skipped, in_flight) =
                (ctx.clone(), pop.clone(), skipped.clone(), in_flight.clone());
            tokio::spawn(async move {
                let mut rec = Recorder::new(0, Some(scheduled));
                match run_op(&ctx, &pop, kind, &mut rec).await {
                    None => {
                        skipped.fetch_add(1, Ordering::Relaxed);
                    }
                    Some(result) => rec.finish(&ctx, kind, result).await,
                }
                in_flight.fetch_sub(1, Ordering::Relaxed);
            });
        }
        if Instant::now() >= next_sample {
            next_sample += sample;
            minute += 1;
            let w = stats.take_window();
            let elapsed = start.elapsed().as_secs_f64();
            let (skipped_now, dropped_now) =
                (skipped.swap(0, Ordering::Relaxed), dropped.swap(0, Ordering::Relaxed));
            let audit_records = stats.totals().audit_records;
            let (apparent, disk) = dir_size(&data_dir);
            let mib = |b: u64| b as f64 / 1_048_576.0;
            let verify = |r: &str| r == "verify";
            let signin = |r: &str| r.starts_with("sign_in");
            let row = format!(
                "{minute},{elapsed:.0},{},{:.1},{},{skipped_now},{dropped_now},{:.2},{:.2},{:.2},{:.2},{:.2},{:.1},{:.1},{:.1},{audit_records},{},{},{},{:.2}",
                w.ops,
                w.ops as f64 / sample.as_secs_f64(),
                w.errors,
                w.quantile_ms(0.5, |_| true),
                w.quantile_ms(0.99, |_| true),
                w.quantile_ms(0.5, verify),
                w.quantile_ms(0.99, verify),
                w.quantile_ms(0.99, signin),
                server.rss_kib().unwrap_or(0) as f64 / 1024.0,
                mib(apparent),
                mib(disk),
                metric(&http, &url, "twostep_sweeper_runs_total").await,
                metric(&http, &url, "twostep_sweeper_scanned_total").await,
                metric(&http, &url, "twostep_sweeper_removed_total").await,
                load_average(),
            );
            println!("{row}");
            writeln!(csv, "{row}").unwrap();
            total_ops += w.ops;
            total_skipped += skipped_now + dropped_now;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    // Let the last operations finish.
    let t = Instant::now();
    while in_flight.load(Ordering::Relaxed) > 0 && t.elapsed() < Duration::from_secs(30) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let totals = stats.totals();
    let stopped = server.terminate(Duration::from_secs(30));
    println!(
        "steady: {total_ops} operations ({} requests), {} errors, {total_skipped} skipped or dropped, \
         graceful stop: {stopped:?}",
        totals.requests,
        totals.errors()
    );
    println!("operations: {:?}", totals.ops);
    census(&data_dir, "after").await;
    println!("acknowledged: {:?}", totals.acks);
    if !totals.unexpected.is_empty() {
        println!("unexpected: {:?}", totals.unexpected);
        for s in &totals.samples {
            println!("  {s}");
        }
    }
    totals.errors() == 0 && total_skipped == 0 && stopped.is_ok()
}

/// Records and value bytes per tree of the data dir's embedded store (the server stopped);
/// nothing when a database is configured.
async fn census(data_dir: &std::path::Path, when: &str) {
    use twostep_server::store::{SledStore, Store, Tree};
    if std::env::var_os("TWOSTEP_DATABASE_URL").is_some() {
        return;
    }
    let store = match SledStore::open(&data_dir.join("db")) {
        Ok(s) => s,
        Err(e) => {
            println!("census {when}: {e}");
            return;
        }
    };
    let mut line = format!("records per tree, {when} (count/KiB):");
    for tree in Tree::ALL {
        let (mut n, mut bytes, mut after) = (0u64, 0u64, None::<Vec<u8>>);
        loop {
            let Ok(batch) = store.scan(tree, b"", after.as_deref(), 10_000).await else { break };
            n += batch.len() as u64;
            bytes += batch.iter().map(|(k, v)| (k.len() + v.len()) as u64).sum::<u64>();
            match batch.last() {
                Some((k, _)) if batch.len() == 10_000 => after = Some(k.clone()),
                _ => break,
            }
        }
        if n > 0 {
            line.push_str(&format!(" {} {n}/{}", tree.name(), bytes / 1024));
        }
    }
    println!("{line}");
}
