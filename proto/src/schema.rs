//! Patterns the JSON Schemas state for values the server makes (tokens, ids, names), so
//! that a response that drifts from them fails the contract check.

/// 256 random bits, base64url without padding: session and operator tokens, nonces.
pub(crate) const TOKEN_PATTERN: &str = "^[A-Za-z0-9_-]{43}$";
/// See [`TOKEN_PATTERN`].
pub(crate) const NONCE_PATTERN: &str = TOKEN_PATTERN;
/// 128 random bits, lower-case hex: user and challenge ids.
pub(crate) const ID_PATTERN: &str = "^[0-9a-f]{32}$";
/// A registration's id: its user's id, a dot and 96 random bits in hex.
pub(crate) const DEVICE_ID_PATTERN: &str = "^[0-9a-f]{32}[.][0-9a-f]{24}$";
/// A normalized username (see `normalize_username`).
pub(crate) const USERNAME_PATTERN: &str = "^[a-z0-9._@+-]{1,64}$";
/// An organization name (see `valid_org_name`).
pub(crate) const ORG_PATTERN: &str = "^[a-z0-9._-]{1,64}$";
/// A recovery code as shown: two groups of five from an alphabet without i, l, o, u.
pub(crate) const RECOVERY_CODE_PATTERN: &str = "^[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}$";
