//! Exports: an encrypted file (Argon2id + AES-256-GCM) and a plain list of otpauth URIs.
//!
//! The encrypted format is documented in `docs/AUTHENTICATOR.md`. In short, a JSON
//! document with a version header:
//!
//! ```json
//! {"format": "twostep-authenticator-export", "version": 1,
//!  "kdf": {"name": "argon2id", "version": 19, "memory_kib": 65536, "iterations": 3, "parallelism": 1, "salt": "<base64url>"},
//!  "cipher": {"name": "aes-256-gcm", "nonce": "<base64url>"},
//!  "ciphertext": "<base64url of AES-256-GCM(ciphertext || tag)>"}
//! ```
//!
//! The key is Argon2id(password, salt) with the parameters in the header; the header's
//! parameters are bound to the ciphertext as associated data (see [`associated_data`]),
//! so changing any of them makes decryption fail. The plaintext is
//! `{"accounts": [{"issuer"?, "name", "group"?, "otp": {"type", "secret", "algorithm",
//! "digits", "period" | "counter"}, "warnings"?}]}`.
//!
//! Argon2id at the default parameters takes a noticeable fraction of a second and 64 MiB:
//! never call [`encrypt`] or [`decrypt`] on a UI thread.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::SecureRandom;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::account::NewAccount;
use crate::error::{Error, Result, json_error};
use crate::import::{self, MAX_IMPORT_BYTES};
use crate::vault::Account;

/// The `format` field of an encrypted export.
pub const FORMAT_NAME: &str = "twostep-authenticator-export";
/// The version this crate writes and reads.
pub const VERSION: u64 = 1;
/// Shortest export password, in bytes.
pub const MIN_PASSWORD_BYTES: usize = 8;
/// Longest export password, in bytes.
pub const MAX_PASSWORD_BYTES: usize = 1024;

const SALT_LEN: usize = 16;
const TAG_LEN: usize = 16;

/// Argon2id cost of an encrypted export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// Memory, KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for KdfParams {
    /// 64 MiB, 3 passes, 1 lane: well above OWASP's minimum, for a file that may be
    /// attacked offline.
    fn default() -> Self {
        Self { memory_kib: 64 * 1024, iterations: 3, parallelism: 1 }
    }
}

impl KdfParams {
    /// OWASP's minimum (19 MiB, 2 passes): the least this crate writes or reads.
    pub const MINIMUM: Self = Self { memory_kib: 19 * 1024, iterations: 2, parallelism: 1 };
    /// The most this crate reads (a hostile file must not exhaust a phone's memory).
    pub const MAXIMUM: Self = Self { memory_kib: 1024 * 1024, iterations: 16, parallelism: 8 };

    fn check(self) -> Result<()> {
        let (min, max) = (Self::MINIMUM, Self::MAXIMUM);
        if !(min.memory_kib..=max.memory_kib).contains(&self.memory_kib)
            || !(min.iterations..=max.iterations).contains(&self.iterations)
            || !(min.parallelism..=max.parallelism).contains(&self.parallelism)
        {
            return Err(Error::MalformedExport {
                reason: format!(
                    "Argon2id parameters must be within m={}..={} KiB, t={}..={}, p={}..={}",
                    min.memory_kib,
                    max.memory_kib,
                    min.iterations,
                    max.iterations,
                    min.parallelism,
                    max.parallelism
                ),
            });
        }
        Ok(())
    }
}

/// The encrypted file's header and body.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope {
    format: String,
    version: u64,
    kdf: Kdf,
    cipher: Cipher,
    ciphertext: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Kdf {
    name: String,
    version: u32,
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
    salt: String,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Cipher {
    name: String,
    nonce: String,
}

/// The plaintext.
#[derive(Serialize)]
struct PayloadRef<'a> {
    accounts: Vec<ExportedRef<'a>>,
}

#[derive(Serialize)]
struct ExportedRef<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    issuer: Option<&'a str>,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    group: Option<&'a str>,
    otp: &'a crate::account::Otp,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    warnings: &'a [crate::account::AccountWarning],
}

