//! What an account is: its one-time-password generator ([`Otp`]) and its labels
//! ([`NewAccount`] before it is in a vault, [`crate::Account`] after).
//!
//! Every constructor validates, so an [`Otp`] that exists can always produce a code:
//! 6–8 digits (Steam: 5 characters), a period of 1–3600 s, a secret of 1–256 bytes.

use serde::{Deserialize, Serialize};

use crate::algorithm::{self, Algorithm, HotpKey, STEAM_DIGITS};
use crate::error::{Error, Result, echo};
use crate::secret::Secret;
use crate::time::UnixTime;

/// Shortest decimal code.
pub const MIN_DIGITS: u8 = 6;
/// Longest decimal code.
pub const MAX_DIGITS: u8 = 8;
/// Longest TOTP period, in seconds.
pub const MAX_PERIOD: u32 = 3600;
/// The usual TOTP period.
pub const DEFAULT_PERIOD: u32 = 30;
/// The usual code length.
pub const DEFAULT_DIGITS: u8 = 6;
/// Longest issuer, in characters.
pub const MAX_ISSUER_CHARS: usize = 128;
/// Longest account name, in characters.
pub const MAX_NAME_CHARS: usize = 256;
/// Longest group name, in characters.
pub const MAX_GROUP_CHARS: usize = 64;

/// The kind of generator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OtpKind {
    /// Time-based (RFC 6238).
    Totp,
    /// Counter-based (RFC 4226).
    Hotp,
    /// Steam Guard: TOTP SHA-1, 30 s, five characters.
    Steam,
}

impl OtpKind {
    /// `totp`, `hotp` or `steam`, as in otpauth URIs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Totp => "totp",
            Self::Hotp => "hotp",
            Self::Steam => "steam",
        }
    }

    /// Parses `totp`, `hotp`, `steam`, case-insensitively.
    pub fn parse(text: &str) -> Result<Self> {
        match text.to_ascii_lowercase().as_str() {
            "totp" => Ok(Self::Totp),
            "hotp" => Ok(Self::Hotp),
            "steam" => Ok(Self::Steam),
            _ => Err(Error::UnknownType { found: echo(text) }),
        }
    }
}

/// A one-time-password generator: kind, secret, algorithm, length, and the period (TOTP,
/// Steam) or the next counter (HOTP).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "OtpRecord", into = "OtpRecord")]
pub struct Otp {
    kind: OtpKind,
    secret: Secret,
    algorithm: Algorithm,
    digits: u8,
    period: u32,
    counter: u64,
}

impl Otp {
    /// A TOTP generator.
    pub fn totp(secret: Secret, algorithm: Algorithm, digits: u8, period: u32) -> Result<Self> {
        check_digits(digits)?;
        check_period(period)?;
        Ok(Self { kind: OtpKind::Totp, secret, algorithm, digits, period, counter: 0 })
    }

    /// An HOTP generator whose next code uses `counter`.
    pub fn hotp(secret: Secret, algorithm: Algorithm, digits: u8, counter: u64) -> Result<Self> {
        check_digits(digits)?;
        Ok(Self { kind: OtpKind::Hotp, secret, algorithm, digits, period: 0, counter })
    }

    /// A Steam Guard generator.
    pub fn steam(secret: Secret) -> Self {
        Self {
            kind: OtpKind::Steam,
            secret,
            algorithm: Algorithm::Sha1,
            digits: STEAM_DIGITS,
            period: DEFAULT_PERIOD,
            counter: 0,
        }
    }

    /// The kind.
    pub fn kind(&self) -> OtpKind {
        self.kind
    }

    /// The secret.
    pub fn secret(&self) -> &Secret {
        &self.secret
    }

    /// The HMAC algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Code length (5 for Steam).
    pub fn digits(&self) -> u8 {
        self.digits
    }

    /// Seconds per code, for TOTP and Steam.
    pub fn period(&self) -> Option<u32> {
        (self.kind != OtpKind::Hotp).then_some(self.period)
    }

    /// The counter of the next HOTP code.
    pub fn counter(&self) -> Option<u64> {
        (self.kind == OtpKind::Hotp).then_some(self.counter)
    }

