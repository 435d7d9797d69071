//! Operator API: organizations, policy, users, resets and the audit log.

use crate::{ClientKind, DeviceInfo, TwoStepSettings, UserSummary};
use serde::{Deserialize, Serialize};

/// `POST /v1/admin/signin`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct OperatorSignIn {
    /// Operator name.
    pub username: String,
    /// Operator password.
    #[cfg_attr(feature = "schema", schemars(length(min = 1, max = crate::MAX_PASSWORD_LEN)))]
    pub password: String,
}

impl std::fmt::Debug for OperatorSignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperatorSignIn").field("username", &self.username).finish_non_exhaustive()
    }
}

/// `POST /v1/admin/bootstrap`: the first operator, with the one-time setup token the server
/// printed at start.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Bootstrap {
    /// The setup token.
    pub setup_token: String,
    /// The operator's name.
    pub username: String,
    /// The operator's password (8..=256 bytes).
    #[cfg_attr(feature = "schema", schemars(length(max = crate::MAX_PASSWORD_LEN)))]
    pub password: String,
}

impl std::fmt::Debug for Bootstrap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bootstrap").field("username", &self.username).finish_non_exhaustive()
    }
}

/// An operator token.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct OperatorSession {
    /// Bearer token.
    #[cfg_attr(feature = "schema", schemars(regex(pattern = crate::schema::TOKEN_PATTERN)))]
    pub token: String,
    /// Unix seconds.
    pub expires_at: u64,
}

impl std::fmt::Debug for OperatorSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperatorSession")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// An organization's policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct OrgPolicy {
    /// "Require Two-Step Authentication".
    pub require_two_step: bool,
    /// Minimum passcode length (4..=64, default 6).
    #[cfg_attr(feature = "schema", schemars(range(min = crate::MIN_PASSCODE_LENGTH, max = crate::MAX_PASSCODE_LENGTH)))]
    pub passcode_min_length: u8,
    /// Allow letters in passcodes.
    pub passcode_alphanumeric: bool,
    /// Failed passcode attempts before a wipe (1..=100, default 10).
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = crate::MAX_PASSCODE_MAX_ATTEMPTS)))]
    pub passcode_max_attempts: u32,
    /// Background lock timeout in seconds (0..=86400, default 300).
    #[cfg_attr(feature = "schema", schemars(range(max = crate::MAX_LOCK_TIMEOUT_SECS)))]
    pub passcode_lock_timeout_secs: u32,
    /// Whether a passcode wipe also removes the authenticator vault.
    pub wipe_vault_on_max_attempts: bool,
    /// SMS and email codes one user may be sent per UTC day (1..=1,000,000, default 20).
    #[serde(default = "default_per_user")]
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = crate::MAX_MESSAGES_PER_DAY)))]
    pub max_messages_per_user_per_day: u32,
    /// Codes one phone number or email address may receive per UTC day, counted across
    /// every user (1..=1,000,000, default 10).
    #[serde(default = "default_per_destination")]
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = crate::MAX_MESSAGES_PER_DAY)))]
    pub max_messages_per_destination_per_day: u32,
    /// Codes the whole organization may send per UTC day (1..=1,000,000, default 10,000).
    #[serde(default = "default_per_org")]
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = crate::MAX_MESSAGES_PER_DAY)))]
    pub max_messages_per_org_per_day: u32,
}

fn default_per_user() -> u32 {
    crate::DEFAULT_MESSAGES_PER_USER_PER_DAY
}
fn default_per_destination() -> u32 {
    crate::DEFAULT_MESSAGES_PER_DESTINATION_PER_DAY
}
fn default_per_org() -> u32 {
    crate::DEFAULT_MESSAGES_PER_ORG_PER_DAY
}

