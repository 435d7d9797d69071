//! `twostep-tls-terminator --upstream 127.0.0.1:PORT --ca-out FILE`: HTTPS in front of a
//! plain-HTTP server, for tests outside Rust (the Kotlin TLS test). Makes a CA (rcgen, named
//! after the process: each run's CA is a different issuer),
//! writes its certificate (PEM) to FILE, accepts TLS on a fresh port of 127.0.0.1 with a
//! certificate from that CA, prints `https://127.0.0.1:PORT` on a line of its own and
//! forwards every connection to the upstream until it is killed or its stdin closes.

use std::net::SocketAddr;
use std::path::PathBuf;
use twostep_e2e::tls::{TestCa, TlsTerminator};

fn usage() -> ! {
    eprintln!("usage: twostep-tls-terminator --upstream 127.0.0.1:PORT --ca-out FILE");
    std::process::exit(2)
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let (mut upstream, mut ca_out) = (None::<SocketAddr>, None::<PathBuf>);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--upstream", Some(v)) => upstream = Some(v.parse().unwrap_or_else(|_| usage())),
            ("--ca-out", Some(v)) => ca_out = Some(PathBuf::from(v)),
            _ => usage(),
        }
    }
    let (Some(upstream), Some(ca_out)) = (upstream, ca_out) else { usage() };
    // A name of its own: two terminators' CAs with one name would make a verifier that
    // trusts the first find it as the second's issuer and refuse with `BadSignature`, not as
    // an unknown issuer.
    let ca = TestCa::new(&format!("twostep test CA {}", std::process::id()));
    if let Err(e) = ca.write_pem(&ca_out) {
        eprintln!("twostep-tls-terminator: {}: {e}", ca_out.display());
        std::process::exit(1);
    }
    let terminator = match TlsTerminator::start(&ca, upstream).await {
        Ok(t) => t,
        Err(e) => {
            eprintln!("twostep-tls-terminator: {e}");
            std::process::exit(1);
        }
    };
    println!("{}", terminator.url());
    // Until stdin closes (the test ended, or died).
    let _ =
        tokio::task::spawn_blocking(|| std::io::copy(&mut std::io::stdin(), &mut std::io::sink()))
            .await;
}
