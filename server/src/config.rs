//! Server configuration: defaults, then a TOML file, then `TWOSTEP_*` environment variables.

use crate::passwords::HashCost;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::PathBuf;

/// Everything the server can be told.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Where the store, key and outbox live.
    pub data_dir: PathBuf,
    /// PostgreSQL, shared by every replica (`postgres://user:password@host/db`); without it
    /// the embedded store lives in `data_dir/db`.
    pub database_url: Option<DatabaseUrl>,
    /// Connections each replica keeps to PostgreSQL at most.
    pub database_pool_size: usize,
    /// Issuer shown in authenticator apps.
    pub issuer: String,
    /// Session lifetime for web, agent and Outlook sessions.
    pub session_ttl_secs: u64,
    /// Session lifetime for mobile sessions (renewed by the device's signed challenge).
    pub mobile_session_ttl_secs: u64,
    /// Deprecated alias of `trusted_proxies = 1`.
    pub trust_forwarded_for: bool,
    /// Reverse proxies in front of the server: the client address is the `X-Forwarded-For`
    /// entry this many hops from the right (0: ignore the header, use the peer address).
    pub trusted_proxies: u32,
    /// Networks of trusted proxies (`10.0.0.0/8`, `::1/128`): when set, the header is read
    /// only from such a peer, and the client is the rightmost entry outside these networks.
    pub trusted_proxy_cidrs: Vec<String>,
    /// Seconds a client may take to send the request head.
    pub header_timeout_secs: u64,
    /// Seconds a client may take to send the request body.
    pub body_timeout_secs: u64,
    /// Seconds a keep-alive connection may stay idle between requests.
    pub idle_timeout_secs: u64,
    /// Open connections at most; more wait in the listen backlog.
    pub max_connections: usize,
    /// Seconds between runs of the sweeper of expired records.
    pub sweep_interval_secs: u64,
    /// Records the sweeper examines per tree and run.
    pub sweep_batch: usize,
    /// MiB of the embedded store's page cache: the server's memory levels off near this plus
    /// its own working memory (sled would otherwise cache up to 1 GiB as the data grows).
    pub store_cache_mib: u64,
    /// Device challenges one registration may request per minute.
    pub device_challenges_per_minute: u32,
    /// Registration challenges one client address may request per minute.
    pub registration_challenges_per_minute: u32,
    /// Argon2id cost.
    pub argon2: HashCost,
    /// Hashing threads (default: the number of cores).
    pub hash_threads: Option<usize>,
    /// Hash jobs allowed to wait before sign-ins get `503`.
    pub hash_queue: usize,
    /// Failed attempts per client address per minute before `429`.
    pub address_failures_per_minute: u32,
    /// SMTP delivery for email codes; without it, emails go to the outbox directory.
    pub smtp: Option<SmtpConfig>,
    /// HTTP gateway for SMS codes; without it, texts go to the outbox directory.
    pub sms: Option<SmsConfig>,
    /// The web pages are reached over HTTPS (usually a TLS proxy in front): cookies get
    /// `Secure` and the `__Host-` prefix.
    pub secure_cookies: bool,
}

/// How to reach the SMTP server.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    #[serde(default = "default_smtp_port")]
    pub port: u16,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// `none`, `starttls` or `tls`.
    #[serde(default)]
    pub tls: SmtpTls,
    pub from: String,
    /// Seconds before giving up on the SMTP server.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("tls", &self.tls)
            .field("from", &self.from)
            .finish()
    }
}

fn default_smtp_port() -> u16 {
    587
}
fn default_timeout() -> u64 {
    10
}

/// SMTP transport security.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain text (local relays and test sinks only).
    None,
    /// STARTTLS upgrade (port 587).
    #[default]
    Starttls,
    /// Implicit TLS (port 465).
    Tls,
}

/// How to reach the SMS gateway: `POST url` with `{"to": "+49...", "text": "..."}`.
#[derive(Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmsConfig {
    pub url: String,
    /// Sent as the `Authorization` header.
    #[serde(default)]
    pub auth_header: Option<String>,
    /// Sender id passed as `"from"` in the body, if set.
    #[serde(default)]
    pub from: Option<String>,
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
}

impl std::fmt::Debug for SmsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmsConfig")
            .field("url", &self.url)
            .field("auth_header", &self.auth_header.as_ref().map(|_| "<redacted>"))
            .field("from", &self.from)
            .finish()
    }
}