    /// The time step at `time` (TOTP, Steam).
    pub fn step_at(&self, time: UnixTime) -> Option<u64> {
        self.period().map(|period| time.as_secs() / u64::from(period))
    }

    /// The code at `time` for TOTP and Steam; `None` for HOTP (use [`Otp::hotp_code`] and
    /// advance the counter).
    pub fn code_at(&self, time: UnixTime) -> Option<String> {
        let step = self.step_at(time)?;
        Some(self.format(HotpKey::new(self.algorithm, &self.secret).truncated(step)))
    }

    /// The code for an explicit counter (HOTP) or step (TOTP, Steam).
    pub fn hotp_code(&self, counter: u64) -> String {
        self.format(HotpKey::new(self.algorithm, &self.secret).truncated(counter))
    }

    pub(crate) fn key(&self) -> HotpKey {
        HotpKey::new(self.algorithm, &self.secret)
    }

    pub(crate) fn format(&self, truncated: u32) -> String {
        match self.kind {
            OtpKind::Steam => algorithm::steam(truncated),
            OtpKind::Totp | OtpKind::Hotp => algorithm::decimal(truncated, self.digits),
        }
    }

    /// Advances the HOTP counter; false when it cannot advance.
    pub(crate) fn advance(&mut self) -> bool {
        match self.counter.checked_add(1) {
            Some(next) if self.kind == OtpKind::Hotp => {
                self.counter = next;
                true
            }
            _ => false,
        }
    }

    /// Whether both generate the same codes (same kind, secret, algorithm, length and
    /// period; HOTP counters may differ).
    pub fn same_generator(&self, other: &Otp) -> bool {
        self.kind == other.kind
            && self.algorithm == other.algorithm
            && self.digits == other.digits
            && self.period() == other.period()
            && self.secret == other.secret
    }
}

/// Checks a decimal code length.
pub(crate) fn check_digits(digits: u8) -> Result<()> {
    if (MIN_DIGITS..=MAX_DIGITS).contains(&digits) {
        Ok(())
    } else {
        Err(Error::InvalidDigits { found: digits.to_string() })
    }
}

/// Checks a TOTP period.
pub(crate) fn check_period(period: u32) -> Result<()> {
    if (1..=MAX_PERIOD).contains(&period) {
        Ok(())
    } else {
        Err(Error::InvalidPeriod { found: period.to_string() })
    }
}

/// A decimal code length from a wider integer.
pub(crate) fn digits_from(value: u64) -> Result<u8> {
    let digits =
        u8::try_from(value).map_err(|_| Error::InvalidDigits { found: value.to_string() })?;
    check_digits(digits)?;
    Ok(digits)
}

/// A TOTP period from a wider integer.
pub(crate) fn period_from(value: u64) -> Result<u32> {
    let period =
        u32::try_from(value).map_err(|_| Error::InvalidPeriod { found: value.to_string() })?;
    check_period(period)?;
    Ok(period)
}

/// How an [`Otp`] is stored: flat, with optional period/counter.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct OtpRecord {
    #[serde(rename = "type")]
    kind: OtpKind,
    secret: Secret,
    algorithm: Algorithm,
    digits: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    period: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    counter: Option<u64>,
}

impl From<Otp> for OtpRecord {
    fn from(otp: Otp) -> Self {
        let (period, counter) = (otp.period(), otp.counter());
        Self {
            kind: otp.kind,
            secret: otp.secret,
            algorithm: otp.algorithm,
            digits: otp.digits,
            period,
            counter,
        }
    }
}

impl TryFrom<OtpRecord> for Otp {
    type Error = Error;
    fn try_from(r: OtpRecord) -> Result<Self> {
        match r.kind {
            OtpKind::Totp => {
                Otp::totp(r.secret, r.algorithm, r.digits, r.period.unwrap_or(DEFAULT_PERIOD))
            }
            OtpKind::Hotp => Otp::hotp(r.secret, r.algorithm, r.digits, r.counter.unwrap_or(0)),
            OtpKind::Steam => Ok(Otp::steam(r.secret)),
        }
    }
}

