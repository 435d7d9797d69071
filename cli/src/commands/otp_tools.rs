//! `twostep code` and `twostep uri parse`: offline authenticator tools in the spirit of
//! oathtool. They use the pure `twostep-otp` crate and never open a data directory.

use serde_json::{Value, json};
use std::io::Read;
use twostep_otp::{Algorithm, NewAccount, Otp, OtpKind, Secret, UnixTime};
use zeroize::Zeroizing;

use crate::args::{CodeArgs, UriCommand};
use crate::output::{Exit, Failure, Printer};

impl From<twostep_otp::Error> for Failure {
    /// Invalid authenticator input: exit 2, code `authenticator` with the error's stable
    /// name as `reason`, which also leads the message so that stderr shows it.
    fn from(error: twostep_otp::Error) -> Self {
        let mut failure = Failure::usage(format!("{}: {error}", error.code()))
            .with("reason", json!(error.code()));
        failure.code = "authenticator".to_owned();
        if let twostep_otp::Error::InvalidEntries { errors } = &error {
            let entries: Vec<Value> = errors
                .iter()
                .map(|e| json!({"entry": e.entry, "label": e.label, "code": e.error.code(), "message": e.error.to_string()}))
                .collect();
            failure = failure.with("entries", Value::Array(entries));
        }
        if matches!(error, twostep_otp::Error::Internal { .. }) {
            failure.exit = Exit::Other;
        }
        failure
    }
}

/// `twostep code`.
pub fn code(args: &CodeArgs, out: Printer) -> Result<(), Failure> {
    let text = match (&args.secret, args.secret_stdin) {
        (Some(secret), _) => Zeroizing::new(secret.clone()),
        (None, _) => read_stdin(1024, "secret")?,
    };
    let secret = Secret::from_base32(text.trim())?;
    let algorithm = Algorithm::from(args.algorithm);
    if let Some(counter) = args.counter {
        let otp = Otp::hotp(secret, algorithm, args.digits, counter)?;
        let code = otp.hotp_code(counter);
        out.success(json!({"code": code, "counter": counter}), &code);
        return Ok(());
    }
    let otp = Otp::totp(secret, algorithm, args.digits, args.period)?;
    let time = args.time.map_or_else(twostep_core::SystemClock::unix_now, UnixTime::from_secs);
    let code = otp.code_at(time).unwrap_or_default();
    let remaining = args.period - (time.as_secs() % u64::from(args.period)) as u32;
    out.success(
        json!({"code": code, "time": time.as_secs(), "period": args.period, "seconds_remaining": remaining}),
        &code,
    );
    Ok(())
}

/// `twostep uri ...`.
pub fn uri(command: &UriCommand, out: Printer) -> Result<(), Failure> {
    match command {
        UriCommand::Parse => {
            let input = read_stdin(twostep_otp::uri::MAX_URI_BYTES + 2, "URI")?;
            let mut lines = input.lines().map(str::trim).filter(|l| !l.is_empty());
            let line = lines.next().ok_or_else(|| {
                Failure::usage("standard input is empty; give one otpauth:// URI")
            })?;
            if lines.next().is_some() {
                return Err(Failure::usage(
                    "give one otpauth:// URI per run (standard input has several lines)",
                ));
            }
            let account = twostep_otp::uri::parse(line)?;
            let value = account_json(&account);
            let text = format!("{value}{}", super::accounts::warnings_text(&account.warnings));
            out.success(value, &text);
            Ok(())
        }
    }
}

/// The JSON `uri parse` prints (the secret in base32: the caller asked for it).
pub fn account_json(account: &NewAccount) -> Value {
    let otp = &account.otp;
    let mut value = json!({
        "type": otp.kind().as_str(),
        "issuer": account.issuer,
        "account": account.name,
        "secret": otp.secret().to_base32().as_str(),
        "algorithm": otp.algorithm().as_str(),
        "digits": otp.digits(),
        "warnings": account.warnings.iter().map(super::accounts::warning_json).collect::<Vec<_>>(),
    });
    match otp.kind() {
        OtpKind::Hotp => value["counter"] = json!(otp.counter()),
        OtpKind::Totp | OtpKind::Steam => value["period"] = json!(otp.period()),
    }
    value
}

/// All of standard input, at most `max` bytes.
fn read_stdin(max: usize, what: &str) -> Result<Zeroizing<String>, Failure> {
    let mut bytes = Zeroizing::new(Vec::with_capacity(max + 1));
    std::io::stdin()
        .lock()
        .take(max as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::usage(format!("reading the {what} from standard input: {e}")))?;
    if bytes.len() > max {
        return Err(twostep_otp::Error::TooLarge { what: "standard input", max }.into());
    }
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Failure::usage(format!("the {what} on standard input is not UTF-8")))?;
    Ok(Zeroizing::new(text.to_owned()))
}
