//! Input bounds shared by server validation and client-side checks.

/// Largest request body the server reads, in bytes.
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// Usernames: 1..=64 characters of `[a-z0-9._@+-]` after lower-casing.
pub const MAX_USERNAME_LEN: usize = 64;
/// Passwords: 8..=256 bytes.
pub const MIN_PASSWORD_LEN: usize = 8;
/// See [`MIN_PASSWORD_LEN`].
pub const MAX_PASSWORD_LEN: usize = 256;
/// Organization names: 1..=64 characters of `[a-z0-9._-]`.
pub const MAX_ORG_LEN: usize = 64;
/// Device names shown to users and operators.
pub const MAX_DEVICE_NAME_LEN: usize = 64;
/// Length of SMS and email codes.
pub const SENT_CODE_DIGITS: u8 = 6;
/// Seconds an SMS or email code stays valid.
pub const SENT_CODE_TTL_SECS: u64 = 300;
/// Seconds before a new SMS or email code may be requested.
pub const RESEND_AFTER_SECS: u64 = 30;
/// Tries allowed per SMS or email code (and per sign-in challenge for TOTP).
pub const TRIES_PER_CODE: u32 = 5;
/// Seconds a sign-in challenge stays open.
pub const CHALLENGE_TTL_SECS: u64 = 600;
/// Number of recovery codes in a set.
pub const RECOVERY_CODE_COUNT: usize = 10;
/// Shortest passcode an org may require; the default is [`DEFAULT_PASSCODE_MIN_LENGTH`].
pub const MIN_PASSCODE_LENGTH: u8 = 4;
/// Default passcode length.
pub const DEFAULT_PASSCODE_MIN_LENGTH: u8 = 6;
/// Longest passcode policy an org may set.
pub const MAX_PASSCODE_LENGTH: u8 = 64;
/// Default failed passcode attempts before a wipe (org policy).
pub const DEFAULT_PASSCODE_MAX_ATTEMPTS: u32 = 10;
/// Default background lock timeout.
pub const DEFAULT_LOCK_TIMEOUT_SECS: u32 = 300;
/// Default daily SMS/email codes per user (org policy).
pub const DEFAULT_MESSAGES_PER_USER_PER_DAY: u32 = 20;
/// Default daily SMS/email codes per destination (org policy).
pub const DEFAULT_MESSAGES_PER_DESTINATION_PER_DAY: u32 = 10;
/// Default daily SMS/email codes per organization (org policy).
pub const DEFAULT_MESSAGES_PER_ORG_PER_DAY: u32 = 10_000;
/// Largest daily message cap an org may set.
pub const MAX_MESSAGES_PER_DAY: u32 = 1_000_000;
/// Phone numbers: E.164, `+` and 8..=15 digits.
pub const MAX_PHONE_LEN: usize = 16;
/// Email addresses.
pub const MAX_EMAIL_LEN: usize = 254;
/// A code as typed (spaces and dashes included): authenticator, sent and recovery codes.
pub const MAX_CODE_INPUT_LEN: usize = 64;
/// Device and registration nonces as sent back by a client.
pub const MAX_NONCE_LEN: usize = 64;
/// Ed25519 signatures as sent (base64url of 64 bytes is 86 characters).
pub const MAX_SIGNATURE_LEN: usize = 128;
/// Device ids as sent by a client.
pub const MAX_DEVICE_ID_LEN: usize = 128;
/// Largest `passcode_max_attempts` an org may set.
pub const MAX_PASSCODE_MAX_ATTEMPTS: u32 = 100;
/// Longest background lock timeout an org may set, in seconds.
pub const MAX_LOCK_TIMEOUT_SECS: u32 = 86_400;
/// Path parameters (ids, names) the server reads, in bytes.
pub const MAX_PATH_SEGMENT_LEN: usize = 256;

/// Normalizes a username (trim, lower-case) and checks its alphabet and length.
pub fn normalize_username(raw: &str) -> Option<String> {
    let s = raw.trim().to_ascii_lowercase();
    let ok = !s.is_empty()
        && s.len() <= MAX_USERNAME_LEN
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b".-_@+".contains(&b));
    ok.then_some(s)
}

/// Checks an organization name.
pub fn valid_org_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= MAX_ORG_LEN
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b))
}

/// Checks an E.164 phone number (`+` then 8..=15 digits).
pub fn valid_phone(s: &str) -> bool {
    let Some(digits) = s.strip_prefix('+') else { return false };
    (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit())
}

/// A deliberately plain email check: one `@`, non-empty parts, a dot in the domain, no spaces.
pub fn valid_email(s: &str) -> bool {
    if s.len() > MAX_EMAIL_LEN || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_normalized_and_bounded() {
        assert_eq!(normalize_username("  Alice@Example.com "), Some("alice@example.com".into()));
        assert_eq!(normalize_username(""), None);
        assert_eq!(normalize_username("a b"), None);
        assert_eq!(normalize_username(&"a".repeat(65)), None);
        assert_eq!(normalize_username("ünïcode"), None);
    }

    #[test]
    fn phones_and_emails_are_checked() {
        assert!(valid_phone("+4915112345678"));
        assert!(!valid_phone("015112345678"));
        assert!(!valid_phone("+12"));
        assert!(!valid_phone("+49151abc45678"));
        assert!(valid_email("a.b@example.com"));
        assert!(!valid_email("a@b"));
        assert!(!valid_email("a b@example.com"));
        assert!(!valid_email("@example.com"));
    }
}