#[derive(Deserialize)]
struct Payload {
    accounts: Vec<NewAccount>,
}

/// Encrypts `accounts` under `password`. Slow (Argon2id): not on a UI thread.
pub fn encrypt(
    accounts: &[Account],
    password: &str,
    params: KdfParams,
    rng: &dyn SecureRandom,
) -> Result<String> {
    check_password(password)?;
    params.check()?;
    let mut salt = [0u8; SALT_LEN];
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill(&mut salt).map_err(|_| Error::Internal { reason: "random number generator" })?;
    rng.fill(&mut nonce).map_err(|_| Error::Internal { reason: "random number generator" })?;
    let kdf = Kdf {
        name: "argon2id".to_owned(),
        version: 0x13,
        memory_kib: params.memory_kib,
        iterations: params.iterations,
        parallelism: params.parallelism,
        salt: B64.encode(salt),
    };
    let cipher = Cipher { name: "aes-256-gcm".to_owned(), nonce: B64.encode(nonce) };

    let payload = PayloadRef {
        accounts: accounts
            .iter()
            .map(|a| ExportedRef {
                issuer: a.issuer.as_deref(),
                name: &a.name,
                group: a.group.as_deref(),
                otp: &a.otp,
                warnings: &a.warnings,
            })
            .collect(),
    };
    let mut sealed = crate::vault::to_json_exact(&payload, TAG_LEN)?;
    let key = derive_key(password, &salt, params)?;
    key.seal_in_place_append_tag(
        Nonce::assume_unique_for_key(nonce),
        Aad::from(associated_data(VERSION, &kdf, &cipher)),
        &mut *sealed,
    )
    .map_err(|_| Error::Internal { reason: "AES-GCM seal" })?;
    let envelope = Envelope {
        format: FORMAT_NAME.to_owned(),
        version: VERSION,
        kdf,
        cipher,
        ciphertext: B64.encode(&*sealed),
    };
    let mut text = serde_json::to_string_pretty(&envelope)
        .map_err(|_| Error::Internal { reason: "encoding the export" })?;
    text.push('\n');
    Ok(text)
}

/// Decrypts an export made by [`encrypt`]. A wrong password and a modified file are the
/// same error ([`Error::WrongPassword`]). Slow (Argon2id): not on a UI thread.
pub fn decrypt(bytes: &[u8], password: &str) -> Result<Vec<NewAccount>> {
    let envelope = read_envelope(bytes)?;
    check_password(password)?;
    let Sealed { params, salt, nonce, mut ciphertext, aad } = read_sealed(envelope)?;
    let key = derive_key(password, &salt, params)?;
    let plain = key
        .open_in_place(Nonce::assume_unique_for_key(nonce), Aad::from(aad), &mut ciphertext)
        .map_err(|_| Error::WrongPassword)?;
    read_payload(plain)
}

/// An export's binary fields, decoded and checked, ready for the key derivation.
struct Sealed {
    params: KdfParams,
    salt: Vec<u8>,
    nonce: [u8; NONCE_LEN],
    ciphertext: Zeroizing<Vec<u8>>,
    aad: Vec<u8>,
}

fn read_sealed(envelope: Envelope) -> Result<Sealed> {
    let Envelope { kdf, cipher, ciphertext, version, .. } = envelope;
    let params = KdfParams {
        memory_kib: kdf.memory_kib,
        iterations: kdf.iterations,
        parallelism: kdf.parallelism,
    };
    let salt = B64.decode(&kdf.salt).map_err(|_| malformed("the salt is not base64url"))?;
    if !(SALT_LEN..=64).contains(&salt.len()) {
        return Err(malformed("the salt must have 16 to 64 bytes"));
    }
    let nonce: [u8; NONCE_LEN] = B64
        .decode(&cipher.nonce)
        .ok()
        .and_then(|n| n.try_into().ok())
        .ok_or_else(|| malformed("the nonce must be 12 bytes of base64url"))?;
    let ciphertext = Zeroizing::new(
        B64.decode(&ciphertext).map_err(|_| malformed("the ciphertext is not base64url"))?,
    );
    if ciphertext.len() < TAG_LEN {
        return Err(malformed("the ciphertext is shorter than its tag"));
    }
    let aad = associated_data(version, &kdf, &cipher);
    Ok(Sealed { params, salt, nonce, ciphertext, aad })
}

