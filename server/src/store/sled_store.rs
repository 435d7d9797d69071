//! The embedded default: one sled database in the data directory.
//!
//! Writes land in sled's memory first; [`Store::flush`] makes them durable through the group
//! commit in [`super::group_flush`], one `fsync` for every request waiting at the time.

use super::group_flush::GroupFlush;
use super::{Pairs, Store, StoreError, Tree};
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// sled-backed [`Store`].
pub struct SledStore {
    db: Arc<sled::Db>,
    trees: HashMap<Tree, sled::Tree>,
    group: Arc<GroupFlush>,
}

impl std::fmt::Debug for SledStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SledStore").finish_non_exhaustive()
    }
}

fn backend(e: sled::Error) -> StoreError {
    match e {
        sled::Error::Io(io) if io.kind() == std::io::ErrorKind::WouldBlock => StoreError::Locked,
        sled::Error::Io(io) if io.to_string().contains("lock") => StoreError::Locked,
        other => StoreError::Backend(other.to_string()),
    }
}

/// The page cache of [`SledStore::open`].
pub const DEFAULT_CACHE_BYTES: u64 = 256 * 1024 * 1024;

impl SledStore {
    /// Opens (or creates) the store in `dir` with the default page cache. Must run inside a
    /// tokio runtime (the group flusher is a task).
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        Self::open_with_cache(dir, DEFAULT_CACHE_BYTES)
    }

    /// Opens (or creates) the store in `dir`; sled caches at most about `cache_bytes` of
    /// pages (its own default, 1 GiB, lets the process grow with the data). Must run inside
    /// a tokio runtime.
    pub fn open_with_cache(dir: &Path, cache_bytes: u64) -> Result<Self, StoreError> {
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(cache_bytes)
            .flush_every_ms(Some(1000))
            .open()
            .map_err(backend)?;
        let mut trees = HashMap::new();
        for t in Tree::ALL {
            trees.insert(t, db.open_tree(t.name()).map_err(backend)?);
        }
        let db = Arc::new(db);
        let group = GroupFlush::start(Arc::downgrade(&db));
        Ok(Self { db, trees, group })
    }

    fn tree(&self, t: Tree) -> &sled::Tree {
        // Every tree is opened in `open`, so the lookup cannot fail.
        &self.trees[&t]
    }
}

#[async_trait::async_trait]
impl Store for SledStore {
    async fn get(&self, tree: Tree, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.tree(tree).get(key).map_err(backend)?.map(|v| v.to_vec()))
    }

    async fn put(&self, tree: Tree, key: &[u8], value: Vec<u8>) -> Result<(), StoreError> {
        self.tree(tree).insert(key, value).map_err(backend)?;
        Ok(())
    }

    async fn remove(&self, tree: Tree, key: &[u8]) -> Result<bool, StoreError> {
        Ok(self.tree(tree).remove(key).map_err(backend)?.is_some())
    }

    async fn compare_and_swap(
        &self,
        tree: Tree,
        key: &[u8],
        expected: Option<&[u8]>,
        new: Option<Vec<u8>>,
    ) -> Result<bool, StoreError> {
        Ok(self.tree(tree).compare_and_swap(key, expected, new).map_err(backend)?.is_ok())
    }

    async fn scan(
        &self,
        tree: Tree,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Pairs, StoreError> {
        let mut out = Vec::new();
        let t = self.tree(tree);
        let iter: Box<dyn Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>> = match after {
            Some(a) => {
                let mut start = a.to_vec();
                start.push(0);
                Box::new(t.range(start..))
            }
            None => Box::new(t.scan_prefix(prefix)),
        };
        for item in iter {
            let (k, v) = item.map_err(backend)?;
            if !k.starts_with(prefix) {
                if after.is_some() && k.as_ref() > prefix {
                    break;
                }
                continue;
            }
            out.push((k.to_vec(), v.to_vec()));
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    async fn next_id(&self) -> Result<u64, StoreError> {
        self.db.generate_id().map_err(backend)
    }

    async fn flush(&self) -> Result<(), StoreError> {
        self.group.commit().await
    }

    fn flush_count(&self) -> u64 {
        self.group.flush_count()
    }
}

impl Drop for SledStore {
    fn drop(&mut self) {
        self.group.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn cas_and_scan_behave() {
        let dir = std::env::temp_dir().join(format!("twostep-sled-{}", std::process::id()));
        let s = SledStore::open(&dir).unwrap();
        assert!(s.compare_and_swap(Tree::Users, b"a", None, Some(b"1".to_vec())).await.unwrap());
        assert!(!s.compare_and_swap(Tree::Users, b"a", None, Some(b"2".to_vec())).await.unwrap());
        assert!(
            s.compare_and_swap(Tree::Users, b"a", Some(b"1"), Some(b"2".to_vec())).await.unwrap()
        );
        for k in ["x\x001", "x\x002", "x\x003", "y\x001"] {
            s.put(Tree::Devices, k.as_bytes(), b"v".to_vec()).await.unwrap();
        }
        let all = s.scan(Tree::Devices, b"x\0", None, 10).await.unwrap();
        assert_eq!(all.len(), 3);
        let after = s.scan(Tree::Devices, b"x\0", Some(b"x\x001"), 10).await.unwrap();
        assert_eq!(after.len(), 2);
        let a = s.next_id().await.unwrap();
        assert!(s.next_id().await.unwrap() > a);
        drop(s);
        let _ = std::fs::remove_dir_all(dir);
    }
}
