//! `twostep passcode set|change|remove|status|reset` and `twostep unlock`.
//!
//! Each run of the CLI is an app restart: it opens locked when a passcode is set. Commands
//! that need the account data call [`unlock_if_locked`] first, which reads the passcode
//! from the terminal (no echo) or, with `--passcode-stdin`, from the next line of standard
//! input. Argon2id makes each check take a moment on purpose.

use serde_json::json;
use twostep_core::{PasscodeStatus, Twostep, TwostepError};

use super::now;
use crate::args::PasscodeCommand;
use crate::input::Input;
use crate::output::{Failure, Printer, passcode_json, passcode_text};

/// Unlocks when a passcode locks the account data; a no-op otherwise.
pub fn unlock_if_locked(app: &Twostep, from_stdin: bool, out: Printer) -> Result<(), Failure> {
    match app.passcode().state(now())?.status {
        PasscodeStatus::Locked => {
            let passcode = Input::new().passcode(from_stdin, "Passcode: ")?;
            let result = app.passcode().unlock(&passcode, now())?;
            if result.change_required {
                out.note("Your passcode no longer meets the organization's policy; change it: twostep passcode change");
            }
            Ok(())
        }
        PasscodeStatus::LockedOut { until } => {
            Err(TwostepError::PasscodeLockedOut { until, retry_after: now().until(until) }.into())
        }
        PasscodeStatus::NotSet | PasscodeStatus::Unlocked | PasscodeStatus::Wiped => Ok(()),
    }
}

/// `twostep unlock`.
pub fn unlock(app: &Twostep, from_stdin: bool, out: Printer) -> Result<(), Failure> {
    let status = app.passcode().state(now())?.status;
    if let PasscodeStatus::LockedOut { until } = status {
        let retry_after = now().until(until);
        return Err(TwostepError::PasscodeLockedOut { until, retry_after }.into());
    }
    let passcode = Input::new().passcode(from_stdin, "Passcode: ")?;
    let result = app.passcode().unlock(&passcode, now())?;
    let state = app.passcode().state(now())?;
    out.success(
        json!({"status": "unlocked", "change_required": result.change_required, "passcode": passcode_json(&state)}),
        if result.change_required {
            "Passcode correct. It no longer meets the organization's policy: change it (twostep passcode change)."
        } else {
            "Passcode correct."
        },
    );
    Ok(())
}

/// `twostep passcode ...`.
pub fn run(
    app: &Twostep,
    command: &PasscodeCommand,
    from_stdin: bool,
    out: Printer,
) -> Result<(), Failure> {
    let mut input = Input::new();
    match command {
        PasscodeCommand::Status => {
            let state = app.passcode().state(now())?;
            out.success(
                passcode_json(&state),
                &format!("Passcode: {}", passcode_text(&state, now())),
            );
        }
        PasscodeCommand::Set => {
            let passcode = input.new_passcode(from_stdin)?;
            app.passcode().set(&passcode, now())?;
            out.success(json!({"status": "passcode_set"}), "Passcode set.");
        }
        PasscodeCommand::Change => {
            let current = input.passcode(from_stdin, "Current passcode: ")?;
            let new = input.new_passcode(from_stdin)?;
            app.passcode().change(&current, &new, now())?;
            out.success(json!({"status": "passcode_changed"}), "Passcode changed.");
        }
        PasscodeCommand::Remove => {
            let current = input.passcode(from_stdin, "Current passcode: ")?;
            app.passcode().remove(&current, now())?;
            out.success(json!({"status": "passcode_removed"}), "Passcode removed.");
        }
        PasscodeCommand::Reset { yes } => {
            if !yes {
                return Err(Failure::usage(
                    "this erases the account's local data (registration, session, passcode, authenticator vault); add --yes",
                ));
            }
            app.passcode().reset_local_data()?;
            out.success(json!({"status": "reset"}), "The local data was erased; sign in again.");
        }
    }
    Ok(())
}
