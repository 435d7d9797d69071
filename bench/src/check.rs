//! Checks a (restarted) server against the log of acknowledged answers, over HTTP only, so
//! that it holds for any store behind the server:
//!
//! - every acknowledged session token still authenticates (`GET /v1/me`);
//! - no TOTP code accepted before is accepted again: the last accepted code of recently verifying
//!   users is replayed and must be refused;
//! - attempt counters never went backwards: an operator's view of each user shows at least the
//!   failures acknowledged, and at least what the previous check saw;
//! - locks persist, and so do running waits (a wrong code during an acknowledged wait gets `429`,
//!   not a check);
//! - confirmed channels stay confirmed;
//! - the audit log holds at least the records each acknowledged answer wrote.
//!
//! Each check covers what was acknowledged since the previous one and a random sample of
//! the older acknowledgements; [`Checker::check`] with `full` covers everything.

use crate::acklog::{Ack, AckLog, Entry, FailureKind, LogReader};
use crate::rng::Rng;
use crate::seed::Seeded;
use crate::{now, now_ms};
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;
use twostep_proto::{AdminUserView, AuditKind, AuditPage, Channel};

/// What the acknowledged answers so far imply.
#[derive(Debug, Default)]
pub struct Expected {
    /// (user, token) of every acknowledged session.
    pub tokens: Vec<(String, String)>,
    /// The highest acknowledged TOTP step per user.
    pub max_step: HashMap<String, u64>,
    /// Acknowledged failures per user (on top of what the seed counted).
    pub failures: HashMap<String, u32>,
    pub locked: HashSet<String>,
    /// The account waits at least until (Unix seconds).
    pub wait_until: HashMap<String, u64>,
    pub enrolled: HashMap<String, Channel>,
    /// Audit records per (user, kind), at least.
    pub audit: HashMap<(String, AuditKind), u64>,
}

/// The audit records an acknowledged answer wrote.
pub fn audit_of(ack: &Ack) -> &'static [AuditKind] {
    use AuditKind as K;
    match ack {
        Ack::StepUp { .. } => &[K::StepUpVerified],
        Ack::Challenge => &[K::CodeChallengeIssued],
        Ack::Session { step: Some(_), .. } => &[K::CodeAccepted, K::SignInSucceeded],
        Ack::Session { step: None, .. } => &[K::SignInSucceeded],
        Ack::Failure { what: FailureKind::Code, locks: false } => &[K::CodeRejected],
        Ack::Failure { what: FailureKind::Code, locks: true } => {
            &[K::CodeRejected, K::AccountLocked]
        }
        Ack::Failure { what: FailureKind::Password, locks: false } => &[K::SignInFailed],
        Ack::Failure { what: FailureKind::Password, locks: true } => {
            &[K::SignInFailed, K::AccountLocked]
        }
        Ack::EnrollStarted { .. } => &[K::TwoStepEnrollmentStarted],
        Ack::Enrolled { .. } => &[K::TwoStepEnrolled, K::SessionsEnded],
        Ack::Waiting { .. } | Ack::Locked | Ack::OperatorSession { .. } => &[],
    }
}

impl Expected {
    /// Adds what `e` implies. `base` is the failures the seed counted for the user.
    pub fn apply(&mut self, e: &Entry, base: u32) {
        let u = &e.user;
        for k in audit_of(&e.ack) {
            *self.audit.entry((u.clone(), *k)).or_default() += 1;
        }
        let mut step = |s: u64| {
            let m = self.max_step.entry(u.clone()).or_default();
            *m = (*m).max(s);
        };
        match &e.ack {
            Ack::StepUp { step: s } => step(*s),
            Ack::Session { token, step: s } => {
                if let Some(s) = s {
                    step(*s);
                }
                self.tokens.push((u.clone(), token.clone()));
                // A completed sign-in resets the counter and ends any wait.
                self.failures.remove(u);
                self.wait_until.remove(u);
            }
            Ack::Failure { locks, .. } => {
                let n = self.failures.entry(u.clone()).or_default();
                *n += 1;
                let delay = twostep_server::throttle::delay_after(base + *n);
                if delay > 0 {
                    let w = self.wait_until.entry(u.clone()).or_default();
                    *w = (*w).max(e.sent_ms / 1000 + delay);
                }
                if *locks {
                    self.locked.insert(u.clone());
                }
            }
            Ack::Waiting { until } => {
                let w = self.wait_until.entry(u.clone()).or_default();
                *w = (*w).max(*until);
            }
            Ack::Locked => {
                self.locked.insert(u.clone());
            }
            Ack::Enrolled { channel, token } => {
                self.enrolled.insert(u.clone(), *channel);
                self.tokens.push((u.clone(), token.clone()));
            }
            Ack::Challenge | Ack::EnrollStarted { .. } | Ack::OperatorSession { .. } => {}
        }
    }
}

