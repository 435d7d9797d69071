//! `twostep-server admin migrate-store`: an embedded store copied into PostgreSQL, refused
//! while the server runs and into a non-empty database, and served afterwards by a server on
//! PostgreSQL with everything intact (passwords, sessions, replay state, the audit log).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use twostep_proto::{ClientKind, CreateOrg, CreateUser, SessionScope};
use twostep_server::config::DatabaseUrl;
use twostep_server::model::{TotpRecord, UserRecord};
use twostep_server::service::admin::{self, Actor};
use twostep_server::store::Tree;

/// The TOTP code (SHA-1, 6 digits, 30 s) of `secret` at `unix_secs` (`twostep-otp`, which the
/// server verifies with).
fn code_at(secret: &[u8], unix_secs: u64) -> String {
    let secret = twostep_otp::Secret::from_bytes(secret).expect("a 20-byte secret");
    let time = twostep_otp::UnixTime::from_secs(unix_secs);
    twostep_otp::algorithm::totp(twostep_otp::Algorithm::Sha1, &secret, time, 30, 6)
}

fn cli(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_twostep-server"))
        .args(args)
        .env("TWOSTEP_LOG", "warn")
        .env_remove("TWOSTEP_DATABASE_URL")
        .stdin(Stdio::null())
        .output()
        .expect("run twostep-server");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// An embedded store with an operator, an org, a password user and a TOTP user whose
/// replay state is at `step` and who holds a session. Returns that session's token.
async fn populate(dir: &Path, step: u64, secret: &[u8]) -> String {
    let config = twostep_server::Config { data_dir: dir.to_owned(), ..Default::default() };
    let app = twostep_server::App::open(config).await.unwrap();
    let now_ms = twostep_server::clock::now_ms();
    let actor = Actor { operator: "test".into(), address: None, now: now_ms / 1000, now_ms };
    admin::create_operator(&app, "root", "operator-password", &actor).await.unwrap();
    admin::create_org(&app, &CreateOrg { name: "acme".into(), policy: None }, &actor)
        .await
        .unwrap();
    for name in ["alice", "bob"] {
        let req = CreateUser { username: name.into(), password: format!("{name}-password") };
        admin::create_user(&app, "acme", &req, &actor).await.unwrap();
    }
    let mut bob: UserRecord = app.repo.get(Tree::Users, b"bob").await.unwrap().unwrap();
    bob.two_step.totp = Some(TotpRecord {
        sealed_secret: twostep_server::service::codes::seal_totp(&app, &bob.id, secret),
        confirmed: true,
        last_step: Some(step),
        created_at: now_ms / 1000,
    });
    app.repo.put(Tree::Users, b"bob", &bob).await.unwrap();
    let grant = twostep_server::service::sessions::issue(
        &app,
        &bob,
        ClientKind::Web,
        SessionScope::Full,
        None,
        twostep_server::service::sessions::Basis::SecondStep,
        now_ms / 1000,
    )
    .await
    .unwrap();
    app.repo.store().flush().await.unwrap();
    grant.token
}

fn count(cluster: &twostep_pgtemp::Cluster, schema: &str, table: &str) -> u64 {
    cluster
        .psql("postgres", &format!("SET search_path = {schema}; SELECT count(*) FROM {table}"))
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_embedded_store_moves_to_postgresql_once_and_only_while_the_server_is_down() {
    let cluster = twostep_pgtemp::Cluster::shared().expect("PostgreSQL cluster");
    let url = cluster.schema_url("migrated").unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let sled_dir = tmp.path().join("sled");
    let secret = b"0123456789abcdefghij".to_vec();
    let step = twostep_server::clock::now() / 30;
    let token = populate(&sled_dir, step, &secret).await;
    let from = sled_dir.to_str().unwrap();

    // While a server has the data dir open, the copy refuses and writes nothing.
    let mut server = Command::new(env!("CARGO_BIN_EXE_twostep-server"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir", from])
        .env("TWOSTEP_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::BufRead;
        let mut lines = std::io::BufReader::new(server.stderr.take().unwrap()).lines();
        assert!(lines.any(|l| l.unwrap().contains("listening on")), "the server started");
        std::thread::spawn(move || for _ in lines {});
    }
    let (ok, _, err) = cli(&["admin", "migrate-store", "--from", from, "--to", &url]);
    assert!(!ok);
    assert!(err.contains("in use: stop the server first"), "{err}");
    let tables = cluster
        .psql("postgres", "SELECT count(*) FROM pg_tables WHERE schemaname = 'migrated'")
        .unwrap();
    assert_eq!(tables, "0", "the target was not even touched");
    server.kill().unwrap();
    server.wait().unwrap();

    // Stopped: everything is copied, table by table, and counted. (The cluster trusts
    // local connections, so the password is only there to be hidden in the output.)
    let with_password = format!("{url}&password=hunter2");
    let (ok, out, err) = cli(&["admin", "migrate-store", "--from", from, "--to", &with_password]);
    assert!(ok, "{err}");
    let copied = |tree: &str| -> u64 {
        out.lines()
            .find_map(|l| l.trim().strip_prefix(tree)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("{tree} in {out}"))
    };
    assert_eq!(copied("users"), 2, "{out}");
    assert_eq!(copied("orgs"), 1);
    assert_eq!(copied("operators"), 1);
    assert_eq!(copied("sessions"), 1);
    assert!(copied("audit") >= 4, "{out}");
    for tree in ["users", "orgs", "operators", "sessions", "audit", "meta"] {
        assert_eq!(count(cluster, "migrated", tree), copied(tree), "{tree}");
    }
    assert!(!out.contains("hunter2") && out.contains("password=***"), "{out}");
    assert!(out.contains("TWOSTEP_MASTER_KEY"), "{out}");
    // Operators can query what they need with plain SQL.
    let org = cluster
        .psql("postgres", "SET search_path = migrated; SELECT org FROM users WHERE key = 'bob'")
        .unwrap();
    assert_eq!(org, "acme");

    // A second run finds a non-empty target and refuses.
    let (ok, _, err) = cli(&["admin", "migrate-store", "--from", from, "--to", &url]);
    assert!(!ok);
    assert!(err.contains("not empty"), "{err}");
    assert_eq!(count(cluster, "migrated", "users"), 2);
    // A data dir without a store is refused, not turned into an empty copy.
    let (ok, _, err) =
        cli(&["admin", "migrate-store", "--from", tmp.path().to_str().unwrap(), "--to", &url]);
    assert!(!ok);
    assert!(err.contains("holds no embedded store"), "{err}");

    // A server on PostgreSQL with the same master key serves the migrated deployment.
    let pg_dir = tmp.path().join("pg");
    std::fs::create_dir_all(&pg_dir).unwrap();
    std::fs::copy(sled_dir.join("server.key"), pg_dir.join("server.key")).unwrap();
    let config = twostep_server::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: pg_dir,
        database_url: Some(DatabaseUrl(url.clone())),
        ..Default::default()
    };
    let server = twostep_server::start(config).await.unwrap();
    assert!(server.setup_token().is_none(), "the operator came along");
    let base = server.url();
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let call = |method: reqwest::Method, path: &str, token: Option<&str>, body: Option<Value>| {
        let mut r = http.request(method, format!("{base}{path}"));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        if let Some(b) = body {
            r = r.json(&b);
        }
        async move {
            let resp = r.send().await.unwrap();
            let s = resp.status().as_u16();
            (s, resp.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (s, me) = call(reqwest::Method::GET, "/v1/me", Some(&token), None).await;
    assert_eq!(s, 200, "bob's session survived the move: {me}");
    let code = |st: u64| code_at(&secret, st * 30);
    let verify = "/v1/me/two-step/verify";
    let (s, _) =
        call(reqwest::Method::POST, verify, Some(&token), Some(json!({"code": code(step)}))).await;
    assert_eq!(s, 401, "the replay state came along: the used step stays used");
    let (s, v) =
        call(reqwest::Method::POST, verify, Some(&token), Some(json!({"code": code(step + 1)})))
            .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = call(
        reqwest::Method::POST,
        "/v1/signin",
        None,
        Some(json!({"username": "alice", "password": "alice-password", "client": "web"})),
    )
    .await;
    assert_eq!((s, v["status"].as_str()), (200, Some("session")), "{v}");
    let (_, op) = call(
        reqwest::Method::POST,
        "/v1/admin/signin",
        None,
        Some(json!({"username": "root", "password": "operator-password"})),
    )
    .await;
    let op = op["token"].as_str().unwrap().to_owned();
    let (s, audit) =
        call(reqwest::Method::GET, "/v1/admin/audit?limit=1000", Some(&op), None).await;
    assert_eq!(s, 200);
    let events = audit["events"].as_array().unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(&kinds[..2], ["operator_created", "org_created"], "old events first: {kinds:?}");
    assert!(kinds.contains(&"step_up_verified") && kinds.contains(&"operator_sign_in"));
    let ids: Vec<u64> = events.iter().map(|e| e["id"].as_u64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "new ids continue after the old ones: {ids:?}");
    server.shutdown().await;
}
