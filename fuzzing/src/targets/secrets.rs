//! "Errors and `Debug` never quote a secret", checked on fuzzed inputs.
//!
//! The secrets of an input are the values of secret-named fields: JSON keys, or the
//! parameters of URIs (one per line), decoded. A value is only checked when nothing else in
//! the input contains it (a label, another field, another line): code under test may echo
//! those legitimately, and then the secret's text shows up without the secret leaking.

use serde_json::Value;

/// JSON keys and URI parameters whose values are secrets.
const SECRET_FIELDS: &[&str] =
    &["secret", "password", "current_password", "new_password", "code", "setup_token"];

/// Shortest value checked: shorter ones occur by chance in any message.
const MIN_LEN: usize = 8;

/// The secret values of an input worth checking.
pub fn secret_values(input: &[u8]) -> Vec<String> {
    let mut secrets = Vec::new();
    let mut others = Vec::new();
    match serde_json::from_slice::<Value>(input) {
        Ok(doc) => json_strings(&doc, false, &mut secrets, &mut others),
        Err(_) => uri_strings(&String::from_utf8_lossy(input), &mut secrets, &mut others),
    }
    secrets.sort();
    secrets.dedup();
    secrets.retain(|secret| {
        secret.chars().count() >= MIN_LEN && !others.iter().any(|o| o.contains(secret.as_str()))
    });
    secrets
}

/// Fails if `shown` contains one of `secrets`.
pub fn assert_no_secret(secrets: &[String], shown: &str, what: &str) {
    for secret in secrets {
        assert!(!shown.contains(secret.as_str()), "{what} quotes a secret from the input: {shown}");
    }
}

fn json_strings(v: &Value, secret: bool, secrets: &mut Vec<String>, others: &mut Vec<String>) {
    match v {
        Value::String(s) if secret => secrets.push(s.clone()),
        Value::String(s) => others.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|i| json_strings(i, false, secrets, others)),
        Value::Object(map) => {
            for (key, value) in map {
                others.push(key.clone());
                let is_secret = SECRET_FIELDS.contains(&key.as_str());
                json_strings(value, is_secret, secrets, others);
            }
        }
        _ => {}
    }
}

fn uri_strings(text: &str, secrets: &mut Vec<String>, others: &mut Vec<String>) {
    for line in text.lines() {
        let (head, query) = line.split_once('?').unwrap_or((line, ""));
        others.push(percent_decode(head));
        for pair in query.split(['&', '#']) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let (name, value) = (percent_decode(name), percent_decode(value));
            if SECRET_FIELDS.contains(&name.to_ascii_lowercase().as_str()) {
                secrets.push(value.trim().to_owned());
                secrets.push(value.replace([' ', '+'], ""));
            } else {
                others.push(name);
                others.push(value);
            }
        }
    }
}

/// `%XX` decoded, `+` as a space, invalid sequences kept; lossy UTF-8.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = text.get(i + 1..i + 3).and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_found_decoded_and_skipped_when_echoed_elsewhere() {
        let json = br#"{"username":"alice","password":"correct horse","client":"web"}"#;
        assert_eq!(secret_values(json), ["correct horse"]);
        let same = br#"{"username":"correct horse!","password":"correct horse"}"#;
        assert!(secret_values(same).is_empty());
        let uri = b"otpauth://totp/E:a?secret=JBSW%20Y3DPEHPK3PXP&period=30";
        assert!(secret_values(uri).contains(&"JBSWY3DPEHPK3PXP".to_owned()));
        let in_label = b"otpauth://totp/E:JBSWY3DPEHPK3PXP?secret=JBSWY3DPEHPK3PXP";
        assert!(secret_values(in_label).is_empty());
        let encoded =
            b"otpauth://totp/a%3DJBSWY3DPEHPK3PXP\notpauth://totp/b?secret=JBSWY3DPEHPK3PXP";
        assert!(secret_values(encoded).is_empty());
        let in_period = b"otpauth://totp/E:a?secret=AAAABBBBCCCC&period=3secret=JBSWY3DPEHPK3PXP";
        assert_eq!(secret_values(in_period), ["AAAABBBBCCCC"]);
    }
}
