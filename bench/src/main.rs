//! `twostep-loadgen`: seeds a server data dir with benchmark users, then drives a running
//! `twostep-server` over loopback HTTP and prints throughput and latency percentiles.
//!
//! - `seed`: N users with a confirmed authenticator (known secrets) and a session each, plus M
//!   users without two-step for password sign-ins. Written straight into the store (one shared
//!   Argon2id hash), so seeding takes seconds, not hours.
//! - `totp`: step-up verifications (`POST /v1/me/two-step/verify`), every one a *valid*, never-used
//!   code, so each request does the full work: session lookup, secret unseal, HMAC, atomic
//!   replay-state update, audit record, grouped flush.
//! - `signin`: password sign-ins (Argon2id) for users without two-step.
//! - `mixed`: a sign-in flood and code verifications at once; reports verification latency.

// A benchmark tool: any failure should stop it loudly.
#![allow(clippy::unwrap_used)]

use clap::{Parser, Subcommand};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;
use twostep_proto::{ClientKind, OrgPolicy, SessionScope, TwoStepOrigin};
use twostep_server::model::{OrgRecord, TotpRecord, TwoStepRecord, UserRecord};
use twostep_server::store::Tree;

#[derive(Parser, Debug)]
#[command(name = "twostep-loadgen")]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Seed a (stopped) server's data dir.
    Seed {
        #[arg(long)]
        data_dir: PathBuf,
        /// Users with an authenticator.
        #[arg(long, default_value_t = 30_000)]
        totp_users: usize,
        /// Users without two-step (password sign-ins).
        #[arg(long, default_value_t = 64)]
        password_users: usize,
        /// Where to write the credentials file.
        #[arg(long)]
        out: PathBuf,
    },
    /// Step-up TOTP verifications.
    Totp(Load),
    /// Password sign-ins.
    Signin(Load),
    /// A sign-in flood plus verifications; reports verification latency.
    Mixed {
        #[command(flatten)]
        load: Load,
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
}

#[derive(clap::Args, Debug, Clone)]
struct Load {
    #[arg(long)]
    url: String,
    #[arg(long)]
    users: PathBuf,
    #[arg(long, default_value_t = 10)]
    duration_secs: u64,
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
}

#[derive(Serialize, Deserialize)]
struct Seeded {
    password: String,
    totp: Vec<(String, String, String)>,
    password_users: Vec<String>,
}

fn now() -> u64 {
    twostep_server::clock::now()
}

/// The server's TOTP code (SHA-1, 6 digits, 30 s) of `secret` at `unix_secs`, from
/// `twostep-otp`, the implementation the server verifies with.
fn code_at(secret: &[u8], unix_secs: u64) -> String {
    let secret = twostep_otp::Secret::from_bytes(secret).expect("a seeded secret");
    let time = twostep_otp::UnixTime::from_secs(unix_secs);
    twostep_otp::algorithm::totp(twostep_otp::Algorithm::Sha1, &secret, time, 30, 6)
}

fn secret_for(i: usize) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, format!("bench-secret-{i}").as_bytes()).as_ref()
        [..20]
        .to_vec()
}

/// One user with a confirmed authenticator (known secret) and a web session.
async fn seed_totp_user(
    app: &twostep_server::App,
    i: usize,
    hash: &str,
) -> (String, String, String) {
    let username = format!("totp{i}");
    let id = format!("{:032x}", i + 1);
    let secret = secret_for(i);
    let sealed = twostep_server::service::codes::seal_totp(app, &id, &secret);
    let user = UserRecord {
        id,
        username: username.clone(),
        org: "bench".into(),
        password_hash: hash.to_owned(),
        created_at: now(),
        epoch: 0,
        second_step_epoch: 0,
        two_step: TwoStepRecord {
            origin: Some(TwoStepOrigin::Chosen),
            preferred: Some(twostep_proto::Channel::Totp),
            totp: Some(TotpRecord {
                sealed_secret: sealed,
                confirmed: true,
                last_step: None,
                created_at: now(),
            }),
            ..Default::default()
        },
    };
    app.repo.put(Tree::Users, username.as_bytes(), &user).await.unwrap();
    let grant = twostep_server::service::sessions::issue(
        app,
        &user,
        ClientKind::Web,
        SessionScope::Full,
        None,
        twostep_server::service::sessions::Basis::SecondStep,
        now(),
    )
    .await
    .unwrap();
    (username, data_encoding::BASE32_NOPAD.encode(&secret), grant.token)
}

