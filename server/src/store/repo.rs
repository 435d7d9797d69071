//! Typed JSON records over a [`Store`], with a compare-and-swap update loop.

use super::{Store, StoreError, Tree};
use serde::{Serialize, de::DeserializeOwned};
use std::sync::Arc;

/// Typed access to the store.
#[derive(Clone)]
pub struct Repo {
    store: Arc<dyn Store>,
}

impl std::fmt::Debug for Repo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repo").finish_non_exhaustive()
    }
}

fn decode<T: DeserializeOwned>(tree: Tree, bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes)
        .map_err(|e| StoreError::Corrupt { tree: tree.name(), detail: e.to_string() })
}

fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Our records are plain structs of strings, numbers and vectors: serialization cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

/// The outcome of an update closure.
#[derive(Debug)]
pub enum Change<T, E> {
    /// Write this value.
    Put(T),
    /// Remove the record.
    Remove,
    /// Leave it as is and return the error (nothing is written).
    Abort(E),
}

impl Repo {
    /// Wraps a backend.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// The backend.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Reads a record.
    pub async fn get<T: DeserializeOwned>(
        &self,
        tree: Tree,
        key: &[u8],
    ) -> Result<Option<T>, StoreError> {
        self.store.get(tree, key).await?.map(|b| decode(tree, &b)).transpose()
    }

    /// Writes a record.
    pub async fn put<T: Serialize>(
        &self,
        tree: Tree,
        key: &[u8],
        value: &T,
    ) -> Result<(), StoreError> {
        self.store.put(tree, key, encode(value)).await
    }

    /// Creates a record; false if the key exists.
    pub async fn insert_new<T: Serialize>(
        &self,
        tree: Tree,
        key: &[u8],
        value: &T,
    ) -> Result<bool, StoreError> {
        self.store.compare_and_swap(tree, key, None, Some(encode(value))).await
    }

    /// Stores a record under a new id (see [`Store::append`]); returns the id.
    pub async fn append<T: Serialize>(&self, tree: Tree, value: &T) -> Result<u64, StoreError> {
        self.store.append(tree, encode(value)).await
    }

    /// Removes a record.
    pub async fn remove(&self, tree: Tree, key: &[u8]) -> Result<bool, StoreError> {
        self.store.remove(tree, key).await
    }

    /// Atomic read-modify-write: `f` sees the current value and decides; retried on a
    /// concurrent change, so `f` must be pure. Returns what `f` decided last.
    pub async fn update<T, E, F>(
        &self,
        tree: Tree,
        key: &[u8],
        mut f: F,
    ) -> Result<Result<Option<T>, E>, StoreError>
    where
        T: Serialize + DeserializeOwned,
        F: FnMut(Option<T>) -> Change<T, E>,
    {
        loop {
            let raw = self.store.get(tree, key).await?;
            let current = raw.as_deref().map(|b| decode(tree, b)).transpose()?;
            let (new_raw, result) = match f(current) {
                Change::Put(v) => {
                    let bytes = encode(&v);
                    (Some(bytes), Ok(Some(v)))
                }
                Change::Remove => (None, Ok(None)),
                Change::Abort(e) => return Ok(Err(e)),
            };
            if raw.is_none() && new_raw.is_none() {
                return Ok(result);
            }
            if self.store.compare_and_swap(tree, key, raw.as_deref(), new_raw).await? {
                return Ok(result);
            }
        }
    }

    /// [`Repo::update`] starting from `current`, a value this request has just read: the
    /// first compare-and-swap expects exactly that value, which saves the read (a round trip
    /// with PostgreSQL) when nobody changed the record meanwhile. If somebody did, the swap
    /// fails and this falls back to [`Repo::update`], so `f` must be pure as there. An
    /// `Abort` decided on `current` stands (as if the update had run when it was read).
    pub async fn update_from<T, E, F>(
        &self,
        tree: Tree,
        key: &[u8],
        current: &T,
        mut f: F,
    ) -> Result<Result<Option<T>, E>, StoreError>
    where
        T: Serialize + DeserializeOwned + Clone,
        F: FnMut(Option<T>) -> Change<T, E>,
    {
        let expected = encode(current);
        let (new_raw, result) = match f(Some(current.clone())) {
            Change::Put(v) => (Some(encode(&v)), Ok(Some(v))),
            Change::Remove => (None, Ok(None)),
            Change::Abort(e) => return Ok(Err(e)),
        };
        if self.store.compare_and_swap(tree, key, Some(&expected), new_raw).await? {
            return Ok(result);
        }
        self.update(tree, key, f).await
    }

    /// [`Repo::update_from`] that also appends `record` to the id-keyed `log` tree in the same
    /// atomic write when the update succeeds (one commit with PostgreSQL): a replay-state
    /// change and its audit event.
    #[allow(clippy::too_many_arguments)]
    pub async fn update_from_and_append<T, E, F, R>(
        &self,
        tree: Tree,
        key: &[u8],
        current: &T,
        mut f: F,
        log: Tree,
        record: &R,
    ) -> Result<Result<Option<T>, E>, StoreError>
    where
        T: Serialize + DeserializeOwned + Clone,
        F: FnMut(Option<T>) -> Change<T, E>,
        R: Serialize,
    {
        let record = encode(record);
        let mut expected = Some(encode(current));
        let mut value = Some(current.clone());
        loop {
            let (new, result) = match f(value) {
                Change::Put(v) => (Some(encode(&v)), Some(v)),
                Change::Remove => (None, None),
                Change::Abort(e) => return Ok(Err(e)),
            };
            if self
                .store
                .compare_and_swap_and_append(
                    tree,
                    key,
                    expected.as_deref(),
                    new,
                    log,
                    record.clone(),
                )
                .await?
                .is_some()
            {
                return Ok(Ok(result));
            }
            // Changed meanwhile: read it and decide again.
            let raw = self.store.get(tree, key).await?;
            value = raw.as_deref().map(|b| decode(tree, b)).transpose()?;
            expected = raw;
        }
    }

    /// Records under a prefix, in key order.
    pub async fn scan<T: DeserializeOwned>(
        &self,
        tree: Tree,
        prefix: &[u8],
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, T)>, StoreError> {
        self.store
            .scan(tree, prefix, after, limit)
            .await?
            .into_iter()
            .map(|(k, v)| Ok((k, decode(tree, &v)?)))
            .collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::store::SledStore;

    #[tokio::test]
    async fn update_from_uses_the_value_read_and_falls_back_when_it_is_stale() {
        let dir = tempfile::tempdir().unwrap();
        let repo = Repo::new(Arc::new(SledStore::open(dir.path()).unwrap()));
        repo.put(Tree::Throttle, b"n", &1u64).await.unwrap();
        let inc = |v: Option<u64>| Change::<u64, ()>::Put(v.unwrap_or(0) + 1);
        // Current: the swap expects 1 and writes 2.
        assert_eq!(repo.update_from(Tree::Throttle, b"n", &1u64, inc).await.unwrap(), Ok(Some(2)));
        // Stale (someone wrote 2 meanwhile): the swap fails, the fresh value is used.
        assert_eq!(repo.update_from(Tree::Throttle, b"n", &1u64, inc).await.unwrap(), Ok(Some(3)));
        assert_eq!(repo.get::<u64>(Tree::Throttle, b"n").await.unwrap(), Some(3));
    }
}
