//! Google's Key Uri Format: `otpauth://TYPE/LABEL?PARAMETERS`.
//!
//! ```text
//! otpauth://totp/ACME%20Co:john@example.com?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30
//! ```
//!
//! Lenient where real issuers are: the scheme, type, parameter names and the algorithm
//! are case-insensitive; the secret may be lower case, unpadded or grouped with spaces;
//! the label separator may be `:` or `%3A`, with spaces after it; `+` in a parameter
//! value is a space; unknown parameters (`image`, `color`, ...) are ignored. Steam Guard
//! accounts are `otpauth://steam/...` or a TOTP URI with `encoder=steam`.
//!
//! Strict where it matters: a missing or bad secret (also one whose length no encoder
//! writes), digits other than 6–8, a period outside 1–3600, an HOTP URI without its
//! counter, an unknown type or algorithm, a repeated parameter, invalid percent-encoding or
//! an oversized URI are typed errors.
//!
//! Nothing is changed silently. An absent issuer stays absent. When the label names an
//! issuer and the `issuer` parameter names another, the parameter wins (as the format
//! says, and some real sites do send such URIs) and the account carries
//! [`AccountWarning::IssuerMismatch`] for the user to see, because a label that imitates a
//! known issuer is also what a phishing page sends. An HOTP URI without `counter` is
//! refused ([`Error::MissingCounter`]): the format requires it, and guessing 0 would leave
//! the user's codes out of step with the issuer for good.

use zeroize::Zeroizing;

use crate::account::{
    self, AccountWarning, DEFAULT_DIGITS, DEFAULT_PERIOD, NewAccount, Otp, OtpKind,
};
use crate::algorithm::Algorithm;
use crate::error::{Error, Result, echo};
use crate::secret::Secret;

/// Longest URI accepted, in bytes (issuers add logos as `image=` URLs).
pub const MAX_URI_BYTES: usize = 4096;

/// The parameters this parser reads; any other is ignored.
const KNOWN: [&str; 7] =
    ["secret", "issuer", "algorithm", "digits", "period", "counter", "encoder"];

