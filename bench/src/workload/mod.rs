//! The mixed workload: what a real deployment sees, driven over HTTP, with every
//! acknowledged answer written to the [`AckLog`](crate::acklog::AckLog).
//!
//! Operations (weights in [`Mix`]): step-up TOTP verifications, password sign-ins with a TOTP
//! code challenge, password sign-ins without two-step, enrollments (TOTP, SMS, email: start and
//! confirm), wrong step-up codes and wrong passwords (they move the attempt counter and, from
//! the fifth, start waits), and the wrong code that locks an account.
//!
//! Each user is in one [`Pool`] per class and is taken out while an operation runs, so a user's
//! requests never overlap: what a user's acknowledged answers imply can be reasoned about in
//! order. Users keep their client-side state (next TOTP step, failures sent, enrollment stage)
//! across server restarts, so a code sent once is never sent again as fresh.

mod ops;

pub use ops::{OpError, OpKind, Recorder, run_op, wrong_code};

use crate::acklog::AckLog;
use crate::seed::Seeded;
use crate::sinks::Codes;
use crate::stats::RunStats;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use twostep_proto::Channel;

/// Relative weights of the operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mix {
    pub step_up: u32,
    pub sign_in_code: u32,
    pub sign_in_plain: u32,
    pub wrong_code: u32,
    pub wrong_password: u32,
    pub lock: u32,
    pub enroll: u32,
}

impl Mix {
    /// The crash test's mix: every kind of durable write often, sign-ins (Argon2id) rarer.
    pub const CRASH: Mix = Mix {
        step_up: 40,
        sign_in_code: 5,
        sign_in_plain: 3,
        wrong_code: 20,
        wrong_password: 3,
        lock: 8,
        enroll: 20,
    };

    /// The soak's mix (per thousand): mostly verifications, as in production; 2% sign-ins
    /// (Argon2id), so that the password hash pool is not what saturates first; locks and
    /// enrollments (which use up a user each) rarer.
    pub const SOAK: Mix = Mix {
        step_up: 900,
        sign_in_code: 10,
        sign_in_plain: 5,
        wrong_code: 40,
        wrong_password: 5,
        lock: 5,
        enroll: 15,
    };

    fn weights(&self) -> [(OpKind, u32); 7] {
        [
            (OpKind::StepUp, self.step_up),
            (OpKind::SignInCode, self.sign_in_code),
            (OpKind::SignInPlain, self.sign_in_plain),
            (OpKind::WrongCode, self.wrong_code),
            (OpKind::WrongPassword, self.wrong_password),
            (OpKind::Lock, self.lock),
            (OpKind::Enroll, self.enroll),
        ]
    }

    /// An operation drawn by weight.
    pub fn pick(&self, rng: &mut crate::rng::Rng) -> OpKind {
        let w = self.weights();
        let total: u64 = w.iter().map(|(_, n)| u64::from(*n)).sum();
        let mut x = rng.range(0, total.max(1));
        for (k, n) in w {
            if x < u64::from(n) {
                return k;
            }
            x -= u64::from(n);
        }
        OpKind::StepUp
    }

    /// Parses `step_up=70,wrong_code=10,...` over the zero mix.
    pub fn parse(s: &str) -> Result<Mix, String> {
        let mut m = Mix {
            step_up: 0,
            sign_in_code: 0,
            sign_in_plain: 0,
            wrong_code: 0,
            wrong_password: 0,
            lock: 0,
            enroll: 0,
        };
        for part in s.split(',').filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').ok_or_else(|| format!("{part}: want name=weight"))?;
            let v: u32 = v.parse().map_err(|_| format!("{part}: weight is not a number"))?;
            let slot = match k {
                "step_up" => &mut m.step_up,
                "sign_in_code" => &mut m.sign_in_code,
                "sign_in_plain" => &mut m.sign_in_plain,
                "wrong_code" => &mut m.wrong_code,
                "wrong_password" => &mut m.wrong_password,
                "lock" => &mut m.lock,
                "enroll" => &mut m.enroll,
                _ => return Err(format!("{k}: unknown operation")),
            };
            *slot = v;
        }
        Ok(m)
    }
}

/// Users of one class, each out of the pool while an operation of theirs runs.
#[derive(Debug)]
pub struct Pool<T>(Mutex<VecDeque<T>>);

impl<T> Pool<T> {
    fn new(items: impl IntoIterator<Item = T>) -> Self {
        Self(Mutex::new(items.into_iter().collect()))
    }

    /// Takes the first of the next few users that `ready` accepts; the others go to the back.
    pub fn take(&self, ready: impl Fn(&T) -> bool) -> Option<T> {
        let mut q = self.0.lock().unwrap();
        for _ in 0..q.len().min(64) {
            let t = q.pop_front()?;
            if ready(&t) {
                return Some(t);
            }
            q.push_back(t);
        }
        None
    }

    /// Returns a user.
    pub fn put(&self, t: T) {
        self.0.lock().unwrap().push_back(t);
    }

