//! The sign-in steps as they are stored: each answer of the server becomes the pending
//! sign-in (waiting for a code), a setup-only session, or the session and, for a mobile device
//! or a desktop agent, the registration, each in one atomic write before the step is returned.

use twostep_otp::UnixTime;
use twostep_proto::{ClientKind, ErrorCode, SessionGrant, SignInResponse};
use zeroize::Zeroize;

use super::Session;
use super::signin::SessionInfo;
use super::signin::{self, Answer, CodePrompt, SignInStep};
use crate::device::DeviceKey;
use crate::error::{Error, InternalResult, Result};
use crate::passcode::recovery;
use crate::state::{PendingRecord, RegistrationRecord, ServerRecord, SessionRecord, Slot};

/// What a sign-in in progress carries between its steps.
pub(super) struct Flow {
    pub username: String,
    pub client: ClientKind,
    /// The key a mobile or agent sign-in registers (sent with the password).
    pub device_key: Option<DeviceKey>,
}

/// The stored form of a granted session (its token goes to its own slot).
pub(super) fn session_record(
    client: ClientKind,
    grant: &SessionGrant,
    now: UnixTime,
) -> SessionRecord {
    SessionRecord {
        client,
        scope: grant.scope,
        user: grant.user.clone(),
        expires_at: UnixTime::from_secs(grant.expires_at),
        device_id: grant.device.as_ref().map(|d| d.device_id.clone()),
        signed_in_at: now,
    }
}

impl Session {
    /// Stores the outcome of a sign-in step and says what comes next.
    pub(super) async fn advance(
        &self,
        flow: Flow,
        response: SignInResponse,
        now: UnixTime,
    ) -> InternalResult<SignInStep> {
        let store = &self.local.store;
        match signin::interpret(flow.device_key.is_some(), response)? {
            Answer::Code(challenge) => {
                let record = PendingRecord {
                    username: flow.username,
                    client: flow.client,
                    challenge,
                    started_at: now,
                };
                let mut change = store.change().put(Slot::PendingSignIn, &record)?;
                change = match &flow.device_key {
                    Some(key) => change.put_secret(Slot::PendingDeviceKey, key.pkcs8())?,
                    None => change.remove(Slot::PendingDeviceKey),
                };
                store.apply(change)?;
                Ok(SignInStep::CodeRequired(CodePrompt::from_challenge(
                    &record.challenge,
                    self.local.clock_offset_or_zero()?,
                )))
            }
            Answer::Setup { message, session } => {
                let mut change =
                    store.change().remove(Slot::PendingSignIn).remove(Slot::PendingDeviceKey);
                let mut info = None;
                if let Some(mut grant) = session {
                    let record = session_record(flow.client, &grant, now);
                    change = change
                        .put(Slot::Session, &record)?
                        .put_secret(Slot::SessionToken, grant.token.as_bytes())?
                        .put(Slot::Server, &self.server_record())?;
                    grant.token.zeroize();
                    info =
                        Some(SessionInfo::from_record(&record, self.local.clock_offset_or_zero()?));
                }
                store.apply(change)?;
                Ok(SignInStep::SetupRequired { message, session: info })
            }
            Answer::Session(grant) => self.finish(flow, grant, now).await,
        }
    }

    fn server_record(&self) -> ServerRecord {
        ServerRecord { url: self.api.base_url().to_owned() }
    }

    /// Stores a new session and the registration it created (mobile device or agent). Only a
    /// mobile registration's grant sets the cached passcode policy: the passcode is the mobile
    /// app's (an agent leaves the cached policy as it is).
    async fn finish(
        &self,
        flow: Flow,
        mut grant: SessionGrant,
        now: UnixTime,
    ) -> InternalResult<SignInStep> {
        let store = &self.local.store;
        let record = session_record(flow.client, &grant, now);
        let mut change = store
            .change()
            .remove(Slot::PendingSignIn)
            .remove(Slot::PendingDeviceKey)
            .put(Slot::Session, &record)?
            .put_secret(Slot::SessionToken, grant.token.as_bytes())?
            .put(Slot::Server, &self.server_record())?;
        let mut replaced = None;
        if let Some(device) = &grant.device {
            let key = flow.device_key.as_ref().ok_or_else(|| Error::Protocol {
                status: 200,
                message: "the server registered a key that this sign-in did not send".to_owned(),
            })?;
            let registration = RegistrationRecord {
                device_id: device.device_id.clone(),
                client: flow.client,
                device_name: self.device_name.clone(),
                user: grant.user.clone(),
                server_url: self.api.base_url().to_owned(),
                registered_at: now,
            };
            replaced = self.registration()?.filter(|old| old.device_id != device.device_id);
            change = change
                .put(Slot::Registration, &registration)?
                .put_secret(Slot::DeviceKey, key.pkcs8())?;
            if flow.client == ClientKind::Mobile {
                change = change.put(Slot::PasscodePolicy, &device.passcode)?;
            }
        }
        recovery::complete_sign_in(&self.local, change)?;

        if let Some(old) = replaced {
            // This device registered again; retire its previous registration, best effort.
            if let Err(e) = self.api.delete_device(&grant.token, &old.device_id).await {
                tracing::info!(error = %e, "could not remove the previous registration of this device");
            }
        }
        let session = SessionInfo::from_record(&record, self.local.clock_offset_or_zero()?);
        let step = signin::signed_in_step(flow.client, &grant, session);
        grant.token.zeroize();
        Ok(step)
    }

