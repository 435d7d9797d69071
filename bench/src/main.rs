//! `twostep-loadgen`: seeds a server data dir with benchmark users, drives a running
//! `twostep-server` over loopback HTTP and prints throughput and latency percentiles; runs
//! the crash-consistency kill loop and the soak (see the library's docs).

// A benchmark tool: any failure should stop it loudly.
#![allow(clippy::unwrap_used)]

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use twostep_bench::seed::{Counts, seed};
use twostep_bench::throughput::{self, Load};
use twostep_bench::workload::Mix;
use twostep_bench::{crash, soak};

#[derive(Parser, Debug)]
#[command(name = "twostep-loadgen")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(clap::Args, Debug, Clone)]
struct SeedCounts {
    /// Users with an authenticator.
    #[arg(long, default_value_t = 30_000)]
    totp_users: usize,
    /// Users without two-step (password sign-ins).
    #[arg(long, default_value_t = 64)]
    password_users: usize,
    /// Users who only get wrong codes and passwords.
    #[arg(long, default_value_t = 0)]
    wrong_users: usize,
    /// Users one failure short of the lock.
    #[arg(long, default_value_t = 0)]
    locking_users: usize,
    /// Users without two-step who enroll one channel.
    #[arg(long, default_value_t = 0)]
    enroll_users: usize,
}

impl SeedCounts {
    fn counts(&self) -> Counts {
        Counts {
            totp: self.totp_users,
            password: self.password_users,
            wrong: self.wrong_users,
            locking: self.locking_users,
            enroll: self.enroll_users,
        }
    }
}

#[derive(clap::Args, Debug, Clone)]
struct LoadArgs {
    #[arg(long)]
    url: String,
    #[arg(long)]
    users: PathBuf,
    #[arg(long, default_value_t = 10)]
    duration_secs: u64,
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
}

impl From<LoadArgs> for Load {
    fn from(l: LoadArgs) -> Self {
        Load {
            url: l.url,
            users: l.users,
            duration_secs: l.duration_secs,
            concurrency: l.concurrency,
        }
    }
}

fn mix(s: &Option<String>, default: Mix) -> Mix {
    s.as_deref().map_or(default, |s| Mix::parse(s).unwrap_or_else(|e| panic!("--mix: {e}")))
}

