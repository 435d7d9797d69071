//! Records and enums: the core's types as Kotlin data classes / Swift structs.
//!
//! Each type mirrors one core type field by field; the `From` impls are plain field moves.
//! Two representation rules make the generated APIs pleasant on both sides:
//! - **Times are timestamps**, not Unix seconds: `java.time.Instant` in Kotlin, `Date` in Swift
//!   (the core's `u64` seconds become a `SystemTime`).
//! - **Integers are signed** (`i32` counts, `i64` seconds): Kotlin's unsigned types are awkward,
//!   and none of these values comes near the limits. Out-of-range values saturate.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The latest time handed to the platforms: 9999-12-31T23:59:59Z (fits `Instant` and `Date`).
const MAX_UNIX_SECS: u64 = 253_402_300_799;

/// A count for the FFI (attempts, lengths, versions).
pub(crate) fn count(n: impl TryInto<i32>) -> i32 {
    n.try_into().unwrap_or(i32::MAX)
}

/// A number of seconds for the FFI.
pub(crate) fn secs(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A core timestamp (Unix seconds) as a platform timestamp.
pub(crate) fn time(unix_secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(unix_secs.min(MAX_UNIX_SECS))
}

/// A platform timestamp as Unix milliseconds (times before 1970 count as 1970).
pub(crate) fn unix_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// How to open a [`crate::Twostep`].
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TwostepConfig {
    /// A directory the app owns (Android: `noBackupFilesDir`; iOS: Application Support).
    pub data_dir: String,
    /// The server's base URL, `https://host[:port][/prefix]`.
    pub server_url: String,
    /// The name this device registers under ("Pixel 8"), shown to the user and operators.
    #[uniffi(default = "twostep device")]
    pub device_name: String,
    /// Time allowed to connect (default 10 s).
    #[uniffi(default = None)]
    pub connect_timeout: Option<Duration>,
    /// Time allowed for a whole request, connection included (default 30 s).
    #[uniffi(default = None)]
    pub request_timeout: Option<Duration>,
    /// An extra trusted CA certificate (PEM), for servers with a private CA.
    #[uniffi(default = None)]
    pub extra_ca_cert_pem: Option<Vec<u8>>,
}

impl From<TwostepConfig> for twostep_core::Config {
    fn from(config: TwostepConfig) -> Self {
        let mut core = twostep_core::Config::new(config.data_dir, config.server_url);
        core.device_name = config.device_name;
        if let Some(timeout) = config.connect_timeout {
            core.server.connect_timeout = timeout;
        }
        if let Some(timeout) = config.request_timeout {
            core.server.request_timeout = timeout;
        }
        core.server.extra_ca_cert_pem = config.extra_ca_cert_pem;
        core
    }
}

/// Which client is signing in; the rules for the second step differ per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum ClientKind {
    /// The web portal: a code at every sign-in when the user has two-step.
    Web,
    /// The desktop sync agent: a code at registration, only if two-step is configured.
    Agent,
    /// The Outlook add-in: a code at registration, every new session, after a password change.
    Outlook,
    /// The mobile apps: a code at first access (device registration).
    Mobile,
}

impl From<ClientKind> for twostep_core::ClientKind {
    fn from(kind: ClientKind) -> Self {
        match kind {
            ClientKind::Web => Self::Web,
            ClientKind::Agent => Self::Agent,
            ClientKind::Outlook => Self::Outlook,
            ClientKind::Mobile => Self::Mobile,
        }
    }
}

impl From<twostep_core::ClientKind> for ClientKind {
    fn from(kind: twostep_core::ClientKind) -> Self {
        match kind {
            twostep_core::ClientKind::Web => Self::Web,
            twostep_core::ClientKind::Agent => Self::Agent,
            twostep_core::ClientKind::Outlook => Self::Outlook,
            twostep_core::ClientKind::Mobile => Self::Mobile,
        }
    }
}

/// Where a second-step code comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum Channel {
    /// An authenticator app (TOTP).
    Totp,
    /// A text message.
    Sms,
    /// An email.
    Email,
}

