//! The `Twostep` object: the core's [`twostep_core::Twostep`] for Kotlin and Swift.
//!
//! It mirrors the core's shape: the launch `status()`, the server session's methods (sign-in,
//! device sessions, sign-out: the core's `Session`; a mobile app always has a server), and
//! the objects it hands out for the local parts, `passcode()` (`passcode.rs`) and
//! `authenticator()` (`authenticator.rs`).
//!
//! Each method reads the clock (the platform's, or the one the app passed), calls the core
//! method of the same name with `now`, and converts the answer. Methods that talk to the
//! server or touch the disk beyond a read are `suspend` in Kotlin and `async` in Swift and
//! run on the library's runtime ([`crate::runtime`]); `status` is a fast local read and
//! stays synchronous so that a launch screen can call it directly.

use std::sync::{Arc, Weak};
use twostep_core::UnixTime;
use zeroize::Zeroizing;

use crate::error::TwostepError;
use crate::platform::{
    ClockSource, ForeignBiometricKeyStore, ForeignClock, ForeignKeyStore,
    PlatformBiometricKeyStore, PlatformKeyStore,
};
use crate::runtime;
use crate::status::{Device, Me, SignOut, Status, Unregistered};
use crate::types::{Channel, ClientKind, CodePrompt, SessionInfo, SignInStep, TwostepConfig};

/// One data directory and one server: the whole client-side sign-in flow.
///
/// Open one per data directory and keep it for the life of the app (a second instance on
/// the same directory fails with `Storage`, "in use"); close it (Kotlin `close()`, Swift:
/// release it) before opening the directory again. Safe to share between threads;
/// operations that talk to the server run one at a time.
#[derive(uniffi::Object)]
pub struct Twostep {
    core: Arc<twostep_core::Twostep>,
    clock: Arc<dyn twostep_core::ClockSource>,
}

impl std::fmt::Debug for Twostep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Twostep").field("core", &self.core).finish_non_exhaustive()
    }
}

impl Twostep {
    /// Now, from the app's clock or the system's.
    pub(crate) fn now(&self) -> UnixTime {
        UnixTime::from(self.clock.now())
    }

    /// The core object, for work handed to the runtime.
    pub(crate) fn core(&self) -> Arc<twostep_core::Twostep> {
        self.core.clone()
    }

    /// Runs a server operation of the core's `Session` on the runtime.
    async fn server<T, F, Fut>(&self, operation: F) -> Result<T, TwostepError>
    where
        T: Send + 'static,
        F: FnOnce(Arc<twostep_core::Twostep>, UnixTime) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = twostep_core::Result<T>> + Send + 'static,
    {
        let (core, now) = (self.core.clone(), self.now());
        runtime::spawn(async move { operation(core, now).await }).await
    }
}

/// The core object and the time now, for an object `Twostep` handed out: while the
/// `Twostep` is open.
pub(crate) fn upgrade(
    app: &Weak<Twostep>,
) -> Result<(Arc<twostep_core::Twostep>, UnixTime), TwostepError> {
    let app = app.upgrade().ok_or_else(|| TwostepError::InvalidInput {
        field: "twostep".to_owned(),
        detail: "it was closed; open it again and ask it for a new object".to_owned(),
    })?;
    Ok((app.core(), app.now()))
}