/// A PostgreSQL connection string; `Debug` hides the password.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DatabaseUrl(pub String);

impl DatabaseUrl {
    /// The URL with any password replaced by `***` (for logs).
    pub fn redacted(&self) -> String {
        let s = &self.0;
        let mut out = match s.find("://") {
            Some(i) => {
                let rest = &s[i + 3..];
                let auth_end = rest.find(['/', '?']).unwrap_or(rest.len());
                match rest[..auth_end].rfind('@') {
                    Some(at) => match rest[..at].find(':') {
                        Some(colon) => {
                            format!("{}{}:***{}", &s[..i + 3], &rest[..colon], &rest[at..])
                        }
                        None => s.clone(),
                    },
                    None => s.clone(),
                }
            }
            None => s.clone(),
        };
        // `password=` as a URL parameter or in the key=value form.
        while let Some(i) = out.find("password=").filter(|&i| !out[i + 9..].starts_with("***")) {
            let end = out[i + 9..].find(['&', ' ']).map(|e| i + 9 + e).unwrap_or(out.len());
            out.replace_range(i + 9..end, "***");
        }
        out
    }
}

impl std::fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./data"),
            database_url: None,
            database_pool_size: 16,
            issuer: "twostep".into(),
            session_ttl_secs: 12 * 3600,
            mobile_session_ttl_secs: 24 * 3600,
            trust_forwarded_for: false,
            trusted_proxies: 0,
            trusted_proxy_cidrs: Vec::new(),
            header_timeout_secs: 10,
            body_timeout_secs: 10,
            idle_timeout_secs: 60,
            max_connections: 1024,
            sweep_interval_secs: 60,
            sweep_batch: 500,
            store_cache_mib: 256,
            device_challenges_per_minute: 10,
            registration_challenges_per_minute: 30,
            argon2: HashCost::default(),
            hash_threads: None,
            hash_queue: 256,
            address_failures_per_minute: 30,
            smtp: None,
            sms: None,
            secure_cookies: false,
        }
    }
}

/// A configuration problem.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

