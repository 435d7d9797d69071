//! Sign-in: password, second-step challenge, device registration and device sessions.

use crate::{Channel, ClientKind};
use serde::{Deserialize, Serialize};

/// `POST /v1/signin`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SignInRequest {
    /// Username (case-insensitive).
    pub username: String,
    /// Password.
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = crate::MAX_PASSWORD_LEN)))]
    pub password: String,
    /// Which client signs in.
    pub client: ClientKind,
    /// Mobile only: the device to register on first access.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<DeviceRegistration>,
}

impl std::fmt::Debug for SignInRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInRequest")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("client", &self.client)
            .field("device", &self.device)
            .finish()
    }
}

/// A registration's public identity, sent at a mobile first access or an agent registration,
/// with proof that the client holds the private key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DeviceRegistration {
    /// Ed25519 public key, 32 bytes, base64url without padding.
    #[cfg_attr(feature = "schema", schemars(length(max = 64)))]
    pub public_key: String,
    /// A name the user recognizes ("Pixel 8").
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = crate::MAX_DEVICE_NAME_LEN)))]
    pub name: String,
    /// A fresh nonce from `POST /v1/device/registration-challenge` (single use).
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = crate::MAX_NONCE_LEN)))]
    pub nonce: String,
    /// Ed25519 signature over [`device_registration_message`], base64url.
    #[cfg_attr(feature = "schema", schemars(length(max = crate::MAX_SIGNATURE_LEN)))]
    pub signature: String,
}

/// The answer to a sign-in step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "status", rename_all = "snake_case", deny_unknown_fields)]
pub enum SignInResponse {
    /// Signed in.
    Session(SessionGrant),
    /// A second-step code is needed.
    CodeRequired(CodeChallenge),
    /// The org requires two-step and the user has none. Web sign-ins get a session that can
    /// only configure two-step; other clients get no session.
    SetupRequired(SetupRequired),
}

/// See [`SignInResponse::SetupRequired`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SetupRequired {
    /// A setup-only session (web) or none.
    #[serde(default)]
    pub session: Option<SessionGrant>,
    /// What the user must do.
    pub message: String,
}

/// What a session may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum SessionScope {
    /// Everything the user may do.
    Full,
    /// Only configure two-step (the org requires it and the user has none yet).
    SetupOnly,
}

/// A bearer token and what comes with it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SessionGrant {
    /// 256-bit random bearer token, base64url.
    #[cfg_attr(feature = "schema", schemars(regex(pattern = crate::schema::TOKEN_PATTERN)))]
    pub token: String,
    /// Unix seconds.
    pub expires_at: u64,
    /// What the token may do.
    pub scope: SessionScope,
    /// Who signed in.
    pub user: UserSummary,
    /// Mobile: the registered device and its passcode policy.
    #[serde(default)]
    pub device: Option<DeviceGrant>,
}

impl std::fmt::Debug for SessionGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionGrant")
            .field("token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .field("scope", &self.scope)
            .field("user", &self.user)
            .field("device", &self.device)
            .finish()
    }
}

/// The user behind a session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct UserSummary {
    /// Stable id.
    #[cfg_attr(feature = "schema", schemars(regex(pattern = crate::schema::ID_PATTERN)))]
    pub id: String,
    /// Normalized username.
    #[cfg_attr(feature = "schema", schemars(regex(pattern = crate::schema::USERNAME_PATTERN)))]
    pub username: String,
    /// Organization name.
    #[cfg_attr(feature = "schema", schemars(regex(pattern = crate::schema::ORG_PATTERN)))]
    pub org: String,
}

/// A registered device and the passcode rules it must enforce.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DeviceGrant {
    /// Device id, used for later signed-challenge sessions.
    #[cfg_attr(feature = "schema", schemars(regex(pattern = crate::schema::DEVICE_ID_PATTERN)))]
    pub device_id: String,
    /// The passcode (PIN) policy.
    pub passcode: PasscodePolicy,
}

/// Whether the app must make the user set a passcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum PasscodeRequirement {
    /// Two-step comes from the org policy: a passcode must be set and cannot be removed.
    Required,
    /// Two-step is the user's choice (or off): the user may skip the passcode.
    Optional,
}

/// Passcode (PIN) policy for a device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PasscodePolicy {
    /// Required or optional.
    pub requirement: PasscodeRequirement,
    /// Minimum length (never under 4).
    #[cfg_attr(feature = "schema", schemars(range(min = crate::MIN_PASSCODE_LENGTH, max = crate::MAX_PASSCODE_LENGTH)))]
    pub min_length: u8,
    /// Letters allowed (otherwise digits only).
    pub alphanumeric: bool,
    /// Failed attempts before local data is wiped (enforced when required).
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = crate::MAX_PASSCODE_MAX_ATTEMPTS)))]
    pub max_failed_attempts: u32,
    /// Seconds in background before the app locks.
    #[cfg_attr(feature = "schema", schemars(range(max = crate::MAX_LOCK_TIMEOUT_SECS)))]
    pub lock_timeout_secs: u32,
    /// Whether a wipe also removes the authenticator vault.
    pub wipe_vault: bool,
}

