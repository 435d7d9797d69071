//! The authenticator's records for Kotlin and Swift: thin mirrors of
//! `twostep_core::authenticator`'s types (field moves; ids as `Long`), used by the
//! `Authenticator` object (`authenticator.rs`).

use std::time::SystemTime;
use twostep_core::authenticator as core;

use crate::types::{count, time};

/// TOTP, HOTP or Steam Guard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum OtpKind {
    /// Time-based codes (RFC 6238).
    Totp,
    /// Counter-based codes (RFC 4226): a new code on request.
    Hotp,
    /// Steam Guard: five characters, every 30 s.
    Steam,
}

impl From<core::OtpKind> for OtpKind {
    fn from(kind: core::OtpKind) -> Self {
        match kind {
            core::OtpKind::Totp => Self::Totp,
            core::OtpKind::Hotp => Self::Hotp,
            core::OtpKind::Steam => Self::Steam,
        }
    }
}

impl From<OtpKind> for core::OtpKind {
    fn from(kind: OtpKind) -> Self {
        match kind {
            OtpKind::Totp => Self::Totp,
            OtpKind::Hotp => Self::Hotp,
            OtpKind::Steam => Self::Steam,
        }
    }
}

/// The HMAC algorithm of an account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum OtpAlgorithm {
    /// HMAC-SHA1 (what almost every issuer uses).
    Sha1,
    /// HMAC-SHA256.
    Sha256,
    /// HMAC-SHA512.
    Sha512,
}

impl From<core::Algorithm> for OtpAlgorithm {
    fn from(algorithm: core::Algorithm) -> Self {
        match algorithm {
            core::Algorithm::Sha1 => Self::Sha1,
            core::Algorithm::Sha256 => Self::Sha256,
            core::Algorithm::Sha512 => Self::Sha512,
        }
    }
}

impl From<OtpAlgorithm> for core::Algorithm {
    fn from(algorithm: OtpAlgorithm) -> Self {
        match algorithm {
            OtpAlgorithm::Sha1 => Self::Sha1,
            OtpAlgorithm::Sha256 => Self::Sha256,
            OtpAlgorithm::Sha512 => Self::Sha512,
        }
    }
}

/// Where the clock correction of the codes comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum OffsetSource {
    /// No correction.
    None,
    /// Measured against the twostep server.
    Server,
    /// Set by the user.
    User,
}

impl From<core::OffsetSource> for OffsetSource {
    fn from(source: core::OffsetSource) -> Self {
        match source {
            core::OffsetSource::None => Self::None,
            core::OffsetSource::Server => Self::Server,
            core::OffsetSource::User => Self::User,
        }
    }
}

/// A file format another authenticator exports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum ImportFormat {
    /// Google Authenticator "Transfer accounts": the `otpauth-migration://` URIs of its QR
    /// codes, one per line (all parts of a multi-part export).
    GoogleAuthenticator,
    /// An Aegis vault exported without encryption (JSON).
    Aegis,
    /// A 2FAS backup exported without a password (JSON).
    TwoFas,
    /// A text file of `otpauth://` URIs, one per line.
    OtpauthUris,
}

impl From<ImportFormat> for core::ImportFormat {
    fn from(format: ImportFormat) -> Self {
        match format {
            ImportFormat::GoogleAuthenticator => Self::GoogleAuthenticator,
            ImportFormat::Aegis => Self::Aegis,
            ImportFormat::TwoFas => Self::TwoFas,
            ImportFormat::OtpauthUris => Self::OtpauthUris,
        }
    }
}

/// An account in the vault, without its secret.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AuthAccount {
    /// Its id in the vault (never reused).
    pub id: i64,
    /// Who issued it ("GitHub"), if anyone said.
    pub issuer: Option<String>,
    /// The account at the issuer ("alice@example.com"); may be empty.
    pub name: String,
    /// Its group, if any.
    pub group: Option<String>,
    /// What the user should look at before trusting the account: show it next to it.
    pub warnings: Vec<AccountWarning>,
    /// TOTP, HOTP or Steam.
    pub kind: OtpKind,
    /// The HMAC algorithm.
    pub algorithm: OtpAlgorithm,
    /// Code length (5 for Steam).
    pub digits: i32,
    /// Seconds per code (TOTP, Steam).
    pub period_secs: Option<i32>,
    /// The counter of the next HOTP code.
    pub counter: Option<i64>,
}

impl From<core::AccountInfo> for AuthAccount {
    fn from(a: core::AccountInfo) -> Self {
        Self {
            id: id_out(a.id),
            issuer: a.issuer,
            name: a.name,
            group: a.group,
            warnings: a.warnings.into_iter().map(Into::into).collect(),
            kind: a.kind.into(),
            algorithm: a.algorithm.into(),
            digits: count(a.digits),
            period_secs: a.period.map(count),
            counter: a.counter.map(|c| i64::try_from(c).unwrap_or(i64::MAX)),
        }
    }
}

/// Something about an account the user should look at before trusting it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum AccountWarning {
    /// The QR code's label named another issuer than its `issuer` parameter, which was
    /// used: some sites do this, but so does a phishing page imitating a known issuer.
    /// Editing the issuer clears it.
    IssuerMismatch {
        /// The issuer the label named.
        label_issuer: String,
    },
}

impl From<core::AccountWarning> for AccountWarning {
    fn from(warning: core::AccountWarning) -> Self {
        match warning {
            core::AccountWarning::IssuerMismatch { label_issuer } => {
                Self::IssuerMismatch { label_issuer }
            }
        }
    }
}

