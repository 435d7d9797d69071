//! What the core keeps, slot by slot, and which data key seals each slot.
//!
//! Every slot is sealed; the associated data names the slot, so a value cannot be moved
//! from one slot to another. Secrets (the device's private key, the session token) have
//! slots of their own and are stored as raw bytes, so that they never pass through a JSON
//! string that could not be zeroized.

use serde::{Deserialize, Serialize};
use twostep_otp::UnixTime;
use twostep_proto::{ClientKind, CodeChallenge, SessionScope, UserSummary};

use crate::keys::KeyRole;

/// A place in the state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    /// [`RegistrationRecord`]: this data dir's registration with the server (a mobile device
    /// or a desktop agent).
    Registration,
    /// Raw PKCS#8 v2 document of the registration's Ed25519 key.
    DeviceKey,
    /// [`SessionRecord`]: the current session, without its token.
    Session,
    /// Raw bytes of the current session's bearer token.
    SessionToken,
    /// [`PendingRecord`]: a sign-in waiting for a code.
    PendingSignIn,
    /// Raw PKCS#8 of the key a pending mobile or agent sign-in will register.
    PendingDeviceKey,
    /// [`twostep_proto::PasscodePolicy`]: the last policy the server sent.
    PasscodePolicy,
    /// [`ClockRecord`]: the last measured server clock offset.
    ClockOffset,
    /// [`crate::passcode::attempts::AttemptRecord`]: failed passcode attempts.
    PasscodeAttempts,
    /// [`WipeRecord`]: the local data was wiped after too many wrong passcodes.
    WipeNotice,
    /// [`ServerRecord`]: the server of the last completed sign-in, readable while locked, so
    /// that a data dir opened without a server URL talks to the server it registered with.
    Server,
}

impl Slot {
    /// The account's local data that a reset, a wipe or `forget_local` removes:
    /// registration, device key, session, pending sign-in and the cached policy.
    pub(crate) const ACCOUNT_DATA: [Slot; 7] = [
        Slot::Registration,
        Slot::DeviceKey,
        Slot::Session,
        Slot::SessionToken,
        Slot::PendingSignIn,
        Slot::PendingDeviceKey,
        Slot::PasscodePolicy,
    ];

    /// Every slot.
    pub(crate) const ALL: [Slot; 11] = [
        Slot::Registration,
        Slot::DeviceKey,
        Slot::Session,
        Slot::SessionToken,
        Slot::PendingSignIn,
        Slot::PendingDeviceKey,
        Slot::PasscodePolicy,
        Slot::ClockOffset,
        Slot::PasscodeAttempts,
        Slot::WipeNotice,
        Slot::Server,
    ];

    /// The slot's name, used in errors.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Slot::Registration => "registration",
            Slot::DeviceKey => "device_key",
            Slot::Session => "session",
            Slot::SessionToken => "session_token",
            Slot::PendingSignIn => "pending_sign_in",
            Slot::PendingDeviceKey => "pending_device_key",
            Slot::PasscodePolicy => "passcode_policy",
            Slot::ClockOffset => "clock_offset",
            Slot::PasscodeAttempts => "passcode_attempts",
            Slot::WipeNotice => "wipe_notice",
            Slot::Server => "server",
        }
    }

    /// The sled key.
    pub(crate) fn storage_key(self) -> Vec<u8> {
        format!("rec/{}", self.name()).into_bytes()
    }

    /// The associated data the slot's value is sealed with.
    pub(crate) fn aad(self) -> Vec<u8> {
        format!("twostep/state/v1/{}", self.name()).into_bytes()
    }

    /// The data key that seals it.
    pub(crate) fn role(self) -> KeyRole {
        match self {
            Slot::PasscodePolicy
            | Slot::ClockOffset
            | Slot::PasscodeAttempts
            | Slot::WipeNotice
            | Slot::Server => KeyRole::Local,
            Slot::Registration
            | Slot::DeviceKey
            | Slot::Session
            | Slot::SessionToken
            | Slot::PendingSignIn
            | Slot::PendingDeviceKey => KeyRole::Account,
        }
    }
}

/// This data dir's registration: a mobile device or a desktop agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RegistrationRecord {
    /// Server-assigned device id.
    pub device_id: String,
    /// What registered: [`ClientKind::Mobile`] or [`ClientKind::Agent`] (records written
    /// before agents registered are mobile).
    #[serde(default = "ClientKind::registration_default")]
    pub client: ClientKind,
    /// The name sent at registration.
    pub device_name: String,
    /// Who registered it.
    pub user: UserSummary,
    /// The server it is registered with.
    pub server_url: String,
    /// Local time.
    pub registered_at: UnixTime,
}

/// The current session (the token is in [`Slot::SessionToken`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct SessionRecord {
    /// The client kind that signed in.
    pub client: ClientKind,
    /// What it may do.
    pub scope: SessionScope,
    /// Who.
    pub user: UserSummary,
    /// Server time.
    pub expires_at: UnixTime,
    /// The registration it belongs to (mobile device or agent).
    pub device_id: Option<String>,
    /// Local time.
    pub signed_in_at: UnixTime,
}

/// A sign-in waiting for a second-step code; kept so that the app may be killed while
/// the user fetches the code from another app.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PendingRecord {
    /// As typed, normalized.
    pub username: String,
    /// The client kind signing in.
    pub client: ClientKind,
    /// The server's challenge, with server times.
    pub challenge: CodeChallenge,
    /// Local time.
    pub started_at: UnixTime,
}

impl std::fmt::Debug for PendingRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingRecord")
            .field("username", &self.username)
            .field("client", &self.client)
            .field("channel", &self.challenge.channel)
            .field("started_at", &self.started_at)
            .finish_non_exhaustive()
    }
}

/// The local data was wiped after too many wrong passcodes (org policy); shown as
/// [`crate::PasscodeStatus::Wiped`] until the next completed sign-in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct WipeRecord {
    /// Local time (the latest time seen).
    pub at: UnixTime,
    /// The authenticator vault was kept (the policy said so and a password recovery wrap
    /// exists): the next password sign-in brings it back.
    pub vault_kept: bool,
}

/// The server's clock offset, as last measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ClockRecord {
    /// Server minus local, milliseconds.
    pub offset_ms: i64,
    /// Local time.
    pub measured_at: UnixTime,
}

/// The server this data dir talks to when it is opened without a URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ServerRecord {
    /// Its base URL, as the sign-in used it.
    pub url: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_have_distinct_keys_and_secrets_use_the_account_key() {
        let keys: std::collections::HashSet<_> =
            Slot::ALL.iter().map(|s| s.storage_key()).collect();
        assert_eq!(keys.len(), Slot::ALL.len());
        for secret in [Slot::DeviceKey, Slot::SessionToken, Slot::PendingDeviceKey] {
            assert_eq!(secret.role(), KeyRole::Account);
        }
        assert_eq!(Slot::PasscodePolicy.role(), KeyRole::Local);
        assert_eq!(
            Slot::PasscodeAttempts.role(),
            KeyRole::Local,
            "the counter is readable while locked"
        );
    }
}
