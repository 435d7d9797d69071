//! `twostep-server serve | admin ...` — a thin shell over the library.

use clap::{Parser, Subcommand};
use std::io::Read;
use std::path::PathBuf;
use twostep_proto::{CreateOrg, CreateUser, PolicyUpdate};
use twostep_server::service::admin::{self, Actor};
use twostep_server::service::operators;
use twostep_server::{App, Config};

#[derive(Parser, Debug)]
#[command(name = "twostep-server", version, about = "The twostep two-step authentication server")]
struct Cli {
    /// TOML configuration file (environment variables TWOSTEP_* override it).
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Run the HTTP server.
    Serve {
        /// Address to listen on [default: 127.0.0.1:8080].
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
        /// Data directory [default: ./data].
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Operator tasks on a data directory (stop the server first, or use the admin HTTP API).
    Admin {
        /// Data directory [default: ./data].
        #[arg(long)]
        data_dir: Option<PathBuf>,
        #[command(subcommand)]
        cmd: AdminCmd,
    },
}

#[derive(Subcommand, Debug)]
enum AdminCmd {
    /// Create an operator (password from stdin).
    CreateOperator { name: String },
    /// Create an organization.
    CreateOrg {
        name: String,
        #[arg(long)]
        require_two_step: bool,
    },
    /// Create a user (password from stdin).
    CreateUser { org: String, username: String },
    /// Change an organization's policy.
    SetPolicy {
        org: String,
        #[arg(long)]
        require_two_step: Option<bool>,
        #[arg(long)]
        passcode_min_length: Option<u8>,
        #[arg(long)]
        passcode_alphanumeric: Option<bool>,
        #[arg(long)]
        passcode_max_attempts: Option<u32>,
        #[arg(long)]
        passcode_lock_timeout_secs: Option<u32>,
        #[arg(long)]
        wipe_vault_on_max_attempts: Option<bool>,
        #[arg(long)]
        max_messages_per_user_per_day: Option<u32>,
        #[arg(long)]
        max_messages_per_destination_per_day: Option<u32>,
        #[arg(long)]
        max_messages_per_org_per_day: Option<u32>,
    },
    /// Show an organization.
    ShowOrg { org: String },
    /// Show a user.
    ShowUser { username: String },
    /// Clear a user's two-step settings and revoke their sessions and devices.
    ResetTwoStep { username: String },
    /// Unlock a user locked after failed attempts.
    Unlock { username: String },
    /// Unlock an operator locked after failed sign-ins.
    UnlockOperator { name: String },
    /// Revoke every token of an operator.
    RevokeOperatorSessions { name: String },
    /// Revoke a user's devices (one with --device).
    RevokeDevices {
        username: String,
        #[arg(long)]
        device: Option<String>,
    },
    /// Remove the two-step enrollments that the org policy forced (policy must be off).
    RemoveForced { org: String },
    /// Copy the embedded store of a stopped server into an empty PostgreSQL database
    /// (counts verified per table; all or nothing).
    MigrateStore {
        /// The stopped server's data directory.
        #[arg(long)]
        from: PathBuf,
        /// postgres://... [default: database_url from the config / TWOSTEP_DATABASE_URL].
        #[arg(long)]
        to: Option<String>,
    },
    /// Print audit events as JSON lines.
    Audit {
        #[arg(long)]
        user: Option<String>,
        #[arg(long)]
        after: Option<u64>,
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
}

fn load_config(path: Option<&PathBuf>) -> Result<Config, String> {
    let mut c = match path {
        Some(p) => Config::from_toml_file(p).map_err(|e| e.to_string())?,
        None => Config::default(),
    };
    c.apply_env(std::env::vars()).map_err(|e| e.to_string())?;
    Ok(c)
}

fn init_logs() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_env("TWOSTEP_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let b = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if std::env::var("TWOSTEP_LOG_FORMAT").as_deref() == Ok("json") {
        b.json().init();
    } else {
        b.init();
    }
}

fn read_password() -> Result<String, String> {
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        return rpassword::prompt_password("password: ").map_err(|e| e.to_string());
    }
    let mut s = String::new();
    std::io::stdin().take(4096).read_to_string(&mut s).map_err(|e| e.to_string())?;
    Ok(s.trim_end_matches(['\r', '\n']).to_owned())
}