/// A pending second step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CodeChallenge {
    /// Challenge id for the follow-up calls.
    #[cfg_attr(feature = "schema", schemars(regex(pattern = crate::schema::ID_PATTERN)))]
    pub challenge_id: String,
    /// The channel the code comes from.
    pub channel: Channel,
    /// Masked phone or email for SMS/email (`+49•••••78`, `a•••@example.com`).
    #[serde(default)]
    pub masked_destination: Option<String>,
    /// Digits in the code.
    pub code_length: u8,
    /// Unix seconds after which a resend is allowed (SMS/email only).
    #[serde(default)]
    pub resend_after: Option<u64>,
    /// Unix seconds when the current code expires (SMS/email) or the challenge closes.
    pub expires_at: u64,
    /// Tries left for the current code.
    #[cfg_attr(feature = "schema", schemars(range(max = crate::TRIES_PER_CODE)))]
    pub attempts_left: u32,
    /// The other configured channels the user can switch to.
    pub other_channels: Vec<ChannelChoice>,
    /// Whether unused recovery codes exist.
    pub recovery_available: bool,
}

/// A channel the user can pick.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ChannelChoice {
    /// The channel.
    pub channel: Channel,
    /// Masked destination for SMS/email.
    #[serde(default)]
    pub masked_destination: Option<String>,
}

/// `POST /v1/signin/{id}/code`, `/v1/signin/{id}/recovery`, `/v1/me/...` confirmations.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CodeSubmission {
    /// The code as typed (spaces and dashes are ignored).
    #[cfg_attr(feature = "schema", schemars(length(max = crate::MAX_CODE_INPUT_LEN)))]
    pub code: String,
}

impl std::fmt::Debug for CodeSubmission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CodeSubmission { code: <redacted> }")
    }
}

/// `POST /v1/signin/{id}/channel`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ChannelSwitch {
    /// The channel to use instead.
    pub channel: Channel,
}

/// `POST /v1/device/challenge`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DeviceChallengeRequest {
    /// The registered device.
    #[cfg_attr(feature = "schema", schemars(length(max = crate::MAX_DEVICE_ID_LEN)))]
    pub device_id: String,
}

/// A nonce for the device to sign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DeviceChallenge {
    /// 32 random bytes, base64url.
    #[cfg_attr(feature = "schema", schemars(regex(pattern = crate::schema::NONCE_PATTERN)))]
    pub nonce: String,
    /// Unix seconds.
    pub expires_at: u64,
}

/// `POST /v1/device/session`: the signature over [`device_session_message`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DeviceSessionRequest {
    /// The registered device.
    #[cfg_attr(feature = "schema", schemars(length(max = crate::MAX_DEVICE_ID_LEN)))]
    pub device_id: String,
    /// The nonce from [`DeviceChallenge`].
    #[cfg_attr(feature = "schema", schemars(length(max = crate::MAX_NONCE_LEN)))]
    pub nonce: String,
    /// Ed25519 signature, base64url.
    #[cfg_attr(feature = "schema", schemars(length(max = crate::MAX_SIGNATURE_LEN)))]
    pub signature: String,
}

/// The bytes a device signs to open a session: a domain tag, the device id and the nonce.
pub fn device_session_message(device_id: &str, nonce: &str) -> Vec<u8> {
    let mut m = b"twostep-device-session-v1\0".to_vec();
    m.extend_from_slice(device_id.as_bytes());
    m.push(0);
    m.extend_from_slice(nonce.as_bytes());
    m
}

/// The bytes a client signs to register its key: a domain tag, the client kind, the
/// normalized username, the public key as sent and the server's registration nonce. The nonce
/// is single use, so a registration cannot be replayed; the username and kind bind it to one
/// account and one purpose.
pub fn device_registration_message(
    client: ClientKind,
    username: &str,
    public_key: &str,
    nonce: &str,
) -> Vec<u8> {
    let mut m = b"twostep-device-registration-v1\0".to_vec();
    for part in [client.as_str(), username, public_key, nonce] {
        m.extend_from_slice(part.as_bytes());
        m.push(0);
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_appear_in_debug_output() {
        let req = SignInRequest {
            username: "alice".into(),
            password: "hunter2hunter2".into(),
            client: ClientKind::Web,
            device: None,
        };
        assert!(!format!("{req:?}").contains("hunter2"));
        let code = CodeSubmission { code: "123456".into() };
        assert!(!format!("{code:?}").contains("123456"));
    }

    #[test]
    fn sign_in_request_rejects_unknown_fields() {
        let r: Result<SignInRequest, _> =
            serde_json::from_str(r#"{"username":"a","password":"b","client":"web","admin":true}"#);
        assert!(r.is_err());
    }

    #[test]
    fn responses_are_tagged_by_status() {
        let r = SignInResponse::SetupRequired(SetupRequired { session: None, message: "x".into() });
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["status"], "setup_required");
    }
}
