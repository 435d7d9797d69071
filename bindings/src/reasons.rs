//! The typed reasons inside two errors: why the authenticator refused something
//! ([`AuthenticatorReason`], one case per kind of `twostep_otp::Error`) and why the server
//! refused a request ([`Rejection`]). Mirrors of the core's enums, converted both ways with
//! exhaustive matches, so that a new kind does not compile until it is mapped.

use twostep_core::{AuthenticatorReason as CoreReason, Rejection as CoreRejection};

/// Why the authenticator refused an input or an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum AuthenticatorReason {
    /// An input is larger than this crate accepts.
    TooLarge,
    /// Not an `otpauth://` URI.
    NotOtpauth,
    /// An `otpauth-migration://` URI given where one account was expected.
    MigrationUri,
    /// The URI is not well formed.
    MalformedUri,
    /// A `%` escape is invalid or the decoded text is not UTF-8.
    InvalidPercentEncoding,
    /// The OTP type is not `totp`, `hotp` or `steam`.
    UnknownType,
    /// The secret is missing or empty.
    MissingSecret,
    /// The secret is not base32.
    InvalidBase32,
    /// The secret has a length no base32 encoder writes (a character missing or extra).
    InvalidSecretLength,
    /// The secret is longer than this crate accepts.
    SecretTooLong,
    /// The hash algorithm is not SHA1, SHA256 or SHA512.
    UnknownAlgorithm,
    /// The number of digits is not 6, 7 or 8.
    InvalidDigits,
    /// The period is not 1 to 3600 seconds.
    InvalidPeriod,
    /// The HOTP counter is not a non-negative 64-bit integer.
    InvalidCounter,
    /// An HOTP URI without the `counter` parameter, which the Key Uri Format requires.
    MissingCounter,
    /// A parameter appears twice.
    DuplicateParameter,
    /// Neither an issuer nor an account name.
    MissingLabel,
    /// An issuer, name or group is too long or has control characters.
    InvalidLabel,
    /// The protobuf payload ends in the middle of a field.
    Truncated,
    /// The protobuf payload is not well formed.
    MalformedProtobuf,
    /// The Google Authenticator export is not usable.
    InvalidMigration,
    /// Some QR codes of a multi-part export are missing.
    IncompleteExport,
    /// Parts of different exports were mixed.
    MixedExports,
    /// The file is not valid JSON of the expected shape.
    InvalidJson,
    /// A file format or version this crate does not read (an encrypted backup, say).
    UnsupportedFile,
    /// The file holds no account.
    EmptyImport,
    /// One or more entries of a file are invalid; nothing was imported.
    InvalidEntries,
    /// The export password is too short or too long.
    WeakPassword,
    /// The password is wrong or the file was modified.
    WrongPassword,
    /// The export was written by a newer version.
    UnsupportedExportVersion,
    /// The export file is damaged or its parameters are out of bounds.
    MalformedExport,
    /// No account with this id.
    UnknownAccount,
    /// The same secret is already in the vault.
    Duplicate,
    /// The vault holds as many accounts as it may.
    VaultFull,
    /// The operation needs an HOTP account.
    NotHotp,
    /// The HOTP counter cannot advance any further.
    CounterExhausted,
    /// A new order is not a permutation of the vault's accounts.
    InvalidOrder,
    /// A clock offset out of bounds.
    InvalidClockOffset,
    /// The stored vault does not parse or breaks an invariant.
    CorruptVault,
    /// The random number generator or another primitive failed.
    Internal,
}

macro_rules! both_ways {
    ($ffi:ident, $core:ident, [$($variant:ident),* $(,)?]) => {
        impl From<$core> for $ffi {
            fn from(value: $core) -> Self {
                match value { $($core::$variant => Self::$variant,)* }
            }
        }
        impl From<$ffi> for $core {
            fn from(value: $ffi) -> Self {
                match value { $($ffi::$variant => Self::$variant,)* }
            }
        }
    };
}

both_ways!(
    AuthenticatorReason,
    CoreReason,
    [
        TooLarge,
        NotOtpauth,
        MigrationUri,
        MalformedUri,
        InvalidPercentEncoding,
        UnknownType,
        MissingSecret,
        InvalidBase32,
        InvalidSecretLength,
        SecretTooLong,
        UnknownAlgorithm,
        InvalidDigits,
        InvalidPeriod,
        InvalidCounter,
        MissingCounter,
        DuplicateParameter,
        MissingLabel,
        InvalidLabel,
        Truncated,
        MalformedProtobuf,
        InvalidMigration,
        IncompleteExport,
        MixedExports,
        InvalidJson,
        UnsupportedFile,
        EmptyImport,
        InvalidEntries,
        WeakPassword,
        WrongPassword,
        UnsupportedExportVersion,
        MalformedExport,
        UnknownAccount,
        Duplicate,
        VaultFull,
        NotHotp,
        CounterExhausted,
        InvalidOrder,
        InvalidClockOffset,
        CorruptVault,
        Internal,
    ]
);

/// Why the server refused a request, when no more specific error applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum Rejection {
    /// The request was malformed or a field invalid (a client bug, or an old client).
    BadRequest,
    /// What the request named does not exist (anymore).
    NotFound,
    /// The session may not do this (a setup-only session, say).
    Forbidden,
    /// The device's signature did not verify.
    BadSignature,
    /// The organization's policy requires two-step, which forbids this change.
    PolicyRequiresTwoStep,
    /// The request conflicts with the current state.
    Conflict,
    /// A code this version does not know.
    Other,
}

both_ways!(
    Rejection,
    CoreRejection,
    [BadRequest, NotFound, Forbidden, BadSignature, PolicyRequiresTwoStep, Conflict, Other]
);