impl From<Channel> for twostep_core::Channel {
    fn from(channel: Channel) -> Self {
        match channel {
            Channel::Totp => Self::Totp,
            Channel::Sms => Self::Sms,
            Channel::Email => Self::Email,
        }
    }
}

impl From<twostep_core::Channel> for Channel {
    fn from(channel: twostep_core::Channel) -> Self {
        match channel {
            twostep_core::Channel::Totp => Self::Totp,
            twostep_core::Channel::Sms => Self::Sms,
            twostep_core::Channel::Email => Self::Email,
        }
    }
}

/// Another channel the user can switch to.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ChannelChoice {
    /// The channel.
    pub channel: Channel,
    /// Masked phone number or email address (SMS, email).
    pub masked_destination: Option<String>,
}

impl From<twostep_core::ChannelChoice> for ChannelChoice {
    fn from(choice: twostep_core::ChannelChoice) -> Self {
        Self { channel: choice.channel.into(), masked_destination: choice.masked_destination }
    }
}

/// Everything a code screen shows. Times are local, corrected for the server's clock.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CodePrompt {
    /// Where the code comes from.
    pub channel: Channel,
    /// Masked phone number or email address for SMS and email (`a•••@example.com`).
    pub masked_destination: Option<String>,
    /// Digits in the code.
    pub code_length: i32,
    /// When a new code may be requested (SMS and email only).
    pub resend_after: Option<SystemTime>,
    /// Tries left for the current code.
    pub attempts_left: i32,
    /// The other configured channels the user can switch to.
    pub other_channels: Vec<ChannelChoice>,
    /// Whether the user may use a recovery code instead.
    pub recovery_available: bool,
    /// When the current code (SMS, email) or the sign-in (authenticator) expires.
    pub expires_at: SystemTime,
}

impl From<twostep_core::CodePrompt> for CodePrompt {
    fn from(prompt: twostep_core::CodePrompt) -> Self {
        Self {
            channel: prompt.channel.into(),
            masked_destination: prompt.masked_destination,
            code_length: count(prompt.code_length),
            resend_after: prompt.resend_after.map(time),
            attempts_left: count(prompt.attempts_left),
            other_channels: prompt.other_channels.into_iter().map(Into::into).collect(),
            recovery_available: prompt.recovery_available,
            expires_at: time(prompt.expires_at),
        }
    }
}

/// Whether the passcode (PIN) after first access must be set or may be skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum PasscodeRequirement {
    /// Two-step comes from the org policy: a passcode must be set.
    Required,
    /// Two-step is the user's own choice: the user may skip the passcode.
    Optional,
}

impl From<twostep_core::PasscodeRequirement> for PasscodeRequirement {
    fn from(requirement: twostep_core::PasscodeRequirement) -> Self {
        match requirement {
            twostep_core::PasscodeRequirement::Required => Self::Required,
            twostep_core::PasscodeRequirement::Optional => Self::Optional,
        }
    }
}

/// The rules a device's passcode must follow, from the organization.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PasscodePolicy {
    /// Required or optional.
    pub requirement: PasscodeRequirement,
    /// Minimum length (never under 4).
    pub min_length: i32,
    /// Letters allowed (otherwise digits only).
    pub alphanumeric: bool,
    /// Failed attempts before local data is wiped (enforced when required).
    pub max_failed_attempts: i32,
    /// Seconds in the background before the app locks.
    pub lock_timeout_secs: i64,
    /// Whether a wipe also removes the authenticator accounts.
    pub wipe_vault: bool,
}

impl From<twostep_core::PasscodePolicy> for PasscodePolicy {
    fn from(policy: twostep_core::PasscodePolicy) -> Self {
        Self {
            requirement: policy.requirement.into(),
            min_length: count(policy.min_length),
            alphanumeric: policy.alphanumeric,
            max_failed_attempts: count(policy.max_failed_attempts),
            lock_timeout_secs: i64::from(policy.lock_timeout_secs),
            wipe_vault: policy.wipe_vault,
        }
    }
}

/// What a session may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum SessionScope {
    /// Everything the user may do.
    Full,
    /// Only configure two-step (the org requires it and the user has none yet).
    SetupOnly,
}

