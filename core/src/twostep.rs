//! [`Twostep`]: one data directory, one server, the whole client-side flow.
//!
//! Every operation that talks to the server holds an async lock, so that two taps on
//! "submit" cannot race each other over the pending sign-in, and writes its outcome to
//! the state in one atomic batch before returning. Reads (status) take no lock. The
//! passcode operations (`passcode.rs`) are synchronous and serialize on a lock of their own.

use std::path::PathBuf;
use std::sync::Arc;
use twostep_proto::{
    Channel, ClientKind, DeviceInfo, DeviceRegistration, DeviceSessionRequest, ErrorCode,
    MAX_DEVICE_NAME_LEN, MAX_PASSWORD_LEN, MeResponse, PasscodePolicy, SessionGrant, SignInRequest,
    SignInResponse, normalize_username,
};
use zeroize::{Zeroize, Zeroizing};

use crate::client::{ApiClient, ClockOffset, ServerConfig};
use crate::clock::{Clock, SystemClock};
use crate::device::DeviceKey;
use crate::error::{Error, InternalResult, Result};
use crate::keystore::KeyStore;
use crate::passcode::PasscodeStatus;
use crate::signin::{self, Answer, CodePrompt, SignInStep};
use crate::state::{
    ClockRecord, PendingRecord, RegistrationRecord, SessionRecord, Slot, StateStore,
};
use crate::status::{Access, PendingSignIn, Registration, SessionInfo, Status};

mod authenticator;
mod passcode;

#[cfg(any(test, feature = "test-hooks"))]
pub use passcode::{PAUSE_AFTER_COUNT_ENV, PAUSE_MARKER};

/// Measured offsets that differ by less than this from the stored one are not rewritten.
const CLOCK_OFFSET_TOLERANCE_MS: i64 = 1_000;

/// How to open a [`Twostep`].
#[derive(Debug, Clone)]
pub struct Config {
    /// A directory the app owns; the state lives in `state/` inside it.
    pub data_dir: PathBuf,
    /// The server.
    pub server: ServerConfig,
    /// The name this device registers under ("Pixel 8"), shown to the user and operators.
    pub device_name: String,
}

impl Config {
    /// A configuration with default timeouts and a generic device name.
    pub fn new(data_dir: impl Into<PathBuf>, server_url: impl Into<String>) -> Self {
        Self {
            data_dir: data_dir.into(),
            server: ServerConfig::new(server_url),
            device_name: "twostep device".to_owned(),
        }
    }
}

/// The outcome of [`Twostep::sign_out`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignOut {
    /// There was a session to end.
    pub was_signed_in: bool,
    /// The server confirmed the session is over. When false (offline), the local session
    /// is gone anyway and the token expires on the server in its own time.
    pub server_confirmed: bool,
}

/// The outcome of [`Twostep::unregister`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unregistered {
    /// The server had already revoked the device.
    pub already_revoked: bool,
}

/// The stored session and its bearer token.
struct StoredSession {
    record: SessionRecord,
    token: Zeroizing<String>,
}

/// What a sign-in in progress carries between its steps.
struct Flow {
    username: String,
    client: ClientKind,
    device_key: Option<DeviceKey>,
}

/// The client side of twostep for one data directory and one server.
pub struct Twostep {
    store: StateStore,
    api: ApiClient,
    device_name: String,
    operations: tokio::sync::Mutex<()>,
    key_store: Arc<dyn KeyStore>,
    /// In-memory passcode state (recovery in progress, background time).
    passcode: std::sync::Mutex<passcode::Runtime>,
    /// Serializes the passcode operations (unlock attempts are counted one at a time).
    passcode_op: std::sync::Mutex<()>,
    /// The decrypted authenticator vault while the account data is open (`authenticator.rs`).
    vault: std::sync::Mutex<authenticator::VaultCache>,
}

impl std::fmt::Debug for Twostep {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Twostep")
            .field("state", &self.store.path())
            .field("server", &self.api.base_url())
            .finish_non_exhaustive()
    }
}

