//! Shared setup for the core's end-to-end tests: a "device" is a data directory and a
//! key store that outlive any one `Twostep` instance, so tests can restart the app.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use twostep_core::{Config, MemoryKeyStore, SignInStep, Twostep, UnixTime};
use twostep_e2e::{Harness, totp_code};

/// The password every test user gets.
pub const PASSWORD: &str = "correct-horse-battery";

/// Now, read here: the core takes time as a parameter.
pub fn now() -> UnixTime {
    UnixTime::from_secs(twostep_e2e::now())
}

/// A phone (or laptop) running the app: its data dir and its platform key store.
pub struct Device {
    pub dir: PathBuf,
    pub keys: Arc<MemoryKeyStore>,
    pub url: String,
    pub name: String,
}

impl Device {
    /// A fresh device with a data dir in the harness's scratch space.
    pub fn new(h: &Harness, name: &str) -> Self {
        Self {
            dir: h.scratch(name),
            keys: Arc::new(MemoryKeyStore::new()),
            url: h.client_url(),
            name: name.to_owned(),
        }
    }

    /// Starts the app (opens the data dir and restores state).
    pub fn open(&self) -> Twostep {
        let mut config = Config::new(&self.dir, &self.url);
        config.device_name = self.name.clone();
        config.server.request_timeout = Duration::from_secs(20);
        Twostep::open(config, self.keys.clone()).expect("the app opens its data dir")
    }
}

/// An org and a user in it.
pub async fn org_and_user(h: &Harness, org: &str, require_two_step: bool, user: &str) {
    h.create_org(org, require_two_step).await;
    h.create_user(org, user, PASSWORD).await;
}

/// Submits the current code of the authenticator `secret` to the pending sign-in.
pub async fn submit_totp(app: &Twostep, secret: &str) -> SignInStep {
    let code = totp_code(secret, now().as_secs());
    app.session().unwrap().submit_code(&code, now()).await.unwrap()
}