fn seed_value(s: Option<u64>) -> u64 {
    s.unwrap_or_else(twostep_bench::now_ms)
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Seed a (stopped) server's data dir (or the database TWOSTEP_DATABASE_URL names).
    Seed {
        #[arg(long)]
        data_dir: PathBuf,
        #[command(flatten)]
        counts: SeedCounts,
        /// Where to write the credentials file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Step-up TOTP verifications.
    Totp(LoadArgs),
    /// Password sign-ins.
    Signin(LoadArgs),
    /// A sign-in flood plus verifications; reports verification latency.
    Mixed {
        #[command(flatten)]
        load: LoadArgs,
        /// Concurrent verification workers during the flood.
        #[arg(long, default_value_t = 4)]
        verify_concurrency: usize,
    },
    /// Write a wrk Lua script with never-used (token, code) pairs for the next two steps,
    /// ordered so that each user's codes go out in step order.
    WrkScript {
        #[arg(long)]
        users: PathBuf,
        #[arg(long)]
        out: PathBuf,
        /// wrk threads (-t) that will share the list.
        #[arg(long, default_value_t = 2)]
        threads: usize,
        /// Use only N users (leave the rest for later phases).
        #[arg(long, default_value_t = usize::MAX)]
        first: usize,
        /// Start after this many users (an earlier phase used them).
        #[arg(long, default_value_t = 0)]
        skip: usize,
    },
    /// Time one Argon2id hash (server parameters) in this process.
    HashCost {
        #[arg(long, default_value_t = 20)]
        samples: usize,
    },
    /// Crash consistency: the mixed workload against the real server, kill -9 after a random
    /// delay, restart, check every acknowledged answer; `--kills` times. Exits 1 on a violation.
    Crash {
        /// The twostep-server binary.
        #[arg(long)]
        server_bin: PathBuf,
        /// Empty directory for the data dir, users, ack log and server log.
        #[arg(long)]
        work_dir: PathBuf,
        #[arg(long, default_value_t = 500)]
        kills: u64,
        #[arg(long, default_value_t = 8)]
        workers: usize,
        #[arg(long, default_value_t = 50)]
        min_delay_ms: u64,
        #[arg(long, default_value_t = 1500)]
        max_delay_ms: u64,
        /// Full audit scan every N restarts.
        #[arg(long, default_value_t = 5)]
        audit_every: u64,
        /// Random seed (default: the time).
        #[arg(long)]
        seed: Option<u64>,
        /// Operation weights, e.g. step_up=40,wrong_code=20,... (default: the crash mix).
        #[arg(long)]
        mix: Option<String>,
        #[command(flatten)]
        counts: SeedCounts,
    },
    /// Soak: capacity ramp, then a fixed rate near `--fraction` of it for `--steady-secs`,
    /// one CSV row per `--sample-secs`. Exits 1 if any request failed.
    Soak {
        #[arg(long)]
        server_bin: PathBuf,
        #[arg(long)]
        work_dir: PathBuf,
        #[arg(long)]
        csv: PathBuf,
        /// Closed-loop worker counts of the ramp.
        #[arg(long, value_delimiter = ',', default_value = "2,4,8,16,32")]
        ramp: Vec<usize>,
        #[arg(long, default_value_t = 15)]
        ramp_secs: u64,
        #[arg(long, default_value_t = 0.7)]
        fraction: f64,
        #[arg(long, default_value_t = 600)]
        steady_secs: u64,
        #[arg(long, default_value_t = 60)]
        sample_secs: u64,
        #[arg(long, default_value_t = 5000)]
        max_in_flight: u64,
        /// Server configuration as NAME=VALUE (repeatable), e.g. TWOSTEP_SESSION_TTL_SECS=120.
        #[arg(long = "server-env")]
        server_env: Vec<String>,
        #[arg(long)]
        seed: Option<u64>,
        #[arg(long)]
        mix: Option<String>,
        #[command(flatten)]
        counts: SeedCounts,
    },
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    twostep_bench::process::kill_servers_on_interrupt();
    match cli.cmd {
        Cmd::Seed { data_dir, counts, out } => {
            let config = twostep_server::Config { data_dir, ..Default::default() };
            seed(config, counts.counts()).await.save(&out);
        }
        Cmd::WrkScript { users, out, threads, first, skip } => {
            throughput::wrk_script(&users, &out, threads, skip, first)
        }
        Cmd::HashCost { samples } => throughput::hash_cost(samples),
        Cmd::Totp(l) => throughput::totp(l.into()).await,
        Cmd::Signin(l) => throughput::signin(l.into()).await,
        Cmd::Mixed { load, verify_concurrency } => {
            throughput::flood(load.into(), verify_concurrency).await
        }
        Cmd::Crash {
            server_bin,
            work_dir,
            kills,
            workers,
            min_delay_ms,
            max_delay_ms,
            audit_every,
            seed,
            mix: m,
            counts,
        } => {
            let seed = seed_value(seed);
            println!("== crash: seed {seed}, {kills} kills");
            let mut cfg = crash::CrashConfig::short(server_bin, work_dir, kills, seed);
            cfg.counts = counts.counts();
            cfg.workers = workers;
            cfg.delay_ms = (min_delay_ms, max_delay_ms);
            cfg.audit_every = audit_every;
            cfg.mix = mix(&m, Mix::CRASH);
            let report = crash::run(cfg).await;
            println!("{report}");
            if !report.check.violations.is_empty() || report.kills < kills {
                std::process::exit(1);
            }
        }
        Cmd::Soak {
            server_bin,
            work_dir,
            csv,
            ramp,
            ramp_secs,
            fraction,
            steady_secs,
            sample_secs,
            max_in_flight,
            server_env,
            seed,
            mix: m,
            counts,
        } => {
            let env = server_env
                .iter()
                .map(|kv| {
                    let (k, v) = kv.split_once('=').expect("--server-env NAME=VALUE");
                    (k.to_owned(), v.to_owned())
                })
                .collect();
            let cfg = soak::SoakConfig {
                server_bin,
                work_dir,
                counts: counts.counts(),
                mix: mix(&m, Mix::SOAK),
                env,
                ramp,
                ramp_secs,
                fraction,
                steady_secs,
                sample_secs,
                csv,
                seed: seed_value(seed),
                max_in_flight,
            };
            if !soak::run(cfg).await {
                std::process::exit(1);
            }
        }
    }
}
