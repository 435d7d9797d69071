//! One module per subcommand; this one opens the core for them.

mod accounts;
mod otp_tools;
mod passcode;
mod sign_in;
mod sign_out;
mod status;
mod unregister;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use twostep_core::{Config, FileKeyStore, Twostep, TwostepError, UnixTime};

use crate::args::{Cli, Command};
use crate::output::{Failure, Printer};

/// Runs the chosen subcommand.
pub async fn run(cli: Cli, out: Printer) -> Result<(), Failure> {
    // Offline tools: no server, no data directory.
    match &cli.command {
        Command::Code(args) => return otp_tools::code(args, out),
        Command::Uri(command) => return otp_tools::uri(command, out),
        _ => {}
    }
    let device_name = match &cli.command {
        Command::SignIn(args) => args.device_name.clone(),
        _ => None,
    };
    let app = open(&cli, device_name)?;
    let needs_account = match &cli.command {
        Command::SignIn(args) => !args.forgot_passcode,
        Command::Status(args) => args.online,
        Command::SignOut | Command::Unregister(_) => true,
        _ => false,
    };
    if needs_account {
        passcode::unlock_if_locked(&app, cli.passcode_stdin, out)?;
    }
    match &cli.command {
        Command::SignIn(args) => sign_in::run(&app, args, cli.passcode_stdin, out).await,
        Command::Status(args) => status::run(&app, args, out).await,
        Command::SignOut => sign_out::run(&app, out).await,
        Command::Unregister(args) => unregister::run(&app, args, out).await,
        Command::Passcode(command) => passcode::run(&app, command, cli.passcode_stdin, out),
        Command::Unlock => passcode::unlock(&app, cli.passcode_stdin, out),
        Command::Accounts(command) => accounts::run(&app, command, cli.passcode_stdin, out),
        Command::Code(_) | Command::Uri(_) => Ok(()),
    }
}

/// Now: the CLI is the outer layer that reads the clock.
fn now() -> UnixTime {
    twostep_core::SystemClock::unix_now()
}

/// Opens the data dir. Without `--server`, a data dir that signed in before talks to the
/// server it signed in to, and the authenticator and the passcode need none.
fn open(cli: &Cli, device_name: Option<String>) -> Result<Twostep, Failure> {
    let data_dir = match &cli.data_dir {
        Some(dir) => dir.clone(),
        None => {
            default_data_dir().ok_or_else(|| Failure::usage("--data-dir is required (no HOME)"))?
        }
    };
    let key_file = cli.key_file.clone().unwrap_or_else(|| data_dir.join("keystore.key"));
    let key_store = FileKeyStore::open_or_create(&key_file)
        .map_err(|e| Failure::from(TwostepError::KeyStore { message: e.to_string() }))?;

    let mut config = Config::local(&data_dir);
    config.server.url = cli.server.clone();
    config.server.request_timeout = Duration::from_secs(cli.timeout.max(1));
    config.server.connect_timeout = Duration::from_secs(cli.timeout.clamp(1, 10));
    if let Some(path) = &cli.ca_cert {
        let pem = std::fs::read(path)
            .map_err(|e| Failure::usage(format!("--ca-cert {}: {e}", path.display())))?;
        config.server.extra_ca_cert_pem = Some(pem);
    }
    config.device_name = device_name.unwrap_or_else(default_device_name);
    Ok(Twostep::open(config, Arc::new(key_store))?)
}

fn default_data_dir() -> Option<PathBuf> {
    let base =
        std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()).map(PathBuf::from).or_else(
            || std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".local/share")),
        )?;
    Some(base.join("twostep"))
}

fn default_device_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty());
    match host {
        Some(host) => format!("twostep CLI on {host}")
            .chars()
            .take(twostep_proto::MAX_DEVICE_NAME_LEN)
            .collect(),
        None => "twostep CLI".to_owned(),
    }
}
