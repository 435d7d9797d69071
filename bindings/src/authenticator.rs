//! The on-device authenticator for Kotlin and Swift: the [`Authenticator`] object that
//! [`Twostep::authenticator`] hands out (its records are in `accounts.rs`).
//!
//! One batched call per screen: [`Authenticator::codes`] returns every account's code, next
//! code and countdown at once, synchronously (it is a memory read once the vault is open).
//! Writes (add, edit, import, the next HOTP code) are `suspend` / `async` and run on the
//! library's blocking pool: each flushes to disk before it returns. Exports and imports of
//! an encrypted file run Argon2id (64 MiB): slow on purpose.

use std::sync::{Arc, Weak};
use std::time::SystemTime;
use twostep_core::authenticator as core;
use zeroize::Zeroizing;

use crate::accounts::{
    AuthAccount, ClockCorrection, CodeList, HotpCode, ImportFormat, ImportReport, NewAuthAccount,
    id_in,
};
use crate::error::TwostepError;
use crate::runtime;
use crate::twostep::Twostep;

/// The authenticator vault of one [`Twostep`]: TOTP/HOTP/Steam accounts and their codes.
/// With a passcode set it works only while the app is unlocked (`Locked` otherwise).
///
/// It does not keep its `Twostep` open: once that is closed, every call fails with
/// `InvalidInput` (field `twostep`) and the data directory can be opened again.
#[derive(uniffi::Object)]
pub struct Authenticator {
    app: Weak<Twostep>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator").finish_non_exhaustive()
    }
}

impl Authenticator {
    /// The core object and the time now.
    fn core(&self) -> Result<(Arc<twostep_core::Twostep>, twostep_core::UnixTime), TwostepError> {
        crate::twostep::upgrade(&self.app)
    }

    /// The core's authenticator, for a quick read.
    fn read<T>(
        &self,
        f: impl FnOnce(&twostep_core::Authenticator) -> twostep_core::Result<T>,
    ) -> Result<T, TwostepError> {
        let (core, _) = self.core()?;
        Ok(f(core.authenticator())?)
    }

    /// Runs a vault write on the blocking pool.
    async fn write<T, F>(&self, work: F) -> Result<T, TwostepError>
    where
        T: Send + 'static,
        F: FnOnce(&twostep_core::Authenticator, twostep_core::UnixTime) -> twostep_core::Result<T>
            + Send
            + 'static,
    {
        let (core, now) = self.core()?;
        runtime::blocking(move || work(core.authenticator(), now)).await
    }
}

#[uniffi::export]
impl Twostep {
    /// The authenticator vault of this data directory.
    pub fn authenticator(self: Arc<Self>) -> Arc<Authenticator> {
        Arc::new(Authenticator { app: Arc::downgrade(&self) })
    }
}

#[uniffi::export]
impl Authenticator {
    /// Every account's code, next code and seconds remaining, now, in one call. The device
    /// clock is corrected by the user's correction if set, else by the offset measured
    /// against the server. Fast: call it every second.
    pub fn codes(&self) -> Result<CodeList, TwostepError> {
        let (core, now) = self.core()?;
        Ok(core.authenticator().codes(now)?.into())
    }

    /// [`Authenticator::codes`] at a given time (device clock).
    pub fn codes_at(&self, time: SystemTime) -> Result<CodeList, TwostepError> {
        self.read(|a| a.codes(time.into()).map(Into::into))
    }

    /// Every account, in display order, without secrets.
    pub fn accounts(&self) -> Result<Vec<AuthAccount>, TwostepError> {
        self.read(|a| Ok(a.accounts()?.into_iter().map(Into::into).collect()))
    }

    /// The accounts whose issuer, name or group contains `query` (case-insensitive).
    pub fn search(&self, query: String) -> Result<Vec<AuthAccount>, TwostepError> {
        self.read(|a| Ok(a.search(&query)?.into_iter().map(Into::into).collect()))
    }

    /// The groups in use, sorted.
    pub fn groups(&self) -> Result<Vec<String>, TwostepError> {
        self.read(|a| a.groups())
    }

    /// The current clock correction: milliseconds added to the device clock, and from where.
    pub fn clock_correction(&self) -> Result<ClockCorrection, TwostepError> {
        let c = self.read(|a| a.clock_correction())?;
        Ok(ClockCorrection { offset_ms: c.offset_ms, source: c.source.into() })
    }

    /// Adds the account a scanned QR code (an `otpauth://` URI) describes. A malformed URI
    /// or a secret already in the vault: `Authenticator { reason }`, nothing stored.
    pub async fn add_uri(&self, uri: String) -> Result<AuthAccount, TwostepError> {
        let uri = Zeroizing::new(uri);
        self.write(move |core, _| core.add_uri(&uri).map(Into::into)).await
    }

