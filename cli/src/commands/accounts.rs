//! `twostep accounts add|list|codes|hotp|delete|import|export`: the authenticator vault of
//! this data directory, through the core. Never contacts the server.

use serde_json::{Value, json};
use std::io::Write;
use std::path::Path;
use twostep_core::authenticator::{
    self, AccountId, AccountInfo, AccountWarning, Detected, ImportFormat, ImportReport,
    OffsetSource, OtpKind,
};
use twostep_core::{AuthenticatorReason, PasscodeStatus, Twostep, TwostepError, UnixTime};
use zeroize::Zeroizing;

use super::{now, passcode};
use crate::args::{AccountsCommand, ImportFormatArg};
use crate::input::Input;
use crate::output::{Failure, Printer};

/// Largest file `import` reads.
const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// Runs `twostep accounts ...`. An authenticator error's reason leads its message, so that
/// stderr shows it (`twostep: invalid_base32: ...`).
pub fn run(
    app: &Twostep,
    command: &AccountsCommand,
    passcode_stdin: bool,
    out: Printer,
) -> Result<(), Failure> {
    run_command(app, command, passcode_stdin, out).map_err(|mut failure| {
        if let Some(reason) = failure
            .details
            .get("reason")
            .and_then(Value::as_str)
            .filter(|_| failure.code == "authenticator")
        {
            failure.message = format!("{reason}: {}", failure.message);
        }
        failure
    })
}

fn run_command(
    app: &Twostep,
    command: &AccountsCommand,
    passcode_stdin: bool,
    out: Printer,
) -> Result<(), Failure> {
    if let AccountsCommand::Export { plain, password_stdin, output } = command {
        return export(app, *plain, *password_stdin, output.as_deref(), passcode_stdin, out);
    }
    passcode::unlock_if_locked(app, passcode_stdin, out)?;
    match command {
        AccountsCommand::Add { uri } => {
            let uri = match uri.as_str() {
                "-" => Input::new().line()?.ok_or_else(|| {
                    Failure::usage("standard input is empty; give one otpauth:// URI")
                })?,
                uri => Zeroizing::new(uri.to_owned()),
            };
            let account = app.authenticator().add_uri(uri.trim())?;
            out.success(
                json!({"status": "added", "account": account_json(&account)}),
                &format!("Added {}.{}", line(&account), warnings_text(&account.warnings)),
            );
        }
        AccountsCommand::List => {
            let accounts = app.authenticator().accounts()?;
            let text = accounts
                .iter()
                .map(|a| format!("{}{}", line(a), warnings_text(&a.warnings)))
                .collect::<Vec<_>>()
                .join("\n");
            out.success(
                json!({"accounts": accounts.iter().map(account_json).collect::<Vec<_>>()}),
                &text,
            );
        }
        AccountsCommand::Codes { time } => {
            codes(app, time.map_or_else(now, UnixTime::from_secs), out)?
        }
        AccountsCommand::Hotp { id } => {
            let code = app.authenticator().next_hotp_code(AccountId(*id))?;
            out.success(
                json!({"id": code.id.0, "code": code.code, "counter": code.counter}),
                &code.code,
            );
        }
        AccountsCommand::Delete { id } => {
            app.authenticator().delete(AccountId(*id))?;
            out.success(json!({"status": "deleted", "id": id}), &format!("Deleted account {id}."));
        }
        AccountsCommand::Import { file, format, password_stdin } => {
            import(app, file, *format, *password_stdin, out)?
        }
        AccountsCommand::Export { .. } => {}
    }
    Ok(())
}

