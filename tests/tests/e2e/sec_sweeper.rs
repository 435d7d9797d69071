//! Expired records are swept by a background task in bounded batches, visibly in /metrics.

use futures::future::join_all;
use serde_json::{Value, json};
use std::time::Duration;
use twostep_e2e::{Harness, Options, now};
use twostep_server::store::Tree;

/// Trees with expiring records, and a record of each kind expiring at `at`.
fn expiring(at: u64) -> Vec<(Tree, Value)> {
    vec![
        (Tree::Nonces, json!({"device_id": "d", "username": "u", "expires_at": at})),
        (Tree::Challenges, json!({"id": "c", "username": "u", "expires_at": at})),
        (Tree::Sessions, json!({"username": "u", "user_id": "i", "expires_at": at})),
        (Tree::OperatorSessions, json!({"operator": "o", "expires_at": at})),
        (
            Tree::Throttle,
            json!({"failures": 3, "blocked_until": 0, "locked": false, "expires_at": at}),
        ),
        (Tree::RegistrationNonces, json!({"expires_at": at})),
        (Tree::AddressFailures, json!({"start": 0, "count": 3, "expires_at": at})),
        (Tree::Rates, json!({"start": 0, "count": 3, "expires_at": at})),
        (Tree::MessageLimits, json!({"until": at, "expires_at": at})),
    ]
}

async fn exists(h: &Harness, tree: Tree, key: &str) -> bool {
    h.app().repo.store().get(tree, key.as_bytes()).await.unwrap().is_some()
}

#[tokio::test]
async fn expired_records_are_swept_in_bounded_batches_and_counted() {
    let h = Harness::start_with(Options {
        configure: Some(|c| {
            c.sweep_interval_secs = 1;
            c.sweep_batch = 3;
        }),
        ..Options::default()
    })
    .await;
    let store = h.app().repo.store().clone();
    let removed_before = h.metric("twostep_sweeper_removed_total").await;
    for i in 0..7 {
        for (tree, rec) in expiring(now() - 5) {
            let key = format!("expired-{i}");
            store.put(tree, key.as_bytes(), serde_json::to_vec(&rec).unwrap()).await.unwrap();
        }
    }
    for i in 0..2 {
        for (tree, rec) in expiring(now() + 3600) {
            let key = format!("live-{i}");
            store.put(tree, key.as_bytes(), serde_json::to_vec(&rec).unwrap()).await.unwrap();
        }
    }
    // A locked account's record never expires; neither do records without an expiry.
    let locked = json!({"failures": 100, "blocked_until": 0, "locked": true});
    store.put(Tree::Throttle, b"locked-user", serde_json::to_vec(&locked).unwrap()).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let mut left = 0;
        for i in 0..7 {
            for (tree, _) in expiring(0) {
                left += usize::from(exists(&h, tree, &format!("expired-{i}")).await);
            }
        }
        if left == 0 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{left} expired records left");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for i in 0..2 {
        for (tree, _) in expiring(0) {
            assert!(exists(&h, tree, &format!("live-{i}")).await, "{tree:?} live-{i} kept");
        }
    }
    assert!(exists(&h, Tree::Throttle, "locked-user").await);
    let removed = h.metric("twostep_sweeper_removed_total").await - removed_before;
    assert!(removed >= 63, "{removed}");
    // Three records per tree and run: seven expired records need at least three runs.
    assert!(h.metric("twostep_sweeper_runs_total").await >= 3);
}

#[tokio::test]
async fn sweepers_running_at_once_remove_each_expired_record_once() {
    // As if several replicas swept the same store: each record is removed exactly once.
    let h = Harness::start().await;
    let app = h.app().clone();
    let store = app.repo.store().clone();
    for i in 0..40 {
        let rec = json!({"device_id": "d", "username": "u", "expires_at": now() - 1});
        let key = format!("n-{i:02}");
        store.put(Tree::Nonces, key.as_bytes(), serde_json::to_vec(&rec).unwrap()).await.unwrap();
    }
    let runs = (0..4).map(|_| {
        let app = app.clone();
        async move {
            let mut cursors = twostep_server::sweeper::Cursors::default();
            twostep_server::sweeper::sweep_once(&app, &mut cursors, now()).await.unwrap()
        }
    });
    let removed: usize = join_all(runs).await.into_iter().sum();
    assert_eq!(removed, 40);
    assert!(store.scan(Tree::Nonces, b"n-", None, 100).await.unwrap().is_empty());
}

#[tokio::test]
async fn one_interval_sweeps_a_tree_many_batches_long() {
    // Sessions expire faster than one batch per interval could remove them (a server issues
    // more sessions a minute than `sweep_batch`): each interval makes a whole pass, and then
    // rests until the next, however many trees need many batches.
    let h = Harness::start_with(Options {
        configure: Some(|c| {
            c.sweep_interval_secs = 3;
            c.sweep_batch = 5;
        }),
        ..Options::default()
    })
    .await;
    let store = h.app().repo.store().clone();
    let put = |tree: Tree, key: String, expires_at: u64| {
        let store = store.clone();
        async move {
            let rec = json!({"username": "u", "user_id": "i", "expires_at": expires_at});
            store.put(tree, key.as_bytes(), serde_json::to_vec(&rec).unwrap()).await.unwrap();
        }
    };
    for i in 0..400 {
        put(Tree::Sessions, format!("expired-{i:03}"), now() - 1).await;
    }
    // Live records that take the pass several batches in two trees (23 and 17 batches).
    for i in 0..110 {
        put(Tree::Sessions, format!("live-{i:03}"), now() + 3600).await;
    }
    for i in 0..83 {
        put(Tree::Nonces, format!("live-{i:03}"), now() + 3600).await;
    }
    // One batch per interval would need 80 intervals (240 s); a pass needs one.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let left = store.scan(Tree::Sessions, b"expired-", None, 500).await.unwrap().len();
        if left == 0 {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{left} of 400 expired sessions left");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(store.scan(Tree::Sessions, b"live-", None, 500).await.unwrap().len(), 110);
    assert_eq!(store.scan(Tree::Nonces, b"live-", None, 500).await.unwrap().len(), 83);
    assert!(h.metric("twostep_sweeper_runs_total").await >= 80);
    // A pass ends: for a while no run happens (not one pass running into the next).
    let mut runs = h.metric("twostep_sweeper_runs_total").await;
    let mut rested = false;
    for _ in 0..30 {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let now_runs = h.metric("twostep_sweeper_runs_total").await;
        if now_runs == runs {
            rested = true;
            break;
        }
        runs = now_runs;
    }
    assert!(rested, "the sweeper never rests between passes ({runs} runs)");
}
