//! `PgStore` against a real throwaway cluster.

#![allow(clippy::unwrap_used)]

use super::*;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

static SCHEMAS: AtomicUsize = AtomicUsize::new(0);

/// A fresh schema in the process's shared cluster.
fn fresh_url() -> String {
    let c = twostep_pgtemp::Cluster::shared().expect("PostgreSQL cluster");
    let n = SCHEMAS.fetch_add(1, Ordering::SeqCst);
    c.schema_url(&format!("unit_{}_{n}", std::process::id())).unwrap()
}

#[tokio::test]
async fn cas_get_put_remove_behave_like_the_embedded_store() {
    let s = PgStore::connect(&fresh_url(), 4).await.unwrap();
    assert!(s.compare_and_swap(Tree::Users, b"a", None, Some(b"1".to_vec())).await.unwrap());
    assert!(!s.compare_and_swap(Tree::Users, b"a", None, Some(b"2".to_vec())).await.unwrap());
    assert!(!s.compare_and_swap(Tree::Users, b"a", Some(b"3"), Some(b"4".to_vec())).await.unwrap());
    assert!(s.compare_and_swap(Tree::Users, b"a", Some(b"1"), Some(b"2".to_vec())).await.unwrap());
    assert_eq!(s.get(Tree::Users, b"a").await.unwrap().as_deref(), Some(&b"2"[..]));
    assert!(s.compare_and_swap(Tree::Users, b"b", None, None).await.unwrap());
    assert!(!s.compare_and_swap(Tree::Users, b"a", None, None).await.unwrap());
    assert!(s.compare_and_swap(Tree::Users, b"a", Some(b"2"), None).await.unwrap());
    assert_eq!(s.get(Tree::Users, b"a").await.unwrap(), None);
    // JSON objects come back equal as JSON (jsonb normalizes spacing and key order), and
    // the bytes that came back are what a compare-and-swap expects.
    s.put(Tree::Orgs, b"acme", br#"{"name": "acme",  "n": 1}"#.to_vec()).await.unwrap();
    let back = s.get(Tree::Orgs, b"acme").await.unwrap().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&back).unwrap();
    assert_eq!(v, serde_json::json!({"name": "acme", "n": 1}));
    assert!(
        s.compare_and_swap(Tree::Orgs, b"acme", Some(&back), Some(b"{}".to_vec())).await.unwrap()
    );
    assert!(s.remove(Tree::Orgs, b"acme").await.unwrap());
    assert!(!s.remove(Tree::Orgs, b"acme").await.unwrap());
    // Keys PostgreSQL text cannot hold, and values that are not JSON, are errors.
    assert!(s.put(Tree::Users, b"x\0y", b"1".to_vec()).await.is_err());
    assert!(s.put(Tree::Users, b"x", b"not json".to_vec()).await.is_err());
    s.flush().await.unwrap();
}

