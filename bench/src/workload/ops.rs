//! One operation each: its requests, what each answer means, and the log entries of the
//! acknowledged ones.

use super::{Ctx, EnrollUser, Population, Stage, TotpUser, WrongUser};
use crate::acklog::{Ack, Entry, FailureKind};
use crate::{now, now_ms};
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use twostep_proto::Channel;

/// The operations of the workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OpKind {
    StepUp,
    SignInCode,
    SignInPlain,
    WrongCode,
    WrongPassword,
    Lock,
    Enroll,
}

impl OpKind {
    /// Its name in reports.
    pub fn name(self) -> &'static str {
        match self {
            OpKind::StepUp => "step_up",
            OpKind::SignInCode => "sign_in_code",
            OpKind::SignInPlain => "sign_in_plain",
            OpKind::WrongCode => "wrong_code",
            OpKind::WrongPassword => "wrong_password",
            OpKind::Lock => "lock",
            OpKind::Enroll => "enroll",
        }
    }
}

/// Why an operation ended early.
#[derive(Debug, Clone)]
pub enum OpError {
    /// No answer (the server is gone).
    Transport(String),
    /// An answer the operation does not expect.
    Unexpected { request: &'static str, status: u16, body: String },
}

/// What one operation did: its acknowledged answers and request latencies.
#[derive(Debug)]
pub struct Recorder {
    cycle: u64,
    /// Latency of the first request counts from here (an open loop's scheduled time).
    scheduled: Option<Instant>,
    pub acks: Vec<Entry>,
    pub requests: Vec<(&'static str, Duration)>,
}

struct Answer {
    status: u16,
    body: Value,
    sent_ms: u64,
}

impl Answer {
    fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }

    fn retry_after(&self) -> u64 {
        self.body["error"]["retry_after_secs"].as_u64().unwrap_or(1)
    }

    fn unexpected(&self, request: &'static str) -> OpError {
        let mut body = self.body.to_string();
        body.truncate(300);
        OpError::Unexpected { request, status: self.status, body }
    }
}

impl Recorder {
    /// A recorder for an operation answered by server lifetime `cycle`.
    pub fn new(cycle: u64, scheduled: Option<Instant>) -> Self {
        Self { cycle, scheduled, acks: Vec::new(), requests: Vec::new() }
    }

    fn ack(&mut self, a: &Answer, user: &str, ack: Ack) {
        let e = Entry { sent_ms: a.sent_ms, cycle: self.cycle, user: user.to_owned(), ack };
        self.acks.push(e);
    }

    /// Logs the acknowledged answers (durably) and counts the operation.
    pub async fn finish(self, ctx: &Ctx, kind: OpKind, result: Result<(), OpError>) {
        if let Some(log) = &ctx.log {
            log.append(&self.acks).await;
        }
        ctx.stats.record(kind, &self.requests, &self.acks, result.err());
    }