impl From<twostep_core::SessionScope> for SessionScope {
    fn from(scope: twostep_core::SessionScope) -> Self {
        match scope {
            twostep_core::SessionScope::Full => Self::Full,
            twostep_core::SessionScope::SetupOnly => Self::SetupOnly,
        }
    }
}

/// A session with the server.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SessionInfo {
    /// Normalized username.
    pub username: String,
    /// Stable user id.
    pub user_id: String,
    /// Organization.
    pub org: String,
    /// The client kind that signed in.
    pub client: ClientKind,
    /// Full, or only enough to configure two-step.
    pub scope: SessionScope,
    /// When the session ends (local time).
    pub expires_at: SystemTime,
    /// The registered device, for mobile sessions.
    pub device_id: Option<String>,
}

impl From<twostep_core::SessionInfo> for SessionInfo {
    fn from(session: twostep_core::SessionInfo) -> Self {
        Self {
            username: session.username,
            user_id: session.user_id,
            org: session.org,
            client: session.client.into(),
            scope: session.scope.into(),
            expires_at: time(session.expires_at),
            device_id: session.device_id,
        }
    }
}

/// What the app shows next in a sign-in.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum SignInStep {
    /// Ask for a second-step code.
    CodeRequired {
        /// The code screen.
        prompt: CodePrompt,
    },
    /// The organization requires two-step and the user has not configured it. Web
    /// sign-ins get a session that can only configure two-step; other clients get none.
    SetupRequired {
        /// What the user must do, from the server.
        detail: String,
        /// The setup-only session (web), if any.
        session: Option<SessionInfo>,
    },
    /// Mobile: signed in and the device is registered; ask the user for a passcode
    /// (required under the org policy, optional otherwise).
    PasscodeSetup {
        /// Required (org policy) or optional (the user's own two-step).
        requirement: PasscodeRequirement,
        /// The rules the passcode must follow.
        policy: PasscodePolicy,
        /// The new session.
        session: SessionInfo,
    },
    /// Signed in.
    SignedIn {
        /// The new session.
        session: SessionInfo,
    },
}

impl From<twostep_core::SignInStep> for SignInStep {
    fn from(step: twostep_core::SignInStep) -> Self {
        use twostep_core::SignInStep as S;
        match step {
            S::CodeRequired(prompt) => Self::CodeRequired { prompt: prompt.into() },
            S::SetupRequired { message, session } => {
                Self::SetupRequired { detail: message, session: session.map(Into::into) }
            }
            S::PasscodeSetup { requirement, policy, session } => Self::PasscodeSetup {
                requirement: requirement.into(),
                policy: policy.into(),
                session: session.into(),
            },
            S::SignedIn(session) => Self::SignedIn { session: session.into() },
        }
    }
}

/// Where the user stands on this device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum Access {
    /// Nothing registered and no session: sign in with password and code.
    FirstAccess,
    /// The device is registered but has no live session: `openSession()` (no code needed).
    Registered,
    /// A live session exists.
    SignedIn,
    /// A passcode protects the account data and it has not been entered: `unlock(pin)`.
    Locked,
}

impl From<twostep_core::Access> for Access {
    fn from(access: twostep_core::Access) -> Self {
        match access {
            twostep_core::Access::FirstAccess => Self::FirstAccess,
            twostep_core::Access::Registered => Self::Registered,
            twostep_core::Access::SignedIn => Self::SignedIn,
            twostep_core::Access::Locked => Self::Locked,
        }
    }
}

/// Why a new passcode (PIN) was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum PasscodeWeakness {
    /// Fewer characters than the policy's minimum.
    TooShort {
        /// The minimum.
        min_length: i32,
    },
    /// Longer than the maximum.
    TooLong {
        /// The maximum.
        max_length: i32,
    },
    /// The policy allows digits only.
    DigitsOnly,
    /// A character that is not printable ASCII (spaces included).
    InvalidCharacter,
    /// One character repeated (`1111`).
    RepeatedCharacter,
    /// A straight sequence up or down (`1234`, `4321`).
    Sequence,
    /// A short block repeated (`1212`).
    RepeatedPattern,
    /// One of the most common PINs or passwords.
    Common,
    /// The new passcode is the current one.
    Unchanged,
}

