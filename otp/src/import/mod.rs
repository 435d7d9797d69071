//! Imports from other authenticators: Google Authenticator's export QR codes, Aegis and
//! 2FAS plain JSON backups, and text files of `otpauth://` URIs.
//!
//! A file is imported all or nothing: every entry is checked first, and if any is
//! invalid the whole file is refused with [`Error::InvalidEntries`] listing each bad
//! entry (by position, with its label when readable, never its secret). Structural
//! problems (not JSON, truncated protobuf, an encrypted backup, an oversized file) refuse
//! the file with their own error. Duplicates are not errors: [`crate::Vault::import`]
//! skips and reports them.
//!
//! Our own encrypted export is read by [`crate::export::decrypt`], since it needs a
//! password.

mod aegis;
mod google;
mod protobuf;
mod twofas;
mod uris;

pub use google::{BatchProgress, MigrationBatches};

use serde::{Deserialize, Serialize};

use crate::account::NewAccount;
use crate::error::{EntryError, Error, Result};

/// Largest import file accepted, in bytes.
pub const MAX_IMPORT_BYTES: usize = 4 * 1024 * 1024;

/// Most entries one file may hold.
pub const MAX_IMPORT_ENTRIES: usize = crate::vault::MAX_ACCOUNTS;

/// The kinds of file this module reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportFormat {
    /// Google Authenticator "Transfer accounts": one `otpauth-migration://offline?data=...`
    /// URI per line, one line per QR code of the export.
    GoogleAuthenticator,
    /// An Aegis vault exported without encryption (JSON).
    Aegis,
    /// A 2FAS backup exported without a password (JSON, `.2fas`).
    TwoFas,
    /// A text file with one `otpauth://` URI per line (blank lines and `#` comments
    /// skipped).
    OtpauthUris,
}

impl ImportFormat {
    /// A name for messages.
    pub fn name(self) -> &'static str {
        match self {
            Self::GoogleAuthenticator => "Google Authenticator export",
            Self::Aegis => "Aegis",
            Self::TwoFas => "2FAS",
            Self::OtpauthUris => "otpauth URI list",
        }
    }
}

/// What a file looks like, for apps that do not ask the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Detected {
    /// One of the formats [`parse`] reads.
    Import(ImportFormat),
    /// A twostep encrypted export: read it with [`crate::export::decrypt`].
    TwostepExport,
}

/// Guesses the format of a file from its first bytes and top-level JSON keys.
pub fn detect(bytes: &[u8]) -> Option<Detected> {
    let text = std::str::from_utf8(bytes).ok()?.trim_start_matches('\u{feff}').trim_start();
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .unwrap_or("")
        .trim();
    let starts = |prefix: &str| {
        first.get(..prefix.len()).is_some_and(|head| head.eq_ignore_ascii_case(prefix))
    };
    if starts("otpauth-migration://") {
        return Some(Detected::Import(ImportFormat::GoogleAuthenticator));
    }
    if starts("otpauth://") {
        return Some(Detected::Import(ImportFormat::OtpauthUris));
    }
    if !text.starts_with('{') {
        return None;
    }
    #[derive(Deserialize)]
    struct Sniff {
        services: Option<serde::de::IgnoredAny>,
        #[serde(rename = "servicesEncrypted")]
        services_encrypted: Option<serde::de::IgnoredAny>,
        db: Option<serde::de::IgnoredAny>,
        header: Option<serde::de::IgnoredAny>,
        format: Option<String>,
    }
    let sniff: Sniff = serde_json::from_str(text).ok()?;
    if sniff.format.as_deref() == Some(crate::export::FORMAT_NAME) {
        Some(Detected::TwostepExport)
    } else if sniff.services.is_some() || sniff.services_encrypted.is_some() {
        Some(Detected::Import(ImportFormat::TwoFas))
    } else if sniff.db.is_some() && sniff.header.is_some() {
        Some(Detected::Import(ImportFormat::Aegis))
    } else {
        None
    }
}

/// Reads every account of a file. All or nothing: see the module documentation.
pub fn parse(format: ImportFormat, bytes: &[u8]) -> Result<Vec<NewAccount>> {
    if bytes.len() > MAX_IMPORT_BYTES {
        return Err(Error::TooLarge { what: "import file", max: MAX_IMPORT_BYTES });
    }
    let text = std::str::from_utf8(bytes).map_err(|_| Error::UnsupportedFile {
        format: format.name(),
        reason: "the file is not UTF-8 text".to_owned(),
    })?;
    let text = text.trim_start_matches('\u{feff}');
    let entries = match format {
        ImportFormat::GoogleAuthenticator => google::parse(text)?,
        ImportFormat::Aegis => aegis::parse(text)?,
        ImportFormat::TwoFas => twofas::parse(text)?,
        ImportFormat::OtpauthUris => uris::parse(text)?,
    };
    collect(entries)
}

/// One entry as read: the account, or what is wrong with it.
pub(crate) type Entry = std::result::Result<NewAccount, EntryError>;

/// Turns per-entry results into all or nothing.
pub(crate) fn collect(entries: Vec<Entry>) -> Result<Vec<NewAccount>> {
    if entries.len() > MAX_IMPORT_ENTRIES {
        return Err(Error::TooLarge { what: "import file (entries)", max: MAX_IMPORT_ENTRIES });
    }
    let mut accounts = Vec::with_capacity(entries.len());
    let mut errors = Vec::new();
    for entry in entries {
        match entry {
            Ok(account) => accounts.push(account),
            Err(error) => errors.push(error),
        }
    }
    if !errors.is_empty() {
        return Err(Error::InvalidEntries { errors });
    }
    if accounts.is_empty() {
        return Err(Error::EmptyImport);
    }
    Ok(accounts)
}

/// An entry error with its 1-based position and label.
pub(crate) fn entry_error(entry: usize, label: Option<String>, error: Error) -> EntryError {
    EntryError { entry, label: label.filter(|l| !l.is_empty()), error }
}