#[tokio::test]
async fn scans_follow_byte_order_prefixes_and_resume_points() {
    let s = PgStore::connect(&fresh_url(), 4).await.unwrap();
    for k in ["u1.a", "u1.b", "u1.c", "u1/", "u1", "u10.a", "u2.a", "é.1", "é.2"] {
        s.put(Tree::Devices, k.as_bytes(), b"0".to_vec()).await.unwrap();
    }
    let keys =
        |p: Pairs| p.into_iter().map(|(k, _)| String::from_utf8(k).unwrap()).collect::<Vec<_>>();
    assert_eq!(
        keys(s.scan(Tree::Devices, b"u1.", None, 10).await.unwrap()),
        ["u1.a", "u1.b", "u1.c"]
    );
    assert_eq!(
        keys(s.scan(Tree::Devices, b"u1.", Some(b"u1.a"), 10).await.unwrap()),
        ["u1.b", "u1.c"]
    );
    assert_eq!(keys(s.scan(Tree::Devices, b"u1.", Some(b"u1.a"), 1).await.unwrap()), ["u1.b"]);
    assert_eq!(
        keys(s.scan(Tree::Devices, "é.".as_bytes(), None, 10).await.unwrap()),
        ["é.1", "é.2"]
    );
    let all = keys(s.scan(Tree::Devices, b"", None, 100).await.unwrap());
    let mut sorted = all.clone();
    sorted.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
    assert_eq!(all, sorted, "byte order");
    assert_eq!(all.len(), 9);
    // The audit log: 8-byte big-endian ids, scanned in numeric order.
    for id in [3u64, 1, 300, 2] {
        s.put(Tree::Audit, &id.to_be_bytes(), format!("{{\"id\":{id}}}").into_bytes())
            .await
            .unwrap();
    }
    let ids = |p: Pairs| {
        p.into_iter().map(|(k, _)| u64::from_be_bytes(k.try_into().unwrap())).collect::<Vec<_>>()
    };
    assert_eq!(ids(s.scan(Tree::Audit, b"", None, 10).await.unwrap()), [1, 2, 3, 300]);
    assert_eq!(
        ids(s.scan(Tree::Audit, b"", Some(&2u64.to_be_bytes()), 10).await.unwrap()),
        [3, 300]
    );
    let a = s.next_id().await.unwrap();
    assert!(s.next_id().await.unwrap() > a);
    // Appending takes the next id in the same statement and writes it into the record.
    let x = s.append(Tree::Audit, br#"{"id":0,"kind":"x"}"#.to_vec()).await.unwrap();
    let y = s.append(Tree::Audit, br#"{"id":0,"kind":"y"}"#.to_vec()).await.unwrap();
    assert!(y > x && x > a);
    let v: serde_json::Value =
        serde_json::from_slice(&s.get(Tree::Audit, &y.to_be_bytes()).await.unwrap().unwrap())
            .unwrap();
    assert_eq!(v, serde_json::json!({"id": y, "kind": "y"}));
    assert!(s.append(Tree::Users, b"{}".to_vec()).await.is_err(), "text-keyed trees refuse");
}

#[tokio::test]
async fn compare_and_swap_is_atomic_across_two_pools() {
    // Two stores on one database are two replicas: 2 × 8 tasks increment one counter by
    // read + compare-and-swap; every increment must count exactly once.
    let url = fresh_url();
    let a = Arc::new(PgStore::connect(&url, 4).await.unwrap());
    let b = Arc::new(PgStore::connect(&url, 4).await.unwrap());
    let mut tasks = Vec::new();
    for i in 0..16 {
        let s = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            let mut retries = 0;
            for _ in 0..10 {
                loop {
                    let cur = s.get(Tree::Throttle, b"n").await.unwrap();
                    let n: u64 =
                        cur.as_deref().map(|c| serde_json::from_slice(c).unwrap()).unwrap_or(0);
                    let next = serde_json::to_vec(&(n + 1)).unwrap();
                    if s.compare_and_swap(Tree::Throttle, b"n", cur.as_deref(), Some(next))
                        .await
                        .unwrap()
                    {
                        break;
                    }
                    retries += 1;
                }
            }
            retries
        }));
    }
    let mut retries = 0;
    for t in tasks {
        retries += t.await.unwrap();
    }
    let n: u64 =
        serde_json::from_slice(&a.get(Tree::Throttle, b"n").await.unwrap().unwrap()).unwrap();
    assert_eq!(n, 160, "every increment counted once ({retries} lost races retried)");
}

