//! What a new passcode must look like: the cached policy's length and alphabet, and no
//! trivial PINs.
//!
//! Refused, each with its own [`PasscodeWeakness`]:
//! - characters outside printable ASCII (no spaces, no control characters, no Unicode: one passcode
//!   must type the same on every keyboard and never depend on normalization);
//! - letters when the policy asks for digits only;
//! - shorter than the policy's minimum (never under 4), longer than [`MAX_PASSCODE_CHARS`];
//! - one repeated character (`1111`, `aaaaaa`);
//! - a straight sequence up or down (`1234`, `987654`, `7890`, `abcdef`);
//! - a short block repeated (`1212`, `123123`, `5050`);
//! - one of the most common PINs and passwords ([`COMMON`], a short list on purpose: the rules
//!   above already cover most of the top of the published PIN frequency lists).
//!
//! The checks only apply when a passcode is set or changed; unlocking accepts whatever was
//! set, so a policy that became stricter never locks anybody out (the unlock result says
//! that a change is due instead).

use twostep_proto::PasscodePolicy;

/// The longest passcode accepted, in characters (the policy minimum goes up to 64).
pub const MAX_PASSCODE_CHARS: usize = 128;

/// Why a new passcode was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PasscodeWeakness {
    /// Fewer characters than the policy's minimum.
    TooShort {
        /// The minimum.
        min_length: u8,
    },
    /// More than [`MAX_PASSCODE_CHARS`] characters.
    TooLong {
        /// The maximum.
        max_length: u32,
    },
    /// The policy allows digits only.
    DigitsOnly,
    /// A character that is not printable ASCII (spaces and control characters included).
    InvalidCharacter,
    /// One character repeated (`1111`).
    RepeatedCharacter,
    /// A straight sequence up or down (`1234`, `4321`).
    Sequence,
    /// A short block repeated (`1212`, `123123`).
    RepeatedPattern,
    /// One of the most common PINs or passwords.
    Common,
    /// The new passcode is the current one.
    Unchanged,
}

impl PasscodeWeakness {
    /// A stable snake_case name for scripts and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooShort { .. } => "too_short",
            Self::TooLong { .. } => "too_long",
            Self::DigitsOnly => "digits_only",
            Self::InvalidCharacter => "invalid_character",
            Self::RepeatedCharacter => "repeated_character",
            Self::Sequence => "sequence",
            Self::RepeatedPattern => "repeated_pattern",
            Self::Common => "common",
            Self::Unchanged => "unchanged",
        }
    }
}

impl std::fmt::Display for PasscodeWeakness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooShort { min_length } => write!(f, "use at least {min_length} characters"),
            Self::TooLong { max_length } => write!(f, "use at most {max_length} characters"),
            Self::DigitsOnly => f.write_str("use digits only"),
            Self::InvalidCharacter => f.write_str("use printable ASCII characters without spaces"),
            Self::RepeatedCharacter => f.write_str("do not repeat one character"),
            Self::Sequence => f.write_str("do not use a sequence like 1234 or 4321"),
            Self::RepeatedPattern => f.write_str("do not repeat a short pattern like 1212"),
            Self::Common => f.write_str("this passcode is too common"),
            Self::Unchanged => f.write_str("choose a passcode different from the current one"),
        }
    }
}

/// The most common PINs and passcodes that the structural rules do not already catch
/// (from published PIN frequency studies; compared case-insensitively).
pub(crate) const COMMON: &[&str] = &[
    // 4 digits: dates, keypad shapes, words on a keypad.
    "1004",
    "2000",
    "2001",
    "1122",
    "1313",
    "2580",
    "0852",
    "1379",
    "1397",
    "2468",
    "1357",
    "5683",
    "1998",
    "1999",
    "1984",
    "0007",
    "6969",
    "1969",
    "4200",
    "2017",
    "2018",
    "2019",
    "2020",
    "2021",
    "2022",
    "2023",
    "2024",
    "2025", // 6 digits.
    "112233",
    "123321",
    "159753",
    "147258",
    "789456",
    "102030",
    "147852",
    "111222",
    "100200",
    "159357",
    "010203",
    "998877",
    "123654",
    "000123",
    "654123",
    "741852",
    "963852",
    "258369",
    "369258",
    "852456",
    "121314",
    "131415",
    "999666",
    // Alphanumeric.
    "password",
    "passcode",
    "password1",
    "qwerty",
    "qwertz",
    "azerty",
    "qwerty123",
    "abc123",
    "123abc",
    "letmein",
    "iloveyou",
    "admin",
    "welcome",
    "monkey",
    "dragon",
    "trustno1",
    "sunshine",
    "princess",
    "football",
    "baseball",
];

/// Checks a new passcode against the (effective) policy.
pub fn check(passcode: &str, policy: &PasscodePolicy) -> Result<(), PasscodeWeakness> {
    if !passcode.chars().all(|c| c.is_ascii_graphic()) {
        return Err(PasscodeWeakness::InvalidCharacter);
    }
    if !policy.alphanumeric && !passcode.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PasscodeWeakness::DigitsOnly);
    }
    let len = passcode.len();
    if len < usize::from(policy.min_length) {
        return Err(PasscodeWeakness::TooShort { min_length: policy.min_length });
    }
    if len > MAX_PASSCODE_CHARS {
        return Err(PasscodeWeakness::TooLong { max_length: MAX_PASSCODE_CHARS as u32 });
    }
    let lower = passcode.to_ascii_lowercase();
    let bytes = lower.as_bytes();
    if bytes.windows(2).all(|w| w[0] == w[1]) {
        return Err(PasscodeWeakness::RepeatedCharacter);
    }
    if is_sequence(bytes) {
        return Err(PasscodeWeakness::Sequence);
    }
    if is_repeated_block(bytes) {
        return Err(PasscodeWeakness::RepeatedPattern);
    }
    if COMMON.contains(&lower.as_str()) {
        return Err(PasscodeWeakness::Common);
    }
    Ok(())
}