impl Twostep {
    /// Opens the data directory (creating it on first use) and restores its state.
    ///
    /// Synchronous and fast (a few milliseconds): it reads sled and unwraps two keys
    /// through `key_store`. Fails without changing anything if the directory is corrupt,
    /// belongs to something else or was written by a newer version. With a passcode set,
    /// the app opens locked (see [`Twostep::unlock`]).
    pub fn open(config: Config, key_store: Arc<dyn KeyStore>) -> Result<Self> {
        Self::open_with_clock(config, key_store, Arc::new(SystemClock))
    }

    /// [`Twostep::open`] with the clock used to measure the server's clock offset.
    pub fn open_with_clock(
        config: Config,
        key_store: Arc<dyn KeyStore>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self> {
        let device_name = config.device_name.trim().to_owned();
        if device_name.is_empty() || device_name.chars().count() > MAX_DEVICE_NAME_LEN {
            return Err(Error::InvalidInput {
                field: "device_name",
                message: format!("must have 1 to {MAX_DEVICE_NAME_LEN} characters"),
            }
            .into());
        }
        let api = ApiClient::new(&config.server, clock)?;
        let store = StateStore::open(&config.data_dir, key_store.as_ref())?;
        let app = Self {
            store,
            api,
            device_name,
            operations: tokio::sync::Mutex::new(()),
            key_store,
            passcode: std::sync::Mutex::new(passcode::Runtime::default()),
            passcode_op: std::sync::Mutex::new(()),
            vault: std::sync::Mutex::new(authenticator::VaultCache::default()),
        };
        app.enforce_attempt_limit()?;
        Ok(app)
    }

    /// The local state as of local time `now`, without the network.
    pub fn status(&self, now: u64) -> Result<Status> {
        Ok(self.read_status(now)?)
    }

    /// The state store, for the hidden test helpers.
    pub(crate) fn state(&self) -> &StateStore {
        &self.store
    }

    /// The server's clock offset: measured in this run, or as last stored.
    pub fn clock_offset(&self) -> Result<Option<ClockOffset>> {
        Ok(self.offset()?)
    }

    /// Starts a sign-in with username and password.
    ///
    /// A mobile sign-in is a first access: it creates the device key and registers it when
    /// the sign-in completes (replacing an earlier registration of this device). Any
    /// earlier sign-in still waiting for a code is cancelled.
    ///
    /// While the app is locked (or was wiped with the vault kept) this is **"forgot
    /// passcode"**: once the server has accepted the password, the password opens the local
    /// data (see [`Twostep::reset_local_data`] when it cannot:
    /// [`crate::TwostepError::LocalDataUnrecoverable`]); the app stays locked until the
    /// sign-in completes, then the passcode is removed and a new one can be set. Such a
    /// sign-in does not survive an app restart. A mobile sign-in runs Argon2id once on a
    /// blocking thread (tens of milliseconds) for this recovery.
    pub async fn sign_in(
        &self,
        username: &str,
        password: &str,
        client: ClientKind,
        now: u64,
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
        if self.store.account_open() {
            self.abandon_pending().await?;
        } else {
            // Locked: the pending sign-in cannot be read; it expires on the server.
            self.store.apply(
                self.store.change().remove(Slot::PendingSignIn).remove(Slot::PendingDeviceKey),
            )?;
        }
        self.end_recovery();
        let closed = !self.store.account_open();

        let device_key = match client {
            ClientKind::Mobile => Some(DeviceKey::generate()?),
            _ => None,
        };
        // A registration proves possession of the key by signing a fresh server nonce.
        let device = match &device_key {
            Some(key) => {
                let nonce = self.api.registration_challenge().await?.nonce;
                Some(DeviceRegistration {
                    public_key: key.public_key(),
                    name: self.device_name.clone(),
                    signature: key.sign_registration(&username, &nonce),
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
        let stored = self.store_clock_offset(now);
        let response = match (answer, stored) {
            (Ok(response), Ok(())) => response,
            (Err(e), _) | (Ok(_), Err(e)) => {
                request.password.zeroize();
                return Err(e.into());
            }
        };
        // The server accepted the password.
        let password_key = match Self::wants_password_key(client, closed) {
            true => Some(self.password_key(&request.password).await),
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
            let recovered =
                password_key.as_ref().ok_or(Error::Unrecoverable).and_then(|key| self.recover(key));
            if let Err(e) = recovered {
                self.discard_answer(response).await;
                return Err(e.into());
            }
        }
        self.runtime().recovery = password_key;
        let flow = Flow { username, client, device_key };
        Ok(self.advance(flow, response, now).await?)
    }

    /// Submits the second-step code of the pending sign-in.
    ///
    /// A wrong code leaves the sign-in pending and reports the tries left; an expired
    /// sign-in is forgotten ([`crate::TwostepError::ChallengeExpired`]).
    pub async fn submit_code(&self, code: &str, now: u64) -> Result<SignInStep> {
        let _operation = self.operations.lock().await;
        let code = Zeroizing::new(signin::check_code("code", code)?);
        let pending = self.pending()?.ok_or(Error::NoSignInInProgress)?;
        let answer = self.api.submit_code(&pending.challenge.challenge_id, &code).await;
        self.store_clock_offset(now)?;
        self.after_code(pending, answer, now).await
    }

    /// Submits a recovery code instead of a second-step code.
    pub async fn use_recovery_code(&self, code: &str, now: u64) -> Result<SignInStep> {
        let _operation = self.operations.lock().await;
        let code = Zeroizing::new(signin::check_code("recovery_code", code)?);
        let pending = self.pending()?.ok_or(Error::NoSignInInProgress)?;
        let answer = self.api.submit_recovery_code(&pending.challenge.challenge_id, &code).await;
        self.store_clock_offset(now)?;
        self.after_code(pending, answer, now).await
    }

    /// Asks the server to send a new SMS or email code (the previous one stops working).
    pub async fn resend_code(&self, now: u64) -> Result<CodePrompt> {
        let _operation = self.operations.lock().await;
        let pending = self.pending()?.ok_or(Error::NoSignInInProgress)?;
        let answer = self.api.resend(&pending.challenge.challenge_id).await;
        self.store_clock_offset(now)?;
        Ok(self.replace_challenge(pending, answer)?)
    }

    /// Switches the pending sign-in to another configured channel.
    pub async fn switch_channel(&self, channel: Channel, now: u64) -> Result<CodePrompt> {
        let _operation = self.operations.lock().await;
        let pending = self.pending()?.ok_or(Error::NoSignInInProgress)?;
        let answer = self.api.switch_channel(&pending.challenge.challenge_id, channel).await;
        self.store_clock_offset(now)?;
        Ok(self.replace_challenge(pending, answer)?)
    }

    /// Cancels the pending sign-in, if any. The server is told when it can be reached;
    /// locally the sign-in is gone either way.
    pub async fn cancel_sign_in(&self) -> Result<()> {
        let _operation = self.operations.lock().await;
        if self.store.account_open() {
            self.abandon_pending().await?;
        }
        self.end_recovery();
        Ok(())
    }

    /// Opens a session for the registered device with a signed challenge (no password,
    /// no code).
    ///
    /// If the server has revoked the device, the registration is removed and
    /// [`crate::TwostepError::DeviceRevoked`] is returned: the next sign-in is a first
    /// access.
    pub async fn open_session(&self, now: u64) -> Result<SessionInfo> {
        let _operation = self.operations.lock().await;
        self.require_account_open()?;
        Ok(self.open_device_session(now).await?.0)
    }

    /// Ends the session, on the server when it can be reached and locally in any case.
    /// The device stays registered.
    pub async fn sign_out(&self, now: u64) -> Result<SignOut> {
        let _operation = self.operations.lock().await;
        self.require_account_open()?;
        let Some(StoredSession { token, .. }) = self.session()? else {
            return Ok(SignOut { was_signed_in: false, server_confirmed: false });
        };
        let answer = self.api.sign_out(&token).await;
        self.store_clock_offset(now)?;
        self.store.apply(self.store.change().remove(Slot::Session).remove(Slot::SessionToken))?;
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
    /// offline, nothing changes (see [`Twostep::forget_local`] for a local-only reset).
    pub async fn unregister(&self, now: u64) -> Result<Unregistered> {
        let _operation = self.operations.lock().await;
        self.require_account_open()?;
        let registration = self.registration()?.ok_or(Error::NotRegistered)?;
        let token = match self.live_device_token(&registration, now)? {
            Some(token) => token,
            None => match self.open_device_session(now).await {
                Ok((_, token)) => token,
                Err(e) if e.api_code() == Some(ErrorCode::DeviceRevoked) => {
                    return Ok(Unregistered { already_revoked: true });
                }
                Err(e) => return Err(e.into()),
            },
        };
        let mut answer = self.api.delete_device(&token, &registration.device_id).await;
        if answer.as_ref().err().and_then(Error::api_code) == Some(ErrorCode::Unauthorized) {
            // The stored token was no longer valid: a fresh device session, then once more.
            let (_, token) = self.open_device_session(now).await?;
            answer = self.api.delete_device(&token, &registration.device_id).await;
        }
        self.store_clock_offset(now)?;
        let already_revoked = match answer {
            Ok(()) => false,
            Err(e)
                if matches!(e.api_code(), Some(ErrorCode::DeviceRevoked | ErrorCode::NotFound)) =>
            {
                true
            }
            Err(e) => return Err(e.into()),
        };
        // The device's sessions end with it; tell the server anyway, best effort.
        if let Err(e) = self.api.sign_out(&token).await {
            tracing::debug!(error = %e, "sign-out after unregistering");
        }
        self.forget_device()?;
        Ok(Unregistered { already_revoked })
    }

    /// The signed-in user and their two-step settings, from the server.
    ///
    /// Uses the stored session; a registered device whose session expired opens a new
    /// one with its key first.
    pub async fn me(&self, now: u64) -> Result<MeResponse> {
        let _operation = self.operations.lock().await;
        self.require_unlocked()?;
        let token = self.token_for_call(now).await?;
        let mut answer = self.api.me(&token).await;
        if self.should_renew(&answer)? {
            answer = self.api.me(&self.open_device_session(now).await?.1).await;
        }
        Ok(self.check_revoked(answer, now)?)
    }

    /// The user's registered devices, from the server.
    pub async fn devices(&self, now: u64) -> Result<Vec<DeviceInfo>> {
        let _operation = self.operations.lock().await;
        self.require_unlocked()?;
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
    /// counter stay (see [`Twostep::reset_local_data`] for erasing everything).
    pub fn forget_local(&self) -> Result<()> {
        self.require_account_open()?;
        let change = Slot::ACCOUNT_DATA
            .into_iter()
            .fold(self.store.change(), |change, slot| change.remove(slot));
        Ok(self.store.apply(change)?)
    }

    // ---- sign-in steps -------------------------------------------------------------

    /// Stores the outcome of a sign-in step and says what comes next.
    async fn advance(
        &self,
        flow: Flow,
        response: SignInResponse,
        now: u64,
    ) -> InternalResult<SignInStep> {
        match signin::interpret(flow.client, response)? {
            Answer::Code(challenge) => {
                let record = PendingRecord {
                    username: flow.username,
                    client: flow.client,
                    challenge,
                    started_at: now,
                };
                let mut change = self.store.change().put(Slot::PendingSignIn, &record)?;
                change = match &flow.device_key {
                    Some(key) => change.put_secret(Slot::PendingDeviceKey, key.pkcs8())?,
                    None => change.remove(Slot::PendingDeviceKey),
                };
                self.store.apply(change)?;
                Ok(SignInStep::CodeRequired(CodePrompt::from_challenge(
                    &record.challenge,
                    self.offset_or_zero()?,
                )))
            }
            Answer::Setup { message, session } => {
                let mut change =
                    self.store.change().remove(Slot::PendingSignIn).remove(Slot::PendingDeviceKey);
                let mut info = None;
                if let Some(mut grant) = session {
                    let record = session_record(flow.client, &grant, now);
                    change = change
                        .put(Slot::Session, &record)?
                        .put_secret(Slot::SessionToken, grant.token.as_bytes())?;
                    grant.token.zeroize();
                    info = Some(SessionInfo::from_record(&record, self.offset_or_zero()?));
                }
                self.store.apply(change)?;
                Ok(SignInStep::SetupRequired { message, session: info })
            }
            Answer::Session(grant) => self.finish(flow, grant, now).await,
        }
    }

    /// Stores a new session and, for mobile, the registration it created.
    async fn finish(
        &self,
        flow: Flow,
        mut grant: SessionGrant,
        now: u64,
    ) -> InternalResult<SignInStep> {
        let record = session_record(flow.client, &grant, now);
        let mut change = self
            .store
            .change()
            .remove(Slot::PendingSignIn)
            .remove(Slot::PendingDeviceKey)
            .put(Slot::Session, &record)?
            .put_secret(Slot::SessionToken, grant.token.as_bytes())?;
        let mut replaced = None;
        if let (ClientKind::Mobile, Some(device)) = (flow.client, &grant.device) {
            let key = flow
                .device_key
                .as_ref()
                .ok_or_else(|| Error::Corrupt("a mobile sign-in lost its device key".to_owned()))?;
            let registration = RegistrationRecord {
                device_id: device.device_id.clone(),
                device_name: self.device_name.clone(),
                user: grant.user.clone(),
                server_url: self.api.base_url().to_owned(),
                registered_at: now,
            };
            replaced = self.registration()?.filter(|old| old.device_id != device.device_id);
            change = change
                .put(Slot::Registration, &registration)?
                .put_secret(Slot::DeviceKey, key.pkcs8())?
                .put(Slot::PasscodePolicy, &device.passcode)?;
        }
        let (change, recovered) = self.on_sign_in_complete(change)?;
        self.store.apply(change)?;
        if recovered {
            self.runtime().recovering = false;
            tracing::info!(
                "forgot passcode: signed in again; the local data was kept and the passcode removed"
            );
        }

        if let Some(old) = replaced {
            // This device registered again; retire its previous registration, best effort.
            if let Err(e) = self.api.delete_device(&grant.token, &old.device_id).await {
                tracing::info!(error = %e, "could not remove the previous registration of this device");
            }
        }
        let session = SessionInfo::from_record(&record, self.offset_or_zero()?);
        let step = signin::signed_in_step(flow.client, &grant, session);
        grant.token.zeroize();
        Ok(step)
    }

    /// Continues after a code was submitted: success goes on, failures update the pending
    /// sign-in (tries left) or forget it (expired).
    async fn after_code(
        &self,
        pending: PendingRecord,
        answer: InternalResult<SignInResponse>,
        now: u64,
    ) -> Result<SignInStep> {
        match answer {
            Ok(response) => {
                let flow = self.resume(&pending)?;
                Ok(self.advance(flow, response, now).await?)
            }
            Err(e) => {
                self.after_challenge_error(pending, &e)?;
                Err(e.into())
            }
        }
    }

    /// Keeps the pending sign-in in step with the server after a failed call.
    fn after_challenge_error(
        &self,
        mut pending: PendingRecord,
        error: &Error,
    ) -> InternalResult<()> {
        match error {
            Error::Api { code: ErrorCode::InvalidCode, attempts_left, .. } => {
                pending.challenge.attempts_left = attempts_left.unwrap_or(0);
                self.store.apply(self.store.change().put(Slot::PendingSignIn, &pending)?)
            }
            Error::Api { code: ErrorCode::ChallengeExpired, .. } => self.store.apply(
                self.store.change().remove(Slot::PendingSignIn).remove(Slot::PendingDeviceKey),
            ),
            _ => Ok(()),
        }
    }

    fn replace_challenge(
        &self,
        mut pending: PendingRecord,
        answer: InternalResult<twostep_proto::CodeChallenge>,
    ) -> InternalResult<CodePrompt> {
        match answer {
            Ok(challenge) => {
                pending.challenge = challenge;
                self.store.apply(self.store.change().put(Slot::PendingSignIn, &pending)?)?;
                Ok(CodePrompt::from_challenge(&pending.challenge, self.offset_or_zero()?))
            }
            Err(e) => {
                self.after_challenge_error(pending, &e)?;
                Err(e)
            }
        }
    }

    /// Rebuilds the in-memory flow of a stored pending sign-in.
    fn resume(&self, pending: &PendingRecord) -> InternalResult<Flow> {
        let device_key = match pending.client {
            ClientKind::Mobile => {
                let pkcs8 = self.store.read_secret(Slot::PendingDeviceKey)?.ok_or_else(|| {
                    Error::Corrupt("a pending mobile sign-in has no device key".to_owned())
                })?;
                Some(DeviceKey::from_pkcs8(pkcs8)?)
            }
            _ => None,
        };
        Ok(Flow { username: pending.username.clone(), client: pending.client, device_key })
    }

    /// Cancels and forgets a pending sign-in, telling the server when possible.
    async fn abandon_pending(&self) -> InternalResult<()> {
        let Some(pending) = self.pending()? else { return Ok(()) };
        if let Err(e) = self.api.cancel(&pending.challenge.challenge_id).await {
            tracing::debug!(error = %e, "cancelling the previous sign-in on the server");
        }
        self.store
            .apply(self.store.change().remove(Slot::PendingSignIn).remove(Slot::PendingDeviceKey))
    }

    // ---- device sessions -----------------------------------------------------------

    /// The signed-challenge exchange; returns the session and its token.
    async fn open_device_session(
        &self,
        now: u64,
    ) -> InternalResult<(SessionInfo, Zeroizing<String>)> {
        let registration = self.registration()?.ok_or(Error::NotRegistered)?;
        let pkcs8 = self
            .store
            .read_secret(Slot::DeviceKey)?
            .ok_or_else(|| Error::Corrupt("the registration has no device key".to_owned()))?;
        let key = DeviceKey::from_pkcs8(pkcs8)?;

        let challenge = self.api.device_challenge(&registration.device_id).await;
        let challenge = self.check_revoked(challenge, now)?;
        let request = DeviceSessionRequest {
            device_id: registration.device_id.clone(),
            signature: key.sign_session(&registration.device_id, &challenge.nonce),
            nonce: challenge.nonce,
        };
        let grant = self.api.device_session(&request).await;
        let mut grant = self.check_revoked(grant, now)?;

        let record = session_record(ClientKind::Mobile, &grant, now);
        let mut change = self
            .store
            .change()
            .put(Slot::Session, &record)?
            .put_secret(Slot::SessionToken, grant.token.as_bytes())?;
        if let Some(device) = &grant.device {
            change = change.put(Slot::PasscodePolicy, &device.passcode)?;
        }
        self.store.apply(change)?;
        let token = Zeroizing::new(std::mem::take(&mut grant.token));
        Ok((SessionInfo::from_record(&record, self.offset_or_zero()?), token))
    }

    /// Records the clock offset, and forgets the device if the server revoked it.
    fn check_revoked<T>(&self, answer: InternalResult<T>, now: u64) -> InternalResult<T> {
        self.store_clock_offset(now)?;
        if let Err(e) = &answer
            && e.api_code() == Some(ErrorCode::DeviceRevoked)
        {
            tracing::info!("the server revoked this device; back to first access");
            self.forget_device()?;
        }
        answer
    }

    /// Removes the registration and everything that depends on it.
    fn forget_device(&self) -> InternalResult<()> {
        self.store.apply(
            self.store
                .change()
                .remove(Slot::Registration)
                .remove(Slot::DeviceKey)
                .remove(Slot::Session)
                .remove(Slot::SessionToken)
                .remove(Slot::PasscodePolicy),
        )
    }

    /// A token for an authenticated call: the live session's, or a new device session's.
    async fn token_for_call(&self, now: u64) -> InternalResult<Zeroizing<String>> {
        if let Some(StoredSession { record, token }) = self.session()?
            && record.expires_at > self.offset_or_zero()?.to_server(now)
        {
            return Ok(token);
        }
        if self.registration()?.is_some() {
            return Ok(self.open_device_session(now).await?.1);
        }
        Err(Error::NotSignedIn)
    }

    /// Whether a call was refused for its token while a registered device could open a new
    /// session; the refused session is dropped.
    fn should_renew<T>(&self, answer: &InternalResult<T>) -> InternalResult<bool> {
        let refused =
            answer.as_ref().err().and_then(Error::api_code) == Some(ErrorCode::Unauthorized);
        if refused {
            self.store
                .apply(self.store.change().remove(Slot::Session).remove(Slot::SessionToken))?;
        }
        Ok(refused && self.registration()?.is_some())
    }

    /// The stored token if it belongs to `registration` and has not expired.
    fn live_device_token(
        &self,
        registration: &RegistrationRecord,
        now: u64,
    ) -> InternalResult<Option<Zeroizing<String>>> {
        let Some(StoredSession { record, token }) = self.session()? else { return Ok(None) };
        let live = record.expires_at > self.offset_or_zero()?.to_server(now);
        let ours = record.device_id.as_deref() == Some(registration.device_id.as_str());
        Ok((live && ours).then_some(token))
    }

    // ---- state ---------------------------------------------------------------------

    fn read_status(&self, now: u64) -> InternalResult<Status> {
        let offset = self.offset()?;
        let corrected = offset.unwrap_or(ClockOffset::ZERO);
        let passcode = self.passcode_status_at(now)?;
        if !self.account_usable() {
            let access = if passcode == PasscodeStatus::Wiped {
                Access::FirstAccess
            } else {
                Access::Locked
            };
            let server_url = self.api.base_url().to_owned();
            return Ok(Status {
                access,
                server_url,
                registration: None,
                session: None,
                pending_sign_in: None,
                clock_offset: offset,
                passcode,
            });
        }
        let policy: Option<PasscodePolicy> = self.store.read(Slot::PasscodePolicy)?;
        let registration =
            self.registration()?.map(|record| Registration::from_record(record, policy));
        let session = self
            .store
            .read::<SessionRecord>(Slot::Session)?
            .filter(|record| record.expires_at > corrected.to_server(now))
            .map(|record| SessionInfo::from_record(&record, corrected));
        let pending_sign_in =
            self.pending()?.map(|record| PendingSignIn::from_record(&record, corrected));
        let access = match (&session, &registration) {
            (Some(_), _) => Access::SignedIn,
            (None, Some(_)) => Access::Registered,
            (None, None) => Access::FirstAccess,
        };
        Ok(Status {
            access,
            server_url: self.api.base_url().to_owned(),
            registration,
            session,
            pending_sign_in,
            clock_offset: offset,
            passcode,
        })
    }

    fn registration(&self) -> InternalResult<Option<RegistrationRecord>> {
        self.store.read(Slot::Registration)
    }

    fn pending(&self) -> InternalResult<Option<PendingRecord>> {
        self.store.read(Slot::PendingSignIn)
    }

    fn session(&self) -> InternalResult<Option<StoredSession>> {
        let Some(record) = self.store.read::<SessionRecord>(Slot::Session)? else {
            return Ok(None);
        };
        let bytes = self
            .store
            .read_secret(Slot::SessionToken)?
            .ok_or_else(|| Error::Corrupt("the session has no token".to_owned()))?;
        let token = std::str::from_utf8(&bytes)
            .map_err(|_| Error::Corrupt("the session token is not text".to_owned()))?
            .to_owned();
        Ok(Some(StoredSession { record, token: Zeroizing::new(token) }))
    }

    fn offset(&self) -> InternalResult<Option<ClockOffset>> {
        if let Some(measured) = self.api.clock_offset() {
            return Ok(Some(measured));
        }
        let stored: Option<ClockRecord> = self.store.read(Slot::ClockOffset)?;
        Ok(stored.map(|r| ClockOffset { offset_ms: r.offset_ms, measured_at: r.measured_at }))
    }

    fn offset_or_zero(&self) -> InternalResult<ClockOffset> {
        Ok(self.offset()?.unwrap_or(ClockOffset::ZERO))
    }

    /// Persists the latest measured clock offset when it moved.
    fn store_clock_offset(&self, now: u64) -> InternalResult<()> {
        let Some(measured) = self.api.clock_offset() else { return Ok(()) };
        let stored: Option<ClockRecord> = self.store.read(Slot::ClockOffset)?;
        if stored
            .is_some_and(|s| (s.offset_ms - measured.offset_ms).abs() < CLOCK_OFFSET_TOLERANCE_MS)
        {
            return Ok(());
        }
        let record = ClockRecord { offset_ms: measured.offset_ms, measured_at: now };
        self.store.apply(self.store.change().put(Slot::ClockOffset, &record)?)
    }
}

fn session_record(client: ClientKind, grant: &SessionGrant, now: u64) -> SessionRecord {
    SessionRecord {
        client,
        scope: grant.scope,
        user: grant.user.clone(),
        expires_at: grant.expires_at,
        device_id: grant.device.as_ref().map(|d| d.device_id.clone()),
        signed_in_at: now,
    }
}

#[cfg(test)]
mod tests;
