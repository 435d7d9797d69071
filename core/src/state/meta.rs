//! The meta record: which application wrote a data directory, in which format.
//!
//! It is the first thing read on open and the only record stored in the clear. A data
//! directory whose meta record is missing (but which holds data), names another
//! application, or has a newer format is refused, never rewritten: the user may have
//! pointed us at the wrong directory, or downgraded the app, and their data must survive
//! either mistake.

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// The sled key of the meta record.
pub(crate) const META_KEY: &[u8] = b"meta";
/// Names this application in the meta record.
pub(crate) const APP_ID: &str = "twostep-core";
/// The format this version reads and writes.
pub(crate) const FORMAT: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct StateMeta {
    app: String,
    format: u32,
}

/// The meta record for a new data directory.
pub(crate) fn current() -> Vec<u8> {
    // Serializing a struct of a string and an integer cannot fail.
    serde_json::to_vec(&StateMeta { app: APP_ID.to_owned(), format: FORMAT }).unwrap_or_default()
}

/// Checks a stored meta record: ours, and a format we understand.
pub(crate) fn check(bytes: &[u8]) -> Result<(), Error> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|_| Error::Corrupt("the meta record is not readable".to_owned()))?;
    match value.get("app").and_then(|a| a.as_str()) {
        Some(APP_ID) => {}
        Some(other) => return Err(Error::Foreign(format!("it was written by {other:?}"))),
        None => {
            return Err(Error::Foreign("its meta record names no twostep application".to_owned()));
        }
    }
    let format =
        value
            .get("format")
            .and_then(|f| f.as_u64())
            .and_then(|f| u32::try_from(f).ok())
            .ok_or_else(|| Error::Corrupt("the meta record has no format version".to_owned()))?;
    match format {
        FORMAT => Ok(()),
        newer if newer > FORMAT => Err(Error::Newer(newer)),
        older => Err(Error::Corrupt(format!("unknown format version {older}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_current_meta_passes() {
        check(&current()).unwrap();
    }

    #[test]
    fn others_newer_and_garbage_are_told_apart() {
        assert!(matches!(check(br#"{"app":"someone-else","format":1}"#), Err(Error::Foreign(_))));
        assert!(matches!(check(br#"{"format":1}"#), Err(Error::Foreign(_))));
        assert!(matches!(check(br#"{"app":"twostep-core","format":2}"#), Err(Error::Newer(2))));
        assert!(matches!(check(br#"{"app":"twostep-core","format":0}"#), Err(Error::Corrupt(_))));
        assert!(matches!(check(br#"{"app":"twostep-core"}"#), Err(Error::Corrupt(_))));
        assert!(matches!(check(b"\xff\x00garbage"), Err(Error::Corrupt(_))));
    }
}