/// Something about an account that the user should look at before trusting it. It stays
/// on the account (in the vault, in exports) until the user acts on it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AccountWarning {
    /// The otpauth URI's label named another issuer than its `issuer` parameter, and the
    /// parameter was used. Some sites really do this (a renamed company), but it is also
    /// what a phishing page that imitates a known issuer in the label looks like. Editing
    /// the issuer clears it.
    IssuerMismatch {
        /// The issuer the label named (the parameter's is the account's issuer).
        label_issuer: String,
    },
}

impl AccountWarning {
    /// A stable snake_case name (`issuer_mismatch`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::IssuerMismatch { .. } => "issuer_mismatch",
        }
    }
}

impl std::fmt::Display for AccountWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::IssuerMismatch { label_issuer } => write!(
                f,
                "the QR code's label names the issuer {label_issuer:?}, its issuer parameter \
                 another; check that it really comes from this issuer"
            ),
        }
    }
}

/// An account that is not in a vault yet: what a URI or an import entry describes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAccount {
    /// Who issued it ("GitHub"), if anyone said.
    #[serde(default, deserialize_with = "blank_is_none", skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The account at the issuer ("alice@example.com"); may be empty if there is an issuer.
    pub name: String,
    /// An optional group ("Work").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The generator.
    pub otp: Otp,
    /// What the user should look at (see [`AccountWarning`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<AccountWarning>,
}

impl NewAccount {
    /// An account with cleaned and checked labels (see [`clean_label`]); a blank issuer is
    /// no issuer, and without an issuer `issuer:name` in the name is split as in an otpauth
    /// label.
    pub fn new(issuer: &str, name: &str, group: Option<&str>, otp: Otp) -> Result<Self> {
        // Without an issuer, the name is read the way its otpauth label would be: the part
        // before a ':' is the issuer. Then every account survives its own URI unchanged
        // ("Bank: bob" or "::bob" would otherwise come back as other labels).
        let (mut issuer, mut name) = (issuer.trim(), name.trim());
        while issuer.is_empty()
            && let Some((before, after)) = name.split_once(':')
        {
            (issuer, name) = (before.trim(), after.trim());
        }
        let issuer = clean_issuer(Some(issuer))?;
        let name = clean_label("name", name, MAX_NAME_CHARS)?;
        if issuer.is_none() && name.is_empty() {
            return Err(Error::MissingLabel);
        }
        let group = clean_group(group)?;
        Ok(Self { issuer, name, group, otp, warnings: vec![] })
    }

    /// `issuer:name`, or whichever of them there is: what a list shows.
    pub fn label(&self) -> String {
        label(self.issuer.as_deref().unwrap_or(""), &self.name)
    }
}

/// Reads an absent, null or blank issuer as `None` (vaults and exports written before the
/// issuer was optional have `""`).
pub(crate) fn blank_is_none<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> std::result::Result<Option<String>, D::Error> {
    let text: Option<String> = Option::deserialize(deserializer)?;
    Ok(text.filter(|t| !t.trim().is_empty()))
}

/// An account described field by field (an "enter the key manually" form). Borrowed, so
/// that the caller keeps (and zeroizes) the secret text.
#[derive(Clone, Copy)]
pub struct AccountFields<'a> {
    /// Who issued it; may be absent (or blank) if `name` is not empty.
    pub issuer: Option<&'a str>,
    /// The account at the issuer; may be empty if `issuer` is not.
    pub name: &'a str,
    /// An optional group.
    pub group: Option<&'a str>,
    /// The secret in base32 (lenient: case, spaces, padding).
    pub secret: &'a str,
    /// TOTP, HOTP or Steam.
    pub kind: OtpKind,
    /// The HMAC algorithm (ignored for Steam).
    pub algorithm: Algorithm,
    /// Code length, 6–8 (default 6; ignored for Steam).
    pub digits: Option<u8>,
    /// TOTP period, 1–3600 s (default 30).
    pub period: Option<u32>,
    /// HOTP counter (default 0: a form shows it, unlike a URI that leaves it out).
    pub counter: Option<u64>,
}

