//! Command-line arguments. The help text is the CLI's reference, exit codes included.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// Exit codes, shown at the bottom of `--help`.
pub const EXIT_CODES_HELP: &str = "\
Exit codes:
  0  success
  1  any other error (storage, key store, damaged or foreign data directory, ...)
  2  usage error (bad arguments, no terminal for a prompt)
  3  wrong username or password
  4  wrong, expired or missing code (the sign-in may still be pending: see --continue)
  5  locked out or rate limited (wait, or ask an administrator)
  6  network failure (server unreachable, timeout, server error)
  7  two-step setup required by the organization
  8  this device was revoked (it is unregistered now; sign in again)";

/// A terminal client for twostep: sign in with a password and a second-step code,
/// register this machine as a device, and check or end the session.
#[derive(Debug, Parser)]
#[command(name = "twostep", version, after_help = EXIT_CODES_HELP)]
pub struct Cli {
    /// Server base URL.
    #[arg(long, env = "TWOSTEP_SERVER", global = true)]
    pub server: Option<String>,

    /// Data directory (created if missing) [default: $XDG_DATA_HOME/twostep].
    #[arg(long, env = "TWOSTEP_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,

    /// Key file that protects the data directory [default: DATA_DIR/keystore.key].
    #[arg(long, env = "TWOSTEP_KEY_FILE", global = true)]
    pub key_file: Option<PathBuf>,

    /// Extra trusted CA certificate (PEM file) for a server with a private CA.
    #[arg(long, global = true)]
    pub ca_cert: Option<PathBuf>,

    /// Seconds allowed for each request.
    #[arg(long, default_value_t = 30, global = true)]
    pub timeout: u64,

    /// Print machine-readable JSON on stdout (results and errors).
    #[arg(long, global = true)]
    pub json: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands. `passcode`, `unlock`, `accounts`, `code` and `uri` come with later work.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in with password and second-step code. As `mobile` (the default) the first
    /// sign-in registers this machine as a device; later ones use the device key, with no
    /// password or code.
    SignIn(SignInArgs),
    /// Show the local state: registration, session, pending sign-in.
    Status(StatusArgs),
    /// End the session (the device stays registered).
    SignOut,
    /// Remove this device's registration, on the server and locally.
    Unregister(UnregisterArgs),
}

/// `twostep sign-in`.
#[derive(Debug, Args)]
pub struct SignInArgs {
    /// Username.
    pub username: String,

    /// Read the password from the first line of standard input (later lines answer the
    /// code prompt).
    #[arg(long)]
    pub password_stdin: bool,

    /// The second-step code (otherwise prompted for).
    #[arg(long, conflicts_with = "recovery_code")]
    pub code: Option<String>,

    /// Use a recovery code instead of a second-step code.
    #[arg(long)]
    pub recovery_code: Option<String>,

    /// Get the code from this channel instead of the account's preferred one.
    #[arg(long, value_enum)]
    pub channel: Option<ChannelArg>,

    /// Which kind of client to sign in as.
    #[arg(long, value_enum, default_value_t = ClientArg::Mobile)]
    pub client: ClientArg,

    /// Continue the pending sign-in of USER with --code or --recovery-code (no password).
    #[arg(long = "continue")]
    pub resume: bool,

    /// Sign in with the password even if this device is registered for USER.
    #[arg(long)]
    pub with_password: bool,

    /// The name this machine registers under [default: "twostep CLI on HOSTNAME"].
    #[arg(long)]
    pub device_name: Option<String>,
}

/// `twostep status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Also ask the server for the account's two-step settings (opens a device session
    /// when needed).
    #[arg(long)]
    pub online: bool,
}

/// `twostep unregister`.
#[derive(Debug, Args)]
pub struct UnregisterArgs {
    /// Forget the registration locally without telling the server (for a server that is
    /// gone for good).
    #[arg(long)]
    pub local: bool,
}

/// `--channel`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ChannelArg {
    /// Authenticator app.
    Totp,
    /// Text message.
    Sms,
    /// Email.
    Email,
}

impl From<ChannelArg> for twostep_core::Channel {
    fn from(c: ChannelArg) -> Self {
        match c {
            ChannelArg::Totp => Self::Totp,
            ChannelArg::Sms => Self::Sms,
            ChannelArg::Email => Self::Email,
        }
    }
}

/// `--client`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ClientArg {
    /// Web portal: a code at every sign-in when two-step is on.
    Web,
    /// Desktop agent: a code at registration, if two-step is configured.
    Agent,
    /// Outlook add-in: a code at every new session.
    Outlook,
    /// Mobile app: a code at first access, which registers the device.
    Mobile,
}

impl From<ClientArg> for twostep_core::ClientKind {
    fn from(c: ClientArg) -> Self {
        match c {
            ClientArg::Web => Self::Web,
            ClientArg::Agent => Self::Agent,
            ClientArg::Outlook => Self::Outlook,
            ClientArg::Mobile => Self::Mobile,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_argument_definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn help_lists_the_exit_codes() {
        let help = Cli::command().render_long_help().to_string();
        assert!(help.contains("8  this device was revoked"));
    }
}