/// What the checks covered and what they found.
#[derive(Debug, Default, Clone)]
pub struct Report {
    pub checks: u64,
    pub entries: u64,
    pub sessions: u64,
    /// Replayed codes refused by the replay guard (`401`).
    pub replays_refused: u64,
    /// Replayed codes refused because the account was waiting (`429`): no evidence either way.
    pub replays_throttled: u64,
    pub counters: u64,
    pub locks: u64,
    pub waits: u64,
    pub enrollments: u64,
    /// Audit records expected and found.
    pub audit_records: u64,
    pub violations: Vec<String>,
}

/// How much a check samples from older acknowledgements.
#[derive(Debug, Clone, Copy)]
pub struct Sampling {
    pub old_sessions: usize,
    pub old_users: usize,
    pub replays: usize,
    pub waits: usize,
}

impl Default for Sampling {
    fn default() -> Self {
        Self { old_sessions: 20, old_users: 20, replays: 10, waits: 5 }
    }
}

/// See the module docs.
#[derive(Debug)]
pub struct Checker {
    http: reqwest::Client,
    reader: LogReader,
    log: Option<Arc<AckLog>>,
    pub expected: Expected,
    /// Failures the seed counted, per user.
    base: HashMap<String, u32>,
    /// Secret and seeded session of each user with an authenticator.
    totp: HashMap<String, (Vec<u8>, String)>,
    wrong_users: HashSet<String>,
    observed: HashMap<String, u32>,
    operator: (String, String),
    operator_token: Option<(String, u64)>,
    /// Audit records counted so far, and the id of the last.
    audit_seen: HashMap<(String, AuditKind), u64>,
    audit_after: Option<u64>,
    rng: Rng,
    pub sampling: Sampling,
    pub report: Report,
}

fn decode(b32: &str) -> Vec<u8> {
    data_encoding::BASE32_NOPAD.decode(b32.as_bytes()).expect("secret")
}

impl Checker {
    /// A checker of the log at `log_path` for the users of `seeded`. Its own acknowledged
    /// answers (operator sign-ins, failures its probes count) go to `log`.
    pub fn new(seeded: &Seeded, log_path: &Path, log: Option<Arc<AckLog>>, seed: u64) -> Self {
        let mut totp = HashMap::new();
        let mut base = HashMap::new();
        for (u, s, t) in seeded.totp.iter().chain(&seeded.wrong).chain(&seeded.locking) {
            totp.insert(u.clone(), (decode(s), t.clone()));
        }
        for (u, _, _) in &seeded.locking {
            base.insert(u.clone(), twostep_server::throttle::LOCK_AFTER - 1);
        }
        Self {
            http: crate::workload::http_client(),
            reader: LogReader::open(log_path).expect("open the ack log"),
            log,
            expected: Expected::default(),
            base,
            totp,
            wrong_users: seeded.wrong.iter().map(|(u, _, _)| u.clone()).collect(),
            observed: HashMap::new(),
            operator: seeded.operator.clone().expect("the seed created an operator"),
            operator_token: None,
            audit_seen: HashMap::new(),
            audit_after: None,
            rng: Rng::new(seed),
            sampling: Sampling::default(),
            report: Report::default(),
        }
    }

    fn violation(&mut self, cycle: u64, what: String) {
        if self.report.violations.len() < 200 {
            self.report.violations.push(format!("after start {cycle}: {what}"));
        }
    }

    async fn get(&self, url: &str, token: &str) -> Result<(u16, Value), String> {
        let r = self.http.get(url).bearer_auth(token).send().await.map_err(|e| e.to_string())?;
        let status = r.status().as_u16();
        let body = r.bytes().await.map_err(|e| e.to_string())?;
        Ok((status, serde_json::from_slice(&body).unwrap_or(Value::Null)))
    }