impl std::fmt::Debug for AccountFields<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountFields")
            .field("issuer", &self.issuer)
            .field("name", &self.name)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl AccountFields<'_> {
    /// The account, checked like one from a URI.
    pub fn to_account(&self) -> Result<NewAccount> {
        let secret = Secret::from_base32(self.secret)?;
        let digits = self.digits.unwrap_or(DEFAULT_DIGITS);
        let otp = match self.kind {
            OtpKind::Totp => {
                Otp::totp(secret, self.algorithm, digits, self.period.unwrap_or(DEFAULT_PERIOD))?
            }
            OtpKind::Hotp => Otp::hotp(secret, self.algorithm, digits, self.counter.unwrap_or(0))?,
            OtpKind::Steam => Otp::steam(secret),
        };
        NewAccount::new(self.issuer.unwrap_or(""), self.name, self.group, otp)
    }
}

/// `issuer:name`, or the one that is not empty.
pub(crate) fn label(issuer: &str, name: &str) -> String {
    match (issuer.is_empty(), name.is_empty()) {
        (false, false) => format!("{issuer}:{name}"),
        (false, true) => issuer.to_owned(),
        _ => name.to_owned(),
    }
}

/// Trims a label and checks its length and that it has no control characters.
pub fn clean_label(field: &'static str, text: &str, max_chars: usize) -> Result<String> {
    let trimmed = text.trim();
    if trimmed.chars().count() > max_chars {
        return Err(Error::InvalidLabel {
            field,
            reason: format!("at most {max_chars} characters"),
        });
    }
    if trimmed.chars().any(char::is_control) {
        return Err(Error::InvalidLabel {
            field,
            reason: "control characters are not allowed".to_owned(),
        });
    }
    Ok(trimmed.to_owned())
}

/// An issuer: trimmed and checked; absent or blank means none.
pub(crate) fn clean_issuer(issuer: Option<&str>) -> Result<Option<String>> {
    let issuer = clean_label("issuer", issuer.unwrap_or(""), MAX_ISSUER_CHARS)?;
    Ok((!issuer.is_empty()).then_some(issuer))
}

