//! [`Twostep`]: one data directory, and the handles to its parts.
//!
//! ```text
//! Twostep ── status(now), clock_offset()
//!   ├── session()?       Session        sign-in steps, device sessions, me/devices, sign-out,
//!   │                                   unregister          (only with a server: see below)
//!   ├── passcode()       Passcode       set, unlock, change, remove, lock, background, reset
//!   └── authenticator()  Authenticator  the vault: accounts, codes, HOTP, imports, exports
//!          all three share one Arc<Local>: the sealed state, the key store, the memory
//! ```
//!
//! The local parts open without any server: the passcode and the authenticator work on a
//! data dir that never saw one. The session exists when a server is known: the URL in the
//! [`Config`], or else the server of the last completed sign-in, stored in the data dir.
//! Each part lives in its own module with its own state; what they share is
//! `crate::local::Local`, whose module doc gives the **lock order**: session operation →
//! passcode → vault → Account key.

use std::path::PathBuf;
use std::sync::Arc;
use twostep_otp::UnixTime;

use crate::authenticator::Authenticator;
use crate::clock::ClockOffset;
use crate::clock::{ClockSource, SystemClock};
use crate::error::{Error, Result};
use crate::keystore::{BiometricKeyStore, KeyStore};
use crate::local::Local;
use crate::passcode::{self, Passcode};
use crate::session::{ServerConfig, Session};
use crate::status::{self, Status};

/// How to open a [`Twostep`].
#[derive(Debug, Clone)]
pub struct Config {
    /// A directory the app owns; the state lives in `state/` inside it.
    pub data_dir: PathBuf,
    /// The server and how patient to be with it. Without a URL, the server of the last
    /// completed sign-in in this data dir is used, if any.
    pub server: ServerConfig,
    /// The name this device registers under ("Pixel 8"), shown to the user and operators.
    pub device_name: String,
    /// The key store of the biometric unlock (an option; see [`Passcode`]): its key needs
    /// the user's authentication for every use. `None`: no biometric unlock.
    pub biometric_key_store: Option<Arc<dyn BiometricKeyStore>>,
}

impl Config {
    /// A data dir talking to `server_url`, with default timeouts and a generic device name.
    pub fn new(data_dir: impl Into<PathBuf>, server_url: impl Into<String>) -> Self {
        let mut config = Self::local(data_dir);
        config.server.url = Some(server_url.into());
        config
    }

    /// A data dir without a server URL: the authenticator and the passcode work; the session
    /// uses the server the data dir last signed in to, if any.
    pub fn local(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            server: ServerConfig::default(),
            device_name: "twostep device".to_owned(),
            biometric_key_store: None,
        }
    }
}

/// The client side of twostep for one data directory.
pub struct Twostep {
    local: Arc<Local>,
    session: Option<Session>,
    passcode: Passcode,
    authenticator: Authenticator,
}

impl std::fmt::Debug for Twostep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Twostep")
            .field("local", &self.local)
            .field("server", &self.server_url())
            .finish_non_exhaustive()
    }
}

impl Twostep {
    /// Opens the data directory (creating it on first use) and restores its state.
    ///
    /// Synchronous and fast (a few milliseconds): it reads sled and unwraps two keys
    /// through `key_store`. Fails without changing anything if the directory is corrupt,
    /// belongs to something else or was written by a newer version. With a passcode set,
    /// the app opens locked (see [`Passcode::unlock`]).
    pub fn open(config: Config, key_store: Arc<dyn KeyStore>) -> Result<Self> {
        Self::open_with_clock(config, key_store, Arc::new(SystemClock))
    }

