//! Masking of phone numbers and email addresses in every response and audit record.

/// `+4915112345678` → `+49•••••••••78`.
pub fn phone(p: &str) -> String {
    let chars: Vec<char> = p.chars().collect();
    if chars.len() <= 5 {
        return "•".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 2..].iter().collect();
    format!("{head}{}{tail}", "•".repeat(chars.len() - 5))
}

/// `alice@example.com` → `a•••@example.com`.
pub fn email(e: &str) -> String {
    match e.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}•••@{domain}")
        }
        None => "•••".into(),
    }
}

/// Masks a destination of a channel.
pub fn destination(channel: twostep_proto::Channel, d: &str) -> String {
    match channel {
        twostep_proto::Channel::Sms => phone(d),
        _ => email(d),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn masks_hide_the_middle() {
        assert_eq!(super::phone("+4915112345678"), "+49•••••••••78");
        assert_eq!(super::email("alice@example.com"), "a•••@example.com");
        assert!(!super::phone("+4915112345678").contains("151123"));
    }
}
