//! Seeding: benchmark users written straight into a stopped server's store (one shared
//! Argon2id hash), so seeding takes seconds, not hours. The store is whichever the
//! configuration names (`TWOSTEP_DATABASE_URL` picks a shared database, else the data dir's
//! embedded store), so the same seed serves every backend.
//!
//! Classes of users (each a separate list, so the workload can reason about each alone):
//! - `totp`: a confirmed authenticator with a known secret and a full session;
//! - `password_users`: no two-step (password sign-ins);
//! - `wrong`: like `totp`, but the workload only ever sends them wrong codes and passwords;
//! - `locking`: like `totp`, with 99 failures already counted (their wait over), so the next wrong
//!   code locks the account;
//! - `enroll`: no two-step yet and a session opened with the password: they enroll.

use crate::now;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::Instant;
use twostep_proto::{ClientKind, OrgPolicy, SessionScope, TwoStepOrigin};
use twostep_server::model::{OrgRecord, ThrottleRecord, TotpRecord, TwoStepRecord, UserRecord};
use twostep_server::service::sessions::{self, Basis};
use twostep_server::store::Tree;
use twostep_server::{App, Config};

/// The org every seeded user belongs to.
pub const ORG: &str = "bench";
/// The operator the seed creates (for the checker's admin reads).
pub const OPERATOR: (&str, &str) = ("bench-operator", "bench-operator-password-1");

/// How many users of each class.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct Counts {
    pub totp: usize,
    pub password: usize,
    pub wrong: usize,
    pub locking: usize,
    pub enroll: usize,
}

/// A user with an authenticator: username, base32 secret, session token.
pub type TotpUser = (String, String, String);

/// What the seed wrote: the credentials the workload uses.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Seeded {
    pub password: String,
    pub totp: Vec<TotpUser>,
    pub password_users: Vec<String>,
    #[serde(default)]
    pub wrong: Vec<TotpUser>,
    #[serde(default)]
    pub locking: Vec<TotpUser>,
    /// Username and a session opened with the password alone.
    #[serde(default)]
    pub enroll: Vec<(String, String)>,
    #[serde(default)]
    pub operator: Option<(String, String)>,
}

impl Seeded {
    /// Reads a users file.
    pub fn load(path: &Path) -> Self {
        serde_json::from_slice(&std::fs::read(path).expect("users file")).expect("users json")
    }

    /// Writes a users file.
    pub fn save(&self, path: &Path) {
        std::fs::write(path, serde_json::to_vec(self).unwrap()).unwrap();
    }
}

/// The secret of the `i`-th user of a class (deterministic, so reruns seed the same users).
pub fn secret_for(class: &str, i: usize) -> Vec<u8> {
    let label = if class == "totp" { format!("bench-secret-{i}") } else { format!("{class}-{i}") };
    ring::digest::digest(&ring::digest::SHA256, label.as_bytes()).as_ref()[..20].to_vec()
}

fn user(id: String, username: &str, hash: &str, two_step: TwoStepRecord) -> UserRecord {
    UserRecord {
        id,
        username: username.to_owned(),
        org: ORG.into(),
        password_hash: hash.to_owned(),
        created_at: now(),
        epoch: 0,
        second_step_epoch: 0,
        second_step_confirmed_by: None,
        two_step,
    }
}

/// Opens the store `config` names (the data dir's sled, or `TWOSTEP_DATABASE_URL`).
pub async fn open(mut config: Config) -> std::sync::Arc<App> {
    let data_dir = config.data_dir.clone();
    config.apply_env(std::env::vars()).expect("TWOSTEP_* configuration");
    config.data_dir = data_dir;
    App::open(config).await.expect("open the store")
}

/// The seeded classes (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    Totp,
    Wrong,
    Locking,
    Enroll,
}

/// Writes the `i`-th user of `class`; returns its name, base32 secret and session token.
async fn seed_user(app: &App, class: Class, i: usize, hash: &str) -> (String, String, String) {
    let (name, id_base) = match class {
        Class::Totp => ("totp", 0),
        Class::Wrong => ("wrong", 0x1000_0000),
        Class::Locking => ("lock", 0x2000_0000),
        Class::Enroll => ("enroll", 0x3000_0000),
    };
    let username = format!("{name}{i}");
    let id = format!("{:032x}", id_base + i + 1);
    let (two_step, secret, basis) = if class == Class::Enroll {
        (TwoStepRecord::default(), Vec::new(), Basis::Password)
    } else {
        let secret = secret_for(if class == Class::Locking { "locking" } else { name }, i);
        let sealed = twostep_server::service::codes::seal_totp(app, &id, &secret);
        let ts = TwoStepRecord {
            origin: Some(TwoStepOrigin::Chosen),
            preferred: Some(twostep_proto::Channel::Totp),
            totp: Some(TotpRecord {
                sealed_secret: sealed,
                confirmed: true,
                last_step: None,
                created_at: now(),
            }),
            ..Default::default()
        };
        (ts, secret, Basis::SecondStep)
    };
    let u = user(id, &username, hash, two_step);
    app.repo.put(Tree::Users, username.as_bytes(), &u).await.unwrap();
    let grant = sessions::issue(app, &u, ClientKind::Web, SessionScope::Full, None, basis, now())
        .await
        .unwrap();
    if class == Class::Locking {
        // 99 failures whose last wait is over: the next failure is the 100th.
        let t = ThrottleRecord {
            failures: twostep_server::throttle::LOCK_AFTER - 1,
            blocked_until: 0,
            locked: false,
            expires_at: Some(now() + twostep_server::throttle::FAILURE_MEMORY_SECS),
        };
        app.repo.put(Tree::Throttle, username.as_bytes(), &t).await.unwrap();
    }
    (username, data_encoding::BASE32_NOPAD.encode(&secret), grant.token)
}

