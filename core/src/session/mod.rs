//! [`Session`]: the part of the client that talks to the server — sign-in, registrations
//! (a mobile device, a desktop agent) and their signed sessions, session renewal, sign-out.
//!
//! - `signin.rs`: the sign-in state machine (pure): what the server's answer means.
//! - `flow.rs`: the sign-in steps stored as they happen (pending sign-in, session, registration),
//!   so that an app killed while the user reads an SMS resumes at the code.
//! - `device.rs`: sessions of a registration (a signed challenge), renewal, revocation.
//! - `client.rs`: the HTTP client, one method per route; `tls.rs`: whom it trusts (the platform,
//!   plus an optional extra CA).
//!
//! Every operation holds [`Session`]'s async lock (the outermost of the crate, see
//! `crate::local`), so that two taps on "submit" cannot race each other over the pending
//! sign-in, and writes its outcome to the state in one atomic batch before returning.
//! "Forgot passcode" is a sign-in while the account data is closed; its key handling is
//! the passcode's (`crate::passcode::recovery`).

mod client;
mod device;
mod flow;
mod signin;
mod tls;

pub use client::ServerConfig;
pub use signin::{CodePrompt, SessionInfo, SignInStep};
pub(crate) use tls::certificate_refusal;

use std::sync::Arc;
use twostep_otp::UnixTime;
use twostep_proto::{
    Channel, ClientKind, DeviceInfo, DeviceRegistration, ErrorCode, MAX_DEVICE_NAME_LEN,
    MAX_PASSWORD_LEN, MeResponse, SignInRequest, normalize_username,
};
use zeroize::{Zeroize, Zeroizing};

use crate::clock::ClockSource;
use crate::device::DeviceKey;
use crate::error::{Error, InternalResult, Result};
use crate::local::Local;
use crate::passcode::recovery;
use crate::state::Slot;
use client::ApiClient;
use flow::Flow;

/// The outcome of [`Session::sign_out`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignOut {
    /// There was a session to end.
    pub was_signed_in: bool,
    /// The server confirmed the session is over. When false (offline), the local session
    /// is gone anyway and the token expires on the server in its own time.
    pub server_confirmed: bool,
}

/// The outcome of [`Session::unregister`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unregistered {
    /// The server had already revoked the device.
    pub already_revoked: bool,
}

/// The server part of a [`crate::Twostep`]: one server, the sign-in flow and the sessions.
pub struct Session {
    local: Arc<Local>,
    api: ApiClient,
    device_name: String,
    /// Lock 1 (outermost): one server operation at a time.
    operations: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").field("server", &self.api.base_url()).finish_non_exhaustive()
    }
}

/// Checks a server URL (see [`ServerConfig::url`]).
pub(crate) fn check_server_url(url: &str) -> InternalResult<()> {
    client::parse_base_url(url).map(drop)
}

/// Checks and trims a device name.
pub(crate) fn check_device_name(name: &str) -> InternalResult<String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_DEVICE_NAME_LEN {
        return Err(Error::InvalidInput {
            field: "device_name",
            message: format!("must have 1 to {MAX_DEVICE_NAME_LEN} characters"),
        });
    }
    Ok(name.to_owned())
}

impl Session {
    pub(crate) fn new(
        local: Arc<Local>,
        server: &ServerConfig,
        device_name: String,
        clock: Arc<dyn ClockSource>,
    ) -> InternalResult<Self> {
        let api = ApiClient::new(server, clock)?;
        Ok(Self { local, api, device_name, operations: tokio::sync::Mutex::new(()) })
    }

    /// The server's base URL, normalized.
    pub fn server_url(&self) -> &str {
        self.api.base_url()
    }