#[tokio::test]
async fn migrations_apply_once_and_a_newer_schema_is_refused() {
    let url = fresh_url();
    // Three replicas starting at once: the advisory lock lets one migrate.
    let (a, b, c) = tokio::join!(
        PgStore::connect(&url, 2),
        PgStore::connect(&url, 1),
        PgStore::connect(&url, 1)
    );
    let (a, _b, _c) = (a.unwrap(), b.unwrap(), c.unwrap());
    let client = a.client().await.unwrap();
    let rows = client.query("SELECT version FROM twostep_migrations", &[]).await.unwrap();
    assert_eq!(rows.len(), migrate::MIGRATIONS.len());
    // The generated columns operators query are filled from the record.
    a.put(Tree::Audit, &9u64.to_be_bytes(), br#"{"id":9,"at_ms":1764500000123,"kind":"code_rejected","user":"alice","org":"acme","client":"web","address":"10.0.0.1","operator":null,"detail":"totp"}"#.to_vec()).await.unwrap();
    let row = client
        .query_one(
            "SELECT kind, username, org, extract(epoch FROM at)::float8 FROM audit WHERE username = 'alice'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, &str>(0), "code_rejected");
    assert_eq!(row.get::<_, &str>(2), "acme");
    assert!((row.get::<_, f64>(3) - 1_764_500_000.123).abs() < 0.001);
    // An out-of-range field does not fail the write; its column is NULL.
    a.put(
        Tree::Throttle,
        b"x",
        br#"{"failures":3,"blocked_until":18446744073709551615,"locked":"?"}"#.to_vec(),
    )
    .await
    .unwrap();
    client
        .execute("INSERT INTO twostep_migrations (version, name) VALUES (999, 'future')", &[])
        .await
        .unwrap();
    match PgStore::connect(&url, 1).await {
        Err(StoreError::NewerSchema { found: 999, known }) => {
            assert_eq!(known, migrate::latest() as u64)
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn a_swap_and_its_log_record_are_written_together_or_not_at_all() {
    let url = fresh_url();
    let a = Arc::new(PgStore::connect(&url, 4).await.unwrap());
    let b = Arc::new(PgStore::connect(&url, 4).await.unwrap());
    a.put(Tree::Users, b"u", br#"{"step":1}"#.to_vec()).await.unwrap();
    let log = |n: u32| format!(r#"{{"id":0,"kind":"k{n}"}}"#).into_bytes();
    let miss = a
        .compare_and_swap_and_append(
            Tree::Users,
            b"u",
            Some(b"{\"step\":0}"),
            Some(b"{\"step\":2}".to_vec()),
            Tree::Audit,
            log(0),
        )
        .await
        .unwrap();
    assert_eq!(miss, None, "a failed swap logs nothing");
    assert!(a.scan(Tree::Audit, b"", None, 10).await.unwrap().is_empty());
    // Sixteen tasks on two pools swap the same expected value: one wins, one record.
    let mut tasks = Vec::new();
    for i in 0..16u32 {
        let s = if i % 2 == 0 { a.clone() } else { b.clone() };
        tasks.push(tokio::spawn(async move {
            let new = format!(r#"{{"step":2,"by":{i}}}"#).into_bytes();
            s.compare_and_swap_and_append(
                Tree::Users,
                b"u",
                Some(br#"{"step":1}"#),
                Some(new),
                Tree::Audit,
                log(i),
            )
            .await
            .unwrap()
        }));
    }
    let mut won = Vec::new();
    for t in tasks {
        won.extend(t.await.unwrap());
    }
    assert_eq!(won.len(), 1, "{won:?}");
    let logged = a.scan(Tree::Audit, b"", None, 10).await.unwrap();
    assert_eq!(logged.len(), 1);
    let rec: serde_json::Value = serde_json::from_slice(&logged[0].1).unwrap();
    assert_eq!(rec["id"], won[0]);
    let user: serde_json::Value =
        serde_json::from_slice(&a.get(Tree::Users, b"u").await.unwrap().unwrap()).unwrap();
    assert_eq!(rec["kind"], format!("k{}", user["by"]), "the winner's record");
    // Other shapes (create, remove) take the two-step path.
    let created = a
        .compare_and_swap_and_append(
            Tree::Users,
            b"v",
            None,
            Some(b"{}".to_vec()),
            Tree::Audit,
            log(99),
        )
        .await
        .unwrap();
    assert!(created.is_some_and(|id| id > won[0]));
}

#[tokio::test]
async fn expired_records_are_swept_once_by_concurrent_sweepers_and_renewed_ones_stay() {
    let url = fresh_url();
    let a = Arc::new(PgStore::connect(&url, 4).await.unwrap());
    let b = Arc::new(PgStore::connect(&url, 4).await.unwrap());
    let rec = |at: u64| format!(r#"{{"device_id":"d","expires_at":{at}}}"#).into_bytes();
    for i in 0..50 {
        a.put(Tree::Nonces, format!("old{i:02}").as_bytes(), rec(100)).await.unwrap();
    }
    a.put(Tree::Nonces, b"live", rec(500)).await.unwrap();
    a.put(Tree::Nonces, b"never", br#"{"device_id":"d"}"#.to_vec()).await.unwrap();
    // A request renewing `old00` holds its row while the sweepers run.
    let mut holder = a.pool.get().await.unwrap();
    let tx = holder.transaction().await.unwrap();
    tx.execute("UPDATE nonces SET value = $1 WHERE key = 'old00'", &[&Jsonb(&rec(900))])
        .await
        .unwrap();
    // Two replicas sweep at once, in batches of 7, until neither finds anything.
    let sweep = |s: Arc<PgStore>| async move {
        let mut removed = 0;
        loop {
            let batch = s.sweep_expired(Tree::Nonces, None, 7, 200).await.unwrap();
            assert!(batch.removed <= 7);
            removed += batch.removed;
            if batch.next.is_none() {
                return removed;
            }
        }
    };
    let (ra, rb) = tokio::join!(sweep(a.clone()), sweep(b.clone()));
    assert_eq!(ra + rb, 49, "each expired record once; the held one skipped ({ra} + {rb})");
    tx.commit().await.unwrap();
    // Renewed: its new expiry counts, so it stays.
    assert_eq!(a.sweep_expired(Tree::Nonces, None, 100, 200).await.unwrap().removed, 0);
    let left = a.scan(Tree::Nonces, b"", None, 100).await.unwrap();
    let keys: Vec<_> = left.iter().map(|(k, _)| String::from_utf8(k.clone()).unwrap()).collect();
    assert_eq!(keys, ["live", "never", "old00"]);
    // Every expiring tree has its indexed column (swept natively, not by scanning).
    for t in Tree::EXPIRING {
        assert!(a.expiring.contains(&t), "{t:?}");
    }
}