    /// Continues after a code was submitted: success goes on, failures update the pending
    /// sign-in (tries left) or forget it (expired).
    pub(super) async fn after_code(
        &self,
        pending: PendingRecord,
        answer: InternalResult<SignInResponse>,
        now: UnixTime,
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
        let store = &self.local.store;
        match error {
            Error::Api { code: ErrorCode::InvalidCode, attempts_left, .. } => {
                pending.challenge.attempts_left = attempts_left.unwrap_or(0);
                store.apply(store.change().put(Slot::PendingSignIn, &pending)?)
            }
            Error::Api { code: ErrorCode::ChallengeExpired, .. } => store
                .apply(store.change().remove(Slot::PendingSignIn).remove(Slot::PendingDeviceKey)),
            _ => Ok(()),
        }
    }

    /// A new code challenge (resend, another channel) replaces the pending one.
    pub(super) fn replace_challenge(
        &self,
        mut pending: PendingRecord,
        answer: InternalResult<twostep_proto::CodeChallenge>,
    ) -> InternalResult<CodePrompt> {
        match answer {
            Ok(challenge) => {
                pending.challenge = challenge;
                let store = &self.local.store;
                store.apply(store.change().put(Slot::PendingSignIn, &pending)?)?;
                Ok(CodePrompt::from_challenge(
                    &pending.challenge,
                    self.local.clock_offset_or_zero()?,
                ))
            }
            Err(e) => {
                self.after_challenge_error(pending, &e)?;
                Err(e)
            }
        }
    }

    /// Rebuilds the in-memory flow of a stored pending sign-in. A pending agent sign-in
    /// stored before agents registered has no key (and registers nothing).
    fn resume(&self, pending: &PendingRecord) -> InternalResult<Flow> {
        let pkcs8 = match signin::registers(pending.client) {
            true => self.local.store.read_secret(Slot::PendingDeviceKey)?,
            false => None,
        };
        if pkcs8.is_none() && pending.client == ClientKind::Mobile {
            return Err(Error::Corrupt("a pending mobile sign-in has no device key".to_owned()));
        }
        let device_key = pkcs8.map(DeviceKey::from_pkcs8).transpose()?;
        Ok(Flow { username: pending.username.clone(), client: pending.client, device_key })
    }

    /// The stored pending sign-in, if any.
    pub(super) fn pending(&self) -> InternalResult<Option<PendingRecord>> {
        self.local.store.read(Slot::PendingSignIn)
    }

    /// Cancels and forgets a pending sign-in, telling the server when possible.
    pub(super) async fn abandon_pending(&self) -> InternalResult<()> {
        let Some(pending) = self.pending()? else { return Ok(()) };
        if let Err(e) = self.api.cancel(&pending.challenge.challenge_id).await {
            tracing::debug!(error = %e, "cancelling the previous sign-in on the server");
        }
        let store = &self.local.store;
        store.apply(store.change().remove(Slot::PendingSignIn).remove(Slot::PendingDeviceKey))
    }

    /// A "forgot passcode" sign-in failed after the server accepted the password: leave
    /// nothing open there (a mobile or agent session has already registered a key that is
    /// now dropped).
    pub(super) async fn discard_answer(&self, response: SignInResponse) {
        let grant = match response {
            SignInResponse::CodeRequired(challenge) => {
                if let Err(e) = self.api.cancel(&challenge.challenge_id).await {
                    tracing::debug!(error = %e, "cancelling the sign-in after a failed recovery");
                }
                return;
            }
            SignInResponse::Session(grant) => grant,
            SignInResponse::SetupRequired(setup) => match setup.session {
                Some(grant) => grant,
                None => return,
            },
        };
        if let Some(device) = &grant.device
            && let Err(e) = self.api.delete_device(&grant.token, &device.device_id).await
        {
            tracing::debug!(error = %e, "removing the device registered by a failed recovery");
        }
        if let Err(e) = self.api.sign_out(&grant.token).await {
            tracing::debug!(error = %e, "ending the session of a failed recovery");
        }
    }
}
