//! Stored records. Secrets inside them are sealed (TOTP) or MACed (codes); none has a
//! `Debug` that prints them.

use serde::{Deserialize, Serialize};
use twostep_proto::{
    Channel, ClientKind, DeviceRegistration, OrgPolicy, SessionScope, TwoStepOrigin,
};

/// An organization.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OrgRecord {
    pub name: String,
    pub policy: OrgPolicy,
    pub created_at: u64,
}

/// A user.
#[derive(Clone, Serialize, Deserialize)]
pub struct UserRecord {
    pub id: String,
    pub username: String,
    pub org: String,
    pub password_hash: String,
    pub created_at: u64,
    /// Bumped to revoke every session and device (password change, admin reset).
    pub epoch: u64,
    /// Bumped when two-step is first confirmed: ends every session opened with the password
    /// alone (including setup-only ones).
    #[serde(default)]
    pub second_step_epoch: u64,
    /// The session (its key) whose confirmation of the first channel moved
    /// `second_step_epoch`: it is upgraded in a second write, which a crash may cut off (see
    /// `service::sessions`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second_step_confirmed_by: Option<String>,
    pub two_step: TwoStepRecord,
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("org", &self.org)
            .finish_non_exhaustive()
    }
}

/// A user's second-step configuration.
#[derive(Clone, Default, Serialize, Deserialize)]
pub struct TwoStepRecord {
    pub origin: Option<TwoStepOrigin>,
    pub preferred: Option<Channel>,
    pub totp: Option<TotpRecord>,
    pub sms: Option<SentChannelRecord>,
    pub email: Option<SentChannelRecord>,
    /// MACs of unused recovery codes.
    pub recovery: Vec<String>,
}

impl TwoStepRecord {
    /// Confirmed channels in display order.
    pub fn confirmed_channels(&self) -> Vec<Channel> {
        let mut v = Vec::new();
        if self.totp.as_ref().is_some_and(|t| t.confirmed) {
            v.push(Channel::Totp);
        }
        if self.sms.as_ref().is_some_and(|s| s.confirmed) {
            v.push(Channel::Sms);
        }
        if self.email.as_ref().is_some_and(|s| s.confirmed) {
            v.push(Channel::Email);
        }
        v
    }

    /// At least one confirmed channel.
    pub fn enabled(&self) -> bool {
        !self.confirmed_channels().is_empty()
    }

    /// The channel to prompt first.
    pub fn primary(&self) -> Option<Channel> {
        let confirmed = self.confirmed_channels();
        match self.preferred {
            Some(p) if confirmed.contains(&p) => Some(p),
            _ => confirmed.first().copied(),
        }
    }

    /// The SMS or email record.
    pub fn sent(&self, c: Channel) -> Option<&SentChannelRecord> {
        match c {
            Channel::Sms => self.sms.as_ref(),
            Channel::Email => self.email.as_ref(),
            Channel::Totp => None,
        }
    }

    /// Mutable SMS or email record.
    pub fn sent_mut(&mut self, c: Channel) -> Option<&mut SentChannelRecord> {
        match c {
            Channel::Sms => self.sms.as_mut(),
            Channel::Email => self.email.as_mut(),
            Channel::Totp => None,
        }
    }
}

/// The TOTP channel.
#[derive(Clone, Serialize, Deserialize)]
pub struct TotpRecord {
    /// AES-GCM sealed 20-byte secret, hex.
    pub sealed_secret: String,
    pub confirmed: bool,
    /// The last accepted time step; only later steps are accepted (replay protection).
    pub last_step: Option<u64>,
    pub created_at: u64,
}

/// The SMS or email channel.
#[derive(Clone, Serialize, Deserialize)]
pub struct SentChannelRecord {
    /// The confirmed destination (empty until the first confirmation).
    pub destination: String,
    pub confirmed: bool,
    /// A new destination waiting for its confirmation code.
    pub pending_destination: Option<String>,
    /// The confirmation code while enrolling.
    pub pending: Option<PendingCode>,
}

/// A code sent by SMS or email, stored as a MAC.
#[derive(Clone, Serialize, Deserialize)]
pub struct PendingCode {
    pub mac: String,
    /// Random per code, part of the MAC purpose.
    pub nonce: String,
    pub sent_at: u64,
    pub expires_at: u64,
    pub tries_left: u32,
}

