//! Service errors as sentences for people, with the numbers a page needs (tries left,
//! how long to wait), and the fixed notices a redirect can ask for (`?n=sent`): the query
//! names a notice, it never carries text, so nothing from a URL is echoed into a page.

use super::page::wait;
use crate::error::ApiError;
use axum::http::StatusCode;
use twostep_proto::ErrorCode;

/// The sentence shown for an error.
pub fn human(e: &ApiError) -> String {
    match e.code {
        ErrorCode::InvalidCode => match e.attempts_left {
            Some(0) => "That code is not correct, and it cannot be tried again. Request a new \
                        code or use another way to sign in."
                .into(),
            Some(1) => "That code is not correct. 1 try left.".into(),
            Some(n) => format!("That code is not correct. {n} tries left."),
            None => "That code is not correct.".into(),
        },
        ErrorCode::RateLimited => {
            format!("Too many attempts. Try again in {}.", wait(e.retry_after_secs.unwrap_or(60)))
        }
        ErrorCode::ResendTooSoon => {
            format!("A new code can be sent in {}.", wait(e.retry_after_secs.unwrap_or(30)))
        }
        ErrorCode::AccountLocked => "Your account is locked after too many failed attempts. \
                                     Ask your administrator to unlock it."
            .into(),
        ErrorCode::InvalidCredentials => "The username or password is incorrect.".into(),
        ErrorCode::StepUpRequired => "Enter a fresh code: from your authenticator app, or send \
                                      yourself a code first."
            .into(),
        ErrorCode::Unavailable => "The server is busy. Try again in a moment.".into(),
        ErrorCode::Internal => "Something went wrong on our side; nothing was changed.".into(),
        _ => {
            let mut m = e.message.clone();
            if let Some(first) = m.get(..1) {
                let upper = first.to_uppercase();
                m.replace_range(..1, &upper);
            }
            if !m.ends_with('.') {
                m.push('.');
            }
            m
        }
    }
}

/// The HTTP status of a page that shows `e`.
pub fn status(e: &ApiError) -> StatusCode {
    StatusCode::from_u16(e.code.http_status()).unwrap_or(StatusCode::BAD_REQUEST)
}

/// The notice a redirect names, if known.
pub fn notice(key: Option<&str>) -> Option<String> {
    let text = match key? {
        "expired" => "Your sign-in was not completed in time. Please sign in again.",
        "signedout" => "You are signed out.",
        "sent" => "A code is on its way.",
        "switched" => "Switched to the other method.",
        "enrolled" => "Two-step authentication method added.",
        "preferred" => "Preferred method saved.",
        "removed" => "Method removed.",
        "disabled" => "Two-step authentication is off.",
        "revoked" => "Access revoked.",
        "saved" => "Saved.",
        "created" => "Created.",
        "operator" => "The operator was created. Sign in below.",
        "reset" => {
            "Two-step authentication was reset; the user's sessions and devices were \
                    revoked."
        }
        "unlocked" => "The account is unlocked.",
        "forced_removed" => "Enrollments made because of the policy were removed.",
        "session" => "Please sign in.",
        "password" => {
            "Your password was changed and you were signed out everywhere. Sign in \
                       with the new password."
        }
        _ => return None,
    };
    Some(text.to_owned())
}