    async fn call(
        &mut self,
        ctx: &Ctx,
        request: &'static str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Result<Answer, OpError> {
        let start = self.scheduled.take().unwrap_or_else(Instant::now);
        let sent_ms = now_ms();
        let mut req = ctx.http.post(format!("{}{path}", ctx.url));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.map_err(|e| OpError::Transport(e.to_string()))?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await.map_err(|e| OpError::Transport(e.to_string()))?;
        self.requests.push((request, start.elapsed()));
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok(Answer { status, body, sent_ms })
    }
}

/// Runs one operation of `kind` for a user ready for it; `None` when no user is.
pub async fn run_op(
    ctx: &Ctx,
    pop: &Population,
    kind: OpKind,
    rec: &mut Recorder,
) -> Option<Result<(), OpError>> {
    let cur = now() / 30;
    match kind {
        OpKind::StepUp | OpKind::SignInCode => {
            let mut u = pop.totp.take(|u| u.next_step <= cur + 1)?;
            let r = if kind == OpKind::StepUp {
                step_up(ctx, rec, &mut u).await
            } else {
                sign_in_code(ctx, rec, &mut u, &pop.password).await
            };
            pop.totp.put(u);
            Some(r)
        }
        OpKind::SignInPlain => {
            let u = pop.plain.take(|_| true)?;
            let r = sign_in_plain(ctx, rec, &u, &pop.password).await;
            pop.plain.put(u);
            Some(r)
        }
        OpKind::WrongCode | OpKind::WrongPassword => {
            let t = now();
            let max = pop.max_failures.unwrap_or(u32::MAX);
            let mut u = pop.wrong.take(|u| u.wait_until <= t && u.failures < max)?;
            let r = wrong(ctx, rec, &mut u, kind == OpKind::WrongPassword).await;
            pop.wrong.put(u);
            Some(r)
        }
        OpKind::Lock => {
            let u = pop.locking.take(|_| true)?;
            let r = lock(ctx, rec, &u).await;
            if matches!(r, Err(OpError::Transport(_))) {
                pop.locking.put(u);
            }
            Some(r)
        }
        OpKind::Enroll => {
            let t = now();
            let mut u = pop.enroll.take(|u| u.not_before <= t)?;
            let r = enroll(ctx, rec, &mut u).await;
            if u.stage != Stage::Done {
                pop.enroll.put(u);
            }
            Some(r)
        }
    }
}

/// The next never-sent step of `u` that the server accepts now (now or the next one).
fn take_step(u: &mut TotpUser) -> u64 {
    let step = u.next_step.max(now() / 30);
    u.next_step = step + 1;
    step
}

fn code(secret: &[u8], step: u64) -> String {
    crate::code_at(secret, step * 30)
}

/// A code that no step near now produces.
pub fn wrong_code(secret: &[u8]) -> String {
    let cur = now() / 30;
    let near: Vec<String> = (cur.saturating_sub(3)..cur + 4).map(|s| code(secret, s)).collect();
    (1000..)
        .map(|d| code(secret, cur + d))
        .find(|c| !near.contains(c))
        .unwrap_or_else(|| "000000".into())
}

fn waiting(a: &Answer) -> Ack {
    Ack::Waiting { until: a.sent_ms / 1000 + a.retry_after() }
}

async fn step_up(ctx: &Ctx, rec: &mut Recorder, u: &mut TotpUser) -> Result<(), OpError> {
    let step = take_step(u);
    let body = json!({"code": code(&u.secret, step)});
    let a = rec.call(ctx, "verify", "/v1/me/two-step/verify", Some(&u.token), Some(body)).await?;
    match a.status {
        200 => rec.ack(&a, &u.name, Ack::StepUp { step }),
        429 if ctx.throttle_expected => rec.ack(&a, &u.name, waiting(&a)),
        401 if a.code() == "invalid_code" => {
            rec.ack(&a, &u.name, Ack::Failure { what: FailureKind::Code, locks: false });
            return Err(a.unexpected("verify"));
        }
        _ => return Err(a.unexpected("verify")),
    }
    Ok(())
}

async fn sign_in_code(
    ctx: &Ctx,
    rec: &mut Recorder,
    u: &mut TotpUser,
    password: &str,
) -> Result<(), OpError> {
    let body = json!({"username": u.name, "password": password, "client": "web"});
    let a = rec.call(ctx, "sign_in", "/v1/signin", None, Some(body)).await?;
    match a.status {
        200 if a.body["status"] == "code_required" => rec.ack(&a, &u.name, Ack::Challenge),
        429 if ctx.throttle_expected => {
            rec.ack(&a, &u.name, waiting(&a));
            return Ok(());
        }
        _ => return Err(a.unexpected("sign_in")),
    }
    let id = a.body["challenge_id"].as_str().unwrap_or_default().to_owned();
    let step = take_step(u);
    let body = json!({"code": code(&u.secret, step)});
    let a =
        rec.call(ctx, "sign_in_code", &format!("/v1/signin/{id}/code"), None, Some(body)).await?;
    match a.status {
        200 if a.body["status"] == "session" => {
            let token = a.body["token"].as_str().unwrap_or_default().to_owned();
            rec.ack(&a, &u.name, Ack::Session { token, step: Some(step) });
        }
        429 if ctx.throttle_expected => rec.ack(&a, &u.name, waiting(&a)),
        _ => return Err(a.unexpected("sign_in_code")),
    }
    Ok(())
}

async fn sign_in_plain(
    ctx: &Ctx,
    rec: &mut Recorder,
    user: &str,
    password: &str,
) -> Result<(), OpError> {
    let body = json!({"username": user, "password": password, "client": "web"});
    let a = rec.call(ctx, "sign_in", "/v1/signin", None, Some(body)).await?;
    match a.status {
        200 if a.body["status"] == "session" => {
            let token = a.body["token"].as_str().unwrap_or_default().to_owned();
            rec.ack(&a, user, Ack::Session { token, step: None });
            Ok(())
        }
        // A sign-in killed after its attempt was counted (before the hash) and before it was
        // handed back stays counted: after a few crashes the account waits.
        429 if ctx.throttle_expected => {
            rec.ack(&a, user, waiting(&a));
            Ok(())
        }
        _ => Err(a.unexpected("sign_in")),
    }
}

async fn wrong(
    ctx: &Ctx,
    rec: &mut Recorder,
    u: &mut WrongUser,
    password: bool,
) -> Result<(), OpError> {
    let (request, a, what) = if password {
        let body =
            json!({"username": u.user.name, "password": "not-the-password", "client": "web"});
        (
            "sign_in",
            rec.call(ctx, "sign_in", "/v1/signin", None, Some(body)).await?,
            FailureKind::Password,
        )
    } else {
        let body = json!({"code": wrong_code(&u.user.secret)});
        let path = "/v1/me/two-step/verify";
        (
            "verify",
            rec.call(ctx, "verify", path, Some(&u.user.token), Some(body)).await?,
            FailureKind::Code,
        )
    };
    let name = u.user.name.clone();
    match (a.status, a.code()) {
        (401, "invalid_code" | "invalid_credentials") => {
            rec.ack(&a, &name, Ack::Failure { what, locks: false });
            u.failures += 1;
            let wait = twostep_server::throttle::delay_after(u.failures);
            if wait > 0 {
                u.wait_until = a.sent_ms / 1000 + wait + 1;
            }
            Ok(())
        }
        (429, _) => {
            let ack = waiting(&a);
            if let Ack::Waiting { until } = ack {
                u.wait_until = until + 1;
            }
            rec.ack(&a, &name, ack);
            if ctx.throttle_expected { Ok(()) } else { Err(a.unexpected(request)) }
        }
        _ => Err(a.unexpected(request)),
    }
}

async fn lock(ctx: &Ctx, rec: &mut Recorder, u: &TotpUser) -> Result<(), OpError> {
    let body = json!({"code": wrong_code(&u.secret)});
    let a = rec.call(ctx, "verify", "/v1/me/two-step/verify", Some(&u.token), Some(body)).await?;
    match (a.status, a.code()) {
        // The 100th failure: counted, and the account locked with it.
        (401, "invalid_code") => {
            rec.ack(&a, &u.name, Ack::Failure { what: FailureKind::Code, locks: true })
        }
        (423, _) => rec.ack(&a, &u.name, Ack::Locked),
        _ => return Err(a.unexpected("verify")),
    }
    Ok(())
}

async fn enroll(ctx: &Ctx, rec: &mut Recorder, u: &mut EnrollUser) -> Result<(), OpError> {
    let ch = u.channel.as_str();
    if u.stage == Stage::Fresh {
        let body = match u.channel {
            Channel::Totp => None,
            Channel::Sms => Some(json!({"phone": u.destination})),
            Channel::Email => Some(json!({"email": u.destination})),
        };
        let path = format!("/v1/me/two-step/{ch}");
        let a = rec.call(ctx, "enroll", &path, Some(&u.token), body).await?;
        match (a.status, a.code()) {
            (200, _) => {
                let secret = a.body["secret"].as_str().and_then(|s| {
                    data_encoding::BASE32_NOPAD.decode(s.trim_end_matches('=').as_bytes()).ok()
                });
                rec.ack(&a, &u.name, Ack::EnrollStarted { channel: u.channel });
                u.stage = Stage::Started(secret);
            }
            // A start sent before a crash went through: wait out the destination's cooldown.
            (409 | 429, "resend_too_soon" | "rate_limited") if ctx.throttle_expected => {
                u.not_before = now() + a.retry_after() + 1;
                return Ok(());
            }
            _ => return Err(a.unexpected("enroll")),
        }
    }
    let Stage::Started(secret) = &u.stage else { return Ok(()) };
    let code = match secret {
        Some(s) => code(s, now() / 30),
        None => match ctx.codes.as_ref().and_then(|c| c.latest(&u.destination)) {
            Some(c) => c,
            None => {
                let body = format!("no code reached the sink for {}", u.destination);
                return Err(OpError::Unexpected { request: "enroll", status: 0, body });
            }
        },
    };
    let path = format!("/v1/me/two-step/{ch}/confirm");
    let a = rec.call(ctx, "confirm", &path, Some(&u.token), Some(json!({"code": code}))).await?;
    match (a.status, a.code()) {
        (200, _) => {
            let token = u.token.clone();
            rec.ack(&a, &u.name, Ack::Enrolled { channel: u.channel, token });
            u.stage = Stage::Done;
        }
        // A confirmation sent before a crash went through.
        (409, "conflict") if ctx.throttle_expected => u.stage = Stage::Done,
        (400 | 410, "code_expired") if ctx.throttle_expected => u.stage = Stage::Fresh,
        _ => return Err(a.unexpected("confirm")),
    }
    Ok(())
}