fn codes(app: &Twostep, time: UnixTime, out: Printer) -> Result<(), Failure> {
    let list = app.authenticator().codes(time)?;
    let accounts = app.authenticator().accounts()?;
    let label = |id: AccountId| accounts.iter().find(|a| a.id == id).map(label).unwrap_or_default();
    if list.offset_warning {
        out.note(&format!(
            "Note: this device's clock is off by {:.1} s ({}); the codes are corrected, but consider fixing the clock.",
            list.correction.offset_ms as f64 / 1000.0,
            match list.correction.source {
                OffsetSource::User => "your correction",
                _ => "measured against the server",
            }
        ));
    }
    let text = list
        .codes
        .iter()
        .map(|c| match (&c.code, &c.next_code) {
            (Some(code), Some(next)) => {
                format!(
                    "{:>4}  {code:<8}  next {next:<8} in {:>2} s  {}",
                    c.id.0,
                    c.seconds_remaining,
                    label(c.id)
                )
            }
            _ => format!(
                "{:>4}  {:<8}  (HOTP: twostep accounts hotp {})  {}",
                c.id.0,
                "-",
                c.id.0,
                label(c.id)
            ),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let codes: Vec<Value> = list
        .codes
        .iter()
        .map(|c| {
            json!({
                "id": c.id.0, "label": label(c.id), "type": c.kind.as_str(), "code": c.code, "next_code": c.next_code,
                "seconds_remaining": c.seconds_remaining, "period": c.period, "counter": c.counter,
            })
        })
        .collect();
    out.success(
        json!({
            "time": list.time.as_secs(),
            "offset_ms": list.correction.offset_ms,
            "offset_source": source_str(list.correction.source),
            "offset_warning": list.offset_warning,
            "codes": codes,
        }),
        &text,
    );
    Ok(())
}

fn import(
    app: &Twostep,
    file: &Path,
    format: Option<ImportFormatArg>,
    password_stdin: bool,
    out: Printer,
) -> Result<(), Failure> {
    let bytes = read_file(file)?;
    let detected = match format {
        Some(ImportFormatArg::Google) => Detected::Import(ImportFormat::GoogleAuthenticator),
        Some(ImportFormatArg::Aegis) => Detected::Import(ImportFormat::Aegis),
        Some(ImportFormatArg::TwoFas) => Detected::Import(ImportFormat::TwoFas),
        Some(ImportFormatArg::Uris) => Detected::Import(ImportFormat::OtpauthUris),
        Some(ImportFormatArg::Twostep) => Detected::TwostepExport,
        None => authenticator::detect(&bytes).ok_or_else(|| {
            Failure::usage(format!(
                "{}: unknown format; give --format google|aegis|2fas|uris|twostep",
                file.display()
            ))
        })?,
    };
    let report = match detected {
        Detected::Import(format) => app.authenticator().import(format, &bytes),
        Detected::TwostepExport => {
            let password = Input::new().password(password_stdin, "the export")?;
            app.authenticator().import_encrypted(&bytes, &password)
        }
    };
    let report = report.inspect_err(|e| {
        if let TwostepError::Authenticator { entries, .. } = e {
            for entry in entries {
                out.note(&format!("  {entry}"));
            }
        }
    })?;
    // The accounts added with a warning, so that a phishing signal is seen at import too.
    let warned: Vec<AccountInfo> = app
        .authenticator()
        .accounts()?
        .into_iter()
        .filter(|a| report.added.contains(&a.id) && !a.warnings.is_empty())
        .collect();
    let mut value = report_json(&report);
    value["warnings"] = warned
        .iter()
        .flat_map(|a| a.warnings.iter().map(|w| json!({"id": a.id.0, "warning": warning_json(w)})))
        .collect();
    let mut text = report_text(&report);
    for account in &warned {
        text.push_str(&format!("\n{}{}", line(account), warnings_text(&account.warnings)));
    }
    out.success(value, &text);
    Ok(())
}

fn export(
    app: &Twostep,
    plain: bool,
    password_stdin: bool,
    output: Option<&Path>,
    passcode_stdin: bool,
    out: Printer,
) -> Result<(), Failure> {
    let mut input = Input::new();
    let state = app.passcode().state(now())?;
    let passcode = match state.status {
        PasscodeStatus::LockedOut { until } => {
            let retry_after = now().until(until);
            return Err(TwostepError::PasscodeLockedOut { until, retry_after }.into());
        }
        PasscodeStatus::Locked | PasscodeStatus::Unlocked => {
            let passcode = input.passcode(passcode_stdin, "Passcode (to export): ")?;
            if state.status == PasscodeStatus::Locked {
                app.passcode().unlock(&passcode, now())?;
            }
            Some(passcode)
        }
        PasscodeStatus::NotSet | PasscodeStatus::Wiped => None,
    };
    let passcode = passcode.as_ref().map(|p| p.as_str());
    let text: Zeroizing<String> = if plain {
        app.authenticator().export_plain(passcode, now())?
    } else {
        let password = input.password(password_stdin, "the export")?;
        if !password_stdin {
            let again = input.password(false, "the export (again)")?;
            if *again != *password {
                return Err(Failure::usage("the two passwords differ"));
            }
        }
        Zeroizing::new(app.authenticator().export_encrypted(passcode, &password, now())?)
    };
    let count = app.authenticator().accounts()?.len();
    match output {
        None if out.json => {
            out.success(json!({"status": "exported", "accounts": count, "encrypted": !plain, "data": text.as_str()}), "");
        }
        None => {
            print!("{}", text.as_str());
            std::io::stdout()
                .flush()
                .map_err(|e| Failure::usage(format!("writing standard output: {e}")))?;
            out.note(&format!(
                "Exported {count} accounts{}.",
                if plain { " in the clear" } else { ", encrypted" }
            ));
        }
        Some(path) => {
            write_new_private(path, text.as_bytes())?;
            out.success(
                json!({"status": "exported", "accounts": count, "encrypted": !plain, "file": path.display().to_string()}),
                &format!("Exported {count} accounts to {}{}.", path.display(), if plain { " (in the clear)" } else { " (encrypted)" }),
            );
        }
    }
    Ok(())
}

/// Creates `path` (it must not exist) readable by its owner only, with `bytes`.
fn write_new_private(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file =
        options.open(path).map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| Failure::usage(format!("{}: {e}", path.display())))
}

fn read_file(path: &Path) -> Result<Zeroizing<Vec<u8>>, Failure> {
    use std::io::Read;
    let file = std::fs::File::open(path)
        .map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
    let mut bytes = Zeroizing::new(Vec::new());
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Failure::from(TwostepError::Authenticator {
            reason: AuthenticatorReason::TooLarge,
            message: format!(
                "{}: the file is too large (at most {MAX_FILE_BYTES} bytes)",
                path.display()
            ),
            entries: vec![],
        }));
    }
    Ok(bytes)
}