    /// Starts a sign-in with username and password.
    ///
    /// A mobile sign-in is a first access, and an agent sign-in registers the desktop agent:
    /// both create a key and register it when the sign-in completes (replacing an earlier
    /// registration of this data dir, mobile or agent). The server asks for a code only if
    /// the user has two-step; later sessions are opened with the key
    /// ([`Session::open_session`]), no code, until the registration is revoked. Web and
    /// Outlook sign-ins register nothing (Outlook is asked for a code at every sign-in). Any
    /// earlier sign-in still waiting for a code is cancelled.
    ///
    /// While the app is locked (or was wiped with the vault kept) this is **"forgot
    /// passcode"**: once the server has accepted the password, the password opens the local
    /// data (see [`crate::Passcode::reset_local_data`] when it cannot:
    /// [`crate::TwostepError::LocalDataUnrecoverable`]); the app stays locked until the
    /// sign-in completes, then the passcode is removed and a new one can be set. Such a
    /// sign-in does not survive an app restart. A mobile sign-in runs Argon2id once on a
    /// blocking thread (tens of milliseconds) for this recovery.
    pub async fn sign_in(
        &self,
        username: &str,
        password: &str,
        client: ClientKind,
        now: UnixTime,
    ) -> Result<SignInStep> {
        let _operation = self.operations.lock().await;
        let username = normalize_username(username).ok_or_else(|| Error::InvalidInput {
            field: "username",
            message: "use 1 to 64 letters, digits or . _ @ + -".to_owned(),
        })?;
        if password.is_empty() || password.len() > MAX_PASSWORD_LEN {
            return Err(Error::InvalidInput {
                field: "password",
                message: format!("must have 1 to {MAX_PASSWORD_LEN} bytes"),
            }
            .into());
        }
        let store = &self.local.store;
        if store.account_open() {
            self.abandon_pending().await?;
        } else {
            // Locked: the pending sign-in cannot be read; it expires on the server.
            store
                .apply(store.change().remove(Slot::PendingSignIn).remove(Slot::PendingDeviceKey))?;
        }
        recovery::end(&self.local);
        let closed = !store.account_open();

        let device_key = match signin::registers(client) {
            true => Some(DeviceKey::generate()?),
            false => None,
        };
        // A registration proves possession of the key by signing a fresh server nonce.
        let device = match &device_key {
            Some(key) => {
                let nonce = self.api.registration_challenge().await?.nonce;
                Some(DeviceRegistration {
                    public_key: key.public_key(),
                    name: self.device_name.clone(),
                    signature: key.sign_registration(client, &username, &nonce),
                    nonce,
                })
            }
            None => None,
        };
        let mut request = SignInRequest {
            username: username.clone(),
            password: password.to_owned(),
            client,
            device,
        };
        let answer = self.api.sign_in(&request).await;
        let stored = self.record_clock(now);
        let response = match (answer, stored) {
            (Ok(response), Ok(())) => response,
            (Err(e), _) | (Ok(_), Err(e)) => {
                request.password.zeroize();
                return Err(e.into());
            }
        };
        // The server accepted the password.
        let password_key = match recovery::wants_password_key(client, closed) {
            true => Some(recovery::password_key(&self.local, &request.password).await),
            false => None,
        };
        request.password.zeroize();
        let password_key = match password_key.transpose() {
            Ok(key) => key,
            Err(e) if closed => {
                self.discard_answer(response).await;
                return Err(e.into());
            }
            Err(e) => {
                // Recovery is a convenience while the app is open: sign in without it.
                tracing::warn!(error = %e, "no password recovery wrap for this sign-in");
                None
            }
        };
        if closed {
            let recovered = password_key
                .as_ref()
                .ok_or(Error::Unrecoverable)
                .and_then(|key| recovery::recover(&self.local, key));
            if let Err(e) = recovered {
                self.discard_answer(response).await;
                return Err(e.into());
            }
        }
        self.local.passcode_memory().password_key = password_key;
        let flow = Flow { username, client, device_key };
        Ok(self.advance(flow, response, now).await?)
    }

    /// Submits the second-step code of the pending sign-in.
    ///
    /// A wrong code leaves the sign-in pending and reports the tries left; an expired
    /// sign-in is forgotten ([`crate::TwostepError::ChallengeExpired`]).
    pub async fn submit_code(&self, code: &str, now: UnixTime) -> Result<SignInStep> {
        let _operation = self.operations.lock().await;
        let code = Zeroizing::new(signin::check_code("code", code)?);
        let pending = self.pending()?.ok_or(Error::NoSignInInProgress)?;
        let answer = self.api.submit_code(&pending.challenge.challenge_id, &code).await;
        self.record_clock(now)?;
        self.after_code(pending, answer, now).await
    }

    /// Submits a recovery code instead of a second-step code.
    pub async fn use_recovery_code(&self, code: &str, now: UnixTime) -> Result<SignInStep> {
        let _operation = self.operations.lock().await;
        let code = Zeroizing::new(signin::check_code("recovery_code", code)?);
        let pending = self.pending()?.ok_or(Error::NoSignInInProgress)?;
        let answer = self.api.submit_recovery_code(&pending.challenge.challenge_id, &code).await;
        self.record_clock(now)?;
        self.after_code(pending, answer, now).await
    }

    /// Asks the server to send a new SMS or email code (the previous one stops working).
    pub async fn resend_code(&self, now: UnixTime) -> Result<CodePrompt> {
        let _operation = self.operations.lock().await;
        let pending = self.pending()?.ok_or(Error::NoSignInInProgress)?;
        let answer = self.api.resend(&pending.challenge.challenge_id).await;
        self.record_clock(now)?;
        Ok(self.replace_challenge(pending, answer)?)
    }