/// New files and directories are private to the server's user (the data dir holds keys).
#[allow(unsafe_code)]
fn private_umask() {
    #[cfg(unix)]
    // SAFETY: umask only sets the process's file mode creation mask; no pointers involved.
    unsafe {
        libc::umask(0o077);
    }
}

#[tokio::main]
async fn main() {
    private_umask();
    let cli = Cli::parse();
    init_logs();
    let code = match run(cli).await {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    };
    std::process::exit(code);
}

async fn run(cli: Cli) -> Result<(), String> {
    let mut config = load_config(cli.config.as_ref())?;
    match cli.cmd {
        Cmd::Serve { listen, data_dir } => {
            if let Some(l) = listen {
                config.listen = l;
            }
            if let Some(d) = data_dir {
                config.data_dir = d;
            }
            let data_dir = config.data_dir.clone();
            let server = twostep_server::start(config).await.map_err(|e| e.to_string())?;
            let url = server.url();
            eprintln!("twostep-server listening on {url} (data in {})", data_dir.display());
            eprintln!("  sign-in and Account Settings: {url}/   operators' console: {url}/admin");
            if let Some(token) = server.setup_token() {
                eprintln!(
                    "\nNo operator exists yet. Create the first one (this one-time token works once, until an operator exists):\n\n  \
                     curl -s -X POST {url}/v1/admin/bootstrap -H 'content-type: application/json' \\\n    \
                     -d '{{\"setup_token\":\"{token}\",\"username\":\"admin\",\"password\":\"choose-a-long-password\"}}'\n\n\
                     Then sign in at {url}/admin (the operators' console) to create an organization and a user,\n\
                     or do it with the API:\n\n  \
                     TOKEN=$(curl -s -X POST {url}/v1/admin/signin -H 'content-type: application/json' \\\n    \
                     -d '{{\"username\":\"admin\",\"password\":\"choose-a-long-password\"}}' | sed 's/.*\"token\":\"\\([^\"]*\\)\".*/\\1/')\n  \
                     curl -s -X POST {url}/v1/admin/orgs -H \"authorization: Bearer $TOKEN\" -H 'content-type: application/json' -d '{{\"name\":\"acme\"}}'\n  \
                     curl -s -X POST {url}/v1/admin/orgs/acme/users -H \"authorization: Bearer $TOKEN\" -H 'content-type: application/json' \\\n    \
                     -d '{{\"username\":\"alice\",\"password\":\"alice-password-1\"}}'\n\n\
                     (Or stop the server and use `twostep-server admin --data-dir {} create-operator admin`.)\n\
                     Codes sent by SMS or email land in {}/outbox/ until SMTP or an SMS gateway is configured.\n",
                    data_dir.display(),
                    data_dir.display()
                );
            }
            let ctrl_c = async {
                let _ = tokio::signal::ctrl_c().await;
            };
            #[cfg(unix)]
            let term = async {
                if let Ok(mut s) =
                    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                {
                    s.recv().await;
                }
            };
            #[cfg(not(unix))]
            let term = std::future::pending::<()>();
            tokio::select! {
                _ = ctrl_c => {}
                _ = term => {}
            }
            eprintln!("shutting down");
            server.shutdown().await;
            Ok(())
        }
        Cmd::Admin { cmd: AdminCmd::MigrateStore { from, to }, .. } => {
            let url = to
                .or_else(|| config.database_url.as_ref().map(|u| u.0.clone()))
                .ok_or("migrate-store needs --to postgres://... (or TWOSTEP_DATABASE_URL)")?;
            let report = twostep_server::store::copy::sled_to_postgres(&from, &url)
                .await
                .map_err(|e| e.to_string())?;
            let shown = twostep_server::config::DatabaseUrl(url).redacted();
            println!("copied {} into {shown}:", from.display());
            for (tree, n) in &report {
                println!("  {:<18} {n}", tree.name());
            }
            println!(
                "Every table's row count matches the records read.\n\
                 Give every replica the same master key as before, e.g.\n  \
                 TWOSTEP_MASTER_KEY=$(od -An -tx1 {}/server.key | tr -d ' \\n')\n\
                 (or a copy of server.key in its data dir); a replica with another key refuses \
                 to start.",
                from.display()
            );
            Ok(())
        }
        Cmd::Admin { data_dir, cmd } => {
            if let Some(d) = data_dir {
                config.data_dir = d;
            }
            let app = App::open(config).await.map_err(|e| e.to_string())?;
            let now_ms = twostep_server::clock::now_ms();
            let actor = Actor {
                operator: format!(
                    "cli:{}",
                    std::env::var("USER").unwrap_or_else(|_| "unknown".into())
                ),
                address: None,
                now: now_ms / 1000,
                now_ms,
            };
            let out = admin_cmd(&app, cmd, &actor)
                .await
                .map_err(|e| format!("{}: {}", e.code, e.message))?;
            if let Some(v) = out {
                println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            }
            app.repo.store().flush().await.map_err(|e| e.to_string())?;
            Ok(())
        }
    }
}