    /// Users in the pool now.
    pub fn len(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    /// Whether the pool is empty now.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A user with an authenticator.
#[derive(Debug, Clone)]
pub struct TotpUser {
    pub name: String,
    pub secret: Vec<u8>,
    pub token: String,
    /// The lowest step never sent.
    pub next_step: u64,
}

/// A user who only gets wrong codes and passwords.
#[derive(Debug, Clone)]
pub struct WrongUser {
    pub user: TotpUser,
    /// Failures acknowledged so far.
    pub failures: u32,
    /// Not before this Unix second (the server's wait, as far as answers told).
    pub wait_until: u64,
}

/// Where an enrollment stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    /// Not started (or its start was not acknowledged).
    Fresh,
    /// Started (acknowledged): the pending TOTP secret, or the destination of the sent code.
    Started(Option<Vec<u8>>),
    /// Confirmed.
    Done,
}

/// A user who enrolls one channel.
#[derive(Debug, Clone)]
pub struct EnrollUser {
    pub name: String,
    pub token: String,
    pub channel: Channel,
    pub destination: String,
    pub stage: Stage,
    pub not_before: u64,
}

/// Everyone the workload drives, with their client-side state.
#[derive(Debug)]
pub struct Population {
    pub password: String,
    pub totp: Pool<TotpUser>,
    pub plain: Pool<String>,
    pub wrong: Pool<WrongUser>,
    pub locking: Pool<TotpUser>,
    pub enroll: Pool<EnrollUser>,
    /// Failures at most per wrong-code user (the soak stays below the first wait).
    pub max_failures: Option<u32>,
}

fn totp_user((name, secret, token): &(String, String, String)) -> TotpUser {
    TotpUser {
        name: name.clone(),
        secret: data_encoding::BASE32_NOPAD.decode(secret.as_bytes()).expect("secret"),
        token: token.clone(),
        next_step: 0,
    }
}

impl Population {
    /// The seeded users, none used yet.
    pub fn new(s: &Seeded, max_failures: Option<u32>) -> Self {
        let enroll = s.enroll.iter().enumerate().map(|(i, (name, token))| {
            let channel = [Channel::Totp, Channel::Sms, Channel::Email][i % 3];
            let destination = match channel {
                Channel::Sms => format!("+49151{i:08}"),
                Channel::Email => format!("{name}@bench.test"),
                Channel::Totp => String::new(),
            };
            EnrollUser {
                name: name.clone(),
                token: token.clone(),
                channel,
                destination,
                stage: Stage::Fresh,
                not_before: 0,
            }
        });
        Self {
            password: s.password.clone(),
            totp: Pool::new(s.totp.iter().map(totp_user)),
            plain: Pool::new(s.password_users.iter().cloned()),
            wrong: Pool::new(s.wrong.iter().map(|u| WrongUser {
                user: totp_user(u),
                failures: 0,
                wait_until: 0,
            })),
            locking: Pool::new(s.locking.iter().map(totp_user)),
            enroll: Pool::new(enroll),
            max_failures,
        }
    }
}

/// What every operation needs.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub http: reqwest::Client,
    pub url: String,
    pub log: Option<Arc<AckLog>>,
    pub codes: Option<Codes>,
    /// Which server lifetime answers (stamped on log entries).
    pub cycle: u64,
    /// Whether a `429` on a verification is an answer to expect (the crash test's checks
    /// spend failures of verifying users) rather than an error.
    pub throttle_expected: bool,
    pub stats: Arc<RunStats>,
}

/// An HTTP client for the workload (no pool limit; a long timeout, so that only a dead
/// server ends a request early).
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .tcp_nodelay(true)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client")
}

/// Runs `workers` closed-loop workers until `stop` is set or the server stops answering.
/// Returns how many operations completed.
pub async fn run_closed(
    ctx: Ctx,
    pop: Arc<Population>,
    mix: Mix,
    workers: usize,
    stop: Arc<AtomicBool>,
    seed: u64,
) -> u64 {
    let done = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for w in 0..workers {
        let (ctx, pop, stop, done) = (ctx.clone(), pop.clone(), stop.clone(), done.clone());
        tasks.push(tokio::spawn(async move {
            let mut rng = crate::rng::Rng::new(seed.wrapping_mul(1000).wrapping_add(w as u64));
            let mut idle = 0;
            while !stop.load(Ordering::Relaxed) {
                let kind = mix.pick(&mut rng);
                let mut rec = Recorder::new(ctx.cycle, None);
                match run_op(&ctx, &pop, kind, &mut rec).await {
                    None => {
                        idle += 1;
                        if idle > 20 {
                            tokio::time::sleep(Duration::from_millis(20)).await;
                            idle = 0;
                        }
                        continue;
                    }
                    Some(result) => {
                        idle = 0;
                        let dead = matches!(result, Err(OpError::Transport(_)));
                        rec.finish(&ctx, kind, result).await;
                        done.fetch_add(1, Ordering::Relaxed);
                        if dead {
                            return;
                        }
                    }
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    done.load(Ordering::Relaxed)
}
