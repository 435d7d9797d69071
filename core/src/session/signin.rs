//! The sign-in state machine: what the server's answer means and what the app shows next.
//!
//! ```text
//!             sign_in(username, password)
//!                        |
//!        +---------------+-------------------+
//!        v               v                   v
//!  CodeRequired    SetupRequired      SignedIn / PasscodeSetup
//!   |  ^  |   \
//!   |  |  |    submit_code / use_recovery_code --> SignedIn / PasscodeSetup
//!   |  |  resend_code, switch_channel (new CodePrompt)
//!   |  wrong code: InvalidCode{attempts_left}, still CodeRequired
//!   cancel_sign_in, or ChallengeExpired: back to the start
//! ```
//!
//! This module is pure: it turns server answers into steps and checks inputs. The
//! [`crate::Session`] does the I/O, persists the pending sign-in (so the app may be killed
//! while the user reads an SMS), and stores the session and registration (`flow.rs`).

use twostep_proto::{
    Channel, ChannelChoice, ClientKind, CodeChallenge, PasscodePolicy, PasscodeRequirement,
    SessionGrant, SessionScope, SignInResponse,
};

use std::time::Duration;
use twostep_otp::UnixTime;

use crate::clock::ClockOffset;
use crate::error::Error;
use crate::state::SessionRecord;

/// Longest code or recovery code accepted, as typed.
const MAX_CODE_LEN: usize = 64;

/// What the app should show next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignInStep {
    /// Ask for a second-step code.
    CodeRequired(CodePrompt),
    /// The organization requires two-step and the user has not configured it. Web
    /// sign-ins get a session that can only configure two-step; other clients get none.
    SetupRequired {
        /// What the user must do, from the server.
        message: String,
        /// The setup-only session (web), if any.
        session: Option<SessionInfo>,
    },
    /// Mobile: signed in and the device is registered; ask the user for a passcode.
    PasscodeSetup {
        /// Required (org policy) or optional (the user's own two-step).
        requirement: PasscodeRequirement,
        /// The rules the passcode must follow.
        policy: PasscodePolicy,
        /// The new session.
        session: SessionInfo,
    },
    /// Signed in.
    SignedIn(SessionInfo),
}

/// Everything a code screen shows. Times are local, corrected for the server's clock offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodePrompt {
    /// Where the code comes from.
    pub channel: Channel,
    /// Masked phone number or email address for SMS and email.
    pub masked_destination: Option<String>,
    /// Digits in the code.
    pub code_length: u8,
    /// When a new code may be requested (SMS and email only).
    pub resend_after: Option<UnixTime>,
    /// Tries left for the current code.
    pub attempts_left: u32,
    /// The other configured channels the user can switch to.
    pub other_channels: Vec<ChannelChoice>,
    /// Whether the user may use a recovery code instead.
    pub recovery_available: bool,
    /// When the current code (SMS, email) or the sign-in (authenticator) expires.
    pub expires_at: UnixTime,
}

impl CodePrompt {
    /// Builds the prompt from the server's challenge, converting server times to local.
    pub(crate) fn from_challenge(challenge: &CodeChallenge, offset: ClockOffset) -> Self {
        Self {
            channel: challenge.channel,
            masked_destination: challenge.masked_destination.clone(),
            code_length: challenge.code_length,
            resend_after: challenge.resend_after.map(|t| offset.to_local(UnixTime::from_secs(t))),
            attempts_left: challenge.attempts_left,
            other_channels: challenge.other_channels.clone(),
            recovery_available: challenge.recovery_available,
            expires_at: offset.to_local(UnixTime::from_secs(challenge.expires_at)),
        }
    }

    /// How long until a resend is allowed (zero: now); `None` for channels without resend.
    pub fn resend_in(&self, now: UnixTime) -> Option<Duration> {
        self.resend_after.map(|at| now.until(at))
    }

    /// Whether the code (or sign-in) has expired at local time `now`.
    pub fn is_expired(&self, now: UnixTime) -> bool {
        now >= self.expires_at
    }
}