    /// Adds an account typed in by hand.
    pub async fn add(&self, account: NewAuthAccount) -> Result<AuthAccount, TwostepError> {
        self.write(move |core, _| {
            let mut account = account;
            let fields = core::AccountFields {
                issuer: account.issuer.as_deref(),
                name: &account.name,
                group: account.group.as_deref(),
                secret: &account.secret,
                kind: account.kind.into(),
                algorithm: account.algorithm.into(),
                digits: account.digits.map(|d| u8::try_from(d).unwrap_or(u8::MAX)),
                period: account.period_secs.map(|p| u32::try_from(p).unwrap_or(0)),
                counter: account.counter.map(|c| u64::try_from(c).unwrap_or(0)),
            };
            let added = core.add(&fields).map(Into::into);
            zeroize::Zeroize::zeroize(&mut account.secret);
            added
        })
        .await
    }

    /// Renames an account (absent: unchanged; a blank issuer removes it and clears an
    /// issuer-mismatch warning).
    #[uniffi::method(default(issuer = None, name = None))]
    pub async fn edit(
        &self,
        id: i64,
        issuer: Option<String>,
        name: Option<String>,
    ) -> Result<AuthAccount, TwostepError> {
        self.write(move |core, _| {
            core.edit(id_in(id), issuer.as_deref(), name.as_deref()).map(Into::into)
        })
        .await
    }

    /// Puts an account in a group (absent or blank: none).
    pub async fn set_group(
        &self,
        id: i64,
        group: Option<String>,
    ) -> Result<AuthAccount, TwostepError> {
        self.write(move |core, _| core.set_group(id_in(id), group.as_deref()).map(Into::into)).await
    }

    /// Deletes an account.
    pub async fn delete(&self, id: i64) -> Result<(), TwostepError> {
        self.write(move |core, _| core.delete(id_in(id))).await
    }

    /// Moves an account to `index` in the display order.
    pub async fn move_to(&self, id: i64, index: i32) -> Result<(), TwostepError> {
        self.write(move |core, _| core.move_to(id_in(id), u32::try_from(index).unwrap_or(0))).await
    }

    /// Sets the whole display order (every account exactly once).
    pub async fn reorder(&self, ids: Vec<i64>) -> Result<(), TwostepError> {
        self.write(move |core, _| core.reorder(&ids.into_iter().map(id_in).collect::<Vec<_>>()))
            .await
    }

    /// The next code of an HOTP account; its counter advances on disk first.
    pub async fn next_hotp_code(&self, id: i64) -> Result<HotpCode, TwostepError> {
        self.write(move |core, _| core.next_hotp_code(id_in(id)).map(Into::into)).await
    }

    /// Sets (or with null clears) the user's own clock correction, in milliseconds added to
    /// the device clock; it wins over the server's measurement.
    pub async fn set_clock_correction(&self, offset_ms: Option<i64>) -> Result<(), TwostepError> {
        self.write(move |core, _| core.set_clock_correction(offset_ms)).await
    }

    /// Imports a file from another authenticator, all or nothing (an invalid entry refuses
    /// the file: `Authenticator { reason = "invalid_entries", entries }`); duplicates are
    /// skipped and reported.
    pub async fn import_file(
        &self,
        format: ImportFormat,
        bytes: Vec<u8>,
    ) -> Result<ImportReport, TwostepError> {
        let bytes = Zeroizing::new(bytes);
        self.write(move |core, _| core.import(format.into(), &bytes).map(Into::into)).await
    }

    /// Imports a twostep encrypted export. Slow (Argon2id).
    pub async fn import_encrypted(
        &self,
        bytes: Vec<u8>,
        password: String,
    ) -> Result<ImportReport, TwostepError> {
        let password = Zeroizing::new(password);
        self.write(move |core, _| core.import_encrypted(&bytes, &password).map(Into::into)).await
    }

    /// Every account, encrypted under `password` (Argon2id + AES-256-GCM). With a passcode
    /// set, `passcode` must be entered again (a wrong one counts, and locks). Slow.
    pub async fn export_encrypted(
        &self,
        passcode: Option<String>,
        password: String,
    ) -> Result<String, TwostepError> {
        let (passcode, password) = (passcode.map(Zeroizing::new), Zeroizing::new(password));
        self.write(move |core, now| {
            core.export_encrypted(passcode.as_ref().map(|p| p.as_str()), &password, now)
        })
        .await
    }

    /// Every account as an `otpauth://` URI, one per line: anyone who reads it can generate
    /// the codes. With a passcode set, `passcode` must be entered again.
    pub async fn export_plain(&self, passcode: Option<String>) -> Result<String, TwostepError> {
        let passcode = passcode.map(Zeroizing::new);
        self.write(move |core, now| {
            core.export_plain(passcode.as_ref().map(|p| p.as_str()), now)
                .map(|text| text.to_string())
        })
        .await
    }
}