impl Default for OrgPolicy {
    fn default() -> Self {
        Self {
            require_two_step: false,
            passcode_min_length: crate::DEFAULT_PASSCODE_MIN_LENGTH,
            passcode_alphanumeric: false,
            passcode_max_attempts: crate::DEFAULT_PASSCODE_MAX_ATTEMPTS,
            passcode_lock_timeout_secs: crate::DEFAULT_LOCK_TIMEOUT_SECS,
            wipe_vault_on_max_attempts: false,
            max_messages_per_user_per_day: default_per_user(),
            max_messages_per_destination_per_day: default_per_destination(),
            max_messages_per_org_per_day: default_per_org(),
        }
    }
}

/// `PATCH /v1/admin/orgs/{org}/policy`: only the given fields change.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PolicyUpdate {
    /// See [`OrgPolicy`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub require_two_step: Option<bool>,
    /// See [`OrgPolicy`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(range(min = crate::MIN_PASSCODE_LENGTH, max = crate::MAX_PASSCODE_LENGTH)))]
    pub passcode_min_length: Option<u8>,
    /// See [`OrgPolicy`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passcode_alphanumeric: Option<bool>,
    /// See [`OrgPolicy`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = crate::MAX_PASSCODE_MAX_ATTEMPTS)))]
    pub passcode_max_attempts: Option<u32>,
    /// See [`OrgPolicy`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(range(max = crate::MAX_LOCK_TIMEOUT_SECS)))]
    pub passcode_lock_timeout_secs: Option<u32>,
    /// See [`OrgPolicy`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wipe_vault_on_max_attempts: Option<bool>,
    /// See [`OrgPolicy`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = crate::MAX_MESSAGES_PER_DAY)))]
    pub max_messages_per_user_per_day: Option<u32>,
    /// See [`OrgPolicy`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = crate::MAX_MESSAGES_PER_DAY)))]
    pub max_messages_per_destination_per_day: Option<u32>,
    /// See [`OrgPolicy`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = crate::MAX_MESSAGES_PER_DAY)))]
    pub max_messages_per_org_per_day: Option<u32>,
}

/// `POST /v1/admin/orgs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateOrg {
    /// `[a-z0-9._-]{1,64}`.
    #[cfg_attr(feature = "schema", schemars(regex(pattern = crate::schema::ORG_PATTERN)))]
    pub name: String,
    /// Initial policy changes from the defaults.
    #[serde(default)]
    pub policy: Option<PolicyUpdate>,
}

/// An organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct OrgView {
    /// Name.
    pub name: String,
    /// Policy.
    pub policy: OrgPolicy,
    /// Number of users.
    pub users: u64,
}

/// `POST /v1/admin/orgs/{org}/users`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// Username.
    pub username: String,
    /// Initial password.
    #[cfg_attr(feature = "schema", schemars(length(max = crate::MAX_PASSWORD_LEN)))]
    pub password: String,
}

impl std::fmt::Debug for CreateUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CreateUser").field("username", &self.username).finish_non_exhaustive()
    }
}

/// A user as seen by an operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AdminUserView {
    /// Who.
    pub user: UserSummary,
    /// Two-step settings (masked).
    pub two_step: TwoStepSettings,
    /// Locked after too many failures.
    pub locked: bool,
    /// Consecutive failed sign-in or code attempts.
    pub consecutive_failures: u32,
    /// Registered devices.
    pub devices: Vec<DeviceInfo>,
}

/// An operator's lock state (`GET /v1/admin/operators/{name}`, unlock).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct OperatorStatus {
    /// Operator name.
    pub name: String,
    /// Locked after too many failed sign-ins.
    pub locked: bool,
    /// Consecutive failed sign-ins.
    pub consecutive_failures: u32,
}

/// Result of removing forced enrollments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct RemovedCount {
    /// How many users were changed.
    pub removed: u64,
}

