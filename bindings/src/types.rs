//! Records and enums: the core's types as Kotlin data classes / Swift structs.
//!
//! Each type mirrors one core type field by field; the `From` impls are plain field moves.
//! Two representation rules make the generated APIs pleasant on both sides:
//! - **Times are timestamps** and **waits are durations**, not numbers: the core's `UnixTime`
//!   becomes a `SystemTime` (`java.time.Instant` in Kotlin, `Date` in Swift) and its `Duration`s
//!   stay `Duration`s (`java.time.Duration`, `TimeInterval`).
//! - **Integers are signed** (`i32` counts): Kotlin's unsigned types are awkward, and none of these
//!   values comes near the limits. Out-of-range values saturate.

use std::time::{Duration, SystemTime};
use twostep_core::UnixTime;

/// The latest time handed to the platforms: 9999-12-31T23:59:59Z (fits `Instant` and `Date`).
const LATEST: UnixTime = UnixTime::from_secs(253_402_300_799);

/// A count for the FFI (attempts, lengths, versions).
pub(crate) fn count(n: impl TryInto<i32>) -> i32 {
    n.try_into().unwrap_or(i32::MAX)
}

/// A core time as a platform timestamp.
pub(crate) fn time(t: UnixTime) -> SystemTime {
    t.min(LATEST).to_system_time()
}

/// A Unix-seconds time from the protocol as a platform timestamp.
pub(crate) fn wire_time(unix_secs: u64) -> SystemTime {
    time(UnixTime::from_secs(unix_secs))
}

/// How to open a [`crate::Twostep`].
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TwostepConfig {
    /// A directory the app owns (Android: `noBackupFilesDir`; iOS: Application Support).
    pub data_dir: String,
    /// The server's base URL, `https://host[:port][/prefix]`. Absent: the server this data
    /// dir last signed in to, if any (the passcode and the authenticator need none).
    pub server_url: Option<String>,
    /// The name this device registers under ("Pixel 8"), shown to the user and operators.
    #[uniffi(default = "twostep device")]
    pub device_name: String,
    /// Time allowed to connect (default 10 s).
    #[uniffi(default = None)]
    pub connect_timeout: Option<Duration>,
    /// Time allowed for a whole request, connection included (default 30 s).
    #[uniffi(default = None)]
    pub request_timeout: Option<Duration>,
    /// Extra trusted CA certificates (PEM), for servers with a private CA, on top of what
    /// the platform trusts (its CA store, user and MDM-installed CAs, the app's network
    /// security config on Android).
    #[uniffi(default = None)]
    pub extra_ca_cert_pem: Option<Vec<u8>>,
}

impl From<TwostepConfig> for twostep_core::Config {
    fn from(config: TwostepConfig) -> Self {
        let mut core = twostep_core::Config::local(config.data_dir);
        core.server.url = config.server_url;
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

#[uniffi::export]
impl CodePrompt {
    /// How long until a new code may be requested at `now` (zero: now); absent for channels
    /// without resend.
    pub fn resend_in(&self, now: SystemTime) -> Option<Duration> {
        self.resend_after.map(|at| UnixTime::from(now).until(UnixTime::from(at)))
    }

    /// Whether the code (or, for the authenticator, the sign-in) has expired at `now`.
    pub fn is_expired(&self, now: SystemTime) -> bool {
        UnixTime::from(now) >= UnixTime::from(self.expires_at)
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
    /// Time in the background before the app locks (zero: at once).
    pub lock_timeout: Duration,
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
            lock_timeout: Duration::from_secs(u64::from(policy.lock_timeout_secs)),
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

impl From<PasscodeWeakness> for twostep_core::PasscodeWeakness {
    fn from(weakness: PasscodeWeakness) -> Self {
        use PasscodeWeakness as W;
        let number = |n: i32| u8::try_from(n).unwrap_or(u8::MAX);
        match weakness {
            W::TooShort { min_length } => Self::TooShort { min_length: number(min_length) },
            W::TooLong { max_length } => {
                Self::TooLong { max_length: u32::try_from(max_length).unwrap_or(0) }
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    use std::time::UNIX_EPOCH;

    #[test]
    fn times_become_timestamps_and_stay_in_range() {
        assert_eq!(time(UnixTime::EPOCH), UNIX_EPOCH);
        assert_eq!(wire_time(1_700_000_000), UNIX_EPOCH + Duration::from_secs(1_700_000_000));
        assert_eq!(wire_time(u64::MAX), time(LATEST));
    }

    #[test]
    fn numbers_saturate() {
        assert_eq!(count(7u8), 7);
        assert_eq!(count(u32::MAX), i32::MAX);
    }

    #[test]
    fn a_prompt_says_how_long_until_a_resend_and_when_it_expires() {
        let prompt = CodePrompt {
            channel: Channel::Sms,
            masked_destination: None,
            code_length: 6,
            resend_after: Some(wire_time(1_030)),
            attempts_left: 5,
            other_channels: vec![],
            recovery_available: false,
            expires_at: wire_time(1_300),
        };
        assert_eq!(prompt.resend_in(wire_time(1_000)), Some(Duration::from_secs(30)));
        assert_eq!(prompt.resend_in(wire_time(2_000)), Some(Duration::ZERO));
        assert!(!prompt.is_expired(wire_time(1_299)) && prompt.is_expired(wire_time(1_300)));
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
            server_url: Some("https://example.com".into()),
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
            expires_at: UnixTime::from_secs(5_000),
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
            (policy.min_length, policy.max_failed_attempts, policy.lock_timeout, policy.wipe_vault),
            (6, 10, Duration::from_secs(300), true)
        );
        assert_eq!(session.expires_at, wire_time(5_000));
        assert_eq!(session.device_id.as_deref(), Some("d1"));
    }
}
