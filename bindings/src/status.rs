//! Records of the launch screen and the server's answers: the core's `Status` and what it
//! holds (registration, session, pending sign-in, clock offset), the outcomes of signing out
//! and unregistering, and `me` / `devices`. Field moves only; see `types.rs` for the rules.

use std::time::SystemTime;

use crate::types::Channel;
use crate::types::{
    ClientKind, CodePrompt, PasscodePolicy, PasscodeStatus, SessionInfo, count, time, wire_time,
};

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
    /// The server this instance talks to, if one is known.
    pub server_url: Option<String>,
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
            registered_at: wire_time(device.registered_at),
            last_seen_at: wire_time(device.last_seen_at),
            revoked: device.revoked,
        }
    }
}
