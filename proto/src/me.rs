//! Self-service: a signed-in user's own two-step settings, devices and password.

use crate::{Channel, TwoStepOrigin, UserSummary};
use serde::{Deserialize, Serialize};

/// `GET /v1/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct MeResponse {
    /// Who.
    pub user: UserSummary,
    /// Their two-step settings.
    pub two_step: TwoStepSettings,
}

/// A user's two-step configuration as shown to them (destinations masked).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TwoStepSettings {
    /// At least one channel is confirmed.
    pub enabled: bool,
    /// Forced by the org policy or chosen; `None` while not enabled.
    #[serde(default)]
    pub origin: Option<TwoStepOrigin>,
    /// The channel used first at sign-in.
    #[serde(default)]
    pub preferred: Option<Channel>,
    /// Configured and pending channels.
    pub channels: Vec<ChannelStatus>,
    /// Unused recovery codes.
    pub recovery_codes_left: u32,
    /// The organization currently requires two-step.
    pub required_by_org: bool,
}

/// One channel of a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct ChannelStatus {
    /// Which.
    pub channel: Channel,
    /// Masked phone or email.
    #[serde(default)]
    pub masked_destination: Option<String>,
    /// Confirmed with a correct code (pending otherwise).
    pub confirmed: bool,
}

/// `POST /v1/me/two-step/totp`: a new TOTP secret, shown once until confirmed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct TotpEnrollment {
    /// 160-bit secret, base32 without padding.
    #[cfg_attr(feature = "schema", schemars(regex(pattern = "^[A-Z2-7]{32}$")))]
    pub secret: String,
    /// `otpauth://totp/...` for authenticator apps.
    #[cfg_attr(feature = "schema", schemars(regex(pattern = "^otpauth://totp/")))]
    pub otpauth_uri: String,
    /// The URI as a QR code, an SVG document.
    pub qr_svg: String,
    /// Always `SHA1`.
    #[cfg_attr(feature = "schema", schemars(extend("const" = "SHA1")))]
    pub algorithm: String,
    /// Always 6.
    #[cfg_attr(feature = "schema", schemars(extend("const" = 6)))]
    pub digits: u8,
    /// Always 30.
    #[cfg_attr(feature = "schema", schemars(extend("const" = 30)))]
    pub period: u64,
}

impl std::fmt::Debug for TotpEnrollment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TotpEnrollment")
            .field("secret", &"<redacted>")
            .field("digits", &self.digits)
            .field("period", &self.period)
            .finish()
    }
}

/// `POST /v1/me/two-step/sms`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PhoneEnrollment {
    /// E.164 phone number.
    #[cfg_attr(feature = "schema", schemars(length(max = crate::MAX_PHONE_LEN)))]
    pub phone: String,
}

/// `POST /v1/me/two-step/email`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct EmailEnrollment {
    /// Email address.
    #[cfg_attr(feature = "schema", schemars(length(max = crate::MAX_EMAIL_LEN)))]
    pub email: String,
}

/// A code was sent to confirm a new SMS or email channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PendingDelivery {
    /// Which channel.
    pub channel: Channel,
    /// Where the code went, masked.
    pub masked_destination: String,
    /// Unix seconds after which a resend is allowed.
    pub resend_after: u64,
    /// Unix seconds when the code expires.
    pub expires_at: u64,
}

/// A channel was confirmed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct EnrollmentResult {
    /// The settings now.
    pub two_step: TwoStepSettings,
    /// On the first confirmed channel: a fresh set of recovery codes, shown once.
    #[serde(default)]
    #[cfg_attr(feature = "schema", schemars(length(min = crate::RECOVERY_CODE_COUNT, max = crate::RECOVERY_CODE_COUNT), inner(regex(pattern = crate::schema::RECOVERY_CODE_PATTERN))))]
    pub recovery_codes: Option<Vec<String>>,
    /// A setup-only session that is now a full session.
    #[serde(default)]
    pub session_upgraded: bool,
}

impl std::fmt::Debug for EnrollmentResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrollmentResult")
            .field("two_step", &self.two_step)
            .field("recovery_codes", &self.recovery_codes.as_ref().map(|c| c.len()))
            .field("session_upgraded", &self.session_upgraded)
            .finish()
    }
}

/// `POST /v1/me/two-step/recovery-codes`: a new set; the old set stops working.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RecoveryCodes {
    /// Ten single-use codes, `xxxxx-xxxxx`.
    #[cfg_attr(feature = "schema", schemars(length(min = crate::RECOVERY_CODE_COUNT, max = crate::RECOVERY_CODE_COUNT), inner(regex(pattern = crate::schema::RECOVERY_CODE_PATTERN))))]
    pub codes: Vec<String>,
}

impl std::fmt::Debug for RecoveryCodes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RecoveryCodes({} codes)", self.codes.len())
    }
}

/// `PUT /v1/me/two-step/preferred`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PreferredChannel {
    /// The channel to use first.
    pub channel: Channel,
}

/// `POST /v1/me/two-step/verify`: step-up verification result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct VerifyResult {
    /// Always true (failures are errors).
    pub verified: bool,
    /// The channel that verified.
    pub channel: Channel,
}

/// `POST /v1/me/two-step/step-up`: send a step-up code by SMS or email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct StepUpRequest {
    /// `sms` or `email` (authenticator codes are not sent).
    pub channel: Channel,
}

/// `POST /v1/me/password`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// Current password.
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = crate::MAX_PASSWORD_LEN)))]
    pub current_password: String,
    /// New password.
    #[cfg_attr(feature = "schema", schemars(length(max = crate::MAX_PASSWORD_LEN)))]
    pub new_password: String,
    /// A fresh second-step code (required when the user has two-step): an authenticator code,
    /// or the step-up code sent to this session by SMS or email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(length(max = crate::MAX_CODE_INPUT_LEN)))]
    pub code: Option<String>,
}

impl std::fmt::Debug for PasswordChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PasswordChange { <redacted> }")
    }
}

/// A device as listed to its user or an operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DeviceInfo {
    /// Device id.
    #[cfg_attr(feature = "schema", schemars(regex(pattern = crate::schema::DEVICE_ID_PATTERN)))]
    pub id: String,
    /// Name given at registration.
    #[cfg_attr(feature = "schema", schemars(length(max = crate::MAX_DEVICE_NAME_LEN)))]
    pub name: String,
    /// Unix seconds.
    pub registered_at: u64,
    /// Unix seconds of the last session.
    pub last_seen_at: u64,
    /// Revoked devices cannot open sessions.
    pub revoked: bool,
    /// What registered: a mobile device or a desktop agent.
    #[serde(default = "crate::ClientKind::registration_default")]
    pub client: crate::ClientKind,
}

/// A list of devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct DeviceList {
    /// The devices.
    pub devices: Vec<DeviceInfo>,
}

/// One place where the user is signed in (`GET /v1/me/sessions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SessionInfo {
    /// Opaque id for `DELETE /v1/me/sessions/{id}` (not the token, nor its stored hash).
    pub id: String,
    /// Web portal, agent, Outlook add-in or mobile app.
    pub client: crate::ClientKind,
    /// The mobile device it belongs to, if any.
    #[serde(default)]
    pub device_id: Option<String>,
    /// Unix seconds.
    pub created_at: u64,
    /// Unix seconds.
    pub expires_at: u64,
    /// The session making this request.
    pub current: bool,
}

/// The user's live sessions.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct SessionList {
    /// Oldest first.
    pub sessions: Vec<SessionInfo>,
}
