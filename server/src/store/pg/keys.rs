//! How store keys map to PostgreSQL columns, and key ranges for ordered scans.
//!
//! Most trees are keyed by UTF-8 text in the "C" collation, whose order is byte order, so
//! scans return the same order as the embedded store. The audit log is keyed by an 8-byte
//! big-endian id in the embedded store and by a `bigint` here (same order for ids below
//! 2^63).

use crate::store::StoreError;

/// A key as a query parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    Text(String),
    Id(i64),
}

/// How a tree's keys are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Text,
    Id,
}

impl KeyKind {
    /// The query parameter for a store key.
    pub fn encode(self, tree: &'static str, key: &[u8]) -> Result<Key, StoreError> {
        match self {
            KeyKind::Text => text(tree, key).map(Key::Text),
            KeyKind::Id => {
                let bad = |what: &str| StoreError::Backend(format!("key in {tree}: {what}"));
                let b: [u8; 8] = key.try_into().map_err(|_| bad("not an 8-byte id"))?;
                i64::try_from(u64::from_be_bytes(b)).map(Key::Id).map_err(|_| bad("id ≥ 2^63"))
            }
        }
    }

    /// The store key of a row.
    pub fn decode(
        self,
        tree: &'static str,
        row: &tokio_postgres::Row,
    ) -> Result<Vec<u8>, StoreError> {
        let corrupt =
            |e: tokio_postgres::Error| StoreError::Corrupt { tree, detail: e.to_string() };
        Ok(match self {
            KeyKind::Text => row.try_get::<_, &str>(0).map_err(corrupt)?.as_bytes().to_vec(),
            KeyKind::Id => {
                (row.try_get::<_, i64>(0).map_err(corrupt)? as u64).to_be_bytes().to_vec()
            }
        })
    }

    /// The keys of a prefix scan resuming after `after`: a lower bound (inclusive or not)
    /// and an exclusive upper bound (none = to the end). `None` = nothing can match.
    pub fn range(
        self,
        tree: &'static str,
        prefix: &[u8],
        after: Option<&[u8]>,
    ) -> Result<Option<Range>, StoreError> {
        let (lower, upper) = match self {
            KeyKind::Text => {
                let p = text(tree, prefix)?;
                let upper = successor(&p).map(Key::Text);
                (Key::Text(p), upper)
            }
            KeyKind::Id => {
                if prefix.len() > 8 {
                    return Ok(None);
                }
                let mut lo = [0u8; 8];
                let mut hi = [0xffu8; 8];
                lo[..prefix.len()].copy_from_slice(prefix);
                hi[..prefix.len()].copy_from_slice(prefix);
                let lo = u64::from_be_bytes(lo);
                if lo > i64::MAX as u64 {
                    return Ok(None);
                }
                let hi = u64::from_be_bytes(hi).min(i64::MAX as u64) as i64;
                // Exclusive upper bound: one past `hi`, or the end of the table.
                (Key::Id(lo as i64), hi.checked_add(1).map(Key::Id))
            }
        };
        let mut range = Range { lower, lower_inclusive: true, upper };
        if let Some(a) = after {
            let a = match self {
                KeyKind::Text => self.encode(tree, a)?,
                // An `after` beyond the id space means nothing is left.
                KeyKind::Id => match self.encode(tree, a) {
                    Ok(k) => k,
                    Err(_) if a.len() == 8 => return Ok(None),
                    Err(e) => return Err(e),
                },
            };
            if key_cmp(&a, &range.lower).is_ge() {
                range.lower = a;
                range.lower_inclusive = false;
            }
        }
        Ok(Some(range))
    }
}

fn text(tree: &'static str, key: &[u8]) -> Result<String, StoreError> {
    let bad = |what: &str| StoreError::Backend(format!("key in {tree}: {what}"));
    let s = std::str::from_utf8(key).map_err(|_| bad("not UTF-8"))?;
    if s.contains('\0') {
        return Err(bad("contains NUL"));
    }
    Ok(s.to_owned())
}

fn key_cmp(a: &Key, b: &Key) -> std::cmp::Ordering {
    match (a, b) {
        (Key::Text(a), Key::Text(b)) => a.as_bytes().cmp(b.as_bytes()),
        (Key::Id(a), Key::Id(b)) => a.cmp(b),
        _ => std::cmp::Ordering::Equal,
    }
}

/// A scan's key range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Range {
    pub lower: Key,
    pub lower_inclusive: bool,
    pub upper: Option<Key>,
}

/// The smallest string greater than every string that starts with `prefix` (byte order,
/// which is code point order for UTF-8), or `None` when nothing is (empty prefix).
pub fn successor(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let mut next = last as u32 + 1;
        if (0xD800..=0xDFFF).contains(&next) {
            next = 0xE000;
        }
        if let Some(c) = char::from_u32(next) {
            chars.push(c);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn successors_bound_every_string_with_the_prefix() {
        assert_eq!(successor(""), None);
        assert_eq!(successor("abc.").as_deref(), Some("abc/"));
        assert_eq!(successor("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(successor("\u{D7FF}").as_deref(), Some("\u{E000}"));
        for (p, s) in [("u1.", "u1.zzz"), ("é", "é\u{10FFFF}x"), ("a\u{7f}", "a\u{7f}\u{80}")] {
            let up = successor(p).unwrap();
            assert!(s.as_bytes() < up.as_bytes() && s.as_bytes() >= p.as_bytes(), "{p} {s}");
        }
    }

    #[test]
    fn keys_encode_and_ranges_resume() {
        assert!(KeyKind::Text.encode("t", b"a\0b").is_err());
        assert!(KeyKind::Text.encode("t", &[0xff]).is_err());
        assert_eq!(KeyKind::Id.encode("t", &7u64.to_be_bytes()).unwrap(), Key::Id(7));
        assert!(KeyKind::Id.encode("t", &u64::MAX.to_be_bytes()).is_err());
        let r = KeyKind::Text.range("t", b"u1.", Some(b"u1.b")).unwrap().unwrap();
        assert_eq!(r.lower, Key::Text("u1.b".into()));
        assert!(!r.lower_inclusive);
        assert_eq!(r.upper, Some(Key::Text("u1/".into())));
        let r = KeyKind::Text.range("t", b"u1.", Some(b"a")).unwrap().unwrap();
        assert_eq!((r.lower, r.lower_inclusive), (Key::Text("u1.".into()), true));
        let r = KeyKind::Id.range("t", b"", Some(&5u64.to_be_bytes())).unwrap().unwrap();
        assert_eq!((r.lower, r.lower_inclusive, r.upper), (Key::Id(5), false, None));
        assert!(KeyKind::Id.range("t", b"", Some(&u64::MAX.to_be_bytes())).unwrap().is_none());
    }
}
