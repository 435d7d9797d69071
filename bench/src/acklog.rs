//! The log of acknowledged answers: one JSON line per answer the server gave (a 2xx, or a
//! 4xx that counted a failure or revealed a lock), with what it implies must be durable.
//! Append-only and `fsync`ed before [`AckLog::append`] returns (one writer thread batches
//! concurrent appends into one `fsync`), so the log outlives anything that happens to the
//! server and can be checked by another process ([`LogReader`]).

use serde::{Deserialize, Serialize};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;
use twostep_proto::Channel;

/// What kind of failure a 401 counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// A wrong step-up code (audit: `code_rejected`).
    Code,
    /// A wrong password at sign-in (audit: `sign_in_failed`).
    Password,
}

/// One acknowledged answer and what it implies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "ack", rename_all = "snake_case")]
pub enum Ack {
    /// 200 to a step-up verification: the user's last accepted TOTP step is at least `step`,
    /// so that code must never be accepted again.
    StepUp { step: u64 },
    /// 200 `code_required` to a password sign-in: a challenge was issued (audited).
    Challenge,
    /// 200 with a session: the token authenticates from now on; a TOTP `step` was used.
    Session { token: String, step: Option<u64> },
    /// 401 to a wrong code or password: one more failure counted; `locks` when it was the
    /// failure that locked the account.
    Failure { what: FailureKind, locks: bool },
    /// 429: the account waits at least until `until` (Unix seconds).
    Waiting { until: u64 },
    /// 423: the account is locked.
    Locked,
    /// 200 to the start of an enrollment (audited).
    EnrollStarted { channel: Channel },
    /// 200 to an enrollment confirmation: the channel stays confirmed and the session (now a
    /// full one) authenticates.
    Enrolled { channel: Channel, token: String },
    /// 200 to an operator sign-in: the operator token authenticates (for an hour).
    OperatorSession { token: String },
}

/// A log line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// When the request was sent (Unix ms).
    pub sent_ms: u64,
    /// Which server lifetime answered (0 = the first start).
    pub cycle: u64,
    /// The user (or operator) concerned.
    pub user: String,
    #[serde(flatten)]
    pub ack: Ack,
}

type Job = (Vec<u8>, tokio::sync::oneshot::Sender<()>);

/// The appending side; see the module docs.
#[derive(Debug)]
pub struct AckLog {
    tx: std::sync::mpsc::Sender<Job>,
}

impl AckLog {
    /// Opens `path` for appending (created if missing).
    pub fn create(path: &Path) -> std::io::Result<Self> {
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(path)?;
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        std::thread::spawn(move || {
            while let Ok(first) = rx.recv() {
                let mut batch = vec![first];
                while let Ok(more) = rx.try_recv() {
                    batch.push(more);
                }
                let bytes: Vec<u8> = batch.iter().flat_map(|(b, _)| b.iter().copied()).collect();
                // The log is the test's ground truth: failing to keep it stops the run.
                file.write_all(&bytes).expect("write the ack log");
                file.sync_data().expect("fsync the ack log");
                for (_, done) in batch {
                    let _ = done.send(());
                }
            }
        });
        Ok(Self { tx })
    }

    /// Appends `entries`; returns once they are on disk.
    pub async fn append(&self, entries: &[Entry]) {
        if entries.is_empty() {
            return;
        }
        let mut bytes = Vec::new();
        for e in entries {
            serde_json::to_writer(&mut bytes, e).unwrap();
            bytes.push(b'\n');
        }
        let (done, wait) = tokio::sync::oneshot::channel();
        self.tx.send((bytes, done)).expect("ack log writer");
        wait.await.expect("ack log written");
    }
}

/// Reads a log incrementally: each call returns the complete lines added since the last.
#[derive(Debug)]
pub struct LogReader {
    file: std::fs::File,
    pos: u64,
    partial: Vec<u8>,
}

impl LogReader {
    /// Opens a log from its beginning.
    pub fn open(path: &Path) -> std::io::Result<Self> {
        Ok(Self { file: std::fs::File::open(path)?, pos: 0, partial: Vec::new() })
    }

    /// The entries appended since the previous call. A torn last line (a writer killed
    /// mid-line) waits for its end; a line that does not parse is an error.
    pub fn read_new(&mut self) -> Result<Vec<Entry>, String> {
        self.file.seek(SeekFrom::Start(self.pos)).map_err(|e| e.to_string())?;
        let mut buf = Vec::new();
        self.file.read_to_end(&mut buf).map_err(|e| e.to_string())?;
        self.pos += buf.len() as u64;
        self.partial.extend_from_slice(&buf);
        let Some(end) = self.partial.iter().rposition(|&b| b == b'\n') else {
            return Ok(Vec::new());
        };
        let complete: Vec<u8> = self.partial.drain(..=end).collect();
        complete
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| {
                serde_json::from_slice(l)
                    .map_err(|e| format!("bad ack log line {:?}: {e}", String::from_utf8_lossy(l)))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn appended_entries_read_back_in_order_across_calls() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("acks.jsonl");
        let log = AckLog::create(&path).unwrap();
        let mut reader = LogReader::open(&path).unwrap();
        let e = |user: &str, ack: Ack| Entry { sent_ms: 1, cycle: 0, user: user.into(), ack };
        let first = vec![
            e("a", Ack::StepUp { step: 7 }),
            e("b", Ack::Failure { what: FailureKind::Code, locks: true }),
        ];
        log.append(&first).await;
        assert_eq!(reader.read_new().unwrap(), first);
        let second = vec![e("c", Ack::Enrolled { channel: Channel::Sms, token: "t".into() })];
        log.append(&second).await;
        assert_eq!(reader.read_new().unwrap(), second);
        assert!(reader.read_new().unwrap().is_empty());
        // A torn line is held back until its end arrives.
        let mut f = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(br#"{"sent_ms":2,"cycle":1,"user":"d","ack":"locked"#).unwrap();
        assert!(reader.read_new().unwrap().is_empty());
        f.write_all(b"\"}\n").unwrap();
        assert_eq!(
            reader.read_new().unwrap(),
            vec![Entry { sent_ms: 2, cycle: 1, user: "d".into(), ack: Ack::Locked }]
        );
    }
}
