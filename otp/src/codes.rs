//! Every account's code at one moment, in one call: what the authenticator screen shows.
//!
//! The device clock may be wrong. A [`ClockCorrection`] (measured against the twostep
//! server, or set by the user) is added to `now` before any code is computed, and the
//! list says when the correction is large enough (over 15 s) that the user should fix
//! the device clock.
//!
//! HOTP accounts get no code here: showing one would spend a counter value without
//! recording it. Their code comes from [`crate::Vault::next_hotp`], which advances the
//! counter.

use serde::{Deserialize, Serialize};

use crate::account::OtpKind;
use crate::time::UnixTime;
use crate::vault::{Account, AccountId};

/// Above this correction (either way) the list carries a warning.
pub const OFFSET_WARNING_MS: i64 = 15_000;

/// Largest correction accepted, either way: one day.
pub const MAX_OFFSET_MS: i64 = 86_400_000;

/// Where a clock correction comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OffsetSource {
    /// No correction.
    #[default]
    None,
    /// Measured against the twostep server.
    Server,
    /// Set by the user.
    User,
}

/// A correction of the device clock: true time = device time + `offset_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ClockCorrection {
    /// Milliseconds to add to the device clock (clamped to ±[`MAX_OFFSET_MS`]).
    pub offset_ms: i64,
    /// Where it comes from.
    pub source: OffsetSource,
}

impl ClockCorrection {
    /// No correction.
    pub const NONE: Self = Self { offset_ms: 0, source: OffsetSource::None };

    /// `now` (device time) corrected, in whole seconds.
    pub fn apply(self, now: UnixTime) -> UnixTime {
        let offset = self.offset_ms.clamp(-MAX_OFFSET_MS, MAX_OFFSET_MS);
        let millis = i128::from(now.as_secs()) * 1000 + i128::from(offset);
        UnixTime::from_secs(u64::try_from(millis.max(0) / 1000).unwrap_or(u64::MAX))
    }

    /// Whether the device clock is off by more than [`OFFSET_WARNING_MS`].
    pub fn warning(self) -> bool {
        // `unsigned_abs`: `i64::MIN.abs()` overflows (a panic in debug builds, a negative
        // number and no warning in release builds).
        self.offset_ms.unsigned_abs() > OFFSET_WARNING_MS.unsigned_abs()
    }
}

/// One account's line on the screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountCode {
    /// The account.
    pub id: AccountId,
    /// Its kind.
    pub kind: OtpKind,
    /// The current code (`None` for HOTP).
    pub code: Option<String>,
    /// The code of the next period (`None` for HOTP).
    pub next_code: Option<String>,
    /// Seconds until `code` expires, 1..=period (0 for HOTP).
    pub seconds_remaining: u32,
    /// The period (0 for HOTP).
    pub period: u32,
    /// The counter the next HOTP code will use (`None` for TOTP and Steam).
    pub counter: Option<u64>,
}

/// Every account's code at one moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeList {
    /// The corrected time the codes are for.
    pub time: UnixTime,
    /// The correction applied.
    pub correction: ClockCorrection,
    /// The device clock is off by more than 15 s: suggest fixing it.
    pub offset_warning: bool,
    /// One entry per account, in vault order.
    pub codes: Vec<AccountCode>,
}

/// The codes of `accounts` at device time `now`, corrected.
pub fn codes<'a>(
    accounts: impl IntoIterator<Item = &'a Account>,
    now: UnixTime,
    correction: ClockCorrection,
) -> CodeList {
    let time = correction.apply(now);
    let accounts = accounts.into_iter();
    let mut codes = Vec::with_capacity(accounts.size_hint().0);
    for account in accounts {
        codes.push(code_for(account, time));
    }
    CodeList { time, correction, offset_warning: correction.warning(), codes }
}

