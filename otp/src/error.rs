//! Every way an authenticator input or operation can fail, as one typed enum.
//!
//! Messages name the field and the rule that was broken, never a secret: a bad base32
//! secret is reported by position, not by value, and values echoed back (an unknown
//! algorithm name, a digits parameter) are cut to a few characters first.

use crate::vault::AccountId;

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Longest piece of user input ever echoed in an error message.
const ECHO_MAX: usize = 24;

/// What went wrong. Nothing is stored when an operation returns one of these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // ---- sizes -------------------------------------------------------------------
    /// An input is larger than this crate accepts.
    #[error("the {what} is too large (at most {max} bytes)")]
    TooLarge {
        /// What was too large.
        what: &'static str,
        /// The limit, in bytes.
        max: usize,
    },

    // ---- otpauth URIs ------------------------------------------------------------
    /// Not an `otpauth://` URI.
    #[error("not an otpauth:// URI")]
    NotOtpauth,
    /// An `otpauth-migration://` URI given where one account was expected.
    #[error("this is a Google Authenticator export (otpauth-migration://); import it instead")]
    MigrationUri,
    /// The URI is not well formed.
    #[error("malformed otpauth URI: {reason}")]
    MalformedUri {
        /// What is wrong.
        reason: &'static str,
    },
    /// A `%` escape is invalid or the decoded text is not UTF-8.
    #[error("invalid percent-encoding in the {part}")]
    InvalidPercentEncoding {
        /// `label` or the parameter name.
        part: String,
    },
    /// The OTP type is not `totp`, `hotp` or `steam`.
    #[error("unknown OTP type {found:?} (expected totp, hotp or steam)")]
    UnknownType {
        /// The type found (shortened).
        found: String,
    },
    /// The secret is missing or empty.
    #[error("the secret is missing")]
    MissingSecret,
    /// The secret is not base32.
    #[error("the secret is not valid base32 (character {position})")]
    InvalidBase32 {
        /// 1-based position of the first offending character.
        position: usize,
    },
    /// The secret's base32 text has a length no encoder produces: its last group has 1, 3
    /// or 6 characters (a character is missing or extra). Refused rather than cut short,
    /// which would give wrong codes without a word.
    #[error(
        "the secret has {chars} base32 characters, a length no encoder produces (a character is missing or extra)"
    )]
    InvalidSecretLength {
        /// The number of base32 characters (spaces, hyphens and padding not counted).
        chars: usize,
    },
    /// The secret is longer than this crate accepts.
    #[error("the secret is too long (at most {max} bytes)")]
    SecretTooLong {
        /// The limit, in bytes.
        max: usize,
    },
    /// The hash algorithm is not SHA1, SHA256 or SHA512.
    #[error("unknown algorithm {found:?} (expected SHA1, SHA256 or SHA512)")]
    UnknownAlgorithm {
        /// The algorithm found (shortened).
        found: String,
    },
    /// The number of digits is not 6, 7 or 8.
    #[error("digits must be 6, 7 or 8 (got {found:?})")]
    InvalidDigits {
        /// The value found (shortened).
        found: String,
    },
    /// The period is not 1 to 3600 seconds.
    #[error("period must be 1 to 3600 seconds (got {found:?})")]
    InvalidPeriod {
        /// The value found (shortened).
        found: String,
    },
    /// The HOTP counter is not a non-negative 64-bit integer.
    #[error("invalid HOTP counter {found:?}")]
    InvalidCounter {
        /// The value found (shortened).
        found: String,
    },
    /// An HOTP URI without the `counter` parameter, which the Key Uri Format requires for
    /// HOTP: guessing 0 could put the app out of step with the issuer for good.
    #[error("an HOTP URI must give its counter (the counter parameter is missing)")]
    MissingCounter,
    /// A parameter appears twice.
    #[error("the parameter {name:?} appears more than once")]
    DuplicateParameter {
        /// Its name (shortened).
        name: String,
    },
    /// Neither an issuer nor an account name.
    #[error("the account has neither an issuer nor a name")]
    MissingLabel,
    /// An issuer, name or group is too long or has control characters.
    #[error("invalid {field}: {reason}")]
    InvalidLabel {
        /// `issuer`, `name` or `group`.
        field: &'static str,
        /// Why.
        reason: String,
    },

    // ---- imports -----------------------------------------------------------------
    /// The protobuf payload ends in the middle of a field.
    #[error("the export is truncated ({what})")]
    Truncated {
        /// Where it ended.
        what: &'static str,
    },
    /// The protobuf payload is not well formed.
    #[error("the export is not a valid protobuf message: {reason}")]
    MalformedProtobuf {
        /// What is wrong.
        reason: &'static str,
    },
    /// The Google Authenticator export is not usable.
    #[error("invalid Google Authenticator export: {reason}")]
    InvalidMigration {
        /// What is wrong.
        reason: String,
    },
    /// Some QR codes of a multi-part export are missing.
    #[error("the export has {expected} parts; missing part(s) {missing:?}")]
    IncompleteExport {
        /// Number of parts announced.
        expected: u32,
        /// 1-based numbers of the missing parts.
        missing: Vec<u32>,
    },
    /// Parts of different exports were mixed.
    #[error("these QR codes belong to different exports")]
    MixedExports,
    /// The file is not valid JSON of the expected shape.
    #[error("invalid {format} file at line {line}, column {column}: {reason}")]
    InvalidJson {
        /// `Aegis`, `2FAS`, `twostep export`.
        format: &'static str,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// Kind of problem (syntax, structure, end of file), never the offending value.
        reason: &'static str,
    },
    /// A file format or version this crate does not read (an encrypted backup, say).
    #[error("unsupported {format} file: {reason}")]
    UnsupportedFile {
        /// Which format.
        format: &'static str,
        /// Why.
        reason: String,
    },
    /// The file holds no account.
    #[error("the file holds no account")]
    EmptyImport,
    /// One or more entries of a file are invalid; nothing was imported.
    #[error("{} of the entries are invalid; nothing was imported (first: entry {}: {})", .errors.len(), .errors.first().map_or(0, |e| e.entry), .errors.first().map_or(String::new(), |e| e.error.to_string()))]
    InvalidEntries {
        /// Every invalid entry.
        errors: Vec<EntryError>,
    },

    // ---- encrypted exports -------------------------------------------------------
    /// The export password is too short or too long.
    #[error("the export password must have {min} to {max} bytes")]
    WeakPassword {
        /// Minimum length in bytes.
        min: usize,
        /// Maximum length in bytes.
        max: usize,
    },
    /// The password is wrong or the file was modified.
    #[error("wrong password, or the export was modified")]
    WrongPassword,
    /// The export was written by a newer version.
    #[error("export format version {version} is not supported (this version reads 1)")]
    UnsupportedExportVersion {
        /// The version found.
        version: u64,
    },
    /// The export file is damaged or its parameters are out of bounds.
    #[error("invalid twostep export: {reason}")]
    MalformedExport {
        /// What is wrong.
        reason: String,
    },

    // ---- vault -------------------------------------------------------------------
    /// No account with this id.
    #[error("no account with id {id}")]
    UnknownAccount {
        /// The id asked for.
        id: AccountId,
    },
    /// The same secret is already in the vault.
    #[error("this account is already in the vault (id {existing})")]
    Duplicate {
        /// The account that has it.
        existing: AccountId,
    },
    /// The vault holds as many accounts as it may.
    #[error("the vault is full (at most {max} accounts)")]
    VaultFull {
        /// The limit.
        max: usize,
    },
    /// The operation needs an HOTP account.
    #[error("account {id} is not an HOTP account")]
    NotHotp {
        /// The account.
        id: AccountId,
    },
    /// The HOTP counter cannot advance any further.
    #[error("the HOTP counter of account {id} is exhausted")]
    CounterExhausted {
        /// The account.
        id: AccountId,
    },
    /// A new order is not a permutation of the vault's accounts.
    #[error("the new order must list every account exactly once")]
    InvalidOrder,
    /// A clock offset out of bounds.
    #[error("the clock offset must be within ±{max_secs} s")]
    InvalidClockOffset {
        /// The bound, in seconds.
        max_secs: u64,
    },
    /// The stored vault does not parse or breaks an invariant.
    #[error("the stored vault is damaged: {reason}")]
    CorruptVault {
        /// What is wrong.
        reason: String,
    },
    /// The random number generator or another primitive failed.
    #[error("internal error: {reason}")]
    Internal {
        /// What failed.
        reason: &'static str,
    },
}

