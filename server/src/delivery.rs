//! Sending SMS and email codes: SMTP, an HTTP SMS gateway, or the outbox directory.
//!
//! Without SMTP or SMS settings (the default), each message is written as a JSON file to
//! `DATA_DIR/outbox/` (0700, files 0600), so a person trying the server — or a test — can
//! read the code.

use crate::config::{SmsConfig, SmtpConfig, SmtpTls};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use twostep_proto::Channel;

/// A message to deliver.
pub struct Message {
    pub channel: Channel,
    pub to: String,
    pub subject: String,
    pub body: String,
    /// Kept only for the outbox file.
    pub code: String,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Message")
            .field("channel", &self.channel)
            .field("to", &crate::mask::destination(self.channel, &self.to))
            .finish_non_exhaustive()
    }
}

/// Why delivery failed (details for the log; clients see `delivery_failed`).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DeliveryError(pub String);

/// The configured senders.
pub struct Delivery {
    smtp: Option<(lettre::AsyncSmtpTransport<lettre::Tokio1Executor>, lettre::message::Mailbox)>,
    sms: Option<(reqwest::Client, SmsConfig)>,
    outbox: PathBuf,
    seq: AtomicU64,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("smtp", &self.smtp.is_some())
            .field("sms", &self.sms.is_some())
            .field("outbox", &self.outbox)
            .finish()
    }
}

impl Delivery {
    /// Builds the senders.
    pub fn new(
        smtp: Option<&SmtpConfig>,
        sms: Option<&SmsConfig>,
        outbox: PathBuf,
    ) -> Result<Self, DeliveryError> {
        let smtp = match smtp {
            None => None,
            Some(c) => {
                use lettre::AsyncSmtpTransport as T;
                let builder = match c.tls {
                    SmtpTls::None => T::<lettre::Tokio1Executor>::builder_dangerous(&c.host),
                    SmtpTls::Starttls => T::<lettre::Tokio1Executor>::starttls_relay(&c.host)
                        .map_err(|e| DeliveryError(e.to_string()))?,
                    SmtpTls::Tls => T::<lettre::Tokio1Executor>::relay(&c.host)
                        .map_err(|e| DeliveryError(e.to_string()))?,
                };
                let mut builder = builder
                    .port(c.port)
                    .timeout(Some(std::time::Duration::from_secs(c.timeout_secs)));
                if let (Some(u), Some(p)) = (&c.username, &c.password) {
                    builder = builder.credentials(
                        lettre::transport::smtp::authentication::Credentials::new(
                            u.clone(),
                            p.clone(),
                        ),
                    );
                }
                let from = c
                    .from
                    .parse()
                    .map_err(|_| DeliveryError("smtp.from is not an email address".into()))?;
                Some((builder.build(), from))
            }
        };
        let sms = match sms {
            None => None,
            Some(c) => {
                let client = reqwest::Client::builder()
                    .timeout(std::time::Duration::from_secs(c.timeout_secs))
                    .build()
                    .map_err(|e| DeliveryError(e.to_string()))?;
                Some((client, c.clone()))
            }
        };
        Ok(Self { smtp, sms, outbox, seq: AtomicU64::new(0) })
    }

    /// Sends one message.
    pub async fn send(&self, msg: &Message) -> Result<(), DeliveryError> {
        match msg.channel {
            Channel::Email => match &self.smtp {
                Some((transport, from)) => {
                    use lettre::AsyncTransport;
                    let to = msg.to.parse().map_err(|_| DeliveryError("bad recipient".into()))?;
                    let email = lettre::Message::builder()
                        .from(from.clone())
                        .to(to)
                        .subject(&msg.subject)
                        .body(msg.body.clone())
                        .map_err(|e| DeliveryError(e.to_string()))?;
                    transport.send(email).await.map_err(|e| DeliveryError(format!("smtp: {e}")))?;
                    Ok(())
                }
                None => self.to_outbox(msg).await,
            },
            Channel::Sms => match &self.sms {
                Some((client, cfg)) => {
                    let mut body = serde_json::json!({ "to": msg.to, "text": msg.body });
                    if let Some(from) = &cfg.from {
                        body["from"] = serde_json::Value::String(from.clone());
                    }
                    let mut req = client.post(&cfg.url).json(&body);
                    if let Some(h) = &cfg.auth_header {
                        req = req.header(reqwest::header::AUTHORIZATION, h);
                    }
                    let resp = req
                        .send()
                        .await
                        .map_err(|e| DeliveryError(format!("sms gateway: {}", e.without_url())))?;
                    if !resp.status().is_success() {
                        return Err(DeliveryError(format!(
                            "sms gateway answered {}",
                            resp.status()
                        )));
                    }
                    Ok(())
                }
                None => self.to_outbox(msg).await,
            },
            Channel::Totp => Ok(()),
        }
    }

    async fn to_outbox(&self, msg: &Message) -> Result<(), DeliveryError> {
        let now = crate::clock::now_ms();
        let seq = self.seq.fetch_add(1, Ordering::Relaxed);
        let name = format!("{now:013}-{seq:06}-{}.json", msg.channel.as_str());
        let body = serde_json::json!({
            "channel": msg.channel, "to": msg.to, "subject": msg.subject, "body": msg.body, "code": msg.code, "at_ms": now,
        });
        let dir = self.outbox.clone();
        let bytes = serde_json::to_vec_pretty(&body).unwrap_or_default();
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            crate::datadir::create_private_dir(&dir)?;
            let tmp = dir.join(format!(".{name}.tmp"));
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            std::io::Write::write_all(&mut opts.open(&tmp)?, &bytes)?;
            std::fs::rename(&tmp, dir.join(&name))
        })
        .await
        .map_err(|e| DeliveryError(e.to_string()))?
        .map_err(|e| DeliveryError(format!("outbox: {e}")))
    }
}
