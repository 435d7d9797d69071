//! The HTTP contract between `twostep-server` and `twostep-core`.
//!
//! One home for every request, response and error code, so that the server and its
//! clients cannot drift apart. Requests reject unknown fields; every type here is plain
//! data without behaviour beyond small helpers (validation limits, status codes).

mod admin;
mod error;
mod limits;
mod me;
#[cfg(feature = "schema")]
mod schema;
mod signin;

pub use admin::*;
pub use error::*;
pub use limits::*;
pub use me::*;
pub use signin::*;

/// Response header carrying the server's clock in Unix milliseconds, from which
/// clients measure their clock offset.
pub const HEADER_SERVER_TIME: &str = "x-twostep-server-time";

/// `GET /healthz`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Health {
    /// Always `ok` (a server that is not well does not answer).
    #[cfg_attr(feature = "schema", schemars(extend("const" = "ok")))]
    pub status: String,
}

/// `GET /readyz`: the store answered (otherwise `503 unavailable`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(deny_unknown_fields)]
pub struct Ready {
    /// Always `ready`.
    #[cfg_attr(feature = "schema", schemars(extend("const" = "ready")))]
    pub status: String,
}

/// Which kind of client signs in; each has its own second-step prompt rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ClientKind {
    /// The web portal: a code at every sign-in when the user has two-step.
    Web,
    /// The desktop sync agent: a code at registration, only if two-step is configured.
    Agent,
    /// The Outlook add-in: a code at registration, every new session and after a password change.
    Outlook,
    /// The mobile apps: a code on first access of a device (device registration).
    Mobile,
}

impl ClientKind {
    /// All kinds, for documentation and tests.
    pub const ALL: [ClientKind; 4] = [Self::Web, Self::Agent, Self::Outlook, Self::Mobile];

    /// The kind of a registration stored before agents could register (serde default).
    pub fn registration_default() -> Self {
        Self::Mobile
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Web => "web",
            Self::Agent => "agent",
            Self::Outlook => "outlook",
            Self::Mobile => "mobile",
        }
    }
}

/// A channel that delivers or produces the second-step code.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// An authenticator app (TOTP, RFC 6238).
    Totp,
    /// A text message with a one-time code.
    Sms,
    /// An email with a one-time code.
    Email,
}

impl Channel {
    /// All channels.
    pub const ALL: [Channel; 3] = [Self::Totp, Self::Sms, Self::Email];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Totp => "totp",
            Self::Sms => "sms",
            Self::Email => "email",
        }
    }

    /// Parses the wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Whether a user's two-step configuration was forced by the org policy or chosen by the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum TwoStepOrigin {
    /// Configured because the organization's "Require Two-Step Authentication" policy demanded it.
    Forced,
    /// Configured by the user on their own.
    Chosen,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_kinds_round_trip_through_json() {
        for kind in ClientKind::ALL {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            let back: ClientKind = serde_json::from_str(&json).unwrap();
            assert_eq!(back, kind);
        }
    }

    #[test]
    fn channel_parse_matches_wire_names() {
        for c in Channel::ALL {
            assert_eq!(Channel::parse(c.as_str()), Some(c));
        }
        assert_eq!(Channel::parse("carrier-pigeon"), None);
    }

    #[test]
    fn audit_kinds_match_wire_names_and_list_every_variant() {
        for kind in AuditKind::ALL {
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{}\"", kind.as_str()));
            assert_eq!(AuditKind::parse(kind.as_str()), Some(kind));
            // A new variant must be added to `ALL` (this match stops compiling otherwise).
            match kind {
                AuditKind::SignInSucceeded
                | AuditKind::SignInFailed
                | AuditKind::CodeChallengeIssued
                | AuditKind::CodeSent
                | AuditKind::CodeDeliveryFailed
                | AuditKind::CodeAccepted
                | AuditKind::CodeRejected
                | AuditKind::RecoveryCodeUsed
                | AuditKind::RateLimited
                | AuditKind::AccountLocked
                | AuditKind::SetupRequired
                | AuditKind::TwoStepEnrollmentStarted
                | AuditKind::TwoStepEnrolled
                | AuditKind::TwoStepChannelRemoved
                | AuditKind::TwoStepDisabled
                | AuditKind::RecoveryCodesRegenerated
                | AuditKind::PreferredChannelChanged
                | AuditKind::PasswordChanged
                | AuditKind::DeviceRegistered
                | AuditKind::DeviceSession
                | AuditKind::DeviceRevoked
                | AuditKind::SignedOut
                | AuditKind::PolicyChanged
                | AuditKind::OrgCreated
                | AuditKind::UserCreated
                | AuditKind::OperatorCreated
                | AuditKind::OperatorSignIn
                | AuditKind::AdminResetTwoStep
                | AuditKind::AdminUnlock
                | AuditKind::AdminRemovedForcedTwoStep
                | AuditKind::StepUpVerified
                | AuditKind::PasswordChangeFailed
                | AuditKind::SendLimited
                | AuditKind::OperatorSignedOut
                | AuditKind::OperatorSessionsRevoked
                | AuditKind::OperatorUnlocked
                | AuditKind::SessionsEnded => {}
            }
        }
        assert_eq!(AuditKind::parse("nope"), None);
    }
}