impl From<twostep_core::PasscodeWeakness> for PasscodeWeakness {
    fn from(weakness: twostep_core::PasscodeWeakness) -> Self {
        use twostep_core::PasscodeWeakness as W;
        match weakness {
            W::TooShort { min_length } => Self::TooShort { min_length: i32::from(min_length) },
            W::TooLong { max_length } => Self::TooLong { max_length: count(max_length) },
            W::DigitsOnly => Self::DigitsOnly,
            W::InvalidCharacter => Self::InvalidCharacter,
            W::RepeatedCharacter => Self::RepeatedCharacter,
            W::Sequence => Self::Sequence,
            W::RepeatedPattern => Self::RepeatedPattern,
            W::Common => Self::Common,
            W::Unchanged => Self::Unchanged,
        }
    }
}

/// Where the passcode stands (launch screen, lock screen).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum PasscodeStatus {
    /// No passcode (if the policy requires one, the app stays locked until one is set).
    NotSet,
    /// A passcode is set and the account data is closed: ask for it.
    Locked,
    /// A passcode is set and was entered.
    Unlocked,
    /// Too many wrong passcodes: no attempt is accepted before `until`.
    LockedOut {
        /// When the next attempt is allowed (local time).
        until: SystemTime,
    },
    /// Too many wrong passcodes under the org policy: the local data was wiped.
    Wiped,
}

impl From<twostep_core::PasscodeStatus> for PasscodeStatus {
    fn from(status: twostep_core::PasscodeStatus) -> Self {
        use twostep_core::PasscodeStatus as P;
        match status {
            P::NotSet => Self::NotSet,
            P::Locked => Self::Locked,
            P::Unlocked => Self::Unlocked,
            P::LockedOut { until } => Self::LockedOut { until: time(until) },
            P::Wiped => Self::Wiped,
        }
    }
}

/// This device's registration.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Registration {
    /// Server-assigned id.
    pub device_id: String,
    /// The name it was registered under.
    pub device_name: String,
    /// Who registered it.
    pub username: String,
    /// The user's stable id.
    pub user_id: String,
    /// The user's organization.
    pub org: String,
    /// The server it was registered with.
    pub server_url: String,
    /// When (local time).
    pub registered_at: SystemTime,
    /// The passcode policy the server last sent.
    pub passcode_policy: Option<PasscodePolicy>,
}

impl From<twostep_core::Registration> for Registration {
    fn from(registration: twostep_core::Registration) -> Self {
        Self {
            device_id: registration.device_id,
            device_name: registration.device_name,
            username: registration.username,
            user_id: registration.user_id,
            org: registration.org,
            server_url: registration.server_url,
            registered_at: time(registration.registered_at),
            passcode_policy: registration.passcode_policy.map(Into::into),
        }
    }
}

/// A sign-in waiting for its second step (it survives an app restart).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PendingSignIn {
    /// Who is signing in.
    pub username: String,
    /// As which client.
    pub client: ClientKind,
    /// The code screen to show.
    pub prompt: CodePrompt,
    /// When it started (local time).
    pub started_at: SystemTime,
}

impl From<twostep_core::PendingSignIn> for PendingSignIn {
    fn from(pending: twostep_core::PendingSignIn) -> Self {
        Self {
            username: pending.username,
            client: pending.client.into(),
            prompt: pending.prompt.into(),
            started_at: time(pending.started_at),
        }
    }
}

/// The server's clock relative to this device's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct ClockOffset {
    /// Server time minus local time, in milliseconds.
    pub offset_ms: i64,
    /// When it was measured (local time).
    pub measured_at: SystemTime,
}

impl From<twostep_core::ClockOffset> for ClockOffset {
    fn from(offset: twostep_core::ClockOffset) -> Self {
        Self { offset_ms: offset.offset_ms, measured_at: time(offset.measured_at) }
    }
}

