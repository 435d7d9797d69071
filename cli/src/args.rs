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
  6  network failure (server unreachable, timeout, server error, untrusted certificate)
  7  two-step setup required by the organization
  8  this device was revoked (it is unregistered now; sign in again)
  9  wrong passcode (the attempt was counted; see attempts_left and locked_until)
 10  locked: the passcode is needed, or the organization requires one to be set
 11  the local data was wiped after too many wrong passcodes, or cannot be recovered";

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

    /// Extra trusted CA certificate (PEM file) for a server with a private CA, on top of the
    /// system's trust store (which `SSL_CERT_FILE` / `SSL_CERT_DIR` replace on Linux).
    #[arg(long, global = true)]
    pub ca_cert: Option<PathBuf>,

    /// Seconds allowed for each request.
    #[arg(long, default_value_t = 30, global = true)]
    pub timeout: u64,

    /// Print machine-readable JSON on stdout (results and errors).
    #[arg(long, global = true)]
    pub json: bool,

    /// Read passcodes from standard input, one per line, when they are needed (after the
    /// password and codes when sign-in reads those too). Otherwise a terminal prompt asks.
    #[arg(long, global = true)]
    pub passcode_stdin: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in with password and second-step code. As `mobile` (the default) the first
    /// sign-in registers this machine as a device, as `agent` as a desktop agent; later
    /// sign-ins of that kind use its key, with no password or code, until it is revoked.
    SignIn(SignInArgs),
    /// Show the local state: registration, session, pending sign-in.
    Status(StatusArgs),
    /// End the session (the device stays registered).
    SignOut,
    /// Remove this device's (or agent's) registration, on the server and locally.
    Unregister(UnregisterArgs),
    /// The local passcode (PIN) that protects this device's account data.
    #[command(subcommand)]
    Passcode(PasscodeCommand),
    /// Check the passcode. Every run of the CLI starts locked like an app restart:
    /// commands that need the account data ask for the passcode themselves.
    Unlock,
    /// Print the TOTP (or, with --counter, HOTP) code of a base32 secret, like oathtool.
    /// Offline: needs no server or data directory.
    Code(CodeArgs),
    /// otpauth:// URI tools. Offline.
    #[command(subcommand)]
    Uri(UriCommand),
    /// The authenticator vault on this device (TOTP/HOTP/Steam accounts): never contacts
    /// the server, so --server is optional here. Asks for the passcode when one is set.
    #[command(subcommand)]
    Accounts(AccountsCommand),
}