async fn admin_cmd(
    app: &App,
    cmd: AdminCmd,
    actor: &Actor,
) -> Result<Option<serde_json::Value>, twostep_server::error::ApiError> {
    use twostep_server::error::ApiError;
    let j =
        |v: Result<serde_json::Value, serde_json::Error>| v.map(Some).map_err(ApiError::internal);
    match cmd {
        AdminCmd::CreateOperator { name } => {
            let pw = read_password().map_err(ApiError::field)?;
            admin::create_operator(app, &name, &pw, actor).await?;
            Ok(None)
        }
        AdminCmd::CreateOrg { name, require_two_step } => {
            let req = CreateOrg {
                name,
                policy: Some(PolicyUpdate {
                    require_two_step: Some(require_two_step),
                    ..Default::default()
                }),
            };
            j(serde_json::to_value(admin::create_org(app, &req, actor).await?))
        }
        AdminCmd::CreateUser { org, username } => {
            let password = read_password().map_err(ApiError::field)?;
            j(serde_json::to_value(
                admin::create_user(app, &org, &CreateUser { username, password }, actor).await?,
            ))
        }
        AdminCmd::SetPolicy {
            org,
            require_two_step,
            passcode_min_length,
            passcode_alphanumeric,
            passcode_max_attempts,
            passcode_lock_timeout_secs,
            wipe_vault_on_max_attempts,
            max_messages_per_user_per_day,
            max_messages_per_destination_per_day,
            max_messages_per_org_per_day,
        } => {
            let upd = PolicyUpdate {
                require_two_step,
                passcode_min_length,
                passcode_alphanumeric,
                passcode_max_attempts,
                passcode_lock_timeout_secs,
                wipe_vault_on_max_attempts,
                max_messages_per_user_per_day,
                max_messages_per_destination_per_day,
                max_messages_per_org_per_day,
            };
            j(serde_json::to_value(admin::update_policy(app, &org, &upd, actor).await?))
        }
        AdminCmd::ShowOrg { org } => j(serde_json::to_value(admin::get_org(app, &org).await?)),
        AdminCmd::ShowUser { username } => {
            j(serde_json::to_value(admin::user_view(app, &username).await?))
        }
        AdminCmd::ResetTwoStep { username } => {
            j(serde_json::to_value(admin::reset_two_step(app, &username, actor).await?))
        }
        AdminCmd::Unlock { username } => {
            j(serde_json::to_value(admin::unlock(app, &username, actor).await?))
        }
        AdminCmd::UnlockOperator { name } => {
            j(serde_json::to_value(operators::unlock(app, &name, actor).await?))
        }
        AdminCmd::RevokeOperatorSessions { name } => {
            operators::revoke_sessions(app, &name, actor).await?;
            Ok(None)
        }
        AdminCmd::RevokeDevices { username, device } => j(serde_json::to_value(
            admin::revoke_devices(app, &username, device.as_deref(), actor).await?,
        )),
        AdminCmd::RemoveForced { org } => {
            j(serde_json::to_value(admin::remove_forced(app, &org, actor).await?))
        }
        AdminCmd::MigrateStore { .. } => {
            Err(ApiError::internal("migrate-store is handled before the store opens"))
        }
        AdminCmd::Audit { user, after, limit } => {
            let page =
                twostep_server::audit::page(&app.repo, after, limit, user.as_deref()).await?;
            for e in &page.events {
                println!("{}", serde_json::to_string(e).unwrap_or_default());
            }
            Ok(None)
        }
    }
}