impl Config {
    /// Reads a TOML file.
    pub fn from_toml_file(path: &std::path::Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError(format!("{}: {e}", path.display())))?;
        toml::from_str(&text).map_err(|e| ConfigError(format!("{}: {e}", path.display())))
    }

    /// Applies `TWOSTEP_*` variables from `vars`.
    pub fn apply_env(
        &mut self,
        vars: impl Iterator<Item = (String, String)>,
    ) -> Result<(), ConfigError> {
        let bad = |k: &str| ConfigError(format!("{k} has an invalid value"));
        for (k, v) in vars {
            match k.as_str() {
                "TWOSTEP_LISTEN" => self.listen = v.parse().map_err(|_| bad(&k))?,
                "TWOSTEP_DATA_DIR" => self.data_dir = v.into(),
                "TWOSTEP_DATABASE_URL" => {
                    self.database_url = (!v.is_empty()).then_some(DatabaseUrl(v))
                }
                "TWOSTEP_DATABASE_POOL_SIZE" => {
                    self.database_pool_size = v.parse().map_err(|_| bad(&k))?
                }
                "TWOSTEP_ISSUER" => self.issuer = v,
                "TWOSTEP_SESSION_TTL_SECS" => {
                    self.session_ttl_secs = v.parse().map_err(|_| bad(&k))?
                }
                "TWOSTEP_MOBILE_SESSION_TTL_SECS" => {
                    self.mobile_session_ttl_secs = v.parse().map_err(|_| bad(&k))?
                }
                "TWOSTEP_TRUST_FORWARDED_FOR" => {
                    self.trust_forwarded_for = v.parse().map_err(|_| bad(&k))?
                }
                "TWOSTEP_TRUSTED_PROXIES" => {
                    self.trusted_proxies = v.parse().map_err(|_| bad(&k))?
                }
                "TWOSTEP_TRUSTED_PROXY_CIDRS" => {
                    self.trusted_proxy_cidrs = v
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()
                }
                "TWOSTEP_HEADER_TIMEOUT_SECS" => {
                    self.header_timeout_secs = v.parse().map_err(|_| bad(&k))?
                }
                "TWOSTEP_BODY_TIMEOUT_SECS" => {
                    self.body_timeout_secs = v.parse().map_err(|_| bad(&k))?
                }
                "TWOSTEP_IDLE_TIMEOUT_SECS" => {
                    self.idle_timeout_secs = v.parse().map_err(|_| bad(&k))?
                }
                "TWOSTEP_MAX_CONNECTIONS" => {
                    self.max_connections = v.parse().map_err(|_| bad(&k))?
                }
                "TWOSTEP_SWEEP_INTERVAL_SECS" => {
                    self.sweep_interval_secs = v.parse().map_err(|_| bad(&k))?
                }
                "TWOSTEP_SWEEP_BATCH" => self.sweep_batch = v.parse().map_err(|_| bad(&k))?,
                "TWOSTEP_STORE_CACHE_MIB" => {
                    self.store_cache_mib = v.parse().map_err(|_| bad(&k))?
                }
                "TWOSTEP_HASH_QUEUE" => self.hash_queue = v.parse().map_err(|_| bad(&k))?,
                "TWOSTEP_ADDRESS_FAILURES_PER_MINUTE" => {
                    self.address_failures_per_minute = v.parse().map_err(|_| bad(&k))?
                }
                "TWOSTEP_DEVICE_CHALLENGES_PER_MINUTE" => {
                    self.device_challenges_per_minute = v.parse().map_err(|_| bad(&k))?
                }
                "TWOSTEP_REGISTRATION_CHALLENGES_PER_MINUTE" => {
                    self.registration_challenges_per_minute = v.parse().map_err(|_| bad(&k))?
                }
                "TWOSTEP_SECURE_COOKIES" => self.secure_cookies = v.parse().map_err(|_| bad(&k))?,
                "TWOSTEP_HASH_THREADS" => self.hash_threads = Some(v.parse().map_err(|_| bad(&k))?),
                "TWOSTEP_SMTP_HOST" => self.smtp_mut().host = v,
                "TWOSTEP_SMTP_PORT" => self.smtp_mut().port = v.parse().map_err(|_| bad(&k))?,
                "TWOSTEP_SMTP_USERNAME" => self.smtp_mut().username = Some(v),
                "TWOSTEP_SMTP_PASSWORD" => self.smtp_mut().password = Some(v),
                "TWOSTEP_SMTP_TLS" => {
                    self.smtp_mut().tls = match v.as_str() {
                        "none" => SmtpTls::None,
                        "starttls" => SmtpTls::Starttls,
                        "tls" => SmtpTls::Tls,
                        _ => return Err(bad(&k)),
                    }
                }
                "TWOSTEP_SMTP_FROM" => self.smtp_mut().from = v,
                "TWOSTEP_SMS_URL" => self.sms_mut().url = v,
                "TWOSTEP_SMS_AUTH_HEADER" => self.sms_mut().auth_header = Some(v),
                _ => {}
            }
        }
        Ok(())
    }

    fn smtp_mut(&mut self) -> &mut SmtpConfig {
        self.smtp.get_or_insert_with(|| SmtpConfig {
            host: String::new(),
            port: default_smtp_port(),
            username: None,
            password: None,
            tls: SmtpTls::default(),
            from: "twostep@localhost".into(),
            timeout_secs: default_timeout(),
        })
    }

    fn sms_mut(&mut self) -> &mut SmsConfig {
        self.sms.get_or_insert_with(|| SmsConfig {
            url: String::new(),
            auth_header: None,
            from: None,
            timeout_secs: default_timeout(),
        })
    }

    /// Checks the values.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.argon2.validate().map_err(ConfigError)?;
        if self.session_ttl_secs == 0 || self.mobile_session_ttl_secs == 0 {
            return Err(ConfigError("session lifetimes must be positive".into()));
        }
        let positive = [
            (self.header_timeout_secs, "header_timeout_secs"),
            (self.body_timeout_secs, "body_timeout_secs"),
            (self.idle_timeout_secs, "idle_timeout_secs"),
            (self.max_connections as u64, "max_connections"),
            (self.sweep_interval_secs, "sweep_interval_secs"),
            (self.sweep_batch as u64, "sweep_batch"),
            (self.store_cache_mib, "store_cache_mib"),
            (u64::from(self.address_failures_per_minute), "address_failures_per_minute"),
            (u64::from(self.device_challenges_per_minute), "device_challenges_per_minute"),
            (
                u64::from(self.registration_challenges_per_minute),
                "registration_challenges_per_minute",
            ),
        ];
        if let Some((_, name)) = positive.iter().find(|(v, _)| *v == 0) {
            return Err(ConfigError(format!("{name} must be positive")));
        }
        if let Some(url) = &self.database_url {
            let s = url.0.as_str();
            if !(s.starts_with("postgres://") || s.starts_with("postgresql://")) {
                return Err(ConfigError("database_url must start with postgres://".into()));
            }
            s.parse::<tokio_postgres::Config>()
                .map_err(|e| ConfigError(format!("database_url: {e}")))?;
        }
        if !(1..=1000).contains(&self.database_pool_size) {
            return Err(ConfigError("database_pool_size must be 1..=1000".into()));
        }
        if let Some(s) = &self.smtp
            && s.host.is_empty()
        {
            return Err(ConfigError("smtp.host is empty".into()));
        }
        if let Some(s) = &self.sms
            && !(s.url.starts_with("http://") || s.url.starts_with("https://"))
        {
            return Err(ConfigError("sms.url must be an http(s) URL".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_and_env_layer_over_defaults() {
        let mut c: Config =
            toml::from_str("listen = \"127.0.0.1:9000\"\n[smtp]\nhost = \"mail\"\nfrom = \"a@b.c\"\npassword = \"pw\"\n").unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.smtp.as_ref().unwrap().port, 587);
        assert!(!format!("{c:?}").contains("\"pw\""));
        c.apply_env(vec![("TWOSTEP_SMTP_PORT".to_string(), "2525".to_string())].into_iter())
            .unwrap();
        assert_eq!(c.smtp.as_ref().unwrap().port, 2525);
        assert!(c.apply_env(vec![("TWOSTEP_LISTEN".into(), "nope".into())].into_iter()).is_err());
        assert!(toml::from_str::<Config>("bogus = 1").is_err());
        c.validate().unwrap();
        let env = [
            ("TWOSTEP_TRUSTED_PROXY_CIDRS", "10.0.0.0/8, ::1/128"),
            ("TWOSTEP_TRUSTED_PROXIES", "2"),
            ("TWOSTEP_HEADER_TIMEOUT_SECS", "5"),
            ("TWOSTEP_MAX_CONNECTIONS", "64"),
            ("TWOSTEP_STORE_CACHE_MIB", "32"),
        ];
        c.apply_env(env.iter().map(|(k, v)| (k.to_string(), v.to_string()))).unwrap();
        assert_eq!(c.trusted_proxy_cidrs, vec!["10.0.0.0/8", "::1/128"]);
        assert_eq!((c.trusted_proxies, c.header_timeout_secs, c.max_connections), (2, 5, 64));
        assert_eq!(c.store_cache_mib, 32);
        c.max_connections = 0;
        assert!(c.validate().is_err());
        c.max_connections = 64;
        c.store_cache_mib = 0;
        assert!(c.validate().is_err());
    }

    #[test]
    fn the_database_url_comes_from_toml_or_env_and_its_password_never_shows() {
        let mut c: Config =
            toml::from_str("database_url = \"postgres://twostep:s3cret@db:5432/twostep\"\n")
                .unwrap();
        c.validate().unwrap();
        let shown = format!("{c:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("postgres://twostep:***@db:5432/twostep"), "{shown}");
        let env = |k: &str, v: &str| vec![(k.to_string(), v.to_string())].into_iter();
        c.apply_env(env("TWOSTEP_DATABASE_URL", "postgres://u@h/d?password=p4ss&sslmode=require"))
            .unwrap();
        assert_eq!(
            c.database_url.as_ref().unwrap().0,
            "postgres://u@h/d?password=p4ss&sslmode=require"
        );
        assert!(!format!("{c:?}").contains("p4ss"));
        c.apply_env(env("TWOSTEP_DATABASE_URL", "")).unwrap();
        assert!(c.database_url.is_none(), "an empty variable means the embedded store");
        c.database_url = Some(DatabaseUrl("mysql://x".into()));
        assert!(c.validate().is_err());
        c.database_url = None;
        c.apply_env(env("TWOSTEP_DATABASE_POOL_SIZE", "0")).unwrap();
        assert!(c.validate().is_err());
        assert!(c.apply_env(env("TWOSTEP_DATABASE_POOL_SIZE", "many")).is_err());
    }
}
