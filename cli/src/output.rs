//! What the CLI prints and how it exits: human text on stdout (prompts and errors on
//! stderr), or with `--json` one JSON document on stdout for results and errors alike.

use serde_json::{Value, json};
use twostep_core::{
    CodePrompt, PasscodePolicy, PasscodeState, PasscodeStatus, Registration, SessionInfo,
    TwostepError, UnixTime,
};

/// Process exit codes; see `args::EXIT_CODES_HELP`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    Other = 1,
    Usage = 2,
    Credentials = 3,
    Code = 4,
    LockedOut = 5,
    Network = 6,
    SetupRequired = 7,
    DeviceRevoked = 8,
    Passcode = 9,
    Locked = 10,
    Wiped = 11,
}

impl Exit {
    /// The exit code for an error from the core.
    pub fn for_error(error: &TwostepError) -> Self {
        match error {
            TwostepError::InvalidCredentials => Exit::Credentials,
            TwostepError::InvalidCode { .. }
            | TwostepError::CodeExpired
            | TwostepError::ChallengeExpired
            | TwostepError::NoSignInInProgress => Exit::Code,
            TwostepError::RateLimited { .. }
            | TwostepError::ResendTooSoon { .. }
            | TwostepError::AccountLocked
            | TwostepError::PasscodeLockedOut { .. } => Exit::LockedOut,
            TwostepError::Offline { .. }
            | TwostepError::Timeout
            | TwostepError::ServerNotTrusted { .. }
            | TwostepError::Server { .. } => Exit::Network,
            TwostepError::SetupRequired { .. } => Exit::SetupRequired,
            TwostepError::DeviceRevoked => Exit::DeviceRevoked,
            TwostepError::InvalidInput { .. }
            | TwostepError::NoServer
            | TwostepError::PasscodeTooWeak { .. }
            | TwostepError::PasscodeNotSet
            | TwostepError::Authenticator { .. } => Exit::Usage,
            TwostepError::PasscodeIncorrect { .. } => Exit::Passcode,
            TwostepError::Locked | TwostepError::PasscodeRequired => Exit::Locked,
            TwostepError::Wiped | TwostepError::LocalDataUnrecoverable => Exit::Wiped,
            _ => Exit::Other,
        }
    }
}

/// A failure of a command: what to print and how to exit.
#[derive(Debug)]
pub struct Failure {
    /// Machine-readable code.
    pub code: String,
    /// For people.
    pub message: String,
    /// Extra JSON fields (attempts_left, retry_after_secs, prompt, ...).
    pub details: serde_json::Map<String, Value>,
    /// How to exit.
    pub exit: Exit,
}

impl Failure {
    /// A usage error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            code: "usage".into(),
            message: message.into(),
            details: Default::default(),
            exit: Exit::Usage,
        }
    }

    /// Adds a JSON field.
    pub fn with(mut self, key: &str, value: Value) -> Self {
        self.details.insert(key.to_owned(), value);
        self
    }
}

impl From<TwostepError> for Failure {
    fn from(error: TwostepError) -> Self {
        let mut details = serde_json::Map::new();
        match &error {
            TwostepError::InvalidCode { attempts_left } => {
                details.insert("attempts_left".into(), json!(attempts_left));
            }
            TwostepError::NewerState { version } => {
                details.insert("version".into(), json!(version));
            }
            TwostepError::Server { status, .. } => {
                details.insert("status".into(), json!(status));
            }
            TwostepError::PasscodeIncorrect { attempts_left, .. } => {
                details.insert("attempts_left".into(), json!(attempts_left));
            }
            TwostepError::Rejected { reason, .. } => {
                details.insert("reason".into(), json!(reason.as_str()));
            }
            TwostepError::Authenticator { reason, entries, .. } => {
                details.insert("reason".into(), json!(reason.as_str()));
                if !entries.is_empty() {
                    let entries: Vec<Value> = entries
                        .iter()
                        .map(|e| json!({"entry": e.entry, "label": e.label, "reason": e.error.code(), "message": e.error.to_string()}))
                        .collect();
                    details.insert("entries".into(), Value::Array(entries));
                }
            }
            TwostepError::PasscodeTooWeak { reason } => {
                details.insert("reason".into(), json!(reason.code()));
            }
            _ => {}
        }
        if let Some(until) = error.next_attempt_at() {
            details.insert("locked_until".into(), json!(until.as_secs()));
        }
        if let Some(wait) = error.retry_after() {
            details.insert("retry_after_secs".into(), json!(wait.as_secs()));
        }
        Self {
            code: error.code().to_owned(),
            message: error.to_string(),
            details,
            exit: Exit::for_error(&error),
        }
    }
}