/// Every step +1 or every step −1, among digits (wrapping 9→0, as on a keypad row) or
/// among letters.
fn is_sequence(bytes: &[u8]) -> bool {
    let digits = bytes.iter().all(u8::is_ascii_digit);
    let letters = bytes.iter().all(u8::is_ascii_lowercase);
    if !(digits || letters) {
        return false;
    }
    let step = |a: u8, b: u8| -> i16 {
        let d = i16::from(b) - i16::from(a);
        match (digits, d) {
            (true, -9) => 1,
            (true, 9) => -1,
            _ => d,
        }
    };
    [1i16, -1].into_iter().any(|direction| bytes.windows(2).all(|w| step(w[0], w[1]) == direction))
}

/// The whole passcode is one block of at most half its length, repeated.
fn is_repeated_block(bytes: &[u8]) -> bool {
    let len = bytes.len();
    (2..=len / 2)
        .filter(|block| len.is_multiple_of(*block))
        .any(|block| bytes.chunks(block).all(|chunk| chunk == &bytes[..block]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use twostep_proto::PasscodeRequirement;

    fn policy(min_length: u8, alphanumeric: bool) -> PasscodePolicy {
        PasscodePolicy {
            requirement: PasscodeRequirement::Required,
            min_length,
            alphanumeric,
            max_failed_attempts: 10,
            lock_timeout_secs: 300,
            wipe_vault: false,
        }
    }

    #[test]
    fn trivial_pins_are_refused_each_with_its_reason() {
        let p = policy(4, false);
        for (pin, reason) in [
            ("1111", PasscodeWeakness::RepeatedCharacter),
            ("000000", PasscodeWeakness::RepeatedCharacter),
            ("1234", PasscodeWeakness::Sequence),
            ("4321", PasscodeWeakness::Sequence),
            ("123456", PasscodeWeakness::Sequence),
            ("987654", PasscodeWeakness::Sequence),
            ("7890", PasscodeWeakness::Sequence),
            ("2109", PasscodeWeakness::Sequence),
            ("1212", PasscodeWeakness::RepeatedPattern),
            ("123123", PasscodeWeakness::RepeatedPattern),
            ("5050", PasscodeWeakness::RepeatedPattern),
            ("2580", PasscodeWeakness::Common),
            ("1004", PasscodeWeakness::Common),
            ("112233", PasscodeWeakness::Common),
            ("159753", PasscodeWeakness::Common),
        ] {
            assert_eq!(check(pin, &p), Err(reason), "{pin}");
        }
    }

    #[test]
    fn ordinary_pins_pass() {
        let p = policy(4, false);
        for pin in ["4831", "271828", "5923", "8052", "135792", "1235", "3141"] {
            assert_eq!(check(pin, &p), Ok(()), "{pin}");
        }
    }

    #[test]
    fn length_and_alphabet_follow_the_policy() {
        assert_eq!(
            check("4831", &policy(6, false)),
            Err(PasscodeWeakness::TooShort { min_length: 6 })
        );
        assert_eq!(check("483195", &policy(6, false)), Ok(()));
        assert_eq!(check("48a195", &policy(6, false)), Err(PasscodeWeakness::DigitsOnly));
        assert_eq!(check("48a195", &policy(6, true)), Ok(()));
        assert_eq!(check("48 195", &policy(4, true)), Err(PasscodeWeakness::InvalidCharacter));
        assert_eq!(check("48ü195", &policy(4, true)), Err(PasscodeWeakness::InvalidCharacter));
        assert_eq!(check("", &policy(4, true)), Err(PasscodeWeakness::TooShort { min_length: 4 }));
        let long = "x7".repeat(64) + "q";
        assert_eq!(
            check(&long, &policy(4, true)),
            Err(PasscodeWeakness::TooLong { max_length: 128 })
        );
    }

    #[test]
    fn alphanumeric_trivia_are_refused_too() {
        let p = policy(6, true);
        assert_eq!(check("AAAAAA", &p), Err(PasscodeWeakness::RepeatedCharacter));
        assert_eq!(check("abcdef", &p), Err(PasscodeWeakness::Sequence));
        assert_eq!(check("FEDCBA", &p), Err(PasscodeWeakness::Sequence));
        assert_eq!(check("abcabc", &p), Err(PasscodeWeakness::RepeatedPattern));
        assert_eq!(check("Password", &p), Err(PasscodeWeakness::Common));
        assert_eq!(check("tr0mb0ne!", &p), Ok(()));
    }

    #[test]
    fn every_weakness_has_a_code_and_a_message() {
        let all = [
            PasscodeWeakness::TooShort { min_length: 6 },
            PasscodeWeakness::TooLong { max_length: 128 },
            PasscodeWeakness::DigitsOnly,
            PasscodeWeakness::InvalidCharacter,
            PasscodeWeakness::RepeatedCharacter,
            PasscodeWeakness::Sequence,
            PasscodeWeakness::RepeatedPattern,
            PasscodeWeakness::Common,
            PasscodeWeakness::Unchanged,
        ];
        let codes: std::collections::HashSet<_> = all.iter().map(PasscodeWeakness::code).collect();
        assert_eq!(codes.len(), all.len());
        assert!(all.iter().all(|w| !w.to_string().is_empty()));
        assert!(COMMON.iter().all(|c| c.len() >= 4 && *c == c.to_ascii_lowercase()));
    }
}