/// The decrypted payload's accounts, all or nothing.
fn read_payload(plain: &[u8]) -> Result<Vec<NewAccount>> {
    let payload: Payload =
        serde_json::from_slice(plain).map_err(|e| json_error("twostep export", &e))?;
    let entries = payload
        .accounts
        .into_iter()
        .enumerate()
        .map(|(index, a)| {
            let label = Some(a.label());
            let issuer = a.issuer.as_deref().unwrap_or("");
            NewAccount::new(issuer, &a.name, a.group.as_deref(), a.otp)
                .map(|checked| NewAccount { warnings: a.warnings, ..checked })
                .map_err(|e| import::entry_error(index + 1, label, e))
        })
        .collect();
    import::collect(entries)
}

/// The reader's steps before and after Argon2id, for the fuzz targets (`fuzzing/`), which
/// cannot afford a 19 MiB key derivation per input. Not part of the API.
#[doc(hidden)]
pub mod fuzzing {
    use super::*;

    /// Everything [`decrypt`] checks before deriving the key; the cost it would pay.
    pub fn read_header(bytes: &[u8]) -> Result<KdfParams> {
        read_sealed(read_envelope(bytes)?).map(|sealed| sealed.params)
    }

    /// What [`decrypt`] does with the plaintext.
    pub fn read_payload(plain: &[u8]) -> Result<Vec<NewAccount>> {
        super::read_payload(plain)
    }
}

/// The header of an export, checked: format, version, algorithms and bounds.
fn read_envelope(bytes: &[u8]) -> Result<Envelope> {
    if bytes.len() > MAX_IMPORT_BYTES {
        return Err(Error::TooLarge { what: "export file", max: MAX_IMPORT_BYTES });
    }
    #[derive(Deserialize)]
    struct Version {
        format: Option<String>,
        version: Option<u64>,
    }
    let head: Version =
        serde_json::from_slice(bytes).map_err(|e| json_error("twostep export", &e))?;
    if head.format.as_deref() != Some(FORMAT_NAME) {
        return Err(malformed("not a twostep authenticator export"));
    }
    match head.version {
        Some(VERSION) => {}
        Some(version) => return Err(Error::UnsupportedExportVersion { version }),
        None => return Err(malformed("no version")),
    }
    let envelope: Envelope =
        serde_json::from_slice(bytes).map_err(|e| json_error("twostep export", &e))?;
    if envelope.kdf.name != "argon2id" || envelope.kdf.version != 0x13 {
        return Err(malformed("the key derivation must be argon2id version 19"));
    }
    if envelope.cipher.name != "aes-256-gcm" {
        return Err(malformed("the cipher must be aes-256-gcm"));
    }
    KdfParams {
        memory_kib: envelope.kdf.memory_kib,
        iterations: envelope.kdf.iterations,
        parallelism: envelope.kdf.parallelism,
    }
    .check()?;
    Ok(envelope)
}

/// The bytes bound to the ciphertext: every header field but the ciphertext itself.
fn associated_data(version: u64, kdf: &Kdf, cipher: &Cipher) -> Vec<u8> {
    format!(
        "{FORMAT_NAME};version={version};kdf={},v={},m={},t={},p={},salt={};cipher={},nonce={}",
        kdf.name,
        kdf.version,
        kdf.memory_kib,
        kdf.iterations,
        kdf.parallelism,
        kdf.salt,
        cipher.name,
        cipher.nonce
    )
    .into_bytes()
}