/// `twostep accounts ...`.
#[derive(Debug, Subcommand)]
pub enum AccountsCommand {
    /// Add the account an otpauth:// URI describes ("-": read the URI from standard input,
    /// which keeps the secret out of the process list).
    Add {
        /// The otpauth:// URI, or "-".
        uri: String,
    },
    /// List the accounts (no secrets).
    List,
    /// Every account's current code, next code and seconds left.
    Codes {
        /// The Unix time to compute the codes for [default: now].
        #[arg(long)]
        time: Option<u64>,
    },
    /// The next code of an HOTP account (its counter advances).
    Hotp {
        /// The account's id (see `list`).
        id: u64,
    },
    /// Delete an account.
    Delete {
        /// The account's id (see `list`).
        id: u64,
    },
    /// Import a file from another authenticator, all or nothing (duplicates are skipped).
    Import {
        /// The file.
        file: PathBuf,
        /// Its format [default: detected from the content].
        #[arg(long, value_enum)]
        format: Option<ImportFormatArg>,
        /// For a twostep encrypted export: read its password from the next line of standard
        /// input (otherwise a terminal prompt asks).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Export every account: encrypted under a password you choose (default), or as a
    /// plain list of otpauth:// URIs. Asks for the passcode again when one is set.
    Export {
        /// A plain list of otpauth:// URIs: anyone who reads it can generate your codes.
        #[arg(long)]
        plain: bool,
        /// Read the export password from the next line of standard input (after the
        /// passcode, with --passcode-stdin).
        #[arg(long, conflicts_with = "plain")]
        password_stdin: bool,
        /// Write to this new file (mode 0600) instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

/// `--format` of `accounts import`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ImportFormatArg {
    /// Google Authenticator export: otpauth-migration:// URIs, one per QR code and line.
    Google,
    /// Aegis plain JSON.
    Aegis,
    /// 2FAS plain JSON.
    #[value(name = "2fas")]
    TwoFas,
    /// A text file of otpauth:// URIs.
    Uris,
    /// A twostep encrypted export.
    Twostep,
}

/// `twostep code`.
#[derive(Debug, Args)]
pub struct CodeArgs {
    /// The shared secret in base32 (case, spaces and padding do not matter). Visible to
    /// other users of this machine in the process list: prefer --secret-stdin.
    #[arg(long, required_unless_present = "secret_stdin", conflicts_with = "secret_stdin")]
    pub secret: Option<String>,

    /// Read the secret from the first line of standard input.
    #[arg(long)]
    pub secret_stdin: bool,

    /// HMAC algorithm.
    #[arg(long, value_enum, default_value_t = AlgorithmArg::Sha1, ignore_case = true)]
    pub algorithm: AlgorithmArg,

    /// Code length, 6 to 8.
    #[arg(long, default_value_t = 6)]
    pub digits: u8,

    /// Seconds per code, 1 to 3600.
    #[arg(long, default_value_t = 30, conflicts_with = "counter")]
    pub period: u32,

    /// The Unix time to compute the code for [default: now].
    #[arg(long, conflicts_with = "counter")]
    pub time: Option<u64>,

    /// Compute the HOTP code (RFC 4226) for this counter instead of a TOTP code.
    #[arg(long)]
    pub counter: Option<u64>,
}

/// `twostep uri ...`.
#[derive(Debug, Subcommand)]
pub enum UriCommand {
    /// Read one otpauth:// URI on standard input and print the account it describes as
    /// JSON: type, issuer, account, secret (base32), algorithm, digits, period or counter.
    Parse,
}

/// `--algorithm`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AlgorithmArg {
    /// HMAC-SHA1.
    #[value(name = "SHA1")]
    Sha1,
    /// HMAC-SHA256.
    #[value(name = "SHA256")]
    Sha256,
    /// HMAC-SHA512.
    #[value(name = "SHA512")]
    Sha512,
}

impl From<AlgorithmArg> for twostep_otp::Algorithm {
    fn from(a: AlgorithmArg) -> Self {
        match a {
            AlgorithmArg::Sha1 => Self::Sha1,
            AlgorithmArg::Sha256 => Self::Sha256,
            AlgorithmArg::Sha512 => Self::Sha512,
        }
    }
}

/// `twostep passcode ...`.
#[derive(Debug, Subcommand)]
pub enum PasscodeCommand {
    /// Set a passcode (none set yet). Follows the organization's policy; trivial PINs are
    /// refused.
    Set,
    /// Change the passcode: the current one (counted like an unlock), then the new one.
    Change,
    /// Remove the passcode (not when the organization requires one).
    Remove,
    /// Show the passcode's state and the policy in force (works while locked and offline).
    Status,
    /// Forgot the passcode and the password cannot recover the data: erase the account's
    /// local data (registration, session, passcode, authenticator vault) and start over.
    Reset {
        /// Confirm the erasure.
        #[arg(long)]
        yes: bool,
    },
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

    /// Sign in with the password even if this machine is registered for USER as this client
    /// kind (registers it again).
    #[arg(long)]
    pub with_password: bool,

    /// The name this machine registers under [default: "twostep CLI on HOSTNAME"].
    #[arg(long)]
    pub device_name: Option<String>,

    /// Forgot the passcode: sign in with password and code without unlocking; the
    /// password recovers the local data and the passcode is removed (set a new one).
    #[arg(long)]
    pub forgot_passcode: bool,

    /// After a mobile sign-in, set the passcode in the same run (read like --passcode-stdin
    /// or prompted), so that the password can also recover the data protected by it.
    #[arg(long)]
    pub set_passcode: bool,
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
    /// Desktop agent: registers this machine (a code only if two-step is configured); later
    /// sessions use its key, no code.
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