#[uniffi::export]
impl Twostep {
    /// Opens the data directory (creating it on first use) and restores its state.
    ///
    /// Unwraps the data keys through `key_store`, off the calling thread. Fails without
    /// changing anything if the directory is damaged, belongs to something else or was
    /// written by a newer version. `clock`: leave out for the system clock.
    /// `biometric_key_store`: for the option of unlocking with biometrics (see
    /// [`PlatformBiometricKeyStore`]); leave out for none.
    #[uniffi::constructor(default(clock = None, biometric_key_store = None))]
    pub async fn open(
        config: TwostepConfig,
        key_store: Arc<dyn PlatformKeyStore>,
        clock: Option<Arc<dyn ClockSource>>,
        biometric_key_store: Option<Arc<dyn PlatformBiometricKeyStore>>,
    ) -> Result<Arc<Self>, TwostepError> {
        let clock: Arc<dyn twostep_core::ClockSource> = match clock {
            Some(clock) => Arc::new(ForeignClock(clock)),
            None => Arc::new(twostep_core::SystemClock),
        };
        let key_store: Arc<dyn twostep_core::KeyStore> = Arc::new(ForeignKeyStore(key_store));
        let core_clock = clock.clone();
        let mut config: twostep_core::Config = config.into();
        config.biometric_key_store = biometric_key_store.map(|store| {
            Arc::new(ForeignBiometricKeyStore(store)) as Arc<dyn twostep_core::BiometricKeyStore>
        });
        let core = runtime::blocking(move || {
            twostep_core::Twostep::open_with_clock(config, key_store, core_clock)
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
        let password = Zeroizing::new(password);
        self.server(move |core, now| async move {
            core.session()?.sign_in(&username, &password, client.into(), now).await.map(Into::into)
        })
        .await
    }

    /// Submits the second-step code. A wrong code keeps the sign-in pending
    /// (`InvalidCode { attemptsLeft }`); an expired sign-in is forgotten (`ChallengeExpired`).
    pub async fn submit_code(&self, code: String) -> Result<SignInStep, TwostepError> {
        let code = Zeroizing::new(code);
        self.server(move |core, now| async move {
            core.session()?.submit_code(&code, now).await.map(Into::into)
        })
        .await
    }

    /// Submits a recovery code instead of a second-step code.
    pub async fn use_recovery_code(&self, code: String) -> Result<SignInStep, TwostepError> {
        let code = Zeroizing::new(code);
        self.server(move |core, now| async move {
            core.session()?.use_recovery_code(&code, now).await.map(Into::into)
        })
        .await
    }

    /// Asks the server for a new SMS or email code (the previous one stops working).
    pub async fn resend_code(&self) -> Result<CodePrompt, TwostepError> {
        self.server(
            |core, now| async move { core.session()?.resend_code(now).await.map(Into::into) },
        )
        .await
    }

    /// Switches the pending sign-in to another configured channel.
    pub async fn switch_channel(&self, channel: Channel) -> Result<CodePrompt, TwostepError> {
        self.server(move |core, now| async move {
            core.session()?.switch_channel(channel.into(), now).await.map(Into::into)
        })
        .await
    }

    /// Cancels the pending sign-in, if any (on the server when it can be reached).
    pub async fn cancel_sign_in(&self) -> Result<(), TwostepError> {
        self.server(|core, _| async move { core.session()?.cancel_sign_in().await }).await
    }

    /// Opens a session for the registered device with its key: no password, no code.
    /// `DeviceRevoked` means the registration was removed and the next sign-in is a first
    /// access.
    pub async fn open_session(&self) -> Result<SessionInfo, TwostepError> {
        self.server(
            |core, now| async move { core.session()?.open_session(now).await.map(Into::into) },
        )
        .await
    }

    /// The signed-in user and their two-step settings, from the server.
    pub async fn me(&self) -> Result<Me, TwostepError> {
        self.server(|core, now| async move { core.session()?.me(now).await.map(Into::into) }).await
    }

    /// The user's registered devices, from the server, in one call.
    pub async fn devices(&self) -> Result<Vec<Device>, TwostepError> {
        self.server(|core, now| async move {
            let list = core.session()?.devices(now).await?;
            Ok(list.into_iter().map(Into::into).collect())
        })
        .await
    }

    /// Ends the session, on the server when it can be reached and locally in any case.
    /// The device stays registered.
    pub async fn sign_out(&self) -> Result<SignOut, TwostepError> {
        self.server(|core, now| async move { core.session()?.sign_out(now).await.map(Into::into) })
            .await
    }

    /// Removes this device's registration on the server, then locally. Needs the server.
    pub async fn unregister(&self) -> Result<Unregistered, TwostepError> {
        self.server(
            |core, now| async move { core.session()?.unregister(now).await.map(Into::into) },
        )
        .await
    }

    /// Forgets registration, session and pending sign-in on this device without telling
    /// the server.
    pub async fn forget_local(&self) -> Result<(), TwostepError> {
        let core = self.core.clone();
        runtime::blocking(move || core.session()?.forget_local()).await
    }
}

/// The library's version (`0.1.0`), for about screens and bug reports.
#[uniffi::export]
pub fn library_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
