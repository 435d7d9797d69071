//! Removing expired records, one bounded batch at a time.
//!
//! Every record that can expire stores its own `expires_at` (Unix seconds). The sweeper asks
//! the store for one batch per tree and run; the default implementation scans in key order
//! and removes each expired record with a compare-and-swap of the exact bytes it read.

use super::{Store, StoreError, Tree};

/// What one batch did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SweepBatch {
    /// Records examined.
    pub scanned: usize,
    /// Records removed (expired, and unchanged between the read and the removal).
    pub removed: usize,
    /// Where the next batch continues; `None` when the end of the tree was reached.
    pub next: Option<Vec<u8>>,
}

#[derive(serde::Deserialize)]
struct Expiry {
    #[serde(default)]
    expires_at: Option<u64>,
}

/// The record's expiry, if it has one (records without one never expire).
pub fn expiry_of(value: &[u8]) -> Option<u64> {
    serde_json::from_slice::<Expiry>(value).ok().and_then(|e| e.expires_at)
}

/// The scanning implementation of [`Store::sweep_expired`].
pub async fn by_scan<S: Store + ?Sized>(
    store: &S,
    tree: Tree,
    after: Option<&[u8]>,
    limit: usize,
    now: u64,
) -> Result<SweepBatch, StoreError> {
    let limit = limit.max(1);
    let pairs = store.scan(tree, b"", after, limit).await?;
    let mut batch = SweepBatch {
        scanned: pairs.len(),
        next: if pairs.len() < limit { None } else { pairs.last().map(|(k, _)| k.clone()) },
        ..SweepBatch::default()
    };
    for (key, value) in pairs {
        if expiry_of(&value).is_some_and(|at| at <= now)
            && store.compare_and_swap(tree, &key, Some(&value), None).await?
        {
            batch.removed += 1;
        }
    }
    Ok(batch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Pairs, SledStore};

    /// A store that renews the first record right after a scan has read it, as a concurrent
    /// request would.
    struct RenewAfterScan(SledStore);

    #[async_trait::async_trait]
    impl Store for RenewAfterScan {
        async fn get(&self, t: Tree, k: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
            self.0.get(t, k).await
        }
        async fn put(&self, t: Tree, k: &[u8], v: Vec<u8>) -> Result<(), StoreError> {
            self.0.put(t, k, v).await
        }
        async fn remove(&self, t: Tree, k: &[u8]) -> Result<bool, StoreError> {
            self.0.remove(t, k).await
        }
        async fn compare_and_swap(
            &self,
            t: Tree,
            k: &[u8],
            e: Option<&[u8]>,
            n: Option<Vec<u8>>,
        ) -> Result<bool, StoreError> {
            self.0.compare_and_swap(t, k, e, n).await
        }
        async fn scan(
            &self,
            t: Tree,
            p: &[u8],
            a: Option<&[u8]>,
            l: usize,
        ) -> Result<Pairs, StoreError> {
            let pairs = self.0.scan(t, p, a, l).await?;
            if let Some((k, _)) = pairs.first() {
                self.0.put(t, k, br#"{"expires_at": 9999999999}"#.to_vec()).await?;
            }
            Ok(pairs)
        }
        async fn next_id(&self) -> Result<u64, StoreError> {
            self.0.next_id().await
        }
        async fn flush(&self) -> Result<(), StoreError> {
            self.0.flush().await
        }
    }

    #[tokio::test]
    async fn only_expired_unchanged_records_go_in_bounded_batches() {
        let dir = tempfile::tempdir().unwrap();
        let s = SledStore::open(dir.path()).unwrap();
        for i in 0..5u8 {
            s.put(Tree::Nonces, &[b'a', i], br#"{"expires_at": 100}"#.to_vec()).await.unwrap();
        }
        s.put(Tree::Nonces, b"live", br#"{"expires_at": 500}"#.to_vec()).await.unwrap();
        s.put(Tree::Nonces, b"never", br#"{"locked": true}"#.to_vec()).await.unwrap();
        let first = s.sweep_expired(Tree::Nonces, None, 2, 200).await.unwrap();
        assert_eq!((first.scanned, first.removed), (2, 2));
        let mut cursor = first.next;
        let mut removed = 2;
        while let Some(c) = cursor {
            let b = s.sweep_expired(Tree::Nonces, Some(&c), 2, 200).await.unwrap();
            assert!(b.scanned <= 2);
            removed += b.removed;
            cursor = b.next;
        }
        assert_eq!(removed, 5);
        assert!(s.get(Tree::Nonces, b"live").await.unwrap().is_some());
        assert!(s.get(Tree::Nonces, b"never").await.unwrap().is_some());

        let renewing = RenewAfterScan(s);
        renewing.put(Tree::Nonces, b"b", br#"{"expires_at": 100}"#.to_vec()).await.unwrap();
        let b = renewing.sweep_expired(Tree::Nonces, None, 10, 200).await.unwrap();
        assert_eq!(b.removed, 0, "the record changed after it was read: it stays");
        assert!(renewing.get(Tree::Nonces, b"b").await.unwrap().is_some());
    }
}
