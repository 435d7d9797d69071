//! Two `twostep-server` processes on one PostgreSQL database; one is killed with SIGKILL in
//! the middle of a verification load. The other keeps answering, and every verification
//! either replica acknowledged is in the database afterwards (its replay state and its audit
//! event), because an acknowledgement waits for the commit.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use twostep_proto::{ClientKind, OrgPolicy, SessionScope};
use twostep_server::config::DatabaseUrl;
use twostep_server::model::{OrgRecord, TotpRecord, TwoStepRecord, UserRecord};
use twostep_server::store::Tree;

/// The TOTP code (SHA-1, 6 digits, 30 s) of `secret` at `unix_secs` (`twostep-otp`, which the
/// server verifies with).
fn code_at(secret: &[u8], unix_secs: u64) -> String {
    let secret = twostep_otp::Secret::from_bytes(secret).expect("a 20-byte secret");
    let time = twostep_otp::UnixTime::from_secs(unix_secs);
    twostep_otp::algorithm::totp(twostep_otp::Algorithm::Sha1, &secret, time, 30, 6)
}

const USERS: usize = 300;

/// Starts `twostep-server serve` on a free port; returns the child and its URL.
fn spawn_replica(data_dir: &std::path::Path, db: &str, key_hex: &str) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_twostep-server"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .env("TWOSTEP_DATABASE_URL", db)
        .env("TWOSTEP_MASTER_KEY", key_hex)
        .env("TWOSTEP_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn twostep-server");
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let url = loop {
        let line = lines.next().expect("server output").unwrap();
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.split_whitespace().next().unwrap().to_owned();
        }
    };
    // Keep draining its stderr so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (child, url)
}

struct User {
    name: String,
    secret: Vec<u8>,
    token: String,
}