/// A session with the server.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// Local time, corrected for the server's clock offset.
    pub expires_at: UnixTime,
    /// The registration the session belongs to (a mobile device or a desktop agent).
    pub device_id: Option<String>,
}

impl SessionInfo {
    pub(crate) fn from_record(record: &SessionRecord, offset: ClockOffset) -> Self {
        Self {
            username: record.user.username.clone(),
            user_id: record.user.id.clone(),
            org: record.user.org.clone(),
            client: record.client,
            scope: record.scope,
            expires_at: offset.to_local(record.expires_at),
            device_id: record.device_id.clone(),
        }
    }
}

/// What a server answer to a sign-in step means, before anything is stored.
#[derive(Debug)]
pub(crate) enum Answer {
    /// A code is needed.
    Code(CodeChallenge),
    /// Two-step must be configured first.
    Setup { message: String, session: Option<SessionGrant> },
    /// Signed in.
    Session(SessionGrant),
}

/// Whether a sign-in by `client` registers a key: a mobile device at first access, a desktop
/// agent at its registration (then later sessions are signed, without a code). Web and Outlook
/// sign-ins never register.
pub(crate) fn registers(client: ClientKind) -> bool {
    matches!(client, ClientKind::Mobile | ClientKind::Agent)
}

/// Interprets a server answer for a sign-in, checking what the contract promises: a sign-in
/// that sent a registration (`registering`) gets its session only with the registration.
pub(crate) fn interpret(registering: bool, response: SignInResponse) -> Result<Answer, Error> {
    match response {
        SignInResponse::CodeRequired(challenge) => Ok(Answer::Code(challenge)),
        SignInResponse::SetupRequired(setup) => {
            Ok(Answer::Setup { message: setup.message, session: setup.session })
        }
        SignInResponse::Session(grant) if registering && grant.device.is_none() => {
            Err(Error::Protocol {
                status: 200,
                message: "the server signed the client in without registering it".to_owned(),
            })
        }
        SignInResponse::Session(grant) => Ok(Answer::Session(grant)),
    }
}

/// The step after a successful sign-in: mobile registrations go on to the passcode (an agent's
/// registration is done: the passcode is the mobile app's).
pub(crate) fn signed_in_step(
    client: ClientKind,
    grant: &SessionGrant,
    session: SessionInfo,
) -> SignInStep {
    match (&grant.device, client) {
        (Some(device), ClientKind::Mobile) => SignInStep::PasscodeSetup {
            requirement: device.passcode.requirement,
            policy: device.passcode.clone(),
            session,
        },
        _ => SignInStep::SignedIn(session),
    }
}