/// A second step in progress.
#[derive(Clone, Serialize, Deserialize)]
pub struct ChallengeRecord {
    pub id: String,
    pub username: String,
    pub user_id: String,
    pub epoch: u64,
    pub client: ClientKind,
    pub device: Option<DeviceRegistration>,
    pub channel: Channel,
    /// For SMS/email.
    pub code: Option<PendingCode>,
    /// For TOTP.
    pub tries_left: u32,
    /// Codes sent so far (SMS/email).
    #[serde(default)]
    pub sends: u32,
    pub created_at: u64,
    pub expires_at: u64,
}

/// A user session (the token itself is never stored).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionRecord {
    pub username: String,
    pub user_id: String,
    pub epoch: u64,
    pub scope: SessionScope,
    pub client: ClientKind,
    /// The registration (device or agent) this session is a child of.
    pub device_id: Option<String>,
    pub created_at: u64,
    pub expires_at: u64,
    /// Opened with the password alone (no second step, no registration).
    #[serde(default)]
    pub password_only: bool,
    /// The user's `second_step_epoch` when this session was opened.
    #[serde(default)]
    pub second_step_epoch: u64,
    /// A step-up code sent to this session's user by SMS or email.
    #[serde(default)]
    pub step_up: Option<StepUpCode>,
}

/// A step-up code sent by SMS or email for one session.
#[derive(Clone, Serialize, Deserialize)]
pub struct StepUpCode {
    pub channel: Channel,
    pub code: PendingCode,
}

/// A registered device.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeviceRecord {
    pub id: String,
    pub username: String,
    pub user_id: String,
    pub name: String,
    /// Ed25519 public key, base64url.
    pub public_key: String,
    pub epoch: u64,
    pub registered_at: u64,
    pub last_seen_at: u64,
    pub revoked: bool,
    /// A mobile device or a desktop agent.
    #[serde(default = "ClientKind::registration_default")]
    pub client: ClientKind,
    /// Registered with the password alone (the user had no two-step then): revoked when the
    /// user's first channel is confirmed, like password-only sessions.
    #[serde(default)]
    pub password_only: bool,
    /// The user's `second_step_epoch` at registration.
    #[serde(default)]
    pub second_step_epoch: u64,
}

/// A device sign-in nonce.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NonceRecord {
    pub device_id: String,
    pub username: String,
    pub expires_at: u64,
}

/// A registration nonce (device or agent), single use.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RegistrationNonceRecord {
    pub expires_at: u64,
}

/// An operator.
#[derive(Clone, Serialize, Deserialize)]
pub struct OperatorRecord {
    pub name: String,
    pub password_hash: String,
    pub created_at: u64,
    /// Bumped to revoke every token of this operator.
    #[serde(default)]
    pub epoch: u64,
}

impl std::fmt::Debug for OperatorRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OperatorRecord").field("name", &self.name).finish_non_exhaustive()
    }
}

/// An operator session.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OperatorSessionRecord {
    pub operator: String,
    pub expires_at: u64,
    /// The operator's epoch when the token was issued.
    #[serde(default)]
    pub epoch: u64,
}

/// The one-time setup token (its MAC), valid until used or an operator exists.
#[derive(Clone, Serialize, Deserialize)]
pub struct SetupTokenRecord {
    pub mac: String,
    pub created_at: u64,
}

/// A per-destination resend cooldown.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CooldownRecord {
    pub until: u64,
    pub expires_at: u64,
}

/// Per-account failure state (kept for unknown usernames too, so they look the same).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ThrottleRecord {
    pub failures: u32,
    pub blocked_until: u64,
    pub locked: bool,
    /// When the record may be forgotten (`None`: kept, e.g. while locked).
    #[serde(default)]
    pub expires_at: Option<u64>,
}

/// Device ids are `user_id.random`, so a user's devices share a key prefix.
pub fn device_prefix(user_id: &str) -> Vec<u8> {
    format!("{user_id}.").into_bytes()
}

/// Debug output that names a record but shows none of its secret-bearing fields.
macro_rules! opaque_debug {
    ($($t:ident),*) => {$(
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($t)).finish_non_exhaustive()
            }
        }
    )*};
}
opaque_debug!(
    TwoStepRecord,
    TotpRecord,
    SentChannelRecord,
    PendingCode,
    ChallengeRecord,
    StepUpCode,
    SetupTokenRecord
);
