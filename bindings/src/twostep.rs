//! The `Twostep` object: the core's [`twostep_core::Twostep`] for Kotlin and Swift.
//!
//! Each method reads the clock (the platform's, or the one the app passed), calls the core
//! method of the same name with `now`, and converts the answer. Methods that talk to the
//! server or touch the disk beyond a read are `suspend` in Kotlin and `async` in Swift and
//! run on the library's runtime ([`crate::runtime`]); `status` is a fast local read and
//! stays synchronous so that a launch screen can call it directly.
//!
//! Later capabilities slot in the same way: the passcode as more methods on this object
//! (`passcode.rs`, run on the blocking pool because Argon2id is slow), the authenticator
//! (issue 6) as an object this one hands out, with one batched call per screen.

use std::sync::Arc;
use zeroize::Zeroizing;

use crate::error::TwostepError;
use crate::platform::{Clock, ForeignClock, ForeignKeyStore, PlatformKeyStore};
use crate::runtime;
use crate::types::{
    Channel, ClientKind, CodePrompt, Device, Me, SessionInfo, SignInStep, SignOut, Status,
    TwostepConfig, Unregistered,
};

/// One data directory and one server: the whole client-side sign-in flow.
///
/// Open one per data directory and keep it for the life of the app (a second instance on
/// the same directory fails with `Storage`, "in use"); close it (Kotlin `close()`, Swift:
/// release it) before opening the directory again. Safe to share between threads;
/// operations that talk to the server run one at a time.
#[derive(uniffi::Object)]
pub struct Twostep {
    core: Arc<twostep_core::Twostep>,
    clock: Arc<dyn twostep_core::Clock>,
}

impl std::fmt::Debug for Twostep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Twostep").field("core", &self.core).finish_non_exhaustive()
    }
}

impl Twostep {
    /// Local Unix seconds, from the app's clock or the system's.
    pub(crate) fn now(&self) -> u64 {
        self.clock.now_unix_ms() / 1000
    }

    /// The core object, for work handed to the runtime.
    pub(crate) fn core(&self) -> Arc<twostep_core::Twostep> {
        self.core.clone()
    }
}

#[uniffi::export]
impl Twostep {
    /// Opens the data directory (creating it on first use) and restores its state.
    ///
    /// Unwraps the data keys through `key_store`, off the calling thread. Fails without
    /// changing anything if the directory is damaged, belongs to something else or was
    /// written by a newer version. `clock`: leave out for the system clock.
    #[uniffi::constructor(default(clock = None))]
    pub async fn open(
        config: TwostepConfig,
        key_store: Arc<dyn PlatformKeyStore>,
        clock: Option<Arc<dyn Clock>>,
    ) -> Result<Arc<Self>, TwostepError> {
        let clock: Arc<dyn twostep_core::Clock> = match clock {
            Some(clock) => Arc::new(ForeignClock(clock)),
            None => Arc::new(twostep_core::SystemClock),
        };
        let key_store: Arc<dyn twostep_core::KeyStore> = Arc::new(ForeignKeyStore(key_store));
        let core_clock = clock.clone();
        let core = runtime::blocking(move || {
            twostep_core::Twostep::open_with_clock(config.into(), key_store, core_clock)
        })
        .await?;
        Ok(Arc::new(Self { core: Arc::new(core), clock }))
    }

    /// Where the user stands, from local state only (no network): registration, live
    /// session, a sign-in waiting for a code, the server's clock offset. Fast; one call per
    /// launch screen.
    pub fn status(&self) -> Result<Status, TwostepError> {
        Ok(self.core.status(self.now())?.into())
    }

    /// Starts a sign-in with username and password. A mobile sign-in is a first access: it
    /// registers this device when it completes. Cancels any sign-in still waiting for a code.
    pub async fn sign_in(
        &self,
        username: String,
        password: String,
        client: ClientKind,
    ) -> Result<SignInStep, TwostepError> {
        let (core, now) = (self.core.clone(), self.now());
        let password = Zeroizing::new(password);
        runtime::spawn(async move {
            core.sign_in(&username, &password, client.into(), now).await.map(Into::into)
        })
        .await
    }