/// One invalid entry of an import file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryError {
    /// 1-based position of the entry in the file (for a text file, the line).
    pub entry: usize,
    /// `issuer:name` when it could be read, for the message shown to the user.
    pub label: Option<String>,
    /// What is wrong with it.
    pub error: Error,
}

impl std::fmt::Display for EntryError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.label {
            Some(label) => write!(f, "entry {} ({label}): {}", self.entry, self.error),
            None => write!(f, "entry {}: {}", self.entry, self.error),
        }
    }
}

impl Error {
    /// Which kind of failure this is, for programs to switch on.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Self::TooLarge { .. } => ErrorKind::TooLarge,
            Self::NotOtpauth => ErrorKind::NotOtpauth,
            Self::MigrationUri => ErrorKind::MigrationUri,
            Self::MalformedUri { .. } => ErrorKind::MalformedUri,
            Self::InvalidPercentEncoding { .. } => ErrorKind::InvalidPercentEncoding,
            Self::UnknownType { .. } => ErrorKind::UnknownType,
            Self::MissingSecret => ErrorKind::MissingSecret,
            Self::InvalidBase32 { .. } => ErrorKind::InvalidBase32,
            Self::InvalidSecretLength { .. } => ErrorKind::InvalidSecretLength,
            Self::SecretTooLong { .. } => ErrorKind::SecretTooLong,
            Self::UnknownAlgorithm { .. } => ErrorKind::UnknownAlgorithm,
            Self::InvalidDigits { .. } => ErrorKind::InvalidDigits,
            Self::InvalidPeriod { .. } => ErrorKind::InvalidPeriod,
            Self::InvalidCounter { .. } => ErrorKind::InvalidCounter,
            Self::MissingCounter => ErrorKind::MissingCounter,
            Self::DuplicateParameter { .. } => ErrorKind::DuplicateParameter,
            Self::MissingLabel => ErrorKind::MissingLabel,
            Self::InvalidLabel { .. } => ErrorKind::InvalidLabel,
            Self::Truncated { .. } => ErrorKind::Truncated,
            Self::MalformedProtobuf { .. } => ErrorKind::MalformedProtobuf,
            Self::InvalidMigration { .. } => ErrorKind::InvalidMigration,
            Self::IncompleteExport { .. } => ErrorKind::IncompleteExport,
            Self::MixedExports => ErrorKind::MixedExports,
            Self::InvalidJson { .. } => ErrorKind::InvalidJson,
            Self::UnsupportedFile { .. } => ErrorKind::UnsupportedFile,
            Self::EmptyImport => ErrorKind::EmptyImport,
            Self::InvalidEntries { .. } => ErrorKind::InvalidEntries,
            Self::WeakPassword { .. } => ErrorKind::WeakPassword,
            Self::WrongPassword => ErrorKind::WrongPassword,
            Self::UnsupportedExportVersion { .. } => ErrorKind::UnsupportedExportVersion,
            Self::MalformedExport { .. } => ErrorKind::MalformedExport,
            Self::UnknownAccount { .. } => ErrorKind::UnknownAccount,
            Self::Duplicate { .. } => ErrorKind::Duplicate,
            Self::VaultFull { .. } => ErrorKind::VaultFull,
            Self::NotHotp { .. } => ErrorKind::NotHotp,
            Self::CounterExhausted { .. } => ErrorKind::CounterExhausted,
            Self::InvalidOrder => ErrorKind::InvalidOrder,
            Self::InvalidClockOffset { .. } => ErrorKind::InvalidClockOffset,
            Self::CorruptVault { .. } => ErrorKind::CorruptVault,
            Self::Internal { .. } => ErrorKind::Internal,
        }
    }

    /// The kind's stable snake_case name (`invalid_base32`, `wrong_password`, ...).
    pub fn code(&self) -> &'static str {
        self.kind().as_str()
    }
}