/// A group name: trimmed, empty means none.
pub(crate) fn clean_group(group: Option<&str>) -> Result<Option<String>> {
    match group {
        None => Ok(None),
        Some(g) => {
            let g = clean_label("group", g, MAX_GROUP_CHARS)?;
            Ok((!g.is_empty()).then_some(g))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> Secret {
        Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap()
    }

    #[test]
    fn constructors_check_digits_and_period() {
        assert!(Otp::totp(secret(), Algorithm::Sha1, 6, 30).is_ok());
        assert!(Otp::totp(secret(), Algorithm::Sha1, 8, 3600).is_ok());
        assert!(Otp::totp(secret(), Algorithm::Sha1, 8, 1).is_ok());
        for digits in [0, 5, 9, 12] {
            assert!(
                matches!(
                    Otp::totp(secret(), Algorithm::Sha1, digits, 30),
                    Err(Error::InvalidDigits { .. })
                ),
                "{digits}"
            );
            assert!(
                matches!(
                    Otp::hotp(secret(), Algorithm::Sha1, digits, 0),
                    Err(Error::InvalidDigits { .. })
                ),
                "{digits}"
            );
        }
        for period in [0, 3601] {
            assert!(
                matches!(
                    Otp::totp(secret(), Algorithm::Sha1, 6, period),
                    Err(Error::InvalidPeriod { .. })
                ),
                "{period}"
            );
        }
        assert_eq!(digits_from(12), Err(Error::InvalidDigits { found: "12".into() }));
        assert_eq!(digits_from(300), Err(Error::InvalidDigits { found: "300".into() }));
        assert_eq!(
            period_from(1 << 40),
            Err(Error::InvalidPeriod { found: (1u64 << 40).to_string() })
        );
    }

    #[test]
    fn hotp_has_no_time_code_and_advances() {
        let mut otp = Otp::hotp(secret(), Algorithm::Sha1, 6, 7).unwrap();
        assert_eq!(otp.code_at(UnixTime::from_secs(100)), None);
        assert_eq!(otp.period(), None);
        assert_eq!(otp.counter(), Some(7));
        assert!(otp.advance());
        assert_eq!(otp.counter(), Some(8));
        let mut last = Otp::hotp(secret(), Algorithm::Sha1, 6, u64::MAX).unwrap();
        assert!(!last.advance());
        let mut totp = Otp::totp(secret(), Algorithm::Sha1, 6, 30).unwrap();
        assert!(!totp.advance());
    }

    #[test]
    fn steam_is_fixed_sha1_five_characters_thirty_seconds() {
        let otp = Otp::steam(secret());
        assert_eq!((otp.algorithm(), otp.digits(), otp.period()), (Algorithm::Sha1, 5, Some(30)));
        assert_eq!(otp.code_at(UnixTime::EPOCH).unwrap().len(), 5);
    }

    #[test]
    fn stored_generators_are_validated_on_load() {
        let otp = Otp::totp(secret(), Algorithm::Sha256, 8, 60).unwrap();
        let json = serde_json::to_string(&otp).unwrap();
        assert_eq!(
            json,
            r#"{"type":"totp","secret":"JBSWY3DPEHPK3PXP","algorithm":"SHA256","digits":8,"period":60}"#
        );
        assert_eq!(serde_json::from_str::<Otp>(&json).unwrap(), otp);
        let hotp = Otp::hotp(secret(), Algorithm::Sha1, 6, 5).unwrap();
        assert_eq!(
            serde_json::from_str::<Otp>(&serde_json::to_string(&hotp).unwrap()).unwrap(),
            hotp
        );
        assert!(
            serde_json::from_str::<Otp>(
                r#"{"type":"totp","secret":"JBSWY3DP","algorithm":"SHA1","digits":12}"#
            )
            .is_err()
        );
        assert!(
            serde_json::from_str::<Otp>(
                r#"{"type":"totp","secret":"JBSWY3DP","algorithm":"SHA1","digits":6,"period":0}"#
            )
            .is_err()
        );
    }

    #[test]
    fn fields_are_checked_like_a_uri() {
        let fields = AccountFields {
            issuer: Some("Bank"),
            name: "me",
            group: Some("Money"),
            secret: "jbsw y3dp ehpk 3pxp",
            kind: OtpKind::Hotp,
            algorithm: Algorithm::Sha256,
            digits: Some(8),
            period: None,
            counter: Some(4),
        };
        let account = fields.to_account().unwrap();
        assert_eq!(
            (account.otp.counter(), account.otp.digits(), account.group.as_deref()),
            (Some(4), 8, Some("Money"))
        );
        assert!(!format!("{fields:?}").contains("jbsw"));
        assert!(matches!(
            AccountFields { digits: Some(12), ..fields }.to_account(),
            Err(Error::InvalidDigits { .. })
        ));
        assert!(matches!(
            AccountFields { kind: OtpKind::Totp, period: Some(0), ..fields }.to_account(),
            Err(Error::InvalidPeriod { .. })
        ));
        assert_eq!(AccountFields { secret: "", ..fields }.to_account(), Err(Error::MissingSecret));
        let steam = AccountFields { kind: OtpKind::Steam, digits: Some(12), ..fields }
            .to_account()
            .unwrap();
        assert_eq!(steam.otp.digits(), 5, "Steam ignores the length");
    }

    #[test]
    fn labels_are_trimmed_and_bounded() {
        let otp = Otp::totp(secret(), Algorithm::Sha1, 6, 30).unwrap();
        let account = NewAccount::new(" GitHub ", " alice ", Some("  "), otp.clone()).unwrap();
        assert_eq!(
            (account.issuer.as_deref(), account.name.as_str(), account.group.as_deref()),
            (Some("GitHub"), "alice", None)
        );
        assert_eq!(account.label(), "GitHub:alice");
        let bare = NewAccount::new("  ", "alice", None, otp.clone()).unwrap();
        assert_eq!((bare.label(), bare.issuer), ("alice".to_owned(), None), "blank is absent");
        assert_eq!(NewAccount::new("", "", None, otp.clone()), Err(Error::MissingLabel));
        assert!(matches!(
            NewAccount::new(&"x".repeat(129), "a", None, otp.clone()),
            Err(Error::InvalidLabel { field: "issuer", .. })
        ));
        assert!(matches!(
            NewAccount::new("a", "b\u{7}", None, otp.clone()),
            Err(Error::InvalidLabel { field: "name", .. })
        ));
        assert!(matches!(
            NewAccount::new("a", "b", Some(&"g".repeat(65)), otp),
            Err(Error::InvalidLabel { field: "group", .. })
        ));
    }
}
