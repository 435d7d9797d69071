//! Sessions of a registration — a mobile device or a desktop agent: a signature over the
//! server's nonce instead of a password and code; the stored session and when to renew it;
//! revocation, which sends the app back to first access (the agent back to registering).

use twostep_otp::UnixTime;
use twostep_proto::{ClientKind, DeviceSessionRequest, ErrorCode};
use zeroize::Zeroizing;

use super::flow::session_record;
use super::signin::SessionInfo;
use super::{Session, Unregistered};
use crate::device::DeviceKey;
use crate::error::{Error, InternalResult};
use crate::state::{RegistrationRecord, SessionRecord, Slot};

/// The stored session and its bearer token.
pub(super) struct StoredSession {
    pub record: SessionRecord,
    pub token: Zeroizing<String>,
}

impl Session {
    /// The signed-challenge exchange; returns the session and its token.
    pub(super) async fn open_device_session(
        &self,
        now: UnixTime,
    ) -> InternalResult<(SessionInfo, Zeroizing<String>)> {
        let registration = self.registration()?.ok_or(Error::NotRegistered)?;
        let store = &self.local.store;
        let pkcs8 = store
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

        let record = session_record(registration.client, &grant, now);
        let mut change = store
            .change()
            .put(Slot::Session, &record)?
            .put_secret(Slot::SessionToken, grant.token.as_bytes())?;
        if let (ClientKind::Mobile, Some(device)) = (registration.client, &grant.device) {
            change = change.put(Slot::PasscodePolicy, &device.passcode)?;
        }
        store.apply(change)?;
        let token = Zeroizing::new(std::mem::take(&mut grant.token));
        Ok((SessionInfo::from_record(&record, self.local.clock_offset_or_zero()?), token))
    }

    /// Records the clock offset, and forgets the device if the server revoked it.
    pub(super) fn check_revoked<T>(
        &self,
        answer: InternalResult<T>,
        now: UnixTime,
    ) -> InternalResult<T> {
        self.record_clock(now)?;
        if let Err(e) = &answer
            && e.api_code() == Some(ErrorCode::DeviceRevoked)
        {
            tracing::info!("the server revoked this device; back to first access");
            self.forget_device()?;
        }
        answer
    }

    /// Removes the registration and everything that depends on it.
    pub(super) fn forget_device(&self) -> InternalResult<()> {
        let store = &self.local.store;
        store.apply(
            store
                .change()
                .remove(Slot::Registration)
                .remove(Slot::DeviceKey)
                .remove(Slot::Session)
                .remove(Slot::SessionToken)
                .remove(Slot::PasscodePolicy),
        )
    }

    /// A token for an authenticated call: the live session's, or a new device session's.
    pub(super) async fn token_for_call(&self, now: UnixTime) -> InternalResult<Zeroizing<String>> {
        if let Some(StoredSession { record, token }) = self.stored_session()?
            && record.expires_at > self.local.clock_offset_or_zero()?.to_server(now)
        {
            return Ok(token);
        }
        if self.registration()?.is_some() {
            return Ok(self.open_device_session(now).await?.1);
        }
        Err(Error::NotSignedIn)
    }

    /// Whether a call was refused for its token while the registration could open a new
    /// session; the refused session is dropped.
    pub(super) fn should_renew<T>(&self, answer: &InternalResult<T>) -> InternalResult<bool> {
        let refused =
            answer.as_ref().err().and_then(Error::api_code) == Some(ErrorCode::Unauthorized);
        if refused {
            let store = &self.local.store;
            store.apply(store.change().remove(Slot::Session).remove(Slot::SessionToken))?;
        }
        Ok(refused && self.registration()?.is_some())
    }

    /// Deletes the registration on the server (with a fresh device session when the stored
    /// one is gone), then locally.
    pub(super) async fn unregister_device(&self, now: UnixTime) -> InternalResult<Unregistered> {
        let registration = self.registration()?.ok_or(Error::NotRegistered)?;
        let token = match self.live_device_token(&registration, now)? {
            Some(token) => token,
            None => match self.open_device_session(now).await {
                Ok((_, token)) => token,
                Err(e) if e.api_code() == Some(ErrorCode::DeviceRevoked) => {
                    return Ok(Unregistered { already_revoked: true });
                }
                Err(e) => return Err(e),
            },
        };
        let mut answer = self.api.delete_device(&token, &registration.device_id).await;
        if answer.as_ref().err().and_then(Error::api_code) == Some(ErrorCode::Unauthorized) {
            // The stored token was no longer valid: a fresh device session, then once more.
            let (_, token) = self.open_device_session(now).await?;
            answer = self.api.delete_device(&token, &registration.device_id).await;
        }
        self.record_clock(now)?;
        let already_revoked = match answer {
            Ok(()) => false,
            Err(e)
                if matches!(e.api_code(), Some(ErrorCode::DeviceRevoked | ErrorCode::NotFound)) =>
            {
                true
            }
            Err(e) => return Err(e),
        };
        // The device's sessions end with it; tell the server anyway, best effort.
        if let Err(e) = self.api.sign_out(&token).await {
            tracing::debug!(error = %e, "sign-out after unregistering");
        }
        self.forget_device()?;
        Ok(Unregistered { already_revoked })
    }

    /// The stored token if it belongs to `registration` and has not expired.
    fn live_device_token(
        &self,
        registration: &RegistrationRecord,
        now: UnixTime,
    ) -> InternalResult<Option<Zeroizing<String>>> {
        let Some(StoredSession { record, token }) = self.stored_session()? else {
            return Ok(None);
        };
        let live = record.expires_at > self.local.clock_offset_or_zero()?.to_server(now);
        let ours = record.device_id.as_deref() == Some(registration.device_id.as_str());
        Ok((live && ours).then_some(token))
    }

    /// This data dir's registration (mobile device or agent), if any.
    pub(super) fn registration(&self) -> InternalResult<Option<RegistrationRecord>> {
        self.local.store.read(Slot::Registration)
    }

    /// The stored session with its token, if any.
    pub(super) fn stored_session(&self) -> InternalResult<Option<StoredSession>> {
        let store = &self.local.store;
        let Some(record) = store.read::<SessionRecord>(Slot::Session)? else {
            return Ok(None);
        };
        let bytes = store
            .read_secret(Slot::SessionToken)?
            .ok_or_else(|| Error::Corrupt("the session has no token".to_owned()))?;
        let token = std::str::from_utf8(&bytes)
            .map_err(|_| Error::Corrupt("the session token is not text".to_owned()))?
            .to_owned();
        Ok(Some(StoredSession { record, token: Zeroizing::new(token) }))
    }
}