/// Seeds `counts` users into the store of `config` (the server must be stopped for sled).
pub async fn seed(config: Config, counts: Counts) -> Seeded {
    let app = open(config).await;
    let password = "bench-password-1".to_string();
    let hash = twostep_server::passwords::Hasher::hash_blocking(app.config.argon2, &password);
    // The workload enrolls thousands of destinations in one org and day.
    let policy = OrgPolicy { max_messages_per_org_per_day: u32::MAX, ..Default::default() };
    let org = OrgRecord { name: ORG.into(), policy, created_at: now() };
    app.repo.put(Tree::Orgs, ORG.as_bytes(), &org).await.unwrap();
    let mut seeded = Seeded { password: password.clone(), ..Default::default() };
    let t0 = Instant::now();
    let classes: [(Class, usize); 4] = [
        (Class::Totp, counts.totp),
        (Class::Wrong, counts.wrong),
        (Class::Locking, counts.locking),
        (Class::Enroll, counts.enroll),
    ];
    let jobs: Vec<(Class, usize)> =
        classes.iter().flat_map(|&(c, n)| (0..n).map(move |i| (c, i))).collect();
    // Sixteen writers at once: a database's round trips overlap (sled does not care).
    let writers = 16;
    let jobs = std::sync::Arc::new(jobs);
    let mut tasks = Vec::new();
    for w in 0..writers {
        let (app, hash, jobs) = (app.clone(), hash.clone(), jobs.clone());
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            for &(class, i) in jobs.iter().skip(w).step_by(writers) {
                out.push((class, i, seed_user(&app, class, i, &hash).await));
            }
            out
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("seed task"));
    }
    all.sort_by_key(|(c, i, _)| (*c, *i));
    for (class, _, (username, b32, token)) in all {
        match class {
            Class::Totp => seeded.totp.push((username, b32, token)),
            Class::Wrong => seeded.wrong.push((username, b32, token)),
            Class::Locking => seeded.locking.push((username, b32, token)),
            Class::Enroll => seeded.enroll.push((username, token)),
        }
    }
    for i in 0..counts.password {
        let username = format!("pw{i}");
        let u = user(format!("p{:031x}", i + 1), &username, &hash, TwoStepRecord::default());
        app.repo.put(Tree::Users, username.as_bytes(), &u).await.unwrap();
        seeded.password_users.push(username);
    }
    if counts.wrong + counts.locking + counts.enroll > 0 {
        let actor = twostep_server::service::admin::Actor {
            operator: "seed".into(),
            address: None,
            now: now(),
            now_ms: crate::now_ms(),
        };
        let (name, pw) = OPERATOR;
        twostep_server::service::operators::create_operator(&app, name, pw, &actor)
            .await
            .expect("create the operator");
        seeded.operator = Some((name.to_owned(), pw.to_owned()));
    }
    app.repo.store().flush().await.unwrap();
    let data_dir = app.config.data_dir.clone();
    let embedded = app.config.database_url.is_none();
    drop(app);
    if embedded {
        wait_until_closed(&data_dir).await;
    }
    eprintln!(
        "seeded {} TOTP, {} password, {} wrong-code, {} locking and {} enrolling users in {:.1}s",
        counts.totp,
        counts.password,
        counts.wrong,
        counts.locking,
        counts.enroll,
        t0.elapsed().as_secs_f64()
    );
    seeded
}

/// sled releases its lock on the data dir from a background thread after the last handle
/// is dropped: waits for that, so that a server started next can open it.
async fn wait_until_closed(data_dir: &Path) {
    let db = data_dir.join("db");
    for _ in 0..500 {
        match twostep_server::store::SledStore::open(&db) {
            Ok(_) => return,
            Err(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
        }
    }
    panic!("the seeded store at {} stays locked", db.display());
}