/// What happened, in the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuditKind {
    SignInSucceeded,
    SignInFailed,
    CodeChallengeIssued,
    CodeSent,
    CodeDeliveryFailed,
    CodeAccepted,
    CodeRejected,
    RecoveryCodeUsed,
    RateLimited,
    AccountLocked,
    SetupRequired,
    TwoStepEnrollmentStarted,
    TwoStepEnrolled,
    TwoStepChannelRemoved,
    TwoStepDisabled,
    RecoveryCodesRegenerated,
    PreferredChannelChanged,
    PasswordChanged,
    DeviceRegistered,
    DeviceSession,
    DeviceRevoked,
    SignedOut,
    PolicyChanged,
    OrgCreated,
    UserCreated,
    OperatorCreated,
    OperatorSignIn,
    AdminResetTwoStep,
    AdminUnlock,
    AdminRemovedForcedTwoStep,
    StepUpVerified,
    PasswordChangeFailed,
    SendLimited,
    OperatorSignedOut,
    OperatorSessionsRevoked,
    OperatorUnlocked,
    SessionsEnded,
}

impl AuditKind {
    /// Every kind, in declaration order (for filters and documentation).
    pub const ALL: [AuditKind; 37] = [
        Self::SignInSucceeded,
        Self::SignInFailed,
        Self::CodeChallengeIssued,
        Self::CodeSent,
        Self::CodeDeliveryFailed,
        Self::CodeAccepted,
        Self::CodeRejected,
        Self::RecoveryCodeUsed,
        Self::RateLimited,
        Self::AccountLocked,
        Self::SetupRequired,
        Self::TwoStepEnrollmentStarted,
        Self::TwoStepEnrolled,
        Self::TwoStepChannelRemoved,
        Self::TwoStepDisabled,
        Self::RecoveryCodesRegenerated,
        Self::PreferredChannelChanged,
        Self::PasswordChanged,
        Self::DeviceRegistered,
        Self::DeviceSession,
        Self::DeviceRevoked,
        Self::SignedOut,
        Self::PolicyChanged,
        Self::OrgCreated,
        Self::UserCreated,
        Self::OperatorCreated,
        Self::OperatorSignIn,
        Self::AdminResetTwoStep,
        Self::AdminUnlock,
        Self::AdminRemovedForcedTwoStep,
        Self::StepUpVerified,
        Self::PasswordChangeFailed,
        Self::SendLimited,
        Self::OperatorSignedOut,
        Self::OperatorSessionsRevoked,
        Self::OperatorUnlocked,
        Self::SessionsEnded,
    ];

    /// The wire name (`sign_in_failed`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignInSucceeded => "sign_in_succeeded",
            Self::SignInFailed => "sign_in_failed",
            Self::CodeChallengeIssued => "code_challenge_issued",
            Self::CodeSent => "code_sent",
            Self::CodeDeliveryFailed => "code_delivery_failed",
            Self::CodeAccepted => "code_accepted",
            Self::CodeRejected => "code_rejected",
            Self::RecoveryCodeUsed => "recovery_code_used",
            Self::RateLimited => "rate_limited",
            Self::AccountLocked => "account_locked",
            Self::SetupRequired => "setup_required",
            Self::TwoStepEnrollmentStarted => "two_step_enrollment_started",
            Self::TwoStepEnrolled => "two_step_enrolled",
            Self::TwoStepChannelRemoved => "two_step_channel_removed",
            Self::TwoStepDisabled => "two_step_disabled",
            Self::RecoveryCodesRegenerated => "recovery_codes_regenerated",
            Self::PreferredChannelChanged => "preferred_channel_changed",
            Self::PasswordChanged => "password_changed",
            Self::DeviceRegistered => "device_registered",
            Self::DeviceSession => "device_session",
            Self::DeviceRevoked => "device_revoked",
            Self::SignedOut => "signed_out",
            Self::PolicyChanged => "policy_changed",
            Self::OrgCreated => "org_created",
            Self::UserCreated => "user_created",
            Self::OperatorCreated => "operator_created",
            Self::OperatorSignIn => "operator_sign_in",
            Self::AdminResetTwoStep => "admin_reset_two_step",
            Self::AdminUnlock => "admin_unlock",
            Self::AdminRemovedForcedTwoStep => "admin_removed_forced_two_step",
            Self::StepUpVerified => "step_up_verified",
            Self::PasswordChangeFailed => "password_change_failed",
            Self::SendLimited => "send_limited",
            Self::OperatorSignedOut => "operator_signed_out",
            Self::OperatorSessionsRevoked => "operator_sessions_revoked",
            Self::OperatorUnlocked => "operator_unlocked",
            Self::SessionsEnded => "sessions_ended",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// One audit record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AuditEvent {
    /// Monotonic id.
    pub id: u64,
    /// Unix milliseconds.
    pub at_ms: u64,
    /// What.
    pub kind: AuditKind,
    /// Username concerned, if any.
    #[serde(default)]
    pub user: Option<String>,
    /// Organization concerned, if any.
    #[serde(default)]
    pub org: Option<String>,
    /// Client kind, if any.
    #[serde(default)]
    pub client: Option<ClientKind>,
    /// Remote address, if known.
    #[serde(default)]
    pub address: Option<String>,
    /// Operator who acted, for admin actions.
    #[serde(default)]
    pub operator: Option<String>,
    /// Non-secret detail (channel, device id, reason).
    #[serde(default)]
    pub detail: Option<String>,
}