    /// Submits the second-step code. A wrong code keeps the sign-in pending
    /// (`InvalidCode { attemptsLeft }`); an expired sign-in is forgotten (`ChallengeExpired`).
    pub async fn submit_code(&self, code: String) -> Result<SignInStep, TwostepError> {
        let (core, now) = (self.core.clone(), self.now());
        let code = Zeroizing::new(code);
        runtime::spawn(async move { core.submit_code(&code, now).await.map(Into::into) }).await
    }

    /// Submits a recovery code instead of a second-step code.
    pub async fn use_recovery_code(&self, code: String) -> Result<SignInStep, TwostepError> {
        let (core, now) = (self.core.clone(), self.now());
        let code = Zeroizing::new(code);
        runtime::spawn(async move { core.use_recovery_code(&code, now).await.map(Into::into) })
            .await
    }

    /// Asks the server for a new SMS or email code (the previous one stops working).
    pub async fn resend_code(&self) -> Result<CodePrompt, TwostepError> {
        let (core, now) = (self.core.clone(), self.now());
        runtime::spawn(async move { core.resend_code(now).await.map(Into::into) }).await
    }

    /// Switches the pending sign-in to another configured channel.
    pub async fn switch_channel(&self, channel: Channel) -> Result<CodePrompt, TwostepError> {
        let (core, now) = (self.core.clone(), self.now());
        runtime::spawn(
            async move { core.switch_channel(channel.into(), now).await.map(Into::into) },
        )
        .await
    }

    /// Cancels the pending sign-in, if any (on the server when it can be reached).
    pub async fn cancel_sign_in(&self) -> Result<(), TwostepError> {
        let core = self.core.clone();
        runtime::spawn(async move { core.cancel_sign_in().await }).await
    }

    /// Opens a session for the registered device with its key: no password, no code.
    /// `DeviceRevoked` means the registration was removed and the next sign-in is a first
    /// access.
    pub async fn open_session(&self) -> Result<SessionInfo, TwostepError> {
        let (core, now) = (self.core.clone(), self.now());
        runtime::spawn(async move { core.open_session(now).await.map(Into::into) }).await
    }

    /// The signed-in user and their two-step settings, from the server.
    pub async fn me(&self) -> Result<Me, TwostepError> {
        let (core, now) = (self.core.clone(), self.now());
        runtime::spawn(async move { core.me(now).await.map(Into::into) }).await
    }

    /// The user's registered devices, from the server, in one call.
    pub async fn devices(&self) -> Result<Vec<Device>, TwostepError> {
        let (core, now) = (self.core.clone(), self.now());
        runtime::spawn(async move {
            core.devices(now).await.map(|list| list.into_iter().map(Into::into).collect())
        })
        .await
    }

    /// Ends the session, on the server when it can be reached and locally in any case.
    /// The device stays registered.
    pub async fn sign_out(&self) -> Result<SignOut, TwostepError> {
        let (core, now) = (self.core.clone(), self.now());
        runtime::spawn(async move { core.sign_out(now).await.map(Into::into) }).await
    }

    /// Removes this device's registration on the server, then locally. Needs the server.
    pub async fn unregister(&self) -> Result<Unregistered, TwostepError> {
        let (core, now) = (self.core.clone(), self.now());
        runtime::spawn(async move { core.unregister(now).await.map(Into::into) }).await
    }

    /// Forgets registration, session and pending sign-in on this device without telling
    /// the server.
    pub async fn forget_local(&self) -> Result<(), TwostepError> {
        let core = self.core.clone();
        runtime::blocking(move || core.forget_local()).await
    }
}

/// The library's version (`0.1.0`), for about screens and bug reports.
#[uniffi::export]
pub fn library_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