async fn seed(data_dir: PathBuf, totp_users: usize, password_users: usize, out: PathBuf) {
    // TWOSTEP_DATABASE_URL (and TWOSTEP_MASTER_KEY) choose PostgreSQL, as for the server.
    let mut config = twostep_server::Config { data_dir, ..Default::default() };
    config.apply_env(std::env::vars()).expect("TWOSTEP_* variables");
    let app = twostep_server::App::open(config).await.expect("open the store");
    let password = "bench-password-1".to_string();
    let hash = twostep_server::passwords::Hasher::hash_blocking(app.config.argon2, &password);
    app.repo
        .put(
            Tree::Orgs,
            b"bench",
            &OrgRecord { name: "bench".into(), policy: OrgPolicy::default(), created_at: now() },
        )
        .await
        .unwrap();
    let mut seeded = Seeded { password: password.clone(), totp: vec![], password_users: vec![] };
    let t0 = Instant::now();
    // Sixteen writers at once: PostgreSQL round trips overlap (sled does not care).
    let writers = 16;
    let mut tasks = Vec::new();
    for w in 0..writers {
        let (app, hash) = (app.clone(), hash.clone());
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            for i in (w..totp_users).step_by(writers) {
                out.push((i, seed_totp_user(&app, i, &hash).await));
            }
            out
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("seed task"));
    }
    all.sort_by_key(|(i, _)| *i);
    seeded.totp = all.into_iter().map(|(_, u)| u).collect();
    for i in 0..password_users {
        let username = format!("pw{i}");
        let user = UserRecord {
            id: format!("p{:031x}", i + 1),
            username: username.clone(),
            org: "bench".into(),
            password_hash: hash.clone(),
            created_at: now(),
            epoch: 0,
            second_step_epoch: 0,
            two_step: TwoStepRecord::default(),
        };
        app.repo.put(Tree::Users, username.as_bytes(), &user).await.unwrap();
        seeded.password_users.push(username);
    }
    app.repo.store().flush().await.unwrap();
    std::fs::write(&out, serde_json::to_vec(&seeded).unwrap()).unwrap();
    eprintln!(
        "seeded {totp_users} TOTP users and {password_users} password users in {:.1}s",
        t0.elapsed().as_secs_f64()
    );
}

/// Hands out (token, code) pairs that have never been used: per user the next step is
/// max(last used + 1, now − 1) while it stays within now + 1.
struct CodeSource {
    users: Vec<(String, Vec<u8>, String)>,
    next_step: Vec<AtomicU64>,
    cursor: AtomicUsize,
}

impl CodeSource {
    fn take(&self) -> Option<(String, String)> {
        let n = self.users.len();
        for _ in 0..n {
            let i = self.cursor.fetch_add(1, Ordering::Relaxed) % n;
            let cur = now() / 30;
            let slot = &self.next_step[i];
            let mut step = slot.load(Ordering::Relaxed).max(cur - 1);
            loop {
                if step > cur + 1 {
                    break;
                }
                match slot.compare_exchange(
                    slot.load(Ordering::Relaxed),
                    step + 1,
                    Ordering::SeqCst,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        let (_, secret, token) = &self.users[i];
                        return Some((token.clone(), code_at(secret, step * 30)));
                    }
                    Err(seen) => step = seen.max(cur - 1),
                }
            }
        }
        None
    }
}