    async fn post(
        &self,
        url: &str,
        token: Option<&str>,
        body: Value,
    ) -> Result<(u16, Value), String> {
        let mut r = self.http.post(url).json(&body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        let r = r.send().await.map_err(|e| e.to_string())?;
        let status = r.status().as_u16();
        let body = r.bytes().await.map_err(|e| e.to_string())?;
        Ok((status, serde_json::from_slice(&body).unwrap_or(Value::Null)))
    }

    async fn record(&mut self, cycle: u64, user: &str, ack: Ack) {
        let e = Entry { sent_ms: now_ms(), cycle, user: user.to_owned(), ack };
        if let Some(log) = &self.log {
            log.append(std::slice::from_ref(&e)).await;
        } else {
            let base = self.base.get(user).copied().unwrap_or(0);
            self.expected.apply(&e, base);
        }
    }

    /// The operator token (signed in again when it nears its hour), checked to still work.
    async fn operator_token(&mut self, url: &str, cycle: u64) -> Result<String, String> {
        let name = self.operator.0.clone();
        if let Some((token, at)) = self.operator_token.clone() {
            let (s, v) = self.get(&format!("{url}/v1/admin/operators/{name}"), &token).await?;
            if s != 200 {
                self.violation(
                    cycle,
                    format!("the acknowledged operator token stopped working: {s} {v}"),
                );
            } else if now() < at + 3000 {
                return Ok(token);
            }
        }
        let body = json!({"username": name, "password": self.operator.1});
        let (s, v) = self.post(&format!("{url}/v1/admin/signin"), None, body).await?;
        if s != 200 {
            return Err(format!("operator sign-in: {s} {v}"));
        }
        let token = v["token"].as_str().unwrap_or_default().to_owned();
        self.record(cycle, &name, Ack::OperatorSession { token: token.clone() }).await;
        self.operator_token = Some((token.clone(), now()));
        Ok(token)
    }

    fn sample<T: Clone>(&mut self, items: &[T], k: usize) -> Vec<T> {
        if items.len() <= k {
            return items.to_vec();
        }
        (0..k).map(|_| items[self.rng.below(items.len())].clone()).collect()
    }

    fn read_new(&mut self) -> Result<Vec<Entry>, String> {
        let new = self.reader.read_new()?;
        for e in &new {
            let base = self.base.get(&e.user).copied().unwrap_or(0);
            self.expected.apply(e, base);
        }
        self.report.entries += new.len() as u64;
        Ok(new)
    }

    /// Checks the server at `url` (started for the `cycle`-th time). `full`: every
    /// acknowledgement, not a sample; `audit`: recount the whole audit log (otherwise the
    /// records since the last check are counted on).
    pub async fn check(
        &mut self,
        url: &str,
        cycle: u64,
        full: bool,
        audit: bool,
    ) -> Result<(), String> {
        let op = self.operator_token(url, cycle).await?;
        // The operator's own sign-in is in the log now: read it with the rest.
        let new = self.read_new()?;
        self.report.checks += 1;
        let touched: HashSet<String> = new.iter().map(|e| e.user.clone()).collect();
        let mut tokens: Vec<(String, String)> = new
            .iter()
            .filter_map(|e| match &e.ack {
                Ack::Session { token, .. } | Ack::Enrolled { token, .. } => {
                    Some((e.user.clone(), token.clone()))
                }
                _ => None,
            })
            .collect();
        if full {
            tokens = self.expected.tokens.clone();
        } else {
            let all = self.expected.tokens.clone();
            tokens.extend(self.sample(&all, self.sampling.old_sessions));
        }
        self.check_sessions(url, cycle, tokens).await?;
        self.check_replays(url, cycle, &touched, full).await?;
        let mut users: Vec<String> = touched.iter().cloned().collect();
        let known: Vec<String> = self
            .expected
            .failures
            .keys()
            .chain(self.expected.locked.iter())
            .chain(self.expected.enrolled.keys())
            .cloned()
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        if full {
            users = known;
        } else {
            users.extend(self.sample(&known, self.sampling.old_users));
        }
        self.check_users(url, cycle, &op, users).await?;
        self.check_waits(url, cycle, full).await?;
        self.check_audit(url, cycle, &op, audit || full).await?;
        Ok(())
    }

    async fn check_sessions(
        &mut self,
        url: &str,
        cycle: u64,
        tokens: Vec<(String, String)>,
    ) -> Result<(), String> {
        for chunk in tokens.chunks(16) {
            let mut set = tokio::task::JoinSet::new();
            for (user, token) in chunk.iter().cloned() {
                let (http, me) = (self.http.clone(), format!("{url}/v1/me"));
                set.spawn(async move {
                    let r = http.get(me).bearer_auth(&token).send().await;
                    (user, r.map(|r| r.status().as_u16()).map_err(|e| e.to_string()))
                });
            }
            while let Some(r) = set.join_next().await {
                let (user, status) = r.map_err(|e| e.to_string())?;
                self.report.sessions += 1;
                match status? {
                    200 => {}
                    s => self
                        .violation(cycle, format!("an acknowledged session of {user} answers {s}")),
                }
            }
        }
        Ok(())
    }

    async fn check_replays(
        &mut self,
        url: &str,
        cycle: u64,
        touched: &HashSet<String>,
        full: bool,
    ) -> Result<(), String> {
        let cur = now() / 30;
        // Only codes still inside the ±1 window test the replay guard.
        let mut users: Vec<(String, u64)> = self
            .expected
            .max_step
            .iter()
            .filter(|(u, s)| **s + 1 >= cur && self.totp.contains_key(*u))
            .map(|(u, s)| (u.clone(), *s))
            .collect();
        users.sort_by_key(|(u, _)| !touched.contains(u));
        if !full {
            users.truncate(self.sampling.replays);
        }
        for (user, step) in users {
            let (secret, token) = self.totp[&user].clone();
            let code = crate::code_at(&secret, step * 30);
            let (s, v) = self
                .post(&format!("{url}/v1/me/two-step/verify"), Some(&token), json!({"code": code}))
                .await?;
            match s {
                200 => self.violation(
                    cycle,
                    format!("{user}'s code of step {step}, accepted before, was accepted again"),
                ),
                401 => self.report.replays_refused += 1,
                429 => self.report.replays_throttled += 1,
                _ => self.violation(cycle, format!("replaying {user}'s code: {s} {v}")),
            }
        }
        Ok(())
    }

    async fn check_users(
        &mut self,
        url: &str,
        cycle: u64,
        op: &str,
        users: Vec<String>,
    ) -> Result<(), String> {
        for user in users {
            // Only users who never succeed: an unacknowledged sign-in of anyone else may have
            // reset their counter legitimately.
            let never_succeed = self.wrong_users.contains(&user) || self.base.contains_key(&user);
            let want_failures =
                self.expected.failures.get(&user).copied().filter(|_| never_succeed);
            let locked = self.expected.locked.contains(&user);
            let enrolled = self.expected.enrolled.get(&user).copied();
            if want_failures.is_none() && !locked && enrolled.is_none() {
                continue;
            }
            let (s, v) = self.get(&format!("{url}/v1/admin/users/{user}"), op).await?;
            if s != 200 {
                self.violation(cycle, format!("reading user {user}: {s} {v}"));
                continue;
            }
            let view: AdminUserView =
                serde_json::from_value(v).map_err(|e| format!("user view of {user}: {e}"))?;
            let base = self.base.get(&user).copied().unwrap_or(0);
            if let Some(n) = want_failures {
                self.report.counters += 1;
                let want = base + n;
                let seen = self.observed.get(&user).copied().unwrap_or(0);
                if view.consecutive_failures < want.max(seen) {
                    self.violation(
                        cycle,
                        format!(
                            "{user}'s failure count went back to {} ({want} acknowledged, {seen} seen before)",
                            view.consecutive_failures
                        ),
                    );
                }
                self.observed.insert(user.clone(), view.consecutive_failures.max(seen));
            }
            if locked {
                self.report.locks += 1;
                if !view.locked {
                    self.violation(cycle, format!("{user}'s acknowledged lock is gone"));
                }
            }
            if let Some(ch) = enrolled {
                self.report.enrollments += 1;
                if !view.two_step.channels.iter().any(|c| c.channel == ch && c.confirmed) {
                    self.violation(
                        cycle,
                        format!("{user}'s confirmed {} channel is not confirmed", ch.as_str()),
                    );
                }
            }
        }
        Ok(())
    }

    async fn check_waits(&mut self, url: &str, cycle: u64, full: bool) -> Result<(), String> {
        let t = now();
        let mut waiting: Vec<(String, u64)> = self
            .expected
            .wait_until
            .iter()
            .filter(|(u, until)| **until > t + 2 && self.wrong_users.contains(*u))
            .map(|(u, until)| (u.clone(), *until))
            .collect();
        waiting.sort();
        if !full {
            waiting = self.sample(&waiting, self.sampling.waits);
            waiting.dedup();
        }
        for (user, until) in waiting {
            let (secret, token) = self.totp[&user].clone();
            let wrong = json!({"code": crate::workload::wrong_code(&secret)});
            let (s, v) =
                self.post(&format!("{url}/v1/me/two-step/verify"), Some(&token), wrong).await?;
            self.report.waits += 1;
            match s {
                429 | 423 => {}
                401 => {
                    self.violation(
                        cycle,
                        format!(
                            "{user} should wait until {until} (now {}), but a code was checked",
                            now()
                        ),
                    );
                    let ack = Ack::Failure { what: FailureKind::Code, locks: false };
                    self.record(cycle, &user, ack).await;
                }
                _ => self.violation(cycle, format!("probing {user}'s wait: {s} {v}")),
            }
        }
        Ok(())
    }

    /// Counts the audit records after the last one counted (all of them when `full`), then
    /// compares with what was acknowledged. Records are never rewritten and new ones get
    /// higher ids, so counting on from the last check finds every loss of a record written
    /// since; the full recount also finds older ones lost later.
    async fn check_audit(
        &mut self,
        url: &str,
        cycle: u64,
        op: &str,
        full: bool,
    ) -> Result<(), String> {
        if full {
            self.audit_seen.clear();
            self.audit_after = None;
        }
        let mut seen = std::mem::take(&mut self.audit_seen);
        let mut after = self.audit_after;
        loop {
            let q = after.map(|a| format!("&after={a}")).unwrap_or_default();
            let (s, v) = self.get(&format!("{url}/v1/admin/audit?limit=1000{q}"), op).await?;
            if s != 200 {
                return Err(format!("audit page: {s} {v}"));
            }
            let page: AuditPage =
                serde_json::from_value(v).map_err(|e| format!("audit page: {e}"))?;
            for e in &page.events {
                if let Some(u) = &e.user {
                    *seen.entry((u.clone(), e.kind)).or_default() += 1;
                }
                after = Some(e.id);
            }
            if page.next_after.is_none() {
                break;
            }
        }
        self.audit_after = after;
        let mut missing: BTreeMap<String, u64> = BTreeMap::new();
        let mut examples = Vec::new();
        let mut checked = 0;
        for ((user, kind), want) in &self.expected.audit {
            let have = seen.get(&(user.clone(), *kind)).copied().unwrap_or(0);
            checked += want;
            if have < *want {
                *missing.entry(format!("{kind:?}")).or_default() += want - have;
                if examples.len() < 5 {
                    examples.push(format!(
                        "{user} has {have} {kind:?} audit records, {want} acknowledged"
                    ));
                }
            }
        }
        self.audit_seen = seen;
        for what in examples {
            self.violation(cycle, what);
        }
        self.report.audit_records += checked;
        if !missing.is_empty() {
            self.violation(cycle, format!("audit records missing by kind: {missing:?}"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(user: &str, sent_ms: u64, ack: Ack) -> Entry {
        Entry { sent_ms, cycle: 0, user: user.into(), ack }
    }

    #[test]
    fn acknowledgements_add_up_to_what_must_survive() {
        let mut x = Expected::default();
        let fail = Ack::Failure { what: FailureKind::Code, locks: false };
        for i in 0..5 {
            x.apply(&entry("w", 1_000_000 + i, fail.clone()), 0);
        }
        assert_eq!(x.failures["w"], 5);
        // The fifth failure starts a 30 s wait from when it was sent.
        assert_eq!(x.wait_until["w"], 1000 + 30);
        assert_eq!(x.audit[&("w".into(), AuditKind::CodeRejected)], 5);
        x.apply(&entry("a", 0, Ack::StepUp { step: 9 }), 0);
        x.apply(&entry("a", 0, Ack::StepUp { step: 7 }), 0);
        assert_eq!(x.max_step["a"], 9);
        x.apply(&entry("a", 0, fail.clone()), 0);
        x.apply(&entry("a", 0, Ack::Session { token: "t".into(), step: Some(10) }), 0);
        assert_eq!(x.max_step["a"], 10);
        assert!(!x.failures.contains_key("a"), "a completed sign-in resets the counter");
        assert_eq!(x.tokens, vec![("a".to_string(), "t".to_string())]);
        x.apply(&entry("l", 5_000, Ack::Failure { what: FailureKind::Code, locks: true }), 99);
        assert!(x.locked.contains("l"));
        assert_eq!(x.wait_until["l"], 5 + 3600);
        assert_eq!(x.audit[&("l".into(), AuditKind::AccountLocked)], 1);
        x.apply(&entry("e", 0, Ack::Enrolled { channel: Channel::Email, token: "s".into() }), 0);
        assert_eq!(x.enrolled["e"], Channel::Email);
    }
}