/// Prints results and failures in the chosen format.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    /// `--json`.
    pub json: bool,
}

impl Printer {
    /// Prints a success: `value` (with `"ok": true` added) or the human text.
    pub fn success(&self, mut value: Value, human: &str) {
        if self.json {
            if let Some(object) = value.as_object_mut() {
                object.insert("ok".into(), Value::Bool(true));
            }
            println!("{value}");
        } else if !human.is_empty() {
            println!("{human}");
        }
    }

    /// Prints a failure and returns its exit code.
    pub fn failure(&self, failure: &Failure) -> Exit {
        if self.json {
            let mut error = serde_json::Map::new();
            error.insert("code".into(), json!(failure.code));
            error.insert("message".into(), json!(failure.message));
            error.insert("exit_code".into(), json!(failure.exit as u8));
            error.extend(failure.details.clone());
            println!("{}", json!({"ok": false, "error": error}));
        } else {
            eprintln!("twostep: {}", failure.message);
        }
        failure.exit
    }

    /// A line for the person at the terminal (stderr, so stdout stays clean).
    pub fn note(&self, line: &str) {
        eprintln!("{line}");
    }
}

/// JSON for a session.
pub fn session_json(session: &SessionInfo) -> Value {
    json!({
        "username": session.username,
        "user_id": session.user_id,
        "org": session.org,
        "client": session.client.as_str(),
        "scope": match session.scope { twostep_core::SessionScope::Full => "full", twostep_core::SessionScope::SetupOnly => "setup_only" },
        "expires_at": session.expires_at.as_secs(),
        "device_id": session.device_id,
    })
}

/// JSON for a registration.
pub fn registration_json(registration: &Registration) -> Value {
    json!({
        "device_id": registration.device_id,
        "client": registration.client.as_str(),
        "device_name": registration.device_name,
        "username": registration.username,
        "org": registration.org,
        "server_url": registration.server_url,
        "registered_at": registration.registered_at.as_secs(),
        "passcode_policy": registration.passcode_policy.as_ref().map(policy_json),
    })
}

/// JSON for a passcode policy.
pub fn policy_json(policy: &PasscodePolicy) -> Value {
    json!({
        "requirement": requirement_str(policy.requirement),
        "min_length": policy.min_length,
        "alphanumeric": policy.alphanumeric,
        "max_failed_attempts": policy.max_failed_attempts,
        "lock_timeout_secs": policy.lock_timeout_secs,
        "wipe_vault": policy.wipe_vault,
    })
}

/// `not_set`, `locked`, `unlocked`, `locked_out`, `wiped`.
pub fn passcode_status_str(status: PasscodeStatus) -> &'static str {
    match status {
        PasscodeStatus::NotSet => "not_set",
        PasscodeStatus::Locked => "locked",
        PasscodeStatus::Unlocked => "unlocked",
        PasscodeStatus::LockedOut { .. } => "locked_out",
        PasscodeStatus::Wiped => "wiped",
    }
}

/// JSON for the passcode's state.
pub fn passcode_json(state: &PasscodeState) -> Value {
    json!({
        "status": passcode_status_str(state.status),
        "locked_until": match state.status { PasscodeStatus::LockedOut { until } => Some(until.as_secs()), _ => None },
        "failed_attempts": state.failed_attempts,
        "attempts_left": state.attempts_left,
        "policy": policy_json(&state.policy),
    })
}

/// One line about the passcode's state.
pub fn passcode_text(state: &PasscodeState, now: UnixTime) -> String {
    let rule = match state.policy.requirement {
        twostep_core::PasscodeRequirement::Required => "required by the organization",
        twostep_core::PasscodeRequirement::Optional => "optional",
    };
    let status = match state.status {
        PasscodeStatus::NotSet => "not set".to_owned(),
        PasscodeStatus::Locked => "set, locked".to_owned(),
        PasscodeStatus::Unlocked => "set, unlocked".to_owned(),
        PasscodeStatus::LockedOut { until } => {
            format!("locked out until {}", crate::time::at(until, now))
        }
        PasscodeStatus::Wiped => {
            "local data wiped after too many wrong passcodes; sign in again".to_owned()
        }
    };
    let mut text = format!(
        "{status} ({rule}, at least {} {})",
        state.policy.min_length,
        if state.policy.alphanumeric { "characters" } else { "digits" }
    );
    if state.failed_attempts > 0 {
        text.push_str(&format!("; {} failed attempts", state.failed_attempts));
    }
    if let Some(left) = state.attempts_left.filter(|_| state.failed_attempts > 0) {
        text.push_str(&format!(", {left} left before the local data is wiped"));
    }
    text
}