/// Parses one `otpauth://` URI.
pub fn parse(uri: &str) -> Result<NewAccount> {
    if uri.len() > MAX_URI_BYTES {
        return Err(Error::TooLarge { what: "otpauth URI", max: MAX_URI_BYTES });
    }
    let uri = uri.trim();
    let rest = strip_prefix_ignore_case(uri, "otpauth://").ok_or_else(|| {
        if strip_prefix_ignore_case(uri, "otpauth-migration://").is_some() {
            Error::MigrationUri
        } else {
            Error::NotOtpauth
        }
    })?;
    // A fragment cannot be part of any value we read.
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    let (type_and_label, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (kind, label) = type_and_label
        .split_once('/')
        .ok_or(Error::MalformedUri { reason: "no label after the type" })?;
    let mut kind = OtpKind::parse(kind)?;
    let label = percent_decode(label, false)
        .map_err(|()| Error::InvalidPercentEncoding { part: "label".to_owned() })?;

    let params = Params::parse(query)?;
    if params.get("encoder").is_some_and(|e| e.eq_ignore_ascii_case("steam"))
        && kind == OtpKind::Totp
    {
        kind = OtpKind::Steam;
    }
    let secret_text =
        params.get("secret").filter(|s| !s.trim().is_empty()).ok_or(Error::MissingSecret)?;
    let secret = Secret::from_base32(secret_text)?;
    let algorithm = params.get("algorithm").map(Algorithm::parse).transpose()?.unwrap_or_default();
    let digits = params
        .get("digits")
        .map(|d| parse_number(d).map_err(|()| Error::InvalidDigits { found: echo(d) }));
    let otp = match kind {
        OtpKind::Totp => {
            let period = match params.get("period") {
                Some(p) => account::period_from(
                    parse_number(p).map_err(|()| Error::InvalidPeriod { found: echo(p) })?,
                )?,
                None => DEFAULT_PERIOD,
            };
            Otp::totp(secret, algorithm, digits_or_default(digits)?, period)?
        }
        OtpKind::Hotp => {
            let digits = digits_or_default(digits)?;
            let counter = params.get("counter").ok_or(Error::MissingCounter)?;
            let counter = parse_number(counter)
                .map_err(|()| Error::InvalidCounter { found: echo(counter) })?;
            Otp::hotp(secret, algorithm, digits, counter)?
        }
        // Steam's algorithm, length and period are fixed; apps write various values.
        OtpKind::Steam => Otp::steam(secret),
    };

    let (issuer, name, warning) = split_label(&label, params.get("issuer"));
    let mut account = NewAccount::new(issuer.as_deref().unwrap_or(""), &name, None, otp)?;
    account.warnings.extend(warning);
    Ok(account)
}

/// Writes an account as an `otpauth://` URI (the secret inside: zeroized on drop).
///
/// The label is `issuer:name` (or just the name) and the `issuer` parameter is repeated,
/// as Google recommends; every parameter is written explicitly. The server's enrollment
/// QR code is written here too.
pub fn to_uri(issuer: Option<&str>, name: &str, otp: &Otp) -> Zeroizing<String> {
    let issuer = issuer.filter(|i| !i.is_empty());
    let issuer_len = issuer.map_or(0, str::len);
    let mut out = Zeroizing::new(String::with_capacity(128 + issuer_len * 2 + name.len()));
    out.push_str("otpauth://");
    out.push_str(otp.kind().as_str());
    out.push('/');
    if let Some(issuer) = issuer {
        percent_encode_into(&mut out, issuer);
        out.push(':');
    }
    percent_encode_into(&mut out, name);
    out.push_str("?secret=");
    out.push_str(&otp.secret().to_base32());
    if let Some(issuer) = issuer {
        out.push_str("&issuer=");
        percent_encode_into(&mut out, issuer);
    }
    if otp.kind() != OtpKind::Steam {
        out.push_str("&algorithm=");
        out.push_str(otp.algorithm().as_str());
        out.push_str("&digits=");
        out.push_str(&otp.digits().to_string());
    }
    if let Some(counter) = otp.counter() {
        out.push_str("&counter=");
        out.push_str(&counter.to_string());
    } else if let (Some(period), true) = (otp.period(), otp.kind() == OtpKind::Totp) {
        out.push_str("&period=");
        out.push_str(&period.to_string());
    }
    out
}

/// The decoded label of something that looks like an otpauth URI, shortened: to name a
/// bad line in an import without its secret.
pub(crate) fn label_hint(uri: &str) -> Option<String> {
    let (scheme, rest) = uri.trim().split_once("://")?;
    // Only a real scheme before "://": a "://" further on (in a parameter such as
    // `image=https://...`) would make the "label" part of the query, secret included.
    if scheme.is_empty() || !scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    {
        return None;
    }
    let label = rest.split(['?', '#']).next()?.split_once('/')?.1;
    let decoded = percent_decode(label, false).ok()?;
    let hint: String = decoded
        .trim()
        .chars()
        .filter(|c| !c.is_control())
        .take(account::MAX_ISSUER_CHARS)
        .collect();
    (!hint.is_empty()).then_some(hint)
}

/// Issuer and name from the decoded label and the `issuer` parameter, and the warning when
/// the two name different issuers (the parameter wins).
fn split_label(
    label: &str,
    issuer_param: Option<&str>,
) -> (Option<String>, String, Option<AccountWarning>) {
    let issuer_param = issuer_param.map(str::trim).filter(|i| !i.is_empty());
    let Some(issuer) = issuer_param else {
        return match label.split_once(':') {
            Some((issuer, name)) => {
                let issuer = issuer.trim();
                ((!issuer.is_empty()).then(|| issuer.to_owned()), name.trim().to_owned(), None)
            }
            None => (None, label.trim().to_owned(), None),
        };
    };
    // "Issuer:name" where the issuer itself may contain a colon.
    if let Some(name) =
        label.strip_prefix(issuer).and_then(|rest| rest.trim_start().strip_prefix(':'))
    {
        return (Some(issuer.to_owned()), name.trim().to_owned(), None);
    }
    match label.split_once(':') {
        Some((prefix, name)) => {
            let prefix = prefix.trim();
            let warning = (!prefix.is_empty() && !prefix.eq_ignore_ascii_case(issuer))
                .then(|| AccountWarning::IssuerMismatch { label_issuer: prefix.to_owned() });
            (Some(issuer.to_owned()), name.trim().to_owned(), warning)
        }
        None => (Some(issuer.to_owned()), label.trim().to_owned(), None),
    }
}

fn digits_or_default(digits: Option<Result<u64>>) -> Result<u8> {
    match digits {
        None => Ok(DEFAULT_DIGITS),
        Some(parsed) => account::digits_from(parsed?),
    }
}

/// A decimal number (leading/trailing spaces allowed).
fn parse_number(text: &str) -> std::result::Result<u64, ()> {
    let t = text.trim();
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return Err(());
    }
    t.parse().map_err(|_| ())
}