/// One account's code at corrected time `time`.
pub fn code_for(account: &Account, time: UnixTime) -> AccountCode {
    let otp = &account.otp;
    match otp.period() {
        Some(period) => {
            let step = time.as_secs() / u64::from(period);
            let key = otp.key();
            let elapsed = (time.as_secs() % u64::from(period)) as u32;
            AccountCode {
                id: account.id,
                kind: otp.kind(),
                code: Some(otp.format(key.truncated(step))),
                next_code: Some(otp.format(key.truncated(step.wrapping_add(1)))),
                seconds_remaining: period - elapsed,
                period,
                counter: None,
            }
        }
        None => AccountCode {
            id: account.id,
            kind: otp.kind(),
            code: None,
            next_code: None,
            seconds_remaining: 0,
            period: 0,
            counter: otp.counter(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::{NewAccount, Otp};
    use crate::algorithm::Algorithm;
    use crate::secret::Secret;
    use crate::vault::Vault;

    fn vault() -> Vault {
        let rfc = Secret::from_bytes(b"12345678901234567890").unwrap();
        let mut vault = Vault::new();
        vault
            .add(
                NewAccount::new(
                    "A",
                    "totp",
                    None,
                    Otp::totp(rfc.clone(), Algorithm::Sha1, 8, 30).unwrap(),
                )
                .unwrap(),
            )
            .unwrap();
        vault
            .add(
                NewAccount::new(
                    "B",
                    "hotp",
                    None,
                    Otp::hotp(Secret::from_bytes(b"x").unwrap(), Algorithm::Sha1, 6, 3).unwrap(),
                )
                .unwrap(),
            )
            .unwrap();
        vault
            .add(
                NewAccount::new(
                    "C",
                    "60s",
                    None,
                    Otp::totp(Secret::from_bytes(b"y").unwrap(), Algorithm::Sha1, 6, 60).unwrap(),
                )
                .unwrap(),
            )
            .unwrap();
        vault
    }

    #[test]
    fn codes_next_codes_and_countdowns() {
        let vault = vault();
        let at = UnixTime::from_secs;
        let list = codes(vault.accounts(), at(59), ClockCorrection::NONE);
        assert_eq!(list.time, at(59));
        assert!(!list.offset_warning);
        let a = &list.codes[0];
        assert_eq!(a.code.as_deref(), Some("94287082"), "RFC 6238 at T=59");
        let rfc = Secret::from_bytes(b"12345678901234567890").unwrap();
        assert_eq!(a.next_code, Some(crate::algorithm::totp(Algorithm::Sha1, &rfc, at(60), 30, 8)));
        assert_eq!(a.seconds_remaining, 1);
        assert_eq!(a.period, 30);
        let b = &list.codes[1];
        assert_eq!((b.code.as_ref(), b.counter, b.seconds_remaining), (None, Some(3), 0));
        assert_eq!(list.codes[2].seconds_remaining, 1);
        let list = codes(vault.accounts(), at(60), ClockCorrection::NONE);
        assert_eq!(list.codes[0].seconds_remaining, 30);
        assert_eq!(list.codes[2].seconds_remaining, 60);
    }

    #[test]
    fn the_next_code_is_the_code_one_period_later() {
        let vault = vault();
        for now in [0u64, 29, 30, 59, 1_700_000_000] {
            let here = codes(vault.accounts(), UnixTime::from_secs(now), ClockCorrection::NONE);
            let later =
                codes(vault.accounts(), UnixTime::from_secs(now + 30), ClockCorrection::NONE);
            assert_eq!(here.codes[0].next_code, later.codes[0].code, "at {now}");
        }
    }

    #[test]
    fn the_correction_moves_time_and_warns_past_fifteen_seconds() {
        let vault = vault();
        let server = |offset_ms| ClockCorrection { offset_ms, source: OffsetSource::Server };
        let at = UnixTime::from_secs;
        let ahead = codes(vault.accounts(), at(50), server(9_000));
        assert_eq!(ahead.time, at(59));
        assert_eq!(ahead.codes[0].code.as_deref(), Some("94287082"));
        assert!(!ahead.offset_warning);
        assert!(!codes(vault.accounts(), at(50), server(15_000)).offset_warning);
        assert!(codes(vault.accounts(), at(50), server(15_001)).offset_warning);
        assert!(codes(vault.accounts(), at(50), server(-15_001)).offset_warning);
        // Sub-second offsets round down; time never goes below zero.
        assert_eq!(server(-1).apply(at(10)), at(9));
        assert_eq!(server(999).apply(at(10)), at(10));
        assert_eq!(server(-60_000).apply(at(10)), at(0));
        assert_eq!(server(i64::MAX).apply(at(0)), at(86_400));
    }

    #[test]
    fn extreme_corrections_warn_without_overflowing() {
        // Found by the `otpauth_uri` fuzz target: `warning` negated `i64::MIN`.
        let vault = vault();
        for offset_ms in [i64::MIN, i64::MIN + 1, i64::MAX] {
            let list = codes(
                vault.accounts(),
                UnixTime::from_secs(1_700_000_000),
                ClockCorrection { offset_ms, source: OffsetSource::User },
            );
            assert!(list.offset_warning, "{offset_ms}");
            assert_eq!(list.codes.len(), 3);
        }
        let earliest = ClockCorrection { offset_ms: i64::MIN, source: OffsetSource::User };
        assert_eq!(earliest.apply(UnixTime::EPOCH), UnixTime::EPOCH);
    }
}
