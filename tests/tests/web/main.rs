//! The web pages in a real browser: Debian's Chromium driven through chromedriver
//! (WebDriver) against the real server on 127.0.0.1, started in-process by the e2e harness
//! with its SMTP sink and SMS receiver.
//!
//! One browser serves every scenario (they run one after another), so this binary has its
//! own small runner instead of libtest: `cargo test -p twostep-e2e --test web [-- FILTER]`.
//! A missing chromedriver or chromium is a failure, never a skip.
//! `TWOSTEP_SCREENSHOTS=docs/screenshots` also saves a screenshot of each page.

#![allow(clippy::unwrap_used)]

mod admin;
mod browser;
mod security;
mod signin;

use browser::Browser;
use futures::FutureExt;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::process::ExitCode;

type Scenario = for<'a> fn(&'a Browser) -> Pin<Box<dyn Future<Output = ()> + 'a>>;

macro_rules! scenarios {
    ($($path:path),* $(,)?) => {
        &[$((stringify!($path), |b| Box::pin($path(b)))),*]
    };
}

const SCENARIOS: &[(&str, Scenario)] = scenarios![
    signin::totp_from_the_enrollment_qr_code,
    signin::email_code_from_the_smtp_sink_with_resend_and_switch,
    signin::forced_setup_under_the_org_policy,
    signin::throttled_sign_in_says_how_long_to_wait,
    admin::operator_turns_the_policy_on_and_the_user_is_forced,
    admin::operator_console_users_and_audit,
    admin::first_operator_from_the_setup_token,
    security::form_without_csrf_token_is_refused,
    security::headers_and_cookies,
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // libtest's arguments that matter here: filters, `--skip NAME`, `--exact`, `--list`.
    let (mut filters, mut skips) = (Vec::new(), Vec::new());
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--skip" => skips.extend(it.next()),
            a if a.starts_with('-') => {}
            _ => filters.push(a),
        }
    }
    let exact = args.iter().any(|a| a == "--exact");
    let matches = |name: &str, pat: &str| if exact { name == pat } else { name.contains(pat) };
    let selected: Vec<_> = SCENARIOS
        .iter()
        .filter(|(name, _)| filters.is_empty() || filters.iter().any(|f| matches(name, f)))
        .filter(|(name, _)| !skips.iter().any(|s| matches(name, s)))
        .collect();
    if args.iter().any(|a| a == "--list") {
        for (name, _) in &selected {
            println!("{name}: test");
        }
        return ExitCode::SUCCESS;
    }
    if selected.is_empty() {
        println!("\nweb: 0 passed, 0 failed ({} filtered out)", SCENARIOS.len());
        return ExitCode::SUCCESS;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    rt.block_on(async {
        let browser = match Browser::start().await {
            Ok(b) => b,
            Err(e) => {
                eprintln!("web: cannot start the browser: {e}");
                println!("\nweb: 0 passed, {} failed", selected.len());
                return ExitCode::FAILURE;
            }
        };
        println!("\nrunning {} browser scenarios", selected.len());
        let (mut passed, mut failed) = (0, Vec::new());
        for (name, run) in &selected {
            let started = std::time::Instant::now();
            let outcome = AssertUnwindSafe(run(&browser)).catch_unwind().await;
            let secs = started.elapsed().as_secs_f32();
            match outcome {
                Ok(()) => {
                    passed += 1;
                    println!("test {name} ... ok ({secs:.1} s)");
                }
                Err(_) => {
                    println!("  at {}: {}", browser.path().await, browser.main_text().await);
                    failed.push(*name);
                    println!("test {name} ... FAILED ({secs:.1} s)");
                }
            }
        }
        browser.stop().await;
        for name in &failed {
            println!("failed: {name}");
        }
        println!("\nweb: {passed} passed, {} failed", failed.len());
        if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::FAILURE }
    })
}
