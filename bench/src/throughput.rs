//! The closed-loop benchmarks of `docs/BENCHMARKS.md`: step-up TOTP verifications (every
//! request a valid, never-used code, so each does the full work: session lookup, secret
//! unseal, HMAC, atomic replay-state update, audit record, grouped flush), password sign-ins
//! (Argon2id), a sign-in flood with verifications beside it, and the wrk script.

use crate::codes::{CodeSource, code_source, save_steps};
use crate::now;
use crate::seed::Seeded;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

/// Results of one closed-loop phase.
#[derive(Debug, Default)]
pub struct Stats {
    pub lat_us: Vec<u32>,
    pub ok: u64,
    pub other: std::collections::BTreeMap<u16, u64>,
}

impl Stats {
    /// Counts one answer (`0`: no answer) of a request started at `started`.
    pub fn record(&mut self, started: Instant, status: u16) {
        self.lat_us.push(started.elapsed().as_micros().min(u128::from(u32::MAX)) as u32);
        if status == 200 {
            self.ok += 1;
        } else {
            *self.other.entry(status).or_default() += 1;
        }
    }

    /// Adds a worker's results to the phase's.
    pub fn absorb(&mut self, worker: Stats) {
        self.lat_us.extend(worker.lat_us);
        self.ok += worker.ok;
        for (k, v) in worker.other {
            *self.other.entry(k).or_default() += v;
        }
    }
}

/// The status of an answer after reading its body (`0` when there was none).
async fn status_of(answer: reqwest::Result<reqwest::Response>) -> u16 {
    match answer {
        Ok(r) => {
            let status = r.status().as_u16();
            let _ = r.bytes().await;
            status
        }
        Err(_) => 0,
    }
}

/// Prints a phase's throughput and latency percentiles.
pub fn report(name: &str, stats: &mut Stats, elapsed: f64) {
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

/// A keep-alive HTTP client for `concurrency` workers.
pub fn client(concurrency: usize) -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency * 2)
        .tcp_nodelay(true)
        .build()
        .expect("client")
}

/// Step-up verifications with never-used codes.
pub async fn run_totp(
    url: String,
    src: Arc<CodeSource>,
    concurrency: usize,
    duration: Duration,
) -> (Stats, f64) {
    let http = client(concurrency);
    let stats = Arc::new(Mutex::new(Stats::default()));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (http, url, src, stats) = (http.clone(), url.clone(), src.clone(), stats.clone());
        tasks.push(tokio::spawn(async move {
            let mut local = Stats::default();
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
                local.record(t, status_of(r).await);
            }
            stats.lock().await.absorb(local);
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let s = Arc::try_unwrap(stats).expect("tasks done").into_inner();
    (s, elapsed)
}

/// Password sign-ins.
pub async fn run_signin(
    url: String,
    users: Arc<Vec<String>>,
    password: String,
    concurrency: usize,
    duration: Duration,
) -> (Stats, f64) {
    let http = client(concurrency);
    let stats = Arc::new(Mutex::new(Stats::default()));
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
            let mut local = Stats::default();
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
                local.record(t, status_of(r).await);
            }
            stats.lock().await.absorb(local);
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let elapsed = start.elapsed().as_secs_f64();
    let s = Arc::try_unwrap(stats).expect("tasks done").into_inner();
    (s, elapsed)
}

/// Writes a wrk Lua script with never-used (token, code) pairs for the next two steps.
pub fn wrk_script(
    users_file: &std::path::Path,
    out: &std::path::Path,
    threads: usize,
    skip: usize,
    first: usize,
) {
    use std::fmt::Write as _;
    let seeded = Seeded::load(users_file);
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
            let _ = writeln!(lines, "{token} {}", crate::code_at(secret, step * 30));
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

/// Times one Argon2id hash (server parameters) in this process, then one per core at once.
pub fn hash_cost(samples: usize) {
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
                    let _ =
                        twostep_server::passwords::Hasher::hash_blocking(cost, "bench-password-1");
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

/// Where and how hard a closed-loop phase runs.
#[derive(Debug, Clone)]
pub struct Load {
    pub url: String,
    pub users: std::path::PathBuf,
    pub duration_secs: u64,
    pub concurrency: usize,
}

/// `totp`: step-up verifications after a one-second warm-up.
pub async fn totp(l: Load) {
    let seeded = Seeded::load(&l.users);
    let src = code_source(&seeded, &l.users);
    // Warm-up: connections, caches.
    let _ = run_totp(l.url.clone(), src.clone(), l.concurrency, Duration::from_secs(1)).await;
    let (mut s, e) =
        run_totp(l.url, src.clone(), l.concurrency, Duration::from_secs(l.duration_secs)).await;
    save_steps(&src, &l.users);
    report(&format!("totp-verify c={}", l.concurrency), &mut s, e);
}

/// `signin`: password sign-ins.
pub async fn signin(l: Load) {
    let seeded = Seeded::load(&l.users);
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

/// `flood`: a sign-in flood plus verifications; reports verification latency.
pub async fn flood(load: Load, verify_concurrency: usize) {
    let seeded = Seeded::load(&load.users);
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