    /// [`Twostep::open`] with the clock used to measure the server's clock offset.
    pub fn open_with_clock(
        config: Config,
        key_store: Arc<dyn KeyStore>,
        clock: Arc<dyn ClockSource>,
    ) -> Result<Self> {
        let Config { data_dir, mut server, device_name, biometric_key_store } = config;
        // Checked before anything is created, so that bad input changes nothing.
        if let Some(url) = &server.url {
            crate::session::check_server_url(url)?;
        }
        let device_name = crate::session::check_device_name(&device_name)?;
        let local = Arc::new(Local::open(&data_dir, key_store, biometric_key_store)?);
        passcode::enforce_attempt_limit(&local)?;
        if server.url.is_none() {
            server.url = local.stored_server_url()?;
        }
        let session = match server.url.is_some() {
            true => Some(Session::new(local.clone(), &server, device_name, clock)?),
            false => None,
        };
        Ok(Self {
            passcode: Passcode::new(local.clone()),
            authenticator: Authenticator::new(local.clone()),
            session,
            local,
        })
    }

    /// The local state as of local time `now`, without the network: one call for a launch
    /// screen.
    pub fn status(&self, now: UnixTime) -> Result<Status> {
        Ok(status::read(&self.local, self.server_url(), now)?)
    }

    /// The server's clock offset: measured in this run, or as last stored.
    pub fn clock_offset(&self) -> Result<Option<ClockOffset>> {
        Ok(self.local.clock_offset()?)
    }

    /// The server this data dir talks to, if one is known.
    pub fn server_url(&self) -> Option<&str> {
        self.session.as_ref().map(Session::server_url)
    }

    /// The part that talks to the server: sign-in, device sessions, sign-out.
    /// [`crate::TwostepError::NoServer`] when no server is known (none was configured and
    /// this data dir never completed a sign-in).
    pub fn session(&self) -> Result<&Session> {
        Ok(self.session.as_ref().ok_or(Error::NoServer)?)
    }

    /// The local passcode (PIN) that guards the account data.
    pub fn passcode(&self) -> &Passcode {
        &self.passcode
    }

    /// The on-device authenticator vault.
    pub fn authenticator(&self) -> &Authenticator {
        &self.authenticator
    }

    /// The shared state, for the hidden fixtures.
    pub(crate) fn local(&self) -> &Local {
        &self.local
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    const NOW: UnixTime = UnixTime::from_secs(1_800_000_000);
    const URL: &str = "http://127.0.0.1:9";
    const GITHUB: &str = "otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP&issuer=GitHub";

    /// The reads the apps make synchronously on their UI thread (`status`, the passcode state,
    /// the code list, the first one after an unlock included) are served from memory once the
    /// data dir is open — sled reads its whole log when it opens and keeps the pages cached —:
    /// with sled's file emptied under the open instance, they still answer.
    #[test]
    fn the_synchronous_reads_need_nothing_from_disk_after_open() {
        let (dir, keys) = fixtures::seeded_device(URL, NOW);
        {
            let app = Twostep::open(Config::new(dir.path(), URL), keys.clone()).unwrap();
            app.passcode().set("482915", NOW).unwrap();
            app.authenticator().add_uri(GITHUB).unwrap();
        }
        let app = Twostep::open(Config::new(dir.path(), URL), keys.clone()).unwrap();
        app.passcode().unlock("482915", NOW).unwrap();
        let expected = (
            app.status(NOW).unwrap(),
            app.passcode().state(NOW).unwrap(),
            app.clock_offset().unwrap(),
        );

        let db = dir.path().join("state").join("db");
        let length = std::fs::metadata(&db).unwrap().len();
        assert!(length > 0);
        std::fs::OpenOptions::new().write(true).open(&db).unwrap().set_len(0).unwrap();

        let codes = app.authenticator().codes(NOW).unwrap();
        assert_eq!(codes.codes.len(), 1, "the vault, read for the first time since the unlock");
        assert_eq!(app.authenticator().accounts().unwrap()[0].issuer.as_deref(), Some("GitHub"));
        let read = (
            app.status(NOW).unwrap(),
            app.passcode().state(NOW).unwrap(),
            app.clock_offset().unwrap(),
        );
        assert_eq!(read, expected);
    }
}
