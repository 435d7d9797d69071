//! Checking a code that someone typed: what a server does with its users' authenticator
//! codes (the twostep server verifies TOTP codes with this).
//!
//! A code is accepted within a window of steps around now, to allow for clocks that
//! disagree and for the time it takes to type. Every candidate in the window is computed
//! and compared, each comparison in constant time and without stopping at the first
//! match, so the time taken says nothing about which step matched or how much of the code
//! was right. The matched step is returned: a server must refuse a step that is not newer
//! than the last one it accepted for this user (replay).

use crate::account::Otp;
use crate::time::UnixTime;

/// The widest window [`Otp::verify`] searches, in steps either side.
pub const MAX_WINDOW: u64 = 10;

impl Otp {
    /// The step (TOTP, Steam) within `window` steps either side of the step at `now`
    /// whose code is `code`; the newest such step if several match. `None` for a wrong
    /// code, a code of the wrong length, and for HOTP accounts (no time steps). The window
    /// is at most [`MAX_WINDOW`] steps.
    pub fn verify(&self, code: &str, now: UnixTime, window: u64) -> Option<u64> {
        let current = self.step_at(now)?;
        let window = window.min(MAX_WINDOW);
        if code.len() != usize::from(self.digits()) {
            return None;
        }
        let key = self.key();
        let mut found = None;
        for step in current.saturating_sub(window)..=current.saturating_add(window) {
            let candidate = self.format(key.truncated(step));
            if constant_time_eq(candidate.as_bytes(), code.as_bytes()) {
                found = Some(step);
            }
        }
        found
    }
}

/// Equality of two byte strings of public length, in time independent of their contents.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len()
        && std::hint::black_box(a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y))) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::algorithm::Algorithm;
    use crate::secret::Secret;

    fn rfc() -> Otp {
        Otp::totp(Secret::from_bytes(b"12345678901234567890").unwrap(), Algorithm::Sha1, 6, 30)
            .unwrap()
    }

    #[test]
    fn codes_within_the_window_match_their_own_step() {
        let otp = rfc();
        let now = UnixTime::from_secs(1_700_000_000);
        let step = now.as_secs() / 30;
        for offset in [-1i64, 0, 1] {
            let code = otp.code_at(now.add_signed_secs(offset * 30)).unwrap();
            assert_eq!(otp.verify(&code, now, 1), Some(step.checked_add_signed(offset).unwrap()));
        }
        let two_back = otp.code_at(now.add_signed_secs(-60)).unwrap();
        assert_eq!(otp.verify(&two_back, now, 1), None);
        assert_eq!(otp.verify(&two_back, now, 2), Some(step - 2));
        // RFC 6238's SHA-1 vector at T = 59, six digits.
        assert_eq!(otp.verify("287082", UnixTime::from_secs(59), 0), Some(1));
    }

    #[test]
    fn wrong_lengths_letters_and_hotp_never_match() {
        let otp = rfc();
        let now = UnixTime::from_secs(59);
        for bad in ["", "28708", "2870820", "28708a", "２８７０８２"] {
            assert_eq!(otp.verify(bad, now, 1), None, "{bad:?}");
        }
        let hotp = Otp::hotp(Secret::from_bytes(b"x").unwrap(), Algorithm::Sha1, 6, 0).unwrap();
        assert_eq!(hotp.verify("755224", now, 1), None);
        assert_eq!(otp.verify("287082", UnixTime::EPOCH, u64::MAX), Some(1), "bounded window");
    }

    #[test]
    fn byte_comparison() {
        assert!(constant_time_eq(b"123456", b"123456"));
        assert!(!constant_time_eq(b"123456", b"123457"));
        assert!(!constant_time_eq(b"12345", b"123456"));
    }
}