/// The query of `GET /v1/admin/audit`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Only events with a larger id (the previous page's `next_after`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<u64>,
    /// At most this many events (default 100).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    /// Only events about this user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Only events of this kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<AuditKind>,
    /// Only events at or after this time (Unix milliseconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_ms: Option<u64>,
    /// Only events before this time (Unix milliseconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to_ms: Option<u64>,
}

/// `GET /v1/admin/audit?after=ID&limit=N&user=NAME&kind=KIND&from_ms=T&to_ms=T`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct AuditPage {
    /// Events, oldest first.
    pub events: Vec<AuditEvent>,
    /// Pass as `after` for the next page.
    #[serde(default)]
    pub next_after: Option<u64>,
}

/// `GET /v1/admin/orgs`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct OrgList {
    /// Every organization, by name.
    pub orgs: Vec<OrgView>,
}

/// A user in a list (`GET /v1/admin/users`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct UserListItem {
    /// Who.
    pub user: UserSummary,
    /// Two-step is on (at least one confirmed channel).
    pub two_step_enabled: bool,
    /// Why it is on: `forced` (set up under the org policy) or `chosen`.
    #[serde(default)]
    pub origin: Option<crate::TwoStepOrigin>,
    /// Confirmed channels.
    pub channels: Vec<crate::Channel>,
    /// Locked after too many failures.
    pub locked: bool,
}

/// The query of `GET /v1/admin/users`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct UsersQuery {
    /// Only usernames containing this text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    /// Only users of this organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<String>,
    /// Only usernames after this one (the previous page's `next_after`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    /// At most this many users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
}

/// `GET /v1/admin/users?q=TEXT&org=ORG&after=NAME&limit=N`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct UserList {
    /// Matching users, by username.
    pub users: Vec<UserListItem>,
    /// Pass as `after` for the next page.
    #[serde(default)]
    pub next_after: Option<String>,
}

/// `POST /v1/admin/orgs/{org}/policy/preview`: what a policy change would do, before it is
/// saved (the body is a [`PolicyUpdate`]; nothing changes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct PolicyPreview {
    /// The organization.
    pub org: String,
    /// The policy now.
    pub current: OrgPolicy,
    /// The policy after the change (validated).
    pub proposed: OrgPolicy,
    /// Users in the organization.
    pub users: u64,
    /// Users without two-step: asked to set it up at their next web sign-in while the
    /// policy is on, and refused on the agent, Outlook and mobile until then.
    pub without_two_step: u64,
    /// Users whose two-step was set up under the policy (`forced`).
    pub forced: u64,
    /// Users who set up two-step by their own choice.
    pub chosen: u64,
}