/// Everything the app needs at launch, from local state in one call.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Status {
    /// Where the user stands.
    pub access: Access,
    /// The server this instance talks to.
    pub server_url: String,
    /// This device's registration (mobile).
    pub registration: Option<Registration>,
    /// The live session, if any (an expired one is not reported).
    pub session: Option<SessionInfo>,
    /// A sign-in waiting for a code, if any: resume at its code screen.
    pub pending_sign_in: Option<PendingSignIn>,
    /// The server's clock offset, when measured.
    pub clock_offset: Option<ClockOffset>,
    /// Where the passcode stands.
    pub passcode: PasscodeStatus,
}

impl From<twostep_core::Status> for Status {
    fn from(status: twostep_core::Status) -> Self {
        Self {
            access: status.access.into(),
            server_url: status.server_url,
            registration: status.registration.map(Into::into),
            session: status.session.map(Into::into),
            pending_sign_in: status.pending_sign_in.map(Into::into),
            clock_offset: status.clock_offset.map(Into::into),
            passcode: status.passcode.into(),
        }
    }
}

/// The outcome of signing out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct SignOut {
    /// There was a session to end.
    pub was_signed_in: bool,
    /// The server confirmed the session is over (false when offline: the local session is
    /// gone anyway).
    pub server_confirmed: bool,
}

impl From<twostep_core::SignOut> for SignOut {
    fn from(out: twostep_core::SignOut) -> Self {
        Self { was_signed_in: out.was_signed_in, server_confirmed: out.server_confirmed }
    }
}

/// The outcome of unregistering this device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct Unregistered {
    /// The server had already revoked the device.
    pub already_revoked: bool,
}

impl From<twostep_core::Unregistered> for Unregistered {
    fn from(out: twostep_core::Unregistered) -> Self {
        Self { already_revoked: out.already_revoked }
    }
}

/// A user as the server knows them.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct User {
    /// Stable id.
    pub id: String,
    /// Normalized username.
    pub username: String,
    /// Organization name.
    pub org: String,
}

impl From<twostep_core::UserSummary> for User {
    fn from(user: twostep_core::UserSummary) -> Self {
        Self { id: user.id, username: user.username, org: user.org }
    }
}

/// Why a user has two-step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum TwoStepOrigin {
    /// The organization's policy demanded it.
    Forced,
    /// The user turned it on.
    Chosen,
}

impl From<twostep_core::TwoStepOrigin> for TwoStepOrigin {
    fn from(origin: twostep_core::TwoStepOrigin) -> Self {
        match origin {
            twostep_core::TwoStepOrigin::Forced => Self::Forced,
            twostep_core::TwoStepOrigin::Chosen => Self::Chosen,
        }
    }
}

/// One of the user's channels.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ChannelStatus {
    /// Which.
    pub channel: Channel,
    /// Masked phone or email.
    pub masked_destination: Option<String>,
    /// Confirmed with a correct code (pending otherwise).
    pub confirmed: bool,
}

impl From<twostep_core::ChannelStatus> for ChannelStatus {
    fn from(status: twostep_core::ChannelStatus) -> Self {
        Self {
            channel: status.channel.into(),
            masked_destination: status.masked_destination,
            confirmed: status.confirmed,
        }
    }
}

/// The user's two-step configuration (destinations masked).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TwoStepSettings {
    /// At least one channel is confirmed.
    pub enabled: bool,
    /// Forced by the org policy or chosen; absent while not enabled.
    pub origin: Option<TwoStepOrigin>,
    /// The channel used first at sign-in.
    pub preferred: Option<Channel>,
    /// Configured and pending channels.
    pub channels: Vec<ChannelStatus>,
    /// Unused recovery codes.
    pub recovery_codes_left: i32,
    /// The organization currently requires two-step.
    pub required_by_org: bool,
}

impl From<twostep_core::TwoStepSettings> for TwoStepSettings {
    fn from(settings: twostep_core::TwoStepSettings) -> Self {
        Self {
            enabled: settings.enabled,
            origin: settings.origin.map(Into::into),
            preferred: settings.preferred.map(Into::into),
            channels: settings.channels.into_iter().map(Into::into).collect(),
            recovery_codes_left: count(settings.recovery_codes_left),
            required_by_org: settings.required_by_org,
        }
    }
}

/// The signed-in user and their two-step settings.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Me {
    /// Who.
    pub user: User,
    /// Their two-step settings.
    pub two_step: TwoStepSettings,
}

