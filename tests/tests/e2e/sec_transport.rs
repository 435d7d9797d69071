//! The transport and the host: client addresses behind proxies, slow clients, file modes.

use futures::future::join_all;
use serde_json::json;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use twostep_e2e::{Harness, Options, StoreKind};

async fn wrong_sign_in_from(h: &Harness, user: &str, forwarded: &str) -> u16 {
    let req = h
        .http()
        .post(format!("{}/v1/signin", h.url()))
        .header("x-forwarded-for", forwarded)
        .json(&json!({"username": user, "password": "wrong-password", "client": "web"}));
    h.send(req).await.status
}

async fn last_failure_address(h: &Harness, user: &str) -> String {
    let (_, page) = h.admin("GET", &format!("/v1/admin/audit?user={user}"), None).await;
    let e = page["events"].as_array().unwrap().iter().rfind(|e| e["kind"] == "sign_in_failed");
    e.unwrap()["address"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn forwarded_for_is_read_from_the_trusted_proxy_side() {
    // One trusted proxy: the client is the address that proxy appended (the rightmost).
    let h = Harness::start_with(Options {
        configure: Some(|c| c.trusted_proxies = 1),
        ..Options::default()
    })
    .await;
    for i in 0..30 {
        let xff = format!("198.51.100.{i}, 203.0.113.7");
        assert_eq!(wrong_sign_in_from(&h, &format!("ghost{i}"), &xff).await, 401);
    }
    assert_eq!(last_failure_address(&h, "ghost29").await, "203.0.113.7", "not the spoofed entry");
    let status = wrong_sign_in_from(&h, "ghost-new", "198.51.100.250, 203.0.113.7").await;
    assert_eq!(status, 429, "rotating the client-controlled part does not escape the limit");
    // Another client behind the same proxy has its own budget.
    assert_eq!(wrong_sign_in_from(&h, "ghost-other", "203.0.113.8").await, 401);

    // Trusted proxy networks: skip every trusted hop from the right.
    let h = Harness::start_with(Options {
        configure: Some(|c| {
            c.trusted_proxy_cidrs = vec!["127.0.0.0/8".into(), "10.0.0.0/8".into()];
        }),
        ..Options::default()
    })
    .await;
    wrong_sign_in_from(&h, "ghost1", "198.51.100.9, 203.0.113.7, 10.1.2.3").await;
    assert_eq!(last_failure_address(&h, "ghost1").await, "203.0.113.7");
    wrong_sign_in_from(&h, "ghost2", "garbage, 10.1.2.3").await;
    assert_eq!(last_failure_address(&h, "ghost2").await, "10.1.2.3", "a bad entry ends the walk");
}

/// Opens a connection that sends part of a request and then stalls.
async fn half_open(h: &Harness, head: &str) -> TcpStream {
    let mut s = TcpStream::connect(h.config().listen).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    s
}

/// Whether the server closes the connection within `within`.
async fn closed_by_server(mut s: TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue, // e.g. a 408 answer before the close
        }
    }
}