/// The query's known parameters, decoded.
struct Params(Vec<(&'static str, Zeroizing<String>)>);

impl Params {
    fn parse(query: &str) -> Result<Self> {
        let mut found: Vec<(&'static str, Zeroizing<String>)> = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let key_lower = key.to_ascii_lowercase();
            let Some(known) = KNOWN.iter().find(|k| **k == key_lower) else { continue };
            if found.iter().any(|(k, _)| k == known) {
                return Err(Error::DuplicateParameter { name: (*known).to_owned() });
            }
            let decoded = percent_decode(value, true)
                .map_err(|()| Error::InvalidPercentEncoding { part: (*known).to_owned() })?;
            found.push((known, decoded));
        }
        Ok(Self(found))
    }

    fn get(&self, key: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| *k == key).map(|(_, v)| v.as_str())
    }
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &text[prefix.len()..])
}

/// Decodes `%XX` escapes (and `+` as a space when `plus_is_space`); the result must be
/// UTF-8.
fn percent_decode(text: &str, plus_is_space: bool) -> std::result::Result<Zeroizing<String>, ()> {
    let bytes = text.as_bytes();
    let mut out = Zeroizing::new(Vec::with_capacity(bytes.len()));
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).ok_or(())?;
                let hi = (hex[0] as char).to_digit(16).ok_or(())?;
                let lo = (hex[1] as char).to_digit(16).ok_or(())?;
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    let text = std::str::from_utf8(&out).map_err(|_| ())?;
    Ok(Zeroizing::new(text.to_owned()))
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn percent_encode_into(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_coding_round_trips() {
        let mut out = String::new();
        percent_encode_into(&mut out, "ACME Co:ü/?&=+%");
        assert_eq!(out, "ACME%20Co%3A%C3%BC%2F%3F%26%3D%2B%25");
        assert_eq!(percent_decode(&out, false).unwrap().as_str(), "ACME Co:ü/?&=+%");
        assert_eq!(percent_decode("a+b", true).unwrap().as_str(), "a b");
        assert_eq!(percent_decode("a+b", false).unwrap().as_str(), "a+b");
        assert!(percent_decode("%4", false).is_err());
        assert!(percent_decode("%zz", false).is_err());
        assert!(percent_decode("%C3", false).is_err(), "not UTF-8");
    }

    #[test]
    fn labels_split_on_the_first_colon_and_a_differing_issuer_parameter_wins_with_a_warning() {
        let plain =
            |issuer: Option<&str>, name: &str| (issuer.map(str::to_owned), name.to_owned(), None);
        assert_eq!(split_label("ACME:john", None), plain(Some("ACME"), "john"));
        assert_eq!(split_label("ACME: john", None), plain(Some("ACME"), "john"));
        assert_eq!(split_label("john", None), plain(None, "john"), "absent, not empty");
        assert_eq!(split_label(" :john", None), plain(None, "john"));
        assert_eq!(split_label("john", Some("ACME")), plain(Some("ACME"), "john"));
        assert_eq!(split_label("acme:john", Some("ACME")), plain(Some("ACME"), "john"));
        assert_eq!(split_label("A:B:john", Some("A:B")), plain(Some("A:B"), "john"));
        assert_eq!(split_label("ACME:john", Some("  ")), plain(Some("ACME"), "john"));
        assert_eq!(
            split_label("Google:john", Some("Evil")),
            (
                Some("Evil".to_owned()),
                "john".to_owned(),
                Some(AccountWarning::IssuerMismatch { label_issuer: "Google".into() })
            )
        );
    }
}