impl From<twostep_core::MeResponse> for Me {
    fn from(me: twostep_core::MeResponse) -> Self {
        Self { user: me.user.into(), two_step: me.two_step.into() }
    }
}

/// One of the user's registered devices.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Device {
    /// Device id.
    pub id: String,
    /// Name given at registration.
    pub name: String,
    /// When it was registered (server time).
    pub registered_at: SystemTime,
    /// Its last session (server time).
    pub last_seen_at: SystemTime,
    /// Revoked devices cannot open sessions.
    pub revoked: bool,
}

impl From<twostep_core::DeviceInfo> for Device {
    fn from(device: twostep_core::DeviceInfo) -> Self {
        Self {
            id: device.id,
            name: device.name,
            registered_at: time(device.registered_at),
            last_seen_at: time(device.last_seen_at),
            revoked: device.revoked,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_become_timestamps_and_back() {
        assert_eq!(time(0), UNIX_EPOCH);
        assert_eq!(unix_ms(time(1_700_000_000)), 1_700_000_000_000);
        assert_eq!(time(u64::MAX), time(MAX_UNIX_SECS));
        assert_eq!(unix_ms(UNIX_EPOCH - Duration::from_secs(5)), 0);
    }

    #[test]
    fn numbers_saturate() {
        assert_eq!(count(7u8), 7);
        assert_eq!(count(u32::MAX), i32::MAX);
        assert_eq!(secs(u64::MAX), i64::MAX);
    }

    #[test]
    fn enums_round_trip_through_the_core() {
        for kind in [ClientKind::Web, ClientKind::Agent, ClientKind::Outlook, ClientKind::Mobile] {
            assert_eq!(ClientKind::from(twostep_core::ClientKind::from(kind)), kind);
        }
        for channel in [Channel::Totp, Channel::Sms, Channel::Email] {
            assert_eq!(Channel::from(twostep_core::Channel::from(channel)), channel);
        }
    }

    #[test]
    fn a_config_keeps_core_defaults_unless_given() {
        let ffi = TwostepConfig {
            data_dir: "/data".into(),
            server_url: "https://example.com".into(),
            device_name: "Pixel".into(),
            connect_timeout: None,
            request_timeout: Some(Duration::from_millis(1_500)),
            extra_ca_cert_pem: None,
        };
        let core = twostep_core::Config::from(ffi);
        let defaults = twostep_core::ServerConfig::new("https://example.com");
        assert_eq!(core.data_dir, std::path::PathBuf::from("/data"));
        assert_eq!(core.device_name, "Pixel");
        assert_eq!(core.server.connect_timeout, defaults.connect_timeout);
        assert_eq!(core.server.request_timeout, Duration::from_millis(1_500));
    }

    #[test]
    fn a_passcode_step_carries_requirement_policy_and_session() {
        let policy = twostep_core::PasscodePolicy {
            requirement: twostep_core::PasscodeRequirement::Required,
            min_length: 6,
            alphanumeric: false,
            max_failed_attempts: 10,
            lock_timeout_secs: 300,
            wipe_vault: true,
        };
        let session = twostep_core::SessionInfo {
            username: "alice".into(),
            user_id: "u1".into(),
            org: "acme".into(),
            client: twostep_core::ClientKind::Mobile,
            scope: twostep_core::SessionScope::Full,
            expires_at: 5_000,
            device_id: Some("d1".into()),
        };
        let step = twostep_core::SignInStep::PasscodeSetup {
            requirement: twostep_core::PasscodeRequirement::Required,
            policy,
            session,
        };
        let SignInStep::PasscodeSetup { requirement, policy, session } = SignInStep::from(step)
        else {
            panic!("not a passcode step");
        };
        assert_eq!(requirement, PasscodeRequirement::Required);
        assert_eq!(
            (
                policy.min_length,
                policy.max_failed_attempts,
                policy.lock_timeout_secs,
                policy.wipe_vault
            ),
            (6, 10, 300, true)
        );
        assert_eq!(session.expires_at, time(5_000));
        assert_eq!(session.device_id.as_deref(), Some("d1"));
    }
}