/// Checks a typed code before it is sent: not empty, bounded, only digits, letters,
/// spaces and dashes (the server ignores the last two).
pub(crate) fn check_code(field: &'static str, code: &str) -> Result<String, Error> {
    let code = code.trim();
    let invalid = |message: &str| Error::InvalidInput { field, message: message.to_owned() };
    if code.is_empty() {
        return Err(invalid("is empty"));
    }
    if code.len() > MAX_CODE_LEN {
        return Err(invalid("is too long"));
    }
    if !code.chars().all(|c| c.is_ascii_alphanumeric() || c == ' ' || c == '-') {
        return Err(invalid("may contain only letters, digits, spaces and dashes"));
    }
    Ok(code.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use twostep_proto::{DeviceGrant, SessionScope, SetupRequired, UserSummary};

    fn challenge(channel: Channel) -> CodeChallenge {
        CodeChallenge {
            challenge_id: "c1".into(),
            channel,
            masked_destination: Some("a•••@example.com".into()),
            code_length: 6,
            resend_after: Some(1_030),
            expires_at: 1_300,
            attempts_left: 5,
            other_channels: vec![ChannelChoice {
                channel: Channel::Totp,
                masked_destination: None,
            }],
            recovery_available: true,
        }
    }

    use crate::mock_server::policy;

    fn grant(device: Option<PasscodeRequirement>) -> SessionGrant {
        SessionGrant {
            token: "t".into(),
            expires_at: 5_000,
            scope: SessionScope::Full,
            user: UserSummary { id: "u1".into(), username: "alice".into(), org: "acme".into() },
            device: device.map(|r| DeviceGrant { device_id: "d1".into(), passcode: policy(r) }),
        }
    }

    fn session() -> SessionInfo {
        SessionInfo {
            username: "alice".into(),
            user_id: "u1".into(),
            org: "acme".into(),
            client: ClientKind::Mobile,
            scope: SessionScope::Full,
            expires_at: UnixTime::from_secs(5_000),
            device_id: Some("d1".into()),
        }
    }

    #[test]
    fn a_code_challenge_becomes_a_prompt_in_local_time() {
        let at = UnixTime::from_secs;
        let offset = ClockOffset { offset_ms: 10_000, measured_at: at(0) };
        let prompt = CodePrompt::from_challenge(&challenge(Channel::Email), offset);
        assert_eq!(prompt.channel, Channel::Email);
        assert_eq!(prompt.resend_after, Some(at(1_020)));
        assert_eq!(prompt.expires_at, at(1_290));
        assert_eq!(prompt.resend_in(at(1_000)), Some(Duration::from_secs(20)));
        assert_eq!(prompt.resend_in(at(2_000)), Some(Duration::ZERO));
        assert!(!prompt.is_expired(at(1_289)));
        assert!(prompt.is_expired(at(1_290)));
        assert!(prompt.recovery_available);
        assert_eq!(prompt.other_channels.len(), 1);
    }

    #[test]
    fn answers_are_interpreted_per_client_kind() {
        let code =
            interpret(false, SignInResponse::CodeRequired(challenge(Channel::Totp))).unwrap();
        assert!(matches!(code, Answer::Code(c) if c.channel == Channel::Totp));

        let setup = SignInResponse::SetupRequired(SetupRequired {
            session: None,
            message: "set it up".into(),
        });
        assert!(matches!(interpret(true, setup).unwrap(), Answer::Setup { session: None, .. }));

        let web = interpret(false, SignInResponse::Session(grant(None))).unwrap();
        assert!(matches!(web, Answer::Session(_)));

        let unregistered = interpret(true, SignInResponse::Session(grant(None)));
        assert!(matches!(unregistered, Err(Error::Protocol { .. })));
        let registered =
            interpret(true, SignInResponse::Session(grant(Some(PasscodeRequirement::Optional))));
        assert!(matches!(registered, Ok(Answer::Session(_))));
    }

    #[test]
    fn mobile_and_agent_sign_ins_register_web_and_outlook_never() {
        assert!(registers(ClientKind::Mobile) && registers(ClientKind::Agent));
        assert!(!registers(ClientKind::Web) && !registers(ClientKind::Outlook));
    }

    #[test]
    fn mobile_sessions_go_on_to_the_passcode_and_others_are_done() {
        for requirement in [PasscodeRequirement::Required, PasscodeRequirement::Optional] {
            let step = signed_in_step(ClientKind::Mobile, &grant(Some(requirement)), session());
            assert!(
                matches!(step, SignInStep::PasscodeSetup { requirement: r, ref policy, .. } if r == requirement && policy.min_length == 6)
            );
        }
        let step = signed_in_step(ClientKind::Outlook, &grant(None), session());
        assert!(matches!(step, SignInStep::SignedIn(_)));
        let agent = grant(Some(PasscodeRequirement::Required));
        let step = signed_in_step(ClientKind::Agent, &agent, session());
        assert!(matches!(step, SignInStep::SignedIn(_)), "the agent has no passcode step");
    }

    #[test]
    fn codes_are_checked_before_they_are_sent() {
        assert_eq!(check_code("code", " 123 456 ").unwrap(), "123 456");
        assert_eq!(check_code("code", "abcd-efgh-ij").unwrap(), "abcd-efgh-ij");
        for bad in ["", "   ", "12345\u{0}", "12;drop", &"1".repeat(65)] {
            assert!(
                matches!(check_code("code", bad), Err(Error::InvalidInput { field: "code", .. })),
                "{bad:?}"
            );
        }
    }
}