/// Users with a confirmed authenticator and a session each, written through the library
/// (as `twostep-loadgen seed` does) before the replicas start.
async fn seed(db: &str, dir: &std::path::Path) -> (Vec<User>, String) {
    let config = twostep_server::Config {
        data_dir: dir.to_owned(),
        database_url: Some(DatabaseUrl(db.to_owned())),
        ..Default::default()
    };
    let app = twostep_server::App::open(config).await.expect("open the store");
    let now = twostep_server::clock::now();
    let org = OrgRecord { name: "acme".into(), policy: OrgPolicy::default(), created_at: now };
    app.repo.put(Tree::Orgs, b"acme", &org).await.unwrap();
    let mut users = Vec::new();
    for i in 0..USERS {
        let name = format!("user{i}");
        let id = format!("{:032x}", i + 1);
        let secret =
            ring::digest::digest(&ring::digest::SHA256, name.as_bytes()).as_ref()[..20].to_vec();
        let user = UserRecord {
            id: id.clone(),
            username: name.clone(),
            org: "acme".into(),
            password_hash: "unused".into(),
            created_at: now,
            epoch: 0,
            second_step_epoch: 0,
            second_step_confirmed_by: None,
            two_step: TwoStepRecord {
                totp: Some(TotpRecord {
                    sealed_secret: twostep_server::service::codes::seal_totp(&app, &id, &secret),
                    confirmed: true,
                    last_step: None,
                    created_at: now,
                }),
                ..Default::default()
            },
        };
        app.repo.put(Tree::Users, name.as_bytes(), &user).await.unwrap();
        let grant = twostep_server::service::sessions::issue(
            &app,
            &user,
            ClientKind::Web,
            SessionScope::Full,
            None,
            twostep_server::service::sessions::Basis::SecondStep,
            now,
        )
        .await
        .unwrap();
        users.push(User { name, secret, token: grant.token });
    }
    let key = std::fs::read(dir.join("server.key")).unwrap();
    (users, key.iter().map(|b| format!("{b:02x}")).collect())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_replica_loses_nothing_it_acknowledged_and_the_other_keeps_answering() {
    let cluster = twostep_pgtemp::Cluster::shared().expect("PostgreSQL cluster");
    let db = cluster.schema_url("replica_kill").unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let (users, key) = seed(&db, &tmp.path().join("seed")).await;
    let (mut a, a_url) = spawn_replica(&tmp.path().join("a"), &db, &key);
    let (mut b, b_url) = spawn_replica(&tmp.path().join("b"), &db, &key);

    // Eight workers, each with its own users, send never-used codes (steps now−1, now,
    // now+1 per user, in order) alternately to A and B. A dies once a quarter of the
    // requests were answered.
    let http = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    let users = Arc::new(users);
    let killed = Arc::new(AtomicBool::new(false));
    let answered = Arc::new(AtomicUsize::new(0));
    // Steps now−1..now+1 stay valid while the server's step is `now`: start early in a step.
    if twostep_server::clock::now() % 30 > 20 {
        tokio::time::sleep(Duration::from_secs(31 - twostep_server::clock::now() % 30)).await;
    }
    let step0 = twostep_server::clock::now() / 30 - 1;
    let mut workers = Vec::new();
    for w in 0..8 {
        let (http, users, killed, answered) =
            (http.clone(), users.clone(), killed.clone(), answered.clone());
        let urls = [a_url.clone(), b_url.clone()];
        workers.push(tokio::spawn(async move {
            // (user, step, replica, acknowledged after the kill)
            let mut acked = Vec::new();
            let mut failed_on_a = 0;
            let mut n = 0usize;
            for step in step0..step0 + 3 {
                for u in users.iter().skip(w).step_by(8) {
                    let r = n % 2;
                    n += 1;
                    let code = code_at(&u.secret, step * 30);
                    let after_kill = killed.load(Ordering::SeqCst);
                    let res = http
                        .post(format!("{}/v1/me/two-step/verify", urls[r]))
                        .bearer_auth(&u.token)
                        .json(&serde_json::json!({"code": code}))
                        .send()
                        .await;
                    answered.fetch_add(1, Ordering::SeqCst);
                    match res.map(|r| r.status().as_u16()) {
                        Ok(200) => acked.push((u.name.clone(), step, r, after_kill)),
                        Ok(s) => panic!("replica {r} answered {s} to a fresh code"),
                        Err(_) if r == 0 => failed_on_a += 1,
                        Err(e) => panic!("replica B failed: {e}"),
                    }
                }
            }
            (acked, failed_on_a)
        }));
    }
    while answered.load(Ordering::SeqCst) < USERS * 3 / 4 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    a.kill().unwrap(); // SIGKILL
    killed.store(true, Ordering::SeqCst);
    let killed_at = Instant::now();
    a.wait().unwrap();
    let mut acked = Vec::new();
    let mut failed_on_a = 0;
    for w in workers {
        let (a, f) = w.await.unwrap();
        acked.extend(a);
        failed_on_a += f;
    }
    let on_b_after_kill = acked.iter().filter(|x| x.2 == 1 && x.3).count();
    let on_a = acked.iter().filter(|x| x.2 == 0).count();
    eprintln!(
        "acknowledged: {} ({on_a} by A before it died, {on_b_after_kill} by B after); \
         {failed_on_a} requests to A failed; B went on for {:?}",
        acked.len(),
        killed_at.elapsed()
    );
    assert!(on_a > 0, "A answered before it was killed");
    assert!(failed_on_a > 0, "the kill happened mid-load");
    assert!(on_b_after_kill >= 100, "B kept answering after A died ({on_b_after_kill})");

    // Nothing acknowledged is lost: each user's replay state covers the highest step that
    // was acknowledged for them, and there is an audit event per acknowledgement.
    let highest = |name: &str| acked.iter().filter(|x| x.0 == name).map(|x| x.1).max();
    let stored = cluster
        .psql(
            "postgres",
            "SET search_path = replica_kill; \
             SELECT key || ' ' || coalesce(value -> 'two_step' -> 'totp' ->> 'last_step', '-') FROM users",
        )
        .unwrap();
    let mut checked = 0;
    for line in stored.lines() {
        let (name, last) = line.split_once(' ').unwrap();
        if let Some(h) = highest(name) {
            // At least: a request in flight when A died may have committed without an answer.
            let last: u64 = last.parse().unwrap_or_else(|_| panic!("{name}: no replay state"));
            assert!(last >= h, "{name}: acknowledged step {h}, stored {last}");
            checked += 1;
        }
    }
    assert!(checked > 0);
    let audited: usize = cluster
        .psql(
            "postgres",
            "SET search_path = replica_kill; SELECT count(*) FROM audit WHERE kind = 'step_up_verified'",
        )
        .unwrap()
        .parse()
        .unwrap();
    assert!(audited >= acked.len(), "{audited} audit events for {} acknowledgements", acked.len());
    // B still serves sessions afterwards.
    let s = http.get(format!("{b_url}/v1/me")).bearer_auth(&users[0].token).send().await.unwrap();
    assert_eq!(s.status(), 200);
    b.kill().unwrap();
    b.wait().unwrap();
}
