//! RFC 6238 TOTP (SHA-1, 6 digits, 30 s) for the authenticator-app channel.
//!
//! Time is a parameter. Verification checks the steps t-1, t, t+1 and returns the step
//! that matched, so the caller can refuse any step not newer than the last one accepted.

use ring::hmac;

/// Step length in seconds.
pub const PERIOD: u64 = 30;
/// Code length.
pub const DIGITS: u32 = 6;

/// The HOTP value for `counter` (RFC 4226, SHA-1, dynamic truncation).
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, secret);
    let mac = hmac::sign(&key, &counter.to_be_bytes());
    let m = mac.as_ref();
    let off = (m[m.len() - 1] & 0x0f) as usize;
    let bin = (u32::from(m[off] & 0x7f) << 24)
        | (u32::from(m[off + 1]) << 16)
        | (u32::from(m[off + 2]) << 8)
        | u32::from(m[off + 3]);
    format!("{:0width$}", bin % 10u32.pow(digits), width = digits as usize)
}

/// The code at a Unix time.
pub fn code_at(secret: &[u8], unix_secs: u64) -> String {
    hotp(secret, unix_secs / PERIOD, DIGITS)
}

/// The step whose code equals `code` within ±1 step of `unix_secs`, newest first on ties.
pub fn matching_step(secret: &[u8], code: &str, unix_secs: u64) -> Option<u64> {
    if code.len() != DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = unix_secs / PERIOD;
    let mut found = None;
    for step in [now.saturating_sub(1), now, now + 1] {
        if crate::crypto::constant_time_eq(hotp(secret, step, DIGITS).as_bytes(), code.as_bytes()) {
            found = Some(step);
        }
    }
    found
}

/// `otpauth://totp/Issuer:account?secret=...&issuer=...` (Google's Key Uri Format).
pub fn otpauth_uri(issuer: &str, account: &str, secret_b32: &str) -> String {
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={}&period={}",
        percent_encode(issuer),
        percent_encode(account),
        secret_b32,
        percent_encode(issuer),
        DIGITS,
        PERIOD
    )
}

fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The URI as a QR code in an SVG document.
pub fn qr_svg(text: &str) -> Option<String> {
    let qr = qrcodegen::QrCode::encode_text(text, qrcodegen::QrCodeEcc::Medium).ok()?;
    let size = qr.size();
    let border = 4;
    let dim = size + border * 2;
    let mut path = String::new();
    for y in 0..size {
        for x in 0..size {
            if qr.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + border, y + border));
            }
        }
    }
    Some(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {dim} {dim}\" shape-rendering=\"crispEdges\"><rect width=\"100%\" height=\"100%\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_sha1_vectors() {
        let secret = b"12345678901234567890";
        for (t, code) in [
            (59u64, "94287082"),
            (1111111109, "07081804"),
            (1111111111, "14050471"),
            (1234567890, "89005924"),
            (2000000000, "69279037"),
            (20000000000, "65353130"),
        ] {
            assert_eq!(hotp(secret, t / 30, 8), code, "t={t}");
        }
    }

    #[test]
    fn rfc4226_vectors() {
        let secret = b"12345678901234567890";
        let expected = [
            "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583",
            "399871", "520489",
        ];
        for (i, e) in expected.iter().enumerate() {
            assert_eq!(hotp(secret, i as u64, 6), *e);
        }
    }

    #[test]
    fn window_is_plus_minus_one_step() {
        let s = b"12345678901234567890";
        let t = 1_700_000_000;
        assert_eq!(matching_step(s, &code_at(s, t - 30), t), Some(t / 30 - 1));
        assert_eq!(matching_step(s, &code_at(s, t + 30), t), Some(t / 30 + 1));
        assert_eq!(matching_step(s, &code_at(s, t - 60), t), None);
        assert_eq!(matching_step(s, "12345", t), None);
        assert_eq!(matching_step(s, "abcdef", t), None);
    }

    #[test]
    fn uri_and_qr() {
        let u = otpauth_uri("Leitz Cloud", "alice@example.com", "JBSWY3DPEHPK3PXP");
        assert!(u.starts_with("otpauth://totp/Leitz%20Cloud:alice%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=Leitz%20Cloud"));
        let svg = qr_svg(&u).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("<path"));
    }
}