struct Stats {
    lat_us: Vec<u32>,
    ok: u64,
    other: std::collections::BTreeMap<u16, u64>,
}

fn report(name: &str, stats: &mut Stats, elapsed: f64) {
    stats.lat_us.sort_unstable();
    let n = stats.lat_us.len();
    let pct = |p: f64| {
        if n == 0 {
            0.0
        } else {
            f64::from(stats.lat_us[((n as f64 * p) as usize).min(n - 1)]) / 1000.0
        }
    };
    println!(
        "{name}: {n} requests in {elapsed:.1}s = {:.0}/s ok={} other={:?} p50={:.2}ms p90={:.2}ms p99={:.2}ms max={:.2}ms",
        n as f64 / elapsed,
        stats.ok,
        stats.other,
        pct(0.5),
        pct(0.9),
        pct(0.99),
        pct(1.0)
    );
}

fn client(concurrency: usize) -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency * 2)
        .tcp_nodelay(true)
        .build()
        .expect("client")
}

async fn run_totp(
    url: String,
    src: Arc<CodeSource>,
    concurrency: usize,
    duration: Duration,
) -> (Stats, f64) {
    let http = client(concurrency);
    let stats = Arc::new(Mutex::new(Stats { lat_us: vec![], ok: 0, other: Default::default() }));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (http, url, src, stats) = (http.clone(), url.clone(), src.clone(), stats.clone());
        tasks.push(tokio::spawn(async move {
            let mut local = Stats { lat_us: vec![], ok: 0, other: Default::default() };
            while start.elapsed() < duration {
                let Some((token, code)) = src.take() else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let t = Instant::now();
                let r = http
                    .post(format!("{url}/v1/me/two-step/verify"))
                    .bearer_auth(&token)
                    .json(&serde_json::json!({"code": code}))
                    .send()
                    .await;
                let status = match r {
                    Ok(r) => {
                        let s = r.status().as_u16();
                        let _ = r.bytes().await;
                        s
                    }
                    Err(_) => 0,
                };
                local.lat_us.push(t.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                if status == 200 {
                    local.ok += 1;
                } else {
                    *local.other.entry(status).or_default() += 1;
                }
            }
            let mut s = stats.lock().await;
            s.lat_us.extend(local.lat_us);
            s.ok += local.ok;
            for (k, v) in local.other {
                *s.other.entry(k).or_default() += v;
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let s = Arc::try_unwrap(stats).ok().expect("tasks done").into_inner();
    (s, elapsed)
}

async fn run_signin(
    url: String,
    users: Arc<Vec<String>>,
    password: String,
    concurrency: usize,
    duration: Duration,
) -> (Stats, f64) {
    let http = client(concurrency);
    let stats = Arc::new(Mutex::new(Stats { lat_us: vec![], ok: 0, other: Default::default() }));
    let start = Instant::now();
    let cursor = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (http, url, users, stats, cursor, password) = (
            http.clone(),
            url.clone(),
            users.clone(),
            stats.clone(),
            cursor.clone(),
            password.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut local = Stats { lat_us: vec![], ok: 0, other: Default::default() };
            while start.elapsed() < duration {
                let u = &users[cursor.fetch_add(1, Ordering::Relaxed) % users.len()];
                let t = Instant::now();
                let r = http
                    .post(format!("{url}/v1/signin"))
                    .json(
                        &serde_json::json!({"username": u, "password": password, "client": "web"}),
                    )
                    .send()
                    .await;
                let status = match r {
                    Ok(r) => {
                        let s = r.status().as_u16();
                        let _ = r.bytes().await;
                        s
                    }
                    Err(_) => 0,
                };
                local.lat_us.push(t.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
                if status == 200 {
                    local.ok += 1;
                } else {
                    *local.other.entry(status).or_default() += 1;
                }
            }
            let mut s = stats.lock().await;
            s.lat_us.extend(local.lat_us);
            s.ok += local.ok;
            for (k, v) in local.other {
                *s.other.entry(k).or_default() += v;
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let s = Arc::try_unwrap(stats).ok().expect("tasks done").into_inner();
    (s, elapsed)
}

fn load_users(path: &PathBuf) -> Seeded {
    serde_json::from_slice(&std::fs::read(path).expect("users file")).expect("users json")
}

/// The per-user next steps live beside the users file, so later phases never replay a
/// code an earlier phase used (the server would rightly refuse it).
fn steps_path(users: &std::path::Path) -> PathBuf {
    users.with_extension("steps.json")
}

fn code_source(seeded: &Seeded, users_file: &std::path::Path) -> Arc<CodeSource> {
    let users: Vec<_> = seeded
        .totp
        .iter()
        .map(|(u, s, t)| {
            (
                u.clone(),
                data_encoding::BASE32_NOPAD.decode(s.as_bytes()).expect("secret"),
                t.clone(),
            )
        })
        .collect();
    let saved: Vec<u64> = std::fs::read(steps_path(users_file))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let next_step =
        (0..users.len()).map(|i| AtomicU64::new(saved.get(i).copied().unwrap_or(0))).collect();
    Arc::new(CodeSource { users, next_step, cursor: AtomicUsize::new(0) })
}

fn save_steps(src: &CodeSource, users_file: &std::path::Path) {
    let steps: Vec<u64> = src.next_step.iter().map(|a| a.load(Ordering::Relaxed)).collect();
    let _ = std::fs::write(steps_path(users_file), serde_json::to_vec(&steps).unwrap_or_default());
}

fn wrk_script(
    users_file: &std::path::Path,
    out: &std::path::Path,
    threads: usize,
    skip: usize,
    first: usize,
) {
    use std::fmt::Write as _;
    let seeded = load_users(&users_file.to_path_buf());
    let src = code_source(&seeded, users_file);
    let cur = now() / 30;
    // The pairs go to a data file beside the script (a Lua literal of this size exceeds
    // Lua's constant limit); each wrk thread loads every `threads`-th line.
    let data = out.with_extension("txt");
    let mut lines = String::new();
    let mut n = 0;
    for step in [cur, cur + 1] {
        for (i, (_, secret, token)) in src.users.iter().enumerate().skip(skip).take(first) {
            if src.next_step[i].load(Ordering::Relaxed) > step {
                continue;
            }
            let _ = writeln!(lines, "{token} {}", code_at(secret, step * 30));
            n += 1;
        }
    }
    std::fs::write(&data, lines).unwrap();
    for a in src.next_step.iter().skip(skip).take(first) {
        a.fetch_max(cur + 2, Ordering::Relaxed);
    }
    save_steps(&src, users_file);
    let mut lua = format!("local data_file = \"{}\"\n", data.display());
    let _ = write!(
        lua,
        r#"local nthreads = {threads}
local threads = {{}}
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  reqs = {{}}
  local i = 0
  for line in io.lines(data_file) do
    if i % nthreads == tid then
      local token, code = line:match("(%S+) (%S+)")
      table.insert(reqs, {{token, code}})
    end
    i = i + 1
  end
  idx = 1
  bad = 0
  exhausted = 0
end
function request()
  local r = reqs[idx]
  if r == nil then
    exhausted = exhausted + 1
    return wrk.format("GET", "/healthz")
  end
  idx = idx + 1
  return wrk.format("POST", "/v1/me/two-step/verify", {{["authorization"] = "Bearer " .. r[1], ["content-type"] = "application/json"}}, '{{"code":"' .. r[2] .. '"}}')
end
function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end
function done(summary, latency, requests)
  local b, e = 0, 0
  for _, t in ipairs(threads) do b = b + t:get("bad"); e = e + t:get("exhausted") end
  io.write(string.format("non-200 answers: %d, requests after the list ran out: %d\n", b, e))
  for _, p in ipairs({{50, 90, 99, 99.9}}) do
    io.write(string.format("p%g: %.2f ms\n", p, latency:percentile(p) / 1000))
  end
end
"#
    );
    std::fs::write(out, lua).unwrap();
    eprintln!(
        "wrote {n} verification requests for steps {cur} and {} to {}",
        cur + 1,
        out.display()
    );
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Seed { data_dir, totp_users, password_users, out } => {
            seed(data_dir, totp_users, password_users, out).await
        }
        Cmd::WrkScript { users, out, threads, first, skip } => {
            wrk_script(&users, &out, threads, skip, first)
        }
        Cmd::HashCost { samples } => {
            let cost = twostep_server::passwords::HashCost::default();
            let _ = twostep_server::passwords::Hasher::hash_blocking(cost, "warm-up");
            let t = Instant::now();
            for _ in 0..samples {
                let _ = twostep_server::passwords::Hasher::hash_blocking(cost, "bench-password-1");
            }
            let per = t.elapsed().as_secs_f64() / samples as f64;
            let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
            println!(
                "argon2id m=19456 t=2 p=1: {:.1} ms per hash; bound = {cores} cores / {:.1} ms = {:.1} sign-ins/s",
                per * 1000.0,
                per * 1000.0,
                cores as f64 / per
            );
            // What the hardware really does with one hash per core at once (memory bandwidth).
            let t = Instant::now();
            let handles: Vec<_> = (0..cores)
                .map(|_| {
                    std::thread::spawn(move || {
                        for _ in 0..samples {
                            let _ = twostep_server::passwords::Hasher::hash_blocking(
                                cost,
                                "bench-password-1",
                            );
                        }
                    })
                })
                .collect();
            for h in handles {
                let _ = h.join();
            }
            let rate = (cores * samples) as f64 / t.elapsed().as_secs_f64();
            println!("argon2id on {cores} threads at once, no server: {rate:.1} hashes/s");
        }
        Cmd::Totp(l) => {
            let seeded = load_users(&l.users);
            let src = code_source(&seeded, &l.users);
            // Warm-up: connections, caches.
            let _ =
                run_totp(l.url.clone(), src.clone(), l.concurrency, Duration::from_secs(1)).await;
            let (mut s, e) =
                run_totp(l.url, src.clone(), l.concurrency, Duration::from_secs(l.duration_secs))
                    .await;
            save_steps(&src, &l.users);
            report(&format!("totp-verify c={}", l.concurrency), &mut s, e);
        }
        Cmd::Signin(l) => {
            let seeded = load_users(&l.users);
            let users = Arc::new(seeded.password_users.clone());
            let (mut s, e) = run_signin(
                l.url,
                users,
                seeded.password.clone(),
                l.concurrency,
                Duration::from_secs(l.duration_secs),
            )
            .await;
            report(&format!("password-signin c={}", l.concurrency), &mut s, e);
        }
        Cmd::Mixed { load, verify_concurrency } => {
            let seeded = load_users(&load.users);
            let src = code_source(&seeded, &load.users);
            let users = Arc::new(seeded.password_users.clone());
            let d = Duration::from_secs(load.duration_secs);
            let flood = tokio::spawn(run_signin(
                load.url.clone(),
                users,
                seeded.password.clone(),
                load.concurrency,
                d,
            ));
            tokio::time::sleep(Duration::from_millis(500)).await;
            let (mut v, ve) = run_totp(
                load.url.clone(),
                src.clone(),
                verify_concurrency,
                d - Duration::from_millis(1000),
            )
            .await;
            save_steps(&src, &load.users);
            let (mut f, fe) = flood.await.expect("flood");
            report(&format!("during flood: totp-verify c={verify_concurrency}"), &mut v, ve);
            report(&format!("the flood: password-signin c={}", load.concurrency), &mut f, fe);
        }
    }
}