/// `required` or `optional`.
pub fn requirement_str(requirement: twostep_core::PasscodeRequirement) -> &'static str {
    match requirement {
        twostep_core::PasscodeRequirement::Required => "required",
        twostep_core::PasscodeRequirement::Optional => "optional",
    }
}

/// JSON for a code prompt.
pub fn prompt_json(prompt: &CodePrompt) -> Value {
    json!({
        "channel": prompt.channel.as_str(),
        "masked_destination": prompt.masked_destination,
        "code_length": prompt.code_length,
        "resend_after": prompt.resend_after.map(UnixTime::as_secs),
        "attempts_left": prompt.attempts_left,
        "other_channels": prompt.other_channels.iter().map(|c| json!({
            "channel": c.channel.as_str(),
            "masked_destination": c.masked_destination,
        })).collect::<Vec<_>>(),
        "recovery_available": prompt.recovery_available,
        "expires_at": prompt.expires_at.as_secs(),
    })
}

/// One line describing a code prompt.
pub fn prompt_text(prompt: &CodePrompt) -> String {
    let source = match (prompt.channel, &prompt.masked_destination) {
        (twostep_core::Channel::Totp, _) => "from your authenticator app".to_owned(),
        (channel, Some(to)) => format!("sent by {} to {to}", channel.as_str()),
        (channel, None) => format!("sent by {}", channel.as_str()),
    };
    format!(
        "Enter the {}-digit code {source} ({} attempts left).",
        prompt.code_length, prompt.attempts_left
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn errors_map_to_the_documented_exit_codes() {
        let cases = [
            (TwostepError::InvalidCredentials, 3),
            (TwostepError::InvalidCode { attempts_left: 2 }, 4),
            (TwostepError::ChallengeExpired, 4),
            (TwostepError::RateLimited { retry_after: Duration::from_secs(5) }, 5),
            (TwostepError::AccountLocked, 5),
            (TwostepError::Offline { message: "refused".into() }, 6),
            (TwostepError::Timeout, 6),
            (TwostepError::SetupRequired { message: "m".into() }, 7),
            (TwostepError::DeviceRevoked, 8),
            (TwostepError::InvalidInput { field: "f".into(), message: "m".into() }, 2),
            (TwostepError::CorruptState { message: "m".into() }, 1),
            (
                TwostepError::PasscodeIncorrect {
                    attempts_left: Some(3),
                    next_attempt_at: None,
                    retry_after: None,
                },
                9,
            ),
            (
                TwostepError::PasscodeLockedOut {
                    until: UnixTime::from_secs(9),
                    retry_after: Duration::from_secs(9),
                },
                5,
            ),
            (TwostepError::NoServer, 2),
            (TwostepError::Locked, 10),
            (TwostepError::PasscodeRequired, 10),
            (TwostepError::Wiped, 11),
            (TwostepError::LocalDataUnrecoverable, 11),
            (TwostepError::PasscodeTooWeak { reason: twostep_core::PasscodeWeakness::Sequence }, 2),
        ];
        for (error, code) in cases {
            assert_eq!(Exit::for_error(&error) as u8, code, "{error:?}");
        }
    }

    #[test]
    fn failures_carry_what_scripts_need() {
        let failure = Failure::from(TwostepError::InvalidCode { attempts_left: 2 });
        assert_eq!(failure.code, "invalid_code");
        assert_eq!(failure.details["attempts_left"], 2);
        let failure =
            Failure::from(TwostepError::RateLimited { retry_after: Duration::from_secs(30) });
        assert_eq!(failure.details["retry_after_secs"], 30);
        assert_eq!(failure.message, "too many attempts; retry in 30 s");
        let failure = Failure::from(TwostepError::PasscodeIncorrect {
            attempts_left: Some(4),
            next_attempt_at: Some(UnixTime::from_secs(77)),
            retry_after: Some(Duration::from_secs(60)),
        });
        assert_eq!(
            (failure.details["attempts_left"].clone(), failure.details["locked_until"].clone()),
            (json!(4), json!(77))
        );
        let failure = Failure::from(TwostepError::PasscodeTooWeak {
            reason: twostep_core::PasscodeWeakness::Common,
        });
        assert_eq!(failure.details["reason"], "common");
    }
}
