//! Where the server's SMS and email codes go during a workload: an HTTP receiver standing in
//! for the SMS gateway and an SMTP sink (mailin-embedded), both on 127.0.0.1:0 in this
//! process, so they outlive every server the workload kills. They keep the latest code per
//! destination.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// The latest code delivered to each destination.
#[derive(Debug, Clone, Default)]
pub struct Codes(Arc<Mutex<HashMap<String, String>>>);

impl Codes {
    fn put(&self, to: &str, text: &str) {
        if let Some(code) = extract_code(text)
            && let Ok(mut m) = self.0.lock()
        {
            m.insert(to.to_owned(), code);
        }
    }

    /// The latest code sent to `destination`.
    pub fn latest(&self, destination: &str) -> Option<String> {
        self.0.lock().ok()?.get(destination).cloned()
    }
}

/// The six digits after "code is" in a message.
pub fn extract_code(text: &str) -> Option<String> {
    let start = text.find("code is")? + "code is".len();
    let digits: String = text[start..]
        .chars()
        .skip_while(|c| !c.is_ascii_digit())
        .take_while(char::is_ascii_digit)
        .collect();
    (digits.len() == 6).then_some(digits)
}

/// Both sinks, running.
#[derive(Debug, Clone)]
pub struct Sinks {
    pub codes: Codes,
    pub sms_url: String,
    pub smtp_port: u16,
}

impl Sinks {
    /// Starts both sinks (needs a tokio runtime).
    pub async fn start() -> Self {
        let codes = Codes::default();
        let sms = start_sms(codes.clone()).await;
        let smtp_port = start_smtp(codes.clone());
        Self { codes, sms_url: format!("http://{sms}/send"), smtp_port }
    }

    /// The server's environment for delivering through these sinks.
    pub fn server_env(&self) -> Vec<(String, String)> {
        [
            ("TWOSTEP_SMS_URL", self.sms_url.clone()),
            ("TWOSTEP_SMTP_HOST", "127.0.0.1".to_owned()),
            ("TWOSTEP_SMTP_PORT", self.smtp_port.to_string()),
            ("TWOSTEP_SMTP_TLS", "none".to_owned()),
            ("TWOSTEP_SMTP_FROM", "twostep@bench.test".to_owned()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect()
    }
}

async fn start_sms(codes: Codes) -> SocketAddr {
    use axum::routing::post;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind sms receiver");
    let addr = listener.local_addr().expect("addr");
    let app = axum::Router::new().route(
        "/send",
        post(move |axum::Json(body): axum::Json<serde_json::Value>| {
            let codes = codes.clone();
            async move {
                codes.put(
                    body["to"].as_str().unwrap_or_default(),
                    body["text"].as_str().unwrap_or_default(),
                );
                axum::Json(serde_json::json!({"queued": true}))
            }
        }),
    );
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    addr
}

#[derive(Clone)]
struct SmtpSink {
    codes: Codes,
    to: Vec<String>,
    buf: Vec<u8>,
}

impl mailin_embedded::Handler for SmtpSink {
    fn data_start(
        &mut self,
        _domain: &str,
        _from: &str,
        _is8bit: bool,
        to: &[String],
    ) -> mailin_embedded::Response {
        self.to = to.to_vec();
        self.buf.clear();
        mailin_embedded::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.buf.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> mailin_embedded::Response {
        let text = String::from_utf8_lossy(&self.buf).into_owned();
        for to in &self.to {
            self.codes.put(to, &text);
        }
        mailin_embedded::response::OK
    }
}

fn start_smtp(codes: Codes) -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind smtp sink");
    let port = listener.local_addr().expect("addr").port();
    let mut server = mailin_embedded::Server::new(SmtpSink { codes, to: vec![], buf: vec![] });
    server.with_name("sink.test").with_num_threads(4).with_tcp_listener(listener);
    std::thread::spawn(move || {
        let _ = server.serve();
    });
    port
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_follows_code_is() {
        assert_eq!(
            extract_code("Your twostep verification code is 012345. It expires in 5 minutes."),
            Some("012345".into())
        );
        assert_eq!(extract_code("no code here 123456"), None);
        assert_eq!(extract_code("code is 12345."), None);
    }
}