#[tokio::test]
async fn slow_and_idle_connections_are_cut_while_health_and_sign_in_answer() {
    let h = Harness::start_with(Options {
        configure: Some(|c| {
            c.header_timeout_secs = 1;
            c.body_timeout_secs = 1;
            c.idle_timeout_secs = 2;
        }),
        ..Options::default()
    })
    .await;
    h.create_org("acme", false).await;
    h.create_user("acme", "alice", "alice-password").await;
    let head = "POST /v1/signin HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n";
    let mut held = Vec::new();
    for _ in 0..300 {
        held.push(half_open(&h, head).await);
    }
    let mut slow_bodies = Vec::new();
    for _ in 0..10 {
        slow_bodies.push(
            half_open(&h, "POST /v1/signin HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 200\r\n\r\n{\"user").await,
        );
    }
    let mut idle = Vec::new();
    for _ in 0..10 {
        let mut s = half_open(&h, "GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n").await;
        let mut buf = [0u8; 512];
        assert!(s.read(&mut buf).await.unwrap() > 0, "answered, then kept alive");
        idle.push(s);
    }
    // While all of them are held, the server keeps answering.
    let fresh = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    let r = fresh.get(format!("{}/healthz", h.url())).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let token = h.web_token("alice", "alice-password").await;
    assert!(!token.is_empty());
    // The server cuts them: headers and bodies that do not arrive, and idle keep-alives.
    let cut = join_all(held.into_iter().map(|s| closed_by_server(s, Duration::from_secs(6)))).await;
    assert_eq!(cut.iter().filter(|c| **c).count(), 300, "every half-sent request was cut");
    let cut =
        join_all(slow_bodies.into_iter().map(|s| closed_by_server(s, Duration::from_secs(6))));
    assert!(cut.await.iter().all(|c| *c), "slow bodies were cut");
    let cut = join_all(idle.into_iter().map(|s| closed_by_server(s, Duration::from_secs(6)))).await;
    assert!(cut.iter().all(|c| *c), "idle keep-alive connections were closed");
}

#[tokio::test]
async fn the_connection_cap_holds_and_health_is_answered_as_slots_free_up() {
    let h = Harness::start_with(Options {
        configure: Some(|c| {
            c.header_timeout_secs = 1;
            c.max_connections = 50;
        }),
        ..Options::default()
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..120 {
        held.push(half_open(&h, "GET /healthz HTTP/1.1\r\nhost: x\r\n").await);
    }
    let fresh = reqwest::Client::builder().timeout(Duration::from_secs(15)).build().unwrap();
    let r = fresh.get(format!("{}/healthz", h.url())).send().await.unwrap();
    assert_eq!(r.status(), 200, "answered once the header timeout frees slots");
    let open = h.metric("twostep_http_connections_open").await;
    assert!((1..=50).contains(&open), "{open} connections open; the cap is 50");
    assert!(h.metric("twostep_http_connections_timed_out_total").await >= 50);
    drop(held);
}

#[cfg(unix)]
#[tokio::test]
async fn the_data_dir_is_private_and_one_others_can_write_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let h = Harness::start().await;
    h.create_org("acme", false).await;
    h.create_user("acme", "kim", "kim-password").await;
    h.enroll_email("kim", "kim-password", "kim@example.com").await; // writes the outbox
    h.app().repo.store().flush().await.unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = h.data_dir().to_path_buf();
    let mut stack = vec![dir.clone()];
    let mut files = 0;
    while let Some(p) = stack.pop() {
        if p.is_dir() {
            assert_eq!(mode(&p), 0o700, "{}", p.display());
            stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        } else {
            assert_eq!(mode(&p), 0o600, "{}", p.display());
            files += 1;
        }
    }
    assert!(dir.join("outbox").is_dir() && dir.join("server.key").is_file());
    // The embedded store lives in the data dir too (PostgreSQL keeps its own files).
    let embedded = h.store_kind() == StoreKind::Sled;
    assert_eq!(dir.join("db").is_dir(), embedded);
    assert!(files > if embedded { 3 } else { 1 }, "{files} files");

    // A data dir that others can write is refused, and nothing is created in it.
    let scratch = h.scratch("open-dir");
    std::fs::set_permissions(&scratch, std::fs::Permissions::from_mode(0o777)).unwrap();
    let config = twostep_server::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: scratch.clone(),
        ..Default::default()
    };
    let err = twostep_server::start(config).await.map(|_| ()).unwrap_err().to_string();
    assert!(err.contains("others can write") && err.contains("open-dir"), "{err}");
    assert_eq!(std::fs::read_dir(&scratch).unwrap().count(), 0);
    // A readable one is tightened.
    let readable = h.scratch("readable");
    std::fs::set_permissions(&readable, std::fs::Permissions::from_mode(0o755)).unwrap();
    let config = twostep_server::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: readable.clone(),
        ..Default::default()
    };
    let server = twostep_server::start(config).await.unwrap();
    assert_eq!(mode(&readable), 0o700);
    server.shutdown().await;
}
