//! "Errors and `Debug` never quote a secret", checked on fuzzed inputs.
//!
//! The secrets of an input are the values of secret-named fields: JSON keys, or the
//! parameters of URIs (one per line), decoded. A value is only checked when nothing else in
//! the input contains it (a label, another field, another line): code under test may echo
//! those legitimately, and then the secret's text shows up without the secret leaking.
//!
//! Seeing a secret's text in the output is not proof of a leak: a coverage-guided fuzzer
//! learns the program's constant strings (its error messages among them) and happily makes
//! a "secret" equal to one. So a suspected leak is confirmed by running the input again
//! with the secret replaced by a marker of the same length: it leaks when the marker then
//! shows up in the output.

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

/// Fails if `shown` (what the code under test printed for `input`) quotes a secret of the
/// input; `rerun` prints again for a modified input (see the module documentation).
pub fn assert_no_secret(
    input: &[u8],
    shown: &str,
    what: &str,
    mut rerun: impl FnMut(&[u8]) -> String,
) {
    for secret in secret_values(input) {
        if !shown.contains(secret.as_str()) || find(input, secret.as_bytes()).is_none() {
            // Not shown, or only present encoded in the input (it cannot be swapped there).
            continue;
        }
        let Some(marker) = ["Q", "X", "Z", "J"]
            .iter()
            .map(|c| c.repeat(secret.len()))
            .find(|m| find(input, m.as_bytes()).is_none() && !shown.contains(m.as_str()))
        else {
            continue;
        };
        let again = rerun(&replace_all(input, secret.as_bytes(), marker.as_bytes()));
        assert!(!again.contains(&marker), "{what} quotes a secret from the input: {shown}");
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return None;
    }
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn replace_all(input: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len());
    let mut rest = input;
    while let Some(at) = find(rest, from) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(to);
        rest = &rest[at + from.len()..];
    }
    out.extend_from_slice(rest);
    out
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

    #[test]
    fn an_echo_is_a_leak_and_constant_text_is_not() {
        let input = br#"{"password":"not valid JSON"}"#;
        // The output contains the secret's text whatever the secret: constant text.
        assert_no_secret(input, "the body is not valid JSON", "constant", |_| {
            "the body is not valid JSON".to_owned()
        });
        // The output follows the secret: a leak.
        let echo = |i: &[u8]| String::from_utf8_lossy(i).into_owned();
        let leak = std::panic::catch_unwind(|| {
            assert_no_secret(input, &echo(input), "echo", echo);
        });
        assert!(leak.is_err());
    }
}
