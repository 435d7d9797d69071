//! RFC 6238 TOTP (SHA-1, 6 digits, 30 s) for the authenticator-app channel, over
//! `twostep-otp`: the one OATH implementation of the project, shared with the on-device
//! authenticator and the tests.
//!
//! Time is a parameter. Verification checks the steps t-1, t, t+1 and returns the step
//! that matched, so the caller can refuse any step not newer than the last one accepted.

use twostep_otp::{Algorithm, Otp, Secret, UnixTime, uri};

/// Step length in seconds.
pub const PERIOD: u64 = 30;
/// Code length.
pub const DIGITS: u32 = 6;
/// Steps accepted either side of the current one.
pub const WINDOW: u64 = 1;

/// The server's generator for a user's secret: SHA-1, 6 digits, 30 s.
fn generator(secret: &[u8]) -> Option<Otp> {
    let secret = Secret::from_bytes(secret).ok()?;
    Otp::totp(secret, Algorithm::Sha1, DIGITS as u8, PERIOD as u32).ok()
}

/// The step whose code equals `code` within ±[`WINDOW`] steps of `unix_secs`, newest
/// first on ties; every candidate is compared in constant time (`twostep_otp`'s
/// [`Otp::verify`], the same implementation the authenticator uses).
pub fn matching_step(secret: &[u8], code: &str, unix_secs: u64) -> Option<u64> {
    generator(secret)?.verify(code, UnixTime::from_secs(unix_secs), WINDOW)
}

/// `otpauth://totp/Issuer:account?secret=...&issuer=...&algorithm=SHA1&digits=6&period=30`
/// (Google's Key Uri Format), written by `twostep_otp`'s URI writer.
pub fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    match generator(secret) {
        Some(otp) => uri::to_uri(Some(issuer), account, &otp).to_string(),
        None => String::new(),
    }
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

    /// RFC 6238's SHA-1 seed; the six-digit codes are the low digits of Appendix B's.
    const SEED: &[u8] = b"12345678901234567890";

    fn code_at(unix_secs: u64) -> String {
        generator(SEED).and_then(|otp| otp.code_at(UnixTime::from_secs(unix_secs))).unwrap()
    }

    #[test]
    fn rfc6238_sha1_vectors_six_digits() {
        for (t, code) in [(59u64, "287082"), (1111111109, "081804"), (1234567890, "005924")] {
            assert_eq!(code_at(t), code, "t={t}");
            assert_eq!(matching_step(SEED, code, t), Some(t / 30));
        }
    }

    #[test]
    fn window_is_plus_minus_one_step() {
        let t = 1_700_000_000;
        assert_eq!(matching_step(SEED, &code_at(t - 30), t), Some(t / 30 - 1));
        assert_eq!(matching_step(SEED, &code_at(t + 30), t), Some(t / 30 + 1));
        assert_eq!(matching_step(SEED, &code_at(t - 60), t), None);
        assert_eq!(matching_step(SEED, "12345", t), None);
        assert_eq!(matching_step(SEED, "abcdef", t), None);
        assert_eq!(matching_step(&[], "287082", 59), None, "no secret, no match");
    }

    #[test]
    fn uri_and_qr() {
        let u = otpauth_uri("Leitz Cloud", "alice@example.com", b"Hello!\xde\xad\xbe\xef");
        assert_eq!(
            u,
            "otpauth://totp/Leitz%20Cloud:alice%40example.com?secret=JBSWY3DPEHPK3PXP\
             &issuer=Leitz%20Cloud&algorithm=SHA1&digits=6&period=30"
        );
        let parsed = uri::parse(&u).unwrap();
        assert_eq!((parsed.issuer.as_deref(), parsed.warnings.len()), (Some("Leitz Cloud"), 0));
        let svg = qr_svg(&u).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("<path"));
    }
}