    /// Switches the pending sign-in to another configured channel.
    pub async fn switch_channel(&self, channel: Channel, now: UnixTime) -> Result<CodePrompt> {
        let _operation = self.operations.lock().await;
        let pending = self.pending()?.ok_or(Error::NoSignInInProgress)?;
        let answer = self.api.switch_channel(&pending.challenge.challenge_id, channel).await;
        self.record_clock(now)?;
        Ok(self.replace_challenge(pending, answer)?)
    }

    /// Cancels the pending sign-in, if any. The server is told when it can be reached;
    /// locally the sign-in is gone either way.
    pub async fn cancel_sign_in(&self) -> Result<()> {
        let _operation = self.operations.lock().await;
        if self.local.store.account_open() {
            self.abandon_pending().await?;
        }
        recovery::end(&self.local);
        Ok(())
    }

    /// Opens a session for the registration (mobile device or desktop agent) with a signed
    /// challenge (no password, no code).
    ///
    /// If the server has revoked the registration, it is removed and
    /// [`crate::TwostepError::DeviceRevoked`] is returned: the next sign-in is a first
    /// access (or, for the agent, a new registration).
    pub async fn open_session(&self, now: UnixTime) -> Result<SessionInfo> {
        let _operation = self.operations.lock().await;
        self.local.require_account_open()?;
        Ok(self.open_device_session(now).await?.0)
    }

    /// Ends the session, on the server when it can be reached and locally in any case.
    /// The device stays registered.
    pub async fn sign_out(&self, now: UnixTime) -> Result<SignOut> {
        let _operation = self.operations.lock().await;
        self.local.require_account_open()?;
        let Some(device::StoredSession { token, .. }) = self.stored_session()? else {
            return Ok(SignOut { was_signed_in: false, server_confirmed: false });
        };
        let answer = self.api.sign_out(&token).await;
        self.record_clock(now)?;
        let store = &self.local.store;
        store.apply(store.change().remove(Slot::Session).remove(Slot::SessionToken))?;
        let server_confirmed = match answer {
            Ok(()) => true,
            Err(e) if e.api_code() == Some(ErrorCode::Unauthorized) => true,
            Err(e) if e.api_code() == Some(ErrorCode::DeviceRevoked) => {
                self.forget_device()?;
                true
            }
            Err(e) => {
                tracing::info!(error = %e, "sign-out not confirmed by the server");
                false
            }
        };
        Ok(SignOut { was_signed_in: true, server_confirmed })
    }

    /// Removes this device's registration on the server, then locally. Needs the server:
    /// offline, nothing changes (see [`Session::forget_local`] for a local-only reset).
    pub async fn unregister(&self, now: UnixTime) -> Result<Unregistered> {
        let _operation = self.operations.lock().await;
        self.local.require_account_open()?;
        Ok(self.unregister_device(now).await?)
    }

    /// The signed-in user and their two-step settings, from the server.
    ///
    /// Uses the stored session; a registered device whose session expired opens a new
    /// one with its key first.
    pub async fn me(&self, now: UnixTime) -> Result<MeResponse> {
        let _operation = self.operations.lock().await;
        self.local.require_unlocked()?;
        let token = self.token_for_call(now).await?;
        let mut answer = self.api.me(&token).await;
        if self.should_renew(&answer)? {
            answer = self.api.me(&self.open_device_session(now).await?.1).await;
        }
        Ok(self.check_revoked(answer, now)?)
    }

    /// The user's registered devices, from the server.
    pub async fn devices(&self, now: UnixTime) -> Result<Vec<DeviceInfo>> {
        let _operation = self.operations.lock().await;
        self.local.require_unlocked()?;
        let token = self.token_for_call(now).await?;
        let mut answer = self.api.devices(&token).await;
        if self.should_renew(&answer)? {
            answer = self.api.devices(&self.open_device_session(now).await?.1).await;
        }
        Ok(self.check_revoked(answer, now)?.devices)
    }

    /// Forgets the registration, the session and any pending sign-in on this device
    /// without telling the server. The server-side device stays until an operator or the
    /// user removes it. Needs the app unlocked; the passcode, the vault and the attempt
    /// counter stay (see [`crate::Passcode::reset_local_data`] for erasing everything).
    pub fn forget_local(&self) -> Result<()> {
        self.local.require_account_open()?;
        let store = &self.local.store;
        let change =
            Slot::ACCOUNT_DATA.into_iter().fold(store.change(), |change, slot| change.remove(slot));
        Ok(store.apply(change)?)
    }

    /// Keeps the clock offset the last answer measured.
    fn record_clock(&self, now: UnixTime) -> InternalResult<()> {
        self.local.record_clock_offset(self.api.clock_offset(), now)
    }
}

#[cfg(test)]
mod tests;