fn derive_key(password: &str, salt: &[u8], params: KdfParams) -> Result<LessSafeKey> {
    let argon_params =
        argon2::Params::new(params.memory_kib, params.iterations, params.parallelism, Some(32))
            .map_err(|_| malformed("Argon2id parameters are out of range"))?;
    let argon =
        argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, argon_params);
    let mut key = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(password.as_bytes(), salt, &mut key[..])
        .map_err(|_| Error::Internal { reason: "Argon2id" })?;
    let unbound = UnboundKey::new(&AES_256_GCM, &key[..])
        .map_err(|_| Error::Internal { reason: "AES-256-GCM key" })?;
    Ok(LessSafeKey::new(unbound))
}

fn check_password(password: &str) -> Result<()> {
    if (MIN_PASSWORD_BYTES..=MAX_PASSWORD_BYTES).contains(&password.len()) {
        Ok(())
    } else {
        Err(Error::WeakPassword { min: MIN_PASSWORD_BYTES, max: MAX_PASSWORD_BYTES })
    }
}

fn malformed(reason: &str) -> Error {
    Error::MalformedExport { reason: reason.to_owned() }
}

/// Every account as an `otpauth://` URI, one per line (zeroized on drop). Anyone who
/// reads it can generate the codes: groups are not included.
pub fn plain(accounts: &[Account]) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(accounts.len() * 160));
    for account in accounts {
        let uri = account.to_uri();
        if out.capacity() < out.len() + uri.len() + 1 {
            // Grow into a fresh zeroizing buffer rather than let String reallocate.
            let mut bigger = Zeroizing::new(String::with_capacity((out.len() + uri.len() + 1) * 2));
            bigger.push_str(&out);
            out = bigger;
        }
        out.push_str(&uri);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Otp;
    use crate::algorithm::Algorithm;
    use crate::secret::Secret;
    use crate::vault::Vault;
    use ring::rand::SystemRandom;

    const FAST: KdfParams = KdfParams::MINIMUM;

    fn vault() -> Vault {
        let mut vault = Vault::new();
        let a = vault
            .add(
                NewAccount::new(
                    "GitHub",
                    "alice",
                    None,
                    Otp::totp(
                        Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap(),
                        Algorithm::Sha1,
                        6,
                        30,
                    )
                    .unwrap(),
                )
                .unwrap(),
            )
            .unwrap();
        vault.set_group(a, Some("Work")).unwrap();
        vault
            .add(
                NewAccount::new(
                    "Bank",
                    "",
                    None,
                    Otp::hotp(
                        Secret::from_bytes(b"12345678901234567890").unwrap(),
                        Algorithm::Sha512,
                        8,
                        9,
                    )
                    .unwrap(),
                )
                .unwrap(),
            )
            .unwrap();
        vault
            .add(
                NewAccount::new(
                    "Steam",
                    "gamer",
                    None,
                    Otp::steam(Secret::from_bytes(b"steam-secret").unwrap()),
                )
                .unwrap(),
            )
            .unwrap();
        vault
    }

    fn as_new(vault: &Vault) -> Vec<NewAccount> {
        vault
            .accounts()
            .iter()
            .map(|a| NewAccount {
                issuer: a.issuer.clone(),
                name: a.name.clone(),
                group: a.group.clone(),
                otp: a.otp.clone(),
                warnings: a.warnings.clone(),
            })
            .collect()
    }

    #[test]
    fn encrypted_round_trip() {
        let vault = vault();
        let file = encrypt(vault.accounts(), "correct horse", FAST, &SystemRandom::new()).unwrap();
        assert!(!file.contains("JBSWY3DP") && !file.contains("GitHub"), "{file}");
        let header: serde_json::Value = serde_json::from_str(&file).unwrap();
        assert_eq!(header["format"], FORMAT_NAME);
        assert_eq!(header["version"], 1);
        assert_eq!(header["kdf"]["memory_kib"], 19456);
        assert_eq!(decrypt(file.as_bytes(), "correct horse").unwrap(), as_new(&vault));
        assert_eq!(decrypt(file.as_bytes(), "wrong horse!"), Err(Error::WrongPassword));
        // Two exports of the same vault differ (salt, nonce).
        assert_ne!(
            encrypt(vault.accounts(), "correct horse", FAST, &SystemRandom::new()).unwrap(),
            file
        );
    }

    #[test]
    fn changing_any_header_field_or_the_ciphertext_fails() {
        let file =
            encrypt(vault().accounts(), "correct horse", FAST, &SystemRandom::new()).unwrap();
        let original: serde_json::Value = serde_json::from_str(&file).unwrap();
        let edits: [(&str, serde_json::Value); 4] = [
            ("/kdf/iterations", 3.into()),
            ("/kdf/memory_kib", 19457.into()),
            ("/kdf/salt", B64.encode([7u8; 16]).into()),
            ("/cipher/nonce", B64.encode([7u8; 12]).into()),
        ];
        for (pointer, value) in edits {
            let mut edited = original.clone();
            *edited.pointer_mut(pointer).unwrap() = value;
            assert_eq!(
                decrypt(edited.to_string().as_bytes(), "correct horse"),
                Err(Error::WrongPassword),
                "{pointer}"
            );
        }
        let mut edited = original.clone();
        let mut ct = B64.decode(original["ciphertext"].as_str().unwrap()).unwrap();
        ct[0] ^= 1;
        edited["ciphertext"] = B64.encode(&ct).into();
        assert_eq!(
            decrypt(edited.to_string().as_bytes(), "correct horse"),
            Err(Error::WrongPassword)
        );
    }

    #[test]
    fn bad_files_and_passwords_are_typed() {
        let file =
            encrypt(vault().accounts(), "correct horse", FAST, &SystemRandom::new()).unwrap();
        let original: serde_json::Value = serde_json::from_str(&file).unwrap();
        let with = |pointer: &str, value: serde_json::Value| {
            let mut edited = original.clone();
            *edited.pointer_mut(pointer).unwrap() = value;
            decrypt(edited.to_string().as_bytes(), "correct horse").unwrap_err().code()
        };
        assert_eq!(with("/version", 2.into()), "unsupported_export_version");
        assert_eq!(with("/format", "something-else".into()), "malformed_export");
        assert_eq!(with("/kdf/name", "scrypt".into()), "malformed_export");
        assert_eq!(with("/cipher/name", "chacha20-poly1305".into()), "malformed_export");
        assert_eq!(
            with("/kdf/memory_kib", (4 * 1024 * 1024).into()),
            "malformed_export",
            "a hostile memory cost"
        );
        assert_eq!(with("/kdf/iterations", 1.into()), "malformed_export");
        assert_eq!(with("/cipher/nonce", "AAAA".into()), "malformed_export");
        assert_eq!(with("/ciphertext", "!!".into()), "malformed_export");
        assert_eq!(with("/ciphertext", "AAAA".into()), "malformed_export");
        assert_eq!(decrypt(b"{", "correct horse").unwrap_err().code(), "invalid_json");
        assert_eq!(
            decrypt(&vec![b' '; MAX_IMPORT_BYTES + 1], "x").unwrap_err().code(),
            "too_large"
        );
        assert_eq!(
            decrypt(file.as_bytes(), "short"),
            Err(Error::WeakPassword { min: 8, max: 1024 })
        );
        assert_eq!(
            encrypt(vault().accounts(), "short", FAST, &SystemRandom::new()),
            Err(Error::WeakPassword { min: 8, max: 1024 })
        );
        let weak = KdfParams { memory_kib: 1024, ..FAST };
        assert!(matches!(
            encrypt(vault().accounts(), "long enough", weak, &SystemRandom::new()),
            Err(Error::MalformedExport { .. })
        ));
    }

    #[test]
    fn plain_export_is_one_uri_per_line_and_imports_back() {
        let vault = vault();
        let text = plain(vault.accounts());
        assert_eq!(text.lines().count(), 3);
        assert!(
            text.starts_with("otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP&issuer=GitHub&algorithm=SHA1&digits=6&period=30\n"),
            "{}",
            *text
        );
        let back = crate::import::parse(crate::ImportFormat::OtpauthUris, text.as_bytes()).unwrap();
        let mut expected = as_new(&vault);
        expected[0].group = None;
        assert_eq!(back, expected);
    }
}
