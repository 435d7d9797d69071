//! `/readyz` follows the store: a replica whose PostgreSQL is gone answers `503` there (so
//! the load balancer takes it out) while `/healthz` still says the process runs; requests
//! that need the store fail with a clear error instead of hanging.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};
use twostep_server::config::DatabaseUrl;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_follows_the_database() {
    // Its own cluster: this test stops it.
    let cluster = twostep_pgtemp::Cluster::start(&Default::default()).expect("cluster");
    let tmp = tempfile::tempdir().unwrap();
    let config = twostep_server::Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: tmp.path().to_owned(),
        database_url: Some(DatabaseUrl(cluster.url("postgres"))),
        ..Default::default()
    };
    let server = twostep_server::start(config).await.unwrap();
    let http = reqwest::Client::builder().timeout(Duration::from_secs(15)).build().unwrap();
    let get = |path: &str| http.get(format!("{}{path}", server.url())).send();
    assert_eq!(get("/readyz").await.unwrap().status(), 200);
    cluster.stop();
    let r = get("/readyz").await.unwrap();
    assert_eq!(r.status(), 503);
    assert!(r.headers().contains_key("retry-after"));
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unavailable");
    assert_eq!(get("/healthz").await.unwrap().status(), 200, "the process itself is alive");
    let t = Instant::now();
    let r = http
        .post(format!("{}/v1/signin", server.url()))
        .json(&serde_json::json!({"username": "a", "password": "b", "client": "web"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500, "a request that needs the store fails");
    assert!(t.elapsed() < Duration::from_secs(12), "and does not hang: {:?}", t.elapsed());
    server.shutdown().await;
}