fn label(account: &AccountInfo) -> String {
    match (account.issuer.as_deref(), account.name.is_empty()) {
        (Some(issuer), false) => format!("{issuer}:{}", account.name),
        (Some(issuer), true) => issuer.to_owned(),
        (None, _) => account.name.clone(),
    }
}

/// Each warning on its own line, for the text output (empty without warnings).
pub(crate) fn warnings_text(warnings: &[AccountWarning]) -> String {
    warnings.iter().map(|w| format!("\n      Warning ({}): {w}.", w.code())).collect()
}

/// A warning in the JSON output: `{"code", "message", ...its fields}`.
pub(crate) fn warning_json(warning: &AccountWarning) -> Value {
    let mut value = serde_json::to_value(warning).unwrap_or_default();
    if let Some(object) = value.as_object_mut() {
        object.remove("kind");
        object.insert("code".into(), json!(warning.code()));
        object.insert("message".into(), json!(warning.to_string()));
    }
    value
}

fn line(account: &AccountInfo) -> String {
    let kind = match account.kind {
        OtpKind::Totp => format!(
            "totp {} {}d {}s",
            account.algorithm,
            account.digits,
            account.period.unwrap_or(0)
        ),
        OtpKind::Hotp => format!(
            "hotp {} {}d counter {}",
            account.algorithm,
            account.digits,
            account.counter.unwrap_or(0)
        ),
        OtpKind::Steam => "steam".to_owned(),
    };
    let group = account.group.as_deref().map(|g| format!("  [{g}]")).unwrap_or_default();
    let flag = if account.warnings.is_empty() { "" } else { "  (!)" };
    format!("{:>4}  {}  ({kind}){group}{flag}", account.id.0, label(account))
}

fn account_json(account: &AccountInfo) -> Value {
    json!({
        "id": account.id.0,
        "issuer": account.issuer,
        "account": account.name,
        "group": account.group,
        "type": account.kind.as_str(),
        "algorithm": account.algorithm.as_str(),
        "digits": account.digits,
        "period": account.period,
        "counter": account.counter,
        "warnings": account.warnings.iter().map(warning_json).collect::<Vec<_>>(),
    })
}

fn report_json(report: &ImportReport) -> Value {
    json!({
        "status": "imported",
        "added": report.added.iter().map(|id| id.0).collect::<Vec<_>>(),
        "duplicates": report.duplicates.iter().map(|d| json!({"entry": d.entry, "label": d.label, "existing": d.existing.0})).collect::<Vec<_>>(),
    })
}

fn report_text(report: &ImportReport) -> String {
    let mut text = format!("Imported {} accounts.", report.added.len());
    for d in &report.duplicates {
        text.push_str(&format!(
            "\nSkipped entry {} ({}): already in the vault as account {}.",
            d.entry, d.label, d.existing.0
        ));
    }
    text
}

fn source_str(source: OffsetSource) -> &'static str {
    match source {
        OffsetSource::None => "none",
        OffsetSource::Server => "server",
        OffsetSource::User => "user",
    }
}