/// Calls the macro `$callback` with the list of error kinds, `#[doc = "..."] Variant =
/// "snake_case_name",` each: [`ErrorKind`] is made from it here, and the bindings make their
/// mirror of it from the same list, so the list exists once.
#[doc(hidden)]
#[macro_export]
macro_rules! with_error_kinds {
    ($callback:ident) => {
        $callback! {
            #[doc = "An input is larger than this crate accepts."]
            TooLarge = "too_large",
            #[doc = "Not an `otpauth://` URI."]
            NotOtpauth = "not_otpauth",
            #[doc = "An `otpauth-migration://` URI given where one account was expected."]
            MigrationUri = "migration_uri",
            #[doc = "The URI is not well formed."]
            MalformedUri = "malformed_uri",
            #[doc = "A `%` escape is invalid or the decoded text is not UTF-8."]
            InvalidPercentEncoding = "invalid_percent_encoding",
            #[doc = "The OTP type is not `totp`, `hotp` or `steam`."]
            UnknownType = "unknown_type",
            #[doc = "The secret is missing or empty."]
            MissingSecret = "missing_secret",
            #[doc = "The secret is not base32."]
            InvalidBase32 = "invalid_base32",
            #[doc = "invalid_secret_length"]
            InvalidSecretLength = "invalid_secret_length",
            #[doc = "The secret is longer than this crate accepts."]
            SecretTooLong = "secret_too_long",
            #[doc = "The hash algorithm is not SHA1, SHA256 or SHA512."]
            UnknownAlgorithm = "unknown_algorithm",
            #[doc = "The number of digits is not 6, 7 or 8."]
            InvalidDigits = "invalid_digits",
            #[doc = "The period is not 1 to 3600 seconds."]
            InvalidPeriod = "invalid_period",
            #[doc = "The HOTP counter is not a non-negative 64-bit integer."]
            InvalidCounter = "invalid_counter",
            #[doc = "An HOTP URI without the `counter` parameter, which the Key Uri Format requires for HOTP: guessing 0 could put the app out of step with the issuer for good."]
            MissingCounter = "missing_counter",
            #[doc = "A parameter appears twice."]
            DuplicateParameter = "duplicate_parameter",
            #[doc = "Neither an issuer nor an account name."]
            MissingLabel = "missing_label",
            #[doc = "An issuer, name or group is too long or has control characters."]
            InvalidLabel = "invalid_label",
            #[doc = "The protobuf payload ends in the middle of a field."]
            Truncated = "truncated",
            #[doc = "The protobuf payload is not well formed."]
            MalformedProtobuf = "malformed_protobuf",
            #[doc = "The Google Authenticator export is not usable."]
            InvalidMigration = "invalid_migration",
            #[doc = "Some QR codes of a multi-part export are missing."]
            IncompleteExport = "incomplete_export",
            #[doc = "Parts of different exports were mixed."]
            MixedExports = "mixed_exports",
            #[doc = "The file is not valid JSON of the expected shape."]
            InvalidJson = "invalid_json",
            #[doc = "A file format or version this crate does not read (an encrypted backup, say)."]
            UnsupportedFile = "unsupported_file",
            #[doc = "The file holds no account."]
            EmptyImport = "empty_import",
            #[doc = "One or more entries of a file are invalid; nothing was imported."]
            InvalidEntries = "invalid_entries",
            #[doc = "The export password is too short or too long."]
            WeakPassword = "weak_password",
            #[doc = "The password is wrong or the file was modified."]
            WrongPassword = "wrong_password",
            #[doc = "The export was written by a newer version."]
            UnsupportedExportVersion = "unsupported_export_version",
            #[doc = "The export file is damaged or its parameters are out of bounds."]
            MalformedExport = "malformed_export",
            #[doc = "No account with this id."]
            UnknownAccount = "unknown_account",
            #[doc = "The same secret is already in the vault."]
            Duplicate = "duplicate",
            #[doc = "The vault holds as many accounts as it may."]
            VaultFull = "vault_full",
            #[doc = "The operation needs an HOTP account."]
            NotHotp = "not_hotp",
            #[doc = "The HOTP counter cannot advance any further."]
            CounterExhausted = "counter_exhausted",
            #[doc = "A new order is not a permutation of the vault's accounts."]
            InvalidOrder = "invalid_order",
            #[doc = "A clock offset out of bounds."]
            InvalidClockOffset = "invalid_clock_offset",
            #[doc = "The stored vault does not parse or breaks an invariant."]
            CorruptVault = "corrupt_vault",
            #[doc = "The random number generator or another primitive failed."]
            Internal = "internal",
        }
    };
}