/// An account typed in by hand ("enter a setup key").
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct NewAuthAccount {
    /// Who issued it; may be absent if `name` is not empty.
    #[uniffi(default = None)]
    pub issuer: Option<String>,
    /// The account at the issuer; may be empty if `issuer` is not.
    pub name: String,
    /// The secret in base32 (case, spaces and padding do not matter).
    pub secret: String,
    /// TOTP, HOTP or Steam.
    pub kind: OtpKind,
    /// The HMAC algorithm (ignored for Steam).
    pub algorithm: OtpAlgorithm,
    /// Code length, 6 to 8 (default 6).
    #[uniffi(default = None)]
    pub digits: Option<i32>,
    /// Seconds per code, 1 to 3600 (default 30).
    #[uniffi(default = None)]
    pub period_secs: Option<i32>,
    /// HOTP: the counter of the first code (default 0).
    #[uniffi(default = None)]
    pub counter: Option<i64>,
    /// An optional group.
    #[uniffi(default = None)]
    pub group: Option<String>,
}

impl std::fmt::Debug for NewAuthAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewAuthAccount")
            .field("issuer", &self.issuer)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// The clock correction the codes use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct ClockCorrection {
    /// Milliseconds added to the device clock.
    pub offset_ms: i64,
    /// Where it comes from.
    pub source: OffsetSource,
}

/// One account's line on the codes screen.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AccountCode {
    /// The account.
    pub id: i64,
    /// Its kind.
    pub kind: OtpKind,
    /// The current code (absent for HOTP: see `nextHotpCode`).
    pub code: Option<String>,
    /// The code of the next period (absent for HOTP).
    pub next_code: Option<String>,
    /// Seconds until `code` expires, 1 to `periodSecs` (0 for HOTP).
    pub seconds_remaining: i32,
    /// Seconds per code (0 for HOTP).
    pub period_secs: i32,
    /// The counter the next HOTP code will use (absent for TOTP and Steam).
    pub counter: Option<i64>,
}

impl From<core::AccountCode> for AccountCode {
    fn from(c: core::AccountCode) -> Self {
        Self {
            id: id_out(c.id),
            kind: c.kind.into(),
            code: c.code,
            next_code: c.next_code,
            seconds_remaining: count(c.seconds_remaining),
            period_secs: count(c.period),
            counter: c.counter.map(|n| i64::try_from(n).unwrap_or(i64::MAX)),
        }
    }
}

/// Every account's code at one moment.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CodeList {
    /// The corrected time the codes are for.
    pub time: SystemTime,
    /// Milliseconds added to the device clock.
    pub offset_ms: i64,
    /// Where the correction comes from.
    pub offset_source: OffsetSource,
    /// The device clock is off by more than 15 s: suggest fixing it.
    pub offset_warning: bool,
    /// One entry per account, in display order.
    pub codes: Vec<AccountCode>,
}

impl From<core::CodeList> for CodeList {
    fn from(list: core::CodeList) -> Self {
        Self {
            time: time(list.time),
            offset_ms: list.correction.offset_ms,
            offset_source: list.correction.source.into(),
            offset_warning: list.offset_warning,
            codes: list.codes.into_iter().map(Into::into).collect(),
        }
    }
}

/// An HOTP code; the account's counter has advanced on disk.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HotpCode {
    /// The account.
    pub id: i64,
    /// The code.
    pub code: String,
    /// The counter it was made with.
    pub counter: i64,
}

impl From<core::HotpCode> for HotpCode {
    fn from(c: core::HotpCode) -> Self {
        Self {
            id: id_out(c.id),
            code: c.code,
            counter: i64::try_from(c.counter).unwrap_or(i64::MAX),
        }
    }
}

/// An import entry skipped because the vault already had it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct DuplicateEntry {
    /// 1-based position in the file.
    pub entry: i32,
    /// `issuer:name` of the entry.
    pub label: String,
    /// The account that has the same secret.
    pub existing: i64,
}

/// What an import did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ImportReport {
    /// The ids of the accounts added, in file order.
    pub added: Vec<i64>,
    /// Entries skipped as duplicates.
    pub duplicates: Vec<DuplicateEntry>,
}

impl From<core::ImportReport> for ImportReport {
    fn from(r: core::ImportReport) -> Self {
        Self {
            added: r.added.into_iter().map(id_out).collect(),
            duplicates: r
                .duplicates
                .into_iter()
                .map(|d| DuplicateEntry {
                    entry: count(d.entry),
                    label: d.label,
                    existing: id_out(d.existing),
                })
                .collect(),
        }
    }
}

/// One invalid entry of an import file (the whole file was refused).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ImportIssue {
    /// 1-based position of the entry in the file (for a text file, the line).
    pub entry: i32,
    /// `issuer:name` when it could be read.
    pub label: Option<String>,
    /// Why (`InvalidBase32`, `InvalidDigits`, ...).
    pub reason: crate::AuthenticatorReason,
    /// For people; never contains a secret.
    pub detail: String,
}

impl From<core::EntryError> for ImportIssue {
    fn from(e: core::EntryError) -> Self {
        Self {
            entry: count(e.entry),
            label: e.label,
            reason: e.error.kind().into(),
            detail: e.error.to_string(),
        }
    }
}

pub(crate) fn id_out(id: core::AccountId) -> i64 {
    i64::try_from(id.0).unwrap_or(i64::MAX)
}

pub(crate) fn id_in(id: i64) -> core::AccountId {
    core::AccountId(u64::try_from(id).unwrap_or(u64::MAX))
}