macro_rules! define_error_kind {
    ($( #[doc = $doc:literal] $variant:ident = $name:literal, )*) => {
        /// The kind of an [`Error`], without its details: one variant per variant of [`Error`],
        /// so that a program (a UI, the bindings) can switch on it. Serialized as its
        /// snake_case name.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorKind {
            $( #[doc = $doc] $variant, )*
        }

        impl ErrorKind {
            /// Every kind.
            pub const ALL: &'static [ErrorKind] = &[$(ErrorKind::$variant),*];

            /// The stable snake_case name (`invalid_base32`, ...).
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $name,)* }
            }
        }
    };
}

with_error_kinds!(define_error_kind);

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// User input shortened for an error message: at most [`ECHO_MAX`] characters, control
/// characters replaced.
pub(crate) fn echo(input: &str) -> String {
    let mut out: String =
        input.chars().take(ECHO_MAX).map(|c| if c.is_control() { '\u{FFFD}' } else { c }).collect();
    if input.chars().count() > ECHO_MAX {
        out.push('…');
    }
    out
}

/// A serde_json error as [`Error::InvalidJson`], without the offending value (serde_json
/// messages may quote it, and it may be a secret).
pub(crate) fn json_error(format: &'static str, e: &serde_json::Error) -> Error {
    let reason = match e.classify() {
        serde_json::error::Category::Io => "read error",
        serde_json::error::Category::Syntax => "not valid JSON",
        serde_json::error::Category::Data => "a field is missing or has the wrong type",
        serde_json::error::Category::Eof => "the file ends too early",
    };
    Error::InvalidJson { format, line: e.line(), column: e.column(), reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoed_input_is_short_and_printable() {
        assert_eq!(echo("SHA3"), "SHA3");
        assert_eq!(echo("a\nb"), "a\u{FFFD}b");
        let long = "x".repeat(100);
        assert_eq!(echo(&long).chars().count(), ECHO_MAX + 1);
    }

    #[test]
    fn json_errors_never_quote_the_input() {
        let e = serde_json::from_str::<u32>("\"JBSWY3DPEHPK3PXP\"").unwrap_err();
        assert!(e.to_string().contains("JBSWY3DPEHPK3PXP"), "serde_json does quote values: {e}");
        let ours = json_error("Aegis", &e);
        assert!(!ours.to_string().contains("JBSWY3DPEHPK3PXP"), "{ours}");
    }

    #[test]
    fn kinds_serialize_as_their_names() {
        for kind in ErrorKind::ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str(), "{kind:?}");
        }
        assert_eq!(ErrorKind::ALL.len(), 40);
    }

    #[test]
    fn entry_errors_summarize_the_first_one() {
        let e = Error::InvalidEntries {
            errors: vec![EntryError {
                entry: 3,
                label: Some("A:b".into()),
                error: Error::MissingSecret,
            }],
        };
        assert_eq!(
            e.to_string(),
            "1 of the entries are invalid; nothing was imported (first: entry 3: the secret is missing)"
        );
        assert_eq!(e.code(), "invalid_entries");
    }
}
